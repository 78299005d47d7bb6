#include "merit/util/result.h"

namespace merit {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kOverloaded: return "overloaded";
    case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::toString() const {
  std::string out(errorCodeName(m_code));
  out += ": ";
  out += m_message;
  return out;
}

Error Error::withContext(std::string_view context) const& {
  return Error(m_code, std::string(context) + ": " + m_message);
}

Error Error::withContext(std::string_view context) && {
  m_message.insert(0, std::string(context) + ": ");
  return std::move(*this);
}

}  // namespace merit
