#pragma once
// Accept locks: at most one worker at a time waits in accept(), so a new connection wakes one
// worker instead of the whole pool (UNP 30.7-30.8). One interface, four implementations, chosen
// by the design; the accept loop does not know which it has (Stevens' my_lock_wait/release).
//
// Each is created by the manager before the workers start and is shared by them: the fcntl
// file and the process-shared mutex are inherited across fork(); the thread mutex is shared
// memory already.
#include <pthread.h>

#include <memory>
#include <mutex>
#include <string_view>

#include "fd.hpp"

namespace tcplab {

class AcceptLock {
 public:
  virtual ~AcceptLock() = default;
  virtual void lock() = 0;
  virtual void unlock() = 0;
  virtual std::string_view name() const = 0;
};

// prefork: no lock; the kernel wakes the waiters in accept() itself.
class NoLock final : public AcceptLock {
 public:
  void lock() override {}
  void unlock() override {}
  std::string_view name() const override { return "none"; }
};

// prefork-fcntl: a POSIX record lock on a temporary file (unlinked at once: only the open
// descriptor keeps it). Record locks belong to a process, so this works across fork() but
// not between threads of one process.
class FcntlLock final : public AcceptLock {
 public:
  FcntlLock();
  void lock() override;
  void unlock() override;
  std::string_view name() const override { return "fcntl"; }

 private:
  Fd file_;
};

// prefork-mutex: a pthread mutex in shared memory, PTHREAD_PROCESS_SHARED and robust: when
// its owner dies holding it, the next locker gets EOWNERDEAD, marks it consistent and goes on,
// instead of the whole pool blocking for ever.
class ProcessMutexLock final : public AcceptLock {
 public:
  ProcessMutexLock();
  ~ProcessMutexLock() override;
  ProcessMutexLock(const ProcessMutexLock&) = delete;
  ProcessMutexLock& operator=(const ProcessMutexLock&) = delete;
  void lock() override;
  void unlock() override;
  std::string_view name() const override { return "process-mutex"; }

 private:
  pthread_mutex_t* mutex_;
  pid_t creator_;
};

// prethread-mutex: an ordinary mutex shared by the threads of one process.
class ThreadMutexLock final : public AcceptLock {
 public:
  void lock() override { mutex_.lock(); }
  void unlock() override { mutex_.unlock(); }
  std::string_view name() const override { return "thread-mutex"; }

 private:
  std::mutex mutex_;
};

// Holds `lock` for one scope. A failed lock() throws (the worker cannot go on safely); a failed
// unlock() in the destructor, which must not throw (std::terminate), is logged once per process
// and counted in unlock_failures().
class AcceptLockGuard {
 public:
  explicit AcceptLockGuard(AcceptLock& lock) : lock_(lock) { lock_.lock(); }
  ~AcceptLockGuard();
  AcceptLockGuard(const AcceptLockGuard&) = delete;
  AcceptLockGuard& operator=(const AcceptLockGuard&) = delete;

 private:
  AcceptLock& lock_;
};

// How many AcceptLockGuard destructors in this process failed to unlock.
long unlock_failures();

}  // namespace tcplab
