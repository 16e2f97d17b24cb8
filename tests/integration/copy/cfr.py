#!/usr/bin/env python3
"""copy_file_range(2) as an application calls it, for the copy integration tests.

Copies LEN bytes of SRC at OFF_IN into DST at OFF_OUT with os.copy_file_range. With --loop it calls
again after a short count until LEN is done or a call returns 0 (EOF), like cp does. DST is opened
for writing without truncation (created if missing). Prints "copied N calls C" and exits 0, or
"error NAME after N" and exits 1 when a call fails (N: bytes copied by the earlier calls).
"""
import argparse
import errno
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--off-in", type=int, default=0)
    parser.add_argument("--off-out", type=int, default=0)
    parser.add_argument("--len", type=int, default=-1, help="bytes; -1 means the source's size")
    parser.add_argument("--loop", action="store_true")
    args = parser.parse_args()

    fd_in = os.open(args.src, os.O_RDONLY)
    fd_out = os.open(args.dst, os.O_WRONLY | os.O_CREAT, 0o644)
    left = os.fstat(fd_in).st_size if args.len < 0 else args.len
    off_in, off_out, done, calls = args.off_in, args.off_out, 0, 0
    try:
        while left > 0:
            try:
                n = os.copy_file_range(fd_in, fd_out, left, off_in, off_out)
            except OSError as e:
                print(f"error {errno.errorcode.get(e.errno, e.errno)} after {done}")
                return 1
            calls += 1
            if n == 0:
                break
            done, left, off_in, off_out = done + n, left - n, off_in + n, off_out + n
            if not args.loop:
                break
    finally:
        os.close(fd_in)
        os.close(fd_out)
    print(f"copied {done} calls {calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
