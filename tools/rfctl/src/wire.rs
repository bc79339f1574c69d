// SPDX-License-Identifier: GPL-2.0

//! A [`TableSpec`] to and from the ruleset wire format
//! (`Documentation/ruleset.rst`).
//!
//! Encoding cuts the table into chunks, one per `TABLE_CHUNK` message,
//! each of whole attributes and at most [`CHUNK_BYTES`]: every chunk
//! starts with `TABLE_NAME`; a chain whose rules do not fit goes on in the
//! next chunk in a `TABLE_CHAIN` nest with `CHAIN_CONTINUED`. Each rule is
//! encoded by the core's [`encode_rule`], so rfctl and the module share
//! one codec. Decoding uses the core's [`measure`] and [`decode`] with
//! `Vec` storage.

use rfcore::nla::{Writer, NLA_F_NESTED, NLA_HDRLEN};
use rfcore::proto;
use rfcore::rules::{
    decode, encode_rule, measure, Chain, Match, Rule, RuleError, RuleRef, Storage, Table,
};

use crate::model::{ChainSpec, RuleSpec, TableSpec};

/// Most bytes of table attributes in one chunk: well below the 64 KiB a
/// netlink attribute (and so a chain nest) can hold, and small enough for
/// any socket buffer.
pub const CHUNK_BYTES: usize = 32 * 1024;

/// Why a table could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// One rule alone does not fit in a chunk.
    RuleTooLarge {
        /// The chain.
        chain: String,
        /// The rule, from 1.
        rule: usize,
    },
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::RuleTooLarge { chain, rule } => {
                write!(f, "chain {chain}, rule {rule}: rule too large to send")
            }
        }
    }
}

/// One attribute into `out`, padded.
fn put_attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = NLA_HDRLEN + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn put_str(out: &mut Vec<u8>, kind: u16, s: &str) {
    let mut p = s.as_bytes().to_vec();
    p.push(0);
    put_attr(out, kind, &p);
}

/// The encoded `CHAIN_RULE` nest of `rule`.
fn rule_bytes(rule: &RuleSpec, scratch: &mut [u8]) -> Option<Vec<u8>> {
    let mut w = Writer::new(scratch);
    let r = RuleRef {
        ip: &rule.ip,
        matches: &rule.matches,
        target: &rule.target,
        jump: &rule.jump,
        counters: rule.counters,
    };
    encode_rule(&mut w, &r).ok()?;
    let mut nest = w.as_bytes().to_vec();
    if let Some(o) = rule.origin {
        // Inside the CHAIN_RULE nest: append, then fix the nest's length.
        put_attr(&mut nest, proto::RULE_ORIGIN, &o.to_ne_bytes());
        let len = u16::try_from(nest.len()).ok()?;
        nest.get_mut(..2)?.copy_from_slice(&len.to_ne_bytes());
    }
    Some(nest)
}

/// Chunks under construction.
struct Chunker<'a> {
    table: &'a str,
    limit: usize,
    done: Vec<Vec<u8>>,
    cur: Vec<u8>,
    /// Start of the open chain nest in `cur`.
    nest: Option<usize>,
}

impl Chunker<'_> {
    fn fresh(&mut self) {
        self.cur.clear();
        put_str(&mut self.cur, proto::TABLE_NAME, self.table);
    }

    fn close_nest(&mut self) {
        if let Some(start) = self.nest.take() {
            let len = (self.cur.len() - start) as u16;
            self.cur[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    fn flush(&mut self) {
        self.close_nest();
        let c = std::mem::take(&mut self.cur);
        self.done.push(c);
        self.fresh();
    }

    /// The header of a chain nest (continued or not), without rules.
    fn chain_header(chain: &ChainSpec, continued: bool) -> Vec<u8> {
        let mut h = Vec::new();
        put_str(&mut h, proto::CHAIN_NAME, &chain.name);
        if continued {
            put_attr(&mut h, proto::CHAIN_CONTINUED, &[]);
        } else if let Some(p) = chain.policy {
            put_attr(&mut h, proto::CHAIN_POLICY, &p.number().to_ne_bytes());
            put_attr(
                &mut h,
                proto::CHAIN_PACKETS,
                &chain.counters.packets.to_ne_bytes(),
            );
            put_attr(
                &mut h,
                proto::CHAIN_BYTES,
                &chain.counters.bytes.to_ne_bytes(),
            );
            if let Some(o) = chain.origin {
                put_attr(&mut h, proto::CHAIN_ORIGIN, &o.to_ne_bytes());
            }
        }
        h
    }

    fn open_nest(&mut self, header: &[u8]) {
        let start = self.cur.len();
        self.cur.extend_from_slice(&0u16.to_ne_bytes());
        self.cur
            .extend_from_slice(&(proto::TABLE_CHAIN | NLA_F_NESTED).to_ne_bytes());
        self.cur.extend_from_slice(header);
        self.nest = Some(start);
    }

    fn has_chains(&self) -> bool {
        // More than the table name.
        self.cur.len() > NLA_HDRLEN + crate::wire::align4(self.table.len() + 1)
    }
}

pub(crate) fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// `table` as the payloads of `TABLE_CHUNK` messages, each at most
/// `limit` bytes (at least 1 KiB).
pub fn encode_chunks(table: &TableSpec, limit: usize) -> Result<Vec<Vec<u8>>, EncodeError> {
    let limit = limit.clamp(1024, 60 * 1024);
    let mut c = Chunker {
        table: table.kind.name(),
        limit,
        done: Vec::new(),
        cur: Vec::new(),
        nest: None,
    };
    c.fresh();
    let mut scratch = vec![0u8; 64 * 1024];
    for chain in &table.chains {
        let head = Chunker::chain_header(chain, false);
        if c.cur.len() + NLA_HDRLEN + head.len() > c.limit && c.has_chains() {
            c.flush();
        }
        c.open_nest(&head);
        for (i, rule) in chain.rules.iter().enumerate() {
            let too_large = || EncodeError::RuleTooLarge {
                chain: chain.name.clone(),
                rule: i + 1,
            };
            let bytes = rule_bytes(rule, &mut scratch).ok_or_else(too_large)?;
            if c.cur.len() + bytes.len() > c.limit {
                c.flush();
                let cont = Chunker::chain_header(chain, true);
                c.open_nest(&cont);
                if c.cur.len() + bytes.len() > c.limit {
                    return Err(too_large());
                }
            }
            c.cur.extend_from_slice(&bytes);
        }
        c.close_nest();
    }
    c.flush();
    // `flush` left a fresh chunk holding only the name: drop it.
    Ok(c.done)
}

/// Decode a table in the wire format (the concatenated payloads of a
/// `TABLE_GET` answer).
pub fn decode_table(bytes: &[u8]) -> Result<TableSpec, RuleError> {
    let sizes = measure(bytes)?;
    let mut chains = vec![Chain::default(); sizes.chains];
    let mut rules = vec![Rule::default(); sizes.rules];
    let mut matches = vec![Match::default(); sizes.matches];
    let table = decode(
        bytes,
        Storage {
            chains: &mut chains,
            rules: &mut rules,
            matches: &mut matches,
        },
    )?;
    Ok(from_table(&table))
}

/// A decoded table as a [`TableSpec`].
pub fn from_table(table: &Table<'_>) -> TableSpec {
    let chains = table
        .chains()
        .iter()
        .enumerate()
        .map(|(ci, c)| ChainSpec {
            name: c.name().as_str().to_string(),
            policy: c.is_builtin().then(|| c.policy()),
            counters: c.policy_counters(),
            origin: c.is_builtin().then_some(ci as u32),
            rules: c
                .rules()
                .filter_map(|i| {
                    let rule = table.rules().get(i as usize)?;
                    let r = table.rule_ref(i, rule.counters())?;
                    Some(RuleSpec {
                        ip: *r.ip,
                        matches: r.matches.to_vec(),
                        target: *r.target,
                        jump: r.jump.to_string(),
                        counters: r.counters,
                        // The kernel stores rules in dump order.
                        origin: Some(i),
                    })
                })
                .collect(),
        })
        .collect();
    let mut t = TableSpec {
        kind: table.kind(),
        chains,
    };
    // Jump targets carry the kernel's chain index; rfctl uses names only.
    for r in t.chains.iter_mut().flat_map(|c| c.rules.iter_mut()) {
        r.target = normalize_target(r.target);
    }
    t
}

/// Jumps and gotos with chain index 0, the form rfctl parses them into.
pub fn normalize_target(t: rfcore::rules::Target) -> rfcore::rules::Target {
    use rfcore::rules::Target;
    match t {
        Target::Jump(_) => Target::Jump(0),
        Target::Goto(_) => Target::Goto(0),
        t => t,
    }
}
