"""Real resources for fastfs reliability tests: loop-mounted filesystems and a running fastfs mount.

Everything made here is undone on exit, also on exceptions and on SIGTERM/SIGINT/SIGHUP (the handler turns the
signal into SystemExit so every `with` block unwinds). Stdlib only.

Exit-code convention of the test scripts that use this module (ctest: SKIP_RETURN_CODE 77):
  0 pass, 1 fail, 77 skipped because a facility is missing -- but in CI (CI=true) a missing facility is a failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_SKIP = 77


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


class SetupError(Exception):
    """A facility (loop device, /dev/fuse, mkfs, the binary) is missing: skip outside CI, fail in CI."""


def exit_for_setup_error(err: SetupError) -> int:
    if in_ci():
        print(f"FAIL: cannot set up: {err}", file=sys.stderr)
        return EXIT_FAIL
    print(f"SKIP (not in CI): cannot set up: {err}", file=sys.stderr)
    return EXIT_SKIP


def _raise_system_exit(signum, _frame):
    # Turning the signal into an exception lets context managers unmount and detach loop devices.
    raise SystemExit(128 + signum)


_CLEANUP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def install_signal_cleanup() -> None:
    for sig in _CLEANUP_SIGNALS:
        signal.signal(sig, _raise_system_exit)


def default_signals() -> None:
    """For a forked worker process, which has nothing to unmount. With the parent's handler inherited, a
    SIGTERM that lands just before a blocking wait (the pool's queue lock) runs the handler only after the
    wait returns, which is never; multiprocessing.Pool.terminate() then waits for that worker forever."""
    for sig in _CLEANUP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def scratch_root() -> Path:
    # Images are sparse; /var/tmp is on the big disk, /tmp may be a small tmpfs.
    return Path(os.environ.get("FASTFS_TEST_TMPDIR", "/var/tmp"))


def make_scratch_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_root()))
    # Unprivileged clients (permission tests) must be able to reach mountpoints below it.
    path.chmod(0o755)
    return path


def run(cmd: list[str], check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          **kwargs)
    if check and proc.returncode != 0:
        raise SetupError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stdout.strip()}")
    return proc


def _mountinfo_entries():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields = head.split()
            mount_point = fields[4].replace("\\040", " ")
            fstype = tail.split()[0] if tail else ""
            yield mount_point, fstype


def is_mounted(path: Path | str, fstype: str | None = None) -> bool:
    target = os.path.normpath(os.path.abspath(str(path)))
    return any(mp == target and (fstype is None or ft == fstype) for mp, ft in _mountinfo_entries())


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def unmount(path: Path | str) -> None:
    """umount, then a lazy umount if something still holds it."""
    if not is_mounted(path):
        return
    if subprocess.run(["umount", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


MKFS = {
    "xfs": ["mkfs.xfs", "-q", "-f", "-m", "reflink=1"],
    "ext4": ["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1"],
    "btrfs": ["mkfs.btrfs", "-q", "-f"],
}


@contextlib.contextmanager
def loop_fs(fstype: str, size_bytes: int, mount_options: str | None = None):
    """Yields the mount directory of a fresh filesystem of `fstype` (xfs with reflink, ext4, btrfs, tmpfs),
    mounted with `mount_options` (e.g. "noatime") when given."""
    if fstype != "tmpfs" and fstype not in MKFS:
        raise SetupError(f"unknown filesystem type {fstype}")
    work = make_scratch_dir(f"fastfs-rel-{fstype}-")
    mnt = work / "mnt"
    mnt.mkdir()
    try:
        if fstype == "tmpfs":
            extra = f",{mount_options}" if mount_options else ""
            run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}{extra}", "fastfs-rel", str(mnt)])
        else:
            image = work / "fs.img"
            with open(image, "wb") as f:
                f.truncate(size_bytes)
            run(MKFS[fstype] + [str(image)])
            # -o loop sets autoclear: unmounting detaches the loop device.
            run(["mount", "-o", "loop" + (f",{mount_options}" if mount_options else ""), str(image), str(mnt)])
        yield mnt
    finally:
        unmount(mnt)
        if not is_mounted(mnt):
            shutil.rmtree(work, ignore_errors=True)


def default_binary() -> str:
    return os.environ.get("FASTFS_BINARY", "fastfs")


@dataclass
class FastfsMount:
    path: Path
    proc: subprocess.Popen
    log_path: Path
    backing: Path
    args: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """fusermount3 -u, wait for the daemon; SIGKILL + umount -l as a last resort. Returns its exit code."""
        if is_mounted(self.path):
            r = subprocess.run(["fusermount3", "-u", str(self.path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            if is_mounted(self.path):
                subprocess.run(["umount", "-l", str(self.path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            return None


def start_fastfs(binary: str, backing: Path, mountpoint: Path, options: str | None = None,
                 extra_args: list[str] | None = None, log_path: Path | None = None,
                 timeout: float = 15.0) -> FastfsMount:
    """Starts `fastfs -f BACKING MNT [-o options]` and waits until mountinfo shows fuse.fastfs there."""
    args = [binary, "-f", str(backing), str(mountpoint)]
    if options:
        args += ["-o", options]
    args += extra_args or []
    log_path = log_path or mountpoint.parent / f"fastfs-{mountpoint.name}.log"
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    except OSError as e:
        raise SetupError(f"cannot start {binary}: {e}") from e
    finally:
        log.close()
    m = FastfsMount(path=mountpoint, proc=proc, log_path=log_path, backing=backing, args=args)
    up = wait_until(lambda: proc.poll() is not None or is_mounted(mountpoint, "fuse.fastfs"), timeout)
    if up and proc.poll() is None:
        # The mount appears before INIT is answered; a daemon that fails INIT unmounts and exits, leaving a
        # plain directory that tests would silently use natively. A request that needs the daemon settles it.
        try:
            os.listdir(mountpoint)
            served = os.stat(mountpoint).st_dev != os.stat(mountpoint.parent).st_dev
        except OSError:
            served = False
        time.sleep(0.3)  # a failed INIT shows up as the daemon exiting shortly after
        up = served and proc.poll() is None and is_mounted(mountpoint, "fuse.fastfs")
    if not up:
        m.stop()
        raise SetupError(f"fastfs did not mount ({' '.join(args)}): {m.log().strip()[-2000:]}")
    return m


@contextlib.contextmanager
def fastfs_mount(binary: str, backing: Path, options: str | None = None, extra_args: list[str] | None = None):
    """Yields a FastfsMount of `backing` on a private mountpoint; unmounts and reaps the daemon on exit."""
    work = make_scratch_dir("fastfs-rel-mnt-")
    mnt = work / "mnt"
    mnt.mkdir()
    m = None
    try:
        m = start_fastfs(binary, backing, mnt, options, extra_args, log_path=work / "fastfs.log")
        yield m
    finally:
        if m is not None:
            m.stop()
            if os.environ.get("FASTFS_REL_SHOW_LOG"):
                sys.stderr.write(m.log())
        unmount(mnt)
        if not is_mounted(mnt):
            shutil.rmtree(work, ignore_errors=True)


# ---- trees and verdicts ---------------------------------------------------------------------------------------

def make_tree(root: Path, entries) -> None:
    """Makes `root` and, in order, each (relative path, "file" or "dir", mode, uid, gid, content) entry."""
    root.mkdir()
    root.chmod(0o755)
    for rel, kind, mode, uid, gid, content in entries:
        p = root / rel
        if kind == "dir":
            p.mkdir()
        else:
            p.write_bytes(content)
        os.chown(p, uid, gid)
        os.chmod(p, mode)  # after chown: chown clears setuid/setgid


def verdict(problems: list[str]) -> int:
    """Prints each problem and returns the exit code: pass without problems, fail with any."""
    for p in problems:
        print("FAIL: " + p)
    return EXIT_FAIL if problems else EXIT_PASS


# ---- process sampling -------------------------------------------------------------------------------------

def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def vm_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in KiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


# ---- syscalls Python does not wrap ------------------------------------------------------------------------

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
_libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    if _libc.fallocate(fd, mode, offset, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def renameat2(old: str, new: str, flags: int) -> None:
    if _libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def data_map(fd: int, size: int) -> list[tuple[int, int]] | None:
    """Data extents as reported by SEEK_DATA/SEEK_HOLE; None when the filesystem does not support them."""
    extents = []
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            if e.errno in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS):
                return None
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        extents.append((start, end))
        pos = end
    return extents


def statvfs_used(path: Path | str) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


URING_PARAMETER = Path("/sys/module/fuse/parameters/enable_uring")


@contextlib.contextmanager
def fuse_uring(wanted: bool):
    """The kernel's FUSE over io_uring on for the block, then as it was, also on failure and on SIGTERM (the
    handler turns it into SystemExit). ctest runs the io_uring tests under the resource lock fuse_uring."""
    if not wanted:
        yield
        return
    if not URING_PARAMETER.exists():
        raise SetupError("this kernel has no FUSE over io_uring")
    before = URING_PARAMETER.read_text().strip()
    try:
        URING_PARAMETER.write_text("Y")
        yield
    finally:
        URING_PARAMETER.write_text(before)
