// iterative: one process serves one connection at a time (UNP 30.4, the baseline of Fig 30.1).
//
// No process or thread is ever created, so its CPU per connection is the floor: every other
// design's "process control" cost is its CPU minus this one's. A slow client holds every other
// client waiting in the listen backlog.
#include "designs.hpp"
#include "net.hpp"

namespace tcplab {

int run_iterative(Server& server) {
  for (;;) {
    Accepted a = accept_connection(server.listen_fd);
    if (a.status == AcceptStatus::closed) break;  // SIGTERM shut the listener
    if (a.status == AcceptStatus::ok)
      serve_connection(std::move(a.conn), server.board.slot(0), server.config.serve);
  }
  return 0;
}

}  // namespace tcplab
