// prethread-dispatch: the main thread accepts and hands each connection to a pool of N worker
// threads through a bounded queue (UNP 30.12, serv08).
//
// Stevens' version hands descriptors over through an array guarded by a mutex and a condition
// variable; this one uses a bounded queue (common/bounded_queue.hpp). When every worker is busy
// and the queue is full, the main thread waits and connections wait in the kernel's backlog:
// back-pressure, never an abort.
#include "bounded_queue.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "net.hpp"
#include "signals.hpp"
#include "thread_group.hpp"

namespace tcplab {

// queue_size: --queue-size, the queue's capacity; 0: twice the workers.
int run_prethread_dispatch(Server& server, std::size_t queue_size) {
  const Config& config = server.config;
  // Shared with the workers: one still serving after the grace period must find it alive.
  auto queue = std::make_shared<BoundedQueue<Fd>>(queue_size ? queue_size : 2 * config.workers);
  ThreadGroup threads(server.board);
  for (std::size_t i = 0; i < config.workers; ++i)
    threads.spawn([&server, queue, i] {
      while (auto conn = queue->pop())
        serve_connection(std::move(*conn), server.board.slot(i), server.config.serve);
    });
  if (threads.created() == 0) throw sys_error(EAGAIN, "pthread_create: no worker thread started");

  for (;;) {
    Accepted a = accept_connection(server.listen_fd);
    if (a.status == AcceptStatus::closed) break;
    if (a.status != AcceptStatus::ok) continue;
    // Full queue: wait in slices, so that a stop is noticed even then.
    while (!queue->push(a.conn, std::chrono::milliseconds(100)) && !signals::stop_requested()) {
    }
  }
  queue->close();  // workers serve what was queued, then end
  threads.wait(config.grace_ms);
  return 0;
}

}  // namespace tcplab
