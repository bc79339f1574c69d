// SPDX-License-Identifier: GPL-2.0

//! `-m multiport`: `--sports`, `--dports`, `--ports`, up to 15 ports where
//! a range counts as two, with `!` (`xt_multiport.c`, revision 1).

use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_TCP, IPPROTO_UDP, L4};
use super::proto;
use super::{each, put_flag_if, CheckCtx, Context, MatchOps, Needs, PacketInfo, PortRange, Reason};

/// Most port slots (`XT_MULTI_PORTS`).
pub const MAX_PORTS: usize = 15;

/// The multiport match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Multiport {
    /// `proto::MULTIPORT_SOURCE`, `_DESTINATION` or `_EITHER`.
    pub mode: u32,
    /// Number of entries of `ranges` in use.
    pub count: u8,
    /// The ports and ranges; a single port has first == last.
    pub ranges: [PortRange; MAX_PORTS],
    /// `!`.
    pub invert: bool,
}

impl Multiport {
    /// The entries in use.
    pub fn entries(&self) -> &[PortRange] {
        self.ranges.get(..usize::from(self.count)).unwrap_or(&[])
    }

    /// Slots the entries use: one per port, two per range.
    fn slots(&self) -> usize {
        self.entries()
            .iter()
            .map(|r| if r.first == r.last { 1 } else { 2 })
            .sum()
    }

    fn any(&self, port: u16) -> bool {
        self.entries().iter().any(|r| r.contains(port))
    }
}

impl MatchOps for Multiport {
    const KIND: u32 = proto::MT_MULTIPORT;
    const NAME: &'static str = "multiport";
    const NEEDS: Needs = Needs::Ports;

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Multiport::default();
        let mut mode = None;
        each(opts, |a| {
            match a.kind() {
                proto::MULTIPORT_MODE => {
                    let v = a.get_u32()?;
                    if v > proto::MULTIPORT_EITHER {
                        return Err(Reason::BadMultiportMode);
                    }
                    mode = Some(v);
                }
                proto::MULTIPORT_RANGE => {
                    let r = PortRange::decode(a)?;
                    let slot = m
                        .ranges
                        .get_mut(usize::from(m.count))
                        .ok_or(Reason::TooManyPorts)?;
                    *slot = r;
                    m.count += 1;
                }
                proto::MULTIPORT_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        m.mode = mode.ok_or(Reason::MissingOption)?;
        if m.count == 0 {
            return Err(Reason::MissingOption);
        }
        if m.slots() > MAX_PORTS {
            return Err(Reason::TooManyPorts);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::MULTIPORT_MODE, self.mode)?;
        for r in self.entries() {
            w.put_u32(proto::MULTIPORT_RANGE, r.to_u32())?;
        }
        put_flag_if(w, proto::MULTIPORT_INVERT, self.invert)
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.needs_proto(&[IPPROTO_TCP, IPPROTO_UDP])
    }

    fn matches<C: Context>(&self, pkt: &PacketInfo, _ctx: &mut C, _index: u32) -> bool {
        let (sport, dport) = match pkt.pkt.l4 {
            L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport } => (sport, dport),
            // Cut short of its header but with the ports, as multiport
            // reads only them.
            L4::Truncated { ports: Some(ports) } => ports,
            _ => return false,
        };
        let hit = match self.mode {
            proto::MULTIPORT_SOURCE => self.any(sport),
            proto::MULTIPORT_DESTINATION => self.any(dport),
            _ => self.any(sport) || self.any(dport),
        };
        hit ^ self.invert
    }
}
