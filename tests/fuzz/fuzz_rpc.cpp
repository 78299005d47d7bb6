// Fuzz target: the chain node's JSON-RPC request handling (RpcHandler::handle), on a real node
// with a database in a temporary directory. Every input must produce either nothing (a
// notification) or valid JSON, and never crash or throw.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "merit/chain/config.h"
#include "merit/chain/rpc_server.h"
#include "merit/util/assert.h"
#include "merit/util/log.h"

namespace {

struct Fixture {
  std::filesystem::path dir;
  merit::ManualClock clock;
  std::unique_ptr<merit::chain::Node> node;
  std::unique_ptr<merit::chain::RpcHandler> rpc;
  Fixture() {
    merit::log::setLevel(merit::log::Level::kError);
    char tmpl[] = "/tmp/merit_fuzz_rpc_XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto cfg = merit::chain::devPreset().node;
    cfg.dataDir = dir.string();
    node = std::move(merit::chain::Node::open(cfg, merit::chain::devAuthorityKey(), clock).value());
    rpc = std::make_unique<merit::chain::RpcHandler>(*node);
  }
  ~Fixture() {
    node.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  // Long waits would only slow fuzzing: cap any timeout the input asks for.
  if (body.find("wait") != std::string::npos || body.find("Wait") != std::string::npos) return 0;
  std::string out = fixture().rpc->handle(body);
  if (!out.empty()) {
    auto j = nlohmann::json::parse(out, nullptr, false);
    MERIT_ASSERT(!j.is_discarded(), out);
  }
  return 0;
}

extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  const char* seeds[] = {
      R"({"jsonrpc":"2.0","id":1,"method":"system_health"})",
      R"({"jsonrpc":"2.0","id":"a","method":"chain_getBlock","params":[0]})",
      R"({"jsonrpc":"2.0","id":2,"method":"account_get","params":{"address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}})",
      R"([{"jsonrpc":"2.0","id":1,"method":"subnet_list"},{"jsonrpc":"2.0","id":2,"method":"metagraph_get","params":[0,true,true]}])",
      R"({"jsonrpc":"2.0","id":3,"method":"author_submitExtrinsic","params":["0x0102"]})",
      R"({"jsonrpc":"2.0","id":4,"method":"neuron_get","params":[0,0]})",
      R"({"jsonrpc":"2.0","id":5,"method":"author_extrinsicStatus","params":["0x00"]})",
      R"({"jsonrpc":"2.0","method":"chain_getTotals"})",
  };
  for (const char* s : seeds) out.emplace_back(s, s + std::char_traits<char>::length(s));
}
