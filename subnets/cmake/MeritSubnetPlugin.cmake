# merit_add_subnet_plugin(<name> SOURCES <src>... [LIBS <lib>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds a meritnet subnet plugin: a MODULE library libmerit_subnet_<name>.so (target
# merit_subnet_<name>) compiled against the public SDK headers only (target MeritSubnetSDK::sdk),
# with hidden visibility and a linker version script so that merit_subnet_plugin_v1 is its only
# exported symbol, and linked with --no-undefined so that a missing library fails the build
# rather than the dlopen().
# OUTPUT_DIRECTORY defaults to ${CMAKE_BINARY_DIR}/subnets.
#
# The same file serves meritnet's own plugins and third-party ones (installed next to
# MeritSubnetSDKConfig.cmake), so both are built the same way.
function(merit_add_subnet_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(NOT name MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "merit_add_subnet_plugin: '${name}' is not a subnet name (a-z, 0-9 and _)")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "merit_add_subnet_plugin(${name}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/subnets")
  endif()
  set(target merit_subnet_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE MeritSubnetSDK::sdk ${ARG_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "merit_subnet_${name}"
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Exports exactly the entry point, also hiding template instantiations from system headers
    # (which visibility presets leave exported).
    set(map "${CMAKE_BINARY_DIR}/merit_subnet_plugin.map")
    file(CONFIGURE OUTPUT "${map}" CONTENT "{\n  global: merit_subnet_plugin_v1;\n  local: *;\n};\n")
    target_link_options(${target} PRIVATE "LINKER:--version-script=${map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map}")
  endif()
  # Sanitizer runtimes are provided by the host executable, so undefined symbols are expected then.
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND NOT MERIT_SANITIZE AND NOT MERIT_FUZZ)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()
