// bench_sr25519: sr25519 (merit/crypto/sr25519.h, libsodium ristretto255) sign and verify against
// secp256k1 ECDSA (merit/crypto/keys.h, libsecp256k1) sign and verify, in one run
// (docs/PERFORMANCE.md, "sr25519 vs ECDSA").
//
// Both schemes sign and verify the same 128-byte message; the four operations are timed in
// alternating rounds so a noisy neighbour hits all of them alike, and each figure is the median
// over the rounds. Every signature made is verified before timing starts; a failure exits 1.
//
// Output: a Markdown table on stdout.
//   bench_sr25519 [--rounds 15] [--ops 200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "merit/crypto/keys.h"
#include "merit/crypto/sr25519.h"

namespace {

using Clock = std::chrono::steady_clock;

double timeOps(int ops, const std::function<void()>& op) {
  auto start = Clock::now();
  for (int i = 0; i < ops; ++i) op();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / ops;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace merit;
  using namespace merit::crypto;
  int rounds = 15;
  int ops = 200;
  CLI::App app{
      "bench_sr25519: sr25519 vs secp256k1 ECDSA sign and verify (docs/PERFORMANCE.md, \"sr25519 vs "
      "ECDSA\")"};
  app.add_option("--rounds", rounds, "alternating rounds; each figure is the median over them")
      ->check(CLI::Range(1, 10'000));
  app.add_option("--ops", ops, "operations of each kind per round")->check(CLI::Range(1, 1'000'000));
  CLI11_PARSE(app, argc, argv);
  Bytes message(128);
  for (std::size_t i = 0; i < message.size(); ++i)
    message[i] = std::byte(static_cast<unsigned char>(i * 7 + 1));

  const sr25519::Keypair sr = sr25519::Keypair::generate();
  const PrivateKey ec = PrivateKey::generate();
  const sr25519::Signature srSig = sr.sign(message);
  const Signature ecSig = ec.sign(message);
  if (!sr25519::verify(sr.publicKey(), message, srSig) || !verify(ec.publicKey(), message, ecSig)) {
    std::fprintf(stderr, "self-check failed: a fresh signature does not verify\n");
    return 1;
  }

  std::vector<double> srSign, srVerify, ecSign, ecVerify;
  bool ok = true;
  for (int r = 0; r < rounds; ++r) {
    srSign.push_back(timeOps(ops, [&] { static_cast<void>(sr.sign(message)); }));
    ecSign.push_back(timeOps(ops, [&] { static_cast<void>(ec.sign(message)); }));
    srVerify.push_back(
        timeOps(ops, [&] { ok &= sr25519::verify(sr.publicKey(), message, srSig).has_value(); }));
    ecVerify.push_back(timeOps(ops, [&] { ok &= verify(ec.publicKey(), message, ecSig).has_value(); }));
  }
  if (!ok) {
    std::fprintf(stderr, "a verification failed during timing\n");
    return 1;
  }
  std::printf("| operation (128-byte message) | sr25519 µs/op | ECDSA secp256k1 µs/op | sr25519 / ECDSA |\n");
  std::printf("|---|---|---|---|\n");
  const double ss = median(srSign), es = median(ecSign), sv = median(srVerify), ev = median(ecVerify);
  std::printf("| sign | %.1f | %.1f | %.2f |\n", ss, es, ss / es);
  std::printf("| verify | %.1f | %.1f | %.2f |\n", sv, ev, sv / ev);
  std::printf("\n%d rounds x %d ops, medians\n", rounds, ops);
  return 0;
}
