// SPDX-License-Identifier: GPL-2.0

//! `-m dscp --dscp value` (0 to 63), with `!` (`xt_dscp.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, put_flag_if, Context, MatchOps, PacketInfo, Reason};

/// Highest DSCP value.
pub const MAX_DSCP: u8 = 63;

/// The dscp match: the top six bits of the TOS byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dscp {
    /// The value, 0 to 63.
    pub value: u8,
    /// `!`.
    pub invert: bool,
}

impl MatchOps for Dscp {
    const KIND: u32 = proto::MT_DSCP;
    const NAME: &'static str = "dscp";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Dscp::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::DSCP_VALUE => {
                    m.value = a.get_u8()?;
                    have = true;
                }
                proto::DSCP_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have {
            return Err(Reason::MissingOption);
        }
        if m.value > MAX_DSCP {
            return Err(Reason::BadDscp);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u8(proto::DSCP_VALUE, self.value)?;
        put_flag_if(w, proto::DSCP_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        (pkt.pkt.tos >> 2 == self.value) ^ self.invert
    }
}
