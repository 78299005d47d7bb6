// The accounts and on-chain setup of a localnet: dev-only keys derived from public strings (the
// coldkey, the root hotkey and one hotkey per miner and validator), then on the fresh chain the
// subnets, registrations, validator stakes and the root network's weights.
//
// Thread-safety: single-threaded (the supervisor's thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "merit/crypto/any_key.h"
#include "merit/rpc/client.h"
#include "merit/util/result.h"

#include "localnet_config.h"
#include "localnet_preflight.h"
#include "localnet_state.h"

namespace merit::cli::localnet {

// "<subnet>.<name>": the hotkey (and log and config file) name of a miner or validator.
inline std::string hotkeyName(const std::string& subnet, const std::string& name) {
  return subnet + "." + name;
}

// Writes the dev wallet under DATA_DIR/home (the coldkey, the root hotkey and every member's
// hotkey) and adds a Member (without pid) per validator and miner to `state`, validators first
// in each subnet. Each key is of the scheme the config gives it (the coldkey and the root hotkey:
// `owner.scheme`; the others: their entry's `scheme`). Returns the coldkey.
Result<crypto::AnyPrivateKey> makeWallets(const Config& config, const Binaries& bins,
                                          const std::filesystem::path& dataDir, State& state);

// On a fresh chain: creates the subnets in config order (adding them to `state.subnets` with the
// netuid the chain picked), registers validators then miners, stakes the validators (their
// baselines), and registers, stakes and sets the weights of the root validator. Each call waits
// for inclusion; a stop request interrupts. `pluginVersions`: plugin name -> version.
Result<void> setupChain(rpc::ChainClient& client, crypto::SignerRef coldkey, const Config& config,
                        const std::map<std::string, std::uint32_t>& pluginVersions,
                        const std::filesystem::path& dataDir, State& state);

}  // namespace merit::cli::localnet
