#pragma once
// Test support for the end-to-end tests: the designs (from the linked table,
// paradigms/designs.cpp), a good request and its check, a --stats-json file, the descriptors
// of a server and its children, and a server's CPU time from /proc.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accounting.hpp"
#include "client.hpp"
#include "designs.hpp"
#include "server_process.hpp"

namespace tcplab::test {

// A design's row of the table; a name the table lacks is the test's own mistake.
inline const tcplab::Design& design_row(const std::string& name) {
  const tcplab::Design* d = tcplab::find_design(name);
  if (d == nullptr) throw std::invalid_argument("no design named " + name);
  return *d;
}

// The names of the designs whose row passes `keep`, in the table's order: a design added to
// the table is tested by every test that takes its kind.
template <class Keep>
std::vector<std::string> designs_where(Keep keep) {
  std::vector<std::string> names;
  for (const tcplab::Design& d : tcplab::designs())
    if (keep(d)) names.emplace_back(d.name);
  return names;
}
inline std::vector<std::string> all_designs() {
  return designs_where([](const tcplab::Design&) { return true; });
}

// Skips the test, with the reason, where `design` cannot run on this machine (an io_uring design
// where io_uring is disabled, blocked by seccomp or too old). Call it from SetUp(): GoogleTest
// then skips the body. Where the design can run, nothing is skipped.
inline void skip_if_unavailable(const std::string& design) {
  const tcplab::Design& d = design_row(design);
  if (!d.available()) GTEST_SKIP() << design << " cannot run here: " << d.unavailable_reason();
}

// A test over the designs, by name: skipped where its design cannot run (above).
class DesignTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { skip_if_unavailable(GetParam()); }
};

// Designs whose workers are processes: a crash ends one process, not the server.
inline bool worker_processes(const std::string& design) {
  return design_row(design).processes();
}

// GoogleTest parameter names: letters, digits and '_'.
inline std::string design_param_name(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// One connection asking for n bytes on the line protocol: exactly the n bytes of the pattern
// come back, then EOF once the client has closed its side.
inline ::testing::AssertionResult good_request(
    std::uint16_t port, std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  Client c(port, limit);
  if (!c) return ::testing::AssertionFailure() << "connect: " << c.last_error_text();
  if (IoStatus s = c.send(std::to_string(n) + "\n", limit); s != IoStatus::ok)
    return ::testing::AssertionFailure() << "send: " << s << " " << c.last_error_text();
  c.shutdown_write();
  Received r = c.read_to_eof(limit);
  if (r.status != IoStatus::ok)
    return ::testing::AssertionFailure() << "read: " << r.status << " " << c.last_error_text()
                                         << " after " << r.data.size() << " bytes";
  if (r.data != expected_body(n))
    return ::testing::AssertionFailure() << "got " << r.data.size() << " bytes, expected " << n;
  return ::testing::AssertionSuccess();
}

// A --stats-json file, removed when the test ends.
class StatsFile {
 public:
  StatsFile() {
    static std::atomic<int> next{0};
    path_ = (std::filesystem::path(::testing::TempDir()) /
             ("tcplab_e2e_" + std::to_string(::getpid()) + "_" + std::to_string(next++) + ".json"))
                .string();
  }
  ~StatsFile() { std::filesystem::remove(path_); }
  StatsFile(const StatsFile&) = delete;
  StatsFile& operator=(const StatsFile&) = delete;

  const std::string& path() const { return path_; }
  // The file as JSON; null if it is missing or does not parse.
  nlohmann::json read() const {
    std::ifstream file(path_);
    return nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  }
  // Connections served by each worker of the pool; empty if the summary has no such list.
  std::vector<std::uint64_t> per_worker() const {
    nlohmann::json stats = read();
    return stats.contains("workers") ? stats["workers"].get<std::vector<std::uint64_t>>()
                                     : std::vector<std::uint64_t>{};
  }

 private:
  std::string path_;
};

// A pool whose worker 0 serves nothing (--stall-worker 0): starts `server_args` (the design and
// its options; the stall, --grace-ms 500 and --stats-json to `stats` are added), makes `n`
// requests and returns how many got no answer within 300 ms; the server must stop with 0.
inline std::size_t unanswered_with_worker_0_stalled(std::vector<std::string> server_args, int n,
                                                    const StatsFile& stats) {
  using namespace std::chrono_literals;
  for (std::string a : {"--stall-worker", "0", "--grace-ms", "500", "--stats-json"})
    server_args.push_back(a);
  server_args.push_back(stats.path());
  ServerProcess server(server_args);
  std::size_t lost = 0;
  for (int i = 0; i < n; ++i)
    lost += good_request(server.port(), 10, 300ms) ? 0 : 1;
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
  return lost;
}

// Open descriptors of the server and of each of its children.
using FdCounts = std::map<pid_t, int>;
inline FdCounts server_fd_counts(pid_t server) {
  FdCounts counts{{server, open_fd_count(server)}};
  for (pid_t kid : child_pids(server))
    counts[kid] = open_fd_count(kid);
  return counts;
}
inline int total_fds(const FdCounts& counts) {
  int n = 0;
  for (auto [pid, fds] : counts)
    n += fds;
  return n;
}
inline std::string show_fds(const FdCounts& counts) {
  std::string out;
  for (auto [pid, n] : counts)
    out += std::to_string(pid) + ":" + std::to_string(n) + " ";
  return out;
}

// CPU seconds (user + sys, every thread) of `pid` so far, from /proc/PID/stat; -1 if it is gone.
inline double cpu_seconds(pid_t pid) {
  std::optional<tcplab::StatTicks> t = tcplab::stat_ticks(pid);
  return t ? (t->utime + t->stime) / static_cast<double>(::sysconf(_SC_CLK_TCK)) : -1;
}

// The server and its live children.
inline double tree_cpu_seconds(pid_t server) {
  double total = std::max(0.0, cpu_seconds(server));
  for (pid_t kid : child_pids(server))
    total += std::max(0.0, cpu_seconds(kid));
  return total;
}

}  // namespace tcplab::test
