// SPDX-License-Identifier: GPL-2.0

//! Bottom-half (softirq) disabling.
//!
//! C header: [`include/linux/bottom_half.h`](srctree/include/linux/bottom_half.h)

use crate::bindings;
use core::marker::PhantomData;

/// Softirqs are disabled on this CPU while the guard lives, so a lock taken
/// both from process context and from softirq context (a netfilter hook on
/// the output and the input path) can be taken under it without deadlock.
///
/// # Invariants
///
/// `local_bh_disable()` was called when the guard was made and is undone on
/// drop, on the same CPU (the guard is not `Send`).
pub struct Guard {
    _not_send: PhantomData<*mut ()>,
}

impl Guard {
    /// Disables softirqs.
    #[inline]
    pub fn new() -> Self {
        // SAFETY: may be called from any context except hard interrupts
        // with interrupts disabled, where netfilter hooks never run.
        unsafe { bindings::local_bh_disable() };
        Self {
            _not_send: PhantomData,
        }
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: paired with the `local_bh_disable` of `new` (invariant).
        unsafe { bindings::local_bh_enable() };
    }
}
