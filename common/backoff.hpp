#pragma once
// Backoff: after a failure that will not clear at once (EMFILE, a failed fork or
// pthread_create), sleep a little, twice as long each time it happens again, and start over
// after a success. The server neither spins nor gives up.
//
// A stop (SIGINT/SIGTERM: signals::stop_requested()) cuts the sleep short, to at most one slice
// of 20 ms: the server must not sit out up to a second of back-off before it notices. The sleep
// is taken in slices because in a threaded design the signal may interrupt another thread.
#include <time.h>

#include <algorithm>

#include "signals.hpp"

namespace tcplab {

class Backoff {
 public:
  Backoff(int first_ms, int max_ms) : first_ms_(first_ms), max_ms_(max_ms) {}

  void failed() {
    ms_ = std::clamp(ms_ * 2, first_ms_, max_ms_);
    timespec deadline = now_monotonic();
    add_ms(deadline, ms_);
    // At least one slice even when stopping: a caller that keeps failing while the server
    // stops (EMFILE) still does not spin.
    timespec now = now_monotonic();
    do {
      timespec until = now;
      add_ms(until, kSliceMs);
      if (before(deadline, until)) until = deadline;
      // EINTR (SIGCHLD, SIGTERM...): the loop looks at the stop flag and sleeps on to the deadline.
      ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      now = now_monotonic();
    } while (before(now, deadline) && !signals::stop_requested());
  }

  void succeeded() { ms_ = 0; }

 private:
  static constexpr int kSliceMs = 20;
  static timespec now_monotonic() {
    timespec t;
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
  }
  static void add_ms(timespec& t, int ms) {
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1'000'000L;
    if (t.tv_nsec >= 1'000'000'000L) {
      t.tv_sec += 1;
      t.tv_nsec -= 1'000'000'000L;
    }
  }
  static bool before(const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
  }
  int first_ms_, max_ms_, ms_ = 0;
};

}  // namespace tcplab
