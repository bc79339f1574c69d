#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console of a `make bench` boot into results and a report.

usage: scripts/bench-report.py --log CONSOLE [--log CONSOLE...] --out DIR
                               [--date D] [--kernel K] [--check]

Reads the BENCH* lines that scripts/bench-guest.sh printed:

  BENCHPLAN <test> <config> <param>
  BENCH <test> <config> <param> <run> <value> <unit>
  BENCHSKIP <test> <config> <param> <reason...>
  BENCHINFO <text...>
  BENCHDONE

and writes DIR/results.csv (every run, and every skipped point with its
reason), DIR/report.txt (medians with their spread min-max, and the ratios
of rustfilter to the others; also printed) and, when gnuplot is installed,
DIR/throughput.png (filter throughput against the rule count).

Several --log: the points of a later console are added when the earlier
ones do not have them (a run of the large N after one of the small N).

--check: exit 1 unless the guest finished and every planned point produced
a number (the smoke round of `make check`).
"""

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys

FILTER_CONFIGS = ["baseline", "rustfilter", "iptables-legacy", "nft-linear", "nft-sets"]
FIXED_CONFIGS = ["rf-loaded", "rustfilter", "rf-stats", "iptables-legacy", "nft-linear"]


def parse(path):
    plan, values, skips, info, done = [], {}, {}, [], False
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "BENCHPLAN" and len(w) == 4:
                key = tuple(w[1:4])
                if key not in plan:
                    plan.append(key)
            elif w[0] == "BENCH" and len(w) == 7:
                try:
                    v = float(w[5])
                except ValueError:
                    continue
                values.setdefault(tuple(w[1:4]), []).append((int(w[4]), v, w[6]))
            elif w[0] == "BENCHSKIP" and len(w) >= 4:
                skips[tuple(w[1:4])] = " ".join(w[4:])
            elif w[0] == "BENCHINFO":
                info.append(" ".join(w[1:]))
            elif w[0] == "BENCHDONE":
                done = True
    # A measurement found wrong after its runs (a queue rate with packets
    # that were not queued) is reported as skipped, with the reason.
    for k in skips:
        values.pop(k, None)
    # A log without its plan lines (a copy of what bench.sh printed).
    plan += [k for k in list(values) + list(skips) if k not in plan]
    return plan, values, skips, info, done


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3f" % v if v < 10 else "%.1f" % v
    if abs(v) >= 100:
        return "%d" % round(v)
    return "%.3g" % v


def summary(runs):
    """(median, min, max) of a list of (run, value, unit)."""
    vs = [v for _, v, _ in runs]
    return statistics.median(vs), min(vs), max(vs)


def cell(values, skips, key):
    if key in values:
        m, lo, hi = summary(values[key])
        unit = values[key][0][2]
        if len(values[key]) == 1:
            return fmt(m, unit)
        return "%s [%s-%s]" % (fmt(m, unit), fmt(lo, unit), fmt(hi, unit))
    if key in skips:
        return "skipped"
    return "-"


def median(values, key):
    return summary(values[key])[0] if key in values else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2f" % (a / b)


def table(headers, rows):
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    out = ["  ".join(str(h).rjust(w) if i else str(h).ljust(w)
                     for i, (h, w) in enumerate(zip(headers, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return out


def report(plan, values, skips, info, done, date, kernel):
    out = ["rustfilter benchmark, %s, kernel %s" % (date, kernel)]
    out += ["  " + i for i in info]
    if not done:
        out.append("  WARNING: the guest did not finish (no BENCHDONE): results are partial")
    out.append("")
    out.append("Values: median [min-max] of the runs; ratios are of medians.")

    ns = sorted({int(p) for t, c, p in plan if t == "filter" and c != "baseline"} |
                {int(p) for t, c, p in values if t == "filter" and c != "baseline"})
    base = median(values, ("filter", "baseline", "0"))
    if ns or base is not None:
        out += ["", "Filter: forwarded packets/s with N non-matching rules before the ACCEPT"
                " (baseline: nothing loaded)"]
        out.append("baseline (no rules, nothing loaded): %s pps"
                   % cell(values, skips, ("filter", "baseline", "0")))
        out += table(["N"] + FILTER_CONFIGS[1:],
                     [["N=%d" % n] + [cell(values, skips, ("filter", c, str(n)))
                                      for c in FILTER_CONFIGS[1:]] for n in ns])
        rows = []
        for n in ns:
            rf = median(values, ("filter", "rustfilter", str(n)))
            rows.append(["N=%d" % n, ratio(rf, base)] +
                        [ratio(rf, median(values, ("filter", c, str(n))))
                         for c in FILTER_CONFIGS[2:]])
        out += ["", "Ratios rustfilter / other (above 1: rustfilter forwards more)"]
        out += table(["N", "/baseline", "/iptables-legacy", "/nft-linear", "/nft-sets"], rows)

    for test, title, unit in (("nat", "Conntrack + MASQUERADE: forwarded packets/s", "pps"),
                              ("queue", "NFQUEUE to nf_queue (accept all): packets/s", "pps")):
        keys = [k for k in plan if k[0] == test]
        if not keys:
            continue
        out += ["", title]
        rows = [[c, p, cell(values, skips, (t, c, p))] for t, c, p in keys]
        out += table(["config", "param", unit], rows)
        rf = [median(values, k) for k in keys if k[1] == "rustfilter"]
        other = [median(values, k) for k in keys if k[1] != "rustfilter"]
        if rf and other:
            out.append("ratio rustfilter / %s: %s" % (
                [k[1] for k in keys if k[1] != "rustfilter"][0], ratio(rf[0], other[0])))

    out += fixed_report(values, skips)

    keys = [k for k in plan if k[0] == "commit"]
    if keys:
        out += ["", "Commit: wall time of loading N rules (s)"]
        cns = sorted({int(k[2]) for k in keys})
        cfgs = [c for c in FILTER_CONFIGS[1:] if any(k[1] == c for k in keys)]
        out += table(["N"] + cfgs,
                     [["N=%d" % n] + [cell(values, skips, ("commit", c, str(n))) for c in cfgs]
                      for n in cns])

    keys = [k for k in plan if k[0] in ("mem_rule", "mem_ct")]
    if keys:
        out += ["", "Memory: growth of Slab+VmallocUsed+Percpu (after drop_caches) divided by the count"]
        rows = [[t, c, p, cell(values, skips, (t, c, p))] for t, c, p in keys]
        out += table(["test", "config", "N", "bytes each"], rows)

    skipped = [(k, r) for k, r in skips.items()]
    if skipped:
        out += ["", "Skipped points:"]
        out += ["  %s %s %s: %s" % (k + (r,)) for k, r in skipped]
    return "\n".join(out) + "\n"


def paired_ratios(values, config):
    """The ratios of CONFIG's window to the baseline's, round by round, in
    the fixed test (rounds where either is missing left out)."""
    base = {run: v for run, v, _ in values.get(("fixed", "baseline", "0"), [])}
    return [v / base[run] for run, v, _ in values.get(("fixed", config, "0"), [])
            if base.get(run)]


def fixed_report(values, skips):
    keys = [("fixed", c, "0") for c in ["baseline"] + FIXED_CONFIGS]
    keys = [k for k in keys if k in values or k in skips]
    if not keys:
        return []
    out = ["", "N=0, measured in turn: forwarded packets/s, and the ratio to the baseline"
           " of the same round (median [min-max] over the rounds)"]
    rows = []
    for k in keys:
        c = k[1]
        r = paired_ratios(values, c) if c != "baseline" else []
        rcell = "-"
        if r:
            rcell = "%.3f [%.3f-%.3f]" % (statistics.median(r), min(r), max(r))
        rows.append([c, cell(values, skips, k), rcell, str(len(values.get(k, [])))])
    out += table(["config", "pps", "/baseline (paired)", "rounds"], rows)
    return out


def write_csv(path, plan, values, skips):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test", "config", "param", "run", "value", "unit", "note"])
        keys = list(plan) + [k for k in list(values) + list(skips) if k not in plan]
        for k in keys:
            for run, v, unit in values.get(k, []):
                w.writerow(list(k) + [run, ("%g" % v), unit, ""])
            if k in skips:
                w.writerow(list(k) + ["", "", "", "skipped: " + skips[k]])


def plot(out_dir, plan, values):
    gp = shutil.which("gnuplot")
    if not gp:
        print("bench-report: no gnuplot (apt-get install gnuplot-nox): no throughput.png")
        return
    ns = sorted({int(p) for t, c, p in values if t == "filter" and c != "baseline"})
    if not ns:
        return
    base = median(values, ("filter", "baseline", "0"))
    dat = os.path.join(out_dir, "throughput.dat")
    series = []
    with open(dat, "w") as f:
        for c in FILTER_CONFIGS:
            pts = []
            if c == "baseline":
                if base is not None:
                    lo, hi = summary(values[("filter", "baseline", "0")])[1:]
                    pts = [(max(n, 1), base, lo, hi) for n in (ns[0], ns[-1])]
            else:
                for n in ns:
                    k = ("filter", c, str(n))
                    if k in values:
                        m, lo, hi = summary(values[k])
                        pts.append((max(n, 1), m, lo, hi))
            if not pts:
                continue
            f.write("# %s\n" % c)
            for p in pts:
                f.write("%d %g %g %g\n" % p)
            f.write("\n\n")
            series.append(c)
    png = os.path.join(out_dir, "throughput.png")
    plots = []
    for i, c in enumerate(series):
        # One colour per configuration, whichever were measured.
        lc = FILTER_CONFIGS.index(c) + 1
        if c == "baseline":
            plots.append("'%s' index %d using 1:2 with lines dt 2 lw 2 lc %d title '%s'"
                         % (dat, i, lc, c))
        else:
            plots.append("'%s' index %d using 1:2:3:4 with yerrorlines lw 2 pt 7 lc %d title '%s'"
                         % (dat, i, lc, c))
    script = "\n".join([
        "set terminal pngcairo size 900,560 noenhanced" if "pngcairo" in terminals(gp)
        else "set terminal png size 900,560 noenhanced",
        "set output '%s'" % png,
        "set title 'Forwarded 64-byte UDP packets/s through the router (QEMU TCG, 2 vCPUs)'",
        "set xlabel 'non-matching rules before the ACCEPT (N; 0 is drawn at 1)'",
        "set ylabel 'packets/s (median, bars: min-max)'",
        "set logscale x", "set logscale y", "set grid", "set key outside right",
        "set yrange [*:*]", "set xrange [0.8:*]",
        "plot " + ", \\\n  ".join(plots), ""])
    with open(os.path.join(out_dir, "throughput.gp"), "w") as f:
        f.write(script)
    r = subprocess.run([gp, os.path.join(out_dir, "throughput.gp")], capture_output=True, text=True)
    if r.returncode != 0:
        print("bench-report: gnuplot failed: %s" % r.stderr.strip())
    else:
        print("bench-report: %s" % png)


def terminals(gp):
    r = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True)
    return r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser(description="make bench report")
    ap.add_argument("--log", required=True, action="append")
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default="")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()

    plan, values, skips, info, done = [], {}, {}, [], True
    for log in a.log:
        if not os.path.exists(log):
            print("bench-report: no console log %s" % log, file=sys.stderr)
            return 1
        p, v, s, i, d = parse(log)
        have = set(values) | set(skips)
        plan += [k for k in p if k not in plan and k not in have]
        values.update({k: x for k, x in v.items() if k not in have})
        skips.update({k: x for k, x in s.items() if k not in have})
        info += i
        done = done and d
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "results.csv"), plan, values, skips)
    text = report(plan, values, skips, info, done, a.date, a.kernel)
    with open(os.path.join(a.out, "report.txt"), "w") as f:
        f.write(text)
    print(text, end="")
    print("bench-report: %s, %s" % (os.path.join(a.out, "results.csv"),
                                    os.path.join(a.out, "report.txt")))
    if not a.check:
        plot(a.out, plan, values)

    missing = [k for k in plan if k not in values]
    if a.check:
        if not done:
            print("bench smoke: FAILED: the guest did not finish")
            return 1
        if not plan:
            print("bench smoke: FAILED: nothing was measured")
            return 1
        if missing:
            print("bench smoke: FAILED: no number for " +
                  ", ".join("%s %s %s" % k for k in missing))
            return 1
        print("bench smoke: ok (%d points)" % len(plan))
        return 0
    if not done or not plan:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
