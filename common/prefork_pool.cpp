#include "prefork_pool.hpp"

#include "process_pool.hpp"
#include "signals.hpp"

namespace tcplab {

int run_process_pool(Server& server, const std::function<void(std::size_t slot)>& worker) {
  const Config& config = server.config;
  signals::block_for_manager();
  ProcessPool pool(config.workers, server.board, [&](std::size_t slot) {
    worker(slot);
    return 0;
  });
  pool.start();

  // The manager only waits: for a child to die (SIGCHLD), a replacement to fall due, or a stop.
  int next_ms = -1;
  for (;;) {
    signals::wait_for_events(nullptr, 0, next_ms);
    if (signals::stop_requested()) break;  // children leaving now are not to be replaced
    next_ms = pool.supervise();
  }
  pool.stop(config.grace_ms);
  return 0;
}

}  // namespace tcplab
