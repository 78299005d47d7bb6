#include "merit/rpc/chain.h"

namespace merit::rpc {

std::string_view chainKindName(ChainKind kind) {
  switch (kind) {
    case ChainKind::kMerit: return "merit";
    case ChainKind::kSubtensor: return "subtensor";
  }
  return "unknown";
}

Result<ChainKind> parseChainKind(std::string_view name) {
  if (name == "merit" || name.empty()) return ChainKind::kMerit;
  if (name == "subtensor") return ChainKind::kSubtensor;
  return fail(ErrorCode::kInvalidArgument,
              "unknown chain backend '" + std::string(name) + "' (merit or subtensor)");
}

std::string Submission::errorText() const {
  return error ? error->toString() : std::string();
}

}  // namespace merit::rpc
