#!/usr/bin/env bash
# Runs a command with FUSE over io_uring turned on in the kernel (the fuse module's enable_uring parameter,
# off by default), and puts the parameter back as it was afterwards, also when the command fails or the
# run is interrupted. ctest runs every io_uring test under the resource lock "fuse_uring", so two of them
# never race to restore it.
#   with_fuse_uring.sh COMMAND [ARGS...]
set -euo pipefail
parameter=/sys/module/fuse/parameters/enable_uring
if [ ! -e "$parameter" ]; then
    echo "with_fuse_uring: this kernel has no FUSE over io_uring ($parameter is missing)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
before=$(cat "$parameter")
restore() { echo "$before" >"$parameter"; }
trap restore EXIT
trap 'exit 130' INT TERM
echo Y >"$parameter"
"$@"
