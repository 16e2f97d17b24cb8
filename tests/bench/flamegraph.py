#!/usr/bin/env python3
"""Flame graphs of a FUSE daemon for tests/bench/profile.sh, from `perf script` output.

    perf script -F comm,pid,tid,ip,sym,dso -i perf.data | flamegraph.py fold --pid PID --out W.folded \\
        --leaves W.leaves.txt
    flamegraph.py draw W.folded --out W.png --title "create, label after"   # needs python3-matplotlib

fold: keeps the samples of process PID (all its threads, nothing else), and writes one line per distinct
stack, "thread;outermost frame;...;leaf frame COUNT", heaviest first. Kernel frames end in " [k]"; frames
perf could not name are "[dso]" (or "[unknown]"); a frame repeated right below itself (perf prints an
inlined function and the function it is inlined into at the same address) is kept once. The leaves file
lists the 30 heaviest leaf functions (self samples) and how many samples ended in the kernel; then the same
list with the frames matching --skip-leaf charged to their caller: in a PVM guest (and other paravirtual
ones) the timer's samples land where interrupts are enabled again, pvm_irq_enable, which hides the
function that ran (schedule after a context switch, a spin unlock...).

draw: a flame graph (root at the bottom; --icicle: at the top) of a folded file: one rectangle per frame,
as wide as its share of all samples, labels cut to fit. Kernel frames are drawn in warm colours, the
daemon's own and its libraries' in cool ones. Needs matplotlib only for this step.
"""

import argparse
import collections
import hashlib
import re
import sys

HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s*$")
FRAME = re.compile(r"^\s+[0-9a-f]+\s+(?P<sym>.*?)\s+\((?P<dso>[^()]*)\)\s*$")
KERNEL_TAG = " [k]"
SKIP_LEAF = r"^(__raw_callee_save_)?(pvm|pv_native|xen)_(irq_enable|restore_fl)\b"


def frame_name(sym, dso):
    """The name of one frame in a folded stack."""
    if not sym or sym == "[unknown]":
        base = dso.rsplit("/", 1)[-1] if dso and dso != "unknown" else "unknown"
        sym = f"[{base}]"
    sym = sym.replace(";", ":")
    if dso.startswith("[kernel") or dso.startswith("[guest.kernel"):
        sym += KERNEL_TAG
    return sym


def read_samples(lines, pid):
    """Yields (thread name, [frames leaf first]) for every sample of process pid."""
    comm, keep, frames = None, False, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if keep and frames:
                yield comm, frames
            comm, keep, frames = None, False, []
            continue
        if comm is None and not line[0].isspace():
            m = HEADER.match(line)
            if m:
                comm = m.group("comm")
                keep = pid is None or int(m.group("pid")) == pid
            continue
        if keep:
            m = FRAME.match(line)
            if m:
                frames.append(frame_name(m.group("sym"), m.group("dso")))
    if keep and frames:
        yield comm, frames


def fold(args):
    stacks = collections.Counter()
    leaves = collections.Counter()
    callers = collections.Counter()  # leaves with the --skip-leaf frames charged to their caller
    skip = re.compile(args.skip_leaf) if args.skip_leaf else None
    kernel_leaves = 0
    source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8", errors="replace")
    with source:
        for comm, frames in read_samples(source, args.pid):
            path = []
            for name in reversed(frames):  # outermost first
                if not path or path[-1] != name:
                    path.append(name)
            stacks[";".join([comm.replace(";", ":")] + path)] += 1
            leaves[frames[0]] += 1
            leaf = 0
            while skip and leaf + 1 < len(frames) and skip.search(frames[leaf]):
                leaf += 1
            callers[frames[leaf]] += 1
            kernel_leaves += frames[0].endswith(KERNEL_TAG)
    total = sum(stacks.values())
    with open(args.out, "w", encoding="utf-8") as out:
        for stack, count in stacks.most_common():
            out.write(f"{stack} {count}\n")
    if args.leaves:
        with open(args.leaves, "w", encoding="utf-8") as out:
            out.write(f"samples: {total} (process {args.pid})\n")
            if total:
                out.write(f"leaf in the kernel: {kernel_leaves} ({100 * kernel_leaves / total:.1f}%), "
                          f"in user space: {total - kernel_leaves} "
                          f"({100 * (total - kernel_leaves) / total:.1f}%)\n")
            out.write(f"\nthe {args.top} heaviest leaf functions (self samples):\n")
            for name, count in leaves.most_common(args.top):
                out.write(f"{count:8d} {100 * count / total:6.2f}%  {name}\n")
            if skip and callers != leaves:
                out.write(f"\nthe same, frames matching {args.skip_leaf} charged to their caller:\n")
                for name, count in callers.most_common(args.top):
                    out.write(f"{count:8d} {100 * count / total:6.2f}%  {name}\n")
    print(total)


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.children = {}


def read_folded(path):
    root = Node("all")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            count = int(count)
            node = root
            node.count += count
            for name in stack.split(";"):
                node = node.children.setdefault(name, Node(name))
                node.count += count
    return root


def colour(name, depth):
    """Kernel frames in reds and oranges, user-space frames in blues and greens; the shade from the name."""
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    v = (h & 0xFF) / 255
    if depth == 0:
        return (0.75, 0.75, 0.75)
    if name.endswith(KERNEL_TAG):
        return (0.90 + 0.08 * v, 0.45 + 0.35 * ((h >> 8) & 0xFF) / 255, 0.25 + 0.15 * v)
    return (0.35 + 0.25 * v, 0.60 + 0.25 * ((h >> 8) & 0xFF) / 255, 0.85 + 0.13 * v)


def draw(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    root = read_folded(args.folded)
    total = root.count
    # (x, width, depth, name) of every frame wide enough to see; children sorted by name, as usual.
    boxes = []
    max_depth = 0

    def walk(node, x, depth):
        nonlocal max_depth
        width = node.count / total
        if width < args.min_width:
            return
        boxes.append((x, width, depth, node.name))
        max_depth = max(max_depth, depth)
        for name in sorted(node.children):
            child = node.children[name]
            walk(child, x, depth + 1)
            x += child.count / total

    if total:
        walk(root, 0.0, 0)
    width_in, dpi, row_in = args.width, 100, 0.2
    fig_h = 1.0 + row_in * (max_depth + 1)
    fig = plt.figure(figsize=(width_in, fig_h), dpi=dpi)
    ax = fig.add_axes((0.01, 0.3 / fig_h, 0.98, 1 - 0.8 / fig_h))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, max_depth + 1)
    if args.icicle:
        ax.invert_yaxis()
    ax.axis("off")
    rects, colours = [], []
    char_px = 7 * 0.6 * dpi / 72  # DejaVu Sans Mono at 7 pt
    axis_px = 0.98 * width_in * dpi
    for x, w, depth, name in boxes:
        rects.append(Rectangle((x, depth), w, 0.95))
        colours.append(colour(name, depth))
        fits = int(w * axis_px / char_px) - 1
        if fits >= 3:
            label = name if len(name) <= fits else name[: fits - 2] + ".."
            ax.text(x + 0.5 * char_px / axis_px, depth + 0.45, label, fontsize=7, family="monospace",
                    va="center", ha="left", clip_on=True)
    ax.add_collection(PatchCollection(rects, facecolors=colours, edgecolors="white", linewidths=0.3))
    title = args.title or args.folded
    fig.suptitle(f"{title}: {total} samples; width = share of samples; warm = kernel, cool = user space",
                 fontsize=9, y=1 - 0.15 / fig_h, va="top")
    fig.savefig(args.out, dpi=dpi)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fold", help="fold `perf script` output (stdin or INPUT) into stacks with counts")
    p.add_argument("input", nargs="?", default="-")
    p.add_argument("--pid", type=int, help="keep only this process's samples (default: all)")
    p.add_argument("--out", required=True, help="the folded stacks")
    p.add_argument("--leaves", help="also write the heaviest leaf functions here")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--skip-leaf", default=SKIP_LEAF,
                   help="regular expression: leaf frames charged to their caller in the second list "
                        "(default: the paravirtual irq-enable helpers; empty: no second list)")
    p.set_defaults(run=fold)
    p = sub.add_parser("draw", help="draw a folded file as a PNG flame graph (needs matplotlib)")
    p.add_argument("folded")
    p.add_argument("--out", required=True)
    p.add_argument("--title")
    p.add_argument("--icicle", action="store_true", help="root at the top")
    p.add_argument("--width", type=float, default=16, help="inches (at 100 dpi)")
    p.add_argument("--min-width", type=float, default=0.001, help="leave out frames below this share")
    p.set_defaults(run=draw)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
