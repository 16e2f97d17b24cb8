# Unit tests of the command line's pure parts: the -o language, output formats.
add_executable(fastfs_cli_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/format_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/help_test.cpp)
target_link_libraries(fastfs_cli_unit_tests PRIVATE fastfs_cli fastfs_test_support GTest::gtest_main)
# help_test.cpp reads the man page from the source tree.
target_compile_definitions(fastfs_cli_unit_tests PRIVATE FASTFS_MAN_PAGE="${PROJECT_SOURCE_DIR}/docs/fastfs.8")
gtest_discover_tests(fastfs_cli_unit_tests TEST_PREFIX "unit.cli." DISCOVERY_TIMEOUT 30)
