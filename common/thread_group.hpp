#pragma once
// ThreadGroup: detached threads whose end can be awaited with a time limit, for the threaded
// designs. A failed pthread_create is logged, counted and reported to the caller, never fatal:
// the thread-per-client design loses that one connection (its Fd, owned by the callable that
// never ran, closes it) and goes on.
//
// The group's bookkeeping is shared with its threads, so a thread that outlives the group (one
// still serving when the grace period ended) touches nothing that was destroyed; what the server
// hands the designs (Server, its scoreboard and listener) is never destroyed either
// (tcplab_server.cpp, Serving). main() ends the process with _exit() after the summary, which
// takes such threads with it.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "scoreboard.hpp"

namespace tcplab {

class ThreadGroup {
 public:
  explicit ThreadGroup(Scoreboard& board) : board_(board) {}

  // Runs `fn` (movable, need not be copyable) on a new detached thread; false if none could start.
  template <class F>
  bool spawn(F&& fn) {
    state_->enter();
    try {
      std::thread([state = state_, fn = std::forward<F>(fn)]() mutable {
        fn();
        state->leave();
      }).detach();
    } catch (const std::system_error& e) {  // pthread_create failed: EAGAIN, the thread limit
      state_->leave();
      failed(e);
      return false;
    }
    ++created_;
    board_.count(Event::thread_created);
    return true;
  }

  // Waits until no thread of the group is running, or `grace_ms` passed; true if none runs.
  bool wait(int grace_ms) { return state_->wait(grace_ms); }
  std::size_t created() const { return created_; }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t running = 0;
    void enter();
    void leave();
    bool wait(int grace_ms);
  };
  void failed(const std::system_error& e);

  Scoreboard& board_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::size_t created_ = 0;  // touched by the spawning thread only
};

}  // namespace tcplab
