// The small owners of common/: Fd (closes once, -1 after a move), BoundedQueue (back-pressure,
// close drains), the Scoreboard's memory shared across fork(), and Backoff's sleep against a
// stop.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backoff.hpp"
#include "bounded_queue.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "scoreboard.hpp"
#include "signals.hpp"
#include "support/child.hpp"
#include "support/fds.hpp"

namespace tcplab {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

Fd open_null() {
  return Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

// --- Fd ---------------------------------------------------------------------------------------

TEST(Fd, DefaultIsEmpty) {
  Fd fd;
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(fd);
}

TEST(Fd, ClosesOnDestruction) {
  int raw;
  {
    Fd fd = open_null();
    raw = fd.get();
    ASSERT_TRUE(fd);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, MoveLeavesMinusOneAndClosesOnce) {
  auto a = std::make_unique<Fd>(open_null());
  const int raw = a->get();
  {
    Fd b(std::move(*a));
    EXPECT_EQ(a->get(), -1);
    EXPECT_FALSE(*a);
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_FALSE(is_open(raw));
  // The number is free again and the next open takes it. If the moved-from Fd still thought it
  // owned `raw`, its destructor would now close this unrelated descriptor.
  Fd reuse = open_null();
  ASSERT_EQ(reuse.get(), raw);
  a.reset();
  EXPECT_TRUE(is_open(raw)) << "a moved-from Fd closed a descriptor it no longer owned";
}

TEST(Fd, MoveAssignmentClosesWhatTheTargetHeld) {
  Fd a = open_null(), b = open_null();
  const int ra = a.get(), rb = b.get();
  b = std::move(a);
  EXPECT_EQ(a.get(), -1);
  EXPECT_EQ(b.get(), ra);
  EXPECT_FALSE(is_open(rb));
  EXPECT_TRUE(is_open(ra));
}

TEST(Fd, SelfMoveAssignmentKeepsTheDescriptor) {
  Fd a = open_null();
  const int raw = a.get();
  Fd& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(Fd, ReleaseGivesUpOwnership) {
  int raw;
  {
    Fd a = open_null();
    raw = a.release();
    EXPECT_EQ(a.get(), -1);
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(Fd, ResetClosesTheOldAndOwnsTheNew) {
  Fd a = open_null();
  const int first = a.get();
  const int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  a.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(a.get(), second);
  a.reset();
  EXPECT_FALSE(is_open(second));
  EXPECT_EQ(a.get(), -1);
}

TEST(Fd, ManyMovesLeaveTheTableAsItWas) {
  std::vector<int> before = test::open_fds();
  {
    std::vector<Fd> fds;
    for (int i = 0; i < 50; ++i)
      fds.push_back(open_null());  // reallocations move them
    std::vector<Fd> moved(std::make_move_iterator(fds.begin()), std::make_move_iterator(fds.end()));
    for (const Fd& f : fds)
      EXPECT_EQ(f.get(), -1);
  }
  EXPECT_EQ(test::fd_list(test::open_fds()), test::fd_list(before));
}

// --- BoundedQueue -----------------------------------------------------------------------------

TEST(BoundedQueue, FirstInFirstOut) {
  BoundedQueue<int> q(4);
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(q.push(i, 0ms));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BoundedQueue, FullQueuePushWaitsTheSliceThenGivesTheItemBack) {
  BoundedQueue<Fd> q(2);
  Fd a = open_null(), b = open_null(), c = open_null();
  const int rc = c.get();
  ASSERT_TRUE(q.push(a, 0ms));
  ASSERT_TRUE(q.push(b, 0ms));
  EXPECT_EQ(a.get(), -1) << "a pushed item is moved into the queue";
  auto start = Clock::now();
  EXPECT_FALSE(q.push(c, 50ms));
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, 45ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(c.get(), rc) << "a refused item stays with the caller";
  EXPECT_TRUE(is_open(rc));
  EXPECT_EQ(q.size(), 2u);
}

TEST(BoundedQueue, PushWaitingForRoomGoesInWhenAPopMakesRoom) {
  BoundedQueue<int> q(1);
  int first = 1;
  ASSERT_TRUE(q.push(first, 0ms));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    int second = 2;
    pushed.store(q.push(second, 5000ms));
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(pushed.load()) << "push did not wait for room";
  auto start = Clock::now();
  EXPECT_EQ(q.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_LT(Clock::now() - start, 2s) << "pop did not wake the waiting push";
  EXPECT_EQ(q.pop(), 2);
}

TEST(BoundedQueue, CloseDrainsThenNullopt) {
  BoundedQueue<std::unique_ptr<int>> q(8);
  for (int i = 0; i < 3; ++i) {
    auto p = std::make_unique<int>(i);
    ASSERT_TRUE(q.push(p, 0ms));
  }
  q.close();
  auto late = std::make_unique<int>(99);
  auto start = Clock::now();
  EXPECT_FALSE(q.push(late, 5000ms));
  EXPECT_LT(Clock::now() - start, 1s) << "push on a closed queue waited";
  ASSERT_TRUE(late) << "a refused item stays with the caller";
  for (int i = 0; i < 3; ++i) {
    auto item = q.pop();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(**item, i);
  }
  EXPECT_EQ(q.pop(), std::nullopt);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(BoundedQueue, CloseWakesBlockedPoppersAndPushers) {
  BoundedQueue<int> empty(1);
  std::vector<std::thread> poppers;
  std::atomic<int> woke{0};
  for (int i = 0; i < 3; ++i)
    poppers.emplace_back([&] {
      if (!empty.pop()) woke.fetch_add(1);
    });
  BoundedQueue<int> full(1);
  int x = 1;
  ASSERT_TRUE(full.push(x, 0ms));
  std::atomic<bool> push_result{true};
  auto start = Clock::now();
  std::thread pusher([&] {
    int y = 2;
    push_result.store(full.push(y, 10000ms));
  });
  std::this_thread::sleep_for(20ms);
  empty.close();
  full.close();
  for (auto& t : poppers)
    t.join();
  pusher.join();
  EXPECT_EQ(woke.load(), 3);
  EXPECT_FALSE(push_result.load());
  EXPECT_LT(Clock::now() - start, 5s) << "close did not wake the pusher before its slice ended";
  EXPECT_EQ(full.pop(), 1) << "what was queued before close is still handed out";
}

TEST(BoundedQueue, ProducersAndConsumersLoseNothing) {
  BoundedQueue<int> q(4);
  constexpr int kPerProducer = 2000;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 3; ++i)
    consumers.emplace_back([&] {
      while (auto v = q.pop()) {
        sum.fetch_add(*v);
        count.fetch_add(1);
      }
    });
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p)
    producers.emplace_back([&, p] {
      for (int i = 1; i <= kPerProducer; ++i) {
        int v = p * kPerProducer + i;
        while (!q.push(v, 10ms)) {
        }
      }
    });
  for (auto& t : producers)
    t.join();
  q.close();
  for (auto& t : consumers)
    t.join();
  const long n = 2 * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
}

// --- Scoreboard -------------------------------------------------------------------------------

TEST(Scoreboard, WorkersCountsOutliveTheWorker) {
  Scoreboard board(3);
  test::Child worker([&] {
    WorkerSlot& s = board.slot(1);
    for (int i = 0; i < 10; ++i)
      s.add(s.requests);
    s.add(s.bytes_sent, 12345);
    s.add(s.connections);
    s.fail(Failure::timeout);
    board.count(Event::worker_died);
    return 0;
  });
  ASSERT_TRUE(worker.succeeds(5s));
  EXPECT_EQ(board.total_requests(), 10u);
  EXPECT_EQ(board.total_bytes(), 12345u);
  EXPECT_EQ(board.total_connections(), 1u);
  EXPECT_EQ(board.total_failures(Failure::timeout), 1u);
  EXPECT_EQ(board.total_failures(Failure::reset), 0u);
  EXPECT_EQ(board.events(Event::worker_died), 1u);
  EXPECT_EQ(board.slot(0).requests.load(), 0u);
}

TEST(Scoreboard, AtLeastOneSlotAndNamesForEveryKind) {
  EXPECT_EQ(Scoreboard(0).size(), 1u);
  for (std::size_t i = 0; i < kFailureKinds; ++i)
    EXPECT_FALSE(failure_name(Failure(i)).empty());
  for (std::size_t i = 0; i < kEventKinds; ++i)
    EXPECT_FALSE(event_name(Event(i)).empty());
  EXPECT_EQ(alignof(WorkerSlot), 64u);
}

// --- Backoff ----------------------------------------------------------------------------------

// In a child: stop handlers installed, "ready" written to `ready_fd`, then one back-off of 5 s.
// Exits 0 if the SIGTERM the parent sends cut it short (well under the 5 s), 1 if not.
// `signal_elsewhere`: the sleeping thread blocks SIGTERM, so the signal is taken by another
// thread (as in the thread design, where any thread may take it).
int back_off_until_stopped(int ready_fd, bool signal_elsewhere) {
  signals::install_stop_handlers(-1);
  std::atomic<bool> done{false};
  std::thread other;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  if (signal_elsewhere) {
    ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
    other = std::thread([&] {  // the one thread that takes SIGTERM
      ::pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
      while (!done.load())
        std::this_thread::sleep_for(5ms);
    });
  }
  if (::write(ready_fd, "r", 1) != 1) return 2;
  auto start = Clock::now();
  Backoff(5000, 5000).failed();
  bool cut_short = Clock::now() - start < 2500ms;
  done = true;
  if (other.joinable()) other.join();
  return cut_short ? 0 : 1;
}

void expect_stop_cuts_the_back_off_short(bool signal_elsewhere) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  Fd ready(ends[0]), ready_w(ends[1]);
  test::Child child([&] { return back_off_until_stopped(ready_w.get(), signal_elsewhere); });
  ready_w.reset();
  char c;
  ASSERT_EQ(::read(ready.get(), &c, 1),
            1);  // its handlers are in place: SIGTERM only sets the flag
  std::this_thread::sleep_for(
      100ms);  // let it fall asleep (if not, the flag is set before it does)
  child.kill(SIGTERM);
  // The old Backoff slept its full 5 s, resuming nanosleep after EINTR.
  std::optional<int> status = child.wait(4s);
  ASSERT_TRUE(status) << "the back-off outlived the stop by more than 4 s";
  ASSERT_TRUE(WIFEXITED(*status)) << "the child died of a signal: " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << "the back-off slept 2.5 s or more after the stop";
}

TEST(Backoff, AStopCutsTheSleepShort) {
  expect_stop_cuts_the_back_off_short(false);
}

TEST(Backoff, AStopTakenByAnotherThreadCutsTheSleepShort) {
  expect_stop_cuts_the_back_off_short(true);
}

// Stopping, a caller that keeps failing (EMFILE while the server stops) must not spin: each
// back-off still sleeps one slice (20 ms), though not the second it would otherwise.
TEST(Backoff, StoppingItStillSleepsOneSlice) {
  test::Child child([] {
    signals::install_stop_handlers(-1);
    ::raise(SIGTERM);  // the handler only sets the flag (no listener)
    if (!signals::stop_requested()) return 2;
    Backoff backoff(1000, 1000);
    auto start = Clock::now();
    for (int i = 0; i < 5; ++i)
      backoff.failed();
    auto took = Clock::now() - start;
    return took >= 5 * 19ms && took < 2500ms ? 0 : 1;  // 5 slices: not 0, not 5 x 1 s
  });
  EXPECT_TRUE(child.succeeds(10s));
}

// Any other signal (SIGCHLD in the fork design) interrupts nanosleep too: the back-off still
// lasts its whole time. A lower bound only: a loaded machine can make it longer, never shorter.
TEST(Backoff, OtherSignalsDoNotShortenIt) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  Fd ready(ends[0]), ready_w(ends[1]);
  test::Child child([&] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR1, &sa, nullptr);  // no SA_RESTART: nanosleep returns EINTR
    if (::write(ready_w.get(), "r", 1) != 1) return 2;
    auto start = Clock::now();
    Backoff(300, 300).failed();
    return Clock::now() - start >= 300ms ? 0 : 1;
  });
  ready_w.reset();
  char c;
  ASSERT_EQ(::read(ready.get(), &c, 1), 1);
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(10ms);
    child.kill(SIGUSR1);
  }
  EXPECT_TRUE(child.succeeds(10s));
}

}  // namespace
}  // namespace tcplab
