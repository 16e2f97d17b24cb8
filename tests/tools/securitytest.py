#!/usr/bin/env python3
"""Security under allow_other: no user does more through the mount than on the backing, or starves others.

Each probe runs as an unprivileged identity (uid 1000 without groups; uid 1000 with supplementary group 1002;
uid 1000 as root of its own user namespace; and root itself) twice: on a tree on the backing filesystem and
on an identical tree through a fastfs mount of it with allow_other. The two results must be the same. The
probes cover what an attacker tries (tests/tools/permtest.py covers modes and sticky directories):

  inode flags   FS_IOC_GETFLAGS/SETFLAGS with the 64-bit and the 32-bit numbers, FS_IOC_FSSETXATTR:
                immutable and append-only need CAP_LINUX_IMMUTABLE, other flags ownership
  privileges    a write, truncate, copy_file_range or clone by uid 1000 into uid 1001's set-user-ID file
                clears the bits; a clone into an O_APPEND descriptor is EBADF
  credentials   creating in a directory writable only through a supplementary group; chown to such a group;
                trusted.* names hidden from listxattr
  append-only   chattr +a files take appends and nothing else, +i files nothing: no shared mapping of a
                descriptor with write access (EACCES, even PROT_READ), no F_SETFL dropping O_APPEND (EPERM), no
                ftruncate; whatever a probe forges through a mapping, the content afterwards must be native's
  O_TMPFILE     an unnamed file in the user's own directory (owner, group, mode), linked by linkat through
                /proc/self/fd; O_TMPFILE|O_EXCL cannot be linked (ENOENT); unwritable and group directories
  user ns       the root of a user namespace has none of its capabilities on the host's files
  ACLs          access an ACL grants (to the user, to a supplementary group, in a directory) or takes away;
                a default ACL inherited by a new file; setting an ACL on another user's file

and, through the mount only:
  descriptors   uid 1000 opens files until refused (EMFILE) and issues clone tokens until refused; meanwhile
                uid 1001 lists, stats, reads, opens and clones normally
  stats         `fastfs stats` is for root and the mount's owner
  reserved      on ext4 with reserved blocks, uid 1000 writes as much through the mount as natively (the
                daemon writes as the caller, without root's CAP_SYS_RESOURCE, fsuid 0 or group 0 -- the
                same credentials quota enforcement judges by)
  write-back    the same with writeback_cache (write(2)) and passthrough=off (a shared mapping), whose pages
                the kernel writes back without credentials: as much synced as natively, and dd conv=fsync past
                the end exits with ENOSPC within seconds
  read-only     inode-flag changes on a read-only mount are EROFS, as on a read-only bind mount

and on read-only views: a read-only bind of the mount against a read-only bind of the backing, as root and as
uid 1000 in a directory each owns: create, mkdir, O_TMPFILE, truncate, setxattr, chattr and fastfs's own
copy/clone commands (files and trees) are all refused, and the backing gets no new entry.

Each option set is its own run (its own ctest test): the identity probes and the read-only views under
  default           allow_other (kernel passthrough on); also the descriptors, stats, read-only mount and
                    reserved-blocks checks, which run only here
  passthrough=off   allow_other,passthrough=off
  io_uring          allow_other,io_uring (turns the fuse module's enable_uring on and restores it)
  writeback_cache   allow_other,writeback_cache

  securitytest.py --binary BUILD/fastfs [--options SET]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import fcntl
import json
import mmap
import os
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

USER, OTHER, GROUP = 1000, 1001, 1002
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SELF = str(Path(__file__).resolve())
MIB = 1 << 20

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602
FS_IOC32_GETFLAGS, FS_IOC32_SETFLAGS = 0x80046601, 0x40046602
FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR = 0x801C581F, 0x401C5820
FICLONE = 0x40049409
FS_IMMUTABLE_FL, FS_APPEND_FL, FS_NOATIME_FL = 0x10, 0x20, 0x80
FS_XFLAG_IMMUTABLE = 0x8


def _fastfs_ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xFA << 8) | nr


FASTFS_CLONE_SOURCE = _fastfs_ioc(2, 2, 8)
FASTFS_CLONE_INTO = _fastfs_ioc(1, 3, 32)

# (name, kind, mode, uid, gid, content)
TREE = [
    ("mine", "file", 0o644, USER, USER, b"mine\n"),
    ("others", "file", 0o644, OTHER, OTHER, b"readable by all\n"),
    ("clone_src", "file", 0o644, USER, USER, b"c" * 65536),
    ("suid_write", "file", 0o6777, OTHER, OTHER, b"x" * 100),
    ("suid_truncate", "file", 0o6777, OTHER, OTHER, b"x" * 100),
    ("suid_copy", "file", 0o6777, OTHER, OTHER, b"x" * 100),
    ("suid_clone", "file", 0o6777, OTHER, OTHER, b"x" * 100),
    ("append_dest", "file", 0o666, OTHER, OTHER, b"x" * 100),
    ("append_only", "file", 0o666, 0, 0, b"log\n"),
    ("immutable", "file", 0o666, 0, 0, b"fixed\n"),
    ("trusted", "file", 0o644, USER, USER, b"t\n"),
    ("group_dir", "dir", 0o770, 0, GROUP, None),
    ("open_dir", "dir", 0o777, 0, 0, None),
    ("ns_dir", "dir", 0o755, USER, USER, None),
    ("ns_dir/own", "file", 0o644, USER, USER, b"own\n"),
    # Access that only a POSIX ACL grants or takes away (entries in ACLS).
    ("acl_granted", "file", 0o600, OTHER, OTHER, b"granted by an ACL\n"),
    ("acl_denied", "file", 0o644, OTHER, OTHER, b"denied by an ACL\n"),
    ("acl_group", "file", 0o600, OTHER, OTHER, b"group ACL\n"),
    ("acl_dir", "dir", 0o755, OTHER, OTHER, None),
    ("acl_default", "dir", 0o777, OTHER, OTHER, None),
]

# (name, setfacl arguments): applied after TREE, as root.
ACLS = [
    ("acl_granted", ["-m", f"u:{USER}:r"]),
    ("acl_denied", ["-m", f"u:{USER}:---"]),
    ("acl_group", ["-m", f"g:{GROUP}:rw"]),
    ("acl_dir", ["-m", f"u:{USER}:rwx"]),
    ("acl_default", ["-d", "-m", f"u:{USER}:r,g::---,o::---,m::rwx"]),
]


def set_flags(path: Path, flags: int) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", flags))
    finally:
        os.close(fd)


def build_tree(root: Path) -> None:
    H.make_tree(root, TREE)
    os.setxattr(root / "trusted", "trusted.secret", b"root only")
    os.setxattr(root / "trusted", "user.visible", b"v")
    set_flags(root / "append_only", FS_APPEND_FL)
    set_flags(root / "immutable", FS_IMMUTABLE_FL)
    for name, args in ACLS:
        H.run(["setfacl", *args, str(root / name)])


def clear_flags(root: Path) -> None:
    for name in ("append_only", "immutable", "mine"):
        try:
            set_flags(root / name, 0)
        except OSError:
            pass


# ---- probes: run as the identity under test, print JSON -----------------------------------------------------

def _errname(e: OSError) -> str:
    return errno.errorcode.get(e.errno, str(e.errno))


def _ioctl_int(path: str, cmd: int, value: int | None, flags: int = os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        if value is None:
            return struct.unpack("i", fcntl.ioctl(fd, cmd, b"\0" * 4))[0]
        fcntl.ioctl(fd, cmd, struct.pack("i", value))
        return "set"
    finally:
        os.close(fd)


def _fsxattr_immutable(path: str):
    fd = os.open(path, os.O_RDONLY)
    try:
        raw = bytearray(fcntl.ioctl(fd, FS_IOC_FSGETXATTR, b"\0" * 28))
        xflags = struct.unpack_from("I", raw, 0)[0] | FS_XFLAG_IMMUTABLE
        struct.pack_into("I", raw, 0, xflags)
        fcntl.ioctl(fd, FS_IOC_FSSETXATTR, bytes(raw))
        return "set"
    finally:
        os.close(fd)


def _mode(path: str) -> str:
    return stat.filemode(os.stat(path).st_mode)


def _write_then_mode(path: str) -> str:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, b"W", 0)
    finally:
        os.close(fd)
    return _mode(path)


def _copy_into_then_mode(root: str, dest: str) -> str:
    src = os.open(f"{root}/clone_src", os.O_RDONLY)
    dst = os.open(dest, os.O_WRONLY)
    try:
        os.copy_file_range(src, dst, 4096, 0, 0)
    finally:
        os.close(src), os.close(dst)
    return _mode(dest)


def _clone(root: str, dest: str, dest_flags: int, through_fastfs: bool) -> str:
    """A whole-file clone, FICLONE natively, fastfs's two ioctls through the mount."""
    src = os.open(f"{root}/clone_src", os.O_RDONLY)
    dst = os.open(dest, dest_flags)
    try:
        if through_fastfs:
            token = fcntl.ioctl(src, FASTFS_CLONE_SOURCE, b"\0" * 8)
            fcntl.ioctl(dst, FASTFS_CLONE_INTO, token + b"\0" * 24)
        else:
            fcntl.ioctl(dst, FICLONE, src)
    finally:
        os.close(src), os.close(dst)
    return _mode(dest)


def _append(path: str, flags: int) -> str:
    fd = os.open(path, flags)
    try:
        os.write(fd, b"more\n")
    finally:
        os.close(fd)
    return "written"


def _acl_text(path: str) -> str:
    r = subprocess.run(["getfacl", "-c", "-n", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise OSError(errno.EIO, r.stderr.strip())
    return " ".join(r.stdout.split())


def _create(path: str):
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    os.close(fd)
    st = os.stat(path)
    return [st.st_uid, st.st_gid, stat.filemode(st.st_mode)]


def _content(path: str) -> str:
    """Length, head and tail of a file, read from a fresh open: enough to see a forged start or a lost append."""
    data = Path(path).read_bytes()
    return f"{len(data)} bytes {data[:8]!r}..{data[-6:]!r}"


def _map(path: str, flags: int, prot: int, map_flags: int = mmap.MAP_SHARED):
    """mmap the whole file; where a writable mapping is granted, write b"FORGED" at offset 0 through it, msync,
    munmap, and report what a fresh open reads. Natively a shared mapping of a descriptor with write access to
    an append-only file is EACCES (mm/mmap.c), whatever the protection asked for."""
    fd = os.open(path, flags)
    try:
        m = mmap.mmap(fd, 0, flags=map_flags, prot=prot)
    finally:
        os.close(fd)
    steps = ["mapped"]
    try:
        if prot & mmap.PROT_WRITE:
            m[0:6] = b"FORGED"
            try:
                m.flush()
                steps.append("msync ok")
            except OSError as e:
                steps.append(f"msync {_errname(e)}")
    finally:
        m.close()
    return steps + [_content(path)]


def _clear_append_then_pwrite(path: str):
    """F_SETFL without O_APPEND (natively EPERM on an append-only file), then pwrite(b"X", 0) whatever it said:
    with O_APPEND still set, Linux appends the byte."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    steps = []
    try:
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_APPEND)
            steps.append("cleared")
        except OSError as e:
            steps.append(_errname(e))
        try:
            os.pwrite(fd, b"X", 0)
            steps.append("written")
        except OSError as e:
            steps.append(_errname(e))
    finally:
        os.close(fd)
    return steps + [_content(path)]


def _ftruncate(path: str, flags: int):
    fd = os.open(path, flags)
    try:
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)
    return _content(path)


_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400


def _linkat_follow(src: str, dst: str) -> None:
    """linkat(AT_SYMLINK_FOLLOW): os.link without dir_fd calls link(2), which links /proc's magic link itself."""
    if _libc.linkat(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), AT_SYMLINK_FOLLOW) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _tmpfile(directory: str, link_to: str | None = None, extra_flags: int = 0):
    """open(dir, O_TMPFILE|O_RDWR, 0640), write, fstat; then link it to a name through /proc/self/fd
    (linkat(AT_SYMLINK_FOLLOW) follows the magic link) and read it back by that name."""
    fd = os.open(directory, os.O_TMPFILE | os.O_RDWR | extra_flags, 0o640)
    try:
        os.write(fd, b"tmpfile\n")
        st = os.fstat(fd)
        out = [st.st_uid, st.st_gid, stat.filemode(st.st_mode), st.st_nlink]
        if link_to:
            _linkat_follow(f"/proc/self/fd/{fd}", link_to)
            st = os.stat(link_to)
            out += [Path(link_to).read_text(), st.st_nlink, st.st_uid, stat.filemode(st.st_mode)]
    finally:
        os.close(fd)
    return out


def _append_only_probes(r: str):
    """What a holder of a write descriptor to a chattr +a file, or a reader of a +i file, may still try."""
    a, i = f"{r}/append_only", f"{r}/immutable"
    rw_append = os.O_RDWR | os.O_APPEND
    rw = mmap.PROT_READ | mmap.PROT_WRITE
    yield "mmap shared rw +a (O_RDWR|O_APPEND)", lambda: _map(a, rw_append, rw)
    yield "mmap shared read +a (O_RDWR|O_APPEND)", lambda: _map(a, rw_append, mmap.PROT_READ)
    yield "mmap shared read +a (O_RDONLY)", lambda: _map(a, os.O_RDONLY, mmap.PROT_READ)
    yield "mmap private rw +a (O_RDONLY)", lambda: _map(a, os.O_RDONLY, rw, mmap.MAP_PRIVATE)
    yield "F_SETFL -O_APPEND +a, pwrite at 0", lambda: _clear_append_then_pwrite(a)
    yield "ftruncate +a (O_WRONLY|O_APPEND)", lambda: _ftruncate(a, os.O_WRONLY | os.O_APPEND)
    yield "content of +a after", lambda: _content(a)
    yield "open +i O_RDWR", lambda: _map(i, os.O_RDWR, rw)
    yield "mmap shared read +i (O_RDONLY)", lambda: _map(i, os.O_RDONLY, mmap.PROT_READ)
    yield "mmap shared rw +i (O_RDONLY)", lambda: _map(i, os.O_RDONLY, rw)
    yield "mmap private rw +i (O_RDONLY)", lambda: _map(i, os.O_RDONLY, rw, mmap.MAP_PRIVATE)
    yield "ftruncate +i (O_RDONLY)", lambda: _ftruncate(i, os.O_RDONLY)
    yield "content of +i after", lambda: _content(i)


def probes(root: str, who: str, through_fastfs: bool):
    r = root
    if who == "user":
        yield "FS_IOC_GETFLAGS mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC_GETFLAGS, None)
        yield "FS_IOC_SETFLAGS +i mine (owner)", lambda: _ioctl_int(f"{r}/mine", FS_IOC_SETFLAGS, FS_IMMUTABLE_FL)
        yield "FS_IOC_SETFLAGS +a mine (owner)", lambda: _ioctl_int(f"{r}/mine", FS_IOC_SETFLAGS, FS_APPEND_FL)
        yield "FS_IOC_SETFLAGS +A mine (owner)", lambda: _ioctl_int(f"{r}/mine", FS_IOC_SETFLAGS, FS_NOATIME_FL)
        yield "FS_IOC_SETFLAGS 0 mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC_SETFLAGS, 0)
        yield "FS_IOC_SETFLAGS +A others", lambda: _ioctl_int(f"{r}/others", FS_IOC_SETFLAGS, FS_NOATIME_FL)
        yield "FS_IOC_SETFLAGS 0 immutable", lambda: _ioctl_int(f"{r}/immutable", FS_IOC_SETFLAGS, 0)
        yield "FS_IOC32_GETFLAGS mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC32_GETFLAGS, None)
        yield "FS_IOC32_SETFLAGS +i mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC32_SETFLAGS, FS_IMMUTABLE_FL)
        yield "FS_IOC32_SETFLAGS +i others", lambda: _ioctl_int(f"{r}/others", FS_IOC32_SETFLAGS, FS_IMMUTABLE_FL)
        yield "FS_IOC32_SETFLAGS 0 immutable", lambda: _ioctl_int(f"{r}/immutable", FS_IOC32_SETFLAGS, 0)
        yield "FS_IOC_FSSETXATTR immutable mine", lambda: _fsxattr_immutable(f"{r}/mine")
        yield "flags of immutable after", lambda: _ioctl_int(f"{r}/immutable", FS_IOC_GETFLAGS, None)
        yield "write into 1001's suid file", lambda: _write_then_mode(f"{r}/suid_write")
        yield "truncate 1001's suid file", lambda: (os.truncate(f"{r}/suid_truncate", 10),
                                                    _mode(f"{r}/suid_truncate"))[1]
        yield "copy_file_range into 1001's suid file", lambda: _copy_into_then_mode(r, f"{r}/suid_copy")
        yield "clone into 1001's suid file", lambda: _clone(r, f"{r}/suid_clone", os.O_WRONLY, through_fastfs)
        yield "clone into an O_APPEND descriptor", lambda: _clone(r, f"{r}/append_dest",
                                                                  os.O_WRONLY | os.O_APPEND, through_fastfs)
        yield "append to +a file", lambda: _append(f"{r}/append_only", os.O_WRONLY | os.O_APPEND)
        yield "open +a file without O_APPEND", lambda: _append(f"{r}/append_only", os.O_WRONLY)
        yield "open +i file for writing", lambda: _append(f"{r}/immutable", os.O_WRONLY | os.O_APPEND)
        yield "listxattr", lambda: sorted(os.listxattr(f"{r}/trusted"))
        yield "getxattr trusted.secret", lambda: os.getxattr(f"{r}/trusted", "trusted.secret").decode()
        yield "setxattr trusted.mine", lambda: os.setxattr(f"{r}/trusted", "trusted.mine", b"1")
        yield "create in group dir (no groups)", lambda: _create(f"{r}/group_dir/nogroups")
        yield "chown mine to group 1002 (no groups)", lambda: os.chown(f"{r}/mine", -1, GROUP)
        yield "read a file an ACL lets me read", lambda: Path(f"{r}/acl_granted").read_text()
        yield "read a file an ACL keeps from me", lambda: Path(f"{r}/acl_denied").read_text()
        yield "write a file an ACL gives my group", lambda: _append(f"{r}/acl_group", os.O_WRONLY)
        yield "create in a dir an ACL opens to me", lambda: _create(f"{r}/acl_dir/created")
        yield "create in a dir with a default ACL", lambda: _create(f"{r}/acl_default/inherits")
        yield "ACL inherited by that file", lambda: _acl_text(f"{r}/acl_default/inherits")
        yield "setfacl on 1001's file", lambda: os.setxattr(f"{r}/others", "system.posix_acl_access",
                                                            os.getxattr(f"{r}/acl_granted",
                                                                        "system.posix_acl_access"))
        yield from _append_only_probes(r)
        yield "O_TMPFILE in own dir, linked", lambda: _tmpfile(f"{r}/ns_dir", f"{r}/ns_dir/tmp-linked")
        yield "O_TMPFILE|O_EXCL, linked", lambda: _tmpfile(f"{r}/ns_dir", f"{r}/ns_dir/tmp-excl", os.O_EXCL)
        yield "O_TMPFILE in root's dir", lambda: _tmpfile(r)
        yield "O_TMPFILE in group dir (no groups)", lambda: _tmpfile(f"{r}/group_dir")
    elif who == "user+group":
        yield "create in group dir via group 1002", lambda: _create(f"{r}/group_dir/withgroup")
        yield "mkdir in group dir via group 1002", lambda: (os.mkdir(f"{r}/group_dir/sub"),
                                                            _mode(f"{r}/group_dir/sub"))[1]
        yield "chown mine to group 1002 (member)", lambda: (os.chown(f"{r}/mine", -1, GROUP),
                                                            os.stat(f"{r}/mine").st_gid)[1]
        yield "access W_OK group dir", lambda: os.access(f"{r}/group_dir", os.W_OK)
        yield "write a file an ACL gives my group", lambda: _append(f"{r}/acl_group", os.O_WRONLY)
        yield "O_TMPFILE in group dir via group 1002", lambda: _tmpfile(f"{r}/group_dir",
                                                                         f"{r}/group_dir/tmp-linked")
    elif who == "userns-root":
        yield "create in own dir", lambda: _create(f"{r}/ns_dir/created")
        yield "FS_IOC_SETFLAGS +i own file", lambda: _ioctl_int(f"{r}/ns_dir/own", FS_IOC_SETFLAGS,
                                                                 FS_IMMUTABLE_FL)
        yield "chown own file to unmapped uid", lambda: os.chown(f"{r}/ns_dir/own", 5, -1)
        yield "listxattr", lambda: sorted(os.listxattr(f"{r}/trusted"))
        yield "write into 1001's suid file", lambda: _write_then_mode(f"{r}/suid_write")
        yield "open +i file for writing", lambda: _append(f"{r}/immutable", os.O_WRONLY | os.O_APPEND)
    elif who == "root":
        yield "append to +a file", lambda: _append(f"{r}/append_only", os.O_WRONLY | os.O_APPEND)
        yield "open +a file without O_APPEND", lambda: _append(f"{r}/append_only", os.O_WRONLY)
        yield "FS_IOC_SETFLAGS +A mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC_SETFLAGS, FS_NOATIME_FL)
        yield "FS_IOC32_SETFLAGS 0 mine", lambda: _ioctl_int(f"{r}/mine", FS_IOC32_SETFLAGS, 0)
        yield "listxattr", lambda: sorted(os.listxattr(f"{r}/trusted"))
        yield from _append_only_probes(r)
        yield "O_TMPFILE in a dir, linked", lambda: _tmpfile(f"{r}/open_dir", f"{r}/open_dir/tmp-linked")


def _command(*cmd: str):
    """A fastfs command: its exit status, how many lines it printed and the error they name."""
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ["timed out after 60 s"]
    lines = r.stdout.strip().splitlines()
    named = [errno.errorcode[e] for e in (errno.EROFS, errno.EACCES, errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV)
             if os.strerror(e) in r.stdout]
    return [f"exit {r.returncode}", f"{len(lines)} lines", *named]


def ro_view_probes(root: str, who: str, binary: str):
    """Everything that would change the filesystem, on a read-only view of it, in a directory `who` owns."""
    r, d = root, f"{root}/{who}"
    yield "create", lambda: _create(f"{d}/new")
    yield "mkdir", lambda: os.mkdir(f"{d}/newdir")
    yield "O_TMPFILE", lambda: _tmpfile(d)
    yield "truncate", lambda: os.truncate(f"{d}/existing", 0)
    yield "setxattr user.x", lambda: os.setxattr(f"{d}/existing", "user.x", b"1")
    yield "chattr +A", lambda: _ioctl_int(f"{d}/existing", FS_IOC_SETFLAGS, FS_NOATIME_FL)
    yield "fastfs copy -r SRCDIR", lambda: _command(binary, "copy", "-r", f"{r}/src", f"{d}/dst")
    yield "fastfs clone -r SRCDIR", lambda: _command(binary, "clone", "-r", f"{r}/src", f"{d}/dst2")
    yield "fastfs copy FILE", lambda: _command(binary, "copy", f"{r}/src/data", f"{d}/f2")
    yield "fastfs clone FILE", lambda: _command(binary, "clone", f"{r}/src/data", f"{d}/f3")


def probe_main(root: str, who: str, through_fastfs: bool, ro_view_binary: str | None = None) -> None:
    os.umask(0o022)
    results = []
    for name, thunk in (ro_view_probes(root, who, ro_view_binary) if ro_view_binary
                        else probes(root, who, through_fastfs)):
        try:
            results.append([name, "ok", thunk()])
        except OSError as e:
            results.append([name, _errname(e)])
        except ValueError as e:  # mmap of an empty file
            results.append([name, f"ValueError: {e}"])
    print(json.dumps(results))


IDENTITIES = {
    "user": ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups"],
    "user+group": ["setpriv", f"--reuid={USER}", f"--regid={USER}", f"--groups={GROUP}"],
    # Root of a user namespace of its own, mapped to uid 1000 on the host.
    "userns-root": ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "unshare", "-U", "-r"],
    "root": [],
}


def run_probe(root: Path, who: str, through_fastfs: bool, ro_view_binary: str | None = None) -> list:
    cmd = IDENTITIES[who] + [PYTHON, SELF, "--probe", str(root), who] + (["--fastfs"] if through_fastfs else [])
    if ro_view_binary:
        cmd += ["--ro-view", ro_view_binary]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode != 0:
        raise H.SetupError(f"probe {who} failed: {r.stderr.strip()[-1500:]}")
    return json.loads(r.stdout)


# The only answers allowed to differ, because FUSE leaves a daemon no way to give native's: the kernel checks
# append-only in fcntl(F_SETFL) and mmap against the FUSE inode's S_APPEND, which no FUSE attribute can set.
# Each: probe name -> (why, whether the mount's result `m` is native's `n` up to that limit). The rest of the
# result (what a later write does, the file's content) must still be native's.
def _setfl_unseen(m: list, n: list) -> bool:
    return (n[1:2] == ["ok"] and n[2][0] == "EPERM" and m[1:2] == ["ok"] and m[2][0] in ("EPERM", "cleared")
            and m[2][1:] == n[2][1:])


def _mmap_enodev(m: list, n: list) -> bool:
    return n[1:] == ["EACCES"] and m[1:] == ["ENODEV"]


FUSE_LIMITS = {
    "F_SETFL -O_APPEND +a, pwrite at 0": (
        "F_SETFL never reaches the daemon, and the kernel sees no S_APPEND on the FUSE inode: dropping O_APPEND "
        "may succeed, but the pwrite after it must still append", _setfl_unseen),
    "mmap shared rw +a (O_RDWR|O_APPEND)": (
        "the daemon can refuse a shared mapping only by making the open direct-io, where the kernel says ENODEV",
        _mmap_enodev),
    "mmap shared read +a (O_RDWR|O_APPEND)": (
        "the daemon can refuse a shared mapping only by making the open direct-io, where the kernel says ENODEV",
        _mmap_enodev),
}


def compare(label: str, through: list, native: list) -> list[str]:
    problems = []
    for m, n in zip(through, native):
        same = m == n
        limit = KNOWN_LIMITS.get(m[0])
        excused = not same and limit is not None and limit[1](m, n)
        mark = "  " if same else "~~" if excused else "!!"
        print(f"  {mark} {label:11} {m[0]:42.42} mount={m[1:]!s:32.32} native={n[1:]!s:.32}")
        if excused:
            print(f"     (FUSE limit: {limit[0]})")
        elif not same:
            problems.append(f"{label} {m[0]}: through the mount {m[1:]}, native {n[1:]}")
    return problems


# ---- descriptors: one user cannot make the mount unusable for another ---------------------------------------

HOLDER = r"""
import os, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
d = sys.argv[1]
fds, error = [], ""
for i in range(hard):
    try:
        fds.append(os.open(f"{d}/f{i % 50}", os.O_RDONLY))
    except OSError as e:
        error = e.strerror
        break
print(len(fds), error, flush=True)
sys.stdin.read()  # hold them until told to stop
"""

TOKENS = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
issued, error = 0, ""
for _ in range(200):
    try:
        fcntl.ioctl(fd, int(sys.argv[2]), b"\0" * 8)
        issued += 1
    except OSError as e:
        error = e.strerror
        break
print(issued, error)
"""

OTHER_USER_WORKS = r"""
import os, sys
d = sys.argv[1]
names = os.listdir(d)
st = os.stat(f"{d}/f1")
data = open(f"{d}/f2").read()
fds = [os.open(f"{d}/f{i}", os.O_RDONLY) for i in range(20)]
for fd in fds: os.close(fd)
open(f"{d}/other-wrote", "w").write("ok")
print(len(names), data.strip())
"""


def as_user(uid: int, code: str, *args: str, stdin=None, **kw) -> subprocess.Popen:
    return subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", PYTHON, "-c", code,
                             *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def check_descriptors(binary: str, mnt: Path, passthrough: bool) -> list[str]:
    """With passthrough the kernel holds open files' backing files, so opens cost the daemon nothing and uid
    1000 is bounded only by its own limit, as natively; without, opens draw on the daemon's descriptors and
    uid 1000 is stopped at its share. Either way uid 1001 keeps working."""
    problems = []
    shared = mnt / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    for i in range(50):
        (shared / f"f{i}").write_text(f"file {i}\n")
        os.chmod(shared / f"f{i}", 0o666)
    holder = as_user(USER, HOLDER, str(shared), stdin=subprocess.PIPE)
    try:
        line = holder.stdout.readline().split(maxsplit=1)
        held = int(line[0]) if line else 0
        print(f"  uid {USER} opened {held} files through the mount, then: {line[1].strip() if len(line) > 1 else ''}")
        if len(line) < 2 or "Too many open files" not in line[1]:
            problems.append(f"uid {USER} was not stopped with EMFILE: {line}")
        if passthrough and held < 19000:
            problems.append(f"with passthrough uid {USER} could open only {held} files (its own limit is 20,000)")
        if not passthrough and not 100 <= held < 10000:
            problems.append(f"without passthrough uid {USER} opened {held} files: not a fair share")
        other = as_user(OTHER, OTHER_USER_WORKS, str(shared))
        out, _ = other.communicate(timeout=60)
        print(f"  meanwhile uid {OTHER} lists, stats, reads, opens 20 files, creates: exit {other.returncode}: "
              f"{out.strip()[-200:]}")
        if other.returncode != 0:
            problems.append(f"uid {OTHER} could not work while uid {USER} held files open: {out.strip()[-300:]}")
        if not passthrough:
            again = as_user(USER, HOLDER, str(shared), stdin=subprocess.PIPE)
            extra = again.stdout.readline().split()[0]
            again.stdin.close(), again.wait(timeout=30)
            print(f"  a second process of uid {USER} gets {extra} more")
            if int(extra) > held // 2 + 2:
                problems.append(f"a second process of uid {USER} got {extra} more descriptors past its share")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    r = as_user(USER, TOKENS, str(shared / "f1"), str(FASTFS_CLONE_SOURCE))
    out, _ = r.communicate(timeout=60)
    print(f"  uid {USER} asks for 200 clone tokens: {out.strip()}")
    if not out.strip().startswith("16 "):
        problems.append(f"clone tokens per user not capped at 16: {out.strip()}")
    r = subprocess.run(["setpriv", f"--reuid={OTHER}", f"--regid={OTHER}", "--clear-groups", binary, "clone",
                        str(shared / "f1"), str(shared / "clone-by-other")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    print(f"  meanwhile uid {OTHER} runs fastfs clone: exit {r.returncode} {r.stdout.strip()[:200]}")
    if r.returncode != 0 and "not support" not in r.stdout and "Operation not supported" not in r.stdout:
        problems.append(f"uid {OTHER}'s clone failed while uid {USER} held its tokens: {r.stdout.strip()}")
    return problems


def check_stats(binary: str, mnt: Path) -> list[str]:
    problems = []
    r = subprocess.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", binary, "stats",
                        str(mnt)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    print(f"  fastfs stats as uid {USER}: exit {r.returncode}: {r.stdout.strip()[:160]}")
    if r.returncode == 0 or len(r.stdout.strip().splitlines()) != 1:
        problems.append(f"fastfs stats as uid {USER}: exit {r.returncode}, {r.stdout.strip()[:200]!r}")
    r = subprocess.run([binary, "stats", str(mnt)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=30)
    if r.returncode != 0:
        problems.append(f"fastfs stats as root failed: {r.stdout.strip()}")
    return problems


# ---- ext4's reserved blocks ---------------------------------------------------------------------------------

FILL = r"""
import os, sys
written = 0
chunk = b"z" * (1 << 20)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
try:
    while True:
        written += os.write(fd, chunk)
except OSError as e:
    pass
os.close(fd)
print(written)
"""


def fill_as_user(path: Path) -> int:
    r = as_user(USER, FILL, str(path))
    out, _ = r.communicate(timeout=300)
    return int(out.strip().split()[-1])


def check_reserved_blocks(binary: str) -> list[str]:
    problems = []
    with H.loop_fs("ext4", 256 * MIB) as backing:
        H.run(["tune2fs", "-m", "10", H.run(["findmnt", "-n", "-o", "SOURCE", str(backing)]).stdout.strip()])
        backing.chmod(0o777)
        native = fill_as_user(backing / "native-fill")
        os.unlink(backing / "native-fill")
        H.run(["sync"])
        with H.fastfs_mount(binary, backing, "allow_other") as m:
            through = fill_as_user(m.path / "mount-fill")
            os.unlink(m.path / "mount-fill")
        H.run(["sync"])
        root_native = 0
        with open(backing / "root-fill", "wb") as f:  # root may use the reserve: the test can fail
            try:
                while True:
                    root_native += f.write(b"z" * MIB)
                    f.flush()
            except OSError:
                pass
        print(f"  ext4 with 10% reserved: uid {USER} wrote {native // MIB} MiB natively, {through // MIB} MiB "
              f"through the mount; root natively {root_native // MIB} MiB")
        if abs(through - native) > 4 * MIB:
            problems.append(f"through the mount uid {USER} wrote {through // MIB} MiB, natively {native // MIB} MiB")
        if root_native < native + 8 * MIB:
            problems.append("the reserve is not there (root wrote no more than the user): the test proves nothing")
    return problems


# ---- page write-back ---------------------------------------------------------------------------------------
# With writeback_cache (and for shared writable mappings in the page-cache mode) the kernel writes a user's
# pages back from its own context, without credentials (uid 0). The daemon must still write them with the
# user's rights (no root reserve), and must make ENOSPC reach the user (at fsync/msync), never hang or lose
# data silently. Write-back makes write(2) succeed whatever the space left, so both fills sync every chunk
# and count what synced.

WB_CHUNK = 2 * MIB

SYNC_FILL = r"""
import os, sys
chunk, written = b"w" * int(sys.argv[2]), 0
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
try:
    while written < (400 << 20):
        n = os.write(fd, chunk)
        os.fsync(fd)
        written += n
except OSError:
    pass
print(written)
"""

# Prints what synced after each chunk: natively the fault past the space left is SIGBUS, which ends it.
MMAP_FILL = r"""
import mmap, os, sys
size = int(sys.argv[2])
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
chunk = b"m" * size
written = 0
try:
    while written < (400 << 20):
        os.ftruncate(fd, written + size)
        with mmap.mmap(fd, size, mmap.MAP_SHARED, offset=written) as m:
            m[:] = chunk
            m.flush()
        written += size
        print(written, flush=True)
except OSError:
    pass
"""


def _wb_fill(code: str, path: Path) -> int:
    r = as_user(USER, code, str(path), str(WB_CHUNK))
    try:
        out, _ = r.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        r.kill()
        r.communicate()
        return -1
    numbers = [int(w) for w in out.split() if w.isdigit()]
    return numbers[-1] if numbers else 0


def _dd_past_the_end(path: Path, m, mib: int = 400) -> tuple[int | None, float]:
    """dd conv=fsync of `mib` MiB as uid 1000: (its exit code, None if it hung; seconds). A hung dd waits in
    the kernel for the daemon: killing the daemon aborts the connection and releases it."""
    cmd = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "dd", "if=/dev/zero",
           f"of={path}", "bs=1M", f"count={mib}", "conv=fsync"]
    start = time.monotonic()
    dd = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rc = dd.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
        dd.kill()
        m.proc.kill()
        dd.wait()
    return rc, time.monotonic() - start


def check_writeback_credentials(binary: str) -> list[str]:
    problems = []
    with H.loop_fs("ext4", 256 * MIB) as backing:
        H.run(["tune2fs", "-m", "10", H.run(["findmnt", "-n", "-o", "SOURCE", str(backing)]).stdout.strip()])
        backing.chmod(0o777)
        native = {}
        for kind, code in (("write", SYNC_FILL), ("mmap", MMAP_FILL)):
            native[kind] = _wb_fill(code, backing / f"native-{kind}")
            os.unlink(backing / f"native-{kind}")
            H.run(["sync"])
        for options, kind, code in (("allow_other,writeback_cache", "write", SYNC_FILL),
                                    ("allow_other,passthrough=off", "mmap", MMAP_FILL)):
            with H.fastfs_mount(binary, backing, options) as m:
                through = _wb_fill(code, m.path / "fill")
                partial_rc = 1
                if kind == "write" and through > MIB:
                    # 516 KiB left: one write-back request lands partly (a short backing write).
                    os.truncate(backing / "fill", through - 516 * 1024)
                    H.run(["sync"])
                    partial_rc, _ = _dd_past_the_end(m.path / "partial", m, 1)
                os.unlink(m.path / "fill")
                if (m.path / "partial").exists():
                    os.unlink(m.path / "partial")
                rc, seconds = _dd_past_the_end(m.path / "dd", m) if kind == "write" else (1, 0.0)
                alive = m.alive()
            H.run(["sync"])
            for name in ("dd",):
                if (backing / name).exists():
                    os.unlink(backing / name)
            print(f"  {options}, {kind}: uid {USER} synced {native[kind] // MIB} MiB natively, "
                  f"{through // MIB} MiB through the mount" +
                  (f"; dd conv=fsync past the end: exit {rc} after {seconds:.1f} s" if kind == "write" else ""))
            if through < 0:
                problems.append(f"{options}: the {kind} fill did not end within 60 s")
            elif abs(through - native[kind]) > 4 * MIB:
                problems.append(f"{options}: uid {USER} synced {through // MIB} MiB by {kind} through the mount, "
                                f"natively {native[kind] // MIB} MiB")
            if partial_rc == 0:
                problems.append(f"{options}: a 1 MiB dd conv=fsync with 516 KiB left exited 0: the rest was lost")
            if rc is None:
                problems.append(f"{options}: dd conv=fsync past the end still ran after 30 s (aborted)")
            elif rc == 0:
                problems.append(f"{options}: dd conv=fsync past the end exited 0: ENOSPC lost")
            elif not alive:
                problems.append(f"{options}: the daemon died")
    return problems


# ---- read-only mounts ---------------------------------------------------------------------------------------

def check_read_only(binary: str, backing: Path) -> list[str]:
    problems = []
    (backing / "ro-file").write_text("r\n")
    ro_bind = H.make_scratch_dir("fastfs-sec-robind-")
    try:
        H.run(["mount", "--bind", str(backing), str(ro_bind)])
        H.run(["mount", "-o", "remount,bind,ro", str(ro_bind)])
        with H.fastfs_mount(binary, backing, "ro,allow_other") as m:
            for label, root in (("native", ro_bind), ("mount", m.path)):
                results = []
                for name, cmd, value in (("FS_IOC_SETFLAGS +A", FS_IOC_SETFLAGS, FS_NOATIME_FL),
                                         ("FS_IOC32_SETFLAGS +i", FS_IOC32_SETFLAGS, FS_IMMUTABLE_FL)):
                    try:
                        results.append([name, _ioctl_int(str(root / "ro-file"), cmd, value)])
                    except OSError as e:
                        results.append([name, _errname(e)])
                print(f"  read-only {label}: {results}")
                if label == "native":
                    expected = results
                elif results != expected:
                    problems.append(f"read-only mount: {results}, native read-only bind mount: {expected}")
    finally:
        H.unmount(ro_bind)
        ro_bind.rmdir()
    return problems


def _entries(top: Path) -> set[str]:
    return {str(Path(d, n).relative_to(top)) for d, dirs, files in os.walk(top) for n in dirs + files}


def _refused(result: list) -> bool:
    """An errno, or a command's non-zero exit with one line."""
    if result[1] != "ok":
        return True
    value = result[2]
    return isinstance(value, list) and str(value[0]).startswith("exit ") and value[0] != "exit 0" \
        and value[1] == "1 lines"


def check_ro_views(binary: str, backing: Path, mnt: Path) -> list[str]:
    """A read-only bind of the fastfs mount against a read-only bind of the backing: as root and as uid 1000,
    in a directory each owns, every change is refused (EROFS, or the command's one line and non-zero exit),
    fastfs's own copy and clone commands included (natively they run on the backing's bind, where clone -r and
    copy -r work without the daemon), and the backing holds no new entry afterwards."""
    problems = []
    top = backing / "ro-views"
    H.make_tree(top, [("src", "dir", 0o755, USER, USER, None),
                      ("src/data", "file", 0o644, USER, USER, b"d" * 65536),
                      ("src/sub", "dir", 0o755, USER, USER, None),
                      ("src/sub/small", "file", 0o600, USER, USER, b"small\n"),
                      ("root", "dir", 0o755, 0, 0, None),
                      ("root/existing", "file", 0o644, 0, 0, b"existing\n"),
                      ("user", "dir", 0o755, USER, USER, None),
                      ("user/existing", "file", 0o644, USER, USER, b"existing\n")])
    before = _entries(top)
    views = []
    try:
        for label, source in (("native", backing), ("mount", mnt)):
            view = H.make_scratch_dir(f"fastfs-sec-ro-{label}-")
            views.append(view)
            H.run(["mount", "--bind", str(source), str(view)])
            H.run(["mount", "-o", "remount,bind,ro", str(view)])
        native_view, mount_view = views
        for who in ("root", "user"):
            native = run_probe(native_view / "ro-views", who, False, binary)
            through = run_probe(mount_view / "ro-views", who, True, binary)
            problems += compare(f"ro {who}", through, native)
            problems += [f"ro {who} {n[0]}: not refused natively on a read-only bind ({n[1:]}): the check proves "
                         f"nothing" for n in native if not _refused(n)]
    finally:
        for view in reversed(views):
            H.unmount(view)
            if not H.is_mounted(view):
                view.rmdir()
    added = sorted(_entries(top) - before)
    print(f"  new entries on the backing after the read-only views: {added or 'none'}")
    if added:
        problems.append(f"through read-only views the backing got new entries: {added}")
    return problems




# The mount options each run uses (one ctest test per set); "default" also runs the checks made only once.
OPTION_SETS = {
    "default": "allow_other",
    "passthrough=off": "allow_other,passthrough=off",
    "io_uring": "allow_other,io_uring",
    "writeback_cache": "allow_other,writeback_cache",
}

# Files whose content the probes try to forge: afterwards each must be the same in the two trees.
GUARDED = ("append_only", "immutable")

# With writeback_cache the kernel trusts its own file size over the daemon's (docs/consistency.md), so after
# the F_SETFL probe's pwrite, which lands at the end rather than where the kernel put it, a reader through
# the mount sees the size the kernel believes. What matters is checked on the backing (GUARDED): the file
# holds exactly native's bytes.
def _setfl_unseen_cached_size(m: list, n: list) -> bool:
    return (n[1:2] == ["ok"] and n[2][0] == "EPERM" and m[1:2] == ["ok"] and m[2][0] in ("EPERM", "cleared")
            and m[2][1] == n[2][1])


def _read_ok(m: list, n: list) -> bool:
    return m[1:2] == ["ok"] and n[1:2] == ["ok"]


WRITEBACK_CACHE_LIMITS = {
    "F_SETFL -O_APPEND +a, pwrite at 0": (
        "as above; with writeback_cache the content read back through the mount shows the kernel's cached size",
        _setfl_unseen_cached_size),
    "content of +a after": (
        "with writeback_cache the kernel's cached size hides the moved append; the backing holds native's bytes",
        _read_ok),
}
KNOWN_LIMITS = dict(FUSE_LIMITS)


def check_identities(backing: Path, mnt: Path) -> list[str]:
    problems = []
    for who in IDENTITIES:
        native_root, via_root = backing / f"native-{who}", backing / f"via-{who}"
        build_tree(native_root)
        build_tree(via_root)
        native = run_probe(native_root, who, False)
        through = run_probe(mnt / f"via-{who}", who, True)
        problems += compare(who, through, native)
        for name in GUARDED:  # read on the backing, past any cache of the mount
            got, expected = _content(str(via_root / name)), _content(str(native_root / name))
            if got != expected:
                problems.append(f"{who}: {name} on the backing holds {got} after the probes through the mount, "
                                f"{expected} after the native ones")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--options", choices=OPTION_SETS, default="default",
                    help="the mount options of the run (default: allow_other, with kernel passthrough)")
    ap.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--fastfs", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ro-view", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        probe_main(args.probe[0], args.probe[1], args.fastfs, args.ro_view)
        return 0
    H.install_signal_cleanup()
    problems = []
    default = args.options == "default"
    if args.options == "writeback_cache":
        KNOWN_LIMITS.update(WRITEBACK_CACHE_LIMITS)
    print(f"mount options: {OPTION_SETS[args.options]}")
    try:
        with H.loop_fs("xfs", 512 * MIB) as backing:
            backing.chmod(0o755)
            try:
                with H.fuse_uring(args.options == "io_uring"), \
                        H.fastfs_mount(args.binary, backing, OPTION_SETS[args.options]) as m:
                    problems += check_identities(backing, m.path)
                    print("read-only views:")
                    problems += check_ro_views(args.binary, backing, m.path)
                    if default:
                        print("descriptors, passthrough:")
                        problems += check_descriptors(args.binary, m.path, True)
                        print("stats:")
                        problems += check_stats(args.binary, m.path)
                    if not m.alive():
                        problems.append("the daemon died")
                if default:
                    with H.fastfs_mount(args.binary, backing / "native-user", "allow_other,passthrough=off") as m:
                        print("descriptors, passthrough=off:")
                        problems += check_descriptors(args.binary, m.path, False)
                    print("read-only:")
                    problems += check_read_only(args.binary, backing)
            finally:
                for who in IDENTITIES:
                    for side in ("native", "via"):
                        clear_flags(backing / f"{side}-{who}")
        if default:
            print("reserved blocks:")
            problems += check_reserved_blocks(args.binary)
            print("page write-back:")
            problems += check_writeback_credentials(args.binary)
    except H.SetupError as e:
        return H.exit_for_setup_error(e)
    return H.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
