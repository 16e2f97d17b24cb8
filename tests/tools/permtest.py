#!/usr/bin/env python3
"""Permissions with allow_other: the same operations, run as unprivileged uids through the fastfs mount and
directly on the backing filesystem, must give the same results and errno.

Two identical trees are made on the backing filesystem (files and dirs of various modes owned by uids
1000/1001, a sticky dir, a setgid dir): one is reached through the mount, the other directly. A probe (this
script with --probe, run via `setpriv --reuid=1000 --regid=1000 --clear-groups`, umask 027) performs each
operation and prints the results as JSON; the two result lists are compared op by op. No system users are
created. Also checks that `fastfs clone` / `fastfs copy` run as uid 1000 do not exceed that user's rights.

  permtest.py --binary BUILD/fastfs [--fs xfs]
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

USER, OTHER, OTHER_GROUP = 1000, 1001, 1002
SECRET = b"top secret of uid 1001\n"
# The probe runs as an unprivileged user, who cannot use root's python (e.g. a pyenv under /root).
PROBE_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# (path, kind, mode, uid, gid, content or symlink target)
TREE = [
    ("secret", "file", 0o600, OTHER, OTHER, SECRET),
    ("ro_own", "file", 0o444, USER, USER, b"read-only, mine\n"),
    ("ro_other", "file", 0o644, OTHER, OTHER, b"readable by all\n"),
    ("mine", "file", 0o644, USER, USER, b"mine " * 3000),
    ("world_rw", "file", 0o666, OTHER, OTHER, b"anyone may write, only 1001 may chmod\n"),
    ("suid_rw", "file", 0o6777, OTHER, OTHER, b"setuid+setgid, writable by all\n"),
    ("nowrite_dir", "dir", 0o555, USER, USER, None),
    ("other_dir", "dir", 0o755, OTHER, OTHER, None),
    ("other_dir/x", "file", 0o666, OTHER, OTHER, b"x\n"),
    ("private_dir", "dir", 0o700, OTHER, OTHER, None),
    ("private_dir/y", "file", 0o644, OTHER, OTHER, b"y\n"),
    ("sticky", "dir", 0o1777, 0, 0, None),
    ("sticky/victim", "file", 0o666, OTHER, OTHER, b"victim\n"),
    ("sticky/own", "file", 0o644, USER, USER, b"own\n"),
    ("setgid_dir", "dir", 0o2777, OTHER, OTHER_GROUP, None),
    ("open_dir", "dir", 0o777, 0, 0, None),
]


def build_tree(root: Path) -> None:
    H.make_tree(root, TREE)


# ---- the probe: runs as the unprivileged user -------------------------------------------------------------

def probe_ops(root: str):
    """Yields (name, thunk); each thunk returns a JSON-able value or raises OSError."""
    P = lambda rel: os.path.join(root, rel)  # noqa: E731

    def read(rel):
        with open(P(rel), "rb") as f:
            return f.read().decode(errors="replace")[:40]

    def open_close(rel, flags, mode=0o666):
        os.close(os.open(P(rel), flags, mode))
        return "opened"

    def create_and_stat(rel, mode=0o666):
        os.close(os.open(P(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))
        return owner_mode(rel)

    def mkdir_and_stat(rel, mode=0o777):
        os.mkdir(P(rel), mode)
        return owner_mode(rel)

    def owner_mode(rel):
        st = os.lstat(P(rel))
        return [stat.filemode(st.st_mode), st.st_uid, st.st_gid]

    def write_then_mode(rel):
        fd = os.open(P(rel), os.O_WRONLY)
        try:
            os.pwrite(fd, b"W", 0)
        finally:
            os.close(fd)
        return owner_mode(rel)

    def copy_range(src_rel, src_flags, dst_rel, dst_flags):
        src = os.open(P(src_rel), src_flags)
        try:
            dst = os.open(P(dst_rel), dst_flags, 0o644)
            try:
                return os.copy_file_range(src, dst, 1 << 20, 0, 0)
            finally:
                os.close(dst)
        finally:
            os.close(src)

    yield "read secret (0600 of 1001)", lambda: read("secret")
    yield "read ro_other", lambda: read("ro_other")
    yield "open ro_own O_WRONLY (own 0444)", lambda: open_close("ro_own", os.O_WRONLY)
    yield "open ro_own O_RDWR", lambda: open_close("ro_own", os.O_RDWR)
    yield "open ro_other O_WRONLY", lambda: open_close("ro_other", os.O_WRONLY)
    yield "open ro_other O_TRUNC", lambda: open_close("ro_other", os.O_WRONLY | os.O_TRUNC)
    yield "open world_rw O_WRONLY", lambda: open_close("world_rw", os.O_WRONLY)
    yield "write suid_rw clears setuid/setgid", lambda: write_then_mode("suid_rw")
    yield "create in nowrite_dir", lambda: open_close("nowrite_dir/new", os.O_CREAT | os.O_WRONLY)
    yield "mkdir in nowrite_dir", lambda: os.mkdir(P("nowrite_dir/sub"))
    yield "symlink in nowrite_dir", lambda: os.symlink("x", P("nowrite_dir/l"))
    yield "unlink in other_dir", lambda: os.unlink(P("other_dir/x"))
    yield "rename out of other_dir", lambda: os.rename(P("other_dir/x"), P("open_dir/x"))
    yield "mkdir in other_dir", lambda: os.mkdir(P("other_dir/sub"))
    yield "write other_dir/x (0666)", lambda: write_then_mode("other_dir/x")
    yield "listdir private_dir (0700 of 1001)", lambda: sorted(os.listdir(P("private_dir")))
    yield "stat through private_dir", lambda: owner_mode("private_dir/y")
    yield "unlink sticky/victim (1001's)", lambda: os.unlink(P("sticky/victim"))
    yield "rename sticky/victim", lambda: os.rename(P("sticky/victim"), P("sticky/v2"))
    yield "unlink sticky/own", lambda: os.unlink(P("sticky/own"))
    yield "create open_dir/c (umask 027)", lambda: create_and_stat("open_dir/c")
    yield "mkdir open_dir/dd (umask 027)", lambda: mkdir_and_stat("open_dir/dd")
    yield "create in setgid_dir", lambda: create_and_stat("setgid_dir/g")
    yield "mkdir in setgid_dir", lambda: mkdir_and_stat("setgid_dir/gd")
    yield "create 02777 in setgid_dir (not a member)", lambda: create_and_stat("setgid_dir/g2", 0o2777)
    yield "chmod secret", lambda: os.chmod(P("secret"), 0o644)
    yield "chmod world_rw", lambda: os.chmod(P("world_rw"), 0o600)
    yield "chmod mine", lambda: (os.chmod(P("mine"), 0o600), owner_mode("mine"))[1]
    yield "chmod own open_dir/c g+s", lambda: (os.chmod(P("open_dir/c"), 0o2640), owner_mode("open_dir/c"))[1]
    yield "chown mine to 1001", lambda: os.chown(P("mine"), OTHER, -1)
    yield "chown mine to group 1001", lambda: os.chown(P("mine"), -1, OTHER)
    yield "chown mine to itself", lambda: os.chown(P("mine"), USER, USER)
    yield "truncate ro_other", lambda: os.truncate(P("ro_other"), 0)
    yield "truncate world_rw", lambda: os.truncate(P("world_rw"), 5)
    yield "utime ro_other explicit", lambda: os.utime(P("ro_other"), (1, 1))
    yield "utime ro_other now", lambda: os.utime(P("ro_other"))
    yield "utime world_rw now", lambda: os.utime(P("world_rw"))
    yield "utime world_rw explicit", lambda: os.utime(P("world_rw"), (1, 1))
    yield "link ro_other (protected_hardlinks)", lambda: os.link(P("ro_other"), P("open_dir/hl1"))
    yield "link world_rw", lambda: os.link(P("world_rw"), P("open_dir/hl2"))
    yield "link secret", lambda: os.link(P("secret"), P("open_dir/hl3"))
    yield "copy_file_range from secret", lambda: copy_range("secret", os.O_RDONLY, "open_dir/cs",
                                                             os.O_WRONLY | os.O_CREAT)
    yield "copy_file_range into ro_other", lambda: copy_range("mine", os.O_RDONLY, "ro_other", os.O_WRONLY)
    yield "copy_file_range into O_RDONLY fd", lambda: copy_range("mine", os.O_RDONLY, "world_rw", os.O_RDONLY)
    yield "copy_file_range from O_WRONLY fd", lambda: copy_range("world_rw", os.O_WRONLY, "open_dir/cw",
                                                                  os.O_WRONLY | os.O_CREAT)
    yield "copy_file_range mine -> open_dir/cm", lambda: copy_range("mine", os.O_RDONLY, "open_dir/cm",
                                                                     os.O_WRONLY | os.O_CREAT)
    yield "read back open_dir/cm", lambda: read("open_dir/cm")
    yield "owner of open_dir/cm", lambda: owner_mode("open_dir/cm")
    yield "setxattr user.k on mine", lambda: os.setxattr(P("mine"), "user.k", b"v")
    yield "setxattr user.k on ro_other", lambda: os.setxattr(P("ro_other"), "user.k", b"v")
    yield "setxattr trusted.k on mine", lambda: os.setxattr(P("mine"), "trusted.k", b"v")
    yield "rename mine over ro_other", lambda: os.rename(P("mine"), P("ro_other"))
    yield "rmdir private_dir", lambda: os.rmdir(P("private_dir"))


def probe(root: str) -> None:
    os.umask(0o027)
    results = []
    for name, thunk in probe_ops(root):
        try:
            results.append([name, "ok", thunk()])
        except OSError as e:
            results.append([name, errno.errorcode.get(e.errno, str(e.errno))])
    results.append(["whoami", [os.getuid(), os.getgid(), os.getgroups()]])
    print(json.dumps(results))


def run_probe(root: Path, uid: int = USER) -> list:
    r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", PROBE_PYTHON,
                        str(Path(__file__).resolve()), "--probe", str(root)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode != 0:
        raise H.SetupError(f"probe as uid {uid} failed: {r.stderr.strip()[-1500:]}")
    return json.loads(r.stdout)


# ---- the clone ioctls (include/fastfs/ioctl_abi.h), raw, as unprivileged users ----------------------------

def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (0xFA << 8) | nr


IOC_CLONE_SOURCE = _ioc(2, 2, 8)   # _IOR: struct fastfs_clone_token
IOC_CLONE_INTO = _ioc(1, 3, 32)    # _IOW: struct fastfs_clone_request


def clone_token(path: str, flags: int) -> int:
    import fcntl
    import struct
    fd = os.open(path, flags)
    try:
        return struct.unpack("Q", fcntl.ioctl(fd, IOC_CLONE_SOURCE, bytes(8)))[0]
    finally:
        os.close(fd)


def clone_into(token: int, path: str, flags: int) -> str:
    import fcntl
    import struct
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.ioctl(fd, IOC_CLONE_INTO, struct.pack("QQQQ", token, 0, 0, 0))
        return "cloned"
    finally:
        os.close(fd)


def ioctl_probe(args: list[str]) -> None:
    """--ioctl token PATH FLAGS | --ioctl into TOKEN PATH FLAGS: prints ["ok", value] or [errno name]."""
    try:
        if args[0] == "token":
            out = ["ok", clone_token(args[1], int(args[2]))]
        else:
            out = ["ok", clone_into(int(args[1]), args[2], int(args[3]))]
    except OSError as e:
        out = [errno.errorcode.get(e.errno, str(e.errno))]
    print(json.dumps(out))


def run_ioctl_probe(uid: int, args: list[str]) -> list:
    r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", PROBE_PYTHON,
                        str(Path(__file__).resolve()), "--ioctl"] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        raise H.SetupError(f"ioctl probe as uid {uid} failed: {r.stderr.strip()[-800:]}")
    return json.loads(r.stdout)


def check_clone_ioctls(mnt_root: Path, backing_root: Path) -> list[str]:
    """The daemon runs as root: each step must hold the caller to what the caller's descriptor allows."""
    problems = []
    wo = backing_root / "write_only"
    wo.write_bytes(SECRET)
    os.chown(wo, OTHER, OTHER)
    os.chmod(wo, 0o622)  # uid 1000 may write it, not read it
    target = mnt_root / "open_dir" / "ioctl-target"
    r = run_ioctl_probe(USER, ["token", mnt_root / "write_only", os.O_WRONLY])
    print(f"  CLONE_SOURCE on a write-only fd as uid {USER}: {r}")
    if r[0] == "ok":
        r2 = run_ioctl_probe(USER, ["into", r[1], target, os.O_WRONLY | os.O_CREAT])
        problems.append(f"CLONE_SOURCE accepted a write-only descriptor (then CLONE_INTO: {r2})")
    r = run_ioctl_probe(OTHER, ["token", mnt_root / "secret", os.O_RDONLY])
    print(f"  CLONE_SOURCE on secret as its owner uid {OTHER}: {r}")
    if r[0] == "ok":
        r2 = run_ioctl_probe(USER, ["into", r[1], target, os.O_WRONLY | os.O_CREAT])
        print(f"  CLONE_INTO with uid {OTHER}'s token as uid {USER}: {r2}")
        if r2[0] == "ok":
            problems.append(f"uid {USER} redeemed a clone token issued to uid {OTHER}")
    r = run_ioctl_probe(USER, ["token", mnt_root / "mine", os.O_RDONLY])
    if r[0] == "ok":
        r2 = run_ioctl_probe(USER, ["into", r[1], mnt_root / "ro_other", os.O_RDONLY])
        print(f"  CLONE_INTO a read-only descriptor: {r2}")
        if r2[0] == "ok":
            problems.append("CLONE_INTO accepted a read-only destination descriptor")
    leaked = backing_root / "open_dir" / "ioctl-target"
    if leaked.exists() and SECRET[:10] in leaked.read_bytes():
        problems.append("the secret reached uid 1000's file through the clone ioctls")
    return problems


# ---- fastfs clone / copy as the unprivileged user ---------------------------------------------------------

def run_as_user(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups"] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)


def check_tools(binary: str, mnt_root: Path, backing_root: Path) -> list[str]:
    problems = []
    ro_before = (backing_root / "ro_other").read_bytes()
    for sub in ("clone", "copy"):
        stolen = mnt_root / "open_dir" / f"stolen-{sub}"
        r = run_as_user([binary, sub, str(mnt_root / "secret"), str(stolen)])
        print(f"  fastfs {sub} secret -> open_dir as uid {USER}: exit {r.returncode}: {r.stdout.strip()[:200]!r}")
        if r.returncode == 0:
            problems.append(f"fastfs {sub} of an unreadable file succeeded for uid {USER}")
        leaked = backing_root / "open_dir" / f"stolen-{sub}"
        if leaked.exists() and SECRET[:10] in leaked.read_bytes():
            problems.append(f"fastfs {sub} leaked the secret into {leaked}")
        r = run_as_user([binary, sub, str(mnt_root / "open_dir" / "cm"), str(mnt_root / "ro_other")])
        print(f"  fastfs {sub} -> ro_other (not writable) as uid {USER}: exit {r.returncode}: "
              f"{r.stdout.strip()[:200]!r}")
        if r.returncode == 0:
            problems.append(f"fastfs {sub} into a file uid {USER} cannot write succeeded")
        if (backing_root / "ro_other").read_bytes() != ro_before:
            problems.append(f"fastfs {sub} as uid {USER} changed ro_other")
    return problems


def compare(results_mount: list, results_native: list) -> list[str]:
    problems = []
    for m, n in zip(results_mount, results_native):
        mark = "  " if m == n else "!!"
        print(f"  {mark} {m[0]:45s} mount={m[1:]!s:40.40s} native={n[1:]!s:.40s}")
        if m != n:
            problems.append(f"{m[0]}: through the mount {m[1:]}, native {n[1:]}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--fs", default="xfs", choices=["xfs", "ext4", "btrfs", "tmpfs"])
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--ioctl", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ioctl:
        ioctl_probe(args.ioctl)
        return 0
    if args.probe:
        probe(args.probe)
        return 0
    H.install_signal_cleanup()
    try:
        with H.loop_fs(args.fs, 512 << 20) as backing:
            build_tree(backing / "via-mount")
            build_tree(backing / "native")
            with H.fastfs_mount(args.binary, backing, "allow_other") as m:
                native = run_probe(backing / "native")
                through = run_probe(m.path / "via-mount")
                problems = compare(through, native)
                problems += check_tools(args.binary, m.path / "via-mount", backing / "via-mount")
                problems += check_clone_ioctls(m.path / "via-mount", backing / "via-mount")
                if not m.alive():
                    problems.append("the daemon died")
            # Unmounted: what the backing holds must match as well (ownership really set on disk).
            for rel in ("open_dir/c", "open_dir/dd", "setgid_dir/g", "setgid_dir/gd", "open_dir/cm"):
                a, b = os.lstat(backing / "via-mount" / rel), os.lstat(backing / "native" / rel)
                if (a.st_uid, a.st_gid, a.st_mode) != (b.st_uid, b.st_gid, b.st_mode):
                    problems.append(f"backing {rel}: via mount {a.st_uid}:{a.st_gid} {stat.filemode(a.st_mode)}, "
                                    f"native {b.st_uid}:{b.st_gid} {stat.filemode(b.st_mode)}")
    except H.SetupError as e:
        return H.exit_for_setup_error(e)
    except FileNotFoundError as e:
        problems = [f"expected file missing: {e}"]
    return H.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
