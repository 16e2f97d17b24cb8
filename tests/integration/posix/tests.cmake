# POSIX parity and passthrough behaviour through a real mount of the built binary.
add_executable(posix_tests
  ${CMAKE_CURRENT_LIST_DIR}/parity_env.cpp
  ${CMAKE_CURRENT_LIST_DIR}/posix_parity_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/posix_behaviour_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backing_changes_test.cpp)
target_link_libraries(posix_tests PRIVATE fastfs_test_support GTest::gtest_main)
gtest_discover_tests(posix_tests DISCOVERY_TIMEOUT 30 PROPERTIES LABELS posix TIMEOUT 300)
