# Included from bench/CMakeLists.txt: the privacy gate's per-signal costs (routing with and without
# pseudonyms, the BSN scan at ingest, the consent check at delivery).
add_executable(privacy_bench ${CMAKE_CURRENT_LIST_DIR}/privacy_bench.cpp)
target_link_libraries(privacy_bench PRIVATE schakel_privacy benchmark::benchmark)
