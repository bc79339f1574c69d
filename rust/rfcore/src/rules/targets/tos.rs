// SPDX-License-Identifier: GPL-2.0

//! `-j TOS` (`xt_DSCP.c`, `tos_tg`), mangle table only:
//! `tos = (tos & ~mask) ^ value`. `--set-tos v/m` is (v, m); `--and-tos
//! b` is (0, ~b); `--or-tos b` is (b, b); `--xor-tos b` is (b, 0).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

/// The TOS target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetTos {
    /// Bits to XOR in.
    pub value: u8,
    /// Bits to clear first.
    pub mask: u8,
}

impl Default for SetTos {
    fn default() -> Self {
        SetTos {
            value: 0,
            mask: u8::MAX,
        }
    }
}

impl SetTos {
    /// The TOS byte after the target.
    pub fn apply(&self, tos: u8) -> u8 {
        (tos & !self.mask) ^ self.value
    }
}

impl TargetOps for SetTos {
    const KIND: u32 = proto::TG_TOS;
    const NAME: &'static str = "TOS";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = SetTos::default();
        each(opts, |a| {
            match a.kind() {
                proto::SETTOS_VALUE => t.value = a.get_u8()?,
                proto::SETTOS_MASK => t.mask = a.get_u8()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u8(proto::SETTOS_VALUE, self.value)?;
        w.put_u8(proto::SETTOS_MASK, self.mask)
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_tables(&[TableKind::Mangle])
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        let tos = self.apply(pkt.pkt.tos);
        if tos != pkt.pkt.tos {
            pkt.pkt.tos = tos;
            ctx.set_tos(tos);
        }
        None
    }
}
