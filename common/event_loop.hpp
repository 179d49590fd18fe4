#pragma once
// The event-loop designs' shared parts, in two layers.
//
// Connections: the connections of one thread served with non-blocking sockets, registered in
// an epoll instance that its owner waits on (Stevens' web_child, made non-blocking: the design
// keeps its own loop and calls into this). It is the non-blocking twin of serve_connection():
// the same parser, the same answers, the same counts in the worker's scoreboard slot, the same
// failure kinds, but a connection that would block is put aside and the thread serves another.
// Each connection is a small state machine (State): read until step(), the decision
// serve_connection makes too, has an answer; write it as the socket takes it (EPOLLOUT); then
// the next request, a close, or a lingering close after an error. Its one fixed 8 KiB buffer
// lives in the connection, as serve_connection's lives on its stack.
// Timeouts: every connection sits in a list ordered by its last progress (all share one
// --io-timeout-ms, so moving a connection to the back on progress keeps the list sorted); each
// turn expires the front. Progress is a write, or the first bytes of a request: the rest of a
// request must arrive within the timeout of those, as in serve_connection. Lingering
// connections have a list of their own with a shorter time.
//
// EventLoop: a whole loop built on Connections, for the designs that run one per worker
// (prefork-reuseport, prefork-epoll-exclusive, loop-per-thread): a listener, connections handed
// over by another thread (post), a stop from another thread (stop). The epoll design writes its
// loop itself (paradigms/epoll.cpp).
//
// Threads: both are built, set up and run by one thread; EventLoop's post() and stop() may be
// called from any thread. Stopping (SIGINT/SIGTERM in this process, or stop()): the loop stops
// accepting, closes connections idle between requests, lets the others finish for at most
// `grace_ms`, closes what is left and returns.
#include <signal.h>
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

using LoopClock = std::chrono::steady_clock;

// While alive, SIGINT and SIGTERM are blocked in this thread except inside a wait given
// wait_mask() (epoll_pwait, ppoll): one arriving between the look at the stop flag and the wait
// would otherwise be noticed only at the next event.
class StopSignalsHeld {
 public:
  StopSignalsHeld();
  ~StopSignalsHeld();
  StopSignalsHeld(const StopSignalsHeld&) = delete;
  StopSignalsHeld& operator=(const StopSignalsHeld&) = delete;
  const sigset_t* wait_mask() const { return &wait_mask_; }

 private:
  sigset_t stop_signals_, wait_mask_;
};

// Milliseconds from `now` until `next` for an epoll timeout: 0 if passed, -1 if `next` is
// time_point::max() (nothing to wait for), at most a minute.
int timeout_ms(LoopClock::time_point next, LoopClock::time_point now);

class Connections {
 public:
  using Clock = LoopClock;
  // `epoll_fd`: the owner's epoll instance (owned elsewhere); each connection is registered in
  // it with its Connection* as data.ptr, so any other descriptor there needs another tag.
  Connections(int epoll_fd, WorkerSlot& slot, const ServeConfig& config);
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // The time now for what follows: call once per turn, after the wait.
  void set_now(Clock::time_point now) { now_ = now; }
  // A new connection (non-blocking already): registered and served as far as it goes.
  void adopt(Fd conn);
  // epoll reported the connection whose data.ptr is `tag`.
  void on_event(void* tag);
  // End of a turn: the connections that spent their budget go on (edge-triggered epoll will not
  // report them again), and those without progress for --io-timeout-ms are closed.
  void end_turn();
  // Stopping: connections idle between requests are closed now; the others get their answer.
  void begin_stop();
  // What is left after the grace period is cut, as a process worker would be by SIGKILL.
  void close_all();

  // The earliest deadline of a connection; now when some wait in ready_ for their next turn;
  // time_point::max() when there is none.
  Clock::time_point next_deadline() const;
  std::size_t size() const { return active_.size() + lingering_.size(); }

 private:
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

  bool drive(Connection& c);
  bool write_some(Connection& c, std::size_t& budget, int& err);
  bool linger(Connection& c);
  void start_linger(Connection& c);
  void touch(Connection& c);
  void finish(Connection& c);
  void expire();

  const int epoll_fd_;
  WorkerSlot& slot_;
  const ServeConfig& config_;
  bool stopping_ = false;
  Clock::time_point now_;
  List active_, lingering_;
  std::vector<Connection*> ready_;
};

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

  std::size_t connections() const { return conns_.size(); }

 private:
  using Clock = LoopClock;

  bool stopping() const;
  void begin_stop();
  void accept_ready();
  void take_posted();
  void listen_on(bool on);

  const int grace_ms_;
  Fd epoll_, wake_;  // wake_: an eventfd, written by post() and stop()
  Connections conns_;
  int listen_fd_ = -1;
  bool exclusive_ = false, listening_ = false;
  bool stop_on_signal_ = true, stall_ = false, stopping_ = false;
  int backoff_ms_ = 0;
  Clock::time_point now_, resume_listen_at_, stop_deadline_;

  std::mutex mutex_;  // guards posted_ and stop_requested_
  std::vector<Fd> posted_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace tcplab
