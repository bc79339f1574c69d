// SPDX-License-Identifier: GPL-2.0

//! The netlink queue: rustfilter as the kernel's queue handler, speaking
//! nfnetlink_queue's protocol (`NFNL_SUBSYS_QUEUE`).
//!
//! A hook verdict `NF_QUEUE_NR(n)` (rustfilter's NFQUEUE target, iptables'
//! or nftables' own) hands the packet to [`QueueHandler::enqueue`], which
//! sends it to the listener bound to queue `n` in the packet's namespace as
//! an `NFQNL_MSG_PACKET` and keeps it on the queue's [`Instance`] until a
//! verdict comes ([`QueueSubsys`]); the packet then continues through the
//! remaining hook functions (`Entry::reinject`). The protocol decisions
//! (attribute policies, the CONFIG state machine, verdict decoding, the
//! PACKET layout, payload fix-up) are the pure core's, `crate::nfqueue`.
//!
//! Locking: the instances of a namespace are an RCU-published vector
//! (lookups take no lock; bind and unbind copy it under `writers` and wait
//! a grace period); each instance's queue is under its spinlock, taken with
//! softirqs disabled (packets arrive in softirq context and in process
//! context). A packet is never reinjected with that lock held: reinjection
//! can queue it again.

use crate::conntrack::{now_ms, Conn, Tracker};
use crate::ct::{status::IPS_CONFIRMED, ProtoState};
use crate::nfqueue::{
    attrs::{Policy, Table, BATCH_POLICY, CONFIG_POLICY, VERDICT_POLICY},
    config::{self, Action, CopyMode, QueueConfig, Support},
    consts::{
        NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO, NFQA_CFG_F_UID_GID,
        NFQNL_MSG_CONFIG, NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_VERDICT_BATCH, NF_ACCEPT,
        NF_DROP,
    },
    ctglue::{self, CtGlue, CT_GLUE_MAX},
    fixup,
    packet::{self, HwAddr, PacketCt, PacketMeta, Timestamp},
    procfmt::ProcLine,
    verdict as qverdict, Errno,
};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::alloc::flags::{GFP_ATOMIC, GFP_KERNEL};
use kernel::net::genetlink::AttrPolicy;
use kernel::net::namespace::{self, DeviceEvent, Net, PernetId, PernetState};
use kernel::net::netlink::{self, ReleaseNotifier, Released};
use kernel::net::nfnetlink::{self, Callback, Kind, Message, Request, Subsystem};
use kernel::net::nfqueue::{Entry, EntryList, Handler, HandlerRegistration, PacketFacts};
use kernel::prelude::*;
use kernel::sync::{bh, rcu, Arc, Mutex, SpinLock};

/// The queue: every registration it needs, dropped in this order on
/// unload (no new packets, no more requests, no more release events, then
/// the per-namespace state and the packets still queued, which are
/// dropped).
pub(crate) struct Queue {
    _handler: Pin<KBox<HandlerRegistration<QueueHandler>>>,
    _subsys: Pin<KBox<nfnetlink::Registration<QueueSubsys>>>,
    _release: Pin<KBox<ReleaseNotifier<ListenerWatch>>>,
    /// Keeps `nfnetlink_queue` from loading (it would find the subsystem
    /// taken and fail less clearly).
    _refuse: Pin<KBox<kernel::module_refuse::RefuseLoad>>,
}

impl Queue {
    /// Becomes the kernel's queue handler.
    pub(crate) fn register(module: &'static ThisModule, tracker: Arc<Tracker>) -> Result<Self> {
        let refuse = kernel::module_refuse::RefuseLoad::new(
            b"nfnetlink_queue",
            kernel::c_str!("rustfilter: the netlink queue is rustfilter's while it is loaded; nfnetlink_queue refused"),
        )?;
        // Before any state is created (its /proc file would clash with
        // nfnetlink_queue's).
        nfnetlink::check_free(kernel::net::nfqueue::NFNL_SUBSYS_QUEUE).inspect_err(say_busy)?;
        let queues = Arc::new(
            Queues {
                pernet: namespace::Registration::<QueueNet>::new(())?,
                tracker,
            },
            GFP_KERNEL,
        )?;
        let subsys = nfnetlink::Registration::new(
            QueueSubsys {
                queues: queues.clone(),
            },
            module,
        )
        .inspect_err(say_busy)?;
        let release = ReleaseNotifier::new(
            netlink::protocol::NETFILTER,
            ListenerWatch {
                queues: queues.clone(),
            },
        )?;
        let handler = HandlerRegistration::new(QueueHandler { queues }, &subsys)?;
        Ok(Self {
            _handler: handler,
            _subsys: subsys,
            _release: release,
            _refuse: refuse,
        })
    }
}

/// Explains `EBUSY` from claiming the queue's subsystem.
fn say_busy(e: &Error) {
    if *e == EBUSY {
        pr_err!("nfnetlink_queue is loaded; unload it first\n");
    }
}

/// What the registrations share: the per-namespace queue state.
pub(crate) struct Queues {
    pernet: Pin<KBox<namespace::Registration<QueueNet>>>,
    /// The connection tracker, for the connection of a packet.
    tracker: Arc<Tracker>,
}

impl Queues {
    fn net<'a>(&'a self, net: &'a Net) -> Option<&'a QueueNet> {
        self.pernet.try_get(net)
    }
}

static QUEUE_NET_ID: PernetId = PernetId::new();

/// The queues of one namespace.
#[pin_data]
pub(crate) struct QueueNet {
    /// Bound queues, sorted by number.
    instances: rcu::RcuBox<KVec<Arc<Instance>>>,
    /// Serialises changes of `instances`.
    #[pin]
    writers: Mutex<()>,
}

impl PernetState for QueueNet {
    fn id() -> &'static PernetId {
        &QUEUE_NET_ID
    }

    type Shared = ();

    fn init(_net: &Net, _shared: &()) -> impl PinInit<Self, Error> {
        try_pin_init!(QueueNet {
            instances: rcu::RcuBox::new(KBox::new(KVec::new(), GFP_KERNEL)?),
            writers <- kernel::new_mutex!(()),
        }? Error)
    }

    const PROC_NETFILTER: Option<&'static CStr> = Some(kernel::c_str!("nfnetlink_queue"));

    /// `/proc/net/netfilter/nfnetlink_queue`: a line per bound queue, in
    /// upstream's format (tools wait on it to see a listener bound).
    fn proc_show(&self, _net: &Net, out: &mut namespace::SeqFile<'_>) {
        let guard = rcu::read_lock();
        for inst in self.instances.read(&guard).iter() {
            let line = {
                let cfg = inst.cfg();
                let l = inst.lock();
                ProcLine {
                    queue: inst.num,
                    portid: inst.portid,
                    waiting: l.total,
                    copy_mode: cfg.copy_mode as u8,
                    copy_range: cfg.copy_range,
                    dropped: l.dropped,
                    user_dropped: l.user_dropped,
                    id_sequence: l.id_seq,
                }
            };
            let _ = core::fmt::Write::write_fmt(out, format_args!("{line}"));
        }
    }

    const DEVICE_EVENTS: bool = true;

    /// Packets hold their devices: a device going down takes its queued
    /// packets with it, so that it can go away (`nfqnl_dev_drop`).
    fn device_event(&self, _net: &Net, event: DeviceEvent) {
        if let DeviceEvent::Down { ifindex } = event {
            let guard = rcu::read_lock();
            for inst in self.instances.read(&guard).iter() {
                inst.drop_matching(|e| e.uses_device(ifindex));
            }
        }
    }
}

impl QueueNet {
    /// The instance of queue `num`.
    fn find<'a>(&'a self, guard: &'a rcu::Guard, num: u16) -> Option<&'a Arc<Instance>> {
        let v = self.instances.read(guard);
        v.binary_search_by_key(&num, |i| i.num)
            .ok()
            .and_then(|at| v.get(at))
            .filter(|i| !i.dead.load(Ordering::Acquire))
    }

    /// Publishes the instances for which `keep` holds plus `add`, and
    /// returns those removed (no reader can reach them any more). Called
    /// with `writers` held; sleeps.
    fn rebuild(
        &self,
        mut keep: impl FnMut(&Instance) -> bool,
        add: Option<Arc<Instance>>,
    ) -> Result<KVec<Arc<Instance>>> {
        // Writers are excluded, so the length read here holds below; the
        // vectors are allocated outside the RCU read-side section and the
        // pushes under it never grow them.
        let len = {
            let guard = rcu::read_lock();
            self.instances.read(&guard).len()
        };
        let mut new = KVec::with_capacity(len + 1, GFP_KERNEL)?;
        let mut gone = KVec::with_capacity(len, GFP_KERNEL)?;
        {
            let guard = rcu::read_lock();
            let mut add = add;
            for inst in self.instances.read(&guard).iter() {
                if let Some(a) = add.take_if(|a| a.num < inst.num) {
                    new.push(a, GFP_ATOMIC)?;
                }
                if keep(inst) && !inst.dead.load(Ordering::Acquire) {
                    new.push(inst.clone(), GFP_ATOMIC)?;
                } else {
                    gone.push(inst.clone(), GFP_ATOMIC)?;
                }
            }
            if let Some(a) = add {
                new.push(a, GFP_ATOMIC)?;
            }
        }
        drop(self.instances.replace(KBox::new(new, GFP_KERNEL)?));
        Ok(gone)
    }
}

/// One bound queue.
#[pin_data]
struct Instance {
    num: u16,
    /// The listener's port.
    portid: u32,
    /// The rest of the configuration ([`QueueConfig::pack`]): read by
    /// the packet path without the lock, as upstream reads the queue's
    /// settings; written by the one config message at a time.
    settings: AtomicU64,
    /// The listener is gone but the instance could not be unpublished
    /// (out of memory): lookups skip it, the next change of the vector
    /// drops it.
    dead: AtomicBool,
    #[pin]
    inner: SpinLock<Inner>,
}

/// An instance's state: its packets.
struct Inner {
    /// The last packet id given.
    id_seq: u32,
    /// Packets on `list`.
    total: u32,
    /// Packets dropped because the queue was full.
    dropped: u32,
    /// Packets dropped because the listener's socket buffer was full.
    user_dropped: u32,
    list: EntryList,
}

/// An instance's state, locked with softirqs disabled.
struct Locked<'a> {
    inner: kernel::sync::lock::Guard<'a, Inner, kernel::sync::lock::spinlock::SpinLockBackend>,
    /// Dropped after `inner`: softirqs come back once the lock is free.
    _bh: bh::Guard,
}

impl core::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl core::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.inner
    }
}

impl Instance {
    fn new(num: u16, cfg: QueueConfig) -> Result<Arc<Self>> {
        let list = EntryList::new(GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Instance {
                num,
                portid: cfg.portid,
                settings: AtomicU64::new(cfg.pack()),
                dead: AtomicBool::new(false),
                inner <- kernel::new_spinlock!(Inner {
                    id_seq: 0,
                    total: 0,
                    dropped: 0,
                    user_dropped: 0,
                    list,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// The configuration.
    fn cfg(&self) -> QueueConfig {
        QueueConfig::unpack(self.portid, self.settings.load(Ordering::Relaxed))
    }

    /// Replaces the configuration: packets queued from now on see it.
    fn set_cfg(&self, cfg: &QueueConfig) {
        self.settings.store(cfg.pack(), Ordering::Relaxed);
    }

    fn lock(&self) -> Locked<'_> {
        let bh = bh::Guard::new();
        Locked {
            inner: self.inner.lock(),
            _bh: bh,
        }
    }

    /// Takes the first packet for which `pred` holds off the queue.
    fn take_first(&self, pred: impl FnMut(&Entry) -> bool) -> Option<Entry> {
        let mut l = self.lock();
        let e = l.list.take_first(pred)?;
        l.total = l.total.saturating_sub(1);
        Some(e)
    }

    /// Drops every queued packet for which `pred` holds.
    fn drop_matching(&self, mut pred: impl FnMut(&Entry) -> bool) {
        // Each packet is freed outside the lock.
        while let Some(e) = self.take_first(&mut pred) {
            drop(e);
        }
    }

    /// Releases every queued packet of a queue nobody listens to any
    /// more: accepted if the queue fails open, else dropped.
    fn release_all(&self) {
        let accept = self.cfg().has_flag(NFQA_CFG_F_FAIL_OPEN);
        while let Some(e) = self.take_first(|_| true) {
            if accept {
                e.reinject(NF_ACCEPT);
            } else {
                drop(e);
            }
        }
    }
}

/// The kernel's queue handler.
pub(crate) struct QueueHandler {
    queues: Arc<Queues>,
}

impl Handler for QueueHandler {
    fn enqueue(&self, net: &Net, entry: Entry, queue: u16) -> Result<(), (Error, Entry)> {
        let Some(qnet) = self.queues.net(net) else {
            return Err((ESRCH, entry));
        };
        let guard = rcu::read_lock();
        let Some(inst) = qnet.find(&guard, queue) else {
            return Err((ESRCH, entry));
        };
        // Read without the lock: one lock round per packet, the one that
        // queues it.
        let cfg = inst.cfg();
        let facts = entry.facts();
        if !facts.gso || cfg.has_flag(NFQA_CFG_F_GSO) {
            return enqueue(
                net,
                &self.queues.tracker,
                inst,
                &cfg,
                Some(facts),
                entry,
                queue,
            );
        }
        // The listener takes packets as they go on the wire: one message
        // per segment (nfqnl_enqueue_packet). After the first failure the
        // remaining segments are dropped. Segments of a connection not yet
        // confirmed share it: all but the first are dropped at their
        // verdict unless it was confirmed by then.
        let unconfirmed = conn_unconfirmed(&self.queues.tracker, &entry);
        let mut segments = entry.segment()?;
        let mut failed = false;
        let mut first = true;
        while let Some(mut seg) = segments.pop_front() {
            if failed {
                continue;
            }
            if unconfirmed && !first {
                seg.mark_ct_unconfirmed();
            }
            first = false;
            if let Err((_, seg)) = enqueue(net, &self.queues.tracker, inst, &cfg, None, seg, queue)
            {
                failed = true;
                drop(seg);
            }
        }
        Ok(())
    }

    fn hook_drop(&self, net: &Net) {
        let Some(qnet) = self.queues.net(net) else {
            return;
        };
        let guard = rcu::read_lock();
        for inst in qnet.instances.read(&guard).iter() {
            inst.drop_matching(|_| true);
        }
    }
}

/// Whether the packet of `entry` has a connection not confirmed yet.
fn conn_unconfirmed(tracker: &Tracker, entry: &Entry) -> bool {
    entry
        .skb()
        .ct(tracker)
        .is_some_and(|(c, _)| c.get().status() & IPS_CONFIRMED == 0)
}

/// Hands `entry` to the listener of `inst` (`nfqnl_enqueue_packet`).
///
/// `cfg` is the queue's configuration as the handler read it, `facts`
/// the packet's if the handler read them (not for a segment).
fn enqueue(
    net: &Net,
    tracker: &Tracker,
    inst: &Instance,
    cfg: &QueueConfig,
    facts: Option<PacketFacts>,
    mut entry: Entry,
    queue: u16,
) -> Result<(), (Error, Entry)> {
    if cfg.copy_mode == CopyMode::None {
        // Bound but not told what to copy yet: a drop, not a bypass.
        return Err((EINVAL, entry));
    }
    let msg = match build_message(net, tracker, cfg, facts, &mut entry, queue) {
        Ok(msg) => msg,
        Err(e) => return Err((e, entry)),
    };
    let (mut msg, id_offset) = msg;
    let mut l = inst.lock();
    let fail_open = cfg.has_flag(NFQA_CFG_F_FAIL_OPEN);
    if l.total >= cfg.maxlen {
        if fail_open {
            drop(l);
            entry.reinject(NF_ACCEPT);
            return Ok(());
        }
        l.dropped = l.dropped.wrapping_add(1);
        let total = l.total;
        drop(l);
        warn_full(total);
        return Err((errno(Errno::NoBufs), entry));
    }
    let id = qverdict::next_id(l.id_seq);
    l.id_seq = id;
    packet::set_packet_id(msg.bytes_mut(), id_offset, id);
    entry.set_id(id);
    // Sent under the lock, as upstream does: the listener cannot answer
    // before the packet is on the queue.
    match msg.unicast(net, inst.portid) {
        Ok(()) => {
            l.list.push_back(entry);
            l.total += 1;
            Ok(())
        }
        Err(e) => {
            if fail_open {
                drop(l);
                entry.reinject(NF_ACCEPT);
                return Ok(());
            }
            l.user_dropped = l.user_dropped.wrapping_add(1);
            Err((e, entry))
        }
    }
}

/// `nf_queue: full at N entries, dropping packets(s)`, rate-limited, as
/// upstream logs it.
fn warn_full(total: u32) {
    // Every packet dropped asks; few lines are written.
    if !kernel::net::netfilter::net_ratelimit() {
        return;
    }
    /// A line being formatted into a fixed buffer (cut when full).
    struct Line {
        buf: [u8; 64],
        len: usize,
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &b in s.as_bytes() {
                if let Some(dst) = self.buf.get_mut(self.len) {
                    *dst = b;
                    self.len += 1;
                }
            }
            Ok(())
        }
    }
    let mut line = Line {
        buf: [0; 64],
        len: 0,
    };
    let _ = core::fmt::write(
        &mut line,
        format_args!("nf_queue: full at {total} entries, dropping packets(s)"),
    );
    kernel::net::netfilter::log(4, line.buf.get(..line.len).unwrap_or(&[]));
}

/// The PACKET message for `entry` (`nfqnl_build_packet_message`), with
/// the id left to fill in at the returned offset.
fn build_message(
    net: &Net,
    tracker: &Tracker,
    cfg: &QueueConfig,
    facts: Option<PacketFacts>,
    entry: &mut Entry,
    queue: u16,
) -> Result<(Message, usize)> {
    let mut f = facts.unwrap_or_else(|| entry.facts());
    if packet::needs_checksum_help(cfg.copy_mode, cfg.flags, f.csum_partial) {
        entry.checksum_help()?;
        // Read again: the listener is told what the bytes it gets are.
        f = entry.facts();
    }
    let hook = entry.hook();
    let pf = entry.pf();
    let copy = packet::copy_len(
        cfg.copy_mode,
        cfg.copy_range,
        f.len,
        f.headlen,
        f.frags_readable,
    );
    let csum_verify = packet::csum_verify(hook, f.has_socket, f.csum_unnecessary);
    let uid_gid = if cfg.has_flag(NFQA_CFG_F_UID_GID) {
        entry.skb().socket_owner(net)
    } else {
        None
    };
    let mut meta = PacketMeta {
        id: 0,
        hw_protocol: packet::hw_protocol(pf).unwrap_or(0),
        hook,
        indev: u32::try_from(f.indev).ok().filter(|&i| i != 0),
        outdev: u32::try_from(f.outdev).ok().filter(|&i| i != 0),
        mark: f.mark,
        priority: f.priority,
        hwaddr: (f.hwaddr.1 != 0).then_some(HwAddr {
            len: f.hwaddr.1,
            addr: f.hwaddr.0,
        }),
        timestamp: (f.tstamp_ns != 0).then(|| Timestamp::from_ns(f.tstamp_ns)),
        uid_gid,
        ct: None,
        cap_len: copy.cap_len,
        skb_info: packet::skb_info(f.csum_partial, csum_verify, f.gso),
    };
    // Made (and zeroed) only for a packet whose connection is sent.
    let mut ct_buf;
    if cfg.has_flag(NFQA_CFG_F_CONNTRACK) {
        if let Some((attached, info)) = entry.skb().ct(tracker) {
            ct_buf = [0u8; CT_GLUE_MAX];
            let n = ctglue::encode_ct(&mut ct_buf, &ct_glue(attached.get())).map_err(|_| ENOMEM)?;
            meta.ct = Some(PacketCt {
                attrs: ct_buf.get(..n).unwrap_or(&[]),
                info: info.into(),
            });
        }
    }
    let head = packet::encoded_len(&meta, copy.data_len);
    let data_len = copy.data_len as usize;
    let mut msg = Message::new(head + data_len)?;
    let enc = packet::encode_packet(msg.bytes_mut(), &meta, pf, queue, copy.data_len)
        .map_err(|_| ENOMEM)?;
    msg.copy_packet(enc.len, entry.skb(), data_len)?;
    Ok((msg, enc.id_offset))
}

/// What `NFQA_CT` tells of a connection.
fn ct_glue(conn: &Conn) -> CtGlue<'static> {
    let [orig, reply] = conn.tuples();
    // An identifier that is stable for the connection and does not give
    // away a kernel address (upstream hashes the pointer).
    let id = crate::nfqueue::balance::jhash_3words(
        u32::from_ne_bytes(orig.saddr),
        u32::from_ne_bytes(orig.daddr),
        (u32::from(orig.sport) << 16) | u32::from(orig.dport),
        u32::from(orig.protocol),
    );
    let left = conn.expires().saturating_sub(now_ms()) / 1000;
    CtGlue {
        orig,
        reply,
        id,
        status: conn.status(),
        timeout: u32::try_from(left).unwrap_or(u32::MAX),
        mark: conn.mark.load(Ordering::Relaxed),
        tcp_state: match conn.proto() {
            ProtoState::Tcp(tcp) => Some(tcp.state as u8),
            _ => None,
        },
        helper: conn.helper().map(|h| h.name()),
    }
}

/// The kernel's attribute policy for a core policy table.
const fn kernel_policy<const N: usize>(p: &[Policy; N]) -> [AttrPolicy; N] {
    let mut out = [AttrPolicy::MinLen { min_len: 0 }; N];
    let mut i = 0;
    while i < N {
        out[i] = match p[i] {
            Policy::Any => AttrPolicy::MinLen { min_len: 0 },
            Policy::MinLen(n) => AttrPolicy::MinLen { min_len: n },
            Policy::U16 => AttrPolicy::U16,
            Policy::U32 => AttrPolicy::U32,
            Policy::Nested => AttrPolicy::Nested,
            Policy::MaxLen(n) => AttrPolicy::Binary { max_len: n },
        };
        i += 1;
    }
    out
}

const CONFIG_KPOLICY: [AttrPolicy; CONFIG_POLICY.len()] = kernel_policy(&CONFIG_POLICY);
const VERDICT_KPOLICY: [AttrPolicy; VERDICT_POLICY.len()] = kernel_policy(&VERDICT_POLICY);
const BATCH_KPOLICY: [AttrPolicy; BATCH_POLICY.len()] = kernel_policy(&BATCH_POLICY);
/// `NFQNL_MSG_PACKET` goes from the kernel to userspace only; sent to the
/// kernel it is refused (`ENOTSUPP`) whatever its attributes.
const ANY_KPOLICY: [AttrPolicy; VERDICT_POLICY.len()] =
    [AttrPolicy::MinLen { min_len: 0 }; VERDICT_POLICY.len()];

/// The queue's nfnetlink subsystem: CONFIG, VERDICT, VERDICT_BATCH.
pub(crate) struct QueueSubsys {
    queues: Arc<Queues>,
}

fn errno(e: Errno) -> Error {
    Error::from_errno(e.to_errno())
}

impl Subsystem for QueueSubsys {
    const NAME: &'static CStr = kernel::c_str!("nf_queue");
    const ID: u8 = kernel::net::nfqueue::NFNL_SUBSYS_QUEUE;
    const CALLBACKS: &'static [Option<Callback>] = &[
        // NFQNL_MSG_PACKET
        Some(Callback {
            kind: Kind::Rcu,
            policy: &ANY_KPOLICY,
        }),
        // NFQNL_MSG_VERDICT
        Some(Callback {
            kind: Kind::Rcu,
            policy: &VERDICT_KPOLICY,
        }),
        // NFQNL_MSG_CONFIG
        Some(Callback {
            kind: Kind::Mutex,
            policy: &CONFIG_KPOLICY,
        }),
        // NFQNL_MSG_VERDICT_BATCH
        Some(Callback {
            kind: Kind::Rcu,
            policy: &BATCH_KPOLICY,
        }),
    ];

    fn call(&self, msg: u8, req: &Request<'_>) -> Result {
        let r = match msg {
            NFQNL_MSG_CONFIG => self.config(req),
            NFQNL_MSG_VERDICT => self.verdict(req),
            NFQNL_MSG_VERDICT_BATCH => self.batch(req),
            NFQNL_MSG_PACKET => Err(Errno::NotSupp),
            _ => Err(Errno::Inval),
        };
        r.map_err(errno)
    }
}

impl QueueSubsys {
    /// `NFQNL_MSG_CONFIG` (`nfqnl_recv_config`): the core decides, this
    /// applies.
    fn config(&self, req: &Request<'_>) -> Result<(), Errno> {
        let tb = Table::from_fn(&CONFIG_POLICY, |t| req.attr(t))?;
        let request = config::decode_config(&tb);
        let net = req.net();
        let qnet = self.queues.net(net).ok_or(Errno::NoDev)?;
        let num = req.res_id();
        let _w = qnet.writers.lock();
        let existing = {
            let guard = rcu::read_lock();
            qnet.find(&guard, num).cloned()
        };
        let current = existing.as_ref().map(|i| i.cfg());
        let support = Support {
            conntrack: true,
            secctx: false,
        };
        match config::apply(current.as_ref(), req.portid(), &request, support)? {
            Action::Nothing => {}
            Action::Create(cfg) => {
                let inst = Instance::new(num, cfg).map_err(|_| Errno::NoMem)?;
                qnet.rebuild(|_| true, Some(inst))
                    .map_err(|_| Errno::NoMem)?;
            }
            Action::Update(cfg) => {
                if let Some(inst) = existing {
                    inst.set_cfg(&cfg);
                }
            }
            Action::Destroy => {
                let gone = qnet
                    .rebuild(|i| i.num != num, None)
                    .map_err(|_| Errno::NoMem)?;
                for inst in gone.iter() {
                    inst.release_all();
                }
            }
        }
        Ok(())
    }

    /// `verdict`, or DROP for a segment whose shared connection is still
    /// not confirmed (`nfqnl_reinject`): only the segment that confirms it
    /// may set it up.
    fn settle_unconfirmed(&self, entry: &Entry, verdict: u32) -> u32 {
        if verdict != NF_DROP
            && entry.ct_unconfirmed()
            && conn_unconfirmed(&self.queues.tracker, entry)
        {
            NF_DROP
        } else {
            verdict
        }
    }

    /// The bound instance `req` is about, if its sender is the listener
    /// (`verdict_instance_lookup`).
    fn listener<'a>(
        &'a self,
        req: &'a Request<'_>,
        guard: &'a rcu::Guard,
    ) -> Result<&'a Arc<Instance>, Errno> {
        let qnet = self.queues.net(req.net()).ok_or(Errno::NoDev)?;
        let inst = qnet.find(guard, req.res_id());
        qverdict::check_listener(inst.map(|i| i.portid), req.portid())?;
        inst.ok_or(Errno::NoDev)
    }

    /// `NFQNL_MSG_VERDICT` (`nfqnl_recv_verdict`).
    fn verdict(&self, req: &Request<'_>) -> Result<(), Errno> {
        // nfnetlink checked every attribute against the policy; only those
        // the decoder reads are looked up.
        let tb = Table::from_fn_of(&VERDICT_POLICY, &qverdict::VERDICT_READS, |t| req.attr(t))?;
        let guard = rcu::read_lock();
        let inst = self.listener(req, &guard)?;
        let v = qverdict::decode_verdict(&tb)?;
        let mut entry = inst.take_first(|e| e.id() == v.id).ok_or(Errno::NoEnt)?;
        let mut verdict = self.settle_unconfirmed(&entry, v.verdict);
        if let Some(payload) = v.payload {
            let pf = entry.pf();
            let replaced = entry.replace_packet(payload, |bytes| {
                // A packet the listener left inconsistent is sent as it is.
                let _ = fixup::fixup(pf, bytes);
            });
            if replaced.is_err() {
                verdict = NF_DROP;
            }
        }
        if let Some(ct_mark) = v.ct_mark {
            if let Some((attached, _)) = entry.skb().ct(&self.queues.tracker) {
                let conn = attached.get();
                let old = conn.mark.load(Ordering::Relaxed);
                conn.mark.store(ct_mark.apply(old), Ordering::Relaxed);
            }
        }
        if let Some(mark) = v.mark {
            entry.skb_mut().set_mark(mark);
        }
        if let Some(priority) = v.priority {
            entry.set_priority(priority);
        }
        entry.reinject(verdict);
        Ok(())
    }

    /// `NFQNL_MSG_VERDICT_BATCH` (`nfqnl_recv_verdict_batch`): every
    /// packet from the head of the queue up to the given id.
    fn batch(&self, req: &Request<'_>) -> Result<(), Errno> {
        let tb = Table::from_fn_of(&BATCH_POLICY, &qverdict::BATCH_READS, |t| req.attr(t))?;
        let guard = rcu::read_lock();
        let inst = self.listener(req, &guard)?;
        let b = qverdict::decode_batch(&tb)?;
        let mut taken = EntryList::new(GFP_ATOMIC).map_err(|_| Errno::NoMem)?;
        {
            let mut l = inst.lock();
            while let Some(id) = l.list.front_id() {
                if !qverdict::batch_takes(id, b.max_id) {
                    break;
                }
                if let Some(e) = l.list.pop_front() {
                    taken.push_back(e);
                    l.total = l.total.saturating_sub(1);
                }
            }
        }
        if taken.is_empty() {
            return Err(Errno::NoEnt);
        }
        while let Some(mut entry) = taken.pop_front() {
            let verdict = self.settle_unconfirmed(&entry, b.verdict);
            if let Some(mark) = b.mark {
                entry.skb_mut().set_mark(mark);
            }
            if let Some(priority) = b.priority {
                entry.set_priority(priority);
            }
            entry.reinject(verdict);
        }
        Ok(())
    }
}

/// Unbinds the queues of listeners whose sockets are closed.
pub(crate) struct ListenerWatch {
    queues: Arc<Queues>,
}

impl Released for ListenerWatch {
    fn released(&self, net: &Net, portid: u32) {
        let Some(qnet) = self.queues.net(net) else {
            return;
        };
        let _w = qnet.writers.lock();
        let mut bound = false;
        {
            let guard = rcu::read_lock();
            for inst in qnet.instances.read(&guard).iter() {
                if inst.portid == portid {
                    // From now on no lookup finds it.
                    inst.dead.store(true, Ordering::Release);
                    bound = true;
                }
            }
        }
        if !bound {
            return;
        }
        match qnet.rebuild(|i| i.portid != portid, None) {
            Ok(gone) => {
                for inst in gone.iter() {
                    inst.release_all();
                }
            }
            Err(_) => {
                // Out of memory for the new vector: the dead instances stay
                // in it, unreachable, until its next change; their packets
                // are released now, once no enqueue that found them before
                // they were marked can still be adding one (a grace period).
                rcu::synchronize();
                let guard = rcu::read_lock();
                for inst in qnet.instances.read(&guard).iter() {
                    if inst.portid == portid {
                        inst.release_all();
                    }
                }
            }
        }
    }
}
