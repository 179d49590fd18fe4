// tcplab-load as a user meets it: the binary, its exit codes, its messages, its JSON.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "load_test_server.hpp"

extern char** environ;

namespace tcplab::load {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int exit_code = -1;  // -1: killed after the time limit
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs build/bin/tcplab-load with args; kills it if it outlives the limit.
Outcome run_tool(std::vector<std::string> args, std::chrono::seconds limit = 20s) {
  const std::string dir = ::testing::TempDir();
  // ctest -j runs several of these processes at once: the files are per process.
  const std::string stem = dir + "/load_cli_" + std::to_string(::getpid());
  const std::string out = stem + ".out", err = stem + ".err";
  args.insert(args.begin(), std::string(TCPLAB_BIN_DIR) + "/tcplab-load");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return {};
  Outcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  if (status != -1 && WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  outcome.out = slurp(out);
  outcome.err = slurp(err);
  return outcome;
}

TEST(LoadCli, HelpListsEveryOptionWithUnits) {
  const Outcome o = run_tool({"--help"});
  EXPECT_EQ(o.exit_code, 0);
  for (const char* word : {"--port", "--host", "--clients", "--connections", "--duration",
                           "--warmup", "--requests-per-conn", "--bytes", "--rate", "--http",
                           "--timeout-ms", "--threads", "--cpu", "--json", "--allow-errors",
                           "--allow-remote", "--source-addresses", "milliseconds", "per second", "bytes"})
    EXPECT_NE(o.out.find(word), std::string::npos) << word;
}

struct BadArgs {
  const char* name;
  std::vector<std::string> args;
  const char* message;
};

void PrintTo(const BadArgs& bad, std::ostream* os) { *os << bad.name; }

class LoadCliBadArgs : public ::testing::TestWithParam<BadArgs> {};

TEST_P(LoadCliBadArgs, ExitTwoWithAMessage) {
  const Outcome o = run_tool(GetParam().args);
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_NE(o.err.find(GetParam().message), std::string::npos) << o.err;
}

INSTANTIATE_TEST_SUITE_P(
    Load, LoadCliBadArgs,
    ::testing::Values(BadArgs{"no_port", {"--clients", "5"}, "--port is required"},
                      BadArgs{"port_range", {"--port", "70000"}, "--port"},
                      BadArgs{"bad_duration", {"--port", "9000", "--duration", "5x"}, "not a duration"},
                      BadArgs{"remote_host", {"--port", "9000", "--host", "8.8.8.8"}, "not loopback"},
                      BadArgs{"host_name", {"--port", "9000", "--host", "example.org"}, "numeric"},
                      BadArgs{"rate_no_duration", {"--port", "9000", "--rate", "100"}, "--rate needs --duration"},
                      BadArgs{"bad_cpu", {"--port", "9000", "--cpu", "x"}, "not a CPU list"},
                      BadArgs{"zero_clients", {"--port", "9000", "--clients", "0"}, "--clients"},
                      BadArgs{"sources_ipv6", {"--port", "9000", "--host", "::1", "--source-addresses", "2"}, "needs an IPv4 loopback"},
                      BadArgs{"zero_sources", {"--port", "9000", "--source-addresses", "0"}, "--source-addresses"},
                      BadArgs{"unknown_flag", {"--port", "9000", "--bogus"}, "--bogus"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(LoadCli, MissingServerIsAClearErrorNotAHang) {
  const test::RefusingPort refusing;
  const std::string port = std::to_string(refusing.port());
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = run_tool({"--port", port, "--duration", "30s"}, 10s);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(o.err.find("connection refused to 127.0.0.1:" + port), std::string::npos) << o.err;
}

TEST(LoadCli, RunWritesTableAndJson) {
  test::TestServer server(test::serve_well);
  const std::string json_path =
      ::testing::TempDir() + "/load_cli_" + std::to_string(::getpid()) + ".json";
  const Outcome o = run_tool({"--port", std::to_string(server.port()), "--clients", "3",
                              "--connections", "200", "--requests-per-conn", "2", "--bytes",
                              "500", "--json", json_path});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("400 requests"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("p99.9"), std::string::npos);
  EXPECT_EQ(o.err, "");  // stderr is not a terminal: no progress lines
  const auto j = nlohmann::json::parse(slurp(json_path));
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["config"]["mode"], "closed");
  EXPECT_EQ(j["counts"]["requests"], 400);
  EXPECT_EQ(j["counts"]["connections"], 200);
  EXPECT_EQ(j["counts"]["bytes_in"], 400 * 500);
  EXPECT_EQ(j["counts"]["failed"], 0);
  EXPECT_EQ(j["counts"]["failures"].size(), 7u);
  EXPECT_GT(j["rates"]["requests_per_s"].get<double>(), 0);
  std::uint64_t in_buckets = 0;
  for (const auto& b : j["latency"]["total"]["buckets_ns"]) in_buckets += b[2].get<std::uint64_t>();
  EXPECT_EQ(in_buckets, 400u);
  EXPECT_EQ(j["latency"]["total"]["count"], 400);
  EXPECT_FALSE(j["latency"].contains("total_raw"));  // open loop only
}

TEST(LoadCli, FailedRequestsExitOneUnlessAllowed) {
  // The first request of a run is read and its connection closed unanswered (a FIN, since it
  // was read); every other request is served. The probe connection sends no request.
  std::atomic<bool> dropped{false};
  test::TestServer server([&](int fd, test::TestServer& s) {
    bool http = false, close_after = false;
    const long long n = test::read_request(fd, s, http, close_after);
    if (n < 0 || !dropped.exchange(true)) return;
    if (!test::write_all(fd, test::body(static_cast<std::uint64_t>(n)))) return;
    test::serve_well(fd, s);
  });
  const std::vector<std::string> args{"--port", std::to_string(server.port()), "--connections",
                                      "50", "--bytes", "10"};
  const Outcome strict = run_tool(args);
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.err.find("requests failed"), std::string::npos) << strict.err;
  auto lenient_args = args;
  lenient_args.push_back("--allow-errors");
  ASSERT_TRUE(server.wait_idle(std::chrono::seconds(5)));  // the first run's handlers are done
  dropped = false;
  const Outcome lenient = run_tool(lenient_args);
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
  EXPECT_NE(lenient.out.find("short_read 1"), std::string::npos) << lenient.out;
}

// Every connection's peer address, as the server saw it.
std::set<std::string> peers_of_a_run(const std::vector<std::string>& extra, nlohmann::json& j) {
  std::mutex mutex;
  std::set<std::string> peers;
  test::TestServer server([&](int fd, test::TestServer& s) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      char text[INET_ADDRSTRLEN] = "";
      ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      std::lock_guard lock(mutex);
      peers.insert(text);
    }
    test::serve_well(fd, s);
  });
  const std::string json_path =
      ::testing::TempDir() + "/load_sources_" + std::to_string(::getpid()) + ".json";
  std::vector<std::string> args{"--port", std::to_string(server.port()), "--clients", "3",
                                "--connections", "64", "--bytes", "10", "--json", json_path};
  args.insert(args.end(), extra.begin(), extra.end());
  const Outcome o = run_tool(args);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  j = nlohmann::json::parse(slurp(json_path));
  EXPECT_TRUE(server.wait_idle(std::chrono::seconds(5)));
  std::lock_guard lock(mutex);
  return peers;
}

TEST(LoadCli, SourceAddressesTakeTurns) {
  nlohmann::json j;
  EXPECT_EQ(peers_of_a_run({"--source-addresses", "4"}, j),
            (std::set<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}));
  EXPECT_EQ(j["config"]["source_addresses"], 4);
  EXPECT_EQ(j["counts"]["requests"], 64);
  EXPECT_EQ(peers_of_a_run({"--source-addresses", "1"}, j), std::set<std::string>{"127.0.0.1"});
  // The default for an IPv4 loopback server: 16 addresses, 64 connections, so all of them.
  EXPECT_EQ(peers_of_a_run({}, j).size(), 16u);
  EXPECT_EQ(j["config"]["source_addresses"], 16);
}

}  // namespace
}  // namespace tcplab::load
