// MERIT_ASSERT: checks for bugs (never for input). Always on, also in release builds; on
// failure prints the condition, the location and the values passed after it, then aborts.
//
//   MERIT_ASSERT(index < size, index, size);
//   -> "assertion failed: index < size at foo.cpp:12 (index, size = 7, 3)"
#pragma once

#include <string>

#include <fmt/format.h>

namespace merit::detail {

[[noreturn]] void assertFailed(const char* condition, const char* file, int line, const char* names,
                               const std::string& values);

template <typename... Args>
std::string formatAssertValues(const Args&... args) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + fmt::format("{}", args)), ...);
  return out;
}

}  // namespace merit::detail

#define MERIT_ASSERT(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) [[unlikely]] {                                                        \
      ::merit::detail::assertFailed(#cond, __FILE__, __LINE__, #__VA_ARGS__,           \
                                    ::merit::detail::formatAssertValues(__VA_ARGS__)); \
    }                                                                                  \
  } while (false)
