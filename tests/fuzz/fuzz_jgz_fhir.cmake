# The JGZ connector's FHIR R4 reader on arbitrary bodies. Its source is compiled into the target so
# the fuzzer needs no dlopen.
set(jgz_fhir_dir ${PROJECT_SOURCE_DIR}/connectors/jgz-fhir)
schakel_add_fuzzer(jgz_fhir
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_jgz_fhir.cpp ${jgz_fhir_dir}/fhir.cpp
  INCLUDES ${jgz_fhir_dir}
  LIBRARIES schakel_plugin_sdk)
