// tcplab-server DESIGN [options]: runs one of the designs of UNP vol. 1 ch. 30 on one port.
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <ranges>
#include <string_view>
#include <vector>

#include "accounting.hpp"
#include "control.hpp"
#include "designs.hpp"
#include "error.hpp"
#include "net.hpp"
#include "protocol.hpp"
#include "signals.hpp"

namespace {

using namespace tcplab;

std::string design_list() {
  std::string out;
  for (const Design& d : designs())
    out += fmt::format(
        "  {:<24} {}{}\n", d.name, d.summary,
        d.available() ? std::string() : " [unavailable here: " + d.unavailable_reason() + "]");
  return out;
}

// Each open connection holds a descriptor; an event-loop design may hold thousands. Take all
// the hard limit allows (a launcher such as prlimit sets a lower one deliberately: then the
// soft limit already equals the hard one).
void raise_descriptor_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// --ballast-mb: memory the main process allocates and writes, page by page, before it serves,
// so that every fork() copies (and every exit tears down) the page tables of that much more:
// what makes fork-per-connection dearer as a server grows. Small pages (MADV_NOHUGEPAGE), as
// a heap grown piece by piece has; huge pages would copy 512 times fewer entries.
class Ballast {
 public:
  explicit Ballast(std::size_t mib) : size_(mib << 20) {
    if (size_ == 0) return;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw sys_error(errno, fmt::format("mmap(--ballast-mb {})", mib));
    data_ = static_cast<char*>(p);
    ::madvise(data_, size_, MADV_NOHUGEPAGE);  // advice only: without it, still correct
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    for (std::size_t at = 0; at < size_; at += page)
      data_[at] = 1;
  }
  ~Ballast() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  Ballast(const Ballast&) = delete;
  Ballast& operator=(const Ballast&) = delete;

 private:
  std::size_t size_;
  char* data_ = nullptr;
};

// What the design serves with: the ballast, the listener, the scoreboard, and the Server that
// hands them to the design. Made once and never destroyed: a thread still serving when the
// grace period ends (thread, prethread-*, loop-per-thread wait no longer than that) goes on
// counting into the scoreboard and reading the Server until main() ends the process with
// _exit(), after the summary. Destroying them when serve() returns would unmap the scoreboard
// under it.
struct Serving {
  Serving(const Config& config, const Design& design)
      : ballast(config.ballast_mb),  // before any worker exists: every one inherits it
        listener(listen_tcp(config.host, config.port, config.backlog, design.reuseport)),
        board(design.pooled ? config.workers : 1),
        server{config, listener.get(), board} {}
  Ballast ballast;
  Fd listener;
  Scoreboard board;
  Server server;
};

int serve(const Config& config, const DesignOptions& options) {
  raise_descriptor_limit();
  const Design* design = find_design(config.design);
  Serving& serving = *new Serving(config, *design);  // never deleted: see Serving
  Fd& listener = serving.listener;
  Server& server = serving.server;
  signals::install_stop_handlers(listener.get());
  std::optional<ControlSocket> control;
  if (!config.control_path.empty()) {
    control.emplace(config.control_path, [&server] { return snapshot(server).dump(); });
    if (design->processes())
      server.control = &*control;  // a process that forks runs no thread: its manager serves it
    else
      control->start_thread();
  }

  // The one line scripts and tests wait for; flushed before any fork so no child repeats it.
  fmt::print("listening on {}\n", local_address(listener.get()));
  std::fflush(stdout);

  auto start = std::chrono::steady_clock::now();
  int status = design->run(server, options);
  server.control = nullptr;
  control.reset();
  auto summary = final_summary(server, {design->pooled, design->worker_per_connection()},
                               std::chrono::steady_clock::now() - start);
  if (!design->dispatch_policies.empty())  // only a design with policies has chosen one
    summary["config"]["dispatch"] = dispatch_name(options.fdpass.dispatch);

  fmt::print("{}", format_summary(summary));
  if (!config.stats_json.empty()) {
    std::ofstream out(config.stats_json);
    out << summary.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write --stats-json file " + config.stats_json);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  set_program_name("tcplab-server");
  Config config;
  DesignOptions options;  // one design's each: --dispatch, --route-*, --queue-size, --stall-worker
  bool list = false;
  bool json = false;
  std::string dispatch = "least-loaded";

  CLI::App app{
      "tcplab-server: the TCP server designs of UNIX Network Programming vol. 1 ch. 30.\n"
      "Every design serves the same protocol on one port: a line \"N\\n\" is answered\n"
      "with N bytes; \"GET /N HTTP/1.1\" with a 200 response of N bytes.\n\n"
      "Designs:\n" +
      design_list()};
  auto* list_flag = app.add_flag("--list", list, "List the designs, one per line, and exit");
  app.add_flag("--json", json,
               "With --list: print the table of designs as JSON (schema tcplab-designs/1: what "
               "serves a connection, who accepts, the lock, the --dispatch values) and exit")
      ->needs(list_flag);
  app.add_option("design", config.design, "The design to run (see --list)")
      ->check(CLI::IsMember([] {
        std::vector<std::string> names;
        for (const Design& d : designs())
          names.emplace_back(d.name);
        return names;
      }()));
  app.add_option("--host", config.host, "Numeric address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "Port to listen on; 0 picks a free one")
      ->capture_default_str();
  app.add_option("--workers", config.workers, "Pool size of the pooled designs")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--dispatch", dispatch,
                 designs_taking("--dispatch") +
                     ": how the one that accepts picks the worker for a connection")
      ->check(CLI::IsMember([] {
        std::vector<std::string> names;
        for (DispatchPolicy p : kDispatchPolicies)
          names.emplace_back(dispatch_name(p));
        return names;
      }()))
      ->capture_default_str();
  app.add_option("--queue-size", options.queue_size,
                 "prethread-dispatch: queue capacity (default: twice --workers)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--max-bytes", config.serve.max_bytes, "Largest N a request may ask for")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--io-timeout-ms", config.serve.io_timeout_ms,
                 "Drop a client that sends or reads nothing for this long")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  app.add_option("--grace-ms", config.grace_ms,
                 "On SIGINT/SIGTERM, how long in-flight connections may take to finish")
      ->check(CLI::Range(0, 600'000))
      ->capture_default_str();
  app.add_option("--backlog", config.backlog, "listen() backlog")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--ballast-mb", config.ballast_mb,
                 "Before serving, the main process allocates and writes this many MiB, so every "
                 "fork() copies the page tables of that much more memory (fork's cost against "
                 "a server's size)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{4096}))
      ->capture_default_str();
  app.add_option("--work-us", config.serve.work_us,
                 "CPU-bound work per request: spin this many microseconds of CPU before answering")
      ->check(CLI::Range(0, 10'000'000))
      ->capture_default_str();
  app.add_option("--stall-worker", options.stall_worker,
                 "Testing only: event-loop worker N (prefork-reuseport, prefork-epoll-exclusive, "
                 "loop-per-thread, uring-msgring) serves nothing until the server stops")
      ->check(CLI::Range(0, 4095));
  bool no_exclusive = false;
  app.add_flag("--no-exclusive", no_exclusive,
               "prefork-epoll-exclusive: register the shared listener without EPOLLEXCLUSIVE, "
               "so each connection wakes every idle child (the thundering herd; the herd "
               "workload's positive control)");
  std::string route_by;
  int route_ports = -1;
  std::vector<std::string> route_prefixes;
  app.add_option("--route-by", route_by,
                 "prefork-fdpass: route before the policy chooses. port: see --route-ports; "
                 "peer: one client address always reaches one child (FNV-1a hash of the "
                 "address, modulo --workers); first-line: the parent peeks at the first line, "
                 "see --route-prefix");
  app.add_option("--route-ports", route_ports,
                 "prefork-fdpass, --route-by port (implied): child i also listens on port BASE+i "
                 "(0: any free ports, printed at start) and is passed only the connections that "
                 "arrive there")
      ->check(CLI::Range(0, 65535));
  app.add_option("--route-prefix", route_prefixes,
                 "prefork-fdpass, --route-by first-line, repeatable: PREFIX=WORKER sends a "
                 "connection whose first line starts with PREFIX (at most 64 bytes) to child "
                 "WORKER; the first that matches wins, other lines go by --dispatch")
      ->allow_extra_args(false);  // one PREFIX=WORKER per --route-prefix
  app.add_flag("--fault-inject", config.serve.fault_inject,
               "Testing only: the line request \"crash\" aborts the process serving it, every "
               "design (without this flag it is refused as a bad request)");
  app.add_option("--stats-json", config.stats_json,
                 "On exit, also write the summary as JSON to this file");
  app.add_option(
      "--control", config.control_path,
      "Answer 'snapshot' on this UNIX-domain socket with the accounting so far, as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0
               ? 0
               : 2;  // --help: 0; a bad argument: CLI11's message, and 2 (not its 105, 109…)
  }
  if (list) {
    fmt::print("{}", json ? designs_json().dump(2) + "\n" : design_list());
    return 0;
  }
  if (config.design.empty()) {
    fmt::print(stderr, "tcplab-server: name a design (one of the list below), or --help\n{}",
               design_list());
    return 2;
  }
  // An option of one design given to another is an error, never silently ignored; which design
  // takes which comes from its row of the table (takes_option, designs.hpp).
  const Design& design = *find_design(config.design);
  std::vector<std::string_view> given;
  for (std::string_view option : kDesignOptions)
    if (app.count(std::string(option)) > 0) given.push_back(option);
  std::string why = foreign_option(design, given);
  options.fdpass.dispatch = *parse_dispatch(dispatch);
  if (no_exclusive && config.design != "prefork-epoll-exclusive") {
    fmt::print(stderr,
               "tcplab-server: --no-exclusive is an option of prefork-epoll-exclusive "
               "only, not {}\n",
               config.design);
    return 2;
  }
  options.exclusive = !no_exclusive;
  if (why.empty() && app.count("--dispatch") > 0 &&
      std::ranges::find(design.dispatch_policies, options.fdpass.dispatch) ==
          design.dispatch_policies.end())
    why = fmt::format(
        "--dispatch {} is not a policy of {} (it takes {})", dispatch, design.name,
        fmt::join(design.dispatch_policies | std::views::transform(dispatch_name), ", "));
  // io_uring disabled, blocked or too old: one line naming the cause, and 2, before anything
  // is opened.
  if (why.empty() && !design.available())
    why = fmt::format("{}: {}", config.design, design.unavailable_reason());
  if (why.empty() && (!route_by.empty() || route_ports >= 0 || !route_prefixes.empty()))
    why =
        make_routing(options.fdpass.routing, route_by, route_ports, route_prefixes, config.workers);
  if (!why.empty()) {
    fmt::print(stderr, "tcplab-server: {}\n", why);
    return 2;
  }

  int status = 1;
  try {
    status = serve(config, options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tcplab-server: {}\n", e.what());
    status = 1;
  }
  // _exit, not exit: a thread still serving after the grace period may be using what serve()
  // made (Serving, never destroyed); exit() would run static destructors under it. Everything
  // worth keeping has been written and flushed, and _exit ends such threads with the process.
  std::fflush(nullptr);
  ::_exit(status);
}
