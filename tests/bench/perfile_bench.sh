#!/usr/bin/env bash
# The per-file benchmark (issue 22): work on many files -- copying trees file by file, a git checkout,
# listing a tree cold -- directly on a loop-mounted XFS (native) and through fastfs on /dev/fuse and on
# io_uring, beside the no-op FUSE daemon "floor" on the same two transports, printed as one table with
# ratios to native and to the matching floor, and drawn as a chart when matplotlib is installed.
#
#   sudo tests/bench/perfile_bench.sh [--quick] [--install] [--reps N] [--systems LIST] [--only ROWS]
#                                     [--no-chart]
#
#   rows (every one timed with the command's start, warm but for (e); the copies go to a new directory):
#     (a) tree-copy   the model tree of copy_bench.sh copied file by file by a Go program (io.Copy), or a C
#                     program doing the same copy_file_range loop when no Go toolchain is installed
#     (b) cp-a        cp -a of the model tree
#     (c) cp-reflink  cp -a --reflink=auto of a tree of 12,000 entries (files, directories, symlinks)
#     (d) git         git checkout of the other branch of a repository whose branches differ in 10,000
#                     files (and back, untimed)
#     (e) find        find -ls of the 12,000-entry tree after drop_caches
#
#   --quick     tiny sizes and one repetition: a smoke run of the script (a minute or two)
#   --install   apt-get install what is missing of golang-go (row a in Go), git (row d) and
#               python3-matplotlib (the chart); without it nothing is installed, (a) runs the C program,
#               (d) shows n/a without git and there is no chart without matplotlib. --peers: the same
#   --reps N    repetitions, best-of-N is reported (default 3)
#   --systems   FUSE systems, comma-separated (default fastfs,fastfs-uring,floor,floor-uring; also
#               fastfs-ptoff, mergerfs, bindfs as run.sh mounts them)
#   --only R    some rows only, comma-separated, by letter or name (e.g. --only d or --only tree-copy,find)
#   --no-chart  only the table
#
# The *-uring systems need /sys/module/fuse/parameters/enable_uring = Y when they mount: the script sets it
# just before each such mount and puts the old value back once the mount has its rings (also on failure or
# Ctrl-C); if it cannot be set, those columns are skipped and the output says why. The floor keeps no file
# contents, so git cannot work through it: its (d) shows n/a.
# Environment: as run.sh: FASTFS_BINARY, FASTFS_ARGS, FUSE_FLOOR_BINARY, FUSE_FLOOR_ARGS, BENCH_SCRATCH
# (default /var/tmp: the sparse image lives there), BENCH_RESULTS (default /var/tmp: the saved table, raw
# numbers and chart), BENCH_FUSE_READ_AHEAD_KB. See docs/performance.md, "How perfile_bench.sh measures".
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

SIZES=full
REPS=3
REPS_GIVEN=0
INSTALL=0
SYSTEMS=fastfs,fastfs-uring,floor,floor-uring
ONLY=""
CHART=1
while (($#)); do
    case $1 in
        --quick) SIZES=quick ;;
        --install | --peers) INSTALL=1 ;;
        --reps) REPS=$2; REPS_GIVEN=1; shift ;;
        --systems) SYSTEMS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --no-chart) CHART=0 ;;
        -h | --help) sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $SIZES == quick ]] && ((!REPS_GIVEN)) && REPS=1
[[ $REPS =~ ^[1-9][0-9]*$ ]] || bench_die "--reps needs a positive number"
bench_check_systems "$SYSTEMS"
# ROWS: the letters of the rows to run, in order.
ROWS=abcde
if [[ -n $ONLY ]]; then
    ROWS=""
    IFS=, read -r -a only <<<"$ONLY"
    for row in "${only[@]}"; do
        case $row in
            a | tree-copy) ROWS+=a ;;
            b | cp-a) ROWS+=b ;;
            c | cp-reflink) ROWS+=c ;;
            d | git) ROWS+=d ;;
            e | find) ROWS+=e ;;
            *) bench_die "unknown row $row (rows: a|tree-copy, b|cp-a, c|cp-reflink, d|git, e|find)" ;;
        esac
    done
fi
wanted() { [[ $ROWS == *"$1"* ]]; }
bench_systems_init "$REPO"

bench_require_root
for tool in mkfs.xfs losetup filefrag python3 findmnt fusermount3 find cp; do
    command -v "$tool" >/dev/null || bench_die "missing $tool"
done
have_matplotlib() { bench_chart_python >/dev/null; }
if ((INSTALL)); then
    missing=()
    wanted a && ! command -v go >/dev/null && missing+=(golang-go)
    wanted d && ! command -v git >/dev/null && missing+=(git)
    ((CHART)) && ! have_matplotlib && missing+=(python3-matplotlib)
    bench_apt_install "${missing[@]}"
fi
# Rows that cannot run at all are left out, and the output says why.
declare -A ROW_SKIPPED
if wanted d && ! command -v git >/dev/null; then
    ROW_SKIPPED[d]="(d) not run: git is not installed (--install installs it)"
    ROWS=${ROWS//d/}
fi
[[ -n $ROWS ]] || bench_die "no row left to run: ${ROW_SKIPPED[*]}"
if ((CHART)) && ! have_matplotlib; then
    bench_log "no chart: python3-matplotlib is not installed (--install installs it)"
    CHART=0
fi

PY=(python3 "$BENCH_DIR/bench.py")
RUN_TIMEOUT=$([[ $SIZES == quick ]] && echo 600 || echo 1800)
IMAGE_SIZE=$([[ $SIZES == quick ]] && echo 2G || echo 8G)

bench_make_work_dir
bench_install_traps
RESULTS_TSV=$BENCH_WORK_DIR/results.tsv
: >"$RESULTS_TSV"
bench_log "scratch: $BENCH_WORK_DIR"

TREE_COPY_KIND=go  # what the table calls row (a); the program is BENCH_TREE_COPY
if wanted a; then
    bench_build_tree_copy "$BENCH_WORK_DIR/tree-copy"
    if [[ -z $BENCH_TREE_COPY ]]; then
        ROW_SKIPPED[a]="(a) not run: neither go nor cc could build tests/bench/tree_copy"
        ROWS=${ROWS//a/}
    else
        TREE_COPY_KIND=$BENCH_TREE_COPY_KIND
    fi
    [[ -n $ROWS ]] || bench_die "no row left to run: ${ROW_SKIPPED[*]}"
fi

bench_make_loop_fs xfs "$IMAGE_SIZE" xfs
XFS=$BENCH_LAST_MOUNT
BENCH_BACKING=$XFS
# The inputs, made natively once and shared by every system over the XFS (the floors make theirs through
# their mount in each repetition).
INPUTS=$BENCH_WORK_DIR/inputs.txt
mkdir "$XFS/shared"
bench_log "making the inputs"
{
    if wanted a || wanted b; then bench_make_model_tree "$XFS/shared/model" "$SIZES"; fi
    if wanted c || wanted e; then echo "tree: $("${PY[@]}" mkentrytree "$XFS/shared/tree" --sizes "$SIZES")"; fi
    if wanted d; then "${PY[@]}" mkgitrepo "$XFS/shared/repo" --sizes "$SIZES"; fi
} >"$INPUTS"
sed 's/^/    /' "$INPUTS" >&2

# run_perfile LABEL ROOT PID REP [--native]: one repetition of the rows on one system.
run_perfile() {
    local label=$1 root=$2 rep=$4
    shift 4
    if [[ -n ${BENCH_NO_BACKING[$label]:-} ]]; then set -- "$@" --no-backing; fi
    bench_log "$label: repetition $rep"
    timeout -k 10 "$RUN_TIMEOUT" "${PY[@]}" perfile --sizes "$SIZES" --backing "$XFS" --root "$root" \
        --label "$label" --out "$RESULTS_TSV" --rep "$rep" --only "$ROWS" \
        --tree-copy "${BENCH_TREE_COPY:-false}" "$@"
}

# The copies of a repetition are removed natively once the system is unmounted (so no daemon is kept busy
# with the removal while another system runs).
remove_copies() { rm -rf "${XFS:?}/run-$1"; }

run_native() {
    local label=$1 rep
    for ((rep = 1; rep <= REPS; rep++)); do
        run_perfile "$label" "$XFS" 0 "$rep" --native || bench_die "native run failed"
        remove_copies "$label"
    done
}

START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "load average before the run: $START_LOAD"
run_native native-start
IFS=, read -r -a requested <<<"$SYSTEMS"
bench_rounds "$REPS" run_perfile rows remove_copies "${requested[@]}"
run_native native-end
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

columns=$(bench_columns "${requested[@]}")
report() {
    echo "fastfs per-file benchmark, issue 22 ($SIZES sizes, best of $REPS)"
    bench_print_run_header "$START_TIME"
    echo "backing: XFS (reflink=1) on a sparse $IMAGE_SIZE loop image, direct-io loop, in ${BENCH_SCRATCH:-/var/tmp}"
    echo "load average (1/5/15 min) before the run: $START_LOAD; after it: $END_LOAD"
    sed 's/^/inputs: /' "$INPUTS"
    if wanted a; then
        case $TREE_COPY_KIND in
            go) echo "(a) by tests/bench/tree_copy/tree_copy.go, $(go version 2>/dev/null)" ;;
            c) echo "(a) by tests/bench/tree_copy/tree_copy.c ($(cc --version | head -1)): no Go toolchain" \
                "(--install installs golang-go)" ;;
        esac
    fi
    local versions
    # shellcheck disable=SC2185 # GNU find's --version takes no path
    versions="$(cp --version | head -1); $(find --version | head -1)"
    if wanted d; then versions+="; $(git --version)"; fi
    echo "$versions"
    echo "fastfs: ${BENCH_FASTFS_BIN:-none}${FASTFS_ARGS:+ $FASTFS_ARGS} (defaults: passthrough on);" \
        "fastfs-uring: -o io_uring"
    echo "floor: ${BENCH_FLOOR_BIN:-none}${FUSE_FLOOR_ARGS:+ $FUSE_FLOOR_ARGS}" \
        "(no-op FUSE daemon: no backing, answers every request from memory); floor-uring: the same, -o io_uring"
    for name in "${requested[@]}"; do
        [[ -n ${BENCH_NOTES[$name]:-} ]] && echo "$name: ${BENCH_NOTES[$name]}"
    done
    for name in "${!BENCH_SKIPPED[@]}"; do echo "skipped $name: ${BENCH_SKIPPED[$name]}"; done
    for row in "${!ROW_SKIPPED[@]}"; do echo "${ROW_SKIPPED[$row]}"; done
    echo
    "${PY[@]}" table --rows perfile --floor-ratios --sizes "$SIZES" --tree-copy "$TREE_COPY_KIND" \
        --results "$RESULTS_TSV" --columns "$columns" --reps "$REPS"
}
saved="${BENCH_RESULTS:-/var/tmp}/fastfs-perfile-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$saved"
cp "$RESULTS_TSV" "${saved%.txt}.tsv"
if ((CHART)); then
    title="fastfs per-file rows (issue 22), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'),"
    title+=" $START_TIME, load before the run $START_LOAD: ratio to native XFS (best of $REPS, $SIZES sizes)"
    "$(bench_chart_python)" "$BENCH_DIR/bench.py" chart --rows perfile --sizes "$SIZES" \
        --tree-copy "$TREE_COPY_KIND" --results "$RESULTS_TSV" --columns "$columns" --out "${saved%.txt}.png" \
        --title "$title" || { CHART=0; bench_log "warning: no chart (see above)"; }
fi
if ((CHART)); then
    bench_log "saved $saved, ${saved%.txt}.tsv and ${saved%.txt}.png"
else
    bench_log "saved $saved and ${saved%.txt}.tsv"
fi
