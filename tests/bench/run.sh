#!/usr/bin/env bash
# The side-by-side benchmark: the same workloads directly on a loop-mounted XFS (native) and through
# fastfs (default: kernel passthrough for file data; with -o passthrough=off; with -o io_uring), mergerfs
# and bindfs mounted over it, plus the in-memory no-op FUSE daemon "floor" on /dev/fuse and on io_uring
# (the best any FUSE daemon can do here), printed as one table with ratios to native and drawn as a chart.
#
#   sudo tests/bench/run.sh [--quick] [--peers] [--reps N] [--systems LIST] [--no-chart]
#
#   --quick    small sizes and one repetition: a smoke run of the script (a minute or two)
#   --peers    apt-get install mergerfs, bindfs, fio and python3-matplotlib when they are missing
#   --reps N   repetitions per row, best-of-N is reported (default 3)
#   --systems  which FUSE systems to run, comma-separated (default: all of fastfs, fastfs-ptoff,
#              fastfs-uring, mergerfs, bindfs, floor, floor-uring; peers not installed are skipped)
#   --no-chart only the table (the chart needs python3-matplotlib)
#
# The *-uring systems need /sys/module/fuse/parameters/enable_uring = Y when they mount: the script sets
# it just before each such mount and puts the old value back once the mount has its rings (also on
# failure or Ctrl-C); if it cannot be set, those columns are skipped and the output says why.
# Environment: FASTFS_BINARY (default build/fastfs of this repository), FASTFS_ARGS (extra options for
# every fastfs column, e.g. "-o writeback_cache"), FUSE_FLOOR_BINARY (default
# build/tests/bench/fuse_floor/fuse-floor, the target fuse-floor), FUSE_FLOOR_ARGS (e.g. "-o
# entry_timeout=1,attr_timeout=1,negative_timeout=0" to match a fastfs given those), BENCH_SCRATCH
# (default /var/tmp: the 8 GiB sparse image lives there), BENCH_RESULTS (directory for the saved table
# and chart, default /var/tmp), BENCH_FUSE_READ_AHEAD_KB (opt-in, for an A/B of bigger read requests: the
# read-ahead of every FUSE mount in KiB, e.g. 1020; unset: the kernel's 128 KiB, which caps the READs a
# daemon gets below its 1020 KiB max_read). See docs/performance.md for what every row measures and the
# targets.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

SIZES=full
REPS=3
INSTALL_PEERS=0
SYSTEMS=fastfs,fastfs-ptoff,fastfs-uring,mergerfs,bindfs,floor,floor-uring
CHART=1
while (($#)); do
    case $1 in
        --quick) SIZES=quick ;;
        --peers) INSTALL_PEERS=1 ;;
        --reps) REPS=$2; shift ;;
        --systems) SYSTEMS=$2; shift ;;
        --no-chart) CHART=0 ;;
        -h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $SIZES == quick && $REPS == 3 ]] && REPS=1
[[ $REPS =~ ^[1-9][0-9]*$ ]] || bench_die "--reps needs a positive number"
READ_AHEAD_KB=${BENCH_FUSE_READ_AHEAD_KB:-}
[[ -z $READ_AHEAD_KB || $READ_AHEAD_KB =~ ^[1-9][0-9]*$ ]] ||
    bench_die "BENCH_FUSE_READ_AHEAD_KB needs a positive number of KiB"

bench_require_root
for tool in mkfs.xfs losetup filefrag tar python3 findmnt fusermount3; do
    command -v "$tool" >/dev/null || bench_die "missing $tool"
done
# The chart is drawn with Debian's python3-matplotlib, which only the system's python3 sees when another
# python3 (a virtualenv, pyenv) comes first in PATH.
chart_python() {
    local py
    for py in python3 /usr/bin/python3; do
        "$py" -c 'import matplotlib' 2>/dev/null && { echo "$py"; return 0; }
    done
    return 1
}
have_matplotlib() { chart_python >/dev/null; }
if ((INSTALL_PEERS)); then
    missing=()
    for pkg in mergerfs bindfs fio; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
    ((CHART)) && ! have_matplotlib && missing+=(python3-matplotlib)
    if ((${#missing[@]})); then
        bench_log "installing ${missing[*]}"
        apt-get update -qq >&2  # a fresh machine has no package lists yet
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
fi
if ((CHART)) && ! have_matplotlib; then
    bench_die "the chart needs python3-matplotlib: apt-get install python3-matplotlib, or run with" \
        "--peers (installs it) or --no-chart (table only)"
fi

PY=(python3 "$BENCH_DIR/bench.py")
SUITE_TIMEOUT=$([[ $SIZES == quick ]] && echo 600 || echo 2400)
FASTFS_BIN=$(bench_fastfs_binary "$REPO" || true)
FLOOR_BIN=$(bench_floor_binary "$REPO" || true)
read -r -a FASTFS_EXTRA <<<"${FASTFS_ARGS:-}"
read -r -a FLOOR_EXTRA <<<"${FUSE_FLOOR_ARGS:-}"

bench_make_work_dir
bench_install_traps
RESULTS_TSV=$BENCH_WORK_DIR/results.tsv
: >"$RESULTS_TSV"
bench_log "scratch: $BENCH_WORK_DIR"

tar_source=$("${PY[0]}" -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import bench; print(bench.SIZES['$SIZES']['tar_source'])")
TARBALL=$BENCH_WORK_DIR/tree.tar
tar -cf "$TARBALL" -C "$(dirname "$tar_source")" "$(basename "$tar_source")"

bench_make_loop_fs xfs 8G xfs
XFS=$BENCH_LAST_MOUNT
"${PY[@]}" prepare --sizes "$SIZES" --backing "$XFS"

# label -> mountpoint / daemon pid of every FUSE system that mounted; set for one not over the XFS.
declare -A ROOT PID NO_BACKING
declare -A SKIPPED
# label -> what its mount said about itself (passthrough, io_uring rings, requests that reached fastfs).
declare -A NOTES
uses_uring() { [[ $1 == *-uring ]]; }
mount_system() {
    local name=$1 mnt="$BENCH_WORK_DIR/mnt-$1" log="$BENCH_WORK_DIR/$1.log"
    local -a cmd
    case $name in
        fastfs | fastfs-ptoff | fastfs-uring)
            [[ -n $FASTFS_BIN ]] || { SKIPPED[$name]="no binary (${FASTFS_BINARY:-$REPO/build/fastfs})"; return; }
            cmd=("$FASTFS_BIN" -f "${FASTFS_EXTRA[@]}")
            [[ $name == fastfs-ptoff ]] && cmd+=(-o passthrough=off)
            [[ $name == fastfs-uring ]] && cmd+=(-o io_uring)
            cmd+=("$XFS" "$mnt") ;;
        mergerfs)
            command -v mergerfs >/dev/null || { SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(mergerfs -f -o cache.files=partial "$XFS" "$mnt") ;;
        bindfs)
            command -v bindfs >/dev/null || { SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(bindfs -f "$XFS" "$mnt") ;;
        floor | floor-uring)
            # Not over XFS: everything lives in the daemon's memory, so bench.py makes its inputs through
            # the mount and leaves the rows that look at backing files as n/a.
            local wanted=${FUSE_FLOOR_BINARY:-$REPO/build/tests/bench/fuse_floor/fuse-floor}
            [[ -n $FLOOR_BIN ]] || { SKIPPED[$name]="no binary ($wanted: ninja fuse-floor)"; return; }
            cmd=("$FLOOR_BIN" -f "${FLOOR_EXTRA[@]}")
            [[ $name == floor-uring ]] && cmd+=(-o io_uring)
            cmd+=("$mnt")
            NO_BACKING[$name]=1 ;;
        *) bench_die "unknown system $name" ;;
    esac
    if uses_uring "$name" && ! bench_uring_enable; then
        SKIPPED[$name]="not run: $BENCH_URING_ERROR"
        bench_log "$name: ${SKIPPED[$name]}"
        return
    fi
    if bench_start_fuse "$name" "$log" "${cmd[@]}"; then
        ROOT[$name]=$mnt
        PID[$name]=$BENCH_LAST_PID
        bench_log "$name mounted on $mnt (pid $BENCH_LAST_PID): ${cmd[*]}"
        # The A/B of bigger reads: with the default 128 KiB read-ahead a buffered read reaches the daemon
        # in 128 KiB READs whatever max_read/max_pages allow. A mount it cannot be set on is not run.
        if [[ -n $READ_AHEAD_KB ]] && ! bench_set_read_ahead "$mnt" "$READ_AHEAD_KB"; then
            bench_log "$name: $BENCH_READ_AHEAD_ERROR"
            bench_stop_fuse "$mnt" "$BENCH_LAST_PID"
            SKIPPED[$name]="not run: $BENCH_READ_AHEAD_ERROR"
        fi
    else
        SKIPPED[$name]="did not mount (log: see above)"
    fi
    if uses_uring "$name"; then
        # The kernel wants the parameter on while the daemon registers its rings (after INIT); the rings
        # then serve until the unmount whatever it says, so it goes back as soon as they are there.
        local rings=0
        if [[ -z ${SKIPPED[$name]:-} ]]; then
            rings=$(bench_wait_uring_rings "$mnt" "$BENCH_LAST_PID")
        fi
        bench_uring_restore
        if [[ -z ${SKIPPED[$name]:-} ]] && ((rings == 0)); then
            bench_log "$name mounted without io_uring rings; its log:"
            sed 's/^/    /' "$log" >&2 || true
            bench_stop_fuse "$mnt" "${PID[$name]}"
            SKIPPED[$name]="mounted on /dev/fuse, not io_uring (no ring in the daemon)"
            return
        fi
    fi
    # What the first mount of each system said about itself (every mount of it is made the same way).
    if [[ -z ${SKIPPED[$name]:-} && -z ${NOTES[$name]:-} ]]; then
        uses_uring "$name" && NOTES[$name]="$rings io_uring rings"
        if [[ $name == fastfs* ]]; then
            local said
            said=$(grep -m1 -o 'passthrough o[nf]*[^;]*' "$log" || true)
            NOTES[$name]="${NOTES[$name]:+${NOTES[$name]}; }${said:-no passthrough line in the log}"
        fi
    fi
}

# Records which requests still reached fastfs in one repetition and the average size of its READs and
# WRITEs (the counters of `fastfs stats`).
note_fastfs_requests() {
    local name=$1 mnt=$2 counts
    counts=$(timeout 10 "$FASTFS_BIN" stats "$mnt" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
def per_request(kind):  # the average size of the READs or WRITEs that reached the daemon
    n, size = d.get(kind + "_requests", 0), d.get(kind + "_bytes", 0)
    return f"{kind}_requests {n:,}" + (f" (avg {size / n / 1024:,.0f} KiB)" if n else "")
print(", ".join([per_request("read"), per_request("write")] +
                [f"{k} {d.get(k, 0):,}" for k in ("passthrough_opens", "passthrough_refused")]))') || return 0
    NOTES[$name]="${NOTES[$name]:+${NOTES[$name]}; }rep 1: $counts"
}

# run_suite LABEL ROOT PID REP [--native]: one repetition; a failure or timeout drops the system.
run_suite() {
    local label=$1 root=$2 pid=$3 rep=$4
    shift 4
    if [[ -n ${NO_BACKING[$label]:-} ]]; then set -- "$@" --no-backing; fi
    bench_log "$label: repetition $rep"
    timeout -k 10 "$SUITE_TIMEOUT" "${PY[@]}" suite --sizes "$SIZES" --backing "$XFS" --root "$root" \
        --label "$label" --out "$RESULTS_TSV" --pid "$pid" --rep "$rep" --tarball "$TARBALL" "$@"
}

run_bigtree() {
    local label=$1 root=$2 pid=$3
    shift 3
    if [[ -n ${NO_BACKING[$label]:-} ]]; then set -- "$@" --no-backing; fi
    bench_log "$label: 100k-file rows"
    timeout -k 10 "$SUITE_TIMEOUT" "${PY[@]}" bigtree --sizes "$SIZES" --backing "$XFS" --root "$root" \
        --label "$label" --out "$RESULTS_TSV" --pid "$pid" "$@"
}

run_native() {
    local label=$1 rep
    for ((rep = 1; rep <= REPS; rep++)); do
        run_suite "$label" "$XFS" 0 "$rep" --native || bench_die "native run failed"
    done
    run_bigtree "$label" "$XFS" 0 --native || bench_die "native 100k-file run failed"
}

drop_system() {
    local name=$1 why=$2
    bench_log "$name: $why; leaving it out from here on"
    SKIPPED[$name]=$why
}

# run_mounted NAME RUNNER [ARGS...]: mounts NAME, runs `RUNNER NAME ROOT PID ARGS...`, unmounts. Each system
# is mounted only while its own rows run, so no other daemon -- and not fastfs's fanotify mark on the XFS,
# which makes the kernel queue an event for every change there -- is present during another system's rows
# or native's. Returns the runner's status; a system that does not mount is skipped.
run_mounted() {
    local name=$1 runner=$2 rc=0
    shift 2
    [[ -z ${SKIPPED[$name]:-} ]] || return 0
    mount_system "$name"
    [[ -z ${SKIPPED[$name]:-} ]] || return 0
    "$runner" "$name" "${ROOT[$name]}" "${PID[$name]}" "$@" || rc=$?
    if [[ $name == fastfs* && $runner == run_suite && $1 == 1 && $rc == 0 ]]; then
        note_fastfs_requests "$name" "${ROOT[$name]}"
    fi
    if [[ $name == fastfs* && $runner == run_bigtree && $rc == 0 ]]; then
        bench_print_fastfs_stats "$FASTFS_BIN" "${ROOT[$name]}" >&2 || true
    fi
    bench_stop_fuse "${ROOT[$name]}" "${PID[$name]}"
    return $rc
}

START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "load average before the run: $START_LOAD"
run_native native-start

IFS=, read -r -a requested <<<"$SYSTEMS"
for ((rep = 1; rep <= REPS; rep++)); do
    for name in "${requested[@]}"; do
        run_mounted "$name" run_suite "$rep" || drop_system "$name" "suite failed (rep $rep)"
    done
done
for name in "${requested[@]}"; do
    run_mounted "$name" run_bigtree || drop_system "$name" "100k-file rows failed"
done

run_native native-end
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

columns=native-start
for name in "${requested[@]}"; do columns+=",$name"; done
columns+=,native-end
report() {
    echo "fastfs side-by-side benchmark ($SIZES sizes, best of $REPS)"
    echo "date: $START_TIME; host: $(uname -n), kernel $(uname -r), $(nproc) cpus," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo '(dirty tree)')"
    echo "backing: XFS (reflink=1) on a sparse 8 GiB loop image, direct-io loop, in ${BENCH_SCRATCH:-/var/tmp}"
    echo "load average (1/5/15 min) before the run: $START_LOAD; after it: $END_LOAD"
    echo "fastfs: ${FASTFS_BIN:-none}${FASTFS_ARGS:+ $FASTFS_ARGS} (defaults: passthrough on);" \
        "fastfs-ptoff: -o passthrough=off; fastfs-uring: -o io_uring"
    echo "mergerfs $(mergerfs --version 2>/dev/null | grep -o -m1 '[0-9][0-9.]*' || echo '?')" \
        "-o cache.files=partial; bindfs (defaults)"
    echo "floor: ${FLOOR_BIN:-none}${FUSE_FLOOR_ARGS:+ $FUSE_FLOOR_ARGS}" \
        "(no-op FUSE daemon: no backing, answers every request from memory); floor-uring: the same, -o io_uring"
    echo "random I/O by: $(command -v fio >/dev/null && fio --version || echo 'python os.pread/os.pwrite')"
    if [[ -n $READ_AHEAD_KB ]]; then
        echo "FUSE read-ahead: $READ_AHEAD_KB KiB on every FUSE mount (BENCH_FUSE_READ_AHEAD_KB)"
    else
        echo "FUSE read-ahead: the kernel's default (128 KiB; BENCH_FUSE_READ_AHEAD_KB changes it)"
    fi
    for name in "${requested[@]}"; do
        [[ -n ${NOTES[$name]:-} ]] && echo "$name: ${NOTES[$name]}"
    done
    for name in "${!SKIPPED[@]}"; do echo "skipped $name: ${SKIPPED[$name]}"; done
    echo
    "${PY[@]}" table --sizes "$SIZES" --results "$RESULTS_TSV" --columns "$columns" --reps "$REPS"
}
saved="${BENCH_RESULTS:-/var/tmp}/fastfs-bench-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$saved"
cp "$RESULTS_TSV" "${saved%.txt}.tsv"
if ((CHART)); then
    title="fastfs $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $START_TIME, load before"
    title+=" the run $START_LOAD: ratio to native XFS (best of $REPS, $SIZES sizes)"
    "$(chart_python)" "$BENCH_DIR/bench.py" chart --sizes "$SIZES" --results "$RESULTS_TSV" --columns "$columns" \
        --out "${saved%.txt}.png" --title "$title" || { CHART=0; bench_log "warning: no chart (see above)"; }
fi
if ((CHART)); then
    bench_log "saved $saved, ${saved%.txt}.tsv and ${saved%.txt}.png"
else
    bench_log "saved $saved and ${saved%.txt}.tsv"
fi
