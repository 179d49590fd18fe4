#pragma once
// Accounting: what the whole server has used since it started — every process and thread,
// the workers that have already exited included. Two snapshots taken over the control socket
// (control.hpp) bound a measurement window; their difference is what the window cost, with
// warm-up left out. Stevens' "kill the children, then getrusage()" gives only the whole life.
//
// Where each figure comes from:
//  - this process, all its threads, dead ones included: getrusage(RUSAGE_SELF);
//  - reaped children: getrusage(RUSAGE_CHILDREN);
//  - live worker processes (pids from the scoreboard): CPU from their CPU-time clock
//    (clock_getcpuclockid: nanoseconds), split into user and sys in the proportion of the
//    kernel's tick samples in /proc/PID/stat, as getrusage itself does, and never below the
//    split an earlier snapshot reported (so a window's user or sys is never negative); context
//    switches and peak RSS (VmHWM) from /proc/PID/status.
// A worker reaped between two of those reads is counted in neither or both: workers do not
// die during a measurement unless a fault test kills them.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server.hpp"

namespace tcplab {

struct Usage {
  double cpu_user_s = 0;
  double cpu_sys_s = 0;
  std::uint64_t voluntary_ctxt = 0;    // waits: the process gave up the CPU
  std::uint64_t involuntary_ctxt = 0;  // preemptions
  std::uint64_t peak_rss_max_kb = 0;   // the largest process
  std::uint64_t peak_rss_sum_kb = 0;   // this process plus the live workers
  std::size_t live_processes = 0;      // this process plus the live workers
};

Usage measure_usage(const Scoreboard& board);

// A process's tick samples, utime and stime (fields 14 and 15 of /proc/PID/stat, in clock
// ticks of sysconf(_SC_CLK_TCK)); nullopt if there is no such process.
struct StatTicks {
  double utime = 0;
  double stime = 0;
};
std::optional<StatTicks> stat_ticks(pid_t pid);

// Everything a snapshot holds, as JSON: time, usage, counts, per-worker connections, failures.
nlohmann::json snapshot(const Server& server);

}  // namespace tcplab
