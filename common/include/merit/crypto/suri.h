// Substrate secret URIs: `<phrase or 0x-seed>[//hard|/soft]...[///password]`, as `subkey`,
// polkadot-js and btcli accept them. Key-type independent: sr25519.h turns a parsed URI into a
// key pair.
//
// Thread-safety: pure functions.
//
// Grammar (Substrate's): the phrase runs up to the first '/' and holds ASCII letters, digits,
// '_' and spaces, or is empty (then the public development phrase kDevPhrase is meant). Each
// junction is "//" (hard) or "/" (soft) followed by one or more characters other than '/'.
// "///" starts the password, which runs to the end.
//
// Junction chain codes (32 bytes): a junction that parses as a u64 (decimal) is its 8-byte
// little-endian value; any other text is its SCALE encoding (compact length ‖ UTF-8 bytes). The
// encoding is zero-padded to 32 bytes, or replaced by its BLAKE2b-256 when longer than 32.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "merit/crypto/secret.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::crypto {

// Substrate's well-known development phrase (the keys of //Alice, //Bob, ...). Public: never
// protect funds with it.
inline constexpr std::string_view kDevPhrase =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

using ChainCode = ByteArray<32>;

struct DeriveJunction {
  ChainCode chainCode{};
  bool hard = false;

  // The junction for one path segment's text (without its slashes).
  static DeriveJunction fromText(std::string_view text, bool hard);
  static DeriveJunction fromIndex(std::uint64_t index, bool hard);
};

struct SecretUri {
  SecretBytes phrase;  // the phrase or "0x<hex seed>"; kDevPhrase when the URI gave none
  std::vector<DeriveJunction> path;
  std::optional<SecretBytes> password;
};

// Parses a secret URI. kInvalidArgument names the problem (bad phrase character, empty
// junction); the phrase itself is not checked here (the key type does that).
Result<SecretUri> parseSecretUri(std::string_view uri);

// SCALE compact encoding of a length/integer (exposed for tests).
Bytes scaleCompact(std::uint64_t value);

}  // namespace merit::crypto
