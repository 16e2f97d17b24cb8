# libfuse for fastfs: the system's libfuse3 when it is new enough, otherwise Debian's `fuse3` source package
# from a newer suite, built here with meson and linked statically.
#
# Defines the INTERFACE target fastfs_libfuse (headers, libraries) with the compile definitions
#   FUSE_USE_VERSION            the library's API level, at most 318 (the API fastfs is written against)
#   FASTFS_HAVE_FUSE_IO_URING   1 when the library has FUSE over io_uring (3.18+, built with liburing)
# and sets FASTFS_LIBFUSE_VERSION and FASTFS_LIBFUSE_BUNDLED.
#
# FASTFS_LIBFUSE chooses:
#   auto     a system libfuse3 >= 3.18 found by pkg-config, else bundled (the default)
#   system   a system libfuse3 >= 3.17 only (passthrough, no io_uring before 3.18); never uses the network
#   bundled  scripts/fetch-fuse3-source.sh fetches the source (apt-get source, private apt state) into
#            FASTFS_LIBFUSE_SOURCE_CACHE; meson builds a static library into _deps/ of this build tree
#
# Why at configure time (execute_process) and not ExternalProject: what fastfs compiles depends on the
# library that comes out (its version sets FUSE_USE_VERSION, io_uring may or may not be in it), so it must
# exist before CMake writes fastfs's build; a build-time step could not tell. The build takes seconds and
# runs once: a stamp naming the source and options makes later configures skip it, and the fetched source
# stays in FASTFS_LIBFUSE_SOURCE_CACHE, so reconfiguring or building needs no network. Build trees can
# share one cache (scripts/test.sh points the sanitizer build at the normal build's).
#
# libfuse itself is built without fastfs's sanitizers and warnings: it is not our code, and an
# uninstrumented static library links into an instrumented program as it is.

set(FASTFS_LIBFUSE auto CACHE STRING "libfuse to build against: auto, system or bundled")
set_property(CACHE FASTFS_LIBFUSE PROPERTY STRINGS auto system bundled)
set(FASTFS_LIBFUSE_SOURCE_CACHE "${PROJECT_BINARY_DIR}/_deps/fuse3-source"
    CACHE PATH "Where the fetched fuse3 source package is kept (may be shared between build trees)")
set(FASTFS_LIBFUSE_DEBIAN_VERSION "" CACHE STRING
    "Debian version of the fuse3 source package to build, e.g. 3.18.3-1 (empty: the newest served)")

# The newest API fastfs is written against; a newer library still serves it.
set(_fastfs_fuse_api_max 318)

# Sets `out` to the FUSE_USE_VERSION for library version `version` (3.18.3 -> 318, capped).
function(_fastfs_fuse_api version out)
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${version}")
  math(EXPR api "${CMAKE_MATCH_1} * 100 + ${CMAKE_MATCH_2}")
  if(api GREATER _fastfs_fuse_api_max)
    set(api ${_fastfs_fuse_api_max})
  endif()
  set(${out} ${api} PARENT_SCOPE)
endfunction()

# Runs one step of the libfuse build, its output into `log`; stops configuring with the log's tail on failure.
function(_fastfs_libfuse_step log what)
  execute_process(COMMAND ${ARGN} OUTPUT_FILE "${log}.step" ERROR_FILE "${log}.step" RESULT_VARIABLE rc)
  file(READ "${log}.step" output)
  string(JOIN " " command ${ARGN})
  file(APPEND "${log}" "$ ${command}\n${output}")
  file(REMOVE "${log}.step")
  if(NOT rc EQUAL 0)
    string(LENGTH "${output}" length)
    if(length GREATER 4000)
      math(EXPR from "${length} - 4000")
      string(SUBSTRING "${output}" ${from} -1 output)
    endif()
    message(FATAL_ERROR "libfuse: ${what} failed (${rc}); full log: ${log}\n${output}")
  endif()
endfunction()

# Fetches (once) and unpacks Debian's fuse3 source; sets `out` to the unpacked tree.
function(_fastfs_fetch_libfuse out)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/scripts/fetch-fuse3-source.sh")
  execute_process(
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/fetch-fuse3-source.sh" "${FASTFS_LIBFUSE_SOURCE_CACHE}"
            ${FASTFS_LIBFUSE_DEBIAN_VERSION}
    OUTPUT_VARIABLE tree OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${tree}/meson.build")
    message(FATAL_ERROR
      "libfuse: cannot get Debian's fuse3 source (see above). fastfs needs libfuse >= 3.17, and the system's "
      "is older or missing. Either let scripts/fetch-fuse3-source.sh reach the Debian archive once (the "
      "source is then kept in FASTFS_LIBFUSE_SOURCE_CACHE=${FASTFS_LIBFUSE_SOURCE_CACHE}), point "
      "FASTFS_LIBFUSE_SOURCE_CACHE at a directory holding an earlier fetch, or install libfuse3-dev >= 3.17 "
      "and configure with -DFASTFS_LIBFUSE=system.")
  endif()
  set(${out} "${tree}" PARENT_SCOPE)
endfunction()

# Builds the unpacked tree `source` into a static library staged under `stage`, unless the stamp says that
# exactly this was built already.
function(_fastfs_build_libfuse source build stage)
  find_program(FASTFS_MESON meson)
  find_program(FASTFS_NINJA NAMES ninja ninja-build)
  if(NOT FASTFS_MESON OR NOT FASTFS_NINJA)
    message(FATAL_ERROR "libfuse: building it needs meson and ninja (scripts/install-deps.sh installs them)")
  endif()
  # prefix /usr, installed into a staging directory: the library looks for fusermount3 in <prefix>/bin
  # first, which must be the system's /usr/bin, never a directory of this build tree. No utilities,
  # examples or tests: fastfs needs the library only, and fusermount3 comes from the system's fuse3.
  set(options --prefix=/usr --libdir=lib --default-library=static --buildtype=debugoptimized
              -Dutils=false -Dexamples=false -Dtests=false -Duseroot=false)
  # io_uring arrived in 3.18 (with liburing and libnuma it is on by default; say so). 3.17 lacks the option.
  file(STRINGS "${source}/meson_options.txt" uring_option REGEX "'enable-io-uring'")
  if(uring_option)
    list(APPEND options -Denable-io-uring=true)
  endif()
  set(stamp "${stage}/.fastfs-built")
  set(wanted "${source}\n${options}\nCC=$ENV{CC} CFLAGS=$ENV{CFLAGS}\n")
  # A changed or deleted stamp makes the next `ninja` configure (and so rebuild) again.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${stamp}")
  if(EXISTS "${stamp}" AND EXISTS "${stage}/usr/lib/libfuse3.a" AND EXISTS "${build}/fuse_config.h")
    file(READ "${stamp}" built)
    if(built STREQUAL wanted)
      return()
    endif()
  endif()

  string(TIMESTAMP started "%s")
  message(STATUS "libfuse: building ${source} (static, meson)")
  file(REMOVE_RECURSE "${build}" "${stage}")
  set(log "${build}.log")
  file(WRITE "${log}" "")
  cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
  _fastfs_libfuse_step("${log}" "meson setup" "${FASTFS_MESON}" setup ${options} "${build}" "${source}")
  _fastfs_libfuse_step("${log}" "meson compile" "${FASTFS_MESON}" compile -C "${build}" -j ${jobs})
  _fastfs_libfuse_step("${log}" "meson install" ${CMAKE_COMMAND} -E env "DESTDIR=${stage}" "${FASTFS_MESON}"
                       install -C "${build}" --no-rebuild)
  file(WRITE "${stamp}" "${wanted}")
  string(TIMESTAMP finished "%s")
  math(EXPR seconds "${finished} - ${started}")
  message(STATUS "libfuse: built in ${seconds} s")
endfunction()

# The version of the tree at `source` (from its meson.build).
function(_fastfs_libfuse_source_version source out)
  file(STRINGS "${source}/meson.build" line REGEX "^[ \t]*version:[ \t]*'[0-9.]+" LIMIT_COUNT 1)
  string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" version "${line}")
  set(${out} "${version}" PARENT_SCOPE)
endfunction()

# fastfs_libfuse from the library built here.
function(_fastfs_use_bundled_libfuse)
  _fastfs_fetch_libfuse(source)
  set(build "${PROJECT_BINARY_DIR}/_deps/fuse3-build")
  set(stage "${PROJECT_BINARY_DIR}/_deps/fuse3")
  _fastfs_build_libfuse("${source}" "${build}" "${stage}")
  _fastfs_libfuse_source_version("${source}" version)

  # meson's private configuration says whether fuse_uring.c went in (liburing found, with SQE128).
  file(STRINGS "${build}/fuse_config.h" have_uring REGEX "^#define HAVE_URING")
  set(io_uring 0)
  if(have_uring)
    set(io_uring 1)
  endif()
  # What the staged fuse3.pc lists for a static link: threads, dl and rt, and liburing and libnuma with
  # io_uring.
  add_library(fastfs_libfuse INTERFACE)
  target_include_directories(fastfs_libfuse SYSTEM INTERFACE "${stage}/usr/include/fuse3")
  target_link_libraries(fastfs_libfuse INTERFACE "${stage}/usr/lib/libfuse3.a" Threads::Threads
                        ${CMAKE_DL_LIBS} rt)
  if(io_uring)
    pkg_check_modules(FASTFS_LIBURING REQUIRED IMPORTED_TARGET liburing numa)
    target_link_libraries(fastfs_libfuse INTERFACE PkgConfig::FASTFS_LIBURING)
  endif()
  set(FASTFS_LIBFUSE_VERSION "${version}" PARENT_SCOPE)
  set(_fastfs_libfuse_io_uring ${io_uring} PARENT_SCOPE)
endfunction()

# fastfs_libfuse from a system libfuse3 >= `minimum`; sets `found`.
function(_fastfs_use_system_libfuse minimum found)
  pkg_check_modules(FASTFS_SYSTEM_FUSE3 QUIET IMPORTED_TARGET fuse3>=${minimum})
  if(NOT FASTFS_SYSTEM_FUSE3_FOUND)
    set(${found} FALSE PARENT_SCOPE)
    return()
  endif()
  add_library(fastfs_libfuse INTERFACE)
  target_link_libraries(fastfs_libfuse INTERFACE PkgConfig::FASTFS_SYSTEM_FUSE3 Threads::Threads)
  # A libfuse built with io_uring needs liburing (a private requirement of its fuse3.pc).
  set(io_uring 0)
  if(FASTFS_SYSTEM_FUSE3_VERSION VERSION_GREATER_EQUAL 3.18 AND "uring" IN_LIST FASTFS_SYSTEM_FUSE3_STATIC_LIBRARIES)
    set(io_uring 1)
  endif()
  set(FASTFS_LIBFUSE_VERSION "${FASTFS_SYSTEM_FUSE3_VERSION}" PARENT_SCOPE)
  set(_fastfs_libfuse_io_uring ${io_uring} PARENT_SCOPE)
  set(${found} TRUE PARENT_SCOPE)
endfunction()

if(NOT FASTFS_LIBFUSE MATCHES "^(auto|system|bundled)$")
  message(FATAL_ERROR "FASTFS_LIBFUSE must be auto, system or bundled, not '${FASTFS_LIBFUSE}'")
endif()
set(FASTFS_LIBFUSE_BUNDLED OFF)
set(_fastfs_system_found FALSE)
if(FASTFS_LIBFUSE STREQUAL "auto")
  _fastfs_use_system_libfuse(3.18 _fastfs_system_found)
elseif(FASTFS_LIBFUSE STREQUAL "system")
  _fastfs_use_system_libfuse(3.17 _fastfs_system_found)
  if(NOT _fastfs_system_found)
    message(FATAL_ERROR "FASTFS_LIBFUSE=system: no libfuse3 >= 3.17 found by pkg-config (libfuse3-dev)")
  endif()
endif()
if(NOT _fastfs_system_found)
  _fastfs_use_bundled_libfuse()
  set(FASTFS_LIBFUSE_BUNDLED ON)
endif()

_fastfs_fuse_api("${FASTFS_LIBFUSE_VERSION}" _fastfs_fuse_api)
target_compile_definitions(fastfs_libfuse INTERFACE FUSE_USE_VERSION=${_fastfs_fuse_api}
                           FASTFS_HAVE_FUSE_IO_URING=${_fastfs_libfuse_io_uring})
if(FASTFS_LIBFUSE_BUNDLED)
  set(_fastfs_libfuse_kind "bundled, static")
else()
  set(_fastfs_libfuse_kind "system")
endif()
if(_fastfs_libfuse_io_uring)
  set(_fastfs_libfuse_uring "with io_uring")
else()
  set(_fastfs_libfuse_uring "without io_uring")
endif()
message(STATUS "libfuse ${FASTFS_LIBFUSE_VERSION} (${_fastfs_libfuse_kind}, ${_fastfs_libfuse_uring}), "
               "FUSE_USE_VERSION ${_fastfs_fuse_api}")
