# schakel-load: the daemon load harness (bench/load/). Spawns bin/schakel and bin/schakel-receiver,
# drives HTTP load on loopback and reports throughput, latency and memory. Included from
# bench/CMakeLists.txt; run by hand, see docs/performance.md.
add_executable(schakel-load
  ${CMAKE_CURRENT_LIST_DIR}/load/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load/driver.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load/child.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load/prometheus.cpp)
target_link_libraries(schakel-load PRIVATE schakel_asio schakel_common nlohmann_json::nlohmann_json CLI11::CLI11)
# The absence mapping is shared with the end-to-end tests (tests/support/absence_fixture.hpp).
target_include_directories(schakel-load PRIVATE ${PROJECT_SOURCE_DIR}/tests)
