// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families.
//!
//! A [`Family`] describes the commands and the attribute policy; a
//! [`Registration`] registers it with the kernel (namespace aware) and
//! unregisters it on drop. Requests are dispatched to [`Family::doit`] with
//! an [`Info`] that gives the validated attributes, the caller's namespace
//! and a way to answer with a [`Reply`].
//!
//! C header: [`include/net/genetlink.h`](srctree/include/net/genetlink.h)

use super::namespace::Net;
use crate::sync::Arc;
use crate::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    error::{from_result, to_result, Result},
    prelude::*,
    str::CStr,
    types::Opaque,
};
use core::pin::Pin;
use core::sync::atomic::{AtomicPtr, Ordering};

/// `EMSGSIZE`: the reply did not fit.
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as i32))
}

/// `EOPNOTSUPP`: a command the family has but cannot carry out as it is
/// set up (6.12's `kernel::error::code` has no such constant).
pub fn eopnotsupp() -> Error {
    Error::from_errno(-(bindings::EOPNOTSUPP as i32))
}

/// Validation policy of one attribute type (`struct nla_policy`).
#[derive(Clone, Copy, Debug)]
pub enum AttrPolicy {
    /// Not used by requests: rejected.
    Reject,
    /// A `u8`.
    U8,
    /// A `u16`.
    U16,
    /// A `u32`.
    U32,
    /// A `u64`.
    U64,
    /// A flag (no payload).
    Flag,
    /// A NUL-terminated string of at most `max_len` bytes without the NUL.
    NulString {
        /// Longest accepted string.
        max_len: u16,
    },
    /// Opaque bytes of at most `max_len` bytes.
    Binary {
        /// Longest accepted payload.
        max_len: u16,
    },
    /// A nested attribute (checked by the handler).
    Nested,
    /// Any payload of at least `min_len` bytes (`NLA_UNSPEC` with a
    /// length), e.g. a C structure.
    MinLen {
        /// Shortest accepted payload.
        min_len: u16,
    },
}

impl AttrPolicy {
    pub(crate) fn to_raw(self) -> bindings::nla_policy {
        // SAFETY: all-zero is a valid `nla_policy` (NLA_UNSPEC, no limits).
        let mut p: bindings::nla_policy = unsafe { core::mem::zeroed() };
        let (ty, len) = match self {
            AttrPolicy::Reject => (bindings::NLA_REJECT, 0),
            AttrPolicy::U8 => (bindings::NLA_U8, 0),
            AttrPolicy::U16 => (bindings::NLA_U16, 0),
            AttrPolicy::U32 => (bindings::NLA_U32, 0),
            AttrPolicy::U64 => (bindings::NLA_U64, 0),
            AttrPolicy::Flag => (bindings::NLA_FLAG, 0),
            AttrPolicy::NulString { max_len } => (bindings::NLA_NUL_STRING, max_len),
            AttrPolicy::Binary { max_len } => (bindings::NLA_BINARY, max_len),
            AttrPolicy::Nested => (bindings::NLA_NESTED, 0),
            AttrPolicy::MinLen { min_len } => (bindings::NLA_UNSPEC, min_len),
        };
        p.type_ = ty as u8;
        p.len = len;
        p
    }
}

/// One command of a family.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// The command number (`genlmsghdr.cmd`).
    pub cmd: u8,
    /// Whether the caller needs `CAP_NET_ADMIN` in the user namespace that
    /// owns the network namespace (`GENL_UNS_ADMIN_PERM`); the core answers
    /// `EPERM` otherwise, before [`Family::doit`] runs.
    pub admin: bool,
    /// The command's own attribute policy, instead of [`Family::POLICY`].
    pub policy: Option<&'static [AttrPolicy]>,
}

/// A generic netlink family.
pub trait Family: Send + Sync + Sized + 'static {
    /// The family name (at most 15 bytes).
    const NAME: &'static CStr;
    /// The family version.
    const VERSION: u32;
    /// The attribute policy, indexed by attribute type; entry 0 is unused.
    /// Every command is validated strictly against it: unknown attributes,
    /// wrong sizes and trailing garbage are refused with an extended ack.
    const POLICY: &'static [AttrPolicy];
    /// The commands.
    const COMMANDS: &'static [Command];
    /// The multicast groups (names of at most 15 bytes); a
    /// [`Multicaster`] given to [`Registration::new`] sends to them by
    /// index.
    const MCAST_GROUPS: &'static [&'static CStr] = &[];

    /// Handles request `cmd` (one of [`Family::COMMANDS`]).
    fn doit(&self, cmd: u8, info: &Info<'_>) -> Result;
}

/// A request being handled (`struct genl_info`).
///
/// # Invariants
///
/// `ptr` is the `genl_info` of a request in progress, valid for `'a`; its
/// attributes were validated against the family's policy.
pub struct Info<'a> {
    ptr: &'a bindings::genl_info,
    /// The highest attribute type of the command's policy: `attrs` has
    /// that many entries plus one.
    maxattr: u32,
}

impl<'a> Info<'a> {
    /// The command of the request.
    pub fn cmd(&self) -> u8 {
        // SAFETY: `genlhdr` is valid for a request in progress.
        unsafe { (*self.ptr.genlhdr).cmd }
    }

    /// The network namespace of the requesting socket.
    pub fn net(&self) -> &'a Net {
        // SAFETY: the requesting socket holds a reference on its namespace
        // for the duration of the request.
        unsafe { Net::from_raw(bindings::genl_info_net(self.ptr)) }
    }

    /// The payload of attribute `ty`, if the request carried it.
    pub fn attr(&self, ty: u16) -> Option<&'a [u8]> {
        if u32::from(ty) > self.maxattr || self.ptr.attrs.is_null() {
            return None;
        }
        // SAFETY: `attrs` has `maxattr + 1` entries; a non-null entry points
        // to a validated attribute whose `nla_len` covers its header and
        // payload inside the request.
        unsafe {
            let nla = *self.ptr.attrs.add(ty.into());
            if nla.is_null() {
                return None;
            }
            let len =
                usize::from((*nla).nla_len).checked_sub(core::mem::size_of::<bindings::nlattr>())?;
            // NLA_HDRLEN: the 4-byte header, already aligned.
            let data = nla
                .cast::<u8>()
                .add(core::mem::size_of::<bindings::nlattr>());
            Some(core::slice::from_raw_parts(data, len))
        }
    }

    /// Attribute `ty` as a `u32` (policy [`AttrPolicy::U32`]).
    pub fn attr_u32(&self, ty: u16) -> Option<u32> {
        let b = self.attr(ty)?;
        Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
    }

    /// The netlink port id of the requesting socket.
    pub fn portid(&self) -> u32 {
        self.ptr.snd_portid
    }

    /// Whether flag attribute `ty` is present.
    pub fn flag(&self, ty: u16) -> bool {
        self.attr(ty).is_some()
    }

    /// String attribute `ty` without its NUL (policy
    /// [`AttrPolicy::NulString`]).
    pub fn attr_str(&self, ty: u16) -> Option<&'a [u8]> {
        let b = self.attr(ty)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        b.get(..end)
    }

    /// The attributes of the request as raw bytes (everything after the
    /// generic netlink header), already validated against the command's
    /// policy.
    pub fn payload(&self) -> &'a [u8] {
        // SAFETY: `nlhdr` is the request's valid header; `nlmsg_len` covers
        // the whole message, which lies in the request skb for the call.
        unsafe {
            let nlh = self.ptr.nlhdr;
            let total = (*nlh).nlmsg_len as usize;
            // NLMSG_HDRLEN + GENL_HDRLEN + family header (none).
            let start = core::mem::size_of::<bindings::nlmsghdr>()
                + core::mem::size_of::<bindings::genlmsghdr>()
                + (*self.ptr.family).hdrsize as usize;
            if total <= start {
                return &[];
            }
            core::slice::from_raw_parts(nlh.cast::<u8>().add(start), total - start)
        }
    }

    /// Attaches a formatted message (at most 79 bytes; longer ones are cut)
    /// to the error or acknowledgement (`NL_SET_ERR_MSG_FMT`).
    pub fn set_err_msg_fmt(&self, args: core::fmt::Arguments<'_>) {
        let extack = self.ptr.extack;
        if extack.is_null() {
            return;
        }
        struct Buf<'b>(&'b mut [u8], usize);
        impl core::fmt::Write for Buf<'_> {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                for &b in s.as_bytes() {
                    // Keep one byte for the NUL.
                    if self.1 + 1 >= self.0.len() {
                        break;
                    }
                    self.0[self.1] = b;
                    self.1 += 1;
                }
                Ok(())
            }
        }
        // SAFETY: a non-null `extack` is valid and ours during the request;
        // `_msg_buf` is a plain byte array owned by it, and `_msg` may point
        // into it (what `NL_SET_ERR_MSG_FMT` does).
        unsafe {
            let buf = &mut (*extack)._msg_buf;
            let bytes = core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), buf.len());
            let mut w = Buf(bytes, 0);
            let _ = core::fmt::write(&mut w, args);
            let n = w.1;
            bytes[n] = 0;
            (*extack)._msg = buf.as_ptr();
        }
    }

    /// Attaches a message to the error or acknowledgement (extended ack).
    pub fn set_err_msg(&self, msg: &'static CStr) {
        let extack = self.ptr.extack;
        if !extack.is_null() {
            // SAFETY: a non-null `extack` is valid during the request; the
            // message is static, as `NL_SET_ERR_MSG` requires.
            unsafe { (*extack)._msg = msg.as_char_ptr() };
        }
    }
}

/// A reply being built for a request.
///
/// # Invariants
///
/// `skb` is an owned netlink message with an open generic netlink header
/// `hdr`, freed on drop unless sent.
pub struct Reply<'a, 'b> {
    info: &'b Info<'a>,
    skb: *mut bindings::sk_buff,
    hdr: *mut core::ffi::c_void,
}

impl<'a, 'b> Reply<'a, 'b> {
    /// Starts a reply to `info` with room for `payload` bytes of attributes.
    pub fn new(info: &'b Info<'a>, payload: usize) -> Result<Self> {
        // SAFETY: plain allocation.
        let skb = unsafe { bindings::genlmsg_new(payload, bindings::GFP_KERNEL) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a fresh message and `info` the request in progress.
        let hdr = unsafe {
            bindings::genlmsg_put_reply(
                skb,
                info.ptr as *const _ as *mut _,
                info.ptr.family,
                0,
                info.cmd(),
            )
        };
        if hdr.is_null() {
            // SAFETY: `skb` is ours and unused.
            unsafe { bindings::nlmsg_free(skb) };
            return Err(emsgsize());
        }
        // INVARIANT: owned message with an open header.
        Ok(Self { info, skb, hdr })
    }

    /// Adds a `u32` attribute.
    pub fn put_u32(&mut self, ty: u16, value: u32) -> Result {
        // SAFETY: `skb` is our message (type invariant).
        to_result(unsafe { bindings::nla_put_u32(self.skb, ty.into(), value) })
    }

    /// Adds a `u64` attribute, 64-bit aligned with padding attribute `pad`.
    pub fn put_u64(&mut self, ty: u16, value: u64, pad: u16) -> Result {
        // SAFETY: `skb` is our message (type invariant).
        to_result(unsafe { bindings::nla_put_u64_64bit(self.skb, ty.into(), value, pad.into()) })
    }

    /// Adds attribute `ty` with payload `bytes`.
    pub fn put_raw_attr(&mut self, ty: u16, bytes: &[u8]) -> Result {
        let len = core::ffi::c_int::try_from(bytes.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is our message; `bytes` is readable for `len` bytes.
        to_result(unsafe { bindings::nla_put(self.skb, ty.into(), len, bytes.as_ptr().cast()) })
    }

    /// Appends already encoded attributes.
    pub fn put_raw(&mut self, bytes: &[u8]) -> Result {
        let len = core::ffi::c_int::try_from(bytes.len()).map_err(|_| emsgsize())?;
        // SAFETY: `skb` is our message; `bytes` is readable for `len` bytes.
        to_result(unsafe { bindings::nla_append(self.skb, len, bytes.as_ptr().cast()) })
    }

    /// Adds a nested attribute `ty` whose content `f` writes.
    pub fn nested(&mut self, ty: u16, f: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is our message (type invariant).
        let start = unsafe { bindings::nla_nest_start(self.skb, ty.into()) };
        if start.is_null() {
            return Err(emsgsize());
        }
        f(self)?;
        // SAFETY: `start` was returned by `nla_nest_start` on this message
        // and everything after it belongs to the nest.
        unsafe { bindings::nla_nest_end(self.skb, start) };
        Ok(())
    }

    /// Finishes the reply and sends it to the requester.
    pub fn send(mut self) -> Result {
        let skb = core::mem::replace(&mut self.skb, core::ptr::null_mut());
        // SAFETY: `skb`/`hdr` are our open message; `genlmsg_reply` takes
        // ownership of `skb` whatever it returns.
        unsafe {
            bindings::genlmsg_end(skb, self.hdr);
            to_result(bindings::genlmsg_reply(
                skb,
                self.info.ptr as *const _ as *mut _,
            ))
        }
    }
}

impl Drop for Reply<'_, '_> {
    fn drop(&mut self) {
        if !self.skb.is_null() {
            // SAFETY: still owned (not sent).
            unsafe { bindings::nlmsg_free(self.skb) };
        }
    }
}

/// A registered family, with its handler; unregistered on drop.
///
/// # Invariants
///
/// While `registered` is true `family` is registered with the kernel and
/// points to `ops` and `policy`, which are never modified.
#[pin_data(PinnedDrop)]
pub struct Registration<F: Family> {
    #[pin]
    family: Opaque<bindings::genl_family>,
    ops: KVec<bindings::genl_ops>,
    policy: KVec<bindings::nla_policy>,
    mcgrps: KVec<bindings::genl_multicast_group>,
    /// Sends to this family's groups while it is registered.
    multicaster: Option<Arc<Multicaster>>,
    /// The commands' own policies, each a heap array that never moves.
    _cmd_policies: KVec<KVec<bindings::nla_policy>>,
    registered: bool,
    handler: F,
}

// SAFETY: the kernel data is only touched at registration and in `drop`;
// `F` is `Send + Sync`.
unsafe impl<F: Family> Send for Registration<F> {}
// SAFETY: see `Send`.
unsafe impl<F: Family> Sync for Registration<F> {}

impl<F: Family> Registration<F> {
    /// Registers family `F` with `handler`, in every network namespace;
    /// `multicaster`, if any, sends to the family's multicast groups while
    /// it is registered.
    pub fn new(
        handler: F,
        module: &'static ThisModule,
        multicaster: Option<Arc<Multicaster>>,
    ) -> Result<Pin<KBox<Self>>> {
        let name = F::NAME.as_bytes_with_nul();
        if name.len() > bindings::GENL_NAMSIZ as usize || F::POLICY.is_empty() {
            return Err(EINVAL);
        }
        let maxattr = (F::POLICY.len() - 1) as u32;
        let mut policy = KVec::with_capacity(F::POLICY.len(), GFP_KERNEL)?;
        for p in F::POLICY {
            policy.push(p.to_raw(), GFP_KERNEL)?;
        }
        let mut cmd_policies = KVec::with_capacity(F::COMMANDS.len(), GFP_KERNEL)?;
        for c in F::COMMANDS {
            let mut v = KVec::new();
            if let Some(p) = c.policy {
                if p.is_empty() {
                    return Err(EINVAL);
                }
                v = KVec::with_capacity(p.len(), GFP_KERNEL)?;
                for a in p {
                    v.push(a.to_raw(), GFP_KERNEL)?;
                }
            }
            cmd_policies.push(v, GFP_KERNEL)?;
        }
        let mut ops = KVec::with_capacity(F::COMMANDS.len(), GFP_KERNEL)?;
        for (c, own) in F::COMMANDS.iter().zip(cmd_policies.iter()) {
            // SAFETY: all-zero is a valid `genl_ops`.
            let mut op: bindings::genl_ops = unsafe { core::mem::zeroed() };
            op.cmd = c.cmd;
            op.doit = Some(Self::doit_callback);
            if own.is_empty() {
                op.policy = policy.as_ptr();
                op.maxattr = maxattr;
            } else {
                op.policy = own.as_ptr();
                op.maxattr = (own.len() - 1) as u32;
            }
            op.flags = if c.admin {
                bindings::GENL_UNS_ADMIN_PERM as u8
            } else {
                0
            };
            ops.push(op, GFP_KERNEL)?;
        }
        let mut mcgrps = KVec::with_capacity(F::MCAST_GROUPS.len(), GFP_KERNEL)?;
        for g in F::MCAST_GROUPS {
            // SAFETY: all-zero is a valid `genl_multicast_group`.
            let mut grp: bindings::genl_multicast_group = unsafe { core::mem::zeroed() };
            let bytes = g.as_bytes_with_nul();
            if bytes.len() > grp.name.len() {
                return Err(EINVAL);
            }
            for (d, b) in grp.name.iter_mut().zip(bytes) {
                *d = *b as _;
            }
            // Listening needs CAP_NET_ADMIN, as reading the tables does.
            grp.flags = GENL_MCAST_CAP_NET_ADMIN;
            mcgrps.push(grp, GFP_KERNEL)?;
        }
        let mut this = KBox::pin(
            Self {
                // SAFETY: all-zero is a valid, unregistered `genl_family`.
                family: Opaque::new(unsafe { core::mem::zeroed() }),
                ops,
                policy,
                mcgrps,
                multicaster,
                _cmd_policies: cmd_policies,
                registered: false,
                handler,
            },
            GFP_KERNEL,
        )?;
        let fam = this.family.get();
        // SAFETY: `fam` is our pinned, unregistered family; `ops` and
        // `policy` live in heap arrays owned by `this` that are never touched
        // again, so the pointers stay valid while registered.
        unsafe {
            for (i, b) in name.iter().enumerate() {
                (*fam).name[i] = *b as _;
            }
            (*fam).version = F::VERSION;
            (*fam).maxattr = maxattr;
            (*fam).set_netnsok(1);
            (*fam).resv_start_op = 1;
            (*fam).policy = this.policy.as_ptr();
            (*fam).ops = this.ops.as_ptr();
            (*fam).n_ops = this.ops.len() as u8;
            if !this.mcgrps.is_empty() {
                (*fam).mcgrps = this.mcgrps.as_ptr();
                (*fam).n_mcgrps = this.mcgrps.len() as u8;
            }
            (*fam).module = module.as_ptr();
        }
        // SAFETY: the family is fully initialised and pinned until `drop`.
        to_result(unsafe { bindings::genl_register_family(fam) })?;
        // SAFETY: not moving anything out of the pinned object.
        // INVARIANT: registered above.
        unsafe { Pin::get_unchecked_mut(this.as_mut()) }.registered = true;
        if let Some(m) = &this.multicaster {
            m.family.store(fam, Ordering::Release);
        }
        Ok(this)
    }

    /// The handler.
    pub fn handler(&self) -> &F {
        &self.handler
    }

    unsafe extern "C" fn doit_callback(
        _skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
    ) -> core::ffi::c_int {
        from_result(|| {
            // SAFETY: the kernel passes the valid request info, whose
            // `family` is the `family` field of a registered `Self`, alive
            // while requests can arrive (it is unregistered before drop).
            let (info, this) = unsafe {
                let this = &*crate::container_of!((*info).family, Self, family);
                let cmd = (*(*info).genlhdr).cmd;
                // The attribute array is as long as the command's policy
                // (the family's unless the command has its own).
                let maxattr = F::COMMANDS
                    .iter()
                    .find(|c| c.cmd == cmd)
                    .and_then(|c| c.policy)
                    .map_or((*(*info).family).maxattr, |p| {
                        p.len().saturating_sub(1) as u32
                    });
                (
                    Info {
                        ptr: &*info,
                        maxattr,
                    },
                    this,
                )
            };
            this.handler.doit(info.cmd(), &info)?;
            Ok(0)
        })
    }
}

#[pinned_drop]
impl<F: Family> PinnedDrop for Registration<F> {
    fn drop(self: Pin<&mut Self>) {
        if self.registered {
            if let Some(m) = &self.multicaster {
                // No sender may use the family once it is unregistered.
                m.family.store(core::ptr::null_mut(), Ordering::Release);
                crate::sync::rcu::synchronize();
            }
            // SAFETY: registered (type invariant); after this returns no
            // request runs in our callbacks.
            unsafe { bindings::genl_unregister_family(self.family.get()) };
        }
    }
}

/// `GENL_MCAST_CAP_NET_ADMIN` (`BIT(0)`, which bindgen does not expand):
/// joining needs `CAP_NET_ADMIN` in the namespace's user namespace.
const GENL_MCAST_CAP_NET_ADMIN: u8 = 1 << 0;

/// Sends messages to the multicast groups of a family, from any context.
///
/// Created before the family (so that what sends can hold it), given to
/// [`Registration::new`]; sends nothing while the family is not
/// registered.
///
/// # Invariants
///
/// `family` is null or a registered family; a registration clears it and
/// waits for a grace period before unregistering, and senders read it
/// inside an RCU read-side critical section.
pub struct Multicaster {
    family: AtomicPtr<bindings::genl_family>,
}

impl Multicaster {
    /// A multicaster of no family yet.
    pub fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                family: AtomicPtr::new(core::ptr::null_mut()),
            },
            GFP_KERNEL,
        )?)
    }

    /// Whether anyone in `net` listens to group `group` (an index into
    /// [`Family::MCAST_GROUPS`]).
    pub fn has_listeners(&self, net: &Net, group: u32) -> bool {
        let _rcu = crate::sync::rcu::read_lock();
        let fam = self.family.load(Ordering::Acquire);
        // SAFETY: a non-null family is registered until after the grace
        // period following its clearing (type invariant).
        !fam.is_null() && unsafe { bindings::genl_has_listeners(fam, net.as_ptr(), group) } != 0
    }

    /// Sends a message of command `cmd` holding the encoded attributes
    /// `payload` to group `group` in `net`, if anyone listens. Does not
    /// sleep.
    pub fn send(&self, net: &Net, group: u32, cmd: u8, payload: &[u8]) -> Result {
        let _rcu = crate::sync::rcu::read_lock();
        let fam = self.family.load(Ordering::Acquire);
        // SAFETY: as in `has_listeners`.
        if fam.is_null() || unsafe { bindings::genl_has_listeners(fam, net.as_ptr(), group) } == 0 {
            return Ok(());
        }
        let len = core::ffi::c_int::try_from(payload.len()).map_err(|_| emsgsize())?;
        // SAFETY: plain allocation, atomic.
        let skb = unsafe { bindings::genlmsg_new(payload.len(), bindings::GFP_ATOMIC) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is our fresh message and `fam` a registered family.
        let hdr = unsafe { bindings::genlmsg_put(skb, 0, 0, fam, 0, cmd) };
        // SAFETY: `payload` is readable for `len` bytes; `skb` is ours.
        if hdr.is_null() || unsafe { bindings::nla_append(skb, len, payload.as_ptr().cast()) } != 0
        {
            // SAFETY: `skb` is ours and unsent.
            unsafe { bindings::nlmsg_free(skb) };
            return Err(emsgsize());
        }
        // SAFETY: `skb`/`hdr` are our message; the send takes ownership of
        // `skb` whatever it returns.
        unsafe {
            bindings::genlmsg_end(skb, hdr);
            let err = bindings::genlmsg_multicast_netns(
                fam,
                net.as_ptr(),
                skb,
                0,
                group,
                bindings::GFP_ATOMIC,
            );
            // No listener left by now is not an error.
            if err == -(bindings::ESRCH as i32) {
                return Ok(());
            }
            to_result(err)
        }
    }
}
