# schakel_discover_tests(<target> LABELS <label>... [TIMEOUT <seconds>] [RELEASE_ONLY])
#
# RELEASE_ONLY: slow tests (a large file through the real daemon, say) run in the release build
# only; the sanitizer build, many times slower, keeps the fast ones and does not register these.
#
# gtest_discover_tests, one ctest test per GoogleTest case, with every label set. CMake 3.25's
# gtest_discover_tests splits `PROPERTIES LABELS "a;b"` into separate arguments and keeps only the
# first label, so the labels (and the timeout) are applied by a script ctest includes after discovery.
function(schakel_discover_tests target)
  cmake_parse_arguments(arg "RELEASE_ONLY" "TIMEOUT" "LABELS" ${ARGN})
  if(arg_RELEASE_ONLY AND SCHAKEL_SANITIZE)
    return()
  endif()
  set(list_var ${target}_discovered_tests)
  gtest_discover_tests(${target} TEST_LIST ${list_var} DISCOVERY_TIMEOUT 60)
  set(props "LABELS \"${arg_LABELS}\"")
  if(arg_TIMEOUT)
    string(APPEND props " TIMEOUT ${arg_TIMEOUT}")
  endif()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_properties.cmake)
  file(WRITE ${script}
       "if(${list_var})\n"
       "  set_tests_properties(\${${list_var}} PROPERTIES ${props})\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()
