// SPDX-License-Identifier: GPL-2.0

//! `-j DSCP --set-dscp value` (0 to 63; `xt_DSCP.c`), mangle table only:
//! the top six bits of the TOS byte, ECN kept.

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

/// The DSCP target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetDscp {
    /// The value, 0 to 63.
    pub value: u8,
}

impl SetDscp {
    /// The TOS byte after the target.
    pub fn apply(&self, tos: u8) -> u8 {
        (tos & 0x03) | self.value << 2
    }
}

impl TargetOps for SetDscp {
    const KIND: u32 = proto::TG_DSCP;
    const NAME: &'static str = "DSCP";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = None;
        each(opts, |a| {
            match a.kind() {
                proto::SETDSCP_VALUE => t = Some(a.get_u8()?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        let value = t.ok_or(Reason::MissingOption)?;
        if value > 63 {
            return Err(Reason::BadDscp);
        }
        Ok(SetDscp { value })
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u8(proto::SETDSCP_VALUE, self.value)
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
