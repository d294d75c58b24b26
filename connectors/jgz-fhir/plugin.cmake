# The jgz-fhir connector plugin (issue 6 points 1–3, connector side): wires the FHIR reader and the
# SDQ scorer into signals. Tests carry the ctest label `jgz`.
set(jgz_fhir_connector_sources ${CMAKE_CURRENT_LIST_DIR}/mapper.cpp ${CMAKE_CURRENT_LIST_DIR}/settings.cpp)

schakel_add_plugin(jgz-fhir SOURCES ${CMAKE_CURRENT_LIST_DIR}/plugin.cpp ${jgz_fhir_connector_sources}
                   LIBRARIES jgz_fhir_reader jgz_fhir_sdq)
target_include_directories(jgz-fhir PRIVATE ${CMAKE_CURRENT_LIST_DIR})

if(SCHAKEL_TESTS)
  # The mapper called directly (no dlopen); the real signal schema checks every emitted signal.
  add_executable(jgz_fhir_connector_tests ${CMAKE_CURRENT_LIST_DIR}/tests/mapper_test.cpp ${jgz_fhir_connector_sources})
  target_include_directories(jgz_fhir_connector_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${PROJECT_SOURCE_DIR}/plugins)
  target_link_libraries(jgz_fhir_connector_tests
                        PRIVATE jgz_fhir_reader jgz_fhir_sdq schakel_plugin_sdk schakel_schema GTest::gtest_main)
  target_compile_definitions(jgz_fhir_connector_tests
                             PRIVATE JGZ_FHIR_TEST_DATA_DIR="${CMAKE_CURRENT_LIST_DIR}/tests/data")
  schakel_discover_tests(jgz_fhir_connector_tests LABELS jgz)

  # The built plugin through the hub's plugin host: proves the module loads the way the daemon loads it.
  add_executable(jgz_fhir_plugin_tests ${CMAKE_CURRENT_LIST_DIR}/tests/plugin_test.cpp)
  target_link_libraries(jgz_fhir_plugin_tests PRIVATE schakel_plugin_host GTest::gtest_main)
  target_compile_definitions(jgz_fhir_plugin_tests PRIVATE SCHAKEL_JGZ_FHIR_PLUGIN_DIR="${SCHAKEL_PLUGIN_OUTPUT_DIR}"
                                                           JGZ_FHIR_TEST_DATA_DIR="${CMAKE_CURRENT_LIST_DIR}/tests/data")
  add_dependencies(jgz_fhir_plugin_tests jgz-fhir)
  schakel_discover_tests(jgz_fhir_plugin_tests LABELS jgz)
endif()
