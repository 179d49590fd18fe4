#pragma once
// How a server learns to stop, and how a manager learns that a child died.
//
// SIGINT and SIGTERM set one flag. In the process that owns the listener they also shut it
// down (shutdown_listener), which wakes every accept() in every thread and process at once:
// no race between testing the flag and blocking in accept(). Workers finish the request in
// hand, see the flag between requests, and end.
//
// A manager blocks SIGCHLD, SIGINT and SIGTERM and waits in wait_for_events(), which unblocks
// them only inside ppoll(): a signal can never slip in between a check and the wait.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "fd.hpp"

namespace tcplab::signals {

// SIGPIPE ignored (a reset client is an EPIPE, never a dead server); SIGINT and SIGTERM stop.
// `listen_fd` >= 0: the handler also shuts that listener down.
void install_stop_handlers(int listen_fd);

// In a worker process just after fork(): restore the signal mask, and let SIGINT/SIGTERM only
// set the flag, so a signal to one worker never closes the listener all workers share.
void become_worker();

bool stop_requested();

// What a SIGINT/SIGTERM handler does, for a thread that learns of the signal another way
// (StopSignalFd): sets the flag and shuts the listener down.
void request_stop();

// For a thread that waits where no handler can run in time: in io_uring_enter, a raw system
// call, which under ThreadSanitizer never runs a handler (TSan runs one only at a call it
// intercepts). While this lives, SIGINT and SIGTERM are blocked in the thread that made it and
// in every thread that thread starts, so a signal to the process stays pending and fd() -- a
// signalfd for the two -- becomes readable: the waiter keeps a read of it in flight on its ring,
// and the stop arrives as a completion. The destructor restores the thread's mask.
class StopSignalFd {
 public:
  StopSignalFd();  // throws sys_error naming the call
  ~StopSignalFd();
  StopSignalFd(const StopSignalFd&) = delete;
  StopSignalFd& operator=(const StopSignalFd&) = delete;

  int fd() const { return fd_.get(); }
  // Where an asynchronous read of fd() puts what it read: here, so that it outlives the ring
  // that reads (a read still in flight when a ring closes may land after the close).
  signalfd_siginfo& buffer() { return buffer_; }

 private:
  sigset_t saved_{};
  Fd fd_;
  signalfd_siginfo buffer_{};
};

// Manager side: block SIGCHLD/SIGINT/SIGTERM now (and note SIGCHLD arrivals).
void block_for_manager();
// ppoll() on `fds` with the signals above unblocked for the wait only. Returns ppoll's result,
// -1 with EINTR when a signal came.
int wait_for_events(pollfd* fds, nfds_t n, int timeout_ms);
// True once after each SIGCHLD: the manager should reap.
bool take_child_exited();

}  // namespace tcplab::signals
