// SPDX-License-Identifier: GPL-2.0

//! `-p icmp --icmp-type type[/code]` or `any`, with `!` (`xt_tcpudp.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_ICMP, L4};
use super::proto;
use super::{each, put_flag_if, CheckCtx, Context, MatchOps, Needs, PacketInfo, Reason};

/// The icmp match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// The type; [`Icmp::ANY`] for any.
    pub icmp_type: u8,
    /// Lowest code.
    pub code_min: u8,
    /// Highest code.
    pub code_max: u8,
    /// `!`.
    pub invert: bool,
}

impl Default for Icmp {
    fn default() -> Self {
        Icmp {
            icmp_type: Icmp::ANY,
            code_min: 0,
            code_max: u8::MAX,
            invert: false,
        }
    }
}

impl Icmp {
    /// `--icmp-type any`.
    pub const ANY: u8 = 0xff;
}

impl MatchOps for Icmp {
    const KIND: u32 = proto::MT_ICMP;
    const NAME: &'static str = "icmp";
    const NEEDS: Needs = Needs::Header;

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Icmp::default();
        let mut have_type = false;
        each(opts, |a| {
            match a.kind() {
                proto::ICMP_TYPE => {
                    m.icmp_type = a.get_u8()?;
                    have_type = true;
                }
                proto::ICMP_CODE_MIN => m.code_min = a.get_u8()?,
                proto::ICMP_CODE_MAX => m.code_max = a.get_u8()?,
                proto::ICMP_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have_type {
            return Err(Reason::MissingOption);
        }
        if m.code_min > m.code_max {
            return Err(Reason::BadIcmpCode);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u8(proto::ICMP_TYPE, self.icmp_type)?;
        if self.code_min != 0 {
            w.put_u8(proto::ICMP_CODE_MIN, self.code_min)?;
        }
        if self.code_max != u8::MAX {
            w.put_u8(proto::ICMP_CODE_MAX, self.code_max)?;
        }
        put_flag_if(w, proto::ICMP_INVERT, self.invert)
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.needs_proto(&[IPPROTO_ICMP])
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        self.matches_l4(&pkt.pkt.l4)
    }
}

impl Icmp {
    /// Whether a packet with transport header `l4` matches (all the match
    /// reads).
    #[inline(always)]
    pub fn matches_l4(&self, l4: &L4) -> bool {
        let L4::Icmp { icmp_type, code } = *l4 else {
            return false;
        };
        let hit = self.icmp_type == Icmp::ANY
            || (icmp_type == self.icmp_type && (self.code_min..=self.code_max).contains(&code));
        hit ^ self.invert
    }
}
