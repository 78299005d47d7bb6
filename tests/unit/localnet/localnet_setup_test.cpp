// The localnet's key schemes: the `owner.scheme` and per-entry `scheme` keys of the config, and the
// dev wallets and chain set-up (subnets, registrations, stakes, root weights) they lead to, run on
// an in-process dev chain (no miner or validator processes).
#include <filesystem>
#include <map>
#include <string>

#include <doctest/doctest.h>

#include "merit/crypto/wallet.h"
#include "merit/rpc/client.h"
#include "merit/rpc/metagraph.h"

#include "live_chain.h"
#include "localnet_chain_setup.h"
#include "localnet_config.h"
#include "test_support.h"

namespace merit::cli::localnet {
namespace {

using crypto::KeyScheme;

const std::string kMixed = R"(
owner: {scheme: sr25519}
subnets:
  - plugin: hash
    hyperparameters: {weights_rate_limit: 0}
    validators:
      - {name: v1, stake: 10, scheme: sr25519}
      - {name: v2, stake: 5}
    miners:
      - {name: m1, tier: gold, scheme: sr25519}
      - {name: m2, tier: gold, scheme: ecdsa}
)";

std::string errorOf(const std::string& yaml) {
  auto c = parseConfig(yaml, "test.yaml");
  REQUIRE_FALSE(c.has_value());
  return c.error().message();
}

TEST_CASE("localnet config: key schemes for the owner and each validator and miner, ecdsa by default") {
  auto c = parseConfig(kMixed, "test.yaml");
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message()));
  CHECK(c->ownerScheme == KeyScheme::kSr25519);
  const auto& s = c->subnets[0];
  CHECK(s.validators[0].scheme == KeyScheme::kSr25519);
  CHECK(s.validators[1].scheme == KeyScheme::kEcdsa);
  CHECK(s.miners[0].scheme == KeyScheme::kSr25519);
  CHECK(s.miners[1].scheme == KeyScheme::kEcdsa);

  auto plain = parseConfig(
      "subnets:\n  - plugin: hash\n    validators: [{name: v1, stake: 10}]\n"
      "    miners: [{name: m1, tier: gold}]\n",
      "test.yaml");
  REQUIRE(plain.has_value());
  CHECK(plain->ownerScheme == KeyScheme::kEcdsa);
  CHECK(plain->subnets[0].validators[0].scheme == KeyScheme::kEcdsa);
  CHECK(plain->subnets[0].miners[0].scheme == KeyScheme::kEcdsa);

  std::string bad = kMixed;
  bad.replace(bad.find("scheme: ecdsa"), 13, "scheme: ed25519");
  auto e = errorOf(bad);
  CHECK(e.find("test.yaml: subnets[0].miners[1].scheme:") != std::string::npos);
  CHECK(e.find("sr25519") != std::string::npos);  // names what is accepted
  CHECK(errorOf("owner: {scheme: rsa}\n" + kMixed.substr(kMixed.find("subnets:"))).find("owner.scheme") !=
        std::string::npos);
  CHECK(errorOf("owner: {schema: sr25519}\n" + kMixed.substr(kMixed.find("subnets:")))
            .find("owner.schema: unknown key") != std::string::npos);
}

TEST_CASE("localnet set-up: wallets in the configured schemes register, stake and set root weights") {
  auto config = parseConfig(kMixed, "test.yaml");
  REQUIRE(config.has_value());
  test::TempDir dir("merit_localnet_setup");
  State state;
  Binaries bins;
  auto coldkey = makeWallets(*config, bins, dir.path(), state);
  REQUIRE_MESSAGE(coldkey, coldkey.error().message());
  CHECK(coldkey->scheme() == KeyScheme::kSr25519);
  crypto::Wallet wallet(dir.path() / "home", kDevWallet);
  REQUIRE(wallet.coldkeyPublicAny());
  CHECK(*wallet.coldkeyPublicAny() == coldkey->publicKey());
  CHECK(wallet.hotkeyPublicAny("root")->scheme() == KeyScheme::kSr25519);
  CHECK(wallet.hotkeyPublicAny("hash.v1")->scheme() == KeyScheme::kSr25519);
  CHECK(wallet.hotkeyPublicAny("hash.v2")->scheme() == KeyScheme::kEcdsa);
  CHECK(wallet.hotkeyPublicAny("hash.m1")->scheme() == KeyScheme::kSr25519);
  CHECK(wallet.hotkeyPublicAny("hash.m2")->scheme() == KeyScheme::kEcdsa);

  test::LiveChain chain({.balances = {{coldkey->publicKey().accountId(), config->fund}}});
  auto client = rpc::ChainClient::connect(chain.url());
  REQUIRE(client);
  auto ok = setupChain(**client, *coldkey, *config, {{"hash", 1}}, dir.path(), state);
  REQUIRE_MESSAGE(ok, ok.error().message());

  REQUIRE(state.subnets.size() == 1);
  auto mg = (*client)->metagraph(state.subnets[0].netuid);
  REQUIRE(mg);
  REQUIRE(mg->neurons.size() == 4);
  // Validators first (low uids), then miners, each with the configured scheme.
  const std::pair<const char*, KeyScheme> expected[] = {{"hash.v1", KeyScheme::kSr25519},
                                                        {"hash.v2", KeyScheme::kEcdsa},
                                                        {"hash.m1", KeyScheme::kSr25519},
                                                        {"hash.m2", KeyScheme::kEcdsa}};
  for (std::size_t u = 0; u < 4; ++u) {
    CAPTURE(expected[u].first);
    const auto& n = mg->neurons[u];
    REQUIRE(n.hotkeyPublicKey.has_value());
    CHECK(n.hotkeyPublicKey->scheme() == expected[u].second);
    CHECK(*n.hotkeyPublicKey == *wallet.hotkeyPublicAny(expected[u].first));
    CHECK(n.coldkey == coldkey->publicKey().accountId());
  }
  CHECK(mg->neurons[0].stake == 10 * tx::kRaoPerMerit);
  CHECK(mg->neurons[1].stake == 5 * tx::kRaoPerMerit);
  // The sr25519 root validator is registered, staked and has set the root weights.
  auto root = (*client)->metagraph(0);
  REQUIRE(root);
  REQUIRE(root->neurons.size() == 1);
  CHECK(*root->neurons[0].hotkeyPublicKey == *wallet.hotkeyPublicAny("root"));
  CHECK(root->neurons[0].stake == config->rootStake);
  CHECK(root->neurons[0].lastUpdate > 0);
}

}  // namespace
}  // namespace merit::cli::localnet
