#pragma once
// How prefork-fdpass's manager chooses the worker for a new connection. Pure functions over
// what the manager knows of each worker, so the policies can be tested and compared alone.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tcplab {

enum class DispatchPolicy {
  least_loaded,  // fewest connections in hand; ties go round the pool (the default)
  round_robin,   // the next worker that can take one, whatever its load
  first_free,    // the first idle worker from the start of the pool: UNP's serv05, skewed
};
inline constexpr std::array kDispatchPolicies = {
    DispatchPolicy::least_loaded, DispatchPolicy::round_robin, DispatchPolicy::first_free};

std::optional<DispatchPolicy> parse_dispatch(std::string_view name);
std::string_view dispatch_name(DispatchPolicy p);

struct WorkerLoad {
  bool available = false;     // alive, and its channel can take another descriptor
  std::uint32_t in_hand = 0;  // passed to it and not reported done yet
};

// The chosen worker, or nullopt when no worker can take the connection now (first-free: none
// idle). `cursor` is where the round begins and is advanced past the choice.
std::optional<std::size_t> choose_worker(DispatchPolicy policy, std::span<const WorkerLoad> workers,
                                         std::size_t& cursor);

}  // namespace tcplab
