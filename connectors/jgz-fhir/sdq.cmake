# SDQ scoring (issue 6 point 2): a pure library the plugin links; no I/O, no FHIR.
add_library(jgz_fhir_sdq STATIC ${CMAKE_CURRENT_LIST_DIR}/sdq.cpp)
set_target_properties(jgz_fhir_sdq PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(jgz_fhir_sdq PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(jgz_fhir_sdq PUBLIC schakel_plugin_sdk nlohmann_json::nlohmann_json)

if(SCHAKEL_TESTS)
  add_executable(jgz_fhir_sdq_tests ${CMAKE_CURRENT_LIST_DIR}/tests/sdq_test.cpp)
  target_link_libraries(jgz_fhir_sdq_tests PRIVATE jgz_fhir_sdq GTest::gtest_main)
  schakel_discover_tests(jgz_fhir_sdq_tests LABELS jgz)
endif()
