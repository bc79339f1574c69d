// SPDX-License-Identifier: GPL-2.0

//! `-j REJECT [--reject-with type]` (`ipt_REJECT.c`): filter table,
//! INPUT, FORWARD and OUTPUT. The ICMP error or TCP reset is the
//! [`Context`]'s to send ([`Context::reject`]); the packet is dropped.

use super::hooks::{FWD, IN, OUT};
use super::nla::{Attrs, NlaError, Writer};
use super::packet::IPPROTO_TCP;
use super::proto;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

/// What to answer with (`enum ipt_reject_with`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RejectWith {
    /// `icmp-net-unreachable`.
    NetUnreachable,
    /// `icmp-host-unreachable`.
    HostUnreachable,
    /// `icmp-proto-unreachable`.
    ProtoUnreachable,
    /// `icmp-port-unreachable`, the default.
    #[default]
    PortUnreachable,
    /// `icmp-net-prohibited`.
    NetProhibited,
    /// `icmp-host-prohibited`.
    HostProhibited,
    /// `icmp-admin-prohibited`.
    AdminProhibited,
    /// `tcp-reset`.
    TcpReset,
}

impl RejectWith {
    /// Every value.
    pub const ALL: [RejectWith; 8] = [
        RejectWith::NetUnreachable,
        RejectWith::HostUnreachable,
        RejectWith::ProtoUnreachable,
        RejectWith::PortUnreachable,
        RejectWith::NetProhibited,
        RejectWith::HostProhibited,
        RejectWith::AdminProhibited,
        RejectWith::TcpReset,
    ];

    /// Its `proto::REJECT_*` number.
    pub fn number(self) -> u32 {
        match self {
            RejectWith::NetUnreachable => proto::REJECT_NET_UNREACHABLE,
            RejectWith::HostUnreachable => proto::REJECT_HOST_UNREACHABLE,
            RejectWith::ProtoUnreachable => proto::REJECT_PROTO_UNREACHABLE,
            RejectWith::PortUnreachable => proto::REJECT_PORT_UNREACHABLE,
            RejectWith::NetProhibited => proto::REJECT_NET_PROHIBITED,
            RejectWith::HostProhibited => proto::REJECT_HOST_PROHIBITED,
            RejectWith::AdminProhibited => proto::REJECT_ADMIN_PROHIBITED,
            RejectWith::TcpReset => proto::REJECT_TCP_RESET,
        }
    }

    /// The value with `proto::REJECT_*` number `n`.
    pub fn from_number(n: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.number() == n)
    }

    /// Its iptables name.
    pub fn name(self) -> &'static str {
        match self {
            RejectWith::NetUnreachable => "icmp-net-unreachable",
            RejectWith::HostUnreachable => "icmp-host-unreachable",
            RejectWith::ProtoUnreachable => "icmp-proto-unreachable",
            RejectWith::PortUnreachable => "icmp-port-unreachable",
            RejectWith::NetProhibited => "icmp-net-prohibited",
            RejectWith::HostProhibited => "icmp-host-prohibited",
            RejectWith::AdminProhibited => "icmp-admin-prohibited",
            RejectWith::TcpReset => "tcp-reset",
        }
    }

    /// The code of the ICMP destination unreachable (type 3) message to
    /// send; `None` for a TCP reset.
    pub fn icmp_code(self) -> Option<u8> {
        match self {
            RejectWith::NetUnreachable => Some(0),
            RejectWith::HostUnreachable => Some(1),
            RejectWith::ProtoUnreachable => Some(2),
            RejectWith::PortUnreachable => Some(3),
            RejectWith::NetProhibited => Some(9),
            RejectWith::HostProhibited => Some(10),
            RejectWith::AdminProhibited => Some(13),
            RejectWith::TcpReset => None,
        }
    }
}

/// The REJECT target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reject {
    /// `--reject-with`.
    pub with: RejectWith,
}

impl TargetOps for Reject {
    const KIND: u32 = proto::TG_REJECT;
    const NAME: &'static str = "REJECT";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = Reject::default();
        each(opts, |a| {
            match a.kind() {
                proto::REJECT_WITH => {
                    t.with = RejectWith::from_number(a.get_u32()?).ok_or(Reason::BadRejectWith)?
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::REJECT_WITH, self.with.number())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_tables(&[TableKind::Filter])?;
        cx.only_hooks(IN | FWD | OUT)?;
        if self.with == RejectWith::TcpReset {
            cx.needs_proto(&[IPPROTO_TCP])
                .map_err(|_| Reason::TcpResetNeedsTcp)?;
        }
        Ok(())
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        ctx.reject(self.with, pkt);
        Some(Verdict::Drop)
    }
}
