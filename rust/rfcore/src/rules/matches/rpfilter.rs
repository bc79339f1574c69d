// SPDX-License-Identifier: GPL-2.0

//! `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]`
//! (`ipt_rpfilter.c`): raw and mangle tables, PREROUTING only. The
//! check is decided here; the FIB lookup it needs is the [`Context`]'s:
//! [`Context::route`].

use super::hooks::PRE;
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, CheckCtx, Context, MatchOps, PacketInfo, Reason, RouteQuery, TableKind};

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
        self.reverse_path_ok(pkt, ctx) ^ self.has(proto::RPFILTER_F_INVERT)
    }
}

impl RpFilter {
    fn has(&self, flag: u32) -> bool {
        u32::from(self.flags) & flag != 0
    }

    /// Whether the route back to the packet's source leaves through the
    /// device it came in on (or any device, with `--loose`).
    fn reverse_path_ok<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C) -> bool {
        let ip = &pkt.pkt;
        if ctx.looped_back() {
            return true;
        }
        // DHCP discovery and the like: no route to 0.0.0.0 is expected.
        if is_zeronet(ip.saddr) && (ip.daddr == [255; 4] || is_local_multicast(ip.daddr)) {
            return true;
        }
        let own_addr_usable =
            !(is_multicast(ip.daddr) || ip.daddr == [255; 4] || is_zeronet(ip.daddr));
        let query = RouteQuery {
            daddr: ip.saddr,
            saddr: if own_addr_usable { ip.daddr } else { [0; 4] },
            mark: if self.has(proto::RPFILTER_F_VALID_MARK) {
                pkt.mark
            } else {
                0
            },
            tos: ip.tos & DSCP_MASK,
        };
        let Some(route) = ctx.route(&query) else {
            return false;
        };
        let usable = route.kind == RTN_UNICAST
            || (route.kind == RTN_LOCAL && self.has(proto::RPFILTER_F_ACCEPT_LOCAL));
        usable && (route.via_in_dev || self.has(proto::RPFILTER_F_LOOSE))
    }
}

/// Route types (`RTN_*` of `linux/rtnetlink.h`).
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;

/// The DSCP bits of the TOS byte (`INET_DSCP_MASK`): what routing looks at.
const DSCP_MASK: u8 = 0xfc;

/// 0.0.0.0/8 (`ipv4_is_zeronet`).
fn is_zeronet(a: [u8; 4]) -> bool {
    a[0] == 0
}

/// 224.0.0.0/4.
fn is_multicast(a: [u8; 4]) -> bool {
    a[0] & 0xf0 == 0xe0
}

/// 224.0.0.0/24 (`ipv4_is_local_multicast`).
fn is_local_multicast(a: [u8; 4]) -> bool {
    a[..3] == [224, 0, 0]
}
