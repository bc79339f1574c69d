// SPDX-License-Identifier: GPL-2.0

//! Rules as text, exactly as iptables 1.8 (legacy) prints them: the
//! `-S`/`iptables-save` form and the `-L` table.

use std::fmt::Write as _;

use rfcore::nat::NatRange;
use rfcore::packet::IPPROTO_UDP;
use rfcore::proto;
use rfcore::rules::matches::conntrack::{AddrMask, Conntrack};
use rfcore::rules::matches::{addrtype, icmp::Icmp, PortRange};
use rfcore::rules::targets::connmark::{ConnMarkMode, SetConnMark};
use rfcore::rules::targets::ct::Ct;
use rfcore::rules::targets::nat::Nat;
use rfcore::rules::targets::queue::NfQueue;
use rfcore::rules::{CtDir, IfaceMatch, Match, Target};

use crate::model::{ChainSpec, RuleSpec, TableSpec};
use crate::names;
use crate::parse::match_name;

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// The prefix length of a contiguous mask.
fn cidr(m: [u8; 4]) -> Option<u32> {
    let v = u32::from_be_bytes(m);
    let n = v.leading_ones();
    (v.checked_shl(n).unwrap_or(0) == 0).then_some(n)
}

fn has(bits: u8, bit: u32) -> bool {
    u32::from(bits) & bit != 0
}

/// A MAC address as iptables prints it: lower-case hex pairs joined by `:`.
fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `-p` as saved: a name where there is one.
fn proto_save(p: u8) -> String {
    names::proto_name(p).map_or_else(|| p.to_string(), str::to_string)
}

/// The interface as `-S` writes it; `None` when nothing is written (none,
/// or `+` alone).
fn iface_save(i: &IfaceMatch) -> Option<String> {
    if i.name.is_empty() {
        return None;
    }
    let mut b = [0; 16];
    Some(i.write_to(&mut b).to_string())
}

fn iface_list(i: &IfaceMatch) -> String {
    let mut b = [0; 16];
    i.write_to(&mut b).to_string()
}

fn tcpf(flags: u8) -> String {
    let mut out = Vec::new();
    let mut f = flags;
    while f != 0 {
        let Some(&(n, b)) = names::TCP_FLAGS.iter().find(|(_, b)| f & b != 0) else {
            break;
        };
        out.push(n);
        f &= !b;
    }
    if out.is_empty() {
        "NONE".to_string()
    } else {
        out.join(",")
    }
}

fn log_prefix_quoted(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

/// The rate as `limit` prints it (`print_rate` of `libxt_limit.c`).
fn rate(period: u32) -> String {
    const RATES: [(&str, u64); 4] = [
        ("day", 10000 * 86400),
        ("hour", 10000 * 3600),
        ("min", 10000 * 60),
        ("sec", 10000),
    ];
    let p = u64::from(period);
    if p == 0 {
        return "inf".to_string();
    }
    let mut i = 1;
    while i < RATES.len() {
        let m = RATES[i].1;
        if p > m || m / p < m % p {
            break;
        }
        i += 1;
    }
    let (name, mult) = RATES[i - 1];
    format!("{}/{name}", mult / p)
}

fn type_list(mask: u16) -> String {
    addrtype::TYPE_NAMES
        .iter()
        .enumerate()
        .filter(|(k, _)| mask & (1 << k) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn ports_save(out: &mut String, opt: &str, r: PortRange, inv: bool) {
    if r.is_all() {
        return;
    }
    if inv {
        out.push_str(" !");
    }
    if r.first == r.last {
        let _ = write!(out, " {opt} {}", r.first);
    } else {
        let _ = write!(out, " {opt} {}:{}", r.first, r.last);
    }
}

/// The options of a match as `-S` writes them after `-m name`.
fn match_save(out: &mut String, m: &Match) {
    match m {
        Match::Tcp(t) => {
            ports_save(
                out,
                "--sport",
                t.sports,
                has(t.invert, proto::TCP_INV_SPORTS),
            );
            ports_save(
                out,
                "--dport",
                t.dports,
                has(t.invert, proto::TCP_INV_DPORTS),
            );
            if t.flags_mask != 0 || has(t.invert, proto::TCP_INV_FLAGS) {
                if has(t.invert, proto::TCP_INV_FLAGS) {
                    out.push_str(" !");
                }
                let _ = write!(
                    out,
                    " --tcp-flags {} {}",
                    tcpf(t.flags_mask),
                    tcpf(t.flags_comp)
                );
            }
        }
        Match::Udp(u) => {
            ports_save(
                out,
                "--sport",
                u.sports,
                has(u.invert, proto::TCP_INV_SPORTS),
            );
            ports_save(
                out,
                "--dport",
                u.dports,
                has(u.invert, proto::TCP_INV_DPORTS),
            );
        }
        Match::Icmp(i) => {
            if i.invert {
                out.push_str(" !");
            }
            if i.icmp_type == Icmp::ANY {
                out.push_str(" --icmp-type any");
            } else {
                let _ = write!(out, " --icmp-type {}", i.icmp_type);
                if i.code_min != 0 || i.code_max != 0xff {
                    let _ = write!(out, "/{}", i.code_min);
                }
            }
        }
        Match::Multiport(m) => {
            if m.invert {
                out.push_str(" !");
            }
            out.push_str(match m.mode {
                proto::MULTIPORT_SOURCE => " --sports ",
                proto::MULTIPORT_DESTINATION => " --dports ",
                _ => " --ports ",
            });
            let list: Vec<String> = m
                .entries()
                .iter()
                .map(|r| {
                    if r.first == r.last {
                        r.first.to_string()
                    } else {
                        format!("{}:{}", r.first, r.last)
                    }
                })
                .collect();
            out.push_str(&list.join(","));
        }
        Match::Mac(m) => {
            let inv = if m.invert { " !" } else { "" };
            let _ = write!(out, "{inv} --mac-source {}", mac_text(&m.source));
        }
        Match::Mark(m) => {
            if m.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " --mark 0x{:x}", m.value);
            if m.mask != u32::MAX {
                let _ = write!(out, "/0x{:x}", m.mask);
            }
        }
        Match::Tos(t) => {
            if t.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " --tos 0x{:02x}/0x{:02x}", t.value, t.mask);
        }
        Match::Dscp(d) => {
            let _ = write!(
                out,
                " {}--dscp 0x{:02x}",
                if d.invert { "! " } else { "" },
                d.value
            );
        }
        Match::Length(l) => {
            if l.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " --length {}", l.min);
            if l.min != l.max {
                let _ = write!(out, ":{}", l.max);
            }
        }
        Match::Limit(l) => {
            let _ = write!(out, " --limit {}", rate(l.avg));
            if l.burst != rfcore::rules::matches::limit::DEFAULT_BURST {
                let _ = write!(out, " --limit-burst {}", l.burst);
            }
        }
        Match::IpRange(r) => {
            if let Some(s) = r.src {
                if has(r.invert, proto::IPRANGE_INV_SRC) {
                    out.push_str(" !");
                }
                let _ = write!(out, " --src-range {}-{}", ip(s.first), ip(s.last));
            }
            if let Some(d) = r.dst {
                if has(r.invert, proto::IPRANGE_INV_DST) {
                    out.push_str(" !");
                }
                let _ = write!(out, " --dst-range {}-{}", ip(d.first), ip(d.last));
            }
        }
        Match::AddrType(t) => {
            if t.src != 0 {
                if has(t.flags, proto::ADDRTYPE_F_INVERT_SRC) {
                    out.push_str(" !");
                }
                let _ = write!(out, " --src-type {}", type_list(t.src));
            }
            if t.dst != 0 {
                if has(t.flags, proto::ADDRTYPE_F_INVERT_DST) {
                    out.push_str(" !");
                }
                let _ = write!(out, " --dst-type {}", type_list(t.dst));
            }
            if has(t.flags, proto::ADDRTYPE_F_LIMIT_IFACE_IN) {
                out.push_str(" --limit-iface-in");
            }
            if has(t.flags, proto::ADDRTYPE_F_LIMIT_IFACE_OUT) {
                out.push_str(" --limit-iface-out");
            }
        }
        Match::RpFilter(r) => rpfilter_flags(out, r.flags, "--"),
        Match::Conntrack(c) => conntrack_text(out, c, "--", true),
        Match::State(st) => {
            if st.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " --state {}", ct_states(st.mask.into()));
        }
        Match::ConnMark(m) => {
            if m.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " --mark 0x{:x}", m.value);
            if m.mask != u32::MAX {
                let _ = write!(out, "/0x{:x}", m.mask);
            }
        }
        Match::Unused => {}
    }
}

/// The states of a state mask, as `print_state` lists them.
fn ct_states(mask: u32) -> String {
    [
        (proto::CTSTATE_INVALID, "INVALID"),
        (proto::CTSTATE_NEW, "NEW"),
        (proto::CTSTATE_RELATED, "RELATED"),
        (proto::CTSTATE_ESTABLISHED, "ESTABLISHED"),
        (proto::CTSTATE_UNTRACKED, "UNTRACKED"),
        (proto::CTSTATE_SNAT, "SNAT"),
        (proto::CTSTATE_DNAT, "DNAT"),
    ]
    .iter()
    .filter(|(b, _)| mask & b != 0)
    .map(|(_, n)| *n)
    .collect::<Vec<_>>()
    .join(",")
}

/// A conntrack address as `conntrack_dump_addr` prints it.
fn ct_addr(am: &AddrMask, numeric: bool) -> String {
    if !numeric && am.addr == [0; 4] {
        return "anywhere".to_string();
    }
    let mask = match cidr(am.mask) {
        Some(32) => String::new(),
        Some(n) => format!("/{n}"),
        None => format!("/{}", ip(am.mask)),
    };
    format!("{}{mask}", ip(am.addr))
}

/// `-m conntrack` as `conntrack_dump` prints it: `prefix` is `--` for
/// `-S`, empty for `-L`.
fn conntrack_text(out: &mut String, c: &Conntrack, p: &str, numeric: bool) {
    let mut opt = |f: u32, text: String| {
        if c.has(f) {
            if c.inverted(f) {
                out.push_str(" !");
            }
            out.push_str(&text);
        }
    };
    opt(
        proto::CONNTRACK_F_STATE,
        format!(" {p}ctstate {}", ct_states(c.state.into())),
    );
    opt(proto::CONNTRACK_F_PROTO, format!(" {p}ctproto {}", c.proto));
    for (f, name, am) in [
        (proto::CONNTRACK_F_ORIGSRC, "ctorigsrc", &c.orig_src),
        (proto::CONNTRACK_F_ORIGDST, "ctorigdst", &c.orig_dst),
        (proto::CONNTRACK_F_REPLSRC, "ctreplsrc", &c.repl_src),
        (proto::CONNTRACK_F_REPLDST, "ctrepldst", &c.repl_dst),
    ] {
        opt(f, format!(" {p}{name} {}", ct_addr(am, numeric)));
    }
    for (f, name, r) in [
        (
            proto::CONNTRACK_F_ORIGSRC_PORT,
            "ctorigsrcport",
            c.orig_sport,
        ),
        (
            proto::CONNTRACK_F_ORIGDST_PORT,
            "ctorigdstport",
            c.orig_dport,
        ),
        (
            proto::CONNTRACK_F_REPLSRC_PORT,
            "ctreplsrcport",
            c.repl_sport,
        ),
        (
            proto::CONNTRACK_F_REPLDST_PORT,
            "ctrepldstport",
            c.repl_dport,
        ),
    ] {
        // conntrack_dump_ports: a range ending at 0 prints as one port.
        let text = if r.last == 0 || r.first == r.last {
            format!(" {p}{name} {}", r.first)
        } else {
            format!(" {p}{name} {}:{}", r.first, r.last)
        };
        opt(f, text);
    }
    let statuses: Vec<&str> = [
        (proto::CTSTATUS_EXPECTED, "EXPECTED"),
        (proto::CTSTATUS_SEEN_REPLY, "SEEN_REPLY"),
        (proto::CTSTATUS_ASSURED, "ASSURED"),
        (proto::CTSTATUS_CONFIRMED, "CONFIRMED"),
    ]
    .iter()
    .filter(|(b, _)| u32::from(c.status) & b != 0)
    .map(|(_, n)| *n)
    .collect();
    let statuses = if c.status == 0 {
        "NONE".to_string()
    } else {
        statuses.join(",")
    };
    opt(
        proto::CONNTRACK_F_STATUS,
        format!(" {p}ctstatus {statuses}"),
    );
    let expire = if c.expires_min == c.expires_max {
        format!(" {p}ctexpire {}", c.expires_min)
    } else {
        format!(" {p}ctexpire {}:{}", c.expires_min, c.expires_max)
    };
    opt(proto::CONNTRACK_F_EXPIRES, expire);
    if c.has(proto::CONNTRACK_F_DIRECTION) {
        let d = match c.dir {
            CtDir::Original => "ORIGINAL",
            CtDir::Reply => "REPLY",
        };
        let _ = write!(out, " {p}ctdir {d}");
    }
}

fn rpfilter_flags(out: &mut String, flags: u8, prefix: &str) {
    for (bit, n) in [
        (proto::RPFILTER_F_LOOSE, "loose"),
        (proto::RPFILTER_F_VALID_MARK, "validmark"),
        (proto::RPFILTER_F_ACCEPT_LOCAL, "accept-local"),
        (proto::RPFILTER_F_INVERT, "invert"),
    ] {
        if has(flags, bit) {
            let _ = write!(out, " {prefix}{n}");
        }
    }
}

/// A NAT range as `sprint_range` of iptables' `libxt_DNAT.c` writes it:
/// `addr[-addr]` then `:port[-port]`, either part only if there is one.
fn nat_range_text(r: &NatRange) -> String {
    let mut s = String::new();
    if r.map_ips() {
        s.push_str(&ip(r.min_addr));
        if r.max_addr != r.min_addr {
            let _ = write!(s, "-{}", ip(r.max_addr));
        }
    }
    if r.proto_specified() {
        let _ = write!(s, ":{}", r.min_port);
        if r.max_port != r.min_port {
            let _ = write!(s, "-{}", r.max_port);
        }
    }
    s
}

/// The flags of a NAT range, each after a blank and `prefix` (`--` for
/// `-S`), in iptables' order.
fn nat_flags(out: &mut String, r: &NatRange, prefix: &str) {
    for (bit, n) in [
        (proto::NAT_F_RANDOM, "random"),
        (proto::NAT_F_RANDOM_FULLY, "random-fully"),
        (proto::NAT_F_PERSISTENT, "persistent"),
    ] {
        if r.has(bit) {
            let _ = write!(out, " {prefix}{n}");
        }
    }
}

/// SNAT, DNAT, MASQUERADE and REDIRECT as `-S` (`save`) or `-L` write
/// them (`__NAT_print` and `MASQUERADE_print`/`_save`): the range after
/// its option (`--to-source `, `to:`, ...), without the `:` of a range of
/// ports alone, then the flags.
fn nat_text(out: &mut String, t: &Target, save: bool) {
    let (range, opt) = match (t, save) {
        (Target::Snat(Nat { range }), true) => (range, "--to-source "),
        (Target::Dnat(Nat { range }), true) => (range, "--to-destination "),
        (Target::Masquerade(Nat { range }) | Target::Redirect(Nat { range }), true) => {
            (range, "--to-ports ")
        }
        (Target::Snat(Nat { range }) | Target::Dnat(Nat { range }), false) => (range, "to:"),
        (Target::Masquerade(Nat { range }), false) => (range, "masq ports: "),
        (Target::Redirect(Nat { range }), false) => (range, "redir ports "),
        _ => return,
    };
    let text = nat_range_text(range);
    if !text.is_empty() {
        let ports_only = matches!(t, Target::Masquerade(_) | Target::Redirect(_));
        let text = if ports_only {
            text.trim_start_matches(':')
        } else {
            &text
        };
        let _ = write!(out, " {opt}{text}");
    }
    nat_flags(out, range, if save { "--" } else { "" });
}

/// NFQUEUE as `-L` (`NFQUEUE_print_v3`) or `-S` (`NFQUEUE_save_v3`)
/// shows it.
fn nfqueue_text(out: &mut String, q: &NfQueue, save: bool) {
    let (pre, num, balance) = if save {
        (" --queue-", "num", "balance")
    } else {
        (" ", "NFQUEUE num", "NFQUEUE balance")
    };
    let _ = if q.total > 1 {
        write!(out, "{pre}{balance} {}:{}", q.num, q.last())
    } else {
        write!(out, "{pre}{num} {}", q.num)
    };
    for (flag, name) in [
        (proto::NFQUEUE_F_BYPASS, "bypass"),
        (proto::NFQUEUE_F_CPU_FANOUT, "cpu-fanout"),
    ] {
        if q.has(flag) {
            let _ = write!(out, "{}{name}", if save { " --queue-" } else { " " });
        }
    }
}

fn target_save(out: &mut String, t: &Target) {
    match t {
        Target::Reject(r) => {
            let _ = write!(out, " --reject-with {}", r.with.name());
        }
        Target::Log(l) => {
            if !l.prefix.is_empty() {
                let _ = write!(
                    out,
                    " --log-prefix {}",
                    log_prefix_quoted(l.prefix.as_str())
                );
            }
            if l.level != rfcore::rules::targets::log::DEFAULT_LEVEL {
                let _ = write!(out, " --log-level {}", l.level);
            }
            for (bit, n) in LOG_FLAGS {
                if has(l.flags, bit) {
                    let _ = write!(out, " --log-{n}");
                }
            }
        }
        Target::Mark(m) => {
            let _ = write!(out, " --set-xmark 0x{:x}/0x{:x}", m.value, m.mask);
        }
        Target::Tos(t) => {
            let _ = write!(out, " --set-tos 0x{:02x}/0x{:02x}", t.value, t.mask);
        }
        Target::Dscp(d) => {
            let _ = write!(out, " --set-dscp 0x{:02x}", d.value);
        }
        Target::Ct(c) if c.is_notrack_alias() => {}
        Target::Ct(c) => {
            if c.has(proto::CT_F_NOTRACK) {
                out.push_str(" --notrack");
            }
            if let Some(h) = c.helper {
                let _ = write!(out, " --helper {}", h.name());
            }
        }
        Target::ConnMark(t) => {
            let _ = match t.mode {
                ConnMarkMode::Set => write!(out, " --set-xmark 0x{:x}/0x{:x}", t.ctmark, t.ctmask),
                ConnMarkMode::Save => write!(
                    out,
                    " --save-mark --nfmask 0x{:x} --ctmask 0x{:x}",
                    t.nfmask, t.ctmask
                ),
                ConnMarkMode::Restore => write!(
                    out,
                    " --restore-mark --nfmask 0x{:x} --ctmask 0x{:x}",
                    t.nfmask, t.ctmask
                ),
            };
        }
        Target::Snat(_) | Target::Dnat(_) | Target::Masquerade(_) | Target::Redirect(_) => {
            nat_text(out, t, true)
        }
        Target::NfQueue(q) => nfqueue_text(out, q, true),
        _ => {}
    }
}

/// The name `-S` writes after `-j`: a CT target made by `-j NOTRACK`
/// keeps that name.
fn target_save_name(t: &Target) -> &'static str {
    match t {
        Target::Ct(c) if c.is_notrack_alias() => "NOTRACK",
        t => t.name(),
    }
}

const LOG_FLAGS: [(u32, &str); 5] = [
    (proto::LOG_F_TCPSEQ, "tcp-sequence"),
    (proto::LOG_F_TCPOPT, "tcp-options"),
    (proto::LOG_F_IPOPT, "ip-options"),
    (proto::LOG_F_UID, "uid"),
    (proto::LOG_F_MACDECODE, "macdecode"),
];

fn addr_save(out: &mut String, opt: &str, a: [u8; 4], m: [u8; 4], inv: bool) {
    if a == [0; 4] && m == [0; 4] && !inv {
        return;
    }
    let _ = write!(out, "{} {opt} {}", if inv { " !" } else { "" }, ip(a));
    match cidr(m) {
        Some(n) => {
            let _ = write!(out, "/{n}");
        }
        None => {
            let _ = write!(out, "/{}", ip(m));
        }
    }
}

/// A rule as `-S` and `iptables-save` write it, without the line end:
/// `-A CHAIN ...`. With `counters`, ` -c p b` before the target (`-S -v`).
pub fn rule_save(chain: &str, r: &RuleSpec, counters: bool) -> String {
    let mut out = format!("-A {chain}");
    let inv = r.ip.invert;
    addr_save(
        &mut out,
        "-s",
        r.ip.src,
        r.ip.src_mask,
        has(inv, proto::INV_SRC),
    );
    addr_save(
        &mut out,
        "-d",
        r.ip.dst,
        r.ip.dst_mask,
        has(inv, proto::INV_DST),
    );
    for (letter, i, bit) in [
        ('i', &r.ip.in_iface, proto::INV_IN_IFACE),
        ('o', &r.ip.out_iface, proto::INV_OUT_IFACE),
    ] {
        if let Some(name) = iface_save(i) {
            let _ = write!(
                out,
                "{} -{letter} {name}",
                if has(inv, bit) { " !" } else { "" }
            );
        }
    }
    if r.ip.proto != 0 {
        let _ = write!(
            out,
            "{} -p {}",
            if has(inv, proto::INV_PROTO) { " !" } else { "" },
            proto_save(r.ip.proto)
        );
    }
    if r.ip.fragment {
        let _ = write!(
            out,
            "{} -f",
            if has(inv, proto::INV_FRAGMENT) {
                " !"
            } else {
                ""
            }
        );
    }
    for m in &r.matches {
        let _ = write!(out, " -m {}", match_name(m));
        match_save(&mut out, m);
    }
    if counters {
        let _ = write!(out, " -c {} {}", r.counters.packets, r.counters.bytes);
    }
    match &r.target {
        Target::None => {}
        Target::Jump(_) => {
            let _ = write!(out, " -j {}", r.jump);
        }
        Target::Goto(_) => {
            let _ = write!(out, " -g {}", r.jump);
        }
        t => {
            let _ = write!(out, " -j {}", target_save_name(t));
            target_save(&mut out, t);
        }
    }
    out
}

/// `-S [chain [n]]`.
pub fn list_rules(
    t: &TableSpec,
    chain: Option<&str>,
    num: Option<usize>,
    counters: bool,
) -> String {
    let mut out = String::new();
    let chains: Vec<&ChainSpec> = t
        .chains
        .iter()
        .filter(|c| chain.is_none_or(|n| c.name == n))
        .collect();
    if num.is_none() {
        for c in &chains {
            match c.policy {
                Some(p) => {
                    let _ = write!(out, "-P {} {}", c.name, policy_name(p));
                    if counters {
                        let _ = write!(out, " -c {} {}", c.counters.packets, c.counters.bytes);
                    }
                    out.push('\n');
                }
                None => {
                    let _ = writeln!(out, "-N {}", c.name);
                }
            }
        }
    }
    for c in &chains {
        for (k, r) in c.rules.iter().enumerate() {
            if num.is_none_or(|n| n == k + 1) {
                out.push_str(&rule_save(&c.name, r, counters));
                out.push('\n');
            }
        }
    }
    out
}

/// ACCEPT or DROP.
pub fn policy_name(p: rfcore::rules::Policy) -> &'static str {
    match p {
        rfcore::rules::Policy::Accept => "ACCEPT",
        rfcore::rules::Policy::Drop => "DROP",
    }
}

/// How `-L` was asked to print.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFormat {
    /// `-n`.
    pub numeric: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-x`.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
}

/// `xtables_print_num`: a counter, in K/M/G/T unless `exact`; `table`
/// pads it to its column.
fn num(n: u64, exact: bool, table: bool) -> String {
    if exact {
        return if table {
            format!("{n:>8} ")
        } else {
            format!("{n} ")
        };
    }
    if n <= 99_999 {
        return if table {
            format!("{n:>5} ")
        } else {
            format!("{n} ")
        };
    }
    let mut v = n;
    for unit in ["K", "M", "G"] {
        v = (v + 500) / 1000;
        if v <= 9999 {
            return if table {
                format!("{v:>4}{unit} ")
            } else {
                format!("{v}{unit} ")
            };
        }
    }
    v = (v + 500) / 1000;
    if table {
        format!("{v:>4}T ")
    } else {
        format!("{v}T ")
    }
}

fn port(p: u16, proto: &str, numeric: bool) -> String {
    if !numeric {
        if let Some(s) = names::service_name(p, proto) {
            return s.to_string();
        }
    }
    p.to_string()
}

fn ports_print(out: &mut String, name: &str, r: PortRange, inv: bool, proto: &str, numeric: bool) {
    if r.is_all() && !inv {
        return;
    }
    let i = if inv { "!" } else { "" };
    if r.first == r.last {
        let _ = write!(out, " {name}:{i}{}", port(r.first, proto, numeric));
    } else {
        let _ = write!(
            out,
            " {name}s:{i}{}:{}",
            port(r.first, proto, numeric),
            port(r.last, proto, numeric)
        );
    }
}

fn tos_symbolic(value: u8, mask: u8) -> Option<&'static str> {
    if mask != 0x3f {
        return None;
    }
    names::TOS_NAMES
        .iter()
        .find(|(_, v)| *v == value)
        .map(|(n, _)| *n)
}

/// A match as `-L` prints it (each piece with its leading space).
fn match_print(out: &mut String, m: &Match, rule_proto: u8, numeric: bool) {
    match m {
        Match::Tcp(t) => {
            out.push_str(" tcp");
            ports_print(
                out,
                "spt",
                t.sports,
                has(t.invert, proto::TCP_INV_SPORTS),
                "tcp",
                numeric,
            );
            ports_print(
                out,
                "dpt",
                t.dports,
                has(t.invert, proto::TCP_INV_DPORTS),
                "tcp",
                numeric,
            );
            let finv = has(t.invert, proto::TCP_INV_FLAGS);
            if t.flags_mask != 0 || finv {
                let _ = write!(out, " flags:{}", if finv { "!" } else { "" });
                if numeric {
                    let _ = write!(out, "0x{:02X}/0x{:02X}", t.flags_mask, t.flags_comp);
                } else {
                    let _ = write!(out, "{}/{}", tcpf(t.flags_mask), tcpf(t.flags_comp));
                }
            }
        }
        Match::Udp(u) => {
            out.push_str(" udp");
            ports_print(
                out,
                "spt",
                u.sports,
                has(u.invert, proto::TCP_INV_SPORTS),
                "udp",
                numeric,
            );
            ports_print(
                out,
                "dpt",
                u.dports,
                has(u.invert, proto::TCP_INV_DPORTS),
                "udp",
                numeric,
            );
        }
        Match::Icmp(i) => {
            out.push_str(" icmp");
            if !numeric {
                if let Some(n) = names::ICMP_NAMES.iter().find(|n| {
                    n.icmp_type == i.icmp_type
                        && n.code_min == i.code_min
                        && n.code_max == i.code_max
                }) {
                    let _ = write!(out, " {}{}", if i.invert { "!" } else { "" }, n.name);
                    return;
                }
            }
            if i.invert {
                out.push_str(" !");
            }
            let _ = write!(out, "type {}", i.icmp_type);
            if i.code_min == i.code_max {
                let _ = write!(out, " code {}", i.code_min);
            } else if i.code_min != 0 || i.code_max != 0xff {
                let _ = write!(out, " codes {}-{}", i.code_min, i.code_max);
            }
        }
        Match::Multiport(m) => {
            out.push_str(" multiport");
            out.push_str(match m.mode {
                proto::MULTIPORT_SOURCE => " sports ",
                proto::MULTIPORT_DESTINATION => " dports ",
                _ => " ports ",
            });
            if m.invert {
                out.push_str(" !");
            }
            let p = if rule_proto == IPPROTO_UDP {
                "udp"
            } else {
                "tcp"
            };
            let list: Vec<String> = m
                .entries()
                .iter()
                .map(|r| {
                    if r.first == r.last {
                        port(r.first, p, numeric)
                    } else {
                        format!("{}:{}", port(r.first, p, numeric), port(r.last, p, numeric))
                    }
                })
                .collect();
            out.push_str(&list.join(","));
        }
        Match::Mac(m) => {
            let inv = if m.invert { " !" } else { "" };
            let _ = write!(out, " MAC{inv} {}", mac_text(&m.source));
        }
        Match::Mark(m) => {
            out.push_str(" mark match");
            if m.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " 0x{:x}", m.value);
            if m.mask != u32::MAX {
                let _ = write!(out, "/0x{:x}", m.mask);
            }
        }
        Match::Tos(t) => {
            out.push_str(" tos match");
            if t.invert {
                out.push('!');
            }
            match tos_symbolic(t.value, t.mask).filter(|_| !numeric) {
                Some(n) => {
                    let _ = write!(out, " {n}");
                }
                None => {
                    let _ = write!(out, "0x{:02x}/0x{:02x}", t.value, t.mask);
                }
            }
        }
        Match::Dscp(d) => {
            let _ = write!(
                out,
                " DSCP match {}0x{:02x}",
                if d.invert { "!" } else { "" },
                d.value
            );
        }
        Match::Length(l) => {
            let _ = write!(out, " length {}", if l.invert { "!" } else { "" });
            if l.min == l.max {
                let _ = write!(out, "{}", l.min);
            } else {
                let _ = write!(out, "{}:{}", l.min, l.max);
            }
        }
        Match::Limit(l) => {
            let _ = write!(out, " limit: avg {} burst {}", rate(l.avg), l.burst);
        }
        Match::IpRange(r) => {
            if let Some(s) = r.src {
                out.push_str(" source IP range");
                if has(r.invert, proto::IPRANGE_INV_SRC) {
                    out.push_str(" !");
                }
                let _ = write!(out, " {}-{}", ip(s.first), ip(s.last));
            }
            if let Some(d) = r.dst {
                out.push_str(" destination IP range");
                if has(r.invert, proto::IPRANGE_INV_DST) {
                    out.push_str(" !");
                }
                let _ = write!(out, " {}-{}", ip(d.first), ip(d.last));
            }
        }
        Match::AddrType(t) => {
            out.push_str(" ADDRTYPE match");
            if t.src != 0 {
                let _ = write!(
                    out,
                    " src-type {}{}",
                    if has(t.flags, proto::ADDRTYPE_F_INVERT_SRC) {
                        "!"
                    } else {
                        ""
                    },
                    type_list(t.src)
                );
            }
            if t.dst != 0 {
                let _ = write!(
                    out,
                    " dst-type {}{}",
                    if has(t.flags, proto::ADDRTYPE_F_INVERT_DST) {
                        "!"
                    } else {
                        ""
                    },
                    type_list(t.dst)
                );
            }
            if has(t.flags, proto::ADDRTYPE_F_LIMIT_IFACE_IN) {
                out.push_str(" limit-in");
            }
            if has(t.flags, proto::ADDRTYPE_F_LIMIT_IFACE_OUT) {
                out.push_str(" limit-out");
            }
        }
        Match::RpFilter(r) => {
            out.push_str(" rpfilter");
            rpfilter_flags(out, r.flags, "");
        }
        Match::Conntrack(c) => conntrack_text(out, c, "", numeric),
        Match::State(st) => {
            if st.invert {
                out.push_str(" !");
            }
            let _ = write!(out, " state {}", ct_states(st.mask.into()));
        }
        Match::ConnMark(m) => {
            out.push_str(" connmark match ");
            if m.invert {
                out.push('!');
            }
            let _ = write!(out, " 0x{:x}", m.value);
            if m.mask != u32::MAX {
                let _ = write!(out, "/0x{:x}", m.mask);
            }
        }
        Match::Unused => {}
    }
}

fn target_print(out: &mut String, t: &Target, numeric: bool) {
    match t {
        Target::Reject(r) => {
            let _ = write!(out, " reject-with {}", r.with.name());
        }
        Target::Log(l) => {
            out.push_str(" LOG");
            if numeric {
                let _ = write!(out, " flags {} level {}", l.flags, l.level);
            } else {
                match names::LOG_LEVELS_OUT.get(usize::from(l.level)) {
                    Some(n) => {
                        let _ = write!(out, " level {n}");
                    }
                    None => {
                        let _ = write!(out, " UNKNOWN level {}", l.level);
                    }
                }
                for (bit, n) in LOG_FLAGS {
                    if has(l.flags, bit) {
                        let _ = write!(out, " {n}");
                    }
                }
            }
            if !l.prefix.is_empty() {
                let _ = write!(out, " prefix \"{}\"", l.prefix.as_str());
            }
        }
        Target::Mark(m) => {
            if m.value == 0 {
                let _ = write!(out, " MARK and 0x{:x}", !m.mask);
            } else if m.value == m.mask {
                let _ = write!(out, " MARK or 0x{:x}", m.value);
            } else if m.mask == 0 {
                let _ = write!(out, " MARK xor 0x{:x}", m.value);
            } else if m.mask == u32::MAX {
                let _ = write!(out, " MARK set 0x{:x}", m.value);
            } else {
                let _ = write!(out, " MARK xset 0x{:x}/0x{:x}", m.value, m.mask);
            }
        }
        Target::Tos(t) => {
            if numeric {
                let _ = write!(out, " TOS set 0x{:02x}/0x{:02x}", t.value, t.mask);
            } else if let Some(n) = tos_symbolic(t.value, t.mask) {
                let _ = write!(out, "  TOS set{n}");
            } else if t.value == 0 {
                let _ = write!(out, " TOS and 0x{:02x}", !t.mask);
            } else if t.value == t.mask {
                let _ = write!(out, " TOS or 0x{:02x}", t.value);
            } else if t.mask == 0 {
                let _ = write!(out, " TOS xor 0x{:02x}", t.value);
            } else {
                let _ = write!(out, " TOS set 0x{:02x}/0x{:02x}", t.value, t.mask);
            }
        }
        Target::Dscp(d) => {
            let _ = write!(out, " DSCP set 0x{:02x}", d.value);
        }
        Target::Ct(c) => ct_print(out, c),
        Target::ConnMark(t) => connmark_print(out, t),
        Target::Snat(_) | Target::Dnat(_) | Target::Masquerade(_) | Target::Redirect(_) => {
            nat_text(out, t, false)
        }
        Target::NfQueue(q) => nfqueue_text(out, q, false),
        _ => {}
    }
}

/// CT as `-L` shows it (`ct_print_v1`).
fn ct_print(out: &mut String, c: &Ct) {
    if c.is_notrack_alias() {
        out.push_str(" NOTRACK");
        return;
    }
    out.push_str(" CT");
    if c.has(proto::CT_F_NOTRACK) {
        out.push_str(" notrack");
    }
    if let Some(h) = c.helper {
        let _ = write!(out, " helper {}", h.name());
    }
}

/// CONNMARK as `-L` shows it (`connmark_tg_print`).
fn connmark_print(out: &mut String, t: &SetConnMark) {
    let all = u32::MAX;
    let _ = match t.mode {
        ConnMarkMode::Set if t.ctmark == 0 => write!(out, " CONNMARK and 0x{:x}", !t.ctmask),
        ConnMarkMode::Set if t.ctmark == t.ctmask => write!(out, " CONNMARK or 0x{:x}", t.ctmark),
        ConnMarkMode::Set if t.ctmask == 0 => write!(out, " CONNMARK xor 0x{:x}", t.ctmark),
        ConnMarkMode::Set if t.ctmask == all => write!(out, " CONNMARK set 0x{:x}", t.ctmark),
        ConnMarkMode::Set => write!(out, " CONNMARK xset 0x{:x}/0x{:x}", t.ctmark, t.ctmask),
        ConnMarkMode::Save if t.nfmask == all && t.ctmask == all => write!(out, " CONNMARK save"),
        ConnMarkMode::Save if t.nfmask == t.ctmask => {
            write!(out, " CONNMARK save mask 0x{:x}", t.nfmask)
        }
        ConnMarkMode::Save => write!(
            out,
            " CONNMARK save nfmask 0x{:x} ctmask ~0x{:x}",
            t.nfmask, t.ctmask
        ),
        ConnMarkMode::Restore if t.ctmask == all && t.nfmask == all => {
            write!(out, " CONNMARK restore")
        }
        ConnMarkMode::Restore if t.ctmask == t.nfmask => {
            write!(out, " CONNMARK restore mask 0x{:x}", t.ctmask)
        }
        ConnMarkMode::Restore => write!(
            out,
            " CONNMARK restore ctmask 0x{:x} nfmask ~0x{:x}",
            t.ctmask, t.nfmask
        ),
    };
}

fn addr_print(a: [u8; 4], m: [u8; 4], numeric: bool) -> String {
    if m == [0; 4] && !numeric {
        return "anywhere".to_string();
    }
    let mut s = ip(a);
    match cidr(m) {
        Some(32) => {}
        Some(n) => {
            let _ = write!(s, "/{n}");
        }
        None => {
            let _ = write!(s, "/{}", ip(m));
        }
    }
    s
}

/// The name in the target column.
fn target_name(r: &RuleSpec) -> &str {
    match r.target {
        Target::Jump(_) | Target::Goto(_) => &r.jump,
        _ => r.target.name(),
    }
}

/// One rule line of `-L`, without the line end.
pub fn rule_line(r: &RuleSpec, n: usize, f: ListFormat) -> String {
    let mut out = String::new();
    if f.line_numbers {
        let _ = write!(out, "{n:<4} ");
    }
    if f.verbose {
        out.push_str(&num(r.counters.packets, f.exact, true));
        out.push_str(&num(r.counters.bytes, f.exact, true));
    }
    let _ = write!(out, "{:<9} ", target_name(r));
    let inv = r.ip.invert;
    out.push(if has(inv, proto::INV_PROTO) { '!' } else { ' ' });
    let p = if f.numeric {
        r.ip.proto.to_string()
    } else if r.ip.proto == 0 {
        "all".to_string()
    } else {
        proto_save(r.ip.proto)
    };
    let _ = write!(out, "{p:<4} ");
    out.push(if has(inv, proto::INV_FRAGMENT) {
        '!'
    } else {
        '-'
    });
    out.push(if r.ip.fragment { 'f' } else { '-' });
    out.push(' ');
    if f.verbose {
        let any = if f.numeric { "*" } else { "any" };
        let iface = |i: &IfaceMatch, bit: u32| {
            let mut s = String::from(if has(inv, bit) { "!" } else { "" });
            if i.is_set() {
                s.push_str(&iface_list(i));
            } else {
                s.push_str(any);
            }
            s
        };
        let _ = write!(out, " {:<6} ", iface(&r.ip.in_iface, proto::INV_IN_IFACE));
        let _ = write!(out, "{:<6} ", iface(&r.ip.out_iface, proto::INV_OUT_IFACE));
    }
    out.push(if has(inv, proto::INV_SRC) { '!' } else { ' ' });
    let _ = write!(
        out,
        "{:<19} ",
        addr_print(r.ip.src, r.ip.src_mask, f.numeric)
    );
    out.push(if has(inv, proto::INV_DST) { '!' } else { ' ' });
    let _ = write!(
        out,
        "{:<19} ",
        addr_print(r.ip.dst, r.ip.dst_mask, f.numeric)
    );
    if matches!(r.target, Target::Goto(_)) {
        out.push_str("[goto] ");
    }
    for m in &r.matches {
        match_print(&mut out, m, r.ip.proto, f.numeric);
    }
    target_print(&mut out, &r.target, f.numeric);
    out
}

fn header(t: &TableSpec, c: &ChainSpec, f: ListFormat) -> String {
    let mut out = format!("Chain {}", c.name);
    match c.policy {
        Some(p) => {
            let _ = write!(out, " (policy {}", policy_name(p));
            if f.verbose {
                let _ = write!(
                    out,
                    " {}packets, {}bytes",
                    num(c.counters.packets, f.exact, false),
                    num(c.counters.bytes, f.exact, false)
                );
            }
            out.push_str(")\n");
        }
        None => {
            let _ = writeln!(out, " ({} references)", t.references(&c.name));
        }
    }
    if f.line_numbers {
        let _ = write!(out, "{:<4} ", "num");
    }
    if f.verbose {
        if f.exact {
            let _ = write!(out, "{:>8} {:>10} ", "pkts", "bytes");
        } else {
            let _ = write!(out, "{:>5} {:>5} ", "pkts", "bytes");
        }
    }
    let _ = write!(out, "{:<9} ", "target");
    out.push_str(" prot opt");
    if f.verbose {
        let _ = write!(out, " {:<6} {:<6} ", "in", "out");
    }
    let _ = write!(out, " {:<19} ", "source");
    let _ = write!(out, " {:<19} ", "destination");
    out.push('\n');
    out
}

/// `-L [chain [n]]`.
pub fn list(t: &TableSpec, chain: Option<&str>, n: Option<usize>, f: ListFormat) -> String {
    let mut out = String::new();
    let mut found = false;
    for c in t
        .chains
        .iter()
        .filter(|c| chain.is_none_or(|n| c.name == n))
    {
        if found {
            out.push('\n');
        }
        if n.is_none() {
            out.push_str(&header(t, c, f));
        }
        for (k, r) in c.rules.iter().enumerate() {
            if n.is_none_or(|n| n == k + 1) {
                out.push_str(&rule_line(r, k + 1, f));
                out.push('\n');
            }
        }
        found = true;
    }
    out
}

/// One table in iptables-save format, from `*table` to `COMMIT`.
pub fn save_table(t: &TableSpec, counters: bool) -> String {
    let mut out = format!("*{}\n", t.kind.name());
    for c in &t.chains {
        let _ = writeln!(
            out,
            ":{} {} [{}:{}]",
            c.name,
            c.policy.map_or("-", policy_name),
            c.counters.packets,
            c.counters.bytes
        );
    }
    for c in &t.chains {
        for r in &c.rules {
            if counters {
                let _ = write!(out, "[{}:{}] ", r.counters.packets, r.counters.bytes);
            }
            out.push_str(&rule_save(&c.name, r, false));
            out.push('\n');
        }
    }
    out.push_str("COMMIT\n");
    out
}
