# Fuzzes the consent API's request validation (hub/privacy/consent.cpp) on arbitrary JSON text.
# consent.cpp is compiled into the target so libFuzzer's coverage sees it; it needs only nlohmann/json.
schakel_add_fuzzer(consent_request
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_consent_request.cpp ${PROJECT_SOURCE_DIR}/hub/privacy/consent.cpp
  INCLUDES ${PROJECT_SOURCE_DIR}/hub
  LIBRARIES nlohmann_json::nlohmann_json schakel_plugin_abi)
