// prefork-reuseport: N children, each with a listening socket of its own, all bound to the one
// port with SO_REUSEPORT; each child serves with an event loop (beyond UNP ch. 30: Linux 3.9,
// nginx's "listen … reuseport").
//
// The kernel, not the children, spreads the connections: each goes to one of the sockets by a
// hash of its 4-tuple, into that socket's own accept queue. No herd and no lock — but no
// sharing either: a child that is busy or stuck keeps being given its share, which waits in its
// queue. main() made the first socket with SO_REUSEPORT (Design::reuseport); the manager binds
// the other N-1 before forking and keeps them, so a replaced child finds its queue as it was.
#include <unistd.h>

#include <vector>

#include "designs.hpp"
#include "event_loop.hpp"
#include "net.hpp"
#include "prefork_pool.hpp"

namespace tcplab {

// stall_worker: --stall-worker (testing), the worker that serves nothing; -1: none.
int run_prefork_reuseport(Server& server, int stall_worker) {
  const Config& config = server.config;
  // listeners[i] is child i's; the first is main()'s (owned there), the rest are owned here.
  std::vector<Fd> more;
  std::vector<int> listeners = {server.listen_fd};
  for (std::size_t i = 1; i < config.workers; ++i) {
    more.push_back(
        listen_tcp(config.host, local_port(server.listen_fd), config.backlog, /*reuseport=*/true));
    listeners.push_back(more.back().get());
  }
  return run_process_pool(server, [&](std::size_t slot) {
    for (int fd : listeners)  // a child keeps only its own socket
      if (fd != listeners[slot]) ::close(fd);
    EventLoop loop(server.board.slot(slot), config.serve, config.grace_ms);
    loop.watch_listener(listeners[slot]);
    loop.stall(static_cast<int>(slot) == stall_worker);
    loop.run();
  });
}

}  // namespace tcplab
