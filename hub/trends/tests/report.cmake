# Issue 7: enrolment parsing, the CSV export and the SVG trend plot. The plot test renders the SVG
# with rsvg-convert (Debian librsvg2-bin) and reads the PNG back with libpng; it fails, not skips,
# when rsvg-convert is missing.
find_package(PNG REQUIRED)
add_executable(schakel_trends_report_tests ${CMAKE_CURRENT_LIST_DIR}/enrolment_test.cpp
                                           ${CMAKE_CURRENT_LIST_DIR}/report_test.cpp
                                           ${CMAKE_CURRENT_LIST_DIR}/plot_test.cpp)
target_link_libraries(schakel_trends_report_tests PRIVATE schakel_trends schakel_test_support PNG::PNG
                                                          GTest::gtest_main)
schakel_discover_tests(schakel_trends_report_tests LABELS trends)
