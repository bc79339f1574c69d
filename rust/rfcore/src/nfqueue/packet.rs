// SPDX-License-Identifier: GPL-2.0

//! `NFQNL_MSG_PACKET`: a queued packet as its listener receives it
//! (`nfqnl_build_packet_message` of `nfnetlink_queue.c`).
//!
//! The message is an `nlmsghdr` (type `0x0300`, flags, sequence and port
//! id 0), an `nfgenmsg` (the hook's protocol family, the queue number),
//! then these attributes in this order, each only when the condition
//! holds:
//!
//! | attribute | content | when |
//! |---|---|---|
//! | `NFQA_PACKET_HDR` | id, hardware protocol, hook (7 bytes) | always |
//! | `NFQA_IFINDEX_INDEV` | be32 | an input device |
//! | `NFQA_IFINDEX_OUTDEV` | be32 | an output device |
//! | `NFQA_MARK` | be32 | mark ≠ 0 |
//! | `NFQA_PRIORITY` | be32 | priority ≠ 0 |
//! | `NFQA_HWADDR` | length, address (12 bytes) | input device and a link-layer source |
//! | `NFQA_TIMESTAMP` | be64 s, be64 µs | stamped, hook up to FORWARD |
//! | `NFQA_UID`, `NFQA_GID` | be32 each | flag `UID_GID` and a socket with a file |
//! | `NFQA_CT`, `NFQA_CT_INFO` | nest, be32 | flag `CONNTRACK` and a connection |
//! | `NFQA_CAP_LEN` | be32 packet length | the payload is cut short |
//! | `NFQA_SKB_INFO` | be32 `NFQA_SKB_*` | not 0 |
//! | `NFQA_PAYLOAD` | the packet from its network header | copy mode packet, length ≠ 0 |
//!
//! The payload comes last and its padding is left out: `nlmsg_len` ends
//! with the packet's last byte. [`encode_packet`] writes everything up to
//! and including the payload's attribute header; the kernel module
//! appends the payload bytes, copied from the packet (upstream attaches
//! them by reference with `skb_zerocopy`), then patches in the packet id
//! once it holds the queue lock ([`set_packet_id`]). The helpers [`copy_len`],
//! [`csum_verify`] and [`skb_info`] compute the fields the C function
//! computes from the skb.
//!
//! [`decode_packet`] reads such a message for clients and tests, with the
//! size checks of libnetfilter_queue's `nfq_nlmsg_parse` (libmnl's
//! `mnl_attr_validate`: a fixed-size attribute must have exactly its
//! size).

use super::attrs::{be16_at, be32_at, be64_at};
use super::config::CopyMode;
use super::consts::{
    msg_type, ETH_P_IP, ETH_P_IPV6, NFNL_ATTRS_OFFSET, NFPROTO_IPV4, NFPROTO_IPV6, NFQA_CAP_LEN,
    NFQA_CFG_F_GSO, NFQA_CGROUP_CLASSID, NFQA_CT, NFQA_CT_INFO, NFQA_GID, NFQA_HWADDR,
    NFQA_IFINDEX_INDEV, NFQA_IFINDEX_OUTDEV, NFQA_IFINDEX_PHYSINDEV, NFQA_IFINDEX_PHYSOUTDEV,
    NFQA_MARK, NFQA_PACKET_HDR, NFQA_PAYLOAD, NFQA_PRIORITY, NFQA_SECCTX, NFQA_SKB_CSUMNOTREADY,
    NFQA_SKB_CSUM_NOTVERIFIED, NFQA_SKB_GSO, NFQA_SKB_INFO, NFQA_TIMESTAMP, NFQA_UID,
    NFQNL_MAX_COPY_RANGE, NFQNL_MSG_PACKET, NF_INET_FORWARD, NF_INET_POST_ROUTING, NLMSG_HDRLEN,
    PACKET_HDR_LEN, PACKET_HW_LEN, TIMESTAMP_LEN,
};
use super::msg::{Builder, NfGenMsg, NlMsgHeader};
use super::nla::{self, Attrs, NlaError, NLA_F_NESTED, NLA_HDRLEN};

/// `struct nfqnl_msg_packet_hw`: the link-layer source address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HwAddr {
    /// How many bytes of `addr` are the address (`dev_parse_header`'s
    /// return value).
    pub len: u16,
    /// The address, zero-padded.
    pub addr: [u8; 8],
}

impl HwAddr {
    /// The 12 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; PACKET_HW_LEN] {
        let [l0, l1] = self.len.to_be_bytes();
        let [a0, a1, a2, a3, a4, a5, a6, a7] = self.addr;
        [l0, l1, 0, 0, a0, a1, a2, a3, a4, a5, a6, a7]
    }

    /// The address in `bytes` (exactly 12 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Option<HwAddr> {
        let b: &[u8; PACKET_HW_LEN] = bytes.try_into().ok()?;
        let [l0, l1, _, _, a0, a1, a2, a3, a4, a5, a6, a7] = *b;
        Some(HwAddr {
            len: u16::from_be_bytes([l0, l1]),
            addr: [a0, a1, a2, a3, a4, a5, a6, a7],
        })
    }
}

/// `struct nfqnl_msg_packet_timestamp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds (a negative time's two's complement, as the C code sends
    /// it).
    pub sec: u64,
    /// Microseconds.
    pub usec: u64,
}

impl Timestamp {
    /// The timestamp of `ns` nanoseconds since the epoch (a `ktime_t`):
    /// `ktime_to_timespec64` (floor division), then nanoseconds / 1000.
    pub const fn from_ns(ns: i64) -> Timestamp {
        let sec = ns.div_euclid(1_000_000_000);
        let nsec = ns.rem_euclid(1_000_000_000);
        Timestamp {
            sec: sec as u64,
            usec: (nsec / 1000) as u64,
        }
    }

    /// The 16 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; TIMESTAMP_LEN] {
        let mut b = [0u8; TIMESTAMP_LEN];
        if let Some((sec, usec)) = b.split_first_chunk_mut::<8>() {
            *sec = self.sec.to_be_bytes();
            if let Some(usec) = usec.first_chunk_mut() {
                *usec = self.usec.to_be_bytes();
            }
        }
        b
    }
}

/// The connection of a packet (`NFQA_CT` and `NFQA_CT_INFO`), for queues
/// with `NFQA_CFG_F_CONNTRACK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketCt<'a> {
    /// The attributes nested in `NFQA_CT`, already encoded
    /// (ctnetlink's layout: `CTA_TUPLE_ORIG`, `CTA_STATUS`...).
    pub attrs: &'a [u8],
    /// `enum ip_conntrack_info`.
    pub info: u32,
}

/// What a PACKET message says about a packet besides its bytes: the
/// fields `nfqnl_build_packet_message` reads from the entry and the skb.
/// The encoder applies the conditions of the table in the module
/// documentation that depend only on these values; the caller applies
/// the others by leaving a field `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketMeta<'a> {
    /// The packet id (usually 0 here, patched in later with
    /// [`set_packet_id`]).
    pub id: u32,
    /// `skb->protocol` in host order (`ETH_P_IP`, see [`hw_protocol`]).
    pub hw_protocol: u16,
    /// The hook (`NF_INET_*`).
    pub hook: u8,
    /// The input device's index, if there is one.
    pub indev: Option<u32>,
    /// The output device's index, if there is one.
    pub outdev: Option<u32>,
    /// `skb->mark` (sent if not 0).
    pub mark: u32,
    /// `skb->priority` (sent if not 0).
    pub priority: u32,
    /// The link-layer source, if `skb->dev` is set, the MAC header is
    /// set and not empty, and `dev_parse_header` found an address (sent
    /// only with an input device and a length ≠ 0).
    pub hwaddr: Option<HwAddr>,
    /// `skb_tstamp_cond(skb, false)` if not 0 (sent only at hooks up to
    /// FORWARD).
    pub timestamp: Option<Timestamp>,
    /// The owner of the packet's socket (fsuid, fsgid in the initial user
    /// namespace), if the queue has `NFQA_CFG_F_UID_GID` and the packet a
    /// full socket with a file.
    pub uid_gid: Option<(u32, u32)>,
    /// The connection, if the queue has `NFQA_CFG_F_CONNTRACK` and the
    /// packet a connection.
    pub ct: Option<PacketCt<'a>>,
    /// `skb->len` in copy mode packet, else 0 ([`copy_len`]); sent as
    /// `NFQA_CAP_LEN` when more than the payload length.
    pub cap_len: u32,
    /// `NFQA_SKB_*` ([`skb_info`]); sent if not 0.
    pub skb_info: u32,
}

/// The payload length and the capture length of a packet
/// (`nfqnl_get_data_len` and the copy mode switch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyLen {
    /// How many bytes of the packet go into `NFQA_PAYLOAD` (0: none).
    pub data_len: u32,
    /// [`PacketMeta::cap_len`].
    pub cap_len: u32,
}

/// How much of a packet of `skb_len` bytes, `headlen` of them linear,
/// a queue in `mode` with `range` sends. Packet mode sends at most
/// `range` bytes, and only the linear part if the fragments are not
/// readable (`skb_frags_readable`, device memory).
pub const fn copy_len(
    mode: CopyMode,
    range: u32,
    skb_len: u32,
    headlen: u32,
    frags_readable: bool,
) -> CopyLen {
    match mode {
        CopyMode::None | CopyMode::Meta => CopyLen {
            data_len: 0,
            cap_len: 0,
        },
        CopyMode::Packet => {
            let len = if frags_readable { skb_len } else { headlen };
            CopyLen {
                data_len: if len < range { len } else { range },
                cap_len: skb_len,
            }
        }
    }
}

/// Whether the PACKET message must say the checksum was not verified
/// (`csum_verify` of `nfqnl_build_packet_message`): received packets
/// (hooks up to FORWARD) and POSTROUTING packets without a socket, whose
/// checksum no device vouched for (`!skb_csum_unnecessary`).
pub const fn csum_verify(hook: u8, has_socket: bool, csum_unnecessary: bool) -> bool {
    (hook <= NF_INET_FORWARD || (hook == NF_INET_POST_ROUTING && !has_socket)) && !csum_unnecessary
}

/// `NFQA_SKB_INFO` (`nfqnl_put_packet_info`): `CSUMNOTREADY` for
/// `CHECKSUM_PARTIAL`, else `CSUM_NOTVERIFIED` if [`csum_verify`]; plus
/// `GSO` for a GSO packet.
pub const fn skb_info(checksum_partial: bool, csum_verify: bool, gso: bool) -> u32 {
    let mut flags = if checksum_partial {
        NFQA_SKB_CSUMNOTREADY
    } else if csum_verify {
        NFQA_SKB_CSUM_NOTVERIFIED
    } else {
        0
    };
    if gso {
        flags |= NFQA_SKB_GSO;
    }
    flags
}

/// Whether the checksum must be completed before the packet is copied
/// (`nf_queue_checksum_help` in `nfqnl_build_packet_message`): copy
/// mode packet, a `CHECKSUM_PARTIAL` packet, and a queue without
/// `NFQA_CFG_F_GSO`. If completing fails, the packet is dropped.
pub const fn needs_checksum_help(mode: CopyMode, queue_flags: u32, checksum_partial: bool) -> bool {
    matches!(mode, CopyMode::Packet) && queue_flags & NFQA_CFG_F_GSO == 0 && checksum_partial
}

/// The `skb->protocol` the queue sets for a packet of protocol family
/// `pf` (`nfqnl_enqueue_packet`): `ETH_P_IP`, `ETH_P_IPV6`, or `None`
/// (left as it is) for other families.
pub const fn hw_protocol(pf: u8) -> Option<u16> {
    match pf {
        NFPROTO_IPV4 => Some(ETH_P_IP),
        NFPROTO_IPV6 => Some(ETH_P_IPV6),
        _ => None,
    }
}

/// Where [`encode_packet`] puts the packet id: after the headers and the
/// `NFQA_PACKET_HDR` attribute header.
pub const ID_OFFSET: usize = NFNL_ATTRS_OFFSET + NLA_HDRLEN;

/// The longest [`encode_packet`] output without a connection: the
/// headers, every attribute but `NFQA_CT` and `NFQA_CT_INFO`, and the
/// payload's attribute header. A connection adds its nest (4 bytes and
/// the attributes, padded) and 8 bytes of `NFQA_CT_INFO`.
pub const MAX_FIXED_LEN: usize = NFNL_ATTRS_OFFSET
    + (NLA_HDRLEN + 8) // PACKET_HDR, padded
    + 4 * (NLA_HDRLEN + 4) // IFINDEX_INDEV, _OUTDEV, MARK, PRIORITY
    + (NLA_HDRLEN + PACKET_HW_LEN)
    + (NLA_HDRLEN + TIMESTAMP_LEN)
    + 2 * (NLA_HDRLEN + 4) // UID, GID
    + 2 * (NLA_HDRLEN + 4) // CAP_LEN, SKB_INFO
    + NLA_HDRLEN; // PAYLOAD header

/// What [`encode_packet`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// Bytes written, the payload's attribute header included.
    pub len: usize,
    /// Where the big-endian packet id is ([`ID_OFFSET`]).
    pub id_offset: usize,
    /// `nlmsg_len`: `len` plus the payload length the caller appends.
    pub msg_len: u32,
}

/// The length [`encode_packet`] writes for `meta` and `data_len`.
pub fn encoded_len(meta: &PacketMeta<'_>, data_len: u32) -> usize {
    let attr =
        |payload: usize| nla::align(NLA_HDRLEN.saturating_add(payload)).unwrap_or(usize::MAX);
    let u32_attr = attr(4);
    let mut len = NFNL_ATTRS_OFFSET.saturating_add(attr(PACKET_HDR_LEN));
    let mut add = |present: bool, n: usize| {
        if present {
            len = len.saturating_add(n);
        }
    };
    add(meta.indev.is_some(), u32_attr);
    add(meta.outdev.is_some(), u32_attr);
    add(meta.mark != 0, u32_attr);
    add(meta.priority != 0, u32_attr);
    add(sends_hwaddr(meta).is_some(), attr(PACKET_HW_LEN));
    add(sends_timestamp(meta).is_some(), attr(TIMESTAMP_LEN));
    add(meta.uid_gid.is_some(), u32_attr.saturating_mul(2));
    if let Some(ct) = meta.ct {
        add(true, attr(ct.attrs.len()).saturating_add(u32_attr));
    }
    add(meta.cap_len > data_len, u32_attr);
    add(meta.skb_info != 0, u32_attr);
    add(data_len != 0, NLA_HDRLEN);
    len
}

/// The hardware address to send, if any.
fn sends_hwaddr(meta: &PacketMeta<'_>) -> Option<HwAddr> {
    match meta.hwaddr {
        Some(hw) if meta.indev.is_some() && hw.len != 0 => Some(hw),
        _ => None,
    }
}

/// The timestamp to send, if any.
fn sends_timestamp(meta: &PacketMeta<'_>) -> Option<Timestamp> {
    if meta.hook <= NF_INET_FORWARD {
        meta.timestamp
    } else {
        None
    }
}

/// Write the PACKET message of `meta` for queue `queue` and protocol
/// family `family` (`NFPROTO_*`) into `buf`, exactly as
/// `nfqnl_build_packet_message` lays it out, up to the header of the
/// `data_len`-byte payload (none if 0). The caller appends `data_len`
/// bytes of the packet right after [`Encoded::len`]; `nlmsg_len` already
/// counts them, and no padding follows them.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if `buf` is shorter than [`encoded_len`], or
/// `data_len` is more than `NFQNL_MAX_COPY_RANGE`.
pub fn encode_packet(
    buf: &mut [u8],
    meta: &PacketMeta<'_>,
    family: u8,
    queue: u16,
    data_len: u32,
) -> Result<Encoded, NlaError> {
    if data_len > NFQNL_MAX_COPY_RANGE {
        return Err(NlaError::NoSpace);
    }
    let mut b = Builder::new(buf, NFQNL_MSG_PACKET, 0, 0, family, queue)?;
    let w = b.attrs();
    let [i0, i1, i2, i3] = meta.id.to_be_bytes();
    let [p0, p1] = meta.hw_protocol.to_be_bytes();
    w.put_bytes(NFQA_PACKET_HDR, &[i0, i1, i2, i3, p0, p1, meta.hook])?;
    if let Some(dev) = meta.indev {
        w.put_bytes(NFQA_IFINDEX_INDEV, &dev.to_be_bytes())?;
    }
    if let Some(dev) = meta.outdev {
        w.put_bytes(NFQA_IFINDEX_OUTDEV, &dev.to_be_bytes())?;
    }
    if meta.mark != 0 {
        w.put_bytes(NFQA_MARK, &meta.mark.to_be_bytes())?;
    }
    if meta.priority != 0 {
        w.put_bytes(NFQA_PRIORITY, &meta.priority.to_be_bytes())?;
    }
    if let Some(hw) = sends_hwaddr(meta) {
        w.put_bytes(NFQA_HWADDR, &hw.to_bytes())?;
    }
    if let Some(ts) = sends_timestamp(meta) {
        w.put_bytes(NFQA_TIMESTAMP, &ts.to_bytes())?;
    }
    if let Some((uid, gid)) = meta.uid_gid {
        w.put_bytes(NFQA_UID, &uid.to_be_bytes())?;
        w.put_bytes(NFQA_GID, &gid.to_be_bytes())?;
    }
    if let Some(ct) = meta.ct {
        w.put_bytes(NFQA_CT | NLA_F_NESTED, ct.attrs)?;
        w.put_bytes(NFQA_CT_INFO, &ct.info.to_be_bytes())?;
    }
    if meta.cap_len > data_len {
        w.put_bytes(NFQA_CAP_LEN, &meta.cap_len.to_be_bytes())?;
    }
    if meta.skb_info != 0 {
        w.put_bytes(NFQA_SKB_INFO, &meta.skb_info.to_be_bytes())?;
    }
    let payload_hdr = if data_len != 0 {
        // nla_len = NLA_HDRLEN + data_len: at most 0xffff (checked above).
        let nla_len = u16::try_from(data_len)
            .ok()
            .and_then(|l| l.checked_add(NLA_HDRLEN as u16))
            .ok_or(NlaError::NoSpace)?;
        let [l0, l1] = nla_len.to_ne_bytes();
        let [t0, t1] = NFQA_PAYLOAD.to_ne_bytes();
        b.add_trailing(NLA_HDRLEN.saturating_add(data_len as usize));
        Some([l0, l1, t0, t1])
    } else {
        None
    };
    let mut len = b.finish()?;
    if let Some(hdr) = payload_hdr {
        let dst = buf
            .get_mut(len..)
            .and_then(<[u8]>::first_chunk_mut)
            .ok_or(NlaError::NoSpace)?;
        *dst = hdr;
        len = len.checked_add(NLA_HDRLEN).ok_or(NlaError::NoSpace)?;
    }
    let msg_len = u32::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(data_len))
        .ok_or(NlaError::NoSpace)?;
    Ok(Encoded {
        len,
        id_offset: ID_OFFSET,
        msg_len,
    })
}

/// Write packet id `id` into the message `msg` at `id_offset` (from
/// [`Encoded`]): `*packet_id_ptr = htonl(entry->id)`. False if `msg` is
/// too short.
pub fn set_packet_id(msg: &mut [u8], id_offset: usize, id: u32) -> bool {
    match msg.get_mut(id_offset..).and_then(<[u8]>::first_chunk_mut) {
        Some(dst) => {
            *dst = id.to_be_bytes();
            true
        }
        None => false,
    }
}

/// A decoded PACKET message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packet<'a> {
    /// `nfgen_family`: the hook's protocol family.
    pub family: u8,
    /// `res_id`: the queue.
    pub queue: u16,
    /// The packet id, for the verdict.
    pub id: u32,
    /// `skb->protocol`, host order.
    pub hw_protocol: u16,
    /// The hook.
    pub hook: u8,
    /// `NFQA_IFINDEX_INDEV`.
    pub indev: Option<u32>,
    /// `NFQA_IFINDEX_OUTDEV`.
    pub outdev: Option<u32>,
    /// `NFQA_IFINDEX_PHYSINDEV`.
    pub physindev: Option<u32>,
    /// `NFQA_IFINDEX_PHYSOUTDEV`.
    pub physoutdev: Option<u32>,
    /// `NFQA_MARK`.
    pub mark: Option<u32>,
    /// `NFQA_PRIORITY`.
    pub priority: Option<u32>,
    /// `NFQA_HWADDR`.
    pub hwaddr: Option<HwAddr>,
    /// `NFQA_TIMESTAMP`.
    pub timestamp: Option<Timestamp>,
    /// `NFQA_UID`.
    pub uid: Option<u32>,
    /// `NFQA_GID`.
    pub gid: Option<u32>,
    /// `NFQA_CT`: the nested attributes.
    pub ct: Option<&'a [u8]>,
    /// `NFQA_CT_INFO`.
    pub ct_info: Option<u32>,
    /// `NFQA_CAP_LEN`: the packet's whole length if the payload is cut.
    pub cap_len: Option<u32>,
    /// `NFQA_SKB_INFO`.
    pub skb_info: Option<u32>,
    /// `NFQA_SECCTX`.
    pub secctx: Option<&'a [u8]>,
    /// `NFQA_CGROUP_CLASSID`.
    pub classid: Option<u32>,
    /// `NFQA_PAYLOAD`: the packet from its network header.
    pub payload: Option<&'a [u8]>,
}

/// Why [`decode_packet`] refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// Shorter than the headers, or `nlmsg_len` beyond the buffer.
    Truncated,
    /// Not an `NFQNL_MSG_PACKET` of the queue subsystem.
    NotPacket,
    /// An attribute's framing is broken.
    Malformed(NlaError),
    /// An attribute of this type has the wrong size.
    BadSize(u16),
    /// No `NFQA_PACKET_HDR`.
    NoHeader,
}

/// Exactly 4 bytes, big-endian.
fn exact_be32(kind: u16, payload: &[u8]) -> Result<u32, PacketError> {
    match payload {
        [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => Err(PacketError::BadSize(kind)),
    }
}

/// The PACKET message at the start of `buf`, and where the next message
/// starts. Attribute types above `NFQA_MAX` are skipped, as the
/// libraries skip them; a type seen twice keeps its last value.
///
/// # Errors
///
/// See [`PacketError`]. Sizes are checked as `nfq_nlmsg_parse` checks
/// them (exactly 4 bytes for the be32 attributes, exactly the struct size
/// for `NFQA_PACKET_HDR`, `NFQA_HWADDR` and `NFQA_TIMESTAMP`), and
/// `NFQA_PRIORITY` and `NFQA_CGROUP_CLASSID` as be32 too; framing errors
/// are errors here where libmnl stops silently.
pub fn decode_packet(buf: &[u8]) -> Result<(Packet<'_>, usize), PacketError> {
    let header = NlMsgHeader::read(buf).ok_or(PacketError::Truncated)?;
    let len = usize::try_from(header.len).map_err(|_| PacketError::Truncated)?;
    if len < NFNL_ATTRS_OFFSET || len > buf.len() {
        return Err(PacketError::Truncated);
    }
    if header.kind != msg_type(NFQNL_MSG_PACKET) {
        return Err(PacketError::NotPacket);
    }
    let next = nla::align(len).unwrap_or(len).min(buf.len());
    let nfgen = buf
        .get(NLMSG_HDRLEN..)
        .and_then(NfGenMsg::read)
        .ok_or(PacketError::Truncated)?;
    let attrs = buf.get(NFNL_ATTRS_OFFSET..len).unwrap_or(&[]);
    let mut p = Packet {
        family: nfgen.family,
        queue: nfgen.res_id,
        ..Packet::default()
    };
    let mut seen_header = false;
    for attr in Attrs::new(attrs) {
        let attr = attr.map_err(PacketError::Malformed)?;
        let kind = attr.kind();
        let payload = attr.payload();
        match kind {
            NFQA_PACKET_HDR => {
                if payload.len() != PACKET_HDR_LEN {
                    return Err(PacketError::BadSize(kind));
                }
                p.id = be32_at(payload, 0).ok_or(PacketError::BadSize(kind))?;
                p.hw_protocol = be16_at(payload, 4).ok_or(PacketError::BadSize(kind))?;
                p.hook = *payload.get(6).ok_or(PacketError::BadSize(kind))?;
                seen_header = true;
            }
            NFQA_IFINDEX_INDEV => p.indev = Some(exact_be32(kind, payload)?),
            NFQA_IFINDEX_OUTDEV => p.outdev = Some(exact_be32(kind, payload)?),
            NFQA_IFINDEX_PHYSINDEV => p.physindev = Some(exact_be32(kind, payload)?),
            NFQA_IFINDEX_PHYSOUTDEV => p.physoutdev = Some(exact_be32(kind, payload)?),
            NFQA_MARK => p.mark = Some(exact_be32(kind, payload)?),
            NFQA_PRIORITY => p.priority = Some(exact_be32(kind, payload)?),
            NFQA_HWADDR => {
                p.hwaddr = Some(HwAddr::from_bytes(payload).ok_or(PacketError::BadSize(kind))?);
            }
            NFQA_TIMESTAMP => {
                if payload.len() != TIMESTAMP_LEN {
                    return Err(PacketError::BadSize(kind));
                }
                p.timestamp = Some(Timestamp {
                    sec: be64_at(payload, 0).ok_or(PacketError::BadSize(kind))?,
                    usec: be64_at(payload, 8).ok_or(PacketError::BadSize(kind))?,
                });
            }
            NFQA_UID => p.uid = Some(exact_be32(kind, payload)?),
            NFQA_GID => p.gid = Some(exact_be32(kind, payload)?),
            NFQA_CT => p.ct = Some(payload),
            NFQA_CT_INFO => p.ct_info = Some(exact_be32(kind, payload)?),
            NFQA_CAP_LEN => p.cap_len = Some(exact_be32(kind, payload)?),
            NFQA_SKB_INFO => p.skb_info = Some(exact_be32(kind, payload)?),
            NFQA_SECCTX => p.secctx = Some(payload),
            NFQA_CGROUP_CLASSID => p.classid = Some(exact_be32(kind, payload)?),
            NFQA_PAYLOAD => p.payload = Some(payload),
            // Other known types (EXP, VLAN, L2HDR) and types above
            // NFQA_MAX are skipped.
            _ => {}
        }
    }
    if !seen_header {
        return Err(PacketError::NoHeader);
    }
    Ok((p, next))
}
