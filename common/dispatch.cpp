#include "dispatch.hpp"

#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tcplab {

bool any_idle(std::span<const WorkerLoad> workers) {
  return std::any_of(workers.begin(), workers.end(),
                     [](const WorkerLoad& w) { return w.available && w.in_hand == 0; });
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

namespace {

// "PREFIX=WORKER", split at the last '=' (a prefix may hold one).
std::string parse_prefix(std::string_view spec, std::size_t workers, RoutePrefix& out) {
  const std::size_t eq = spec.rfind('=');
  if (eq == std::string_view::npos)
    return fmt::format("--route-prefix {}: expected PREFIX=WORKER, e.g. node=3", spec);
  std::string_view prefix = spec.substr(0, eq), index = spec.substr(eq + 1);
  if (prefix.empty()) return fmt::format("--route-prefix {}: the prefix is empty", spec);
  if (prefix.size() > kMaxRoutePrefix)
    return fmt::format("--route-prefix {}: the prefix is longer than {} bytes", spec,
                       kMaxRoutePrefix);
  if (prefix.find('\n') != std::string_view::npos)
    return fmt::format("--route-prefix {}: a prefix is within the first line, no newline", spec);
  std::size_t worker = 0;
  auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), worker);
  if (ec != std::errc{} || end != index.data() + index.size() || index.empty())
    return fmt::format("--route-prefix {}: WORKER must be a number, got '{}'", spec, index);
  if (worker >= workers)
    return fmt::format("--route-prefix {}: worker {} is outside the pool (--workers {}: 0 to {})",
                       spec, worker, workers, workers - 1);
  out = {std::string(prefix), worker};
  return "";
}

}  // namespace

std::string make_routing(Routing& out, std::string_view by, int port_base,
                         std::span<const std::string> prefixes, std::size_t workers) {
  out = {};
  if (by.empty()) {
    out.by = port_base >= 0 ? RouteBy::port : RouteBy::none;
  } else if (auto r = parse_route_by(by)) {
    out.by = *r;
  } else {
    return fmt::format("--route-by {}: unknown mode (port, peer or first-line)", by);
  }
  if (port_base >= 0 && out.by != RouteBy::port)
    return fmt::format("--route-ports goes with --route-by port, not {}", route_by_name(out.by));
  if (out.by == RouteBy::port) out.port_base = port_base >= 0 ? port_base : 0;
  if (!prefixes.empty() && out.by != RouteBy::first_line)
    return "--route-prefix needs --route-by first-line";
  if (out.by == RouteBy::first_line && prefixes.empty())
    return "--route-by first-line needs at least one --route-prefix PREFIX=WORKER";
  for (const std::string& spec : prefixes) {
    RoutePrefix p;
    if (std::string why = parse_prefix(spec, workers, p); !why.empty()) return why;
    out.prefixes.push_back(std::move(p));
  }
  return "";
}

std::size_t peer_worker(const sockaddr* peer, std::size_t workers) {
  const unsigned char* bytes = nullptr;
  std::size_t len = 0;
  if (peer->sa_family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr);
    len = 4;
  } else if (peer->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr;
    bytes = a.s6_addr;
    len = 16;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {  // ::ffff:a.b.c.d hashes as a.b.c.d
      bytes += 12;
      len = 4;
    }
  }
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (std::size_t i = 0; i < len; ++i)
    h = (h ^ bytes[i]) * 1099511628211ull;
  return workers == 0 ? 0 : static_cast<std::size_t>(h % workers);
}

LineRoute route_first_line(std::span<const RoutePrefix> prefixes, std::string_view seen,
                           bool ended) {
  const std::size_t newline = seen.find('\n');
  const bool complete = ended || newline != std::string_view::npos;
  const std::string_view line = seen.substr(0, newline);
  for (const RoutePrefix& p : prefixes) {
    if (line.starts_with(p.prefix)) return {true, p.worker};
    if (!complete && line.size() < p.prefix.size() && p.prefix.starts_with(line))
      return {};  // this one may still match: wait for more
  }
  return {true, std::nullopt};
}

}  // namespace tcplab
