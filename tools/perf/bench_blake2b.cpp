// bench_blake2b: BLAKE2b-256 and -512 throughput of libsodium (what merit_crypto uses) against
// libb2 (Debian's libb2-dev, run-time dispatch to its SSE2/SSSE3/SSE4.1/AVX/XOP code) for 256 B,
// 4 KiB, 64 KiB and 1 MiB inputs, in one run (docs/PERFORMANCE.md, "BLAKE2b").
//
// The two libraries are timed in alternating rounds over the same input, so a noisy neighbour on
// a shared machine hits both alike; each figure is the median of the rounds. Before timing, the
// outputs of both libraries (one-shot, incremental in odd-sized pieces, and keyed) are compared
// byte for byte; a mismatch exits with status 1.
//
// Output: a Markdown table on stdout, one JSON object per measurement on stderr.
//   bench_blake2b [--rounds N] [--bytes-per-round B]
#include <algorithm>
#include <blake2.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <CLI/CLI.hpp>
#include <sodium.h>

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Row {
  std::size_t size;
  std::size_t digest;
  double sodiumMBs;
  double b2MBs;
};

void hashSodium(unsigned char* out, std::size_t outLen, const unsigned char* in, std::size_t inLen) {
  crypto_generichash(out, outLen, in, inLen, nullptr, 0);
}

void hashB2(unsigned char* out, std::size_t outLen, const unsigned char* in, std::size_t inLen) {
  blake2b(out, in, nullptr, outLen, inLen, 0);
}

// Both libraries must agree on every size around the 128-byte block boundary and on the
// benchmark's sizes, one-shot, incremental and keyed.
bool outputsAgree() {
  std::vector<unsigned char> in(std::size_t{1} << 20);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<unsigned char>((i * 131 + 7) >> 3);
  const unsigned char key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  std::vector<std::size_t> sizes = {256, 4096, 65536, std::size_t{1} << 20};
  for (std::size_t n = 0; n <= 300; ++n) sizes.push_back(n);
  for (const std::size_t n : sizes) {
    for (const std::size_t d : {std::size_t{32}, std::size_t{64}}) {
      unsigned char a[64], b[64];
      hashSodium(a, d, in.data(), n);
      hashB2(b, d, in.data(), n);
      if (std::memcmp(a, b, d) != 0) return false;
      crypto_generichash(a, d, in.data(), n, key, sizeof key);
      blake2b(b, in.data(), key, d, n, sizeof key);
      if (std::memcmp(a, b, d) != 0) return false;
      // Incremental, in pieces of 1, 2, 3, ... bytes (crosses block boundaries at every offset).
      blake2b_state st;
      blake2b_init(&st, d);
      std::size_t off = 0;
      for (std::size_t piece = 1; off < n; ++piece) {
        const std::size_t take = std::min(piece % 200 + 1, n - off);
        blake2b_update(&st, in.data() + off, take);
        off += take;
      }
      blake2b_final(&st, b, d);
      hashSodium(a, d, in.data(), n);
      if (std::memcmp(a, b, d) != 0) return false;
    }
  }
  return true;
}

template <typename Fn>
double timeOnce(Fn hash, std::size_t digest, const std::vector<unsigned char>& in, std::size_t iters) {
  unsigned char out[64];
  const auto t0 = SteadyClock::now();
  for (std::size_t i = 0; i < iters; ++i) hash(out, digest, in.data(), in.size());
  const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  volatile unsigned char sink = out[0];  // keep the last digest observable
  (void)sink;
  return static_cast<double>(iters * in.size()) / s / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_blake2b: BLAKE2b throughput, libsodium vs libb2, with a byte-identity check"};
  int rounds = 15;
  std::size_t bytesPerRound = std::size_t{16} << 20;
  app.add_option("--rounds", rounds, "alternating timed rounds per library and cell (median reported)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--bytes-per-round", bytesPerRound, "bytes hashed per round and cell")
      ->check(CLI::Range(std::size_t{1} << 20, std::size_t{1} << 32));
  CLI11_PARSE(app, argc, argv);

  if (sodium_init() < 0) {
    std::fprintf(stderr, "bench_blake2b: libsodium failed to initialise\n");
    return 1;
  }
  if (!outputsAgree()) {
    std::fprintf(stderr, "bench_blake2b: libsodium and libb2 outputs DIFFER\n");
    return 1;
  }
  std::printf(
      "outputs byte-identical (sizes 0..300, 4 KiB, 64 KiB, 1 MiB; -256/-512; one-shot, keyed, "
      "incremental)\n\n");

  std::vector<Row> rows;
  for (const std::size_t size :
       {std::size_t{256}, std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
    std::vector<unsigned char> in(size);
    for (std::size_t i = 0; i < size; ++i) in[i] = static_cast<unsigned char>(i * 31 + 1);
    const std::size_t iters = std::max<std::size_t>(1, bytesPerRound / size);
    for (const std::size_t digest : {std::size_t{32}, std::size_t{64}}) {
      timeOnce(hashSodium, digest, in, iters / 4 + 1);  // warm-up
      timeOnce(hashB2, digest, in, iters / 4 + 1);
      std::vector<double> s, b;
      for (int r = 0; r < rounds; ++r) {
        // Alternate which library goes first so neither always runs on a just-warmed cache.
        if (r % 2 == 0) {
          s.push_back(timeOnce(hashSodium, digest, in, iters));
          b.push_back(timeOnce(hashB2, digest, in, iters));
        } else {
          b.push_back(timeOnce(hashB2, digest, in, iters));
          s.push_back(timeOnce(hashSodium, digest, in, iters));
        }
      }
      rows.push_back({size, digest, median(s), median(b)});
    }
  }

  std::printf("| input | digest | libsodium MB/s | libb2 MB/s | libb2 / libsodium |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %zu | %zu | %.0f | %.0f | %.2f |\n", r.size, r.digest * 8, r.sodiumMBs, r.b2MBs,
                r.b2MBs / r.sodiumMBs);
    std::fprintf(stderr,
                 "{\"bench\":\"blake2b\",\"input\":%zu,\"digest_bits\":%zu,\"libsodium_MBps\":%.1f,"
                 "\"libb2_MBps\":%.1f}\n",
                 r.size, r.digest * 8, r.sodiumMBs, r.b2MBs);
  }
  return 0;
}
