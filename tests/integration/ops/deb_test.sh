#!/bin/bash
# Builds the .deb from the build tree with CPack and checks what an operator would get from it.
#
# usage: deb_test.sh CASE BUILD_DIR VERSION LIBFUSE
#   CASE:    contents (control fields, files, lintian) or install (install, upgrade, reinstall and purge in
#            a fresh Debian 12 root, made with debootstrap once per build tree and kept as a tarball in
#            BUILD_DIR/_deps, with the dependencies' packages; delete BUILD_DIR/_deps/debootstrap-bookworm*
#            to make them again, e.g. when the archive no longer serves a version the root's lists name)
#   LIBFUSE: bundled (libfuse linked statically, cmake/Libfuse.cmake) or system (the system's libfuse3)

OPS_CASE=${1:-}
BUILD_DIR=${2:?build directory}
VERSION=${3:?project version}
LIBFUSE=${4:?bundled or system}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

case $OPS_CASE in
contents | root | install) ;;
*)
    echo "usage: $0 contents|root|install BUILD_DIR VERSION LIBFUSE" >&2
    exit 2
    ;;
esac

require_tool cpack dpkg dpkg-deb dpkg-shlibdeps file readelf
[ "$OPS_CASE" = contents ] && require_tool lintian
[ -f "$BUILD_DIR/CPackConfig.cmake" ] || cannot_set_up "no CPackConfig.cmake in $BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

if [ "$OPS_CASE" != contents ] && [ -z "${OPS_IN_PRIVATE_NAMESPACE:-}" ]; then
    [ "$(id -u)" -eq 0 ] || cannot_set_up "needs root"
    require_tool unshare
    export OPS_IN_PRIVATE_NAMESPACE=1
    # The root's /proc and /dev (and whatever debootstrap mounts) go with this namespace even if we are
    # killed. exec: our EXIT trap has nothing to clean yet and must not run twice.
    exec unshare -m --propagation private "$BASH" "$0" "$@"
fi

make_scratch
arch=$(dpkg --print-architecture)

# build_deb DIR [CPACK ARGUMENTS]: the package of the build tree, written into DIR; its path on stdout.
build_deb() {
    local dir=$1 built
    shift
    mkdir -p "$dir"
    if ! cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$dir" "$@" >"$dir/cpack.log" 2>&1; then
        cat "$dir/cpack.log" >&2
        fail "cpack -G DEB $* failed"
        exit 1
    fi
    built=$(cd "$dir" && ls ./*.deb 2>/dev/null)
    if [ -z "$built" ] || [ "$(wc -l <<<"$built")" -ne 1 ]; then
        fail "cpack wrote not one .deb into $dir but: $built"
        exit 1
    fi
    echo "$dir/${built#./}"
}

if [ "$OPS_CASE" != root ]; then  # the root case makes no package: it may run beside mounting tests
    deb=$(build_deb "$SCRATCH/deb") || exit 1
    expect_eq "$(basename "$deb")" "fastfs_${VERSION}_${arch}.deb" "file name of the package"
fi

case_contents() {
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
        ./usr/share/man/man8/mount.fastfs.8.gz ./usr/share/man/man8/fastfs-docker-plugin.8.gz \
        ./usr/share/doc/fastfs/copyright ./usr/share/doc/fastfs/changelog.gz \
        ./usr/share/doc/fastfs/operations.md ./usr/share/doc/fastfs/containers.md \
        ./usr/share/doc/fastfs/consistency.md ./usr/share/doc/fastfs/kubernetes.md \
        ./usr/share/doc/fastfs/examples/mnt-fast.mount ./usr/share/doc/fastfs/examples/fastfs-fuse-io-uring.conf \
        ./usr/sbin/fastfs-docker-plugin \
        ./usr/lib/systemd/system/fastfs-docker-plugin.service; do
        grep -qx -- "$path" "$SCRATCH/contents" || fail "package lacks $path"
    done
    # fastfs-csi is built unless gRPC is missing outside CI (src/csi/CMakeLists.txt).
    HAVE_CSI=false
    [ -x "$BUILD_DIR/fastfs-csi" ] && HAVE_CSI=true
    if $HAVE_CSI; then
        for path in ./usr/sbin/fastfs-csi ./usr/share/man/man8/fastfs-csi.8.gz; do
            grep -qx -- "$path" "$SCRATCH/contents" || fail "package lacks $path"
        done
    fi
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
        # Each page renders without a warning, names the others, and names only guides the package ships.
        for page in fastfs mount.fastfs fastfs-docker-plugin; do
            man_text=$(MANWIDTH=80 man --warnings -l "$root/usr/share/man/man8/$page.8.gz" 2>"$SCRATCH/man.err")
            expect_contains "$man_text" "$page - " "man page $page(8) renders"
            [ ! -s "$SCRATCH/man.err" ] || fail "$page(8) warnings: $(head -3 "$SCRATCH/man.err")"
            for guide in $(grep -o '[a-z]*\.md' <<<"$man_text" | sort -u); do
                [ -f "$root/usr/share/doc/fastfs/$guide" ] || fail "$page(8) names $guide, which the package lacks"
            done
        done
        man_text=$(MANWIDTH=80 man -l "$root/usr/share/man/man8/fastfs.8.gz" 2>/dev/null)
        expect_contains "$man_text" "mount.fastfs(8)" "fastfs(8) SEE ALSO"
        expect_contains "$man_text" "fastfs-docker-plugin(8)" "fastfs(8) SEE ALSO"
    fi
    expect_eq "$(head -n 1 "$root/usr/share/doc/fastfs/copyright")" \
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" "copyright is DEP-5"
    expect_contains "$(zcat "$root/usr/share/doc/fastfs/changelog.gz" | head -n 1)" "fastfs ($VERSION)" \
        "changelog's latest entry"
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

    # lintian, as a Debian maintainer would run it: no error, no warning (informational tags are fine).
    lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$SCRATCH/lintian.out" 2>"$SCRATCH/lintian.err"
    status=$?
    cat "$SCRATCH/lintian.out" >&2
    # Exit 2: a tag of --fail-on's levels; anything else but 0: lintian itself failed.
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
        fail "lintian could not check the package (exit $status): $(grep -v '^running with root' "$SCRATCH/lintian.err" | tail -n 1)"
    elif [ "$status" -eq 2 ] || grep -qE '^[EW]: ' "$SCRATCH/lintian.out"; then
        fail "lintian: $(grep -cE '^[EW]: ' "$SCRATCH/lintian.out") errors or warnings, first: $(grep -m 1 -E '^[EW]: ' "$SCRATCH/lintian.out")"
    fi
    return 0
}

# Runs a command in the root $ROOT with a clean environment.
in_root() {
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        "$@"
}

# apt-get in $ROOT, its output in $SCRATCH/apt.log. Downloads as root: the package cache is a directory of
# the build tree, bound in.
root_apt_get() {
    in_root apt-get -q -y -o APT::Sandbox::User=root "$@" >>"$SCRATCH/apt.log" 2>&1
}

# mount_in_root DIR MOUNT-ARGUMENTS...: mounts at DIR of $ROOT, undone at cleanup (the namespace would too).
mount_in_root() {
    local target=$ROOT$1
    shift
    mkdir -p "$target"
    mount "$@" "$target" || cannot_set_up "mount $* $target"
    on_cleanup "umount '$target' || umount -l '$target'"
}

# A minimal Debian 12 root with its package lists, as a tarball at $1: made by debootstrap the first time.
make_root_tarball() {
    local tarball=$1 mirror staging=$SCRATCH/debootstrap
    require_tool debootstrap tar
    mirror=$("$SOURCE_ROOT/scripts/debian-archive.sh") ||
        cannot_set_up "no Debian archive in the system's apt sources; set FASTFS_DEBIAN_MIRROR"
    log "debootstrap bookworm from $mirror into $tarball (once per build tree)"
    if ! debootstrap --variant=minbase bookworm "$staging" "$mirror" >"$SCRATCH/debootstrap.log" 2>&1; then
        tail -n 5 "$SCRATCH/debootstrap.log" >&2
        cannot_set_up "debootstrap bookworm from $mirror failed (is it reachable?)"
    fi
    cp -L /etc/resolv.conf "$staging/etc/resolv.conf" 2>/dev/null
    ROOT=$staging root_apt_get update || {
        tail -n 5 "$SCRATCH/apt.log" >&2
        cannot_set_up "apt-get update in the new root failed"
    }
    mkdir -p "$(dirname "$tarball")"
    tar -C "$staging" --numeric-owner -cf "$tarball.partial" . || cannot_set_up "tar of the new root"
    mv "$tarball.partial" "$tarball"
    rm -rf -- "$staging"
}

# Paths of the installed package (dpkg -L), one a line.
installed_paths() { in_root dpkg-query -L fastfs; }

expect_installed() {
    expect_eq "$(in_root dpkg-query -W -f '${Status} ${Version}' fastfs 2>&1)" "install ok installed $1" "$2: status"
    expect_eq "$(in_root dpkg -V fastfs 2>&1)" "" "$2: dpkg -V (files as packaged)"
    expect_contains "$(in_root fastfs --version 2>&1)" "$VERSION" "$2: fastfs --version"
    expect_contains "$(in_root fastfs-docker-plugin --version 2>&1)" "$VERSION" "$2: fastfs-docker-plugin --version"
    # The helper where mount(8) looks for it (/sbin, a link to usr/sbin) finds the installed daemon.
    expect_contains "$(in_root /sbin/mount.fastfs /backing /mnt/fast -fv 2>&1)" "would run /usr/sbin/../bin/fastfs /backing /mnt/fast" \
        "$2: mount.fastfs -fv"
    local path
    for path in /usr/share/man/man8/fastfs.8.gz /usr/share/man/man8/mount.fastfs.8.gz \
        /usr/share/man/man8/fastfs-docker-plugin.8.gz /usr/share/doc/fastfs/copyright /usr/share/doc/fastfs/changelog.gz; do
        [ -f "$ROOT$path" ] || fail "$2: $path missing"
    done
}

# The fresh root alone, as its own test (ctest fixture deb_root): debootstrap's minutes run beside other
# tests instead of inside the install case, which cpack makes run alone.
case_root() {
    local tarball=$BUILD_DIR/_deps/debootstrap-bookworm.tar
    [ -f "$tarball" ] || make_root_tarball "$tarball"
}

case_install() {
    require_tool chroot tar mount umount
    local tarball=$BUILD_DIR/_deps/debootstrap-bookworm.tar
    [ -f "$tarball" ] || make_root_tarball "$tarball"

    ROOT=$SCRATCH/root
    mkdir "$ROOT"
    tar -C "$ROOT" --numeric-owner -xf "$tarball" || cannot_set_up "cannot unpack $tarball"
    mount_in_root /proc -t proc proc
    mount_in_root /dev --bind /dev
    # The dependencies' packages are kept beside the tarball: after the first run nothing is downloaded.
    mkdir -p "$BUILD_DIR/_deps/debootstrap-bookworm-archives/partial"
    mount_in_root /var/cache/apt/archives --bind "$BUILD_DIR/_deps/debootstrap-bookworm-archives"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null

    # A second package of the same tree, one version up: the upgrade path.
    local upgrade_version=$VERSION+1 upgrade
    upgrade=$(build_deb "$SCRATCH/upgrade" -D "CPACK_PACKAGE_VERSION=$upgrade_version") || exit 1
    cp "$deb" "$upgrade" "$ROOT/tmp/"

    local first second
    first=/tmp/$(basename "$deb")
    second=/tmp/$(basename "$upgrade")
    # The archive was reachable when the root was made, and the dependencies were downloaded then.
    root_apt_get install "$first" || {
        tail -n 5 "$SCRATCH/apt.log" >&2
        fail "apt-get install $(basename "$deb") in a fresh bookworm root exited $?"
        exit 1
    }
    expect_installed "$VERSION" "install"
    installed_paths >"$SCRATCH/paths.first"

    root_apt_get install "$second" || fail "apt-get install of $upgrade_version over $VERSION exited $?"
    expect_installed "$upgrade_version" "upgrade"
    in_root dpkg -i "$second" >>"$SCRATCH/apt.log" 2>&1 || fail "dpkg -i of the installed version again exited $?"
    expect_installed "$upgrade_version" "reinstall"
    installed_paths >"$SCRATCH/paths"
    expect_eq "$(cat "$SCRATCH/paths")" "$(cat "$SCRATCH/paths.first")" "files of the upgrade"

    root_apt_get purge fastfs || fail "apt-get purge fastfs exited $?"
    expect_eq "$(in_root dpkg-query -W -f '${Status}' fastfs 2>/dev/null)" "" "status after purge"
    # Nothing of the package is left: no file, no link, no directory of its own (one still in use by others
    # is not empty).
    local path left=()
    while IFS= read -r path; do
        if [ -d "$ROOT$path" ] && [ ! -L "$ROOT$path" ]; then
            [ -n "$(ls -A "$ROOT$path")" ] || left+=("$path")
        elif [ -e "$ROOT$path" ] || [ -L "$ROOT$path" ]; then
            [ -d "$ROOT$path" ] || left+=("$path")
        fi
    done <"$SCRATCH/paths"
    [ ${#left[@]} -eq 0 ] || fail "purge left ${#left[@]} paths of the package: ${left[*]:0:5}"
    [ -z "$(ls "$ROOT"/var/lib/dpkg/info/fastfs.* 2>/dev/null)" ] || fail "purge left dpkg's fastfs.* files"
}

"case_$OPS_CASE"
