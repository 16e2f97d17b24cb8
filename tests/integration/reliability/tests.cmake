# Reliability suites (issue 5): python drivers in tests/tools run the built fastfs over real loop-mounted
# filesystems. Exit 77 = skipped (no loop devices / FUSE here); with CI=true the drivers fail instead.
# CI sizes are small (the whole set runs in about 4 minutes); docs/reliability.md has the full-size runs.
# The system python first: a pyenv shim is a shell script that does not pass ctest's SIGTERM on to python,
# and the drivers need that signal to unmount what they mounted.
find_program(FASTFS_REL_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT FASTFS_REL_PYTHON)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(FASTFS_REL_PYTHON ${Python3_EXECUTABLE})
endif()

set(FASTFS_REL_TOOLS ${CMAKE_CURRENT_LIST_DIR}/../../tools)

function(fastfs_reliability_test name timeout script)
  add_test(NAME reliability_${name}
           COMMAND ${FASTFS_REL_PYTHON} ${FASTFS_REL_TOOLS}/${script} --binary $<TARGET_FILE:fastfs> ${ARGN})
  set_tests_properties(reliability_${name} PROPERTIES LABELS "reliability;integration" SKIP_RETURN_CODE 77
                       TIMEOUT ${timeout})
endfunction()

# The tester must find nothing between two native directories before its verdict on fastfs means anything.
fastfs_reliability_test(difftest_selftest_xfs 60 difftest.py --native --fs xfs --seeds 1,2,3 --ops 8000)

# 1. Differential random testing: through the mount vs directly on the same kind of filesystem.
fastfs_reliability_test(difftest_xfs 120 difftest.py --fs xfs --seeds 1,2,3 --ops 8000)
fastfs_reliability_test(difftest_ext4 120 difftest.py --fs ext4 --seeds 4,5 --ops 8000)
fastfs_reliability_test(difftest_btrfs 120 difftest.py --fs btrfs --seeds 6,7 --ops 8000)
fastfs_reliability_test(difftest_tmpfs 120 difftest.py --fs tmpfs --seeds 8,9 --ops 8000)

# The same, on the path passthrough does not take, and over FUSE's io_uring queues (with_fuse_uring.sh turns
# the kernel's enable_uring on for the run and restores it; the lock keeps two such runs apart).
fastfs_reliability_test(difftest_xfs_passthrough_off 120 difftest.py --fs xfs --seeds 1,2 --ops 8000
                        --mount-options passthrough=off)
add_test(NAME reliability_difftest_xfs_io_uring
         COMMAND bash ${FASTFS_REL_TOOLS}/with_fuse_uring.sh ${FASTFS_REL_PYTHON} ${FASTFS_REL_TOOLS}/difftest.py
                 --binary $<TARGET_FILE:fastfs> --fs xfs --seeds 1,2 --ops 8000 --mount-options io_uring)
set_tests_properties(reliability_difftest_xfs_io_uring PROPERTIES LABELS "reliability;integration"
                     SKIP_RETURN_CODE 77 TIMEOUT 120 RESOURCE_LOCK fuse_uring)

# 2. Concurrent load with a 60 s per-op watchdog.
fastfs_reliability_test(load_xfs 200 loadtest.py --fs xfs --workers 8 --duration 30)
set_tests_properties(reliability_load_xfs PROPERTIES PROCESSORS 2)

# 3. Faults: signals, ENOSPC, changes behind the mount's back, unlinked open files.
foreach(fault sigterm sigkill enospc-xfs enospc-ext4 backing-changes unlinked-open mmap-append)
  fastfs_reliability_test(faults_${fault} 120 faults.py --test ${fault})
endforeach()

# 4. Permissions with allow_other, as uid 1000, through the mount vs native.
fastfs_reliability_test(permissions_xfs 120 permtest.py --fs xfs)

# 5. Many files: bounded daemon fds, no EMFILE, space freed.
fastfs_reliability_test(manyfiles_xfs 300 manyfiles.py --fs xfs --files 50000 --fd-bound 5500)
set_tests_properties(reliability_manyfiles_xfs PROPERTIES PROCESSORS 2)

# 6. Inode-number reuse (issue 15): concurrent create/rename/remove on small XFS and ext4 images, with removed
# inodes held by O_PATH descriptors and working directories; through the mount vs natively.
fastfs_reliability_test(reuse_xfs 300 reusetest.py --fs xfs --seeds 1,2 --duration 8)
fastfs_reliability_test(reuse_ext4 300 reusetest.py --fs ext4 --seeds 3,4 --duration 8)
set_tests_properties(reliability_reuse_xfs reliability_reuse_ext4 PROPERTIES PROCESSORS 2)

# 7. Coherence (issue 16): appends with other writers, SEEK_DATA after mmap writes, outside attribute changes,
# first listings racing outside changes, readdir vs stat inode numbers; natively and through the mount, with
# each caching option.
fastfs_reliability_test(coherence_xfs 300 coherence.py --fs xfs)
fastfs_reliability_test(coherence_ext4 300 coherence.py --fs ext4)
set_tests_properties(reliability_coherence_xfs reliability_coherence_ext4 PROPERTIES RESOURCE_LOCK fuse_uring)

# 8. Security under allow_other (issue 10): inode flags by both ioctl numbers, set-user-ID bits, supplementary
# groups, trusted.* names, append-only/immutable files, a user namespace's root, descriptor starvation, the
# stats ioctl, read-only mounts, ext4's reserved blocks; as unprivileged users, through the mount vs natively.
fastfs_reliability_test(security_xfs 300 securitytest.py)
