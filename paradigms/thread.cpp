// thread: a new thread for every connection (UNP 30.10, serv06).
//
// The main thread accepts and hands each connection to a new detached thread, which serves it
// and ends. Creating a thread costs far less than forking a process, but all connections share
// one address space: one crashing handler takes the whole server down.
#include "backoff.hpp"
#include "designs.hpp"
#include "net.hpp"
#include "thread_group.hpp"

namespace tcplab {

int run_thread(Server& server) {
  ThreadGroup threads(server.board);
  Backoff create_backoff(10, 1000);
  for (;;) {
    Accepted a = accept_connection(server.listen_fd);
    if (a.status == AcceptStatus::closed) break;
    if (a.status != AcceptStatus::ok) continue;
    // The new thread owns the connection; if it cannot be created the Fd closes with the lambda.
    bool started = threads.spawn([conn = std::move(a.conn), &server]() mutable {
      serve_connection(std::move(conn), server.board.slot(0), server.config.serve);
    });
    if (started)
      create_backoff.succeeded();
    else
      create_backoff.failed();
  }
  threads.wait(server.config.grace_ms);
  return 0;
}

}  // namespace tcplab
