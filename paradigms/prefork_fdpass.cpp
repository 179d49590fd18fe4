// prefork-fdpass: the parent accepts every connection and passes the descriptor to a child over
// a UNIX-domain socketpair (UNP 30.9, serv05).
//
// The parent (the manager) is the only process that calls accept(). For each connection it
// chooses a child (--dispatch: least-loaded, round-robin or first-free), sends the descriptor
// with a small record (common/fdpass.cpp: sendmsg + SCM_RIGHTS), and closes its own copy. The
// child serves the connection and writes a "done" record back on the same socketpair, which is
// how the parent knows each child's load.
//
// It costs more than children calling accept() themselves: a sendmsg, a recvmsg and a report
// per connection, and the parent's poll loop. What it buys: the parent decides which child
// serves which connection, and a child that crashes loses only the connections it held — the
// parent notices (SIGCHLD, or EOF on the channel) and forks a replacement with a new channel.
// And it can route (--route-by) on what only a process that accepts sees: with `port`, child i
// gets a port of its own and what arrives there goes to child i only (a session, a tenant, a
// cache shard kept on one process) — though each child could as well bind that port itself;
// with `peer`, the client's address picks the child; with `first-line`, the first bytes of the
// request, peeked before the hand-off (a node's traffic reaches its named worker from its first
// packet, Nebula's case).
#include <fmt/core.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include "designs.hpp"
#include "error.hpp"
#include "fdpass.hpp"
#include "net.hpp"
#include "process_pool.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

// The record that travels with each descriptor, and the one that comes back when it is served.
struct Handoff {
  std::uint64_t id;
};
struct Done {
  std::uint64_t id;
};

// At most this many connections wait in one child's channel, so a stuck child cannot swallow
// the load (least-loaded avoids it anyway; round-robin needs the cap).
constexpr std::uint32_t kMaxInHand = 64;
// Connections accepted per wake-up of the parent, at most.
constexpr int kAcceptBatch = 8;
// first-line: connections the parent holds while it waits for their first bytes, at most; past
// that it leaves new ones in the listener's backlog until some are decided.
constexpr std::size_t kMaxWaiting = 128;
// first-line: once some bytes are in and more are needed, how often the parent peeks again
// (poll() cannot wait for "more than the unread bytes", only for "some").
constexpr std::chrono::milliseconds kRepeek{5};

using Clock = std::chrono::steady_clock;

// The child: receive a descriptor, serve it, report, again — until the parent closes the
// channel (EOF), which it does when the server stops.
int child_main(int channel, WorkerSlot& slot, const ServeConfig& config) {
  for (;;) {
    Fd conn;
    Handoff handoff{};
    std::string why;
    switch (recv_fd(channel, conn, handoff, &why)) {
      case RecvStatus::ok: {
        serve_connection(std::move(conn), slot, config);
        Done done{handoff.id};
        retry_eintr([&] { return ::send(channel, &done, sizeof done, MSG_NOSIGNAL); });
        break;
      }
      case RecvStatus::eof:
        return 0;
      case RecvStatus::malformed:  // recv_fd closed whatever arrived; wait for the next one
        log("ignoring a malformed hand-off: {}", why);
        break;
      case RecvStatus::error:
        if (errno == EINTR) break;  // SIGTERM: the parent will close the channel
        log("recvmsg from the parent: {}", std::strerror(errno));
        return 1;
    }
  }
}

// What the parent knows of one child, as nginx's master keeps one ngx_process_t per worker.
struct Child {
  Fd channel;    // the parent's end of the socketpair to the child
  Fd child_end;  // the child's end: held only from socketpair() until fork()
  WorkerLoad load;
  bool full = false;  // its channel took no more (EAGAIN, ETOOMANYREFS): not until it reports
  Fd route;           // --route-by port: its own listener
};

// first-line: an accepted connection whose first line the parent has not seen enough of yet.
struct Waiting {
  Fd conn;
  Clock::time_point deadline;  // then it goes to the policy, as if no prefix had matched
  std::size_t seen = 0;        // bytes peeked so far (0: poll for POLLIN; more: re-peek)
  Clock::time_point repeek{};
};

// The parent: accepts, chooses a child, passes the descriptor, reads the reports.
class Manager {
 public:
  Manager(Server& server, const FdpassOptions& options)
      : server_(server),
        policy_(options.dispatch),
        routing_(options.routing),
        children_(server.config.workers),
        loads_(children_.size()),
        pool_(
            children_.size(), server.board, [this](std::size_t slot) { return in_child(slot); },
            hooks()) {}

  int run() {
    signals::block_for_manager();
    set_nonblocking(server_.listen_fd, true);
    if (routing_.by == RouteBy::port) open_routes();
    pool_.start();
    // fds: the listener, each child's channel, (port) each child's listener, (first-line) each
    // connection waiting for its first bytes.
    const std::size_t n = children_.size();
    const std::size_t routes = routed_ ? n : 0;
    std::vector<pollfd> fds;
    int next_respawn_ms = -1;
    while (!signals::stop_requested()) {
      fds.resize(1 + n + routes + waiting_.size());
      const bool room = waiting_.size() < kMaxWaiting;
      fds[0] = {server_.listen_fd, static_cast<short>(room && can_take() ? POLLIN : 0), 0};
      for (std::size_t i = 0; i < n; ++i) {
        const Child& c = children_[i];
        fds[1 + i] = {c.channel.get(), POLLIN, 0};
        if (routed_)
          fds[1 + n + i] = {c.route.get(), static_cast<short>(c.load.available ? POLLIN : 0), 0};
      }
      // POLLRDHUP: a client that sent part of a line and shut its side is decided at once.
      for (std::size_t k = 0; k < waiting_.size(); ++k)
        fds[1 + n + routes + k] = {waiting_[k].conn.get(),
                                   static_cast<short>(waiting_[k].seen ? POLLRDHUP : POLLIN), 0};
      signals::wait_for_events(fds.data(), fds.size(), wait_ms(next_respawn_ms));
      if (signals::stop_requested()) break;
      if (signals::take_child_exited() || next_respawn_ms >= 0) next_respawn_ms = pool_.supervise();
      for (std::size_t i = 0; i < n; ++i)
        if (fds[1 + i].revents) read_reports(i);
      if (!waiting_.empty()) peek_waiting(std::span(fds).subspan(1 + n + routes));
      if (fds[0].revents & POLLIN) accept_and_pass();
      for (std::size_t i = 0; routed_ && i < n; ++i)
        if (fds[1 + n + i].revents & POLLIN) accept_routed(i);
    }
    // Closing the channels tells each child to finish what it holds and exit (EOF).
    for (Child& c : children_)
      c.channel.reset();
    pool_.stop(server_.config.grace_ms);
    return 0;
  }

 private:
  ProcessPool::Hooks hooks() {
    return {
        .before_fork = [this](std::size_t i) { open_channel(i); },
        .after_fork = [this](std::size_t i) { children_[i].child_end.reset(); },  // the child's now
        .after_exit = [this](std::size_t i) { close_channel(i); },
    };
  }

  // Runs in the new child: keep its own end of its own channel, close every other descriptor
  // of the parent's (the listener, the parent's ends), or a sibling would never see EOF.
  int in_child(std::size_t slot) {
    ::close(server_.listen_fd);
    for (Child& c : children_) {
      c.channel.reset();
      c.route.reset();
    }
    waiting_.clear();  // the parent's, still deciding: a copy here would keep them open
    return child_main(children_[slot].child_end.get(), server_.board.slot(slot),
                      server_.config.serve);
  }

  void open_channel(std::size_t i) {
    int sv[2];
    // SOCK_SEQPACKET keeps record boundaries: one sendmsg is one recvmsg, never half of one.
    check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
    Child& c = children_[i];
    c.channel.reset(sv[0]);
    c.child_end.reset(sv[1]);
    c.load = {};
    c.full = false;
    refresh(c);
  }

  void close_channel(std::size_t i) {
    Child& c = children_[i];
    c.channel.reset();
    c.child_end.reset();
    c.load = {};
  }

  void refresh(Child& c) {
    c.load.available = c.channel.valid() && !c.full && c.load.in_hand < kMaxInHand;
  }

  // choose_worker() reads the loads as one array: copied out of children_ for each choice.
  std::optional<std::size_t> choose(std::size_t& cursor) {
    for (std::size_t i = 0; i < children_.size(); ++i)
      loads_[i] = children_[i].load;
    return choose_worker(policy_, loads_, cursor);
  }

  bool can_take() {
    std::size_t cursor = cursor_;
    return choose(cursor).has_value();
  }

  // "Done" records from child i, or EOF: the child is gone (SIGCHLD will bring the reaping).
  void read_reports(std::size_t i) {
    Child& c = children_[i];
    Done done;
    for (;;) {
      ssize_t n = ::recv(c.channel.get(), &done, sizeof done, MSG_DONTWAIT);
      if (n == sizeof done) {
        if (c.load.in_hand > 0) --c.load.in_hand;
        c.full = false;
        refresh(c);
        continue;
      }
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close_channel(i);
      return;
    }
  }

  void accept_and_pass() {
    for (int k = 0; k < kAcceptBatch && can_take() && waiting_.size() < kMaxWaiting; ++k) {
      Accepted a = accept_connection(server_.listen_fd);
      if (a.status != AcceptStatus::ok) return;  // EAGAIN: nothing more waiting
      switch (routing_.by) {
        case RouteBy::peer:
          pass_to(peer_of(a.conn.get()), a.conn.get());
          break;
        case RouteBy::first_line:
          waiting_.push_back({std::move(a.conn), Clock::now() + first_line_wait()});
          break;
        case RouteBy::none:
        case RouteBy::port:
          pass(a.conn.get());
          break;
      }
    }  // a.conn closes here: the parent's copy, after the child has its own
  }

  // A routed connection goes to its child or to none: routing that fell back to another child
  // when its own is busy or being replaced would not be routing.
  void pass_to(std::optional<std::size_t> child, int conn) {
    if (!child) return pass(conn);
    if (!children_[*child].load.available || !give(*child, conn)) drop();
  }

  // peer: the child the client's address hashes to (dispatch.cpp); if getpeername() fails (the
  // client is already gone), the policy takes it and its child sees the error.
  std::optional<std::size_t> peer_of(int conn) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(conn, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return std::nullopt;
    return peer_worker(reinterpret_cast<const sockaddr*>(&peer), children_.size());
  }

  // first-line: how long the parent waits for a first line. The parent never blocks on a
  // client: each waiting connection is one more descriptor in the poll() above, so it keeps
  // accepting, passing and reading reports while a slow or silent client makes up its mind.
  // It waits as long as a child would (--io-timeout-ms), then passes the connection by the
  // policy, whose child reads it like any other and drops it on its own timeout — so the
  // accounting of a silent client stays where every other design keeps it. Waiting shorter
  // would send a slow node's first line to the wrong child.
  std::chrono::milliseconds first_line_wait() const {
    return std::chrono::milliseconds(server_.config.serve.io_timeout_ms);
  }

  // The poll timeout: the pool's respawn timer, the next re-peek or deadline, whichever is first.
  int wait_ms(int respawn_ms) const {
    if (waiting_.empty()) return respawn_ms;
    Clock::time_point next = Clock::time_point::max();
    for (const Waiting& w : waiting_)
      next = std::min(next, w.seen ? std::min(w.deadline, w.repeek) : w.deadline);
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    int until = static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60'000));
    return respawn_ms < 0 ? until : std::min(until, respawn_ms);
  }

  // Peeks (MSG_PEEK: the child will read the same bytes) at each waiting connection that has
  // news or whose time came, and passes the decided ones on. `fds` are their poll entries.
  void peek_waiting(std::span<const pollfd> fds) {
    const Clock::time_point now = Clock::now();
    std::size_t kept = 0;
    for (std::size_t k = 0; k < waiting_.size(); ++k) {
      Waiting& w = waiting_[k];
      const short revents = k < fds.size() ? fds[k].revents : 0;
      std::optional<LineRoute> route;
      if (revents || (w.seen && now >= w.repeek) || now >= w.deadline)
        route = peek(w, (revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
      if (route && !route->decided && now >= w.deadline) route = LineRoute{true, std::nullopt};
      if (route && route->decided) {
        pass_to(route->worker, w.conn.get());
        w.conn.reset();  // the parent's copy: the child has its own
        continue;
      }
      if (kept != k) waiting_[kept] = std::move(w);
      ++kept;
    }
    waiting_.resize(kept);
  }

  LineRoute peek(Waiting& w, bool ended) {
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

  void pass(int conn) {
    while (auto i = choose(cursor_))
      if (give(*i, conn)) return;
    drop();
  }

  // Sends the descriptor to child i; false if it cannot take it now.
  bool give(std::size_t i, int conn) {
    Child& c = children_[i];
    int err = send_fd(c.channel.get(), conn, Handoff{++next_id_}, MSG_DONTWAIT);
    if (err == 0) {
      ++c.load.in_hand;
    } else if (err == EAGAIN || err == ETOOMANYREFS) {
      // Its channel is full, or (unprivileged) more descriptors are in flight than our
      // RLIMIT_NOFILE allows: until it reports, pass to another. The child is not dead.
      c.full = true;
    } else {
      close_channel(i);  // EPIPE, ECONNRESET: it died; SIGCHLD will bring the reaping
    }
    refresh(c);
    return err == 0;
  }

  void drop() {
    server_.board.count(Event::dropped);
    log_once("dropped", "no child could take a connection; closing it");
  }

  // --route-by port, --route-ports BASE: child i has a port of its own besides the shared one, BASE
  // + i (BASE 0: any free port), and what arrives there is passed to child i and no other — the
  // routing that children competing in accept() cannot do. Opened before the first fork.
  void open_routes() {
    const Config& config = server_.config;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      auto port = static_cast<std::uint16_t>(
          routing_.port_base ? routing_.port_base + static_cast<int>(i) : 0);
      Fd& route = children_[i].route;
      route = listen_tcp(config.host, port, config.backlog);
      set_nonblocking(route.get(), true);
      fmt::print("worker {} also on {}\n", i, local_address(route.get()));
    }
    routed_ = true;
    std::fflush(stdout);
  }

  // Polled only while child i can take one: otherwise they wait in this port's backlog.
  void accept_routed(std::size_t i) {
    Child& c = children_[i];
    for (int k = 0; k < kAcceptBatch && c.load.available; ++k) {
      Accepted a = accept_connection(c.route.get());
      if (a.status != AcceptStatus::ok) return;
      if (!give(i, a.conn.get())) drop();
    }
  }

  Server& server_;
  DispatchPolicy policy_;
  const Routing& routing_;
  std::vector<Child> children_;    // children_[i] is the child in the pool's slot i
  std::vector<WorkerLoad> loads_;  // scratch for choose()
  bool routed_ = false;            // --route-by port: each child has a listener of its own
  std::vector<Waiting> waiting_;   // --route-by first-line: accepted, first line not seen yet
  std::size_t cursor_ = 0;
  std::uint64_t next_id_ = 0;
  ProcessPool pool_;
};

}  // namespace

int run_prefork_fdpass(Server& server, const FdpassOptions& options) {
  return Manager(server, options).run();
}

}  // namespace tcplab
