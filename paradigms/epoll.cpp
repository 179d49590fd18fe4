// epoll: one thread, non-blocking sockets, one epoll loop (beyond UNP ch. 30: Chen Shuo's
// "scheme 5", the shape of Redis and of a single nginx worker).
//
// Nothing is created per connection, and nothing at all at start: the one thread accepts when
// the listener is readable and serves each connection as far as it can go without blocking
// (common/event_loop.cpp). Like iterative, it never pays for a process or a thread; unlike
// iterative, a slow client holds up no one. What it cannot do is use a second CPU.
#include "designs.hpp"
#include "event_loop.hpp"

namespace tcplab {

int run_epoll(Server& server) {
  EventLoop loop(server.board.slot(0), server.config.serve, server.config.grace_ms);
  loop.watch_listener(server.listen_fd);
  loop.run();
  return 0;
}

}  // namespace tcplab
