# cmake -DMERIT=<merit binary> -DINPUT=<epoch json> -DEXPECTED=<expected output> -P compare_cli_output.cmake
# Runs `merit yuma epoch --input INPUT` and fails unless it exits 0 and prints EXPECTED exactly.
execute_process(COMMAND "${MERIT}" yuma epoch --input "${INPUT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE actual ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "merit yuma epoch --input ${INPUT} exited with ${rc}: ${err}")
endif()
file(READ "${EXPECTED}" expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "output differs from ${EXPECTED}\n--- expected\n${expected}--- actual\n${actual}")
endif()
message(STATUS "merit yuma epoch --input ${INPUT}: output matches ${EXPECTED}")
