// SPDX-License-Identifier: GPL-2.0

//! The classifier: which rules of a chain a packet need not try.
//!
//! A linear walk tries every rule of a chain, so a packet that matches
//! none of 10,000 rules pays 10,000 header comparisons. The classifier
//! lets the walker skip, exactly, rules that cannot match the packet, and
//! only those; the rules it does not skip are tried in ascending order and
//! in full (IP part, then every match in order), as the linear walk tries
//! them, so verdicts, counters and every side effect stay the same.
//!
//! # What is indexed
//!
//! Each chain is indexed by one *key*, one cheap condition of the IP
//! header or the transport ports ([`Key`]): the protocol (`-p`), the
//! first `L` bits of the source or destination address (`-s`, `-d`), the
//! exact input or output interface (`-i`, `-o`), or the TCP/UDP source or
//! destination port (`--sport`, `--dport`). A rule is *keyed* when the key
//! determines a value `k` such that the rule can match only packets whose
//! key is `k`: `-p tcp` (not `! -p`), `-d 10.1.2.0/24` when `L` <= 24 (not
//! `! -d`), `-i eth0` (not `eth+`, not `! -i`), `--dport 80` (not a range,
//! not `!`). Every other rule is a *wildcard* rule of the chain: it may
//! match any packet as far as the key can tell.
//!
//! A port is only a key of a rule when its tcp or udp match comes before
//! any match that asks the kernel something ([`is_pure`]): the IP part is
//! tried before the matches (`rule_matches` in `eval.rs`), and the matches
//! in order, so a keyed rule that does not match the packet's key fails,
//! in the linear walk too, before anything with an effect (a `limit`
//! charged, a conntrack or FIB lookup) has run. Skipping it changes
//! nothing the walk does.
//!
//! # Layout
//!
//! Nothing is allocated: the index lives in fields of the decoded arrays,
//! which the kernel allocates at commit as it always did. Per chain
//! ([`Chain`]'s `index`): the key. Per rule ([`Rule`]'s `links`, 12
//! bytes):
//!
//! - `head`: the chain's hash table has one slot per rule, slot `s` kept
//!   in the chain's rule `s`: the first (lowest) keyed rule whose key
//!   hashes to `s`;
//! - `next`: the next keyed rule in the same slot, ascending;
//! - `wild`: the first wildcard rule at or after this one (a skip
//!   pointer), or the chain's end.
//!
//! For a packet, the walker computes its key once per chain entered,
//! hashes it to a slot, and merges two ascending lists, the slot's and
//! the wildcard rules, trying the smaller head each time. A jump saves
//! both cursors on the walker's stack, so a return resumes exactly after
//! the jump.
//!
//! # Why this design
//!
//! A hash per chain over one key, rather than bit vectors intersected over
//! every field (Lakshman-Stiliadis): bit vectors cost rules x intervals
//! bits per field (25 MB per field at 10,000 rules), need a scratch vector
//! per packet and a new allocation in the module; one key per chain fits
//! in the arrays the module already allocates, costs O(1) per packet and
//! chain, and covers the large rulesets met in practice, which vary one
//! field over thousands of rules (a port, an address, an interface).
//! Slots colliding in the hash only cost time: every candidate is tried
//! in full.
//!
//! # Choosing the key
//!
//! At commit, for each chain of at least [`MIN_RULES`] rules, every key
//! that some rule has is built and measured (for `-s` and `-d`, the six
//! prefix lengths most common among the chain's masks): its cost is the
//! number of wildcard rules plus the longest slot, the most rules a
//! packet can be made to try. The cheapest is kept if it at most halves
//! the rules tried; otherwise the chain stays linear. Building is
//! O(rules) per key tried, at most 17 keys.
//!
//! # Limits
//!
//! One key per chain: a chain whose rules vary different fields (half by
//! port, half by address) gains at most what the best field gives. Port
//! ranges, multiport, inverted conditions, interface prefixes (`eth+`),
//! ICMP types and every match after one that asks the kernel are not
//! indexed: such rules are wildcard rules, tried by every packet.

use super::eval::PacketInfo;
use super::matches::Match;
use super::packet::Transport;
use super::proto;
use super::table::{Chain, Rule};

/// No rule: the end of a slot's list, or an empty slot.
pub const NIL: u32 = u32::MAX;

/// Chains with fewer rules are walked linearly by [`index`].
pub const MIN_RULES: u32 = 16;

/// The condition a chain is indexed by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Key {
    /// None: every rule is tried.
    #[default]
    Linear,
    /// `-p`.
    Proto,
    /// The first `L` bits of the source address (`-s` with a mask of at
    /// least `L` leading ones), `L` in 1..=32.
    Src(u8),
    /// The first `L` bits of the destination address (`-d`).
    Dst(u8),
    /// `-i` with an exact name.
    InIface,
    /// `-o` with an exact name.
    OutIface,
    /// A single `--sport` of the tcp or udp match.
    SPort,
    /// A single `--dport` of the tcp or udp match.
    DPort,
}

/// A rule's place in its chain's index (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Links {
    /// The first rule of the slot numbered as this rule's position in the
    /// chain, or [`NIL`].
    pub(super) head: u32,
    /// The next rule in this rule's slot, or [`NIL`].
    pub(super) next: u32,
    /// The first wildcard rule at or after this one, or the chain's end.
    pub(super) wild: u32,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            head: NIL,
            next: NIL,
            wild: NIL,
        }
    }
}

/// How [`index_with`] picks each chain's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The cheapest key, for chains of at least `min_rules` rules where it
    /// at most halves the rules a packet tries (what [`index`] does with
    /// [`MIN_RULES`]).
    Auto {
        /// Shortest chain indexed.
        min_rules: u32,
    },
    /// The cheapest key of every chain with rules, whatever it saves.
    Cheapest,
    /// This key for every chain with rules.
    Fixed(Key),
}

/// Whether match `m` reads only the packet: it asks the kernel nothing
/// and changes no state, so trying it or not makes no difference but its
/// answer. A match not listed here counts as having effects.
pub fn is_pure(m: &Match) -> bool {
    matches!(
        m,
        Match::Tcp(_)
            | Match::Udp(_)
            | Match::Multiport(_)
            | Match::Icmp(_)
            | Match::Mac(_)
            | Match::Mark(_)
            | Match::Tos(_)
            | Match::Dscp(_)
            | Match::Length(_)
            | Match::IpRange(_)
    )
}

/// The first `l` bits set (`l` above 32 counts as 32).
fn prefix_mask(l: u8) -> u32 {
    match l {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l.min(32))),
    }
}

/// FNV-1a of an interface name.
fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The slot of key value `k` in a table of `n` slots (`n` > 0: below
/// `n`): Fibonacci hashing, then Lemire's multiply-shift reduction.
fn slot_of(k: u64, n: u32) -> u32 {
    let h = (k ^ (k >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    ((h * u64::from(n)) >> 32) as u32
}

/// The key value of a port match: protocol and port.
fn port_value(tcp: bool, port: u16) -> u64 {
    u64::from(if tcp { 1u32 } else { 2 }) << 16 | u64::from(port)
}

/// The key value of rule `rule`, whose matches are `ms`, if it is keyed
/// by `key`.
pub(super) fn rule_key(rule: &Rule, ms: &[Match], key: Key) -> Option<u64> {
    let ip = &rule.ip;
    let addr = |a: [u8; 4], m: [u8; 4], bit: u32, l: u8| {
        let m = u32::from_be_bytes(m);
        if ip.inverted(bit) || l == 0 || m.leading_ones() < u32::from(l) {
            return None;
        }
        Some(u64::from(u32::from_be_bytes(a) & prefix_mask(l)))
    };
    let iface = |i: &super::ip::IfaceMatch, bit: u32| {
        (i.is_set() && !i.prefix && !ip.inverted(bit)).then(|| name_hash(i.name.as_bytes()))
    };
    match key {
        Key::Linear => None,
        Key::Proto => {
            (ip.proto != 0 && !ip.inverted(proto::INV_PROTO)).then_some(u64::from(ip.proto))
        }
        Key::Src(l) => addr(ip.src, ip.src_mask, proto::INV_SRC, l),
        Key::Dst(l) => addr(ip.dst, ip.dst_mask, proto::INV_DST, l),
        Key::InIface => iface(&ip.in_iface, proto::INV_IN_IFACE),
        Key::OutIface => iface(&ip.out_iface, proto::INV_OUT_IFACE),
        Key::SPort | Key::DPort => {
            let (dest, bit) = match key {
                Key::DPort => (true, proto::TCP_INV_DPORTS),
                _ => (false, proto::TCP_INV_SPORTS),
            };
            for m in ms {
                let (tcp, sports, dports, invert) = match m {
                    Match::Tcp(t) => (true, t.sports, t.dports, t.invert),
                    Match::Udp(u) => (false, u.sports, u.dports, u.invert),
                    m if is_pure(m) => continue,
                    _ => return None,
                };
                let r = if dest { dports } else { sports };
                if u32::from(invert) & bit == 0 && r.first == r.last {
                    return Some(port_value(tcp, r.first));
                }
            }
            None
        }
    }
}

/// The packet's key value, if it has one: a keyed rule can only match a
/// packet whose key value is its own.
pub(super) fn packet_key(p: &PacketInfo, key: Key) -> Option<u64> {
    let ip = &p.pkt.ip;
    let addr = |a: [u8; 4], l: u8| Some(u64::from(u32::from_be_bytes(a) & prefix_mask(l)));
    match key {
        Key::Linear => None,
        Key::Proto => Some(u64::from(ip.protocol)),
        Key::Src(l) => addr(ip.saddr, l),
        Key::Dst(l) => addr(ip.daddr, l),
        Key::InIface => Some(name_hash(p.in_dev.as_bytes())),
        Key::OutIface => Some(name_hash(p.out_dev.as_bytes())),
        Key::SPort | Key::DPort => {
            let dest = key == Key::DPort;
            match p.pkt.transport {
                Transport::Tcp(t) => Some(port_value(true, if dest { t.dport } else { t.sport })),
                Transport::Udp(u) => Some(port_value(false, if dest { u.dport } else { u.sport })),
                // The tcp and udp matches need their header.
                _ => None,
            }
        }
    }
}

/// The matches of `rule` among the table's `matches`.
fn matches_of<'m>(matches: &'m [Match], rule: &Rule) -> &'m [Match] {
    let start = rule.match_start as usize;
    matches
        .get(start..start.saturating_add(rule.match_count()))
        .unwrap_or(&[])
}

/// What a chain's index costs a packet at worst: the wildcard rules plus
/// the longest slot.
fn build_chain(first: u32, run: &mut [Rule], matches: &[Match], key: Key) -> u32 {
    let n = run.len() as u32;
    let end = first.saturating_add(n);
    for r in run.iter_mut() {
        r.links = Links::default();
    }
    let mut wild = end;
    let mut wild_count = 0u32;
    // From the end, so that each slot's list comes out ascending.
    for i in (0..run.len()).rev() {
        let at = first.saturating_add(i as u32);
        let k = run
            .get(i)
            .and_then(|r| rule_key(r, matches_of(matches, r), key));
        match k {
            Some(k) => {
                let s = slot_of(k, n) as usize;
                let head = run.get(s).map_or(NIL, |r| r.links.head);
                if let Some(r) = run.get_mut(i) {
                    r.links.next = head;
                }
                if let Some(r) = run.get_mut(s) {
                    r.links.head = at;
                }
            }
            None => {
                wild = at;
                wild_count += 1;
            }
        }
        if let Some(r) = run.get_mut(i) {
            r.links.wild = wild;
        }
    }
    let mut longest = 0u32;
    for s in 0..run.len() {
        let mut len = 0u32;
        let mut at = run.get(s).map_or(NIL, |r| r.links.head);
        while let Some(r) = at.checked_sub(first).and_then(|i| run.get(i as usize)) {
            len += 1;
            at = r.links.next;
        }
        longest = longest.max(len);
    }
    wild_count.saturating_add(longest)
}

/// Most prefix lengths tried per address: the most common ones.
const MAX_LENGTHS: usize = 6;

/// Most keys tried for a chain: five, and [`MAX_LENGTHS`] per address.
const MAX_CANDIDATES: usize = 5 + 2 * MAX_LENGTHS;

/// The keys worth trying for a chain, those some rule of it has, and how
/// many there are.
fn candidates(run: &[Rule], matches: &[Match]) -> ([Key; MAX_CANDIDATES], usize) {
    // Rules by the leading ones of their (not inverted) masks.
    const OTHERS: [Key; 5] = [
        Key::DPort,
        Key::SPort,
        Key::InIface,
        Key::OutIface,
        Key::Proto,
    ];
    let (mut src_lens, mut dst_lens) = ([0u32; 33], [0u32; 33]);
    let mut have = [false; 5];
    for r in run {
        let ms = matches_of(matches, r);
        let ip = &r.ip;
        let count = |lens: &mut [u32; 33], mask: [u8; 4], bit: u32| {
            let l = u32::from_be_bytes(mask).leading_ones() as usize;
            if let Some(n) = lens.get_mut(l).filter(|_| !ip.inverted(bit)) {
                *n += 1;
            }
        };
        count(&mut src_lens, ip.src_mask, proto::INV_SRC);
        count(&mut dst_lens, ip.dst_mask, proto::INV_DST);
        for (h, key) in have.iter_mut().zip(OTHERS) {
            *h |= rule_key(r, ms, key).is_some();
        }
    }
    let mut keys = [Key::Linear; MAX_CANDIDATES];
    let mut n = 0;
    let mut push = |key| {
        if let Some(k) = keys.get_mut(n) {
            *k = key;
            n += 1;
        }
    };
    for (h, key) in have.iter().zip(OTHERS) {
        if *h {
            push(key);
        }
    }
    for (lens, make) in [
        (&mut dst_lens, Key::Dst as fn(u8) -> Key),
        (&mut src_lens, Key::Src as fn(u8) -> Key),
    ] {
        for _ in 0..MAX_LENGTHS {
            // The most common length left (the longest of equals); 0,
            // no address, is no key.
            let mut best = (0u32, 0usize);
            for (l, &c) in lens.iter().enumerate().skip(1) {
                if c > 0 && c >= best.0 {
                    best = (c, l);
                }
            }
            if best.1 == 0 {
                break;
            }
            if let Some(c) = lens.get_mut(best.1) {
                *c = 0;
            }
            push(make(best.1 as u8));
        }
    }
    (keys, n)
}

/// Index chain `chain` whose rules are `run` (the table's rules from
/// `chain.first_rule`) as `choice` says.
fn index_chain(chain: &mut Chain, run: &mut [Rule], matches: &[Match], choice: Choice) {
    chain.index = Key::Linear;
    let n = run.len() as u32;
    if n == 0 {
        return;
    }
    let first = chain.first_rule;
    let key = match choice {
        Choice::Fixed(key) => key,
        Choice::Auto { min_rules } if n < min_rules => Key::Linear,
        Choice::Auto { .. } | Choice::Cheapest => {
            let mut best = (n, Key::Linear);
            let (keys, count) = candidates(run, matches);
            for &key in keys.get(..count).unwrap_or(&[]) {
                let cost = build_chain(first, run, matches, key);
                if cost < best.0 {
                    best = (cost, key);
                }
            }
            match choice {
                Choice::Auto { .. } if best.0.saturating_mul(2) > n => Key::Linear,
                _ => best.1,
            }
        }
    };
    if key != Key::Linear {
        build_chain(first, run, matches, key);
        chain.index = key;
    }
}

/// Index every chain of a decoded table as `choice` says. The arrays are
/// those [`super::decode()`] filled (which calls [`index`]); a chain's
/// previous index is replaced.
pub fn index_with(chains: &mut [Chain], rules: &mut [Rule], matches: &[Match], choice: Choice) {
    for c in chains.iter_mut() {
        let r = c.rules();
        match rules.get_mut(r.start as usize..r.end as usize) {
            Some(run) => index_chain(c, run, matches, choice),
            None => c.index = Key::Linear,
        }
    }
}

/// Index every chain the default way: [`Choice::Auto`] with
/// [`MIN_RULES`].
pub fn index(chains: &mut [Chain], rules: &mut [Rule], matches: &[Match]) {
    index_with(
        chains,
        rules,
        matches,
        Choice::Auto {
            min_rules: MIN_RULES,
        },
    );
}

/// Where a walk is in a chain: the next candidate of the packet's slot and
/// the next wildcard rule (every rule is one in a chain walked linearly).
/// The walker keeps one for the chain it is in and one on its stack per
/// jump.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Cursor {
    /// The chain.
    pub(super) chain: u16,
    indexed: bool,
    slot: u32,
    wild: u32,
}

impl Cursor {
    /// The start of chain `index`, `chain`, for packet `p`; with
    /// `classify` false, or a chain without a key, a linear walk.
    pub(super) fn enter(
        index: u16,
        chain: &Chain,
        rules: &[Rule],
        p: &PacketInfo,
        classify: bool,
    ) -> Cursor {
        let first = chain.first_rule;
        let n = chain.rule_count;
        let linear = Cursor {
            chain: index,
            indexed: false,
            slot: NIL,
            wild: first,
        };
        if !classify || chain.index == Key::Linear || n == 0 {
            return linear;
        }
        let end = chain.rules().end;
        let link = |i: u32| rules.get(i as usize).map(|r| r.links);
        // Whatever the arrays hold, the cursors only move forwards.
        let wild = link(first).map_or(end, |l| l.wild).max(first);
        let slot = match packet_key(p, chain.index) {
            Some(k) => link(first.saturating_add(slot_of(k, n))).map_or(NIL, |l| l.head),
            None => NIL,
        };
        Cursor {
            chain: index,
            indexed: true,
            slot: if slot < first { NIL } else { slot },
            wild,
        }
    }

    /// The next rule to try, before `end`, and the cursor past it; `None`
    /// at the end of the chain.
    pub(super) fn next(&mut self, rules: &[Rule], end: u32) -> Option<u32> {
        let c = self.slot.min(self.wild);
        if c >= end {
            return None;
        }
        if !self.indexed {
            self.wild = c + 1;
            return Some(c);
        }
        let link = |i: u32| rules.get(i as usize).map(|r| r.links);
        if c == self.wild {
            let after = c + 1;
            let w = if after >= end {
                end
            } else {
                link(after).map_or(end, |l| l.wild)
            };
            self.wild = if w > c { w } else { end };
        }
        if c == self.slot {
            let s = link(c).map_or(NIL, |l| l.next);
            self.slot = if s > c { s } else { NIL };
        }
        Some(c)
    }

    /// Leave the chain (RETURN).
    pub(super) fn finish(&mut self, end: u32) {
        self.slot = NIL;
        self.wild = end;
    }
}
