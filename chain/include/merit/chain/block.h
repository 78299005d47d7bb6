// Blocks: header, extrinsics and their outcomes, and the canonical encoding that is stored and
// hashed.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "merit/crypto/keys.h"
#include "merit/tx/extrinsic.h"

namespace merit::chain {

struct BlockHeader {
  std::uint64_t number = 0;
  crypto::Hash256 parent{};
  std::uint64_t timestampMs = 0;
  crypto::Hash256 extrinsicsRoot{};
  crypto::Hash256 stateRoot{};
  ByteArray<33> author{};     // the authority's compressed public key
  ByteArray<65> signature{};  // the authority's signature over signingBytes()

  // BLAKE2b-256 of the encoding without the signature.
  crypto::Hash256 hash() const;
  Bytes encodeUnsigned() const;
  // What the author signs: the block domain tag, then hash() ("meritnet/block/v1" ‖ hash,
  // merit/crypto/domains.h), so a block signature is never a signature of anything else.
  Bytes signingBytes() const;
};

struct Event {
  crypto::Hash256 extrinsic{};  // hash of the extrinsic
  bool success = true;
  std::string error;  // named error when !success
  std::string detail;
};

struct Block {
  BlockHeader header;
  std::vector<Bytes> extrinsics;  // encoded, in order
  std::vector<Event> events;      // one per extrinsic, same order
};

Bytes encodeBlock(const Block& b);
Result<Block> decodeBlock(ByteView bytes);

// BLAKE2b-256 over the concatenated extrinsic hashes.
crypto::Hash256 extrinsicsRoot(const std::vector<Bytes>& extrinsics);

}  // namespace merit::chain
