// SPDX-License-Identifier: GPL-2.0

//! Fuzz `rfcore::packet::parse`, `parse_for_rules`, `parse_headers` and
//! `parse_ipv4_header`: they must not panic, whatever they accept must
//! satisfy the invariants the kernel module relies on, the first two differ
//! only where the transport header does not parse, the third reads what the
//! second does (of fewer fields), and the fourth agrees with them on the
//! IPv4 header.
//!
//! Run with `cargo +nightly fuzz run packet` in `rust/rfcore`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::packet::{self, Transport};

fuzz_target!(|input: &[u8]| {
    // The first two bytes choose packet_len relative to the data length, the
    // third how much of the data the caller "copied"; the rest is the packet.
    let Some((&[a, b, c], data)) = input.split_first_chunk::<3>() else {
        return;
    };
    let packet_len = match a & 3 {
        0 => usize::from(u16::from_be_bytes([a >> 2, b])),
        1 => data.len().saturating_sub(usize::from(b)),
        _ => data.len() + usize::from(b),
    };
    let copied = if a & 4 != 0 {
        data.len()
    } else {
        usize::from(c).min(data.len())
    };
    let data = &data[..copied];
    let _ = packet::header_checksum_ok(data, usize::from(b));
    let strict = packet::parse(data, packet_len);
    let lenient = packet::parse_for_rules(data, packet_len);
    // The rules' parse reads the same, of fewer fields.
    assert_eq!(
        packet::parse_headers(data, packet_len),
        lenient.map(|p| packet::Headers::from(&p))
    );
    // The IPv4 header alone, from its first 20 bytes, is what the others
    // find in a copy of at least min(packet_len, 60) bytes, and wherever
    // they succeed.
    let alone = packet::parse_ipv4_header(&data[..data.len().min(20)], packet_len);
    if (packet_len.min(60)..=packet_len).contains(&data.len()) || lenient.is_ok() {
        assert_eq!(alone, lenient.map(|p| p.ip));
    }
    match strict {
        Ok(_) => assert_eq!(lenient, strict),
        Err(packet::ParseError::TruncatedTransport | packet::ParseError::BadTcpDataOffset) => {
            let l = lenient.expect("the IPv4 header parsed");
            assert_eq!(l.ip.fragment_offset, 0);
            assert!(matches!(
                l.transport,
                Transport::Truncated { .. } | Transport::Tcp(_)
            ));
        }
        Err(e) => assert_eq!(lenient, Err(e)),
    }
    let Ok(p) = strict else {
        return;
    };
    let ip = p.ip;
    let total = ip.total_len as usize;
    assert!((20..=60).contains(&ip.header_len) && ip.header_len % 4 == 0);
    assert!(ip.header_len <= total && total <= packet_len);
    assert!(ip.header_len <= data.len());
    assert_eq!(ip.options(data).len(), ip.header_len - 20);
    let l4 = total.min(data.len()) - ip.header_len;
    match p.transport {
        Transport::Fragment => assert_ne!(ip.fragment_offset, 0),
        Transport::Tcp(t) => {
            assert_eq!(ip.protocol, packet::IPPROTO_TCP);
            assert!((20..=60).contains(&t.header_len));
            assert!(ip.header_len + t.header_len <= total);
            assert!(l4 >= 20);
        }
        Transport::Udp(_) | Transport::Icmp(_) => assert!(l4 >= 8),
        Transport::Other => assert!(![1, 6, 17].contains(&ip.protocol)),
        Transport::Truncated { .. } => panic!("parse never says Truncated"),
    }
});
