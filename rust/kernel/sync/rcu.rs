// SPDX-License-Identifier: GPL-2.0

//! RCU read-side critical sections.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::bindings;
use core::marker::PhantomData;

/// Evidence that the current thread is inside an RCU read-side critical
/// section.
///
/// Data published with RCU (`rcu_assign_pointer`) and read under this guard
/// is not freed before the guard is dropped. The guard must be dropped on the
/// thread that created it, so it is neither `Send` nor `Sync`.
///
/// # Invariants
///
/// `rcu_read_lock()` was called when the guard was created and
/// `rcu_read_unlock()` has not yet been called for it.
#[must_use = "the RCU read-side critical section ends when the guard is dropped"]
pub struct Guard {
    _not_send: PhantomData<*mut ()>,
}

impl Guard {
    /// Enters an RCU read-side critical section.
    pub fn new() -> Self {
        // SAFETY: `rcu_read_lock` may be called from any context; it is
        // paired with the `rcu_read_unlock` in `Drop`.
        unsafe { bindings::rcu_read_lock() };
        // INVARIANT: the lock was just taken.
        Self {
            _not_send: PhantomData,
        }
    }

    /// Leaves the critical section; the same as dropping the guard.
    pub fn unlock(self) {}
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the lock is held by this thread and
        // has not been released yet.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Enters an RCU read-side critical section, returning its guard.
pub fn read_lock() -> Guard {
    Guard::new()
}
