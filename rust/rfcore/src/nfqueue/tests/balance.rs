// SPDX-License-Identifier: GPL-2.0

//! Queue balancing and fanout.
//!
//! The reference values come from a C program built with `cc` around a
//! copy of `include/linux/jhash.h`'s `__jhash_final`/`jhash_3words`,
//! `reciprocal_scale`, and `hash_v4`/`hash_v6` of
//! `include/net/netfilter/nf_queue.h` applied to `struct iphdr` and
//! `struct ip6_hdr` filled with `inet_pton` (x86-64, little-endian).

extern crate std;

use std::collections::HashSet;

use super::super::balance::{
    balance, balance_v4, balance_v6, check_range, fanout, hash_v4, hash_v6, jhash_3words,
    reciprocal_scale,
};
use super::super::Errno;
use super::Rng;

/// `(a, b, c, initval, jhash_3words, reciprocal_scale(h, 4), (h, 7))`.
const JHASH: [(u32, u32, u32, u32, u32, u32, u32); 8] = [
    (
        0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x1b68e557, 0, 0,
    ),
    (
        0x00000001, 0x00000002, 0x00000003, 0x00000004, 0x8103143f, 2, 3,
    ),
    (
        0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xc343af0b, 3, 5,
    ),
    (
        0x0100000a, 0x0200000a, 0x00000006, 0x00000000, 0x44f4d08c, 1, 1,
    ),
    (
        0x0100000a, 0x0200000a, 0x00000011, 0x12345678, 0x15720be3, 0, 0,
    ),
    (
        0xdeadbeef, 0xcafebabe, 0x00000001, 0x9e3779b9, 0xe05d5f37, 3, 6,
    ),
    (
        0x0101a8c0, 0x08080808, 0x00000006, 0xffffffff, 0xed45972f, 3, 6,
    ),
    (
        0x80000000, 0x7fffffff, 0x000000ff, 0x00000001, 0x7ae9d816, 1, 3,
    ),
];

#[test]
fn jhash_3words_is_the_kernels() {
    for (a, b, c, iv, h, s4, s7) in JHASH {
        assert_eq!(jhash_3words(a, b, c, iv), h, "{a:#x} {b:#x} {c:#x} {iv:#x}");
        assert_eq!(reciprocal_scale(h, 4), s4);
        assert_eq!(reciprocal_scale(h, 7), s7);
    }
    assert_eq!(reciprocal_scale(u32::MAX, u32::MAX), u32::MAX - 1);
    assert_eq!(reciprocal_scale(u32::MAX, 0), 0);
}

/// An IPv6 address from its groups.
fn v6(groups: [u16; 8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (i, g) in groups.iter().enumerate() {
        a[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
    }
    a
}

#[cfg(target_endian = "little")]
#[test]
fn balance_matches_the_c_vectors() {
    // v4 10.0.0.1 10.0.0.2 6 iv=0x12345678 -> hash 0xcc17f561 queue(0,4)=3
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    assert_eq!(hash_v4(a, b, 6, 0x1234_5678), 0xcc17_f561);
    assert_eq!(hash_v4(b, a, 6, 0x1234_5678), 0xcc17_f561);
    assert_eq!(balance_v4(a, b, 6, 0, 4, 0x1234_5678), 3);
    assert_eq!(balance_v4(b, a, 6, 0, 4, 0x1234_5678), 3);
    // The same hash as jhash_3words on the raw words, smaller first.
    assert_eq!(hash_v4(a, b, 6, 0), JHASH[3].4);
    // v4 192.168.1.1 8.8.8.8 17 iv=0xa5a5a5a5 -> hash 0xc0d7c8c8 queue(10,3)=12
    assert_eq!(
        hash_v4([192, 168, 1, 1], [8, 8, 8, 8], 17, 0xa5a5_a5a5),
        0xc0d7_c8c8
    );
    assert_eq!(
        balance_v4([192, 168, 1, 1], [8, 8, 8, 8], 17, 10, 3, 0xa5a5_a5a5),
        12
    );
    // v4 198.51.100.7 203.0.113.1 1 iv=1 -> hash 0x38e9007c queue(65530,6)=65531
    assert_eq!(
        hash_v4([198, 51, 100, 7], [203, 0, 113, 1], 1, 1),
        0x38e9_007c
    );
    assert_eq!(
        balance_v4([198, 51, 100, 7], [203, 0, 113, 1], 1, 65530, 6, 1),
        65531
    );
    // v6 2001:db8::1 2001:db8::2 iv=0x12345678 -> hash 0x9eaff00a queue(0,4)=2
    let s = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    let d = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
    assert_eq!(hash_v6(&s, &d, 0x1234_5678), 0x9eaf_f00a);
    assert_eq!(balance_v6(&s, &d, 0, 4, 0x1234_5678), 2);
    assert_eq!(balance_v6(&d, &s, 0, 4, 0x1234_5678), 2);
    // v6 2001:db8:1:2::5 fe80:3:4:5::1 iv=0xdeadbeef -> hash 0x8edc65a2 queue(100,7)=103
    let s = v6([0x2001, 0xdb8, 1, 2, 0, 0, 0, 5]);
    let d = v6([0xfe80, 3, 4, 5, 0, 0, 0, 1]);
    assert_eq!(hash_v6(&s, &d, 0xdead_beef), 0x8edc_65a2);
    assert_eq!(balance_v6(&s, &d, 100, 7, 0xdead_beef), 103);
}

#[test]
fn both_directions_pick_the_same_queue_and_stay_in_range() {
    let mut rng = Rng::new(41);
    let mut used = HashSet::new();
    for _ in 0..20_000 {
        let s = rng.u32().to_be_bytes();
        let d = rng.u32().to_be_bytes();
        let proto = rng.u8();
        let seed = rng.u32();
        let total = 1 + rng.below(64) as u16;
        let first = rng.below(usize::from(u16::MAX - total) + 2) as u16;
        let q = balance_v4(s, d, proto, first, total, seed);
        assert_eq!(q, balance_v4(d, s, proto, first, total, seed));
        assert!(q >= first && u32::from(q) < u32::from(first) + u32::from(total));
        let s6: [u8; 16] = core::array::from_fn(|_| rng.u8());
        let d6: [u8; 16] = core::array::from_fn(|_| rng.u8());
        let q6 = balance_v6(&s6, &d6, first, total, seed);
        assert_eq!(q6, balance_v6(&d6, &s6, first, total, seed));
        assert!(q6 >= first && u32::from(q6) < u32::from(first) + u32::from(total));
        used.insert(balance_v4(s, d, proto, 0, 4, 7));
    }
    // Flows spread over every queue.
    assert_eq!(used.len(), 4);
    // One queue (or none): the first.
    assert_eq!(balance_v4([1; 4], [2; 4], 6, 9, 1, 0), 9);
    assert_eq!(balance_v4([1; 4], [2; 4], 6, 9, 0, 0), 9);
    assert_eq!(balance(u32::MAX, 65535, 1), 65535);
    assert_eq!(balance(u32::MAX, 0, 65535), 65534);
}

#[test]
fn cpu_fanout() {
    assert_eq!(fanout(0, 10, 4), 10);
    assert_eq!(fanout(5, 10, 4), 11);
    assert_eq!(fanout(7, 10, 4), 13);
    assert_eq!(fanout(u32::MAX, 0, 7), (u32::MAX % 7) as u16);
    assert_eq!(fanout(3, 10, 1), 10);
    assert_eq!(fanout(3, 10, 0), 10);
}

#[test]
fn target_ranges() {
    assert_eq!(check_range(0, 0), Err(Errno::Inval));
    assert_eq!(check_range(0, 1), Ok(()));
    assert_eq!(check_range(65535, 1), Ok(()));
    assert_eq!(check_range(65535, 2), Err(Errno::Range));
    assert_eq!(check_range(1, 65535), Ok(()));
    assert_eq!(check_range(2, 65535), Err(Errno::Range));
}
