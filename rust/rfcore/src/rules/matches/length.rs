// SPDX-License-Identifier: GPL-2.0

//! `-m length --length min[:max]` of the IP total length, with `!`
//! (`xt_length.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, put_flag_if, Context, MatchOps, PacketInfo, Reason};

/// The length match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Length {
    /// Shortest.
    pub min: u16,
    /// Longest.
    pub max: u16,
    /// `!`.
    pub invert: bool,
}

impl MatchOps for Length {
    const KIND: u32 = proto::MT_LENGTH;
    const NAME: &'static str = "length";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Length::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::LENGTH_RANGE => {
                    let v = a.get_u32()?;
                    m.min = (v >> 16) as u16;
                    m.max = v as u16;
                    have = true;
                }
                proto::LENGTH_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have {
            return Err(Reason::MissingOption);
        }
        if m.min > m.max {
            return Err(Reason::BadLengthRange);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(
            proto::LENGTH_RANGE,
            u32::from(self.min) << 16 | u32::from(self.max),
        )?;
        put_flag_if(w, proto::LENGTH_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        (u32::from(self.min)..=u32::from(self.max)).contains(&pkt.pkt.total_len) ^ self.invert
    }
}
