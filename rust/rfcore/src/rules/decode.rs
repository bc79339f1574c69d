// SPDX-License-Identifier: GPL-2.0

//! The ruleset wire format (`Documentation/ruleset.rst`) into caller
//! storage, without allocating.
//!
//! [`measure`] walks the input once and says how many chains, rules and
//! matches it holds; the caller allocates that many default entries and
//! [`decode()`] fills them in three passes:
//!
//! 1. the chains: names, policies, rule counts; sorted into canonical
//!    order (built-in chains in hook order, then user-defined chains by
//!    name), duplicates and missing built-in chains refused;
//! 2. the rules and their matches, each rule in its chain's run, jump
//!    targets resolved by name;
//! 3. validation: the jump graph and the per-rule checks;
//! 4. the classifier's index of each chain ([`super::classify`]).

use super::error::{Reason, RuleError};
use super::matches::Match;
use super::name::ChainName;
use super::nla::{Attr, Attrs};
use super::proto;
use super::table::{
    find_chain, Chain, Counters, Policy, Rule, Table, TableInfo, TableKind, NO_CHAIN,
};
use super::targets::Target;
use super::validate;
use super::{MAX_CHAINS, MAX_CHAIN_NAME, MAX_MATCHES, MAX_MATCHES_PER_RULE, MAX_RULES};

/// How much storage a ruleset needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Chains.
    pub chains: usize,
    /// Rules.
    pub rules: usize,
    /// Matches.
    pub matches: usize,
}

/// The caller's storage, at least as large as [`measure`] said; entries
/// beyond that are left alone.
#[derive(Debug)]
pub struct Storage<'s> {
    /// Chains.
    pub chains: &'s mut [Chain],
    /// Rules.
    pub rules: &'s mut [Rule],
    /// Matches.
    pub matches: &'s mut [Match],
}

/// Where in the input an error is.
#[derive(Clone, Copy, Default)]
struct At {
    table: ChainName,
    chain: Option<u16>,
    chain_name: ChainName,
    rule: Option<u32>,
}

impl At {
    fn err(&self, reason: Reason) -> RuleError {
        RuleError {
            table: self.table,
            chain: self.chain,
            chain_name: self.chain_name,
            rule: self.rule,
            reason,
        }
    }

    fn chain(&self, c: &Chain) -> At {
        At {
            chain: Some(c.input_index),
            chain_name: c.name,
            rule: None,
            ..*self
        }
    }
}

/// The fixed part of a chain nest.
#[derive(Default)]
struct ChainHeader<'a> {
    name: Option<&'a str>,
    policy: Option<u32>,
    continued: bool,
    packets: Option<u64>,
    bytes: Option<u64>,
    origin: Option<u32>,
    rules: usize,
}

/// Read the fixed part of a chain nest and count its rules.
fn chain_header<'a>(a: &Attr<'a>) -> Result<ChainHeader<'a>, Reason> {
    let mut h = ChainHeader::default();
    for c in a.nested() {
        let c = c?;
        match c.kind() {
            proto::CHAIN_PAD => {}
            proto::CHAIN_NAME => h.name = Some(c.get_str()?),
            proto::CHAIN_POLICY => h.policy = Some(c.get_u32()?),
            proto::CHAIN_CONTINUED => h.continued = c.get_flag()?,
            proto::CHAIN_PACKETS => h.packets = Some(c.get_u64()?),
            proto::CHAIN_BYTES => h.bytes = Some(c.get_u64()?),
            proto::CHAIN_RULE => h.rules += 1,
            proto::CHAIN_ORIGIN => h.origin = Some(c.get_u32()?),
            _ => return Err(Reason::UnknownAttribute),
        }
    }
    Ok(h)
}

/// Count the chains, rules and matches of a ruleset, checking that its
/// attributes are well formed and within the limits.
///
/// # Errors
///
/// A malformed attribute, an unknown attribute at table or chain level,
/// or a limit exceeded; the error says where.
pub fn measure(input: &[u8]) -> Result<Sizes, RuleError> {
    let mut at = At::default();
    let mut s = Sizes::default();
    let mut chain_rules = 0u32;
    for a in Attrs::new(input) {
        let a = a.map_err(|e| at.err(e.into()))?;
        match a.kind() {
            proto::TABLE_NAME => {
                if at.table.is_empty() {
                    at.table = ChainName::truncated(a.get_str().map_err(|e| at.err(e.into()))?);
                }
            }
            proto::TABLE_CHAIN => {
                let h = chain_header(&a);
                if let Ok(h) = &h {
                    if !h.continued {
                        at.chain = Some(s.chains as u16);
                        chain_rules = 0;
                        s.chains += 1;
                        if s.chains > MAX_CHAINS {
                            return Err(at.err(Reason::TooManyChains));
                        }
                    }
                    at.chain_name = ChainName::truncated(h.name.unwrap_or(""));
                }
                at.rule = None;
                h.map_err(|e| at.err(e))?;
                for r in a.nested() {
                    let r = r.map_err(|e| at.err(e.into()))?;
                    if r.kind() != proto::CHAIN_RULE {
                        continue;
                    }
                    at.rule = Some(chain_rules);
                    chain_rules = chain_rules.saturating_add(1);
                    s.rules += 1;
                    if s.rules > MAX_RULES {
                        return Err(at.err(Reason::TooManyRules));
                    }
                    let mut n = 0;
                    for m in r.nested() {
                        let m = m.map_err(|e| at.err(e.into()))?;
                        if m.kind() == proto::RULE_MATCH {
                            n += 1;
                        }
                    }
                    if n > MAX_MATCHES_PER_RULE {
                        return Err(at.err(Reason::TooManyMatches));
                    }
                    s.matches += n;
                    if s.matches > MAX_MATCHES {
                        return Err(at.err(Reason::TooManyMatches));
                    }
                }
            }
            _ => return Err(at.err(Reason::UnknownAttribute)),
        }
    }
    Ok(s)
}

/// Decode and validate a ruleset (the concatenation of its chunks) into
/// `storage`, and return the table: a view of the first
/// [`measure`]`(input)` entries of each array.
///
/// # Errors
///
/// The first problem found, with the table, chain and rule it is in.
pub fn decode<'s>(input: &[u8], storage: Storage<'s>) -> Result<Table<'s>, RuleError> {
    let sizes = measure(input)?;
    let too_small = RuleError::new(Reason::StorageTooSmall);
    let chains = storage.chains.get_mut(..sizes.chains).ok_or(too_small)?;
    let rules = storage.rules.get_mut(..sizes.rules).ok_or(too_small)?;
    let matches = storage.matches.get_mut(..sizes.matches).ok_or(too_small)?;
    chains.fill(Chain::default());

    let (kind, at) = decode_chains(input, chains)?;
    decode_rules(input, &at, chains, rules, matches)?;
    let max_depth =
        validate::validate(kind, chains, rules, matches).map_err(|(c, rule, reason)| {
            let mut e = chains.get(usize::from(c)).map_or(at, |ch| at.chain(ch));
            e.rule = rule;
            e.err(reason)
        })?;

    super::classify::index(chains, rules, matches);

    let mut hook_chain = [NO_CHAIN; 5];
    for (k, c) in chains.iter().enumerate() {
        if let Some(e) = c.hook.and_then(|h| hook_chain.get_mut(h.number() as usize)) {
            *e = k as u16;
        }
    }
    let info = TableInfo {
        kind,
        hook_chain,
        chains: sizes.chains,
        rules: sizes.rules,
        matches: sizes.matches,
        max_depth,
    };
    let chains: &'s [Chain] = chains;
    Table::new(&info, chains, rules, matches).ok_or(too_small)
}

/// Pass 1: the chains, sorted; returns the table and its error position.
fn decode_chains(input: &[u8], chains: &mut [Chain]) -> Result<(TableKind, At), RuleError> {
    let mut at = At::default();
    let mut kind = None;
    let mut n = 0usize;
    let mut last: Option<usize> = None;
    for a in Attrs::new(input) {
        let a = a.map_err(|e| at.err(e.into()))?;
        match a.kind() {
            proto::TABLE_NAME => {
                let name = a.get_str().map_err(|e| at.err(e.into()))?;
                match kind {
                    None => {
                        at.table = ChainName::truncated(name);
                        kind =
                            Some(TableKind::from_name(name).ok_or(at.err(Reason::UnknownTable))?);
                    }
                    Some(k) if TableKind::name(k) == name => {}
                    Some(_) => return Err(at.err(Reason::TableMismatch)),
                }
            }
            proto::TABLE_CHAIN => {
                let Some(kind) = kind else {
                    return Err(at.err(Reason::MissingTableName));
                };
                at.chain = Some(n as u16);
                at.chain_name = ChainName::default();
                let h = chain_header(&a).map_err(|e| at.err(e))?;
                let name = h.name.ok_or(at.err(Reason::MissingChainName))?;
                at.chain_name = ChainName::truncated(name);
                if name.is_empty() || name.len() > MAX_CHAIN_NAME {
                    return Err(at.err(Reason::BadChainName));
                }
                let rules = h.rules as u32;
                if h.continued {
                    let prev = last
                        .and_then(|l| chains.get_mut(l))
                        .filter(|c| c.name.as_bytes() == name.as_bytes());
                    let Some(prev) = prev else {
                        return Err(at.err(Reason::BadContinuation));
                    };
                    at.chain = Some(prev.input_index);
                    if h.policy.is_some()
                        || h.packets.is_some()
                        || h.bytes.is_some()
                        || h.origin.is_some()
                    {
                        return Err(at.err(Reason::ContinuedWithPolicy));
                    }
                    prev.rule_count = prev.rule_count.saturating_add(rules);
                    continue;
                }
                let hook = kind.builtin(name);
                let policy = match (hook, h.policy) {
                    (Some(_), None) => return Err(at.err(Reason::MissingPolicy)),
                    (Some(_), Some(p)) => {
                        Policy::from_number(p).ok_or(at.err(Reason::BadPolicy))?
                    }
                    (None, None)
                        if h.packets.is_none() && h.bytes.is_none() && h.origin.is_none() =>
                    {
                        Policy::Accept
                    }
                    (None, _) => return Err(at.err(Reason::PolicyOnUserChain)),
                };
                let slot = chains.get_mut(n).ok_or(at.err(Reason::StorageTooSmall))?;
                *slot = Chain {
                    name: at.chain_name,
                    hook,
                    policy,
                    policy_counters: Counters {
                        packets: h.packets.unwrap_or(0),
                        bytes: h.bytes.unwrap_or(0),
                    },
                    origin: h.origin,
                    rule_count: rules,
                    input_index: n as u16,
                    ..Chain::default()
                };
                last = Some(n);
                n += 1;
            }
            _ => return Err(at.err(Reason::UnknownAttribute)),
        }
    }
    let Some(kind) = kind else {
        return Err(at.err(Reason::MissingTableName));
    };
    let at = At {
        table: at.table,
        ..At::default()
    };

    // Canonical order: built-in chains in hook order, then by name.
    let key = |c: &Chain| (c.hook.map_or(u32::MAX, |h| h.number()), c.name);
    chains.sort_unstable_by_key(key);
    for pair in chains.windows(2) {
        if let [a, b] = pair {
            if a.name == b.name {
                let dup = if a.input_index > b.input_index { a } else { b };
                return Err(at.chain(dup).err(Reason::DuplicateChain));
            }
        }
    }
    for h in kind.desc().hooks {
        if find_chain(chains, h.name()).is_none() {
            let mut e = at;
            e.chain_name = ChainName::truncated(h.name());
            return Err(e.err(Reason::MissingBuiltinChain));
        }
    }
    let mut first = 0u32;
    for c in chains.iter_mut() {
        c.first_rule = first;
        first = first.saturating_add(c.rule_count);
    }
    Ok((kind, at))
}

/// Pass 2: the rules, each into its chain's run.
fn decode_rules(
    input: &[u8],
    at: &At,
    chains: &mut [Chain],
    rules: &mut [Rule],
    matches: &mut [Match],
) -> Result<(), RuleError> {
    let mut next_match = 0usize;
    for a in Attrs::new(input).flatten() {
        if a.kind() != proto::TABLE_CHAIN {
            continue;
        }
        let name = chain_header(&a).ok().and_then(|h| h.name).unwrap_or("");
        let ci = find_chain(chains, name).ok_or(at.err(Reason::MissingChainName))?;
        let ci = usize::from(ci);
        for r in a.nested().flatten() {
            if r.kind() != proto::CHAIN_RULE {
                continue;
            }
            let Some(c) = chains.get_mut(ci) else {
                return Err(at.err(Reason::StorageTooSmall));
            };
            let pos = c.fill;
            c.fill += 1;
            let index = c.first_rule.saturating_add(pos) as usize;
            let mut e = at.chain(c);
            e.rule = Some(pos);
            let rule =
                decode_rule(r.nested(), chains, matches, &mut next_match).map_err(|r| e.err(r))?;
            *rules.get_mut(index).ok_or(e.err(Reason::StorageTooSmall))? = rule;
        }
    }
    Ok(())
}

/// One rule; its matches go to `matches` from `next_match` on.
fn decode_rule(
    attrs: Attrs<'_>,
    chains: &[Chain],
    matches: &mut [Match],
    next_match: &mut usize,
) -> Result<Rule, Reason> {
    let mut r = Rule {
        match_start: *next_match as u32,
        ..Rule::default()
    };
    let mut have_target = false;
    for a in attrs {
        let a = a?;
        if r.ip.decode_attr(&a)? {
            continue;
        }
        match a.kind() {
            proto::RULE_PAD => {}
            proto::RULE_MATCH => {
                if r.match_count() >= MAX_MATCHES_PER_RULE {
                    return Err(Reason::TooManyMatches);
                }
                let m = Match::decode_nest(a.nested())?;
                *matches
                    .get_mut(*next_match)
                    .ok_or(Reason::StorageTooSmall)? = m;
                *next_match += 1;
                r.match_count += 1;
            }
            proto::RULE_TARGET => {
                if have_target {
                    return Err(Reason::DuplicateTarget);
                }
                have_target = true;
                let (t, jump) = Target::decode_nest(a.nested())?;
                r.target = match jump {
                    None => t,
                    Some(name) => {
                        let c = find_chain(chains, name).ok_or(Reason::JumpToMissingChain)?;
                        if chains.get(usize::from(c)).is_some_and(Chain::is_builtin) {
                            return Err(Reason::JumpToBuiltin);
                        }
                        match t {
                            Target::Goto(_) => Target::Goto(c),
                            _ => Target::Jump(c),
                        }
                    }
                };
            }
            proto::RULE_PACKETS => r.counters.packets = a.get_u64()?,
            proto::RULE_BYTES => r.counters.bytes = a.get_u64()?,
            proto::RULE_ORIGIN => r.origin = Some(a.get_u32()?),
            _ => return Err(Reason::UnknownAttribute),
        }
    }
    r.ip.validate()?;
    Ok(r)
}
