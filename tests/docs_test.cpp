// README.md's table of designs is drawn from paradigms/designs.cpp; this keeps the two in step.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "designs.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Docs, ReadmeListsEveryDesignWithItsDescription) {
  std::string readme = read_file(std::string(TCPLAB_SOURCE_DIR) + "/README.md");
  ASSERT_FALSE(readme.empty());
  for (const auto& d : tcplab::designs()) {
    std::string row = fmt::format("| `{}` | {} | {} |", d.name, d.summary, d.unp);
    EXPECT_NE(readme.find(row), std::string::npos) << "README.md lacks the row:\n" << row;
  }
}

// The nine of UNP chapter 30 come first, in the book's order; later designs follow them.
TEST(Docs, TheBooksNineComeFirstAndNamesAreUnique) {
  const std::vector<std::string_view> nine = {"iterative", "fork", "prefork", "prefork-fcntl",
                                              "prefork-mutex", "prefork-fdpass", "thread",
                                              "prethread-mutex", "prethread-dispatch"};
  auto all = tcplab::designs();
  ASSERT_GE(all.size(), nine.size());
  for (std::size_t i = 0; i < nine.size(); ++i) EXPECT_EQ(all[i].name, nine[i]);
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j) EXPECT_NE(all[i].name, all[j].name);
  EXPECT_EQ(tcplab::find_design("prefork-fdpass")->name, "prefork-fdpass");
  EXPECT_EQ(tcplab::find_design("no-such-design"), nullptr);
}

}  // namespace
