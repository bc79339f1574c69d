// SPDX-License-Identifier: GPL-2.0

//! The tables and the decoded form of a ruleset.
//!
//! Each table is a small declarative description ([`TableDesc`]): its
//! name, the hooks it has built-in chains at, and its priority at each,
//! like `iptable_filter.c`'s `xt_table`. A decoded table is three flat
//! arrays in caller storage, chains then rules then matches:
//!
//! - chains in canonical order: built-in chains in hook order, then
//!   user-defined chains sorted by name (as libiptc keeps them); each owns
//!   a contiguous run of rules;
//! - rules in chain order; the rule index is the counter index;
//! - matches, each rule owning a contiguous run.
//!
//! The chains and rules also hold the classifier's index
//! ([`super::classify`]), built at decode: nothing else to allocate.

use super::classify::{Key, Keys, Links};
use super::ip::IpMatch;
use super::matches::Match;
use super::name::ChainName;
use super::proto::Hook;
use super::targets::Target;
use super::{hook_bit, MAX_CHAIN_NAME};

/// A table kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    /// `filter`: INPUT, FORWARD, OUTPUT.
    #[default]
    Filter,
    /// `mangle`: all five hooks.
    Mangle,
    /// `raw`: PREROUTING, OUTPUT, before connection tracking.
    Raw,
    /// `nat`: PREROUTING, INPUT, OUTPUT, POSTROUTING.
    Nat,
}

/// The description of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDesc {
    /// The kind.
    pub kind: TableKind,
    /// Name as iptables spells it.
    pub name: &'static str,
    /// The hooks with a built-in chain, in hook order.
    pub hooks: &'static [Hook],
    /// Netfilter priority at each of `hooks` (`NF_IP_PRI_*`).
    pub priorities: &'static [i32],
}

/// The tables, in the order `iptables-save` prints them.
pub const TABLES: [TableDesc; 4] = [
    TableDesc {
        kind: TableKind::Raw,
        name: "raw",
        hooks: &[Hook::PreRouting, Hook::LocalOut],
        priorities: &[-300, -300],
    },
    TableDesc {
        kind: TableKind::Mangle,
        name: "mangle",
        hooks: &Hook::ALL,
        priorities: &[-150, -150, -150, -150, -150],
    },
    TableDesc {
        kind: TableKind::Nat,
        name: "nat",
        hooks: &[
            Hook::PreRouting,
            Hook::LocalIn,
            Hook::LocalOut,
            Hook::PostRouting,
        ],
        // Destination NAT before filtering, source NAT after.
        priorities: &[-100, 100, -100, 100],
    },
    TableDesc {
        kind: TableKind::Filter,
        name: "filter",
        hooks: &[Hook::LocalIn, Hook::Forward, Hook::LocalOut],
        priorities: &[0, 0, 0],
    },
];

impl TableKind {
    /// The table called `name`.
    pub fn from_name(name: &str) -> Option<TableKind> {
        TABLES.iter().find(|d| d.name == name).map(|d| d.kind)
    }

    /// Its description.
    pub fn desc(self) -> &'static TableDesc {
        match self {
            TableKind::Raw => &TABLES[0],
            TableKind::Mangle => &TABLES[1],
            TableKind::Nat => &TABLES[2],
            TableKind::Filter => &TABLES[3],
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.desc().name
    }

    /// The mask ([`hook_bit`]) of hooks it has a chain at.
    pub fn hook_mask(self) -> u8 {
        self.desc().hooks.iter().fold(0, |m, &h| m | hook_bit(h))
    }

    /// The hook whose built-in chain in this table is called `name`.
    pub fn builtin(self, name: &str) -> Option<Hook> {
        self.desc().hooks.iter().copied().find(|h| h.name() == name)
    }

    /// Its priority at `hook`, if it has a chain there.
    pub fn priority(self, hook: Hook) -> Option<i32> {
        let d = self.desc();
        let k = d.hooks.iter().position(|&h| h == hook)?;
        d.priorities.get(k).copied()
    }
}

/// A built-in chain's policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// `NF_ACCEPT`.
    #[default]
    Accept,
    /// `NF_DROP`.
    Drop,
}

impl Policy {
    /// The policy with netfilter verdict number `n` (`NF_DROP` 0,
    /// `NF_ACCEPT` 1).
    pub fn from_number(n: u32) -> Option<Policy> {
        match n {
            0 => Some(Policy::Drop),
            1 => Some(Policy::Accept),
            _ => None,
        }
    }

    /// Its netfilter verdict number.
    pub fn number(self) -> u32 {
        match self {
            Policy::Drop => 0,
            Policy::Accept => 1,
        }
    }
}

/// A packet and byte counter pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// No chain: an entry of [`TableInfo::hook_chain`] for a hook the table
/// has no chain at.
pub const NO_CHAIN: u16 = u16::MAX;

/// A chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub(super) name: ChainName,
    pub(super) hook: Option<Hook>,
    pub(super) policy: Policy,
    pub(super) policy_counters: Counters,
    pub(super) origin: Option<u32>,
    pub(super) first_rule: u32,
    pub(super) rule_count: u32,
    pub(super) input_index: u16,
    /// Post-order number in the jump graph: every jump or goto leads to a
    /// chain with a smaller rank. The evaluator checks it, so it ends
    /// whatever the arrays hold.
    pub(super) rank: u16,
    pub(super) hooks: u8,
    pub(super) depth: u8,
    /// What the classifier indexes its rules by ([`super::classify`]).
    pub(super) index: Keys,
    // Scratch for decoding and validation.
    pub(super) fill: u32,
    pub(super) scan: u32,
    pub(super) parent: u16,
    pub(super) next: u16,
    pub(super) color: u8,
}

impl Chain {
    /// Its name.
    pub fn name(&self) -> &ChainName {
        &self.name
    }

    /// The hook of a built-in chain; `None` for a user-defined one.
    pub fn hook(&self) -> Option<Hook> {
        self.hook
    }

    /// Whether it is a built-in chain.
    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }

    /// The policy of a built-in chain (Accept for a user-defined one).
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The policy counters as restored (built-in chains).
    pub fn policy_counters(&self) -> Counters {
        self.policy_counters
    }

    /// Where the built-in chain was in the dump the ruleset was edited
    /// from (`CHAIN_ORIGIN`): whose policy counters it continues.
    pub fn origin(&self) -> Option<u32> {
        self.origin
    }

    /// Index of its first rule in the table.
    pub fn first_rule(&self) -> u32 {
        self.first_rule
    }

    /// Number of rules.
    pub fn rule_count(&self) -> u32 {
        self.rule_count
    }

    /// The indices of its rules in the table.
    pub fn rules(&self) -> core::ops::Range<u32> {
        self.first_rule..self.first_rule.saturating_add(self.rule_count)
    }

    /// Its position among the chain nests of the input (first appearance).
    pub fn input_index(&self) -> u16 {
        self.input_index
    }

    /// Mask ([`hook_bit`]) of the hooks it is reachable from.
    pub fn hook_mask(&self) -> u8 {
        self.hooks
    }

    /// Most jumps on a path from a built-in chain (or an unreachable
    /// chain) to it.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// The first (most selective) condition the classifier indexes its
    /// rules by; [`Key::Linear`] if every rule is tried.
    pub fn index_key(&self) -> Key {
        self.index.first()
    }

    /// Every condition the classifier indexes its rules by, the most
    /// selective first; none if every rule is tried.
    pub fn index_keys(&self) -> &[Key] {
        self.index.as_slice()
    }
}

/// A rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub(super) ip: IpMatch,
    pub(super) target: Target,
    pub(super) match_start: u32,
    pub(super) match_count: u8,
    pub(super) counters: Counters,
    pub(super) origin: Option<u32>,
    /// Its place in its chain's index ([`super::classify`]).
    pub(super) links: Links,
}

impl Rule {
    /// The part of the rule every rule has.
    pub fn ip(&self) -> &IpMatch {
        &self.ip
    }

    /// The target; jumps hold the chain index.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Index of its first match in the table.
    pub fn match_start(&self) -> u32 {
        self.match_start
    }

    /// Number of matches.
    pub fn match_count(&self) -> usize {
        usize::from(self.match_count)
    }

    /// The counters as restored.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Where the rule was in the dump the ruleset was edited from
    /// (`RULE_ORIGIN`): whose counters it continues.
    pub fn origin(&self) -> Option<u32> {
        self.origin
    }
}

/// What a table is beyond its three arrays; kept by the caller next to
/// them to rebuild the [`Table`] view with [`Table::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableInfo {
    /// The table.
    pub kind: TableKind,
    /// For each hook (by number), the index of its built-in chain or
    /// [`NO_CHAIN`].
    pub hook_chain: [u16; 5],
    /// Number of chains.
    pub chains: usize,
    /// Number of rules.
    pub rules: usize,
    /// Number of matches.
    pub matches: usize,
    /// Deepest nesting of jumps.
    pub max_depth: u8,
}

/// A decoded, validated table: a view of the caller's storage.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    info: TableInfo,
    chains: &'a [Chain],
    rules: &'a [Rule],
    matches: &'a [Match],
}

impl<'a> Table<'a> {
    /// The view of arrays filled by [`super::decode()`], which returned a
    /// table with this `info`. `None` if the lengths differ from `info`.
    ///
    /// The evaluator never panics and always ends, whatever the arrays
    /// hold; given other arrays than the decoder filled, its verdicts are
    /// of course meaningless.
    pub fn new(
        info: &TableInfo,
        chains: &'a [Chain],
        rules: &'a [Rule],
        matches: &'a [Match],
    ) -> Option<Table<'a>> {
        if chains.len() != info.chains || rules.len() != info.rules || matches.len() != info.matches
        {
            return None;
        }
        Some(Table {
            info: *info,
            chains,
            rules,
            matches,
        })
    }

    /// Its info, to keep with the arrays.
    pub fn info(&self) -> &TableInfo {
        &self.info
    }

    /// The table kind.
    pub fn kind(&self) -> TableKind {
        self.info.kind
    }

    /// The chains, in canonical order.
    pub fn chains(&self) -> &'a [Chain] {
        self.chains
    }

    /// The rules, in chain order.
    pub fn rules(&self) -> &'a [Rule] {
        self.rules
    }

    /// All matches.
    pub fn all_matches(&self) -> &'a [Match] {
        self.matches
    }

    /// The matches of `rule`.
    pub fn matches_of(&self, rule: &Rule) -> &'a [Match] {
        let start = rule.match_start as usize;
        start
            .checked_add(rule.match_count())
            .and_then(|end| self.matches.get(start..end))
            .unwrap_or(&[])
    }

    /// The rules of `chain`.
    pub fn rules_of(&self, chain: &Chain) -> &'a [Rule] {
        let r = chain.rules();
        self.rules
            .get(r.start as usize..r.end as usize)
            .unwrap_or(&[])
    }

    /// The index of the built-in chain at `hook`.
    pub fn hook_chain(&self, hook: Hook) -> Option<u16> {
        // Each field by name: an index computed at run time would keep
        // the table's view in memory in the packet path.
        let [pre, input, forward, output, post] = self.info.hook_chain;
        let c = match hook {
            Hook::PreRouting => pre,
            Hook::LocalIn => input,
            Hook::Forward => forward,
            Hook::LocalOut => output,
            Hook::PostRouting => post,
        };
        (usize::from(c) < self.chains.len()).then_some(c)
    }

    /// Whether the table does anything at `hook`: it has a chain there
    /// with rules or a DROP policy. A hook where no table does anything
    /// need not be registered.
    pub fn active_at(&self, hook: Hook) -> bool {
        self.hook_chain(hook)
            .and_then(|c| self.chains.get(usize::from(c)))
            .is_some_and(|c| c.rule_count > 0 || c.policy != Policy::Accept)
    }

    /// The chain called `name`.
    pub fn chain_by_name(&self, name: &str) -> Option<u16> {
        find_chain(self.chains, name)
    }

    /// Number of counters the kernel keeps: one per rule, then one per
    /// chain (the policy counter of a built-in chain).
    pub fn counter_count(&self) -> usize {
        self.rules.len() + self.chains.len()
    }

    /// The counter index of the policy of chain `chain`.
    pub fn policy_counter(&self, chain: u16) -> u32 {
        (self.rules.len() + usize::from(chain)) as u32
    }
}

/// Where chain `name` is among `chains` in canonical order: built-in
/// chains (a few) by a scan, user-defined ones by binary search.
pub(super) fn find_chain(chains: &[Chain], name: &str) -> Option<u16> {
    if name.len() > MAX_CHAIN_NAME {
        return None;
    }
    let builtins = chains.iter().take_while(|c| c.hook.is_some()).count();
    if let Some(k) = chains
        .get(..builtins)?
        .iter()
        .position(|c| c.name.as_bytes() == name.as_bytes())
    {
        return u16::try_from(k).ok();
    }
    let users = chains.get(builtins..)?;
    let k = users
        .binary_search_by(|c| c.name.as_bytes().cmp(name.as_bytes()))
        .ok()?;
    u16::try_from(builtins + k).ok()
}
