# Included from bench/CMakeLists.txt: include(${CMAKE_CURRENT_LIST_DIR}/signing.cmake)
add_executable(signing_bench ${CMAKE_CURRENT_LIST_DIR}/signing_bench.cpp)
target_link_libraries(signing_bench PRIVATE schakel_webhooks benchmark::benchmark)
