// libFuzzer target: the charlm subnet's payload decoders and scorer (merit_charlm), what a miner
// and a validator read from the network: decodeRequest, decodeExpectation and bitsPerChar.
// Checks: nothing crashes or throws; an accepted request respects the limits and re-encodes to
// the same bytes; a score is finite and at least 0 bits.
//
// Input: mode:u8 ‖ rest. mode % 3 = 0: rest is a request; 1: rest is an expectation; 2: rest =
// n:u16 ‖ n expectation bytes ‖ response.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "merit/charlm/payload.h"

namespace {

namespace cl = merit::charlm;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_charlm_payload: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const cl::ByteSpan rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      const cl::RequestLimits limits{.maxContexts = 16, .maxLength = 64, .maxDistributions = 64};
      auto request = cl::decodeRequest(rest, limits);
      if (!request) break;
      if (request->contexts > limits.maxContexts || request->length > limits.maxLength ||
          request->text.size() != std::size_t{request->contexts} * request->length) {
        broken("decodeRequest accepted a request beyond its limits");
      }
      const cl::Bytes again = cl::encodeRequest(*request);
      if (!std::equal(again.begin(), again.end(), rest.begin(), rest.end())) {
        broken("decodeRequest then encodeRequest changed the bytes");
      }
      break;
    }
    case 1: {
      auto expectation = cl::decodeExpectation(rest);
      if (expectation &&
          expectation->targets.size() != std::size_t{expectation->contexts} * expectation->positions) {
        broken("decodeExpectation accepted inconsistent sizes");
      }
      break;
    }
    default: {
      if (rest.size() < 2) return 0;
      std::size_t n = rest[0] | (std::size_t{rest[1]} << 8);
      n = std::min(n, rest.size() - 2);
      auto expectation = cl::decodeExpectation(rest.subspan(2, n));
      if (!expectation) break;
      auto bits = cl::bitsPerChar(*expectation, rest.subspan(2 + n));
      if (bits && !(std::isfinite(*bits) && *bits >= 0))
        broken("bitsPerChar: not a finite number of bits >= 0");
      if (bits) {
        const double quality = cl::qualityFromBits(*bits);
        if (!(quality >= 0 && quality <= 1)) broken("qualityFromBits outside [0, 1]");
      }
      break;
    }
  }
  return 0;
}

// Seeds for the standalone driver: a real request, expectation and a uniform response.
extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  auto withMode = [](std::uint8_t mode, const cl::Bytes& body) {
    cl::Bytes seed;
    seed.reserve(body.size() + 3);
    seed.push_back(mode);
    if (mode == 2) {  // the expectation's length, then the expectation
      seed.push_back(static_cast<std::uint8_t>(body.size()));
      seed.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    }
    for (std::uint8_t b : body) seed.push_back(b);
    return seed;
  };
  const cl::Request request{
      .contexts = 2, .length = 4, .positions = {3}, .text = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}};
  out.push_back(withMode(0, cl::encodeRequest(request)));
  const cl::Expectation expectation{.contexts = 2, .positions = 1, .targets = {'x', 'y'}};
  const cl::Bytes e = cl::encodeExpectation(expectation);
  out.push_back(withMode(1, e));
  cl::Bytes scored = withMode(2, e);
  const std::vector<float> uniform(cl::kAlphabet, 1.0f / cl::kAlphabet);
  for (int i = 0; i < 2; ++i) cl::appendDistribution(uniform, scored);
  out.push_back(scored);
}
