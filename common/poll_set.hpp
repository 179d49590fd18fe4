#pragma once
// PollSet: one poll() shared by the parts of a manager's loop (the pool's channels,
// prefork-fdpass's routes, the control socket). Each part adds its own entries each turn, keeps the
// indexes add() returned, and reads its own revents after the wait; each may also shorten the wait.
// A manager has one thread: a PollSet is never shared between threads.
#include <poll.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "signals.hpp"

namespace tcplab {

class PollSet {
 public:
  // Empties the set and forgets the timeout, for the next turn.
  void clear() {
    fds_.clear();
    timeout_ms_ = -1;
  }
  // Adds `fd` (events 0: only POLLHUP/POLLERR are reported) and returns its index.
  std::size_t add(int fd, short events) {
    fds_.push_back({fd, events, 0});
    return fds_.size() - 1;
  }
  short revents(std::size_t index) const { return fds_[index].revents; }
  // The wait ends after `ms` at the latest (-1: no limit from this caller).
  void wake_within(int ms) {
    if (ms >= 0) timeout_ms_ = timeout_ms_ < 0 ? ms : std::min(timeout_ms_, ms);
  }
  // A manager's wait: SIGCHLD, SIGINT and SIGTERM are let in only during it (signals.hpp).
  int wait() { return signals::wait_for_events(fds_.data(), fds_.size(), timeout_ms_); }
  // A thread's wait, for a thread that keeps every signal blocked.
  int poll() { return ::poll(fds_.data(), fds_.size(), timeout_ms_); }

 private:
  std::vector<pollfd> fds_;
  int timeout_ms_ = -1;
};

}  // namespace tcplab
