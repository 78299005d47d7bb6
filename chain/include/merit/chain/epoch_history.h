// Epoch history: the inputs and outputs of each subnet's last epochs, kept so that any of them
// can be recomputed exactly (`epoch_get`, `merit explain`; docs/RPC.md, "Epoch history").
//
// Records live under raw keys (outside the state prefix), so they are not part of the state
// root: they are derived from committed state, the runtime never reads them back, and how many
// a node keeps is a node setting (NodeConfig::epochHistory).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "merit/chain/types.h"
#include "merit/consensus/epoch.h"
#include "merit/util/bytes.h"
#include "merit/util/result.h"

namespace merit::chain {

// One subnet epoch exactly as the runtime ran it.
struct EpochRecord {
  NetUid netuid = 0;
  std::uint64_t block = 0;         // the block it ran in (= input.currentBlock)
  std::vector<AccountId> hotkeys;  // uid -> hotkey at that block
  consensus::EpochInput input;     // what runEpoch consumed
  consensus::EpochOutput output;   // what it returned (and the chain stored)
};

// Raw database keys: "epoch/<netuid>/<block>", both big-endian hex so keys sort by block.
std::string epochKeyPrefix(NetUid netuid);
std::string epochKey(NetUid netuid, std::uint64_t block);
// The block of a key made by epochKey (nullopt for anything else).
std::optional<std::uint64_t> epochKeyBlock(NetUid netuid, std::string_view key);

Bytes encodeEpochRecord(const EpochRecord& record);
// For bytes read back from the node's own database; kCorruption names what is wrong.
Result<EpochRecord> decodeEpochRecord(ByteView bytes);

}  // namespace merit::chain
