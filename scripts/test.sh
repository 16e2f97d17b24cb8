#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: the full suite on a normal build, then again on an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Tests make their own loop-mounted XFS/btrfs/ext4
# images and mount the built binary; they need root, /dev/fuse and loop devices.
#   scripts/test.sh            everything (what CI runs)
#   SKIP_SANITIZERS=1 scripts/test.sh   the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "fastfs: the tests need root (loop devices, mounts)" >&2; exit 1; }
./scripts/install-deps.sh

start=$(date +%s)
BUILD_DIR=build ./scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 -j2)

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  # The libfuse source the first build fetched serves this one too: no second download.
  BUILD_DIR=build-asan BUILD_TYPE=Debug ./scripts/build.sh -DFASTFS_SANITIZE=address,undefined \
    -DFASTFS_LIBFUSE_SOURCE_CACHE="$PWD/build/_deps/fuse3-source"
  # The daemon and every test binary run instrumented; any report aborts with a non-zero status.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The .deb tests check the package, which is made from the normal build: an instrumented build's package is
  # nothing anyone installs, and its fresh Debian root would cost minutes again.
  (cd build-asan && ctest --output-on-failure --timeout 900 -j2 -LE "${SANITIZER_EXCLUDE_LABELS:-bench}" \
    -E '^integration[.]ops[.]deb[.]')
fi
echo "fastfs: all tests passed in $(( $(date +%s) - start )) s"
