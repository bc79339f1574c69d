// SPDX-License-Identifier: GPL-2.0

//! A table as rfctl edits it: chains in canonical order, each owning its
//! rules, built from the pure core's types (`rfcore::rules`).
//!
//! The kernel's decoded form keeps three flat arrays and jump targets as
//! chain indices; rfctl keeps one `Vec` of rules per chain and jump
//! targets by name, so that inserting a rule or a chain is a `Vec`
//! operation. [`crate::wire`] converts between this and the wire format.

use rfcore::rules::table::TableKind;
use rfcore::rules::{Counters, IpMatch, Match, Policy, Target};

/// One rule.
#[derive(Clone, Debug, Default)]
pub struct RuleSpec {
    /// `-s`, `-d`, `-i`, `-o`, `-p`, `-f` and their `!`.
    pub ip: IpMatch,
    /// The matches, in the order given.
    pub matches: Vec<Match>,
    /// The target; for [`Target::Jump`] and [`Target::Goto`] the chain
    /// index inside is meaningless and `jump` names the chain.
    pub target: Target,
    /// The chain of a jump or goto.
    pub jump: String,
    /// Packet and byte counters.
    pub counters: Counters,
    /// Its position in the kernel's dump it was read from: the kernel
    /// carries its counters over on commit (`RULE_ORIGIN`). `None` for a
    /// new rule or one whose counters were set or zeroed.
    pub origin: Option<u32>,
}

impl RuleSpec {
    /// Set the counters: they no longer continue from the kernel's.
    pub fn set_counters(&mut self, c: Counters) {
        self.counters = c;
        self.origin = None;
    }

    /// Whether two rules are the same rule (counters aside), as `-D` by
    /// specification compares them.
    pub fn same_as(&self, other: &RuleSpec) -> bool {
        self.ip == other.ip
            && self.matches == other.matches
            && self.target == other.target
            && self.jump == other.jump
    }

    /// The chain this rule jumps or goes to.
    pub fn jump_chain(&self) -> Option<&str> {
        matches!(self.target, Target::Jump(_) | Target::Goto(_)).then_some(self.jump.as_str())
    }
}

/// One chain.
#[derive(Clone, Debug)]
pub struct ChainSpec {
    /// Its name.
    pub name: String,
    /// The policy of a built-in chain; `None` for a user-defined one.
    pub policy: Option<Policy>,
    /// The policy counters of a built-in chain.
    pub counters: Counters,
    /// For a built-in chain read from the kernel, its position in the
    /// dump: the kernel carries its policy counters over on commit
    /// (`CHAIN_ORIGIN`).
    pub origin: Option<u32>,
    /// Its rules, in order.
    pub rules: Vec<RuleSpec>,
}

impl ChainSpec {
    /// Set the policy counters: they no longer continue from the kernel's.
    pub fn set_counters(&mut self, c: Counters) {
        self.counters = c;
        self.origin = None;
    }

    /// An empty user-defined chain.
    pub fn user(name: &str) -> Self {
        ChainSpec {
            name: name.to_string(),
            policy: None,
            counters: Counters::default(),
            origin: None,
            rules: Vec::new(),
        }
    }

    /// Whether it is a built-in chain.
    pub fn is_builtin(&self) -> bool {
        self.policy.is_some()
    }
}

/// One table.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// Which table.
    pub kind: TableKind,
    /// Built-in chains in hook order, then user-defined chains sorted by
    /// name (bytewise), as the kernel and libiptc keep them.
    pub chains: Vec<ChainSpec>,
}

impl TableSpec {
    /// The table with its built-in chains empty, policy ACCEPT.
    pub fn empty(kind: TableKind) -> Self {
        TableSpec {
            kind,
            chains: kind
                .desc()
                .hooks
                .iter()
                .map(|h| ChainSpec {
                    name: h.name().to_string(),
                    policy: Some(Policy::Accept),
                    counters: Counters::default(),
                    origin: None,
                    rules: Vec::new(),
                })
                .collect(),
        }
    }

    /// The index of chain `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.chains.iter().position(|c| c.name == name)
    }

    /// Chain `name`.
    pub fn chain(&self, name: &str) -> Option<&ChainSpec> {
        self.chains.iter().find(|c| c.name == name)
    }

    /// Chain `name`, mutable.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut ChainSpec> {
        self.chains.iter_mut().find(|c| c.name == name)
    }

    /// Add a user-defined chain at its sorted place. `false` if a chain of
    /// that name exists.
    pub fn add_chain(&mut self, chain: ChainSpec) -> bool {
        if self.find(&chain.name).is_some() {
            return false;
        }
        let builtins = self.chains.iter().take_while(|c| c.is_builtin()).count();
        let at = self.chains[builtins..]
            .iter()
            .position(|c| c.name.as_bytes() > chain.name.as_bytes())
            .map_or(self.chains.len(), |k| builtins + k);
        self.chains.insert(at, chain);
        true
    }

    /// Put the user-defined chains back in sorted order (after a rename).
    pub fn sort_chains(&mut self) {
        let builtins = self.chains.iter().take_while(|c| c.is_builtin()).count();
        self.chains[builtins..].sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }

    /// How many rules jump or go to chain `name` (the "references" of
    /// `-L`).
    pub fn references(&self, name: &str) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.jump_chain() == Some(name))
            .count()
    }

    /// Number of rules.
    #[cfg(test)]
    pub fn rule_count(&self) -> usize {
        self.chains.iter().map(|c| c.rules.len()).sum()
    }

    /// Zero every counter.
    pub fn zero(&mut self) {
        for c in &mut self.chains {
            c.set_counters(Counters::default());
            for r in &mut c.rules {
                r.set_counters(Counters::default());
            }
        }
    }
}
