// Faults end to end: what one crashing handler costs each design (--fault-inject), and a server
// that runs out of descriptors (RLIMIT_NOFILE 64) under 300 concurrent clients.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <memory>

#include "support/e2e.hpp"

namespace tcplab::test {
namespace {

// --- 1. "crash" without --fault-inject is only a bad line -------------------------------------

TEST(FaultInject, CrashRequestIsRefusedWithoutTheFlag) {
  for (const std::string design : {"thread", "prefork-fdpass"}) {
    SCOPED_TRACE(design);
    ServerProcess server({design, "--port", "0", "--workers", "2"});
    Client c(server.port());
    ASSERT_TRUE(c) << c.last_error_text();
    ASSERT_EQ(c.send("crash\n"), IoStatus::ok);
    Received r = c.read_to_eof(5s);
    EXPECT_EQ(r.status, IoStatus::ok);
    EXPECT_EQ(r.data, "ERR not a number\n");
    EXPECT_TRUE(good_request(server.port(), 10));
    EXPECT_EQ(server.stop().code(), 0);
  }
}

// --- 2. One crashing handler: the thread designs lose everything, process designs one ---------

class Crash : public DesignTest {};

TEST_P(Crash, CrashingHandlerTakesDownThreadDesignsButOnlyOneConnectionOfProcessDesigns) {
  const std::string design = GetParam();
  ServerProcess server({design, "--port", "0", "--workers", "4", "--fault-inject"});
  ASSERT_TRUE(good_request(server.port(), 100));

  // A keep-alive client in the middle of its conversation with another worker (iterative has
  // none: it would serve the bystander and never read the crash).
  const bool concurrent = design_row(design).workers != tcplab::Workers::none;
  Client bystander(server.port());
  ASSERT_TRUE(bystander) << bystander.last_error_text();
  if (concurrent) {
    ASSERT_EQ(bystander.send("10\n"), IoStatus::ok);
    ASSERT_EQ(bystander.read_exactly(10).data, expected_body(10));
  } else {
    bystander.close();
  }

  Client crasher(server.port());
  ASSERT_TRUE(crasher) << crasher.last_error_text();
  ASSERT_EQ(crasher.send("crash\n"), IoStatus::ok);
  Received lost = crasher.read_to_eof(5s);
  EXPECT_TRUE(lost.data.empty()) << "a crashed handler answered: " << lost.data;
  EXPECT_NE(lost.status, IoStatus::timeout)
      << "the crashing connection was neither closed nor reset; "
         "server stderr:\n"
      << server.err();

  if (!worker_processes(design)) {
    // One process: the abort ends every thread, the bystander's too.
    Exit e = server.wait_exit(5s);
    ASSERT_TRUE(WIFSIGNALED(e.status) && WTERMSIG(e.status) == SIGABRT) << e.describe();
    EXPECT_NE(e.err.find("--fault-inject"), std::string::npos) << e.err;
    if (concurrent) {
      Received r = bystander.read_exactly(1, 2s);
      EXPECT_NE(r.status, IoStatus::ok) << "the bystander's connection outlived its server";
    }
    return;
  }
  // A process design: the bystander's worker never noticed, and new clients are served.
  ASSERT_EQ(bystander.send("20\n"), IoStatus::ok);
  EXPECT_EQ(bystander.read_exactly(20).data, expected_body(20));
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(good_request(server.port(), 1000)) << "request " << i << "; server stderr:\n"
                                                   << server.err();
  EXPECT_TRUE(server.running());
  if (design_row(design).pooled) {  // the pool is whole again
    // The manager reaps the aborted worker (children lists zombies too: wait for its log line).
    EXPECT_TRUE(wait_until(
        [&] { return server.err().find("killed by signal 6") != std::string::npos; }, 5s))
        << server.err();
    EXPECT_TRUE(wait_until([&] { return child_pids(server.pid()).size() == 4; }, 5s))
        << child_pids(server.pid()).size() << " children; server stderr:\n"
        << server.err();
  }
  bystander.close();
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
}

// The designs that serve with the blocking request loop (common/connection.cpp).
INSTANTIATE_TEST_SUITE_P(E2e, Crash, ::testing::ValuesIn(designs_where([](const auto& d) {
                           return !d.event_loop;
                         })),
                         [](const auto& p) { return design_param_name(p.param); });

// --- 2b. The same crash in an event loop: every connection of that loop's process goes ------

class CrashInEventLoop : public DesignTest {};

TEST_P(CrashInEventLoop, TakesDownEveryConnectionOfItsProcess) {
  const std::string design = GetParam();
  // One worker, so the bystander and the crasher share a loop: one request that crashes costs
  // every connection the loop held, where a blocking pool loses only the crasher's.
  ServerProcess server({design, "--port", "0", "--workers", "1", "--fault-inject"});
  ASSERT_TRUE(good_request(server.port(), 100));
  Client bystander(server.port());
  ASSERT_EQ(bystander.send("10\n"), IoStatus::ok);
  ASSERT_EQ(bystander.read_exactly(10).data, expected_body(10));

  Client crasher(server.port());
  ASSERT_EQ(crasher.send("crash\n"), IoStatus::ok);
  Received lost = crasher.read_to_eof(5s);
  EXPECT_TRUE(lost.data.empty()) << "a crashed handler answered: " << lost.data;
  EXPECT_NE(lost.status, IoStatus::timeout)
      << "the crashing connection was neither closed nor reset";
  Received gone = bystander.read_exactly(1, 2s);
  EXPECT_NE(gone.status, IoStatus::ok) << "the bystander's connection outlived its loop";

  if (!worker_processes(design)) {  // epoll, loop-per-thread: the loop's process is the server
    Exit e = server.wait_exit(5s);
    ASSERT_TRUE(WIFSIGNALED(e.status) && WTERMSIG(e.status) == SIGABRT) << e.describe();
    return;
  }
  // A pool of loop processes: the manager starts another, and new clients are served.
  EXPECT_TRUE(
      wait_until([&] { return server.err().find("killed by signal 6") != std::string::npos; }, 5s))
      << server.err();
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(good_request(server.port(), 1000));
  bystander.close();
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
}

INSTANTIATE_TEST_SUITE_P(E2e, CrashInEventLoop,
                         ::testing::ValuesIn(designs_where([](const auto& d) {
                           return d.event_loop;
                         })),
                         [](const auto& p) { return design_param_name(p.param); });

// --- 3. Out of descriptors: RLIMIT_NOFILE 64, 300 clients at once ----------------------------

class Emfile : public DesignTest {};

TEST_P(Emfile, SurvivesWithoutSpinningAndServesEveryClientOnceLoadDrops) {
  const std::string design = GetParam();
  if (::access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "prlimit (util-linux) not installed";
  constexpr int kClients = 300;
  ServerProcess server({design, "--port", "0", "--workers", "4"}, 10s,
                       {"/usr/bin/prlimit", "--nofile=64:64"});
  ASSERT_TRUE(good_request(server.port(), 100));

  // Every client connects (the kernel completes the handshake into the backlog) and holds its
  // connection without a request: the server runs out of descriptors, or of workers.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(*clients.back()) << "client " << i << ": " << clients.back()->last_error_text()
                                 << "; server " << (server.running() ? "running" : "gone")
                                 << ", its stderr:\n"
                                 << server.err();
  }
  std::this_thread::sleep_for(300ms);  // let it reach the limit
  const double cpu0 = tree_cpu_seconds(server.pid());
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(1s);
  const double cpu_per_s = (tree_cpu_seconds(server.pid()) - cpu0) /
                           std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(cpu_per_s, 0.25) << "the server spins while saturated";
  if (design == "thread") {
    EXPECT_GE(open_fd_count(server.pid()), 60) << "the test never reached the descriptor limit";
    EXPECT_NE(server.err().find("Too many open files: backing off"), std::string::npos)
        << server.err();
  }
  ASSERT_TRUE(server.running());

  // Load drops: every held client asks and is answered in full.
  for (auto& c : clients)
    ASSERT_EQ(c->send("100\n"), IoStatus::ok);
  int served = 0;
  for (auto& c : clients) {
    c->shutdown_write();
    Received r = c->read_to_eof(20s);
    served += r.status == IoStatus::ok && r.data == expected_body(100);
    c->close();
  }
  EXPECT_EQ(served, kClients);
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(good_request(server.port(), 4000));
  Exit e = server.stop();
  EXPECT_EQ(e.code(), 0) << e.describe();
}

INSTANTIATE_TEST_SUITE_P(E2e, Emfile,
                         ::testing::Values("thread", "prefork-fdpass", "uring", "uring-msgring"),
                         [](const auto& p) { return design_param_name(p.param); });

}  // namespace
}  // namespace tcplab::test
