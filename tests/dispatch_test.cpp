// choose_worker(): the three policies of prefork-fdpass's manager, one pool state at a time and
// over simulated runs that show how each spreads the work. The routing rules, and the Router that
// applies them to descriptors (common/route.hpp).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "route.hpp"

namespace tcplab {
namespace {

using Pool = std::vector<WorkerLoad>;

Pool idle_pool(std::size_t n) {
  return Pool(n, WorkerLoad{true, 0});
}

// Choices made one after another with the pool left as it is (every connection ends at once).
std::vector<std::optional<std::size_t>> picks(DispatchPolicy policy, const Pool& pool, int n,
                                              std::size_t cursor = 0) {
  std::vector<std::optional<std::size_t>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(choose_worker(policy, pool, cursor));
  return out;
}

std::vector<std::optional<std::size_t>> seq(std::initializer_list<std::optional<std::size_t>> l) {
  return l;
}

TEST(Dispatch, NamesRoundTrip) {
  for (DispatchPolicy p :
       {DispatchPolicy::least_loaded, DispatchPolicy::round_robin, DispatchPolicy::first_free})
    EXPECT_EQ(parse_dispatch(dispatch_name(p)), p);
  EXPECT_EQ(dispatch_name(DispatchPolicy::least_loaded), "least-loaded");
  EXPECT_EQ(parse_dispatch("first-free"), DispatchPolicy::first_free);
  EXPECT_EQ(parse_dispatch("round_robin"), std::nullopt);
  EXPECT_EQ(parse_dispatch(""), std::nullopt);
}

TEST(Dispatch, EmptyOrUnavailablePoolHasNoChoice) {
  for (DispatchPolicy p :
       {DispatchPolicy::least_loaded, DispatchPolicy::round_robin, DispatchPolicy::first_free}) {
    std::size_t cursor = 0;
    EXPECT_EQ(choose_worker(p, {}, cursor), std::nullopt);
    Pool gone(4, WorkerLoad{false, 0});
    cursor = 2;
    EXPECT_EQ(choose_worker(p, gone, cursor), std::nullopt) << dispatch_name(p);
    EXPECT_EQ(cursor, 2u) << "cursor moved without a choice";
  }
}

TEST(Dispatch, AnIdleWorkerIsAliveWithNothingInHand) {
  EXPECT_FALSE(any_idle(Pool{}));
  EXPECT_TRUE(any_idle(idle_pool(3)));
  EXPECT_FALSE(any_idle(Pool{{true, 1}, {false, 0}, {true, 2}}));  // the free one is gone
  EXPECT_TRUE(any_idle(Pool{{true, 1}, {false, 0}, {true, 0}}));
}

// --- least-loaded -----------------------------------------------------------------------------

TEST(LeastLoaded, PicksTheMinimum) {
  Pool pool{{true, 3}, {true, 1}, {true, 2}, {true, 5}};
  std::size_t cursor = 0;
  EXPECT_EQ(choose_worker(DispatchPolicy::least_loaded, pool, cursor), 1u);
  EXPECT_EQ(cursor, 2u);
  cursor = 3;  // wherever the round begins
  EXPECT_EQ(choose_worker(DispatchPolicy::least_loaded, pool, cursor), 1u);
}

TEST(LeastLoaded, IgnoresUnavailableWorkersHoweverIdle) {
  Pool pool{{false, 0}, {true, 4}, {false, 0}, {true, 2}};
  std::size_t cursor = 0;
  EXPECT_EQ(choose_worker(DispatchPolicy::least_loaded, pool, cursor), 3u);
  EXPECT_EQ(cursor, 0u);  // past the last worker: back to the start
}

TEST(LeastLoaded, SpreadsTiesRoundThePool) {
  EXPECT_EQ(picks(DispatchPolicy::least_loaded, idle_pool(3), 7), seq({0, 1, 2, 0, 1, 2, 0}));
  // Equal and busy: still round the pool, not the first of them every time.
  Pool busy(4, WorkerLoad{true, 2});
  EXPECT_EQ(picks(DispatchPolicy::least_loaded, busy, 5, 1), seq({1, 2, 3, 0, 1}));
  // Ties among the least loaded only.
  Pool mixed{{true, 1}, {true, 0}, {true, 1}, {true, 0}};
  EXPECT_EQ(picks(DispatchPolicy::least_loaded, mixed, 4), seq({1, 3, 1, 3}));
}

TEST(LeastLoaded, FillsAPoolEvenlyWhenConnectionsStay) {
  Pool pool = idle_pool(5);
  pool[2].available = false;
  std::size_t cursor = 0;
  for (int i = 0; i < 40; ++i) {
    auto w = choose_worker(DispatchPolicy::least_loaded, pool, cursor);
    ASSERT_TRUE(w);
    ++pool[*w].in_hand;
  }
  EXPECT_EQ(pool[2].in_hand, 0u);
  for (std::size_t i : {0u, 1u, 3u, 4u})
    EXPECT_EQ(pool[i].in_hand, 10u) << "worker " << i;
}

// --- round-robin ------------------------------------------------------------------------------

TEST(RoundRobin, CyclesSkippingUnavailableWhateverTheLoad) {
  Pool pool{{true, 9}, {false, 0}, {true, 0}, {true, 100}};
  EXPECT_EQ(picks(DispatchPolicy::round_robin, pool, 7), seq({0, 2, 3, 0, 2, 3, 0}));
  EXPECT_EQ(picks(DispatchPolicy::round_robin, pool, 3, 1), seq({2, 3, 0}));
}

TEST(RoundRobin, CursorBeyondThePoolWrapsAround) {
  std::size_t cursor = 7;  // the pool shrank
  EXPECT_EQ(choose_worker(DispatchPolicy::round_robin, idle_pool(3), cursor), 1u);
  EXPECT_EQ(cursor, 2u);
}

// --- first-free (UNP's serv05) ----------------------------------------------------------------

TEST(FirstFree, AlwaysTheLowestIdleWorker) {
  Pool pool{{true, 1}, {false, 0}, {true, 0}, {true, 0}};
  std::size_t cursor = 3;
  EXPECT_EQ(choose_worker(DispatchPolicy::first_free, pool, cursor), 2u);
  EXPECT_EQ(choose_worker(DispatchPolicy::first_free, pool, cursor), 2u);
  EXPECT_EQ(cursor, 3u) << "first-free has no round to advance";
}

TEST(FirstFree, NoneIdleIsNoChoiceEvenWithRoomElsewhere) {
  Pool pool{{true, 1}, {true, 3}, {false, 0}};
  std::size_t cursor = 0;
  EXPECT_EQ(choose_worker(DispatchPolicy::first_free, pool, cursor), std::nullopt);
  // The other policies would still place it.
  EXPECT_EQ(choose_worker(DispatchPolicy::least_loaded, pool, cursor), 0u);
}

TEST(FirstFree, TakesWorkersInOrderThenRunsOut) {
  Pool pool = idle_pool(3);
  std::size_t cursor = 0;
  std::vector<std::optional<std::size_t>> got;
  for (int i = 0; i < 4; ++i) {
    auto w = choose_worker(DispatchPolicy::first_free, pool, cursor);
    got.push_back(w);
    if (w) ++pool[*w].in_hand;
  }
  EXPECT_EQ(got, seq({0, 1, 2, std::nullopt}));
}

// The skew of UNP figure 30.24: when each connection ends before the next arrives, first-free
// gives every one of them to worker 0, while the other two policies share them out evenly.
std::vector<int> share_of_short_connections(DispatchPolicy policy, std::size_t workers,
                                            int connections) {
  Pool pool = idle_pool(workers);
  std::vector<int> served(workers, 0);
  std::size_t cursor = 0;
  for (int i = 0; i < connections; ++i) {
    auto w = choose_worker(policy, pool, cursor);
    if (!w) continue;
    ++served[*w];  // in_hand goes up and back down before the next connection
  }
  return served;
}

TEST(FirstFree, ShowsServ05Skew) {
  EXPECT_EQ(share_of_short_connections(DispatchPolicy::first_free, 5, 1000),
            (std::vector<int>{1000, 0, 0, 0, 0}));
  EXPECT_EQ(share_of_short_connections(DispatchPolicy::least_loaded, 5, 1000),
            (std::vector<int>{200, 200, 200, 200, 200}));
  EXPECT_EQ(share_of_short_connections(DispatchPolicy::round_robin, 5, 1000),
            (std::vector<int>{200, 200, 200, 200, 200}));
}

TEST(FirstFree, UnderOverlapTheLowWorkersStillServeMost) {
  // Two connections in flight at a time: worker 0 and 1 take everything, the rest idle.
  Pool pool = idle_pool(4);
  std::vector<int> served(4, 0);
  std::size_t cursor = 0;
  std::optional<std::size_t> previous;
  for (int i = 0; i < 100; ++i) {
    auto w = choose_worker(DispatchPolicy::first_free, pool, cursor);
    ASSERT_TRUE(w);
    ++served[*w];
    ++pool[*w].in_hand;
    if (previous) --pool[*previous].in_hand;  // the one before ends once this one started
    previous = w;
  }
  EXPECT_EQ(served, (std::vector<int>{50, 50, 0, 0}));
}

// --route-by, --route-ports and --route-prefix, checked together.
std::string routing_error(std::string_view by, int ports, std::vector<std::string> prefixes,
                          std::size_t workers = 4) {
  Routing r;
  return make_routing(r, by, ports, prefixes, workers);
}

TEST(Routing, OptionsAreCheckedTogether) {
  Routing r;
  EXPECT_EQ(make_routing(r, "", -1, {}, 4), "");
  EXPECT_EQ(r.by, RouteBy::none);
  EXPECT_EQ(make_routing(r, "", 9000, {}, 4), "");  // --route-ports alone: the port mode
  EXPECT_EQ(r.by, RouteBy::port);
  EXPECT_EQ(r.port_base, 9000);
  EXPECT_EQ(make_routing(r, "port", -1, {}, 4), "");  // any free ports
  EXPECT_EQ(r.port_base, 0);
  const std::vector<std::string> prefixes = {"node=3", "a=b=0"};
  EXPECT_EQ(make_routing(r, "first-line", -1, prefixes, 4), "");
  ASSERT_EQ(r.prefixes.size(), 2u);
  EXPECT_EQ(r.prefixes[0].prefix, "node");
  EXPECT_EQ(r.prefixes[0].worker, 3u);
  EXPECT_EQ(r.prefixes[1].prefix, "a=b");  // split at the last '='
  EXPECT_EQ(routing_error("hash", -1, {}),
            "--route-by hash: unknown mode (port, peer or first-line)");
  EXPECT_EQ(routing_error("peer", 0, {}), "--route-ports goes with --route-by port, not peer");
  EXPECT_EQ(routing_error("peer", -1, {"x=1"}), "--route-prefix needs --route-by first-line");
  EXPECT_EQ(routing_error("first-line", -1, {}),
            "--route-by first-line needs at least one --route-prefix PREFIX=WORKER");
  EXPECT_EQ(routing_error("first-line", -1, {"node=4"}),
            "--route-prefix node=4: worker 4 is outside the pool (--workers 4: 0 to 3)");
  EXPECT_EQ(routing_error("first-line", -1, {"node"}),
            "--route-prefix node: expected PREFIX=WORKER, e.g. node=3");
  EXPECT_EQ(routing_error("first-line", -1, {"=1"}), "--route-prefix =1: the prefix is empty");
  EXPECT_EQ(routing_error("first-line", -1, {"n=-1"}),
            "--route-prefix n=-1: WORKER must be a number, got '-1'");
  EXPECT_EQ(routing_error("first-line", -1, {std::string(65, 'x') + "=1"}),
            "--route-prefix " + std::string(65, 'x') + "=1: the prefix is longer than 64 bytes");
}

TEST(Routing, FirstLineWaitsOnlyWhileAPrefixCouldStillMatch) {
  const std::vector<RoutePrefix> p = {{"node", 3}, {"no", 1}, {"GET /7", 2}};
  auto route = [&](std::string_view seen, bool ended = false) {
    LineRoute r = route_first_line(p, seen, ended);
    return r.decided ? std::optional<int>(r.worker ? static_cast<int>(*r.worker) : -1)
                     : std::nullopt;  // -1: the policy's; nullopt: wait
  };
  EXPECT_EQ(route("node7 hello\n"), 3);
  EXPECT_EQ(route("node"), 3);            // enough bytes: no need for the newline
  EXPECT_EQ(route("nod"), std::nullopt);  // "node" still possible, listed first
  EXPECT_EQ(route("not"), 1);             // "node" no longer possible: "no" matches
  EXPECT_EQ(route("nod\n"), 1);           // the line ended: "no"
  EXPECT_EQ(route("n"), std::nullopt);
  EXPECT_EQ(route("n", true), -1);  // EOF: no prefix, the policy
  EXPECT_EQ(route("100\n"), -1);
  EXPECT_EQ(route("GET /8"), -1);
  EXPECT_EQ(route("GET /"), std::nullopt);
  EXPECT_EQ(route("GET /7"), 2);
  EXPECT_EQ(route(""), std::nullopt);
  EXPECT_EQ(route("", true), -1);
  EXPECT_EQ(route("\nnode"), -1);  // only the first line counts
}

// The Router's narrow interface on a socketpair: a connection is passed at once, or held ("not
// yet") until its first line decides, and then passed to its child or to the policy.
struct RouterBench {
  Routing routing;
  Config config;
  std::vector<std::optional<std::size_t>> passed;  // the child of each pass(); nullopt: policy
  std::vector<Fd> kept;                            // a copy of each, as a child would hold it
  Router router{routing,
                config,
                {[](std::size_t) { return true; },
                 [this](int conn, std::optional<std::size_t> child) {
                   passed.push_back(child);
                   kept.emplace_back(::dup(conn));
                 }}};

  explicit RouterBench(std::string_view by) {
    config.workers = 4;
    config.serve.io_timeout_ms = 10'000;
    std::vector<std::string> prefixes;
    if (by == "first-line") prefixes = {"node=2"};
    EXPECT_EQ(make_routing(routing, by, -1, prefixes, config.workers), "");
  }
  // Routes the server's end of a new socketpair; returns the client's end.
  Fd connect() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    router.route(Fd(sv[1]));
    return Fd(sv[0]);
  }
  // One turn of a manager's loop, waiting at most 5 s.
  void turn() {
    PollSet set;
    router.add_to(set);
    set.wake_within(5000);
    set.poll();
    router.handle(set);
  }
};

TEST(Router, WithoutRoutesEveryConnectionGoesToThePolicyAtOnce) {
  RouterBench bench("");
  Fd client = bench.connect();
  EXPECT_EQ(bench.passed, seq({std::nullopt}));
  EXPECT_TRUE(bench.router.has_room());
}

TEST(Router, FirstLineHoldsAConnectionUntilItsFirstBytesDecide) {
  RouterBench bench("first-line");
  Fd named = bench.connect();
  Fd other = bench.connect();
  EXPECT_TRUE(bench.passed.empty()) << "decided before any byte came";
  ASSERT_EQ(::send(named.get(), "node 7\n", 7, 0), 7);
  bench.turn();
  EXPECT_EQ(bench.passed, seq({2}));
  ASSERT_EQ(::send(other.get(), "GET / HTTP/1.1\r\n", 16, 0), 16);
  bench.turn();
  EXPECT_EQ(bench.passed, seq({2, std::nullopt}));
  // The child reads the whole line: the router only peeked at it.
  char buf[16];
  EXPECT_EQ(::recv(bench.kept[0].get(), buf, sizeof buf, MSG_DONTWAIT), 7);
  EXPECT_EQ(std::string_view(buf, 7), "node 7\n");
}

}  // namespace
}  // namespace tcplab
