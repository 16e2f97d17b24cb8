#!/bin/bash
# mount(8), fstab and the mount.fastfs helper against the built fastfs, as an operator would use them.
#
# usage: mount_test.sh CASE   (FASTFS_BINARY = the built binary)
#
# mount(8) runs helpers only from /sbin. To leave the host's /sbin alone, each case runs in a private mount
# namespace (unshare -m --propagation private) where a read-only overlayfs puts a directory holding
# mount.fastfs (from the source tree) and a `fastfs` link to the built binary on top of /usr/sbin (/sbin is
# a link to usr/sbin on bookworm). Nothing mounted here is visible outside, and the namespace dies with us.

OPS_CASE=${1:-}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

case $OPS_CASE in
type_fastfs | type_fuse_fastfs | helper_argument_order | fake | fstab | fstab_only_options | messages | remount | crash_recovery | logs | pseudo_inside) ;;
*)
    echo "usage: $0 type_fastfs|type_fuse_fastfs|helper_argument_order|fake|fstab|fstab_only_options|messages|remount|crash_recovery|logs|pseudo_inside" >&2
    exit 2
    ;;
esac

require_fastfs_binary
require_fuse
require_tool unshare findmnt mount umount pgrep

if [ -z "${OPS_IN_PRIVATE_NAMESPACE:-}" ]; then
    export OPS_IN_PRIVATE_NAMESPACE=1 FASTFS_BINARY
    # exec: our EXIT trap has nothing to clean yet and must not run twice.
    exec unshare -m --propagation private "$BASH" "$0" "$@"
fi

make_scratch
FASTFS_REAL=$(readlink -f "$FASTFS_BINARY")

# /usr/sbin with mount.fastfs and fastfs added, in this namespace only.
mkdir -p "$SCRATCH/sbin"
cp "$SOURCE_ROOT/mount-helpers/mount.fastfs" "$SCRATCH/sbin/mount.fastfs"
chmod 755 "$SCRATCH/sbin/mount.fastfs"
ln -s "$FASTFS_REAL" "$SCRATCH/sbin/fastfs"
mount -t overlay fastfs-ops-sbin -o "lowerdir=$SCRATCH/sbin:/usr/sbin" /usr/sbin ||
    cannot_set_up "overlayfs over /usr/sbin in a private namespace"
on_cleanup "umount /usr/sbin"
[ -x /sbin/mount.fastfs ] || cannot_set_up "/sbin/mount.fastfs not visible through the overlay"

BACKING=$SCRATCH/backing
mkdir -p "$BACKING"
echo hello >"$BACKING/hello.txt"

# Makes $SCRATCH/NAME and registers its cleanup (not in a subshell: the cleanup list lives in this shell).
add_mountpoint() {
    mkdir -p "$SCRATCH/$1"
    on_cleanup_fastfs_mount "$SCRATCH/$1"
}

# Mounts $BACKING at $SCRATCH/NAME through mount(8) and an fstab line of TYPE (fastfs or fuse.fastfs), as at
# boot; sets FSTAB_MOUNT (not in a subshell: the cleanup list lives in this shell).
mount_from_fstab() {
    local type=$1
    add_mountpoint "$2"
    FSTAB_MOUNT=$SCRATCH/$2
    printf '%s %s %s allow_other,nofail 0 0\n' "$BACKING" "$FSTAB_MOUNT" "$type" >"$SCRATCH/fstab"
    mount -T "$SCRATCH/fstab" "$FSTAB_MOUNT" || fail "$type: mount from fstab exited $?"
}

# What every mount made by this suite must look like, used through the mount, then unmounted cleanly.
check_fastfs_mount_and_unmount() {
    local mnt=$1 what=$2
    expect_mounted "$mnt" fuse.fastfs "$what"
    mounted_as "$mnt" fuse.fastfs || return 0
    expect_eq "$(findmnt -rn -o SOURCE --mountpoint "$mnt")" "$BACKING" "$what: mount source"
    local options
    options=$(findmnt -rn -o OPTIONS --mountpoint "$mnt")
    expect_contains "$options" allow_other "$what: options"
    expect_contains "$options" default_permissions "$what: allow_other turns on default_permissions"
    expect_eq "$(cat "$mnt/hello.txt" 2>&1)" hello "$what: read through the mount"
    local name
    name="written-by-${what// /_}"
    echo "$what" >"$mnt/$name" || fail "$what: write through the mount"
    expect_eq "$(cat "$BACKING/$name" 2>&1)" "$what" "$what: written file in the backing directory"

    local pids pid
    pids=$(fastfs_pids_for "$mnt")
    [ -n "$pids" ] || fail "$what: no fastfs daemon serves $mnt"
    for pid in $pids; do
        expect_eq "$(readlink -f "/proc/$pid/exe")" "$FASTFS_REAL" "$what: daemon is the built binary"
    done

    umount "$mnt" || fail "$what: umount $mnt"
    expect_not_mounted "$mnt" "$what: after umount"
    wait_daemon_gone "$mnt" || fail "$what: fastfs did not exit after umount"
}

case_type_fastfs() {
    local mnt
    add_mountpoint mnt
    mnt=$SCRATCH/mnt
    mount -t fastfs "$BACKING" "$mnt" -o allow_other || fail "mount -t fastfs exited $?"
    # No waiting: mount(8) must return only once the mount exists.
    check_fastfs_mount_and_unmount "$mnt" "mount -t fastfs"
}

case_type_fuse_fastfs() {
    local mnt
    add_mountpoint mnt
    mnt=$SCRATCH/mnt
    mount -t fuse.fastfs "$BACKING" "$mnt" -o allow_other || fail "mount -t fuse.fastfs exited $?"
    check_fastfs_mount_and_unmount "$mnt" "mount -t fuse.fastfs"
}

# util-linux 2.40.3 passes SOURCE and DIRECTORY after the options; flags may come anywhere.
case_helper_argument_order() {
    local mnt
    add_mountpoint mnt
    mnt=$SCRATCH/mnt
    /sbin/mount.fastfs -o allow_other "$BACKING" "$mnt" || fail "mount.fastfs -o OPTS SRC DIR exited $?"
    check_fastfs_mount_and_unmount "$mnt" "options first"

    /sbin/mount.fastfs -n "$BACKING" -s -o rw -o allow_other "$mnt" -v ||
        fail "mount.fastfs with -n -s -v scattered exited $?"
    check_fastfs_mount_and_unmount "$mnt" "flags scattered"

    /sbin/mount.fastfs "$BACKING" 2>/dev/null && fail "mount.fastfs without DIRECTORY succeeded"
    /sbin/mount.fastfs "$BACKING" "$mnt" -Z 2>/dev/null && fail "mount.fastfs with an unknown flag succeeded"
    expect_not_mounted "$mnt" "bad invocations"
}

# mount -f is "fake": with type fastfs nothing may be mounted and no daemon started. (Type fuse.fastfs
# goes through mount.fuse3, which ignores -f and mounts: a libfuse limitation, see docs/operations.md.)
case_fake() {
    local mnt out
    add_mountpoint mnt
    mnt=$SCRATCH/mnt
    mount -f -t fastfs "$BACKING" "$mnt" -o allow_other || fail "mount -f -t fastfs exited $?"
    expect_not_mounted "$mnt" "mount -f"
    [ -z "$(fastfs_pids_for "$mnt")" ] || fail "mount -f started a fastfs daemon"

    out=$(mount -fv -t fastfs "$BACKING" "$mnt" -o allow_other 2>&1) || fail "mount -fv exited $?"
    expect_contains "$out" "would run" "mount -fv says what it would do"
    expect_not_mounted "$mnt" "mount -fv"

    # A fake mount of a real fstab entry by its mountpoint alone.
    printf '%s %s fastfs allow_other,nofail 0 0\n' "$BACKING" "$mnt" >"$SCRATCH/fstab"
    mount -f -T "$SCRATCH/fstab" "$mnt" || fail "mount -f -T FSTAB DIR exited $?"
    expect_not_mounted "$mnt" "mount -f -T FSTAB DIR"

    # And -f must not leak into fastfs as "foreground": the real mount returns and keeps running.
    mount -t fastfs "$BACKING" "$mnt" -o allow_other || fail "mount -t fastfs exited $?"
    check_fastfs_mount_and_unmount "$mnt" "mount after fake mounts"
}

case_fstab() {
    local m1 m2 m3 fstab=$SCRATCH/fstab
    add_mountpoint m1
    m1=$SCRATCH/m1
    add_mountpoint m2
    m2=$SCRATCH/m2
    add_mountpoint m3
    m3=$SCRATCH/m3
    {
        echo "# fastfs ops test fstab"
        echo "$BACKING $m1 fastfs      allow_other,nofail,x-systemd.requires-mounts-for=$BACKING 0 0"
        echo "$BACKING $m2 fuse.fastfs allow_other,nofail,_netdev,x-systemd.after=network.target 0 0"
        echo "$BACKING $m3 fastfs      noauto,allow_other,comment=manual 0 0"
    } >"$fstab"

    # By mountpoint alone: mount(8) finds source, type and options in the fstab.
    mount -T "$fstab" "$m1" || fail "mount -T FSTAB $m1 exited $?"
    check_fastfs_mount_and_unmount "$m1" "fstab fastfs by mountpoint"
    mount -T "$fstab" "$m2" || fail "mount -T FSTAB $m2 exited $?"
    check_fastfs_mount_and_unmount "$m2" "fstab fuse.fastfs by mountpoint"
    mount -T "$fstab" "$m3" || fail "mount -T FSTAB $m3 (noauto, explicit) exited $?"
    check_fastfs_mount_and_unmount "$m3" "fstab noauto by mountpoint"

    mount -a -T "$fstab" || fail "mount -a -T FSTAB exited $?"
    expect_mounted "$m1" fuse.fastfs "mount -a: fastfs line"
    expect_mounted "$m2" fuse.fastfs "mount -a: fuse.fastfs line"
    expect_not_mounted "$m3" "mount -a: noauto line"
    # A second mount -a leaves mounted entries alone and succeeds.
    mount -a -T "$fstab" || fail "second mount -a -T FSTAB exited $?"
    expect_eq "$(findmnt -rn --mountpoint "$m1" | wc -l)" 1 "second mount -a does not stack mounts"

    umount "$m1" "$m2" || fail "umount $m1 $m2"
    expect_not_mounted "$m1" "after umount"
    expect_not_mounted "$m2" "after umount"
    wait_daemon_gone "$m1" || fail "daemon for $m1 did not exit"
    wait_daemon_gone "$m2" || fail "daemon for $m2 did not exit"
}

# Options that belong to fstab and systemd: fastfs itself must take and ignore them, because not every
# caller (systemd units, scripts, mount.fuse3 of other versions) strips them before fastfs sees them.
case_fstab_only_options() {
    local mnt status
    add_mountpoint mnt
    mnt=$SCRATCH/mnt
    local options="allow_other,defaults,auto,nofail,_netdev,user,nouser,users,owner,group,comment=ops"
    options+=",x-systemd.requires-mounts-for=$BACKING,x-systemd.automount,x-systemd.device-timeout=5,x-ops=1,rw"
    "$FASTFS_BINARY" "$BACKING" "$mnt" -o "$options" || fail "fastfs -o $options exited $?"
    check_fastfs_mount_and_unmount "$mnt" "fstab-only options"

    "$FASTFS_BINARY" "$BACKING" "$mnt" -o allow_other,no_such_option 2>/dev/null
    status=$?
    [ "$status" -ne 0 ] || fail "fastfs accepted an unknown option"
    expect_not_mounted "$mnt" "unknown option"
    [ -z "$(fastfs_pids_for "$mnt")" ] || fail "a daemon is left after a refused option"
}

# The mount-time messages of issue 10, each one clear line on stderr: allow_other with
# no_default_permissions (every user then reaches every file), and a user who may not open /dev/fuse.
case_messages() {
    local err status
    mkdir -p "$SCRATCH/open"
    on_cleanup_fastfs_mount "$SCRATCH/open"
    err=$("$FASTFS_BINARY" "$BACKING" "$SCRATCH/open" -o allow_other,no_default_permissions 2>&1) ||
        fail "fastfs -o allow_other,no_default_permissions exited $?: $err"
    expect_contains "$err" "no_default_permissions" "allow_other,no_default_permissions: a warning"
    expect_eq "$(printf '%s\n' "$err" | grep -c .)" 1 "allow_other,no_default_permissions: one line ($err)"
    umount "$SCRATCH/open" || fail "umount $SCRATCH/open"
    wait_daemon_gone "$SCRATCH/open" || fail "fastfs did not exit after umount"

    # A /dev/fuse only root may open, in this namespace only: a node of the same numbers with mode 0600.
    mknod -m 0600 "$SCRATCH/fuse-0600" c 10 229 || cannot_set_up "mknod of a fuse device node"
    mount --bind "$SCRATCH/fuse-0600" /dev/fuse || cannot_set_up "a 0600 node bound over /dev/fuse"
    on_cleanup "umount /dev/fuse"
    chmod 755 "$SCRATCH"
    mkdir -p "$SCRATCH/user-backing" "$SCRATCH/user-mnt"
    chown 1000:1000 "$SCRATCH/user-backing" "$SCRATCH/user-mnt"
    on_cleanup_fastfs_mount "$SCRATCH/user-mnt"
    err=$(setpriv --reuid=1000 --regid=1000 --clear-groups \
        "$FASTFS_BINARY" "$SCRATCH/user-backing" "$SCRATCH/user-mnt" 2>&1)
    status=$?
    [ "$status" -ne 0 ] || fail "uid 1000 mounted without access to /dev/fuse"
    expect_eq "$(printf '%s\n' "$err" | grep -c .)" 1 "uid 1000 without /dev/fuse: one line ($err)"
    expect_contains "$err" "/dev/fuse" "uid 1000 without /dev/fuse: the line names the device"
    [[ $err != *"file handle"* ]] || fail "uid 1000 without /dev/fuse: a misleading file-handle warning: $err"
    expect_not_mounted "$SCRATCH/user-mnt" "uid 1000 without /dev/fuse"
}

# mount -o remount changes what the kernel keeps for a live mount (ro/rw, per-mount flags), through mount(8)
# and the helpers of both fstab types, with the same daemon serving throughout; options only the daemon
# knows get one warning line. Compared with what the same remounts do on a native (tmpfs) mount.
case_remount() {
    local mnt type native=$SCRATCH/native out pid suid_before
    mkdir -p "$native"
    mount -t tmpfs -o size=1m fastfs-ops-native "$native" || cannot_set_up "a tmpfs to compare with"
    on_cleanup "umount '$native'"
    for type in fastfs fuse.fastfs; do
        mount_from_fstab "$type" "m-$type"
        mnt=$FSTAB_MOUNT
        pid=$(fastfs_pids_for "$mnt")
        # mount.fuse3 adds dev,suid for root, at mount and at remount alike: nosuid must be as it was.
        suid_before=$(findmnt -rn -o OPTIONS --mountpoint "$mnt" | grep -c nosuid)
        for where in "$native" "$mnt"; do
            mount -o remount,ro "$where" || fail "$type: mount -o remount,ro $where exited $?"
            expect_contains "$(findmnt -rn -o OPTIONS --mountpoint "$where")" "ro," "$type: ro after remount,ro"
            touch "$where/after-ro" 2>/dev/null && fail "$type: $where is writable after remount,ro"
            mount -o remount,rw,noexec "$where" || fail "$type: mount -o remount,rw,noexec $where exited $?"
            out=$(findmnt -rn -o OPTIONS --mountpoint "$where")
            expect_contains "$out" "rw," "$type: rw after remount,rw"
            expect_contains "$out" "noexec" "$type: noexec after remount,noexec"
            touch "$where/after-rw" || fail "$type: $where is not writable after remount,rw"
        done
        expect_eq "$(findmnt -rn -o OPTIONS --mountpoint "$mnt" | grep -c nosuid)" "$suid_before" "$type: nosuid kept"
        expect_eq "$(fastfs_pids_for "$mnt")" "$pid" "$type: the same daemon serves after remounts"
        out=$(mount -o remount,entry_timeout=5 "$mnt" 2>&1) || fail "$type: remount,entry_timeout=5 exited $?"
        expect_contains "$out" "entry_timeout=5 cannot change on a live mount" "$type: what cannot change"
        expect_eq "$(printf '%s\n' "$out" | grep -c .)" 1 "$type: one line ($out)"
        check_fastfs_mount_and_unmount "$mnt" "$type after remounts"
    done
    out=$("$FASTFS_BINARY" -o remount,ro "$SCRATCH" 2>&1) && fail "remount of a directory that is no mount succeeded"
    expect_contains "$out" "is not a fastfs mount" "remount of a plain directory: $out"
}

# After a daemon crash the mount answers ENOTCONN; `mount MNT` from fstab (what systemd's mount unit runs
# too) must bring it back by itself, for both fstab types.
case_crash_recovery() {
    local mnt type pid out
    for type in fastfs fuse.fastfs; do
        mount_from_fstab "$type" "c-$type"
        mnt=$FSTAB_MOUNT
        pid=$(fastfs_pids_for "$mnt")
        [ -n "$pid" ] || fail "$type: no daemon"
        kill -KILL "$pid"
        for _ in $(seq 50); do stat "$mnt" >/dev/null 2>&1 || break; sleep 0.1; done
        out=$(stat "$mnt" 2>&1) && fail "$type: the mount still answers after its daemon was killed"
        # ENOTCONN, or ECONNABORTED when the dead daemon served the mount over io_uring queues
        case $out in *"not connected"* | *"aborted"*) ;; *) fail "$type: a dead mount answers ENOTCONN: $out" ;; esac
        out=$(mount -T "$SCRATCH/fstab" "$mnt" 2>&1) || fail "$type: mount after the crash exited $?: $out"
        expect_contains "$out" "had died" "$type: the recovery says what happened"
        expect_eq "$(findmnt -rn --mountpoint "$mnt" | wc -l)" 1 "$type: one mount, not a stack"
        check_fastfs_mount_and_unmount "$mnt" "$type after a crash"
    done
}

# Where a mount in the background logs: -o log_file=; else the journal (a stand-in socket here, which gets
# what libsystemd sends), else syslog, else /var/log/fastfs.log. /run/systemd, /dev/log and /var/log are
# replaced in this private namespace only.
case_logs() {
    local mnt=$SCRATCH/logs-mnt out
    add_mountpoint logs-mnt
    "$FASTFS_BINARY" "$BACKING" "$mnt" -o log_file="$SCRATCH/chosen.log" || fail "mount with log_file= exited $?"
    umount "$mnt" && wait_daemon_gone "$mnt" || fail "umount $mnt"
    expect_contains "$(cat "$SCRATCH/chosen.log" 2>&1)" "info: mounted $BACKING on $mnt" "log_file="
    expect_contains "$(cat "$SCRATCH/chosen.log" 2>&1)" "info: unmounted $mnt" "log_file= at unmount"

    mount -t tmpfs fastfs-ops-run /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs fastfs-ops-run /run/systemd; } ||
        cannot_set_up "a tmpfs over /run/systemd"
    on_cleanup "umount /run/systemd"
    if [ -e /dev/log ]; then
        mount --bind /dev/null /dev/log || cannot_set_up "hiding /dev/log"
        on_cleanup "umount /dev/log"
    fi
    mount -t tmpfs fastfs-ops-log /var/log || cannot_set_up "a tmpfs over /var/log"
    on_cleanup "umount /var/log"
    "$FASTFS_BINARY" "$BACKING" "$mnt" || fail "mount without journal or syslog exited $?"
    umount "$mnt" && wait_daemon_gone "$mnt" || fail "umount $mnt"
    expect_contains "$(cat /var/log/fastfs.log 2>&1)" "info: mounted $BACKING on $mnt" "no journal, no syslog"

    mkdir -p /run/systemd/journal
    /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print("ready", flush=True)
with open(sys.argv[2], "wb") as out:
    try:
        while True:
            out.write(s.recv(65536) + b"\n--\n")
            out.flush()
    except socket.timeout:
        pass
' /run/systemd/journal/socket "$SCRATCH/journal.txt" >"$SCRATCH/journal.ready" &
    local listener=$!
    on_cleanup "kill $listener 2>/dev/null"
    for _ in $(seq 50); do grep -q ready "$SCRATCH/journal.ready" 2>/dev/null && break; sleep 0.1; done
    "$FASTFS_BINARY" "$BACKING" "$mnt" || fail "mount with a journal exited $?"
    umount "$mnt" && wait_daemon_gone "$mnt" || fail "umount $mnt"
    for _ in $(seq 50); do grep -q "unmounted" "$SCRATCH/journal.txt" 2>/dev/null && break; sleep 0.1; done
    out=$(cat "$SCRATCH/journal.txt" 2>&1)
    expect_contains "$out" "MESSAGE=mounted $BACKING on $mnt"$'\n'"PRIORITY=6" "the journal gets the log, its level as PRIORITY"
    expect_contains "$out" "SYSLOG_IDENTIFIER=fastfs" "the journal entry names fastfs"
    [ "$(grep -c "mounted $BACKING" /var/log/fastfs.log)" = 1 ] || fail "with a journal, the file got lines too"
}

# A pseudo filesystem mounted inside the backing tree is not served (the daemon would read /proc/PID/... with
# its own rights for every user); a tmpfs there is data and is. In this private namespace only.
case_pseudo_inside() {
    local mnt=$SCRATCH/pseudo-mnt out
    add_mountpoint pseudo-mnt
    mkdir -p "$BACKING/proc-inside" "$BACKING/tmpfs-inside"
    mount -t proc proc "$BACKING/proc-inside" || cannot_set_up "proc inside the backing"
    on_cleanup "umount -l '$BACKING/proc-inside'"
    mount -t tmpfs -o size=1m fastfs-ops-tmpfs "$BACKING/tmpfs-inside" || cannot_set_up "tmpfs inside the backing"
    on_cleanup "umount -l '$BACKING/tmpfs-inside'"
    echo data >"$BACKING/tmpfs-inside/file"
    "$FASTFS_BINARY" "$BACKING" "$mnt" -o allow_other || fail "mount exited $?"
    out=$(ls "$mnt/proc-inside/self" 2>&1) && fail "proc inside the backing is served: $out"
    expect_contains "$out" "Permission denied" "proc inside the backing"
    expect_eq "$(cat "$mnt/tmpfs-inside/file" 2>&1)" data "tmpfs inside the backing"
    expect_eq "$(cat "$mnt/hello.txt" 2>&1)" hello "the backing itself"
    umount "$mnt" && wait_daemon_gone "$mnt" || fail "umount $mnt"
}

"case_$OPS_CASE"
