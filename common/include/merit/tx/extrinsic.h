// Chain transactions: the runtime calls, the signed extrinsic that carries one, and their
// canonical encoding. Shared by the chain node (which decodes and checks them) and every client
// (which builds and signs them). docs/RPC.md documents the byte layout.
//
// Thread-safety: values; no shared state.
//
// Signing: the signer is a key of either scheme meritnet knows (crypto/any_key.h: sr25519 or
// secp256k1 ECDSA), carried tagged as Substrate's MultiSigner (1 sr25519, 2 ecdsa), and the
// signature is tagged the same way (MultiSignature). The signed preimage is
//   kExtrinsicDomain ‖ genesis hash ‖ tagged signer ‖ nonce ‖ valid_until ‖ call bytes
// signed as the scheme signs (ECDSA over its BLAKE2b-256, sr25519 over the bytes with context
// "substrate"). The genesis hash keeps an extrinsic from replaying on another chain, the
// per-account nonce from replaying on this one, and valid_until (the last block that may include
// it) from lingering. The account that pays and whose nonce counts is the signer's account id
// (sr25519: the key; ecdsa: BLAKE2b-256 of the compressed key).
//
// Versions: 2 (this layout). Version 1 (ECDSA-only, untagged signer) is refused by name.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "merit/crypto/any_key.h"
#include "merit/crypto/domains.h"
#include "merit/crypto/keys.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::tx {

using crypto::AccountId;
using crypto::AnyPublicKey;
using crypto::AnySignature;
using crypto::Hash256;
using crypto::PublicKey;
using Balance = std::uint64_t;  // in rao: 1 MERIT = 1e9 rao
using NetUid = std::uint16_t;
using Uid = std::uint16_t;

inline constexpr std::string_view kExtrinsicDomain = crypto::domain::kExtrinsic;  // "meritnet/extrinsic/v2"
inline constexpr std::uint8_t kExtrinsicVersion = 2;
inline constexpr Balance kRaoPerMerit = 1'000'000'000;

// Limits on decoded input (anything larger is malformed, before allocation).
inline constexpr std::size_t kMaxExtrinsicBytes = 256 * 1024;
inline constexpr std::size_t kMaxWeightsLen = 4096;
inline constexpr std::size_t kMaxNameLen = 64;

// Hyperparameters an owner may set (create_subnet overrides and set_hyperparameter).
enum class Hyper : std::uint16_t {
  kTempo = 1,
  kKappa,
  kBondsMovingAverage,
  kBondsPenalty,
  kYuma3,
  kLiquidAlpha,
  kAlphaLow,
  kAlphaHigh,
  kActivityCutoff,
  kMaxAllowedValidators,
  kMaxAllowedUids,
  kImmunityPeriod,
  kWeightsRateLimit,
  kMinAllowedWeights,
  kMaxWeightLimit,
  kWeightsVersionKey,
  kCommitReveal,
  kRevealPeriodEpochs,
  kTargetRegistrationsPerInterval,
  kAdjustmentInterval,
  kMinBurn,
  kMaxBurn,
  kServingRateLimit,
  kRegistrationAllowed,
  kStakeThreshold,
};
std::string_view hyperName(Hyper h);
Result<Hyper> parseHyper(std::string_view name);

struct Transfer {
  AccountId dest;
  Balance amount;
};
struct CreateSubnet {
  std::string plugin;           // subnet plugin name, e.g. "matmul"
  std::uint32_t pluginVersion;  // the plugin's version the subnet speaks
  std::vector<std::pair<Hyper, std::uint64_t>> overrides;
};
struct SetHyperparameter {
  NetUid netuid;
  Hyper param;
  std::uint64_t value;
};
struct BurnedRegister {  // signed by the coldkey that will own `hotkey`
  NetUid netuid;
  AnyPublicKey hotkey;  // either scheme; tagged in the call's encoding
};
struct ServeAxon {  // signed by the hotkey
  NetUid netuid;
  std::uint32_t version;
  std::array<std::uint8_t, 16> ip;  // big-endian u128; IPv4 in the low 4 bytes
  std::uint16_t port;
  std::uint8_t ipType;                    // 4 or 6
  std::uint8_t protocol;                  // 0 = plain ZeroMQ, 1 = CurveZMQ
  std::array<std::uint8_t, 32> curveKey;  // the miner's CURVE public key (zeros if none)
};
struct AddStake {  // signed by the coldkey
  AccountId hotkey;
  Balance amount;
};
struct RemoveStake {
  AccountId hotkey;
  Balance amount;
};
struct SetWeights {  // signed by the hotkey
  NetUid netuid;
  std::vector<Uid> uids;
  std::vector<std::uint16_t> values;
  std::uint64_t versionKey;
};
struct CommitWeights {
  NetUid netuid;
  // BLAKE2b-256 of merit::consensus::weightsCommitPreimage(hotkey, netuid, uids, values, salt,
  // version_key): subtensor's commit hash, so reveal_weights can be checked.
  Hash256 commitHash;
};
struct RevealWeights {
  NetUid netuid;
  std::vector<Uid> uids;
  std::vector<std::uint16_t> values;
  std::vector<std::uint16_t> salt;
  std::uint64_t versionKey;
};
struct RootRegister {   // signed by the coldkey that owns `hotkey`
  AnyPublicKey hotkey;  // either scheme; tagged in the call's encoding
};
struct SetRootWeights {  // signed by a root validator's hotkey
  std::vector<NetUid> netuids;
  std::vector<std::uint16_t> values;
  std::uint64_t versionKey;
};

using Call =
    std::variant<Transfer, CreateSubnet, SetHyperparameter, BurnedRegister, ServeAxon, AddStake, RemoveStake,
                 SetWeights, CommitWeights, RevealWeights, RootRegister, SetRootWeights>;

// The call's name as used in RPC and logs ("transfer", "set_weights", ...).
std::string_view callName(const Call& call);

Bytes encodeCall(const Call& call);
Result<Call> decodeCall(ByteView bytes);

struct Extrinsic {
  AnyPublicKey signer;
  std::uint64_t nonce = 0;
  std::uint64_t validUntil = 0;  // last block number that may include it
  Call call;
  AnySignature signature;  // of the signer's scheme (decodeExtrinsic refuses any other)

  AccountId signerAccount() const { return signer.accountId(); }
};

// The bytes that are signed (see the top of this file).
Bytes signingPayload(const Hash256& genesis, const AnyPublicKey& signer, std::uint64_t nonce,
                     std::uint64_t validUntil, const Call& call);

// Signs with a key of either scheme (borrowed for the call).
Extrinsic signExtrinsic(crypto::SignerRef key, const Hash256& genesis, std::uint64_t nonce,
                        std::uint64_t validUntil, Call call);

// Checks the signature against the signer (not nonce or expiry: that is the chain's state). A
// signature of the other scheme is kUnauthorized. ECDSA is checked by recovery, which also pins
// the recovery id, so an ECDSA extrinsic has exactly one valid encoding.
Result<void> verifyExtrinsic(const Extrinsic& xt, const Hash256& genesis);

// version u8 (2) ‖ tagged signer (1 ‖ 32 sr25519 | 2 ‖ 33 ecdsa) ‖ nonce u64 ‖ valid_until u64 ‖
// call (u32 length ‖ bytes) ‖ tagged signature (1 ‖ 64 | 2 ‖ 65). Decoding refuses, before any
// signature check: version 1 (naming the versions), an unknown scheme tag, a signature whose
// scheme is not the signer's, and anything over kMaxExtrinsicBytes.
Bytes encodeExtrinsic(const Extrinsic& xt);
Result<Extrinsic> decodeExtrinsic(ByteView bytes);

// The extrinsic's id: BLAKE2b-256 of its encoding.
Hash256 extrinsicHash(const Extrinsic& xt);

}  // namespace merit::tx
