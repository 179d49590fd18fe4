// Stats: what one worker thread measured; Report: all workers merged, plus the window.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "enum_names.hpp"
#include "histogram.hpp"
#include "options.hpp"

namespace tcplab::load {

// Why a request failed. A connect failure fails the request it was opened for.
enum class Failure {
  refused,          // ECONNREFUSED: nothing listening
  connect_timeout,  // no connection within --timeout-ms
  reset,            // ECONNRESET or EPIPE: the server aborted the connection
  timeout,          // no complete response within --timeout-ms of the send
  short_read,       // EOF before all the bytes (or any byte) of the response
  bad_response,     // ERR line, extra bytes, HTTP status not 200, wrong Content-Length
  other,            // any other errno, e.g. EMFILE or EADDRNOTAVAIL (out of ports)
};
inline constexpr EnumName<Failure> kFailureNames[] = {{"refused", Failure::refused},
                                                      {"connect_timeout", Failure::connect_timeout},
                                                      {"reset", Failure::reset},
                                                      {"timeout", Failure::timeout},
                                                      {"short_read", Failure::short_read},
                                                      {"bad_response", Failure::bad_response},
                                                      {"other", Failure::other}};
inline constexpr std::size_t kFailureKinds = std::size(kFailureNames);  // Stats::failures[kind]

struct Stats {
  // A request counts if it started (was scheduled, in open loop) after the warmup; a
  // connection counts if it was opened after the warmup.
  Histogram connect;              // connect() to established, once per connection
  Histogram ttfb;                 // request sent to first response byte
  Histogram total;                // request start to last byte; open loop: from its scheduled time
  Histogram total_raw;            // open loop only: from when it was actually started
  std::uint64_t requests = 0;     // completed
  std::uint64_t connections = 0;  // established
  std::uint64_t bytes_in = 0, bytes_out = 0;  // all bytes read and written, heads included
  std::uint64_t abandoned = 0;  // in flight or queued when --duration ended: neither counted
  // Open loop: measured requests scheduled; of those, the sends that started more than
  // --late-after after their scheduled time (or never started, though due that long before the
  // end); and the largest delay of a send that started.
  std::uint64_t scheduled = 0, late = 0, max_late_ns = 0;
  std::array<std::uint64_t, kFailureKinds> failures{};
  std::uint64_t last_done_ns = 0;        // CLOCK_MONOTONIC of the last completed request
  double cpu_user_s = 0, cpu_sys_s = 0;  // getrusage(RUSAGE_THREAD) over the measured part

  std::uint64_t failed() const;
  void merge(const Stats& other);
};

struct Report {
  Options options;
  Stats stats;
  double seconds = 0;  // the measured window: after the warmup, to the end or last response
  std::vector<std::string> merged_from;  // `tcplab-load merge`: the files added up
};

}  // namespace tcplab::load
