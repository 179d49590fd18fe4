// libFuzzer target: protocol::parse on arbitrary bytes, with the invariants the servers rely on.
// Built and run by tests/fuzz/run.sh (clang++ -fsanitize=fuzzer,address,undefined).
//
//  - never reads past the input: the bytes are copied to a heap block of exactly their size,
//    so AddressSanitizer reports any read beyond it;
//  - consumed <= size; a request or an error consumes at least one byte (the read loop moves on);
//  - a request asks for at most max_bytes, ends at a '\n', and parses the same on its own (it
//    does not depend on the bytes after it);
//  - need_more only below the limits (a full buffer always gets an answer);
//  - an error has an answer of the right shape for its protocol.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "protocol.hpp"

namespace {

namespace proto = tcplab::protocol;
using proto::Error;
using proto::Kind;
using proto::Status;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "protocol_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool is_line_error(Error e) {
  return e == Error::empty_line || e == Error::not_a_number || e == Error::negative ||
         e == Error::overflow || e == Error::above_cap || e == Error::line_too_long;
}

bool is_http_error(Error e) {
  return e == Error::bad_request || e == Error::bad_method || e == Error::not_found ||
         e == Error::bad_version || e == Error::headers_too_large ||
         e == Error::body_not_supported || e == Error::overflow || e == Error::above_cap;
}

void check(std::string_view in, std::uint64_t max) {
  const proto::Parsed p = proto::parse(in, max);
  require(p.consumed <= in.size(), "consumed <= size");
  const bool letter_first =
      !in.empty() && ((in[0] >= 'A' && in[0] <= 'Z') || (in[0] >= 'a' && in[0] <= 'z'));

  switch (p.status) {
    case Status::need_more:
      require(p.consumed == 0, "need_more consumes nothing");
      require(in.size() < (letter_first ? proto::kMaxHttpHeader : proto::kMaxLine),
              "need_more only below the length limit");
      return;

    case Status::request: {
      const proto::Request& r = p.request;
      require(p.error == Error::none, "a request has no error");
      require(p.consumed > 0, "a request consumes bytes");
      require(in[p.consumed - 1] == '\n', "a request ends at a newline");
      require(r.bytes <= max, "request bytes <= max_bytes");
      require(r.kind == p.kind, "request kind == parsed kind");
      if (r.kind == Kind::line) {
        require(p.consumed <= proto::kMaxLine, "a line request fits the line limit");
        require(r.keep_alive && !r.head && !r.http10, "line requests keep the connection");
        require(proto::response_head(r).empty(), "no head for the line protocol");
      } else {
        require(p.consumed <= proto::kMaxHttpHeader, "an HTTP request fits the header limit");
        std::string head = proto::response_head(r);
        require(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"),
                "200 head shape");
      }
      const proto::Parsed alone = proto::parse(in.substr(0, p.consumed), max);
      require(alone.status == Status::request && alone.consumed == p.consumed &&
                  alone.request.bytes == r.bytes && alone.request.kind == r.kind &&
                  alone.request.keep_alive == r.keep_alive && alone.request.head == r.head &&
                  alone.request.http10 == r.http10,
              "a request parses the same without the bytes after it");
      return;
    }

    case Status::error: {
      require(p.error != Error::none, "an error names its kind");
      require(p.consumed > 0, "an error consumes bytes");
      require(p.kind == Kind::line ? is_line_error(p.error) : is_http_error(p.error),
              "the error belongs to the protocol it is answered in");
      const std::string answer = proto::error_response(p.kind, p.error, max);
      if (p.kind == Kind::line) {
        require(answer.starts_with("ERR ") && answer.find('\n') == answer.size() - 1,
                "an ERR answer is one line");
      } else {
        const int status = proto::http_status(p.error);
        require(status == 400 || status == 404 || status == 405 || status == 413 || status == 431 ||
                    status == 505,
                "HTTP error status");
        require(answer.starts_with("HTTP/1.1 " + std::to_string(status) + " "), "status line");
      }
      const proto::Parsed alone = proto::parse(in.substr(0, p.consumed), max);
      require(alone.status == Status::error && alone.error == p.error && alone.kind == p.kind,
              "an error does not depend on the bytes after it");
      return;
    }
  }
  require(false, "status is one of need_more, request, error");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<char[]> exact(new char[size]);
  if (size > 0) std::memcpy(exact.get(), data, size);
  const std::string_view in(exact.get(), size);
  check(in, proto::kDefaultMaxBytes);
  check(in, 0);
  check(in, std::numeric_limits<std::uint64_t>::max());
  return 0;
}
