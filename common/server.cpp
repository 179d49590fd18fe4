#include "server.hpp"

#include <fmt/format.h>

#include "accounting.hpp"

namespace tcplab {

nlohmann::json final_summary(const Server& server, SummaryShape shape,
                             std::chrono::steady_clock::duration wall) {
  const Config& c = server.config;
  nlohmann::json s = snapshot(server);
  s["wall_s"] = std::chrono::duration<double>(wall).count();
  s["pooled"] = shape.pooled;
  if (shape.worker_per_connection) s["workers"] = nlohmann::json::array();
  if (!shape.pooled) s["worker_pids"] = nlohmann::json::array();
  s["config"] = {{"workers", c.workers},
                 {"ballast_mb", c.ballast_mb},
                 {"max_bytes", c.serve.max_bytes},
                 {"io_timeout_ms", c.serve.io_timeout_ms},
                 {"fault_inject", c.serve.fault_inject}};
  return s;
}

std::string format_summary(const nlohmann::json& s) {
  std::string out = fmt::format(
      "{}: {} connections, {} requests, {:.1f} MB sent in {:.2f} s\n"
      "  cpu: user {:.3f} s, sys {:.3f} s (the whole server: {} processes and {} threads created)\n"
      "  context switches: {} voluntary, {} involuntary; peak RSS {} KiB (largest process)\n",
      s["design"].get<std::string>(), s["connections"].get<std::uint64_t>(),
      s["requests"].get<std::uint64_t>(), s["bytes_sent"].get<std::uint64_t>() / 1e6,
      s["wall_s"].get<double>(), s["cpu_user_s"].get<double>(), s["cpu_sys_s"].get<double>(),
      s["processes_created"].get<std::uint64_t>(), s["threads_created"].get<std::uint64_t>(),
      s["voluntary_ctxt_switches"].get<std::uint64_t>(),
      s["involuntary_ctxt_switches"].get<std::uint64_t>(),
      s["peak_rss_max_kb"].get<std::uint64_t>());
  if (!s["workers"].empty())
    out += fmt::format("  connections per worker: {}\n",
                       fmt::join(s["workers"].get<std::vector<std::uint64_t>>(), " "));
  std::string failures;
  for (const auto* group : {&s["failures"], &s["events"]})
    for (auto& [name, n] : group->items())
      if (n.get<std::uint64_t>() > 0 && name != "process_created" && name != "thread_created")
        failures += fmt::format(" {} {},", name, n.get<std::uint64_t>());
  if (!failures.empty()) failures.pop_back();
  out += fmt::format("  failures and events:{}\n", failures.empty() ? " none" : failures);
  return out;
}

}  // namespace tcplab
