#include "accounting.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace tcplab {

namespace {

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

void add_rusage(Usage& u, const rusage& r) {
  u.cpu_user_s += seconds(r.ru_utime);
  u.cpu_sys_s += seconds(r.ru_stime);
  u.voluntary_ctxt += static_cast<std::uint64_t>(r.ru_nvcsw);
  u.involuntary_ctxt += static_cast<std::uint64_t>(r.ru_nivcsw);
}

// Splits a live process's CPU time `total` into user and sys in the proportion of its tick
// samples, never letting either go below what an earlier snapshot reported for that process
// (the kernel's cputime_adjust() does the same), so a window's difference is never negative.
std::pair<double, double> split_monotonic(pid_t pid, double total, double utime_ticks,
                                          double stime_ticks) {
  static std::mutex mutex;
  static std::map<pid_t, std::pair<double, double>> previous;  // pid -> (user, sys)
  double sys =
      utime_ticks + stime_ticks > 0 ? total * stime_ticks / (utime_ticks + stime_ticks) : 0;
  std::lock_guard lock(mutex);
  auto& [prev_user, prev_sys] = previous[pid];
  sys = std::clamp(sys, prev_sys, std::max(prev_sys, total - prev_user));
  double user = std::max(total - sys, prev_user);
  prev_user = user;
  prev_sys = sys;
  return {user, sys};
}

// One live worker process, from outside; false if it is gone.
bool add_process(Usage& u, pid_t pid) {
  clockid_t clock;
  timespec ts{};
  if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) return false;
  double total = static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;

  std::optional<StatTicks> ticks = stat_ticks(pid);
  if (!ticks) return false;
  auto [user, sys] = split_monotonic(pid, total, ticks->utime, ticks->stime);
  u.cpu_user_s += user;
  u.cpu_sys_s += sys;

  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::uint64_t rss_kb = 0;
  while (status >> key) {
    std::uint64_t value = 0;
    if (key == "VmHWM:" && status >> value)
      rss_kb = value;
    else if (key == "voluntary_ctxt_switches:" && status >> value)
      u.voluntary_ctxt += value;
    else if (key == "nonvoluntary_ctxt_switches:" && status >> value)
      u.involuntary_ctxt += value;
  }
  u.peak_rss_max_kb = std::max(u.peak_rss_max_kb, rss_kb);
  u.peak_rss_sum_kb += rss_kb;
  ++u.live_processes;
  return true;
}

}  // namespace

std::optional<StatTicks> stat_ticks(pid_t pid) {
  // Fields counted after the ")" that ends the command name (which may itself hold spaces).
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  StatTicks ticks;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) ticks.utime = std::stod(field);
    if (i == 15) ticks.stime = std::stod(field);
  }
  return ticks;
}

Usage measure_usage(const Scoreboard& board) {
  Usage u;
  rusage self{}, children{};
  for (std::size_t i = 0; i < board.size(); ++i)
    if (pid_t pid = board.slot(i).pid.load(); pid > 0 && pid != ::getpid()) add_process(u, pid);
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  add_rusage(u, self);
  add_rusage(u, children);
  auto self_kb = static_cast<std::uint64_t>(self.ru_maxrss);
  u.peak_rss_sum_kb += self_kb;
  u.peak_rss_max_kb =
      std::max({u.peak_rss_max_kb, self_kb, static_cast<std::uint64_t>(children.ru_maxrss)});
  ++u.live_processes;
  return u;
}

nlohmann::json snapshot(const Server& server) {
  const Scoreboard& b = server.board;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  Usage u = measure_usage(b);
  nlohmann::json workers = nlohmann::json::array(), worker_pids = nlohmann::json::array(),
                 failures = nlohmann::json::object(), events = nlohmann::json::object();
  std::uint64_t active = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    workers.push_back(b.slot(i).connections.load());
    worker_pids.push_back(b.slot(i).pid.load());
    active += b.slot(i).active.load(std::memory_order_acquire);
  }
  for (std::size_t f = 0; f < kFailureKinds; ++f)
    failures[std::string(failure_name(static_cast<Failure>(f)))] =
        b.total_failures(static_cast<Failure>(f));
  for (std::size_t e = 0; e < kEventKinds; ++e)
    events[std::string(event_name(static_cast<Event>(e)))] = b.events(static_cast<Event>(e));
  return {
      {"design", server.config.design},
      {"monotonic_s", static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9},
      {"cpu_user_s", u.cpu_user_s},
      {"cpu_sys_s", u.cpu_sys_s},
      {"voluntary_ctxt_switches", u.voluntary_ctxt},
      {"involuntary_ctxt_switches", u.involuntary_ctxt},
      {"peak_rss_max_kb", u.peak_rss_max_kb},
      {"peak_rss_sum_kb", u.peak_rss_sum_kb},
      {"live_processes", u.live_processes},
      {"processes_created", b.events(Event::process_created)},
      {"threads_created", b.events(Event::thread_created)},
      {"connections", b.total_connections()},
      {"active", active},
      {"requests", b.total_requests()},
      {"bytes_sent", b.total_bytes()},
      {"workers", workers},
      {"worker_pids", worker_pids},
      {"failures", failures},
      {"events", events},
  };
}

}  // namespace tcplab
