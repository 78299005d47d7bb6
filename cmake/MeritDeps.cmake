# Third-party dependencies, all from Debian 12 packages (scripts/install-deps installs them).
# A missing one fails here with the package to install, not later with a compiler error.

find_package(PkgConfig REQUIRED)

# CMake 3.25's pkg_check_modules moves a module's "-isystem DIR" (libzmq's: /usr/include/mit-krb5)
# into the imported target's include directories when it runs pkg-config, but leaves it among the
# compile options when a later configure reads the results from its cache. The compile commands of
# everything that uses the target then change with the second configure, and ninja rebuilt them
# (76 steps of ci-hard's ASan build in a cold CI run). This moves such flags to the include
# directories every time, so the first and every later configure write the same build.ninja.
function(merit_pkgconfig_isystem_to_includes target)
  get_target_property(options ${target} INTERFACE_COMPILE_OPTIONS)
  if(NOT options)
    return()
  endif()
  set(kept "")
  set(dirs "")
  set(next_is_dir FALSE)
  foreach(option IN LISTS options)
    if(next_is_dir)
      list(APPEND dirs "${option}")
      set(next_is_dir FALSE)
    elseif(option STREQUAL "-isystem")
      set(next_is_dir TRUE)
    elseif(option MATCHES "^-isystem(.+)$")
      list(APPEND dirs "${CMAKE_MATCH_1}")
    else()
      list(APPEND kept "${option}")
    endif()
  endforeach()
  if(dirs)
    set_property(TARGET ${target} PROPERTY INTERFACE_COMPILE_OPTIONS "${kept}")
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES ${dirs})
  endif()
endfunction()

find_package(spdlog CONFIG REQUIRED)          # libspdlog-dev
find_package(fmt CONFIG REQUIRED)             # libfmt-dev (via libspdlog-dev)
find_package(CLI11 CONFIG REQUIRED)           # libcli11-dev
find_package(nlohmann_json CONFIG REQUIRED)   # nlohmann-json3-dev
find_package(doctest CONFIG REQUIRED)         # doctest-dev

pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET GLOBAL libsodium)        # libsodium-dev
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET GLOBAL libsecp256k1)  # libsecp256k1-dev
# Optional: libb2 is only the comparison in tools/perf/bench_blake2b (merit_crypto's BLAKE2b stays
# libsodium's, which measured as fast or faster here; docs/PERFORMANCE.md, "BLAKE2b").
pkg_check_modules(LIBB2 IMPORTED_TARGET GLOBAL libb2)                       # libb2-dev
# Optional: with liburing the dendrite batches its writes and first reads through io_uring
# (merit_net's zmtp::Poller); without it, or on a kernel that refuses io_uring, it uses plain
# send(2)/recv(2) (docs/PERFORMANCE.md, "Fan-out").
pkg_check_modules(LIBURING IMPORTED_TARGET GLOBAL liburing)                 # liburing-dev

# tl::expected is header-only; Debian ships no CMake config for it.
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp)
if(NOT TL_EXPECTED_INCLUDE_DIR)
  message(FATAL_ERROR "tl/expected.hpp not found: install libexpected-dev (scripts/install-deps)")
endif()
add_library(tl_expected INTERFACE)
target_include_directories(tl_expected SYSTEM INTERFACE "${TL_EXPECTED_INCLUDE_DIR}")

# The BIP39 English word list, embedded into merit_crypto at build time. It is standard data
# (2048 words, SHA-256 below); Debian's python3-mnemonic ships a copy.
set(MERIT_BIP39_WORDLIST "/usr/lib/python3/dist-packages/mnemonic/wordlist/english.txt"
    CACHE FILEPATH "BIP39 English word list")
if(NOT EXISTS "${MERIT_BIP39_WORDLIST}")
  message(FATAL_ERROR "BIP39 word list not found at ${MERIT_BIP39_WORDLIST}: install python3-mnemonic "
                      "(scripts/install-deps) or set -DMERIT_BIP39_WORDLIST=<path to english.txt>")
endif()
file(SHA256 "${MERIT_BIP39_WORDLIST}" _merit_wordlist_sha)
if(NOT _merit_wordlist_sha STREQUAL "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda")
  message(FATAL_ERROR "${MERIT_BIP39_WORDLIST} is not the official BIP39 English word list (SHA-256 ${_merit_wordlist_sha})")
endif()

# Wire protocol and transport (merit_wire, merit_net).
find_package(CapnProto CONFIG REQUIRED)       # libcapnp-dev, capnproto (schema compiler)
find_package(cppzmq CONFIG REQUIRED)          # cppzmq-dev, libzmq3-dev (target cppzmq)
# cpp-httplib (Debian builds it as a shared library); only the HTTP baseline in tools/perf uses it.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)  # libcpp-httplib-dev
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET GLOBAL libzmq)  # libzmq3-dev (C API: block feed)
foreach(_merit_pkg SODIUM SECP256K1 LIBB2 LIBURING HTTPLIB ZMQ)
  if(TARGET PkgConfig::${_merit_pkg})
    merit_pkgconfig_isystem_to_includes(PkgConfig::${_merit_pkg})
  endif()
endforeach()
find_package(yaml-cpp CONFIG REQUIRED)                         # libyaml-cpp-dev (configs)
# Boost.Beast/Asio, header-only: the Substrate JSON-RPC transport (one .cpp in merit_substrate).
find_package(Boost 1.74 REQUIRED)                              # libboost-dev (target Boost::headers)
find_package(Threads REQUIRED)

# Model serving (merit_serving): libtorch-dev; TORCH_LIBRARIES / TORCH_CXX_FLAGS. Debian's
# libtorch uses OpenBLAS through libopenblas0-pthread (scripts/install-deps).
# libtorch is optional: MERIT_WITH_TORCH defaults to ON when it is found. With it OFF, merit_serving,
# the fashion_mnist and charlm plugins, merit-train, bench_serving and the tests that need them are
# not built; everything else (chain, consensus, CLI, miner and validator with the hash and matmul
# plugins) builds and tests as usual. Sanitizer builds use OFF: libtorch is not instrumented.
if(NOT DEFINED MERIT_WITH_TORCH)
  find_package(Torch CONFIG QUIET)
  set(_merit_torch_default ${Torch_FOUND})
else()
  set(_merit_torch_default ${MERIT_WITH_TORCH})
endif()
option(MERIT_WITH_TORCH "Build the libtorch parts (model serving, the fashion_mnist and charlm plugins, merit-train)"
       ${_merit_torch_default})
if(MERIT_WITH_TORCH)
  find_package(Torch CONFIG REQUIRED)
else()
  message(STATUS "libtorch: off (MERIT_WITH_TORCH=OFF); not built: merit_serving, the fashion_mnist and charlm "
                 "plugins, merit-train, bench_serving, test_serving, test_subnet_fashion_mnist, test_subnet_charlm, "
                 "functional_fashion_mnist_subnet, functional_charlm_subnet")
endif()

# The python plugin host (subnets/python, docs/SUBNETS.md "Python subnets"): embeds the system's
# CPython (libpython3-dev) through pybind11's headers (pybind11-dev; header-only, so its CMake
# package, which wants an interpreter too, is not used). Optional: MERIT_WITH_PYTHON defaults to ON
# when both are found, except in sanitizer builds (libpython is not instrumented, and the
# interpreter is deliberately never finalised, which LeakSanitizer would report; pass ON to try).
# With it OFF the plugin, bench_python_subnet and the example are not built, and their tests are
# registered as skipped, saying why.
if(NOT DEFINED MERIT_WITH_PYTHON)
  find_package(Python3 3.8 QUIET COMPONENTS Development.Embed)
  find_path(MERIT_PYBIND11_INCLUDE_DIR pybind11/embed.h)
  if(Python3_Development.Embed_FOUND AND MERIT_PYBIND11_INCLUDE_DIR AND NOT MERIT_SANITIZE)
    set(_merit_python_default ON)
  else()
    set(_merit_python_default OFF)
  endif()
else()
  set(_merit_python_default ${MERIT_WITH_PYTHON})
endif()
option(MERIT_WITH_PYTHON "Build the python subnet plugin host (embeds CPython through pybind11)" ${_merit_python_default})
if(MERIT_WITH_PYTHON)
  find_package(Python3 3.8 REQUIRED COMPONENTS Development.Embed)
  find_path(MERIT_PYBIND11_INCLUDE_DIR pybind11/embed.h)
  if(NOT MERIT_PYBIND11_INCLUDE_DIR)
    message(FATAL_ERROR "MERIT_WITH_PYTHON=ON but pybind11's headers are missing (install pybind11-dev)")
  endif()
  add_library(merit_python_embed INTERFACE)
  target_link_libraries(merit_python_embed INTERFACE Python3::Python)
  target_include_directories(merit_python_embed SYSTEM INTERFACE ${MERIT_PYBIND11_INCLUDE_DIR})
  message(STATUS "python subnets: on (CPython ${Python3_VERSION}: ${Python3_LIBRARIES})")
else()
  set(MERIT_PYTHON_SKIP_REASON
      "MERIT_WITH_PYTHON=OFF (the default when libpython3-dev or pybind11-dev is missing, and in sanitizer builds)")
  message(STATUS "python subnets: off (${MERIT_PYTHON_SKIP_REASON}); not built: the python plugin, "
                 "bench_python_subnet; their tests are reported as skipped")
endif()
