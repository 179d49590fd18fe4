// Histogram against exact percentiles of sorted synthetic data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "histogram.hpp"

namespace tcplab::load {
namespace {

constexpr double kPercentiles[] = {0, 1, 10, 50, 90, 99, 99.9, 99.99, 100};

// Nearest rank, as Histogram::percentile documents it.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  const double rank = std::ceil(p / 100.0 * double(sorted.size()) - 1e-9);
  return sorted[std::size_t(std::max(1.0, rank)) - 1];
}

void expect_matches(const std::vector<std::uint64_t>& data, const Histogram& h) {
  std::vector<std::uint64_t> sorted = data;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), sorted.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  const double sum = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  const double mean = sum / double(sorted.size());
  EXPECT_NEAR(h.mean(), mean, mean * 1e-12);
  double squares = 0;
  for (auto v : sorted)
    squares += (double(v) - mean) * (double(v) - mean);
  const double stddev = std::sqrt(squares / double(sorted.size() - 1));
  EXPECT_NEAR(h.stddev(), stddev, stddev * 1e-6 + 1e-9);
  for (double p : kPercentiles) {
    const double exact = double(exact_percentile(sorted, p));
    EXPECT_LE(std::abs(double(h.percentile(p)) - exact), exact * 0.01) << "p" << p;
  }
}

std::vector<std::uint64_t> generate(const char* shape, std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> out(n);
  const std::string s = shape;
  std::uniform_real_distribution<double> log_range(std::log(1e3), std::log(60e9));  // 1 µs..60 s
  std::exponential_distribution<double> expo(1.0 / 200e3);                          // mean 200 µs
  std::lognormal_distribution<double> lognormal(std::log(50e3), 1.0);
  std::uniform_int_distribution<std::uint64_t> small(0, 300);
  std::bernoulli_distribution slow(0.02);
  for (auto& v : out) {
    if (s == "log-uniform")
      v = std::uint64_t(std::exp(log_range(rng)));
    else if (s == "exponential")
      v = 1000 + std::uint64_t(expo(rng));
    else if (s == "lognormal")
      v = std::uint64_t(lognormal(rng));
    else if (s == "bimodal")
      v = slow(rng) ? 500'000'000 + small(rng) * 1000 : 40'000 + small(rng);
    else if (s == "small")
      v = small(rng);  // the exact region
    else
      v = 123'456;  // constant
  }
  return out;
}

class HistogramShapes : public ::testing::TestWithParam<const char*> {};

TEST_P(HistogramShapes, PercentilesWithinOnePercentOfExact) {
  const auto data = generate(GetParam(), 200'000, 42);
  Histogram h;
  for (auto v : data)
    h.record(v);
  expect_matches(data, h);
}

TEST_P(HistogramShapes, MergeOfPartsEqualsTheWhole) {
  const auto data = generate(GetParam(), 90'000, 7);
  Histogram whole, parts[3];
  for (std::size_t i = 0; i < data.size(); ++i) {
    whole.record(data[i]);
    parts[i % 3].record(data[i]);
  }
  Histogram merged;
  for (auto& part : parts)
    merged.merge(part);
  expect_matches(data, merged);
  for (double p : kPercentiles)
    EXPECT_EQ(merged.percentile(p), whole.percentile(p));
  EXPECT_NEAR(merged.stddev(), whole.stddev(), whole.stddev() * 1e-9 + 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Load, HistogramShapes,
                         ::testing::Values("log-uniform", "exponential", "lognormal", "bimodal",
                                           "small", "constant"));

TEST(LoadHistogram, BucketsAreNarrowerThanOnePercentFromOneMicrosecondToSixtySeconds) {
  for (std::uint64_t v = 1000; v <= 60'000'000'000; v += 1 + v / 997) {
    const std::size_t i = Histogram::index_of(v);
    ASSERT_LE(Histogram::lower_edge(i), v);
    ASSERT_LT(v, Histogram::lower_edge(i) + Histogram::width(i));
    ASSERT_LE(double(Histogram::width(i)), 0.01 * double(Histogram::lower_edge(i)));
  }
}

TEST(LoadHistogram, EmptyAndHugeValues) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.record(100'000'000'000);  // 100 s: past the top bucket, but max stays exact
  EXPECT_EQ(h.max(), 100'000'000'000u);
  EXPECT_EQ(h.percentile(50), 100'000'000'000u);  // clamped to [min, max]
  const auto buckets = h.nonempty_buckets();
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].count, 1u);
}

}  // namespace
}  // namespace tcplab::load
