# The FHIR R4 reader (issue 6 point 1): a pure library, linked into the jgz-fhir plugin and its tests.
# Position-independent because the plugin is a shared module; hidden visibility keeps it private there.
add_library(jgz_fhir_reader STATIC ${CMAKE_CURRENT_LIST_DIR}/fhir.cpp)
set_target_properties(jgz_fhir_reader PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden
                                                 VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(jgz_fhir_reader PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(jgz_fhir_reader PUBLIC nlohmann_json::nlohmann_json PRIVATE schakel_plugin_sdk)

if(SCHAKEL_TESTS)
  add_executable(jgz_fhir_reader_tests ${CMAKE_CURRENT_LIST_DIR}/tests/fhir_test.cpp)
  target_link_libraries(jgz_fhir_reader_tests PRIVATE jgz_fhir_reader GTest::gtest_main)
  schakel_discover_tests(jgz_fhir_reader_tests LABELS jgz)
endif()
