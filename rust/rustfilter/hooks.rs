// SPDX-License-Identifier: GPL-2.0

//! Per-namespace state and the hook function run at every IPv4 hook.

use crate::packet;
use crate::proto::Hook;
use kernel::net::namespace::{Net, PernetId, PernetState};
use kernel::net::netfilter::{priority, HookSpec, HookState, InetHook, Verdict};
use kernel::net::skbuff::SkBuff;
use crate::counters::Counters;
use kernel::prelude::*;
use kernel::sync::rcu;

/// Counters kept per hook.
const PACKETS: usize = 0;
const BYTES: usize = 1;
const MALFORMED: usize = 2;
const PER_HOOK: usize = 3;
const COUNTERS: usize = Hook::COUNT * PER_HOOK;

/// How many bytes of a packet the hook looks at: the largest IPv4 header
/// plus a transport header.
const PEEK: usize = 128;

/// The counters of one hook, summed over all CPUs.
#[derive(Clone, Copy, Default)]
pub(crate) struct HookStats {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) malformed: u64,
}

/// rustfilter's state in one network namespace.
#[pin_data]
pub(crate) struct NetState {
    #[pin]
    counters: Counters,
}

static NET_ID: PernetId = PernetId::new();

const fn first(hook: InetHook) -> HookSpec {
    HookSpec {
        hook,
        priority: priority::FIRST,
    }
}

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &NET_ID
    }

    /// Count at every hook before anything else sees the packet.
    const NF_HOOKS: &'static [HookSpec] = &[
        first(InetHook::PreRouting),
        first(InetHook::LocalIn),
        first(InetHook::Forward),
        first(InetHook::LocalOut),
        first(InetHook::PostRouting),
    ];

    fn init(_net: &Net) -> impl PinInit<Self, Error> {
        try_pin_init!(NetState {
            counters <- Counters::new(COUNTERS),
        }? Error)
    }

    fn hook(&self, _index: usize, skb: &mut SkBuff, state: &HookState<'_>) -> Verdict {
        let Some(hook) = state.hook() else {
            return Verdict::Accept;
        };
        let base = hook.number() as usize * PER_HOOK;
        let len = skb.len() as usize;
        let mut buf = [0u8; PEEK];
        let peek = len.min(PEEK);
        let parsed = skb
            .header(0, &mut buf[..peek])
            .map(|bytes| packet::parse(bytes, len));
        let guard = rcu::read_lock();
        let counters = self.counters.live(&guard);
        counters.add(base + PACKETS, 1);
        counters.add(base + BYTES, len as u64);
        if !matches!(parsed, Some(Ok(_))) {
            counters.add(base + MALFORMED, 1);
        }
        Verdict::Accept
    }
}

impl NetState {
    /// The counters of every hook, in hook order, as one snapshot; with
    /// `zero`, they restart from zero at the same instant (no packet is
    /// lost or counted twice). Sleeps.
    pub(crate) fn stats(&self, zero: bool) -> Result<[HookStats; Hook::COUNT]> {
        let sums = self.counters.snapshot(zero)?;
        let mut out = [HookStats::default(); Hook::COUNT];
        let at = |i: usize| sums.get(i).copied().unwrap_or(0);
        for (h, s) in out.iter_mut().enumerate() {
            let base = h * PER_HOOK;
            *s = HookStats {
                packets: at(base + PACKETS),
                bytes: at(base + BYTES),
                malformed: at(base + MALFORMED),
            };
        }
        Ok(out)
    }
}
