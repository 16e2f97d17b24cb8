#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: on a normal build, then again on an AddressSanitizer +
# UndefinedBehaviorSanitizer build (which tests run where: below). Tests make their own loop-mounted XFS/btrfs/ext4
# images and mount the built binary; they need root, /dev/fuse and loop devices.
#   scripts/test.sh            everything (what CI runs)
#   SKIP_SANITIZERS=1 scripts/test.sh   the normal build only (all tests)
#   FULL_NORMAL=1 scripts/test.sh       the stress runs on the normal build as well
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "fastfs: the tests need root (loop devices, mounts)" >&2; exit 1; }
./scripts/install-deps.sh

start=$(date +%s)
# Every test runs once or twice, within CI's budget (25 minutes on 2 cores): the normal build runs all but
# the long randomized stress runs of the daemon (coherence, inode reuse, load, many files), which run on the
# sanitizer build, where what they exist to catch (a use after free under concurrency) shows. Set
# FULL_NORMAL=1 to run them on the normal build too.
stress='^integration[.]reliability[.](coherence|reuse|load|manyfiles)_'
BUILD_DIR=build ./scripts/build.sh
if [ "${FULL_NORMAL:-0}" = 1 ] || [ "${SKIP_SANITIZERS:-0}" = 1 ]; then
  (cd build && ctest --output-on-failure --timeout 600 -j2)
else
  (cd build && ctest --output-on-failure --timeout 600 -j2 -E "$stress")
fi

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  # The libfuse source the first build fetched serves this one too: no second download.
  BUILD_DIR=build-asan BUILD_TYPE=Debug ./scripts/build.sh -DFASTFS_SANITIZE=address,undefined \
    -DFASTFS_LIBFUSE_SOURCE_CACHE="$PWD/build/_deps/fuse3-source"
  # The daemon and every test binary run instrumented; any report aborts with a non-zero status.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # This pass also covers the other transport: with the fuse module's enable_uring on, every mount takes FUSE
  # over io_uring, fastfs's default wherever the kernel offers it (the first pass ran on /dev/fuse, the
  # kernel's default). Put back as it was on exit, also on failure. The *_io_uring variants, which exist to
  # run a suite over io_uring in the first pass, would only repeat their suite here.
  uring=/sys/module/fuse/parameters/enable_uring
  if [ -w "$uring" ]; then
    uring_before=$(cat "$uring")
    trap 'echo "$uring_before" >"$uring"' EXIT
    echo Y >"$uring"
  fi
  # Left out here, having run on the normal build: the package tests (an instrumented build's package is
  # nothing anyone installs, and a fresh Debian root costs minutes) and the container suites (their time
  # is dockerd's; the plugin's logic runs instrumented in unit.docker_plugin, the daemon in every
  # integration suite here).
  (cd build-asan && ctest --output-on-failure --timeout 900 -j2 \
    -LE "${SANITIZER_EXCLUDE_LABELS:-bench|integration-containers}" -E '^integration[.]ops[.]deb[.]|_io_uring$')
fi
echo "fastfs: all tests passed in $(( $(date +%s) - start )) s"
