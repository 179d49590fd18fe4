// Histogram: log-linear latency histogram in nanoseconds, the shape HdrHistogram uses.
//
// Values below 2*kSub ns are counted exactly; above, every power of two is cut into kSub
// equal buckets, so a bucket is at most 1/kSub = 0.78% of its lower edge wide. Percentiles
// report the bucket's midpoint, clamped to the exact min and max: relative error <= 0.4%,
// inside the 1% we promise, from 1 ns to kMaxNs (values above are counted in the top bucket).
// Count, min, max and mean are exact; stddev is Welford's, merged with Chan's formula.
// The buckets are HdrHistogram's for values 1 ns to 64 s at 2 significant digits (256 sub-buckets,
// 29 buckets), which is what report.cpp's --hgrm output says it is.
//
// Not thread-safe: each worker thread owns its histograms and they are merged after join.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace tcplab::load {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;  // 128 per octave
  static constexpr std::uint64_t kMaxNs = 64'000'000'000;              // 64 s > 60 s
  static constexpr std::size_t kBuckets = 3840;  // index_of(kMaxNs) < kBuckets
  static std::size_t index_of(std::uint64_t ns);
  static std::uint64_t lower_edge(std::size_t index);  // smallest value in the bucket
  static std::uint64_t width(std::size_t index);       // number of values in the bucket

  void record(std::uint64_t ns);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
  double stddev() const;
  // Nearest-rank percentile, p in [0, 100]: the value with rank ceil(p/100 * count).
  std::uint64_t percentile(double p) const;

  struct Bucket {
    std::uint64_t lo_ns, hi_ns, count;  // values in [lo_ns, hi_ns)
  };
  std::vector<Bucket> nonempty_buckets() const;

  // Rebuilds a histogram from its non-empty buckets and exact summary as report.cpp writes them,
  // so that runs read back from JSON merge as if they had been recorded in one process.
  // Throws std::invalid_argument for a bucket that is not one of ours or counts that disagree.
  static Histogram restore(const std::vector<Bucket>& buckets, std::uint64_t count,
                           std::uint64_t min_ns, std::uint64_t max_ns, double mean_ns,
                           double stddev_ns);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0, sum_ = 0, min_ = UINT64_MAX, max_ = 0;
  double wmean_ = 0, m2_ = 0;  // Welford's running mean and sum of squared deviations
};

}  // namespace tcplab::load
