// Runs a libFuzzer target without libFuzzer, so every parser is fuzzed a little in each CTest run
// on any compiler: replays seed files (and built-in seeds), then feeds a bounded number of
// mutated inputs (bit flips, byte edits, truncations, splices, repeats). Deterministic for a
// given --seed. With -DMERIT_FUZZ=ON and clang the same targets link libFuzzer instead.
//
// Usage: fuzz_X_smoke [--iterations N] [--seconds S] [--seed K] [SEED_DIR_OR_FILE...]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional: a target may provide well-formed seeds built in code.
extern "C" __attribute__((weak)) void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out);

namespace {

using Input = std::vector<std::uint8_t>;

void addFile(const std::filesystem::path& p, std::vector<Input>& seeds) {
  std::ifstream in(p, std::ios::binary);
  seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Input mutate(const std::vector<Input>& seeds, std::mt19937_64& rng) {
  Input x = seeds[rng() % seeds.size()];
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 7) {
      case 0:
        if (!x.empty()) x[rng() % x.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        if (!x.empty()) x[rng() % x.size()] = static_cast<std::uint8_t>(rng());
        break;
      case 2:
        x.insert(x.begin() + static_cast<long>(x.empty() ? 0 : rng() % (x.size() + 1)),
                 static_cast<std::uint8_t>(rng()));
        break;
      case 3:
        if (!x.empty()) x.erase(x.begin() + static_cast<long>(rng() % x.size()));
        break;
      case 4:
        if (!x.empty()) x.resize(rng() % x.size());
        break;
      case 5: {
        const Input& other = seeds[rng() % seeds.size()];
        if (!other.empty()) {
          std::size_t from = rng() % other.size();
          std::size_t len = 1 + rng() % (other.size() - from);
          std::size_t at = x.empty() ? 0 : rng() % (x.size() + 1);
          x.insert(x.begin() + static_cast<long>(at), other.begin() + static_cast<long>(from),
                   other.begin() + static_cast<long>(from + len));
        }
        break;
      }
      default:
        // Interesting integers (lengths, counts) written somewhere.
        if (x.size() >= 4) {
          static const std::uint32_t kValues[] = {0,      1,       0x7f,       0x80,      0xff,
                                                  0xffff, 0x10000, 0x7fffffff, 0xffffffff};
          std::uint32_t v = kValues[rng() % std::size(kValues)];
          std::memcpy(x.data() + rng() % (x.size() - 3), &v, 4);
        }
        break;
    }
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 20'000;
  double seconds = 10;
  std::uint64_t seed = 1;
  std::vector<Input> seeds = {{}, {0}, {0xff}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file()) addFile(e.path(), seeds);
      }
    } else if (std::filesystem::is_regular_file(a)) {
      addFile(a, seeds);
    } else {
      std::fprintf(stderr, "unknown argument or missing path: %s\n", a.c_str());
      return 2;
    }
  }
  if (MeritFuzzSeeds) MeritFuzzSeeds(seeds);
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(s.data(), s.size());

  std::mt19937_64 rng(seed);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long done = 0;
  for (; done < iterations && std::chrono::steady_clock::now() < deadline; ++done) {
    Input x = mutate(seeds, rng);
    LLVMFuzzerTestOneInput(x.data(), x.size());
  }
  // The plain closing line CI reads: every input ran without a crash or assertion.
  std::printf("fuzz smoke: %zu seeds, %ld mutated inputs\n%ld passed, 0 failed\n", seeds.size(), done,
              done + static_cast<long>(seeds.size()));
  return 0;
}
