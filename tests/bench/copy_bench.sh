#!/usr/bin/env bash
# The copy benchmark: what a plain `cp` inside a fastfs mount costs compared with the best copy the
# backing filesystem can do natively.
#
#   sudo tests/bench/copy_bench.sh [--quick] [--reps N] [--only xfs|ext4|model-tree]
#
#   XFS (reflink=1): cp of a 1 GiB and a 10 GiB file inside the mount vs `cp --reflink=always` on the
#                    backing XFS, in ms; the copy must share all its extents (filefrag -v, backing path).
#   ext4:            cp and a whole-file copy_file_range of a sparse file (8 GiB apparent, 16 MiB of data in
#                    16 extents) inside the mount vs the same on ext4: time and the blocks the copy allocated
#                    (st_blocks), byte comparison.
#   model tree:      the tree of issue 11 (20 layers x 50 dense shards of 4 KiB-1 MiB, 20 sparse 200 MiB
#                    weight files, configs; 1,026 files) on XFS (reflink=1), copied (a) natively with
#                    `cp -a --reflink=always`, (b) with `cp -a` inside the mount, (c) with `fastfs clone -r`
#                    inside the mount, (d) with a Go io.Copy per-file tree copy inside the mount when a Go
#                    toolchain is installed, else a C program doing the same copy_file_range loop
#                    (tree_copy/); warm caches (best of N), then once each after drop_caches.
#   After each part: `fastfs stats MNT` and `--json` (tolerated if the subcommand does not exist yet).
#
#   --quick    64 MiB / 256 MiB files, a 512 MiB-apparent sparse file, a model tree of 90 files: a smoke run
#   --reps N   copies per case (default 3); every time is printed, the best is summarized
#   --only P   run one part: xfs, ext4 or model-tree
#
# Environment: FASTFS_BINARY (default build/fastfs), FASTFS_ARGS, BENCH_SCRATCH (default /var/tmp).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

QUICK=0
REPS=3
ONLY=""
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) bench_die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || bench_die "--reps needs a positive number"
[[ -z $ONLY || $ONLY =~ ^(xfs|ext4|model-tree)$ ]] || bench_die "--only takes xfs, ext4 or model-tree"
bench_require_root
wanted() { [[ -z $ONLY || $ONLY == "$1" ]]; }

MIB=$((1 << 20))
if ((QUICK)); then
    DENSE_SIZES=($((64 * MIB)) $((256 * MIB)))
    SPARSE_APPARENT=$((512 * MIB)) SPARSE_DATA=$((4 * MIB))
    XFS_IMAGE=2G EXT4_IMAGE=2G
else
    DENSE_SIZES=($((1024 * MIB)) $((10240 * MIB)))
    SPARSE_APPARENT=$((8192 * MIB)) SPARSE_DATA=$((16 * MIB))
    # Room for the sources, and for one dense 8 GiB copy on ext4 should the sparse copy fail.
    XFS_IMAGE=16G EXT4_IMAGE=12G
fi
SPARSE_PIECES=16

PY=(python3 "$BENCH_DIR/bench.py")
FASTFS_BIN=$(bench_fastfs_binary "$REPO" || true)
read -r -a FASTFS_EXTRA <<<"${FASTFS_ARGS:-}"

bench_make_work_dir
bench_install_traps

now_ns() { date +%s%N; }
human() { numfmt --to=iec-i --suffix=B "$1"; }
allocated_bytes() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }

# timed_cp_ms DEST_VAR CP_ARGS...: runs cp after a sync, sets DEST_VAR to the elapsed ms; fails with cp.
timed_cp_ms() {
    local -n out=$1
    shift
    sync
    local start end
    start=$(now_ns)
    cp "$@" || return 1
    end=$(now_ns)
    # shellcheck disable=SC2034 # a nameref: sets the caller's variable
    out=$(((end - start) / 1000000))
}

# Shared extents on the backing file: "yes" when every extent filefrag lists carries the shared flag.
extents_shared() {
    filefrag -v "$1" | awk '
        $1 ~ /^[0-9]+:$/ { n++; if ($0 ~ /shared/) s++ }
        END { if (n == 0) print "no extents"; else if (s == n) printf "yes (%d extents)\n", n;
              else printf "NO (%d of %d extents shared)\n", s, n }'
}

# mount_fastfs BACKING NAME: mounts fastfs over BACKING at $BENCH_WORK_DIR/NAME; sets FASTFS_MNT (empty
# when fastfs is not available, so the native half still runs).
mount_fastfs() {
    local backing=$1 mnt="$BENCH_WORK_DIR/$2"
    FASTFS_MNT=""
    if [[ -z $FASTFS_BIN ]]; then
        echo "fastfs: no binary at ${FASTFS_BINARY:-$REPO/build/fastfs}; native numbers only"
        return 0
    fi
    if bench_start_fuse fastfs "$BENCH_WORK_DIR/$2.log" "$FASTFS_BIN" -f "${FASTFS_EXTRA[@]}" "$backing" "$mnt"; then
        FASTFS_MNT=$mnt
    else
        echo "fastfs: did not mount over $backing; native numbers only"
    fi
}

best_of() { printf '%s\n' "$@" | sort -n | head -1; }

echo "fastfs copy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r)," \
    "commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown), $(cp --version | head -1)"
echo "fastfs: ${FASTFS_BIN:-none} ${FASTFS_ARGS:-}"

# ---------------------------------------------------------------------------------------- XFS reflink
xfs_part() {
echo
echo "== XFS (reflink=1): in-mount cp vs native cp --reflink=always"
bench_make_loop_fs xfs "$XFS_IMAGE" xfs
XFS=$BENCH_LAST_MOUNT
mount_fastfs "$XFS" mnt-xfs
printf '%-10s %-28s %-22s %-28s %-22s %s\n' size "native reflink ms (runs)" "native shares extents" \
    "fastfs cp ms (runs)" "fastfs shares extents" "fastfs - native (best)"
for size in "${DENSE_SIZES[@]}"; do
    src=src-$size.bin
    bench_log "writing $(human "$size") source on XFS"
    "${PY[@]}" mkfile "$XFS/$src" "$size"
    native_runs=() fastfs_runs=() native_shared="" fastfs_shared="-"
    for ((rep = 1; rep <= REPS; rep++)); do
        timed_cp_ms ms --reflink=always "$XFS/$src" "$XFS/native-copy.bin"
        native_runs+=("$ms")
        native_shared=$(extents_shared "$XFS/native-copy.bin")
        rm -f "$XFS/native-copy.bin"
        if [[ -n $FASTFS_MNT ]]; then
            if timed_cp_ms ms "$FASTFS_MNT/$src" "$FASTFS_MNT/fastfs-copy.bin"; then
                fastfs_runs+=("$ms")
                fastfs_shared=$(extents_shared "$XFS/fastfs-copy.bin")
                # Byte-for-byte check once, on the smaller size (reading 2 x 10 GiB would dominate the run).
                if ((rep == 1 && size == DENSE_SIZES[0])) && ! cmp -s "$XFS/$src" "$XFS/fastfs-copy.bin"; then
                    fastfs_shared+=" CONTENT DIFFERS"
                fi
            else
                fastfs_runs+=("FAILED")
            fi
            rm -f "$FASTFS_MNT/fastfs-copy.bin"
        fi
    done
    delta="-"
    if [[ -n $FASTFS_MNT && ${fastfs_runs[*]} != *FAILED* ]]; then
        delta="$(($(best_of "${fastfs_runs[@]}") - $(best_of "${native_runs[@]}"))) ms"
    fi
    printf '%-10s %-28s %-22s %-28s %-22s %s\n' "$(human "$size")" "${native_runs[*]}" "$native_shared" \
        "${fastfs_runs[*]:--}" "$fastfs_shared" "$delta"
    rm -f "$XFS/$src"
done
[[ -n $FASTFS_MNT ]] && bench_print_fastfs_stats "$FASTFS_BIN" "$FASTFS_MNT"
return 0
}

# ------------------------------------------------------------------------------------- ext4 sparse copy
ext4_part() {
echo
echo "== ext4: sparse file $(human $SPARSE_APPARENT) apparent, $(human $SPARSE_DATA) of data in" \
    "$SPARSE_PIECES extents: in-mount copies vs native"
bench_make_loop_fs ext4 "$EXT4_IMAGE" ext4
EXT4=$BENCH_LAST_MOUNT
mount_fastfs "$EXT4" mnt-ext4
"${PY[@]}" mksparse "$EXT4/sparse.bin" "$SPARSE_APPARENT" "$SPARSE_DATA" "$SPARSE_PIECES"
echo "source allocated: $(human "$(allocated_bytes "$EXT4/sparse.bin")")"
# sparse_case WHO METHOD ROOT REPS: copies ROOT/sparse.bin to ROOT/copy.bin REPS times by METHOD (cp, or
# cfr = one program calling copy_file_range(2) over the whole file) and prints time, the blocks the copy
# allocated on ext4, whether it is identical, and st_blocks as seen through ROOT.
sparse_case() {
    local who=$1 method=$2 root=$3 reps=$4 rep ms runs=() alloc="" identical="" seen=""
    for ((rep = 1; rep <= reps; rep++)); do
        sync
        if [[ $method == cp ]]; then
            timed_cp_ms ms "$root/sparse.bin" "$root/copy.bin" || ms=FAILED
        else
            ms=$("${PY[@]}" cfr "$root/sparse.bin" "$root/copy.bin") || ms=FAILED
        fi
        runs+=("$ms")
        if [[ $ms != FAILED ]]; then
            alloc=$(human "$(allocated_bytes "$EXT4/copy.bin")")
            seen=$(human "$(allocated_bytes "$root/copy.bin")")
            ((rep == 1)) && { cmp -s "$EXT4/sparse.bin" "$EXT4/copy.bin" && identical=yes || identical=NO; }
        fi
        rm -f "$root/copy.bin"
    done
    printf '%-8s %-15s %-24s %-14s %-10s %s\n' "$who" "$method" "${runs[*]}" "$alloc" "$identical" "$seen"
}

printf '%-8s %-15s %-24s %-14s %-10s %s\n' who how "ms (runs)" allocated identical "st_blocks seen"
sparse_case native cp "$EXT4" "$REPS"
[[ -n $FASTFS_MNT ]] && sparse_case fastfs cp "$FASTFS_MNT" "$REPS"
# Natively, ext4 has no copy_file_range of its own: the kernel splices, filling holes (one run: it writes
# the whole apparent size).
sparse_case native cfr "$EXT4" 1
if [[ -n $FASTFS_MNT ]]; then
    sparse_case fastfs cfr "$FASTFS_MNT" "$REPS"
    bench_print_fastfs_stats "$FASTFS_BIN" "$FASTFS_MNT"
fi
echo
echo "cp = coreutils cp (9.1 walks SEEK_DATA/SEEK_HOLE itself and copies data with read/write, so through a"
echo "mount it tests FUSE_LSEEK and st_blocks, not the copy engine); cfr = copy_file_range(2) over the whole"
echo "file, which fastfs turns into its extent-aware copy."
}

# ------------------------------------------------------------------------------------------ model tree
# timed_tree_ms DEST_VAR COMMAND...: runs a tree copy after a sync, sets DEST_VAR to the elapsed ms.
timed_tree_ms() {
    local -n result=$1
    shift
    sync
    local start end
    start=$(now_ns)
    "$@" >/dev/null || return 1
    end=$(now_ns)
    # shellcheck disable=SC2034 # a nameref: sets the caller's variable
    result=$(((end - start) / 1000000))
}

# tree_case LABEL DESTINATION_ROOT COMMAND_PREFIX...: REPS warm copies of model/ to DESTINATION_ROOT/copy
# with COMMAND_PREFIX SRC DST, then one after drop_caches; prints the times, sets TREE_BEST (warm, ms).
tree_case() {
    local label=$1 root=$2 ms runs=() cold
    shift 2
    for ((rep = 1; rep <= REPS; rep++)); do
        timed_tree_ms ms "$@" "$root/model" "$root/copy" || ms=FAILED
        runs+=("$ms")
        rm -rf "$MODEL_XFS/copy"
    done
    bench_drop_caches
    timed_tree_ms cold "$@" "$root/model" "$root/copy" || cold=FAILED
    TREE_LAST_SHARED=$(extents_shared "$MODEL_XFS/copy/weights/model-00000.safetensors")
    rm -rf "$MODEL_XFS/copy"
    TREE_BEST=$(best_of "${runs[@]}")
    printf '%-44s %-22s %-10s %-10s %s\n' "$label" "${runs[*]}" "$TREE_BEST" "$cold" "$TREE_LAST_SHARED"
}

# (e) what a pod waits for with the CSI driver instead of an init container's copy: kubelet's
# NodePublishVolume of an inline clone volume of the model tree, from the call to its answer (the driver
# clones the tree in its backing's fastfs mount and binds it onto the target), REPS times, each followed by
# a NodeUnpublishVolume, which removes the clone. The driver's first publish also mounts fastfs over the
# backing: a warm-up, not counted.
csi_case() {
    local label=$1 backing=$2 csi_bin client dir runs=() ms i
    csi_bin=${FASTFS_CSI_BINARY:-$REPO/build/fastfs-csi}
    client=${FASTFS_CSI_CLIENT:-$REPO/build/tests/integration/csi/fastfs_csi_client}
    TREE_BEST=0
    if [[ ! -x $csi_bin || ! -x $client ]]; then
        printf '%-44s %s\n' "$label" "n/a: no fastfs-csi or its test client in the build"
        return 0
    fi
    dir=$BENCH_WORK_DIR/csi
    mkdir -p "$dir/state" "$dir/mounts" "$dir/targets"
    "$csi_bin" --endpoint "unix://$dir/csi.sock" --state-dir "$dir/state" --mount-root "$dir/mounts" \
        --backing "models=$backing" --fastfs "$FASTFS_BIN" >"$dir/driver.log" 2>&1 &
    local driver=$!
    for _ in $(seq 100); do [[ -S $dir/csi.sock ]] && break; sleep 0.05; done
    # kubelet makes the pod's volume directory; the driver makes the target inside it.
    publish() {
        mkdir -p "$dir/targets/$1"
        FASTFS_CSI_CLIENT_TIME=1 "$client" "$dir/csi.sock" publish "bench-$1" "$dir/targets/$1/mount" \
            backing=models mode=clone source=model
    }
    unpublish() { "$client" "$dir/csi.sock" unpublish "bench-$1" "$dir/targets/$1/mount"; }
    { publish warmup >/dev/null && unpublish warmup; } || echo "$label: the warm-up publish failed ($dir/driver.log)"
    local weights=$backing/.fastfs-csi/volumes/bench-1/weights/model-00000.safetensors
    TREE_LAST_SHARED="-"
    for ((i = 1; i <= REPS; i++)); do
        sync
        ms=$(publish "$i") || ms=FAILED
        runs+=("${ms%.*}")
        if [[ $i == 1 && -f $weights ]]; then TREE_LAST_SHARED=$(extents_shared "$weights"); fi
        unpublish "$i" || true
    done
    kill "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
    # The driver leaves its fastfs mount of the backing for the next driver; the benchmark ends it.
    umount "$dir/mounts/models" 2>/dev/null || umount -l "$dir/mounts/models" 2>/dev/null || true
    TREE_BEST=$(best_of "${runs[@]}")
    printf '%-44s %-22s %-10s %-10s %s\n' "$label" "${runs[*]}" "$TREE_BEST" "-" "$TREE_LAST_SHARED"
}

model_tree_part() {
    local sizes=full
    ((QUICK)) && sizes=quick
    echo
    echo "== model tree on XFS (reflink=1): native cp -a --reflink=always vs copies inside the mount"
    bench_make_loop_fs xfs "$([[ $sizes == quick ]] && echo 2G || echo 8G)" xfs-model
    MODEL_XFS=$BENCH_LAST_MOUNT
    mount_fastfs "$MODEL_XFS" mnt-model
    bench_log "writing the model tree"
    bench_make_model_tree "$MODEL_XFS/model" "$sizes"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    bench_build_tree_copy "$BENCH_WORK_DIR/tree-copy"
    printf '%-44s %-22s %-10s %-10s %s\n' case "warm ms (runs)" "best" "cold ms" "weights shared"
    tree_case "(a) native cp -a --reflink=always" "$MODEL_XFS" cp -a --reflink=always
    local native=$TREE_BEST
    if [[ -n $FASTFS_MNT ]]; then
        tree_case "(b) cp -a inside the mount" "$FASTFS_MNT" cp -a
        local in_mount=$TREE_BEST
        tree_case "(c) fastfs clone -r inside the mount" "$FASTFS_MNT" "$FASTFS_BIN" clone -r
        local clone=$TREE_BEST
        case $BENCH_TREE_COPY_KIND in
            go) tree_case "(d) Go io.Copy per file inside the mount" "$FASTFS_MNT" "$BENCH_TREE_COPY" ;;
            c) tree_case "(d) C copy_file_range loop per file (no Go)" "$FASTFS_MNT" "$BENCH_TREE_COPY" ;;
            *) printf '%-44s %s\n' "(d) per-file copy inside the mount" "n/a: neither go nor cc builds it" ;;
        esac
        csi_case "(e) CSI NodePublishVolume mode=clone" "$MODEL_XFS"
        local csi=$TREE_BEST
        echo "ratios to (a), warm best: (b) $(awk -v a="$native" -v b="$in_mount" 'BEGIN { printf "%.1fx", b / a }')," \
            "(c) $(awk -v a="$native" -v c="$clone" 'BEGIN { printf "%.2fx", c / a }')," \
            "(e) $(awk -v a="$native" -v e="$csi" 'BEGIN { printf "%.2fx", e / a }')"
        bench_print_fastfs_stats "$FASTFS_BIN" "$FASTFS_MNT"
    fi
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

wanted xfs && xfs_part
wanted ext4 && ext4_part
wanted model-tree && model_tree_part
exit 0
