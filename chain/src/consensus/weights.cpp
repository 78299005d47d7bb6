#include "merit/consensus/weights.h"

#include <string>

#include "merit/consensus/math.h"

namespace merit::consensus {

namespace {

bool isSelfWeight(uint16_t uid, std::span<const uint16_t> uids, std::span<const uint16_t> values) {
  return values.size() == 1 && !uids.empty() && uids[0] == uid;
}

void appendLe(std::vector<std::byte>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xff));
}

void appendU16Vec(std::vector<std::byte>& out, std::span<const uint16_t> v) {
  appendScaleCompact(out, v.size());
  for (uint16_t x : v) appendLe(out, x, 2);
}

}  // namespace

Result<std::vector<UidValue>> checkAndUpscaleWeights(std::span<const uint16_t> uids,
                                                     std::span<const uint16_t> values,
                                                     const SetWeightsRules& rules) {
  if (uids.size() != values.size()) {
    return fail(ErrorCode::kInvalidArgument, "InputLengthsUnequal: " + std::to_string(uids.size()) +
                                                 " uids, " + std::to_string(values.size()) + " values");
  }
  if (uids.size() > rules.subnetN) {
    return fail(ErrorCode::kInvalidArgument, "UidsLengthExceedUidsInSubNet: " + std::to_string(uids.size()) +
                                                 " uids on a subnet of " + std::to_string(rules.subnetN));
  }
  const bool self = isSelfWeight(rules.callerUid, uids, values);
  if (!self && !rules.callerIsOwner && !rules.callerHasPermit) {
    return fail(ErrorCode::kUnauthorized, "NeuronNoValidatorPermit: uid " + std::to_string(rules.callerUid));
  }
  std::vector<bool> seen(65536);
  for (uint16_t uid : uids) {
    if (seen[uid]) return fail(ErrorCode::kInvalidArgument, "DuplicateUids: uid " + std::to_string(uid));
    seen[uid] = true;
  }
  for (uint16_t uid : uids) {
    if (uid >= rules.subnetN) {
      return fail(ErrorCode::kInvalidArgument, "UidVecContainInvalidOne: uid " + std::to_string(uid) +
                                                   " >= n " + std::to_string(rules.subnetN));
    }
  }
  const std::size_t minLength = std::min<std::size_t>(rules.subnetN, rules.minAllowedWeights);
  if (!self && values.size() < minLength) {
    return fail(ErrorCode::kInvalidArgument, "WeightVecLengthIsLow: " + std::to_string(values.size()) +
                                                 " weights, at least " + std::to_string(minLength));
  }
  std::vector<uint16_t> upscaled = vecU16MaxUpscaleToU16(values);
  if (!self && rules.maxWeightLimit != kU16Max && !checkVecMaxLimited(upscaled, rules.maxWeightLimit)) {
    return fail(ErrorCode::kInvalidArgument,
                "MaxWeightExceeded: a weight exceeds " + std::to_string(rules.maxWeightLimit) + "/65535");
  }
  std::vector<UidValue> row(uids.size());
  for (std::size_t k = 0; k < uids.size(); ++k) row[k] = {uids[k], upscaled[k]};
  return row;
}

void appendScaleCompact(std::vector<std::byte>& out, uint64_t value) {
  if (value < (uint64_t{1} << 6)) {
    appendLe(out, value << 2, 1);
  } else if (value < (uint64_t{1} << 14)) {
    appendLe(out, (value << 2) | 0b01, 2);
  } else if (value < (uint64_t{1} << 30)) {
    appendLe(out, (value << 2) | 0b10, 4);
  } else {
    int bytes = 0;
    for (uint64_t v = value; v != 0; v >>= 8) ++bytes;
    out.push_back(static_cast<std::byte>(((bytes - 4) << 2) | 0b11));
    appendLe(out, value, bytes);
  }
}

std::vector<std::byte> weightsCommitPreimage(const std::array<std::byte, 32>& hotkey, uint16_t netuidIndex,
                                             std::span<const uint16_t> uids, std::span<const uint16_t> values,
                                             std::span<const uint16_t> salt, uint64_t versionKey) {
  std::vector<std::byte> out(hotkey.begin(), hotkey.end());
  appendLe(out, netuidIndex, 2);
  appendU16Vec(out, uids);
  appendU16Vec(out, values);
  appendU16Vec(out, salt);
  appendLe(out, versionKey, 8);
  return out;
}

}  // namespace merit::consensus
