// SPDX-License-Identifier: GPL-2.0

//! Registered tables (filter, mangle, raw, nat): the compiled, immutable
//! form of each, how it is published, and the walk of a packet through it.
//!
//! The nat table is not walked from its own table hook: the nat hooks of
//! `hooks.rs` walk it only for the first packet of a connection, and its
//! targets bind the connection (`Walk::nat`, `CtNet::nat_setup`).
//!
//! Like `ip_tables.c`: a table is replaced whole. The new ruleset is
//! decoded and validated by the pure core into fresh arrays, then published
//! with one pointer swap (RCU); packets see the old or the new table, never
//! a mix, and a failed replacement touches nothing.

use crate::conntrack::{self, CtNet, Tracker};
use crate::counters::Counters;
use crate::napt;
use crate::nat::NatRange;
use crate::packet;
use crate::proto::{self, Hook};
use crate::rules::plain::{PlainChain, PlainKey, PlainRule};
use crate::rules::targets::nat::NatKind;
use crate::rules::{
    self, matches::limit::LimitState, targets::log::LogPacket, AddrTypeDev, Chain, Context,
    DevName, Match, PacketInfo, Rule, RuleError, Table, TableInfo, TableKind,
};
use kernel::c_str;
use kernel::net::conntrack::ctinfo;
use kernel::net::netfilter::{self, HookState, Verdict, IFNAMSIZ};
use kernel::net::skbuff::SkBuff;
use kernel::prelude::*;
use kernel::sync::{bh, rcu, Arc, SpinLock};
use kernel::time::Ktime;

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

/// The tables this module registers, in the order of `NetState::tables`.
pub(crate) const KINDS: [TableKind; 4] = [
    TableKind::Filter,
    TableKind::Mangle,
    TableKind::Raw,
    TableKind::Nat,
];

/// Index of `kind` in [`KINDS`].
pub(crate) fn index_of(kind: TableKind) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

/// How many bytes of a packet are copied when its headers are not linear
/// (the header parse reads at most [`packet::HEADERS_SPAN_MAX`]), and how
/// many a LOG line shows.
const PEEK: usize = 128;
// A copy of `PEEK` bytes holds whatever the header parse reads.
const _: () = assert!(PEEK >= packet::HEADERS_SPAN_MAX);

/// A plain chain compiled for the walk ([`rules::plain`]): its rules,
/// in their own array so that the walk reads them without a bounds
/// check, and the rest of it.
struct Plain {
    chain: PlainChain<Verdict>,
    rules: KVVec<PlainRule<Verdict>>,
}

/// A compiled table. Never modified after publication, except for the
/// counters and the limit buckets, which have their own synchronisation.
#[pin_data]
pub(crate) struct Compiled {
    info: TableInfo,
    /// Bit `hook` is set where the table has rules or a DROP policy; at
    /// other hooks packets pass without a walk (and are not counted by the
    /// ACCEPT policy).
    active: u8,
    /// By hook number, the table's chain there if it is plain and active
    /// ([`rules::plain`]): walked from the packet's key alone, its
    /// verdicts as the hook function returns them.
    plain: [Option<Plain>; Hook::COUNT],
    chains: KVVec<Chain>,
    rules: KVVec<Rule>,
    matches: KVVec<Match>,
    /// Packets and bytes (two counters) per rule, then per built-in chain
    /// policy: [`Table::counter_count`] pairs.
    #[pin]
    counters: Counters,
    /// The bucket of every limit match, by match index; taken with softirqs
    /// disabled (the hooks run in both contexts).
    #[pin]
    limits: SpinLock<KVVec<LimitState>>,
    /// Whether a rule needs connection tracking (a conntrack, state or
    /// connmark match; a CT or CONNMARK target): tracking runs in the
    /// namespace while such a table is committed.
    pub(crate) needs_conntrack: bool,
    /// Whether a rule has a `-m mac` match: only then is the Ethernet
    /// source copied for every packet.
    needs_mac: bool,
    /// Whether a rule names an interface (`-i`, `-o`): only then are the
    /// device names copied for every packet. Without such a rule no rule
    /// and no classifier key reads them.
    needs_iface: bool,
    /// The seed of NFQUEUE's `--queue-balance` hash ([`queue_seed`]).
    queue_seed: u32,
}

impl Compiled {
    fn table(&self) -> Option<Table<'_>> {
        Table::new(&self.info, &self.chains, &self.rules, &self.matches)
    }
}

/// What a table's RCU pointer points to: the table (none while it has no
/// ruleset, so an unused table costs one pointer test per packet) and its
/// generation, bumped by every commit.
pub(crate) struct Slot {
    pub(crate) generation: u32,
    pub(crate) compiled: Option<Arc<Compiled>>,
}

impl Slot {
    pub(crate) fn empty() -> Self {
        Slot {
            generation: 0,
            compiled: None,
        }
    }
}

/// Why a ruleset was refused: the core's error, or one of the module's.
pub(crate) enum CommitError {
    Rule(RuleError),
    Kernel(Error, &'static str),
}

impl From<kernel::alloc::AllocError> for CommitError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        CommitError::Kernel(ENOMEM, "rustfilter: out of memory")
    }
}

impl From<Error> for CommitError {
    fn from(e: Error) -> Self {
        CommitError::Kernel(e, "rustfilter: out of memory")
    }
}

/// Decodes, validates and compiles the ruleset `input` for `kind`. With
/// `keep_counters` the counters start from the values in the ruleset.
pub(crate) fn compile(
    kind: TableKind,
    input: &[u8],
    keep_counters: bool,
) -> Result<Arc<Compiled>, CommitError> {
    let sizes = rules::measure(input).map_err(CommitError::Rule)?;
    let mut chains = KVVec::from_elem(Chain::default(), sizes.chains, GFP_KERNEL)?;
    let mut rule_store = KVVec::from_elem(Rule::default(), sizes.rules, GFP_KERNEL)?;
    let mut matches = KVVec::from_elem(Match::default(), sizes.matches, GFP_KERNEL)?;
    let (info, base, active, plain) = {
        let storage = rules::Storage {
            chains: &mut chains,
            rules: &mut rule_store,
            matches: &mut matches,
        };
        let table = rules::decode(input, storage).map_err(CommitError::Rule)?;
        if table.kind() != kind {
            return Err(CommitError::Kernel(
                EINVAL,
                "rustfilter: the ruleset is for another table than the transaction",
            ));
        }
        let mut base = KVec::from_elem(0u64, 2 * table.counter_count(), GFP_KERNEL)?;
        if keep_counters {
            let mut set = |i: usize, c: rules::Counters| {
                if let Some(s) = base.get_mut(2 * i..2 * i + 2) {
                    s[0] = c.packets;
                    s[1] = c.bytes;
                }
            };
            for (i, r) in table.rules().iter().enumerate() {
                set(i, r.counters());
            }
            for (ci, c) in table.chains().iter().enumerate() {
                set(
                    table.policy_counter(ci as u16) as usize,
                    c.policy_counters(),
                );
            }
        }
        let active = Hook::ALL
            .iter()
            .filter(|h| table.active_at(**h))
            .fold(0u8, |m, h| m | rules::hook_bit(*h));
        // Plain chains where the table is active (elsewhere packets pass
        // uncounted), each with its rules in an array of its own. Each
        // chain is judged once, then compiled.
        let mut plain: [Option<Plain>; Hook::COUNT] = Default::default();
        for h in Hook::ALL {
            let Some(n) = table
                .active_at(h)
                .then(|| rules::plain::plain_len(&table, h))
                .flatten()
            else {
                continue;
            };
            let mut rules = KVVec::from_elem(PlainRule::default(), n, GFP_KERNEL)?;
            if let Some(chain) = rules::plain::compile(&table, h, &mut rules, to_kernel) {
                plain[h.number() as usize] = Some(Plain { chain, rules });
            }
        }
        (*table.info(), base, active, plain)
    };
    // Tracking runs while a rule needs connections: one that binds them
    // (the NAT targets), marks them or reads them. As upstream, where
    // these targets and matches hold `nf_ct_netns_get`: a nat table
    // without such a rule (flushed, say) tracks nothing.
    let needs_conntrack = matches.iter().any(|m| {
        matches!(
            m.kind(),
            proto::MT_CONNTRACK | proto::MT_STATE | proto::MT_CONNMARK
        )
    }) || rule_store.iter().any(|r| {
        matches!(
            r.target(),
            rules::Target::Ct(_)
                | rules::Target::ConnMark(_)
                | rules::Target::Snat(_)
                | rules::Target::Dnat(_)
                | rules::Target::Masquerade(_)
                | rules::Target::Redirect(_)
        )
    });
    let needs_mac = matches.iter().any(|m| m.kind() == proto::MT_MAC);
    let needs_iface = rule_store
        .iter()
        .any(|r| r.ip().in_iface.is_set() || r.ip().out_iface.is_set());
    let now = now_ns();
    let mut buckets = KVVec::from_elem(LimitState::default(), matches.len(), GFP_KERNEL)?;
    for (b, m) in buckets.iter_mut().zip(matches.iter()) {
        if let Match::Limit(l) = m {
            *b = l.initial_state(now);
        }
    }
    let seed = queue_seed();
    let compiled = Arc::pin_init(
        try_pin_init!(Compiled {
            info,
            active,
            plain,
            chains,
            rules: rule_store,
            matches,
            counters <- Counters::with_base(base),
            limits <- kernel::new_spinlock!(buckets),
            needs_conntrack,
            needs_mac,
            needs_iface,
            queue_seed: seed,
        }? Error),
        GFP_KERNEL,
    )?;
    Ok(compiled)
}

/// The seed of NFQUEUE's `--queue-balance` hash, drawn once for the
/// module as `xt_NFQUEUE.c` draws `jhash_initval` once: every table of
/// every namespace uses it, so a commit does not move flows to other
/// queues. Drawn where a table is compiled, never on a packet.
fn queue_seed() -> u32 {
    // Bit 32 says the seed in the low half has been drawn; the first
    // compile to store one wins, and everyone uses the winner's.
    static SEED: AtomicU64 = AtomicU64::new(0);
    let drawn = SEED.load(Ordering::Relaxed);
    if drawn != 0 {
        return drawn as u32;
    }
    let new = (1 << 32) | u64::from(netfilter::random_u32());
    match SEED.compare_exchange(0, new, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => new as u32,
        Err(won) => won as u32,
    }
}

fn now_ns() -> u64 {
    Ktime::ktime_get().to_ns() as u64
}

/// Checks that the `RULE_ORIGIN`s and `CHAIN_ORIGIN`s of `new` name rules
/// and built-in chains of `old`, the table the transaction is bound to.
pub(crate) fn check_origins(new: &Compiled, old: Option<&Compiled>) -> Result<(), &'static CStr> {
    let old_rules = old.map_or(0, |o| o.rules.len());
    if new
        .rules
        .iter()
        .filter_map(Rule::origin)
        .any(|o| o as usize >= old_rules)
    {
        return Err(c_str!(
            "rustfilter: a rule origin is beyond the rules of the generation the transaction is bound to"
        ));
    }
    // A table never committed reads as its built-in chains with zero
    // counters: there is nothing to carry from them.
    let Some(old) = old else {
        return Ok(());
    };
    if new
        .chains
        .iter()
        .filter_map(Chain::origin)
        .any(|o| !old.chains.get(o as usize).is_some_and(Chain::is_builtin))
    {
        return Err(c_str!(
            "rustfilter: a chain origin is not a built-in chain of the generation the transaction is bound to"
        ));
    }
    Ok(())
}

/// Carries counters from `old` to `new`, which replaced it: a rule with an
/// origin continues from that rule's counters, a built-in chain with an
/// origin from that chain's policy counters. `old` must no longer be
/// reachable by packets (a grace period has passed since `new` was
/// published), so its counters are final and nothing counted is lost.
/// `scratch` holds as many values as `old` has counters ([`carry_scratch`],
/// allocated before `new` is published: nothing here allocates, so nothing
/// can fail once the new table is in place).
pub(crate) fn carry_counters(old: &Compiled, new: &Compiled, scratch: &mut [u64]) -> Result {
    let (Some(old_table), Some(new_table)) = (old.table(), new.table()) else {
        return Err(EINVAL);
    };
    old.counters.final_values(scratch);
    let from = &*scratch;
    let pair = |i: u32| {
        let i = 2 * i as usize;
        match from.get(i..i + 2) {
            Some(&[p, b]) => Some([p, b]),
            _ => None,
        }
    };
    new.counters.update_base(|base| {
        let mut set = |to: u32, value: Option<[u64; 2]>| {
            let to = 2 * to as usize;
            if let (Some([p, b]), Some([vp, vb])) = (base.get_mut(to..to + 2), value) {
                (*p, *b) = (vp, vb);
            }
        };
        for (i, r) in new_table.rules().iter().enumerate() {
            if let Some(o) = r.origin() {
                set(i as u32, pair(o));
            }
        }
        for (i, c) in new_table.chains().iter().enumerate() {
            if let Some(o) = c.origin() {
                set(
                    new_table.policy_counter(i as u16),
                    pair(old_table.policy_counter(o as u16)),
                );
            }
        }
    });
    Ok(())
}

/// Room for [`carry_counters`] to read `old`'s counters into.
pub(crate) fn carry_scratch(old: &Compiled) -> Result<KVec<u64>> {
    Ok(KVec::from_elem(0u64, old.counters.len(), GFP_KERNEL)?)
}

/// Encoded table attributes: the first `len` bytes of `buf`.
pub(crate) struct Encoded {
    buf: KVVec<u8>,
    len: usize,
}

impl Encoded {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// The table's rules and counters in the ruleset format, for a dump. With
/// `zero` the counters restart from zero at the instant they are read.
pub(crate) fn encode(compiled: &Compiled, zero: bool) -> Result<Encoded> {
    let table = compiled.table().ok_or(EINVAL)?;
    let counters = compiled.counters.snapshot(zero)?;
    let pair = |i: u32| rules::Counters {
        packets: counters.get(2 * i as usize).copied().unwrap_or(0),
        bytes: counters.get(2 * i as usize + 1).copied().unwrap_or(0),
    };
    let mut size = 4096 + table.rules().len() * 256 + table.chains().len() * 128;
    loop {
        let mut buf = KVVec::from_elem(0u8, size, GFP_KERNEL)?;
        let mut w = crate::nla::Writer::new(&mut buf);
        match rules::encode_table(&mut w, &table, pair) {
            Ok(()) => {
                let len = w.len();
                return Ok(Encoded { buf, len });
            }
            Err(crate::nla::NlaError::NoSpace) if size < (1 << 30) => size *= 2,
            Err(_) => return Err(EINVAL),
        }
    }
}

/// The kernel's answers and actions for one packet's walk.
struct Walk<'a> {
    compiled: &'a Compiled,
    counters: &'a kernel::percpu::PerCpuCounters,
    skb: &'a mut SkBuff,
    state: &'a HookState,
    ct: &'a CtNet,
    tracker: &'a Tracker,
    /// Set by REJECT, carried out after the walk.
    reject: Option<rules::targets::reject::RejectWith>,
}

impl Context for Walk<'_> {
    fn count(&mut self, counter: u32, bytes: u32) {
        count(self.counters, counter, bytes);
    }

    fn addr_type(&mut self, addr: [u8; 4], dev: AddrTypeDev) -> u8 {
        let which = match dev {
            AddrTypeDev::Any => None,
            AddrTypeDev::In => Some(true),
            AddrTypeDev::Out => Some(false),
        };
        self.state.addr_type(addr, which)
    }

    fn looped_back(&mut self) -> bool {
        self.skb.is_looped_back() || self.state.in_is_loopback()
    }

    fn route(&mut self, q: &rules::RouteQuery) -> Option<rules::Route> {
        let key = netfilter::RouteKey {
            daddr: q.daddr,
            saddr: q.saddr,
            mark: q.mark,
            tos: q.tos,
        };
        let r = self.state.lookup_route(&key)?;
        Some(rules::Route {
            kind: r.route_type,
            via_in_dev: r.via_in_dev,
        })
    }

    fn limit(&mut self, index: u32, limit: &rules::matches::limit::Limit) -> bool {
        let now = now_ns();
        let _bh = bh::Guard::new();
        let mut buckets = self.compiled.limits.lock();
        match buckets.get_mut(index as usize) {
            Some(b) => limit.take(b, now),
            None => false,
        }
    }

    fn set_mark(&mut self, mark: u32) {
        self.skb.set_mark(mark);
    }

    fn set_tos(&mut self, tos: u8) {
        // On allocation failure the packet keeps its TOS, as in xt_DSCP.
        let _ = self.skb.ipv4_change_dsfield(0, tos);
    }

    fn log(&mut self, log: &rules::targets::log::Log, pkt: &PacketInfo) {
        // Asked first: a line the limit would drop is not formatted.
        if !netfilter::net_ratelimit() {
            return;
        }
        let len = self.skb.len() as usize;
        let mut data = [0u8; PEEK];
        let peek = len.min(PEEK);
        let Some(bytes) = self.skb.header(0, &mut data[..peek]) else {
            return;
        };
        let mut mac = [0u8; 32];
        let mac_header = self
            .state
            .in_name()
            .and_then(|_| self.skb.mac_header(&mut mac));
        let lp = LogPacket {
            in_dev: self.state.in_name(),
            out_dev: self.state.out_name(),
            mac_header,
            data: bytes,
            skb_len: len,
            mark: pkt.mark,
            uid_gid: log
                .has(proto::LOG_F_UID)
                .then(|| self.skb.socket_owner(self.state.net()))
                .flatten(),
        };
        let mut line = [0u8; 512];
        let n = rules::targets::log::log_line(&mut line, log, &lp);
        netfilter::log(log.level, line.get(..n).unwrap_or(&[]));
    }

    fn reject(&mut self, with: rules::targets::reject::RejectWith, _pkt: &PacketInfo) {
        self.reject = Some(with);
    }

    fn conntrack(&mut self) -> Option<rules::CtView> {
        let Some(info) = self.skb.ct_info() else {
            // Tracking ran and could not track the packet, or (before it,
            // in the raw table) has not run yet: INVALID, as xt_conntrack
            // says of a packet without an entry. Without tracking, none.
            return self.ct.active().then_some(rules::CtView::INVALID);
        };
        let Some((attached, info)) = self.skb.ct(self.tracker) else {
            let mut v = rules::CtView::INVALID;
            v.state = proto::CTSTATE_UNTRACKED;
            return (info == ctinfo::UNTRACKED).then_some(v);
        };
        let c = attached.get();
        if c.is_template() {
            // Asked for a helper, not tracked yet.
            return Some(rules::CtView::INVALID);
        }
        let tuple = |t: &crate::ct::Tuple| rules::CtTuple {
            src: t.saddr,
            dst: t.daddr,
            sport: t.sport,
            dport: t.dport,
        };
        let left = c.expires().saturating_sub(conntrack::now_ms()) / 1000;
        Some(rules::CtView {
            state: rules::eval::ct_state_bit(info),
            dir: if ctinfo::is_reply(info) {
                rules::CtDir::Reply
            } else {
                rules::CtDir::Original
            },
            status: c.status(),
            proto: c.orig.protocol,
            orig: tuple(&c.orig),
            reply: tuple(&c.tuple(1)),
            expires: u32::try_from(left).unwrap_or(u32::MAX),
            mark: c.mark.load(core::sync::atomic::Ordering::Relaxed),
        })
    }

    fn set_ct_mark(&mut self, mark: u32) {
        if let Some((attached, _)) = self.skb.ct(self.tracker) {
            attached
                .get()
                .mark
                .store(mark, core::sync::atomic::Ordering::Relaxed);
        }
    }

    fn notrack(&mut self) {
        if self.skb.ct_info().is_none() {
            self.skb.set_untracked();
        }
    }

    fn ct_helper(&mut self, helper: rules::targets::ct::CtHelper) {
        if self.skb.ct_info().is_some() {
            return;
        }
        let helper = match helper {
            rules::targets::ct::CtHelper::Ftp => crate::ct::helper::Helper::Ftp,
            rules::targets::ct::CtHelper::Tftp => crate::ct::helper::Helper::Tftp,
        };
        let template = self.ct.template(helper).clone();
        self.skb.set_ct(self.tracker, template, ctinfo::NEW);
    }

    fn nat(&mut self, kind: NatKind, range: &NatRange) -> rules::Verdict {
        let hook = self
            .state
            .hook()
            .and_then(|h| Hook::from_number(h.number()))
            .unwrap_or(Hook::PreRouting);
        let manip = napt::manip_of(hook);
        let Some((attached, _)) = self.skb.ct(self.tracker) else {
            return rules::Verdict::Drop;
        };
        let c = attached.get();
        if c.is_template() {
            return rules::Verdict::Drop;
        }
        // MASQUERADE and REDIRECT take the address from the interface.
        let addr = match kind {
            NatKind::Snat | NatKind::Dnat => None,
            // A locally generated packet from 0.0.0.0 (a DHCP client,
            // perhaps on a device without an address yet) is not meant
            // to be masqueraded (`nf_nat_masquerade_ipv4`).
            NatKind::Masquerade if c.orig.saddr == [0; 4] => return rules::Verdict::Accept,
            NatKind::Masquerade => match self.state.masquerade_addr(self.skb) {
                Some(a) => {
                    c.masq_index.store(
                        self.state.out_ifindex().unwrap_or(0),
                        core::sync::atomic::Ordering::Relaxed,
                    );
                    Some(a)
                }
                None => return rules::Verdict::Drop,
            },
            NatKind::Redirect if hook == Hook::LocalOut => Some([127, 0, 0, 1]),
            NatKind::Redirect => match self.state.in_primary_addr() {
                Some(a) => Some(a),
                None => return rules::Verdict::Drop,
            },
        };
        let range = addr.map_or(*range, |a| range.with_addr(a));
        match self.ct.nat_setup(self.state.net(), c, &range, manip) {
            Verdict::ACCEPT => rules::Verdict::Accept,
            _ => rules::Verdict::Drop,
        }
    }

    fn cpu(&mut self) -> u32 {
        netfilter::current_cpu()
    }

    fn queue_seed(&mut self) -> u32 {
        self.compiled.queue_seed
    }
}

/// Runs the packet through `compiled` at `hook`. Inlined into the hook
/// functions, where `hook` is a constant: a plain chain's walk is one
/// test and one call away.
#[inline(always)]
pub(crate) fn run(
    compiled: &Compiled,
    guard: &rcu::Guard,
    hook: Hook,
    skb: &mut SkBuff,
    state: &HookState,
    ct: (&CtNet, &Tracker),
) -> Verdict {
    match compiled.plain.get(hook.number() as usize) {
        // One copy of the walk with the transport header, one without.
        Some(Some(plain)) if plain.chain.reads_transport() => {
            run_plain::<true>(compiled, plain, guard, skb)
        }
        Some(Some(plain)) => run_plain::<false>(compiled, plain, guard, skb),
        _ => run_general(compiled, hook, skb, state, ct),
    }
}

/// [`run`] for a chain that is not plain: the general walk. (Of six
/// arguments, all in registers: the hook functions keep no frame for
/// the call.)
#[inline(never)]
fn run_general(
    compiled: &Compiled,
    hook: Hook,
    skb: &mut SkBuff,
    state: &HookState,
    ct: (&CtNet, &Tracker),
) -> Verdict {
    if compiled.active & rules::hook_bit(hook) == 0 {
        return Verdict::ACCEPT;
    }
    let Some(table) = compiled.table() else {
        return Verdict::ACCEPT;
    };
    // What the packet view needs from the kernel, asked first: the calls
    // done, the parsed fields go straight into the view.
    let mark = skb.mark();
    let mac_src = match hook {
        _ if !compiled.needs_mac => None,
        Hook::PreRouting | Hook::LocalIn | Hook::Forward => skb.eth_source(),
        _ => None,
    };
    let len = skb.len();
    // A packet whose IPv4 header does not parse cannot be matched: drop it.
    // One whose transport header does not parse is walked, and dropped at
    // the first match that reads that header (ip_tables' hotdrop).
    let Some(pkt) = read_headers(skb, len) else {
        return Verdict::DROP;
    };
    // The names whole, as ip_tables compares them: no scan for the NUL
    // unless a rule looks at an interface, and no copy unless a rule names
    // one. No device reads as the empty name (one copy from either place,
    // not a choice between two values).
    const NO_DEV: [u8; IFNAMSIZ] = [0; IFNAMSIZ];
    let dev = |raw: Option<&[u8; IFNAMSIZ]>| DevName::from_raw(*raw.unwrap_or(&NO_DEV));
    let (in_dev, out_dev) = match compiled.needs_iface {
        true => (dev(state.in_name_raw()), dev(state.out_name_raw())),
        false => (dev(None), dev(None)),
    };
    let info = PacketInfo::with_headers(pkt, in_dev, out_dev, mark, len, mac_src);
    let mut walk = Walk {
        compiled,
        counters: compiled.counters.live(state.rcu()),
        skb,
        state,
        ct: ct.0,
        tracker: ct.1,
        reject: None,
    };
    let verdict = rules::evaluate_owned(&table, hook, info, &mut walk);
    if let Some(with) = walk.reject {
        match with.icmp_code() {
            Some(code) => state.send_unreach(walk.skb, code),
            None => state.send_reset(walk.skb),
        }
        return Verdict::DROP;
    }
    to_kernel(verdict)
}

/// [`run`] for a hook whose chain is plain ([`rules::plain`]): the
/// headers are parsed (the transport header only if `TRANSPORT`, which is
/// whether the chain reads it) and the chain's compiled rules read them;
/// nothing else is asked of the kernel but the counters. Inlined into the
/// hook functions. A linear packet (all of it in `skb->data`, as a small
/// one is) is walked in place at once; a nonlinear one by
/// [`run_plain_nonlinear`].
#[inline(always)]
fn run_plain<const TRANSPORT: bool>(
    compiled: &Compiled,
    plain: &Plain,
    guard: &rcu::Guard,
    skb: &SkBuff,
) -> Verdict {
    if skb.is_nonlinear() {
        return run_plain_nonlinear::<TRANSPORT>(compiled, plain, guard, skb);
    }
    walk_plain::<TRANSPORT>(compiled, plain, guard, skb.linear_data(), skb.len())
}

/// [`run_plain`] for a packet with part of its data in pages: walked in
/// place if its headers are linear all the same (a TCP segment whose
/// payload is in pages), or else on a copy of them ([`SkBuff::head`]).
/// Out of line, so that the common walk keeps no copy buffer in its frame
/// and its key in registers; a packet whose data is in pages is a large
/// one, and pays the call over more bytes.
#[cold]
#[inline(never)]
fn run_plain_nonlinear<const TRANSPORT: bool>(
    compiled: &Compiled,
    plain: &Plain,
    guard: &rcu::Guard,
    skb: &SkBuff,
) -> Verdict {
    let mut buf = [MaybeUninit::<u8>::uninit(); PEEK];
    let Some(bytes) = skb.head(&mut buf, packet::headers_span) else {
        return Verdict::DROP;
    };
    walk_plain::<TRANSPORT>(compiled, plain, guard, bytes, skb.len())
}

/// The walk of [`run_plain`] over `bytes`, the first bytes of a packet of
/// `len` bytes.
#[inline(always)]
fn walk_plain<const TRANSPORT: bool>(
    compiled: &Compiled,
    plain: &Plain,
    guard: &rcu::Guard,
    bytes: &[u8],
    len: u32,
) -> Verdict {
    let Some(key) = PlainKey::parse(bytes, len as usize, TRANSPORT) else {
        return walk_plain_long::<TRANSPORT>(compiled, plain, guard, bytes, len);
    };
    walk_plain_key(compiled, plain, guard, &key, len)
}

/// [`walk_plain`] of a packet the walk's parse refused: an IPv4 BIG TCP
/// one ([`PlainKey::parse_long`]), or else one whose IPv4 header does not
/// parse, which is dropped (as in the general walk). Out of line.
#[cold]
#[inline(never)]
fn walk_plain_long<const TRANSPORT: bool>(
    compiled: &Compiled,
    plain: &Plain,
    guard: &rcu::Guard,
    bytes: &[u8],
    len: u32,
) -> Verdict {
    match PlainKey::parse_long(bytes, len as usize, TRANSPORT) {
        Some(key) => walk_plain_key(compiled, plain, guard, &key, len),
        None => Verdict::DROP,
    }
}

/// The walk of `plain` for a packet `key` of `len` bytes.
#[inline(always)]
fn walk_plain_key(
    compiled: &Compiled,
    plain: &Plain,
    guard: &rcu::Guard,
    key: &PlainKey,
    len: u32,
) -> Verdict {
    let counters = compiled.counters.live(guard);
    rules::plain::walk(&plain.chain, &plain.rules, key, len, |c, b| {
        count(counters, c, b)
    })
}

/// What the rules read of `skb`, whose length is `len`: its headers as
/// [`packet::parse_headers`] finds them; `None` when the IPv4 header does
/// not parse. Read in place when they are linear ([`SkBuff::head`]).
#[inline(always)]
fn read_headers(skb: &SkBuff, len: u32) -> Option<packet::Headers> {
    let mut buf = [MaybeUninit::<u8>::uninit(); PEEK];
    packet::parse_headers(skb.head(&mut buf, packet::headers_span)?, len as usize).ok()
}

/// Counts a packet of `bytes` bytes on counter `counter` (a rule, or a
/// policy): [`Context::count`].
#[inline(always)]
fn count(counters: &kernel::percpu::PerCpuCounters, counter: u32, bytes: u32) {
    counters.add_pair(counter as usize, 1, bytes.into());
}

/// The hook verdict of a walk's.
fn to_kernel(v: rules::Verdict) -> Verdict {
    match v {
        rules::Verdict::Accept => Verdict::ACCEPT,
        rules::Verdict::Drop => Verdict::DROP,
        rules::Verdict::Queue { num, bypass } => Verdict::queue(num, bypass),
    }
}

/// A table without a ruleset, as a dump shows it: its built-in chains, each
/// empty with an ACCEPT policy and zero counters.
pub(crate) fn encode_empty(kind: TableKind) -> Result<Encoded> {
    let mut buf = KVVec::from_elem(0u8, 1024, GFP_KERNEL)?;
    let mut w = crate::nla::Writer::new(&mut buf);
    let res = (|| {
        w.put_str(proto::TABLE_NAME, kind.name())?;
        for hook in Hook::ALL {
            if kind.hook_mask() & rules::hook_bit(hook) == 0 {
                continue;
            }
            let n = w.begin_nest(proto::TABLE_CHAIN)?;
            w.put_str(proto::CHAIN_NAME, hook.name())?;
            w.put_u32(proto::CHAIN_POLICY, rules::Policy::Accept.number())?;
            w.put_u64(proto::CHAIN_PACKETS, 0)?;
            w.put_u64(proto::CHAIN_BYTES, 0)?;
            w.end_nest(n)?;
        }
        Ok::<(), crate::nla::NlaError>(())
    })();
    res.map_err(|_| EINVAL)?;
    let len = w.len();
    Ok(Encoded { buf, len })
}
