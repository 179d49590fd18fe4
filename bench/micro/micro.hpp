#pragma once
// What the microbenchmark files share: one way to fail a benchmark, a stand-in for accept(),
// and the second party of the contended and cross-process benchmarks.
#include <benchmark/benchmark.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "fd.hpp"

namespace tcplab::micro {

// SkipWithError(what) and a note for main()'s exit status. The caller then breaks out of its
// loop (Google Benchmark's rule: no more iterations after an error).
void fail(benchmark::State& state, const std::string& what);
// The same with errno's text: "connect 127.0.0.1:41234: Connection refused".
void fail_errno(benchmark::State& state, const std::string& call);
// True once any benchmark of this run has failed.
bool any_failed();

// A new unconnected TCP socket; invalid, with errno set, on failure.
Fd tcp_socket();

// The stand-in for accept() in the hand-off benchmarks: new descriptors of one TCP socket made
// once (dup()s: each side gets a copy of its own to close, as in the servers). BM_DupClose
// prices one.
class StandInAccept {
 public:
  StandInAccept();
  // False, after fail(), if the socket could not be made.
  bool ready(benchmark::State& state) const;
  // A new descriptor, or an invalid one after fail() (out of descriptors).
  Fd next(benchmark::State& state) const;

 private:
  Fd socket_;
  int errno_;
};

// A second party that runs `step` again and again, in a forked process or in a thread, until
// stop() or until `step` returns false. A forked peer must only make system calls: it runs
// after fork() in a copy of this process and ends with _exit(), so nothing of ours is torn
// down twice. `step` throwing ends the peer with a failure that stop() reports.
class Peer {
 public:
  enum class Kind { process, thread };

  // Starts the peer; throws std::system_error if fork or the thread failed. `wake` (run in this
  // process by stop(), after the stop flag is set) unblocks a peer waiting in a system call.
  Peer(Kind kind, std::function<bool()> step, std::function<void()> wake = {});
  ~Peer();  // stop(), its result ignored: every peer is reaped or joined on every path
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Waits until the peer has entered its loop; false after `limit`.
  bool wait_running(std::chrono::milliseconds limit) const;
  // Steps the peer has completed so far.
  std::uint64_t steps() const { return shared_->steps.load(std::memory_order_relaxed); }
  // Asks the peer to stop and waits for it. A process that does not end within 5 s is killed;
  // either way it is reaped. Returns "" or what went wrong ("peer failed: recv_fd: ...").
  std::string stop();

 private:
  // In MAP_SHARED memory, so a forked peer and this process see the same flags.
  struct Shared {
    std::atomic<bool> running{false};
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    char error[200] = {};  // what the peer's step threw, for stop() to report
    alignas(64) std::atomic<std::uint64_t> steps{0};  // written by the peer only
  };
  static void loop(Shared& shared, const std::function<bool()>& step);

  Kind kind_;
  std::function<bool()> step_;
  std::function<void()> wake_;
  Shared* shared_;
  pid_t pid_ = -1;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace tcplab::micro
