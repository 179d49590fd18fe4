#include "accept_loop.hpp"

#include "net.hpp"
#include "signals.hpp"

namespace tcplab {

void accept_loop(int listen_fd, AcceptLock& lock, WorkerSlot& slot, const ServeConfig& config) {
  while (!signals::stop_requested()) {
    Accepted a;
    {
      AcceptLockGuard guard(lock);
      a = accept_connection(listen_fd);
    }
    if (a.status == AcceptStatus::closed) return;
    if (a.status == AcceptStatus::ok) serve_connection(std::move(a.conn), slot, config);
  }
}

}  // namespace tcplab
