#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the rulesets of `make bench` (scripts/bench.sh) into a directory.

usage: scripts/bench-rules.py [--ruleset mixed|dport] OUTDIR N [N...]

For each N, three files describing the same filter: FORWARD policy DROP, N
rules that the benchmark's traffic (UDP 10.0.1.2:1024 -> 10.0.2.2:9, in on
veth1, out on veth2) does not match, then one ACCEPT for that traffic:

  filter-N.rules     iptables-restore text, loaded by `rfctl restore` and by
                     `iptables-legacy-restore`
  nft-linear-N.nft   the same rules one by one in one nftables chain (`nft -f`)
  nft-sets-N.nft     what an nftables user would write instead: a set of the
                     dropped sources, one of the dropped destinations, one of
                     protocol . port and one of ICMP type . code, then the
                     accept

The N rules cycle through five kinds, so that no single field describes the
chain: a source address (172.16.0.0/12), a destination address
(198.18.0.0/15), a TCP destination port, a UDP destination port (never 9)
and an ICMP type/code. With --ruleset dport they are all UDP destination
ports instead (a chain one field describes, which rustfilter's classifier
indexes; Documentation/classifier.rst). Files are rewritten only when their content changes,
so that an unchanged ruleset does not force a new initramfs.
"""

import os
import sys

TRAFFIC_ACCEPT_IPT = "-A FORWARD -s 10.0.1.0/24 -d 10.0.2.2/32 -p udp -m udp --dport 9 -j ACCEPT"
TRAFFIC_ACCEPT_NFT = "ip saddr 10.0.1.0/24 ip daddr 10.0.2.2 udp dport 9 accept"
MIXED = ["src", "dst", "tcp", "udp", "icmp"]


def addr(base, i):
    """The i-th address after base (an int), dotted."""
    a = base + i
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


SRC_BASE = (172 << 24) | (16 << 16) | 1   # 172.16.0.1, /12: a million hosts
DST_BASE = (198 << 24) | (18 << 16) | 1   # 198.18.0.1, /15: 131,070 hosts
PORT_BASE = 10000                         # never 9 (the traffic's port)


def rules(n, kinds):
    """The n non-matching rules as (kind, value) pairs."""
    out = []
    for i in range(n):
        kind, k = kinds[i % len(kinds)], i // len(kinds)
        if kind == "src":
            out.append(("src", addr(SRC_BASE, k)))
        elif kind == "dst":
            out.append(("dst", addr(DST_BASE, k)))
        elif kind in ("tcp", "udp"):
            out.append((kind, PORT_BASE + k % 55000))
        else:
            # Types 0-18, codes 0-15: 304 combinations, repeated beyond.
            out.append(("icmp", (k % 19, (k // 19) % 16)))
    return out


def iptables_text(rs):
    lines = ["# rustfilter bench: %d non-matching rules, then the traffic's ACCEPT" % len(rs),
             "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for kind, v in rs:
        if kind == "src":
            lines.append("-A FORWARD -s %s/32 -j DROP" % v)
        elif kind == "dst":
            lines.append("-A FORWARD -d %s/32 -j DROP" % v)
        elif kind in ("tcp", "udp"):
            lines.append("-A FORWARD -p %s -m %s --dport %d -j DROP" % (kind, kind, v))
        else:
            lines.append("-A FORWARD -p icmp -m icmp --icmp-type %d/%d -j DROP" % v)
    lines += [TRAFFIC_ACCEPT_IPT, "COMMIT", ""]
    return "\n".join(lines)


def nft_linear_text(rs):
    lines = ["# rustfilter bench: %d non-matching rules, then the traffic's accept" % len(rs),
             "table ip bench {", "\tchain forward {",
             "\t\ttype filter hook forward priority filter; policy drop;"]
    for kind, v in rs:
        if kind == "src":
            lines.append("\t\tip saddr %s drop" % v)
        elif kind == "dst":
            lines.append("\t\tip daddr %s drop" % v)
        elif kind in ("tcp", "udp"):
            lines.append("\t\t%s dport %d drop" % (kind, v))
        else:
            lines.append("\t\ticmp type %d icmp code %d drop" % v)
    lines += ["\t\t" + TRAFFIC_ACCEPT_NFT, "\t}", "}", ""]
    return "\n".join(lines)


def nft_sets_text(rs):
    src = [v for k, v in rs if k == "src"]
    dst = [v for k, v in rs if k == "dst"]
    ports = sorted({(k, v) for k, v in rs if k in ("tcp", "udp")})
    icmp = sorted({v for k, v in rs if k == "icmp"})

    def elements(items):
        # Eight elements a line keeps the file readable and nft's parser happy.
        rows = [", ".join(items[i:i + 8]) for i in range(0, len(items), 8)]
        return "\t\telements = {\n\t\t\t" + ",\n\t\t\t".join(rows) + "\n\t\t}"

    lines = ["# rustfilter bench: the %d rules of filter-%d.rules as sets" % (len(rs), len(rs)),
             "table ip bench {"]
    chain = []
    for name, typeof, items, match in (
            ("src_drop", "ip saddr", src, "ip saddr @src_drop drop"),
            ("dst_drop", "ip daddr", dst, "ip daddr @dst_drop drop"),
            ("port_drop", "meta l4proto . th dport",
             ["%s . %d" % kv for kv in ports], "meta l4proto . th dport @port_drop drop"),
            ("icmp_drop", "icmp type . icmp code",
             ["%d . %d" % tc for tc in icmp], "icmp type . icmp code @icmp_drop drop")):
        if not items:
            continue
        lines += ["\tset %s {" % name, "\t\ttypeof %s" % typeof, elements(items), "\t}"]
        chain.append("\t\t" + match)
    lines += ["\tchain forward {", "\t\ttype filter hook forward priority filter; policy drop;"]
    lines += chain
    lines += ["\t\t" + TRAFFIC_ACCEPT_NFT, "\t}", "}", ""]
    return "\n".join(lines)


def write(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(argv):
    kinds = MIXED
    if len(argv) > 2 and argv[1] == "--ruleset":
        if argv[2] not in ("mixed", "dport"):
            sys.stderr.write("bench-rules: --ruleset is mixed or dport\n")
            return 2
        kinds = MIXED if argv[2] == "mixed" else ["udp"]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3 or not all(a.isdigit() for a in argv[2:]):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for n in sorted({int(a) for a in argv[2:]}):
        rs = rules(n, kinds)
        write(os.path.join(out, "filter-%d.rules" % n), iptables_text(rs))
        write(os.path.join(out, "nft-linear-%d.nft" % n), nft_linear_text(rs))
        write(os.path.join(out, "nft-sets-%d.nft" % n), nft_sets_text(rs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
