// Result<T> and Error: how every expected failure is returned in meritnet.
//
// Thread-safety: values; no shared state.
//
// An Error carries one code from a small closed set that tells the caller what to do about it,
// plus a human-readable message for logs and users. Messages never contain secrets.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace merit {

enum class ErrorCode : unsigned char {
  kInvalidArgument,   // the input is malformed or out of range; retrying will not help
  kNotFound,          // the named thing does not exist
  kAlreadyExists,     // refusing to create or overwrite something that exists
  kUnauthorized,      // bad signature, wrong password, unknown or forbidden caller
  kRateLimited,       // too soon; retry later
  kOverloaded,        // a bounded queue is full; retry later or elsewhere
  kDeadlineExceeded,  // the operation ran out of time
  kUnavailable,       // a peer, service or file system is not reachable right now
  kCorruption,        // stored or received data fails an integrity check
  kInternal,          // we failed: a bug or an environment problem, never the peer's fault
};

// Stable lower-case name of a code ("invalid_argument", ...), for logs and JSON.
std::string_view errorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

  ErrorCode code() const { return m_code; }
  const std::string& message() const { return m_message; }

  // "<code>: <message>".
  std::string toString() const;

  // Returns the same error with "<context>: " prepended to the message.
  Error withContext(std::string_view context) const&;
  Error withContext(std::string_view context) &&;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode m_code;
  std::string m_message;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Shorthand for returning a failure: `return fail(ErrorCode::kNotFound, "no wallet " + name);`
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

}  // namespace merit

// Evaluates a Result-returning expression and returns its error from the enclosing function,
// which must itself return a Result.
#define MERIT_TRY(expr)                                              \
  do {                                                               \
    auto merit_try_result_ = (expr);                                 \
    if (!merit_try_result_) {                                        \
      return ::tl::unexpected(std::move(merit_try_result_).error()); \
    }                                                                \
  } while (false)

#define MERIT_CONCAT_INNER_(a, b) a##b
#define MERIT_CONCAT_(a, b) MERIT_CONCAT_INNER_(a, b)

// `MERIT_ASSIGN_OR_RETURN(auto key, loadKey(path));` declares `key` with the value, or returns
// the error.
// `tmp` is an identifier and `lhs` a declaration: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MERIT_ASSIGN_OR_RETURN(lhs, expr) \
  MERIT_ASSIGN_OR_RETURN_IMPL_(MERIT_CONCAT_(merit_result_, __LINE__), lhs, expr)
#define MERIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp) {                                        \
    return ::tl::unexpected(std::move(tmp).error()); \
  }                                                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
