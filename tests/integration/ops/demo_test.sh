#!/bin/bash
# scripts/demo.sh --stop undoes exactly what the demo did, and nothing else (issue 23): the mount, the
# directories it made, its files in BACKING, and without BACKING the image, loop device and XFS mount; a
# fastfs the user mounted at /mnt/fast survives every --stop, and the default mountpoint is refused while
# it is mounted. Uses the built fastfs (FASTFS_DEMO_BINARY): no packages, no build.
#
# The test runs in private mount and PID namespaces, so that its mount at /mnt/fast is its own and whatever
# it mounts or starts ends with it.
#
# usage: demo_test.sh   (FASTFS_BINARY = the built program)

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_fastfs_binary
require_fuse
require_tool unshare findmnt losetup mkfs.xfs filefrag cmp
[ -e /dev/loop-control ] || cannot_set_up "no loop devices"

# Detaches loop devices still attached to $1 (the demo's image, if the inner test was killed mid-way).
detach_loops_of() {
    local dev
    for dev in $(losetup -n -O NAME -j "$1" 2>/dev/null); do losetup -d "$dev"; done
    return 0
}

if [ -z "${DEMO_TEST_INNER:-}" ]; then
    make_scratch
    on_cleanup "detach_loops_of '$SCRATCH/demo/xfs.img'"
    if [ ! -e /mnt/fast ]; then
        mkdir -p /mnt/fast || cannot_set_up "mkdir /mnt/fast"
        on_cleanup "rmdir /mnt/fast"
    fi
    export DEMO_TEST_INNER=1 SCRATCH
    status=0
    unshare --mount --propagation private --pid --fork --mount-proc --kill-child bash "$0" "$@" || status=$?
    exit "$status"
fi

demo() {
    FASTFS_DEMO_BINARY=$FASTFS_BINARY FASTFS_DEMO_STATE=$SCRATCH/demo.state FASTFS_DEMO_DIR=$SCRATCH/demo \
        FASTFS_DEMO_MIB=4 "$SOURCE_ROOT/scripts/demo.sh" "$@" 2>&1
}

# The user's own fastfs at /mnt/fast, as if from fstab.
mkdir -p "$SCRATCH/user-backing"
echo mine >"$SCRATCH/user-backing/keep"
"$FASTFS_BINARY" "$SCRATCH/user-backing" /mnt/fast || cannot_set_up "mounting fastfs at /mnt/fast"
on_cleanup_fastfs_mount /mnt/fast
user_mount_ok() {
    expect_mounted /mnt/fast fuse.fastfs "$1: the user's own mount"
    expect_eq "$(cat /mnt/fast/keep 2>&1)" mine "$1: a file in the user's own mount"
}

# 1. With BACKING and a mountpoint two directory levels below what exists.
mkdir -p "$SCRATCH/backing"
echo data >"$SCRATCH/backing/user-file"
mnt=$SCRATCH/a/b/mnt
on_cleanup_fastfs_mount "$mnt"
out=$(demo "$SCRATCH/backing" "$mnt") || fail "demo BACKING MNT: $out"
expect_mounted "$mnt" fuse.fastfs "demo BACKING MNT"
[ -f "$SCRATCH/backing/fastfs-demo/model-copy.bin" ] || fail "demo BACKING MNT made no copy: $out"
out=$(demo "$SCRATCH/backing" "$SCRATCH/other") && fail "a second demo started while one was set up"
expect_contains "$out" "a demo is already set up" "a second demo"
out=$(demo --stop) || fail "--stop after demo BACKING MNT: $out"
log "--stop said: $(echo "$out" | tr '\n' '|')"
expect_not_mounted "$mnt" "after --stop"
[ -e "$SCRATCH/a" ] && fail "--stop left the directories the demo made: $(find "$SCRATCH/a")"
[ -e "$SCRATCH/backing/fastfs-demo" ] && fail "--stop left the demo's files in BACKING"
expect_eq "$(cat "$SCRATCH/backing/user-file")" data "the user's file in BACKING"
user_mount_ok "after --stop (BACKING)"
out=$(demo --stop) || fail "a second --stop failed: $out"
expect_contains "$out" "nothing to undo" "a second --stop"
user_mount_ok "after a second --stop"

# 2. The default mountpoint /mnt/fast is the user's mount: refused, and nothing is recorded or made.
out=$(demo "$SCRATCH/backing") && fail "the demo mounted over the user's /mnt/fast"
expect_contains "$out" "/mnt/fast is a mount point already" "demo BACKING with /mnt/fast mounted"
[ -e "$SCRATCH/demo.state" ] && fail "a refused start left a state file"
[ -e "$SCRATCH/backing/fastfs-demo" ] && fail "a refused start made files in BACKING"

# 3. Without BACKING: image, loop device, XFS, fastfs over it.
on_cleanup_fastfs_mount "$SCRATCH/demo/mnt"
on_cleanup "unmount_quietly '$SCRATCH/demo/xfs'; detach_loops_of '$SCRATCH/demo/xfs.img'"
out=$(demo) || fail "demo without BACKING: $out"
expect_mounted "$SCRATCH/demo/mnt" fuse.fastfs "demo without BACKING"
expect_mounted "$SCRATCH/demo/xfs" xfs "demo without BACKING"
loop=$(awk -F'\t' '$1 == "loop" { print $2 }' "$SCRATCH/demo.state")
[ -b "$loop" ] || fail "no loop device on record: $(cat "$SCRATCH/demo.state")"
out=$(demo --stop) || fail "--stop after demo without BACKING: $out"
log "--stop said: $(echo "$out" | tr '\n' '|')"
[ -e "$SCRATCH/demo" ] && fail "--stop left $SCRATCH/demo: $(find "$SCRATCH/demo" -maxdepth 2)"
expect_eq "$(losetup -n -O NAME -j "$SCRATCH/demo/xfs.img")" "" "loop devices on the demo's image after --stop"
user_mount_ok "after --stop (no BACKING)"
expect_contains "$(demo --stop)" "nothing to undo" "a second --stop"

# 4. Something mounted over the demo's mount later is not the demo's: --stop leaves both, and says so.
on_cleanup_fastfs_mount "$mnt"
out=$(demo "$SCRATCH/backing" "$mnt") || fail "demo BACKING MNT again: $out"
mount -t tmpfs -o size=1m tmpfs "$mnt" || fail "tmpfs over the demo's mount"
on_cleanup "unmount_quietly '$mnt'"
out=$(demo --stop) && fail "--stop succeeded with something mounted over the demo's mount"
expect_contains "$out" "something else is mounted over the demo's mount" "--stop under a later mount"
expect_mounted "$mnt" tmpfs "the later mount after --stop"
umount "$mnt"
out=$(demo --stop) || fail "--stop once the later mount is gone: $out"
expect_not_mounted "$mnt" "after the second --stop"
[ -e "$SCRATCH/a" ] && fail "the second --stop left the directories the demo made"
user_mount_ok "at the end"
exit 0
