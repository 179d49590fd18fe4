#pragma once
// What the two ways of serving a connection share: serve_connection() (blocking, one worker per
// connection at a time) and the event loop's Connection (non-blocking, many per thread). Both
// read an errno the same way, count and log failures the same way, and burn --work-us alike.
#include <sys/resource.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "error.hpp"
#include "protocol.hpp"
#include "scoreboard.hpp"

namespace tcplab {

// The kind of failure an errno from read or write means.
inline Failure classify(int err) {
  switch (err) {
    case EAGAIN:
      return Failure::timeout;  // SO_RCVTIMEO / SO_SNDTIMEO ran out (blocking sockets)
    case ECONNRESET:
    case EPIPE:
      return Failure::reset;
    default:
      return Failure::io_error;
  }
}

// Counts a failed connection in `slot` and logs the first of each kind in this process.
inline void count_failure(WorkerSlot& slot, Failure f, int err = 0) {
  slot.fail(f);
  std::string what(failure_name(f));
  log_once("conn-" + what, err ? fmt::format("connection failed: {}: {}", what, std::strerror(err))
                               : fmt::format("connection failed: {}", what));
}

// --fault-inject: a handler that crashes, as a bug in request code would. abort() ends the
// whole process: one worker process, or every connection of a threaded server. No core file:
// a fault test crashes many handlers on purpose.
inline bool is_crash_request(std::string_view input) {
  return input.starts_with("crash\n") || input.starts_with("crash\r\n");
}
[[noreturn]] inline void crash_on_request() {
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  log("--fault-inject: \"crash\" request: aborting this process");
  std::abort();
}

// Counts a request the parser refused (its answer is the caller's to send).
inline void count_refused(WorkerSlot& slot, protocol::Error e, std::uint64_t max_bytes) {
  slot.fail(Failure::bad_request);
  log_once("bad-" + protocol::error_reason(e, 0),
           "refused a request: " + protocol::error_reason(e, max_bytes));
}

// Drops the first `n` bytes of the `have` in `buf`: the request just answered.
inline void drop_front(char* buf, std::size_t& have, std::size_t n) {
  std::memmove(buf, buf + n, have - n);
  have -= n;
}

// --work-us: spins until this thread has used `us` microseconds of CPU, standing in for the
// work a real request does (templating, a checksum…). The thread's own CPU clock, so time spent
// preempted by another worker does not count.
inline void busy_work(int us) {
  if (us <= 0) return;
  timespec start{}, now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  const long long want_ns = us * 1000LL;
  do {
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1'000'000'000LL + (now.tv_nsec - start.tv_nsec) < want_ns);
}

}  // namespace tcplab
