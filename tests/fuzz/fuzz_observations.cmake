# The observations connector's mapping path (JSON bodies under three settings shapes, and arbitrary
# settings text). Its sources and the shared connector text helpers are compiled into the target.
set(observations_dir ${PROJECT_SOURCE_DIR}/connectors/observations)
schakel_add_fuzzer(observations
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_observations.cpp ${observations_dir}/mapper.cpp ${observations_dir}/settings.cpp
          ${PROJECT_SOURCE_DIR}/connectors/common/text.cpp ${PROJECT_SOURCE_DIR}/connectors/common/body.cpp
  INCLUDES ${observations_dir} ${PROJECT_SOURCE_DIR}/connectors
  LIBRARIES schakel_plugin_sdk)
