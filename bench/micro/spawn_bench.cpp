// The price of a new process or thread per client: what fork and thread pay before the first
// byte of a connection is read.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "error.hpp"
#include "micro.hpp"
#include "scoreboard.hpp"
#include "thread_group.hpp"

namespace tcplab::micro {

namespace {

// fork(), the child _exit()s at once, the parent waitpid()s: the fork design's cost per client,
// less the serving. Arg: MiB of heap the parent has touched; fork copies the page tables that
// map it, so a large parent forks more slowly (the fork design's parent is small: arg 0).
void BM_ForkExitWait(benchmark::State& state) {
  const std::size_t bytes = static_cast<std::size_t>(state.range(0)) << 20;
  void* heap = nullptr;
  if (bytes > 0) {
    heap = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) return fail_errno(state, "mmap");
    std::memset(heap, 1, bytes);
  }
  for (auto _ : state) {
    pid_t pid = ::fork();
    if (pid == -1) {
      fail_errno(state, "fork");
      break;
    }
    if (pid == 0) ::_exit(0);
    int status = 0;
    if (retry_eintr([&] { return ::waitpid(pid, &status, 0); }) != pid) {
      fail_errno(state, "waitpid");
      break;
    }
  }
  if (heap) ::munmap(heap, bytes);
}
BENCHMARK(BM_ForkExitWait)->ArgName("heap_mib")->Arg(0)->Arg(64)->UseRealTime();

// std::thread, then join(): a thread's whole life with nothing in it.
void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) {
    try {
      std::thread([] {}).join();
    } catch (const std::system_error& e) {
      fail(state, e.what());
      break;
    }
  }
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

// Detached threads started through ThreadGroup::spawn, exactly as the thread design starts one
// per client. Throughput: the main thread does not wait for each thread, only keeps at most
// kInFlight alive (as a server with that many connections open would), and the last iteration
// waits for all of them, so every thread's whole life is inside the measured time.
void BM_ThreadCreateDetached(benchmark::State& state) {
  constexpr std::int64_t kInFlight = 64;
  Scoreboard board(1);
  ThreadGroup threads(board);
  // Shared with the threads: one may still be in notify_all() after the benchmark returned.
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  auto wait_finished = [&](std::int64_t at_least) {
    for (auto f = finished->load(); f < at_least; f = finished->load())
      finished->wait(f);
  };
  std::int64_t started = 0;
  for (auto _ : state) {
    wait_finished(started - kInFlight + 1);
    if (!threads.spawn([finished] {
          finished->fetch_add(1);
          finished->notify_all();
        })) {
      fail(state, "pthread_create failed (ThreadGroup::spawn)");
      break;
    }
    if (++started == state.max_iterations) wait_finished(started);
  }
  if (!threads.wait(10'000) && !state.error_occurred())
    fail(state, "threads still running after 10 s");
  state.SetLabel("throughput");
}
BENCHMARK(BM_ThreadCreateDetached)->UseRealTime();

}  // namespace

}  // namespace tcplab::micro
