# shellcheck shell=bash
# Shared lifecycle helpers for the fastfs benchmarks (sourced by run.sh, copy_bench.sh and
# perfile_bench.sh).
#
# Everything a benchmark creates -- loop images, loop devices, mounts, daemons -- is recorded in the
# BENCH_* arrays below, and bench_cleanup undoes it in reverse order. The scripts install bench_cleanup
# as an EXIT/INT/TERM trap so an interrupted run leaves nothing behind.

BENCH_FUSE_MOUNTS=()  # FUSE mountpoints, unmounted first
BENCH_DAEMON_PIDS=()  # daemons we started in the foreground (-f) and backgrounded
BENCH_FS_MOUNTS=()    # loop-mounted backing filesystems
BENCH_LOOP_DEVS=()    # loop devices we attached
BENCH_WORK_DIR=""     # scratch directory holding images, mountpoints and logs
BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_URING_PARAM=/sys/module/fuse/parameters/enable_uring
BENCH_URING_SAVED=""  # enable_uring as it was before bench_uring_enable changed it; empty: untouched
# shellcheck disable=SC2034 # read by the sourcing script
BENCH_URING_ERROR=""  # why bench_uring_enable failed
# shellcheck disable=SC2034 # read by the sourcing script
BENCH_READ_AHEAD_ERROR=""  # why bench_set_read_ahead failed

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() {
    bench_log "error: $*"
    exit 1
}

bench_require_root() {
    [[ $(id -u) -eq 0 ]] || bench_die "needs root (loop devices, mounts, drop_caches): run with sudo"
}

bench_drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

bench_is_mounted() { findmnt --mountpoint "$1" >/dev/null 2>&1; }

# Creates the scratch directory. /var/tmp rather than /tmp: /tmp may be a small tmpfs.
bench_make_work_dir() {
    BENCH_WORK_DIR=$(mktemp -d "${BENCH_SCRATCH:-/var/tmp}/fastfs-bench.XXXXXX")
}

# bench_make_loop_fs TYPE SIZE NAME: mounts a fresh sparse loop filesystem and sets BENCH_LAST_MOUNT to
# its mountpoint (a variable, not stdout: a $(...) subshell would lose what we record for cleanup).
# Direct I/O on the loop device keeps the image out of the host page cache, so "cold" really is cold
# and a file is not cached twice.
bench_make_loop_fs() {
    local type=$1 size=$2 name=$3
    local image="$BENCH_WORK_DIR/$name.img" mnt="$BENCH_WORK_DIR/$name"
    truncate -s "$size" "$image"
    local dev
    dev=$(losetup --find --show --direct-io=on "$image") || bench_die "losetup failed for $image"
    BENCH_LOOP_DEVS+=("$dev")
    case $type in
        xfs) mkfs.xfs -q -f -m reflink=1 "$dev" >&2 ;;
        ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" >&2 ;;
        btrfs) mkfs.btrfs -q -f "$dev" >&2 ;;
        *) bench_die "unknown filesystem type $type" ;;
    esac
    mkdir -p "$mnt"
    mount "$dev" "$mnt" || bench_die "cannot mount $dev on $mnt"
    BENCH_FS_MOUNTS+=("$mnt")
    # shellcheck disable=SC2034 # read by the sourcing script
    BENCH_LAST_MOUNT=$mnt
}

# bench_wait_fuse_mount MNT PID: waits up to 15 s for a fuse mount to appear; fails if the daemon exits.
bench_wait_fuse_mount() {
    local mnt=$1 pid=$2 i
    for ((i = 0; i < 150; i++)); do
        if findmnt --mountpoint "$mnt" -n -o FSTYPE 2>/dev/null | grep -q '^fuse'; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# bench_start_fuse NAME LOG CMD... : runs CMD (a foreground FUSE daemon whose last argument is the
# mountpoint) in the background and waits for the mount. Sets BENCH_LAST_PID. Returns non-zero, with
# the daemon stopped, if it does not mount.
bench_start_fuse() {
    local name=$1 log=$2
    shift 2
    local mnt=${!#}
    mkdir -p "$mnt"
    "$@" </dev/null >"$log" 2>&1 &
    local pid=$!
    BENCH_DAEMON_PIDS+=("$pid")
    BENCH_FUSE_MOUNTS+=("$mnt")
    # shellcheck disable=SC2034 # read by the sourcing script
    BENCH_LAST_PID=$pid
    if ! bench_wait_fuse_mount "$mnt" "$pid"; then
        bench_log "$name did not mount; its log:"
        sed 's/^/    /' "$log" >&2 || true
        bench_stop_fuse "$mnt" "$pid"
        return 1
    fi
}

# Unmounts MNT and makes sure the daemon PID is gone (SIGTERM, then SIGKILL after 10 s).
bench_stop_fuse() {
    local mnt=$1 pid=$2 i
    if bench_is_mounted "$mnt"; then
        fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    fi
    if kill -0 "$pid" 2>/dev/null; then
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            ((i == 20)) && kill -TERM "$pid" 2>/dev/null
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

# FUSE over io_uring is off by default (enable_uring = N) and must be on when a daemon registers its rings.
# bench_uring_enable turns it on and remembers what it was; bench_uring_restore (also run by bench_cleanup)
# puts that back. Fails, with BENCH_URING_ERROR saying why, when it cannot be turned on.
# shellcheck disable=SC2034 # BENCH_URING_ERROR is read by the sourcing script
bench_uring_enable() {
    local was
    if ! was=$(cat "$BENCH_URING_PARAM" 2>/dev/null); then
        BENCH_URING_ERROR="this kernel has no FUSE over io_uring (no $BENCH_URING_PARAM)"
        return 1
    fi
    [[ $was == Y ]] && return 0
    BENCH_URING_SAVED=$was
    if ! { echo Y >"$BENCH_URING_PARAM"; } 2>/dev/null || [[ $(cat "$BENCH_URING_PARAM") != Y ]]; then
        BENCH_URING_SAVED=""
        BENCH_URING_ERROR="could not set $BENCH_URING_PARAM to Y (it stays $was)"
        return 1
    fi
    bench_log "enable_uring: $was -> Y"
}

bench_uring_restore() {
    [[ -n $BENCH_URING_SAVED ]] || return 0
    if { echo "$BENCH_URING_SAVED" >"$BENCH_URING_PARAM"; } 2>/dev/null; then
        bench_log "enable_uring: back to $BENCH_URING_SAVED"
    else
        bench_log "warning: could not put $BENCH_URING_PARAM back to $BENCH_URING_SAVED"
    fi
    BENCH_URING_SAVED=""
}

# bench_wait_uring_rings MNT PID: prints how many io_uring instances daemon PID holds once its mount has
# answered INIT (a stat of MNT waits for that), waiting up to 5 s for libfuse's ring threads to appear.
bench_wait_uring_rings() {
    local mnt=$1 pid=$2 i rings=0
    timeout 10 stat "$mnt" >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
        rings=$(find "/proc/$pid/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l)
        ((rings > 0)) && break
        sleep 0.1
    done
    echo "$rings"
}

# bench_set_read_ahead MNT KB: sets the read-ahead of the FUSE mount MNT (its own backing_dev_info, made
# with the mount and gone with it, so nothing needs restoring) and checks that it took. After INIT (a stat
# of MNT waits for it): the kernel lowers the read-ahead to the daemon's max_readahead when INIT is answered.
# shellcheck disable=SC2034 # BENCH_READ_AHEAD_ERROR is read by the sourcing script
bench_set_read_ahead() {
    local mnt=$1 kb=$2 dev
    timeout 10 stat "$mnt" >/dev/null 2>&1 || true
    if ! dev=$(mountpoint -d "$mnt" 2>/dev/null); then
        BENCH_READ_AHEAD_ERROR="$mnt is not a mount point"
        return 1
    fi
    local knob=/sys/class/bdi/$dev/read_ahead_kb
    if ! { echo "$kb" >"$knob"; } 2>/dev/null || [[ $(cat "$knob" 2>/dev/null) != "$kb" ]]; then
        BENCH_READ_AHEAD_ERROR="could not set $knob to $kb"
        return 1
    fi
}

bench_cleanup() {
    local i
    trap - EXIT INT TERM
    bench_uring_restore
    for ((i = ${#BENCH_FUSE_MOUNTS[@]} - 1; i >= 0; i--)); do
        bench_stop_fuse "${BENCH_FUSE_MOUNTS[i]}" "${BENCH_DAEMON_PIDS[i]}"
    done
    for ((i = ${#BENCH_FS_MOUNTS[@]} - 1; i >= 0; i--)); do
        local mnt=${BENCH_FS_MOUNTS[i]}
        bench_is_mounted "$mnt" && { umount "$mnt" 2>/dev/null || umount -l "$mnt"; }
    done
    for dev in "${BENCH_LOOP_DEVS[@]}"; do
        losetup -d "$dev" 2>/dev/null || true
    done
    # Only remove the scratch directory when nothing is mounted below it any more.
    if [[ -n $BENCH_WORK_DIR && -d $BENCH_WORK_DIR ]]; then
        if findmnt -rn -o TARGET | grep -q "^$BENCH_WORK_DIR/"; then
            bench_log "leaving $BENCH_WORK_DIR: something is still mounted below it"
        else
            rm -rf "$BENCH_WORK_DIR"
        fi
    fi
}

bench_install_traps() {
    trap bench_cleanup EXIT
    trap 'bench_log "interrupted"; exit 130' INT
    trap 'bench_log "terminated"; exit 143' TERM
}

# Finds the fastfs binary: FASTFS_BINARY, else build/fastfs of the repository.
bench_fastfs_binary() {
    local repo=$1
    local bin=${FASTFS_BINARY:-$repo/build/fastfs}
    [[ -x $bin ]] && printf '%s\n' "$(realpath "$bin")"
}

# Finds the no-op FUSE daemon of the "floor" column: FUSE_FLOOR_BINARY, else the fuse-floor target of
# build/ (tests/bench/fuse_floor).
bench_floor_binary() {
    local repo=$1
    local bin=${FUSE_FLOOR_BINARY:-$repo/build/tests/bench/fuse_floor/fuse-floor}
    [[ -x $bin ]] && printf '%s\n' "$(realpath "$bin")"
}

# ---------------------------------------------------------------------------------------------------
# The FUSE systems of the side-by-side benchmarks (run.sh, and the per-file rows), each mounted over the
# same backing directory for one repetition at a time. bench_systems_init sets them up from the
# environment; bench_run_mounted NAME RUNNER mounts one, runs the caller's RUNNER on it and unmounts it.
BENCH_SYSTEMS_ALL=fastfs,fastfs-ptoff,fastfs-uring,mergerfs,bindfs,floor,floor-uring
BENCH_BACKING=""     # the backing directory every system but the floors mounts
BENCH_FASTFS_BIN=""  # the fastfs binary (bench_fastfs_binary), empty when there is none
BENCH_FLOOR_BIN=""   # the fuse-floor binary (bench_floor_binary), empty when there is none
BENCH_FASTFS_EXTRA=()  # FASTFS_ARGS, for every fastfs system
BENCH_FLOOR_EXTRA=()   # FUSE_FLOOR_ARGS, for the floors
BENCH_READ_AHEAD_KB=""  # BENCH_FUSE_READ_AHEAD_KB: the read-ahead of every FUSE mount; empty: the kernel's
declare -gA BENCH_ROOT=()        # system -> its mountpoint (valid while mounted)
declare -gA BENCH_PID=()         # system -> its daemon's pid
declare -gA BENCH_NO_BACKING=()  # system -> 1 when it does not show the backing (the floors: in memory)
declare -gA BENCH_SKIPPED=()     # system -> why it is not run (any more)
declare -gA BENCH_NOTES=()       # system -> what its first mount said about itself (passthrough, rings)

# bench_systems_init REPO: the binaries and options of the systems, from the environment (FASTFS_BINARY,
# FASTFS_ARGS, FUSE_FLOOR_BINARY, FUSE_FLOOR_ARGS, BENCH_FUSE_READ_AHEAD_KB). The caller sets BENCH_BACKING
# once the backing is mounted.
bench_systems_init() {
    BENCH_REPO=$1
    BENCH_FASTFS_BIN=$(bench_fastfs_binary "$BENCH_REPO" || true)
    BENCH_FLOOR_BIN=$(bench_floor_binary "$BENCH_REPO" || true)
    read -r -a BENCH_FASTFS_EXTRA <<<"${FASTFS_ARGS:-}"
    read -r -a BENCH_FLOOR_EXTRA <<<"${FUSE_FLOOR_ARGS:-}"
    BENCH_READ_AHEAD_KB=${BENCH_FUSE_READ_AHEAD_KB:-}
    [[ -z $BENCH_READ_AHEAD_KB || $BENCH_READ_AHEAD_KB =~ ^[1-9][0-9]*$ ]] ||
        bench_die "BENCH_FUSE_READ_AHEAD_KB needs a positive number of KiB"
}

# bench_check_systems LIST: dies on a name in the comma-separated LIST that is not a system.
bench_check_systems() {
    local name names
    IFS=, read -r -a names <<<"$1"
    for name in "${names[@]}"; do
        [[ ,$BENCH_SYSTEMS_ALL, == *,"$name",* ]] ||
            bench_die "unknown system $name (systems: $BENCH_SYSTEMS_ALL)"
    done
}

bench_uses_uring() { [[ $1 == *-uring ]]; }

# bench_mount_system NAME: mounts system NAME at $BENCH_WORK_DIR/mnt-NAME and records it in BENCH_ROOT and
# BENCH_PID; one that cannot run gets its reason in BENCH_SKIPPED instead.
bench_mount_system() {
    local name=$1 mnt="$BENCH_WORK_DIR/mnt-$1" log="$BENCH_WORK_DIR/$1.log"
    local -a cmd
    case $name in
        fastfs | fastfs-ptoff | fastfs-uring)
            [[ -n $BENCH_FASTFS_BIN ]] ||
                { BENCH_SKIPPED[$name]="no binary (${FASTFS_BINARY:-$BENCH_REPO/build/fastfs})"; return; }
            cmd=("$BENCH_FASTFS_BIN" -f "${BENCH_FASTFS_EXTRA[@]}")
            [[ $name == fastfs-ptoff ]] && cmd+=(-o passthrough=off)
            [[ $name == fastfs-uring ]] && cmd+=(-o io_uring)
            cmd+=("$BENCH_BACKING" "$mnt") ;;
        mergerfs)
            command -v mergerfs >/dev/null || { BENCH_SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(mergerfs -f -o cache.files=partial "$BENCH_BACKING" "$mnt") ;;
        bindfs)
            command -v bindfs >/dev/null || { BENCH_SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(bindfs -f "$BENCH_BACKING" "$mnt") ;;
        floor | floor-uring)
            # Not over the backing: everything lives in the daemon's memory, so the runners make their
            # inputs through the mount and leave the rows that look at backing files as n/a.
            local wanted=${FUSE_FLOOR_BINARY:-$BENCH_REPO/build/tests/bench/fuse_floor/fuse-floor}
            [[ -n $BENCH_FLOOR_BIN ]] || { BENCH_SKIPPED[$name]="no binary ($wanted: ninja fuse-floor)"; return; }
            cmd=("$BENCH_FLOOR_BIN" -f "${BENCH_FLOOR_EXTRA[@]}")
            [[ $name == floor-uring ]] && cmd+=(-o io_uring)
            cmd+=("$mnt")
            # shellcheck disable=SC2034 # read by the sourcing script
            BENCH_NO_BACKING[$name]=1 ;;
        *) bench_die "unknown system $name" ;;
    esac
    if bench_uses_uring "$name" && ! bench_uring_enable; then
        BENCH_SKIPPED[$name]="not run: $BENCH_URING_ERROR"
        bench_log "$name: ${BENCH_SKIPPED[$name]}"
        return
    fi
    if bench_start_fuse "$name" "$log" "${cmd[@]}"; then
        BENCH_ROOT[$name]=$mnt
        BENCH_PID[$name]=$BENCH_LAST_PID
        bench_log "$name mounted on $mnt (pid $BENCH_LAST_PID): ${cmd[*]}"
        # The A/B of bigger reads: with the default 128 KiB read-ahead a buffered read reaches the daemon
        # in 128 KiB READs whatever max_read/max_pages allow. A mount it cannot be set on is not run.
        if [[ -n $BENCH_READ_AHEAD_KB ]] && ! bench_set_read_ahead "$mnt" "$BENCH_READ_AHEAD_KB"; then
            bench_log "$name: $BENCH_READ_AHEAD_ERROR"
            bench_stop_fuse "$mnt" "$BENCH_LAST_PID"
            BENCH_SKIPPED[$name]="not run: $BENCH_READ_AHEAD_ERROR"
        fi
    else
        BENCH_SKIPPED[$name]="did not mount (log: see above)"
    fi
    local rings=0
    if bench_uses_uring "$name"; then
        # The kernel wants the parameter on while the daemon registers its rings (after INIT); the rings
        # then serve until the unmount whatever it says, so it goes back as soon as they are there.
        if [[ -z ${BENCH_SKIPPED[$name]:-} ]]; then
            rings=$(bench_wait_uring_rings "$mnt" "$BENCH_LAST_PID")
        fi
        bench_uring_restore
        if [[ -z ${BENCH_SKIPPED[$name]:-} ]] && ((rings == 0)); then
            bench_log "$name mounted without io_uring rings; its log:"
            sed 's/^/    /' "$log" >&2 || true
            bench_stop_fuse "$mnt" "${BENCH_PID[$name]}"
            BENCH_SKIPPED[$name]="mounted on /dev/fuse, not io_uring (no ring in the daemon)"
            return
        fi
    fi
    # What the first mount of each system said about itself (every mount of it is made the same way).
    if [[ -z ${BENCH_SKIPPED[$name]:-} && -z ${BENCH_NOTES[$name]:-} ]]; then
        bench_uses_uring "$name" && BENCH_NOTES[$name]="$rings io_uring rings"
        if [[ $name == fastfs* ]]; then
            local said
            said=$(grep -m1 -o 'passthrough o[nf]*[^;]*' "$log" || true)
            BENCH_NOTES[$name]="${BENCH_NOTES[$name]:+${BENCH_NOTES[$name]}; }${said:-no passthrough line in the log}"
        fi
    fi
}

# bench_rounds REPS RUNNER WHAT AFTER SYSTEM...: REPS rounds over the SYSTEMs, interleaved (round 1 of each,
# then round 2...), each system mounted for its own round only (bench_run_mounted NAME RUNNER REP). A system
# whose round fails is dropped ("WHAT failed (rep N)"); AFTER (a function, or "") runs as `AFTER NAME` after
# each system's round.
bench_rounds() {
    local reps=$1 runner=$2 what=$3 after=$4 rep name
    shift 4
    for ((rep = 1; rep <= reps; rep++)); do
        for name in "$@"; do
            bench_run_mounted "$name" "$runner" "$rep" || bench_drop_system "$name" "$what failed (rep $rep)"
            [[ -z $after ]] || "$after" "$name"
        done
    done
}

# bench_columns SYSTEM...: the table's columns, native before and after the systems: "native-start,A,B,native-end".
bench_columns() {
    local IFS=,
    echo "native-start,$*,native-end"
}

# bench_run_mounted NAME RUNNER [ARGS...]: mounts NAME, runs `RUNNER NAME ROOT PID ARGS...`, unmounts. Each
# system is mounted only while its own rows run, so no other daemon -- and not fastfs's fanotify mark on the
# backing, which makes the kernel queue an event for every change there -- is present during another
# system's rows or native's. A function bench_after_runner, when the caller defines one, is called as
# `bench_after_runner NAME RUNNER STATUS ARGS...` while NAME is still mounted. Returns the runner's status;
# a system that does not mount is skipped (BENCH_SKIPPED says why).
bench_run_mounted() {
    local name=$1 runner=$2 rc=0
    shift 2
    [[ -z ${BENCH_SKIPPED[$name]:-} ]] || return 0
    bench_mount_system "$name"
    [[ -z ${BENCH_SKIPPED[$name]:-} ]] || return 0
    "$runner" "$name" "${BENCH_ROOT[$name]}" "${BENCH_PID[$name]}" "$@" || rc=$?
    if declare -F bench_after_runner >/dev/null; then
        bench_after_runner "$name" "$runner" "$rc" "$@" || true
    fi
    bench_stop_fuse "${BENCH_ROOT[$name]}" "${BENCH_PID[$name]}"
    return $rc
}

bench_drop_system() {
    local name=$1 why=$2
    bench_log "$name: $why; leaving it out from here on"
    BENCH_SKIPPED[$name]=$why
}

# bench_print_run_header DATE: the date, machine and commit lines that head a saved result.
bench_print_run_header() {
    echo "date: $1; host: $(uname -n), kernel $(uname -r), $(nproc) cpus," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "commit: $(git -C "$BENCH_LIB_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(git -C "$BENCH_LIB_DIR" diff --quiet HEAD 2>/dev/null || echo '(dirty tree)')"
}

# The charts are drawn with Debian's python3-matplotlib, which only the system's python3 sees when another
# python3 (a virtualenv, pyenv) comes first in PATH. Prints the python3 that has it; fails without one.
bench_chart_python() {
    local py
    for py in python3 /usr/bin/python3; do
        "$py" -c 'import matplotlib' 2>/dev/null && { echo "$py"; return 0; }
    done
    return 1
}

# bench_apt_install PACKAGE...: installs Debian's packages (after updating the lists: a fresh machine has
# none yet).
bench_apt_install() {
    (($#)) || return 0
    bench_log "installing $*"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# bench_make_model_tree DIR SIZES: the model tree of issue 11 at DIR (full or quick sizes), made by bench.py's
# mkmodeltree, the one generator of copy_bench.sh and perfile_bench.sh; prints what it made.
bench_make_model_tree() {
    local dir=$1 sizes=$2 made
    made=$(python3 "$BENCH_LIB_DIR/bench.py" mkmodeltree "$dir" --sizes "$sizes") || return 1
    echo "model tree: $made, $(du -sh --apparent-size "$dir" | cut -f1) apparent, $(du -sh "$dir" | cut -f1) allocated"
}

# bench_build_tree_copy DIR: builds the per-file tree copier (tree_copy/) into DIR: the Go program
# (tree_copy.go, io.Copy per file) when a Go toolchain is installed, else the C program doing the same
# copy_file_range loop (tree_copy.c) with cc. Sets BENCH_TREE_COPY to the binary and BENCH_TREE_COPY_KIND
# to go or c; both empty when neither builds. The Go build is offline (GOPROXY=off: the program uses the
# standard library only), with its build cache in DIR unless GOCACHE is set.
bench_build_tree_copy() {
    local out=$1 src=$BENCH_LIB_DIR/tree_copy
    BENCH_TREE_COPY="" BENCH_TREE_COPY_KIND=""
    mkdir -p "$out"
    if command -v go >/dev/null; then
        if GOPROXY=off GOFLAGS='' GOCACHE=${GOCACHE:-$out/go-cache} \
            go build -o "$out/tree_copy_go" "$src/tree_copy.go" >&2; then
            BENCH_TREE_COPY=$out/tree_copy_go BENCH_TREE_COPY_KIND=go
            return 0
        fi
        bench_log "warning: go build of tree_copy.go failed; using the C tree copy"
    fi
    if command -v cc >/dev/null && cc -O2 -o "$out/tree_copy_c" "$src/tree_copy.c" >&2; then
        # shellcheck disable=SC2034 # read by the sourcing script
        BENCH_TREE_COPY=$out/tree_copy_c BENCH_TREE_COPY_KIND=c
    fi
}

# Prints `fastfs stats MNT` (and --json), tolerating a binary that does not have the subcommand yet.
bench_print_fastfs_stats() {
    local bin=$1 mnt=$2
    [[ -n $bin ]] || return 0
    echo "--- fastfs stats $mnt"
    timeout 10 "$bin" stats "$mnt" 2>&1 || echo "(fastfs stats not available: exit $?)"
    timeout 10 "$bin" stats "$mnt" --json 2>&1 || echo "(fastfs stats --json not available: exit $?)"
}
