// A deterministic matmul problem (seed bytes 0, 1, 2, ...) shared by the CPU and CUDA tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "matmul_core.h"

namespace merit::matmul::test {

inline Problem fixedProblem(std::uint32_t n, std::uint32_t k, std::uint32_t m) {
  Problem p;
  p.n = n;
  p.k = k;
  p.m = m;
  for (std::size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = static_cast<std::uint8_t>(i);
  return p;
}

}  // namespace merit::matmul::test
