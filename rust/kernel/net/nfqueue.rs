// SPDX-License-Identifier: GPL-2.0

//! The netfilter queue handler: packets a hook verdict `NF_QUEUE` hands
//! over, held until someone decides their fate, then reinjected.
//!
//! The kernel has one queue handler (`nf_register_queue_handler`), not one
//! per namespace: every `NF_QUEUE` verdict of any hook (rustfilter's own,
//! iptables' `-j NFQUEUE`, nftables' `queue`), IPv4 or IPv6, reaches it.
//! A [`Handler`] takes an [`Entry`] (the packet and the hook state it was
//! queued with) or hands it back with an errno; `ESRCH` means "no such
//! queue" and lets a verdict with the bypass flag continue with the next
//! hook function.
//!
//! [`Entry::reinject`] continues a packet's way through the hooks exactly
//! as `nf_reinject` in `net/netfilter/nfnetlink_queue.c` does (which is
//! static there): `NF_ACCEPT` runs the hook functions after the one that
//! queued it, then the hook's continuation (`okfn`); `NF_REPEAT` calls the
//! queuing hook function again; `NF_STOP` skips the rest of the hook point;
//! `NF_QUEUE` queues it again from the same place.
//!
//! An [`EntryList`] holds entries in order, linked through the entry
//! itself: queuing a packet allocates nothing.
//!
//! C header: [`include/net/netfilter/nf_queue.h`](srctree/include/net/netfilter/nf_queue.h)

use super::{namespace::Net, nfnetlink, skbuff::SkBuff};
use crate::{
    alloc::{flags::GFP_KERNEL, Flags, KBox},
    bindings,
    error::{to_result, Error, Result},
    prelude::*,
    sync::rcu,
    types::Opaque,
};
use core::{
    pin::Pin,
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};

/// Userspace verdicts (`include/uapi/linux/netfilter.h`).
pub mod verdict {
    /// `NF_DROP`.
    pub const DROP: u32 = crate::bindings::NF_DROP;
    /// `NF_ACCEPT`.
    pub const ACCEPT: u32 = crate::bindings::NF_ACCEPT;
    /// `NF_STOLEN`.
    pub const STOLEN: u32 = crate::bindings::NF_STOLEN;
    /// `NF_QUEUE` (the queue number in the upper 16 bits).
    pub const QUEUE: u32 = crate::bindings::NF_QUEUE;
    /// `NF_REPEAT`.
    pub const REPEAT: u32 = crate::bindings::NF_REPEAT;
    /// `NF_STOP`.
    pub const STOP: u32 = crate::bindings::NF_STOP;
    /// `NF_VERDICT_MASK`.
    pub const MASK: u32 = 0xff;
}

/// The nfnetlink subsystem id of the queue (`NFNL_SUBSYS_QUEUE`).
pub const NFNL_SUBSYS_QUEUE: u8 = 3;

/// A queue handler.
pub trait Handler: Send + Sync + 'static {
    /// Takes `entry`, queued for queue `queue`. Runs in any context
    /// (softirq, or process context with BH enabled) inside an RCU
    /// read-side critical section: must not sleep. Keep the entry, or
    /// hand it back with an errno (the core then frees it and drops the
    /// packet, or with `ESRCH` and the bypass flag lets it pass).
    /// `net` is the entry's namespace ([`Entry::net`]), given apart so
    /// that it can be used while the entry moves.
    fn enqueue(
        &self,
        net: &Net,
        entry: Entry,
        queue: u16,
    ) -> core::result::Result<(), (Error, Entry)>;

    /// A hook function of `net` was unregistered: queued packets of `net`
    /// may now point at the wrong hook, so drop them. Atomic context.
    fn hook_drop(&self, net: &Net);
}

/// The installed handler, for the callbacks.
static HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// The registration of the kernel's queue handler.
///
/// # Invariants
///
/// While `registered`, `ops` is the kernel's queue handler and `HANDLER`
/// points to `handler`.
#[pin_data(PinnedDrop)]
pub struct HandlerRegistration<H: Handler> {
    #[pin]
    ops: Opaque<bindings::nf_queue_handler>,
    handler: H,
    registered: bool,
}

// SAFETY: the C structure is read-only once registered; `H` is
// `Send + Sync`.
unsafe impl<H: Handler> Send for HandlerRegistration<H> {}
// SAFETY: as above.
unsafe impl<H: Handler> Sync for HandlerRegistration<H> {}

impl<H: Handler> HandlerRegistration<H> {
    /// Becomes the kernel's queue handler. Holding the queue's nfnetlink
    /// subsystem id (`_claim`) proves that `nfnetlink_queue`, the only other
    /// handler, is not loaded and cannot load.
    pub fn new<S: nfnetlink::Subsystem>(
        handler: H,
        _claim: &nfnetlink::Registration<S>,
    ) -> Result<Pin<KBox<Self>>> {
        if S::ID != NFNL_SUBSYS_QUEUE {
            return Err(EINVAL);
        }
        let mut this = KBox::pin_init(
            pin_init!(Self {
                ops: Opaque::new(bindings::nf_queue_handler {
                    outfn: Some(Self::outfn),
                    nf_hook_drop: Some(Self::hook_drop),
                }),
                handler,
                registered: false,
            }),
            GFP_KERNEL,
        )?;
        let ptr: *const H = &this.handler;
        if HANDLER
            .compare_exchange(
                core::ptr::null_mut(),
                ptr.cast_mut().cast(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: `ops` is pinned until `drop` unregisters it; no other
        // handler is set (see `_claim`), so the core does not warn.
        unsafe { bindings::nf_register_queue_handler(this.ops.get()) };
        // SAFETY: only a flag is set.
        // INVARIANT: registered, `HANDLER` set above.
        unsafe { Pin::get_unchecked_mut(this.as_mut()) }.registered = true;
        Ok(this)
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    fn installed() -> Option<&'static H> {
        let p = HANDLER.load(Ordering::Acquire);
        // SAFETY: `HANDLER` points to the handler of the registration,
        // which clears it and waits for a grace period before going; the
        // callbacks run inside RCU read-side critical sections.
        (!p.is_null()).then(|| unsafe { &*p.cast::<H>() })
    }

    unsafe extern "C" fn outfn(
        entry: *mut bindings::nf_queue_entry,
        queuenum: core::ffi::c_uint,
    ) -> core::ffi::c_int {
        let Some(handler) = Self::installed() else {
            return ESRCH.to_errno();
        };
        // SAFETY: the core hands over a filled entry with its references
        // taken; on an error return it frees the entry and the skb itself.
        let Some(entry) = (unsafe { Entry::from_core(entry) }) else {
            return ESRCH.to_errno();
        };
        // SAFETY: the namespace is alive for the call: the entry holds a
        // reference on it until it is reinjected or dropped, and after that
        // the core's caller is still in its RCU read-side section, which
        // the namespace's cleanup waits for (`synchronize_rcu`).
        let net = unsafe { Net::from_raw(entry.raw().state.net) };
        match handler.enqueue(net, entry, queuenum as u16) {
            Ok(()) => 0,
            Err((e, entry)) => {
                entry.give_back();
                e.to_errno()
            }
        }
    }

    unsafe extern "C" fn hook_drop(net: *mut bindings::net) {
        if let Some(handler) = Self::installed() {
            // SAFETY: the core calls this for a live namespace.
            handler.hook_drop(unsafe { Net::from_raw(net) });
        }
    }
}

#[pinned_drop]
impl<H: Handler> PinnedDrop for HandlerRegistration<H> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: ours (type invariant).
            unsafe { bindings::nf_unregister_queue_handler() };
            HANDLER.store(core::ptr::null_mut(), Ordering::Release);
            // No `outfn` or `hook_drop` is running after this.
            rcu::synchronize();
        }
    }
}

/// A queued packet: the `nf_queue_entry` the core built (the packet, the
/// hook state it was queued in, device and socket references) and a
/// reference on its namespace.
///
/// Dropping an entry drops the packet.
///
/// # Invariants
///
/// `ptr` is an entry we own, with its skb, the references
/// `nf_queue_entry_get_refs` took, and one reference on `state.net`.
pub struct Entry {
    ptr: NonNull<bindings::nf_queue_entry>,
}

// SAFETY: an entry is owned by one context at a time; the references it
// holds may be put from any CPU.
unsafe impl Send for Entry {}
// SAFETY: `&Entry` only reads.
unsafe impl Sync for Entry {}

/// `struct rust_nfq_meta` of `rust/helpers/nfqueue.c`, field for field.
#[repr(C)]
#[derive(Default)]
struct Meta {
    tstamp_ns: i64,
    len: u32,
    headlen: u32,
    mark: u32,
    priority: u32,
    indev: i32,
    outdev: i32,
    hwaddr_len: u16,
    hwaddr: [u8; 8],
    gso: bool,
    csum_partial: bool,
    csum_unnecessary: bool,
    has_sk: bool,
    frags_readable: bool,
    ct_unconfirmed: bool,
}

/// What a queued packet's PACKET message tells besides its bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct PacketFacts {
    /// `skb->len`.
    pub len: u32,
    /// The linear part's length.
    pub headlen: u32,
    /// `skb->mark`.
    pub mark: u32,
    /// `skb->priority`.
    pub priority: u32,
    /// The input device's index (0: none).
    pub indev: i32,
    /// The output device's index (0: none).
    pub outdev: i32,
    /// The link-layer source address and its length (0: none).
    pub hwaddr: ([u8; 8], u16),
    /// The receive timestamp in nanoseconds (0: none; only at hooks up to
    /// FORWARD).
    pub tstamp_ns: i64,
    /// A GSO packet.
    pub gso: bool,
    /// `CHECKSUM_PARTIAL`.
    pub csum_partial: bool,
    /// `skb_csum_unnecessary`.
    pub csum_unnecessary: bool,
    /// The packet has a socket.
    pub has_socket: bool,
    /// The payload's fragments can be read (not device memory).
    pub frags_readable: bool,
    /// Marked with [`Entry::mark_ct_unconfirmed`].
    pub ct_unconfirmed: bool,
}

impl Entry {
    /// Takes over an entry from the core, with a reference on its
    /// namespace; `None` (the entry left to the core) if the namespace is
    /// going away.
    ///
    /// # Safety
    ///
    /// `ptr` is a filled entry whose ownership the caller passes on.
    unsafe fn from_core(ptr: *mut bindings::nf_queue_entry) -> Option<Self> {
        let ptr = NonNull::new(ptr)?;
        // SAFETY: the entry is valid; `state.net` is the live namespace of
        // the packet.
        if !unsafe { bindings::nfq_maybe_get_net((*ptr.as_ptr()).state.net) } {
            return None;
        }
        // INVARIANT: ours now, with a namespace reference.
        Some(Self { ptr })
    }

    /// Hands the entry back to the core (which frees it) after an error
    /// return of `outfn`.
    fn give_back(self) {
        let net = self.raw().state.net;
        core::mem::forget(self);
        // SAFETY: the reference `from_core` took.
        unsafe { bindings::nfq_put_net(net) };
    }

    fn raw(&self) -> &bindings::nf_queue_entry {
        // SAFETY: valid while we own it (type invariant).
        unsafe { self.ptr.as_ref() }
    }

    /// The protocol family (`NFPROTO_IPV4`, `NFPROTO_IPV6`...).
    pub fn pf(&self) -> u8 {
        self.raw().state.pf
    }

    /// The hook point (`NF_INET_*`).
    pub fn hook(&self) -> u8 {
        self.raw().state.hook
    }

    /// The namespace the packet was queued in.
    pub fn net(&self) -> &Net {
        // SAFETY: we hold a reference on it (type invariant).
        unsafe { Net::from_raw(self.raw().state.net) }
    }

    /// The packet.
    pub fn skb(&self) -> &SkBuff {
        // SAFETY: the entry owns the skb (type invariant).
        unsafe { SkBuff::from_raw(self.raw().skb) }
    }

    /// The packet, to change.
    pub fn skb_mut(&mut self) -> &mut SkBuff {
        // SAFETY: as above, exclusively (`&mut self`).
        unsafe { SkBuff::from_raw_mut(self.raw().skb) }
    }

    /// The id a handler gave the entry (0 until then).
    pub fn id(&self) -> u32 {
        self.raw().id
    }

    /// Whether the entry is one of several segments queued while their
    /// shared connection was not confirmed (`nf_ct_is_unconfirmed`, set by
    /// [`Entry::mark_ct_unconfirmed`]); read without the whole of
    /// [`Entry::facts`].
    pub fn ct_unconfirmed(&self) -> bool {
        self.raw().nf_ct_is_unconfirmed
    }

    /// Gives the entry an id.
    pub fn set_id(&mut self, id: u32) {
        // SAFETY: ours, exclusively.
        unsafe { (*self.ptr.as_ptr()).id = id };
    }

    /// Whether the packet holds device `ifindex` (its input, output or
    /// own device).
    pub fn uses_device(&self, ifindex: i32) -> bool {
        // SAFETY: the entry and its device references are valid.
        unsafe { bindings::nfq_uses_device(self.ptr.as_ptr(), ifindex) }
    }

    /// What the PACKET message tells about the packet.
    pub fn facts(&self) -> PacketFacts {
        let mut m = Meta::default();
        // SAFETY: the entry is valid; `m` is ours to fill and has the
        // layout of the helper's `struct rust_nfq_meta`.
        unsafe { bindings::nfq_packet_meta(self.ptr.as_ptr(), (&raw mut m).cast()) };
        PacketFacts {
            len: m.len,
            headlen: m.headlen,
            mark: m.mark,
            priority: m.priority,
            indev: m.indev,
            outdev: m.outdev,
            hwaddr: (m.hwaddr, m.hwaddr_len),
            tstamp_ns: m.tstamp_ns,
            gso: m.gso,
            csum_partial: m.csum_partial,
            csum_unnecessary: m.csum_unnecessary,
            has_socket: m.has_sk,
            frags_readable: m.frags_readable,
            ct_unconfirmed: m.ct_unconfirmed,
        }
    }

    /// Completes a `CHECKSUM_PARTIAL` packet's checksum, so that its bytes
    /// are final (`nf_queue_checksum_help`).
    pub fn checksum_help(&mut self) -> Result {
        // SAFETY: the skb is ours.
        to_result(unsafe { bindings::nfq_checksum_help(self.raw().skb) })
    }

    /// Replaces the packet's bytes with `data` (at most 65535 bytes, and
    /// not shorter than the headers before the transport header), as
    /// `nfqnl_mangle` does, then lets `fix` adjust the new bytes in place
    /// (lengths, checksums). The packet then claims no verified checksum
    /// (`CHECKSUM_NONE`). On failure the packet is unchanged or as long as
    /// `data` with unspecified bytes; the caller drops it.
    pub fn replace_packet(&mut self, data: &[u8], fix: impl FnOnce(&mut [u8])) -> Result {
        let len = u32::try_from(data.len()).map_err(|_| EINVAL)?;
        // SAFETY: the entry and skb are ours; `data` is valid for `len`
        // bytes. The helper may replace `entry->skb` (freeing the old one).
        to_result(unsafe { bindings::nfq_mangle(self.ptr.as_ptr(), data.as_ptr().cast(), len) })?;
        // SAFETY: after a successful mangle the first `len` bytes of the
        // packet are linear and writable at `skb->data`, and ours.
        let bytes = unsafe { core::slice::from_raw_parts_mut((*self.raw().skb).data, data.len()) };
        fix(bytes);
        Ok(())
    }

    /// Marks the entry as a segment that shares its packet's connection,
    /// unconfirmed when it was queued, with other segments: whoever decides
    /// its fate must drop it unless the connection got confirmed meanwhile
    /// (a connection being set up must not be changed from two CPUs).
    pub fn mark_ct_unconfirmed(&mut self) {
        // SAFETY: the entry is ours.
        unsafe { bindings::nfq_set_ct_unconfirmed(self.ptr.as_ptr()) };
    }

    /// Sets the packet's priority (`skb->priority`).
    pub fn set_priority(&mut self, priority: u32) {
        // SAFETY: the skb is ours.
        unsafe { bindings::nfq_skb_set_priority(self.raw().skb, priority) };
    }

    /// Splits a GSO packet into its segments, one entry each, in order
    /// (`skb_gso_segment`); the GSO packet is freed. A segment that cannot
    /// get an entry of its own is dropped. Fails with `ENOBUFS`, the entry
    /// handed back untouched, if the packet cannot be segmented.
    pub fn segment(self) -> core::result::Result<EntryList, (Error, Entry)> {
        let list = match EntryList::new(crate::alloc::flags::GFP_ATOMIC) {
            Ok(list) => list,
            Err(e) => return Err((e, self)),
        };
        // SAFETY: the entry and the list head are ours; on success the
        // helper put the entry (now with the last segment) on the list,
        // with copies holding their own references for the others.
        let n = unsafe { bindings::nfq_segment(self.ptr.as_ptr(), list.head.get()) };
        if n < 0 {
            return Err((Error::from_errno(n), self));
        }
        // INVARIANT: the list owns the entry now.
        core::mem::forget(self);
        Ok(list)
    }

    /// Continues the packet's way with userspace verdict `verdict` (the
    /// raw `NF_*` value, queue number and flags in the upper bits), as
    /// `nfqnl_reinject` and `nf_reinject` do.
    pub fn reinject(self, verdict: u32) {
        let entry = self.ptr.as_ptr();
        core::mem::forget(self);
        let _rcu = rcu::read_lock();
        // SAFETY: `entry` is ours (taken out of `self`), with its skb and
        // references; the hook array read below stays valid during the RCU
        // read-side section, and hook functions get the entry's own state.
        unsafe {
            let net = (*entry).state.net;
            // The connection tracker's word first: ACCEPT follows userspace
            // (which may say REPEAT), STOLEN took the packet.
            let verdict = if verdict == verdict::ACCEPT
                || verdict == verdict::REPEAT
                || verdict == verdict::STOP
            {
                match bindings::nfq_ct_update(entry) & verdict::MASK {
                    verdict::ACCEPT => Some(verdict),
                    verdict::STOLEN => None,
                    v => Some(v),
                }
            } else {
                Some(verdict)
            };
            if let Some(verdict) = verdict {
                reinject_raw(entry, verdict);
            }
            bindings::nf_queue_entry_free(entry);
            bindings::nfq_put_net(net);
        }
    }
}

/// `nf_reinject` up to the entry's release: the packet is passed on,
/// queued again or freed.
///
/// # Safety
///
/// `entry` is an entry we own (its skb included), inside an RCU read-side
/// critical section. On return the skb is no longer ours; the entry still
/// is.
unsafe fn reinject_raw(entry: *mut bindings::nf_queue_entry, mut verdict: u32) {
    // SAFETY: per the function's contract.
    unsafe {
        let skb = (*entry).skb;
        let state = &raw mut (*entry).state;
        let hooks = bindings::nfq_hook_entries((*state).net, (*state).pf, (*state).hook);
        let count = if hooks.is_null() {
            0
        } else {
            u32::from(bindings::nfq_hook_count(hooks))
        };
        let mut i = (*entry).hook_index;
        if i >= count {
            bindings::nfq_drop_skb(skb);
            return;
        }
        if verdict == verdict::REPEAT {
            verdict = bindings::nfq_hook_run(hooks, i as u16, skb, state);
        }
        if verdict == verdict::ACCEPT && bindings::nfq_reroute(entry) < 0 {
            verdict = verdict::DROP;
        }
        loop {
            if verdict == verdict::ACCEPT {
                // nf_iterate from the next hook function on; a function
                // answering NF_REPEAT is called again.
                i += 1;
                verdict = verdict::ACCEPT;
                while i < count {
                    verdict = bindings::nfq_hook_run(hooks, i as u16, skb, state);
                    if verdict == verdict::REPEAT {
                        continue;
                    }
                    if verdict != verdict::ACCEPT {
                        break;
                    }
                    i += 1;
                }
            }
            match verdict & verdict::MASK {
                verdict::ACCEPT | verdict::STOP => bindings::nfq_okfn(entry),
                verdict::QUEUE => {
                    // Queued again from the same hook function; 1: nobody
                    // listens and the bypass flag says to go on.
                    if bindings::nf_queue(skb, state, i, verdict) == 1 {
                        verdict = verdict::ACCEPT;
                        continue;
                    }
                }
                verdict::STOLEN => {}
                _ => bindings::nfq_drop_skb(skb),
            }
            return;
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let entry = self.ptr.as_ptr();
        // SAFETY: ours (type invariant): the packet is dropped, then the
        // entry with its references, then our namespace reference.
        unsafe {
            let net = (*entry).state.net;
            bindings::nfq_drop_skb((*entry).skb);
            bindings::nf_queue_entry_free(entry);
            bindings::nfq_put_net(net);
        }
    }
}

/// Entries in order, linked through the entries themselves
/// (`nf_queue_entry.list`): adding one allocates nothing.
///
/// # Invariants
///
/// `head` is an initialised list head whose members are entries this list
/// owns (with the ownership an [`Entry`] has).
pub struct EntryList {
    head: KBox<Opaque<bindings::list_head>>,
}

// SAFETY: the list owns its entries, which are `Send`.
unsafe impl Send for EntryList {}
// SAFETY: `&EntryList` only reads.
unsafe impl Sync for EntryList {}

impl EntryList {
    /// An empty list (the head is allocated with `flags`).
    pub fn new(flags: Flags) -> Result<Self> {
        let head = KBox::new(Opaque::uninit(), flags)?;
        // SAFETY: the head is ours and does not move (boxed).
        unsafe { bindings::nfq_list_init(head.get()) };
        // INVARIANT: initialised, empty.
        Ok(Self { head })
    }

    fn next(&self, prev: *mut bindings::nf_queue_entry) -> *mut bindings::nf_queue_entry {
        // SAFETY: the head is initialised and `prev` null or a member.
        unsafe { bindings::nfq_list_next(self.head.get(), prev) }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.next(core::ptr::null_mut()).is_null()
    }

    /// Appends `entry`.
    pub fn push_back(&mut self, entry: Entry) {
        let p = entry.ptr.as_ptr();
        core::mem::forget(entry);
        // SAFETY: `p` is an entry we own, not on any list (an `Entry` is
        // never linked); the list takes over its ownership.
        unsafe { bindings::nfq_list_add_tail(p, self.head.get()) };
    }

    fn unlink(&mut self, p: *mut bindings::nf_queue_entry) -> Entry {
        // SAFETY: `p` is a member: unlinked, it is an entry we own.
        unsafe { bindings::nfq_list_del(p) };
        // INVARIANT: ownership moves from the list to the `Entry`.
        Entry {
            // SAFETY: members are non-null.
            ptr: unsafe { NonNull::new_unchecked(p) },
        }
    }

    /// The id of the first entry.
    pub fn front_id(&self) -> Option<u32> {
        let p = self.next(core::ptr::null_mut());
        // SAFETY: a member is a valid entry.
        (!p.is_null()).then(|| unsafe { (*p).id })
    }

    /// Removes and returns the first entry.
    pub fn pop_front(&mut self) -> Option<Entry> {
        let p = self.next(core::ptr::null_mut());
        (!p.is_null()).then(|| self.unlink(p))
    }

    /// Removes and returns the first entry for which `pred` holds.
    pub fn take_first(&mut self, mut pred: impl FnMut(&Entry) -> bool) -> Option<Entry> {
        let mut p = self.next(core::ptr::null_mut());
        while !p.is_null() {
            // A borrowed view of a member: never dropped.
            let view = core::mem::ManuallyDrop::new(Entry {
                // SAFETY: members are non-null.
                ptr: unsafe { NonNull::new_unchecked(p) },
            });
            if pred(&view) {
                return Some(self.unlink(p));
            }
            p = self.next(p);
        }
        None
    }

    /// Removes and returns the entry with id `id`.
    pub fn take(&mut self, id: u32) -> Option<Entry> {
        self.take_first(|e| e.id() == id)
    }
}

impl Drop for EntryList {
    fn drop(&mut self) {
        while let Some(entry) = self.pop_front() {
            drop(entry);
        }
    }
}
