// SPDX-License-Identifier: GPL-2.0

//! `-m mark --mark value[/mask]`, with `!` (`xt_mark.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, put_flag_if, Context, MatchOps, PacketInfo, Reason};

/// The mark match: `(mark & mask) == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The value.
    pub value: u32,
    /// The mask.
    pub mask: u32,
    /// `!`.
    pub invert: bool,
}

impl Default for Mark {
    fn default() -> Self {
        Mark {
            value: 0,
            mask: u32::MAX,
            invert: false,
        }
    }
}

impl MatchOps for Mark {
    const KIND: u32 = proto::MT_MARK;
    const NAME: &'static str = "mark";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Mark::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::MARK_VALUE => {
                    m.value = a.get_u32()?;
                    have = true;
                }
                proto::MARK_MASK => m.mask = a.get_u32()?,
                proto::MARK_INVERT => m.invert = a.get_flag()?,
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
        w.put_u32(proto::MARK_VALUE, self.value)?;
        if self.mask != u32::MAX {
            w.put_u32(proto::MARK_MASK, self.mask)?;
        }
        put_flag_if(w, proto::MARK_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        (pkt.mark & self.mask == self.value) ^ self.invert
    }
}
