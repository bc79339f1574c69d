// SPDX-License-Identifier: GPL-2.0

//! `-m connmark [!] --mark value[/mask]` (`xt_connmark.c`): the mark of
//! the packet's connection entry, from the [`Context`]
//! ([`Context::conntrack`]). A packet without an entry never matches,
//! inverted or not.

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{ct_entry, each, put_flag_if, Context, MatchOps, PacketInfo, Reason};

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
        let mut m = ConnMark::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::CONNMARK_VALUE => {
                    m.value = a.get_u32()?;
                    have = true;
                }
                proto::CONNMARK_MASK => m.mask = a.get_u32()?,
                proto::CONNMARK_INVERT => m.invert = a.get_flag()?,
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
        w.put_u32(proto::CONNMARK_VALUE, self.value)?;
        if self.mask != u32::MAX {
            w.put_u32(proto::CONNMARK_MASK, self.mask)?;
        }
        put_flag_if(w, proto::CONNMARK_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, _pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        ct_entry(ctx).is_some_and(|ct| (ct.mark & self.mask == self.value) ^ self.invert)
    }
}
