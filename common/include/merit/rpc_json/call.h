// merit_rpc_json: merit-chain's raw JSON-RPC as nlohmann::json, for the CLI, tests and benchmarks
// that read methods merit_rpc has no typed read for (chain_getBlock, metagraph_get with weights,
// system_health, ...). merit_rpc itself stays JSON-free at its interface (merit/rpc/client.h);
// this header-only library is the one place where its raw call meets nlohmann.
//
// Each call prints the params, and merit_rpc re-prints the result that this parses again: fine
// for tools, not for a hot path (the daemons read through rpc::Chain's typed calls).
//
// Thread-safety: as ChainClient (calls are serialised per client).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "merit/rpc/client.h"
#include "merit/util/result.h"

namespace merit::rpc_json {

// One JSON-RPC call (rpc::ChainClient::callText) with params and result as JSON. Errors are
// callText's: kInvalidArgument, kOverloaded (-32001) or kNotFound (-32002) with the server's
// message, kUnavailable when the node cannot be reached or does not answer JSON.
inline Result<nlohmann::json> call(rpc::ChainClient& client, std::string_view method,
                                   const nlohmann::json& params = nlohmann::json::array(),
                                   std::chrono::milliseconds extraTimeout = std::chrono::milliseconds(0)) {
  MERIT_ASSIGN_OR_RETURN(std::string result, client.callText(method, params.dump(), extraTimeout));
  nlohmann::json j = nlohmann::json::parse(result, nullptr, false);
  if (j.is_discarded()) {
    return fail(ErrorCode::kUnavailable, client.url() + ": malformed result of " + std::string(method));
  }
  return j;
}

}  // namespace merit::rpc_json
