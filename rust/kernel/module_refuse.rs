// SPDX-License-Identifier: GPL-2.0

//! Keeping another module from loading.
//!
//! Some kernel modules cannot live next to one of ours: both would own the
//! same hook pointer or the same netlink subsystem. [`RefuseLoad`] refuses a
//! module by name while it exists, with a message in the kernel log saying
//! why, so that `modprobe` fails early and clearly instead of failing inside
//! the other module's init.
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{code::EBUSY, to_result, Result},
    prelude::*,
    str::CStr,
    types::Opaque,
};
use core::pin::Pin;

/// A module notifier that refuses to let module `name` load
/// (`MODULE_STATE_COMING` answered with `EBUSY`) and logs `msg`.
///
/// # Invariants
///
/// `nb` is registered with the module notifier chain for as long as the
/// object exists, and is the first field (the callback finds the object
/// from it).
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct RefuseLoad {
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    name: &'static [u8],
    msg: &'static CStr,
}

// SAFETY: the notifier block is only touched by the module loader, under
// its own lock, and by `new`/`drop`; the rest is immutable.
unsafe impl Send for RefuseLoad {}
// SAFETY: as above.
unsafe impl Sync for RefuseLoad {}

impl RefuseLoad {
    /// Refuses module `name` (as in `struct module.name`, without the
    /// NUL) from now until the returned object is dropped; `msg` is logged
    /// at each refusal.
    pub fn new(name: &'static [u8], msg: &'static CStr) -> Result<Pin<KBox<Self>>> {
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
                name,
                msg,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: the block is pinned and stays registered until `drop`.
        // INVARIANT: registered here, unregistered in `drop`.
        to_result(unsafe { bindings::register_module_notifier(this.nb.get()) })?;
        Ok(this)
    }

    unsafe extern "C" fn event(
        nb: *mut bindings::notifier_block,
        action: usize,
        data: *mut core::ffi::c_void,
    ) -> core::ffi::c_int {
        if action != bindings::module_state_MODULE_STATE_COMING as usize {
            return bindings::NOTIFY_DONE as core::ffi::c_int;
        }
        // SAFETY: `nb` is the first field of a live `RefuseLoad` (type
        // invariant: it is unregistered before the object goes).
        let this = unsafe { &*nb.cast::<Self>() };
        // SAFETY: for module events `data` is the `struct module`
        // concerned, valid during the call.
        let name: &[u8] = unsafe { &(*data.cast::<bindings::module>()).name };
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        if name.get(..end) != Some(this.name) {
            return bindings::NOTIFY_DONE as core::ffi::c_int;
        }
        crate::pr_err!("{}\n", this.msg);
        // SAFETY: only builds a value.
        unsafe { bindings::notifier_from_errno(EBUSY.to_errno()) }
    }
}

#[pinned_drop]
impl PinnedDrop for RefuseLoad {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered in `new` (type invariant); on return the
        // callback is not running and will not run again.
        unsafe { bindings::unregister_module_notifier(self.nb.get()) };
    }
}
