// SPDX-License-Identifier: GPL-2.0

//! TCP connection tracking (`nf_conntrack_proto_tcp.c`).
//!
//! Two parts, as in netfilter:
//!
//! - a state machine driven by the flags of each segment and its
//!   direction ([`TcpState`], the transition table below), which guesses
//!   the state of the connection as the two ends see it, tolerating the
//!   cases where a firewall in the middle cannot know ("ignored"
//!   packets);
//! - per-direction sequence and window tracking ([`TcpPeer`]), after Guido
//!   van Rooij's "Real Stateful TCP Packet Filtering in IP Filter" with
//!   RFC 793's boundaries: a segment must intersect the receiver's window
//!   and acknowledge only data that was sent.
//!
//! Not carried over: sequence adjustment for NAT helpers that resize
//! payloads (`nf_ct_seq_offset`), SYN proxy, checksum verification (the
//! kernel side can verify checksums before calling in).

use super::packet::{Packet, TcpHeader, Transport};
use super::status::{IPS_ASSURED, IPS_FIXED_TIMEOUT, IPS_SEEN_REPLY};
use super::timeouts::{Config, SECOND};
use super::tuple::Direction;
use super::{Ctx, Ignored, Invalid, Outcome, Reason, Update};

/// Window scaling was advertised by this side.
pub const IP_CT_TCP_FLAG_WINDOW_SCALE: u8 = 0x01;
/// SACK is permitted by this side.
pub const IP_CT_TCP_FLAG_SACK_PERM: u8 = 0x02;
/// This side sent the first FIN.
pub const IP_CT_TCP_FLAG_CLOSE_INIT: u8 = 0x04;
/// Window checks of this side's segments are liberal: out-of-window is
/// accepted.
pub const IP_CT_TCP_FLAG_BE_LIBERAL: u8 = 0x08;
/// This side has sent data not acknowledged yet.
pub const IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED: u8 = 0x10;
/// [`TcpPeer::maxack`] holds an ACK of this side.
pub const IP_CT_TCP_FLAG_MAXACK_SET: u8 = 0x20;
/// (In [`TcpConn::last_flags`].) A SYN was let through on a LAST_ACK
/// connection: its answer may be an RFC 5961 challenge ACK.
pub const IP_CT_EXP_CHALLENGE_ACK: u8 = 0x40;
/// (In [`TcpConn::last_flags`].) A simultaneous open is going on.
pub const IP_CT_TCP_SIMULTANEOUS_OPEN: u8 = 0x80;

/// The largest window scale (RFC 7323).
pub const TCP_MAX_WSCALE: u8 = 14;
/// The smallest "maximum ACK window" (`MAXACKWINCONST`): how far behind
/// the receiver's end an ACK may be.
const MAX_ACK_WINDOW: u32 = 66000;

/// Option kinds.
const TCPOPT_EOL: u8 = 0;
const TCPOPT_NOP: u8 = 1;
const TCPOPT_WINDOW: u8 = 3;
const TCPOPT_SACK_PERM: u8 = 4;
const TCPOPT_SACK: u8 = 5;
/// Length of a SACK block: two sequence numbers.
const TCPOLEN_SACK_PERBLOCK: usize = 8;

/// The state of a TCP connection, with the values of `enum tcp_conntrack`
/// (ctnetlink's `CTA_PROTOINFO_TCP_STATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TcpState {
    /// Nothing seen yet.
    None = 0,
    /// A SYN seen.
    SynSent = 1,
    /// A SYN/ACK seen.
    SynRecv = 2,
    /// The handshake's ACK seen.
    Established = 3,
    /// A FIN seen.
    FinWait = 4,
    /// The ACK of a FIN seen.
    CloseWait = 5,
    /// A FIN seen from both sides.
    LastAck = 6,
    /// The last ACK seen.
    TimeWait = 7,
    /// A RST seen.
    Close = 8,
    /// A SYN seen from the reply side: simultaneous open
    /// (`TCP_CONNTRACK_SYN_SENT2`, the old LISTEN value).
    SynSent2 = 9,
}

impl TcpState {
    /// Every state, by value.
    pub const ALL: [TcpState; 10] = [
        TcpState::None,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    /// The name netfilter prints.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }

    /// The state of a `tcp_conntrack` value, if it is one.
    pub fn from_u8(v: u8) -> Option<TcpState> {
        TcpState::ALL.get(usize::from(v)).copied()
    }
}

/// What a segment's flags say, for the state machine
/// (`get_conntrack_index`): RST wins over SYN, SYN over FIN, FIN over ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FlagClass {
    /// SYN without ACK.
    Syn = 0,
    /// SYN and ACK.
    SynAck = 1,
    /// FIN.
    Fin = 2,
    /// ACK alone.
    Ack = 3,
    /// RST.
    Rst = 4,
    /// None of those.
    None = 5,
}

impl FlagClass {
    /// The class of the flags byte `flags`.
    pub fn of(flags: u8) -> FlagClass {
        if flags & TcpHeader::RST != 0 {
            FlagClass::Rst
        } else if flags & TcpHeader::SYN != 0 {
            if flags & TcpHeader::ACK != 0 {
                FlagClass::SynAck
            } else {
                FlagClass::Syn
            }
        } else if flags & TcpHeader::FIN != 0 {
            FlagClass::Fin
        } else if flags & TcpHeader::ACK != 0 {
            FlagClass::Ack
        } else {
            FlagClass::None
        }
    }
}

/// Whether `flags` is a combination a TCP stack sends (`tcp_valid_flags`;
/// PSH, ECE and CWR go with anything).
pub fn valid_flags(flags: u8) -> bool {
    const FIN: u8 = TcpHeader::FIN;
    const SYN: u8 = TcpHeader::SYN;
    const RST: u8 = TcpHeader::RST;
    const ACK: u8 = TcpHeader::ACK;
    const URG: u8 = TcpHeader::URG;
    let f = flags & !(TcpHeader::ECE | TcpHeader::CWR | TcpHeader::PSH);
    [
        SYN,
        SYN | URG,
        SYN | ACK,
        RST,
        RST | ACK,
        FIN | ACK,
        FIN | ACK | URG,
        ACK,
        ACK | URG,
    ]
    .contains(&f)
}

/// What the transition table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Move to this state (after the window check).
    To(TcpState),
    /// Let the packet through without touching the state (`sIG`).
    Ignore,
    /// The packet is invalid (`sIV`).
    Invalid,
}

/// The transition table, indexed by direction, flag class and current
/// state: netfilter's `tcp_conntracks`, whose comments explain each
/// entry. Columns are the states in [`TcpState`] order.
#[rustfmt::skip]
const TRANSITIONS: [[[Next; 10]; 6]; 2] = {
    use Next::{Ignore as IG, Invalid as IV};
    const SS: Next = Next::To(TcpState::SynSent);
    const SR: Next = Next::To(TcpState::SynRecv);
    const ES: Next = Next::To(TcpState::Established);
    const FW: Next = Next::To(TcpState::FinWait);
    const CW: Next = Next::To(TcpState::CloseWait);
    const LA: Next = Next::To(TcpState::LastAck);
    const TW: Next = Next::To(TcpState::TimeWait);
    const CL: Next = Next::To(TcpState::Close);
    const S2: Next = Next::To(TcpState::SynSent2);
    [
        // Original direction.
        [
            //       NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
            /* syn */ [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
            /* s/a */ [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
            /* fin */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
            /* ack */ [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
            /* rst */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
            /* -   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
        ],
        // Reply direction.
        [
            //       NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
            /* syn */ [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
            /* s/a */ [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
            /* fin */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
            /* ack */ [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
            /* rst */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
            /* -   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
        ],
    ]
};

/// The table's entry for a `class` segment in direction `dir` in `state`.
fn transition(dir: Direction, class: FlagClass, state: TcpState) -> Next {
    TRANSITIONS[dir.index()][class as usize][state as usize]
}

/// `a` comes before `b` in sequence space (RFC 1982 arithmetic).
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a` comes after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// What the tracker knows of one direction (`struct ip_ct_tcp_state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpPeer {
    /// The highest `seq + len` this side has sent (`td_end`).
    pub end: u32,
    /// The highest right edge of the window the other side has offered
    /// it: `ack + window` (`td_maxend`).
    pub maxend: u32,
    /// The largest window this side has advertised, scaled
    /// (`td_maxwin`); 0 until this side has been seen.
    pub maxwin: u32,
    /// The highest ACK this side has sent (`td_maxack`), valid once
    /// [`IP_CT_TCP_FLAG_MAXACK_SET`] is set.
    pub maxack: u32,
    /// This side's window scale (`td_scale`), at most
    /// [`TCP_MAX_WSCALE`].
    pub scale: u8,
    /// `IP_CT_TCP_FLAG_*` bits.
    pub flags: u8,
}

impl TcpPeer {
    /// Forget what was learnt (`nf_ct_tcp_state_reset`), except whether
    /// to be liberal.
    fn reset(&mut self) {
        *self = TcpPeer {
            flags: self.flags & IP_CT_TCP_FLAG_BE_LIBERAL,
            ..TcpPeer::default()
        };
    }

    /// Take the window scale and SACK permission from a SYN's `options`
    /// (`tcp_options`). No options leave things as they are.
    fn set_options(&mut self, options: &[u8]) {
        if options.is_empty() {
            return;
        }
        self.scale = 0;
        self.flags &= IP_CT_TCP_FLAG_BE_LIBERAL;
        for (kind, body) in TcpOptions(options) {
            // Options of the wrong length are ignored: SACK-permitted is
            // 2 bytes long, window scale 3.
            match (kind, body) {
                (TCPOPT_SACK_PERM, []) => self.flags |= IP_CT_TCP_FLAG_SACK_PERM,
                (TCPOPT_WINDOW, [scale]) => {
                    self.scale = (*scale).min(TCP_MAX_WSCALE);
                    self.flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
                }
                _ => {}
            }
        }
    }
}

/// The options of a TCP header as `(kind, body)` pairs, ending at the end
/// of list or at the first malformed option (a length below 2, or beyond
/// the options), as `tcp_options` and `tcp_sack` read them.
struct TcpOptions<'a>(&'a [u8]);

impl<'a> Iterator for TcpOptions<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let all = self.0;
            let (&kind, rest) = all.split_first()?;
            if kind == TCPOPT_NOP {
                self.0 = rest;
                continue;
            }
            // Stop here whatever happens next, unless the option is whole.
            self.0 = &[];
            if kind == TCPOPT_EOL {
                return None;
            }
            let size = usize::from(*rest.first()?);
            if size < 2 {
                return None;
            }
            let body = all.get(2..size)?;
            self.0 = all.get(size..).unwrap_or(&[]);
            return Some((kind, body));
        }
    }
}

/// The highest right edge of a SACK block in `options` if it is after
/// `ack`, else `ack` (`tcp_sack`: only the first SACK option counts).
fn highest_sack(options: &[u8], ack: u32) -> u32 {
    let mut sack = ack;
    // The body of a SACK option (after kind and length) is one or more
    // blocks of two sequence numbers.
    let sack_ok = |body: &[u8]| {
        !body.is_empty()
            && body
                .chunks_exact(TCPOLEN_SACK_PERBLOCK)
                .remainder()
                .is_empty()
    };
    let Some((_, blocks)) =
        TcpOptions(options).find(|&(kind, body)| kind == TCPOPT_SACK && sack_ok(body))
    else {
        return sack;
    };
    for block in blocks.chunks_exact(TCPOLEN_SACK_PERBLOCK) {
        if let [_, _, _, _, a, b, c, d] = *block {
            let right = u32::from_be_bytes([a, b, c, d]);
            if after(right, sack) {
                sack = right;
            }
        }
    }
    sack
}

/// The TCP facts of one packet the tracker needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// The header.
    pub header: TcpHeader,
    /// The option bytes (those present in the caller's copy).
    pub options: &'a [u8],
    /// Length of the data after the header.
    pub data_len: u32,
}

impl<'a> TcpSegment<'a> {
    /// The segment of `pkt`, parsed from `data`; `None` if it is not
    /// TCP. The options are those in `data`: the caller should copy the
    /// whole IP and TCP headers (at most 120 bytes).
    pub fn from_packet(pkt: &Packet, data: &'a [u8]) -> Option<TcpSegment<'a>> {
        let Transport::Tcp(header) = pkt.transport else {
            return None;
        };
        let data_len = header.data_len(pkt.ip.payload_len());
        Some(TcpSegment {
            header,
            options: header.options(pkt.ip.payload(data)),
            data_len: u32::try_from(data_len).unwrap_or(u32::MAX),
        })
    }

    /// The sequence number after this segment: `seq + len`, SYN and FIN
    /// counting one each (`segment_seq_plus_len`).
    pub fn end(&self) -> u32 {
        let h = &self.header;
        h.seq
            .wrapping_add(self.data_len)
            .wrapping_add(u32::from(h.has(TcpHeader::SYN)))
            .wrapping_add(u32::from(h.has(TcpHeader::FIN)))
    }
}

/// The window check's verdict (`enum nf_ct_tcp_action`).
enum Window {
    Accept,
    Ignore(Ignored),
    Invalid(Reason),
}

/// The TCP part of an entry (`struct ip_ct_tcp`).
///
/// The `last_*` fields remember the last segment that was let through
/// unchecked or accepted, to recognise what answers it (a SYN/ACK to an
/// ignored SYN, a RST to an ignored ACK, retransmissions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConn {
    /// The state.
    pub state: TcpState,
    /// What is known of each direction, indexed by [`Direction::index`].
    pub seen: [TcpPeer; 2],
    /// Direction of the last remembered segment.
    pub last_dir: Direction,
    /// Its flag class.
    pub last_index: FlagClass,
    /// Its sequence number.
    pub last_seq: u32,
    /// Its ACK (or, for an ignored reply ACK in SYN_SENT, that ACK).
    pub last_ack: u32,
    /// Its end ([`TcpSegment::end`]).
    pub last_end: u32,
    /// Its window, unscaled.
    pub last_win: u16,
    /// The window scale of the last ignored SYN.
    pub last_wscale: u8,
    /// `IP_CT_TCP_FLAG_WINDOW_SCALE`, `IP_CT_TCP_FLAG_SACK_PERM` of the
    /// last ignored SYN, [`IP_CT_EXP_CHALLENGE_ACK`],
    /// [`IP_CT_TCP_SIMULTANEOUS_OPEN`].
    pub last_flags: u8,
    /// How many times in a row the same segment was seen again.
    pub retrans: u8,
}

impl TcpConn {
    /// The protocol state for a first packet `seg` (`tcp_new`): a SYN; or
    /// with `tcp_loose` an ACK, picking up a connection in the middle with
    /// liberal window checks. Feed `seg` to [`packet`](Self::packet) next,
    /// in the original direction ([`super::new_connection`] does both).
    ///
    /// # Errors
    ///
    /// [`Reason::TcpFlags`], [`Reason::TcpNew`] or [`Reason::TcpNotSyn`].
    pub fn new(seg: &TcpSegment<'_>, config: &Config) -> Result<TcpConn, Invalid> {
        if !valid_flags(seg.header.flags) {
            return Err(Reason::TcpFlags.into());
        }
        let mut conn = TcpConn {
            state: TcpState::None,
            seen: [TcpPeer::default(); 2],
            last_dir: Direction::Original,
            last_index: FlagClass::None,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
            last_win: 0,
            last_wscale: 0,
            last_flags: 0,
            retrans: 0,
        };
        let class = FlagClass::of(seg.header.flags);
        let end = seg.end();
        let win = u32::from(seg.header.window).max(1);
        let [orig, reply] = &mut conn.seen;
        match transition(Direction::Original, class, TcpState::None) {
            Next::To(TcpState::SynSent) => {
                *orig = TcpPeer {
                    end,
                    maxend: end,
                    maxwin: win,
                    ..TcpPeer::default()
                };
                orig.set_options(seg.options);
            }
            Next::To(_) if config.tcp_loose => {
                // In the middle of a connection whose history is lost:
                // make the best of this packet, and assume SACK and
                // liberal window checks to cope with window scaling.
                let flags = IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL;
                *orig = TcpPeer {
                    end,
                    maxend: end.wrapping_add(win),
                    maxwin: win,
                    flags,
                    ..TcpPeer::default()
                };
                reply.flags = flags;
            }
            Next::To(_) => return Err(Reason::TcpNotSyn.into()),
            Next::Ignore | Next::Invalid => return Err(Reason::TcpNew.into()),
        }
        Ok(conn)
    }

    /// Whether an assured entry in this state may still be dropped early
    /// (it is closing).
    pub fn can_early_drop(&self) -> bool {
        matches!(
            self.state,
            TcpState::FinWait
                | TcpState::LastAck
                | TcpState::TimeWait
                | TcpState::Close
                | TcpState::CloseWait
        )
    }

    /// Whether the connection is established and assured
    /// (`nf_conntrack_tcp_established`), given the entry's `status`.
    pub fn established(&self, status: u32) -> bool {
        self.state == TcpState::Established && status & IPS_ASSURED != 0
    }

    /// Track segment `seg` going in direction `dir` (`tcp_packet` after
    /// `tcp_new`).
    ///
    /// # Errors
    ///
    /// [`Invalid`]: a flag combination no stack sends, a transition the
    /// state machine forbids, an invalid RST, a sequence number beyond the
    /// window or an ACK of unsent data.
    pub fn packet(
        &mut self,
        seg: &TcpSegment<'_>,
        dir: Direction,
        ctx: &Ctx<'_>,
    ) -> Result<Outcome, Invalid> {
        let h = &seg.header;
        if !valid_flags(h.flags) {
            return Err(Reason::TcpFlags.into());
        }
        let index = FlagClass::of(h.flags);
        let mut old = self.state;
        let mut check_window = true;
        let mut next = transition(dir, index, old);
        if next == Next::To(TcpState::SynSent) && old >= TcpState::TimeWait {
            // A SYN on a closed connection. RFC 1122 lets a SYN reopen a
            // connection from TIME_WAIT, and a client may abort a
            // connection and start afresh: if the connection was closed
            // by a FIN or aborted by this side's RST, start a new entry.
            // Otherwise treat it like any doubtful packet.
            let closed = (self.seen[0].flags | self.seen[1].flags) & IP_CT_TCP_FLAG_CLOSE_INIT != 0;
            if closed || (self.last_dir == dir && self.last_index == FlagClass::Rst) {
                return Ok(Outcome::Reopen);
            }
            next = Next::Ignore;
        }
        let new = match next {
            Next::Invalid => return Err(Reason::TcpState.into()),
            Next::Ignore => {
                if !self.ignore_or_resync(seg, dir, index, old) {
                    return Ok(Outcome::Accept(Update::ignore(Ignored::TcpState)));
                }
                old = TcpState::SynSent;
                TcpState::SynRecv
            }
            Next::To(TcpState::TimeWait)
                if old == TcpState::LastAck
                    && index == FlagClass::Ack
                    && self.last_dir != dir
                    && self.last_index == FlagClass::Syn
                    && self.last_flags & IP_CT_EXP_CHALLENGE_ACK != 0 =>
            {
                // The answer to a SYN we let through on a LAST_ACK
                // connection: an RFC 5961 challenge ACK, not the ACK of
                // the last FIN.
                self.last_flags &= !IP_CT_EXP_CHALLENGE_ACK;
                return Ok(Outcome::Accept(Update::ignore(Ignored::TcpChallengeAck)));
            }
            Next::To(TcpState::SynSent2) => {
                // The table alone cannot follow a simultaneous open.
                self.last_flags |= IP_CT_TCP_SIMULTANEOUS_OPEN;
                TcpState::SynSent2
            }
            Next::To(TcpState::SynRecv)
                if dir == Direction::Reply
                    && index == FlagClass::Ack
                    && self.last_flags & IP_CT_TCP_SIMULTANEOUS_OPEN != 0 =>
            {
                TcpState::Established
            }
            Next::To(TcpState::Close) if index == FlagClass::Rst => {
                let (new, check) = self.check_rst(seg, dir, old, ctx)?;
                check_window = check;
                new
            }
            Next::To(state) => state,
        };

        if check_window {
            match self.in_window(seg, dir, index, ctx.config) {
                Window::Accept => {}
                Window::Ignore(why) => return Ok(Outcome::Accept(Update::ignore(why))),
                Window::Invalid(reason) => {
                    return Err(Invalid {
                        reason,
                        lower_timeout: self.lower_timeout_on_invalid(dir, index, ctx),
                    });
                }
            }
        }

        // In window from here on.
        self.last_index = index;
        self.last_dir = dir;
        self.state = new;
        if old != new && new == TcpState::FinWait {
            self.seen[dir.index()].flags |= IP_CT_TCP_FLAG_CLOSE_INIT;
        }

        // The state's timeout, capped while the connection looks stuck:
        // the first cap that applies and is lower wins.
        let timeouts = &ctx.config.timeouts;
        let t = timeouts.tcp(new);
        let (retrans, unack) = (timeouts.tcp_retrans, timeouts.tcp_unack);
        let unacked =
            (self.seen[0].flags | self.seen[1].flags) & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED != 0;
        let mut timeout = if self.retrans >= ctx.config.tcp_max_retrans && t > retrans {
            retrans
        } else if (unacked || (index == FlagClass::Rst && new == TcpState::Established))
            && t > unack
        {
            unack
        } else if self.last_win == 0 && t > retrans {
            retrans
        } else {
            t
        };

        let mut update = Update::refresh(timeout);
        update.proto_changed = old != new;
        if ctx.status & IPS_SEEN_REPLY == 0 {
            if h.has(TcpHeader::RST) {
                // The only answer is a RST: a common failure, and no
                // connection to keep.
                update.timeout = None;
                update.kill = true;
                return Ok(Outcome::Accept(update));
            }
            if index == FlagClass::Syn && old == TcpState::SynSent {
                // A retransmitted SYN does not renew the timeout, or a
                // client (or NAT box) reusing the port would keep the
                // entry alive for ever.
                update.timeout = None;
                return Ok(Outcome::Accept(update));
            }
            if new == TcpState::Established {
                // Picked up in the middle, no reply yet: no five days.
                timeout = timeout.min(timeouts.tcp_unack);
                update.timeout = Some(timeout);
            }
        } else if ctx.status & IPS_ASSURED == 0
            && matches!(old, TcpState::SynRecv | TcpState::Established)
            && new == TcpState::Established
        {
            // A valid ACK after the SYN/ACK, or a valid answer on a
            // picked-up connection.
            update.set_status |= IPS_ASSURED;
        }
        Ok(Outcome::Accept(update))
    }

    /// A packet the table ignores: remember it, in case its answer tells
    /// who is right; but a SYN/ACK answering an earlier ignored SYN means
    /// both ends are in sync and we are not: take the state from that SYN
    /// and return true (the caller goes on as SYN_SENT -> SYN_RECV).
    fn ignore_or_resync(
        &mut self,
        seg: &TcpSegment<'_>,
        dir: Direction,
        index: FlagClass,
        old: TcpState,
    ) -> bool {
        let h = &seg.header;
        if index == FlagClass::SynAck
            && self.last_index == FlagClass::Syn
            && self.last_dir != dir
            && h.ack == self.last_end
        {
            let syn = &mut self.seen[self.last_dir.index()];
            syn.end = self.last_end;
            syn.maxend = self.last_end;
            syn.maxwin = u32::from(self.last_win).max(1);
            syn.scale = self.last_wscale;
            self.last_flags &= !IP_CT_EXP_CHALLENGE_ACK;
            syn.flags = self.last_flags;
            self.seen[dir.index()].reset();
            return true;
        }
        self.last_index = index;
        self.last_dir = dir;
        self.last_seq = h.seq;
        self.last_end = seg.end();
        self.last_win = h.window;

        if index == FlagClass::Syn && dir == Direction::Original {
            // A SYN in the original direction: the ends may be in sync and
            // we are not. Note its options; if it is valid, the server's
            // SYN/ACK gets us in sync above.
            let mut syn = TcpPeer::default();
            syn.set_options(seg.options);
            self.last_flags = syn.flags & (IP_CT_TCP_FLAG_WINDOW_SCALE | IP_CT_TCP_FLAG_SACK_PERM);
            self.last_wscale = if syn.flags & IP_CT_TCP_FLAG_WINDOW_SCALE != 0 {
                syn.scale
            } else {
                0
            };
            // On a LAST_ACK connection the answer may be a challenge ACK,
            // which must not be taken for the ACK of the last FIN.
            if old == TcpState::LastAck {
                self.last_flags |= IP_CT_EXP_CHALLENGE_ACK;
            }
        }
        if old == TcpState::SynSent && index == FlagClass::Ack && dir == Direction::Reply {
            // Possibly a challenge ACK answering the SYN.
            self.last_ack = h.ack;
        }
        false
    }

    /// The checks of a RST that the table moves to CLOSE: `Ok((new state,
    /// whether to check the window))`.
    fn check_rst(
        &mut self,
        seg: &TcpSegment<'_>,
        dir: Direction,
        old: TcpState,
        ctx: &Ctx<'_>,
    ) -> Result<(TcpState, bool), Invalid> {
        // On a closing connection the tuple may have been reused already
        // and what we know is stale: no checks.
        if self.can_early_drop() {
            return Ok((TcpState::Close, false));
        }
        let h = &seg.header;
        let mut new = TcpState::Close;
        let other = &self.seen[dir.opposite().index()];
        if other.flags & IP_CT_TCP_FLAG_MAXACK_SET != 0 && self.last_index != FlagClass::Syn {
            let established = self.established(ctx.status);
            // Sequence 0 before the connection is established: most
            // likely the answer to a SYN we let through.
            if h.seq == 0 && !established {
                return Ok((new, true));
            }
            if before(h.seq, other.maxack) && !ctx.config.tcp_ignore_invalid_rst {
                return Err(Reason::TcpRst.into());
            }
            if !established || h.seq == other.maxack {
                return Ok((new, true));
            }
            // A RST following the sender's last segment exactly, e.g.
            // "P 235946583:235946602(19) ack 42" then "R 235946602".
            if self.last_index == FlagClass::Ack && self.last_dir == dir && h.seq == self.last_end {
                return Ok((new, true));
            }
            // Not exact: keep the state, so that a challenge ACK can
            // follow.
            new = old;
        }
        let seen_reply = ctx.status & IPS_SEEN_REPLY != 0;
        let assured = ctx.status & IPS_ASSURED != 0;
        if ((seen_reply && self.last_index == FlagClass::Syn && self.last_dir != dir)
            || (!assured && self.last_index == FlagClass::Ack))
            && h.ack == self.last_end
        {
            // The RST answers a SYN or ACK we let through without being
            // sure of it: it may acknowledge segments we ignored, so skip
            // the window check.
            return Ok((new, false));
        }
        if old == TcpState::SynSent
            && self.last_index == FlagClass::Ack
            && self.last_dir == Direction::Reply
            && h.seq == self.last_ack
        {
            // A RST answering a challenge ACK we let through.
            return Ok((new, false));
        }
        Ok((new, true))
    }

    /// The sequence and window check (`tcp_in_window`), updating what is
    /// known of both directions when the segment is acceptable.
    fn in_window(
        &mut self,
        seg: &TcpSegment<'_>,
        dir: Direction,
        index: FlagClass,
        config: &Config,
    ) -> Window {
        let state = self.state;
        let [orig, reply] = &mut self.seen;
        let (sender, receiver) = match dir {
            Direction::Original => (orig, reply),
            Direction::Reply => (reply, orig),
        };
        let h = &seg.header;
        let syn = h.has(TcpHeader::SYN);
        let has_ack = h.has(TcpHeader::ACK);
        let rst = h.has(TcpHeader::RST);
        let mut seq = h.seq;
        let mut ack = h.ack;
        let mut sack = ack;
        let mut win = u32::from(h.window);
        let mut end = seg.end();

        if receiver.flags & IP_CT_TCP_FLAG_SACK_PERM != 0 {
            sack = highest_sack(seg.options, sack);
        }

        if sender.maxwin == 0 {
            // The first segment of this direction.
            if syn {
                init_sender(sender, receiver, seg.options, end, win, dir);
                if !has_ack {
                    // Simultaneous open.
                    return Window::Accept;
                }
            } else {
                // In the middle of a connection: use what the segment
                // says.
                sender.end = end;
                sender.maxwin = (win << sender.scale.min(TCP_MAX_WSCALE)).max(1);
                sender.maxend = end.wrapping_add(sender.maxwin);
                if receiver.maxwin == 0 {
                    // Nothing seen the other way yet: make the ACK checks
                    // pass until something is.
                    receiver.end = sack;
                    receiver.maxend = sack;
                } else if sack == receiver.end.wrapping_add(1) {
                    // Likely the answer to a keepalive.
                    receiver.end = receiver.end.wrapping_add(1);
                }
            }
        } else if syn
            && after(end, sender.end)
            && matches!(state, TcpState::SynSent | TcpState::SynRecv)
        {
            // RFC 793: a reinitialised TCP need only use higher sequence
            // numbers. Start this direction again, as on its first SYN.
            init_sender(sender, receiver, seg.options, end, win, dir);
            if dir == Direction::Reply && !has_ack {
                return Window::Accept;
            }
        }

        if !has_ack || (rst && ack == 0) {
            // No ACK (or a broken stack's zero ACK on a RST): pretend it
            // acknowledges everything.
            ack = receiver.end;
            sack = receiver.end;
        }
        if rst && seq == 0 && state == TcpState::SynSent {
            // A RST answering a SYN.
            seq = sender.end;
            end = sender.end;
        }

        let liberal = sender.flags & IP_CT_TCP_FLAG_BE_LIBERAL != 0 || config.tcp_be_liberal;
        let unless_liberal = |w: Window| if liberal { Window::Accept } else { w };
        let max_ack_window = sender.maxwin.max(MAX_ACK_WINDOW);

        // I. Upper bound for data: seq <= sender.maxend.
        if !before(seq, sender.maxend.wrapping_add(1)) {
            let overshot = end.wrapping_sub(sender.maxend).wrapping_add(1);
            let ack_ok = after(
                sack,
                receiver.end.wrapping_sub(max_ack_window).wrapping_sub(1),
            );
            let in_recv_win = receiver.maxwin != 0
                && after(
                    end,
                    sender.end.wrapping_sub(receiver.maxwin).wrapping_sub(1),
                );
            if in_recv_win
                && ack_ok
                && overshot <= receiver.maxwin
                && before(sack, receiver.end.wrapping_add(1))
            {
                // Some stacks send more than the window allows. If the
                // packet passes and the peer acknowledges it, its ACK must
                // not be "over the upper bound": advance our end.
                sender.end = end;
                sender.flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
                return unless_liberal(Window::Ignore(Ignored::TcpOvershot));
            }
            return unless_liberal(Window::Invalid(Reason::TcpSeqOver));
        }
        // III. Upper bound for the (S)ACK: sack <= receiver.end.
        if !before(sack, receiver.end.wrapping_add(1)) {
            return unless_liberal(Window::Invalid(Reason::TcpAckOver));
        }
        // II. Lower bound for data: the segment ends in the receiver's
        // window, if we know it.
        let in_recv_win = receiver.maxwin == 0
            || after(
                end,
                sender.end.wrapping_sub(receiver.maxwin).wrapping_sub(1),
            );
        if !in_recv_win {
            return unless_liberal(Window::Ignore(Ignored::TcpSeqUnder));
        }
        // IV. Lower bound for the (S)ACK.
        if !after(
            sack,
            receiver.end.wrapping_sub(max_ack_window).wrapping_sub(1),
        ) {
            return unless_liberal(Window::Ignore(Ignored::TcpAckUnder));
        }

        // Window scaling (RFC 7323) does not apply to SYNs.
        if !syn {
            win <<= sender.scale.min(TCP_MAX_WSCALE);
        }

        // Update the sender.
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        if sender.maxwin < swin {
            sender.maxwin = swin;
        }
        if after(end, sender.end) {
            sender.end = end;
            sender.flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
        }
        if has_ack {
            if sender.flags & IP_CT_TCP_FLAG_MAXACK_SET == 0 {
                sender.maxack = ack;
                sender.flags |= IP_CT_TCP_FLAG_MAXACK_SET;
            } else if after(ack, sender.maxack) {
                sender.maxack = ack;
            }
        }

        // Update the receiver.
        if receiver.maxwin != 0 && after(end, sender.maxend) {
            receiver.maxwin = receiver
                .maxwin
                .wrapping_add(end.wrapping_sub(sender.maxend));
        }
        if after(sack.wrapping_add(win), receiver.maxend.wrapping_sub(1)) {
            receiver.maxend = sack.wrapping_add(win);
            if win == 0 {
                receiver.maxend = receiver.maxend.wrapping_add(1);
            }
        }
        if ack == receiver.end {
            receiver.flags &= !IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
        }

        // Count retransmissions of the same bare ACK segment.
        if index == FlagClass::Ack {
            if self.last_dir == dir
                && self.last_seq == seq
                && self.last_ack == ack
                && self.last_end == end
                && self.last_win == h.window
            {
                self.retrans = self.retrans.saturating_add(1);
            } else {
                self.last_dir = dir;
                self.last_seq = seq;
                self.last_ack = ack;
                self.last_end = end;
                self.last_win = h.window;
                self.retrans = 0;
            }
        }
        Window::Accept
    }

    /// An invalid FIN or RST on an assured connection
    /// (`nf_tcp_handle_invalid`): if the other side's last segment was an
    /// invalid FIN or RST too, the ends and we disagree about a dead
    /// connection: shorten its lifetime to `tcp_unack` rather than keep it
    /// for days. Otherwise remember this one.
    fn lower_timeout_on_invalid(
        &mut self,
        dir: Direction,
        index: FlagClass,
        ctx: &Ctx<'_>,
    ) -> Option<u64> {
        if ctx.status & IPS_ASSURED == 0 || ctx.status & IPS_FIXED_TIMEOUT != 0 {
            return None;
        }
        if !matches!(index, FlagClass::Rst | FlagClass::Fin) {
            return None;
        }
        if self.last_dir != dir && matches!(self.last_index, FlagClass::Fin | FlagClass::Rst) {
            let remaining = ctx.expires.saturating_sub(ctx.now);
            let unack = ctx.config.timeouts.tcp_unack;
            if remaining < 120 * SECOND || remaining <= unack {
                return None;
            }
            return Some(unack);
        }
        self.last_index = index;
        self.last_dir = dir;
        None
    }
}

/// Start tracking a direction from its SYN or SYN/ACK (`tcp_init_sender`).
fn init_sender(
    sender: &mut TcpPeer,
    receiver: &mut TcpPeer,
    options: &[u8],
    end: u32,
    win: u32,
    dir: Direction,
) {
    sender.end = end;
    sender.maxend = end;
    sender.maxwin = win.max(1);
    sender.set_options(options);
    // RFC 7323: window scaling applies only if both ends offer it.
    let both = sender.flags & receiver.flags & IP_CT_TCP_FLAG_WINDOW_SCALE != 0;
    if dir == Direction::Reply && !both {
        sender.scale = 0;
        receiver.scale = 0;
    }
}
