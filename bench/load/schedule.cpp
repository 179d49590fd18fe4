#include "schedule.hpp"

#include <cmath>

namespace tcplab::load {

namespace {

// splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014): one
// word of state, so a Schedule copies cheaply, and the same output on every platform, which
// std::exponential_distribution does not promise.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

}  // namespace

Schedule::Schedule(Arrivals arrivals, double rate, unsigned threads, unsigned index,
                   std::uint64_t seed, std::uint64_t start_ns)
    : arrivals_(arrivals), gap_ns_(1e9 * threads / rate), first_ns_(start_ns), state_(seed) {
  if (arrivals_ == Arrivals::uniform) {
    first_ns_ = start_ns + std::uint64_t(1e9 * index / rate);
    next_ = first_ns_;
    return;
  }
  // Worker w starts its stream at a point picked by hashing (seed, w): the streams of two
  // workers are then far apart in splitmix64's one cycle of 2^64 and never overlap in a run.
  std::uint64_t mix = seed ^ (std::uint64_t(index) + 1) * 0xd6e8feb86659fd93;
  state_ = splitmix64(mix);
  at_ns_ = exponential() * gap_ns_;  // memoryless: the first arrival is one gap after start
  next_ = first_ns_ + std::uint64_t(at_ns_);
}

double Schedule::exponential() {
  // u in (0, 1], 53 random bits; -log(u) is exponential with mean 1 (inverse transform).
  const double u = double((splitmix64(state_) >> 11) + 1) * 0x1p-53;
  return -std::log(u);
}

void Schedule::advance() {
  if (arrivals_ == Arrivals::uniform) {
    next_ = first_ns_ + std::uint64_t(double(++k_) * gap_ns_);
    return;
  }
  at_ns_ += exponential() * gap_ns_;
  next_ = first_ns_ + std::uint64_t(at_ns_);
}

}  // namespace tcplab::load
