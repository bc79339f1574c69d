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
//! same verdict and the same counts in the same order, the hot drop of a
//! truncated transport header included (the host tests compare the two on
//! random plain chains and packets).
//!
//! [`Context`]: super::Context
//! [`IpMatch::reads_ifaces`]: super::IpMatch::reads_ifaces
//! [`NfQueue::fixed`]: super::targets::queue::NfQueue::fixed

use super::eval::Verdict;
use super::ip::IpMatch;
use super::matches::icmp::Icmp;
use super::matches::tcp::Tcp;
use super::matches::udp::Udp;
use super::matches::{Match, MatchOps, Needs};
use super::packet::{Headers, L4};
use super::proto::Hook;
use super::table::{Chain, Policy, Rule, Table};
use super::targets::Target;

/// The one transport match a plain rule may have.
#[derive(Clone, Copy, Debug, Default)]
enum L4Match {
    /// None.
    #[default]
    Any,
    Tcp(Tcp),
    Udp(Udp),
    Icmp(Icmp),
}

impl L4Match {
    /// `m` as a plain rule's transport match, if it may be one.
    fn of(m: &Match) -> Option<L4Match> {
        match m {
            Match::Tcp(t) => Some(L4Match::Tcp(*t)),
            Match::Udp(u) => Some(L4Match::Udp(*u)),
            Match::Icmp(i) => Some(L4Match::Icmp(*i)),
            _ => None,
        }
    }

    /// What it reads of the transport header ([`MatchOps::NEEDS`]).
    #[inline(always)]
    fn needs(&self) -> Needs {
        match self {
            L4Match::Any => Needs::Nothing,
            L4Match::Tcp(_) => Tcp::NEEDS,
            L4Match::Udp(_) => Udp::NEEDS,
            L4Match::Icmp(_) => Icmp::NEEDS,
        }
    }

    #[inline(always)]
    fn matches(&self, l4: &L4) -> bool {
        match self {
            L4Match::Any => true,
            L4Match::Tcp(m) => m.matches_l4(l4),
            L4Match::Udp(m) => m.matches_l4(l4),
            L4Match::Icmp(m) => m.matches_l4(l4),
        }
    }
}

/// A rule of a plain chain as [`walk`] reads it: its IP test, its
/// transport match, its counter and its verdict, in one place.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainRule {
    ip: IpMatch,
    l4: L4Match,
    /// The rule's counter: its index in the table.
    counter: u32,
    /// What the rule decides; `None` for a rule without a target, after
    /// which the walk goes on.
    verdict: Option<Verdict>,
}

/// A plain chain: where its rules are in the array [`compile`] filled,
/// and its policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainChain {
    start: u32,
    end: u32,
    policy: Verdict,
    /// The policy's counter ([`Table::policy_counter`]).
    policy_counter: u32,
    /// Whether a rule has a transport match.
    transport: bool,
}

impl PlainChain {
    /// Whether a rule reads the transport header: if not, [`walk`] gives
    /// the same for any [`Headers::l4`] (and the caller need not parse
    /// it: [`super::packet::parse_ip_headers`]).
    pub fn reads_transport(&self) -> bool {
        self.transport
    }
}

/// The flat form of `rule`, whose counter is `counter`, if it may be in a
/// plain chain.
fn flatten(table: &Table<'_>, rule: &Rule, counter: u32) -> Option<PlainRule> {
    let verdict = match rule.target {
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
        ip: rule.ip,
        l4,
        counter,
        verdict,
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
        .all(|(i, r)| flatten(table, r, first.wrapping_add(i as u32)).is_some())
        .then_some(rules.len())
}

/// Whether the chain of `table` at `hook` is plain, so that [`walk`] may
/// walk it.
pub fn is_plain(table: &Table<'_>, hook: Hook) -> bool {
    plain_len(table, hook).is_some()
}

/// Compiles the plain chain of `table` at `hook` into `out` from index
/// `at` on ([`plain_len`] entries): the chain [`walk`] takes with `out`.
/// `None` when the chain is not plain or `out` is too short.
pub fn compile(
    table: &Table<'_>,
    hook: Hook,
    out: &mut [PlainRule],
    at: usize,
) -> Option<PlainChain> {
    let (base, chain) = linear_chain(table, hook)?;
    let rules = table.rules_of(chain);
    let end = at.checked_add(rules.len())?;
    let slots = out.get_mut(at..end)?;
    let first = chain.rules().start;
    let mut transport = false;
    for (i, (slot, rule)) in slots.iter_mut().zip(rules).enumerate() {
        *slot = flatten(table, rule, first.wrapping_add(i as u32))?;
        transport |= !matches!(slot.l4, L4Match::Any);
    }
    Some(PlainChain {
        start: u32::try_from(at).ok()?,
        end: u32::try_from(end).ok()?,
        policy: match chain.policy {
            Policy::Accept => Verdict::Accept,
            Policy::Drop => Verdict::Drop,
        },
        policy_counter: table.policy_counter(base),
        transport,
    })
}

/// The verdict of the plain chain `chain`, whose rules are in `rules`
/// (as [`compile`] filled it), for a packet with headers `h` and length
/// `len`; `count(counter, len)` counts a rule that matched or the policy,
/// as [`super::Context::count`]. A chain outside `rules` (which
/// [`compile`] does not give) drops the packet.
#[inline]
pub fn walk(
    chain: &PlainChain,
    rules: &[PlainRule],
    h: &Headers,
    len: u32,
    mut count: impl FnMut(u32, u32),
) -> Verdict {
    let Some(rules) = rules.get(chain.start as usize..chain.end as usize) else {
        return Verdict::Drop;
    };
    // Decided once: whole packets pay nothing for the hot drop.
    let truncated = matches!(h.l4, L4::Truncated { .. });
    for rule in rules {
        if !rule.ip.matches_headers(h) {
            continue;
        }
        if truncated && rule.l4.needs().hot_drops(&h.l4) {
            return Verdict::Drop;
        }
        if !rule.l4.matches(&h.l4) {
            continue;
        }
        count(rule.counter, len);
        if let Some(v) = rule.verdict {
            return v;
        }
    }
    count(chain.policy_counter, len);
    chain.policy
}
