// tcplab-server end to end: each design runs as a real process on 127.0.0.1 and a port the kernel
// picks, is driven over real sockets as a client would, is stopped with a signal, and is reaped.
// Every wait has a time limit (support/*.hpp), so a broken server fails a test, never hangs it.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/client.hpp"
#include "support/e2e.hpp"
#include "support/server_process.hpp"

namespace tcplab::test {
namespace {

using nlohmann::json;

// Every design of the table (paradigms/designs.cpp), and those with a pool of processes.
const std::vector<std::string> kDesigns = all_designs();
const std::vector<std::string> kPreforkDesigns =
    designs_where([](const tcplab::Design& d) { return d.pooled && d.processes(); });
constexpr std::size_t kWorkers = 4;

bool pooled(const std::string& design) {
  return design_row(design).pooled;
}
bool process_pool(const std::string& design) {
  return design_row(design).pooled && design_row(design).processes();
}
// How many children an idle server has: its pool, or none.
std::size_t idle_children(const std::string& design) {
  return process_pool(design) ? kWorkers : 0;
}

std::vector<std::string> server_args(const std::string& design,
                                     std::vector<std::string> more = {}) {
  std::vector<std::string> args = {design, "--port", "0", "--workers", std::to_string(kWorkers)};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::uint64_t number(const json& stats, const std::string& key) {
  const json* j = &stats;
  std::istringstream parts(key);  // "events.worker_died"
  for (std::string part; std::getline(parts, part, '.');) {
    if (!j->is_object() || !j->contains(part)) return ~std::uint64_t{0};
    j = &(*j)[part];
  }
  return j->is_number_unsigned() ? j->get<std::uint64_t>() : ~std::uint64_t{0};
}

std::string show(const std::string& bytes, std::size_t max = 120) {
  std::string out;
  for (unsigned char c : bytes.substr(0, max)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return bytes.size() > max ? out + fmt::format("... ({} bytes)", bytes.size()) : out;
}

std::string first_difference(const std::string& got, const std::string& want) {
  auto at = std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin();
  return fmt::format("{} bytes, expected {}; first difference at byte {}", got.size(), want.size(),
                     at);
}

::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << first_difference(got, want);
}

// One connection asking for n bytes over the line protocol: exactly n bytes of the pattern
// come back, and then, once the client has closed its side, EOF and nothing more.
::testing::AssertionResult fetch(std::uint16_t port, std::size_t n,
                                 const std::string* body = nullptr) {
  std::string made;
  if (body == nullptr) body = &(made = expected_body(n));
  Client c(port);
  if (!c) return ::testing::AssertionFailure() << "connect: " << c.last_error_text();
  if (IoStatus s = c.send(std::to_string(n) + "\n"); s != IoStatus::ok)
    return ::testing::AssertionFailure() << "send: " << s << " " << c.last_error_text();
  Received r = c.read_exactly(n, 10s);
  if (r.status != IoStatus::ok)
    return ::testing::AssertionFailure() << "asked " << n << ", read " << r.data.size() << " then "
                                         << r.status << " (" << c.last_error_text() << ")";
  if (r.data != *body)
    return ::testing::AssertionFailure()
           << "asked " << n << ": " << first_difference(r.data, *body);
  c.shutdown_write();
  Received rest = c.read_to_eof(5s);
  if (rest.status != IoStatus::ok || !rest.data.empty())
    return ::testing::AssertionFailure() << "after " << n << " bytes: " << rest.status << " with "
                                         << rest.data.size() << " more bytes: " << show(rest.data);
  return ::testing::AssertionSuccess();
}

// --- HTTP, parsed strictly ---

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::size_t count(std::string_view name) const {
    return std::count_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return iequals(h.first, name); });
  }
  // The value of header `name` (case-insensitive), "" if absent.
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (iequals(n, name)) return v;
    return "";
  }
  static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(x) == std::tolower(y);
           });
  }
};

// Reads one response from `c`: a status line "HTTP/1.1 DDD Reason", header lines "Name: value"
// with CRLF endings, exactly one Content-Length of plain digits, no Transfer-Encoding; then
// Content-Length bytes of body, unless it answers a HEAD.
::testing::AssertionResult read_response(Client& c, HttpResponse& r, bool head_request = false) {
  static const std::regex kStatusLine(R"(HTTP/1\.1 ([1-5][0-9][0-9]) [A-Za-z][A-Za-z ]*)");
  static const std::regex kHeader(R"(([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ([^\s](?:[^\r\n]*[^\s])?)?)");
  static const std::regex kDigits(R"(0|[1-9][0-9]*)");
  Received head = c.read_until("\r\n\r\n", 5s, 16384);
  if (head.status != IoStatus::ok)
    return ::testing::AssertionFailure()
           << "response head: " << head.status << " after " << show(head.data);
  r = {};
  std::string_view text(head.data);
  text.remove_suffix(2);  // every line, the last included, now ends in exactly one CRLF
  std::vector<std::string> lines;
  for (std::size_t at; (at = text.find("\r\n")) != std::string_view::npos;
       text.remove_prefix(at + 2))
    lines.emplace_back(text.substr(0, at));
  for (const auto& line : lines)
    if (line.find_first_of("\r\n") != std::string::npos)
      return ::testing::AssertionFailure() << "bare CR or LF in " << show(head.data);
  std::smatch m;
  if (lines.empty() || !std::regex_match(lines[0], m, kStatusLine))
    return ::testing::AssertionFailure() << "bad status line in " << show(head.data);
  r.status = std::stoi(m[1]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (!std::regex_match(lines[i], m, kHeader))
      return ::testing::AssertionFailure() << "bad header line " << show(lines[i]);
    r.headers.emplace_back(m[1], m[2]);
  }
  if (r.count("Content-Length") != 1 || !std::regex_match(r.header("Content-Length"), kDigits))
    return ::testing::AssertionFailure()
           << "need exactly one numeric Content-Length: " << show(head.data);
  if (r.count("Transfer-Encoding") != 0)
    return ::testing::AssertionFailure() << "unexpected Transfer-Encoding: " << show(head.data);
  if (head_request) return ::testing::AssertionSuccess();
  const auto length = std::stoull(r.header("Content-Length"));
  Received body = c.read_exactly(length, 10s);
  if (body.status != IoStatus::ok)
    return ::testing::AssertionFailure() << "body of " << length << ": " << body.status << " after "
                                         << body.data.size() << " bytes";
  r.body = std::move(body.data);
  return ::testing::AssertionSuccess();
}

// Sends `request` and reads a 200 answer carrying n bytes (a head only for HEAD).
::testing::AssertionResult http_ok(Client& c, const std::string& request, std::size_t n,
                                   HttpResponse& r) {
  if (IoStatus s = c.send(request); s != IoStatus::ok)
    return ::testing::AssertionFailure() << "send: " << s;
  const bool head = request.starts_with("HEAD ");
  if (auto ok = read_response(c, r, head); !ok) return ok;
  if (r.status != 200)
    return ::testing::AssertionFailure() << "status " << r.status << ", body " << show(r.body);
  if (r.header("Content-Length") != std::to_string(n))
    return ::testing::AssertionFailure()
           << "Content-Length " << r.header("Content-Length") << ", expected " << n;
  if (!head && r.body != expected_body(n))
    return ::testing::AssertionFailure() << first_difference(r.body, expected_body(n));
  return ::testing::AssertionSuccess();
}

// The server closed the connection by itself, with nothing after what was read.
::testing::AssertionResult closed_by_server(Client& c) {
  Received rest = c.read_to_eof(3s);
  if (rest.status == IoStatus::ok && rest.data.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected EOF, got " << rest.status << " after " << show(rest.data);
}

// The server stopped cleanly: status 0 in time, its one "listening on" line, a summary.
void expect_clean_exit(const Exit& e, const std::string& design) {
  EXPECT_EQ(e.code(), 0) << e.describe();
  EXPECT_FALSE(e.killed_by_test) << e.describe();
  std::size_t listening = 0;
  for (std::size_t at = 0; (at = e.out.find("listening on ", at)) != std::string::npos; ++at)
    ++listening;
  EXPECT_EQ(listening, 1u) << "the line must be printed once, by the server only\n" << e.out;
  EXPECT_NE(e.out.find(design), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("connections"), std::string::npos) << e.out;
}

// ============================================================================================
// 1. Concurrency and exact bytes: 16 client threads x 50 connections on every design.

struct Variant {
  std::string design;
  std::string dispatch;  // prefork-fdpass only; "" leaves the server's default
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.design << (v.dispatch.empty() ? "" : " --dispatch " + v.dispatch);
}

// Every design with its default, and each --dispatch policy of the designs that take one.
std::vector<Variant> concurrency_variants() {
  std::vector<Variant> v;
  for (const auto& d : kDesigns)
    v.push_back({d, ""});
  for (const tcplab::Design& d : tcplab::designs())
    for (DispatchPolicy policy : d.dispatch_policies)
      v.push_back({std::string(d.name), std::string(dispatch_name(policy))});
  return v;
}

class Concurrency : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override { skip_if_unavailable(GetParam().design); }
};

TEST_P(Concurrency, SixteenClientsTimesFiftyConnectionsGetExactBytes) {
  const Variant& v = GetParam();
  constexpr int kThreads = 16, kPerThread = 50, kTotal = kThreads * kPerThread;
  constexpr std::size_t kCap = 65536;
  const std::array<std::size_t, 4> sizes = {0, 1, 4000, kCap};
  std::array<std::string, 4> bodies;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    bodies[i] = expected_body(sizes[i]);

  StatsFile stats;
  auto args =
      server_args(v.design, {"--max-bytes", std::to_string(kCap), "--stats-json", stats.path()});
  if (!v.dispatch.empty()) args.insert(args.end(), {"--dispatch", v.dispatch});
  ServerProcess server(args);

  std::mutex mutex;
  std::vector<std::string> failures;
  std::atomic<int> served{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::size_t which = static_cast<std::size_t>(t * kPerThread + i) % sizes.size();
        if (auto ok = fetch(server.port(), sizes[which], &bodies[which])) {
          ++served;
        } else {  // one failure per thread is enough to see, and a broken server is slow
          std::lock_guard lock(mutex);
          failures.push_back(fmt::format("thread {} connection {}: {}", t, i, ok.message()));
          return;
        }
      }
    });
  for (auto& c : clients)
    c.join();
  EXPECT_EQ(served.load(), kTotal);
  for (std::size_t i = 0; i < std::min<std::size_t>(failures.size(), 5); ++i)
    ADD_FAILURE() << failures[i];

  Exit e = server.stop();
  expect_clean_exit(e, v.design);
  json s = stats.read();
  ASSERT_TRUE(s.is_object()) << "no stats JSON\n" << e.describe();
  EXPECT_EQ(s.value("design", ""), v.design);
  EXPECT_EQ(number(s, "connections"), std::uint64_t{kTotal}) << s.dump(2);
  EXPECT_EQ(number(s, "requests"), std::uint64_t{kTotal});
  EXPECT_EQ(number(s, "bytes_sent"), std::uint64_t{kTotal / 4} * (0 + 1 + 4000 + kCap));
  for (const char* key : {"cpu_user_s", "cpu_sys_s"})
    EXPECT_TRUE(s.contains(key) && s[key].is_number()) << key;
  for (auto& [kind, n] : s["failures"].items())
    EXPECT_EQ(n, 0) << "failures." << kind;
  EXPECT_EQ(number(s, "events.worker_died"), 0u);
  EXPECT_EQ(number(s, "events.dropped"), 0u);
  if (pooled(v.design)) {
    ASSERT_TRUE(s["workers"].is_array());
    auto workers = s["workers"].get<std::vector<std::uint64_t>>();
    EXPECT_EQ(workers.size(), kWorkers);
    EXPECT_EQ(std::accumulate(workers.begin(), workers.end(), std::uint64_t{0}),
              number(s, "connections"));
  }
  // What each design had to create to serve 800 connections.
  // A process or a thread per connection (fork, thread), a pool of them, or none at all.
  const tcplab::Design& d = design_row(v.design);
  const std::uint64_t per_design = d.worker_per_connection() ? kTotal : kWorkers;
  const std::uint64_t processes = d.processes() ? per_design : 0;
  const std::uint64_t threads = d.threads() ? per_design : 0;
  EXPECT_EQ(number(s, "processes_created"), processes);
  EXPECT_EQ(number(s, "threads_created"), threads);
}

INSTANTIATE_TEST_SUITE_P(E2e, Concurrency, ::testing::ValuesIn(concurrency_variants()),
                         [](const auto& p) {
                           return design_param_name(
                               p.param.design +
                               (p.param.dispatch.empty() ? "" : "_" + p.param.dispatch));
                         });

// ============================================================================================
// 2-4, 6: one server per test, for each design.

class Design : public DesignTest {};

// 2. Several requests on one connection, one at a time, pipelined, split, with "\r\n".
TEST_P(Design, ManyRequestsOnOneConnection) {
  StatsFile stats;
  ServerProcess server(server_args(GetParam(), {"--stats-json", stats.path()}));
  Client c(server.port());
  ASSERT_TRUE(c) << c.last_error_text();
  int requests = 0;
  for (std::size_t n : {5, 0, 4000, 1}) {
    ASSERT_EQ(c.send(std::to_string(n) + "\n"), IoStatus::ok);
    Received r = c.read_exactly(n);
    ASSERT_EQ(r.status, IoStatus::ok) << "asked " << n;
    EXPECT_TRUE(same_bytes(r.data, expected_body(n)));
    ++requests;
  }
  ASSERT_EQ(c.send("7\r\n"), IoStatus::ok);
  EXPECT_EQ(c.read_exactly(7).data, "0123456");
  ++requests;
  // Three requests in one write: three answers back to back.
  ASSERT_EQ(c.send("1\n2\n3\n"), IoStatus::ok);
  EXPECT_EQ(c.read_exactly(6).data, "0" + std::string("01") + "012");
  requests += 3;
  // A request split over two writes, then two more with either line ending.
  ASSERT_EQ(c.send("12"), IoStatus::ok);
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(c.send("3\r\n4\n"), IoStatus::ok);
  Received r = c.read_exactly(123 + 4);
  ASSERT_EQ(r.status, IoStatus::ok);
  EXPECT_TRUE(same_bytes(r.data, expected_body(123) + expected_body(4)));
  requests += 2;
  // Then the client closes: EOF and not a byte more.
  c.shutdown_write();
  Received rest = c.read_to_eof();
  EXPECT_EQ(rest.status, IoStatus::ok);
  EXPECT_EQ(rest.data, "");

  Exit e = server.stop();
  expect_clean_exit(e, GetParam());
  json s = stats.read();
  EXPECT_EQ(number(s, "connections"), 1u) << s.dump(2);
  EXPECT_EQ(number(s, "requests"), std::uint64_t(requests));
  EXPECT_EQ(number(s, "failures.bad_request"), 0u);
}

// 3. The HTTP subset over a raw socket.
TEST_P(Design, HttpKeepAliveCloseHeadAndHttp10) {
  ServerProcess server(server_args(GetParam()));
  HttpResponse r;
  {  // HTTP/1.1 keeps the connection: several requests, a query string, a HEAD, pipelining.
    Client c(server.port());
    ASSERT_TRUE(c);
    ASSERT_TRUE(http_ok(c, "GET /10 HTTP/1.1\r\nHost: e2e\r\n\r\n", 10, r));
    EXPECT_EQ(r.count("Connection"), 0u) << "1.1 keeps the connection without saying so";
    ASSERT_TRUE(
        http_ok(c, "GET /4000?x=1 HTTP/1.1\r\nHost: e2e\r\nUser-Agent: e2e\r\n\r\n", 4000, r));
    ASSERT_TRUE(http_ok(c, "HEAD /7 HTTP/1.1\r\nHost: e2e\r\n\r\n", 7, r));
    // Two pipelined: the first answer must start right after HEAD's head (no body was sent),
    // the second asks to close.
    ASSERT_EQ(c.send("GET /0 HTTP/1.1\r\nHost: e2e\r\n\r\n"
                     "GET /3 HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n"),
              IoStatus::ok);
    ASSERT_TRUE(read_response(c, r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "");
    ASSERT_TRUE(read_response(c, r));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "012");
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(closed_by_server(c));
  }
  {  // HTTP/1.0 closes after one answer unless asked.
    Client c(server.port());
    ASSERT_TRUE(http_ok(c, "GET /5 HTTP/1.0\r\n\r\n", 5, r));
    EXPECT_NE(r.header("Connection"), "keep-alive");
    EXPECT_TRUE(closed_by_server(c));
  }
  {  // HTTP/1.0 with keep-alive asked keeps it, and says so.
    Client c(server.port());
    ASSERT_TRUE(http_ok(c, "GET /5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 5, r));
    EXPECT_EQ(r.header("Connection"), "keep-alive");
    ASSERT_TRUE(http_ok(c, "GET /2 HTTP/1.0\r\n\r\n", 2, r));
    EXPECT_TRUE(closed_by_server(c));
  }
  {  // HEAD with close: the head and nothing else.
    Client c(server.port());
    ASSERT_TRUE(http_ok(c, "HEAD /100 HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n", 100, r));
    EXPECT_TRUE(closed_by_server(c));
  }
  expect_clean_exit(server.stop(), GetParam());
}

// 4. Every bad input gets its own answer, and the server goes on serving.

// --max-bytes here: 64 MiB, far more than the socket buffers hold, so a reset client really
// interrupts a response.
constexpr std::uint64_t kBigCap = std::uint64_t{1} << 26;

struct BadInput {
  std::string name;
  std::string bytes;
  std::string answer;        // line protocol: the whole answer
  int status = 0;            // HTTP: the status, with `answer` + "\n" as the body
  std::string extra_header;  // HTTP: "Name: value" the answer must also carry
};

std::vector<BadInput> bad_inputs() {
  const std::string cap = std::to_string(kBigCap);
  const std::string host = "Host: e2e\r\n";
  return {
      {"letters", "abc\n", "ERR not a number\n"},
      {"digits then junk", "12x\n", "ERR not a number\n"},
      {"plus sign", "+5\n", "ERR not a number\n"},
      {"leading space", " 5\n", "ERR not a number\n"},
      {"negative", "-5\n", "ERR negative byte count\n"},
      {"25 digits", std::string(25, '9') + "\n", "ERR byte count overflows 64 bits\n"},
      {"2^64", "18446744073709551616\n", "ERR byte count overflows 64 bits\n"},
      {"above the cap", std::to_string(kBigCap + 1) + "\n",
       "ERR byte count above limit " + cap + "\n"},
      {"100 bytes, no newline", std::string(100, '1'), "ERR line longer than 32 bytes\n"},
      {"empty line", "\n", "ERR empty request\n"},
      {"empty CRLF line", "\r\n", "ERR empty request\n"},
      {"binary", std::string("\x01\x02\xff\xfe\x80\n", 6), "ERR not a number\n"},
      {"NULs", std::string("1\0\0002\n", 5), "ERR not a number\n"},
      {"NUL first", std::string("\0\n", 2), "ERR not a number\n"},
      {"HTTP bad method", "POST /5 HTTP/1.1\r\n" + host + "\r\n", "method not allowed", 405,
       "Allow: GET, HEAD"},
      {"HTTP bad path", "GET /abc HTTP/1.1\r\n" + host + "\r\n", "path is not /N", 404},
      {"HTTP no slash", "GET 5 HTTP/1.1\r\n" + host + "\r\n", "path is not /N", 404},
      {"HTTP/2.0", "GET /5 HTTP/2.0\r\n" + host + "\r\n", "HTTP version not supported", 505},
      {"HTTP garbage version", "GET /5 HTTP/x.y\r\n" + host + "\r\n", "malformed HTTP request",
       400},
      {"HTTP above the cap",
       "GET /" + std::to_string(kBigCap + 1) + " HTTP/1.1\r\n" + host + "\r\n",
       "byte count above limit " + cap, 413},
      {"HTTP 25 digits", "GET /" + std::string(25, '9') + " HTTP/1.1\r\n" + host + "\r\n",
       "byte count overflows 64 bits", 413},
      {"HTTP headers over 8 KiB",
       "GET /5 HTTP/1.1\r\n" + host + "X-Big: " + std::string(9000, 'a') + "\r\n\r\n",
       "headers longer than 8192 bytes", 431},
      {"HTTP body", "GET /5 HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello",
       "request body not supported", 400},
      {"HTTP chunked body",
       "GET /5 HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "request body not supported", 400},
      {"HTTP/1.1 without Host", "GET /5 HTTP/1.1\r\n\r\n", "malformed HTTP request", 400},
      {"HTTP bad header line", "GET /5 HTTP/1.1\r\n" + host + "no colon here\r\n\r\n",
       "malformed HTTP request", 400},
  };
}

TEST_P(Design, BadInputGetsItsAnswerThenServiceGoesOn) {
  const std::string design = GetParam();
  StatsFile stats;
  ServerProcess server(
      server_args(design, {"--max-bytes", std::to_string(kBigCap), "--stats-json", stats.path()}));
  std::uint64_t connections = 0;
  const auto cases = bad_inputs();
  for (const BadInput& bad : cases) {
    SCOPED_TRACE(bad.name);
    {
      Client c(server.port());
      ASSERT_TRUE(c) << c.last_error_text();
      ++connections;
      ASSERT_EQ(c.send(bad.bytes), IoStatus::ok);
      if (bad.status == 0) {
        Received r = c.read_to_eof(3s);
        EXPECT_EQ(r.status, IoStatus::ok) << c.last_error_text();
        EXPECT_EQ(show(r.data), show(bad.answer));
      } else {
        HttpResponse r;
        ASSERT_TRUE(read_response(c, r));
        EXPECT_EQ(r.status, bad.status);
        EXPECT_EQ(r.body, bad.answer + "\n");
        EXPECT_EQ(r.header("Connection"), "close");
        if (!bad.extra_header.empty()) {
          auto colon = bad.extra_header.find(": ");
          EXPECT_EQ(r.header(bad.extra_header.substr(0, colon)),
                    bad.extra_header.substr(colon + 2));
        }
        EXPECT_TRUE(closed_by_server(c));
      }
    }
    EXPECT_TRUE(fetch(server.port(), 7));
    ++connections;
    if (HasFailure()) return;  // each case waits seconds on a broken server: one is enough
  }
  {  // A client that closes in the middle of a line.
    Client c(server.port());
    ++connections;
    ASSERT_EQ(c.send("12"), IoStatus::ok);
  }
  EXPECT_TRUE(fetch(server.port(), 7));
  ++connections;
  {  // A client that resets (SO_LINGER 0) in the middle of a response far larger than the buffers.
    Client c(server.port());
    ++connections;
    ASSERT_EQ(c.send(std::to_string(kBigCap) + "\n"), IoStatus::ok);
    Received r = c.read_exactly(65536);
    ASSERT_EQ(r.status, IoStatus::ok);
    EXPECT_TRUE(same_bytes(r.data, expected_body(65536)));
    c.reset();
  }
  EXPECT_TRUE(fetch(server.port(), 4000));
  ++connections;

  Exit e = server.stop();
  expect_clean_exit(e, design);
  json s = stats.read();
  EXPECT_EQ(number(s, "connections"), connections) << s.dump(2);
  EXPECT_EQ(number(s, "failures.bad_request"), cases.size());
  EXPECT_EQ(number(s, "failures.closed_mid_request"), 1u);
  EXPECT_EQ(number(s, "failures.reset"), 1u);
}

// 4. A client that sends nothing, stops mid-line, or stops reading is dropped after
// --io-timeout-ms.
TEST_P(Design, SilentClientIsDroppedAfterIoTimeout) {
  StatsFile stats;
  ServerProcess server(
      server_args(GetParam(), {"--io-timeout-ms", "300", "--max-bytes", std::to_string(kBigCap),
                               "--stats-json", stats.path()}));
  for (const char* sent : {"", "12"}) {
    SCOPED_TRACE(fmt::format("sent \"{}\"", sent));
    Client c(server.port());
    ASSERT_TRUE(c);
    const auto start = Clock::now();
    ASSERT_EQ(c.send(sent), IoStatus::ok);
    Received r = c.read_to_eof(3s);
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    EXPECT_EQ(r.status, IoStatus::ok) << "not dropped within 3 s: " << c.last_error_text();
    EXPECT_EQ(r.data, "");
    EXPECT_GE(took, 250ms) << "dropped before its time";
    EXPECT_TRUE(fetch(server.port(), 10));
  }
  {  // Asks for more than the socket buffers hold and reads nothing: the server, blocked
     // sending, gives up and closes its side (which then waits in FIN_WAIT1 for us to read).
    Client c(server.port());
    ASSERT_TRUE(c);
    const auto start = Clock::now();
    ASSERT_EQ(c.send(std::to_string(kBigCap) + "\n"), IoStatus::ok);
    EXPECT_TRUE(wait_until([&] { return tcp_state(server.port(), c.local_port()) != 1; }, 3s))
        << "the server still holds a client that reads nothing";
    EXPECT_GE(Clock::now() - start, 250ms) << "dropped before its time";
    c.reset();
    EXPECT_TRUE(fetch(server.port(), 10));
  }
  Exit e = server.stop();
  expect_clean_exit(e, GetParam());
  EXPECT_EQ(number(stats.read(), "failures.timeout"), 3u);
}

// 6. An idle keep-alive client is not in flight: it holds the stop no longer than the grace
// period. (Process workers are signalled and close it at once; a thread blocked in read()
// on it is not woken, and the server exits when the grace period ends.)
TEST_P(Design, IdleClientDoesNotHoldTheStopPastGrace) {
  constexpr int kGraceMs = 500;
  ServerProcess server(server_args(GetParam(), {"--grace-ms", std::to_string(kGraceMs)}));
  Client idle(server.port());
  ASSERT_EQ(idle.send("3\n"), IoStatus::ok);
  ASSERT_EQ(idle.read_exactly(3).data, "012");
  Exit e = server.stop(SIGTERM);
  expect_clean_exit(e, GetParam());
  EXPECT_LT(e.took, milliseconds(kGraceMs + 2000));
  EXPECT_TRUE(closed_by_server(idle));
}

INSTANTIATE_TEST_SUITE_P(E2e, Design, ::testing::ValuesIn(kDesigns),
                         [](const auto& p) { return design_param_name(p.param); });

// 6. SIGTERM and SIGINT: the request in flight is finished, every worker is reaped, exit 0.

// While alive, orphans of this process's descendants are re-parented to it rather than to
// init. A worker its server failed to reap then shows up here, alive or as a zombie, instead of
// being quietly reaped by init; the destructor kills and reaps the pids it was told of.
class AdoptOrphans {
 public:
  AdoptOrphans() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~AdoptOrphans() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    for (pid_t pid : watched_) {
      if (::waitpid(pid, nullptr, WNOHANG) != 0) continue;  // reaped now, or not ours (ECHILD)
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  AdoptOrphans(const AdoptOrphans&) = delete;
  AdoptOrphans& operator=(const AdoptOrphans&) = delete;
  void watch(const std::vector<pid_t>& pids) {
    watched_.insert(watched_.end(), pids.begin(), pids.end());
  }

 private:
  std::vector<pid_t> watched_;
};

// The stop time is the server's: a test that reaps it late (after reading a long answer, slow
// under a sanitizer) must not count its own delay into Exit::took.
TEST(StopTime, IsWhenTheServerEndedNotWhenTheTestReapedIt) {
  ServerProcess server({"iterative", "--port", "0"});
  server.signal(SIGTERM);
  std::this_thread::sleep_for(2s);
  Exit e = server.wait_exit();
  ASSERT_EQ(e.code(), 0) << e.describe();
  EXPECT_LT(e.took, 1500ms);
}

class Stop : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override { skip_if_unavailable(std::get<0>(GetParam())); }
};

TEST_P(Stop, FinishesTheRequestInFlightReapsEveryWorkerAndExitsZero) {
  const std::string design = std::get<0>(GetParam());
  const int sig = std::get<1>(GetParam());
  constexpr int kGraceMs = 3000;
  constexpr std::size_t kBig = 16 << 20, kFirst = 65536;
  AdoptOrphans adopt;
  StatsFile stats;
  ServerProcess server(
      server_args(design, {"--max-bytes", std::to_string(kBig), "--grace-ms",
                           std::to_string(kGraceMs), "--stats-json", stats.path()}));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(fetch(server.port(), 1000));
  // Served connections leave no zombie behind (fork reaps each child as it ends).
  EXPECT_TRUE(wait_until(
      [&] {
        auto kids = child_pids(server.pid());
        return kids.size() == idle_children(design) &&
               std::none_of(kids.begin(), kids.end(),
                            [](pid_t k) { return process_state(k) == 'Z'; });
      },
      3s))
      << "children of an idle server: " << ::testing::PrintToString(child_pids(server.pid()));

  // A response in flight: the server is blocked sending when the signal comes.
  Client slow(server.port());
  ASSERT_EQ(slow.send(std::to_string(kBig) + "\n"), IoStatus::ok);
  Received first = slow.read_exactly(kFirst);
  ASSERT_EQ(first.status, IoStatus::ok);
  std::vector<pid_t> kids;
  ASSERT_TRUE(wait_until(
      [&] { return (kids = child_pids(server.pid())).size() >= idle_children(design); }, 2s));
  adopt.watch(kids);
  std::this_thread::sleep_for(50ms);

  const auto signalled = std::chrono::steady_clock::now();
  server.signal(sig);
  Received rest = slow.read_exactly(kBig - kFirst, 10s);
  // The exit is seen only after this read, which a slow client (a sanitizer build on a busy
  // machine) can stretch past the grace period after the server has written everything.
  const auto read_took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - signalled);
  EXPECT_EQ(rest.status, IoStatus::ok)
      << "the response in flight was cut after " << kFirst + rest.data.size() << " bytes";
  EXPECT_TRUE(same_bytes(first.data + rest.data, expected_body(kBig)));
  EXPECT_TRUE(closed_by_server(slow)) << "the server closes between requests once stopping";

  Exit e = server.wait_exit(milliseconds(kGraceMs + 5000));
  expect_clean_exit(e, design);
  EXPECT_LT(e.took, std::max(milliseconds(kGraceMs), read_took) + 1000ms)
      << "stopping took longer than the grace period (the client's read took " << read_took.count()
      << " ms)";
  for (pid_t kid : kids)
    EXPECT_FALSE(process_exists(kid))
        << "worker " << kid << " outlived its server, or was not reaped by it"
        << " (state " << process_state(kid) << ")";
  EXPECT_TRUE(::kill(-server.pid(), 0) == -1 && errno == ESRCH)
      << "a process is left in the server's group";

  json s = stats.read();
  ASSERT_TRUE(s.is_object()) << e.describe();
  for (const char* key : {"design", "connections", "requests", "cpu_user_s", "cpu_sys_s", "workers",
                          "failures", "events", "processes_created", "threads_created"})
    EXPECT_TRUE(s.contains(key)) << key << " missing in\n" << s.dump(2);
  EXPECT_EQ(s.value("design", ""), design);
  EXPECT_EQ(number(s, "connections"), 4u) << s.dump(2);
  EXPECT_EQ(number(s, "requests"), 4u);
}

INSTANTIATE_TEST_SUITE_P(E2e, Stop,
                         ::testing::Combine(::testing::ValuesIn(kDesigns),
                                            ::testing::Values(SIGTERM, SIGINT)),
                         [](const auto& p) {
                           return design_param_name(std::get<0>(p.param)) +
                                  (std::get<1>(p.param) == SIGTERM ? "_SIGTERM" : "_SIGINT");
                         });

// A thread still serving when the grace period ends (a client reading a huge response as fast
// as it comes) outlives the design's run function: the server prints its summary and exits 0
// while that thread goes on writing into the scoreboard. The objects it uses (the Server, the
// Scoreboard, the listener) must outlive it; the old serve() destroyed them (munmap) before
// main() called _exit, and the straggler's next count was a write to freed memory (SIGSEGV, or a
// use-after-free under ASan).
class Straggler : public ::testing::TestWithParam<std::string> {};

TEST_P(Straggler, AThreadServingPastTheGracePeriodDoesNotOutliveTheServersObjects) {
  const std::string design = GetParam();
  constexpr int kGraceMs = 200;
  constexpr std::uint64_t kHuge = std::uint64_t{1} << 38;  // far more than it can send meanwhile
  StatsFile stats;
  // The window between the old serve()'s return and _exit is short: several stragglers (one per
  // worker), several rounds.
  for (int round = 0; round < 5; ++round) {
    ServerProcess server(
        server_args(design, {"--max-bytes", std::to_string(kHuge), "--grace-ms",
                             std::to_string(kGraceMs), "--stats-json", stats.path()}));
    std::vector<std::unique_ptr<Client>> readers;
    for (std::size_t k = 0; k < kWorkers; ++k) {
      readers.push_back(std::make_unique<Client>(server.port()));
      ASSERT_EQ(readers.back()->send(std::to_string(kHuge) + "\n"), IoStatus::ok);
      ASSERT_EQ(readers.back()->read_exactly(65536).status, IoStatus::ok);
    }
    std::atomic<bool> done{false};
    std::vector<std::thread> drains;
    for (auto& reader : readers)
      drains.emplace_back([&done, fd = reader->fd()] {  // as fast as the server writes
        char buf[1 << 16];
        while (!done.load() && ::read(fd, buf, sizeof buf) > 0) {
        }
      });
    server.signal(SIGTERM);
    Exit e = server.wait_exit(10s);
    done = true;
    for (auto& drain : drains)
      drain.join();  // the server is gone (exited, or killed by wait_exit): read() sees the end
    ASSERT_TRUE(e.exited()) << "round " << round << ": " << e.describe();
    expect_clean_exit(e, design);
    json summary = stats.read();
    ASSERT_TRUE(summary.is_object()) << e.describe();
    EXPECT_EQ(summary.value("design", ""), design);
  }
}

INSTANTIATE_TEST_SUITE_P(E2e, Straggler,
                         ::testing::Values("thread", "prethread-mutex", "prethread-dispatch",
                                           "loop-per-thread"),
                         [](const auto& p) { return design_param_name(p.param); });

// ============================================================================================
// 5. Descriptor hygiene: 200 connections, good and bad, leave the server's descriptors as they
// were.

using FdCounts = std::map<pid_t, int>;  // the server and each of its children

FdCounts fd_counts(pid_t server) {
  FdCounts counts{{server, open_fd_count(server)}};
  for (pid_t kid : child_pids(server))
    counts[kid] = open_fd_count(kid);
  return counts;
}

std::string show(const FdCounts& counts) {
  std::string out;
  for (auto [pid, n] : counts)
    out += fmt::format("{}:{} ", pid, n);
  return out;
}

// Connection number i of a mix that covers every way a connection can end.
::testing::AssertionResult one_of_each(std::uint16_t port, int i) {
  if (i % 8 == 0) return fetch(port, 100);
  Client c(port);
  if (!c) return ::testing::AssertionFailure() << "connect: " << c.last_error_text();
  switch (i % 8) {
    case 1: {  // a refused request
      c.send("x\n");
      Received r = c.read_to_eof(3s);
      if (r.data != "ERR not a number\n") return ::testing::AssertionFailure() << show(r.data);
      return ::testing::AssertionSuccess();
    }
    case 2: {  // HTTP keep-alive, closed by the client
      HttpResponse r;
      if (auto ok = http_ok(c, "GET /10 HTTP/1.1\r\nHost: e2e\r\n\r\n", 10, r); !ok) return ok;
      return http_ok(c, "GET /20 HTTP/1.1\r\nHost: e2e\r\n\r\n", 20, r);
    }
    case 3:  // closed mid-line
      c.send("12");
      return ::testing::AssertionSuccess();
    case 4: {  // reset mid-response
      c.send("1000000\n");
      Received r = c.read_exactly(1000);
      c.reset();
      return r.status == IoStatus::ok ? ::testing::AssertionSuccess()
                                      : ::testing::AssertionFailure() << "reset case: " << r.status;
    }
    case 5: {  // an HTTP error
      c.send("GET /nope HTTP/1.1\r\nHost: e2e\r\n\r\n");
      HttpResponse r;
      if (auto ok = read_response(c, r); !ok) return ok;
      return r.status == 404 ? closed_by_server(c) : ::testing::AssertionFailure() << r.status;
    }
    case 6: {  // pipelined
      c.send("1\n2\n3\n");
      c.shutdown_write();
      Received r = c.read_to_eof(3s);
      return r.data == "001012" ? ::testing::AssertionSuccess()
                                : ::testing::AssertionFailure() << show(r.data);
    }
    default:  // connects and closes at once
      return ::testing::AssertionSuccess();
  }
}

class Descriptors : public DesignTest {};

TEST_P(Descriptors, TwoHundredConnectionsLeaveNoDescriptorBehind) {
  const std::string design = GetParam();
  ServerProcess server(server_args(design, {"--max-bytes", "1000000"}));
  const auto settled = [&](FdCounts& counts) {  // the expected children, and no change for 100 ms
    FdCounts before = fd_counts(server.pid());
    std::this_thread::sleep_for(100ms);
    counts = fd_counts(server.pid());
    return counts == before && counts.size() == 1 + idle_children(design);
  };
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(one_of_each(server.port(), i)) << "warm-up " << i;
  FdCounts baseline;
  ASSERT_TRUE(wait_until([&] { return settled(baseline); }, 5s, 1ms)) << show(baseline);

  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(one_of_each(server.port(), i)) << "connection " << i;
  FdCounts after;
  EXPECT_TRUE(wait_until([&] { return settled(after) && after == baseline; }, 5s, 1ms))
      << "descriptors before: " << show(baseline) << "\nafter: " << show(after);
  expect_clean_exit(server.stop(), design);
}

INSTANTIATE_TEST_SUITE_P(E2e, Descriptors, ::testing::ValuesIn(kDesigns),
                         [](const auto& p) { return design_param_name(p.param); });

// ============================================================================================
// 7. Prefork pools replace a child that dies.

class Prefork : public DesignTest {};

// Waits until the pool has kWorkers children again, none of them in `dead`, and every one of
// `dead` reaped by the server.
::testing::AssertionResult pool_replaced(const ServerProcess& server,
                                         const std::vector<pid_t>& dead) {
  std::vector<pid_t> kids;
  if (wait_until(
          [&] {
            kids = child_pids(server.pid());
            return kids.size() == kWorkers && std::none_of(dead.begin(), dead.end(), [&](pid_t d) {
                     return process_exists(d) ||
                            std::find(kids.begin(), kids.end(), d) != kids.end();
                   });
          },
          5s))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "after 5 s the children are " << ::testing::PrintToString(kids) << ", killed "
         << ::testing::PrintToString(dead);
}

// The pool's children, once all kWorkers are up (fewer if they are not within 5 s).
std::vector<pid_t> pool_children(const ServerProcess& server) {
  std::vector<pid_t> kids;
  wait_until([&] { return (kids = child_pids(server.pid())).size() == kWorkers; }, 5s);
  return kids;
}

// n connections, each asking for another size: every one gets its exact bytes.
::testing::AssertionResult serve_many(std::uint16_t port, int n) {
  for (int i = 0; i < n; ++i) {
    if (auto ok = fetch(port, std::size_t(i) * 97 % 5000); !ok)
      return ok << " (connection " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST_P(Prefork, KilledChildIsReplacedAndServiceGoesOn) {
  StatsFile stats;
  ServerProcess server(server_args(GetParam(), {"--stats-json", stats.path()}));
  const std::vector<pid_t> kids = pool_children(server);
  ASSERT_EQ(kids.size(), kWorkers) << server.err();
  ASSERT_TRUE(serve_many(server.port(), 5));

  ASSERT_EQ(::kill(kids[1], SIGKILL), 0);
  ASSERT_TRUE(pool_replaced(server, {kids[1]})) << server.err();
  EXPECT_TRUE(serve_many(server.port(), 50));

  Exit e = server.stop();
  expect_clean_exit(e, GetParam());
  json s = stats.read();
  EXPECT_EQ(number(s, "connections"), 55u) << s.dump(2);
  EXPECT_EQ(number(s, "events.worker_died"), 1u);
  EXPECT_EQ(number(s, "events.worker_respawned"), 1u);
  EXPECT_EQ(number(s, "processes_created"), kWorkers + 1);
}

// True if `pid` is blocked in accept4(2) now (/proc/PID/syscall starts with its number).
bool blocked_in_accept(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long number = -1;
  return in >> number && number == SYS_accept4;
}

// Every child at once, so the one waiting in accept() dies with the accept lock held: with
// prefork-mutex it is the robust mutex that keeps the pool from hanging.
TEST_P(Prefork, KillingEveryChildAtOnceLeavesNoLockHeld) {
  StatsFile stats;
  ServerProcess server(server_args(GetParam(), {"--stats-json", stats.path()}));
  const std::vector<pid_t> kids = pool_children(server);
  ASSERT_EQ(kids.size(), kWorkers) << server.err();
  ASSERT_TRUE(serve_many(server.port(), 5));
  // A child existing is not a child in accept() yet (slow under the sanitizers); with an
  // accept lock, the one in accept() is the one holding it.
  const tcplab::Design& design = design_row(GetParam());
  if (design.accept_lock != tcplab::AcceptLockKind::none) {
    ASSERT_TRUE(
        wait_until([&] { return std::any_of(kids.begin(), kids.end(), blocked_in_accept); }, 5s));
  }

  for (pid_t kid : kids)
    ASSERT_EQ(::kill(kid, SIGKILL), 0);
  ASSERT_TRUE(pool_replaced(server, kids)) << server.err();
  EXPECT_TRUE(serve_many(server.port(), 50)) << server.err();
  if (design.accept_lock == tcplab::AcceptLockKind::mutex) {  // robust: EOWNERDEAD
    EXPECT_NE(server.err().find("previous owner died holding it"), std::string::npos)
        << "the robust mutex's recovery did not run:\n"
        << server.err();
  }

  Exit e = server.stop();
  expect_clean_exit(e, GetParam());
  json s = stats.read();
  EXPECT_EQ(number(s, "connections"), 55u) << s.dump(2);
  EXPECT_EQ(number(s, "events.worker_died"), kWorkers);
  EXPECT_EQ(number(s, "events.worker_respawned"), kWorkers);
}

// A child that dies young is replaced after a delay that doubles (100 ms, 200 ms… up to 5 s;
// common/process_pool.hpp), so a worker that crashes at once cannot make the manager fork
// without pause.
TEST_P(Prefork, ChildThatKeepsDyingIsReplacedAfterGrowingDelays) {
  StatsFile stats;
  ServerProcess server(server_args(GetParam(), {"--stats-json", stats.path()}));
  const std::vector<pid_t> kids = pool_children(server);
  ASSERT_EQ(kids.size(), kWorkers) << server.err();
  pid_t victim = kids[0];
  std::vector<milliseconds> took;  // from each kill to its replacement
  for (int round = 0; round < 3; ++round) {
    const auto before = child_pids(server.pid());
    const auto killed = Clock::now();
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    ASSERT_TRUE(wait_until(
        [&] {
          auto now = child_pids(server.pid());
          for (pid_t kid : now)
            if (std::find(before.begin(), before.end(), kid) == before.end()) victim = kid;
          return now.size() == kWorkers &&
                 std::find(before.begin(), before.end(), victim) == before.end();
        },
        5s, 1ms))
        << "round " << round << ": no replacement";
    took.push_back(std::chrono::duration_cast<milliseconds>(Clock::now() - killed));
  }
  // The first child may have lived long enough to be replaced at once; its young successors not.
  EXPECT_GE(took[1], 100ms);
  EXPECT_GE(took[2], 200ms);
  EXPECT_TRUE(serve_many(server.port(), 50));
  Exit e = server.stop();
  expect_clean_exit(e, GetParam());
  EXPECT_EQ(number(stats.read(), "events.worker_respawned"), 3u);
}

INSTANTIATE_TEST_SUITE_P(E2e, Prefork, ::testing::ValuesIn(kPreforkDesigns),
                         [](const auto& p) { return design_param_name(p.param); });

// ============================================================================================
// 8. The command line.

TEST(E2eCli, ListPrintsTheNineDesignsOnePerLine) {
  Exit e = run_program({server_path(), "--list"});
  ASSERT_EQ(e.code(), 0) << e.describe();
  std::istringstream lines(e.out);
  std::vector<std::string> names;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name, summary;
    words >> name;
    std::getline(words, summary);
    EXPECT_FALSE(summary.empty()) << "no description: " << line;
    EXPECT_EQ(std::count(names.begin(), names.end(), name), 0) << "listed twice: " << name;
    names.push_back(name);
  }
  // The nine of chapter 30 first, in the book's order; designs beyond it may follow.
  ASSERT_GE(names.size(), kDesigns.size()) << e.out;
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + kDesigns.size()), kDesigns);
}

TEST(E2eCli, HelpExitsZero) {
  Exit e = run_program({server_path(), "--help"});
  EXPECT_EQ(e.code(), 0) << e.describe();
  for (const char* option : {"--port", "--workers", "--dispatch", "--max-bytes", "--io-timeout-ms",
                             "--grace-ms", "--stats-json", "--list", "--json", "--ballast-mb"})
    EXPECT_NE(e.out.find(option), std::string::npos) << option;
}

TEST(E2eCli, UnknownDesignExitsTwoWithAMessage) {
  Exit e = run_program({server_path(), "no-such-design", "--port", "0"});
  EXPECT_EQ(e.code(), 2) << e.describe();
  EXPECT_NE(e.err.find("no-such-design"), std::string::npos) << e.describe();
  EXPECT_EQ(e.out.find("listening on"), std::string::npos);
}

TEST(E2eCli, MissingDesignExitsTwoWithAMessage) {
  Exit e = run_program({server_path(), "--port", "0"});
  EXPECT_EQ(e.code(), 2) << e.describe();
  EXPECT_NE(e.err.find("design"), std::string::npos) << e.describe();
}

TEST(E2eCli, BadOptionValueExitsTwo) {
  for (std::vector<std::string> bad : {std::vector<std::string>{"--workers", "0"},
                                       {"--dispatch", "nobody"},
                                       {"--io-timeout-ms", "-1"},
                                       {"--no-such-option"}}) {
    std::vector<std::string> args = {server_path(), "prefork", "--port", "0"};
    args.insert(args.end(), bad.begin(), bad.end());
    Exit e = run_program(args);
    EXPECT_EQ(e.code(), 2) << bad[0] << "\n" << e.describe();
    EXPECT_FALSE(e.err.empty()) << bad[0];
  }
}

// An option of one design given to another is an error (exit 2, a line that names the option),
// never silently ignored: the old server served `epoll --dispatch round-robin` as epoll. Which
// design takes --dispatch comes from the table (its dispatch_policies), so a new row just works.
TEST(E2eCli, AnOptionOfAnotherDesignExitsTwo) {
  Exit list = run_program({server_path(), "--list", "--json"});
  ASSERT_EQ(list.code(), 0) << list.describe();
  const json table = json::parse(list.out);
  const std::set<std::string> queue = {"prethread-dispatch"};
  int refused = 0;
  for (const json& d : table["designs"]) {
    const std::string name = d["name"];
    const bool dispatches = !d["dispatch_policies"].empty();
    const bool passes_to_processes = dispatches && d["workers"] == "processes";
    const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
        {{"--dispatch", "round-robin"}, dispatches},
        {{"--route-by", "peer"}, passes_to_processes},
        {{"--route-ports", "0"}, passes_to_processes},
        {{"--route-prefix", "9=0"}, passes_to_processes},
        {{"--queue-size", "4"}, queue.contains(name)},
        {{"--stall-worker", "0"}, d["pooled"] && d["event_loop"]}};  // a pool of event loops
    for (const auto& [option, takes] : cases) {
      if (takes) continue;  // the designs that take them are run with them elsewhere
      std::vector<std::string> args = {server_path(), name, "--port", "0"};
      args.insert(args.end(), option.begin(), option.end());
      Exit e = run_program(args);
      EXPECT_EQ(e.code(), 2) << name << " " << option[0] << "\n" << e.describe();
      EXPECT_NE(e.err.find(option[0] + " is not an option of " + name), std::string::npos)
          << e.describe();
      EXPECT_EQ(e.out.find("listening on"), std::string::npos) << name << " " << option[0];
      ++refused;
    }
  }
  EXPECT_GE(refused, 40);  // at least the 13 designs of today, 3 to 6 options each
}

TEST(E2eCli, EpollDispatchRoundRobinIsAnError) {
  Exit e = run_program({server_path(), "epoll", "--port", "0", "--dispatch", "round-robin"});
  EXPECT_EQ(e.code(), 2) << e.describe();
  EXPECT_NE(e.err.find("--dispatch is not an option of epoll"), std::string::npos) << e.describe();
}

// config.dispatch: in the summary of a design with dispatch policies only (the old server wrote
// "least-loaded" into every summary, epoll's included).
TEST(E2eCli, OnlyADesignWithPoliciesHasADispatchInItsSummary) {
  for (const std::string design : {"epoll", "prefork", "prefork-fdpass"}) {
    StatsFile stats;
    std::vector<std::string> args = {design, "--port",       "0",         "--workers",
                                     "2",    "--stats-json", stats.path()};
    if (design == "prefork-fdpass") args.insert(args.end(), {"--dispatch", "round-robin"});
    ServerProcess server(args);
    EXPECT_TRUE(fetch(server.port(), 10));
    Exit e = server.stop();
    expect_clean_exit(e, design);
    json s = stats.read();
    ASSERT_TRUE(s.is_object()) << e.describe();
    if (design == "prefork-fdpass")
      EXPECT_EQ(s["config"].value("dispatch", ""), "round-robin") << s.dump(2);
    else
      EXPECT_FALSE(s["config"].contains("dispatch")) << design << "\n" << s.dump(2);
  }
}

// ============================================================================================
// 9. --ballast-mb: the main process holds that much written memory before it serves.

// A line of /proc/PID/status in KiB (e.g. "VmRSS"); -1 if it is not there.
long status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(key + ":")) return std::stol(line.substr(key.size() + 1));
  return -1;
}

TEST(E2eBallast, MainProcessHoldsItAndForkedChildrenStillServeExactBytes) {
  constexpr long kMib = 64;
  StatsFile stats;
  ServerProcess plain({"fork", "--port", "0"});
  const long plain_rss = status_kib(plain.pid(), "VmRSS");
  ASSERT_GT(plain_rss, 0);
  EXPECT_LT(plain_rss, kMib * 1024) << "the test needs a server smaller than its ballast";
  plain.stop();

  ServerProcess server(
      {"fork", "--port", "0", "--ballast-mb", std::to_string(kMib), "--stats-json", stats.path()});
  // Written before "listening on": resident now, not merely reserved.
  EXPECT_GE(status_kib(server.pid(), "VmRSS"), kMib * 1024 + plain_rss / 2)
      << "VmRSS of a server with --ballast-mb " << kMib;
  for (std::size_t n : {0, 1, 4000, 100'000})
    EXPECT_TRUE(fetch(server.port(), n)) << n << " bytes";
  Exit e = server.stop();
  expect_clean_exit(e, "fork");
  json s = stats.read();
  EXPECT_EQ(number(s, "connections"), 4u) << s.dump(2);
  EXPECT_EQ(number(s, "config.ballast_mb"), std::uint64_t{kMib}) << s.dump(2);
  EXPECT_GE(number(s, "peak_rss_max_kb"), std::uint64_t{kMib * 1024});
}

TEST(E2eBallast, OutOfRangeIsRefusedWithTheRange) {
  for (const char* bad : {"4097", "-1", "lots"}) {
    Exit e = run_program({server_path(), "fork", "--port", "0", "--ballast-mb", bad});
    EXPECT_EQ(e.code(), 2) << bad << "\n" << e.describe();
    EXPECT_NE(e.err.find("--ballast-mb"), std::string::npos) << e.describe();
    EXPECT_EQ(e.out.find("listening on"), std::string::npos) << e.describe();
  }
  Exit e = run_program({server_path(), "fork", "--port", "0", "--ballast-mb", "4097"});
  EXPECT_NE(e.err.find("4096"), std::string::npos) << e.describe();
}

// The harness: a program that outlives its time limit is killed, and the test's message says
// where each of its threads waited (a hang seen once on a loaded CI machine must say where).
TEST(Harness, AProgramKilledAfterItsLimitSaysWhereItWaited) {
  Exit e = run_program({"/bin/sleep", "30"}, 300ms);
  EXPECT_TRUE(e.killed_by_test) << e.describe();
  EXPECT_NE(e.waiting_in.find("State:"), std::string::npos) << e.describe();
  EXPECT_NE(e.waiting_in.find("SigBlk:"), std::string::npos) << e.describe();
  EXPECT_NE(e.describe().find("waiting in:\ntask "), std::string::npos) << e.describe();
}

}  // namespace
}  // namespace tcplab::test
