# Runs at install time: CMAKE_INSTALL_PREFIX is this installation's prefix (/usr for the .deb).
if(IS_ABSOLUTE "${fastfs_sbindir}")
  set(FASTFS_PLUGIN_PROGRAM "${fastfs_sbindir}/fastfs-docker-plugin")
else()
  set(FASTFS_PLUGIN_PROGRAM "${CMAKE_INSTALL_PREFIX}/${fastfs_sbindir}/fastfs-docker-plugin")
endif()
configure_file("${fastfs_unit_source}" "${fastfs_unit_build}" @ONLY)
# file(INSTALL) adds $DESTDIR itself and records the file in install_manifest.txt.
file(INSTALL "${fastfs_unit_build}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
