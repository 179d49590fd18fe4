// prefork-epoll-exclusive: N children share the one listening socket; each waits in its own
// epoll, registered with EPOLLEXCLUSIVE, and serves with an event loop (beyond UNP ch. 30:
// nginx's default since 1.11.3).
//
// prefork's herd, one level up: every child watches the same listener, but EPOLLEXCLUSIVE
// (Linux 4.5) wakes one of the waiting epolls per connection instead of all of them. The
// children still share one accept queue, so a child that is busy or stuck takes nothing from
// it and the others take its share.
//
// --no-exclusive registers the listener without the flag: every child's epoll is then a plain
// waiter on the listener's wait queue, each connection wakes all the idle children, and all
// but one find accept() empty (EAGAIN). That is the thundering herd, kept as the `herd`
// workload's positive control: a pool where the herd is real, beside those where it is not.
#include "designs.hpp"
#include "event_loop.hpp"
#include "prefork_pool.hpp"

namespace tcplab {

// stall_worker: --stall-worker (testing), the worker that serves nothing; -1: none.
// exclusive: false with --no-exclusive.
int run_prefork_epoll_exclusive(Server& server, int stall_worker, bool exclusive) {
  const Config& config = server.config;
  return run_process_pool(server, [&](std::size_t slot) {
    EventLoop loop(server.board.slot(slot), config.serve, config.grace_ms);
    loop.watch_listener(server.listen_fd, exclusive);
    loop.stall(static_cast<int>(slot) == stall_worker);
    loop.run();
  });
}

}  // namespace tcplab
