// Calls and extrinsics (format v4), built from the metadata by name: the call's pallet and call
// indices and argument layout, the signed extensions the runtime lists, and the address and
// signature types of its registry. Signing takes a key of either scheme (crypto::SignerRef):
//   sr25519  account id = the public key; MultiSignature::Sr25519 (variant 1, 64 bytes), a
//            schnorrkel signature with context "substrate" over the signing payload itself;
//   ecdsa    account id = BLAKE2b-256 of the compressed public key (PublicKey::accountId());
//            MultiSignature::Ecdsa (variant 2, 65 bytes r‖s‖v) over BLAKE2b-256 of the payload.
// The address is MultiAddress::Id(account id) in both. As for every Substrate signature, a
// signing payload longer than 256 bytes is replaced by its BLAKE2b-256 before either is applied.
//
// Thread-safety: pure functions over an immutable Metadata.
//
// Signed extensions by identifier (extra = in the extrinsic, additional = only in the payload):
//   CheckNonZeroSender, CheckWeight           nothing / nothing
//   CheckSpecVersion, CheckTxVersion          nothing / u32 spec or transaction version
//   CheckGenesis                              nothing / genesis hash
//   CheckMortality (or CheckEra)              era (00 immortal, 2 bytes mortal) / eraBlockHash
//   CheckNonce                                Compact nonce / nothing
//   ChargeTransactionPayment                  Compact tip / nothing
//   ChargeAssetTxPayment                      {tip: Compact tip, asset_id: None} / nothing
//   CheckMetadataHash                         mode Disabled (00) / Option None (00)
//   anything else                             nothing / nothing when both of its types are
//                                             zero-sized (SubtensorSignedExtension,
//                                             CommitmentsSignedExtension), otherwise an error
//                                             naming the extension.
// Every extra and additional value is encoded through the registry type the metadata gives
// for it, so a runtime that changed one of these types fails loudly instead of signing garbage.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "merit/crypto/any_key.h"
#include "merit/crypto/hash.h"
#include "merit/crypto/keys.h"
#include "merit/substrate/metadata.h"

namespace merit::substrate {

// The call as the outer RuntimeCall enum encodes it: pallet index ‖ call index ‖ arguments in
// field order. `args` is an object keyed by argument name (value.h conventions); a missing or
// unknown argument is kInvalidArgument naming it; an unknown pallet or call is kNotFound.
Result<Bytes> encodeCall(const Metadata& md, std::string_view pallet, std::string_view call,
                         const nlohmann::json& args);

struct SigningParams {
  std::uint32_t specVersion = 0;
  std::uint32_t txVersion = 0;
  crypto::Hash256 genesisHash{};
  // The hash of the era's birth block for a mortal era (with `current` below as that block's
  // number and a period ≤ 4096, the birth block is `current` itself: pass its hash); the genesis
  // hash for an immortal one.
  crypto::Hash256 eraBlockHash{};
  // {period, current block number}; nullopt = immortal.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> mortalEra;
  std::uint64_t nonce = 0;
  std::uint64_t tip = 0;  // planck; subtensor balances are u64
};

// Era encoding exactly as Substrate's Era::mortal(period, current): period rounded up to a power
// of two and clamped to 4..65536, phase = current % period quantized to period/4096; two bytes
// (low 4 bits: log2(period) - 1; high 12 bits: phase / quantum), little-endian.
ByteArray<2> encodeMortalEra(std::uint64_t period, std::uint64_t current);
// The block number the era of encodeMortalEra(period, current) is anchored to.
std::uint64_t mortalEraBirth(std::uint64_t period, std::uint64_t current);

struct ExtensionBytes {
  Bytes extra;       // concatenated in metadata order: goes into the extrinsic
  Bytes additional;  // concatenated in metadata order: only in the signing payload
};
Result<ExtensionBytes> encodeSignedExtensions(const Metadata& md, const SigningParams& params);

// call ‖ extra ‖ additional, replaced by its BLAKE2b-256 when longer than 256 bytes: the bytes
// an sr25519 key signs, and whose BLAKE2b-256 digest an ECDSA key signs.
Result<Bytes> signingPayload(const Metadata& md, ByteView call, const SigningParams& params);

// A signed v4 extrinsic: Compact(len) ‖ 0x84 ‖ MultiAddress::Id ‖ MultiSignature (Sr25519 or
// Ecdsa, by the key's scheme) ‖ extra ‖ call. The result is what author_submitExtrinsic takes
// (as hex).
Result<Bytes> buildSignedExtrinsic(const Metadata& md, ByteView call, const SigningParams& params,
                                   crypto::SignerRef key);
// An unsigned ("bare") v4 extrinsic: Compact(len) ‖ 0x04 ‖ call (inherents, unsigned calls).
Result<Bytes> buildUnsignedExtrinsic(const Metadata& md, ByteView call);

// BLAKE2b-256 of the encoded extrinsic (with its length prefix): the hash nodes report.
crypto::Hash256 extrinsicHash(ByteView extrinsic);

}  // namespace merit::substrate
