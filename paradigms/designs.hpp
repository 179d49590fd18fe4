#pragma once
// The designs tcplab-server can run, in one table: the one place a design's facts live.
// --list, --list --json (which bench/ reads), README.md, REPORT.md and the tests all draw from
// it (tests/docs_test.cpp keeps README in step). Adding a design means adding one row.
#include <array>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dispatch.hpp"
#include "enum_names.hpp"
#include "server.hpp"

namespace tcplab {

// What serves a connection: a process or a thread per connection or from a pool, or nothing
// but the server's one process and thread.
enum class Workers { none, processes, threads };
// Who calls accept(): the main process or thread, or each worker for itself.
enum class Acceptor { main, workers };
// What the workers hold around accept(), when they call it themselves.
enum class AcceptLockKind { none, fcntl, mutex };

// Their names in --list --json (AcceptLockKind::none is null there).
inline constexpr EnumName<Workers> kWorkersNames[] = {
    {"none", Workers::none}, {"processes", Workers::processes}, {"threads", Workers::threads}};
inline constexpr EnumName<Acceptor> kAcceptorNames[] = {{"main", Acceptor::main},
                                                        {"workers", Acceptor::workers}};
inline constexpr EnumName<AcceptLockKind> kAcceptLockNames[] = {{"none", AcceptLockKind::none},
                                                                {"fcntl", AcceptLockKind::fcntl},
                                                                {"mutex", AcceptLockKind::mutex}};

// The options of one design each (those of every design are in Config, common/server.hpp).
// main() fills them from the command line; a row hands its design only its own, so a design's
// run function says in its signature what it takes.
struct FdpassOptions {
  DispatchPolicy dispatch = DispatchPolicy::least_loaded;  // --dispatch
  Routing routing;  // --route-by, --route-ports, --route-prefix
};
struct DesignOptions {
  FdpassOptions fdpass;        // prefork-fdpass
  std::size_t queue_size = 0;  // prethread-dispatch: --queue-size; 0: twice the workers
  int stall_worker = -1;       // the pooled event loops: --stall-worker (testing); -1: none
  bool exclusive = true;       // prefork-epoll-exclusive: false with --no-exclusive
};

struct Design {
  std::string_view name;     // the command-line name
  std::string_view summary;  // one line
  std::string_view unp;      // the section of UNP vol. 1 (3rd ed.) ch. 30; empty: beyond it
  Workers workers = Workers::none;
  bool pooled = false;  // a fixed pool of workers, created at start (--workers applies)
  // One thread serves many connections: non-blocking sockets in an epoll loop
  // (common/event_loop.hpp) or, with io_uring, a loop of completions (common/uring.hpp).
  bool event_loop = false;
  bool io_uring = false;  // needs io_uring at run time: available() says whether it is here
  Acceptor accepts = Acceptor::main;
  AcceptLockKind accept_lock = AcceptLockKind::none;
  std::span<const DispatchPolicy> dispatch_policies = {};  // valid --dispatch values, if any
  bool queue = false;      // hands connections to its workers through a queue (--queue-size)
  bool reuseport = false;  // main() sets SO_REUSEPORT on the listener: the design binds more
  int (*run)(Server&, const DesignOptions&) = nullptr;  // calls the design's run_* below

  bool processes() const { return workers == Workers::processes; }
  bool threads() const { return workers == Workers::threads; }
  // fork, thread: a process or a thread is made for each connection, and ends with it.
  bool worker_per_connection() const { return !pooled && workers != Workers::none; }
  bool in_book() const { return !unp.empty(); }
  // Whether it can run on this machine; if not, why (one sentence; "" when it can).
  bool available() const { return unavailable_reason().empty(); }
  const std::string& unavailable_reason() const;
};

std::span<const Design> designs();
const Design* find_design(std::string_view name);

// The options of one design or a few (DesignOptions), and whether `d` takes `option`, from its
// row: --dispatch where it has dispatch policies; --route-by, --route-ports and --route-prefix
// where processes are passed descriptors by a dispatcher (prefork-fdpass); --queue-size where
// it has a queue; --stall-worker where it is a pool of event loops. Any other option is every
// design's.
inline constexpr std::string_view kDesignOptions[] = {"--dispatch",    "--route-by",
                                                      "--route-ports", "--route-prefix",
                                                      "--queue-size",  "--stall-worker"};
bool takes_option(const Design& d, std::string_view option);
// The names of the designs that take `option`, comma-separated.
std::string designs_taking(std::string_view option);
// "" if `d` takes every option of `given` (names from kDesignOptions), else the error to print:
// which option, and which designs do take it.
std::string foreign_option(const Design& d, std::span<const std::string_view> given);
// --dispatch's values for uring-msgring: prefork-fdpass's, less first-free (an event loop is
// never "free").
inline constexpr std::array kRingDispatchPolicies = {DispatchPolicy::least_loaded,
                                                     DispatchPolicy::round_robin};

// The table as `tcplab-server --list --json` prints it (schema "tcplab-designs/1").
nlohmann::ordered_json designs_json();

int run_iterative(Server&);
int run_fork(Server&);
int run_prefork(Server&);
int run_prefork_fcntl(Server&);
int run_prefork_mutex(Server&);
int run_prefork_fdpass(Server&, const FdpassOptions&);
int run_thread(Server&);
int run_prethread_mutex(Server&);
int run_prethread_dispatch(Server&, std::size_t queue_size);
int run_epoll(Server&);
int run_prefork_reuseport(Server&, int stall_worker);
int run_prefork_epoll_exclusive(Server&, int stall_worker, bool exclusive);
int run_loop_per_thread(Server&, int stall_worker);
int run_uring(Server&);
int run_uring_msgring(Server&, DispatchPolicy policy, int stall_worker);

}  // namespace tcplab
