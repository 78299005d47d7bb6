// libFuzzer target: the daemons' YAML configuration, merit-miner's (parseMinerConfig) and
// merit-validator's (parseValidatorConfig), as an operator may write it. Any input must end in a
// config or an error naming the problem; never an exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "merit/miner/config.h"
#include "merit/validator/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  (void)merit::miner::parseMinerConfig(yaml, "miner.yaml", merit::miner::MinerConfig{});
  (void)merit::validator::parseValidatorConfig(yaml, "validator.yaml",
                                               merit::validator::ValidatorFileConfig{});
  return 0;
}
