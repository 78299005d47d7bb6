# Resolves MERIT_CUDA_KERNELS (AUTO/ON/OFF) to MERIT_CUDA_KERNELS_ENABLED: whether meritnet's own
# CUDA kernels (plain .cu files compiled with nvcc, e.g. subnets/matmul) are built.
#
# Unlike MERIT_CUDA, this needs no CUDA-enabled libtorch: the kernels talk to the CUDA runtime
# directly, which they link statically (CUDA_RUNTIME_LIBRARY Static), so a plugin built here still
# loads on a machine with no CUDA libraries or driver and falls back to its CPU path at run time.
#   AUTO (default): on when a working CUDA compiler is found, otherwise off with a status message
#                   (a fresh machine without nvcc configures and builds the CPU paths only);
#   ON:             a missing or broken CUDA compiler is a configure error;
#   OFF:            no CUDA code is compiled.
# nvcc is looked for as CMake does (CUDACXX, PATH) and in /usr/local/cuda/bin. Set
# CMAKE_CUDA_ARCHITECTURES to choose the GPU architectures; CMake's default is the compiler's
# default architecture, whose PTX the driver compiles for newer GPUs on first use.
include(CheckLanguage)

set(MERIT_CUDA_KERNELS "AUTO" CACHE STRING
    "meritnet's own CUDA kernels: AUTO (on when nvcc works), ON, OFF")
set_property(CACHE MERIT_CUDA_KERNELS PROPERTY STRINGS AUTO ON OFF)
if(NOT MERIT_CUDA_KERNELS MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "MERIT_CUDA_KERNELS must be AUTO, ON or OFF, not '${MERIT_CUDA_KERNELS}'")
endif()

set(MERIT_CUDA_KERNELS_ENABLED OFF)
# Sanitizer and fuzzing flags are added for every language and nvcc does not take them.
if(MERIT_CUDA_KERNELS STREQUAL "AUTO" AND (MERIT_SANITIZE OR MERIT_FUZZ))
  message(STATUS "CUDA kernels: off (MERIT_SANITIZE/MERIT_FUZZ builds are CPU only)")
elseif(MERIT_CUDA_KERNELS STREQUAL "ON" AND (MERIT_SANITIZE OR MERIT_FUZZ))
  message(FATAL_ERROR "MERIT_CUDA_KERNELS=ON cannot be combined with MERIT_SANITIZE or MERIT_FUZZ")
elseif(NOT MERIT_CUDA_KERNELS STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(MERIT_KERNELS_NVCC nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME ENV CUDA_PATH PATH_SUFFIXES bin)
    if(MERIT_KERNELS_NVCC)
      set(ENV{CUDACXX} "${MERIT_KERNELS_NVCC}")
    endif()
  endif()
  # check_language tries the compiler in a scratch project, so a broken toolchain (unsupported
  # host compiler, CMake too old for the CUDA release) is caught here rather than failing
  # enable_language below.
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(TARGET CUDA::cudart_static)
      set(MERIT_CUDA_KERNELS_ENABLED ON)
      message(STATUS "CUDA kernels: on (${CMAKE_CUDA_COMPILER}, CUDA ${CMAKE_CUDA_COMPILER_VERSION}, "
                     "architectures ${CMAKE_CUDA_ARCHITECTURES}, static CUDA runtime)")
    elseif(MERIT_CUDA_KERNELS STREQUAL "ON")
      message(FATAL_ERROR "MERIT_CUDA_KERNELS=ON: nvcc works but the static CUDA runtime (cudart_static) was not found")
    else()
      message(STATUS "CUDA kernels: off (no static CUDA runtime next to ${CMAKE_CUDA_COMPILER}); CPU paths only")
    endif()
  elseif(MERIT_CUDA_KERNELS STREQUAL "ON")
    message(FATAL_ERROR "MERIT_CUDA_KERNELS=ON but no working CUDA compiler was found "
                        "(set CUDACXX or CMAKE_CUDA_COMPILER to nvcc, or use AUTO/OFF)")
  else()
    message(STATUS "CUDA kernels: off (no working CUDA compiler found); CPU paths only")
  endif()
endif()
