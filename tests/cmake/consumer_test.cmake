# ctest's C++-consumer cases (CMakeLists.txt): builds tests/cmake/consumer against chainrule, installed
# into a temporary prefix and found with find_package (MODE=find_package), or from the source tree
# with add_subdirectory (MODE=add_subdirectory), and runs it (it checks d/dx x^3 at 2 = 12).
# cmake -DMODE=... -DSOURCE_DIR=... -DBINARY_DIR=... -DWORK_DIR=... -DCXX=... -P consumer_test.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(consumer "${SOURCE_DIR}/tests/cmake/consumer")
if(MODE STREQUAL "find_package")
  run("${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
  run("${CMAKE_COMMAND}" -S "${consumer}" -B "${WORK_DIR}/build" -DCMAKE_BUILD_TYPE=Release
      "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
elseif(MODE STREQUAL "add_subdirectory")
  # Debug: the whole library compiles inside the consumer's build, and -O0 keeps that quick
  run("${CMAKE_COMMAND}" -S "${consumer}" -B "${WORK_DIR}/build" -DCMAKE_BUILD_TYPE=Debug
      "-DCMAKE_CXX_COMPILER=${CXX}" "-DCHAINRULE_SOURCE_DIR=${SOURCE_DIR}")
else()
  message(FATAL_ERROR "MODE must be find_package or add_subdirectory, not '${MODE}'")
endif()
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" -j2)
run("${WORK_DIR}/build/consumer")
# The installed package carries no -march, sanitizer or GCC-workaround flag into its consumers.
if(MODE STREQUAL "find_package")
  file(GLOB targets "${WORK_DIR}/prefix/lib*/cmake/chainrule/chainruleTargets*.cmake")
  foreach(f ${targets})
    file(READ "${f}" text)
    if(text MATCHES "-march|-fsanitize|-fno-tree-slp-vectorize")
      message(FATAL_ERROR "${f} passes a build flag on to consumers: ${CMAKE_MATCH_0}")
    endif()
  endforeach()
endif()
