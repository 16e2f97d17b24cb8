#!/usr/bin/env bash
# The per-request profile (issue 22): what one file system call through fastfs costs the daemon, one
# workload per request type, so that old and new builds can be compared request by request.
#
#   sudo tests/bench/profile.sh [--binary PATH] [--label NAME] [--options FASTFS_OPTS] [--io-uring]
#                               [--files N] [--out DIR] [--perf] [--call-graph dwarf|fp] [--install]
#   tests/bench/profile.sh --compare DIR_A DIR_B
#
#   --binary PATH   the fastfs to profile (default: FASTFS_BINARY, else build/fastfs of this repository)
#   --label NAME    names the run in its output and directory (default: fastfs)
#   --options OPTS  extra mount options, passed as -o OPTS (e.g. writeback_cache)
#   --io-uring      mount with -o io_uring (enable_uring is set to Y for each mount and put back);
#                   without it the mount gets -o no_io_uring when the binary knows that option, so that a
#                   build that uses io_uring by default is not compared over another transport
#   --files N       files per workload (default 5000; the daemon's CPU time comes in 10 ms ticks)
#   --out DIR       where the table and the rest go (default /var/tmp/fastfs-profile-DATE-LABEL)
#   --perf          also `perf record` the daemon during each workload and draw a flame graph of each
#   --call-graph M  perf's unwinding: dwarf (default: fastfs's RelWithDebInfo build has no frame
#                   pointers, so fp stops at the first libc frame) or fp
#   --install       apt-get install what is missing: strace, linux-perf, python3-matplotlib (with --perf)
#   --compare A B   print the tables saved in two output directories side by side (no root needed)
#
# Workloads, each on a fresh XFS (reflink=1) loop image mounted as `BINARY -f XFS MNT`, each dominated by
# one request type: create (open O_CREAT|O_EXCL + close), lookup (lstat after drop_caches), getattr (stat
# on a mount with attr_timeout=0), setattr (chmod), readdirplus (readdir + lstat of every entry after
# drop_caches), unlink, copy (per file: open, create O_EXCL, copy_file_range loop, close both; 4 KiB
# files). They run in four passes over fresh files: timed (wall µs and the daemon's utime+stime from
# /proc/PID/stat per operation), under `strace -f -c -p PID` (the daemon's system calls per operation, as
# counts), with -d over a few files (the FUSE requests per operation, from the debug output), and with
# --perf under `perf record`. See docs/performance.md, "How profile.sh measures".
# Environment: FASTFS_BINARY, BENCH_SCRATCH (default /var/tmp: where the loop image lives).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

# Display order; the passes run them in the order the files allow (see run_pass).
WORKLOADS=(create lookup getattr setattr readdirplus unlink copy)
declare -A WHAT=(
    [create]="open(O_CREAT|O_EXCL) + close"
    [lookup]="lstat after drop_caches"
    [getattr]="stat, attr_timeout=0"
    [setattr]="chmod"
    [readdirplus]="readdir + lstat, after drop_caches"
    [unlink]="unlink"
    [copy]="open, create, copy_file_range, close x2"
)
REQUEST_FILES_MAX=200 # files of the -d pass: the debug output costs, the counts per operation do not change
COPY_FILE_SIZE=4096
PERF_FREQ=999
SETTLE=0.3 # seconds for the requests a workload leaves behind (RELEASE, FORGET) to be served

usage() { sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ------------------------------------------------------------------------------------------- compare
# sorted_tsv FILE: the meta rows as written, then the rest by descending value (stable), which is the order
# the tables list the requests and system calls of a workload in.
sorted_tsv() {
    grep $'^meta\t' "$1" || true
    grep -v $'^meta\t' "$1" | sort -t $'\t' -s -k3,3gr || true
}

# compare DIR_A DIR_B: the two profile.tsv side by side, the per-name details below.
compare() {
    local a=$1/profile.tsv b=$2/profile.tsv
    [[ -r $a ]] || bench_die "no $a"
    [[ -r $b ]] || bench_die "no $b"
    # Within a workload, names by descending value in A (then those only B has), as the tables order them.
    local sorted_a sorted_b
    sorted_a=$(sorted_tsv "$a")
    sorted_b=$(sorted_tsv "$b")
    awk -F '\t' -v order="${WORKLOADS[*]}" '
        function num(v) { return v == "" ? "-" : v }
        function ratio(x, y) { return (x == "" || y == "" || x + 0 == 0) ? "-" : sprintf("%.2f", y / x) }
        function fmt(v, p) { return v == "" ? "-" : sprintf("%." p "f", v) }
        BEGIN { SHOWN["req"] = 0.005; SHOWN["sys"] = 0.02 }  # per operation; the TSV has them all
        FNR == 1 { side++ }
        {
            w = $1; k = $2
            val[side, w, k] = $3
            if ($1 == "meta") { if (!((w, k) in seen)) { seen[w, k] = 1; metas[++nm] = k }; next }
            if (k ~ /^(sys|req):/ && !((w, k) in seen)) { seen[w, k] = 1; keys[w] = keys[w] " " k }
        }
        END {
            la = val[1, "meta", "label"]; lb = val[2, "meta", "label"]
            printf "fastfs per-request profile: %s (A) vs %s (B)\n", la, lb
            for (i = 1; i <= nm; i++) {
                k = metas[i]
                if (k == "label") continue
                if (val[1, "meta", k] == val[2, "meta", k]) printf "%-13s %s\n", k ":", val[1, "meta", k]
                else printf "%-13s A: %s\n%-13s B: %s\n", k ":", num(val[1, "meta", k]), "", num(val[2, "meta", k])
            }
            printf "\n%-12s %27s %27s %19s %19s\n", "", "wall us/op", "daemon CPU us/op", "syscalls/op",
                "FUSE requests/op"
            printf "%-12s %9s %9s %7s %9s %9s %7s %9s %9s %9s %9s\n", "workload", "A", "B", "B/A", "A", "B",
                "B/A", "A", "B", "A", "B"
            n = split(order, ws, " ")
            for (i = 1; i <= n; i++) {
                w = ws[i]
                printf "%-12s %9s %9s %7s %9s %9s %7s %9s %9s %9s %9s\n", w,
                    fmt(val[1, w, "wall_us"], 1), fmt(val[2, w, "wall_us"], 1),
                    ratio(val[1, w, "wall_us"], val[2, w, "wall_us"]),
                    fmt(val[1, w, "cpu_us"], 1), fmt(val[2, w, "cpu_us"], 1),
                    ratio(val[1, w, "cpu_us"], val[2, w, "cpu_us"]),
                    fmt(val[1, w, "syscalls"], 2), fmt(val[2, w, "syscalls"], 2),
                    fmt(val[1, w, "requests"], 2), fmt(val[2, w, "requests"], 2)
            }
            printf "\nper operation, by FUSE request (req:) and by daemon system call (sys:, strace counts;"
            printf " failed calls in brackets; system calls below 0.02 left out):\n"
            printf "%-12s %-26s %14s %14s %8s\n", "workload", "name", "A", "B", "B-A"
            for (i = 1; i <= n; i++) {
                w = ws[i]
                m = split(keys[w], ks, " ")
                for (j = 1; j <= 2 * m; j++) {
                    k = ks[j <= m ? j : j - m]
                    if (index(k, j <= m ? "req:" : "sys:") != 1) continue  # the requests first
                    x = val[1, w, k]; y = val[2, w, k]
                    if (x + 0 < SHOWN[substr(k, 1, 3)] && y + 0 < SHOWN[substr(k, 1, 3)]) continue
                    e = k; sub(/^sys:/, "syserr:", e)
                    xa = fmt(x, 2); yb = fmt(y, 2)
                    if (k ~ /^sys:/ && val[1, w, e] != "") xa = xa " (" sprintf("%.2f", val[1, w, e]) ")"
                    if (k ~ /^sys:/ && val[2, w, e] != "") yb = yb " (" sprintf("%.2f", val[2, w, e]) ")"
                    printf "%-12s %-26s %14s %14s %8s\n", w, k, xa, yb, sprintf("%+.2f", y - x)
                }
            }
        }' <(printf '%s\n' "$sorted_a") <(printf '%s\n' "$sorted_b")
}

# ------------------------------------------------------------------------------------------- arguments
BINARY=${FASTFS_BINARY:-}
LABEL=fastfs
OPTIONS=""
IO_URING=0
FILES=5000
OUT=""
PERF=0
CALL_GRAPH=dwarf
INSTALL=0
while (($#)); do
    case $1 in
        --binary) BINARY=$2; shift ;;
        --label) LABEL=$2; shift ;;
        --options) OPTIONS=$2; shift ;;
        --io-uring) IO_URING=1 ;;
        --files) FILES=$2; shift ;;
        --out) OUT=$2; shift ;;
        --perf) PERF=1 ;;
        --call-graph) CALL_GRAPH=$2; shift ;;
        --install) INSTALL=1 ;;
        --compare)
            (($# == 3)) || bench_die "--compare takes two output directories"
            compare "$2" "$3"
            exit 0 ;;
        -h | --help) usage; exit 0 ;;
        *) bench_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $FILES =~ ^[1-9][0-9]*$ ]] || bench_die "--files needs a positive number"
[[ $CALL_GRAPH == dwarf || $CALL_GRAPH == fp ]] || bench_die "--call-graph takes dwarf or fp"
[[ -n $LABEL && $LABEL != */* ]] || bench_die "--label needs a name without /"
REQUEST_FILES=$((FILES < REQUEST_FILES_MAX ? FILES : REQUEST_FILES_MAX))

bench_require_root
[[ -n $BINARY ]] || BINARY=$(bench_fastfs_binary "$REPO" || true)
[[ -n $BINARY && -x $BINARY ]] || bench_die "no fastfs binary (${BINARY:-$REPO/build/fastfs}): --binary PATH"
BINARY=$(realpath "$BINARY")

if ((INSTALL)); then
    missing=()
    command -v strace >/dev/null || missing+=(strace)
    ((PERF)) && ! command -v perf >/dev/null && missing+=(linux-perf)
    ((PERF)) && ! bench_chart_python >/dev/null && missing+=(python3-matplotlib)
    if ((${#missing[@]})); then
        bench_log "installing ${missing[*]}"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
fi
for tool in mkfs.xfs losetup findmnt fusermount3 strace cc python3; do
    command -v "$tool" >/dev/null || bench_die "missing $tool (--install installs strace and perf)"
done
DRAW_PY=""
if ((PERF)); then
    command -v perf >/dev/null || bench_die "--perf needs perf: apt-get install linux-perf, or --install"
    DRAW_PY=$(bench_chart_python || true)
    [[ -n $DRAW_PY ]] || bench_log "warning: no python3-matplotlib (--install): folded stacks and leaf" \
        "lists only, no PNG"
fi

# A build that uses io_uring by default whenever enable_uring is Y is kept on /dev/fuse unless --io-uring,
# so that two builds are compared over the same transport. Options the user gave about it win.
TRANSPORT_OPT=""
if ((IO_URING)); then
    TRANSPORT_OPT=io_uring
else
    binary_help=$("$BINARY" --help 2>&1 || true)
    if [[ ! ,$OPTIONS, =~ ,(no_)?io_uring, && $binary_help == *no_io_uring* ]]; then
        TRANSPORT_OPT=no_io_uring
    fi
fi

SAFE_LABEL=$(tr -c 'A-Za-z0-9._-' '_' <<<"$LABEL" | sed 's/_$//')
OUT=${OUT:-/var/tmp/fastfs-profile-$(date +%Y%m%d-%H%M%S)-$SAFE_LABEL}
mkdir -p "$OUT"/strace "$OUT"/requests
((PERF)) && mkdir -p "$OUT"/flame
OUT=$(realpath "$OUT")
TSV=$OUT/profile.tsv
: >"$TSV"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TSV"; }

# ------------------------------------------------------------------------------------------- lifecycle
# strace or perf attached to the daemon; the cleanup stops them (they detach) before it stops the daemon.
TOOL_PIDS=()
stop_tool() {
    local pid=$1 i
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    local -a left=()
    for i in "${TOOL_PIDS[@]}"; do [[ $i == "$pid" ]] || left+=("$i"); done
    TOOL_PIDS=("${left[@]}")
}
profile_cleanup() {
    local pid
    for pid in "${TOOL_PIDS[@]}"; do stop_tool "$pid"; done
    bench_cleanup
}
bench_make_work_dir
bench_install_traps
trap profile_cleanup EXIT
bench_log "scratch: $BENCH_WORK_DIR; output: $OUT"

WORKLOAD_BIN=$BENCH_WORK_DIR/profile-workload
cc -O2 -Wall -Wextra -Werror -o "$WORKLOAD_BIN" "$BENCH_DIR/profile_workload.c" ||
    bench_die "cannot compile $BENCH_DIR/profile_workload.c"

bench_make_loop_fs xfs 4G xfs
XFS=$BENCH_LAST_MOUNT

CLK_TCK=$(getconf CLK_TCK)
DAEMON_PID="" DAEMON_MNT="" DAEMON_LOG="" TRANSPORT="" MOUNT_COMMAND="" FIRST_TRANSPORT="" DAEMON_SAYS=""

# mount_fastfs NAME DEBUG [EXTRA_OPTS]: mounts BINARY over the XFS on $BENCH_WORK_DIR/mnt-NAME; sets
# DAEMON_PID, DAEMON_MNT, DAEMON_LOG and TRANSPORT (what the daemon holds: io_uring rings or not).
mount_fastfs() {
    local name=$1 debug=$2 extra=${3:-}
    local mnt=$BENCH_WORK_DIR/mnt-$name log=$BENCH_WORK_DIR/$name.log
    local -a cmd=("$BINARY" -f)
    ((debug)) && cmd+=(-d)
    [[ -n $OPTIONS ]] && cmd+=(-o "$OPTIONS")
    [[ -n $TRANSPORT_OPT ]] && cmd+=(-o "$TRANSPORT_OPT")
    [[ -n $extra ]] && cmd+=(-o "$extra")
    cmd+=("$XFS" "$mnt")
    if ((IO_URING)); then bench_uring_enable || bench_die "--io-uring: $BENCH_URING_ERROR"; fi
    bench_start_fuse "fastfs ($name)" "$log" "${cmd[@]}" || bench_die "fastfs did not mount: ${cmd[*]}"
    DAEMON_PID=$BENCH_LAST_PID DAEMON_MNT=$mnt DAEMON_LOG=$log
    local rings
    if ((IO_URING)); then
        rings=$(bench_wait_uring_rings "$mnt" "$DAEMON_PID")
        bench_uring_restore
        ((rings > 0)) || bench_die "--io-uring: the daemon holds no io_uring ring (log: $log)"
    else
        timeout 10 stat "$mnt" >/dev/null 2>&1 || true
        rings=$(find "/proc/$DAEMON_PID/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l)
    fi
    if ((rings > 0)); then TRANSPORT="io_uring ($rings rings)"; else TRANSPORT=/dev/fuse; fi
    # The first mount (the timed pass's) stands for all: the others differ only in -d and attr_timeout=0.
    if [[ -z $MOUNT_COMMAND ]]; then
        MOUNT_COMMAND="${cmd[*]}" FIRST_TRANSPORT=$TRANSPORT
        # What the daemon says about itself (passthrough, io_uring), when it says it.
        DAEMON_SAYS=$(grep -o -E '(passthrough|io_uring) o[nf]+' "$log" | paste -sd ';' | sed 's/;/; /g' || true)
    fi
    bench_log "mounted $mnt (pid $DAEMON_PID, $TRANSPORT): ${cmd[*]}"
}

# Unmounts and forgets the daemon, so that the cleanup trap does not signal its PID again later. The debug
# output of the requests pass is kept with the results (a few MB), to look at the requests themselves.
unmount_fastfs() {
    bench_stop_fuse "$DAEMON_MNT" "$DAEMON_PID"
    [[ $DAEMON_LOG == */requests*.log ]] && cp "$DAEMON_LOG" "$OUT/requests/"
    local i
    local -a mounts=() pids=()
    for i in "${!BENCH_FUSE_MOUNTS[@]}"; do
        [[ ${BENCH_DAEMON_PIDS[i]} == "$DAEMON_PID" ]] && continue
        mounts+=("${BENCH_FUSE_MOUNTS[i]}")
        pids+=("${BENCH_DAEMON_PIDS[i]}")
    done
    BENCH_FUSE_MOUNTS=("${mounts[@]}") BENCH_DAEMON_PIDS=("${pids[@]}")
    DAEMON_PID="" DAEMON_MNT=""
}

# utime + stime of the whole daemon (all its threads, live and gone) in clock ticks. The fields after the
# command name, which may hold spaces: state is the 1st, utime the 12th, stime the 13th.
daemon_cpu_ticks() {
    local stat
    stat=$(<"/proc/$DAEMON_PID/stat")
    awk '{ print $12 + $13 }' <<<"${stat##*) }"
}

per_op() { awk -v x="$1" -v n="$2" -v p="${3:-2}" 'BEGIN { printf "%." p "f", x / n }'; }

# run_client OP DIR N [SRC]: runs the client loop; prints its "ops=N usec=T" line.
run_client() {
    local out
    out=$("$WORKLOAD_BIN" "$@") || bench_die "workload $1 failed in $2"
    printf '%s\n' "$out"
}

# measure PASS WORKLOAD OP DIR N [SRC]: one workload under the pass's instrument.
measure() {
    local pass=$1 w=$2
    shift 2
    local out ops usec
    case $pass in
        time)
            local c0 c1
            c0=$(daemon_cpu_ticks)
            out=$(run_client "$@")
            sleep "$SETTLE"
            c1=$(daemon_cpu_ticks)
            ops=$(sed -n 's/^ops=\([0-9]*\) .*/\1/p' <<<"$out")
            usec=$(sed -n 's/.* usec=\([0-9]*\)$/\1/p' <<<"$out")
            record "$w" ops "$ops"
            record "$w" wall_us "$(per_op "$usec" "$ops" 2)"
            record "$w" cpu_ticks "$((c1 - c0))"
            record "$w" cpu_us "$(per_op "$(((c1 - c0) * 1000000 / CLK_TCK))" "$ops" 2)"
            bench_log "$w: $ops ops, $usec us, daemon CPU $((c1 - c0)) ticks"
            ;;
        strace)
            local raw=$OUT/strace/$w.txt err=$BENCH_WORK_DIR/strace-$w.err i
            strace -f -c -U calls,errors,name -S calls -o "$raw" -p "$DAEMON_PID" 2>"$err" &
            local tracer=$!
            TOOL_PIDS+=("$tracer")
            for ((i = 0; i < 100; i++)); do
                grep -q attached "$err" 2>/dev/null && break
                sleep 0.1
            done
            grep -q attached "$err" || bench_die "strace did not attach to $DAEMON_PID: $(cat "$err")"
            sleep 0.2
            out=$(run_client "$@")
            sleep "$SETTLE"
            stop_tool "$tracer"
            ops=$(sed -n 's/^ops=\([0-9]*\) .*/\1/p' <<<"$out")
            # Lines "calls [errors] name"; the total line is "calls [errors] total".
            awk -v w="$w" -v n="$ops" '
                $1 ~ /^[0-9]+$/ && NF >= 2 {
                    name = $NF; errors = NF >= 3 ? $2 : 0
                    if (name == "total") { printf "%s\tsyscalls\t%.2f\n", w, $1 / n; next }
                    printf "%s\tsys:%s\t%.2f\n", w, name, $1 / n
                    if (errors / n >= 0.005) printf "%s\tsyserr:%s\t%.2f\n", w, name, errors / n
                }' "$raw" >>"$TSV"
            bench_log "$w: strace counted $(awk -F '\t' -v w="$w" '$1 == w && $2 == "syscalls" { print $3 }' "$TSV") system calls per operation"
            ;;
        requests)
            local mark
            mark=$(wc -l <"$DAEMON_LOG")
            out=$(run_client "$@")
            sleep "$SETTLE"
            ops=$(sed -n 's/^ops=\([0-9]*\) .*/\1/p' <<<"$out")
            tail -n +"$((mark + 1))" "$DAEMON_LOG" | grep -o 'opcode: [A-Z_0-9]*' | awk '{ print $2 }' |
                sort | uniq -c | sort -rn >"$OUT/requests/$w.txt" || true
            awk -v w="$w" -v n="$ops" '
                { total += $1; printf "%s\treq:%s\t%.2f\n", w, $2, $1 / n }
                END { printf "%s\trequests\t%.2f\n", w, total / n }' "$OUT/requests/$w.txt" >>"$TSV"
            ;;
        perf)
            local data=$BENCH_WORK_DIR/perf-$w.data
            local -a graph=(--call-graph "dwarf,16384")
            [[ $CALL_GRAPH == fp ]] && graph=(-g)
            perf record -q -F "$PERF_FREQ" "${graph[@]}" -p "$DAEMON_PID" -o "$data" 2>"$data.err" &
            local recorder=$!
            TOOL_PIDS+=("$recorder")
            sleep 1 # perf opens its events on every thread of the daemon: no message says when it is done
            kill -0 "$recorder" 2>/dev/null || bench_die "perf record failed: $(cat "$data.err")"
            out=$(run_client "$@")
            sleep "$SETTLE"
            stop_tool "$recorder"
            local prefix=$OUT/flame/$w samples
            samples=$(perf script -i "$data" -F comm,pid,tid,ip,sym,dso 2>/dev/null |
                python3 "$BENCH_DIR/flamegraph.py" fold --pid "$DAEMON_PID" --out "$prefix.folded" \
                    --leaves "$prefix.leaves.txt") || bench_die "folding the perf samples of $w failed"
            record "$w" perf_samples "$samples"
            if [[ -n $DRAW_PY ]]; then
                "$DRAW_PY" "$BENCH_DIR/flamegraph.py" draw "$prefix.folded" --out "$prefix.png" \
                    --title "fastfs $LABEL, $w (${WHAT[$w]}, $FILES files)" ||
                    bench_log "warning: no flame graph for $w"
            fi
            rm -f "$data" "$data.old"
            bench_log "$w: $samples perf samples -> $prefix.{folded,leaves.txt${DRAW_PY:+,png}}"
            ;;
    esac
}

# run_pass PASS N: every workload once under PASS's instrument, over N fresh files in the XFS directory
# PASS. The order follows what each needs: the create makes the files lookup, setattr and readdirplus
# use; getattr needs its own mount (attr_timeout=0); unlink and copy run on a fresh mount.
run_pass() {
    local pass=$1 n=$2 debug=0
    [[ $pass == requests ]] && debug=1
    bench_log "pass $pass: $n files"
    local base=$pass
    mkdir -p "$XFS/$base/files" "$XFS/$base/copies" "$XFS/$base/src"
    # The copy's sources are written natively, before the mount: no change on the XFS while fastfs watches.
    "$WORKLOAD_BIN" fill "$XFS/$base/src" "$n" "" "$COPY_FILE_SIZE" >/dev/null
    sync

    mount_fastfs "$pass" "$debug"
    local dir=$DAEMON_MNT/$base
    measure "$pass" create create "$dir/files" "$n"
    bench_drop_caches
    sleep 1 # the FORGETs drop_caches sends are served before the workload, not during it
    measure "$pass" lookup lstat "$dir/files" "$n"
    measure "$pass" setattr chmod "$dir/files" "$n"
    bench_drop_caches
    sleep 1
    measure "$pass" readdirplus scandir "$dir/files" "$n"
    unmount_fastfs

    mount_fastfs "$pass-attr0" "$debug" attr_timeout=0
    dir=$DAEMON_MNT/$base
    run_client lstat "$dir/files" "$n" >/dev/null # the LOOKUPs: only GETATTRs are left for the timed stat
    measure "$pass" getattr stat "$dir/files" "$n"
    unmount_fastfs

    mount_fastfs "$pass-2" "$debug"
    dir=$DAEMON_MNT/$base
    run_client lstat "$dir/files" "$n" >/dev/null # the LOOKUPs: the unlinks find every name cached
    measure "$pass" unlink unlink "$dir/files" "$n"
    measure "$pass" copy copy "$dir/copies" "$n" "$dir/src"
    unmount_fastfs
}

START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
run_pass time "$FILES"
run_pass strace "$FILES"
run_pass requests "$REQUEST_FILES"
((PERF)) && run_pass perf "$FILES"
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

record meta label "$LABEL"
record meta date "$START_TIME"
record meta binary "$BINARY ($("$BINARY" --version 2>/dev/null | head -1 || echo '?'); built $(date -u -r "$BINARY" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$BINARY" | cut -c1-12))"
record meta mount "${MOUNT_COMMAND//$BENCH_WORK_DIR/\$SCRATCH}"
record meta transport "$FIRST_TRANSPORT${DAEMON_SAYS:+ (the daemon: $DAEMON_SAYS)}"
record meta files "$FILES per workload (FUSE requests counted over $REQUEST_FILES with -d; copy: $COPY_FILE_SIZE-byte files)"
record meta host "$(uname -n), kernel $(uname -r), $(nproc) cpus"
record meta load "$START_LOAD before, $END_LOAD after (1/5/15 min)"
record meta script "fastfs $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') tests/bench/profile.sh"
((PERF)) && record meta perf "perf record -F $PERF_FREQ --call-graph $CALL_GRAPH -p PID, daemon threads only"

report() {
    awk -F '\t' -v order="${WORKLOADS[*]}" -v what="$(for w in "${WORKLOADS[@]}"; do printf '%s\t' "${WHAT[$w]}"; done)" '
        function fmt(v, p) { return v == "" ? "-" : sprintf("%." p "f", v) }
        {
            val[$1, $2] = $3
            if ($1 == "meta") metas[++nm] = $2
            else if ($2 ~ /^(req|sys):/) keys[$1] = keys[$1] " " $2
        }
        # details(w, prefix): "name value, ..." of the keys PREFIX:name of workload w, in input order.
        function details(w, prefix,    m, ks, j, k, name, s, e) {
            s = ""
            m = split(keys[w], ks, " ")
            for (j = 1; j <= m; j++) {
                k = ks[j]
                if (index(k, prefix ":") != 1 || val[w, k] + 0 < (prefix == "sys" ? 0.02 : 0.005)) continue
                name = substr(k, length(prefix) + 2)
                s = s sprintf("%s%s %.2f", s == "" ? "" : ", ", name, val[w, k])
                e = val[w, "syserr:" name]
                if (prefix == "sys" && e != "") s = s sprintf(" (%.2f failed)", e)
            }
            return s == "" ? "-" : s
        }
        END {
            print "fastfs per-request profile: " val["meta", "label"]
            for (i = 1; i <= nm; i++)
                if (metas[i] != "label") printf "%-10s %s\n", metas[i] ":", val["meta", metas[i]]
            n = split(order, ws, " "); split(what, wh, "\t")
            printf "\n%-12s %-36s %10s %10s %11s %11s %10s\n", "workload", "operation", "wall", "daemon CPU",
                "syscalls/op", "requests/op", "daemon CPU"
            printf "%-12s %-36s %10s %10s %11s %11s %10s\n", "", "", "us/op", "us/op", "(strace)", "(FUSE, -d)",
                "us/request"
            for (i = 1; i <= n; i++) {
                w = ws[i]
                per_req = (val[w, "requests"] + 0 > 0 && val[w, "cpu_us"] != "") ? \
                    fmt(val[w, "cpu_us"] / val[w, "requests"], 1) : "-"
                printf "%-12s %-36s %10s %10s %11s %11s %10s\n", w, wh[i], fmt(val[w, "wall_us"], 1),
                    fmt(val[w, "cpu_us"], 1), fmt(val[w, "syscalls"], 2), fmt(val[w, "requests"], 2), per_req
            }
            print "\nFUSE requests per operation (counted in the -d output):"
            for (i = 1; i <= n; i++) printf "  %-12s %s\n", ws[i], details(ws[i], "req")
            print "\ndaemon system calls per operation (strace -f -c counts, not times: strace slows the daemon;"
            print "those below 0.02 left out, profile.tsv has them):"
            for (i = 1; i <= n; i++) printf "  %-12s %s\n", ws[i], details(ws[i], "sys")
            if (val[ws[1], "perf_samples"] != "") {
                print "\nperf samples per workload (flame/WORKLOAD.png, .folded, .leaves.txt):"
                for (i = 1; i <= n; i++) printf "  %-12s %s\n", ws[i], fmt(val[ws[i], "perf_samples"], 0)
            }
        }' <(sorted_tsv "$TSV")
}
report | tee "$OUT/profile.txt"
bench_log "saved $OUT/profile.txt and profile.tsv (compare two runs: $0 --compare DIR_A DIR_B)"
