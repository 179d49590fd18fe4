#pragma once
// serve_connection(): the work every design does per connection (UNP's web_child). Reads
// requests, answers them, and returns when the client closes, misbehaves, or the server stops.
// Runs in whichever process or thread the design gives the connection to; it owns `conn` and
// closes it on return. Nothing a client sends makes it allocate: one fixed buffer on the stack.
#include <cstdint>

#include "fd.hpp"
#include "scoreboard.hpp"

namespace tcplab {

struct ServeConfig {
  std::uint64_t max_bytes = 1 << 20;  // --max-bytes
  int io_timeout_ms = 10000;          // --io-timeout-ms
  int work_us = 0;                    // --work-us: CPU spent on each request before answering
  // --fault-inject: the line request "crash" aborts the process that serves it, so the fault
  // tests can show what one crashing handler costs each design. Off by default, and then
  // "crash" is refused like any other bad line ("ERR not a number").
  bool fault_inject = false;
};

void serve_connection(Fd conn, WorkerSlot& slot, const ServeConfig& config);

// The same, but `fd` stays open for the caller to close: prefork-fdpass's child reports itself
// free first, so the client cannot see the close (and come back) before the report is sent.
void serve_connection_open(int fd, WorkerSlot& slot, const ServeConfig& config);

}  // namespace tcplab
