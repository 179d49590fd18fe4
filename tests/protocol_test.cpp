// protocol::parse and the answers built from it: every case of tests/corpus/bad_requests.txt,
// then the rules the corpus cannot show one input at a time (limits at the byte, every prefix
// of a request, keep-alive tables, the exact response heads).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "protocol.hpp"
#include "support/corpus.hpp"

namespace tcplab::protocol {
namespace {

using test::Answer;
using test::CorpusCase;

const std::string kCorpusPath = std::string(TCPLAB_SOURCE_DIR) + "/tests/corpus/bad_requests.txt";
constexpr std::uint64_t kMax = kDefaultMaxBytes;

// What the server sends for one parsed request, as serve_connection builds it: the head, then
// the body in slices of the shared pattern chunk.
std::string answer_for(const Request& r) {
  std::string out = response_head(r);
  for (std::uint64_t left = r.head ? 0 : r.bytes; left > 0;) {
    auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBodyChunk));
    out.append(body_chunk(), chunk);
    left -= chunk;
  }
  return out;
}

struct Reply {
  bool more = false;  // the server waits for the rest of a request
  std::string bytes;
};

// serve_connection's loop over a buffer that holds the whole input: answer each request until
// an error, a close, or an incomplete request.
std::vector<Reply> serve(std::string_view input, std::uint64_t max_bytes) {
  std::vector<Reply> replies;
  for (int guard = 0; guard < 1000; ++guard) {
    Parsed p = parse(input, max_bytes);
    if (p.status == Status::need_more) {
      if (!input.empty()) replies.push_back({true, {}});
      return replies;
    }
    if (p.consumed == 0 || p.consumed > input.size()) {
      ADD_FAILURE() << "consumed " << p.consumed << " of " << input.size() << " bytes";
      return replies;
    }
    if (p.status == Status::error) {
      replies.push_back({false, error_response(p.kind, p.error, max_bytes)});
      return replies;
    }
    replies.push_back({false, answer_for(p.request)});
    input.remove_prefix(p.consumed);
    if (!p.request.keep_alive) return replies;
  }
  ADD_FAILURE() << "no end after 1000 requests";
  return replies;
}

std::string printable(std::string_view s, std::size_t limit = 200) {
  std::string out;
  for (char c : s.substr(0, limit)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[(static_cast<unsigned char>(c) >> 4)];
      out += hex[c & 0xf];
    } else
      out += c;
  }
  if (s.size() > limit) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// --- the corpus ---------------------------------------------------------------------------

std::vector<CorpusCase> corpus_or_empty() {
  try {
    return test::load_corpus(kCorpusPath);
  } catch (...) {
    return {};  // Corpus.Loads reports why
  }
}

TEST(Corpus, LoadsAndHoldsEnoughCases) {
  std::vector<CorpusCase> cases;
  ASSERT_NO_THROW(cases = test::load_corpus(kCorpusPath));
  EXPECT_GE(cases.size(), 30u);
}

TEST(Corpus, LoaderDecodesEscapes) {
  EXPECT_EQ(test::decode_escapes(R"(a\n\r\t\\\0\x41\xfF)"), std::string("a\n\r\t\\\0A\xff", 8));
  EXPECT_EQ(test::decode_escapes(R"(\{3}7\{2}\x00.)"), std::string("777\0\0.", 6));
  EXPECT_EQ(test::decode_escapes(R"(\{0}x)"), "");
  EXPECT_THROW(test::decode_escapes(R"(\q)"), std::invalid_argument);
  EXPECT_THROW(test::decode_escapes(R"(\x4)"), std::invalid_argument);
  EXPECT_THROW(test::decode_escapes(R"(\{3})"), std::invalid_argument);
  EXPECT_THROW(test::decode_escapes("\\"), std::invalid_argument);
}

TEST(Corpus, RenderIsTheWireFormat) {
  Answer ok;
  ok.type = Answer::Type::ok;
  ok.bytes = 12;
  EXPECT_EQ(test::render(ok), "012345678901");
  Answer err;
  err.type = Answer::Type::err;
  err.reason = "not a number";
  EXPECT_EQ(test::render(err), "ERR not a number\n");
  Answer e405;
  e405.type = Answer::Type::http;
  e405.status = 405;
  e405.reason = "method not allowed";
  EXPECT_EQ(test::render(e405),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n"
            "Allow: GET, HEAD\r\nConnection: close\r\n\r\nmethod not allowed\n");
}

class CorpusCaseTest : public testing::TestWithParam<CorpusCase> {};

TEST_P(CorpusCaseTest, AnswersExactly) {
  const CorpusCase& c = GetParam();
  SCOPED_TRACE("bad_requests.txt:" + std::to_string(c.line) + " " + c.name + ": " +
               printable(c.input) + " -> " + c.answers_text);
  std::vector<Reply> got = serve(c.input, c.max_bytes);
  ASSERT_EQ(got.size(), c.answers.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Answer& want = c.answers[i];
    if (want.type == Answer::Type::more) {
      EXPECT_TRUE(got[i].more) << "answer " << i << ": sent " << printable(got[i].bytes);
      continue;
    }
    ASSERT_FALSE(got[i].more) << "answer " << i << ": waits for more input";
    std::string expected = test::render(want);
    if (expected.size() > 4096 || got[i].bytes.size() > 4096)
      EXPECT_TRUE(expected == got[i].bytes) << "answer " << i << ": " << printable(got[i].bytes);
    else
      EXPECT_EQ(printable(expected, 4096), printable(got[i].bytes, 4096)) << "answer " << i;
  }
}

std::string case_name(const testing::TestParamInfo<CorpusCase>& info) {
  std::string name = info.param.name;
  std::replace_if(
      name.begin(), name.end(),
      [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(BadRequests, CorpusCaseTest, testing::ValuesIn(corpus_or_empty()),
                         case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CorpusCaseTest);

// --- line protocol --------------------------------------------------------------------------

TEST(LineProtocol, AcceptsLfAndCrlfAndReportsWhatItConsumed) {
  Parsed p = parse("5\n", kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.kind, Kind::line);
  EXPECT_EQ(p.request.kind, Kind::line);
  EXPECT_EQ(p.request.bytes, 5u);
  EXPECT_EQ(p.consumed, 2u);
  p = parse("1234\r\nrest", kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.request.bytes, 1234u);
  EXPECT_EQ(p.consumed, 6u);
  EXPECT_EQ(response_head(p.request), "");
}

TEST(LineProtocol, CapIsInclusiveAndFollowsMaxBytes) {
  EXPECT_EQ(parse("1000\n", 1000).status, Status::request);
  Parsed p = parse("1001\n", 1000);
  EXPECT_EQ(p.error, Error::above_cap);
  EXPECT_EQ(error_response(p.kind, p.error, 1000), "ERR byte count above limit 1000\n");
  EXPECT_EQ(parse("0\n", 0).status, Status::request);
  EXPECT_EQ(parse("1\n", 0).error, Error::above_cap);
}

TEST(LineProtocol, FullUint64RangeThenOverflow) {
  constexpr auto kAll = std::numeric_limits<std::uint64_t>::max();
  Parsed p = parse("18446744073709551615\n", kAll);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.request.bytes, kAll);
  EXPECT_EQ(parse("18446744073709551616\n", kAll).error, Error::overflow);
  EXPECT_EQ(parse("00000000018446744073709551615\n", kAll).request.bytes, kAll);
}

TEST(LineProtocol, LineLimitAtTheByte) {
  // kMaxLine bytes including the '\n' is the longest line; a line that long without it is refused.
  std::string longest = std::string(kMaxLine - 2, '0') + "9\n";
  ASSERT_EQ(longest.size(), kMaxLine);
  EXPECT_EQ(parse(longest, kMax).status, Status::request);
  EXPECT_EQ(parse(std::string(kMaxLine - 1, '1'), kMax).status, Status::need_more);
  Parsed p = parse(std::string(kMaxLine, '1'), kMax);
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(p.error, Error::line_too_long);
  EXPECT_EQ(p.consumed, kMaxLine);
  EXPECT_EQ(parse(std::string(kMaxLine, '0') + "\n", kMax).error, Error::line_too_long);
  EXPECT_EQ(parse(std::string(100000, '7'), kMax).error, Error::line_too_long);
}

TEST(LineProtocol, EveryPrefixOfARequestNeedsMore) {
  const std::string request = "1048576\r\n";
  for (std::size_t n = 0; n < request.size(); ++n) {
    Parsed p = parse(std::string_view(request).substr(0, n), kMax);
    EXPECT_EQ(p.status, Status::need_more) << "prefix of " << n << " bytes";
    EXPECT_EQ(p.consumed, 0u);
  }
  EXPECT_EQ(parse(request, kMax).status, Status::request);
}

TEST(LineProtocol, PipelinedRequestsAreTakenOneAtATime) {
  std::string_view in = "5\n17\r\n0\n9";
  std::vector<std::uint64_t> got;
  for (;;) {
    Parsed p = parse(in, kMax);
    if (p.status != Status::request) {
      EXPECT_EQ(p.status, Status::need_more);
      break;
    }
    got.push_back(p.request.bytes);
    in.remove_prefix(p.consumed);
  }
  EXPECT_EQ(got, (std::vector<std::uint64_t>{5, 17, 0}));
  EXPECT_EQ(in, "9");
}

TEST(LineProtocol, EveryByteOtherThanADigitIsNotANumber) {
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    if ((c >= '0' && c <= '9') || c == '\n' || c == '\r') continue;
    for (std::string input :
         {std::string{c} + "\n", "1" + std::string{c} + "\n", "1" + std::string{c} + "1\n"}) {
      Parsed p = parse(input, kMax);
      EXPECT_EQ(p.status, Status::error) << "byte " << b;
      // A letter first makes it an attempt at HTTP, refused as a bad line all the same.
      EXPECT_EQ(p.error, Error::not_a_number) << "byte " << b << " in " << printable(input);
      EXPECT_EQ(p.kind, Kind::line);
      EXPECT_EQ(p.consumed, input.size());
    }
  }
}

TEST(LineProtocol, ErrorAnswersAreOneLine) {
  for (Error e : {Error::empty_line, Error::not_a_number, Error::negative, Error::overflow,
                  Error::above_cap, Error::line_too_long}) {
    std::string answer = error_response(Kind::line, e, kMax);
    EXPECT_TRUE(answer.starts_with("ERR ")) << answer;
    EXPECT_EQ(answer.find('\n'), answer.size() - 1) << answer;
    EXPECT_EQ(answer, "ERR " + error_reason(e, kMax) + "\n");
  }
}

// --- HTTP -------------------------------------------------------------------------------------

std::string get(std::string_view version, std::string_view headers,
                std::string_view target = "/5") {
  return "GET " + std::string(target) + " HTTP/" + std::string(version) + "\r\n" +
         std::string(headers) + "\r\n";
}

TEST(Http, GetReportsEverything) {
  std::string in = get("1.1", "Host: a\r\n") + "5\n";  // a pipelined line request after it
  Parsed p = parse(in, kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.kind, Kind::http);
  EXPECT_EQ(p.request.kind, Kind::http);
  EXPECT_EQ(p.request.bytes, 5u);
  EXPECT_TRUE(p.request.keep_alive);
  EXPECT_FALSE(p.request.http10);
  EXPECT_FALSE(p.request.head);
  EXPECT_EQ(p.consumed, in.size() - 2);
}

TEST(Http, HeadIsHeadersOnly) {
  Parsed p = parse("HEAD /77 HTTP/1.1\r\nHost: a\r\n\r\n", kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_TRUE(p.request.head);
  EXPECT_EQ(p.request.bytes, 77u);
  EXPECT_EQ(
      answer_for(p.request),
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 77\r\n\r\n");
}

struct KeepAliveCase {
  const char* version;
  const char* headers;
  bool keep_alive;
};

void PrintTo(const KeepAliveCase& c, std::ostream* os) {
  *os << "HTTP/" << c.version << " " << printable(c.headers);
}

std::string keep_alive_name(const testing::TestParamInfo<KeepAliveCase>& info) {
  std::string name =
      std::to_string(info.index) + "_http" + info.param.version + "_" + info.param.headers;
  std::replace_if(
      name.begin(), name.end(),
      [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return name;
}

class KeepAlive : public testing::TestWithParam<KeepAliveCase> {};

TEST_P(KeepAlive, FollowsTheVersionAndTheConnectionOptions) {
  const KeepAliveCase& c = GetParam();
  std::string in = get(c.version, std::string("Host: a\r\n") + c.headers);
  SCOPED_TRACE(printable(in));
  Parsed p = parse(in, kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.request.http10, std::string_view(c.version) == "1.0");
  EXPECT_EQ(p.request.keep_alive, c.keep_alive);
  // The head says so when the default does not hold.
  std::string head = response_head(p.request);
  bool says_close = head.find("Connection: close\r\n") != std::string::npos;
  bool says_keep = head.find("Connection: keep-alive\r\n") != std::string::npos;
  EXPECT_EQ(says_close, !p.request.http10 && !c.keep_alive) << head;
  EXPECT_EQ(says_keep, p.request.http10 && c.keep_alive) << head;
}

INSTANTIATE_TEST_SUITE_P(
    Http, KeepAlive,
    testing::Values(KeepAliveCase{"1.1", "", true},
                    KeepAliveCase{"1.1", "Connection: close\r\n", false},
                    KeepAliveCase{"1.1", "Connection: CLOSE\r\n", false},
                    KeepAliveCase{"1.1", "Connection: keep-alive\r\n", true},
                    KeepAliveCase{"1.1", "Connection: Upgrade\r\n", true},
                    KeepAliveCase{"1.1", "Connection: closed\r\n", true},
                    KeepAliveCase{"1.1", "Connection: keep-alive, close\r\n", false},
                    KeepAliveCase{"1.1", "Connection: close, keep-alive\r\n", false},
                    KeepAliveCase{"1.1", "Connection: ,, close ,,\r\n", false},
                    KeepAliveCase{"1.1", "Connection: upgrade\r\nConnection: close\r\n", false},
                    KeepAliveCase{"1.0", "", false},
                    KeepAliveCase{"1.0", "Connection: keep-alive\r\n", true},
                    KeepAliveCase{"1.0", "Connection: Keep-Alive\r\n", true},
                    KeepAliveCase{"1.0", "Connection: upgrade, keep-alive\r\n", true},
                    KeepAliveCase{"1.0", "Connection: close\r\n", false},
                    KeepAliveCase{"1.0", "Connection: keep-alive, close\r\n", false},
                    // "close wins over keep-alive" whatever the order (protocol.cpp's comment).
                    KeepAliveCase{"1.0", "Connection: close, keep-alive\r\n", false},
                    KeepAliveCase{"1.0", "Connection: close\r\nConnection: keep-alive\r\n", false}),
    keep_alive_name);

TEST(Http, HostIsRequiredOn11Only) {
  EXPECT_EQ(parse(get("1.1", ""), kMax).error, Error::bad_request);
  EXPECT_EQ(parse(get("1.1", "host: \r\n"), kMax).status, Status::request);
  EXPECT_EQ(parse(get("1.0", ""), kMax).status, Status::request);
}

TEST(Http, HeaderBlockLimitAtTheByte) {
  // A request of exactly kMaxHttpHeader bytes is taken; one byte more is refused with 431.
  std::string start = "GET /5 HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  std::string exact = start + std::string(kMaxHttpHeader - start.size() - 4, 'p') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), kMaxHttpHeader);
  Parsed p = parse(exact, kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.consumed, kMaxHttpHeader);
  std::string over = start + std::string(kMaxHttpHeader - start.size() - 3, 'p') + "\r\n\r\n";
  p = parse(over, kMax);
  EXPECT_EQ(p.status, Status::error);
  EXPECT_EQ(p.error, Error::headers_too_large);
  EXPECT_EQ(http_status(p.error), 431);
  // Incomplete: waits until the limit, then refuses.
  std::string partial = start + std::string(kMaxHttpHeader - start.size() - 1, 'p');
  EXPECT_EQ(parse(partial, kMax).status, Status::need_more);
  EXPECT_EQ(parse(partial + "p", kMax).error, Error::headers_too_large);
}

TEST(Http, EveryPrefixOfARequestNeedsMore) {
  const std::string request = "GET /5?q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  for (std::size_t n = 0; n < request.size(); ++n) {
    Parsed p = parse(std::string_view(request).substr(0, n), kMax);
    EXPECT_EQ(p.status, Status::need_more)
        << "prefix of " << n << " bytes: " << printable(request.substr(0, n));
    EXPECT_EQ(p.consumed, 0u);
  }
  Parsed p = parse(request, kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_FALSE(p.request.keep_alive);
}

TEST(Http, PipelinedRequestsAreTakenOneAtATime) {
  std::string first = get("1.1", "Host: a\r\n", "/1");
  std::string second = "HEAD /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  std::string in = first + second + "GET /3";
  Parsed p = parse(in, kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_EQ(p.consumed, first.size());
  p = parse(std::string_view(in).substr(first.size()), kMax);
  ASSERT_EQ(p.status, Status::request);
  EXPECT_TRUE(p.request.head && p.request.http10 && p.request.keep_alive);
  EXPECT_EQ(p.request.bytes, 2u);
  EXPECT_EQ(p.consumed, second.size());
  EXPECT_EQ(parse(std::string_view(in).substr(first.size() + second.size()), kMax).status,
            Status::need_more);
}

TEST(Http, StatusForEveryError) {
  struct Row {
    Error e;
    int status;
  };
  for (Row r : {Row{Error::bad_request, 400}, Row{Error::body_not_supported, 400},
                Row{Error::not_found, 404}, Row{Error::bad_method, 405}, Row{Error::above_cap, 413},
                Row{Error::overflow, 413}, Row{Error::headers_too_large, 431},
                Row{Error::bad_version, 505}}) {
    EXPECT_EQ(http_status(r.e), r.status);
    std::string answer = error_response(Kind::http, r.e, kMax);
    std::string reason = error_reason(r.e, kMax);
    std::string status_line = "HTTP/1.1 " + std::to_string(r.status) + " " +
                              std::string(http_reason_phrase(r.status)) + "\r\n";
    EXPECT_TRUE(answer.starts_with(status_line)) << answer;
    EXPECT_NE(answer.find("\r\nContent-Length: " + std::to_string(reason.size() + 1) + "\r\n"),
              std::string::npos)
        << answer;
    EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos) << answer;
    EXPECT_TRUE(answer.ends_with("\r\n\r\n" + reason + "\n")) << answer;
    EXPECT_EQ(answer.find("Allow:") != std::string::npos, r.status == 405) << answer;
  }
}

TEST(Body, PatternContinuesAcrossChunks) {
  static_assert(kBodyChunk % 10 == 0);
  const char* chunk = body_chunk();
  for (std::size_t k = 0; k < kBodyChunk; ++k)
    ASSERT_EQ(chunk[k], static_cast<char>('0' + k % 10)) << "byte " << k;
  Request r;
  r.bytes = 2 * kBodyChunk + 7;
  EXPECT_EQ(answer_for(r), test::body_bytes(r.bytes));
}

}  // namespace
}  // namespace tcplab::protocol
