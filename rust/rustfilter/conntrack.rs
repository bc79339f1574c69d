// SPDX-License-Identifier: GPL-2.0

//! Connection tracking: the table of connections of a namespace, the
//! hooks that attach packets to them, confirmation, expiry
//! (`nf_conntrack_core.c`).
//!
//! The protocol trackers, tuples and states are the pure core's
//! (`rfcore::conntrack`, included here as `crate::ct`). This file keeps the
//! connections: each is a [`Conn`] in a `kernel::net::conntrack::Ct`, the
//! object `skb->_nfct` points to.
//!
//! - At PREROUTING and OUTPUT (priority -200) a packet is looked up by its
//!   tuple. Found, its protocol tracker updates the connection and the
//!   packet is attached to it (ESTABLISHED or NEW, original or reply; an
//!   ICMP error about a connection is RELATED). Not found, a new
//!   connection is made and attached, but not yet put in the table.
//! - At INPUT and POSTROUTING (last) a new connection whose first packet
//!   got this far is *confirmed*: linked in the table by both tuples. A
//!   dropped first packet takes its unconfirmed connection with it.
//! - A connection lives until its timeout, refreshed by its packets; a
//!   periodic worker (the namespace's `periodic`) unlinks expired ones.
//! - Confirmation and removal are reported on the "ct-events" multicast
//!   group (NEW and DESTROY) when anyone listens. With the table at its maximum,
//!   a new connection first evicts a connection that is not assured.
//!
//! Tracking is on in a namespace while a committed table uses it
//! ([`CtNet::users`]); packets already attached are confirmed regardless.

use crate::ct::{
    self,
    status::{IPS_ASSURED, IPS_CONFIRMED, IPS_FIXED_TIMEOUT, IPS_SEEN_REPLY},
    tuple::{self, Direction, Lookup, Tuple},
    Config, Ctx, Outcome, ProtoState,
};
use crate::packet;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::nla::Writer;
use crate::proto;
use kernel::net::conntrack::{ctinfo, Ct, CtHook, CtOps, InsertError, Table};
use kernel::net::genetlink::Multicaster;
use kernel::net::namespace::Net;
use kernel::net::netfilter::{self, Verdict};
use kernel::net::skbuff::SkBuff;
use kernel::prelude::*;
use kernel::sync::{bh, rcu, Arc, SpinLock};
use kernel::time::Ktime;

/// The connection tracker, installed while the module is loaded.
pub(crate) type Tracker = CtHook<Conn>;

/// Hash chains per namespace.
const BUCKETS: usize = 16384;
/// Default most connections per namespace.
pub(crate) const DEFAULT_MAX: usize = 65536;
/// How often the worker looks for expired connections.
pub(crate) const GC_INTERVAL_MS: u32 = 1000;
/// Chains looked at for a connection to evict when the table is full.
const EARLY_DROP_BUCKETS: u32 = 8;

/// Milliseconds on the monotonic clock: the trackers' time.
pub(crate) fn now_ms() -> u64 {
    Ktime::ktime_get().to_ns() as u64 / 1_000_000
}

/// One connection.
#[pin_data(PinnedDrop)]
pub(crate) struct Conn {
    /// The original and the reply tuple.
    pub(crate) tuples: [Tuple; 2],
    /// `IPS_*` bits; only ever set.
    status: AtomicU32,
    /// When it expires (`now_ms`).
    expires: AtomicU64,
    /// The connection mark (CONNMARK).
    pub(crate) mark: AtomicU32,
    /// The protocol tracker's state, updated under this lock with softirqs
    /// off.
    #[pin]
    proto: SpinLock<ProtoState>,
    /// The namespace's connection count, given back when the connection
    /// is freed.
    count: Arc<AtomicUsize>,
}

#[pinned_drop]
impl PinnedDrop for Conn {
    fn drop(self: Pin<&mut Self>) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl CtOps for Conn {}

impl Conn {
    pub(crate) fn status(&self) -> u32 {
        self.status.load(Ordering::Acquire)
    }

    pub(crate) fn expires(&self) -> u64 {
        self.expires.load(Ordering::Relaxed)
    }

    fn expired(&self, now: u64) -> bool {
        self.expires() <= now
    }

    /// A copy of the protocol state.
    pub(crate) fn proto(&self) -> ProtoState {
        let _bh = bh::Guard::new();
        // The lock guard must go before softirqs are enabled again.
        let state = *self.proto.lock();
        state
    }
}

/// What becomes of a packet at PREROUTING or OUTPUT.
enum Decision {
    /// On without a connection (invalid).
    Pass,
    Drop,
    /// Attach to this connection with this ctinfo.
    Attach(Ct<Conn>, u8),
}

/// Counters of the tracker's decisions in a namespace.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) found: AtomicU64,
    pub(crate) new: AtomicU64,
    pub(crate) invalid: AtomicU64,
    pub(crate) insert_failed: AtomicU64,
    pub(crate) drop: AtomicU64,
    pub(crate) early_drop: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Connection tracking in one namespace.
#[pin_data]
pub(crate) struct CtNet {
    #[pin]
    pub(crate) table: Table<Conn>,
    /// Connections allocated (confirmed or not).
    pub(crate) count: Arc<AtomicUsize>,
    pub(crate) max: AtomicUsize,
    /// Committed tables that need tracking.
    pub(crate) users: AtomicU32,
    seed: u32,
    #[pin]
    config: SpinLock<Config>,
    pub(crate) stats: Stats,
    /// Sends NEW and DESTROY events to the "ct-events" group.
    events: Arc<Multicaster>,
}

impl CtNet {
    pub(crate) fn new(seed: u32, events: Arc<Multicaster>) -> impl PinInit<Self, Error> {
        try_pin_init!(CtNet {
            table <- Table::new(BUCKETS),
            count: Arc::new(AtomicUsize::new(0), GFP_KERNEL)?,
            max: AtomicUsize::new(DEFAULT_MAX),
            users: AtomicU32::new(0),
            seed,
            config <- kernel::new_spinlock!(Config::DEFAULT),
            stats: Stats::default(),
            events,
        }? Error)
    }

    /// Whether packets are being tracked.
    pub(crate) fn active(&self) -> bool {
        self.users.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn config(&self) -> Config {
        let _bh = bh::Guard::new();
        // The lock guard must go before softirqs are enabled again.
        let config = *self.config.lock();
        config
    }

    pub(crate) fn set_config(&self, c: Config) {
        let _bh = bh::Guard::new();
        *self.config.lock() = c;
    }

    /// Every confirmed connection, at one instant.
    pub(crate) fn snapshot(&self) -> Result<KVVec<Ct<Conn>>> {
        loop {
            let room = self.count.load(Ordering::Relaxed) + 64;
            if let Some(v) = self.table.snapshot(room)? {
                return Ok(v);
            }
        }
    }

    /// Reports `conn` to the listeners of the event group of `net`.
    fn event(&self, net: &Net, kind: u32, conn: &Ct<Conn>) {
        if !self.events.has_listeners(net, 0) {
            return;
        }
        let mut buf = [0u8; 320];
        let mut w = Writer::new(&mut buf);
        if w.put_u32(proto::A_CT_EVENT, kind).is_ok()
            && crate::ct_netlink::encode_entry(&mut w, conn, now_ms()).is_ok()
        {
            // A listener whose socket is full misses it, as with ctnetlink.
            let _ = self.events.send(net, 0, proto::CMD_CT_EVENT, w.as_bytes());
        }
    }

    /// Takes `conn` out of the table (a DESTROY event); `false` if it was
    /// not in it.
    pub(crate) fn remove(&self, net: &Net, conn: &Ct<Conn>) -> bool {
        let removed = self.table.remove(conn);
        if removed {
            self.event(net, proto::CT_EVENT_DESTROY, conn);
        }
        removed
    }

    /// Takes every connection out of the table.
    pub(crate) fn flush(&self, net: &Net) -> Result {
        for conn in self.snapshot()?.iter() {
            self.remove(net, conn);
        }
        Ok(())
    }

    /// Unlinks expired connections, a few per chain per round.
    pub(crate) fn gc(&self, net: &Net) {
        let now = now_ms();
        for b in 0..self.table.buckets() {
            let mut victims: [Option<Ct<Conn>>; 8] = Default::default();
            let mut n = 0;
            {
                let guard = rcu::read_lock();
                self.table.for_each_in(b, &guard, |c, get| {
                    if n < victims.len() && c.expired(now) {
                        victims[n] = get();
                        n += 1;
                    }
                });
            }
            for v in victims.iter().flatten() {
                self.remove(net, v);
            }
        }
    }

    fn hash(&self, t: &Tuple) -> u32 {
        t.hash(self.seed)
    }

    /// The live connection with tuple `t`, and the direction `t` is.
    pub(crate) fn find(&self, t: &Tuple, now: u64) -> Option<(Ct<Conn>, u8)> {
        let guard = rcu::read_lock();
        self.table.find(self.hash(t), &guard, |c, d| {
            c.tuples.get(usize::from(d)) == Some(t) && !c.expired(now)
        })
    }

    /// PREROUTING and OUTPUT: attaches the packet to its connection.
    pub(crate) fn track(&self, tracker: &Tracker, net: &Net, skb: &mut SkBuff) -> Verdict {
        // Already decided: untracked by the raw table, or an ICMP error
        // this host made about a tracked packet.
        if skb.ct_info().is_some() || !self.active() {
            return Verdict::Accept;
        }
        match self.classify(net, skb) {
            Decision::Pass => Verdict::Accept,
            Decision::Drop => {
                bump(&self.stats.drop);
                Verdict::Drop
            }
            Decision::Attach(conn, info) => {
                skb.set_ct(tracker, conn, info);
                Verdict::Accept
            }
        }
    }

    /// What to do with a packet not attached yet.
    fn classify(&self, net: &Net, skb: &SkBuff) -> Decision {
        let len = skb.len() as usize;
        let mut buf = [0u8; tuple::MAX_TUPLE_BYTES];
        let peek = len.min(buf.len());
        let Some(data) = skb.header(0, &mut buf[..peek]) else {
            bump(&self.stats.invalid);
            return Decision::Pass;
        };
        let Ok(pkt) = packet::parse(data, len) else {
            bump(&self.stats.invalid);
            return Decision::Pass;
        };
        let lookup = match tuple::from_packet(&pkt, data) {
            Ok(l) => l,
            Err(_) => {
                bump(&self.stats.invalid);
                return Decision::Pass;
            }
        };
        let now = now_ms();
        let config = self.config();
        match lookup {
            Lookup::Related(t) => {
                let Some((conn, d)) = self.find(&t, now) else {
                    bump(&self.stats.invalid);
                    return Decision::Pass;
                };
                let info = if d == 0 {
                    ctinfo::RELATED
                } else {
                    ctinfo::RELATED_REPLY
                };
                bump(&self.stats.found);
                Decision::Attach(conn, info)
            }
            Lookup::Conn(t) => {
                // A SYN reopening a closed connection removes it and comes
                // round once more to make a new one.
                for _ in 0..2 {
                    let Some((conn, d)) = self.find(&t, now) else {
                        return self.create(net, &pkt, data, t, now, &config);
                    };
                    match self.update(net, &conn, d, &pkt, data, now, &config) {
                        Some(Some(info)) => {
                            bump(&self.stats.found);
                            return Decision::Attach(conn, info);
                        }
                        // Invalid: the packet goes on without a connection.
                        Some(None) => {
                            bump(&self.stats.invalid);
                            return Decision::Pass;
                        }
                        None => {
                            if !self.remove(net, &conn) {
                                return Decision::Drop;
                            }
                        }
                    }
                }
                Decision::Drop
            }
        }
    }

    /// Runs the tracker of `conn` for a packet in direction `d`: the
    /// packet's ctinfo, `Some(None)` if it is invalid, `None` if the
    /// connection must be replaced (reopened).
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        net: &Net,
        conn: &Ct<Conn>,
        d: u8,
        pkt: &packet::Packet,
        data: &[u8],
        now: u64,
        config: &Config,
    ) -> Option<Option<u8>> {
        let dir = if d == 0 {
            Direction::Original
        } else {
            Direction::Reply
        };
        let status = conn.status();
        let ctx = Ctx {
            now,
            status,
            expires: conn.expires(),
            config,
        };
        let result = {
            let _bh = bh::Guard::new();
            let mut proto = conn.proto.lock();
            proto.packet(pkt, data, dir, &ctx)
        };
        match result {
            Ok(Outcome::Accept(u)) => {
                let status = conn.status.fetch_or(u.set_status, Ordering::AcqRel) | u.set_status;
                conn.expires
                    .store(u.expires(now, status, ctx.expires), Ordering::Relaxed);
                if u.kill {
                    self.remove(net, conn);
                }
                Some(Some(if d == 1 {
                    ctinfo::ESTABLISHED_REPLY
                } else if status & IPS_SEEN_REPLY != 0 {
                    ctinfo::ESTABLISHED
                } else {
                    ctinfo::NEW
                }))
            }
            Ok(Outcome::Reopen) => None,
            Err(invalid) => {
                if let Some(t) = invalid.lower_timeout {
                    if status & IPS_FIXED_TIMEOUT == 0 {
                        conn.expires
                            .fetch_min(now.saturating_add(t), Ordering::Relaxed);
                    }
                }
                Some(None)
            }
        }
    }

    /// A new, unconfirmed connection for the first packet of `t`.
    fn create(
        &self,
        net: &Net,
        pkt: &packet::Packet,
        data: &[u8],
        t: Tuple,
        now: u64,
        config: &Config,
    ) -> Decision {
        let Ok((proto, timeout)) = ct::new_connection(pkt, data, now, config) else {
            bump(&self.stats.invalid);
            return Decision::Pass;
        };
        let Some(reply) = t.invert() else {
            bump(&self.stats.invalid);
            return Decision::Pass;
        };
        if self.count.load(Ordering::Relaxed) >= self.max.load(Ordering::Relaxed)
            && !self.early_drop(net, self.hash(&t), now)
        {
            netfilter::log_ratelimited(4, b"rustfilter: conntrack table full, dropping packet");
            return Decision::Drop;
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let count = self.count.clone();
        let init = try_pin_init!(Conn {
            tuples: [t, reply],
            status: AtomicU32::new(0),
            expires: AtomicU64::new(now.saturating_add(timeout)),
            mark: AtomicU32::new(0),
            proto <- kernel::new_spinlock!(proto),
            count,
        }? Error);
        match Ct::new(init, GFP_ATOMIC) {
            Ok(conn) => {
                bump(&self.stats.new);
                Decision::Attach(conn, ctinfo::NEW)
            }
            Err(_) => {
                self.count.fetch_sub(1, Ordering::Relaxed);
                Decision::Drop
            }
        }
    }

    /// Evicts a connection that is not assured (or is closing) from the
    /// chains after `hash`'s, to make room. Whether one went.
    fn early_drop(&self, net: &Net, hash: u32, now: u64) -> bool {
        let buckets = self.table.buckets();
        for i in 0..EARLY_DROP_BUCKETS {
            let b = (hash as usize).wrapping_add(i as usize) % buckets;
            let mut victim = None;
            {
                let guard = rcu::read_lock();
                self.table.for_each_in(b, &guard, |c, get| {
                    if victim.is_none()
                        && (c.expired(now)
                            || c.status() & IPS_ASSURED == 0
                            || c.proto().can_early_drop())
                    {
                        victim = get();
                    }
                });
            }
            if let Some(v) = victim {
                if self.remove(net, &v) {
                    bump(&self.stats.early_drop);
                    return true;
                }
            }
        }
        false
    }

    /// INPUT and POSTROUTING, last: links a new connection in the table.
    /// A connection with the same tuple made meanwhile (a race between two
    /// first packets) wins; the packet is dropped.
    pub(crate) fn confirm(&self, tracker: &Tracker, net: &Net, skb: &SkBuff) -> Verdict {
        let Some((attached, info)) = skb.ct(tracker) else {
            return Verdict::Accept;
        };
        let c = attached.get();
        if ctinfo::is_reply(info) || c.status() & IPS_CONFIRMED != 0 {
            return Verdict::Accept;
        }
        let conn = attached.to_ct();
        let hashes = [self.hash(&c.tuples[0]), self.hash(&c.tuples[1])];
        let now = now_ms();
        let clash = |other: &Conn, odir: u8, ndir: u8| {
            other.tuples.get(usize::from(odir)) == c.tuples.get(usize::from(ndir))
                && !other.expired(now)
        };
        match self.table.insert(&conn, hashes, clash) {
            Ok(()) => {
                c.status.fetch_or(IPS_CONFIRMED, Ordering::AcqRel);
                self.event(net, proto::CT_EVENT_NEW, &conn);
                Verdict::Accept
            }
            Err(InsertError::Linked) => {
                c.status.fetch_or(IPS_CONFIRMED, Ordering::AcqRel);
                Verdict::Accept
            }
            Err(InsertError::Clash) => {
                bump(&self.stats.insert_failed);
                Verdict::Drop
            }
        }
    }
}
