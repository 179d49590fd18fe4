#include "connection.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "connection_parts.hpp"
#include "connection_step.hpp"
#include "error.hpp"
#include "net.hpp"
#include "protocol.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

namespace proto = protocol;

// Writes every byte of `iov` (MSG_NOSIGNAL: a reset client is EPIPE, not SIGPIPE). A stop
// request does not cut a response short, so EINTR is retried here. Returns 0 or errno.
int send_all(int fd, iovec* iov, int iovcnt) {
  while (iovcnt > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
    ssize_t n = retry_eintr([&] { return ::sendmsg(fd, &msg, MSG_NOSIGNAL); });
    if (n < 0) return errno;
    auto done = static_cast<std::size_t>(n);
    while (iovcnt > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
  return 0;
}

// The head (HTTP only) and `body` bytes of the pattern, in chunks of the shared pattern buffer.
int send_response(int fd, std::string head, std::uint64_t body, std::uint64_t& sent) {
  std::uint64_t left = body;
  iovec iov[2];
  int n = 0;
  if (!head.empty()) iov[n++] = {head.data(), head.size()};
  do {
    std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, proto::kBodyChunk));
    if (chunk > 0) iov[n++] = {const_cast<char*>(proto::body_chunk()), chunk};
    if (n == 0) break;
    if (int err = send_all(fd, iov, n)) return err;
    sent += head.size() + chunk;
    head.clear();
    left -= chunk;
    n = 0;
  } while (left > 0);
  return 0;
}

// After refusing a request: stop sending, then read and discard what the client still sends,
// for a bounded time. Closing with unread input would make the kernel send RST, and the RST can
// destroy the error answer before the client reads it (the "lingering close" of nginx and httpd).
void linger_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  set_io_timeouts(fd, 500);
  char sink[4096];
  timespec start{}, now{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int reads = 0; reads < 64; ++reads) {
    if (::read(fd, sink, sizeof sink) <= 0) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= 2) return;
  }
}

// A point in time `ms` from now, on the monotonic clock (the coarse one: a few ms is precise
// enough for a timeout, and it costs no system call).
struct Deadline {
  timespec at{};
  explicit Deadline(int ms) {
    clock_gettime(CLOCK_MONOTONIC_COARSE, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1'000'000L;
    if (at.tv_nsec >= 1'000'000'000L) {
      at.tv_sec += 1;
      at.tv_nsec -= 1'000'000'000L;
    }
  }
  bool passed() const {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return now.tv_sec > at.tv_sec || (now.tv_sec == at.tv_sec && now.tv_nsec >= at.tv_nsec);
  }
};

// Counts the connection as active for as long as it is served (the fd-passing manager and the
// accounting read these).
struct ActiveGuard {
  WorkerSlot& slot;
  explicit ActiveGuard(WorkerSlot& s) : slot(s) {
    slot.active.fetch_add(1, std::memory_order_relaxed);
  }
  ~ActiveGuard() {
    // Counted before it stops being active: a snapshot never sees it in neither.
    slot.add(slot.connections);
    slot.active.fetch_sub(1, std::memory_order_release);
  }
};

}  // namespace

void serve_connection(Fd conn, WorkerSlot& slot, const ServeConfig& config) {
  serve_connection_open(conn.get(), slot, config);
}  // conn closes here

void serve_connection_open(int fd, WorkerSlot& slot, const ServeConfig& config) {
  ActiveGuard active(slot);
  set_io_timeouts(fd, config.io_timeout_ms);

  char buf[proto::kMaxHttpHeader];
  std::size_t have = 0;
  bool answered = false;
  // SO_RCVTIMEO restarts with every byte, so a client that trickles a byte at a time would hold
  // this worker for ever; a request must also be whole within the timeout of its first byte.
  // Checked only while a request is partial: a request that arrives in one read never looks.
  std::optional<Deadline> request_deadline;
  for (;;) {
    Step s = step({buf, have}, answered, signals::stop_requested(), config);
    switch (s.action) {
      case Action::read: {
        if (have > 0 && !request_deadline) request_deadline.emplace(config.io_timeout_ms);
        if (request_deadline && request_deadline->passed()) {
          count_failure(slot, Failure::timeout);
          return;
        }
        ssize_t n = ::read(fd, buf + have, sizeof buf - have);
        if (n > 0) {
          have += static_cast<std::size_t>(n);
        } else if (n == 0) {
          if (have > 0) count_failure(slot, Failure::closed_mid_request);
          return;
        } else if (errno != EINTR) {  // EINTR: look at the stop flag, then read on
          count_failure(slot, classify(errno), errno);
          return;
        }
        continue;
      }
      case Action::close:
        return;
      case Action::crash:
        crash_on_request();
      case Action::refuse: {
        count_refused(slot, s.error, config.max_bytes);
        iovec iov{s.head.data(), s.head.size()};
        send_all(fd, &iov, 1);
        linger_close(fd);
        return;
      }
      case Action::answer:
        break;
    }

    request_deadline.reset();
    drop_front(buf, have, s.consumed);
    busy_work(config.work_us);
    std::uint64_t sent = 0;
    int err = send_response(fd, std::move(s.head), s.body, sent);
    slot.add(slot.bytes_sent, sent);
    if (err) {
      count_failure(slot, classify(err), err);
      return;
    }
    slot.add(slot.requests);
    answered = true;
    if (s.after == After::linger) linger_close(fd);
    if (s.after != After::next) return;
  }
}

}  // namespace tcplab
