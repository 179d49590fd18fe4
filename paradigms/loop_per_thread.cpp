// loop-per-thread: the main thread accepts and hands each connection, round-robin, to one of N
// event-loop threads (beyond UNP ch. 30: muduo's "scheme 9", one loop per thread).
//
// prethread-dispatch with the workers turned into event loops: a worker thread no longer
// serves one connection at a time but all it has been given, so N can be the number of CPUs
// rather than the number of clients. The hand-off is a queue per loop and an eventfd that
// wakes it (EventLoop::post). Round-robin looks at nothing: a loop that is stuck keeps being
// given its turn.
#include <memory>
#include <vector>

#include "designs.hpp"
#include "error.hpp"
#include "event_loop.hpp"
#include "net.hpp"
#include "thread_group.hpp"

namespace tcplab {

// stall_worker: --stall-worker (testing), the worker that serves nothing; -1: none.
int run_loop_per_thread(Server& server, int stall_worker) {
  const Config& config = server.config;
  // Shared with the threads: one still serving after the grace period must find its loop alive.
  std::vector<std::shared_ptr<EventLoop>> loops;
  ThreadGroup threads(server.board);
  for (std::size_t i = 0; i < config.workers; ++i) {
    auto loop = std::make_shared<EventLoop>(server.board.slot(i), config.serve, config.grace_ms);
    loop->stop_on_signal(false);  // it stops when this thread says, after its last hand-off
    loop->stall(static_cast<int>(i) == stall_worker);
    if (threads.spawn([loop] { loop->run(); })) loops.push_back(loop);
  }
  if (loops.empty()) throw sys_error(EAGAIN, "pthread_create: no event-loop thread started");

  for (std::size_t next = 0;;) {
    Accepted a = accept_connection(server.listen_fd);
    if (a.status == AcceptStatus::closed) break;  // SIGTERM shut the listener
    if (a.status != AcceptStatus::ok) continue;
    loops[next]->post(std::move(a.conn));
    next = (next + 1) % loops.size();
  }
  for (auto& loop : loops)
    loop->stop();
  threads.wait(config.grace_ms);
  return 0;
}

}  // namespace tcplab
