#include "merit/tx/chain_error.h"

#include <algorithm>
#include <utility>

#include "merit/util/assert.h"

namespace merit::tx {

namespace {

struct Entry {
  std::string_view name;
  ChainErrorCode code;
};

// Sorted by name once, so a lookup is a binary search over ~60 entries (names arrive per failed
// extrinsic, not per block element; this is never hot).
const std::array<Entry, kChainErrorCodes.size()>& byName() {
  static const auto table = [] {
    std::array<Entry, kChainErrorCodes.size()> t{{
#define MERIT_CHAIN_ERROR_ENTRY_(n) Entry{#n, ChainErrorCode::k##n},
        MERIT_CHAIN_ERRORS(MERIT_CHAIN_ERROR_ENTRY_)
#undef MERIT_CHAIN_ERROR_ENTRY_
    }};
    std::sort(t.begin(), t.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return t;
  }();
  return table;
}

}  // namespace

std::string_view chainErrorName(ChainErrorCode code) {
  switch (code) {
    case ChainErrorCode::kUnknown: return "Unknown";
#define MERIT_CHAIN_ERROR_CASE_(n) \
  case ChainErrorCode::k##n: return #n;
      MERIT_CHAIN_ERRORS(MERIT_CHAIN_ERROR_CASE_)
#undef MERIT_CHAIN_ERROR_CASE_
  }
  return "Unknown";
}

ChainErrorCode chainErrorCode(std::string_view name) {
  const auto& t = byName();
  auto it = std::lower_bound(t.begin(), t.end(), name,
                             [](const Entry& e, std::string_view n) { return e.name < n; });
  return it != t.end() && it->name == name ? it->code : ChainErrorCode::kUnknown;
}

ChainError::ChainError(ChainErrorCode code, std::string detail) : m_code(code), m_detail(std::move(detail)) {
  MERIT_ASSERT(code != ChainErrorCode::kUnknown, "use ChainError::fromName for a name the table lacks");
}

ChainError::ChainError(ChainErrorCode code, std::string unknownName, std::string detail)
    : m_code(code), m_unknownName(std::move(unknownName)), m_detail(std::move(detail)) {}

ChainError ChainError::fromName(std::string_view name, std::string detail) {
  ChainErrorCode code = chainErrorCode(name);
  if (code != ChainErrorCode::kUnknown) return ChainError(code, std::move(detail));
  return ChainError(ChainErrorCode::kUnknown, std::string(name), std::move(detail));
}

ChainError ChainError::parse(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return fromName(text);
  std::string_view detail = text.substr(colon + 1);
  if (!detail.empty() && detail.front() == ' ') detail.remove_prefix(1);
  return fromName(text.substr(0, colon), std::string(detail));
}

ChainError ChainError::fromWire(std::string_view name, std::string_view message) {
  // The message repeats the name ("Name: detail"); keep only the detail.
  std::string_view detail = message;
  if (detail == name) {
    detail = {};
  } else if (detail.size() > name.size() && detail.substr(0, name.size()) == name &&
             detail[name.size()] == ':') {
    detail.remove_prefix(name.size() + 1);
    if (!detail.empty() && detail.front() == ' ') detail.remove_prefix(1);
  }
  return fromName(name, std::string(detail));
}

std::string_view ChainError::name() const {
  return m_code == ChainErrorCode::kUnknown ? std::string_view(m_unknownName) : chainErrorName(m_code);
}

std::string ChainError::toString() const {
  std::string out(name());
  if (!m_detail.empty()) out += ": " + m_detail;
  return out;
}

std::ostream& operator<<(std::ostream& out, const ChainError& error) {
  return out << error.toString();
}

}  // namespace merit::tx
