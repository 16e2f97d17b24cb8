#!/usr/bin/env python3
"""Tree copies (`fastfs clone -r`, `fastfs copy -r`, issue 11) through a real mount, against `cp -a`.

On one real loop-mounted filesystem (--fs xfs|btrfs|ext4, mounted noatime so that reading a tree for the
comparison does not change it) with fastfs mounted over it (allow_other):

  same as cp -a  a tree with nested and empty directories, empty, dense and sparse files, a 4.5 GiB
                 fallocated file with data past 4 GiB, symlinks (relative, absolute, dangling, out of the
                 tree, to a directory), hard links within and across directories (a file and a fifo), a
                 fifo, a socket, a device node (root), user xattrs, access and default ACLs, set-id and
                 sticky modes, a read-only directory, odd names (spaces, a newline, non-UTF-8 bytes), a
                 deep path, foreign owners (root), nanosecond times; copied through the mount and outside
                 it, as root and as uid 1000 (setpriv), compared entry by entry with `cp -a
                 --reflink=always` (`cp -a` on ext4) run natively by the same user: type, mode, owner,
                 size, times (ns), link count, device numbers, symlink targets, xattrs, contents, which
                 names are one inode
  blocks         XFS, btrfs: every copied extent has the source's physical address (FIEMAP on the
                 backing); ext4: holes kept (no more blocks than the source)
  very deep      a tree deeper than PATH_MAX (which cp -a cannot copy) copied whole
  rights         uid 1000 without read access to one file gets EACCES naming it and no tree; copying into
                 a directory it cannot write gets EACCES; nothing left either way
  interrupted    killing the client part-way (SIGKILL) and Ctrl-C (SIGINT) leave nothing, and the daemon
                 stays healthy: same descriptors, no open files counted, copies work after; Ctrl-C of
                 the command copying outside a mount leaves nothing either
  concurrent     two copies of one source at once both complete (while uid 1000 lists the mount, so the
                 daemon's threads switch users); two to one DST: one wins, one EEXIST
  ext4 only      clone -r refused cleanly (no reflink); ENOSPC part-way on a small image leaves nothing
  xfs only       copy -r from the XFS backing into an ext4 mounted inside it, through one mount: the same as
                 cp -a, holes kept; clone -r there refused in one line, nothing left

  treetest.py --binary BUILD/fastfs --fs xfs
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import hashlib
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

USER, OTHER, GROUP = 1000, 1001, 1002
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
BLOCK = 4096
BIG_FILE = 4 * GIB + 512 * MIB
FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_DATA_INLINE, FIEMAP_EXTENT_UNWRITTEN, FIEMAP_EXTENT_SHARED = 0x200, 0x800, 0x2000


class Failures:
    def __init__(self):
        self.items: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.items.append(what)
            print(f"  FAIL: {what}", flush=True)
        return ok


def as_user(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] if uid != 0 else []


def run(cmd: list[str], uid: int = 0, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(as_user(uid) + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=timeout)


# ---- building the source tree, by descriptors ------------------------------------------------------------

class Tree:
    """Creates entries below `top` by names relative to it (bytes or str, '/'-separated)."""

    def __init__(self, top: Path):
        self.top = top
        top.mkdir()
        self.times: list[bytes] = []  # every entry, children before parents (times set last)

    def _at(self, rel):
        rel = os.fsencode(rel)
        parent, _, name = rel.rpartition(b"/")
        fd = os.open(self.top / os.fsdecode(parent) if parent else self.top, os.O_RDONLY | os.O_DIRECTORY)
        return fd, name

    def do(self, rel, action):
        fd, name = self._at(rel)
        try:
            action(fd, name)
        finally:
            os.close(fd)
        self.times.insert(0, os.fsencode(rel))

    def mkdir(self, rel, mode=0o755):
        self.do(rel, lambda fd, name: os.mkdir(name, mode, dir_fd=fd))

    def write(self, rel, pieces=((0, b""),), size=None, mode=0o644):
        def make(fd, name):
            f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, dir_fd=fd)
            try:
                for offset, data in pieces:
                    os.pwrite(f, data, offset)
                if size is not None:
                    os.ftruncate(f, size)
            finally:
                os.close(f)
        self.do(rel, make)

    def fallocate(self, rel, allocated, data_at, data):
        def make(fd, name):
            f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
            try:
                H.fallocate(f, 0, 0, allocated)
                os.pwrite(f, data, data_at)
                os.ftruncate(f, BIG_FILE)
            finally:
                os.close(f)
        self.do(rel, make)

    def symlink(self, rel, target):
        self.do(rel, lambda fd, name: os.symlink(target, name, dir_fd=fd))

    def link(self, existing, rel):
        src_fd, src_name = self._at(existing)
        try:
            self.do(rel, lambda fd, name: os.link(src_name, name, src_dir_fd=src_fd, dst_dir_fd=fd))
        finally:
            os.close(src_fd)

    def mknod(self, rel, mode, device=0):
        self.do(rel, lambda fd, name: os.mknod(name, mode, device, dir_fd=fd))

    def path(self, rel) -> Path:
        return self.top / os.fsdecode(os.fsencode(rel))

    def set_times(self):
        """Distinct nanosecond times on every entry, directories after their contents."""
        for i, rel in enumerate(self.times):
            fd, name = self._at(rel)
            try:
                ns = 1_500_000_000 * 10**9 + i * 1_000_003_007
                os.utime(name, ns=(ns + 777_000_001, ns), dir_fd=fd, follow_symlinks=False)
            finally:
                os.close(fd)
        os.utime(self.top, ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))


def random_bytes(n: int, seed: int) -> bytes:
    return hashlib.shake_256(str(seed).encode()).digest(n)


def build_tree(top: Path, fstype: str, root_only: bool) -> Tree:
    t = Tree(top)
    for d in ("empty-dir", "nested", "nested/a", "nested/a/b", "nested/a/b/c", "files", "links", "hard",
              "special", "xattrs", "acls", "modes", "names", "deep"):
        t.mkdir(d)
    t.write("nested/a/b/c/leaf.txt", ((0, b"leaf\n"),))
    t.write("files/empty")
    t.write("files/dense.bin", ((0, random_bytes(MIB + 123, 1)),))
    t.write("files/sparse.bin", ((0, random_bytes(64 * KIB, 2)), (10 * MIB, random_bytes(4 * KIB, 3))),
            size=40 * MIB)
    # Fully allocated on XFS and btrfs (a clone shares it at no cost). On ext4 only its first 64 MiB: cp -a
    # reads a file that does not look sparse through all its unwritten blocks, and a reader leaves them
    # cached, after which SEEK_DATA calls them data.
    t.fallocate("files/big-fallocated", BIG_FILE if fstype != "ext4" else 64 * MIB, 4 * GIB + 64 * MIB,
                random_bytes(64 * KIB, 4))
    t.symlink("links/relative", "../files/dense.bin")
    t.symlink("links/absolute", "/etc/hostname")
    t.symlink("links/dangling", "does-not-exist")
    t.symlink("links/outside", "../../outside-the-tree/secret")
    t.symlink("links/dir-link", "../nested")
    t.write("hard/one", ((0, b"one inode, three names\n"),))
    t.link("hard/one", "hard/two")
    t.link("hard/one", "files/third-name")
    t.mknod("special/fifo", stat.S_IFIFO | 0o640)
    t.link("special/fifo", "hard/fifo-link")
    t.mknod("special/socket", stat.S_IFSOCK | 0o600)
    if root_only:
        t.mknod("special/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    t.write("xattrs/file", ((0, b"x\n"),))
    os.setxattr(t.path("xattrs/file"), "user.plain", b"value")
    os.setxattr(t.path("xattrs/file"), "user.binary", b"\x00\x01\xff")
    os.setxattr(t.path("xattrs"), "user.on-dir", b"d")
    t.write("acls/file", ((0, b"acl\n"),), mode=0o640)
    t.mkdir("acls/dir", 0o750)
    for args in (["-m", f"u:{OTHER}:rw-,g:{GROUP}:r--", "acls/file"], ["-m", f"u:{OTHER}:r-x", "acls/dir"],
                 ["-d", "-m", f"u:{OTHER}:rwx,g:{GROUP}:r-x", "acls/dir"]):
        H.run(["setfacl"] + args[:-1] + [str(t.path(args[-1]))])
    t.write("modes/setuid", ((0, b"#!/bin/true\n"),), mode=0o4755)
    t.mkdir("modes/setgid-dir", 0o2775)
    t.mkdir("modes/sticky", 0o1777)
    t.write("modes/private", ((0, b"mine\n"),), mode=0o600)
    t.mkdir("modes/read-only-dir", 0o755)
    t.write("modes/read-only-dir/inside", ((0, b"in\n"),))
    for name in ("with space", "new\nline", b"latin1-\xe9\xff", "-dash", "\u00fcn\u00efcode", ".hidden"):
        t.write(os.fsencode("names/") + os.fsencode(name), ((0, b"odd\n"),))
    rel = b"deep"
    for level in range(30):  # about 3 KiB of path: below PATH_MAX, which cp -a needs
        rel += b"/" + (b"%02d" % level) * 50
        t.mkdir(rel)
    t.write(rel + b"/bottom", ((0, b"bottom\n"),))
    if root_only:
        t.mkdir("owners", 0o755)
        t.write("owners/file", ((0, b"theirs\n"),))
        t.symlink("owners/link", "file")
        for rel_path in ("owners/file", "owners/link", "owners"):
            os.chown(t.path(rel_path), OTHER, GROUP, follow_symlinks=False)
    os.chmod(t.path("modes/read-only-dir"), 0o555)
    t.set_times()
    return t


def chown_tree(top: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
    os.chown(top, uid, uid)


# ---- reading a tree back ---------------------------------------------------------------------------------

def data_map(fd: int, size: int) -> list[tuple[int, int]]:
    return H.data_map(fd, size) or [(0, size)]


def content_digest(fd: int, size: int) -> str:
    """The file's bytes as a reader sees them, holes and zeros alike: a hash of every non-zero block."""
    digest = hashlib.sha256()
    zero = bytes(BLOCK)
    done = 0  # blocks are read whole and aligned, so the hash does not depend on where data segments start
    for start, end in data_map(fd, size):
        at = max(done, start - start % BLOCK)
        end = min(size, end + (-end) % BLOCK)
        done = max(done, end)
        while at < end:
            chunk = os.pread(fd, min(MIB, end - at), at)
            if not chunk:
                break
            for i in range(0, len(chunk), BLOCK):
                block = chunk[i:i + BLOCK]
                if block != zero[:len(block)]:
                    digest.update(struct.pack("Q", at + i) + block)
            at += len(chunk)
    digest.update(struct.pack("Q", size))
    return digest.hexdigest()


def xattrs_of(fd: int) -> dict[str, bytes]:
    try:
        return {name: os.getxattr(fd, name) for name in sorted(os.listxattr(fd))}
    except OSError as e:
        return {"<error>": str(e.errno).encode()}


def describe(dir_fd: int, name: str, st: os.stat_result) -> dict:
    kind = stat.S_IFMT(st.st_mode)
    item = {"type": kind, "mode": oct(stat.S_IMODE(st.st_mode)), "uid": st.st_uid, "gid": st.st_gid,
            "mtime": st.st_mtime_ns, "atime": st.st_atime_ns, "nlink": st.st_nlink}
    if stat.S_ISLNK(kind):
        item["target"] = os.readlink(name, dir_fd=dir_fd)
    if stat.S_ISCHR(kind) or stat.S_ISBLK(kind):
        item["rdev"] = st.st_rdev
    if stat.S_ISREG(kind) or stat.S_ISDIR(kind) or stat.S_ISFIFO(kind):
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            item["xattrs"] = xattrs_of(fd)
            if stat.S_ISREG(kind):
                item["size"] = st.st_size
                item["content"] = content_digest(fd, st.st_size)
        finally:
            os.close(fd)
    return item


def snapshot(top: Path) -> dict[bytes, dict]:
    """Every entry below `top` (and `top` itself, as b".") by relative path; descriptors, not paths, so
    trees deeper than PATH_MAX read too. Names that are one inode are listed in "links"."""
    entries: dict[bytes, dict] = {}
    inodes: dict[int, list[bytes]] = {}
    top_fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    entries[b"."] = describe(top_fd, ".", os.stat(top_fd))
    stack = [(top_fd, b"")]
    while stack:
        fd, prefix = stack.pop()
        try:
            for entry in os.scandir(fd):
                rel = prefix + os.fsencode(entry.name)
                st = entry.stat(follow_symlinks=False)
                entries[rel] = describe(fd, entry.name, st)
                if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
                if stat.S_ISDIR(st.st_mode):
                    stack.append((os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd),
                                  rel + b"/"))
        finally:
            os.close(fd)
    for names in inodes.values():
        for rel in names:
            entries[rel]["links"] = sorted(names)
    return entries


def differences(got: dict, want: dict, limit: int = 8) -> list[str]:
    out = []
    for rel in sorted(set(got) | set(want)):
        if rel not in got:
            out.append(f"{rel!r} missing")
        elif rel not in want:
            out.append(f"{rel!r} extra")
        elif got[rel] != want[rel]:
            diff = {k: (got[rel].get(k), want[rel].get(k)) for k in set(got[rel]) | set(want[rel])
                    if got[rel].get(k) != want[rel].get(k)}
            out.append(f"{rel!r}: {diff}")
        if len(out) >= limit:
            break
    return out


def fiemap(path: Path) -> list[tuple[int, int, int, int]]:
    """(logical, physical, length, flags) of every extent, from the backing filesystem."""
    count = 1024
    fd = os.open(path, os.O_RDONLY)
    try:
        request = bytearray(struct.pack("QQIIII", 0, 2**64 - 1, FIEMAP_FLAG_SYNC, 0, count, 0))
        request += bytes(56 * count)
        fcntl.ioctl(fd, FS_IOC_FIEMAP, request)
    finally:
        os.close(fd)
    mapped = struct.unpack_from("I", request, 20)[0]
    return [struct.unpack_from("QQQ16xI", request, 32 + 56 * i)[:4] for i in range(mapped)]


def written_extents(extents) -> list[tuple[int, int, int]]:
    """Extents holding data in blocks of their own, with neighbours that continue each other on disk merged,
    so two maps of the same blocks compare equal. Unwritten extents read as zeros and are not shared by a
    reflink; btrfs keeps small files inline in its metadata and copies them on a reflink."""
    merged: list[list[int]] = []
    for logical, physical, length, flags in extents:
        if flags & (FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE):
            continue
        last = merged[-1] if merged else None
        if last and last[0] + last[2] == logical and last[1] + last[2] == physical:
            last[2] += length
        else:
            merged.append([logical, physical, length])
    return [tuple(e) for e in merged]


def daemon_fds(pid: int) -> list[str]:
    """What the daemon's descriptors point at, but the /dev/fuse clones of worker threads (libfuse starts
    more threads under load and lets idle ones go)."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target != "/dev/fuse":
            targets.append(f"{fd} -> {target}")
    return targets


def regular_files(top: Path):
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


# ---- the cases -------------------------------------------------------------------------------------------

class Case:
    def __init__(self, args, fstype: str, backing: Path, mount: H.FastfsMount, failures: Failures):
        self.binary, self.fstype, self.backing, self.mount, self.f = args.binary, fstype, backing, mount, failures
        self.reflinks = fstype in ("xfs", "btrfs")

    def fastfs(self, *words: str, uid: int = 0) -> subprocess.CompletedProcess:
        return run([self.binary, *words], uid=uid)

    def native_cp(self, src: Path, dst: Path, uid: int) -> subprocess.CompletedProcess:
        how = ["--reflink=always"] if self.reflinks else ["--sparse=always"]
        return run(["cp", "-a", *how, str(src), str(dst)], uid=uid)

    def via(self, backing_path: Path) -> Path:
        return self.mount.path / backing_path.relative_to(self.backing)

    def leftovers(self, directory: Path) -> list[str]:
        return [n for n in os.listdir(directory) if n.startswith(".fastfs-tree-")]

    def tree_command(self) -> str:
        return "clone" if self.reflinks else "copy"

    # same as cp -a ------------------------------------------------------------------------------------
    def same_as_cp(self, who: str, uid: int) -> None:
        print(f"same as cp -a, {who}:", flush=True)
        work = self.backing / f"work-{uid}"
        work.mkdir()
        os.chown(work, uid, uid)
        src = work / "src"
        build_tree(src, self.fstype, root_only=(uid == 0))
        if uid != 0:
            chown_tree(src, uid)
            Path(src / "foreign").write_bytes(b"readable, not ours\n")
            os.chown(src / "foreign", OTHER, GROUP)
            os.utime(src / "foreign", ns=(1_400_000_000_000_000_001, 1_400_000_000_000_000_002))
            os.utime(src, ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
        native = self.native_cp(src, work / "native", uid)
        self.f.check(native.returncode == 0, f"{who}: native cp -a failed: {native.stderr.strip()}")
        want = snapshot(work / "native")
        self.f.check(differences(snapshot(src), want, 3) == [] or uid != 0,
                     f"{who}: native cp -a differs from its source: {differences(snapshot(src), want, 3)}")
        runs = [(self.tree_command(), True), ("copy", True), (self.tree_command(), False)]
        for i, (command, through) in enumerate(runs):
            where = "through the mount" if through else "outside the mount"
            dst = work / f"copy{i}"
            started = time.monotonic()
            r = self.fastfs(command, "-r", str(self.via(src) if through else src),
                            str(self.via(dst) if through else dst), uid=uid)
            took = time.monotonic() - started
            label = f"{who}: fastfs {command} -r {where}"
            if not self.f.check(r.returncode == 0, f"{label} failed: {r.stderr.strip()}"):
                continue
            print(f"  {label}: {took:.2f} s; {r.stdout.strip()}", flush=True)
            diffs = differences(snapshot(dst), want)
            self.f.check(not diffs, f"{label} differs from cp -a: " + "; ".join(diffs))
            self.check_blocks(src, dst, label)
        self.f.check(self.leftovers(work) == [], f"{who}: hidden trees left: {self.leftovers(work)}")

    def check_blocks(self, src: Path, dst: Path, label: str) -> None:
        for copy in regular_files(dst):
            original = src / copy.relative_to(dst)
            st_src, st_dst = os.stat(original), os.stat(copy)
            if st_src.st_size == 0:
                continue
            if self.reflinks:
                got = fiemap(copy)
                shared = all(flags & (FIEMAP_EXTENT_SHARED | FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE)
                             for *_, flags in got)
                self.f.check(written_extents(got) == written_extents(fiemap(original)) and shared,
                             f"{label}: {copy.relative_to(dst)} does not share the source's extents")
            elif st_src.st_blocks * 512 < st_src.st_size:
                self.f.check(st_dst.st_blocks <= st_src.st_blocks + 16,
                             f"{label}: {copy.relative_to(dst)} filled holes: {st_dst.st_blocks} blocks "
                             f"for the source's {st_src.st_blocks}")

    # deeper than PATH_MAX ---------------------------------------------------------------------------------
    def very_deep(self) -> None:
        print("deeper than PATH_MAX:", flush=True)
        top = self.backing / "very-deep"
        top.mkdir()
        top_fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
        fd = os.dup(top_fd)
        try:
            for level in range(60):  # 7 KiB of path
                f = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(f, random_bytes(100, level))
                os.close(f)
                name = (b"%03d" % level) * 40
                os.mkdir(name, dir_fd=fd)
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = child
            os.link("f", "hard-to-the-top", src_dir_fd=top_fd, dst_dir_fd=fd)
        finally:
            os.close(fd)
            os.close(top_fd)
        r = self.fastfs(self.tree_command(), "-r", str(self.via(top)), str(self.via(self.backing / "very-deep-copy")))
        if self.f.check(r.returncode == 0, f"very deep tree: {r.stderr.strip()}"):
            diffs = differences(snapshot(self.backing / "very-deep-copy"), snapshot(top))
            self.f.check(not diffs, "very deep tree differs: " + "; ".join(diffs))

    # rights ------------------------------------------------------------------------------------------------
    def rights(self) -> None:
        print("rights of uid 1000:", flush=True)
        src = self.backing / "perm-src"
        (src / "dir").mkdir(parents=True)
        (src / "dir" / "readable").write_bytes(b"r\n")
        (src / "dir" / "secret").write_bytes(b"s\n")
        chown_tree(src, USER)
        os.chown(src / "dir" / "secret", OTHER, OTHER)
        os.chmod(src / "dir" / "secret", 0o600)
        out = self.backing / "perm-out"
        out.mkdir()
        os.chown(out, USER, USER)
        native = run(["cp", "-a", str(src), str(out / "native")], uid=USER)
        self.f.check(native.returncode != 0 and "Permission denied" in native.stderr,
                     f"natively, cp -a of an unreadable file should fail with EACCES: {native.stderr.strip()}")
        H.run(["rm", "-rf", str(out / "native")])
        r = self.fastfs(self.tree_command(), "-r", str(self.via(src)), str(self.via(out / "copy")), uid=USER)
        self.f.check(r.returncode == 1 and "Permission denied" in r.stderr and "dir/secret" in r.stderr,
                     f"unreadable file: want EACCES naming dir/secret, got {r.returncode}: {r.stderr.strip()}")
        self.f.check(os.listdir(out) == [], f"unreadable file: left {os.listdir(out)}")
        closed = self.backing / "root-only"
        closed.mkdir(mode=0o755)
        r = self.fastfs(self.tree_command(), "-r", str(self.via(src / "dir")), str(self.via(closed / "x")), uid=USER)
        self.f.check(r.returncode == 1 and "Permission denied" in r.stderr,
                     f"unwritable destination: want EACCES, got {r.returncode}: {r.stderr.strip()}")
        self.f.check(os.listdir(closed) == [], f"unwritable destination: left {os.listdir(closed)}")

    # interrupted ------------------------------------------------------------------------------------------
    def interrupted(self) -> None:
        print("interrupted part-way:", flush=True)
        src = self.backing / "slow-src"
        src.mkdir()
        for i in range(64):
            (src / f"f{i:02d}").write_bytes(random_bytes(8 * MIB, 100 + i))
        os.sync()
        out = self.backing / "slow-out"
        out.mkdir()
        # Warm up the daemon's caches with one full copy, so descriptor counts compare like with like.
        started = time.monotonic()
        warm = self.fastfs("copy", "-r", "--reflink=never", str(self.via(src)), str(self.via(out / "warm")))
        print(f"  an uninterrupted copy of 512 MiB without reflinks: {time.monotonic() - started:.2f} s", flush=True)
        self.f.check(warm.returncode == 0, f"warm-up copy failed: {warm.stderr.strip()}")
        H.run(["rm", "-rf", str(out / "warm")])
        fds_before = daemon_fds(self.mount.pid)
        for sig, through in ((signal.SIGKILL, True), (signal.SIGINT, True), (signal.SIGINT, False)):
            self.interrupt_part_way(src, out, sig, through)
        self.f.check(self.mount.alive(), "the daemon died")
        stats = self.stats()
        # The stats command's own open directory is the one left.
        self.f.check(stats.get("open_file_descriptors") == 1,
                     f"open files still counted after the clients died: {stats.get('open_file_descriptors')}")
        fds_after = daemon_fds(self.mount.pid)
        grown = sorted(set(fds_after) - set(fds_before))
        self.f.check(len(grown) <= 2, f"daemon descriptors grew by {len(grown)}: {grown[:20]}")
        again = self.fastfs("copy", "-r", str(self.via(src)), str(self.via(out / "after")))
        self.f.check(again.returncode == 0, f"a copy after the interruptions failed: {again.stderr.strip()}")
        H.run(["rm", "-rf", str(src), str(out)])

    def interrupt_part_way(self, src: Path, out: Path, sig: int, through: bool) -> None:
        """Starts a copy of `src` into `out`, sends `sig` once the hidden tree holds a few files (never all 64
        before the rename): nothing may be left."""
        where = "through the mount" if through else "outside the mount"
        name = f"{signal.Signals(sig).name} {where}"
        proc = subprocess.Popen([self.binary, "copy", "-r", "--reflink=never",
                                 str(self.via(src) if through else src),
                                 str(self.via(out / "copy") if through else out / "copy")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def part_way() -> bool:
            if proc.poll() is not None:
                return True
            try:
                hidden = self.leftovers(out)
                return bool(hidden) and len(os.listdir(out / hidden[0])) >= 3
            except FileNotFoundError:  # renamed into place meanwhile
                return False
        H.wait_until(part_way, 60, 0.002)
        running = proc.poll() is None
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        self.f.check(running, f"{name}: the copy was not caught part-way (finished first)")
        if sig == signal.SIGINT:
            self.f.check(proc.returncode == 130 and "interrupted" in err,
                         f"{name}: want exit 130 and a message, got {proc.returncode}: {err.strip()}")
        self.f.check(os.listdir(out) == [], f"{name}: left {os.listdir(out)}")

    # concurrent -------------------------------------------------------------------------------------------
    def concurrent(self) -> None:
        print("concurrent copies:", flush=True)
        src = self.backing / "work-0" / "src"
        out = self.backing / "concurrent"
        out.mkdir()
        cmd = [self.binary, self.tree_command(), "-r", str(self.via(src))]
        # uid 1000 lists the mount meanwhile: the daemon's threads go back and forth between the two users.
        lister = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "ls", "-laR",
                  str(self.via(self.backing / "work-1000" / "src"))]
        listers = [subprocess.Popen(lister, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(3)]
        procs = [subprocess.Popen(cmd + [str(self.via(out / name))], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for name in ("a", "b", "same", "same")]
        results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
        for p in listers:
            p.wait(timeout=300)
        self.f.check(results[0][0] == 0 and results[1][0] == 0,
                     f"two copies of one source at once: {results[0]} {results[1]}")
        want = snapshot(src)
        for name in ("a", "b"):
            self.f.check(not differences(snapshot(out / name), want),
                         f"concurrent copy {name} differs: {differences(snapshot(out / name), want)}")
        codes = sorted(code for code, _ in results[2:])
        self.f.check(codes == [0, 1] and any("exists" in err for _, err in results[2:]),
                     f"two copies to one DST: want one success and one 'exists', got {results[2:]}")
        self.f.check(self.leftovers(out) == [], f"concurrent: hidden trees left: {self.leftovers(out)}")

    # ext4 only --------------------------------------------------------------------------------------------
    def clone_refused(self) -> None:
        print("clone -r without reflink:", flush=True)
        src = self.backing / "work-0" / "src"
        r = self.fastfs("clone", "-r", str(self.via(src)), str(self.via(self.backing / "no-clone")))
        self.f.check(r.returncode == 1 and "cannot share" in r.stderr and r.stderr.count("\n") == 1,
                     f"clone -r on ext4: want one clear line, got {r.returncode}: {r.stderr!r}")
        self.f.check(not (self.backing / "no-clone").exists() and self.leftovers(self.backing) == [],
                     "clone -r on ext4 left something")

    def stats(self) -> dict:
        r = self.fastfs("stats", str(self.mount.path), "--json")
        return json.loads(r.stdout) if r.returncode == 0 else {}

    def counters(self) -> None:
        s = self.stats()
        print(f"stats: tree_requests {s.get('tree_requests')}, tree_failures {s.get('tree_failures')}, "
              f"tree_files {s.get('tree_files')}, reflinked {s.get('tree_bytes_reflinked')}, copied "
              f"{s.get('tree_bytes_copied')}", flush=True)
        self.f.check(s.get("tree_requests", 0) >= 10 and s.get("tree_failures", 0) >= 3 and
                     s.get("tree_files", 0) > 100, f"tree counters: {s}")
        moved = "tree_bytes_reflinked" if self.reflinks else "tree_bytes_copied"
        self.f.check(s.get(moved, 0) > 0, f"tree byte counters: {s}")


def enospc(binary: str, failures: Failures) -> None:
    print("ENOSPC part-way:", flush=True)
    with H.loop_fs("ext4", 64 * MIB) as small, H.fastfs_mount(binary, small) as m:
        src = small / "src"
        src.mkdir()
        for i in range(9):
            (src / f"f{i}").write_bytes(random_bytes(4 * MIB, 200 + i))
        os.sync()
        free_before = os.statvfs(small).f_bfree
        r = run([binary, "copy", "-r", str(m.path / "src"), str(m.path / "dst")])
        failures.check(r.returncode == 1 and "No space left" in r.stderr,
                       f"ENOSPC: want a failure saying so, got {r.returncode}: {r.stderr.strip()}")
        left = sorted(set(os.listdir(small)) - {"src", "lost+found"})
        failures.check(left == [], f"ENOSPC: left {left}")
        os.sync()
        failures.check(os.statvfs(small).f_bfree >= free_before - 8,
                       f"ENOSPC: space not given back ({free_before} -> {os.statvfs(small).f_bfree} blocks)")
        failures.check(m.alive(), "ENOSPC: the daemon died")
        code = m.stop()
        failures.check(code == 0, f"ENOSPC: the daemon exited with {code}: {m.log()[-3000:]}")


def across_filesystems(binary: str, failures: Failures) -> None:
    """copy -r from one backing filesystem to another inside one mount: an ext4 mounted inside the XFS
    backing. No reflink can cross, so every file is the engine's copy, holes kept; clone -r says so."""
    print("across two filesystems inside one mount:", flush=True)
    with H.loop_fs("xfs", GIB, "noatime") as outer, H.loop_fs("ext4", 256 * MIB, "noatime") as inner_fs:
        outer.chmod(0o755)
        inner = outer / "inner"
        inner.mkdir()
        H.run(["mount", "--bind", str(inner_fs), str(inner)])
        try:
            t = Tree(outer / "src")
            t.mkdir("dir")
            t.write("dir/dense", ((0, random_bytes(3 * MIB + 5, 301)),))
            t.write("sparse", ((4096, b"head"), (40 * MIB, random_bytes(MIB, 302)), (90 * MIB, b"tail")),
                    size=100 * MIB)
            t.link("sparse", "dir/sparse-link")
            t.symlink("dir/to-dense", "dense")
            os.setxattr(t.path("dir/dense"), "user.kind", b"dense")
            t.set_times()
            native = run(["cp", "-a", "--sparse=always", str(outer / "src"), str(inner / "native")])
            failures.check(native.returncode == 0, f"across: native cp -a failed: {native.stderr.strip()}")
            want = snapshot(inner / "native")
            with H.fastfs_mount(binary, outer) as m:
                r = run([binary, "copy", "-r", str(m.path / "src"), str(m.path / "inner" / "copy")])
                if failures.check(r.returncode == 0, f"across: fastfs copy -r failed: {r.stderr.strip()}"):
                    print(f"  fastfs copy -r across: {r.stdout.strip()}", flush=True)
                    diffs = differences(snapshot(inner / "copy"), want)
                    failures.check(not diffs, "across: copy -r differs from cp -a: " + "; ".join(diffs))
                    blocks = os.stat(inner / "copy" / "sparse").st_blocks
                    failures.check(blocks * 512 <= 2 * MIB, f"across: holes filled ({blocks} blocks)")
                r = run([binary, "clone", "-r", str(m.path / "src"), str(m.path / "inner" / "clone")])
                failures.check(r.returncode == 1 and r.stderr.count("\n") == 1,
                               f"across: clone -r: want one clear line, got {r.returncode}: {r.stderr!r}")
                left = sorted(set(os.listdir(inner)) - {"native", "copy", "lost+found"})
                failures.check(left == [], f"across: clone -r left {left}")
                failures.check(m.alive(), "across: the daemon died")
        finally:
            H.unmount(inner)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--fs", choices=("xfs", "btrfs", "ext4"), required=True)
    args = ap.parse_args(argv)
    H.install_signal_cleanup()
    failures = Failures()
    started = time.monotonic()
    try:
        with H.loop_fs(args.fs, 16 * GIB, "noatime") as backing:
            backing.chmod(0o755)
            with H.fastfs_mount(args.binary, backing, "allow_other") as m:
                case = Case(args, args.fs, backing, m, failures)
                case.same_as_cp("root", 0)
                case.same_as_cp("uid 1000", USER)
                case.very_deep()
                case.rights()
                case.concurrent()
                if args.fs == "ext4":
                    case.clone_refused()
                case.interrupted()
                case.counters()
                failures.check(m.alive(), "the daemon died")
                # An unmount ends the daemon cleanly; under ASan a leak would make its status non-zero.
                code = m.stop()
                failures.check(code == 0, f"the daemon exited with {code}: {m.log()[-3000:]}")
        if args.fs == "ext4":
            enospc(args.binary, failures)
        if args.fs == "xfs":
            across_filesystems(args.binary, failures)
    except H.SetupError as e:
        return H.exit_for_setup_error(e)
    print(f"{args.fs}: {len(failures.items)} failure(s) in {time.monotonic() - started:.1f} s")
    return H.EXIT_FAIL if failures.items else H.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
