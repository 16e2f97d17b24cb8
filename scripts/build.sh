#!/usr/bin/env bash
# Configures and builds fastfs into BUILD_DIR (default: build). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
# The project's own builds treat warnings as errors (a packager's build does not: CMakeLists.txt).
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DFASTFS_WERROR=ON "$@" >/dev/null
ninja -C "$build_dir" -j"$(nproc)"
