// End to end, prefork-fdpass routing on what only a parent that accepts can see (--route-by):
// the peer's address, and the first line of the request, peeked. Which child served is read
// from the per-worker counts of --stats-json; every answer is checked byte for byte. (The port
// mode, --route-ports, is tested in e2e_beyond_test.cpp.)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "dispatch.hpp"
#include "support/e2e.hpp"

namespace tcplab::test {
namespace {

using std::chrono::milliseconds;
constexpr std::size_t kWorkers = 4;

// Connections served by each worker, from the summary the server wrote on exit.
std::vector<std::uint64_t> served_per_worker(ServerProcess& server, const StatsFile& stats) {
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
  return stats.per_worker();
}

std::vector<std::string> fdpass_args(const StatsFile& stats, std::vector<std::string> more) {
  std::vector<std::string> args = {
      "prefork-fdpass",         "--port",       "0",         "--workers",
      std::to_string(kWorkers), "--stats-json", stats.path()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

sockaddr_in ipv4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

// One line request "N\n" from the loopback address `source` (bound before connect): exactly N
// bytes of the pattern come back, then EOF.
::testing::AssertionResult request_from(const char* source, std::uint16_t port, std::size_t n) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval limit{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_in from = ipv4(source, 0), to = ipv4("127.0.0.1", port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
    return ::testing::AssertionFailure() << "bind " << source << ": " << std::strerror(errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
    return ::testing::AssertionFailure() << "connect: " << std::strerror(errno);
  const std::string line = std::to_string(n) + "\n";
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return ::testing::AssertionFailure() << "send: " << std::strerror(errno);
  ::shutdown(fd.get(), SHUT_WR);
  std::string got;
  char buf[4096];
  for (ssize_t r; (r = ::recv(fd.get(), buf, sizeof buf, 0)) != 0;) {
    if (r < 0) return ::testing::AssertionFailure() << "recv: " << std::strerror(errno);
    got.append(buf, static_cast<std::size_t>(r));
  }
  if (got != expected_body(n))
    return ::testing::AssertionFailure() << "got " << got.size() << " bytes, expected " << n;
  return ::testing::AssertionSuccess();
}

// A line request sent in two parts, `pause` apart: the parent must wait for the second to route.
::testing::AssertionResult split_request(std::uint16_t port, const std::string& first,
                                         const std::string& rest, milliseconds pause) {
  Client c(port);
  if (!c) return ::testing::AssertionFailure() << "connect: " << c.last_error_text();
  if (c.send(first) != IoStatus::ok) return ::testing::AssertionFailure() << "send first";
  std::this_thread::sleep_for(pause);
  if (c.send(rest) != IoStatus::ok) return ::testing::AssertionFailure() << "send rest";
  c.shutdown_write();
  Received r = c.read_to_eof();
  const std::size_t n = std::stoul(first + rest);
  if (r.status != IoStatus::ok || r.data != expected_body(n))
    return ::testing::AssertionFailure() << r.status << ", " << r.data.size() << " bytes of " << n;
  return ::testing::AssertionSuccess();
}

TEST(RouteByPeer, EachClientAddressReachesOneWorker) {
  StatsFile stats;
  ServerProcess server(fdpass_args(stats, {"--route-by", "peer"}));
  std::vector<std::uint64_t> expected(kWorkers);
  for (const char* source : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(request_from(source, server.port(), 300)) << source;
    sockaddr_in a = ipv4(source, 0);
    expected.at(peer_worker(reinterpret_cast<const sockaddr*>(&a), kWorkers)) += 10;
  }
  // Without routing, least-loaded would have spread each address's ten over the pool.
  EXPECT_EQ(served_per_worker(server, stats), expected);
}

TEST(RouteByPeer, TheHashIsOfTheAddressOnly) {
  // The same address from another port, and as IPv4-mapped IPv6, hashes alike.
  sockaddr_in a = ipv4("127.0.0.2", 1000), b = ipv4("127.0.0.2", 2000);
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "::ffff:127.0.0.2", &mapped.sin6_addr);
  const auto* sa = reinterpret_cast<const sockaddr*>(&a);
  EXPECT_EQ(peer_worker(sa, 7), peer_worker(reinterpret_cast<const sockaddr*>(&b), 7));
  EXPECT_EQ(peer_worker(sa, 7), peer_worker(reinterpret_cast<const sockaddr*>(&mapped), 7));
}

TEST(RouteByFirstLine, PrefixedLinesReachTheNamedWorkerOthersGoByThePolicy) {
  StatsFile stats;
  // round-robin makes the policy's share exact: the routed ones do not move its cursor.
  ServerProcess server(fdpass_args(stats, {"--route-by", "first-line", "--route-prefix", "77=1",
                                           "--route-prefix", "9=0", "--dispatch", "round-robin"}));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(good_request(server.port(), 770 + i)) << i;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(good_request(server.port(), 900)) << i;
  // "7", then "75\n": the parent cannot tell "77" from "7x" until the second part comes.
  ASSERT_TRUE(split_request(server.port(), "7", "75\n", milliseconds(100)));
  // "71" is not "77": the policy's.
  ASSERT_TRUE(split_request(server.port(), "7", "1\n", milliseconds(50)));
  for (int i = 0; i < 11; ++i)
    ASSERT_TRUE(good_request(server.port(), 100)) << i;
  // The policy's 12 (round-robin from 0): 3 each; worker 1's 11 and worker 0's 5 on top.
  EXPECT_EQ(served_per_worker(server, stats), (std::vector<std::uint64_t>{8, 14, 3, 3}));
}

TEST(RouteByFirstLine, ASilentClientStallsNobody) {
  StatsFile stats;
  ServerProcess server(fdpass_args(
      stats, {"--route-by", "first-line", "--route-prefix", "5=3", "--io-timeout-ms", "2000"}));
  FdCounts before;  // once the parent and all its children are up, and steady
  ASSERT_TRUE(wait_until(
      [&] {
        FdCounts a = server_fd_counts(server.pid());
        return a.size() == kWorkers + 1 && (before = server_fd_counts(server.pid())) == a;
      },
      5s));
  Client silent_a(server.port()), silent_b(server.port());
  ASSERT_TRUE(silent_a && silent_b);
  // Well inside the 2 s the parent gives a silent client: a parent that waited on either before
  // accepting the next would fail every one of these.
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(good_request(server.port(), 500, milliseconds(1000)));
  ASSERT_TRUE(good_request(server.port(), 100, milliseconds(1000)));
  // Then each goes by the policy, whose child drops it on its own timeout: EOF, no bytes.
  for (Client* silent : {&silent_a, &silent_b}) {
    Received r = silent->read_to_eof(milliseconds(10'000));
    EXPECT_EQ(r.status, IoStatus::ok) << silent->last_error_text();
    EXPECT_EQ(r.data, "");
  }
  // The parent held each while it waited, and holds none now; neither does any child.
  FdCounts after;
  EXPECT_TRUE(wait_until(
      [&] { return total_fds(after = server_fd_counts(server.pid())) <= total_fds(before); }, 5s))
      << "before: " << show_fds(before) << "\nafter: " << show_fds(after);
  std::vector<std::uint64_t> served = served_per_worker(server, stats);
  ASSERT_EQ(served.size(), kWorkers);
  EXPECT_GE(served[3], 8u);
}

}  // namespace
}  // namespace tcplab::test
