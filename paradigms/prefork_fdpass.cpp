// prefork-fdpass: the parent accepts every connection and passes the descriptor to a child over
// a UNIX-domain socketpair (UNP 30.9, serv05).
//
// The parent (the manager) alone calls accept(). For each connection it chooses a child
// (--dispatch: least-loaded, round-robin or first-free), sends the descriptor with a small
// record (send_fd: sendmsg + SCM_RIGHTS, common/fdpass.cpp) and closes its own copy. The child
// serves it and, before it closes it, writes the record back, "done": the parent's count of load.
//
// It costs a sendmsg, a recvmsg and a report per connection, and the parent's poll loop. It buys
// the choice of the child; a crash that loses only what that child held (the parent sees EOF or
// SIGCHLD, forks a replacement); routing (--route-by, common/route.hpp) on what the acceptor sees.
#include <sys/socket.h>
#include <unistd.h>

#include "control.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "fdpass.hpp"
#include "net.hpp"
#include "poll_set.hpp"
#include "process_pool.hpp"
#include "route.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

using Handoff = std::uint64_t;  // the record sent with each descriptor, and back as "done"

// At most this many connections wait in one child's channel, so a stuck child cannot swallow
// the load (round-robin needs the cap); at most this many are accepted per wake-up.
constexpr std::uint32_t kMaxInHand = 64;
constexpr int kAcceptBatch = 8;

// The child: receive a descriptor, serve it, report, again — until the channel's EOF (the stop).
int child_main(int channel, WorkerSlot& slot, const ServeConfig& config) {
  for (;;) {
    Fd conn;
    Handoff handoff{};
    std::string why;
    switch (recv_fd(channel, conn, handoff, &why)) {
      case RecvStatus::ok:
        serve_connection_open(conn.get(), slot, config);  // closed after the report
        retry_eintr([&] { return ::send(channel, &handoff, sizeof handoff, MSG_NOSIGNAL); });
        break;
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

// The parent: accepts, chooses a child, passes the descriptor, reads the reports.
class Manager {
 public:
  Manager(Server& server, const FdpassOptions& options)
      : server_(server),
        policy_(options.dispatch),
        channels_(server.config.workers),
        loads_(server.config.workers),
        router_(options.routing, server.config,
                {[this](std::size_t i) { return loads_[i].available; },
                 [this](int conn, std::optional<std::size_t> i) { pass(conn, i); }}),
        pool_(server, [this](std::size_t slot) { return in_child(slot); },
              {.before_fork = [this](std::size_t i) { open_channel(i); },
               .after_fork = [this](std::size_t i) { child_ends_[i].reset(); },  // the child's now
               .after_exit = [this](std::size_t i) { close_channel(i); }}),
        child_ends_(server.config.workers) {}

  int run() {
    signals::block_for_manager();
    set_nonblocking(server_.listen_fd, true);
    router_.open();
    pool_.start();
    PollSet set;
    std::vector<std::size_t> polled(channels_.size());  // channel i's entry in `set`
    int respawn_ms = -1;
    while (!signals::stop_requested()) {
      set.clear();
      const bool room = can_take() && router_.has_room();
      const std::size_t listener = set.add(server_.listen_fd, room ? POLLIN : 0);
      for (std::size_t i = 0; i < channels_.size(); ++i)
        polled[i] = set.add(channels_[i].get(), POLLIN);
      router_.add_to(set);
      if (server_.control) server_.control->add_to(set);
      set.wake_within(respawn_ms);
      set.wait();
      if (signals::stop_requested()) break;
      if (signals::take_child_exited() || respawn_ms >= 0) respawn_ms = pool_.supervise();
      for (std::size_t i = 0; i < channels_.size(); ++i)
        if (set.revents(polled[i])) read_reports(i);
      router_.handle(set);
      if (set.revents(listener) & POLLIN) accept_and_pass();
      if (server_.control) server_.control->handle(set);
    }
    for (Fd& channel : channels_)  // EOF: each child finishes what it holds and exits
      channel.reset();
    pool_.stop(server_.config.grace_ms);
    return 0;
  }

 private:
  // In the new child: keep its own end; close the parent's others, or a sibling never sees EOF.
  int in_child(std::size_t slot) {
    ::close(server_.listen_fd);
    router_.close_in_child();
    channels_.clear();
    return child_main(child_ends_[slot].get(), server_.board.slot(slot), server_.config.serve);
  }

  void open_channel(std::size_t i) {
    int sv[2];
    // SOCK_SEQPACKET keeps record boundaries: one sendmsg is one recvmsg, never half of one.
    check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
    channels_[i].reset(sv[0]);
    child_ends_[i].reset(sv[1]);
    loads_[i] = {.available = true};
  }

  void close_channel(std::size_t i) {
    channels_[i].reset();
    child_ends_[i].reset();
    loads_[i] = {};
  }

  bool can_take() const {  // by the policy, without moving its cursor
    std::size_t cursor = cursor_;
    return choose_worker(policy_, loads_, cursor).has_value();
  }

  // "Done" records from child i, or EOF: the child is gone (SIGCHLD will bring the reaping).
  void read_reports(std::size_t i) {
    Handoff done;
    ssize_t n;
    while ((n = ::recv(channels_[i].get(), &done, sizeof done, MSG_DONTWAIT)) == sizeof done) {
      if (loads_[i].in_hand > 0) --loads_[i].in_hand;
      loads_[i].available = loads_[i].in_hand < kMaxInHand;  // and no longer full, if it was
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close_channel(i);
  }

  // Past the first, only while a child is idle: else poll() again for the reports that came in,
  // lest a child that has finished tie with one that a keep-alive client holds.
  void accept_and_pass() {
    for (int k = 0; k < kAcceptBatch && (k == 0 || any_idle(loads_)) && can_take(); ++k) {
      if (!router_.has_room()) return;
      Accepted a = accept_connection(server_.listen_fd);
      if (a.status != AcceptStatus::ok) return;  // EAGAIN: nothing more waiting
      router_.route(std::move(a.conn));          // to pass(), now or once its first line is in
    }
  }

  // The choice of a child: the router's, if it made one (its child or none: falling back to
  // another would not be routing), or the policy's.
  void pass(int conn, std::optional<std::size_t> routed) {
    if (routed) {
      if (loads_[*routed].available && give(*routed, conn)) return;
    } else {
      while (auto i = choose_worker(policy_, loads_, cursor_))
        if (give(*i, conn)) return;  // else its channel was full: ask the policy again
    }
    server_.board.count(Event::dropped);
    log_once("dropped", "no child could take a connection; closing it");
  }

  // Sends the descriptor to child i (send_fd: sendmsg + SCM_RIGHTS); the caller closes its copy.
  // False: its channel is full or RLIMIT_NOFILE is in flight (until it reports), or it died.
  bool give(std::size_t i, int conn) {
    int err = send_fd(channels_[i].get(), conn, Handoff{++next_id_}, MSG_DONTWAIT);
    if (err == 0) ++loads_[i].in_hand;
    if (err != 0 && err != EAGAIN && err != ETOOMANYREFS) close_channel(i);  // SIGCHLD reaps it
    loads_[i].available = err == 0 && loads_[i].in_hand < kMaxInHand;
    return err == 0;
  }

  Server& server_;
  DispatchPolicy policy_;
  std::vector<Fd> channels_;       // channels_[i]: the parent's end of child i's socketpair
  std::vector<WorkerLoad> loads_;  // what the parent knows of child i: alive, free, in hand
  Router router_;
  ProcessPool pool_;
  std::vector<Fd> child_ends_;  // the child's end, held only from socketpair() until fork()
  std::size_t cursor_ = 0;
  std::uint64_t next_id_ = 0;
};

}  // namespace

int run_prefork_fdpass(Server& server, const FdpassOptions& options) {
  return Manager(server, options).run();
}

}  // namespace tcplab
