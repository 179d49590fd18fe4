#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tcplab::load {

std::size_t Histogram::index_of(std::uint64_t ns) {
  ns = std::min(ns, kMaxNs);
  if (ns < 2 * kSub) return ns;          // exact region
  const int e = std::bit_width(ns) - 1;  // ns in [2^e, 2^(e+1))
  const int shift = e - kSubBits;
  // Octave e starts at index (shift + 1) * kSub; within it, the top kSubBits bits after the
  // leading one pick the bucket.
  return std::size_t(shift + 1) * kSub + ((ns >> shift) - kSub);
}

std::uint64_t Histogram::lower_edge(std::size_t index) {
  if (index < 2 * kSub) return index;
  const std::uint64_t shift = index / kSub - 1;
  return (kSub + index % kSub) << shift;
}

std::uint64_t Histogram::width(std::size_t index) {
  return index < 2 * kSub ? 1 : std::uint64_t{1} << (index / kSub - 1);
}

Histogram Histogram::restore(const std::vector<Bucket>& buckets, std::uint64_t count,
                             std::uint64_t min_ns, std::uint64_t max_ns, double mean_ns,
                             double stddev_ns) {
  Histogram h;
  std::uint64_t in_buckets = 0;
  for (const Bucket& b : buckets) {
    const std::size_t i = index_of(b.lo_ns);
    if (lower_edge(i) != b.lo_ns || b.hi_ns != b.lo_ns + width(i))
      throw std::invalid_argument("[" + std::to_string(b.lo_ns) + ", " + std::to_string(b.hi_ns) +
                                  ") is not a bucket of tcplab-load's histogram");
    h.counts_[i] += b.count;
    in_buckets += b.count;
  }
  if (in_buckets != count)
    throw std::invalid_argument("the buckets hold " + std::to_string(in_buckets) +
                                " values, the count says " + std::to_string(count));
  if (count == 0) return h;
  h.count_ = count;
  h.sum_ = std::uint64_t(std::llround(mean_ns * double(count)));
  h.min_ = min_ns;
  h.max_ = max_ns;
  h.wmean_ = mean_ns;
  h.m2_ = stddev_ns * stddev_ns * double(count - 1);
  return h;
}

void Histogram::record(std::uint64_t ns) {
  ++counts_[index_of(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
  const double delta = double(ns) - wmean_;
  wmean_ += delta / double(count_);
  m2_ += delta * (double(ns) - wmean_);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i)
    counts_[i] += other.counts_[i];
  const double n1 = double(count_), n2 = double(other.count_), n = n1 + n2;
  const double delta = other.wmean_ - wmean_;
  m2_ += other.m2_ + delta * delta * n1 * n2 / n;
  wmean_ += delta * n2 / n;
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Histogram::stddev() const {
  return count_ > 1 ? std::sqrt(m2_ / double(count_ - 1)) : 0.0;
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  // The epsilon keeps 99% of 1000 at rank 990 despite 0.99 not being exact in binary.
  const double exact_rank = std::clamp(p, 0.0, 100.0) / 100.0 * double(count_);
  const auto rank = std::max<std::uint64_t>(1, std::uint64_t(std::ceil(exact_rank - 1e-9)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = lower_edge(i) + (width(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

std::vector<Histogram::Bucket> Histogram::nonempty_buckets() const {
  std::vector<Bucket> out;
  for (std::size_t i = 0; i < kBuckets; ++i)
    if (counts_[i]) out.push_back({lower_edge(i), lower_edge(i) + width(i), counts_[i]});
  return out;
}

}  // namespace tcplab::load
