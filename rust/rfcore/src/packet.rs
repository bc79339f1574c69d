// SPDX-License-Identifier: GPL-2.0

//! IPv4 and transport (TCP, UDP, ICMP) header parsing.
//!
//! The parser reads from a byte slice that may be only a prefix of the
//! packet (the kernel module copies at most 128 bytes out of the skb), so
//! it is told the length of the whole packet separately. It never panics,
//! whatever the input: every access is bounds-checked.
//!
//! The checks, in order:
//!
//! 1. `data` holds at least the 20-byte fixed header, else
//!    [`ParseError::Truncated`];
//! 2. the version is 4, else [`ParseError::NotIpv4`];
//! 3. the IHL is at least 5, else [`ParseError::BadHeaderLength`];
//! 4. `data` holds the whole header with its options, else
//!    [`ParseError::Truncated`];
//! 5. the total length is at least the header length (so never 0) and at
//!    most `packet_len`, else [`ParseError::BadTotalLength`];
//! 6. a fragment with a non-zero offset stops here with
//!    [`Transport::Fragment`]; otherwise the transport header of TCP, UDP and
//!    ICMP is parsed (see [`parse`]) and anything else is [`Transport::Other`].
//!
//! [`parse_ipv4_header`] makes checks 1 to 5 alone, reading only the fixed
//! 20 bytes (the options need only be within the packet): a caller that
//! only needs to know whether the IPv4 header is sound reads no more.
//!
//! [`parse_for_rules`] makes the same checks on the IPv4 header but reads
//! the transport header as ip_tables' matches do: a TCP header with its 20
//! bytes is read whatever its data offset says, and one cut shorter is
//! [`Transport::Truncated`], dropped only by the matches that need it.
//! [`parse_headers`] gives the same as [`Headers`], the few fields the
//! rules read: the parse of every packet that meets a table.
//!
//! Checksums are not verified by [`parse`]; [`header_checksum_ok`] checks
//! the IPv4 header's one.

/// Protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// Protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// Protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;

/// Length of the IPv4 header without options: all that
/// [`parse_ipv4_header`] reads.
pub const IPV4_MIN_HEADER: usize = 20;
/// Length of the TCP header without options.
pub(crate) const TCP_MIN_HEADER: usize = 20;
/// Length of the UDP header.
pub(crate) const UDP_HEADER: usize = 8;
/// Length of the ICMP header (type, code, checksum and four more bytes).
pub(crate) const ICMP_HEADER: usize = 8;

/// Why a packet did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// `data` holds fewer than 20 bytes, or fewer than the IHL says.
    Truncated,
    /// The version field is not 4.
    NotIpv4,
    /// The IHL is less than 5.
    BadHeaderLength,
    /// The total length is less than the header length (in particular 0), or
    /// more than the length of the packet.
    BadTotalLength,
    /// The packet is not a fragment with a non-zero offset, and its TCP, UDP
    /// or ICMP header is cut short by the total length or by `data`.
    TruncatedTransport,
    /// The TCP data offset is less than 5.
    BadTcpDataOffset,
}

impl ParseError {
    /// A short description of the error.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseError::Truncated => "truncated IPv4 header",
            ParseError::NotIpv4 => "not IPv4",
            ParseError::BadHeaderLength => "bad IPv4 header length",
            ParseError::BadTotalLength => "bad IPv4 total length",
            ParseError::TruncatedTransport => "truncated transport header",
            ParseError::BadTcpDataOffset => "bad TCP data offset",
        }
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields of an IPv4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Length of the header with its options in bytes (IHL * 4): 20..=60.
    pub header_len: usize,
    /// Type of service (DSCP and ECN).
    pub tos: u8,
    /// Total length of the packet in bytes, header included: the header's
    /// field, or the packet's length for IPv4 BIG TCP ([`total_length`]).
    pub total_len: u32,
    /// Identification.
    pub id: u16,
    /// The DF flag.
    pub dont_fragment: bool,
    /// The MF flag.
    pub more_fragments: bool,
    /// Fragment offset in 8-byte units.
    pub fragment_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol of the payload (`IPPROTO_*`).
    pub protocol: u8,
    /// Header checksum as found in the packet (not verified).
    pub checksum: u16,
    /// Source address, in network order.
    pub saddr: [u8; 4],
    /// Destination address, in network order.
    pub daddr: [u8; 4],
}

impl Ipv4Header {
    /// Whether the packet is a fragment: MF is set or the offset is not 0.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }

    /// Whether the packet starts at offset 0, so carries the transport
    /// header: a whole packet or the first fragment.
    pub fn is_first_fragment_or_whole(&self) -> bool {
        self.fragment_offset == 0
    }

    /// The options: bytes 20 to `header_len` of `data`, the slice that was
    /// parsed. Empty if there are none; cut short if `data` is.
    pub fn options<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let end = self.header_len.min(data.len());
        data.get(IPV4_MIN_HEADER..end).unwrap_or(&[])
    }

    /// Length of the payload (transport header and data) as the total
    /// length says: `total_len - header_len`; 0 if that is negative.
    pub fn payload_len(&self) -> usize {
        (self.total_len as usize).saturating_sub(self.header_len)
    }

    /// The payload bytes present in `data`, the slice that was parsed:
    /// from `header_len` to the total length, cut short if `data` is.
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let end = (self.total_len as usize).min(data.len());
        data.get(self.header_len..end).unwrap_or(&[])
    }
}

/// The fields of a TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Length of the header with its options in bytes (data offset * 4):
    /// 20..=60.
    pub header_len: usize,
    /// The flags byte: `FIN` .. `CWR` below.
    pub flags: u8,
    /// Window size.
    pub window: u16,
}

impl TcpHeader {
    /// FIN flag.
    pub const FIN: u8 = 0x01;
    /// SYN flag.
    pub const SYN: u8 = 0x02;
    /// RST flag.
    pub const RST: u8 = 0x04;
    /// PSH flag.
    pub const PSH: u8 = 0x08;
    /// ACK flag.
    pub const ACK: u8 = 0x10;
    /// URG flag.
    pub const URG: u8 = 0x20;
    /// ECE flag.
    pub const ECE: u8 = 0x40;
    /// CWR flag.
    pub const CWR: u8 = 0x80;

    /// Whether every flag of `flags` is set.
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags == flags
    }

    /// The options: bytes 20 to `header_len` of `segment`, the TCP header
    /// and what follows it (see [`Ipv4Header::payload`]). Empty if there
    /// are none; cut short if `segment` is.
    pub fn options<'a>(&self, segment: &'a [u8]) -> &'a [u8] {
        let end = self.header_len.min(segment.len());
        segment.get(TCP_MIN_HEADER..end).unwrap_or(&[])
    }

    /// Length of the data after the header, for an IP payload of
    /// `payload_len` bytes ([`Ipv4Header::payload_len`]); 0 if that is
    /// shorter than the header.
    pub fn data_len(&self, payload_len: usize) -> usize {
        payload_len.saturating_sub(self.header_len)
    }
}

/// The fields of a UDP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpHeader {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Length field (header and payload) as found in the packet (not
    /// verified).
    pub len: u16,
    /// Checksum as found in the packet (not verified).
    pub checksum: u16,
}

/// The fields of an ICMP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpHeader {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// The four bytes after the checksum, whose meaning depends on the type.
    pub rest: [u8; 4],
}

impl IcmpHeader {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 3;
    /// Source quench.
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROB: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Information request.
    pub const INFO_REQUEST: u8 = 15;
    /// Information reply.
    pub const INFO_REPLY: u8 = 16;
    /// Address mask request.
    pub const ADDRESS: u8 = 17;
    /// Address mask reply.
    pub const ADDRESS_REPLY: u8 = 18;
    /// The highest type RFC 1122 knows (`NR_ICMP_TYPES`); netfilter's
    /// connection tracking deems anything above it invalid.
    pub const MAX_KNOWN_TYPE: u8 = 18;

    /// The identifier field: the first two of the four bytes after the
    /// checksum (the echo, timestamp, information and address mask
    /// messages carry one there), whatever the type.
    pub fn id(&self) -> u16 {
        u16::from_be_bytes([self.rest[0], self.rest[1]])
    }

    /// The identifier of an echo request or reply (types 8 and 0).
    pub fn echo_id(&self) -> Option<u16> {
        match self.icmp_type {
            Self::ECHO_REQUEST | Self::ECHO_REPLY => {
                Some(u16::from_be_bytes([self.rest[0], self.rest[1]]))
            }
            _ => None,
        }
    }

    /// Whether this is an error message (types 3, 4, 5, 11 and 12), which
    /// quotes the header of the packet that caused it.
    pub fn is_error(&self) -> bool {
        matches!(
            self.icmp_type,
            Self::DEST_UNREACH
                | Self::SOURCE_QUENCH
                | Self::REDIRECT
                | Self::TIME_EXCEEDED
                | Self::PARAMETER_PROB
        )
    }
}

/// The transport header of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP header.
    Tcp(TcpHeader),
    /// A UDP header.
    Udp(UdpHeader),
    /// An ICMP header.
    Icmp(IcmpHeader),
    /// A protocol without a parser here.
    Other,
    /// A fragment with non-zero offset: no transport header.
    Fragment,
    /// A TCP, UDP or ICMP header cut short of its fixed part (TCP 20 bytes,
    /// UDP and ICMP 8): only [`parse_for_rules`] returns it. `ports` are
    /// the first four bytes of a TCP or UDP header when present (all that
    /// multiport reads).
    Truncated {
        /// Source and destination port, if their four bytes are there.
        ports: Option<(u16, u16)>,
    },
}

/// A parsed packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The IPv4 header.
    pub ip: Ipv4Header,
    /// The transport header.
    pub transport: Transport,
}

/// `N` bytes of `data` from `at`, if there are that many.
fn array<const N: usize>(data: &[u8], at: usize) -> Option<[u8; N]> {
    data.get(at..)?.get(..N)?.try_into().ok()
}

/// Parse the IPv4 packet whose first bytes are `data`; `packet_len` is the
/// length of the whole packet (skb->len) — `data` may be a prefix of it
/// (the caller's linear data or a copy: for tracking, at least
/// [`crate::conntrack::tuple::tracking_span`] bytes of it).
///
/// Bytes of `data` beyond the total length are ignored. The transport
/// header must lie within the total length, and its fixed part (TCP 20
/// bytes, UDP 8, ICMP 8) within `data` too; TCP options need not be in
/// `data`, but the TCP header length must fit in the total length.
///
/// # Errors
///
/// A [`ParseError`] saying which check (see the module documentation)
/// failed first.
pub fn parse(data: &[u8], packet_len: usize) -> Result<Packet, ParseError> {
    let ip = parse_ip(data, packet_len)?;
    let transport = transport_of(&ip, data)?;
    Ok(Packet { ip, transport })
}

/// The transport header of the packet `data` whose IPv4 header is `ip`.
fn transport_of(ip: &Ipv4Header, data: &[u8]) -> Result<Transport, ParseError> {
    if !ip.is_first_fragment_or_whole() {
        return Ok(Transport::Fragment);
    }
    // The bytes of the packet that we have, after the IP header (which
    // parse_ip found within data and the total length).
    let total = ip.total_len as usize;
    let avail = data.len().min(total);
    let l4 = data.get(ip.header_len..avail).unwrap_or(&[]);
    parse_transport(ip.protocol, l4, total.saturating_sub(ip.header_len))
}

/// The total length of a packet of `packet_len` bytes whose IPv4 header
/// says `field`: the field, or the packet's length when the field is 0
/// and the packet longer than the field can say. Such a packet is an IPv4
/// BIG TCP one, a GSO packet of more than 65,535 bytes
/// (`iph_set_totlen`), which the kernel reads so (`iph_totlen`); no
/// other packet that long reaches a hook (the input path drops one whose
/// length is not its header's, and nothing else sends one).
#[inline(always)]
pub fn total_length(field: u16, packet_len: usize) -> usize {
    match field {
        0 if packet_len > usize::from(u16::MAX) => packet_len,
        n => usize::from(n),
    }
}

/// The checks of [`parse`] up to the transport header: the IPv4 header.
fn parse_ip(data: &[u8], packet_len: usize) -> Result<Ipv4Header, ParseError> {
    ipv4_header(data, data.len(), packet_len)
}

/// The checks of [`parse`] on the IPv4 header alone (checks 1 to 5 of the
/// module documentation), for a caller that reads only the fixed part:
/// `head` holds the packet's first bytes, of which only the first 20 are
/// read, and the options need only be within the packet (`packet_len`),
/// not within `head`.
///
/// For `data` holding the first `min(packet_len, n)` bytes of a packet, with
/// `n` at least 60 (the longest header), this gives what [`parse`] and
/// [`parse_for_rules`] find about the IPv4 header: it fails exactly where
/// [`parse_for_rules`] fails, and with the same error.
///
/// # Errors
///
/// [`ParseError::Truncated`] when `head` holds fewer than 20 bytes or the
/// header with its options is longer than the packet;
/// [`ParseError::NotIpv4`], [`ParseError::BadHeaderLength`] and
/// [`ParseError::BadTotalLength`] as for [`parse`].
pub fn parse_ipv4_header(head: &[u8], packet_len: usize) -> Result<Ipv4Header, ParseError> {
    ipv4_header(head, packet_len, packet_len)
}

/// The IPv4 header at the start of `data`, whose options must lie within
/// the first `present` bytes of the packet (those of `data`, or the whole
/// packet); `packet_len` is the length of the packet.
fn ipv4_header(data: &[u8], present: usize, packet_len: usize) -> Result<Ipv4Header, ParseError> {
    let h: [u8; IPV4_MIN_HEADER] = array(data, 0).ok_or(ParseError::Truncated)?;
    if h[0] >> 4 != 4 {
        return Err(ParseError::NotIpv4);
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        return Err(ParseError::BadHeaderLength);
    }
    if present < header_len {
        return Err(ParseError::Truncated);
    }
    let total = total_length(u16::from_be_bytes([h[2], h[3]]), packet_len);
    if total < header_len || total > packet_len {
        return Err(ParseError::BadTotalLength);
    }
    let frag = u16::from_be_bytes([h[6], h[7]]);
    Ok(Ipv4Header {
        header_len,
        tos: h[1],
        total_len: total as u32,
        id: u16::from_be_bytes([h[4], h[5]]),
        dont_fragment: frag & 0x4000 != 0,
        more_fragments: frag & 0x2000 != 0,
        fragment_offset: frag & 0x1fff,
        ttl: h[8],
        protocol: h[9],
        checksum: u16::from_be_bytes([h[10], h[11]]),
        saddr: [h[12], h[13], h[14], h[15]],
        daddr: [h[16], h[17], h[18], h[19]],
    })
}

/// [`parse`] for the rule walk, which reads transport headers as
/// ip_tables' matches do (`skb_header_pointer` of the fixed header):
///
/// - a TCP header whose 20 bytes are there is [`Transport::Tcp`] whatever
///   its data offset (`header_len` is then the offset as written, possibly
///   below 20 or beyond the packet): the tcp match reads ports and flags;
/// - a TCP, UDP or ICMP header cut shorter is [`Transport::Truncated`]:
///   the walk drops the packet at the first match that needs the header
///   (`hotdrop`), and lets it pass the rules that do not.
///
/// # Errors
///
/// The [`ParseError`]s of [`parse`] about the IPv4 header.
pub fn parse_for_rules(data: &[u8], packet_len: usize) -> Result<Packet, ParseError> {
    let ip = parse_ip(data, packet_len)?;
    let transport = match transport_of(&ip, data) {
        Ok(t) => t,
        Err(_) => {
            // The bytes of the transport header there are.
            let total = ip.total_len as usize;
            let l4 = data
                .get(ip.header_len..data.len().min(total))
                .unwrap_or(&[]);
            match array::<TCP_MIN_HEADER>(l4, 0) {
                Some(t) if ip.protocol == IPPROTO_TCP => Transport::Tcp(tcp_header(&t)),
                _ => Transport::Truncated {
                    ports: array::<4>(l4, 0)
                        .filter(|_| matches!(ip.protocol, IPPROTO_TCP | IPPROTO_UDP))
                        .map(|p| {
                            (
                                u16::from_be_bytes([p[0], p[1]]),
                                u16::from_be_bytes([p[2], p[3]]),
                            )
                        }),
                },
            }
        }
    };
    Ok(Packet { ip, transport })
}

/// What the rules read of a packet's headers: [`parse_for_rules`]'s
/// [`Packet`] without the fields no match reads (identification, TTL,
/// checksums, TCP sequence numbers and window), so that the walk's view of
/// a packet is a few words, filled by [`parse_headers`] straight from the
/// bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers {
    /// Source address, in network order.
    pub saddr: [u8; 4],
    /// Destination address, in network order.
    pub daddr: [u8; 4],
    /// Protocol of the payload (`IPPROTO_*`).
    pub protocol: u8,
    /// Type of service (DSCP and ECN).
    pub tos: u8,
    /// Total length of the packet in bytes, header included
    /// ([`Ipv4Header::total_len`]).
    pub total_len: u32,
    /// Fragment offset in 8-byte units: not 0 for a later fragment.
    pub fragment_offset: u16,
    /// What the rules read of the transport header.
    pub l4: L4,
}

/// What the rules read of a transport header: [`Transport`]'s cases with
/// the ports, the TCP flags and the ICMP type and code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4 {
    /// A TCP header with its fixed 20 bytes.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// The flags byte ([`TcpHeader::FIN`] ..).
        flags: u8,
    },
    /// A UDP header.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// An ICMP header.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// A protocol without a parser here.
    Other,
    /// A fragment with non-zero offset: no transport header.
    Fragment,
    /// A TCP, UDP or ICMP header cut short of its fixed part, with its
    /// ports if their four bytes are there (see [`Transport::Truncated`]).
    Truncated {
        /// Source and destination port.
        ports: Option<(u16, u16)>,
    },
}

impl From<&Packet> for Headers {
    fn from(p: &Packet) -> Headers {
        let l4 = match p.transport {
            Transport::Tcp(t) => L4::Tcp {
                sport: t.sport,
                dport: t.dport,
                flags: t.flags,
            },
            Transport::Udp(u) => L4::Udp {
                sport: u.sport,
                dport: u.dport,
            },
            Transport::Icmp(i) => L4::Icmp {
                icmp_type: i.icmp_type,
                code: i.code,
            },
            Transport::Other => L4::Other,
            Transport::Fragment => L4::Fragment,
            Transport::Truncated { ports } => L4::Truncated { ports },
        };
        Headers {
            saddr: p.ip.saddr,
            daddr: p.ip.daddr,
            protocol: p.ip.protocol,
            tos: p.ip.tos,
            total_len: p.ip.total_len,
            fragment_offset: p.ip.fragment_offset,
            l4,
        }
    }
}

/// How many bytes from its start [`parse_headers`] reads of a packet whose
/// first bytes are `head`: the IPv4 header the first byte's length field
/// gives, then a TCP header's fixed part, the longest transport header it
/// reads ([`HEADERS_SPAN_MAX`] when `head` is empty). A prefix of a
/// packet of `packet_len` bytes at least `min(packet_len,
/// headers_span(prefix))` long parses as the whole packet does, so a
/// caller with such a prefix in place need not copy (as
/// [`crate::conntrack::tuple::tracking_span`] says for tracking).
#[inline(always)]
pub fn headers_span(head: &[u8]) -> usize {
    head.first().map_or(HEADERS_SPAN_MAX, |&b| {
        usize::from(b & 0x0f) * 4 + TCP_MIN_HEADER
    })
}

/// The largest [`headers_span`]: an IPv4 header of 15 words and a TCP
/// header's fixed part. A prefix of `min(packet_len, HEADERS_SPAN_MAX)`
/// bytes parses as the whole packet does, whatever its first byte.
pub const HEADERS_SPAN_MAX: usize = 15 * 4 + TCP_MIN_HEADER;

/// [`parse_for_rules`] reading only what the rules read: equal to
/// `parse_for_rules(data, packet_len).map(|p| Headers::from(&p))`, with
/// the same errors, but without filling the fields no rule reads. This is
/// the parse of every packet that meets a table, so it reads the fixed
/// IPv4 header once and the transport header's first bytes once.
///
/// # Errors
///
/// The [`ParseError`]s of [`parse`] about the IPv4 header.
#[inline]
pub fn parse_headers(data: &[u8], packet_len: usize) -> Result<Headers, ParseError> {
    let Some(h) = data.first_chunk::<IPV4_MIN_HEADER>() else {
        return Err(ParseError::Truncated);
    };
    // Version 4 and a header of 5 to 15 words: one range of the first
    // byte. Which of the two it is not is only asked when it is not.
    if !(0x45..=0x4f).contains(&h[0]) {
        return Err(match h[0] >> 4 {
            4 => ParseError::BadHeaderLength,
            _ => ParseError::NotIpv4,
        });
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if data.len() < header_len {
        return Err(ParseError::Truncated);
    }
    let total = total_length(u16::from_be_bytes([h[2], h[3]]), packet_len);
    if total < header_len || total > packet_len {
        return Err(ParseError::BadTotalLength);
    }
    let total_len = total as u32;
    let fragment_offset = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
    let protocol = h[9];
    let l4 = if fragment_offset != 0 {
        L4::Fragment
    } else {
        // The transport bytes there are: those present after the IPv4
        // header (`rest`), within the total length (`room` of them).
        let rest = data.get(header_len..).unwrap_or(&[]);
        let room = total - header_len;
        let be16 = |hi: u8, lo: u8| u16::from_be_bytes([hi, lo]);
        match protocol {
            IPPROTO_TCP => match take::<TCP_MIN_HEADER>(rest, room) {
                Some(t) => L4::Tcp {
                    sport: be16(t[0], t[1]),
                    dport: be16(t[2], t[3]),
                    flags: t[13],
                },
                None => L4::Truncated {
                    ports: truncated_ports(rest, room),
                },
            },
            IPPROTO_UDP => match take::<UDP_HEADER>(rest, room) {
                Some(u) => L4::Udp {
                    sport: be16(u[0], u[1]),
                    dport: be16(u[2], u[3]),
                },
                None => L4::Truncated {
                    ports: truncated_ports(rest, room),
                },
            },
            IPPROTO_ICMP => match take::<ICMP_HEADER>(rest, room) {
                Some(i) => L4::Icmp {
                    icmp_type: i[0],
                    code: i[1],
                },
                None => L4::Truncated { ports: None },
            },
            _ => L4::Other,
        }
    };
    Ok(Headers {
        saddr: [h[12], h[13], h[14], h[15]],
        daddr: [h[16], h[17], h[18], h[19]],
        protocol,
        tos: h[1],
        total_len,
        fragment_offset,
        l4,
    })
}

/// The first `N` bytes of `rest` if there are that many and `room`
/// allows them: a header within both the bytes present and the packet's
/// total length.
#[inline(always)]
fn take<const N: usize>(rest: &[u8], room: usize) -> Option<&[u8; N]> {
    match room >= N {
        true => rest.first_chunk::<N>(),
        false => None,
    }
}

/// The ports of a TCP or UDP header cut short ([`L4::Truncated`]), if
/// their four bytes are there: out of line, off the path of whole headers.
#[inline(never)]
fn truncated_ports(rest: &[u8], room: usize) -> Option<(u16, u16)> {
    take::<4>(rest, room).map(|p| {
        (
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        )
    })
}

/// The TCP header whose fixed 20 bytes are `t`, with the header length its
/// data offset says.
fn tcp_header(t: &[u8; TCP_MIN_HEADER]) -> TcpHeader {
    TcpHeader {
        sport: u16::from_be_bytes([t[0], t[1]]),
        dport: u16::from_be_bytes([t[2], t[3]]),
        seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
        header_len: usize::from(t[12] >> 4) * 4,
        flags: t[13],
        window: u16::from_be_bytes([t[14], t[15]]),
    }
}

/// Parse the transport header of protocol `protocol` at the start of `l4`,
/// the bytes present; `l4_len` is the length of the IP payload.
fn parse_transport(protocol: u8, l4: &[u8], l4_len: usize) -> Result<Transport, ParseError> {
    match protocol {
        IPPROTO_TCP => {
            let t: [u8; TCP_MIN_HEADER] = array(l4, 0).ok_or(ParseError::TruncatedTransport)?;
            let header_len = usize::from(t[12] >> 4) * 4;
            if header_len < TCP_MIN_HEADER {
                return Err(ParseError::BadTcpDataOffset);
            }
            if header_len > l4_len {
                return Err(ParseError::TruncatedTransport);
            }
            Ok(Transport::Tcp(tcp_header(&t)))
        }
        IPPROTO_UDP => {
            let u: [u8; UDP_HEADER] = array(l4, 0).ok_or(ParseError::TruncatedTransport)?;
            Ok(Transport::Udp(UdpHeader {
                sport: u16::from_be_bytes([u[0], u[1]]),
                dport: u16::from_be_bytes([u[2], u[3]]),
                len: u16::from_be_bytes([u[4], u[5]]),
                checksum: u16::from_be_bytes([u[6], u[7]]),
            }))
        }
        IPPROTO_ICMP => {
            let i: [u8; ICMP_HEADER] = array(l4, 0).ok_or(ParseError::TruncatedTransport)?;
            Ok(Transport::Icmp(IcmpHeader {
                icmp_type: i[0],
                code: i[1],
                rest: [i[4], i[5], i[6], i[7]],
            }))
        }
        _ => Ok(Transport::Other),
    }
}

/// The RFC 1071 one's complement sum of `bytes` (an odd last byte is padded
/// with zero), folded to 16 bits, not complemented.
fn ones_complement_sum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = match *pair {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            [hi] => u16::from_be_bytes([hi, 0]),
            _ => 0,
        };
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // One fold per word keeps `sum` within 17 bits; finish the carry.
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u16
}

/// Whether the IPv4 header checksum is right: the RFC 1071 sum over the
/// first `header_len` bytes of `data`, checksum field included, is 0xffff.
/// False if `header_len` is not in 20..=60 or `data` is shorter.
pub fn header_checksum_ok(data: &[u8], header_len: usize) -> bool {
    if !(IPV4_MIN_HEADER..=60).contains(&header_len) {
        return false;
    }
    match data.get(..header_len) {
        Some(header) => ones_complement_sum(header) == 0xffff,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::rules::plain::PlainKey;
    use std::vec;
    use std::vec::Vec;

    /// The checksum to store in a header whose checksum field is zero.
    fn checksum(bytes: &[u8]) -> u16 {
        !ones_complement_sum(bytes)
    }

    /// An IPv4 packet: IHL `ihl`, protocol `proto`, flags+offset word
    /// `frag`, payload `payload`; options are 0x01 (NOP) bytes. The header
    /// checksum is filled in.
    fn ipv4(ihl: u8, proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
        let hl = usize::from(ihl) * 4;
        let total = (hl + payload.len()) as u16;
        let mut p = vec![
            0x40 | ihl,
            0x10,
            (total >> 8) as u8,
            total as u8,
            0xbe,
            0xef,
            (frag >> 8) as u8,
            frag as u8,
            63,
            proto,
            0,
            0,
            10,
            0,
            0,
            1,
            10,
            0,
            0,
            2,
        ];
        p.resize(hl, 0x01);
        let c = checksum(&p);
        p[10] = (c >> 8) as u8;
        p[11] = c as u8;
        p.extend_from_slice(payload);
        p
    }

    /// A TCP header with data offset `doff` (options 0x01 NOP), flags
    /// `flags`, followed by `payload_len` zero bytes.
    #[rustfmt::skip]
    fn tcp(doff: u8, flags: u8, payload_len: usize) -> Vec<u8> {
        let mut t = vec![
            0xc3, 0x50, // sport 50000
            0x00, 0x50, // dport 80
            0x12, 0x34, 0x56, 0x78, // seq
            0x9a, 0xbc, 0xde, 0xf0, // ack
            doff << 4, flags, 0xfa, 0xf0, // window 64240
            0x00, 0x00, 0x00, 0x00, // checksum, urgent pointer
        ];
        t.resize(usize::from(doff.max(5)) * 4, 0x01);
        t.resize(t.len() + payload_len, 0);
        t
    }

    fn udp(payload_len: usize) -> Vec<u8> {
        let len = (8 + payload_len) as u16;
        let mut u = vec![
            0x9c,
            0x40,
            0x00,
            0x35,
            (len >> 8) as u8,
            len as u8,
            0xab,
            0xcd,
        ];
        u.resize(u.len() + payload_len, 0x55);
        u
    }

    /// A ping from 192.168.1.10 to 8.8.8.8 as Linux `ping` sends it: DF,
    /// TTL 64, 56 data bytes (16 timestamp bytes, then 0x10..0x37).
    #[rustfmt::skip]
    const PING: [u8; 84] = [
        // IPv4: version 4, IHL 5, tos 0, total 84, id 0x1c46, DF, ttl 64,
        // ICMP, checksum 0x4ca1
        0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00,
        0x40, 0x01, 0x4c, 0xa1, 0xc0, 0xa8, 0x01, 0x0a,
        0x08, 0x08, 0x08, 0x08,
        // ICMP echo request, checksum 0x1a23, id 0x0a1b, seq 1
        0x08, 0x00, 0x1a, 0x23, 0x0a, 0x1b, 0x00, 0x01,
        0x5f, 0x3a, 0x1e, 0x65, 0x00, 0x00, 0x00, 0x00,
        0x8c, 0x4e, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    fn tcp_of(p: &Packet) -> TcpHeader {
        match p.transport {
            Transport::Tcp(t) => t,
            other => panic!("not TCP: {other:?}"),
        }
    }

    fn udp_of(p: &Packet) -> UdpHeader {
        match p.transport {
            Transport::Udp(u) => u,
            other => panic!("not UDP: {other:?}"),
        }
    }

    fn icmp_of(p: &Packet) -> IcmpHeader {
        match p.transport {
            Transport::Icmp(i) => i,
            other => panic!("not ICMP: {other:?}"),
        }
    }

    #[test]
    fn icmp_echo_request() {
        assert!(header_checksum_ok(&PING, 20));
        // The ICMP checksum is right too: the sum over the message is 0xffff.
        assert_eq!(ones_complement_sum(&PING[20..]), 0xffff);
        let p = parse(&PING, PING.len()).unwrap();
        assert_eq!(
            p.ip,
            Ipv4Header {
                header_len: 20,
                tos: 0,
                total_len: 84,
                id: 0x1c46,
                dont_fragment: true,
                more_fragments: false,
                fragment_offset: 0,
                ttl: 64,
                protocol: IPPROTO_ICMP,
                checksum: 0x4ca1,
                saddr: [192, 168, 1, 10],
                daddr: [8, 8, 8, 8],
            }
        );
        let i = icmp_of(&p);
        assert_eq!(
            i,
            IcmpHeader {
                icmp_type: 8,
                code: 0,
                rest: [0x0a, 0x1b, 0x00, 0x01]
            }
        );
        assert_eq!(i.echo_id(), Some(0x0a1b));
        assert!(!i.is_error());
        assert!(!p.ip.is_fragment());
        assert!(p.ip.is_first_fragment_or_whole());
        assert_eq!(p.ip.options(&PING), &[] as &[u8]);
        // The module's 128-byte copy of a bigger packet: same result.
        assert_eq!(parse(&PING[..28], PING.len()), Ok(p));
    }

    #[test]
    fn icmp_types() {
        for t in 0..=255u8 {
            let mut pkt = PING;
            pkt[20] = t;
            let i = icmp_of(&parse(&pkt, pkt.len()).unwrap());
            assert_eq!(i.icmp_type, t);
            assert_eq!(i.is_error(), [3, 4, 5, 11, 12].contains(&t), "type {t}");
            let want = if t == 0 || t == 8 { Some(0x0a1b) } else { None };
            assert_eq!(i.echo_id(), want, "type {t}");
        }
        // A port unreachable quoting a UDP header.
        let mut msg = vec![3, 3, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&ipv4(5, IPPROTO_UDP, 0, &udp(0)));
        let pkt = ipv4(5, IPPROTO_ICMP, 0, &msg);
        let i = icmp_of(&parse(&pkt, pkt.len()).unwrap());
        assert_eq!((i.icmp_type, i.code, i.rest), (3, 3, [0; 4]));
        assert!(i.is_error());
        assert_eq!(i.echo_id(), None);
    }

    #[test]
    fn payload_and_tcp_accessors() {
        // IHL 6, TCP with 8 option bytes and 30 bytes of data.
        let mut seg = tcp(7, TcpHeader::SYN | TcpHeader::ACK, 30);
        seg[20..28].copy_from_slice(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
        let pkt = ipv4(6, IPPROTO_TCP, 0, &seg);
        let p = parse(&pkt, pkt.len()).unwrap();
        assert_eq!(p.ip.payload_len(), 28 + 30);
        let l4 = p.ip.payload(&pkt);
        assert_eq!(l4, &seg[..]);
        let t = tcp_of(&p);
        assert_eq!(t.options(l4), &[2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
        assert_eq!(t.data_len(p.ip.payload_len()), 30);
        assert!(t.has(TcpHeader::SYN) && t.has(TcpHeader::SYN | TcpHeader::ACK));
        assert!(!t.has(TcpHeader::SYN | TcpHeader::FIN));
        // Cut short by the slice: options and payload are clamped.
        assert_eq!(p.ip.payload(&pkt[..30]), &seg[..6]);
        assert_eq!(t.options(&seg[..23]), &seg[20..23]);
        assert_eq!(t.options(&seg[..10]), &[] as &[u8]);
        assert_eq!(p.ip.payload(&pkt[..10]), &[] as &[u8]);
        // Padding beyond the total length is not payload.
        let mut padded = pkt.clone();
        padded.resize(pkt.len() + 6, 0xee);
        assert_eq!(p.ip.payload(&padded), &seg[..]);
        // No options; a header longer than the payload says has no data.
        let t5 = tcp_of(&parse(&ipv4(5, IPPROTO_TCP, 0, &tcp(5, 0, 0)), 40).unwrap());
        assert_eq!(t5.options(&tcp(5, 0, 0)), &[] as &[u8]);
        assert_eq!(t5.data_len(10), 0);
        // A header whose total length is below its header length (not one
        // that parse accepts) still gives 0, not an underflow.
        let mut ip = p.ip;
        ip.total_len = 10;
        assert_eq!(ip.payload_len(), 0);
        assert_eq!(ip.payload(&pkt), &[] as &[u8]);
        // The ICMP identifier of any type.
        let i = icmp_of(&parse(&PING, PING.len()).unwrap());
        assert_eq!(i.id(), 0x0a1b);
        assert_eq!(IcmpHeader::ADDRESS_REPLY, IcmpHeader::MAX_KNOWN_TYPE);
    }

    #[test]
    fn udp_wikipedia_header() {
        // The worked example of the IPv4 header checksum article.
        let mut pkt = vec![
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(header_checksum_ok(&pkt, 20));
        // 0x73 = 115 bytes: a DNS reply from port 53 to 40000.
        pkt.extend_from_slice(&[0x00, 0x35, 0x9c, 0x40, 0x00, 0x5f, 0x12, 0x34]);
        pkt.resize(115, 0);
        let p = parse(&pkt, 115).unwrap();
        assert_eq!(p.ip.total_len, 115);
        assert_eq!(p.ip.protocol, IPPROTO_UDP);
        assert_eq!(p.ip.saddr, [192, 168, 0, 1]);
        assert_eq!(p.ip.daddr, [192, 168, 0, 199]);
        assert_eq!(p.ip.checksum, 0xb861);
        assert!(p.ip.dont_fragment);
        assert_eq!(
            udp_of(&p),
            UdpHeader {
                sport: 53,
                dport: 40000,
                len: 95,
                checksum: 0x1234
            }
        );
    }

    #[test]
    fn udp_built() {
        let pkt = ipv4(5, IPPROTO_UDP, 0, &udp(12));
        assert!(header_checksum_ok(&pkt, 20));
        let p = parse(&pkt, pkt.len()).unwrap();
        assert_eq!(p.ip.total_len, 40);
        assert_eq!(p.ip.tos, 0x10);
        assert_eq!(p.ip.id, 0xbeef);
        assert_eq!(p.ip.ttl, 63);
        assert!(!p.ip.dont_fragment && !p.ip.more_fragments);
        assert_eq!(
            udp_of(&p),
            UdpHeader {
                sport: 40000,
                dport: 53,
                len: 20,
                checksum: 0xabcd
            }
        );
        // Header only, no payload: exactly 28 bytes.
        let pkt = ipv4(5, IPPROTO_UDP, 0, &udp(0));
        assert_eq!(udp_of(&parse(&pkt, 28).unwrap()).len, 8);
        // 7 bytes of UDP.
        let pkt = ipv4(5, IPPROTO_UDP, 0, &udp(0)[..7]);
        assert_eq!(parse(&pkt, 27), Err(ParseError::TruncatedTransport));
    }

    #[test]
    fn tcp_syn_with_options_in_a_prefix() {
        // SYN with 12 bytes of options (data offset 8): 52 bytes in all,
        // of which the caller copied only 40.
        let pkt = ipv4(5, IPPROTO_TCP, 0x4000, &tcp(8, TcpHeader::SYN, 0));
        assert_eq!(pkt.len(), 52);
        let p = parse(&pkt[..40], 52).unwrap();
        assert_eq!(p.ip.total_len, 52);
        assert_eq!(
            tcp_of(&p),
            TcpHeader {
                sport: 50000,
                dport: 80,
                seq: 0x1234_5678,
                ack: 0x9abc_def0,
                header_len: 32,
                flags: TcpHeader::SYN,
                window: 64240,
            }
        );
        assert_eq!(parse(&pkt, 52), Ok(p));
        // A bigger packet_len (the skb has trailing bytes) changes nothing.
        assert_eq!(parse(&pkt[..40], 1500), Ok(p));
        // The fixed 20 bytes must be there: one byte less is not enough.
        assert_eq!(parse(&pkt[..39], 52), Err(ParseError::TruncatedTransport));
    }

    #[test]
    fn tcp_flags_and_fields() {
        for flags in 0..=255u8 {
            let pkt = ipv4(5, IPPROTO_TCP, 0, &tcp(5, flags, 3));
            let t = tcp_of(&parse(&pkt, pkt.len()).unwrap());
            assert_eq!(t.flags, flags);
            assert_eq!(t.header_len, 20);
        }
        let pkt = ipv4(
            5,
            IPPROTO_TCP,
            0,
            &tcp(5, TcpHeader::ACK | TcpHeader::PSH, 0),
        );
        assert_eq!(tcp_of(&parse(&pkt, 40).unwrap()).flags, 0x18);
        assert_eq!(
            [
                TcpHeader::FIN,
                TcpHeader::SYN,
                TcpHeader::RST,
                TcpHeader::PSH,
                TcpHeader::ACK,
                TcpHeader::URG,
                TcpHeader::ECE,
                TcpHeader::CWR
            ],
            [1, 2, 4, 8, 16, 32, 64, 128]
        );
        // The NS/AE bit next to the data offset does not change the length.
        let mut pkt = ipv4(5, IPPROTO_TCP, 0, &tcp(5, 0, 0));
        pkt[32] |= 0x01;
        assert_eq!(tcp_of(&parse(&pkt, 40).unwrap()).header_len, 20);
        // The largest TCP header.
        let pkt = ipv4(15, IPPROTO_TCP, 0, &tcp(15, TcpHeader::SYN, 0));
        let p = parse(&pkt, 120).unwrap();
        assert_eq!((p.ip.header_len, tcp_of(&p).header_len), (60, 60));
    }

    #[test]
    fn tcp_data_offset() {
        for doff in 0..5u8 {
            let pkt = ipv4(5, IPPROTO_TCP, 0, &tcp(doff, TcpHeader::SYN, 0));
            assert_eq!(
                parse(&pkt, pkt.len()),
                Err(ParseError::BadTcpDataOffset),
                "{doff}"
            );
        }
        // Data offset 15 (60 bytes) in a packet with 40 bytes of TCP.
        let mut pkt = ipv4(5, IPPROTO_TCP, 0, &tcp(10, 0, 0));
        assert_eq!(tcp_of(&parse(&pkt, 60).unwrap()).header_len, 40);
        pkt[32] = 11 << 4;
        assert_eq!(parse(&pkt, 60), Err(ParseError::TruncatedTransport));
        pkt[32] = 15 << 4;
        assert_eq!(parse(&pkt, 60), Err(ParseError::TruncatedTransport));
    }

    #[test]
    fn transport_limited_by_total_length() {
        // 30 bytes of data, but the total length says 20 + 10: trailing
        // bytes (Ethernet padding) are not TCP.
        let mut pkt = ipv4(5, IPPROTO_TCP, 0, &tcp(5, 0, 0)[..10]);
        pkt.resize(40, 0);
        assert_eq!(parse(&pkt, 40), Err(ParseError::TruncatedTransport));
        let mut pkt = ipv4(5, IPPROTO_ICMP, 0, &PING[20..27]);
        pkt.resize(40, 0);
        assert_eq!(parse(&pkt, 40), Err(ParseError::TruncatedTransport));
        // Padding after a complete header is fine, and ignored.
        let mut pkt = ipv4(5, IPPROTO_UDP, 0, &udp(0));
        pkt.resize(60, 0xff);
        let p = parse(&pkt, 60).unwrap();
        assert_eq!(p.ip.total_len, 28);
        assert_eq!(udp_of(&p).sport, 40000);
    }

    #[test]
    fn ip_options() {
        for ihl in 5..=15u8 {
            let mut pkt = ipv4(ihl, IPPROTO_UDP, 0, &udp(4));
            let hl = usize::from(ihl) * 4;
            // Distinct option bytes: a record-route-like pattern.
            for (k, b) in pkt[20..hl].iter_mut().enumerate() {
                *b = k as u8 + 1;
            }
            pkt[10] = 0;
            pkt[11] = 0;
            let c = checksum(&pkt[..hl]);
            pkt[10..12].copy_from_slice(&c.to_be_bytes());
            assert!(header_checksum_ok(&pkt, hl));
            let p = parse(&pkt, pkt.len()).unwrap();
            assert_eq!(p.ip.header_len, hl);
            assert_eq!(p.ip.total_len as usize, hl + 12);
            let opts = p.ip.options(&pkt);
            assert_eq!(opts.len(), hl - 20);
            assert!(opts.iter().enumerate().all(|(k, &b)| b == k as u8 + 1));
            assert_eq!(
                udp_of(&p),
                UdpHeader {
                    sport: 40000,
                    dport: 53,
                    len: 12,
                    checksum: 0xabcd
                }
            );
            // options() clamps to the slice it is given.
            assert_eq!(p.ip.options(&pkt[..21]), &pkt[20..21.min(hl)]);
            assert_eq!(p.ip.options(&pkt[..10]), &[] as &[u8]);
            // One byte of the options missing.
            assert_eq!(parse(&pkt[..hl - 1], pkt.len()), Err(ParseError::Truncated));
        }
    }

    #[test]
    fn errors() {
        let good = ipv4(5, IPPROTO_UDP, 0, &udp(0));
        assert!(parse(&good, 28).is_ok());

        assert_eq!(parse(&[], 0), Err(ParseError::Truncated));
        assert_eq!(parse(&good[..19], 28), Err(ParseError::Truncated));

        for v in [0u8, 1, 5, 6, 15] {
            let mut p = good.clone();
            p[0] = v << 4 | 5;
            assert_eq!(parse(&p, 28), Err(ParseError::NotIpv4), "version {v}");
        }
        // A real IPv6 header.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        v6.resize(48, 0);
        assert_eq!(parse(&v6, 48), Err(ParseError::NotIpv4));

        for ihl in 0..5u8 {
            let mut p = good.clone();
            p[0] = 0x40 | ihl;
            assert_eq!(parse(&p, 28), Err(ParseError::BadHeaderLength), "ihl {ihl}");
        }

        // IHL 6 but only 20 bytes.
        let mut p = good[..20].to_vec();
        p[0] = 0x46;
        assert_eq!(parse(&p, 28), Err(ParseError::Truncated));

        for total in [0u16, 1, 19] {
            let mut p = good.clone();
            p[2..4].copy_from_slice(&total.to_be_bytes());
            assert_eq!(
                parse(&p, 28),
                Err(ParseError::BadTotalLength),
                "total {total}"
            );
        }
        // Total length less than a header with options.
        let mut p = ipv4(6, 99, 0, &[]);
        assert!(parse(&p, 24).is_ok());
        p[3] = 23;
        assert_eq!(parse(&p, 24), Err(ParseError::BadTotalLength));
        // Total length more than the packet.
        assert_eq!(parse(&good, 27), Err(ParseError::BadTotalLength));
        assert_eq!(parse(&good, 0), Err(ParseError::BadTotalLength));
        // Less is fine: the rest is padding.
        assert!(parse(&good, 29).is_ok());

        let p = ipv4(5, IPPROTO_TCP, 0, &tcp(5, 0, 0)[..19]);
        assert_eq!(parse(&p, p.len()), Err(ParseError::TruncatedTransport));
        let p = ipv4(5, IPPROTO_TCP, 0, &tcp(4, 0, 0));
        assert_eq!(parse(&p, p.len()), Err(ParseError::BadTcpDataOffset));
        // No transport bytes at all.
        for proto in [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP] {
            let p = ipv4(5, proto, 0, &[]);
            assert_eq!(parse(&p, 20), Err(ParseError::TruncatedTransport));
        }
        // For the rule walk they are packets without a transport header;
        // the IPv4 header's errors stay errors.
        let t = tcp(5, 0, 0);
        let u = udp(8);
        let port = |b: &[u8], at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        for (p, ports) in [
            (
                ipv4(5, IPPROTO_TCP, 0, &t[..19]),
                Some((port(&t, 0), port(&t, 2))),
            ),
            (ipv4(5, IPPROTO_TCP, 0, &t[..3]), None),
            (
                ipv4(5, IPPROTO_UDP, 0, &u[..7]),
                Some((port(&u, 0), port(&u, 2))),
            ),
            (ipv4(5, IPPROTO_UDP, 0, &[]), None),
            (ipv4(6, IPPROTO_ICMP, 0, &[8, 0, 0, 0, 1]), None),
        ] {
            let r = parse_for_rules(&p, p.len()).unwrap();
            assert_eq!(r.transport, Transport::Truncated { ports });
            assert_eq!(
                parse_headers(&p, p.len()).unwrap().l4,
                L4::Truncated { ports }
            );
            assert_eq!(r.ip.total_len as usize, p.len());
            assert_eq!(r.ip.protocol, p[9]);
        }
        // A TCP header with its 20 bytes but a data offset below 5 or
        // beyond the segment: read as ip_tables' tcp match reads it.
        for doff in [4u8, 15] {
            let p = ipv4(5, IPPROTO_TCP, 0, &tcp(doff, TcpHeader::SYN, 0)[..20]);
            assert!(parse(&p, p.len()).is_err());
            let h = tcp_of(&parse_for_rules(&p, p.len()).unwrap());
            assert_eq!(
                (h.header_len, h.flags),
                (usize::from(doff) * 4, TcpHeader::SYN)
            );
        }
        assert_eq!(parse_for_rules(&good, 27), Err(ParseError::BadTotalLength));
        assert_eq!(parse_for_rules(&PING, PING.len()), parse(&PING, PING.len()));

        let all = [
            ParseError::Truncated,
            ParseError::NotIpv4,
            ParseError::BadHeaderLength,
            ParseError::BadTotalLength,
            ParseError::TruncatedTransport,
            ParseError::BadTcpDataOffset,
        ];
        for (k, e) in all.iter().enumerate() {
            assert!(!e.as_str().is_empty());
            assert_eq!(std::format!("{e}"), e.as_str());
            assert!(all[k + 1..].iter().all(|o| o.as_str() != e.as_str()));
        }
    }

    #[test]
    fn fragments() {
        // Later fragment (offset 185 * 8 = 1480) of a TCP packet: no
        // transport header even though the bytes would not make one.
        let pkt = ipv4(5, IPPROTO_TCP, 185, &[0xde, 0xad]);
        let p = parse(&pkt, pkt.len()).unwrap();
        assert_eq!(p.transport, Transport::Fragment);
        assert_eq!(p.ip.fragment_offset, 185);
        assert!(!p.ip.more_fragments);
        assert!(p.ip.is_fragment());
        assert!(!p.ip.is_first_fragment_or_whole());
        // Middle fragment, with MF, of UDP; and one with no payload at all.
        let pkt = ipv4(5, IPPROTO_UDP, 0x2000 | 1, &[0; 8]);
        let p = parse(&pkt, pkt.len()).unwrap();
        assert_eq!(p.transport, Transport::Fragment);
        assert!(p.ip.more_fragments);
        assert_eq!(p.ip.fragment_offset, 1);
        let pkt = ipv4(5, IPPROTO_ICMP, 0x1fff, &[]);
        let p = parse(&pkt, 20).unwrap();
        assert_eq!(
            (p.transport, p.ip.fragment_offset),
            (Transport::Fragment, 0x1fff)
        );

        // First fragment: MF, offset 0, transport parsed.
        let pkt = ipv4(5, IPPROTO_TCP, 0x2000, &tcp(5, TcpHeader::ACK, 100));
        let p = parse(&pkt, pkt.len()).unwrap();
        assert!(p.ip.more_fragments && !p.ip.dont_fragment);
        assert!(p.ip.is_fragment());
        assert!(p.ip.is_first_fragment_or_whole());
        assert_eq!(tcp_of(&p).dport, 80);
        // A tiny first fragment (RFC 1858) is rejected.
        let pkt = ipv4(5, IPPROTO_TCP, 0x2000, &tcp(5, 0, 0)[..8]);
        assert_eq!(parse(&pkt, 28), Err(ParseError::TruncatedTransport));

        // DF and MF together, and the reserved bit, are reported as found.
        let pkt = ipv4(5, 200, 0xe000 | 7, &[]);
        let p = parse(&pkt, 20).unwrap();
        assert!(p.ip.dont_fragment && p.ip.more_fragments);
        assert_eq!(p.ip.fragment_offset, 7);
    }

    #[test]
    fn other_protocols() {
        for proto in [0u8, 2, 4, 41, 47, 50, 51, 89, 132, 255] {
            let pkt = ipv4(5, proto, 0, &[1, 2, 3]);
            let p = parse(&pkt, pkt.len()).unwrap();
            assert_eq!(p.transport, Transport::Other, "proto {proto}");
            assert_eq!(p.ip.protocol, proto);
            // Even with no payload at all.
            let pkt = ipv4(5, proto, 0, &[]);
            assert_eq!(parse(&pkt, 20).unwrap().transport, Transport::Other);
        }
    }

    #[test]
    fn header_checksum() {
        let mut pkt = PING;
        assert!(header_checksum_ok(&pkt, 20));
        for k in 0..20 {
            pkt[k] ^= 0x04;
            assert!(!header_checksum_ok(&pkt, 20), "byte {k}");
            pkt[k] ^= 0x04;
        }
        assert!(!header_checksum_ok(&pkt[..19], 20));
        assert!(!header_checksum_ok(&pkt, 19));
        assert!(!header_checksum_ok(&pkt, 64));
        assert!(!header_checksum_ok(&[], 0));
        // RFC 1071's example words sum to 0xddf2.
        assert_eq!(
            ones_complement_sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        // Odd length pads with zero.
        assert_eq!(ones_complement_sum(&[0x12, 0x34, 0x56]), 0x6834);
        // All ones stays all ones; a big input folds carries.
        assert_eq!(ones_complement_sum(&[0xff; 60]), 0xffff);
        assert_eq!(ones_complement_sum(&[0xff; 200_000]), 0xffff);
    }

    /// Invariants of every successful parse.
    fn check(data: &[u8], packet_len: usize, r: Result<Packet, ParseError>, lenient: bool) {
        let Ok(p) = r else { return };
        let ip = p.ip;
        let total = ip.total_len as usize;
        assert!((20..=60).contains(&ip.header_len) && ip.header_len % 4 == 0);
        assert!(ip.header_len <= total && total <= packet_len);
        assert!(ip.header_len <= data.len());
        assert_eq!(ip.options(data).len(), ip.header_len - 20);
        assert_eq!(ip.is_first_fragment_or_whole(), ip.fragment_offset == 0);
        assert!(ip.fragment_offset <= 0x1fff);
        let l4 = total.min(data.len()).saturating_sub(ip.header_len);
        match p.transport {
            Transport::Fragment => assert_ne!(ip.fragment_offset, 0),
            Transport::Tcp(t) => {
                assert_eq!(ip.protocol, IPPROTO_TCP);
                assert!(l4 >= 20);
                // parse_for_rules keeps a data offset parse refuses.
                if lenient {
                    assert!(t.header_len <= 60 && t.header_len % 4 == 0);
                } else {
                    assert!((20..=60).contains(&t.header_len) && t.header_len % 4 == 0);
                    assert!(ip.header_len + t.header_len <= total);
                }
            }
            Transport::Udp(_) => {
                assert_eq!(ip.protocol, IPPROTO_UDP);
                assert!(l4 >= 8);
            }
            Transport::Icmp(_) => {
                assert_eq!(ip.protocol, IPPROTO_ICMP);
                assert!(l4 >= 8);
            }
            Transport::Other => {
                assert!(![IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP].contains(&ip.protocol));
            }
            Transport::Truncated { ports } => {
                assert!([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP].contains(&ip.protocol));
                assert_eq!(ip.fragment_offset, 0);
                let fixed = if ip.protocol == IPPROTO_TCP { 20 } else { 8 };
                assert!(l4 < fixed);
                assert_eq!(ports.is_some(), l4 >= 4 && ip.protocol != IPPROTO_ICMP);
            }
        }
        if ip.fragment_offset == 0 {
            assert_ne!(p.transport, Transport::Fragment);
        }
    }

    /// [`parse_ipv4_header`] given the first 20 bytes of `data` agrees
    /// with the IPv4 header [`parse_for_rules`] finds in `data` whenever
    /// `data` holds at least the first `min(packet_len, 60)` bytes of the
    /// packet (as the kernel module's 128-byte copy did), and otherwise
    /// wherever `parse_for_rules` succeeds.
    fn same_ipv4_header(data: &[u8], packet_len: usize) {
        let alone = parse_ipv4_header(&data[..data.len().min(20)], packet_len);
        let full = parse_for_rules(data, packet_len).map(|p| p.ip);
        if (packet_len.min(60)..=packet_len).contains(&data.len()) || full.is_ok() {
            assert_eq!(alone, full, "{data:02x?} of {packet_len}");
        }
        // Given more than 20 bytes, it still reads only 20.
        assert_eq!(parse_ipv4_header(data, packet_len), alone);
    }

    #[test]
    fn ipv4_header_alone() {
        let good = ipv4(5, IPPROTO_UDP, 0, &udp(0));
        let ip = parse(&good, 28).unwrap().ip;
        assert_eq!(parse_ipv4_header(&good[..20], 28), Ok(ip));
        // The transport header is not looked at: cut short, or absent.
        for proto in [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP] {
            let p = ipv4(5, proto, 0, &[1, 2, 3]);
            assert_eq!(parse(&p, p.len()), Err(ParseError::TruncatedTransport));
            let h = parse_ipv4_header(&p[..20], p.len()).unwrap();
            assert_eq!((h.protocol, h.total_len as usize), (proto, 23));
        }
        let p = ipv4(5, IPPROTO_TCP, 0, &tcp(4, 0, 0));
        assert_eq!(parse(&p, p.len()), Err(ParseError::BadTcpDataOffset));
        assert!(parse_ipv4_header(&p, p.len()).is_ok());

        assert_eq!(parse_ipv4_header(&[], 0), Err(ParseError::Truncated));
        assert_eq!(
            parse_ipv4_header(&good[..19], 28),
            Err(ParseError::Truncated)
        );
        for v in [0u8, 6, 15] {
            let mut p = good.clone();
            p[0] = v << 4 | 5;
            assert_eq!(parse_ipv4_header(&p, 28), Err(ParseError::NotIpv4));
        }
        for ihl in 0..5u8 {
            let mut p = good.clone();
            p[0] = 0x40 | ihl;
            assert_eq!(parse_ipv4_header(&p, 28), Err(ParseError::BadHeaderLength));
        }
        // Options: within the packet, not necessarily within `head`.
        let p = ipv4(15, 99, 0, &[]);
        assert_eq!(parse_ipv4_header(&p[..20], 60).unwrap().header_len, 60);
        assert_eq!(parse_ipv4_header(&p[..20], 59), Err(ParseError::Truncated));
        assert_eq!(parse(&p[..59], 59), Err(ParseError::Truncated));
        for total in [0u16, 19, 59] {
            let mut p = p.clone();
            p[2..4].copy_from_slice(&total.to_be_bytes());
            assert_eq!(
                parse_ipv4_header(&p[..20], 60),
                Err(ParseError::BadTotalLength)
            );
        }
        // Total length more than the packet; less is padding.
        assert_eq!(
            parse_ipv4_header(&good[..20], 27),
            Err(ParseError::BadTotalLength)
        );
        assert!(parse_ipv4_header(&good[..20], 29).is_ok());
        // Every prefix and every packet length of the samples.
        for pkt in samples() {
            for n in 0..=pkt.len() {
                for len in [n, n + 1, pkt.len(), pkt.len() + 1] {
                    same_ipv4_header(&pkt[..n], len);
                }
            }
        }
    }

    /// Tracking reads no further than `tuple::tracking_span` says: the
    /// samples, ICMP errors quoting headers with and without options and
    /// a long datagram among them, mutated and cut at random, give the
    /// same parse, tuple and TCP segment for every prefix that long as for
    /// the first `MAX_TUPLE_BYTES` bytes (what the kernel copies).
    #[test]
    fn tracking_reads_within_its_span() {
        use crate::conntrack::tcp::TcpSegment;
        use crate::conntrack::tuple::{self, MAX_TUPLE_BYTES};
        let error = |ty: u8, quoted: &[u8]| {
            let mut icmp = vec![ty, 1, 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(quoted);
            icmp
        };
        let quoted_udp = ipv4(5, IPPROTO_UDP, 0, &udp(20));
        let quoted_tcp = ipv4(15, IPPROTO_TCP, 0, &tcp(10, TcpHeader::SYN, 0));
        let mut samples = samples();
        samples.extend([
            ipv4(5, IPPROTO_ICMP, 0, &error(3, &quoted_udp[..28])),
            ipv4(15, IPPROTO_ICMP, 0, &error(11, &quoted_tcp)),
            ipv4(6, IPPROTO_ICMP, 0, &error(3, &quoted_tcp[..64])),
            ipv4(5, IPPROTO_UDP, 0, &udp(300)),
        ]);
        let mut rng = XorShift(0x0123_4567_89ab_cdef);
        let mut checked = [0usize; 2];
        for _ in 0..100_000 {
            let mut pkt = samples[rng.below(samples.len())].clone();
            for _ in 0..rng.below(4) {
                // A random byte, or one of those the span reads: the
                // header lengths, the protocol, TCP's data offset, the
                // quoted header's length.
                let ihl = usize::from(pkt[0] & 0x0f) * 4;
                let at = match rng.below(3) {
                    0 => rng.below(pkt.len()),
                    1 => [0, 9, ihl + 12, ihl + 8][rng.below(4)],
                    _ => [2, 3, ihl + 9, ihl + 14][rng.below(4)],
                };
                if let Some(b) = pkt.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
            let packet_len = match rng.below(3) {
                0 => pkt.len() + rng.below(3),
                _ => pkt.len(),
            };
            if rng.below(4) == 0 {
                pkt.truncate(rng.below(pkt.len() + 1));
            }
            let copy = &pkt[..pkt.len().min(MAX_TUPLE_BYTES)];
            /// What tracking finds: the parse, the tuple, the segment.
            type Tracked<'a> = (
                Result<Packet, ParseError>,
                Result<Result<tuple::Lookup, tuple::TupleError>, ParseError>,
                Option<TcpSegment<'a>>,
            );
            fn track(data: &[u8], packet_len: usize) -> Tracked<'_> {
                let p = parse(data, packet_len);
                let found = p.map(|p| tuple::from_packet(&p, data));
                let seg = p.ok().and_then(|p| TcpSegment::from_packet(&p, data));
                (p, found, seg)
            }
            let want = track(copy, packet_len);
            for k in 0..=pkt.len() {
                let prefix = &pkt[..k];
                if k < packet_len.min(tuple::tracking_span(prefix)) {
                    continue;
                }
                assert!(tuple::tracking_span(prefix) <= MAX_TUPLE_BYTES);
                assert_eq!(
                    track(prefix, packet_len),
                    want,
                    "{pkt:02x?} of {packet_len}, prefix {k}"
                );
                checked[usize::from(k < copy.len())] += 1;
            }
        }
        // Prefixes shorter than the copy were tried, not only longer ones.
        assert!(checked[1] > 10_000, "{checked:?}");
    }

    fn samples() -> Vec<Vec<u8>> {
        vec![
            PING.to_vec(),
            ipv4(5, IPPROTO_TCP, 0x4000, &tcp(8, TcpHeader::SYN, 0)),
            ipv4(7, IPPROTO_TCP, 0, &tcp(5, TcpHeader::ACK, 30)),
            ipv4(15, IPPROTO_TCP, 0, &tcp(15, TcpHeader::SYN, 8)),
            ipv4(5, IPPROTO_UDP, 0, &udp(20)),
            ipv4(9, IPPROTO_UDP, 0x2000, &udp(3)),
            ipv4(5, IPPROTO_UDP, 3, &[0; 16]),
            ipv4(6, 47, 0, &[0; 12]),
        ]
    }

    #[test]
    fn every_truncation() {
        for pkt in samples() {
            let full = parse(&pkt, pkt.len()).unwrap();
            for n in 0..=pkt.len() {
                let r = parse(&pkt[..n], pkt.len());
                check(&pkt[..n], pkt.len(), r, false);
                match r {
                    // Any prefix that parses parses the same as the whole.
                    Ok(p) => assert_eq!(p, full, "prefix {n}"),
                    Err(e) => assert!(
                        matches!(e, ParseError::Truncated | ParseError::TruncatedTransport),
                        "prefix {n}: {e:?}"
                    ),
                }
                if n < 20 {
                    assert_eq!(r, Err(ParseError::Truncated));
                }
                // And the packet itself cut to n bytes, total length kept.
                let r = parse(&pkt[..n], n);
                check(&pkt[..n], n, r, false);
                if n < pkt.len() && n >= full.ip.header_len {
                    assert_eq!(r, Err(ParseError::BadTotalLength));
                }
            }
        }
    }

    /// Marsaglia's xorshift64.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// An IPv4 BIG TCP packet (a GSO packet of more than 65,535 bytes,
    /// whose total length field is 0) is read with the packet's length,
    /// by every parse, as the kernel reads it (`iph_totlen`); a total
    /// length of 0 is wrong in any shorter packet.
    #[test]
    fn big_tcp_total_length() {
        let mut p = ipv4(5, IPPROTO_TCP, 0, &tcp(5, TcpHeader::ACK, 70_000));
        p[2] = 0;
        p[3] = 0;
        let len = p.len();
        assert!(len > 65_535);
        let whole = parse(&p, len).unwrap();
        assert_eq!(whole.ip.total_len as usize, len);
        assert_eq!(whole.ip.payload_len(), len - 20);
        assert!(matches!(whole.transport, Transport::Tcp(t) if t.dport == 80));
        let head = &p[..HEADERS_SPAN_MAX];
        let h = parse_headers(head, len).unwrap();
        assert_eq!(h.total_len as usize, len);
        assert!(matches!(h.l4, L4::Tcp { dport: 80, .. }));
        assert_eq!(
            parse_ipv4_header(head, len).unwrap().total_len as usize,
            len
        );
        assert_eq!(
            PlainKey::parse_long(head, len, true),
            Some(PlainKey::from(&h))
        );
        // Not the walk's own parse, which leaves these to parse_long.
        assert_eq!(PlainKey::parse(head, len, true), None);
        // The same header on a packet the field could have said.
        for short in [p.len() - 70_000, 65_535] {
            assert_eq!(parse_headers(head, short), Err(ParseError::BadTotalLength));
            assert_eq!(
                parse_ipv4_header(head, short),
                Err(ParseError::BadTotalLength)
            );
            assert_eq!(PlainKey::parse_long(head, short, true), None);
        }
        assert_eq!(total_length(0, 65_536), 65_536);
        assert_eq!(total_length(0, 65_535), 0);
        assert_eq!(total_length(1500, 70_000), 1500);
    }

    #[test]
    fn random_mutations() {
        let samples = samples();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut oks = 0;
        let mut errs = [0usize; 6];
        let mut kinds = [0usize; 5];
        for _ in 0..100_000 {
            let mut pkt = samples[rng.below(samples.len())].clone();
            for _ in 0..1 + rng.below(4) {
                let k = rng.below(pkt.len());
                match rng.below(4) {
                    0 => pkt[k] = rng.next() as u8,
                    1 => pkt[k] ^= 1 << rng.below(8),
                    // The interesting nibbles and length bytes.
                    2 => {
                        let at = [0, 2, 3, 6, 9][rng.below(5)];
                        pkt[at] = rng.next() as u8;
                    }
                    _ => {
                        let doff = pkt[0] as usize % 16 * 4 + 12;
                        if let Some(b) = pkt.get_mut(doff) {
                            *b = rng.next() as u8;
                        }
                    }
                }
            }
            if rng.below(4) == 0 {
                pkt.truncate(rng.below(pkt.len() + 1));
            }
            let packet_len = match rng.below(4) {
                0 => rng.below(200),
                1 => pkt.len().saturating_sub(rng.below(8)),
                _ => pkt.len() + rng.below(3),
            };
            let data = if rng.below(3) == 0 {
                &pkt[..rng.below(pkt.len() + 1)]
            } else {
                &pkt[..]
            };
            let r = parse(data, packet_len);
            check(data, packet_len, r, false);
            assert_eq!(r, parse(data, packet_len));
            // parse_for_rules differs only where the transport header
            // failed, and keeps the IPv4 header parse found.
            let lenient = parse_for_rules(data, packet_len);
            check(data, packet_len, lenient, true);
            // The rules' parse reads the same, of fewer fields.
            assert_eq!(
                parse_headers(data, packet_len),
                lenient.map(|p| Headers::from(&p)),
                "{data:02x?} of {packet_len}"
            );
            // A prefix as long as headers_span says (or longer) reads as
            // the whole does.
            if !data.is_empty() {
                assert!(headers_span(data) <= HEADERS_SPAN_MAX);
                let span = data.len().min(headers_span(data));
                let longer = span + rng.below(data.len() - span + 1);
                for k in [span, longer] {
                    assert_eq!(
                        parse_headers(&data[..k], packet_len),
                        parse_headers(data, packet_len),
                        "{data:02x?} of {packet_len}, prefix {k}"
                    );
                }
            }
            // The plain walk's key reads what the rules' parse reads
            // (without `transport`, all but the transport header).
            for transport in [true, false] {
                let headers = match transport {
                    true => parse_headers(data, packet_len),
                    false => {
                        parse_headers(data, packet_len).map(|h| Headers { l4: L4::Other, ..h })
                    }
                };
                let key = PlainKey::parse_long(data, packet_len, transport);
                assert_eq!(
                    key,
                    headers.ok().map(|h| PlainKey::from(&h)),
                    "{data:02x?} of {packet_len}, transport {transport}"
                );
                // The walk's parse, but for BIG TCP (not in these).
                assert_eq!(PlainKey::parse(data, packet_len, transport), key);
                if let Some(k) = (!data.is_empty()).then(|| data.len().min(headers_span(data))) {
                    assert_eq!(
                        PlainKey::parse(&data[..k], packet_len, transport),
                        PlainKey::parse(data, packet_len, transport),
                        "{data:02x?} of {packet_len}, prefix {k}"
                    );
                }
            }
            match r {
                Err(ParseError::TruncatedTransport | ParseError::BadTcpDataOffset) => {
                    let p = lenient.unwrap();
                    assert!(matches!(
                        p.transport,
                        Transport::Truncated { .. } | Transport::Tcp(_)
                    ));
                    assert_eq!(Ok(p.ip), parse_ip(data, packet_len));
                }
                _ => assert_eq!(lenient, r),
            }
            same_ipv4_header(data, packet_len);
            match r {
                Ok(p) => {
                    oks += 1;
                    kinds[match p.transport {
                        Transport::Tcp(_) => 0,
                        Transport::Udp(_) => 1,
                        Transport::Icmp(_) => 2,
                        Transport::Other => 3,
                        Transport::Fragment => 4,
                        Transport::Truncated { .. } => unreachable!("parse never says Truncated"),
                    }] += 1;
                }
                Err(e) => errs[e as usize] += 1,
            }
        }
        // The loop reached every outcome, not just one or two.
        assert!(oks > 10_000, "{oks}");
        assert!(errs.iter().all(|&n| n > 100), "{errs:?}");
        assert!(kinds.iter().all(|&n| n > 100), "{kinds:?}");
    }
}
