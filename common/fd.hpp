#pragma once
// Fd: the one owner of a file descriptor. Move-only; closes once; -1 after a move.
#include <unistd.h>

#include <utility>

namespace tcplab {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }

  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership: the caller now closes the descriptor.
  int release() { return std::exchange(fd_, -1); }

  // Closes the descriptor held now, if any, and owns `fd` instead. close() is not retried on
  // EINTR: on Linux the descriptor is released even then, and a retry could close a reused one.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace tcplab
