# The generic-json mapper on arbitrary bodies (JSON, NDJSON, garbage). The mapper's sources are
# compiled into the target so the fuzzer needs no dlopen.
set(generic_json_dir ${PROJECT_SOURCE_DIR}/connectors/generic-json)
schakel_add_fuzzer(generic_json
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/generic_json_fuzz.cpp ${generic_json_dir}/mapper.cpp ${generic_json_dir}/settings.cpp
  INCLUDES ${generic_json_dir}
  LIBRARIES schakel_plugin_sdk)
