# POSIX parity and passthrough behaviour through a real mount of the built binary.
add_executable(posix_tests
  ${CMAKE_CURRENT_LIST_DIR}/parity_env.cpp
  ${CMAKE_CURRENT_LIST_DIR}/posix_parity_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/posix_behaviour_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backing_changes_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/passthrough_test.cpp)
target_link_libraries(posix_tests PRIVATE fastfs_test_support GTest::gtest_main)
gtest_discover_tests(posix_tests DISCOVERY_TIMEOUT 30 PROPERTIES LABELS posix TIMEOUT 300)

# The parity suite again on the paths passthrough does not take (-o passthrough=off: reads and writes through
# the daemon) and over FUSE's io_uring queues (with_fuse_uring.sh turns the kernel's enable_uring on for the
# run and restores it).
find_program(FASTFS_BASH_FOR_POSIX bash REQUIRED)
add_test(NAME posix.parity.passthrough_off COMMAND posix_tests --gtest_filter=AllCases/PosixParity.*)
set_tests_properties(posix.parity.passthrough_off PROPERTIES LABELS posix TIMEOUT 300
                     ENVIRONMENT FASTFS_TEST_MOUNT_OPTIONS=passthrough=off)
add_test(NAME posix.parity.io_uring
         COMMAND ${FASTFS_BASH_FOR_POSIX} ${CMAKE_CURRENT_LIST_DIR}/../../tools/with_fuse_uring.sh
                 $<TARGET_FILE:posix_tests> --gtest_filter=AllCases/PosixParity.*)
set_tests_properties(posix.parity.io_uring PROPERTIES LABELS posix TIMEOUT 300 RESOURCE_LOCK fuse_uring
                     SKIP_RETURN_CODE 77 ENVIRONMENT FASTFS_TEST_MOUNT_OPTIONS=io_uring)
