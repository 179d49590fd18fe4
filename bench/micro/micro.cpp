// tcplab-micro: what each of the designs pays per connection, one primitive at a time
// (Google Benchmark). Which benchmark prices which design's lock, hand-off or spawn, and how
// the prices add up with the design's system calls per connection, is written down once, in
// bench/tcplab_suite/cost_model.py (PRIMITIVES); plots/report.py prices REPORT's cost model
// through it.
//
// The files: spawn_bench.cpp (fork, threads), lock_bench.cpp (the accept locks, alone and as
// accept() holds them), handoff_bench.cpp (descriptors passed between processes and threads),
// socket_bench.cpp (loopback connections, poll, setsockopt, getrusage).
//
// How the suite runs it. Pinning is the caller's job, with taskset: on one core a "contended"
// lock and a hand-off include the context switches between the two parties, which is what a
// server pinned to one core pays; on two cores they measure the cache-line and wake-up traffic
// between cores instead. Both are honest numbers, for different questions; say which you ran.
//
//   taskset -c 1 build/bin/tcplab-micro --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//       --benchmark_out=results/micro.json --benchmark_out_format=json
//
// (one command line). --benchmark_filter=REGEX picks benchmarks, --benchmark_min_time=SECONDS
// (a plain number in Google Benchmark 1.7) trades time for steadier numbers.
//
// Every benchmark uses real (wall-clock) time: they fork, make threads and system calls, and
// the CPU time of this process alone would leave out the peer's share. Exit status: 1 when a
// benchmark was skipped with an error (the other results are still reported), else 0.
#include "micro.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdio>
#include <exception>
#include <new>

#include "error.hpp"

namespace tcplab::micro {

namespace {

std::atomic<bool> g_failed{false};

// Waits for a forked peer; kills it if it has not ended by the deadline. Always reaps it.
std::string reap(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r == -1 && errno != EINTR) return sys_error(errno, "waitpid peer").what();
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      retry_eintr([&] { return ::waitpid(pid, &status, 0); });
      return "peer did not stop within 5 s; killed";
    }
    timespec ms{0, 1'000'000};
    ::nanosleep(&ms, nullptr);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status)) return "peer exited with status " + std::to_string(WEXITSTATUS(status));
  return "peer killed by signal " + std::to_string(WTERMSIG(status));
}

void print_help() {
  std::puts(
      "tcplab-micro: microbenchmarks of what each TCP server design pays per connection.\n"
      "\n"
      "  taskset -c 1 tcplab-micro --benchmark_repetitions=5 "
      "--benchmark_report_aggregates_only=true\n"
      "      --benchmark_out=micro.json --benchmark_out_format=json\n"
      "\n"
      "Pin it (taskset): one core measures the context switches between the two parties of\n"
      "the contended and hand-off benchmarks, two cores the traffic between cores.\n"
      "Exit status 1 if any benchmark failed (its entry carries error_occurred).\n"
      "\n"
      "Google Benchmark's options:");
  benchmark::PrintDefaultHelp();
}

}  // namespace

void fail(benchmark::State& state, const std::string& what) {
  g_failed.store(true);
  state.SkipWithError(what.c_str());
}

void fail_errno(benchmark::State& state, const std::string& call) {
  fail(state, sys_error(errno, call).what());
}

bool any_failed() {
  return g_failed.load();
}

Fd tcp_socket() {
  return Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

StandInAccept::StandInAccept() : socket_(tcp_socket()), errno_(socket_ ? 0 : errno) {}

bool StandInAccept::ready(benchmark::State& state) const {
  if (!socket_) fail(state, sys_error(errno_, "socket").what());
  return socket_.valid();
}

Fd StandInAccept::next(benchmark::State& state) const {
  Fd fd(::fcntl(socket_.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd) fail_errno(state, "fcntl F_DUPFD_CLOEXEC");
  return fd;
}

Peer::Peer(Kind kind, std::function<bool()> step, std::function<void()> wake)
    : kind_(kind), step_(std::move(step)), wake_(std::move(wake)) {
  void* p =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw sys_error(errno, "mmap peer flags");
  shared_ = new (p) Shared;
  if (kind_ == Kind::thread) {
    try {
      thread_ = std::thread([this] { loop(*shared_, step_); });
    } catch (...) {
      ::munmap(p, sizeof(Shared));
      throw;
    }
    return;
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == -1) {
    int err = errno;
    ::munmap(p, sizeof(Shared));
    throw sys_error(err, "fork peer");
  }
  if (pid_ == 0) {  // the peer process
    // It dies with this process, even one killed by a test's time limit: a lock peer would
    // otherwise spin for ever.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    loop(*shared_, step_);
    ::_exit(shared_->failed.load() ? 1 : 0);
  }
}

Peer::~Peer() {
  stop();
  ::munmap(shared_, sizeof(Shared));
}

void Peer::loop(Shared& shared, const std::function<bool()>& step) {
  shared.running.store(true);
  try {
    while (!shared.stop.load(std::memory_order_relaxed) && step())
      shared.steps.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception& e) {
    std::snprintf(shared.error, sizeof shared.error, "%s", e.what());
    shared.failed.store(true);
  } catch (...) {
    shared.failed.store(true);
  }
}

bool Peer::wait_running(std::chrono::milliseconds limit) const {
  // A spin with yields: a futex in MAP_SHARED memory would do, but this runs once per run.
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!shared_->running.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

std::string Peer::stop() {
  if (std::exchange(stopped_, true)) return "";
  shared_->stop.store(true);
  if (wake_) wake_();
  std::string problem;
  if (kind_ == Kind::thread)
    thread_.join();
  else
    problem = reap(pid_);
  if (shared_->failed.load()) problem = "peer failed: " + std::string(shared_->error);
  return problem;
}

}  // namespace tcplab::micro

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv, tcplab::micro::print_help);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  // A peer that vanished is an EPIPE and a failed benchmark, not a dead run.
  ::signal(SIGPIPE, SIG_IGN);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return tcplab::micro::any_failed() ? 1 : 0;
}
