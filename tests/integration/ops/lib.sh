# shellcheck shell=bash disable=SC2034
# Shared by the ops tests (sourced by bash). Real mounts only; everything made is undone by the EXIT trap.
#
# Exit codes: 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE). In CI (CI=true) a missing facility is a
# failure, never a skip, so a green CI run means the real thing was exercised.

set -u

OPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_ROOT=$(cd "$OPS_DIR/../../.." && pwd)
FASTFS_BINARY=${FASTFS_BINARY:-}
SCRATCH_ROOT=${FASTFS_TEST_TMPDIR:-/var/tmp}
TEST_NAME=$(basename "$0" .sh)${OPS_CASE:+:$OPS_CASE}

failures=0
cleanup_steps=()

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }

# Marks the test failed but keeps going, so one run reports every broken expectation.
fail() {
    log "FAIL: $*"
    failures=$((failures + 1))
}

# A missing facility (no /dev/fuse, no loop device, no tool): skip outside CI, fail in CI.
cannot_set_up() {
    if [ "${CI:-}" = true ]; then
        log "FAIL (CI=true, cannot set up): $*"
        exit 1
    fi
    log "SKIP (cannot set up, not in CI): $*"
    exit 77
}

# Runs cleanup steps last-in first-out; each step is a shell string, failures are reported not fatal.
on_cleanup() { cleanup_steps+=("$1"); }
run_cleanup() {
    local i
    for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do
        eval "${cleanup_steps[i]}" || log "cleanup step failed: ${cleanup_steps[i]}"
    done
    cleanup_steps=()
}
finish() {
    local status=$?
    run_cleanup
    if [ "$status" -eq 0 ] && [ "$failures" -gt 0 ]; then status=1; fi
    [ "$status" -eq 0 ] && log "PASS"
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

require_tool() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || cannot_set_up "missing tool: $tool"
    done
}

require_fastfs_binary() {
    if [ -z "$FASTFS_BINARY" ] || [ ! -x "$FASTFS_BINARY" ]; then
        cannot_set_up "FASTFS_BINARY is not an executable: '${FASTFS_BINARY}'"
    fi
}

require_fuse() {
    [ "$(id -u)" -eq 0 ] || cannot_set_up "needs root"
    [ -c /dev/fuse ] || cannot_set_up "no /dev/fuse"
}

# A private scratch directory, removed at the end unless something is still mounted below it.
make_scratch() {
    SCRATCH=$(mktemp -d "$SCRATCH_ROOT/fastfs-ops-XXXXXX") || cannot_set_up "mktemp in $SCRATCH_ROOT"
    on_cleanup "remove_scratch '$SCRATCH'"
}
remove_scratch() {
    if findmnt -rn -o TARGET | grep -q "^$1"; then
        log "not removing $1: still mounted below it"
        return 1
    fi
    rm -rf -- "$1"
}

# Whether $1 is a mount point of type $2 in this mount namespace.
mounted_as() {
    local found
    found=$(findmnt -rn -o FSTYPE --mountpoint "$1" 2>/dev/null | tail -n 1)
    [ -n "$found" ] && { [ -z "${2:-}" ] || [ "$found" = "$2" ]; }
}

# Unmounts $1 if mounted; lazily if it is busy.
unmount_quietly() {
    mounted_as "$1" || return 0
    umount "$1" 2>/dev/null || umount -l "$1"
}

# PIDs of fastfs daemons serving mounts on $1 (matched by their command line).
fastfs_pids_for() {
    local pid
    for pid in $(pgrep -x fastfs); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- " $1\( \|$\)" && echo "$pid"
    done
}

# Waits until no fastfs daemon serves $1 any more (the daemon must exit on its own after umount).
wait_daemon_gone() {
    local i
    for ((i = 0; i < 300; i++)); do  # 30 s: a sanitized daemon exits slowly on a loaded machine
        [ -z "$(fastfs_pids_for "$1")" ] && return 0
        sleep 0.1
    done
    return 1
}

# Kills, by PID, daemons still serving $1: only ever our own mountpoints under $SCRATCH.
kill_daemons_for() {
    local pid
    for pid in $(fastfs_pids_for "$1"); do
        kill "$pid" 2>/dev/null
        sleep 0.2
        kill -KILL "$pid" 2>/dev/null
    done
    return 0
}

# Cleanup for a fastfs mountpoint: unmount, then make sure its daemon is gone.
on_cleanup_fastfs_mount() { on_cleanup "unmount_quietly '$1'; wait_daemon_gone '$1' || kill_daemons_for '$1'"; }

# A loop-mounted XFS with reflink=1 at $SCRATCH/xfs (the image is sparse).
make_loop_xfs() {
    require_tool mkfs.xfs losetup
    local image=$SCRATCH/xfs.img
    truncate -s "${1:-512M}" "$image" || cannot_set_up "truncate $image"
    mkfs.xfs -q -f -m reflink=1 "$image" || cannot_set_up "mkfs.xfs"
    mkdir -p "$SCRATCH/xfs"
    # -o loop sets autoclear: the loop device goes away with the unmount.
    mount -o loop "$image" "$SCRATCH/xfs" || cannot_set_up "cannot loop-mount XFS"
    on_cleanup "umount '$SCRATCH/xfs' || umount -l '$SCRATCH/xfs'"
    XFS=$SCRATCH/xfs
}

# Count of extents of $1 that share blocks, from filefrag -v on the backing filesystem.
shared_extents() { filefrag -v "$1" 2>/dev/null | grep -c shared; }

# Expectation helpers.
expect_mounted() { mounted_as "$1" "$2" || fail "$3: $1 is not mounted as $2 ($(findmnt -rn -o FSTYPE --mountpoint "$1"))"; }
expect_not_mounted() { mounted_as "$1" && fail "$2: $1 is mounted but should not be"; return 0; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() {
    case $1 in
    *"$2"*) ;;
    *) fail "$3: '$2' not in '$1'" ;;
    esac
}
