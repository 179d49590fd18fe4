// prefork: N children, each blocked in accept() on the one listening socket, no lock
// (UNP 30.6, serv02).
//
// Which child gets a connection is up to the kernel. In 1998 every child sleeping in accept()
// woke for each connection — the thundering herd; Linux now wakes one. REPORT.md measures what
// is left. prefork-fcntl and prefork-mutex are this design with a lock (prefork.hpp).
#include "prefork.hpp"

#include "accept_loop.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "process_pool.hpp"
#include "signals.hpp"

namespace tcplab {

int run_prefork_with(Server& server, AcceptLock& lock) {
  signals::block_for_manager();
  // child_main, in each child: lock, accept, unlock, serve the connection, again, until the
  // server stops (common/accept_loop.cpp; prethread-mutex's threads run it too).
  ProcessPool pool(server, [&](std::size_t slot) {
    accept_loop(server.listen_fd, lock, server.board.slot(slot), server.config.serve);
    return 0;
  });

  // serv02's main: fork the N children (ProcessPool::spawn: fork(), and child_main in the
  // child) ...
  std::size_t started = 0;
  for (std::size_t slot = 0; slot < server.config.workers; ++slot)
    started += pool.spawn(slot) ? 1 : 0;
  if (started == 0) throw sys_error(EAGAIN, "fork: no worker could be started");
  // ... then only supervise them: fork a replacement for one that dies, answer --control, and
  // stop them all on SIGTERM.
  pool.manage();
  return 0;
}

int run_prefork(Server& server) {
  NoLock no_lock;
  return run_prefork_with(server, no_lock);
}

}  // namespace tcplab
