# Copy engine suites (ctest -R "^copy[.]"): every test runs on real loop-mounted xfs (reflink=1), btrfs, ext4, tmpfs.
set(COPY_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(copy_engine_tests
  ${COPY_TEST_DIR}/copy_range_test.cpp
  ${COPY_TEST_DIR}/fallback_test.cpp
  ${COPY_TEST_DIR}/file_copy_test.cpp
  ${COPY_TEST_DIR}/holes_test.cpp
  ${COPY_TEST_DIR}/large_file_test.cpp
  ${COPY_TEST_DIR}/reflink_test.cpp
  ${COPY_TEST_DIR}/tree_copy_test.cpp)
target_link_libraries(copy_engine_tests PRIVATE fastfs_copy fastfs_test_support GTest::gtest_main)
gtest_discover_tests(copy_engine_tests TEST_PREFIX "copy." PROPERTIES TIMEOUT 120 LABELS unit)
