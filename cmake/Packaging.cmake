# `cpack -G DEB` in a build directory makes fastfs_<version>_<arch>.deb.
#
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX the build was configured with; the mount
# helper goes to /sbin/mount.fastfs (mount-helpers/CMakeLists.txt decides that from the prefix at install
# time), the path mount(8) searches on merged and unmerged /usr alike.
set(FASTFS_PACKAGE_MAINTAINER "fastfs maintainers <fastfs@localhost>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fastfs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FASTFS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "fastfs mounts a directory through FUSE and passes everything through to it. Copies made inside the\n"
    "mount with copy_file_range (as cp does) become reflinks on XFS and btrfs, or extent-aware sparse\n"
    "copies elsewhere. Includes the mount.fastfs helper for fstab and systemd, the fastfs stats,\n"
    "clone and copy tools, and fastfs-docker-plugin, a Docker volume plugin (with its systemd unit) whose\n"
    "volumes on one filesystem share one fastfs mount, so copies between them are reflinks too, and\n"
    "fastfs-csi, a Kubernetes CSI node driver whose volumes are reflink clones, views or scratch\n"
    "directories of the node's backing directories.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # fastfs_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FASTFS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps adds the shared libraries the binary links (libspdlog, libstdc++6, libc6, liburing2 and
# libnuma1 for io_uring, ...). A libfuse built here is linked statically (cmake/Libfuse.cmake), so no libfuse3
# library package is needed; only a system libfuse3 >= 3.18 brings one in. fuse3 brings fusermount3,
# mount.fuse3 and /etc/fuse.conf, which a FUSE mount needs at run time whichever libfuse is inside.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
# Only fastfs-docker-plugin uses it; fastfs itself runs without Docker.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io")

include(CPack)
