# Unit tests of the Docker volume plugin's logic: options, state file, mount table parsing, the driver over
# a fake attacher, and the JSON protocol. No root, no Docker (the container suite covers those).
add_executable(fastfs_docker_plugin_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/volume_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mount_table_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/driver_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol_test.cpp)
target_link_libraries(fastfs_docker_plugin_unit_tests PRIVATE fastfs_docker_plugin fastfs_test_support
                      GTest::gtest_main)
gtest_discover_tests(fastfs_docker_plugin_unit_tests TEST_PREFIX "unit.docker_plugin." DISCOVERY_TIMEOUT 30
                     PROPERTIES LABELS unit)
