// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h)

use crate::{
    alloc::{flags::GFP_KERNEL, AllocError, KVec},
    bindings,
    error::Result,
};
use core::ptr::NonNull;

/// Counters per block: one per-CPU allocation may not exceed 32 KiB
/// (`PCPU_MIN_UNIT_SIZE`), so large arrays are split into blocks.
const BLOCK: usize = 2048;
// A counter pair (`add_pair`) never straddles two blocks.
const _: () = assert!(BLOCK % 2 == 0);

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
/// Every pointer in `blocks` is a per-CPU pointer returned by
/// `__alloc_percpu_gfp` for `BLOCK` `u64`s, owned by this object and freed
/// on drop; `len <= blocks.len() * BLOCK` and `len > 0`.
pub struct PerCpuCounters {
    blocks: KVec<NonNull<u64>>,
    len: usize,
}

// SAFETY: the counters are only accessed through `this_cpu_add` (local CPU,
// interrupt safe) and volatile word-sized reads and writes, so the object may
// be used and dropped from any thread.
unsafe impl Send for PerCpuCounters {}
// SAFETY: see `Send`; shared access only performs the operations above.
unsafe impl Sync for PerCpuCounters {}

/// `this_cpu_add(*(p + OFFSET bytes), val)` on x86-64 SMP, as C has it:
/// one `add` to the `%gs`-relative per-CPU address, one instruction and so
/// safe against preemption and interrupts. The offset is part of the
/// instruction, so that a pair of counters costs two.
///
/// # Safety
///
/// `p + OFFSET` bytes is a valid per-CPU pointer to a `u64`, with no Rust
/// reference to that memory.
#[cfg(all(CONFIG_X86_64, CONFIG_SMP))]
#[inline(always)]
unsafe fn this_cpu_add_at<const OFFSET: usize>(p: *mut u64, val: u64) {
    // SAFETY: on x86-64 SMP a per-CPU pointer is an offset from this CPU's
    // area, whose base is `%gs` (`this_cpu_add`); the caller guarantees
    // the counter exists.
    unsafe {
        core::arch::asm!(
            "add qword ptr gs:[{p} + {off}], {val}",
            p = in(reg) p,
            off = const OFFSET,
            val = in(reg) val,
            options(nostack),
        );
    }
}

/// `this_cpu_add(*p, val)`: [`this_cpu_add_at`] on x86-64 SMP, the C
/// helper elsewhere.
///
/// # Safety
///
/// `p` is a valid per-CPU pointer to a `u64`, with no Rust reference to
/// that memory.
#[inline(always)]
unsafe fn this_cpu_add(p: *mut u64, val: u64) {
    #[cfg(all(CONFIG_X86_64, CONFIG_SMP))]
    // SAFETY: the caller's guarantee, at offset 0.
    unsafe {
        this_cpu_add_at::<0>(p, val)
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SMP)))]
    // SAFETY: the caller's guarantee is the helper's requirement.
    unsafe {
        bindings::this_cpu_add_u64(p, val)
    }
}

/// `this_cpu_add(p[0], a); this_cpu_add(p[1], b)`: two adds on x86-64
/// SMP, one call of the C helper elsewhere.
///
/// # Safety
///
/// `p` and `p + 1` are valid per-CPU pointers to `u64`s, with no Rust
/// reference to that memory.
#[inline(always)]
unsafe fn this_cpu_add_pair(p: *mut u64, a: u64, b: u64) {
    #[cfg(all(CONFIG_X86_64, CONFIG_SMP))]
    // SAFETY: the caller guarantees both counters, 8 bytes apart.
    unsafe {
        this_cpu_add_at::<0>(p, a);
        this_cpu_add_at::<8>(p, b);
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SMP)))]
    // SAFETY: the caller's guarantee is the helper's requirement.
    unsafe {
        bindings::this_cpu_add_pair_u64(p, a, b)
    }
}

impl PerCpuCounters {
    /// Allocates `len` zeroed counters (at least one) for every possible CPU.
    pub fn new(len: usize) -> Result<Self> {
        let len = len.max(1);
        let nblocks = len.div_ceil(BLOCK);
        let mut this = Self {
            blocks: KVec::with_capacity(nblocks, GFP_KERNEL)?,
            len,
        };
        for _ in 0..nblocks {
            // SAFETY: plain allocation; the per-CPU allocator zeroes it.
            let p = unsafe {
                bindings::__alloc_percpu_gfp(
                    BLOCK * core::mem::size_of::<u64>(),
                    core::mem::align_of::<u64>(),
                    bindings::GFP_KERNEL,
                )
            };
            // On failure `this` frees the blocks allocated so far.
            let p = NonNull::new(p.cast::<u64>()).ok_or(AllocError)?;
            this.blocks.push(p, GFP_KERNEL)?;
        }
        // INVARIANT: `nblocks` blocks of `BLOCK` counters cover `len`.
        Ok(this)
    }

    /// Number of counters per CPU.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: there is at least one counter.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The per-CPU pointer of counter `idx`, if it exists.
    #[inline]
    fn elem(&self, idx: usize) -> Option<*mut u64> {
        if idx >= self.len {
            return None;
        }
        let block = self.blocks.get(idx / BLOCK)?;
        // SAFETY: the block holds `BLOCK` counters and `idx % BLOCK < BLOCK`.
        Some(unsafe { block.as_ptr().add(idx % BLOCK) })
    }

    /// Adds `a` to counter `2 * pair` and `b` to counter `2 * pair + 1`
    /// of the current CPU (a packet and its bytes) in one call. A pair
    /// outside the allocated blocks is ignored. Blocks are whole, so a
    /// pair past `len` inside the last block adds to counters that exist
    /// but that no reader sums: the packet path checks only the block,
    /// which keeps the pair's memory valid.
    #[inline]
    pub fn add_pair(&self, pair: usize, a: u64, b: u64) {
        const PAIRS: usize = BLOCK / 2;
        let Some(block) = self.blocks.get(pair / PAIRS) else {
            return;
        };
        // SAFETY: the block holds `BLOCK` counters, and `2 * (pair %
        // PAIRS) + 1 < BLOCK`: both counters of the pair are in it, valid
        // per-CPU pointers to `u64`s. No Rust reference to the per-CPU
        // memory exists.
        unsafe { this_cpu_add_pair(block.as_ptr().add(2 * (pair % PAIRS)), a, b) }
    }

    /// Adds `val` to counter `idx` of the current CPU. Out-of-range indices
    /// are ignored.
    #[inline]
    pub fn add(&self, idx: usize, val: u64) {
        if let Some(p) = self.elem(idx) {
            // SAFETY: `p` is a valid per-CPU pointer to a `u64` (see
            // `elem`); no Rust reference to the per-CPU memory exists.
            unsafe { this_cpu_add(p, val) }
        }
    }

    /// Calls `f` with the pointer to counter `idx` of every possible CPU.
    fn for_each_cpu(&self, idx: usize, mut f: impl FnMut(*mut u64)) {
        let Some(p) = self.elem(idx) else {
            return;
        };
        let mut cpu: i32 = -1;
        loop {
            // SAFETY: `cpumask_next_possible` accepts -1 and any CPU number.
            let next = unsafe { bindings::cpumask_next_possible(cpu) };
            if next < 0 {
                break;
            }
            // SAFETY: `p` is a valid per-CPU pointer and `next` a possible
            // CPU, so the result points to that CPU's counter.
            f(unsafe { bindings::per_cpu_ptr(p.cast(), next as u32) }.cast());
            cpu = next;
        }
    }

    /// Returns the sum over all CPUs of counter `idx` (0 when out of range).
    pub fn sum(&self, idx: usize) -> u64 {
        let mut total = 0u64;
        self.for_each_cpu(idx, |p| {
            // SAFETY: `p` points to a live counter. The read is volatile
            // because other CPUs update it concurrently; aligned 64-bit
            // loads are not torn.
            total = total.wrapping_add(unsafe { p.read_volatile() });
        });
        total
    }

    /// Adds the sums over all CPUs of the first `out.len()` counters to
    /// `out` (counters past `len` are left alone).
    pub fn add_sums_to(&self, out: &mut [u64]) {
        for (i, o) in out.iter_mut().enumerate().take(self.len) {
            *o = o.wrapping_add(self.sum(i));
        }
    }

    /// Sets every counter of every CPU to zero.
    ///
    /// Not atomic with respect to concurrent adds: an add racing with the
    /// reset may be lost or kept.
    pub fn zero(&self) {
        for i in 0..self.len {
            self.for_each_cpu(i, |p| {
                // SAFETY: `p` points to a live counter.
                unsafe { p.write_volatile(0) };
            });
        }
    }
}

impl Drop for PerCpuCounters {
    fn drop(&mut self) {
        for p in self.blocks.iter() {
            // SAFETY: by the type invariant each block came from
            // `__alloc_percpu_gfp` and is owned by `self`; nobody can use it
            // after drop.
            unsafe { bindings::free_percpu(p.as_ptr().cast()) };
        }
    }
}
