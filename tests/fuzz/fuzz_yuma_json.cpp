// libFuzzer target: `merit yuma epoch` on arbitrary bytes. Parses (with validation), runs the
// epoch on whatever parses, formats the output, and checks invariants that hold for every valid
// input. Any crash, sanitizer report or failed check is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string_view>

#include "merit/consensus/epoch.h"
#include "merit/consensus_json/epoch_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto input = merit::consensus::parseEpochInput(text);
  if (!input) return 0;
  auto output = merit::consensus::runEpoch(*input);
  if (!output) std::abort();  // parseEpochInput already validated the input
  const std::size_t n = input->neurons.size();
  if (output->emission.size() != n || output->bonds.size() != n) std::abort();
  uint64_t total = std::accumulate(output->emission.begin(), output->emission.end(), uint64_t{0});
  if (total > input->raoEmission) std::abort();
  (void)merit::consensus::formatEpochOutput(*output);
  return 0;
}
