#!/bin/bash
# The bind-mount recipes of docs/containers.md in real containers: fastfs mounted on the host, given to a
# container as a bind, a cp inside the container, and fastfs restarted on the host while the container runs.
#
# usage: bind_test.sh plain|rslave   (FASTFS_BINARY = the built binary)
#   plain   docker run -v /mnt/fast:/models
#   rslave  docker run --mount type=bind,source=...,target=...,bind-propagation=rslave, once with the mount
#           itself as the source (the recipe as first written) and once with the directory holding it

CONTAINERS_CASE=${1:-}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case $CONTAINERS_CASE in
plain | rslave) ;;
*)
    echo "usage: $0 plain|rslave" >&2
    exit 2
    ;;
esac
FASTFS_PLUGIN_BINARY=${FASTFS_PLUGIN_BINARY:-/bin/true}  # not used here
PLUGIN_BINARY=$FASTFS_PLUGIN_BINARY
enter_private_namespaces "$@"

# The host side: a shared directory (as systemd makes "/") holding the mountpoint, fastfs mounted there.
set_up_host_mount() {
    set_up_docker
    BACKING=$XFS/backing
    mkdir -p "$BACKING"
    make_data_file "$BACKING/source.bin" 64M
    SHARED=$SCRATCH/shared
    mkdir -p "$SHARED"
    mount --bind "$SHARED" "$SHARED" && mount --make-shared "$SHARED" || cannot_set_up "shared bind of $SHARED"
    on_cleanup "umount -l '$SHARED'"
    MNT=$SHARED/fast
    mkdir -p "$MNT"
    on_cleanup_fastfs_mount "$MNT"
    # Containers go before the mount is taken down (LIFO).
    on_cleanup "remove_containers"
    mount_fastfs
}

mount_fastfs() {
    "$FASTFS_BINARY" "$BACKING" "$MNT" -o allow_other || fail "fastfs on the host exited $?"
    expect_mounted "$MNT" fuse.fastfs "host mount"
}

# "Restart" as an operator does it: unmount (lazily if busy), mount again. Prints the old daemon's PID.
restart_fastfs() {
    local old
    old=$(fastfs_pids_for "$MNT")
    umount "$MNT" 2>/dev/null || umount -l "$MNT"
    mount_fastfs
    echo "$old"
}

copy_in() {
    dk exec "$1" sh -c "cp $2/source.bin $2/$3" || fail "$1: cp in the container"
    expect_shared_with "$BACKING/source.bin" "$BACKING/$3" "$1: cp in the container"
}

case_plain() {
    set_up_host_mount
    dk run -d --name plain --network none -v "$MNT:/models" "$IMAGE" sleep 600 >/dev/null || fail "docker run -v"
    copy_in plain /models copy-1.bin

    # Restarted on the host: the container keeps its bind of the old mount, and the old daemon keeps serving
    # it (a FUSE daemon ends when the last mount of its filesystem goes, and the container holds one).
    local old
    old=$(restart_fastfs)
    kill -0 "$old" 2>/dev/null || fail "the old daemon exited although the container still holds its mount"
    expect_eq "$(dk exec plain cat /models/source.bin | wc -c)" $((64 << 20)) "container after a host restart"
    log "after umount + mount on the host the container is still served by the old daemon (pid $old)"
    copy_in plain /models copy-2.bin

    # The old daemon dies (a crash, an upgrade that kills it): the container's mount is dead until restarted.
    kill -KILL "$old"
    local out
    out=$(dk exec plain stat /models 2>&1) && fail "a dead mount answered in the container"
    expect_contains "$out" "Transport endpoint is not connected" "container after the old daemon died"
    log "with the old daemon killed the container sees: $out"
    dk restart -t 1 plain >/dev/null || fail "docker restart"
    copy_in plain /models copy-3.bin
}

case_rslave() {
    set_up_host_mount
    # As the recipe was first written: the mount itself is the source.
    dk run -d --name exact --network none \
        --mount "type=bind,source=$MNT,target=/models,bind-propagation=rslave" "$IMAGE" sleep 600 >/dev/null ||
        fail "docker run --mount source=$MNT"
    # The directory holding the mountpoint is the source: mounts made there later reach the container.
    dk run -d --name parent --network none \
        --mount "type=bind,source=$SHARED,target=/shared,bind-propagation=rslave" "$IMAGE" sleep 600 >/dev/null ||
        fail "docker run --mount source=$SHARED"
    copy_in exact /models copy-exact-1.bin
    copy_in parent /shared/fast copy-parent-1.bin

    local old
    old=$(restart_fastfs)
    # The directory-source container follows the new mount at once.
    copy_in parent /shared/fast copy-parent-2.bin
    # The mount-source container still holds the old mount: rslave passes on mounts made inside the source,
    # not a new mount over the source itself.
    kill -0 "$old" 2>/dev/null || fail "the old daemon exited although the mount-source container holds its mount"
    copy_in exact /models copy-exact-2.bin
    kill -KILL "$old"
    local out
    out=$(dk exec exact stat /models 2>&1) && fail "the mount-source container survived the old daemon"
    expect_contains "$out" "Transport endpoint is not connected" "mount-source container after the old daemon died"
    copy_in parent /shared/fast copy-parent-3.bin
    log "rslave with the mount as source behaves like -v across a restart; with its directory as source it follows"
}

"case_$CONTAINERS_CASE"
exit 0
