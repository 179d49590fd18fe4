// run(): starts options.threads event-loop workers, waits for them, merges what they measured.
// Called by main() and, in-process, by the tests.
#pragma once

#include "stats.hpp"

namespace tcplab::load {

// Throws std::system_error if a thread cannot be set up (epoll_create1, pinning).
// Per-request failures never throw: they are counted in Report::stats.failures.
Report run(const Options& options);

// One blocking connect within options.timeout, so a missing server is a clear error rather
// than ten thousand counted refusals. Throws std::system_error("connect to 127.0.0.1:9000"),
// or ("bind to source address 198.18.0.9") if the first or last source address is not this
// host's.
void probe(const Options& options);

}  // namespace tcplab::load
