#pragma once
// One {name, value} table per enum, looked up both ways: the name of a value for output and
// JSON, the value of a name for a command line. A table lists each pair once, so reordering the
// enum cannot shift a name onto another value (as a positional array of names would), and
// tests/core_test.cpp checks that every table round-trips every value of its enum.
#include <iterator>
#include <optional>
#include <string_view>

namespace tcplab {

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

// The name of `value` in `table` (an array of EnumName<E>); "?" if the table lacks it.
template <class Table, class E>
constexpr std::string_view name_of(const Table& table, E value) {
  for (const auto& entry : table)
    if (entry.value == value) return entry.name;
  return "?";
}

// The value named `name` in `table`; nullopt if none is.
template <class Table>
constexpr auto value_of(const Table& table, std::string_view name)
    -> std::optional<decltype(std::begin(table)->value)> {
  for (const auto& entry : table)
    if (entry.name == name) return entry.value;
  return std::nullopt;
}

}  // namespace tcplab
