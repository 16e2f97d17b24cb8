#!/usr/bin/env python3
"""Workloads and the result table of the fastfs side-by-side benchmark (driven by run.sh).

  bench.py prepare --backing DIR --sizes full|quick        shared inputs, written natively once
  bench.py suite   --root DIR --backing DIR --label L ...   one repetition of every row, appended to --out
  bench.py bigtree --root DIR --backing DIR --label L ...   the 100,000-file row, once
  bench.py table   --results FILE --columns a,b,...         best-of-N table with ratios to native
  bench.py chart   --results FILE --columns a,b,... --out PNG   the ratios as a bar chart (matplotlib)
  bench.py mkmodeltree PATH [--sizes full|quick]            the model tree of copy_bench.sh (issue 11)
  bench.py mkentrytree PATH [--sizes full|quick]            the 12,000-entry tree of perfile_bench.sh
  bench.py mkgitrepo PATH [--sizes full|quick]              its git repository: branches A and B, 10,000
                                                            files that differ
  bench.py perfile --root DIR --backing DIR --label L ...   one repetition of perfile_bench.sh's rows

table and chart take --rows perfile for perfile_bench.sh's rows (default: run.sh's), and table
--floor-ratios adds each system's ratio to the floor daemon on the same transport.

suite, bigtree and perfile take --no-backing for a system that is not over the backing directory (the in-memory
"floor" daemon): its inputs are then made through the mount, and rows that look at the backing files
record n/a.

Timings are wall-clock (time.perf_counter) around the measured operation only; setup and cleanup are
outside the timed region. Python stdlib only, but for the chart (Debian's python3-matplotlib); fio is used
for the random 4k rows when it is installed.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import random
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
BLOCK = 4096

SIZES = {
    "full": dict(seq_bytes=1024 * MIB, rand_file=256 * MIB, rand_read_io=1024 * MIB, rand_write_io=64 * MIB,
                 files=20_000, dirs=10, readdir_passes=5, big_files=100_000, big_dirs=100, cp_bytes=2048 * MIB,
                 tar_source="/usr/include"),
    "quick": dict(seq_bytes=64 * MIB, rand_file=32 * MIB, rand_read_io=16 * MIB, rand_write_io=4 * MIB,
                  files=2_000, dirs=10, readdir_passes=5, big_files=5_000, big_dirs=10, cp_bytes=128 * MIB,
                  tar_source="/usr/include/linux"),
}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str
    # "higher", "lower", "sum" (added over repetitions, no ratio), "least" (lowest repetition, no ratio),
    # "info" (no ratio)
    better: str
    daemon_only: bool = False  # no meaning for the kernel alone (native)
    target: str = ""  # the target for the ratio to native, when the row has one


def rows_for(sizes: dict) -> list[Row]:
    seq_mib = sizes["seq_bytes"] // MIB
    cp_mib = sizes["cp_bytes"] // MIB
    n, big = sizes["files"], sizes["big_files"]
    return [
        Row("seq_write", f"seq write {seq_mib} MiB, 1 MiB blocks + fsync", "MiB/s", "higher"),
        Row("seq_read_cold", f"cold seq read {seq_mib} MiB", "MiB/s", "higher"),
        Row("rand_read_hot", "random 4k read, hot", "IOPS", "higher"),
        Row("rand_write", "random 4k write + final fsync", "IOPS", "higher"),
        Row("create", f"create {n:,} files in {sizes['dirs']} dirs", "s", "lower"),
        Row("stat_warm", f"stat {n:,} files, warm", "s", "lower"),
        Row("readdir", f"readdir {sizes['dirs']} dirs x{sizes['readdir_passes']}", "s", "lower"),
        Row("stat_cold", f"stat {n:,} files after drop_caches", "s", "lower"),
        Row("unlink", f"unlink {n:,} files", "s", "lower"),
        Row("untar", f"untar {sizes['tar_source']}", "s", "lower"),
        Row("tar_cold", "tar of that tree, cold", "s", "lower"),
        Row("rm_rf", "rm -rf of that tree", "s", "lower"),
        Row("cp", f"cp {cp_mib} MiB in mount (native: --reflink=always)", "ms", "lower"),
        Row("cp_shared", "  ... copy shares extents (filefrag)", "", "info"),
        Row("daemon_cpu", "daemon CPU s, all reps of the rows above", "s", "sum", daemon_only=True),
        Row("daemon_cpu_gib", "daemon CPU per GiB moved (first 4 rows)", "ms/GiB", "least", daemon_only=True),
        Row("big_create", f"create {big:,} files ({sizes['big_dirs']} dirs)", "s", "lower"),
        Row("big_find", f"find -ls of the {big:,} files", "s", "lower"),
        Row("big_fds", "  daemon open fds after find", "", "info", daemon_only=True),
        Row("big_rss", "  daemon RSS MiB after find", "MiB", "info", daemon_only=True),
        Row("big_hwm", "  daemon peak RSS MiB (VmHWM)", "MiB", "info", daemon_only=True),
        Row("big_node_bytes", f"  daemon bytes per node (RSS after find - before create) / {big:,}", "B", "info",
            daemon_only=True),
        Row("big_rss_dropped", "  daemon RSS MiB after drop_caches (nodes forgotten)", "MiB", "info",
            daemon_only=True),
        Row("big_cpu", "  daemon CPU s for the 100k rows", "s", "sum", daemon_only=True),
    ]


# perfile_bench.sh (issue 22). model: the MODEL_TREE shape of the tree copies; entries: the tree of
# cp -a --reflink=auto and find -ls, counting its top directory; git_files: the files that differ between
# the git repository's two branches.
PERFILE_SIZES = {
    "full": dict(model="full", entries=12_000, git_files=10_000),
    "quick": dict(model="quick", entries=600, git_files=200),
}
# The program of row (a), built by lib.sh's bench_build_tree_copy.
TREE_COPY_KINDS = {"go": "Go io.Copy", "c": "C copy_file_range loop"}


def perfile_rows(sizes: dict) -> list[Row]:
    shape = MODEL_TREE[sizes["model"]]
    model = f"model tree ({model_tree_files(shape):,} files)"
    entries, git_files = sizes["entries"], sizes["git_files"]
    return [
        Row("tree_copy", f"(a) {model}: {TREE_COPY_KINDS[sizes['tree_copy']]} per file", "s", "lower",
            target=">= 0.33 (3x)"),
        Row("tree_copy_shared", "  ... its weight file shares extents (filefrag)", "", "info"),
        Row("cp_a", f"(b) {model}: cp -a", "s", "lower", target=">= 0.25 (4x)"),
        Row("cp_a_shared", "  ... its weight file shares extents (filefrag)", "", "info"),
        Row("cp_reflink", f"(c) {entries:,}-entry tree: cp -a --reflink=auto", "s", "lower", target="reported"),
        Row("git_checkout", f"(d) git checkout of a branch, {git_files:,} files differ", "s", "lower",
            target=">= 0.5 (2x)"),
        Row("find_cold", f"(e) find -ls of the {entries:,}-entry tree after drop_caches", "s", "lower",
            target="reported"),
    ]


# ---------------------------------------------------------------------------------------------------
# helpers


def drop_caches() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def daemon_cpu_seconds(pid: int) -> float:
    # Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks; the comm field may hold spaces,
    # so split after its closing parenthesis.
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class DaemonCpu:
    """Adds up the daemon's CPU time over the `with` blocks it is used in (nothing without a daemon)."""

    def __init__(self, pid: int):
        self.pid, self.seconds, self.start = pid, 0.0, 0.0

    def __enter__(self):
        if self.pid:
            self.start = daemon_cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc) -> None:
        if self.pid:
            self.seconds += daemon_cpu_seconds(self.pid) - self.start


def daemon_status(pid: int) -> dict[str, float]:
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                status[name] = int(value.split()[0]) / 1024  # kB -> MiB
    status["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return status


def pattern_block(size: int = MIB) -> bytes:
    # Incompressible, so no layer can cheat on zeros.
    return random.Random(42).randbytes(size)


def write_file(path: Path, nbytes: int, fsync: bool = True) -> None:
    block = pattern_block()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = nbytes
        while left > 0:
            left -= os.write(fd, block[: min(left, len(block))])
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path) -> int:
    total = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            chunk = os.read(fd, MIB)
            if not chunk:
                return total
            total += len(chunk)
    finally:
        os.close(fd)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def run_shell(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True)


# ---------------------------------------------------------------------------------------------------
# the rows


def random_io(path: Path, mode: str, file_bytes: int, io_bytes: int) -> float:
    """IOPS of random 4k reads or writes; writes end with an fsync that is inside the timing."""
    if shutil.which("fio"):
        cmd = ["fio", "--name=bench", f"--filename={path}", f"--rw={mode}", "--bs=4k", f"--size={file_bytes}",
               f"--io_size={io_bytes}", "--ioengine=psync", "--invalidate=0", "--norandommap",
               "--randrepeat=1", "--output-format=json"]
        if mode == "randwrite":
            cmd.append("--end_fsync=1")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        job = json.loads(out[out.index("{"):])["jobs"][0]
        side = job["read" if mode == "randread" else "write"]
        # fio's own iops leaves out the end fsync; count it, as the python path does.
        seconds = job["job_runtime"] / 1000 if mode == "randwrite" else side["runtime"] / 1000
        return side["total_ios"] / seconds if seconds > 0 else side["iops"]
    rng = random.Random(7)
    count = io_bytes // BLOCK
    offsets = [rng.randrange(file_bytes // BLOCK) * BLOCK for _ in range(count)]
    block = pattern_block(BLOCK)
    fd = os.open(path, os.O_RDWR)
    try:
        start = time.perf_counter()
        if mode == "randread":
            for off in offsets:
                os.pread(fd, BLOCK, off)
        else:
            for off in offsets:
                os.pwrite(fd, block, off)
            os.fsync(fd)
        return count / (time.perf_counter() - start)
    finally:
        os.close(fd)


def make_tree(top: Path, dirs: int, files: int) -> list[Path]:
    paths = []
    top.mkdir()
    per_dir = files // dirs
    for d in range(dirs):
        sub = top / f"d{d:03}"
        sub.mkdir()
        for i in range(per_dir):
            p = sub / f"f{i:06}"
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            paths.append(p)
    return paths


def stat_all(paths: list[Path]) -> None:
    for p in paths:
        os.lstat(p)


def readdir_all(top: Path, passes: int) -> None:
    subdirs = sorted(top.iterdir())
    for _ in range(passes):
        for d in subdirs:
            with os.scandir(d) as it:
                for _entry in it:
                    pass


def unlink_tree(top: Path, paths: list[Path]) -> None:
    for p in paths:
        os.unlink(p)
    for d in sorted(top.iterdir()):
        d.rmdir()
    top.rmdir()


def shares_extents(backing_path: Path) -> str:
    out = subprocess.run(["filefrag", "-v", str(backing_path)], capture_output=True, text=True).stdout
    extents = [line for line in out.splitlines() if line.strip()[:1].isdigit() and ":" in line]
    if not extents:
        return "no extents"
    shared = sum(1 for line in extents if "shared" in line)
    return "yes" if shared == len(extents) else f"no ({shared}/{len(extents)})"


class Recorder:
    """Appends one result line per row. For a FUSE system it first checks the mount is still there: a
    daemon that exits leaves the bare mountpoint directory, and numbers taken there would be the root
    filesystem's."""

    def __init__(self, out: Path, label: str, rep: int, mountpoint: Path | None):
        self.out, self.label, self.rep, self.mountpoint = out, label, rep, mountpoint
        self.check_mounted()

    def check_mounted(self) -> None:
        if self.mountpoint is not None and not os.path.ismount(self.mountpoint):
            sys.exit(f"{self.label}: {self.mountpoint} is no longer mounted")

    def __call__(self, key: str, value) -> None:
        self.check_mounted()
        with open(self.out, "a") as f:
            f.write(f"{self.label}\t{key}\t{self.rep}\t{value}\n")
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {self.label:>13} rep {self.rep}  {key:<14} {shown}", file=sys.stderr, flush=True)


def suite(args, sizes: dict) -> None:
    root, backing = Path(args.root), Path(args.backing)
    work = root / f"run-{args.label}"
    # Where this system's files can be reached without it (None: nowhere, they live in the daemon).
    backing_work = None if args.no_backing else backing / f"run-{args.label}"
    record = Recorder(Path(args.out), args.label, args.rep, None if args.native else root)
    cpu_start = daemon_cpu_seconds(args.pid) if args.pid else None
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()

    # Daemon CPU spent in the data rows' measured operations only (not their untimed setup), per GiB
    # those operations moved.
    data_cpu = DaemonCpu(args.pid)

    seq = work / "seq.bin"
    os.sync()
    with data_cpu:
        t = timed(write_file, seq, sizes["seq_bytes"])
    record("seq_write", sizes["seq_bytes"] / MIB / t)
    drop_caches()
    with data_cpu:
        t = timed(read_file, seq)
    record("seq_read_cold", sizes["seq_bytes"] / MIB / t)
    seq.unlink()

    # The random-I/O file is written natively (untimed) so every system starts from the same layout; a
    # system without backing gets it written through the mount.
    rand = work / "rand.bin"
    write_file(backing_work / "rand.bin" if backing_work else rand, sizes["rand_file"])
    read_file(rand)  # hot: through this system's page cache
    with data_cpu:
        iops = random_io(rand, "randread", sizes["rand_file"], sizes["rand_read_io"])
    record("rand_read_hot", iops)
    with data_cpu:
        iops = random_io(rand, "randwrite", sizes["rand_file"], sizes["rand_write_io"])
    record("rand_write", iops)
    rand.unlink()
    if args.pid:
        moved = 2 * sizes["seq_bytes"] + sizes["rand_read_io"] + sizes["rand_write_io"]
        record("daemon_cpu_gib", 1000 * data_cpu.seconds / (moved / (1 << 30)))

    tree = work / "tree"
    os.sync()
    start = time.perf_counter()
    paths = make_tree(tree, sizes["dirs"], sizes["files"])
    record("create", time.perf_counter() - start)
    record("stat_warm", timed(stat_all, paths))
    record("readdir", timed(readdir_all, tree, sizes["readdir_passes"]))
    drop_caches()
    record("stat_cold", timed(stat_all, paths))
    os.sync()
    record("unlink", timed(unlink_tree, tree, paths))

    untar = work / "untar"
    untar.mkdir()
    os.sync()
    record("untar", timed(run_shell, f"tar -xf '{args.tarball}' -C '{untar}'"))
    drop_caches()
    # Through a pipe: GNU tar skips reading file data when its archive is /dev/null.
    record("tar_cold", timed(run_shell, f"tar -cf - -C '{untar}' . | cat >/dev/null"))
    os.sync()
    record("rm_rf", timed(run_shell, f"rm -rf '{untar}'"))
    os.sync()

    src = root / "shared" / "cp-src.bin"
    dst = work / "cp-dst.bin"
    if backing_work is None and not src.exists():
        # `prepare` wrote the source on the backing XFS, which this system does not show. Only its size
        # matters here (no content is stored), so truncate it to size, once (untimed).
        src.parent.mkdir(exist_ok=True)
        with open(src, "wb") as f:
            f.truncate(sizes["cp_bytes"])
    cp = ["cp", "--reflink=always"] if args.native else ["cp"]
    os.sync()
    start = time.perf_counter()
    copied = subprocess.run(cp + [str(src), str(dst)]).returncode == 0
    elapsed_ms = 1000 * (time.perf_counter() - start)
    if copied and dst.stat().st_size == src.stat().st_size:
        record("cp", elapsed_ms)
        record("cp_shared", shares_extents(backing_work / "cp-dst.bin") if backing_work else "n/a")
    else:
        record("cp", "FAILED")
        record("cp_shared", "-")
    dst.unlink(missing_ok=True)

    shutil.rmtree(work)
    os.sync()
    if cpu_start is not None:
        record("daemon_cpu", daemon_cpu_seconds(args.pid) - cpu_start)


def bigtree(args, sizes: dict) -> None:
    root, backing = Path(args.root), Path(args.backing)
    record = Recorder(Path(args.out), args.label, 1, None if args.native else root)
    top = root / f"big-{args.label}"
    cpu_start = daemon_cpu_seconds(args.pid) if args.pid else None
    rss_start = daemon_status(args.pid)["VmRSS"] if args.pid else None  # the freshly mounted daemon
    os.sync()
    start = time.perf_counter()
    make_tree(top, sizes["big_dirs"], sizes["big_files"])
    record("big_create", time.perf_counter() - start)
    record("big_find", timed(run_shell, f"find '{top}' -ls >/dev/null"))
    if args.pid:
        status = daemon_status(args.pid)
        record("big_fds", status["fds"])
        record("big_rss", round(status["VmRSS"], 1))
        record("big_hwm", round(status["VmHWM"], 1))
        # What the daemon keeps per node the kernel knows: its growth over the create and the find (the
        # nodes of the files, their directories' few, and whatever else grew meanwhile: an upper bound).
        record("big_node_bytes", round((status["VmRSS"] - rss_start) * MIB / sizes["big_files"]))
        record("big_cpu", daemon_cpu_seconds(args.pid) - cpu_start)
        # The kernel FORGETs the nodes it drops from its caches; what the daemon gives back is visible in
        # its RSS once it has handled those FORGETs (sent asynchronously: a moment later).
        drop_caches()
        time.sleep(2)
        record("big_rss_dropped", round(daemon_status(args.pid)["VmRSS"], 1))
    # Removed on the backing filesystem: removing 100k files through a slow peer would only add minutes
    # (without backing, through the mount: the floor daemon removes them from memory).
    shutil.rmtree(top if args.no_backing else backing / f"big-{args.label}")
    drop_caches()  # lets the kernel FORGET the nodes


def make_sparse(path: Path, apparent: int, data: int, pieces: int) -> None:
    """A file of `apparent` bytes holding `data` bytes in `pieces` equal extents spread over it (the first
    at offset 0, the last ending at EOF, the rest evenly between): holes at several offsets."""
    piece = data // pieces
    block = pattern_block(piece)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(pieces):
            offset = (apparent - piece) * i // (pieces - 1) // BLOCK * BLOCK
            os.pwrite(fd, block, offset)
        os.ftruncate(fd, apparent)
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_whole_file(src: Path, dst: Path) -> None:
    """What an application that calls copy_file_range(2) itself does (cp 9.1 does not for sparse files:
    it walks SEEK_DATA itself and reads/writes). Through fastfs each call is one FUSE COPY_FILE_RANGE."""
    fd_in = os.open(src, os.O_RDONLY)
    try:
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            left = os.fstat(fd_in).st_size
            while left > 0:
                copied = os.copy_file_range(fd_in, fd_out, min(left, 1 << 30))
                if copied == 0:
                    break
                left -= copied
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


MODEL_TREE = {
    # The tree: 20 layers x 50 dense shards of 4 KiB-1 MiB, 20 sparse 200 MiB weight files, configs.
    "full": dict(layers=20, shards=50, weights=20, weight_bytes=200 * MIB, weight_data=8 * MIB),
    "quick": dict(layers=4, shards=20, weights=4, weight_bytes=64 * MIB, weight_data=2 * MIB),
}


MODEL_TREE_CONFIGS = {"config.json": 2048, "generation_config.json": 256, "tokenizer_config.json": 4096,
                      "special_tokens_map.json": 512, "tokenizer.json": 2 * MIB, "README.md": 8192}


def make_model_tree(top: Path, sizes: str) -> tuple[int, int]:
    """A cached model as a platform keeps it: shards per layer, sparse weight files, configs and a
    tokenizer. Deterministic. Returns (files, bytes of data written)."""
    shape = MODEL_TREE[sizes]
    rng = random.Random(11)
    files = written = 0
    for layer in range(shape["layers"]):
        directory = top / "layers" / f"layer_{layer:02d}"
        directory.mkdir(parents=True)
        for shard in range(shape["shards"]):
            size = rng.randrange(4096, MIB + 1)
            write_file(directory / f"shard_{shard:03d}.bin", size, fsync=False)
            files, written = files + 1, written + size
    (top / "weights").mkdir()
    for weight in range(shape["weights"]):
        make_sparse(top / "weights" / f"model-{weight:05d}.safetensors", shape["weight_bytes"],
                    shape["weight_data"], 8)
        files, written = files + 1, written + shape["weight_data"]
    for name, size in MODEL_TREE_CONFIGS.items():
        write_file(top / name, size, fsync=False)
        files, written = files + 1, written + size
    os.sync()
    return files, written


def model_tree_files(shape: dict) -> int:
    return shape["layers"] * shape["shards"] + shape["weights"] + len(MODEL_TREE_CONFIGS)


def make_entry_tree(top: Path, entries: int) -> str:
    """A tree like a source or documentation tree, of `entries` entries counting `top`: one in 20 a
    directory (two levels: packages and their subdirectories), one in 20 a relative symbolic link to a file
    beside it, the rest regular files of 64 B-64 KiB (log-uniform: most are small), one in ten executable.
    Deterministic. Returns what it made, in words."""
    rng = random.Random(12)
    n_dirs = max(2, entries // 20)
    n_links = entries // 20
    n_files = entries - n_dirs - n_links
    top.mkdir(parents=True)
    dirs = [top]
    packages = max(1, math.isqrt(n_dirs - 1))
    for i in range(n_dirs - 1):
        parent = top if i < packages else dirs[1 + i % packages]
        directory = parent / (f"pkg{i:03d}" if i < packages else f"sub{i:04d}")
        directory.mkdir()
        dirs.append(directory)
    block = random.Random(42).randbytes(64 * 1024)
    names: list[list[str]] = [[] for _ in dirs]
    written = 0
    for i in range(n_files):
        slot = i % len(dirs)
        size = int(64 * 2 ** (rng.random() * 10))
        name = f"f{i:05d}" + (".h", ".c", ".txt", ".html")[i % 4]
        mode = 0o755 if rng.random() < 0.1 else 0o644
        fd = os.open(dirs[slot] / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            start = rng.randrange(len(block) - size + 1)
            view = memoryview(block)[start:start + size]
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        names[slot].append(name)
        written += size
    for i in range(n_links):
        slot = i % len(dirs)
        while not names[slot]:
            slot = (slot + 1) % len(dirs)
        os.symlink(names[slot][i % len(names[slot])], dirs[slot] / f"link{i:05d}")
    os.sync()
    return (f"{entries:,} entries: {n_dirs:,} directories, {n_files:,} files ({written // MIB} MiB), "
            f"{n_links:,} symbolic links")


# The repository's commits are the same in every run: fixed names and dates, no configuration of the
# machine's (global or system) in play.
GIT_ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(repo: Path, *args: str) -> None:
    """Runs git in `repo`; raises CalledProcessError with git's message in .stderr."""
    subprocess.run(["git", "-C", str(repo), *args], check=True, env={**os.environ, **GIT_ENV},
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def make_git_repo(top: Path, files: int) -> str:
    """A git repository at `top` with branches A and B (B a child of A) of `files` small text files each
    (100 to a directory, 150 B-2 KiB), the same paths with different contents in every one, packed as a
    clone's would be, A checked out. Deterministic. The commits are written with git fast-import, so only
    the checkout of A writes the work tree. Returns what it made, in words."""
    top.mkdir(parents=True)
    git(top, "init", "-q", "-b", "A")
    git(top, "config", "gc.auto", "0")
    dirs = max(1, files // 100)
    paths = [f"src{i % dirs:03d}/file{i:05d}.txt" for i in range(files)]
    stream = bytearray()
    mark = 0
    for branch, seed in (("A", 1), ("B", 2)):
        rng = random.Random(seed)
        first = mark + 1
        for i in range(files):
            mark += 1
            text = "".join(f"{branch} {i:05d} {rng.getrandbits(64):016x}\n"
                           for _ in range(rng.randrange(6, 80))).encode()
            stream += b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(text), text)
        message = f"branch {branch}".encode()
        stream += (b"commit refs/heads/%s\nauthor bench <bench@localhost> 1767225600 +0000\n"
                   b"committer bench <bench@localhost> 1767225600 +0000\ndata %d\n%s\n"
                   % (branch.encode(), len(message), message))
        if branch == "B":
            stream += b"from refs/heads/A\n"
        for i, path in enumerate(paths):
            stream += b"M 100644 :%d %s\n" % (first + i, path.encode())
        stream += b"\n"
    subprocess.run(["git", "-C", str(top), "fast-import", "--quiet"], input=bytes(stream), check=True,
                   env={**os.environ, **GIT_ENV}, stdout=subprocess.DEVNULL)
    git(top, "repack", "-a", "-d", "-q")
    git(top, "checkout", "-q", "-f", "A")
    os.sync()
    return f"git repository: branches A and B, {files:,} files in {dirs} directories, each different in B"


def read_data(path: str) -> None:
    """Reads the data of a file, skipping its holes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        offset = 0
        while True:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:  # no data after offset
                    return
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            while start < end:
                chunk = os.pread(fd, min(MIB, end - start), start)
                if not chunk:
                    return
                start += len(chunk)
            offset = end
    finally:
        os.close(fd)


def warm_tree(path: Path, backing_path: Path | None) -> None:
    """Before a timed row that works on a tree (untimed): every entry stat'ed through the system, so the
    kernel knows their names and attributes as after any earlier use, and, where the files are on the
    backing, their data read there, into the page cache that native and passthrough reads use."""
    for directory, subdirs, files in os.walk(path):
        for name in subdirs + files:
            os.lstat(os.path.join(directory, name))
    if backing_path is None:
        return
    for directory, _, files in os.walk(backing_path):
        for name in files:
            file = os.path.join(directory, name)
            if stat.S_ISREG(os.lstat(file).st_mode):
                read_data(file)


def make_perfile_inputs(shared: Path, sizes_name: str, parts: str, say) -> None:
    """The inputs of the rows in `parts` (letters a-e) under `shared`, each unless it is there already:
    the model tree (a, b), the entry tree (c, e) and the git repository (d). `say` gets a line about each."""
    sizes = PERFILE_SIZES[sizes_name]
    shared.mkdir(exist_ok=True)
    model, tree, repo = shared / "model", shared / "tree", shared / "repo"
    if set(parts) & set("ab") and not model.exists():
        files, written = make_model_tree(model, sizes["model"])
        say(f"model tree: {files} files, {written // MIB} MiB of data")
    if set(parts) & set("ce") and not tree.exists():
        say(f"tree: {make_entry_tree(tree, sizes['entries'])}")
    if "d" in parts and not repo.exists():
        say(make_git_repo(repo, sizes["git_files"]))


def perfile(args, sizes_name: str) -> None:
    """One repetition of perfile_bench.sh's rows on one system. The inputs are under ROOT/shared (made
    natively by perfile_bench.sh; through the mount here for a system without backing), the copies go to
    ROOT/run-LABEL, which perfile_bench.sh removes natively once the system is unmounted."""
    root, backing = Path(args.root), Path(args.backing)
    record = Recorder(Path(args.out), args.label, args.rep, None if args.native else root)
    parts = args.only
    shared = root / "shared"
    backing_shared = None if args.no_backing else backing / "shared"
    work = root / f"run-{args.label}"
    backing_work = None if args.no_backing else backing / f"run-{args.label}"
    if args.no_backing:
        # The floor keeps no file contents and forgets everything at its unmount: its inputs are made
        # through the mount in each repetition (untimed). git reads back what it wrote, which the floor
        # cannot give: that row then shows n/a.
        try:
            make_perfile_inputs(shared, args.sizes, parts, lambda line: print(f"  {args.label}: {line}",
                                                                             file=sys.stderr))
        except subprocess.CalledProcessError as e:
            print(f"  {args.label}: no git repository here: {e.stderr.strip()}", file=sys.stderr)
            parts = parts.replace("d", "")
            record("git_checkout", "n/a (git failed)")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()

    def copy_row(key: str, shared_key: str, command: list[str], source: str) -> None:
        src, dst = shared / source, work / f"{source}-{key}"
        warm_tree(src, backing_shared / source if backing_shared else None)
        os.sync()
        start = time.perf_counter()
        done = subprocess.run(command + [str(src), str(dst)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(f"  {args.label}: {' '.join(command)} failed: {done.stderr.strip()[-600:]}", file=sys.stderr)
        record(key, elapsed if done.returncode == 0 else "FAILED")
        if shared_key:
            weight = Path(dst.name) / "weights" / "model-00000.safetensors"
            record(shared_key, "n/a" if backing_work is None else
                   shares_extents(backing_work / weight) if done.returncode == 0 else "-")

    if "a" in parts:
        copy_row("tree_copy", "tree_copy_shared", [args.tree_copy], "model")
    if "b" in parts:
        copy_row("cp_a", "cp_a_shared", ["cp", "-a"], "model")
    if "c" in parts:
        copy_row("cp_reflink", "", ["cp", "-a", "--reflink=auto"], "tree")
    if "d" in parts:
        repo = shared / "repo"
        try:
            # From A, clean, with an index that matches what this system shows (inode numbers, times) and
            # holds no racily clean entries (files as new as the index are re-read by the next command):
            # a second after the last checkout, refreshed. Untimed, as is the way back to A.
            git(repo, "checkout", "-q", "-f", "A")
            warm_tree(repo, backing_shared / "repo" if backing_shared else None)
            time.sleep(1.1)
            git(repo, "update-index", "-q", "--refresh")
            os.sync()
            start = time.perf_counter()
            git(repo, "checkout", "-q", "B")
            elapsed = time.perf_counter() - start
            record("git_checkout", elapsed)
            git(repo, "checkout", "-q", "A")
        except subprocess.CalledProcessError as e:
            print(f"  {args.label}: git {' '.join(e.cmd[3:])} failed: {e.stderr.strip()}", file=sys.stderr)
            record("git_checkout", "FAILED")
    if "e" in parts:
        drop_caches()
        record("find_cold", timed(run_shell, f"find '{shared / 'tree'}' -ls >/dev/null"))


def prepare(args, sizes: dict) -> None:
    shared = Path(args.backing) / "shared"
    shared.mkdir(exist_ok=True)
    write_file(shared / "cp-src.bin", sizes["cp_bytes"])


# ---------------------------------------------------------------------------------------------------
# the table


def load_results(path: Path) -> dict[tuple[str, str], list[str]]:
    results: dict[tuple[str, str], list[str]] = {}
    for line in path.read_text().splitlines():
        label, key, _rep, value = line.split("\t")
        results.setdefault((label, key), []).append(value)
    return results


def summarize(row: Row, values: list[str]):
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        # Text cells ("yes", "no (0/3)"): the verdicts, without per-repetition detail unless they differ.
        verdicts = sorted({v.split(" ")[0] for v in values})
        return values[-1] if len(set(values)) == 1 else "/".join(verdicts)
    if row.better == "higher":
        return max(numbers)
    if row.better == "lower":
        return min(numbers)
    if row.better == "sum":
        return sum(numbers)
    if row.better == "least":
        return min(numbers)
    return numbers[-1]


def fmt_number(value: float, unit: str) -> str:
    if unit == "" and value == int(value):
        return f"{value:,.0f}"  # counts
    if unit == "ms/GiB":
        return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
    if unit == "ms" and value < 100:
        return f"{value:.1f}"
    if unit in ("MiB/s", "IOPS", "ms") or value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.4f}"


# Column headings that need more than the system's name.
COLUMN_TITLES = {
    "fastfs-ptoff": "fastfs passthrough=off",
    "fastfs-uring": "fastfs io_uring",
    "floor": "floor (no-op FUSE)",
    "floor-uring": "floor io_uring",
}


def native_best(row: Row, results: dict, columns: list[str]) -> float | None:
    """The better of the native columns for a row with a ratio, else None."""
    if row.better not in ("higher", "lower"):
        return None
    natives = [summarize(row, results[(c, row.key)]) for c in columns
               if c.startswith("native") and (c, row.key) in results]
    natives = [v for v in natives if isinstance(v, float)]
    if not natives:
        return None
    return max(natives) if row.better == "higher" else min(natives)


def ratio_to_native(row: Row, value: float, best: float) -> float:
    """> 1 means faster than native, whichever way the row counts."""
    if row.better == "higher":
        return value / best
    return best / value if value > 0 else float("inf")


def row_set(args) -> list[Row]:
    """The rows of run.sh (--rows suite) or of perfile_bench.sh (--rows perfile) at the run's sizes."""
    if args.rows == "perfile":
        return perfile_rows(dict(PERFILE_SIZES[args.sizes], tree_copy=args.tree_copy))
    return rows_for(SIZES[args.sizes])


def matching_floor(column: str) -> str | None:
    """The no-op floor on the same transport as a FUSE column: floor io_uring for an io_uring column, else
    floor; none for native and the floors themselves."""
    if column.startswith(("native", "floor")):
        return None
    return "floor-uring" if column.endswith("-uring") else "floor"


def table(args) -> None:
    results = load_results(Path(args.results))
    columns = args.columns.split(",")
    # A row no column has a result for was not run (perfile_bench.sh --only).
    rows = [r for r in row_set(args) if any((c, r.key) in results for c in columns)]
    with_targets = any(r.target for r in rows)
    headers = ["row", "unit"] + (["target"] if with_targets else []) + [COLUMN_TITLES.get(c, c) for c in columns]
    lines = []
    for row in rows:
        cells = [row.label, row.unit] + ([row.target] if with_targets else [])
        best = native_best(row, results, columns)
        for col in columns:
            vals = results.get((col, row.key))
            if vals is None:
                cells.append("-" if row.daemon_only and col.startswith("native") else "n/a")
                continue
            value = summarize(row, vals)
            if not isinstance(value, float):
                cells.append(str(value))
                continue
            text = fmt_number(value, row.unit)
            if best and not col.startswith("native"):
                ratios = [f"{ratio_to_native(row, value, best):.2f}"]
                floor = matching_floor(col) if args.floor_ratios else None
                floor_value = summarize(row, results[(floor, row.key)]) if (floor, row.key) in results else None
                if isinstance(floor_value, float):
                    ratios.append(f"floor {ratio_to_native(row, value, floor_value):.2f}")
                text += f" ({', '.join(ratios)})"
                if row.key == "cp":
                    delta = value - best
                    text += f" [{delta:+.1f} ms]" if abs(delta) < 100 else f" [{delta:+,.0f} ms]"
            cells.append(text)
        lines.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *lines)]

    def emit(cells):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |")

    emit(headers)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cells in lines:
        emit(cells)
    print()
    if args.rows == "perfile":
        print(f"Best of {args.reps} per cell (fastest time, s, including the command's start).")
        print("(x.xx) = ratio to the better native column, time native / time system: > 1 means faster than "
              "native, 0.33 = 3x native's time.")
        if args.floor_ratios:
            print("floor x.xx = the same ratio to the no-op floor daemon on the same transport (floor for "
                  "/dev/fuse, floor io_uring for io_uring): 1 = as fast as a FUSE daemon that does no work.")
        print("target = the issue's target for the ratio to native; n/a = the row cannot run on that system.")
        return
    print(f"Best of {args.reps} per cell (fastest time / highest rate / least CPU per GiB; CPU s rows are "
          "totals over all reps).")
    print("(x.xx) = ratio to the better native column, > 1 means faster than native; "
          "[+n ms] = in-mount cp minus native reflink cp.")


# Bar colours by column: fastfs's variants in blues, the floors in oranges, peers in greys.
CHART_COLOURS = {
    "fastfs": "#1f4e9c", "fastfs-ptoff": "#7fa7e0", "fastfs-uring": "#2ca6a4",
    "mergerfs": "#8c8c8c", "bindfs": "#c4c4c4", "floor": "#e08a2c", "floor-uring": "#f2c14e",
}
CHART_LIMIT = 1.6  # ratios above this are drawn to the edge, with their value written next to them


def chart(args) -> None:
    """One horizontal group of bars per row with a ratio, one bar per system; native is the line at 1."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("bench.py chart: matplotlib is missing: apt-get install python3-matplotlib "
                 "(run.sh --peers installs it)")
    results = load_results(Path(args.results))
    columns = args.columns.split(",")
    systems = [c for c in columns if not c.startswith("native")]
    rows = [r for r in row_set(args) if native_best(r, results, columns)]
    if not rows:
        sys.exit("bench.py chart: no row of these results has a ratio to native")
    group = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(10, 0.13 * len(rows) * max(1, len(systems)) + 1.8))
    for i, system in enumerate(systems):
        ys, widths, notes = [], [], []
        for j, row in enumerate(rows):
            vals = results.get((system, row.key))
            value = summarize(row, vals) if vals else None
            if not isinstance(value, float):
                continue
            ratio = ratio_to_native(row, value, native_best(row, results, columns))
            y = j + (i - (len(systems) - 1) / 2) * group
            ys.append(y)
            widths.append(min(ratio, CHART_LIMIT))
            if ratio > CHART_LIMIT:
                notes.append((y, f"{ratio:.1f}"))
        ax.barh(ys, widths, height=group, color=CHART_COLOURS.get(system), edgecolor="black",
                linewidth=0.3, label=COLUMN_TITLES.get(system, system))
        for y, text in notes:
            ax.text(CHART_LIMIT, y, f" {text}", va="center", fontsize=6)
    for j in range(0, len(rows), 2):  # every other row group shaded, so a bar's row is easy to see
        ax.axhspan(j - 0.5, j + 0.5, color="#f2f2f2", zorder=0)
    marked = False
    for j, row in enumerate(rows):  # a row's target ratio, where it has one, as a red mark across its group
        if row.target.startswith(">= "):
            ax.plot([float(row.target.split()[1])] * 2, [j - 0.45, j + 0.45], color="#c0392b", linewidth=1.5,
                    label=None if marked else "target")
            marked = True
    ax.axvline(1.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, CHART_LIMIT + 0.15)
    ax.set_xlabel("ratio to native (the better native column; > 1 is faster than native, dashed line = native)")
    ax.grid(axis="x", linewidth=0.3)
    ax.set_axisbelow(True)
    ax.set_title(textwrap.fill(args.title or "fastfs side-by-side benchmark", 90), fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / fig.get_figheight()), ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=args.dpi)
    print(f"chart: {args.out}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("prepare", "suite", "bigtree"):
        p = sub.add_parser(name)
        p.add_argument("--sizes", choices=SIZES, default="full")
        p.add_argument("--backing", required=True, help="the backing XFS directory (native path)")
        if name != "prepare":
            p.add_argument("--root", required=True, help="where this system shows the backing directory")
            p.add_argument("--label", required=True)
            p.add_argument("--out", required=True)
            p.add_argument("--pid", type=int, default=0, help="daemon pid, for CPU/RSS/fd figures")
            p.add_argument("--native", action="store_true")
            p.add_argument("--no-backing", action="store_true",
                           help="the system does not show --backing (in-memory floor daemon)")
        if name == "suite":
            p.add_argument("--rep", type=int, default=1)
            p.add_argument("--tarball", required=True)
    p = sub.add_parser("mkfile", help="write PATH with BYTES of incompressible data, then fsync")
    p.add_argument("path")
    p.add_argument("bytes", type=int)
    p = sub.add_parser("mksparse", help="PATH of APPARENT bytes with DATA bytes in PIECES extents")
    p.add_argument("path")
    p.add_argument("apparent", type=int)
    p.add_argument("data", type=int)
    p.add_argument("pieces", type=int)
    p = sub.add_parser("mkmodeltree", help="the model tree of the copy benchmark at PATH (must not exist)")
    p.add_argument("path")
    p.add_argument("--sizes", choices=MODEL_TREE, default="full")
    p = sub.add_parser("mkentrytree", help="perfile_bench.sh's tree of many entries at PATH (must not exist)")
    p.add_argument("path")
    p.add_argument("--sizes", choices=PERFILE_SIZES, default="full")
    p = sub.add_parser("mkgitrepo", help="perfile_bench.sh's git repository at PATH (must not exist)")
    p.add_argument("path")
    p.add_argument("--sizes", choices=PERFILE_SIZES, default="full")
    p = sub.add_parser("perfile", help="one repetition of perfile_bench.sh's rows")
    p.add_argument("--sizes", choices=PERFILE_SIZES, default="full")
    p.add_argument("--backing", required=True, help="the backing XFS directory (native path)")
    p.add_argument("--root", required=True, help="where this system shows the backing directory")
    p.add_argument("--label", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rep", type=int, default=1)
    p.add_argument("--native", action="store_true")
    p.add_argument("--no-backing", action="store_true",
                   help="the system does not show --backing (in-memory floor daemon)")
    p.add_argument("--only", default="abcde", help="the rows to run, by letter (default abcde)")
    p.add_argument("--tree-copy", required=True, help="the per-file tree copy program of row (a)")
    p = sub.add_parser("cfr", help="copy SRC to DST with copy_file_range(2) calls; prints ms")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("table")
    p.add_argument("--sizes", choices=SIZES, default="full")
    p.add_argument("--rows", choices=("suite", "perfile"), default="suite")
    p.add_argument("--tree-copy", choices=TREE_COPY_KINDS, default="go", help="perfile: the program of row (a)")
    p.add_argument("--results", required=True)
    p.add_argument("--columns", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--floor-ratios", action="store_true",
                   help="also each system's ratio to the floor on the same transport")
    p = sub.add_parser("chart")
    p.add_argument("--sizes", choices=SIZES, default="full")
    p.add_argument("--rows", choices=("suite", "perfile"), default="suite")
    p.add_argument("--tree-copy", choices=TREE_COPY_KINDS, default="go", help="perfile: the program of row (a)")
    p.add_argument("--results", required=True)
    p.add_argument("--columns", required=True)
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--title", default="")
    p.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    if args.command == "table":
        table(args)
        return
    if args.command == "chart":
        chart(args)
        return
    if args.command == "mkfile":
        write_file(Path(args.path), args.bytes)
        return
    if args.command == "cfr":
        print(f"{1000 * timed(copy_whole_file, Path(args.src), Path(args.dst)):.0f}")
        return
    if args.command == "mkmodeltree":
        files, written = make_model_tree(Path(args.path), args.sizes)
        print(f"{files} files, {written // MIB} MiB of data")
        return
    if args.command == "mksparse":
        make_sparse(Path(args.path), args.apparent, args.data, args.pieces)
        return
    if args.command == "mkentrytree":
        print(make_entry_tree(Path(args.path), PERFILE_SIZES[args.sizes]["entries"]))
        return
    if args.command == "mkgitrepo":
        print(make_git_repo(Path(args.path), PERFILE_SIZES[args.sizes]["git_files"]))
        return
    if args.command == "perfile":
        perfile(args, args.sizes)
        return
    sizes = SIZES[args.sizes]
    {"prepare": prepare, "suite": suite, "bigtree": bigtree}[args.command](args, sizes)


if __name__ == "__main__":
    main()
