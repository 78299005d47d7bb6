// Keccak-f[1600], the STROBE-128 subset Merlin needs, and Merlin transcripts: the hashing layer
// under sr25519 (schnorrkel). Portable C++, byte-for-byte what merlin 3.x / strobe-rs compute.
//
// Thread-safety: values owned by one thread at a time; no shared state. A transcript that has
// absorbed secret bytes (a TranscriptRng, a transcript fed a secret key) wipes its state on
// destruction.
//
// Framing (Merlin v1.0 over STROBE-128, security 128, rate 166 bytes):
//   Transcript(label)         = STROBE("Merlin v1.0"), then appendMessage("dom-sep", label)
//   appendMessage(l, m)       = meta-AD(l) ‖ meta-AD(LE32(|m|), more) ‖ AD(m)
//   challengeBytes(l, out)    = meta-AD(l) ‖ meta-AD(LE32(|out|), more) ‖ PRF(out)
//   rekeyWithWitnessBytes(l,w)= meta-AD(l) ‖ meta-AD(LE32(|w|), more) ‖ KEY(w)
//   finalize(random32)        = meta-AD("rng") ‖ KEY(random32)
//   TranscriptRng::fillBytes  = meta-AD(LE32(|out|)) ‖ PRF(out)
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "merit/util/bytes.h"

namespace merit::crypto {

// The Keccak-f[1600] permutation (24 rounds) on 25 little-endian lanes.
void keccakF1600(std::array<std::uint64_t, 25>& lanes);

// STROBE-128 restricted to meta-AD, AD, PRF and KEY (no transport, no MAC, no ratchet).
// `more` continues the previous operation of the same kind, as STROBE's streaming flag does.
class Strobe128 {
 public:
  explicit Strobe128(ByteView protocolLabel);
  ~Strobe128();
  Strobe128(const Strobe128&) = default;
  Strobe128& operator=(const Strobe128&) = default;

  void metaAd(ByteView data, bool more);
  void ad(ByteView data, bool more);
  void prf(MutableByteView out, bool more);
  void key(ByteView data, bool more);

 private:
  void beginOp(std::uint8_t flags, bool more);
  void absorb(ByteView data);
  void overwrite(ByteView data);
  void squeeze(MutableByteView out);
  void runF();

  std::array<std::uint8_t, 200> m_state{};
  std::uint8_t m_pos = 0;
  std::uint8_t m_posBegin = 0;
  std::uint8_t m_curFlags = 0;
};

class TranscriptRng;
class TranscriptRngBuilder;

// A Merlin transcript. Copying forks it (both copies continue independently).
class Transcript {
 public:
  explicit Transcript(std::string_view label);

  void appendMessage(std::string_view label, ByteView message);
  void appendU64(std::string_view label, std::uint64_t value);
  void challengeBytes(std::string_view label, MutableByteView out);

  // An RNG bound to everything appended so far (the transcript itself is not changed).
  TranscriptRngBuilder buildRng() const;

 private:
  Strobe128 m_strobe;
};

class TranscriptRngBuilder {
 public:
  // Mixes in secret witness bytes (e.g. a signing nonce seed) under `label`.
  TranscriptRngBuilder& rekeyWithWitnessBytes(std::string_view label, ByteView witness);
  // Mixes in 32 bytes of external randomness and returns the RNG. The RNG's output depends on
  // the transcript, the witnesses and `random32`; fixing `random32` makes it deterministic
  // (tests, interop).
  TranscriptRng finalize(ByteView random32) &&;

 private:
  friend class Transcript;
  explicit TranscriptRngBuilder(const Strobe128& strobe) : m_strobe(strobe) {}
  Strobe128 m_strobe;
};

class TranscriptRng {
 public:
  void fillBytes(MutableByteView out);

 private:
  friend class TranscriptRngBuilder;
  explicit TranscriptRng(const Strobe128& strobe) : m_strobe(strobe) {}
  Strobe128 m_strobe;
};

}  // namespace merit::crypto
