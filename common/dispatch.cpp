#include "dispatch.hpp"

namespace tcplab {

std::optional<DispatchPolicy> parse_dispatch(std::string_view name) {
  if (name == "least-loaded") return DispatchPolicy::least_loaded;
  if (name == "round-robin") return DispatchPolicy::round_robin;
  if (name == "first-free") return DispatchPolicy::first_free;
  return std::nullopt;
}

std::string_view dispatch_name(DispatchPolicy p) {
  switch (p) {
    case DispatchPolicy::least_loaded: return "least-loaded";
    case DispatchPolicy::round_robin: return "round-robin";
    case DispatchPolicy::first_free: return "first-free";
  }
  return "?";
}

std::optional<std::size_t> choose_worker(DispatchPolicy policy, std::span<const WorkerLoad> workers,
                                         std::size_t& cursor) {
  const std::size_t n = workers.size();
  if (n == 0) return std::nullopt;
  std::optional<std::size_t> best;
  if (policy == DispatchPolicy::first_free) {
    for (std::size_t i = 0; i < n && !best; ++i)
      if (workers[i].available && workers[i].in_hand == 0) best = i;
    return best;
  }
  // Least-loaded and round-robin both scan once round the pool from the cursor.
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (cursor + k) % n;
    if (!workers[i].available) continue;
    if (policy == DispatchPolicy::round_robin) {
      best = i;
      break;
    }
    if (!best || workers[i].in_hand < workers[*best].in_hand) best = i;
    if (workers[i].in_hand == 0) break;  // nobody has less than nothing
  }
  if (best) cursor = (*best + 1) % n;
  return best;
}

}  // namespace tcplab
