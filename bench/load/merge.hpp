// `tcplab-load merge A.json B.json ...`: several runs added up into one report of the same
// schema, e.g. generators on several hosts (or network namespaces) driving one server at once.
#pragma once

#include <string>
#include <vector>

#include "stats.hpp"

namespace tcplab::load {

// Reads one --json file. Throws std::invalid_argument naming the file: unreadable, not JSON,
// another tool or schema, a missing field.
Report read_report(const std::string& path);

// Adds the runs up: histograms bucket by bucket (so percentiles come from the summed histogram,
// never from averaged percentiles; mean and stddev combine exactly, min and max stay exact),
// counts and CPU summed, rates over the longest window (generators that ran at once against one
// server share one window), lateness summed with the largest delay kept. The config is the
// first run's, with clients, threads, connections and rate summed. Throws std::invalid_argument
// if the runs differ in protocol, mode, bytes, requests per connection or --late-after.
Report merge(const std::vector<Report>& runs, const std::vector<std::string>& names);

// The subcommand; argv[0] is "merge". Returns the exit code: 0; 1 if --json or --hgrm cannot be
// written; 2 for bad arguments or a file that cannot be merged.
int merge_main(int argc, char** argv);

}  // namespace tcplab::load
