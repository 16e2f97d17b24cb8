#!/usr/bin/env bash
# Fetches and unpacks the source of Debian's `fuse3` package (libfuse) from a newer Debian suite than the
# system's, with Debian's own tools. cmake/Libfuse.cmake runs it at configure time when the system's libfuse3
# is too old; it can be run by hand as well.
#
#   scripts/fetch-fuse3-source.sh DEST [DEBIAN_VERSION]
#
# DEST receives apt/ (a private sources list, package lists and cache), the downloaded .dsc and tarballs, and
# the unpacked tree fuse3-<upstream version>/, whose path is printed on stdout. DEBIAN_VERSION (e.g. 3.18.3-1)
# pins the package version; without it the newest version the suites serve is taken. Once DEST holds an
# unpacked tree (of the pinned version, if one is given), a run prints it and touches no network.
#
# Environment:
#   FASTFS_DEBIAN_MIRROR   archive to use (default: the one the system's own apt sources use for its Debian
#                          release, so a local mirror or proxy configured there serves this too)
#   FASTFS_DEBIAN_SUITES   suites to look in (default "sid trixie": trixie still serves 3.17 if sid ever lacks
#                          the package; fastfs then builds without io_uring)
#
# The system's apt configuration and state are left alone: the sources list, lists and cache are DEST's own
# (on a stock Debian the package cache files would otherwise be rebuilt from our lists). Plain http is fine:
# apt checks the suites' signatures against Debian's archive keyring, the signed Sources index carries the
# .dsc's hashes and the .dsc the tarballs' hashes, which dpkg-source checks when unpacking.
set -euo pipefail

dest=${1:?usage: fetch-fuse3-source.sh DEST [DEBIAN_VERSION]}
pin=${2:-}
suites=${FASTFS_DEBIAN_SUITES:-sid trixie}
oldest=3.17 # fuse_passthrough_open(); io_uring needs 3.18
stamp_name=.fastfs-unpacked

say() { echo "fetch-fuse3-source: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# An unpacked tree from an earlier run: its stamp holds the Debian version it came from.
find_unpacked() {
    local stamp
    for stamp in "$dest"/fuse3-*/"$stamp_name"; do
        [ -f "$stamp" ] || continue
        if [ -z "$pin" ] || [ "$(cat "$stamp")" = "$pin" ]; then
            dirname "$stamp"
            return 0
        fi
    done
    return 1
}

if tree=$(find_unpacked); then
    echo "$tree"
    exit 0
fi

mirror=$("$(dirname "$0")/debian-archive.sh") ||
    die "no Debian archive found in the system's apt sources for its release; set FASTFS_DEBIAN_MIRROR"

for tool in apt-get dpkg-source dpkg; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs dpkg-dev)"
done
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
apt_dir=$dest/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed_by=""
[ -f "$keyring" ] && signed_by="[signed-by=$keyring] "
: >"$apt_dir/sources.list"
for suite in $suites; do
    echo "deb-src ${signed_by}$mirror $suite main" >>"$apt_dir/sources.list"
done

apt_options=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o APT::Default-Release= # a system-wide default release names none of these suites
)
# As root apt downloads as the _apt user, who cannot write into a root-owned build tree.
[ "$(id -u)" = 0 ] && apt_options+=(-o APT::Sandbox::User=root)

say "looking for Debian's fuse3 source in: $suites ($mirror)"
apt-get "${apt_options[@]}" -qq update ||
    die "apt-get update of the private source lists failed (is $mirror reachable?)"
package=fuse3${pin:+=$pin}
(cd "$dest" && apt-get "${apt_options[@]}" -qq --download-only source "$package") ||
    die "apt-get source $package failed"
# Only needed to find the package; tens of MB.
rm -rf "$apt_dir/lists" "$apt_dir/cache"

# The .dsc just downloaded: the pinned version, else the newest present.
if [ -n "$pin" ]; then
    dsc=$dest/fuse3_${pin#*:}.dsc
else
    dsc=$(printf '%s\n' "$dest"/fuse3_*.dsc | sort -V | tail -n 1)
fi
[ -f "$dsc" ] || die "no .dsc after the download (looked for $dsc)"
debian_version=$(sed -n 's/^Version: *//p' "$dsc" | head -n 1)
upstream=${debian_version#*:}
upstream=${upstream%-*}
dpkg --compare-versions "$upstream" ge "$oldest" ||
    die "Debian serves fuse3 $upstream; fastfs needs libfuse $oldest or newer"

tree=$dest/fuse3-$upstream
rm -rf "$tree" "$tree.partial"
# dpkg-source checks the tarballs against the .dsc. It cannot check the uploader's signature on the .dsc
# without debian-keyring and says so; apt has already checked the .dsc itself against the signed index.
say "unpacking fuse3 $debian_version"
if ! dpkg-source --no-copy -x "$dsc" "$tree.partial" >"$dest/dpkg-source.log" 2>&1; then
    cat "$dest/dpkg-source.log" >&2
    die "dpkg-source -x $dsc failed"
fi
echo "$debian_version" >"$tree.partial/$stamp_name"
mv "$tree.partial" "$tree"
echo "$tree"
