#!/bin/bash
# Builds the .deb from the build tree with CPack and checks what an operator would get from it.
#
# usage: deb_test.sh BUILD_DIR VERSION LIBFUSE
#   LIBFUSE: bundled (libfuse linked statically, cmake/Libfuse.cmake) or system (the system's libfuse3)

BUILD_DIR=${1:?build directory}
VERSION=${2:?project version}
LIBFUSE=${3:?bundled or system}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_tool cpack dpkg dpkg-deb dpkg-shlibdeps file readelf
[ -f "$BUILD_DIR/CPackConfig.cmake" ] || cannot_set_up "no CPackConfig.cmake in $BUILD_DIR"

make_scratch
arch=$(dpkg --print-architecture)
deb=$SCRATCH/fastfs_${VERSION}_${arch}.deb

if ! cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$SCRATCH" >"$SCRATCH/cpack.log" 2>&1; then
    cat "$SCRATCH/cpack.log" >&2
    fail "cpack -G DEB failed"
    exit 1
fi
[ -f "$deb" ] || {
    fail "cpack did not write $(basename "$deb"); it wrote: $(cd "$SCRATCH" && ls ./*.deb 2>/dev/null)"
    exit 1
}

# Control fields.
expect_eq "$(dpkg-deb -f "$deb" Package)" fastfs "Package"
expect_eq "$(dpkg-deb -f "$deb" Version)" "$VERSION" "Version"
expect_eq "$(dpkg-deb -f "$deb" Architecture)" "$arch" "Architecture"
expect_eq "$(dpkg-deb -f "$deb" Section)" admin "Section"
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
[ -n "$(dpkg-deb -f "$deb" Description)" ] || fail "no Description"
depends=$(dpkg-deb -f "$deb" Depends)
log "Depends: $depends"
# fuse3 by hand (fusermount3, mount.fuse3), the shared libraries by dpkg-shlibdeps.
depends_names=$(echo "$depends" | tr ',|' '\n' | sed 's/^ *//; s/[ (].*//')
for package in fuse3 libc6 libstdc++6; do
    grep -qxF -- "$package" <<<"$depends_names" || fail "Depends lacks $package"
done
# A libfuse built with the project is inside the binary; a system one is a library package (libfuse3-4).
libfuse_packages=$(grep -E '^libfuse' <<<"$depends_names" | tr '\n' ' ')
case $LIBFUSE in
bundled)
    [ -z "$libfuse_packages" ] || fail "Depends names a libfuse library, yet libfuse is linked in: $libfuse_packages"
    ;;
system) [ -n "$libfuse_packages" ] || fail "Depends lacks the system's libfuse3 library" ;;
*) fail "LIBFUSE must be bundled or system, not $LIBFUSE" ;;
esac
echo "$depends" | grep -q -- '-dev' && fail "Depends names a -dev package: $depends"

# Files: the binary, the helper where mount(8) looks, the man page; nothing from the build or tests.
dpkg-deb -c "$deb" | awk '{print $NF}' >"$SCRATCH/contents"
for path in ./usr/bin/fastfs ./sbin/mount.fastfs ./usr/share/man/man8/fastfs.8.gz \
    ./usr/share/doc/fastfs/operations.md ./usr/share/doc/fastfs/containers.md \
    ./usr/share/doc/fastfs/examples/mnt-fast.mount ./usr/sbin/fastfs-docker-plugin \
    ./usr/lib/systemd/system/fastfs-docker-plugin.service ./usr/share/doc/fastfs/kubernetes.md; do
    grep -qx -- "$path" "$SCRATCH/contents" || fail "package lacks $path"
done
# fastfs-csi is built unless gRPC is missing outside CI (src/csi/CMakeLists.txt).
HAVE_CSI=false
[ -x "$BUILD_DIR/fastfs-csi" ] && HAVE_CSI=true
$HAVE_CSI && ! grep -qx ./usr/sbin/fastfs-csi "$SCRATCH/contents" && fail "package lacks ./usr/sbin/fastfs-csi"
grep -Eq '(^|/)(build[^/]*|_CPack_Packages|var/tmp|work)/' "$SCRATCH/contents" &&
    fail "package holds build paths: $(grep -E '(build|_CPack|var/tmp|work)/' "$SCRATCH/contents" | head -3)"
grep -Eq '\.(a|h|hpp)$|gtest|_test$' "$SCRATCH/contents" &&
    fail "package holds development or test files: $(grep -E '\.(a|h|hpp)$|gtest|_test$' "$SCRATCH/contents" | head -3)"

# Unpacked: executable, runnable, readable.
root=$SCRATCH/root
dpkg -x "$deb" "$root" || fail "dpkg -x"
[ -x "$root/usr/bin/fastfs" ] || fail "usr/bin/fastfs is not executable"
[ -x "$root/sbin/mount.fastfs" ] || fail "sbin/mount.fastfs is not executable"
needed=$(readelf -d "$root/usr/bin/fastfs" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
log "NEEDED: $needed"
if [ "$LIBFUSE" = bundled ]; then
    grep -q 'libfuse' <<<"$needed" && fail "the packaged fastfs loads a libfuse: $needed"
fi
version_output=$("$root/usr/bin/fastfs" --version 2>&1) || fail "packaged fastfs --version exited $?"
expect_contains "$version_output" "$VERSION" "packaged fastfs --version"
if command -v man >/dev/null; then
    man_text=$(MANWIDTH=80 man -l "$root/usr/share/man/man8/fastfs.8.gz" 2>"$SCRATCH/man.err")
    expect_contains "$man_text" "mount.fastfs" "man page renders"
    [ ! -s "$SCRATCH/man.err" ] || fail "man page warnings: $(head -3 "$SCRATCH/man.err")"
fi
# The Docker volume plugin: runnable, and its unit starts the packaged program.
plugin_version=$("$root/usr/sbin/fastfs-docker-plugin" --version 2>&1) || fail "packaged fastfs-docker-plugin --version exited $?"
expect_contains "$plugin_version" "$VERSION" "packaged fastfs-docker-plugin --version"
expect_contains "$("$root/usr/bin/fastfs" docker-plugin --version 2>&1)" "fastfs-docker-plugin $VERSION" \
    "packaged fastfs docker-plugin finds the plugin in ../sbin"
expect_eq "$(sed -n 's/^ExecStart=//p' "$root/usr/lib/systemd/system/fastfs-docker-plugin.service")" \
    /usr/sbin/fastfs-docker-plugin "packaged unit's ExecStart"
# The Kubernetes CSI driver: runnable, also as `fastfs csi`.
if $HAVE_CSI; then
    csi_version=$("$root/usr/sbin/fastfs-csi" --version 2>&1) || fail "packaged fastfs-csi --version exited $?"
    expect_contains "$csi_version" "$VERSION" "packaged fastfs-csi --version"
    expect_contains "$("$root/usr/bin/fastfs" csi --version 2>&1)" "fastfs-csi $VERSION" \
        "packaged fastfs csi finds the driver in ../sbin"
fi
# The packaged helper in a fake run (-f): parses like mount(8) calls it and finds a fastfs to run.
helper_output=$(PATH="$root/usr/bin:$PATH" "$root/sbin/mount.fastfs" /backing /mnt/fast -fv -o rw,allow_other 2>&1) ||
    fail "packaged mount.fastfs -fv exited $?"
expect_contains "$helper_output" "would run" "packaged mount.fastfs -fv"
expect_contains "$helper_output" "/backing /mnt/fast -o rw,allow_other" "packaged mount.fastfs -fv"
exit 0
