# Signal validation throughput (hub/schema). Included from bench/CMakeLists.txt.
add_executable(validation_bench ${CMAKE_CURRENT_LIST_DIR}/validation_bench.cpp)
target_link_libraries(validation_bench PRIVATE schakel_schema benchmark::benchmark)
