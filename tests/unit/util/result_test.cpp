#include "merit/util/result.h"

#include <set>

#include <doctest/doctest.h>

namespace merit {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return fail(ErrorCode::kInvalidArgument, "not positive: " + std::to_string(v));
  return v;
}

Result<int> doubled(int v) {
  MERIT_ASSIGN_OR_RETURN(int p, parsePositive(v));
  return 2 * p;
}

Result<void> check(int v) {
  MERIT_TRY(parsePositive(v));
  return {};
}

TEST_CASE("Result carries a value or an error with a code") {
  CHECK(doubled(4).value() == 8);
  auto bad = doubled(-1);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message() == "not positive: -1");
  CHECK(bad.error().toString() == "invalid_argument: not positive: -1");
  CHECK(check(1).has_value());
  CHECK(check(0).error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("withContext prefixes the message and keeps the code") {
  Error e(ErrorCode::kNotFound, "no such file");
  CHECK(e.withContext("loading wallet").message() == "loading wallet: no such file");
  CHECK(e.withContext("x").code() == ErrorCode::kNotFound);
}

TEST_CASE("every code has a distinct name") {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    auto n = errorCodeName(static_cast<ErrorCode>(c));
    CHECK(n != "unknown");
    names.insert(n);
  }
  CHECK(names.size() == static_cast<std::size_t>(ErrorCode::kInternal) + 1);
}

}  // namespace
}  // namespace merit
