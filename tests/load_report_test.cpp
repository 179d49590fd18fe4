// The report's two file formats read back: HdrHistogram's percentile text (--hgrm) and the JSON
// that `tcplab-load merge` adds up.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "merge.hpp"
#include "report.hpp"

namespace tcplab::load {
namespace {

std::vector<std::uint64_t> lognormal_samples(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> lognormal(std::log(60e3), 0.8);  // around 60 µs
  std::vector<std::uint64_t> out(n);
  for (auto& v : out)
    v = 1 + std::uint64_t(lognormal(rng));
  return out;
}

std::string hgrm_of(const Histogram& h) {
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_percentile_distribution(h, out);
  std::fclose(out);
  std::string result(text, size);
  std::free(text);
  return result;
}

struct HgrmLine {
  double value_ms, percentile;
  std::uint64_t total;
};

std::vector<HgrmLine> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::vector<HgrmLine> lines;
  while (std::getline(in, line)) {
    HgrmLine l{};
    unsigned long long total = 0;
    if (std::sscanf(line.c_str(), "%lf %lf %llu", &l.value_ms, &l.percentile, &total) == 3) {
      l.total = total;
      lines.push_back(l);
    }
  }
  return lines;
}

TEST(LoadHgrm, HdrHistogramsLayoutTicksAndFooter) {
  Histogram h;
  for (std::uint64_t v : lognormal_samples(20'000, 3))
    h.record(v);
  const std::string text = hgrm_of(h);
  EXPECT_EQ(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 0), 0u)
      << text.substr(0, 80);
  const auto lines = lines_of(text);
  ASSERT_GT(lines.size(), 40u);
  // Levels 0, 10 ... 50 in steps of 10, then 55 ... 75 in steps of 5, then 77.5: five ticks in
  // each half of the distance left to 100%.
  const double first[] = {0, .1, .2, .3, .4, .5, .55, .6, .65, .7, .75, .775, .8};
  for (std::size_t i = 0; i < std::size(first); ++i)
    EXPECT_DOUBLE_EQ(lines[i].percentile, first[i]) << i;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_GE(lines[i].value_ms, lines[i - 1].value_ms);
    EXPECT_GE(lines[i].total, lines[i - 1].total);
  }
  EXPECT_EQ(lines.back().percentile, 1.0);
  EXPECT_EQ(lines.back().total, 20'000u);
  EXPECT_NEAR(lines.back().value_ms, double(h.max()) / 1e6, 1e-6);
  EXPECT_GE(lines.front().value_ms, double(h.min()) / 1e6);
  // The last line has no 1/(1-Percentile), as HdrHistogram prints it; the others have.
  EXPECT_NE(text.find(fmt::format("{:12.6f} 1.000000000000      20000\n#[Mean    = ",
                                  double(h.max()) / 1e6)),
            std::string::npos);
  EXPECT_NE(text.find(fmt::format("#[Max     = {:12.6f}, Total count    = {:12d}]\n",
                                  double(h.max()) / 1e6, 20000)),
            std::string::npos);
  EXPECT_NE(text.find("#[Buckets =           29, SubBuckets     =          256]\n"),
            std::string::npos);
}

TEST(LoadHgrm, AnEmptyHistogramHasOnlyTheHeaderAndFooter) {
  const std::string text = hgrm_of(Histogram{});
  EXPECT_TRUE(lines_of(text).empty());
  EXPECT_NE(text.find("Total count    =            0]"), std::string::npos) << text;
}

Report closed_run(const std::vector<std::uint64_t>& samples, double seconds) {
  Report r;
  r.options.port = 9000;
  resolve_address(r.options, false);
  r.options.clients = 5;
  r.options.connections = samples.size();
  r.seconds = seconds;
  for (std::uint64_t v : samples) {
    r.stats.total.record(v);
    r.stats.ttfb.record(v / 2);
    r.stats.connect.record(v / 4);
  }
  r.stats.requests = r.stats.connections = samples.size();
  r.stats.bytes_in = samples.size() * 4000;
  r.stats.failures[std::size_t(Failure::reset)] = 3;
  r.stats.cpu_user_s = seconds / 10;
  return r;
}

// Without stddev_us, which the round trip through JSON may change in its last digit.
nlohmann::json without_stddev(nlohmann::json j) {
  for (auto& [name, entry] : j["latency"].items())
    entry.erase("stddev_us");
  return j;
}

TEST(LoadMerge, ReadingTheJsonBackGivesTheSameJson) {
  const Report r = closed_run(lognormal_samples(5000, 1), 2.0);
  const nlohmann::json j = to_json(r);
  const nlohmann::json again = to_json(from_json(j));
  EXPECT_EQ(without_stddev(again), without_stddev(j));
  EXPECT_NEAR(again["latency"]["total"]["stddev_us"].get<double>(),
              j["latency"]["total"]["stddev_us"].get<double>(), 1e-9);
}

// Two runs over a split sample set, written as JSON, read back and merged, against one run over
// all the samples: buckets add, so the percentiles are equal, not merely close.
TEST(LoadMerge, TwoRunsMergeToOneRunOverBothSampleSets) {
  const auto samples = lognormal_samples(60'000, 2);
  std::vector<std::uint64_t> a, b;
  for (std::size_t i = 0; i < samples.size(); ++i)
    (i % 3 ? a : b).push_back(samples[i]);
  const Report whole = closed_run(samples, 3.0);
  const Report merged =
      merge({from_json(to_json(closed_run(a, 3.0))), from_json(to_json(closed_run(b, 2.5)))},
            {"a.json", "b.json"});
  const nlohmann::json w = to_json(whole), m = to_json(merged);
  for (const char* kind : {"connect", "ttfb", "total"}) {
    for (const char* key : {"count", "min_us", "max_us", "p50_us", "p90_us", "p99_us", "p99_9_us",
                            "p99_99_us", "buckets_ns"})
      EXPECT_EQ(m["latency"][kind][key], w["latency"][kind][key]) << kind << " " << key;
    for (const char* key : {"mean_us", "stddev_us"})
      EXPECT_NEAR(m["latency"][kind][key].get<double>(), w["latency"][kind][key].get<double>(),
                  1e-9 * w["latency"][kind][key].get<double>())
          << kind << " " << key;
  }
  EXPECT_EQ(m["counts"]["requests"], 60'000);
  EXPECT_EQ(m["counts"]["failures"]["reset"], 6);
  EXPECT_EQ(m["window_s"], 3.0);  // the longest window, not the sum
  EXPECT_DOUBLE_EQ(m["rates"]["requests_per_s"].get<double>(), 60'000 / 3.0);
  EXPECT_EQ(m["config"]["clients"], 10);
  EXPECT_EQ(m["config"]["connections"], 60'000);
  EXPECT_EQ(m["merged_from"], (nlohmann::json{"a.json", "b.json"}));
  EXPECT_DOUBLE_EQ(m["cpu"]["user_s"].get<double>(), 0.3 + 0.25);
}

TEST(LoadMerge, RunsOfDifferentWorkloadsAreRefused) {
  const Report line = closed_run(lognormal_samples(100, 1), 1.0);
  Report http = line, bigger = line;
  http.options.http = true;
  bigger.options.bytes = 100;
  const auto message = [&](const Report& other) {
    try {
      merge({line, other}, {"a.json", "b.json"});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("merged");
  };
  EXPECT_EQ(message(http),
            "a.json and b.json differ in protocol (line and http): they measured "
            "different things and cannot be added up");
  EXPECT_NE(message(bigger).find("differ in bytes (4000 and 100)"), std::string::npos);
}

TEST(LoadMerge, OpenLoopLatenessAddsUp) {
  Report a = closed_run(lognormal_samples(100, 1), 1.0);
  a.options.rate = 100;
  a.stats.total_raw = a.stats.total;
  a.stats.scheduled = 100;
  a.stats.late = 3;
  a.stats.max_late_ns = 5'000'000;
  Report b = a;
  b.stats.late = 7;
  b.stats.max_late_ns = 2'000'000;
  const nlohmann::json m =
      to_json(merge({from_json(to_json(a)), from_json(to_json(b))}, {"a.json", "b.json"}));
  EXPECT_EQ(m["lateness"]["scheduled"], 200);
  EXPECT_EQ(m["lateness"]["late"], 10);
  EXPECT_DOUBLE_EQ(m["lateness"]["late_fraction"].get<double>(), 0.05);
  EXPECT_EQ(m["lateness"]["max_us"], 5000.0);
  EXPECT_EQ(m["config"]["rate"], 200.0);
  Report later = a;
  later.options.late_after = std::chrono::milliseconds(2);
  EXPECT_THROW(merge({a, later}, {"a.json", "b.json"}), std::invalid_argument);
}

TEST(LoadMerge, FromJsonRefusesAnotherToolOrSchema) {
  nlohmann::json j = to_json(closed_run(lognormal_samples(10, 1), 1.0));
  j["schema"] = 2;
  EXPECT_THROW(from_json(j), std::invalid_argument);
  j["schema"] = 1;
  j["counts"].erase("requests");
  EXPECT_THROW(from_json(j), std::invalid_argument);
  EXPECT_THROW(from_json(nlohmann::json{{"tool", "wrk"}}), std::invalid_argument);
}

}  // namespace
}  // namespace tcplab::load
