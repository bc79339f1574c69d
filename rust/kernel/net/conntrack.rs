// SPDX-License-Identifier: GPL-2.0

//! Connection-tracking objects as packets carry them.
//!
//! A tracked packet points at its connection through `skb->_nfct`: a
//! `struct nf_conntrack` (just a reference count) and, in the pointer's low
//! three bits, the packet's `enum ip_conntrack_info`. When the last
//! reference goes, the core calls `nf_ct_hook->destroy`. This module lets a
//! Rust module be that connection tracker:
//!
//! - [`Ct<T>`] is a counted reference to a connection object holding a `T`,
//!   laid out so that `skb->_nfct` can point at it; the object is freed one
//!   RCU grace period after its last reference goes;
//! - [`CtHook<T>`] installs the `nf_ct_hook` operations for `T` (and keeps
//!   `nf_conntrack` from loading while it is installed, since there can be
//!   only one tracker); holding it is what makes reading `skb->_nfct` as a
//!   `Ct<T>` sound ([`SkBuff::ct`]);
//! - [`Table<T>`] is a hash table of connections with one chain per
//!   direction (original and reply tuple), read without locks under RCU.
//!
//! C headers: [`include/linux/netfilter/nf_conntrack_common.h`](srctree/include/linux/netfilter/nf_conntrack_common.h),
//! [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)

use super::skbuff::SkBuff;
use crate::{
    alloc::{
        flags::{GFP_ATOMIC, GFP_KERNEL},
        Flags, KBox, KVVec,
    },
    bindings,
    error::{code::EBUSY, Result},
    init::PinInit,
    prelude::*,
    sync::{bh, rcu, Arc, SpinLock},
    types::Opaque,
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering},
};

/// The packet's relation to its connection (`enum ip_conntrack_info`).
pub mod ctinfo {
    /// Part of an established connection, original direction.
    pub const ESTABLISHED: u8 = 0;
    /// Related to a connection (an ICMP error, an expected connection),
    /// original direction.
    pub const RELATED: u8 = 1;
    /// The first packet of a connection (or a retransmission of it).
    pub const NEW: u8 = 2;
    /// Part of an established connection, reply direction.
    pub const ESTABLISHED_REPLY: u8 = 3;
    /// Related, reply direction.
    pub const RELATED_REPLY: u8 = 4;
    /// Not to be tracked (`-j CT --notrack`); no connection attached.
    pub const UNTRACKED: u8 = 7;

    /// Whether `info` is in the reply direction (`CTINFO2DIR`).
    pub const fn is_reply(info: u8) -> bool {
        info >= ESTABLISHED_REPLY && info != UNTRACKED
    }
}

/// The low bits of `skb->_nfct` that hold the ctinfo (`NFCT_INFOMASK`).
const INFO_MASK: usize = 7;

/// Connection objects allocated and not yet freed, of every `T`: a
/// [`CtHook`] is not removed (and the module not unloaded) while any exist.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A link in one of a [`Table`]'s hash chains.
#[repr(C)]
struct Node {
    next: AtomicPtr<Node>,
    /// Which of the object's two nodes this is (0 original, 1 reply).
    dir: u8,
    /// The bucket it is linked in; meaningful while linked.
    bucket: AtomicU32,
}

/// A connection object.
///
/// # Invariants
///
/// `general` is the first field, so a pointer to it is a pointer to the
/// object. `general.use_` counts the [`Ct`] handles, the packets pointing
/// at the object and the [`Table`] it is linked in (one reference).
#[repr(C)]
#[pin_data]
struct Inner<T> {
    general: bindings::nf_conntrack,
    nodes: [Node; 2],
    linked: AtomicBool,
    rcu: Opaque<bindings::callback_head>,
    #[pin]
    value: T,
}

impl<T> Inner<T> {
    /// The object that `node` (its node number `node.dir`) belongs to.
    ///
    /// # Safety
    ///
    /// `node` must be a node of a live `Inner<T>`.
    unsafe fn from_node(node: *const Node) -> *const Inner<T> {
        // SAFETY: the caller guarantees `node` is valid.
        let dir = usize::from(unsafe { (*node).dir });
        let offset = offset_of!(Inner<T>, nodes) + dir * core::mem::size_of::<Node>();
        // SAFETY: `node` lies `offset` bytes into its `Inner<T>`.
        unsafe { node.cast::<u8>().sub(offset).cast() }
    }
}

/// A counted reference to a connection object holding a `T`.
///
/// # Invariants
///
/// `ptr` points to a live `Inner<T>` on which this handle holds one
/// reference.
pub struct Ct<T: Send + Sync + 'static> {
    ptr: NonNull<Inner<T>>,
}

// SAFETY: the object is shared between CPUs only through `&T` (`T: Sync`)
// and its atomic reference count; it may be freed on any CPU (`T: Send`).
unsafe impl<T: Send + Sync + 'static> Send for Ct<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync + 'static> Sync for Ct<T> {}

impl<T: Send + Sync + 'static> Ct<T> {
    /// A new connection object holding the value `init` makes, with one
    /// reference (this handle), linked in no table.
    pub fn new(init: impl PinInit<T, Error>, flags: Flags) -> Result<Self> {
        let inner = KBox::pin_init(
            try_pin_init!(Inner {
                general: bindings::nf_conntrack {
                    // SAFETY: `REFCOUNT_INIT` only builds a value.
                    use_: unsafe { bindings::REFCOUNT_INIT(1) },
                },
                nodes: [
                    Node {
                        next: AtomicPtr::new(ptr::null_mut()),
                        dir: 0,
                        bucket: AtomicU32::new(0),
                    },
                    Node {
                        next: AtomicPtr::new(ptr::null_mut()),
                        dir: 1,
                        bucket: AtomicU32::new(0),
                    },
                ],
                linked: AtomicBool::new(false),
                rcu: Opaque::uninit(),
                value <- init,
            }? Error),
            flags,
        )?;
        LIVE.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the object is never moved: it is freed in place by
        // `release`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(inner) });
        // INVARIANT: a fresh object with one reference, ours.
        Ok(Ct {
            // SAFETY: `into_raw` never returns null.
            ptr: unsafe { NonNull::new_unchecked(raw) },
        })
    }

    fn inner(&self) -> &Inner<T> {
        // SAFETY: by the type invariant the object is alive while we hold
        // our reference.
        unsafe { self.ptr.as_ref() }
    }

    /// Whether `a` and `b` are the same connection.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }

    /// The references held on the connection (handles, packets, the
    /// table), as a hint: it changes all the time.
    pub fn use_count(&self) -> u32 {
        // SAFETY: the count is a live `atomic_t` (we hold a reference).
        let counter = unsafe {
            core::sync::atomic::AtomicI32::from_ptr(ptr::addr_of_mut!(
                (*self.as_nfct()).use_.refs.counter
            ))
        };
        counter.load(Ordering::Relaxed).max(0) as u32
    }

    /// Whether the connection is linked in a table.
    pub fn is_linked(&self) -> bool {
        self.inner().linked.load(Ordering::Acquire)
    }

    fn as_nfct(&self) -> *mut bindings::nf_conntrack {
        // `general` is the first field (type invariant of `Inner`).
        self.ptr.as_ptr().cast()
    }

    /// Takes a reference on the object at `p` unless its count already
    /// dropped to zero (it is being freed).
    ///
    /// # Safety
    ///
    /// `p` must point to an `Inner<T>` that stays allocated for the call
    /// (inside an RCU read-side section, after reading it from a table or
    /// a packet).
    unsafe fn try_get(p: *const Inner<T>) -> Option<Self> {
        let p = NonNull::new(p.cast_mut())?;
        // SAFETY: by the caller's guarantee the count is readable.
        let ok = unsafe {
            bindings::refcount_inc_not_zero(ptr::addr_of_mut!((*p.as_ptr()).general.use_))
        };
        // INVARIANT: we now hold a reference.
        ok.then_some(Ct { ptr: p })
    }
}

impl<T: Send + Sync + 'static> core::ops::Deref for Ct<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T: Send + Sync + 'static> Clone for Ct<T> {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference, so the count is not zero.
        unsafe { bindings::refcount_inc(self.as_nfct().cast()) };
        // INVARIANT: the reference just taken is the new handle's.
        Ct { ptr: self.ptr }
    }
}

impl<T: Send + Sync + 'static> Drop for Ct<T> {
    fn drop(&mut self) {
        // SAFETY: we own one reference, given up here.
        unsafe { put::<T>(self.as_nfct()) };
    }
}

/// Drops one reference on the object at `nfct`; frees it after a grace
/// period when it was the last.
///
/// # Safety
///
/// `nfct` must point to a live `Inner<T>` on which the caller owns a
/// reference.
unsafe fn put<T: Send + Sync + 'static>(nfct: *mut bindings::nf_conntrack) {
    // SAFETY: the caller owns a reference, so the object is alive.
    if unsafe { bindings::refcount_dec_and_test(ptr::addr_of_mut!((*nfct).use_)) } {
        // SAFETY: that was the last reference: nobody else can reach the
        // object except RCU readers, hence the deferred free.
        unsafe { release::<T>(nfct.cast()) };
    }
}

/// Frees `p` one grace period from now.
///
/// # Safety
///
/// `p` must be a live `Inner<T>` with no references left.
unsafe fn release<T: Send + Sync + 'static>(p: *mut Inner<T>) {
    unsafe extern "C" fn free<T: Send + Sync + 'static>(head: *mut bindings::callback_head) {
        let offset = offset_of!(Inner<T>, rcu);
        // SAFETY: `head` is the `rcu` field of an `Inner<T>` passed to
        // `call_rcu` below.
        let p = unsafe { head.cast::<u8>().sub(offset).cast::<Inner<T>>() };
        // SAFETY: the object came from `KBox::into_raw` in `Ct::new` and no one
        // can reach it any more.
        drop(unsafe { KBox::from_raw(p) });
        LIVE.fetch_sub(1, Ordering::Release);
    }
    // SAFETY: `rcu` is ours to use now that the object is unreferenced;
    // `free::<T>` matches the object's type.
    unsafe { bindings::call_rcu(Opaque::raw_get(ptr::addr_of!((*p).rcu)), Some(free::<T>)) };
}

/// What the kernel may ask of a connection besides freeing it.
pub trait CtOps: Send + Sync + 'static {
    /// A TCP reset was sent in answer to a packet of this connection
    /// (`nf_ct_set_closing`).
    fn set_closing(&self) {}
}

/// The connection tracker: `nf_ct_hook` points at `T`'s operations while
/// this is alive, and `nf_conntrack` is kept from loading.
///
/// # Invariants
///
/// While the object exists, `nf_ct_hook` is `Adapter::<T>::HOOK`, and every
/// non-null pointer in a packet's `_nfct` is an `Inner<T>`.
#[pin_data(PinnedDrop)]
pub struct CtHook<T: CtOps> {
    /// Keeps `nf_conntrack` out.
    _refuse: Pin<KBox<crate::module_refuse::RefuseLoad>>,
    /// Whether the hook is installed (registration succeeded).
    installed: AtomicBool,
    _t: PhantomData<T>,
}

struct Adapter<T>(PhantomData<T>);

impl<T: CtOps> Adapter<T> {
    const HOOK: bindings::nf_ct_hook = bindings::nf_ct_hook {
        update: Some(Self::update),
        destroy: Some(Self::destroy),
        get_tuple_skb: Some(Self::get_tuple_skb),
        attach: Some(Self::attach),
        set_closing: Some(Self::set_closing),
        confirm: Some(Self::confirm),
    };

    /// A packet reinjected by a queue changed: nothing to redo here (the
    /// module's own queue handles its packets).
    unsafe extern "C" fn update(_net: *mut bindings::net, _skb: *mut bindings::sk_buff) -> i32 {
        bindings::NF_ACCEPT as i32
    }

    /// The last packet reference to a connection went.
    unsafe extern "C" fn destroy(nfct: *mut bindings::nf_conntrack) {
        // SAFETY: by the `CtHook` invariant `nfct` is an `Inner<T>`, and the
        // core calls this when its count reached zero.
        unsafe { release::<T>(nfct.cast()) };
    }

    /// Tuples in the kernel's own format are not offered.
    unsafe extern "C" fn get_tuple_skb(
        _tuple: *mut bindings::nf_conntrack_tuple,
        _skb: *const bindings::sk_buff,
    ) -> bool {
        false
    }

    /// `nskb` (an ICMP error or TCP reset the kernel builds in answer to
    /// `skb`) belongs to `skb`'s connection, related, the other way.
    unsafe extern "C" fn attach(nskb: *mut bindings::sk_buff, skb: *const bindings::sk_buff) {
        // SAFETY: both packets are valid during the call; `nskb` is new
        // and ours to set up.
        unsafe {
            let raw = (*skb)._nfct as usize;
            let p = raw & !INFO_MASK;
            if p == 0 {
                return;
            }
            let info = if ctinfo::is_reply((raw & INFO_MASK) as u8) {
                ctinfo::RELATED
            } else {
                ctinfo::RELATED_REPLY
            };
            bindings::refcount_inc(p as *mut bindings::refcount_t);
            (*nskb)._nfct = (p | usize::from(info)) as _;
        }
    }

    unsafe extern "C" fn set_closing(nfct: *mut bindings::nf_conntrack) {
        if nfct.is_null() {
            return;
        }
        // SAFETY: by the `CtHook` invariant `nfct` is a live `Inner<T>`
        // (the caller's packet holds a reference).
        unsafe { (*nfct.cast::<Inner<T>>()).value.set_closing() };
    }

    /// Confirmation happens at the module's own last hook.
    unsafe extern "C" fn confirm(_skb: *mut bindings::sk_buff) -> i32 {
        bindings::NF_ACCEPT as i32
    }
}

impl<T: CtOps> CtHook<T> {
    /// Becomes the kernel's connection tracker. Fails with `EBUSY` when
    /// another one (`nf_conntrack`) is loaded.
    pub fn register() -> Result<Arc<Self>> {
        let refuse = crate::module_refuse::RefuseLoad::new(
            b"nf_conntrack",
            crate::c_str!(
                "rustfilter: connection tracking is rustfilter's while it is loaded; nf_conntrack refused"
            ),
        )?;
        let this = Arc::pin_init(
            pin_init!(Self {
                _refuse: refuse,
                installed: AtomicBool::new(false),
                _t: PhantomData,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `nf_ct_hook` is a pointer the kernel reads under RCU;
        // taking it with a compare-and-exchange means no other tracker is
        // overwritten, and the release ordering publishes `HOOK`.
        let hook: &AtomicPtr<bindings::nf_ct_hook> =
            unsafe { AtomicPtr::from_ptr(ptr::addr_of_mut!(bindings::nf_ct_hook).cast()) };
        let ours: &'static bindings::nf_ct_hook = &Adapter::<T>::HOOK;
        let ours = ptr::from_ref(ours).cast_mut();
        if hook
            .compare_exchange(ptr::null_mut(), ours, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            crate::pr_err!("rustfilter: nf_conntrack is loaded; unload it first\n");
            return Err(EBUSY);
        }
        // INVARIANT: the hook is ours. No packet can carry another
        // tracker's object: `nf_conntrack` is not loaded (it would hold the
        // hook) and waits for all of its objects before unloading.
        this.installed.store(true, Ordering::Release);
        Ok(this)
    }
}

#[pinned_drop]
impl<T: CtOps> PinnedDrop for CtHook<T> {
    fn drop(self: Pin<&mut Self>) {
        if !self.installed.load(Ordering::Acquire) {
            return;
        }
        // Packets may still hold connections (in queues on their way
        // out): their destroy callback is ours, so wait for every object
        // to be freed, and for the frees in flight to finish.
        let mut waited = 0u32;
        while LIVE.load(Ordering::Acquire) != 0 {
            // SAFETY: `drop` runs in process context (module exit).
            unsafe { bindings::msleep(10) };
            waited += 1;
            if waited % 1000 == 0 {
                crate::pr_warn!(
                    "rustfilter: waiting for {} connections held by packets\n",
                    LIVE.load(Ordering::Relaxed)
                );
            }
        }
        // SAFETY: process context.
        unsafe { bindings::rcu_barrier() };
        // SAFETY: see `register`; the hook is ours by the type invariant.
        let hook: &AtomicPtr<bindings::nf_ct_hook> =
            unsafe { AtomicPtr::from_ptr(ptr::addr_of_mut!(bindings::nf_ct_hook).cast()) };
        hook.store(ptr::null_mut(), Ordering::Release);
        rcu::synchronize();
    }
}

/// A connection a packet is attached to, borrowed from the packet.
pub struct Attached<'a, T: Send + Sync + 'static> {
    ptr: NonNull<Inner<T>>,
    _skb: PhantomData<&'a SkBuff>,
}

impl<'a, T: Send + Sync + 'static> Attached<'a, T> {
    /// The connection's value.
    pub fn get(&self) -> &'a T {
        // SAFETY: the packet holds a reference for `'a`.
        unsafe { &(*self.ptr.as_ptr()).value }
    }

    /// A counted reference of our own.
    pub fn to_ct(&self) -> Ct<T> {
        // SAFETY: the packet holds a reference, so the count is not zero.
        unsafe { bindings::refcount_inc(self.ptr.as_ptr().cast()) };
        // INVARIANT: the reference just taken.
        Ct { ptr: self.ptr }
    }
}

impl SkBuff {
    #[inline]
    fn nfct_raw(&self) -> usize {
        // SAFETY: the skb is valid; `_nfct` is a plain word.
        unsafe { (*self.as_ptr())._nfct as usize }
    }

    /// The packet's ctinfo, if it has a connection or is untracked.
    pub fn ct_info(&self) -> Option<u8> {
        let raw = self.nfct_raw();
        (raw != 0).then_some((raw & INFO_MASK) as u8)
    }

    /// The connection the packet is attached to, with its ctinfo. `hook`
    /// proves every attached connection is a `T`.
    pub fn ct<'a, T: CtOps>(&'a self, _hook: &CtHook<T>) -> Option<(Attached<'a, T>, u8)> {
        let raw = self.nfct_raw();
        let p = NonNull::new((raw & !INFO_MASK) as *mut Inner<T>)?;
        // INVARIANT (of `Attached`): by the `CtHook` invariant `p` is an
        // `Inner<T>`, referenced by the packet.
        Some((
            Attached {
                ptr: p,
                _skb: PhantomData,
            },
            (raw & INFO_MASK) as u8,
        ))
    }

    /// Attaches the packet to `ct` as `info`, releasing what it was
    /// attached to before. `hook` proves that the kernel will free the
    /// reference through `T`'s operations.
    pub fn set_ct<T: CtOps>(&mut self, _hook: &CtHook<T>, ct: Ct<T>, info: u8) {
        let new = ct.ptr.as_ptr() as usize | usize::from(info) & INFO_MASK;
        core::mem::forget(ct);
        self.replace_nfct(new);
    }

    /// Marks the packet as not to be tracked (`IP_CT_UNTRACKED`),
    /// releasing any connection.
    pub fn set_untracked(&mut self) {
        self.replace_nfct(usize::from(ctinfo::UNTRACKED));
    }

    /// Detaches the packet from its connection, if any (`nf_reset_ct`).
    pub fn reset_ct(&mut self) {
        self.replace_nfct(0);
    }

    #[inline]
    fn replace_nfct(&mut self, new: usize) {
        let old = self.nfct_raw();
        // SAFETY: the skb is ours (`&mut`); the reference held through
        // `new` was handed to the packet by the caller.
        unsafe { (*self.as_ptr())._nfct = new as _ };
        let p = (old & !INFO_MASK) as *mut bindings::nf_conntrack;
        if !p.is_null() {
            // SAFETY: the packet held a reference on `p`; `nf_conntrack_put`
            // frees through `nf_ct_hook->destroy`, ours.
            unsafe { bindings::nf_conntrack_put(p) };
        }
    }
}

/// A random seed for hashing tuples.
pub fn random_seed() -> u32 {
    // SAFETY: callable from any context.
    unsafe { bindings::get_random_u32() }
}

/// Why [`Table::insert`] refused a connection.
#[derive(Debug, PartialEq, Eq)]
pub enum InsertError {
    /// It is already linked in a table.
    Linked,
    /// The `clash` function found an entry with the same tuple.
    Clash,
}

/// A hash table of connections, each linked twice: by its original tuple
/// and by its reply tuple. Readers walk the chains under RCU without
/// locks; writers take the table's lock.
///
/// # Invariants
///
/// Every node reachable from `buckets` belongs to a live `Inner<T>` whose
/// `linked` is set and on which the table holds one reference; a node is
/// only unlinked under `lock`, and its object is only freed a grace period
/// after its last reference is dropped.
#[pin_data(PinnedDrop)]
pub struct Table<T: CtOps> {
    buckets: KVVec<AtomicPtr<Node>>,
    #[pin]
    lock: SpinLock<()>,
    _t: PhantomData<T>,
}

impl<T: CtOps> Table<T> {
    /// An empty table of `buckets` chains (at least one).
    pub fn new(buckets: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            buckets: {
                let mut v = KVVec::with_capacity(buckets.max(1), GFP_KERNEL)?;
                for _ in 0..buckets.max(1) {
                    v.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
                }
                v
            },
            lock <- crate::new_spinlock!(()),
            _t: PhantomData,
        }? Error)
    }

    /// The number of chains.
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Chain `bucket` (below [`Table::buckets`]; the caller maps its
    /// hashes to chains).
    fn head(&self, bucket: usize) -> Option<&AtomicPtr<Node>> {
        self.buckets.get(bucket)
    }

    /// Walks chain `bucket` under `guard`, calling `f` with each connection
    /// and the direction (0 original, 1 reply) of the tuple linked there,
    /// until `f` returns `true`; returns that connection (counted) and
    /// direction. Connections being freed are skipped.
    pub fn find(
        &self,
        bucket: usize,
        _guard: &rcu::Guard,
        mut f: impl FnMut(&T, u8) -> bool,
    ) -> Option<(Ct<T>, u8)> {
        let mut node = self.head(bucket)?.load(Ordering::Acquire);
        while !node.is_null() {
            // SAFETY: by the type invariant `node` belongs to a live object,
            // which cannot be freed before `_guard` ends.
            let (inner, dir, next) = unsafe {
                let inner = Inner::<T>::from_node(node);
                (inner, (*node).dir, (*node).next.load(Ordering::Acquire))
            };
            // SAFETY: as above.
            let value = unsafe { &(*inner).value };
            if f(value, dir) {
                // SAFETY: the object is alive under `_guard`.
                if let Some(ct) = unsafe { Ct::try_get(inner) } {
                    return Some((ct, dir));
                }
            }
            node = next;
        }
        None
    }

    /// Calls `f` with every connection of chain `bucket` linked there by
    /// its original tuple (so each connection once over all chains).
    pub fn for_each_in(
        &self,
        bucket: usize,
        _guard: &rcu::Guard,
        mut f: impl FnMut(&T, &dyn Fn() -> Option<Ct<T>>),
    ) {
        let Some(head) = self.buckets.get(bucket) else {
            return;
        };
        let mut node = head.load(Ordering::Acquire);
        while !node.is_null() {
            // SAFETY: as in `find`.
            let (inner, dir, next) = unsafe {
                let inner = Inner::<T>::from_node(node);
                (inner, (*node).dir, (*node).next.load(Ordering::Acquire))
            };
            if dir == 0 {
                // SAFETY: as in `find`.
                let value = unsafe { &(*inner).value };
                let get = || {
                    // SAFETY: the object is alive under `_guard`.
                    unsafe { Ct::try_get(inner) }
                };
                f(value, &get);
            }
            node = next;
        }
    }

    /// Links `ct` by its original tuple in chain `buckets[0]` and by its
    /// reply tuple in chain `buckets[1]`, unless `clash` says a connection
    /// already linked in either chain (with the direction it is linked in)
    /// has the same tuple. The table takes a reference.
    pub fn insert(
        &self,
        ct: &Ct<T>,
        buckets: [usize; 2],
        mut clash: impl FnMut(&T, u8, u8) -> bool,
    ) -> Result<(), InsertError> {
        let _bh = bh::Guard::new();
        let _lock = self.lock.lock();
        let inner = ct.inner();
        if inner.linked.load(Ordering::Relaxed) {
            return Err(InsertError::Linked);
        }
        for (d, &b) in buckets.iter().enumerate() {
            let Some(head) = self.head(b) else {
                return Err(InsertError::Clash);
            };
            let mut node = head.load(Ordering::Acquire);
            while !node.is_null() {
                // SAFETY: linked nodes belong to live objects; we hold the
                // lock, so none is unlinked meanwhile.
                let (other, dir, next) = unsafe {
                    let o = Inner::<T>::from_node(node);
                    (
                        &(*o).value,
                        (*node).dir,
                        (*node).next.load(Ordering::Acquire),
                    )
                };
                if clash(other, dir, d as u8) {
                    return Err(InsertError::Clash);
                }
                node = next;
            }
        }
        // The table's reference.
        core::mem::forget(ct.clone());
        for (n, bucket) in inner.nodes.iter().zip(buckets) {
            // Checked in the loop above.
            let Some(head) = self.head(bucket) else {
                continue;
            };
            n.bucket.store(bucket as u32, Ordering::Relaxed);
            n.next
                .store(head.load(Ordering::Relaxed), Ordering::Relaxed);
            // Publish the fully set up node to readers.
            head.store(ptr::from_ref(n).cast_mut(), Ordering::Release);
        }
        inner.linked.store(true, Ordering::Release);
        Ok(())
    }

    /// Unlinks `ct` and drops the table's reference. Returns `false` if it
    /// was not linked (someone else removed it first).
    pub fn remove(&self, ct: &Ct<T>) -> bool {
        {
            let _bh = bh::Guard::new();
            let _lock = self.lock.lock();
            let inner = ct.inner();
            if !inner.linked.load(Ordering::Relaxed) {
                return false;
            }
            for n in &inner.nodes {
                let target = ptr::from_ref(n).cast_mut();
                let Some(mut link) = self.head(n.bucket.load(Ordering::Relaxed) as usize) else {
                    continue;
                };
                loop {
                    let cur = link.load(Ordering::Relaxed);
                    if cur.is_null() {
                        break;
                    }
                    if cur == target {
                        // Readers on `n` still find its successor.
                        link.store(n.next.load(Ordering::Relaxed), Ordering::Release);
                        break;
                    }
                    // SAFETY: a linked node of a live object, under the lock.
                    link = unsafe { &(*cur).next };
                }
            }
            inner.linked.store(false, Ordering::Release);
        }
        // SAFETY: the table's reference, given up.
        unsafe { put::<T>(ct.as_nfct()) };
        true
    }

    /// References to every linked connection, all taken at one instant
    /// (under the table's lock). `None` when there are more than
    /// `capacity`: ask again with more.
    pub fn snapshot(&self, capacity: usize) -> Result<Option<KVVec<Ct<T>>>> {
        let mut out = KVVec::with_capacity(capacity, GFP_KERNEL)?;
        let _bh = bh::Guard::new();
        let _lock = self.lock.lock();
        for head in self.buckets.iter() {
            let mut node = head.load(Ordering::Acquire);
            while !node.is_null() {
                // SAFETY: a linked node of a live object, under the lock.
                let (inner, dir, next) = unsafe {
                    let inner = Inner::<T>::from_node(node);
                    (inner, (*node).dir, (*node).next.load(Ordering::Acquire))
                };
                if dir == 0 {
                    if out.len() == out.capacity() {
                        return Ok(None);
                    }
                    // SAFETY: linked, so the table holds a reference and the
                    // count is not zero.
                    let ct = unsafe {
                        bindings::refcount_inc(ptr::addr_of_mut!((*inner.cast_mut()).general.use_));
                        Ct {
                            ptr: NonNull::new_unchecked(inner.cast_mut()),
                        }
                    };
                    // Within capacity: does not allocate.
                    if out.push(ct, GFP_ATOMIC).is_err() {
                        return Ok(None);
                    }
                }
                node = next;
            }
        }
        Ok(Some(out))
    }

    /// Unlinks every connection. Process context.
    pub fn clear(&self) {
        for b in 0..self.buckets.len() {
            loop {
                let guard = rcu::read_lock();
                let mut first = None;
                self.for_each_in(b, &guard, |_, get| {
                    if first.is_none() {
                        first = get();
                    }
                });
                drop(guard);
                let Some(ct) = first else {
                    break;
                };
                self.remove(&ct);
            }
        }
    }
}

#[pinned_drop]
impl<T: CtOps> PinnedDrop for Table<T> {
    fn drop(self: Pin<&mut Self>) {
        self.clear();
    }
}
