# The built binary as users and mount helpers run it: bad input, mounting and daemonizing, the tools.
add_executable(fastfs_cli_integration_tests
  ${CMAKE_CURRENT_LIST_DIR}/cli_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli_errors_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli_mount_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli_tools_test.cpp)
target_link_libraries(fastfs_cli_integration_tests PRIVATE fastfs_test_support GTest::gtest_main)
gtest_discover_tests(fastfs_cli_integration_tests TEST_PREFIX "integration.cli." DISCOVERY_TIMEOUT 30
                     PROPERTIES TIMEOUT 120 LABELS cli)
