#pragma once
// How prefork-fdpass's manager chooses the worker for a new connection. Pure functions over
// what the manager knows of each worker, so the policies can be tested and compared alone.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "enum_names.hpp"

struct sockaddr;

namespace tcplab {

enum class DispatchPolicy {
  least_loaded,  // fewest connections in hand; ties go round the pool (the default)
  round_robin,   // the next worker that can take one, whatever its load
  first_free,    // the first idle worker from the start of the pool: UNP's serv05, skewed
};
inline constexpr std::array kDispatchPolicies = {
    DispatchPolicy::least_loaded, DispatchPolicy::round_robin, DispatchPolicy::first_free};

inline constexpr EnumName<DispatchPolicy> kDispatchNames[] = {
    {"least-loaded", DispatchPolicy::least_loaded},
    {"round-robin", DispatchPolicy::round_robin},
    {"first-free", DispatchPolicy::first_free}};
inline std::optional<DispatchPolicy> parse_dispatch(std::string_view name) {
  return value_of(kDispatchNames, name);
}
inline std::string_view dispatch_name(DispatchPolicy p) {
  return name_of(kDispatchNames, p);
}

struct WorkerLoad {
  bool available = false;     // alive, and its channel can take another descriptor
  std::uint32_t in_hand = 0;  // passed to it and not reported done yet
};

// Whether some worker is alive with nothing in hand.
bool any_idle(std::span<const WorkerLoad> workers);

// The chosen worker, or nullopt when no worker can take the connection now (first-free: none
// idle). `cursor` is where the round begins and is advanced past the choice.
std::optional<std::size_t> choose_worker(DispatchPolicy policy, std::span<const WorkerLoad> workers,
                                         std::size_t& cursor);

// --route-by: what the manager looks at before the policy has a say. The policy chooses
// whatever no route claims.
enum class RouteBy {
  none,
  port,        // child i also listens on a port of its own (--route-ports BASE)
  peer,        // the peer's address: one client address, one child
  first_line,  // the first bytes of the request, peeked: a line that starts with a prefix
};
inline constexpr EnumName<RouteBy> kRouteByNames[] = {{"none", RouteBy::none},
                                                      {"port", RouteBy::port},
                                                      {"peer", RouteBy::peer},
                                                      {"first-line", RouteBy::first_line}};
// --route-by's values: "none" is not one of them (it is the default when none is given).
inline std::optional<RouteBy> parse_route_by(std::string_view name) {
  auto by = value_of(kRouteByNames, name);
  return by == RouteBy::none ? std::nullopt : by;
}
inline std::string_view route_by_name(RouteBy r) {
  return name_of(kRouteByNames, r);
}

// --route-prefix PREFIX=WORKER: a first line that starts with PREFIX goes to WORKER.
struct RoutePrefix {
  std::string prefix;
  std::size_t worker;
};
// A prefix is at most this long: the manager peeks this many bytes, no more.
inline constexpr std::size_t kMaxRoutePrefix = 64;

struct Routing {
  RouteBy by = RouteBy::none;
  int port_base = -1;                 // port: child i listens on port_base + i (0: any free)
  std::vector<RoutePrefix> prefixes;  // first-line: tried in the order given
};

// Checks the three options together and fills `out`; returns what is wrong, or "". `by` is ""
// when --route-by was not given (then --route-ports alone means port), `port_base` -1 when
// --route-ports was not.
std::string make_routing(Routing& out, std::string_view by, int port_base,
                         std::span<const std::string> prefixes, std::size_t workers);

// peer: FNV-1a over the address bytes (4 for IPv4 and IPv4-mapped IPv6, 16 for IPv6; never
// the port), modulo the pool — stable across connections, runs and restarts.
std::size_t peer_worker(const sockaddr* peer, std::size_t workers);

// first-line: what `seen`, the first bytes of a connection so far, decides. `ended`: no more
// will come (EOF). The first prefix (in order) the line starts with names the worker; while an
// earlier prefix could still match, the answer waits for more bytes.
struct LineRoute {
  bool decided = false;
  std::optional<std::size_t> worker;  // decided and nullopt: no prefix, the policy chooses
};
LineRoute route_first_line(std::span<const RoutePrefix> prefixes, std::string_view seen,
                           bool ended);

}  // namespace tcplab
