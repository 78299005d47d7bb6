# Resolves MERIT_CUDA (AUTO/ON/OFF) to MERIT_CUDA_ENABLED.
#
# CUDA code is built only when both nvcc and a CUDA-enabled libtorch are present: a kernel
# without a CUDA libtorch could never be handed a device tensor. AUTO turns it on exactly then;
# ON makes a missing piece a configure error; OFF never builds CUDA code. Everything else always
# has a CPU path, so a build without CUDA is complete.

set(MERIT_CUDA_ENABLED OFF)
if(NOT MERIT_WITH_TORCH)
  if(MERIT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MERIT_CUDA=ON needs libtorch: configure with MERIT_WITH_TORCH=ON")
  endif()
  message(STATUS "CUDA: off (MERIT_WITH_TORCH=OFF)")
elseif(NOT MERIT_CUDA STREQUAL "OFF")
  find_program(MERIT_NVCC nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
  set(_torch_cuda OFF)
  find_package(Torch QUIET CONFIG)
  if(Torch_FOUND AND CAFFE2_USE_CUDA)
    set(_torch_cuda ON)
  endif()
  if(MERIT_NVCC AND _torch_cuda)
    set(MERIT_CUDA_ENABLED ON)
    set(CMAKE_CUDA_COMPILER "${MERIT_NVCC}")
    enable_language(CUDA)
    message(STATUS "CUDA: on (nvcc ${MERIT_NVCC}, CUDA-enabled libtorch)")
  elseif(MERIT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MERIT_CUDA=ON but nvcc found: '${MERIT_NVCC}', CUDA-enabled libtorch: ${_torch_cuda}")
  else()
    message(STATUS "CUDA: off (nvcc: '${MERIT_NVCC}', CUDA-enabled libtorch: ${_torch_cuda}); CPU paths only")
  endif()
endif()
