#include "merit/crypto/merlin.h"

#include "merit/crypto/secret.h"
#include "merit/util/assert.h"

namespace merit::crypto {

namespace {

constexpr std::array<std::uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// Rotation offsets of the rho step, indexed x + 5y, from the walk (x, y) -> (y, 2x + 3y) that
// starts at (1, 0) with offset (t + 1)(t + 2) / 2 at step t.
constexpr std::array<unsigned, 25> rhoOffsets() {
  std::array<unsigned, 25> r{};
  unsigned x = 1, y = 0;
  for (unsigned t = 0; t < 24; ++t) {
    r[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
    unsigned nx = y, ny = (2 * x + 3 * y) % 5;
    x = nx;
    y = ny;
  }
  return r;
}
constexpr std::array<unsigned, 25> kRho = rhoOffsets();

constexpr std::uint64_t rotl(std::uint64_t v, unsigned n) {
  return n == 0 ? v : (v << n) | (v >> (64 - n));
}

// STROBE flags.
constexpr std::uint8_t kFlagI = 1, kFlagA = 2, kFlagC = 4, kFlagT = 8, kFlagM = 16, kFlagK = 32;
constexpr std::uint8_t kRate = 166;  // 200 - 128 / 4 - 2

ByteView label(std::string_view s) {
  return asBytes(s);
}

ByteArray<4> le32(std::size_t n) {
  MERIT_ASSERT(n <= 0xFFFFFFFFu, n);
  ByteArray<4> out;
  for (int i = 0; i < 4; ++i) out[i] = std::byte(static_cast<std::uint8_t>(n >> (8 * i)));
  return out;
}

}  // namespace

void keccakF1600(std::array<std::uint64_t, 25>& a) {
  std::array<std::uint64_t, 5> c{};
  std::array<std::uint64_t, 25> b{};
  for (std::uint64_t rc : kRoundConstants) {
    // theta
    for (unsigned x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (unsigned x = 0; x < 5; ++x) {
      std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (unsigned y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    // rho and pi: B[y, 2x + 3y] = rot(A[x, y])
    for (unsigned x = 0; x < 5; ++x) {
      for (unsigned y = 0; y < 5; ++y) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], kRho[x + 5 * y]);
    }
    // chi
    for (unsigned y = 0; y < 25; y += 5) {
      for (unsigned x = 0; x < 5; ++x) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
    }
    // iota
    a[0] ^= rc;
  }
  secureZero(b.data(), sizeof(b));
  secureZero(c.data(), sizeof(c));
}

Strobe128::Strobe128(ByteView protocolLabel) {
  static constexpr std::string_view kVersion = "STROBEv1.0.2";
  m_state[0] = 1;
  m_state[1] = kRate + 2;
  m_state[2] = 1;
  m_state[3] = 0;
  m_state[4] = 1;
  m_state[5] = 96;
  for (std::size_t i = 0; i < kVersion.size(); ++i) m_state[6 + i] = static_cast<std::uint8_t>(kVersion[i]);
  std::array<std::uint64_t, 25> lanes{};
  for (std::size_t i = 0; i < 200; ++i) lanes[i / 8] |= std::uint64_t{m_state[i]} << (8 * (i % 8));
  keccakF1600(lanes);
  for (std::size_t i = 0; i < 200; ++i) m_state[i] = static_cast<std::uint8_t>(lanes[i / 8] >> (8 * (i % 8)));
  metaAd(protocolLabel, false);
}

Strobe128::~Strobe128() {
  secureZero(m_state.data(), m_state.size());
}

void Strobe128::runF() {
  m_state[m_pos] ^= m_posBegin;
  m_state[m_pos + 1] ^= 0x04;
  m_state[kRate + 1] ^= 0x80;
  std::array<std::uint64_t, 25> lanes{};
  for (std::size_t i = 0; i < 200; ++i) lanes[i / 8] |= std::uint64_t{m_state[i]} << (8 * (i % 8));
  keccakF1600(lanes);
  for (std::size_t i = 0; i < 200; ++i) m_state[i] = static_cast<std::uint8_t>(lanes[i / 8] >> (8 * (i % 8)));
  secureZero(lanes.data(), sizeof(lanes));
  m_pos = 0;
  m_posBegin = 0;
}

void Strobe128::absorb(ByteView data) {
  for (std::byte v : data) {
    m_state[m_pos] ^= std::to_integer<std::uint8_t>(v);
    if (++m_pos == kRate) runF();
  }
}

void Strobe128::overwrite(ByteView data) {
  for (std::byte v : data) {
    m_state[m_pos] = std::to_integer<std::uint8_t>(v);
    if (++m_pos == kRate) runF();
  }
}

void Strobe128::squeeze(MutableByteView out) {
  for (std::byte& v : out) {
    v = std::byte{m_state[m_pos]};
    m_state[m_pos] = 0;
    if (++m_pos == kRate) runF();
  }
}

void Strobe128::beginOp(std::uint8_t flags, bool more) {
  if (more) {
    MERIT_ASSERT(flags == m_curFlags, flags, m_curFlags);
    return;
  }
  // Merlin uses no STROBE transport (T) operation, so this STROBE has none.
  MERIT_ASSERT((flags & kFlagT) == 0, flags);
  std::uint8_t oldBegin = m_posBegin;
  m_posBegin = static_cast<std::uint8_t>(m_pos + 1);
  m_curFlags = flags;
  const std::array<std::byte, 2> header = {std::byte{oldBegin}, std::byte{flags}};
  absorb(header);
  const bool forceF = (flags & (kFlagC | kFlagK)) != 0;
  if (forceF && m_pos != 0) runF();
}

void Strobe128::metaAd(ByteView data, bool more) {
  beginOp(kFlagM | kFlagA, more);
  absorb(data);
}

void Strobe128::ad(ByteView data, bool more) {
  beginOp(kFlagA, more);
  absorb(data);
}

void Strobe128::prf(MutableByteView out, bool more) {
  beginOp(kFlagI | kFlagA | kFlagC, more);
  squeeze(out);
}

void Strobe128::key(ByteView data, bool more) {
  beginOp(kFlagA | kFlagC, more);
  overwrite(data);
}

Transcript::Transcript(std::string_view label) : m_strobe(asBytes("Merlin v1.0")) {
  appendMessage("dom-sep", asBytes(label));
}

void Transcript::appendMessage(std::string_view l, ByteView message) {
  m_strobe.metaAd(label(l), false);
  m_strobe.metaAd(le32(message.size()), true);
  m_strobe.ad(message, false);
}

void Transcript::appendU64(std::string_view l, std::uint64_t value) {
  ByteArray<8> bytes;
  for (int i = 0; i < 8; ++i) bytes[i] = std::byte(static_cast<std::uint8_t>(value >> (8 * i)));
  appendMessage(l, bytes);
}

void Transcript::challengeBytes(std::string_view l, MutableByteView out) {
  m_strobe.metaAd(label(l), false);
  m_strobe.metaAd(le32(out.size()), true);
  m_strobe.prf(out, false);
}

TranscriptRngBuilder Transcript::buildRng() const {
  return TranscriptRngBuilder(m_strobe);
}

TranscriptRngBuilder& TranscriptRngBuilder::rekeyWithWitnessBytes(std::string_view l, ByteView witness) {
  m_strobe.metaAd(label(l), false);
  m_strobe.metaAd(le32(witness.size()), true);
  m_strobe.key(witness, false);
  return *this;
}

TranscriptRng TranscriptRngBuilder::finalize(ByteView random32) && {
  MERIT_ASSERT(random32.size() == 32, random32.size());
  m_strobe.metaAd(asBytes("rng"), false);
  m_strobe.key(random32, false);
  return TranscriptRng(m_strobe);
}

void TranscriptRng::fillBytes(MutableByteView out) {
  m_strobe.metaAd(le32(out.size()), false);
  m_strobe.prf(out, false);
}

}  // namespace merit::crypto
