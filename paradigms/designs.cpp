#include "designs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "uring.hpp"

namespace tcplab {

namespace {
// A row's run: the design's run_* (designs.hpp), handed the options that are its own.
template <int (*Run)(Server&)>
int plain(Server& server, const DesignOptions&) {
  return Run(server);
}
template <int (*Run)(Server&, const FdpassOptions&)>
int with_fdpass(Server& server, const DesignOptions& options) {
  return Run(server, options.fdpass);
}
template <int (*Run)(Server&, std::size_t)>
int with_queue_size(Server& server, const DesignOptions& options) {
  return Run(server, options.queue_size);
}
template <int (*Run)(Server&, DispatchPolicy, int)>
int with_dispatch_and_stall_worker(Server& server, const DesignOptions& options) {
  return Run(server, options.fdpass.dispatch, options.stall_worker);
}
template <int (*Run)(Server&, int)>
int with_stall_worker(Server& server, const DesignOptions& options) {
  return Run(server, options.stall_worker);
}
int epoll_exclusive(Server& server, const DesignOptions& options) {
  return run_prefork_epoll_exclusive(server, options.stall_worker, options.exclusive);
}

constexpr std::array kDesigns = {
    Design{.name = "iterative",
           .summary = "one connection at a time, in the one process (the baseline)",
           .unp = "30.4",
           .workers = Workers::none,
           .run = plain<run_iterative>},
    Design{.name = "fork",
           .summary = "a new process per connection; children reaped on SIGCHLD",
           .unp = "30.5",
           .workers = Workers::processes,
           .run = plain<run_fork>},
    Design{.name = "prefork",
           .summary = "N children, each blocks in accept(), no lock",
           .unp = "30.6",
           .workers = Workers::processes,
           .pooled = true,
           .accepts = Acceptor::workers,
           .run = plain<run_prefork>},
    Design{.name = "prefork-fcntl",
           .summary = "N children, fcntl() record lock around accept()",
           .unp = "30.7",
           .workers = Workers::processes,
           .pooled = true,
           .accepts = Acceptor::workers,
           .accept_lock = AcceptLockKind::fcntl,
           .run = plain<run_prefork_fcntl>},
    Design{.name = "prefork-mutex",
           .summary = "N children, robust process-shared pthread mutex around accept()",
           .unp = "30.8",
           .workers = Workers::processes,
           .pooled = true,
           .accepts = Acceptor::workers,
           .accept_lock = AcceptLockKind::mutex,
           .run = plain<run_prefork_mutex>},
    Design{.name = "prefork-fdpass",
           .summary = "the parent accepts and passes each descriptor to a child (SCM_RIGHTS)",
           .unp = "30.9",
           .workers = Workers::processes,
           .pooled = true,
           .dispatch_policies = kDispatchPolicies,
           .run = with_fdpass<run_prefork_fdpass>},
    Design{.name = "thread",
           .summary = "a new thread per connection",
           .unp = "30.10",
           .workers = Workers::threads,
           .run = plain<run_thread>},
    Design{.name = "prethread-mutex",
           .summary = "N threads, mutex around accept()",
           .unp = "30.11",
           .workers = Workers::threads,
           .pooled = true,
           .accepts = Acceptor::workers,
           .accept_lock = AcceptLockKind::mutex,
           .run = plain<run_prethread_mutex>},
    Design{.name = "prethread-dispatch",
           .summary = "the main thread accepts and hands descriptors to N threads through a "
                      "bounded queue",
           .unp = "30.12",
           .workers = Workers::threads,
           .pooled = true,
           .queue = true,
           .run = with_queue_size<run_prethread_dispatch>},
    // Beyond chapter 30: event loops, the designs of today's servers.
    Design{.name = "epoll",
           .summary = "one thread, non-blocking sockets, one epoll loop (Redis's shape)",
           .workers = Workers::none,
           .event_loop = true,
           .run = plain<run_epoll>},
    Design{.name = "prefork-reuseport",
           .summary = "N children, each with its own SO_REUSEPORT listener and an epoll loop",
           .workers = Workers::processes,
           .pooled = true,
           .event_loop = true,
           .accepts = Acceptor::workers,
           .reuseport = true,
           .run = with_stall_worker<run_prefork_reuseport>},
    Design{.name = "prefork-epoll-exclusive",
           .summary = "N children share the listener, each in its own epoll with EPOLLEXCLUSIVE "
                      "(nginx)",
           .workers = Workers::processes,
           .pooled = true,
           .event_loop = true,
           .accepts = Acceptor::workers,
           .run = epoll_exclusive},
    Design{.name = "loop-per-thread",
           .summary = "the main thread accepts and hands connections round-robin to N "
                      "event-loop threads (muduo)",
           .workers = Workers::threads,
           .pooled = true,
           .event_loop = true,
           .run = with_stall_worker<run_loop_per_thread>},
    // io_uring: the operations go to the kernel and their results come back, no readiness.
    Design{.name = "uring",
           .summary = "one thread, one io_uring: each accept linked to its first recv, no epoll",
           .workers = Workers::none,
           .event_loop = true,
           .io_uring = true,
           .run = plain<run_uring>},
    Design{.name = "uring-msgring",
           .summary = "the main thread's ring accepts and passes each connection to one of N "
                      "worker threads' rings (IORING_OP_MSG_RING)",
           .workers = Workers::threads,
           .pooled = true,
           .event_loop = true,
           .io_uring = true,
           .dispatch_policies = kRingDispatchPolicies,
           .run = with_dispatch_and_stall_worker<run_uring_msgring>},
};

}  // namespace

const std::string& Design::unavailable_reason() const {
  static const std::string none;
  return io_uring ? uring_unavailable_reason() : none;
}

std::span<const Design> designs() {
  return kDesigns;
}

const Design* find_design(std::string_view name) {
  auto it = std::ranges::find(kDesigns, name, &Design::name);
  return it == kDesigns.end() ? nullptr : &*it;
}

bool takes_option(const Design& d, std::string_view option) {
  if (option == "--dispatch") return !d.dispatch_policies.empty();
  if (option.starts_with("--route-")) return d.processes() && !d.dispatch_policies.empty();
  if (option == "--queue-size") return d.queue;
  if (option == "--stall-worker") return d.pooled && d.event_loop;
  return true;
}

std::string designs_taking(std::string_view option) {
  std::string takers;
  for (const Design& d : kDesigns)
    if (takes_option(d, option)) takers += (takers.empty() ? "" : ", ") + std::string(d.name);
  return takers;
}

std::string foreign_option(const Design& d, std::span<const std::string_view> given) {
  for (std::string_view option : given)
    if (!takes_option(d, option))
      return fmt::format("{} is not an option of {} (only of: {})", option, d.name,
                         designs_taking(option));
  return "";
}

nlohmann::ordered_json designs_json() {
  using json = nlohmann::ordered_json;
  json rows = json::array();
  for (const Design& d : kDesigns) {
    json policies = json::array();
    for (DispatchPolicy p : d.dispatch_policies)
      policies.push_back(dispatch_name(p));
    rows.push_back(
        {{"name", d.name},
         {"summary", d.summary},
         {"unp", d.in_book() ? json(d.unp) : json(nullptr)},
         {"workers", name_of(kWorkersNames, d.workers)},
         {"pooled", d.pooled},
         {"event_loop", d.event_loop},
         {"accepts", name_of(kAcceptorNames, d.accepts)},
         {"accept_lock", d.accept_lock == AcceptLockKind::none
                             ? json(nullptr)
                             : json(name_of(kAcceptLockNames, d.accept_lock))},
         {"dispatch_policies", policies},
         {"reuseport", d.reuseport},
         {"io_uring", d.io_uring},
         {"available", d.available()},
         {"unavailable_reason", d.available() ? json(nullptr) : json(d.unavailable_reason())}});
  }
  return {{"schema", "tcplab-designs/1"}, {"designs", rows}};
}

}  // namespace tcplab
