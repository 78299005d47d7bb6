// libFuzzer target: `merit localnet`'s YAML configuration (parseConfig), as a user may write it:
// chain settings, daemon defaults and subnets with their miners and validators. Any input must
// end in a config or an error naming the problem; never an exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "localnet_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  (void)merit::cli::localnet::parseConfig(yaml, "localnet.yaml");
  return 0;
}
