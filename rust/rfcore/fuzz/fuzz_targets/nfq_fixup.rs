// SPDX-License-Identifier: GPL-2.0

//! Fuzz the length and checksum fix-up after a payload change:
//! `rfcore::nfqueue::fixup::fixup` on arbitrary packets. Nothing may
//! panic; a refused packet is left as it was; a fixed one has the right
//! lengths and checksums that verify, and fixing it again changes
//! nothing (so a correct packet comes out byte for byte the same).
//!
//! Run with `cargo +nightly fuzz run nfq_fixup` in `rust/rfcore/fuzz`.
//!
//! Input: byte 0 bit 0 picks IPv6 over IPv4; the rest is the packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::nat::checksum;
use rfcore::nfqueue::consts::{NFPROTO_IPV4, NFPROTO_IPV6};
use rfcore::nfqueue::fixup::{fixup, Fixed};

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let family = if control & 1 != 0 {
        NFPROTO_IPV6
    } else {
        NFPROTO_IPV4
    };
    let mut p = data.to_vec();
    let Ok(fixed) = fixup(family, &mut p) else {
        assert_eq!(p, data);
        return;
    };
    assert_eq!(fixed.any(), p != data);
    assert_eq!(p.len(), data.len());

    let mut again = p.clone();
    assert_eq!(fixup(family, &mut again), Ok(Fixed::default()));
    assert_eq!(again, p);

    if family == NFPROTO_IPV6 {
        assert_eq!(usize::from(u16::from_be_bytes([p[4], p[5]])), p.len() - 40);
        return;
    }
    let ihl = usize::from(p[0] & 15) * 4;
    assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
    assert!(checksum::verifies(0, &p[..ihl]));
    if u16::from_be_bytes([p[6], p[7]]) & 0x3fff != 0 {
        // A fragment's transport bytes are untouched.
        assert_eq!(p[ihl..], data[ihl..]);
        return;
    }
    let l4 = &p[ihl..];
    let pseudo = checksum::pseudo_header_sum(
        p[12..16].try_into().unwrap(),
        p[16..20].try_into().unwrap(),
        p[9],
        l4.len() as u16,
    );
    match p[9] {
        6 if l4.len() >= 18 => assert!(checksum::verifies(pseudo, l4)),
        17 if l4.len() >= 8 => {
            assert_eq!(usize::from(u16::from_be_bytes([l4[4], l4[5]])), l4.len());
            assert!(l4[6..8] == [0, 0] || checksum::verifies(pseudo, l4));
        }
        1 if l4.len() >= 4 => assert!(checksum::verifies(0, l4)),
        _ => assert_eq!(p[ihl..], data[ihl..]),
    }
});
