#include "protocol.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace tcplab::protocol {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// RFC 9110 token characters, for methods and header names.
bool is_tchar(char c) {
  return is_digit(c) || is_alpha(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string_view chomp_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Decimal digits only, no sign, no spaces; "" is not a number.
Error parse_count(std::string_view digits, std::uint64_t max_bytes, std::uint64_t& out) {
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit))
    return Error::not_a_number;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec == std::errc::result_out_of_range) return Error::overflow;
  if (out > max_bytes) return Error::above_cap;
  return Error::none;
}

Parsed fail(Kind kind, Error e, std::size_t consumed) {
  Parsed p;
  p.status = Status::error;
  p.kind = kind;
  p.error = e;
  p.consumed = consumed;
  return p;
}

Parsed parse_line(std::string_view input, std::uint64_t max_bytes) {
  auto nl = input.substr(0, kMaxLine).find('\n');
  if (nl == std::string_view::npos) {
    if (input.size() >= kMaxLine) return fail(Kind::line, Error::line_too_long, input.size());
    return Parsed{};
  }
  std::string_view line = chomp_cr(input.substr(0, nl));
  Parsed p;
  p.kind = Kind::line;
  p.consumed = nl + 1;
  if (line.empty()) return fail(Kind::line, Error::empty_line, p.consumed);
  if (line.front() == '-' && line.size() > 1 && std::all_of(line.begin() + 1, line.end(), is_digit))
    return fail(Kind::line, Error::negative, p.consumed);
  if (Error e = parse_count(line, max_bytes, p.request.bytes); e != Error::none)
    return fail(Kind::line, e, p.consumed);
  p.status = Status::request;
  p.request.kind = Kind::line;
  return p;
}

struct RequestLine {
  std::string_view method, target, version;
};

// "METHOD SP TARGET SP HTTP/..." or nothing: anything else is taken for the line protocol.
std::optional<RequestLine> split_request_line(std::string_view line) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  RequestLine r{line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1), line.substr(sp2 + 1)};
  if (!r.version.starts_with("HTTP/")) return std::nullopt;
  return r;
}

Parsed parse_http(std::string_view input, std::size_t header_end, const RequestLine& rl,
                  std::uint64_t max_bytes) {
  const Kind kHttp = Kind::http;
  Parsed p;
  p.kind = kHttp;
  p.consumed = header_end;

  if (!is_token(rl.method)) return fail(kHttp, Error::bad_request, header_end);
  Request& r = p.request;
  r.kind = kHttp;
  if (rl.version == "HTTP/1.1") {
    r.http10 = false;
  } else if (rl.version == "HTTP/1.0") {
    r.http10 = true;
  } else if (rl.version.size() == 8 && is_digit(rl.version[5]) && rl.version[6] == '.' &&
             is_digit(rl.version[7])) {
    return fail(kHttp, Error::bad_version, header_end);
  } else {
    return fail(kHttp, Error::bad_request, header_end);
  }
  r.keep_alive = !r.http10;

  // Headers: one per line up to the empty line that ends them.
  std::string_view rest = input.substr(0, header_end);
  rest.remove_prefix(rest.find('\n') + 1);
  bool have_host = false;
  bool saw_close = false;  // close wins over keep-alive, in any order and in any header
  for (;;) {
    auto nl = rest.find('\n');
    std::string_view line = chomp_cr(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return fail(kHttp, Error::bad_request, header_end);  // also folded lines and "Name :"
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "host")) {
      have_host = true;
    } else if (iequals(name, "connection")) {
      // A comma-separated list of options.
      while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view option = trim(value.substr(0, comma));
        if (iequals(option, "close"))
          saw_close = true;
        else if (iequals(option, "keep-alive") && r.http10)
          r.keep_alive = true;
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
      }
    } else if (iequals(name, "content-length")) {
      if (value != "0") return fail(kHttp, Error::body_not_supported, header_end);
    } else if (iequals(name, "transfer-encoding")) {
      return fail(kHttp, Error::body_not_supported, header_end);
    }
  }
  if (!r.http10 && !have_host) return fail(kHttp, Error::bad_request, header_end);
  if (saw_close) r.keep_alive = false;

  if (rl.method == "HEAD")
    r.head = true;
  else if (rl.method != "GET")
    return fail(kHttp, Error::bad_method, header_end);

  std::string_view target = rl.target;
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (!target.starts_with('/')) return fail(kHttp, Error::not_found, header_end);
  switch (parse_count(target.substr(1), max_bytes, r.bytes)) {
    case Error::none:
      break;
    case Error::not_a_number:
      return fail(kHttp, Error::not_found, header_end);
    case Error::overflow:
      return fail(kHttp, Error::overflow, header_end);
    default:
      return fail(kHttp, Error::above_cap, header_end);
  }
  p.status = Status::request;
  return p;
}

// Where the header block ends (just past the empty line), or npos. Bare '\n' is accepted too.
std::size_t find_header_end(std::string_view s) {
  for (std::size_t nl = s.find('\n'); nl != std::string_view::npos; nl = s.find('\n', nl + 1)) {
    std::size_t next = nl + 1;
    if (next < s.size() && s[next] == '\n') return next + 1;
    if (next + 1 < s.size() && s[next] == '\r' && s[next + 1] == '\n') return next + 2;
  }
  return std::string_view::npos;
}

}  // namespace

Parsed parse(std::string_view input, std::uint64_t max_bytes) {
  if (input.empty() || !is_alpha(input.front())) return parse_line(input, max_bytes);

  // A letter first: HTTP if the first line is an HTTP request line, else a bad line request.
  std::string_view window = input.substr(0, kMaxHttpHeader);
  auto nl = window.find('\n');
  if (nl == std::string_view::npos) {
    if (input.size() >= kMaxHttpHeader)
      return fail(Kind::http, Error::headers_too_large, input.size());
    return Parsed{};
  }
  auto rl = split_request_line(chomp_cr(window.substr(0, nl)));
  if (!rl) return fail(Kind::line, Error::not_a_number, nl + 1);
  std::size_t end = find_header_end(window);
  if (end == std::string_view::npos) {
    if (input.size() >= kMaxHttpHeader)
      return fail(Kind::http, Error::headers_too_large, input.size());
    Parsed p;
    p.kind = Kind::http;
    return p;
  }
  return parse_http(input, end, *rl, max_bytes);
}

std::string error_reason(Error e, std::uint64_t max_bytes) {
  switch (e) {
    case Error::none:
      return "no error";
    case Error::empty_line:
      return "empty request";
    case Error::not_a_number:
      return "not a number";
    case Error::negative:
      return "negative byte count";
    case Error::overflow:
      return "byte count overflows 64 bits";
    case Error::above_cap:
      return fmt::format("byte count above limit {}", max_bytes);
    case Error::line_too_long:
      return fmt::format("line longer than {} bytes", kMaxLine);
    case Error::bad_request:
      return "malformed HTTP request";
    case Error::bad_method:
      return "method not allowed";
    case Error::not_found:
      return "path is not /N";
    case Error::bad_version:
      return "HTTP version not supported";
    case Error::headers_too_large:
      return fmt::format("headers longer than {} bytes", kMaxHttpHeader);
    case Error::body_not_supported:
      return "request body not supported";
  }
  return "unknown error";
}

int http_status(Error e) {
  switch (e) {
    case Error::not_found:
      return 404;
    case Error::bad_method:
      return 405;
    case Error::overflow:
    case Error::above_cap:
      return 413;
    case Error::headers_too_large:
      return 431;
    case Error::bad_version:
      return 505;
    default:
      return 400;
  }
}

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Error";
}

std::string response_head(const Request& r) {
  if (r.kind == Kind::line) return {};
  // HTTP/1.0 clients need "Connection: keep-alive" to keep it; 1.1 clients need "close" to end.
  std::string_view connection = "";
  if (r.http10 && r.keep_alive) connection = "Connection: keep-alive\r\n";
  if (!r.http10 && !r.keep_alive) connection = "Connection: close\r\n";
  return fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n{}\r\n",
      r.bytes, connection);
}

std::string error_response(Kind kind, Error e, std::uint64_t max_bytes) {
  std::string reason = error_reason(e, max_bytes);
  if (kind == Kind::line) return fmt::format("ERR {}\n", reason);
  int status = http_status(e);
  std::string_view allow = status == 405 ? "Allow: GET, HEAD\r\n" : "";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}Connection: "
      "close\r\n\r\n{}\n",
      status, http_reason_phrase(status), reason.size() + 1, allow, reason);
}

const char* body_chunk() {
  static const auto chunk = [] {
    static std::array<char, kBodyChunk> bytes;
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>('0' + i % 10);
    return bytes.data();
  }();
  return chunk;
}

}  // namespace tcplab::protocol
