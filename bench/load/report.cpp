#include "report.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <fmt/core.h>

namespace tcplab::load {

namespace {

double us(double ns) {
  return ns / 1000.0;
}

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
  std::vector<Row> rows{
      {"connect", &r.stats.connect}, {"ttfb", &r.stats.ttfb}, {"total", &r.stats.total}};
  if (r.options.open_loop()) rows.push_back({"total_raw", &r.stats.total_raw});
  return rows;
}

constexpr double kPercentiles[] = {50, 90, 99, 99.9, 99.99};
constexpr const char* kPercentileKeys[] = {"p50_us", "p90_us", "p99_us", "p99_9_us", "p99_99_us"};

}  // namespace

double late_fraction(const Stats& s) {
  return s.scheduled ? double(s.late) / double(s.scheduled) : 0.0;
}

void print_table(const Report& r, std::FILE* out) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  const Rates rate = rates_of(r);
  fmt::print(
      out, "tcplab-load → {}  {}, {} loop{}, {} {}{}, {} thread{}, {} request{}/conn, {} bytes\n",
      describe_address(o), o.http ? "HTTP/1.1" : "line protocol", o.open_loop() ? "open" : "closed",
      o.open_loop() ? fmt::format(" at {:g} req/s", o.rate) : "", o.clients,
      o.open_loop() ? "connection" : "client", o.clients == 1 ? "" : "s", o.threads,
      o.threads == 1 ? "" : "s", o.requests_per_conn, o.requests_per_conn == 1 ? "" : "s", o.bytes);
  fmt::print(out, "window {:.3f} s: {} requests, {} connections, {} failed, {} abandoned at end\n",
             r.seconds, s.requests, s.connections, s.failed(), s.abandoned);
  fmt::print(out, "rate   {:.1f} req/s, {:.1f} conn/s, {:.2f} MB/s in\n", rate.requests,
             rate.connections, rate.mb);
  fmt::print(out, "cpu    {:.3f} s user + {:.3f} s sys, {:.2f} µs per request (generator only)\n",
             s.cpu_user_s, s.cpu_sys_s, rate.cpu_us_per_request);
  if (o.open_loop())
    fmt::print(out,
               "late   {} of {} sends ({:.2f}%) started more than {:g} µs after their scheduled "
               "time; the latest by {:.1f} µs\n",
               s.late, s.scheduled, 100 * late_fraction(s), us(double(o.late_after.count())),
               us(double(s.max_late_ns)));
  if (!r.merged_from.empty())
    fmt::print(out, "merged {} runs; window: the longest of them\n", r.merged_from.size());
  if (s.failed()) {
    fmt::print(out, "failed");
    for (auto [name, kind] : kFailureNames)
      if (auto n = s.failures[std::size_t(kind)]) fmt::print(out, "  {} {}", name, n);
    fmt::print(out, "\n");
  }
  fmt::print(out, "\n{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "µs", "min",
             "mean", "stddev", "p50", "p90", "p99", "p99.9", "p99.99", "max");
  for (const Row& row : rows_of(r)) {
    const Histogram& h = *row.histogram;
    fmt::print(out, "{:<10} {:>9.1f} {:>9.1f} {:>9.1f}", row.name, us(double(h.min())),
               us(h.mean()), us(h.stddev()));
    for (double p : kPercentiles)
      fmt::print(out, " {:>9.1f}", us(double(h.percentile(p))));
    fmt::print(out, " {:>9.1f}\n", us(double(h.max())));
  }
  if (o.open_loop())
    fmt::print(out,
               "(total: from the scheduled start, corrected for coordinated omission; "
               "total_raw: from the actual start)\n");
}

nlohmann::json to_json(const Report& r) {
  const Options& o = r.options;
  const Stats& s = r.stats;
  const Rates rate = rates_of(r);
  using nlohmann::json;
  json failures = json::object();
  for (auto [name, kind] : kFailureNames)
    failures[std::string(name)] = s.failures[std::size_t(kind)];
  json latency = json::object();
  for (const Row& row : rows_of(r)) {
    const Histogram& h = *row.histogram;
    json entry = {{"count", h.count()},
                  {"min_us", us(double(h.min()))},
                  {"mean_us", us(h.mean())},
                  {"stddev_us", us(h.stddev())},
                  {"max_us", us(double(h.max()))}};
    for (std::size_t i = 0; i < std::size(kPercentiles); ++i)
      entry[kPercentileKeys[i]] = us(double(h.percentile(kPercentiles[i])));
    json buckets = json::array();
    for (const auto& b : h.nonempty_buckets())
      buckets.push_back({b.lo_ns, b.hi_ns, b.count});
    entry["buckets_ns"] = std::move(buckets);
    latency[row.name] = std::move(entry);
  }
  json out = {
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
        {"duration_s",
         o.duration.count() ? json(double(o.duration.count()) * 1e-9) : json(nullptr)},
        {"warmup_s", double(o.warmup.count()) * 1e-9},
        {"requests_per_conn", o.requests_per_conn},
        {"bytes", o.bytes},
        {"rate", o.open_loop() ? json(o.rate) : json(nullptr)},
        {"arrivals", o.open_loop() ? json(name_of(kArrivalNames, o.arrivals)) : json(nullptr)},
        {"seed", o.open_loop() ? json(o.seed) : json(nullptr)},
        {"max_late", o.open_loop() && o.max_late ? json(*o.max_late) : json(nullptr)},
        {"source_base", o.source_base ? json(source_address(o.source_base, 0)) : json(nullptr)},
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
  if (o.open_loop())
    out["lateness"] = {{"threshold_us", us(double(o.late_after.count()))},
                       {"scheduled", s.scheduled},
                       {"late", s.late},
                       {"late_fraction", late_fraction(s)},
                       {"max_us", us(double(s.max_late_ns))}};
  if (!r.merged_from.empty()) out["merged_from"] = r.merged_from;
  return out;
}

namespace {

std::uint64_t ns_of(const nlohmann::json& us) {
  return std::uint64_t(std::llround(us.get<double>() * 1000.0));
}

Histogram histogram_from_json(const nlohmann::json& e) {
  std::vector<Histogram::Bucket> buckets;
  for (const auto& b : e.at("buckets_ns"))
    buckets.push_back(
        {b.at(0).get<std::uint64_t>(), b.at(1).get<std::uint64_t>(), b.at(2).get<std::uint64_t>()});
  return Histogram::restore(buckets, e.at("count").get<std::uint64_t>(), ns_of(e.at("min_us")),
                            ns_of(e.at("max_us")), e.at("mean_us").get<double>() * 1000.0,
                            e.at("stddev_us").get<double>() * 1000.0);
}

Nanos seconds_or_zero(const nlohmann::json& s) {
  return s.is_null() ? Nanos(0) : Nanos(std::llround(s.get<double>() * 1e9));
}

}  // namespace

Report from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("tool", "") != "tcplab-load")
    throw std::invalid_argument("not a tcplab-load JSON file (no \"tool\": \"tcplab-load\")");
  if (j.at("schema") != 1)
    throw std::invalid_argument("schema " + j.at("schema").dump() +
                                ", but this tcplab-load reads schema 1");
  try {
    Report r;
    Options& o = r.options;
    const auto& c = j.at("config");
    o.host = c.at("host").get<std::string>();
    o.port = c.at("port").get<std::uint16_t>();
    const std::string protocol = c.at("protocol").get<std::string>();
    if (protocol != "line" && protocol != "http")
      throw std::invalid_argument("config.protocol: '" + protocol + "' is neither line nor http");
    o.http = protocol == "http";
    o.clients = c.at("clients").get<unsigned>();
    o.threads = c.at("threads").get<unsigned>();
    o.cpus = c.at("cpus").get<std::vector<int>>();
    o.source_addresses = c.at("source_addresses").get<unsigned>();
    if (c.contains("source_base") && !c["source_base"].is_null()) {
      in_addr base{};
      if (inet_pton(AF_INET, c["source_base"].get<std::string>().c_str(), &base) != 1)
        throw std::invalid_argument("config.source_base is not an IPv4 address");
      o.source_base = ntohl(base.s_addr);
    }
    o.connections = c.at("connections").is_null() ? 0 : c["connections"].get<std::uint64_t>();
    o.duration = seconds_or_zero(c.at("duration_s"));
    o.warmup = seconds_or_zero(c.at("warmup_s"));
    o.requests_per_conn = c.at("requests_per_conn").get<unsigned>();
    o.bytes = c.at("bytes").get<std::uint64_t>();
    o.timeout = std::chrono::milliseconds(c.at("timeout_ms").get<std::int64_t>());
    const bool open = c.at("mode").get<std::string>() == "open";
    if (open) {
      o.rate = c.at("rate").get<double>();
      if (!(o.rate > 0)) throw std::invalid_argument("config.rate: open loop without a rate");
      const std::string arrivals = c.at("arrivals").get<std::string>();
      const std::optional<Arrivals> kind = value_of(kArrivalNames, arrivals);
      if (!kind) throw std::invalid_argument("config.arrivals: '" + arrivals + "' is not known");
      o.arrivals = *kind;
      o.seed = c.at("seed").get<std::uint64_t>();
      if (!c.at("max_late").is_null()) o.max_late = c["max_late"].get<double>();
      const auto& l = j.at("lateness");
      o.late_after = Nanos(ns_of(l.at("threshold_us")));
      r.stats.scheduled = l.at("scheduled").get<std::uint64_t>();
      r.stats.late = l.at("late").get<std::uint64_t>();
      r.stats.max_late_ns = ns_of(l.at("max_us"));
    }
    resolve_address(o, true);  // for describe_address(); nothing is sent

    r.seconds = j.at("window_s").get<double>();
    Stats& s = r.stats;
    const auto& n = j.at("counts");
    s.requests = n.at("requests").get<std::uint64_t>();
    s.connections = n.at("connections").get<std::uint64_t>();
    for (auto [name, kind] : kFailureNames)
      s.failures[std::size_t(kind)] = n.at("failures").at(std::string(name)).get<std::uint64_t>();
    s.abandoned = n.at("abandoned").get<std::uint64_t>();
    s.bytes_in = n.at("bytes_in").get<std::uint64_t>();
    s.bytes_out = n.at("bytes_out").get<std::uint64_t>();
    s.cpu_user_s = j.at("cpu").at("user_s").get<double>();
    s.cpu_sys_s = j.at("cpu").at("sys_s").get<double>();
    const auto& latency = j.at("latency");
    s.connect = histogram_from_json(latency.at("connect"));
    s.ttfb = histogram_from_json(latency.at("ttfb"));
    s.total = histogram_from_json(latency.at("total"));
    if (open) s.total_raw = histogram_from_json(latency.at("total_raw"));
    if (j.contains("merged_from")) r.merged_from = j["merged_from"].get<std::vector<std::string>>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("a field is missing or has the wrong type (") +
                                e.what() + ")");
  }
}

void print_percentile_distribution(const Histogram& h, std::FILE* out) {
  constexpr double kScale = 1e6;  // ns to ms
  constexpr int kTicksPerHalfDistance = 5;
  fmt::print(out, "{:>12} {:>14} {:>10} {:>14}\n\n", "Value", "Percentile", "TotalCount",
             "1/(1-Percentile)");
  // HdrHistogram's PercentileIterator over our buckets: in each non-empty bucket, a line for
  // every percentile level that the count so far reaches, the level then moving on by a tick
  // that halves each time the level halves its distance to 100%; at the last bucket, one line
  // for the level reached and a last one at 100%. A line's value is the highest value of its
  // bucket (HdrHistogram's highestEquivalentValue), clamped to the exact max.
  const double total = double(h.count());
  double level = 0;
  std::uint64_t seen = 0;
  const auto line = [&](const Histogram::Bucket& b, double percent) {
    const double value = double(std::min(b.hi_ns - 1, h.max())) / kScale;
    if (percent == 100.0)
      fmt::print(out, "{:12.6f} {:2.12f} {:10d}\n", value, 1.0, seen);
    else
      fmt::print(out, "{:12.6f} {:2.12f} {:10d} {:14.2f}\n", value, percent / 100, seen,
                 1 / (1 - percent / 100));
  };
  for (const Histogram::Bucket& b : h.nonempty_buckets()) {
    seen += b.count;
    while (100.0 * double(seen) / total >= level) {
      line(b, level);
      const auto ticks =
          kTicksPerHalfDistance *
          std::int64_t(std::pow(2, std::int64_t(std::log(100 / (100 - level)) / std::log(2)) + 1));
      level += 100.0 / double(ticks);
      if (double(seen) == total) {
        line(b, 100.0);
        break;
      }
    }
  }
  fmt::print(out, "#[Mean    = {:12.6f}, StdDeviation   = {:12.6f}]\n", h.mean() / kScale,
             h.stddev() / kScale);
  fmt::print(out, "#[Max     = {:12.6f}, Total count    = {:12d}]\n", double(h.max()) / kScale,
             h.count());
  fmt::print(out, "#[Buckets = {:12d}, SubBuckets     = {:12d}]\n",
             Histogram::kBuckets / Histogram::kSub - 1, 2 * Histogram::kSub);
}

void write_hgrm(const Histogram& h, const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "w"),
                                                             std::fclose);
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  print_percentile_distribution(h, file.get());
  if (std::fflush(file.get()) != 0 || std::ferror(file.get()))
    throw std::system_error(errno, std::generic_category(), "write " + path);
}

void write_json(const Report& report, const std::string& path) {
  std::ofstream file(path);
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  file << to_json(report).dump(2) << '\n';
  if (!file.flush()) throw std::system_error(errno, std::generic_category(), "write " + path);
}

}  // namespace tcplab::load
