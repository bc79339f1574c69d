// SPDX-License-Identifier: GPL-2.0

//! UDP connection tracking (`nf_conntrack_proto_udp.c`).
//!
//! UDP has no states: an entry lives [`Timeouts::udp_unreplied`] after
//! each packet until a reply has been seen; once it has, and the entry is
//! older than [`STREAM_DELAY`] (so not a single query and its answer), it
//! is a stream: it becomes assured and lives [`Timeouts::udp_replied`]
//! after each packet.

use super::packet::UdpHeader;
use super::status::{IPS_ASSURED, IPS_NAT_CLASH, IPS_SEEN_REPLY};
use super::timeouts::{Timeouts, SECOND};
use super::{Ctx, Invalid, Outcome, Reason, Update};

/// How long after its first packet a replied entry becomes a stream.
pub const STREAM_DELAY: u64 = 2 * SECOND;

/// Length of the UDP header.
const UDP_HEADER: usize = 8;

/// The UDP part of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpConn {
    /// When the entry may count as a stream: its first packet's time plus
    /// [`STREAM_DELAY`].
    pub stream_ts: u64,
}

/// Reject a header whose length field is below the header's or beyond
/// the IP payload of `payload_len` bytes (`udp_error`).
fn check_length(header: &UdpHeader, payload_len: usize) -> Result<(), Invalid> {
    let len = usize::from(header.len);
    if len < UDP_HEADER || len > payload_len {
        return Err(Reason::UdpLength.into());
    }
    Ok(())
}

impl UdpConn {
    /// The protocol state and timeout for a first packet with `header` and
    /// an IP payload of `payload_len` bytes, at time `now`.
    ///
    /// # Errors
    ///
    /// [`Reason::UdpLength`] if the length field is wrong.
    pub fn new(
        header: &UdpHeader,
        payload_len: usize,
        now: u64,
        timeouts: &Timeouts,
    ) -> Result<(UdpConn, u64), Invalid> {
        check_length(header, payload_len)?;
        let conn = UdpConn {
            stream_ts: now.saturating_add(STREAM_DELAY),
        };
        Ok((conn, timeouts.udp_unreplied))
    }

    /// Track a packet with `header` and an IP payload of `payload_len`
    /// bytes (`nf_conntrack_udp_packet`).
    ///
    /// # Errors
    ///
    /// [`Reason::UdpLength`] if the length field is wrong.
    pub fn packet(
        &mut self,
        header: &UdpHeader,
        payload_len: usize,
        ctx: &Ctx<'_>,
    ) -> Result<Outcome, Invalid> {
        check_length(header, payload_len)?;
        let timeouts = &ctx.config.timeouts;
        if ctx.status & IPS_SEEN_REPLY == 0 {
            return Ok(Outcome::Accept(Update::refresh(timeouts.udp_unreplied)));
        }
        // Traffic both ways: still going after STREAM_DELAY, it is a
        // stream, more likely to matter than a probe.
        if ctx.now <= self.stream_ts {
            return Ok(Outcome::Accept(Update::refresh(timeouts.udp_unreplied)));
        }
        let mut update = Update::refresh(timeouts.udp_replied);
        // An entry that clashed with another on insertion times out soon
        // and is never assured.
        if ctx.status & (IPS_ASSURED | IPS_NAT_CLASH) == 0 {
            update.set_status |= IPS_ASSURED;
        }
        Ok(Outcome::Accept(update))
    }
}
