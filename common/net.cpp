#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "backoff.hpp"
#include "error.hpp"

namespace tcplab {

namespace {

union SockAddr {
  sockaddr any;
  sockaddr_in v4;
  sockaddr_in6 v6;
  sockaddr_storage storage;
};

SockAddr resolve(const std::string& host, std::uint16_t port, socklen_t& len) {
  SockAddr a{};
  if (inet_pton(AF_INET, host.c_str(), &a.v4.sin_addr) == 1) {
    a.v4.sin_family = AF_INET;
    a.v4.sin_port = htons(port);
    len = sizeof a.v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &a.v6.sin6_addr) == 1) {
    a.v6.sin6_family = AF_INET6;
    a.v6.sin6_port = htons(port);
    len = sizeof a.v6;
  } else {
    throw std::invalid_argument("not a numeric IPv4 or IPv6 address: " + host);
  }
  return a;
}

}  // namespace

Fd listen_tcp(const std::string& host, std::uint16_t port, int backlog, bool reuseport) {
  socklen_t len = 0;
  SockAddr addr = resolve(host, port, len);
  Fd fd(static_cast<int>(
      check(::socket(addr.any.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")));
  int on = 1;
  // A restarted server must be able to bind while old connections sit in TIME_WAIT.
  check(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on),
        "setsockopt SO_REUSEADDR");
  if (reuseport)
    check(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on),
          "setsockopt SO_REUSEPORT");
  check(::bind(fd.get(), &addr.any, len), "bind " + host + ":" + std::to_string(port));
  check(::listen(fd.get(), backlog), "listen");
  return fd;
}

std::uint16_t local_port(int fd) {
  SockAddr a{};
  socklen_t len = sizeof a;
  check(::getsockname(fd, &a.any, &len), "getsockname");
  return ntohs(a.any.sa_family == AF_INET6 ? a.v6.sin6_port : a.v4.sin_port);
}

std::string local_address(int fd) {
  SockAddr a{};
  socklen_t len = sizeof a;
  check(::getsockname(fd, &a.any, &len), "getsockname");
  char text[INET6_ADDRSTRLEN] = {};
  if (a.any.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &a.v6.sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(a.v6.sin6_port));
  }
  inet_ntop(AF_INET, &a.v4.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(a.v4.sin_port));
}

Accepted try_accept(int listen_fd, bool nonblocking) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0));
  if (fd >= 0) return {AcceptStatus::ok, Fd(fd)};
  int err = errno;
  switch (err) {
    case EINTR:         // a signal: the caller checks whether to stop
    case EAGAIN:        // non-blocking listener, or another process took the connection
    case ECONNABORTED:  // the client gave up before we accepted
    case EPROTO:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ENETDOWN:  // network errors accept(2) passes on
    case EPERM:     // a firewall rule refused it
      return {AcceptStatus::retry, Fd()};
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      log_once(std::string("accept-") + strerrorname_np(err),
               fmt::format("accept: {}: backing off", std::strerror(err)));
      return {AcceptStatus::exhausted, Fd()};
    case EINVAL:  // shutdown_listener(): the server is stopping
      return {AcceptStatus::closed, Fd()};
    default:
      throw sys_error(err, "accept");
  }
}

Accepted accept_connection(int listen_fd) {
  // Back-off for resource exhaustion, per thread: 1 ms doubling to 100 ms, reset by a success.
  thread_local Backoff backoff(1, 100);
  Accepted a = try_accept(listen_fd);
  if (a.status == AcceptStatus::ok) backoff.succeeded();
  if (a.status == AcceptStatus::exhausted) {
    backoff.failed();
    a.status = AcceptStatus::retry;
  }
  return a;
}

void set_io_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  // Per-connection failure, not set-up: a socket reset already is fine to serve (or fail) later.
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nonblocking(int fd, bool on) {
  int flags = static_cast<int>(check(::fcntl(fd, F_GETFL), "fcntl F_GETFL"));
  flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  check(::fcntl(fd, F_SETFL, flags), "fcntl F_SETFL");
}

void shutdown_listener(int listen_fd) {
  ::shutdown(listen_fd, SHUT_RDWR);
}

}  // namespace tcplab
