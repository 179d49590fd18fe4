#pragma once
// Backoff: after a failure that will not clear at once (EMFILE, a failed fork or
// pthread_create), sleep a little, twice as long each time it happens again, and start over
// after a success. The server neither spins nor gives up.
#include <time.h>

#include <algorithm>

namespace tcplab {

class Backoff {
 public:
  Backoff(int first_ms, int max_ms) : first_ms_(first_ms), max_ms_(max_ms) {}

  void failed() {
    ms_ = std::clamp(ms_ * 2, first_ms_, max_ms_);
    timespec ts{ms_ / 1000, (ms_ % 1000) * 1'000'000L};
    while (::nanosleep(&ts, &ts) == -1) {
    }
  }
  void succeeded() { ms_ = 0; }

 private:
  int first_ms_, max_ms_, ms_ = 0;
};

}  // namespace tcplab
