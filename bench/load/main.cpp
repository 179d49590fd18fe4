// tcplab-load: the load generator's command line. All the work is in the tcplab_loadgen
// library (engine.hpp), which the tests also call in-process.
#include <cerrno>
#include <cstdio>
#include <system_error>

#include <fmt/core.h>

#include "engine.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  using namespace tcplab::load;
  Options options;
  if (int code = parse_command_line(argc, argv, options); code >= 0) return code;
  try {
    probe(options);  // a missing server is one clear line, not ten thousand refusals
    const Report report = run(options);
    print_table(report, stdout);
    if (!options.json_path.empty()) write_json(report, options.json_path);
    if (report.stats.requests == 0) {
      fmt::print(stderr, "tcplab-load: no request completed\n");
      return 1;
    }
    if (report.stats.failed() && !options.allow_errors) {
      fmt::print(stderr, "tcplab-load: {} requests failed (--allow-errors to accept that)\n",
                 report.stats.failed());
      return 1;
    }
    return 0;
  } catch (const std::system_error& e) {
    if (e.code().value() == ECONNREFUSED)
      fmt::print(stderr, "tcplab-load: connection refused to {} (is a server listening?)\n",
                 describe_address(options));
    else
      fmt::print(stderr, "tcplab-load: {}\n", e.what());
    return 1;
  }
}
