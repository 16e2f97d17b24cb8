# Operations: mount(8)/fstab/mount.fastfs, propagation into containers, the systemd unit, the .deb.
# Shell scripts, because what they test is shell-level behaviour of real tools (mount, unshare, cpack, dpkg).
# Exit 77 is a skip (only outside CI: with CI=true a test that cannot set up fails).
set(ops_dir ${CMAKE_CURRENT_LIST_DIR})
find_program(FASTFS_BASH bash REQUIRED)

function(fastfs_ops_test name script)
  add_test(NAME ops.${name} COMMAND ${FASTFS_BASH} ${ops_dir}/${script} ${ARGN})
  set_tests_properties(ops.${name} PROPERTIES
    ENVIRONMENT "FASTFS_BINARY=$<TARGET_FILE:fastfs>"
    SKIP_RETURN_CODE 77
    TIMEOUT 180
    LABELS "ops;integration")
endfunction()

foreach(case type_fastfs type_fuse_fastfs helper_argument_order fake fstab fstab_only_options messages)
  fastfs_ops_test(mount.${case} mount_test.sh ${case})
endforeach()
foreach(case rslave userns)
  fastfs_ops_test(namespace.${case} namespace_test.sh ${case})
endforeach()
fastfs_ops_test(systemd_unit systemd_unit_test.sh)
fastfs_ops_test(passthrough_fallback passthrough_fallback_test.sh)
if(FASTFS_LIBFUSE_BUNDLED)
  set(ops_libfuse bundled)  # linked statically: the package must not depend on a libfuse3 library
else()
  set(ops_libfuse system)
endif()
fastfs_ops_test(deb deb_test.sh ${PROJECT_BINARY_DIR} ${PROJECT_VERSION} ${ops_libfuse})
# cpack re-runs the whole install of the build tree; keep it away from tests that mount.
set_tests_properties(ops.deb PROPERTIES RUN_SERIAL TRUE)
