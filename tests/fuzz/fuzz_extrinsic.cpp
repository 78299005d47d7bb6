// Fuzz target: extrinsic decoding (the chain's parser of untrusted bytes). Anything accepted must
// re-encode to the same bytes (one encoding per value), and verification must answer without
// crashing; a signature that verifies must belong to the claimed signer.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "merit/tx/extrinsic.h"
#include "merit/util/assert.h"

namespace {
const merit::crypto::Hash256& genesis() {
  static const auto g = merit::crypto::blake2b256(merit::asBytes("fuzz genesis"));
  return g;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  merit::ByteView in(reinterpret_cast<const std::byte*>(data), size);
  auto xt = merit::tx::decodeExtrinsic(in);
  if (!xt) return 0;
  merit::Bytes again = merit::tx::encodeExtrinsic(*xt);
  MERIT_ASSERT(again.size() == size && std::equal(again.begin(), again.end(), in.begin()), size,
               again.size());
  (void)merit::tx::verifyExtrinsic(*xt, genesis());
  (void)merit::tx::callName(xt->call);
  return 0;
}

// Well-formed, correctly signed seeds: one extrinsic per call type and signer scheme (ecdsa and
// sr25519), with hotkeys of both schemes in the calls that carry one.
extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  using namespace merit::tx;
  merit::ByteArray<32> secret{};
  secret[31] = std::byte{9};
  auto key = merit::crypto::PrivateKey::fromBytes(secret).value();
  auto srKey = merit::crypto::sr25519::Keypair::fromMiniSecret(secret).value();
  auto id = key.publicKey().accountId();
  ServeAxon axon{};
  axon.netuid = 1;
  axon.port = 1;
  axon.ipType = 4;
  std::vector<Call> calls = {Transfer{id, 1},
                             CreateSubnet{"x", 1, {{Hyper::kTempo, 5}}},
                             SetHyperparameter{1, Hyper::kKappa, 2},
                             BurnedRegister{1, key.publicKey()},
                             axon,
                             AddStake{id, 3},
                             RemoveStake{id, 3},
                             SetWeights{1, {0, 1}, {2, 3}, 4},
                             CommitWeights{1, id},
                             RevealWeights{1, {0}, {1}, {2, 3}, 4},
                             RootRegister{key.publicKey()},
                             SetRootWeights{{1}, {2}, 3},
                             BurnedRegister{1, srKey.publicKey()},
                             RootRegister{srKey.publicKey()}};
  for (const auto& c : calls) {
    for (int scheme = 0; scheme < 2; ++scheme) {
      auto bytes = scheme == 0 ? encodeExtrinsic(signExtrinsic(key, genesis(), 7, 100, c))
                               : encodeExtrinsic(signExtrinsic(srKey, genesis(), 7, 100, c));
      out.emplace_back(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                       reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size());
    }
  }
}
