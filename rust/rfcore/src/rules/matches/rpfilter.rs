// SPDX-License-Identifier: GPL-2.0

//! `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]`
//! (`ipt_rpfilter.c`): raw and mangle tables, PREROUTING only. The
//! reverse path lookup is the [`Context`]'s: [`Context::rpfilter`].

use super::hooks::PRE;
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, CheckCtx, Context, MatchOps, PacketInfo, Reason, TableKind};

/// The rpfilter match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RpFilter {
    /// `proto::RPFILTER_F_*` bits.
    pub flags: u8,
}

impl MatchOps for RpFilter {
    const KIND: u32 = proto::MT_RPFILTER;
    const NAME: &'static str = "rpfilter";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = RpFilter::default();
        each(opts, |a| {
            match a.kind() {
                proto::RPFILTER_FLAGS => {
                    let known = proto::RPFILTER_F_LOOSE
                        | proto::RPFILTER_F_VALID_MARK
                        | proto::RPFILTER_F_ACCEPT_LOCAL
                        | proto::RPFILTER_F_INVERT;
                    m.flags = flags(a.get_u32()?, known)? as u8;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if self.flags != 0 {
            w.put_u32(proto::RPFILTER_FLAGS, self.flags.into())?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_tables(&[TableKind::Raw, TableKind::Mangle])?;
        cx.only_hooks(PRE)
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        let invert = u32::from(self.flags) & proto::RPFILTER_F_INVERT != 0;
        let lookup = u32::from(self.flags) & !proto::RPFILTER_F_INVERT;
        ctx.rpfilter(pkt, lookup) ^ invert
    }
}
