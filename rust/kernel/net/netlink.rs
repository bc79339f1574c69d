// SPDX-License-Identifier: GPL-2.0

//! Netlink socket events.
//!
//! [`ReleaseNotifier`] tells when a userspace netlink socket of one
//! protocol that had a port id goes away (`NETLINK_URELEASE`), so that state
//! kept for it (a bound queue, an open transaction) can be released.
//!
//! C header: [`include/linux/netlink.h`](srctree/include/linux/netlink.h)

use super::namespace::Net;
use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{to_result, Result},
    prelude::*,
    types::Opaque,
};
use core::pin::Pin;

/// Netlink protocol numbers.
pub mod protocol {
    /// `NETLINK_NETFILTER`.
    pub const NETFILTER: i32 = crate::bindings::NETLINK_NETFILTER as i32;
    /// `NETLINK_GENERIC`.
    pub const GENERIC: i32 = crate::bindings::NETLINK_GENERIC as i32;
}

/// What is told of released sockets.
pub trait Released: Send + Sync + 'static {
    /// The socket with port `portid` in namespace `net` was released.
    /// Runs in process context and may sleep; the namespace is alive
    /// during the call.
    fn released(&self, net: &Net, portid: u32);
}

/// A `NETLINK_URELEASE` notifier for the sockets of one protocol.
///
/// # Invariants
///
/// `nb` is the first field and is registered with the netlink notifier
/// chain for as long as the object exists.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct ReleaseNotifier<T: Released> {
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    protocol: i32,
    handler: T,
}

// SAFETY: the notifier block is only touched by the notifier chain (under
// its lock) and by `new`/`drop`; `T` is `Send + Sync`.
unsafe impl<T: Released> Send for ReleaseNotifier<T> {}
// SAFETY: as above.
unsafe impl<T: Released> Sync for ReleaseNotifier<T> {}

impl<T: Released> ReleaseNotifier<T> {
    /// Calls `handler` for every released socket of `protocol` (one of
    /// [`protocol`]) until dropped.
    pub fn new(protocol: i32, handler: T) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin_init(
            pin_init!(Self {
                nb <- Opaque::ffi_init(|nb: *mut bindings::notifier_block| {
                    // SAFETY: `nb` is ours to initialise.
                    unsafe {
                        nb.write(bindings::notifier_block {
                            notifier_call: Some(Self::event),
                            next: core::ptr::null_mut(),
                            priority: 0,
                        })
                    };
                }),
                protocol,
                handler,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: pinned until `drop` unregisters it.
        // INVARIANT: registered here, unregistered in `drop`.
        to_result(unsafe { bindings::netlink_register_notifier(this.nb.get()) })?;
        Ok(this)
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    unsafe extern "C" fn event(
        nb: *mut bindings::notifier_block,
        event: usize,
        ptr: *mut core::ffi::c_void,
    ) -> core::ffi::c_int {
        if event != bindings::NETLINK_URELEASE as usize {
            return bindings::NOTIFY_DONE as core::ffi::c_int;
        }
        // SAFETY: `nb` is the first field of a live `Self` (type invariant).
        let this = unsafe { &*nb.cast::<Self>() };
        let (mut net, mut portid, mut protocol) = (core::ptr::null_mut(), 0u32, 0i32);
        // SAFETY: for NETLINK_URELEASE `ptr` is a `struct netlink_notify`.
        unsafe {
            bindings::netlink_notify_fields(ptr.cast(), &mut net, &mut portid, &mut protocol)
        };
        if protocol == this.protocol && !net.is_null() {
            // SAFETY: the socket being released holds its namespace.
            this.handler.released(unsafe { Net::from_raw(net) }, portid);
        }
        bindings::NOTIFY_DONE as core::ffi::c_int
    }
}

#[pinned_drop]
impl<T: Released> PinnedDrop for ReleaseNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered in `new`; on return no callback runs (the
        // chain's lock).
        unsafe { bindings::netlink_unregister_notifier(self.nb.get()) };
    }
}
