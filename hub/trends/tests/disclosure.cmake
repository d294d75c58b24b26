# Included from hub/trends/CMakeLists.txt: disclosure control (atoms, complementary suppression,
# differencing) and Laplace noise with the privacy budget.
add_executable(schakel_trends_disclosure_tests ${CMAKE_CURRENT_LIST_DIR}/disclosure_test.cpp
                                               ${CMAKE_CURRENT_LIST_DIR}/noise_test.cpp)
target_link_libraries(schakel_trends_disclosure_tests PRIVATE schakel_trends GTest::gtest_main)
schakel_discover_tests(schakel_trends_disclosure_tests LABELS trends privacy)
