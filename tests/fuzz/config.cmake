# Fuzzes the configuration loader (hub/config). config.cpp is compiled into the target itself so
# libFuzzer's coverage instrumentation sees the loader (and the trends section's parser, and the
# CIDR parser of allow_destinations); the schema library is linked as is.
schakel_add_fuzzer(config
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_fuzz.cpp ${PROJECT_SOURCE_DIR}/hub/config/config.cpp
          ${PROJECT_SOURCE_DIR}/hub/config/tls_files.cpp
          ${PROJECT_SOURCE_DIR}/hub/trends/measures.cpp ${PROJECT_SOURCE_DIR}/hub/trends/windows.cpp
          ${PROJECT_SOURCE_DIR}/hub/trends/model.cpp ${PROJECT_SOURCE_DIR}/hub/common/destination_guard.cpp
  LIBRARIES schakel_schema schakel_common yaml-cpp OpenSSL::Crypto)
