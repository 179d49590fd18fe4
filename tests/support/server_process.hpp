#pragma once
// Test support: programs of the suite run as real processes.
//
//  - Process: runs a program with its stdout and stderr captured, in a process group of its
//    own; waits for it with a time limit; its destructor SIGKILLs the group and reaps. When
//    the program ends, whatever it left in its group is SIGKILLed before it is reaped.
//  - ServerProcess: tcplab-server on 127.0.0.1 and a port the kernel picks; ready once it has
//    printed "listening on HOST:PORT". stop() signals it and returns its exit and its output.
//  - run_program(): a program that ends by itself (--help, --list, bad arguments).
//  - /proc helpers: a process's children, open descriptors, state.
//
// Every call is made from the thread that created the object, and that thread must outlive it:
// the child is told to take SIGTERM when its parent thread ends (PR_SET_PDEATHSIG), so a test
// that crashes does not leave a server holding a port. Each object has one helper thread that
// drains the pipes, so a program that writes a lot never blocks on a full pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fd.hpp"

extern char** environ;

namespace tcplab::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Polls `done` every `every` until it is true or `limit` passed; true if it became true.
inline bool wait_until(const std::function<bool()>& done, milliseconds limit,
                       milliseconds every = 10ms) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// Where each thread of `pid` waits, from /proc: its state, kernel wait channel, system call
// (number and arguments) and signal masks. Read just before a test kills a program that outlived
// its time limit, so that a hang seen once, on a loaded CI machine, says where it was.
inline std::string where_it_waits(pid_t pid) {
  auto read = [](const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    return text;
  };
  std::string where;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    where += "task " + task.path().filename().string() + ": wchan " + read(task.path() / "wchan") +
             ", syscall " + read(task.path() / "syscall");
    std::istringstream status(read(task.path() / "status"));
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("State:") || line.starts_with("Sig") || line.starts_with("ShdPnd:"))
        where += "; " + line;
    where += "\n";
  }
  return where;
}

// How a program ended, and what it wrote.
struct Exit {
  int status = -1;              // the wait status; -1: never reaped
  bool killed_by_test = false;  // it outlived its time limit and was SIGKILLed
  std::string waiting_in;       // if so, where_it_waits() just before the kill
  milliseconds took{0};         // from the stop signal (or the start) to its end (see finish)
  std::string out, err;

  bool exited() const { return status != -1 && WIFEXITED(status); }
  int code() const { return exited() ? WEXITSTATUS(status) : -1; }
  std::string describe() const {
    std::string how = status == -1          ? "not reaped"
                      : WIFEXITED(status)   ? "exit " + std::to_string(WEXITSTATUS(status))
                      : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "wait status " + std::to_string(status);
    if (killed_by_test)
      how += " (SIGKILLed by the test after its time limit), waiting in:\n" + waiting_in;
    return how + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
  }
};

class Process {
 public:
  // argv[0] is the program's path.
  explicit Process(std::vector<std::string> argv) { spawn(std::move(argv)); }

  // Kills the program and its group if it still runs, and reaps it.
  ~Process() {
    kill_group(SIGKILL);
    reap(true);
    stop_draining(0ms);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() { return status_ == -1 && !reap(false); }

  // Sends `sig` to the program only (not to its children), if it has not been reaped.
  void signal(int sig) const {
    if (status_ == -1) ::kill(pid_, sig);
  }
  // Sends `sig` to every process in the program's group: it and the children it forked. Only
  // until it is reaped: after that its pid, which is the group's id, may be another's.
  void kill_group(int sig) const {
    if (status_ == -1) ::kill(-pid_, sig);
  }

  // Waits up to `limit` for the program to end; SIGKILLs its group if it does not. Then waits
  // (briefly) for the pipes to reach EOF and returns the exit and everything written.
  Exit finish(milliseconds limit, Clock::time_point since = {}) {
    Exit e;
    if (since == Clock::time_point{}) since = started_;
    const bool ended = wait_until([&] { return !running(); }, limit, 2ms);
    // Its end: when both its pipes reached EOF (it and every process that shared them had
    // exited), if that came before this call; not when the test got round to reaping it,
    // which can be seconds later (a test that first reads a long answer, under a sanitizer).
    Clock::time_point end = Clock::now();
    {
      std::lock_guard lock(mutex_);
      if (ended && output_ended_ >= since && output_ended_ < end) end = output_ended_;
    }
    e.took = std::chrono::duration_cast<milliseconds>(end - since);
    if (!ended) {
      e.killed_by_test = true;
      e.waiting_in = where_it_waits(pid_);
      kill_group(SIGKILL);
      reap(true);
    }
    e.status = status_;
    // Children the program left behind may hold the pipes open; do not wait for them long.
    stop_draining(2s);
    e.out = out();
    e.err = err();
    return e;
  }

  std::string out() const {
    std::lock_guard lock(mutex_);
    return out_;
  }
  std::string err() const {
    std::lock_guard lock(mutex_);
    return err_;
  }

  // Waits up to `limit` for `ready(stdout so far)`; false if the time passed or stdout ended.
  bool wait_for_out(const std::function<bool(const std::string&)>& ready, milliseconds limit) {
    std::unique_lock lock(mutex_);
    output_.wait_for(lock, limit, [&] { return ready(out_) || out_eof_; });
    return ready(out_);
  }

 private:
  void spawn(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2], err[2], exec_status[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
        ::pipe2(exec_status, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    Fd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
    Fd status_r(exec_status[0]), status_w(exec_status[1]);
    const pid_t parent = ::getpid();

    started_ = Clock::now();
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      // The child of a multithreaded process: async-signal-safe calls only, until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the test died already
      ::setpgid(0, 0);                          // its own group: the destructor kills it whole
      int null = ::open("/dev/null", O_RDONLY);
      if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out_w.get(), 1) < 0 ||
          ::dup2(err_w.get(), 2) < 0)
        ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig = 1; sig < NSIG; ++sig)
        ::sigaction(sig, &dfl, nullptr);  // SIG_IGN survives exec
      // Nothing of the test's but 0, 1 and 2 crosses the exec (the status pipe closes on it).
      if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)  // before Linux 5.11: one by one
        for (int fd = 3; fd < 4096; ++fd)
          ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::execve(argv[0], argv.data(), environ);
      int e = errno;
      [[maybe_unused]] auto n = ::write(status_w.get(), &e, sizeof e);
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // also here: no race with a kill of the group right after
    out_w.reset();
    err_w.reset();
    status_w.reset();
    int exec_errno = 0;
    ssize_t n;
    do
      n = ::read(status_r.get(), &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
      reap(true);
      throw std::system_error(exec_errno, std::generic_category(), std::string("exec ") + argv[0]);
    }
    drainer_ =
        std::thread([this, o = std::move(out_r), e = std::move(err_r)]() mutable { drain(o, e); });
  }

  // On the helper thread: copies both pipes into out_ and err_ until EOF on both, or until
  // stop_draining() asks it to end.
  void drain(Fd& out, Fd& err) {
    pollfd fds[2] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    char buf[8192];
    while ((fds[0].fd >= 0 || fds[1].fd >= 0) && !quit_) {
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        std::lock_guard lock(mutex_);
        if (n > 0) {
          (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(n));
        } else {
          fds[i].fd = -1;
          if (i == 0) out_eof_ = true;
          if (fds[0].fd < 0 && fds[1].fd < 0) output_ended_ = Clock::now();
        }
        output_.notify_all();
      }
    }
    std::lock_guard lock(mutex_);
    out_eof_ = true;
    output_.notify_all();
  }

  void stop_draining(milliseconds patience) {
    if (!drainer_.joinable()) return;
    wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          return out_eof_;
        },
        patience, 5ms);
    quit_ = true;
    drainer_.join();
  }

  // True once the program has been reaped (its status is in status_). Whatever it left in its
  // group is SIGKILLed first, while it is an unreaped zombie and so the group's id is still its
  // own: workers a broken server did not stop would hold its port.
  bool reap(bool block) {
    if (status_ != -1) return true;
    siginfo_t info{};
    const int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, flags) != 0)
      if (errno != EINTR) return false;
    if (info.si_pid != pid_) return false;  // WNOHANG, and still running
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0)
      if (errno != EINTR) return false;
    status_ = status;
    return true;
  }

  pid_t pid_ = -1;
  int status_ = -1;
  Clock::time_point started_;
  std::thread drainer_;
  std::atomic<bool> quit_{false};
  mutable std::mutex mutex_;
  std::condition_variable output_;
  std::string out_, err_;
  bool out_eof_ = false;
  Clock::time_point output_ended_;  // both pipes at EOF; set by the drainer
};

// Runs a program to its end (SIGKILLed after `limit`) and returns how it ended.
inline Exit run_program(std::vector<std::string> argv, milliseconds limit = 10s) {
  Process p(std::move(argv));
  return p.finish(limit);
}

inline std::string server_path() {
  return std::string(TCPLAB_BIN_DIR) + "/tcplab-server";
}

// tcplab-server with `args` (put "--port", "0" among them). The constructor returns once the
// server has printed its "listening on" line, or throws with what it wrote.
class ServerProcess {
 public:
  // `launcher` runs the server, e.g. {"/usr/bin/prlimit", "--nofile=64:64"}; it must exec
  // it (same pid), as prlimit and taskset do.
  explicit ServerProcess(std::vector<std::string> args, milliseconds ready_within = 10s,
                         std::vector<std::string> launcher = {})
      : process_(with_path(std::move(args), std::move(launcher))) {
    static const std::regex kListening(R"(^listening on (\S+):(\d+)\n)");
    std::string port;
    const bool ready = process_.wait_for_out(
        [&](const std::string& out) {
          std::smatch m;
          if (!std::regex_search(out, m, kListening)) return false;
          host_ = m[1];  // copied now: `out` grows, and moves, once the lock is let go
          port = m[2];
          return true;
        },
        ready_within);
    if (!ready) {
      Exit e = process_.finish(0ms);
      throw std::runtime_error("tcplab-server did not print \"listening on HOST:PORT\": " +
                               e.describe());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(port));
  }

  pid_t pid() const { return process_.pid(); }
  std::uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  bool running() { return process_.running(); }
  std::string out() const { return process_.out(); }
  std::string err() const { return process_.err(); }

  // Sends `sig` to the server process (not to its workers: stopping them is its job).
  void signal(int sig) {
    signalled_ = Clock::now();
    signal_ = sig;
    process_.signal(sig);
  }
  // Waits up to `limit` for the server to exit after signal(); SIGKILLs it and its group if it
  // does not. Exit::took counts from the signal.
  //
  // Under ThreadSanitizer the signal is sent again each second until the server ends. Its
  // runtime runs a handler late when the signal comes just before a call it does not treat
  // as blocking (GCC 12's libtsan: accept4): the call then blocks with the signal already
  // taken and the handler waiting for the call to return. Seen in CI: `iterative` still in
  // accept4 10 s after SIGTERM, nothing pending, its handler (which shuts the listener down)
  // never run (an earlier hang of the same server after SIGTERM, whose place was not recorded,
  // was most likely the same). A second signal interrupts that call. In every other build the
  // handler runs when the signal comes, and one signal stops every design: tested without this.
  Exit wait_exit(milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
#if defined(__SANITIZE_THREAD__)
    while (signal_ != 0 && Clock::now() + 1s < deadline &&
           !wait_until([&] { return !running(); }, 1s, 2ms))
      process_.signal(signal_);
#endif
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    return process_.finish(std::max(left, 0ms), signalled_);
  }
  Exit stop(int sig = SIGTERM, milliseconds limit = 10s) {
    signal(sig);
    return wait_exit(limit);
  }

 private:
  static std::vector<std::string> with_path(std::vector<std::string> args,
                                            std::vector<std::string> launcher) {
    args.insert(args.begin(), server_path());
    launcher.insert(launcher.end(), args.begin(), args.end());
    return launcher;
  }

  Process process_;
  std::string host_;
  std::uint16_t port_ = 0;
  Clock::time_point signalled_{};
  int signal_ = 0;  // the last signal() sent
};

// --- /proc ---

// The children of `pid`, from every one of its threads (any thread may have forked them).
// Zombies not yet reaped are listed too.
inline std::vector<pid_t> child_pids(pid_t pid) {
  std::set<pid_t> kids;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream file(task.path() / "children");
    for (pid_t kid; file >> kid;)
      kids.insert(kid);
  }
  return {kids.begin(), kids.end()};
}

// How many descriptors `pid` has open; -1 if it is gone.
inline int open_fd_count(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  return static_cast<int>(std::distance(it, std::filesystem::directory_iterator{}));
}

// The state letter of /proc/PID/stat (R, S, D, Z…); 0 if there is no such process.
inline char process_state(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), {});
  auto paren = stat.rfind(')');  // the command name may itself hold spaces and parentheses
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// Whether `pid` exists at all, a zombie included: kill(pid, 0) fails with ESRCH only once the
// process has been reaped.
inline bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// The state of the IPv4 TCP socket bound to `local_port` and connected to `remote_port`, both
// on this host, from /proc/net/tcp: 1 ESTABLISHED, 4 FIN_WAIT1, 8 CLOSE_WAIT… (the kernel's
// TCP_* numbers); 0 if there is none. It sees a server's side of a connection from outside.
inline int tcp_state(std::uint16_t local_port, std::uint16_t remote_port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    unsigned local_addr = 0, local = 0, remote_addr = 0, remote = 0, state = 0;
    if (std::sscanf(line.c_str(), " %*d: %8X:%4X %8X:%4X %2X", &local_addr, &local, &remote_addr,
                    &remote, &state) == 5 &&
        local == local_port && remote == remote_port)
      return static_cast<int>(state);
  }
  return 0;
}

}  // namespace tcplab::test
