#!/usr/bin/env bash
# Installs dependencies, builds fastfs, mounts it, and shows an accelerated copy inside the mount.
#   scripts/demo.sh                      makes a small XFS image (reflink=1) and mounts fastfs over it
#   scripts/demo.sh BACKING [MOUNTPOINT] mounts fastfs over BACKING (default mountpoint /mnt/fast)
#   scripts/demo.sh --stop               undoes exactly what the demo did, and nothing else
#
# Everything the demo makes (directories, the image, the loop device, mounts, its files in BACKING) is
# written to a state file as it is made; --stop undoes those records, newest first, and leaves everything
# else alone: a fastfs the user mounted at /mnt/fast (from fstab, say) is not the demo's.
#
# Environment (the ops test uses these; the defaults are for people):
#   FASTFS_DEMO_BINARY  a built fastfs to use: no package install, no build
#   FASTFS_DEMO_STATE   the state file (default /var/tmp/fastfs-demo.state: it outlives a reboot, as the image does)
#   FASTFS_DEMO_DIR     where the image and its mounts go without BACKING (default /var/tmp/fastfs-demo)
#   FASTFS_DEMO_MIB     size of the demo file in MiB (default 1024)
set -euo pipefail
# Paths given relative to the caller's directory, before the cd to the repository.
state=$(realpath -m "${FASTFS_DEMO_STATE:-/var/tmp/fastfs-demo.state}")
demo=$(realpath -m "${FASTFS_DEMO_DIR:-/var/tmp/fastfs-demo}")
mib=${FASTFS_DEMO_MIB:-1024}
[ -n "${FASTFS_DEMO_BINARY:-}" ] && FASTFS_DEMO_BINARY=$(realpath "$FASTFS_DEMO_BINARY")
if [ "${1:-}" != "--stop" ] && [ $# -ge 1 ]; then
  backing=$(realpath -m "$1")
  mnt=$(realpath -m "${2:-/mnt/fast}")
fi
cd "$(dirname "$0")/.."

say() { echo "fastfs demo: $*"; }
die() {
  echo "fastfs demo: $*" >&2
  exit 1
}
boot_id() { cat /proc/sys/kernel/random/boot_id; }

# One record per line, tab-separated: KIND, then its fields. Appended as soon as the thing exists.
record() { (IFS=$'\t'; echo "$*") >>"$state"; }

# The mount ID of the topmost mount at $1, if $1 is a mount point.
top_mount_id() { findmnt -rn -o ID --mountpoint "$1" 2>/dev/null | tail -n 1; }

# mkdir -p that records each directory it makes, outermost first.
make_dirs() {
  local path=$1 missing=()
  while [ ! -e "$path" ]; do
    missing=("$path" "${missing[@]}")
    path=$(dirname "$path")
  done
  for path in "${missing[@]}"; do
    mkdir "$path"
    record dir "$path"
  done
}

# A mount just made at $1: its mount ID, so that --stop unmounts this mount and never one made later.
record_mount() { record mount "$(top_mount_id "$1")" "$1"; }

# Undoes one record; returns non-zero (and says why) if it could not, so the record is kept.
undo() {
  local kind=$1 a=${2:-} b=${3:-}
  case $kind in
  boot) ;;
  file)
    [ -e "$a" ] || return 0
    rm -f -- "$a" && say "removed $a"
    ;;
  dir)
    [ -d "$a" ] || return 0
    rmdir -- "$a" 2>/dev/null && say "removed $a" && return 0
    if findmnt -rn --mountpoint "$a" >/dev/null; then
      say "cannot remove $a: something is mounted on it"
      return 1
    fi
    say "left $a: it holds files the demo did not make"
    ;;
  mount)  # mount ID, target
    [ "$same_boot" = yes ] || return 0
    if ! findmnt -rn -o ID | grep -qx "$a"; then return 0; fi
    if [ "$(top_mount_id "$b")" != "$a" ]; then
      say "cannot unmount $b: something else is mounted over the demo's mount"
      return 1
    fi
    umount "$b" && say "unmounted $b"
    ;;
  loop)  # device, image
    [ "$same_boot" = yes ] || return 0
    [ "$(losetup -n -O BACK-FILE "$a" 2>/dev/null | sed 's/ *$//')" = "$b" ] || return 0
    losetup -d "$a" && say "detached $a"
    ;;
  *) say "unknown record '$kind' in $state" ;;
  esac
}

stop() {
  if [ ! -s "$state" ]; then
    say "nothing to undo (no state file $state)"
    return 0
  fi
  local lines=() i kind a b
  mapfile -t lines <"$state"
  same_boot=no
  [ "$(head -n 1 "$state")" = "boot"$'\t'"$(boot_id)" ] && same_boot=yes
  # Newest first; at the first thing that cannot be undone, stop: what was made before it (the directory
  # a mount is on, the filesystem under it) stays, on record, for another --stop.
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    IFS=$'\t' read -r kind a b <<<"${lines[i]}"
    if ! undo "$kind" "$a" "$b"; then
      printf '%s\n' "${lines[@]:0:i+1}" >"$state.new" && mv "$state.new" "$state"
      die "stopped there; fix that and run scripts/demo.sh --stop again (what is left is in $state)"
    fi
  done
  rm -f "$state"
  say "undone everything the demo did"
}

if [ "${1:-}" = "--stop" ]; then
  stop
  exit 0
fi
[ "$(id -u)" = 0 ] || die "the demo needs root (it mounts fastfs and a loop image)"
[ -s "$state" ] && die "a demo is already set up ($state); run scripts/demo.sh --stop first"

if [ -n "${FASTFS_DEMO_BINARY:-}" ]; then
  fastfs=$FASTFS_DEMO_BINARY
else
  ./scripts/install-deps.sh
  BUILD_DIR=build ./scripts/build.sh
  fastfs=$PWD/build/fastfs
fi

if [ $# -ge 1 ]; then
  [ -d "$backing" ] || die "$backing is not a directory"
else
  mnt=$demo/mnt
fi
findmnt -rn --mountpoint "$mnt" >/dev/null && die "$mnt is a mount point already; give another MOUNTPOINT"

record boot "$(boot_id)"
# From here on a failure leaves records: --stop undoes what was made before it.
trap 'echo "fastfs demo: failed; scripts/demo.sh --stop undoes what was made" >&2' ERR
if [ $# -eq 0 ]; then
  [ -e "$demo/xfs.img" ] && die "$demo/xfs.img exists but is not the demo's (not in $state); remove it first"
  make_dirs "$demo"
  make_dirs "$demo/xfs"
  truncate -s 4G "$demo/xfs.img"
  record file "$demo/xfs.img"
  mkfs.xfs -q -f -m reflink=1 "$demo/xfs.img"
  loop=$(losetup --find --show "$demo/xfs.img")
  record loop "$loop" "$demo/xfs.img"
  mount "$loop" "$demo/xfs"
  record_mount "$demo/xfs"
  backing=$demo/xfs
fi
make_dirs "$mnt"
"$fastfs" "$backing" "$mnt"   # daemonizes once mounted
record_mount "$mnt"
echo "== mounted:"; findmnt -n -o TARGET,SOURCE,FSTYPE --mountpoint "$mnt"

# The demo's files go in a directory of their own, which must be new: nothing of the user's is overwritten.
files="fastfs-demo"
[ -e "$backing/$files" ] && die "$backing/$files exists; it is not the demo's"
make_dirs "$backing/$files"
record file "$backing/$files/model.bin"
record file "$backing/$files/model-copy.bin"

echo "== writing a $mib MiB file through the mount"
dd if=/dev/urandom of="$mnt/$files/model.bin" bs=1M count="$mib" conv=fsync status=none
echo "== cp inside the mount (copy_file_range -> FUSE COPY_FILE_RANGE -> reflink or sparse copy)"
start=$(date +%s%N)
cp "$mnt/$files/model.bin" "$mnt/$files/model-copy.bin"
echo "   cp took $(( ($(date +%s%N) - start) / 1000000 )) ms"
cmp "$mnt/$files/model.bin" "$mnt/$files/model-copy.bin" && echo "   contents identical"
echo "== extents of the copy on the backing filesystem (filefrag does not work through FUSE):"
filefrag -v "$backing/$files/model-copy.bin" | sed -n '1,6p'
echo "== fastfs stats $mnt"
"$fastfs" stats "$mnt"
echo
echo "fastfs stays mounted on $mnt. Undo everything the demo did: scripts/demo.sh --stop   (state: $state)"
