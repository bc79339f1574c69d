// SPDX-License-Identifier: GPL-2.0

//! `-j MARK` (`xt_mark.c`, revision 2): `mark = (mark & ~mask) ^ value`.
//! `--set-xmark v/m` is (v, m); `--set-mark v/m` is (v, m | v);
//! `--and-mark b` is (0, ~b); `--or-mark b` is (b, b); `--xor-mark b` is
//! (b, 0).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, Context, PacketInfo, Reason, TargetOps, Verdict};

/// The MARK target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetMark {
    /// Bits to XOR in.
    pub value: u32,
    /// Bits to clear first.
    pub mask: u32,
}

impl Default for SetMark {
    fn default() -> Self {
        SetMark {
            value: 0,
            mask: u32::MAX,
        }
    }
}

impl SetMark {
    /// `--set-mark value/mask`.
    pub fn set(value: u32, mask: u32) -> Self {
        SetMark {
            value,
            mask: mask | value,
        }
    }

    /// The mark after the target.
    pub fn apply(&self, mark: u32) -> u32 {
        (mark & !self.mask) ^ self.value
    }
}

impl TargetOps for SetMark {
    const KIND: u32 = proto::TG_MARK;
    const NAME: &'static str = "MARK";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = SetMark::default();
        each(opts, |a| {
            match a.kind() {
                proto::SETMARK_VALUE => t.value = a.get_u32()?,
                proto::SETMARK_MASK => t.mask = a.get_u32()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::SETMARK_VALUE, self.value)?;
        w.put_u32(proto::SETMARK_MASK, self.mask)
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        pkt.mark = self.apply(pkt.mark);
        ctx.set_mark(pkt.mark);
        None
    }
}
