#pragma once
// Sockets: listening, accepting with errno sorted into expected and fatal, and I/O that retries
// EINTR only where a stop has not been asked for.
#include <cstdint>
#include <string>

#include "fd.hpp"

namespace tcplab {

// socket + SO_REUSEADDR + bind + listen, or throws naming the call and the address.
// `host` is a numeric IPv4 or IPv6 address; port 0 lets the kernel choose. `reuseport` also
// sets SO_REUSEPORT before bind(), so that more sockets may bind the same port later (each
// with its own accept queue; the kernel spreads connections over them by 4-tuple hash).
Fd listen_tcp(const std::string& host, std::uint16_t port, int backlog, bool reuseport = false);
std::uint16_t local_port(int fd);
std::string local_address(int fd);  // "127.0.0.1:9000"

enum class AcceptStatus {
  ok,      // a connection
  retry,   // expected and already handled (EINTR, ECONNABORTED, EPROTO, EMFILE after back-off…)
  closed,  // the listening socket was shut down: the server is stopping
  exhausted,  // try_accept() only: EMFILE, ENFILE, ENOBUFS or ENOMEM (logged once); back off
};

struct Accepted {
  AcceptStatus status;
  Fd conn;
};

// accept4() on `listen_fd` (blocking or not, as the descriptor is). Out-of-descriptor and
// out-of-memory errors are logged once and answered with a short sleep that grows while they
// last (no busy loop); the connection waits in the backlog until a descriptor frees up.
// A fatal errno (EBADF, ENOTSOCK, EFAULT…) throws.
Accepted accept_connection(int listen_fd);

// The same without the sleep, for an event loop that must not block: out-of-descriptor and
// out-of-memory errors come back as `exhausted`, and the caller stops watching the listener
// for a while (with a level-triggered epoll, retrying at once would spin). `nonblocking`: the
// new connection is O_NONBLOCK from the start (accept4's SOCK_NONBLOCK: no fcntl after).
Accepted try_accept(int listen_fd, bool nonblocking = false);

// SO_RCVTIMEO and SO_SNDTIMEO: a client that stops sending or reading is dropped after `ms`.
void set_io_timeouts(int fd, int ms);
void set_nonblocking(int fd, bool on);

// Wakes every thread and process blocked in accept() on this socket (they get EINVAL) and
// refuses new connections. Async-signal-safe: the stop handlers call it.
void shutdown_listener(int listen_fd);

}  // namespace tcplab
