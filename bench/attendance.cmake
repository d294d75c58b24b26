# schakel-attendance-bench: one school's year of absence registrations through the drop folder
# (bench/attendance/). Generates the year on a real school calendar, spawns bin/schakel and
# bin/schakel-receiver (reusing the load harness's child-process helper) and times ingest plus rule
# evaluation. Included from bench/CMakeLists.txt; run by hand, see docs/performance.md.
add_executable(schakel-attendance-bench
  ${CMAKE_CURRENT_LIST_DIR}/attendance/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/attendance/generator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/attendance/harness.cpp
  ${CMAKE_CURRENT_LIST_DIR}/attendance/http_get.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load/child.cpp)
target_include_directories(schakel-attendance-bench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(schakel-attendance-bench PRIVATE schakel_calendar SQLite::SQLite3
                      nlohmann_json::nlohmann_json CLI11::CLI11)
target_compile_definitions(schakel-attendance-bench PRIVATE
  SCHAKEL_EXAMPLE_CALENDAR="${PROJECT_SOURCE_DIR}/deploy/examples/calendars/2026-2027-midden.ics")

# The generator's own checks (determinism, volume, file split); built only with tests on.
if(SCHAKEL_TESTS)
  add_executable(schakel_attendance_bench_tests
    ${CMAKE_CURRENT_LIST_DIR}/attendance/tests/generator_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/attendance/generator.cpp)
  target_include_directories(schakel_attendance_bench_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(schakel_attendance_bench_tests PRIVATE schakel_calendar GTest::gtest_main)
  target_compile_definitions(schakel_attendance_bench_tests PRIVATE
    SCHAKEL_EXAMPLE_CALENDAR="${PROJECT_SOURCE_DIR}/deploy/examples/calendars/2026-2027-midden.ics")
  gtest_discover_tests(schakel_attendance_bench_tests PROPERTIES LABELS "attendance")
endif()
