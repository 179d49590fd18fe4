// prefork-mutex: prefork plus a process-shared pthread mutex around accept() (UNP 30.8, serv03
// with lock_pthread.c).
//
// The mutex lives in memory mapped MAP_SHARED before the fork, with PTHREAD_PROCESS_SHARED.
// It is also robust: a child killed while holding it does not hang the pool — the next child
// to lock it is told EOWNERDEAD and repairs it (common/accept_lock.cpp).
#include "designs.hpp"
#include "prefork.hpp"

namespace tcplab {

int run_prefork_mutex(Server& server) {
  ProcessMutexLock lock;
  return run_prefork_with(server, lock);
}

}  // namespace tcplab
