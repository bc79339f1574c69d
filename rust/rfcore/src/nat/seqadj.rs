// SPDX-License-Identifier: GPL-2.0

//! What a NAT helper does to a TCP connection when it rewrites payload
//! with text of another length (`nf_nat_helper.c`,
//! `nf_conntrack_seqadj.c`).
//!
//! The FTP helper replaces the address in `PORT 10,0,1,2,156,64` with the
//! router's, which may be longer or shorter. The packet's lengths and
//! checksums are then fixed ([`fix_after_resize`]), and from then on the
//! two ends number the bytes of that direction differently: every later
//! segment in that direction has its sequence number moved by the
//! difference, and every segment the other way its acknowledgement number
//! (and SACK blocks) moved back ([`SeqAdj`], [`adjust_tcp`]).

use super::checksum::{self, IPV4_CHECK, TCP_CHECK};
use super::mangle::MangleError;

/// The sequence adjustment of one direction of a connection (`struct
/// nf_ct_seqadj`): segments starting after `correction_pos` are moved by
/// `offset_after`, earlier ones (retransmissions) by `offset_before`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqAdj {
    /// The sequence number of the last segment whose length changed.
    pub correction_pos: u32,
    /// The offset of segments up to it.
    pub offset_before: i32,
    /// The offset of segments after it.
    pub offset_after: i32,
}

/// Whether sequence number `a` comes after `b` (modulo 2^32).
fn after(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

impl SeqAdj {
    /// Records that the segment starting at `seq` changed length by
    /// `delta` (`nf_ct_seqadj_set`). A retransmission of a segment already
    /// accounted for changes nothing.
    pub fn record(&mut self, seq: u32, delta: i32) {
        if delta == 0 {
            return;
        }
        if self.offset_before == self.offset_after || after(seq, self.correction_pos) {
            self.correction_pos = seq;
            self.offset_before = self.offset_after;
            self.offset_after = self.offset_after.wrapping_add(delta);
        }
    }

    /// The offset of a segment starting at `seq` (`nf_ct_seq_offset`).
    pub fn offset(&self, seq: u32) -> i32 {
        if after(seq, self.correction_pos) {
            self.offset_after
        } else {
            self.offset_before
        }
    }

    /// An acknowledgement (or SACK edge) `ack` sent the other way, as the
    /// sender of this direction numbers it.
    pub fn unadjust_ack(&self, ack: u32) -> u32 {
        let off = if after(
            ack.wrapping_sub(self.offset_before as u32),
            self.correction_pos,
        ) {
            self.offset_after
        } else {
            self.offset_before
        };
        ack.wrapping_sub(off as u32)
    }
}

/// The IPv4 header length of `buf`, checked against it.
fn ihl(buf: &[u8]) -> Result<usize, MangleError> {
    let first = *buf.first().ok_or(MangleError::Truncated)?;
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 {
        return Err(MangleError::Malformed);
    }
    if buf.len() < ihl {
        return Err(MangleError::Truncated);
    }
    Ok(ihl)
}

fn get_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(b) = buf.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    if let Some(b) = buf.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// After a helper replaced part of the TCP payload of the packet `buf`
/// (the whole packet, from its IPv4 header) with text of another length:
/// sets the IP total length to `buf.len()` and recomputes the IP header
/// checksum and the TCP checksum (`nf_nat_mangle_tcp_packet`). With
/// `partial` (`CHECKSUM_PARTIAL`) the TCP field gets the pseudo-header sum
/// for the new length, the rest being summed on output.
///
/// # Errors
///
/// A buffer that is not an IPv4 packet with a TCP header, or longer than
/// 65535 bytes.
pub fn fix_after_resize(buf: &mut [u8], partial: bool) -> Result<(), MangleError> {
    let ihl = ihl(buf)?;
    let total = u16::try_from(buf.len()).map_err(|_| MangleError::Malformed)?;
    if buf.get(9) != Some(&super::super::packet::IPPROTO_TCP) || buf.len() < ihl + 20 {
        return Err(MangleError::Malformed);
    }
    put_u16(buf, 2, total);
    let check = checksum::ipv4_header_checksum(buf.get(..ihl).unwrap_or(&[]));
    put_u16(buf, IPV4_CHECK, check);
    let addr = |at: usize| -> [u8; 4] {
        let mut a = [0u8; 4];
        if let Some(b) = buf.get(at..at + 4) {
            a.copy_from_slice(b);
        }
        a
    };
    let (saddr, daddr) = (addr(12), addr(16));
    let seg_len = total - ihl as u16;
    let check = if partial {
        checksum::fold(checksum::pseudo_header_sum(
            saddr,
            daddr,
            super::super::packet::IPPROTO_TCP,
            seg_len,
        ))
    } else {
        let segment = buf.get(ihl..).unwrap_or(&[]);
        checksum::tcp_udp_checksum(saddr, daddr, super::super::packet::IPPROTO_TCP, segment)
    };
    put_u16(buf, ihl + TCP_CHECK, check);
    Ok(())
}

/// Moves the sequence number of the TCP segment `buf` (its IPv4 header and
/// its whole TCP header, options included) by `this`, the adjustment of
/// its direction, and its acknowledgement number and SACK blocks back by
/// `other`, the other direction's (`nf_ct_seq_adjust`), updating the TCP
/// checksum unless `partial`.
///
/// # Errors
///
/// A buffer that is not an IPv4 packet with a whole TCP header.
pub fn adjust_tcp(
    buf: &mut [u8],
    this: &SeqAdj,
    other: &SeqAdj,
    partial: bool,
) -> Result<(), MangleError> {
    let ip = ihl(buf)?;
    if buf.get(9) != Some(&super::super::packet::IPPROTO_TCP) {
        return Err(MangleError::Malformed);
    }
    let doff = usize::from(buf.get(ip + 12).ok_or(MangleError::Truncated)? >> 4) * 4;
    if doff < 20 || buf.len() < ip + doff {
        return Err(MangleError::Truncated);
    }
    let mut check = u16::from_be_bytes([
        *buf.get(ip + TCP_CHECK).ok_or(MangleError::Truncated)?,
        *buf.get(ip + TCP_CHECK + 1).ok_or(MangleError::Truncated)?,
    ]);
    let mut set = |buf: &mut [u8], at: usize, new: u32| {
        if let Some(old) = get_u32(buf, at) {
            if !partial {
                check = checksum::replace4(check, old, new);
            }
            put_u32(buf, at, new);
        }
    };
    let seq = get_u32(buf, ip + 4).ok_or(MangleError::Truncated)?;
    set(buf, ip + 4, seq.wrapping_add(this.offset(seq) as u32));
    let flags = *buf.get(ip + 13).ok_or(MangleError::Truncated)?;
    if flags & super::super::packet::TcpHeader::ACK != 0 {
        let ack = get_u32(buf, ip + 8).ok_or(MangleError::Truncated)?;
        set(buf, ip + 8, other.unadjust_ack(ack));
        // SACK blocks (kind 5) acknowledge in the same numbering.
        let mut at = ip + 20;
        while at < ip + doff {
            match buf.get(at).copied() {
                Some(0) | None => break,
                Some(1) => at += 1,
                Some(kind) => {
                    let len = usize::from(*buf.get(at + 1).ok_or(MangleError::Truncated)?);
                    if len < 2 || at + len > ip + doff {
                        break;
                    }
                    if kind == 5 {
                        let mut edge = at + 2;
                        while edge + 4 <= at + len {
                            if let Some(v) = get_u32(buf, edge) {
                                set(buf, edge, other.unadjust_ack(v));
                            }
                            edge += 4;
                        }
                    }
                    at += len;
                }
            }
        }
    }
    put_u16(buf, ip + TCP_CHECK, check);
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    /// An IPv4/TCP packet 10.0.1.2:40000 -> 10.0.2.2:21 with `flags`,
    /// `seq`, `ack`, options `opts` and payload, checksums valid.
    fn segment(seq: u32, ack: u32, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
        let doff = 20 + opts.len();
        let total = 20 + doff + payload.len();
        let mut p = std::vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&[10, 0, 1, 2]);
        p[16..20].copy_from_slice(&[10, 0, 2, 2]);
        p[20..22].copy_from_slice(&40000u16.to_be_bytes());
        p[22..24].copy_from_slice(&21u16.to_be_bytes());
        p[24..28].copy_from_slice(&seq.to_be_bytes());
        p[28..32].copy_from_slice(&ack.to_be_bytes());
        p[32] = (doff as u8 / 4) << 4;
        p[33] = flags;
        p[34..36].copy_from_slice(&1000u16.to_be_bytes());
        p[40..40 + opts.len()].copy_from_slice(opts);
        p[20 + doff..].copy_from_slice(payload);
        let c = checksum::ipv4_header_checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        let c = checksum::tcp_udp_checksum([10, 0, 1, 2], [10, 0, 2, 2], 6, &p[20..]);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn valid(p: &[u8]) -> bool {
        checksum::ipv4_header_checksum(&p[..20]) == u16::from_be_bytes([p[10], p[11]])
            && checksum::tcp_udp_checksum([10, 0, 1, 2], [10, 0, 2, 2], 6, &p[20..])
                == u16::from_be_bytes([p[36], p[37]])
    }

    #[test]
    fn record_and_offsets() {
        let mut a = SeqAdj::default();
        a.record(1000, 3);
        assert_eq!((a.offset(1000), a.offset(1001), a.offset(999)), (0, 3, 0));
        // A retransmission of the same segment changes nothing.
        a.record(1000, 3);
        assert_eq!(a.offset_after, 3);
        // A later one accumulates.
        a.record(2000, -1);
        assert_eq!((a.offset(1500), a.offset(2001)), (3, 2));
        // Acknowledgements come back in the peer's numbering.
        assert_eq!(a.unadjust_ack(2010), 2008);
        assert_eq!(a.unadjust_ack(2003), 2000);
        assert_eq!(a.unadjust_ack(1503), 1500);
        // Wrapping around 2^32.
        let mut w = SeqAdj::default();
        w.record(u32::MAX - 1, 5);
        assert_eq!(w.offset(2), 5);
        assert_eq!(w.unadjust_ack(7), 2);
    }

    #[test]
    fn adjust_keeps_checksums_valid() {
        let mut this = SeqAdj::default();
        this.record(100, 4);
        let mut other = SeqAdj::default();
        other.record(5000, -2);
        // SACK-permitted-free options: NOP NOP SACK(one block).
        let mut opts = std::vec![1, 1, 5, 10];
        opts.extend_from_slice(&6000u32.to_be_bytes());
        opts.extend_from_slice(&6100u32.to_be_bytes());
        let mut p = segment(200, 6000, 0x10, &opts, b"data");
        assert!(valid(&p));
        adjust_tcp(&mut p, &this, &other, false).unwrap();
        assert!(valid(&p));
        assert_eq!(get_u32(&p, 24), Some(204));
        assert_eq!(get_u32(&p, 28), Some(6002));
        assert_eq!(get_u32(&p, 44), Some(6002));
        assert_eq!(get_u32(&p, 48), Some(6102));
        // Without ACK the acknowledgement field is left alone.
        let mut p = segment(50, 6000, 0x02, &[], b"");
        adjust_tcp(&mut p, &this, &other, false).unwrap();
        assert!(valid(&p));
        assert_eq!((get_u32(&p, 24), get_u32(&p, 28)), (Some(50), Some(6000)));
    }

    #[test]
    fn resize_fixes_lengths_and_checksums() {
        let p = segment(1, 1, 0x18, &[], b"PORT 10,0,1,2,156,64\r\n");
        // Replace "10,0,1,2" with "192,168,100,200".
        let text = b"PORT 10,0,1,2,156,64\r\n";
        let at = 40 + 5;
        let mut q = p[..at].to_vec();
        q.extend_from_slice(b"192,168,100,200");
        q.extend_from_slice(&text[5 + 8..]);
        fix_after_resize(&mut q, false).unwrap();
        assert_eq!(u16::from_be_bytes([q[2], q[3]]) as usize, q.len());
        assert!(valid(&q));
        // CHECKSUM_PARTIAL: the field is the pseudo-header sum.
        let mut r = q.clone();
        fix_after_resize(&mut r, true).unwrap();
        let len = (r.len() - 20) as u16;
        let want = checksum::fold(checksum::pseudo_header_sum(
            [10, 0, 1, 2],
            [10, 0, 2, 2],
            6,
            len,
        ));
        assert_eq!(u16::from_be_bytes([r[36], r[37]]), want);
        // Not TCP, or truncated: an error, no panic.
        for n in 0..q.len().min(40) {
            let mut t = q[..n].to_vec();
            assert!(fix_after_resize(&mut t, false).is_err() || n >= 40);
            let _ = adjust_tcp(&mut t, &SeqAdj::default(), &SeqAdj::default(), false);
        }
    }
}
