#include "control.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "error.hpp"

namespace tcplab {

namespace {
constexpr auto kClientTimeout = std::chrono::seconds(2);
constexpr std::size_t kMaxClients = 16;
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);  // after EMFILE, ENOMEM…
}  // namespace

ControlSocket::ControlSocket(std::string path, std::function<std::string()> answer)
    : path_(std::move(path)), answer_(std::move(answer)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path)
    throw std::invalid_argument("--control path too long: " + path_);
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listener_.reset(static_cast<int>(
      check(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket AF_UNIX")));
  ::unlink(path_.c_str());
  check(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind " + path_);
  check(::listen(listener_.get(), 16), "listen " + path_);
  spare_.reset(
      static_cast<int>(check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null")));
}

ControlSocket::~ControlSocket() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
    thread_.join();
  }
  ::unlink(path_.c_str());
}

void ControlSocket::start_thread() {
  wake_.reset(static_cast<int>(check(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")));
  // The thread starts with every signal blocked; the mask is inherited from this thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] {
    PollSet set;
    for (;;) {
      set.clear();
      add_to(set);
      std::size_t stop = set.add(wake_.get(), POLLIN);
      set.poll();
      if (set.revents(stop)) return;
      handle(set);
    }
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void ControlSocket::add_to(PollSet& set) {
  const Clock::time_point now = Clock::now();
  auto ms_until = [&](Clock::time_point t) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
    return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60'000));
  };
  for (Client& c : clients_) {
    c.polled = set.add(c.conn.get(), c.reply.empty() ? POLLIN : POLLOUT);
    set.wake_within(ms_until(c.deadline));
  }
  listener_polled_ = kNotPolled;
  if (clients_.size() >= kMaxClients) return;  // they wait in the backlog until one is done
  if (now < accept_again_)
    set.wake_within(ms_until(accept_again_));
  else
    listener_polled_ = set.add(listener_.get(), POLLIN);
}

void ControlSocket::handle(const PollSet& set) {
  const Clock::time_point now = Clock::now();
  for (Client& c : clients_)
    step(c, set.revents(c.polled), now);
  std::erase_if(clients_, [](const Client& c) { return !c.conn; });
  if (listener_polled_ != kNotPolled && (set.revents(listener_polled_) & POLLIN))
    accept_clients(now);
}

void ControlSocket::accept_clients(Clock::time_point now) {
  while (clients_.size() < kMaxClients) {
    if (!spare_) spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // -1 while none is free
    const int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, flags);
    if (fd < 0 && errno == EMFILE && spare_) {
      // Out of descriptors: give back the spare for this one accept. Another thread (a thread
      // design's worker) may take the slot first; then the next turn backs off and tries again.
      spare_.reset();
      fd = ::accept4(listener_.get(), nullptr, nullptr, flags);
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log_once("control-accept",
                 fmt::format("control accept: {}: backing off", std::strerror(errno)));
        accept_again_ = now + kAcceptBackoff;
      }
      return;  // EAGAIN: no more waiting
    }
    clients_.push_back({.conn = Fd(fd), .deadline = now + kClientTimeout});
  }
}

// One client's turn: read its request, or write what is left of the answer; close it when it is
// answered, gone, or out of time.
void ControlSocket::step(Client& c, short revents, Clock::time_point now) {
  const int fd = c.conn.get();
  if (c.reply.empty() && revents != 0) {
    char request[64];
    ssize_t n = ::recv(fd, request, sizeof request - 1, MSG_DONTWAIT);
    if (n > 0) {
      std::string_view line(request, static_cast<std::size_t>(n));
      c.reply = line.starts_with("snapshot") ? answer_() + "\n"
                                             : "{\"error\": \"unknown command; send: snapshot\"}\n";
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      c.conn.reset();  // gone before it asked
      return;
    }
  }
  if (!c.reply.empty()) {
    ssize_t n =
        ::send(fd, c.reply.data() + c.sent, c.reply.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) c.sent += static_cast<std::size_t>(n);
    if (c.sent == c.reply.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      c.conn.reset();  // answered (the client reads it, then EOF), or gone
      return;
    }
  }
  if (now >= c.deadline) c.conn.reset();
}

void ControlSocket::close_in_child() {
  clients_.clear();
}

}  // namespace tcplab
