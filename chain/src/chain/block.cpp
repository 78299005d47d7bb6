#include "merit/chain/block.h"

#include "merit/crypto/domains.h"
#include "merit/util/codec.h"

namespace merit::chain {

namespace {
constexpr std::size_t kMaxBlockExtrinsics = 100'000;
constexpr std::size_t kMaxErrorLen = 1024;
}  // namespace

Bytes BlockHeader::encodeUnsigned() const {
  ByteWriter w;
  w.u64(number).raw(parent).u64(timestampMs).raw(extrinsicsRoot).raw(stateRoot).raw(author);
  return std::move(w).take();
}

crypto::Hash256 BlockHeader::hash() const {
  return crypto::blake2b256(encodeUnsigned());
}

Bytes BlockHeader::signingBytes() const {
  ByteWriter w;
  w.raw(asBytes(crypto::domain::kBlockHeader)).raw(hash());
  return std::move(w).take();
}

Bytes encodeBlock(const Block& b) {
  ByteWriter w;
  w.raw(b.header.encodeUnsigned()).raw(b.header.signature);
  w.u32(static_cast<std::uint32_t>(b.extrinsics.size()));
  for (const auto& x : b.extrinsics) w.bytes(x);
  w.u32(static_cast<std::uint32_t>(b.events.size()));
  for (const auto& e : b.events) w.raw(e.extrinsic).boolean(e.success).str(e.error).str(e.detail);
  return std::move(w).take();
}

Result<Block> decodeBlock(ByteView bytes) {
  ByteReader r(bytes);
  Block b;
  b.header.number = r.u64();
  b.header.parent = r.raw<32>();
  b.header.timestampMs = r.u64();
  b.header.extrinsicsRoot = r.raw<32>();
  b.header.stateRoot = r.raw<32>();
  b.header.author = r.raw<33>();
  b.header.signature = r.raw<65>();
  std::uint32_t n = r.u32();
  if (n > kMaxBlockExtrinsics) r.setError("too many extrinsics");
  for (std::uint32_t i = 0; r.ok() && i < n; ++i) b.extrinsics.push_back(r.bytes(tx::kMaxExtrinsicBytes));
  std::uint32_t m = r.u32();
  if (m > kMaxBlockExtrinsics) r.setError("too many events");
  for (std::uint32_t i = 0; r.ok() && i < m; ++i) {
    Event e;
    e.extrinsic = r.raw<32>();
    e.success = r.boolean();
    e.error = r.str(kMaxErrorLen);
    e.detail = r.str(kMaxErrorLen);
    b.events.push_back(std::move(e));
  }
  MERIT_TRY(r.finish("block"));
  return b;
}

crypto::Hash256 extrinsicsRoot(const std::vector<Bytes>& extrinsics) {
  crypto::Blake2b h(32);
  for (const auto& x : extrinsics) h.update(crypto::blake2b256(x));
  return h.finish256();
}

}  // namespace merit::chain
