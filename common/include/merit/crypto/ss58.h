// SS58 addresses: base58(prefix ‖ account id ‖ checksum), the checksum being the first two bytes
// of BLAKE2b-512("SS58PRE" ‖ prefix ‖ account id). meritnet uses network prefix 42 (the generic
// Substrate prefix), so its addresses start with '5'.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "merit/crypto/keys.h"
#include "merit/util/result.h"

namespace merit::crypto {

inline constexpr std::uint16_t kSs58Prefix = 42;

std::string base58Encode(ByteView bytes);
// Rejects characters outside the Bitcoin base58 alphabet (naming the position).
Result<Bytes> base58Decode(std::string_view text);

std::string ss58Encode(const AccountId& account, std::uint16_t prefix = kSs58Prefix);
inline std::string ss58Address(const PublicKey& key) {
  return ss58Encode(key.accountId());
}

// Decodes an address for a 32-byte account id. Errors (kInvalidArgument), each with its own
// message: not base58, wrong length, bad checksum, a prefix other than `expectedPrefix`.
Result<AccountId> ss58Decode(std::string_view address, std::uint16_t expectedPrefix = kSs58Prefix);

// Decodes an address of any network prefix (42 generic Substrate, Bittensor's, ...), with the
// same checks as ss58Decode except the prefix, which it returns.
struct Ss58Decoded {
  AccountId account{};
  std::uint16_t prefix = 0;
};
Result<Ss58Decoded> ss58DecodeAnyPrefix(std::string_view address);

}  // namespace merit::crypto
