// libFuzzer target: merit-chain's YAML configuration (parseChainConfig), as an operator may write
// it: node settings, subnet defaults and genesis. Any input must end in a config or an error
// naming the problem; never an exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "merit/chain/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const merit::chain::ChainConfig base = merit::chain::devPreset();
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  (void)merit::chain::parseChainConfig(yaml, "fuzz.yaml", base);
  return 0;
}
