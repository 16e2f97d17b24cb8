# Tree copies (issue 11): `fastfs clone -r` and `copy -r` through a real mount of the built binary on real
# loop-mounted XFS, btrfs and ext4, compared entry by entry with cp -a run natively, as root and as uid 1000
# (tests/tools/treetest.py). Exit 77 = skipped (no loop devices / FUSE here); with CI=true it fails instead.
# The system python first: a pyenv shim does not pass ctest's SIGTERM on, and the driver needs it to unmount.
find_program(FASTFS_TREE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT FASTFS_TREE_PYTHON)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(FASTFS_TREE_PYTHON ${Python3_EXECUTABLE})
endif()

foreach(fs xfs btrfs ext4)
  add_test(NAME tree_copy_${fs}
           COMMAND ${FASTFS_TREE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/../../tools/treetest.py
                   --binary $<TARGET_FILE:fastfs> --fs ${fs})
  set_tests_properties(tree_copy_${fs} PROPERTIES LABELS "integration;tree" SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()
