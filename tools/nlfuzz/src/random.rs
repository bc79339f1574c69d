// SPDX-License-Identifier: GPL-2.0

//! `nlfuzz random`: many messages to the rustfilter family, each either
//! random bytes after valid headers, a mutation of a valid request, or a
//! whole transaction (BEGIN, CHUNKs of a mutated ruleset, COMMIT), with a
//! summary of what the kernel answered.
//!
//! Everything derives from `--seed`: the same seed sends the same bytes.
//! The kernel answers inside `sendmsg`, so after each send the socket is
//! drained without waiting; nothing ever blocks for long.
//!
//! By default the run is *safe*: it never changes what the selftest
//! compares. Before a datagram is sent, [`check_safe`] walks it the way
//! the kernel will (`netlink_rcv_skb`, then the attribute walk) and
//! withholds it if any message in it could reach another family, commit
//! without `RUSTFILTER_A_TEST`, read a table with `RUSTFILTER_A_ZERO` or
//! zero the hook counters. `--unsafe` lifts all but the first rule (for a
//! throwaway namespace), so that real commits are fuzzed too.

use std::collections::BTreeMap;
use std::time::Instant;

use rfcore::nla::NLA_F_NESTED;
use rfcore::proto;
use rfcore::rules::TableKind;

use crate::socket::Client;
use crate::tables;
use crate::wire::{
    self, align4, attr, flag_attr, str_attr, u32_attr, walk_attrs, Reply, GENL_MSG_HDRLEN,
};

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Messages to send (withheld ones are not counted).
    pub count: u64,
    /// Seed of the generator.
    pub seed: u64,
    /// Allow messages that change state (commits, zeroing).
    pub unsafe_: bool,
    /// Print every datagram and what came back.
    pub trace: bool,
}

// ---------------------------------------------------------------------
// A small deterministic generator.

/// xorshift64*, seeded through splitmix64 (so that seed 0 works).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(z | 1)
    }

    /// 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True once in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// An element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------------
// The safety rule.

/// Why a datagram is withheld, or `Ok` to send it.
///
/// The walk is `netlink_rcv_skb`'s: messages follow each other at
/// `NLMSG_ALIGN(nlmsg_len)` while at least a header is left; one whose
/// length is below the header or beyond the datagram ends it; only
/// requests of types from `NLMSG_MIN_TYPE` on are handled. A request's
/// attributes are walked as `nla_for_each_attr` does: if the kernel then
/// accepts the message, its attribute table holds exactly the types seen.
pub fn check_safe(dgram: &[u8], family: u16, unsafe_: bool) -> Result<(), &'static str> {
    let mut off = 0usize;
    while dgram.len() - off >= wire::NLMSG_HDRLEN {
        let m = &dgram[off..];
        let len = u32::from_ne_bytes([m[0], m[1], m[2], m[3]]) as usize;
        let ty = u16::from_ne_bytes([m[4], m[5]]);
        let flags = u16::from_ne_bytes([m[6], m[7]]);
        if len < wire::NLMSG_HDRLEN || len > m.len() {
            break;
        }
        if flags & wire::NLM_F_REQUEST != 0 && ty >= wire::NLMSG_MIN_TYPE {
            if ty != family {
                return Err("another family");
            }
            if !unsafe_ && len >= GENL_MSG_HDRLEN {
                let cmd = m[wire::NLMSG_HDRLEN];
                let types: Vec<u16> = walk_attrs(&m[GENL_MSG_HDRLEN..len])
                    .iter()
                    .map(|a| a.kind)
                    .collect();
                match cmd {
                    proto::CMD_ZERO_STATS => return Err("ZERO_STATS"),
                    // Connection tracking settings and flushes change what
                    // later traffic sees.
                    proto::CMD_CT_SET => return Err("CT_SET"),
                    proto::CMD_CT_FLUSH => return Err("CT_FLUSH"),
                    proto::CMD_TABLE_COMMIT if !types.contains(&proto::A_TEST) => {
                        return Err("COMMIT without A_TEST")
                    }
                    proto::CMD_TABLE_GET if types.contains(&proto::A_ZERO) => {
                        return Err("TABLE_GET with A_ZERO")
                    }
                    _ => {}
                }
            }
        }
        off += align4(len).min(m.len());
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Attribute trees and structure-aware edits.

/// An attribute somewhere in a buffer, with the headers of the nests it
/// is in (outermost first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Offset of its header in the buffer.
    pub off: usize,
    /// Its `nla_len`.
    pub len: usize,
    /// Offsets of the headers of the nests holding it.
    pub parents: Vec<usize>,
}

/// Every attribute of the run `buf[start..end]`, nests descended into
/// (those with `NLA_F_NESTED`), in order.
pub fn tree(buf: &[u8], start: usize, end: usize) -> Vec<Node> {
    fn walk(buf: &[u8], start: usize, end: usize, parents: &mut Vec<usize>, out: &mut Vec<Node>) {
        for a in walk_attrs(&buf[start..end]) {
            let off = start + a.offset;
            out.push(Node {
                off,
                len: a.len,
                parents: parents.clone(),
            });
            if a.nested && a.len > 4 && parents.len() < 16 {
                parents.push(off);
                walk(buf, off + 4, off + a.len, parents, out);
                parents.pop();
            }
        }
    }
    let mut out = Vec::new();
    if start <= end && end <= buf.len() {
        walk(buf, start, end, &mut Vec::new(), &mut out);
    }
    out
}

fn nla_len_at(buf: &[u8], off: usize) -> usize {
    usize::from(u16::from_ne_bytes([buf[off], buf[off + 1]]))
}

fn set_nla_len_at(buf: &mut [u8], off: usize, len: usize) {
    buf[off..off + 2].copy_from_slice(&(len as u16).to_ne_bytes());
}

/// Insert `bytes` at `at` inside the nests `parents`, whose lengths grow
/// to match. Nothing changes (false) if a nest would pass 64 KiB.
pub fn insert(buf: &mut Vec<u8>, at: usize, bytes: &[u8], parents: &[usize]) -> bool {
    if parents
        .iter()
        .any(|&p| nla_len_at(buf, p) + bytes.len() > usize::from(u16::MAX))
    {
        return false;
    }
    for &p in parents {
        let l = nla_len_at(buf, p);
        set_nla_len_at(buf, p, l + bytes.len());
    }
    buf.splice(at..at, bytes.iter().copied());
    true
}

/// Remove `n` bytes at `at` inside the nests `parents`, which shrink.
pub fn remove(buf: &mut Vec<u8>, at: usize, n: usize, parents: &[usize]) {
    let n = n.min(buf.len() - at);
    for &p in parents {
        let l = nla_len_at(buf, p);
        set_nla_len_at(buf, p, l.saturating_sub(n).max(4));
    }
    buf.drain(at..at + n);
}

/// The bytes an attribute takes, padding included (as far as present).
fn span(buf: &[u8], n: &Node) -> usize {
    align4(n.len).min(buf.len() - n.off)
}

/// Values that find boundary mistakes.
const INTERESTING_U32: [u32; 12] = [
    0,
    1,
    2,
    4,
    7,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];
const INTERESTING_U8: [u8; 8] = [0, 1, 6, 17, 63, 64, 0x7f, 0xff];
/// Names the rulesets use, and ones they must not.
const NAMES: [&str; 10] = [
    "INPUT",
    "FORWARD",
    "OUTPUT",
    "PREROUTING",
    "POSTROUTING",
    "CHK",
    "L0",
    "nosuch",
    "",
    "abcdefghijklmnopqrstuvwxyz0123",
];

/// One random edit of the attributes of `buf[start..]` (the run ends at
/// the buffer's end). `pool` holds whole attributes to splice in.
pub fn mutate_attrs(rng: &mut Rng, buf: &mut Vec<u8>, start: usize, pool: &[Vec<u8>]) {
    let nodes = tree(buf, start, buf.len());
    if nodes.is_empty() || rng.one_in(12) {
        // Nothing to aim at (or now and then): append an attribute.
        let at = buf.len();
        let a = rng.pick(pool).clone();
        insert(buf, at, &a, &[]);
        return;
    }
    let n = rng.pick(&nodes).clone();
    let payload = n.off + 4..(n.off + n.len).min(buf.len());
    match rng.below(12) {
        // The length field: a little off, or anything.
        0 => {
            let l = match rng.below(4) {
                0 => n.len.wrapping_add(1 + rng.below(8)),
                1 => n.len.saturating_sub(1 + rng.below(8)),
                2 => *rng.pick(&[0usize, 1, 3, 4, 5, 8, 0xffff]),
                _ => rng.next() as u16 as usize,
            };
            set_nla_len_at(buf, n.off, l & 0xffff);
        }
        // The type: a neighbour, a small number, or the nested flag.
        1 => {
            let t = u16::from_ne_bytes([buf[n.off + 2], buf[n.off + 3]]);
            let t = match rng.below(3) {
                0 => t ^ NLA_F_NESTED,
                1 => (t & NLA_F_NESTED) | rng.below(16) as u16,
                _ => t.wrapping_add(1),
            };
            buf[n.off + 2..n.off + 4].copy_from_slice(&t.to_ne_bytes());
        }
        // The payload, by its size.
        2 | 3 => match payload.len() {
            1 => buf[payload.start] = *rng.pick(&INTERESTING_U8),
            4 => {
                let v = if rng.one_in(3) {
                    rng.next() as u32
                } else {
                    *rng.pick(&INTERESTING_U32)
                };
                buf[payload.clone()].copy_from_slice(&v.to_ne_bytes());
            }
            8 => {
                let v = *rng.pick(&[0u64, 1, u64::MAX, 1 << 63]);
                buf[payload.clone()].copy_from_slice(&v.to_ne_bytes());
            }
            0 => {}
            l => {
                let k = payload.start + rng.below(l);
                buf[k] = rng.next() as u8;
            }
        },
        // A string: another name, in place of this attribute.
        4 => {
            let t = u16::from_ne_bytes([buf[n.off + 2], buf[n.off + 3]]);
            let name = *rng.pick(&NAMES);
            let new = str_attr(t, name);
            let old = span(buf, &n);
            remove(buf, n.off, old, &n.parents);
            insert(buf, n.off, &new, &n.parents);
        }
        // Delete it.
        5 | 6 => {
            let old = span(buf, &n);
            remove(buf, n.off, old, &n.parents);
        }
        // Duplicate it.
        7 => {
            let copy = buf[n.off..n.off + span(buf, &n)].to_vec();
            insert(buf, n.off, &copy, &n.parents);
        }
        // Splice another attribute in before it, or in its place.
        8 | 9 => {
            let a = rng.pick(pool).clone();
            if rng.one_in(2) {
                let old = span(buf, &n);
                remove(buf, n.off, old, &n.parents);
            }
            insert(buf, n.off, &a, &n.parents);
        }
        // Flip a bit of it.
        10 => {
            let k = n.off + rng.below(span(buf, &n).max(1));
            if k < buf.len() {
                buf[k] ^= 1 << rng.below(8);
            }
        }
        // Swap it with the next attribute of the same nest.
        _ => {
            if let Some(m) = nodes
                .iter()
                .find(|m| m.off > n.off && m.parents == n.parents)
                .cloned()
            {
                let a = buf[n.off..n.off + span(buf, &n)].to_vec();
                let b = buf[m.off..m.off + span(buf, &m)].to_vec();
                if n.off + a.len() == m.off {
                    let mut both = b;
                    both.extend_from_slice(&a);
                    buf[n.off..n.off + both.len()].copy_from_slice(&both);
                }
            }
        }
    }
}

/// One random edit of a whole message: its headers or its attributes.
/// `nlmsg_len` is kept equal to the length unless the edit is to it.
pub fn mutate_message(rng: &mut Rng, msg: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let consistent = wire::nlmsg_len(msg) == Some(msg.len() as u32);
    match rng.below(16) {
        // nlmsg_len.
        0 | 1 => {
            let l = msg.len() as u32;
            let v = match rng.below(6) {
                0 => l.wrapping_add(1 + rng.below(64) as u32),
                1 => l.saturating_sub(1 + rng.below(8) as u32),
                2 => *rng.pick(&[0u32, 4, 15, 16, 17, 19, 20, 21, u32::MAX]),
                3 => (GENL_MSG_HDRLEN + 4 * rng.below(8)) as u32,
                4 => rng.next() as u32,
                _ => l ^ (1 << rng.below(32)),
            };
            wire::set_nlmsg_len(msg, v);
            return;
        }
        // Flags, command, version, reserved.
        2 => {
            let any = rng.next() as u16;
            let f = *rng.pick(&[
                wire::NLM_F_REQUEST,
                wire::NLM_F_ACK,
                wire::NLM_F_REQUEST | wire::NLM_F_ACK | wire::NLM_F_ECHO,
                wire::NLM_F_REQUEST | wire::NLM_F_ACK | wire::NLM_F_DUMP,
                wire::NLM_F_REQUEST | wire::NLM_F_ACK | wire::NLM_F_ROOT,
                any,
            ]);
            wire::set_nlmsg_flags(msg, f);
        }
        3 => {
            if msg.len() > wire::NLMSG_HDRLEN {
                msg[wire::NLMSG_HDRLEN] = if rng.one_in(4) {
                    rng.next() as u8
                } else {
                    1 + rng.below(7) as u8
                };
            }
        }
        4 => {
            if msg.len() >= GENL_MSG_HDRLEN {
                let k = wire::NLMSG_HDRLEN + 1 + rng.below(3);
                msg[k] = rng.next() as u8;
            }
        }
        // Cut it short.
        5 => {
            let n = rng.below(msg.len() + 1);
            msg.truncate(n);
            if consistent && rng.one_in(2) {
                wire::fix_nlmsg_len(msg);
            }
            return;
        }
        // Random bytes at the end.
        6 => {
            let n = 1 + rng.below(32);
            let extra = rng.bytes(n);
            msg.extend_from_slice(&extra);
            if consistent && rng.one_in(2) {
                wire::fix_nlmsg_len(msg);
            }
            return;
        }
        // A bit anywhere but the family id.
        7 => {
            let k = rng.below(msg.len());
            if k < msg.len() && !(4..6).contains(&k) {
                msg[k] ^= 1 << rng.below(8);
            }
        }
        // The attributes.
        _ => {
            if msg.len() >= GENL_MSG_HDRLEN {
                mutate_attrs(rng, msg, GENL_MSG_HDRLEN, pool);
            }
        }
    }
    if consistent {
        wire::fix_nlmsg_len(msg);
    }
}

// ---------------------------------------------------------------------
// What to send.

/// Valid requests and ruleset pieces to start from.
pub struct Corpus {
    family: u16,
    unsafe_: bool,
    /// Valid requests of every command.
    requests: Vec<Vec<u8>>,
    /// Valid tables (filter, mangle, raw) and a bigger filter table.
    tables: Vec<(TableKind, Vec<u8>)>,
    /// Attributes of every depth, to splice in.
    pool: Vec<Vec<u8>>,
}

impl Corpus {
    /// The requests and pieces for `family`.
    pub fn new(family: u16, unsafe_: bool) -> Corpus {
        let kinds = [TableKind::Filter, TableKind::Mangle, TableKind::Raw];
        let mut tables: Vec<(TableKind, Vec<u8>)> =
            kinds.iter().map(|k| (*k, tables::valid(*k))).collect();
        tables.push((TableKind::Filter, tables::ladder(8)));
        tables.push((TableKind::Filter, tables::large_filter(8 << 10)));
        tables.push((
            TableKind::Filter,
            tables::filter_with_origins(Some(0), Some(0)),
        ));
        let req = |cmd: u8, attrs: Vec<Vec<u8>>| wire::genl_request(family, cmd, &attrs.concat());
        let t = |k: TableKind| str_attr(proto::A_TABLE, k.name());
        let mut requests = vec![
            req(proto::CMD_GET_STATS, vec![]),
            req(proto::CMD_TABLE_ABORT, vec![]),
            req(proto::CMD_TABLE_COMMIT, vec![flag_attr(proto::A_TEST)]),
            req(
                proto::CMD_TABLE_COMMIT,
                vec![flag_attr(proto::A_TEST), flag_attr(proto::A_COUNTERS)],
            ),
            req(
                proto::CMD_TABLE_COMMIT,
                vec![flag_attr(proto::A_TEST), flag_attr(proto::A_CARRY)],
            ),
            req(proto::CMD_CT_LIST, vec![]),
            req(proto::CMD_CT_STATS, vec![]),
        ];
        // A tuple no connection has (TEST-NET addresses).
        let tuple = wire::nest(
            proto::A_CT_TUPLE,
            &[
                wire::attr(proto::CTTUPLE_SRC, &[192, 0, 2, 1]),
                wire::attr(proto::CTTUPLE_DST, &[192, 0, 2, 2]),
                wire::attr(proto::CTTUPLE_PROTO, &[17]),
                wire::attr(proto::CTTUPLE_SPORT, &7u16.to_ne_bytes()),
                wire::attr(proto::CTTUPLE_DPORT, &9u16.to_ne_bytes()),
            ],
        );
        requests.push(req(proto::CMD_CT_GET, vec![tuple.clone()]));
        requests.push(req(proto::CMD_CT_DELETE, vec![tuple]));
        for k in kinds {
            requests.push(req(proto::CMD_TABLE_BEGIN, vec![t(k)]));
            requests.push(req(
                proto::CMD_TABLE_BEGIN,
                vec![t(k), u32_attr(proto::A_GENERATION, 1)],
            ));
            requests.push(req(proto::CMD_TABLE_GET, vec![t(k)]));
            requests.push(req(proto::CMD_TABLE_CHUNK, vec![tables::valid(k)]));
        }
        if unsafe_ {
            requests.push(req(proto::CMD_CT_FLUSH, vec![]));
            requests.push(req(
                proto::CMD_CT_SET,
                vec![
                    u32_attr(proto::A_CT_MAX, 65536),
                    u32_attr(proto::A_CT_AUTO_HELPER, 1),
                ],
            ));
            requests.push(req(proto::CMD_ZERO_STATS, vec![]));
            requests.push(req(proto::CMD_TABLE_COMMIT, vec![]));
            requests.push(req(
                proto::CMD_TABLE_COMMIT,
                vec![flag_attr(proto::A_COUNTERS)],
            ));
            requests.push(req(
                proto::CMD_TABLE_COMMIT,
                vec![flag_attr(proto::A_CARRY)],
            ));
            requests.push(req(
                proto::CMD_TABLE_GET,
                vec![t(TableKind::Filter), flag_attr(proto::A_ZERO)],
            ));
        }
        // Splice material: every attribute of the tables and requests, and
        // a few that the valid ones lack.
        let mut pool = Vec::new();
        for (_, blob) in &tables {
            for n in tree(blob, 0, blob.len()) {
                pool.push(blob[n.off..n.off + align4(n.len).min(blob.len() - n.off)].to_vec());
            }
        }
        for r in &requests {
            for n in tree(r, GENL_MSG_HDRLEN, r.len()) {
                pool.push(r[n.off..n.off + align4(n.len).min(r.len() - n.off)].to_vec());
            }
        }
        for k in 0..=proto::MT_MAX + 1 {
            pool.push(tables::mt(k, &[]));
        }
        for k in 0..=proto::TG_MAX + 1 {
            pool.push(tables::target(k, &[]));
        }
        for name in NAMES {
            pool.push(tables::jump_to(name));
            pool.push(str_attr(proto::CHAIN_NAME, name));
        }
        pool.push(flag_attr(proto::CHAIN_CONTINUED));
        for o in [0, 1, 2, 3, 0xffff, u32::MAX] {
            pool.push(u32_attr(proto::RULE_ORIGIN, o));
            pool.push(u32_attr(proto::CHAIN_ORIGIN, o));
        }
        pool.push(attr(0, &[]));
        pool.sort();
        pool.dedup();
        Corpus {
            family,
            unsafe_,
            requests,
            tables,
            pool,
        }
    }

    fn header(&self, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        wire::genl_request(self.family, cmd, attrs)
    }

    /// Random bytes, or random attribute-shaped bytes, after valid headers
    /// of a mostly valid command.
    fn noise(&self, rng: &mut Rng) -> Vec<u8> {
        let cmd = if rng.one_in(8) {
            rng.below(usize::from(proto::CMD_MAX) + 5) as u8
        } else {
            1 + rng.below(usize::from(proto::CMD_MAX)) as u8
        };
        let max = if rng.one_in(10) { 2048 } else { 128 };
        let n = rng.below(max);
        let body = if rng.one_in(2) {
            rng.bytes(n)
        } else {
            // Attribute soup: plausible lengths and types, nests inside.
            let mut b = Vec::new();
            while b.len() < n {
                let plen = rng.below(12);
                let ty = rng.below(10) as u16 | if rng.one_in(4) { NLA_F_NESTED } else { 0 };
                let payload = if ty & NLA_F_NESTED != 0 && rng.one_in(2) {
                    rng.pick(&self.pool).clone()
                } else {
                    rng.bytes(plen)
                };
                let len = if rng.one_in(10) {
                    rng.below(40) as u16
                } else {
                    (4 + payload.len()) as u16
                };
                b.extend(wire::attr_with_len(len, ty, &payload));
            }
            b
        };
        self.header(cmd, &body)
    }

    /// A valid request, mutated 1 to 4 times.
    fn mutated(&self, rng: &mut Rng) -> Vec<u8> {
        let mut m = rng.pick(&self.requests).clone();
        for _ in 0..1 + rng.below(4) {
            mutate_message(rng, &mut m, &self.pool);
        }
        m
    }

    /// A whole transaction: BEGIN, the chunks of a table (mutated inside
    /// sound framing, most of the time), COMMIT or ABORT.
    fn transaction(&self, rng: &mut Rng) -> Vec<Vec<u8>> {
        let (kind, blob) = rng.pick(&self.tables).clone();
        let begin_kind = if rng.one_in(10) {
            *rng.pick(&[TableKind::Filter, TableKind::Mangle, TableKind::Raw])
        } else {
            kind
        };
        let mut begin = vec![str_attr(proto::A_TABLE, begin_kind.name())];
        // Small generations: a table restored once is at 1, so bound
        // transactions (and A_CARRY) often get past the generation check.
        let bound = rng.one_in(3);
        if bound {
            begin.push(u32_attr(proto::A_GENERATION, rng.below(4) as u32));
        }
        let mut out = vec![self.header(proto::CMD_TABLE_BEGIN, &begin.concat())];

        let mut blob = blob;
        if !rng.one_in(8) {
            for _ in 0..1 + rng.below(3) {
                mutate_attrs(rng, &mut blob, 0, &self.pool);
            }
        }
        // Cut into chunks at top-level attribute boundaries.
        let top = walk_attrs(&blob);
        let pieces = 1 + rng.below(3);
        let mut cuts: Vec<usize> = (1..pieces)
            .filter_map(|_| top.get(rng.below(top.len().max(1))).map(|a| a.offset))
            .collect();
        cuts.push(0);
        cuts.push(blob.len());
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let mut chunk = self.header(proto::CMD_TABLE_CHUNK, &blob[w[0]..w[1]]);
            if rng.one_in(20) {
                mutate_message(rng, &mut chunk, &self.pool);
            }
            out.push(chunk);
        }
        let end = match rng.below(10) {
            0 => self.header(proto::CMD_TABLE_ABORT, &[]),
            _ => {
                let mut a = Vec::new();
                if !self.unsafe_ || rng.one_in(2) {
                    a.extend(flag_attr(proto::A_TEST));
                }
                if rng.one_in(3) {
                    a.extend(flag_attr(proto::A_COUNTERS));
                }
                if rng.one_in(if bound { 2 } else { 10 }) {
                    a.extend(flag_attr(proto::A_CARRY));
                }
                self.header(proto::CMD_TABLE_COMMIT, &a)
            }
        };
        out.push(end);
        out
    }

    /// The next datagrams to send.
    pub fn next(&self, rng: &mut Rng) -> Vec<Vec<u8>> {
        match rng.below(20) {
            0..=4 => vec![self.noise(rng)],
            5..=11 => {
                let mut d = self.mutated(rng);
                if rng.one_in(20) {
                    // Two messages in one datagram.
                    let second = self.mutated(rng);
                    d.extend(second);
                }
                vec![d]
            }
            _ => self.transaction(rng),
        }
    }
}

// ---------------------------------------------------------------------
// The run.

/// What came back, summed up.
#[derive(Default, Debug)]
pub struct Tally {
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams withheld by the safety rule, by reason.
    pub withheld: BTreeMap<&'static str, u64>,
    /// `sendmsg` failures by errno.
    pub send_errors: BTreeMap<i32, u64>,
    /// Acks by errno (0: success).
    pub acks: BTreeMap<i32, u64>,
    /// Extended ack messages, by errno and text.
    pub messages: BTreeMap<(i32, String), u64>,
    /// Data replies.
    pub data: u64,
    /// Datagrams after which nothing came back.
    pub silent: u64,
}

impl Tally {
    fn seen(&mut self, r: &Reply) {
        match r {
            Reply::Ack { errno, msg, .. } => {
                *self.acks.entry(*errno).or_default() += 1;
                if let Some(m) = msg {
                    *self.messages.entry((*errno, m.clone())).or_default() += 1;
                }
            }
            Reply::Data { .. } | Reply::Done { .. } => self.data += 1,
        }
    }

    /// The summary, one item per line.
    pub fn summary(&self, secs: f64) -> String {
        let mut s = String::new();
        let withheld: u64 = self.withheld.values().sum();
        s += &format!(
            "messages sent: {} in {:.1}s ({:.0}/s); withheld as unsafe: {}\n",
            self.sent,
            secs,
            self.sent as f64 / secs.max(1e-9),
            withheld
        );
        for (why, n) in &self.withheld {
            s += &format!("  withheld {why}: {n}\n");
        }
        for (e, n) in &self.send_errors {
            s += &format!("  sendmsg {}: {n}\n", wire::errno_name(*e));
        }
        s += &format!(
            "replies: {} data, {} datagrams without any answer\n",
            self.data, self.silent
        );
        s += "errnos seen:\n";
        for (e, n) in &self.acks {
            let name = if *e == 0 {
                "0 (ack)".to_string()
            } else {
                wire::errno_name(*e)
            };
            s += &format!("  {name:<12} {n}\n");
        }
        let mut msgs: Vec<_> = self.messages.iter().collect();
        msgs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        s += &format!(
            "extended ack messages ({} different, most frequent first):\n",
            msgs.len()
        );
        for ((e, m), n) in msgs.iter().take(25) {
            s += &format!("  {n:>7} {}: {m}\n", wire::errno_name(*e));
        }
        s
    }
}

/// Hex of a datagram, for `--trace`.
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Run the random mode. Fails when the kernel stops answering.
pub fn run(opts: &Options) -> Result<Tally, String> {
    let mut c = Client::open()?;
    let corpus = Corpus::new(c.family, opts.unsafe_);
    let mut rng = Rng::new(opts.seed);
    let mut t = Tally::default();
    let start = Instant::now();
    let mut seq: u32 = 0x1000_0000;
    let mut last_check = 0;
    while t.sent < opts.count {
        for mut d in corpus.next(&mut rng) {
            if t.sent >= opts.count {
                break;
            }
            if let Err(why) = check_safe(&d, c.family, opts.unsafe_) {
                *t.withheld.entry(why).or_default() += 1;
                continue;
            }
            seq = seq.wrapping_add(1);
            wire::set_nlmsg_seq(&mut d, seq);
            let mut got = 0;
            let mut tally = |r: &Reply| {
                got += 1;
                t.seen(r);
            };
            let res = c.send_and_drain(&d, &mut tally);
            if opts.trace {
                println!(
                    "{} {} -> {:?} {} replies",
                    t.sent,
                    hex(&d),
                    res.err().map(wire::errno_name),
                    got
                );
            }
            match res {
                Ok(()) => {}
                Err(e) => *t.send_errors.entry(e).or_default() += 1,
            }
            if got == 0 {
                t.silent += 1;
            }
            t.sent += 1;
        }
        // Now and then, and at the end: is the family still answering?
        if t.sent - last_check >= 1000 || t.sent >= opts.count {
            last_check = t.sent;
            let probe = wire::genl_request(c.family, proto::CMD_GET_STATS, &[]);
            match c.outcome(&probe) {
                crate::socket::Outcome::Ack { errno: 0, .. } => {}
                other => {
                    return Err(format!(
                        "after {} messages (seed {}), GET_STATS answered: {other}",
                        t.sent, opts.seed
                    ))
                }
            }
        }
    }
    // Leave no transaction behind.
    let abort = wire::genl_request(c.family, proto::CMD_TABLE_ABORT, &[]);
    let _ = c.outcome(&abort);
    print!("{}", t.summary(start.elapsed().as_secs_f64()));
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAM: u16 = 0x20;

    #[test]
    fn rng_is_deterministic_and_spread() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let mut c = Rng::new(2);
        let xa: Vec<u64> = (0..8).map(|_| a.next()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        let mut z = Rng::new(0);
        assert_ne!(z.next(), 0);
        let mut hist = [0usize; 4];
        for _ in 0..4000 {
            hist[z.below(4)] += 1;
        }
        assert!(hist.iter().all(|&h| h > 800), "{hist:?}");
        assert_eq!(z.below(0), 0);
    }

    #[test]
    fn safety_rule() {
        let ok = |d: &[u8]| check_safe(d, FAM, false);
        let commit = |attrs: &[u8]| wire::genl_request(FAM, proto::CMD_TABLE_COMMIT, attrs);
        assert_eq!(ok(&commit(&flag_attr(proto::A_TEST))), Ok(()));
        assert_eq!(ok(&commit(&[])), Err("COMMIT without A_TEST"));
        assert_eq!(
            ok(&commit(&flag_attr(proto::A_COUNTERS))),
            Err("COMMIT without A_TEST")
        );
        // The flag with NLA_F_NESTED still counts: the kernel refuses it.
        assert_eq!(
            ok(&commit(&flag_attr(proto::A_TEST | NLA_F_NESTED))),
            Ok(())
        );
        // Behind an attribute the walk cannot pass, A_TEST is not seen.
        let hidden = [wire::attr_with_len(200, 1, &[]), flag_attr(proto::A_TEST)].concat();
        assert!(ok(&commit(&hidden)).is_err());
        assert_eq!(
            ok(&wire::genl_request(FAM, proto::CMD_ZERO_STATS, &[])),
            Err("ZERO_STATS")
        );
        let get =
            |attrs: &[Vec<u8>]| wire::genl_request(FAM, proto::CMD_TABLE_GET, &attrs.concat());
        assert_eq!(ok(&get(&[str_attr(proto::A_TABLE, "filter")])), Ok(()));
        assert!(ok(&get(&[
            str_attr(proto::A_TABLE, "filter"),
            flag_attr(proto::A_ZERO)
        ]))
        .is_err());
        // Another family, even second in the datagram.
        let other = wire::genl_request(FAM + 1, proto::CMD_GET_STATS, &[]);
        assert_eq!(ok(&other), Err("another family"));
        let two = [
            wire::genl_request(FAM, proto::CMD_GET_STATS, &[]),
            other.clone(),
        ]
        .concat();
        assert_eq!(ok(&two), Err("another family"));
        // ... unless the kernel never gets to it.
        let mut short = wire::genl_request(FAM, proto::CMD_GET_STATS, &[]);
        wire::set_nlmsg_len(&mut short, 8);
        assert_eq!(ok(&[short, other.clone()].concat()), Ok(()));
        // Not requests, control types: never handled.
        let mut not_req = commit(&[]);
        wire::set_nlmsg_flags(&mut not_req, wire::NLM_F_ACK);
        assert_eq!(ok(&not_req), Ok(()));
        let ctl = wire::genl_request(wire::NLMSG_DONE, proto::CMD_TABLE_COMMIT, &[]);
        assert_eq!(ok(&ctl), Ok(()));
        // A commit hidden behind a shortened first message.
        let mut first = wire::genl_request(FAM, proto::CMD_GET_STATS, &[]);
        first.extend(commit(&[]));
        assert_eq!(ok(&first), Err("COMMIT without A_TEST"));
        // --unsafe allows all of it but other families.
        assert_eq!(check_safe(&commit(&[]), FAM, true), Ok(()));
        assert_eq!(check_safe(&other, FAM, true), Err("another family"));
        // Garbage never panics.
        let mut rng = Rng::new(5);
        for n in 0..200 {
            let _ = check_safe(&rng.bytes(n), FAM, false);
        }
    }

    #[test]
    fn tree_finds_every_depth() {
        let blob = tables::valid_filter();
        let nodes = tree(&blob, 0, blob.len());
        // TABLE_NAME and four chains at the top.
        assert_eq!(nodes.iter().filter(|n| n.parents.is_empty()).count(), 5);
        let deepest = nodes.iter().map(|n| n.parents.len()).max().unwrap();
        assert!(deepest >= 4, "{deepest}");
        for n in &nodes {
            for &p in &n.parents {
                assert!(p < n.off && n.off + n.len <= p + nla_len_at(&blob, p));
            }
        }
        assert!(tree(&blob, 10, 5).is_empty());
    }

    #[test]
    fn insert_and_remove_keep_nests_consistent() {
        let blob = tables::valid_filter();
        let nodes = tree(&blob, 0, blob.len());
        // The deepest attribute: delete it, then put it back.
        let n = nodes
            .iter()
            .max_by_key(|n| n.parents.len())
            .unwrap()
            .clone();
        let bytes = blob[n.off..n.off + align4(n.len)].to_vec();
        let mut b = blob.clone();
        remove(&mut b, n.off, bytes.len(), &n.parents);
        assert_eq!(b.len(), blob.len() - bytes.len());
        // Every nest still ends where its parent says.
        let after = tree(&b, 0, b.len());
        assert_eq!(after.len(), nodes.len() - 1);
        assert!(insert(&mut b, n.off, &bytes, &n.parents));
        assert_eq!(b, blob);
        // A nest never grows beyond 64 KiB.
        let mut b = blob.clone();
        let top = nodes
            .iter()
            .find(|n| n.parents.is_empty() && n.len > 64)
            .unwrap();
        let inner = nodes.iter().find(|m| m.parents == vec![top.off]).unwrap();
        assert!(!insert(&mut b, inner.off, &vec![0; 65_532], &inner.parents));
        assert_eq!(b, blob);
    }

    #[test]
    fn mutations_never_panic_and_stay_bounded() {
        let corpus = Corpus::new(FAM, false);
        let mut rng = Rng::new(3);
        for _ in 0..20_000 {
            let mut m = rng.pick(&corpus.requests).clone();
            for _ in 0..4 {
                mutate_message(&mut rng, &mut m, &corpus.pool);
            }
            assert!(m.len() < 1 << 20);
            let mut b = rng.pick(&corpus.tables).1.clone();
            for _ in 0..4 {
                mutate_attrs(&mut rng, &mut b, 0, &corpus.pool);
            }
        }
    }

    #[test]
    fn datagrams_are_mostly_safe_and_varied() {
        let corpus = Corpus::new(FAM, false);
        let mut rng = Rng::new(42);
        let (mut safe, mut total) = (0, 0);
        let mut cmds = std::collections::BTreeSet::new();
        for _ in 0..5000 {
            for d in corpus.next(&mut rng) {
                total += 1;
                if check_safe(&d, FAM, false).is_ok() {
                    safe += 1;
                }
                if d.len() > wire::NLMSG_HDRLEN {
                    cmds.insert(d[wire::NLMSG_HDRLEN]);
                }
            }
        }
        assert!(safe * 100 > total * 90, "{safe} of {total}");
        for cmd in 1..=proto::CMD_MAX {
            assert!(cmds.contains(&cmd), "command {cmd} never sent");
        }
        // The same seed gives the same datagrams.
        let a: Vec<_> = (0..50)
            .flat_map(|_| corpus.next(&mut Rng::new(9)))
            .collect();
        let b: Vec<_> = (0..50)
            .flat_map(|_| corpus.next(&mut Rng::new(9)))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn transactions_keep_framing_and_test_commits() {
        let corpus = Corpus::new(FAM, false);
        let mut rng = Rng::new(7);
        for _ in 0..500 {
            let t = corpus.transaction(&mut rng);
            assert!(t.len() >= 3);
            assert_eq!(t[0][wire::NLMSG_HDRLEN], proto::CMD_TABLE_BEGIN);
            let last = t.last().unwrap();
            assert!(check_safe(last, FAM, false).is_ok());
        }
    }

    #[test]
    fn summary_lists_errnos() {
        let mut t = Tally {
            sent: 3,
            ..Tally::default()
        };
        t.seen(&Reply::Ack {
            seq: 1,
            errno: libc::EINVAL,
            msg: Some("bad".into()),
            offset: None,
        });
        t.seen(&Reply::Ack {
            seq: 2,
            errno: 0,
            msg: None,
            offset: None,
        });
        let s = t.summary(1.0);
        assert!(s.contains("messages sent: 3"));
        assert!(s.contains("EINVAL"));
        assert!(s.contains("0 (ack)"));
        assert!(s.contains("bad"));
    }
}
