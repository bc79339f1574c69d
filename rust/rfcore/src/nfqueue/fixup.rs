// SPDX-License-Identifier: GPL-2.0

//! The lengths and checksums of a packet whose payload a listener
//! replaced.
//!
//! Upstream's `nfqnl_mangle` copies the new bytes into the packet, sets
//! `CHECKSUM_NONE` and fixes nothing: a listener that changes the length
//! or the content must fix the IP total length and every checksum itself
//! (libnetfilter_queue has helpers for it), or the stack drops the packet.
//! rustfilter fixes them after the copy, as the queue's issue asks: an
//! extension that a listener which already fixes them cannot see, because
//! a packet whose lengths and checksums are right comes out byte for byte
//! the same. Each checksum is recomputed only if it does not verify, so a
//! correct checksum is kept even in its other one's-complement form.
//!
//! For IPv4 ([`fixup_ipv4`]):
//!
//! - the total length becomes the packet's length;
//! - the header checksum is recomputed;
//! - if the packet is not a fragment: TCP's checksum, UDP's length and
//!   checksum (a UDP checksum of 0 means "none" and stays 0), and ICMP's
//!   checksum. A fragment (first or not) keeps its transport header as it
//!   is: a first fragment's checksum covers bytes in the other fragments.
//!
//! For IPv6 ([`fixup_ipv6`]): the payload length, and the TCP, UDP
//! (length too; 0 is not allowed over IPv6) and ICMPv6 checksums when the
//! transport header follows the fixed header or hop-by-hop and
//! destination options. Fragments, routing headers (whose final
//! destination the pseudo-header would need) and anything else are left
//! alone. Other protocols (SCTP's CRC32c, GRE...) are never touched.
//!
//! The arithmetic is the NAT core's ([`checksum`]).

use super::consts::{NFPROTO_IPV4, NFPROTO_IPV6};
use super::nat::checksum::{
    self, add, finish, pseudo_header_sum, sum, sum_without, verifies, CSUM_MANGLED_0, ICMP_CHECK,
    IPV4_CHECK, TCP_CHECK, UDP_CHECK,
};

/// Protocol number of TCP.
const IPPROTO_TCP: u8 = 6;
/// Protocol number of UDP.
const IPPROTO_UDP: u8 = 17;
/// Protocol number of ICMP.
const IPPROTO_ICMP: u8 = 1;
/// Protocol number of ICMPv6.
const IPPROTO_ICMPV6: u8 = 58;
/// IPv6 hop-by-hop options header.
const IPPROTO_HOPOPTS: u8 = 0;
/// IPv6 destination options header.
const IPPROTO_DSTOPTS: u8 = 60;
/// Offset of the checksum field in an ICMPv6 header.
const ICMPV6_CHECK: usize = 2;
/// Length of an IPv4 header without options.
const IPV4_MIN_HEADER: usize = 20;
/// Length of the IPv6 header.
const IPV6_HEADER: usize = 40;
/// Length of the UDP header.
const UDP_HEADER: usize = 8;

/// Why a packet was left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixupError {
    /// Shorter than its IP header.
    Truncated,
    /// Not the IP version of its protocol family, an IPv4 header length
    /// below 20, or a family other than IPv4 and IPv6.
    NotIp,
    /// Longer than an IP length field can say (65535 bytes for IPv4,
    /// 65535 after the fixed header for IPv6).
    TooLong,
}

/// What [`fixup`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fixed {
    /// A length field: IPv4 total length, IPv6 payload length, UDP
    /// length.
    pub length: bool,
    /// The IPv4 header checksum.
    pub header_checksum: bool,
    /// The transport checksum.
    pub transport_checksum: bool,
}

impl Fixed {
    /// Whether anything changed.
    pub const fn any(&self) -> bool {
        self.length || self.header_checksum || self.transport_checksum
    }
}

/// Fix the packet `pkt` of protocol family `family` (`NFPROTO_IPV4` or
/// `NFPROTO_IPV6`), from its network header to its end, as the module
/// documentation says.
///
/// # Errors
///
/// See [`FixupError`]; the packet is unchanged then.
pub fn fixup(family: u8, pkt: &mut [u8]) -> Result<Fixed, FixupError> {
    match family {
        NFPROTO_IPV4 => fixup_ipv4(pkt),
        NFPROTO_IPV6 => fixup_ipv6(pkt),
        _ => Err(FixupError::NotIp),
    }
}

/// The big-endian u16 at `at`, 0 if out of range.
fn get16(b: &[u8], at: usize) -> u16 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk)
        .map_or(0, |c| u16::from_be_bytes(*c))
}

/// Write the big-endian `v` at `at` if it differs; whether it did.
fn set16(b: &mut [u8], at: usize, v: u16) -> bool {
    let new = v.to_be_bytes();
    match b.get_mut(at..).and_then(<[u8]>::first_chunk_mut) {
        Some(dst) if *dst != new => {
            *dst = new;
            true
        }
        _ => false,
    }
}

/// Fix an IPv4 packet.
///
/// # Errors
///
/// See [`FixupError`]; the packet is unchanged then.
pub fn fixup_ipv4(pkt: &mut [u8]) -> Result<Fixed, FixupError> {
    let first = *pkt.first().ok_or(FixupError::Truncated)?;
    if pkt.len() < IPV4_MIN_HEADER {
        return Err(FixupError::Truncated);
    }
    if first >> 4 != 4 {
        return Err(FixupError::NotIp);
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < IPV4_MIN_HEADER {
        return Err(FixupError::NotIp);
    }
    if ihl > pkt.len() {
        return Err(FixupError::Truncated);
    }
    let total = u16::try_from(pkt.len()).map_err(|_| FixupError::TooLong)?;

    let mut fixed = Fixed {
        length: set16(pkt, 2, total),
        ..Fixed::default()
    };
    let (header, l4) = pkt.split_at_mut_checked(ihl).ok_or(FixupError::Truncated)?;
    if !verifies(0, header) {
        fixed.header_checksum = set16(header, IPV4_CHECK, checksum::ipv4_header_checksum(header));
    }

    // MF or a fragment offset: leave the transport header alone.
    if get16(header, 6) & 0x3fff != 0 {
        return Ok(fixed);
    }
    let saddr = addr4(header, 12);
    let daddr = addr4(header, 16);
    let protocol = header.get(9).copied().unwrap_or(0);
    // ihl <= len <= 65535, so the segment length fits.
    let seg_len = u16::try_from(l4.len()).unwrap_or(0);
    let pseudo = pseudo_header_sum(saddr, daddr, protocol, seg_len);
    match protocol {
        IPPROTO_TCP if l4.len() >= TCP_CHECK + 2 && !verifies(pseudo, l4) => {
            let c = checksum::tcp_udp_checksum(saddr, daddr, protocol, l4);
            fixed.transport_checksum = set16(l4, TCP_CHECK, c);
        }
        IPPROTO_UDP if l4.len() >= UDP_HEADER => {
            fixed.length |= set16(l4, 4, seg_len);
            if get16(l4, UDP_CHECK) != 0 && !verifies(pseudo, l4) {
                let c = checksum::tcp_udp_checksum(saddr, daddr, protocol, l4);
                fixed.transport_checksum = set16(l4, UDP_CHECK, c);
            }
        }
        IPPROTO_ICMP if l4.len() >= ICMP_CHECK + 2 && !verifies(0, l4) => {
            fixed.transport_checksum = set16(l4, ICMP_CHECK, checksum::icmp_checksum(l4));
        }
        _ => {}
    }
    Ok(fixed)
}

/// The 4 bytes at `at` (zeros if out of range).
fn addr4(b: &[u8], at: usize) -> [u8; 4] {
    b.get(at..)
        .and_then(<[u8]>::first_chunk)
        .copied()
        .unwrap_or([0; 4])
}

/// Fix an IPv6 packet.
///
/// # Errors
///
/// See [`FixupError`]; the packet is unchanged then.
pub fn fixup_ipv6(pkt: &mut [u8]) -> Result<Fixed, FixupError> {
    let first = *pkt.first().ok_or(FixupError::Truncated)?;
    if pkt.len() < IPV6_HEADER {
        return Err(FixupError::Truncated);
    }
    if first >> 4 != 6 {
        return Err(FixupError::NotIp);
    }
    let payload_len = pkt.len().saturating_sub(IPV6_HEADER);
    let payload_len = u16::try_from(payload_len).map_err(|_| FixupError::TooLong)?;
    let mut fixed = Fixed {
        length: set16(pkt, 4, payload_len),
        ..Fixed::default()
    };

    // Skip hop-by-hop and destination options to the transport header.
    let mut next = pkt.get(6).copied().unwrap_or(0);
    let mut at = IPV6_HEADER;
    loop {
        match next {
            IPPROTO_HOPOPTS | IPPROTO_DSTOPTS => {
                let (Some(&nh), Some(&len)) = (pkt.get(at), pkt.get(at.saturating_add(1))) else {
                    return Ok(fixed);
                };
                next = nh;
                at = at.saturating_add((usize::from(len) + 1) * 8);
            }
            IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMPV6 => break,
            _ => return Ok(fixed),
        }
    }
    let Some((header, l4)) = pkt.split_at_mut_checked(at) else {
        return Ok(fixed);
    };
    let Ok(seg_len) = u16::try_from(l4.len()) else {
        return Ok(fixed);
    };
    let pseudo = pseudo_header_sum6(header, next, seg_len);
    let check_at = match next {
        IPPROTO_TCP if l4.len() >= TCP_CHECK + 2 => TCP_CHECK,
        IPPROTO_UDP if l4.len() >= UDP_HEADER => {
            fixed.length |= set16(l4, 4, seg_len);
            UDP_CHECK
        }
        IPPROTO_ICMPV6 if l4.len() >= ICMPV6_CHECK + 2 => ICMPV6_CHECK,
        _ => return Ok(fixed),
    };
    // Over IPv6 a UDP checksum of 0 is not "none" but wrong.
    if !verifies(pseudo, l4) || (next == IPPROTO_UDP && get16(l4, UDP_CHECK) == 0) {
        let mut c = finish(add(pseudo, sum_without(l4, check_at)));
        if next == IPPROTO_UDP && c == 0 {
            c = CSUM_MANGLED_0;
        }
        fixed.transport_checksum = set16(l4, check_at, c);
    }
    Ok(fixed)
}

/// The sum of the IPv6 pseudo-header (RFC 8200 8.1): source and
/// destination of the fixed header `header`, the upper-layer length and
/// the next header value.
fn pseudo_header_sum6(header: &[u8], next: u8, len: u16) -> u32 {
    let addrs = header.get(8..IPV6_HEADER).unwrap_or(&[]);
    add(add(sum(addrs), u32::from(len)), u32::from(next))
}
