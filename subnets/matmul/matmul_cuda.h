// The `matmul` subnet's GPU path: C = A * B mod p (p = kPrime of matmul_core.h) by a CUDA kernel
// of ours, with exactly the CPU path's arithmetic (uint64_t sums of < 2^32 products, one
// reduction at the end), so both give identical C.
//
// Built from matmul_cuda.cu when CMake enables MERIT_CUDA_KERNELS; otherwise matmul_core_nocuda.cpp
// provides the same functions reporting "built without CUDA kernels". The CUDA runtime is linked
// statically, so these functions also work (and report that there is no device) on a machine
// without a CUDA driver.
//
// Thread-safety: both functions may be called from several threads at once. No exception leaves
// them; failures come back as false plus a message.
#pragma once

#include <cstdint>
#include <string>

namespace merit::matmul {

// True when a CUDA device can be used; otherwise false and `why` says why (built without CUDA,
// no driver, no device, ...). On success `what` names the device.
bool cudaDeviceAvailable(std::string& what, std::string& why) noexcept;

// C = A * B mod p on CUDA device 0. a: n*k, b: k*m, c: n*m elements, row-major. False (with
// `why`) on any CUDA failure; c is then unspecified. (Plain pointers: nvcc compiles this header as
// C++17, which has no std::span.)
bool multiplyCuda(const std::uint32_t* a, const std::uint32_t* b, std::uint32_t* c, std::uint32_t n,
                  std::uint32_t k, std::uint32_t m, std::string& why) noexcept;

}  // namespace merit::matmul
