// SPDX-License-Identifier: GPL-2.0

//! Fuzz the ruleset decoder and validator the kernel runs on every
//! `TABLE_COMMIT`: `rules::measure` then `rules::decode` into storage of
//! exactly the measured size, as `rust/rustfilter/tables.rs` (`compile`)
//! does. Neither may panic. Whatever is accepted must survive a round
//! trip: encoded again with `rules::encode_table` (as a dump does), it
//! decodes to the same table, and encoding that gives the same bytes.
//!
//! Run with `cargo +nightly fuzz run rules` in `rust/rfcore`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::nla::{NlaError, Writer};
use rfcore::rules::{self, Chain, Counters, Match, Rule, Storage, Table};

/// Storage for one decode, sized as the kernel sizes it.
struct Owned {
    chains: Vec<Chain>,
    rules: Vec<Rule>,
    matches: Vec<Match>,
}

impl Owned {
    fn for_sizes(s: rules::Sizes) -> Self {
        Owned {
            chains: vec![Chain::default(); s.chains],
            rules: vec![Rule::default(); s.rules],
            matches: vec![Match::default(); s.matches],
        }
    }

    fn storage(&mut self) -> Storage<'_> {
        Storage {
            chains: &mut self.chains,
            rules: &mut self.rules,
            matches: &mut self.matches,
        }
    }
}

/// The counters a dump reports for counter index `i`: rules first, then
/// the built-in chains' policies (`Table::policy_counter`).
fn counters_of(t: &Table<'_>, i: u32) -> Counters {
    if let Some(r) = t.rules().get(i as usize) {
        return r.counters();
    }
    t.chains()
        .iter()
        .enumerate()
        .find(|(ci, _)| t.policy_counter(*ci as u16) == i)
        .map_or_else(Counters::default, |(_, c)| c.policy_counters())
}

/// `t` in the wire format, in a buffer grown until it fits (as the
/// kernel's `tables::encode`).
fn encode(t: &Table<'_>) -> Vec<u8> {
    let mut size = 4096;
    loop {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf);
        match rules::encode_table(&mut w, t, |i| counters_of(t, i)) {
            Ok(()) => {
                let n = w.len();
                buf.truncate(n);
                return buf;
            }
            Err(NlaError::NoSpace) if size < (1 << 28) => size *= 2,
            Err(e) => panic!("encoding a decoded table failed: {e}"),
        }
    }
}

/// Assert that two decoded tables are the same ruleset. Chain indices are
/// canonical (built-in chains in hook order, then by name), so jump
/// targets compare directly; match positions need not (they follow the
/// input order of the chains), so matches are compared rule by rule.
fn assert_same(a: &Table<'_>, b: &Table<'_>) {
    assert_eq!(a.kind(), b.kind());
    assert_eq!(a.chains().len(), b.chains().len());
    assert_eq!(a.rules().len(), b.rules().len());
    assert_eq!(a.all_matches().len(), b.all_matches().len());
    for (ca, cb) in a.chains().iter().zip(b.chains()) {
        assert_eq!(ca.name(), cb.name());
        assert_eq!(ca.hook(), cb.hook());
        assert_eq!(ca.policy(), cb.policy());
        assert_eq!(ca.policy_counters(), cb.policy_counters());
        assert_eq!(ca.first_rule(), cb.first_rule());
        assert_eq!(ca.rule_count(), cb.rule_count());
        assert_eq!(ca.hook_mask(), cb.hook_mask());
        assert_eq!(ca.depth(), cb.depth());
    }
    for (ra, rb) in a.rules().iter().zip(b.rules()) {
        assert_eq!(ra.ip(), rb.ip());
        assert_eq!(ra.target(), rb.target());
        assert_eq!(ra.counters(), rb.counters());
        assert_eq!(a.matches_of(ra), b.matches_of(rb));
    }
    for h in rfcore::proto::Hook::ALL {
        assert_eq!(a.hook_chain(h), b.hook_chain(h));
        assert_eq!(a.active_at(h), b.active_at(h));
    }
    assert_eq!(a.info().max_depth, b.info().max_depth);
}

fuzz_target!(|input: &[u8]| {
    let Ok(sizes) = rules::measure(input) else {
        return;
    };
    let mut first = Owned::for_sizes(sizes);
    let Ok(table) = rules::decode(input, first.storage()) else {
        return;
    };
    assert_eq!(table.chains().len(), sizes.chains);
    assert_eq!(table.rules().len(), sizes.rules);
    assert_eq!(table.all_matches().len(), sizes.matches);

    let encoded = encode(&table);
    let sizes2 = rules::measure(&encoded).expect("re-encoded table must measure");
    assert_eq!(sizes, sizes2);
    let mut second = Owned::for_sizes(sizes2);
    let again = match rules::decode(&encoded, second.storage()) {
        Ok(t) => t,
        Err(e) => panic!("re-encoded table refused: {e}"),
    };
    assert_same(&table, &again);
    // The encoding is canonical: a second round gives the same bytes.
    assert_eq!(encode(&again), encoded);
});
