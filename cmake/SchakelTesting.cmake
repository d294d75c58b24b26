# schakel_discover_tests(<target> LABELS <label>... [TIMEOUT <seconds>] [RELEASE_ONLY])
#
# RELEASE_ONLY: slow tests (a large file through the real daemon, say) run in the release build
# only; the sanitizer build, many times slower, keeps the fast ones and does not register these.
#
# gtest_discover_tests, one ctest test per GoogleTest case, with every label set. CMake 3.25's
# gtest_discover_tests splits `PROPERTIES LABELS "a;b"` into separate arguments and keeps only the
# first label, so the labels (and the timeout) are applied by a script ctest includes after discovery.
#
# PROPERTIES <name> <value>...: further test properties for every case (schakel_discover_postgres_tests).
function(schakel_discover_tests target)
  cmake_parse_arguments(arg "RELEASE_ONLY" "TIMEOUT" "LABELS;PROPERTIES" ${ARGN})
  if(arg_RELEASE_ONLY AND SCHAKEL_SANITIZE)
    return()
  endif()
  set(list_var ${target}_discovered_tests)
  gtest_discover_tests(${target} TEST_LIST ${list_var} DISCOVERY_TIMEOUT 60)
  set(props "LABELS \"${arg_LABELS}\"")
  if(arg_TIMEOUT)
    string(APPEND props " TIMEOUT ${arg_TIMEOUT}")
  endif()
  foreach(p IN LISTS arg_PROPERTIES)
    string(APPEND props " \"${p}\"")
  endforeach()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_properties.cmake)
  file(WRITE ${script}
       "if(${list_var})\n"
       "  set_tests_properties(\${${list_var}} PROPERTIES ${props})\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()

# schakel_discover_postgres_tests(<target> LABELS <label>... [TIMEOUT <seconds>] [TLS] [RELEASE_ONLY])
#
# As schakel_discover_tests, for a test program that needs a PostgreSQL server: one throw-away cluster
# per program (tests/support/pg_cluster.sh), started by a CTest fixture before its first case and
# stopped after its last, also when a case crashed. Its Unix socket is in a temp dir named after the
# build tree and the target (a socket path must stay under 108 bytes), handed to every case as
# SCHAKEL_TEST_PG_HOST; tests/support/pg_test_database.hpp gives each case its own database there.
# TLS: the cluster also listens on 127.0.0.1 (a free port in <dir>/port) with a throw-away CA.
# Every case and both fixture steps carry the label postgres besides LABELS.
function(schakel_discover_postgres_tests target)
  cmake_parse_arguments(arg "RELEASE_ONLY;TLS" "TIMEOUT" "LABELS" ${ARGN})
  if(arg_RELEASE_ONLY AND SCHAKEL_SANITIZE)
    return()
  endif()
  set(labels ${arg_LABELS})
  list(APPEND labels postgres)
  list(REMOVE_DUPLICATES labels)
  string(MD5 build_hash "${CMAKE_BINARY_DIR}")
  string(SUBSTRING "${build_hash}" 0 8 build_hash)
  set(dir "/tmp/schakel-pg-${build_hash}-${target}")
  set(fixture "postgres_${target}")
  set(cluster ${PROJECT_SOURCE_DIR}/tests/support/pg_cluster.sh)
  set(tls_flag "")
  if(arg_TLS)
    set(tls_flag --tls)
  endif()
  add_test(NAME ${target}.cluster_start COMMAND ${cluster} start ${dir} ${tls_flag})
  set_tests_properties(${target}.cluster_start PROPERTIES FIXTURES_SETUP ${fixture} LABELS "${labels}" TIMEOUT 120)
  add_test(NAME ${target}.cluster_stop COMMAND ${cluster} stop ${dir})
  set_tests_properties(${target}.cluster_stop PROPERTIES FIXTURES_CLEANUP ${fixture} LABELS "${labels}" TIMEOUT 60)
  set(timeout "")
  if(arg_TIMEOUT)
    set(timeout TIMEOUT ${arg_TIMEOUT})
  endif()
  schakel_discover_tests(${target} LABELS ${labels} ${timeout}
                         PROPERTIES FIXTURES_REQUIRED ${fixture} ENVIRONMENT "SCHAKEL_TEST_PG_HOST=${dir}")
endfunction()
