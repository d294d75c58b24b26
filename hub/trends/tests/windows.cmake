# Windows (ISO weeks, week-aligned months, school years) and the trends configuration section.
add_executable(schakel_trends_windows_tests ${CMAKE_CURRENT_LIST_DIR}/windows_test.cpp
                                            ${CMAKE_CURRENT_LIST_DIR}/settings_test.cpp)
target_link_libraries(schakel_trends_windows_tests PRIVATE schakel_trends GTest::gtest_main)
schakel_discover_tests(schakel_trends_windows_tests LABELS trends)
