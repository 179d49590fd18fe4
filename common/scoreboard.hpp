#pragma once
// The scoreboard: per-worker counters in memory shared by every process of the server (as in
// Apache's scoreboard). It is mapped MAP_SHARED before the first fork, so a worker's counts
// outlive the worker and the manager reads them without asking it. Threads use it the same way.
// Each slot is written by its own worker only (cache-line aligned: no false sharing); fork-
// and thread-per-client designs share slot 0, whose counters are atomic for that reason.
#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "enum_names.hpp"

namespace tcplab {

// How a connection can end badly; each is counted where it happens and logged once.
enum class Failure : unsigned {
  bad_request,         // refused by the protocol parser, answered with ERR / 4xx
  closed_mid_request,  // client closed with a partial request buffered
  timeout,             // no progress for --io-timeout-ms while reading or writing
  reset,               // ECONNRESET / EPIPE
  io_error,            // any other read or write error
  count_
};
inline constexpr std::size_t kFailureKinds = static_cast<std::size_t>(Failure::count_);
inline constexpr EnumName<Failure> kFailureNames[] = {
    {"bad_request", Failure::bad_request},
    {"closed_mid_request", Failure::closed_mid_request},
    {"timeout", Failure::timeout},
    {"reset", Failure::reset},
    {"io_error", Failure::io_error}};
static_assert(std::size(kFailureNames) == kFailureKinds, "a name for every kind of failure");
inline std::string_view failure_name(Failure f) {
  return name_of(kFailureNames, f);
}

// What happened to the server as a whole; written by the manager (or the accepting thread).
enum class Event : unsigned {
  fork_failed,
  thread_failed,
  worker_died,  // a worker process ended without being asked to
  worker_respawned,
  dropped,          // a connection accepted but given to no worker (all gone)
  process_created,  // fork() succeeded
  thread_created,   // pthread_create() succeeded
  count_
};
inline constexpr std::size_t kEventKinds = static_cast<std::size_t>(Event::count_);
inline constexpr EnumName<Event> kEventNames[] = {{"fork_failed", Event::fork_failed},
                                                  {"thread_failed", Event::thread_failed},
                                                  {"worker_died", Event::worker_died},
                                                  {"worker_respawned", Event::worker_respawned},
                                                  {"dropped", Event::dropped},
                                                  {"process_created", Event::process_created},
                                                  {"thread_created", Event::thread_created}};
static_assert(std::size(kEventNames) == kEventKinds, "a name for every event");
inline std::string_view event_name(Event e) {
  return name_of(kEventNames, e);
}

struct alignas(64) WorkerSlot {
  std::atomic<pid_t> pid{0};                  // process designs: who holds the slot now
  std::atomic<std::uint64_t> connections{0};  // finished connections
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint32_t> active{0};  // connections being served now
  std::array<std::atomic<std::uint64_t>, kFailureKinds> failures{};

  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  void fail(Failure f) { add(failures[static_cast<std::size_t>(f)]); }
};

class Scoreboard {
 public:
  // Maps room for `workers` slots (at least one) in anonymous shared memory.
  explicit Scoreboard(std::size_t workers);
  ~Scoreboard();
  Scoreboard(const Scoreboard&) = delete;
  Scoreboard& operator=(const Scoreboard&) = delete;

  std::size_t size() const { return size_; }
  WorkerSlot& slot(std::size_t i) { return slots_[i]; }
  const WorkerSlot& slot(std::size_t i) const { return slots_[i]; }

  void count(Event e) {
    events_[static_cast<std::size_t>(e)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t events(Event e) const { return events_[static_cast<std::size_t>(e)].load(); }

  std::uint64_t total_connections() const;
  std::uint64_t total_requests() const;
  std::uint64_t total_bytes() const;
  std::uint64_t total_failures(Failure f) const;

 private:
  std::size_t size_;
  std::size_t map_bytes_;
  WorkerSlot* slots_;
  std::atomic<std::uint64_t>* events_;
};

}  // namespace tcplab
