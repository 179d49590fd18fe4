#pragma once
// The request corpus (tests/corpus/*.txt): inputs a client may send, each with the exact answer
// a server must give. protocol_test runs it against protocol::parse; an end-to-end test can send
// each input to a real server and compare the bytes it reads back with render(); the fuzzer's
// run.sh writes each input out as a seed file. Header-only, standard library only, so any of
// them can include it without linking tcplab_common.
//
// Format, one case per line, fields separated by one TAB:
//
//   name <TAB> input <TAB> answers
//
//   # ...                     a comment; blank lines are skipped
//   @max-bytes N              the server's --max-bytes for the cases that follow
//
// `input` is escaped: \n \r \t \0 \\ \xHH, and \{N}c for N copies of c (one character or one
// escape: \{40}7 is forty '7's, \{3}\x00 three NULs). No literal TAB: write \t.
//
// `answers` is what the server sends, in order, separated by " ; ":
//   OK n                         line protocol: n bytes of body
//   ERR reason                   "ERR reason\n", then the server closes
//   HTTP 200 n [head] [close|http10|http10-keep-alive]
//                                200 with Content-Length n (and n bytes unless head);
//                                close: "Connection: close" and the server closes;
//                                http10: no Connection header and the server closes;
//                                http10-keep-alive: "Connection: keep-alive", stays open
//   HTTP status reason           an error response carrying `reason`, then the server closes
//   MORE                         what is left is an incomplete request: the server waits
// After the last answer the connection is idle (nothing left) unless it ended with MORE or
// with an answer after which the server closes.
#include <cstdint>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tcplab::test {

struct Answer {
  enum class Type { ok, err, http, more };
  Type type = Type::ok;
  std::uint64_t bytes = 0;  // ok, http 200
  int status = 0;           // http
  std::string reason;       // err, http error
  bool head = false;        // http 200: no body
  std::string connection;   // http 200: "", "close", "http10" or "http10-keep-alive"

  // The server closes the connection after sending this answer.
  bool closes() const {
    if (type == Type::err) return true;
    if (type == Type::http) return status != 200 || connection == "close" || connection == "http10";
    return false;
  }
};

struct CorpusCase {
  std::string name;
  std::string input;  // decoded bytes
  std::string answers_text;
  std::vector<Answer> answers;
  std::uint64_t max_bytes = 1 << 20;
  int line = 0;  // in the corpus file, for messages
};

namespace corpus_detail {

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one character or escape at s[i], advancing i.
inline char decode_one(std::string_view s, std::size_t& i) {
  if (s[i] != '\\') return s[i++];
  if (i + 1 >= s.size()) throw std::invalid_argument("lone backslash at the end");
  char c = s[i + 1];
  i += 2;
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case '0':
      return '\0';
    case '\\':
      return '\\';
    case 'x': {
      if (i + 2 > s.size() || hex_digit(s[i]) < 0 || hex_digit(s[i + 1]) < 0)
        throw std::invalid_argument("\\x needs two hex digits");
      char byte = static_cast<char>(hex_digit(s[i]) * 16 + hex_digit(s[i + 1]));
      i += 2;
      return byte;
    }
  }
  throw std::invalid_argument(std::string("unknown escape \\") + c);
}

inline std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + sep.size());
  }
}

inline std::uint64_t to_u64(std::string_view s) {
  if (s.empty() || s.size() > 19)
    throw std::invalid_argument("bad number '" + std::string(s) + "'");
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') throw std::invalid_argument("bad number '" + std::string(s) + "'");
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

inline Answer parse_answer(std::string_view text) {
  Answer a;
  auto words = split(text, " ");
  if (text == "MORE") {
    a.type = Answer::Type::more;
  } else if (words.size() == 2 && words[0] == "OK") {
    a.type = Answer::Type::ok;
    a.bytes = to_u64(words[1]);
  } else if (words.size() >= 2 && words[0] == "ERR") {
    a.type = Answer::Type::err;
    a.reason = std::string(text.substr(4));
  } else if (words.size() >= 3 && words[0] == "HTTP" && words[1] == "200") {
    a.type = Answer::Type::http;
    a.status = 200;
    a.bytes = to_u64(words[2]);
    for (std::size_t i = 3; i < words.size(); ++i) {
      if (words[i] == "head")
        a.head = true;
      else if (words[i] == "close" || words[i] == "http10" || words[i] == "http10-keep-alive")
        a.connection = std::string(words[i]);
      else
        throw std::invalid_argument("unknown HTTP 200 flag '" + std::string(words[i]) + "'");
    }
  } else if (words.size() >= 3 && words[0] == "HTTP") {
    a.type = Answer::Type::http;
    a.status = static_cast<int>(to_u64(words[1]));
    a.reason = std::string(text.substr(5 + words[1].size() + 1));
  } else {
    throw std::invalid_argument("unknown answer '" + std::string(text) + "'");
  }
  return a;
}

inline std::string_view reason_phrase(int status) {
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
    case 505:
      return "HTTP Version Not Supported";
  }
  throw std::invalid_argument("no reason phrase known for status " + std::to_string(status));
}

}  // namespace corpus_detail

// Decodes the escapes described above; throws std::invalid_argument on a malformed one.
inline std::string decode_escapes(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i).starts_with("\\{")) {
      auto close = s.find('}', i);
      if (close == std::string_view::npos || close + 1 >= s.size())
        throw std::invalid_argument("\\{N} needs a count and a character after it");
      std::uint64_t n = corpus_detail::to_u64(s.substr(i + 2, close - i - 2));
      i = close + 1;
      out.append(n, corpus_detail::decode_one(s, i));
    } else {
      out.push_back(corpus_detail::decode_one(s, i));
    }
  }
  return out;
}

// The body byte k of every answer: '0' + k % 10.
inline std::string body_bytes(std::uint64_t n) {
  std::string body(n, '\0');
  for (std::uint64_t k = 0; k < n; ++k)
    body[k] = static_cast<char>('0' + k % 10);
  return body;
}

// The exact bytes the server sends for `a` (nothing for MORE).
inline std::string render(const Answer& a) {
  using Type = Answer::Type;
  switch (a.type) {
    case Type::more:
      return {};
    case Type::ok:
      return body_bytes(a.bytes);
    case Type::err:
      return "ERR " + a.reason + "\n";
    case Type::http:
      break;
  }
  if (a.status == 200) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
        std::to_string(a.bytes) + "\r\n";
    if (a.connection == "close") head += "Connection: close\r\n";
    if (a.connection == "http10-keep-alive") head += "Connection: keep-alive\r\n";
    return head + "\r\n" + (a.head ? std::string() : body_bytes(a.bytes));
  }
  std::string out =
      "HTTP/1.1 " + std::to_string(a.status) + " " +
      std::string(corpus_detail::reason_phrase(a.status)) +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(a.reason.size() + 1) +
      "\r\n";
  if (a.status == 405) out += "Allow: GET, HEAD\r\n";
  return out + "Connection: close\r\n\r\n" + a.reason + "\n";
}

// GoogleTest prints a case by its name (in parameterized test names and failures).
inline void PrintTo(const CorpusCase& c, std::ostream* os) {
  *os << c.name;
}

// Reads a corpus file; throws std::runtime_error naming the file and line of any bad case.
inline std::vector<CorpusCase> load_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open corpus " + path);
  std::vector<CorpusCase> cases;
  std::uint64_t max_bytes = 1 << 20;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    try {
      if (!text.empty() && text.back() == '\r')
        throw std::invalid_argument("CRLF line end: write \\r");
      if (text.empty() || text.front() == '#') continue;
      if (text.starts_with("@max-bytes ")) {
        max_bytes = corpus_detail::to_u64(std::string_view(text).substr(11));
        continue;
      }
      auto fields = corpus_detail::split(text, "\t");
      if (fields.size() != 3) throw std::invalid_argument("expected name<TAB>input<TAB>answers");
      CorpusCase c;
      c.name = std::string(fields[0]);
      c.input = decode_escapes(fields[1]);
      c.answers_text = std::string(fields[2]);
      for (auto a : corpus_detail::split(fields[2], " ; "))
        c.answers.push_back(corpus_detail::parse_answer(a));
      c.max_bytes = max_bytes;
      c.line = line;
      for (std::size_t i = 0; i + 1 < c.answers.size(); ++i)
        if (c.answers[i].closes() || c.answers[i].type == Answer::Type::more)
          throw std::invalid_argument("an answer after the connection ended or waits");
      for (const CorpusCase& other : cases)
        if (other.name == c.name) throw std::invalid_argument("duplicate name " + c.name);
      cases.push_back(std::move(c));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(path + ":" + std::to_string(line) + ": " + e.what());
    }
  }
  return cases;
}

}  // namespace tcplab::test
