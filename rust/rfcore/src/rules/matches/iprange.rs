// SPDX-License-Identifier: GPL-2.0

//! `-m iprange --src-range a-b --dst-range a-b`, each with `!`
//! (`xt_iprange.c`).

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, Context, MatchOps, PacketInfo, Reason};

/// An inclusive address range, in network order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrRange {
    /// First address.
    pub first: [u8; 4],
    /// Last address.
    pub last: [u8; 4],
}

impl AddrRange {
    /// Whether `addr` is in it.
    pub fn contains(&self, addr: [u8; 4]) -> bool {
        let a = u32::from_be_bytes(addr);
        u32::from_be_bytes(self.first) <= a && a <= u32::from_be_bytes(self.last)
    }
}

/// The iprange match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpRange {
    /// `--src-range`.
    pub src: Option<AddrRange>,
    /// `--dst-range`.
    pub dst: Option<AddrRange>,
    /// `proto::IPRANGE_INV_*` bits.
    pub invert: u8,
}

/// A range from optional ends: both or neither.
fn range(first: Option<[u8; 4]>, last: Option<[u8; 4]>) -> Result<Option<AddrRange>, Reason> {
    match (first, last) {
        (None, None) => Ok(None),
        (Some(first), Some(last)) => {
            if u32::from_be_bytes(first) > u32::from_be_bytes(last) {
                return Err(Reason::BadIpRange);
            }
            Ok(Some(AddrRange { first, last }))
        }
        _ => Err(Reason::MissingOption),
    }
}

impl MatchOps for IpRange {
    const KIND: u32 = proto::MT_IPRANGE;
    const NAME: &'static str = "iprange";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut ends = [None; 4];
        let mut invert = 0;
        each(opts, |a| {
            let k = match a.kind() {
                proto::IPRANGE_SRC_MIN => 0,
                proto::IPRANGE_SRC_MAX => 1,
                proto::IPRANGE_DST_MIN => 2,
                proto::IPRANGE_DST_MAX => 3,
                proto::IPRANGE_INVERT => {
                    let known = proto::IPRANGE_INV_SRC | proto::IPRANGE_INV_DST;
                    invert = flags(a.get_u32()?, known)? as u8;
                    return Ok(true);
                }
                _ => return Ok(false),
            };
            if let Some(e) = ends.get_mut(k) {
                *e = Some(a.get_be32()?);
            }
            Ok(true)
        })?;
        let m = IpRange {
            src: range(ends[0], ends[1])?,
            dst: range(ends[2], ends[3])?,
            invert,
        };
        if m.src.is_none() && m.dst.is_none() {
            return Err(Reason::MissingOption);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if let Some(r) = self.src {
            w.put_be32(proto::IPRANGE_SRC_MIN, r.first)?;
            w.put_be32(proto::IPRANGE_SRC_MAX, r.last)?;
        }
        if let Some(r) = self.dst {
            w.put_be32(proto::IPRANGE_DST_MIN, r.first)?;
            w.put_be32(proto::IPRANGE_DST_MAX, r.last)?;
        }
        if self.invert != 0 {
            w.put_u32(proto::IPRANGE_INVERT, self.invert.into())?;
        }
        Ok(())
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        let inv = |bit: u32| u32::from(self.invert) & bit != 0;
        let ip = &pkt.pkt;
        if let Some(r) = self.src {
            if !(r.contains(ip.saddr) ^ inv(proto::IPRANGE_INV_SRC)) {
                return false;
            }
        }
        if let Some(r) = self.dst {
            if !(r.contains(ip.daddr) ^ inv(proto::IPRANGE_INV_DST)) {
                return false;
            }
        }
        true
    }
}
