// SPDX-License-Identifier: GPL-2.0

//! `rfctl save` and `rfctl restore`: tables in iptables-save format.
//!
//! Restore reads the whole input first, so that no table is touched when
//! any line is wrong; each table is then one transaction (begin, chunks,
//! commit). Without `--noflush` a table is built from the input alone and
//! replaces the kernel's; with it, the input's commands edit the kernel's
//! table by read-modify-commit.

use rfcore::rules::table::TableKind;
use rfcore::rules::{Counters, Policy};

use crate::error::{Error, ENOENT};
use crate::format;
use crate::model::{ChainSpec, TableSpec};
use crate::ops;
use crate::parse::{self, CmdLine, Command};
use crate::txn::{self, Kernel};

/// Help text of `rfctl save` and `rfctl restore`.
pub const USAGE: &str = "\
Usage: rfctl save [-t table] [-c|--counters]
       rfctl restore [-n|--noflush] [-t|--test] [-c|--counters] [-T table] [FILE]

save writes the tables (raw, mangle, nat and filter, or the one given)
in iptables-save format to standard output; -c adds the rule counters.

restore reads that format from FILE or standard input. Every table in
the input replaces the kernel's table in one transaction; the input is
checked whole before any table changes.
  -n, --noflush    edit the tables instead of replacing them
  -t, --test       check only: the kernel validates, nothing changes
  -c, --counters   take counters from the input ([packets:bytes])
  -T, --table T    restore only table T from the input
";

/// Options of `rfctl save`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveOpts {
    /// `-t`.
    pub table: Option<TableKind>,
    /// `-c`.
    pub counters: bool,
}

/// Options of `rfctl restore`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreOpts {
    /// `--noflush`.
    pub noflush: bool,
    /// `--test`.
    pub test: bool,
    /// `--counters`.
    pub counters: bool,
    /// `-T`.
    pub table: Option<TableKind>,
    /// The file; standard input if `None`.
    pub file: Option<String>,
}

fn table_name(t: &str) -> Result<TableKind, Error> {
    match TableKind::from_name(t) {
        Some(k) => Ok(k),
        None => Err(Error::Usage(format!(
            "can't initialize iptables table `{t}': Table does not exist"
        ))),
    }
}

/// Parse the arguments after `save`; `None` for `--help`.
pub fn parse_save_args(args: &[String]) -> Result<Option<SaveOpts>, Error> {
    let mut o = SaveOpts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "-c" | "--counters" => o.counters = true,
            "-t" | "--table" => {
                let t = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("option \"{a}\" requires an argument")))?;
                o.table = Some(table_name(t)?);
            }
            a if a.starts_with('-') => return Err(Error::Usage(format!("unknown option \"{a}\""))),
            a => return Err(Error::Usage(format!("Bad argument `{a}'"))),
        }
    }
    Ok(Some(o))
}

/// Parse the arguments after `restore`; `None` for `--help`.
pub fn parse_restore_args(args: &[String]) -> Result<Option<RestoreOpts>, Error> {
    let mut o = RestoreOpts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "-n" | "--noflush" => o.noflush = true,
            "-t" | "--test" => o.test = true,
            "-c" | "--counters" => o.counters = true,
            "-v" | "--verbose" | "-w" | "--wait" => {}
            "-T" | "--table" => {
                let t = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("option \"{a}\" requires an argument")))?;
                o.table = Some(table_name(t)?);
            }
            a if a.starts_with('-') && a.len() > 1 => {
                return Err(Error::Usage(format!("unknown option \"{a}\"")))
            }
            a => {
                if o.file.is_some() {
                    return Err(Error::Usage(format!("Bad argument `{a}'")));
                }
                o.file = Some(a.to_string());
            }
        }
    }
    Ok(Some(o))
}

/// One thing a line of a table section does.
#[derive(Clone, Debug)]
pub enum Step {
    /// `:CHAIN POLICY [p:b]`.
    Chain {
        name: String,
        policy: Option<Policy>,
        /// With `--counters` only.
        counters: Option<Counters>,
    },
    /// A command line (`-A ...`, `-N ...`, ...).
    Cmd(Box<CmdLine>),
}

/// A `*table` ... `COMMIT` section.
#[derive(Clone, Debug)]
pub struct Section {
    /// The table.
    pub kind: TableKind,
    /// Its lines, each with its number.
    pub steps: Vec<(usize, Step)>,
}

fn line_err(line: usize, msg: impl Into<String>, usage: bool) -> Error {
    Error::Restore {
        line,
        msg: msg.into(),
        usage,
    }
}

/// `[packets:bytes]`.
fn parse_counters(s: &str) -> Option<Counters> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    Some(Counters {
        packets: p.parse().ok()?,
        bytes: b.parse().ok()?,
    })
}

/// Read iptables-save text into sections, checking every line.
pub fn parse_input(text: &str, counters: bool) -> Result<Vec<Section>, Error> {
    let mut out = Vec::new();
    let mut cur: Option<Section> = None;
    let mut last = 0;
    for (k, raw) in text.lines().enumerate() {
        let n = k + 1;
        last = n;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            if cur.is_some() {
                return Err(line_err(n, "COMMIT expected before a new table", true));
            }
            let kind = table_name(t).map_err(|e| line_err(n, e.to_string(), true))?;
            cur = Some(Section {
                kind,
                steps: Vec::new(),
            });
            continue;
        }
        let Some(sec) = cur.as_mut() else {
            return Err(line_err(
                n,
                "no table specified (missing `*table' line)",
                true,
            ));
        };
        if line == "COMMIT" {
            out.push(cur.take().unwrap_or(Section {
                kind: TableKind::Filter,
                steps: Vec::new(),
            }));
            continue;
        }
        if let Some(decl) = line.strip_prefix(':') {
            let words: Vec<&str> = decl.split_whitespace().collect();
            let (name, pol) = match words.as_slice() {
                [name, pol] | [name, pol, _] => (*name, *pol),
                _ => return Err(line_err(n, "bad chain line", true)),
            };
            if name.len() > rfcore::rules::MAX_CHAIN_NAME {
                return Err(line_err(
                    n,
                    format!("Invalid chain name `{name}' (must be under 29 chars)"),
                    true,
                ));
            }
            let c = match words.get(2) {
                Some(c) => parse_counters(c)
                    .ok_or_else(|| line_err(n, format!("invalid counters `{c}'"), true))?,
                None => Counters::default(),
            };
            let policy = match pol {
                "-" => None,
                "ACCEPT" => Some(Policy::Accept),
                "DROP" => Some(Policy::Drop),
                p => {
                    return Err(line_err(
                        n,
                        format!("Can't set policy `{p}' on `{name}': Bad policy name"),
                        false,
                    ))
                }
            };
            let builtin = sec.kind.builtin(name).is_some();
            if builtin && policy.is_none() {
                return Err(line_err(
                    n,
                    format!("chain `{name}' is built-in and needs a policy"),
                    true,
                ));
            }
            if !builtin && policy.is_some() {
                return Err(line_err(
                    n,
                    format!("Can't set policy `{pol}' on `{name}': Bad built-in chain name"),
                    false,
                ));
            }
            sec.steps.push((
                n,
                Step::Chain {
                    name: name.to_string(),
                    policy,
                    counters: counters.then_some(c),
                },
            ));
            continue;
        }
        // A rule line, perhaps after [packets:bytes].
        let (rule_counters, rest) = if line.starts_with('[') {
            let end = line
                .find(']')
                .ok_or_else(|| line_err(n, "bad counters", true))?;
            let c = parse_counters(&line[..=end]).ok_or_else(|| {
                line_err(n, format!("invalid counters `{}'", &line[..=end]), true)
            })?;
            (Some(c), &line[end + 1..])
        } else {
            (None, line)
        };
        let words = parse::split_line(rest).map_err(|e| line_err(n, e, true))?;
        let mut cl =
            parse::parse_command(&words, Some(sec.kind)).map_err(|p| line_err(n, p.0, true))?;
        match cl.cmd {
            Command::Help
            | Command::List { .. }
            | Command::ListRules { .. }
            | Command::Check(_) => return Err(line_err(n, "command not allowed in restore", true)),
            _ => {}
        }
        if counters {
            if let Some(c) = rule_counters {
                cl.rule.counters = c;
                cl.counters = true;
            }
        } else {
            cl.counters = false;
        }
        sec.steps.push((n, Step::Cmd(Box::new(cl))));
    }
    if cur.is_some() {
        return Err(line_err(last.max(1), "COMMIT expected", true));
    }
    Ok(out)
}

/// Apply a section's steps to `t` (the empty table, or the kernel's with
/// `--noflush`).
pub fn apply_section(t: &mut TableSpec, sec: &Section, noflush: bool) -> Result<(), Error> {
    for (n, step) in &sec.steps {
        match step {
            Step::Chain {
                name,
                policy,
                counters,
            } => match policy {
                Some(p) => {
                    if let Some(c) = t.chain_mut(name) {
                        c.policy = Some(*p);
                        // Without --counters, a flushed table starts from
                        // zero and --noflush keeps the kernel's.
                        if let Some(counters) = counters {
                            c.set_counters(*counters);
                        }
                    }
                }
                None => {
                    if let Some(c) = t.chain_mut(name) {
                        if noflush {
                            c.rules.clear();
                        } else {
                            return Err(line_err(
                                *n,
                                format!("chain `{name}' declared twice"),
                                false,
                            ));
                        }
                    } else {
                        t.add_chain(ChainSpec::user(name));
                    }
                }
            },
            Step::Cmd(cl) => {
                ops::apply(t, cl).map_err(|e| {
                    let usage = matches!(e, Error::Usage(_));
                    line_err(*n, e.to_string(), usage)
                })?;
            }
        }
    }
    Ok(())
}

/// Build every table of the input offline (without `--noflush`).
pub fn build_tables(
    sections: &[Section],
    only: Option<TableKind>,
) -> Result<Vec<TableSpec>, Error> {
    let mut out = Vec::new();
    for s in sections.iter().filter(|s| only.is_none_or(|k| k == s.kind)) {
        let mut t = TableSpec::empty(s.kind);
        apply_section(&mut t, s, false)?;
        out.push(t);
    }
    Ok(out)
}

/// `rfctl restore`: `text` is the input.
pub fn restore<K: Kernel>(k: &mut K, o: &RestoreOpts, text: &str) -> Result<(), Error> {
    let sections = parse_input(text, o.counters)?;
    if o.noflush {
        for s in sections
            .iter()
            .filter(|s| o.table.is_none_or(|k| k == s.kind))
        {
            txn::edit(k, s.kind, o.test, |t| {
                apply_section(t, s, true)?;
                Ok(ops::Outcome {
                    output: String::new(),
                    changed: true,
                })
            })?;
        }
        return Ok(());
    }
    let tables = build_tables(&sections, o.table)?;
    for t in &tables {
        txn::replace(k, t, o.test, o.counters)?;
    }
    Ok(())
}

/// The tables `rfctl save` writes when none is named, in iptables-save's
/// order.
pub const SAVE_TABLES: [TableKind; 4] = [
    TableKind::Raw,
    TableKind::Mangle,
    TableKind::Nat,
    TableKind::Filter,
];

/// `rfctl save`.
pub fn save<K: Kernel>(k: &mut K, o: &SaveOpts) -> Result<String, Error> {
    let kinds: Vec<TableKind> = match o.table {
        Some(t) => vec![t],
        None => SAVE_TABLES.to_vec(),
    };
    let mut out = String::new();
    for kind in kinds {
        let t = match txn::read(k, kind, false) {
            Ok(t) => t,
            // A module without the table (the nat table came later):
            // iptables-save, too, writes only the tables there are.
            Err(Error::Kernel { errno: ENOENT, .. }) if o.table.is_none() => continue,
            Err(e) => return Err(e),
        };
        out.push_str(&format!(
            "# Generated by rfctl v{}\n",
            env!("CARGO_PKG_VERSION")
        ));
        out.push_str(&format::save_table(&t, o.counters));
        out.push_str("# Completed\n");
    }
    Ok(out)
}
