// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{alloc::AllocError, bindings, error::Result};
use core::ptr::NonNull;

/// A run of 64-bit counters per possible CPU, sized at run time.
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
/// `ptr` is a per-CPU pointer returned by `__alloc_percpu_gfp` for `len`
/// `u64`s (`len > 0`), owned by this object and freed on drop.
pub struct PerCpuCounters {
    ptr: NonNull<u64>,
    len: usize,
}

// SAFETY: the counters are only accessed through `this_cpu_add` (local CPU,
// interrupt safe) and volatile word-sized reads and writes, so the object may
// be used and dropped from any thread.
unsafe impl Send for PerCpuCounters {}
// SAFETY: see `Send`; shared access only performs the operations above.
unsafe impl Sync for PerCpuCounters {}

impl PerCpuCounters {
    /// Allocates `len` zeroed counters (at least one) for every possible CPU.
    pub fn new(len: usize) -> Result<Self> {
        let len = len.max(1);
        let size = len
            .checked_mul(core::mem::size_of::<u64>())
            .ok_or(AllocError)?;
        // SAFETY: plain allocation; the per-CPU allocator zeroes the memory.
        let ptr = unsafe {
            bindings::__alloc_percpu_gfp(size, core::mem::align_of::<u64>(), bindings::GFP_KERNEL)
        };
        // INVARIANT: a non-null result is a fresh per-CPU allocation of
        // `len` counters.
        let ptr = NonNull::new(ptr.cast::<u64>()).ok_or(AllocError)?;
        Ok(Self { ptr, len })
    }

    /// Number of counters per CPU.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: there is at least one counter.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Adds `val` to counter `idx` of the current CPU. Out-of-range indices
    /// are ignored.
    #[inline]
    pub fn add(&self, idx: usize, val: u64) {
        if idx >= self.len {
            return;
        }
        // SAFETY: `ptr` is a valid per-CPU pointer to `len` counters (type
        // invariant) and `idx < len`, so the element pointer is a valid
        // per-CPU pointer to a `u64`. No Rust reference to the per-CPU memory
        // exists.
        unsafe { bindings::this_cpu_add_u64(self.ptr.as_ptr().add(idx), val) }
    }

    /// Calls `f` with a pointer to the counters of every possible CPU.
    fn for_each_cpu(&self, mut f: impl FnMut(*mut u64)) {
        let mut cpu: i32 = -1;
        loop {
            // SAFETY: `cpumask_next_possible` accepts -1 and any CPU number.
            let next = unsafe { bindings::cpumask_next_possible(cpu) };
            if next < 0 {
                break;
            }
            // SAFETY: `ptr` is a valid per-CPU pointer and `next` a possible
            // CPU, so the result points to that CPU's `len` counters.
            let p = unsafe { bindings::per_cpu_ptr(self.ptr.as_ptr().cast(), next as u32) };
            f(p.cast());
            cpu = next;
        }
    }

    /// Returns the sum over all CPUs of counter `idx` (0 when out of range).
    pub fn sum(&self, idx: usize) -> u64 {
        let mut total = 0u64;
        if idx < self.len {
            self.for_each_cpu(|p| {
                // SAFETY: `p` points to a CPU's `len` live counters and
                // `idx < len`. The read is volatile because other CPUs update
                // it concurrently; aligned 64-bit loads are not torn.
                total = total.wrapping_add(unsafe { p.add(idx).read_volatile() });
            });
        }
        total
    }

    /// Adds the sums over all CPUs of the first `out.len()` counters to
    /// `out` (counters past `len` are left alone).
    pub fn add_sums_to(&self, out: &mut [u64]) {
        let n = out.len().min(self.len);
        self.for_each_cpu(|p| {
            for (i, o) in out[..n].iter_mut().enumerate() {
                // SAFETY: as in `sum`, with `i < n <= len`.
                *o = o.wrapping_add(unsafe { p.add(i).read_volatile() });
            }
        });
    }

    /// Sets every counter of every CPU to zero.
    ///
    /// Not atomic with respect to concurrent adds: an add racing with the
    /// reset may be lost or kept.
    pub fn zero(&self) {
        self.for_each_cpu(|p| {
            for i in 0..self.len {
                // SAFETY: `p` points to `len` live counters and `i < len`.
                unsafe { p.add(i).write_volatile(0) };
            }
        });
    }
}

impl Drop for PerCpuCounters {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `ptr` came from `__alloc_percpu_gfp`
        // and is owned by `self`; nobody can use it after drop.
        unsafe { bindings::free_percpu(self.ptr.as_ptr().cast()) };
    }
}
