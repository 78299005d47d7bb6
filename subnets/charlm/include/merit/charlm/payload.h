// The charlm subnet's payload (version 1) and scoring, shared by the plugin and the tests.
// Integers are little-endian; probabilities are IEEE-754 float32, little-endian.
//
//   request     = contexts:u16 ‖ length:u16 ‖ npos:u16 ‖ npos × position:u16 ‖ contexts × length bytes
//                 N contexts of T bytes each (row-major). Position p (0 ≤ p < T, strictly
//                 increasing) asks for the distribution of the byte that follows context[0..p].
//   response    = contexts × npos × 256 float32: for each context, for each requested position,
//                 P(next byte = b) for b = 0..255. Each distribution is finite, non-negative and
//                 sums to 1 within kSumTolerance. Exactly that many bytes, no header.
//   expectation = contexts:u16 ‖ npos:u16 ‖ contexts × npos target bytes (validator only)
//
// Validators ask only for the last position of each context (p = T - 1): the true next byte is
// then the one byte they did not send. Any earlier position's answer is the following byte of
// the context itself, which a miner can read, so scoring it would reward copying. Clients that
// own their text (evaluating a model, say) may ask for every position.
//
// Scoring: bits per character = mean over scored predictions of -log2(max(p / sum, kFloor)),
// where p is the probability given to the true byte and sum the distribution's total;
// quality = clamp(1 - bits_per_char / 8, 0, 1). The uniform distribution (8 bits) scores 0, a
// perfect one 1, and anything worse than uniform 0. The floor caps one zero probability's cost
// at about 20 bits instead of infinity.
//
// Thread-safety: free functions over values; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "merit/util/result.h"

namespace merit::charlm {

inline constexpr std::uint32_t kPayloadVersion = 1;
inline constexpr std::size_t kAlphabet = 256;
inline constexpr std::size_t kRequestHeaderBytes = 6;
inline constexpr std::size_t kDistributionBytes = kAlphabet * sizeof(float);
inline constexpr double kFloor = 1e-6;         // about 19.9 bits for a zero probability
inline constexpr double kSumTolerance = 1e-3;  // |sum - 1| allowed in a distribution

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

struct Request {
  std::uint16_t contexts = 0;
  std::uint16_t length = 0;
  std::vector<std::uint16_t> positions;
  Bytes text;  // contexts × length bytes, row-major

  // Bytes of context i.
  ByteSpan context(std::size_t i) const { return ByteSpan(text).subspan(i * length, length); }
};

struct Expectation {
  std::uint16_t contexts = 0;
  std::uint16_t positions = 0;
  Bytes targets;  // contexts × positions true next bytes
};

// What a miner accepts; a request beyond them is refused as invalid.
struct RequestLimits {
  std::size_t maxContexts = 256;
  std::size_t maxLength = 1024;
  std::size_t maxDistributions = 8192;  // contexts × positions: bounds the response (8 MiB)
};

Bytes encodeRequest(const Request& request);
// invalid_argument naming the problem for truncated, oversized or inconsistent bytes.
Result<Request> decodeRequest(ByteSpan bytes, const RequestLimits& limits);

Bytes encodeExpectation(const Expectation& expectation);
// corruption when the bytes are not an expectation this version wrote.
Result<Expectation> decodeExpectation(ByteSpan bytes);

// Response size for a request: contexts × positions × 256 × 4 bytes.
std::size_t responseBytes(std::size_t contexts, std::size_t positions);

// Appends softmax(logits) (256 values) to `response` as float32. Returns false, appending
// nothing, when a logit is NaN or +infinity (the model is broken).
bool appendSoftmax(std::span<const float> logits, Bytes& response);
// Appends 256 probabilities as float32.
void appendDistribution(std::span<const float> probabilities, Bytes& response);

// Bits per character of `response` against `expectation`; invalid_argument (saying why) when
// the response is the wrong size or holds a distribution that is not finite, non-negative and
// normalised. Never throws.
Result<double> bitsPerChar(const Expectation& expectation, ByteSpan response);
// clamp(1 - bits / 8, 0, 1); 0 for NaN.
double qualityFromBits(double bitsPerChar);

// A validator challenge: `contexts` windows of `length` bytes starting at uniformly random
// offsets of `text` (which must hold at least length + 1 bytes), each asking for its last
// position, with the byte after each window as the target.
struct Challenge {
  Request request;
  Expectation expectation;
};
Challenge sampleChallenge(std::string_view text, std::uint16_t contexts, std::uint16_t length,
                          std::mt19937_64& rng);

}  // namespace merit::charlm
