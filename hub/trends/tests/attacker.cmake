# The attacker (attacker.hpp): ground-truth school histories released through plan_release, and an
# oracle that solves everything a partner received for numbers about fewer than k students. The
# issue's situations and the oracle's own checks are quick; the random histories (and the noise
# pairs) take a while, so they are a separate executable that runs in the release build only.
add_library(schakel_trends_attacker STATIC ${CMAKE_CURRENT_LIST_DIR}/attacker.cpp)
target_link_libraries(schakel_trends_attacker PUBLIC schakel_trends)

add_executable(schakel_trends_attacker_tests ${CMAKE_CURRENT_LIST_DIR}/attacker_test.cpp)
target_link_libraries(schakel_trends_attacker_tests PRIVATE schakel_trends_attacker GTest::gtest_main)
schakel_discover_tests(schakel_trends_attacker_tests LABELS trends privacy)

add_executable(schakel_trends_attacker_random_tests ${CMAKE_CURRENT_LIST_DIR}/attacker_random_test.cpp)
target_link_libraries(schakel_trends_attacker_random_tests PRIVATE schakel_trends_attacker GTest::gtest_main)
schakel_discover_tests(schakel_trends_attacker_random_tests LABELS trends privacy TIMEOUT 600 RELEASE_ONLY)
