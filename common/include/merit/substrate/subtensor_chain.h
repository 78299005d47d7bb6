// The `subtensor` backend of the chain-client interface (merit/rpc/chain.h): a Substrate node
// running a subtensor runtime, reached over WebSocket. meritnet's calls map to the runtime's
// SubtensorModule/Balances calls by name, with arguments filled by field name from the metadata,
// so the same binary works on runtimes whose call signatures differ (spec 200, spec 218, today's
// mainnet runtime); the metagraph is read from storage in a few batched round trips at one block.
//
// meritnet axons on subtensor. AxonInfo has no room for a public key, and the wire protocol
// needs the miner's public key before it dials (the handshake names its target), while the chain
// stores only account ids. An sr25519 hotkey's account id is its public key, so nothing more is
// needed. An ECDSA hotkey's account id is BLAKE2b-256 of its 33-byte key, so such a miner
// publishes its key with Commitments.set_commitment on the subnet (a Raw33 field) before it serves
// its axon with protocol kMeritAxonProtocol. The metagraph gives a neuron's key as the committed
// one when its BLAKE2b-256 is the hotkey's account id (so a commitment cannot point at another
// key), else the account id read as an sr25519 key when it is a valid Ristretto point. A meritnet
// axon is dialled only when its key is known: committed, or (sr25519) marked by the axon itself,
// whose placeholder1 field meritnet sets to the server's scheme tag (1 sr25519, 2 ecdsa), because
// an ECDSA hotkey's account id can be a valid Ristretto point too. docs/SUBTENSOR.md.
//
// Thread-safety: as SubstrateClient (calls may come from several threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "merit/rpc/chain.h"
#include "merit/rpc/metagraph.h"
#include "merit/substrate/client.h"

namespace merit::substrate {

// The AxonInfo.protocol value of a meritnet axon (plain ZeroMQ + Cap'n Proto): 'M'. Axons with
// any other protocol (Bittensor's HTTP axons) are not meritnet miners and are not dialled.
inline constexpr std::uint8_t kMeritAxonProtocol = 77;

struct SubtensorOptions {
  std::chrono::milliseconds callTimeout{15'000};
  std::chrono::milliseconds connectTimeout{5'000};
  std::uint64_t mortality = 64;
};

// A neuron's public key and whether its axon is a dialable meritnet axon, from its
// Commitments.CommitmentOf and SubtensorModule.Axons values (JSON as storage() decodes them; null
// when absent), by the rule at the top of this file.
struct NeuronKey {
  std::optional<crypto::AnyPublicKey> key;
  bool axonDialable = false;
};
NeuronKey neuronKey(const nlohmann::json& commitment, const nlohmann::json& axon,
                    const crypto::AccountId& hotkey);

// $MERIT_SUBTENSOR_URL, else ws://127.0.0.1:9944 (a local node's default).
std::string defaultSubtensorUrl();

class SubtensorChain final : public rpc::Chain {
 public:
  static Result<std::unique_ptr<SubtensorChain>> connect(const std::string& url,
                                                         SubtensorOptions options = {});

  rpc::ChainKind kind() const override { return rpc::ChainKind::kSubtensor; }
  const std::string& url() const override { return m_client->url(); }
  Result<rpc::ChainInfo> info() override;
  Result<std::uint64_t> headNumber() override { return m_client->headNumber(); }
  Result<rpc::Metagraph> metagraph(tx::NetUid netuid) override;
  Result<rpc::AccountInfo> account(const tx::AccountId& account) override;
  Result<std::vector<rpc::SubnetSummary>> subnets() override;
  Result<rpc::SubnetInfo> subnet(tx::NetUid netuid) override;
  Result<rpc::Submission> submit(crypto::SignerRef key, tx::Call call,
                                 std::chrono::milliseconds wait = std::chrono::milliseconds(30'000)) override;

  // The pallet, call and JSON arguments `call` becomes on this runtime.
  struct MappedCall {
    std::string pallet;
    std::string call;
    nlohmann::json args;
  };
  Result<MappedCall> mapCall(crypto::SignerRef signer, const tx::Call& call) const;

  // Publishes an ECDSA hotkey's public key on `netuid` (Commitments.set_commitment) unless it is
  // there already; nullopt when nothing had to be submitted (always for an sr25519 hotkey, whose
  // account id is its key).
  Result<std::optional<rpc::Submission>> commitPublicKey(crypto::SignerRef hotkey, tx::NetUid netuid,
                                                         std::chrono::milliseconds wait);

  // Stake on dynamic-TAO runtimes is per subnet: add/remove stake go to this netuid (default 1)
  // when the runtime's call takes one.
  void setStakeNetuid(tx::NetUid netuid) { m_stakeNetuid = netuid; }

  SubstrateClient& client() { return *m_client; }

 private:
  explicit SubtensorChain(std::unique_ptr<SubstrateClient> client) : m_client(std::move(client)) {}
  // serve_axon as the miner means it: the key committed (ECDSA hotkeys), then the axon record,
  // each only if the chain does not have it already.
  Result<rpc::Submission> serveAxon(crypto::SignerRef hotkey, const MappedCall& m,
                                    std::chrono::milliseconds wait);

  std::unique_ptr<SubstrateClient> m_client;
  std::atomic<tx::NetUid> m_stakeNetuid{1};
};

}  // namespace merit::substrate
