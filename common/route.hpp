#pragma once
// Router: prefork-fdpass's --route-by, in the manager, before the dispatch policy has a say.
// It decides which child gets a connection from what only a process that accepts can see
// (dispatch.hpp has the pure rules, this is their descriptors and timing):
// - port: child i has a listener of its own besides the shared one (--route-ports BASE: port
//   BASE + i; 0: any free port), and what arrives there goes to child i and no other — a
//   session, a tenant, a cache shard kept on one process (each child could as well bind that
//   port itself);
// - peer: the client's address picks the child;
// - first-line: the first bytes of the request, peeked (MSG_PEEK: the child reads the same
//   bytes) before the hand-off — a node's traffic reaches its named worker from its first
//   packet, Nebula's case. Until enough bytes are in, the connection is "not yet" decided and
//   the router holds it.
// A connection no route claims goes to the policy. The manager polls the router's descriptors
// with its own (PollSet): route(), add_to() and handle() run in the manager's one thread.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "dispatch.hpp"
#include "fd.hpp"
#include "poll_set.hpp"
#include "server.hpp"

namespace tcplab {

class Router {
 public:
  // What the router asks of the manager: can `child` take a connection now; pass `conn` to
  // `child` (nullopt: the policy chooses). The router closes its copy of `conn` after pass().
  struct Outlet {
    std::function<bool(std::size_t child)> can_take;
    std::function<void(int conn, std::optional<std::size_t> child)> pass;
  };

  Router(const Routing& routing, const Config& config, Outlet outlet);

  // port: opens each child's listener and prints "worker I also on ADDR". Before the first fork.
  void open();
  // In a child just forked: closes its copies of the manager's listeners and held connections.
  void close_in_child();

  // False while first-line holds as many undecided connections as it may: the manager leaves
  // new ones in the listener's backlog until some are decided.
  bool has_room() const;
  // A connection the manager accepted on the shared listener: passed at once (to its child, or
  // to the policy), or held until its first line decides it.
  void route(Fd conn);

  // Each turn of the manager's loop: its entries (child i's listener while child i can take
  // one; each held connection) and its next re-peek or deadline; then what poll() found.
  void add_to(PollSet& set);
  void handle(const PollSet& set);

 private:
  using Clock = std::chrono::steady_clock;
  // first-line: an accepted connection whose first line has not been seen enough of yet.
  struct Waiting {
    Fd conn;
    Clock::time_point deadline;  // then it goes to the policy, as if no prefix had matched
    std::size_t seen = 0;        // bytes peeked so far (0: poll for POLLIN; more: re-peek)
    Clock::time_point repeek{};
    std::optional<std::size_t> polled;  // its index in this turn's PollSet, once it has one
  };
  struct Port {
    Fd listener;
    std::optional<std::size_t> polled;  // this turn, if child i could take one
  };

  void accept_routed(std::size_t child);
  LineRoute peek(Waiting& w, bool ended);
  std::optional<std::size_t> peer_of(int conn) const;

  const Routing& routing_;
  const Config& config_;
  Outlet outlet_;
  std::vector<Port> ports_;       // port: ports_[i] is child i's
  std::vector<Waiting> waiting_;  // first-line: accepted, first line not seen yet
};

}  // namespace tcplab
