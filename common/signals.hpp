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

namespace tcplab::signals {

// SIGPIPE ignored (a reset client is an EPIPE, never a dead server); SIGINT and SIGTERM stop.
// `listen_fd` >= 0: the handler also shuts that listener down.
void install_stop_handlers(int listen_fd);

// In a worker process just after fork(): restore the signal mask, and let SIGINT/SIGTERM only
// set the flag, so a signal to one worker never closes the listener all workers share.
void become_worker();

bool stop_requested();

// Manager side: block SIGCHLD/SIGINT/SIGTERM now (and note SIGCHLD arrivals).
void block_for_manager();
// ppoll() on `fds` with the signals above unblocked for the wait only. Returns ppoll's result,
// -1 with EINTR when a signal came.
int wait_for_events(pollfd* fds, nfds_t n, int timeout_ms);
// True once after each SIGCHLD: the manager should reap.
bool take_child_exited();

}  // namespace tcplab::signals
