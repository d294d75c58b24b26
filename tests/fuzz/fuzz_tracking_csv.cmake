# The tracking connector's mapping path (CSV/JSON bodies under shipped and inline profiles, and
# arbitrary settings text). Its sources, the shared connector text helpers and the generated
# profile table (set by connectors/tracking/CMakeLists.txt) are compiled into the target.
set(tracking_dir ${PROJECT_SOURCE_DIR}/connectors/tracking)
set_source_files_properties(${SCHAKEL_TRACKING_EMBEDDED_PROFILES} PROPERTIES GENERATED TRUE)
schakel_add_fuzzer(tracking_csv
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_tracking_csv.cpp ${tracking_dir}/mapper.cpp ${tracking_dir}/profile.cpp
          ${PROJECT_SOURCE_DIR}/connectors/common/text.cpp ${PROJECT_SOURCE_DIR}/connectors/common/body.cpp ${SCHAKEL_TRACKING_EMBEDDED_PROFILES}
  INCLUDES ${tracking_dir} ${PROJECT_SOURCE_DIR}/connectors
  LIBRARIES schakel_plugin_sdk yaml-cpp)
