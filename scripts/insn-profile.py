#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Name the addresses of a tools/insn-profile count (`BENCH_PROFILE=1 make
bench`): the guest instructions executed in each kernel function.

usage: scripts/insn-profile.py --profile RAW --system-map MAP --console LOG
                               [--top N] [--per COUNT]
                               [--annotate FUNCTION --object MODULE.ko]

RAW has "<hex address> <instructions> <length>" lines (a block's address,
what it executed, its length); MAP is the kernel's System.map (no KASLR in
these kernels); LOG is the guest's console, whose "KSYM <address> <name>
[<module>]" lines (scripts/bench-guest.sh's ksyms) place the modules.
Prints the functions by instructions, with their share of the total and
of the kernel's and, with --per COUNT, per packet (COUNT packets).

--annotate: instead, the disassembly of FUNCTION (a module function: its
symbol, or a part of it) in MODULE.ko, each instruction with the times it
ran (per packet with --per).
"""

import argparse
import bisect
import collections
import re
import subprocess


def symbols(system_map, console):
    syms = {}
    with open(system_map) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[1] in "tTwW":
                syms.setdefault(int(w[0], 16), w[2])
    with open(console, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) == 4 and w[0] == "KSYM":
                try:
                    syms[int(w[1], 16)] = "%s %s" % (w[2], w[3])
                except ValueError:
                    pass
    addrs = sorted(syms)
    return addrs, [syms[a] for a in addrs]


def blocks(path):
    """(address, instructions, length) of every block of RAW."""
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 2:
                yield int(w[0], 16), int(w[1]), int(w[2]) if len(w) > 2 else 0


def annotate(a):
    runtime = None
    with open(a.console, errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) == 4 and w[0] == "KSYM" and a.annotate in w[2]:
                runtime = (int(w[1], 16), w[2])
    if runtime is None:
        print("insn-profile: no KSYM line names %s" % a.annotate)
        return 1
    start, name = runtime
    nm = subprocess.run(["nm", a.object], capture_output=True, text=True).stdout
    base = [int(l.split()[0], 16) for l in nm.splitlines()
            if l.split()[-1] == name and len(l.split()) == 3]
    if not base:
        print("insn-profile: %s is not in %s" % (name, a.object))
        return 1
    # With the relocations (-r): a call's target is one in a module.
    dis = subprocess.run(["objdump", "-d", "-r", "--no-show-raw-insn",
                          "--disassemble=" + name, a.object],
                         capture_output=True, text=True).stdout
    insns = []
    for line in dis.splitlines():
        r = re.match(r"\s+[0-9a-f]+:\s+R_\S+\s+(\S+)", line)
        if r and insns:
            addr, text = insns[-1]
            insns[-1] = (addr, "%s  [%s]" % (text, r.group(1)))
            continue
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2)))
    index = {addr: i for i, (addr, _) in enumerate(insns)}
    runs = [0] * len(insns)
    for addr, n, length in blocks(a.profile):
        i = index.get(addr - start + base[0])
        if i is None or not length:
            continue
        for j in range(i, min(i + length, len(insns))):
            runs[j] += n // length
    per = a.per or 1
    print("%s: %d instructions%s" % (name, sum(runs), " per packet: %.1f" % (sum(runs) / per)
                                     if a.per else ""))
    for (addr, text), r in zip(insns, runs):
        print("%10s  %6x  %s" % (("%.2f" % (r / per)) if r else "", addr, text))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", required=True)
    ap.add_argument("--system-map", required=True)
    ap.add_argument("--console", required=True)
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--per", type=int, default=0)
    ap.add_argument("--annotate")
    ap.add_argument("--object")
    a = ap.parse_args()
    if a.annotate:
        return annotate(a)

    addrs, names = symbols(a.system_map, a.console)
    by_fn = collections.Counter()
    total = kernel = 0
    for addr, n, _ in blocks(a.profile):
        total += n
        if addr < 0xffff800000000000:
            by_fn["(user space)"] += n
            continue
        kernel += n
        i = bisect.bisect_right(addrs, addr) - 1
        by_fn[names[i] if i >= 0 else "(unknown)"] += n
    print("instructions: %d in all, %d in the kernel" % (total, kernel))
    print("%14s %6s %6s %10s  %s" % ("instructions", "%all", "%kern", "per pkt", "function"))
    for name, n in by_fn.most_common(a.top):
        per = "%10.1f" % (n / a.per) if a.per else "%10s" % "-"
        print("%14d %6.2f %6.2f %s  %s" % (n, 100.0 * n / max(total, 1),
                                           100.0 * n / max(kernel, 1), per, name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
