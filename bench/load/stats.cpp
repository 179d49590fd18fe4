#include "stats.hpp"

#include <algorithm>
#include <numeric>

namespace tcplab::load {

std::uint64_t Stats::failed() const {
  return std::accumulate(failures.begin(), failures.end(), std::uint64_t{0});
}

void Stats::merge(const Stats& other) {
  connect.merge(other.connect);
  ttfb.merge(other.ttfb);
  total.merge(other.total);
  total_raw.merge(other.total_raw);
  requests += other.requests;
  connections += other.connections;
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  abandoned += other.abandoned;
  scheduled += other.scheduled;
  late += other.late;
  max_late_ns = std::max(max_late_ns, other.max_late_ns);
  for (std::size_t k = 0; k < kFailureKinds; ++k)
    failures[k] += other.failures[k];
  last_done_ns = std::max(last_done_ns, other.last_done_ns);
  cpu_user_s += other.cpu_user_s;
  cpu_sys_s += other.cpu_sys_s;
}

}  // namespace tcplab::load
