// Attacks on a real merit-chain process (and the real `merit` CLI), each followed by honest
// traffic that must still work:
//
//   - pool pinning: 100 fresh keys flood the mempool with signed future-nonce extrinsics (80 of
//     them unfunded, 20 funded), then an honest transfer and an honest set_weights must both be
//     included within two blocks, and the attackers' entries must expire.
//   - signing a transaction through `merit wallet sign --hex`: the exact signing bytes of a
//     transfer, signed as a "message", must not make a valid extrinsic signature.
//   - a chain started without --dev (an authority key file, fees on): an unfunded key is refused,
//     and serve_axon refuses unspecified, loopback and link-local addresses (LocalIpAddress)
//     while a routable one is stored; system_info reports "dev": false.
//   - a genesis whose balances could overflow stake must be refused when merit-chain starts,
//     naming the file and key (or the --fund argument).
//
//   test_chain_hostile PATH_TO_MERIT_CHAIN PATH_TO_MERIT [doctest options]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>

#include "merit/crypto/ss58.h"
#include "merit/crypto/wallet.h"
#include "merit/tx/extrinsic.h"

#include "process.h"
#include "test_support.h"

namespace merit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* g_chainBinary = nullptr;
const char* g_meritBinary = nullptr;

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n, 0x5e);
}

// A running merit-chain and a plain JSON-RPC connection to it (batches included).
class Chain {
 public:
  Chain(const fs::path& dir, std::vector<std::string> extra, int blockTimeMs, bool dev = true) {
    std::vector<std::string> argv = {
        g_chainBinary,       "--data-dir",      (dir / "data").string(),     "--rpc-port",  "0",   "--feed",
        "tcp://127.0.0.1:0", "--block-time-ms", std::to_string(blockTimeMs), "--log-level", "warn"};
    if (dev) argv.push_back("--dev");
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_log = (dir / "chain.log").string();
    m_process = std::make_unique<test::ChildProcess>(argv, m_log);
    json ready = m_process->readyLine();
    REQUIRE_MESSAGE(ready.is_object(), "merit-chain did not start; see " << m_log);
    std::string url = ready["rpc"].get<std::string>();
    m_http = std::make_unique<httplib::Client>(url);
    m_http->set_read_timeout(60, 0);
    m_http->set_keep_alive(true);
    auto genesis = fromHex(call("system_info")["genesis_hash"].get<std::string>());
    REQUIRE(genesis);
    std::copy(genesis->begin(), genesis->end(), m_genesis.begin());
  }
  ~Chain() { m_process->kill(SIGTERM); }

  // One JSON-RPC body; the parsed reply (an array for a batch).
  json post(const json& body) {
    auto res = m_http->Post("/", body.dump(), "application/json");
    REQUIRE_MESSAGE(res, "RPC transport error: " << httplib::to_string(res.error()) << "; see " << m_log);
    return json::parse(res->body);
  }
  json call(const std::string& method, json params = json::array()) {
    json reply = post({{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}});
    REQUIRE_MESSAGE(reply.contains("result"), method << ": " << reply.dump());
    return reply["result"];
  }
  std::uint64_t head() { return call("chain_getHead")["number"].get<std::uint64_t>(); }
  const crypto::Hash256& genesis() const { return m_genesis; }

  // Waits (generously: a loaded machine) until the extrinsic leaves "pending".
  json waitFinal(const std::string& hash, std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    json st;
    while (std::chrono::steady_clock::now() < deadline) {
      st = call("author_extrinsicStatus", json::array({hash}));
      if (st["status"] != "pending") return st;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return st;
  }

 private:
  std::string m_log;
  std::unique_ptr<test::ChildProcess> m_process;
  std::unique_ptr<httplib::Client> m_http;
  crypto::Hash256 m_genesis{};
};

std::string hexOf(const tx::Extrinsic& xt) {
  return "0x" + toHex(tx::encodeExtrinsic(xt));
}

json submitRequest(const std::string& hex, int id) {
  return {
      {"jsonrpc", "2.0"}, {"id", id}, {"method", "author_submitExtrinsic"}, {"params", json::array({hex})}};
}

// Runs a shell command; its stdout and exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int status = ::pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_CASE(
    "pool pinning: 100 fresh keys flood future nonces; honest transfer and set_weights land within two "
    "blocks") {
  // Fails at 8f8197f (checked): the unfunded keys' future nonces were accepted (validate()
  // answered "Future" before looking at the balance) and nothing expired them: 20 000 of the
  // 25 600 were accepted, filling the pool, and the honest transfer was refused with
  // "PoolFull: try again later".
  test::TempDir dir("merit_pool_pinning");
  const auto owner = keyOf(1), coldkey = keyOf(2), hotkey = keyOf(3);
  constexpr int kUnfunded = 80, kFunded = 20, kNoncesEach = 256;
  std::vector<crypto::PrivateKey> attackers;
  attackers.reserve(kUnfunded + kFunded);
  for (int i = 0; i < kUnfunded + kFunded; ++i) attackers.push_back(keyOf(1000 + i));

  // Genesis: the subnet owner, the honest validator's coldkey, and the funded attackers. A subnet
  // of the hash plugin with no weights rate limit, so the honest set_weights is allowed at once.
  std::string yaml = "genesis:\n  balances:\n";
  auto fund = [&](const crypto::PrivateKey& k, tx::Balance amount) {
    yaml += "    - {address: " + crypto::ss58Address(k.publicKey()) + ", amount: " + std::to_string(amount) +
            "}\n";
  };
  fund(owner, 1000 * tx::kRaoPerMerit);
  fund(coldkey, 1000 * tx::kRaoPerMerit);
  for (int i = kUnfunded; i < kUnfunded + kFunded; ++i) fund(attackers[i], tx::kRaoPerMerit);
  yaml += "  subnets:\n    - owner: " + crypto::ss58Address(owner.publicKey()) +
          "\n      plugin: hash\n      hyperparameters: {weights_rate_limit: 0}\n";
  std::ofstream(dir.path() / "chain.yaml") << yaml;
  // 100 ms blocks so the expiry (64 blocks) is seen in seconds.
  Chain chain(dir.path(), {"--config", (dir.path() / "chain.yaml").string()}, 100);

  // The honest validator registers its hotkey before the attack.
  const std::uint64_t start = chain.head();
  auto reg =
      tx::signExtrinsic(coldkey, chain.genesis(), 0, start + 1000, tx::BurnedRegister{1, hotkey.publicKey()});
  auto regHash = chain.call("author_submitExtrinsic", json::array({hexOf(reg)})).get<std::string>();
  auto regStatus = chain.waitFinal(regHash);
  REQUIRE_MESSAGE(regStatus["status"] == "included", regStatus.dump());
  REQUIRE(regStatus["success"] == true);

  // The attack: every key signs transfers for nonces 1..256 (never 0, so none is ever eligible),
  // valid for a long time, sent in batches of 100.
  const std::uint64_t attackHead = chain.head();
  std::map<std::string, int> outcomes;  // "accepted" or the refusal's name -> count
  std::vector<json> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    json replies = chain.post(json(batch));
    REQUIRE(replies.is_array());
    for (const auto& r : replies) {
      if (r.contains("result")) {
        ++outcomes["accepted"];
      } else {
        ++outcomes[r["error"].value("data", json::object()).value("name", std::string("?"))];
      }
    }
    batch.clear();
  };
  const auto sink = keyOf(9).publicKey().accountId();
  for (const auto& k : attackers) {
    for (std::uint64_t nonce = 1; nonce <= kNoncesEach; ++nonce) {
      auto xt = tx::signExtrinsic(k, chain.genesis(), nonce, attackHead + 1'000'000, tx::Transfer{sink, 1});
      batch.push_back(submitRequest(hexOf(xt), static_cast<int>(batch.size())));
      if (batch.size() == 100) flush();
    }
  }
  flush();
  std::string summary;
  for (const auto& [name, count] : outcomes) summary += name + "=" + std::to_string(count) + " ";
  MESSAGE("attack outcomes: " << summary);
  auto health = chain.call("system_health");
  MESSAGE("pool after the attack: " << health.dump());

  // The attack itself gained at most 16 future slots per funded key, none for the unfunded ones.
  CHECK(outcomes["accepted"] <= kFunded * 16);
  CHECK(outcomes["Payment"] >= kUnfunded * kNoncesEach);
  CHECK(health["mempool"].get<std::size_t>() <= static_cast<std::size_t>(kFunded * 16));

  // Honest traffic: a transfer by the coldkey and a set_weights by the hotkey, submitted in one
  // request right after reading the head, must both be included within two blocks.
  auto transfer = tx::signExtrinsic(coldkey, chain.genesis(), 1, attackHead + 1000,
                                    tx::Transfer{owner.publicKey().accountId(), tx::kRaoPerMerit});
  auto weights =
      tx::signExtrinsic(hotkey, chain.genesis(), 0, attackHead + 1000, tx::SetWeights{1, {0}, {65535}, 0});
  json honest = chain.post(json::array({{{"jsonrpc", "2.0"}, {"id", 0}, {"method", "chain_getHead"}},
                                        submitRequest(hexOf(transfer), 1),
                                        submitRequest(hexOf(weights), 2)}));
  REQUIRE(honest.is_array());
  REQUIRE(honest.size() == 3);
  std::map<int, json> byId;
  for (const auto& r : honest) byId[r["id"].get<int>()] = r;
  const std::uint64_t submittedAt = byId[0]["result"]["number"].get<std::uint64_t>();
  REQUIRE_MESSAGE(byId[1].contains("result"), "honest transfer refused: " << byId[1].dump());
  REQUIRE_MESSAGE(byId[2].contains("result"), "honest set_weights refused: " << byId[2].dump());
  for (int id : {1, 2}) {
    auto st = chain.waitFinal(byId[id]["result"].get<std::string>());
    CAPTURE(st.dump());
    CHECK(st["status"] == "included");
    CHECK(st["success"] == true);
    CHECK(st.value("block", std::uint64_t{0}) <= submittedAt + 2);
  }
  auto neuron = chain.call("neuron_get", json::array({1, 0}));
  MESSAGE("honest neuron: " << neuron.dump().substr(0, 300));

  // Nothing the attack left behind outlives the pool's longevity (64 blocks after submission).
  const std::uint64_t expiry = chain.head() + 64 + 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (chain.head() < expiry && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  health = chain.call("system_health");
  CHECK(health["mempool"] == 0);
  CHECK(health["mempool_bytes"] == 0);
  // And the chain still serves an honest transfer.
  auto after = tx::signExtrinsic(coldkey, chain.genesis(), 2, chain.head() + 100,
                                 tx::Transfer{owner.publicKey().accountId(), 1});
  auto afterStatus =
      chain.waitFinal(chain.call("author_submitExtrinsic", json::array({hexOf(after)})).get<std::string>());
  CHECK(afterStatus["status"] == "included");
}

TEST_CASE("merit wallet sign --hex over a transfer's signing bytes does not make an extrinsic signature") {
  // Fails at 8f8197f (checked): `merit wallet sign` signed BLAKE2b-256 of the raw bytes, which is
  // exactly the extrinsic signature; the chain accepted the forged transfer into its pool.
  test::TempDir dir("merit_sign_domain");
  const auto hot = keyOf(20), dest = keyOf(21);
  ::setenv("MERIT_HOME", (dir.path() / "home").c_str(), 1);
  crypto::Wallet wallet(dir.path() / "home", "victim");
  REQUIRE(wallet.writeHotkey("default", hot, false));
  const std::string address = crypto::ss58Address(hot.publicKey());
  Chain chain(dir.path(), {"--fund", address + "=" + std::to_string(100 * tx::kRaoPerMerit)}, 100);

  const std::uint64_t validUntil = chain.head() + 1000;
  const tx::Call call = tx::Transfer{dest.publicKey().accountId(), 50 * tx::kRaoPerMerit};
  const Bytes payload = tx::signingPayload(chain.genesis(), hot.publicKey(), 0, validUntil, call);

  // The user is talked into signing "a message" that is really the transfer's signing bytes.
  auto sigOutRun =
      run(std::string(g_meritBinary) + " wallet sign -w victim --hex " + toHex(payload) + " 2>/dev/null");
  std::string& sigOut = sigOutRun.first;  // named: clang 14 lambdas cannot capture bindings
  const int signRc = sigOutRun.second;
  REQUIRE(signRc == 0);
  while (!sigOut.empty() && (sigOut.back() == '\n' || sigOut.back() == '\r')) sigOut.pop_back();
  auto sig = crypto::Signature::fromHex(sigOut);
  REQUIRE_MESSAGE(sig, "merit wallet sign printed '" << sigOut << "'");
  // It is a good message signature: `merit wallet verify` accepts it, with the same wrapping.
  auto verifyOutRun = run(std::string(g_meritBinary) + " wallet verify --hex " + toHex(payload) + " -s " +
                          sigOut + " -a " + address + " 2>&1");
  std::string& verifyOut = verifyOutRun.first;  // named: clang 14 lambdas cannot capture bindings
  const int verifyRc = verifyOutRun.second;
  CHECK_MESSAGE(verifyRc == 0, verifyOut);

  // ...but as an extrinsic signature the chain refuses it.
  tx::Extrinsic forged{hot.publicKey(), 0, validUntil, call, *sig};
  json reply = chain.post(submitRequest(hexOf(forged), 1));
  CAPTURE(reply.dump());
  REQUIRE(reply.contains("error"));
  CHECK(reply["error"]["data"]["name"] == "BadSignature");
  auto account = chain.call("account_get", json::array({crypto::ss58Address(dest.publicKey())}));
  CHECK(account["free"] == 0);

  // The proper path still works: the same transfer signed as an extrinsic is included.
  auto real = tx::signExtrinsic(hot, chain.genesis(), 0, validUntil, call);
  auto st =
      chain.waitFinal(chain.call("author_submitExtrinsic", json::array({hexOf(real)})).get<std::string>());
  CHECK(st["status"] == "included");
  CHECK(st["success"] == true);
  account = chain.call("account_get", json::array({crypto::ss58Address(dest.publicKey())}));
  CHECK(account["free"] == 50 * tx::kRaoPerMerit);
}

TEST_CASE("a chain without --dev: fees on, local axon addresses refused, system_info says dev false") {
  // Fails at 8f8197f (checked): system_info had no "dev", 127.0.0.2, 169.254.1.1 and 0.0.0.0 were
  // stored as axons, and 127.0.0.1 was refused only with the generic InvalidIpAddress.
  test::TempDir dir("merit_nondev");
  const auto authority = keyOf(40), coldkey = keyOf(41), hotkey = keyOf(42), stranger = keyOf(43);
  auto keyfile = crypto::encodeKeyfile(authority, nullptr, crypto::KdfParams::interactive());
  REQUIRE(keyfile);
  std::ofstream(dir.path() / "authority.key") << *keyfile;
  std::ofstream(dir.path() / "chain.yaml")
      << "authority:\n  key_file: " << (dir.path() / "authority.key").string() << "\n"
      << "genesis:\n  balances:\n"
      << "    - {address: " << crypto::ss58Address(coldkey.publicKey()) << ", amount: 1000000000000}\n"
      << "    - {address: " << crypto::ss58Address(hotkey.publicKey()) << ", amount: 1000000000}\n"
      << "  subnets:\n    - owner: " << crypto::ss58Address(coldkey.publicKey())
      << "\n      plugin: hash\n      hyperparameters: {serving_rate_limit: 0}\n";
  Chain chain(dir.path(), {"--config", (dir.path() / "chain.yaml").string()}, 100, /*dev=*/false);

  auto info = chain.call("system_info");
  CHECK(info["dev"] == false);
  CHECK(info["local_axons_allowed"] == false);
  const tx::Balance fee = info.value("extrinsic_fee", tx::Balance{0});
  CHECK(fee > 0);

  // Fees on: an unfunded key cannot queue anything, not even its next nonce.
  auto poor = tx::signExtrinsic(stranger, chain.genesis(), 0, chain.head() + 100,
                                tx::Transfer{coldkey.publicKey().accountId(), 0});
  json refused = chain.post(submitRequest(hexOf(poor), 1));
  CHECK(refused["error"]["data"]["name"] == "Payment");

  std::uint64_t coldNonce = 0, hotNonce = 0;
  auto include = [&](const crypto::PrivateKey& k, std::uint64_t& nonce, tx::Call call) {
    auto xt = tx::signExtrinsic(k, chain.genesis(), nonce++, chain.head() + 100, std::move(call));
    json reply = chain.post(submitRequest(hexOf(xt), 1));
    REQUIRE_MESSAGE(reply.contains("result"), reply.dump());
    auto st = chain.waitFinal(reply["result"].get<std::string>());
    REQUIRE_MESSAGE(st["status"] == "included", st.dump());
    return st;
  };
  REQUIRE(include(coldkey, coldNonce, tx::BurnedRegister{1, hotkey.publicKey()})["success"] == true);

  auto axon = [](std::array<std::uint8_t, 16> ip, std::uint8_t type) {
    tx::ServeAxon a{};
    a.netuid = 1;
    a.version = 1;
    a.ip = ip;
    a.port = 8091;
    a.ipType = type;
    return a;
  };
  auto v4 = [](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d};
  };
  std::array<std::uint8_t, 16> loop6{};
  loop6[15] = 1;
  std::array<std::uint8_t, 16> mapped{};
  mapped[10] = mapped[11] = 0xff;
  mapped[12] = 127;
  mapped[15] = 1;
  const std::vector<std::pair<std::string, tx::ServeAxon>> local = {
      {"127.0.0.1", axon(v4(127, 0, 0, 1), 4)},
      {"127.0.0.2", axon(v4(127, 0, 0, 2), 4)},
      {"169.254.1.1", axon(v4(169, 254, 1, 1), 4)},
      {"0.0.0.0", axon(v4(0, 0, 0, 0), 4)},
      {"::1", axon(loop6, 6)},
      {"::ffff:127.0.0.1", axon(mapped, 6)},
  };
  for (const auto& entry : local) {
    const auto& name = entry.first;  // named: clang 14 lambdas (doctest messages) cannot capture bindings
    const auto& a = entry.second;
    CAPTURE(name);
    auto st = include(hotkey, hotNonce, a);
    CHECK(st["success"] == false);
    CHECK(st["error"] == "LocalIpAddress");
  }
  CHECK(chain.call("neuron_get", json::array({1, 0}))["axon"].is_null());
  // A routable address is stored (and the hotkey paid the fee for every attempt).
  REQUIRE(include(hotkey, hotNonce, axon(v4(203, 0, 113, 7), 4))["success"] == true);
  CHECK(chain.call("neuron_get", json::array({1, 0}))["axon"]["ip"] == "203.0.113.7");
  auto hot = chain.call("account_get", json::array({crypto::ss58Address(hotkey.publicKey())}));
  CHECK(hot["free"].get<tx::Balance>() == 1'000'000'000 - hotNonce * fee);
}

TEST_CASE("a genesis whose balances could overflow stake is refused when merit-chain starts") {
  // Fails at 8f8197f (checked): only a sum above 2^64 - 1 was refused, so these genesis totals
  // (1.8e19 and 1e19 rao, both above the 2^63 total stake the epoch accepts) started a node that
  // could be made to abort later by staking them: it kept running until timeout (exit 124).
  test::TempDir dir("merit_genesis_overflow");
  const std::string a = crypto::ss58Address(keyOf(30).publicKey()),
                    b = crypto::ss58Address(keyOf(31).publicKey());
  std::ofstream(dir.path() / "big.yaml")
      << "genesis:\n  balances:\n    - {address: " << a
      << ", amount: 9000000000000000000}\n    - {address: " << b << ", amount: 9000000000000000000}\n";
  // timeout: an old node that accepts the genesis would otherwise run forever.
  const std::string chainCmd = "timeout 15 " + std::string(g_chainBinary) +
                               " --dev --rpc-port 0 --feed tcp://127.0.0.1:0 --data-dir " +
                               (dir.path() / "data").string();
  auto outRun = run(chainCmd + " --config " + (dir.path() / "big.yaml").string() + " 2>&1 </dev/null");
  std::string& out = outRun.first;  // named: clang 14 lambdas cannot capture bindings
  const int rc = outRun.second;
  CHECK(rc == 2);
  CHECK_MESSAGE(out.find("big.yaml: genesis.balances[0].amount: the genesis balances add up to more than") !=
                    std::string::npos,
                out);
  CHECK_FALSE(fs::exists(dir.path() / "data" / "chain.db"));

  // The same through --fund: the argument that crosses the limit is named.
  auto out2Run = run(chainCmd + "2 --fund " + a + "=3000000000000000000 --fund " + b +
                     "=7000000000000000000 2>&1 </dev/null");
  std::string& out2 = out2Run.first;  // named: clang 14 lambdas cannot capture bindings
  const int rc2 = out2Run.second;
  CHECK(rc2 == 2);
  CHECK_MESSAGE(
      out2.find("--fund " + b + "=7000000000000000000: the genesis balances add up") != std::string::npos,
      out2);
}

}  // namespace
}  // namespace merit

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PATH_TO_MERIT_CHAIN PATH_TO_MERIT [doctest options]\n", argv[0]);
    return 2;
  }
  merit::g_chainBinary = argv[1];
  merit::g_meritBinary = argv[2];
  doctest::Context ctx;
  ctx.applyCommandLine(argc - 2, argv + 2);
  return ctx.run();
}
