// SPDX-License-Identifier: GPL-2.0

//! The "rustfilter" generic netlink family (include/uapi/linux/rustfilter.h,
//! Documentation/protocol.rst).
//!
//! Requests are serialised by the generic netlink mutex (the family is not
//! `parallel_ops`), so table writers never race each other; packets read
//! tables through RCU and never wait for a writer.

use crate::ct_netlink;
use crate::hooks::{NetState, Txn};
use crate::proto::{self, Hook};
use crate::rules::TableKind;
use crate::tables::{self, CommitError, Slot};
use core::sync::atomic::Ordering;
use kernel::c_str;
use kernel::net::genetlink::{self, AttrPolicy, Command, Family, Info, Reply};
use kernel::net::namespace;
use kernel::net::netlink::Released;
use kernel::prelude::*;
use kernel::sync::rcu::{self, RcuBox};
use kernel::sync::Arc;

/// Room for five nested hook records of three u64 and one u32 each.
const STATS_REPLY_SIZE: usize = 512;
/// Room for a table name and a generation.
const SMALL_REPLY_SIZE: usize = 128;
/// Most bytes of ruleset one transaction may hold.
const MAX_TXN_BYTES: usize = 256 << 20;
/// Target size of one message of a table dump.
const DUMP_MESSAGE: usize = 32 << 10;

/// Top-level attributes, as requests may carry them.
const POLICY: &[AttrPolicy] = &[
    AttrPolicy::Reject,                    // UNSPEC
    AttrPolicy::Reject,                    // PAD
    AttrPolicy::Reject,                    // HOOK_STATS: replies only
    AttrPolicy::NulString { max_len: 15 }, // TABLE
    AttrPolicy::U32,                       // GENERATION
    AttrPolicy::Flag,                      // ZERO
    AttrPolicy::Flag,                      // TEST
    AttrPolicy::Flag,                      // COUNTERS
    AttrPolicy::Flag,                      // CARRY
    AttrPolicy::Reject,                    // CT_ENTRY: replies only
    AttrPolicy::Nested,                    // CT_TUPLE
    AttrPolicy::Reject,                    // CT_STATS: replies only
    AttrPolicy::U32,                       // CT_MAX
    AttrPolicy::Nested,                    // CT_TIMEOUTS
    AttrPolicy::Reject,                    // CT_EVENT: events only
    AttrPolicy::U32,                       // CT_AUTO_HELPER
];

/// The top-level policy with only the attributes in `allowed` accepted:
/// each command refuses the attributes it does not take.
const fn only(allowed: &[u16]) -> [AttrPolicy; POLICY.len()] {
    let mut p = [AttrPolicy::Reject; POLICY.len()];
    let mut i = 0;
    while i < allowed.len() {
        let a = allowed[i] as usize;
        p[a] = POLICY[a];
        i += 1;
    }
    p
}

const NO_ATTRS: &[AttrPolicy] = &only(&[]);
const BEGIN_POLICY: &[AttrPolicy] = &only(&[proto::A_TABLE, proto::A_GENERATION]);
const COMMIT_POLICY: &[AttrPolicy] = &only(&[proto::A_TEST, proto::A_COUNTERS, proto::A_CARRY]);
const GET_POLICY: &[AttrPolicy] = &only(&[proto::A_TABLE, proto::A_ZERO]);
const CT_TUPLE_POLICY: &[AttrPolicy] = &only(&[proto::A_CT_TUPLE]);
const CT_SET_POLICY: &[AttrPolicy] = &only(&[
    proto::A_CT_MAX,
    proto::A_CT_TIMEOUTS,
    proto::A_CT_AUTO_HELPER,
]);

/// A chunk's payload: table attributes (Documentation/ruleset.rst).
const CHUNK_POLICY: &[AttrPolicy] = &[
    AttrPolicy::Reject,                    // UNSPEC
    AttrPolicy::NulString { max_len: 15 }, // TABLE_NAME
    AttrPolicy::Nested,                    // TABLE_CHAIN
];

const fn cmd(cmd: u8, admin: bool, policy: &'static [AttrPolicy]) -> Command {
    Command {
        cmd,
        admin,
        policy: Some(policy),
    }
}

/// The per-namespace state registration, shared by the request handler
/// and the watch on closed sockets.
pub(crate) struct Pernet(pub(crate) Pin<KBox<namespace::Registration<NetState>>>);

/// Handles requests.
pub(crate) struct Control {
    pub(crate) pernet: Arc<Pernet>,
}

/// Ends the transaction of a generic netlink socket that is closed
/// (`NETLINK_URELEASE`): its table copy is freed, and a later socket that
/// gets the same port id does not find it open.
pub(crate) struct TxnWatch {
    pub(crate) pernet: Arc<Pernet>,
}

impl Released for TxnWatch {
    fn released(&self, net: &namespace::Net, portid: u32) {
        if let Some(state) = self.pernet.0.try_get(net) {
            drop(state.txns.lock().take(portid));
        }
    }
}

impl Family for Control {
    const NAME: &'static CStr = c_str!("rustfilter");
    const VERSION: u32 = proto::GENL_VERSION as u32;
    const POLICY: &'static [AttrPolicy] = POLICY;
    const MCAST_GROUPS: &'static [&'static CStr] = &[c_str!("ct-events")];
    const COMMANDS: &'static [Command] = &[
        cmd(proto::CMD_GET_STATS, false, NO_ATTRS),
        cmd(proto::CMD_ZERO_STATS, true, NO_ATTRS),
        cmd(proto::CMD_TABLE_BEGIN, true, BEGIN_POLICY),
        cmd(proto::CMD_TABLE_CHUNK, true, CHUNK_POLICY),
        cmd(proto::CMD_TABLE_COMMIT, true, COMMIT_POLICY),
        cmd(proto::CMD_TABLE_ABORT, true, NO_ATTRS),
        cmd(proto::CMD_TABLE_GET, true, GET_POLICY),
        cmd(proto::CMD_CT_LIST, true, NO_ATTRS),
        cmd(proto::CMD_CT_GET, true, CT_TUPLE_POLICY),
        cmd(proto::CMD_CT_DELETE, true, CT_TUPLE_POLICY),
        cmd(proto::CMD_CT_FLUSH, true, NO_ATTRS),
        cmd(proto::CMD_CT_STATS, true, NO_ATTRS),
        cmd(proto::CMD_CT_SET, true, CT_SET_POLICY),
    ];

    fn doit(&self, cmd: u8, info: &Info<'_>) -> Result {
        let state = self.pernet.0.get(info.net());
        match cmd {
            proto::CMD_GET_STATS => counting(state, info).and_then(|()| send_stats(state, info)),
            proto::CMD_ZERO_STATS => {
                counting(state, info).and_then(|()| state.stats(true).map(|_| ()))
            }
            proto::CMD_TABLE_BEGIN => begin(state, info),
            proto::CMD_TABLE_CHUNK => chunk(state, info),
            proto::CMD_TABLE_COMMIT => commit(&self.pernet.0, state, info),
            proto::CMD_TABLE_ABORT => {
                drop(state.txns.lock().take(info.portid()));
                Ok(())
            }
            proto::CMD_TABLE_GET => get(state, info),
            proto::CMD_CT_LIST => ct_netlink::list(&state.ct, info),
            proto::CMD_CT_GET => ct_netlink::get(&state.ct, info),
            proto::CMD_CT_DELETE => ct_netlink::delete(&state.ct, info),
            proto::CMD_CT_FLUSH => state.ct.flush(info.net()),
            proto::CMD_CT_STATS => ct_netlink::stats(&state.ct, info),
            proto::CMD_CT_SET => ct_netlink::set(&state.ct, info),
            _ => {
                info.set_err_msg(c_str!("rustfilter: unknown command"));
                Err(EINVAL)
            }
        }
    }
}

/// Fails unless the namespace counts packets at each hook: a reader is
/// told the counters are off, not shown zeros.
fn counting(state: &NetState, info: &Info<'_>) -> Result {
    if state.counting() {
        return Ok(());
    }
    info.set_err_msg(c_str!(
        "rustfilter: per-hook statistics are off (load the module with hook_stats=1)"
    ));
    Err(genetlink::eopnotsupp())
}

fn send_stats(state: &NetState, info: &Info<'_>) -> Result {
    let stats = state.stats(false)?;
    let mut reply = Reply::new(info, STATS_REPLY_SIZE)?;
    for (hook, s) in Hook::ALL.iter().zip(stats.iter()) {
        reply.nested(proto::A_HOOK_STATS, |r| {
            r.put_u32(proto::STATS_HOOK, hook.number())?;
            r.put_u64(proto::STATS_PACKETS, s.packets, proto::STATS_PAD)?;
            r.put_u64(proto::STATS_BYTES, s.bytes, proto::STATS_PAD)?;
            r.put_u64(proto::STATS_MALFORMED, s.malformed, proto::STATS_PAD)
        })?;
    }
    reply.send()
}

/// The table a request names, or an error saying what is wrong with it.
fn table_of<'a>(state: &'a NetState, info: &Info<'_>) -> Result<(TableKind, &'a RcuBox<Slot>)> {
    let Some(name) = info.attr_str(proto::A_TABLE) else {
        info.set_err_msg(c_str!("rustfilter: RUSTFILTER_A_TABLE is required"));
        return Err(EINVAL);
    };
    let kind = core::str::from_utf8(name)
        .ok()
        .and_then(TableKind::from_name);
    let slot = kind
        .and_then(tables::index_of)
        .and_then(|i| state.tables.get(i));
    match (kind, slot) {
        (Some(k), Some(s)) => Ok((k, s)),
        _ => {
            info.set_err_msg(c_str!("rustfilter: no such table"));
            Err(ENOENT)
        }
    }
}

fn generation(slot: &RcuBox<Slot>) -> u32 {
    let guard = rcu::read_lock();
    slot.read(&guard).generation
}

fn reply_generation(info: &Info<'_>, kind: TableKind, generation: u32) -> Result {
    generation_reply(info, kind, generation)?.send()
}

/// The reply naming `kind` and its `generation`, built but not sent: a
/// commit builds it before it publishes the table, so that running out of
/// memory for it cannot report a failure for a change that was made.
fn generation_reply<'a, 'b>(
    info: &'b Info<'a>,
    kind: TableKind,
    generation: u32,
) -> Result<Reply<'a, 'b>> {
    let mut reply = Reply::new(info, SMALL_REPLY_SIZE)?;
    let mut name = [0u8; 16];
    let n = kind.name().len().min(15);
    name[..n].copy_from_slice(&kind.name().as_bytes()[..n]);
    reply.put_raw_attr(proto::A_TABLE, &name[..n + 1])?;
    reply.put_u32(proto::A_GENERATION, generation)?;
    Ok(reply)
}

fn begin(state: &NetState, info: &Info<'_>) -> Result {
    let (kind, slot) = table_of(state, info)?;
    let txn = Txn {
        portid: info.portid(),
        seq: 0,
        kind,
        expect: info.attr_u32(proto::A_GENERATION),
        buf: KVVec::new(),
    };
    state.txns.lock().open(txn);
    reply_generation(info, kind, generation(slot))
}

fn chunk(state: &NetState, info: &Info<'_>) -> Result {
    let mut txns = state.txns.lock();
    let Some(txn) = txns.get_mut(info.portid()) else {
        info.set_err_msg(c_str!(
            "rustfilter: no transaction open (TABLE_BEGIN first)"
        ));
        return Err(ENOENT);
    };
    let payload = info.payload();
    if txn.buf.len() + payload.len() > MAX_TXN_BYTES {
        info.set_err_msg(c_str!("rustfilter: transaction too large"));
        return Err(EFBIG);
    }
    txn.buf.extend_from_slice(payload, GFP_KERNEL)?;
    Ok(())
}

fn commit(reg: &namespace::Registration<NetState>, state: &NetState, info: &Info<'_>) -> Result {
    // The transaction ends here whatever happens.
    let Some(txn) = state.txns.lock().take(info.portid()) else {
        info.set_err_msg(c_str!(
            "rustfilter: no transaction open (TABLE_BEGIN first)"
        ));
        return Err(ENOENT);
    };
    let Some(slot) = tables::index_of(txn.kind).and_then(|i| state.tables.get(i)) else {
        return Err(ENOENT);
    };
    let compiled = match tables::compile(txn.kind, &txn.buf, info.flag(proto::A_COUNTERS)) {
        Ok(c) => c,
        Err(CommitError::Rule(e)) => {
            info.set_err_msg_fmt(format_args!("{e}"));
            return Err(EINVAL);
        }
        Err(CommitError::Kernel(e, msg)) => {
            info.set_err_msg_fmt(format_args!("{msg}"));
            return Err(e);
        }
    };
    let current = generation(slot);
    if txn.expect.is_some_and(|g| g != current) {
        info.set_err_msg(c_str!(
            "rustfilter: the table changed since the transaction began"
        ));
        return Err(EAGAIN);
    }
    let carry = info.flag(proto::A_CARRY);
    // Commits are serialised (genl_mutex): the table read here is the one
    // this commit replaces.
    let old = {
        let guard = rcu::read_lock();
        slot.read(&guard).compiled.clone()
    };
    if carry {
        if txn.expect.is_none() {
            info.set_err_msg(c_str!(
                "rustfilter: carrying counters needs a transaction bound to a generation"
            ));
            return Err(EINVAL);
        }
        if let Err(msg) = tables::check_origins(&compiled, old.as_deref()) {
            info.set_err_msg(msg);
            return Err(EINVAL);
        }
    }
    if info.flag(proto::A_TEST) {
        return reply_generation(info, txn.kind, current);
    }
    let next = current.wrapping_add(1);
    // Everything that can fail comes before the table is published.
    let reply = generation_reply(info, txn.kind, next)?;
    let mut scratch = match (carry, old.as_deref()) {
        (true, Some(o)) => Some(tables::carry_scratch(o)?),
        _ => None,
    };
    let new = KBox::new(
        Slot {
            generation: next,
            compiled: Some(compiled.clone()),
        },
        GFP_KERNEL,
    )?;
    // The table's hooks, and tracking's if it needs them, before it is
    // published (registered once, they stay until the namespace goes).
    if let Err(e) = NetState::enable_hooks(reg, info.net(), txn.kind, compiled.needs_conntrack) {
        info.set_err_msg_fmt(format_args!(
            "rustfilter: could not register the hooks of table {}",
            txn.kind.name()
        ));
        return Err(e);
    }
    // Tracking runs while a committed table needs it: count the new table
    // in before it is published, the old one out after.
    if compiled.needs_conntrack {
        state.ct.users.fetch_add(1, Ordering::AcqRel);
    }
    // Waits for a grace period; the old table goes when its last user does.
    drop(slot.replace(new));
    if old.as_ref().is_some_and(|o| o.needs_conntrack) {
        state.ct.users.fetch_sub(1, Ordering::AcqRel);
    }
    if let (Some(scratch), Some(old)) = (scratch.as_mut(), old) {
        // No packet can reach the old table any more: its counters are
        // final. Commands are serialised, so no dump sees the new table
        // before they are carried. Both tables are compiled: this cannot
        // fail.
        let _ = tables::carry_counters(&old, &compiled, scratch);
    }
    reply.send()
}

fn get(state: &NetState, info: &Info<'_>) -> Result {
    let (kind, slot) = table_of(state, info)?;
    let compiled = {
        let guard = rcu::read_lock();
        slot.read(&guard).compiled.clone()
    };
    let encoded = match &compiled {
        Some(c) => tables::encode(c, info.flag(proto::A_ZERO))?,
        // No ruleset yet: the built-in chains with ACCEPT policies.
        None => tables::encode_empty(kind)?,
    };
    let bytes = encoded.bytes();
    // Split at top-level attribute boundaries into messages of about
    // DUMP_MESSAGE bytes (one attribute is at most 64 KiB).
    let mut start = 0;
    let mut end = 0;
    for attr in crate::nla::Attrs::new(bytes) {
        let attr = attr.map_err(|_| EINVAL)?;
        let len = crate::nla::align(attr.payload().len() + 4).ok_or(EINVAL)?;
        if end > start && end - start + len > DUMP_MESSAGE {
            send_part(info, &bytes[start..end])?;
            start = end;
        }
        end += len;
    }
    if end > start || start == 0 {
        send_part(info, &bytes[start..end.min(bytes.len())])?;
    }
    Ok(())
}

/// Sends `part` (whole attributes) as one reply message.
pub(crate) fn send_part(info: &Info<'_>, part: &[u8]) -> Result {
    let mut reply = Reply::new(info, part.len() + 64)?;
    reply.put_raw(part)?;
    reply.send()
}
