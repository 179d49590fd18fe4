// The load generator in-process against small servers that misbehave on purpose.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "engine.hpp"
#include "load_test_server.hpp"
#include "schedule.hpp"

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

std::uint64_t failures(const Report& r, Failure kind) {
  return r.stats.failures[std::size_t(kind)];
}

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
  EXPECT_GT(server.requests, 100u);  // the warmup's requests were served but not counted
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

void PrintTo(const Fault& fault, std::ostream* os) {
  *os << fault.name;
}

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

INSTANTIATE_TEST_SUITE_P(Load, LoadFaults,
                         ::testing::Values(Fault{"reset", reset_after_request, Failure::reset},
                                           Fault{"close_early", close_after_request,
                                                 Failure::short_read},
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

// The gaps between consecutive sends of a whole open-loop run at `rate` over `seconds`: every
// worker's schedule, merged in time order, as the server would see them arrive.
std::vector<double> gaps_of(Arrivals arrivals, double rate, unsigned threads, double seconds,
                            std::uint64_t seed) {
  const std::uint64_t start = 1'000'000'000, end = start + std::uint64_t(seconds * 1e9);
  std::vector<std::uint64_t> times;
  for (unsigned w = 0; w < threads; ++w)
    for (Schedule s(arrivals, rate, threads, w, seed, start); s.next() < end; s.advance())
      times.push_back(s.next());
  std::sort(times.begin(), times.end());
  std::vector<double> gaps;
  for (std::size_t i = 1; i < times.size(); ++i)
    gaps.push_back(double(times[i] - times[i - 1]));
  return gaps;
}

struct Moments {
  double mean, cv;  // coefficient of variation: stddev / mean
};
Moments moments_of(const std::vector<double>& x) {
  double sum = 0, squares = 0;
  for (double v : x)
    sum += v;
  const double mean = sum / double(x.size());
  for (double v : x)
    squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / double(x.size() - 1)) / mean};
}

class LoadScheduleThreads : public ::testing::TestWithParam<unsigned> {};

// Exponential gaps have mean 1/rate and CV 1; the mean of n of them is off by about 1/sqrt(n)
// of itself, and so is their CV, so 5/sqrt(n) is a tolerance the seed does not decide.
TEST_P(LoadScheduleThreads, PoissonGapsHaveMeanOneOverRateAndCvOne) {
  const double rate = 50'000;
  const auto gaps = gaps_of(Arrivals::poisson, rate, GetParam(), 8.0, 1);
  ASSERT_GT(gaps.size(), 390'000u);
  const double tolerance = 5 / std::sqrt(double(gaps.size()));
  const Moments m = moments_of(gaps);
  EXPECT_NEAR(m.mean, 1e9 / rate, 1e9 / rate * tolerance);
  EXPECT_NEAR(m.cv, 1.0, tolerance);
  // Memoryless: as many gaps above the mean as exp(-1) of them, not half (as for a normal).
  const auto above = std::count_if(gaps.begin(), gaps.end(), [&](double g) { return g > m.mean; });
  EXPECT_NEAR(double(above) / double(gaps.size()), std::exp(-1.0), tolerance);
}

TEST_P(LoadScheduleThreads, UniformGapsAreAllOneOverRate) {
  const double rate = 50'000;
  const auto gaps = gaps_of(Arrivals::uniform, rate, GetParam(), 2.0, 1);
  ASSERT_EQ(gaps.size(), 99'999u);  // 100,000 sends in 2 s
  const Moments m = moments_of(gaps);
  EXPECT_NEAR(m.mean, 1e9 / rate, 1e-3);
  EXPECT_LT(m.cv, 1e-4);  // each gap is 20,000 ns give or take the rounding to a nanosecond
  EXPECT_LE(*std::max_element(gaps.begin(), gaps.end()), 1e9 / rate + 1);
}

INSTANTIATE_TEST_SUITE_P(Load, LoadScheduleThreads, ::testing::Values(1u, 3u));

TEST(LoadSchedule, TheSeedDecidesThePoissonScheduleAndACopyReplaysIt) {
  const auto a = gaps_of(Arrivals::poisson, 1000, 2, 1.0, 7);
  EXPECT_EQ(a, gaps_of(Arrivals::poisson, 1000, 2, 1.0, 7));
  EXPECT_NE(a, gaps_of(Arrivals::poisson, 1000, 2, 1.0, 8));
  Schedule s(Arrivals::poisson, 1000, 1, 0, 7, 0);
  s.advance();
  Schedule copy = s;
  for (int i = 0; i < 100; ++i, s.advance(), copy.advance())
    ASSERT_EQ(s.next(), copy.next());
}

TEST(LoadSources, BaseAddressArithmeticCarriesAndStopsAtTheTop) {
  const std::uint32_t base = 198u << 24 | 18u << 16 | 0u << 8 | 250u;  // 198.18.0.250
  EXPECT_EQ(source_address(base, 0), "198.18.0.250");
  EXPECT_EQ(source_address(base, 5), "198.18.0.255");
  EXPECT_EQ(source_address(base, 6), "198.18.1.0");
  EXPECT_EQ(source_address(INADDR_LOOPBACK, 15), "127.0.0.16");
  EXPECT_NO_THROW(check_source_range(base, 1000));
  const std::uint32_t top = 0xfffffffa;  // 255.255.255.250
  EXPECT_NO_THROW(check_source_range(top, 6));
  EXPECT_THROW(check_source_range(top, 7), std::invalid_argument);
  EXPECT_THROW(source_address(top, 6), std::invalid_argument);
}

TEST(LoadSources, BenchmarkRangeIs198Dot18Slash15) {
  const auto ip = [](unsigned a, unsigned b, unsigned c, unsigned d) {
    return std::uint32_t(a << 24 | b << 16 | c << 8 | d);
  };
  EXPECT_FALSE(in_benchmark_range(ip(198, 17, 255, 255)));
  EXPECT_TRUE(in_benchmark_range(ip(198, 18, 0, 0)));
  EXPECT_TRUE(in_benchmark_range(ip(198, 18, 0, 1)));
  EXPECT_TRUE(in_benchmark_range(ip(198, 19, 255, 255)));
  EXPECT_FALSE(in_benchmark_range(ip(198, 20, 0, 0)));
  EXPECT_FALSE(in_benchmark_range(ip(127, 0, 0, 1)));
}

// The connections of a run come from --source-base, +1, +2 in turn, as the server sees them.
TEST(LoadSources, ConnectionsComeFromTheBaseAndTheAddressesAfterIt) {
  std::mutex mutex;
  std::set<std::string> peers;
  TestServer server([&](int fd, TestServer& s) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      std::lock_guard lock(mutex);
      peers.insert(source_address(ntohl(peer.sin_addr.s_addr), 0));
    }
    test::serve_well(fd, s);
  });
  Options o = options_for(server.port());
  o.source_base = INADDR_LOOPBACK + 254;  // 127.0.0.255, then 127.0.1.0 and 127.0.1.1
  o.source_addresses = 3;
  o.clients = 2;
  o.connections = 30;
  probe(o);
  const Report r = run(o);
  EXPECT_EQ(r.stats.failed(), 0u);
  ASSERT_TRUE(server.wait_idle(5s));
  EXPECT_EQ(peers, (std::set<std::string>{"127.0.0.255", "127.0.1.0", "127.0.1.1"}));
}

TEST(LoadSources, AProbeThatCannotBindTheLastSourceAddressSaysWhich) {
  if (test::can_bind("203.0.113.10")) GTEST_SKIP() << "203.0.113.10 is an address of this host";
  TestServer server(test::serve_well);
  Options o = options_for(server.port());
  o.source_base = 203u << 24 | 0u << 16 | 113u << 8 | 7u;  // 203.0.113.7, TEST-NET-3
  o.source_addresses = 4;
  try {
    probe(o);
    ADD_FAILURE() << "probe bound 203.0.113.10";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRNOTAVAIL);
    EXPECT_NE(std::string(e.what()).find("bind to source address 203.0.113.10"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tcplab::load
