// The subtensor backend's rule for a neuron's public key and a dialable meritnet axon
// (subtensor_chain.h, docs/SUBTENSOR.md), on storage values as the client decodes them.
#include <optional>
#include <string>
#include <utility>

#include <doctest/doctest.h>

#include "merit/crypto/hash.h"
#include "merit/substrate/subtensor_chain.h"

namespace merit::substrate {
namespace {

using nlohmann::json;

json commitmentOf(const crypto::PublicKey& key) {
  return {
      {"deposit", 0}, {"block", 3}, {"info", {{"fields", json::array({{{"Raw33", "0x" + key.toHex()}}})}}}};
}

json axon(std::uint64_t protocol, std::uint64_t placeholder1) {
  return {{"block", 5},
          {"version", 0},
          {"ip", "16777343"},
          {"port", 9000},
          {"ip_type", 4},
          {"protocol", protocol},
          {"placeholder1", placeholder1},
          {"placeholder2", 0}};
}

crypto::PrivateKey ecdsaKey(int i) {
  return crypto::PrivateKey::fromBytes(crypto::blake2b256(asBytes("neuron-key-test-" + std::to_string(i))))
      .value();
}

// An ECDSA key whose account id (a hash) also decodes as a Ristretto point, and one whose does not.
std::pair<crypto::PrivateKey, crypto::PrivateKey> ambiguousAndPlainEcdsa() {
  std::optional<crypto::PrivateKey> ambiguous, plain;
  for (int i = 0; i < 1000 && (!ambiguous || !plain); ++i) {
    auto k = ecdsaKey(i);
    const bool point = crypto::sr25519::PublicKey::fromBytes(k.publicKey().accountId()).has_value();
    if (point && !ambiguous) {
      ambiguous = std::move(k);
    } else if (!point && !plain) {
      plain = std::move(k);
    }
  }
  REQUIRE(ambiguous.has_value());
  REQUIRE(plain.has_value());
  return {std::move(*ambiguous), std::move(*plain)};
}

TEST_CASE("neuron keys: a committed ECDSA key, else the sr25519 key the account id is") {
  const auto sr = crypto::sr25519::keypairFromSuri("//Alice//miner").value();
  const crypto::AccountId srAccount = sr.publicKey().accountId();
  auto [ambiguous, plain] = ambiguousAndPlainEcdsa();

  SUBCASE("sr25519 hotkey: its own key, no commitment; dialable when its axon carries tag 1") {
    auto nk = neuronKey(nullptr, axon(kMeritAxonProtocol, crypto::kSr25519Tag), srAccount);
    REQUIRE(nk.key.has_value());
    CHECK(nk.key->sr25519() != nullptr);
    CHECK(*nk.key == crypto::AnyPublicKey(sr.publicKey()));
    CHECK(nk.axonDialable);
    CHECK_FALSE(neuronKey(nullptr, axon(kMeritAxonProtocol, 0), srAccount).axonDialable);
    CHECK_FALSE(neuronKey(nullptr, axon(4, crypto::kSr25519Tag), srAccount).axonDialable);  // not meritnet's
    CHECK_FALSE(neuronKey(nullptr, nullptr, srAccount).axonDialable);
    CHECK(neuronKey(nullptr, nullptr, srAccount).key.has_value());
  }
  SUBCASE("ECDSA hotkey: the committed key, whatever the axon's tag") {
    for (const auto* k : {&ambiguous, &plain}) {
      const crypto::AccountId account = k->publicKey().accountId();
      auto nk = neuronKey(commitmentOf(k->publicKey()), axon(kMeritAxonProtocol, crypto::kEcdsaTag), account);
      REQUIRE(nk.key.has_value());
      REQUIRE(nk.key->ecdsa() != nullptr);
      CHECK(*nk.key->ecdsa() == k->publicKey());
      CHECK(nk.axonDialable);
      CHECK(neuronKey(commitmentOf(k->publicKey()), axon(kMeritAxonProtocol, 0), account).axonDialable);
    }
  }
  SUBCASE("ECDSA hotkey without a commitment: never dialable, even when its account id is a point") {
    auto nk = neuronKey(nullptr, axon(kMeritAxonProtocol, 0), ambiguous.publicKey().accountId());
    REQUIRE(nk.key.has_value());  // read as an sr25519 key nobody holds
    CHECK(nk.key->sr25519() != nullptr);
    CHECK_FALSE(nk.axonDialable);
    auto none =
        neuronKey(nullptr, axon(kMeritAxonProtocol, crypto::kSr25519Tag), plain.publicKey().accountId());
    CHECK_FALSE(none.key.has_value());
    CHECK_FALSE(none.axonDialable);
  }
  SUBCASE("a commitment of another key is ignored") {
    auto nk = neuronKey(commitmentOf(plain.publicKey()), axon(kMeritAxonProtocol, crypto::kEcdsaTag),
                        ambiguous.publicKey().accountId());
    REQUIRE(nk.key.has_value());
    CHECK(nk.key->ecdsa() == nullptr);
    CHECK_FALSE(nk.axonDialable);
  }
}

}  // namespace
}  // namespace merit::substrate
