#pragma once
// Test support: a client of tcplab-server on 127.0.0.1, with a deadline on every call.
//
// Client owns one non-blocking socket and waits in poll(), so no call can hang a test: each
// takes a time limit and says how it ended (IoStatus). Reads are buffered: what arrives past
// the bytes asked for is kept for the next read (pipelined answers, an HTTP head then its body).
// One Client belongs to one thread; many Clients may run on many threads.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

#include "fd.hpp"

namespace tcplab::test {

enum class IoStatus {
  ok,       // all that was asked for (read_to_eof: everything up to the peer's FIN)
  eof,      // the peer closed before all that was asked for came
  timeout,  // the deadline passed
  error,    // the call failed: Client::last_error() (ECONNRESET, ECONNREFUSED…)
};

inline std::ostream& operator<<(std::ostream& os, IoStatus s) {
  constexpr const char* names[] = {"ok", "eof", "timeout", "error"};
  return os << names[static_cast<int>(s)];
}

struct Received {
  IoStatus status = IoStatus::ok;
  std::string data;  // what was read, complete or not
};

// The body of an answer of n bytes: byte k is '0' + k % 10.
inline std::string expected_body(std::size_t n) {
  std::string body(n, '0');
  for (std::size_t k = 0; k < n; ++k)
    body[k] = static_cast<char>('0' + k % 10);
  return body;
}

class Client {
 public:
  using ms = std::chrono::milliseconds;

  // Connects to 127.0.0.1:port within `limit`; check connected() (or operator bool) after.
  explicit Client(std::uint16_t port, ms limit = ms(5000)) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
      error_ = errno;
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return;
    if (errno != EINPROGRESS) {
      fail(errno);
      return;
    }
    if (!wait(POLLOUT, Deadline(limit))) {
      fail(ETIMEDOUT);
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) fail(err);
  }

  bool connected() const { return fd_.valid(); }
  explicit operator bool() const { return connected(); }
  int fd() const { return fd_.get(); }
  // The port this end of the connection is bound to; 0 if not connected.
  std::uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    return ntohs(addr.sin_port);
  }
  // errno of the last failure (connect, send, read), 0 if none.
  int last_error() const { return error_; }
  std::string last_error_text() const { return error_ ? std::strerror(error_) : "no error"; }

  // Sends every byte of `data` within `limit`.
  IoStatus send(std::string_view data, ms limit = ms(5000)) {
    const Deadline deadline(limit);
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (errno == EAGAIN || errno == EINTR) {
        if (!wait(POLLOUT, deadline)) return IoStatus::timeout;
      } else {
        error_ = errno;
        return IoStatus::error;
      }
    }
    return IoStatus::ok;
  }

  // Exactly n bytes, or less and why.
  Received read_exactly(std::size_t n, ms limit = ms(5000)) {
    const Deadline deadline(limit);
    IoStatus s = IoStatus::ok;
    while (buffer_.size() < n && (s = fill(deadline)) == IoStatus::ok) {
    }
    return take(std::min(n, buffer_.size()), buffer_.size() >= n ? IoStatus::ok : s);
  }

  // Everything up to and including the first `delimiter`, or less and why. More than
  // `limit_bytes` without it is an error (EMSGSIZE).
  Received read_until(std::string_view delimiter, ms limit = ms(5000),
                      std::size_t limit_bytes = 1 << 20) {
    const Deadline deadline(limit);
    for (;;) {
      if (auto at = buffer_.find(delimiter); at != std::string::npos)
        return take(at + delimiter.size(), IoStatus::ok);
      if (buffer_.size() >= limit_bytes) return too_much();
      if (IoStatus s = fill(deadline); s != IoStatus::ok) return take(buffer_.size(), s);
    }
  }

  // Everything until the peer closes: status ok at EOF. More than `limit_bytes` is an error
  // (EMSGSIZE).
  Received read_to_eof(ms limit = ms(5000), std::size_t limit_bytes = std::size_t{1} << 26) {
    const Deadline deadline(limit);
    IoStatus s;
    while ((s = fill(deadline)) == IoStatus::ok) {
      if (buffer_.size() >= limit_bytes) return too_much();
    }
    return take(buffer_.size(), s == IoStatus::eof ? IoStatus::ok : s);
  }

  // No more requests: the server sees EOF after what was sent.
  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }

  // Closes with SO_LINGER 0: the kernel sends RST instead of FIN and drops unread data.
  void reset() {
    linger lg{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    fd_.reset();
  }

  void close() { fd_.reset(); }

 private:
  struct Deadline {
    explicit Deadline(ms limit) : at(std::chrono::steady_clock::now() + limit) {}
    int remaining_ms() const {
      auto left = std::chrono::ceil<ms>(at - std::chrono::steady_clock::now()).count();
      return left > 0 ? static_cast<int>(left) : 0;
    }
    std::chrono::steady_clock::time_point at;
  };

  void fail(int err) {
    error_ = err;
    fd_.reset();
  }

  // Waits for `events`; false when the deadline passed first.
  bool wait(short events, const Deadline& deadline) {
    for (;;) {
      pollfd p{fd_.get(), events, 0};
      int n = ::poll(&p, 1, deadline.remaining_ms());
      if (n > 0) return true;  // ready, or an error that the next call will report
      if (n == 0) return false;
      if (errno != EINTR) return true;
    }
  }

  // One read into the buffer: ok if bytes came, eof, timeout or error.
  IoStatus fill(const Deadline& deadline) {
    char chunk[65536];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return IoStatus::ok;
      }
      if (n == 0) return IoStatus::eof;
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        error_ = errno;
        return IoStatus::error;
      }
      if (!wait(POLLIN, deadline)) return IoStatus::timeout;
    }
  }

  // More came than the caller would take: an error (EMSGSIZE), with what came.
  Received too_much() {
    error_ = EMSGSIZE;
    return take(buffer_.size(), IoStatus::error);
  }

  Received take(std::size_t n, IoStatus status) {
    Received r{status, buffer_.substr(0, n)};
    buffer_.erase(0, n);
    return r;
  }

  Fd fd_;
  std::string buffer_;  // received, not yet handed out
  int error_ = 0;
};

}  // namespace tcplab::test
