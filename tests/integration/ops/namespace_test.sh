#!/bin/bash
# A fastfs mount made on the host reaches a "container" through mount propagation, and a plain `cp` inside the
# container is a reflink on the backing XFS.
#
# usage: namespace_test.sh rslave|userns   (FASTFS_BINARY = the built binary)
#
# The container is a process in its own mount namespace (unshare -m, or unshare -U -r -m for a user
# namespace), started BEFORE fastfs mounts, that binds the host's shared directory into its own tree with
# rslave propagation, as `docker run --mount ...,bind-propagation=rslave` and Kubernetes' HostToContainer
# do. The host then mounts fastfs below the shared directory; the mount must appear inside the container,
# where cp copies a file. On the host, filefrag on the backing XFS must show the copy's extents as shared.
# (The reflink needs the FUSE copy handler and the copy engine.)

OPS_CASE=${1:-}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

case $OPS_CASE in
rslave) unshare_args=(-m --propagation slave) ;;
userns) unshare_args=(-U -r -m --propagation slave) ;;
*)
    echo "usage: $0 rslave|userns" >&2
    exit 2
    ;;
esac

require_fastfs_binary
require_fuse
require_tool unshare findmnt filefrag cmp timeout
[ -e /dev/loop-control ] || cannot_set_up "no loop devices"

make_scratch
make_loop_xfs 512M
BACKING=$XFS/backing
mkdir -p "$BACKING"
# 8 MiB of incompressible data in several extents; synced so it has real extents before the copy.
head -c $((8 << 20)) /dev/urandom >"$BACKING/source.bin"
sync -f "$BACKING/source.bin"

# The host side of the volume: a directory made a shared mount, as systemd makes "/" on most hosts.
SHARED=$SCRATCH/shared
mkdir -p "$SHARED"
mount --bind "$SHARED" "$SHARED" || cannot_set_up "bind mount"
on_cleanup "umount '$SHARED' || umount -l '$SHARED'"
mount --make-shared "$SHARED" || cannot_set_up "make-shared"
MOUNTPOINT=$SHARED/fast
mkdir -p "$MOUNTPOINT"

# The container: waits for the host's go-ahead, then uses the mount through its own bind at $SCRATCH/models.
CONTAINER_ROOT=$SCRATCH/models
mkdir -p "$CONTAINER_ROOT"
GO=$SCRATCH/go
RESULT=$SCRATCH/container.log
# shellcheck disable=SC2016 # expanded by the container shell, from the exported variables
container_script='
set -u
mount --rbind "$SHARED" "$CONTAINER_ROOT" || { echo "bind failed"; exit 10; }
mount --make-rslave "$CONTAINER_ROOT" || { echo "make-rslave failed"; exit 11; }
touch "$SCRATCH/ready"
for i in $(seq 1 300); do [ -e "$GO" ] && break; sleep 0.1; done
[ -e "$GO" ] || { echo "no go-ahead from the host"; exit 12; }
fstype=$(findmnt -rn -o FSTYPE --mountpoint "$CONTAINER_ROOT/fast")
[ "$fstype" = fuse.fastfs ] || { echo "mount did not propagate: type [$fstype]"; exit 13; }
echo "container uid map: $(tr -s " " < /proc/self/uid_map)"
cp "$CONTAINER_ROOT/fast/source.bin" "$CONTAINER_ROOT/fast/copy-in-container.bin" || { echo "cp failed"; exit 14; }
cmp "$CONTAINER_ROOT/fast/source.bin" "$CONTAINER_ROOT/fast/copy-in-container.bin" || { echo "copy differs"; exit 15; }
echo "copied"
'
export SHARED CONTAINER_ROOT GO SCRATCH
timeout 60 unshare "${unshare_args[@]}" bash -c "$container_script" >"$RESULT" 2>&1 &
container_pid=$!
# Wait for the container before anything else is undone: its namespace holds copies of our mounts.
on_cleanup "touch '$GO'; wait $container_pid 2>/dev/null"

for ((i = 0; i < 100; i++)); do
    [ -e "$SCRATCH/ready" ] && break
    kill -0 "$container_pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -e "$SCRATCH/ready" ]; then
    wait "$container_pid"
    cannot_set_up "the container namespace did not come up ($OPS_CASE): $(cat "$RESULT")"
fi

# Host: mount fastfs now, after the container started; it returns once the mount exists.
on_cleanup_fastfs_mount "$MOUNTPOINT"
"$FASTFS_BINARY" "$BACKING" "$MOUNTPOINT" -o allow_other || fail "fastfs mount on the host exited $?"
expect_mounted "$MOUNTPOINT" fuse.fastfs "host mount"
touch "$GO"

wait "$container_pid"
container_status=$?
log "container ($OPS_CASE) said: $(tr '\n' ' ' <"$RESULT")"
expect_eq "$container_status" 0 "container exit status"

copy=$BACKING/copy-in-container.bin
if [ -f "$copy" ]; then
    cmp -s "$BACKING/source.bin" "$copy" || fail "the copy differs from the source on the backing XFS"
    sync -f "$copy"
    shared=$(shared_extents "$copy")
    log "shared extents of the copy on XFS: $shared"
    [ "$shared" -gt 0 ] || fail "cp inside the container did not make a reflink: $(filefrag -v "$copy" | tail -n +4 | head -5)"
else
    fail "no copy on the backing XFS"
fi

unmount_quietly "$MOUNTPOINT"
wait_daemon_gone "$MOUNTPOINT" || fail "fastfs did not exit after the host's umount"
