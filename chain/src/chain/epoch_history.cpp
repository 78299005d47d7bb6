#include "merit/chain/epoch_history.h"

#include "merit/util/codec.h"

namespace merit::chain {

namespace {

// Bumped if the record layout ever changes; old records are then reported, not misread.
constexpr std::uint8_t kRecordVersion = 1;

std::string hexBe(std::uint64_t v, int bytes) {
  Bytes b;
  for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<std::byte>(v >> (8 * i)));
  return toHex(b);
}

void writePairs(ByteWriter& w, const std::vector<consensus::UidValue>& row) {
  w.u32(static_cast<std::uint32_t>(row.size()));
  for (const auto& e : row) w.u16(e.uid).u16(e.value);
}

std::vector<consensus::UidValue> readPairs(ByteReader& r) {
  std::uint32_t count = r.u32();
  // A row holds at most one entry per uid; more is a damaged record.
  if (count > consensus::kMaxNeurons) {
    r.setError("row of " + std::to_string(count) + " entries");
    return {};
  }
  std::vector<consensus::UidValue> row(count);
  for (auto& e : row) {
    e.uid = r.u16();
    e.value = r.u16();
  }
  return row;
}

}  // namespace

std::string epochKeyPrefix(NetUid netuid) {
  return "epoch/" + hexBe(netuid, 2) + "/";
}

std::string epochKey(NetUid netuid, std::uint64_t block) {
  return epochKeyPrefix(netuid) + hexBe(block, 8);
}

std::optional<std::uint64_t> epochKeyBlock(NetUid netuid, std::string_view key) {
  const std::string prefix = epochKeyPrefix(netuid);
  if (!key.starts_with(prefix) || key.size() != prefix.size() + 16) return std::nullopt;
  auto raw = fromHex(key.substr(prefix.size()));
  if (!raw || raw->size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (std::byte b : *raw) v = (v << 8) | static_cast<std::uint64_t>(b);
  return v;
}

Bytes encodeEpochRecord(const EpochRecord& rec) {
  const auto& in = rec.input;
  const auto& h = in.hyperparameters;
  const auto& out = rec.output;
  const std::size_t n = in.neurons.size();
  ByteWriter w;
  w.u8(kRecordVersion).u16(rec.netuid).u64(rec.block);
  w.u64(in.currentBlock).u16(in.tempo).u64(in.raoEmission).u64(in.lastMechanismStepBlock);
  w.boolean(in.ownerUid.has_value()).u16(in.ownerUid.value_or(0));
  w.u16(h.kappa).u16(h.bondsPenalty).u64(h.bondsMovingAverage).boolean(h.yuma3).boolean(h.liquidAlpha);
  w.u16(h.alphaLow).u16(h.alphaHigh).u16(static_cast<std::uint16_t>(h.alphaSigmoidSteepness));
  w.u64(h.activityCutoff).u16(h.maxAllowedValidators).u64(h.stakeThreshold).boolean(h.commitReveal);
  w.u32(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& ni = in.neurons[i];
    w.raw(i < rec.hotkeys.size() ? ByteView(rec.hotkeys[i]) : ByteView(AccountId{}));
    w.u64(ni.stake).u64(ni.lastUpdate).u64(ni.blockAtRegistration).boolean(ni.validatorPermit);
    writePairs(w, ni.weights);
    writePairs(w, ni.bonds);
    w.boolean(ni.commitBlock.has_value()).u64(ni.commitBlock.value_or(0));
  }
  // Output vectors all have one entry per uid (runEpoch's contract).
  for (std::size_t i = 0; i < n; ++i) {
    w.boolean(out.active[i]).u16(out.stakeWeight[i]).u16(out.consensus[i]).u16(out.incentive[i]);
    w.u16(out.dividends[i]).u16(out.validatorTrust[i]);
    w.u64(out.emission[i]).u64(out.serverEmission[i]).u64(out.validatorEmission[i]);
    w.boolean(out.validatorPermit[i]);
    writePairs(w, out.bonds[i]);
  }
  return std::move(w).take();
}

Result<EpochRecord> decodeEpochRecord(ByteView bytes) {
  ByteReader r(bytes);
  EpochRecord rec;
  std::uint8_t version = r.u8();
  if (r.ok() && version != kRecordVersion) {
    return fail(ErrorCode::kCorruption, "epoch record version " + std::to_string(version) + " is not " +
                                            std::to_string(kRecordVersion));
  }
  rec.netuid = r.u16();
  rec.block = r.u64();
  auto& in = rec.input;
  auto& h = in.hyperparameters;
  in.currentBlock = r.u64();
  in.tempo = r.u16();
  in.raoEmission = r.u64();
  in.lastMechanismStepBlock = r.u64();
  bool hasOwner = r.boolean();
  std::uint16_t owner = r.u16();
  if (hasOwner) in.ownerUid = owner;
  h.kappa = r.u16();
  h.bondsPenalty = r.u16();
  h.bondsMovingAverage = r.u64();
  h.yuma3 = r.boolean();
  h.liquidAlpha = r.boolean();
  h.alphaLow = r.u16();
  h.alphaHigh = r.u16();
  h.alphaSigmoidSteepness = static_cast<std::int16_t>(r.u16());
  h.activityCutoff = r.u64();
  h.maxAllowedValidators = r.u16();
  h.stakeThreshold = r.u64();
  h.commitReveal = r.boolean();
  std::uint32_t n = r.u32();
  if (n > consensus::kMaxNeurons) {
    return fail(ErrorCode::kCorruption, "epoch record of " + std::to_string(n) + " neurons");
  }
  in.neurons.resize(n);
  rec.hotkeys.resize(n);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    auto& ni = in.neurons[i];
    rec.hotkeys[i] = r.raw<32>();
    ni.stake = r.u64();
    ni.lastUpdate = r.u64();
    ni.blockAtRegistration = r.u64();
    ni.validatorPermit = r.boolean();
    ni.weights = readPairs(r);
    ni.bonds = readPairs(r);
    bool hasCommit = r.boolean();
    std::uint64_t commit = r.u64();
    if (hasCommit) ni.commitBlock = commit;
  }
  auto& out = rec.output;
  out.active.resize(n);
  out.stakeWeight.resize(n);
  out.consensus.resize(n);
  out.incentive.resize(n);
  out.dividends.resize(n);
  out.validatorTrust.resize(n);
  out.emission.resize(n);
  out.serverEmission.resize(n);
  out.validatorEmission.resize(n);
  out.validatorPermit.resize(n);
  out.bonds.resize(n);
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    out.active[i] = r.boolean();
    out.stakeWeight[i] = r.u16();
    out.consensus[i] = r.u16();
    out.incentive[i] = r.u16();
    out.dividends[i] = r.u16();
    out.validatorTrust[i] = r.u16();
    out.emission[i] = r.u64();
    out.serverEmission[i] = r.u64();
    out.validatorEmission[i] = r.u64();
    out.validatorPermit[i] = r.boolean();
    out.bonds[i] = readPairs(r);
  }
  if (auto done = r.finish("epoch record"); !done) {
    return fail(ErrorCode::kCorruption, done.error().message());
  }
  return rec;
}

}  // namespace merit::chain
