// SPDX-License-Identifier: GPL-2.0

//! Connection tracking over netlink (`nf_conntrack_netlink.c`): list, get,
//! delete and flush connections, read the statistics, set the maximum and
//! the timeouts. The attributes are in `include/uapi/linux/rustfilter.h`.

use crate::conntrack::{now_ms, Conn, CtNet, Stat};
use crate::ct::{timeouts::SECOND, tuple::Tuple, ProtoState, Timeouts};
use crate::netlink::send_part as send;
use crate::nla::{Attrs, NlaError, Writer};
use crate::proto;
use core::sync::atomic::Ordering;
use kernel::c_str;
use kernel::net::conntrack::Ct;
use kernel::net::genetlink::{Info, Reply};
use kernel::prelude::*;

/// Target size of one message of a listing.
const LIST_MESSAGE: usize = 16 << 10;
/// Room for one encoded connection, and for the statistics.
const ENTRY_SIZE: usize = 256;

/// Writes one connection as an `A_CT_ENTRY` nest.
pub(crate) fn encode_entry(w: &mut Writer<'_>, conn: &Ct<Conn>, now: u64) -> Result<(), NlaError> {
    let n = w.begin_nest(proto::A_CT_ENTRY)?;
    let [orig, reply] = conn.tuples();
    encode_tuple(w, proto::CTENTRY_ORIG, &orig)?;
    encode_tuple(w, proto::CTENTRY_REPLY, &reply)?;
    w.put_u32(proto::CTENTRY_STATUS, conn.status())?;
    let left = conn.expires().saturating_sub(now) / SECOND;
    w.put_u32(
        proto::CTENTRY_TIMEOUT,
        u32::try_from(left).unwrap_or(u32::MAX),
    )?;
    w.put_u32(proto::CTENTRY_MARK, conn.mark.load(Ordering::Relaxed))?;
    if let ProtoState::Tcp(tcp) = conn.proto() {
        w.put_u8(proto::CTENTRY_TCP_STATE, tcp.state as u8)?;
    }
    w.put_u32(proto::CTENTRY_USE, conn.use_count())?;
    if let Some(h) = conn.helper() {
        w.put_str(proto::CTENTRY_HELPER, h.name())?;
    }
    w.end_nest(n)
}

fn encode_tuple(w: &mut Writer<'_>, kind: u16, t: &Tuple) -> Result<(), NlaError> {
    let n = w.begin_nest(kind)?;
    w.put_be32(proto::CTTUPLE_SRC, t.saddr)?;
    w.put_be32(proto::CTTUPLE_DST, t.daddr)?;
    w.put_u8(proto::CTTUPLE_PROTO, t.protocol)?;
    w.put_u16(proto::CTTUPLE_SPORT, t.sport)?;
    w.put_u16(proto::CTTUPLE_DPORT, t.dport)?;
    w.end_nest(n)
}

/// `CT_LIST`: every connection confirmed at one instant, in messages of
/// about `LIST_MESSAGE` bytes.
pub(crate) fn list(ct: &CtNet, info: &Info<'_>) -> Result {
    let conns = ct.snapshot()?;
    let now = now_ms();
    let mut buf = KVVec::from_elem(0u8, LIST_MESSAGE, GFP_KERNEL)?;
    let mut next = 0;
    while next < conns.len() {
        let mut w = Writer::new(&mut buf);
        for conn in conns.iter().skip(next) {
            let mark = w.mark();
            if encode_entry(&mut w, conn, now).is_err() {
                w.rollback(mark);
                break;
            }
            next += 1;
        }
        if w.is_empty() {
            // One connection does not fit in a message: cannot happen.
            return Err(EINVAL);
        }
        send(info, w.as_bytes())?;
    }
    Ok(())
}

/// The tuple of a request's `A_CT_TUPLE`.
fn request_tuple(info: &Info<'_>) -> Result<Tuple> {
    let Some(nest) = info.attr(proto::A_CT_TUPLE) else {
        info.set_err_msg(c_str!("rustfilter: a tuple (A_CT_TUPLE) is required"));
        return Err(EINVAL);
    };
    let mut t = Tuple {
        saddr: [0; 4],
        daddr: [0; 4],
        protocol: 0,
        sport: 0,
        dport: 0,
    };
    let mut seen = 0u32;
    for a in Attrs::new(nest) {
        let parsed = a.and_then(|a| {
            match a.kind() {
                proto::CTTUPLE_SRC => t.saddr = a.get_be32()?,
                proto::CTTUPLE_DST => t.daddr = a.get_be32()?,
                proto::CTTUPLE_PROTO => t.protocol = a.get_u8()?,
                proto::CTTUPLE_SPORT => t.sport = a.get_u16()?,
                proto::CTTUPLE_DPORT => t.dport = a.get_u16()?,
                _ => return Err(NlaError::BadPayload),
            }
            Ok(a.kind())
        });
        match parsed {
            Ok(kind) => seen |= 1 << kind,
            Err(_) => {
                info.set_err_msg(c_str!("rustfilter: malformed or unknown tuple attribute"));
                return Err(EINVAL);
            }
        }
    }
    if seen & (1 << proto::CTTUPLE_SRC | 1 << proto::CTTUPLE_DST | 1 << proto::CTTUPLE_PROTO)
        != (1 << proto::CTTUPLE_SRC | 1 << proto::CTTUPLE_DST | 1 << proto::CTTUPLE_PROTO)
    {
        info.set_err_msg(c_str!(
            "rustfilter: a tuple needs source, destination and protocol"
        ));
        return Err(EINVAL);
    }
    Ok(t)
}

fn find(ct: &CtNet, info: &Info<'_>) -> Result<Ct<Conn>> {
    let t = request_tuple(info)?;
    match ct.find(&t, now_ms()) {
        Some((conn, _)) => Ok(conn),
        None => {
            info.set_err_msg(c_str!("rustfilter: no such connection"));
            Err(ENOENT)
        }
    }
}

/// `CT_GET`: the connection with a tuple.
pub(crate) fn get(ct: &CtNet, info: &Info<'_>) -> Result {
    let conn = find(ct, info)?;
    let mut buf = [0u8; ENTRY_SIZE];
    let mut w = Writer::new(&mut buf);
    encode_entry(&mut w, &conn, now_ms()).map_err(|_| EINVAL)?;
    send(info, w.as_bytes())
}

/// `CT_DELETE`: removes the connection with a tuple.
pub(crate) fn delete(ct: &CtNet, info: &Info<'_>) -> Result {
    let conn = find(ct, info)?;
    if !ct.remove(info.net(), &conn) {
        info.set_err_msg(c_str!("rustfilter: no such connection"));
        return Err(ENOENT);
    }
    Ok(())
}

/// `CT_STATS`.
pub(crate) fn stats(ct: &CtNet, info: &Info<'_>) -> Result {
    let mut buf = [0u8; ENTRY_SIZE];
    let mut w = Writer::new(&mut buf);
    let count = ct.count.load(Ordering::Relaxed);
    let max = ct.max.load(Ordering::Relaxed);
    (|| -> Result<(), NlaError> {
        let n = w.begin_nest(proto::A_CT_STATS)?;
        w.put_u32(
            proto::CTSTATS_COUNT,
            u32::try_from(count).unwrap_or(u32::MAX),
        )?;
        w.put_u32(proto::CTSTATS_MAX, u32::try_from(max).unwrap_or(u32::MAX))?;
        for (kind, stat) in [
            (proto::CTSTATS_FOUND, Stat::Found),
            (proto::CTSTATS_NEW, Stat::New),
            (proto::CTSTATS_INVALID, Stat::Invalid),
            (proto::CTSTATS_INSERT_FAILED, Stat::InsertFailed),
            (proto::CTSTATS_DROP, Stat::Drop),
            (proto::CTSTATS_EARLY_DROP, Stat::EarlyDrop),
        ] {
            w.put_u64(kind, ct.stat(stat))?;
        }
        w.end_nest(n)
    })()
    .map_err(|_| EINVAL)?;
    send(info, w.as_bytes())
}

/// The `Timeouts` field an attribute sets.
fn timeout_field(t: &mut Timeouts, kind: u16) -> Option<&mut u64> {
    Some(match kind {
        proto::CTTIMEOUT_TCP_SYN_SENT => &mut t.tcp_syn_sent,
        proto::CTTIMEOUT_TCP_SYN_RECV => &mut t.tcp_syn_recv,
        proto::CTTIMEOUT_TCP_ESTABLISHED => &mut t.tcp_established,
        proto::CTTIMEOUT_TCP_FIN_WAIT => &mut t.tcp_fin_wait,
        proto::CTTIMEOUT_TCP_CLOSE_WAIT => &mut t.tcp_close_wait,
        proto::CTTIMEOUT_TCP_LAST_ACK => &mut t.tcp_last_ack,
        proto::CTTIMEOUT_TCP_TIME_WAIT => &mut t.tcp_time_wait,
        proto::CTTIMEOUT_TCP_CLOSE => &mut t.tcp_close,
        proto::CTTIMEOUT_TCP_RETRANS => &mut t.tcp_retrans,
        proto::CTTIMEOUT_TCP_UNACK => &mut t.tcp_unack,
        proto::CTTIMEOUT_UDP_UNREPLIED => &mut t.udp_unreplied,
        proto::CTTIMEOUT_UDP_REPLIED => &mut t.udp_replied,
        proto::CTTIMEOUT_ICMP => &mut t.icmp,
        proto::CTTIMEOUT_GENERIC => &mut t.generic,
        _ => return None,
    })
}

/// `CT_SET`: the maximum and timeouts. All is checked before anything
/// changes.
pub(crate) fn set(ct: &CtNet, info: &Info<'_>) -> Result {
    let max = info.attr_u32(proto::A_CT_MAX);
    if max == Some(0) {
        info.set_err_msg(c_str!("rustfilter: the maximum must be at least 1"));
        return Err(EINVAL);
    }
    let auto_helper = info.attr_u32(proto::A_CT_AUTO_HELPER);
    if auto_helper.is_some_and(|a| a > 1) {
        info.set_err_msg(c_str!("rustfilter: the automatic helper setting is 0 or 1"));
        return Err(EINVAL);
    }
    let mut config = ct.config();
    if let Some(nest) = info.attr(proto::A_CT_TIMEOUTS) {
        for a in Attrs::new(nest) {
            let ok = a.ok().and_then(|a| {
                let secs = a
                    .get_u32()
                    .ok()
                    .filter(|s| (1..=i32::MAX as u32).contains(s))?;
                let field = timeout_field(&mut config.timeouts, a.kind())?;
                *field = u64::from(secs) * SECOND;
                Some(())
            });
            if ok.is_none() {
                info.set_err_msg(c_str!(
                    "rustfilter: a timeout is unknown, malformed or not 1..2147483647 seconds"
                ));
                return Err(EINVAL);
            }
        }
    }
    // The answer is made before anything changes: running out of memory
    // for it after the change would report a change that was made as
    // failed (the caller asks for no acknowledgement).
    let reply = Reply::new(info, 0)?;
    ct.set_config(config)?;
    if let Some(m) = max {
        ct.max.store(m as usize, Ordering::Relaxed);
    }
    if let Some(a) = auto_helper {
        ct.auto_helper.store(a == 1, Ordering::Relaxed);
    }
    reply.send()
}
