#pragma once
// ControlSocket: a UNIX-domain socket on which the server answers the line "snapshot" with one
// line of JSON (accounting.hpp), without stopping or slowing its workers. The suite takes one
// snapshot after warm-up and one at the end of the measurement. By hand:
//   echo snapshot | nc -U /tmp/tcplab.ctl
//
// Who serves it, chosen by main() from the design table (paradigms/designs.hpp):
// - the designs that fork (Workers::processes: fork, prefork, prefork-fcntl, prefork-mutex,
//   prefork-fdpass, prefork-reuseport, prefork-epoll-exclusive): the manager's own poll loop,
//   through add_to() and handle() (fork.cpp's loop, ProcessPool::manage(), prefork-fdpass's
//   Manager::run). A process that forks has no other thread: a lock another thread held at the
//   fork (log_once's, accounting's) would stay locked for ever in the child.
// - the others (iterative, epoll, the thread designs), which never fork: a thread of its own,
//   start_thread(), with every signal blocked so that SIGINT, SIGTERM and SIGCHLD still reach
//   the design's own threads as they would without it.
// Either way one non-blocking state machine serves every client: a client that is slow to send
// its request or to read the answer never holds up the manager or another client, and is
// dropped (EOF) once 2 s have passed since it connected.
//
// A child forked while a client is connected inherits the manager's copy of that connection;
// close_in_child() closes it right after the fork, or the client would not see EOF when the
// manager closes its own. (Close-on-exec does not help: nothing is exec'd.) The child's copies
// of the listener and the spare stay open: harmless, as the child never accepts on them, and
// closing them would add two close() to every connection of the fork design.
//
// It keeps one spare descriptor so that it can still answer when the server has run out of
// descriptors (EMFILE): that is when a snapshot is most wanted.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "fd.hpp"
#include "poll_set.hpp"

namespace tcplab {

class ControlSocket {
 public:
  // Binds `path` (replacing a stale socket file) and listens; answers nothing until it is served
  // one way or the other (below). Throws on set-up failure.
  ControlSocket(std::string path, std::function<std::string()> answer);
  ~ControlSocket();  // stops its thread, if it has one, and removes the socket file
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // A design that never forks: serve from a thread of its own until destruction.
  void start_thread();

  // A manager's poll loop, in its one thread: add_to() before each wait (its entries, and a
  // wake-up for the earliest client's deadline), handle() after it.
  void add_to(PollSet& set);
  void handle(const PollSet& set);

  // In a child just forked from the manager: closes the child's copies of the connections of
  // the clients the manager is serving.
  void close_in_child();

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    Fd conn;
    Clock::time_point deadline;  // dropped then, answered or not
    std::string reply;           // empty until the request has come
    std::size_t sent = 0;
    std::size_t polled = 0;  // its index in this turn's PollSet
  };

  void accept_clients(Clock::time_point now);
  void step(Client& c, short revents, Clock::time_point now);

  std::string path_;
  std::function<std::string()> answer_;
  Fd listener_;                  // non-blocking
  Fd spare_;                     // /dev/null, closed for a moment to accept one under EMFILE
  std::vector<Client> clients_;  // at most kMaxClients; more wait in the listener's backlog
  static constexpr std::size_t kNotPolled = static_cast<std::size_t>(-1);
  std::size_t listener_polled_ = kNotPolled;
  Clock::time_point accept_again_{};  // after EMFILE or ENOMEM: not before then
  Fd wake_;                           // start_thread(): the destructor's eventfd to stop it
  std::thread thread_;
};

}  // namespace tcplab
