#pragma once
// The request protocol every design speaks, as a pure function over bytes: no I/O here, so the
// unit tests and the fuzzer drive exactly the code the servers run.
//
// Line protocol (UNP's web_child): "N\n" or "N\r\n" asks for exactly N bytes; repeat until the
// client closes. Errors answer "ERR <reason>\n" and close.
// HTTP/1.1 subset on the same port, told apart by the first byte (a letter): "GET /N HTTP/1.1"
// answers 200 with N bytes of body; keep-alive as HTTP/1.0 and 1.1 define it; errors answer
// 400/404/405/413/431/505 with a short body and close.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tcplab::protocol {

// A line longer than this without '\n' is refused; 20 digits of uint64 plus "\r\n" fit.
inline constexpr std::size_t kMaxLine = 32;
// Request line plus headers of one HTTP request; also the per-connection read buffer size.
inline constexpr std::size_t kMaxHttpHeader = 8192;
inline constexpr std::uint64_t kDefaultMaxBytes = 1 << 20;

enum class Kind { line, http };

// Every way a request can be refused; each has its fixed answer (error_reason, http_status).
enum class Error {
  none,
  empty_line,     // "\n"
  not_a_number,   // garbage, NULs, spaces, '+', binary
  negative,       // "-5"
  overflow,       // does not fit in 64 bits
  above_cap,      // N > --max-bytes
  line_too_long,  // no '\n' within kMaxLine bytes
  bad_request,    // malformed HTTP request line or header
  bad_method,     // well-formed HTTP method other than GET / HEAD
  not_found,      // path is not /N
  bad_version,    // HTTP/x.y other than 1.0 or 1.1
  headers_too_large,
  body_not_supported,  // Content-Length > 0 or Transfer-Encoding
};

struct Request {
  Kind kind = Kind::line;
  std::uint64_t bytes = 0;
  bool keep_alive = true;  // false: close after answering
  bool http10 = false;     // answer with HTTP/1.0's keep-alive rules
  bool head = false;       // HEAD: headers only
};

enum class Status { need_more, request, error };

struct Parsed {
  Status status = Status::need_more;
  Request request;            // when status == request
  Error error = Error::none;  // when status == error
  Kind kind = Kind::line;     // which protocol the bytes were taken for
  std::size_t consumed = 0;   // bytes of input this request used
};

// Parses the first request in `input`, which may hold a partial request or several pipelined.
Parsed parse(std::string_view input, std::uint64_t max_bytes);

// "byte count above limit 1048576"-style text for an error; used in ERR lines and HTTP bodies.
std::string error_reason(Error e, std::uint64_t max_bytes);
int http_status(Error e);
std::string_view http_reason_phrase(int status);

// The bytes to send before the body (empty for the line protocol).
std::string response_head(const Request& r);
// The whole answer to a refused request: "ERR ...\n" or a complete HTTP response.
std::string error_response(Kind kind, Error e, std::uint64_t max_bytes);

// Body byte k is '0' + k % 10, so a client can check what it got as well as how much.
// kBodyChunk is a multiple of 10: any chunk-aligned slice continues the pattern.
inline constexpr std::size_t kBodyChunk = 64000;
const char* body_chunk();

}  // namespace tcplab::protocol
