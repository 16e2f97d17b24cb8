# Containers for real: Debian's dockerd (no network, private data root), images made with `docker import`,
# the Docker volume plugin and the documented bind-mount recipes. Each test runs in its own mount and PID
# namespaces, so whatever it starts or mounts ends with it. Exit 77 is a skip (only outside CI).
set(containers_dir ${CMAKE_CURRENT_LIST_DIR})
find_program(FASTFS_BASH bash REQUIRED)

function(fastfs_container_test name script)
  add_test(NAME containers.${name} COMMAND ${FASTFS_BASH} ${containers_dir}/${script} ${ARGN})
  set_tests_properties(containers.${name} PROPERTIES
    ENVIRONMENT "FASTFS_BINARY=$<TARGET_FILE:fastfs>;FASTFS_PLUGIN_BINARY=$<TARGET_FILE:fastfs-docker-plugin>"
    SKIP_RETURN_CODE 77
    TIMEOUT 300
    LABELS "containers;integration")
endfunction()

foreach(case basics copies compose users userns restarts crashes)
  fastfs_container_test(plugin.${case} plugin_test.sh ${case})
endforeach()
foreach(case plain rslave)
  fastfs_container_test(bind.${case} bind_test.sh ${case})
endforeach()
fastfs_container_test(plugin.unit unit_test.sh)
