// SPDX-License-Identifier: GPL-2.0

//! `-m addrtype --src-type T --dst-type T` (`LOCAL`, `UNICAST`,
//! `BROADCAST`, ...), with `!`, `--limit-iface-in`, `--limit-iface-out`
//! (`xt_addrtype.c`, revision 1). The routing answer comes from the
//! [`Context`]: [`Context::addr_type`].

use super::hooks::{IN, OUT, POST, PRE};
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, AddrTypeDev, CheckCtx, Context, MatchOps, PacketInfo, Reason};

/// The address types, by route type number (`RTN_*`); bit `n` of a type
/// mask is type `n`.
pub const TYPE_NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// Every known type bit.
const ALL_TYPES: u32 = (1 << TYPE_NAMES.len()) - 1;

/// The addrtype match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrType {
    /// Source types, one bit per `RTN_*`; 0: not tested.
    pub src: u16,
    /// Destination types.
    pub dst: u16,
    /// `proto::ADDRTYPE_F_*` bits.
    pub flags: u8,
}

impl AddrType {
    fn has(&self, bit: u32) -> bool {
        u32::from(self.flags) & bit != 0
    }

    fn test<C: Context>(ctx: &mut C, addr: [u8; 4], dev: AddrTypeDev, mask: u16) -> bool {
        let rtn = ctx.addr_type(addr, dev);
        1u32.checked_shl(rtn.into())
            .is_some_and(|bit| u32::from(mask) & bit != 0)
    }
}

impl MatchOps for AddrType {
    const KIND: u32 = proto::MT_ADDRTYPE;
    const NAME: &'static str = "addrtype";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = AddrType::default();
        let types = |v: u32| {
            if v & !ALL_TYPES != 0 {
                Err(Reason::BadAddrType)
            } else {
                Ok(v as u16)
            }
        };
        each(opts, |a| {
            match a.kind() {
                proto::ADDRTYPE_SRC => m.src = types(a.get_u32()?)?,
                proto::ADDRTYPE_DST => m.dst = types(a.get_u32()?)?,
                proto::ADDRTYPE_FLAGS => {
                    let known = proto::ADDRTYPE_F_INVERT_SRC
                        | proto::ADDRTYPE_F_INVERT_DST
                        | proto::ADDRTYPE_F_LIMIT_IFACE_IN
                        | proto::ADDRTYPE_F_LIMIT_IFACE_OUT;
                    m.flags = flags(a.get_u32()?, known)? as u8;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if m.has(proto::ADDRTYPE_F_LIMIT_IFACE_IN) && m.has(proto::ADDRTYPE_F_LIMIT_IFACE_OUT) {
            return Err(Reason::AddrTypeBothIfaces);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if self.src != 0 {
            w.put_u32(proto::ADDRTYPE_SRC, self.src.into())?;
        }
        if self.dst != 0 {
            w.put_u32(proto::ADDRTYPE_DST, self.dst.into())?;
        }
        if self.flags != 0 {
            w.put_u32(proto::ADDRTYPE_FLAGS, self.flags.into())?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        if self.has(proto::ADDRTYPE_F_LIMIT_IFACE_OUT) {
            cx.only_hooks(!(PRE | IN))?;
        }
        if self.has(proto::ADDRTYPE_F_LIMIT_IFACE_IN) {
            cx.only_hooks(!(POST | OUT))?;
        }
        Ok(())
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        let dev = if self.has(proto::ADDRTYPE_F_LIMIT_IFACE_IN) {
            AddrTypeDev::In
        } else if self.has(proto::ADDRTYPE_F_LIMIT_IFACE_OUT) {
            AddrTypeDev::Out
        } else {
            AddrTypeDev::Any
        };
        let ip = &pkt.pkt;
        if self.src != 0
            && !(Self::test(ctx, ip.saddr, dev, self.src) ^ self.has(proto::ADDRTYPE_F_INVERT_SRC))
        {
            return false;
        }
        if self.dst != 0
            && !(Self::test(ctx, ip.daddr, dev, self.dst) ^ self.has(proto::ADDRTYPE_F_INVERT_DST))
        {
            return false;
        }
        true
    }
}
