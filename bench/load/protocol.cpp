#include "protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace tcplab::load {

Requests build_requests(bool http, std::uint64_t bytes) {
  if (!http) {
    const std::string line = fmt::format("{}\n", bytes);
    return {line, line};
  }
  return {fmt::format("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", bytes),
          fmt::format("GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", bytes)};
}

void ResponseParser::start(bool http, std::uint64_t bytes) {
  http_ = http;
  in_head_ = http;
  server_closes_ = false;
  first_ = true;
  want_ = bytes;
  remaining_ = bytes;
  head_len_ = 0;
  error_ = "";
}

ResponseParser::Status ResponseParser::feed(const char* data, std::size_t n, std::size_t& used) {
  used = 0;
  if (in_head_) {
    // Copy what may be head, find the blank line, give back what lies beyond it.
    const std::size_t take = std::min(n, sizeof head_ - head_len_);
    std::memcpy(head_ + head_len_, data, take);
    const std::size_t search_from = head_len_ >= 3 ? head_len_ - 3 : 0;
    head_len_ += take;
    const std::string_view head(head_, head_len_);
    const std::size_t end = head.find("\r\n\r\n", search_from);
    if (end == std::string_view::npos) {
      used = take;
      if (head_len_ == sizeof head_) return error_ = "HTTP head too long", Status::bad;
      return Status::more;
    }
    used = end + 4 - (head_len_ - take);
    head_len_ = end + 4;
    in_head_ = false;
    if (Status s = parse_head(); s == Status::bad) return s;
  }
  if (remaining_ == 0) return Status::done;
  const std::size_t body = std::min<std::uint64_t>(n - used, remaining_);
  if (body == 0) return Status::more;
  // Body byte k is '0' + k % 10; an "ERR reason" line starts with 'E'.
  if (first_ && !http_ && data[used] != '0') return error_ = "not a body (ERR?)", Status::bad;
  first_ = false;
  used += body;
  remaining_ -= body;
  return remaining_ == 0 ? Status::done : Status::more;
}

static bool starts_with_nocase(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
  return true;
}

ResponseParser::Status ResponseParser::parse_head() {
  std::string_view head(head_, head_len_);
  if (head.substr(0, 7) != "HTTP/1." || head.substr(8, 5) != " 200 ")
    return error_ = "HTTP status not 200", Status::bad;
  bool have_length = false;
  for (std::size_t pos = head.find("\r\n") + 2; pos < head.size();) {
    const std::size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (starts_with_nocase(line, "content-length:")) {
      line.remove_prefix(15);
      while (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
      std::uint64_t length = 0;
      for (char c : line) {
        if (c < '0' || c > '9') break;
        length = length * 10 + std::uint64_t(c - '0');
      }
      if (length != want_) return error_ = "wrong Content-Length", Status::bad;
      have_length = true;
    } else if (starts_with_nocase(line, "transfer-encoding:")) {
      return error_ = "chunked response", Status::bad;
    } else if (starts_with_nocase(line, "connection:")) {
      server_closes_ = line.find("close") != std::string_view::npos;
    }
  }
  if (!have_length) return error_ = "no Content-Length", Status::bad;
  return Status::more;
}

}  // namespace tcplab::load
