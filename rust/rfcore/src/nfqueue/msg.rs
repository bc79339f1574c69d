// SPDX-License-Identifier: GPL-2.0

//! The `nlmsghdr` + `nfgenmsg` framing of queue messages.
//!
//! Every message is a `struct nlmsghdr` (16 bytes, host byte order), then
//! a `struct nfgenmsg` (family, version, big-endian `res_id`: the queue
//! number), then attributes from byte 20 (`include/uapi/linux/netlink.h`,
//! `netfilter/nfnetlink.h`). [`parse_request`] reads a request as
//! `netlink_rcv_skb` and `nfnetlink_rcv_msg` do before they call the
//! queue's callback; [`Builder`] writes messages (the kernel's PACKET
//! messages and the requests of clients).

use super::consts::{
    msg_type, NFGENMSG_LEN, NFNETLINK_V0, NFNL_ATTRS_OFFSET, NFNL_SUBSYS_QUEUE, NFQNL_MSG_MAX,
    NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_MIN_TYPE, NLM_F_REQUEST,
};
use super::nla::{self, NlaError, Writer};
use super::Errno;

/// `struct nlmsghdr`, host byte order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NlMsgHeader {
    /// `nlmsg_len`: the whole message, header included.
    pub len: u32,
    /// `nlmsg_type`: `NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_*`.
    pub kind: u16,
    /// `nlmsg_flags`: `NLM_F_*`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`: the sender's port id (0 from the kernel).
    pub pid: u32,
}

impl NlMsgHeader {
    /// The header at the start of `bytes`, if there are 16 bytes.
    pub fn read(bytes: &[u8]) -> Option<NlMsgHeader> {
        let h: &[u8; NLMSG_HDRLEN] = bytes.get(..NLMSG_HDRLEN)?.try_into().ok()?;
        let [l0, l1, l2, l3, t0, t1, f0, f1, s0, s1, s2, s3, p0, p1, p2, p3] = *h;
        Some(NlMsgHeader {
            len: u32::from_ne_bytes([l0, l1, l2, l3]),
            kind: u16::from_ne_bytes([t0, t1]),
            flags: u16::from_ne_bytes([f0, f1]),
            seq: u32::from_ne_bytes([s0, s1, s2, s3]),
            pid: u32::from_ne_bytes([p0, p1, p2, p3]),
        })
    }

    /// The 16 bytes of the header.
    pub fn to_bytes(&self) -> [u8; NLMSG_HDRLEN] {
        let [l0, l1, l2, l3] = self.len.to_ne_bytes();
        let [t0, t1] = self.kind.to_ne_bytes();
        let [f0, f1] = self.flags.to_ne_bytes();
        let [s0, s1, s2, s3] = self.seq.to_ne_bytes();
        let [p0, p1, p2, p3] = self.pid.to_ne_bytes();
        [
            l0, l1, l2, l3, t0, t1, f0, f1, s0, s1, s2, s3, p0, p1, p2, p3,
        ]
    }
}

/// `struct nfgenmsg`, with `res_id` in host order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NfGenMsg {
    /// `nfgen_family`: `AF_UNSPEC` in requests from the libraries, the
    /// packet's `NFPROTO_*` in PACKET messages.
    pub family: u8,
    /// `version`: [`NFNETLINK_V0`].
    pub version: u8,
    /// `res_id`: the queue number.
    pub res_id: u16,
}

impl NfGenMsg {
    /// The `nfgenmsg` at the start of `bytes`, if there are 4 bytes.
    pub fn read(bytes: &[u8]) -> Option<NfGenMsg> {
        let [family, version, r0, r1] = *bytes.get(..NFGENMSG_LEN)? else {
            return None;
        };
        Some(NfGenMsg {
            family,
            version,
            res_id: u16::from_be_bytes([r0, r1]),
        })
    }

    /// The 4 bytes of the `nfgenmsg`.
    pub fn to_bytes(&self) -> [u8; NFGENMSG_LEN] {
        let [r0, r1] = self.res_id.to_be_bytes();
        [self.family, self.version, r0, r1]
    }
}

/// A queue request as the queue's callback sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The netlink header.
    pub header: NlMsgHeader,
    /// `NFQNL_MSG_*` (the low byte of `nlmsg_type`).
    pub msg: u8,
    /// The nfnetlink header: `res_id` is the queue.
    pub nfgen: NfGenMsg,
    /// The attributes (for [`super::attrs::Table::parse`]).
    pub attrs: &'a [u8],
    /// Where the next message of the buffer starts (`NLMSG_ALIGN` of the
    /// length, at most the buffer's end).
    pub next: usize,
}

/// What the netlink core makes of the first message of `buf`, read as
/// `netlink_rcv_skb` and `nfnetlink_rcv_msg` do, for the queue
/// subsystem:
///
/// - `Ok(None)`: nothing to do (too short for a header, or a length
///   beyond the buffer: the rest of the buffer is ignored; not a request;
///   a control message below `NLMSG_MIN_TYPE`; less than an `nfgenmsg`
///   of payload);
/// - `Err(Inval)`: another subsystem, or a message type the queue does
///   not have (`nfnetlink_find_client`);
/// - `Ok(Some(request))` otherwise. `request.msg` may still be
///   `NFQNL_MSG_PACKET`, which the queue refuses with
///   [`Errno::NotSupp`].
///
/// # Errors
///
/// [`Errno::Inval`] as said.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request<'_>>, Errno> {
    let Some(header) = NlMsgHeader::read(buf) else {
        return Ok(None);
    };
    let Ok(len) = usize::try_from(header.len) else {
        return Ok(None);
    };
    if len < NLMSG_HDRLEN || len > buf.len() {
        return Ok(None);
    }
    let next = nla::align(len).unwrap_or(len).min(buf.len());
    if header.flags & NLM_F_REQUEST == 0 || header.kind < NLMSG_MIN_TYPE {
        return Ok(None);
    }
    let Some(body) = buf.get(NLMSG_HDRLEN..len) else {
        return Ok(None);
    };
    let Some(nfgen) = NfGenMsg::read(body) else {
        return Ok(None);
    };
    let [subsys, msg] = header.kind.to_be_bytes();
    if subsys != NFNL_SUBSYS_QUEUE || msg >= NFQNL_MSG_MAX {
        return Err(Errno::Inval);
    }
    let attrs = buf.get(NFNL_ATTRS_OFFSET..len).unwrap_or(&[]);
    Ok(Some(Request {
        header,
        msg,
        nfgen,
        attrs,
        next,
    }))
}

/// The error code of an `NLMSG_ERROR` message at the start of `buf`: 0
/// for an acknowledgement, a negative errno for an error. `None` if the
/// message is something else or too short.
pub fn parse_error(buf: &[u8]) -> Option<i32> {
    let header = NlMsgHeader::read(buf)?;
    if header.kind != NLMSG_ERROR || usize::try_from(header.len).ok()? < NLMSG_HDRLEN + 4 {
        return None;
    }
    let code = buf.get(NLMSG_HDRLEN..)?.first_chunk()?;
    Some(i32::from_ne_bytes(*code))
}

/// Writes one nfnetlink message of the queue subsystem into a buffer:
/// the headers, then attributes through [`Builder::attrs`], then
/// [`Builder::finish`] sets `nlmsg_len`.
#[derive(Debug)]
pub struct Builder<'b> {
    head: &'b mut [u8; NFNL_ATTRS_OFFSET],
    attrs: Writer<'b>,
    extra: usize,
}

impl<'b> Builder<'b> {
    /// Start a message of type `msg` (`NFQNL_MSG_*`) in `buf`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if `buf` is shorter than the headers.
    pub fn new(
        buf: &'b mut [u8],
        msg: u8,
        flags: u16,
        seq: u32,
        family: u8,
        res_id: u16,
    ) -> Result<Self, NlaError> {
        let (head, rest) = buf
            .split_first_chunk_mut::<NFNL_ATTRS_OFFSET>()
            .ok_or(NlaError::NoSpace)?;
        let header = NlMsgHeader {
            len: 0,
            kind: msg_type(msg),
            flags,
            seq,
            pid: 0,
        };
        let nfgen = NfGenMsg {
            family,
            version: NFNETLINK_V0,
            res_id,
        };
        // Two array stores: a byte loop over a chained iterator cost some
        // 300 instructions per queued packet.
        if let Some((h, g)) = head.split_first_chunk_mut::<NLMSG_HDRLEN>() {
            *h = header.to_bytes();
            if let Some(g) = g.first_chunk_mut() {
                *g = nfgen.to_bytes();
            }
        }
        Ok(Builder {
            head,
            attrs: Writer::new(rest),
            extra: 0,
        })
    }

    /// The attribute writer.
    pub fn attrs(&mut self) -> &mut Writer<'b> {
        &mut self.attrs
    }

    /// Count `n` more bytes in `nlmsg_len` that the caller appends after
    /// the message (the payload of a PACKET message).
    pub fn add_trailing(&mut self, n: usize) {
        self.extra = self.extra.saturating_add(n);
    }

    /// Where the attributes start in the buffer.
    pub const fn attrs_offset() -> usize {
        NFNL_ATTRS_OFFSET
    }

    /// Set `nlmsg_len` and return the number of bytes written to the
    /// buffer (trailing bytes not included).
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the length does not fit in 32 bits.
    pub fn finish(self) -> Result<usize, NlaError> {
        let written = NFNL_ATTRS_OFFSET
            .checked_add(self.attrs.len())
            .ok_or(NlaError::NoSpace)?;
        let total = written
            .checked_add(self.extra)
            .and_then(|t| u32::try_from(t).ok())
            .ok_or(NlaError::NoSpace)?;
        if let Some(dst) = self.head.first_chunk_mut() {
            *dst = total.to_ne_bytes();
        }
        Ok(written)
    }
}
