# Compiler set-up shared by every target: ccache, warnings, sanitizers, fuzzing.

find_program(MERIT_CCACHE ccache)
if(MERIT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${MERIT_CCACHE}")
  message(STATUS "Using ccache: ${MERIT_CCACHE}")
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

if(MERIT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(MERIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MERIT_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Every library is instrumented for coverage; only fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# merit_library(NAME lib SOURCES ... DEPS ...): a static library with public headers in
# common/include and private sources; warnings on.
function(merit_target_defaults target)
  target_link_libraries(${target} PRIVATE merit_warnings)
endfunction()
