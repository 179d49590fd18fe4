#include "control.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "backoff.hpp"
#include "error.hpp"
#include "net.hpp"

namespace tcplab {

ControlSocket::ControlSocket(std::string path, std::function<std::string()> answer)
    : path_(std::move(path)), answer_(std::move(answer)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path)
    throw std::invalid_argument("--control path too long: " + path_);
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listener_.reset(
      static_cast<int>(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket AF_UNIX")));
  ::unlink(path_.c_str());
  check(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind " + path_);
  check(::listen(listener_.get(), 16), "listen " + path_);
  spare_.reset(
      static_cast<int>(check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null")));

  // The thread starts with every signal blocked; the mask is inherited from this thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { serve(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ControlSocket::~ControlSocket() {
  shutdown_listener(listener_.get());  // wakes the thread's accept() with EINVAL
  thread_.join();
  ::unlink(path_.c_str());
}

void ControlSocket::serve() {
  Backoff backoff(1, 100);
  for (;;) {
    if (!spare_) spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // -1 while none is free
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && errno == EMFILE && spare_) {
      // Out of descriptors: give back the spare for this one accept. Another thread may take
      // the slot first; then the next turn backs off and tries again.
      spare_.reset();
      fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log_once("control-accept",
                 fmt::format("control accept: {}: backing off", std::strerror(errno)));
        backoff.failed();
        continue;
      }
      return;  // EINVAL: shut down by the destructor
    }
    backoff.succeeded();
    Fd conn(fd);
    set_io_timeouts(fd, 2000);
    char request[64];
    if (ssize_t n = ::read(fd, request, sizeof request - 1); n > 0) {
      std::string_view line(request, static_cast<std::size_t>(n));
      std::string reply = line.starts_with("snapshot")
                              ? answer_() + "\n"
                              : "{\"error\": \"unknown command; send: snapshot\"}\n";
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    // A worker forked by the manager while this connection was open holds a copy of it: the
    // client would never see EOF from close() alone, answered or not (a request that did not
    // come within the timeout). shutdown() ends it in every process.
    ::shutdown(fd, SHUT_RDWR);
  }
}

}  // namespace tcplab
