// A client that trickles its request a byte at a time must not hold a worker (or, in an event
// loop, a connection slot) for longer than --io-timeout-ms: every byte restarts SO_RCVTIMEO, so
// serve_connection also gives the whole request a deadline from its first byte, and the event
// loop counts only a request's first bytes as progress. Here the digits alone (no newline) would
// reach the 32-byte line limit only after 32 × 100 ms; the deadline ends it after about 500 ms.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/client.hpp"
#include "support/e2e.hpp"
#include "support/server_process.hpp"

namespace tcplab::test {
namespace {

using namespace std::chrono_literals;

class Trickle : public DesignTest {};

TEST_P(Trickle, AWholeRequestHasADeadline) {
  ServerProcess server({GetParam(), "--port", "0", "--workers", "2", "--io-timeout-ms", "500"});
  Client slow(server.port());
  ASSERT_TRUE(slow.connected());

  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 30 && !closed; ++i) {  // 3 s at most: far short of the 32-byte limit
    closed = slow.send("1", 1s) != IoStatus::ok;
    std::this_thread::sleep_for(100ms);
    // The server closes without an answer: the peer's FIN shows as EOF on a read.
    if (!closed) closed = slow.read_to_eof(1ms).status != IoStatus::timeout;
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed) << "the trickling client was never dropped";
  EXPECT_LT(took, 2500ms) << "dropped only after "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms";

  // The worker is free again: a normal request is served.
  Client normal(server.port());
  ASSERT_EQ(normal.send("4000\n"), IoStatus::ok);
  Received r = normal.read_exactly(4000);
  EXPECT_EQ(r.status, IoStatus::ok);
  EXPECT_EQ(r.data, expected_body(4000));
  normal.close();
  slow.close();
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
  EXPECT_NE(e.out.find("timeout 1"), std::string::npos) << e.out;
}

// Every design: those that serve with the blocking request loop (common/connection.cpp) and
// the event-loop designs (common/event_loop.cpp).
INSTANTIATE_TEST_SUITE_P(Designs, Trickle, ::testing::ValuesIn(all_designs()),
                         [](const auto& p) { return design_param_name(p.param); });

}  // namespace
}  // namespace tcplab::test
