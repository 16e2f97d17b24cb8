#!/usr/bin/env bash
# The side-by-side benchmark: the same workloads directly on a loop-mounted XFS (native) and through
# fastfs, mergerfs and bindfs mounted over it, plus the in-memory no-op FUSE daemon "floor" (the best any
# FUSE daemon can do here), printed as one table with ratios to native.
#
#   sudo tests/bench/run.sh [--quick] [--peers] [--reps N] [--systems fastfs,mergerfs,bindfs,floor]
#
#   --quick    small sizes and one repetition: a smoke run of the script (a minute or two)
#   --peers    apt-get install mergerfs, bindfs and fio when they are missing
#   --reps N   repetitions per row, best-of-N is reported (default 3)
#   --systems  which FUSE systems to run (default: all four; peers not installed are skipped)
#
# Environment: FASTFS_BINARY (default build/fastfs of this repository), FASTFS_ARGS (extra options for
# fastfs, e.g. "-o writeback_cache"), FUSE_FLOOR_BINARY (default build/tests/bench/fuse_floor/fuse-floor,
# the target fuse-floor), FUSE_FLOOR_ARGS (e.g. "-o entry_timeout=1,attr_timeout=1,negative_timeout=0" to
# match a fastfs given those), BENCH_SCRATCH (default /var/tmp: the 8 GiB sparse image lives there),
# BENCH_RESULTS (directory for the saved table, default /var/tmp).
# See docs/performance.md for what every row measures and the targets.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

SIZES=full
REPS=3
INSTALL_PEERS=0
SYSTEMS=fastfs,mergerfs,bindfs,floor
while (($#)); do
    case $1 in
        --quick) SIZES=quick ;;
        --peers) INSTALL_PEERS=1 ;;
        --reps) REPS=$2; shift ;;
        --systems) SYSTEMS=$2; shift ;;
        -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $SIZES == quick && $REPS == 3 ]] && REPS=1
[[ $REPS =~ ^[1-9][0-9]*$ ]] || bench_die "--reps needs a positive number"

bench_require_root
for tool in mkfs.xfs losetup filefrag tar python3 findmnt fusermount3; do
    command -v "$tool" >/dev/null || bench_die "missing $tool"
done
if ((INSTALL_PEERS)); then
    missing=()
    for pkg in mergerfs bindfs fio; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
    if ((${#missing[@]})); then
        bench_log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
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
mount_system() {
    local name=$1 mnt="$BENCH_WORK_DIR/mnt-$1" log="$BENCH_WORK_DIR/$1.log"
    local -a cmd
    case $name in
        fastfs)
            [[ -n $FASTFS_BIN ]] || { SKIPPED[$name]="no binary (${FASTFS_BINARY:-$REPO/build/fastfs})"; return; }
            cmd=("$FASTFS_BIN" -f "${FASTFS_EXTRA[@]}" "$XFS" "$mnt") ;;
        mergerfs)
            command -v mergerfs >/dev/null || { SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(mergerfs -f -o cache.files=partial "$XFS" "$mnt") ;;
        bindfs)
            command -v bindfs >/dev/null || { SKIPPED[$name]="not installed (--peers)"; return; }
            cmd=(bindfs -f "$XFS" "$mnt") ;;
        floor)
            # Not over XFS: everything lives in the daemon's memory, so bench.py makes its inputs through
            # the mount and leaves the rows that look at backing files as n/a.
            local wanted=${FUSE_FLOOR_BINARY:-$REPO/build/tests/bench/fuse_floor/fuse-floor}
            [[ -n $FLOOR_BIN ]] || { SKIPPED[$name]="no binary ($wanted: ninja fuse-floor)"; return; }
            cmd=("$FLOOR_BIN" -f "${FLOOR_EXTRA[@]}" "$mnt")
            NO_BACKING[$name]=1 ;;
        *) bench_die "unknown system $name" ;;
    esac
    if bench_start_fuse "$name" "$log" "${cmd[@]}"; then
        ROOT[$name]=$mnt
        PID[$name]=$BENCH_LAST_PID
        bench_log "$name mounted on $mnt (pid $BENCH_LAST_PID): ${cmd[*]}"
    else
        SKIPPED[$name]="did not mount (log: see above)"
    fi
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
    if [[ $name == fastfs && $runner == run_bigtree && $rc == 0 ]]; then
        bench_print_fastfs_stats "$FASTFS_BIN" "${ROOT[fastfs]}" >&2 || true
    fi
    bench_stop_fuse "${ROOT[$name]}" "${PID[$name]}"
    return $rc
}

START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
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
    echo "fastfs: ${FASTFS_BIN:-none} ${FASTFS_ARGS:-}; mergerfs -o cache.files=partial; bindfs (defaults)"
    echo "floor: ${FLOOR_BIN:-none}${FUSE_FLOOR_ARGS:+ $FUSE_FLOOR_ARGS}" \
        "(no-op FUSE daemon: no backing, answers every request from memory)"
    echo "random I/O by: $(command -v fio >/dev/null && fio --version || echo 'python os.pread/os.pwrite')"
    for name in "${!SKIPPED[@]}"; do echo "skipped $name: ${SKIPPED[$name]}"; done
    echo
    "${PY[@]}" table --sizes "$SIZES" --results "$RESULTS_TSV" --columns "$columns" --reps "$REPS"
}
saved="${BENCH_RESULTS:-/var/tmp}/fastfs-bench-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$saved"
cp "$RESULTS_TSV" "${saved%.txt}.tsv"
bench_log "saved $saved and ${saved%.txt}.tsv"
