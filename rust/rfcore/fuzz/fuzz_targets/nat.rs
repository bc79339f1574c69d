// SPDX-License-Identifier: GPL-2.0

//! Fuzz NAT packet rewriting: `rfcore::nat::mangle::manip_packet` and
//! `translate_icmp_error` on arbitrary bytes with arbitrary tuples.
//! Nothing may panic; a refused packet must be left as it was; and a
//! checksum that verified before the rewrite must verify after it (the IP
//! header's always, the transport one's unless `CHECKSUM_PARTIAL`, for
//! ICMP errors the outer ICMP checksum and the quoted IP header's).
//!
//! Run with `cargo +nightly fuzz run nat` in `rust/rfcore/fuzz`.
//!
//! Input:
//!
//! ```text
//! 0      control: bit 0 destination manip (else source), bit 1
//!        CHECKSUM_PARTIAL, bit 2 translate an ICMP error (else a plain
//!        packet), bit 3 the tuple's protocol is the packet's (the quoted
//!        packet's for an ICMP error) rather than byte 9
//! 1..5   the tuple's source address
//! 5..9   its destination address
//! 9      its protocol
//! 10..12 its source port (ICMP identifier)
//! 12..14 its destination port
//! 14..   the packet, whole
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::conntrack::Tuple;
use rfcore::nat::checksum;
use rfcore::nat::mangle::{manip_packet, translate_icmp_error};
use rfcore::nat::Manip;
use rfcore::packet::{self, Transport};

/// Whether the whole packet `p` parses and its transport checksum (TCP,
/// UDP with one, ICMP) verifies. A first fragment's does not: it covers
/// the other fragments too.
fn transport_verifies(p: &[u8]) -> bool {
    let Ok(parsed) = packet::parse(p, p.len()) else {
        return false;
    };
    if parsed.ip.total_len as usize != p.len() || parsed.ip.is_fragment() {
        return false;
    }
    let l4 = &p[parsed.ip.header_len..];
    let Ok(len) = u16::try_from(l4.len()) else {
        return false;
    };
    let pseudo =
        checksum::pseudo_header_sum(parsed.ip.saddr, parsed.ip.daddr, parsed.ip.protocol, len);
    match parsed.transport {
        Transport::Tcp(_) => checksum::verifies(pseudo, l4),
        Transport::Udp(u) => u.checksum != 0 && checksum::verifies(pseudo, l4),
        Transport::Icmp(_) => checksum::verifies(0, l4),
        _ => false,
    }
}

/// Whether `p` is an ICMP message all of whose bytes but the checksum are
/// zero. Its right checksum is 0xffff, but an incremental update (RFC 1624
/// eqn. 3, as the kernel's `inet_proto_csum_replace2`) that leaves it so,
/// from an identifier rewritten to 0, gives 0x0000: one's complement's
/// other zero, which a check of the whole sum refuses. Linux's NAT writes
/// the same; no packet but this one is affected (TCP and UDP sums cover
/// the pseudo-header, never all zero).
fn icmp_all_zero(p: &[u8]) -> bool {
    let hl = header_len(p);
    p.get(9) == Some(&packet::IPPROTO_ICMP)
        && p.get(hl..).is_some_and(|m| {
            m.iter()
                .enumerate()
                .all(|(i, &b)| b == 0 || i == 2 || i == 3)
        })
}

/// Whether `p` starts with an IPv4 header whose checksum verifies.
fn header_verifies(p: &[u8]) -> bool {
    let len = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
    packet::header_checksum_ok(p, len)
}

/// The IHL of the IPv4 header `p` starts with, in bytes (unchecked).
fn header_len(p: &[u8]) -> usize {
    usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4
}

fuzz_target!(|input: &[u8]| {
    let Some((head, data)) = input.split_first_chunk::<14>() else {
        return;
    };
    let control = head[0];
    let manip = if control & 1 == 0 {
        Manip::Src
    } else {
        Manip::Dst
    };
    let partial = control & 2 != 0;
    let icmp_error = control & 4 != 0;
    let mut tuple = Tuple {
        saddr: [head[1], head[2], head[3], head[4]],
        daddr: [head[5], head[6], head[7], head[8]],
        protocol: head[9],
        sport: u16::from_be_bytes([head[10], head[11]]),
        dport: u16::from_be_bytes([head[12], head[13]]),
    };
    let hl = header_len(data);
    // Where the quoted packet starts in an ICMP error.
    let quoted_at = hl + 8;
    if control & 8 != 0 {
        let at = if icmp_error { quoted_at + 9 } else { 9 };
        if let Some(&p) = data.get(at) {
            tuple.protocol = p;
        }
    }

    let mut buf = data.to_vec();
    if !icmp_error {
        let header_ok = header_verifies(data);
        let transport_ok = !partial && transport_verifies(data);
        if manip_packet(&mut buf, &tuple, manip, partial).is_err() {
            assert_eq!(buf, data);
            return;
        }
        let (at, addr) = match manip {
            Manip::Src => (12, tuple.saddr),
            Manip::Dst => (16, tuple.daddr),
        };
        assert_eq!(buf[at..at + 4], addr);
        assert_eq!(buf[hl..].len(), data[hl..].len());
        if header_ok {
            assert!(header_verifies(&buf));
        }
        if transport_ok && !icmp_all_zero(&buf) {
            assert!(transport_verifies(&buf));
        }
        return;
    }

    let header_ok = header_verifies(data);
    let icmp_ok = !partial && transport_verifies(data);
    let quoted_ok = data.get(quoted_at..).is_some_and(header_verifies);
    if translate_icmp_error(&mut buf, &tuple, manip, partial).is_err() {
        assert_eq!(buf, data);
        return;
    }
    // The outer address becomes the other end's of `tuple`.
    let (at, addr) = match manip {
        Manip::Src => (12, tuple.daddr),
        Manip::Dst => (16, tuple.saddr),
    };
    assert_eq!(buf[at..at + 4], addr);
    // The quoted address of the opposite manip becomes `tuple`'s.
    let (at, addr) = match manip {
        Manip::Src => (quoted_at + 16, tuple.daddr),
        Manip::Dst => (quoted_at + 12, tuple.saddr),
    };
    assert_eq!(buf[at..at + 4], addr);
    // The ICMP header itself is not rewritten, its checksum aside.
    assert_eq!(buf[hl..hl + 2], data[hl..hl + 2]);
    assert_eq!(buf[hl + 4..hl + 8], data[hl + 4..hl + 8]);
    if header_ok {
        assert!(header_verifies(&buf));
    }
    if icmp_ok {
        assert!(transport_verifies(&buf));
    }
    if quoted_ok {
        assert!(header_verifies(&buf[quoted_at..]));
    }
});
