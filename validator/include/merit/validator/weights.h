// Putting a validator's weights on chain without ever being "too fast": waits for a validator
// permit, reads the subnet's rate limit and the validator's last_update from the metagraph
// (never guessed), sets weights at most
// once per tempo, follows the subnet's commit-reveal setting (commit, keep the salt in the
// persisted state, reveal in exactly the right epoch), and backs off after failures.
//
// Thread-safety: used by the validator loop's thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "merit/crypto/any_key.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"
#include "merit/util/backoff.h"
#include "merit/validator/state.h"

namespace merit::validator {

struct WeightOutcome {
  enum class Kind { kNotDue, kSet, kCommitted, kRevealed, kFailed };
  Kind kind = Kind::kNotDue;
  std::uint64_t block = 0;  // inclusion block when set/committed/revealed
  std::string error;        // kFailed: the chain error's name, or the validator's own reason (NoWeights)
  std::string detail;
  std::optional<tx::ChainErrorCode> chainError;  // kFailed by a chain error: which, to act on it
};
const char* weightOutcomeName(WeightOutcome::Kind k);

struct WeightPolicy {
  double sharpen = 1.0;                 // exponent applied to scores before weighting
  std::uint64_t minIntervalBlocks = 0;  // 0 = once per tempo (the default)
};

class WeightSetter {
 public:
  WeightSetter(rpc::Chain& client, crypto::SignerRef hotkey, std::uint16_t netuid, WeightPolicy policy)
      : m_client(client), m_hotkey(hotkey), m_netuid(netuid), m_policy(policy) {}

  // One decision per call, on the latest metagraph: reveal a due commit, or set/commit new
  // weights from `scores` when allowed, or nothing. Updates `state` (pending commits, last block).
  WeightOutcome step(const rpc::Metagraph& metagraph, const std::vector<double>& scores,
                     ValidatorState& state);

  std::uint64_t attempts() const { return m_attempts; }
  std::uint64_t failures() const { return m_failures; }

 private:
  WeightOutcome submit(tx::Call call, WeightOutcome::Kind success, std::uint64_t head);

  rpc::Chain& m_client;
  const crypto::SignerRef m_hotkey;  // borrowed; outlives the setter
  const std::uint16_t m_netuid;
  const WeightPolicy m_policy;
  std::uint64_t m_attempts = 0;
  std::uint64_t m_failures = 0;
  std::uint64_t m_retryAfterBlock = 0;                               // backoff after a failure
  Backoff m_backoff{{.initial = 1, .cap = 64, .jitterPercent = 0}};  // in blocks: 1, 2, 4 ... 64
};

}  // namespace merit::validator
