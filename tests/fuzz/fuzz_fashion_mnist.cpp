// The fashion_mnist subnet's parsers of untrusted bytes: IDX files (a data directory may hold
// anything), the miner's request decoder and the validator's response scorer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "merit/util/assert.h"

#include "fashion_mnist_data.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fm = merit::fashion_mnist;
  const std::span<const std::uint8_t> bytes(data, size);

  if (auto idx = fm::parseIdx(bytes, "fuzz", 1 << 20)) {
    std::size_t total = 1;
    for (auto d : idx->dims) total *= d;
    MERIT_ASSERT(idx->data.size() == total, idx->data.size(), total);
  }

  if (auto pixels = fm::decodeRequest(bytes, 256)) {
    MERIT_ASSERT(!pixels->empty() && pixels->size() % fm::kPixels == 0, pixels->size());
    MERIT_ASSERT(pixels->size() / fm::kPixels <= 256, pixels->size());
  }

  // First byte: how many labels (1..16) follow; the rest is the response.
  if (size >= 1) {
    const std::size_t n = std::size_t{data[0]} % 16 + 1;
    if (size >= 1 + n) {
      std::uint8_t labels[16];
      for (std::size_t i = 0; i < n; ++i) labels[i] = data[1 + i] % 10;
      const double q = fm::scoreResponse(std::span<const std::uint8_t>(labels, n), bytes.subspan(1 + n),
                                         fm::ScoreOptions{});
      MERIT_ASSERT(q >= 0.0 && q <= 1.0, q);
    }
  }
  return 0;
}
