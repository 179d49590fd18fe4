// prethread-mutex: N threads created at start, each locking a mutex around accept()
// (UNP 30.11, serv07).
//
// The thread version of prefork-mutex: the same accept loop, with an ordinary mutex. The main
// thread only waits for a stop; SIGINT and SIGTERM are blocked in the workers (they inherit
// the mask), so the signal is taken by the main thread, which shuts the listener and so wakes
// every worker out of accept().
#include "accept_loop.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "signals.hpp"
#include "thread_group.hpp"

namespace tcplab {

int run_prethread_mutex(Server& server) {
  signals::block_for_manager();
  // Shared with the workers: one still serving after the grace period must find it alive.
  auto lock = std::make_shared<ThreadMutexLock>();
  ThreadGroup threads(server.board);
  for (std::size_t i = 0; i < server.config.workers; ++i)
    threads.spawn([&server, lock, i] {
      accept_loop(server.listen_fd, *lock, server.board.slot(i), server.config.serve);
    });
  if (threads.created() == 0) throw sys_error(EAGAIN, "pthread_create: no worker thread started");

  while (!signals::stop_requested())
    signals::wait_for_events(nullptr, 0, -1);
  threads.wait(server.config.grace_ms);
  return 0;
}

}  // namespace tcplab
