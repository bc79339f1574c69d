// SPDX-License-Identifier: GPL-2.0

//! The netlink queue: the pure core of a handler wire-compatible with
//! `net/netfilter/nfnetlink_queue.c`.
//!
//! A hook verdict `NF_QUEUE_NR(n)` hands a packet to the queue handler,
//! which sends it to the userspace listener bound to queue `n` as an
//! `NFQNL_MSG_PACKET` message and holds it until a verdict comes back. The
//! protocol is nfnetlink's (`NFNL_SUBSYS_QUEUE`), so libnetfilter_queue
//! programs, the kernel selftest client and the `nfq` crate work unchanged.
//! The pieces, as `nfnetlink_queue.c` divides them:
//!
//! - [`consts`]: the numbers of `include/uapi/linux/netfilter/nfnetlink_queue.h`
//!   and `netfilter.h` (a host test compares them with the header);
//! - [`attrs`]: attribute tables and the policies of the three request
//!   types, as `nla_parse_deprecated` applies them in `nfnetlink_rcv_msg`;
//! - [`msg`]: the `nlmsghdr` + `nfgenmsg` framing;
//! - [`config`]: `NFQNL_MSG_CONFIG` (`nfqnl_recv_config`): bind, unbind,
//!   copy mode, queue length, flags, with the kernel's errno order;
//! - [`verdict`]: `NFQNL_MSG_VERDICT` and `NFQNL_MSG_VERDICT_BATCH`
//!   (`nfqnl_recv_verdict`, `nfqnl_recv_verdict_batch`), packet ids, and the
//!   decisions of `nfqnl_reinject` and `nf_reinject`;
//! - [`packet`]: the `NFQNL_MSG_PACKET` message
//!   (`nfqnl_build_packet_message`), and its decoder for clients;
//! - [`fixup`]: the IP length and checksums of a packet whose payload a
//!   listener replaced (an extension: upstream's `nfqnl_mangle` fixes
//!   nothing);
//! - [`balance`]: the queue choice of `--queue-balance` and
//!   `--queue-cpu-fanout` (`nfqueue_hash` of `nf_queue.h`, `xt_NFQUEUE.c`);
//! - [`procfmt`]: the line of `/proc/net/netfilter/nfnetlink_queue`.
//!
//! Requests are decoded from the attribute run of a message into plain
//! values; nothing here allocates, locks or touches a packet buffer other
//! than the slices it is given. The kernel module keeps the instances, the
//! queued packets and their ids, and acts on what these functions decide:
//!
//! - CONFIG: [`attrs::Table`] (from the request's attributes, with
//!   [`attrs::CONFIG_POLICY`]), [`config::decode_config`], then
//!   [`config::apply`] with the queue's current [`config::QueueConfig`]
//!   gives an [`config::Action`] or the errno to answer;
//! - VERDICT / VERDICT_BATCH: [`verdict::check_listener`], then
//!   [`verdict::decode_verdict`] or [`verdict::decode_batch`], then the
//!   packet lookup by id ([`verdict::batch_takes`] for a batch); a payload
//!   goes through [`verdict::check_mangle`], the copy, then
//!   [`fixup::fixup`]; reinjection follows [`verdict::wants_ct_update`],
//!   [`verdict::reinject`], [`verdict::after_hook`] and
//!   [`verdict::finish`];
//! - PACKET: [`packet::copy_len`], [`packet::skb_info`] and friends fill a
//!   [`packet::PacketMeta`]; [`packet::encode_packet`] writes the message
//!   up to the payload; [`verdict::next_id`] and [`packet::set_packet_id`]
//!   number it under the queue lock.
//!
//! [`config::encode_config`], [`verdict::encode_verdict`] and
//! [`verdict::encode_batch`] write requests, and [`packet::decode_packet`]
//! reads packets, for the client side (rfctl, tests).
//!
//! Nothing here panics on any input: every access is bounds-checked and
//! arithmetic on wire values is checked or wrapping.

use super::{nat, nla};

pub mod attrs;
pub mod balance;
pub mod config;
pub mod consts;
pub mod ctglue;
pub mod fixup;
pub mod msg;
pub mod packet;
pub mod procfmt;
pub mod verdict;

#[cfg(test)]
mod tests;

/// An error as the kernel returns it to a netlink request: the positive
/// errno values of `include/uapi/asm-generic/errno*.h` (and the kernel's
/// own `ENOTSUPP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Errno {
    /// `EPERM`: the queue is bound by another socket.
    Perm = 1,
    /// `ENOENT`: no queued packet has the id of a verdict.
    NoEnt = 2,
    /// `EAGAIN`.
    Again = 11,
    /// `ENOMEM`.
    NoMem = 12,
    /// `EBUSY`: the queue is already bound.
    Busy = 16,
    /// `ENODEV`: the queue is not bound.
    NoDev = 19,
    /// `EINVAL`: a malformed request.
    Inval = 22,
    /// `ERANGE`: an attribute failed its policy (too short).
    Range = 34,
    /// `EOPNOTSUPP`: an unknown command or flag.
    OpNotSupp = 95,
    /// `ENOBUFS`: a full queue, or a listener's full socket buffer.
    NoBufs = 105,
    /// `ENOTSUPP` (kernel-internal 524): `NFQNL_MSG_PACKET` sent to the
    /// kernel (`nfqnl_recv_unsupp`).
    NotSupp = 524,
}

impl Errno {
    /// The positive errno value.
    pub const fn value(self) -> i32 {
        self as i32
    }

    /// The negative value a kernel function returns (`-EINVAL`...).
    pub const fn to_errno(self) -> i32 {
        -(self as i32)
    }

    /// The name of the constant, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Perm => "EPERM",
            Errno::NoEnt => "ENOENT",
            Errno::Again => "EAGAIN",
            Errno::NoMem => "ENOMEM",
            Errno::Busy => "EBUSY",
            Errno::NoDev => "ENODEV",
            Errno::Inval => "EINVAL",
            Errno::Range => "ERANGE",
            Errno::OpNotSupp => "EOPNOTSUPP",
            Errno::NoBufs => "ENOBUFS",
            Errno::NotSupp => "ENOTSUPP",
        }
    }
}

impl core::fmt::Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
