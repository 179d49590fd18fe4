// The two request/response shapes a tcplab server speaks on one port, prebuilt and parsed
// without allocation: the line protocol ("N\n" -> N body bytes) and an HTTP/1.1 subset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tcplab::load {

struct Requests {
  std::string next;  // a request with more to follow on the connection
  std::string last;  // the last one: HTTP adds "Connection: close" so nginx closes first
};
Requests build_requests(bool http, std::uint64_t bytes);

// ResponseParser: reads one response. Line protocol: exactly `bytes` bytes whose first is '0'
// (so an "ERR ..." line is a bad response). HTTP: status 200 and Content-Length == bytes, then
// that many body bytes; chunked bodies are not supported.
class ResponseParser {
 public:
  enum class Status { more, done, bad };

  void start(bool http, std::uint64_t bytes);
  // Consumes from data[0, n); `used` says how many bytes belonged to this response. A done
  // response with used < n means the server sent more than asked.
  Status feed(const char* data, std::size_t n, std::size_t& used);
  bool server_closes() const { return server_closes_; }  // HTTP "Connection: close"
  const char* error() const { return error_; }           // why the response was bad

 private:
  Status parse_head();

  bool http_ = false, in_head_ = false, server_closes_ = false, first_ = true;
  std::uint64_t want_ = 0, remaining_ = 0;
  const char* error_ = "";
  std::size_t head_len_ = 0;
  char head_[1024];  // HTTP status line and headers; nginx sends about 250 bytes
};

}  // namespace tcplab::load
