// run(): the threads around the workers. The main thread only starts, pins, reports progress
// once a second and joins; all the measuring happens in the workers.
#include "engine.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "fd.hpp"  // common/
#include "worker.hpp"

namespace tcplab::load {

namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

// Runs on the worker's own thread, before it measures anything.
void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set))
    throw std::system_error(err, std::generic_category(),
                            fmt::format("pthread_setaffinity_np(cpu {})", cpu));
}

}  // namespace

void probe(const Options& options) {
  // The source addresses, first and last: one wrong --source-base is one clear error here, not a
  // failure counted for every connection.
  if (options.source_base != 0) {
    for (const unsigned i : {options.source_addresses - 1, 0u}) {
      Fd source(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!source || !bind_source(source.get(), options.source_base + i))
        throw std::system_error(errno, std::generic_category(),
                                "bind to source address " + source_address(options.source_base, i));
    }
  }
  const std::string where = "connect to " + describe_address(options);
  Fd fd(::socket(options.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  if (options.source_base != 0 && !bind_source(fd.get(), options.source_base))
    throw std::system_error(errno, std::generic_category(),
                            "bind to source address " + source_address(options.source_base, 0));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&options.address),
                options.address_len) == 0)
    return;
  if (errno != EINPROGRESS) throw std::system_error(errno, std::generic_category(), where);
  pollfd p{fd.get(), POLLOUT, 0};
  const int ready = ::poll(&p, 1, int(options.timeout.count() / 1'000'000));
  if (ready == 0) throw std::system_error(ETIMEDOUT, std::generic_category(), where);
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (ready < 0 || err)
    throw std::system_error(ready < 0 ? errno : err, std::generic_category(), where);
}

Report run(const Options& options) {
  Shared shared{options};
  shared.start_ns = now_ns();
  shared.warmup_end_ns = shared.start_ns + std::uint64_t(options.warmup.count());
  if (options.duration.count() > 0)
    shared.end_ns = shared.warmup_end_ns + std::uint64_t(options.duration.count());

  // Clients are dealt out as evenly as the threads allow.
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < options.threads; ++t) {
    const unsigned clients =
        options.clients / options.threads + (t < options.clients % options.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, t, clients));
  }

  std::mutex mutex;
  std::condition_variable finished_cv;
  unsigned finished = 0;
  std::vector<std::exception_ptr> errors(options.threads);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        if (!options.cpus.empty()) pin_this_thread(options.cpus[t % options.cpus.size()]);
        workers[t]->run();
      } catch (...) {
        errors[t] = std::current_exception();
      }
      std::lock_guard lock(mutex);
      ++finished;
      finished_cv.notify_one();
    });
  }

  {
    std::unique_lock lock(mutex);
    for (int second = 1; !finished_cv.wait_for(lock, std::chrono::seconds(1),
                                               [&] { return finished == options.threads; });
         ++second) {
      if (!options.progress) continue;
      std::uint64_t requests = 0, failed = 0;
      for (auto& w : workers) {
        requests += w->progress.requests.load(std::memory_order_relaxed);
        failed += w->progress.failed.load(std::memory_order_relaxed);
      }
      fmt::print(stderr, "{:>5}s {:>12} requests {:>8} failed{}\n", second, requests, failed,
                 now_ns() < shared.warmup_end_ns ? "  (warmup)" : "");
    }
  }
  for (auto& thread : threads)
    thread.join();
  for (auto& error : errors)
    if (error) std::rethrow_exception(error);

  Report report{options, {}, 0};
  for (auto& w : workers)
    report.stats.merge(w->stats());
  // A run that ran out of time is measured over exactly --duration; one that ran out of
  // connections, until its last response.
  const std::uint64_t joined = now_ns();
  const std::uint64_t end = joined >= shared.end_ns         ? shared.end_ns
                            : report.stats.last_done_ns > 0 ? report.stats.last_done_ns
                                                            : joined;
  report.seconds = end > shared.warmup_end_ns ? double(end - shared.warmup_end_ns) * 1e-9 : 0;
  return report;
}

}  // namespace tcplab::load
