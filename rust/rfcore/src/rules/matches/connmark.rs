// SPDX-License-Identifier: GPL-2.0

//! `-m connmark [!] --mark value[/mask]` (`xt_connmark.c`): the mark of
//! the packet's connection entry, from the [`Context`]
//! ([`Context::conntrack`]). A packet without an entry never matches,
//! inverted or not.

use super::mark::{decode_masked, encode_masked, MaskedAttrs};
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{ct_entry, Context, MatchOps, PacketInfo, Reason};

const CONNMARK_ATTRS: MaskedAttrs = MaskedAttrs {
    value: proto::CONNMARK_VALUE,
    mask: proto::CONNMARK_MASK,
    invert: proto::CONNMARK_INVERT,
};

/// The connmark match: `(ct mark & mask) == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnMark {
    /// The value.
    pub value: u32,
    /// The mask.
    pub mask: u32,
    /// `!`.
    pub invert: bool,
}

impl Default for ConnMark {
    fn default() -> Self {
        ConnMark {
            value: 0,
            mask: u32::MAX,
            invert: false,
        }
    }
}

impl MatchOps for ConnMark {
    const KIND: u32 = proto::MT_CONNMARK;
    const NAME: &'static str = "connmark";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let (value, mask, invert) = decode_masked(opts, &CONNMARK_ATTRS)?;
        Ok(ConnMark {
            value,
            mask,
            invert,
        })
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        encode_masked(w, &CONNMARK_ATTRS, self.value, self.mask, self.invert)
    }

    fn matches<C: Context>(&self, _pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        ct_entry(ctx).is_some_and(|ct| (ct.mark & self.mask == self.value) ^ self.invert)
    }
}
