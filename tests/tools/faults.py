#!/usr/bin/env python3
"""Fault scenarios against a real fastfs mount over a real loop-mounted filesystem.

  sigterm         SIGTERM unmounts cleanly (also with a file held open); fsync'd writes are on the backing.
  sigkill         kill -9 leaves backing data intact; fastfs on the dead mountpoint detaches it and mounts;
                  the new mount serves the same data.
  enospc-xfs      writes on a full 300 MiB XFS get ENOSPC (not EIO, not silent success); a copy_file_range
  enospc-ext4     that runs out of space fails with ENOSPC and never changes the source (64 MiB ext4).
  backing-changes create/rename/delete/truncate/append made directly on the backing are visible through the
                  mount after 1.5 s (attribute/entry timeout 1 s).
  unlinked-open   a file unlinked while open stays readable/writable; after close the space is freed within 5 s.
  mmap-append     shared-mmap stores to a file opened O_APPEND land at their offsets (writeback WRITE path).

  faults.py --binary BUILD/fastfs [--test NAME ...]
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

MIB = 1 << 20


class Failure(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failure(what)


def write_file(path: Path, data: bytes, sync: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def sha(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


# ---- signals ---------------------------------------------------------------------------------------------

def test_sigterm(binary: str) -> None:
    with H.loop_fs("xfs", 512 * MIB) as backing:
        with H.fastfs_mount(binary, backing) as m:
            data = os.urandom(3 * MIB + 123)
            write_file(m.path / "synced", data, sync=True)
            held = os.open(m.path / "synced", os.O_RDONLY)  # an open file must not stop the shutdown
            try:
                m.proc.send_signal(signal.SIGTERM)
                try:
                    code = m.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    raise Failure("the daemon did not exit within 10 s of SIGTERM")
            finally:
                try:
                    os.close(held)
                except OSError as e:  # the flush of a file on a connection that is gone
                    print(f"  close of the held file after shutdown: {errno.errorcode.get(e.errno)}")
            check(H.wait_until(lambda: not H.is_mounted(m.path), 5),
                  f"still mounted 5 s after the daemon exited on SIGTERM: {m.path}")
            check(code == 0, f"daemon exit code on SIGTERM is {code}, expected 0; log: {m.log()[-800:]}")
        check((backing / "synced").read_bytes() == data, "fsync'd data not on the backing after SIGTERM")
        print(f"  SIGTERM: exit 0, unmounted, fsync'd 3 MiB intact")


def test_sigkill(binary: str) -> None:
    with H.loop_fs("xfs", 512 * MIB) as backing:
        (backing / "before").write_bytes(b"written before mounting\n")
        data = os.urandom(2 * MIB)
        with H.fastfs_mount(binary, backing) as m:
            write_file(m.path / "synced", data, sync=True)
            m.proc.kill()
            m.proc.wait(timeout=10)
            check(H.is_mounted(m.path, "fuse.fastfs"), "mount vanished on kill -9 (expected a dead mount)")
            try:
                os.stat(m.path / "synced")
                raise Failure("stat on a dead mount succeeded")
            except OSError as e:
                # ECONNABORTED when the dead daemon served the mount over io_uring queues.
                check(e.errno in (errno.ENOTCONN, errno.ECONNABORTED),
                      f"stat on a dead mount: {errno.errorcode.get(e.errno)}")
            check((backing / "synced").read_bytes() == data, "fsync'd data damaged on the backing after kill -9")
            check((backing / "before").read_bytes() == b"written before mounting\n", "pre-existing file damaged")
            # Mounting again recovers by itself (mount MNT, fstab and systemd all run fastfs again): the dead
            # mount is detached with one note line, and the new daemon serves the same path.
            r = subprocess.run([binary, str(backing), str(m.path)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30)
            print(f"  fastfs on the dead mountpoint exited {r.returncode}: {r.stdout.strip()[:300]!r}")
            try:
                check(r.returncode == 0, "fastfs on a dead mountpoint did not mount again")
                check("had died" in r.stdout and len(r.stdout.strip().splitlines()) == 1,
                      f"not one line saying the daemon had died: {r.stdout.strip()!r}")
                check(H.wait_until(lambda: os.path.exists(m.path / "synced")), "the mount does not answer again")
                check((m.path / "synced").read_bytes() == data, "data differs after remount")
                write_file(m.path / "after", b"works\n")
                check((backing / "after").read_bytes() == b"works\n", "write after remount not on backing")
            finally:
                H.unmount(m.path)
        print("  kill -9: backing intact, the dead mount reported ENOTCONN/ECONNABORTED, mounting again "
              "recovered it")


# ---- ENOSPC -----------------------------------------------------------------------------------------------

def fill_until_enospc(path: Path, chunk: int = MIB) -> tuple[int, int]:
    """Writes until the first error; returns (bytes written, errno). Fails the test on silent success."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written, err = 0, 0
    block = os.urandom(chunk)
    try:
        while written < (8 << 30):
            try:
                n = os.write(fd, block)
            except OSError as e:
                err = e.errno
                break
            written += n
        try:
            os.fsync(fd)
        except OSError as e:
            err = err or e.errno
            check(e.errno == errno.ENOSPC, f"fsync after filling: {errno.errorcode.get(e.errno)}, expected ENOSPC")
    finally:
        try:
            os.close(fd)
        except OSError as e:
            check(e.errno == errno.ENOSPC, f"close after filling: {errno.errorcode.get(e.errno)}")
    return written, err


def enospc_scenario(binary: str, fstype: str, size_mib: int, source_mib: int) -> None:
    with H.loop_fs(fstype, size_mib * MIB) as backing:
        with H.fastfs_mount(binary, backing) as m:
            source = m.path / "source"
            write_file(source, os.urandom(source_mib * MIB), sync=True)
            source_sha = sha(backing / "source")
            written, err = fill_until_enospc(m.path / "filler")
            print(f"  {fstype}: wrote {written / MIB:.0f} MiB, then {errno.errorcode.get(err, err)}")
            check(err == errno.ENOSPC, f"full {fstype} gave {errno.errorcode.get(err, err)}, expected ENOSPC")
            # Small writes on the full fs must fail the same way, not vanish.
            try:
                write_file(m.path / "small", os.urandom(256 * 1024), sync=True)
                st = os.stat(backing / "small")
                check(st.st_size == 256 * 1024, "small write on a full fs reported success but data is missing")
            except OSError as e:
                check(e.errno == errno.ENOSPC, f"small write on full fs: {errno.errorcode.get(e.errno)}")
            # Leave a few MiB free: a full copy of the source cannot fit unless it is a reflink.
            os.truncate(m.path / "filler", max(0, written - 4 * MIB))
            copy_into_full_fs(m.path, backing, source, fstype)
            check(sha(backing / "source") == source_sha, "copy_file_range on a full fs changed the source")
            check(sha(source) == source_sha, "source reads differently through the mount after the failed copy")


def copy_into_full_fs(mnt: Path, backing: Path, source: Path, fstype: str) -> None:
    size = os.stat(source).st_size
    src = os.open(source, os.O_RDONLY)
    dst = os.open(mnt / "copy", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    copied, err = 0, 0
    try:
        while copied < size:
            try:
                n = os.copy_file_range(src, dst, size - copied, copied, copied)
            except OSError as e:
                err = e.errno
                break
            if n == 0:
                break
            copied += n
    finally:
        os.close(src)
        os.close(dst)
    print(f"  {fstype}: copy_file_range of {size / MIB:.0f} MiB into a nearly full fs: copied "
          f"{copied / MIB:.1f} MiB, errno {errno.errorcode.get(err, err)}")
    if copied == size:
        # Only a reflink can make this fit; the copy must then be exact.
        check(fstype in ("xfs", "btrfs"), f"a {size} byte copy fit into ~4 MiB of free space on {fstype}")
        check(sha(backing / "copy") == sha(source), "copy reported complete but differs from the source")
    else:
        check(err == errno.ENOSPC, f"copy ran out of space with {errno.errorcode.get(err, err)}, expected ENOSPC")
        with open(backing / "copy", "rb") as f, open(source, "rb") as s:
            check(f.read(copied) == s.read(copied), "the part of the copy that was reported done is wrong")


def test_enospc_xfs(binary: str) -> None:
    enospc_scenario(binary, "xfs", 300, 64)


def test_enospc_ext4(binary: str) -> None:
    enospc_scenario(binary, "ext4", 64, 16)


# ---- coherence with the backing directory -----------------------------------------------------------------

def test_backing_changes(binary: str) -> None:
    # ext4 hands a freed inode number to the next new file at once, which the inode-reuse part needs.
    with H.loop_fs("ext4", 256 * MIB) as backing:
        for name, data in (("renamed", b"r" * 100), ("deleted", b"d" * 100), ("truncated", b"t" * 5000),
                           ("appended", b"a" * 1000)):
            (backing / name).write_bytes(data)
        # A small fd cache lets the daemon drop its descriptor of a deleted file, so its number can be reused.
        with H.fastfs_mount(binary, backing, "fd_cache=16") as m:
            # Let the kernel cache everything first, so the test sees invalidation and not a cold lookup.
            for name in ("renamed", "deleted", "truncated", "appended"):
                (m.path / name).read_bytes()
            check(not (m.path / "created").exists(), "created exists too early")
            sorted(os.listdir(m.path))
            (backing / "created").write_bytes(b"new file\n")
            os.rename(backing / "renamed", backing / "renamed-to")
            os.unlink(backing / "deleted")
            os.truncate(backing / "truncated", 10)
            with open(backing / "appended", "ab") as f:
                f.write(b"b" * 500)
            time.sleep(1.5)
            problems = []
            expect = {"created": b"new file\n", "renamed-to": b"r" * 100, "truncated": b"t" * 10,
                      "appended": b"a" * 1000 + b"b" * 500}
            for name, data in expect.items():
                try:
                    st = os.stat(m.path / name)
                    if st.st_size != len(data):
                        problems.append(f"{name}: size {st.st_size}, backing has {len(data)}")
                    got = (m.path / name).read_bytes()
                    if got != data:
                        problems.append(f"{name}: content ({len(got)} bytes) differs from the backing")
                except OSError as e:
                    problems.append(f"{name}: {errno.errorcode.get(e.errno)} through the mount")
            for gone in ("renamed", "deleted"):
                if os.path.lexists(m.path / gone):
                    problems.append(f"{gone}: still visible through the mount")
            listing = sorted(os.listdir(m.path))
            if listing != sorted(os.listdir(backing)):
                problems.append(f"readdir {listing} != backing {sorted(os.listdir(backing))}")
            check(not problems, "after 1.5 s: " + "; ".join(problems))
            replaced_and_reused_inodes(m.path, backing)
        print("  create/rename/delete/truncate/append/replace/inode reuse on the backing visible after 1.5 s")


def replaced_and_reused_inodes(mnt: Path, backing: Path) -> None:
    """A name replaced on the backing (rename over it) and an inode number reused by a new file must show the
    new file through the mount, while a descriptor opened before keeps reading the old one."""
    (backing / "replaced").write_bytes(b"old contents\n")
    (backing / "victim").write_bytes(b"victim\n")
    old_ino = os.stat(backing / "victim").st_ino
    check((mnt / "replaced").read_bytes() == b"old contents\n", "replaced: initial read")
    check((mnt / "victim").read_bytes() == b"victim\n", "victim: initial read")
    held = os.open(mnt / "replaced", os.O_RDONLY)
    try:
        (backing / "replacement.tmp").write_bytes(b"new contents, longer\n")
        os.rename(backing / "replacement.tmp", backing / "replaced")
        # ext4 hands a freed inode number to the next file created: the node table must not mix them up.
        os.unlink(backing / "victim")
        for i in range(64):  # also pushes victim's descriptor out of the daemon's fd cache (fd_cache=16)
            (backing / f"newcomer{i}").write_bytes(f"newcomer {i}\n".encode())
            got = (mnt / f"newcomer{i}").read_bytes()
            check(got == f"newcomer {i}\n".encode(), f"newcomer{i} (inode {os.stat(backing / f'newcomer{i}').st_ino}, "
                  f"victim was {old_ino}) reads {got!r} through the mount")
        reused = next((p.name for p in backing.iterdir() if p.name.startswith("newcomer")
                       and os.stat(p).st_ino == old_ino), None)
        time.sleep(1.5)
        check(os.pread(held, 100, 0) == b"old contents\n", "an fd opened before the replacement reads new data")
        got = (mnt / "replaced").read_bytes()
        check(got == b"new contents, longer\n", f"replaced on the backing, the mount reads {got!r}")
        check(not os.path.lexists(mnt / "victim"), "victim deleted on the backing still visible")
        if reused:
            got = (mnt / reused).read_bytes()
            check(got == (backing / reused).read_bytes(), f"{reused} reuses victim's inode number; mount reads {got!r}")
            print(f"  inode {old_ino} reused by {reused}: mount shows the new file")
        else:
            print("  (no inode number reuse happened; that part was not exercised)")
    finally:
        os.close(held)


def test_unlinked_open(binary: str) -> None:
    with H.loop_fs("xfs", 512 * MIB) as backing:
        with H.fastfs_mount(binary, backing) as m:
            for how in ("through the mount", "on the backing"):
                path = m.path / "victim"
                data = os.urandom(64 * MIB)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, data)
                    os.fsync(fd)
                    used_full = H.statvfs_used(backing)
                    os.unlink(path if how == "through the mount" else backing / "victim")
                    time.sleep(1.1 if how == "on the backing" else 0)
                    check(not os.path.lexists(path), f"unlinked {how} but still visible")
                    check(os.pread(fd, 4096, 10 * MIB) == data[10 * MIB:10 * MIB + 4096],
                          f"unlinked {how}: read through the open fd differs")
                    os.pwrite(fd, b"still writable", 0)
                    check(os.pread(fd, 14, 0) == b"still writable", f"unlinked {how}: write not read back")
                    check(os.fstat(fd).st_nlink == 0, f"unlinked {how}: fstat nlink {os.fstat(fd).st_nlink}")
                finally:
                    os.close(fd)
                freed = H.wait_until(lambda: used_full - H.statvfs_used(backing) >= 60 * MIB, 5)
                drop = (used_full - H.statvfs_used(backing)) / MIB
                print(f"  unlinked {how}: space freed after close: {drop:.0f} MiB")
                check(freed, f"unlinked {how}: only {drop:.1f} MiB freed 5 s after close (expected 64)")


# ---- page-cache writeback on O_APPEND descriptors ---------------------------------------------------------

def test_mmap_append(binary: str) -> None:
    """Stores through a shared mapping of a file opened O_RDWR|O_APPEND must land at their offsets: the
    kernel's writeback WRITE carries an explicit offset, which pwrite() ignores on an O_APPEND descriptor."""
    import mmap
    with H.loop_fs("xfs", 512 * MIB) as backing:
        with H.fastfs_mount(binary, backing) as m:
            results = {}
            for label, root in (("native", backing / "native"), ("mount", m.path / "through")):
                root.mkdir()
                (root / "f").write_bytes(b"a" * 8192)
                fd = os.open(root / "f", os.O_RDWR | os.O_APPEND)
                try:
                    with mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as mm:
                        mm[0:5] = b"XXXXX"
                        mm.flush()
                finally:
                    os.close(fd)
                results[label] = (root / "f").read_bytes()
            stored = (backing / "through" / "f").read_bytes()
            check(results["native"] == b"XXXXX" + b"a" * 8187, "native reference behaved unexpectedly")
            check(stored == results["native"],
                  f"mmap store on an O_APPEND file: backing has {len(stored)} bytes starting {stored[:8]!r}, "
                  f"expected 8192 bytes starting b'XXXXXaaa'")
        print("  mmap stores on an O_APPEND file land at their offsets")


TESTS = {
    "sigterm": test_sigterm, "sigkill": test_sigkill, "enospc-xfs": test_enospc_xfs,
    "enospc-ext4": test_enospc_ext4, "backing-changes": test_backing_changes, "unlinked-open": test_unlinked_open,
    "mmap-append": test_mmap_append,
}


def main(argv=None) -> int:
    H.install_signal_cleanup()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--test", action="append", choices=sorted(TESTS), help="run only these (repeatable)")
    args = ap.parse_args(argv)
    failed = []
    for name in args.test or list(TESTS):
        print(f"[{name}]")
        t0 = time.monotonic()
        try:
            TESTS[name](args.binary)
            print(f"  PASS ({time.monotonic() - t0:.1f} s)")
        except Failure as e:
            print(f"  FAIL: {e}")
            failed.append(name)
        except H.SetupError as e:
            rc = H.exit_for_setup_error(e)
            if rc == H.EXIT_FAIL:
                failed.append(name)
            elif len(args.test or TESTS) == 1:
                return rc
        except Exception:  # report and continue: one broken scenario must not hide the others
            traceback.print_exc()
            failed.append(name)
    if failed:
        print("FAILED: " + ", ".join(failed))
    return H.EXIT_FAIL if failed else H.EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
