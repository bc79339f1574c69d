// SPDX-License-Identifier: GPL-2.0

//! Periodic work on the system workqueue (`struct delayed_work`).
//!
//! A [`DelayedWork`] runs [`Periodic::run`] on its shared data some time
//! after [`DelayedWork::start`], and again after whatever delay each run
//! asks for, until the work is dropped: dropping stops it and waits for a
//! run in progress.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use crate::{alloc::KBox, bindings, prelude::*, sync::Arc, types::Opaque};
use core::sync::atomic::{AtomicBool, Ordering};

/// What a [`DelayedWork`] runs.
pub trait Periodic: Send + Sync + 'static {
    /// Does one round of work; returns how many milliseconds until the
    /// next, or `None` to stop. Runs in process context (may sleep).
    fn run(&self) -> Option<u32>;
}

/// Work that runs [`Periodic::run`] on `data`, repeatedly.
///
/// # Invariants
///
/// `work` is initialised with `Self::callback` as its function; `work` is
/// the first field, so a pointer to its `work_struct` is a pointer to
/// `Self`.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct DelayedWork<T: Periodic> {
    #[pin]
    work: Opaque<bindings::delayed_work>,
    data: Arc<T>,
    stopping: AtomicBool,
}

// SAFETY: the work item is only touched through the workqueue API, which
// is thread-safe; `data` is `Send + Sync`.
unsafe impl<T: Periodic> Send for DelayedWork<T> {}
// SAFETY: as above.
unsafe impl<T: Periodic> Sync for DelayedWork<T> {}

impl<T: Periodic> DelayedWork<T> {
    /// Work on `data`, not yet started.
    pub fn new(data: Arc<T>) -> Result<Pin<KBox<Self>>> {
        KBox::pin_init(
            pin_init!(Self {
                work <- Opaque::ffi_init(|w: *mut bindings::delayed_work| {
                    // SAFETY: `w` is ours to initialise, and pinned.
                    unsafe { bindings::init_delayed_work(w, Some(Self::callback)) };
                }),
                data,
                stopping: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )
    }

    /// The data the work runs on.
    pub fn data(&self) -> &Arc<T> {
        &self.data
    }

    /// Runs the work `ms` milliseconds from now (if it is not already
    /// waiting to run).
    pub fn start(&self, ms: u32) {
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `work` is initialised and pinned for our lifetime;
        // `drop` cancels it before it goes.
        unsafe { bindings::schedule_delayed_work_ms(self.work.get(), ms) };
    }

    unsafe extern "C" fn callback(work: *mut bindings::work_struct) {
        // SAFETY: by the type invariant `work` is the first field of a live
        // `Self` (drop waits for the callback to finish).
        let this = unsafe { &*work.cast::<Self>() };
        if let Some(ms) = this.data.run() {
            this.start(ms);
        }
    }
}

#[pinned_drop]
impl<T: Periodic> PinnedDrop for DelayedWork<T> {
    fn drop(self: Pin<&mut Self>) {
        self.stopping.store(true, Ordering::Release);
        // SAFETY: `work` is initialised; this waits for a running callback
        // and keeps it from being queued again.
        unsafe { bindings::cancel_delayed_work_sync(self.work.get()) };
    }
}
