// Options: everything one run of the load generator needs, filled by parse_command_line()
// or directly by tests that call run() in-process.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tcplab::load {

using Nanos = std::chrono::nanoseconds;

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  sockaddr_storage address{};  // host:port resolved by resolve_address()
  socklen_t address_len = 0;

  bool http = false;
  unsigned clients = 10;           // concurrent clients (closed) or pooled connections (open)
  std::uint64_t connections = 0;   // measured connections to make; 0 = run for duration
  Nanos duration{0};               // measured time; 0 = run until connections are made
  Nanos warmup{0};                 // run before measuring; excluded from every figure
  unsigned requests_per_conn = 1;
  std::uint64_t bytes = 4000;      // response body size asked for
  double rate = 0;                 // requests per second in total; 0 = closed loop
  Nanos timeout{std::chrono::milliseconds(10000)};  // per request, and per connect
  unsigned threads = 1;
  // Connections come from this many source addresses, 127.0.0.1, 127.0.0.2, ... in turn
  // (IPv4 loopback only; 1 = the kernel's choice). See kSourceAddressesHelp in cli.cpp.
  unsigned source_addresses = 1;
  std::vector<int> cpus;           // thread i runs on cpus[i % size]; empty = unpinned
  bool progress = false;           // a line a second on stderr
  bool allow_errors = false;       // exit 0 despite failed requests
  std::string json_path;

  bool open_loop() const { return rate > 0; }
};

// Fills address/address_len from host and port. Throws std::invalid_argument for a host that
// is not a numeric IPv4/IPv6 address (or "localhost"), or that is not loopback unless
// allow_remote.
void resolve_address(Options& options, bool allow_remote);

// Parses argv. Returns the exit code to end with (0 after --help, 2 on a bad argument) or
// -1 to go on and run.
int parse_command_line(int argc, char** argv, Options& options);

// "250ms", "10s", "2m", "1.5s", "500us"; a bare number is seconds. Throws std::invalid_argument.
Nanos parse_duration(const std::string& text);

std::string describe_address(const Options& options);  // "127.0.0.1:9000", "[::1]:9000"

}  // namespace tcplab::load
