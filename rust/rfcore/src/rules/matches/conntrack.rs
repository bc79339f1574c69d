// SPDX-License-Identifier: GPL-2.0

//! `-m conntrack` (`xt_conntrack.c`, revision 3): `[!] --ctstate`,
//! `[!] --ctproto`, `[!] --ctorigsrc`/`--ctorigdst`/`--ctreplsrc`/
//! `--ctrepldst addr[/mask]`, `[!] --ctorigsrcport`/`--ctorigdstport`/
//! `--ctreplsrcport`/`--ctrepldstport port[:port]`, `[!] --ctstatus`,
//! `[!] --ctexpire min[:max]`, `--ctdir ORIGINAL|REPLY`.
//!
//! The packet's state and entry come from the [`Context`]:
//! [`Context::conntrack`]. As in the kernel, a packet without an entry
//! (INVALID, UNTRACKED) is tested against `--ctstate` alone: it matches if
//! the rule has a `--ctstate` that lets it through, and never otherwise.

use super::eval::{IPS_DST_NAT, IPS_SRC_NAT};
use super::nla::{Attr, Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, Context, CtDir, CtView, MatchOps, PacketInfo, PortRange, Reason};

/// Every `--ctstate` bit.
pub const CTSTATE_ALL: u32 = proto::CTSTATE_INVALID
    | proto::CTSTATE_ESTABLISHED
    | proto::CTSTATE_RELATED
    | proto::CTSTATE_NEW
    | proto::CTSTATE_SNAT
    | proto::CTSTATE_DNAT
    | proto::CTSTATE_UNTRACKED;

/// Every `--ctstatus` bit.
pub const CTSTATUS_ALL: u32 = proto::CTSTATUS_EXPECTED
    | proto::CTSTATUS_SEEN_REPLY
    | proto::CTSTATUS_ASSURED
    | proto::CTSTATUS_CONFIRMED;

/// The options `!` may precede.
const INVERTIBLE: u32 = proto::CONNTRACK_F_DIRECTION - 1;

/// An address and mask: `((addr ^ a) & mask) == 0`. The address may have
/// bits outside the mask (iptables keeps them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrMask {
    /// The address, network order.
    pub addr: [u8; 4],
    /// The mask.
    pub mask: [u8; 4],
}

impl Default for AddrMask {
    fn default() -> Self {
        AddrMask {
            addr: [0; 4],
            mask: [255; 4],
        }
    }
}

impl AddrMask {
    /// Whether `a` is in it.
    pub fn contains(&self, a: [u8; 4]) -> bool {
        self.addr
            .iter()
            .zip(self.mask)
            .zip(a)
            .all(|((x, m), y)| (x ^ y) & m == 0)
    }
}

/// The conntrack match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conntrack {
    /// `proto::CONNTRACK_F_*` bits of the options given.
    pub flags: u16,
    /// `proto::CONNTRACK_F_*` bits of the options inverted.
    pub invert: u16,
    /// `--ctstate`: `proto::CTSTATE_*` bits.
    pub state: u16,
    /// `--ctstatus`: `proto::CTSTATUS_*` bits.
    pub status: u8,
    /// `--ctproto`.
    pub proto: u8,
    /// `--ctorigsrc`.
    pub orig_src: AddrMask,
    /// `--ctorigdst`.
    pub orig_dst: AddrMask,
    /// `--ctreplsrc`.
    pub repl_src: AddrMask,
    /// `--ctrepldst`.
    pub repl_dst: AddrMask,
    /// `--ctorigsrcport`; first may exceed last (then nothing is in it).
    pub orig_sport: PortRange,
    /// `--ctorigdstport`.
    pub orig_dport: PortRange,
    /// `--ctreplsrcport`.
    pub repl_sport: PortRange,
    /// `--ctrepldstport`.
    pub repl_dport: PortRange,
    /// `--ctexpire` minimum, seconds.
    pub expires_min: u32,
    /// `--ctexpire` maximum; may be below the minimum.
    pub expires_max: u32,
    /// `--ctdir`.
    pub dir: CtDir,
}

/// The address options, in the order they are tested and printed: flag,
/// address attribute, mask attribute.
const ADDRS: [(u32, u16, u16); 4] = [
    (
        proto::CONNTRACK_F_ORIGSRC,
        proto::CONNTRACK_ORIGSRC,
        proto::CONNTRACK_ORIGSRC_MASK,
    ),
    (
        proto::CONNTRACK_F_ORIGDST,
        proto::CONNTRACK_ORIGDST,
        proto::CONNTRACK_ORIGDST_MASK,
    ),
    (
        proto::CONNTRACK_F_REPLSRC,
        proto::CONNTRACK_REPLSRC,
        proto::CONNTRACK_REPLSRC_MASK,
    ),
    (
        proto::CONNTRACK_F_REPLDST,
        proto::CONNTRACK_REPLDST,
        proto::CONNTRACK_REPLDST_MASK,
    ),
];

/// The port options, in order: flag, attribute.
const PORTS: [(u32, u16); 4] = [
    (
        proto::CONNTRACK_F_ORIGSRC_PORT,
        proto::CONNTRACK_ORIGSRC_PORT,
    ),
    (
        proto::CONNTRACK_F_ORIGDST_PORT,
        proto::CONNTRACK_ORIGDST_PORT,
    ),
    (
        proto::CONNTRACK_F_REPLSRC_PORT,
        proto::CONNTRACK_REPLSRC_PORT,
    ),
    (
        proto::CONNTRACK_F_REPLDST_PORT,
        proto::CONNTRACK_REPLDST_PORT,
    ),
];

impl Conntrack {
    /// Whether option `f` (a `proto::CONNTRACK_F_*` bit) is given.
    pub fn has(&self, f: u32) -> bool {
        u32::from(self.flags) & f != 0
    }

    /// Whether option `f` is inverted.
    pub fn inverted(&self, f: u32) -> bool {
        u32::from(self.invert) & f != 0
    }

    /// Address option `i` of [`ADDRS`].
    fn addr_mut(&mut self, i: usize) -> &mut AddrMask {
        match i {
            0 => &mut self.orig_src,
            1 => &mut self.orig_dst,
            2 => &mut self.repl_src,
            _ => &mut self.repl_dst,
        }
    }

    /// Port option `i` of [`PORTS`].
    fn port_mut(&mut self, i: usize) -> &mut PortRange {
        match i {
            0 => &mut self.orig_sport,
            1 => &mut self.orig_dport,
            2 => &mut self.repl_sport,
            _ => &mut self.repl_dport,
        }
    }

    /// Whether the entry `ct` passes every option but `--ctstate`, as
    /// `conntrack_mt` tests them.
    fn entry_matches(&self, ct: &CtView) -> bool {
        // An option given passes when it hits, or when it misses and is
        // inverted.
        let pass = |f: u32, hit: bool| !self.has(f) || hit != self.inverted(f);
        if self.has(proto::CONNTRACK_F_DIRECTION) && ct.dir != self.dir {
            return false;
        }
        let addrs = [
            (&self.orig_src, ct.orig.src),
            (&self.orig_dst, ct.orig.dst),
            (&self.repl_src, ct.reply.src),
            (&self.repl_dst, ct.reply.dst),
        ];
        for ((f, _, _), (am, a)) in ADDRS.iter().zip(addrs) {
            if !pass(*f, am.contains(a)) {
                return false;
            }
        }
        if !pass(proto::CONNTRACK_F_PROTO, ct.proto == self.proto) {
            return false;
        }
        let ports = [
            (&self.orig_sport, ct.orig.sport),
            (&self.orig_dport, ct.orig.dport),
            (&self.repl_sport, ct.reply.sport),
            (&self.repl_dport, ct.reply.dport),
        ];
        for ((f, _), (r, p)) in PORTS.iter().zip(ports) {
            if !pass(*f, r.contains(p)) {
                return false;
            }
        }
        pass(
            proto::CONNTRACK_F_STATUS,
            u32::from(self.status) & ct.status != 0,
        ) && pass(
            proto::CONNTRACK_F_EXPIRES,
            (self.expires_min..=self.expires_max).contains(&ct.expires),
        )
    }
}

/// A port range attribute, first and last in any order (iptables takes
/// `--ctorigsrcport 20:10`, which matches no port).
fn ports_of(a: &Attr<'_>) -> Result<PortRange, Reason> {
    let v = a.get_u32()?;
    Ok(PortRange {
        first: (v >> 16) as u16,
        last: v as u16,
    })
}

impl MatchOps for Conntrack {
    const KIND: u32 = proto::MT_CONNTRACK;
    const NAME: &'static str = "conntrack";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = Conntrack::default();
        let mut given = 0u32;
        let mut masks = 0u32;
        let mut expires_max = None;
        let mut invert = 0u32;
        each(opts, |a| {
            let k = a.kind();
            let mut set = |f: u32| given |= f;
            match k {
                proto::CONNTRACK_STATE => {
                    m.state = flags(a.get_u32()?, CTSTATE_ALL)? as u16;
                    set(proto::CONNTRACK_F_STATE);
                }
                proto::CONNTRACK_PROTO => {
                    m.proto = a.get_u8()?;
                    set(proto::CONNTRACK_F_PROTO);
                }
                proto::CONNTRACK_STATUS => {
                    m.status = flags(a.get_u32()?, CTSTATUS_ALL)? as u8;
                    set(proto::CONNTRACK_F_STATUS);
                }
                proto::CONNTRACK_EXPIRES_MIN => {
                    m.expires_min = a.get_u32()?;
                    set(proto::CONNTRACK_F_EXPIRES);
                }
                proto::CONNTRACK_EXPIRES_MAX => expires_max = Some(a.get_u32()?),
                proto::CONNTRACK_DIR => {
                    m.dir = match a.get_u32()? {
                        proto::CTDIR_ORIGINAL => CtDir::Original,
                        proto::CTDIR_REPLY => CtDir::Reply,
                        _ => return Err(Reason::BadCtDirection),
                    };
                    set(proto::CONNTRACK_F_DIRECTION);
                }
                proto::CONNTRACK_INVERT => invert = flags(a.get_u32()?, INVERTIBLE)?,
                _ => {
                    for (i, &(f, addr_kind, mask_kind)) in ADDRS.iter().enumerate() {
                        if k == addr_kind {
                            m.addr_mut(i).addr = a.get_be32()?;
                            given |= f;
                            return Ok(true);
                        }
                        if k == mask_kind {
                            m.addr_mut(i).mask = a.get_be32()?;
                            masks |= f;
                            return Ok(true);
                        }
                    }
                    for (i, &(f, kind)) in PORTS.iter().enumerate() {
                        if k == kind {
                            *m.port_mut(i) = ports_of(a)?;
                            given |= f;
                            return Ok(true);
                        }
                    }
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if given == 0 || masks & !given != 0 {
            return Err(Reason::MissingOption);
        }
        m.expires_max = match expires_max {
            Some(_) if given & proto::CONNTRACK_F_EXPIRES == 0 => {
                return Err(Reason::MissingOption)
            }
            Some(v) => v,
            None => m.expires_min,
        };
        // An inverted option that is not given would come back different.
        if invert & !given != 0 {
            return Err(Reason::BadFlags);
        }
        m.flags = given as u16;
        m.invert = invert as u16;
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if self.has(proto::CONNTRACK_F_STATE) {
            w.put_u32(proto::CONNTRACK_STATE, self.state.into())?;
        }
        if self.has(proto::CONNTRACK_F_PROTO) {
            w.put_u8(proto::CONNTRACK_PROTO, self.proto)?;
        }
        let addrs = [self.orig_src, self.orig_dst, self.repl_src, self.repl_dst];
        for (&(f, addr_kind, mask_kind), am) in ADDRS.iter().zip(addrs) {
            if self.has(f) {
                w.put_be32(addr_kind, am.addr)?;
                if am.mask != [255; 4] {
                    w.put_be32(mask_kind, am.mask)?;
                }
            }
        }
        let ports = [
            self.orig_sport,
            self.orig_dport,
            self.repl_sport,
            self.repl_dport,
        ];
        for (&(f, kind), r) in PORTS.iter().zip(ports) {
            if self.has(f) {
                w.put_u32(kind, r.to_u32())?;
            }
        }
        if self.has(proto::CONNTRACK_F_STATUS) {
            w.put_u32(proto::CONNTRACK_STATUS, self.status.into())?;
        }
        if self.has(proto::CONNTRACK_F_EXPIRES) {
            w.put_u32(proto::CONNTRACK_EXPIRES_MIN, self.expires_min)?;
            if self.expires_max != self.expires_min {
                w.put_u32(proto::CONNTRACK_EXPIRES_MAX, self.expires_max)?;
            }
        }
        if self.has(proto::CONNTRACK_F_DIRECTION) {
            let d = match self.dir {
                CtDir::Original => proto::CTDIR_ORIGINAL,
                CtDir::Reply => proto::CTDIR_REPLY,
            };
            w.put_u32(proto::CONNTRACK_DIR, d)?;
        }
        if self.invert != 0 {
            w.put_u32(proto::CONNTRACK_INVERT, self.invert.into())?;
        }
        Ok(())
    }

    fn matches<C: Context>(&self, _pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        let view = ctx.conntrack();
        let entry = view.filter(CtView::has_entry);
        if self.has(proto::CONNTRACK_F_STATE) {
            let mut bits = view.map_or(proto::CTSTATE_UNTRACKED, |v| v.state);
            if let Some(ct) = entry {
                if ct.status & IPS_SRC_NAT != 0 {
                    bits |= proto::CTSTATE_SNAT;
                }
                if ct.status & IPS_DST_NAT != 0 {
                    bits |= proto::CTSTATE_DNAT;
                }
            }
            let hit = u32::from(self.state) & bits != 0;
            if hit == self.inverted(proto::CONNTRACK_F_STATE) {
                return false;
            }
        }
        match entry {
            None => self.has(proto::CONNTRACK_F_STATE),
            Some(ct) => self.entry_matches(&ct),
        }
    }
}
