// matmul_cuda.h for a build without CUDA kernels (MERIT_CUDA_KERNELS off or no nvcc).
#include "matmul_cuda.h"

namespace merit::matmul {

bool cudaDeviceAvailable(std::string& what, std::string& why) noexcept {
  what.clear();
  try {
    why = "this plugin was built without CUDA kernels (MERIT_CUDA_KERNELS off or no nvcc)";
  } catch (...) {
  }
  return false;
}

bool multiplyCuda(const std::uint32_t*, const std::uint32_t*, std::uint32_t*, std::uint32_t, std::uint32_t,
                  std::uint32_t, std::string& why) noexcept {
  try {
    why = "this plugin was built without CUDA kernels";
  } catch (...) {
  }
  return false;
}

}  // namespace merit::matmul
