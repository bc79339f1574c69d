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
//!   With the table at its maximum, a new connection first evicts one that
//!   is not assured.
//! - Helpers (FTP, TFTP) read the payload at confirmation time and record
//!   the connections it announces as expectations; such a connection is
//!   RELATED.
//! - Confirmation and removal are reported on the "ct-events" multicast
//!   group (NEW and DESTROY) when anyone listens.
//!
//! Tracking is on in a namespace while a committed table uses it
//! ([`CtNet::users`]); packets already attached are confirmed regardless.

use crate::ct::{
    self,
    helper::{self, Expect, Helper},
    status::{
        IPS_ASSURED, IPS_CONFIRMED, IPS_EXPECTED, IPS_FIXED_TIMEOUT, IPS_NAT_MASK, IPS_SEEN_REPLY,
        IPS_SEQ_ADJUST, IPS_TEMPLATE,
    },
    tuple::{self, Direction, Lookup, Tuple},
    Config, Ctx, Outcome, ProtoState,
};
use crate::nat::{
    seqadj::{self, SeqAdj},
    Manip, NatRange,
};
use crate::nla::Writer;
use crate::packet;
use crate::proto;
use core::mem::MaybeUninit;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use kernel::net::conntrack::{ctinfo, Ct, CtHook, CtOps, InsertError, Table};
use kernel::net::genetlink::Multicaster;
use kernel::net::namespace::Net;
use kernel::net::netfilter::{self, HookState, Verdict};
use kernel::net::skbuff::{Checksum, SkBuff};
use kernel::percpu::PerCpuCounters;
use kernel::prelude::*;
use kernel::sync::rcu::RcuBox;
use kernel::sync::{bh, rcu, Arc, SpinLock};
use kernel::time::Ktime;

/// The connection tracker, installed while the module is loaded.
pub(crate) type Tracker = CtHook<Conn>;

/// Hash chains per namespace.
const BUCKETS: usize = 16384;
// `tuple::bucket` scales a hash to a `u32` number of chains.
const _: () = assert!(BUCKETS <= u32::MAX as usize);
/// Default most connections per namespace.
pub(crate) const DEFAULT_MAX: usize = 65536;
/// How often the worker looks for expired connections.
pub(crate) const GC_INTERVAL_MS: u32 = 1000;
/// Chains the worker walks in one RCU read section.
const GC_BATCH: usize = 128;
/// Chains looked at for a connection to evict when the table is full.
const EARLY_DROP_BUCKETS: u32 = 8;
/// Most expectations per namespace.
const MAX_EXPECT: usize = 256;
/// Most payload bytes a helper looks at in one packet.
const HELPER_PEEK: usize = 512;

/// Milliseconds on the monotonic clock: the trackers' time.
pub(crate) fn now_ms() -> u64 {
    Ktime::ktime_get().to_ns() as u64 / 1_000_000
}

/// One connection.
#[pin_data(PinnedDrop)]
pub(crate) struct Conn {
    /// The original tuple.
    pub(crate) orig: Tuple,
    /// The reply tuple: the inverse of the original one, unless NAT
    /// changed it (only before the connection is confirmed).
    reply: TupleCell,
    /// The output device MASQUERADE took the source address of (its
    /// index; 0 if not masqueraded): the connection goes when the device
    /// goes down or loses the address.
    pub(crate) masq_index: AtomicI32,
    /// `IPS_*` bits; only ever set.
    status: AtomicU32,
    /// When it expires (`now_ms`).
    expires: AtomicU64,
    /// The connection mark (CONNMARK).
    pub(crate) mark: AtomicU32,
    /// The helper (`Helper as u8`), 0 for none; set before the connection
    /// is shared.
    helper: AtomicU8,
    /// Per direction, for FTP: `1 << 32 | seq` of the byte after the last
    /// segment that ended with a newline, and after the one before (so that
    /// a retransmission of the last line is still seen as starting one, as
    /// `nf_conntrack_ftp` remembers two); 0 until one did.
    line_seq: [[AtomicU64; 2]; 2],
    /// The protocol tracker's state, updated under this lock with softirqs
    /// off.
    #[pin]
    proto: SpinLock<ProtoState>,
    /// Per direction, how far a NAT helper moved sequence numbers
    /// (`IPS_SEQ_ADJUST`); taken with softirqs off.
    #[pin]
    seqadj: SpinLock<[SeqAdj; 2]>,
    /// The namespace's connection count, given back (once) when the
    /// connection leaves the table or is freed, whichever comes first.
    count: Arc<AtomicUsize>,
    counted: AtomicBool,
}

#[pinned_drop]
impl PinnedDrop for Conn {
    fn drop(self: Pin<&mut Self>) {
        self.uncount();
    }
}

impl CtOps for Conn {}

/// A tuple that is read without locks and replaced only while its
/// connection is unconfirmed, reachable from one packet alone: NAT sets
/// the reply tuple then, before the connection is linked in the table
/// (whose publication orders the write before any lookup).
struct TupleCell {
    /// Source and destination address.
    addrs: AtomicU64,
    /// Protocol, source and destination port.
    rest: AtomicU64,
}

impl TupleCell {
    fn new(t: Tuple) -> Self {
        let c = TupleCell {
            addrs: AtomicU64::new(0),
            rest: AtomicU64::new(0),
        };
        c.set(t);
        c
    }

    fn get(&self) -> Tuple {
        let a = self.addrs.load(Ordering::Relaxed);
        let r = self.rest.load(Ordering::Relaxed);
        Tuple {
            saddr: ((a >> 32) as u32).to_be_bytes(),
            daddr: (a as u32).to_be_bytes(),
            protocol: (r >> 32) as u8,
            sport: (r >> 16) as u16,
            dport: r as u16,
        }
    }

    fn set(&self, t: Tuple) {
        let a =
            u64::from(u32::from_be_bytes(t.saddr)) << 32 | u64::from(u32::from_be_bytes(t.daddr));
        let r = u64::from(t.protocol) << 32 | u64::from(t.sport) << 16 | u64::from(t.dport);
        self.addrs.store(a, Ordering::Relaxed);
        self.rest.store(r, Ordering::Relaxed);
    }
}

impl Conn {
    /// The tuple of direction `d` (0 original, 1 reply).
    pub(crate) fn tuple(&self, d: u8) -> Tuple {
        if d == 0 {
            self.orig
        } else {
            self.reply.get()
        }
    }

    /// Both tuples, original first.
    pub(crate) fn tuples(&self) -> [Tuple; 2] {
        [self.orig, self.reply.get()]
    }

    /// Replaces the reply tuple, which NAT does while the connection is
    /// unconfirmed: once it is in the table its tuples are its hash
    /// chains' keys. `false` (nothing changed) for a confirmed connection.
    pub(crate) fn set_reply(&self, t: Tuple) -> bool {
        if self.status() & IPS_CONFIRMED != 0 {
            return false;
        }
        self.reply.set(t);
        true
    }

    /// Sets `IPS_*` bits; returns the status after.
    pub(crate) fn set_status(&self, bits: u32) -> u32 {
        self.status.fetch_or(bits, Ordering::AcqRel) | bits
    }

    pub(crate) fn status(&self) -> u32 {
        self.status.load(Ordering::Acquire)
    }

    pub(crate) fn expires(&self) -> u64 {
        self.expires.load(Ordering::Relaxed)
    }

    fn expired(&self, now: u64) -> bool {
        self.expires() <= now
    }

    /// Gives the connection's place in the count back, once.
    fn uncount(&self) {
        if self.counted.swap(false, Ordering::AcqRel) {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The connection's helper.
    pub(crate) fn helper(&self) -> Option<Helper> {
        Helper::from_u8(self.helper.load(Ordering::Relaxed))
    }

    /// Whether this is a template: what `-j CT --helper` attaches to a
    /// packet before tracking, to ask for a helper.
    pub(crate) fn is_template(&self) -> bool {
        self.status() & IPS_TEMPLATE != 0
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

/// A connection a helper announced.
#[derive(Clone, Copy)]
struct Expectation {
    expect: Expect,
    /// When it lapses (`now_ms`).
    expires: u64,
    /// The original tuple of the connection that announced it.
    master: Tuple,
    /// How to translate the expected connection when its master is
    /// translated (`nf_nat_follow_master`).
    follow: Option<Follow>,
}

/// The bindings an expected connection gets from its translated master:
/// its source becomes `src`, its destination `dst`:`dport`, the addresses
/// the master's ends really have.
#[derive(Clone, Copy)]
struct Follow {
    src: [u8; 4],
    dst: [u8; 4],
    dport: u16,
}

impl Follow {
    /// For a connection announced by a packet of `master` going in
    /// direction `d` (0 original): from where that packet went, to where
    /// it came from, at the announced `port`.
    fn of(master: &Conn, d: u8, port: u16) -> Follow {
        let t = master.tuple(d);
        Follow {
            src: t.daddr,
            dst: t.saddr,
            dport: port,
        }
    }
}

/// The tracker's decisions in a namespace, counted per CPU.
#[derive(Clone, Copy)]
pub(crate) enum Stat {
    Found,
    New,
    Invalid,
    InsertFailed,
    Drop,
    EarlyDrop,
}

const STATS: usize = Stat::EarlyDrop as usize + 1;

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
    pub(crate) seed: u32,
    /// The settings, replaced whole by netlink (which serialises writers).
    config: RcuBox<Config>,
    stats: PerCpuCounters,
    /// Sends NEW and DESTROY events to the "ct-events" group.
    events: Arc<Multicaster>,
    /// Set when a full table found nothing to evict near a new connection:
    /// the worker then evicts unassured connections from the whole table.
    early_drop_wanted: AtomicBool,
    /// Whether new connections get the helper of their port (FTP on 21/tcp,
    /// TFTP on 69/udp) without `-j CT --helper`.
    pub(crate) auto_helper: AtomicBool,
    /// Announced connections, one slot each; `expect_count` slots in use.
    #[pin]
    expects: SpinLock<KVec<Option<Expectation>>>,
    expect_count: AtomicUsize,
    /// The templates `-j CT --helper` attaches, by `Helper as u8 - 1`.
    templates: [Ct<Conn>; 2],
}

/// A template asking for `helper`.
fn template(helper: Helper) -> Result<Ct<Conn>> {
    let zero = Tuple {
        saddr: [0; 4],
        daddr: [0; 4],
        protocol: 0,
        sport: 0,
        dport: 0,
    };
    Ct::new(
        try_pin_init!(Conn {
            orig: zero,
            reply: TupleCell::new(zero),
            masq_index: AtomicI32::new(0),
            status: AtomicU32::new(IPS_TEMPLATE),
            expires: AtomicU64::new(u64::MAX),
            mark: AtomicU32::new(0),
            helper: AtomicU8::new(helper as u8),
            line_seq: Default::default(),
            proto <- kernel::new_spinlock!(ProtoState::Generic),
            seqadj <- kernel::new_spinlock!([SeqAdj::default(); 2]),
            // Not a connection: counted apart.
            count: Arc::new(AtomicUsize::new(1), GFP_KERNEL)?,
            counted: AtomicBool::new(true),
        }? Error),
        GFP_KERNEL,
    )
}

impl CtNet {
    pub(crate) fn new(
        seed: u32,
        events: Arc<Multicaster>,
        max: usize,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(CtNet {
            table <- Table::new(BUCKETS),
            count: Arc::new(AtomicUsize::new(0), GFP_KERNEL)?,
            max: AtomicUsize::new(max),
            users: AtomicU32::new(0),
            seed,
            config: RcuBox::new(KBox::new(Config::DEFAULT, GFP_KERNEL)?),
            stats: PerCpuCounters::new(STATS)?,
            events,
            early_drop_wanted: AtomicBool::new(false),
            auto_helper: AtomicBool::new(true),
            expects <- kernel::new_spinlock!(KVec::from_elem(None, MAX_EXPECT, GFP_KERNEL)?),
            expect_count: AtomicUsize::new(0),
            templates: [template(Helper::Ftp)?, template(Helper::Tftp)?],
        }? Error)
    }

    /// Whether packets are being tracked.
    pub(crate) fn active(&self) -> bool {
        self.users.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn config(&self) -> Config {
        let guard = rcu::read_lock();
        *self.config.read(&guard)
    }

    /// Replaces the settings; waits for a grace period. Callers are
    /// serialised (the genetlink mutex).
    pub(crate) fn set_config(&self, c: Config) -> Result {
        drop(self.config.replace(KBox::new(c, GFP_KERNEL)?));
        Ok(())
    }

    fn bump(&self, s: Stat) {
        self.stats.add(s as usize, 1);
    }

    /// One of the statistics, summed over the CPUs.
    pub(crate) fn stat(&self, s: Stat) -> u64 {
        self.stats.sum(s as usize)
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

    /// Takes `conn` out of the table (a DESTROY event), and the
    /// connections it announced out of the expectations; `false` if it was
    /// not in the table.
    pub(crate) fn remove(&self, net: &Net, conn: &Ct<Conn>) -> bool {
        let removed = self.table.remove(conn);
        if removed {
            // Room for a new connection at once, not a grace period later.
            conn.uncount();
            self.event(net, proto::CT_EVENT_DESTROY, conn);
            if conn.helper().is_some() {
                self.unexpect(&conn.orig);
            }
        }
        removed
    }

    /// Runs the helper of `conn` on the payload of the packet `skb`, which
    /// is attached to it as `info` and has passed every hook but
    /// confirmation (netfilter's helper hook), recording the connection it
    /// announces.
    ///
    /// FTP looks only at packets of an established control connection, and
    /// only at segments that start a line (right after the last segment
    /// that ended with a newline, as `nf_conntrack_ftp` tracks it), so that
    /// data that merely contains a command in mid-stream announces nothing.
    ///
    /// On a translated connection the announcement is translated too
    /// (`nf_nat_ftp`, `nf_nat_tftp`): FTP's address and port are rewritten
    /// to what the peer can reach, the expected connection is made to
    /// follow its master's bindings. DROP when the packet could not be
    /// rewritten.
    fn help(&self, skb: &mut SkBuff, conn: &Conn, info: u8) -> Verdict {
        let Some(helper) = conn.helper() else {
            return Verdict::ACCEPT;
        };
        if helper == Helper::Ftp && info != ctinfo::ESTABLISHED && info != ctinfo::ESTABLISHED_REPLY
        {
            return Verdict::ACCEPT;
        }
        let len = skb.len() as usize;
        let mut hdr = [MaybeUninit::<u8>::uninit(); tuple::MAX_TUPLE_BYTES];
        let Some(data) = skb.header_uninit(0, &mut hdr[..len.min(tuple::MAX_TUPLE_BYTES)]) else {
            return Verdict::ACCEPT;
        };
        let Ok(pkt) = packet::parse(data, len) else {
            return Verdict::ACCEPT;
        };
        let (offset, payload_len, seq) = match pkt.transport {
            packet::Transport::Tcp(t) if helper.protocol() == packet::IPPROTO_TCP => (
                pkt.ip.header_len + t.header_len,
                t.data_len(pkt.ip.payload_len()),
                Some(t.seq),
            ),
            packet::Transport::Udp(_) if helper.protocol() == packet::IPPROTO_UDP => (
                pkt.ip.header_len + 8,
                pkt.ip.payload_len().saturating_sub(8),
                None,
            ),
            _ => return Verdict::ACCEPT,
        };
        if payload_len == 0 {
            return Verdict::ACCEPT;
        }
        let d = usize::from(ctinfo::is_reply(info));
        let line_start = match (seq, conn.line_seq.get(d)) {
            (Some(seq), Some([last, before])) => {
                let last = last.load(Ordering::Relaxed);
                let before = before.load(Ordering::Relaxed);
                let at = |n: u64| n != 0 && n as u32 == seq;
                last == 0 || at(last) || at(before)
            }
            _ => true,
        };
        // Where the next line starts, if this segment ends one (in the
        // sender's numbering, whatever a rewrite below does).
        if let (Some(seq), Some([last, before])) = (seq, conn.line_seq.get(d)) {
            let mut end = [0u8; 1];
            if skb.header(offset + payload_len - 1, &mut end) == Some(b"\n".as_slice()) {
                let after = 1 << 32 | u64::from(seq.wrapping_add(payload_len as u32));
                let old = last.swap(after, Ordering::Relaxed);
                if old != after {
                    before.store(old, Ordering::Relaxed);
                }
            }
        }
        if !line_start {
            return Verdict::ACCEPT;
        }
        // A copy: a rewrite changes the packet.
        let mut payload = [0u8; HELPER_PEEK];
        let n = payload_len.min(HELPER_PEEK);
        match skb.header(offset, &mut [0u8; HELPER_PEEK][..n]) {
            Some(bytes) => payload.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s),
            None => return Verdict::ACCEPT,
        }
        let payload = payload.get(..n).unwrap_or(&[]);
        let dir = if d == 0 {
            Direction::Original
        } else {
            Direction::Reply
        };
        let d = d as u8;
        let translated = conn.status() & IPS_NAT_MASK != 0;
        let tuples = conn.tuples();
        let expires = now_ms().saturating_add(helper.expect_timeout_ms());
        if helper == Helper::Ftp && translated {
            let Ok(Some(a)) = helper::inspect_ftp(payload, dir, &tuples) else {
                return Verdict::ACCEPT;
            };
            return self.ftp_nat(skb, conn, d, seq.unwrap_or(0), offset, payload, a, expires);
        }
        if let Ok(Some(expect)) = helper::inspect(helper, payload, dir, &tuples) {
            // TFTP: the answer comes back to the client's own port.
            let follow = translated.then(|| Follow::of(conn, d, conn.tuple(d).sport));
            self.expect(Expectation {
                expect,
                expires,
                master: conn.orig,
                follow,
            });
        }
        Verdict::ACCEPT
    }

    /// `nf_nat_ftp`: the FTP announcement `a`, in the payload (at `offset`
    /// in the packet) of a packet of the translated connection `conn`
    /// going in direction `d` with sequence number `seq`, is rewritten to
    /// name the address the peer sees (the other direction's destination)
    /// and a port no other expectation uses, and the data connection is
    /// expected there, to follow its master's bindings.
    #[allow(clippy::too_many_arguments)]
    fn ftp_nat(
        &self,
        skb: &mut SkBuff,
        conn: &Conn,
        d: u8,
        seq: u32,
        offset: usize,
        payload: &[u8],
        a: helper::FtpAnnouncement,
        expires: u64,
    ) -> Verdict {
        let addr = conn.tuple(1 - d).daddr;
        let Some(port) = self.free_expect_port(&a.expect, &conn.orig) else {
            return Verdict::DROP;
        };
        let mut text = [0u8; 32];
        let new = helper::ftp_text(a.kind, addr, port, &mut text);
        if payload.get(a.offset..a.offset + a.len) != Some(new) {
            let partial = skb.checksum() == Checksum::Partial;
            let Some(pkt) = skb.replace_bytes(offset + a.offset, a.len, new) else {
                return Verdict::DROP;
            };
            if seqadj::fix_after_resize(pkt, partial).is_err() {
                return Verdict::DROP;
            }
            skb.forget_complete_checksum();
            let delta = new.len() as i32 - a.len as i32;
            if delta != 0 {
                let _bh = bh::Guard::new();
                let mut adj = conn.seqadj.lock();
                if let Some(way) = adj.get_mut(usize::from(d)) {
                    way.record(seq, delta);
                }
                drop(adj);
                conn.set_status(IPS_SEQ_ADJUST);
            }
        }
        self.expect(Expectation {
            expect: Expect {
                dport: port,
                ..a.expect
            },
            expires,
            master: conn.orig,
            follow: Some(Follow::of(conn, d, a.port)),
        });
        Verdict::ACCEPT
    }

    /// The first port from `e.dport` up for which no other master's
    /// expectation has `e`'s addresses (as `nf_nat_ftp` tries ports until
    /// `nf_ct_expect_related` takes one).
    fn free_expect_port(&self, e: &Expect, master: &Tuple) -> Option<u16> {
        let now = now_ms();
        let _bh = bh::Guard::new();
        let slots = self.expects.lock();
        (e.dport..=u16::MAX).take(64).find(|&port| {
            !slots.iter().flatten().any(|x| {
                x.master != *master
                    && x.expires > now
                    && x.expect.saddr == e.saddr
                    && x.expect.daddr == e.daddr
                    && x.expect.protocol == e.protocol
                    && x.expect.dport == port
            })
        })
    }

    /// Moves the sequence and acknowledgement numbers of `skb`, a TCP
    /// segment of `conn` in direction `d`, by what NAT helpers changed
    /// (`nf_ct_seq_adjust`).
    fn seq_adjust(&self, skb: &mut SkBuff, conn: &Conn, d: u8) -> Verdict {
        let mut hdr = [0u8; 60 + 13];
        let Some(h) = skb.header(0, &mut hdr[..20]) else {
            return Verdict::DROP;
        };
        let (Some(&vihl), Some(&protocol)) = (h.first(), h.get(9)) else {
            return Verdict::DROP;
        };
        if protocol != packet::IPPROTO_TCP {
            return Verdict::ACCEPT;
        }
        let ihl = usize::from(vihl & 0x0f) * 4;
        let mut off = [0u8; 1];
        let Some(&doff) = skb.header(ihl + 12, &mut off).and_then(|b| b.first()) else {
            return Verdict::DROP;
        };
        let len = ihl + usize::from(doff >> 4) * 4;
        let adj = {
            let _bh = bh::Guard::new();
            let adj = *conn.seqadj.lock();
            adj
        };
        let partial = skb.checksum() == Checksum::Partial;
        let Some(buf) = skb.writable_header(len) else {
            return Verdict::DROP;
        };
        let (this, other) = if d == 0 {
            (&adj[0], &adj[1])
        } else {
            (&adj[1], &adj[0])
        };
        if seqadj::adjust_tcp(buf, this, other, partial).is_err() {
            return Verdict::DROP;
        }
        skb.forget_complete_checksum();
        Verdict::ACCEPT
    }

    /// Records an expectation: one per master connection (a newer one
    /// replaces the older, as helpers with `max_expected = 1` do); when all
    /// slots are taken, the one closest to lapsing goes.
    fn expect(&self, e: Expectation) {
        let now = now_ms();
        let _bh = bh::Guard::new();
        let mut slots = self.expects.lock();
        let mut free = None;
        let mut oldest: Option<(usize, u64)> = None;
        for (i, slot) in slots.iter_mut().enumerate() {
            match slot {
                Some(x) if x.master == e.master || x.expires <= now => {
                    *slot = None;
                    self.expect_count.fetch_sub(1, Ordering::Relaxed);
                    free = free.or(Some(i));
                }
                Some(x) => {
                    if oldest.is_none_or(|(_, t)| x.expires < t) {
                        oldest = Some((i, x.expires));
                    }
                }
                None => free = free.or(Some(i)),
            }
        }
        let i = match (free, oldest) {
            (Some(i), _) => i,
            (None, Some((i, _))) => {
                self.expect_count.fetch_sub(1, Ordering::Relaxed);
                i
            }
            (None, None) => return,
        };
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(e);
            self.expect_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The live expectation the new connection `t` matches, used up.
    fn take_expectation(&self, t: &Tuple, now: u64) -> Option<Expectation> {
        if self.expect_count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let _bh = bh::Guard::new();
        let mut slots = self.expects.lock();
        for slot in slots.iter_mut() {
            if let Some(x) = slot {
                if x.expires > now && x.expect.matches(t) {
                    let x = *x;
                    *slot = None;
                    self.expect_count.fetch_sub(1, Ordering::Relaxed);
                    return Some(x);
                }
            }
        }
        None
    }

    /// Forgets what the connection with original tuple `master` announced.
    fn unexpect(&self, master: &Tuple) {
        if self.expect_count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let _bh = bh::Guard::new();
        let mut slots = self.expects.lock();
        for slot in slots.iter_mut() {
            if slot.is_some_and(|x| x.master == *master) {
                *slot = None;
                self.expect_count.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// The template asking for `helper`.
    pub(crate) fn template(&self, helper: Helper) -> &Ct<Conn> {
        match helper {
            Helper::Ftp => &self.templates[0],
            Helper::Tftp => &self.templates[1],
        }
    }

    /// Takes every connection out of the table.
    pub(crate) fn flush(&self, net: &Net) -> Result {
        for conn in self.snapshot()?.iter() {
            self.remove(net, conn);
        }
        Ok(())
    }

    /// Unlinks expired connections, a few per chain per round; when a
    /// full table could not make room for a new connection, also
    /// connections that are not assured (or are closing) while the table
    /// is above 95% of its maximum, as netfilter's worker does.
    pub(crate) fn gc(&self, net: &Net) {
        // An idle namespace costs one load a second.
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let now = now_ms();
        let high = |ct: &Self| {
            let max = ct.max.load(Ordering::Relaxed);
            ct.count.load(Ordering::Relaxed) > max - max / 20
        };
        let mut evict = self.early_drop_wanted.swap(false, Ordering::Relaxed) && high(self);
        let buckets = self.table.buckets();
        let mut b = 0;
        while b < buckets {
            let mut victims: [Option<Ct<Conn>>; 8] = Default::default();
            let mut n = 0;
            {
                // One read section for a run of chains, most of them
                // empty; it ends early once a chain filled the victims.
                let guard = rcu::read_lock();
                let end = b.saturating_add(GC_BATCH).min(buckets);
                while b < end && n < victims.len() {
                    self.table.for_each_in(b, &guard, |c, get| {
                        let unassured = c.status() & IPS_ASSURED == 0 || c.proto().can_early_drop();
                        if n < victims.len() && (c.expired(now) || (evict && unassured)) {
                            victims[n] = get();
                            n += 1;
                        }
                    });
                    b += 1;
                }
            }
            for v in victims.iter().flatten() {
                if self.remove(net, v) && !v.expired(now) {
                    self.bump(Stat::EarlyDrop);
                }
            }
            if evict && n > 0 {
                evict = high(self);
            }
        }
    }

    /// The chain of `t` in the table: its hash scaled to the number of
    /// chains with a multiply and a shift (`tuple::bucket`,
    /// `reciprocal_scale` as `nf_conntrack` has it), not a division.
    fn bucket(&self, t: &Tuple) -> usize {
        tuple::bucket(t.hash(self.seed), BUCKETS as u32) as usize
    }

    /// The live connection with tuple `t`, and the direction `t` is.
    pub(crate) fn find(&self, t: &Tuple, now: u64) -> Option<(Ct<Conn>, u8)> {
        let guard = rcu::read_lock();
        self.table.find(self.bucket(t), &guard, |c, d| {
            c.tuple(d) == *t && !c.expired(now)
        })
    }

    /// PREROUTING and OUTPUT: attaches the packet to its connection.
    pub(crate) fn track(&self, tracker: &Tracker, net: &Net, skb: &mut SkBuff) -> Verdict {
        if !self.active() {
            return Verdict::ACCEPT;
        }
        // Already decided (untracked by the raw table, an ICMP error this
        // host made about a tracked packet, a looped-back packet), unless
        // the raw table only asked for a helper.
        let mut wanted = None;
        if skb.ct_info().is_some() {
            match skb.ct(tracker) {
                Some((t, _)) if t.get().is_template() => wanted = t.get().helper(),
                _ => return Verdict::ACCEPT,
            }
        }
        match self.classify(net, skb, wanted) {
            Decision::Pass => Verdict::ACCEPT,
            Decision::Drop => {
                self.bump(Stat::Drop);
                Verdict::DROP
            }
            Decision::Attach(conn, info) => {
                skb.set_ct(tracker, conn, info);
                Verdict::ACCEPT
            }
        }
    }

    /// What to do with a packet not attached yet.
    fn classify(&self, net: &Net, skb: &SkBuff, wanted: Option<Helper>) -> Decision {
        let len = skb.len() as usize;
        // The headers in place when what tracking reads of them is linear
        // (a TCP segment whose payload is in pages has its headers there);
        // copied only otherwise.
        let mut buf = [MaybeUninit::<u8>::uninit(); tuple::MAX_TUPLE_BYTES];
        let Some(data) = skb.head(&mut buf, tuple::tracking_span) else {
            self.bump(Stat::Invalid);
            return Decision::Pass;
        };
        let Ok(pkt) = packet::parse(data, len) else {
            self.bump(Stat::Invalid);
            return Decision::Pass;
        };
        let lookup = match tuple::from_packet(&pkt, data) {
            Ok(l) => l,
            Err(_) => {
                self.bump(Stat::Invalid);
                return Decision::Pass;
            }
        };
        let now = now_ms();
        // Read in place: the settings are 128 bytes, copied for every
        // packet by `config()`.
        let guard = rcu::read_lock();
        let config = self.config.read(&guard);
        match lookup {
            Lookup::Related(t) => {
                let Some((conn, d)) = self.find(&t, now) else {
                    self.bump(Stat::Invalid);
                    return Decision::Pass;
                };
                let info = if d == 0 {
                    ctinfo::RELATED
                } else {
                    ctinfo::RELATED_REPLY
                };
                self.bump(Stat::Found);
                Decision::Attach(conn, info)
            }
            Lookup::Conn(t) => {
                // A SYN reopening a closed connection removes it and comes
                // round once more to make a new one.
                for _ in 0..2 {
                    let Some((conn, d)) = self.find(&t, now) else {
                        return self.create(net, &pkt, data, t, now, config, wanted);
                    };
                    match self.update(net, &conn, d, &pkt, data, now, config) {
                        Some(Some(info)) => {
                            self.bump(Stat::Found);
                            return Decision::Attach(conn, info);
                        }
                        // Invalid: the packet goes on without a connection.
                        Some(None) => {
                            self.bump(Stat::Invalid);
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
        // The peer acknowledges what it received, which a NAT helper may
        // have lengthened or shortened: the tracker sees the
        // acknowledgement as the sender numbered its bytes.
        let mut adjusted = *pkt;
        if status & IPS_SEQ_ADJUST != 0 {
            if let packet::Transport::Tcp(t) = &mut adjusted.transport {
                let _bh = bh::Guard::new();
                let adj = conn.seqadj.lock();
                if let Some(other) = adj.get(usize::from(1 - d)) {
                    let off = other.offset(t.ack.wrapping_sub(1));
                    t.ack = t.ack.wrapping_sub(off as u32);
                }
            }
        }
        let result = {
            let _bh = bh::Guard::new();
            let mut proto = conn.proto.lock();
            proto.packet(&adjusted, data, dir, &ctx)
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
                } else if status & IPS_EXPECTED != 0 {
                    ctinfo::RELATED
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
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        net: &Net,
        pkt: &packet::Packet,
        data: &[u8],
        t: Tuple,
        now: u64,
        config: &Config,
        wanted: Option<Helper>,
    ) -> Decision {
        let Ok((proto, timeout)) = ct::new_connection(pkt, data, now, config) else {
            self.bump(Stat::Invalid);
            return Decision::Pass;
        };
        let Some(reply) = t.invert() else {
            self.bump(Stat::Invalid);
            return Decision::Pass;
        };
        if self.count.load(Ordering::Relaxed) >= self.max.load(Ordering::Relaxed)
            && !self.early_drop(net, self.bucket(&t), now)
        {
            // The worker makes room for a retransmission.
            self.early_drop_wanted.store(true, Ordering::Relaxed);
            netfilter::log_ratelimited(4, b"rustfilter: conntrack table full, dropping packet");
            return Decision::Drop;
        }
        // A connection a helper announced is RELATED until it is answered;
        // it gets no helper of its own.
        let expectation = self.take_expectation(&t, now);
        let expected = expectation.is_some();
        let helper = match expected {
            true => None,
            false => wanted.or_else(|| {
                self.auto_helper
                    .load(Ordering::Relaxed)
                    .then(|| Helper::default_for(&t))
                    .flatten()
            }),
        };
        self.count.fetch_add(1, Ordering::Relaxed);
        let count = self.count.clone();
        let init = try_pin_init!(Conn {
            orig: t,
            reply: TupleCell::new(reply),
            masq_index: AtomicI32::new(0),
            status: AtomicU32::new(if expected { IPS_EXPECTED } else { 0 }),
            expires: AtomicU64::new(now.saturating_add(timeout)),
            mark: AtomicU32::new(0),
            helper: AtomicU8::new(helper.map_or(0, |h| h as u8)),
            line_seq: Default::default(),
            proto <- kernel::new_spinlock!(proto),
            seqadj <- kernel::new_spinlock!([SeqAdj::default(); 2]),
            count,
            counted: AtomicBool::new(true),
        }? Error);
        match Ct::new(init, GFP_ATOMIC) {
            Ok(conn) => {
                self.bump(Stat::New);
                if let Some(f) = expectation.and_then(|e| e.follow) {
                    let dst = NatRange {
                        min_port: f.dport,
                        max_port: f.dport,
                        ..NatRange::addr(f.dst)
                    };
                    let src = NatRange::addr(f.src);
                    if self.nat_setup(net, &conn, &src, Manip::Src) == Verdict::DROP
                        || self.nat_setup(net, &conn, &dst, Manip::Dst) == Verdict::DROP
                    {
                        return Decision::Drop;
                    }
                }
                let info = if expected {
                    ctinfo::RELATED
                } else {
                    ctinfo::NEW
                };
                Decision::Attach(conn, info)
            }
            Err(_) => {
                self.count.fetch_sub(1, Ordering::Relaxed);
                Decision::Drop
            }
        }
    }

    /// Evicts a connection that is not assured (or is closing) from chain
    /// `bucket` and those after it, to make room. Whether one went.
    fn early_drop(&self, net: &Net, bucket: usize, now: u64) -> bool {
        // A non-zero divisor: no division-by-zero panic path.
        let Some(buckets) = core::num::NonZeroUsize::new(self.table.buckets()) else {
            return false;
        };
        for i in 0..EARLY_DROP_BUCKETS {
            let b = bucket.wrapping_add(i as usize) % buckets;
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
                    self.bump(Stat::EarlyDrop);
                    return true;
                }
            }
        }
        false
    }

    /// INPUT and POSTROUTING, last: links a new connection in the table.
    /// A connection with the same tuple made meanwhile (a race between two
    /// first packets) wins; the packet is dropped.
    ///
    /// Before that the connection's helper looks at the packet, and the
    /// sequence numbers of a connection whose payload a NAT helper resized
    /// are adjusted (not for looped-back packets, which were adjusted on
    /// their way out).
    pub(crate) fn confirm(
        &self,
        tracker: &Tracker,
        state: &HookState,
        skb: &mut SkBuff,
    ) -> Verdict {
        let net = state.net();
        let (helped, info) = match skb.ct(tracker) {
            Some((a, info)) if !a.get().is_template() => {
                let c = a.get();
                let work = c.helper().is_some() || c.status() & IPS_SEQ_ADJUST != 0;
                (work.then(|| a.to_ct()), info)
            }
            _ => return Verdict::ACCEPT,
        };
        if let Some(conn) = helped {
            if self.help(skb, &conn, info) == Verdict::DROP {
                return Verdict::DROP;
            }
            // Asked only here: most packets need not know.
            if conn.status() & IPS_SEQ_ADJUST != 0
                && !(skb.is_looped_back() || state.in_is_loopback())
                && self.seq_adjust(skb, &conn, u8::from(ctinfo::is_reply(info))) == Verdict::DROP
            {
                self.bump(Stat::Drop);
                return Verdict::DROP;
            }
        }
        let Some((attached, info)) = skb.ct(tracker) else {
            return Verdict::ACCEPT;
        };
        let c = attached.get();
        if ctinfo::is_reply(info) || c.status() & IPS_CONFIRMED != 0 {
            return Verdict::ACCEPT;
        }
        let conn = attached.to_ct();
        let tuples = c.tuples();
        let buckets = [self.bucket(&tuples[0]), self.bucket(&tuples[1])];
        let now = now_ms();
        let clash = |other: &Conn, odir: u8, ndir: u8| {
            tuples.get(usize::from(ndir)) == Some(&other.tuple(odir)) && !other.expired(now)
        };
        match self.table.insert(&conn, buckets, clash) {
            Ok(()) => {
                c.status.fetch_or(IPS_CONFIRMED, Ordering::AcqRel);
                self.event(net, proto::CT_EVENT_NEW, &conn);
                Verdict::ACCEPT
            }
            Err(InsertError::Linked) => {
                c.status.fetch_or(IPS_CONFIRMED, Ordering::AcqRel);
                Verdict::ACCEPT
            }
            Err(InsertError::Clash) => {
                self.bump(Stat::InsertFailed);
                Verdict::DROP
            }
        }
    }
}
