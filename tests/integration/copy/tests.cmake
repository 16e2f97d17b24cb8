# Copy offload end to end: cp, python os.copy_file_range and the fastfs tools through a real mount of the
# built binary, on real loop-mounted XFS (reflink), btrfs, ext4 and tmpfs, checked byte for byte.
add_executable(copy_integration_tests
  ${CMAKE_CURRENT_LIST_DIR}/../posix/parity_env.cpp
  ${CMAKE_CURRENT_LIST_DIR}/copy_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_filesystem.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reflink_copy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/large_and_sparse_copy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/range_copy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/enospc_copy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/clone_tool_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cross_fs_copy_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_flags_test.cpp)
target_include_directories(copy_integration_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../posix)
# libfuse 3.18 answers COPY_FILE_RANGE_64, so one request may copy more than 4 GiB (src/fuse/copy_ops.cpp).
if(FASTFS_LIBFUSE_VERSION VERSION_GREATER_EQUAL 3.18)
  set(copy_it_libfuse_copy_64 1)
else()
  set(copy_it_libfuse_copy_64 0)
endif()
target_compile_definitions(copy_integration_tests PRIVATE
  FASTFS_COPY_CFR_SCRIPT="${CMAKE_CURRENT_LIST_DIR}/cfr.py"
  FASTFS_LIBFUSE_ANSWERS_COPY_FILE_RANGE_64=${copy_it_libfuse_copy_64})
target_link_libraries(copy_integration_tests PRIVATE fastfs_test_support GTest::gtest_main)
# One label: gtest_discover_tests flattens a list ("integration;copy" arrives as LABELS=integration and a
# stray property "copy"). `ctest -L integration` and `ctest -L copy` both match it (-L is a regex).
gtest_discover_tests(copy_integration_tests TEST_PREFIX "integration.copy." DISCOVERY_TIMEOUT 30
                     PROPERTIES TIMEOUT 300 LABELS "integration-copy")
