// corpus_seeds CORPUS DIR: writes the input of every case of a request corpus to DIR/<name>,
// as libFuzzer seeds. Built by run.sh; shares the loader with protocol_test.
#include <cstdio>
#include <exception>
#include <fstream>

#include "../support/corpus.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS DIR\n", argv[0]);
    return 2;
  }
  try {
    auto cases = tcplab::test::load_corpus(argv[1]);
    for (const auto& c : cases) {
      std::ofstream out(std::string(argv[2]) + "/" + c.name, std::ios::binary);
      out.write(c.input.data(), static_cast<std::streamsize>(c.input.size()));
      if (!out) throw std::runtime_error("cannot write seed " + c.name);
    }
    std::printf("%zu seeds from %s\n", cases.size(), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "corpus_seeds: %s\n", e.what());
    return 1;
  }
}
