// SPDX-License-Identifier: GPL-2.0

//! The ICMP tracker and ICMP errors.

use super::super::icmp::valid_new;
use super::super::packet::IcmpHeader;
use super::super::timeouts::SECOND;
use super::super::Reason;
use super::*;

const DEST_UNREACH: u8 = IcmpHeader::DEST_UNREACH;
const TIME_EXCEEDED: u8 = IcmpHeader::TIME_EXCEEDED;

fn ping(id: u16) -> Vec<u8> {
    icmp(C, S, IcmpHeader::ECHO_REQUEST, 0, id, &[0xab; 56])
}

fn pong(id: u16) -> Vec<u8> {
    icmp(S, C, IcmpHeader::ECHO_REPLY, 0, id, &[0xab; 56])
}

#[test]
fn echo_request_and_reply() {
    let mut t = Table::new();
    let v = t.packet(&ping(7));
    assert_eq!(v.ctinfo, Some(CtInfo::New));
    assert_eq!(v.update.unwrap().timeout, Some(30 * SECOND));
    assert_eq!(t.entries[0].tuples[1], Tuple::icmp(S, C, 7, 0, 0));
    let v = t.packet(&pong(7));
    assert_eq!(v.ctinfo, Some(CtInfo::EstablishedReply));
    let u = v.update.unwrap();
    assert_eq!(u.timeout, Some(30 * SECOND));
    assert_eq!(u.set_status & super::super::status::IPS_SEEN_REPLY, 2);
    // A duplicate reply still matches; the next ping is ESTABLISHED.
    assert_eq!(t.packet(&pong(7)).ctinfo, Some(CtInfo::EstablishedReply));
    assert_eq!(t.packet(&ping(7)).ctinfo, Some(CtInfo::Established));
    // Another identifier is another connection.
    assert_eq!(t.packet(&ping(8)).ctinfo, Some(CtInfo::New));
    assert_eq!(t.entries.len(), 2);
    // 30 s of silence.
    t.advance(30 * SECOND);
    t.expire();
    assert!(t.entries.is_empty());
}

#[test]
fn unsolicited_replies_are_invalid() {
    let mut t = Table::new();
    let v = t.packet(&pong(7));
    assert_eq!(v.why, Some(Why::Track(Invalid::new(Reason::IcmpNew))));
    // A reply with the wrong identifier does not match.
    t.packet(&ping(7));
    assert_eq!(t.packet(&pong(8)).ctinfo, None);
    // Types without an inverse never make entries.
    for ty in [9u8, 10, 1, 2, 6, 7] {
        let v = t.packet(&icmp(R, C, ty, 0, 0, &[]));
        assert_eq!(v.ctinfo, None, "type {ty}");
    }
    assert_eq!(t.entries.len(), 1);
}

#[test]
fn other_queries() {
    for (req, rep) in [(13u8, 14u8), (15, 16), (17, 18)] {
        let mut t = Table::new();
        assert_eq!(
            t.packet(&icmp(C, S, req, 0, 3, &[0; 12])).ctinfo,
            Some(CtInfo::New)
        );
        assert_eq!(
            t.packet(&icmp(S, C, rep, 0, 3, &[0; 12])).ctinfo,
            Some(CtInfo::EstablishedReply)
        );
    }
    let news: Vec<u8> = (0..=255u8).filter(|&t| valid_new(t)).collect();
    assert_eq!(news, [8, 13, 15, 17]);
}

/// A table with a TCP connection C -> S (SYN seen) and a UDP flow.
fn with_flows() -> (Table, Vec<u8>, Vec<u8>) {
    let mut t = Table::new();
    let syn = Seg::new(SYN, 1000, 0).packet(C, S);
    let dns = udp(C, 40000, S, 53, 20);
    t.packet(&syn);
    t.packet(&dns);
    (t, syn, dns)
}

#[test]
fn errors_about_known_connections_are_related() {
    let (mut t, syn, dns) = with_flows();
    // Port unreachable from the server about the DNS query: the error
    // travels in the reply direction.
    let err = icmp_error(S, C, DEST_UNREACH, 3, &dns, 28);
    let v = t.packet(&err);
    assert_eq!(v.ctinfo, Some(CtInfo::RelatedReply));
    assert_eq!(v.entry, Some(1));
    // Time exceeded from a router about the SYN, with the full quote.
    let err = icmp_error(R, C, TIME_EXCEEDED, 0, &syn, 576);
    assert_eq!(t.packet(&err).ctinfo, Some(CtInfo::RelatedReply));
    // Every error type.
    for ty in [3u8, 4, 5, 11, 12] {
        let err = icmp_error(R, C, ty, 0, &syn, 28);
        assert_eq!(
            t.packet(&err).ctinfo,
            Some(CtInfo::RelatedReply),
            "type {ty}"
        );
    }
    // An error in the original direction: the client reports the
    // server's answer undeliverable.
    let answer = udp(S, 53, C, 40000, 20);
    let err = icmp_error(C, S, DEST_UNREACH, 3, &answer, 28);
    assert_eq!(t.packet(&err).ctinfo, Some(CtInfo::Related));
    // Errors neither create nor refresh entries.
    assert_eq!(t.entries.len(), 2);
}

#[test]
fn errors_about_unknown_connections_are_invalid() {
    let (mut t, _, _) = with_flows();
    let other = udp(C, 40001, S, 53, 20);
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &other, 28));
    assert_eq!(v.why, Some(Why::NoEntry));
    assert!(t.entries.len() == 2);
}

#[test]
fn error_must_go_back_to_the_quoted_sender() {
    let (mut t, _, dns) = with_flows();
    // About C's packet, but sent to R: a spoofed error.
    let err = icmp_error(S, R, DEST_UNREACH, 3, &dns, 28);
    assert_eq!(
        t.packet(&err).why,
        Some(Why::Tuple(TupleError::QuotedAddressMismatch))
    );
}

#[test]
fn truncated_quotes_are_invalid() {
    let (mut t, syn, dns) = with_flows();
    // Quotes of 0..20 bytes: not even an IP header.
    for n in 0..20 {
        let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &dns, n));
        assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedTruncated)), "{n}");
    }
    // The IP header but fewer than 4 bytes of ports.
    for n in 20..24 {
        let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &syn, n));
        assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedTruncated)), "{n}");
    }
    // The ports are enough (netfilter needs no more).
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &syn, 24));
    assert_eq!(v.ctinfo, Some(CtInfo::RelatedReply));
    // A quoted header with options cut before its end.
    let with_opts = ipv4_with(8, 0, IPPROTO_UDP, C, S, &dns[20..]);
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &with_opts, 30));
    assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedTruncated)));
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &with_opts, 36));
    assert_eq!(v.ctinfo, Some(CtInfo::RelatedReply));
}

#[test]
fn quote_cut_by_the_copy_or_the_total_length() {
    let (_, _, dns) = with_flows();
    let err = icmp_error(S, C, DEST_UNREACH, 3, &dns, 28);
    let pkt = parse(&err);
    // The caller copied only 50 of the 56 bytes.
    assert_eq!(
        tup::from_packet(&pkt, &err[..50]),
        Err(TupleError::QuotedTruncated)
    );
    assert!(matches!(
        tup::from_packet(&pkt, &err[..52]),
        Ok(Lookup::Related(_))
    ));
    // Bytes beyond the error's total length (padding) are not quoted.
    let mut short = icmp_error(S, C, DEST_UNREACH, 3, &dns, 22);
    short.extend_from_slice(&dns[22..28]);
    let pkt = packet::parse(&short, short.len()).unwrap();
    assert_eq!(pkt.ip.total_len, 50);
    assert_eq!(
        tup::from_packet(&pkt, &short),
        Err(TupleError::QuotedTruncated)
    );
}

#[test]
fn malformed_quotes_are_invalid() {
    let (mut t, syn, _) = with_flows();
    let mut bad = syn.clone();
    bad[0] = 0x65;
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &bad, 28));
    assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedNotIpv4)));
    for ihl in 0..5u8 {
        bad[0] = 0x40 | ihl;
        let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &bad, 28));
        assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedBadHeaderLength)));
    }
    let frag = ipv4_with(5, 0x2000 | 3, IPPROTO_TCP, C, S, &syn[20..]);
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &frag, 28));
    assert_eq!(v.why, Some(Why::Tuple(TupleError::QuotedFragment)));
    // A quoted first fragment is fine.
    let first = ipv4_with(5, 0x2000, IPPROTO_TCP, C, S, &syn[20..]);
    let v = t.packet(&icmp_error(S, C, DEST_UNREACH, 3, &first, 28));
    assert_eq!(v.ctinfo, Some(CtInfo::RelatedReply));
}

#[test]
fn errors_about_pings_and_errors() {
    let mut t = Table::new();
    let p = ping(99);
    t.packet(&p);
    // Host unreachable about a ping.
    let err = icmp_error(R, C, DEST_UNREACH, 1, &p, 28);
    assert_eq!(t.packet(&err).ctinfo, Some(CtInfo::RelatedReply));
    // The quoted ICMP header must be whole (8 bytes).
    let err = icmp_error(R, C, DEST_UNREACH, 1, &p, 27);
    assert_eq!(
        t.packet(&err).why,
        Some(Why::Tuple(TupleError::QuotedTruncated))
    );
    // An error about an error has no connection.
    let inner = icmp_error(S, C, DEST_UNREACH, 3, &p, 28);
    let err = icmp_error(R, S, TIME_EXCEEDED, 0, &inner, 28);
    assert_eq!(
        t.packet(&err).why,
        Some(Why::Tuple(TupleError::QuotedNoInverse))
    );
}

#[test]
fn errors_about_other_protocols() {
    let mut t = Table::new();
    // A GRE tunnel packet makes a generic entry...
    let gre = ipv4(47, C, S, &[0, 0, 0x08, 0, 0x45, 0, 0, 20]);
    assert_eq!(t.packet(&gre).ctinfo, Some(CtInfo::New));
    assert!(matches!(t.entries[0].proto, ProtoState::Generic));
    assert_eq!(t.entries[0].expires - t.now, 600 * SECOND);
    // ... and an error quoting just its IP header relates to it.
    let err = icmp_error(R, C, DEST_UNREACH, 4, &gre, 20);
    assert_eq!(t.packet(&err).ctinfo, Some(CtInfo::RelatedReply));
    // ESP is another connection: an error about it is unrelated.
    let esp = ipv4(50, C, S, &[0; 8]);
    let err = icmp_error(R, C, DEST_UNREACH, 4, &esp, 28);
    assert_eq!(t.packet(&err).why, Some(Why::NoEntry));
}

#[test]
fn every_truncation_of_every_error() {
    // No prefix of any error, however cut, panics; those that relate
    // relate to the right entry.
    let (mut t, syn, dns) = with_flows();
    let p = ping(5);
    t.packet(&p);
    for quoted in [&syn, &dns, &p] {
        for ty in [3u8, 4, 5, 11, 12] {
            let err = icmp_error(S, C, ty, 0, quoted, 64);
            for n in 0..=err.len() {
                if let Ok(pkt) = packet::parse(&err[..n], err.len()) {
                    let _ = tup::from_packet(&pkt, &err[..n]);
                }
                if let Ok(pkt) = packet::parse(&err[..n], n) {
                    if let Ok(Lookup::Related(l)) = tup::from_packet(&pkt, &err[..n]) {
                        assert!(t.find(&l).is_some());
                    }
                }
            }
        }
    }
}
