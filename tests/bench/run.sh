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
SYSTEMS=$BENCH_SYSTEMS_ALL
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
bench_check_systems "$SYSTEMS"
bench_systems_init "$REPO"

bench_require_root
for tool in mkfs.xfs losetup filefrag tar python3 findmnt fusermount3; do
    command -v "$tool" >/dev/null || bench_die "missing $tool"
done
have_matplotlib() { bench_chart_python >/dev/null; }
if ((INSTALL_PEERS)); then
    missing=()
    for pkg in mergerfs bindfs fio; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
    ((CHART)) && ! have_matplotlib && missing+=(python3-matplotlib)
    bench_apt_install "${missing[@]}"
fi
if ((CHART)) && ! have_matplotlib; then
    bench_die "the chart needs python3-matplotlib: apt-get install python3-matplotlib, or run with" \
        "--peers (installs it) or --no-chart (table only)"
fi

PY=(python3 "$BENCH_DIR/bench.py")
SUITE_TIMEOUT=$([[ $SIZES == quick ]] && echo 600 || echo 2400)
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
BENCH_BACKING=$XFS
"${PY[@]}" prepare --sizes "$SIZES" --backing "$XFS"

# Records which requests still reached fastfs in one repetition and the average size of its READs and
# WRITEs (the counters of `fastfs stats`).
note_fastfs_requests() {
    local name=$1 mnt=$2 counts
    counts=$(timeout 10 "$BENCH_FASTFS_BIN" stats "$mnt" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
def per_request(kind):  # the average size of the READs or WRITEs that reached the daemon
    n, size = d.get(kind + "_requests", 0), d.get(kind + "_bytes", 0)
    return f"{kind}_requests {n:,}" + (f" (avg {size / n / 1024:,.0f} KiB)" if n else "")
print(", ".join([per_request("read"), per_request("write")] +
                [f"{k} {d.get(k, 0):,}" for k in ("passthrough_opens", "passthrough_refused")]))') || return 0
    BENCH_NOTES[$name]="${BENCH_NOTES[$name]:+${BENCH_NOTES[$name]}; }rep 1: $counts"
}

# run_suite LABEL ROOT PID REP [--native]: one repetition; a failure or timeout drops the system.
run_suite() {
    local label=$1 root=$2 pid=$3 rep=$4
    shift 4
    if [[ -n ${BENCH_NO_BACKING[$label]:-} ]]; then set -- "$@" --no-backing; fi
    bench_log "$label: repetition $rep"
    timeout -k 10 "$SUITE_TIMEOUT" "${PY[@]}" suite --sizes "$SIZES" --backing "$XFS" --root "$root" \
        --label "$label" --out "$RESULTS_TSV" --pid "$pid" --rep "$rep" --tarball "$TARBALL" "$@"
}

run_bigtree() {
    local label=$1 root=$2 pid=$3
    shift 3
    if [[ -n ${BENCH_NO_BACKING[$label]:-} ]]; then set -- "$@" --no-backing; fi
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

# While the system is still mounted after its runner: which requests reached fastfs in repetition 1, and its
# stats after the 100k-file rows.
bench_after_runner() {
    local name=$1 runner=$2 rc=$3
    [[ $name == fastfs* && $rc == 0 ]] || return 0
    if [[ $runner == run_suite && $4 == 1 ]]; then
        note_fastfs_requests "$name" "${BENCH_ROOT[$name]}"
    elif [[ $runner == run_bigtree ]]; then
        bench_print_fastfs_stats "$BENCH_FASTFS_BIN" "${BENCH_ROOT[$name]}" >&2
    fi
}

START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "load average before the run: $START_LOAD"
run_native native-start

IFS=, read -r -a requested <<<"$SYSTEMS"
bench_rounds "$REPS" run_suite suite "" "${requested[@]}"
for name in "${requested[@]}"; do
    bench_run_mounted "$name" run_bigtree || bench_drop_system "$name" "100k-file rows failed"
done

run_native native-end
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

columns=$(bench_columns "${requested[@]}")
report() {
    echo "fastfs side-by-side benchmark ($SIZES sizes, best of $REPS)"
    bench_print_run_header "$START_TIME"
    echo "backing: XFS (reflink=1) on a sparse 8 GiB loop image, direct-io loop, in ${BENCH_SCRATCH:-/var/tmp}"
    echo "load average (1/5/15 min) before the run: $START_LOAD; after it: $END_LOAD"
    echo "fastfs: ${BENCH_FASTFS_BIN:-none}${FASTFS_ARGS:+ $FASTFS_ARGS} (defaults: passthrough on);" \
        "fastfs-ptoff: -o passthrough=off; fastfs-uring: -o io_uring"
    echo "mergerfs $(mergerfs --version 2>/dev/null | grep -o -m1 '[0-9][0-9.]*' || echo '?')" \
        "-o cache.files=partial; bindfs (defaults)"
    echo "floor: ${BENCH_FLOOR_BIN:-none}${FUSE_FLOOR_ARGS:+ $FUSE_FLOOR_ARGS}" \
        "(no-op FUSE daemon: no backing, answers every request from memory); floor-uring: the same, -o io_uring"
    echo "random I/O by: $(command -v fio >/dev/null && fio --version || echo 'python os.pread/os.pwrite')"
    if [[ -n $BENCH_READ_AHEAD_KB ]]; then
        echo "FUSE read-ahead: $BENCH_READ_AHEAD_KB KiB on every FUSE mount (BENCH_FUSE_READ_AHEAD_KB)"
    else
        echo "FUSE read-ahead: the kernel's default (128 KiB; BENCH_FUSE_READ_AHEAD_KB changes it)"
    fi
    for name in "${requested[@]}"; do
        [[ -n ${BENCH_NOTES[$name]:-} ]] && echo "$name: ${BENCH_NOTES[$name]}"
    done
    for name in "${!BENCH_SKIPPED[@]}"; do echo "skipped $name: ${BENCH_SKIPPED[$name]}"; done
    echo
    "${PY[@]}" table --sizes "$SIZES" --results "$RESULTS_TSV" --columns "$columns" --reps "$REPS"
}
saved="${BENCH_RESULTS:-/var/tmp}/fastfs-bench-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$saved"
cp "$RESULTS_TSV" "${saved%.txt}.tsv"
if ((CHART)); then
    title="fastfs $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $START_TIME, load before"
    title+=" the run $START_LOAD: ratio to native XFS (best of $REPS, $SIZES sizes)"
    "$(bench_chart_python)" "$BENCH_DIR/bench.py" chart --sizes "$SIZES" --results "$RESULTS_TSV" --columns "$columns" \
        --out "${saved%.txt}.png" --title "$title" || { CHART=0; bench_log "warning: no chart (see above)"; }
fi
if ((CHART)); then
    bench_log "saved $saved, ${saved%.txt}.tsv and ${saved%.txt}.png"
else
    bench_log "saved $saved and ${saved%.txt}.tsv"
fi
