#include "route.hpp"

#include <fmt/core.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "net.hpp"

namespace tcplab {

namespace {
// Connections accepted per wake-up on one child's port, at most.
constexpr int kAcceptBatch = 8;
// first-line: connections held while their first bytes are awaited, at most.
constexpr std::size_t kMaxWaiting = 128;
// first-line: once some bytes are in and more are needed, how often to peek again (poll()
// cannot wait for "more than the unread bytes", only for "some").
constexpr std::chrono::milliseconds kRepeek{5};
}  // namespace

Router::Router(const Routing& routing, const Config& config, Outlet outlet)
    : routing_(routing), config_(config), outlet_(std::move(outlet)) {}

void Router::open() {
  if (routing_.by != RouteBy::port) return;
  for (std::size_t i = 0; i < config_.workers; ++i) {
    auto port = static_cast<std::uint16_t>(
        routing_.port_base ? routing_.port_base + static_cast<int>(i) : 0);
    Fd listener = listen_tcp(config_.host, port, config_.backlog);
    set_nonblocking(listener.get(), true);
    fmt::print("worker {} also on {}\n", i, local_address(listener.get()));
    ports_.push_back({std::move(listener), std::nullopt});
  }
  std::fflush(stdout);
}

void Router::close_in_child() {
  ports_.clear();
  waiting_.clear();  // the manager's, still deciding: a copy here would keep them open
}

bool Router::has_room() const {
  return waiting_.size() < kMaxWaiting;
}

void Router::route(Fd conn) {
  switch (routing_.by) {
    case RouteBy::peer:
      // If getpeername() fails (the client is already gone), the policy's child sees the error.
      outlet_.pass(conn.get(), peer_of(conn.get()));
      return;
    case RouteBy::first_line:
      // The manager never blocks on a client: the connection is one more descriptor in its
      // poll(). It waits as long as a child would (--io-timeout-ms), then goes to the policy,
      // whose child reads it like any other and drops it on its own timeout — so a silent
      // client is counted where every design counts it. Waiting shorter would send a slow
      // node's first line to the wrong child.
      waiting_.push_back(
          {std::move(conn), Clock::now() + std::chrono::milliseconds(config_.serve.io_timeout_ms)});
      return;
    case RouteBy::none:
    case RouteBy::port:  // the shared listener's: the policy's (the routes are in handle())
      outlet_.pass(conn.get(), std::nullopt);
      return;
  }
}

void Router::add_to(PollSet& set) {
  // port: polled only while its child can take one; otherwise they wait in that port's backlog.
  for (std::size_t i = 0; i < ports_.size(); ++i)
    ports_[i].polled = outlet_.can_take(i)
                           ? std::optional(set.add(ports_[i].listener.get(), POLLIN))
                           : std::nullopt;
  if (waiting_.empty()) return;
  // first-line: POLLRDHUP, a client that sent part of a line and shut its side is decided at
  // once. The wait ends by the next re-peek or deadline.
  Clock::time_point next = Clock::time_point::max();
  for (Waiting& w : waiting_) {
    w.polled = set.add(w.conn.get(), static_cast<short>(w.seen ? POLLRDHUP : POLLIN));
    next = std::min(next, w.seen ? std::min(w.deadline, w.repeek) : w.deadline);
  }
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
  set.wake_within(static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60'000)));
}

void Router::handle(const PollSet& set) {
  for (std::size_t i = 0; i < ports_.size(); ++i)
    if (ports_[i].polled && (set.revents(*ports_[i].polled) & POLLIN)) accept_routed(i);

  // first-line: peek at each held connection that has news or whose time came; pass the
  // decided ones on.
  const Clock::time_point now = Clock::now();
  std::size_t kept = 0;
  for (Waiting& w : waiting_) {
    const short revents = w.polled ? set.revents(*w.polled) : 0;
    std::optional<LineRoute> route;
    if (revents || (w.seen && now >= w.repeek) || now >= w.deadline)
      route = peek(w, (revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
    if (route && !route->decided && now >= w.deadline) route = LineRoute{true, std::nullopt};
    if (route && route->decided) {
      outlet_.pass(w.conn.get(), route->worker);
      w.conn.reset();  // the manager's copy: the child has its own
      continue;
    }
    if (&waiting_[kept] != &w) waiting_[kept] = std::move(w);
    ++kept;
  }
  waiting_.resize(kept);
}

void Router::accept_routed(std::size_t child) {
  for (int k = 0; k < kAcceptBatch && outlet_.can_take(child); ++k) {
    Accepted a = accept_connection(ports_[child].listener.get());
    if (a.status != AcceptStatus::ok) return;
    outlet_.pass(a.conn.get(), child);
  }
}

LineRoute Router::peek(Waiting& w, bool ended) {
  char buf[kMaxRoutePrefix];
  std::size_t want = 1;
  for (const RoutePrefix& p : routing_.prefixes)
    want = std::max(want, p.prefix.size());
  ssize_t got = ::recv(w.conn.get(), buf, want, MSG_PEEK | MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return {};  // nothing new
  if (got < 0) return {true, std::nullopt};  // ECONNRESET…: the policy's child will see it
  w.seen = static_cast<std::size_t>(got);
  w.repeek = Clock::now() + kRepeek;
  if (w.seen == want) ended = true;  // as long as the longest prefix: every one can be told
  return route_first_line(routing_.prefixes, {buf, w.seen}, ended || got == 0);
}

// peer: the child the client's address hashes to (dispatch.cpp).
std::optional<std::size_t> Router::peer_of(int conn) const {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(conn, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return std::nullopt;
  return peer_worker(reinterpret_cast<const sockaddr*>(&peer), config_.workers);
}

}  // namespace tcplab
