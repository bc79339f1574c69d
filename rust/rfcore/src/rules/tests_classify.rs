// SPDX-License-Identifier: GPL-2.0

//! Host tests of the classifier: the classified walk against the linear
//! one on random rulesets and packets (same verdict, same sequence of
//! everything the walk asks of and does to the kernel), and the number of
//! rules it tries on large chains.

extern crate std;

use super::classify::{self, Choice, Key, Keys};
use super::eval::walk;
use super::matches::limit::{Limit, LimitState};
use super::packet::{
    Headers, IcmpHeader, Ipv4Header, Packet, TcpHeader, Transport, UdpHeader, IPPROTO_ICMP,
    IPPROTO_TCP, IPPROTO_UDP, L4,
};
use super::proto::{self, Hook};
use super::table::{Policy, Rule, Table};
use super::targets::ct::CtHelper;
use super::targets::log::Log;
use super::targets::nat::NatKind;
use super::targets::reject::RejectWith;
use super::targets::Target;
use super::tests::{
    accept, attr, builtin, flag, jump, load, mt, nest, ports, proto_, rule, stra, table, tg, u32a,
    u8a, user, Owned,
};
use super::MAX_DEPTH;
use super::*;
use std::collections::BTreeMap;
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

// ---------------------------------------------------------------------
// A small deterministic PRNG (splitmix64).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform below `n` (> 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `pct` %.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------
// A context that records everything the walk asks and does, in order.

#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Count(u32, u32),
    AddrType([u8; 4], AddrTypeDev),
    LoopedBack,
    Route(RouteQuery),
    Limit(u32, bool),
    SetMark(u32),
    SetTos(u8),
    Log(String),
    Reject(RejectWith),
    Conntrack,
    SetCtMark(u32),
    Notrack,
    CtHelper(CtHelper),
    Nat(NatKind),
    Cpu,
    QueueSeed,
}

#[derive(Default)]
struct Rec {
    events: Vec<Ev>,
    /// Limit buckets, kept across packets: limits run dry.
    limits: BTreeMap<u32, LimitState>,
    /// What `conntrack` answers for the current packet.
    ct: Option<CtView>,
}

impl Context for Rec {
    fn count(&mut self, counter: u32, bytes: u32) {
        self.events.push(Ev::Count(counter, bytes));
    }

    fn addr_type(&mut self, addr: [u8; 4], dev: AddrTypeDev) -> u8 {
        self.events.push(Ev::AddrType(addr, dev));
        // UNICAST, LOCAL or BROADCAST, by the last byte.
        1 + addr[3] % 3
    }

    fn looped_back(&mut self) -> bool {
        self.events.push(Ev::LoopedBack);
        false
    }

    fn route(&mut self, q: &RouteQuery) -> Option<Route> {
        self.events.push(Ev::Route(*q));
        (q.daddr[3] & 1 == 0).then_some(Route {
            kind: 1,
            via_in_dev: q.daddr[2] & 1 == 0,
        })
    }

    fn limit(&mut self, index: u32, limit: &Limit) -> bool {
        let st = self
            .limits
            .entry(index)
            .or_insert_with(|| limit.initial_state(0));
        let ok = limit.take(st, 0);
        self.events.push(Ev::Limit(index, ok));
        ok
    }

    fn set_mark(&mut self, mark: u32) {
        self.events.push(Ev::SetMark(mark));
    }

    fn set_tos(&mut self, tos: u8) {
        self.events.push(Ev::SetTos(tos));
    }

    fn log(&mut self, log: &Log, _pkt: &PacketInfo) {
        self.events.push(Ev::Log(log.prefix.as_str().into()));
    }

    fn reject(&mut self, with: RejectWith, _pkt: &PacketInfo) {
        self.events.push(Ev::Reject(with));
    }

    fn conntrack(&mut self) -> Option<CtView> {
        self.events.push(Ev::Conntrack);
        self.ct
    }

    fn set_ct_mark(&mut self, mark: u32) {
        self.events.push(Ev::SetCtMark(mark));
    }

    fn notrack(&mut self) {
        self.events.push(Ev::Notrack);
    }

    fn ct_helper(&mut self, helper: CtHelper) {
        self.events.push(Ev::CtHelper(helper));
    }

    fn nat(&mut self, kind: NatKind, _range: &super::nat::NatRange) -> Verdict {
        self.events.push(Ev::Nat(kind));
        Verdict::Accept
    }

    fn cpu(&mut self) -> u32 {
        self.events.push(Ev::Cpu);
        0
    }

    fn queue_seed(&mut self) -> u32 {
        self.events.push(Ev::QueueSeed);
        7
    }
}

// ---------------------------------------------------------------------
// The reference: the linear walker of before the classifier.

/// Whether `rule` matches `p`; `None` if a match reading the transport
/// header meets a packet whose header does not parse (ip_tables' hotdrop).
fn rule_matches<C: Context>(
    table: &Table<'_>,
    rule: &Rule,
    p: &PacketInfo,
    ctx: &mut C,
) -> Option<bool> {
    if !rule.ip.matches(p) {
        return Some(false);
    }
    let mut index = rule.match_start;
    for m in table.matches_of(rule) {
        if m.needs().hot_drops(&p.pkt.l4) {
            return None;
        }
        if !m.matches(p, ctx, index) {
            return Some(false);
        }
        index = index.wrapping_add(1);
    }
    Some(true)
}

/// The walker as it was before the classifier, verbatim but for the
/// count of rules tried and the hot drop: the reference the classified walk is compared
/// with, sharing none of its code.
fn reference_walk<C: Context>(
    table: &Table<'_>,
    hook: Hook,
    pkt: &PacketInfo,
    ctx: &mut C,
    tried: &mut u32,
) -> Verdict {
    let Some(base) = table.hook_chain(hook) else {
        return Verdict::Accept;
    };
    let chains = table.chains();
    let rules = table.rules();
    let Some(base_chain) = chains.get(usize::from(base)) else {
        return Verdict::Accept;
    };
    let mut p = *pkt;
    // The return points: chain and next rule.
    let mut stack = [(0u16, 0u32); MAX_DEPTH];
    let mut sp = 0;
    let mut chain = base;
    let mut rank = base_chain.rank;
    let mut pos = base_chain.first_rule;
    let mut end = base_chain.rules().end;
    loop {
        if pos >= end {
            // RETURN, or the end of a chain.
            if sp == 0 {
                break;
            }
            sp -= 1;
            let Some(&(c, next)) = stack.get(sp) else {
                break;
            };
            let Some(ch) = chains.get(usize::from(c)) else {
                break;
            };
            (chain, rank, pos, end) = (c, ch.rank, next, ch.rules().end);
            continue;
        }
        let index = pos;
        pos += 1;
        *tried += 1;
        let Some(rule) = rules.get(index as usize) else {
            pos = end;
            continue;
        };
        match rule_matches(table, rule, &p, ctx) {
            None => return Verdict::Drop,
            Some(false) => continue,
            Some(true) => {}
        }
        ctx.count(index, p.len);
        match rule.target {
            Target::None => {}
            Target::Accept => return Verdict::Accept,
            Target::Drop => return Verdict::Drop,
            Target::Queue => {
                return Verdict::Queue {
                    num: 0,
                    bypass: false,
                }
            }
            Target::Return => pos = end,
            Target::Jump(to) | Target::Goto(to) => {
                // Validation made every jump lead to a lower rank; checking
                // it here makes the walk end whatever the arrays hold.
                let Some(ch) = chains.get(usize::from(to)).filter(|c| c.rank < rank) else {
                    return Verdict::Drop;
                };
                if matches!(rule.target, Target::Jump(_)) {
                    let Some(slot) = stack.get_mut(sp) else {
                        return Verdict::Drop;
                    };
                    *slot = (chain, pos);
                    sp += 1;
                }
                (chain, rank, pos, end) = (to, ch.rank, ch.first_rule, ch.rules().end);
            }
            t => {
                if let Some(v) = t.run_ext(&mut p, ctx) {
                    return v;
                }
            }
        }
    }
    ctx.count(table.policy_counter(base), p.len);
    match base_chain.policy {
        Policy::Accept => Verdict::Accept,
        Policy::Drop => Verdict::Drop,
    }
}

// ---------------------------------------------------------------------
// Random rulesets.

const ADDRS: [[u8; 4]; 6] = [
    [10, 0, 0, 1],
    [10, 0, 0, 2],
    [10, 0, 1, 7],
    [10, 1, 2, 3],
    [192, 168, 1, 1],
    [172, 16, 0, 9],
];
const PORTS: [u16; 7] = [22, 53, 80, 443, 1000, 1001, 8080];
const IFACES: [&str; 4] = ["eth0", "eth1", "wlan0", "lo"];
const RULE_IFACES: [&str; 7] = ["eth0", "eth1", "wlan0", "lo", "eth+", "+", "wl+"];

fn addr_attr(r: &mut Rng, kind: u16, mask_kind: u16) -> Vec<u8> {
    let a = u32::from_be_bytes(*r.pick(&ADDRS));
    let mask = match r.below(6) {
        0 => 0xffff_ffff,
        1 => 0xffff_ff00,
        2 => 0xffff_0000,
        3 => 0xff00_0000,
        // A mask that is not a prefix, as iptables allows.
        4 => 0xff00_ff00,
        _ => match r.below(33) as u32 {
            0 => 0,
            l => u32::MAX << (32 - l),
        },
    };
    [
        attr(kind, &(a & mask).to_be_bytes()),
        attr(mask_kind, &mask.to_be_bytes()),
    ]
    .concat()
}

fn port_range(r: &mut Rng) -> Option<u32> {
    match r.below(5) {
        0 => None,
        1 => {
            let a = *r.pick(&PORTS);
            Some(ports(a, a.saturating_add(r.below(3) as u16)))
        }
        // The ports of one high byte (0x0300-0x03ff holds 1000 and 1001),
        // or one port short of them.
        2 if r.pct(30) => {
            let hi = *r.pick(&[0u16, 0x0300, 0x1f00]);
            Some(ports(hi, hi + 0xff - r.below(2) as u16))
        }
        _ => {
            let a = *r.pick(&PORTS);
            Some(ports(a, a))
        }
    }
}

/// A tcp or udp match with random ports, inversions and flags.
fn port_match(r: &mut Rng, tcp: bool) -> Vec<u8> {
    let (kind, s, d, inv_kind) = if tcp {
        (
            proto::MT_TCP,
            proto::TCP_SPORTS,
            proto::TCP_DPORTS,
            proto::TCP_INVERT,
        )
    } else {
        (
            proto::MT_UDP,
            proto::UDP_SPORTS,
            proto::UDP_DPORTS,
            proto::UDP_INVERT,
        )
    };
    let mut opts = Vec::new();
    if let Some(p) = port_range(r) {
        opts.push(u32a(s, p));
    }
    if let Some(p) = port_range(r) {
        opts.push(u32a(d, p));
    }
    let mut inv = 0;
    if r.pct(10) {
        inv |= proto::TCP_INV_SPORTS;
    }
    if r.pct(10) {
        inv |= proto::TCP_INV_DPORTS;
    }
    if tcp && r.pct(30) {
        // --syn, or any mask and comparison (bits outside the mask too,
        // as `--tcp-flags SYN SYN,ACK` gives).
        let (mask, comp) = match r.pct(60) {
            true => (0x17, 0x02),
            false => (
                r.next() as u8,
                r.next() as u8 & *r.pick(&[0xff, 0x12, 0x02]),
            ),
        };
        opts.push(u8a(proto::TCP_FLAGS_MASK, mask));
        opts.push(u8a(proto::TCP_FLAGS_COMP, comp));
        if r.pct(30) {
            inv |= proto::TCP_INV_FLAGS;
        }
    }
    if inv != 0 {
        opts.push(u32a(inv_kind, inv));
    }
    mt(kind, &opts)
}

/// A match that needs no protocol.
fn other_match(r: &mut Rng, hook: Hook) -> Vec<u8> {
    match r.below(9) {
        0 => {
            let mut o = vec![u32a(proto::MARK_VALUE, r.below(3) as u32)];
            if r.pct(30) {
                o.push(u32a(proto::MARK_MASK, 1));
            }
            if r.pct(20) {
                o.push(flag(proto::MARK_INVERT));
            }
            mt(proto::MT_MARK, &o)
        }
        1 => {
            let mut o = vec![u32a(proto::ADDRTYPE_DST, 1 << (1 + r.below(3)))];
            if r.pct(30) {
                o.push(u32a(proto::ADDRTYPE_FLAGS, proto::ADDRTYPE_F_INVERT_DST));
            }
            mt(proto::MT_ADDRTYPE, &o)
        }
        2 => {
            let lo = r.below(100) as u16;
            let mut o = vec![u32a(proto::LENGTH_RANGE, ports(lo, lo + 40))];
            if r.pct(20) {
                o.push(flag(proto::LENGTH_INVERT));
            }
            mt(proto::MT_LENGTH, &o)
        }
        3 => mt(
            proto::MT_TOS,
            &[
                u8a(proto::TOS_VALUE, (r.below(2) * 0x10) as u8),
                u8a(proto::TOS_MASK, 0x1e),
            ],
        ),
        4 => {
            let lo = *r.pick(&ADDRS);
            let hi = [lo[0], lo[1], lo[2].saturating_add(1), 255];
            let mut o = vec![
                attr(proto::IPRANGE_DST_MIN, &lo),
                attr(proto::IPRANGE_DST_MAX, &hi),
            ];
            if r.pct(20) {
                o.push(u32a(proto::IPRANGE_INVERT, proto::IPRANGE_INV_DST));
            }
            mt(proto::MT_IPRANGE, &o)
        }
        5 => {
            let mut o = vec![attr(
                proto::MAC_SOURCE,
                &[2, 0, 0, 0, 0, 1 + r.below(2) as u8],
            )];
            if r.pct(20) {
                o.push(flag(proto::MAC_INVERT));
            }
            mt(proto::MT_MAC, &o)
        }
        6 => {
            let states = [
                proto::CTSTATE_NEW,
                proto::CTSTATE_ESTABLISHED | proto::CTSTATE_RELATED,
                proto::CTSTATE_INVALID | proto::CTSTATE_UNTRACKED,
            ];
            mt(
                proto::MT_STATE,
                &[u32a(proto::STATE_MASK, *r.pick(&states))],
            )
        }
        7 if hook == Hook::PreRouting => {
            let f = *r.pick(&[0, proto::RPFILTER_F_INVERT, proto::RPFILTER_F_LOOSE]);
            mt(proto::MT_RPFILTER, &[u32a(proto::RPFILTER_FLAGS, f)])
        }
        7 => mt(
            proto::MT_ADDRTYPE,
            &[
                u32a(proto::ADDRTYPE_SRC, 1 << (1 + r.below(3))),
                u32a(proto::ADDRTYPE_FLAGS, proto::ADDRTYPE_F_LIMIT_IFACE_IN),
            ],
        ),
        _ => mt(
            proto::MT_LIMIT,
            &[
                u32a(proto::LIMIT_AVG, 3600 * proto::LIMIT_SCALE),
                u32a(proto::LIMIT_BURST, 1 + r.below(3) as u32),
            ],
        ),
    }
}

/// A random rule for chain `me` of `users` user chains (jumps only to
/// later ones, so the graph has no loop), in a `kind` table, reachable
/// from `hook`.
fn random_rule(
    r: &mut Rng,
    kind: TableKind,
    hook: Hook,
    me: Option<usize>,
    users: usize,
) -> Vec<u8> {
    let mut parts = Vec::new();
    let p = match r.below(10) {
        0..=2 => 0,
        3..=5 => IPPROTO_TCP,
        6 | 7 => IPPROTO_UDP,
        8 => IPPROTO_ICMP,
        _ => 47,
    };
    let mut proto_inverted = false;
    if p != 0 {
        parts.push(proto_(p));
    }
    let mut inv = 0;
    if p != 0 && r.pct(8) {
        inv |= proto::INV_PROTO;
        proto_inverted = true;
    }
    if r.pct(40) {
        parts.push(addr_attr(r, proto::RULE_SRC, proto::RULE_SRC_MASK));
        if r.pct(10) {
            inv |= proto::INV_SRC;
        }
    }
    if r.pct(40) {
        parts.push(addr_attr(r, proto::RULE_DST, proto::RULE_DST_MASK));
        if r.pct(10) {
            inv |= proto::INV_DST;
        }
    }
    if r.pct(30) {
        let name = *r.pick(&RULE_IFACES);
        parts.push(stra(proto::RULE_IN_IFACE, name));
        if r.pct(10) {
            inv |= proto::INV_IN_IFACE;
        }
    }
    if hook == Hook::Forward && r.pct(30) {
        let name = *r.pick(&RULE_IFACES);
        parts.push(stra(proto::RULE_OUT_IFACE, name));
        if r.pct(10) {
            inv |= proto::INV_OUT_IFACE;
        }
    }
    if r.pct(4) {
        parts.push(flag(proto::RULE_FRAGMENT));
        if r.pct(50) {
            inv |= proto::INV_FRAGMENT;
        }
    }
    if inv != 0 {
        parts.push(u32a(proto::RULE_INVERT, inv));
    }
    // Matches, in random order: the protocol's own, and others (a limit
    // before a port match must keep the rule out of the port index).
    let n = r.below(4);
    let mut have_proto_match = false;
    for _ in 0..n {
        let own = !proto_inverted && !have_proto_match && r.pct(60);
        let m = match p {
            IPPROTO_TCP | IPPROTO_UDP if own => {
                if r.pct(15) {
                    let mode = *r.pick(&[
                        proto::MULTIPORT_SOURCE,
                        proto::MULTIPORT_DESTINATION,
                        proto::MULTIPORT_EITHER,
                    ]);
                    let mut o = vec![u32a(proto::MULTIPORT_MODE, mode)];
                    for _ in 0..1 + r.below(3) {
                        let a = *r.pick(&PORTS);
                        o.push(u32a(proto::MULTIPORT_RANGE, ports(a, a)));
                    }
                    if r.pct(20) {
                        o.push(flag(proto::MULTIPORT_INVERT));
                    }
                    mt(proto::MT_MULTIPORT, &o)
                } else {
                    have_proto_match = true;
                    port_match(r, p == IPPROTO_TCP)
                }
            }
            IPPROTO_ICMP if own => {
                have_proto_match = true;
                let mut o = vec![u8a(proto::ICMP_TYPE, *r.pick(&[0u8, 3, 8]))];
                if r.pct(20) {
                    o.push(flag(proto::ICMP_INVERT));
                }
                mt(proto::MT_ICMP, &o)
            }
            _ => other_match(r, hook),
        };
        parts.push(m);
    }
    let later = |r: &mut Rng| {
        me.map_or(0, |m| m + 1) + r.below((users - me.map_or(0, |m| m + 1)) as u64) as usize
    };
    let can_jump = me.map_or(0, |m| m + 1) < users;
    let t = match r.below(14) {
        0 | 1 => accept(),
        2 => tg(proto::TG_DROP, &[]),
        3 => tg(proto::TG_RETURN, &[]),
        4 | 5 if can_jump => jump(&format!("u{}", later(r))),
        6 if can_jump => tg(
            proto::TG_GOTO,
            &[stra(proto::JUMP_CHAIN, &format!("u{}", later(r)))],
        ),
        7 => tg(
            proto::TG_LOG,
            &[stra(proto::LOG_PREFIX, &format!("L{}", r.below(100)))],
        ),
        8 | 9 => tg(
            proto::TG_MARK,
            &[
                u32a(proto::SETMARK_VALUE, r.below(3) as u32),
                u32a(proto::SETMARK_MASK, 3),
            ],
        ),
        10 if kind == TableKind::Mangle => tg(
            proto::TG_TOS,
            &[
                u8a(proto::SETTOS_VALUE, 0x10),
                u8a(proto::SETTOS_MASK, 0x1e),
            ],
        ),
        10 => tg(
            proto::TG_REJECT,
            &[u32a(proto::REJECT_WITH, proto::REJECT_PORT_UNREACHABLE)],
        ),
        11 => tg(proto::TG_NFQUEUE, &[u16_attr(proto::NFQUEUE_NUM, 3)]),
        // No target: counted and on.
        _ => Vec::new(),
    };
    if !t.is_empty() {
        parts.push(t);
    }
    rule(&parts)
}

fn u16_attr(kind: u16, v: u16) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

/// A random table: FORWARD (or mangle's PREROUTING) with rules and up to
/// five user chains, every other built-in chain empty; and the hook.
fn random_table(r: &mut Rng, max_rules: u64) -> (TableKind, Hook, Vec<u8>) {
    let (kind, hook) = match r.below(3) {
        0 => (TableKind::Filter, Hook::Forward),
        1 => (TableKind::Mangle, Hook::Forward),
        _ => (TableKind::Mangle, Hook::PreRouting),
    };
    let users = r.below(6) as usize;
    let mut chains = Vec::new();
    for h in kind.desc().hooks {
        let policy = r.below(2) as u32;
        if *h == hook {
            let rules: Vec<_> = (0..r.below(max_rules))
                .map(|_| random_rule(r, kind, hook, None, users))
                .collect();
            chains.push(builtin(h.name(), policy, &rules));
        } else {
            chains.push(builtin(h.name(), 1, &[]));
        }
    }
    for u in 0..users {
        let rules: Vec<_> = (0..r.below(max_rules))
            .map(|_| random_rule(r, kind, hook, Some(u), users))
            .collect();
        chains.push(user(&format!("u{u}"), &rules));
    }
    (kind, hook, table(kind.name(), &chains))
}

/// A TCP or UDP header cut short, with or without its ports.
fn truncated(r: &mut Rng) -> Transport {
    Transport::Truncated {
        ports: r.pct(50).then(|| (*r.pick(&PORTS), *r.pick(&PORTS))),
    }
}

fn random_packet(r: &mut Rng) -> PacketInfo {
    let pick_addr = |r: &mut Rng| {
        if r.pct(90) {
            *r.pick(&ADDRS)
        } else {
            (r.next() as u32).to_be_bytes()
        }
    };
    let port = |r: &mut Rng| {
        if r.pct(85) {
            *r.pick(&PORTS)
        } else {
            r.below(65536) as u16
        }
    };
    let (protocol, transport) = match r.below(6) {
        0 | 1 => (
            IPPROTO_TCP,
            Transport::Tcp(TcpHeader {
                sport: port(r),
                dport: port(r),
                seq: 1,
                ack: 0,
                header_len: 20,
                flags: match r.pct(70) {
                    true => *r.pick(&[0x02, 0x10, 0x12, 0x04]),
                    false => r.next() as u8,
                },
                window: 512,
            }),
        ),
        2 | 3 => (
            IPPROTO_UDP,
            Transport::Udp(UdpHeader {
                sport: port(r),
                dport: port(r),
                len: 20,
                checksum: 0,
            }),
        ),
        4 => (
            IPPROTO_ICMP,
            Transport::Icmp(IcmpHeader {
                icmp_type: *r.pick(&[0u8, 3, 8, 255]),
                code: *r.pick(&[0u8, 0, 1, 3]),
                rest: [0; 4],
            }),
        ),
        _ => match r.below(6) {
            0 => (47, Transport::Other),
            1 => (IPPROTO_TCP, Transport::Fragment),
            2 => (IPPROTO_UDP, Transport::Fragment),
            // Headers cut short: hot-dropped at a port, flag or type match.
            3 => (IPPROTO_TCP, truncated(r)),
            4 => (IPPROTO_UDP, truncated(r)),
            _ => (IPPROTO_ICMP, Transport::Truncated { ports: None }),
        },
    };
    let total_len = 40 + r.below(120) as u16;
    let ip = Ipv4Header {
        header_len: 20,
        tos: (r.below(2) * 0x10) as u8,
        total_len: total_len.into(),
        id: 1,
        dont_fragment: false,
        more_fragments: false,
        fragment_offset: if transport == Transport::Fragment {
            100
        } else {
            0
        },
        ttl: 64,
        protocol,
        checksum: 0,
        saddr: pick_addr(r),
        daddr: pick_addr(r),
    };
    let iface = |r: &mut Rng| if r.pct(90) { *r.pick(&IFACES) } else { "ethX" };
    let (i, o) = (iface(r), iface(r));
    PacketInfo::new(
        &Packet { ip, transport },
        DevName::new(i.as_bytes()),
        DevName::new(o.as_bytes()),
        r.below(4) as u32,
        u32::from(total_len),
        Some([2, 0, 0, 0, 0, 1 + r.below(2) as u8]),
    )
}

fn random_ct(r: &mut Rng) -> Option<CtView> {
    match r.below(4) {
        0 => None,
        1 => Some(CtView::INVALID),
        s => {
            let mut v = CtView::INVALID;
            v.state = if s == 2 {
                proto::CTSTATE_NEW
            } else {
                proto::CTSTATE_ESTABLISHED
            };
            Some(v)
        }
    }
}

fn random_key(r: &mut Rng) -> Key {
    match r.below(9) {
        8 => Key::IcmpType,
        0 => Key::Proto,
        1 => Key::Src(1 + r.below(32) as u8),
        2 => Key::Dst(1 + r.below(32) as u8),
        3 => Key::InIface,
        4 => Key::OutIface,
        5 => Key::SPort,
        6 => Key::DPort,
        _ => *r.pick(&[Key::Dst(24), Key::Src(24), Key::Dst(32), Key::Src(16)]),
    }
}

/// Walks `packets` through `o` at `hook` with the reference walker and
/// classified (and with the walker ignoring the index, and through
/// [`evaluate`]), with
/// one context each kept across the packets; asserts the same verdicts
/// and events. Returns the rules tried (linear, classified).
fn compare(
    o: &Owned,
    hook: Hook,
    packets: &[(PacketInfo, Option<CtView>)],
    what: &str,
) -> (u64, u64) {
    let t = o.table();
    let (mut lin, mut cls) = (Rec::default(), Rec::default());
    let (mut tried_lin, mut tried_cls) = (0u64, 0u64);
    for (n, (p, ct)) in packets.iter().enumerate() {
        lin.events.clear();
        cls.events.clear();
        (lin.ct, cls.ct) = (*ct, *ct);
        // The public entry point, from the same state.
        let mut public = Rec {
            ct: *ct,
            limits: cls.limits.clone(),
            ..Rec::default()
        };
        let v3 = evaluate(&t, hook, p, &mut public);
        let (mut a, mut b) = (0, 0);
        let mut unindexed = Rec {
            ct: *ct,
            limits: lin.limits.clone(),
            ..Rec::default()
        };
        let v0 = walk(&t, hook, *p, &mut unindexed, false, &mut 0);
        let v1 = reference_walk(&t, hook, p, &mut lin, &mut a);
        let v2 = walk(&t, hook, *p, &mut cls, true, &mut b);
        assert_eq!(
            (v0, &unindexed.events),
            (v1, &lin.events),
            "{what}: packet {n}"
        );
        assert_eq!(v1, v2, "{what}: packet {n} {p:?}");
        assert_eq!(lin.events, cls.events, "{what}: packet {n} {p:?}");
        assert_eq!(
            (v3, &public.events),
            (v2, &cls.events),
            "{what}: packet {n}"
        );
        assert!(b <= a, "{what}: packet {n}: classified tried {b} > {a}");
        tried_lin += u64::from(a);
        tried_cls += u64::from(b);
    }
    (tried_lin, tried_cls)
}

// ---------------------------------------------------------------------
// Properties.

#[test]
fn classified_walk_is_the_linear_walk() {
    let mut r = Rng(0x5eed_0001);
    let (mut tables, mut walks, mut indexed_chains) = (0, 0u64, 0u64);
    let (mut tried_lin, mut tried_cls) = (0u64, 0u64);
    for t in 0..2500 {
        let (kind, hook, input) = random_table(&mut r, 40);
        let mut o = match load(&input) {
            Ok(o) => o,
            Err(e) => panic!("table {t} ({kind:?}) refused: {e}"),
        };
        let packets: Vec<_> = (0..24)
            .map(|_| (random_packet(&mut r), random_ct(&mut r)))
            .collect();
        let fixed = random_key(&mut r);
        let set: Vec<_> = (0..1 + r.below(classify::MAX_KEYS as u64))
            .map(|_| random_key(&mut r))
            .collect();
        for choice in [
            Choice::Cheapest,
            Choice::Fixed(fixed),
            Choice::FixedSet(Keys::new(&set)),
            Choice::Auto { min_rules: 1 },
            Choice::Fixed(Key::Linear),
        ] {
            classify::index_with(&mut o.chains, &mut o.rules, &o.matches, choice);
            indexed_chains += o
                .chains
                .iter()
                .filter(|c| c.index_key() != Key::Linear)
                .count() as u64;
            let (a, b) = compare(&o, hook, &packets, &format!("table {t} {choice:?}"));
            tried_lin += a;
            tried_cls += b;
            walks += packets.len() as u64;
        }
        tables += 1;
    }
    std::println!(
        "{tables} tables, {walks} packet walks compared, {indexed_chains} indexed chains; \
         rules tried: linear {tried_lin}, classified {tried_cls}"
    );
    assert!(tried_cls < tried_lin);
}

/// Larger chains, so that the automatic choice indexes them too.
#[test]
fn classified_walk_is_the_linear_walk_on_long_chains() {
    let mut r = Rng(0x5eed_0002);
    let mut indexed = 0;
    for t in 0..150 {
        let (_, hook, input) = random_table(&mut r, 400);
        let o = load(&input).unwrap();
        indexed += o
            .chains
            .iter()
            .filter(|c| c.index_key() != Key::Linear)
            .count();
        let packets: Vec<_> = (0..40)
            .map(|_| (random_packet(&mut r), random_ct(&mut r)))
            .collect();
        compare(&o, hook, &packets, &format!("long table {t}"));
    }
    assert!(indexed > 0);
}

// ---------------------------------------------------------------------
// Plain chains (`plain`): their walk against the general one.

/// A rule a plain chain may hold: addresses, protocol and fragment tests
/// with their inversions, the protocol's tcp, udp or icmp match, and no
/// target, ACCEPT, DROP, QUEUE or NFQUEUE to one queue.
fn random_plain_rule(r: &mut Rng) -> Vec<u8> {
    let mut parts = Vec::new();
    let p = match r.below(8) {
        0 | 1 => 0,
        2 | 3 => IPPROTO_TCP,
        4 | 5 => IPPROTO_UDP,
        6 => IPPROTO_ICMP,
        _ => 47,
    };
    if p != 0 {
        parts.push(proto_(p));
    }
    let mut inv = 0;
    if p != 0 && r.pct(8) {
        inv |= proto::INV_PROTO;
    }
    for (kind, mask, bit) in [
        (proto::RULE_SRC, proto::RULE_SRC_MASK, proto::INV_SRC),
        (proto::RULE_DST, proto::RULE_DST_MASK, proto::INV_DST),
    ] {
        if r.pct(40) {
            parts.push(addr_attr(r, kind, mask));
            if r.pct(10) {
                inv |= bit;
            }
        }
    }
    if r.pct(5) {
        parts.push(flag(proto::RULE_FRAGMENT));
        if r.pct(50) {
            inv |= proto::INV_FRAGMENT;
        }
    }
    if inv != 0 {
        parts.push(u32a(proto::RULE_INVERT, inv));
    }
    if inv & proto::INV_PROTO == 0 && r.pct(60) {
        match p {
            IPPROTO_TCP | IPPROTO_UDP => parts.push(port_match(r, p == IPPROTO_TCP)),
            IPPROTO_ICMP => {
                // A type (255: any) with all codes, one, or a range.
                let mut o = vec![u8a(proto::ICMP_TYPE, *r.pick(&[0u8, 3, 8, 255]))];
                match r.below(4) {
                    0 => {
                        let c = r.below(4) as u8;
                        o.push(u8a(proto::ICMP_CODE_MIN, c));
                        o.push(u8a(proto::ICMP_CODE_MAX, c));
                    }
                    1 => {
                        o.push(u8a(proto::ICMP_CODE_MIN, r.below(2) as u8));
                        o.push(u8a(proto::ICMP_CODE_MAX, *r.pick(&[1u8, 2, 255])));
                    }
                    _ => {}
                }
                if r.pct(20) {
                    o.push(flag(proto::ICMP_INVERT));
                }
                parts.push(mt(proto::MT_ICMP, &o));
            }
            _ => {}
        }
    }
    let t = match r.below(8) {
        0 | 1 => accept(),
        2 | 3 => tg(proto::TG_DROP, &[]),
        4 => tg(proto::TG_QUEUE, &[]),
        5 => {
            let mut o = vec![u16_attr(proto::NFQUEUE_NUM, r.below(4) as u16)];
            if r.pct(50) {
                o.push(u32a(proto::NFQUEUE_FLAGS, proto::NFQUEUE_F_BYPASS));
            }
            tg(proto::TG_NFQUEUE, &o)
        }
        _ => Vec::new(),
    };
    if !t.is_empty() {
        parts.push(t);
    }
    rule(&parts)
}

/// What a walk counted, in order.
fn counts(events: &[Ev]) -> Vec<(u32, u32)> {
    events
        .iter()
        .map(|e| match e {
            Ev::Count(c, b) => (*c, *b),
            other => panic!("a plain chain's walk did {other:?}"),
        })
        .collect()
}

#[test]
fn plain_walk_is_the_general_walk() {
    // `NF_ACCEPT`, `NF_DROP`, `NF_QUEUE_NR(num)` and the bypass flag.
    fn nf_verdict(v: Verdict) -> u32 {
        match v {
            Verdict::Accept => 1,
            Verdict::Drop => 0,
            Verdict::Queue { num, bypass } => u32::from(num) << 16 | u32::from(bypass) << 15 | 3,
        }
    }
    let mut r = Rng(0x5eed_0003);
    let (mut walks, mut hot_drops, mut by_rule, mut ip_only_walks) = (0u64, 0u64, 0u64, 0u64);
    for t in 0..3000 {
        let rules: Vec<_> = (0..r.below(15))
            .map(|_| random_plain_rule(&mut r))
            .collect();
        let policy = r.below(2) as u32;
        let input = table(
            "filter",
            &[
                builtin("INPUT", 1, &[]),
                builtin("FORWARD", policy, &rules),
                builtin("OUTPUT", 1, &[]),
            ],
        );
        let o = match load(&input) {
            Ok(o) => o,
            Err(e) => panic!("table {t} refused: {e}"),
        };
        let table = o.table();
        let n_rules = plain::plain_len(&table, Hook::Forward);
        assert_eq!(n_rules, Some(rules.len()), "table {t}");
        // Not into an array of another length.
        let mut other = vec![plain::PlainRule::default(); rules.len() + 1];
        assert_eq!(
            plain::compile(&table, Hook::Forward, &mut other, nf_verdict),
            None
        );
        if let Some(short) = rules.len().checked_sub(1) {
            assert_eq!(
                plain::compile(&table, Hook::Forward, &mut other[..short], nf_verdict),
                None
            );
        }
        let mut flat = vec![plain::PlainRule::default(); rules.len()];
        // Verdicts kept as the kernel keeps them, netfilter's encoding.
        let chain = plain::compile(&table, Hook::Forward, &mut flat, nf_verdict).unwrap();
        for n in 0..24 {
            let p = random_packet(&mut r);
            let mut general = Rec::default();
            let v = evaluate(&table, Hook::Forward, &p, &mut general);
            let mut counted = Vec::new();
            let key = plain::PlainKey::from(&p.pkt);
            let w = plain::walk(&chain, &flat, &key, p.len, |c, b| counted.push((c, b)));
            // Without a transport match, the transport header is not read.
            if !chain.reads_transport() {
                let ip_only = Headers {
                    l4: L4::Other,
                    ..p.pkt
                };
                let mut again = Vec::new();
                let ip_only = plain::PlainKey::from(&ip_only);
                let w2 = plain::walk(&chain, &flat, &ip_only, p.len, |c, b| again.push((c, b)));
                assert_eq!((w2, &again), (w, &counted), "table {t} packet {n}");
                ip_only_walks += 1;
            }
            assert_eq!(
                (w, counted),
                (nf_verdict(v), counts(&general.events)),
                "table {t} packet {n} {p:?}"
            );
            hot_drops += u64::from(general.events.is_empty() && v == Verdict::Drop);
            // Decided by a rule, not the policy (whose counter is last).
            by_rule += u64::from(general.events.last().is_some_and(|e| {
                *e != Ev::Count(
                    table.policy_counter(table.hook_chain(Hook::Forward).unwrap()),
                    p.len,
                )
            }));
            walks += 1;
        }
    }
    std::println!(
        "{walks} plain walks compared, {by_rule} decided by a rule, {hot_drops} dropped uncounted, \
         {ip_only_walks} without the transport header"
    );
    assert!(hot_drops > 0 && by_rule > walks / 4 && ip_only_walks > walks / 20);
}

#[test]
fn what_is_not_plain() {
    let forward = |rules: &[Vec<u8>]| {
        table(
            "filter",
            &[
                builtin("INPUT", 1, &[]),
                builtin("FORWARD", 0, rules),
                builtin("OUTPUT", 1, &[]),
            ],
        )
    };
    let plain_at = |input: &[u8], hook: Hook| plain::is_plain(&load(input).unwrap().table(), hook);
    // Plain: none, or simple rules; a chain without rules too.
    assert!(plain_at(&forward(&[]), Hook::Forward));
    assert!(plain_at(
        &forward(&[rule(&[
            proto_(IPPROTO_UDP),
            port_match(&mut Rng(1), false),
            accept()
        ])]),
        Hook::Forward
    ));
    // No chain at the hook: nothing to walk there.
    assert!(!plain_at(&forward(&[]), Hook::PreRouting));
    let not_plain = [
        // An interface, or an inverted interface test.
        rule(&[stra(proto::RULE_IN_IFACE, "eth0"), accept()]),
        rule(&[u32a(proto::RULE_INVERT, proto::INV_OUT_IFACE), accept()]),
        // Another match, or two transport matches.
        rule(&[mt(proto::MT_MARK, &[u32a(proto::MARK_VALUE, 1)]), accept()]),
        rule(&[
            proto_(IPPROTO_UDP),
            port_match(&mut Rng(1), false),
            port_match(&mut Rng(2), false),
            accept(),
        ]),
        // Another target.
        rule(&[tg(proto::TG_RETURN, &[])]),
        rule(&[tg(proto::TG_LOG, &[stra(proto::LOG_PREFIX, "x")])]),
        // A queue chosen per packet.
        rule(&[tg(
            proto::TG_NFQUEUE,
            &[
                u16_attr(proto::NFQUEUE_NUM, 1),
                u16_attr(proto::NFQUEUE_TOTAL, 4),
            ],
        )]),
    ];
    for (i, r) in not_plain.iter().enumerate() {
        let input = forward(&[accept_rule(), r.clone()]);
        // Some of these the ruleset may refuse; those it takes are not
        // plain.
        if let Ok(o) = load(&input) {
            assert!(!plain::is_plain(&o.table(), Hook::Forward), "rule {i}");
        }
    }
    // Two transport matches are a rule the ruleset takes (and walks in
    // general), not one of the cases above it refuses.
    assert!(load(&forward(&[not_plain[3].clone()])).is_ok());
    // A long chain is indexed, and walked through its index instead.
    let long: Vec<_> = (0..2000).map(dport_rule).collect();
    let input = forward_table(&long);
    assert!(!plain_at(&input, Hook::Forward));
}

fn accept_rule() -> Vec<u8> {
    rule(&[proto_(IPPROTO_TCP), accept()])
}

// ---------------------------------------------------------------------
// Unit tests.

/// filter with `rules` in FORWARD (policy DROP), in nests of at most 500
/// rules (a nest is at most 64 kB).
fn forward_table(rules: &[Vec<u8>]) -> Vec<u8> {
    let mut chains = vec![builtin("INPUT", 1, &[])];
    for (k, part) in rules.chunks(500).enumerate() {
        if k == 0 {
            chains.push(builtin("FORWARD", 0, part));
        } else {
            let mut nest_parts = vec![
                stra(proto::CHAIN_NAME, "FORWARD"),
                flag(proto::CHAIN_CONTINUED),
            ];
            nest_parts.extend(part.iter().cloned());
            chains.push(nest(proto::TABLE_CHAIN, &nest_parts));
        }
    }
    if rules.is_empty() {
        chains.push(builtin("FORWARD", 0, &[]));
    }
    chains.push(builtin("OUTPUT", 1, &[]));
    table("filter", &chains)
}

fn tcp_to(dport: u16, saddr: [u8; 4], in_dev: &str) -> PacketInfo {
    PacketInfo::new(
        &Packet {
            ip: Ipv4Header {
                header_len: 20,
                tos: 0,
                total_len: 60,
                id: 1,
                dont_fragment: true,
                more_fragments: false,
                fragment_offset: 0,
                ttl: 64,
                protocol: IPPROTO_TCP,
                checksum: 0,
                saddr,
                daddr: [10, 9, 9, 9],
            },
            transport: Transport::Tcp(TcpHeader {
                sport: 40000,
                dport,
                seq: 1,
                ack: 0,
                header_len: 20,
                flags: 0x02,
                window: 512,
            }),
        },
        DevName::new(in_dev.as_bytes()),
        DevName::new(b"eth9"),
        0,
        60,
        None,
    )
}

const BIG: u32 = 10_000;

fn dport_rule(i: u32) -> Vec<u8> {
    let port = 1000 + i as u16;
    rule(&[
        proto_(IPPROTO_TCP),
        mt(proto::MT_TCP, &[u32a(proto::TCP_DPORTS, ports(port, port))]),
        accept(),
    ])
}

fn src_rule(i: u32) -> Vec<u8> {
    let a = 0x0a00_0000 | i;
    rule(&[
        attr(proto::RULE_SRC, &a.to_be_bytes()),
        attr(proto::RULE_SRC_MASK, &[255; 4]),
        accept(),
    ])
}

fn iface_rule(i: u32) -> Vec<u8> {
    rule(&[stra(proto::RULE_IN_IFACE, &format!("veth{i}")), accept()])
}

/// What a large chain varies, how its rules are made, the packet that
/// hits the last rule, and the key the chain gets.
type Case = (&'static str, fn(u32) -> Vec<u8>, PacketInfo, Key);

/// 10,000 rules of which only the last matches: the classified walk
/// tries a handful, the linear one all.
#[test]
fn ten_thousand_rules_only_the_last_matches() {
    let last = BIG - 1;
    let cases: [Case; 3] = [
        (
            "dport",
            dport_rule,
            tcp_to(1000 + last as u16, [1, 1, 1, 1], "eth0"),
            Key::DPort,
        ),
        (
            "source",
            src_rule,
            tcp_to(1, (0x0a00_0000 | last).to_be_bytes(), "eth0"),
            Key::Src(32),
        ),
        (
            "input interface",
            iface_rule,
            tcp_to(1, [1, 1, 1, 1], &format!("veth{last}")),
            Key::InIface,
        ),
    ];
    for (what, make, hit, key) in cases {
        let rules: Vec<_> = (0..BIG).map(make).collect();
        let o = load(&forward_table(&rules)).unwrap();
        let t = o.table();
        let fwd = t.hook_chain(Hook::Forward).unwrap();
        assert_eq!(t.chains()[usize::from(fwd)].index_key(), key, "{what}");
        let first = t.chains()[usize::from(fwd)].first_rule();
        let (mut lin, mut cls) = (Rec::default(), Rec::default());
        let (mut a, mut b) = (0, 0);
        let v1 = reference_walk(&t, Hook::Forward, &hit, &mut lin, &mut a);
        let v2 = walk(&t, Hook::Forward, hit, &mut cls, true, &mut b);
        assert_eq!((v1, v2), (Verdict::Accept, Verdict::Accept), "{what}");
        assert_eq!(lin.events, [Ev::Count(first + last, 60)], "{what}");
        assert_eq!(cls.events, lin.events, "{what}");
        assert_eq!(a, BIG, "{what}");
        assert!(b <= 4, "{what}: {b} rules tried");
        // A packet that matches nothing falls to the DROP policy, having
        // tried a handful.
        let mut miss = hit;
        miss.in_dev = DevName::new(b"none");
        miss.pkt.saddr = [9, 9, 9, 9];
        let L4::Tcp { sport, flags, .. } = hit.pkt.l4 else {
            unreachable!()
        };
        miss.pkt.l4 = L4::Tcp {
            sport,
            dport: 9,
            flags,
        };
        let mut b = 0;
        let v = walk(&t, Hook::Forward, miss, &mut Rec::default(), true, &mut b);
        assert_eq!(v, Verdict::Drop, "{what}");
        assert!(b <= 4, "{what}: {b} rules tried by a miss");
    }
}

/// The 10,000 rules of the bench's mixed chain, then the traffic's ACCEPT.
fn bench_mixed_rules() -> Vec<Vec<u8>> {
    bench_mixed_rules_n(BIG)
}

/// The bench's mixed chain of `n` rules and the ACCEPT.
fn bench_mixed_rules_n(n: u32) -> Vec<Vec<u8>> {
    let mut rules: Vec<_> = (0..n)
        .map(|i| {
            let k = i / 5;
            let drop = tg(proto::TG_DROP, &[]);
            match i % 5 {
                0 => rule(&[
                    attr(proto::RULE_SRC, &(0xac10_0001 + k).to_be_bytes()),
                    attr(proto::RULE_SRC_MASK, &[255; 4]),
                    drop,
                ]),
                1 => rule(&[
                    attr(proto::RULE_DST, &(0xc612_0001 + k).to_be_bytes()),
                    attr(proto::RULE_DST_MASK, &[255; 4]),
                    drop,
                ]),
                2 | 3 => {
                    let (p, m) = if i % 5 == 2 {
                        (IPPROTO_TCP, proto::MT_TCP)
                    } else {
                        (IPPROTO_UDP, proto::MT_UDP)
                    };
                    let port = 10000 + k as u16;
                    rule(&[
                        proto_(p),
                        mt(m, &[u32a(proto::TCP_DPORTS, ports(port, port))]),
                        drop,
                    ])
                }
                _ => rule(&[
                    proto_(IPPROTO_ICMP),
                    mt(
                        proto::MT_ICMP,
                        &[
                            u8a(proto::ICMP_TYPE, (k % 19) as u8),
                            u8a(proto::ICMP_CODE_MIN, (k / 19 % 16) as u8),
                            u8a(proto::ICMP_CODE_MAX, (k / 19 % 16) as u8),
                        ],
                    ),
                    drop,
                ]),
            }
        })
        .collect();
    rules.push(rule(&[
        attr(proto::RULE_SRC, &[10, 0, 1, 0]),
        attr(proto::RULE_SRC_MASK, &[255, 255, 255, 0]),
        attr(proto::RULE_DST, &[10, 0, 2, 2]),
        attr(proto::RULE_DST_MASK, &[255; 4]),
        proto_(IPPROTO_UDP),
        mt(proto::MT_UDP, &[u32a(proto::TCP_DPORTS, ports(9, 9))]),
        accept(),
    ]));
    rules
}

/// The bench's traffic: UDP from the client to the server's port 9.
fn bench_traffic() -> PacketInfo {
    let mut udp = tcp_to(9, [10, 0, 1, 2], "veth0");
    udp.pkt.protocol = IPPROTO_UDP;
    udp.pkt.daddr = [10, 0, 2, 2];
    udp.pkt.l4 = L4::Udp {
        sport: 40000,
        dport: 9,
    };
    udp
}

/// The mixed chain of `make bench` (scripts/bench-rules.py): 10,000 rules
/// cycling through a source, a destination, a TCP port, a UDP port and an
/// ICMP type/code, then the traffic's ACCEPT. Four keys index it, and the
/// traffic tries a handful of rules.
#[test]
fn the_bench_mixed_chain_is_indexed_by_four_keys() {
    let rules = bench_mixed_rules();
    let o = load(&forward_table(&rules)).unwrap();
    let t = o.table();
    let fwd = t.hook_chain(Hook::Forward).unwrap();
    let chain = &t.chains()[usize::from(fwd)];
    // In the order of their longest slots, which the hash decides.
    let mut keys = chain.index_keys().to_vec();
    keys.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(
        keys,
        [Key::DPort, Key::Dst(32), Key::IcmpType, Key::Src(32)]
    );
    let udp = bench_traffic();
    let mut echo = udp;
    echo.pkt.protocol = IPPROTO_ICMP;
    echo.pkt.l4 = L4::Icmp {
        icmp_type: 8,
        code: 0,
    };
    let mut to_dropped = udp;
    to_dropped.pkt.daddr = [198, 18, 1, 2];
    for (what, p, verdict, most) in [
        ("traffic", udp, Verdict::Accept, 4),
        (
            "echo request",
            echo,
            Verdict::Drop,
            2 * BIG / 5 / 19 / 16 + 4,
        ),
        ("to a dropped destination", to_dropped, Verdict::Drop, 4),
    ] {
        let (mut lin, mut cls) = (Rec::default(), Rec::default());
        let (mut a, mut b) = (0, 0);
        let v1 = reference_walk(&t, Hook::Forward, &p, &mut lin, &mut a);
        let v2 = walk(&t, Hook::Forward, p, &mut cls, true, &mut b);
        assert_eq!((v1, v2), (verdict, verdict), "{what}");
        assert_eq!(cls.events, lin.events, "{what}");
        assert!(b <= most, "{what}: {b} rules tried (linear: {a})");
    }
}

/// A limit before the port match is charged by packets to other ports in
/// the linear walk: such a rule is not in the port index.
#[test]
fn a_limit_before_the_port_keeps_the_rule_out_of_the_index() {
    let limit = mt(
        proto::MT_LIMIT,
        &[
            u32a(proto::LIMIT_AVG, 3600 * proto::LIMIT_SCALE),
            u32a(proto::LIMIT_BURST, 2),
        ],
    );
    let tcp80 = mt(proto::MT_TCP, &[u32a(proto::TCP_DPORTS, ports(80, 80))]);
    let mut rules = vec![rule(&[
        proto_(IPPROTO_TCP),
        limit.clone(),
        tcp80.clone(),
        accept(),
    ])];
    rules.extend((0..40).map(dport_rule));
    rules.push(rule(&[proto_(IPPROTO_TCP), tcp80, limit, accept()]));
    let o = load(&forward_table(&rules)).unwrap();
    let t = o.table();
    let fwd = &t.chains()[usize::from(t.hook_chain(Hook::Forward).unwrap())];
    assert_eq!(fwd.index_key(), Key::DPort);
    let r = t.rules();
    let key = |i: usize| {
        let rl = &r[fwd.first_rule() as usize + i];
        classify::rule_key(rl, t.matches_of(rl), Key::DPort)
    };
    assert_eq!(key(0), None);
    assert!(key(1).is_some());
    assert!(key(41).is_some());
    // Port 81 charges the first rule's limit in both walks, twice, then
    // finds it empty.
    let p = tcp_to(81, [1, 1, 1, 1], "eth0");
    let packets = vec![(p, None); 4];
    compare(&o, Hook::Forward, &packets, "limit first");
    let mut rec = Rec::default();
    for _ in 0..3 {
        evaluate(&t, Hook::Forward, &p, &mut rec);
    }
    let charged = rec
        .events
        .iter()
        .filter(|e| matches!(e, Ev::Limit(_, _)))
        .count();
    assert_eq!(charged, 3);
}

/// Jumps save the cursors: after a return the walk goes on at the rule
/// after the jump, in the index, and a goto does not come back.
#[test]
fn jumps_and_returns_in_indexed_chains() {
    let mut fwd: Vec<_> = (0..20).map(dport_rule).collect();
    fwd.insert(5, rule(&[jump("sub")]));
    fwd.insert(12, rule(&[proto_(IPPROTO_TCP), jump("sub")]));
    let mut sub: Vec<_> = (100..120).map(dport_rule).collect();
    sub.insert(
        3,
        rule(&[tg(proto::TG_MARK, &[u32a(proto::SETMARK_VALUE, 5)])]),
    );
    sub.insert(10, rule(&[tg(proto::TG_RETURN, &[])]));
    let input = table(
        "filter",
        &[
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 0, &fwd),
            builtin("OUTPUT", 1, &[]),
            user("sub", &sub),
        ],
    );
    let mut o = load(&input).unwrap();
    classify::index_with(&mut o.chains, &mut o.rules, &o.matches, Choice::Cheapest);
    assert!(
        o.chains
            .iter()
            .filter(|c| c.index_key() == Key::DPort)
            .count()
            == 2
    );
    let packets: Vec<_> = [1000u16, 1004, 1010, 1019, 1102, 1105, 1115, 7]
        .iter()
        .map(|&d| (tcp_to(d, [1, 1, 1, 1], "eth0"), None))
        .collect();
    let (lin, cls) = compare(&o, Hook::Forward, &packets, "jumps");
    assert!(cls < lin);
}

/// The index of a table no decode filled: the walk ends and does not
/// panic, whatever the links hold.
#[test]
fn garbage_links_end_the_walk() {
    let rules: Vec<_> = (0..50).map(dport_rule).collect();
    let mut o = load(&forward_table(&rules)).unwrap();
    let mut r = Rng(3);
    for _ in 0..200 {
        for rl in o.rules.iter_mut() {
            let mut g = || match r.below(4) {
                0 => classify::NIL,
                1 => r.next() as u32,
                _ => r.below(60) as u32,
            };
            rl.links = classify::Links {
                head: g(),
                next: g(),
                wild: g(),
            };
        }
        for d in [1000, 1020, 1049, 5] {
            let mut n = 0;
            walk(
                &o.table(),
                Hook::Forward,
                tcp_to(d, [1, 1, 1, 1], "eth0"),
                &mut Rec::default(),
                true,
                &mut n,
            );
            assert!(n <= 50);
        }
    }
}

/// Small chains stay linear; a chain whose best key saves little too.
#[test]
fn what_the_automatic_choice_indexes() {
    let small: Vec<_> = (0..classify::MIN_RULES - 1).map(dport_rule).collect();
    let o = load(&forward_table(&small)).unwrap();
    assert!(o.chains.iter().all(|c| c.index_key() == Key::Linear));
    // Every rule to port 80: one slot holds them all.
    let same: Vec<_> = (0..100).map(|_| dport_rule(0)).collect();
    let o = load(&forward_table(&same)).unwrap();
    assert!(o.chains.iter().all(|c| c.index_key() == Key::Linear));
    // Half by port, half by address: both keys.
    let mixed: Vec<_> = (0..100)
        .map(|i| {
            if i % 2 == 0 {
                dport_rule(i)
            } else {
                src_rule(i)
            }
        })
        .collect();
    let o = load(&forward_table(&mixed)).unwrap();
    assert_eq!(o.chains[1].index_keys(), [Key::DPort, Key::Src(32)]);
    // Every rule to the same port, from its own address: the address,
    // the port (which keys every rule too) would not split them.
    let same_port: Vec<_> = (0..100u32)
        .map(|i| {
            rule(&[
                attr(proto::RULE_SRC, &(0x0a00_0000 | i).to_be_bytes()),
                attr(proto::RULE_SRC_MASK, &[255; 4]),
                proto_(IPPROTO_TCP),
                mt(proto::MT_TCP, &[u32a(proto::TCP_DPORTS, ports(80, 80))]),
                accept(),
            ])
        })
        .collect();
    let o = load(&forward_table(&same_port)).unwrap();
    assert_eq!(o.chains[1].index_keys(), [Key::Src(32)]);
    // Prefixes: /24 networks, keyed by 24 bits.
    let nets: Vec<_> = (0..100u32)
        .map(|i| {
            rule(&[
                attr(proto::RULE_DST, &(0x0a00_0000 | i << 8).to_be_bytes()),
                attr(proto::RULE_DST_MASK, &[255, 255, 255, 0]),
                accept(),
            ])
        })
        .collect();
    let o = load(&forward_table(&nets)).unwrap();
    let keys: Vec<_> = o.chains.iter().map(|c| c.index_key()).collect();
    assert_eq!(keys[1], Key::Dst(24));
}

// ---------------------------------------------------------------------
// Timings (printed, not asserted): cargo test --release -- --ignored
// --nocapture timing

#[test]
#[ignore = "a timing, printed: cargo test --release -- --ignored --nocapture timing"]
fn timing_ten_thousand_rules() {
    use std::time::Instant;
    let rules: Vec<_> = (0..BIG).map(dport_rule).collect();
    let t0 = Instant::now();
    let mut o = load(&forward_table(&rules)).unwrap();
    let load_time = t0.elapsed();
    let t1 = Instant::now();
    classify::index(&mut o.chains, &mut o.rules, &o.matches);
    let index_time = t1.elapsed();
    let t = o.table();
    let mut r = Rng(9);
    // Packets to ports no rule has, and to the last rule's.
    let packets: Vec<_> = (0..64)
        .map(|i| {
            let d = if i % 2 == 0 {
                20000 + r.below(1000) as u16
            } else {
                1000 + (BIG - 1) as u16
            };
            tcp_to(d, [1, 1, 1, 1], "eth0")
        })
        .collect();
    let rounds = 20;
    let per_packet = |f: &mut dyn FnMut(&PacketInfo, &mut Rec)| {
        let mut ctx = Rec::default();
        let start = Instant::now();
        for _ in 0..rounds {
            for p in &packets {
                f(p, &mut ctx);
                ctx.events.clear();
            }
        }
        start.elapsed().as_nanos() as f64 / f64::from(rounds * packets.len() as u32)
    };
    let reference = per_packet(&mut |p, ctx| {
        reference_walk(&t, Hook::Forward, p, ctx, &mut 0);
    });
    let lin = per_packet(&mut |p, ctx| {
        evaluate_linear(&t, Hook::Forward, p, ctx);
    });
    let cls = per_packet(&mut |p, ctx| {
        evaluate(&t, Hook::Forward, p, ctx);
    });
    std::println!(
        "10,000 --dport rules: decode {load_time:?} (of which index {index_time:?}); \
         per packet: walker before the classifier {reference:.0} ns, linear {lin:.0} ns, \
         classified {cls:.0} ns ({:.0}x)",
        lin / cls
    );
}

/// The linear walk's cost per rule on the bench's mixed chain (no index).
#[test]
#[ignore = "a timing, printed: cargo test --release -- --ignored --nocapture timing"]
fn timing_linear_walk_per_rule() {
    use std::time::Instant;
    let o = load(&forward_table(&bench_mixed_rules())).unwrap();
    let t = o.table();
    let p = bench_traffic();
    let rounds = 500;
    let mut ctx = Rec::default();
    // The best of five: the host is shared.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..rounds {
            let v = evaluate_linear(&t, Hook::Forward, &p, &mut ctx);
            assert_eq!(v, Verdict::Accept);
            ctx.events.clear();
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds) / f64::from(BIG + 1);
        best = best.min(ns);
    }
    std::println!("linear walk of the mixed chain: {best:.2} ns per rule");
}

/// The worst case of building: a 100,000-rule chain with every prefix
/// length of both addresses, so that every key is tried.
#[test]
#[ignore = "a timing, printed: cargo test --release -- --ignored --nocapture timing"]
fn timing_index_build_worst_case() {
    use std::time::Instant;
    let mut r = Rng(11);
    let rules: Vec<_> = (0..100_000u32)
        .map(|_| {
            let mask = |r: &mut Rng| u32::MAX << (32 - (1 + r.below(32) as u32));
            let (ms, md) = (mask(&mut r), mask(&mut r));
            let (a, b) = (r.next() as u32, r.next() as u32);
            rule(&[
                attr(proto::RULE_SRC, &(a & ms).to_be_bytes()),
                attr(proto::RULE_SRC_MASK, &ms.to_be_bytes()),
                attr(proto::RULE_DST, &(b & md).to_be_bytes()),
                attr(proto::RULE_DST_MASK, &md.to_be_bytes()),
                proto_(IPPROTO_TCP),
                mt(
                    proto::MT_TCP,
                    &[u32a(proto::TCP_DPORTS, ports(a as u16, a as u16))],
                ),
                stra(proto::RULE_IN_IFACE, &format!("e{}", b % 1000)),
                accept(),
            ])
        })
        .collect();
    let mut o = load(&forward_table(&rules)).unwrap();
    let start = Instant::now();
    classify::index(&mut o.chains, &mut o.rules, &o.matches);
    let fwd = o.chains.iter().map(|c| c.index_key()).nth(1);
    std::println!(
        "100,000 rules, 17 keys tried: index built in {:?}, key {fwd:?}",
        start.elapsed()
    );
}

/// What one packet costs with nothing to walk but the bench's ACCEPT (its
/// N=0): parsing the headers, the packet view with both device names, and
/// the walk. Run under `valgrind --tool=callgrind` for instructions.
#[test]
#[ignore = "a timing, printed: cargo test --release -- --ignored --nocapture timing"]
fn timing_fixed_cost() {
    use std::time::Instant;
    let accept = bench_mixed_rules().pop().unwrap();
    let o = load(&forward_table(&[accept])).unwrap();
    let t = o.table();
    // pktgen's frame: 46 bytes of IPv4 (20; protocol 17, UDP), UDP (8)
    // and payload.
    let mut bytes = [0u8; 46];
    bytes[..20].copy_from_slice(&[
        0x45, 0, 0, 46, 0, 0, 0, 0, 32, 17, 0, 0, 10, 0, 1, 2, 10, 0, 2, 2,
    ]);
    bytes[20..28].copy_from_slice(&[0x04, 0x00, 0, 9, 0, 26, 0, 0]);
    let rounds = 1_000_000u32;
    let mut ctx = Rec::default();
    let start = Instant::now();
    for _ in 0..rounds {
        let pkt = super::packet::parse_headers(core::hint::black_box(&bytes), 46).unwrap();
        let info = PacketInfo::with_headers(
            pkt,
            DevName::from_raw(*b"veth1\0\0\0\0\0\0\0\0\0\0\0"),
            DevName::from_raw(*b"veth2\0\0\0\0\0\0\0\0\0\0\0"),
            0,
            46,
            None,
        );
        let v = evaluate_owned(&t, Hook::Forward, info, &mut ctx);
        assert_eq!(v, Verdict::Accept);
        ctx.events.clear();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    std::println!("fixed cost (parse, packet view, walk of one rule): {ns:.1} ns per packet");
}

/// The bench's traffic through its mixed chain at every size: linear at
/// 10 rules (an index would not halve the walk), at most 8 rules tried
/// from 50 on (the index has as many slots as the chain has rules, so
/// some keys share one), the same verdict as the reference walk.
#[test]
fn bench_chain_sizes_try_few_rules() {
    for n in [10u32, 50, 100, 200, 500, 1000] {
        let o = load(&forward_table(&bench_mixed_rules_n(n))).unwrap();
        let t = o.table();
        let fwd = t.hook_chain(Hook::Forward).unwrap();
        let chain = &t.chains()[usize::from(fwd)];
        let (mut a, mut b) = (0, 0);
        let p = bench_traffic();
        let v1 = reference_walk(&t, Hook::Forward, &p, &mut Rec::default(), &mut a);
        let v2 = walk(&t, Hook::Forward, p, &mut Rec::default(), true, &mut b);
        assert_eq!((v1, v2), (Verdict::Accept, Verdict::Accept), "n={n}");
        if n == 10 {
            assert!(chain.index_keys().is_empty(), "n={n}");
            assert_eq!(b, n + 1);
        } else {
            assert_eq!(chain.index_keys().len(), 4, "n={n}");
            assert!(b <= 8, "n={n}: {b} rules tried");
        }
    }
}
