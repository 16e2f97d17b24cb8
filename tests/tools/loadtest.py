#!/usr/bin/env python3
"""Concurrent load through a fastfs mount: N processes create, read, rename, copy_file_range, overwrite in place
and delete files in the same few directories for a bounded time.

Checks: no op blocks longer than the watchdog (default 60 s) -- a hang fails the test and is torn down with
`umount -l` + SIGKILL; the only errno tolerated is ENOENT (another process renamed or deleted the file first);
every file's name starts with the SHA-1 of its content, and every surviving file is verified through the mount
and on the backing directory at the end; the daemon must still be alive.

  loadtest.py --binary BUILD/fastfs --fs xfs --duration 30        # CI size
  loadtest.py --binary BUILD/fastfs --fs xfs --duration 600       # by hand
  loadtest.py --native --fs xfs --duration 10                     # self-test without fastfs
"""

from __future__ import annotations

import argparse
import collections
import errno
import hashlib
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

DIRS = 4
MAX_FILES_PER_DIR = 150
TOLERATED = {errno.ENOENT}
OPS = ["create", "read", "rename", "copy", "delete", "overwrite", "list"]
WEIGHTS = [28, 25, 14, 14, 10, 5, 4]


def file_name(digest: str, worker: int, serial: int, tag: str = "") -> str:
    return f"{digest}-w{worker}-{serial}{tag}.dat"


def make_content(rng: random.Random) -> tuple[bytes, int]:
    """(data, hole_gap): 5% of files get a hole between two data runs."""
    r = rng.random()
    if r < 0.65:
        size = rng.randrange(0, 65536)
    elif r < 0.80:
        size = rng.randrange(1, 64) * 4096
    else:
        size = rng.randrange(65536, 1 << 20)
    gap = rng.choice([0] * 19 + [2 << 20])
    return rng.randbytes(size), gap


class Worker:
    def __init__(self, index: int, root: str, deadline: float, heartbeat, current_op, errors, seed: int):
        self.index, self.root, self.deadline = index, root, deadline
        self.heartbeat, self.current_op, self.errors = heartbeat, current_op, errors
        self.rng = random.Random(seed * 1000 + index)
        self.serial = 0
        self.counts = collections.Counter()

    def dir(self) -> str:
        return os.path.join(self.root, f"d{self.rng.randrange(DIRS)}")

    def pick(self, directory: str) -> str | None:
        names = [n for n in os.listdir(directory) if n.endswith(".dat")]
        return os.path.join(directory, self.rng.choice(names)) if names else None

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def run(self) -> dict:
        while time.time() < self.deadline:
            op = self.rng.choices(OPS, weights=WEIGHTS)[0]
            directory = self.dir()
            if op == "create" and len(os.listdir(directory)) > MAX_FILES_PER_DIR:
                op = "delete"
            self.current_op[self.index] = OPS.index(op)
            self.heartbeat[self.index] = time.time()
            try:
                getattr(self, "op_" + op)(directory)
                self.counts[op] += 1
            except OSError as e:
                if e.errno in TOLERATED:
                    self.counts["ENOENT"] += 1
                else:
                    self.errors.put(f"worker {self.index} {op}: {errno.errorcode.get(e.errno, e.errno)} "
                                    f"({e.strerror}) on {e.filename}")
                    self.counts["error"] += 1
            except ContentError as e:
                self.errors.put(f"worker {self.index} {op}: {e}")
                self.counts["corrupt"] += 1
            finally:
                self.heartbeat[self.index] = 0.0
        return dict(self.counts)

    def op_create(self, directory: str) -> None:
        data, gap = make_content(self.rng)
        full = data[: len(data) // 2] + bytes(gap) + data[len(data) // 2:] if gap else data
        digest = hashlib.sha1(full).hexdigest()[:20]
        serial = self.next_serial()
        tmp = os.path.join(directory, f".tmp-w{self.index}-{serial}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            if gap:
                half = len(data) // 2
                os.pwrite(fd, data[:half], 0)
                os.pwrite(fd, data[half:], half + gap)
                os.ftruncate(fd, len(full))
            else:
                write_all(fd, data)
            if self.rng.random() < 0.2:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(directory, file_name(digest, self.index, serial)))

    def op_read(self, directory: str) -> None:
        path = self.pick(directory)
        if path:
            verify(path)

    def op_rename(self, directory: str) -> None:
        path = self.pick(directory)
        if path:
            # Keep the digest prefix: the name still describes the content.
            digest = os.path.basename(path).split("-")[0]
            target = os.path.join(self.dir(), file_name(digest, self.index, self.next_serial(), "r"))
            os.rename(path, target)

    def op_copy(self, directory: str) -> None:
        path = self.pick(directory)
        if not path:
            return
        src = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(src).st_size
            digest = os.path.basename(path).split("-")[0]
            serial = self.next_serial()
            target_dir = self.dir()
            tmp = os.path.join(target_dir, f".tmp-w{self.index}-{serial}")
            dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                copied = 0
                while copied < size:
                    n = os.copy_file_range(src, dst, size - copied, copied, copied)
                    if n == 0:
                        raise ContentError(f"copy_file_range returned 0 at {copied} of {size} from {path}")
                    copied += n
            except BaseException:
                os.close(dst)
                os.unlink(tmp)
                raise
            os.close(dst)
        finally:
            os.close(src)
        os.rename(tmp, os.path.join(target_dir, file_name(digest, self.index, serial, "c")))

    def op_delete(self, directory: str) -> None:
        path = self.pick(directory)
        if path:
            os.unlink(path)

    def op_overwrite(self, directory: str) -> None:
        # Rewrites a slice with the bytes already there: concurrent readers must never see anything else.
        path = self.pick(directory)
        if not path:
            return
        fd = os.open(path, os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if size:
                off = self.rng.randrange(size)
                chunk = os.pread(fd, min(size - off, 131072), off)
                os.pwrite(fd, chunk, off)
        finally:
            os.close(fd)

    def op_list(self, directory: str) -> None:
        for name in os.listdir(directory):
            try:
                os.lstat(os.path.join(directory, name))
            except FileNotFoundError:
                pass


class ContentError(Exception):
    pass


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def verify(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha1(data).hexdigest()[:20]
    expected = os.path.basename(path).split("-")[0]
    if digest != expected:
        raise ContentError(f"{path}: content sha1 {digest}, name says {expected} ({len(data)} bytes)")


def worker_main(index, root, deadline, heartbeat, current_op, errors, results, seed):
    try:
        results.put((index, Worker(index, root, deadline, heartbeat, current_op, errors, seed).run()))
    except BaseException as e:  # an unexpected exception must reach the parent, not vanish
        errors.put(f"worker {index} crashed: {e!r}")
        results.put((index, {}))


def run_load(root: str, workers: int, duration: float, watchdog: float, seed: int, mount=None) -> bool:
    for d in range(DIRS):
        os.makedirs(os.path.join(root, f"d{d}"), exist_ok=True)
    ctx = mp.get_context("fork")
    heartbeat = ctx.Array("d", workers, lock=False)
    current_op = ctx.Array("i", workers, lock=False)
    errors, results = ctx.Queue(), ctx.Queue()
    deadline = time.time() + duration
    procs = [ctx.Process(target=worker_main, args=(i, root, deadline, heartbeat, current_op, errors, results, seed))
             for i in range(workers)]
    for p in procs:
        p.start()
    try:
        return supervise(procs, workers, duration, watchdog, heartbeat, current_op, errors, results, mount)
    finally:
        for p in procs:  # on SIGTERM or a crash of the supervisor: no worker outlives it
            if p.is_alive():
                p.kill()
                p.join()


def supervise(procs, workers, duration, watchdog, heartbeat, current_op, errors, results, mount) -> bool:
    fd_peak, hung, started = 0, None, time.monotonic()
    collected = {}
    while any(p.is_alive() for p in procs):
        while not results.empty():
            i, counts = results.get()
            collected[i] = counts
        now = time.time()
        for i in range(workers):
            # One read: the worker zeroes its slot between ops, and a second read could see that 0.
            beat = heartbeat[i]
            if beat and now - beat > watchdog:
                hung = f"worker {i} blocked in {OPS[current_op[i]]} for {now - beat:.0f} s"
        if mount is not None:
            fd_peak = max(fd_peak, H.fd_count(mount.pid))
        if hung or time.monotonic() - started > duration + 10 * watchdog:
            break
        time.sleep(0.5)
    if hung:
        print(f"FAIL: watchdog: {hung}")
        for p in procs:
            p.kill()
        if mount is not None:
            mount.stop(timeout=5)  # umount -l + SIGKILL when the daemon hangs
        return False
    for p in procs:
        p.join()
    while not results.empty():
        i, counts = results.get()
        collected[i] = counts
    totals = collections.Counter()
    for counts in collected.values():
        totals.update(counts)
    errs = []
    while not errors.empty():
        errs.append(errors.get())
    ok = True
    print(f"ops in {duration:.0f} s with {workers} workers: {dict(totals)}"
          + (f"; daemon fd peak {fd_peak}" if mount is not None else ""))
    if errs:
        ok = False
        print(f"FAIL: {len(errs)} unexpected errors, first ones:")
        for e in errs[:20]:
            print("  " + e)
    if sum(totals[o] for o in OPS) == 0:
        print("FAIL: no operation completed")
        ok = False
    return ok


def verify_tree(root: str, label: str) -> tuple[int, list[str]]:
    problems, count = [], 0
    for d in range(DIRS):
        directory = os.path.join(root, f"d{d}")
        for name in sorted(os.listdir(directory)):
            if name.startswith(".tmp-"):
                problems.append(f"{label}: leftover temporary {name}")
                continue
            try:
                verify(os.path.join(directory, name))
                count += 1
            except (OSError, ContentError) as e:
                problems.append(f"{label}: {e}")
    return count, problems


def main(argv=None) -> int:
    H.install_signal_cleanup()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--fs", default="xfs", choices=["xfs", "ext4", "btrfs", "tmpfs"])
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--watchdog", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mount-options", default=None)
    ap.add_argument("--native", action="store_true", help="self-test directly on the backing filesystem")
    args = ap.parse_args(argv)
    try:
        with H.loop_fs(args.fs, args.size_mib << 20) as backing:
            if args.native:
                ok = run_load(str(backing / "load"), args.workers, args.duration, args.watchdog, args.seed)
                count, problems = verify_tree(str(backing / "load"), "native")
            else:
                with H.fastfs_mount(args.binary, backing, args.mount_options) as mount:
                    root = str(mount.path / "load")
                    ok = run_load(root, args.workers, args.duration, args.watchdog, args.seed, mount)
                    if not ok and not H.is_mounted(mount.path, "fuse.fastfs"):
                        return H.EXIT_FAIL
                    count, problems = verify_tree(root, "mount")
                    if not mount.alive():
                        problems.append(f"the daemon died: {mount.log()[-2000:]}")
                    print(f"daemon {mount.pid}: fds {H.fd_count(mount.pid)}, {H.vm_kib(mount.pid)}")
                # Unmounted now: what fastfs wrote must be on the backing filesystem.
                backing_count, backing_problems = verify_tree(str(backing / "load"), "backing")
                problems += backing_problems
                if backing_count != count:
                    problems.append(f"{count} files verified through the mount, {backing_count} on the backing")
            print(f"verified {count} surviving files")
            for p in problems[:20]:
                print("FAIL: " + p)
            return H.EXIT_PASS if ok and not problems else H.EXIT_FAIL
    except H.SetupError as e:
        return H.exit_for_setup_error(e)


if __name__ == "__main__":
    sys.exit(main())
