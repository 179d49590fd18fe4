// Output of a run: the table on stdout and the JSON file (schema in README.md, "tcplab-load's
// JSON").
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "stats.hpp"

namespace tcplab::load {

void print_table(const Report& report, std::FILE* out);
nlohmann::json to_json(const Report& report);
// Throws std::system_error("open <path>") if the file cannot be written.
void write_json(const Report& report, const std::string& path);

// The inverse of to_json, for `tcplab-load merge`: options (host resolved, never checked for
// loopback: nothing is sent), counts and histograms. Throws std::invalid_argument for another
// tool or schema, or a missing or mistyped field.
Report from_json(const nlohmann::json& j);

// Open loop: late sends over scheduled ones (0 if none was scheduled).
double late_fraction(const Stats& stats);

// h as HdrHistogram's outputPercentileDistribution(out, 5, 1e6) prints it: values in
// milliseconds (6 decimals: whole nanoseconds), five percentile ticks per half distance to 100%,
// then the #[Mean ...], #[Max ...] and #[Buckets ...] lines. Throws std::system_error("open
// <path>") from write_hgrm if the file cannot be written.
void print_percentile_distribution(const Histogram& h, std::FILE* out);
void write_hgrm(const Histogram& h, const std::string& path);

}  // namespace tcplab::load
