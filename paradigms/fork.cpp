// fork: a new process for every connection (UNP 30.5, serv01 — the classic Unix server).
//
// The parent accepts, forks, closes its copy of the connection and accepts again; the child
// closes its copy of the listener, serves, and exits. The cost is a fork() and an exit() per
// connection: the largest row of Fig 30.1.
//
// What a child finds ready-made it does not pay for, once per connection: the response pattern
// is built here, before the first fork, so every child reads the parent's copy instead of
// zero-filling and writing 64 kB of its own (16 page faults and a 64 000-byte loop). The other
// half of the same lesson is in paradigms/CMakeLists.txt: tcplab-server is linked with -z now,
// so the dynamic linker resolves every function once, at start, in the parent; lazily bound,
// each child would repeat the lookups of the functions it calls first (read, sendmsg, ...) and
// copy the GOT pages it writes the answers into.
//
// The parent waits in ppoll() with SIGCHLD unblocked only there, so every child is reaped as
// soon as it exits (never a zombie) and no SIGCHLD can arrive between a check and the wait.
// The same wait serves --control (common/control.hpp): the parent runs no other thread.
#include <sys/wait.h>
#include <unistd.h>

#include <unordered_set>

#include "backoff.hpp"
#include "control.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "net.hpp"
#include "poll_set.hpp"
#include "process_pool.hpp"
#include "protocol.hpp"
#include "signals.hpp"

namespace tcplab {

int run_fork(Server& server) {
  protocol::body_chunk();
  signals::block_for_manager();
  set_nonblocking(server.listen_fd, true);  // woken by ppoll; a vanished connection must not block
  std::unordered_set<pid_t> children;
  Backoff fork_backoff(10, 1000);
  PollSet set;

  while (!signals::stop_requested()) {
    set.clear();
    const std::size_t listener = set.add(server.listen_fd, POLLIN);
    if (server.control) server.control->add_to(set);
    set.wait();
    if (signals::take_child_exited()) {
      pid_t pid;
      while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0)
        children.erase(pid);
    }
    if (server.control) server.control->handle(set);
    if (!(set.revents(listener) & POLLIN)) continue;

    Accepted a = accept_connection(server.listen_fd);
    if (a.status == AcceptStatus::closed) break;
    if (a.status != AcceptStatus::ok) continue;

    pid_t pid = ::fork();
    if (pid == 0) {  // the child: owns the connection from here
      become_child(server);
      ::close(server.listen_fd);
      serve_connection(std::move(a.conn), server.board.slot(0), server.config.serve);
      ::_exit(0);
    }
    if (pid < 0) {  // the connection closes with a.conn; the client sees EOF
      server.board.count(Event::fork_failed);
      log_once("fork", fmt::format("fork: {}: closing the connection", std::strerror(errno)));
      fork_backoff.failed();
      continue;
    }
    fork_backoff.succeeded();
    children.insert(pid);
    server.board.count(Event::process_created);
  }  // a.conn, the parent's copy, is closed at the end of each turn

  stop_processes({children.begin(), children.end()}, server.config.grace_ms);
  return 0;
}

}  // namespace tcplab
