// SPDX-License-Identifier: GPL-2.0

//! The walker: a packet through a table at one hook, as `ipt_do_table`.
//!
//! Rules are tried in order; the first that matches and has a terminal
//! target decides. A jump pushes the place after the rule on a bounded
//! stack, a goto does not; RETURN, or the end of a user-defined chain,
//! pops it; with the stack empty the built-in chain's policy decides.
//! Every rule that matches is counted ([`Context::count`] with its index),
//! and so is a policy that decides ([`super::Table::policy_counter`]).
//! Non-terminal targets (LOG, MARK, TOS, DSCP, CT, CONNMARK) act through
//! the [`Context`] and the walk goes on; a MARK, TOS or DSCP change is seen
//! by the later rules.
//!
//! A chain the classifier indexed ([`super::classify`]) is walked through
//! its index: the rules skipped are exactly those whose cheap,
//! effect-free conditions fail for the packet, which the linear walk
//! would try and find not matching before running anything with an
//! effect; the others are tried in the same order, so the outcome is the
//! same. [`evaluate_linear`] ignores the index.
//!
//! Connection tracking is the kernel's: the rules ask for the packet's
//! entry with [`Context::conntrack`] and get a [`CtView`] back.

use super::classify::Cursor;
use super::matches::limit::Limit;
use super::name::DevName;
use super::nat::NatRange;
use super::packet::{Headers, Packet, L4};
use super::proto;
use super::proto::Hook;
use super::table::{Policy, Rule, Table};
use super::targets::ct::CtHelper;
use super::targets::log::Log;
use super::targets::nat::NatKind;
use super::targets::reject::RejectWith;
use super::targets::Target;
use super::MAX_DEPTH;

/// The outcome for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it go on (`NF_ACCEPT`).
    Accept,
    /// Drop it (`NF_DROP`).
    Drop,
    /// Hand it to netlink queue `num` (`NF_QUEUE_NR(num)`); with `bypass`
    /// it goes on as if accepted when no listener is bound to the queue
    /// (`NF_VERDICT_FLAG_QUEUE_BYPASS`), otherwise it is dropped then.
    Queue {
        /// The queue.
        num: u16,
        /// Whether to go on without a listener.
        bypass: bool,
    },
}

impl Verdict {
    /// QUEUE's verdict: netlink queue 0, no bypass (`NF_QUEUE`).
    pub const QUEUE: Verdict = Verdict::Queue {
        num: 0,
        bypass: false,
    };
}

/// Which device an address type is asked about (addrtype's
/// `--limit-iface-in`/`--limit-iface-out`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrTypeDev {
    /// Any device.
    Any,
    /// The input device.
    In,
    /// The output device.
    Out,
}

/// What the rules look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// What the rules read of its headers.
    pub pkt: Headers,
    /// Input device name; empty if none.
    pub in_dev: DevName,
    /// Output device name; empty if none.
    pub out_dev: DevName,
    /// The packet's mark.
    pub mark: u32,
    /// Its length (`skb->len`), for the byte counters.
    pub len: u32,
    /// The Ethernet source address, if it came in over Ethernet (the
    /// kernel fills it only for a table with a `-m mac` rule).
    pub mac_src: Option<[u8; 6]>,
}

impl PacketInfo {
    /// The packet `pkt` with its device names (none: empty), mark, length
    /// and Ethernet source address.
    pub fn new(
        pkt: &Packet,
        in_dev: DevName,
        out_dev: DevName,
        mark: u32,
        len: u32,
        mac_src: Option<[u8; 6]>,
    ) -> Self {
        Self::with_headers(Headers::from(pkt), in_dev, out_dev, mark, len, mac_src)
    }

    /// [`PacketInfo::new`] for the headers [`super::packet::parse_headers`]
    /// read.
    #[inline]
    pub fn with_headers(
        pkt: Headers,
        in_dev: DevName,
        out_dev: DevName,
        mark: u32,
        len: u32,
        mac_src: Option<[u8; 6]>,
    ) -> Self {
        PacketInfo {
            pkt,
            in_dev,
            out_dev,
            mark,
            len,
            mac_src,
        }
    }
}

/// A route lookup, as rpfilter asks for the way back to a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteQuery {
    /// Where to: the packet's source.
    pub daddr: [u8; 4],
    /// From: the packet's destination, or 0.0.0.0.
    pub saddr: [u8; 4],
    /// The fwmark to route by.
    pub mark: u32,
    /// The TOS to route by.
    pub tos: u8,
}

/// The FIB's answer to a [`RouteQuery`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The route type (`RTN_*`).
    pub kind: u8,
    /// Whether one of its next hops is the packet's input device.
    pub via_in_dev: bool,
}

/// A direction of a connection (`enum ip_conntrack_dir`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CtDir {
    /// `IP_CT_DIR_ORIGINAL`: the direction of the packet that created the
    /// entry.
    #[default]
    Original,
    /// `IP_CT_DIR_REPLY`.
    Reply,
}

/// One direction of a connection as its conntrack tuple has it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtTuple {
    /// Source address, in network order.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// The source "port", `ntohs(tuple.src.u.all)`: the TCP or UDP port,
    /// the ICMP echo id, 0 for protocols without ports.
    pub sport: u16,
    /// The destination "port", `ntohs(tuple.dst.u.all)`: the TCP or UDP
    /// port, ICMP type << 8 | code.
    pub dport: u16,
}

/// `IPS_EXPECTED`: the connection was expected by a helper (the status
/// bits of [`CtView::status`] are `nf_conntrack_common.h`'s).
pub const IPS_EXPECTED: u32 = 1 << 0;
/// `IPS_SEEN_REPLY`: packets have been seen both ways.
pub const IPS_SEEN_REPLY: u32 = 1 << 1;
/// `IPS_ASSURED`.
pub const IPS_ASSURED: u32 = 1 << 2;
/// `IPS_CONFIRMED`: the entry is in the table.
pub const IPS_CONFIRMED: u32 = 1 << 3;
/// `IPS_SRC_NAT`: the `SNAT` virtual state.
pub const IPS_SRC_NAT: u32 = 1 << 4;
/// `IPS_DST_NAT`: the `DNAT` virtual state.
pub const IPS_DST_NAT: u32 = 1 << 5;

/// What connection tracking says about a packet (`nf_ct_get`): its state
/// and, when it has one, its connection entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtView {
    /// The packet's state, one `proto::CTSTATE_*` bit:
    /// `CTSTATE_ESTABLISHED`, `_RELATED` or `_NEW` for a packet with an
    /// entry ([`ct_state_bit`] of its ctinfo, whatever the direction);
    /// `CTSTATE_INVALID` for a packet conntrack could not track and
    /// `CTSTATE_UNTRACKED` for one exempt from tracking: those have no
    /// entry, and the fields below are not looked at.
    pub state: u32,
    /// The packet's direction in the connection (`CTINFO2DIR(ctinfo)`).
    pub dir: CtDir,
    /// The entry's `IPS_*` status bits ([`IPS_EXPECTED`] ..
    /// [`IPS_DST_NAT`], and any others).
    pub status: u32,
    /// The entry's layer-4 protocol (`nf_ct_protonum`).
    pub proto: u8,
    /// The original direction's tuple.
    pub orig: CtTuple,
    /// The reply direction's tuple.
    pub reply: CtTuple,
    /// Seconds until the entry expires (`nf_ct_expires(ct) / HZ`).
    pub expires: u32,
    /// The entry's mark (`ct->mark`).
    pub mark: u32,
}

impl CtView {
    /// A packet conntrack saw and could not track: no entry.
    pub const INVALID: CtView = CtView {
        state: proto::CTSTATE_INVALID,
        dir: CtDir::Original,
        status: 0,
        proto: 0,
        orig: CtTuple {
            src: [0; 4],
            dst: [0; 4],
            sport: 0,
            dport: 0,
        },
        reply: CtTuple {
            src: [0; 4],
            dst: [0; 4],
            sport: 0,
            dport: 0,
        },
        expires: 0,
        mark: 0,
    };

    /// Whether the packet has a connection entry: its state is
    /// ESTABLISHED, RELATED or NEW.
    pub fn has_entry(&self) -> bool {
        matches!(
            self.state,
            proto::CTSTATE_ESTABLISHED | proto::CTSTATE_RELATED | proto::CTSTATE_NEW
        )
    }
}

/// The [`CtView::state`] of a packet with an entry and conntrack info
/// `ctinfo` (`enum ip_conntrack_info`: 0 established, 1 related, 2 new, 3
/// established reply, 4 related reply): `XT_CONNTRACK_STATE_BIT(ctinfo)`.
pub const fn ct_state_bit(ctinfo: u8) -> u32 {
    1 << (ctinfo % 3 + 1)
}

/// The entry of the packet, if it has one.
pub fn ct_entry<C: Context>(ctx: &mut C) -> Option<CtView> {
    ctx.conntrack().filter(CtView::has_entry)
}

/// What the walker needs from the kernel: answers, state, and actions.
pub trait Context {
    /// Add a packet of `bytes` bytes to counter `counter`: a rule index,
    /// or [`super::Table::policy_counter`].
    fn count(&mut self, counter: u32, bytes: u32);

    /// The route type (`RTN_*`) of `addr`, as `inet_dev_addr_type` for
    /// the device `dev` says (`inet_addr_type` for [`AddrTypeDev::Any`]).
    fn addr_type(&mut self, addr: [u8; 4], dev: AddrTypeDev) -> u8;

    /// Whether the packet came in on a loopback device or was looped back
    /// (`PACKET_LOOPBACK`).
    fn looped_back(&mut self) -> bool;

    /// The route the FIB gives for `q` as if from the loopback device
    /// (`fib_lookup` with universe scope, ignoring link state), or `None`
    /// when there is none.
    fn route(&mut self, q: &RouteQuery) -> Option<Route>;

    /// Whether the limit match at index `index` of the table lets the
    /// packet through: `limit.take(&mut state[index], now_ns)` under the
    /// state's lock, the state having started as `limit.initial_state`.
    fn limit(&mut self, index: u32, limit: &Limit) -> bool;

    /// Set the packet's mark.
    fn set_mark(&mut self, mark: u32);

    /// Set the packet's TOS byte (fixing the IP checksum).
    fn set_tos(&mut self, tos: u8);

    /// Log the packet (rate-limited), formatting with
    /// [`super::targets::log::log_line`].
    fn log(&mut self, log: &Log, pkt: &PacketInfo);

    /// Send the ICMP error or TCP reset for `pkt`; the walker then drops
    /// it.
    fn reject(&mut self, with: RejectWith, pkt: &PacketInfo);

    /// The packet's connection-tracking state and entry as they are now
    /// (`nf_ct_get`; what [`Context::notrack`] and [`Context::set_ct_mark`]
    /// did earlier in the walk is seen). `None`: the packet has no entry
    /// and conntrack has not looked at it, which the rules take as
    /// UNTRACKED: the answer of a kernel without connection tracking.
    fn conntrack(&mut self) -> Option<CtView>;

    /// Set the mark of the packet's connection entry (`ct->mark`, with an
    /// `IPCT_MARK` event). Called only when [`Context::conntrack`] gave an
    /// entry, and only to change the mark.
    fn set_ct_mark(&mut self, mark: u32);

    /// Exempt the packet from tracking (`-j CT --notrack`, `-j NOTRACK`):
    /// mark it untracked unless it already has conntrack state (a packet
    /// looped back), as `xt_ct_target`. Later rules see it UNTRACKED.
    fn notrack(&mut self);

    /// Have the connection the packet starts use `helper` (`-j CT
    /// --helper`): attach a template carrying it unless the packet already
    /// has conntrack state, as `xt_ct_target`.
    fn ct_helper(&mut self, helper: CtHelper);

    /// Bind the packet's connection, whose first packet this is, to a
    /// translation of kind `kind` within `range` (SNAT, DNAT, MASQUERADE,
    /// REDIRECT; `nf_nat_setup_info`), and say what becomes of the packet:
    /// ACCEPT, or DROP when the packet has no connection entry or no
    /// tuple in the range is free. Called only from the nat table.
    fn nat(&mut self, kind: NatKind, range: &NatRange) -> Verdict;

    /// The number of the CPU the walk runs on (`smp_processor_id`), for
    /// NFQUEUE's `--queue-cpu-fanout`.
    fn cpu(&mut self) -> u32;

    /// The seed of NFQUEUE's `--queue-balance` hash: random, and the same
    /// for every packet (at least for the life of the table), so that a
    /// flow stays on one queue.
    fn queue_seed(&mut self) -> u32;
}

/// What a rule's matches say of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleMatch {
    /// The rule does not match: go on with the next one.
    No,
    /// The rule matches: count it and run its target.
    Yes,
    /// A match needs the transport header and the packet's does not parse:
    /// drop the packet without counting the rule (ip_tables' `hotdrop`).
    HotDrop,
}

/// Whether `rule` matches: its IP part, then its matches in order (a
/// limit is only charged if everything before it matched). `truncated`:
/// the packet's transport header is cut short (decided once per walk, so
/// that whole packets pay nothing for the hot drop).
fn rule_matches<C: Context>(
    table: &Table<'_>,
    rule: &Rule,
    p: &PacketInfo,
    truncated: bool,
    ctx: &mut C,
) -> RuleMatch {
    if !rule.ip.matches(p) {
        return RuleMatch::No;
    }
    let mut index = rule.match_start;
    for m in table.matches_of(rule) {
        if truncated && m.needs().hot_drops(&p.pkt.l4) {
            return RuleMatch::HotDrop;
        }
        if !m.matches(p, ctx, index) {
            return RuleMatch::No;
        }
        index = index.wrapping_add(1);
    }
    RuleMatch::Yes
}

/// Run `pkt` through `table` at `hook`. A table without a chain at
/// `hook` accepts.
///
/// Chains the classifier indexed ([`super::classify`]) are walked through
/// their index: only the rules that can match the packet are tried, in
/// order, with the same verdict, counters and effects as
/// [`evaluate_linear`].
pub fn evaluate<C: Context>(
    table: &Table<'_>,
    hook: Hook,
    pkt: &PacketInfo,
    ctx: &mut C,
) -> Verdict {
    walk(table, hook, *pkt, ctx, true, &mut 0)
}

/// [`evaluate`] with the packet view given away: the walk changes it in
/// place (mark, TOS) instead of copying it first.
pub fn evaluate_owned<C: Context>(
    table: &Table<'_>,
    hook: Hook,
    pkt: PacketInfo,
    ctx: &mut C,
) -> Verdict {
    walk(table, hook, pkt, ctx, true, &mut 0)
}

/// [`evaluate`] trying every rule of every chain in order, whatever the
/// classifier indexed: the reference walk, as `ipt_do_table`.
pub fn evaluate_linear<C: Context>(
    table: &Table<'_>,
    hook: Hook,
    pkt: &PacketInfo,
    ctx: &mut C,
) -> Verdict {
    walk(table, hook, *pkt, ctx, false, &mut 0)
}

/// The walk, through the chains' indexes if `classify`; adds the number
/// of rules tried to `tried`.
pub(super) fn walk<C: Context>(
    table: &Table<'_>,
    hook: Hook,
    mut p: PacketInfo,
    ctx: &mut C,
    classify: bool,
    tried: &mut u32,
) -> Verdict {
    let Some(base) = table.hook_chain(hook) else {
        return Verdict::Accept;
    };
    let chains = table.chains();
    let rules = table.rules();
    let Some(base_chain) = chains.get(usize::from(base)) else {
        return Verdict::Accept;
    };
    // A packet whose transport header does not parse has no port key, yet
    // must reach the port matches in order (to be hot-dropped there): walk
    // it linearly. Such packets are rare.
    let truncated = matches!(p.pkt.l4, L4::Truncated { .. });
    let classify = classify && !truncated;
    // The return points: where the walk goes on in the calling chain; made
    // at the first jump (zeroing 64 cursors would cost every packet).
    let mut stack: Option<[Cursor; MAX_DEPTH]> = None;
    let mut sp = 0;
    let mut at = Cursor::enter(base, base_chain, rules, &p, classify);
    let mut rank = base_chain.rank;
    let mut end = base_chain.rules().end;
    loop {
        let Some(index) = at.next(rules, end) else {
            // RETURN, or the end of a chain.
            if sp == 0 {
                break;
            }
            sp -= 1;
            let Some(&back) = stack.as_ref().and_then(|s| s.get(sp)) else {
                break;
            };
            let Some(ch) = chains.get(usize::from(back.chain)) else {
                break;
            };
            (at, rank, end) = (back, ch.rank, ch.rules().end);
            continue;
        };
        *tried = tried.wrapping_add(1);
        let Some(rule) = rules.get(index as usize) else {
            at.finish(end);
            continue;
        };
        match rule_matches(table, rule, &p, truncated, ctx) {
            RuleMatch::No => continue,
            RuleMatch::HotDrop => return Verdict::Drop,
            RuleMatch::Yes => {}
        }
        ctx.count(index, p.len);
        match rule.target {
            Target::None => {}
            Target::Accept => return Verdict::Accept,
            Target::Drop => return Verdict::Drop,
            Target::Queue => return Verdict::QUEUE,
            Target::Return => at.finish(end),
            Target::Jump(to) | Target::Goto(to) => {
                // Validation made every jump lead to a lower rank; checking
                // it here makes the walk end whatever the arrays hold.
                let Some(ch) = chains.get(usize::from(to)).filter(|c| c.rank < rank) else {
                    return Verdict::Drop;
                };
                if matches!(rule.target, Target::Jump(_)) {
                    let stack = stack.get_or_insert_with(|| [Cursor::default(); MAX_DEPTH]);
                    let Some(slot) = stack.get_mut(sp) else {
                        return Verdict::Drop;
                    };
                    *slot = at;
                    sp += 1;
                }
                // Targets change the mark and the TOS only, which no key
                // reads: the packet's key is the same in every chain.
                at = Cursor::enter(to, ch, rules, &p, classify);
                (rank, end) = (ch.rank, ch.rules().end);
            }
            t => {
                if let Some(v) = t.run_ext(&mut p, ctx) {
                    return v;
                }
            }
        }
    }
    ctx.count(table.policy_counter(base), p.len);
    match base_chain.policy {
        Policy::Accept => Verdict::Accept,
        Policy::Drop => Verdict::Drop,
    }
}
