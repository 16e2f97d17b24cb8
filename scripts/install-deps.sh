#!/usr/bin/env bash
# Installs what building, running and testing fastfs needs on Debian bookworm (run as root).
set -euo pipefail

# libfuse: Debian 12 has 3.14, fastfs wants 3.18. The build fetches Debian's fuse3 source package from a newer
# suite (apt-get source into the build tree, dpkg-source from dpkg-dev), builds it with meson and links it
# statically (cmake/Libfuse.cmake); liburing and libnuma give it FUSE over io_uring. A system libfuse3-dev
# >= 3.18, where one is installed, is used instead. fuse3 brings fusermount3 and mount.fuse3 either way.
packages=(
  build-essential cmake ninja-build pkg-config              # toolchain
  fuse3 libspdlog-dev libcli11-dev libgtest-dev             # libraries
  meson liburing-dev libnuma-dev debian-archive-keyring     # building libfuse from Debian's source
  libcpp-httplib-dev nlohmann-json3-dev                     # the Docker volume plugin's HTTP and JSON
  libsystemd-dev                                            # logging to the journal
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler  # the CSI driver's gRPC (1.51, protobuf 3.21)
  xfsprogs btrfs-progs e2fsprogs util-linux                 # mkfs.*, filefrag, losetup, mount
  attr acl python3 strace                                   # test clients: getfattr/setfacl, python, strace
  dpkg-dev file                                             # dpkg-source; cpack -G DEB: dpkg-shlibdeps, file
  lintian debootstrap                                       # the .deb's test: lintian, a fresh bookworm root
  systemd                                                   # systemd-analyze verify for the example unit
  docker.io docker-compose curl                             # container tests: dockerd, compose, plugin calls by hand
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fastfs: installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# /dev/fuse comes from the fuse module; load it if the node is missing (no-op in most kernels).
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
