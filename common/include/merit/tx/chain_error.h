// The one typed chain error: why a chain refused, dropped or failed an extrinsic. Produced by the
// dev chain's runtime, mempool and RPC server, and by both chain backends on the client side (the
// JSON-RPC client of merit-chain and the subtensor backend, which names dispatch errors by the
// runtime metadata); understood by the node, the RPC server and client, the validator and the CLI.
//
// On the wire (docs/RPC.md) a chain error is its name ("SettingWeightsTooFast") plus a detail; a
// refused submission's JSON-RPC message is "Name: detail" with {"name": "Name"} as data. The names
// are subtensor's where the error exists there, so one name means one thing on both chains.
//
// A chain may report a name this table does not know (a Substrate runtime names its own errors:
// FundsUnavailable, a pallet added next year): it becomes ChainErrorCode::kUnknown and keeps the
// original name, so nothing is lost and it prints and round-trips as it came.
//
// Thread-safety: values; no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace merit::tx {

// X(Name): one line per error; the enumerator is kName and its wire name is "Name". Order is not
// part of any format (the wire carries names), so new names go where they read best.
#define MERIT_CHAIN_ERRORS(X)                                                           \
  /* Refusals before inclusion: Runtime::validate (in this order), then the mempool. */ \
  X(Expired)                                                                            \
  X(Stale)                                                                              \
  X(Payment)                                                                            \
  X(BadSignature)                                                                       \
  X(Future)                                                                             \
  X(Malformed)                                                                          \
  X(FutureTooFar)                                                                       \
  X(AlreadyInPool)                                                                      \
  X(NonceInPool)                                                                        \
  X(TooManyFromAccount)                                                                 \
  X(TooManyFuture)                                                                      \
  X(PoolFull)                                                                           \
  X(Evicted)                                                                            \
  /* Failed calls, in the order of docs/RPC.md "Named errors of each call". */          \
  X(NotEnoughBalance)                                                                   \
  X(Overflow)                                                                           \
  X(SubnetLimitReached)                                                                 \
  X(InvalidPluginName)                                                                  \
  X(InvalidHyperparameterValue)                                                         \
  X(NotEnoughBalanceToLock)                                                             \
  X(SubNetworkDoesNotExist)                                                             \
  X(NotSubnetOwner)                                                                     \
  X(MaxAllowedUIdsLessThanCurrentUIds)                                                  \
  X(RegistrationNotPermittedOnRootSubnet)                                               \
  X(SubNetRegistrationDisabled)                                                         \
  X(TooManyRegistrationsThisBlock)                                                      \
  X(TooManyRegistrationsThisInterval)                                                   \
  X(HotKeyAlreadyRegisteredInSubNet)                                                    \
  X(NotEnoughBalanceToPayRegistration)                                                  \
  X(NonAssociatedColdKey)                                                               \
  X(NoNeuronIdAvailable)                                                                \
  X(HotKeyNotRegisteredInSubNet)                                                        \
  X(InvalidIpType)                                                                      \
  X(InvalidIpAddress)                                                                   \
  X(LocalIpAddress)                                                                     \
  X(InvalidPort)                                                                        \
  X(ServingRateLimitExceeded)                                                           \
  X(HotKeyAccountNotExists)                                                             \
  X(AmountTooLow)                                                                       \
  X(NotEnoughBalanceToStake)                                                            \
  X(NotEnoughStakeToWithdraw)                                                           \
  X(CanNotSetRootNetworkWeights)                                                        \
  X(WeightVecNotEqualSize)                                                              \
  X(UidsLengthExceedUidsInSubNet)                                                       \
  X(NotEnoughStakeToSetWeights)                                                         \
  X(IncorrectWeightVersionKey)                                                          \
  X(CommitRevealEnabled)                                                                \
  X(SettingWeightsTooFast)                                                              \
  X(CommitRevealDisabled)                                                               \
  X(TooManyUnrevealedCommits)                                                           \
  X(NoWeightsCommitFound)                                                               \
  X(InvalidRevealCommitHashNotMatch)                                                    \
  X(RevealTooEarly)                                                                     \
  X(ExpiredWeightCommit)                                                                \
  X(RootNetworkDoesNotExist)                                                            \
  X(StakeTooLowForRoot)                                                                 \
  X(DuplicateUids)                                                                      \
  X(UidVecContainInvalidOne)                                                            \
  /* merit_consensus's weight rules (checkAndUpscaleWeights). */                        \
  X(InputLengthsUnequal)                                                                \
  X(NeuronNoValidatorPermit)                                                            \
  X(WeightVecLengthIsLow)                                                               \
  X(MaxWeightExceeded)

enum class ChainErrorCode : std::uint8_t {
  kUnknown,  // a name this table does not know; ChainError::name() keeps it
#define MERIT_CHAIN_ERROR_ENUM_(name) k##name,
  MERIT_CHAIN_ERRORS(MERIT_CHAIN_ERROR_ENUM_)
#undef MERIT_CHAIN_ERROR_ENUM_
};

// Every known code (kUnknown excluded), in table order: for tests and documentation tools.
inline constexpr auto kChainErrorCodes = std::to_array<ChainErrorCode>({
#define MERIT_CHAIN_ERROR_LIST_(name) ChainErrorCode::k##name,
    MERIT_CHAIN_ERRORS(MERIT_CHAIN_ERROR_LIST_)
#undef MERIT_CHAIN_ERROR_LIST_
});

// The wire name of a known code ("SettingWeightsTooFast"); "Unknown" for kUnknown.
std::string_view chainErrorName(ChainErrorCode code);
// The code of a wire name; kUnknown when the table does not have it (exact, case-sensitive).
ChainErrorCode chainErrorCode(std::string_view name);

class ChainError {
 public:
  // A known error. `code` must not be kUnknown (use fromName to keep a foreign name).
  explicit ChainError(ChainErrorCode code, std::string detail = {});
  // Any name a chain reported: a known one becomes its code, any other is kept as kUnknown.
  static ChainError fromName(std::string_view name, std::string detail = {});
  // The one reader of the "Name: detail" text form (a dropped extrinsic's reason on the wire,
  // merit_consensus's rule failures): the name up to the first ':', the detail after ": ".
  // Text without a ':' is a name alone.
  static ChainError parse(std::string_view text);
  // A JSON-RPC refusal: data.name and a message "Name: detail" (or just the detail).
  static ChainError fromWire(std::string_view name, std::string_view message);

  ChainErrorCode code() const { return m_code; }
  // The wire name: the table's for a known code, the chain's own for kUnknown.
  std::string_view name() const;
  const std::string& detail() const { return m_detail; }
  // "Name: detail", or "Name" without a detail: the text form parse() reads.
  std::string toString() const;

  bool is(ChainErrorCode code) const { return m_code == code; }
  friend bool operator==(const ChainError&, const ChainError&) = default;
  friend bool operator==(const ChainError& e, ChainErrorCode code) { return e.m_code == code; }

 private:
  ChainError(ChainErrorCode code, std::string unknownName, std::string detail);

  ChainErrorCode m_code;
  std::string m_unknownName;  // only for kUnknown: the name as the chain spelled it
  std::string m_detail;
};

std::ostream& operator<<(std::ostream& out, const ChainError& error);

// A chain operation that fails with a chain error (the dev chain's validation and mempool).
template <typename T>
using ChainResult = tl::expected<T, ChainError>;

inline tl::unexpected<ChainError> chainFail(ChainErrorCode code, std::string detail = {}) {
  return tl::unexpected<ChainError>(ChainError(code, std::move(detail)));
}

}  // namespace merit::tx
