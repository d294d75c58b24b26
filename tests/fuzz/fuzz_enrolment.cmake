# Enrolment import (issue 7): the CSV parser and the POST /v1/enrolment body parser. The sources, with
# the shared CSV table reader and the calendar arithmetic that checks the dates, are compiled into the
# target (not linked from schakel_trends/schakel_common) so libFuzzer sees their coverage.
schakel_add_fuzzer(enrolment
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_enrolment.cpp ${PROJECT_SOURCE_DIR}/hub/trends/enrolment.cpp
          ${PROJECT_SOURCE_DIR}/hub/trends/windows.cpp ${PROJECT_SOURCE_DIR}/hub/common/csv_table.cpp
  INCLUDES ${PROJECT_SOURCE_DIR}/hub
  LIBRARIES nlohmann_json::nlohmann_json schakel_plugin_abi)
