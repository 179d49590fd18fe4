// prefork: N children, each blocked in accept() on the one listening socket, no lock
// (UNP 30.6, serv02).
//
// The parent forks the pool and then only supervises it (common/prefork_pool.cpp); the
// children run accept → serve → accept (common/accept_loop.cpp). Which child gets a
// connection is up to the kernel. In 1998 every child sleeping in accept() woke for each
// connection — the thundering herd; Linux now wakes one. REPORT.md measures what is left.
#include "designs.hpp"
#include "prefork_pool.hpp"

namespace tcplab {

int run_prefork(Server& server) {
  NoLock no_lock;
  return run_prefork_pool(server, no_lock);
}

}  // namespace tcplab
