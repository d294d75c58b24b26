# Included from bench/CMakeLists.txt: disclosure control for regional trends — loading a school
# year's release history into the auditor and deciding one week's release (issue 7).
add_executable(trends_bench ${CMAKE_CURRENT_LIST_DIR}/trends_bench.cpp)
target_link_libraries(trends_bench PRIVATE schakel_trends benchmark::benchmark)
