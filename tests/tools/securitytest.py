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
  append-only   chattr +a files take appends and nothing else, +i files nothing
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

  securitytest.py --binary BUILD/fastfs
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import json
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
    elif who == "user+group":
        yield "create in group dir via group 1002", lambda: _create(f"{r}/group_dir/withgroup")
        yield "mkdir in group dir via group 1002", lambda: (os.mkdir(f"{r}/group_dir/sub"),
                                                            _mode(f"{r}/group_dir/sub"))[1]
        yield "chown mine to group 1002 (member)", lambda: (os.chown(f"{r}/mine", -1, GROUP),
                                                            os.stat(f"{r}/mine").st_gid)[1]
        yield "access W_OK group dir", lambda: os.access(f"{r}/group_dir", os.W_OK)
        yield "write a file an ACL gives my group", lambda: _append(f"{r}/acl_group", os.O_WRONLY)
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


def probe_main(root: str, who: str, through_fastfs: bool) -> None:
    os.umask(0o022)
    results = []
    for name, thunk in probes(root, who, through_fastfs):
        try:
            results.append([name, "ok", thunk()])
        except OSError as e:
            results.append([name, _errname(e)])
    print(json.dumps(results))


IDENTITIES = {
    "user": ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups"],
    "user+group": ["setpriv", f"--reuid={USER}", f"--regid={USER}", f"--groups={GROUP}"],
    # Root of a user namespace of its own, mapped to uid 1000 on the host.
    "userns-root": ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "unshare", "-U", "-r"],
    "root": [],
}


def run_probe(root: Path, who: str, through_fastfs: bool) -> list:
    cmd = IDENTITIES[who] + [PYTHON, SELF, "--probe", str(root), who] + (["--fastfs"] if through_fastfs else [])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode != 0:
        raise H.SetupError(f"probe {who} failed: {r.stderr.strip()[-1500:]}")
    return json.loads(r.stdout)


def compare(label: str, through: list, native: list) -> list[str]:
    problems = []
    for m, n in zip(through, native):
        same = m == n
        print(f"  {'  ' if same else '!!'} {label:11} {m[0]:42.42} mount={m[1:]!s:32.32} native={n[1:]!s:.32}")
        if not same:
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--fastfs", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        probe_main(args.probe[0], args.probe[1], args.fastfs)
        return 0
    H.install_signal_cleanup()
    problems = []
    try:
        with H.loop_fs("xfs", 512 * MIB) as backing:
            backing.chmod(0o755)
            try:
                with H.fastfs_mount(args.binary, backing, "allow_other") as m:
                    for who in IDENTITIES:
                        native_root, via_root = backing / f"native-{who}", backing / f"via-{who}"
                        build_tree(native_root)
                        build_tree(via_root)
                        native = run_probe(native_root, who, False)
                        through = run_probe(m.path / f"via-{who}", who, True)
                        problems += compare(who, through, native)
                    print("descriptors, passthrough:")
                    problems += check_descriptors(args.binary, m.path, True)
                    print("stats:")
                    problems += check_stats(args.binary, m.path)
                    if not m.alive():
                        problems.append("the daemon died")
                with H.fastfs_mount(args.binary, backing / "native-user", "allow_other,passthrough=off") as m:
                    print("descriptors, passthrough=off:")
                    problems += check_descriptors(args.binary, m.path, False)
                print("read-only:")
                problems += check_read_only(args.binary, backing)
            finally:
                for who in IDENTITIES:
                    for side in ("native", "via"):
                        clear_flags(backing / f"{side}-{who}")
        print("reserved blocks:")
        problems += check_reserved_blocks(args.binary)
        print("page write-back:")
        problems += check_writeback_credentials(args.binary)
    except H.SetupError as e:
        return H.exit_for_setup_error(e)
    return H.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
