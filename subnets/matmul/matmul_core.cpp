#include "matmul_core.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include <sodium.h>

// The CPU kernel is compiled for AVX-512 and AVX2 as well as the baseline, and the loader picks
// the best one the machine has (GNU ifunc); elsewhere it is the baseline only.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define MERIT_MATMUL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MERIT_MATMUL_CLONES
#endif

namespace merit::matmul {
namespace {

void putU32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t getU32(const std::uint8_t* in) {
  return static_cast<std::uint32_t>(in[0]) | static_cast<std::uint32_t>(in[1]) << 8 |
         static_cast<std::uint32_t>(in[2]) << 16 | static_cast<std::uint32_t>(in[3]) << 24;
}

std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// out[j] = element first + j of the matrix with generator key `key`.
void fillFrom(std::uint64_t key, std::uint64_t first, std::span<std::uint32_t> out) {
  std::uint64_t z = key + first * kGolden;
  for (std::uint32_t& x : out) {
    z += kGolden;  // key + (index + 1) * golden
    x = static_cast<std::uint32_t>(splitmix64(z) % kPrime);
  }
}

// The CPU product in blocks of kRows rows x kCols columns of C. The kRows x kCols uint64_t
// accumulators (4 KiB) stay in L1. For each block of kCols columns, a thread first copies that
// k x kCols panel of B into a contiguous buffer (k * 512 bytes: in L2 for k up to ~2000), which
// every one of its row blocks then streams through in order. See matmul_core.h for why the
// uint64_t sums never overflow.
constexpr std::uint32_t kRows = 4;
constexpr std::uint32_t kCols = 128;
constexpr std::uint32_t kLanes = 16;  // a multiple of the widest vector (AVX-512: 8 x uint64_t)

std::uint32_t paddedWidth(std::uint32_t cols) {
  return (cols + kLanes - 1) / kLanes * kLanes;
}

// Rows [0, 4) of C (row stride m) from rows [0, 4) of A (row stride k) and the packed panel
// (k rows of kCols elements, of which the first `cols` are used; the loop runs to `cols` rounded
// up to kLanes over the panel's zero padding, so it needs no scalar tail).
MERIT_MATMUL_CLONES
void kernelRows4(const std::uint32_t* a, const std::uint32_t* panel, std::uint32_t* c, std::uint32_t k,
                 std::uint32_t m, std::uint32_t cols) {
  alignas(64) std::uint64_t acc[kRows][kCols] = {};
  const std::size_t lda = k;
  const std::uint32_t width = paddedWidth(cols);
  for (std::uint32_t kk = 0; kk < k; ++kk) {
    const std::uint32_t* brow = panel + static_cast<std::size_t>(kk) * kCols;
    const std::uint64_t a0 = a[kk];
    const std::uint64_t a1 = a[lda + kk];
    const std::uint64_t a2 = a[2 * lda + kk];
    const std::uint64_t a3 = a[3 * lda + kk];
    for (std::uint32_t j = 0; j < width; ++j) {
      const std::uint64_t bv = brow[j];
      acc[0][j] += a0 * bv;
      acc[1][j] += a1 * bv;
      acc[2][j] += a2 * bv;
      acc[3][j] += a3 * bv;
    }
  }
  for (std::uint32_t r = 0; r < kRows; ++r) {
    std::uint32_t* crow = c + static_cast<std::size_t>(r) * m;
    for (std::uint32_t j = 0; j < cols; ++j) crow[j] = static_cast<std::uint32_t>(acc[r][j] % kPrime);
  }
}

// One row of C, for the rows left over when a thread's rows are not a multiple of kRows.
MERIT_MATMUL_CLONES
void kernelRow1(const std::uint32_t* a, const std::uint32_t* panel, std::uint32_t* c, std::uint32_t k,
                std::uint32_t cols) {
  alignas(64) std::uint64_t acc[kCols] = {};
  const std::uint32_t width = paddedWidth(cols);
  for (std::uint32_t kk = 0; kk < k; ++kk) {
    const std::uint32_t* brow = panel + static_cast<std::size_t>(kk) * kCols;
    const std::uint64_t a0 = a[kk];
    for (std::uint32_t j = 0; j < width; ++j) acc[j] += a0 * static_cast<std::uint64_t>(brow[j]);
  }
  for (std::uint32_t j = 0; j < cols; ++j) c[j] = static_cast<std::uint32_t>(acc[j] % kPrime);
}

// Rows [rowBegin, rowEnd) of C.
void multiplyRows(const std::uint32_t* a, const std::uint32_t* b, std::uint32_t* c, std::uint32_t k,
                  std::uint32_t m, std::uint32_t rowBegin, std::uint32_t rowEnd) {
  std::vector<std::uint32_t> panel(static_cast<std::size_t>(k) * kCols, 0);
  for (std::uint32_t j0 = 0; j0 < m; j0 += kCols) {
    const std::uint32_t cols = std::min(kCols, m - j0);
    for (std::uint32_t kk = 0; kk < k; ++kk) {
      std::memcpy(panel.data() + static_cast<std::size_t>(kk) * kCols,
                  b + static_cast<std::size_t>(kk) * m + j0, cols * sizeof(std::uint32_t));
      // The padding of a narrow last panel is zero: it adds nothing to the sums.
      if (cols < kCols)
        std::fill_n(panel.data() + static_cast<std::size_t>(kk) * kCols + cols, kCols - cols, 0u);
    }
    std::uint32_t i = rowBegin;
    for (; i + kRows <= rowEnd; i += kRows) {
      kernelRows4(a + static_cast<std::size_t>(i) * k, panel.data(), c + static_cast<std::size_t>(i) * m + j0,
                  k, m, cols);
    }
    for (; i < rowEnd; ++i) {
      kernelRow1(a + static_cast<std::size_t>(i) * k, panel.data(), c + static_cast<std::size_t>(i) * m + j0,
                 k, cols);
    }
  }
}

// out[r * rows + i] = sum_j M[i][j] * v[r * cols + j] mod p for `rounds` vectors v, where
// rowAt(i, buffer) yields row i of M (cols elements; it may fill `buffer` and return it) or nullptr
// when that row is malformed, which makes the whole call return false. One row is held at a time,
// so a matrix that is derived or decoded on the fly never exists in memory as a whole. Each sum
// has <= kMaxDimension products < 2^32: no overflow (matmul_core.h).
template <typename RowAt>
bool multiplyVectors(std::uint32_t rows, std::uint32_t cols, RowAt&& rowAt,
                     const std::vector<std::uint32_t>& v, std::uint32_t rounds,
                     std::vector<std::uint32_t>& out) {
  out.assign(static_cast<std::size_t>(rounds) * rows, 0);
  std::vector<std::uint32_t> buffer(cols);
  for (std::uint32_t i = 0; i < rows; ++i) {
    const std::uint32_t* row = rowAt(i, buffer.data());
    if (row == nullptr) return false;
    for (std::uint32_t r = 0; r < rounds; ++r) {
      const std::uint32_t* vec = v.data() + static_cast<std::size_t>(r) * cols;
      std::uint64_t sum = 0;
      for (std::uint32_t j = 0; j < cols; ++j) sum += static_cast<std::uint64_t>(row[j]) * vec[j];
      out[static_cast<std::size_t>(r) * rows + i] = static_cast<std::uint32_t>(sum % kPrime);
    }
  }
  return true;
}

// Checks the response header for `problem`; the elements are checked as they are read.
bool wellFormedHeader(const Problem& problem, ByteView response) {
  const std::size_t count = static_cast<std::size_t>(problem.n) * problem.m;
  return response.size() == kResponseHeaderBytes + 4 * count && response[0] == kPayloadVersion &&
         response[1] == 0 && response[2] == 0 && response[3] == 0 &&
         getU32(response.data() + 4) == problem.n && getU32(response.data() + 8) == problem.m;
}

// Freivalds with the rows of A and B from the given sources: true when A (B r) == C r for
// `rounds` random vectors r, C read row by row from `response` (header already checked).
// Returns kMalformed when an element of C is >= p.
template <typename RowsOfA, typename RowsOfB>
Verdict freivalds(const Problem& problem, RowsOfA&& rowOfA, RowsOfB&& rowOfB, ByteView response,
                  std::uint32_t rounds) {
  const std::uint32_t n = problem.n, k = problem.k, m = problem.m;
  if (rounds < kMinVerifyRounds) rounds = kMinVerifyRounds;
  // `rounds` independent uniform vectors r in F_p^m from the CSPRNG.
  std::vector<std::uint32_t> r(static_cast<std::size_t>(rounds) * m);
  for (std::uint32_t& x : r) x = randombytes_uniform(kPrime);
  const std::uint8_t* cBytes = response.data() + kResponseHeaderBytes;
  auto rowOfC = [cBytes, m](std::uint32_t i, std::uint32_t* buffer) -> const std::uint32_t* {
    const std::uint8_t* p = cBytes + static_cast<std::size_t>(i) * m * 4;
    for (std::uint32_t j = 0; j < m; ++j, p += 4) {
      buffer[j] = getU32(p);
      if (buffer[j] >= kPrime) return nullptr;
    }
    return buffer;
  };
  std::vector<std::uint32_t> cr, br, abr;
  // C first: a malformed C is rejected before any derivation work.
  if (!multiplyVectors(n, m, rowOfC, r, rounds, cr)) return Verdict::kMalformed;
  multiplyVectors(k, m, rowOfB, r, rounds, br);  // B r: k entries per round
  multiplyVectors(n, k, rowOfA, br, rounds, abr);
  return abr == cr ? Verdict::kCorrect : Verdict::kWrong;
}

}  // namespace

std::vector<std::uint8_t> encodeRequest(const Problem& problem) {
  std::vector<std::uint8_t> out(kRequestBytes, 0);
  out[0] = kPayloadVersion;
  putU32(out.data() + 4, problem.n);
  putU32(out.data() + 8, problem.k);
  putU32(out.data() + 12, problem.m);
  std::memcpy(out.data() + 16, problem.seed.data(), kSeedBytes);
  return out;
}

bool decodeRequest(ByteView bytes, Problem& out, std::string& why) {
  if (bytes.size() != kRequestBytes) {
    why = "request is " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(kRequestBytes);
    return false;
  }
  if (bytes[0] != kPayloadVersion) {
    why = "payload version " + std::to_string(bytes[0]) + ", this miner speaks " +
          std::to_string(kPayloadVersion);
    return false;
  }
  if (bytes[1] != 0 || bytes[2] != 0 || bytes[3] != 0) {
    why = "reserved header bytes are not zero";
    return false;
  }
  Problem p;
  p.n = getU32(bytes.data() + 4);
  p.k = getU32(bytes.data() + 8);
  p.m = getU32(bytes.data() + 12);
  for (std::uint32_t d : {p.n, p.k, p.m}) {
    if (d == 0 || d > kMaxDimension) {
      why = "dimension " + std::to_string(d) + " outside 1.." + std::to_string(kMaxDimension);
      return false;
    }
  }
  std::memcpy(p.seed.data(), bytes.data() + 16, kSeedBytes);
  out = p;
  return true;
}

std::vector<std::uint8_t> encodeResponse(std::uint32_t n, std::uint32_t m, std::span<const std::uint32_t> c) {
  const std::size_t count = static_cast<std::size_t>(n) * m;
  std::vector<std::uint8_t> out(kResponseHeaderBytes + 4 * count, 0);
  out[0] = kPayloadVersion;
  putU32(out.data() + 4, n);
  putU32(out.data() + 8, m);
  std::uint8_t* p = out.data() + kResponseHeaderBytes;
  for (std::size_t i = 0; i < count && i < c.size(); ++i, p += 4) putU32(p, c[i]);
  return out;
}

std::uint64_t generatorKey(const Seed& seed, char tag) {
  constexpr std::string_view kDomain = "meritnet.matmul.v1.";
  std::array<std::uint8_t, kDomain.size() + 1 + kSeedBytes> message{};
  std::memcpy(message.data(), kDomain.data(), kDomain.size());
  message[kDomain.size()] = static_cast<std::uint8_t>(tag);
  std::memcpy(message.data() + kDomain.size() + 1, seed.data(), kSeedBytes);
  std::array<std::uint8_t, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), message.data(), message.size(), nullptr, 0);
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i)
    key |= static_cast<std::uint64_t>(digest[static_cast<std::size_t>(i)]) << (8 * i);
  return key;
}

std::uint32_t generatorElement(std::uint64_t key, std::uint64_t index) {
  return static_cast<std::uint32_t>(splitmix64(key + (index + 1) * kGolden) % kPrime);
}

void deriveMatrices(const Problem& problem, Matrix& a, Matrix& b) {
  a.resize(static_cast<std::size_t>(problem.n) * problem.k);
  b.resize(static_cast<std::size_t>(problem.k) * problem.m);
  fillFrom(generatorKey(problem.seed, 'A'), 0, a);
  fillFrom(generatorKey(problem.seed, 'B'), 0, b);
}

void multiplyCpu(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                 std::span<std::uint32_t> c, std::uint32_t n, std::uint32_t k, std::uint32_t m,
                 unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  // At least 16 rows a thread (a thread costs tens of microseconds), in whole row blocks.
  const std::uint32_t maxThreads = std::max<std::uint32_t>(1, n / 16);
  threads = std::min<unsigned>(threads, maxThreads);
  const std::uint32_t blocks = (n + kRows - 1) / kRows;
  const std::uint32_t perThread = (blocks + threads - 1) / threads * kRows;
  std::vector<std::jthread> workers;
  workers.reserve(threads);
  for (unsigned t = 1; t < threads; ++t) {
    const std::uint32_t begin = std::min(n, t * perThread);
    const std::uint32_t end = std::min(n, begin + perThread);
    if (begin >= end) break;
    workers.emplace_back(
        [&a, &b, &c, k, m, begin, end] { multiplyRows(a.data(), b.data(), c.data(), k, m, begin, end); });
  }
  multiplyRows(a.data(), b.data(), c.data(), k, m, 0, std::min(n, perThread));
}

Verdict verifyResponse(const Problem& problem, std::span<const std::uint32_t> a,
                       std::span<const std::uint32_t> b, ByteView response, std::uint32_t rounds) {
  if (!wellFormedHeader(problem, response)) return Verdict::kMalformed;
  if (a.size() != static_cast<std::size_t>(problem.n) * problem.k ||
      b.size() != static_cast<std::size_t>(problem.k) * problem.m) {
    return Verdict::kMalformed;
  }
  auto rowOfA = [&a, &problem](std::uint32_t i, std::uint32_t*) {
    return a.data() + static_cast<std::size_t>(i) * problem.k;
  };
  auto rowOfB = [&b, &problem](std::uint32_t i, std::uint32_t*) {
    return b.data() + static_cast<std::size_t>(i) * problem.m;
  };
  return freivalds(problem, rowOfA, rowOfB, response, rounds);
}

Verdict verifyResponse(const Problem& problem, ByteView response, std::uint32_t rounds) {
  // The header and size are checked before anything is derived, so junk costs nothing. A and B
  // are then derived one row at a time (the generator is counter based), so the validator needs
  // O(n + k + m) memory, not O(nk + km).
  if (!wellFormedHeader(problem, response)) return Verdict::kMalformed;
  const std::uint64_t keyA = generatorKey(problem.seed, 'A');
  const std::uint64_t keyB = generatorKey(problem.seed, 'B');
  auto rowOfA = [keyA, &problem](std::uint32_t i, std::uint32_t* buffer) -> const std::uint32_t* {
    fillFrom(keyA, static_cast<std::uint64_t>(i) * problem.k, std::span<std::uint32_t>(buffer, problem.k));
    return buffer;
  };
  auto rowOfB = [keyB, &problem](std::uint32_t i, std::uint32_t* buffer) -> const std::uint32_t* {
    fillFrom(keyB, static_cast<std::uint64_t>(i) * problem.m, std::span<std::uint32_t>(buffer, problem.m));
    return buffer;
  };
  return freivalds(problem, rowOfA, rowOfB, response, rounds);
}

}  // namespace merit::matmul
