// SPDX-License-Identifier: GPL-2.0

//! Length and checksum fix-up after a payload change, against checksums
//! computed from scratch here (RFC 1071 over explicit pseudo-headers),
//! independently of the NAT core's arithmetic the fix-up uses.

extern crate std;

use std::vec::Vec;

use super::super::consts::{NFPROTO_IPV4, NFPROTO_IPV6};
use super::super::fixup::{fixup, fixup_ipv4, fixup_ipv6, Fixed, FixupError};
use super::Rng;

/// The one's complement sum of `data` as 16-bit big-endian words, folded.
fn ones_sum(data: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for (i, b) in data.iter().enumerate() {
        s += if i % 2 == 0 {
            u64::from(*b) << 8
        } else {
            u64::from(*b)
        };
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Whether `data` (checksum included) sums to 0xffff.
fn verifies(data: &[u8]) -> bool {
    ones_sum(data) == 0xffff
}

/// The IPv4 pseudo-header of `pkt`'s transport data.
fn pseudo4(pkt: &[u8], l4_len: usize) -> Vec<u8> {
    let mut p = pkt[12..20].to_vec();
    p.extend([0, pkt[9]]);
    p.extend((l4_len as u16).to_be_bytes());
    p
}

/// The IPv6 pseudo-header for `next` and `l4_len`.
fn pseudo6(pkt: &[u8], next: u8, l4_len: usize) -> Vec<u8> {
    let mut p = pkt[8..40].to_vec();
    p.extend((l4_len as u32).to_be_bytes());
    p.extend([0, 0, 0, next]);
    p
}

/// Store at `at` the checksum of `covered` (with the field zero).
fn put_check(pkt: &mut [u8], at: usize, covered: &[u8]) {
    let c = !ones_sum(covered);
    pkt[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
const GRE: u8 = 47;

/// Where the transport checksum of `proto` is.
fn check_at(proto: u8) -> Option<usize> {
    match proto {
        TCP => Some(16),
        UDP => Some(6),
        ICMP | ICMPV6 => Some(2),
        _ => None,
    }
}

/// A correct IPv4 packet: `opts` bytes of options, protocol `proto`,
/// `l4_len` bytes of random transport data, every length and checksum
/// right (a UDP checksum of 0 if `udp_zero`).
fn ipv4(rng: &mut Rng, opts: usize, proto: u8, l4_len: usize, udp_zero: bool) -> Vec<u8> {
    let ihl = 20 + opts;
    let mut p = rng.bytes(ihl + l4_len);
    p[0] = 0x40 | (ihl / 4) as u8;
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[6] &= 0x80; // no MF, offset 0 (the reserved bit is random)
    p[7] = 0;
    p[9] = proto;
    p[10] = 0;
    p[11] = 0;
    if let Some(at) = check_at(proto).filter(|at| l4_len >= at + 2) {
        let c = ihl + at;
        if proto == TCP {
            p[ihl + 12] = 0x50;
        }
        if proto == UDP {
            p[ihl + 4..ihl + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
        }
        p[c] = 0;
        p[c + 1] = 0;
        if !(proto == UDP && udp_zero) {
            let covered = if proto == ICMP {
                p[ihl..].to_vec()
            } else {
                [pseudo4(&p, l4_len), p[ihl..].to_vec()].concat()
            };
            put_check(&mut p, c, &covered);
            if proto == UDP && p[c] == 0 && p[c + 1] == 0 {
                p[c] = 0xff;
                p[c + 1] = 0xff;
            }
        }
    }
    let header = p[..ihl].to_vec();
    put_check(&mut p, 10, &header);
    p
}

/// Whether the IPv4 packet `p` is right: length, header checksum, and
/// the transport checksum and UDP length of a non-fragment.
fn ipv4_right(p: &[u8]) -> bool {
    let ihl = usize::from(p[0] & 15) * 4;
    let l4 = &p[ihl..];
    if usize::from(u16::from_be_bytes([p[2], p[3]])) != p.len() || !verifies(&p[..ihl]) {
        return false;
    }
    if u16::from_be_bytes([p[6], p[7]]) & 0x3fff != 0 {
        return true;
    }
    match p[9] {
        TCP if l4.len() >= 18 => verifies(&[pseudo4(p, l4.len()), l4.to_vec()].concat()),
        UDP if l4.len() >= 8 => {
            usize::from(u16::from_be_bytes([l4[4], l4[5]])) == l4.len()
                && (l4[6..8] == [0, 0] || verifies(&[pseudo4(p, l4.len()), l4.to_vec()].concat()))
        }
        ICMP if l4.len() >= 4 => verifies(l4),
        _ => true,
    }
}

/// A random correct IPv4 packet.
fn random_ipv4(rng: &mut Rng) -> Vec<u8> {
    let proto = [TCP, UDP, ICMP, GRE][rng.below(4)];
    let min = match proto {
        TCP => 20,
        UDP | ICMP => 8,
        _ => 0,
    };
    let l4_len = min + rng.below(300);
    let opts = 4 * rng.below(11);
    let zero = rng.below(4) == 0;
    ipv4(rng, opts, proto, l4_len, zero)
}

#[test]
fn right_packets_come_out_the_same() {
    let mut rng = Rng::new(21);
    for _ in 0..5000 {
        let p = random_ipv4(&mut rng);
        assert!(ipv4_right(&p));
        let mut q = p.clone();
        assert_eq!(fixup_ipv4(&mut q), Ok(Fixed::default()));
        assert_eq!(q, p);
    }
}

#[test]
fn right_checksums_in_their_other_form_are_kept() {
    // A TCP segment whose checksum computes to 0 verifies stored as 0 or
    // as 0xffff: both are kept.
    let mut rng = Rng::new(22);
    let mut found = 0;
    for _ in 0..400_000 {
        let p = ipv4(&mut rng, 0, TCP, 20, false);
        if p[36..38] == [0, 0] || p[36..38] == [0xff, 0xff] {
            let mut other = p.clone();
            other[36] ^= 0xff;
            other[37] ^= 0xff;
            assert!(ipv4_right(&other));
            let mut q = other.clone();
            assert_eq!(fixup_ipv4(&mut q), Ok(Fixed::default()));
            assert_eq!(q, other);
            found += 1;
        }
    }
    assert!(found > 0);
}

#[test]
fn broken_lengths_and_checksums_are_fixed() {
    let mut rng = Rng::new(23);
    for _ in 0..5000 {
        let p = random_ipv4(&mut rng);
        let ihl = usize::from(p[0] & 15) * 4;
        let mut bad = p.clone();
        // Corrupt the fields the fix-up owns, and nothing else.
        let mut fields = std::vec![2usize, 10];
        if let Some(at) = check_at(p[9]) {
            if !(p[9] == UDP && p[ihl + 6..ihl + 8] == [0, 0]) {
                fields.push(ihl + at);
            }
        }
        if p[9] == UDP {
            fields.push(ihl + 4);
        }
        for &f in &fields {
            if rng.below(2) == 0 {
                bad[f] = rng.u8();
                bad[f + 1] = rng.u8();
            }
        }
        let mut q = bad.clone();
        let fixed = fixup_ipv4(&mut q).unwrap();
        assert!(ipv4_right(&q), "{bad:x?}");
        assert_eq!(fixed.any(), q != bad);
        for (i, (a, b)) in q.iter().zip(&p).enumerate() {
            if !fields.iter().any(|&f| i == f || i == f + 1) {
                assert_eq!(a, b, "byte {i}");
            }
        }
        // Idempotent.
        let mut again = q.clone();
        assert_eq!(fixup_ipv4(&mut again), Ok(Fixed::default()));
        assert_eq!(again, q);
    }
}

#[test]
fn a_replaced_payload_gets_lengths_and_checksums() {
    // What a listener does: change bytes, shorten or lengthen, keep the
    // stale header fields.
    let mut rng = Rng::new(24);
    for _ in 0..5000 {
        let p = random_ipv4(&mut rng);
        let ihl = usize::from(p[0] & 15) * 4;
        let keep = ihl
            + [20, 8, 8, 0][[TCP, UDP, ICMP, GRE]
                .iter()
                .position(|&x| x == p[9])
                .unwrap()];
        let mut q = p[..keep].to_vec();
        let n = rng.below(400);
        q.extend(rng.bytes(n));
        let was_zero = p[9] == UDP && p[ihl + 6..ihl + 8] == [0, 0];
        let fixed = fixup_ipv4(&mut q).unwrap();
        assert!(ipv4_right(&q));
        assert_eq!(fixed.length, q.len() != p.len());
        if was_zero {
            assert_eq!(q[ihl + 6..ihl + 8], [0, 0]);
        }
    }
}

#[test]
fn fragments_get_only_the_ip_header() {
    let mut rng = Rng::new(25);
    for frag in [0x2000u16, 0x0001, 0x2005, 0x1fff] {
        for proto in [TCP, UDP, ICMP] {
            let mut p = ipv4(&mut rng, 0, proto, 40, false);
            p[6..8].copy_from_slice(&frag.to_be_bytes());
            // Break everything.
            p[2] ^= 1;
            p[10] ^= 0x55;
            let l4 = p[20..].to_vec();
            let mut l4_broken = l4.clone();
            l4_broken[check_at(proto).unwrap()] ^= 0x33;
            p[20..].copy_from_slice(&l4_broken);
            let fixed = fixup_ipv4(&mut p).unwrap();
            assert!(fixed.length && fixed.header_checksum && !fixed.transport_checksum);
            assert!(ipv4_right(&p));
            assert_eq!(p[20..], l4_broken[..]);
        }
    }
}

#[test]
fn short_transport_headers_are_left_alone() {
    let mut rng = Rng::new(26);
    for (proto, len) in [(TCP, 17), (UDP, 7), (ICMP, 3), (TCP, 0)] {
        let mut p = ipv4(&mut rng, 0, proto, len, false);
        let before = p[20..].to_vec();
        p[10] ^= 1;
        let fixed = fixup_ipv4(&mut p).unwrap();
        assert!(fixed.header_checksum && !fixed.transport_checksum);
        assert_eq!(p[20..], before[..]);
    }
}

#[test]
fn refused_packets_are_untouched() {
    let mut rng = Rng::new(27);
    let good = ipv4(&mut rng, 0, UDP, 30, false);
    let cases: [(Vec<u8>, FixupError); 6] = [
        (Vec::new(), FixupError::Truncated),
        (good[..19].to_vec(), FixupError::Truncated),
        ([&[0x65u8][..], &good[1..]].concat(), FixupError::NotIp),
        ([&[0x44u8][..], &good[1..]].concat(), FixupError::NotIp),
        (
            [&[0x4fu8][..], &good[1..40]].concat(),
            FixupError::Truncated,
        ),
        (
            [&good[..], &[0u8; 70_000][..]].concat(),
            FixupError::TooLong,
        ),
    ];
    for (p, err) in cases {
        let mut q = p.clone();
        assert_eq!(fixup_ipv4(&mut q), Err(err));
        assert_eq!(q, p);
    }
    let mut q = good.clone();
    assert_eq!(fixup(7, &mut q), Err(FixupError::NotIp));
    assert_eq!(fixup(NFPROTO_IPV6, &mut q), Err(FixupError::NotIp));
    assert_eq!(fixup(NFPROTO_IPV4, &mut q), Ok(Fixed::default()));
    // Exactly 65535 bytes is fine.
    let mut big = ipv4(&mut rng, 0, UDP, 65535 - 20, false);
    assert_eq!(fixup_ipv4(&mut big), Ok(Fixed::default()));
}

/// A correct IPv6 packet: `ext` (next header, 8-byte-multiple body) in
/// order after the fixed header, then `proto` with `l4_len` bytes.
fn ipv6(rng: &mut Rng, ext: &[(u8, usize)], proto: u8, l4_len: usize) -> Vec<u8> {
    let mut p = rng.bytes(40);
    p[0] = 0x60 | (p[0] & 0x0f);
    let mut kinds: Vec<u8> = ext.iter().map(|e| e.0).collect();
    kinds.push(proto);
    p[6] = kinds[0];
    for (i, &(_, len)) in ext.iter().enumerate() {
        let mut h = rng.bytes(len);
        h[0] = kinds[i + 1];
        h[1] = (len / 8 - 1) as u8;
        p.extend(h);
    }
    let l4_at = p.len();
    p.extend(rng.bytes(l4_len));
    let plen = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&plen.to_be_bytes());
    if proto == UDP && l4_len >= 8 {
        p[l4_at + 4..l4_at + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
    }
    if let Some(at) = check_at(proto).filter(|at| l4_len >= at + 2) {
        let c = l4_at + at;
        p[c] = 0;
        p[c + 1] = 0;
        let covered = [pseudo6(&p, proto, l4_len), p[l4_at..].to_vec()].concat();
        put_check(&mut p, c, &covered);
        if proto == UDP && p[c..c + 2] == [0, 0] {
            p[c] = 0xff;
            p[c + 1] = 0xff;
        }
    }
    p
}

/// Whether the IPv6 packet `p`, transport at `l4_at` with `proto`, is
/// right.
fn ipv6_right(p: &[u8], l4_at: usize, proto: u8) -> bool {
    let l4 = &p[l4_at..];
    usize::from(u16::from_be_bytes([p[4], p[5]])) == p.len() - 40
        && (proto != UDP || usize::from(u16::from_be_bytes([l4[4], l4[5]])) == l4.len())
        && (proto != UDP || l4[6..8] != [0, 0])
        && verifies(&[pseudo6(p, proto, l4.len()), l4.to_vec()].concat())
}

#[test]
fn ipv6_transport_checksums() {
    let mut rng = Rng::new(28);
    for _ in 0..3000 {
        let proto = [TCP, UDP, ICMPV6][rng.below(3)];
        let ext: Vec<(u8, usize)> = (0..rng.below(3))
            .map(|_| ([0u8, 60][rng.below(2)], 8 * (1 + rng.below(3))))
            .collect();
        let l4_len = 20 + rng.below(200);
        let p = ipv6(&mut rng, &ext, proto, l4_len);
        let l4_at = p.len() - l4_len;
        assert!(ipv6_right(&p, l4_at, proto));
        let mut q = p.clone();
        assert_eq!(fixup_ipv6(&mut q), Ok(Fixed::default()));
        assert_eq!(q, p);
        // A new payload of another length, stale fields.
        let mut q = p[..l4_at + 8].to_vec();
        let n = rng.below(300);
        q.extend(rng.bytes(n));
        if proto == UDP && rng.below(3) == 0 {
            q[l4_at + 6] = 0;
            q[l4_at + 7] = 0;
        }
        let fixed = fixup(NFPROTO_IPV6, &mut q).unwrap();
        if q.len() >= l4_at + check_at(proto).unwrap() + 2 {
            assert!(ipv6_right(&q, l4_at, proto), "{proto} {q:x?}");
        }
        assert_eq!(
            fixed.length,
            q.len() != p.len() || (proto == UDP && n + 8 != l4_len)
        );
        let mut again = q.clone();
        assert_eq!(fixup_ipv6(&mut again), Ok(Fixed::default()));
    }
}

#[test]
fn ipv6_leaves_fragments_routing_and_others() {
    let mut rng = Rng::new(29);
    // Fragment header (44), routing header (43), ESP (50), GRE.
    for first in [44u8, 43, 50, GRE] {
        let mut p = ipv6(&mut rng, &[], UDP, 40);
        p[6] = first;
        p[4] ^= 1;
        let l4 = p[40..].to_vec();
        let fixed = fixup_ipv6(&mut p).unwrap();
        assert!(fixed.length && !fixed.transport_checksum);
        assert_eq!(p[40..], l4[..]);
    }
    // Extension headers running past the end.
    let mut p = ipv6(&mut rng, &[(0, 8)], TCP, 20);
    p[41] = 200;
    let before = p.clone();
    assert_eq!(fixup_ipv6(&mut p), Ok(Fixed::default()));
    assert_eq!(p, before);
    // Refused.
    for (mut p, err) in [
        (Vec::new(), FixupError::Truncated),
        (std::vec![0x60; 39], FixupError::Truncated),
        (std::vec![0x45; 60], FixupError::NotIp),
        (
            [&[0x60u8][..], &[0u8; 65_575][..]].concat(),
            FixupError::TooLong,
        ),
    ] {
        let before = p.clone();
        assert_eq!(fixup_ipv6(&mut p), Err(err));
        assert_eq!(p, before);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(30);
    for _ in 0..50_000 {
        let n = rng.below(120);
        let mut p = rng.bytes(n);
        if n > 0 {
            p[0] = [0x45, 0x46, 0x4f, 0x60, 0x41][rng.below(5)];
        }
        if n > 9 && rng.below(2) == 0 {
            p[9] = [TCP, UDP, ICMP][rng.below(3)];
        }
        if n > 6 && rng.below(2) == 0 {
            p[6] = [TCP, UDP, ICMPV6, 0, 60][rng.below(5)];
        }
        let mut q = p.clone();
        if fixup(NFPROTO_IPV4, &mut q).is_err() {
            assert_eq!(q, p);
        }
        let mut q = p.clone();
        if fixup(NFPROTO_IPV6, &mut q).is_err() {
            assert_eq!(q, p);
        }
    }
}
