#include "error.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>

namespace tcplab {

namespace {
std::string g_program = "tcplab";
std::mutex g_once_mutex;
std::set<std::string> g_once_keys;

// fork() copies only the thread that calls it. Had another thread held g_once_mutex at that
// moment (the control thread logging EMFILE while the manager forks a worker), the child would
// inherit it locked and hang on its first log_once. So fork() first waits for the lock and both
// sides then release it. Re-making the mutex in the child instead would be wrong: the set would
// be left as the other thread's insert left it, half-linked.
[[maybe_unused]] const int g_once_atfork = ::pthread_atfork(
    [] { g_once_mutex.lock(); }, [] { g_once_mutex.unlock(); }, [] { g_once_mutex.unlock(); });
}  // namespace

std::system_error sys_error(int err, std::string what) {
  return std::system_error(err, std::generic_category(), std::move(what));
}

void set_program_name(std::string name) {
  g_program = std::move(name);
}

void log_line(const std::string& message) {
  // One write() per line so that lines from several processes do not interleave.
  std::string line = fmt::format("{}[{}]: {}\n", g_program, ::getpid(), message);
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

void log_once(const std::string& key, const std::string& message) {
  {
    std::lock_guard lock(g_once_mutex);
    if (!g_once_keys.insert(key).second) return;
  }
  log_line(message + " (logged once; see the summary for counts)");
}

}  // namespace tcplab
