// Output of a run: the table on stdout and the JSON file (schema in README.md, "tcplab-load's JSON").
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

}  // namespace tcplab::load
