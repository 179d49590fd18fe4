#include "server.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace tcplab {

namespace {

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

}  // namespace

Summary summarize(const Server& server, bool pooled, std::chrono::steady_clock::duration wall) {
  Summary s;
  s.design = server.config.design;
  s.wall_s = std::chrono::duration<double>(wall).count();
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);          // this process, all its threads
  ::getrusage(RUSAGE_CHILDREN, &children);  // every child reaped so far
  s.cpu_user_s = seconds(self.ru_utime) + seconds(children.ru_utime);
  s.cpu_sys_s = seconds(self.ru_stime) + seconds(children.ru_stime);
  const Scoreboard& b = server.board;
  s.connections = b.total_connections();
  s.requests = b.total_requests();
  s.bytes_sent = b.total_bytes();
  s.processes_created = server.processes_created;
  s.threads_created = server.threads_created;
  s.pooled = pooled;
  if (pooled || server.config.design == "iterative")
    for (std::size_t i = 0; i < b.size(); ++i) s.workers.push_back(b.slot(i).connections.load());
  return s;
}

std::string format_summary(const Summary& s, const Scoreboard& board) {
  std::string out = fmt::format(
      "{}: {} connections, {} requests, {:.1f} MB sent in {:.2f} s\n"
      "  cpu: user {:.3f} s, sys {:.3f} s (the whole server: {} processes and {} threads created)\n",
      s.design, s.connections, s.requests, s.bytes_sent / 1e6, s.wall_s, s.cpu_user_s, s.cpu_sys_s,
      s.processes_created, s.threads_created);
  if (!s.workers.empty()) out += fmt::format("  connections per worker: {}\n", fmt::join(s.workers, " "));
  std::string failures;
  for (std::size_t f = 0; f < kFailureKinds; ++f)
    if (auto n = board.total_failures(static_cast<Failure>(f)))
      failures += fmt::format(" {} {},", failure_name(static_cast<Failure>(f)), n);
  for (std::size_t e = 0; e < kEventKinds; ++e)
    if (auto n = board.events(static_cast<Event>(e)))
      failures += fmt::format(" {} {},", event_name(static_cast<Event>(e)), n);
  if (!failures.empty()) failures.pop_back();
  out += fmt::format("  failures and events:{}\n", failures.empty() ? " none" : failures);
  return out;
}

std::string summary_json(const Summary& s, const Scoreboard& board, const Config& config) {
  nlohmann::json failures = nlohmann::json::object(), events = nlohmann::json::object();
  for (std::size_t f = 0; f < kFailureKinds; ++f)
    failures[std::string(failure_name(static_cast<Failure>(f)))] = board.total_failures(static_cast<Failure>(f));
  for (std::size_t e = 0; e < kEventKinds; ++e)
    events[std::string(event_name(static_cast<Event>(e)))] = board.events(static_cast<Event>(e));
  nlohmann::json j = {
      {"design", s.design},
      {"connections", s.connections},
      {"requests", s.requests},
      {"bytes_sent", s.bytes_sent},
      {"cpu_user_s", s.cpu_user_s},
      {"cpu_sys_s", s.cpu_sys_s},
      {"wall_s", s.wall_s},
      {"pooled", s.pooled},
      {"workers", s.workers},
      {"processes_created", s.processes_created},
      {"threads_created", s.threads_created},
      {"failures", failures},
      {"events", events},
      {"config",
       {{"workers", config.workers},
        {"dispatch", dispatch_name(config.dispatch)},
        {"max_bytes", config.serve.max_bytes},
        {"io_timeout_ms", config.serve.io_timeout_ms}}},
  };
  return j.dump(2) + "\n";
}

}  // namespace tcplab
