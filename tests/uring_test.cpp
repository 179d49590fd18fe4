// The io_uring designs (paradigms/uring.cpp, paradigms/uring_msgring.cpp) beyond the contract
// every design keeps (e2e_server_test.cpp and the others run them like any design): the probe
// that refuses them where io_uring cannot run, and uring-msgring's dispatch to a named worker.
//
// The refusal is tested for real without touching the machine's settings: the server runs in a
// child that first installs a seccomp filter failing io_uring_setup, as a container's default
// profile does. (kernel.io_uring_disabled=2 gives the same exit with its own line; that is global
// state, checked by hand: README.md, "io_uring".)
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/e2e.hpp"
#include "uring.hpp"

namespace tcplab::test {
namespace {

using nlohmann::json;

// Runs tcplab-server with `args` in a child whose io_uring_setup fails with `err` (seccomp, as
// Docker's default profile); returns its exit status and its stderr and stdout.
struct Refused {
  int status = -1;
  std::string out, err;
};
Refused run_with_io_uring_blocked(const std::vector<std::string>& args, int err) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(err)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(120);
    std::vector<char*> argv;
    std::string path = server_path();
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(121);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  Refused r;
  auto drain = [](int fd, std::string& to) {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
      to.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
  };
  drain(out_pipe[0], r.out);  // the server writes little: no pipe fills while the other waits
  drain(err_pipe[0], r.err);
  ::waitpid(pid, &r.status, 0);
  return r;
}

class Blocked : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Blocked, DesignExitsTwoWithOneLineNamingTheCause) {
  const auto& [design, err] = GetParam();
  Refused r = run_with_io_uring_blocked({design, "--port", "0"}, err);
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  ASSERT_NE(WEXITSTATUS(r.status), 120) << "seccomp could not be installed";
  EXPECT_EQ(WEXITSTATUS(r.status), 2) << r.err;
  const std::string cause = err == EPERM ? "io_uring_setup is not permitted (EPERM"
                                         : "io_uring_setup is not implemented (ENOSYS";
  EXPECT_TRUE(r.err.starts_with("tcplab-server: " + design + ": " + cause)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line:\n" << r.err;
  EXPECT_EQ(r.out, "") << "nothing listened";
}

TEST_P(Blocked, ListMarksOnlyTheIoUringDesignsUnavailableWithTheReason) {
  const auto& [design, err] = GetParam();
  Refused r = run_with_io_uring_blocked({"--list", "--json"}, err);
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.err;
  json table = json::parse(r.out);
  int unavailable = 0;
  for (const json& d : table["designs"]) {
    SCOPED_TRACE(d["name"].get<std::string>());
    EXPECT_EQ(d["available"], !d["io_uring"].get<bool>());
    if (d["available"]) {
      EXPECT_TRUE(d["unavailable_reason"].is_null());
      continue;
    }
    ++unavailable;
    EXPECT_NE(d["unavailable_reason"].get<std::string>().find(err == EPERM ? "EPERM" : "ENOSYS"),
              std::string::npos);
  }
  EXPECT_EQ(unavailable, 2);
  Refused text = run_with_io_uring_blocked({"--list"}, err);
  EXPECT_NE(text.out.find("[unavailable here: "), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(IoUring, Blocked,
                         ::testing::Combine(::testing::Values("uring", "uring-msgring"),
                                            ::testing::Values(EPERM, ENOSYS)),
                         [](const auto& p) {
                           return design_param_name(std::get<0>(p.param)) +
                                  (std::get<1>(p.param) == EPERM ? "_EPERM" : "_ENOSYS");
                         });

// Where io_uring works, the table says so: a test that would be skipped is not.
TEST(IoUringHere, TheProbeAgreesWithAnActualRing) {
  io_uring ring{};
  const bool works = io_uring_queue_init(4, &ring, 0) == 0;
  if (works) io_uring_queue_exit(&ring);
  if (!works) GTEST_SKIP() << "io_uring cannot be set up here: " << uring_unavailable_reason();
  EXPECT_EQ(uring_unavailable_reason(), "");
  EXPECT_TRUE(design_row("uring").available());
  EXPECT_TRUE(design_row("uring-msgring").available());
}

// --- The stop: a completion on the ring, not a signal handler --------------------------------

// The blocked-signal mask (SigBlk) of every thread of `pid`, from /proc/PID/task/TID/status.
std::vector<std::uint64_t> thread_signal_masks(pid_t pid) {
  std::vector<std::uint64_t> masks;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("SigBlk:")) masks.push_back(std::stoull(line.substr(7), nullptr, 16));
  }
  return masks;
}

int signalfd_count(pid_t pid) {
  int n = 0;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    n += std::filesystem::read_symlink(fd.path(), ec) == "anon_inode:[signalfd]" ? 1 : 0;
  }
  return n;
}

class StopSignal : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { skip_if_unavailable(GetParam()); }
};

// Every thread keeps SIGINT and SIGTERM blocked, even while it waits in io_uring_enter, and the
// server holds a signalfd for them: a signal stays pending until the ring's read of it completes,
// so no handler has to interrupt the wait (ThreadSanitizer runs a handler only at a call it
// intercepts, which io_uring_enter is not: a handler-based stop timed out there). And each
// signal still stops the server cleanly.
TEST_P(StopSignal, IsBlockedInEveryThreadAndReadFromASignalfd) {
  const std::uint64_t stop_bits = 1ull << (SIGINT - 1) | 1ull << (SIGTERM - 1);
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    std::vector<std::string> args{GetParam(), "--port", "0"};
    if (GetParam() == "uring-msgring") args.insert(args.end(), {"--workers", "3"});
    ServerProcess server(args);
    ASSERT_TRUE(good_request(server.port(), 10));  // every thread is up, waiting in its ring
    std::vector<std::uint64_t> masks = thread_signal_masks(server.pid());
    ASSERT_FALSE(masks.empty());
    for (std::uint64_t mask : masks)
      EXPECT_EQ(mask & stop_bits, stop_bits) << std::hex << mask;
    EXPECT_EQ(signalfd_count(server.pid()), 1);
    Exit e = server.stop(sig);
    EXPECT_EQ(e.code(), 0) << e.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(IoUring, StopSignal, ::testing::Values("uring", "uring-msgring"),
                         [](const auto& p) { return design_param_name(p.param); });

// --- uring-msgring: the connection reaches the worker the policy names ----------------------

class MsgRing : public ::testing::Test {
 protected:
  void SetUp() override { skip_if_unavailable("uring-msgring"); }
};

// Round-robin, one connection at a time: connection k is served by worker k mod 3, so after 7
// the summary counts 3, 2, 2 — and the snapshot after each one shows that worker's count grow.
TEST_F(MsgRing, RoundRobinPassesConnectionKToWorkerKModN) {
  StatsFile stats;
  ServerProcess server({"uring-msgring", "--port", "0", "--workers", "3", "--dispatch",
                        "round-robin", "--stats-json", stats.path()});
  for (int k = 0; k < 7; ++k)
    ASSERT_TRUE(good_request(server.port(), 100 + k));
  Exit e = server.stop();
  ASSERT_EQ(e.code(), 0) << e.describe();
  EXPECT_EQ(stats.per_worker(), (std::vector<std::uint64_t>{3, 2, 2})) << stats.read().dump(2);
  EXPECT_EQ(stats.read()["events"].value("dropped", 0), 0);
}

// Least-loaded: worker 0 holds an idle connection, so every later one goes to the others (ties
// go round them), none to worker 0 until its connection ends.
TEST_F(MsgRing, LeastLoadedPassesAroundTheWorkerThatHoldsAConnection) {
  StatsFile stats;
  ServerProcess server({"uring-msgring", "--port", "0", "--workers", "3", "--dispatch",
                        "least-loaded", "--stats-json", stats.path()});
  Client held(server.port());
  ASSERT_TRUE(held);
  ASSERT_EQ(held.send("10\n"), IoStatus::ok);
  ASSERT_EQ(held.read_exactly(10).data, expected_body(10));  // worker 0 has it now
  for (int k = 0; k < 6; ++k)
    ASSERT_TRUE(good_request(server.port(), 1000));
  held.close();
  Exit e = server.stop();
  ASSERT_EQ(e.code(), 0) << e.describe();
  EXPECT_EQ(stats.per_worker(), (std::vector<std::uint64_t>{1, 3, 3})) << stats.read().dump(2);
}

// Worker 0 serves nothing (support/e2e.hpp's unanswered_with_worker_0_stalled).
std::size_t unanswered_with_worker_0_stalled(const std::string& dispatch, int n,
                                             const StatsFile& stats) {
  return test::unanswered_with_worker_0_stalled(
      {"uring-msgring", "--port", "0", "--workers", "4", "--dispatch", dispatch}, n, stats);
}

// Round-robin looks at nothing: the stalled worker keeps being given its turn, as in
// loop-per-thread.
TEST_F(MsgRing, RoundRobinKeepsHandingAStalledWorkerItsTurn) {
  StatsFile stats;
  EXPECT_EQ(unanswered_with_worker_0_stalled("round-robin", 20, stats), 5u);
}

// Least-loaded sees what the stalled worker holds (passed, never finished) and passes around it
// after its first.
TEST_F(MsgRing, LeastLoadedPassesAroundAStalledWorker) {
  StatsFile stats;
  EXPECT_LE(unanswered_with_worker_0_stalled("least-loaded", 20, stats), 1u);
}

TEST_F(MsgRing, FirstFreeIsRefusedWithTheValuesItTakes) {
  Exit e = run_program({server_path(), "uring-msgring", "--port", "0", "--dispatch", "first-free"});
  EXPECT_EQ(e.code(), 2) << e.describe();
  EXPECT_NE(e.err.find("--dispatch first-free is not a policy of uring-msgring (it takes "
                       "least-loaded, round-robin)"),
            std::string::npos)
      << e.err;
}

}  // namespace
}  // namespace tcplab::test
