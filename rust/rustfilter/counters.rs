// SPDX-License-Identifier: GPL-2.0

//! Counters read as one consistent snapshot, and zeroed atomically.
//!
//! Packets add to a per-CPU array published through RCU, all of a packet's
//! additions inside one read-side critical section. A reader swaps in a
//! fresh array, waits for a grace period (after which no CPU can still be
//! adding to the old one) and folds the old array into `base`. So a read
//! sees every packet counted before it entirely and none after it, and
//! "read and zero" loses no packet and counts none twice: a packet lands
//! either in the array that was read or in the fresh one.

use kernel::percpu::PerCpuCounters;
use kernel::prelude::*;
use kernel::sync::rcu::{Guard, RcuBox};
use kernel::sync::Mutex;

#[pin_data]
pub(crate) struct Counters {
    live: RcuBox<PerCpuCounters>,
    /// Sums of the arrays retired so far; readers are serialised by this lock.
    #[pin]
    base: Mutex<KVec<u64>>,
}

impl Counters {
    /// `len` counters, all zero.
    pub(crate) fn new(len: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            live: RcuBox::new(KBox::new(PerCpuCounters::new(len)?, GFP_KERNEL)?),
            base <- kernel::new_mutex!(KVec::from_elem(0u64, len, GFP_KERNEL)?),
        }? Error)
    }

    /// Counters starting from the values in `base`.
    pub(crate) fn with_base(base: KVec<u64>) -> impl PinInit<Self, Error> {
        let len = base.len();
        try_pin_init!(Self {
            live: RcuBox::new(KBox::new(PerCpuCounters::new(len)?, GFP_KERNEL)?),
            base <- kernel::new_mutex!(base),
        }? Error)
    }

    /// The array packets add to during the critical section `guard`.
    #[inline]
    pub(crate) fn live<'a>(&'a self, guard: &'a Guard) -> &'a PerCpuCounters {
        self.live.read(guard)
    }

    /// A snapshot of all counters; when `zero`, they restart from zero at
    /// the same instant. Sleeps (one RCU grace period). On allocation
    /// failure nothing changes.
    pub(crate) fn snapshot(&self, zero: bool) -> Result<KVec<u64>> {
        let mut base = self.base.lock();
        let fresh = KBox::new(PerCpuCounters::new(base.len())?, GFP_KERNEL)?;
        let mut out = KVec::with_capacity(base.len(), GFP_KERNEL)?;
        let retired = self.live.replace(fresh);
        retired.add_sums_to(&mut base);
        out.extend_from_slice(&base, GFP_KERNEL)?;
        if zero {
            base.iter_mut().for_each(|v| *v = 0);
        }
        Ok(out)
    }

    /// How many counters there are.
    pub(crate) fn len(&self) -> usize {
        self.base.lock().len()
    }

    /// The counters' values, written into `out` (as many as fit), without
    /// allocating or zeroing: for counters no packet can add to any more
    /// (their table was replaced and a grace period passed), whose values
    /// are final.
    pub(crate) fn final_values(&self, out: &mut [u64]) {
        let base = self.base.lock();
        let guard = kernel::sync::rcu::read_lock();
        let live = self.live.read(&guard);
        for (i, (o, b)) in out.iter_mut().zip(base.iter()).enumerate() {
            *o = b.wrapping_add(live.sum(i));
        }
    }

    /// Lets `f` change the retired sums: where carried-over counters are
    /// set on a table just published.
    pub(crate) fn update_base(&self, f: impl FnOnce(&mut [u64])) {
        f(&mut self.base.lock());
    }
}
