// SPDX-License-Identifier: GPL-2.0

//! `-m tos --tos value[/mask]`, with `!` (`xt_dscp.c`, `tos_mt`).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, put_flag_if, Context, MatchOps, PacketInfo, Reason};

/// The tos match: `(tos & mask) == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tos {
    /// The value.
    pub value: u8,
    /// The mask.
    pub mask: u8,
    /// `!`.
    pub invert: bool,
}

impl Default for Tos {
    fn default() -> Self {
        Tos {
            value: 0,
            mask: u8::MAX,
            invert: false,
        }
    }
}

impl MatchOps for Tos {
    const KIND: u32 = proto::MT_TOS;
    const NAME: &'static str = "tos";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Tos::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::TOS_VALUE => {
                    m.value = a.get_u8()?;
                    have = true;
                }
                proto::TOS_MASK => m.mask = a.get_u8()?,
                proto::TOS_INVERT => m.invert = a.get_flag()?,
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
        w.put_u8(proto::TOS_VALUE, self.value)?;
        if self.mask != u8::MAX {
            w.put_u8(proto::TOS_MASK, self.mask)?;
        }
        put_flag_if(w, proto::TOS_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        (pkt.pkt.tos & self.mask == self.value) ^ self.invert
    }
}
