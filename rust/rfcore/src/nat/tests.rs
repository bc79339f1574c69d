// SPDX-License-Identifier: GPL-2.0

//! Host tests of the NAT core.
//!
//! Packets are built from a [`Spec`], every checksum computed from
//! scratch. A translation is checked by building, from the translated
//! spec, the packet it should give and comparing bytes: each incremental
//! checksum update is thereby checked against a recomputation. Random
//! cases come from a small xorshift generator with fixed seeds, so a
//! failure repeats.

extern crate std;

use std::collections::HashSet;
use std::vec;
use std::vec::Vec;

use super::super::ct::status::{IPS_DST_NAT, IPS_NAT_DONE_MASK, IPS_SRC_NAT};
use super::super::ct::tuple::{Direction, Tuple};
use super::super::packet::{self, IcmpHeader, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::super::proto::{NAT_F_PERSISTENT, NAT_F_RANDOM, NAT_F_RANDOM_FULLY};
use super::alloc::{pick_addr, unique_tuple, MAX_ATTEMPTS};
use super::checksum::{self, add, fold, pseudo_header_sum, CSUM_MANGLED_0};
use super::mangle::{
    icmp_error_action, manip_packet, translate_icmp_error, IcmpErrorAction, MangleError,
};
use super::{manip_part, with_manip_part, Manip, NatRange};

/// A protocol without ports (GRE).
const IPPROTO_GRE: u8 = 47;

/// A client.
const C1: [u8; 4] = [10, 0, 0, 1];
/// Another client.
const C2: [u8; 4] = [10, 0, 0, 2];
/// A server.
const S: [u8; 4] = [198, 51, 100, 7];
/// The NAT box's public address.
const N: [u8; 4] = [203, 0, 113, 1];
/// A router that sends ICMP errors.
const R: [u8; 4] = [192, 0, 2, 254];

/// xorshift64: small, fast and good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    fn u16(&mut self) -> u16 {
        (self.next() >> 48) as u16
    }

    fn u8(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    /// A number below `n` (> 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// An address, now and then one of the extremes, which are where a
    /// one's complement sum meets its two zeros.
    fn addr(&mut self) -> [u8; 4] {
        match self.below(10) {
            0 => [0; 4],
            1 => [255; 4],
            _ => self.u32().to_be_bytes(),
        }
    }

    /// A port, now and then an extreme.
    fn port(&mut self) -> u16 {
        match self.below(10) {
            0 => 0,
            1 => 0xffff,
            _ => self.u16(),
        }
    }

    fn manip(&mut self) -> Manip {
        if self.one_in(2) {
            Manip::Src
        } else {
            Manip::Dst
        }
    }
}

/// The ICMP query types, whose identifier NAT changes.
const ICMP_QUERIES: [u8; 8] = [8, 0, 13, 14, 15, 16, 17, 18];
/// The ICMP error types.
const ICMP_ERRORS: [u8; 5] = [3, 4, 5, 11, 12];

/// Every field of a test packet.
#[derive(Clone, Debug)]
struct Spec {
    saddr: [u8; 4],
    daddr: [u8; 4],
    protocol: u8,
    /// The IPv4 options (a multiple of 4 bytes, at most 40).
    options: Vec<u8>,
    /// The flags and fragment offset word.
    frag: u16,
    /// TOS, the two bytes of the identification, TTL.
    misc: [u8; 4],
    /// TCP and UDP source port; ICMP bytes 4 and 5 (the identifier of a
    /// query).
    sport: u16,
    /// TCP and UDP destination port.
    dport: u16,
    icmp_type: u8,
    icmp_code: u8,
    /// TCP bytes 4 to 16 and 18 to 20; ICMP bytes 6 and 7 are the first
    /// two.
    rest: [u8; 14],
    /// What follows the transport header (all of the IP payload of a
    /// non-first fragment or an unknown protocol).
    payload: Vec<u8>,
    /// A UDP datagram sent without a checksum.
    udp_no_check: bool,
    /// `CHECKSUM_PARTIAL`: the TCP or UDP field holds the folded
    /// pseudo-header sum.
    partial: bool,
    /// An ICMP checksum to store instead of the right one.
    icmp_check: Option<u16>,
}

impl Spec {
    fn header_len(&self) -> usize {
        20 + self.options.len()
    }

    fn first_fragment(&self) -> bool {
        self.frag & 0x1fff == 0
    }

    /// The TCP or UDP checksum of `segment`, from scratch.
    fn l4_check(&self, segment: &[u8]) -> u16 {
        if self.partial {
            let len = u16::try_from(segment.len()).unwrap();
            fold(pseudo_header_sum(
                self.saddr,
                self.daddr,
                self.protocol,
                len,
            ))
        } else {
            checksum::tcp_udp_checksum(self.saddr, self.daddr, self.protocol, segment)
        }
    }

    /// The IP payload.
    fn transport(&self) -> Vec<u8> {
        if !self.first_fragment() {
            return self.payload.clone();
        }
        let mut t = Vec::new();
        match self.protocol {
            IPPROTO_TCP => {
                t.extend_from_slice(&self.sport.to_be_bytes());
                t.extend_from_slice(&self.dport.to_be_bytes());
                t.extend_from_slice(&self.rest[..12]);
                t[12] = 0x50 | (t[12] & 0x0f);
                t.extend_from_slice(&[0, 0]);
                t.extend_from_slice(&self.rest[12..]);
                t.extend_from_slice(&self.payload);
                let check = self.l4_check(&t);
                t[16..18].copy_from_slice(&check.to_be_bytes());
            }
            IPPROTO_UDP => {
                let len = (8 + self.payload.len()) as u16;
                t.extend_from_slice(&self.sport.to_be_bytes());
                t.extend_from_slice(&self.dport.to_be_bytes());
                t.extend_from_slice(&len.to_be_bytes());
                t.extend_from_slice(&[0, 0]);
                t.extend_from_slice(&self.payload);
                let check = if self.udp_no_check {
                    0
                } else {
                    self.l4_check(&t)
                };
                t[6..8].copy_from_slice(&check.to_be_bytes());
            }
            IPPROTO_ICMP => {
                t.extend_from_slice(&[self.icmp_type, self.icmp_code, 0, 0]);
                t.extend_from_slice(&self.sport.to_be_bytes());
                t.extend_from_slice(&self.rest[..2]);
                t.extend_from_slice(&self.payload);
                let check = self
                    .icmp_check
                    .unwrap_or_else(|| checksum::icmp_checksum(&t));
                t[2..4].copy_from_slice(&check.to_be_bytes());
            }
            _ => t.extend_from_slice(&self.payload),
        }
        t
    }

    /// The packet.
    fn build(&self) -> Vec<u8> {
        let l4 = self.transport();
        let hl = self.header_len();
        let total = u16::try_from(hl + l4.len()).unwrap();
        let mut p = vec![0x40 | (hl / 4) as u8, self.misc[0]];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&self.misc[1..3]);
        p.extend_from_slice(&self.frag.to_be_bytes());
        p.extend_from_slice(&[self.misc[3], self.protocol, 0, 0]);
        p.extend_from_slice(&self.saddr);
        p.extend_from_slice(&self.daddr);
        p.extend_from_slice(&self.options);
        let check = checksum::ipv4_header_checksum(&p);
        p[10..12].copy_from_slice(&check.to_be_bytes());
        p.extend_from_slice(&l4);
        p
    }

    /// The ICMP checksum this spec's packet has.
    fn built_icmp_check(&self) -> u16 {
        let t = self.transport();
        u16::from_be_bytes([t[2], t[3]])
    }
}

/// A random packet of `protocol`: random addresses, ports, options,
/// flags, payload; one time in 8 a non-first fragment, one UDP datagram in
/// 5 without a checksum.
fn random_spec(rng: &mut Rng, protocol: u8) -> Spec {
    let options = if rng.one_in(3) {
        let n = rng.below(11) * 4;
        rng.bytes(n)
    } else {
        Vec::new()
    };
    let frag = if rng.one_in(8) {
        (rng.u16() & 0x3fff) | 1
    } else {
        rng.u16() & 0x6000
    };
    let icmp_type = if rng.one_in(2) {
        rng.pick(&ICMP_QUERIES)
    } else {
        rng.pick(&[3, 4, 5, 11, 12, 9, 10, 30, 255])
    };
    let payload_len = rng.below(48);
    Spec {
        saddr: rng.addr(),
        daddr: rng.addr(),
        protocol,
        options,
        frag,
        misc: rng.u32().to_be_bytes(),
        sport: rng.port(),
        dport: rng.port(),
        icmp_type,
        icmp_code: if rng.one_in(4) { rng.u8() } else { 0 },
        rest: rng.bytes(14).try_into().unwrap(),
        payload: rng.bytes(payload_len),
        udp_no_check: rng.one_in(5),
        partial: false,
        icmp_check: None,
    }
}

/// A random tuple of `protocol`, as a translation target.
fn random_tuple(rng: &mut Rng, protocol: u8) -> Tuple {
    Tuple {
        saddr: rng.addr(),
        daddr: rng.addr(),
        protocol,
        sport: rng.port(),
        dport: rng.port(),
    }
}

/// What `manip_packet(target, manip)` should make of `spec`: the model
/// the tests hold the code to.
fn translated(spec: &Spec, target: &Tuple, manip: Manip) -> Spec {
    let mut s = spec.clone();
    let (addr, port) = manip_part(target, manip);
    match manip {
        Manip::Src => s.saddr = addr,
        Manip::Dst => s.daddr = addr,
    }
    if s.first_fragment() {
        match (s.protocol, manip) {
            (IPPROTO_TCP | IPPROTO_UDP, Manip::Src) => s.sport = port,
            (IPPROTO_TCP | IPPROTO_UDP, Manip::Dst) => s.dport = port,
            (IPPROTO_ICMP, _) if ICMP_QUERIES.contains(&s.icmp_type) => {
                s.sport = port;
                if s.partial {
                    // Not covered by the pseudo-header: left to the device.
                    s.icmp_check = Some(spec.built_icmp_check());
                }
            }
            _ => {}
        }
    }
    s
}

/// Asserts that every checksum of the whole packet `p` verifies, from
/// scratch: the IP header's, and the transport one's of a first fragment
/// (a UDP checksum of 0 is none).
fn assert_verifies(p: &[u8]) {
    let parsed = packet::parse(p, p.len()).expect("test packets parse");
    let hl = parsed.ip.header_len;
    assert!(packet::header_checksum_ok(p, hl), "IP header checksum");
    let l4 = &p[hl..];
    let pseudo = pseudo_header_sum(
        parsed.ip.saddr,
        parsed.ip.daddr,
        parsed.ip.protocol,
        l4.len() as u16,
    );
    match parsed.transport {
        packet::Transport::Tcp(_) => assert!(checksum::verifies(pseudo, l4), "TCP checksum"),
        packet::Transport::Udp(u) if u.checksum != 0 => {
            assert!(checksum::verifies(pseudo, l4), "UDP checksum")
        }
        packet::Transport::Icmp(_) => assert!(checksum::verifies(0, l4), "ICMP checksum"),
        _ => {}
    }
}

// Checksum arithmetic.

#[test]
fn sums_and_folds() {
    // RFC 1071, section 3.
    let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(fold(checksum::sum(&bytes)), 0xddf2);
    assert_eq!(checksum::finish(checksum::sum(&bytes)), !0xddf2);
    // An odd last byte is the high byte of a word.
    assert_eq!(checksum::sum(&[0x12]), 0x1200);
    assert_eq!(checksum::sum(&[]), 0);
    // End-around carry; zero only from zeros.
    assert_eq!(add(0xffff_ffff, 1), 1);
    assert_eq!(add(0x8000_0000, 0x8000_0000), 1);
    assert_eq!(add(0, 0), 0);
    assert_eq!(checksum::sub(5, 5), 0xffff_ffff);
    assert_eq!(fold(0xffff_ffff), 0xffff);
    assert_eq!(fold(0x0001_fffe), 0xffff);
    assert_eq!(fold(0x1234_0000), 0x1234);
    assert_eq!(fold(0), 0);
    // A field past the end is no field.
    assert_eq!(checksum::sum_without(&bytes, 100), checksum::sum(&bytes));
    assert_eq!(
        checksum::sum_without(&bytes, usize::MAX),
        checksum::sum(&bytes)
    );
    assert_eq!(
        checksum::sum_without(&bytes, 2),
        checksum::sum(&[0x00, 0x01, 0, 0, 0xf4, 0xf5, 0xf6, 0xf7])
    );
}

#[test]
fn ipv4_header_checksum_known() {
    // A header with its checksum (0xb861) in place.
    let h = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];
    assert_eq!(checksum::ipv4_header_checksum(&h), 0xb861);
    assert!(packet::header_checksum_ok(&h, 20));
    assert!(checksum::verifies(0, &h));
}

#[test]
fn replace_matches_recomputation() {
    let mut rng = Rng::new(1);
    for round in 0..5000 {
        let len = 4 + rng.below(100);
        let mut data = rng.bytes(len);
        if round % 7 == 0 {
            // Mostly zeros or ones, where the two zeros lurk.
            let fill = if round % 2 == 0 { 0 } else { 0xff };
            data.iter_mut().for_each(|b| *b = fill);
        }
        let at = 2 * rng.below((len - 4) / 2 + 1);
        let old: [u8; 4] = data[at..at + 4].try_into().unwrap();
        let new = match rng.below(4) {
            0 => [0; 4],
            1 => [0xff; 4],
            _ => rng.u32().to_be_bytes(),
        };
        let check = checksum::finish(checksum::sum(&data));
        let partial = fold(checksum::sum(&data));
        let mut changed = data.clone();
        changed[at..at + 4].copy_from_slice(&new);
        let want = checksum::finish(checksum::sum(&changed));
        let (from, to) = (u32::from_be_bytes(old), u32::from_be_bytes(new));
        // Zero data has a checksum of 0xffff, which a real header never
        // has: the incremental update gives the other zero, 0.
        if checksum::sum(&data) != 0 && checksum::sum(&changed) != 0 {
            assert_eq!(checksum::replace4(check, from, to), want, "round {round}");
            assert_eq!(
                checksum::replace4_partial(partial, from, to),
                fold(checksum::sum(&changed)),
                "round {round}"
            );
            // The same change as two 16-bit words.
            let half = checksum::replace2(
                check,
                u16::from_be_bytes([old[0], old[1]]),
                u16::from_be_bytes([new[0], new[1]]),
            );
            let whole = checksum::replace2(
                half,
                u16::from_be_bytes([old[2], old[3]]),
                u16::from_be_bytes([new[2], new[3]]),
            );
            assert_eq!(whole, want, "round {round}");
        }
        // Either way the result verifies: data and checksum sum to -0.
        let mut with_check = changed.clone();
        with_check.resize(len.next_multiple_of(2), 0);
        with_check.extend_from_slice(&checksum::replace4(check, from, to).to_be_bytes());
        assert!(checksum::verifies(0, &with_check) || changed.iter().all(|&b| b == 0));
    }
}

// Rewriting packets.

#[test]
fn translations_match_recomputation() {
    let mut rng = Rng::new(2);
    for round in 0..8000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_GRE][round % 4];
        let spec = random_spec(&mut rng, protocol);
        let manip = rng.manip();
        let target = random_tuple(&mut rng, protocol);
        let mut buf = spec.build();
        assert_verifies(&buf);
        manip_packet(&mut buf, &target, manip, false).unwrap();
        let want = translated(&spec, &target, manip);
        assert_eq!(
            buf,
            want.build(),
            "round {round}: {spec:?} to {target} {manip:?}"
        );
        assert_verifies(&buf);
    }
}

#[test]
fn partial_checksum_keeps_the_pseudo_header_sum() {
    let mut rng = Rng::new(3);
    for round in 0..3000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP][round % 3];
        let mut spec = random_spec(&mut rng, protocol);
        spec.partial = true;
        spec.udp_no_check = false;
        spec.frag &= 0x6000;
        let manip = rng.manip();
        let target = random_tuple(&mut rng, protocol);
        let mut buf = spec.build();
        manip_packet(&mut buf, &target, manip, true).unwrap();
        let want = translated(&spec, &target, manip);
        assert_eq!(buf, want.build(), "round {round}: {spec:?} {manip:?}");
        // Spelled out: the field is the folded pseudo-header sum of the
        // new addresses, not complemented (what `tcp_v4_send_check`
        // leaves for the device), whatever the ports.
        let hl = spec.header_len();
        let len = (buf.len() - hl) as u16;
        let field = match protocol {
            IPPROTO_TCP => Some(hl + 16),
            IPPROTO_UDP => Some(hl + 6),
            _ => None,
        };
        if let Some(at) = field {
            let got = u16::from_be_bytes([buf[at], buf[at + 1]]);
            assert_eq!(
                got,
                fold(pseudo_header_sum(want.saddr, want.daddr, protocol, len))
            );
        }
    }
}

#[test]
fn udp_without_checksum_stays_without() {
    let spec = Spec {
        udp_no_check: true,
        frag: 0,
        ..random_spec(&mut Rng::new(4), IPPROTO_UDP)
    };
    for manip in [Manip::Src, Manip::Dst] {
        let target = Tuple::udp(N, 1234, S, 4321);
        let mut buf = spec.build();
        manip_packet(&mut buf, &target, manip, false).unwrap();
        let hl = spec.header_len();
        assert_eq!(&buf[hl + 6..hl + 8], &[0, 0]);
        assert_eq!(buf, translated(&spec, &target, manip).build());
        // A CHECKSUM_PARTIAL packet's field is a sum, even when 0: it is
        // updated.
        let mut buf = spec.build();
        manip_packet(&mut buf, &target, manip, true).unwrap();
        assert_ne!(&buf[hl + 6..hl + 8], &[0, 0]);
    }
}

#[test]
fn udp_checksum_of_zero_is_sent_as_ffff() {
    let mut rng = Rng::new(5);
    for round in 0..200 {
        let mut spec = random_spec(&mut rng, IPPROTO_UDP);
        spec.frag = 0;
        spec.udp_no_check = false;
        let len = 2 + 2 * rng.below(10);
        spec.payload = rng.bytes(len);
        let manip = rng.manip();
        let target = random_tuple(&mut rng, IPPROTO_UDP);
        // Choose the first payload word so that the translated datagram
        // sums to -0 without its checksum: the checksum computes to 0.
        let mut want = translated(&spec, &target, manip);
        want.payload[..2].copy_from_slice(&[0, 0]);
        let seg = want.transport();
        let raw = checksum::finish(add(
            pseudo_header_sum(want.saddr, want.daddr, IPPROTO_UDP, seg.len() as u16),
            checksum::sum_without(&seg, 6),
        ));
        want.payload[..2].copy_from_slice(&raw.to_be_bytes());
        spec.payload[..2].copy_from_slice(&raw.to_be_bytes());
        let want = want.build();
        let hl = spec.header_len();
        assert_eq!(&want[hl + 6..hl + 8], &CSUM_MANGLED_0.to_be_bytes());

        let mut buf = spec.build();
        assert_verifies(&buf);
        manip_packet(&mut buf, &target, manip, false).unwrap();
        assert_eq!(buf, want, "round {round}");
        assert_verifies(&buf);
    }
}

#[test]
fn icmp_echo_identifier() {
    // A ping from C1 with identifier 7, translated both ways.
    let mut spec = random_spec(&mut Rng::new(6), IPPROTO_ICMP);
    spec.frag = 0;
    (
        spec.saddr,
        spec.daddr,
        spec.icmp_type,
        spec.icmp_code,
        spec.sport,
    ) = (C1, S, IcmpHeader::ECHO_REQUEST, 0, 7);
    let hl = spec.header_len();
    for (manip, target) in [
        (Manip::Src, Tuple::icmp(N, S, 4000, 8, 0)),
        (Manip::Dst, Tuple::icmp(C1, N, 4000, 8, 0)),
    ] {
        let mut buf = spec.build();
        manip_packet(&mut buf, &target, manip, false).unwrap();
        assert_eq!(&buf[hl + 4..hl + 6], &4000u16.to_be_bytes());
        assert_verifies(&buf);
        match manip {
            Manip::Src => assert_eq!((&buf[12..16], &buf[16..20]), (&N[..], &S[..])),
            Manip::Dst => assert_eq!((&buf[12..16], &buf[16..20]), (&C1[..], &N[..])),
        }
    }
    // An ICMP error at top level keeps its ICMP header.
    spec.icmp_type = IcmpHeader::DEST_UNREACH;
    let before = spec.build();
    let mut buf = before.clone();
    manip_packet(&mut buf, &Tuple::icmp(N, S, 4000, 8, 0), Manip::Src, false).unwrap();
    assert_eq!(&buf[hl..], &before[hl..]);
    assert_eq!(&buf[12..16], &N);
}

#[test]
fn truncated_transport_headers() {
    let mut rng = Rng::new(7);
    for round in 0..3000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP][round % 3];
        let mut spec = random_spec(&mut rng, protocol);
        spec.frag &= 0x6000;
        spec.icmp_type = rng.pick(&ICMP_QUERIES);
        let manip = rng.manip();
        let target = random_tuple(&mut rng, protocol);
        let full = spec.build();
        let hl = spec.header_len();
        let want_full = translated(&spec, &target, manip).build();
        let keep = rng.below(full.len() - hl + 1);
        let mut buf = full[..hl + keep].to_vec();
        manip_packet(&mut buf, &target, manip, false).unwrap();
        // The IP header always changes; the transport header as far as
        // its fields are there: TCP and UDP ports from 4 bytes, their
        // checksums only with the whole header (20 and 8 bytes), ICMP
        // from 8 bytes.
        let whole = match protocol {
            IPPROTO_TCP => 20,
            _ => 8,
        };
        assert_eq!(&buf[..hl], &want_full[..hl], "round {round}");
        if keep >= whole {
            assert_eq!(buf, &want_full[..hl + keep], "round {round}");
        } else if keep >= 4 && protocol != IPPROTO_ICMP {
            assert_eq!(&buf[hl..hl + 4], &want_full[hl..hl + 4], "round {round}");
            assert_eq!(&buf[hl + 4..], &full[hl + 4..hl + keep], "round {round}");
        } else {
            assert_eq!(&buf[hl..], &full[hl..hl + keep], "round {round}");
        }
    }
}

#[test]
fn non_first_fragments_change_only_the_ip_header() {
    let mut rng = Rng::new(8);
    for round in 0..1000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP][round % 3];
        let mut spec = random_spec(&mut rng, protocol);
        spec.frag = (rng.u16() & 0x3fff) | 0x0008;
        let manip = rng.manip();
        let target = random_tuple(&mut rng, protocol);
        let before = spec.build();
        let mut buf = before.clone();
        manip_packet(&mut buf, &target, manip, rng.one_in(2)).unwrap();
        let hl = spec.header_len();
        assert_eq!(&buf[hl..], &before[hl..]);
        assert!(packet::header_checksum_ok(&buf, hl));
        let (addr, _) = manip_part(&target, manip);
        let at = if manip == Manip::Src { 12 } else { 16 };
        assert_eq!(&buf[at..at + 4], &addr);
        assert_eq!(buf, translated(&spec, &target, manip).build());
    }
}

#[test]
fn bad_packets_are_refused_untouched() {
    let mut rng = Rng::new(9);
    let target = Tuple::tcp(N, 1, S, 2);
    for round in 0..500 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP][round % 3];
        let spec = random_spec(&mut rng, protocol);
        let target = Tuple {
            protocol,
            ..random_tuple(&mut rng, protocol)
        };
        let full = spec.build();
        let hl = spec.header_len();
        // Every prefix: too short for the IP header, or fine.
        for n in 0..=full.len() {
            let mut buf = full[..n].to_vec();
            let r = manip_packet(&mut buf, &target, rng.manip(), rng.one_in(2));
            if n < hl {
                assert_eq!(r, Err(MangleError::Truncated), "{n} bytes");
                assert_eq!(buf, &full[..n]);
            } else {
                assert_eq!(r, Ok(()), "{n} bytes");
            }
        }
    }
    let good = Spec {
        frag: 0,
        ..random_spec(&mut rng, IPPROTO_TCP)
    }
    .build();
    for (byte0, why) in [
        (0x44, "IHL 4"),
        (0x40, "IHL 0"),
        (0x65, "IPv6"),
        (0x05, "version 0"),
    ] {
        let mut buf = good.clone();
        buf[0] = byte0;
        let before = buf.clone();
        let r = manip_packet(&mut buf, &target, Manip::Src, false);
        assert_eq!(r, Err(MangleError::Malformed), "{why}");
        assert_eq!(buf, before);
    }
    // A tuple of another protocol.
    let mut buf = good.clone();
    let r = manip_packet(&mut buf, &Tuple::udp(N, 1, S, 2), Manip::Src, false);
    assert_eq!(r, Err(MangleError::Malformed));
    assert_eq!(buf, good);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(10);
    for _ in 0..30000 {
        let len = rng.below(140);
        let mut buf = rng.bytes(len);
        if let Some(b) = buf.first_mut() {
            if !rng.one_in(8) {
                *b = 0x40 | (*b & 0x0f);
            }
        }
        if buf.len() > 9 && rng.one_in(2) {
            buf[9] = rng.pick(&[IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP]);
        }
        if buf.len() > 7 && rng.one_in(2) {
            buf[6] &= 0xe0;
            buf[7] = 0;
        }
        let protocol = rng.pick(&[IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP]);
        let mut t = random_tuple(&mut rng, protocol);
        if buf.len() > 9 && rng.one_in(2) {
            t.protocol = buf[9];
        }
        let (manip, partial) = (rng.manip(), rng.one_in(2));
        let before = buf.clone();
        if manip_packet(&mut buf, &t, manip, partial).is_err() {
            assert_eq!(buf, before);
        }
        let mut buf = before.clone();
        if translate_icmp_error(&mut buf, &t, manip, partial).is_err() {
            assert_eq!(buf, before);
        }
    }
}

// ICMP errors.

/// A random ICMP error quoting `inner` cut to `quote` bytes, and the
/// same error as `translate_icmp_error(other, manip, partial)` should make
/// it.
fn icmp_error_case(
    rng: &mut Rng,
    inner: &Spec,
    quote: usize,
    other: &Tuple,
    manip: Manip,
    partial: bool,
) -> (Vec<u8>, Vec<u8>) {
    let mut outer = random_spec(rng, IPPROTO_ICMP);
    outer.frag &= 0x6000;
    outer.icmp_type = rng.pick(&ICMP_ERRORS);
    outer.payload = inner.build()[..quote].to_vec();
    let mut want = outer.clone();
    want.payload = translated(inner, other, manip.opposite()).build()[..quote].to_vec();
    match manip {
        Manip::Src => want.saddr = other.daddr,
        Manip::Dst => want.daddr = other.saddr,
    }
    if partial {
        want.icmp_check = Some(outer.built_icmp_check());
    }
    (outer.build(), want.build())
}

#[test]
fn icmp_errors_match_recomputation() {
    let mut rng = Rng::new(11);
    for round in 0..4000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP][round % 3];
        let partial = round % 5 == 4;
        let mut inner = random_spec(&mut rng, protocol);
        inner.frag &= 0x6000;
        inner.icmp_type = rng.pick(&ICMP_QUERIES);
        inner.partial = partial;
        inner.udp_no_check &= !partial;
        let full = inner.build().len();
        let hl = inner.header_len();
        // All of it, the 8 bytes RFC 792 asks for, or 20.
        let quote = match rng.below(3) {
            0 => full,
            1 => (hl + 8).min(full),
            _ => (hl + 20).min(full),
        };
        let other = random_tuple(&mut rng, protocol);
        let manip = rng.manip();
        let (mut buf, want) = icmp_error_case(&mut rng, &inner, quote, &other, manip, partial);
        if !partial {
            assert_verifies(&buf);
        }
        translate_icmp_error(&mut buf, &other, manip, partial).unwrap();
        assert_eq!(
            buf, want,
            "round {round}: {inner:?} quoted {quote} to {other} {manip:?}"
        );
        if !partial {
            assert_verifies(&buf);
        }
    }
}

#[test]
fn icmp_error_about_snat_connection() {
    // C1:40000 -> S:80 is translated to N:2000. S's side of the network
    // refuses it: R sends N an error quoting N:2000 -> S:80. At
    // PREROUTING (a destination manip) the error is about the reply
    // direction, so `other` is the original tuple.
    let orig = Tuple::tcp(C1, 40000, S, 80);
    let mut rng = Rng::new(12);
    let mut quoted = random_spec(&mut rng, IPPROTO_TCP);
    (
        quoted.saddr,
        quoted.daddr,
        quoted.sport,
        quoted.dport,
        quoted.frag,
    ) = (N, S, 2000, 80, 0);
    quoted.options.clear();
    quoted.payload.clear();
    let quoted_bytes = quoted.build();
    let mut outer = random_spec(&mut rng, IPPROTO_ICMP);
    (outer.saddr, outer.daddr, outer.frag, outer.icmp_type) = (R, N, 0, 3);
    outer.options.clear();
    outer.payload = quoted_bytes;
    let mut buf = outer.build();
    assert_eq!(
        icmp_error_action(
            IPS_SRC_NAT | IPS_NAT_DONE_MASK,
            Direction::Reply,
            Manip::Dst,
            3
        ),
        IcmpErrorAction::Translate
    );
    translate_icmp_error(&mut buf, &orig, Manip::Dst, false).unwrap();
    // The error now goes to C1, about C1:40000 -> S:80.
    assert_eq!((&buf[12..16], &buf[16..20]), (&R[..], &C1[..]));
    let q = &buf[28..];
    assert_eq!((&q[12..16], &q[16..20]), (&C1[..], &S[..]));
    assert_eq!(
        (&q[20..22], &q[22..24]),
        (&40000u16.to_be_bytes()[..], &80u16.to_be_bytes()[..])
    );
    assert!(packet::header_checksum_ok(q, 20));
    let pseudo = pseudo_header_sum(C1, S, IPPROTO_TCP, (q.len() - 20) as u16);
    assert!(checksum::verifies(pseudo, &q[20..]));
    assert_verifies(&buf);
}

#[test]
fn icmp_error_about_dnat_connection() {
    // C1:40000 -> N:80 is translated to S:8080. A router R between the
    // NAT box and S sends C1 an error quoting C1:40000 -> S:8080. At
    // POSTROUTING (a source manip) it is about the original direction
    // and travels in the reply one; `other` is the original tuple. The
    // quoted destination and the outer source become N:80.
    let orig = Tuple::tcp(C1, 40000, N, 80);
    let mut rng = Rng::new(13);
    let mut quoted = random_spec(&mut rng, IPPROTO_TCP);
    (
        quoted.saddr,
        quoted.daddr,
        quoted.sport,
        quoted.dport,
        quoted.frag,
    ) = (C1, S, 40000, 8080, 0);
    let inner_hl = quoted.header_len();
    let quoted_bytes = quoted.build()[..inner_hl + 8].to_vec();
    let mut outer = random_spec(&mut rng, IPPROTO_ICMP);
    (outer.saddr, outer.daddr, outer.frag, outer.icmp_type) = (R, C1, 0, 11);
    outer.payload = quoted_bytes;
    let hl = outer.header_len();
    let mut buf = outer.build();
    let status = IPS_DST_NAT | IPS_NAT_DONE_MASK;
    assert_eq!(
        icmp_error_action(status, Direction::Reply, Manip::Dst, 11),
        IcmpErrorAction::Accept
    );
    assert_eq!(
        icmp_error_action(status, Direction::Reply, Manip::Src, 11),
        IcmpErrorAction::Translate
    );
    translate_icmp_error(&mut buf, &orig, Manip::Src, false).unwrap();
    assert_eq!((&buf[12..16], &buf[16..20]), (&N[..], &C1[..]));
    let q = &buf[hl + 8..];
    assert_eq!((&q[12..16], &q[16..20]), (&C1[..], &N[..]));
    assert_eq!(
        &q[inner_hl..inner_hl + 4],
        &[40000u16.to_be_bytes(), 80u16.to_be_bytes()].concat()[..]
    );
    assert!(packet::header_checksum_ok(q, inner_hl));
    assert_verifies(&buf);
}

#[test]
fn icmp_error_actions() {
    use IcmpErrorAction::{Accept, Drop, Translate};
    let snat = IPS_SRC_NAT | IPS_NAT_DONE_MASK;
    for (dir, manip, want) in [
        (Direction::Original, Manip::Src, Translate),
        (Direction::Original, Manip::Dst, Accept),
        (Direction::Reply, Manip::Src, Accept),
        (Direction::Reply, Manip::Dst, Translate),
    ] {
        assert_eq!(icmp_error_action(snat, dir, manip, 3), want);
    }
    // Redirects about translated connections, or before both manips are
    // set up, are dropped; others pass.
    assert_eq!(
        icmp_error_action(snat, Direction::Reply, Manip::Dst, 5),
        Drop
    );
    assert_eq!(
        icmp_error_action(IPS_NAT_DONE_MASK, Direction::Reply, Manip::Dst, 5),
        Accept
    );
    assert_eq!(icmp_error_action(0, Direction::Reply, Manip::Dst, 5), Drop);
    assert_eq!(
        icmp_error_action(0, Direction::Reply, Manip::Dst, 11),
        Accept
    );
}

#[test]
fn bad_icmp_errors_are_refused_untouched() {
    let mut rng = Rng::new(14);
    let other = Tuple::tcp(C1, 40000, S, 80);
    let mut inner = random_spec(&mut rng, IPPROTO_TCP);
    inner.frag = 0;
    let mut outer = random_spec(&mut rng, IPPROTO_ICMP);
    (outer.frag, outer.icmp_type) = (0, 3);
    outer.payload = inner.build()[..inner.header_len() + 8].to_vec();
    let good = outer.build();
    let hl = outer.header_len();
    // Every prefix is refused (too short for the quoted IP header) or
    // translated; the total length still says the whole packet.
    for n in 0..=good.len() {
        let mut buf = good[..n].to_vec();
        let r = translate_icmp_error(&mut buf, &other, Manip::Dst, false);
        if n < hl + 8 + inner.header_len() {
            assert_eq!(r, Err(MangleError::Truncated), "{n} bytes");
            assert_eq!(buf, &good[..n]);
        } else {
            assert_eq!(r, Ok(()), "{n} bytes");
        }
    }
    let mangled = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut buf = good.clone();
        f(&mut buf);
        // Keep the outer header checksum right: the code must not care.
        let c = checksum::ipv4_header_checksum(&buf[..hl]);
        buf[10..12].copy_from_slice(&c.to_be_bytes());
        let before = buf.clone();
        let r = translate_icmp_error(&mut buf, &other, Manip::Dst, false);
        assert_eq!(buf, before);
        r
    };
    let malformed = Err(MangleError::Malformed);
    // Not ICMP, not an error, a non-first fragment.
    assert_eq!(mangled(&|b| b[9] = IPPROTO_UDP), malformed);
    assert_eq!(mangled(&|b| b[hl] = 8), malformed);
    assert_eq!(mangled(&|b| b[hl] = 9), malformed);
    assert_eq!(mangled(&|b| b[7] = 1), malformed);
    // The quoted header: not IPv4, IHL below 5, another protocol.
    assert_eq!(mangled(&|b| b[hl + 8] = 0x65), malformed);
    assert_eq!(mangled(&|b| b[hl + 8] = 0x44), malformed);
    assert_eq!(mangled(&|b| b[hl + 8 + 9] = IPPROTO_UDP), malformed);
    // A total length that ends inside the ICMP header or the quote.
    let short = (hl + 4) as u16;
    assert_eq!(
        mangled(&|b| b[2..4].copy_from_slice(&short.to_be_bytes())),
        Err(MangleError::Truncated)
    );
    let short = (hl + 8 + 19) as u16;
    assert_eq!(
        mangled(&|b| b[2..4].copy_from_slice(&short.to_be_bytes())),
        Err(MangleError::Truncated)
    );
    // Outer IHL below 5.
    assert_eq!(mangled(&|b| b[0] = 0x43), malformed);
}

// Choosing tuples.

/// A `taken` over a set of reply tuples.
fn in_set(set: &HashSet<Tuple>) -> impl FnMut(&Tuple) -> bool + '_ {
    |reply| set.contains(reply)
}

#[test]
fn free_tuple_in_range_is_kept() {
    let orig = Tuple::tcp(C1, 40000, S, 80);
    let none = HashSet::new();
    // The source already in the range: no translation.
    let range = NatRange {
        min_addr: [10, 0, 0, 0],
        max_addr: [10, 0, 0, 9],
        ..NatRange::default()
    };
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, in_set(&none));
    assert_eq!(t, Some(orig));
    let ports = NatRange {
        min_port: 30000,
        max_port: 50000,
        ..range
    };
    let t = unique_tuple(&orig, &ports, Manip::Src, 1, 2, in_set(&none));
    assert_eq!(t, Some(orig));
    // Out of the port range: moved into it.
    let low = NatRange {
        min_port: 1000,
        max_port: 1999,
        ..range
    };
    let t = unique_tuple(&orig, &low, Manip::Src, 1, 2, in_set(&none)).unwrap();
    assert!(range.contains_addr(t.saddr));
    assert!((1000..=1999).contains(&t.sport));
    // Taken: moved.
    let taken = HashSet::from([orig.invert().unwrap()]);
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, in_set(&taken)).unwrap();
    assert_ne!(t, orig);
    assert!(range.contains_addr(t.saddr));
    assert_eq!((t.daddr, t.dport), (S, 80));
    // A single address keeps the port when free.
    let t = unique_tuple(&orig, &NatRange::addr(N), Manip::Src, 1, 2, in_set(&none));
    assert_eq!(t, Some(Tuple::tcp(N, 40000, S, 80)));
}

#[test]
fn two_clients_same_port_get_distinct_mappings() {
    let range = NatRange::addr(N);
    let mut taken = HashSet::new();
    let a = unique_tuple(
        &Tuple::udp(C1, 5000, S, 53),
        &range,
        Manip::Src,
        9,
        77,
        in_set(&taken),
    )
    .unwrap();
    assert_eq!(a, Tuple::udp(N, 5000, S, 53));
    taken.insert(a.invert().unwrap());
    let mut calls = Vec::new();
    let b = unique_tuple(
        &Tuple::udp(C2, 5000, S, 53),
        &range,
        Manip::Src,
        9,
        77,
        |r| {
            calls.push(*r);
            taken.contains(r)
        },
    )
    .unwrap();
    assert_eq!((b.saddr, b.daddr, b.dport), (N, S, 53));
    assert_ne!(b.sport, 5000);
    assert!(b.sport >= 1024);
    // `taken` is asked about reply tuples: from the server to N.
    assert!(calls
        .iter()
        .all(|r| r.saddr == S && r.daddr == N && r.sport == 53));
}

#[test]
fn ranges_are_honoured() {
    let mut rng = Rng::new(15);
    let mut found = 0;
    for round in 0..3000 {
        let protocol = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_GRE][round % 4];
        let lo = rng.u32() | 1;
        let hi = lo.saturating_add(rng.below(64) as u32);
        let (min_port, max_port) = if rng.one_in(2) {
            (0, 0)
        } else {
            let p = 1 + rng.below(65000) as u16;
            (p, p.saturating_add(rng.below(400) as u16))
        };
        let range = NatRange {
            flags: rng.pick(&[0, NAT_F_RANDOM, NAT_F_PERSISTENT, NAT_F_RANDOM_FULLY]),
            min_addr: lo.to_be_bytes(),
            max_addr: hi.to_be_bytes(),
            min_port,
            max_port,
        };
        let orig = match protocol {
            IPPROTO_ICMP => Tuple::icmp(rng.addr(), rng.addr(), rng.u16(), 8, 0),
            p => Tuple {
                protocol: p,
                ..random_tuple(&mut rng, p)
            },
        };
        let orig = match protocol {
            IPPROTO_GRE => Tuple {
                sport: 0,
                dport: 0,
                ..orig
            },
            _ => orig,
        };
        let manip = rng.manip();
        // Some tuples in the range are taken already.
        let mut taken = HashSet::new();
        for _ in 0..rng.below(300) {
            let addr = lo.wrapping_add(rng.below((hi - lo) as usize + 1) as u32);
            let port = if range.proto_specified() {
                min_port + rng.below(usize::from(max_port - min_port) + 1) as u16
            } else {
                rng.u16()
            };
            let t = with_manip_part(&orig, manip, addr.to_be_bytes(), port);
            taken.insert(t.invert().unwrap());
        }
        let empty = taken.is_empty();
        let Some(t) = unique_tuple(&orig, &range, manip, rng.u32(), rng.u32(), in_set(&taken))
        else {
            assert!(!empty, "round {round}: nothing taken, yet no tuple");
            continue;
        };
        found += 1;
        assert!(!taken.contains(&t.invert().unwrap()), "round {round}");
        let (addr, port) = manip_part(&t, manip);
        assert!(range.contains_addr(addr), "round {round}: {t}");
        let has_port = protocol != IPPROTO_GRE;
        if has_port && range.proto_specified() {
            assert!(range.contains_port(port), "round {round}: {t}");
        }
        // The other end is left alone, and so is everything else.
        let (oa, op) = manip_part(&orig, manip);
        let back = with_manip_part(&t, manip, oa, op);
        assert_eq!(back, orig, "round {round}");
        if !has_port
            || (manip == Manip::Dst && protocol != IPPROTO_ICMP && !range.proto_specified())
        {
            assert_eq!(port, op, "round {round}: the port may not change");
        }
        if manip == Manip::Src && !range.proto_specified() && protocol != IPPROTO_ICMP && port != op
        {
            // The port keeps its class.
            let class = |p: u16| match p {
                0..=511 => 0,
                512..=1023 => 1,
                _ => 2,
            };
            assert_eq!(class(port), class(op), "round {round}: {op} -> {port}");
        }
    }
    assert!(found > 2500, "{found}");
}

#[test]
fn persistent_gives_a_client_one_address() {
    let range = NatRange {
        min_addr: [192, 0, 2, 0],
        max_addr: [192, 0, 2, 255],
        ..NatRange::default()
    };
    let persistent = NatRange {
        flags: NAT_F_PERSISTENT,
        ..range
    };
    let none = HashSet::new();
    let mut rng = Rng::new(16);
    let mut spread = HashSet::new();
    for client in 0..20u8 {
        let c = [10, 1, 0, client];
        let mut seen = HashSet::new();
        for d in 0..30u8 {
            let orig = Tuple::tcp(c, 40000, [198, 51, 100, d], 443);
            let a = unique_tuple(&orig, &persistent, Manip::Src, 5, rng.u32(), in_set(&none));
            seen.insert(a.unwrap().saddr);
            let b = unique_tuple(&orig, &range, Manip::Src, 5, rng.u32(), in_set(&none));
            let b = b.unwrap().saddr;
            spread.insert(b);
            // The same client and server always meet the same address.
            let again = unique_tuple(&orig, &range, Manip::Src, 5, rng.u32(), in_set(&none));
            assert_eq!(again.unwrap().saddr, b);
            assert_eq!(pick_addr(&orig, &range, 5), b);
        }
        assert_eq!(seen.len(), 1, "client {client}");
    }
    // Without persistence the servers spread the clients around.
    assert!(spread.len() > 100, "{}", spread.len());
}

#[test]
fn address_ranges_of_any_size() {
    let mut rng = Rng::new(17);
    for (lo, hi) in [
        ([0, 0, 0, 1], [255, 255, 255, 255]),
        ([0, 0, 0, 0], [255, 255, 255, 255]),
        ([10, 0, 0, 0], [10, 255, 255, 255]),
        ([10, 0, 0, 9], [10, 0, 0, 1]),
    ] {
        let range = NatRange {
            min_addr: lo,
            max_addr: hi,
            ..NatRange::default()
        };
        let (a, b) = (u32::from_be_bytes(lo), u32::from_be_bytes(hi));
        for _ in 0..1000 {
            let orig = random_tuple(&mut rng, IPPROTO_TCP);
            let addr = u32::from_be_bytes(pick_addr(&orig, &range, rng.u32()));
            assert!((a.min(b)..=a.max(b)).contains(&addr));
        }
    }
}

#[test]
fn exhausted_range_gives_none() {
    let orig = Tuple::tcp(C1, 40000, S, 80);
    let range = NatRange {
        min_port: 5000,
        max_port: 5003,
        ..NatRange::addr(N)
    };
    let all: HashSet<Tuple> = (5000..=5003).map(|p| Tuple::tcp(S, 80, N, p)).collect();
    let mut calls = 0;
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, |r| {
        calls += 1;
        all.contains(r)
    });
    assert_eq!(t, None);
    assert_eq!(calls, 4);
    // One free: found whatever the offset.
    let three: HashSet<Tuple> = (5000..=5002).map(|p| Tuple::tcp(S, 80, N, p)).collect();
    for rand in 0..8 {
        let t = unique_tuple(&orig, &range, Manip::Src, 1, rand, in_set(&three));
        assert_eq!(t, Some(Tuple::tcp(N, 5003, S, 80)));
    }
    // A large full range: the search gives up after rounds of 128, 64, 32,
    // 16 and 8 candidates.
    let big = NatRange {
        max_port: 5999,
        ..range
    };
    let mut calls = 0;
    let t = unique_tuple(&orig, &big, Manip::Src, 1, 2, |_| {
        calls += 1;
        true
    });
    assert_eq!(t, None);
    assert_eq!(calls, 128 + 64 + 32 + 16 + 8);
    assert_eq!(MAX_ATTEMPTS, 128);
}

#[test]
fn thousand_connections_are_unique() {
    let mut rng = Rng::new(18);
    for range in [
        NatRange::addr(N),
        NatRange {
            min_port: 10000,
            max_port: 11999,
            ..NatRange::addr(N)
        },
        NatRange {
            flags: NAT_F_RANDOM_FULLY,
            min_addr: N,
            max_addr: [203, 0, 113, 4],
            ..NatRange::default()
        },
    ] {
        let mut taken = HashSet::new();
        for i in 0..1000u16 {
            // Ten clients, each opening connections from the same ports
            // as the others.
            let client = [10, 0, 0, (i % 10) as u8];
            let orig = Tuple::tcp(client, 40000 + i / 10, S, 80);
            let t = unique_tuple(&orig, &range, Manip::Src, 3, rng.u32(), in_set(&taken))
                .unwrap_or_else(|| panic!("connection {i} in {range:?}"));
            assert!(range.contains_addr(t.saddr));
            assert!(range.contains_port(t.sport));
            assert_eq!((t.daddr, t.dport), (S, 80));
            assert!(taken.insert(t.invert().unwrap()), "{t} twice");
        }
        assert_eq!(taken.len(), 1000);
    }
}

#[test]
fn icmp_identifiers() {
    let orig = Tuple::icmp(C1, S, 7, IcmpHeader::ECHO_REQUEST, 0);
    let range = NatRange::addr(N);
    let none = HashSet::new();
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, in_set(&none));
    assert_eq!(t, Some(Tuple::icmp(N, S, 7, 8, 0)));
    // Identifier 7 taken by another client's ping: another identifier.
    let taken = HashSet::from([Tuple::icmp(S, N, 7, IcmpHeader::ECHO_REPLY, 0)]);
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, in_set(&taken)).unwrap();
    assert_eq!((t.saddr, t.daddr, t.dport), (N, S, orig.dport));
    assert_ne!(t.icmp_id(), 7);
    // A destination translation changes the identifier too.
    let t = unique_tuple(&orig, &range, Manip::Dst, 1, 2, |r| r.sport == 7).unwrap();
    assert_eq!((t.saddr, t.daddr), (C1, N));
    assert_ne!(t.icmp_id(), 7);
    // In a range of identifiers.
    let ids = NatRange {
        min_port: 100,
        max_port: 200,
        ..range
    };
    let mut rng = Rng::new(19);
    for _ in 0..100 {
        let t = unique_tuple(&orig, &ids, Manip::Src, 1, rng.u32(), in_set(&none)).unwrap();
        assert!((100..=200).contains(&t.icmp_id()));
    }
    // Errors have no inverse and make no connection.
    let error = Tuple::icmp(C1, S, 0, IcmpHeader::DEST_UNREACH, 1);
    assert_eq!(
        unique_tuple(&error, &range, Manip::Src, 1, 2, |_| false),
        None
    );
}

#[test]
fn destination_translation_ports() {
    let orig = Tuple::tcp(C1, 40000, N, 80);
    let none = HashSet::new();
    // No port range: the port stays, even random.
    for flags in [0, NAT_F_RANDOM, NAT_F_RANDOM_FULLY] {
        let range = NatRange {
            flags,
            ..NatRange::addr(S)
        };
        let t = unique_tuple(&orig, &range, Manip::Dst, 1, 2, in_set(&none));
        assert_eq!(t, Some(Tuple::tcp(C1, 40000, S, 80)));
        // ... and if that is taken there is nothing else.
        let taken = HashSet::from([Tuple::tcp(S, 80, C1, 40000)]);
        assert_eq!(
            unique_tuple(&orig, &range, Manip::Dst, 1, 2, in_set(&taken)),
            None
        );
    }
    // A port range is walked from its start.
    let range = NatRange {
        min_port: 8000,
        max_port: 8999,
        ..NatRange::addr(S)
    };
    let t = unique_tuple(&orig, &range, Manip::Dst, 1, 12345, in_set(&none));
    assert_eq!(t, Some(Tuple::tcp(C1, 40000, S, 8000)));
    let taken = HashSet::from([Tuple::tcp(S, 8000, C1, 40000)]);
    let t = unique_tuple(&orig, &range, Manip::Dst, 1, 12345, in_set(&taken));
    assert_eq!(t, Some(Tuple::tcp(C1, 40000, S, 8001)));
    // A single port.
    let one = NatRange {
        min_port: 8080,
        max_port: 8080,
        ..NatRange::addr(S)
    };
    let t = unique_tuple(&orig, &one, Manip::Dst, 1, 2, in_set(&none));
    assert_eq!(t, Some(Tuple::tcp(C1, 40000, S, 8080)));
    // Ends given the wrong way round.
    let swapped = NatRange {
        min_port: 8999,
        max_port: 8000,
        ..NatRange::addr(S)
    };
    let t = unique_tuple(&orig, &swapped, Manip::Dst, 1, 2, in_set(&taken));
    assert_eq!(t, Some(Tuple::tcp(C1, 40000, S, 8001)));
}

#[test]
fn random_changes_the_port() {
    let orig = Tuple::tcp(C1, 40000, S, 80);
    let none = HashSet::new();
    let mut rng = Rng::new(20);
    for flags in [NAT_F_RANDOM, NAT_F_RANDOM_FULLY] {
        let range = NatRange {
            flags,
            ..NatRange::addr(N)
        };
        let mut ports = HashSet::new();
        for _ in 0..50 {
            let t = unique_tuple(&orig, &range, Manip::Src, 1, rng.u32(), in_set(&none)).unwrap();
            assert_eq!(t.saddr, N);
            assert!(t.sport >= 1024);
            ports.insert(t.sport);
        }
        assert!(!ports.contains(&40000));
        assert!(ports.len() > 40);
        // Even an original tuple that is in the range is not kept.
        let own = NatRange {
            flags,
            ..NatRange::addr(C1)
        };
        let t = unique_tuple(&orig, &own, Manip::Src, 1, 3, in_set(&none)).unwrap();
        assert_ne!(t.sport, 40000);
    }
}

#[test]
fn low_ports_keep_their_class() {
    let none = HashSet::new();
    for (sport, lo, hi) in [
        (22, 1, 511),
        (511, 1, 511),
        (700, 600, 1023),
        (512, 600, 1023),
    ] {
        let orig = Tuple::tcp(C1, sport, S, 80);
        let taken = HashSet::from([Tuple::tcp(S, 80, N, sport)]);
        for rand in [0, 1, 1000, u32::MAX] {
            let t = unique_tuple(
                &orig,
                &NatRange::addr(N),
                Manip::Src,
                1,
                rand,
                in_set(&taken),
            )
            .unwrap();
            assert!((lo..=hi).contains(&t.sport), "{sport} -> {}", t.sport);
        }
        let t = unique_tuple(&orig, &NatRange::addr(N), Manip::Src, 1, 0, in_set(&none));
        assert_eq!(t.unwrap().sport, sport);
    }
}

#[test]
fn other_protocols_get_an_address_only() {
    let orig = Tuple::other(C1, S, IPPROTO_GRE);
    let none = HashSet::new();
    let range = NatRange {
        min_port: 1000,
        max_port: 2000,
        ..NatRange::addr(N)
    };
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, in_set(&none));
    assert_eq!(t, Some(Tuple::other(N, S, IPPROTO_GRE)));
    let t = unique_tuple(&orig, &range, Manip::Src, 1, 2, |_| true);
    assert_eq!(t, None);
    let t = unique_tuple(&orig, &range, Manip::Dst, 1, 2, in_set(&none));
    assert_eq!(t, Some(Tuple::other(C1, N, IPPROTO_GRE)));
}
