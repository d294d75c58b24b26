# The attendance connector's CSV and JSON readers on arbitrary bodies. The mapper's sources are
# compiled into the target so the fuzzer needs no dlopen.
set(attendance_dir ${PROJECT_SOURCE_DIR}/connectors/attendance)
schakel_add_fuzzer(attendance_csv
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/attendance_csv_fuzz.cpp ${attendance_dir}/mapper.cpp ${attendance_dir}/settings.cpp
          ${PROJECT_SOURCE_DIR}/connectors/common/text.cpp ${PROJECT_SOURCE_DIR}/connectors/common/body.cpp
  INCLUDES ${attendance_dir} ${PROJECT_SOURCE_DIR}/connectors
  LIBRARIES schakel_plugin_sdk)
