# The school-calendar parsers (hub/calendar: parse_ics, parse_csv) on arbitrary bytes; the first
# byte picks the parser. calendar.cpp is compiled into the target itself (not schakel_calendar,
# which also carries the CLI).
schakel_add_fuzzer(calendar
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/calendar_fuzz.cpp ${PROJECT_SOURCE_DIR}/hub/calendar/calendar.cpp
  INCLUDES ${PROJECT_SOURCE_DIR}/hub
  LIBRARIES nlohmann_json::nlohmann_json schakel_plugin_abi)
