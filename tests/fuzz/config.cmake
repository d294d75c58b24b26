# Fuzzes the configuration loader (hub/config). config.cpp is compiled into the target itself so
# libFuzzer's coverage instrumentation sees the loader; the schema library is linked as is.
schakel_add_fuzzer(config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_fuzz.cpp ${PROJECT_SOURCE_DIR}/hub/config/config.cpp
  LIBRARIES schakel_schema schakel_common yaml-cpp)
