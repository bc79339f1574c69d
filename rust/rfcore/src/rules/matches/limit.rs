// SPDX-License-Identifier: GPL-2.0

//! `-m limit --limit rate/unit --limit-burst n` (`xt_limit.c`).
//!
//! A token bucket counted in nanoseconds: a packet costs the mean interval
//! (`avg`), the bucket holds `burst` packets' worth and starts full, and
//! time refills it. The state ([`LimitState`]) is per rule and lives with
//! the caller (the kernel keeps one per limit match, under a lock); this
//! file only does the arithmetic, in [`Limit::take`].

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, Context, MatchOps, PacketInfo, Reason};

/// Default `--limit-burst`.
pub const DEFAULT_BURST: u32 = 5;
/// Highest `--limit-burst`.
pub const MAX_BURST: u32 = 10_000;
/// Nanoseconds per unit of `avg` (1 s / `LIMIT_SCALE`).
const NS_PER_UNIT: u64 = 1_000_000_000 / proto::LIMIT_SCALE as u64;

/// The limit match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Mean interval between packets, in 1/`LIMIT_SCALE` s (as
    /// iptables' `avg`: `--limit 3/hour` is 3600 * 10000 / 3).
    pub avg: u32,
    /// `--limit-burst`.
    pub burst: u32,
}

impl Default for Limit {
    fn default() -> Self {
        // iptables' default: 3/hour.
        Limit {
            avg: 3600 * proto::LIMIT_SCALE / 3,
            burst: DEFAULT_BURST,
        }
    }
}

/// The bucket of one limit match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitState {
    /// Credit, in nanoseconds.
    pub credit: u64,
    /// When it was last refilled, in nanoseconds of a monotonic clock.
    pub prev_ns: u64,
}

impl Limit {
    /// What a packet costs, in nanoseconds.
    pub fn cost(&self) -> u64 {
        u64::from(self.avg) * NS_PER_UNIT
    }

    /// The most credit the bucket holds.
    pub fn cap(&self) -> u64 {
        self.cost().saturating_mul(u64::from(self.burst))
    }

    /// A full bucket at time `now_ns`: the state to start with.
    pub fn initial_state(&self, now_ns: u64) -> LimitState {
        LimitState {
            credit: self.cap(),
            prev_ns: now_ns,
        }
    }

    /// Refill the bucket for the time since it was last, then take one
    /// packet's cost if there is enough: whether the packet is within the
    /// limit. A clock going backwards refills nothing.
    pub fn take(&self, state: &mut LimitState, now_ns: u64) -> bool {
        let elapsed = now_ns.saturating_sub(state.prev_ns);
        state.prev_ns = state.prev_ns.max(now_ns);
        state.credit = state.credit.saturating_add(elapsed).min(self.cap());
        if state.credit >= self.cost() {
            state.credit -= self.cost();
            true
        } else {
            false
        }
    }
}

impl MatchOps for Limit {
    const KIND: u32 = proto::MT_LIMIT;
    const NAME: &'static str = "limit";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Limit::default();
        each(opts, |a| {
            match a.kind() {
                proto::LIMIT_AVG => m.avg = a.get_u32()?,
                proto::LIMIT_BURST => m.burst = a.get_u32()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if m.avg == 0 || m.burst == 0 || m.burst > MAX_BURST {
            return Err(Reason::BadLimit);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::LIMIT_AVG, self.avg)?;
        w.put_u32(proto::LIMIT_BURST, self.burst)
    }

    fn matches<C: Context>(&self, _pkt: &PacketInfo, ctx: &mut C, index: u32) -> bool {
        ctx.limit(index, self)
    }
}
