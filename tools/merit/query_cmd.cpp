// `merit query`: ask a miner, as a validator would, with challenges made by the subnet plugin,
// and report each answer's status, quality and latency. An operator's check that a miner serves,
// and a test that concurrent answers each match their own request.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "merit/crypto/wallet.h"
#include "merit/net/dendrite.h"
#include "merit/rpc/metagraph.h"
#include "merit/subnet_host/plugin.h"

#include "chain_util.h"
#include "commands.h"

namespace merit::cli {

namespace {

struct QueryOptions {
  std::uint16_t netuid = 1;
  std::uint16_t uid = 0;
  std::string wallet = "default";
  std::string hotkey = "default";
  std::string plugin;
  std::string pluginConfig;
  std::vector<std::string> subnetPath;
  std::size_t count = 1;
  std::uint64_t timeoutMs = 5000;
  bool signedMode = false;
  bool json = false;
};

int runQuery(const QueryOptions& o, const ChainSettings& chain) {
  auto key =
      crypto::Wallet(crypto::defaultMeritHome(), o.wallet).loadHotkeyAny(o.hotkey);  // sr25519 or ecdsa
  if (!key) return report(key.error());
  auto client = connectChain(chain);
  if (!client) return report(client.error());
  auto mg = rpc::fetchMetagraph(**client, o.netuid);
  if (!mg) return report(mg.error());
  if (o.uid >= mg->neurons.size()) {
    return report(Error(ErrorCode::kNotFound,
                        "no uid " + std::to_string(o.uid) + " on subnet " + std::to_string(o.netuid)));
  }
  const auto& n = mg->neurons[o.uid];
  if (!n.axon) return report(Error(ErrorCode::kNotFound, "uid " + std::to_string(o.uid) + " serves no axon"));
  if (!n.hotkeyPublicKey) {
    return report(
        Error(ErrorCode::kNotFound, "the chain knows no public key for uid " + std::to_string(o.uid)));
  }
  const crypto::AnyPublicKey& pub = *n.hotkeyPublicKey;  // the wire takes either scheme

  auto plugin = subnet::SubnetPlugin::find(o.plugin, o.subnetPath);
  if (!plugin) return report(plugin.error());
  auto task = (*plugin)->create(subnet::Role::kValidator, o.pluginConfig);
  if (!task) return report(task.error().withContext("plugin " + (*plugin)->name()));

  net::AxonTarget target{n.axon->dialEndpoint(), pub, std::nullopt};
  // CurveZMQ, and in shield mode only validators' derived keys connect.
  if (n.axon->usesCurve()) target.curvePublicKey = n.axon->curveKey;
  target.shield = n.axon->shield();
  std::vector<net::AxonTarget> targets(o.count, target);
  std::vector<net::OutboundRequest> requests;
  std::vector<Bytes> expectations;
  for (std::size_t i = 0; i < o.count; ++i) {
    auto c = (*task)->makeChallenge();
    if (!c) return report(c.error());
    requests.push_back({o.netuid, (*plugin)->name(), (*plugin)->version(), std::move(c->request)});
    expectations.push_back(std::move(c->expectation));
  }
  net::DendriteConfig dc;
  dc.mode = o.signedMode ? net::AuthMode::kSigned : net::AuthMode::kSession;
  auto dendrite = net::Dendrite::create(std::move(*key), dc, std::make_shared<SystemClock>());
  if (!dendrite) return report(dendrite.error());
  auto results = (*dendrite)->query(
      targets, requests, std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeoutMs));

  std::size_t perfect = 0;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : results) {
    double quality = 0;
    if (r.status == wire::Status::kOk && r.authenticated) {
      auto q = (*task)->scoreResponse(expectations[r.index], r.body);
      quality = q ? *q : 0;
    }
    if (quality >= 1.0) ++perfect;
    double ms = std::chrono::duration<double, std::milli>(r.latency).count();
    rows.push_back({{"index", r.index},
                    {"status", wire::statusName(r.status)},
                    {"message", r.message},
                    {"authenticated", r.authenticated},
                    {"quality", quality},
                    {"latency_ms", ms}});
    if (!o.json) {
      std::printf("%3zu  %-12s  quality %.3f  %8.2f ms  %s\n", r.index,
                  std::string(wire::statusName(r.status)).c_str(), quality, ms, r.message.c_str());
    }
  }
  if (o.json) {
    std::printf("%s\n", nlohmann::json({{"uid", o.uid},
                                        {"endpoint", target.endpoint},
                                        {"perfect", perfect},
                                        {"count", o.count},
                                        {"results", rows}})
                            .dump(2)
                            .c_str());
  } else {
    std::printf("uid %u at %s: %zu of %zu answers perfect\n", o.uid, target.endpoint.c_str(), perfect,
                o.count);
  }
  return perfect == o.count ? kExitOk : kExitFailure;
}

}  // namespace

void addQueryCommand(CLI::App& app, int& exitCode, const ChainSettings& chain) {
  auto o = std::make_shared<QueryOptions>();
  auto* cmd = app.add_subcommand(
      "query", "Query a miner with the subnet plugin's challenges; exit 0 if every answer is perfect");
  cmd->add_option("--netuid", o->netuid, "Subnet")->capture_default_str();
  cmd->add_option("--uid", o->uid, "The miner's uid")->required();
  cmd->add_option("-w,--wallet", o->wallet, "Wallet of the querying hotkey")->capture_default_str();
  cmd->add_option("-k,--hotkey", o->hotkey, "The querying hotkey (a validator's)")->capture_default_str();
  cmd->add_option("--plugin", o->plugin, "Subnet plugin name or .so path")->required();
  cmd->add_option("--plugin-config", o->pluginConfig, "The plugin's validator config (YAML)");
  cmd->add_option("--subnet-path", o->subnetPath, "Directories to search for plugins (repeatable)");
  cmd->add_option("--count", o->count, "Concurrent challenges in one fan-out")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--timeout-ms", o->timeoutMs, "One deadline for all answers")->capture_default_str();
  cmd->add_flag("--signed", o->signedMode, "Sign every message instead of opening a session");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([&exitCode, o, &chain] { exitCode = runQuery(*o, chain); });
}

}  // namespace merit::cli
