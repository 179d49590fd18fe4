// prefork: N children, each blocked in accept() on the one listening socket, no lock
// (UNP 30.6, serv02).
//
// Which child gets a connection is up to the kernel. In 1998 every child sleeping in accept()
// woke for each connection — the thundering herd; Linux now wakes one. REPORT.md measures what
// is left. prefork-fcntl and prefork-mutex are this design with a lock (prefork.hpp).
#include "prefork.hpp"

#include "accept_loop.hpp"
#include "designs.hpp"
#include "prefork_pool.hpp"

namespace tcplab {

int run_prefork_with(Server& server, AcceptLock& lock) {
  // serv02's main: fork the N children, then only supervise them — fork a replacement for one
  // that dies, stop them all on SIGTERM (common/prefork_pool.cpp).
  return run_process_pool(server, [&](std::size_t slot) {
    // child_main, in each child: lock, accept, unlock, serve the connection, again, until the
    // server stops (common/accept_loop.cpp; prethread-mutex's threads run it too).
    accept_loop(server.listen_fd, lock, server.board.slot(slot), server.config.serve);
  });
}

int run_prefork(Server& server) {
  NoLock no_lock;
  return run_prefork_with(server, no_lock);
}

}  // namespace tcplab
