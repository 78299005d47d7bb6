// The matmul subnet's CUDA product against its CPU product (merit_matmul_core), on device 0.
// Without a usable device (or in a build without the CUDA kernels) there is nothing to check:
// the program says why and exits with 77, which CTest reports as skipped (SKIP_RETURN_CODE), so a
// machine without a GPU never counts this test as passed.
#include <cstdint>
#include <cstdio>
#include <string>

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sodium.h>

#include "fixed_problem.h"
#include "matmul_core.h"
#include "matmul_cuda.h"

namespace mm = merit::matmul;

namespace {

constexpr int kSkipped = 77;  // CTest's SKIP_RETURN_CODE for this test

using merit::matmul::test::fixedProblem;

}  // namespace

TEST_CASE("the CUDA product equals the CPU product") {
  std::string what, why;
  REQUIRE_MESSAGE(mm::cudaDeviceAvailable(what, why), why);
  MESSAGE("CUDA device: ", what);
  struct Shape {
    std::uint32_t n, k, m;
  };
  for (Shape s : {Shape{1, 1, 1}, Shape{33, 17, 129}, Shape{256, 256, 256}, Shape{130, 1000, 70}}) {
    const mm::Problem p = fixedProblem(s.n, s.k, s.m);
    mm::Matrix a, b;
    mm::deriveMatrices(p, a, b);
    mm::Matrix cpu(static_cast<std::size_t>(s.n) * s.m), gpu(cpu.size(), 0xFFFFFFFFu);
    mm::multiplyCpu(a, b, cpu, s.n, s.k, s.m, 0);
    std::string error;
    REQUIRE_MESSAGE(mm::multiplyCuda(a.data(), b.data(), gpu.data(), s.n, s.k, s.m, error), error);
    CHECK_MESSAGE(gpu == cpu, s.n, "x", s.k, "x", s.m);
  }
}

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "sodium_init failed\n");
    return 1;
  }
  std::string what, why;
  if (!mm::cudaDeviceAvailable(what, why)) {
    const char* reason = MERIT_MATMUL_CUDA_BUILT ? "no usable CUDA device" : "built without CUDA kernels";
    std::printf("SKIPPED: %s (%s)\n", reason, why.c_str());
    return kSkipped;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
