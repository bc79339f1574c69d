// SPDX-License-Identifier: GPL-2.0

//! Connection tracking: the pure core.
//!
//! The pieces, as netfilter's C divides them:
//!
//! - [`tuple`](mod@tuple): the [`Tuple`] naming one direction of a connection, its
//!   inverse, its hash, and [`tuple::from_packet`], which says what to look
//!   up for a packet, following an ICMP error to the connection it is
//!   about (`nf_conntrack_core.c`, `nf_conntrack_proto_icmp.c`);
//! - [`status`]: the `IPS_*` status bits, [`CtInfo`] and the states rules
//!   match on, with uapi values (`nf_conntrack_common.h`);
//! - one tracker per protocol, each deciding whether a first packet may
//!   create an entry, how later packets change its state and how long the
//!   entry lives: [`tcp`] (`nf_conntrack_proto_tcp.c`), [`udp`], [`icmp`]
//!   and [`generic`];
//! - [`timeouts`]: the knobs, with netfilter's defaults.
//!
//! Nothing here allocates, locks or reads a clock: an entry's protocol
//! state is the plain value [`ProtoState`], the caller passes the time in
//! ([`Ctx::now`], milliseconds) and gets timeouts back. The kernel side
//! keeps the table (hash, RCU, timers, the per-entry lock under which
//! [`ProtoState::packet`] runs) and attaches the result to the packet; see
//! `Documentation/conntrack.rst` for the steps.

use super::packet;

pub mod generic;
pub mod helper;
pub mod icmp;
pub mod status;
pub mod tcp;
pub mod timeouts;
pub mod tuple;
pub mod udp;

pub use status::{CtInfo, CtState};
pub use tcp::{TcpConn, TcpState};
pub use timeouts::{Config, Timeouts, SECOND};
pub use tuple::{Direction, Lookup, Tuple, TupleError};
pub use udp::UdpConn;

use packet::{Packet, Transport};
use status::{IPS_FIXED_TIMEOUT, IPS_SEEN_REPLY};
use tcp::TcpSegment;

/// What a tracker is told besides the packet.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The time, in milliseconds from any fixed origin; it must not go
    /// backwards.
    pub now: u64,
    /// The entry's `IPS_*` status bits before this packet.
    pub status: u32,
    /// When the entry expires as things stand (same clock as `now`).
    pub expires: u64,
    /// The namespace's settings.
    pub config: &'a Config,
}

/// What the caller does after a tracker accepted a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// Refresh the entry to expire this long (milliseconds) from now;
    /// `None` leaves the timer alone. [`Update::expires`] applies it.
    pub timeout: Option<u64>,
    /// `IPS_*` bits to set in the entry's status (`IPS_SEEN_REPLY`,
    /// `IPS_ASSURED`); bits are only ever set.
    pub set_status: u32,
    /// Remove the entry now (a TCP RST before any reply): the packet is
    /// still accepted with its ctinfo.
    pub kill: bool,
    /// The protocol state changed (an `IPCT_PROTOINFO` event).
    pub proto_changed: bool,
    /// The packet was valid but told the tracker nothing it could trust:
    /// state and timer were left alone. Why, for logging.
    pub ignored: Option<Ignored>,
}

impl Update {
    /// Refresh the timer to `timeout`, nothing else.
    pub fn refresh(timeout: u64) -> Update {
        Update {
            timeout: Some(timeout),
            set_status: 0,
            kill: false,
            proto_changed: false,
            ignored: None,
        }
    }

    /// Change nothing: the packet was ignored because of `why`.
    pub fn ignore(why: Ignored) -> Update {
        Update {
            timeout: None,
            ignored: Some(why),
            ..Update::refresh(0)
        }
    }

    /// The entry's new expiry time: `now + timeout`, unless there is no
    /// timeout or `status` has `IPS_FIXED_TIMEOUT`, when it stays
    /// `expires`.
    pub fn expires(&self, now: u64, status: u32, expires: u64) -> u64 {
        match self.timeout {
            Some(t) if status & IPS_FIXED_TIMEOUT == 0 => now.saturating_add(t),
            _ => expires,
        }
    }

    /// The bits of [`set_status`](Self::set_status) that `status` does not
    /// have yet: the events to report (`IPCT_REPLY`, `IPCT_ASSURED`).
    pub fn new_status_bits(&self, status: u32) -> u32 {
        self.set_status & !status
    }
}

/// What became of a packet of an existing entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The packet belongs to the entry: apply the update.
    Accept(Update),
    /// A SYN reopening a closed or aborted TCP connection: remove the
    /// entry and look the packet up again, which creates a new one
    /// (netfilter's `NF_REPEAT`). If the entry cannot be removed (already
    /// dying), drop the packet.
    Reopen,
}

/// Why a tracker found a packet invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The packet's transport header is not of the entry's protocol, or it
    /// has none (a non-first fragment).
    Protocol,
    /// A TCP flag combination no stack sends (`tcp_valid_flags`).
    TcpFlags,
    /// A first TCP packet that cannot open a connection (SYN/ACK, FIN,
    /// RST).
    TcpNew,
    /// A first TCP packet that is not a SYN, and `tcp_loose` is off.
    TcpNotSyn,
    /// The state machine has no transition for this packet.
    TcpState,
    /// A RST whose sequence number is below the highest ACK seen.
    TcpRst,
    /// The sequence number is beyond the receiver's window.
    TcpSeqOver,
    /// The segment acknowledges data not sent yet.
    TcpAckOver,
    /// The UDP length field is below 8 or beyond the packet.
    UdpLength,
    /// An ICMP message that cannot open a connection (anything but a
    /// request: echo, timestamp, information, address mask).
    IcmpNew,
}

impl Reason {
    /// A short description, for logging.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Protocol => "transport header does not match the connection",
            Reason::TcpFlags => "invalid tcp flag combination",
            Reason::TcpNew => "invalid new",
            Reason::TcpNotSyn => "not a SYN, and tcp_loose is off",
            Reason::TcpState => "invalid in this tcp state",
            Reason::TcpRst => "invalid rst",
            Reason::TcpSeqOver => "SEQ is over upper bound (over the window of the receiver)",
            Reason::TcpAckOver => "ACK is over upper bound (ACKed data not seen yet)",
            Reason::UdpLength => "truncated/malformed packet",
            Reason::IcmpNew => "can't create new conn with this icmp type",
        }
    }
}

impl core::fmt::Display for Reason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A packet the tracker found invalid: detach it from the entry (its state
/// is INVALID). The entry is otherwise kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Why.
    pub reason: Reason,
    /// Shorten the entry's lifetime to this long from now (an assured TCP
    /// connection whose both ends sent an out-of-window FIN or RST is
    /// likely dead). Like [`Update::timeout`], not when the timeout is
    /// fixed.
    pub lower_timeout: Option<u64>,
}

impl Invalid {
    /// An invalid packet, the entry's timer untouched.
    pub fn new(reason: Reason) -> Invalid {
        Invalid {
            reason,
            lower_timeout: None,
        }
    }
}

impl From<Reason> for Invalid {
    fn from(reason: Reason) -> Invalid {
        Invalid::new(reason)
    }
}

/// Why a tracker ignored a packet it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// The TCP state machine cannot tell whether the packet is right (a
    /// SYN on an established connection, a late SYN/ACK...): the receiver
    /// will answer with a RST or a SYN/ACK that puts us back in sync.
    TcpState,
    /// An ACK answering a SYN sent to a LAST_ACK connection (RFC 5961
    /// challenge ACK): it does not acknowledge the last FIN.
    TcpChallengeAck,
    /// More data than the receiver's window allows, but within slack: the
    /// sender's end is advanced so the receiver's ACK of it is valid.
    TcpOvershot,
    /// The segment ends before the receiver's window (a retransmission of
    /// acknowledged data).
    TcpSeqUnder,
    /// The ACK is far behind (an overly delayed segment).
    TcpAckUnder,
}

impl Ignored {
    /// A short description, for logging.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::TcpState => "packet ignored in this tcp state",
            Ignored::TcpChallengeAck => "challenge-ack ignored",
            Ignored::TcpOvershot => "more bytes than the window allows",
            Ignored::TcpSeqUnder => "SEQ is under lower bound (already ACKed data retransmitted)",
            Ignored::TcpAckUnder => "ignored ACK under lower bound (possible overly delayed)",
        }
    }
}

/// The protocol part of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoState {
    /// TCP: the state machine and both directions' windows.
    Tcp(TcpConn),
    /// UDP.
    Udp(UdpConn),
    /// ICMP queries (echo, timestamp, information, address mask).
    Icmp,
    /// Any other protocol: addresses only.
    Generic,
}

/// Whether the first packet of a connection, `pkt` parsed from `data`, may
/// create an entry, and the entry's protocol state and timeout if so. The
/// entry's tuples are the packet's tuple ([`tuple::from_packet`]) and its
/// inverse; its status starts empty.
///
/// # Errors
///
/// [`Invalid`] if the packet cannot start a connection: the packet is
/// INVALID and no entry is made.
pub fn new_connection(
    pkt: &Packet,
    data: &[u8],
    now: u64,
    config: &Config,
) -> Result<(ProtoState, u64), Invalid> {
    let timeouts = &config.timeouts;
    match pkt.transport {
        Transport::Tcp(_) => {
            let seg = TcpSegment::from_packet(pkt, data).ok_or(Reason::Protocol)?;
            let mut conn = TcpConn::new(&seg, config)?;
            let ctx = Ctx {
                now,
                status: 0,
                expires: now,
                config,
            };
            // As in netfilter, the first packet then goes through the
            // state machine like any other.
            let timeout = match conn.packet(&seg, Direction::Original, &ctx)? {
                Outcome::Accept(u) => u.timeout,
                Outcome::Reopen => None,
            };
            Ok((
                ProtoState::Tcp(conn),
                timeout.unwrap_or(timeouts.tcp(conn.state)),
            ))
        }
        Transport::Udp(h) => {
            let (conn, timeout) = UdpConn::new(&h, pkt.ip.payload_len(), now, timeouts)?;
            Ok((ProtoState::Udp(conn), timeout))
        }
        Transport::Icmp(h) => Ok((ProtoState::Icmp, icmp::new(&h, timeouts)?)),
        Transport::Other => Ok((ProtoState::Generic, generic::new(timeouts))),
        Transport::Fragment | Transport::Truncated { .. } => Err(Reason::Protocol.into()),
    }
}

impl ProtoState {
    /// Track `pkt` (parsed from `data`), found in the table in direction
    /// `dir`. On acceptance the update also sets `IPS_SEEN_REPLY` for a
    /// reply, as netfilter's core does.
    ///
    /// # Errors
    ///
    /// [`Invalid`] if the packet is invalid: detach it, and apply
    /// [`Invalid::lower_timeout`].
    pub fn packet(
        &mut self,
        pkt: &Packet,
        data: &[u8],
        dir: Direction,
        ctx: &Ctx<'_>,
    ) -> Result<Outcome, Invalid> {
        let outcome = match (self, pkt.transport) {
            (ProtoState::Tcp(conn), Transport::Tcp(_)) => {
                let seg = TcpSegment::from_packet(pkt, data).ok_or(Reason::Protocol)?;
                conn.packet(&seg, dir, ctx)?
            }
            (ProtoState::Udp(conn), Transport::Udp(h)) => {
                conn.packet(&h, pkt.ip.payload_len(), ctx)?
            }
            (ProtoState::Icmp, Transport::Icmp(_)) => icmp::packet(ctx),
            (ProtoState::Generic, Transport::Other) => generic::packet(ctx),
            _ => return Err(Reason::Protocol.into()),
        };
        Ok(match outcome {
            Outcome::Accept(mut u) => {
                if dir == Direction::Reply {
                    u.set_status |= IPS_SEEN_REPLY;
                }
                Outcome::Accept(u)
            }
            Outcome::Reopen => Outcome::Reopen,
        })
    }

    /// Whether the entry may go early when the table is full even though
    /// it is assured (a closing TCP connection). Unassured entries always
    /// may.
    pub fn can_early_drop(&self) -> bool {
        match self {
            ProtoState::Tcp(conn) => conn.can_early_drop(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
