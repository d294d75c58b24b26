# Storage engine benchmark (owned with hub/storage). Included from bench/CMakeLists.txt.
add_executable(schakel_storage_bench ${CMAKE_CURRENT_LIST_DIR}/storage_bench.cpp)
target_link_libraries(schakel_storage_bench PRIVATE schakel_storage benchmark::benchmark)
