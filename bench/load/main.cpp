// tcplab-load: the load generator's command line. All the work is in the tcplab_loadgen
// library (engine.hpp), which the tests also call in-process.
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>

#include <fmt/core.h>

#include "engine.hpp"
#include "merge.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  using namespace tcplab::load;
  if (argc > 1 && std::string_view(argv[1]) == "merge") return merge_main(argc - 1, argv + 1);
  Options options;
  if (int code = parse_command_line(argc, argv, options); code >= 0) return code;
  try {
    probe(options);  // a missing server is one clear line, not ten thousand refusals
    const Report report = run(options);
    print_table(report, stdout);
    if (!options.json_path.empty()) write_json(report, options.json_path);
    if (!options.hgrm_path.empty()) write_hgrm(report.stats.total, options.hgrm_path);
    int code = 0;
    if (report.stats.requests == 0) {
      fmt::print(stderr, "tcplab-load: no request completed\n");
      code = 1;
    }
    if (report.stats.failed() && !options.allow_errors) {
      fmt::print(stderr, "tcplab-load: {} requests failed (--allow-errors to accept that)\n",
                 report.stats.failed());
      code = 1;
    }
    if (options.max_late && late_fraction(report.stats) > *options.max_late) {
      fmt::print(stderr,
                 "tcplab-load: {} of {} sends ({:.2f}%) were late, more than {:g} µs after their "
                 "scheduled time: above --max-late {:g} ({:g}%)\n",
                 report.stats.late, report.stats.scheduled, 100 * late_fraction(report.stats),
                 double(options.late_after.count()) / 1000, *options.max_late,
                 100 * *options.max_late);
      code = 1;
    }
    return code;
  } catch (const std::system_error& e) {
    if (e.code().value() == ECONNREFUSED)
      fmt::print(stderr, "tcplab-load: connection refused to {} (is a server listening?)\n",
                 describe_address(options));
    else
      fmt::print(stderr, "tcplab-load: {}\n", e.what());
    return 1;
  }
}
