// SPDX-License-Identifier: GPL-2.0

//! Tuples: from packets, inversion, hashing.

use super::super::packet::IcmpHeader;
use super::super::tuple::{bucket, icmp_inverse_type, jhash2, MAX_TUPLE_BYTES};
use super::*;
use std::collections::BTreeSet;
use std::format;

fn conn(bytes: &[u8]) -> Tuple {
    match tup::from_packet(&parse(bytes), bytes) {
        Ok(Lookup::Conn(t)) => t,
        other => panic!("{other:?}"),
    }
}

#[test]
fn tuples_of_packets() {
    let t = conn(&Seg::new(SYN, 1, 0).packet(C, S));
    assert_eq!(t, Tuple::tcp(C, 40000, S, 80));
    assert_eq!(t.protocol, IPPROTO_TCP);
    let t = conn(&udp(C, 5353, S, 53, 20));
    assert_eq!(t, Tuple::udp(C, 5353, S, 53));
    let t = conn(&icmp(C, S, IcmpHeader::ECHO_REQUEST, 0, 0x1234, &[0; 56]));
    assert_eq!(t, Tuple::icmp(C, S, 0x1234, 8, 0));
    assert_eq!((t.icmp_id(), t.icmp_type(), t.icmp_code()), (0x1234, 8, 0));
    assert_eq!(t.dport, 0x0800);
    // Other protocols: addresses only, whatever the payload.
    for proto in [2u8, 47, 50, 132] {
        let t = conn(&ipv4(proto, C, S, &[0xff; 12]));
        assert_eq!(t, Tuple::other(C, S, proto));
    }
    // A first fragment has its ports.
    let first = ipv4_with(5, 0x2000, IPPROTO_UDP, C, S, &udp(C, 1, S, 2, 0)[20..]);
    assert_eq!(conn(&first), Tuple::udp(C, 1, S, 2));
    // IP options do not matter.
    let seg = Seg::new(ACK, 1, 1).bytes();
    assert_eq!(
        conn(&ipv4_with(15, 0, IPPROTO_TCP, C, S, &seg)),
        Tuple::tcp(C, 40000, S, 80)
    );
}

#[test]
fn later_fragments_and_unknown_icmp_have_no_tuple() {
    let frag = ipv4_with(5, 100, IPPROTO_TCP, C, S, &[0; 40]);
    assert_eq!(
        tup::from_packet(&parse(&frag), &frag),
        Err(TupleError::Fragment)
    );
    for t in 19..=255u8 {
        let p = icmp(C, S, t, 0, 1, &[]);
        assert_eq!(
            tup::from_packet(&parse(&p), &p),
            Err(TupleError::UnknownIcmpType),
            "type {t}"
        );
    }
    // Known types that are neither errors nor queries still have a tuple
    // (they cannot make an entry, see the ICMP tests).
    let p = icmp(R, C, 9, 0, 0, &[]);
    assert_eq!(conn(&p), Tuple::icmp(R, C, 0, 9, 0));
}

#[test]
fn invert_round_trips() {
    let tuples = [
        Tuple::tcp(C, 40000, S, 80),
        Tuple::udp(C, 53, S, 53),
        Tuple::udp([0; 4], 0, [255; 4], 65535),
        Tuple::other(C, S, 47),
        Tuple::other(C, C, 0),
    ];
    for t in tuples {
        let r = t.invert().unwrap();
        assert_eq!((r.saddr, r.daddr), (t.daddr, t.saddr));
        assert_eq!((r.sport, r.dport), (t.dport, t.sport));
        assert_eq!(r.protocol, t.protocol);
        assert_eq!(r.invert(), Some(t));
    }
    for (req, rep) in [(8u8, 0u8), (13, 14), (15, 16), (17, 18)] {
        let t = Tuple::icmp(C, S, 77, req, 0);
        let r = t.invert().unwrap();
        assert_eq!(r, Tuple::icmp(S, C, 77, rep, 0));
        assert_eq!(r.invert(), Some(t));
        // The code is kept.
        assert_eq!(
            Tuple::icmp(C, S, 1, rep, 9).invert(),
            Some(Tuple::icmp(S, C, 1, req, 9))
        );
    }
    // Errors and the rest have no inverse.
    let invertible: Vec<u8> = (0..=255u8)
        .filter(|&t| Tuple::icmp(C, S, 1, t, 0).invert().is_some())
        .collect();
    assert_eq!(invertible, [0, 8, 13, 14, 15, 16, 17, 18]);
    for t in 0..=255u8 {
        assert_eq!(
            icmp_inverse_type(t).and_then(icmp_inverse_type),
            icmp_inverse_type(t).map(|_| t)
        );
    }
}

#[test]
fn display() {
    assert_eq!(
        format!("{}", Tuple::tcp(C, 40000, S, 80)),
        "src=10.0.1.1 dst=10.0.2.2 sport=40000 dport=80"
    );
    assert_eq!(
        format!("{}", Tuple::icmp(C, S, 7, 8, 0)),
        "src=10.0.1.1 dst=10.0.2.2 type=8 code=0 id=7"
    );
    assert_eq!(
        format!("{}", Tuple::other(C, S, 47)),
        "src=10.0.1.1 dst=10.0.2.2"
    );
    for e in [
        TupleError::Fragment,
        TupleError::UnknownIcmpType,
        TupleError::QuotedTruncated,
        TupleError::QuotedNotIpv4,
        TupleError::QuotedBadHeaderLength,
        TupleError::QuotedFragment,
        TupleError::QuotedNoInverse,
        TupleError::QuotedAddressMismatch,
    ] {
        assert_eq!(format!("{e}"), e.as_str());
        assert!(!e.as_str().is_empty());
    }
}

#[test]
fn jhash2_matches_the_kernel() {
    // Values computed with include/linux/jhash.h.
    let k1 = [0x0a00_0001, 0x0a00_0002, 0xc350_0050, 6];
    assert_eq!(jhash2(&k1, 0), 0x015f_05d1);
    assert_eq!(jhash2(&k1, 0x1234_5678), 0xe3c2_9138);
    assert_eq!(jhash2(&[0; 4], 0), 0xbaf9_078c);
    assert_eq!(jhash2(&[u32::MAX; 4], 7), 0x53cd_566f);
    assert_eq!(jhash2(&[1, 2, 3, 4, 5], 0), 0x6291_29c0);
    assert_eq!(jhash2(&[1, 2, 3], 1), 0x0e3b_baf2);
    // No words: the initial value.
    assert_eq!(jhash2(&[], 0), 0xdead_beef);
    // The key of a tuple.
    let t = Tuple::tcp([10, 0, 0, 1], 50000, [10, 0, 0, 2], 80);
    assert_eq!(t.key(), k1);
    assert_eq!(t.hash(0), 0x015f_05d1);
}

#[test]
fn hash_depends_on_every_field_and_seed() {
    let t = Tuple::tcp(C, 40000, S, 80);
    let variants = [
        Tuple {
            saddr: [10, 0, 1, 2],
            ..t
        },
        Tuple {
            daddr: [10, 0, 2, 3],
            ..t
        },
        Tuple { sport: 40001, ..t },
        Tuple { dport: 81, ..t },
        Tuple {
            protocol: IPPROTO_UDP,
            ..t
        },
        t.invert().unwrap(),
    ];
    let mut hashes = BTreeSet::new();
    hashes.insert(t.hash(1));
    for v in variants {
        hashes.insert(v.hash(1));
    }
    assert_eq!(hashes.len(), 7);
    assert_ne!(t.hash(1), t.hash(2));
    assert_eq!(t.hash(1), t.hash(1));
}

#[test]
fn hash_spreads() {
    // 65536 flows that differ only in the client port, then 65536 that
    // differ only in the client's address: every bucket of 1024 gets
    // about 64, none more than twice that.
    let buckets = 1024u32;
    for case in 0..2 {
        let mut load = vec![0u32; buckets as usize];
        for k in 0..65536u32 {
            let t = match case {
                0 => Tuple::tcp(C, k as u16, S, 443),
                _ => Tuple::udp((0x0a00_0000 | k).to_be_bytes(), 5000, S, 53),
            };
            let b = bucket(t.hash(0x5eed), buckets);
            assert!(b < buckets);
            load[b as usize] += 1;
        }
        let max = *load.iter().max().unwrap();
        let min = *load.iter().min().unwrap();
        assert!(max < 128 && min > 20, "case {case}: {min}..{max}");
    }
}

#[test]
fn bucket_is_in_range() {
    assert_eq!(bucket(u32::MAX, 0), 0);
    assert_eq!(bucket(0, 1000), 0);
    assert_eq!(bucket(u32::MAX, 1000), 999);
    assert_eq!(bucket(u32::MAX, u32::MAX), u32::MAX - 1);
    assert_eq!(bucket(1 << 31, 16), 8);
}

#[test]
fn direction() {
    assert_eq!(Direction::Original.index(), 0);
    assert_eq!(Direction::Reply.index(), 1);
    assert_eq!(Direction::Original.opposite(), Direction::Reply);
    assert_eq!(Direction::Reply.opposite(), Direction::Original);
    assert_eq!(MAX_TUPLE_BYTES, 136);
}
