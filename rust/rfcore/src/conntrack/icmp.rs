// SPDX-License-Identifier: GPL-2.0

//! ICMP connection tracking (`nf_conntrack_proto_icmp.c`).
//!
//! Queries make connections: an echo, timestamp, information or address
//! mask request creates an entry whose reply tuple is the matching reply
//! ([`super::tuple::Tuple::invert`]); the reply finds it and makes it
//! ESTABLISHED. Every packet refreshes the entry to [`Timeouts::icmp`]; as
//! in netfilter, a reply does not delete it, so that duplicate replies
//! still match. Errors never make connections: [`super::tuple::from_packet`]
//! relates them to the connection they quote.

use super::packet::IcmpHeader;
use super::timeouts::Timeouts;
use super::{Ctx, Invalid, Outcome, Reason, Update};

/// Whether an ICMP message of type `icmp_type` may create an entry: a
/// request that expects a reply (netfilter's `valid_new`).
pub fn valid_new(icmp_type: u8) -> bool {
    matches!(
        icmp_type,
        IcmpHeader::ECHO_REQUEST
            | IcmpHeader::TIMESTAMP
            | IcmpHeader::INFO_REQUEST
            | IcmpHeader::ADDRESS
    )
}

/// The timeout of a new entry for a first packet with `header`.
///
/// # Errors
///
/// [`Reason::IcmpNew`] for anything but a request (a reply nobody asked
/// for, a router advertisement...).
pub fn new(header: &IcmpHeader, timeouts: &Timeouts) -> Result<u64, Invalid> {
    if !valid_new(header.icmp_type) {
        return Err(Reason::IcmpNew.into());
    }
    Ok(timeouts.icmp)
}

/// Track a later packet (request or reply) of an ICMP entry.
pub fn packet(ctx: &Ctx<'_>) -> Outcome {
    Outcome::Accept(Update::refresh(ctx.config.timeouts.icmp))
}
