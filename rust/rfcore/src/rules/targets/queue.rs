// SPDX-License-Identifier: GPL-2.0

//! `-j NFQUEUE` (`xt_NFQUEUE.c`, revision 3): hand the packet to a netlink
//! queue, where a userspace listener gives the verdict.
//!
//! `--queue-num n` is one queue; `--queue-balance a:b` is `b - a + 1`
//! queues from `a`, the packet's queue chosen by a hash of its addresses
//! and protocol that is the same in both directions of a flow
//! ([`balance::balance_v4`], seeded once per table with
//! [`Context::queue_seed`]), or with `--queue-cpu-fanout` by the CPU
//! ([`balance::fanout`] of [`Context::cpu`]). `--queue-bypass`: when no
//! listener is bound to the queue the packet goes on to the next hook
//! function instead of being dropped.
//!
//! The verdict ends the walk ([`Verdict::Queue`]); what happens then is
//! the queue handler's. iptables' `-j QUEUE` is a standard verdict, queue
//! 0 without bypass: [`super::Target::Queue`].
//!
//! Neither is valid in the nat table: rustfilter walks it only to bind a
//! connection, and a queued first packet would leave it unbound.

use super::nfqueue::balance;
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

const FLAGS: u32 = proto::NFQUEUE_F_BYPASS | proto::NFQUEUE_F_CPU_FANOUT;

/// The NFQUEUE target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NfQueue {
    /// The queue, or the first of the range.
    pub num: u16,
    /// How many queues from `num` (at least 1).
    pub total: u16,
    /// `proto::NFQUEUE_F_*` bits.
    pub flags: u32,
}

impl Default for NfQueue {
    fn default() -> Self {
        NfQueue {
            num: 0,
            total: 1,
            flags: 0,
        }
    }
}

impl NfQueue {
    /// Whether `flag` (a `proto::NFQUEUE_F_*` bit) is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The last queue of the range.
    pub fn last(&self) -> u32 {
        u32::from(self.num) + u32::from(self.total).saturating_sub(1)
    }

    /// The verdict of a target with one queue, the same for every packet;
    /// `None` for a range, whose queue depends on the packet or the CPU.
    pub fn fixed(&self) -> Option<Verdict> {
        (self.total <= 1).then(|| Verdict::Queue {
            num: self.num,
            bypass: self.has(proto::NFQUEUE_F_BYPASS),
        })
    }
}

impl TargetOps for NfQueue {
    const KIND: u32 = proto::TG_NFQUEUE;
    const NAME: &'static str = "NFQUEUE";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = NfQueue::default();
        each(opts, |a| {
            match a.kind() {
                proto::NFQUEUE_NUM => t.num = a.get_u16()?,
                proto::NFQUEUE_TOTAL => t.total = a.get_u16()?,
                proto::NFQUEUE_FLAGS => {
                    t.flags = a.get_u32()?;
                    if t.flags & !FLAGS != 0 {
                        return Err(Reason::BadFlags);
                    }
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if balance::check_range(t.num, t.total).is_err() {
            return Err(Reason::BadQueueRange);
        }
        if t.has(proto::NFQUEUE_F_CPU_FANOUT) && t.total < 2 {
            return Err(Reason::FanoutNeedsBalance);
        }
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u16(proto::NFQUEUE_NUM, self.num)?;
        if self.total != 1 {
            w.put_u16(proto::NFQUEUE_TOTAL, self.total)?;
        }
        if self.flags != 0 {
            w.put_u32(proto::NFQUEUE_FLAGS, self.flags)?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        check_not_nat(cx)
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        if let Some(v) = self.fixed() {
            return Some(v);
        }
        let ip = &pkt.pkt;
        let num = if self.has(proto::NFQUEUE_F_CPU_FANOUT) {
            balance::fanout(ctx.cpu(), self.num, self.total)
        } else {
            balance::balance_v4(
                ip.saddr,
                ip.daddr,
                ip.protocol,
                self.num,
                self.total,
                ctx.queue_seed(),
            )
        };
        Some(Verdict::Queue {
            num,
            bypass: self.has(proto::NFQUEUE_F_BYPASS),
        })
    }
}

/// NFQUEUE and QUEUE are refused in the nat table.
///
/// # Errors
///
/// [`Reason::WrongTable`] in the nat table.
pub fn check_not_nat(cx: &CheckCtx) -> Result<(), Reason> {
    if cx.table == TableKind::Nat {
        return Err(Reason::WrongTable);
    }
    Ok(())
}
