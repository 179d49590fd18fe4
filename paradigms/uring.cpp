// uring: one thread, one io_uring; no epoll (beyond UNP ch. 30: the interface today's fastest
// runtimes are built on).
//
// epoll's loop asks "which sockets are ready?" and then makes the calls itself: accept4, read,
// sendmsg, close, epoll_ctl, each a system call. This one hands the kernel the operations
// instead and reads their results: one multishot accept that yields every new connection as a
// registered descriptor, one multishot recv per connection that fills buffers the kernel picks
// from a ring we provided, a sendmsg per answer, and the close. What one turn queued goes in
// with the next wait, in the same io_uring_enter (common/uring.cpp). Still, a connection of one
// request needs four turns: its accept, the enter that submits its recv (back at once with the
// request), the one that submits its answer (back at once with the send's completion), and its
// client's EOF; only turns shared with other connections' events come cheaper. So with 5
// clients it makes about 1.5 to 2.6 system calls per connection, not one (epoll: about 10;
// README, "io_uring"). Like epoll it uses one CPU; unlike epoll it never learns that a socket is
// readable, only what was read.
//
// Where io_uring is not allowed (kernel.io_uring_disabled, a container's seccomp profile, an
// old kernel), main() refuses to start it with the cause (uring_unavailable_reason()).
#include "uring.hpp"
#include "designs.hpp"

namespace tcplab {

int run_uring(Server& server) {
  signals::StopSignalFd stop;  // SIGINT/SIGTERM as a completion on the ring (common/uring.hpp)
  UringLoop loop(server.board.slot(0), server.config.serve, server.config.grace_ms);
  loop.accept_from(server.listen_fd, server.config.backlog);
  loop.stop_on_signal(&stop);
  loop.run();
  return 0;
}

}  // namespace tcplab
