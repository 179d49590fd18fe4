// Schedule: when the requests of one worker's share of an open loop are due, in order.
//
// Uniform: worker w of T is due at start + (w + kT) / rate, k = 0, 1, ...; together the workers
// send one request every 1/rate. Poisson: each worker draws exponential gaps with mean T / rate
// from a stream of its own, seeded by (--seed, w); independent Poisson processes add up to one
// Poisson process of the total rate, so the run as a whole has exponential gaps of mean 1/rate.
//
// A Schedule is a small value and deterministic: a copy replays the same times. The worker keeps
// two, one for what has fallen due and one for what it has sent, so the backlog of an
// overloaded run takes no memory.
#pragma once

#include <cstdint>

#include "options.hpp"

namespace tcplab::load {

class Schedule {
 public:
  Schedule(Arrivals arrivals, double rate, unsigned threads, unsigned index, std::uint64_t seed,
           std::uint64_t start_ns);
  std::uint64_t next() const { return next_; }  // CLOCK_MONOTONIC ns the next request is due
  void advance();

 private:
  double exponential();  // one draw of mean 1

  Arrivals arrivals_;
  double gap_ns_;  // uniform: the interval; poisson: the mean gap
  std::uint64_t first_ns_;
  std::uint64_t next_ = 0, k_ = 0;
  double at_ns_ = 0;     // poisson: time since first_ns_, summed in double so it never drifts
  std::uint64_t state_;  // splitmix64
};

}  // namespace tcplab::load
