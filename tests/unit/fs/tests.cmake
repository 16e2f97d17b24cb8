# The node table, the descriptor cache and budget (src/fs). FdCache and DescriptorBudget tests need nothing; NodeTable tests need root
# and loop devices (real XFS and ext4 images, which recycle inode numbers).
add_executable(fs_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/descriptor_budget_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fd_cache_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/node_table_test.cpp)
target_link_libraries(fs_unit_tests PRIVATE fastfs_fs fastfs_test_support GTest::gtest_main)
gtest_discover_tests(fs_unit_tests TEST_PREFIX "unit.fs." DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120 LABELS unit)
