#include "event_loop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "connection_parts.hpp"
#include "error.hpp"
#include "net.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

namespace proto = protocol;
using std::chrono::milliseconds;

constexpr int kMaxEvents = 256;
constexpr int kAcceptBatch = 16;  // connections accepted per wake-up, at most
// What one connection may do per turn before the others get theirs: a client that pipelines
// without end, or reads a huge response as fast as it comes, must not hold the loop.
constexpr std::size_t kWriteBudget = 1 << 20;
constexpr int kRequestBudget = 64;
// Lingering close, as serve_connection's linger_close(): 500 ms per read, 2 s and 64 reads in all.
constexpr milliseconds kLingerQuiet{500}, kLingerMax{2000};
constexpr int kLingerReads = 64;

// epoll_event.data.ptr of the two descriptors that are not connections.
char g_listener_tag, g_wake_tag;

}  // namespace

StopSignalsHeld::StopSignalsHeld() {
  sigemptyset(&stop_signals_);
  sigaddset(&stop_signals_, SIGINT);
  sigaddset(&stop_signals_, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals_, &wait_mask_);
  sigdelset(&wait_mask_, SIGINT);
  sigdelset(&wait_mask_, SIGTERM);
}

StopSignalsHeld::~StopSignalsHeld() {
  ::pthread_sigmask(SIG_UNBLOCK, &stop_signals_, nullptr);
}

int timeout_ms(LoopClock::time_point next, LoopClock::time_point now) {
  if (next == LoopClock::time_point::max()) return -1;
  auto ms = std::chrono::ceil<milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<long>(ms, 0, 60'000));
}

// --- EventLoop: the shared loop of the pooled event-loop designs --------------------------------

EventLoop::EventLoop(WorkerSlot& slot, const ServeConfig& config, int grace_ms)
    : grace_ms_(grace_ms),
      epoll_(static_cast<int>(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"))),
      wake_(static_cast<int>(check(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd"))),
      conns_(epoll_.get(), slot, config) {
  epoll_event ev{EPOLLIN, {.ptr = &g_wake_tag}};
  check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev), "epoll_ctl ADD eventfd");
}

EventLoop::~EventLoop() = default;  // connections still held close with their Fd

void EventLoop::watch_listener(int listen_fd, bool exclusive) {
  set_nonblocking(listen_fd, true);
  listen_fd_ = listen_fd;
  exclusive_ = exclusive;
  listen_on(true);
}

// EPOLL_CTL_DEL and ADD, not MOD: EPOLLEXCLUSIVE may not be modified.
void EventLoop::listen_on(bool on) {
  if (listen_fd_ < 0 || on == listening_) return;
  epoll_event ev{EPOLLIN | (exclusive_ ? EPOLLEXCLUSIVE : 0u), {.ptr = &g_listener_tag}};
  if (on)
    check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listen_fd_, &ev), "epoll_ctl ADD listener");
  else
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listen_fd_, nullptr);
  listening_ = on;
}

void EventLoop::post(Fd conn) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(conn));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);  // EAGAIN: already awake
}

void EventLoop::stop() {
  stop_requested_.store(true);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

bool EventLoop::stopping() const {
  return stop_requested_.load() || (stop_on_signal_ && signals::stop_requested());
}

void EventLoop::run() {
  StopSignalsHeld held;
  if (stall_) {  // --stall-worker: hold the listener and the posted connections, serve nothing
    listen_on(false);
    timespec slice{0, 50'000'000};
    while (!stopping())
      ::ppoll(nullptr, 0, &slice, held.wait_mask());
  }
  epoll_event events[kMaxEvents];
  for (;;) {
    now_ = Clock::now();
    conns_.set_now(now_);
    if (!stopping_ && stopping()) begin_stop();
    if (stopping_ && (conns_.size() == 0 || now_ >= stop_deadline_)) break;
    // Until the earliest of: a connection's deadline, the listener's return after a back-off,
    // the end of the grace period.
    Clock::time_point next = conns_.next_deadline();
    if (!listening_ && backoff_ms_ > 0 && !stopping_) next = std::min(next, resume_listen_at_);
    if (stopping_) next = std::min(next, stop_deadline_);
    int n =
        ::epoll_pwait(epoll_.get(), events, kMaxEvents, timeout_ms(next, now_), held.wait_mask());
    if (n < 0 && errno != EINTR) throw sys_error(errno, "epoll_pwait");
    now_ = Clock::now();
    conns_.set_now(now_);
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &g_listener_tag)
        accept_ready();
      else if (tag == &g_wake_tag)
        take_posted();
      else
        conns_.on_event(tag);
    }
    conns_.end_turn();
    if (!listening_ && backoff_ms_ > 0 && now_ >= resume_listen_at_ && !stopping_) listen_on(true);
  }
  conns_.close_all();
}

void EventLoop::begin_stop() {
  stopping_ = true;
  stop_deadline_ = now_ + milliseconds(grace_ms_);
  listen_on(false);
  take_posted();  // accepted before the stop: each still gets its first answer
  conns_.begin_stop();
}

void EventLoop::accept_ready() {
  for (int k = 0; k < kAcceptBatch; ++k) {
    Accepted a = try_accept(listen_fd_, /*nonblocking=*/true);
    switch (a.status) {
      case AcceptStatus::ok:
        backoff_ms_ = 0;
        conns_.adopt(std::move(a.conn));
        continue;
      case AcceptStatus::exhausted:
        // Out of descriptors: the listener stays readable, and level-triggered epoll would
        // report it again at once, for ever. Stop watching it for a while (1 ms doubling to
        // 100 ms); the connection waits in the backlog until a descriptor is free.
        backoff_ms_ = std::clamp(backoff_ms_ * 2, 1, 100);
        resume_listen_at_ = now_ + milliseconds(backoff_ms_);
        listen_on(false);
        return;
      case AcceptStatus::closed:  // shutdown_listener(): the server is stopping
        listen_on(false);
        listen_fd_ = -1;
        return;
      case AcceptStatus::retry:  // EAGAIN: another worker took it, or nothing more waits
        return;
    }
  }
}

void EventLoop::take_posted() {
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(wake_.get(), &count, sizeof count);
  std::vector<Fd> conns;
  {
    std::lock_guard lock(mutex_);
    conns.swap(posted_);
  }
  for (Fd& conn : conns) {
    set_nonblocking(conn.get(), true);
    conns_.adopt(std::move(conn));
  }
}

// --- Connections: one thread's connections, each a non-blocking state machine --------------------

Connections::Connections(int epoll_fd, WorkerSlot& slot, const ServeConfig& config)
    : epoll_fd_(epoll_fd), slot_(slot), config_(config), now_(Clock::now()) {}

void Connections::on_event(void* tag) {
  if (auto* c = static_cast<Connection*>(tag); !c->ready) drive(*c);
}

void Connections::end_turn() {
  std::vector<Connection*> again;
  again.swap(ready_);
  for (Connection* c : again) {
    c->ready = false;
    drive(*c);
  }
  expire();
}

void Connections::begin_stop() {
  stopping_ = true;
  // Idle between requests: close now (serve_connection does the same at its next read).
  for (auto it = active_.begin(); it != active_.end();) {
    Connection& c = *it++;
    if (c.state == State::reading && c.have == 0) finish(c);
  }
}

void Connections::close_all() {
  while (!active_.empty())
    finish(active_.front());
  while (!lingering_.empty())
    finish(lingering_.front());
}

void Connections::adopt(Fd conn) {
  Connection& c = active_.emplace_back();
  c.self = std::prev(active_.end());
  c.fd = std::move(conn);
  c.last = now_;
  slot_.active.fetch_add(1, std::memory_order_relaxed);
  // Edge-triggered, both directions, once: drive() always goes on until read or write would
  // block, so an edge is never missed and the registration never changes.
  epoll_event ev{EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, {.ptr = &c}};
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd.get(), &ev) == -1) {
    count_failure(slot_, Failure::io_error, errno);
    finish(c);
    return;
  }
  drive(c);  // the request is often there already
}

// Runs the connection as far as it goes without blocking: step, answer, step again, like
// serve_connection's loop, returning where that one would wait. false: it was closed.
bool Connections::drive(Connection& c) {
  if (c.state == State::lingering) return linger(c);
  std::size_t budget = kWriteBudget;
  for (int requests = 0;;) {
    if (c.state == State::answering || c.state == State::refusing) {
      int err = 0;
      if (!write_some(c, budget, err)) {
        if (err == EAGAIN) return true;  // EPOLLOUT will bring us back
        if (err == 0) {                  // the budget is spent: next turn
          c.ready = true;
          ready_.push_back(&c);
          return true;
        }
        if (c.state == State::answering) count_failure(slot_, classify(err), err);
        finish(c);
        return false;
      }
      if (c.state == State::answering) slot_.add(slot_.requests);
      switch (c.after) {
        case After::close:
          return finish(c), false;
        case After::linger:
          start_linger(c);
          return linger(c);
        case After::next:
          c.state = State::reading;
          break;
      }
      if (++requests == kRequestBudget) {
        c.ready = true;
        ready_.push_back(&c);
        return true;
      }
    }

    Step s = step({c.buf, c.have}, c.state == State::reading, stopping_, config_);
    switch (s.action) {
      case Action::read: {
        ssize_t n = ::read(c.fd.get(), c.buf + c.have, sizeof c.buf - c.have);
        if (n > 0) {
          // Only a request's first bytes count as progress: the rest must come within the
          // timeout of those, or a client trickling a byte at a time would never time out.
          if (c.have == 0) touch(c);
          c.have += static_cast<std::size_t>(n);
          continue;
        }
        if (n == 0) {
          if (c.have > 0) count_failure(slot_, Failure::closed_mid_request);
        } else if (errno == EAGAIN || errno == EINTR) {
          return true;  // EPOLLIN will bring us back
        } else {
          count_failure(slot_, classify(errno), errno);
        }
        finish(c);
        return false;
      }
      case Action::close:
        return finish(c), false;
      case Action::crash:
        crash_on_request();
      case Action::refuse:
        count_refused(slot_, s.error, config_.max_bytes);
        c.state = State::refusing;
        break;
      case Action::answer:
        drop_front(c.buf, c.have, s.consumed);
        busy_work(config_.work_us);
        c.state = State::answering;
        break;
    }
    c.head = std::move(s.head);
    c.head_off = c.body_off = 0;
    c.body_left = s.body;
    c.after = s.after;
  }
}

// Writes what the socket takes of the response. true: all written. false with `err` EAGAIN
// (the socket is full), 0 (the budget is spent) or the errno of a failed write.
bool Connections::write_some(Connection& c, std::size_t& budget, int& err) {
  while (c.head_off < c.head.size() || c.body_left > 0) {
    if (budget == 0) return err = 0, false;
    iovec iov[2];
    int n = 0;
    if (c.head_off < c.head.size())
      iov[n++] = {c.head.data() + c.head_off, c.head.size() - c.head_off};
    if (c.body_left > 0) {
      // Any slice of the pattern that starts at the right digit continues it (kBodyChunk % 10 ==
      // 0).
      std::size_t room = proto::kBodyChunk - 10;
      std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>({c.body_left, room, budget}));
      iov[n++] = {const_cast<char*>(proto::body_chunk()) + c.body_off % 10, len};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(n);
    ssize_t sent = ::sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return err = errno, false;
    }
    auto done = static_cast<std::size_t>(sent);
    if (c.state == State::answering)
      slot_.add(slot_.bytes_sent, done);  // as serve_connection counts
    budget -= std::min(budget, done);
    touch(c);
    std::size_t from_head = std::min(done, c.head.size() - c.head_off);
    c.head_off += from_head;
    c.body_off += done - from_head;
    c.body_left -= done - from_head;
  }
  return true;
}

// After refusing a request: stop sending, read and discard what the client still sends for a
// bounded time, then close (serve_connection's linger_close(), without blocking).
void Connections::start_linger(Connection& c) {
  ::shutdown(c.fd.get(), SHUT_WR);
  c.state = State::lingering;
  c.linger_start = now_;
  lingering_.splice(lingering_.end(), active_, c.self);
  c.last = now_;
}

bool Connections::linger(Connection& c) {
  char sink[4096];
  for (;;) {
    ssize_t n = ::read(c.fd.get(), sink, sizeof sink);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0 || ++c.linger_reads >= kLingerReads || now_ - c.linger_start >= kLingerMax) break;
    touch(c);
  }
  finish(c);
  return false;
}

// Progress: the connection goes to the back of its list, whose front is always the oldest.
void Connections::touch(Connection& c) {
  c.last = now_;
  List& list = c.state == State::lingering ? lingering_ : active_;
  list.splice(list.end(), list, c.self);
}

void Connections::finish(Connection& c) {
  if (c.ready) std::erase(ready_, &c);
  slot_.add(slot_.connections);  // counted before it stops being active (see connection.cpp)
  slot_.active.fetch_sub(1, std::memory_order_release);
  (c.state == State::lingering ? lingering_ : active_)
      .erase(c.self);  // closes the descriptor, leaving epoll
}

void Connections::expire() {
  const auto timeout = milliseconds(config_.io_timeout_ms);
  while (!active_.empty() && now_ - active_.front().last >= timeout) {
    count_failure(slot_, Failure::timeout);
    finish(active_.front());
  }
  while (!lingering_.empty() && now_ - lingering_.front().last >= kLingerQuiet)
    finish(lingering_.front());
}

Connections::Clock::time_point Connections::next_deadline() const {
  if (!ready_.empty()) return now_;
  Clock::time_point next = Clock::time_point::max();
  if (!active_.empty()) next = active_.front().last + milliseconds(config_.io_timeout_ms);
  if (!lingering_.empty()) next = std::min(next, lingering_.front().last + kLingerQuiet);
  return next;
}

}  // namespace tcplab
