// SPDX-License-Identifier: GPL-2.0

//! Per-namespace state and the hook functions run at the IPv4 hooks.
//!
//! Hooks are registered in groups, on demand, as upstream registers a
//! table's hooks when the table is instantiated and conntrack's when a user
//! needs it, and stay until the namespace goes:
//!
//! - with the module loaded `hook_stats=1`, a counting hook at each of the
//!   five hooks (`NF_IP_PRI_FIRST`), in every namespace from its start: the
//!   packets, bytes and malformed IPv4 headers `rfctl stats` reports. Off
//!   by default, as upstream's per-connection accounting
//!   (`nf_conntrack_acct`) is: every packet would pay for them;
//! - the hooks of the raw (-300), mangle (-150) and filter (0) tables, when
//!   the table's first ruleset is committed;
//! - connection tracking at PREROUTING and OUTPUT (-200), and its
//!   confirmation at INPUT and POSTROUTING (`NF_IP_PRI_CONNTRACK_CONFIRM`,
//!   last), when a committed table needs tracking
//!   (`Compiled::needs_conntrack`: a NAT, CT or CONNMARK target, a
//!   conntrack, state or connmark match);
//! - the nat hooks (`NetState::nat`), when the nat table's first ruleset
//!   is committed: destination NAT at PREROUTING and OUTPUT (-100), source
//!   NAT at INPUT and POSTROUTING (100). They walk the nat table only for
//!   the first packet of a connection and translate every packet of a
//!   bound connection.
//!
//! `netlink::commit` registers them ([`NetState::enable_hooks`]) before it
//! publishes the table. A namespace without a ruleset so runs no hook of
//! rustfilter's, or only the counting hooks, each of which reads the 20
//! bytes of the IPv4 header.

use crate::conntrack::{CtNet, Tracker};
use crate::counters::Counters;
use crate::ct::status::IPS_CONFIRMED;
use crate::napt;
use crate::packet;
use crate::proto::Hook;
use crate::rules::TableKind;
use crate::tables::{self, Slot};
use kernel::net::conntrack::{self, ctinfo};
use kernel::net::genetlink::Multicaster;
use kernel::net::namespace::{DeviceEvent, Net, PernetId, PernetState, Registration};
use kernel::net::netfilter::{priority, HookSpec, HookState, InetHook, Verdict};
use kernel::net::skbuff::SkBuff;
use kernel::prelude::*;
use kernel::sync::rcu::RcuBox;
use kernel::sync::{Arc, Mutex};

/// Counters kept per hook.
const PACKETS: usize = 0;
const BYTES: usize = 1;
const MALFORMED: usize = 2;
const PER_HOOK: usize = 3;
const COUNTERS: usize = Hook::COUNT * PER_HOOK;

/// The counters of one hook, summed over all CPUs.
#[derive(Clone, Copy, Default)]
pub(crate) struct HookStats {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) malformed: u64,
}

/// A table replacement in progress, owned by one netlink socket.
pub(crate) struct Txn {
    pub(crate) portid: u32,
    /// Order of creation, to find the oldest.
    pub(crate) seq: u64,
    pub(crate) kind: TableKind,
    /// The generation the editor read; the commit fails if it changed.
    pub(crate) expect: Option<u32>,
    pub(crate) buf: KVVec<u8>,
}

/// Most transactions open at once in a namespace; a new one beyond that
/// discards the oldest (its socket is probably gone).
pub(crate) const MAX_TXNS: usize = 16;

/// The open transactions of a namespace, one per socket at most.
pub(crate) struct Txns {
    slots: [Option<Txn>; MAX_TXNS],
    next_seq: u64,
}

impl Txns {
    fn new() -> Self {
        Txns {
            slots: [const { None }; MAX_TXNS],
            next_seq: 0,
        }
    }

    /// The transaction of socket `portid`.
    pub(crate) fn get_mut(&mut self, portid: u32) -> Option<&mut Txn> {
        self.slots.iter_mut().flatten().find(|t| t.portid == portid)
    }

    /// Ends and returns the transaction of socket `portid`.
    pub(crate) fn take(&mut self, portid: u32) -> Option<Txn> {
        self.slots
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|t| t.portid == portid))
            .and_then(Option::take)
    }

    /// Opens a transaction, replacing the socket's previous one, or the
    /// oldest when all slots are taken.
    pub(crate) fn open(&mut self, mut txn: Txn) {
        drop(self.take(txn.portid));
        txn.seq = self.next_seq;
        self.next_seq += 1;
        // A free slot, or else the oldest transaction's.
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or_else(|| {
                self.slots
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| s.as_ref().map_or(0, |t| t.seq))
                    .map_or(0, |(i, _)| i)
            });
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(txn);
        }
    }
}

/// rustfilter's state in one network namespace.
#[pin_data]
pub(crate) struct NetState {
    #[pin]
    counters: Counters,
    /// One per entry of `tables::KINDS`.
    pub(crate) tables: [RcuBox<Slot>; 4],
    /// Open transactions.
    #[pin]
    pub(crate) txns: Mutex<Txns>,
    /// Connection tracking.
    pub(crate) ct: Arc<CtNet>,
    pub(crate) tracker: Arc<Tracker>,
    /// Whether the counting hooks are registered (`hook_stats`).
    stats: bool,
}

/// What the states of all namespaces share.
pub(crate) struct Shared {
    /// The connection tracker.
    pub(crate) tracker: Arc<Tracker>,
    /// The netlink family's event sender.
    pub(crate) events: Arc<Multicaster>,
    /// The maximum of connections a new namespace starts with.
    pub(crate) ct_max: usize,
    /// Whether every namespace counts packets at each hook (the module's
    /// `hook_stats`).
    pub(crate) hook_stats: bool,
}

static NET_ID: PernetId = PernetId::new();

const fn spec(hook: InetHook, priority: i32) -> HookSpec {
    HookSpec::new(hook, priority)
}

/// The groups of `NF_HOOKS` (`HookSpec::group`): the hooks of the table
/// with index `t` in `tables::KINDS` form group `TABLE_GROUP + t`;
/// tracking's group `CT_GROUP`; the counting hooks `STATS_GROUP`.
const TABLE_GROUP: u8 = 1;
const CT_GROUP: u8 = TABLE_GROUP + tables::KINDS.len() as u8;
const STATS_GROUP: u8 = CT_GROUP + 1;

/// A hook of the table with index `t` in `tables::KINDS`.
const fn table_spec(t: usize, hook: InetHook, priority: i32) -> HookSpec {
    spec(hook, priority).in_group(TABLE_GROUP + t as u8)
}

/// A hook of connection tracking.
const fn ct_spec(hook: InetHook, priority: i32) -> HookSpec {
    spec(hook, priority).in_group(CT_GROUP)
}

/// A counting hook.
const fn stats_spec(hook: InetHook) -> HookSpec {
    spec(hook, priority::FIRST).in_group(STATS_GROUP)
}

// The table indices written in `NF_HOOKS` and `TABLE_HOOKS` are those of
// `tables::KINDS`.
const _: () = assert!(
    matches!(tables::KINDS[FILTER], TableKind::Filter)
        && matches!(tables::KINDS[MANGLE], TableKind::Mangle)
        && matches!(tables::KINDS[RAW], TableKind::Raw)
        && matches!(tables::KINDS[NAT], TableKind::Nat)
);
const FILTER: usize = 0;
const MANGLE: usize = 1;
const RAW: usize = 2;
const NAT: usize = 3;

/// The counting hooks are entries 0..5 of `NF_HOOKS`; after them, one entry
/// per (table, hook) of `TABLE_HOOKS`.
const TABLE_HOOKS: [(usize, Hook); 10] = [
    (RAW, Hook::PreRouting),
    (RAW, Hook::LocalOut),
    (MANGLE, Hook::PreRouting),
    (MANGLE, Hook::LocalIn),
    (MANGLE, Hook::Forward),
    (MANGLE, Hook::LocalOut),
    (MANGLE, Hook::PostRouting),
    (FILTER, Hook::LocalIn),
    (FILTER, Hook::Forward),
    (FILTER, Hook::LocalOut),
];

/// After the table hooks: connection tracking at PREROUTING and OUTPUT,
/// confirmation at INPUT and POSTROUTING.
const CT_TRACK: usize = Hook::COUNT + TABLE_HOOKS.len();
const CT_CONFIRM: usize = CT_TRACK + 2;
/// After them, the nat table's hooks: PREROUTING, OUTPUT, INPUT,
/// POSTROUTING.
const NAT_HOOKS: usize = CT_CONFIRM + 2;
const NAT_HOOK_POINTS: [Hook; 4] = [
    Hook::PreRouting,
    Hook::LocalOut,
    Hook::LocalIn,
    Hook::PostRouting,
];

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &NET_ID
    }

    const NF_HOOKS: &'static [HookSpec] = &[
        // counting, with hook_stats
        stats_spec(InetHook::PreRouting),
        stats_spec(InetHook::LocalIn),
        stats_spec(InetHook::Forward),
        stats_spec(InetHook::LocalOut),
        stats_spec(InetHook::PostRouting),
        // raw
        table_spec(RAW, InetHook::PreRouting, priority::RAW),
        table_spec(RAW, InetHook::LocalOut, priority::RAW),
        // mangle
        table_spec(MANGLE, InetHook::PreRouting, priority::MANGLE),
        table_spec(MANGLE, InetHook::LocalIn, priority::MANGLE),
        table_spec(MANGLE, InetHook::Forward, priority::MANGLE),
        table_spec(MANGLE, InetHook::LocalOut, priority::MANGLE),
        table_spec(MANGLE, InetHook::PostRouting, priority::MANGLE),
        // filter
        table_spec(FILTER, InetHook::LocalIn, priority::FILTER),
        table_spec(FILTER, InetHook::Forward, priority::FILTER),
        table_spec(FILTER, InetHook::LocalOut, priority::FILTER),
        // conntrack (CT_TRACK, CT_CONFIRM)
        ct_spec(InetHook::PreRouting, priority::CONNTRACK),
        ct_spec(InetHook::LocalOut, priority::CONNTRACK),
        ct_spec(InetHook::LocalIn, priority::CONNTRACK_CONFIRM),
        ct_spec(InetHook::PostRouting, priority::CONNTRACK_CONFIRM),
        // nat (NAT_HOOKS)
        table_spec(NAT, InetHook::PreRouting, priority::NAT_DST),
        table_spec(NAT, InetHook::LocalOut, priority::NAT_DST),
        table_spec(NAT, InetHook::LocalIn, priority::NAT_SRC),
        table_spec(NAT, InetHook::PostRouting, priority::NAT_SRC),
    ];

    type Shared = Shared;

    const PERIODIC_MS: Option<u32> = Some(crate::conntrack::GC_INTERVAL_MS);

    fn init(_net: &Net, shared: &Shared) -> impl PinInit<Self, Error> {
        let ct = Arc::pin_init(
            CtNet::new(
                conntrack::random_seed(),
                shared.events.clone(),
                shared.ct_max,
            ),
            GFP_KERNEL,
        );
        try_pin_init!(NetState {
            counters <- Counters::new(COUNTERS),
            tables: [
                RcuBox::new(KBox::new(Slot::empty(), GFP_KERNEL)?),
                RcuBox::new(KBox::new(Slot::empty(), GFP_KERNEL)?),
                RcuBox::new(KBox::new(Slot::empty(), GFP_KERNEL)?),
                RcuBox::new(KBox::new(Slot::empty(), GFP_KERNEL)?),
            ],
            txns <- kernel::new_mutex!(Txns::new()),
            ct: ct?,
            tracker: shared.tracker.clone(),
            stats: shared.hook_stats,
        }? Error)
    }

    fn initial_groups(&self) -> u32 {
        if self.stats {
            1 << STATS_GROUP
        } else {
            0
        }
    }

    const DEVICE_EVENTS: bool = true;

    fn device_event(&self, net: &Net, event: DeviceEvent) {
        match event {
            DeviceEvent::Down { ifindex } => self.ct.masquerade_gone(net, ifindex, None),
            DeviceEvent::AddressRemoved { ifindex, addr } => {
                self.ct.masquerade_gone(net, ifindex, Some(addr))
            }
        }
    }

    fn periodic(&self, net: &Net) -> Option<u32> {
        self.ct.gc(net);
        Some(crate::conntrack::GC_INTERVAL_MS)
    }

    // Inlined into each hook's own function, where `index` is a constant:
    // the dispatch below costs nothing per packet.
    #[inline(always)]
    fn hook(&self, index: usize, skb: &mut SkBuff, state: &HookState) -> Verdict {
        if let Some(i) = index.checked_sub(NAT_HOOKS) {
            return match NAT_HOOK_POINTS.get(i) {
                Some(&hook) => self.nat(hook, skb, state),
                None => Verdict::ACCEPT,
            };
        }
        if index >= CT_CONFIRM {
            return self.ct.confirm(&self.tracker, state, skb);
        }
        if index >= CT_TRACK {
            return self.ct.track(&self.tracker, state.net(), skb);
        }
        match index.checked_sub(Hook::COUNT) {
            None => self.count(skb, state),
            Some(i) => match TABLE_HOOKS.get(i) {
                Some(&(t, hook)) => self.run_table(t, hook, skb, state),
                None => Verdict::ACCEPT,
            },
        }
    }
}

impl NetState {
    /// Registers, in namespace `net`, the hooks a committed table of
    /// `kind` needs: the table's, and tracking's with `conntrack`. Each
    /// group is registered once and stays until the namespace goes.
    /// Serialised per namespace; sleeps.
    pub(crate) fn enable_hooks(
        reg: &Registration<NetState>,
        net: &Net,
        kind: TableKind,
        conntrack: bool,
    ) -> Result {
        if conntrack {
            reg.enable_hooks(net, CT_GROUP)?;
        }
        let t = tables::index_of(kind).ok_or(EINVAL)?;
        reg.enable_hooks(net, TABLE_GROUP + t as u8)
    }

    /// The counting hook: the packet and its bytes, and whether its IPv4
    /// header is malformed, read from its first 20 bytes.
    fn count(&self, skb: &SkBuff, state: &HookState) -> Verdict {
        let Some(hook) = state.hook() else {
            return Verdict::ACCEPT;
        };
        let base = hook.number() as usize * PER_HOOK;
        let len = skb.len() as usize;
        let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); packet::IPV4_MIN_HEADER];
        let sound = skb
            .head(&mut buf, |_| packet::IPV4_MIN_HEADER)
            .is_some_and(|head| packet::parse_ipv4_header(head, len).is_ok());
        let counters = self.counters.live(state.rcu());
        counters.add(base + PACKETS, 1);
        counters.add(base + BYTES, len as u64);
        if !sound {
            counters.add(base + MALFORMED, 1);
        }
        Verdict::ACCEPT
    }

    // Inlined into the hook functions, as `hook` is: the table and the
    // hook are constants there.
    #[inline(always)]
    fn run_table(&self, t: usize, hook: Hook, skb: &mut SkBuff, state: &HookState) -> Verdict {
        let Some(table) = self.tables.get(t) else {
            return Verdict::ACCEPT;
        };
        // The hook function's own RCU read-side section: none entered here.
        let guard = state.rcu();
        match &table.read(guard).compiled {
            Some(compiled) => {
                tables::run(compiled, guard, hook, skb, state, (&self.ct, &self.tracker))
            }
            None => Verdict::ACCEPT,
        }
    }

    /// The nat table's hook at `hook` (`nf_nat_inet_fn` and the
    /// per-hook wrappers of `nf_nat_proto.c`): the first packet of a
    /// connection walks the table, which binds the connection (or else it
    /// gets a null binding); then the packet is translated as its
    /// connection's bindings say. After the translation:
    ///
    /// - PREROUTING: a packet whose destination changed loses any route
    ///   already attached to it;
    /// - INPUT: a packet whose source (address or port) changed loses the
    ///   socket early demultiplexing found for the old one;
    /// - OUTPUT: a packet of a connection whose destination is translated
    ///   is routed again.
    fn nat(&self, hook: Hook, skb: &mut SkBuff, state: &HookState) -> Verdict {
        if !self.ct.active() {
            return Verdict::ACCEPT;
        }
        let manip = napt::manip_of(hook);
        let (info, status) = match skb.ct(&self.tracker) {
            Some((c, info)) if !c.get().is_template() => (info, c.get().status()),
            _ => return Verdict::ACCEPT,
        };
        let Some(moved) = self.nat_translate(hook, manip, info, status, skb, state) else {
            return Verdict::DROP;
        };
        match hook {
            Hook::PreRouting if moved.dst => skb.drop_dst(),
            Hook::LocalIn => {
                if let Some(dport) = skb.demux_socket_dport() {
                    if moved.src || napt::source_port_changed(skb, &self.tracker, dport) {
                        skb.orphan();
                    }
                }
            }
            Hook::LocalOut
                if napt::destination_translated(skb, &self.tracker)
                    && state.reroute(skb).is_err() =>
            {
                return Verdict::DROP;
            }
            _ => {}
        }
        Verdict::ACCEPT
    }

    /// The translation part of [`NetState::nat`]: which addresses of the
    /// packet it changed, or `None` to drop it.
    fn nat_translate(
        &self,
        hook: Hook,
        manip: crate::nat::Manip,
        info: u8,
        status: u32,
        skb: &mut SkBuff,
        state: &HookState,
    ) -> Option<napt::Moved> {
        if (info == ctinfo::RELATED || info == ctinfo::RELATED_REPLY) && napt::is_icmp_error(skb) {
            // Rare: the addresses are read around the translation.
            let before = napt::addresses(skb);
            if napt::translate_icmp_error(skb, state, &self.tracker, info, manip) != Verdict::ACCEPT
            {
                return None;
            }
            return Some(napt::Moved::between(before, napt::addresses(skb)));
        }
        if (info == ctinfo::NEW || info == ctinfo::RELATED) && status & manip.done_bit() == 0 {
            if status & IPS_CONFIRMED != 0 {
                // A connection confirmed before the nat table came (its
                // packets are NEW until answered): its tuples are its
                // table keys, it stays as it is.
                if let Some((c, _)) = skb.ct(&self.tracker) {
                    c.get().set_status(manip.done_bit());
                }
            } else {
                let guard = state.rcu();
                let nat = tables::index_of(TableKind::Nat).and_then(|t| self.tables.get(t));
                if let Some(compiled) = nat.and_then(|t| t.read(guard).compiled.as_ref()) {
                    let v =
                        tables::run(compiled, guard, hook, skb, state, (&self.ct, &self.tracker));
                    if v == Verdict::DROP {
                        return None;
                    }
                    // No rule bound it: keep its addresses, unique.
                    if let Some((c, _)) = skb.ct(&self.tracker) {
                        if self.ct.nat_null_binding(state.net(), c.get(), manip) == Verdict::DROP {
                            return None;
                        }
                    }
                }
            }
        }
        napt::translate(skb, &self.tracker, info, manip)
    }

    /// Whether this namespace counts packets at each hook (`hook_stats`).
    pub(crate) fn counting(&self) -> bool {
        self.stats
    }

    /// The counters of every hook, in hook order, as one snapshot; with
    /// `zero`, they restart from zero at the same instant (no packet is
    /// lost or counted twice). Sleeps. Only meaningful when the namespace
    /// counts ([`NetState::counting`]); netlink refuses to read them
    /// otherwise.
    pub(crate) fn stats(&self, zero: bool) -> Result<[HookStats; Hook::COUNT]> {
        let sums = self.counters.snapshot(zero)?;
        let mut out = [HookStats::default(); Hook::COUNT];
        let at = |i: usize| sums.get(i).copied().unwrap_or(0);
        for (h, s) in out.iter_mut().enumerate() {
            let base = h * PER_HOOK;
            *s = HookStats {
                packets: at(base + PACKETS),
                bytes: at(base + BYTES),
                malformed: at(base + MALFORMED),
            };
        }
        Ok(out)
    }
}
