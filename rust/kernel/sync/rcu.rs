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
/// `rcu_read_unlock()` has not yet been called for it; or the guard is
/// the one a `net::netfilter::HookState` holds, never created nor dropped,
/// which stands for the section its hook function is called in.
#[must_use = "the RCU read-side critical section ends when the guard is dropped"]
pub struct Guard {
    _not_send: PhantomData<*mut ()>,
}

impl Guard {
    /// Enters an RCU read-side critical section.
    #[inline]
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
    #[inline]
    fn drop(&mut self) {
        // SAFETY: by the type invariant the lock is held by this thread and
        // has not been released yet.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Enters an RCU read-side critical section, returning its guard.
#[inline]
pub fn read_lock() -> Guard {
    Guard::new()
}

/// Waits until every RCU read-side critical section that started before the
/// call has ended. Sleeps: process context only.
pub fn synchronize() {
    // SAFETY: `synchronize_rcu` may be called from any sleepable context;
    // `might_sleep` inside it catches misuse under lockdep.
    unsafe { bindings::synchronize_rcu() };
}

/// An owned `T` published through an RCU-protected pointer.
///
/// Readers inside an RCU read-side critical section ([`Guard`]) get `&T`
/// without any lock or atomic read-modify-write; a writer publishes a new
/// object with [`RcuBox::replace`], which waits for a grace period before
/// handing back the old one, so no reader can still see it. Writers must be
/// serialised by the caller (a mutex) when they care about ordering; the
/// pointer itself is always consistent.
///
/// # Invariants
///
/// `ptr` always points to a live `T` allocated by `KBox` and owned by this
/// object.
pub struct RcuBox<T: Send + Sync> {
    ptr: core::sync::atomic::AtomicPtr<T>,
}

impl<T: Send + Sync> RcuBox<T> {
    /// Publishes `value`.
    pub fn new(value: crate::alloc::KBox<T>) -> Self {
        // INVARIANT: the pointer comes from a `KBox` we now own.
        Self {
            ptr: core::sync::atomic::AtomicPtr::new(crate::alloc::KBox::into_raw(value)),
        }
    }

    /// The current object, valid for as long as the read-side critical
    /// section `_guard` lasts.
    #[inline]
    pub fn read<'a>(&'a self, _guard: &'a Guard) -> &'a T {
        // Acquire pairs with the Release of `replace`: the object's contents
        // are visible (`rcu_dereference`).
        let p = self.ptr.load(core::sync::atomic::Ordering::Acquire);
        // SAFETY: `p` is live (type invariant); `replace` frees an old object
        // only after a grace period, which cannot end while `_guard` exists.
        unsafe { &*p }
    }

    /// The current object, for a caller that can exclude writers by holding
    /// `&mut self`.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes readers and writers; `ptr` is live.
        unsafe { &mut *self.ptr.load(core::sync::atomic::Ordering::Relaxed) }
    }

    /// Publishes `new`, waits for a grace period and returns the old object,
    /// which no reader can reach any more. Sleeps.
    pub fn replace(&self, new: crate::alloc::KBox<T>) -> crate::alloc::KBox<T> {
        let new = crate::alloc::KBox::into_raw(new);
        // Release: the new object's contents are visible before the pointer
        // (`rcu_assign_pointer`).
        let old = self.ptr.swap(new, core::sync::atomic::Ordering::AcqRel);
        synchronize();
        // SAFETY: `old` came from `KBox::into_raw` (type invariant), was
        // unpublished by the swap above and every reader that could have
        // seen it has finished (grace period).
        unsafe { crate::alloc::KBox::from_raw(old) }
    }
}

impl<T: Send + Sync> Drop for RcuBox<T> {
    fn drop(&mut self) {
        // SAFETY: dropping needs `&mut self`, so no reference obtained through
        // `read` is alive; the object is ours.
        drop(unsafe { crate::alloc::KBox::from_raw(*self.ptr.get_mut()) });
    }
}
