// SPDX-License-Identifier: GPL-2.0

//! Plain chains: the walk of a small chain of simple rules without the
//! general walker's machinery.
//!
//! Most built-in chains of a small ruleset are a few rules that look at
//! addresses, the protocol, ports, TCP flags or the ICMP type and end in
//! ACCEPT, DROP or a queue: `-s 10.0.1.0/24 -p udp --dport 53 -j ACCEPT`.
//! For such a chain [`walk`] reads only the packet's parsed headers
//! ([`Headers`]) and counts through a closure: no packet view with device
//! names and mark, no index cursor, no return stack, no [`Context`].
//!
//! A chain is plain ([`is_plain`]) when it is a built-in chain the
//! classifier left linear and every rule of it
//!
//! - names no interface and inverts no interface test
//!   ([`IpMatch::reads_ifaces`]);
//! - has only tcp, udp and icmp matches ([`Match::matches_l4`]);
//! - has no target, or ACCEPT, DROP, QUEUE, or NFQUEUE to one queue
//!   ([`NfQueue::fixed`]).
//!
//! [`walk`] of a plain chain gives what [`super::evaluate`] gives: the
//! same verdict and the same counts in the same order, the hot drop of a
//! truncated transport header included (the host tests compare the two on
//! random plain chains and packets). The tables are decided once, when a
//! ruleset is committed.
//!
//! [`Context`]: super::Context
//! [`IpMatch::reads_ifaces`]: super::IpMatch::reads_ifaces
//! [`NfQueue::fixed`]: super::targets::queue::NfQueue::fixed
//! [`Match::matches_l4`]: super::Match::matches_l4

use super::eval::Verdict;
use super::packet::{Headers, L4};
use super::proto::Hook;
use super::table::{Policy, Rule, Table};
use super::targets::Target;

/// Whether `rule` may be in a plain chain.
fn plain_rule(table: &Table<'_>, rule: &Rule) -> bool {
    let target = match rule.target {
        Target::None | Target::Accept | Target::Drop | Target::Queue => true,
        Target::NfQueue(q) => q.fixed().is_some(),
        _ => false,
    };
    // `matches_l4` answers for exactly the matches a plain rule may have.
    target
        && !rule.ip.reads_ifaces()
        && table
            .matches_of(rule)
            .iter()
            .all(|m| m.matches_l4(&L4::Other).is_some())
}

/// Whether the chain of `table` at `hook` is plain (see the module
/// documentation), so that [`walk`] may walk it.
pub fn is_plain(table: &Table<'_>, hook: Hook) -> bool {
    let Some(chain) = table
        .hook_chain(hook)
        .and_then(|c| table.chains().get(usize::from(c)))
    else {
        return false;
    };
    chain.index.is_linear() && table.rules_of(chain).iter().all(|r| plain_rule(table, r))
}

/// The verdict of the plain chain of `table` at `hook` (see [`is_plain`])
/// for a packet with headers `h` and length `len`; `count(counter, len)`
/// counts a rule that matched (its index) or the policy
/// ([`Table::policy_counter`]), as [`super::Context::count`]. A table
/// without a chain at `hook` accepts. A rule that is not plain after all
/// (arrays that changed under the caller) drops the packet.
#[inline]
pub fn walk(
    table: &Table<'_>,
    hook: Hook,
    h: &Headers,
    len: u32,
    mut count: impl FnMut(u32, u32),
) -> Verdict {
    let Some(base) = table.hook_chain(hook) else {
        return Verdict::Accept;
    };
    let Some(chain) = table.chains().get(usize::from(base)) else {
        return Verdict::Accept;
    };
    // Decided once: whole packets pay nothing for the hot drop.
    let truncated = matches!(h.l4, L4::Truncated { .. });
    let first = chain.rules().start;
    'rules: for (i, rule) in table.rules_of(chain).iter().enumerate() {
        if !rule.ip.matches_headers(h) {
            continue;
        }
        for m in table.matches_of(rule) {
            if truncated && m.needs().hot_drops(&h.l4) {
                return Verdict::Drop;
            }
            match m.matches_l4(&h.l4) {
                Some(true) => {}
                Some(false) => continue 'rules,
                None => return Verdict::Drop,
            }
        }
        count(first.wrapping_add(i as u32), len);
        match rule.target {
            Target::None => {}
            Target::Accept => return Verdict::Accept,
            Target::Drop => return Verdict::Drop,
            Target::Queue => return Verdict::QUEUE,
            Target::NfQueue(q) => return q.fixed().unwrap_or(Verdict::Drop),
            _ => return Verdict::Drop,
        }
    }
    count(table.policy_counter(base), len);
    match chain.policy {
        Policy::Accept => Verdict::Accept,
        Policy::Drop => Verdict::Drop,
    }
}
