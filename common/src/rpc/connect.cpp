#include "merit/rpc/connect.h"

#include "merit/substrate/subtensor_chain.h"

namespace merit::rpc {

Result<ChainEndpoint> makeEndpoint(std::string_view backend, std::string url) {
  MERIT_ASSIGN_OR_RETURN(ChainKind kind, parseChainKind(backend));
  ChainEndpoint e{kind, std::move(url)};
  if (kind == ChainKind::kMerit) {
    if (e.url.empty()) e.url = defaultChainUrl();
    if (e.url.rfind("http://", 0) != 0) {
      return fail(ErrorCode::kInvalidArgument, "a merit chain URL starts with http:// (got '" + e.url + "')");
    }
  } else {
    if (e.url.empty()) e.url = substrate::defaultSubtensorUrl();
    if (e.url.rfind("ws://", 0) != 0 && e.url.rfind("http://", 0) != 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "a subtensor node URL starts with ws:// (got '" + e.url + "')");
    }
  }
  return e;
}

Result<std::unique_ptr<Chain>> connectChain(const ChainEndpoint& endpoint, const ClientOptions& options) {
  if (endpoint.kind == ChainKind::kMerit) {
    MERIT_ASSIGN_OR_RETURN(
        auto client, ChainClient::connect(endpoint.url.empty() ? defaultChainUrl() : endpoint.url, options));
    return std::unique_ptr<Chain>(std::move(client));
  }
  substrate::SubtensorOptions o;
  o.callTimeout = options.timeout;
  MERIT_ASSIGN_OR_RETURN(auto client, substrate::SubtensorChain::connect(endpoint.url, o));
  return std::unique_ptr<Chain>(std::move(client));
}

}  // namespace merit::rpc
