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
        let (value, mask, invert) = decode_masked(opts, &MARK_ATTRS)?;
        Ok(Mark {
            value,
            mask,
            invert,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        encode_masked(w, &MARK_ATTRS, self.value, self.mask, self.invert)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        (pkt.mark & self.mask == self.value) ^ self.invert
    }
}

/// The attribute types of a `value[/mask]` match with `!`.
pub(super) struct MaskedAttrs {
    pub(super) value: u16,
    pub(super) mask: u16,
    pub(super) invert: u16,
}

const MARK_ATTRS: MaskedAttrs = MaskedAttrs {
    value: proto::MARK_VALUE,
    mask: proto::MARK_MASK,
    invert: proto::MARK_INVERT,
};

/// Decodes a `value[/mask]` with `!` (mark, connmark): the value is
/// required, the mask defaults to all ones.
pub(super) fn decode_masked(opts: Attrs<'_>, k: &MaskedAttrs) -> Result<(u32, u32, bool), Reason> {
    let (mut value, mut mask, mut invert) = (None, u32::MAX, false);
    each(opts, |a| {
        match a.kind() {
            t if t == k.value => value = Some(a.get_u32()?),
            t if t == k.mask => mask = a.get_u32()?,
            t if t == k.invert => invert = a.get_flag()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok((value.ok_or(Reason::MissingOption)?, mask, invert))
}

/// Encodes what [`decode_masked`] decodes; an all-ones mask is left out.
pub(super) fn encode_masked(
    w: &mut Writer<'_>,
    k: &MaskedAttrs,
    value: u32,
    mask: u32,
    invert: bool,
) -> Result<(), NlaError> {
    w.put_u32(k.value, value)?;
    if mask != u32::MAX {
        w.put_u32(k.mask, mask)?;
    }
    put_flag_if(w, k.invert, invert)
}
