// corpus_dump CORPUS: every case of a request corpus as tests/support/corpus.hpp reads it, one
// line each: name, max_bytes, closes (0/1), more (0/1), the input and the expected answer bytes
// in hex, TAB-separated. tests/python/test_corpus_parity.py compares it with the Python reader.
#include <cstdio>
#include <exception>
#include <string>

#include "../support/corpus.hpp"

namespace {

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS\n", argv[0]);
    return 2;
  }
  try {
    for (const auto& c : tcplab::test::load_corpus(argv[1])) {
      std::string expect;
      for (const auto& a : c.answers)
        expect += tcplab::test::render(a);
      const auto& last = c.answers.back();
      std::printf("%s\t%llu\t%d\t%d\t%s\t%s\n", c.name.c_str(),
                  static_cast<unsigned long long>(c.max_bytes), last.closes() ? 1 : 0,
                  last.type == tcplab::test::Answer::Type::more ? 1 : 0, hex(c.input).c_str(),
                  hex(expect).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corpus_dump: %s\n", e.what());
    return 1;
  }
}
