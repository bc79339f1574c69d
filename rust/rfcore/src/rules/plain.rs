// SPDX-License-Identifier: GPL-2.0

//! Plain chains: the walk of a small chain of simple rules without the
//! general walker's machinery.
//!
//! Most built-in chains of a small ruleset are a few rules that look at
//! addresses, the protocol, ports, TCP flags or the ICMP type and end in
//! ACCEPT, DROP or a queue: `-s 10.0.1.0/24 -p udp --dport 53 -j ACCEPT`.
//! Such a chain is compiled, when its ruleset is committed, into an array
//! of [`PlainRule`]s, each holding its tests (most of them as masks and
//! values of the key's words), its counter and its verdict, so that
//! [`walk`] reads one entry per rule and the packet's [`PlainKey`] (three
//! words read from its bytes) and counts through a closure:
//! no packet view with device names and mark, no rule-to-match
//! indirection, no index cursor, no return stack, no [`Context`].
//!
//! A chain is plain ([`is_plain`]) when it is a built-in chain the
//! classifier left linear and every rule of it
//!
//! - names no interface and inverts no interface test
//!   ([`IpMatch::reads_ifaces`]);
//! - has no match, or one tcp, udp or icmp match;
//! - has no target, or ACCEPT, DROP, QUEUE, or NFQUEUE to one queue
//!   ([`NfQueue::fixed`]).
//!
//! [`walk`] of a plain chain gives what [`super::evaluate`] gives: the
//! same verdict (in the form [`compile`] was asked to keep it, the
//! kernel's own for the module) and the same counts in the same order, the
//! hot drop of a truncated transport header included (the host tests
//! compare the two on random plain chains and packets).
//!
//! [`Context`]: super::Context
//! [`IpMatch::reads_ifaces`]: super::IpMatch::reads_ifaces
//! [`NfQueue::fixed`]: super::targets::queue::NfQueue::fixed

use super::eval::Verdict;
use super::ip::IpMatch;
use super::matches::icmp::Icmp;
use super::matches::tcp::Tcp;
use super::matches::udp::Udp;
use super::matches::{Match, MatchOps, Needs, PortRange};
use super::packet::{
    total_length, Headers, ICMP_HEADER, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER,
    L4, TCP_MIN_HEADER, UDP_HEADER,
};
use super::proto::{self, Hook};
use super::table::{Chain, Policy, Rule, Table};
use super::targets::Target;

/// What a plain walk reads of a packet: [`Headers`] in three words,
/// filled from the bytes by [`PlainKey::parse`] (or from [`Headers`] by
/// `From`), laid out as the packet's bytes are so that a rule tests most
/// of what it asks with one mask and compare per word ([`Exact`]).
#[derive(Clone, Copy, Debug)]
pub struct PlainKey {
    /// The source and destination addresses: `u64::from_ne_bytes` of the
    /// IPv4 header's bytes 12 to 19.
    addrs: u64,
    /// `u32::from_ne_bytes` of the IPv4 header's bytes 6 to 9: the flags
    /// and the fragment offset, the TTL, the protocol. Only
    /// [`INFO_FRAGMENT`] and [`INFO_PROTOCOL`] are read (`PartialEq`
    /// compares those).
    info: u32,
    /// The transport header's first four bytes as `u32::from_ne_bytes`
    /// (the ports of TCP and UDP; ICMP's type, code and two zero bytes),
    /// above them the protocol whose header is whole ([`IPPROTO_TCP`],
    /// [`IPPROTO_UDP`] or [`IPPROTO_ICMP`] for [`L4::Tcp`], [`L4::Udp`]
    /// or [`L4::Icmp`]) and the TCP flags ([`word`]); 0 without a whole
    /// header.
    word: u64,
    /// Whether a TCP, UDP or ICMP header is cut short ([`L4::Truncated`]).
    truncated: bool,
}

impl PartialEq for PlainKey {
    fn eq(&self, other: &PlainKey) -> bool {
        let read = u32::from_ne_bytes(INFO_FRAGMENT) | u32::from_ne_bytes(INFO_PROTOCOL);
        (self.addrs, self.info & read, self.word, self.truncated)
            == (other.addrs, other.info & read, other.word, other.truncated)
    }
}

impl Eq for PlainKey {}

/// The bits of [`PlainKey::info`] that are the fragment offset, and the
/// byte that is the protocol.
const INFO_FRAGMENT: [u8; 4] = [0x1f, 0xff, 0, 0];
const INFO_PROTOCOL: [u8; 4] = [0, 0, 0, 0xff];

/// Where in [`PlainKey::word`] the protocol whose header is whole is, and
/// where the TCP flags are.
const WORD_L4: u32 = 32;
const WORD_FLAGS: u32 = 40;

/// A bit of [`PlainKey::word`] that is 0 in every key.
const WORD_NEVER: u64 = 1 << 63;

/// A word of [`PlainKey::word`]'s layout: the first four bytes `head`
/// (as `u32::from_ne_bytes`, in the low half), the protocol `l4` and the
/// TCP flags `flags` above them.
#[inline(always)]
fn word(head: [u8; 4], l4: u8, flags: u8) -> u64 {
    u64::from(u32::from_ne_bytes(head)) | u64::from(l4) << WORD_L4 | u64::from(flags) << WORD_FLAGS
}

impl PlainKey {
    /// [`crate::packet::parse_headers`] of `data`, the first bytes of a
    /// packet of `packet_len` bytes, as a key (without `transport`, as if
    /// its [`Headers::l4`] were [`crate::packet::L4::Other`]); `None`
    /// when the IPv4 header does not parse. Reads what that reads (no more
    /// than [`crate::packet::headers_span`]).
    ///
    /// The total length is the header's field: `None` too for an IPv4 BIG
    /// TCP packet (whose field is 0, [`total_length`]), which
    /// [`PlainKey::parse_long`] reads. (So that the walk of every other
    /// packet does not ask.)
    #[inline(always)]
    pub fn parse(data: &[u8], packet_len: usize, transport: bool) -> Option<PlainKey> {
        Self::parse_with(data, packet_len, transport, |field, _| usize::from(field))
    }

    /// [`PlainKey::parse`] of any packet, IPv4 BIG TCP ones included:
    /// what `parse_headers` finds, as a key.
    pub fn parse_long(data: &[u8], packet_len: usize, transport: bool) -> Option<PlainKey> {
        Self::parse_with(data, packet_len, transport, total_length)
    }

    /// [`PlainKey::parse`] with the total length `total(field, packet_len)`
    /// of the header's field.
    #[inline(always)]
    fn parse_with(
        data: &[u8],
        packet_len: usize,
        transport: bool,
        total: impl Fn(u16, usize) -> usize,
    ) -> Option<PlainKey> {
        let h = data.first_chunk::<IPV4_MIN_HEADER>()?;
        // Version 4, a header of 5 to 15 words, all there and within a
        // total length that is within the packet.
        if !(0x45..=0x4f).contains(&h[0]) {
            return None;
        }
        let header_len = usize::from(h[0] & 0x0f) * 4;
        let total = total(u16::from_be_bytes([h[2], h[3]]), packet_len);
        // In this order: where `data` is the whole packet, the last test
        // follows from the first two.
        if total > packet_len || total < header_len || data.len() < header_len {
            return None;
        }
        let mut key = PlainKey {
            addrs: u64::from_ne_bytes([h[12], h[13], h[14], h[15], h[16], h[17], h[18], h[19]]),
            info: u32::from_ne_bytes([h[6], h[7], h[8], h[9]]),
            word: 0,
            truncated: false,
        };
        if !transport || key.later_fragment() {
            return Some(key);
        }
        // The transport bytes there are: those present after the IPv4
        // header, within the total length.
        let rest = data.get(header_len..total.min(data.len())).unwrap_or(&[]);
        let first = |t: &[u8]| [t[0], t[1], t[2], t[3]];
        let whole = match h[9] {
            IPPROTO_UDP => rest
                .first_chunk::<UDP_HEADER>()
                .map(|u| word(first(u), IPPROTO_UDP, 0)),
            IPPROTO_TCP => rest
                .first_chunk::<TCP_MIN_HEADER>()
                .map(|t| word(first(t), IPPROTO_TCP, t[13])),
            IPPROTO_ICMP => rest
                .first_chunk::<ICMP_HEADER>()
                .map(|i| word([i[0], i[1], 0, 0], IPPROTO_ICMP, 0)),
            _ => return Some(key),
        };
        match whole {
            Some(w) => key.word = w,
            None => key.truncated = true,
        }
        Some(key)
    }

    /// The source address, as [`PlainIp::src`] is.
    #[inline(always)]
    fn saddr(&self) -> u32 {
        let a = self.addrs.to_ne_bytes();
        u32::from_ne_bytes([a[0], a[1], a[2], a[3]])
    }

    /// The destination address, as [`PlainIp::dst`] is.
    #[inline(always)]
    fn daddr(&self) -> u32 {
        let a = self.addrs.to_ne_bytes();
        u32::from_ne_bytes([a[4], a[5], a[6], a[7]])
    }

    /// The protocol.
    #[inline(always)]
    fn protocol(&self) -> u8 {
        self.info.to_ne_bytes()[3]
    }

    /// Whether the packet is a later fragment.
    #[inline(always)]
    fn later_fragment(&self) -> bool {
        self.info & u32::from_ne_bytes(INFO_FRAGMENT) != 0
    }

    /// The protocol whose header is whole; 0 for none.
    #[inline(always)]
    fn l4(&self) -> u8 {
        (self.word >> WORD_L4) as u8
    }

    /// The TCP flags.
    #[inline(always)]
    fn flags(&self) -> u8 {
        (self.word >> WORD_FLAGS) as u8
    }

    /// The transport header's first two bytes in host order: the source
    /// port, or the ICMP type and code.
    #[inline(always)]
    fn high(&self) -> u16 {
        let w = (self.word as u32).to_ne_bytes();
        u16::from_be_bytes([w[0], w[1]])
    }

    /// The next two, the destination port.
    #[inline(always)]
    fn low(&self) -> u16 {
        let w = (self.word as u32).to_ne_bytes();
        u16::from_be_bytes([w[2], w[3]])
    }
}

impl From<&Headers> for PlainKey {
    fn from(h: &Headers) -> PlainKey {
        let ports = |sport: u16, dport: u16| {
            let (s, d) = (sport.to_be_bytes(), dport.to_be_bytes());
            [s[0], s[1], d[0], d[1]]
        };
        let word = match h.l4 {
            L4::Tcp {
                sport,
                dport,
                flags,
            } => word(ports(sport, dport), IPPROTO_TCP, flags),
            L4::Udp { sport, dport } => word(ports(sport, dport), IPPROTO_UDP, 0),
            L4::Icmp { icmp_type, code } => word([icmp_type, code, 0, 0], IPPROTO_ICMP, 0),
            L4::Other | L4::Fragment | L4::Truncated { .. } => 0,
        };
        let frag = h.fragment_offset.to_be_bytes();
        let (s, d) = (h.saddr, h.daddr);
        PlainKey {
            addrs: u64::from_ne_bytes([s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3]]),
            info: u32::from_ne_bytes([frag[0], frag[1], 0, h.protocol]),
            word,
            truncated: matches!(h.l4, L4::Truncated { .. }),
        }
    }
}

/// The one transport match a plain rule may have (tcp, udp or icmp),
/// shaped at commit as [`PlainIp`] is, as tests of [`PlainKey::word`]:
/// a range of its high half (the source port, or the ICMP type and
/// code) and one of its low half (the destination port), each with its
/// inversion, and the TCP flags test. All three need the whole header
/// ([`MatchOps::NEEDS`] is [`Needs::Header`]): a packet whose header is
/// cut short is dropped when it reaches one.
#[derive(Clone, Copy, Debug, Default)]
struct L4Match {
    /// The protocol whose whole header it reads; 0 for a rule without a
    /// transport match.
    proto: u8,
    /// The range of the word's high half.
    high: PlainPorts,
    /// The range of the word's low half.
    low: PlainPorts,
    flags_mask: u8,
    flags_comp: u8,
    inv_flags: bool,
}

impl L4Match {
    /// `m` as a plain rule's transport match, if it may be one.
    fn of(m: &Match) -> Option<L4Match> {
        const _: () = assert!(matches!(Tcp::NEEDS, Needs::Header));
        const _: () = assert!(matches!(Udp::NEEDS, Needs::Header));
        const _: () = assert!(matches!(Icmp::NEEDS, Needs::Header));
        let inv = |invert: u8, bit: u32| u32::from(invert) & bit != 0;
        let all = PortRange::default();
        Some(match m {
            Match::Tcp(t) => L4Match {
                proto: IPPROTO_TCP,
                high: PlainPorts::of(t.sports, inv(t.invert, proto::TCP_INV_SPORTS)),
                low: PlainPorts::of(t.dports, inv(t.invert, proto::TCP_INV_DPORTS)),
                flags_mask: t.flags_mask,
                flags_comp: t.flags_comp,
                inv_flags: inv(t.invert, proto::TCP_INV_FLAGS),
            },
            Match::Udp(u) => L4Match {
                proto: IPPROTO_UDP,
                high: PlainPorts::of(u.sports, inv(u.invert, proto::TCP_INV_SPORTS)),
                low: PlainPorts::of(u.dports, inv(u.invert, proto::TCP_INV_DPORTS)),
                ..L4Match::default()
            },
            // A type (any code in the range) is a range of type and code
            // together; any type, every pair. The inversion is the whole
            // match's.
            Match::Icmp(i) => L4Match {
                proto: IPPROTO_ICMP,
                high: match i.icmp_type {
                    Icmp::ANY => PlainPorts::of(all, i.invert),
                    t => PlainPorts::of(
                        PortRange {
                            first: u16::from_be_bytes([t, i.code_min]),
                            last: u16::from_be_bytes([t, i.code_max]),
                        },
                        i.invert,
                    ),
                },
                low: PlainPorts::of(all, false),
                ..L4Match::default()
            },
            _ => return None,
        })
    }

    /// Whether the whole header of a packet `key` of protocol
    /// `self.proto` matches.
    #[inline(always)]
    fn matches(&self, key: &PlainKey) -> bool {
        self.high.matches(key.high())
            && self.low.matches(key.low())
            && (key.flags() & self.flags_mask == self.flags_comp) != self.inv_flags
    }
}

/// A port range and its inversion, shaped for one compare: the first port
/// and how many more follow.
#[derive(Clone, Copy, Debug, Default)]
struct PlainPorts {
    first: u16,
    span: u16,
    invert: bool,
}

impl PlainPorts {
    fn of(r: PortRange, invert: bool) -> PlainPorts {
        match r.last.checked_sub(r.first) {
            Some(span) => PlainPorts {
                first: r.first,
                span,
                invert,
            },
            // An empty range (which decoding refuses) matches no port: the
            // whole range inverted.
            None => PlainPorts {
                first: 0,
                span: u16::MAX,
                invert: !invert,
            },
        }
    }

    /// Whether `port` is in the range, XOR the inversion
    /// ([`PortRange::contains`]).
    #[inline(always)]
    fn matches(&self, port: u16) -> bool {
        (port.wrapping_sub(self.first) <= self.span) != self.invert
    }

    /// The range as a mask and a value of a 16-bit field (`field & mask ==
    /// value`), if it may be one: all values (mask 0), one value, or the
    /// values of one high byte; `None` for another range or an inversion.
    fn exact(&self) -> Option<(u16, u16)> {
        match (self.invert, self.span) {
            (true, _) => None,
            (false, u16::MAX) => Some((0, 0)),
            (false, 0) => Some((u16::MAX, self.first)),
            (false, 0xff) if self.first & 0xff == 0 => Some((0xff00, self.first)),
            _ => None,
        }
    }
}

/// A plain rule's IP test: [`IpMatch::matches_headers`] shaped at commit
/// for the walk (a plain rule reads no interface): the addresses as words,
/// each inversion a flag of its own, the fragment test as the set of
/// packets it lets through.
#[derive(Clone, Copy, Debug, Default)]
struct PlainIp {
    /// The source address and mask, as `u32::from_ne_bytes` of their
    /// network-order bytes.
    src: u32,
    src_mask: u32,
    /// The destination address and mask, the same way.
    dst: u32,
    dst_mask: u32,
    /// Whether the source test is inverted (`! -s`).
    inv_src: bool,
    /// Whether the destination test is inverted (`! -d`).
    inv_dst: bool,
    /// The protocol; 0 is any.
    proto: u8,
    /// Whether the protocol test is inverted (`! -p`).
    inv_proto: bool,
    /// Which packets the fragment test (`-f`, `! -f`) lets through: bit 0
    /// for a packet that is not a later fragment, bit 1 for one that is.
    fragments: u8,
}

impl PlainIp {
    fn of(ip: &IpMatch) -> PlainIp {
        // What `matches_headers` says of the fragment test for a packet
        // that is a later fragment or not.
        let passes = |later: bool| !((ip.fragment && !later) ^ ip.inverted(proto::INV_FRAGMENT));
        PlainIp {
            src: u32::from_ne_bytes(ip.src),
            src_mask: u32::from_ne_bytes(ip.src_mask),
            dst: u32::from_ne_bytes(ip.dst),
            dst_mask: u32::from_ne_bytes(ip.dst_mask),
            inv_src: ip.inverted(proto::INV_SRC),
            inv_dst: ip.inverted(proto::INV_DST),
            proto: ip.proto,
            inv_proto: ip.inverted(proto::INV_PROTO),
            fragments: u8::from(passes(false)) | u8::from(passes(true)) << 1,
        }
    }

    /// [`IpMatch::matches_headers`] of the rule it was made from.
    #[inline(always)]
    fn matches(&self, key: &PlainKey) -> bool {
        // A test passes when "differs" is what its inversion asks for.
        (key.saddr() & self.src_mask != self.src) == self.inv_src
            && (key.daddr() & self.dst_mask != self.dst) == self.inv_dst
            && (self.proto == 0 || (key.protocol() != self.proto) == self.inv_proto)
            && self.fragments & (1 << u8::from(key.later_fragment())) != 0
    }
}

/// What of a plain rule's tests is "these bits of the key are these":
/// for each of [`PlainKey`]'s words a mask and the value the masked word
/// must have. The walk tests these, with a compare per word, and the
/// rest ([`PlainRule::rest`]) only for a rule that has more.
#[derive(Clone, Copy, Debug, Default)]
struct Exact {
    addrs_mask: u64,
    addrs: u64,
    info_mask: u32,
    info: u32,
    word_mask: u64,
    word: u64,
}

impl Exact {
    /// The exact part of a rule of `ip` and `l4`, and whether that is all
    /// of it (if not, whatever it holds is implied by the rule's tests).
    fn of(ip: &PlainIp, l4: &L4Match) -> (Exact, bool) {
        let mut e = Exact::default();
        let mut whole = true;
        let (s, d) = (ip.src.to_ne_bytes(), ip.dst.to_ne_bytes());
        let (sm, dm) = (ip.src_mask.to_ne_bytes(), ip.dst_mask.to_ne_bytes());
        let first = |b: [u8; 4]| [b[0], b[1], b[2], b[3], 0, 0, 0, 0];
        let second = |b: [u8; 4]| [0, 0, 0, 0, b[0], b[1], b[2], b[3]];
        let mut addr = |mask: [u8; 8], value: [u8; 8], inverted: bool| match inverted {
            false => {
                e.addrs_mask |= u64::from_ne_bytes(mask);
                e.addrs |= u64::from_ne_bytes(value);
            }
            true => whole = false,
        };
        addr(first(sm), first(s), ip.inv_src);
        addr(second(dm), second(d), ip.inv_dst);
        match (ip.proto, ip.inv_proto) {
            (0, _) => {}
            (p, false) => {
                e.info_mask |= u32::from_ne_bytes(INFO_PROTOCOL);
                e.info |= u32::from_ne_bytes([0, 0, 0, p]);
            }
            (_, true) => whole = false,
        }
        match ip.fragments {
            0b11 => {}
            // Not a later fragment: a fragment offset of 0.
            0b01 => e.info_mask |= u32::from_ne_bytes(INFO_FRAGMENT),
            _ => whole = false,
        }
        if l4.proto != 0 {
            let (high, low) = (l4.high.exact(), l4.low.exact());
            let (hm, hv) = high.unwrap_or((0, 0));
            let (lm, lv) = low.unwrap_or((0, 0));
            let (hm, hv, lm, lv) = (
                hm.to_be_bytes(),
                hv.to_be_bytes(),
                lm.to_be_bytes(),
                lv.to_be_bytes(),
            );
            // The flags test, unless inverted.
            let (fm, fv) = match l4.inv_flags {
                false => (l4.flags_mask, l4.flags_comp),
                true => (0, 0),
            };
            e.word_mask = word([hm[0], hm[1], lm[0], lm[1]], 0xff, fm);
            e.word = word([hv[0], hv[1], lv[0], lv[1]], l4.proto, fv);
            whole &= high.is_some() && low.is_some() && !l4.inv_flags;
        }
        if !whole {
            // A bit no key has: the rule's exact part never passes, and
            // the walk asks the rest only then.
            e.word_mask |= WORD_NEVER;
            e.word |= WORD_NEVER;
        }
        (e, whole)
    }

    /// Whether `key` has the bits this asks for.
    #[inline(always)]
    fn matches(&self, key: &PlainKey) -> bool {
        key.addrs & self.addrs_mask == self.addrs
            && key.info & self.info_mask == self.info
            && key.word & self.word_mask == self.word
    }
}

/// A rule of a plain chain as [`walk`] reads it: its tests, its counter
/// and its verdict, in one place.
///
/// The verdict is a `V`, made from the rule's [`Verdict`] by [`compile`]:
/// the kernel keeps the verdict a hook function returns, so that the walk
/// gives it as it is.
#[derive(Clone, Copy, Debug)]
pub struct PlainRule<V = Verdict> {
    /// Most of the rule's tests, or all of them.
    exact: Exact,
    /// Whether the rule has tests that [`PlainRule::exact`] does not hold
    /// (an inversion, a port range, TCP flags...); its exact part then
    /// holds a bit no key has ([`WORD_NEVER`]), so that the walk asks
    /// this only of a rule whose exact part did not pass.
    rest: bool,
    /// The rule's IP test and transport match, whole: what [`walk_whole`]
    /// reads.
    ip: PlainIp,
    l4: L4Match,
    /// The rule's counter: its index in the table.
    counter: u32,
    /// What the rule decides; `None` for a rule without a target, after
    /// which the walk goes on.
    verdict: Option<V>,
}

impl<V> Default for PlainRule<V> {
    fn default() -> Self {
        PlainRule {
            exact: Exact::default(),
            rest: false,
            ip: PlainIp::default(),
            l4: L4Match::default(),
            counter: 0,
            verdict: None,
        }
    }
}

/// A plain chain but for its rules (the array [`compile`] filled, which
/// the caller keeps with it): its policy (as a `V`, as the rules'
/// verdicts) and its counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainChain<V = Verdict> {
    policy: V,
    /// DROP, for a packet a match drops (a truncated header).
    drop: V,
    /// The policy's counter ([`Table::policy_counter`]).
    policy_counter: u32,
    /// Whether a rule has a transport match.
    transport: bool,
}

impl<V> PlainChain<V> {
    /// Whether a rule reads the transport header: if not, [`walk`] gives
    /// the same whatever the key says of it (and the caller need not read
    /// it: [`PlainKey::parse`] without `transport`).
    pub fn reads_transport(&self) -> bool {
        self.transport
    }
}

/// The flat form of `rule`, whose counter is `counter`, if it may be in a
/// plain chain, its verdict made a `V` by `verdict`.
fn flatten<V>(
    table: &Table<'_>,
    rule: &Rule,
    counter: u32,
    verdict: impl Fn(Verdict) -> V,
) -> Option<PlainRule<V>> {
    let target = match rule.target {
        Target::None => None,
        Target::Accept => Some(Verdict::Accept),
        Target::Drop => Some(Verdict::Drop),
        Target::Queue => Some(Verdict::QUEUE),
        Target::NfQueue(q) => Some(q.fixed()?),
        _ => return None,
    };
    if rule.ip.reads_ifaces() {
        return None;
    }
    let l4 = match table.matches_of(rule) {
        [] => L4Match::default(),
        [m] => L4Match::of(m)?,
        _ => return None,
    };
    let ip = PlainIp::of(&rule.ip);
    let (exact, whole) = Exact::of(&ip, &l4);
    Some(PlainRule {
        exact,
        rest: !whole,
        ip,
        l4,
        counter,
        verdict: target.map(verdict),
    })
}

/// The built-in chain of `table` at `hook`, and its index, if it may be
/// plain: one the classifier left linear.
fn linear_chain<'a>(table: &Table<'a>, hook: Hook) -> Option<(u16, &'a Chain)> {
    let base = table.hook_chain(hook)?;
    let chain = table.chains().get(usize::from(base))?;
    chain.index.is_linear().then_some((base, chain))
}

/// How many rules the chain of `table` at `hook` has if it is plain (see
/// the module documentation); `None` if it is not, or there is none.
pub fn plain_len(table: &Table<'_>, hook: Hook) -> Option<usize> {
    let (_, chain) = linear_chain(table, hook)?;
    let rules = table.rules_of(chain);
    let first = chain.rules().start;
    rules
        .iter()
        .enumerate()
        .all(|(i, r)| flatten(table, r, first.wrapping_add(i as u32), |v| v).is_some())
        .then_some(rules.len())
}

/// Whether the chain of `table` at `hook` is plain, so that [`walk`] may
/// walk it.
pub fn is_plain(table: &Table<'_>, hook: Hook) -> bool {
    plain_len(table, hook).is_some()
}

/// Compiles the plain chain of `table` at `hook` into `out`, which has
/// as many entries as it has rules ([`plain_len`]), each verdict made a
/// `V` by `verdict`: the chain [`walk`] takes with `out`. `None` when the
/// chain is not plain or `out` is not of its length.
pub fn compile<V: Copy>(
    table: &Table<'_>,
    hook: Hook,
    out: &mut [PlainRule<V>],
    verdict: impl Fn(Verdict) -> V,
) -> Option<PlainChain<V>> {
    let (base, chain) = linear_chain(table, hook)?;
    let rules = table.rules_of(chain);
    if out.len() != rules.len() {
        return None;
    }
    let first = chain.rules().start;
    let mut transport = false;
    for (i, (slot, rule)) in out.iter_mut().zip(rules).enumerate() {
        *slot = flatten(table, rule, first.wrapping_add(i as u32), &verdict)?;
        transport |= slot.l4.proto != 0;
    }
    Some(PlainChain {
        policy: verdict(match chain.policy {
            Policy::Accept => Verdict::Accept,
            Policy::Drop => Verdict::Drop,
        }),
        drop: verdict(Verdict::Drop),
        policy_counter: table.policy_counter(base),
        transport,
    })
}

/// The verdict of the plain chain `chain`, whose rules are `rules` (as
/// [`compile`] filled them), for a packet `key` of length `len`;
/// `count(counter, len)` counts a rule that matched or the policy, as
/// [`super::Context::count`].
///
/// Rules whose tests are all [`PlainRule::exact`] are walked here, with
/// a mask and a compare of each of the key's words; from the first rule
/// with more on, [`walk_whole`] walks the rest, out of line, and all of
/// them for a packet whose header is cut short (which a rule's
/// transport match drops, and [`PlainRule::exact`] does not say).
#[inline(always)]
pub fn walk<V: Copy>(
    chain: &PlainChain<V>,
    rules: &[PlainRule<V>],
    key: &PlainKey,
    len: u32,
    mut count: impl FnMut(u32, u32),
) -> V {
    let mut left = rules;
    if key.truncated {
        return walk_whole(chain, left, *key, len, count);
    }
    while let Some((rule, next)) = left.split_first() {
        if rule.exact.matches(key) {
            count(rule.counter, len);
            if let Some(v) = rule.verdict {
                return v;
            }
        } else if rule.rest {
            // Its exact part never passes (Exact::of).
            return walk_whole(chain, left, *key, len, count);
        }
        left = next;
    }
    count(chain.policy_counter, len);
    chain.policy
}

/// [`walk`] from one of the chain's rules on (`rules` are those left),
/// with each rule's tests whole ([`PlainRule::ip`], [`PlainRule::l4`]).
#[inline(never)]
fn walk_whole<V: Copy>(
    chain: &PlainChain<V>,
    rules: &[PlainRule<V>],
    key: PlainKey,
    len: u32,
    mut count: impl FnMut(u32, u32),
) -> V {
    for rule in rules {
        if !rule.ip.matches(&key) {
            continue;
        }
        if rule.l4.proto != 0 {
            if rule.l4.proto != key.l4() {
                // Another protocol's header, a later fragment: no match.
                // A header cut short: the hot drop.
                if key.truncated {
                    return chain.drop;
                }
                continue;
            }
            if !rule.l4.matches(&key) {
                continue;
            }
        }
        count(rule.counter, len);
        if let Some(v) = rule.verdict {
            return v;
        }
    }
    count(chain.policy_counter, len);
    chain.policy
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every port against ranges at the edges, inverted and not, empty
    /// (which decoding refuses) included: one compare says what
    /// `PortRange::contains` XOR the inversion says.
    #[test]
    fn plain_ports_are_the_range() {
        let ranges = [
            (0, 0),
            (0, 65535),
            (9, 9),
            (1024, 65535),
            (80, 443),
            (65535, 65535),
        ];
        for (first, last) in ranges {
            let r = PortRange { first, last };
            for invert in [false, true] {
                let p = PlainPorts::of(r, invert);
                for port in 0..=u16::MAX {
                    assert_eq!(p.matches(port), r.contains(port) ^ invert, "{r:?} {port}");
                }
            }
        }
        for invert in [false, true] {
            let p = PlainPorts::of(PortRange { first: 10, last: 5 }, invert);
            // All ports (inverted), or none, which is not a mask.
            assert_eq!(p.exact(), invert.then_some((0, 0)));
            for port in 0..=u16::MAX {
                assert_eq!(p.matches(port), invert, "empty range, port {port}");
            }
        }
    }

    /// A range said to be a mask and a value is exactly the ports under
    /// the mask with that value; the ranges that are none say so.
    #[test]
    fn exact_ports_are_the_range() {
        let ranges = [
            ((0, 65535), true),
            ((9, 9), true),
            ((65535, 65535), true),
            ((0x0800, 0x08ff), true),
            ((0, 0xff), true),
            ((0xff00, 0xffff), true),
            ((100, 355), false),
            ((0x0800, 0x08fe), false),
            ((0x0801, 0x08ff), false),
            ((1024, 65535), false),
            ((80, 443), false),
        ];
        for ((first, last), exact) in ranges {
            let r = PortRange { first, last };
            assert_eq!(PlainPorts::of(r, true).exact(), None, "{r:?} inverted");
            let p = PlainPorts::of(r, false);
            let Some((mask, value)) = p.exact() else {
                assert!(!exact, "{r:?}");
                continue;
            };
            assert!(exact, "{r:?}");
            for port in 0..=u16::MAX {
                assert_eq!(port & mask == value, r.contains(port), "{r:?} {port}");
            }
        }
    }
}
