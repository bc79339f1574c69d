// SPDX-License-Identifier: GPL-2.0

//! The iptables commands on a table in memory, with libiptc's checks and
//! iptables' messages. Reading and committing the table is the caller's
//! ([`crate::txn`]).

use rfcore::rules::{Counters, Policy};

use crate::error::Error;
use crate::format::{self, ListFormat};
use crate::model::{ChainSpec, TableSpec};
use crate::parse::{CmdLine, Command};

/// What a command did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What to print.
    pub output: String,
    /// Whether the table changed and must be committed.
    pub changed: bool,
}

fn other(msg: &str) -> Error {
    Error::Other(msg.to_string())
}

fn no_chain() -> Error {
    other("No chain/target/match by that name.")
}

fn chain_mut<'a>(t: &'a mut TableSpec, name: &str) -> Result<&'a mut ChainSpec, Error> {
    t.chain_mut(name).ok_or_else(no_chain)
}

/// Check that the rule's jump or goto leads to a user-defined chain.
fn check_jump(t: &TableSpec, c: &CmdLine) -> Result<(), Error> {
    if let Some(name) = c.rule.jump_chain() {
        match t.chain(name) {
            Some(ch) if !ch.is_builtin() => {}
            _ => {
                return Err(Error::Usage(format!(
                    "Couldn't load target `{name}':No such file or directory"
                )))
            }
        }
    }
    Ok(())
}

/// Carry out command `c` on `t`.
pub fn apply(t: &mut TableSpec, c: &CmdLine) -> Result<Outcome, Error> {
    let mut o = Outcome::default();
    let mut rule = c.rule.clone();
    if !c.counters {
        rule.counters = Counters::default();
    }
    let lf = ListFormat {
        numeric: c.numeric,
        verbose: c.verbose,
        exact: c.exact,
        line_numbers: c.line_numbers,
    };
    match &c.cmd {
        Command::Help => {}
        Command::Append(ch) => {
            // libiptc looks the chain up before the target.
            t.chain(ch).ok_or_else(no_chain)?;
            check_jump(t, c)?;
            chain_mut(t, ch)?.rules.push(rule);
            o.changed = true;
        }
        Command::Check(ch) => {
            let chain = t.chain(ch).ok_or_else(no_chain)?;
            if !chain.rules.iter().any(|r| r.same_as(&rule)) {
                return Err(other(
                    "Bad rule (does a matching rule exist in that chain?).",
                ));
            }
        }
        Command::Insert(ch, n) => {
            t.chain(ch).ok_or_else(no_chain)?;
            check_jump(t, c)?;
            let chain = chain_mut(t, ch)?;
            if *n > chain.rules.len() + 1 {
                return Err(other("Index of insertion too big."));
            }
            chain.rules.insert(n - 1, rule);
            o.changed = true;
        }
        Command::Replace(ch, n) => {
            t.chain(ch).ok_or_else(no_chain)?;
            check_jump(t, c)?;
            let chain = chain_mut(t, ch)?;
            if *n > chain.rules.len() {
                return Err(other("Index of replacement too big."));
            }
            chain.rules[n - 1] = rule;
            o.changed = true;
        }
        Command::DeleteNum(ch, n) => {
            let chain = chain_mut(t, ch)?;
            if *n > chain.rules.len() {
                return Err(other("Index of deletion too big."));
            }
            chain.rules.remove(n - 1);
            o.changed = true;
        }
        Command::Delete(ch) => {
            let chain = chain_mut(t, ch)?;
            let Some(k) = chain.rules.iter().position(|r| r.same_as(&rule)) else {
                return Err(other(
                    "Bad rule (does a matching rule exist in that chain?).",
                ));
            };
            chain.rules.remove(k);
            o.changed = true;
        }
        Command::List { chain, num, zero } => {
            if let Some(ch) = chain {
                t.chain(ch).ok_or_else(no_chain)?;
            }
            o.output = format::list(t, chain.as_deref(), *num, lf);
            if *zero {
                zero_counters(t, chain.as_deref(), None)?;
                o.changed = true;
            }
        }
        Command::ListRules { chain, num } => {
            if let Some(ch) = chain {
                t.chain(ch).ok_or_else(no_chain)?;
            }
            o.output = format::list_rules(t, chain.as_deref(), *num, c.verbose);
        }
        Command::Flush(chain) => {
            match chain {
                Some(ch) => chain_mut(t, ch)?.rules.clear(),
                None => t.chains.iter_mut().for_each(|c| c.rules.clear()),
            }
            o.changed = true;
        }
        Command::Zero(chain, num) => {
            zero_counters(t, chain.as_deref(), *num)?;
            o.changed = true;
        }
        Command::NewChain(ch) => {
            if !t.add_chain(ChainSpec::user(ch)) {
                return Err(other("Chain already exists."));
            }
            o.changed = true;
        }
        Command::DeleteChain(Some(ch)) => {
            let chain = t.chain(ch).ok_or_else(no_chain)?;
            if chain.is_builtin() {
                return Err(other("Invalid argument."));
            }
            if t.references(ch) > 0 {
                return Err(other("Too many links."));
            }
            if !chain.rules.is_empty() {
                return Err(other("Directory not empty."));
            }
            t.chains.retain(|c| c.name != *ch);
            o.changed = true;
        }
        Command::DeleteChain(None) => {
            let builtin_refs = t
                .chains
                .iter()
                .filter(|c| c.is_builtin())
                .flat_map(|c| &c.rules)
                .any(|r| r.jump_chain().is_some());
            if builtin_refs {
                return Err(other("Too many links."));
            }
            if t.chains
                .iter()
                .any(|c| !c.is_builtin() && !c.rules.is_empty())
            {
                return Err(other("Directory not empty."));
            }
            t.chains.retain(ChainSpec::is_builtin);
            o.changed = true;
        }
        Command::Rename(old, new) => {
            let chain = t.chain(old).ok_or_else(no_chain)?;
            if chain.is_builtin() {
                return Err(other("Invalid argument."));
            }
            if t.chain(new).is_some() {
                return Err(other("File exists."));
            }
            for r in t.chains.iter_mut().flat_map(|c| c.rules.iter_mut()) {
                if r.jump_chain() == Some(old.as_str()) {
                    r.jump = new.clone();
                }
            }
            chain_mut(t, old)?.name = new.clone();
            t.sort_chains();
            o.changed = true;
        }
        Command::Policy(ch, p) => {
            let chain = match t.chain_mut(ch) {
                Some(c) if c.is_builtin() => c,
                _ => return Err(other("Bad built-in chain name.")),
            };
            chain.policy = Some(match p.as_str() {
                "ACCEPT" => Policy::Accept,
                "DROP" => Policy::Drop,
                _ => return Err(other("Bad policy name.")),
            });
            if c.counters {
                chain.set_counters(rule.counters);
            }
            o.changed = true;
        }
    }
    Ok(o)
}

fn zero_counters(t: &mut TableSpec, chain: Option<&str>, num: Option<usize>) -> Result<(), Error> {
    match chain {
        None => t.zero(),
        Some(ch) => {
            let c = chain_mut(t, ch)?;
            match num {
                None => {
                    c.set_counters(Counters::default());
                    c.rules
                        .iter_mut()
                        .for_each(|r| r.set_counters(Counters::default()));
                }
                Some(n) => match c.rules.get_mut(n - 1) {
                    Some(r) => r.set_counters(Counters::default()),
                    None => return Err(other("Index of deletion too big.")),
                },
            }
        }
    }
    Ok(())
}
