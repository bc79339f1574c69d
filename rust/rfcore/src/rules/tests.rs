// SPDX-License-Identifier: GPL-2.0

//! Host tests of decoding, validation, encoding and evaluation.

extern crate std;

use super::matches::limit::{Limit, LimitState};
use super::nla::{NlaError, Writer, NLA_F_NESTED};
use super::packet::{
    IcmpHeader, Ipv4Header, Packet, TcpHeader, Transport, UdpHeader, IPPROTO_ICMP, IPPROTO_TCP,
    IPPROTO_UDP, L4,
};
use super::proto::{self, Hook};
use super::targets::log::{log_line, Log, LogPacket};
use super::targets::reject::RejectWith;
use super::*;
use std::collections::BTreeMap;
use std::string::String;
use std::vec;
use std::vec::Vec;

// ---------------------------------------------------------------------
// Wire format builders (shared with tests_ct.rs).

pub(super) fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    assert!(len <= 65535, "attribute too long");
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

pub(super) fn nest(kind: u16, parts: &[Vec<u8>]) -> Vec<u8> {
    attr(kind | NLA_F_NESTED, &parts.concat())
}

pub(super) fn u8a(kind: u16, v: u8) -> Vec<u8> {
    attr(kind, &[v])
}

pub(super) fn u32a(kind: u16, v: u32) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

fn u64a(kind: u16, v: u64) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

pub(super) fn stra(kind: u16, s: &str) -> Vec<u8> {
    let mut p = s.as_bytes().to_vec();
    p.push(0);
    attr(kind, &p)
}

pub(super) fn flag(kind: u16) -> Vec<u8> {
    attr(kind, &[])
}

pub(super) fn table(name: &str, chains: &[Vec<u8>]) -> Vec<u8> {
    let mut v = stra(proto::TABLE_NAME, name);
    for c in chains {
        v.extend_from_slice(c);
    }
    v
}

/// A built-in chain with policy `policy` (0 DROP, 1 ACCEPT).
pub(super) fn builtin(name: &str, policy: u32, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![
        stra(proto::CHAIN_NAME, name),
        u32a(proto::CHAIN_POLICY, policy),
    ];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

pub(super) fn user(name: &str, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![stra(proto::CHAIN_NAME, name)];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

fn continued(name: &str, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![stra(proto::CHAIN_NAME, name), flag(proto::CHAIN_CONTINUED)];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

pub(super) fn rule(parts: &[Vec<u8>]) -> Vec<u8> {
    nest(proto::CHAIN_RULE, parts)
}

pub(super) fn tg(kind: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![u32a(proto::TARGET_KIND, kind)];
    if !opts.is_empty() {
        parts.push(nest(proto::TARGET_OPTS, opts));
    }
    nest(proto::RULE_TARGET, &parts)
}

pub(super) fn accept() -> Vec<u8> {
    tg(proto::TG_ACCEPT, &[])
}

fn drop_() -> Vec<u8> {
    tg(proto::TG_DROP, &[])
}

fn ret() -> Vec<u8> {
    tg(proto::TG_RETURN, &[])
}

pub(super) fn jump(chain: &str) -> Vec<u8> {
    tg(proto::TG_JUMP, &[stra(proto::JUMP_CHAIN, chain)])
}

fn goto(chain: &str) -> Vec<u8> {
    tg(proto::TG_GOTO, &[stra(proto::JUMP_CHAIN, chain)])
}

pub(super) fn mt(kind: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    nest(
        proto::RULE_MATCH,
        &[u32a(proto::MATCH_KIND, kind), nest(proto::MATCH_OPTS, opts)],
    )
}

pub(super) fn proto_(p: u8) -> Vec<u8> {
    u8a(proto::RULE_PROTO, p)
}

fn inv(bits: u32) -> Vec<u8> {
    u32a(proto::RULE_INVERT, bits)
}

fn src(a: [u8; 4], m: [u8; 4]) -> Vec<u8> {
    [attr(proto::RULE_SRC, &a), attr(proto::RULE_SRC_MASK, &m)].concat()
}

fn dst(a: [u8; 4], m: [u8; 4]) -> Vec<u8> {
    [attr(proto::RULE_DST, &a), attr(proto::RULE_DST_MASK, &m)].concat()
}

fn in_if(s: &str) -> Vec<u8> {
    stra(proto::RULE_IN_IFACE, s)
}

fn out_if(s: &str) -> Vec<u8> {
    stra(proto::RULE_OUT_IFACE, s)
}

pub(super) fn ports(first: u16, last: u16) -> u32 {
    u32::from(first) << 16 | u32::from(last)
}

/// filter with the given INPUT rules, FORWARD and OUTPUT empty ACCEPT.
pub(super) fn filter_input(policy: u32, rules: &[Vec<u8>], users: &[Vec<u8>]) -> Vec<u8> {
    let mut chains = vec![
        builtin("INPUT", policy, rules),
        builtin("FORWARD", 1, &[]),
        builtin("OUTPUT", 1, &[]),
    ];
    chains.extend(users.iter().cloned());
    table("filter", &chains)
}

// ---------------------------------------------------------------------
// Owned storage.

#[derive(Debug)]
pub(super) struct Owned {
    pub(super) chains: Vec<Chain>,
    pub(super) rules: Vec<Rule>,
    pub(super) matches: Vec<Match>,
    pub(super) info: TableInfo,
}

impl Owned {
    pub(super) fn table(&self) -> Table<'_> {
        Table::new(&self.info, &self.chains, &self.rules, &self.matches).unwrap()
    }
}

pub(super) fn load(input: &[u8]) -> Result<Owned, RuleError> {
    let s = measure(input)?;
    let mut chains = vec![Chain::default(); s.chains];
    let mut rules = vec![Rule::default(); s.rules];
    let mut matches = vec![Match::default(); s.matches];
    let info = *decode(
        input,
        Storage {
            chains: &mut chains,
            rules: &mut rules,
            matches: &mut matches,
        },
    )?
    .info();
    Ok(Owned {
        chains,
        rules,
        matches,
        info,
    })
}

pub(super) fn ok(input: &[u8]) -> Owned {
    match load(input) {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    }
}

pub(super) fn err(input: &[u8]) -> RuleError {
    match load(input) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

/// Assert an error's reason, chain input index and rule position.
#[track_caller]
pub(super) fn assert_err(
    input: &[u8],
    reason: Reason,
    chain: Option<(u16, &str)>,
    rule: Option<u32>,
) {
    let e = err(input);
    assert_eq!(e.reason, reason, "{e}");
    assert_eq!(e.chain.map(|c| (c, e.chain_name.as_str())), chain, "{e}");
    assert_eq!(e.rule, rule, "{e}");
}

pub(super) fn encode_all(o: &Owned) -> Vec<u8> {
    let t = o.table();
    let mut buf = vec![0u8; 1 << 24];
    let mut w = Writer::new(&mut buf);
    encode_table(&mut w, &t, |i| {
        t.rules().get(i as usize).map_or_else(
            || t.chains()[i as usize - t.rules().len()].policy_counters(),
            |r| r.counters(),
        )
    })
    .unwrap();
    let n = w.len();
    buf.truncate(n);
    buf
}

// ---------------------------------------------------------------------
// Packets and a recording context.

const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;
const RTN_BROADCAST: u8 = 3;

fn ipv4(protocol: u8, s: [u8; 4], d: [u8; 4], total_len: u16) -> Ipv4Header {
    Ipv4Header {
        header_len: 20,
        tos: 0,
        total_len: total_len.into(),
        id: 0x1234,
        dont_fragment: true,
        more_fragments: false,
        fragment_offset: 0,
        ttl: 64,
        protocol,
        checksum: 0,
        saddr: s,
        daddr: d,
    }
}

fn info(pkt: Packet) -> PacketInfo {
    PacketInfo::new(
        &pkt,
        DevName::new(b"eth0\0"),
        DevName::default(),
        0,
        pkt.ip.total_len,
        Some([2, 0, 0, 0, 0, 1]),
    )
}

pub(super) fn tcp(sport: u16, dport: u16, flags: u8) -> PacketInfo {
    info(Packet {
        ip: ipv4(IPPROTO_TCP, [10, 0, 0, 1], [10, 0, 0, 2], 60),
        transport: Transport::Tcp(TcpHeader {
            sport,
            dport,
            seq: 1,
            ack: 0,
            header_len: 20,
            flags,
            window: 512,
        }),
    })
}

pub(super) fn udp(sport: u16, dport: u16) -> PacketInfo {
    info(Packet {
        ip: ipv4(IPPROTO_UDP, [10, 0, 0, 1], [10, 0, 0, 2], 40),
        transport: Transport::Udp(UdpHeader {
            sport,
            dport,
            len: 20,
            checksum: 0,
        }),
    })
}

pub(super) fn icmp(icmp_type: u8, code: u8) -> PacketInfo {
    info(Packet {
        ip: ipv4(IPPROTO_ICMP, [10, 0, 0, 1], [10, 0, 0, 2], 84),
        transport: Transport::Icmp(IcmpHeader {
            icmp_type,
            code,
            rest: [0; 4],
        }),
    })
}

fn fragment(protocol: u8) -> PacketInfo {
    let mut ip = ipv4(protocol, [10, 0, 0, 1], [10, 0, 0, 2], 100);
    ip.fragment_offset = 185;
    info(Packet {
        ip,
        transport: Transport::Fragment,
    })
}

#[derive(Default)]
pub(super) struct Ctx {
    pub(super) counts: BTreeMap<u32, (u64, u64)>,
    marks: Vec<u32>,
    tos: Vec<u8>,
    logs: Vec<String>,
    rejects: Vec<RejectWith>,
    addr_types: BTreeMap<[u8; 4], u8>,
    addr_devs: Vec<AddrTypeDev>,
    /// The FIB's answer to every route query, and whether the packet came
    /// in on loopback.
    route: Option<Route>,
    loopback: bool,
    queries: Vec<RouteQuery>,
    limits: BTreeMap<u32, LimitState>,
    now: u64,
    /// The NAT bindings asked for, and what the kernel answers (ACCEPT
    /// unless set).
    pub(super) nats: Vec<(super::targets::nat::NatKind, super::nat::NatRange)>,
    pub(super) nat_verdict: Option<Verdict>,
    /// The CPU `cpu` answers, and how often it and `queue_seed` were
    /// asked; the seed `queue_seed` answers.
    pub(super) cpu: u32,
    pub(super) cpu_asked: u32,
    pub(super) seed: u32,
    pub(super) seed_asked: u32,
}

impl Context for Ctx {
    fn count(&mut self, counter: u32, bytes: u32) {
        let e = self.counts.entry(counter).or_default();
        e.0 += 1;
        e.1 += u64::from(bytes);
    }

    fn addr_type(&mut self, addr: [u8; 4], dev: AddrTypeDev) -> u8 {
        self.addr_devs.push(dev);
        self.addr_types.get(&addr).copied().unwrap_or(RTN_UNICAST)
    }

    fn looped_back(&mut self) -> bool {
        self.loopback
    }

    fn route(&mut self, q: &RouteQuery) -> Option<Route> {
        self.queries.push(*q);
        self.route
    }

    fn limit(&mut self, index: u32, limit: &Limit) -> bool {
        let now = self.now;
        let st = self
            .limits
            .entry(index)
            .or_insert_with(|| limit.initial_state(now));
        limit.take(st, now)
    }

    fn set_mark(&mut self, mark: u32) {
        self.marks.push(mark);
    }

    fn set_tos(&mut self, tos: u8) {
        self.tos.push(tos);
    }

    fn log(&mut self, log: &Log, _pkt: &PacketInfo) {
        self.logs.push(log.prefix.as_str().into());
    }

    fn reject(&mut self, with: RejectWith, _pkt: &PacketInfo) {
        self.rejects.push(with);
    }

    // No connection tracking here: tests_ct.rs has a context with it.
    fn conntrack(&mut self) -> Option<CtView> {
        None
    }

    fn set_ct_mark(&mut self, _mark: u32) {}

    fn notrack(&mut self) {}

    fn ct_helper(&mut self, _helper: super::targets::ct::CtHelper) {}

    fn nat(&mut self, kind: super::targets::nat::NatKind, range: &super::nat::NatRange) -> Verdict {
        self.nats.push((kind, *range));
        self.nat_verdict.unwrap_or(Verdict::Accept)
    }

    fn cpu(&mut self) -> u32 {
        self.cpu_asked += 1;
        self.cpu
    }

    fn queue_seed(&mut self) -> u32 {
        self.seed_asked += 1;
        self.seed
    }
}

pub(super) fn run(o: &Owned, hook: Hook, p: &PacketInfo) -> (Verdict, Ctx) {
    let mut ctx = Ctx::default();
    let v = evaluate(&o.table(), hook, p, &mut ctx);
    (v, ctx)
}

/// Whether a one-rule INPUT chain with policy DROP and `parts` + ACCEPT
/// accepts `p`.
fn hit(parts: &[Vec<u8>], p: &PacketInfo) -> bool {
    let mut r = parts.to_vec();
    r.push(accept());
    let o = ok(&filter_input(0, &[rule(&r)], &[]));
    run(&o, Hook::LocalIn, p).0 == Verdict::Accept
}

// ---------------------------------------------------------------------
// Decoding.

#[test]
fn decode_basic_table() {
    let input = table(
        "filter",
        &[
            user("zeta", &[rule(&[drop_()])]),
            builtin("OUTPUT", 1, &[rule(&[accept()])]),
            user("alpha", &[rule(&[ret()]), rule(&[])]),
            builtin(
                "INPUT",
                0,
                &[
                    rule(&[jump("alpha")]),
                    rule(&[
                        goto("zeta"),
                        u64a(proto::RULE_PACKETS, 7),
                        u64a(proto::RULE_BYTES, 700),
                        u32a(proto::RULE_ORIGIN, 9),
                    ]),
                ],
            ),
            builtin("FORWARD", 1, &[]),
        ],
    );
    assert_eq!(
        measure(&input).unwrap(),
        Sizes {
            chains: 5,
            rules: 6,
            matches: 0
        }
    );
    let o = ok(&input);
    let t = o.table();
    assert_eq!(t.kind(), TableKind::Filter);
    let names: Vec<_> = t.chains().iter().map(|c| c.name().as_str()).collect();
    assert_eq!(names, ["INPUT", "FORWARD", "OUTPUT", "alpha", "zeta"]);
    let firsts: Vec<_> = t
        .chains()
        .iter()
        .map(|c| (c.first_rule(), c.rule_count()))
        .collect();
    assert_eq!(firsts, [(0, 2), (2, 0), (2, 1), (3, 2), (5, 1)]);
    let inputs: Vec<_> = t.chains().iter().map(|c| c.input_index()).collect();
    assert_eq!(inputs, [3, 4, 1, 2, 0]);
    assert_eq!(t.chains()[0].policy(), Policy::Drop);
    assert_eq!(t.chains()[0].hook(), Some(Hook::LocalIn));
    assert_eq!(t.chains()[3].hook(), None);
    assert_eq!(*t.rules()[0].target(), Target::Jump(3));
    assert_eq!(*t.rules()[1].target(), Target::Goto(4));
    assert_eq!(
        t.rules()[1].counters(),
        Counters {
            packets: 7,
            bytes: 700
        }
    );
    assert_eq!(t.rules()[1].origin(), Some(9));
    assert_eq!(t.rules()[0].origin(), None);
    // Storage follows the dump: rule i is the i-th rule encode_table
    // writes, which is what RULE_ORIGIN counts.
    assert_eq!(*t.rules()[4].target(), Target::None);
    assert_eq!(t.hook_chain(Hook::LocalIn), Some(0));
    assert_eq!(t.hook_chain(Hook::PreRouting), None);
    assert_eq!(t.chain_by_name("zeta"), Some(4));
    assert_eq!(t.chain_by_name("OUTPUT"), Some(2));
    assert_eq!(t.chain_by_name("nope"), None);
    assert_eq!(t.counter_count(), 11);
    assert_eq!(t.policy_counter(0), 6);
    assert!(t.active_at(Hook::LocalIn));
    assert!(!t.active_at(Hook::Forward));
    assert!(t.active_at(Hook::LocalOut));
    assert_eq!(t.chains()[3].hook_mask(), 1 << 1);
    assert_eq!(t.chains()[4].hook_mask(), 1 << 1);
    assert_eq!(t.chains()[3].depth(), 1);
    assert_eq!(t.chains()[4].depth(), 0);
    assert_eq!(t.info().max_depth, 1);
}

#[test]
fn origins_decode() {
    let input = table(
        "filter",
        &[
            nest(
                proto::TABLE_CHAIN,
                &[
                    stra(proto::CHAIN_NAME, "INPUT"),
                    u32a(proto::CHAIN_POLICY, 1),
                    u32a(proto::CHAIN_ORIGIN, 2),
                    rule(&[accept(), u32a(proto::RULE_ORIGIN, 5)]),
                ],
            ),
            builtin("FORWARD", 1, &[]),
            builtin("OUTPUT", 1, &[]),
        ],
    );
    let o = ok(&input);
    let t = o.table();
    assert_eq!(t.chains()[0].origin(), Some(2));
    assert_eq!(t.chains()[1].origin(), None);
    assert_eq!(t.rules()[0].origin(), Some(5));
    // Only built-in chains have counters to carry.
    let bad = table(
        "filter",
        &[
            nest(
                proto::TABLE_CHAIN,
                &[
                    stra(proto::CHAIN_NAME, "mine"),
                    u32a(proto::CHAIN_ORIGIN, 0),
                ],
            ),
            builtin("INPUT", 1, &[]),
        ],
    );
    assert_eq!(err(&bad).reason, Reason::PolicyOnUserChain);
}

#[test]
fn every_table_kind() {
    for d in table::TABLES {
        let chains: Vec<_> = d.hooks.iter().map(|h| builtin(h.name(), 1, &[])).collect();
        let o = ok(&table(d.name, &chains));
        assert_eq!(o.table().kind(), d.kind);
        assert_eq!(TableKind::from_name(d.name), Some(d.kind));
        assert_eq!(d.kind.name(), d.name);
        for h in Hook::ALL {
            assert_eq!(
                o.table().hook_chain(h).is_some(),
                d.hooks.contains(&h),
                "{h:?}"
            );
            assert_eq!(d.kind.priority(h).is_some(), d.hooks.contains(&h));
            assert!(!o.table().active_at(h));
        }
        assert_eq!(d.kind.hook_mask().count_ones() as usize, d.hooks.len());
    }
    assert_eq!(TableKind::Nat.priority(Hook::PostRouting), Some(100));
    assert_eq!(TableKind::Raw.priority(Hook::PreRouting), Some(-300));
    assert_eq!(TableKind::Filter.builtin("INPUT"), Some(Hook::LocalIn));
    assert_eq!(TableKind::Filter.builtin("PREROUTING"), None);
    // A user chain may be called PREROUTING in filter.
    let o = ok(&filter_input(1, &[], &[user("PREROUTING", &[])]));
    assert_eq!(o.table().chains()[3].hook(), None);
}

#[test]
fn chunks_concatenate() {
    // 100,000 rules in 10 chunks of whole rules; a chain spans chunks.
    let r = rule(&[
        proto_(IPPROTO_UDP),
        mt(proto::MT_UDP, &[u32a(proto::UDP_DPORTS, ports(9, 9))]),
        drop_(),
    ]);
    let mut input = Vec::new();
    let mut per_chunk = Vec::new();
    for k in 0..10 {
        let mut chunk = stra(proto::TABLE_NAME, "filter");
        if k == 0 {
            chunk.extend(builtin("INPUT", 1, &[]));
            chunk.extend(builtin("OUTPUT", 1, &[]));
        }
        // A nest holds at most 64 KiB: 500 rules each.
        for n in 0..20 {
            let rules = vec![r.clone(); 500];
            if k == 0 && n == 0 {
                chunk.extend(builtin("FORWARD", 1, &rules));
            } else {
                chunk.extend(continued("FORWARD", &rules));
            }
        }
        per_chunk.push(chunk.len());
        input.extend(chunk);
    }
    assert!(per_chunk.iter().all(|&n| n < 1 << 20));
    let o = ok(&input);
    let t = o.table();
    assert_eq!(t.rules().len(), 100_000);
    assert_eq!(t.all_matches().len(), 100_000);
    assert_eq!(t.chains()[1].rule_count(), 100_000);
    // The last rule matches; the walk goes through all of them.
    let (v, ctx) = run(&o, Hook::Forward, &udp(1, 9));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(ctx.counts.keys().copied().collect::<Vec<_>>(), [0]);
    let (v, ctx) = run(&o, Hook::Forward, &udp(1, 10));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(
        ctx.counts.keys().copied().collect::<Vec<_>>(),
        [100_000 + 1]
    );
    // Encoding it again gives the same table.
    let again = ok(&encode_all(&o));
    assert_eq!(again.rules, o.rules);
    assert_eq!(again.matches, o.matches);
}

// ---------------------------------------------------------------------
// Round trips.

fn all_matches_and_targets() -> Vec<u8> {
    let mangle_pre = vec![
        rule(&[
            mt(proto::MT_RPFILTER, &[u32a(proto::RPFILTER_FLAGS, 0x0b)]),
            drop_(),
        ]),
        rule(&[mt(
            proto::MT_MAC,
            &[
                attr(proto::MAC_SOURCE, &[2, 0, 0, 0, 0, 9]),
                flag(proto::MAC_INVERT),
            ],
        )]),
        rule(&[tg(
            proto::TG_TOS,
            &[
                u8a(proto::SETTOS_VALUE, 0x10),
                u8a(proto::SETTOS_MASK, 0x3f),
            ],
        )]),
        rule(&[tg(proto::TG_DSCP, &[u8a(proto::SETDSCP_VALUE, 46)])]),
        rule(&[tg(
            proto::TG_MARK,
            &[
                u32a(proto::SETMARK_VALUE, 5),
                u32a(proto::SETMARK_MASK, 0xff),
            ],
        )]),
        rule(&[
            src([192, 168, 0, 0], [255, 255, 0, 0]),
            dst([10, 1, 2, 3], [255, 255, 255, 255]),
            in_if("eth+"),
            proto_(IPPROTO_TCP),
            flag(proto::RULE_FRAGMENT),
            inv(proto::INV_SRC | proto::INV_FRAGMENT | proto::INV_IN_IFACE),
            mt(
                proto::MT_TCP,
                &[
                    u32a(proto::TCP_SPORTS, ports(1024, 65535)),
                    u32a(proto::TCP_DPORTS, ports(22, 22)),
                    u8a(proto::TCP_FLAGS_MASK, 0x17),
                    u8a(proto::TCP_FLAGS_COMP, 0x02),
                    u32a(proto::TCP_INVERT, 0x05),
                ],
            ),
            mt(
                proto::MT_MULTIPORT,
                &[
                    u32a(proto::MULTIPORT_MODE, proto::MULTIPORT_EITHER),
                    u32a(proto::MULTIPORT_RANGE, ports(80, 80)),
                    u32a(proto::MULTIPORT_RANGE, ports(8000, 8080)),
                    flag(proto::MULTIPORT_INVERT),
                ],
            ),
            mt(
                proto::MT_MARK,
                &[
                    u32a(proto::MARK_VALUE, 1),
                    u32a(proto::MARK_MASK, 3),
                    flag(proto::MARK_INVERT),
                ],
            ),
            mt(
                proto::MT_TOS,
                &[u8a(proto::TOS_VALUE, 0x10), u8a(proto::TOS_MASK, 0x1e)],
            ),
            mt(
                proto::MT_DSCP,
                &[u8a(proto::DSCP_VALUE, 10), flag(proto::DSCP_INVERT)],
            ),
            mt(
                proto::MT_LENGTH,
                &[
                    u32a(proto::LENGTH_RANGE, ports(40, 1500)),
                    flag(proto::LENGTH_INVERT),
                ],
            ),
            mt(
                proto::MT_LIMIT,
                &[u32a(proto::LIMIT_AVG, 2000), u32a(proto::LIMIT_BURST, 10)],
            ),
            mt(
                proto::MT_IPRANGE,
                &[
                    attr(proto::IPRANGE_SRC_MIN, &[10, 0, 0, 1]),
                    attr(proto::IPRANGE_SRC_MAX, &[10, 0, 0, 9]),
                    attr(proto::IPRANGE_DST_MIN, &[10, 0, 1, 0]),
                    attr(proto::IPRANGE_DST_MAX, &[10, 0, 2, 0]),
                    u32a(proto::IPRANGE_INVERT, proto::IPRANGE_INV_DST),
                ],
            ),
            mt(
                proto::MT_ADDRTYPE,
                &[
                    u32a(proto::ADDRTYPE_SRC, 1 << 2),
                    u32a(proto::ADDRTYPE_DST, 1 << 3 | 1 << 5),
                    u32a(
                        proto::ADDRTYPE_FLAGS,
                        proto::ADDRTYPE_F_INVERT_DST | proto::ADDRTYPE_F_LIMIT_IFACE_IN,
                    ),
                ],
            ),
            tg(
                proto::TG_LOG,
                &[
                    stra(proto::LOG_PREFIX, "in: "),
                    u8a(proto::LOG_LEVEL, 6),
                    u32a(proto::LOG_FLAGS, proto::LOG_F_TCPSEQ | proto::LOG_F_UID),
                ],
            ),
        ]),
        rule(&[
            proto_(IPPROTO_UDP),
            mt(
                proto::MT_UDP,
                &[
                    u32a(proto::UDP_SPORTS, ports(53, 53)),
                    u32a(proto::UDP_INVERT, 1),
                ],
            ),
        ]),
        rule(&[
            proto_(IPPROTO_ICMP),
            mt(
                proto::MT_ICMP,
                &[
                    u8a(proto::ICMP_TYPE, 3),
                    u8a(proto::ICMP_CODE_MIN, 1),
                    u8a(proto::ICMP_CODE_MAX, 3),
                    flag(proto::ICMP_INVERT),
                ],
            ),
            goto("user"),
        ]),
        // Connection tracking: more in tests_ct.rs.
        rule(&[
            mt(
                proto::MT_CONNTRACK,
                &[
                    u32a(proto::CONNTRACK_STATE, proto::CTSTATE_NEW),
                    u32a(proto::CONNTRACK_INVERT, proto::CONNTRACK_F_STATE),
                ],
            ),
            mt(
                proto::MT_STATE,
                &[u32a(proto::STATE_MASK, proto::CTSTATE_ESTABLISHED)],
            ),
            mt(
                proto::MT_CONNMARK,
                &[
                    u32a(proto::CONNMARK_VALUE, 1),
                    u32a(proto::CONNMARK_MASK, 0xff),
                ],
            ),
            tg(
                proto::TG_CONNMARK,
                &[u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_SAVE)],
            ),
        ]),
    ];
    let mut chains = vec![builtin("PREROUTING", 0, &mangle_pre)];
    for h in ["INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] {
        chains.push(builtin(h, 1, &[]));
    }
    chains.push(user("user", &[rule(&[jump("user2")]), rule(&[ret()])]));
    chains.push(user("user2", &[rule(&[accept()])]));
    table("mangle", &chains)
}

#[test]
fn round_trip_every_match_and_target() {
    let o = ok(&all_matches_and_targets());
    let kinds: Vec<_> = o.matches.iter().map(|m| m.kind()).collect();
    for k in 1..=proto::MT_MAX {
        assert!(kinds.contains(&k), "match kind {k} not covered");
    }
    let encoded = encode_all(&o);
    let o2 = ok(&encoded);
    assert_eq!(o2.rules, o.rules);
    assert_eq!(o2.matches, o.matches);
    assert_eq!(o2.info, o.info);
    // Encoding is canonical: once more gives the same bytes.
    assert_eq!(encode_all(&o2), encoded);

    // The filter-only targets.
    let input = filter_input(
        1,
        &[
            rule(&[
                proto_(IPPROTO_TCP),
                tg(
                    proto::TG_REJECT,
                    &[u32a(proto::REJECT_WITH, proto::REJECT_TCP_RESET)],
                ),
            ]),
            rule(&[tg(proto::TG_REJECT, &[])]),
            rule(&[drop_()]),
        ],
        &[],
    );
    let o = ok(&input);
    let tks: Vec<_> = o.rules.iter().map(|r| r.target().kind()).collect();
    assert_eq!(tks, [proto::TG_REJECT, proto::TG_REJECT, proto::TG_DROP]);
    assert_eq!(
        *o.rules[1].target(),
        Target::Reject(targets::reject::Reject {
            with: RejectWith::PortUnreachable
        })
    );
    let o2 = ok(&encode_all(&o));
    assert_eq!(o2.rules, o.rules);
    for w in RejectWith::ALL {
        assert_eq!(RejectWith::from_number(w.number()), Some(w));
        assert!(!w.name().is_empty());
        assert_eq!(w.icmp_code().is_none(), w == RejectWith::TcpReset);
    }
    assert_eq!(RejectWith::from_number(4), None);
}

#[test]
fn encode_into_small_buffers() {
    let o = ok(&all_matches_and_targets());
    let t = o.table();
    // Rules cut at any buffer size leave a well-formed prefix.
    for size in (0..600).step_by(7) {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf);
        let mut written = 0;
        for i in 0..t.rules().len() as u32 {
            let r = t.rule_ref(i, Counters::default()).unwrap();
            match encode_rule(&mut w, &r) {
                Ok(()) => written += 1,
                Err(e) => {
                    assert_eq!(e, NlaError::NoSpace);
                    break;
                }
            }
        }
        let n = w.len();
        assert_eq!(
            super::nla::Attrs::new(&buf[..n]).count(),
            written,
            "size {size}"
        );
    }
    // Chain starts too.
    let mut buf = [0u8; 8];
    let mut w = Writer::new(&mut buf);
    assert!(encode_chain_start(&mut w, &t.chains()[0], false, Counters::default()).is_err());
    assert!(w.is_empty());
}

// ---------------------------------------------------------------------
// Validation errors, each with its place.

#[test]
fn table_level_errors() {
    assert_err(&table("filtre", &[]), Reason::UnknownTable, None, None);
    let e = err(&table("filtre", &[]));
    assert_eq!(std::format!("{e}"), "table filtre: unknown table");
    assert_err(&[], Reason::MissingTableName, None, None);
    assert_err(
        &builtin("INPUT", 1, &[]),
        Reason::MissingTableName,
        None,
        None,
    );
    let mut two = filter_input(1, &[], &[]);
    two.extend(stra(proto::TABLE_NAME, "filter"));
    assert!(load(&two).is_ok());
    two.extend(stra(proto::TABLE_NAME, "mangle"));
    assert_err(&two, Reason::TableMismatch, Some((2, "OUTPUT")), None);
    let mut bad = filter_input(1, &[], &[]);
    bad.extend(u32a(9, 1));
    assert_err(&bad, Reason::UnknownAttribute, Some((2, "OUTPUT")), None);
    let mut trunc = filter_input(1, &[rule(&[accept()])], &[]);
    trunc.truncate(trunc.len() - 2);
    let e = err(&trunc);
    assert_eq!(e.reason, Reason::Malformed(NlaError::Truncated));
}

#[test]
fn chain_errors() {
    let f = |chains: &[Vec<u8>]| table("filter", chains);
    let base = || {
        vec![
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 1, &[]),
            builtin("OUTPUT", 1, &[]),
        ]
    };
    // Missing built-in chain.
    let e = err(&f(&base()[..2]));
    assert_eq!(
        (e.reason, e.chain_name.as_str(), e.chain),
        (Reason::MissingBuiltinChain, "OUTPUT", None)
    );
    assert_eq!(
        std::format!("{e}"),
        "table filter, chain OUTPUT: built-in chain missing"
    );
    // Duplicates, built-in and user.
    let mut c = base();
    c.push(builtin("FORWARD", 0, &[]));
    assert_err(&f(&c), Reason::DuplicateChain, Some((3, "FORWARD")), None);
    let mut c = base();
    c.push(user("x", &[]));
    c.push(user("y", &[]));
    c.push(user("x", &[]));
    assert_err(&f(&c), Reason::DuplicateChain, Some((5, "x")), None);
    // Policies.
    let mut c = base();
    c.push(nest(
        proto::TABLE_CHAIN,
        &[stra(proto::CHAIN_NAME, "u"), u32a(proto::CHAIN_POLICY, 1)],
    ));
    assert_err(&f(&c), Reason::PolicyOnUserChain, Some((3, "u")), None);
    let mut c = base();
    c.push(nest(
        proto::TABLE_CHAIN,
        &[stra(proto::CHAIN_NAME, "u"), u64a(proto::CHAIN_PACKETS, 1)],
    ));
    assert_err(&f(&c), Reason::PolicyOnUserChain, Some((3, "u")), None);
    let mut c = base();
    c[1] = user("FORWARD", &[]);
    assert_err(&f(&c), Reason::MissingPolicy, Some((1, "FORWARD")), None);
    let mut c = base();
    c[2] = builtin("OUTPUT", 2, &[]);
    assert_err(&f(&c), Reason::BadPolicy, Some((2, "OUTPUT")), None);
    // Names.
    let mut c = base();
    c.push(user("", &[]));
    assert_err(&f(&c), Reason::BadChainName, Some((3, "")), None);
    let mut c = base();
    c.push(user(&"n".repeat(29), &[]));
    assert_eq!(err(&f(&c)).reason, Reason::BadChainName);
    let mut c = base();
    c.push(user(&"n".repeat(28), &[]));
    assert!(load(&f(&c)).is_ok());
    let mut c = base();
    c.push(nest(proto::TABLE_CHAIN, &[]));
    assert_err(&f(&c), Reason::MissingChainName, Some((3, "")), None);
    let mut c = base();
    c.push(nest(
        proto::TABLE_CHAIN,
        &[stra(proto::CHAIN_NAME, "u"), u32a(99, 0)],
    ));
    assert_eq!(err(&f(&c)).reason, Reason::UnknownAttribute);
    // Continuations.
    let mut c = base();
    c.push(continued("FORWARD", &[]));
    assert_err(&f(&c), Reason::BadContinuation, Some((3, "FORWARD")), None);
    let mut c = base();
    c.insert(0, continued("INPUT", &[]));
    assert_err(&f(&c), Reason::BadContinuation, Some((0, "INPUT")), None);
    let mut c = base();
    c.push(nest(
        proto::TABLE_CHAIN,
        &[
            stra(proto::CHAIN_NAME, "OUTPUT"),
            flag(proto::CHAIN_CONTINUED),
            u32a(proto::CHAIN_POLICY, 1),
        ],
    ));
    assert_err(
        &f(&c),
        Reason::ContinuedWithPolicy,
        Some((2, "OUTPUT")),
        None,
    );
    let mut c = base();
    c.push(continued("OUTPUT", &[rule(&[accept()])]));
    let o = ok(&f(&c));
    assert_eq!(o.table().chains()[2].rule_count(), 1);
}

#[test]
fn rule_errors() {
    let one =
        |parts: &[Vec<u8>]| filter_input(1, &[rule(&[accept()]), rule(parts)], &[user("u", &[])]);
    let check = |parts: &[Vec<u8>], reason: Reason| {
        assert_err(&one(parts), reason, Some((0, "INPUT")), Some(1));
    };
    check(&[jump("nope")], Reason::JumpToMissingChain);
    check(&[goto("OUTPUT")], Reason::JumpToBuiltin);
    check(&[tg(proto::TG_JUMP, &[])], Reason::MissingJumpChain);
    check(
        &[tg(proto::TG_ACCEPT, &[u32a(1, 1)])],
        Reason::UnknownOption,
    );
    check(&[tg(99, &[])], Reason::UnknownTarget);
    check(&[nest(proto::RULE_TARGET, &[])], Reason::MissingKind);
    check(&[accept(), drop_()], Reason::DuplicateTarget);
    check(&[mt(99, &[])], Reason::UnknownMatch);
    check(&[nest(proto::RULE_MATCH, &[])], Reason::MissingKind);
    check(&[u32a(99, 0)], Reason::UnknownAttribute);
    check(&[src([10, 0, 0, 1], [255, 0, 0, 0])], Reason::BadAddress);
    check(&[dst([10, 0, 0, 1], [0, 0, 0, 0])], Reason::BadAddress);
    check(&[in_if("")], Reason::BadInterface);
    check(&[in_if("0123456789abcdef")], Reason::BadInterface);
    check(&[inv(0x04)], Reason::BadFlags);
    check(
        &[attr(proto::RULE_SRC, &[1, 2, 3])],
        Reason::Malformed(NlaError::BadPayload),
    );
    check(
        &[stra(proto::RULE_IN_IFACE, "a\0b")],
        Reason::Malformed(NlaError::BadString),
    );
    // Too many matches in one rule.
    let many = vec![mt(proto::MT_MARK, &[u32a(proto::MARK_VALUE, 1)]); MAX_MATCHES_PER_RULE + 1];
    check(&many, Reason::TooManyMatches);
    assert!(load(&one(&many[1..])).is_ok());
    // Interface at 15 bytes is fine.
    assert!(load(&one(&[in_if("0123456789abcd+")])).is_ok());
}

#[test]
fn option_errors() {
    let check = |p: u8, m: Vec<u8>, reason: Reason| {
        let input = filter_input(1, &[rule(&[proto_(p), m])], &[]);
        assert_err(&input, reason, Some((0, "INPUT")), Some(0));
    };
    let t = IPPROTO_TCP;
    check(
        t,
        mt(proto::MT_TCP, &[u32a(proto::TCP_SPORTS, ports(10, 9))]),
        Reason::BadPortRange,
    );
    check(
        t,
        mt(proto::MT_TCP, &[u32a(proto::TCP_INVERT, 8)]),
        Reason::BadFlags,
    );
    check(t, mt(proto::MT_TCP, &[u32a(77, 8)]), Reason::UnknownOption);
    check(
        t,
        mt(proto::MT_TCP, &[u16::to_ne_bytes(1).to_vec()]),
        Reason::Malformed(NlaError::Truncated),
    );
    check(
        17,
        mt(proto::MT_UDP, &[u32a(proto::UDP_DPORTS, ports(2, 1))]),
        Reason::BadPortRange,
    );
    let mp = |n: usize, range: bool| {
        let mut o = vec![u32a(proto::MULTIPORT_MODE, proto::MULTIPORT_SOURCE)];
        for k in 0..n as u16 {
            o.push(u32a(
                proto::MULTIPORT_RANGE,
                ports(k * 10, k * 10 + u16::from(range)),
            ));
        }
        mt(proto::MT_MULTIPORT, &o)
    };
    check(t, mp(16, false), Reason::TooManyPorts);
    check(t, mp(8, true), Reason::TooManyPorts);
    check(t, mp(0, false), Reason::MissingOption);
    assert!(load(&filter_input(1, &[rule(&[proto_(t), mp(15, false)])], &[])).is_ok());
    assert!(load(&filter_input(1, &[rule(&[proto_(t), mp(7, true)])], &[])).is_ok());
    check(
        t,
        mt(proto::MT_MULTIPORT, &[u32a(proto::MULTIPORT_MODE, 3)]),
        Reason::BadMultiportMode,
    );
    check(1, mt(proto::MT_ICMP, &[]), Reason::MissingOption);
    check(
        1,
        mt(
            proto::MT_ICMP,
            &[
                u8a(proto::ICMP_TYPE, 3),
                u8a(proto::ICMP_CODE_MIN, 4),
                u8a(proto::ICMP_CODE_MAX, 3),
            ],
        ),
        Reason::BadIcmpCode,
    );
    check(
        0,
        mt(proto::MT_MAC, &[attr(proto::MAC_SOURCE, &[1, 2, 3, 4, 5])]),
        Reason::Malformed(NlaError::BadPayload),
    );
    check(0, mt(proto::MT_MAC, &[]), Reason::MissingOption);
    check(0, mt(proto::MT_MARK, &[]), Reason::MissingOption);
    check(0, mt(proto::MT_TOS, &[]), Reason::MissingOption);
    check(
        0,
        mt(proto::MT_DSCP, &[u8a(proto::DSCP_VALUE, 64)]),
        Reason::BadDscp,
    );
    check(
        0,
        mt(
            proto::MT_LENGTH,
            &[u32a(proto::LENGTH_RANGE, ports(100, 99))],
        ),
        Reason::BadLengthRange,
    );
    check(0, mt(proto::MT_LENGTH, &[]), Reason::MissingOption);
    check(
        0,
        mt(proto::MT_LIMIT, &[u32a(proto::LIMIT_AVG, 0)]),
        Reason::BadLimit,
    );
    check(
        0,
        mt(proto::MT_LIMIT, &[u32a(proto::LIMIT_BURST, 0)]),
        Reason::BadLimit,
    );
    check(
        0,
        mt(proto::MT_LIMIT, &[u32a(proto::LIMIT_BURST, 10_001)]),
        Reason::BadLimit,
    );
    check(0, mt(proto::MT_IPRANGE, &[]), Reason::MissingOption);
    check(
        0,
        mt(
            proto::MT_IPRANGE,
            &[attr(proto::IPRANGE_SRC_MIN, &[1, 1, 1, 1])],
        ),
        Reason::MissingOption,
    );
    check(
        0,
        mt(
            proto::MT_IPRANGE,
            &[
                attr(proto::IPRANGE_SRC_MIN, &[1, 1, 1, 2]),
                attr(proto::IPRANGE_SRC_MAX, &[1, 1, 1, 1]),
            ],
        ),
        Reason::BadIpRange,
    );
    check(
        0,
        mt(proto::MT_ADDRTYPE, &[u32a(proto::ADDRTYPE_SRC, 1 << 12)]),
        Reason::BadAddrType,
    );
    check(
        0,
        mt(proto::MT_ADDRTYPE, &[u32a(proto::ADDRTYPE_FLAGS, 0x0c)]),
        Reason::AddrTypeBothIfaces,
    );
    check(
        0,
        mt(proto::MT_ADDRTYPE, &[u32a(proto::ADDRTYPE_FLAGS, 0x10)]),
        Reason::BadFlags,
    );
    check(
        0,
        mt(proto::MT_RPFILTER, &[u32a(proto::RPFILTER_FLAGS, 0x10)]),
        Reason::BadFlags,
    );
    // Targets.
    let tcheck = |parts: Vec<Vec<u8>>, reason: Reason| {
        let input = filter_input(1, &[rule(&parts)], &[]);
        assert_err(&input, reason, Some((0, "INPUT")), Some(0));
    };
    tcheck(
        vec![tg(proto::TG_REJECT, &[u32a(proto::REJECT_WITH, 4)])],
        Reason::BadRejectWith,
    );
    tcheck(
        vec![tg(
            proto::TG_REJECT,
            &[u32a(proto::REJECT_WITH, proto::REJECT_TCP_RESET)],
        )],
        Reason::TcpResetNeedsTcp,
    );
    tcheck(
        vec![
            proto_(t),
            inv(proto::INV_PROTO),
            tg(
                proto::TG_REJECT,
                &[u32a(proto::REJECT_WITH, proto::REJECT_TCP_RESET)],
            ),
        ],
        Reason::TcpResetNeedsTcp,
    );
    tcheck(
        vec![tg(proto::TG_LOG, &[u8a(proto::LOG_LEVEL, 8)])],
        Reason::BadLogLevel,
    );
    tcheck(
        vec![tg(
            proto::TG_LOG,
            &[stra(proto::LOG_PREFIX, &"p".repeat(30))],
        )],
        Reason::LogPrefixTooLong,
    );
    tcheck(
        vec![tg(proto::TG_LOG, &[u32a(proto::LOG_FLAGS, 0x10)])],
        Reason::BadFlags,
    );
    assert!(load(&filter_input(
        1,
        &[rule(&[tg(
            proto::TG_LOG,
            &[stra(proto::LOG_PREFIX, &"p".repeat(29))]
        )])],
        &[]
    ))
    .is_ok());
    tcheck(vec![tg(proto::TG_DSCP, &[])], Reason::MissingOption);
    tcheck(
        vec![tg(proto::TG_DSCP, &[u8a(proto::SETDSCP_VALUE, 64)])],
        Reason::BadDscp,
    );
    tcheck(
        vec![tg(proto::TG_MARK, &[u32a(9, 1)])],
        Reason::UnknownOption,
    );
}

#[test]
fn protocol_requirements() {
    let check = |parts: Vec<Vec<u8>>, ok_: bool| {
        let r = load(&filter_input(1, &[rule(&parts)], &[]));
        match r {
            Ok(_) => assert!(ok_),
            Err(e) => {
                assert!(!ok_, "{e}");
                assert_eq!((e.reason, e.rule), (Reason::NeedsProtocol, Some(0)));
            }
        }
    };
    let tcpm = || mt(proto::MT_TCP, &[]);
    check(vec![tcpm()], false);
    check(vec![proto_(IPPROTO_UDP), tcpm()], false);
    check(
        vec![proto_(IPPROTO_TCP), inv(proto::INV_PROTO), tcpm()],
        false,
    );
    check(vec![proto_(IPPROTO_TCP), tcpm()], true);
    check(vec![proto_(IPPROTO_TCP), mt(proto::MT_UDP, &[])], false);
    check(vec![proto_(IPPROTO_UDP), mt(proto::MT_UDP, &[])], true);
    check(
        vec![
            proto_(IPPROTO_ICMP),
            mt(proto::MT_ICMP, &[u8a(proto::ICMP_TYPE, 8)]),
        ],
        true,
    );
    check(
        vec![
            proto_(IPPROTO_TCP),
            mt(proto::MT_ICMP, &[u8a(proto::ICMP_TYPE, 8)]),
        ],
        false,
    );
    let mp = || {
        mt(
            proto::MT_MULTIPORT,
            &[
                u32a(proto::MULTIPORT_MODE, 0),
                u32a(proto::MULTIPORT_RANGE, ports(1, 1)),
            ],
        )
    };
    check(vec![proto_(IPPROTO_TCP), mp()], true);
    check(vec![proto_(IPPROTO_UDP), mp()], true);
    check(vec![proto_(IPPROTO_ICMP), mp()], false);
    check(vec![mp()], false);
}

#[test]
fn loops() {
    let f = |users: &[Vec<u8>], input_rules: &[Vec<u8>]| filter_input(1, input_rules, users);
    // Direct.
    assert_err(
        &f(&[user("a", &[rule(&[jump("a")])])], &[]),
        Reason::Loop,
        Some((3, "a")),
        Some(0),
    );
    // Indirect, through a goto, reached from INPUT or not reachable.
    let abc = [
        user("a", &[rule(&[accept()]), rule(&[jump("b")])]),
        user("b", &[rule(&[goto("c")])]),
        user("c", &[rule(&[]), rule(&[]), rule(&[jump("a")])]),
    ];
    assert_err(&f(&abc, &[]), Reason::Loop, Some((5, "c")), Some(2));
    // From INPUT: INPUT -> b -> c -> a, whose jump back to b closes it.
    assert_err(
        &f(&abc, &[rule(&[jump("b")])]),
        Reason::Loop,
        Some((3, "a")),
        Some(1),
    );
    // Goto only.
    let gg = [
        user("x", &[rule(&[goto("y")])]),
        user("y", &[rule(&[goto("x")])]),
    ];
    assert_err(&f(&gg, &[]), Reason::Loop, Some((4, "y")), Some(0));
    // A diamond is no loop.
    let diamond = [
        user("a", &[rule(&[jump("b")]), rule(&[jump("c")])]),
        user("b", &[rule(&[jump("d")])]),
        user("c", &[rule(&[goto("d")])]),
        user("d", &[]),
    ];
    let o = ok(&f(&diamond, &[rule(&[jump("a")]), rule(&[jump("d")])]));
    let t = o.table();
    let depth = |n: &str| t.chains()[usize::from(t.chain_by_name(n).unwrap())].depth();
    assert_eq!(
        (depth("a"), depth("b"), depth("c"), depth("d")),
        (1, 2, 2, 3)
    );
    assert_eq!(t.info().max_depth, 3);
    // Ranks go down along every jump.
    for c in t.chains() {
        for r in t.rules_of(c) {
            if let Some(to) = r.target().chain() {
                assert!(t.chains()[usize::from(to)].rank < c.rank);
            }
        }
    }
}

/// A chain of `n` user chains c0 -> c1 -> ... each jumping (or going) to
/// the next.
fn ladder(n: usize, goto_every: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|k| {
            let name = std::format!("c{k:03}");
            if k + 1 == n {
                user(&name, &[rule(&[accept()])])
            } else {
                let next = std::format!("c{:03}", k + 1);
                let t = if goto_every != 0 && k % goto_every == 0 {
                    goto(&next)
                } else {
                    jump(&next)
                };
                user(&name, &[rule(&[t])])
            }
        })
        .collect()
}

#[test]
fn depth_limit() {
    let o = ok(&filter_input(
        1,
        &[rule(&[jump("c000")])],
        &ladder(MAX_DEPTH, 0),
    ));
    assert_eq!(usize::from(o.table().info().max_depth), MAX_DEPTH);
    let (v, ctx) = run(&o, Hook::LocalIn, &udp(1, 1));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.counts.len(), MAX_DEPTH + 1);
    let e = err(&filter_input(
        1,
        &[rule(&[jump("c000")])],
        &ladder(MAX_DEPTH + 1, 0),
    ));
    assert_eq!(e.reason, Reason::TooDeep);
    assert_eq!(e.chain_name.as_str(), "c063");
    assert_eq!(e.rule, Some(0));
    // Gotos do not nest.
    let o = ok(&filter_input(1, &[rule(&[jump("c000")])], &ladder(120, 2)));
    assert_eq!(o.table().info().max_depth, 60);
    assert_eq!(run(&o, Hook::LocalIn, &udp(1, 1)).0, Verdict::Accept);
}

#[test]
fn hook_restrictions() {
    // -i at OUTPUT, directly and through a jump and a goto.
    let out = |rules: &[Vec<u8>], users: &[Vec<u8>]| {
        let mut c = vec![
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 1, &[]),
            builtin("OUTPUT", 1, rules),
        ];
        c.extend(users.iter().cloned());
        table("filter", &c)
    };
    assert_err(
        &out(&[rule(&[in_if("eth0")])], &[]),
        Reason::InIfaceOnOutput,
        Some((2, "OUTPUT")),
        Some(0),
    );
    assert!(load(&out(&[rule(&[out_if("eth0")])], &[])).is_ok());
    let u = [user("u", &[rule(&[]), rule(&[in_if("eth+")])])];
    assert!(load(&out(&[], &u)).is_ok(), "unreachable chain");
    assert_err(
        &out(&[rule(&[jump("u")])], &u),
        Reason::InIfaceOnOutput,
        Some((3, "u")),
        Some(1),
    );
    let uv = [
        user("u", &[rule(&[goto("v")])]),
        user("v", &[rule(&[in_if("lo")])]),
    ];
    assert_err(
        &out(&[rule(&[jump("u")])], &uv),
        Reason::InIfaceOnOutput,
        Some((4, "v")),
        Some(0),
    );
    // -o at INPUT and PREROUTING; both fine at FORWARD.
    assert_err(
        &filter_input(1, &[rule(&[out_if("eth0")])], &[]),
        Reason::OutIfaceOnInput,
        Some((0, "INPUT")),
        Some(0),
    );
    let mangle = |pre: &[Vec<u8>], users: &[Vec<u8>]| {
        let mut c = vec![builtin("PREROUTING", 1, pre)];
        for h in ["INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] {
            c.push(builtin(h, 1, &[]));
        }
        c.extend(users.iter().cloned());
        table("mangle", &c)
    };
    assert_err(
        &mangle(&[rule(&[out_if("eth0")])], &[]),
        Reason::OutIfaceOnInput,
        Some((0, "PREROUTING")),
        Some(0),
    );
    let fwd = table(
        "filter",
        &[
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 1, &[rule(&[in_if("a"), out_if("b")])]),
            builtin("OUTPUT", 1, &[]),
        ],
    );
    assert!(load(&fwd).is_ok());
    // TOS/DSCP only in mangle; REJECT only in filter; rpfilter only in
    // raw/mangle PREROUTING; mac not after routing.
    let settos = || tg(proto::TG_TOS, &[u8a(proto::SETTOS_VALUE, 8)]);
    assert_err(
        &filter_input(1, &[rule(&[settos()])], &[]),
        Reason::WrongTable,
        Some((0, "INPUT")),
        Some(0),
    );
    assert_err(
        &filter_input(
            1,
            &[rule(&[tg(proto::TG_DSCP, &[u8a(proto::SETDSCP_VALUE, 1)])])],
            &[],
        ),
        Reason::WrongTable,
        Some((0, "INPUT")),
        Some(0),
    );
    assert!(load(&mangle(&[rule(&[settos()])], &[])).is_ok());
    assert_err(
        &mangle(&[rule(&[tg(proto::TG_REJECT, &[])])], &[]),
        Reason::WrongTable,
        Some((0, "PREROUTING")),
        Some(0),
    );
    // A REJECT in an unreachable mangle chain is still in the wrong table.
    assert_err(
        &mangle(&[], &[user("u", &[rule(&[tg(proto::TG_REJECT, &[])])])]),
        Reason::WrongTable,
        Some((5, "u")),
        Some(0),
    );
    let rpf = || mt(proto::MT_RPFILTER, &[]);
    assert!(load(&mangle(&[rule(&[rpf()])], &[])).is_ok());
    assert_err(
        &filter_input(1, &[rule(&[rpf()])], &[]),
        Reason::WrongTable,
        Some((0, "INPUT")),
        Some(0),
    );
    let u = [user("u", &[rule(&[rpf()])])];
    assert!(load(&mangle(&[rule(&[jump("u")])], &u)).is_ok());
    let mut c = vec![builtin("PREROUTING", 1, &[rule(&[jump("u")])])];
    c.push(builtin("INPUT", 1, &[rule(&[jump("u")])]));
    for h in ["FORWARD", "OUTPUT", "POSTROUTING"] {
        c.push(builtin(h, 1, &[]));
    }
    c.extend(u.iter().cloned());
    assert_err(
        &table("mangle", &c),
        Reason::WrongHook,
        Some((5, "u")),
        Some(0),
    );
    let mac = || mt(proto::MT_MAC, &[attr(proto::MAC_SOURCE, &[0; 6])]);
    assert!(load(&filter_input(1, &[rule(&[mac()])], &[])).is_ok());
    assert_err(
        &out(&[rule(&[mac()])], &[]),
        Reason::WrongHook,
        Some((2, "OUTPUT")),
        Some(0),
    );
    // addrtype interface limits.
    let at = |f: u32| {
        mt(
            proto::MT_ADDRTYPE,
            &[u32a(proto::ADDRTYPE_SRC, 4), u32a(proto::ADDRTYPE_FLAGS, f)],
        )
    };
    assert!(load(&filter_input(
        1,
        &[rule(&[at(proto::ADDRTYPE_F_LIMIT_IFACE_IN)])],
        &[]
    ))
    .is_ok());
    assert_err(
        &filter_input(1, &[rule(&[at(proto::ADDRTYPE_F_LIMIT_IFACE_OUT)])], &[]),
        Reason::WrongHook,
        Some((0, "INPUT")),
        Some(0),
    );
    assert_err(
        &out(&[rule(&[at(proto::ADDRTYPE_F_LIMIT_IFACE_IN)])], &[]),
        Reason::WrongHook,
        Some((2, "OUTPUT")),
        Some(0),
    );
}

#[test]
fn storage_too_small() {
    let input = filter_input(
        1,
        &[rule(&[mt(proto::MT_MARK, &[u32a(proto::MARK_VALUE, 1)])])],
        &[],
    );
    let s = measure(&input).unwrap();
    let mut chains = vec![Chain::default(); s.chains];
    let mut rules = vec![Rule::default(); s.rules];
    let mut matches = vec![];
    let r = decode(
        &input,
        Storage {
            chains: &mut chains,
            rules: &mut rules,
            matches: &mut matches,
        },
    );
    assert_eq!(r.unwrap_err().reason, Reason::StorageTooSmall);
    // Larger storage is fine and only the measured part is used.
    let mut chains = vec![Chain::default(); 10];
    let mut rules = vec![Rule::default(); 10];
    let mut matches = vec![Match::default(); 10];
    let t = decode(
        &input,
        Storage {
            chains: &mut chains,
            rules: &mut rules,
            matches: &mut matches,
        },
    )
    .unwrap();
    assert_eq!(
        (t.chains().len(), t.rules().len(), t.all_matches().len()),
        (3, 1, 1)
    );
    let info = *t.info();
    assert!(Table::new(&info, &chains[..3], &rules[..1], &matches[..2]).is_none());
    assert!(Table::new(&info, &chains[..3], &rules[..1], &matches[..1]).is_some());
}

#[test]
fn every_reason_has_a_message() {
    let all = [
        Reason::Malformed(NlaError::Truncated),
        Reason::UnknownAttribute,
        Reason::MissingTableName,
        Reason::UnknownTable,
        Reason::TableMismatch,
        Reason::MissingChainName,
        Reason::BadChainName,
        Reason::DuplicateChain,
        Reason::MissingBuiltinChain,
        Reason::MissingPolicy,
        Reason::PolicyOnUserChain,
        Reason::BadPolicy,
        Reason::BadContinuation,
        Reason::ContinuedWithPolicy,
        Reason::TooManyChains,
        Reason::TooManyRules,
        Reason::TooManyMatches,
        Reason::StorageTooSmall,
        Reason::BadInterface,
        Reason::BadAddress,
        Reason::BadFlags,
        Reason::MissingKind,
        Reason::UnknownMatch,
        Reason::UnknownTarget,
        Reason::DuplicateTarget,
        Reason::UnknownOption,
        Reason::MissingOption,
        Reason::BadPortRange,
        Reason::TooManyPorts,
        Reason::BadMultiportMode,
        Reason::BadIcmpCode,
        Reason::BadDscp,
        Reason::BadLengthRange,
        Reason::BadLimit,
        Reason::BadIpRange,
        Reason::BadAddrType,
        Reason::AddrTypeBothIfaces,
        Reason::BadRejectWith,
        Reason::BadLogLevel,
        Reason::LogPrefixTooLong,
        Reason::NeedsProtocol,
        Reason::MissingNatAddress,
        Reason::BadNatRange,
        Reason::NatPortsNeedProtocol,
        Reason::BadQueueRange,
        Reason::FanoutNeedsBalance,
        Reason::TcpResetNeedsTcp,
        Reason::MissingJumpChain,
        Reason::JumpToMissingChain,
        Reason::JumpToBuiltin,
        Reason::Loop,
        Reason::TooDeep,
        Reason::WrongTable,
        Reason::WrongHook,
        Reason::InIfaceOnOutput,
        Reason::OutIfaceOnInput,
    ];
    let mut seen = std::collections::BTreeSet::new();
    for r in all {
        assert!(!r.message().is_empty());
        assert!(seen.insert(r.message()), "{r:?}");
    }
    let e = RuleError {
        table: ChainName::new("filter").unwrap(),
        chain: Some(3),
        chain_name: ChainName::new("u").unwrap(),
        rule: Some(0),
        reason: Reason::Loop,
    };
    assert_eq!(
        std::format!("{e}"),
        "table filter, chain u, rule 1: loop in the chain jumps"
    );
    assert_eq!(e.message(), "loop in the chain jumps");
}

// ---------------------------------------------------------------------
// Evaluation.

#[test]
fn first_match_and_counters() {
    let input = filter_input(
        0,
        &[
            rule(&[proto_(IPPROTO_UDP)]),
            rule(&[proto_(IPPROTO_TCP), drop_()]),
            rule(&[proto_(IPPROTO_UDP), accept()]),
            rule(&[proto_(IPPROTO_UDP), drop_()]),
        ],
        &[],
    );
    let o = ok(&input);
    let (v, ctx) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.counts, BTreeMap::from([(0, (1, 40)), (2, (1, 40))]));
    let (v, ctx) = run(&o, Hook::LocalIn, &tcp(1, 2, 0));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(ctx.counts, BTreeMap::from([(1, (1, 60))]));
    // Nothing matches: policy DROP, counted at the policy counter.
    let (v, ctx) = run(&o, Hook::LocalIn, &icmp(8, 0));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(
        ctx.counts,
        BTreeMap::from([(o.table().policy_counter(0), (1, 84))])
    );
    // Other hooks: empty ACCEPT chains; a hook without a chain accepts
    // and counts nothing.
    let (v, ctx) = run(&o, Hook::LocalOut, &icmp(8, 0));
    assert_eq!((v, ctx.counts.len()), (Verdict::Accept, 1));
    assert_eq!(ctx.counts.keys().next(), Some(&o.table().policy_counter(2)));
    let (v, ctx) = run(&o, Hook::PreRouting, &icmp(8, 0));
    assert_eq!((v, ctx.counts.len()), (Verdict::Accept, 0));
}

#[test]
fn jump_goto_return() {
    let users = [
        // a: marks 1, jumps to b, marks 3, then falls off its end.
        user(
            "a",
            &[
                rule(&[tg(
                    proto::TG_MARK,
                    &[u32a(proto::SETMARK_VALUE, 1), u32a(proto::SETMARK_MASK, 0)],
                )]),
                rule(&[jump("b")]),
                rule(&[tg(
                    proto::TG_MARK,
                    &[u32a(proto::SETMARK_VALUE, 4), u32a(proto::SETMARK_MASK, 0)],
                )]),
            ],
        ),
        // b: goes to c (no return point).
        user("b", &[rule(&[goto("c")]), rule(&[drop_()])]),
        // c: RETURN for udp (back to a, not b), ACCEPT for tcp.
        user(
            "c",
            &[
                rule(&[proto_(IPPROTO_UDP), ret()]),
                rule(&[proto_(IPPROTO_TCP), accept()]),
            ],
        ),
    ];
    let input = filter_input(
        0,
        &[
            rule(&[jump("a")]),
            rule(&[mt(proto::MT_MARK, &[u32a(proto::MARK_VALUE, 5)]), accept()]),
        ],
        &users,
    );
    let o = ok(&input);
    let t = o.table();
    let idx = |chain: &str, pos: u32| {
        t.chains()[usize::from(t.chain_by_name(chain).unwrap())].first_rule() + pos
    };
    let (v, ctx) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.marks, [1, 5]);
    let expect: BTreeMap<u32, (u64, u64)> = [
        idx("INPUT", 0),
        idx("a", 0),
        idx("a", 1),
        idx("b", 0),
        idx("c", 0),
        idx("a", 2),
        idx("INPUT", 1),
    ]
    .into_iter()
    .map(|i| (i, (1, 40)))
    .collect();
    assert_eq!(ctx.counts, expect);
    let (v, ctx) = run(&o, Hook::LocalIn, &tcp(1, 2, 0));
    assert_eq!((v, ctx.marks.as_slice()), (Verdict::Accept, &[1][..]));
    assert!(ctx.counts.contains_key(&idx("c", 1)));
    // ICMP: c falls off its end: back to a (after the jump into b).
    let (v, ctx) = run(&o, Hook::LocalIn, &icmp(0, 0));
    assert_eq!((v, ctx.marks.as_slice()), (Verdict::Accept, &[1, 5][..]));
    assert!(!ctx.counts.contains_key(&idx("b", 1)));

    // RETURN in a built-in chain, and a goto from one falling off the end
    // of the user chain: the policy.
    let input = filter_input(
        0,
        &[
            rule(&[proto_(IPPROTO_UDP), ret()]),
            rule(&[goto("g")]),
            rule(&[accept()]),
        ],
        &[user("g", &[])],
    );
    let o = ok(&input);
    let (v, ctx) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(
        ctx.counts,
        BTreeMap::from([(0, (1, 40)), (o.table().policy_counter(0), (1, 40))])
    );
    let (v, ctx) = run(&o, Hook::LocalIn, &tcp(1, 2, 0));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(
        ctx.counts,
        BTreeMap::from([(1, (1, 60)), (o.table().policy_counter(0), (1, 60))])
    );
}

#[test]
fn non_terminal_targets_and_reject() {
    let mangle = |pre: &[Vec<u8>]| {
        let mut c = vec![builtin("PREROUTING", 1, pre)];
        for h in ["INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] {
            c.push(builtin(h, 1, &[]));
        }
        table("mangle", &c)
    };
    let o = ok(&mangle(&[
        rule(&[tg(proto::TG_LOG, &[stra(proto::LOG_PREFIX, "one ")])]),
        rule(&[tg(
            proto::TG_TOS,
            &[
                u8a(proto::SETTOS_VALUE, 0x10),
                u8a(proto::SETTOS_MASK, 0xff),
            ],
        )]),
        rule(&[
            mt(proto::MT_TOS, &[u8a(proto::TOS_VALUE, 0x10)]),
            tg(proto::TG_DSCP, &[u8a(proto::SETDSCP_VALUE, 46)]),
        ]),
        rule(&[
            mt(proto::MT_DSCP, &[u8a(proto::DSCP_VALUE, 46)]),
            tg(proto::TG_LOG, &[stra(proto::LOG_PREFIX, "two ")]),
        ]),
        rule(&[mt(proto::MT_DSCP, &[u8a(proto::DSCP_VALUE, 46)]), drop_()]),
    ]));
    let (v, ctx) = run(&o, Hook::PreRouting, &udp(1, 2));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(ctx.logs, ["one ", "two "]);
    assert_eq!(ctx.tos, [0x10, 46 << 2]);
    assert_eq!(ctx.counts.len(), 5);
    // A TOS target that changes nothing does not call the context.
    let o = ok(&mangle(&[rule(&[tg(
        proto::TG_TOS,
        &[u8a(proto::SETTOS_VALUE, 0), u8a(proto::SETTOS_MASK, 0x0f)],
    )])]));
    assert!(run(&o, Hook::PreRouting, &udp(1, 2)).1.tos.is_empty());

    for w in RejectWith::ALL {
        let mut parts = vec![];
        if w == RejectWith::TcpReset {
            parts.push(proto_(IPPROTO_TCP));
        }
        parts.push(tg(
            proto::TG_REJECT,
            &[u32a(proto::REJECT_WITH, w.number())],
        ));
        let o = ok(&filter_input(1, &[rule(&parts)], &[]));
        let (v, ctx) = run(&o, Hook::LocalIn, &tcp(1, 2, 0));
        assert_eq!((v, ctx.rejects.as_slice()), (Verdict::Drop, &[w][..]));
    }
}

#[test]
fn mark_target_forms() {
    use targets::mark::SetMark;
    let x = |v, m| SetMark { value: v, mask: m };
    assert_eq!(x(0x5, 0xffff_ffff).apply(0xabcd), 0x5);
    assert_eq!(SetMark::set(0x5, 0xf).apply(0xabcd), 0xabc5);
    assert_eq!(x(0, !0x3).apply(0xff), 0x3); // --and-mark 3
    assert_eq!(x(0x100, 0x100).apply(0xff), 0x1ff); // --or-mark
    assert_eq!(x(0xf, 0).apply(0xff), 0xf0); // --xor-mark
    use targets::tos::SetTos;
    assert_eq!(
        SetTos {
            value: 0x08,
            mask: 0xff
        }
        .apply(0x12),
        0x08
    );
    assert_eq!(
        SetTos {
            value: 0x08,
            mask: 0x0f
        }
        .apply(0x12),
        0x18
    );
    assert_eq!(targets::dscp::SetDscp { value: 46 }.apply(0x03), 0xbb);
}

// ---------------------------------------------------------------------
// Matches: positive, negative, inverted.

#[test]
fn ip_part() {
    let p = udp(1, 2);
    assert!(hit(&[src([10, 0, 0, 0], [255, 0, 0, 0])], &p));
    assert!(!hit(
        &[src([10, 0, 0, 0], [255, 0, 0, 0]), inv(proto::INV_SRC)],
        &p
    ));
    assert!(!hit(&[src([11, 0, 0, 0], [255, 0, 0, 0])], &p));
    assert!(hit(
        &[src([11, 0, 0, 0], [255, 0, 0, 0]), inv(proto::INV_SRC)],
        &p
    ));
    assert!(hit(&[dst([10, 0, 0, 2], [255; 4])], &p));
    assert!(!hit(&[dst([10, 0, 0, 3], [255; 4])], &p));
    assert!(hit(
        &[dst([10, 0, 0, 3], [255; 4]), inv(proto::INV_DST)],
        &p
    ));
    // -i exact, prefix, '+' alone, inverted; OUT empty.
    assert!(hit(&[in_if("eth0")], &p));
    assert!(!hit(&[in_if("eth")], &p));
    assert!(!hit(&[in_if("eth00")], &p));
    assert!(hit(&[in_if("eth+")], &p));
    assert!(hit(&[in_if("+")], &p));
    assert!(!hit(&[in_if("wlan+")], &p));
    assert!(hit(&[in_if("wlan+"), inv(proto::INV_IN_IFACE)], &p));
    assert!(!hit(&[in_if("eth0"), inv(proto::INV_IN_IFACE)], &p));
    // -p and !.
    assert!(hit(&[proto_(IPPROTO_UDP)], &p));
    assert!(!hit(&[proto_(IPPROTO_TCP)], &p));
    assert!(hit(&[proto_(IPPROTO_TCP), inv(proto::INV_PROTO)], &p));
    assert!(hit(&[proto_(0)], &p));
    assert!(hit(&[proto_(47)], &fragment(47)));
    // -f: only later fragments; ! -f the others.
    let f = [flag(proto::RULE_FRAGMENT)];
    assert!(!hit(&f, &p));
    assert!(hit(&f, &fragment(IPPROTO_UDP)));
    let nf = [flag(proto::RULE_FRAGMENT), inv(proto::INV_FRAGMENT)];
    assert!(hit(&nf, &p));
    assert!(!hit(&nf, &fragment(IPPROTO_UDP)));
    // Output interface, in FORWARD.
    let o = ok(&table(
        "filter",
        &[
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 0, &[rule(&[out_if("eth1"), accept()])]),
            builtin("OUTPUT", 1, &[]),
        ],
    ));
    let mut q = p;
    q.out_dev = DevName::new(b"eth1");
    assert_eq!(run(&o, Hook::Forward, &q).0, Verdict::Accept);
    assert_eq!(run(&o, Hook::Forward, &p).0, Verdict::Drop);
}

#[test]
fn tcp_udp_ports_and_flags() {
    let t = |opts: &[Vec<u8>]| vec![proto_(IPPROTO_TCP), mt(proto::MT_TCP, opts)];
    let p = tcp(40000, 22, TcpHeader::SYN);
    assert!(hit(&t(&[]), &p));
    assert!(hit(&t(&[u32a(proto::TCP_DPORTS, ports(22, 22))]), &p));
    assert!(!hit(&t(&[u32a(proto::TCP_DPORTS, ports(23, 23))]), &p));
    assert!(hit(
        &t(&[
            u32a(proto::TCP_DPORTS, ports(23, 23)),
            u32a(proto::TCP_INVERT, 2)
        ]),
        &p
    ));
    assert!(hit(&t(&[u32a(proto::TCP_SPORTS, ports(1024, 65535))]), &p));
    assert!(!hit(
        &t(&[
            u32a(proto::TCP_SPORTS, ports(1024, 65535)),
            u32a(proto::TCP_INVERT, 1)
        ]),
        &p
    ));
    assert!(hit(&t(&[u32a(proto::TCP_SPORTS, ports(40000, 40000))]), &p));
    assert!(!hit(&t(&[u32a(proto::TCP_SPORTS, ports(0, 39999))]), &p));
    // --syn.
    let syn = [
        u8a(proto::TCP_FLAGS_MASK, 0x17),
        u8a(proto::TCP_FLAGS_COMP, 0x02),
    ];
    assert!(hit(&t(&syn), &p));
    assert!(!hit(&t(&syn), &tcp(1, 22, TcpHeader::SYN | TcpHeader::ACK)));
    let mut nsyn = syn.to_vec();
    nsyn.push(u32a(proto::TCP_INVERT, 4));
    assert!(!hit(&t(&nsyn), &p));
    assert!(hit(&t(&nsyn), &tcp(1, 22, TcpHeader::ACK)));
    // --tcp-flags ALL NONE.
    let none = [
        u8a(proto::TCP_FLAGS_MASK, 0x3f),
        u8a(proto::TCP_FLAGS_COMP, 0),
    ];
    assert!(hit(&t(&none), &tcp(1, 2, 0)));
    assert!(!hit(&t(&none), &tcp(1, 2, TcpHeader::FIN)));
    // A later fragment never matches, inverted or not.
    assert!(!hit(
        &t(&[u32a(proto::TCP_INVERT, 3)]),
        &fragment(IPPROTO_TCP)
    ));
    let u = |opts: &[Vec<u8>]| vec![proto_(IPPROTO_UDP), mt(proto::MT_UDP, opts)];
    let q = udp(5353, 53);
    assert!(hit(&u(&[u32a(proto::UDP_DPORTS, ports(53, 53))]), &q));
    assert!(!hit(
        &u(&[
            u32a(proto::UDP_DPORTS, ports(53, 53)),
            u32a(proto::UDP_INVERT, 2)
        ]),
        &q
    ));
    assert!(!hit(&u(&[u32a(proto::UDP_SPORTS, ports(1, 1024))]), &q));
    assert!(hit(
        &u(&[
            u32a(proto::UDP_SPORTS, ports(1, 1024)),
            u32a(proto::UDP_INVERT, 1)
        ]),
        &q
    ));
}

#[test]
fn multiport_match() {
    let m = |mode: u32, list: &[(u16, u16)], invert: bool| {
        let mut o = vec![u32a(proto::MULTIPORT_MODE, mode)];
        for &(a, b) in list {
            o.push(u32a(proto::MULTIPORT_RANGE, ports(a, b)));
        }
        if invert {
            o.push(flag(proto::MULTIPORT_INVERT));
        }
        vec![proto_(IPPROTO_TCP), mt(proto::MT_MULTIPORT, &o)]
    };
    let p = tcp(40000, 443, 0);
    let web = [(80, 80), (443, 443), (8000, 8080)];
    assert!(hit(&m(proto::MULTIPORT_DESTINATION, &web, false), &p));
    assert!(!hit(&m(proto::MULTIPORT_DESTINATION, &web, true), &p));
    assert!(!hit(&m(proto::MULTIPORT_SOURCE, &web, false), &p));
    assert!(hit(&m(proto::MULTIPORT_SOURCE, &web, true), &p));
    assert!(hit(
        &m(proto::MULTIPORT_EITHER, &[(39000, 41000)], false),
        &p
    ));
    assert!(hit(
        &m(proto::MULTIPORT_DESTINATION, &web, false),
        &tcp(1, 8050, 0)
    ));
    assert!(!hit(
        &m(proto::MULTIPORT_DESTINATION, &web, false),
        &tcp(1, 8081, 0)
    ));
    // UDP too.
    let mut r = m(proto::MULTIPORT_DESTINATION, &[(53, 53)], false);
    r[0] = proto_(IPPROTO_UDP);
    assert!(hit(&r, &udp(1, 53)));
}

#[test]
fn icmp_match() {
    let m = |ty: u8, codes: Option<(u8, u8)>, invert: bool| {
        let mut o = vec![u8a(proto::ICMP_TYPE, ty)];
        if let Some((a, b)) = codes {
            o.push(u8a(proto::ICMP_CODE_MIN, a));
            o.push(u8a(proto::ICMP_CODE_MAX, b));
        }
        if invert {
            o.push(flag(proto::ICMP_INVERT));
        }
        vec![proto_(IPPROTO_ICMP), mt(proto::MT_ICMP, &o)]
    };
    assert!(hit(&m(8, None, false), &icmp(8, 0)));
    assert!(!hit(&m(8, None, false), &icmp(0, 0)));
    assert!(hit(&m(8, None, true), &icmp(0, 0)));
    assert!(hit(&m(3, Some((3, 3)), false), &icmp(3, 3)));
    assert!(!hit(&m(3, Some((3, 3)), false), &icmp(3, 1)));
    assert!(hit(&m(3, Some((3, 3)), true), &icmp(3, 1)));
    assert!(hit(&m(0xff, None, false), &icmp(13, 0)));
    assert!(!hit(&m(0xff, None, true), &icmp(13, 0)));
}

/// A packet of protocol `protocol` whose transport header is cut short
/// before its ports.
fn truncated(protocol: u8) -> PacketInfo {
    info(Packet {
        ip: ipv4(protocol, [10, 0, 0, 1], [10, 0, 0, 2], 30),
        transport: Transport::Truncated { ports: None },
    })
}

#[test]
fn truncated_transport_hot_drop() {
    // As ip_tables: rules that do not read the transport header see the
    // packet as any other; the first match that needs it drops the packet
    // (hotdrop) without counting its rule, whatever comes after.
    let mark = tg(
        proto::TG_MARK,
        &[u32a(proto::SETMARK_VALUE, 7), u32a(proto::SETMARK_MASK, !0)],
    );
    let input = filter_input(
        1,
        &[
            // 0: protocol only: matches, counted, marks and goes on.
            rule(&[proto_(IPPROTO_TCP), mark.clone()]),
            // 1: an address that differs: no match, no drop.
            rule(&[
                src([10, 9, 9, 9], [255, 255, 255, 255]),
                proto_(IPPROTO_TCP),
                mt(proto::MT_TCP, &[u32a(proto::TCP_DPORTS, ports(22, 22))]),
                accept(),
            ]),
            // 2: the tcp match needs the header: hot drop here.
            rule(&[
                proto_(IPPROTO_TCP),
                mt(proto::MT_TCP, &[u32a(proto::TCP_DPORTS, ports(22, 22))]),
                accept(),
            ]),
            // 3: never reached by a truncated TCP packet.
            rule(&[proto_(IPPROTO_TCP), accept()]),
            // 4: UDP: protocol and the udp match.
            rule(&[
                proto_(IPPROTO_UDP),
                mt(proto::MT_UDP, &[u32a(proto::UDP_DPORTS, ports(53, 53))]),
                accept(),
            ]),
            // 5: ICMP without the icmp match: accepted.
            rule(&[proto_(IPPROTO_ICMP), accept()]),
        ],
        &[],
    );
    let o = ok(&input);
    let (v, ctx) = run(&o, Hook::LocalIn, &truncated(IPPROTO_TCP));
    assert_eq!(v, Verdict::Drop);
    assert_eq!(ctx.counts, BTreeMap::from([(0, (1, 30))]));
    assert_eq!(ctx.marks, vec![7]);
    // A whole TCP packet to another port passes rule 2 and is accepted at 3.
    let (v, ctx) = run(&o, Hook::LocalIn, &tcp(1, 80, 0));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.counts.keys().copied().collect::<Vec<_>>(), vec![0, 3]);
    // UDP: hot-dropped at rule 4, nothing counted.
    let (v, ctx) = run(&o, Hook::LocalIn, &truncated(IPPROTO_UDP));
    assert_eq!((v, ctx.counts.len()), (Verdict::Drop, 0));
    // ICMP: no rule reads its header: accepted at 5 and counted.
    let (v, ctx) = run(&o, Hook::LocalIn, &truncated(IPPROTO_ICMP));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.counts, BTreeMap::from([(5, (1, 30))]));
    // Each match kind that reads the header drops; an earlier match that
    // fails does not (the drop is at the match, in order).
    let t = IPPROTO_TCP;
    for (p, m) in [
        (t, mt(proto::MT_TCP, &[])),
        (IPPROTO_UDP, mt(proto::MT_UDP, &[])),
        (
            IPPROTO_ICMP,
            mt(proto::MT_ICMP, &[u8a(proto::ICMP_TYPE, 0xff)]),
        ),
        (
            t,
            mt(
                proto::MT_MULTIPORT,
                &[
                    u32a(proto::MULTIPORT_MODE, proto::MULTIPORT_EITHER),
                    u32a(proto::MULTIPORT_RANGE, ports(1, 2)),
                ],
            ),
        ),
    ] {
        let one = |parts: &[Vec<u8>]| {
            let mut r = parts.to_vec();
            r.push(accept());
            ok(&filter_input(1, &[rule(&r)], &[]))
        };
        let o = one(&[proto_(p), m.clone()]);
        assert_eq!(
            run(&o, Hook::LocalIn, &truncated(p)).0,
            Verdict::Drop,
            "{p}"
        );
        let mark_first = mt(
            proto::MT_MARK,
            &[u32a(proto::MARK_VALUE, 9), u32a(proto::MARK_MASK, !0)],
        );
        let o = one(&[proto_(p), mark_first, m]);
        let (v, ctx) = run(&o, Hook::LocalIn, &truncated(p));
        assert_eq!((v, ctx.counts.len()), (Verdict::Accept, 1), "{p}");
    }
    // With its first four bytes, multiport reads the ports (it needs no
    // more); the tcp match still drops.
    let mut cut = truncated(IPPROTO_TCP);
    cut.pkt.l4 = L4::Truncated {
        ports: Some((40000, 80)),
    };
    let mp = |port: u16| {
        mt(
            proto::MT_MULTIPORT,
            &[
                u32a(proto::MULTIPORT_MODE, proto::MULTIPORT_DESTINATION),
                u32a(proto::MULTIPORT_RANGE, ports(port, port)),
            ],
        )
    };
    assert!(hit(&[proto_(IPPROTO_TCP), mp(80)], &cut));
    assert!(!hit(&[proto_(IPPROTO_TCP), mp(81)], &cut));
    let o = ok(&filter_input(
        1,
        &[rule(&[
            proto_(IPPROTO_TCP),
            mt(proto::MT_TCP, &[]),
            accept(),
        ])],
        &[],
    ));
    assert_eq!(run(&o, Hook::LocalIn, &cut).0, Verdict::Drop);
}

#[test]
fn mac_mark_tos_dscp_length() {
    let p = udp(1, 2);
    let mac = |a: [u8; 6], invert: bool| {
        let mut o = vec![attr(proto::MAC_SOURCE, &a)];
        if invert {
            o.push(flag(proto::MAC_INVERT));
        }
        vec![mt(proto::MT_MAC, &o)]
    };
    assert!(hit(&mac([2, 0, 0, 0, 0, 1], false), &p));
    assert!(!hit(&mac([2, 0, 0, 0, 0, 2], false), &p));
    assert!(hit(&mac([2, 0, 0, 0, 0, 2], true), &p));
    let mut nomac = p;
    nomac.mac_src = None;
    assert!(!hit(&mac([2, 0, 0, 0, 0, 2], true), &nomac));

    let mark = |v: u32, m: Option<u32>, invert: bool| {
        let mut o = vec![u32a(proto::MARK_VALUE, v)];
        if let Some(m) = m {
            o.push(u32a(proto::MARK_MASK, m));
        }
        if invert {
            o.push(flag(proto::MARK_INVERT));
        }
        vec![mt(proto::MT_MARK, &o)]
    };
    let mut q = p;
    q.mark = 0x1234;
    assert!(hit(&mark(0x1234, None, false), &q));
    assert!(!hit(&mark(0x34, None, false), &q));
    assert!(hit(&mark(0x34, Some(0xff), false), &q));
    assert!(!hit(&mark(0x34, Some(0xff), true), &q));
    assert!(hit(&mark(0, None, true), &q));

    let mut q = p;
    q.pkt.tos = 0xb8; // DSCP 46, EF
    let tos = |v: u8, m: u8, invert: bool| {
        let mut o = vec![u8a(proto::TOS_VALUE, v), u8a(proto::TOS_MASK, m)];
        if invert {
            o.push(flag(proto::TOS_INVERT));
        }
        vec![mt(proto::MT_TOS, &o)]
    };
    assert!(hit(&tos(0xb8, 0xff, false), &q));
    assert!(hit(&tos(0x18, 0x1e, false), &q));
    assert!(!hit(&tos(0x10, 0xff, false), &q));
    assert!(hit(&tos(0x10, 0xff, true), &q));
    let dscp = |v: u8, invert: bool| {
        let mut o = vec![u8a(proto::DSCP_VALUE, v)];
        if invert {
            o.push(flag(proto::DSCP_INVERT));
        }
        vec![mt(proto::MT_DSCP, &o)]
    };
    assert!(hit(&dscp(46, false), &q));
    assert!(!hit(&dscp(10, false), &q));
    assert!(hit(&dscp(10, true), &q));

    let len = |a: u16, b: u16, invert: bool| {
        let mut o = vec![u32a(proto::LENGTH_RANGE, ports(a, b))];
        if invert {
            o.push(flag(proto::LENGTH_INVERT));
        }
        vec![mt(proto::MT_LENGTH, &o)]
    };
    assert!(hit(&len(40, 40, false), &p));
    assert!(hit(&len(0, 1500, false), &p));
    assert!(!hit(&len(41, 1500, false), &p));
    assert!(hit(&len(41, 1500, true), &p));
    // An IPv4 BIG TCP packet's length (over 65,535: no range holds it but
    // an inverted one).
    let mut big = p;
    big.pkt.total_len = 70_000;
    assert!(!hit(&len(0, 65535, false), &big));
    assert!(!hit(&len(0, 0, false), &big));
    assert!(hit(&len(0, 65535, true), &big));
}

#[test]
fn iprange_addrtype_rpfilter() {
    let p = udp(1, 2); // 10.0.0.1 -> 10.0.0.2
    let range = |s: Option<([u8; 4], [u8; 4])>, d: Option<([u8; 4], [u8; 4])>, inv_: u32| {
        let mut o = vec![];
        if let Some((a, b)) = s {
            o.push(attr(proto::IPRANGE_SRC_MIN, &a));
            o.push(attr(proto::IPRANGE_SRC_MAX, &b));
        }
        if let Some((a, b)) = d {
            o.push(attr(proto::IPRANGE_DST_MIN, &a));
            o.push(attr(proto::IPRANGE_DST_MAX, &b));
        }
        if inv_ != 0 {
            o.push(u32a(proto::IPRANGE_INVERT, inv_));
        }
        vec![mt(proto::MT_IPRANGE, &o)]
    };
    let r1 = ([10, 0, 0, 0], [10, 0, 0, 1]);
    let r2 = ([9, 255, 255, 255], [10, 0, 0, 1]);
    assert!(hit(&range(Some(r1), None, 0), &p));
    assert!(!hit(&range(Some(r1), None, 1), &p));
    assert!(!hit(&range(None, Some(r1), 0), &p));
    assert!(hit(&range(None, Some(r1), 2), &p));
    assert!(hit(
        &range(Some(r2), Some(([10, 0, 0, 2], [10, 0, 0, 2])), 0),
        &p
    ));
    assert!(!hit(
        &range(Some(r2), Some(([10, 0, 0, 2], [10, 0, 0, 2])), 2),
        &p
    ));

    // addrtype: the context answers LOCAL for 10.0.0.2, BROADCAST for
    // 10.0.0.1.
    let at = |s: u32, d: u32, flags: u32| {
        vec![mt(
            proto::MT_ADDRTYPE,
            &[
                u32a(proto::ADDRTYPE_SRC, s),
                u32a(proto::ADDRTYPE_DST, d),
                u32a(proto::ADDRTYPE_FLAGS, flags),
            ],
        )]
    };
    let check = |parts: Vec<Vec<u8>>| {
        let mut r = parts;
        r.push(accept());
        let o = ok(&filter_input(0, &[rule(&r)], &[]));
        let mut ctx = Ctx::default();
        ctx.addr_types.insert([10, 0, 0, 2], RTN_LOCAL);
        ctx.addr_types.insert([10, 0, 0, 1], RTN_BROADCAST);
        (
            evaluate(&o.table(), Hook::LocalIn, &p, &mut ctx) == Verdict::Accept,
            ctx.addr_devs,
        )
    };
    let local = 1 << RTN_LOCAL;
    let bcast = 1 << RTN_BROADCAST;
    let uni = 1 << RTN_UNICAST;
    assert_eq!(check(at(0, local, 0)), (true, vec![AddrTypeDev::Any]));
    assert!(!check(at(0, uni, 0)).0);
    assert!(check(at(0, uni, proto::ADDRTYPE_F_INVERT_DST)).0);
    assert!(!check(at(0, local, proto::ADDRTYPE_F_INVERT_DST)).0);
    assert!(check(at(bcast, local | uni, 0)).0);
    assert!(!check(at(bcast, local, proto::ADDRTYPE_F_INVERT_SRC)).0);
    assert_eq!(check(at(uni, local, 0)), (false, vec![AddrTypeDev::Any]));
    assert_eq!(
        check(at(bcast, 0, proto::ADDRTYPE_F_LIMIT_IFACE_IN)),
        (true, vec![AddrTypeDev::In])
    );
    assert!(check(at(0, 0, 0)).0);

    // rpfilter, in raw PREROUTING.
    let raw = |flags: u32| {
        table(
            "raw",
            &[
                builtin(
                    "PREROUTING",
                    1,
                    &[rule(&[
                        mt(proto::MT_RPFILTER, &[u32a(proto::RPFILTER_FLAGS, flags)]),
                        drop_(),
                    ])],
                ),
                builtin("OUTPUT", 1, &[]),
            ],
        )
    };
    // The FIB's answer (none, or a route type and whether it goes out
    // through the input device), the flags (loose 1, validmark 2,
    // accept-local 4, invert 8), and whether the check passes.
    let unicast_in = Some(Route {
        kind: RTN_UNICAST,
        via_in_dev: true,
    });
    let unicast_other = Some(Route {
        kind: RTN_UNICAST,
        via_in_dev: false,
    });
    let local_in = Some(Route {
        kind: RTN_LOCAL,
        via_in_dev: true,
    });
    let blackhole = Some(Route {
        kind: 6,
        via_in_dev: true,
    });
    for (route, flags, passes) in [
        (unicast_in, 0, true),
        (unicast_other, 0, false),
        (unicast_other, 1, true),
        (None, 0, false),
        (None, 1, false),
        (local_in, 0, false),
        (local_in, 4, true),
        (blackhole, 1, false),
        (unicast_in, 8, false),
        (unicast_other, 8, true),
        (None, 8 | 1, true),
    ] {
        let o = ok(&raw(flags));
        let mut q = p;
        q.mark = 0x42;
        q.pkt.tos = 0xbb;
        let mut ctx = Ctx {
            route,
            ..Ctx::default()
        };
        let v = evaluate(&o.table(), Hook::PreRouting, &q, &mut ctx);
        // The rule drops what matches: the check passing, or with invert
        // failing.
        assert_eq!(v == Verdict::Drop, passes, "{route:?} {flags}");
        assert_eq!(
            ctx.queries,
            [RouteQuery {
                daddr: [10, 0, 0, 1],
                saddr: [10, 0, 0, 2],
                mark: 0,
                tos: 0xb8,
            }]
        );
    }
    // --validmark routes by the packet's mark.
    let o = ok(&raw(2));
    let mut q = p;
    q.mark = 0x42;
    let mut ctx = Ctx {
        route: unicast_in,
        ..Ctx::default()
    };
    assert_eq!(
        evaluate(&o.table(), Hook::PreRouting, &q, &mut ctx),
        Verdict::Drop
    );
    assert_eq!(ctx.queries[0].mark, 0x42);
    // Looped back: passes without a lookup.
    let mut ctx = Ctx {
        loopback: true,
        ..Ctx::default()
    };
    assert_eq!(
        evaluate(&o.table(), Hook::PreRouting, &p, &mut ctx),
        Verdict::Drop
    );
    assert!(ctx.queries.is_empty());
    // From 0.0.0.0 to broadcast or 224.0.0.x (DHCP): passes unlooked-up;
    // to other multicast, the lookup is from 0.0.0.0.
    for (daddr, looked_up) in [
        ([255, 255, 255, 255], false),
        ([224, 0, 0, 1], false),
        ([239, 1, 1, 1], true),
    ] {
        let mut q = p;
        q.pkt.saddr = [0, 0, 0, 0];
        q.pkt.daddr = daddr;
        let mut ctx = Ctx::default();
        let v = evaluate(&o.table(), Hook::PreRouting, &q, &mut ctx);
        assert_eq!(v == Verdict::Drop, !looked_up, "{daddr:?}");
        assert_eq!(
            ctx.queries.first().map(|q| q.saddr),
            looked_up.then_some([0; 4])
        );
    }
}

#[test]
fn limit_bucket() {
    let l = Limit {
        avg: proto::LIMIT_SCALE, // 1/second
        burst: 3,
    };
    assert_eq!(l.cost(), 1_000_000_000);
    assert_eq!(l.cap(), 3_000_000_000);
    let mut s = l.initial_state(1_000);
    // A full bucket lets the burst through, then nothing.
    assert!(l.take(&mut s, 1_000));
    assert!(l.take(&mut s, 1_000));
    assert!(l.take(&mut s, 1_000));
    assert!(!l.take(&mut s, 1_000));
    assert!(!l.take(&mut s, 500_000_000));
    // One second later, one more.
    assert!(l.take(&mut s, 1_000_001_000));
    assert!(!l.take(&mut s, 1_000_001_000));
    // A long pause refills to the cap only.
    let t = 100_000_000_000;
    for _ in 0..3 {
        assert!(l.take(&mut s, t));
    }
    assert!(!l.take(&mut s, t));
    // The clock going back refills nothing and does not panic.
    assert!(!l.take(&mut s, 0));
    assert_eq!(s.prev_ns, t);
    // Steady rate: 10 seconds at 10 packets/s lets ~10 + burst through.
    let mut s = l.initial_state(0);
    let passed = (0..100u64)
        .filter(|k| l.take(&mut s, k * 100_000_000))
        .count();
    assert_eq!(passed, 3 + 9);
    // Extremes do not overflow.
    let big = Limit {
        avg: u32::MAX,
        burst: 10_000,
    };
    let mut s = big.initial_state(u64::MAX - 1);
    assert!(big.take(&mut s, u64::MAX));
    // Through the walker: the state is per match index.
    let r = rule(&[
        mt(
            proto::MT_LIMIT,
            &[u32a(proto::LIMIT_AVG, 10_000), u32a(proto::LIMIT_BURST, 2)],
        ),
        accept(),
    ]);
    let o = ok(&filter_input(0, &[r.clone(), r], &[]));
    let mut ctx = Ctx::default();
    let verdicts: Vec<_> = (0..6)
        .map(|_| evaluate(&o.table(), Hook::LocalIn, &udp(1, 2), &mut ctx))
        .collect();
    use Verdict::{Accept as A, Drop as D};
    assert_eq!(verdicts, [A, A, A, A, D, D]);
    assert_eq!(ctx.limits.keys().copied().collect::<Vec<_>>(), [0, 1]);
    ctx.now = 1_000_000_000;
    assert_eq!(evaluate(&o.table(), Hook::LocalIn, &udp(1, 2), &mut ctx), A);
    // The default is 3/hour, burst 5.
    assert_eq!(Limit::default().cost(), 1_200_000_000_000);
}

// ---------------------------------------------------------------------
// The LOG line.

fn line(log: &Log, p: &LogPacket<'_>) -> String {
    let mut buf = [0u8; 1024];
    let n = log_line(&mut buf, log, p);
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn ip_hdr(proto_: u8, total: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x45, 0x10, 0, 0, 0x1c, 0x46, 0, 0, 64, proto_, 0, 0, 192, 168, 1, 10, 10, 0, 0, 1,
    ];
    v[2..4].copy_from_slice(&total.to_be_bytes());
    v[6..8].copy_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn log_line_tcp() {
    #[rustfmt::skip]
    let th = [
        0xc3, 0x50, 0x00, 0x16, // 50000 -> 22
        0, 0, 0, 1, 0, 0, 0, 0, // seq 1, ack 0
        0x60, 0x02, 0xfa, 0xf0, // doff 6, SYN, window 64240
        0, 0, 0, 0, // checksum, urgent
        2, 4, 5, 0xb4, // MSS 1460
    ];
    let pkt = ip_hdr(6, 44, 0x4000, &th);
    let mac = [
        0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x52, 0x54, 0, 0xab, 0xcd, 0xef, 8, 0,
    ];
    let p = LogPacket {
        in_dev: Some(b"eth0"),
        out_dev: None,
        mac_header: Some(&mac),
        data: &pkt,
        skb_len: pkt.len(),
        mark: 0,
        uid_gid: None,
    };
    let log = Log {
        prefix: name::FixedStr::new("DROP: ").unwrap(),
        ..Log::default()
    };
    assert_eq!(
        line(&log, &p),
        "DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 \
         SRC=192.168.1.10 DST=10.0.0.1 LEN=44 TOS=0x10 PREC=0x00 TTL=64 ID=7238 DF \
         PROTO=TCP SPT=50000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 "
    );
    // With sequence numbers, TCP options, MAC decoding and a mark.
    let log2 = Log {
        flags: (proto::LOG_F_TCPSEQ | proto::LOG_F_TCPOPT | proto::LOG_F_MACDECODE) as u8,
        ..Log::default()
    };
    let p2 = LogPacket { mark: 0x2a, ..p };
    assert_eq!(
        line(&log2, &p2),
        "IN=eth0 OUT= MACSRC=52:54:00:ab:cd:ef MACDST=52:54:00:12:34:56 MACPROTO=0800 \
         SRC=192.168.1.10 DST=10.0.0.1 LEN=44 TOS=0x10 PREC=0x00 TTL=64 ID=7238 DF \
         PROTO=TCP SPT=50000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 \
         OPT (020405B4) MARK=0x2a "
    );
    // IPv4 BIG TCP: a total length field of 0 in a packet over 65,535
    // bytes is its length (`iph_totlen`).
    let mut big = pkt.clone();
    big[2] = 0;
    big[3] = 0;
    let p4 = LogPacket {
        data: &big,
        skb_len: 70_000,
        ..p
    };
    assert!(
        line(&log2, &p4).contains(" LEN=70000 TOS="),
        "{}",
        line(&log2, &p4)
    );
    // OUTPUT: no MAC part; all flags; truncated header.
    let mut th2 = th;
    th2[12] = 0x5f; // doff 5 and all four reserved bits
    th2[13] = 0xff;
    let pkt = ip_hdr(6, 40, 0, &th2[..20]);
    let p3 = LogPacket {
        in_dev: None,
        out_dev: Some(b"eth1"),
        data: &pkt,
        skb_len: 40,
        ..LogPacket::default()
    };
    assert_eq!(
        line(&Log::default(), &p3),
        "IN= OUT=eth1 SRC=192.168.1.10 DST=10.0.0.1 LEN=40 TOS=0x10 PREC=0x00 TTL=64 ID=7238 \
         PROTO=TCP SPT=50000 DPT=22 WINDOW=64240 RES=0x3c CWR ECE URG ACK PSH RST SYN FIN URGP=0 "
    );
    let p4 = LogPacket {
        data: &pkt[..30],
        ..p3
    };
    assert!(line(&Log::default(), &p4).ends_with("PROTO=TCP INCOMPLETE [20 bytes] "));
    let p5 = LogPacket {
        data: &pkt[..10],
        ..p3
    };
    assert_eq!(line(&Log::default(), &p5), "IN= OUT=eth1 TRUNCATED");
    // MAC= with no link-layer header.
    let p6 = LogPacket {
        mac_header: None,
        ..p
    };
    assert!(line(&Log::default(), &p6).starts_with("IN=eth0 OUT= MAC= SRC="));
    // A small buffer cuts the line.
    let mut small = [0u8; 12];
    assert_eq!(log_line(&mut small, &log, &p), 12);
    assert_eq!(&small, b"DROP: IN=eth");
}

#[test]
fn log_line_udp_icmp_fragments() {
    let pkt = ip_hdr(17, 28, 0, &[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    let p = LogPacket {
        in_dev: Some(b"eth0"),
        out_dev: Some(b"eth1"),
        mac_header: Some(&[0xaa; 14]),
        data: &pkt,
        skb_len: 28,
        ..LogPacket::default()
    };
    let mac = "MAC=aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa ";
    let head = "SRC=192.168.1.10 DST=10.0.0.1";
    assert_eq!(
        line(&Log::default(), &p),
        std::format!("IN=eth0 OUT=eth1 {mac}{head} LEN=28 TOS=0x10 PREC=0x00 TTL=64 ID=7238 PROTO=UDP SPT=40000 DPT=53 LEN=8 ")
    );
    // Echo request.
    let pkt = ip_hdr(1, 84, 0, &[8, 0, 0, 0, 0x12, 0x34, 0, 7]);
    let p2 = LogPacket {
        data: &pkt,
        skb_len: 84,
        ..p
    };
    assert!(line(&Log::default(), &p2).ends_with("PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=7 "));
    // Port unreachable quoting a UDP packet.
    let inner = ip_hdr(17, 28, 0, &[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    let mut icmp_ = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp_.extend_from_slice(&inner);
    let pkt = ip_hdr(1, 20 + icmp_.len() as u16, 0, &icmp_);
    let p3 = LogPacket {
        data: &pkt,
        skb_len: pkt.len(),
        mark: 1,
        ..p
    };
    assert!(line(&Log::default(), &p3).ends_with(&std::format!(
        "PROTO=ICMP TYPE=3 CODE=3 [{head} LEN=28 TOS=0x10 PREC=0x00 TTL=64 ID=7238 PROTO=UDP SPT=40000 DPT=53 LEN=8 ] MARK=0x1 "
    )));
    // Fragmentation needed quoting TCP, whose header is cut to 8 bytes.
    let inner = ip_hdr(6, 1500, 0x4000, &[0xc3, 0x50, 0, 22, 0, 0, 0, 1]);
    let mut icmp_ = vec![3, 4, 0, 0, 0, 0, 0x05, 0xdc];
    icmp_.extend_from_slice(&inner);
    let pkt = ip_hdr(1, 20 + icmp_.len() as u16, 0, &icmp_);
    let p4 = LogPacket {
        data: &pkt,
        skb_len: pkt.len(),
        ..p
    };
    assert!(line(&Log::default(), &p4).ends_with("DF PROTO=TCP INCOMPLETE [8 bytes] ] MTU=1500 "));
    // A short ICMP error.
    let pkt = ip_hdr(1, 36, 0, &[11, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    let p5 = LogPacket {
        data: &pkt,
        skb_len: pkt.len(),
        ..p
    };
    assert!(
        line(&Log::default(), &p5).ends_with("PROTO=ICMP TYPE=11 CODE=0 INCOMPLETE [16 bytes] ")
    );
    // A later fragment: FRAG and no ports; MF; CE; other protocols;
    // IP options.
    let pkt = ip_hdr(17, 100, 0x2000 | 185, &[0; 80]);
    let p6 = LogPacket {
        data: &pkt,
        skb_len: 100,
        ..p
    };
    assert!(line(&Log::default(), &p6).ends_with("ID=7238 MF FRAG:185 PROTO=UDP "));
    let pkt = ip_hdr(47, 20, 0x8000, &[]);
    let p7 = LogPacket {
        data: &pkt,
        skb_len: 20,
        uid_gid: Some((1000, 100)),
        ..p
    };
    assert!(line(&Log::default(), &p7).ends_with("ID=7238 CE PROTO=47 "));
    let uid = Log {
        flags: proto::LOG_F_UID as u8,
        ..Log::default()
    };
    assert!(line(&uid, &p7).ends_with("PROTO=47 UID=1000 GID=100 "));
    let mut pkt = ip_hdr(50, 32, 0, &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 2]);
    pkt[0] = 0x46;
    let p8 = LogPacket {
        data: &pkt,
        skb_len: 32,
        ..p
    };
    let ipopt = Log {
        flags: proto::LOG_F_IPOPT as u8,
        ..Log::default()
    };
    assert!(line(&ipopt, &p8).ends_with("OPT (DEADBEEF) PROTO=ESP SPI=0x1 "));
}

// ---------------------------------------------------------------------
// Robustness.

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_packet(rng: &mut XorShift) -> PacketInfo {
    let mut p = match rng.below(4) {
        0 => tcp(rng.next() as u16, rng.next() as u16, rng.next() as u8),
        1 => udp(rng.next() as u16, rng.next() as u16),
        2 => icmp(rng.next() as u8, rng.next() as u8),
        _ => fragment(rng.next() as u8),
    };
    p.mark = rng.next() as u32;
    p.pkt.tos = rng.next() as u8;
    p
}

#[test]
fn random_input_never_panics() {
    let seeds = [
        all_matches_and_targets(),
        encode_all(&ok(&all_matches_and_targets())),
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    let mut reasons = std::collections::BTreeSet::new();
    for case in 0..50_000 {
        let mut input = seeds[case % 2].clone();
        if case % 10 == 0 {
            // Pure noise, with plausible lengths and types.
            let n = rng.below(200);
            input = (0..n)
                .map(|_| {
                    if rng.below(2) == 0 {
                        rng.below(16) as u8
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
        } else {
            for _ in 0..1 + rng.below(3) {
                if input.is_empty() {
                    break;
                }
                let k = rng.below(input.len());
                match rng.below(4) {
                    0 => input[k] = rng.next() as u8,
                    1 => input[k] ^= 1 << rng.below(8),
                    2 => input[k] = rng.below(20) as u8,
                    _ => input.truncate(k),
                }
            }
        }
        match load(&input) {
            Ok(o) => {
                accepted += 1;
                let t = o.table();
                for _ in 0..4 {
                    let p = random_packet(&mut rng);
                    let mut ctx = Ctx {
                        route: (rng.below(2) == 0).then_some(Route {
                            kind: rng.below(4) as u8,
                            via_in_dev: rng.below(2) == 0,
                        }),
                        loopback: rng.below(8) == 0,
                        ..Ctx::default()
                    };
                    let hook = Hook::ALL[rng.below(5)];
                    evaluate(&t, hook, &p, &mut ctx);
                    let mut buf = [0u8; 256];
                    let mut w = Writer::new(&mut buf);
                    let _ = encode_table(&mut w, &t, |_| Counters::default());
                }
            }
            Err(e) => {
                reasons.insert(e.reason.message());
                let _ = std::format!("{e}");
            }
        }
    }
    // Mutations reach both outcomes and many different reasons.
    assert!(accepted > 1_000, "{accepted}");
    assert!(reasons.len() > 15, "{reasons:?}");
}

#[test]
fn evaluation_ends_on_broken_arrays() {
    // Arrays not from the decoder (here: a goto made to point back) do
    // not make the walker loop or panic.
    let mut o = ok(&filter_input(
        1,
        &[rule(&[goto("a")])],
        &[user("a", &[rule(&[goto("b")])]), user("b", &[rule(&[])])],
    ));
    let b_rule = o.rules.len() - 1;
    o.rules[b_rule].target = Target::Goto(3);
    o.rules[0].target = Target::Jump(0);
    let (v, _) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Drop);
    o.rules[0].target = Target::Goto(3);
    let (v, _) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Drop);
    o.rules[0].target = Target::Jump(200);
    o.rules[0].match_start = u32::MAX;
    o.rules[0].match_count = 200;
    let (v, _) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Drop);
    o.chains[0].first_rule = u32::MAX - 1;
    o.chains[0].rule_count = 5;
    let (v, _) = run(&o, Hook::LocalIn, &udp(1, 2));
    assert_eq!(v, Verdict::Accept);
}
