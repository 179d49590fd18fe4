#pragma once
// Child processes and the shared memory they report through, for tests that fork. A Child runs
// a function in a new process and _exit()s with its result, so the child never returns into
// GoogleTest; the test waits for it with a time limit, and the destructor SIGKILLs and reaps
// whatever is still running, so no test leaves a process behind even when an assertion fails.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace tcplab::test {

class Child {
 public:
  // `fn` runs in the child; its int result is the exit status (an exception exits 99).
  template <class F>
  explicit Child(F&& fn) {
    std::fflush(nullptr);  // no buffered output written twice
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      int status = 99;
      try {
        status = fn();
      } catch (...) {
      }
      ::_exit(status);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void kill(int sig) const { ::kill(pid_, sig); }

  // Reaps the child if it ends within `limit`; returns its wait status, or nullopt if it still
  // runs (it is then left to the destructor).
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (r < 0 && errno != EINTR) return std::nullopt;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      timespec ts{0, 1'000'000};
      ::nanosleep(&ts, nullptr);
    }
  }

  // True if the child exits with status 0 within `limit`.
  bool succeeds(std::chrono::milliseconds limit) {
    std::optional<int> status = wait(limit);
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
  }

 private:
  pid_t pid_ = -1;
};

// One T in anonymous shared memory, visible to every process forked after it was made.
// T should be made of lock-free atomics (or be guarded by the lock under test).
template <class T>
class Shared {
 public:
  Shared() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    value_ = new (p) T();
  }
  ~Shared() {
    value_->~T();
    ::munmap(value_, sizeof(T));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  T* operator->() const { return value_; }
  T& operator*() const { return *value_; }

 private:
  T* value_;
};

// Polls `done` every millisecond until it holds or `limit` passes; returns its last value.
template <class Pred>
bool wait_until(Pred&& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    timespec ts{0, 1'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return true;
}

}  // namespace tcplab::test
