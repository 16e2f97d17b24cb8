# `cpack -G DEB` in a build directory makes fastfs_<version>_<arch>.deb.
#
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX the build was configured with; the mount
# helper goes to /sbin/mount.fastfs (mount-helpers/CMakeLists.txt decides that from the prefix at install
# time), the path mount(8) searches on merged and unmerged /usr alike. `lintian` finds nothing to say about
# it (tests/integration/ops/deb_test.sh checks).
set(FASTFS_PACKAGE_MAINTAINER "fastfs maintainers <maintainers@fastfs.dev>"
    CACHE STRING "Maintainer field of the .deb")
# Build trees configured before keep the old default in their cache, a host lintian rejects (bogus-mail-host).
if(FASTFS_PACKAGE_MAINTAINER STREQUAL "fastfs maintainers <fastfs@localhost>")
  set_property(CACHE FASTFS_PACKAGE_MAINTAINER PROPERTY VALUE "fastfs maintainers <maintainers@fastfs.dev>")
endif()
# The version of the package, which may differ from the program's (PROJECT_VERSION, what --version says) for
# a rebuild of the same sources: 0.1.0+1 upgrades 0.1.0. The test of the upgrade path builds one that way.
set(FASTFS_PACKAGE_VERSION "${PROJECT_VERSION}" CACHE STRING "Version of the .deb (default: the project's)")

# /usr/share/doc/fastfs/copyright: machine-readable (DEP-5), the project's LICENSE and what is compiled into
# the programs; with the libfuse linked in statically (cmake/Libfuse.cmake) when this build did that.
set(FASTFS_COPYRIGHT_LIBFUSE "")
if(FASTFS_LIBFUSE_BUNDLED)
  file(READ ${PROJECT_SOURCE_DIR}/packaging/copyright-libfuse FASTFS_COPYRIGHT_LIBFUSE)
endif()
configure_file(${PROJECT_SOURCE_DIR}/packaging/copyright ${PROJECT_BINARY_DIR}/packaging/copyright @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# /usr/share/doc/fastfs/changelog.gz: packaging/changelog in Debian's format. The package's version has no
# Debian revision (fastfs packages itself: a "native" package), so Debian policy names it changelog.gz, not
# changelog.Debian.gz. Its first entry must be the package's version: a FASTFS_PACKAGE_VERSION that is not
# gets an entry of its own, dated now (or SOURCE_DATE_EPOCH, for a reproducible build).
file(READ ${PROJECT_SOURCE_DIR}/packaging/changelog fastfs_changelog)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog)
string(REGEX MATCH "^fastfs \\(([^)]+)\\)" fastfs_changelog_top "${fastfs_changelog}")
if(NOT CMAKE_MATCH_1 STREQUAL FASTFS_PACKAGE_VERSION)
  string(TIMESTAMP fastfs_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  string(PREPEND fastfs_changelog
         "fastfs (${FASTFS_PACKAGE_VERSION}) unstable; urgency=medium\n\n"
         "  * Package of fastfs ${PROJECT_VERSION} built as version ${FASTFS_PACKAGE_VERSION}.\n\n"
         " -- ${FASTFS_PACKAGE_MAINTAINER}  ${fastfs_changelog_date}\n\n")
endif()
# Written only when changed, so that a reconfigure compresses it again only then.
file(WRITE ${PROJECT_BINARY_DIR}/packaging/changelog.new "${fastfs_changelog}")
file(COPY_FILE ${PROJECT_BINARY_DIR}/packaging/changelog.new ${PROJECT_BINARY_DIR}/packaging/changelog
     ONLY_IF_DIFFERENT)
if(FASTFS_GZIP)
  set(fastfs_changelog_installed ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
  # -9 as policy asks, -n for a reproducible package (as for the man pages, docs/CMakeLists.txt).
  add_custom_command(OUTPUT ${fastfs_changelog_installed}
                     COMMAND sh -c "\"$0\" -9 -n -c \"$1\" > \"$2\"" ${FASTFS_GZIP}
                             ${PROJECT_BINARY_DIR}/packaging/changelog ${fastfs_changelog_installed}
                     DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog
                     COMMENT "Compressing the changelog"
                     VERBATIM)
  add_custom_target(fastfs_changelog ALL DEPENDS ${fastfs_changelog_installed})
else()
  set(fastfs_changelog_installed ${PROJECT_BINARY_DIR}/packaging/changelog)
endif()
install(FILES ${fastfs_changelog_installed} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The one lintian tag that is wrong for this package, with the reason (packaging/lintian-overrides).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
        RENAME fastfs)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fastfs)
set(CPACK_PACKAGE_VERSION ${FASTFS_PACKAGE_VERSION})
set(CPACK_PACKAGE_CONTACT "${FASTFS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Lines of at most 80 columns, as Debian's policy asks of a description (CPack indents each by one).
set(CPACK_PACKAGE_DESCRIPTION
    "fastfs mounts a directory through FUSE and passes everything through to it.\n"
    "Copies made inside the mount with copy_file_range (as cp does) become\n"
    "reflinks on XFS and btrfs, or extent-aware sparse copies elsewhere.\n"
    "Includes the mount.fastfs helper for fstab and systemd, the fastfs stats,\n"
    "clone and copy tools, and fastfs-docker-plugin, a Docker volume plugin (with\n"
    "its systemd unit) whose volumes on one filesystem share one fastfs mount, so\n"
    "copies between them are reflinks too, and fastfs-csi, a Kubernetes CSI node\n"
    "driver whose volumes are reflink clones, views or scratch directories of the\n"
    "node's backing directories.")
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
