// SPDX-License-Identifier: GPL-2.0

//! `-p udp`: `--sport`, `--dport` (ranges), each with `!` (`xt_tcpudp.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_UDP, L4};
use super::proto;
use super::{each, flags, CheckCtx, Context, MatchOps, Needs, PacketInfo, PortRange, Reason};

/// The udp match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    /// `--sport`.
    pub sports: PortRange,
    /// `--dport`.
    pub dports: PortRange,
    /// `proto::TCP_INV_SPORTS` and `TCP_INV_DPORTS` bits.
    pub invert: u8,
}

impl MatchOps for Udp {
    const KIND: u32 = proto::MT_UDP;
    const NAME: &'static str = "udp";
    const NEEDS: Needs = Needs::Header;

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Udp::default();
        each(opts, |a| {
            match a.kind() {
                proto::UDP_SPORTS => m.sports = PortRange::decode(a)?,
                proto::UDP_DPORTS => m.dports = PortRange::decode(a)?,
                proto::UDP_INVERT => {
                    let known = proto::TCP_INV_SPORTS | proto::TCP_INV_DPORTS;
                    m.invert = flags(a.get_u32()?, known)? as u8;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if !self.sports.is_all() {
            w.put_u32(proto::UDP_SPORTS, self.sports.to_u32())?;
        }
        if !self.dports.is_all() {
            w.put_u32(proto::UDP_DPORTS, self.dports.to_u32())?;
        }
        if self.invert != 0 {
            w.put_u32(proto::UDP_INVERT, self.invert.into())?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.needs_proto(&[IPPROTO_UDP])
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        self.matches_l4(&pkt.pkt.l4)
    }
}

impl Udp {
    /// Whether a packet with transport header `l4` matches (all the match
    /// reads).
    #[inline(always)]
    pub fn matches_l4(&self, l4: &L4) -> bool {
        let L4::Udp { sport, dport } = *l4 else {
            return false;
        };
        let inv = |bit: u32| u32::from(self.invert) & bit != 0;
        self.sports.contains(sport) ^ inv(proto::TCP_INV_SPORTS)
            && self.dports.contains(dport) ^ inv(proto::TCP_INV_DPORTS)
    }
}
