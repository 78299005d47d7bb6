// report(), declared in commands.h: in a file of its own, so that merit_localnet (which prints
// errors the same way) does not need the command groups.
#include <cstdio>

#include "commands.h"

namespace merit::cli {

int report(const Error& e) {
  std::fprintf(stderr, "error: %s\n", e.message().c_str());
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kNotFound: return kExitUsage;
    default: return kExitError;
  }
}

}  // namespace merit::cli
