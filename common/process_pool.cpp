#include "process_pool.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "control.hpp"
#include "error.hpp"
#include "poll_set.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "stopped";
}

}  // namespace

void become_child(const Server& server) {
  signals::become_worker();
  if (server.control) server.control->close_in_child();
}

ProcessPool::ProcessPool(const Server& server, WorkerMain main, Hooks hooks)
    : server_(server),
      main_(std::move(main)),
      hooks_(std::move(hooks)),
      workers_(server.config.workers) {}

void ProcessPool::start() {
  std::size_t started = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i)
    started += spawn(i) ? 1 : 0;
  if (started == 0) throw sys_error(EAGAIN, "fork: no worker could be started");
}

bool ProcessPool::spawn(std::size_t slot) {
  if (hooks_.before_fork) hooks_.before_fork(slot);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    server_.board.count(Event::fork_failed);
    log_once("fork", fmt::format("fork: {}: worker {} will be retried", std::strerror(err), slot));
    Worker& w = workers_[slot];
    w.delay_ms = std::clamp(w.delay_ms * 2, 100, 5000);
    w.respawn_at = Clock::now() + std::chrono::milliseconds(w.delay_ms);
    if (hooks_.after_exit) hooks_.after_exit(slot);
    return false;
  }
  if (pid == 0) {
    // The worker. Never return into the manager's code, and never run its destructors.
    become_child(server_);
    server_.board.slot(slot).pid.store(::getpid());
    int status = 1;
    try {
      status = main_(slot);
    } catch (const std::exception& e) {
      log("worker {}: {}", slot, e.what());
    }
    ::_exit(status);
  }
  server_.board.count(Event::process_created);
  workers_[slot].pid = pid;
  workers_[slot].started = Clock::now();
  if (hooks_.after_fork) hooks_.after_fork(slot);
  return true;
}

void ProcessPool::reaped(pid_t pid, int status, bool stopping) {
  auto it =
      std::find_if(workers_.begin(), workers_.end(), [&](const Worker& w) { return w.pid == pid; });
  if (it == workers_.end()) return;  // not one of ours (cannot happen: we fork nothing else)
  auto slot = static_cast<std::size_t>(it - workers_.begin());
  it->pid = 0;
  server_.board.slot(slot).pid.store(0);
  server_.board.slot(slot).active.store(0);  // whatever it was serving is gone with it
  if (hooks_.after_exit) hooks_.after_exit(slot);
  if (stopping) return;

  server_.board.count(Event::worker_died);
  log("worker {} (pid {}) {}; replacing it", slot, pid, describe(status));
  // A worker that lived a second or more is replaced at once; one that died young waits.
  bool died_young = Clock::now() - it->started < std::chrono::seconds(1);
  it->delay_ms = died_young ? std::clamp(it->delay_ms * 2, 100, 5000) : 0;
  it->respawn_at = Clock::now() + std::chrono::milliseconds(it->delay_ms);
}

int ProcessPool::supervise() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
    reaped(pid, status, false);
  int next_ms = -1;
  auto now = Clock::now();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = workers_[i];
    if (w.pid != 0) continue;
    if (w.respawn_at <= now) {
      if (spawn(i)) {
        server_.board.count(Event::worker_respawned);
        continue;
      }
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(w.respawn_at - now).count();
    int ms = static_cast<int>(std::max<long>(wait, 1));
    next_ms = next_ms < 0 ? ms : std::min(next_ms, ms);
  }
  return next_ms;
}

void ProcessPool::manage() {
  PollSet set;
  int next_ms = -1;
  for (;;) {
    set.clear();
    if (server_.control) server_.control->add_to(set);
    set.wake_within(next_ms);
    set.wait();
    if (signals::stop_requested()) break;  // children leaving now are not to be replaced
    next_ms = supervise();
    if (server_.control) server_.control->handle(set);
  }
  stop(server_.config.grace_ms);
}

void ProcessPool::stop(int grace_ms) {
  std::vector<pid_t> pids;
  for (const Worker& w : workers_)
    if (w.pid != 0) pids.push_back(w.pid);
  stop_processes(pids, grace_ms, [&](pid_t pid) { reaped(pid, 0, true); });
}

void stop_processes(std::vector<pid_t> pids, int grace_ms,
                    const std::function<void(pid_t)>& on_reaped) {
  for (pid_t pid : pids)
    ::kill(pid, SIGTERM);
  auto reap = [&](pid_t pid, int flags) {
    int status;
    if (retry_eintr([&] { return ::waitpid(pid, &status, flags); }) != pid) return false;
    if (on_reaped) on_reaped(pid);
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (!pids.empty() && std::chrono::steady_clock::now() < deadline) {
    std::erase_if(pids, [&](pid_t pid) { return reap(pid, WNOHANG); });
    timespec ts{0, 5'000'000};  // 5 ms between looks: bounded, not a busy loop
    if (!pids.empty()) ::nanosleep(&ts, nullptr);
  }
  for (pid_t pid : pids) {
    log("pid {} did not stop within {} ms; killing it", pid, grace_ms);
    ::kill(pid, SIGKILL);
    reap(pid, 0);
  }
}

}  // namespace tcplab
