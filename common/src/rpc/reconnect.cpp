#include "merit/rpc/reconnect.h"

namespace merit::rpc {

bool isTransient(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kOverloaded:
    case ErrorCode::kRateLimited: return true;
    default: return false;
  }
}

}  // namespace merit::rpc
