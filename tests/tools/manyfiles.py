#!/usr/bin/env python3
"""Many files through a fastfs mount: create N files in a tree, `find -ls` it, `rm -rf` it.

Checks: no EMFILE/ENFILE (or any other error) from any step; `find` lists exactly what was created; the
daemon's open descriptors (sampled from /proc/PID/fd) stay below --fd-bound at all times, since the node
table must keep a bounded fd cache whatever the kernel keeps cached; after `rm -rf` the backing filesystem's
used inodes and space return to where they started (within a few seconds). Prints fd count and VmRSS/VmHWM.

  manyfiles.py --binary BUILD/fastfs --files 50000        # CI size
  manyfiles.py --binary BUILD/fastfs --files 1000000      # by hand
"""

from __future__ import annotations

import argparse
import functools
import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
print = functools.partial(print, flush=True)  # noqa: A001  progress shows up in logs of long runs
import fastfs_harness as H  # noqa: E402


class Sampler(threading.Thread):
    """Samples the daemon's fd count and memory every `interval` seconds."""

    def __init__(self, pid: int | None, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop_event = threading.Event()
        self.fd_max, self.rss_max_kib, self.hwm_kib = 0, 0, 0
        self.phase_fd_max: dict[str, int] = {}
        self.phase = "start"

    def sample(self) -> None:
        if self.pid is None:
            return
        fds = H.fd_count(self.pid)
        mem = H.vm_kib(self.pid)
        self.fd_max = max(self.fd_max, fds)
        self.phase_fd_max[self.phase] = max(self.phase_fd_max.get(self.phase, 0), fds)
        self.rss_max_kib = max(self.rss_max_kib, mem.get("VmRSS", 0))
        self.hwm_kib = max(self.hwm_kib, mem.get("VmHWM", 0))

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            self.sample()


def inodes_used(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_files - st.f_ffree


def create_tree(root: Path, files: int, per_dir: int, sampler: Sampler) -> list[str]:
    problems = []
    payload = b"fastfs many-files\n"
    for i in range(files):
        directory = root / f"d{i // per_dir:05d}"
        if i % per_dir == 0:
            directory.mkdir(parents=True)
        try:
            fd = os.open(directory / f"f{i % per_dir:05d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, payload)
            finally:
                os.close(fd)
        except OSError as e:
            problems.append(f"create #{i}: {errno.errorcode.get(e.errno, e.errno)} ({e.strerror})")
            if e.errno in (errno.EMFILE, errno.ENFILE) or len(problems) > 10:
                break
        if i % 5000 == 0:
            sampler.sample()
    return problems


def timed(what: str, fn):
    t0 = time.monotonic()
    result = fn()
    elapsed = time.monotonic() - t0
    return result, elapsed


def run(view: Path, backing: Path, files: int, per_dir: int, fd_bound: int, pid: int | None) -> list[str]:
    sampler = Sampler(pid)
    sampler.start()
    base_inodes, base_used = inodes_used(backing), H.statvfs_used(backing)
    problems: list[str] = []
    dirs = (files + per_dir - 1) // per_dir
    try:
        sampler.phase = "create"
        created, t_create = timed("create", lambda: create_tree(view / "tree", files, per_dir, sampler))
        problems += created
        print(f"create {files} files in {dirs} dirs: {t_create:.1f} s ({files / t_create:.0f} files/s)")

        sampler.phase = "find"
        t0 = time.monotonic()
        find = subprocess.Popen(["find", str(view / "tree"), "-ls"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        lines = sum(1 for _ in find.stdout)
        err = find.stderr.read().decode(errors="replace")
        find.wait()
        t_find = time.monotonic() - t0
        print(f"find -ls: {lines} entries in {t_find:.1f} s ({lines / t_find:.0f}/s)")
        if find.returncode != 0 or err:
            problems.append(f"find exited {find.returncode}: {err.strip()[:500]}")
        if lines != files + dirs + 1:
            problems.append(f"find listed {lines} entries, expected {files + dirs + 1}")

        sampler.phase = "rm"
        rm, t_rm = timed("rm", lambda: subprocess.run(["rm", "-rf", str(view / "tree")], stderr=subprocess.PIPE,
                                                       text=True))
        print(f"rm -rf: {t_rm:.1f} s ({files / t_rm:.0f} files/s)")
        if rm.returncode != 0 or rm.stderr:
            problems.append(f"rm -rf exited {rm.returncode}: {rm.stderr.strip()[:500]}")
        if (backing / "tree").exists() or (view / "tree").exists():
            problems.append("tree still exists after rm -rf")

        sampler.phase = "after"
        freed = H.wait_until(lambda: inodes_used(backing) <= base_inodes + 8 and
                             H.statvfs_used(backing) <= base_used + (16 << 20), 10, 0.25)
        print(f"backing after rm: inodes used {inodes_used(backing)} (start {base_inodes}), "
              f"space used {H.statvfs_used(backing) >> 20} MiB (start {base_used >> 20} MiB)")
        if not freed:
            problems.append("backing inodes/space not freed within 10 s of rm -rf")
    finally:
        sampler.stop_event.set()
        sampler.join()
        sampler.sample()
    if pid is not None:
        print(f"daemon fds: max {sampler.fd_max} (per phase {sampler.phase_fd_max}), now {H.fd_count(pid)}; "
              f"VmRSS max {sampler.rss_max_kib / 1024:.0f} MiB, VmHWM {sampler.hwm_kib / 1024:.0f} MiB")
        if sampler.fd_max >= fd_bound:
            problems.append(f"daemon held {sampler.fd_max} fds (bound {fd_bound})")
    return problems


def main(argv=None) -> int:
    H.install_signal_cleanup()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary())
    ap.add_argument("--fs", default="xfs", choices=["xfs", "ext4", "btrfs", "tmpfs"])
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--per-dir", type=int, default=1000)
    ap.add_argument("--fd-bound", type=int, default=6500,
                    help="max daemon fds; the default fd cache is RLIMIT_NOFILE/4 = 5000 here, removed inodes "
                         "not yet forgotten at most RLIMIT_NOFILE/16 = 1250, plus threads")
    ap.add_argument("--size-mib", type=int, default=0, help="backing size (default: from --files)")
    ap.add_argument("--mount-options", default=None)
    ap.add_argument("--native", action="store_true", help="self-test directly on the backing filesystem")
    args = ap.parse_args(argv)
    size_mib = args.size_mib or max(1024, args.files // 200)
    try:
        with H.loop_fs(args.fs, size_mib << 20) as backing:
            if args.native:
                problems = run(backing, backing, args.files, args.per_dir, args.fd_bound, None)
            else:
                with H.fastfs_mount(args.binary, backing, args.mount_options) as m:
                    problems = run(m.path, backing, args.files, args.per_dir, args.fd_bound, m.pid)
                    if not m.alive():
                        problems.append(f"the daemon died: {m.log()[-1500:]}")
    except H.SetupError as e:
        return H.exit_for_setup_error(e)
    return H.verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
