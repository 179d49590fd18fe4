// tcplab-load as a user meets it: the binary, its exit codes, its messages, its JSON.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "load_test_server.hpp"
#include "support/server_process.hpp"

namespace tcplab::load {
namespace {

using namespace std::chrono_literals;

using tcplab::test::Exit;

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs build/bin/tcplab-load with args (support/server_process.hpp); SIGKILLs it if it outlives
// the limit, and then Exit::code() is -1.
Exit run_tool(std::vector<std::string> args, std::chrono::seconds limit = 20s) {
  args.insert(args.begin(), std::string(TCPLAB_BIN_DIR) + "/tcplab-load");
  return tcplab::test::run_program(std::move(args), limit);
}

TEST(LoadCli, HelpListsEveryOptionWithUnits) {
  const Exit o = run_tool({"--help"});
  EXPECT_EQ(o.code(), 0);
  for (const char* word : {"--port",
                           "--host",
                           "--clients",
                           "--connections",
                           "--duration",
                           "--warmup",
                           "--requests-per-conn",
                           "--bytes",
                           "--rate",
                           "--http",
                           "--timeout-ms",
                           "--threads",
                           "--cpu",
                           "--json",
                           "--allow-errors",
                           "--allow-remote",
                           "--source-addresses",
                           "--source-base",
                           "--arrivals",
                           "poisson",
                           "--seed",
                           "--late-after",
                           "--max-late",
                           "--hgrm",
                           "merge",
                           "milliseconds",
                           "per second",
                           "bytes"})
    EXPECT_NE(o.out.find(word), std::string::npos) << word;
}

struct BadArgs {
  const char* name;
  std::vector<std::string> args;
  const char* message;
};

void PrintTo(const BadArgs& bad, std::ostream* os) {
  *os << bad.name;
}

class LoadCliBadArgs : public ::testing::TestWithParam<BadArgs> {};

TEST_P(LoadCliBadArgs, ExitTwoWithAMessage) {
  const Exit o = run_tool(GetParam().args);
  EXPECT_EQ(o.code(), 2) << o.err;
  EXPECT_NE(o.err.find(GetParam().message), std::string::npos) << o.err;
}

INSTANTIATE_TEST_SUITE_P(
    Load, LoadCliBadArgs,
    ::testing::Values(
        BadArgs{"no_port", {"--clients", "5"}, "--port is required"},
        BadArgs{"port_range", {"--port", "70000"}, "--port"},
        BadArgs{"bad_duration", {"--port", "9000", "--duration", "5x"}, "not a duration"},
        BadArgs{"remote_host", {"--port", "9000", "--host", "8.8.8.8"}, "not loopback"},
        BadArgs{"host_name", {"--port", "9000", "--host", "example.org"}, "numeric"},
        BadArgs{"rate_no_duration", {"--port", "9000", "--rate", "100"}, "--rate needs --duration"},
        BadArgs{"bad_cpu", {"--port", "9000", "--cpu", "x"}, "not a CPU list"},
        BadArgs{"zero_clients", {"--port", "9000", "--clients", "0"}, "--clients"},
        BadArgs{"sources_ipv6",
                {"--port", "9000", "--host", "::1", "--source-addresses", "2"},
                "needs an IPv4 loopback"},
        BadArgs{
            "zero_sources", {"--port", "9000", "--source-addresses", "0"}, "--source-addresses"},
        BadArgs{"unknown_flag", {"--port", "9000", "--bogus"}, "--bogus"},
        BadArgs{"arrivals_kind",
                {"--port", "9000", "--rate", "10", "--duration", "1s", "--arrivals", "bursty"},
                "--arrivals: bursty not in {uniform,poisson}"},
        BadArgs{"arrivals_closed",
                {"--port", "9000", "--arrivals", "poisson"},
                "--arrivals requires --rate"},
        BadArgs{"max_late_closed",
                {"--port", "9000", "--max-late", "0.01"},
                "--max-late requires --rate"},
        BadArgs{"max_late_range",
                {"--port", "9000", "--rate", "10", "--duration", "1s", "--max-late", "2"},
                "--max-late"},
        BadArgs{"late_after",
                {"--port", "9000", "--rate", "10", "--duration", "1s", "--late-after", "soon"},
                "not a duration"},
        BadArgs{"source_base_text",
                {"--port", "9000", "--source-base", "1.2.3"},
                "--source-base: '1.2.3' is not a numeric IPv4 address"},
        BadArgs{"source_base_ipv6",
                {"--port", "9000", "--host", "::1", "--source-base", "127.0.0.1"},
                "--source-base needs an IPv4 --host"},
        BadArgs{
            "source_base_top",
            {"--port", "9000", "--source-base", "255.255.255.254", "--source-addresses", "4"},
            "--source-base 255.255.255.254 with --source-addresses 4 runs past 255.255.255.255"},
        BadArgs{
            "sources_remote",
            {"--port", "9000", "--host", "10.1.2.3", "--allow-remote", "--source-addresses", "4"},
            "needs an IPv4 loopback --host, or --source-base"}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(LoadCli, MissingServerIsAClearErrorNotAHang) {
  const test::RefusingPort refusing;
  const std::string port = std::to_string(refusing.port());
  const auto start = std::chrono::steady_clock::now();
  const Exit o = run_tool({"--port", port, "--duration", "30s"}, 10s);
  EXPECT_EQ(o.code(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(o.err.find("connection refused to 127.0.0.1:" + port), std::string::npos) << o.err;
}

TEST(LoadCli, RunWritesTableAndJson) {
  test::TestServer server(test::serve_well);
  const std::string json_path =
      ::testing::TempDir() + "/load_cli_" + std::to_string(::getpid()) + ".json";
  const Exit o =
      run_tool({"--port", std::to_string(server.port()), "--clients", "3", "--connections", "200",
                "--requests-per-conn", "2", "--bytes", "500", "--json", json_path});
  ASSERT_EQ(o.code(), 0) << o.err;
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
  for (const auto& b : j["latency"]["total"]["buckets_ns"])
    in_buckets += b[2].get<std::uint64_t>();
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
  const std::vector<std::string> args{
      "--port", std::to_string(server.port()), "--connections", "50", "--bytes", "10"};
  const Exit strict = run_tool(args);
  EXPECT_EQ(strict.code(), 1);
  EXPECT_NE(strict.err.find("requests failed"), std::string::npos) << strict.err;
  auto lenient_args = args;
  lenient_args.push_back("--allow-errors");
  ASSERT_TRUE(server.wait_idle(std::chrono::seconds(5)));  // the first run's handlers are done
  dropped = false;
  const Exit lenient = run_tool(lenient_args);
  EXPECT_EQ(lenient.code(), 0) << lenient.err;
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
  std::vector<std::string> args{"--port",        std::to_string(server.port()),
                                "--clients",     "3",
                                "--connections", "64",
                                "--bytes",       "10",
                                "--json",        json_path};
  args.insert(args.end(), extra.begin(), extra.end());
  const Exit o = run_tool(args);
  EXPECT_EQ(o.code(), 0) << o.err;
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

TEST(LoadCli, SourceBaseGivesTheFirstSourceAddress) {
  nlohmann::json j;
  EXPECT_EQ(peers_of_a_run({"--source-base", "127.0.0.5", "--source-addresses", "3"}, j),
            (std::set<std::string>{"127.0.0.5", "127.0.0.6", "127.0.0.7"}));
  EXPECT_EQ(j["config"]["source_base"], "127.0.0.5");
  EXPECT_EQ(j["config"]["source_addresses"], 3);
  peers_of_a_run({"--source-addresses", "1"}, j);
  EXPECT_TRUE(j["config"]["source_base"].is_null());  // the kernel's choice
}

TEST(LoadCli, ASourceBaseThatIsNotOursIsOneClearError) {
  if (test::can_bind("203.0.113.8")) GTEST_SKIP() << "203.0.113.8 is an address of this host";
  test::TestServer server(test::serve_well);
  const Exit o = run_tool({"--port", std::to_string(server.port()), "--source-base", "203.0.113.7",
                           "--source-addresses", "2", "--connections", "10"});
  EXPECT_EQ(o.code(), 1);
  EXPECT_NE(o.err.find("bind to source address 203.0.113.8: Cannot assign requested address"),
            std::string::npos)
      << o.err;
  EXPECT_EQ(server.requests, 0u);
}

bool has_benchmark_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (const ifaddrs* a = list; a; a = a->ifa_next)
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET)
      found |= (ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr) >> 17) ==
               (198u << 7 | 9u);
  ::freeifaddrs(list);
  return found;
}

// 198.18.0.0/15 is refused like any other address unless this namespace has an address there,
// i.e. a veth the suite made; here (outside any such namespace) a packet to it would leave.
TEST(LoadCli, BenchmarkRangeIsRefusedWithoutAnAddressOfOurOwnThere) {
  if (has_benchmark_address()) GTEST_SKIP() << "this network namespace has a 198.18.0.0/15 address";
  for (const char* host : {"198.18.0.1", "198.19.255.254"}) {
    const Exit o = run_tool({"--port", "9000", "--host", host, "--connections", "1"});
    EXPECT_EQ(o.code(), 2) << host;
    EXPECT_NE(o.err.find(std::string("--host: ") + host +
                         " is in 198.18.0.0/15 (RFC 2544's benchmark range), but no interface of "
                         "this network namespace has an address there"),
              std::string::npos)
        << o.err;
  }
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/load_cli_" + std::to_string(::getpid()) + "_" + name;
}

// Every scheduled send either completes, fails or is abandoned at the end; `late` counts those
// that started (or would have) more than --late-after after their time.
void expect_lateness_adds_up(const nlohmann::json& j, std::uint64_t scheduled) {
  const auto& l = j["lateness"];
  EXPECT_EQ(l["scheduled"], scheduled);
  EXPECT_EQ(j["counts"]["requests"].get<std::uint64_t>() +
                j["counts"]["failed"].get<std::uint64_t>() +
                j["counts"]["abandoned"].get<std::uint64_t>(),
            scheduled);
  EXPECT_LE(l["late"].get<std::uint64_t>(), scheduled);
  EXPECT_DOUBLE_EQ(l["late_fraction"].get<double>(),
                   double(l["late"].get<std::uint64_t>()) / double(scheduled));
}

TEST(LoadCli, AnImpossibleRateMakesSendsLateAndTheExitStatusSaysSo) {
  test::TestServer server(test::serve_well);
  const std::string json_path = temp_path("late.json");
  // One connection cannot carry a million requests a second: nearly all of them wait.
  const Exit o =
      run_tool({"--port", std::to_string(server.port()), "--rate", "1000000", "--duration", "300ms",
                "--clients", "1", "--bytes", "10", "--max-late", "0.01", "--json", json_path});
  EXPECT_EQ(o.code(), 1) << o.err;
  EXPECT_NE(o.err.find("after their scheduled time: above --max-late 0.01 (1%)"), std::string::npos)
      << o.err;
  EXPECT_NE(o.out.find("of 300000 sends"), std::string::npos) << o.out;
  const auto j = nlohmann::json::parse(slurp(json_path));
  expect_lateness_adds_up(j, 300'000);  // one every microsecond for 300 ms, exactly
  EXPECT_GT(j["lateness"]["late_fraction"].get<double>(), 0.9);
  EXPECT_GT(j["lateness"]["max_us"].get<double>(), 10'000.0);  // a send of the backlog
  EXPECT_EQ(j["lateness"]["threshold_us"], 1000.0);
  EXPECT_EQ(j["config"]["max_late"], 0.01);
  EXPECT_EQ(j["config"]["arrivals"], "uniform");
}

TEST(LoadCli, AModestRateIsOnTime) {
  test::TestServer server(test::serve_well);
  const std::string json_path = temp_path("on_time.json");
  // 100 requests over 16 connections, each answered in well under a millisecond. On a shared
  // machine with every CPU busy this process can wait 150 ms for one (measured with a load
  // average of 22 on 2 CPUs), so "on time" here is within half a second: the impossible rate
  // above is late by far more than that.
  const Exit o = run_tool({"--port", std::to_string(server.port()), "--rate", "100", "--duration",
                           "1s", "--clients", "16", "--bytes", "10", "--late-after", "500ms",
                           "--max-late", "0.1", "--json", json_path});
  EXPECT_EQ(o.code(), 0) << o.err;
  const auto j = nlohmann::json::parse(slurp(json_path));
  expect_lateness_adds_up(j, 100);
  EXPECT_LE(j["lateness"]["late_fraction"].get<double>(), 0.1);
  EXPECT_EQ(j["lateness"]["threshold_us"], 500'000.0);
}

TEST(LoadCli, PoissonArrivalsAreRecordedAndReproducible) {
  test::TestServer server(test::serve_well);
  const std::string json_path = temp_path("poisson.json");
  std::vector<std::uint64_t> scheduled;
  for (int run = 0; run < 2; ++run) {
    const Exit o = run_tool({"--port", std::to_string(server.port()), "--rate", "300", "--duration",
                             "500ms", "--clients", "4", "--bytes", "10", "--arrivals", "poisson",
                             "--seed", "42", "--json", json_path});
    EXPECT_EQ(o.code(), 0) << o.err;
    const auto j = nlohmann::json::parse(slurp(json_path));
    EXPECT_EQ(j["config"]["arrivals"], "poisson");
    EXPECT_EQ(j["config"]["seed"], 42);
    scheduled.push_back(j["lateness"]["scheduled"].get<std::uint64_t>());
    expect_lateness_adds_up(j, scheduled.back());
  }
  EXPECT_EQ(scheduled[0], scheduled[1]);  // the same seed, the same schedule
  EXPECT_NE(scheduled[0], 150u);          // the uniform count; poisson's is 150 +- 12
}

struct Hgrm {
  struct Line {
    double value_us, percentile;
    std::uint64_t total;
  };
  std::vector<Line> lines;
  double max_us = -1;
  std::uint64_t count = 0;
};

Hgrm parse_hgrm(const std::string& text) {
  Hgrm h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    double value = 0, percentile = 0, ignored = 0;
    unsigned long long total = 0;
    if (std::sscanf(line.c_str(), "%lf %lf %llu", &value, &percentile, &total) == 3)
      h.lines.push_back({value * 1000, percentile, total});
    else if (std::sscanf(line.c_str(), "#[Max = %lf, Total count = %llu]", &value, &total) == 2)
      h.max_us = value * 1000, h.count = total;
    (void)ignored;
  }
  return h;
}

// The --hgrm file's percentiles against the JSON's. At p50 and p90 HdrHistogram prints a line
// at exactly that level: the same bucket, so the two differ by at most its width (0.79%).
// p99 and p99.9 fall between lines: the JSON's value lies between the lines around it.
TEST(LoadCli, HgrmPercentilesMatchTheJson) {
  test::TestServer server(test::serve_well);
  const std::string json_path = temp_path("h.json"), hgrm_path = temp_path("h.hgrm");
  const Exit o =
      run_tool({"--port", std::to_string(server.port()), "--clients", "2", "--connections", "3000",
                "--bytes", "100", "--json", json_path, "--hgrm", hgrm_path});
  ASSERT_EQ(o.code(), 0) << o.err;
  const auto total = nlohmann::json::parse(slurp(json_path))["latency"]["total"];
  const std::string text = slurp(hgrm_path);
  EXPECT_EQ(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 0), 0u);
  const Hgrm h = parse_hgrm(text);
  ASSERT_GT(h.lines.size(), 30u);
  EXPECT_EQ(h.count, 3000u);
  EXPECT_NEAR(h.max_us, total["max_us"].get<double>(), 1e-3);
  EXPECT_EQ(h.lines.back().percentile, 1.0);
  EXPECT_EQ(h.lines.back().total, 3000u);
  const auto width = [](double us) { return us * 0.0079 + 0.001; };  // a bucket, and rounding
  for (const auto& [p, key] : {std::pair{0.5, "p50_us"}, {0.9, "p90_us"}}) {
    const auto at = std::find_if(h.lines.begin(), h.lines.end(), [&](const Hgrm::Line& l) {
      return std::abs(l.percentile - p) < 1e-12;
    });
    ASSERT_NE(at, h.lines.end()) << p;
    const double json = total[key].get<double>();
    EXPECT_LE(json, at->value_us + 0.001) << key;
    EXPECT_LE(at->value_us - json, width(at->value_us)) << key;
  }
  for (const auto& [p, key] : {std::pair{0.99, "p99_us"}, {0.999, "p99_9_us"}}) {
    const auto above = std::find_if(h.lines.begin(), h.lines.end(),
                                    [&](const Hgrm::Line& l) { return l.percentile >= p; });
    ASSERT_NE(above, h.lines.begin()) << p;
    ASSERT_NE(above, h.lines.end()) << p;
    const auto below = std::prev(above);
    const double json = total[key].get<double>();
    EXPECT_LE(json, above->value_us + 0.001) << key;
    EXPECT_GE(json, below->value_us - width(below->value_us)) << key;
  }
}

TEST(LoadCli, MergeAddsTwoRunsUp) {
  test::TestServer server(test::serve_well);
  const std::string a = temp_path("a.json"), b = temp_path("b.json"), m = temp_path("m.json");
  for (const auto& [path, n] : {std::pair{a, "150"}, {b, "250"}})
    ASSERT_EQ(run_tool({"--port", std::to_string(server.port()), "--clients", "2", "--connections",
                        n, "--bytes", "10", "--json", path})
                  .code(),
              0);
  const Exit o = run_tool({"merge", a, b, "--json", m});
  ASSERT_EQ(o.code(), 0) << o.err;
  EXPECT_NE(o.out.find("400 requests"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("merged 2 runs"), std::string::npos) << o.out;
  const auto ja = nlohmann::json::parse(slurp(a)), jb = nlohmann::json::parse(slurp(b)),
             jm = nlohmann::json::parse(slurp(m));
  EXPECT_EQ(jm["schema"], 1);
  EXPECT_EQ(jm["counts"]["requests"], 400);
  EXPECT_EQ(jm["latency"]["total"]["count"], 400);
  std::uint64_t in_buckets = 0;
  for (const auto& bucket : jm["latency"]["total"]["buckets_ns"])
    in_buckets += bucket[2].get<std::uint64_t>();
  EXPECT_EQ(in_buckets, 400u);
  EXPECT_EQ(jm["window_s"], std::max(ja["window_s"].get<double>(), jb["window_s"].get<double>()));
  EXPECT_EQ(jm["latency"]["total"]["max_us"],
            std::max(ja["latency"]["total"]["max_us"].get<double>(),
                     jb["latency"]["total"]["max_us"].get<double>()));
  EXPECT_EQ(jm["merged_from"], (nlohmann::json{a, b}));
}

TEST(LoadCli, MergeRefusesWhatItCannotAddUp) {
  test::TestServer server(test::serve_well);
  const std::string line = temp_path("line.json"), http = temp_path("http.json"),
                    other = temp_path("other.json"), garbage = temp_path("garbage.json");
  ASSERT_EQ(run_tool({"--port", std::to_string(server.port()), "--connections", "20", "--bytes",
                      "10", "--json", line})
                .code(),
            0);
  ASSERT_EQ(run_tool({"--port", std::to_string(server.port()), "--connections", "20", "--bytes",
                      "10", "--http", "--json", http})
                .code(),
            0);
  auto j = nlohmann::json::parse(slurp(line));
  j["schema"] = 2;
  std::ofstream(other) << j.dump();
  std::ofstream(garbage) << "{ not json";
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"merge", line, http}, line + " and " + http + " differ in protocol (line and http)"},
      {{"merge", line, other}, other + ": schema 2, but this tcplab-load reads schema 1"},
      {{"merge", line, garbage}, garbage + ": not JSON"},
      {{"merge", line, temp_path("missing.json")},
       "cannot open " + temp_path("missing.json") + ": No such file or directory"},
      {{"merge"}, "files is required"},
  };
  for (const auto& c : cases) {
    const Exit o = run_tool(c.args);
    EXPECT_EQ(o.code(), 2) << c.message;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << o.err;
  }
  const Exit unwritable = run_tool({"merge", line, "--json", "/nonexistent/merged.json"});
  EXPECT_EQ(unwritable.code(), 1);
  EXPECT_NE(unwritable.err.find("tcplab-load merge: open /nonexistent/merged.json: No such file"),
            std::string::npos)
      << unwritable.err;
}

}  // namespace
}  // namespace tcplab::load
