#!/bin/bash
# fastfs-csi's volumes in a real container engine: Debian's dockerd (as the containers suite starts it) runs a
# "pod" whose volumes are the target paths the driver published, as kubelet's container runtime would bind
# them. A copy from a clone volume into a scratch volume shares extents on the backing; writes in the clone
# never reach the source; a read-only view refuses writes and tree copies; killing and restarting the driver
# leaves the running pod working; unpublish removes the clone and the scratch directory.
#
# usage: container_test.sh   (FASTFS_BINARY, FASTFS_CSI_BINARY, FASTFS_CSI_CLIENT: the built programs)

CONTAINERS_CASE=pod
# shellcheck source=../containers/lib.sh
source "$(dirname "$0")/../containers/lib.sh"
FASTFS_PLUGIN_BINARY=${FASTFS_CSI_BINARY:-}  # lib.sh checks that a plugin program is there: ours is the driver
PLUGIN_BINARY=$FASTFS_PLUGIN_BINARY
[ -x "${FASTFS_CSI_CLIENT:-}" ] || cannot_set_up "FASTFS_CSI_CLIENT is not an executable"
enter_private_namespaces "$@"

SOCKET=$SCRATCH/plugins/csi.sock
KUBELET=$SCRATCH/kubelet

start_driver() {
    "$FASTFS_CSI_BINARY" --endpoint "unix://$SOCKET" --node-id node-a --state-dir "$SCRATCH/csi-state" \
        --mount-root "$RUN_DIR/csi" --backing "models=$BACKING" --fastfs "$FASTFS_BINARY" \
        >>"$SCRATCH/csi.log" 2>&1 &
    DRIVER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$SOCKET" ] && return 0
        kill -0 "$DRIVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -5 "$SCRATCH/csi.log" >&2
    fail "fastfs-csi did not come up"
    exit 1
}

stop_driver() {
    [ -n "${DRIVER_PID:-}" ] || return 0
    kill "-${1:-TERM}" "$DRIVER_PID" 2>/dev/null
    wait "$DRIVER_PID" 2>/dev/null
    DRIVER_PID=
    return 0
}

csi() { "$FASTFS_CSI_CLIENT" "$SOCKET" "$@"; }

# kubelet's target path for volume $1 of the pod.
target() {
    mkdir -p "$KUBELET/pods/uid-1/volumes/kubernetes.io~csi/$1"
    echo "$KUBELET/pods/uid-1/volumes/kubernetes.io~csi/$1/mount"
}

set_up_docker
BACKING=$XFS/models
mkdir -p "$BACKING/llama/v2" "$SCRATCH/plugins"
for i in 1 2 3; do make_data_file "$BACKING/llama/v2/shard-$i" 8M; done
# Before dockerd's containers go (LIFO): binds off the targets, then the driver's fastfs mounts.
on_cleanup "unmount_all_below '$RUN_DIR'"
on_cleanup "unmount_all_below '$KUBELET'"
on_cleanup "stop_driver"
on_cleanup "remove_containers"
start_driver

CLONE=$(target models)
SCRATCH_VOL=$(target scratch)
VIEW=$(target weights)
csi publish csi-clone "$CLONE" backing=models mode=clone source=llama/v2 || fail "publish clone"
csi publish csi-scratch "$SCRATCH_VOL" backing=models mode=scratch || fail "publish scratch"
csi publish csi-view "$VIEW" --readonly backing=models mode=view source=llama || fail "publish read-only view"
csi publish csi-clone "$CLONE" backing=models mode=clone source=llama/v2 || fail "kubelet's retry of a publish"

dk run -d --name pod --network none -v "$CLONE:/models" -v "$SCRATCH_VOL:/scratch" -v "$VIEW:/weights" \
    "$IMAGE" sleep 600 >/dev/null || fail "docker run"
dk exec pod cp /models/shard-1 /scratch/shard-1 || fail "cp from the clone into the scratch volume"
dk exec pod sh -c 'echo changed > /models/shard-2; echo new > /models/new' || fail "writes in the clone"
expect_shared_with "$BACKING/llama/v2/shard-1" "$BACKING/.fastfs-csi/volumes/csi-scratch/shard-1" \
    "copy from the clone into scratch"
expect_shared_with "$BACKING/llama/v2/shard-3" "$BACKING/.fastfs-csi/volumes/csi-clone/shard-3" "clone volume"
expect_eq "$(stat -c %s "$BACKING/llama/v2/shard-2")" 8388608 "the source after a write in the clone"
[ -e "$BACKING/llama/v2/new" ] && fail "a file made in the clone reached the source"
out=$(dk exec pod touch /weights/x 2>&1) && fail "a write into the read-only view succeeded"
expect_contains "$out" "Read-only file system" "touch in the read-only view"
out=$(dk exec pod fastfs copy -r /weights/v2 /weights/v3 2>&1) && fail "fastfs copy -r into the read-only view succeeded"
expect_contains "$out" "Read-only file system" "fastfs copy -r into the read-only view"
[ -e "$BACKING/llama/v3" ] && fail "the tree copy reached the backing"

stop_driver KILL
start_driver
dk exec pod cat /models/new >/dev/null || fail "the pod's clone after a driver restart"
dk exec pod cp /models/shard-3 /scratch/shard-3 || fail "a copy after a driver restart"
expect_shared_with "$BACKING/llama/v2/shard-3" "$BACKING/.fastfs-csi/volumes/csi-scratch/shard-3" \
    "copy after the driver restart"

dk rm -f pod >/dev/null
for volume in csi-clone:"$CLONE" csi-scratch:"$SCRATCH_VOL" csi-view:"$VIEW"; do
    csi unpublish "${volume%%:*}" "${volume#*:}" || fail "unpublish ${volume%%:*}"
    csi unpublish "${volume%%:*}" "${volume#*:}" || fail "a repeated unpublish of ${volume%%:*}"
done
[ -e "$BACKING/.fastfs-csi/volumes/csi-clone" ] && fail "the clone is still there after unpublish"
[ -e "$BACKING/.fastfs-csi/volumes/csi-scratch" ] && fail "the scratch directory is still there after unpublish"
[ -e "$BACKING/llama/v2/shard-1" ] || fail "unpublishing a view deleted the source"
log "a pod's clone, scratch and read-only view volumes behave as documented, across a driver restart"
exit 0
