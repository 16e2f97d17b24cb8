# Unit tests of the command line's pure parts: the -o language, output formats.
add_executable(fastfs_cli_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/format_test.cpp)
target_link_libraries(fastfs_cli_unit_tests PRIVATE fastfs_cli fastfs_test_support GTest::gtest_main)
gtest_discover_tests(fastfs_cli_unit_tests TEST_PREFIX "unit.cli." DISCOVERY_TIMEOUT 30)
