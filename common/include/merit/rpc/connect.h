// Connecting to a chain by configuration: one entry point for the miner, the validator and the
// CLI, whichever backend the endpoint names (merit/rpc/chain.h).
//
// Thread-safety: free functions; the returned Chain documents its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "merit/rpc/chain.h"
#include "merit/rpc/client.h"

namespace merit::rpc {

// "merit"/"subtensor" and a URL (empty: the backend's default) as an endpoint; a bad backend
// name or a URL of the wrong scheme for it is kInvalidArgument.
Result<ChainEndpoint> makeEndpoint(std::string_view backend, std::string url);

// Connects to the endpoint: merit-chain over HTTP, or a Substrate node over WebSocket (reading
// its runtime version and metadata). Transport failures are kUnavailable/kDeadlineExceeded, so
// retryChain() waits for a node that is not up yet.
Result<std::unique_ptr<Chain>> connectChain(const ChainEndpoint& endpoint, const ClientOptions& options = {});

}  // namespace merit::rpc
