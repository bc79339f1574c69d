// SPDX-License-Identifier: GPL-2.0

//! One connection: read from its `A_CT_ENTRY` nest, written as
//! conntrack(8) writes it, and its tuple put in a request.
//!
//! The line is the one libnetfilter_conntrack 1.0.9's
//! `__snprintf_conntrack_default` builds (conntrack-tools 1.4.7 prints it
//! with `-L`, `-G`, `-D` and `-E`): every field followed by one blank, the
//! last blank removed, a field the kernel did not send left out:
//!
//! ```text
//! [   [NEW] |[DESTROY] ][ipv4     2 ]tcp      6 TIMEOUT [STATE ]src=.. dst=.. sport=.. dport=.. \
//!   [[UNREPLIED] ]src=.. dst=.. sport=.. dport=.. [[ASSURED] ]mark=.. use=..
//! ```

use rfcore::conntrack::status::{IPS_ASSURED, IPS_HW_OFFLOAD, IPS_OFFLOAD, IPS_SEEN_REPLY};
use rfcore::conntrack::{TcpState, Tuple};
use rfcore::nla::{Attr, Attrs, NlaError, Writer};
use rfcore::proto;

use crate::error::Error;

/// `IPPROTO_*` numbers the line treats apart.
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_DCCP: u8 = 33;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_SCTP: u8 = 132;
const IPPROTO_UDPLITE: u8 = 136;

/// A connection as the kernel reported it. Fields other than the tuples
/// are `None` when the kernel left them out; they are then not printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The tuple of the original direction.
    pub orig: Tuple,
    /// The tuple of the reply direction.
    pub reply: Tuple,
    /// `IPS_*` bits.
    pub status: Option<u32>,
    /// Seconds left.
    pub timeout: Option<u32>,
    /// The connection mark.
    pub mark: Option<u32>,
    /// `TCP_CONNTRACK_*`, TCP only.
    pub tcp_state: Option<u8>,
    /// References (conntrack's `use=`).
    pub refs: Option<u32>,
    /// The helper (conntrack's `helper=`).
    pub helper: Option<String>,
}

/// The kind of an event line: its `[NEW]` or `[DESTROY]` head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `RUSTFILTER_CT_EVENT_NEW`: the connection is in the table.
    New,
    /// `RUSTFILTER_CT_EVENT_DESTROY`: it is out of it.
    Destroy,
}

impl EventKind {
    /// The kind of an `A_CT_EVENT` value; `None` for one this rfctl does
    /// not know.
    pub fn from_u32(v: u32) -> Option<EventKind> {
        match v {
            proto::CT_EVENT_NEW => Some(EventKind::New),
            proto::CT_EVENT_DESTROY => Some(EventKind::Destroy),
            _ => None,
        }
    }
}

fn nla(what: &str, e: NlaError) -> String {
    format!("{what}: {e}")
}

/// One tuple nest: source, destination and protocol are required, the
/// two 16-bit fields default to 0 as in the kernel.
fn decode_tuple(nest: &Attr<'_>, what: &str) -> Result<Tuple, String> {
    let (mut src, mut dst, mut protocol) = (None, None, None);
    let (mut sport, mut dport) = (0, 0);
    for a in nest.nested() {
        let a = a.map_err(|e| nla(what, e))?;
        let bad = |e| nla(what, e);
        match a.kind() {
            proto::CTTUPLE_SRC => src = Some(a.get_be32().map_err(bad)?),
            proto::CTTUPLE_DST => dst = Some(a.get_be32().map_err(bad)?),
            proto::CTTUPLE_PROTO => protocol = Some(a.get_u8().map_err(bad)?),
            proto::CTTUPLE_SPORT => sport = a.get_u16().map_err(bad)?,
            proto::CTTUPLE_DPORT => dport = a.get_u16().map_err(bad)?,
            _ => {} // newer than this rfctl
        }
    }
    match (src, dst, protocol) {
        (Some(saddr), Some(daddr), Some(protocol)) => Ok(Tuple {
            saddr,
            daddr,
            protocol,
            sport,
            dport,
        }),
        _ => Err(format!(
            "{what} without its source, destination or protocol"
        )),
    }
}

/// The payload of one `A_CT_ENTRY`.
pub fn decode_entry(payload: &[u8]) -> Result<Entry, String> {
    let what = "connection";
    let (mut orig, mut reply) = (None, None);
    let mut e = Entry {
        orig: Tuple::other([0; 4], [0; 4], 0),
        reply: Tuple::other([0; 4], [0; 4], 0),
        status: None,
        timeout: None,
        mark: None,
        tcp_state: None,
        refs: None,
        helper: None,
    };
    for a in Attrs::new(payload) {
        let a = a.map_err(|e| nla(what, e))?;
        let bad = |e| nla(what, e);
        match a.kind() {
            proto::CTENTRY_ORIG => orig = Some(decode_tuple(&a, "original tuple")?),
            proto::CTENTRY_REPLY => reply = Some(decode_tuple(&a, "reply tuple")?),
            proto::CTENTRY_STATUS => e.status = Some(a.get_u32().map_err(bad)?),
            proto::CTENTRY_TIMEOUT => e.timeout = Some(a.get_u32().map_err(bad)?),
            proto::CTENTRY_MARK => e.mark = Some(a.get_u32().map_err(bad)?),
            proto::CTENTRY_TCP_STATE => e.tcp_state = Some(a.get_u8().map_err(bad)?),
            proto::CTENTRY_USE => e.refs = Some(a.get_u32().map_err(bad)?),
            proto::CTENTRY_HELPER => e.helper = Some(a.get_str().map_err(bad)?.to_string()),
            _ => {} // CTENTRY_PAD, or newer than this rfctl
        }
    }
    match (orig, reply) {
        (Some(o), Some(r)) => {
            e.orig = o;
            e.reply = r;
            Ok(e)
        }
        _ => Err("connection without its original or reply tuple".to_string()),
    }
}

/// The attributes of a reply or event message: its payload after the
/// generic netlink header.
pub fn body(msg: &[u8]) -> &[u8] {
    msg.get(4..).unwrap_or(&[])
}

/// Every `A_CT_ENTRY` in `replies` (payloads from the generic netlink
/// header on), in order. Other attributes are skipped.
pub fn decode_entries(replies: &[Vec<u8>]) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    for r in replies {
        for a in Attrs::new(body(r)) {
            let a = a.map_err(|e| Error::protocol(format!("connection list: {e}")))?;
            if a.kind() == proto::A_CT_ENTRY {
                out.push(decode_entry(a.payload()).map_err(Error::protocol)?);
            }
        }
    }
    Ok(out)
}

/// An event message: its kind (`None`: unknown to this rfctl) and
/// connection.
pub fn decode_event(msg: &[u8]) -> Result<(Option<EventKind>, Entry), Error> {
    let (mut kind, mut entry) = (None, None);
    for a in Attrs::new(body(msg)) {
        let a = a.map_err(|e| Error::protocol(format!("connection event: {e}")))?;
        match a.kind() {
            proto::A_CT_EVENT => {
                let v = a
                    .get_u32()
                    .map_err(|e| Error::protocol(format!("connection event: {e}")))?;
                kind = Some(EventKind::from_u32(v));
            }
            proto::A_CT_ENTRY => entry = Some(decode_entry(a.payload()).map_err(Error::protocol)?),
            _ => {}
        }
    }
    match (kind, entry) {
        (Some(k), Some(e)) => Ok((k, e)),
        _ => Err(Error::protocol(
            "connection event without its type or connection",
        )),
    }
}

/// libnetfilter_conntrack's name of a layer-4 protocol (`proto2str`).
pub fn l4_name(p: u8) -> &'static str {
    match p {
        IPPROTO_TCP => "tcp",
        IPPROTO_UDP => "udp",
        IPPROTO_UDPLITE => "udplite",
        IPPROTO_ICMP => "icmp",
        IPPROTO_ICMPV6 => "icmpv6",
        IPPROTO_SCTP => "sctp",
        IPPROTO_GRE => "gre",
        IPPROTO_DCCP => "dccp",
        _ => "unknown",
    }
}

/// The name of a TCP state as conntrack prints it; a value it does not
/// know is `NONE`, as libnetfilter_conntrack prints it.
pub fn tcp_state_name(v: u8) -> &'static str {
    TcpState::from_u8(v).unwrap_or(TcpState::None).name()
}

fn dotted(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// `__snprintf_address` then `__snprintf_proto` of one tuple, each field
/// followed by a blank.
fn push_tuple(out: &mut String, t: &Tuple) {
    out.push_str(&format!("src={} dst={} ", dotted(t.saddr), dotted(t.daddr)));
    match t.protocol {
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_UDPLITE | IPPROTO_SCTP | IPPROTO_DCCP => {
            out.push_str(&format!("sport={} dport={} ", t.sport, t.dport));
        }
        IPPROTO_GRE => out.push_str(&format!("srckey={:#x} dstkey={:#x} ", t.sport, t.dport)),
        IPPROTO_ICMP | IPPROTO_ICMPV6 => out.push_str(&format!(
            "type={} code={} id={} ",
            t.icmp_type(),
            t.icmp_code(),
            t.icmp_id()
        )),
        _ => {}
    }
}

/// The line conntrack(8) prints for `e`: with an event head for `-E`,
/// with the layer-3 fields for `-o extended`. No newline.
pub fn format(e: &Entry, event: Option<EventKind>, extended: bool) -> String {
    let mut out = String::new();
    match event {
        Some(EventKind::New) => out.push_str(&format!("{:>9} ", "[NEW]")),
        Some(EventKind::Destroy) => out.push_str(&format!("{:>9} ", "[DESTROY]")),
        None => {}
    }
    if extended {
        out.push_str(&format!("{:<8} {} ", "ipv4", 2)); // AF_INET
    }
    let p = e.orig.protocol;
    out.push_str(&format!("{:<8} {} ", l4_name(p), p));
    if let Some(t) = e.timeout {
        out.push_str(&format!("{t} "));
    }
    if let Some(s) = e.tcp_state {
        out.push_str(tcp_state_name(s));
        out.push(' ');
    }
    push_tuple(&mut out, &e.orig);
    if let Some(status) = e.status {
        if status & IPS_SEEN_REPLY == 0 {
            out.push_str("[UNREPLIED] ");
        }
    }
    push_tuple(&mut out, &e.reply);
    if let Some(status) = e.status {
        if status & IPS_HW_OFFLOAD != 0 {
            out.push_str("[HW_OFFLOAD] ");
        } else if status & IPS_OFFLOAD != 0 {
            out.push_str("[OFFLOAD] ");
        } else if status & IPS_ASSURED != 0 {
            out.push_str("[ASSURED] ");
        }
    }
    if let Some(m) = e.mark {
        out.push_str(&format!("mark={m} "));
    }
    if let Some(h) = &e.helper {
        out.push_str(&format!("helper={h} "));
    }
    if let Some(u) = e.refs {
        out.push_str(&format!("use={u} "));
    }
    out.pop(); // the last blank
    out
}

/// Put `t` as a tuple nest of type `kind`: addresses and protocol, and
/// the two 16-bit fields for TCP, UDP and ICMP (the kernel takes them as
/// 0 for other protocols).
pub fn put_tuple(w: &mut Writer<'_>, kind: u16, t: &Tuple) -> Result<(), NlaError> {
    let n = w.begin_nest(kind)?;
    w.put_be32(proto::CTTUPLE_SRC, t.saddr)?;
    w.put_be32(proto::CTTUPLE_DST, t.daddr)?;
    w.put_u8(proto::CTTUPLE_PROTO, t.protocol)?;
    if matches!(t.protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMP) {
        w.put_u16(proto::CTTUPLE_SPORT, t.sport)?;
        w.put_u16(proto::CTTUPLE_DPORT, t.dport)?;
    }
    w.end_nest(n)
}
