// SPDX-License-Identifier: GPL-2.0

//! The PACKET message: golden bytes, round trips, the attribute sizes
//! libmnl insists on, and the helpers.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::super::config::CopyMode;
use super::super::consts::*;
use super::super::nla::Attrs;
use super::super::packet::{
    copy_len, csum_verify, decode_packet, encode_packet, encoded_len, hw_protocol,
    needs_checksum_help, set_packet_id, skb_info, CopyLen, HwAddr, Packet, PacketCt, PacketError,
    PacketMeta, Timestamp, ID_OFFSET, MAX_FIXED_LEN,
};
use super::{attr, be32, Rng};

/// `CTA_MARK = 42`, the connection attributes of the golden message.
const CT_ATTRS: [u8; 8] = [8, 0, 8, 0, 0, 0, 0, 42];

/// The metadata of the golden message: every attribute.
fn golden_meta() -> PacketMeta<'static> {
    PacketMeta {
        id: 0x0102_0304,
        hw_protocol: ETH_P_IP,
        hook: NF_INET_FORWARD,
        indev: Some(3),
        outdev: Some(5),
        mark: 0xdead_beef,
        priority: 6,
        hwaddr: Some(HwAddr {
            len: 6,
            addr: [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0],
        }),
        timestamp: Some(Timestamp {
            sec: 1_700_000_000,
            usec: 123_456,
        }),
        uid_gid: Some((1000, 100)),
        ct: Some(PacketCt {
            attrs: &CT_ATTRS,
            info: 2,
        }),
        cap_len: 1500,
        skb_info: NFQA_SKB_CSUM_NOTVERIFIED | NFQA_SKB_GSO,
    }
}

/// The golden payload: 5 bytes, so that the message ends unaligned.
const GOLDEN_PAYLOAD: [u8; 5] = [0x45, 0x00, 0x00, 0x14, 0xaa];

/// The message laid out by a C program with libmnl (`mnl_attr_put` of
/// the uapi structs in `nfqnl_build_packet_message`'s order, the payload
/// header by hand, `nlmsg_len` without the last padding) for
/// [`golden_meta`], family 2, queue 258, on a little-endian host. The
/// padding byte after `NFQA_PACKET_HDR` (offset 31) is 0, as the
/// kernel's `__nla_reserve` zeroes it. libnetfilter_queue's
/// `nfq_nlmsg_parse` under `mnl_cb_run(buf, len, 0, portid)` accepts it.
const GOLDEN: [u8; 161] = [
    0xa1, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x02, 0x0b, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x00, 0x02, 0x00,
    0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x08, 0x00, 0x03, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x08, 0x00, 0x15, 0x00, 0x00, 0x00, 0x00, 0x06,
    0x10, 0x00, 0x09, 0x00, 0x00, 0x06, 0x00, 0x00, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00,
    0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0xe2, 0x40, 0x08, 0x00, 0x10, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x08, 0x00, 0x11, 0x00,
    0x00, 0x00, 0x00, 0x64, 0x0c, 0x00, 0x0b, 0x80, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x2a,
    0x08, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x05, 0xdc,
    0x08, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x06, 0x09, 0x00, 0x0a, 0x00, 0x45, 0x00, 0x00, 0x14,
    0xaa,
];

/// The smallest message, from the same program: IPv6, LOCAL_OUT, copy
/// mode meta, an output device only.
const GOLDEN_MINIMAL: [u8; 40] = [
    0x28, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x03, 0x00,
    0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x02,
];

/// Encode `meta` and append `payload`, as the kernel module does.
fn message(meta: &PacketMeta<'_>, family: u8, queue: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0xeeu8; encoded_len(meta, payload.len() as u32)];
    let e = encode_packet(&mut buf, meta, family, queue, payload.len() as u32).unwrap();
    assert_eq!(e.len, buf.len());
    assert_eq!(e.id_offset, ID_OFFSET);
    buf.extend_from_slice(payload);
    assert_eq!(e.msg_len as usize, buf.len());
    buf
}

#[cfg(target_endian = "little")]
#[test]
fn golden_full_message() {
    let msg = message(&golden_meta(), NFPROTO_IPV4, 258, &GOLDEN_PAYLOAD);
    assert_eq!(msg, GOLDEN);
}

#[cfg(target_endian = "little")]
#[test]
fn golden_minimal_message() {
    let meta = PacketMeta {
        id: 1,
        hw_protocol: ETH_P_IPV6,
        hook: NF_INET_LOCAL_OUT,
        outdev: Some(2),
        ..PacketMeta::default()
    };
    assert_eq!(message(&meta, NFPROTO_IPV6, 0, &[]), GOLDEN_MINIMAL);
}

#[test]
fn golden_decodes() {
    let msg = message(&golden_meta(), 2, 258, &GOLDEN_PAYLOAD);
    let (p, next) = decode_packet(&msg).unwrap();
    assert_eq!(next, 161);
    assert_eq!(
        p,
        Packet {
            family: 2,
            queue: 258,
            id: 0x0102_0304,
            hw_protocol: 0x0800,
            hook: 2,
            indev: Some(3),
            outdev: Some(5),
            mark: Some(0xdead_beef),
            priority: Some(6),
            hwaddr: golden_meta().hwaddr,
            timestamp: golden_meta().timestamp,
            uid: Some(1000),
            gid: Some(100),
            ct: Some(&CT_ATTRS),
            ct_info: Some(2),
            cap_len: Some(1500),
            skb_info: Some(6),
            payload: Some(&GOLDEN_PAYLOAD),
            ..Packet::default()
        }
    );
}

/// The order in which `nfqnl_build_packet_message` puts attributes.
const ORDER: [u16; 14] = [
    NFQA_PACKET_HDR,
    NFQA_IFINDEX_INDEV,
    NFQA_IFINDEX_OUTDEV,
    NFQA_MARK,
    NFQA_PRIORITY,
    NFQA_HWADDR,
    NFQA_TIMESTAMP,
    NFQA_UID,
    NFQA_GID,
    NFQA_CT,
    NFQA_CT_INFO,
    NFQA_CAP_LEN,
    NFQA_SKB_INFO,
    NFQA_PAYLOAD,
];

/// Every attribute of a message has the exact size libmnl validates
/// (`nfq_pkt_parse_attr_cb`); the payload comes last, unpadded.
fn assert_libmnl_sizes(msg: &[u8]) {
    let attrs = &msg[20..];
    let mut last = 0;
    for a in Attrs::new(attrs) {
        let a = a.unwrap();
        let want = match a.kind() {
            NFQA_MARK
            | NFQA_IFINDEX_INDEV
            | NFQA_IFINDEX_OUTDEV
            | NFQA_IFINDEX_PHYSINDEV
            | NFQA_IFINDEX_PHYSOUTDEV
            | NFQA_CAP_LEN
            | NFQA_SKB_INFO
            | NFQA_UID
            | NFQA_GID
            | NFQA_CT_INFO
            | NFQA_PRIORITY => Some(4),
            NFQA_TIMESTAMP => Some(16),
            NFQA_HWADDR => Some(12),
            NFQA_PACKET_HDR => Some(7),
            _ => None,
        };
        if let Some(n) = want {
            assert_eq!(a.payload().len(), n, "type {}", a.kind());
        }
        // In nfqnl_build_packet_message's order.
        let at = ORDER.iter().position(|&k| k == a.kind()).unwrap();
        assert!(at >= last, "type {} out of order", a.kind());
        last = at + 1;
    }
}

#[test]
fn strict_sizes_and_round_trip_of_random_metadata() {
    let mut rng = Rng::new(3);
    for _ in 0..3000 {
        let pick = |rng: &mut Rng| rng.below(2) == 0;
        let ct_attrs = be32(CTA_MARK, rng.u32());
        let meta = PacketMeta {
            id: rng.u32(),
            hw_protocol: rng.u32() as u16,
            hook: rng.below(5) as u8,
            indev: pick(&mut rng).then(|| rng.u32()),
            outdev: pick(&mut rng).then(|| rng.u32()),
            mark: if pick(&mut rng) { rng.u32() } else { 0 },
            priority: if pick(&mut rng) { rng.u32() } else { 0 },
            hwaddr: pick(&mut rng).then(|| HwAddr {
                len: rng.below(9) as u16,
                addr: [rng.u8(), 1, 2, 3, 4, 5, 6, 7],
            }),
            timestamp: pick(&mut rng).then(|| Timestamp {
                sec: rng.next(),
                usec: rng.below(1_000_000) as u64,
            }),
            uid_gid: pick(&mut rng).then(|| (rng.u32(), rng.u32())),
            ct: pick(&mut rng).then_some(PacketCt {
                attrs: &ct_attrs,
                info: rng.below(8) as u32,
            }),
            cap_len: if pick(&mut rng) { rng.u32() } else { 0 },
            skb_info: rng.below(8) as u32,
        };
        let data_len = match rng.below(4) {
            0 => 0,
            1 => rng.below(8),
            2 => rng.below(2000),
            _ => 65531,
        };
        let payload = rng.bytes(data_len);
        let family = if pick(&mut rng) { 2 } else { 10 };
        let queue = rng.u32() as u16;
        let msg = message(&meta, family, queue, &payload);
        assert_libmnl_sizes(&msg);
        let (p, next) = decode_packet(&msg).unwrap();
        assert_eq!(next, msg.len().next_multiple_of(4).min(msg.len()));
        assert_eq!((p.family, p.queue, p.id), (family, queue, meta.id));
        assert_eq!((p.hw_protocol, p.hook), (meta.hw_protocol, meta.hook));
        assert_eq!((p.indev, p.outdev), (meta.indev, meta.outdev));
        assert_eq!(p.mark, (meta.mark != 0).then_some(meta.mark));
        assert_eq!(p.priority, (meta.priority != 0).then_some(meta.priority));
        let hw = meta.hwaddr.filter(|h| h.len != 0 && meta.indev.is_some());
        assert_eq!(p.hwaddr, hw);
        let ts = meta.timestamp.filter(|_| meta.hook <= NF_INET_FORWARD);
        assert_eq!(p.timestamp, ts);
        assert_eq!(p.uid.zip(p.gid), meta.uid_gid);
        assert_eq!(p.ct, meta.ct.map(|c| c.attrs));
        assert_eq!(p.ct_info, meta.ct.map(|c| c.info));
        assert_eq!(
            p.cap_len,
            (meta.cap_len > data_len as u32).then_some(meta.cap_len)
        );
        assert_eq!(p.skb_info, (meta.skb_info != 0).then_some(meta.skb_info));
        assert_eq!(p.payload, (data_len != 0).then_some(&payload[..]));
        assert!(msg.len() - data_len <= MAX_FIXED_LEN + 4 + ct_attrs.len() + 8);
    }
}

#[test]
fn small_buffers_fail_cleanly() {
    let meta = golden_meta();
    let need = encoded_len(&meta, 5);
    assert_eq!(need, 156);
    for size in 0..need {
        let mut buf = vec![0u8; size];
        assert!(encode_packet(&mut buf, &meta, 2, 0, 5).is_err(), "{size}");
    }
    let mut buf = vec![0u8; need];
    assert!(encode_packet(&mut buf, &meta, 2, 0, 5).is_ok());
    // The payload cannot be longer than an attribute holds.
    let mut buf = vec![0u8; 1000];
    assert!(encode_packet(&mut buf, &meta, 2, 0, 65531).is_ok());
    assert!(encode_packet(&mut buf, &meta, 2, 0, 65532).is_err());
}

#[test]
fn id_is_patched_in_place() {
    let mut msg = message(&golden_meta(), 2, 0, &[]);
    assert!(set_packet_id(&mut msg, ID_OFFSET, 0xa0b0_c0d0));
    assert_eq!(decode_packet(&msg).unwrap().0.id, 0xa0b0_c0d0);
    assert!(!set_packet_id(&mut msg, usize::MAX - 1, 1));
    assert!(!set_packet_id(&mut msg[..26], ID_OFFSET, 1));
}

#[test]
fn conditions_of_the_c_function() {
    let base = PacketMeta {
        hw_protocol: ETH_P_IP,
        hook: NF_INET_LOCAL_OUT,
        ..PacketMeta::default()
    };
    let kinds = |meta: &PacketMeta<'_>, data_len: usize| -> Vec<u16> {
        let msg = message(meta, 2, 0, &vec![0; data_len]);
        Attrs::new(&msg[20..]).map(|a| a.unwrap().kind()).collect()
    };
    assert_eq!(kinds(&base, 0), [NFQA_PACKET_HDR]);
    // A timestamp only up to FORWARD.
    let ts = Some(Timestamp { sec: 1, usec: 2 });
    for hook in 0..5u8 {
        let m = PacketMeta {
            hook,
            timestamp: ts,
            ..base
        };
        assert_eq!(kinds(&m, 0).contains(&NFQA_TIMESTAMP), hook <= 2, "{hook}");
    }
    // A hardware address needs an input device and a length.
    let hw = Some(HwAddr {
        len: 6,
        addr: [1; 8],
    });
    let m = PacketMeta { hwaddr: hw, ..base };
    assert!(!kinds(&m, 0).contains(&NFQA_HWADDR));
    let m = PacketMeta {
        hwaddr: hw,
        indev: Some(1),
        ..base
    };
    assert!(kinds(&m, 0).contains(&NFQA_HWADDR));
    let m = PacketMeta {
        hwaddr: Some(HwAddr {
            len: 0,
            addr: [1; 8],
        }),
        indev: Some(1),
        ..base
    };
    assert!(!kinds(&m, 0).contains(&NFQA_HWADDR));
    // CAP_LEN only when the payload is cut short.
    let m = PacketMeta {
        cap_len: 100,
        ..base
    };
    assert_eq!(kinds(&m, 100), [NFQA_PACKET_HDR, NFQA_PAYLOAD]);
    assert_eq!(kinds(&m, 99), [NFQA_PACKET_HDR, NFQA_CAP_LEN, NFQA_PAYLOAD]);
}

#[test]
fn decode_refuses_what_libmnl_refuses() {
    let good = message(&golden_meta(), 2, 0, &GOLDEN_PAYLOAD);
    assert!(decode_packet(&good).is_ok());
    // Replace one attribute's payload size.
    let with = |extra: Vec<u8>| {
        let mut m = good[..20].to_vec();
        m.extend(attr(NFQA_PACKET_HDR, &[0, 0, 0, 1, 8, 0, 1]));
        m.extend(extra);
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        decode_packet(&m).map(|(p, _)| p.id)
    };
    for (kind, n) in [
        (NFQA_MARK, 5),
        (NFQA_MARK, 3),
        (NFQA_IFINDEX_INDEV, 8),
        (NFQA_CAP_LEN, 2),
        (NFQA_SKB_INFO, 0),
        (NFQA_UID, 6),
        (NFQA_CT_INFO, 1),
        (NFQA_HWADDR, 16),
        (NFQA_HWADDR, 8),
        (NFQA_TIMESTAMP, 8),
        (NFQA_TIMESTAMP, 24),
        (NFQA_PACKET_HDR, 8),
    ] {
        assert_eq!(
            with(attr(kind, &vec![0; n])),
            Err(PacketError::BadSize(kind)),
            "{kind} {n}"
        );
    }
    // Unknown types are skipped, known ones without checks pass.
    let id = with(
        [
            attr(200, &[1, 2, 3]),
            attr(NFQA_VLAN, &[]),
            attr(NFQA_L2HDR, &[1]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(id, 1);
    // No header, not a packet, truncated.
    let mut m = good[..20].to_vec();
    m.extend(be32(NFQA_MARK, 1));
    m[..4].copy_from_slice(&28u32.to_ne_bytes());
    assert_eq!(decode_packet(&m).map(|x| x.0), Err(PacketError::NoHeader));
    let mut m = good.clone();
    m[4..6].copy_from_slice(&0x0301u16.to_ne_bytes());
    assert_eq!(decode_packet(&m).map(|x| x.0), Err(PacketError::NotPacket));
    assert_eq!(
        decode_packet(&good[..good.len() - 1]).map(|x| x.0),
        Err(PacketError::Truncated)
    );
    assert_eq!(
        decode_packet(&good[..19]).map(|x| x.0),
        Err(PacketError::Truncated)
    );
    // A broken attribute header.
    let mut m = good[..20].to_vec();
    m.extend([2, 0, 1, 0]);
    m[..4].copy_from_slice(&24u32.to_ne_bytes());
    assert!(matches!(decode_packet(&m), Err(PacketError::Malformed(_))));
}

#[test]
fn several_messages_in_one_read() {
    let mut buf = message(&golden_meta(), 2, 1, &GOLDEN_PAYLOAD);
    // The kernel sends separate messages; a read may hold several, each
    // aligned.
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
    let second = PacketMeta {
        id: 99,
        ..golden_meta()
    };
    buf.extend(message(&second, 2, 1, &[1, 2, 3, 4]));
    let (p, next) = decode_packet(&buf).unwrap();
    assert_eq!((p.id, next), (0x0102_0304, 164));
    let (p, _) = decode_packet(&buf[next..]).unwrap();
    assert_eq!(p.id, 99);
}

#[test]
fn copy_lengths() {
    let none = CopyLen::default();
    assert_eq!(copy_len(CopyMode::None, 0, 1500, 1500, true), none);
    assert_eq!(copy_len(CopyMode::Meta, 0, 1500, 1500, true), none);
    assert_eq!(
        copy_len(CopyMode::Packet, 65531, 1500, 100, true),
        CopyLen {
            data_len: 1500,
            cap_len: 1500
        }
    );
    assert_eq!(
        copy_len(CopyMode::Packet, 100, 1500, 1500, true),
        CopyLen {
            data_len: 100,
            cap_len: 1500
        }
    );
    // Unreadable fragments: the linear part only.
    assert_eq!(
        copy_len(CopyMode::Packet, 65531, 9000, 128, false),
        CopyLen {
            data_len: 128,
            cap_len: 9000
        }
    );
    // A GSO packet longer than the largest range.
    assert_eq!(
        copy_len(CopyMode::Packet, 65531, 100_000, 200, true).data_len,
        65531
    );
}

#[test]
fn skb_info_and_checksum_flags() {
    // csum_verify: received, or POSTROUTING without a socket, and not
    // CHECKSUM_UNNECESSARY.
    for hook in 0..=2 {
        assert!(csum_verify(hook, true, false));
        assert!(!csum_verify(hook, false, true));
    }
    assert!(!csum_verify(NF_INET_LOCAL_OUT, false, false));
    assert!(csum_verify(NF_INET_POST_ROUTING, false, false));
    assert!(!csum_verify(NF_INET_POST_ROUTING, true, false));
    assert_eq!(skb_info(false, false, false), 0);
    assert_eq!(skb_info(true, true, false), NFQA_SKB_CSUMNOTREADY);
    assert_eq!(skb_info(false, true, false), NFQA_SKB_CSUM_NOTVERIFIED);
    assert_eq!(
        skb_info(false, true, true),
        NFQA_SKB_CSUM_NOTVERIFIED | NFQA_SKB_GSO
    );
    assert_eq!(
        skb_info(true, false, true),
        NFQA_SKB_CSUMNOTREADY | NFQA_SKB_GSO
    );
    assert!(needs_checksum_help(CopyMode::Packet, 0, true));
    assert!(!needs_checksum_help(CopyMode::Packet, NFQA_CFG_F_GSO, true));
    assert!(!needs_checksum_help(CopyMode::Meta, 0, true));
    assert!(!needs_checksum_help(CopyMode::Packet, 0, false));
    assert_eq!(hw_protocol(NFPROTO_IPV4), Some(0x0800));
    assert_eq!(hw_protocol(NFPROTO_IPV6), Some(0x86dd));
    assert_eq!(hw_protocol(7), None);
}

#[test]
fn timestamps() {
    assert_eq!(
        Timestamp::from_ns(1_700_000_000_123_456_789),
        Timestamp {
            sec: 1_700_000_000,
            usec: 123_456
        }
    );
    assert_eq!(Timestamp::from_ns(0), Timestamp { sec: 0, usec: 0 });
    // ns_to_timespec64 floors: -1 ns is -1 s + 999999999 ns.
    assert_eq!(
        Timestamp::from_ns(-1),
        Timestamp {
            sec: u64::MAX,
            usec: 999_999
        }
    );
    let _ = Timestamp::from_ns(i64::MIN);
    let t = Timestamp { sec: 1, usec: 2 };
    assert_eq!(
        t.to_bytes(),
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    );
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng::new(5);
    let good = message(&golden_meta(), 2, 0, &GOLDEN_PAYLOAD);
    for _ in 0..20_000 {
        let mut m = good.clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(m.len());
            m[at] = rng.u8();
        }
        m.truncate(rng.below(m.len() + 1));
        let _ = decode_packet(&m);
        let n = rng.below(80);
        let _ = decode_packet(&rng.bytes(n));
    }
}

#[test]
fn max_fixed_len_is_every_attribute_but_the_connection() {
    let meta = PacketMeta {
        ct: None,
        ..golden_meta()
    };
    assert_eq!(encoded_len(&meta, 1), MAX_FIXED_LEN);
    assert_eq!(MAX_FIXED_LEN, 136);
    let with_ct = encoded_len(&golden_meta(), 1);
    assert_eq!(with_ct, MAX_FIXED_LEN + 4 + CT_ATTRS.len() + 8);
}
