// The accept locks of prefork-fcntl, prefork-mutex and prethread-mutex (common/accept_lock.hpp):
// one lock + unlock per connection, the price of letting one worker at a time into accept().
//
// uncontended: this process alone. contended: a peer (a forked process for the process-wide
// locks, a thread for the thread mutex) locks and unlocks the same lock in a loop meanwhile, as
// the other workers of the pool do. The counter peer_share is the peer's part of all the
// acquisitions made while the benchmark ran: near 0.5 is fair turns, near 0 means this side
// took the lock back before the woken peer could run (barging, usual on one core).
#include <optional>
#include <string>
#include <system_error>

#include "accept_lock.hpp"
#include "micro.hpp"

namespace tcplab::micro {

namespace {

enum class Contention { none, peer };

template <class Lock>
void lock_unlock(benchmark::State& state, Contention contention, Peer::Kind peer_kind) {
  Lock concrete;
  AcceptLock& lock = concrete;  // through the interface, as accept_loop() calls it
  std::optional<Peer> peer;
  if (contention == Contention::peer) {
    try {
      peer.emplace(peer_kind, [&lock] {
        lock.lock();
        lock.unlock();
        return true;
      });
    } catch (const std::system_error& e) {
      return fail(state, e.what());
    }
    if (!peer->wait_running(std::chrono::seconds(5))) return fail(state, "peer did not start");
  }
  const std::uint64_t peer_before = peer ? peer->steps() : 0;
  for (auto _ : state) {
    try {
      lock.lock();
      lock.unlock();
    } catch (const std::system_error& e) {
      fail(state, e.what());
      break;
    }
  }
  if (!peer) return;
  const double theirs = static_cast<double>(peer->steps() - peer_before);
  const double ours = static_cast<double>(state.iterations());
  state.counters["peer_share"] = theirs + ours > 0 ? theirs / (theirs + ours) : 0;
  if (std::string problem = peer->stop(); !problem.empty() && !state.error_occurred())
    fail(state, problem);
}

// prefork-fcntl: a POSIX record lock on a file; the peer is a process (record locks are per
// process).
void BM_FcntlLock(benchmark::State& state, Contention contention) {
  lock_unlock<FcntlLock>(state, contention, Peer::Kind::process);
}
BENCHMARK_CAPTURE(BM_FcntlLock, uncontended, Contention::none)->UseRealTime();
BENCHMARK_CAPTURE(BM_FcntlLock, contended, Contention::peer)->UseRealTime();

// prefork-mutex: a robust PTHREAD_PROCESS_SHARED mutex in shared memory; the peer is a process.
void BM_SharedMutex(benchmark::State& state, Contention contention) {
  lock_unlock<ProcessMutexLock>(state, contention, Peer::Kind::process);
}
BENCHMARK_CAPTURE(BM_SharedMutex, uncontended, Contention::none)->UseRealTime();
BENCHMARK_CAPTURE(BM_SharedMutex, contended, Contention::peer)->UseRealTime();

// prethread-mutex: a std::mutex; the peer is a thread.
void BM_ThreadMutex(benchmark::State& state, Contention contention) {
  lock_unlock<ThreadMutexLock>(state, contention, Peer::Kind::thread);
}
BENCHMARK_CAPTURE(BM_ThreadMutex, uncontended, Contention::none)->UseRealTime();
BENCHMARK_CAPTURE(BM_ThreadMutex, contended, Contention::peer)->UseRealTime();

}  // namespace

}  // namespace tcplab::micro
