#!/usr/bin/env python3
"""Differential random tester: the same seeded operation sequence runs in a directory reached through the fastfs
mount (side A) and in a sibling directory of the same backing filesystem reached directly (side B). Every
return value and errno is compared, and at the end the whole tree (names, types, modes, sizes, link counts, hard
link groups, contents, symlink targets and SEEK_DATA/SEEK_HOLE maps).

Differences POSIX allows are not compared: inode numbers, st_dev, times (except right after an explicit utime),
st_blocks, directory sizes, short counts of copy_file_range (the tester loops like cp does), and the exact hole
map of a file whose blocks came from copy_file_range (reflink on one side, splice copy on the other) or from
fallocate (unwritten extents count as data once cached pages exist, and the two sides cache differently). For
those files each side's map is still checked for validity: every byte outside a reported data extent is zero.

  difftest.py --binary BUILD/fastfs --fs xfs --seeds 1,2,3 --ops 3000   # through a real mount
  difftest.py --native --fs ext4 --seeds 1                              # self-test: two native dirs
  difftest.py --dirs A B --seed 7                                        # any two existing dirs
  difftest.py ... --seed 7 --ops 1234 --minimize                         # shrink a failing sequence
"""

from __future__ import annotations

import argparse
import errno
import json
import mmap
import os
import random
import stat
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as H  # noqa: E402

SLOTS = 4
FILE_NAMES = ["f0", "f1", "f2", "f3", "s0"]
DIR_NAMES = ["d0", "d1"]
PARENTS = ["", "d0", "d1", "d0/d1"]
PATHS = [os.path.join(p, n) for p in PARENTS for n in FILE_NAMES + DIR_NAMES]
# Relative, never "..": a symlink must resolve inside its own side's tree.
SYMLINK_TARGETS = ["f0", "f1", "d0", "d0/f2", "missing", "s0", "d1/s0", "d0/d1"]
BLOCK = 4096
ACCESS_MODES = [os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_RDWR]
EXTRA_FLAGS = [0, os.O_CREAT, os.O_CREAT | os.O_EXCL, os.O_TRUNC, os.O_CREAT | os.O_TRUNC, os.O_APPEND,
               os.O_CREAT | os.O_APPEND, os.O_NOFOLLOW, os.O_CREAT, os.O_CREAT, 0, os.O_CREAT]
CHMOD_MODES = [0o644, 0o600, 0o755, 0o700, 0o444, 0o000, 0o1777, 0o2755, 0o4755, 0o666]
FALLOC_MODES = [0, H.FALLOC_FL_KEEP_SIZE, H.FALLOC_FL_PUNCH_HOLE | H.FALLOC_FL_KEEP_SIZE, H.FALLOC_FL_ZERO_RANGE,
                H.FALLOC_FL_ZERO_RANGE | H.FALLOC_FL_KEEP_SIZE, H.FALLOC_FL_PUNCH_HOLE]
WEIGHTS = {
    "open": 16, "close": 3, "pread": 10, "read": 3, "pwrite": 14, "write": 4, "lseek": 3, "seekdh": 6,
    "ftruncate": 4, "truncate": 2, "fallocate": 6, "cfr": 10, "fsync": 2, "fstat": 3, "rename": 3,
    "renameat2": 2, "link": 2, "unlink": 3, "mkdir": 3, "rmdir": 1, "symlink": 1, "readlink": 1, "stat": 3,
    "lstat": 2, "chmod": 2, "utime": 2, "listdir": 3, "mmap": 3,
}
DIR_KINDS = {"mkdir", "rmdir", "listdir"}


# ---- generation: a pure function of the seed, independent of state, so sequences can be shrunk ----------

def gen_offset(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.45:
        return rng.randrange(0, 256) * BLOCK
    if r < 0.9:
        return rng.randrange(0, 1_200_000)
    return rng.randrange(1_200_000, 3_000_000)  # far past EOF: holes


def gen_length(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.45:
        return rng.randrange(1, 48) * BLOCK
    if r < 0.93:
        return rng.randrange(1, 70_000)
    if r < 0.97:
        return rng.randrange(1_000_000, 3_500_000)  # more than one FUSE request (max_write 1 MiB)
    return 0


def gen_op(rng: random.Random, weights: dict[str, int]) -> dict:
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    op: dict = {"k": kind}
    def path():
        # Mostly names of the right kind so ops succeed; sometimes any name, for the error paths.
        if rng.random() < 0.15:
            return rng.choice(PATHS)
        return os.path.join(rng.choice(PARENTS), rng.choice(DIR_NAMES if kind in DIR_KINDS else FILE_NAMES))

    slot = lambda: rng.randrange(SLOTS)  # noqa: E731
    if kind == "open":
        op.update(slot=slot(), path=path(), flags=rng.choice(ACCESS_MODES) | rng.choice(EXTRA_FLAGS),
                  mode=rng.choice([0o644, 0o600, 0o755, 0o666]))
    elif kind in ("close", "fsync", "fstat"):
        op.update(slot=slot())
    elif kind in ("pread", "read"):
        op.update(slot=slot(), off=gen_offset(rng), len=gen_length(rng) or 1)
    elif kind in ("pwrite", "write"):
        op.update(slot=slot(), off=gen_offset(rng), len=gen_length(rng), data=rng.getrandbits(32),
                  zeros=rng.random() < 0.05)
    elif kind == "lseek":
        op.update(slot=slot(), whence=rng.choice([os.SEEK_SET, os.SEEK_CUR, os.SEEK_END]),
                  off=rng.choice([0, 0, -100, 4096, rng.randrange(-70_000, 2_000_000)]))
    elif kind == "seekdh":
        op.update(slot=slot(), whence=rng.choice([os.SEEK_DATA, os.SEEK_HOLE]), off=gen_offset(rng))
    elif kind == "mmap":
        op.update(slot=slot(), off=gen_offset(rng), len=gen_length(rng) or 1, data=rng.getrandbits(32),
                  zeros=False)
    elif kind == "ftruncate":
        op.update(slot=slot(), size=rng.choice([0, gen_offset(rng), gen_offset(rng)]))
    elif kind == "truncate":
        op.update(path=path(), size=rng.choice([0, gen_offset(rng)]))
    elif kind == "fallocate":
        op.update(slot=slot(), mode=rng.choice(FALLOC_MODES), off=gen_offset(rng), len=gen_length(rng))
    elif kind == "cfr":
        same = rng.random() < 0.25
        src = slot()
        op.update(src=src, dst=src if same else slot(), off_in=gen_offset(rng), off_out=gen_offset(rng),
                  len=rng.choice([gen_length(rng), gen_length(rng), 2_000_000]))
    elif kind == "rename" and rng.random() < 0.2:  # directories, including into their own subtree
        op.update(src=os.path.join(rng.choice(PARENTS), rng.choice(DIR_NAMES)),
                  dst=os.path.join(rng.choice(PARENTS), rng.choice(DIR_NAMES)))
    elif kind == "rename":
        op.update(src=path(), dst=path())
    elif kind == "renameat2":
        op.update(src=path(), dst=path(), flags=rng.choice([H.RENAME_NOREPLACE, H.RENAME_EXCHANGE]))
    elif kind == "link":
        op.update(src=path(), dst=path(), follow=rng.random() < 0.3)
    elif kind in ("unlink", "rmdir", "readlink", "stat", "lstat", "listdir"):
        op.update(path=rng.choice(PARENTS) if kind == "listdir" and rng.random() < 0.5 else path())

    elif kind == "mkdir":
        op.update(path=path(), mode=rng.choice([0o755, 0o700, 0o777]))
    elif kind == "symlink":
        op.update(target=rng.choice(SYMLINK_TARGETS), path=path())
    elif kind == "chmod":
        op.update(path=path(), mode=rng.choice(CHMOD_MODES))
    elif kind == "utime":
        explicit = rng.random() < 0.7
        op.update(path=path(), ns=[rng.randrange(10**18, 2 * 10**18), rng.randrange(10**18, 2 * 10**18)]
                  if explicit else None)
    return op


def generate(seed: int, count: int, without: frozenset[str] = frozenset()) -> list[dict]:
    rng = random.Random(seed)
    weights = {k: w for k, w in WEIGHTS.items() if k not in without}
    return [gen_op(rng, weights) for _ in range(count)]


def payload(op: dict) -> bytes:
    if op["zeros"]:
        return bytes(op["len"])
    return random.Random(op["data"]).randbytes(op["len"])


# ---- execution --------------------------------------------------------------------------------------------

def errname(e: OSError) -> str:
    return errno.errorcode.get(e.errno, str(e.errno))


def norm_stat(st: os.stat_result) -> tuple:
    fmt = stat.S_IFMT(st.st_mode)
    size = None if stat.S_ISDIR(st.st_mode) else st.st_size
    return (stat.filemode(st.st_mode), st.st_nlink, st.st_uid, st.st_gid, size, fmt)


class Side:
    def __init__(self, name: str, root: str):
        self.name = name
        self.root = root
        self.slots: list[int | None] = [None] * SLOTS

    def p(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def close_all(self) -> None:
        for i, fd in enumerate(self.slots):
            if fd is not None:
                os.close(fd)
                self.slots[i] = None


def zero_between(fd: int, start: int, end: int) -> bool:
    # The op's descriptor may be write-only: read through a fresh open of the same file.
    reader = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY)
    try:
        return _zero_between(reader, start, end)
    finally:
        os.close(reader)


def _zero_between(fd: int, start: int, end: int) -> bool:
    pos = start
    while pos < end:
        chunk = os.pread(fd, min(1 << 20, end - pos), pos)
        if not chunk:
            return True
        if chunk.count(0) != len(chunk):
            return False
        pos += len(chunk)
    return True


def seek_valid(fd: int, whence: int, off: int, result) -> bool:
    """Whether a SEEK_DATA/SEEK_HOLE answer is one POSIX allows for this file's content."""
    size = os.fstat(fd).st_size
    if result == "ENXIO":
        return off >= size or (whence == os.SEEK_DATA and zero_between(fd, off, size))
    if not isinstance(result, int) or off >= size or result < off or result > size:
        return False
    if whence == os.SEEK_DATA:
        return result < size and zero_between(fd, off, result)
    return True


class Runner:
    """Executes ops on both sides and compares; `tainted` holds side-B inode numbers whose hole map may differ."""

    def __init__(self, a: Side, b: Side, verbose: bool = False, strict_holes: bool = True):
        self.a, self.b = a, b
        self.verbose = verbose
        self.strict_holes = strict_holes
        self.tainted: set[int] = set()
        self.notes: list[str] = []

    def call(self, fn):
        try:
            return ("ok", fn())
        except OSError as e:
            return ("err", errname(e))

    def run_one(self, side: Side, op: dict):
        k = op["k"]
        fd = side.slots[op["slot"]] if "slot" in op else None
        if "slot" in op and k != "open" and fd is None:
            return ("skip",)
        if k == "open":
            if fd is not None:
                os.close(fd)
                side.slots[op["slot"]] = None
            r = self.call(lambda: os.open(side.p(op["path"]), op["flags"], op["mode"]))
            if r[0] == "ok":
                side.slots[op["slot"]] = r[1]
                return ("ok", "fd")
            return r
        if k == "close":
            side.slots[op["slot"]] = None
            return self.call(lambda: os.close(fd))
        if k == "pread":
            return self.call(lambda: os.pread(fd, op["len"], op["off"]))
        if k == "read":
            return self.call(lambda: os.read(fd, op["len"]))
        if k == "pwrite":
            return self.call(lambda: os.pwrite(fd, payload(op), op["off"]))
        if k == "write":
            return self.call(lambda: os.write(fd, payload(op)))
        if k in ("lseek", "seekdh"):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                # Directory offsets are cookies and FUSE answers from its own i_size: nothing to compare.
                return ("directory",)
            return self.call(lambda: os.lseek(fd, op["off"], op["whence"]))
        if k == "ftruncate":
            return self.call(lambda: os.ftruncate(fd, op["size"]))
        if k == "mmap":
            return self.call(lambda: mmap_write(fd, op["off"], payload(op)))
        if k == "truncate":
            return self.call(lambda: os.truncate(side.p(op["path"]), op["size"]))
        if k == "fallocate":
            return self.call(lambda: H.fallocate(fd, op["mode"], op["off"], op["len"]))
        if k == "fsync":
            return self.call(lambda: os.fsync(fd))
        if k == "fstat":
            return self.call(lambda: norm_stat(os.fstat(fd)))
        if k == "cfr":
            src, dst = side.slots[op["src"]], side.slots[op["dst"]]
            if src is None or dst is None:
                return ("skip",)
            return self.call(lambda: copy_range(src, dst, op["off_in"], op["off_out"], op["len"]))
        if k == "rename":
            return self.call(lambda: os.rename(side.p(op["src"]), side.p(op["dst"])))
        if k == "renameat2":
            return self.call(lambda: H.renameat2(side.p(op["src"]), side.p(op["dst"]), op["flags"]))
        if k == "link":
            return self.call(lambda: os.link(side.p(op["src"]), side.p(op["dst"]), follow_symlinks=op["follow"]))
        if k == "unlink":
            return self.call(lambda: os.unlink(side.p(op["path"])))
        if k == "mkdir":
            return self.call(lambda: os.mkdir(side.p(op["path"]), op["mode"]))
        if k == "rmdir":
            return self.call(lambda: os.rmdir(side.p(op["path"])))
        if k == "symlink":
            return self.call(lambda: os.symlink(op["target"], side.p(op["path"])))
        if k == "readlink":
            return self.call(lambda: os.readlink(side.p(op["path"])))
        if k == "stat":
            return self.call(lambda: norm_stat(os.stat(side.p(op["path"]))))
        if k == "lstat":
            return self.call(lambda: norm_stat(os.lstat(side.p(op["path"]))))
        if k == "chmod":
            return self.call(lambda: os.chmod(side.p(op["path"]), op["mode"]))
        if k == "utime":
            def set_and_read():
                path = side.p(op["path"])
                if op["ns"] is None:
                    os.utime(path)
                    return None
                os.utime(path, ns=tuple(op["ns"]))
                st = os.stat(path)
                return (st.st_atime_ns, st.st_mtime_ns)
            return self.call(set_and_read)
        if k == "listdir":
            return self.call(lambda: sorted(os.listdir(side.p(op["path"]))))
        raise ValueError(f"unknown op {k}")

    def b_inode(self, slot: int) -> int | None:
        fd = self.b.slots[slot]
        return os.fstat(fd).st_ino if fd is not None else None

    def step(self, op: dict) -> tuple[str | None, tuple, tuple]:
        """Runs one op on both sides; returns (description of the difference or None, result A, result B)."""
        ra = self.run_one(self.a, op)
        rb = self.run_one(self.b, op)
        k = op["k"]
        if k == "cfr" and rb[0] == "ok":
            self.tainted.add(self.b_inode(op["dst"]))
        if k == "fallocate" and not op["mode"] & H.FALLOC_FL_PUNCH_HOLE and self.b.slots[op["slot"]] is not None:
            self.tainted.add(self.b_inode(op["slot"]))
        if self.verbose:
            print(f"  {op} -> A={short(ra)} B={short(rb)}")
        if k == "seekdh" and ra != rb and ra[0] != "skip":
            if self.b_inode(op["slot"]) in self.tainted or not self.strict_holes:
                va = seek_valid(self.a.slots[op["slot"]], op["whence"], op["off"], ra[1])
                vb = seek_valid(self.b.slots[op["slot"]], op["whence"], op["off"], rb[1])
                if va and vb:
                    # Both answers are allowed, but they moved the file positions apart: re-align them.
                    if rb[0] == "ok":
                        os.lseek(self.a.slots[op["slot"]], rb[1], os.SEEK_SET)
                    else:
                        os.lseek(self.b.slots[op["slot"]], ra[1], os.SEEK_SET)
                    return None, ra, rb
                return f"invalid SEEK_DATA/SEEK_HOLE answer (A valid={va}, B valid={vb})", ra, rb
        return ("results differ" if ra != rb else None), ra, rb


def mmap_write(fd: int, off: int, data: bytes) -> str:
    """Stores through a shared mapping (the page cache and writeback path, not write()) and msyncs."""
    size = os.fstat(fd).st_size
    end = min(off + len(data), size)
    if off >= end:
        return "beyond EOF"
    start = off - off % mmap.ALLOCATIONGRANULARITY
    with mmap.mmap(fd, end - start, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=start) as m:
        m[off - start:end - start] = data[: end - off]
        m.flush()
    return "stored"


def copy_range(src: int, dst: int, off_in: int, off_out: int, length: int) -> int:
    # copy_file_range may legitimately return short counts (a clone shortened to block alignment): loop as cp does.
    total = 0
    while total < length:
        n = os.copy_file_range(src, dst, length - total, off_in + total, off_out + total)
        if n == 0:
            break
        total += n
    return total


def short(result) -> str:
    s = repr(result)
    if len(s) > 120:
        if result[0] == "ok" and isinstance(result[1], bytes):
            import hashlib
            return f"('ok', <{len(result[1])} bytes sha1={hashlib.sha1(result[1]).hexdigest()[:12]}>)"
        return s[:117] + "..."
    return s


# ---- final tree comparison --------------------------------------------------------------------------------

def snapshot(root: str) -> dict:
    entries = {}
    inode_names: dict[tuple, list[str]] = {}

    def walk(rel: str):
        full = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(full)):
            r = os.path.join(rel, name) if rel else name
            st = os.lstat(os.path.join(root, r))
            entries[r] = st
            if not stat.S_ISDIR(st.st_mode):
                inode_names.setdefault((st.st_dev, st.st_ino), []).append(r)
            if stat.S_ISDIR(st.st_mode):
                walk(r)

    walk("")
    groups = sorted(sorted(v) for v in inode_names.values() if len(v) > 1)
    return {"entries": entries, "links": groups}


def compare_trees(root_a: str, root_b: str, tainted: set[int], strict_holes: bool,
                  label_a: str = "A", label_b: str = "B") -> list[str]:
    """Differences between two trees; `tainted` holds inode numbers of root_b files with a free hole map."""
    problems = []
    sa, sb = snapshot(root_a), snapshot(root_b)
    ea, eb = sa["entries"], sb["entries"]
    for name in sorted(set(ea) ^ set(eb)):
        problems.append(f"{name}: only in {label_a if name in ea else label_b}")
    if sa["links"] != sb["links"]:
        problems.append(f"hard link groups differ: {label_a}={sa['links']} {label_b}={sb['links']}")
    for name in sorted(set(ea) & set(eb)):
        a, b = ea[name], eb[name]
        if norm_stat(a) != norm_stat(b):
            problems.append(f"{name}: stat {label_a}={norm_stat(a)} {label_b}={norm_stat(b)}")
            continue
        pa, pb = os.path.join(root_a, name), os.path.join(root_b, name)
        if stat.S_ISLNK(a.st_mode):
            if os.readlink(pa) != os.readlink(pb):
                problems.append(f"{name}: symlink {os.readlink(pa)!r} vs {os.readlink(pb)!r}")
        elif stat.S_ISREG(a.st_mode):
            holes = "free" if b.st_ino in tainted else ("exact" if strict_holes else "sparse")
            problems += compare_files(name, pa, pb, holes, label_a, label_b)
    return problems


def compare_files(name: str, pa: str, pb: str, holes: str, label_a: str, label_b: str) -> list[str]:
    """holes: "exact" maps must be equal; "sparse" side A must have about as many hole bytes as side B
    (XFS: post-EOF preallocation becomes zeroed data or stays a hole depending on when the last descriptor
    closes); "free" only validity (every byte outside the data extents is zero)."""
    problems = []
    fa, fb = os.open(pa, os.O_RDONLY), os.open(pb, os.O_RDONLY)
    try:
        size = os.fstat(fb).st_size
        da, db = os.pread(fa, size + 1, 0), os.pread(fb, size + 1, 0)
        if da != db:
            first = next((i for i in range(min(len(da), len(db))) if da[i] != db[i]), min(len(da), len(db)))
            problems.append(f"{name}: content differs at byte {first} (lengths {len(da)} / {len(db)})")
            return problems
        ma, mb = H.data_map(fa, size), H.data_map(fb, size)
        if ma == mb:
            return problems
        for label, m in ((label_a, ma), (label_b, mb)):
            if m is not None and not holes_are_zero(da, m):
                problems.append(f"{name}: {label} reports a hole over non-zero data: {m}")
        if holes == "exact" or (holes == "sparse" and (ma is None) != (mb is None)):
            problems.append(f"{name}: data map {label_a}={ma} {label_b}={mb}")
        elif holes == "sparse" and ma is not None and hole_bytes(ma, size) < hole_bytes(mb, size) - SPARSE_SLACK:
            problems.append(f"{name}: {label_a} is denser than {label_b}: data map {ma} vs {mb}")
    finally:
        os.close(fa)
        os.close(fb)
    return problems


SPARSE_SLACK = 1 << 20


def hole_bytes(extents: list[tuple[int, int]], size: int) -> int:
    return size - sum(min(end, size) - start for start, end in extents)


def holes_are_zero(data: bytes, extents: list[tuple[int, int]]) -> bool:
    pos = 0
    for start, end in extents + [(len(data), len(data))]:
        if data[pos:start].count(0) != start - pos:
            return False
        pos = max(pos, end)
    return True


# ---- driver -----------------------------------------------------------------------------------------------

class Trial:
    """One run of an op list on fresh subdirectories `root_a`/`root_b`; returns the first difference."""

    def __init__(self, root_a: str, root_b: str, strict_holes: bool, verbose: bool = False,
                 backing_view_of_a: str | None = None, mount=None):
        self.root_a, self.root_b = root_a, root_b
        self.mount = mount
        self.strict_holes = strict_holes
        self.verbose = verbose
        self.backing_view_of_a = backing_view_of_a

    def mount_lost(self) -> str | None:
        # Without this, a daemon that exits leaves an empty mountpoint and side A silently runs natively.
        if self.mount is None:
            return None
        if not self.mount.alive():
            return f"the fastfs daemon exited (code {self.mount.proc.returncode}): {self.mount.log()[-1500:]}"
        if not H.is_mounted(self.mount.path, "fuse.fastfs"):
            return "the fastfs mount is gone"
        return None

    def run(self, ops: list[dict], final_check: bool = True) -> tuple[int, str] | None:
        if lost := self.mount_lost():
            return 0, lost
        os.mkdir(self.root_a)
        os.mkdir(self.root_b)
        a, b = Side("A", self.root_a), Side("B", self.root_b)
        runner = Runner(a, b, verbose=self.verbose, strict_holes=self.strict_holes)
        try:
            for i, op in enumerate(ops):
                diff, ra, rb = runner.step(op)
                if (diff or i % 64 == 0) and (lost := self.mount_lost()):
                    return i, f"{lost}\n    last op={op}"
                if diff:
                    return i, f"{diff}: op={op}\n    A: {short(ra)}\n    B: {short(rb)}"
        finally:
            a.close_all()
            b.close_all()
        if not final_check:
            return None
        problems = compare_trees(self.root_a, self.root_b, runner.tainted, self.strict_holes)
        if self.backing_view_of_a:
            # What the mount shows must also be what it stored.
            # lseek passes through to the same backing inode: these maps must be identical.
            problems += compare_trees(self.root_a, self.backing_view_of_a, set(), True, "mount", "backing")
        if problems:
            return len(ops), "final tree differs:\n    " + "\n    ".join(problems[:30])
        return None


class Environment:
    """Where side A and side B live: through a mount, or two native dirs."""

    def __init__(self, base_a: str, base_b: str, backing_of_a: str | None, mount=None):
        self.base_a, self.base_b, self.backing_of_a = base_a, base_b, backing_of_a
        self.mount = mount
        self.counter = 0

    def trial(self, strict_holes: bool, verbose: bool = False) -> Trial:
        self.counter += 1
        name_a, name_b = f"sideA-{self.counter}", f"sideB-{self.counter}"
        return Trial(os.path.join(self.base_a, name_a), os.path.join(self.base_b, name_b), strict_holes,
                     verbose, os.path.join(self.backing_of_a, name_a) if self.backing_of_a else None, self.mount)


def run_seed(env: Environment, seed: int, n_ops: int, strict_holes: bool, verbose: bool,
             minimize: bool, without: frozenset[str] = frozenset()) -> bool:
    ops = generate(seed, n_ops, without)
    t0 = time.monotonic()
    result = env.trial(strict_holes, verbose).run(ops)
    elapsed = time.monotonic() - t0
    if result is None:
        print(f"seed {seed}: {n_ops} ops, no differences ({elapsed:.1f} s, {n_ops / elapsed:.0f} ops/s)")
        return True
    index, what = result
    print(f"DIFFERENCE seed={seed} at op #{index} (of {n_ops}): {what}")
    extra = f" --without {','.join(sorted(without))}" if without else ""
    print(f"  reproduce: {sys.argv[0]} ... --seed {seed} --ops {min(index + 1, n_ops)}{extra}")
    if minimize:
        minimal = shrink(env, ops[: index + 1], strict_holes)
        print(f"  minimized to {len(minimal)} ops:")
        for op in minimal:
            print(f"    {json.dumps(op)}")
    return False


def shrink(env: Environment, ops: list[dict], strict_holes: bool, budget: int = 300) -> list[dict]:
    """Greedy delta debugging: drop chunks while the sequence still shows a difference."""
    def fails(candidate):
        trial = env.trial(strict_holes)
        if trial.mount_lost():
            return False
        return trial.run(candidate) is not None

    chunk = max(1, len(ops) // 2)
    tries = 0
    while chunk >= 1 and tries < budget:
        i = 0
        changed = False
        while i < len(ops) and tries < budget:
            candidate = ops[:i] + ops[i + chunk:]
            tries += 1
            if candidate and fails(candidate):
                ops = candidate
                changed = True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return ops


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=H.default_binary(), help="fastfs binary to mount")
    ap.add_argument("--fs", default="xfs", choices=["xfs", "ext4", "btrfs", "tmpfs"])
    ap.add_argument("--size-mib", type=int, default=512, help="backing image size")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds")
    ap.add_argument("--seed", type=int, help="a single seed (overrides --seeds)")
    ap.add_argument("--ops", type=int, default=3000)
    ap.add_argument("--native", action="store_true", help="self-test: both sides native, no fastfs")
    ap.add_argument("--dirs", nargs=2, metavar=("A", "B"), help="use two existing directories")
    ap.add_argument("--mount-options", default=None, help="-o options for fastfs")
    ap.add_argument("--minimize", action="store_true")
    ap.add_argument("--holes", choices=["auto", "exact", "sparse"], default="auto",
                    help="final hole-map check for files not touched by copy_file_range/fallocate: exact "
                         "equality, or 'sparse' (the mount side may not be denser); auto: sparse on xfs")
    ap.add_argument("--without", default="", help="comma-separated op kinds to leave out (e.g. to get past a "
                    "known bug); changes the sequences, so quote it with the seed")
    ap.add_argument("--verbose", "-v", action="store_true")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    H.install_signal_cleanup()
    args = parse_args(argv)
    seeds = [args.seed] if args.seed is not None else [int(s) for s in args.seeds.split(",") if s]
    os.umask(0o022)
    without = frozenset(k for k in args.without.split(",") if k)
    unknown = without - set(WEIGHTS)
    if unknown:
        ap_error = f"unknown op kinds in --without: {sorted(unknown)}"
        print(ap_error, file=sys.stderr)
        return 2
    strict = args.holes == "exact" or (args.holes == "auto" and args.fs != "xfs")

    def run_all(env: Environment) -> int:
        ok = True
        for seed in seeds:
            ok &= run_seed(env, seed, args.ops, strict, args.verbose, args.minimize, without)
        return H.EXIT_PASS if ok else H.EXIT_FAIL

    if args.dirs:
        return run_all(Environment(args.dirs[0], args.dirs[1], None))
    try:
        with H.loop_fs(args.fs, args.size_mib << 20) as backing:
            if args.native:
                print(f"native self-test on {args.fs}")
                return run_all(Environment(str(backing), str(backing), None))
            with H.fastfs_mount(args.binary, backing, args.mount_options) as mount:
                print(f"fastfs over {args.fs}: mount {mount.path}, daemon pid {mount.pid}")
                rc = run_all(Environment(str(mount.path), str(backing), str(backing), mount))
                if not mount.alive():
                    print(f"FAIL: the daemon died: {mount.log()[-2000:]}")
                    rc = H.EXIT_FAIL
                return rc
    except H.SetupError as e:
        return H.exit_for_setup_error(e)


if __name__ == "__main__":
    sys.exit(main())
