// SPDX-License-Identifier: GPL-2.0

//! Plain chains: the walk of a small chain of simple rules without the
//! general walker's machinery.
//!
//! Most built-in chains of a small ruleset are a few rules that look at
//! addresses, the protocol, ports, TCP flags or the ICMP type and end in
//! ACCEPT, DROP or a queue: `-s 10.0.1.0/24 -p udp --dport 53 -j ACCEPT`.
//! Such a chain is compiled, when its ruleset is committed, into an array
//! of [`PlainRule`]s, each holding its IP test, its transport match, its
//! counter and its verdict, so that [`walk`] reads one entry per rule and
//! the packet's parsed headers ([`Headers`]) and counts through a closure:
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
use super::packet::{Headers, L4};
use super::proto::{self, Hook};
use super::table::{Chain, Policy, Rule, Table};
use super::targets::Target;

/// The one transport match a plain rule may have, shaped at commit as
/// [`PlainIp`] is: each inversion a flag of its own, port ranges as
/// [`PlainPorts`].
#[derive(Clone, Copy, Debug, Default)]
enum L4Match {
    /// None.
    #[default]
    Any,
    /// The tcp match ([`Tcp::matches_l4`]).
    Tcp {
        sports: PlainPorts,
        dports: PlainPorts,
        flags_mask: u8,
        flags_comp: u8,
        inv_flags: bool,
    },
    /// The udp match ([`Udp::matches_l4`]).
    Udp {
        sports: PlainPorts,
        dports: PlainPorts,
    },
    /// The icmp match.
    Icmp(Icmp),
}

impl L4Match {
    /// `m` as a plain rule's transport match, if it may be one.
    fn of(m: &Match) -> Option<L4Match> {
        let inv = |invert: u8, bit: u32| u32::from(invert) & bit != 0;
        Some(match m {
            Match::Tcp(t) => L4Match::Tcp {
                sports: PlainPorts::of(t.sports, inv(t.invert, proto::TCP_INV_SPORTS)),
                dports: PlainPorts::of(t.dports, inv(t.invert, proto::TCP_INV_DPORTS)),
                flags_mask: t.flags_mask,
                flags_comp: t.flags_comp,
                inv_flags: inv(t.invert, proto::TCP_INV_FLAGS),
            },
            Match::Udp(u) => L4Match::Udp {
                sports: PlainPorts::of(u.sports, inv(u.invert, proto::TCP_INV_SPORTS)),
                dports: PlainPorts::of(u.dports, inv(u.invert, proto::TCP_INV_DPORTS)),
            },
            Match::Icmp(i) => L4Match::Icmp(*i),
            _ => return None,
        })
    }

    /// What it reads of the transport header ([`MatchOps::NEEDS`]).
    #[inline(always)]
    fn needs(&self) -> Needs {
        match self {
            L4Match::Any => Needs::Nothing,
            L4Match::Tcp { .. } => Tcp::NEEDS,
            L4Match::Udp { .. } => Udp::NEEDS,
            L4Match::Icmp(_) => Icmp::NEEDS,
        }
    }

    #[inline(always)]
    fn matches(&self, l4: &L4) -> bool {
        match (self, *l4) {
            (L4Match::Any, _) => true,
            (
                L4Match::Tcp {
                    sports,
                    dports,
                    flags_mask,
                    flags_comp,
                    inv_flags,
                },
                L4::Tcp {
                    sport,
                    dport,
                    flags,
                },
            ) => {
                sports.matches(sport)
                    && dports.matches(dport)
                    && (flags & flags_mask == *flags_comp) != *inv_flags
            }
            (L4Match::Udp { sports, dports }, L4::Udp { sport, dport }) => {
                sports.matches(sport) && dports.matches(dport)
            }
            (L4Match::Icmp(m), _) => m.matches_l4(l4),
            // A header of another protocol, a later fragment, a truncated
            // header: as the matches say, no match.
            (L4Match::Tcp { .. } | L4Match::Udp { .. }, _) => false,
        }
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
    fn matches(&self, h: &Headers) -> bool {
        // A test passes when "differs" is what its inversion asks for.
        (u32::from_ne_bytes(h.saddr) & self.src_mask != self.src) == self.inv_src
            && (u32::from_ne_bytes(h.daddr) & self.dst_mask != self.dst) == self.inv_dst
            && (self.proto == 0 || (h.protocol != self.proto) == self.inv_proto)
            && self.fragments & (1 << u8::from(h.fragment_offset != 0)) != 0
    }
}

/// A rule of a plain chain as [`walk`] reads it: its IP test, its
/// transport match, its counter and its verdict, in one place.
///
/// The verdict is a `V`, made from the rule's [`Verdict`] by [`compile`]:
/// the kernel keeps the verdict a hook function returns, so that the walk
/// gives it as it is.
#[derive(Clone, Copy, Debug)]
pub struct PlainRule<V = Verdict> {
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
            ip: PlainIp::default(),
            l4: L4Match::Any,
            counter: 0,
            verdict: None,
        }
    }
}

/// A plain chain: where its rules are in the array [`compile`] filled,
/// and its policy (as a `V`, as the rules' verdicts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainChain<V = Verdict> {
    start: u32,
    end: u32,
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
    /// the same for any [`Headers::l4`] (and the caller need not parse
    /// it: [`super::packet::parse_ip_headers`]).
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
        [] => L4Match::Any,
        [m] => L4Match::of(m)?,
        _ => return None,
    };
    Some(PlainRule {
        ip: PlainIp::of(&rule.ip),
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

/// Compiles the plain chain of `table` at `hook` into `out` from index
/// `at` on ([`plain_len`] entries), each verdict made a `V` by `verdict`:
/// the chain [`walk`] takes with `out`. `None` when the chain is not plain
/// or `out` is too short.
pub fn compile<V: Copy>(
    table: &Table<'_>,
    hook: Hook,
    out: &mut [PlainRule<V>],
    at: usize,
    verdict: impl Fn(Verdict) -> V,
) -> Option<PlainChain<V>> {
    let (base, chain) = linear_chain(table, hook)?;
    let rules = table.rules_of(chain);
    let end = at.checked_add(rules.len())?;
    let slots = out.get_mut(at..end)?;
    let first = chain.rules().start;
    let mut transport = false;
    for (i, (slot, rule)) in slots.iter_mut().zip(rules).enumerate() {
        *slot = flatten(table, rule, first.wrapping_add(i as u32), &verdict)?;
        transport |= !matches!(slot.l4, L4Match::Any);
    }
    Some(PlainChain {
        start: u32::try_from(at).ok()?,
        end: u32::try_from(end).ok()?,
        policy: verdict(match chain.policy {
            Policy::Accept => Verdict::Accept,
            Policy::Drop => Verdict::Drop,
        }),
        drop: verdict(Verdict::Drop),
        policy_counter: table.policy_counter(base),
        transport,
    })
}

/// The verdict of the plain chain `chain`, whose rules are in `rules`
/// (as [`compile`] filled it), for a packet with headers `h` and length
/// `len`; `count(counter, len)` counts a rule that matched or the policy,
/// as [`super::Context::count`]. `None` for a chain outside `rules`
/// (which [`compile`] does not give), whose packet is to be dropped.
#[inline(always)]
pub fn walk<V: Copy>(
    chain: &PlainChain<V>,
    rules: &[PlainRule<V>],
    h: &Headers,
    len: u32,
    mut count: impl FnMut(u32, u32),
) -> Option<V> {
    let rules = rules.get(chain.start as usize..chain.end as usize)?;
    // Decided once: whole packets pay nothing for the hot drop.
    let truncated = matches!(h.l4, L4::Truncated { .. });
    for rule in rules {
        if !rule.ip.matches(h) {
            continue;
        }
        if truncated && rule.l4.needs().hot_drops(&h.l4) {
            return Some(chain.drop);
        }
        if !rule.l4.matches(&h.l4) {
            continue;
        }
        count(rule.counter, len);
        if let Some(v) = rule.verdict {
            return Some(v);
        }
    }
    count(chain.policy_counter, len);
    Some(chain.policy)
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
            for port in 0..=u16::MAX {
                assert_eq!(p.matches(port), invert, "empty range, port {port}");
            }
        }
    }
}
