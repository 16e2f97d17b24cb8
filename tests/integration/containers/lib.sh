# shellcheck shell=bash disable=SC2034
# Shared by the container tests (sourced by bash, after setting CONTAINERS_CASE). A real dockerd from
# Debian's docker.io, without networking, on a private data root, exec root and API socket; images made with
# `docker import` from host binaries (no registry is reachable); containers with --network none.
#
# Isolation and cleanup: each test re-runs itself inside new mount and PID namespaces (unshare --kill-child).
# Its dockerd, containerd, containers, fastfs daemons and plugin live only there, and so do its loop mount,
# its FUSE mounts and the plugin socket directory (a private tmpfs over /run/docker/plugins): the EXIT trap
# undoes everything in order, and if the test is killed the kernel ends every process of the PID namespace
# and drops its mounts. The outer half removes the cgroups dockerd made.

OPS_CASE=${CONTAINERS_CASE:-}
# shellcheck source=../ops/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../ops/lib.sh"

DOCKER=/usr/bin/docker  # Debian's client, matching its dockerd (another docker may come first in PATH)
PLUGIN_BINARY=${FASTFS_PLUGIN_BINARY:-}
IMAGE=fastfs-test:latest
PLUGIN_SOCKET=/run/docker/plugins/fastfs.sock
INNER_BUDGET=${CONTAINERS_TEST_BUDGET:-240}  # seconds; below the ctest TIMEOUT so cleanup still runs

# Runs the calling script again inside private mount and PID namespaces; the outer process only waits and
# then removes what the kernel does not: the cgroup directories dockerd created under its cgroup parent.
enter_private_namespaces() {
    if [ -n "${CONTAINERS_INNER:-}" ]; then
        on_cleanup "show_logs_if_failed"  # runs last inside, while the logs are still there
        return 0
    fi
    require_fastfs_binary
    require_fuse
    require_tool unshare timeout findmnt filefrag mkfs.xfs losetup curl
    [ -x "$DOCKER" ] && command -v dockerd >/dev/null || cannot_set_up "docker.io is not installed (dockerd, $DOCKER)"
    [ -n "$PLUGIN_BINARY" ] && [ -x "$PLUGIN_BINARY" ] || cannot_set_up "FASTFS_PLUGIN_BINARY is not an executable"
    [ -e /dev/loop-control ] || cannot_set_up "no loop devices"
    # The tmpfs inside the namespace needs a directory to cover; Docker makes the same one on any host.
    mkdir -p /run/docker/plugins || cannot_set_up "cannot create /run/docker/plugins"
    # The scratch directory is made out here, so that it is removed out here, after the namespaces are gone
    # (whatever was mounted below it inside them went with them).
    make_scratch
    export CONTAINERS_INNER=1 CGROUP_PARENT="fastfs-test-$$" SCRATCH
    on_cleanup "remove_cgroups '$CGROUP_PARENT'"
    local status=0
    timeout --kill-after=10 "$INNER_BUDGET" \
        unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
        bash "$0" "$@" || status=$?
    [ "$status" -eq 124 ] && log "FAIL: timed out after ${INNER_BUDGET}s"
    exit "$status"
}

show_logs_if_failed() {
    [ "$failures" -gt 0 ] || return 0
    local file
    for file in "$SCRATCH/plugin.log" "$SCRATCH/dockerd.log"; do
        [ -s "$file" ] || continue
        log "last lines of $(basename "$file"):"
        tail -n 25 "$file" >&2
    done
}

remove_cgroups() {
    local dir
    for dir in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
        [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    return 0
}

# The private part of /run: the plugin socket directory Docker scans, and a tmpfs for the plugin's mounts.
set_up_private_run() {
    mount -t tmpfs -o mode=0755,size=1m tmpfs /run/docker/plugins || cannot_set_up "tmpfs on /run/docker/plugins"
    on_cleanup "umount -l /run/docker/plugins"
    RUN_DIR=$SCRATCH/run
    mkdir -p "$RUN_DIR"
    mount -t tmpfs -o mode=0755,size=1m tmpfs "$RUN_DIR" || cannot_set_up "tmpfs on $RUN_DIR"
    on_cleanup "unmount_all_below '$RUN_DIR'; umount -l '$RUN_DIR'"
}

# Lazily unmounts every mount below $1, deepest first.
unmount_all_below() {
    local target
    findmnt -rn -o TARGET | grep "^$1/" | sort -r | while read -r target; do
        umount -l "$target" 2>/dev/null
    done
}

dk() { "$DOCKER" -H "unix://$SCRATCH/docker.sock" "$@"; }

# Starts dockerd with networking off and everything private; extra arguments go to dockerd.
start_dockerd() {
    mkdir -p "$SCRATCH/docker" "$SCRATCH/exec"
    echo '{}' >"$SCRATCH/daemon.json"
    dockerd --config-file "$SCRATCH/daemon.json" --data-root "$SCRATCH/docker" --exec-root "$SCRATCH/exec" \
        -H "unix://$SCRATCH/docker.sock" --pidfile "$SCRATCH/dockerd.pid" --cgroup-parent "/$CGROUP_PARENT" \
        --bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
        --log-level warn "$@" >>"$SCRATCH/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    on_cleanup "stop_dockerd"
    local i
    for ((i = 0; i < 300; i++)); do
        dk version >/dev/null 2>&1 && return 0
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -5 "$SCRATCH/dockerd.log" >&2
    cannot_set_up "dockerd did not come up"
}

# Removes every container first (their volume mounts go back through the plugin), then stops dockerd.
stop_dockerd() {
    [ -n "${DOCKERD_PID:-}" ] || return 0
    local ids
    ids=$(dk ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    local i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=
    return 0
}

# A minimal image from this host's binaries and the libraries they load.
build_image() {
    local root=$SCRATCH/image tool path lib
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    # fastfs itself too: its copy and clone commands run inside containers.
    for tool in sh cp stat cat ls id mkdir rm sleep touch cmp sync head chmod chown date sha256sum truncate \
        wc find fastfs; do
        if [ "$tool" = fastfs ]; then path=$FASTFS_BINARY; else
            path=$(command -v "$tool") || cannot_set_up "missing tool for the image: $tool"
        fi
        cp -L "$path" "$root/bin/$tool"
        for lib in $(ldd "$path" | grep -o '/[^ ]*'); do
            mkdir -p "$root$(dirname "$lib")"
            cp -Ln "$lib" "$root$lib"
        done
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
    # A default command, as real images have (compose services without `command:` run it).
    tar -C "$root" -c . | dk import --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null || cannot_set_up "docker import"
}

# Starts the plugin in the background with its socket where Docker looks.
start_plugin() {
    mkdir -p "$SCRATCH/state"
    "$PLUGIN_BINARY" --socket "$PLUGIN_SOCKET" --state-dir "$SCRATCH/state" --data-root "$XFS/volumes" \
        --run-dir "$RUN_DIR/plugin" --fastfs "$FASTFS_BINARY" --log-level debug >>"$SCRATCH/plugin.log" 2>&1 &
    PLUGIN_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$PLUGIN_SOCKET" ] && curl -s --unix-socket "$PLUGIN_SOCKET" -d '{}' http://plugin/Plugin.Activate \
            >/dev/null && return 0
        kill -0 "$PLUGIN_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -5 "$SCRATCH/plugin.log" >&2
    fail "the plugin did not come up"
    exit 1
}

# Stops the plugin with SIGTERM (or $1) and checks a clean stop exits 0.
stop_plugin() {
    [ -n "${PLUGIN_PID:-}" ] || return 0
    kill "-${1:-TERM}" "$PLUGIN_PID" 2>/dev/null
    local status=0
    wait "$PLUGIN_PID" || status=$?
    [ "${1:-TERM}" = TERM ] && [ "$status" -ne 0 ] && fail "the plugin exited $status on SIGTERM"
    PLUGIN_PID=
    return 0
}

# Inside the namespaces: XFS, private /run parts, dockerd (extra arguments go to it), the image.
set_up_docker() {
    make_loop_xfs 1G
    set_up_private_run
    start_dockerd "$@"
    build_image
}

# The same and the plugin, with Docker's containers removed before the plugin stops at the end.
set_up_docker_and_plugin() {
    set_up_docker "$@"
    start_plugin
    on_cleanup "stop_plugin"
    # Before the plugin stops: containers go first, so that their volumes are unmounted through it.
    on_cleanup "remove_containers"
}

remove_containers() {
    local ids
    ids=$(dk ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
    return 0
}

# A plugin call by hand (what Docker sends), printing the JSON answer.
plugin_call() { curl -s --unix-socket "$PLUGIN_SOCKET" -d "$2" "http://plugin/$1"; }

# fastfs mounts the plugin has made (fuse.fastfs under its run directory, bind mounts of them included).
plugin_fastfs_mounts() { findmnt -rn -t fuse.fastfs -o TARGET | grep "^$RUN_DIR/plugin/fs/" || true; }
fastfs_daemon_count() { pgrep -xc fastfs || true; }

# Runs a command in a throwaway container; extra docker-run arguments before "--".
run_container() {
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    shift
    dk run --rm --network none "${args[@]}" "$IMAGE" sh -c "$*"
}

# Random data, synced so that it has real extents on the XFS before anything copies it.
make_data_file() {
    head -c "$2" /dev/urandom >"$1"
    sync -f "$1"
}

# Physical offset of the first extent of $1 (filefrag -v, in filesystem blocks).
first_physical_block() { filefrag -v "$1" | sed -n 's/^ *0: *[0-9]*\.\. *[0-9]*: *\([0-9]*\)\.\..*/\1/p'; }

# $1 and $2 share their first extent: the copy is a reflink of the source.
expect_shared_with() {
    sync -f "$2"
    local a b
    a=$(first_physical_block "$1")
    b=$(first_physical_block "$2")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "$3: $2 does not share blocks with $1 (first extents at '$a' and '$b')"
    [ "$(shared_extents "$2")" -gt 0 ] || fail "$3: filefrag shows no shared extent in $2"
}

# Waits until no fastfs daemon runs (they exit on their own once their mount is gone).
wait_no_fastfs_daemon() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(fastfs_daemon_count)" -eq 0 ] && return 0
        sleep 0.1
    done
    return 1
}
