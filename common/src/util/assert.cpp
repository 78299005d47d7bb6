#include "merit/util/assert.h"

#include <cstdio>
#include <cstdlib>

namespace merit::detail {

void assertFailed(const char* condition, const char* file, int line, const char* names,
                  const std::string& values) {
  if (names[0] != '\0') {
    std::fprintf(stderr, "assertion failed: %s at %s:%d (%s = %s)\n", condition, file, line, names,
                 values.c_str());
  } else {
    std::fprintf(stderr, "assertion failed: %s at %s:%d\n", condition, file, line);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace merit::detail
