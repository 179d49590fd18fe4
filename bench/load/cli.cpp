// The command line: CLI11 options into Options. Bad arguments end with exit code 2.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <sched.h>
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "options.hpp"

namespace tcplab::load {

Nanos parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument("not a duration: '" + text + "' (try 500ms, 10s, 2m)");
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "m")
    scale = 60e9;
  if (scale == 0 || !(value >= 0) || value * scale > 1e18)
    throw std::invalid_argument("not a duration: '" + text + "' (try 500ms, 10s, 2m)");
  return Nanos(std::llround(value * scale));
}

static std::vector<int> parse_cpu_list(const std::string& text) {
  // "1", "0,1", "0-3", "0,2-3"
  std::vector<int> cpus;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    int first = -1, last = -1;
    char extra = 0;
    const int n = std::sscanf(item.c_str(), "%d-%d%c", &first, &last, &extra);
    if (n == 1) last = first;
    if ((n != 1 && n != 2) || first < 0 || last < first || last >= CPU_SETSIZE)
      throw std::invalid_argument("not a CPU list: '" + text + "' (try 1, 0,1 or 0-3)");
    for (int cpu = first; cpu <= last; ++cpu)
      cpus.push_back(cpu);
    pos = comma + 1;
  }
  return cpus;
}

bool in_benchmark_range(std::uint32_t address) {
  return (address >> 17) == (198u << 7 | 18u >> 1);
}

bool benchmark_range_is_local() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    throw std::system_error(errno, std::generic_category(), "getifaddrs");
  bool found = false;
  for (const ifaddrs* a = list; a && !found; a = a->ifa_next)
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET)
      found = in_benchmark_range(
          ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr));
  ::freeifaddrs(list);
  return found;
}

static std::string ipv4_text(std::uint32_t address) {
  in_addr in{htonl(address)};
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &in, text, sizeof text);
  return text;
}

void check_source_range(std::uint32_t source_base, unsigned count) {
  if (count > 0 && std::uint64_t(source_base) + count - 1 > UINT32_MAX)
    throw std::invalid_argument(
        fmt::format("--source-base {} with --source-addresses {} runs past "
                    "255.255.255.255",
                    ipv4_text(source_base), count));
}

std::string source_address(std::uint32_t source_base, std::uint64_t i) {
  if (std::uint64_t(source_base) + i > UINT32_MAX)
    throw std::invalid_argument("source address past 255.255.255.255");
  return ipv4_text(std::uint32_t(source_base + i));
}

void resolve_address(Options& options, bool allow_remote) {
  const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  options.address = {};
  bool loopback = false;
  if (auto* in4 = reinterpret_cast<sockaddr_in*>(&options.address);
      inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(options.port);
    options.address_len = sizeof(sockaddr_in);
    loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
  } else if (auto* in6 = reinterpret_cast<sockaddr_in6*>(&options.address);
             inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(options.port);
    options.address_len = sizeof(sockaddr_in6);
    loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  } else {
    throw std::invalid_argument("--host: '" + options.host +
                                "' is not a numeric IPv4 or IPv6 address");
  }
  // A load generator aimed at someone else's machine is an attack; be explicit about it. The
  // one exception is RFC 2544's benchmark range when this namespace has an address in it: then
  // the target sits at the far end of a link the suite made (bench/tcplab_suite/netns.py), and
  // with no such address a packet to it would leave the machine.
  if (loopback || allow_remote) return;
  if (options.address.ss_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&options.address);
    if (in_benchmark_range(ntohl(in4->sin_addr.s_addr))) {
      if (benchmark_range_is_local()) return;
      throw std::invalid_argument("--host: " + options.host +
                                  " is in 198.18.0.0/15 (RFC 2544's benchmark range), but no "
                                  "interface of this network namespace has an address there, so "
                                  "it is not loopback either; add --allow-remote if you really "
                                  "mean to load another machine");
    }
  }
  throw std::invalid_argument("--host: " + options.host +
                              " is not loopback (127.0.0.0/8 or ::1); add --allow-remote "
                              "if you really mean to load another machine");
}

std::string describe_address(const Options& options) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (options.address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&options.address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(options.port);
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&options.address);
  inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(options.port);
}

int parse_command_line(int argc, char** argv, Options& o) {
  CLI::App app{
      "tcplab-load: load generator for tcplab servers (line protocol or HTTP/1.1) and nginx.\n"
      "Closed loop by default (each client waits for its answer, like UNP's client.c);\n"
      "--rate gives an open loop whose latency is corrected for coordinated omission.\n"
      "'tcplab-load merge A.json B.json ... [--json OUT]' adds up runs (see merge --help).\n"
      "Exit status: 0 ok, 1 failed requests (unless --allow-errors), late sends above "
      "--max-late or no server, 2 bad arguments.",
      "tcplab-load"};
  std::string duration, warmup, cpus, arrivals, late_after, source_base;
  unsigned timeout_ms = 10000;
  bool allow_remote = false;

  app.add_option("--port", o.port, "server TCP port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--host", o.host,
                 "server address, numeric; loopback only unless --allow-remote, or in "
                 "198.18.0.0/15 when an interface of this network namespace has an address there")
      ->capture_default_str();
  app.add_flag("--allow-remote", allow_remote, "allow a --host outside 127.0.0.0/8 and ::1");
  app.add_flag("--http", o.http, "speak HTTP/1.1 (GET /BYTES) instead of the line protocol");
  app.add_option("-c,--clients", o.clients,
                 "concurrent clients (closed loop) or pooled connections (open loop)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  auto* connections = app.add_option("-n,--connections", o.connections,
                                     "measured connections to make in total, then stop "
                                     "(default 10000 when --duration is not given)")
                          ->check(CLI::Range(std::uint64_t{1}, UINT64_MAX));
  app.add_option("-d,--duration", duration,
                 "measured run time, e.g. 10s, 500ms, 2m (after --warmup)");
  app.add_option("--warmup", warmup, "time run first and left out of every figure, e.g. 1s");
  app.add_option("-k,--requests-per-conn", o.requests_per_conn,
                 "requests sent on each connection before closing it")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000000u));
  app.add_option("-b,--bytes", o.bytes, "response body size asked for, bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  auto* rate = app.add_option("-r,--rate", o.rate,
                              "open loop: requests per second in total, started on a fixed "
                              "schedule whatever the server does (needs --duration)")
                   ->check(CLI::Range(0.001, 1e8));
  app.add_option("--arrivals", arrivals,
                 "open loop: uniform (one request every 1/rate) or poisson (exponential gaps "
                 "of mean 1/rate, as from many independent users)")
      ->check(CLI::IsMember({"uniform", "poisson"}))
      ->default_str("uniform")
      ->needs(rate);
  app.add_option("--seed", o.seed,
                 "open loop: seed of the poisson schedule (same seed, same "
                 "--threads: same schedule)")
      ->capture_default_str()
      ->needs(rate);
  app.add_option("--late-after", late_after,
                 "open loop: a send that starts more than this after its scheduled time is late, "
                 "e.g. 1ms (the default), 500us")
      ->needs(rate);
  app.add_option("--max-late", o.max_late,
                 "open loop: exit 1 if the fraction of late sends is above this, e.g. 0.01")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(rate);
  app.add_option("--timeout-ms", timeout_ms,
                 "a request (or a connect) still unanswered after this many milliseconds "
                 "fails as a timeout")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600000u));
  app.add_option("-t,--threads", o.threads, "event-loop threads, one epoll each")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  auto* sources =
      app.add_option("--source-addresses", o.source_addresses,
                     "connect from this many source addresses in turn, 127.0.0.1, 127.0.0.2, "
                     "... (or from --source-base on): each has its own ephemeral ports, so "
                     "connections closed by this side "
                     "(TIME_WAIT) do not make connect() scan for a free port. Default 16 for an "
                     "IPv4 loopback --host, else 1 (the kernel's choice)")
          ->check(CLI::Range(1u, 65536u));
  app.add_option("--source-base", source_base,
                 "IPv4 address of the first source address: connections come from ADDR, ADDR+1, "
                 "... ADDR+N-1 in turn (N = --source-addresses; default 127.0.0.1 for a "
                 "loopback --host). Each must be an address of this host");
  app.add_option("--cpu", cpus, "pin thread i to the i-th CPU of this list, e.g. 1 or 0,1 or 0-3");
  app.add_option("--json", o.json_path, "also write every figure and the histograms here");
  app.add_option("--hgrm", o.hgrm_path,
                 "also write the total latency here in HdrHistogram's percentile-distribution "
                 "text format (values in milliseconds, as wrk2 prints them)");
  app.add_flag("--allow-errors", o.allow_errors, "exit 0 even if some requests failed");
  rate->excludes(connections);

  const int code = parse_or_exit(app, "tcplab-load", [&] {
    app.parse(argc, argv);
    if (!duration.empty()) o.duration = parse_duration(duration);
    if (!warmup.empty()) o.warmup = parse_duration(warmup);
    if (!cpus.empty()) o.cpus = parse_cpu_list(cpus);
    if (!late_after.empty()) o.late_after = parse_duration(late_after);
    if (!arrivals.empty()) o.arrivals = *value_of(kArrivalNames, arrivals);  // CLI11 checked it
    if (!duration.empty() && o.duration.count() == 0)
      throw std::invalid_argument("--duration must be more than 0");
    if (o.open_loop() && o.duration.count() == 0)
      throw std::invalid_argument("--rate needs --duration");
    if (o.threads > o.clients)
      throw std::invalid_argument("--threads is more than --clients; some would be idle");
    o.timeout = std::chrono::milliseconds(timeout_ms);
    if (o.connections == 0 && o.duration.count() == 0) o.connections = 10000;
    resolve_address(o, allow_remote);
    const bool ipv4_loopback =
        o.address.ss_family == AF_INET &&
        ntohl(reinterpret_cast<const sockaddr_in*>(&o.address)->sin_addr.s_addr) >> 24 == 127;
    if (sources->count() == 0) o.source_addresses = ipv4_loopback ? 16 : 1;
    if (!source_base.empty()) {
      in_addr base{};
      if (inet_pton(AF_INET, source_base.c_str(), &base) != 1)
        throw std::invalid_argument("--source-base: '" + source_base +
                                    "' is not a numeric IPv4 address");
      if (o.address.ss_family != AF_INET)
        throw std::invalid_argument("--source-base needs an IPv4 --host");
      o.source_base = ntohl(base.s_addr);
      if (o.source_base == 0) throw std::invalid_argument("--source-base: 0.0.0.0 is no address");
      check_source_range(o.source_base, o.source_addresses);
    } else if (o.source_addresses > 1) {
      if (!ipv4_loopback)
        throw std::invalid_argument(
            "--source-addresses above 1 needs an IPv4 loopback --host, or --source-base");
      o.source_base = INADDR_LOOPBACK;
    }
  });
  if (code >= 0) return code;
  o.progress = ::isatty(STDERR_FILENO) == 1;
  return -1;
}

int parse_or_exit(CLI::App& app, const char* who, const std::function<void()>& parse) {
  try {
    parse();
    return -1;
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: {}\nRun with --help for more information.\n", who, e.what());
    return 2;
  } catch (const std::system_error& e) {  // getifaddrs, or an output file that cannot be written
    fmt::print(stderr, "{}: {}\n", who, e.what());
    return 1;
  }
}

}  // namespace tcplab::load
