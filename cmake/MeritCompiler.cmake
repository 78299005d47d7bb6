# Compiler set-up shared by every target: ccache, warnings, sanitizers, fuzzing.

find_program(MERIT_CCACHE ccache)
if(MERIT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  message(STATUS "Using ccache: ${MERIT_CCACHE}")
endif()

# LLVM's lld links when it is there (scripts/install-deps installs it), for every build: it linked
# test_chain in 0.65 s against GNU ld's 2.0 s (gcc, -O2 -g1), and in 1.6 s against 5.6 s under
# ASan + UBSan + libFuzzer, and links are the steps ccache cannot skip. MERIT_LLD=OFF keeps the
# toolchain's default linker.
option(MERIT_LLD "Link with LLVM's lld (-fuse-ld=lld) when the compiler accepts it" ON)
if(MERIT_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" MERIT_HAVE_LLD)
  if(MERIT_HAVE_LLD)
    # C and C++ links only: nvcc (a CUDA target's device link) does not take the flag.
    add_link_options($<$<LINK_LANGUAGE:C,CXX>:-fuse-ld=lld>)
  endif()
endif()

# Warnings apply to our own targets only (merit_set_warnings), never to third-party headers,
# which are included as SYSTEM.
add_library(merit_warnings INTERFACE)
target_compile_options(merit_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wnon-virtual-dtor -Wformat=2>
  $<$<AND:$<COMPILE_LANGUAGE:CXX,C>,$<CXX_COMPILER_ID:GNU>>:-Wshadow=local>)
if(MERIT_WERROR)
  target_compile_options(merit_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-Werror>)
endif()

# MERIT_SANITIZE: a comma-separated list of sanitizers for every target, e.g. address,undefined
# (ASan + UBSan) or thread (TSan); ON means address,undefined. UBSan does not recover, so a finding
# fails the test that triggered it. Sanitizer builds are meant for clang with MERIT_WITH_TORCH=OFF
# (libtorch is not instrumented); scripts/ci-hard runs them.
if(MERIT_SANITIZE STREQUAL "ON" OR MERIT_SANITIZE STREQUAL "TRUE" OR MERIT_SANITIZE STREQUAL "1")
  set(MERIT_SANITIZE "address,undefined" CACHE STRING "Sanitizers (comma-separated): address,undefined or thread" FORCE)
endif()
if(MERIT_FUZZ AND NOT MERIT_SANITIZE)
  set(MERIT_SANITIZE "address,undefined" CACHE STRING "Sanitizers (comma-separated): address,undefined or thread" FORCE)
endif()
if(MERIT_SANITIZE)
  if(MERIT_SANITIZE MATCHES "thread" AND MERIT_SANITIZE MATCHES "address")
    message(FATAL_ERROR "MERIT_SANITIZE=${MERIT_SANITIZE}: thread and address cannot be combined")
  endif()
  add_compile_options(-fsanitize=${MERIT_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${MERIT_SANITIZE})
  if(MERIT_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

if(MERIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MERIT_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Every library is instrumented for coverage; only fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Targets opt in to the warnings above by linking merit_warnings PRIVATE (every meritnet target does).
