// SPDX-License-Identifier: GPL-2.0

//! The tuple that names one direction of a connection, and how a packet
//! yields the tuple to look up (`nf_conntrack_tuple.h`, `nf_ct_get_tuple`,
//! `nf_ct_invert_tuple` and the ICMP error path of
//! `nf_conntrack_proto_icmp.c`).
//!
//! A connection has two tuples: the original one, of its first packet, and
//! the reply one, its inverse (NAT may change the reply tuple later). The
//! kernel side hashes both and finds a packet's connection, and the
//! packet's [`Direction`], by looking its tuple up.

use super::packet::IPPROTO_UDP;
use super::packet::{IcmpHeader, Ipv4Header, Packet, Transport, IPPROTO_ICMP, IPPROTO_TCP};

/// Length of an ICMP header: type, code, checksum and four more bytes.
const ICMP_HEADER: usize = 8;
/// Length of an IPv4 header without options.
const IPV4_MIN_HEADER: usize = 20;

/// How many bytes of a packet [`from_packet`] may need to see: the largest
/// outer IPv4 header (60), the ICMP header (8), the largest quoted IPv4
/// header (60) and the 8 bytes of the quoted ICMP header. The kernel side
/// reads this much (or the whole packet if shorter), or the
/// [`tracking_span`] of the packet when that much is in place, else an
/// ICMP error quoting a header with options behind a header with options
/// is judged truncated.
pub const MAX_TUPLE_BYTES: usize = 60 + ICMP_HEADER + 60 + ICMP_HEADER;

/// How many bytes from its start tracking reads of a packet whose first
/// bytes are `head` (at least those; any more there are may be given):
/// the IPv4 header, then the TCP header with its options, the UDP header,
/// or the ICMP header followed by the header and first 8 bytes of the
/// packet an error quotes. For a prefix of a packet of `packet_len` bytes
/// at least `min(packet_len, tracking_span(prefix))` long,
/// [`super::packet::parse`], [`from_packet`] and
/// [`super::tcp::TcpSegment::from_packet`] give what they give for the
/// packet's first [`MAX_TUPLE_BYTES`], so that a caller with such a prefix
/// in place need not copy. Never more than [`MAX_TUPLE_BYTES`]; that when
/// `head` is too short to tell.
pub fn tracking_span(head: &[u8]) -> usize {
    let words = |b: u8| usize::from(b & 0x0f) * 4;
    let Some(&first) = head.first() else {
        return MAX_TUPLE_BYTES;
    };
    let ihl = words(first);
    let span = match head.get(9) {
        None => None,
        // The data offset, never less than the fixed header.
        Some(&IPPROTO_TCP) => head.get(ihl + 12).map(|&d| ihl + words(d >> 4).max(20)),
        Some(&IPPROTO_UDP) => Some(ihl + 8),
        // The quoted packet's header length, for an error (an echo reads
        // less).
        Some(&IPPROTO_ICMP) => head
            .get(ihl + ICMP_HEADER)
            .map(|&q| ihl + ICMP_HEADER + words(q).max(IPV4_MIN_HEADER) + ICMP_HEADER),
        Some(_) => Some(ihl),
    };
    span.map_or(MAX_TUPLE_BYTES, |n| {
        n.clamp(IPV4_MIN_HEADER, MAX_TUPLE_BYTES)
    })
}

/// The direction of a packet in its connection (`enum
/// ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Direction {
    /// `IP_CT_DIR_ORIGINAL`: the direction of the first packet.
    Original = 0,
    /// `IP_CT_DIR_REPLY`: the other one.
    Reply = 1,
}

impl Direction {
    /// 0 for original, 1 for reply: an index into per-direction arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The other direction.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Original => Direction::Reply,
            Direction::Reply => Direction::Original,
        }
    }
}

/// One direction of a connection (`struct nf_conntrack_tuple` for IPv4).
///
/// The two 16-bit fields are what netfilter keeps in `src.u` and `dst.u`:
/// ports for TCP and UDP; for ICMP the identifier in `sport` and type and
/// code (type in the high byte) in `dport`; zero for other protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    /// Source address, network order.
    pub saddr: [u8; 4],
    /// Destination address, network order.
    pub daddr: [u8; 4],
    /// The transport protocol (`IPPROTO_*`).
    pub protocol: u8,
    /// Source port, or ICMP identifier.
    pub sport: u16,
    /// Destination port, or ICMP type and code (`type << 8 | code`).
    pub dport: u16,
}

impl Tuple {
    /// A TCP tuple.
    pub fn tcp(saddr: [u8; 4], sport: u16, daddr: [u8; 4], dport: u16) -> Tuple {
        Tuple {
            saddr,
            daddr,
            protocol: IPPROTO_TCP,
            sport,
            dport,
        }
    }

    /// A UDP tuple.
    pub fn udp(saddr: [u8; 4], sport: u16, daddr: [u8; 4], dport: u16) -> Tuple {
        Tuple {
            protocol: IPPROTO_UDP,
            ..Tuple::tcp(saddr, sport, daddr, dport)
        }
    }

    /// An ICMP tuple.
    pub fn icmp(saddr: [u8; 4], daddr: [u8; 4], id: u16, icmp_type: u8, code: u8) -> Tuple {
        Tuple {
            saddr,
            daddr,
            protocol: IPPROTO_ICMP,
            sport: id,
            dport: u16::from_be_bytes([icmp_type, code]),
        }
    }

    /// A tuple of a protocol tracked by addresses only.
    pub fn other(saddr: [u8; 4], daddr: [u8; 4], protocol: u8) -> Tuple {
        Tuple {
            saddr,
            daddr,
            protocol,
            sport: 0,
            dport: 0,
        }
    }

    /// The ICMP identifier (meaningful for ICMP tuples).
    pub fn icmp_id(&self) -> u16 {
        self.sport
    }

    /// The ICMP type (meaningful for ICMP tuples).
    pub fn icmp_type(&self) -> u8 {
        self.dport.to_be_bytes()[0]
    }

    /// The ICMP code (meaningful for ICMP tuples).
    pub fn icmp_code(&self) -> u8 {
        self.dport.to_be_bytes()[1]
    }

    /// The tuple of the other direction: addresses swapped, and ports
    /// swapped, or for ICMP the request type turned into its reply type
    /// or back (echo, timestamp, information, address mask), identifier
    /// and code kept. `None` for ICMP types that have no inverse (errors
    /// and the rest): they cannot make a connection.
    pub fn invert(&self) -> Option<Tuple> {
        if self.protocol == IPPROTO_ICMP {
            let reverse = icmp_inverse_type(self.icmp_type())?;
            return Some(Tuple::icmp(
                self.daddr,
                self.saddr,
                self.icmp_id(),
                reverse,
                self.icmp_code(),
            ));
        }
        Some(Tuple {
            saddr: self.daddr,
            daddr: self.saddr,
            protocol: self.protocol,
            sport: self.dport,
            dport: self.sport,
        })
    }

    /// The tuple as four words for hashing: source, destination, the two
    /// 16-bit fields, the protocol.
    pub fn key(&self) -> [u32; 4] {
        [
            u32::from_be_bytes(self.saddr),
            u32::from_be_bytes(self.daddr),
            u32::from(self.sport) << 16 | u32::from(self.dport),
            u32::from(self.protocol),
        ]
    }

    /// The Jenkins hash ([`jhash2`]) of [`key`](Self::key) with `seed`,
    /// a secret the table picks at random so that remote hosts cannot aim
    /// at one bucket. Turn it into a bucket with [`bucket`].
    pub fn hash(&self, seed: u32) -> u32 {
        jhash2(&self.key(), seed)
    }
}

/// conntrack(8)'s way: `src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80`,
/// or for ICMP `src=.. dst=.. type=8 code=0 id=7`.
impl core::fmt::Display for Tuple {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d] = self.saddr;
        let [e, g, h, i] = self.daddr;
        write!(f, "src={a}.{b}.{c}.{d} dst={e}.{g}.{h}.{i}")?;
        match self.protocol {
            IPPROTO_TCP | IPPROTO_UDP => write!(f, " sport={} dport={}", self.sport, self.dport),
            IPPROTO_ICMP => write!(
                f,
                " type={} code={} id={}",
                self.icmp_type(),
                self.icmp_code(),
                self.icmp_id()
            ),
            _ => Ok(()),
        }
    }
}

/// The reply type of an ICMP request type and the other way round (the
/// `invmap` of `nf_conntrack_proto_icmp.c`); `None` for other types.
pub fn icmp_inverse_type(icmp_type: u8) -> Option<u8> {
    Some(match icmp_type {
        IcmpHeader::ECHO_REQUEST => IcmpHeader::ECHO_REPLY,
        IcmpHeader::ECHO_REPLY => IcmpHeader::ECHO_REQUEST,
        IcmpHeader::TIMESTAMP => IcmpHeader::TIMESTAMP_REPLY,
        IcmpHeader::TIMESTAMP_REPLY => IcmpHeader::TIMESTAMP,
        IcmpHeader::INFO_REQUEST => IcmpHeader::INFO_REPLY,
        IcmpHeader::INFO_REPLY => IcmpHeader::INFO_REQUEST,
        IcmpHeader::ADDRESS => IcmpHeader::ADDRESS_REPLY,
        IcmpHeader::ADDRESS_REPLY => IcmpHeader::ADDRESS,
        _ => return None,
    })
}

/// The kernel's `jhash2`: Bob Jenkins' lookup3 over 32-bit words, with
/// `initval` as the seed. Bit for bit what `include/linux/jhash.h` gives.
pub fn jhash2(words: &[u32], initval: u32) -> u32 {
    const JHASH_INITVAL: u32 = 0xdead_beef;
    // The length in bytes, truncated as the C code's `length << 2` is.
    let len = (words.len() as u32).wrapping_shl(2);
    let init = JHASH_INITVAL.wrapping_add(len).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = words;
    // All but the last one to three words, three at a time.
    while let [x, y, z, tail @ ..] = rest {
        if tail.is_empty() {
            break;
        }
        a = a.wrapping_add(*x);
        b = b.wrapping_add(*y);
        c = c.wrapping_add(*z);
        mix(&mut a, &mut b, &mut c);
        rest = tail;
    }
    match *rest {
        [] => return c,
        [x] => a = a.wrapping_add(x),
        [x, y] => {
            a = a.wrapping_add(x);
            b = b.wrapping_add(y);
        }
        [x, y, z, ..] => {
            a = a.wrapping_add(x);
            b = b.wrapping_add(y);
            c = c.wrapping_add(z);
        }
    }
    final_mix(&mut a, &mut b, &mut c);
    c
}

/// `__jhash_mix`: mix three words reversibly.
fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    for (r1, r2, r3) in [(4, 6, 8), (16, 19, 4)] {
        *a = a.wrapping_sub(*c) ^ c.rotate_left(r1);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a) ^ a.rotate_left(r2);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b) ^ b.rotate_left(r3);
        *b = b.wrapping_add(*a);
    }
}

/// `__jhash_final`: the final mixing of three words into `c`.
fn final_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(14));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(11));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(25));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(16));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(4));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(14));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(24));
}

/// The bucket of `hash` in a table of `buckets` buckets: the kernel's
/// `reciprocal_scale`, a multiply instead of a division; always below
/// `buckets` (0 if `buckets` is 0).
pub fn bucket(hash: u32, buckets: u32) -> u32 {
    ((u64::from(hash) * u64::from(buckets)) >> 32) as u32
}

/// What to look up for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The packet's own tuple. Found as an entry's original tuple, the
    /// packet goes in the original direction; as its reply tuple, in the
    /// reply direction. Not found, the packet may create an entry (see
    /// [`super::new_connection`]).
    Conn(Tuple),
    /// The packet is an ICMP error (destination unreachable, source
    /// quench, redirect, time exceeded, parameter problem) about a packet
    /// of another connection; this is the tuple of that connection in the
    /// direction the error travels (the inverse of the quoted packet's).
    /// Found in direction `d`, the error is
    /// [`CtInfo::related(d)`](super::status::CtInfo::related); not found,
    /// it is invalid. It never creates an entry, and no tracker sees it.
    Related(Tuple),
}

/// Why a packet has no tuple: it is invalid for connection tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TupleError {
    /// A fragment other than the first: no transport header. Connection
    /// tracking needs packets reassembled.
    Fragment,
    /// The TCP, UDP or ICMP header does not parse
    /// ([`crate::packet::Transport::Truncated`]): no ports to track by.
    TruncatedTransport,
    /// An ICMP type above 18 (`NR_ICMP_TYPES`), which RFC 1122 says to
    /// discard.
    UnknownIcmpType,
    /// The ICMP error quotes less than an IPv4 header and the first bytes
    /// of its transport header (4 for TCP and UDP: the ports; 8 for ICMP).
    QuotedTruncated,
    /// The quoted header is not IPv4.
    QuotedNotIpv4,
    /// The quoted header's IHL is below 5.
    QuotedBadHeaderLength,
    /// The quoted packet is a fragment other than the first.
    QuotedFragment,
    /// The quoted packet is an ICMP message with no inverse (an error
    /// about an error, or about an unknown type): no connection has it.
    QuotedNoInverse,
    /// The quoted packet's source is not the error's destination: the
    /// error does not go back to whoever sent the quoted packet.
    QuotedAddressMismatch,
}

impl TupleError {
    /// A short description, for logging.
    pub fn as_str(self) -> &'static str {
        match self {
            TupleError::Fragment => "non-first fragment",
            TupleError::TruncatedTransport => "truncated transport header",
            TupleError::UnknownIcmpType => "invalid icmp type",
            TupleError::QuotedTruncated => "icmp error quotes a truncated header",
            TupleError::QuotedNotIpv4 => "icmp error quotes a non-IPv4 header",
            TupleError::QuotedBadHeaderLength => "icmp error quotes a bad header length",
            TupleError::QuotedFragment => "icmp error quotes a non-first fragment",
            TupleError::QuotedNoInverse => "icmp error quotes an untrackable icmp message",
            TupleError::QuotedAddressMismatch => "outer daddr != inner saddr",
        }
    }
}

impl core::fmt::Display for TupleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to look up for `pkt`, parsed from `data` (the packet's first
/// bytes: [`MAX_TUPLE_BYTES`] of them, or its [`tracking_span`], or the
/// whole packet): the
/// packet's tuple, or for an ICMP error the tuple of the connection it is
/// about.
///
/// # Errors
///
/// A [`TupleError`] if the packet is invalid for connection tracking. An
/// ICMP error whose quoted packet is cut short (by the packet's total
/// length or by `data`) is [`TupleError::QuotedTruncated`], never a panic.
pub fn from_packet(pkt: &Packet, data: &[u8]) -> Result<Lookup, TupleError> {
    let ip = &pkt.ip;
    let (sport, dport) = match pkt.transport {
        Transport::Fragment => return Err(TupleError::Fragment),
        Transport::Truncated { .. } => return Err(TupleError::TruncatedTransport),
        Transport::Tcp(t) => (t.sport, t.dport),
        Transport::Udp(u) => (u.sport, u.dport),
        Transport::Icmp(i) => {
            if i.icmp_type > IcmpHeader::MAX_KNOWN_TYPE {
                return Err(TupleError::UnknownIcmpType);
            }
            if i.is_error() {
                return related(ip, data).map(Lookup::Related);
            }
            (i.id(), u16::from_be_bytes([i.icmp_type, i.code]))
        }
        Transport::Other => (0, 0),
    };
    Ok(Lookup::Conn(Tuple {
        saddr: ip.saddr,
        daddr: ip.daddr,
        protocol: ip.protocol,
        sport,
        dport,
    }))
}

/// The lookup tuple of the ICMP error whose IP header is `ip`.
fn related(ip: &Ipv4Header, data: &[u8]) -> Result<Tuple, TupleError> {
    let quoted = ip.payload(data).get(ICMP_HEADER..).unwrap_or(&[]);
    let tuple = quoted_tuple(quoted)?;
    let lookup = tuple.invert().ok_or(TupleError::QuotedNoInverse)?;
    // The error goes back to the sender of the quoted packet, whichever
    // direction that is (netfilter checks it against the entry found, but
    // the entry's tuple in that direction is the lookup tuple itself).
    if lookup.daddr != ip.daddr {
        return Err(TupleError::QuotedAddressMismatch);
    }
    Ok(lookup)
}

/// The tuple of the packet quoted in an ICMP error: `quoted` is what
/// follows the ICMP header, up to the end of the error.
fn quoted_tuple(quoted: &[u8]) -> Result<Tuple, TupleError> {
    let h: [u8; IPV4_MIN_HEADER] = quoted
        .get(..IPV4_MIN_HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(TupleError::QuotedTruncated)?;
    if h[0] >> 4 != 4 {
        return Err(TupleError::QuotedNotIpv4);
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        return Err(TupleError::QuotedBadHeaderLength);
    }
    if u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
        return Err(TupleError::QuotedFragment);
    }
    let l4 = quoted
        .get(header_len..)
        .ok_or(TupleError::QuotedTruncated)?;
    let protocol = h[9];
    let saddr = [h[12], h[13], h[14], h[15]];
    let daddr = [h[16], h[17], h[18], h[19]];
    let (sport, dport) = match protocol {
        IPPROTO_TCP | IPPROTO_UDP => match *l4 {
            [a, b, c, d, ..] => (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])),
            _ => return Err(TupleError::QuotedTruncated),
        },
        IPPROTO_ICMP => match *l4 {
            [icmp_type, code, _, _, a, b, _, _, ..] => (
                u16::from_be_bytes([a, b]),
                u16::from_be_bytes([icmp_type, code]),
            ),
            _ => return Err(TupleError::QuotedTruncated),
        },
        _ => (0, 0),
    };
    Ok(Tuple {
        saddr,
        daddr,
        protocol,
        sport,
        dport,
    })
}
