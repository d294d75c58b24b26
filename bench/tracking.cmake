# Included from bench/CMakeLists.txt: the tracking capability's hot paths — mapping an LVS export
# (long and wide shapes) and the tracking-trends processor per measurement. The connector's and the
# processor's sources are compiled in (no dlopen), as their unit tests do.
set(tracking_bench_connector ${PROJECT_SOURCE_DIR}/connectors/tracking)
set(tracking_bench_processor ${PROJECT_SOURCE_DIR}/plugins/tracking-trends)
set_source_files_properties(${SCHAKEL_TRACKING_EMBEDDED_PROFILES} PROPERTIES GENERATED TRUE)
add_executable(tracking_bench ${CMAKE_CURRENT_LIST_DIR}/tracking_bench.cpp
  ${tracking_bench_connector}/mapper.cpp ${tracking_bench_connector}/profile.cpp ${SCHAKEL_TRACKING_EMBEDDED_PROFILES}
  ${tracking_bench_processor}/processor.cpp ${tracking_bench_processor}/settings.cpp
  ${tracking_bench_processor}/state.cpp ${tracking_bench_processor}/trends.cpp)
add_dependencies(tracking_bench tracking)  # the generated profile table
target_include_directories(tracking_bench PRIVATE ${PROJECT_SOURCE_DIR} ${tracking_bench_connector})
target_link_libraries(tracking_bench PRIVATE schakel_plugin_sdk schakel_connector_text yaml-cpp benchmark::benchmark)
