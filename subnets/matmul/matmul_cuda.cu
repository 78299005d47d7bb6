// The CUDA kernel of the `matmul` subnet (see matmul_cuda.h): a shared-memory tiled product over
// the prime field of matmul_core.h, accumulating in 64 bits exactly as the CPU path does.
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>
#include <new>
#include <string>

#include "matmul_cuda.h"

namespace merit::matmul {
namespace {

// Must equal kPrime of matmul_core.h (this file is compiled by nvcc, which does not see it); the
// unit test compares the CPU and CUDA results, which differ if these ever drift apart.
constexpr std::uint32_t kCudaPrime = 65521;
constexpr int kTile = 16;

// One kTile x kTile tile of C per block, one element per thread. Each element is a sum of at most
// 2^16 products < 2^32, which fits the uint64_t accumulator (matmul_core.h), reduced once.
__global__ void matmulModP(const std::uint32_t* a, const std::uint32_t* b, std::uint32_t* c, std::uint32_t n,
                           std::uint32_t k, std::uint32_t m) {
  __shared__ std::uint32_t tileA[kTile][kTile];
  __shared__ std::uint32_t tileB[kTile][kTile];
  const std::uint32_t row = blockIdx.y * kTile + threadIdx.y;
  const std::uint32_t col = blockIdx.x * kTile + threadIdx.x;
  std::uint64_t acc = 0;
  for (std::uint32_t t = 0; t < k; t += kTile) {
    const std::uint32_t ak = t + threadIdx.x;
    const std::uint32_t bk = t + threadIdx.y;
    tileA[threadIdx.y][threadIdx.x] = (row < n && ak < k) ? a[static_cast<std::size_t>(row) * k + ak] : 0u;
    tileB[threadIdx.y][threadIdx.x] = (bk < k && col < m) ? b[static_cast<std::size_t>(bk) * m + col] : 0u;
    __syncthreads();
#pragma unroll
    for (int e = 0; e < kTile; ++e) {
      acc += static_cast<std::uint64_t>(tileA[threadIdx.y][e]) * tileB[e][threadIdx.x];
    }
    __syncthreads();
  }
  if (row < n && col < m)
    c[static_cast<std::size_t>(row) * m + col] = static_cast<std::uint32_t>(acc % kCudaPrime);
}

void setWhy(std::string& why, const char* what, cudaError_t error) noexcept {
  try {
    why = std::string(what) + ": " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")";
  } catch (...) {
  }
}

// A device allocation released on scope exit.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (m_ptr != nullptr) cudaFree(m_ptr);
  }
  cudaError_t allocate(std::size_t elements) {
    return cudaMalloc(reinterpret_cast<void**>(&m_ptr), elements * sizeof(std::uint32_t));
  }
  std::uint32_t* get() const { return m_ptr; }

 private:
  std::uint32_t* m_ptr = nullptr;
};

}  // namespace

bool cudaDeviceAvailable(std::string& what, std::string& why) noexcept {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    setWhy(why, "cudaGetDeviceCount", error);
    return false;
  }
  if (count <= 0) {
    try {
      why = "no CUDA device present";
    } catch (...) {
    }
    return false;
  }
  cudaDeviceProp prop{};
  const cudaError_t propError = cudaGetDeviceProperties(&prop, 0);
  if (propError != cudaSuccess) {
    setWhy(why, "cudaGetDeviceProperties", propError);
    return false;
  }
  try {
    what = std::string(prop.name) + " (compute capability " + std::to_string(prop.major) + "." +
           std::to_string(prop.minor) + ")";
  } catch (...) {
  }
  return true;
}

bool multiplyCuda(const std::uint32_t* a, const std::uint32_t* b, std::uint32_t* c, std::uint32_t n,
                  std::uint32_t k, std::uint32_t m, std::string& why) noexcept {
  const std::size_t sizeA = static_cast<std::size_t>(n) * k;
  const std::size_t sizeB = static_cast<std::size_t>(k) * m;
  const std::size_t sizeC = static_cast<std::size_t>(n) * m;
  cudaError_t error = cudaSetDevice(0);
  if (error != cudaSuccess) return setWhy(why, "cudaSetDevice", error), false;
  DeviceBuffer da, db, dc;
  if ((error = da.allocate(sizeA)) != cudaSuccess || (error = db.allocate(sizeB)) != cudaSuccess ||
      (error = dc.allocate(sizeC)) != cudaSuccess) {
    return setWhy(why, "cudaMalloc", error), false;
  }
  if ((error = cudaMemcpy(da.get(), a, sizeA * 4, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (error = cudaMemcpy(db.get(), b, sizeB * 4, cudaMemcpyHostToDevice)) != cudaSuccess) {
    return setWhy(why, "cudaMemcpy to the device", error), false;
  }
  const dim3 threads(kTile, kTile);
  const dim3 blocks((m + kTile - 1) / kTile, (n + kTile - 1) / kTile);
  matmulModP<<<blocks, threads>>>(da.get(), db.get(), dc.get(), n, k, m);
  if ((error = cudaGetLastError()) != cudaSuccess) return setWhy(why, "kernel launch", error), false;
  if ((error = cudaMemcpy(c, dc.get(), sizeC * 4, cudaMemcpyDeviceToHost)) != cudaSuccess) {
    return setWhy(why, "cudaMemcpy from the device", error), false;
  }
  return true;
}

}  // namespace merit::matmul
