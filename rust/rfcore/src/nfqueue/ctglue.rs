// SPDX-License-Identifier: GPL-2.0

//! A queued packet's connection as ctnetlink describes it: the attributes
//! nested in `NFQA_CT` for queues with `NFQA_CFG_F_CONNTRACK`
//! (`ctnetlink_glue_build` of `nf_conntrack_netlink.c`), which
//! libnetfilter_conntrack's `nfct_payload_parse` and the `nfq` crate read.
//!
//! Written: both tuples (`CTA_TUPLE_ORIG`, `CTA_TUPLE_REPLY`: addresses
//! and ports, or ICMP id, type and code), `CTA_ID`, `CTA_STATUS`,
//! `CTA_TIMEOUT` (seconds left), `CTA_PROTOINFO` with the TCP state,
//! `CTA_HELP` with the helper's name, and `CTA_MARK` when set, in
//! upstream's order. Zones, labels, secmarks and sequence adjustments are
//! not (rustfilter has no zones or labels).

use super::super::ct::tuple::Tuple;
use super::nla::{Attrs, NlaError, Writer};

/// `CTA_TUPLE_ORIG`.
pub const CTA_TUPLE_ORIG: u16 = 1;
/// `CTA_TUPLE_REPLY`.
pub const CTA_TUPLE_REPLY: u16 = 2;
/// `CTA_STATUS`.
pub const CTA_STATUS: u16 = 3;
/// `CTA_PROTOINFO`.
pub const CTA_PROTOINFO: u16 = 4;
/// `CTA_HELP`.
pub const CTA_HELP: u16 = 5;
/// `CTA_TIMEOUT`.
pub const CTA_TIMEOUT: u16 = 7;
/// `CTA_MARK`.
pub const CTA_MARK: u16 = 8;
/// `CTA_ID`.
pub const CTA_ID: u16 = 12;
/// `CTA_TUPLE_IP`.
pub const CTA_TUPLE_IP: u16 = 1;
/// `CTA_TUPLE_PROTO`.
pub const CTA_TUPLE_PROTO: u16 = 2;
/// `CTA_IP_V4_SRC`.
pub const CTA_IP_V4_SRC: u16 = 1;
/// `CTA_IP_V4_DST`.
pub const CTA_IP_V4_DST: u16 = 2;
/// `CTA_PROTO_NUM`.
pub const CTA_PROTO_NUM: u16 = 1;
/// `CTA_PROTO_SRC_PORT`.
pub const CTA_PROTO_SRC_PORT: u16 = 2;
/// `CTA_PROTO_DST_PORT`.
pub const CTA_PROTO_DST_PORT: u16 = 3;
/// `CTA_PROTO_ICMP_ID`.
pub const CTA_PROTO_ICMP_ID: u16 = 4;
/// `CTA_PROTO_ICMP_TYPE`.
pub const CTA_PROTO_ICMP_TYPE: u16 = 5;
/// `CTA_PROTO_ICMP_CODE`.
pub const CTA_PROTO_ICMP_CODE: u16 = 6;
/// `CTA_PROTOINFO_TCP`.
pub const CTA_PROTOINFO_TCP: u16 = 1;
/// `CTA_PROTOINFO_TCP_STATE`.
pub const CTA_PROTOINFO_TCP_STATE: u16 = 1;
/// `CTA_HELP_NAME`.
pub const CTA_HELP_NAME: u16 = 1;

/// `IPPROTO_ICMP`.
const IPPROTO_ICMP: u8 = 1;

/// The room [`encode_ct`] needs at most (two tuples, the scalars, a TCP
/// state and a helper name of up to 15 bytes).
pub const CT_GLUE_MAX: usize = 256;

/// What is told of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtGlue<'a> {
    /// The original direction's tuple.
    pub orig: Tuple,
    /// The reply direction's tuple.
    pub reply: Tuple,
    /// An identifier of the connection (`CTA_ID`).
    pub id: u32,
    /// `IPS_*` bits.
    pub status: u32,
    /// Seconds until it expires.
    pub timeout: u32,
    /// The connection mark (sent if not 0).
    pub mark: u32,
    /// The TCP state (`TCP_CONNTRACK_*`), for TCP connections.
    pub tcp_state: Option<u8>,
    /// The helper's name.
    pub helper: Option<&'a str>,
}

fn put_tuple(w: &mut Writer<'_>, kind: u16, t: &Tuple) -> Result<(), NlaError> {
    let n = w.begin_nest(kind)?;
    let ip = w.begin_nest(CTA_TUPLE_IP)?;
    w.put_be32(CTA_IP_V4_SRC, t.saddr)?;
    w.put_be32(CTA_IP_V4_DST, t.daddr)?;
    w.end_nest(ip)?;
    let p = w.begin_nest(CTA_TUPLE_PROTO)?;
    w.put_u8(CTA_PROTO_NUM, t.protocol)?;
    if t.protocol == IPPROTO_ICMP {
        let [icmp_type, code] = t.dport.to_be_bytes();
        w.put_be16(CTA_PROTO_ICMP_ID, t.sport)?;
        w.put_u8(CTA_PROTO_ICMP_TYPE, icmp_type)?;
        w.put_u8(CTA_PROTO_ICMP_CODE, code)?;
    } else {
        w.put_be16(CTA_PROTO_SRC_PORT, t.sport)?;
        w.put_be16(CTA_PROTO_DST_PORT, t.dport)?;
    }
    w.end_nest(p)?;
    w.end_nest(n)
}

/// Write the attributes of `ct` into `buf` (the payload of `NFQA_CT`);
/// returns their length.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if `buf` is too short ([`CT_GLUE_MAX`] always
/// suffices).
pub fn encode_ct(buf: &mut [u8], ct: &CtGlue<'_>) -> Result<usize, NlaError> {
    let mut w = Writer::new(buf);
    put_tuple(&mut w, CTA_TUPLE_ORIG, &ct.orig)?;
    put_tuple(&mut w, CTA_TUPLE_REPLY, &ct.reply)?;
    w.put_be32(CTA_ID, ct.id.to_be_bytes())?;
    w.put_be32(CTA_STATUS, ct.status.to_be_bytes())?;
    w.put_be32(CTA_TIMEOUT, ct.timeout.to_be_bytes())?;
    if let Some(state) = ct.tcp_state {
        let info = w.begin_nest(CTA_PROTOINFO)?;
        let tcp = w.begin_nest(CTA_PROTOINFO_TCP)?;
        w.put_u8(CTA_PROTOINFO_TCP_STATE, state)?;
        w.end_nest(tcp)?;
        w.end_nest(info)?;
    }
    if let Some(name) = ct.helper {
        let help = w.begin_nest(CTA_HELP)?;
        w.put_str(CTA_HELP_NAME, name)?;
        w.end_nest(help)?;
    }
    if ct.mark != 0 {
        w.put_be32(CTA_MARK, ct.mark.to_be_bytes())?;
    }
    Ok(w.len())
}

/// What a client reads back from `NFQA_CT` ([`decode_ct`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtView {
    /// The original tuple, if present and complete.
    pub orig: Option<Tuple>,
    /// `CTA_STATUS`.
    pub status: Option<u32>,
    /// `CTA_MARK` (absent: 0).
    pub mark: u32,
    /// The TCP state.
    pub tcp_state: Option<u8>,
}

fn first(nest: &[u8], kind: u16) -> Option<&[u8]> {
    Attrs::new(nest)
        .filter_map(Result::ok)
        .find(|a| a.kind() == kind)
        .map(|a| a.payload())
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(*b.first_chunk()?))
}

fn be16(b: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(*b.first_chunk()?))
}

fn decode_tuple(nest: &[u8]) -> Option<Tuple> {
    let ip = first(nest, CTA_TUPLE_IP)?;
    let proto = first(nest, CTA_TUPLE_PROTO)?;
    let protocol = *first(proto, CTA_PROTO_NUM)?.first()?;
    let (sport, dport) = if protocol == IPPROTO_ICMP {
        let t = *first(proto, CTA_PROTO_ICMP_TYPE)?.first()?;
        let c = *first(proto, CTA_PROTO_ICMP_CODE)?.first()?;
        (
            be16(first(proto, CTA_PROTO_ICMP_ID)?)?,
            u16::from_be_bytes([t, c]),
        )
    } else {
        (
            be16(first(proto, CTA_PROTO_SRC_PORT)?)?,
            be16(first(proto, CTA_PROTO_DST_PORT)?)?,
        )
    };
    Some(Tuple {
        saddr: *first(ip, CTA_IP_V4_SRC)?.first_chunk()?,
        daddr: *first(ip, CTA_IP_V4_DST)?.first_chunk()?,
        protocol,
        sport,
        dport,
    })
}

/// The connection described by the payload of `NFQA_CT` (for clients).
pub fn decode_ct(nest: &[u8]) -> CtView {
    CtView {
        orig: first(nest, CTA_TUPLE_ORIG).and_then(decode_tuple),
        status: first(nest, CTA_STATUS).and_then(be32),
        mark: first(nest, CTA_MARK).and_then(be32).unwrap_or(0),
        tcp_state: first(nest, CTA_PROTOINFO)
            .and_then(|p| first(p, CTA_PROTOINFO_TCP))
            .and_then(|t| first(t, CTA_PROTOINFO_TCP_STATE))
            .and_then(|s| s.first().copied()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp() -> CtGlue<'static> {
        CtGlue {
            orig: Tuple {
                saddr: [10, 0, 1, 2],
                daddr: [10, 0, 2, 2],
                protocol: 6,
                sport: 40000,
                dport: 80,
            },
            reply: Tuple {
                saddr: [10, 0, 2, 2],
                daddr: [10, 0, 2, 1],
                protocol: 6,
                sport: 80,
                dport: 1024,
            },
            id: 0x1234_5678,
            status: 0x18e,
            timeout: 431_999,
            mark: 7,
            tcp_state: Some(3),
            helper: Some("ftp"),
        }
    }

    #[test]
    fn tcp_layout_is_ctnetlinks() {
        let mut buf = [0u8; CT_GLUE_MAX];
        let n = encode_ct(&mut buf, &tcp()).unwrap();
        let b = &buf[..n];
        // CTA_TUPLE_ORIG, nested: 4 + (4 + 2 * 8) + (4 + 8 + 2 * 8) = 52.
        assert_eq!(&b[..4], &[52, 0, 1, 0x80]);
        // CTA_TUPLE_IP nested, then CTA_IP_V4_SRC = 10.0.1.2.
        assert_eq!(&b[4..8], &[20, 0, 1, 0x80]);
        assert_eq!(&b[8..16], &[8, 0, 1, 0, 10, 0, 1, 2]);
        assert_eq!(&b[16..24], &[8, 0, 2, 0, 10, 0, 2, 2]);
        // CTA_TUPLE_PROTO: num 6, sport 40000 (0x9c40), dport 80.
        assert_eq!(&b[24..28], &[28, 0, 2, 0x80]);
        assert_eq!(&b[28..36], &[5, 0, 1, 0, 6, 0, 0, 0]);
        assert_eq!(&b[36..44], &[6, 0, 2, 0, 0x9c, 0x40, 0, 0]);
        assert_eq!(&b[44..52], &[6, 0, 3, 0, 0, 80, 0, 0]);
        // Then the reply tuple, CTA_ID, CTA_STATUS, CTA_TIMEOUT.
        assert_eq!(&b[52..56], &[52, 0, 2, 0x80]);
        assert_eq!(&b[104..112], &[8, 0, 12, 0, 0x12, 0x34, 0x56, 0x78]);
        assert_eq!(&b[112..120], &[8, 0, 3, 0, 0, 0, 1, 0x8e]);
        assert_eq!(&b[120..128], &[8, 0, 7, 0, 0, 6, 0x97, 0x7f]);
        let v = decode_ct(b);
        assert_eq!(v.orig, Some(tcp().orig));
        assert_eq!(v.status, Some(0x18e));
        assert_eq!(v.mark, 7);
        assert_eq!(v.tcp_state, Some(3));
        // The helper's name, NUL-terminated, in CTA_HELP.
        assert!(b.windows(4).any(|w| w == b"ftp\0"));
    }

    #[test]
    fn icmp_tuple_and_no_mark() {
        let mut ct = tcp();
        ct.orig = Tuple {
            saddr: [1, 1, 1, 1],
            daddr: [2, 2, 2, 2],
            protocol: 1,
            sport: 0x0102,
            dport: 0x0800,
        };
        ct.mark = 0;
        ct.tcp_state = None;
        ct.helper = None;
        let mut buf = [0u8; CT_GLUE_MAX];
        let n = encode_ct(&mut buf, &ct).unwrap();
        let v = decode_ct(&buf[..n]);
        assert_eq!(v.orig, Some(ct.orig));
        assert_eq!(v.mark, 0);
        assert_eq!(v.tcp_state, None);
        assert!(first(&buf[..n], CTA_MARK).is_none());
    }

    #[test]
    fn short_buffers_fail_cleanly() {
        let mut buf = [0u8; CT_GLUE_MAX];
        for len in 0..40 {
            assert_eq!(encode_ct(&mut buf[..len], &tcp()), Err(NlaError::NoSpace));
        }
    }
}
