#pragma once
// The two tiers of errors (STYLE.md):
//  - set-up failures throw std::system_error naming the call and its argument; main() prints it
//    and exits 1 (check(), sys_error());
//  - per-connection failures are counted in the scoreboard and logged once per kind per process
//    (log_once()), and never end the server.
#include <fmt/core.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace tcplab {

// Builds the exception for a failed call: "bind 127.0.0.1:80: Permission denied".
std::system_error sys_error(int err, std::string what);

// Returns rc, or throws sys_error(errno, what) when rc is -1.
inline long check(long rc, const std::string& what) {
  if (rc == -1) throw sys_error(errno, what);
  return rc;
}

// Calls f() again while it fails with EINTR (the one place tcplab retries on EINTR).
template <class F>
auto retry_eintr(F&& f) {
  for (;;) {
    auto rc = f();
    if (!(rc == -1 && errno == EINTR)) return rc;
  }
}

// Log lines go to stderr with the program name and pid: several processes share the terminal.
void set_program_name(std::string name);
void log_line(const std::string& message);

template <class... Args>
void log(fmt::format_string<Args...> format, Args&&... args) {
  log_line(fmt::format(format, std::forward<Args>(args)...));
}

// Logs the message the first time `key` is seen in this process, then stays quiet: a server
// under a thousand bad clients reports each kind of failure once and counts the rest. Any thread
// may call it, and a child forked while another thread is inside it can call it too (a forked
// child starts with its parent's keys).
void log_once(const std::string& key, const std::string& message);

}  // namespace tcplab
