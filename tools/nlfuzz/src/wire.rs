// SPDX-License-Identifier: GPL-2.0

//! Netlink and generic netlink messages as plain bytes: builders that can
//! also build them wrong, and parsers for what the kernel sends back.
//!
//! Layouts (`include/uapi/linux/netlink.h`, `genetlink.h`), host order:
//!
//! ```text
//! nlmsghdr   u32 len | u16 type | u16 flags | u32 seq | u32 pid    (16 bytes)
//! genlmsghdr u8 cmd | u8 version | u16 reserved                   (4 bytes)
//! nlattr     u16 len | u16 type | payload | padding to 4 bytes
//! nlmsgerr   i32 error | nlmsghdr of the request [| request payload] [| TLVs]
//! ```

use rfcore::nla::{NLA_F_NESTED, NLA_TYPE_MASK};

/// `NLMSG_HDRLEN`.
pub const NLMSG_HDRLEN: usize = 16;
/// `GENL_HDRLEN`.
pub const GENL_HDRLEN: usize = 4;
/// Header of a generic netlink request: both headers.
pub const GENL_MSG_HDRLEN: usize = NLMSG_HDRLEN + GENL_HDRLEN;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ECHO`.
pub const NLM_F_ECHO: u16 = 0x8;
/// `NLM_F_ROOT`: half of `NLM_F_DUMP`; alone, a flag genl refuses.
pub const NLM_F_ROOT: u16 = 0x100;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_CAPPED` in an error: the request's payload is not echoed.
pub const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` in an error: extended ack attributes follow.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

/// `NLMSG_ERROR`: an error or an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `NLMSG_MIN_TYPE`: types below are control messages the kernel skips.
pub const NLMSG_MIN_TYPE: u16 = 16;

/// `GENL_ID_CTRL`: the nlctrl family.
pub const GENL_ID_CTRL: u16 = 16;
/// `CTRL_CMD_GETFAMILY`.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// Version of nlctrl's protocol.
pub const CTRL_VERSION: u8 = 2;

/// `NLMSGERR_ATTR_MSG`: the extended ack's message (string).
pub const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLMSGERR_ATTR_OFFS`: offset of the offending attribute (u32).
pub const NLMSGERR_ATTR_OFFS: u16 = 2;

/// `NLMSG_ALIGN` / `NLA_ALIGN`: `len` rounded up to 4.
pub fn align4(len: usize) -> usize {
    (len + 3) & !3
}

// ---------------------------------------------------------------------
// Attributes.

/// An attribute whose `nla_len` says `len_field` whatever the payload,
/// padded to 4 bytes: for building wrong lengths.
pub fn attr_with_len(len_field: u16, kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(align4(4 + payload.len()));
    v.extend_from_slice(&len_field.to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

/// A well-formed attribute: header, payload, padding.
///
/// # Panics
///
/// If the payload does not fit in an attribute (64 KiB).
pub fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(4 + payload.len()).expect("attribute longer than 64 KiB");
    attr_with_len(len, kind, payload)
}

/// A nest of type `kind` (`NLA_F_NESTED` set) holding `parts`.
pub fn nest(kind: u16, parts: &[Vec<u8>]) -> Vec<u8> {
    attr(kind | NLA_F_NESTED, &parts.concat())
}

/// A NUL-terminated string attribute, as `nla_put_string`.
pub fn str_attr(kind: u16, s: &str) -> Vec<u8> {
    let mut p = s.as_bytes().to_vec();
    p.push(0);
    attr(kind, &p)
}

/// A u8 attribute.
pub fn u8_attr(kind: u16, v: u8) -> Vec<u8> {
    attr(kind, &[v])
}

/// A u16 attribute in host order.
pub fn u16_attr(kind: u16, v: u16) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

/// A u32 attribute in host order.
pub fn u32_attr(kind: u16, v: u32) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

/// A u64 attribute in host order.
pub fn u64_attr(kind: u16, v: u64) -> Vec<u8> {
    attr(kind, &v.to_ne_bytes())
}

/// A flag attribute (no payload).
pub fn flag_attr(kind: u16) -> Vec<u8> {
    attr(kind, &[])
}

/// One attribute found by [`walk_attrs`]: where it starts in the run,
/// its `nla_len` and its type with the flags masked off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrPos {
    /// Offset of the header in the run.
    pub offset: usize,
    /// `nla_len`: header and payload, no padding.
    pub len: usize,
    /// `nla_type & NLA_TYPE_MASK`.
    pub kind: u16,
    /// Whether `NLA_F_NESTED` is set.
    pub nested: bool,
}

/// The attributes of a run exactly as the kernel's `nla_for_each_attr`
/// visits them: it stops at the first attribute whose length is below
/// the header or beyond what is left, and the last one may lack padding.
pub fn walk_attrs(run: &[u8]) -> Vec<AttrPos> {
    let mut out = Vec::new();
    let mut off = 0usize;
    // `rem` is signed in the kernel: the padding of the last attribute
    // may take it below zero.
    let mut rem = run.len() as isize;
    while rem >= 4 {
        let len = usize::from(u16::from_ne_bytes([run[off], run[off + 1]]));
        let ty = u16::from_ne_bytes([run[off + 2], run[off + 3]]);
        if len < 4 || len as isize > rem {
            break;
        }
        out.push(AttrPos {
            offset: off,
            len,
            kind: ty & NLA_TYPE_MASK,
            nested: ty & NLA_F_NESTED != 0,
        });
        off += align4(len);
        rem -= align4(len) as isize;
    }
    out
}

// ---------------------------------------------------------------------
// Messages.

/// A netlink message: header (its length field counting `payload`) and
/// payload, padded to 4 bytes.
pub fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + payload.len()) as u32;
    let mut v = Vec::with_capacity(align4(len as usize));
    v.extend_from_slice(&len.to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

/// A generic netlink request for command `cmd` of family `family`, with
/// `attrs` (already encoded) after the generic netlink header, asking for
/// an acknowledgement. The sequence number is set when it is sent.
pub fn genl_request(family: u16, cmd: u8, attrs: &[u8]) -> Vec<u8> {
    genl_msg(family, NLM_F_REQUEST | NLM_F_ACK, cmd, 1, attrs)
}

/// A generic netlink message with every header field chosen.
pub fn genl_msg(family: u16, flags: u16, cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(GENL_HDRLEN + attrs.len());
    payload.push(cmd);
    payload.push(version);
    payload.extend_from_slice(&0u16.to_ne_bytes());
    payload.extend_from_slice(attrs);
    nlmsg(family, flags, 0, &payload)
}

/// Field of a message header, read. `None` when the message is shorter.
fn get_u32(msg: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(msg.get(at..at + 4)?.try_into().ok()?))
}

fn get_u16(msg: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(msg.get(at..at + 2)?.try_into().ok()?))
}

/// `nlmsg_len` of the message at the start of `msg`.
pub fn nlmsg_len(msg: &[u8]) -> Option<u32> {
    get_u32(msg, 0)
}

/// Overwrite `nlmsg_len` (when the header is there).
pub fn set_nlmsg_len(msg: &mut [u8], len: u32) {
    if let Some(f) = msg.get_mut(0..4) {
        f.copy_from_slice(&len.to_ne_bytes());
    }
}

/// Overwrite `nlmsg_flags`.
pub fn set_nlmsg_flags(msg: &mut [u8], flags: u16) {
    if let Some(f) = msg.get_mut(6..8) {
        f.copy_from_slice(&flags.to_ne_bytes());
    }
}

/// Overwrite `nlmsg_seq`.
pub fn set_nlmsg_seq(msg: &mut [u8], seq: u32) {
    if let Some(f) = msg.get_mut(8..12) {
        f.copy_from_slice(&seq.to_ne_bytes());
    }
}

/// Overwrite `genlmsghdr.reserved`.
pub fn set_genl_reserved(msg: &mut [u8], reserved: u16) {
    if let Some(f) = msg.get_mut(18..20) {
        f.copy_from_slice(&reserved.to_ne_bytes());
    }
}

/// Make `nlmsg_len` say the buffer's length again (after an edit).
pub fn fix_nlmsg_len(msg: &mut [u8]) {
    let n = msg.len() as u32;
    set_nlmsg_len(msg, n);
}

// ---------------------------------------------------------------------
// What the kernel sends back.

/// One message of a datagram from the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `NLMSG_ERROR`: `errno` is 0 for an acknowledgement, else positive.
    Ack {
        /// Sequence number of the request.
        seq: u32,
        /// The error, positive (`EINVAL`), or 0.
        errno: i32,
        /// `NLMSGERR_ATTR_MSG`.
        msg: Option<String>,
        /// `NLMSGERR_ATTR_OFFS`.
        offset: Option<u32>,
    },
    /// `NLMSG_DONE`.
    Done {
        /// Sequence number.
        seq: u32,
    },
    /// Anything else: a reply of the family.
    Data {
        /// Sequence number.
        seq: u32,
        /// `nlmsg_type`.
        ty: u16,
        /// Everything after the netlink header.
        payload: Vec<u8>,
    },
}

impl Reply {
    /// The sequence number the reply answers.
    pub fn seq(&self) -> u32 {
        match self {
            Reply::Ack { seq, .. } | Reply::Done { seq } | Reply::Data { seq, .. } => *seq,
        }
    }
}

/// The messages of one datagram. A message that does not fit stops the
/// walk with an error naming its offset (the kernel never sends one).
pub fn parse_datagram(buf: &[u8]) -> Result<Vec<Reply>, String> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let len = nlmsg_len(&buf[off..]).unwrap_or(0) as usize;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            return Err(format!("message at offset {off}: bad nlmsg_len {len}"));
        }
        let msg = &buf[off..off + len];
        let ty = get_u16(msg, 4).unwrap_or(0);
        let flags = get_u16(msg, 6).unwrap_or(0);
        let seq = get_u32(msg, 8).unwrap_or(0);
        out.push(match ty {
            NLMSG_ERROR => parse_error(msg, flags, seq)?,
            NLMSG_DONE => Reply::Done { seq },
            _ => Reply::Data {
                seq,
                ty,
                payload: msg[NLMSG_HDRLEN..].to_vec(),
            },
        });
        off += align4(len);
    }
    Ok(out)
}

/// An `NLMSG_ERROR` message: errno, then the extended ack attributes,
/// which follow the echoed request header (and its payload unless the
/// error is capped).
fn parse_error(msg: &[u8], flags: u16, seq: u32) -> Result<Reply, String> {
    let err = get_u32(msg, NLMSG_HDRLEN).ok_or("short NLMSG_ERROR")? as i32;
    let mut ack = Reply::Ack {
        seq,
        errno: -err,
        msg: None,
        offset: None,
    };
    if flags & NLM_F_ACK_TLVS == 0 {
        return Ok(ack);
    }
    // The echoed request: its header always, its payload unless capped.
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let inner = nlmsg_len(&msg[(NLMSG_HDRLEN + 4).min(msg.len())..]).unwrap_or(0);
        align4(inner as usize)
    };
    let tlv_start = NLMSG_HDRLEN + 4 + echoed;
    let tlvs = msg.get(tlv_start..).unwrap_or(&[]);
    if let Reply::Ack { msg: m, offset, .. } = &mut ack {
        for a in walk_attrs(tlvs) {
            let payload = &tlvs[a.offset + 4..a.offset + a.len];
            match a.kind {
                NLMSGERR_ATTR_MSG => {
                    let text = payload.split(|&b| b == 0).next().unwrap_or(&[]);
                    *m = Some(String::from_utf8_lossy(text).into_owned());
                }
                NLMSGERR_ATTR_OFFS => {
                    *offset = payload.try_into().ok().map(u32::from_ne_bytes);
                }
                _ => {}
            }
        }
    }
    Ok(ack)
}

/// The attributes of a generic netlink reply's payload (after the
/// generic netlink header): `(type, payload)` pairs.
pub fn genl_attrs(payload: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let run = payload.get(GENL_HDRLEN..).unwrap_or(&[]);
    walk_attrs(run)
        .into_iter()
        .map(|a| (a.kind, run[a.offset + 4..a.offset + a.len].to_vec()))
        .collect()
}

// ---------------------------------------------------------------------
// errno names.

/// The symbolic name of a positive errno, or its number.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        0 => "0",
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ENODATA => "ENODATA",
        libc::EPROTO => "EPROTO",
        libc::EBADMSG => "EBADMSG",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOBUFS => "ENOBUFS",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nests_flagged() {
        assert_eq!(attr(3, b"ab"), vec![6, 0, 3, 0, b'a', b'b', 0, 0]);
        assert_eq!(flag_attr(6), vec![4, 0, 6, 0]);
        assert_eq!(
            u32_attr(4, 7),
            [vec![8, 0, 4, 0], 7u32.to_ne_bytes().to_vec()].concat()
        );
        assert_eq!(str_attr(3, "raw"), vec![8, 0, 3, 0, b'r', b'a', b'w', 0]);
        let n = nest(2, &[u8_attr(1, 9)]);
        assert_eq!(n.len(), 12);
        assert_eq!(u16::from_ne_bytes([n[0], n[1]]), 12);
        assert_eq!(u16::from_ne_bytes([n[2], n[3]]), 2 | NLA_F_NESTED);
        // A wrong length is written as asked, the payload as given.
        assert_eq!(
            attr_with_len(200, 3, b"x"),
            vec![200, 0, 3, 0, b'x', 0, 0, 0]
        );
    }

    #[test]
    fn genl_request_layout() {
        let m = genl_request(0x1234, 5, &flag_attr(6));
        assert_eq!(m.len(), 24);
        assert_eq!(nlmsg_len(&m), Some(24));
        assert_eq!(get_u16(&m, 4), Some(0x1234));
        assert_eq!(get_u16(&m, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(&m[16..20], &[5, 1, 0, 0]);
        assert_eq!(&m[20..], &[4, 0, 6, 0]);
        let mut m = m;
        set_nlmsg_seq(&mut m, 77);
        set_nlmsg_flags(&mut m, NLM_F_REQUEST);
        set_genl_reserved(&mut m, 1);
        set_nlmsg_len(&mut m, 99);
        assert_eq!(get_u32(&m, 8), Some(77));
        assert_eq!(get_u16(&m, 6), Some(NLM_F_REQUEST));
        assert_eq!(&m[18..20], &1u16.to_ne_bytes());
        assert_eq!(nlmsg_len(&m), Some(99));
        fix_nlmsg_len(&mut m);
        assert_eq!(nlmsg_len(&m), Some(24));
        // Setters never panic on short buffers.
        let mut short = vec![0u8; 3];
        set_nlmsg_len(&mut short, 1);
        set_nlmsg_seq(&mut short, 1);
        set_genl_reserved(&mut short, 1);
        assert_eq!(short, vec![0, 0, 0]);
    }

    #[test]
    fn walk_stops_where_the_kernel_stops() {
        let run = [u32_attr(4, 1), flag_attr(6)].concat();
        let w = walk_attrs(&run);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].offset, w[0].len, w[0].kind), (0, 8, 4));
        assert_eq!((w[1].offset, w[1].len, w[1].kind), (8, 4, 6));
        // Length below the header, beyond the run, or fewer than 4 bytes
        // left: the walk ends there.
        assert_eq!(walk_attrs(&attr_with_len(2, 3, b"")).len(), 0);
        assert_eq!(walk_attrs(&attr_with_len(200, 3, b"abcd")).len(), 0);
        let mut trailing = flag_attr(6);
        trailing.extend_from_slice(&[1, 2, 3]);
        assert_eq!(walk_attrs(&trailing).len(), 1);
        // The last attribute's padding may be missing.
        let unpadded = [flag_attr(6), vec![5, 0, 3, 0, b'x']].concat();
        assert_eq!(walk_attrs(&unpadded).len(), 2);
        // Flags are masked off the type.
        let n = nest(2, &[]);
        assert_eq!(walk_attrs(&n)[0].kind, 2);
        assert!(walk_attrs(&n)[0].nested);
    }

    /// An error as the kernel builds it (`netlink_ack`).
    fn kernel_error(errno: i32, capped: bool, request: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut payload = (-errno).to_ne_bytes().to_vec();
        if capped {
            payload.extend_from_slice(&request[..NLMSG_HDRLEN]);
        } else {
            payload.extend_from_slice(request);
            while !payload.len().is_multiple_of(4) {
                payload.push(0);
            }
        }
        payload.extend_from_slice(tlvs);
        let mut flags = if capped { NLM_F_CAPPED } else { 0 };
        if !tlvs.is_empty() {
            flags |= NLM_F_ACK_TLVS;
        }
        nlmsg(NLMSG_ERROR, flags, 42, &payload)
    }

    #[test]
    fn errors_with_extended_ack() {
        let req = genl_request(30, 3, &str_attr(3, "nosuch"));
        let tlvs = [
            str_attr(NLMSGERR_ATTR_MSG, "rustfilter: no such table"),
            u32_attr(NLMSGERR_ATTR_OFFS, 20),
        ]
        .concat();
        for capped in [true, false] {
            let dgram = kernel_error(libc::ENOENT, capped, &req, &tlvs);
            let r = parse_datagram(&dgram).unwrap();
            assert_eq!(
                r,
                vec![Reply::Ack {
                    seq: 42,
                    errno: libc::ENOENT,
                    msg: Some("rustfilter: no such table".into()),
                    offset: Some(20),
                }]
            );
        }
        // A plain acknowledgement, then a data reply, in one datagram.
        let ack = kernel_error(0, true, &req, &[]);
        let data = nlmsg(30, 0, 42, &[3, 1, 0, 0, 8, 0, 4, 0, 9, 0, 0, 0]);
        let r = parse_datagram(&[data, ack].concat()).unwrap();
        assert_eq!(r.len(), 2);
        match &r[0] {
            Reply::Data { ty, payload, .. } => {
                assert_eq!(*ty, 30);
                assert_eq!(genl_attrs(payload), vec![(4, 9u32.to_ne_bytes().to_vec())]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r[1],
            Reply::Ack {
                seq: 42,
                errno: 0,
                msg: None,
                offset: None
            }
        );
        // Garbage is an error, not a panic.
        assert!(parse_datagram(&[200, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert_eq!(parse_datagram(&[1, 2, 3]).unwrap(), vec![]);
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(libc::EINVAL), "EINVAL");
        assert_eq!(errno_name(libc::EOPNOTSUPP), "EOPNOTSUPP");
        assert_eq!(errno_name(0), "0");
        assert_eq!(errno_name(4242), "errno 4242");
    }
}
