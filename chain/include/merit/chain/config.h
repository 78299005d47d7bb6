// merit-chain configuration: node settings and genesis, from YAML (configs/chain.yaml documents
// every key), with the --dev preset for fast local work.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "merit/chain/node.h"
#include "merit/util/result.h"

namespace merit::chain {

struct ChainConfig {
  NodeConfig node;
  std::string rpcHost = "127.0.0.1";
  int rpcPort = 9933;
  std::string feedEndpoint = "tcp://127.0.0.1:9944";
  std::string authorityKeyFile;  // a meritnet key file (plain); empty with --dev = the dev authority
  std::string logLevel = "info";
};

// Settings for local development: 500 ms blocks, short tempos and rate limits, cheap subnets
// and registrations, local (loopback, link-local, unspecified) axons allowed, no fees, and
// NodeConfig::dev set.
ChainConfig devPreset();

// Reads `path` over `base` (so a file may set only what it changes). Errors name the file, the
// key and the reason, e.g. "chain.yaml: genesis.balances[2].address: bad checksum". Unknown keys
// are errors too, so a typo is never silently ignored.
Result<ChainConfig> loadChainConfig(const std::string& path, ChainConfig base);

// Parses YAML text (for tests); `name` is used in error messages.
Result<ChainConfig> parseChainConfig(const std::string& yaml, const std::string& name, ChainConfig base);

// The first genesis balance at which the running total passes kMaxGenesisTotal (or overflows),
// with the reason; nullopt when the totals are safe. loadChainConfig checks this; merit-chain
// checks it again after adding --fund balances.
std::optional<std::pair<std::size_t, std::string>> genesisTotalProblem(const GenesisSpec& genesis);

// The deterministic authority key of --dev chains (anyone can derive it: never use it for value).
crypto::PrivateKey devAuthorityKey();

}  // namespace merit::chain
