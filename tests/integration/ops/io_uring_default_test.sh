#!/usr/bin/env bash
# FUSE over io_uring by default: a mount uses it exactly when the kernel offers it (the fuse module's
# enable_uring parameter), says so in `fastfs status`, and -o no_io_uring / -o io_uring still decide. Over
# io_uring, long requests are served by fastfs's own threads, and an fsync and a copy through them work.
# The parameter is put back as it was, also on failure (ctest runs this under the resource lock fuse_uring).
#
# usage: io_uring_default_test.sh   (FASTFS_BINARY = the built binary)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_fastfs_binary
require_fuse
PARAMETER=/sys/module/fuse/parameters/enable_uring
[ -w "$PARAMETER" ] || cannot_set_up "this kernel has no FUSE over io_uring ($PARAMETER)"
BEFORE=$(cat "$PARAMETER")
on_cleanup "echo '$BEFORE' >'$PARAMETER'"

make_scratch
BACKING=$SCRATCH/backing
MNT=$SCRATCH/mnt
mkdir -p "$BACKING" "$MNT"

on_cleanup_fastfs_mount "$MNT"

# mount_with PARAMETER_VALUE OPTIONS...: mounts with enable_uring set as given; STATUS = its io_uring line,
# DAEMON = its pid (as `fastfs status` gives it: a process scan could also find the parent still exiting).
mount_with() {
    local value=$1 all
    shift
    echo "$value" >"$PARAMETER"
    STATUS="" DAEMON=""
    "$FASTFS_BINARY" "$@" "$BACKING" "$MNT" || { fail "mount $* with enable_uring=$value"; return 1; }
    all=$("$FASTFS_BINARY" status "$MNT")
    STATUS=$(grep '^io_uring:' <<<"$all")
    DAEMON=$(sed -n 's/^fastfs: .*, pid \([0-9][0-9]*\)$/\1/p' <<<"$all")
}

mount_with N && {
    expect_contains "$STATUS" "off (the fuse module's enable_uring is N" "enable_uring=N: /dev/fuse"
    unmount_quietly "$MNT"
}

mount_with Y && {
    expect_eq "$STATUS" "io_uring:        on" "enable_uring=Y: io_uring by default"
    grep -qx fastfs-slow /proc/"$DAEMON"/task/*/comm 2>/dev/null ||
        fail "no fastfs-slow threads over io_uring (daemon '$DAEMON')"
    head -c 20000000 /dev/urandom >"$MNT/data"
    python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.fsync(fd); os.close(fd)' "$MNT/data" ||
        fail "fsync over io_uring"
    cp "$MNT/data" "$MNT/copy" || fail "a 20 MB copy over io_uring (served aside)"
    cmp -s "$BACKING/data" "$BACKING/copy" || fail "the copy differs on the backing"
    unmount_quietly "$MNT"
}

mount_with Y -o no_io_uring && {
    expect_eq "$STATUS" "io_uring:        off (-o no_io_uring)" "-o no_io_uring"
    unmount_quietly "$MNT"
}

echo N >"$PARAMETER"
out=$("$FASTFS_BINARY" -o io_uring "$BACKING" "$MNT" 2>&1) && {
    fail "-o io_uring mounted with enable_uring=N"
    unmount_quietly "$MNT"
}
expect_contains "$out" "FUSE over io_uring is off in the kernel" "-o io_uring insists"
