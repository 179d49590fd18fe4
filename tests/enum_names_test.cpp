// One {name, value} table per enum (common/enum_names.hpp): each round-trips every value of its
// enum, so reordering an enum can shift no name onto another value, and a value added without
// a name fails here.
#include <gtest/gtest.h>

#include <cstddef>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <type_traits>

#include "designs.hpp"
#include "dispatch.hpp"
#include "enum_names.hpp"
#include "options.hpp"
#include "scoreboard.hpp"
#include "stats.hpp"

namespace tcplab {
namespace {

// Every value of the enum (0 .. count-1) has one name in `table`, and that name leads back to it;
// no name is listed twice. A positional array of names would shift silently when the enum is
// reordered; a table cannot, and one that misses a value fails here.
template <class Table>
void expect_round_trip(const Table& table, std::size_t count, const char* what) {
  using E = std::remove_cvref_t<decltype(std::begin(table)->value)>;
  EXPECT_EQ(std::size(table), count) << what;
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < count; ++i) {
    const E value = static_cast<E>(i);
    std::string_view name = name_of(table, value);
    EXPECT_NE(name, "?") << what << " value " << i << " has no name";
    EXPECT_TRUE(names.insert(name).second) << what << ": " << name << " named twice";
    EXPECT_EQ(value_of(table, name), std::optional<E>(value)) << what << ": " << name;
  }
  EXPECT_EQ(value_of(table, "no-such-name"), std::nullopt) << what;
}

TEST(EnumNames, EveryTableRoundTripsEveryValue) {
  expect_round_trip(kFailureNames, kFailureKinds, "Failure");
  expect_round_trip(kEventNames, kEventKinds, "Event");
  expect_round_trip(kDispatchNames, kDispatchPolicies.size(), "DispatchPolicy");
  expect_round_trip(kRouteByNames, std::size_t(RouteBy::first_line) + 1, "RouteBy");
  expect_round_trip(kWorkersNames, std::size_t(Workers::threads) + 1, "Workers");
  expect_round_trip(kAcceptorNames, std::size_t(Acceptor::workers) + 1, "Acceptor");
  expect_round_trip(kAcceptLockNames, std::size_t(AcceptLockKind::mutex) + 1, "AcceptLockKind");
  expect_round_trip(load::kFailureNames, std::size_t(load::Failure::other) + 1, "load::Failure");
  expect_round_trip(load::kArrivalNames, std::size_t(load::Arrivals::poisson) + 1,
                    "load::Arrivals");
}

TEST(EnumNames, TheNamesTheJsonAndTheCommandLinesUse) {
  EXPECT_EQ(failure_name(Failure::closed_mid_request), "closed_mid_request");
  EXPECT_EQ(event_name(Event::thread_created), "thread_created");
  EXPECT_EQ(dispatch_name(DispatchPolicy::first_free), "first-free");
  EXPECT_EQ(parse_dispatch("round-robin"), DispatchPolicy::round_robin);
  EXPECT_EQ(parse_route_by("first-line"), RouteBy::first_line);
  EXPECT_EQ(parse_route_by("none"), std::nullopt) << "not a value of --route-by";
  EXPECT_EQ(route_by_name(RouteBy::none), "none");
}

}  // namespace
}  // namespace tcplab
