// README.md's table of designs is drawn from paradigms/designs.cpp, and `tcplab-server --list
// --json` publishes it; this keeps the three in step. REPORT.md is the student text: its part
// before the appendix fits in 400 lines, every image it shows is in the tree, one diagram per
// design, and its generated blocks (rewritten by plots/report.py by their markers) are paired.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string_view>
#include <vector>

#include "designs.hpp"
#include "support/server_process.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kSource = TCPLAB_SOURCE_DIR;
const std::string kAppendix = "## Appendix: the generated tables";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Every image REPORT.md shows: ![alt](path) and <img src="path">, in order.
std::vector<std::string> images_of(const std::string& text) {
  std::vector<std::string> paths;
  const std::regex markdown(R"re(!\[[^\]]*\]\(([^)\s]+)[^)]*\))re");
  const std::regex html(R"re(<img\s[^>]*src="([^"]+)")re");
  for (const auto* re : {&markdown, &html})
    for (std::sregex_iterator m(text.begin(), text.end(), *re), end; m != end; ++m)
      paths.push_back((*m)[1].str());
  return paths;
}

TEST(Docs, ReadmeListsEveryDesignWithItsDescription) {
  std::string readme = read_file(std::string(TCPLAB_SOURCE_DIR) + "/README.md");
  ASSERT_FALSE(readme.empty());
  for (const auto& d : tcplab::designs()) {
    std::string row =
        fmt::format("| `{}` | {} | {} |", d.name, d.summary, d.in_book() ? d.unp : "beyond");
    EXPECT_NE(readme.find(row), std::string::npos) << "README.md lacks the row:\n" << row;
  }
}

// The designs of UNP chapter 30 come first, in the book's order (30.4 … 30.12); later designs
// follow them.
TEST(Docs, TheBooksDesignsComeFirstAndNamesAreUnique) {
  auto all = tcplab::designs();
  auto beyond = std::ranges::find_if(all, [](const auto& d) { return !d.in_book(); });
  EXPECT_EQ(std::distance(all.begin(), beyond), 9) << "UNP ch. 30 has nine designs";
  EXPECT_TRUE(std::all_of(beyond, all.end(), [](const auto& d) { return !d.in_book(); }));
  auto section = [](const tcplab::Design& d) { return std::stoi(std::string(d.unp.substr(3))); };
  for (auto d = all.begin(); d + 1 < beyond; ++d) {
    EXPECT_TRUE(d->unp.starts_with("30.")) << d->name;
    EXPECT_EQ(section(*d) + 1, section(*(d + 1))) << d->name << " then " << (d + 1)->name;
  }
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j)
      EXPECT_NE(all[i].name, all[j].name);
  EXPECT_EQ(tcplab::find_design("prefork-fdpass")->name, "prefork-fdpass");
  EXPECT_EQ(tcplab::find_design("no-such-design"), nullptr);
}

TEST(Docs, ListJsonIsTheLinkedTable) {
  using json = nlohmann::ordered_json;
  tcplab::test::Exit e =
      tcplab::test::run_program({tcplab::test::server_path(), "--list", "--json"});
  ASSERT_EQ(e.code(), 0) << e.describe();
  EXPECT_EQ(e.err, "");
  json printed = json::parse(e.out);
  EXPECT_EQ(printed, tcplab::designs_json());
  EXPECT_EQ(printed["schema"], "tcplab-designs/1");

  const json& rows = printed["designs"];
  auto table = tcplab::designs();
  ASSERT_EQ(rows.size(), table.size());
  const std::vector<std::string> keys = {"name",
                                         "summary",
                                         "unp",
                                         "workers",
                                         "pooled",
                                         "event_loop",
                                         "accepts",
                                         "accept_lock",
                                         "dispatch_policies",
                                         "reuseport",
                                         "io_uring",
                                         "available",
                                         "unavailable_reason"};
  for (std::size_t i = 0; i < table.size(); ++i) {
    const tcplab::Design& d = table[i];
    const json& row = rows[i];
    SCOPED_TRACE(std::string(d.name));
    std::vector<std::string> row_keys;
    for (const auto& [key, value] : row.items())
      row_keys.push_back(key);
    EXPECT_EQ(row_keys, keys);
    EXPECT_EQ(row["name"], d.name);
    EXPECT_EQ(row["summary"], d.summary);
    EXPECT_EQ(row["unp"].is_null(), !d.in_book());
    EXPECT_EQ(row["workers"] == "processes", d.processes());
    EXPECT_EQ(row["workers"] == "threads", d.threads());
    EXPECT_EQ(row["pooled"], d.pooled);
    EXPECT_EQ(row["event_loop"], d.event_loop);
    EXPECT_EQ(row["reuseport"], d.reuseport);
    EXPECT_EQ(row["dispatch_policies"].size(), d.dispatch_policies.size());
    EXPECT_EQ(row["io_uring"], d.io_uring);
    EXPECT_EQ(row["available"], d.available());
    EXPECT_EQ(row["unavailable_reason"].is_null(), d.available())
        << "a reason when, only when, not";
    EXPECT_TRUE(d.io_uring || d.available()) << "only io_uring depends on the machine";
    // What the rows say must hang together.
    EXPECT_EQ(row["unp"].is_null(), d.event_loop) << "beyond ch. 30 means an event loop";
    EXPECT_FALSE(d.workers == tcplab::Workers::none && d.pooled) << "a pool of nothing";
    EXPECT_TRUE(row["accept_lock"].is_null() || row["accepts"] == "workers") << "a lock for whom";
    EXPECT_TRUE(!d.reuseport || row["accepts"] == "workers") << "a listener each: who accepts";
    EXPECT_TRUE(d.dispatch_policies.empty() || row["accepts"] == "main") << "who dispatches";
  }
  // The example row of the schema, whole.
  const json fdpass = json::parse(R"j({"name": "prefork-fdpass",
    "summary": "the parent accepts and passes each descriptor to a child (SCM_RIGHTS)",
    "unp": "30.9", "workers": "processes", "pooled": true, "event_loop": false,
    "accepts": "main", "accept_lock": null,
    "dispatch_policies": ["least-loaded", "round-robin", "first-free"], "reuseport": false,
    "io_uring": false, "available": true, "unavailable_reason": null})j");
  auto row = std::ranges::find(rows, fdpass["name"], [](const json& r) { return r["name"]; });
  ASSERT_NE(row, rows.end());
  EXPECT_EQ(*row, fdpass);
}

TEST(Docs, ReportStudentPartFitsIn400Lines) {
  std::vector<std::string> lines = lines_of(read_file(kSource + "/REPORT.md"));
  ASSERT_FALSE(lines.empty());
  auto appendix = std::ranges::find(lines, kAppendix);
  ASSERT_NE(appendix, lines.end()) << "REPORT.md has no heading \"" << kAppendix << "\"";
  EXPECT_EQ(std::ranges::count(lines, kAppendix), 1);
  EXPECT_LE(std::distance(lines.begin(), appendix), 400)
      << "the student part of REPORT.md (every line before the appendix) is over 400 lines";
}

TEST(Docs, EveryImageReportShowsIsInTheTree) {
  std::string report = read_file(kSource + "/REPORT.md");
  std::vector<std::string> images = images_of(report);
  EXPECT_GE(images.size(), tcplab::designs().size()) << "REPORT.md shows too few images";
  for (const auto& path : images) {
    EXPECT_FALSE(path.starts_with("/") || path.find("://") != std::string::npos)
        << path << ": an image must be a relative path into the tree";
    EXPECT_TRUE(std::filesystem::is_regular_file(kSource + "/" + path))
        << "REPORT.md shows " << path << ", which is not in the tree";
  }
  // One diagram per design, in the student part, under the name plots/diagrams.py gives it.
  std::string student = report.substr(0, report.find(kAppendix));
  for (const auto& d : tcplab::designs()) {
    std::string diagram = fmt::format("plots/report/design-{}.svg", d.name);
    EXPECT_NE(student.find("src=\"" + diagram + "\""), std::string::npos)
        << "the student part of REPORT.md lacks the diagram " << diagram;
  }
}

// GitHub's anchor for a heading: lower case, spaces to '-', punctuation other than '-' and '_'
// dropped (bytes of UTF-8 letters kept).
std::string anchor_of(std::string_view heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_' || c >= 0x80)
      out += static_cast<char>(std::tolower(c));
    else if (c == ' ')
      out += '-';
  }
  return out;
}

TEST(Docs, EveryLinkWithinReportFindsItsHeading) {
  std::string report = read_file(kSource + "/REPORT.md");
  std::vector<std::string> anchors;
  for (const auto& line : lines_of(report)) {
    auto text = line.find_first_not_of('#');
    if (line.starts_with("#") && text != std::string::npos && line[text] == ' ')
      anchors.push_back(anchor_of(std::string_view(line).substr(text + 1)));
  }
  EXPECT_NE(std::ranges::find(anchors, "appendix-the-generated-tables"), anchors.end());
  const std::regex link(R"re(\]\(#([^)]+)\))re");
  int links = 0;
  for (std::sregex_iterator m(report.begin(), report.end(), link), end; m != end; ++m, ++links)
    EXPECT_NE(std::ranges::find(anchors, (*m)[1].str()), anchors.end())
        << "REPORT.md links to #" << (*m)[1] << ", which no heading has";
  EXPECT_GT(links, 0);
}

// plots/report.py rewrites each block between its two markers: each name once, BEGIN before
// END, no block inside another.
TEST(Docs, ReportBlocksArePairedAndUnique) {
  std::vector<std::string> lines = lines_of(read_file(kSource + "/REPORT.md"));
  const std::regex marker(R"(<!-- (BEGIN|END) generated:([a-z0-9-]+) -->)");
  std::map<std::string, int> begun;
  std::map<std::string, std::size_t> begins_at;
  std::size_t appendix = lines.size();
  std::string open;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (lines[i] == "## Appendix: the generated tables") appendix = std::min(appendix, i);
    if (!std::regex_search(lines[i], m, marker)) continue;
    SCOPED_TRACE(fmt::format("REPORT.md:{}: {}", i + 1, lines[i]));
    EXPECT_EQ(m[0].str(), lines[i]) << "a marker stands on a line of its own";
    if (m[1] == "BEGIN") {
      begins_at[m[2].str()] = i;
      EXPECT_EQ(open, "") << "block " << m[2] << " begins inside block " << open;
      EXPECT_EQ(++begun[m[2].str()], 1) << "block " << m[2] << " appears twice";
      open = m[2].str();
    } else {
      EXPECT_EQ(open, m[2].str()) << "END without its BEGIN";
      open.clear();
    }
  }
  EXPECT_EQ(open, "") << "block " << open << " never ends";
  for (const char* name : {"run", "fig30-1", "claims", "veth", "loadgen-ceiling", "closed-open",
                           "findings", "choose", "findings-all", "slowhttp"})
    EXPECT_EQ(begun[name], 1) << "REPORT.md lacks the block " << name;
  // The student part states what was found and what to choose (issue 23).
  for (const char* name : {"findings", "choose"})
    EXPECT_LT(begins_at[name], appendix) << "block " << name << " is not in the student part";
}

TEST(Docs, JsonWithoutListIsRefused) {
  tcplab::test::Exit e = tcplab::test::run_program({tcplab::test::server_path(), "--json"});
  EXPECT_EQ(e.code(), 2) << e.describe();
  EXPECT_NE(e.err.find("--list"), std::string::npos) << e.describe();
  EXPECT_EQ(e.out, "");
}

}  // namespace
