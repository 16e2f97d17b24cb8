# Runs at install time (see CMakeLists.txt): CMAKE_INSTALL_PREFIX is the prefix of this installation.
if(fastfs_helper_dir)
  set(destination "${fastfs_helper_dir}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/(usr)?/*$")
  set(destination "/sbin")
elseif(IS_ABSOLUTE "${fastfs_sbindir}")
  set(destination "${fastfs_sbindir}")
else()
  set(destination "${CMAKE_INSTALL_PREFIX}/${fastfs_sbindir}")
endif()
# file(INSTALL) adds $DESTDIR itself and records the file in install_manifest.txt.
file(INSTALL "${fastfs_helper_source}" DESTINATION "${destination}" USE_SOURCE_PERMISSIONS)
