#include "report.hpp"

#include <cerrno>
#include <fstream>
#include <system_error>

#include <fmt/core.h>

namespace tcplab::load {

namespace {

double us(double ns) { return ns / 1000.0; }

struct Rates {
  double requests, connections, mb, cpu_us_per_request;
};

Rates rates_of(const Report& r) {
  const Stats& s = r.stats;
  const double secs = r.seconds > 0 ? r.seconds : 1;
  return {double(s.requests) / secs, double(s.connections) / secs, double(s.bytes_in) / 1e6 / secs,
          s.requests ? (s.cpu_user_s + s.cpu_sys_s) * 1e6 / double(s.requests) : 0};
}

// Rows of the latency table, in the order printed and named as in the JSON.
struct Row {
  const char* name;
  const Histogram* histogram;
};

std::vector<Row> rows_of(const Report& r) {
  std::vector<Row> rows{{"connect", &r.stats.connect}, {"ttfb", &r.stats.ttfb},
                        {"total", &r.stats.total}};
  if (r.options.open_loop()) rows.push_back({"total_raw", &r.stats.total_raw});
  return rows;
}

constexpr double kPercentiles[] = {50, 90, 99, 99.9, 99.99};
constexpr const char* kPercentileKeys[] = {"p50_us", "p90_us", "p99_us", "p99_9_us", "p99_99_us"};

}  // namespace

void print_table(const Report& r, std::FILE* out) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  const Rates rate = rates_of(r);
  fmt::print(out, "tcplab-load → {}  {}, {} loop{}, {} {}{}, {} thread{}, {} request{}/conn, {} bytes\n",
             describe_address(o), o.http ? "HTTP/1.1" : "line protocol",
             o.open_loop() ? "open" : "closed",
             o.open_loop() ? fmt::format(" at {:g} req/s", o.rate) : "", o.clients,
             o.open_loop() ? "connection" : "client", o.clients == 1 ? "" : "s", o.threads,
             o.threads == 1 ? "" : "s",
             o.requests_per_conn, o.requests_per_conn == 1 ? "" : "s", o.bytes);
  fmt::print(out, "window {:.3f} s: {} requests, {} connections, {} failed, {} abandoned at end\n",
             r.seconds, s.requests, s.connections, s.failed(), s.abandoned);
  fmt::print(out, "rate   {:.1f} req/s, {:.1f} conn/s, {:.2f} MB/s in\n", rate.requests,
             rate.connections, rate.mb);
  fmt::print(out, "cpu    {:.3f} s user + {:.3f} s sys, {:.2f} µs per request (generator only)\n",
             s.cpu_user_s, s.cpu_sys_s, rate.cpu_us_per_request);
  if (s.failed()) {
    fmt::print(out, "failed");
    for (std::size_t k = 0; k < kFailureKinds; ++k)
      if (s.failures[k]) fmt::print(out, "  {} {}", kFailureNames[k], s.failures[k]);
    fmt::print(out, "\n");
  }
  fmt::print(out, "\n{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "µs", "min",
             "mean", "stddev", "p50", "p90", "p99", "p99.9", "p99.99", "max");
  for (const Row& row : rows_of(r)) {
    const Histogram& h = *row.histogram;
    fmt::print(out, "{:<10} {:>9.1f} {:>9.1f} {:>9.1f}", row.name, us(double(h.min())),
               us(h.mean()), us(h.stddev()));
    for (double p : kPercentiles) fmt::print(out, " {:>9.1f}", us(double(h.percentile(p))));
    fmt::print(out, " {:>9.1f}\n", us(double(h.max())));
  }
  if (o.open_loop())
    fmt::print(out, "(total: from the scheduled start, corrected for coordinated omission; "
                    "total_raw: from the actual start)\n");
}

nlohmann::json to_json(const Report& r) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  const Rates rate = rates_of(r);
  using nlohmann::json;
  json failures = json::object();
  for (std::size_t k = 0; k < kFailureKinds; ++k) failures[std::string(kFailureNames[k])] = s.failures[k];
  json latency = json::object();
  for (const Row& row : rows_of(r)) {
    const Histogram& h = *row.histogram;
    json entry = {{"count", h.count()},           {"min_us", us(double(h.min()))},
                  {"mean_us", us(h.mean())},      {"stddev_us", us(h.stddev())},
                  {"max_us", us(double(h.max()))}};
    for (std::size_t i = 0; i < std::size(kPercentiles); ++i)
      entry[kPercentileKeys[i]] = us(double(h.percentile(kPercentiles[i])));
    json buckets = json::array();
    for (const auto& b : h.nonempty_buckets()) buckets.push_back({b.lo_ns, b.hi_ns, b.count});
    entry["buckets_ns"] = std::move(buckets);
    latency[row.name] = std::move(entry);
  }
  return {
      {"tool", "tcplab-load"},
      {"schema", 1},
      {"config",
       {{"host", o.host},
        {"port", o.port},
        {"protocol", o.http ? "http" : "line"},
        {"mode", o.open_loop() ? "open" : "closed"},
        {"clients", o.clients},
        {"threads", o.threads},
        {"cpus", o.cpus},
        {"source_addresses", o.source_addresses},
        {"connections", o.connections ? json(o.connections) : json(nullptr)},
        {"duration_s", o.duration.count() ? json(double(o.duration.count()) * 1e-9) : json(nullptr)},
        {"warmup_s", double(o.warmup.count()) * 1e-9},
        {"requests_per_conn", o.requests_per_conn},
        {"bytes", o.bytes},
        {"rate", o.open_loop() ? json(o.rate) : json(nullptr)},
        {"timeout_ms", o.timeout.count() / 1'000'000}}},
      {"window_s", r.seconds},
      {"counts",
       {{"requests", s.requests},
        {"connections", s.connections},
        {"failed", s.failed()},
        {"failures", failures},
        {"abandoned", s.abandoned},
        {"bytes_in", s.bytes_in},
        {"bytes_out", s.bytes_out}}},
      {"rates",
       {{"requests_per_s", rate.requests},
        {"connections_per_s", rate.connections},
        {"mb_per_s", rate.mb}}},
      {"cpu",
       {{"user_s", s.cpu_user_s},
        {"sys_s", s.cpu_sys_s},
        {"us_per_request", rate.cpu_us_per_request}}},
      {"latency", latency},
  };
}

void write_json(const Report& report, const std::string& path) {
  std::ofstream file(path);
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  file << to_json(report).dump(2) << '\n';
  if (!file.flush()) throw std::system_error(errno, std::generic_category(), "write " + path);
}

}  // namespace tcplab::load
