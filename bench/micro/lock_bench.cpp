// The accept locks of prefork-fcntl, prefork-mutex and prethread-mutex (common/accept_lock.hpp):
// one lock + unlock per connection, the price of letting one worker at a time into accept().
//
// uncontended: this process alone. contended: a peer (a forked process for the process-wide
// locks, a thread for the thread mutex) locks and unlocks the same lock in a loop meanwhile, as
// the other workers of the pool do. The counter peer_share is the peer's part of all the
// acquisitions made while the benchmark ran: near 0.5 is fair turns, near 0 means this side
// took the lock back before the woken peer could run (barging, usual on one core).
//
// Neither is what accept() makes of the lock: the holder sleeps in accept() while every other
// worker sleeps on the lock, so each connection pays a contended unlock and the wake of the
// next waiter. BM_LockHandoff prices that: see below.
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "accept_lock.hpp"
#include "micro.hpp"
#include "net.hpp"

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

// The accept lock as accept() holds it. `parties` workers (processes for fcntl and the
// process-shared mutex, threads for the thread mutex) each loop: lock, say "I hold it" on the
// ack socket, sleep until a token comes on the token socket (the stand-in for accept() waiting
// for a connection), unlock. One holds the lock asleep; the others sleep on the lock. Each
// iteration sends one token and waits for the next holder's ack, so it holds: the token's
// write and the holder's wake (a connection arriving), the contended unlock and the wake of a
// sleeping waiter, its lock coming back, and the ack's write and this thread's wake.
//
// none/parties:1 is the same round trip without a lock (one worker, token and ack): the price
// of the hand-over of a lock is BM_LockHandoff/LOCK less BM_LockHandoff/none. Pin to one CPU
// to price it as a server on one core pays it (every wake a context switch).
enum class LockKind { none, fcntl, process_mutex, thread_mutex };

constexpr char kToken = 'g', kQuit = 'q', kAck = 'a';

std::unique_ptr<AcceptLock> make_lock(LockKind kind) {
  switch (kind) {
    case LockKind::fcntl:
      return std::make_unique<FcntlLock>();
    case LockKind::process_mutex:
      return std::make_unique<ProcessMutexLock>();
    case LockKind::thread_mutex:
      return std::make_unique<ThreadMutexLock>();
    case LockKind::none:
      break;
  }
  return std::make_unique<NoLock>();
}

void BM_LockHandoff(benchmark::State& state, LockKind kind) {
  const auto parties = static_cast<int>(state.range(0));
  std::unique_ptr<AcceptLock> lock;
  try {
    lock = make_lock(kind);
  } catch (const std::system_error& e) {
    return fail(state, e.what());
  }
  // [0] is ours, [1] the workers'. SOCK_STREAM socketpairs rather than pipes: our reads and
  // writes get SO_RCVTIMEO/SO_SNDTIMEO, so a worker that never answers fails the benchmark.
  int token_sv[2], ack_sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, token_sv) == -1)
    return fail_errno(state, "socketpair");
  Fd token_ours(token_sv[0]), token_theirs(token_sv[1]);
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ack_sv) == -1)
    return fail_errno(state, "socketpair");
  Fd ack_ours(ack_sv[0]), ack_theirs(ack_sv[1]);
  set_io_timeouts(token_ours.get(), 5000);
  set_io_timeouts(ack_ours.get(), 5000);

  const int token_fd = token_theirs.get(), ack_fd = ack_theirs.get();
  AcceptLock& l = *lock;
  auto step = [&l, token_fd, ack_fd] {  // in each worker
    l.lock();
    char c = kAck;
    bool more = ::write(ack_fd, &c, 1) == 1 && ::read(token_fd, &c, 1) == 1 && c == kToken;
    l.unlock();
    return more;
  };
  // Stopping: one kQuit per worker; each holder in turn reads one, unlocks and ends.
  bool quit_sent = false;
  auto quit = [&quit_sent, &token_ours, parties] {
    if (std::exchange(quit_sent, true)) return;
    const std::string quits(static_cast<std::size_t>(parties), kQuit);
    (void)!::write(token_ours.get(), quits.data(), quits.size());
  };
  const Peer::Kind peer_kind =
      kind == LockKind::thread_mutex ? Peer::Kind::thread : Peer::Kind::process;
  std::vector<std::unique_ptr<Peer>> workers;  // after the sockets: stopped while they are open
  try {
    for (int i = 0; i < parties; ++i)
      workers.push_back(std::make_unique<Peer>(peer_kind, step, quit));
  } catch (const std::system_error& e) {
    return fail(state, e.what());
  }
  auto read_ack = [&] {
    char c = 0;
    if (::read(ack_ours.get(), &c, 1) == 1 && c == kAck) return true;
    fail_errno(state, "read ack (no worker took the lock within 5 s)");
    return false;
  };
  if (read_ack()) {  // a first holder is asleep with the lock
    for (auto _ : state) {
      char c = kToken;
      if (::write(token_ours.get(), &c, 1) != 1) {
        fail_errno(state, "write token");
        break;
      }
      if (!read_ack()) break;
    }
  }
  state.counters["parties"] = parties;
  for (auto& w : workers)
    if (std::string problem = w->stop(); !problem.empty() && !state.error_occurred())
      fail(state, problem);
}
BENCHMARK_CAPTURE(BM_LockHandoff, none, LockKind::none)->ArgName("parties")->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_LockHandoff, fcntl, LockKind::fcntl)
    ->ArgName("parties")
    ->Arg(4)
    ->Arg(15)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LockHandoff, process_mutex, LockKind::process_mutex)
    ->ArgName("parties")
    ->Arg(4)
    ->Arg(15)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LockHandoff, thread_mutex, LockKind::thread_mutex)
    ->ArgName("parties")
    ->Arg(4)
    ->Arg(15)
    ->UseRealTime();

}  // namespace

}  // namespace tcplab::micro
