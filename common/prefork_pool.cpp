#include "prefork_pool.hpp"

#include "process_pool.hpp"
#include "signals.hpp"

namespace tcplab {

int run_process_pool(Server& server, const std::function<void(std::size_t slot)>& worker) {
  signals::block_for_manager();
  ProcessPool pool(server, [&](std::size_t slot) {
    worker(slot);
    return 0;
  });
  pool.start();
  pool.manage();  // the manager only waits: for a child to die, a --control client, or a stop
  return 0;
}

}  // namespace tcplab
