// The load generator in-process against small servers that misbehave on purpose.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine.hpp"
#include "load_test_server.hpp"

namespace tcplab::load {
namespace {

using namespace std::chrono_literals;
using test::TestServer;

Options options_for(std::uint16_t port) {
  Options o;
  o.port = port;
  resolve_address(o, false);
  o.timeout = 2s;
  return o;
}

std::uint64_t failures(const Report& r, Failure kind) { return r.stats.failures[std::size_t(kind)]; }

TEST(LoadEngine, CountsExactlyWhatTheServerServed) {
  TestServer server(test::serve_well);
  Options o = options_for(server.port());
  o.clients = 4;
  o.threads = 2;
  o.connections = 300;
  o.requests_per_conn = 3;
  o.bytes = 1234;
  const Report r = run(o);
  EXPECT_EQ(r.stats.failed(), 0u);
  EXPECT_EQ(r.stats.requests, 900u);
  EXPECT_EQ(r.stats.connections, 300u);
  EXPECT_EQ(r.stats.abandoned, 0u);
  EXPECT_EQ(r.stats.bytes_in, 900u * 1234);
  EXPECT_EQ(r.stats.bytes_out, 900u * std::string("1234\n").size());
  EXPECT_EQ(r.stats.total.count(), 900u);
  EXPECT_EQ(r.stats.ttfb.count(), 900u);
  EXPECT_EQ(r.stats.connect.count(), 300u);
  EXPECT_GT(r.seconds, 0);
  // The server's side, after its threads have seen each close.
  ASSERT_TRUE(server.wait_idle(5s));
  EXPECT_EQ(server.requests, 900u);
  EXPECT_EQ(server.bytes, 900u * 1234);
  EXPECT_EQ(server.connections, 300u);
}

TEST(LoadEngine, HttpClosesOnTheLastRequestOfEachConnection) {
  TestServer server(test::serve_well);
  Options o = options_for(server.port());
  o.http = true;
  o.clients = 3;
  o.connections = 60;
  o.requests_per_conn = 4;
  o.bytes = 4000;
  const Report r = run(o);
  EXPECT_EQ(r.stats.failed(), 0u);
  EXPECT_EQ(r.stats.requests, 240u);
  ASSERT_TRUE(server.wait_idle(5s));
  EXPECT_EQ(server.requests, 240u);
  EXPECT_EQ(server.closes_asked, 60u);  // "Connection: close" once per connection
  EXPECT_EQ(r.stats.bytes_in, server.bytes);
}

TEST(LoadEngine, WarmupIsLeftOutOfEveryFigure) {
  TestServer server(test::serve_well);
  Options o = options_for(server.port());
  o.clients = 2;
  o.connections = 100;
  o.warmup = 300ms;
  o.bytes = 100;
  const Report r = run(o);
  EXPECT_EQ(r.stats.failed(), 0u);
  EXPECT_EQ(r.stats.requests, 100u);  // --connections counts measured connections only
  EXPECT_EQ(r.stats.connections, 100u);
  EXPECT_GT(server.requests, 100u);   // the warmup's requests were served but not counted
  EXPECT_LT(r.seconds, 5.0);
}

// Each misbehaviour of a server, and the kind it must be counted as.
struct Fault {
  const char* name;
  TestServer::Handler handler;
  Failure kind;
};

void reset_after_request(int fd, TestServer& server) {
  bool http, close_after;
  if (test::read_request(fd, server, http, close_after) < 0) return;
  const linger abort{1, 0};  // close with RST instead of FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}
void close_after_request(int fd, TestServer& server) {
  bool http, close_after;
  test::read_request(fd, server, http, close_after);
}
void send_too_few(int fd, TestServer& server) {
  bool http, close_after;
  const long long n = test::read_request(fd, server, http, close_after);
  if (n > 0) test::write_all(fd, test::body(std::uint64_t(n / 2)));
}
void send_too_many(int fd, TestServer& server) {
  bool http, close_after;
  const long long n = test::read_request(fd, server, http, close_after);
  if (n >= 0) test::write_all(fd, test::body(std::uint64_t(n) + 7));
  ::shutdown(fd, SHUT_WR);
  char c;
  while (::read(fd, &c, 1) > 0) {
  }
}
void send_err(int fd, TestServer& server) {
  bool http, close_after;
  if (test::read_request(fd, server, http, close_after) >= 0)
    test::write_all(fd, "ERR request too large\n");
}
void never_answer(int fd, TestServer& server) {
  bool http, close_after;
  test::read_request(fd, server, http, close_after);
  char c;
  while (::read(fd, &c, 1) > 0) {  // until the client gives up and closes
  }
}

void PrintTo(const Fault& fault, std::ostream* os) { *os << fault.name; }

class LoadFaults : public ::testing::TestWithParam<Fault> {};

TEST_P(LoadFaults, EachFailureIsCountedInItsKind) {
  TestServer server(GetParam().handler);
  Options o = options_for(server.port());
  o.clients = 2;
  o.connections = 20;
  o.timeout = 200ms;
  const Report r = run(o);
  EXPECT_EQ(r.stats.requests, 0u);
  EXPECT_EQ(r.stats.failed(), 20u);
  EXPECT_EQ(failures(r, GetParam().kind), 20u) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Load, LoadFaults,
    ::testing::Values(Fault{"reset", reset_after_request, Failure::reset},
                      Fault{"close_early", close_after_request, Failure::short_read},
                      Fault{"too_few", send_too_few, Failure::short_read},
                      Fault{"too_many", send_too_many, Failure::bad_response},
                      Fault{"err_line", send_err, Failure::bad_response},
                      Fault{"timeout", never_answer, Failure::timeout}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(LoadEngine, RefusedPortIsCountedAsRefused) {
  const test::RefusingPort refusing;
  Options o = options_for(refusing.port());
  o.clients = 3;
  o.connections = 50;
  const Report r = run(o);
  EXPECT_EQ(r.stats.requests, 0u);
  EXPECT_EQ(failures(r, Failure::refused), 50u);
  EXPECT_EQ(r.stats.failed(), 50u);
  EXPECT_THROW(probe(o), std::system_error);
}

TEST(LoadEngine, HttpBadStatusAndWrongLengthAreBadResponses) {
  TestServer server([](int fd, TestServer& s) {
    bool http, close_after;
    const long long n = test::read_request(fd, s, http, close_after);
    test::write_all(fd, n % 2 ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                              : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n01234");
  });
  for (std::uint64_t bytes : {7, 8}) {
    Options o = options_for(server.port());
    o.http = true;
    o.connections = 5;
    o.bytes = bytes;
    const Report r = run(o);
    EXPECT_EQ(failures(r, Failure::bad_response), 5u) << bytes;
  }
}

// A server that stops answering once for 500 ms. An open loop keeps scheduling requests
// through the stall, and those requests' latency counts from their scheduled start, so the
// stall fills the corrected tail; from the actual send only the few requests that were on the
// wire during the stall see it.
TEST(LoadEngine, OpenLoopCorrectedLatencyShowsAStallThatRawHides) {
  std::atomic<int> served{0};
  TestServer server([&](int fd, TestServer& s) {
    bool http, close_after;
    for (long long n; (n = test::read_request(fd, s, http, close_after)) >= 0;) {
      std::lock_guard lock(s.gate);  // every connection waits for the stall
      if (++served == 1500) std::this_thread::sleep_for(500ms);
      if (!test::write_all(fd, test::body(std::uint64_t(n)))) return;
    }
  });
  Options o = options_for(server.port());
  o.rate = 2000;
  o.duration = 3s;
  o.clients = 16;
  o.requests_per_conn = 1'000'000;
  o.bytes = 100;
  const Report r = run(o);
  EXPECT_EQ(r.stats.failed(), 0u);
  EXPECT_GT(r.stats.requests, 5000u);
  const double corrected_p99_ms = double(r.stats.total.percentile(99)) / 1e6;
  const double raw_p99_ms = double(r.stats.total_raw.percentile(99)) / 1e6;
  EXPECT_GT(corrected_p99_ms, 300) << "raw p99 " << raw_p99_ms << " ms";
  EXPECT_LT(raw_p99_ms, 100) << "corrected p99 " << corrected_p99_ms << " ms";
  EXPECT_GT(double(r.stats.total_raw.max()) / 1e6, 400);  // the stalled requests themselves
}

}  // namespace
}  // namespace tcplab::load
