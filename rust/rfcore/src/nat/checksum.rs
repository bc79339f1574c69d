// SPDX-License-Identifier: GPL-2.0

//! One's-complement checksum arithmetic (`include/net/checksum.h`,
//! `inet_proto_csum_replace4` and `inet_proto_csum_replace2` of
//! `net/core/utils.c`).
//!
//! The Internet checksum (RFC 1071) is the complement of the one's
//! complement sum of the 16-bit big-endian words of the data. Everything
//! here works on values read with `from_be_bytes`: one's complement sums do
//! not care about byte order as long as it is the same throughout, and
//! big-endian values are what a header reader sees.
//!
//! Sums travel as `u32` (the kernel's `__wsum`): a one's complement sum of
//! 32-bit words, which [`fold`]s to the same 16-bit sum as the sum of their
//! halves, since 2^16 - 1 divides 2^32 - 1. A 4-byte address can therefore
//! be added as one `u32`.
//!
//! When a header field changes, its checksum is updated from the old and new
//! values of the field alone (RFC 1624, `csum_replace4`): NAT never has to
//! read the payload. A transport checksum in a `CHECKSUM_PARTIAL` packet
//! is not a checksum yet: the field holds the folded, uncomplemented sum of
//! the pseudo-header, and the device adds the rest. Only an address change
//! touches it ([`replace4_partial`]).
//!
//! Nothing here can panic, whatever the input: slices are walked with
//! `chunks` and `get`, and sums use wrapping arithmetic (the kernel builds
//! with overflow checks), where the folds show they cannot wrap.

/// Offset of the checksum field in an IPv4 header.
pub const IPV4_CHECK: usize = 10;
/// Offset of the checksum field in a TCP header.
pub const TCP_CHECK: usize = 16;
/// Offset of the checksum field in a UDP header.
pub const UDP_CHECK: usize = 6;
/// Offset of the checksum field in an ICMP header.
pub const ICMP_CHECK: usize = 2;

/// What a UDP checksum that computes to 0 is sent as: 0 in the field means
/// "no checksum" (`CSUM_MANGLED_0`).
pub const CSUM_MANGLED_0: u16 = 0xffff;

/// `a + b` in one's complement on 32 bits: the carry out of bit 31 goes
/// back in at bit 0 (`csum_add`). Zero only if both are zero.
pub fn add(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum.wrapping_add(u32::from(carry))
}

/// `a - b` in one's complement on 32 bits: `a` plus the complement of `b`
/// (`csum_sub`).
pub fn sub(a: u32, b: u32) -> u32 {
    add(a, !b)
}

/// The 16-bit one's complement sum that the 32-bit sum `sum` stands for,
/// not complemented (the kernel's `csum_fold` complements it; this is
/// `~csum_fold`). Zero only if `sum` is zero.
pub fn fold(sum: u32) -> u16 {
    let once = (sum & 0xffff).wrapping_add(sum >> 16);
    let twice = (once & 0xffff).wrapping_add(once >> 16);
    // `once` is at most 0x1fffe, so `twice` fits in 16 bits.
    twice as u16
}

/// The one's complement sum of `bytes` as big-endian 16-bit words, an odd
/// last byte padded with zero (`csum_partial` with a zero seed). `bytes`
/// must start at an even offset of the data being checksummed for the sum
/// to combine with others.
pub fn sum(bytes: &[u8]) -> u32 {
    // 2^48 bytes would be needed to overflow: no slice is that long.
    let mut acc: u64 = 0;
    for pair in bytes.chunks(2) {
        let word = match *pair {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            [hi] => u16::from_be_bytes([hi, 0]),
            _ => 0,
        };
        acc = acc.wrapping_add(u64::from(word));
    }
    let once = (acc & 0xffff_ffff).wrapping_add(acc >> 32);
    let twice = (once & 0xffff_ffff).wrapping_add(once >> 32);
    // `once` is below 2^33, so `twice` fits in 32 bits.
    twice as u32
}

/// The sum of `bytes` with the 16-bit field at `at` (an even offset) taken
/// as zero: the sum over which a checksum stored there is computed.
pub fn sum_without(bytes: &[u8], at: usize) -> u32 {
    let before = bytes.get(..at).unwrap_or(bytes);
    let after = at
        .checked_add(2)
        .and_then(|end| bytes.get(end..))
        .unwrap_or(&[]);
    add(sum(before), sum(after))
}

/// The checksum to store for data whose sum is `sum`: its complement,
/// folded.
pub fn finish(sum: u32) -> u16 {
    !fold(sum)
}

/// The checksum field `check` updated for a 32-bit word of the covered
/// data changing from `from` to `to` (`csum_replace4`, RFC 1624's
/// `HC' = ~(~HC + ~m + m')`). `from` and `to` may also be the sums of a
/// changed stretch of data before and after the change.
pub fn replace4(check: u16, from: u32, to: u32) -> u16 {
    finish(add(sub(u32::from(!check), from), to))
}

/// [`replace4`] for a 16-bit word (`csum_replace2`).
pub fn replace2(check: u16, from: u16, to: u16) -> u16 {
    replace4(check, u32::from(from), u32::from(to))
}

/// The transport checksum field `check` of a `CHECKSUM_PARTIAL` packet
/// updated for a pseudo-header word (an address) changing from `from` to
/// `to`: the field holds the uncomplemented, folded pseudo-header sum, and
/// stays so (`inet_proto_csum_replace4` with `pseudohdr` and
/// `CHECKSUM_PARTIAL`: `~csum_fold(csum_add(csum_sub(csum_unfold(*sum),
/// from), to))`). Changes outside the pseudo-header (ports, ICMP
/// identifiers) leave such a field alone: the device sums those bytes
/// itself.
pub fn replace4_partial(check: u16, from: u32, to: u32) -> u16 {
    fold(add(sub(u32::from(check), from), to))
}

/// The sum of the IPv4 pseudo-header of a TCP or UDP segment:
/// addresses, protocol and the segment's length (RFC 793, RFC 768;
/// `csum_tcpudp_nofold`).
pub fn pseudo_header_sum(saddr: [u8; 4], daddr: [u8; 4], protocol: u8, len: u16) -> u32 {
    let words = [
        u32::from_be_bytes(saddr),
        u32::from_be_bytes(daddr),
        u32::from(protocol),
        u32::from(len),
    ];
    words.into_iter().fold(0, add)
}

/// The header checksum to store in the IPv4 header `header` (its first
/// `IHL * 4` bytes), computed from scratch with the checksum field taken as
/// zero (`ip_send_check`).
pub fn ipv4_header_checksum(header: &[u8]) -> u16 {
    finish(sum_without(header, IPV4_CHECK))
}

/// The checksum to store in the TCP or UDP segment `segment` (header and
/// data, as long as the IP total length says) between `saddr` and
/// `daddr`, computed from scratch with the field taken as zero. A UDP
/// result of 0 is given as [`CSUM_MANGLED_0`]. 0 for other protocols, and
/// for a segment of 64 KiB or more.
pub fn tcp_udp_checksum(saddr: [u8; 4], daddr: [u8; 4], protocol: u8, segment: &[u8]) -> u16 {
    use super::super::packet::{IPPROTO_TCP, IPPROTO_UDP};
    let Ok(len) = u16::try_from(segment.len()) else {
        return 0;
    };
    let at = match protocol {
        IPPROTO_TCP => TCP_CHECK,
        IPPROTO_UDP => UDP_CHECK,
        _ => return 0,
    };
    let check = finish(add(
        pseudo_header_sum(saddr, daddr, protocol, len),
        sum_without(segment, at),
    ));
    if protocol == IPPROTO_UDP && check == 0 {
        CSUM_MANGLED_0
    } else {
        check
    }
}

/// The checksum to store in the ICMP message `message` (header and data),
/// computed from scratch with the field taken as zero. ICMP has no
/// pseudo-header.
pub fn icmp_checksum(message: &[u8]) -> u16 {
    finish(sum_without(message, ICMP_CHECK))
}

/// Whether `bytes`, checksum field included, sum to 0xffff with the
/// pseudo-header sum `pseudo` added (0 for none): the data verifies.
pub fn verifies(pseudo: u32, bytes: &[u8]) -> bool {
    fold(add(pseudo, sum(bytes))) == 0xffff
}
