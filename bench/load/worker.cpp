// The event loop of one worker thread: non-blocking connects, one epoll in edge-triggered
// mode (each socket is added once and never modified), one clock read per event.
#include "worker.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

namespace tcplab::load {

namespace {

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr std::uint64_t kScanNs = 10'000'000;  // timeouts are checked every 10 ms

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

Failure classify(int err, bool connecting) {
  switch (err) {
    case ECONNREFUSED:
      return Failure::refused;
    case ETIMEDOUT:
      return connecting ? Failure::connect_timeout : Failure::timeout;
    case ECONNRESET:
    case EPIPE:
      return Failure::reset;
    default:
      return Failure::other;
  }
}

}  // namespace

Worker::Worker(Shared& shared, unsigned index, unsigned clients)
    : shared_(shared),
      opt_(shared.options),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      conns_(clients),
      requests_(build_requests(opt_.http, opt_.bytes)),
      buffer_(kBufferSize),
      // Closed loop: never consulted (a rate of 1 keeps the arithmetic finite).
      arrivals_(opt_.arrivals, opt_.open_loop() ? opt_.rate : 1, opt_.threads, index, opt_.seed,
                shared.start_ns),
      to_send_(arrivals_),
      next_source_(index % std::max(1u, opt_.source_addresses)) {
  if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  to_start_.reserve(clients);
  idle_.reserve(clients);
  closed_.reserve(clients);
  for (std::uint32_t i = clients; i-- > 0;)
    (opt_.open_loop() ? closed_ : to_start_).push_back(i);
  active_ = clients;
}

// Starts a non-blocking connect for c; the request goes out when it is established.
// Returns false if it failed at once (the failure is counted).
bool Worker::open_connection(Conn& c, std::uint64_t now) {
  c.state = State::connecting;
  c.conn_start = now;
  c.deadline = now + std::uint64_t(opt_.timeout.count());
  c.readable = c.writable = c.error = c.peer_closed = false;
  c.done_here = 0;
  c.conn_measured = now >= shared_.warmup_end_ns;
  const int fd = ::socket(opt_.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(c, Failure::other, std::strerror(errno), now), false;
  c.fd.reset(fd);
  if (opt_.source_base != 0) {
    const bool bound = bind_source(fd, opt_.source_base + next_source_);
    if (++next_source_ == opt_.source_addresses) next_source_ = 0;
    if (!bound) return fail(c, Failure::other, std::strerror(errno), now), false;
  }
  // No TCP_NODELAY: each request is written whole while nothing is unacknowledged, so Nagle
  // never holds it back, and one syscall less per connection shows in conn/s.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&opt_.address), opt_.address_len) < 0 &&
      errno != EINPROGRESS) {
    const int err = errno;
    return fail(c, classify(err, true), std::strerror(err), now), false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = slot(c) | std::uint64_t(c.generation) << 32;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return fail(c, Failure::other, std::strerror(errno), now), false;
  return true;
}

// Why several source addresses: one destination gives each source address about 28,000
// ephemeral ports, and a port whose connection this side closed first stays in TIME_WAIT,
// unusable for a second even with tcp_tw_reuse. Past some 14,000 connections a second connect()
// starts scanning the port range for a free one, and the generator, not the server, sets the
// pace. IP_BIND_ADDRESS_NO_PORT leaves the port to connect(), which picks it per destination.
bool bind_source(int fd, std::uint32_t address) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) return false;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(address);
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) == 0;
}

void Worker::begin_request(Conn& c, std::uint64_t now) {
  c.sent_at = now;
  c.deadline = now + std::uint64_t(opt_.timeout.count());
  c.got_byte = false;
  c.out = c.done_here + 1 == opt_.requests_per_conn ? &requests_.last : &requests_.next;
  c.out_off = 0;
  c.parser.start(opt_.http, opt_.bytes);
  c.state = State::sending;
}

// Moves c along as far as the edges seen allow.
void Worker::drive(Conn& c, std::uint64_t now) {
  for (;;) {
    switch (c.state) {
      case State::connecting: {
        if (c.error) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
          if (err == 0) err = ECONNRESET;  // EPOLLHUP without an error: aborted
          return fail(c, classify(err, true), std::strerror(err), now);
        }
        if (!c.writable) return;
        if (c.conn_measured) {
          stats_.connect.record(now - c.conn_start);
          ++stats_.connections;
        }
        if (!opt_.open_loop()) {  // the first request's time includes the connect
          c.req_start = c.raw_start = c.conn_start;
          c.req_measured = c.conn_measured;
        }
        begin_request(c, now);
        break;
      }
      case State::sending: {
        if (!c.writable) return;
        const ssize_t n =
            ::send(c.fd.get(), c.out->data() + c.out_off, c.out->size() - c.out_off, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) return void(c.writable = false);
          const int err = errno;
          return fail(c, classify(err, false), std::strerror(err), now);
        }
        if (c.req_measured) stats_.bytes_out += std::uint64_t(n);
        c.out_off += std::size_t(n);
        if (c.out_off < c.out->size()) return void(c.writable = false);  // buffer full
        c.state = State::reading;
        if (!opt_.http && opt_.bytes == 0) complete(c, now);  // "0\n" has an empty answer
        break;
      }
      case State::reading:
        if (!c.readable) return;
        read_response(c, now);
        break;
      case State::idle:
        // An open-loop connection between requests: the server closed it (keep-alive
        // timeout) or said something unasked. Drop it quietly; nothing was in flight.
        if (c.readable || c.error) {
          close(c);
          release(c);
        }
        return;
      case State::closed:
        return;
    }
  }
}

void Worker::read_response(Conn& c, std::uint64_t now) {
  for (;;) {
    const ssize_t n = ::recv(c.fd.get(), buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return void(c.readable = false);
      const int err = errno;
      return fail(c, classify(err, false), std::strerror(err), now);
    }
    if (n == 0) return fail(c, Failure::short_read, "end of file before the whole response", now);
    // A short read from a stream socket means it is drained (epoll(7)): wait for the next
    // edge. But a FIN that came with the data gives no further edge, so read on to the EOF.
    if (std::size_t(n) < buffer_.size() && !c.peer_closed) c.readable = false;
    if (!c.got_byte) {
      c.got_byte = true;
      if (c.req_measured) stats_.ttfb.record(now - c.sent_at);
    }
    if (c.req_measured) stats_.bytes_in += std::uint64_t(n);
    std::size_t used = 0;
    switch (c.parser.feed(buffer_.data(), std::size_t(n), used)) {
      case ResponseParser::Status::bad:
        return fail(c, Failure::bad_response, c.parser.error(), now);
      case ResponseParser::Status::done:
        if (used < std::size_t(n))
          return fail(c, Failure::bad_response, "more bytes than asked", now);
        return complete(c, now);
      case ResponseParser::Status::more:
        if (!c.readable) return;
    }
  }
}

void Worker::complete(Conn& c, std::uint64_t now) {
  if (c.req_measured) {
    ++stats_.requests;
    stats_.total.record(now - c.req_start);
    if (opt_.open_loop()) stats_.total_raw.record(now - c.raw_start);
    stats_.last_done_ns = now;
    progress.requests.store(stats_.requests, std::memory_order_relaxed);
  }
  ++c.done_here;
  if (c.done_here >= opt_.requests_per_conn || c.parser.server_closes()) {
    close(c);
    return release(c);
  }
  if (opt_.open_loop()) {
    c.state = State::idle;
    return release(c);
  }
  c.req_start = c.raw_start = now;
  c.req_measured = now >= shared_.warmup_end_ns;
  begin_request(c, now);
}

void Worker::fail(Conn& c, Failure kind, std::string_view why, std::uint64_t now) {
  (void)now;
  if (c.req_measured) {
    ++stats_.failures[std::size_t(kind)];
    progress.failed.store(stats_.failed(), std::memory_order_relaxed);
  }
  // Counted every time, told once: a dead server would otherwise print thousands of lines.
  if (!shared_.logged[std::size_t(kind)].exchange(true))
    fmt::print(stderr, "tcplab-load: first {} failure ({}): {}\n", name_of(kFailureNames, kind),
               describe_address(opt_), why);
  close(c);
  release(c);
}

void Worker::close(Conn& c) {
  c.fd.reset();
  c.state = State::closed;
  ++c.generation;
}

// c has finished with its request: closed loop, its client goes round again; open loop, the
// slot (idle or closed) serves a waiting request. Both happen after the current batch.
void Worker::release(Conn& c) {
  if (!opt_.open_loop()) return to_start_.push_back(std::uint32_t(slot(c)));
  (c.state == State::idle ? idle_ : closed_).push_back(std::uint32_t(slot(c)));
}

void Worker::start_clients(std::uint64_t now) {
  // Swap out first: a connect that fails at once puts its client back for the next round.
  std::vector<std::uint32_t> starting;
  starting.swap(to_start_);
  for (std::uint32_t i : starting) {
    Conn& c = conns_[i];
    bool go = now < shared_.end_ns;
    if (go && opt_.connections && now >= shared_.warmup_end_ns)
      go = shared_.claimed.fetch_add(1, std::memory_order_relaxed) < opt_.connections;
    if (!go) {
      --active_;
      continue;
    }
    c.req_measured = now >= shared_.warmup_end_ns;  // so a failed connect counts as a request
    open_connection(c, now);
  }
  starting.clear();
  if (to_start_.empty()) to_start_.swap(starting);  // keep the capacity: no allocation later
}

void Worker::dispatch(std::uint64_t now) {
  while (arrivals_.next() <= now && arrivals_.next() < shared_.end_ns) {
    arrivals_.advance();
    ++due_count_;
  }
  while (dispatched_ < due_count_ && (!idle_.empty() || !closed_.empty())) {
    const bool reuse = !idle_.empty();
    auto& stack = reuse ? idle_ : closed_;
    Conn& c = conns_[stack.back()];
    stack.pop_back();
    c.req_start = to_send_.next();  // latency counts from the schedule, not from now
    to_send_.advance();
    ++dispatched_;
    c.raw_start = now;
    c.req_measured = c.req_start >= shared_.warmup_end_ns;
    if (c.req_measured) count_lateness(now - c.req_start);
    if (reuse) {
      begin_request(c, now);
      drive(c, now);
    } else {
      open_connection(c, now);
    }
  }
}

// Open loop: a measured send started `delay` ns after its scheduled time.
void Worker::count_lateness(std::uint64_t delay) {
  ++stats_.scheduled;
  if (delay > std::uint64_t(opt_.late_after.count())) ++stats_.late;
  stats_.max_late_ns = std::max(stats_.max_late_ns, delay);
}

void Worker::scan_timeouts(std::uint64_t now) {
  for (Conn& c : conns_) {
    if (c.state == State::closed || c.state == State::idle || now < c.deadline) continue;
    const bool connecting = c.state == State::connecting;
    fail(c, connecting ? Failure::connect_timeout : Failure::timeout,
         fmt::format("no {} within {} ms", connecting ? "connection" : "response",
                     opt_.timeout.count() / 1'000'000),
         now);
  }
}

void Worker::sample_cpu(double sign) {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  stats_.cpu_user_s += sign * (double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) * 1e-6);
  stats_.cpu_sys_s += sign * (double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) * 1e-6);
}

void Worker::run() {
  // The open loop sleeps until each request is due; the default 50 µs timer slack would
  // start every request late and show up as latency the server did not cause.
  if (opt_.open_loop()) ::prctl(PR_SET_TIMERSLACK, 1UL);
  std::vector<epoll_event> events(512);
  bool measuring = false;
  std::uint64_t next_scan = now_ns() + kScanNs;
  for (;;) {
    std::uint64_t now = now_ns();
    if (!measuring && now >= shared_.warmup_end_ns) {
      sample_cpu(-1);  // the CPU time spent in the warmup is subtracted at the end
      measuring = true;
    }
    if (now >= shared_.end_ns) break;
    if (opt_.open_loop()) {
      dispatch(now);
    } else {
      start_clients(now);
      if (active_ == 0) break;
    }

    std::uint64_t wake = std::min(shared_.end_ns, next_scan);
    if (opt_.open_loop()) wake = std::min(wake, arrivals_.next());
    if (!to_start_.empty()) wake = now;
    const std::uint64_t wait = wake > now ? wake - now : 0;
    const timespec timeout{time_t(wait / 1'000'000'000), long(wait % 1'000'000'000)};
    const int n = epoll_pwait2(epoll_.get(), events.data(), int(events.size()), &timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "epoll_pwait2");
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[events[i].data.u64 & 0xffffffff];
      if (std::uint32_t(events[i].data.u64 >> 32) != c.generation) continue;  // closed since
      const std::uint32_t ev = events[i].events;
      c.readable |= (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
      c.writable |= (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
      c.error |= c.state == State::connecting && (ev & (EPOLLERR | EPOLLHUP)) != 0;
      c.peer_closed |= (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
      now = now_ns();
      drive(c, now);
    }
    if (now >= next_scan) {
      scan_timeouts(now);
      next_scan = now + kScanNs;
    }
  }

  // --duration is over: what is still in flight or queued is neither a success nor a failure.
  for (Conn& c : conns_) {
    if (c.req_measured && c.state != State::closed && c.state != State::idle) ++stats_.abandoned;
    close(c);
  }
  // Requests due but never sent, for want of a free connection or in the last turn of the loop:
  // abandoned, and late if they were due more than --late-after before the end.
  if (opt_.open_loop())
    for (; arrivals_.next() < shared_.end_ns; arrivals_.advance())
      ++due_count_;
  for (; dispatched_ < due_count_; ++dispatched_, to_send_.advance()) {
    if (to_send_.next() < shared_.warmup_end_ns) continue;
    ++stats_.abandoned;
    ++stats_.scheduled;
    if (shared_.end_ns - to_send_.next() > std::uint64_t(opt_.late_after.count())) ++stats_.late;
  }
  if (measuring) sample_cpu(+1);
}

}  // namespace tcplab::load
