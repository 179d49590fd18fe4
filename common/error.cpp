#include "error.hpp"

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>

namespace tcplab {

namespace {
std::string g_program = "tcplab";
// Threads of one process (the thread designs) log_once at the same time. No process that forks
// has a second thread (control.hpp), so a child never inherits this mutex locked: no
// pthread_atfork is needed.
std::mutex g_once_mutex;
std::set<std::string> g_once_keys;
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
