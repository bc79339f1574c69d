// SPDX-License-Identifier: GPL-2.0

//! nfnetlink subsystems: netfilter's netlink protocol (`NETLINK_NETFILTER`).
//!
//! A [`Subsystem`] answers the message types of one nfnetlink subsystem id
//! (`NFNL_SUBSYS_*`); a [`Registration`] claims the id and gives it up on
//! drop. Only one subsystem may hold an id, so claiming one also keeps the C
//! module that would serve it from working.
//!
//! nfnetlink itself checks `CAP_NET_ADMIN` in the user namespace owning the
//! socket's network namespace for every message, parses the attributes
//! with the callback's policy, and acks (or reports the error of) each
//! request, so a handler only sees requests from privileged senders with
//! well-formed attributes.
//!
//! [`Message`] builds a message for userspace and unicasts it.
//!
//! C header: [`include/linux/netfilter/nfnetlink.h`](srctree/include/linux/netfilter/nfnetlink.h)

use super::{genetlink::AttrPolicy, namespace::Net, skbuff::SkBuff};
use crate::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    error::{from_result, to_result, Result},
    prelude::*,
    str::CStr,
    types::Opaque,
};
use core::{
    pin::Pin,
    sync::atomic::{AtomicPtr, Ordering},
};

/// The length of an attribute header (`NLA_HDRLEN`).
const NLA_HDRLEN: usize = 4;

/// The highest attribute count nfnetlink accepts for a callback
/// (`NFNL_MAX_ATTR_COUNT`).
const MAX_ATTR_COUNT: usize = 32;

/// How a message type is handled (`enum nfnl_callback_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Called inside an RCU read-side critical section: must not sleep
    /// (`NFNL_CB_RCU`).
    Rcu,
    /// Called with the subsystem's mutex held, in process context: may
    /// sleep (`NFNL_CB_MUTEX`).
    Mutex,
}

/// One message type of a subsystem.
#[derive(Clone, Copy, Debug)]
pub struct Callback {
    /// How it is called.
    pub kind: Kind,
    /// The attribute policy, indexed by attribute type (entry 0 unused);
    /// at most 32 entries. Parsing is liberal, as nfnetlink's
    /// (`nla_parse_deprecated`): attribute types beyond the policy are
    /// ignored.
    pub policy: &'static [AttrPolicy],
}

/// An nfnetlink subsystem.
pub trait Subsystem: Send + Sync + 'static {
    /// The name (for messages).
    const NAME: &'static CStr;
    /// The subsystem id (`NFNL_SUBSYS_*`), below `NFNL_SUBSYS_COUNT`.
    const ID: u8;
    /// The message types, indexed by `NFNL_MSG_TYPE(nlmsg_type)`; a
    /// `None` entry is refused with `EINVAL`, as a missing callback is.
    const CALLBACKS: &'static [Option<Callback>];

    /// Handles a request of type `msg`. An error is reported to the
    /// sender in an `NLMSG_ERROR` (nfnetlink acks every failed request);
    /// never return `EAGAIN`, which makes nfnetlink replay the request.
    fn call(&self, msg: u8, req: &Request<'_>) -> Result;
}

/// A request being handled.
///
/// # Invariants
///
/// `skb`, `info` and `cda` are those of a request in progress, valid for
/// `'a`; `cda` has `count + 1` entries.
pub struct Request<'a> {
    skb: *mut bindings::sk_buff,
    info: &'a bindings::nfnl_info,
    cda: *const *const bindings::nlattr,
    count: usize,
}

impl<'a> Request<'a> {
    /// The network namespace of the sending socket.
    pub fn net(&self) -> &'a Net {
        // SAFETY: the sending socket holds a reference on its namespace for
        // the duration of the request.
        unsafe { Net::from_raw(self.info.net) }
    }

    /// The sender's netlink port id (`NETLINK_CB(skb).portid`).
    pub fn portid(&self) -> u32 {
        // SAFETY: `skb` is the request's packet (type invariant).
        unsafe { bindings::netlink_skb_portid(self.skb) }
    }

    /// The `nlmsg_flags` of the request.
    pub fn flags(&self) -> u16 {
        // SAFETY: `nlh` is valid for the request (type invariant).
        unsafe { (*self.info.nlh).nlmsg_flags }
    }

    /// `nfgenmsg.nfgen_family`.
    pub fn family(&self) -> u8 {
        // SAFETY: nfnetlink checked that the message holds an `nfgenmsg`.
        unsafe { (*self.info.nfmsg).nfgen_family }
    }

    /// `nfgenmsg.res_id`, in host order.
    pub fn res_id(&self) -> u16 {
        // SAFETY: as in `family`.
        u16::from_be(unsafe { (*self.info.nfmsg).res_id })
    }

    /// The payload of attribute `ty`, if the request has it (the last one
    /// of that type, as nfnetlink keeps it).
    pub fn attr(&self, ty: u16) -> Option<&'a [u8]> {
        let ty = usize::from(ty);
        if ty == 0 || ty > self.count {
            return None;
        }
        // SAFETY: `cda` has `count + 1` entries (type invariant).
        let nla = unsafe { *self.cda.add(ty) };
        if nla.is_null() {
            return None;
        }
        // SAFETY: nfnetlink parsed `nla` out of the request: its header
        // and `nla_len` bytes are inside the request's buffer.
        unsafe {
            let len = usize::from((*nla).nla_len).saturating_sub(NLA_HDRLEN);
            let data = nla.cast::<u8>().add(NLA_HDRLEN);
            Some(core::slice::from_raw_parts(data, len))
        }
    }

    /// The attribute run of the request: every attribute after the
    /// `nfgenmsg`, as sent.
    pub fn attrs(&self) -> &'a [u8] {
        let hdr = core::mem::size_of::<bindings::nlmsghdr>();
        let off = nlmsg_align(hdr) + nlmsg_align(core::mem::size_of::<bindings::nfgenmsg>());
        // SAFETY: nfnetlink checked that `nlmsg_len` covers the headers and
        // the message lies in the request's buffer.
        unsafe {
            let len = (*self.info.nlh).nlmsg_len as usize;
            if len <= off {
                return &[];
            }
            core::slice::from_raw_parts(self.info.nlh.cast::<u8>().add(off), len - off)
        }
    }

    /// The request's packet (the netlink message skb).
    pub fn skb(&self) -> &'a SkBuff {
        // SAFETY: valid for the request (type invariant).
        unsafe { SkBuff::from_raw(self.skb) }
    }

    /// Sets the extended-ack message reported with an error.
    pub fn set_err_msg(&self, msg: &'static CStr) {
        if !self.info.extack.is_null() {
            // SAFETY: `extack` is the request's, valid during the call; a
            // static string outlives it.
            unsafe { (*self.info.extack)._msg = msg.as_char_ptr() };
        }
    }
}

const fn nlmsg_align(len: usize) -> usize {
    (len + 3) & !3
}

/// Fails with `EBUSY` if a subsystem holds id `id`: a placeholder without
/// message types is registered there and at once unregistered. For a
/// caller that must know before it creates state that would clash with
/// the holder's (a `/proc` file of the same name, say); keeping the holder
/// from registering meanwhile is the caller's business.
pub fn check_free(id: u8) -> Result {
    if usize::from(id) >= SLOTS.len() {
        return Err(EINVAL);
    }
    // SAFETY: all-zero is a valid subsystem without callbacks.
    let ss = KBox::new(
        Opaque::new(unsafe { core::mem::zeroed::<bindings::nfnetlink_subsystem>() }),
        GFP_KERNEL,
    )?;
    // SAFETY: the placeholder is ours; it has no callbacks (`cb_count` 0:
    // nfnetlink refuses every message to it) and a static name.
    unsafe {
        (*ss.get()).name = crate::c_str!("placeholder").as_char_ptr();
        (*ss.get()).subsys_id = id;
    }
    // SAFETY: `ss` stays alive until unregistered below (which waits for
    // readers).
    to_result(unsafe { bindings::nfnetlink_subsys_register(ss.get()) })?;
    // SAFETY: registered just above.
    unsafe { bindings::nfnetlink_subsys_unregister(ss.get()) };
    Ok(())
}

/// The registered subsystem of each id, for the callbacks, which are given
/// no private pointer.
static SLOTS: [AtomicPtr<()>; bindings::NFNL_SUBSYS_COUNT as usize] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; bindings::NFNL_SUBSYS_COUNT as usize];

/// The registration of subsystem `S`.
///
/// # Invariants
///
/// While `registered`, `subsys` is registered with nfnetlink, `callbacks`
/// and `policies` (which it points into) do not move or change, and
/// `SLOTS[S::ID]` points to `handler`.
#[pin_data(PinnedDrop)]
pub struct Registration<S: Subsystem> {
    #[pin]
    subsys: Opaque<bindings::nfnetlink_subsystem>,
    callbacks: KVec<bindings::nfnl_callback>,
    policies: KVec<KVec<bindings::nla_policy>>,
    handler: S,
    registered: bool,
}

// SAFETY: the C structures are read-only once registered; `S` is
// `Send + Sync`.
unsafe impl<S: Subsystem> Send for Registration<S> {}
// SAFETY: as above.
unsafe impl<S: Subsystem> Sync for Registration<S> {}

impl<S: Subsystem> Registration<S> {
    /// Claims subsystem id `S::ID` for `handler`. Fails with `EBUSY` when
    /// another subsystem holds it.
    pub fn new(handler: S, module: &'static crate::ThisModule) -> Result<Pin<KBox<Self>>> {
        let id = usize::from(S::ID);
        if id >= SLOTS.len() || S::CALLBACKS.len() > usize::from(u8::MAX) {
            return Err(EINVAL);
        }
        let mut policies = KVec::with_capacity(S::CALLBACKS.len(), GFP_KERNEL)?;
        let mut callbacks = KVec::with_capacity(S::CALLBACKS.len(), GFP_KERNEL)?;
        for cb in S::CALLBACKS {
            let policy = cb.map_or(&[][..], |cb| cb.policy);
            if policy.len() > MAX_ATTR_COUNT + 1 {
                return Err(EINVAL);
            }
            let mut raw = KVec::with_capacity(policy.len().max(1), GFP_KERNEL)?;
            for p in policy {
                raw.push(p.to_raw(), GFP_KERNEL)?;
            }
            if raw.is_empty() {
                raw.push(AttrPolicy::Reject.to_raw(), GFP_KERNEL)?;
            }
            policies.push(raw, GFP_KERNEL)?;
        }
        for (cb, policy) in S::CALLBACKS.iter().zip(policies.iter()) {
            // SAFETY: an all-zero `nfnl_callback` is valid (no call).
            let mut raw: bindings::nfnl_callback = unsafe { core::mem::zeroed() };
            if let Some(cb) = cb {
                raw.call = Some(Self::call_cb);
                raw.type_ = match cb.kind {
                    Kind::Rcu => bindings::nfnl_callback_type_NFNL_CB_RCU,
                    Kind::Mutex => bindings::nfnl_callback_type_NFNL_CB_MUTEX,
                };
                // The policy's first entry is for type 0, which is not an
                // attribute: the count is the highest type.
                raw.attr_count = (cb.policy.len().saturating_sub(1)) as u16;
                // The heap buffer does not move when `policies` does.
                raw.policy = policy.as_ptr();
            }
            callbacks.push(raw, GFP_KERNEL)?;
        }
        let mut this = KBox::pin_init(
            pin_init!(Self {
                // SAFETY: all-zero is a valid unregistered subsystem.
                subsys: Opaque::new(unsafe { core::mem::zeroed() }),
                callbacks,
                policies,
                handler,
                registered: false,
            }),
            GFP_KERNEL,
        )?;
        let handler: *const S = &this.handler;
        if SLOTS[id]
            .compare_exchange(
                core::ptr::null_mut(),
                handler.cast_mut().cast(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(EBUSY);
        }
        let ss = this.subsys.get();
        // SAFETY: `ss` is ours and not registered yet; the name is static,
        // the callbacks live in `this` (pinned, kept until `drop`).
        unsafe {
            (*ss).name = S::NAME.as_char_ptr();
            (*ss).subsys_id = S::ID;
            (*ss).cb_count = this.callbacks.len() as u8;
            (*ss).cb = this.callbacks.as_ptr();
            (*ss).owner = module.as_ptr();
        }
        // SAFETY: fully initialised and pinned until `drop` unregisters it.
        if let Err(e) = to_result(unsafe { bindings::nfnetlink_subsys_register(ss) }) {
            SLOTS[id].store(core::ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        // SAFETY: only a flag is set; nothing moves.
        // INVARIANT: registered, and the slot points to the handler.
        unsafe { Pin::get_unchecked_mut(this.as_mut()) }.registered = true;
        Ok(this)
    }

    /// The handler.
    pub fn handler(&self) -> &S {
        &self.handler
    }

    unsafe extern "C" fn call_cb(
        skb: *mut bindings::sk_buff,
        info: *const bindings::nfnl_info,
        cda: *const *const bindings::nlattr,
    ) -> core::ffi::c_int {
        from_result(|| {
            // SAFETY: nfnetlink calls with a request in progress.
            let info = unsafe { &*info };
            // SAFETY: as above.
            let msg = unsafe { (*info.nlh).nlmsg_type } as u8;
            let count = S::CALLBACKS
                .get(usize::from(msg))
                .copied()
                .flatten()
                .map_or(0, |cb| cb.policy.len().saturating_sub(1));
            let handler = SLOTS[usize::from(S::ID)].load(Ordering::Acquire);
            if handler.is_null() {
                return Err(EINVAL);
            }
            // SAFETY: the slot points to the handler of a registered
            // `Registration<S>` (type invariant); `drop` unregisters, which
            // waits for callbacks in progress, before it clears the slot.
            let handler = unsafe { &*handler.cast::<S>() };
            // INVARIANT: nfnetlink parsed `count` attribute types into `cda`
            // (the callback's `attr_count`).
            let req = Request {
                skb,
                info,
                cda,
                count,
            };
            handler.call(msg, &req)?;
            Ok(0)
        })
    }
}

#[pinned_drop]
impl<S: Subsystem> PinnedDrop for Registration<S> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            // SAFETY: registered in `new`; this waits (synchronize_rcu,
            // the subsystem mutex) until no callback runs.
            unsafe { bindings::nfnetlink_subsys_unregister(self.subsys.get()) };
            SLOTS[usize::from(S::ID)].store(core::ptr::null_mut(), Ordering::Release);
        }
    }
}

/// A netlink message to userspace: an skb being filled.
///
/// # Invariants
///
/// `skb` is an skb we own whose data holds `len` bytes at `data`.
pub struct Message {
    skb: *mut bindings::sk_buff,
    data: *mut u8,
    len: usize,
}

// SAFETY: an skb being built is owned by one context at a time.
unsafe impl Send for Message {}

impl Message {
    /// A message of exactly `len` bytes, zeroed, allocated without
    /// sleeping.
    pub fn new(len: usize) -> Result<Self> {
        let len32 = u32::try_from(len).map_err(|_| EINVAL)?;
        let mut data = core::ptr::null_mut();
        // SAFETY: the helper allocates with GFP_ATOMIC and returns the data.
        let skb = unsafe { bindings::nfq_msg_alloc(len32, &mut data) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `data` has `len` bytes (skb_put).
        unsafe { core::ptr::write_bytes(data, 0, len) };
        // INVARIANT: allocated above with `len` bytes.
        Ok(Self { skb, data, len })
    }

    /// The message bytes.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes at `data`, ours (type invariant).
        unsafe { core::slice::from_raw_parts_mut(self.data, self.len) }
    }

    /// Copies `len` bytes of `skb` from offset 0 into the message at
    /// `at` (`skb_copy_bits`).
    pub fn copy_packet(&mut self, at: usize, skb: &SkBuff, len: usize) -> Result {
        let end = at.checked_add(len).ok_or(EINVAL)?;
        if end > self.len {
            return Err(EINVAL);
        }
        let len = i32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: the destination has `len` bytes (checked above); the
        // source skb is valid and `skb_copy_bits` checks its length.
        to_result(unsafe {
            bindings::skb_copy_bits(skb.as_ptr(), 0, self.data.add(at).cast(), len)
        })
    }

    /// Sends the message to port `portid` of namespace `net`, without
    /// blocking (`nfnetlink_unicast`). The message is consumed either way;
    /// `ENOBUFS` means the receiver's buffer is full.
    pub fn unicast(self, net: &Net, portid: u32) -> Result {
        let skb = self.skb;
        core::mem::forget(self);
        // SAFETY: `skb` is ours; `nfnetlink_unicast` consumes it.
        to_result(unsafe { bindings::nfnetlink_unicast(skb, net.as_ptr(), portid) })
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: ours (type invariant), not sent.
        unsafe { bindings::nfq_msg_free(self.skb) };
    }
}
