#!/usr/bin/env bash
# A fastfs that cannot use FUSE passthrough falls back cleanly: mounted by the root of a user namespace
# (who has no capability on the host, so the kernel would refuse to register backing files), the daemon says
# once at mount why passthrough is off, makes no attempt per file, and files read and write through it.
#
# usage: passthrough_fallback_test.sh   (FASTFS_BINARY = the built binary)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_fastfs_binary
require_fuse
require_tool unshare grep
[ -e /dev/loop-control ] || cannot_set_up "no loop devices"

make_scratch
make_loop_xfs 512M
BACKING=$XFS/backing
MOUNTPOINT=$SCRATCH/mnt
mkdir -p "$BACKING" "$MOUNTPOINT"
LOG=$SCRATCH/fastfs.log

# Everything inside one user and mount namespace: the mount exists only there and goes with it.
unshare -U -r -m bash -c '
    set -u
    "$1" -f "$2" "$3" >"$4" 2>&1 &
    daemon=$!
    for _ in $(seq 50); do grep -q " $3 fuse" /proc/self/mounts && break; sleep 0.1; done
    head -c 3000000 /dev/urandom >"$3/data" && cmp "$3/data" "$2/data" || echo "DATA DIFFERS"
    "$1" stats "$3" --json >"$4.stats"
    umount "$3"
    wait "$daemon"
' fallback "$FASTFS_BINARY" "$BACKING" "$MOUNTPOINT" "$LOG" || fail "the namespace run failed: $(cat "$LOG")"

grep -q "passthrough off: registering backing files needs CAP_SYS_ADMIN on the host" "$LOG" ||
    fail "no line saying why passthrough is off: $(cat "$LOG")"
grep -q "passthrough_open" "$LOG" && fail "per-file passthrough attempts were made: $(cat "$LOG")"
grep -q "DATA DIFFERS" "$LOG.stats" "$LOG" 2>/dev/null && fail "the file read back differs"
grep -q '"write_requests": [1-9]' "$LOG.stats" || fail "writes did not go through the daemon: $(cat "$LOG.stats")"
grep -q '"passthrough_opens": 0' "$LOG.stats" || fail "passthrough opens counted: $(cat "$LOG.stats")"
