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
# 0755 whatever mode the checkout gave the script (a umask of 002 makes it 0775, which lintian flags).
file(INSTALL "${fastfs_helper_source}" DESTINATION "${destination}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
