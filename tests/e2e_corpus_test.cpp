// The request corpus (tests/corpus/bad_requests.txt) end to end: every case is sent to every
// design over a real socket, and the bytes that come back must be exactly the documented answer;
// after each case a good request is served, and at the end the server and its children hold no
// more descriptors than before the corpus.
#include <gtest/gtest.h>

#include <map>

#include "support/corpus.hpp"
#include "support/e2e.hpp"

namespace tcplab::test {
namespace {

std::vector<CorpusCase> corpus() {
  static const std::vector<CorpusCase> cases =
      load_corpus(std::string(TCPLAB_SOURCE_DIR) + "/tests/corpus/bad_requests.txt");
  return cases;
}

// Sends one case on a fresh connection and checks the answer byte for byte, and then that the
// connection is in the documented state: closed by the server, still waiting for the rest of
// a request (MORE), or idle and open.
::testing::AssertionResult exact_answer(std::uint16_t port, const CorpusCase& c) {
  std::string want;
  for (const Answer& a : c.answers)
    want += render(a);
  const Answer& last = c.answers.back();

  Client client(port);
  if (!client) return ::testing::AssertionFailure() << "connect: " << client.last_error_text();
  if (IoStatus s = client.send(c.input); s != IoStatus::ok)
    return ::testing::AssertionFailure() << "send: " << s << " " << client.last_error_text();

  if (!last.closes()) {
    Received r = client.read_exactly(want.size(), 5s);
    if (r.status != IoStatus::ok || r.data != want)
      return ::testing::AssertionFailure()
             << "got " << r.data.size() << " bytes (" << r.status << "), expected " << want.size();
    // Open and silent: nothing more comes while the client says nothing.
    if (Received more = client.read_exactly(1, 30ms); more.status != IoStatus::timeout)
      return ::testing::AssertionFailure() << "expected an open, idle connection, got "
                                           << more.status << " " << more.data.size() << " bytes";
    client.shutdown_write();  // now the server sees EOF and closes, sending nothing more
  }
  Received r = client.read_to_eof(5s);
  if (r.status != IoStatus::ok)
    return ::testing::AssertionFailure()
           << "no EOF: " << r.status << " " << client.last_error_text();
  const std::string got = last.closes() ? r.data : want + r.data;
  if (got != want) {
    auto at = std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin();
    return ::testing::AssertionFailure()
           << "got " << got.size() << " bytes, expected " << want.size()
           << ", first difference at byte " << at << ": '" << got.substr(at, 40) << "'";
  }
  return ::testing::AssertionSuccess();
}

class Corpus : public DesignTest {};

TEST_P(Corpus, EveryCaseGetsItsExactAnswerThenServiceGoesOnAndNoDescriptorLeaks) {
  const auto cases = corpus();
  ASSERT_GE(cases.size(), 30u);
  std::map<std::uint64_t, std::vector<const CorpusCase*>> by_cap;  // one server per --max-bytes
  for (const CorpusCase& c : cases)
    by_cap[c.max_bytes].push_back(&c);

  for (const auto& [cap, group] : by_cap) {
    ServerProcess server(
        {GetParam(), "--port", "0", "--workers", "4", "--max-bytes", std::to_string(cap)});
    ASSERT_TRUE(good_request(server.port(), 100));
    FdCounts before;
    ASSERT_TRUE(wait_until(
        [&] {
          FdCounts a = server_fd_counts(server.pid());
          std::this_thread::sleep_for(50ms);
          return (before = server_fd_counts(server.pid())) == a;
        },
        5s));

    int failures = 0;
    for (const CorpusCase* c : group) {
      SCOPED_TRACE("corpus line " + std::to_string(c->line) + ": " + c->name);
      EXPECT_TRUE(exact_answer(server.port(), *c)) << c->answers_text;
      ASSERT_TRUE(good_request(server.port(), 7)) << "the server stopped serving";
      if (HasFailure() && ++failures >= 5) return;  // enough to see the pattern
    }
    FdCounts after;
    EXPECT_TRUE(wait_until(
        [&] { return total_fds(after = server_fd_counts(server.pid())) <= total_fds(before); }, 5s))
        << "before: " << show_fds(before) << "\nafter: " << show_fds(after);
    Exit e = server.stop();
    EXPECT_EQ(e.code(), 0) << e.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(E2e, Corpus, ::testing::ValuesIn(all_designs()),
                         [](const auto& p) { return design_param_name(p.param); });

}  // namespace
}  // namespace tcplab::test
