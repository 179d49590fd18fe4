// tcplab-micro as the suite runs it: every benchmark of the cost model is there, in the JSON of
// --benchmark_out, and none failed. (micro_smoke only checks that the run ends well.)
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "uring.hpp"

namespace tcplab::micro {
namespace {

// Full run names: the family, the variant, and /real_time (every benchmark uses real time).
const char* const kExpected[] = {
    "BM_ForkExitWait/heap_mib:0/real_time",
    "BM_ForkExitWait/heap_mib:64/real_time",
    "BM_ThreadCreateJoin/real_time",
    "BM_ThreadCreateDetached/real_time",
    "BM_FcntlLock/uncontended/real_time",
    "BM_FcntlLock/contended/real_time",
    "BM_SharedMutex/uncontended/real_time",
    "BM_SharedMutex/contended/real_time",
    "BM_ThreadMutex/uncontended/real_time",
    "BM_ThreadMutex/contended/real_time",
    "BM_LockHandoff/none/parties:1/real_time",
    "BM_LockHandoff/fcntl/parties:4/real_time",
    "BM_LockHandoff/fcntl/parties:15/real_time",
    "BM_LockHandoff/process_mutex/parties:4/real_time",
    "BM_LockHandoff/process_mutex/parties:15/real_time",
    "BM_LockHandoff/thread_mutex/parties:4/real_time",
    "BM_LockHandoff/thread_mutex/parties:15/real_time",
    "BM_DupClose/real_time",
    "BM_SendRecvFd/real_time",
    "BM_SendRecvFdToChild/real_time",
    "BM_ThreadHandoff/round_trip/real_time",
    "BM_ThreadHandoff/throughput/real_time",
    "BM_ConnectAcceptClose/real_time",
    "BM_Response4000/real_time",
    "BM_SetSockoptTimeouts/real_time",
    "BM_Poll/poll/real_time",
    "BM_Poll/ppoll_sigmask/real_time",
    "BM_Getrusage/real_time",
};

TEST(MicroJson, EveryBenchmarkRanWithoutError) {
  const std::string dir = ::testing::TempDir();
  const std::string json_path = dir + "/micro.json", log_path = dir + "/micro.log";
  const std::string command =
      std::string(TCPLAB_BIN_DIR) +
      "/tcplab-micro --benchmark_min_time=0.01 --benchmark_out=" + json_path +
      " --benchmark_out_format=json >" + log_path + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log(log_path);
  const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << output;

  std::ifstream file(json_path);
  ASSERT_TRUE(file) << "no JSON at " << json_path;
  const nlohmann::json report = nlohmann::json::parse(file);
  ASSERT_TRUE(report.contains("benchmarks"));

  std::set<std::string> seen;
  for (const auto& b : report["benchmarks"]) {
    const std::string name = b.at("run_name").get<std::string>();
    seen.insert(name);
    EXPECT_FALSE(b.value("error_occurred", false))
        << name << ": " << b.value("error_message", std::string("(no message)"));
    EXPECT_GT(b.value("iterations", 0), 0) << name;
    EXPECT_GT(b.value("real_time", 0.0), 0.0) << name;
  }
  for (const char* name : kExpected)
    EXPECT_TRUE(seen.count(name)) << "missing: " << name;
  // The io_uring pass runs where io_uring does, and only there.
  EXPECT_EQ(seen.count("BM_MsgRingFd/real_time"),
            tcplab::uring_unavailable_reason().empty() ? 1u : 0u)
      << tcplab::uring_unavailable_reason();
}

}  // namespace
}  // namespace tcplab::micro
