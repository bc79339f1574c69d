// SPDX-License-Identifier: GPL-2.0

//! Tracking of every protocol without a tracker of its own
//! (`nf_conntrack_proto_generic.c`): entries by addresses and protocol,
//! refreshed to [`Timeouts::generic`] by every packet.

use super::timeouts::Timeouts;
use super::{Ctx, Outcome, Update};

/// The timeout of a new entry.
pub fn new(timeouts: &Timeouts) -> u64 {
    timeouts.generic
}

/// Track a later packet.
pub fn packet(ctx: &Ctx<'_>) -> Outcome {
    Outcome::Accept(Update::refresh(ctx.config.timeouts.generic))
}
