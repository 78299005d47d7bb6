#include "merit/charlm/payload.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "merit/util/assert.h"

namespace merit::charlm {

namespace {

void putU16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}

std::uint16_t getU16(ByteSpan bytes, std::size_t at) {
  return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}

void putF32(Bytes& out, float v) {
  const auto bits = std::bit_cast<std::uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
}

float getF32(ByteSpan bytes, std::size_t at) {
  std::uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits |= static_cast<std::uint32_t>(bytes[at + i]) << (8 * i);
  return std::bit_cast<float>(bits);
}

tl::unexpected<Error> badRequest(const std::string& why) {
  return fail(ErrorCode::kInvalidArgument, "charlm request: " + why);
}

tl::unexpected<Error> badResponse(const std::string& why) {
  return fail(ErrorCode::kInvalidArgument, "charlm response: " + why);
}

}  // namespace

Bytes encodeRequest(const Request& request) {
  Bytes out;
  out.reserve(kRequestHeaderBytes + 2 * request.positions.size() + request.text.size());
  putU16(out, request.contexts);
  putU16(out, request.length);
  putU16(out, static_cast<std::uint16_t>(request.positions.size()));
  for (std::uint16_t p : request.positions) putU16(out, p);
  out.insert(out.end(), request.text.begin(), request.text.end());
  return out;
}

Result<Request> decodeRequest(ByteSpan bytes, const RequestLimits& limits) {
  if (bytes.size() < kRequestHeaderBytes) {
    return badRequest(std::to_string(bytes.size()) + " bytes is shorter than the 6-byte header");
  }
  Request r;
  r.contexts = getU16(bytes, 0);
  r.length = getU16(bytes, 2);
  const std::size_t npos = getU16(bytes, 4);
  if (r.contexts == 0 || r.contexts > limits.maxContexts) {
    return badRequest(std::to_string(r.contexts) + " contexts is outside 1.." +
                      std::to_string(limits.maxContexts));
  }
  if (r.length == 0 || r.length > limits.maxLength) {
    return badRequest("context length " + std::to_string(r.length) + " is outside 1.." +
                      std::to_string(limits.maxLength));
  }
  if (npos == 0 || npos > r.length) {
    return badRequest(std::to_string(npos) + " positions is outside 1.." + std::to_string(r.length));
  }
  if (std::size_t{r.contexts} * npos > limits.maxDistributions) {
    return badRequest(std::to_string(std::size_t{r.contexts} * npos) + " distributions exceed the limit of " +
                      std::to_string(limits.maxDistributions));
  }
  const std::size_t expected = kRequestHeaderBytes + 2 * npos + std::size_t{r.contexts} * r.length;
  if (bytes.size() != expected) {
    return badRequest(std::to_string(bytes.size()) + " bytes, expected " + std::to_string(expected));
  }
  r.positions.reserve(npos);
  for (std::size_t i = 0; i < npos; ++i) {
    const std::uint16_t p = getU16(bytes, kRequestHeaderBytes + 2 * i);
    if (p >= r.length || (!r.positions.empty() && p <= r.positions.back())) {
      return badRequest("positions must be strictly increasing and below the context length");
    }
    r.positions.push_back(p);
  }
  const auto text = bytes.subspan(kRequestHeaderBytes + 2 * npos);
  r.text.assign(text.begin(), text.end());
  return r;
}

Bytes encodeExpectation(const Expectation& expectation) {
  Bytes out;
  out.reserve(4 + expectation.targets.size());
  putU16(out, expectation.contexts);
  putU16(out, expectation.positions);
  out.insert(out.end(), expectation.targets.begin(), expectation.targets.end());
  return out;
}

Result<Expectation> decodeExpectation(ByteSpan bytes) {
  if (bytes.size() < 4) return fail(ErrorCode::kCorruption, "charlm expectation: shorter than its header");
  Expectation e;
  e.contexts = getU16(bytes, 0);
  e.positions = getU16(bytes, 2);
  const std::size_t count = std::size_t{e.contexts} * e.positions;
  if (count == 0 || bytes.size() != 4 + count) {
    return fail(ErrorCode::kCorruption,
                "charlm expectation: " + std::to_string(bytes.size()) + " bytes do not match its header");
  }
  e.targets.assign(bytes.begin() + 4, bytes.end());
  return e;
}

std::size_t responseBytes(std::size_t contexts, std::size_t positions) {
  return contexts * positions * kDistributionBytes;
}

bool appendSoftmax(std::span<const float> logits, Bytes& response) {
  if (logits.size() != kAlphabet) return false;
  float top = -std::numeric_limits<float>::infinity();
  for (float v : logits) {
    if (std::isnan(v) || v == std::numeric_limits<float>::infinity()) return false;
    top = std::max(top, v);
  }
  if (top == -std::numeric_limits<float>::infinity()) return false;  // every logit -inf
  double exps[kAlphabet];
  double sum = 0;
  for (std::size_t b = 0; b < kAlphabet; ++b) {
    exps[b] = std::exp(static_cast<double>(logits[b]) - top);
    sum += exps[b];
  }
  for (std::size_t b = 0; b < kAlphabet; ++b) putF32(response, static_cast<float>(exps[b] / sum));
  return true;
}

void appendDistribution(std::span<const float> probabilities, Bytes& response) {
  for (float p : probabilities) putF32(response, p);
}

Result<double> bitsPerChar(const Expectation& expectation, ByteSpan response) {
  const std::size_t count = std::size_t{expectation.contexts} * expectation.positions;
  if (count == 0 || expectation.targets.size() != count) {
    return fail(ErrorCode::kInternal, "charlm: inconsistent expectation");
  }
  const std::size_t want = responseBytes(expectation.contexts, expectation.positions);
  if (response.size() != want) {
    return badResponse(std::to_string(response.size()) + " bytes, expected " + std::to_string(want));
  }
  double bits = 0;
  for (std::size_t d = 0; d < count; ++d) {
    const std::size_t base = d * kDistributionBytes;
    double sum = 0;
    for (std::size_t b = 0; b < kAlphabet; ++b) {
      const float p = getF32(response, base + 4 * b);
      if (!std::isfinite(p) || p < 0.0F) {
        return badResponse("distribution " + std::to_string(d) + " holds a negative or non-finite value");
      }
      sum += p;
    }
    if (!(std::fabs(sum - 1.0) <= kSumTolerance)) {
      return badResponse("distribution " + std::to_string(d) + " sums to " + std::to_string(sum));
    }
    const double p = getF32(response, base + 4 * std::size_t{expectation.targets[d]}) / sum;
    bits -= std::log2(std::max(p, kFloor));
  }
  return bits / static_cast<double>(count);
}

double qualityFromBits(double bitsPerChar) {
  const double q = 1.0 - bitsPerChar / 8.0;
  if (std::isnan(q)) return 0.0;
  return std::clamp(q, 0.0, 1.0);
}

Challenge sampleChallenge(std::string_view text, std::uint16_t contexts, std::uint16_t length,
                          std::mt19937_64& rng) {
  MERIT_ASSERT(length >= 1 && contexts >= 1 && text.size() > length, length, contexts, text.size());
  Challenge c;
  c.request.contexts = contexts;
  c.request.length = length;
  c.request.positions = {static_cast<std::uint16_t>(length - 1)};
  c.request.text.reserve(std::size_t{contexts} * length);
  c.expectation.contexts = contexts;
  c.expectation.positions = 1;
  c.expectation.targets.reserve(contexts);
  // Offsets o with o + length < text.size(), so the target byte text[o + length] exists.
  std::uniform_int_distribution<std::size_t> offset(0, text.size() - length - 1);
  for (std::uint16_t i = 0; i < contexts; ++i) {
    const std::size_t o = offset(rng);
    c.request.text.insert(c.request.text.end(), text.begin() + static_cast<std::ptrdiff_t>(o),
                          text.begin() + static_cast<std::ptrdiff_t>(o + length));
    c.expectation.targets.push_back(static_cast<std::uint8_t>(text[o + length]));
  }
  return c;
}

}  // namespace merit::charlm
