// SPDX-License-Identifier: GPL-2.0

//! `-j SNAT`, `-j DNAT`, `-j MASQUERADE`, `-j REDIRECT` (`xt_nat.c`,
//! `xt_MASQUERADE.c`, `xt_REDIRECT.c`): nat table only.
//!
//! Each carries a [`NatRange`]: SNAT `--to-source a[-b][:p[-q]]` and DNAT
//! `--to-destination` likewise (an address is required), MASQUERADE and
//! REDIRECT `--to-ports p[-q]` only (the address is the output interface's,
//! or the input interface's, per connection). A port range needs `-p tcp`
//! or `-p udp`. `--random`, `--random-fully` and `--persistent` are flags.
//!
//! Only the first packet of a connection sees the nat table: the target
//! asks the kernel ([`Context::nat`]) to bind the connection, and the
//! verdict is the binding's (ACCEPT, or DROP when no tuple is free). Later
//! packets are translated by the binding without a walk.

use super::hooks::{IN, OUT, POST, PRE};
use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_TCP, IPPROTO_UDP};
use super::proto;
use super::NatRange;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

/// Which NAT target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatKind {
    /// Source to a given range.
    Snat,
    /// Destination to a given range.
    Dnat,
    /// Source to the output interface's address.
    Masquerade,
    /// Destination to this host (the input interface's address, or
    /// 127.0.0.1 for locally generated packets).
    Redirect,
}

/// A NAT target; `KIND` is its `proto::TG_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nat<const KIND: u32> {
    /// Where to map.
    pub range: NatRange,
}

/// `-j SNAT`.
pub type Snat = Nat<{ proto::TG_SNAT }>;
/// `-j DNAT`.
pub type Dnat = Nat<{ proto::TG_DNAT }>;
/// `-j MASQUERADE`.
pub type Masquerade = Nat<{ proto::TG_MASQUERADE }>;
/// `-j REDIRECT`.
pub type Redirect = Nat<{ proto::TG_REDIRECT }>;

const FLAGS: u32 = proto::NAT_F_RANDOM | proto::NAT_F_PERSISTENT | proto::NAT_F_RANDOM_FULLY;

impl<const KIND: u32> Nat<KIND> {
    /// Which target it is.
    pub const fn kind() -> NatKind {
        match KIND {
            proto::TG_SNAT => NatKind::Snat,
            proto::TG_DNAT => NatKind::Dnat,
            proto::TG_MASQUERADE => NatKind::Masquerade,
            _ => NatKind::Redirect,
        }
    }

    /// Whether the target takes addresses (SNAT, DNAT).
    pub const fn takes_addresses() -> bool {
        matches!(Self::kind(), NatKind::Snat | NatKind::Dnat)
    }
}

impl<const KIND: u32> TargetOps for Nat<KIND> {
    const KIND: u32 = KIND;
    const NAME: &'static str = match Self::kind() {
        NatKind::Snat => "SNAT",
        NatKind::Dnat => "DNAT",
        NatKind::Masquerade => "MASQUERADE",
        NatKind::Redirect => "REDIRECT",
    };

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut r = NatRange::default();
        let (mut max_addr, mut max_port) = (None, None);
        each(opts, |a| {
            match a.kind() {
                proto::NAT_FLAGS => {
                    r.flags = a.get_u32()?;
                    if r.flags & !FLAGS != 0 {
                        return Err(Reason::BadFlags);
                    }
                }
                proto::NAT_MIN_ADDR if Self::takes_addresses() => r.min_addr = a.get_be32()?,
                proto::NAT_MAX_ADDR if Self::takes_addresses() => max_addr = Some(a.get_be32()?),
                proto::NAT_MIN_PORT => r.min_port = a.get_u16()?,
                proto::NAT_MAX_PORT => max_port = Some(a.get_u16()?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        r.max_addr = max_addr.unwrap_or(r.min_addr);
        r.max_port = max_port.unwrap_or(r.min_port);
        if Self::takes_addresses() && (r.min_addr == [0; 4] || r.max_addr == [0; 4]) {
            return Err(Reason::MissingNatAddress);
        }
        if u32::from_be_bytes(r.min_addr) > u32::from_be_bytes(r.max_addr)
            || r.min_port > r.max_port
            || (r.min_port == 0 && r.max_port != 0)
        {
            return Err(Reason::BadNatRange);
        }
        Ok(Nat { range: r })
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        let r = &self.range;
        if r.flags != 0 {
            w.put_u32(proto::NAT_FLAGS, r.flags)?;
        }
        if Self::takes_addresses() {
            w.put_be32(proto::NAT_MIN_ADDR, r.min_addr)?;
            if r.max_addr != r.min_addr {
                w.put_be32(proto::NAT_MAX_ADDR, r.max_addr)?;
            }
        }
        if r.proto_specified() {
            w.put_u16(proto::NAT_MIN_PORT, r.min_port)?;
            if r.max_port != r.min_port {
                w.put_u16(proto::NAT_MAX_PORT, r.max_port)?;
            }
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_tables(&[TableKind::Nat])?;
        cx.only_hooks(match Self::kind() {
            NatKind::Snat => POST | IN,
            NatKind::Masquerade => POST,
            NatKind::Dnat | NatKind::Redirect => PRE | OUT,
        })?;
        if self.range.proto_specified() {
            cx.needs_proto(&[IPPROTO_TCP, IPPROTO_UDP])
                .map_err(|_| Reason::NatPortsNeedProtocol)?;
        }
        Ok(())
    }

    fn run<C: Context>(&self, _pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        Some(ctx.nat(Self::kind(), &self.range))
    }
}
