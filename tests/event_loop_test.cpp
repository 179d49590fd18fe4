// EventLoop's per-connection state machine, driven over socketpairs (no TCP, no server process):
// each test posts one end to a loop running on its own thread and plays the client on the other.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "event_loop.hpp"
#include "scoreboard.hpp"

namespace tcplab {
namespace {

using namespace std::chrono_literals;

// Everything the peer sends until EOF, or until nothing comes for `quiet`.
std::string read_all(int fd, std::chrono::milliseconds quiet = 2000ms) {
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) return out + "<no EOF>";
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string pattern(std::size_t n) {
  std::string s(n, '0');
  for (std::size_t k = 0; k < n; ++k)
    s[k] = static_cast<char>('0' + k % 10);
  return s;
}

class LoopTest : public ::testing::Test {
 protected:
  void start(int io_timeout_ms = 10000) {
    config_.io_timeout_ms = io_timeout_ms;
    config_.max_bytes = 1 << 24;
    loop_ = std::make_unique<EventLoop>(board_.slot(0), config_, 1000);
    loop_->stop_on_signal(false);
    thread_ = std::thread([this] { loop_->run(); });
  }
  // A new connection in the loop; returns the client's end.
  int connect() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    loop_->post(Fd(sv[0]));
    return sv[1];
  }
  void TearDown() override {
    if (thread_.joinable()) {
      loop_->stop();
      thread_.join();
    }
  }
  void stop_and_join() {
    loop_->stop();
    thread_.join();
  }

  Scoreboard board_{1};
  ServeConfig config_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

TEST_F(LoopTest, AnswersPipelinedAndSplitRequestsThenEof) {
  start();
  int c = connect();
  ASSERT_EQ(::write(c, "1\n2\n3\n12", 8), 8);
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(::write(c, "\r\n", 2), 2);
  ::shutdown(c, SHUT_WR);
  EXPECT_EQ(read_all(c), "001012" + pattern(12));
  ::close(c);
  stop_and_join();
  EXPECT_EQ(board_.slot(0).requests.load(), 4u);
  EXPECT_EQ(board_.slot(0).connections.load(), 1u);
  EXPECT_EQ(board_.slot(0).active.load(), 0u);
}

TEST_F(LoopTest, WritesAResponseLargerThanTheSocketBuffersAsTheClientReads) {
  start();
  int c = connect();
  constexpr std::size_t kBig = 5'000'000;
  ASSERT_EQ(::write(c, "5000000\n", 8), 8);
  std::this_thread::sleep_for(50ms);  // the loop meets a full socket and must wait for EPOLLOUT
  ::shutdown(c, SHUT_WR);
  std::string got = read_all(c);
  EXPECT_EQ(got.size(), kBig);
  EXPECT_TRUE(got == pattern(kBig));
  ::close(c);
  stop_and_join();
  EXPECT_EQ(board_.slot(0).bytes_sent.load(), kBig);
}

TEST_F(LoopTest, RefusedRequestIsAnsweredThenClosedAndCounted) {
  start();
  int c = connect();
  ASSERT_EQ(::write(c, "abc\nmore junk", 13), 13);
  EXPECT_EQ(read_all(c), "ERR not a number\n");  // then EOF: the loop lingered, then closed
  ::close(c);
  stop_and_join();
  EXPECT_EQ(board_.slot(0).failures[static_cast<std::size_t>(Failure::bad_request)].load(), 1u);
  EXPECT_EQ(board_.slot(0).requests.load(), 0u);
}

TEST_F(LoopTest, SilentConnectionTimesOut) {
  start(/*io_timeout_ms=*/200);
  int c = connect();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_all(c), "");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  ::close(c);
  stop_and_join();
  EXPECT_EQ(board_.slot(0).failures[static_cast<std::size_t>(Failure::timeout)].load(), 1u);
}

TEST_F(LoopTest, StopClosesIdleConnectionsAndFinishesTheOneInFlight) {
  start();
  int idle = connect();
  ASSERT_EQ(::write(idle, "3\n", 2), 2);
  char buf[3];
  ASSERT_EQ(::read(idle, buf, 3), 3);
  int busy = connect();
  ASSERT_EQ(::write(busy, "4000000\n", 8), 8);
  ASSERT_GT(::read(busy, buf, 1), 0);  // the response has started
  loop_->stop();
  EXPECT_EQ(read_all(idle), "");  // closed at once: idle between requests
  std::string rest = read_all(busy);
  EXPECT_EQ(rest.size(), 4'000'000u - 1);
  thread_.join();
  ::close(idle);
  ::close(busy);
  EXPECT_EQ(board_.slot(0).connections.load(), 2u);
}

}  // namespace
}  // namespace tcplab
