// Crash test: merit-chain is killed with SIGKILL at random moments while it processes a stream of
// transfers. After every restart, the head is at or past every block reported before the kill,
// every extrinsic reported as included is still included at the same block and position, and
// the balances equal what the stored blocks' successful transfers imply.
//
// Run once per durability mode (node.durability; docs/OPERATIONS.md, "Chain durability"):
//   test_chain_crash PATH_TO_MERIT_CHAIN [--durability=sync|group|none] [--kills=N]
// What this proves, per mode: a process crash loses nothing reported, because every mode hands
// each block's write to the OS (RocksDB's WAL, write()) before the node reports it. It cannot
// prove what an OS crash or a power loss would lose: killing the process leaves the page cache
// intact, so a mode that never syncs passes too. Those promises (sync: nothing; group: at most
// the last durability_group_ms; none: anything) rest on when the WAL is fsynced, which the unit
// tests of Store check by counting syncs, not by cutting power.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <doctest/doctest.h>

#include "merit/chain/config.h"
#include "merit/crypto/ss58.h"
#include "merit/rpc/client.h"
#include "merit/rpc_json/call.h"

#include "process.h"
#include "test_support.h"

namespace merit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* g_chainBinary = nullptr;
std::string g_durability = "sync";
int g_kills = 20;
constexpr int kAccounts = 4;
constexpr tx::Balance kGenesis = 1'000'000'000'000;

crypto::PrivateKey keyOf(int n) {
  return test::testKey(n, 0x7c);
}

struct Started {
  std::unique_ptr<test::ChildProcess> process;
  std::unique_ptr<rpc::ChainClient> client;
};

Started startChain(const fs::path& dir) {
  const fs::path config = dir / "durability.yaml";
  {
    std::ofstream f(config);
    // A group interval longer than the block time, so several blocks are unsynced at a kill.
    f << "node:\n  durability: " << g_durability << "\n  durability_group_ms: 200\n";
  }
  std::vector<std::string> argv = {
      g_chainBinary,           "--dev",      "--config",    config.string(), "--data-dir",
      (dir / "data").string(), "--rpc-port", "0",           "--feed",        "tcp://127.0.0.1:0",
      "--block-time-ms",       "40",         "--log-level", "warn"};
  for (int i = 0; i < kAccounts; ++i) {
    argv.push_back("--fund");
    argv.push_back(crypto::ss58Address(keyOf(i).publicKey()) + "=" + std::to_string(kGenesis));
  }
  Started s;
  s.process = std::make_unique<test::ChildProcess>(argv, (dir / "chain.log").string());
  json ready = s.process->readyLine();
  REQUIRE_MESSAGE(ready.is_object(), "merit-chain did not start; see " << (dir / "chain.log").string());
  rpc::ClientOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.retries = 0;
  auto client = rpc::ChainClient::connect(ready["rpc"].get<std::string>(), o);
  REQUIRE(client);
  s.client = std::move(*client);
  return s;
}

TEST_CASE("SIGKILL at random moments loses no included block or extrinsic") {
  MESSAGE("durability " << g_durability << ", " << g_kills << " kills");
  REQUIRE(g_chainBinary != nullptr);
  char tmpl[] = "/tmp/merit_crash_XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  std::mt19937 rng(20261122);

  struct Reported {
    std::uint64_t block;
    std::uint32_t index;
  };
  std::map<std::string, Reported> reported;  // hex hash -> where the node said it was included
  std::uint64_t highestReportedBlock = 0;
  crypto::Hash256 genesis{};

  for (int round = 0; round < g_kills; ++round) {
    CAPTURE(round);
    Started s = startChain(dir);
    if (round == 0) genesis = s.client->genesisHash();
    CHECK(s.client->genesisHash() == genesis);

    // After a restart: everything reported before is intact.
    auto head = s.client->headNumber();
    REQUIRE(head);
    CHECK(*head >= highestReportedBlock);
    for (const auto& [hash, where] : reported) {
      auto st = rpc_json::call(*s.client, "author_extrinsicStatus", json::array({hash}));
      REQUIRE(st);
      CHECK((*st)["status"] == "included");
      CHECK((*st)["block"] == where.block);
      CHECK((*st)["index"] == where.index);
    }

    // Stream transfers for a random time, recording what the node reports as included.
    auto killAt = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 400);
    std::vector<crypto::Hash256> outstanding;
    while (std::chrono::steady_clock::now() < killAt) {
      int from = static_cast<int>(rng() % kAccounts);
      int to = static_cast<int>(rng() % kAccounts);
      tx::Balance amount = 1 + rng() % 1000;
      auto sub = s.client->submit(keyOf(from), tx::Transfer{keyOf(to).publicKey().accountId(), amount},
                                  std::chrono::milliseconds(0));
      if (sub) outstanding.push_back(sub->hash);
      for (auto it = outstanding.begin(); it != outstanding.end();) {
        auto st = rpc_json::call(*s.client, "author_extrinsicStatus", json::array({"0x" + toHex(*it)}));
        if (st && (*st)["status"] == "included") {
          std::uint64_t b = (*st)["block"];
          reported["0x" + toHex(*it)] = Reported{b, (*st)["index"].get<std::uint32_t>()};
          highestReportedBlock = std::max(highestReportedBlock, b);
          it = outstanding.erase(it);
        } else {
          ++it;
        }
      }
    }
    s.process->kill(SIGKILL);
  }

  // Final audit: replay every stored block's transfers and compare with the chain's balances.
  Started s = startChain(dir);
  auto head = s.client->headNumber();
  REQUIRE(head);
  std::map<tx::AccountId, tx::Balance> expected;
  for (int i = 0; i < kAccounts; ++i) expected[keyOf(i).publicKey().accountId()] = kGenesis;
  std::size_t included = 0;
  for (std::uint64_t n = 1; n <= *head; ++n) {
    auto blk = rpc_json::call(*s.client, "chain_getBlock", json::array({n}));
    REQUIRE(blk);
    for (const auto& x : (*blk)["extrinsics"]) {
      auto bytes = fromHex(x["hex"].get<std::string>());
      REQUIRE(bytes);
      auto xt = tx::decodeExtrinsic(*bytes);
      REQUIRE(xt);
      ++included;
      if (!x["success"].get<bool>()) continue;
      const auto& t = std::get<tx::Transfer>(xt->call);
      expected[xt->signerAccount()] -= t.amount;
      expected[t.dest] += t.amount;
    }
  }
  for (const auto& [account, balance] : expected) {
    auto acc = rpc_json::call(*s.client, "account_get", json::array({crypto::ss58Encode(account)}));
    REQUIRE(acc);
    CHECK((*acc)["free"].get<tx::Balance>() == balance);
  }
  MESSAGE("blocks: " << *head << ", extrinsics included: " << included
                     << ", reported before kills: " << reported.size());
  CHECK(reported.size() > 20);
  s.process->kill(SIGTERM);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace merit

int main(int argc, char** argv) {
  // Usage: test_chain_crash PATH_TO_MERIT_CHAIN [--durability=MODE] [--kills=N] [doctest options]
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: %s PATH_TO_MERIT_CHAIN [--durability=sync|group|none] [--kills=N] [doctest options]\n",
        argv[0]);
    return 2;
  }
  merit::g_chainBinary = argv[1];
  std::vector<char*> rest = {argv[0]};
  for (int i = 2; i < argc; ++i) {
    if (std::strncmp(argv[i], "--durability=", 13) == 0) {
      merit::g_durability = argv[i] + 13;
    } else if (std::strncmp(argv[i], "--kills=", 8) == 0) {
      merit::g_kills = std::atoi(argv[i] + 8);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!merit::chain::parseDurability(merit::g_durability) || merit::g_kills < 1) {
    std::fprintf(stderr, "bad --durability or --kills\n");
    return 2;
  }
  doctest::Context ctx;
  ctx.applyCommandLine(static_cast<int>(rest.size()), rest.data());
  return ctx.run();
}
