#include "accept_lock.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <string>

#include "error.hpp"

namespace tcplab {

namespace {

void set_lock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;  // the whole file: start 0, length 0
  check(retry_eintr([&] { return ::fcntl(fd, F_SETLKW, &fl); }), "fcntl F_SETLKW");
}

void check_pthread(int rc, const char* what) {
  if (rc != 0) throw sys_error(rc, what);
}

std::atomic<long> g_unlock_failures{0};

}  // namespace

FcntlLock::FcntlLock() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/tcplab-lock.XXXXXX";
  file_.reset(static_cast<int>(check(::mkostemp(path.data(), O_CLOEXEC), "mkstemp " + path)));
  ::unlink(path.c_str());
}

void FcntlLock::lock() {
  set_lock(file_.get(), F_WRLCK);
}
void FcntlLock::unlock() {
  set_lock(file_.get(), F_UNLCK);
}

ProcessMutexLock::ProcessMutexLock() : creator_(::getpid()) {
  void* p = ::mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw sys_error(errno, "mmap accept mutex");
  mutex_ = static_cast<pthread_mutex_t*>(p);
  pthread_mutexattr_t attr;
  check_pthread(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
  check_pthread(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                "pthread_mutexattr_setpshared");
  check_pthread(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
                "pthread_mutexattr_setrobust");
  check_pthread(pthread_mutex_init(mutex_, &attr), "pthread_mutex_init");
  pthread_mutexattr_destroy(&attr);
}

ProcessMutexLock::~ProcessMutexLock() {
  // Only the process that made it destroys it; a worker that inherited it just unmaps.
  if (::getpid() == creator_) pthread_mutex_destroy(mutex_);
  ::munmap(mutex_, sizeof(pthread_mutex_t));
}

void ProcessMutexLock::lock() {
  int rc = pthread_mutex_lock(mutex_);
  if (rc == EOWNERDEAD) {
    // The previous owner died while waiting in accept(); nothing it guarded is half-done.
    log("accept mutex: previous owner died holding it; recovered");
    rc = pthread_mutex_consistent(mutex_);
  }
  check_pthread(rc, "pthread_mutex_lock");
}

void ProcessMutexLock::unlock() {
  check_pthread(pthread_mutex_unlock(mutex_), "pthread_mutex_unlock");
}

AcceptLockGuard::~AcceptLockGuard() {
  try {
    lock_.unlock();
  } catch (const std::exception& e) {
    g_unlock_failures.fetch_add(1, std::memory_order_relaxed);
    log_once("accept-unlock",
             fmt::format("accept lock {}: unlock failed: {}", lock_.name(), e.what()));
  }
}

long unlock_failures() {
  return g_unlock_failures.load(std::memory_order_relaxed);
}

}  // namespace tcplab
