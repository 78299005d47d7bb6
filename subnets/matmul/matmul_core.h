// The arithmetic of the `matmul` subnet, shared by the plugin, its unit tests and bench_matmul:
// the prime field, the counter-based matrix generator, the payload codec, the CPU product and
// Freivalds' check. Standard C++ and libsodium only (no meritnet library, like any plugin).
//
// Field: integers modulo kPrime = 65521, the largest prime below 2^16. Why it never overflows:
// every element is in [0, p-1], so one product is at most (p-1)^2 = 65520^2 = 4'292'870'400
// < 2^32, and a sum of K such products is below K * 2^32, which fits a uint64_t whenever
// K <= 2^32. Every dot product here has at most kMaxDimension = 2^16 terms (far below 2^32), so
// products are accumulated in uint64_t and reduced modulo p once at the end: exact, with no
// intermediate reduction.
//
// Generator (documented so that anyone can re-derive A and B): for a 32-byte seed and a matrix
// tag t in {'A', 'B'},
//   key_t   = the first 8 bytes, read little-endian, of BLAKE2b-128("meritnet.matmul.v1." ‖ t ‖ seed)
//   x_t[i]  = splitmix64(key_t + (i + 1) * 0x9E3779B97F4A7C15 mod 2^64) mod p,   i = 0, 1, ...
//   splitmix64(z): z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//                  return z ^ (z >> 31)                               (all mod 2^64)
// A (n x k) is x_A in row-major order (A[r][c] = x_A[r * k + c]) and B (k x m) is x_B likewise.
// Each element depends on its index only (counter based), so derivation parallelises and needs
// no state. The bias of "mod p" over 64-bit words is below p / 2^64 < 2^-47: negligible.
//
// Thread-safety: every function is reentrant; nothing here keeps state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace merit::matmul {

inline constexpr std::uint32_t kPrime = 65521;
inline constexpr std::uint32_t kMaxDimension = 1u << 16;  // bound for the overflow argument above
inline constexpr std::uint8_t kPayloadVersion = 1;
inline constexpr std::size_t kSeedBytes = 32;
// request  = version:u8 ‖ 3 zero bytes ‖ n:u32 ‖ k:u32 ‖ m:u32 ‖ seed[32]
inline constexpr std::size_t kRequestBytes = 4 + 12 + kSeedBytes;
// response = version:u8 ‖ 3 zero bytes ‖ n:u32 ‖ m:u32 ‖ C[n*m] as u32, row-major, each < p
inline constexpr std::size_t kResponseHeaderBytes = 12;
// Freivalds: a wrong product passes one round with probability <= 1/p; with 3 rounds
// (the minimum accepted) it passes with probability <= p^-3 < 2^-47.99 < 2^-40.
inline constexpr std::uint32_t kMinVerifyRounds = 3;

using Seed = std::array<std::uint8_t, kSeedBytes>;
using Matrix = std::vector<std::uint32_t>;  // row-major
using ByteView = std::span<const std::uint8_t>;

// One multiplication task: C = A * B mod p, A n x k and B k x m derived from seed.
struct Problem {
  std::uint32_t n = 0;
  std::uint32_t k = 0;
  std::uint32_t m = 0;
  Seed seed{};
};

std::vector<std::uint8_t> encodeRequest(const Problem& problem);
// Parses a request. Returns false with `why` set when it is malformed (wrong size or version,
// non-zero reserved bytes, a dimension of 0 or above kMaxDimension). Size limits of a particular
// miner are checked by the caller.
bool decodeRequest(ByteView bytes, Problem& out, std::string& why);

// The response bytes for C (n x m, every element < p).
std::vector<std::uint8_t> encodeResponse(std::uint32_t n, std::uint32_t m, std::span<const std::uint32_t> c);

// The 64-bit generator key of matrix `tag` ('A' or 'B') for `seed`, and element `index` of that
// matrix (see the generator above).
std::uint64_t generatorKey(const Seed& seed, char tag);
std::uint32_t generatorElement(std::uint64_t key, std::uint64_t index);
// Fills A (n*k elements) and B (k*m elements) for `problem`.
void deriveMatrices(const Problem& problem, Matrix& a, Matrix& b);

// C = A * B mod p on the CPU: cache-blocked, split by rows over `threads` threads (0 means one
// per hardware thread; the calling thread is one of them). a: n*k, b: k*m, c: n*m elements.
void multiplyCpu(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                 std::span<std::uint32_t> c, std::uint32_t n, std::uint32_t k, std::uint32_t m,
                 unsigned threads);

// Why a response scored what it did.
enum class Verdict {
  kCorrect,    // well formed and C = A * B passed every Freivalds round
  kMalformed,  // wrong size, version, header or an element >= p
  kWrong,      // well formed, but some Freivalds round caught C != A * B
};

// Checks `response` for `problem` with `rounds` (at least kMinVerifyRounds) independent Freivalds
// rounds whose random vectors come from libsodium's CSPRNG (sodium_init() must have been called).
// Time O(nk + km) to derive A and B plus O(rounds * (nk + km + nm)); memory O(rounds * (n + k + m)):
// A and B are derived and C decoded one row at a time. The size and header are checked first, so
// a malformed response costs nothing. Never throws on bad input (allocation failure aside).
Verdict verifyResponse(const Problem& problem, ByteView response, std::uint32_t rounds);

// The same check given A and B already derived (bench_matmul times it separately).
Verdict verifyResponse(const Problem& problem, std::span<const std::uint32_t> a,
                       std::span<const std::uint32_t> b, ByteView response, std::uint32_t rounds);

}  // namespace merit::matmul
