// Options: everything one run of the load generator needs, filled by parse_command_line()
// or directly by tests that call run() in-process.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "enum_names.hpp"

namespace CLI {
class App;
}

namespace tcplab::load {

using Nanos = std::chrono::nanoseconds;

// How an open loop spaces its requests: evenly, or as a Poisson process (exponential gaps), which
// is what a population of independent users sends.
enum class Arrivals { uniform, poisson };
inline constexpr EnumName<Arrivals> kArrivalNames[] = {{"uniform", Arrivals::uniform},
                                                       {"poisson", Arrivals::poisson}};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  sockaddr_storage address{};  // host:port resolved by resolve_address()
  socklen_t address_len = 0;

  bool http = false;
  unsigned clients = 10;          // concurrent clients (closed) or pooled connections (open)
  std::uint64_t connections = 0;  // measured connections to make; 0 = run for duration
  Nanos duration{0};              // measured time; 0 = run until connections are made
  Nanos warmup{0};                // run before measuring; excluded from every figure
  unsigned requests_per_conn = 1;
  std::uint64_t bytes = 4000;             // response body size asked for
  double rate = 0;                        // requests per second in total; 0 = closed loop
  Arrivals arrivals = Arrivals::uniform;  // open loop only
  std::uint64_t seed = 1;  // --arrivals poisson: the same seed gives the same schedule
  // Open loop: a send that starts more than late_after after its scheduled time is late; a run
  // whose late fraction is above max_late (if given) ends with exit status 1.
  Nanos late_after{std::chrono::milliseconds(1)};
  std::optional<double> max_late;
  Nanos timeout{std::chrono::milliseconds(10000)};  // per request, and per connect
  unsigned threads = 1;
  // Connections come from source_addresses addresses, source_base, source_base + 1, ... in
  // turn (IPv4 only). source_base is in host byte order; 0 = unbound, the kernel's choice.
  // For a loopback --host, --source-addresses above 1 starts at 127.0.0.1.
  unsigned source_addresses = 1;
  std::uint32_t source_base = 0;
  std::vector<int> cpus;      // thread i runs on cpus[i % size]; empty = unpinned
  bool progress = false;      // a line a second on stderr
  bool allow_errors = false;  // exit 0 despite failed requests
  std::string json_path;
  std::string hgrm_path;  // the total latency in HdrHistogram's percentile format

  bool open_loop() const { return rate > 0; }
};

// Fills address/address_len from host and port. Throws std::invalid_argument for a host that
// is not a numeric IPv4/IPv6 address (or "localhost"), or that is not loopback unless
// allow_remote. A host in 198.18.0.0/15 is accepted without allow_remote when this network
// namespace has an address in that range itself (benchmark_range_is_local()).
void resolve_address(Options& options, bool allow_remote);

// RFC 2544's benchmark range, 198.18.0.0/15; address in host byte order.
bool in_benchmark_range(std::uint32_t address);
// True if an interface of this network namespace has an IPv4 address in 198.18.0.0/15
// (getifaddrs): then a target there is on a link the suite made, not on the way out.
bool benchmark_range_is_local();

// The i-th source address, source_base + i, as text. Throws std::invalid_argument if
// source_base + count - 1 passes 255.255.255.255.
std::string source_address(std::uint32_t source_base, std::uint64_t i);
void check_source_range(std::uint32_t source_base, unsigned count);

// Parses argv. Returns the exit code to end with (0 after --help, 2 on a bad argument) or
// -1 to go on and run.
int parse_command_line(int argc, char** argv, Options& options);

// Runs parse (app.parse() and the checks after it) and turns what it throws into the exit code:
// -1 if it returned, 0 after --help, 2 after printing the message of a bad argument
// (CLI::ParseError or std::invalid_argument), prefixed by `who`, and 1 after a std::system_error.
int parse_or_exit(CLI::App& app, const char* who, const std::function<void()>& parse);

// "250ms", "10s", "2m", "1.5s", "500us"; a bare number is seconds. Throws std::invalid_argument.
Nanos parse_duration(const std::string& text);

std::string describe_address(const Options& options);  // "127.0.0.1:9000", "[::1]:9000"

}  // namespace tcplab::load
