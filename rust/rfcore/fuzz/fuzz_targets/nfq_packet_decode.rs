// SPDX-License-Identifier: GPL-2.0

//! Fuzz the PACKET message codec: `rfcore::nfqueue::packet::decode_packet`
//! on arbitrary bytes must not panic, and a message `encode_packet`
//! builds from arbitrary metadata (with the payload appended, as the
//! kernel module does) must decode to that metadata, with the exact
//! attribute sizes libmnl checks.
//!
//! Run with `cargo +nightly fuzz run nfq_packet_decode` in
//! `rust/rfcore/fuzz`.
//!
//! Input: byte 0 bit 0 clear: the rest is a message to decode. Set: the
//! rest is read as metadata (see `meta`), then the payload.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::nfqueue::consts::{NFQNL_MAX_COPY_RANGE, NF_INET_FORWARD};
use rfcore::nfqueue::packet::{
    decode_packet, encode_packet, encoded_len, HwAddr, PacketCt, PacketMeta, Timestamp,
};

/// Take `N` bytes off the front of `data`.
fn take<'a, const N: usize>(data: &mut &'a [u8]) -> Option<&'a [u8; N]> {
    let (head, rest) = data.split_first_chunk::<N>()?;
    *data = rest;
    Some(head)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, mut data)) = input.split_first() else {
        return;
    };
    if control & 1 == 0 {
        if let Ok((p, next)) = decode_packet(data) {
            assert!(next <= data.len() && next >= 20);
            if let Some(payload) = p.payload {
                assert!(payload.len() < 65536);
            }
        }
        return;
    }

    // Metadata: 60 bytes, then up to 8 bytes of CT attributes, the payload.
    let Some(m) = take::<60>(&mut data) else {
        return;
    };
    let be32 = |at: usize| u32::from_be_bytes([m[at], m[at + 1], m[at + 2], m[at + 3]]);
    let be64 = |at: usize| u64::from_be_bytes(m[at..at + 8].try_into().unwrap());
    let flags = m[0];
    let ct_len = usize::from(m[1] & 7).min(data.len());
    let (ct_attrs, payload) = data.split_at(ct_len);
    let meta = PacketMeta {
        id: be32(2),
        hw_protocol: u16::from_be_bytes([m[6], m[7]]),
        hook: m[8] % 6,
        indev: (flags & 1 != 0).then(|| be32(9)),
        outdev: (flags & 2 != 0).then(|| be32(13)),
        mark: be32(17),
        priority: be32(21),
        hwaddr: (flags & 4 != 0).then(|| HwAddr {
            len: u16::from(m[25] % 9),
            addr: m[26..34].try_into().unwrap(),
        }),
        timestamp: (flags & 8 != 0).then(|| Timestamp {
            sec: be64(34),
            usec: be64(42) % 1_000_000,
        }),
        uid_gid: (flags & 16 != 0).then(|| (be32(50), be32(54))),
        ct: (flags & 32 != 0).then_some(PacketCt {
            attrs: ct_attrs,
            info: u32::from(m[58]),
        }),
        cap_len: if flags & 64 != 0 { be32(2) } else { 0 },
        skb_info: u32::from(m[59] & 7),
    };
    let data_len = payload.len().min(NFQNL_MAX_COPY_RANGE as usize);
    let payload = &payload[..data_len];
    let family = if flags & 128 != 0 { 10 } else { 2 };
    let queue = u16::from_be_bytes([m[2], m[5]]);

    let mut msg = vec![0u8; encoded_len(&meta, data_len as u32)];
    let e = encode_packet(&mut msg, &meta, family, queue, data_len as u32).expect("fits");
    assert_eq!(e.len, msg.len());
    msg.extend_from_slice(payload);
    assert_eq!(e.msg_len as usize, msg.len());
    let (p, _) = decode_packet(&msg).expect("our own message decodes");
    assert_eq!(
        (p.family, p.queue, p.id, p.hook),
        (family, queue, meta.id, meta.hook)
    );
    assert_eq!(p.hw_protocol, meta.hw_protocol);
    assert_eq!((p.indev, p.outdev), (meta.indev, meta.outdev));
    assert_eq!(p.mark, (meta.mark != 0).then_some(meta.mark));
    assert_eq!(p.priority, (meta.priority != 0).then_some(meta.priority));
    assert_eq!(
        p.hwaddr,
        meta.hwaddr.filter(|h| h.len != 0 && meta.indev.is_some())
    );
    assert_eq!(
        p.timestamp,
        meta.timestamp.filter(|_| meta.hook <= NF_INET_FORWARD)
    );
    assert_eq!(p.uid.zip(p.gid), meta.uid_gid);
    assert_eq!(p.ct, meta.ct.map(|c| c.attrs));
    assert_eq!(p.ct_info, meta.ct.map(|c| c.info));
    assert_eq!(
        p.cap_len,
        (meta.cap_len > data_len as u32).then_some(meta.cap_len)
    );
    assert_eq!(p.skb_info, (meta.skb_info != 0).then_some(meta.skb_info));
    assert_eq!(p.payload, (data_len != 0).then_some(payload));
    // Too small a buffer fails without writing past it.
    let mut small = vec![0u8; msg.len().min(e.len).saturating_sub(1)];
    assert!(encode_packet(&mut small, &meta, family, queue, data_len as u32).is_err());
});
