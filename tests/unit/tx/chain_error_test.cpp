// The typed chain error: its name table, unknown names kept, and the text forms.
#include "merit/tx/chain_error.h"

#include <set>
#include <sstream>

#include <doctest/doctest.h>

namespace merit::tx {
namespace {

TEST_CASE("every chain error code round-trips through its name, and names are unique") {
  std::set<std::string_view> names;
  for (ChainErrorCode code : kChainErrorCodes) {
    std::string_view name = chainErrorName(code);
    CAPTURE(name);
    CHECK(name != "Unknown");
    CHECK(names.insert(name).second);
    CHECK(chainErrorCode(name) == code);
    ChainError e = ChainError::fromName(name, "why");
    CHECK(e.code() == code);
    CHECK(e.name() == name);
    CHECK(ChainError::parse(e.toString()) == e);
  }
  // The table covers every enumerator between kUnknown and the last one.
  CHECK(kChainErrorCodes.size() == static_cast<std::size_t>(kChainErrorCodes.back()));
  CHECK(chainErrorName(ChainErrorCode::kSettingWeightsTooFast) == "SettingWeightsTooFast");
  CHECK(chainErrorCode("PoolFull") == ChainErrorCode::kPoolFull);
}

TEST_CASE("a name the table does not know is kept, not lost") {
  // A subtensor runtime's own names (Balances' FundsUnavailable) and any a chain adds later.
  ChainError e = ChainError::fromName("FundsUnavailable", "{\"Token\":\"FundsUnavailable\"}");
  CHECK(e.code() == ChainErrorCode::kUnknown);
  CHECK(e.name() == "FundsUnavailable");
  CHECK(e.detail() == "{\"Token\":\"FundsUnavailable\"}");
  CHECK(e.toString() == "FundsUnavailable: {\"Token\":\"FundsUnavailable\"}");
  CHECK(ChainError::parse(e.toString()) == e);
  CHECK(chainErrorCode("FundsUnavailable") == ChainErrorCode::kUnknown);
  // Names are exact: case and prefixes do not match.
  CHECK(chainErrorCode("settingweightstoofast") == ChainErrorCode::kUnknown);
  CHECK(chainErrorCode("Future ") == ChainErrorCode::kUnknown);
  CHECK(chainErrorCode("") == ChainErrorCode::kUnknown);
  // A known name from another chain maps to the same code as the dev chain's.
  CHECK(ChainError::fromName("SettingWeightsTooFast").is(ChainErrorCode::kSettingWeightsTooFast));
}

TEST_CASE("the text and wire forms") {
  ChainError stale = ChainError::parse("Stale: nonce 3 already used (next is 4)");
  CHECK(stale.code() == ChainErrorCode::kStale);
  CHECK(stale.detail() == "nonce 3 already used (next is 4)");
  CHECK(ChainError::parse("Stale").detail().empty());
  CHECK(ChainError(ChainErrorCode::kStale).toString() == "Stale");
  // The detail may itself hold colons.
  CHECK(ChainError::parse("Malformed: at byte 3: truncated").detail() == "at byte 3: truncated");
  // A JSON-RPC refusal: data.name plus the message "Name: detail".
  ChainError wire = ChainError::fromWire("PoolFull", "PoolFull: 10 extrinsics wait");
  CHECK(wire == ChainError(ChainErrorCode::kPoolFull, "10 extrinsics wait"));
  CHECK(ChainError::fromWire("PoolFull", "PoolFull").detail().empty());
  // A message that does not repeat the name is all detail (FutureTooFar is not Future).
  CHECK(ChainError::fromWire("Future", "FutureTooFar: x").detail() == "FutureTooFar: x");
  std::ostringstream out;
  out << ChainError(ChainErrorCode::kNotEnoughBalance, "free balance 0");
  CHECK(out.str() == "NotEnoughBalance: free balance 0");
}

}  // namespace
}  // namespace merit::tx
