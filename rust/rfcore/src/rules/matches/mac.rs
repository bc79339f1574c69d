// SPDX-License-Identifier: GPL-2.0

//! `-m mac --mac-source`, with `!` (`xt_mac.c`). Only where packets have
//! come in: PREROUTING, INPUT, FORWARD.

use super::hooks::{FWD, IN, PRE};
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, put_flag_if, CheckCtx, Context, MatchOps, PacketInfo, Reason};

/// The mac match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mac {
    /// The source address.
    pub source: [u8; 6],
    /// `!`.
    pub invert: bool,
}

impl MatchOps for Mac {
    const KIND: u32 = proto::MT_MAC;
    const NAME: &'static str = "mac";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Mac::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::MAC_SOURCE => {
                    m.source = a.get_array()?;
                    have = true;
                }
                proto::MAC_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have {
            return Err(Reason::MissingOption);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_bytes(proto::MAC_SOURCE, &self.source)?;
        put_flag_if(w, proto::MAC_INVERT, self.invert)
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_hooks(PRE | IN | FWD)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        // No Ethernet header: no match, inverted or not (as xt_mac).
        match pkt.mac_src {
            Some(src) => (src == self.source) ^ self.invert,
            None => false,
        }
    }
}
