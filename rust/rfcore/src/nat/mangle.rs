// SPDX-License-Identifier: GPL-2.0

//! Rewriting a packet's headers for a translation (`nf_nat_ipv4_manip_pkt`,
//! `l4proto_manip_pkt` and the per-protocol `*_manip_pkt` of
//! `nf_nat_proto.c`), and ICMP errors about a translated connection
//! (`nf_nat_icmp_reply_translation`).
//!
//! A packet of a translated connection is made to look like the inverse
//! of the tuple of the other direction: the caller passes that inverse as
//! the target, and [`manip_packet`] copies the target's source (for
//! [`Manip::Src`]) or destination (for [`Manip::Dst`]) address and port
//! into the packet. Every checksum that covers a changed field is updated
//! incrementally from the old and new values ([`super::checksum`]), so
//! only the headers need to be in the buffer:
//!
//! - the IPv4 header checksum, for the address;
//! - the TCP or UDP checksum, for the address (it is in the pseudo-header)
//!   and the port. A UDP checksum of 0 means "none" and stays 0; an
//!   updated one that comes out 0 is stored as 0xffff (`CSUM_MANGLED_0`);
//! - the ICMP checksum, for the identifier of a query (echo, timestamp,
//!   information, address mask). ICMP has no pseudo-header; errors and
//!   other types keep their ICMP header.
//!
//! With `partial` (the skb is `CHECKSUM_PARTIAL`: the device or
//! `skb_checksum_help` finishes the transport checksum), the transport
//! checksum field holds the pseudo-header sum: address changes are folded
//! into it, port and identifier changes are not.
//!
//! Non-first fragments carry no transport header: only their IP header
//! changes. A transport header cut short (a TCP header quoted in an ICMP
//! error has 8 bytes) gets its ports changed but not its checksum, which
//! is out of reach, as netfilter does.

use super::super::ct::status::{IPS_NAT_DONE_MASK, IPS_NAT_MASK};
use super::super::ct::tuple::{icmp_inverse_type, Direction, Tuple};
use super::super::packet::{IcmpHeader, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::checksum::{self, CSUM_MANGLED_0, ICMP_CHECK, IPV4_CHECK, TCP_CHECK, UDP_CHECK};
use super::{manip_part, Manip};

/// Length of the IPv4 header without options.
const IPV4_MIN_HEADER: usize = 20;
/// Offset of the total length in the IPv4 header.
const IPV4_TOTAL_LEN: usize = 2;
/// Offset of the flags and fragment offset word in the IPv4 header.
const IPV4_FRAG: usize = 6;
/// Offset of the protocol in the IPv4 header.
const IPV4_PROTOCOL: usize = 9;
/// Offset of the source address in the IPv4 header.
const IPV4_SADDR: usize = 12;
/// Offset of the destination address in the IPv4 header.
const IPV4_DADDR: usize = 16;
/// The fragment offset bits of the word at [`IPV4_FRAG`].
const FRAG_OFFSET_MASK: u16 = 0x1fff;
/// Length of the two ports at the start of a TCP or UDP header.
const PORTS: usize = 4;
/// Length of the TCP header without options.
const TCP_MIN_HEADER: usize = 20;
/// Length of the UDP header.
const UDP_HEADER: usize = 8;
/// Length of the ICMP header.
const ICMP_HEADER: usize = 8;
/// Offset of the identifier in an ICMP query header.
const ICMP_ID: usize = 4;

/// Why a packet could not be rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MangleError {
    /// The buffer is shorter than the headers it must hold.
    Truncated,
    /// Not an IPv4 packet, or not an ICMP error where one is needed.
    Malformed,
}

/// `N` bytes of `buf` from `at`, if there are that many.
fn read<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..)?.get(..N)?.try_into().ok()
}

/// The big-endian 16-bit word of `buf` at `at`.
fn read16(buf: &[u8], at: usize) -> Option<u16> {
    read(buf, at).map(u16::from_be_bytes)
}

/// Stores `value` in `buf` at `at`; nothing if it does not fit.
fn write<const N: usize>(buf: &mut [u8], at: usize, value: [u8; N]) {
    if let Some(field) = buf.get_mut(at..).and_then(|b| b.get_mut(..N)) {
        field.copy_from_slice(&value);
    }
}

/// Stores `value` big-endian in `buf` at `at`; nothing if it does not fit.
fn write16(buf: &mut [u8], at: usize, value: u16) {
    write(buf, at, value.to_be_bytes());
}

/// The length of the IPv4 header `buf` starts with, checked against `buf`.
fn ip_header_len(buf: &[u8]) -> Result<usize, MangleError> {
    let first = match buf.get(..IPV4_MIN_HEADER) {
        Some([first, ..]) => *first,
        _ => return Err(MangleError::Truncated),
    };
    if first >> 4 != 4 {
        return Err(MangleError::Malformed);
    }
    let len = usize::from(first & 0x0f) * 4;
    if len < IPV4_MIN_HEADER {
        return Err(MangleError::Malformed);
    }
    if buf.len() < len {
        return Err(MangleError::Truncated);
    }
    Ok(len)
}

/// Rewrites the packet whose headers start `buf` so that its `manip` part
/// is `target`'s; `partial`: the transport checksum holds only the
/// pseudo-header sum (`CHECKSUM_PARTIAL`).
///
/// `buf` starts at the IPv4 header and holds it whole, then as much of
/// the transport header as the packet has: TCP 20 bytes, UDP and ICMP 8
/// (more is fine and left alone). Those are the bytes that may change, so
/// they must be writable. `target` is the tuple the packet is to look like
/// (`nf_nat_manip_pkt`: the inverse of the other direction's tuple); its
/// protocol must be the packet's. See the [module documentation](self) for
/// what changes.
///
/// # Errors
///
/// [`MangleError::Truncated`] if `buf` is shorter than the IPv4 header;
/// [`MangleError::Malformed`] if it is not IPv4, has an IHL below 5, or
/// is not of `target`'s protocol. Nothing is changed then.
pub fn manip_packet(
    buf: &mut [u8],
    target: &Tuple,
    manip: Manip,
    partial: bool,
) -> Result<(), MangleError> {
    let header_len = ip_header_len(buf)?;
    let protocol = buf.get(IPV4_PROTOCOL).copied();
    if protocol != Some(target.protocol) {
        return Err(MangleError::Malformed);
    }
    let addr_at = match manip {
        Manip::Src => IPV4_SADDR,
        Manip::Dst => IPV4_DADDR,
    };
    let old_addr: [u8; 4] = read(buf, addr_at).ok_or(MangleError::Truncated)?;
    let frag = read16(buf, IPV4_FRAG).ok_or(MangleError::Truncated)?;
    let (new_addr, new_port) = manip_part(target, manip);

    if frag & FRAG_OFFSET_MASK == 0 {
        let change = Change {
            from: u32::from_be_bytes(old_addr),
            to: u32::from_be_bytes(new_addr),
            port: new_port,
            manip,
            partial,
        };
        if let Some(l4) = buf.get_mut(header_len..) {
            match target.protocol {
                IPPROTO_TCP => change.tcp(l4),
                IPPROTO_UDP => change.udp(l4),
                IPPROTO_ICMP => change.icmp(l4),
                // Other protocols: nothing known to change.
                _ => {}
            }
        }
    }

    let check = read16(buf, IPV4_CHECK).ok_or(MangleError::Truncated)?;
    let check = checksum::replace4(
        check,
        u32::from_be_bytes(old_addr),
        u32::from_be_bytes(new_addr),
    );
    write16(buf, IPV4_CHECK, check);
    write(buf, addr_at, new_addr);
    Ok(())
}

/// One translation of a transport header: the address in the
/// pseudo-header goes from `from` to `to`, the port of `manip` (the
/// identifier for ICMP) becomes `port`.
struct Change {
    from: u32,
    to: u32,
    port: u16,
    manip: Manip,
    partial: bool,
}

impl Change {
    /// The offset of the port this change rewrites in a TCP or UDP header.
    fn port_at(&self) -> usize {
        match self.manip {
            Manip::Src => 0,
            Manip::Dst => 2,
        }
    }

    /// The checksum field `check` of a TCP or UDP header updated for the
    /// address (pseudo-header) and port `old` becoming `self.port`
    /// (`nf_csum_update` then `inet_proto_csum_replace2`).
    fn transport_check(&self, check: u16, old: u16) -> u16 {
        if self.partial {
            checksum::replace4_partial(check, self.from, self.to)
        } else {
            let check = checksum::replace4(check, self.from, self.to);
            checksum::replace2(check, old, self.port)
        }
    }

    /// `tcp_manip_pkt`: the port, and the checksum if the header is
    /// whole.
    fn tcp(&self, l4: &mut [u8]) {
        if l4.len() < PORTS {
            return;
        }
        let at = self.port_at();
        let Some(old) = read16(l4, at) else {
            return;
        };
        write16(l4, at, self.port);
        if l4.len() < TCP_MIN_HEADER {
            return;
        }
        if let Some(check) = read16(l4, TCP_CHECK) {
            write16(l4, TCP_CHECK, self.transport_check(check, old));
        }
    }

    /// `udp_manip_pkt`: the port, and the checksum if there is one (0
    /// means none, unless the packet is `CHECKSUM_PARTIAL`).
    fn udp(&self, l4: &mut [u8]) {
        if l4.len() < PORTS {
            return;
        }
        let at = self.port_at();
        let Some(old) = read16(l4, at) else {
            return;
        };
        write16(l4, at, self.port);
        if l4.len() < UDP_HEADER {
            return;
        }
        match read16(l4, UDP_CHECK) {
            Some(check) if check != 0 || self.partial => {
                let check = match self.transport_check(check, old) {
                    0 => CSUM_MANGLED_0,
                    c => c,
                };
                write16(l4, UDP_CHECK, check);
            }
            _ => {}
        }
    }

    /// `icmp_manip_pkt`: the identifier of a query, whichever the manip.
    /// The ICMP checksum has no pseudo-header, so the address does not
    /// matter to it.
    fn icmp(&self, l4: &mut [u8]) {
        if l4.len() < ICMP_HEADER {
            return;
        }
        let is_query = l4.first().is_some_and(|&t| icmp_inverse_type(t).is_some());
        if !is_query {
            return;
        }
        let Some(old) = read16(l4, ICMP_ID) else {
            return;
        };
        write16(l4, ICMP_ID, self.port);
        if !self.partial {
            if let Some(check) = read16(l4, ICMP_CHECK) {
                write16(l4, ICMP_CHECK, checksum::replace2(check, old, self.port));
            }
        }
    }
}

/// Whether `icmp_type` is an error, which quotes the packet that caused it.
fn is_icmp_error(icmp_type: u8) -> bool {
    matches!(
        icmp_type,
        IcmpHeader::DEST_UNREACH
            | IcmpHeader::SOURCE_QUENCH
            | IcmpHeader::REDIRECT
            | IcmpHeader::TIME_EXCEEDED
            | IcmpHeader::PARAMETER_PROB
    )
}

/// What to do with an ICMP error related to a connection, before
/// [`translate_icmp_error`] (the checks at the start of
/// `nf_nat_icmp_reply_translation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpErrorAction {
    /// Translate it.
    Translate,
    /// Let it through unchanged: this hook's manip is not done to packets
    /// of its direction.
    Accept,
    /// Drop it: a redirect about a translated connection (or one whose
    /// translation is not set up yet) would send the host around the
    /// NAT box.
    Drop,
}

/// What to do with an ICMP error of type `icmp_type`, related to the
/// connection with `status` in direction `dir` (the direction the error
/// travels in, `CTINFO2DIR`), at a hook doing `manip`.
///
/// A source translation of the original direction is a destination
/// translation of replies: the error is rewritten if the connection has
/// the status bit of `manip`, or in the reply direction that of the
/// opposite manip.
pub fn icmp_error_action(
    status: u32,
    dir: Direction,
    manip: Manip,
    icmp_type: u8,
) -> IcmpErrorAction {
    if icmp_type == IcmpHeader::REDIRECT
        && (status & IPS_NAT_DONE_MASK != IPS_NAT_DONE_MASK || status & IPS_NAT_MASK != 0)
    {
        return IcmpErrorAction::Drop;
    }
    let bit = match dir {
        Direction::Original => manip.status_bit(),
        Direction::Reply => manip.opposite().status_bit(),
    };
    if status & bit == 0 {
        IcmpErrorAction::Accept
    } else {
        IcmpErrorAction::Translate
    }
}

/// Translates an ICMP error about a translated connection.
///
/// `buf` starts at the outer IPv4 header and holds it, the 8-byte ICMP
/// header, the quoted IPv4 header and as much of the quoted transport
/// header as the packet has, up to 20 bytes (more is fine: it is summed
/// for the outer checksum but left alone; bytes past the IP total length
/// are not looked at). `other` is the connection's
/// tuple of the direction opposite to the error's (the direction of the
/// quoted packet, `ct->tuplehash[!dir].tuple`); `manip` the hook's.
///
/// As `nf_nat_icmp_reply_translation`:
///
/// 1. the quoted packet is made to look like `other`, with the opposite
///    manip (an error met at a destination-translating hook quotes a
///    packet that had its source translated), checksums included;
/// 2. the outer ICMP checksum, which covers the quoted bytes, is updated
///    for them (unless `partial`);
/// 3. the outer address of `manip` becomes `other`'s opposite one: the
///    error goes to (or comes from) whoever the quoted packet came from
///    (or went to) before translation. The outer ICMP header is otherwise
///    left alone, an error has no identifier.
///
/// The outer ICMP checksum is updated, not recomputed: the caller should
/// have dropped an error whose checksum was wrong, as netfilter does
/// (`nf_ip_checksum`), or it stays wrong. Use [`icmp_error_action`]
/// first to know whether to call this at all.
///
/// # Errors
///
/// [`MangleError::Malformed`] if the packet is not an ICMP error, is a
/// fragment other than the first, or does not quote an IPv4 packet of
/// `other`'s protocol; [`MangleError::Truncated`] if `buf` (or the IP
/// total length) is too short for the outer headers or the quoted IPv4
/// header. Nothing is changed then.
pub fn translate_icmp_error(
    buf: &mut [u8],
    other: &Tuple,
    manip: Manip,
    partial: bool,
) -> Result<(), MangleError> {
    let header_len = ip_header_len(buf)?;
    if buf.get(IPV4_PROTOCOL) != Some(&IPPROTO_ICMP) {
        return Err(MangleError::Malformed);
    }
    let frag = read16(buf, IPV4_FRAG).ok_or(MangleError::Truncated)?;
    if frag & FRAG_OFFSET_MASK != 0 {
        return Err(MangleError::Malformed);
    }
    // The ICMP message ends where the total length says: bytes after it
    // are not covered by its checksum, so none of them may change.
    let total = read16(buf, IPV4_TOTAL_LEN).ok_or(MangleError::Truncated)?;
    let end = usize::from(total).min(buf.len());
    let quoted_at = header_len.saturating_add(ICMP_HEADER);
    if end < quoted_at {
        return Err(MangleError::Truncated);
    }
    match buf.get(header_len) {
        Some(&icmp_type) if is_icmp_error(icmp_type) => {}
        _ => return Err(MangleError::Malformed),
    }

    // 1) The quoted packet. It starts 8 bytes into the ICMP message, at an
    // even offset, so its sums combine with the message's.
    let quoted = buf.get_mut(quoted_at..end).ok_or(MangleError::Truncated)?;
    let before = checksum::sum(quoted);
    manip_packet(quoted, other, manip.opposite(), partial)?;
    let after = checksum::sum(quoted);

    // 2) The outer ICMP checksum, for the quoted bytes that changed.
    if !partial {
        let check_at = header_len.saturating_add(ICMP_CHECK);
        if let Some(check) = read16(buf, check_at) {
            write16(buf, check_at, checksum::replace4(check, before, after));
        }
    }

    // 3) The outer address: the inverse of `other`, as an ICMP tuple whose
    // error type leaves the ICMP header alone.
    let outer = Tuple {
        saddr: other.daddr,
        daddr: other.saddr,
        protocol: IPPROTO_ICMP,
        sport: 0,
        dport: 0,
    };
    manip_packet(buf, &outer, manip, partial)
}
