#include "merge.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "report.hpp"

namespace tcplab::load {

Report read_report(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::invalid_argument("cannot open " + path + ": " + std::strerror(errno));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(path + ": not JSON (" + e.what() + ")");
  }
  try {
    return from_json(j);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

Report merge(const std::vector<Report>& runs, const std::vector<std::string>& names) {
  if (runs.empty()) throw std::invalid_argument("nothing to merge");
  Report out = runs.front();
  Options& o = out.options;
  const auto differs = [&](std::size_t i, const char* what, const std::string& a,
                           const std::string& b) {
    if (a != b)
      throw std::invalid_argument(
          fmt::format("{} and {} differ in {} ({} and {}): they measured "
                      "different things and cannot be added up",
                      names[0], names[i], what, a, b));
  };
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const Report& r = runs[i];
    const Options& p = r.options;
    differs(i, "protocol", o.http ? "http" : "line", p.http ? "http" : "line");
    differs(i, "mode", o.open_loop() ? "open" : "closed", p.open_loop() ? "open" : "closed");
    differs(i, "bytes", std::to_string(o.bytes), std::to_string(p.bytes));
    differs(i, "requests per connection", std::to_string(o.requests_per_conn),
            std::to_string(p.requests_per_conn));
    if (o.open_loop())
      differs(i, "--late-after", std::to_string(o.late_after.count()) + " ns",
              std::to_string(p.late_after.count()) + " ns");
    out.stats.merge(r.stats);
    out.seconds = std::max(out.seconds, r.seconds);
    o.clients += p.clients;
    o.threads += p.threads;
    o.connections += p.connections;
    o.rate += p.rate;
    o.duration = std::max(o.duration, p.duration);
  }
  out.merged_from = names;
  return out;
}

int merge_main(int argc, char** argv) {
  CLI::App app{
      "tcplab-load merge: adds up the --json files of several runs, for example generators on\n"
      "several hosts driving one server at once, into one JSON of the same schema, and prints\n"
      "the usual table. Percentiles come from the summed histograms; rates are over the longest\n"
      "window. Exit status: 0 ok, 1 an output file cannot be written, 2 bad arguments or\n"
      "files that cannot be merged.",
      "tcplab-load merge"};
  std::vector<std::string> inputs;
  std::string json_path, hgrm_path;
  app.add_option("files", inputs, "the --json files of the runs")->required();
  app.add_option("--json", json_path, "write the merged report here");
  app.add_option("--hgrm", hgrm_path,
                 "write the merged total latency here in HdrHistogram's percentile format");
  const int code = parse_or_exit(app, "tcplab-load merge", [&] {
    app.parse(argc, argv);
    std::vector<Report> runs;
    for (const std::string& path : inputs)
      runs.push_back(read_report(path));
    const Report report = merge(runs, inputs);
    print_table(report, stdout);
    if (!json_path.empty()) write_json(report, json_path);
    if (!hgrm_path.empty()) write_hgrm(report.stats.total, hgrm_path);
  });
  return code >= 0 ? code : 0;
}

}  // namespace tcplab::load
