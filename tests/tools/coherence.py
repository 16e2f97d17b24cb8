#!/usr/bin/env python3
"""Coherence: what the mount shows and writes is what the backing holds.

Each workload runs twice on a fresh XFS or ext4 image: natively (the "view" and the "other side" are the same
directory) and through fastfs (the view is the mount; the other side is the backing directory, or a second
fastfs mount of it), and both runs must give the same result. Run with the default options and with each
caching option; where an option gives something up on purpose, the case is listed with the reason that
docs/consistency.md gives, and not compared.

  append-outside        appends through the view after appends on the other side land at the end of file
  append-after-truncate appends after the other side truncated and appended
  append-writers        two processes appending records, one through the view, one on the other side
  append-second-mount   the same with the other side a second fastfs mount of the same backing
  mmap-seek             data written through a shared mapping: SEEK_DATA/SEEK_HOLE, cp, cp --sparse=always,
                        fastfs copy
  mmap-readers          what one process writes through a shared mapping, another reads with read(2) and
                        through its own mapping, through the view and on the other side
  outside-attributes    chmod/chown/utimes/xattr/ACL made on the other side to a file and a directory are
                        seen through the view within a second, and a directory made 0700 stops a listing
  first-listing-race    a directory listed for the first time while its files change on the other side
  inode-numbers         readdir and stat give the same inode numbers inside a filesystem mounted in the tree

  coherence.py --binary build/fastfs --fs xfs [--options default,writeback_cache] [--case NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fastfs_harness as h  # noqa: E402

MIB = 1 << 20
NOBODY = 65534

# Caching options of the mount and what each gives up, as docs/consistency.md says it.
OPTION_SETS = {
    "default": ("", {}),  # passthrough on
    "passthrough_off": ("passthrough=off", {}),
    "io_uring": ("io_uring", {}),
    "no_keep_cache": ("no_keep_cache", {}),
    "no_watch_backing": ("no_watch_backing", {}),
    "writeback_cache": ("writeback_cache", {
        **{case: "writeback_cache: the kernel owns a file's size, so size changes by other writers are not seen"
           for case in ("append-outside", "append-after-truncate", "append-writers", "append-second-mount",
                        "first-listing-race")},
        ("outside-attributes", "utimes file"): "writeback_cache: the kernel owns a file's mtime",
    }),
}
# A documented difference names a whole case, or one (case, result key).


class Side:
    """Where a workload runs: `view` is what the application uses, `other` is the other writer's path."""

    def __init__(self, view: Path, other: Path, second: Path, native: bool, within: float, binary: str):
        self.view, self.other, self.second, self.native = view, other, second, native
        self.within = within  # how long an outside change may take to show through the view
        self.binary = binary


def append_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def case_append_outside(s: Side):
    (s.view / "f").write_bytes(b"AAAA")
    append_bytes(s.other / "f", b"BBBB")
    append_bytes(s.view / "f", b"C\n")
    append_bytes(s.other / "f", b"DD")
    append_bytes(s.view / "f", b"E")
    return {"view": (s.view / "f").read_bytes().decode(), "other": (s.other / "f").read_bytes().decode()}


def case_append_after_truncate(s: Side):
    (s.view / "t").write_bytes(b"0123456789")
    os.truncate(s.other / "t", 3)
    append_bytes(s.view / "t", b"X")
    append_bytes(s.other / "t", b"Y")
    append_bytes(s.view / "t", b"Z")
    return {"view": (s.view / "t").read_bytes().decode(), "other": (s.other / "t").read_bytes().decode()}


def _append_records(path: Path, tag: str, count: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for i in range(count):
            os.write(fd, f"{tag}{i:05d}\n".encode())
    finally:
        os.close(fd)


def _two_appenders(view_path: Path, other_path: Path, count: int = 400):
    view_path.write_bytes(b"")
    threads = [threading.Thread(target=_append_records, args=(view_path, "v", count)),
               threading.Thread(target=_append_records, args=(other_path, "o", count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = view_path.read_bytes().split(b"\n")
    whole = [line for line in lines[:-1] if len(line) == 6]
    return {"records": len(whole), "torn": len(lines) - 1 - len(whole), "trailing": lines[-1].decode(),
            "distinct": len(set(whole))}


def case_append_writers(s: Side):
    return _two_appenders(s.view / "log", s.other / "log")


def case_append_second_mount(s: Side):
    return _two_appenders(s.view / "log2", s.second / "log2")


def _sha(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def case_mmap_seek(s: Side):
    import mmap
    path = s.view / "sparse"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, MIB)
        with mmap.mmap(fd, MIB) as m:
            m[512 * 1024:512 * 1024 + 10] = b"0123456789"
            result = {"map-after-mmap-write": h.data_map(fd, MIB)}
            m[100:110] = b"abcdefghij"
            for name, args in (("cp", []), ("cp-sparse-always", ["--sparse=always"])):
                h.run(["cp"] + args + [str(path), str(s.view / name)])
                result[name] = _sha(s.view / name)
            h.run([s.binary, "copy", str(path), str(s.view / "fastfs-copy")])
            result["fastfs-copy"] = _sha(s.view / "fastfs-copy")
            result["source"] = hashlib.sha1(bytes(m)).hexdigest()
    finally:
        os.close(fd)
    return result


MMAP_WRITER = r"""
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
with mmap.mmap(fd, 1 << 20) as m:
    m[4096:4096 + 14] = b"written by map"
    m.flush() if sys.argv[2] == "msync" else None
    sys.stdout.write("ready\n"); sys.stdout.flush()
    sys.stdin.read()
"""


def _read_both_ways(path: Path) -> list:
    import mmap
    fd = os.open(path, os.O_RDONLY)
    try:
        by_read = os.pread(fd, 14, 4096)
        with mmap.mmap(fd, 1 << 20, prot=mmap.PROT_READ) as m:
            by_map = bytes(m[4096:4096 + 14])
    finally:
        os.close(fd)
    return [by_read.decode(errors="replace"), by_map.decode(errors="replace")]


def case_mmap_readers(s: Side):
    result = {}
    for sync in ("msync", "no-msync"):
        path = s.view / f"shared-map-{sync}"
        path.write_bytes(b"\0" * MIB)
        writer = subprocess.Popen([sys.executable, "-c", MMAP_WRITER, str(path), sync], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            writer.stdout.readline()
            result[f"{sync} view"] = _read_both_ways(path)
            if sync == "msync":  # only written-back pages reach the backing file for other readers
                result[f"{sync} other side"] = _read_both_ways(s.other / path.name)
        finally:
            writer.stdin.close()
            writer.wait(timeout=30)
    return result


def _seen_within(seconds: float, probe) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if probe():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _as_nobody(code: str) -> str:
    r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3",
                        "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    return r.stdout.strip()


def case_outside_attributes(s: Side):
    f, d = s.view / "attr-file", s.view / "attr-dir"
    f.write_bytes(b"x")
    d.mkdir()
    (d / "inside").write_bytes(b"y")
    # The view has cached both (stat, listing) before the outside changes.
    os.stat(f), os.stat(d), os.listdir(d)
    other_f, other_d = s.other / "attr-file", s.other / "attr-dir"
    result = {}
    changes = [
        ("chmod file", lambda: os.chmod(other_f, 0o600), lambda: os.stat(f).st_mode & 0o7777 == 0o600),
        ("chmod dir", lambda: os.chmod(other_d, 0o711), lambda: os.stat(d).st_mode & 0o7777 == 0o711),
        ("chown file", lambda: os.chown(other_f, 1234, 1235), lambda: (os.stat(f).st_uid, os.stat(f).st_gid) ==
         (1234, 1235)),
        ("chown dir", lambda: os.chown(other_d, 1236, 1237), lambda: os.stat(d).st_uid == 1236),
        ("utimes file", lambda: os.utime(other_f, ns=(10**18, 10**18 + 7)),
         lambda: os.stat(f).st_mtime_ns == 10**18 + 7),
        ("utimes dir", lambda: os.utime(other_d, ns=(10**18, 10**18 + 9)),
         lambda: os.stat(d).st_mtime_ns == 10**18 + 9),
        ("xattr dir", lambda: os.setxattr(other_d, "user.k", b"v"),
         lambda: os.getxattr(d, "user.k") == b"v"),
        ("acl file", lambda: h.run(["setfacl", "-m", "u:4321:r", str(other_f)]),
         lambda: "user:4321:r" in h.run(["getfacl", "-c", str(f)], check=False).stdout),
    ]
    for what, change, seen in changes:
        change()
        result[what] = _seen_within(s.within, seen)
    # A directory made private on the other side stops other users' listings through the view.
    os.chmod(other_d, 0o755)
    before = _as_nobody(f"import os; print(len(os.listdir({str(d)!r})))")
    os.chmod(other_d, 0o700)
    result["listing after 0700"] = _seen_within(
        s.within, lambda: "PermissionError" in _as_nobody(f"import os; print(os.listdir({str(d)!r}))"))
    result["listing before"] = before
    return result


RACE_FILES = 3000  # --race-files: the report was on 16,000


def case_first_listing_race(s: Side):
    files = RACE_FILES
    (s.other / "race").mkdir()
    for i in range(files):
        (s.other / "race" / f"f{i:05d}").write_bytes(b"0123456789")
    listed = {}

    def lister():  # ls -l of a directory nobody has looked at yet
        for entry in os.scandir(s.view / "race"):
            listed[entry.name] = entry.stat(follow_symlinks=False).st_mode

    def changer():
        for i in range(files):
            p = s.other / "race" / f"f{i:05d}"
            os.chmod(p, 0o600)
            append_bytes(p, b"more!")

    threads = [threading.Thread(target=lister), threading.Thread(target=changer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(min(s.within, 1.0) if not s.native else 0)
    stale_modes = stale_sizes = wrong_content = 0
    for i in range(files):
        name = f"f{i:05d}"
        st = os.stat(s.view / "race" / name)
        stale_modes += st.st_mode & 0o777 != 0o600
        stale_sizes += st.st_size != 15
        if i % 20 == 0:
            wrong_content += (s.view / "race" / name).read_bytes() != b"0123456789more!"
    return {"listed": len(listed), "stale modes": stale_modes, "stale sizes": stale_sizes,
            "wrong content": wrong_content}


def case_inode_numbers(s: Side):
    """Runs its own mount: a filesystem mounted inside the backing tree is busy while fastfs runs."""
    inner = s.other / "inner"
    inner.mkdir()
    h.run(["mount", "-t", "tmpfs", "-o", "size=64m", "fastfs-coherence-inner", str(inner)])
    try:
        # Enough entries that the kernel's listing takes several replies: with READDIRPLUS_AUTO only the first
        # is a READDIRPLUS, the others plain READDIR, and both kinds must agree with stat.
        for i in range(20000):
            (inner / f"a-file-with-a-longish-name-{i:05d}").touch()
        (inner / "sub").mkdir()
        if s.native:
            return _inode_agreement(inner)
        with h.fastfs_mount(s.binary, s.other) as m:
            return _inode_agreement(m.path / "inner")
    finally:
        h.unmount(inner)


def _inode_agreement(directory: Path):
    # The whole listing first: a stat between two replies would make the kernel ask for READDIRPLUS again.
    listed = [(e.name, e.inode()) for e in os.scandir(directory)]
    disagree = [name for name, ino in listed if os.stat(directory / name, follow_symlinks=False).st_ino != ino]
    return {"entries": len(listed), "readdir != stat": len(disagree)}


CASES = {
    "append-outside": case_append_outside,
    "append-after-truncate": case_append_after_truncate,
    "append-writers": case_append_writers,
    "append-second-mount": case_append_second_mount,
    "mmap-seek": case_mmap_seek,
    "mmap-readers": case_mmap_readers,
    "outside-attributes": case_outside_attributes,
    "first-listing-race": case_first_listing_race,
    "inode-numbers": case_inode_numbers,
}




def run_case(name: str, side: Side):
    work = side.view / name
    other = side.other / name
    second = side.second / name
    if name != "inode-numbers":
        work.mkdir()
    sub = Side(work, other, second, side.native, side.within, side.binary)
    if name == "inode-numbers":
        sub = Side(side.view, side.other, side.second, side.native, side.within, side.binary)
    try:
        return CASES[name](sub)
    except OSError as e:  # never "the same" as anything: a workload that fails proves nothing
        return {"error": f"{type(e).__name__}: {e}", "side": "native" if side.native else "fastfs",
                "at": time.monotonic()}


def main() -> int:
    global RACE_FILES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=h.default_binary())
    parser.add_argument("--fs", choices=["xfs", "ext4"], default="xfs")
    parser.add_argument("--options", default=",".join(OPTION_SETS))
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--race-files", type=int, default=3000,
                        help="files in the first-listing race (default %(default)s)")
    args = parser.parse_args()
    RACE_FILES = args.race_files
    h.install_signal_cleanup()
    cases = args.case or list(CASES)
    ok = True
    try:
        with h.loop_fs(args.fs, 1024 * MIB) as backing:
            backing.chmod(0o755)
            native_dir = backing / "native"
            native_dir.mkdir(mode=0o755)
            native = {c: run_case(c, Side(native_dir, native_dir, native_dir, True, 0, args.binary))
                      for c in cases}
            for option_set in args.options.split(","):
                options, documented = OPTION_SETS[option_set]
                through = backing / f"through-{option_set}"
                through.mkdir(mode=0o755)
                mount_options = ",".join(o for o in ("allow_other", options) if o)
                within = 1.5 if option_set == "no_watch_backing" else 1.0
                with h.fuse_uring(option_set == "io_uring"), \
                        h.fastfs_mount(args.binary, through, mount_options) as m, \
                        h.fastfs_mount(args.binary, through, mount_options) as second:
                    for c in cases:
                        if c in documented:
                            print(f"{args.fs} {option_set:16} {c:22} not compared: {documented[c]}")
                            continue
                        got = run_case(c, Side(m.path, through, second.path, False, within, args.binary))
                        expected = dict(native[c])
                        for (case, key), reason in ((k, v) for k, v in documented.items() if isinstance(k, tuple)):
                            if case == c and key in got:
                                print(f"{args.fs} {option_set:16} {c:22} {key!r} not compared: {reason}")
                                got.pop(key), expected.pop(key, None)
                        same = got == expected
                        ok &= same
                        verdict = "same as native" if same else \
                            f"DIFFERS\n      native: {json.dumps(expected)}\n      fastfs: {json.dumps(got)}"
                        print(f"{args.fs} {option_set:16} {c:22} {verdict}")
                    ok &= m.alive() and second.alive()
    except h.SetupError as e:
        return h.exit_for_setup_error(e)
    return h.EXIT_PASS if ok else h.EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
