// Worker: one event-loop thread. It owns one epoll descriptor, its share of the connections,
// one read buffer and its Stats; nothing in it is touched by another thread except Progress.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "fd.hpp"  // common/: tcplab::Fd, the project's one owning descriptor
#include "protocol.hpp"
#include "schedule.hpp"
#include "stats.hpp"

namespace tcplab::load {

// Written by run() before the workers start; afterwards only the atomics change.
struct Shared {
  const Options& options;
  std::uint64_t start_ns = 0, warmup_end_ns = 0;  // CLOCK_MONOTONIC
  std::uint64_t end_ns = UINT64_MAX;              // warmup end + --duration, if given
  std::atomic<std::uint64_t> claimed{0};          // measured connections begun, of --connections
  std::array<std::atomic<bool>, kFailureKinds> logged{};  // each kind is logged once a run
};

// Read once a second by run() for the progress line.
struct alignas(64) Progress {
  std::atomic<std::uint64_t> requests{0}, failed{0};
};

class Worker {
 public:
  // clients: how many connections this worker drives at once (closed loop) or pools (open).
  Worker(Shared& shared, unsigned index, unsigned clients);
  void run();  // the thread body; throws std::system_error only if epoll itself fails
  const Stats& stats() const { return stats_; }
  Progress progress;

 private:
  struct Conn {
    enum class State : std::uint8_t { closed, connecting, sending, reading, idle };
    Fd fd;
    State state = State::closed;
    std::uint32_t generation = 0;  // bumped on close, so stale events of a batch are ignored
    bool readable = false, writable = false, error = false;  // edges seen (EPOLLET)
    bool peer_closed = false;  // EPOLLRDHUP: the EOF needs a read of its own, no edge follows
    bool conn_measured = false, req_measured = false, got_byte = false;
    unsigned done_here = 0;  // requests completed on this connection
    std::uint64_t conn_start = 0, req_start = 0, raw_start = 0, sent_at = 0, deadline = 0;
    const std::string* out = nullptr;
    std::size_t out_off = 0;
    ResponseParser parser;
  };
  using State = Conn::State;

  bool open_connection(Conn& c, std::uint64_t now);
  void begin_request(Conn& c, std::uint64_t now);
  void drive(Conn& c, std::uint64_t now);
  void read_response(Conn& c, std::uint64_t now);
  void complete(Conn& c, std::uint64_t now);
  void fail(Conn& c, Failure kind, std::string_view why, std::uint64_t now);
  void close(Conn& c);
  void release(Conn& c);
  void start_clients(std::uint64_t now);  // closed loop
  void dispatch(std::uint64_t now);       // open loop
  void count_lateness(std::uint64_t delay);
  void scan_timeouts(std::uint64_t now);
  void sample_cpu(double sign);
  std::size_t slot(const Conn& c) const { return std::size_t(&c - conns_.data()); }

  Shared& shared_;
  const Options& opt_;
  Fd epoll_;
  std::vector<Conn> conns_;
  Requests requests_;
  std::vector<char> buffer_;
  Stats stats_;
  // Closed loop: clients waiting to open their next connection; how many may still do so.
  std::vector<std::uint32_t> to_start_;
  unsigned active_ = 0;
  // Open loop: arrivals_ is at the first request not yet due, to_send_ at the first not yet
  // sent; the due_count_ - dispatched_ between them wait for a free connection. idle_ holds
  // open connections, closed_ slots to connect.
  Schedule arrivals_, to_send_;
  std::uint64_t due_count_ = 0, dispatched_ = 0;
  std::vector<std::uint32_t> idle_, closed_;
  unsigned next_source_;  // --source-addresses: the offset from --source-base to bind next
};

// Binds fd to address (IPv4, host byte order), leaving the port to connect(). Returns false
// with errno set. Used by the workers and by probe(), which checks the range before the run.
bool bind_source(int fd, std::uint32_t address);

}  // namespace tcplab::load
