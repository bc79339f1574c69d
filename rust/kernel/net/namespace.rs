// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and per-namespace state.
//!
//! C headers: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h),
//! [`include/net/netns/generic.h`](srctree/include/net/netns/generic.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{from_result, to_result, Result},
    init::PinInit,
    net::netfilter,
    prelude::*,
    sync::Mutex,
    types::Opaque,
};
use core::{
    marker::PhantomData,
    pin::Pin,
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};

/// A network namespace (`struct net`), borrowed.
///
/// # Invariants
///
/// The namespace is alive (not yet dismantled) for the lifetime of the
/// reference.
#[repr(transparent)]
pub struct Net(Opaque<bindings::net>);

impl Net {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live network namespace that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Self {
        // SAFETY: `Net` is transparent over `struct net`; the caller
        // guarantees liveness for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer.
    pub fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// Whether this is the initial network namespace.
    pub fn is_init_net(&self) -> bool {
        // Only the address of the `init_net` static is taken.
        core::ptr::eq(self.0.get(), core::ptr::addr_of_mut!(bindings::init_net))
    }

    /// Whether a local socket of this namespace takes packets of
    /// `protocol` (TCP or UDP) from `saddr`:`sport` to `daddr`:`dport`
    /// (ports in host order): a TCP listener or a bound UDP socket on a
    /// local address. False for other protocols and non-local addresses.
    pub fn local_socket_bound(
        &self,
        protocol: u8,
        saddr: [u8; 4],
        sport: u16,
        daddr: [u8; 4],
        dport: u16,
    ) -> bool {
        // SAFETY: the namespace is valid (type invariant); the helper does
        // its lookups under the RCU read lock and keeps no reference.
        unsafe {
            bindings::local_socket_bound(
                self.as_ptr(),
                protocol,
                u32::from_ne_bytes(saddr),
                sport.to_be(),
                u32::from_ne_bytes(daddr),
                dport.to_be(),
            )
        }
    }
}

/// State kept for every network namespace, created when a namespace
/// appears (or when the [`Registration`] is made, for namespaces that
/// already exist) and dropped when it goes away.
///
/// It may also ask for IPv4 netfilter hooks in every namespace, in groups:
/// group [`HookSpec::ALWAYS`] (and any other [`PernetState::initial_groups`]
/// names) is registered right after the state is created, another group
/// when [`Registration::enable_hooks`] asks for it in a namespace; all are
/// unregistered before the state is dropped, so a hook always sees live
/// state and never outlives its namespace.
///
/// [`HookSpec::ALWAYS`]: netfilter::HookSpec::ALWAYS
pub trait PernetState: Send + Sync + Sized + 'static {
    /// Where the kernel keeps this state's slot number; declare one
    /// `static ID: PernetId = PernetId::new();` per state type and return it.
    fn id() -> &'static PernetId;

    /// The IPv4 netfilter hooks to register in every namespace: those of
    /// group [`HookSpec::ALWAYS`] with the state, the others by group on
    /// demand ([`Registration::enable_hooks`]). Groups are below
    /// [`HookSpec::GROUPS`] (checked at build time).
    ///
    /// [`HookSpec::ALWAYS`]: netfilter::HookSpec::ALWAYS
    /// [`HookSpec::GROUPS`]: netfilter::HookSpec::GROUPS
    const NF_HOOKS: &'static [netfilter::HookSpec] = &[];

    /// What the states of all namespaces share, given to
    /// [`Registration::new`] and kept by it.
    type Shared: Send + Sync + 'static;

    /// Creates the state of namespace `net`.
    fn init(net: &Net, shared: &Self::Shared) -> impl PinInit<Self, Error>;

    /// The groups of [`PernetState::NF_HOOKS`] to register right after the
    /// state is created, as a bit mask (bit `g`: group `g`): by default
    /// group [`HookSpec::ALWAYS`] only. A state can add groups that a
    /// setting of the module turns on everywhere.
    ///
    /// [`HookSpec::ALWAYS`]: netfilter::HookSpec::ALWAYS
    fn initial_groups(&self) -> u32 {
        1 << netfilter::HookSpec::ALWAYS
    }

    /// When [`PernetState::periodic`] first runs for a new namespace, in
    /// milliseconds; `None`: never.
    const PERIODIC_MS: Option<u32> = None;

    /// Runs in process context for each namespace while its state exists,
    /// first [`PernetState::PERIODIC_MS`] after it is created, then after
    /// the delay (milliseconds) each run returns; `None` stops it. It never
    /// runs after the namespace's `pre_exit` began.
    fn periodic(&self, _net: &Net) -> Option<u32> {
        None
    }

    /// Whether [`PernetState::device_event`] is to be called.
    const DEVICE_EVENTS: bool = false;

    /// A device of namespace `net` went down or lost an IPv4 address
    /// (netdevice and inetaddr notifiers). Runs in process context with the
    /// RTNL held.
    fn device_event(&self, _net: &Net, _event: DeviceEvent) {}

    /// The name of a file in each namespace's `/proc/net/netfilter/`
    /// whose contents [`PernetState::proc_show`] writes; `None`: no file.
    const PROC_NETFILTER: Option<&'static crate::str::CStr> = None;

    /// Writes the contents of the [`PernetState::PROC_NETFILTER`] file when
    /// it is read. Process context.
    fn proc_show(&self, _net: &Net, _out: &mut SeqFile<'_>) {}

    /// The hook function for every hook in [`PernetState::NF_HOOKS`];
    /// `index` is the position of the hook in that list (whatever its
    /// group). Each hook is entered through a function of its own with
    /// `index` a constant: an implementation marked `#[inline(always)]`
    /// has its dispatch on `index` done at build time.
    fn hook(
        &self,
        _index: usize,
        _skb: &mut super::skbuff::SkBuff,
        _state: &netfilter::HookState,
    ) -> netfilter::Verdict {
        netfilter::Verdict::ACCEPT
    }
}

/// A `/proc` file being read (`struct seq_file`): text written to it is
/// what the reader gets.
pub struct SeqFile<'a> {
    seq: *mut bindings::seq_file,
    _p: PhantomData<&'a mut bindings::seq_file>,
}

impl core::fmt::Write for SeqFile<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: `seq` is the file being read, valid for `'a`; `seq_write`
        // copies `s` (or marks the file as overflowed, to be retried with
        // a larger buffer).
        unsafe { bindings::seq_write(self.seq, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

/// What [`PernetState::device_event`] is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The device with this index went down (`NETDEV_DOWN`).
    Down {
        /// Its index.
        ifindex: i32,
    },
    /// The device lost an IPv4 address (`NETDEV_DOWN` of an `in_ifaddr`).
    AddressRemoved {
        /// Its index.
        ifindex: i32,
        /// The address (`ifa_address`: the local address, or on a
        /// point-to-point link the peer's), network order.
        addr: [u8; 4],
    },
}

/// The slot number the kernel assigns to a [`Registration`] (the C
/// `pernet_operations.id`), kept in a `static` because the kernel's per-net
/// callbacks are only given the namespace.
///
/// # Invariants
///
/// `id` is written by the kernel only inside `register_pernet_subsys` while
/// `in_use` is held by the registering [`Registration`].
pub struct PernetId {
    id: Opaque<core::ffi::c_uint>,
    in_use: AtomicBool,
    /// The registration's `shared`, for the callbacks.
    shared: AtomicPtr<()>,
}

// SAFETY: `id` is written once during registration, before any reader can
// run (pernet callbacks and `Registration::get` run after the write), and
// `in_use` is atomic.
unsafe impl Sync for PernetId {}

impl PernetId {
    /// A slot number not yet assigned.
    pub const fn new() -> Self {
        Self {
            id: Opaque::new(0),
            in_use: AtomicBool::new(false),
            shared: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    fn get(&self) -> core::ffi::c_uint {
        // SAFETY: see the `Sync` impl: no concurrent writer.
        unsafe { *self.id.get() }
    }
}

impl Default for PernetId {
    fn default() -> Self {
        Self::new()
    }
}

/// The slot of namespace `net` for the state registered with `id`.
///
/// # Safety
///
/// The registration owning `id` must be registered and `net` alive.
unsafe fn slot<T: PernetState>(net: *mut bindings::net) -> *mut *mut NetData<T> {
    // SAFETY: by the caller's guarantee the slot exists for this namespace.
    unsafe { bindings::net_generic(net, T::id().get()).cast() }
}

/// The data of namespace `net`, or null while it has none: the kernel
/// gives a namespace the slot's memory only around `init` (none before it
/// ran, none again after it failed), and `exit_cb` clears the slot.
///
/// # Safety
///
/// As for [`slot`].
unsafe fn data_of<T: PernetState>(net: *mut bindings::net) -> *mut NetData<T> {
    // SAFETY: per the caller's guarantee.
    let slot = unsafe { slot::<T>(net) };
    if slot.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: a non-null slot is the namespace's memory for this
    // registration, holding null or a `NetData<T>`.
    unsafe { *slot }
}

/// What one namespace's slot points to.
///
/// # Invariants
///
/// `work` is the first field (a pointer to its `work_struct` is a pointer
/// to the `NetData`), initialised with `periodic_cb::<T>`, and cancelled in
/// `pre_exit`; `net` is the namespace, alive while the `NetData` is.
#[repr(C)]
struct NetData<T: PernetState> {
    work: Opaque<bindings::delayed_work>,
    net: *mut bindings::net,
    /// The hooks registered (those of [`PernetState::initial_groups`] in
    /// `init`, others by [`Registration::enable_hooks`]); taken out and
    /// unregistered in `pre_exit`, before `state` goes. The mutex
    /// serialises registrations.
    hooks: Pin<KBox<Mutex<netfilter::NetHooks>>>,
    state: Pin<KBox<T>>,
}

/// The registration of per-namespace state `T` (`register_pernet_subsys`).
///
/// # Invariants
///
/// While `registered` is true, `ops` is registered with the kernel, and the
/// net-generic slot `id` of every live namespace holds a pointer produced by
/// `KBox::into_raw` for a `NetData<T>` of that namespace.
#[pin_data(PinnedDrop)]
pub struct Registration<T: PernetState> {
    #[pin]
    ops: Opaque<bindings::pernet_operations>,
    registered: bool,
    /// The netdevice and inetaddr notifiers, registered while `notifiers`
    /// is true (with [`PernetState::DEVICE_EVENTS`]).
    #[pin]
    netdev_nb: Opaque<bindings::notifier_block>,
    #[pin]
    inetaddr_nb: Opaque<bindings::notifier_block>,
    notifiers: bool,
    /// Pointed to by `T::id().shared` while registered.
    shared: T::Shared,
    _t: PhantomData<T>,
}

// SAFETY: the C side serialises pernet callbacks; the Rust side only reads
// `id` after registration and `T` is `Send + Sync`.
unsafe impl<T: PernetState> Send for Registration<T> {}
// SAFETY: see `Send`.
unsafe impl<T: PernetState> Sync for Registration<T> {}

impl<T: PernetState> Registration<T> {
    /// Every group of `T::NF_HOOKS` can be registered.
    const HOOK_GROUPS_OK: () = {
        assert!(
            T::NF_HOOKS.len() <= netfilter::MAX_HOOKS,
            "NF_HOOKS lists more hooks than netfilter::MAX_HOOKS"
        );
        let mut i = 0;
        while i < T::NF_HOOKS.len() {
            assert!(
                T::NF_HOOKS[i].group < netfilter::HookSpec::GROUPS,
                "a hook group of NF_HOOKS is not below HookSpec::GROUPS"
            );
            i += 1;
        }
    };

    /// Registers `T` for every network namespace, existing and future,
    /// each state created with `shared`.
    ///
    /// Fails with `EBUSY` if `T` is registered already.
    pub fn new(shared: T::Shared) -> Result<Pin<KBox<Self>>> {
        // Evaluated at build time, once per `T`.
        let () = Self::HOOK_GROUPS_OK;
        if T::id().in_use.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // Released again on every error path below and in `drop`.
        let guard =
            crate::types::ScopeGuard::new(|| T::id().in_use.store(false, Ordering::Release));
        let mut this = KBox::pin(
            Self {
                // SAFETY: an all-zero `pernet_operations` is valid (no
                // callbacks, no id, size 0); it is filled in below.
                ops: Opaque::new(unsafe { core::mem::zeroed() }),
                registered: false,
                // SAFETY: an all-zero `notifier_block` is valid (no
                // callback); the callback is set before registration.
                netdev_nb: Opaque::new(unsafe { core::mem::zeroed() }),
                // SAFETY: as above.
                inetaddr_nb: Opaque::new(unsafe { core::mem::zeroed() }),
                notifiers: false,
                shared,
                _t: PhantomData,
            },
            GFP_KERNEL,
        )?;
        // The callbacks find `shared` through the id; it is pinned with
        // `this` and outlives the registration.
        T::id().shared.store(
            core::ptr::from_ref(&this.shared).cast_mut().cast(),
            Ordering::Release,
        );
        let ops = this.ops.get();
        // SAFETY: `ops` points to our pinned, not yet registered operations;
        // `id` and `size` are `const` in C, hence written through raw
        // pointers before the structure is shared.
        unsafe {
            (*ops).init = Some(Self::init_cb);
            (*ops).pre_exit = Some(Self::pre_exit_cb);
            (*ops).exit = Some(Self::exit_cb);
            core::ptr::addr_of_mut!((*ops).id)
                .cast::<*mut core::ffi::c_uint>()
                .write(T::id().id.get());
            core::ptr::addr_of_mut!((*ops).size)
                .cast::<usize>()
                .write(core::mem::size_of::<*mut NetData<T>>());
        }
        // SAFETY: `ops` is fully initialised and pinned for as long as it
        // stays registered (until `drop`). `init_cb` runs for every existing
        // namespace before this returns.
        to_result(unsafe { bindings::register_pernet_subsys(ops) })?;
        // SAFETY: not moving out of the pinned object, only setting a flag.
        // INVARIANT: registration succeeded.
        unsafe { Pin::get_unchecked_mut(this.as_mut()) }.registered = true;
        guard.dismiss();
        if T::DEVICE_EVENTS {
            // SAFETY: the blocks are pinned in `this` and not registered yet.
            unsafe {
                (*this.netdev_nb.get()).notifier_call = Some(Self::netdev_cb);
                (*this.inetaddr_nb.get()).notifier_call = Some(Self::inetaddr_cb);
            }
            // SAFETY: the blocks stay pinned until `drop` unregisters them;
            // the callbacks only use namespaces' slots, which are valid while
            // the pernet registration above is.
            to_result(unsafe { bindings::register_netdevice_notifier(this.netdev_nb.get()) })?;
            // SAFETY: as above.
            let err = unsafe { bindings::register_inetaddr_notifier(this.inetaddr_nb.get()) };
            if err != 0 {
                // SAFETY: registered just above.
                unsafe { bindings::unregister_netdevice_notifier(this.netdev_nb.get()) };
                return Err(Error::from_errno(err));
            }
            // SAFETY: not moving out of the pinned object, only setting a flag.
            unsafe { Pin::get_unchecked_mut(this.as_mut()) }.notifiers = true;
        }
        Ok(this)
    }

    /// Passes `event` to the state of `net`, if it has one (a namespace
    /// whose `init` has not finished has none).
    ///
    /// # Safety
    ///
    /// `net` is alive and the registration is registered.
    unsafe fn device_event(net: *mut bindings::net, event: DeviceEvent) {
        // SAFETY: by the caller's guarantee the slot exists; it holds null
        // or a `NetData<T>` that lives until the namespace's `exit`, after
        // all its devices are gone.
        let data = unsafe { data_of::<T>(net) };
        if !data.is_null() {
            // SAFETY: as above; `net` is alive.
            unsafe { (*data).state.device_event(Net::from_raw(net), event) };
        }
    }

    unsafe extern "C" fn netdev_cb(
        _nb: *mut bindings::notifier_block,
        event: usize,
        ptr: *mut core::ffi::c_void,
    ) -> core::ffi::c_int {
        if event as u32 == bindings::netdev_cmd_NETDEV_DOWN {
            let mut ifindex = 0;
            // SAFETY: `ptr` is the event's `netdev_notifier_info`.
            let net = unsafe { bindings::netdev_event_dev(ptr, &mut ifindex) };
            // SAFETY: the device, hence its namespace, is alive during the
            // call; the notifier is registered only while we are.
            unsafe { Self::device_event(net, DeviceEvent::Down { ifindex }) };
        }
        bindings::NOTIFY_DONE as core::ffi::c_int
    }

    unsafe extern "C" fn inetaddr_cb(
        _nb: *mut bindings::notifier_block,
        event: usize,
        ptr: *mut core::ffi::c_void,
    ) -> core::ffi::c_int {
        if event as u32 == bindings::netdev_cmd_NETDEV_DOWN {
            let (mut ifindex, mut addr) = (0, 0);
            // SAFETY: `ptr` is the event's `in_ifaddr`.
            let net = unsafe { bindings::inetaddr_event(ptr, &mut ifindex, &mut addr) };
            let event = DeviceEvent::AddressRemoved {
                ifindex,
                addr: addr.to_ne_bytes(),
            };
            // SAFETY: as in `netdev_cb`.
            unsafe { Self::device_event(net, event) };
        }
        bindings::NOTIFY_DONE as core::ffi::c_int
    }

    /// The state of namespace `net`.
    pub fn get<'a>(&'a self, net: &'a Net) -> &'a T {
        // SAFETY: `self` is registered (it only exists registered once `new`
        // returned) so the slot of the live namespace `net` holds a valid
        // `NetData<T>` that lives until the namespace's `exit`, which cannot
        // happen while `net` is borrowed.
        unsafe { &(**slot::<T>(net.as_ptr())).state }
    }

    /// The state of namespace `net`, or `None` while it has none: before
    /// its `init` finished, after it failed, or after its `exit` began
    /// (callers that may see a namespace at those times: global callbacks
    /// such as a queue handler's, which the kernel calls for any
    /// namespace, including one whose setup is being undone).
    pub fn try_get<'a>(&'a self, net: &'a Net) -> Option<&'a T> {
        // SAFETY: the registration is registered and `net` alive; `data_of`
        // gives null or a `NetData<T>` that lives until the namespace's
        // `exit` clears the slot, and `exit` runs only once nothing can
        // reach the namespace any more.
        let data = unsafe { data_of::<T>(net.as_ptr()) };
        // SAFETY: as above.
        (!data.is_null()).then(|| unsafe { &*(*data).state })
    }

    /// Registers the hooks of group `group` of [`PernetState::NF_HOOKS`] in
    /// namespace `net`, unless they are registered there already; they stay
    /// until the namespace goes (or the registration is dropped). Calls for
    /// one namespace are serialised. Process context: sleeps.
    ///
    /// Registering drops the packets of the namespace waiting in the
    /// netfilter queue, as unregistering a hook does: the positions of the
    /// hook functions they would resume at may have moved.
    ///
    /// Fails with `ENOENT` while `net` has no state (see
    /// [`Registration::try_get`]), `ENODEV` once its `pre_exit` began,
    /// `EINVAL` for a group not below [`HookSpec::GROUPS`], or with the
    /// error of the registration, which then leaves none of the group's
    /// hooks registered.
    ///
    /// [`HookSpec::GROUPS`]: netfilter::HookSpec::GROUPS
    pub fn enable_hooks(&self, net: &Net, group: u8) -> Result {
        // SAFETY: the registration is registered and `net` alive; `data_of`
        // gives null or a `NetData<T>` that lives until the namespace's
        // `exit`, which cannot run while `net` is borrowed.
        let data = unsafe { data_of::<T>(net.as_ptr()) };
        if data.is_null() {
            return Err(ENOENT);
        }
        // SAFETY: as above.
        let data = unsafe { &*data };
        let state: *const T = &*data.state;
        // SAFETY: the state is pinned and outlives the hooks: `pre_exit_cb`
        // takes them out (closing `hooks` to further registrations) and
        // unregisters them, waiting for running hook functions, before
        // `exit_cb` drops the state.
        unsafe { data.hooks.lock().enable::<T>(group, state) }
    }

    unsafe extern "C" fn init_cb(net: *mut bindings::net) -> core::ffi::c_int {
        from_result(|| {
            // SAFETY: the kernel calls `init` with a namespace that stays
            // alive at least until `exit`.
            let net_ref = unsafe { Net::from_raw(net) };
            // SAFETY: set by `new` before registering; the registration,
            // which owns it, outlives every callback.
            let shared = unsafe { &*T::id().shared.load(Ordering::Acquire).cast::<T::Shared>() };
            let state = KBox::pin_init(T::init(net_ref, shared), GFP_KERNEL)?;
            // SAFETY: the hooks are dropped in `pre_exit_cb` (or with
            // `data`, on a failure below), before the namespace is
            // dismantled.
            let hooks = unsafe { netfilter::NetHooks::new(net_ref) };
            let data = KBox::new(
                NetData {
                    work: Opaque::uninit(),
                    net,
                    hooks: KBox::pin_init(crate::new_mutex!(hooks), GFP_KERNEL)?,
                    state,
                },
                GFP_KERNEL,
            )?;
            // SAFETY: the work lives in the heap object, which does not
            // move until `exit_cb` frees it, after `pre_exit_cb` cancelled
            // the work.
            unsafe { bindings::init_delayed_work(data.work.get(), Some(Self::periodic_cb)) };
            let ptr: *const T = &*data.state;
            let groups = data.state.initial_groups();
            for group in (0..netfilter::HookSpec::GROUPS).filter(|g| groups & (1 << g) != 0) {
                // SAFETY: `ptr` is pinned state that outlives the hooks:
                // they are unregistered in `pre_exit_cb` before `exit_cb`
                // drops it, or, when a group fails here, with `data`, whose
                // `hooks` drops before its `state` (field order).
                unsafe { data.hooks.lock().enable::<T>(group, ptr)? };
            }
            let data = KBox::into_raw(data);
            // SAFETY: the net-generic slot of this registration was allocated
            // with room for one pointer before `init` is called.
            unsafe { *slot::<T>(net) = data };
            if let Some(name) = T::PROC_NETFILTER {
                // SAFETY: the directory belongs to the live namespace; the
                // file's data is `data`, which outlives it (`exit_cb`
                // removes the file, waiting for readers, before freeing).
                let pde = unsafe {
                    bindings::proc_create_net_single(
                        name.as_char_ptr(),
                        0o444,
                        bindings::net_proc_netfilter(net),
                        Some(Self::proc_show_cb),
                        data.cast(),
                    )
                };
                if pde.is_null() {
                    crate::pr_warn!("no /proc/net/netfilter/{} in a namespace\n", name);
                }
            }
            if let Some(ms) = T::PERIODIC_MS {
                // SAFETY: initialised above; cancelled in `pre_exit_cb`.
                unsafe { bindings::schedule_delayed_work_ms((*data).work.get(), ms) };
            }
            Ok(0)
        })
    }

    unsafe extern "C" fn pre_exit_cb(net: *mut bindings::net) {
        // SAFETY: `init_cb` succeeded for this namespace, so its slot holds a
        // `NetData<T>`; callbacks of one namespace do not run concurrently.
        // Stops the periodic work (waiting for a run in progress; a run
        // that re-arms itself is cancelled too), then unregisters the hooks
        // of every group (waiting for running hook functions) and closes
        // the set to `enable_hooks`.
        unsafe {
            let data = &**slot::<T>(net);
            bindings::cancel_delayed_work_sync(data.work.get());
            let hooks = data.hooks.lock().take();
            drop(hooks);
        }
    }

    unsafe extern "C" fn periodic_cb(work: *mut bindings::work_struct) {
        // SAFETY: `work` is the first field of a live `NetData<T>` (type
        // invariant): the work is cancelled before the data goes.
        let data = unsafe { &*work.cast::<NetData<T>>() };
        // SAFETY: the namespace is alive while its data is.
        let net = unsafe { Net::from_raw(data.net) };
        if let Some(ms) = data.state.periodic(net) {
            // SAFETY: as in `init_cb`; `cancel_delayed_work_sync` copes
            // with a work that queues itself again.
            unsafe { bindings::schedule_delayed_work_ms(data.work.get(), ms) };
        }
    }

    unsafe extern "C" fn proc_show_cb(
        seq: *mut bindings::seq_file,
        _v: *mut core::ffi::c_void,
    ) -> core::ffi::c_int {
        // SAFETY: the file was created by `init_cb` with a `NetData<T>` as
        // its data, which lives until `exit_cb` removed the file (waiting
        // for this call); `seq->private` is the namespace, referenced by
        // the open file (`single_open_net`).
        unsafe {
            let data = bindings::seq_pde_data(seq).cast::<NetData<T>>();
            let net = Net::from_raw((*seq).private.cast());
            let mut out = SeqFile {
                seq,
                _p: PhantomData,
            };
            (*data).state.proc_show(net, &mut out);
        }
        0
    }

    unsafe extern "C" fn exit_cb(net: *mut bindings::net) {
        // SAFETY: as in `pre_exit_cb`; the pointer came from `KBox::into_raw`
        // and is not used after this.
        unsafe {
            if let Some(name) = T::PROC_NETFILTER {
                // Waits for readers in `proc_show_cb`.
                bindings::remove_proc_entry(name.as_char_ptr(), bindings::net_proc_netfilter(net));
            }
            let slot = slot::<T>(net);
            let data = *slot;
            *slot = core::ptr::null_mut();
            drop(KBox::from_raw(data));
        }
    }
}

#[pinned_drop]
impl<T: PernetState> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if self.notifiers {
            // SAFETY: registered by `new`; after these return no callback
            // runs or will run.
            unsafe {
                bindings::unregister_inetaddr_notifier(self.inetaddr_nb.get());
                bindings::unregister_netdevice_notifier(self.netdev_nb.get());
            }
        }
        if self.registered {
            // SAFETY: registered by `new` (type invariant); this runs `pre_exit`
            // and `exit` for every namespace.
            unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
            T::id().in_use.store(false, Ordering::Release);
        }
    }
}
