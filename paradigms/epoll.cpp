// epoll: one thread, non-blocking sockets, one epoll loop (beyond UNP ch. 30: Chen Shuo's
// "scheme 5", the shape of Redis and of a single nginx worker).
//
// Nothing is created per connection, and nothing at all at start: the one thread accepts when
// the listener is readable and serves each connection as far as it can go without blocking.
// Like iterative, it never pays for a process or a thread; unlike iterative, a slow client
// holds up no one. What it cannot do is use a second CPU.
//
// The loop is here; what is done for one connection when epoll reports it (read, answer, write
// as the socket takes it, close) is shared with the other event-loop designs, as Stevens'
// web_child is (Connections, common/event_loop.hpp).
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "designs.hpp"
#include "error.hpp"
#include "event_loop.hpp"
#include "net.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

using Clock = LoopClock;
using std::chrono::milliseconds;

constexpr int kMaxEvents = 256;
constexpr int kAcceptBatch = 16;  // connections accepted per wake-up, at most

}  // namespace

int run_epoll(Server& server) {
  const Config& config = server.config;
  const int listener = server.listen_fd;
  Fd epoll(static_cast<int>(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")));
  Connections conns(epoll.get(), server.board.slot(0), config.serve);

  // The listener, level-triggered; data.ptr nullptr, which no connection has. It leaves the
  // set while descriptors run out (EMFILE), and for good when the server stops.
  set_nonblocking(listener, true);
  bool listening = false;
  auto watch_listener = [&](bool on) {
    if (on == listening) return;
    epoll_event ev{EPOLLIN, {.ptr = nullptr}};
    if (on)
      check(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener, &ev), "epoll_ctl ADD listener");
    else
      ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, listener, nullptr);
    listening = on;
  };
  watch_listener(true);

  StopSignalsHeld held;  // SIGINT, SIGTERM: only inside epoll_pwait
  bool stopping = false, listener_shut = false;
  int backoff_ms = 0;
  Clock::time_point now = Clock::now(), resume_at, stop_deadline;
  epoll_event events[kMaxEvents];
  for (;;) {
    if (!stopping && signals::stop_requested()) {
      stopping = true;
      stop_deadline = now + milliseconds(config.grace_ms);
      watch_listener(false);
      conns.begin_stop();
    }
    if (stopping && (conns.size() == 0 || now >= stop_deadline)) break;

    Clock::time_point next = conns.next_deadline();
    if (!listening && !stopping && !listener_shut) next = std::min(next, resume_at);
    if (stopping) next = std::min(next, stop_deadline);
    int n = ::epoll_pwait(epoll.get(), events, kMaxEvents, timeout_ms(next, now), held.wait_mask());
    if (n < 0 && errno != EINTR) throw sys_error(errno, "epoll_pwait");
    now = Clock::now();
    conns.set_now(now);

    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr != nullptr) {
        conns.on_event(events[i].data.ptr);
        continue;
      }
      // The listener is readable: accept what waits, a batch at a time.
      for (int k = 0; k < kAcceptBatch; ++k) {
        Accepted a = try_accept(listener, /*nonblocking=*/true);
        if (a.status == AcceptStatus::ok) {
          backoff_ms = 0;
          conns.adopt(std::move(a.conn));
          continue;
        }
        if (a.status == AcceptStatus::exhausted) {
          // Out of descriptors: level-triggered epoll would report the listener again at once,
          // for ever. Leave it out for 1 ms, doubling to 100 ms; the connection waits in the
          // backlog until a descriptor is free.
          backoff_ms = std::clamp(backoff_ms * 2, 1, 100);
          resume_at = now + milliseconds(backoff_ms);
          watch_listener(false);
        } else if (a.status == AcceptStatus::closed) {  // shutdown_listener(): stopping
          watch_listener(false);
          listener_shut = true;
        }
        break;  // retry (EAGAIN): nothing more waits
      }
    }
    conns.end_turn();
    if (!listening && !stopping && !listener_shut && now >= resume_at) watch_listener(true);
  }
  conns.close_all();  // what is left after the grace period is cut
  return 0;
}

}  // namespace tcplab
