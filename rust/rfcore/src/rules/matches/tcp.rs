// SPDX-License-Identifier: GPL-2.0

//! `-p tcp`: `--sport`, `--dport` (ranges), `--tcp-flags mask comp`,
//! `--syn`, each with `!` (`xt_tcpudp.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_TCP, L4};
use super::proto;
use super::{each, flags, CheckCtx, Context, MatchOps, Needs, PacketInfo, PortRange, Reason};

/// The tcp match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tcp {
    /// `--sport`.
    pub sports: PortRange,
    /// `--dport`.
    pub dports: PortRange,
    /// `--tcp-flags`: the flags examined.
    pub flags_mask: u8,
    /// `--tcp-flags`: of those, the ones that must be set.
    pub flags_comp: u8,
    /// `proto::TCP_INV_*` bits.
    pub invert: u8,
}

impl Tcp {
    /// `--syn`: SYN set, RST, ACK and FIN clear.
    pub const SYN_MASK: u8 = 0x17;
    /// `--syn`: the comparison value.
    pub const SYN_COMP: u8 = 0x02;
}

impl MatchOps for Tcp {
    const KIND: u32 = proto::MT_TCP;
    const NAME: &'static str = "tcp";
    const NEEDS: Needs = Needs::Header;

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Tcp::default();
        each(opts, |a| {
            match a.kind() {
                proto::TCP_SPORTS => m.sports = PortRange::decode(a)?,
                proto::TCP_DPORTS => m.dports = PortRange::decode(a)?,
                proto::TCP_FLAGS_MASK => m.flags_mask = a.get_u8()?,
                proto::TCP_FLAGS_COMP => m.flags_comp = a.get_u8()?,
                proto::TCP_INVERT => {
                    let known =
                        proto::TCP_INV_SPORTS | proto::TCP_INV_DPORTS | proto::TCP_INV_FLAGS;
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
            w.put_u32(proto::TCP_SPORTS, self.sports.to_u32())?;
        }
        if !self.dports.is_all() {
            w.put_u32(proto::TCP_DPORTS, self.dports.to_u32())?;
        }
        if self.flags_mask != 0 || self.flags_comp != 0 {
            w.put_u8(proto::TCP_FLAGS_MASK, self.flags_mask)?;
            w.put_u8(proto::TCP_FLAGS_COMP, self.flags_comp)?;
        }
        if self.invert != 0 {
            w.put_u32(proto::TCP_INVERT, self.invert.into())?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.needs_proto(&[IPPROTO_TCP])
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        self.matches_l4(&pkt.pkt.l4)
    }
}

impl Tcp {
    /// Whether a packet with transport header `l4` matches (all the match
    /// reads).
    #[inline(always)]
    pub fn matches_l4(&self, l4: &L4) -> bool {
        // A later fragment has no header: no match (as with fragoff != 0).
        let L4::Tcp {
            sport,
            dport,
            flags,
        } = *l4
        else {
            return false;
        };
        let inv = |bit: u32| u32::from(self.invert) & bit != 0;
        self.sports.contains(sport) ^ inv(proto::TCP_INV_SPORTS)
            && self.dports.contains(dport) ^ inv(proto::TCP_INV_DPORTS)
            && (flags & self.flags_mask == self.flags_comp) ^ inv(proto::TCP_INV_FLAGS)
    }
}
