// The accept locks: mutual exclusion under contention (processes for the two that work across
// fork(), threads for the thread mutex), and what happens when a holder dies.
//
// Exclusion is checked the way a lost update shows it: a counter in shared memory is read, the
// CPU is given away, and the value plus one is written back, all inside the lock; a second
// holder inside at the same time is also caught directly by an `inside` flag.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "accept_lock.hpp"
#include "support/child.hpp"

namespace tcplab {
namespace {

using namespace std::chrono_literals;
using test::Child;
using test::Shared;

struct Arena {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};  // time is up, or the NoLock control has proved its point
  volatile long counter = 0;      // plain on purpose: only the lock protects it
  std::atomic<int> inside{0};
  std::atomic<long> overlaps{0};
  std::atomic<long> done{0};  // critical sections completed, by every contender
  std::atomic<int> finished{0};
};

// Up to `iterations` critical sections under `lock`, after every contender is ready.
void hammer(AcceptLock& lock, Arena& arena, long iterations) {
  arena.ready.fetch_add(1);
  while (!arena.go.load())
    sched_yield();
  long i = 0;
  for (; i < iterations && !arena.stop.load(std::memory_order_relaxed); ++i) {
    AcceptLockGuard guard(lock);
    if (arena.inside.fetch_add(1) != 0) {
      arena.overlaps.fetch_add(1);
      if (std::string_view(lock.name()) == "none") arena.stop.store(true);
    }
    long v = arena.counter;
    if (i % 8 == 0) sched_yield();  // hand the CPU to the other contender mid-update
    arena.counter = v + 1;
    arena.inside.fetch_sub(1);
  }
  arena.done.fetch_add(i);
  arena.finished.fetch_add(1);
}

struct Outcome {
  long counter;
  long overlaps;
  long done;
};

// On a loaded machine a lock convoy can be slow: the contenders stop after this long, and the
// test checks the critical sections they did complete.
constexpr auto kBudget = 1500ms;
constexpr long kIterations = 10000;
constexpr long kEnough = 200;  // fewer completed sections than this would prove little

void expect_exclusion(const Outcome& o) {
  EXPECT_EQ(o.overlaps, 0) << "two holders inside the lock at once";
  EXPECT_EQ(o.counter, o.done) << "updates lost under the lock";
  EXPECT_GE(o.done, kEnough);
}

// Go, wait for every contender to finish or the budget to pass, then stop them.
void run(Arena& arena, int contenders) {
  EXPECT_TRUE(test::wait_until([&] { return arena.ready.load() == contenders; }, 5s));
  arena.go.store(true);
  test::wait_until([&] { return arena.finished.load() == contenders; }, kBudget);
  arena.stop.store(true);
}

// Two processes under `lock`; the parent only starts, stops and reaps them.
Outcome contend_in_processes(AcceptLock& lock, long iterations) {
  Shared<Arena> arena;
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 2; ++i)
    children.push_back(std::make_unique<Child>([&] {
      hammer(lock, *arena, iterations);
      return 0;
    }));
  run(*arena, 2);
  for (auto& c : children)
    EXPECT_TRUE(c->succeeds(5s)) << "a contender did not stop";
  return {arena->counter, arena->overlaps.load(), arena->done.load()};
}

Outcome contend_in_threads(AcceptLock& lock, int threads, long iterations) {
  auto arena = std::make_unique<Arena>();
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] { hammer(lock, *arena, iterations); });
  run(*arena, threads);
  for (auto& t : pool)
    t.join();
  return {arena->counter, arena->overlaps.load(), arena->done.load()};
}

// --- the harness can see a missing lock ------------------------------------------------------

TEST(AcceptLock, WithoutALockTheHarnessSeesOverlaps) {
  NoLock none;
  Shared<Arena> arena;
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 2; ++i)
    children.push_back(std::make_unique<Child>([&] {
      hammer(none, *arena, 50'000'000);  // until an overlap is seen (or 10 s pass)
      return 0;
    }));
  ASSERT_TRUE(test::wait_until([&] { return arena->ready.load() == 2; }, 5s));
  arena->go.store(true);
  bool seen = test::wait_until([&] { return arena->overlaps.load() > 0; }, 10s);
  arena->stop.store(true);
  for (auto& c : children)
    EXPECT_TRUE(c->succeeds(5s));
  EXPECT_TRUE(seen)
      << "two processes never overlapped without a lock: the exclusion tests prove nothing";
}

// --- mutual exclusion ------------------------------------------------------------------------

TEST(AcceptLock, FcntlLockExcludesProcesses) {
  FcntlLock lock;
  expect_exclusion(contend_in_processes(lock, kIterations));
}

TEST(AcceptLock, ProcessMutexLockExcludesProcesses) {
  ProcessMutexLock lock;
  expect_exclusion(contend_in_processes(lock, kIterations));
}

TEST(AcceptLock, ProcessMutexLockExcludesThreads) {
  ProcessMutexLock lock;
  expect_exclusion(contend_in_threads(lock, 3, kIterations));
}

TEST(AcceptLock, ThreadMutexLockExcludesThreads) {
  ThreadMutexLock lock;
  expect_exclusion(contend_in_threads(lock, 3, kIterations));
}

TEST(AcceptLock, FcntlLockDoesNotExcludeThreadsOfOneProcess) {
  // Record locks belong to the process (accept_lock.hpp): a second thread "gets" the lock its
  // sibling holds at once. This is why prethread designs use ThreadMutexLock.
  FcntlLock lock;
  lock.lock();
  std::atomic<bool> got{false};
  std::thread other([&] {
    lock.lock();
    got.store(true);
    lock.unlock();
  });
  EXPECT_TRUE(test::wait_until([&] { return got.load(); }, 2s));
  other.join();
  lock.unlock();
}

TEST(AcceptLock, NoLockNeverBlocks) {
  NoLock none;
  none.lock();
  none.lock();
  none.unlock();
  EXPECT_EQ(none.name(), "none");
}

// A lock whose unlock() fails, as fcntl(F_SETLKW) or pthread_mutex_unlock can.
class FailingUnlock final : public AcceptLock {
 public:
  void lock() override {}
  void unlock() override { throw std::system_error(ENOLCK, std::generic_category(), "unlock"); }
  std::string_view name() const override { return "failing"; }
};

// A destructor that throws ends the process (std::terminate): the old guard did. In a child, so
// that the old code fails this test instead of killing the test program.
TEST(AcceptLockGuard, AFailedUnlockIsCountedNotThrown) {
  Child child([] {
    Fd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));  // the one log line is not test output
    ::dup2(null.get(), STDERR_FILENO);
    FailingUnlock lock;
    long before = unlock_failures();
    for (int i = 0; i < 3; ++i) {
      AcceptLockGuard guard(lock);
    }
    return unlock_failures() - before == 3 ? 0 : 1;
  });
  std::optional<int> status = child.wait(10s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status)) << "the guard's destructor killed the process: signal "
                                  << (WIFSIGNALED(*status) ? WTERMSIG(*status) : 0);
  EXPECT_EQ(WEXITSTATUS(*status), 0) << "three failed unlocks were not counted";
}

TEST(AcceptLock, Names) {
  EXPECT_EQ(FcntlLock().name(), "fcntl");
  EXPECT_EQ(ProcessMutexLock().name(), "process-mutex");
  EXPECT_EQ(ThreadMutexLock().name(), "thread-mutex");
}

// --- a holder that dies ----------------------------------------------------------------------

struct Flags {
  std::atomic<bool> holding{false};
  std::atomic<bool> acquired{false};
};

// A child takes `lock` and then blocks for ever (until SIGKILLed) without releasing it.
std::unique_ptr<Child> start_holder(AcceptLock& lock, Flags& flags) {
  auto holder = std::make_unique<Child>([&] {
    lock.lock();
    flags.holding.store(true);
    for (;;)
      ::pause();
    return 0;
  });
  EXPECT_TRUE(test::wait_until([&] { return flags.holding.load(); }, 5s));
  return holder;
}

std::unique_ptr<Child> start_waiter(AcceptLock& lock, Flags& flags) {
  return std::make_unique<Child>([&] {
    lock.lock();
    flags.acquired.store(true);
    lock.unlock();
    return 0;
  });
}

// The waiter must stay blocked while the holder lives, then get the lock once it is killed.
void holder_death_releases(AcceptLock& lock) {
  Shared<Flags> flags;
  auto holder = start_holder(lock, *flags);
  auto waiter = start_waiter(lock, *flags);
  EXPECT_FALSE(test::wait_until([&] { return flags->acquired.load(); }, 200ms))
      << "the lock was taken while its holder was alive";
  holder->kill(SIGKILL);
  EXPECT_TRUE(holder->wait(5s).has_value());
  EXPECT_TRUE(test::wait_until([&] { return flags->acquired.load(); }, 5s))
      << "the lock stayed held after its holder died";
  EXPECT_TRUE(waiter->succeeds(5s));
}

TEST(AcceptLock, FcntlLockIsReleasedWhenItsHolderDies) {
  FcntlLock lock;
  holder_death_releases(lock);
}

TEST(AcceptLock, ProcessMutexLockRecoversFromADeadOwnerThatAWaiterWasBlockedOn) {
  ProcessMutexLock lock;
  holder_death_releases(lock);
  // Made consistent by the waiter: usable, and exclusive, as before.
  lock.lock();
  lock.unlock();
  expect_exclusion(contend_in_processes(lock, 1000));
}

TEST(AcceptLock, ProcessMutexLockRecoversFromAnOwnerThatExitedHoldingIt) {
  ProcessMutexLock lock;
  Child quitter([&] {
    lock.lock();
    return 0;  // _exit with the mutex held
  });
  ASSERT_TRUE(quitter.succeeds(5s));
  // The next locker (here a child, so a hang is a failed wait and not a hung test) gets it,
  // through EOWNERDEAD: it says so on stderr, which it sends us through a pipe.
  int log[2];
  ASSERT_EQ(::pipe2(log, O_CLOEXEC), 0);
  Fd log_read(log[0]), log_write(log[1]);
  Child next([&] {
    ::dup2(log_write.get(), STDERR_FILENO);
    lock.lock();
    lock.unlock();
    return 0;
  });
  log_write.reset();
  EXPECT_TRUE(next.succeeds(5s)) << "EOWNERDEAD was not recovered";
  char buf[512];
  ssize_t n = ::read(log_read.get(), buf, sizeof buf);
  EXPECT_NE(std::string(buf, n > 0 ? std::size_t(n) : 0).find("previous owner died"),
            std::string::npos);
  lock.lock();  // and the manager after it
  lock.unlock();
}

}  // namespace
}  // namespace tcplab
