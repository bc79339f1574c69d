// SPDX-License-Identifier: GPL-2.0

//! A decoded table back into the wire format, for dumps and `save`.
//!
//! A dump too large for one message is cut between rules: the caller
//! closes the chain nest when [`encode_rule`] reports the buffer full,
//! sends the message, and starts the next with the table name and
//! [`encode_chain_start`] with `continued` set.

use super::ip::IpMatch;
use super::matches::Match;
use super::nla::{Nest, NlaError, Writer};
use super::proto;
use super::table::{Chain, Counters, Table};
use super::targets::Target;

/// A rule as the encoder needs it; userspace can build one from parts.
#[derive(Clone, Copy, Debug)]
pub struct RuleRef<'a> {
    /// The IP part.
    pub ip: &'a IpMatch,
    /// The matches.
    pub matches: &'a [Match],
    /// The target.
    pub target: &'a Target,
    /// The chain name of a jump or goto target.
    pub jump: &'a str,
    /// The counters to report.
    pub counters: Counters,
}

impl<'a> Table<'a> {
    /// Rule `index` for the encoder, with `counters` (the kernel's sums).
    pub fn rule_ref(&self, index: u32, counters: Counters) -> Option<RuleRef<'a>> {
        let rule = self.rules().get(index as usize)?;
        let jump = rule
            .target
            .chain()
            .and_then(|c| self.chains().get(usize::from(c)))
            .map_or("", |c| c.name.as_str());
        Some(RuleRef {
            ip: &rule.ip,
            matches: self.matches_of(rule),
            target: &rule.target,
            jump,
            counters,
        })
    }
}

/// Write one `CHAIN_RULE` nest. On failure nothing is left written.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if the writer is full.
pub fn encode_rule(w: &mut Writer<'_>, r: &RuleRef<'_>) -> Result<(), NlaError> {
    let mark = w.mark();
    let res = (|| {
        let n = w.begin_nest(proto::CHAIN_RULE)?;
        r.ip.encode(w)?;
        for m in r.matches {
            let mn = w.begin_nest(proto::RULE_MATCH)?;
            m.encode(w)?;
            w.end_nest(mn)?;
        }
        if *r.target != Target::None {
            let tn = w.begin_nest(proto::RULE_TARGET)?;
            r.target.encode(w, r.jump)?;
            w.end_nest(tn)?;
        }
        w.put_u64(proto::RULE_PACKETS, r.counters.packets)?;
        w.put_u64(proto::RULE_BYTES, r.counters.bytes)?;
        w.end_nest(n)
    })();
    if res.is_err() {
        w.rollback(mark);
    }
    res
}

/// Open a `TABLE_CHAIN` nest for `chain`: its name, and unless
/// `continued`, the policy and `policy_counters` of a built-in chain.
/// Close it with [`Writer::end_nest`].
///
/// # Errors
///
/// [`NlaError::NoSpace`] if the writer is full; nothing is left written.
pub fn encode_chain_start(
    w: &mut Writer<'_>,
    chain: &Chain,
    continued: bool,
    policy_counters: Counters,
) -> Result<Nest, NlaError> {
    let mark = w.mark();
    let res = (|| {
        let n = w.begin_nest(proto::TABLE_CHAIN)?;
        w.put_str(proto::CHAIN_NAME, chain.name.as_str())?;
        if continued {
            w.put_flag(proto::CHAIN_CONTINUED)?;
        } else if chain.is_builtin() {
            w.put_u32(proto::CHAIN_POLICY, chain.policy.number())?;
            w.put_u64(proto::CHAIN_PACKETS, policy_counters.packets)?;
            w.put_u64(proto::CHAIN_BYTES, policy_counters.bytes)?;
        }
        Ok(n)
    })();
    if res.is_err() {
        w.rollback(mark);
    }
    res
}

/// Write the whole table: its name and every chain with its rules, a
/// chain continued in a new nest where one would pass 64 KiB.
/// `counters(i)` gives the counters of counter index `i` (rules, then
/// policies as [`Table::policy_counter`]).
///
/// # Errors
///
/// [`NlaError::NoSpace`] if the writer is full.
pub fn encode_table(
    w: &mut Writer<'_>,
    table: &Table<'_>,
    mut counters: impl FnMut(u32) -> Counters,
) -> Result<(), NlaError> {
    w.put_str(proto::TABLE_NAME, table.kind().name())?;
    for (ci, c) in table.chains().iter().enumerate() {
        let pc = counters(table.policy_counter(ci as u16));
        let mut n = encode_chain_start(w, c, false, pc)?;
        let mut in_nest = 0;
        for i in c.rules() {
            let r = table.rule_ref(i, counters(i)).ok_or(NlaError::NoSpace)?;
            let mark = w.mark();
            encode_rule(w, &r)?;
            if w.nest_len(&n) > usize::from(u16::MAX) && in_nest > 0 {
                w.rollback(mark);
                w.end_nest(n)?;
                n = encode_chain_start(w, c, true, pc)?;
                in_nest = 0;
                encode_rule(w, &r)?;
            }
            in_nest += 1;
        }
        w.end_nest(n)?;
    }
    Ok(())
}
