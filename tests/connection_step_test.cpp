// step(), the decision serve_connection() and the EventLoop share, as a table: the bytes a
// connection holds and where it stands, in; what to send and what comes after, out.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "connection_step.hpp"

namespace tcplab {
namespace {

using protocol::Error;

constexpr std::string_view kHead200 =
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ";
const std::string kGet3 = "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kGet3Close = "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

struct Case {
  std::string name;
  std::string input;
  bool answered = false;
  bool stopping = false;
  bool fault_inject = false;
  // expected
  Action action = Action::read;
  std::string head;
  std::uint64_t body = 0;
  std::size_t consumed = 0;
  After after = After::next;
  Error error = Error::none;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const Case kCases[] = {
    // Nothing whole yet: read, except between requests while the server stops.
    {.name = "empty_fresh", .input = "", .action = Action::read},
    {.name = "empty_answered", .input = "", .answered = true, .action = Action::read},
    {.name = "empty_fresh_stopping", .input = "", .stopping = true, .action = Action::read},
    {.name = "empty_answered_stopping",
     .input = "",
     .answered = true,
     .stopping = true,
     .action = Action::close},
    {.name = "partial_answered_stopping",
     .input = "12",
     .answered = true,
     .stopping = true,
     .action = Action::read},
    {.name = "partial_http", .input = "GET /5 HTTP/1.1\r\n", .action = Action::read},
    // Line protocol: no head, keep-alive even in a stop (the next step closes when idle).
    {.name = "line",
     .input = "5\n",
     .action = Action::answer,
     .body = 5,
     .consumed = 2,
     .after = After::next},
    {.name = "line_crlf_pipelined",
     .input = "12\r\n7\n",
     .action = Action::answer,
     .body = 12,
     .consumed = 4,
     .after = After::next},
    {.name = "line_stopping",
     .input = "5\n",
     .answered = true,
     .stopping = true,
     .action = Action::answer,
     .body = 5,
     .consumed = 2,
     .after = After::next},
    // HTTP: the head, keep-alive by the request, and not during a stop.
    {.name = "http11",
     .input = kGet3,
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\n\r\n",
     .body = 3,
     .consumed = kGet3.size(),
     .after = After::next},
    {.name = "http_head",
     .input = "HEAD /3 HTTP/1.1\r\nHost: x\r\n\r\n",
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\n\r\n",
     .body = 0,
     .consumed = 29,
     .after = After::next},
    {.name = "http11_stopping",
     .input = kGet3,
     .stopping = true,
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\nConnection: close\r\n\r\n",
     .body = 3,
     .consumed = kGet3.size(),
     .after = After::close},
    {.name = "http11_stopping_pipelined",
     .input = kGet3 + kGet3,
     .stopping = true,
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\nConnection: close\r\n\r\n",
     .body = 3,
     .consumed = kGet3.size(),
     .after = After::linger},
    {.name = "http11_close",
     .input = kGet3Close,
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\nConnection: close\r\n\r\n",
     .body = 3,
     .consumed = kGet3Close.size(),
     .after = After::close},
    {.name = "http11_close_pipelined",
     .input = kGet3Close + "5\n",
     .action = Action::answer,
     .head = std::string(kHead200) + "3\r\nConnection: close\r\n\r\n",
     .body = 3,
     .consumed = kGet3Close.size(),
     .after = After::linger},
    {.name = "http10",
     .input = "GET /2 HTTP/1.0\r\n\r\n",
     .action = Action::answer,
     .head = std::string(kHead200) + "2\r\n\r\n",
     .body = 2,
     .consumed = 19,
     .after = After::close},
    {.name = "http10_keep_alive",
     .input = "GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     .action = Action::answer,
     .head = std::string(kHead200) + "2\r\nConnection: keep-alive\r\n\r\n",
     .body = 2,
     .consumed = 43,
     .after = After::next},
    // Refusals: the whole answer in the head, nothing consumed, then linger.
    {.name = "line_refused",
     .input = "abc\n",
     .action = Action::refuse,
     .head = "ERR not a number\n",
     .after = After::linger,
     .error = Error::not_a_number},
    {.name = "line_above_cap",
     .input = "2000000\n",
     .answered = true,
     .action = Action::refuse,
     .head = "ERR byte count above limit 1048576\n",
     .after = After::linger,
     .error = Error::above_cap},
    {.name = "http_refused",
     .input = "POST /3 HTTP/1.1\r\nHost: x\r\n\r\n",
     .action = Action::refuse,
     .head = "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n"
             "Allow: GET, HEAD\r\nConnection: close\r\n\r\nmethod not allowed\n",
     .after = After::linger,
     .error = Error::bad_method},
    // "crash" crashes only under --fault-inject; otherwise it is refused like any bad line.
    {.name = "crash_refused",
     .input = "crash\n",
     .action = Action::refuse,
     .head = "ERR not a number\n",
     .after = After::linger,
     .error = Error::not_a_number},
    {.name = "crash", .input = "crash\n", .fault_inject = true, .action = Action::crash},
    {.name = "crash_crlf", .input = "crash\r\n", .fault_inject = true, .action = Action::crash},
    {.name = "crashing_refused",
     .input = "crashing\n",
     .fault_inject = true,
     .action = Action::refuse,
     .head = "ERR not a number\n",
     .after = After::linger,
     .error = Error::not_a_number},
    {.name = "fault_inject_answers",
     .input = "5\n",
     .fault_inject = true,
     .action = Action::answer,
     .body = 5,
     .consumed = 2},
};

class StepTable : public testing::TestWithParam<Case> {};

TEST_P(StepTable, DecidesWhatToSendAndWhatNext) {
  const Case& c = GetParam();
  ServeConfig config;
  config.fault_inject = c.fault_inject;
  Step s = step(c.input, c.answered, c.stopping, config);
  EXPECT_EQ(s.action, c.action);
  if (s.action != Action::refuse && s.action != Action::answer) return;  // nothing else is read
  EXPECT_EQ(s.head, c.head);
  EXPECT_EQ(s.body, c.body);
  EXPECT_EQ(s.consumed, c.consumed);
  EXPECT_EQ(s.after, c.after);
  EXPECT_EQ(s.error, c.error);
}

INSTANTIATE_TEST_SUITE_P(Cases, StepTable, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(Step, MaxBytesComesFromTheConfig) {
  ServeConfig config;
  config.max_bytes = 10;
  EXPECT_EQ(step("10\n", false, false, config).action, Action::answer);
  Step s = step("11\n", false, false, config);
  EXPECT_EQ(s.action, Action::refuse);
  EXPECT_EQ(s.head, "ERR byte count above limit 10\n");
}

}  // namespace
}  // namespace tcplab
