// SPDX-License-Identifier: GPL-2.0

//! Validation of a decoded table: the jump graph, then each rule against
//! the hooks its chain is reachable from (`mark_source_chains` and
//! `check_entry_size_and_hooks` in `ip_tables.c`).
//!
//! The graph is walked depth-first without recursion or allocation: each
//! chain records its parent and how far its rules have been scanned. A
//! jump or goto to a chain still on the path is a loop. Chains are
//! numbered in post-order ([`Chain`]'s `rank`: every jump leads to a lower
//! rank) and linked in reverse post-order, a topological order in which
//! the hooks each chain is reachable from and its jump depth are then
//! propagated.

use super::error::Reason;
use super::matches::{hooks, CheckCtx, Match};
use super::proto;
use super::table::{Chain, Rule, TableKind};
use super::targets::Target;
use super::{hook_bit, MAX_DEPTH};

const NONE: u16 = u16::MAX;
const WHITE: u8 = 0;
const GRAY: u8 = 1;
const BLACK: u8 = 2;

/// A problem: chain index, rule position in the chain, reason.
pub(super) type Failure = (u16, Option<u32>, Reason);

/// Validate; returns the deepest jump nesting.
pub(super) fn validate(
    kind: TableKind,
    chains: &mut [Chain],
    rules: &[Rule],
    matches: &[Match],
) -> Result<u8, Failure> {
    let head = graph(chains, rules)?;
    let max_depth = propagate(chains, rules, head)?;
    for (ci, c) in chains.iter().enumerate() {
        for (pos, rule) in rules
            .get(c.first_rule as usize..c.rules().end as usize)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let fail = |reason| (ci as u16, Some(pos as u32), reason);
            check_rule(kind, c.hooks, rule, matches).map_err(fail)?;
        }
    }
    Ok(max_depth)
}

/// The chain rule `r` of the table jumps or goes to.
fn target_of(rules: &[Rule], r: u32) -> Option<u16> {
    rules.get(r as usize).and_then(|rule| rule.target.chain())
}

/// Depth-first walk: loops, ranks and the topological list, whose head
/// it returns.
fn graph(chains: &mut [Chain], rules: &[Rule]) -> Result<u16, Failure> {
    let n = chains.len();
    for c in chains.iter_mut() {
        c.color = WHITE;
        c.next = NONE;
        c.parent = NONE;
        c.scan = c.first_rule;
        c.hooks = c.hook.map_or(0, hook_bit);
        c.depth = 0;
    }
    let mut post: u16 = 0;
    let mut head = NONE;
    for root in 0..n {
        if chains.get(root).is_none_or(|c| c.color != WHITE) {
            continue;
        }
        let mut cur = root as u16;
        if let Some(c) = chains.get_mut(root) {
            c.color = GRAY;
        }
        while let Some(c) = chains.get_mut(usize::from(cur)) {
            if c.scan < c.rules().end {
                let r = c.scan;
                c.scan += 1;
                let pos = r - c.first_rule;
                let Some(t) = target_of(rules, r) else {
                    continue;
                };
                let Some(tc) = chains.get_mut(usize::from(t)) else {
                    return Err((cur, Some(pos), Reason::JumpToMissingChain));
                };
                match tc.color {
                    GRAY => return Err((cur, Some(pos), Reason::Loop)),
                    WHITE => {
                        tc.color = GRAY;
                        tc.parent = cur;
                        cur = t;
                    }
                    _ => {}
                }
            } else {
                c.color = BLACK;
                c.rank = post;
                post = post.wrapping_add(1);
                c.next = head;
                head = cur;
                if usize::from(cur) == root {
                    break;
                }
                cur = c.parent;
            }
        }
    }
    Ok(head)
}

/// Hooks and depths in topological order; returns the deepest nesting.
fn propagate(chains: &mut [Chain], rules: &[Rule], head: u16) -> Result<u8, Failure> {
    let mut cur = head;
    let mut max_depth = 0u8;
    while let Some(c) = chains.get(usize::from(cur)).copied() {
        for r in c.rules() {
            let Some(rule) = rules.get(r as usize) else {
                continue;
            };
            let Some(t) = rule.target.chain() else {
                continue;
            };
            let jump = u8::from(matches!(rule.target, Target::Jump(_)));
            let depth = c.depth.saturating_add(jump);
            if usize::from(depth) > MAX_DEPTH {
                return Err((cur, Some(r - c.first_rule), Reason::TooDeep));
            }
            max_depth = max_depth.max(depth);
            if let Some(tc) = chains.get_mut(usize::from(t)) {
                tc.depth = tc.depth.max(depth);
                tc.hooks |= c.hooks;
            }
        }
        cur = c.next;
    }
    Ok(max_depth)
}

/// The checks of one rule in a chain reachable from `hook_mask`.
fn check_rule(
    kind: TableKind,
    hook_mask: u8,
    rule: &Rule,
    matches: &[Match],
) -> Result<(), Reason> {
    if rule.ip.in_iface.is_set() && hook_mask & (hooks::OUT | hooks::POST) != 0 {
        return Err(Reason::InIfaceOnOutput);
    }
    if rule.ip.out_iface.is_set() && hook_mask & (hooks::PRE | hooks::IN) != 0 {
        return Err(Reason::OutIfaceOnInput);
    }
    let cx = CheckCtx {
        table: kind,
        hooks: hook_mask,
        proto: rule.ip.proto,
        proto_inverted: rule.ip.inverted(proto::INV_PROTO),
    };
    let start = rule.match_start as usize;
    let ms = matches
        .get(start..start.saturating_add(rule.match_count()))
        .unwrap_or(&[]);
    for m in ms {
        m.check(&cx)?;
    }
    rule.target.check(&cx)
}
