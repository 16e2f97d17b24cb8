#!/usr/bin/env python3
"""Inode-number reuse stress: the same concurrent workload natively and through a fastfs mount.

Several worker processes create, write, link, rename (also across directories and over their own files) and
remove files, directories, symlinks and FIFOs, and list the directories, in
a few shared directories of a small XFS or ext4 image, where freed inode numbers come back at once. Some
workers keep removed inodes referenced the way the kernel holds them without any FUSE open: an O_PATH
descriptor of an unlinked file, a working directory that was removed, a file open for reading while it is
unlinked. Meanwhile a process changes the backing directory directly (through the mount runs: on the backing;
natively: in the same directory). Every name a worker touches is its own, so every operation has one right
answer; any error or wrong content is a finding. The native run must find nothing (or the test is wrong);
the mount run must find nothing either.

    reusetest.py --binary build/fastfs --fs xfs --seeds 1,2 --duration 10
    reusetest.py --native --fs ext4 ...      the native run only

Exit 0 pass, 1 fail, 77 skipped (no loop devices or FUSE here; with CI=true that is a failure).
"""

from __future__ import annotations

import argparse
import errno
import multiprocessing
import os
import random
import stat
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as h  # noqa: E402

SHARED_DIRS = 3
# Small images recycle inode numbers quickly: ext4 hands out the lowest free number of a group, XFS reuses
# freed slots of its inode chunks.
IMAGE_BYTES = {"xfs": 320 << 20, "ext4": 128 << 20}
# Each worker keeps at most this many files and directories, so the image never fills up.
MAX_LIVE = 300


class Findings:
    def __init__(self) -> None:
        self.ops = 0
        self.errors: dict[str, int] = {}
        self.examples: list[str] = []

    def bad(self, what: str, detail: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1
        if len(self.examples) < 12:
            self.examples.append(f"{what}: {detail}")


def content_for(name: str) -> bytes:
    return (name * 8).encode()[:200]


class Worker:
    """One process's workload: every name it uses starts with its own prefix."""

    def __init__(self, root: Path, wid: int, seed: int) -> None:
        self.root = root
        self.prefix = f"w{wid}-"
        self.rng = random.Random(seed * 1000 + wid)
        self.files: list[Path] = []
        self.dirs: list[Path] = []
        self.held: list[tuple[int, bytes | None]] = []  # (fd, expected content for read fds)
        self.counter = 0
        self.found = Findings()

    def fresh(self, kind: str) -> Path:
        self.counter += 1
        shared = self.root / f"shared{self.rng.randrange(SHARED_DIRS)}"
        return shared / f"{self.prefix}{kind}{self.counter}"

    def check(self, what: str, call):
        self.found.ops += 1
        try:
            return call()
        except OSError as e:
            self.found.bad(f"{what} {errno.errorcode.get(e.errno, e.errno)}", str(e))
            return None

    def op_create(self) -> None:
        path = self.fresh("f")
        data = content_for(path.name)

        def create():
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            return True

        if self.check("create", create):
            self.files.append(path)
            got = self.check("read-after-create", lambda: path.read_bytes())
            if got is not None and got != data:
                self.found.bad("wrong-content-after-create", str(path))

    def op_mkdir(self) -> None:
        path = self.fresh("d")
        if self.check("mkdir", lambda: os.mkdir(path)) is None and path.is_dir():
            self.dirs.append(path)
            inner = path / "inner"
            self.check("create-in-new-dir", lambda: inner.write_bytes(b"in"))
            self.check("stat-new-dir", lambda: os.stat(path))

    def op_rename(self) -> None:
        if not self.files:
            return
        old = self.files.pop(self.rng.randrange(len(self.files)))
        new = self.fresh("r")
        if self.check("rename", lambda: os.rename(old, new)) is None and new.exists():
            self.took_over("rename", old, new)

    def took_over(self, what: str, old: Path, path: Path) -> None:
        """After `what`, `path` must hold what `old` held; then it is rewritten so that its content follows its
        name again (later checks expect that) and kept as one of this worker's files."""
        got = self.check(f"read-after-{what}", lambda: path.read_bytes())
        if got is not None and got != content_for(old.name):
            self.found.bad(f"wrong-content-after-{what}", f"{old} -> {path}")
        if self.check(f"rewrite-after-{what}", lambda: path.write_bytes(content_for(path.name))) is None:
            self.files.append(path)

    def op_replace(self) -> None:
        """rename(2) over another of its own files: the target's inode goes, the name takes the source's."""
        if len(self.files) < 2:
            return
        old = self.files.pop(self.rng.randrange(len(self.files)))
        target = self.files.pop(self.rng.randrange(len(self.files)))
        if self.check("rename-over", lambda: os.rename(old, target)) is None:
            self.took_over("rename-over", old, target)

    def op_link(self) -> None:
        """A second name, then the first removed: the inode lives on under the second."""
        if not self.files:
            return
        old = self.files.pop(self.rng.randrange(len(self.files)))
        new = self.fresh("l")
        if self.check("link", lambda: os.link(old, new)) is not None:
            return
        st = self.check("stat-linked", lambda: os.stat(new))
        if st is not None and st.st_nlink != 2:
            self.found.bad("nlink-after-link", f"{new}: {st.st_nlink}")
        self.check("unlink-first-name", lambda: os.unlink(old))
        self.took_over("link", old, new)

    def op_special(self) -> None:
        """A symlink and a FIFO under fresh names, checked and removed (inodes of other kinds to recycle)."""
        link, fifo = self.fresh("s"), self.fresh("p")
        if self.check("symlink", lambda: os.symlink(link.name + "-target", link)) is None:
            got = self.check("readlink", lambda: os.readlink(link))
            if got is not None and got != link.name + "-target":
                self.found.bad("wrong-symlink-target", f"{link}: {got}")
            self.check("unlink-symlink", lambda: os.unlink(link))
        if self.check("mkfifo", lambda: os.mkfifo(fifo, 0o600)) is None:
            st = self.check("stat-fifo", lambda: os.lstat(fifo))
            if st is not None and not stat.S_ISFIFO(st.st_mode):
                self.found.bad("fifo-is-not-a-fifo", f"{fifo}: {st.st_mode:o}")
            self.check("unlink-fifo", lambda: os.unlink(fifo))

    def op_list(self) -> None:
        """Lists a shared directory (READDIRPLUS through the mount): every live file of this worker there shows."""
        shared = self.root / f"shared{self.rng.randrange(SHARED_DIRS)}"
        names = self.check("list-shared", lambda: set(os.listdir(shared)))
        if names is None:
            return
        missing = [p.name for p in self.files if p.parent == shared and p.name not in names]
        if missing:
            self.found.bad("live-file-not-listed", f"{shared}: {missing[:3]}")

    def op_unlink(self) -> None:
        if not self.files:
            return
        path = self.files.pop(self.rng.randrange(len(self.files)))
        if self.check("unlink", lambda: os.unlink(path)) is None:
            try:
                os.stat(path)
                self.found.bad("stat-after-unlink-succeeded", str(path))
            except FileNotFoundError:
                pass
            except OSError as e:
                self.found.bad(f"stat-after-unlink {errno.errorcode.get(e.errno)}", str(path))

    def op_rmdir(self) -> None:
        if not self.dirs:
            return
        path = self.dirs.pop(self.rng.randrange(len(self.dirs)))
        self.check("unlink-inner", lambda: os.unlink(path / "inner"))
        self.check("rmdir", lambda: os.rmdir(path))

    def op_hold_unlinked(self) -> None:
        """An O_PATH descriptor of an unlinked file, or a read descriptor: both keep the inode."""
        if not self.files:
            return
        path = self.files.pop(self.rng.randrange(len(self.files)))
        expected = content_for(path.name)
        as_path = self.rng.random() < 0.5
        fd = self.check("open-to-hold", lambda: os.open(path, os.O_PATH if as_path else os.O_RDONLY))
        if fd is None:
            return
        self.check("unlink-held", lambda: os.unlink(path))
        st = self.check("fstat-held-unlinked", lambda: os.fstat(fd))
        if st is not None and st.st_nlink != 0:
            self.found.bad("nlink-of-unlinked", f"{path}: {st.st_nlink}")
        self.held.append((fd, None if as_path else expected))
        if len(self.held) > 16:
            self.release_one()

    def release_one(self) -> None:
        fd, expected = self.held.pop(0)
        self.check("fstat-held-later", lambda: os.fstat(fd))
        if expected is not None:
            got = self.check("read-held-later", lambda: os.pread(fd, 4096, 0))
            if got is not None and got != expected:
                self.found.bad("wrong-content-held", f"fd {fd}")
        os.close(fd)

    def op_removed_cwd(self) -> None:
        path = self.fresh("c")
        if self.check("mkdir-cwd", lambda: os.mkdir(path)) is not None or not path.is_dir():
            return
        here = os.getcwd()
        try:
            self.check("chdir", lambda: os.chdir(path))
            self.check("rmdir-cwd", lambda: os.rmdir(path))
            st = self.check("stat-removed-cwd", lambda: os.stat("."))
            if st is not None and st.st_nlink != 0:
                self.found.bad("nlink-of-removed-cwd", f"{path}: {st.st_nlink}")
            names = self.check("list-removed-cwd", lambda: os.listdir("."))
            if names:
                self.found.bad("listing-of-removed-cwd", f"{path}: {names}")
        finally:
            os.chdir(here)

    def run(self, deadline: float) -> Findings:
        ops = [self.op_create] * 5 + [self.op_mkdir] * 2 + [self.op_rename] * 3 + [self.op_unlink] * 3 + \
              [self.op_rmdir] * 2 + [self.op_hold_unlinked] * 2 + [self.op_removed_cwd] + \
              [self.op_replace, self.op_link, self.op_special, self.op_list]
        while time.monotonic() < deadline:
            if len(self.files) > MAX_LIVE:
                self.op_unlink()
            elif len(self.dirs) > MAX_LIVE:
                self.op_rmdir()
            else:
                op = self.rng.choice(ops)
                try:
                    op()
                except OSError as e:  # outside the checked calls, e.g. is_dir() meeting ESTALE
                    self.found.bad(f"{op.__name__} {errno.errorcode.get(e.errno, e.errno)}", str(e))
        while self.held:
            self.release_one()
        return self.found


def run_worker(args) -> tuple[int, dict[str, int], list[str]]:
    root, wid, seed, deadline = args
    found = Worker(Path(root), wid, seed).run(deadline)
    return found.ops, found.errors, found.examples


def outside_writer(backing: Path, seed: int, deadline: float) -> None:
    """Changes made directly in the backing directory while the workers run (names of its own)."""
    h.default_signals()
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        path = backing / f"shared{rng.randrange(SHARED_DIRS)}" / f"outside{n}"
        try:
            path.write_bytes(b"o" * rng.randrange(1, 5000))
            if rng.random() < 0.7:
                path.unlink()
        except OSError:
            pass


WORKER_GRACE = 60  # seconds past the deadline before the run counts as stuck


class Stuck(Exception):
    pass


def dump_waits(what: str, pids: list[int]) -> None:
    """What each thread of `pids` waits on in the kernel: enough to tell a FUSE request nobody answers."""
    print(f"--- {what}: where they wait", flush=True)
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            base = f"/proc/{pid}/task/{tid}"
            try:
                wchan = Path(f"{base}/wchan").read_text()
                stack = Path(f"{base}/stack").read_text().strip().replace("\n", " <- ")
            except OSError:
                continue
            print(f"    {pid}/{tid} {wchan}: {stack[:400]}", flush=True)


def workload(view: Path, backing: Path, seed: int, workers: int, duration: float) -> Findings:
    for i in range(SHARED_DIRS):
        (view / f"shared{i}").mkdir(exist_ok=True)
    deadline = time.monotonic() + duration
    writer = multiprocessing.Process(target=outside_writer, args=(backing, seed, deadline))
    writer.start()
    try:
        with multiprocessing.Pool(workers, initializer=h.default_signals) as pool:
            pending = pool.map_async(run_worker, [(str(view), w, seed, deadline) for w in range(workers)])
            try:
                results = pending.get(timeout=duration + WORKER_GRACE)
            except multiprocessing.TimeoutError:
                dump_waits("reusetest workers", [p.pid for p in pool._pool] + [writer.pid])
                raise Stuck(f"workers still busy {WORKER_GRACE} s after the deadline")
            pool.close()  # idle workers exit on their own; the `with` would only signal them
            pool.join()
    finally:
        writer.join(timeout=WORKER_GRACE)
        if writer.is_alive():
            writer.kill()
    total = Findings()
    for ops, errors, examples in results:
        total.ops += ops
        for k, v in errors.items():
            total.errors[k] = total.errors.get(k, 0) + v
        total.examples += examples[: 12 - len(total.examples)]
    return total


def report(label: str, found: Findings) -> bool:
    errors = sum(found.errors.values())
    print(f"{label}: {found.ops} operations, {errors} findings {dict(sorted(found.errors.items()))}", flush=True)
    for example in found.examples:
        print(f"    {example}")
    return errors == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=h.default_binary())
    parser.add_argument("--fs", choices=sorted(IMAGE_BYTES), default="xfs")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per seed and side")
    parser.add_argument("--native", action="store_true", help="run natively only")
    args = parser.parse_args()
    h.install_signal_cleanup()
    ok = True
    try:
        for seed in (int(s) for s in args.seeds.split(",")):
            with h.loop_fs(args.fs, IMAGE_BYTES[args.fs]) as backing:
                native = backing / "native"
                native.mkdir()
                try:
                    found = workload(native, native, seed, args.workers, args.duration)
                except Stuck as e:
                    print(f"FAIL: {args.fs} seed {seed} natively: {e} (the test is wrong)")
                    return h.EXIT_FAIL
                ok &= report(f"{args.fs} seed {seed} native", found)
                if args.native:
                    continue
                h.run(["rm", "-rf", str(native)])
                through = backing / "mounted"
                through.mkdir()
                with h.fastfs_mount(args.binary, through) as m:
                    try:
                        found = workload(m.path, through, seed, args.workers, args.duration)
                    except Stuck as e:
                        dump_waits("the fastfs daemon", [m.pid])
                        print(f"FAIL: {args.fs} seed {seed}: {e}")
                        return h.EXIT_FAIL
                    ok &= report(f"{args.fs} seed {seed} fastfs", found)
                    if not m.alive():
                        print("FAIL: the daemon died")
                        ok = False
    except h.SetupError as e:
        return h.exit_for_setup_error(e)
    return h.EXIT_PASS if ok else h.EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
