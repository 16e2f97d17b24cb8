#!/usr/bin/env bash
# Installs dependencies, builds fastfs, mounts it, and shows an accelerated copy inside the mount.
#   scripts/demo.sh                      makes a small XFS image (reflink=1) and mounts fastfs over it
#   scripts/demo.sh BACKING [MOUNTPOINT] mounts fastfs over BACKING (default mountpoint /mnt/fast)
#   scripts/demo.sh --stop               unmounts what the demo mounted
set -euo pipefail
cd "$(dirname "$0")/.."
demo=/var/tmp/fastfs-demo

stop() {
  for m in "$demo/mnt" /mnt/fast; do
    if findmnt -n "$m" -t fuse.fastfs >/dev/null 2>&1; then umount "$m" && echo "unmounted $m"; fi
  done
  if findmnt -n "$demo/xfs" >/dev/null 2>&1; then umount "$demo/xfs" && echo "unmounted $demo/xfs"; fi
  rm -rf "$demo"
}
if [ "${1:-}" = "--stop" ]; then stop; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "fastfs: the demo needs root (it mounts a loop image)" >&2; exit 1; }

./scripts/install-deps.sh
BUILD_DIR=build ./scripts/build.sh
fastfs=$PWD/build/fastfs

if [ $# -ge 1 ]; then
  backing=$(realpath "$1")
  mnt=${2:-/mnt/fast}
else
  stop >/dev/null 2>&1 || true
  mkdir -p "$demo/xfs" "$demo/mnt"
  truncate -s 4G "$demo/xfs.img"
  mkfs.xfs -q -f -m reflink=1 "$demo/xfs.img"
  mount -o loop "$demo/xfs.img" "$demo/xfs"
  backing=$demo/xfs
  mnt=$demo/mnt
fi
mkdir -p "$mnt"
"$fastfs" "$backing" "$mnt"   # daemonizes once mounted
echo "== mounted:"; findmnt -n -o TARGET,SOURCE,FSTYPE "$mnt"

echo "== writing a 1 GiB file through the mount"
dd if=/dev/urandom of="$mnt/model.bin" bs=4M count=256 conv=fsync status=none
echo "== cp inside the mount (copy_file_range -> FUSE COPY_FILE_RANGE -> reflink or sparse copy)"
start=$(date +%s%N)
cp "$mnt/model.bin" "$mnt/model-copy.bin"
echo "   cp took $(( ($(date +%s%N) - start) / 1000000 )) ms"
cmp "$mnt/model.bin" "$mnt/model-copy.bin" && echo "   contents identical"
echo "== extents of the copy on the backing filesystem (filefrag does not work through FUSE):"
filefrag -v "$backing/model-copy.bin" | sed -n '1,6p'
echo "== fastfs stats $mnt"
"$fastfs" stats "$mnt"
echo
echo "fastfs stays mounted on $mnt. Unmount with: umount $mnt   (or: scripts/demo.sh --stop)"
