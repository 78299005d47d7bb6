// merit_rpc's private JSON side of the metagraph: ChainClient hands metagraph_get's parsed reply
// over without printing and re-parsing it.
#pragma once

#include <nlohmann/json.hpp>

#include "merit/rpc/metagraph.h"

namespace merit::rpc {

// Parses metagraph_get's result; malformed input is kInvalidArgument naming the field.
Result<Metagraph> parseMetagraphJson(const nlohmann::json& j);

}  // namespace merit::rpc
