#pragma once
// EventLoop: one thread serving many connections with non-blocking sockets and one epoll
// (Chen Shuo's "one loop per thread"; the shape of Redis and of each nginx worker). It is the
// non-blocking twin of serve_connection(): the same parser, the same answers, the same counts
// in the worker's scoreboard slot, the same failure kinds — but a connection that would block
// is put aside and the thread serves another, instead of the thread waiting on it.
//
// Each connection is a small state machine (State): read until step() — the decision
// serve_connection makes too — has an answer; write it as the socket takes it (EPOLLOUT); then
// the next request, a close, or a lingering close after an error.
// Its one fixed 8 KiB buffer lives in the connection, as serve_connection's lives on its stack.
// Timeouts: every connection sits in a list ordered by its last progress (all share one
// --io-timeout-ms, so moving a connection to the back on progress keeps the list sorted); each
// turn expires the front. Progress is a write, or the first bytes of a request: the rest of a
// request must arrive within the timeout of those, as in serve_connection. Lingering
// connections have a list of their own with a shorter time.
//
// Threads: an EventLoop is built, set up and run() by one thread; post() and stop() may be
// called from any thread. Stopping (SIGINT/SIGTERM in this process, or stop()): the loop stops
// accepting, closes connections idle between requests, lets the others finish for at most
// `grace_ms`, closes what is left and returns.
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "connection.hpp"
#include "connection_step.hpp"
#include "fd.hpp"
#include "protocol.hpp"
#include "scoreboard.hpp"

namespace tcplab {

class EventLoop {
 public:
  EventLoop(WorkerSlot& slot, const ServeConfig& config, int grace_ms);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Accept from `listen_fd` (owned elsewhere; made non-blocking). `exclusive`: EPOLLEXCLUSIVE,
  // so a connection wakes one of the processes watching a shared listener, not all of them.
  void watch_listener(int listen_fd, bool exclusive = false);
  // false: only stop() stops the loop (loop-per-thread: the main thread decides, after its
  // last post()); true (the default): a SIGINT/SIGTERM in this process does too.
  void stop_on_signal(bool on) { stop_on_signal_ = on; }
  // --stall-worker: this loop serves nothing until it is stopped (a worker stuck in a bug).
  void stall(bool on) { stall_ = on; }

  // Any thread: hand a connection to this loop, or ask it to stop.
  void post(Fd conn);
  void stop();

  void run();

  std::size_t connections() const { return active_.size() + lingering_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  // Where a connection stands. The two reading states differ only when the server stops: one
  // that has answered a request and waits for the next is closed, one that has not answered yet
  // still gets its first answer.
  enum class State {
    reading_first,  // reading its first request
    reading,        // reading a request after answering one
    answering,      // writing the answer to a request, then `after`
    refusing,       // writing the answer to a refused request, then lingering
    lingering,      // shut for writing: reading and discarding until the close (in lingering_)
  };
  struct Connection {
    Fd fd;
    std::list<Connection>::iterator self;  // its node in active_ or lingering_
    Clock::time_point last;                // last progress: its deadline is last + timeout
    State state = State::reading_first;
    bool ready = false;  // in ready_ (any state): budget spent, to be driven again next turn
    std::size_t have = 0;
    // The answer being written (answering, refusing): head bytes, then body bytes of the
    // shared pattern.
    After after = After::next;
    std::string head;
    std::size_t head_off = 0;
    std::uint64_t body_off = 0, body_left = 0;
    int linger_reads = 0;
    Clock::time_point linger_start;
    char buf[protocol::kMaxHttpHeader];
  };
  using List = std::list<Connection>;

  bool stopping() const;
  void begin_stop();
  void adopt(Fd conn);
  void accept_ready();
  void take_posted();
  bool drive(Connection& c);
  bool write_some(Connection& c, std::size_t& budget, int& err);
  bool linger(Connection& c);
  void start_linger(Connection& c);
  void touch(Connection& c);
  void finish(Connection& c);
  void expire();
  int next_timeout_ms() const;
  void listen_on(bool on);

  WorkerSlot& slot_;
  const ServeConfig& config_;
  const int grace_ms_;
  Fd epoll_, wake_;  // wake_: an eventfd, written by post() and stop()
  int listen_fd_ = -1;
  bool exclusive_ = false, listening_ = false;
  bool stop_on_signal_ = true, stall_ = false, stopping_ = false;
  int backoff_ms_ = 0;
  Clock::time_point now_, resume_listen_at_, stop_deadline_;
  List active_, lingering_;
  std::vector<Connection*> ready_;

  std::mutex mutex_;  // guards posted_ and stop_requested_
  std::vector<Fd> posted_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace tcplab
