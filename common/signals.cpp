#include "signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>

#include "error.hpp"
#include "net.hpp"

namespace tcplab::signals {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_child{false};
std::atomic<int> g_listen_fd{-1};
sigset_t g_saved_mask;  // the mask before block_for_manager(); ppoll waits with it
bool g_blocked = false;

static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "signal handlers may only touch lock-free atomics");

void on_stop(int) {
  int saved = errno;
  g_stop.store(true);
  if (int fd = g_listen_fd.load(); fd >= 0) shutdown_listener(fd);
  errno = saved;
}

void on_child(int) {
  g_child.store(true);
}

// No SA_RESTART: a blocking accept() or read() returns EINTR so that the caller looks at the flag.
void handle(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  check(::sigaction(sig, &sa, nullptr), "sigaction");
}

}  // namespace

void install_stop_handlers(int listen_fd) {
  g_listen_fd.store(listen_fd);
  handle(SIGPIPE, SIG_IGN);
  handle(SIGINT, on_stop);
  handle(SIGTERM, on_stop);
  handle(SIGCHLD, on_child);
}

void become_worker() {
  g_listen_fd.store(-1);
  g_child.store(false);
  handle(SIGCHLD, SIG_DFL);
  if (g_blocked) {
    ::sigprocmask(SIG_SETMASK, &g_saved_mask, nullptr);
    g_blocked = false;
  }
}

bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

void request_stop() {
  on_stop(SIGTERM);
}

StopSignalFd::StopSignalFd() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  if (int rc = ::pthread_sigmask(SIG_BLOCK, &stop, &saved_); rc != 0)
    throw sys_error(rc, "pthread_sigmask(SIG_BLOCK, SIGINT SIGTERM)");
  // A signal that came before the block was handled (the flag is set); one after it waits here.
  int fd = ::signalfd(-1, &stop, SFD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    throw sys_error(err, "signalfd(SIGINT SIGTERM)");
  }
  fd_.reset(fd);
}

StopSignalFd::~StopSignalFd() {
  ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

void block_for_manager() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  check(::sigprocmask(SIG_BLOCK, &set, &g_saved_mask), "sigprocmask");
  g_blocked = true;
}

int wait_for_events(pollfd* fds, nfds_t n, int timeout_ms) {
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
  return ::ppoll(fds, n, timeout_ms < 0 ? nullptr : &ts, g_blocked ? &g_saved_mask : nullptr);
}

bool take_child_exited() {
  return g_child.exchange(false);
}

}  // namespace tcplab::signals
