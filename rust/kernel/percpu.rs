// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{alloc::AllocError, bindings, error::Result};
use core::ptr::NonNull;

/// `N` 64-bit counters per possible CPU.
///
/// Adding is a single `this_cpu_add`: no lock, no atomic instruction, safe
/// against preemption and interrupts, so it may be used on the packet path
/// in any context. Reading sums the counters of all possible CPUs. A read
/// that races with adds sees each CPU's counter either before or after an
/// add, never torn (64-bit CPUs only, where the counters are naturally
/// aligned words).
///
/// # Invariants
///
/// `ptr` is a per-CPU pointer returned by `__alloc_percpu_gfp` for
/// `[u64; N]`, owned by this object and freed on drop.
pub struct PerCpuCounters<const N: usize> {
    ptr: NonNull<[u64; N]>,
}

// SAFETY: the counters are only accessed through `this_cpu_add` (local CPU,
// interrupt safe) and volatile word-sized reads and writes, so the object may
// be used and dropped from any thread.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: see `Send`; shared access only performs the operations above.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Allocates `N` zeroed counters for every possible CPU.
    pub fn new() -> Result<Self> {
        const { assert!(N > 0) };
        // SAFETY: plain allocation; the per-CPU allocator zeroes the memory.
        let ptr = unsafe {
            bindings::__alloc_percpu_gfp(
                core::mem::size_of::<[u64; N]>(),
                core::mem::align_of::<u64>(),
                bindings::GFP_KERNEL,
            )
        };
        // INVARIANT: a non-null result is a fresh per-CPU allocation of the
        // requested size.
        let ptr = NonNull::new(ptr.cast::<[u64; N]>()).ok_or(AllocError)?;
        Ok(Self { ptr })
    }

    /// Adds `val` to counter `idx` of the current CPU. Out-of-range indices
    /// are ignored.
    #[inline]
    pub fn add(&self, idx: usize, val: u64) {
        if idx >= N {
            return;
        }
        // SAFETY: `ptr` is a valid per-CPU pointer to `[u64; N]` (type
        // invariant) and `idx < N`, so the element pointer is a valid per-CPU
        // pointer to a `u64`. No Rust reference to the per-CPU memory exists.
        unsafe {
            let elem = self.ptr.as_ptr().cast::<u64>().add(idx);
            bindings::this_cpu_add_u64(elem, val)
        }
    }

    /// Calls `f` with a pointer to the counters of every possible CPU.
    fn for_each_cpu(&self, mut f: impl FnMut(*mut [u64; N])) {
        let mut cpu: i32 = -1;
        loop {
            // SAFETY: `cpumask_next_possible` accepts -1 and any CPU number.
            let next = unsafe { bindings::cpumask_next_possible(cpu) };
            if next < 0 {
                break;
            }
            // SAFETY: `ptr` is a valid per-CPU pointer and `next` a possible
            // CPU, so the result points to that CPU's `[u64; N]`.
            let p = unsafe { bindings::per_cpu_ptr(self.ptr.as_ptr().cast(), next as u32) };
            f(p.cast());
            cpu = next;
        }
    }

    /// Returns the sum over all CPUs of counter `idx` (0 when out of range).
    pub fn sum(&self, idx: usize) -> u64 {
        let mut total = 0u64;
        if idx < N {
            self.for_each_cpu(|p| {
                // SAFETY: `p` points to a live `[u64; N]` and `idx < N`. The
                // read is volatile because other CPUs update it concurrently;
                // aligned 64-bit loads are not torn.
                total = total.wrapping_add(unsafe { p.cast::<u64>().add(idx).read_volatile() });
            });
        }
        total
    }

    /// Returns the sums of all `N` counters.
    pub fn sums(&self) -> [u64; N] {
        let mut out = [0u64; N];
        self.for_each_cpu(|p| {
            for (i, o) in out.iter_mut().enumerate() {
                // SAFETY: as in `sum`, with `i < N`.
                *o = o.wrapping_add(unsafe { p.cast::<u64>().add(i).read_volatile() });
            }
        });
        out
    }

    /// Sets every counter of every CPU to zero.
    ///
    /// Not atomic with respect to concurrent adds: an add racing with the
    /// reset may be lost or kept.
    pub fn zero(&self) {
        self.for_each_cpu(|p| {
            for i in 0..N {
                // SAFETY: `p` points to a live `[u64; N]` and `i < N`.
                unsafe { p.cast::<u64>().add(i).write_volatile(0) };
            }
        });
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ptr` came from `__alloc_percpu_gfp`
        // and is owned by `self`; nobody can use it after drop.
        unsafe { bindings::free_percpu(self.ptr.as_ptr().cast()) };
    }
}
