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
//! Each chain is indexed by up to [`MAX_KEYS`] *keys*, each one cheap
//! condition of the IP header or the transport header ([`Key`]): the
//! protocol (`-p`), the first `L` bits of the source or destination
//! address (`-s`, `-d`), the exact input or output interface (`-i`, `-o`),
//! the TCP/UDP source or destination port (`--sport`, `--dport`), or the
//! ICMP type (`--icmp-type`). A rule is *keyed* by a key when the key
//! determines a value `k` such that the rule can match only packets whose
//! key is `k`: `-p tcp` (not `! -p`), `-d 10.1.2.0/24` when `L` <= 24 (not
//! `! -d`), `-i eth0` (not `eth+`, not `! -i`), `--dport 80` (not a range,
//! not `!`), `--icmp-type 3/1` or `3` (not `any`, not `!`). A rule keyed
//! by several of the chain's keys is filed under the first of them (the
//! keys are ordered from the most to the least selective). A rule keyed by
//! none is a *wildcard* rule of the chain: it may match any packet as far
//! as the keys can tell.
//!
//! A port or an ICMP type is only a key of a rule when its match comes
//! before any match that asks the kernel something ([`is_pure`]): the IP
//! part is tried before the matches (`rule_matches` in `eval.rs`), and the
//! matches in order, so a keyed rule that does not match the packet's key
//! fails, in the linear walk too, before anything with an effect (a
//! `limit` charged, a conntrack or FIB lookup) has run. Skipping it
//! changes nothing the walk does.
//!
//! # Layout
//!
//! Nothing is allocated: the index lives in fields of the decoded arrays,
//! which the kernel allocates at commit as it always did. Per chain
//! ([`Chain`]'s `index`): the keys. Per rule ([`Rule`]'s `links`, 12
//! bytes):
//!
//! - `head`: the chain's hash table has one slot per rule, slot `s` kept
//!   in the chain's rule `s`: the first (lowest) keyed rule whose key and
//!   value hash to `s` (the keys share the table: the hash mixes in which
//!   key it is);
//! - `next`: the next keyed rule in the same slot, ascending;
//! - `wild`: the first wildcard rule at or after this one (a skip
//!   pointer), or the chain's end.
//!
//! For a packet, the walker computes its value of each key once per chain
//! entered, hashes each to a slot, and merges the ascending lists, one per
//! key and the wildcard rules', trying the smallest head each time. A jump
//! saves the cursors on the walker's stack, so a return resumes exactly
//! after the jump.
//!
//! # Why this design
//!
//! Hashes over a few keys, rather than bit vectors intersected over every
//! field (Lakshman-Stiliadis): bit vectors cost rules x intervals bits per
//! field (25 MB per field at 10,000 rules), need a scratch vector per
//! packet and a new allocation in the module; a few keys per chain fit in
//! the arrays the module already allocates, cost O(keys) per packet and
//! chain, and cover the large rulesets met in practice, which vary one or
//! a few fields over thousands of rules (ports, addresses, interfaces),
//! each rule keyed by one of them. Slots colliding in the hash only cost
//! time: every candidate is tried in full.
//!
//! # Choosing the keys
//!
//! At commit, for each chain of at least [`MIN_RULES`] rules, every key
//! that some rule has is measured alone (for `-s` and `-d`, the six prefix
//! lengths most common among the chain's masks): how many rules it keys,
//! and its longest slot. Taking them from the most selective (shortest
//! longest slot) on, a key joins the chain's keys when it keys rules the
//! keys taken before do not, at least as many as its longest slot holds
//! (it does not make the worst packet try more) and at least a 64th of
//! the chain. The cost of the result is the number of wildcard rules plus,
//! per key, its longest slot: the most rules a packet can be made to try.
//! The keys are kept if that at most halves the rules tried; otherwise the
//! chain stays linear. Building is O(rules) per key measured, at most 18,
//! and three more passes.
//!
//! # Limits
//!
//! At most [`MAX_KEYS`] keys per chain. Port ranges, multiport, inverted
//! conditions, interface prefixes (`eth+`), `--icmp-type any` and every
//! match after one that asks the kernel are not indexed: such rules are
//! wildcard rules, tried by every packet.

use super::eval::PacketInfo;
use super::matches::icmp::Icmp;
use super::matches::Match;
use super::packet::L4;
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
    /// The type of the icmp match (`--icmp-type T` or `T/C`).
    IcmpType,
}

/// Most keys a chain is indexed by.
pub const MAX_KEYS: usize = 4;

/// The keys a chain is indexed by: the first `len` entries, the most
/// selective first; a rule is filed under the first that keys it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    keys: [Key; MAX_KEYS],
    len: u8,
}

impl Keys {
    /// No key: the chain is walked linearly.
    pub const LINEAR: Keys = Keys {
        keys: [Key::Linear; MAX_KEYS],
        len: 0,
    };

    /// The keys of `from`, without [`Key::Linear`], at most [`MAX_KEYS`].
    pub fn new(from: &[Key]) -> Keys {
        let mut k = Keys::LINEAR;
        for &key in from.iter().filter(|&&key| key != Key::Linear) {
            if let Some(slot) = k.keys.get_mut(usize::from(k.len)) {
                *slot = key;
                k.len += 1;
            }
        }
        k
    }

    /// The keys, the most selective first.
    pub fn as_slice(&self) -> &[Key] {
        self.keys.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether there is none.
    pub fn is_linear(&self) -> bool {
        self.len == 0
    }

    /// The first key, or [`Key::Linear`].
    pub fn first(&self) -> Key {
        self.as_slice().first().copied().unwrap_or(Key::Linear)
    }
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

/// How [`index_with`] picks each chain's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The keys chosen as the module documentation says, for chains of at
    /// least `min_rules` rules where they at most halve the rules a packet
    /// tries (what [`index`] does with [`MIN_RULES`]).
    Auto {
        /// Shortest chain indexed.
        min_rules: u32,
    },
    /// The keys chosen so for every chain with rules, whatever they save.
    Cheapest,
    /// This key for every chain with rules.
    Fixed(Key),
    /// These keys, in this order, for every chain with rules.
    FixedSet(Keys),
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

/// The value `value` gives the first match of `ms` it knows, provided no
/// match before it asks the kernel anything.
fn first_pure(ms: &[Match], value: impl Fn(&Match) -> Option<u64>) -> Option<u64> {
    for m in ms {
        if let Some(k) = value(m) {
            return Some(k);
        }
        if !is_pure(m) {
            return None;
        }
    }
    None
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
            first_pure(ms, |m| {
                let (tcp, sports, dports, invert) = match m {
                    Match::Tcp(t) => (true, t.sports, t.dports, t.invert),
                    Match::Udp(u) => (false, u.sports, u.dports, u.invert),
                    _ => return None,
                };
                let r = if dest { dports } else { sports };
                (u32::from(invert) & bit == 0 && r.first == r.last)
                    .then(|| port_value(tcp, r.first))
            })
        }
        Key::IcmpType => first_pure(ms, |m| match m {
            Match::Icmp(i) if !i.invert && i.icmp_type != Icmp::ANY => Some(u64::from(i.icmp_type)),
            _ => None,
        }),
    }
}

/// The packet's key value, if it has one: a keyed rule can only match a
/// packet whose key value is its own.
pub(super) fn packet_key(p: &PacketInfo, key: Key) -> Option<u64> {
    let ip = &p.pkt;
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
            match p.pkt.l4 {
                L4::Tcp { sport, dport, .. } => {
                    Some(port_value(true, if dest { dport } else { sport }))
                }
                L4::Udp { sport, dport } => {
                    Some(port_value(false, if dest { dport } else { sport }))
                }
                // The tcp and udp matches need their header.
                _ => None,
            }
        }
        Key::IcmpType => match p.pkt.l4 {
            L4::Icmp { icmp_type, .. } => Some(u64::from(icmp_type)),
            _ => None,
        },
    }
}

/// The slot of value `k` of the chain's key number `pos` in a table of
/// `n` slots (`n` > 0: below `n`).
fn key_slot(pos: usize, k: u64, n: u32) -> u32 {
    slot_of(k ^ (pos as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15), n)
}

/// The key number among `keys` rule `rule` is filed under, and its value.
fn file_under(rule: &Rule, ms: &[Match], keys: &[Key]) -> Option<(usize, u64)> {
    keys.iter()
        .enumerate()
        .find_map(|(pos, &key)| rule_key(rule, ms, key).map(|k| (pos, k)))
}

/// The matches of `rule` among the table's `matches`.
fn matches_of<'m>(matches: &'m [Match], rule: &Rule) -> &'m [Match] {
    let start = rule.match_start as usize;
    matches
        .get(start..start.saturating_add(rule.match_count()))
        .unwrap_or(&[])
}

/// What an index costs a packet at worst.
#[derive(Clone, Copy, Debug, Default)]
struct Cost {
    /// The wildcard rules.
    wild: u32,
    /// Per key, the most rules filed under it in one slot.
    longest: [u32; MAX_KEYS],
}

impl Cost {
    /// The most rules a packet can be made to try: the wildcard rules and
    /// the longest slot of each key (rules of other keys that share a
    /// slot by the hash are left out: that is chance, not the ruleset).
    fn total(&self) -> u32 {
        self.longest
            .iter()
            .fold(self.wild, |t, &l| t.saturating_add(l))
    }
}

/// Index the chain whose rules are `run`, the first numbered `first`, by
/// `keys` (at most [`MAX_KEYS`]); returns what it costs.
fn build_chain(first: u32, run: &mut [Rule], matches: &[Match], keys: &[Key]) -> Cost {
    let n = run.len() as u32;
    let end = first.saturating_add(n);
    for r in run.iter_mut() {
        r.links = Links::default();
    }
    let mut cost = Cost::default();
    let mut wild = end;
    // From the end, so that each slot's list comes out ascending.
    for i in (0..run.len()).rev() {
        let at = first.saturating_add(i as u32);
        let filed = run
            .get(i)
            .and_then(|r| file_under(r, matches_of(matches, r), keys));
        match filed {
            Some((pos, k)) => {
                let s = key_slot(pos, k, n) as usize;
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
                cost.wild += 1;
            }
        }
        if let Some(r) = run.get_mut(i) {
            r.links.wild = wild;
        }
    }
    // The longest slot of each key: with one key, the lists' lengths.
    for s in 0..run.len() {
        let mut len = [0u32; MAX_KEYS];
        let mut at = run.get(s).map_or(NIL, |r| r.links.head);
        while let Some(r) = at.checked_sub(first).and_then(|i| run.get(i as usize)) {
            let pos = match keys.len() {
                1 => Some(0),
                _ => file_under(r, matches_of(matches, r), keys).map(|(pos, _)| pos),
            };
            if let Some(l) = pos.and_then(|pos| len.get_mut(pos)) {
                *l += 1;
            }
            at = r.links.next;
        }
        for (longest, l) in cost.longest.iter_mut().zip(len) {
            *longest = (*longest).max(l);
        }
    }
    cost
}

/// Most prefix lengths tried per address: the most common ones.
const MAX_LENGTHS: usize = 6;

/// The keys other than addresses.
const OTHERS: [Key; 6] = [
    Key::DPort,
    Key::SPort,
    Key::IcmpType,
    Key::InIface,
    Key::OutIface,
    Key::Proto,
];

/// Most keys measured for a chain: the others, and [`MAX_LENGTHS`] per
/// address.
const MAX_CANDIDATES: usize = OTHERS.len() + 2 * MAX_LENGTHS;

/// The keys worth measuring for a chain, those some rule of it has, and
/// how many there are.
fn candidates(run: &[Rule], matches: &[Match]) -> ([Key; MAX_CANDIDATES], usize) {
    // Rules by the leading ones of their (not inverted) masks.
    let (mut src_lens, mut dst_lens) = ([0u32; 33], [0u32; 33]);
    let mut have = [false; OTHERS.len()];
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

/// The keys for the chain whose rules are `run`, chosen as the module
/// documentation says, and what they cost; the rules' links are those of
/// the keys returned (scratch if there are none).
fn choose_keys(first: u32, run: &mut [Rule], matches: &[Match]) -> (Keys, Cost) {
    let n = run.len() as u32;
    let (keys, count) = candidates(run, matches);
    let keys = keys.get(..count).unwrap_or(&[]);
    // Each alone: its longest slot and its wildcard rules.
    let mut measured = [(0u32, 0u32, 0usize); MAX_CANDIDATES];
    for (j, &key) in keys.iter().enumerate() {
        let cost = build_chain(first, run, matches, &[key]);
        if let Some(m) = measured.get_mut(j) {
            *m = (cost.longest[0], cost.wild, j);
        }
    }
    let measured = measured.get_mut(..count).unwrap_or(&mut []);
    // The most selective first; equals keep the candidates' order (ports
    // first). An insertion sort of at most 18: `sort_unstable` brings a
    // panic path objtool does not know.
    for i in 1..measured.len() {
        let mut j = i;
        while j > 0 && measured.get(j - 1) > measured.get(j) {
            measured.swap(j - 1, j);
            j -= 1;
        }
    }
    // Which candidates key each rule, as a bit mask in its `wild` link
    // (rebuilt after).
    for r in run.iter_mut() {
        let ms = matches_of(matches, r);
        let mask = keys.iter().enumerate().fold(0u32, |mask, (j, &key)| {
            mask | u32::from(rule_key(r, ms, key).is_some()) << j
        });
        r.links.wild = mask;
    }
    let unkeyed = |run: &[Rule], mask: u32| -> u32 {
        run.iter().filter(|r| r.links.wild & mask == 0).count() as u32
    };
    // 1. From the most selective on, each key that files rules the keys
    // before it do not: as many as its longest slot at least, and a 64th
    // of the chain.
    let mut by_selectivity = 0u32;
    let mut taken = 0;
    for &(longest, _, j) in measured.iter() {
        if taken == MAX_KEYS {
            break;
        }
        let bit = 1u32 << j;
        let new = run
            .iter()
            .filter(|r| r.links.wild & bit != 0 && r.links.wild & by_selectivity == 0)
            .count() as u32;
        if new > 0 && new >= longest && new.saturating_mul(64) >= n {
            by_selectivity |= bit;
            taken += 1;
        }
    }
    // 2. Greedily, the key that lowers most the wildcard rules plus the
    // longest slots (each key's alone: a bound).
    let mut by_bound = 0u32;
    let mut bound = n;
    for _ in 0..MAX_KEYS {
        let slots: u32 = measured
            .iter()
            .filter(|m| by_bound & 1 << m.2 != 0)
            .map(|m| m.0)
            .sum();
        let best = measured
            .iter()
            .filter(|m| by_bound & 1 << m.2 == 0)
            .map(|m| {
                let b = unkeyed(run, by_bound | 1 << m.2).saturating_add(slots + m.0);
                (b, m.2)
            })
            .min();
        match best {
            Some((b, j)) if b < bound => {
                bound = b;
                by_bound |= 1 << j;
            }
            _ => break,
        }
    }
    // 3. The best key alone.
    let single = measured
        .iter()
        .min_by_key(|m| m.0.saturating_add(m.1))
        .map_or(0, |m| 1u32 << m.2);
    // Each set once, in the order of selectivity, built and measured: the
    // cheapest wins, the fewest keys among equals.
    let in_order = |set: u32| {
        let mut chosen = [Key::Linear; MAX_KEYS];
        for (c, &(_, _, j)) in chosen
            .iter_mut()
            .zip(measured.iter().filter(|m| set & 1 << m.2 != 0))
        {
            *c = keys.get(j).copied().unwrap_or(Key::Linear);
        }
        Keys::new(&chosen)
    };
    let rank = |set: u32, cost: &Cost| (cost.total(), set.count_ones());
    let mut best: Option<(u32, Cost)> = None;
    let mut built = [0u32; 3];
    for (i, set) in [single, by_selectivity, by_bound].into_iter().enumerate() {
        if set == 0 || built.contains(&set) {
            continue;
        }
        let cost = build_chain(first, run, matches, in_order(set).as_slice());
        if let Some(b) = built.get_mut(i) {
            *b = set;
        }
        if best
            .as_ref()
            .is_none_or(|(s, c)| rank(set, &cost) < rank(*s, c))
        {
            best = Some((set, cost));
        }
    }
    let Some((set, cost)) = best else {
        return (Keys::LINEAR, Cost::default());
    };
    // The links must be the winner's: build it again unless it was last.
    if built.iter().rev().find(|&&b| b != 0) != Some(&set) {
        build_chain(first, run, matches, in_order(set).as_slice());
    }
    (in_order(set), cost)
}

/// Index chain `chain` whose rules are `run` (the table's rules from
/// `chain.first_rule`) as `choice` says.
fn index_chain(chain: &mut Chain, run: &mut [Rule], matches: &[Match], choice: Choice) {
    chain.index = Keys::LINEAR;
    let n = run.len() as u32;
    if n == 0 {
        return;
    }
    let first = chain.first_rule;
    let (keys, cost) = match choice {
        Choice::Fixed(key) => {
            let keys = Keys::new(&[key]);
            (keys, build_chain(first, run, matches, keys.as_slice()))
        }
        Choice::FixedSet(keys) => (keys, build_chain(first, run, matches, keys.as_slice())),
        Choice::Auto { min_rules } if n < min_rules => return,
        Choice::Auto { .. } | Choice::Cheapest => choose_keys(first, run, matches),
    };
    let too_dear = matches!(choice, Choice::Auto { .. }) && cost.total().saturating_mul(2) > n;
    if keys.is_linear() || too_dear {
        // No key, or not worth it: the links go, the walk is linear.
        for r in run.iter_mut() {
            r.links = Links::default();
        }
    } else {
        chain.index = keys;
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
            None => c.index = Keys::LINEAR,
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

/// Where a walk is in a chain: the next candidate of the packet's slot of
/// each key and the next wildcard rule (every rule is one in a chain
/// walked linearly). The walker keeps one for the chain it is in and one
/// on its stack per jump.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Cursor {
    /// The chain.
    pub(super) chain: u16,
    /// How many of `slots` are in use: the chain's keys; 0 in a linear
    /// walk.
    keys: u8,
    slots: [u32; MAX_KEYS],
    wild: u32,
}

impl Cursor {
    /// The start of chain `index`, `chain`, for packet `p`; with
    /// `classify` false, or a chain without keys, a linear walk.
    #[inline]
    pub(super) fn enter(
        index: u16,
        chain: &Chain,
        rules: &[Rule],
        p: &PacketInfo,
        classify: bool,
    ) -> Cursor {
        let cursor = Cursor {
            chain: index,
            keys: 0,
            slots: [NIL; MAX_KEYS],
            wild: chain.first_rule,
        };
        // A short chain is linear: no call to find its rules.
        if !classify || chain.index.is_linear() || chain.rule_count == 0 {
            return cursor;
        }
        Self::enter_indexed(cursor, chain, rules, p)
    }

    /// [`Cursor::enter`] of an indexed chain: `cursor` at its first rule,
    /// the slots of the packet's keys filled in.
    #[inline(never)]
    fn enter_indexed(mut cursor: Cursor, chain: &Chain, rules: &[Rule], p: &PacketInfo) -> Cursor {
        let first = chain.first_rule;
        let n = chain.rule_count;
        let end = chain.rules().end;
        let link = |i: u32| rules.get(i as usize).map(|r| r.links);
        // Whatever the arrays hold, the cursors only move forwards.
        cursor.wild = link(first).map_or(end, |l| l.wild).max(first);
        let keys = chain.index.as_slice();
        cursor.keys = keys.len() as u8;
        for ((pos, &key), slot) in keys.iter().enumerate().zip(cursor.slots.iter_mut()) {
            if let Some(k) = packet_key(p, key) {
                let head = link(first.saturating_add(key_slot(pos, k, n))).map_or(NIL, |l| l.head);
                *slot = if head < first { NIL } else { head };
            }
        }
        cursor
    }

    /// The next rule to try, before `end`, and the cursor past it; `None`
    /// at the end of the chain.
    pub(super) fn next(&mut self, rules: &[Rule], end: u32) -> Option<u32> {
        if self.keys == 0 {
            let c = self.wild;
            if c >= end {
                return None;
            }
            self.wild = c + 1;
            return Some(c);
        }
        let slots = self
            .slots
            .get_mut(..usize::from(self.keys))
            .unwrap_or(&mut []);
        let c = slots.iter().fold(self.wild, |c, &s| c.min(s));
        if c >= end {
            return None;
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
        // Two keys' values may share a slot: both cursors move on.
        let mut next = None;
        for slot in slots.iter_mut().filter(|slot| **slot == c) {
            let s = *next.get_or_insert_with(|| {
                let s = link(c).map_or(NIL, |l| l.next);
                if s > c {
                    s
                } else {
                    NIL
                }
            });
            *slot = s;
        }
        Some(c)
    }

    /// Leave the chain (RETURN).
    pub(super) fn finish(&mut self, end: u32) {
        self.slots = [NIL; MAX_KEYS];
        self.wild = end;
    }
}
