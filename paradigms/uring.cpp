// uring: one thread, one io_uring; no epoll (beyond UNP ch. 30: the interface today's fastest
// runtimes are built on).
//
// epoll's loop asks "which sockets are ready?" and then makes the calls itself: accept4, read,
// sendmsg, close, epoll_ctl, each a system call. This one hands the kernel the operations
// instead and reads their results: accepts that put each new connection into a registered
// descriptor, recvs that fill buffers the kernel picks from a ring we provided, a sendmsg per
// answer, and the close. What one turn queued goes in with the next wait, in the same
// io_uring_enter, and links keep a connection's operations from costing turns of their own:
// each accept starts the connection's first recv, each answer the recv of the next request
// (common/uring.hpp). A connection of one request needs two turns, its request and its client's
// EOF, and with 5 clients, whose events share turns, about one system call (epoll: about 10;
// README, "io_uring"). Like epoll it uses one CPU; unlike epoll it never learns that a socket
// is readable, only what was read.
//
// Where io_uring is not allowed (kernel.io_uring_disabled, a container's seccomp profile, an
// old kernel), main() refuses to start it with the cause (uring_unavailable_reason()).
#include "uring.hpp"
#include "designs.hpp"

namespace tcplab {

int run_uring(Server& server) {
  signals::StopSignalFd stop;  // SIGINT/SIGTERM as a completion on the ring (common/uring.hpp)
  UringLoop loop(server.board.slot(0), server.config.serve, server.config.grace_ms);
  loop.accept_from(server.listen_fd);
  loop.stop_on_signal(&stop);
  loop.run();
  return 0;
}

}  // namespace tcplab
