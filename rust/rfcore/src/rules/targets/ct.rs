// SPDX-License-Identifier: GPL-2.0

//! `-j CT [--notrack] [--helper ftp|tftp]` and `-j NOTRACK` (`xt_CT.c`):
//! raw table, PREROUTING and OUTPUT. `--notrack` exempts the packet from
//! connection tracking ([`Context::notrack`]); `--helper` has the
//! connection it starts use a helper ([`Context::ct_helper`]), which needs
//! the rule's `-p` to be the helper's protocol. `-j NOTRACK` is `-j CT
//! --notrack` written under its old name, as iptables keeps it
//! (`XT_CT_NOTRACK_ALIAS`). `-j CT` alone does nothing. The walk goes on.

use super::hooks::{OUT, PRE};
use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_TCP, IPPROTO_UDP};
use super::proto;
use super::{each, CheckCtx, Context, PacketInfo, Reason, TableKind, TargetOps, Verdict};

/// The connection-tracking helpers the kernel offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtHelper {
    /// `ftp`, for TCP (`nf_conntrack_ftp`).
    Ftp,
    /// `tftp`, for UDP (`nf_conntrack_tftp`).
    Tftp,
}

impl CtHelper {
    /// Every helper.
    pub const ALL: [CtHelper; 2] = [CtHelper::Ftp, CtHelper::Tftp];

    /// Its name, as `--helper` takes it.
    pub fn name(self) -> &'static str {
        match self {
            CtHelper::Ftp => "ftp",
            CtHelper::Tftp => "tftp",
        }
    }

    /// The helper called `name` (case matters, as in the kernel).
    pub fn from_name(name: &str) -> Option<CtHelper> {
        Self::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The IP protocol it is registered for.
    pub fn proto(self) -> u8 {
        match self {
            CtHelper::Ftp => IPPROTO_TCP,
            CtHelper::Tftp => IPPROTO_UDP,
        }
    }
}

/// The CT target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ct {
    /// `proto::CT_F_*` bits.
    pub flags: u8,
    /// `--helper`.
    pub helper: Option<CtHelper>,
}

impl Ct {
    /// `-j NOTRACK`.
    pub const NOTRACK: Ct = Ct {
        flags: (proto::CT_F_NOTRACK | proto::CT_F_NOTRACK_ALIAS) as u8,
        helper: None,
    };

    /// Whether `flag` (a `proto::CT_F_*` bit) is set.
    pub fn has(&self, flag: u32) -> bool {
        u32::from(self.flags) & flag != 0
    }

    /// Whether it is `-j NOTRACK`.
    pub fn is_notrack_alias(&self) -> bool {
        self.has(proto::CT_F_NOTRACK_ALIAS)
    }
}

impl TargetOps for Ct {
    const KIND: u32 = proto::TG_CT;
    const NAME: &'static str = "CT";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = Ct::default();
        each(opts, |a| {
            match a.kind() {
                proto::CT_FLAGS => {
                    let f = a.get_u32()?;
                    if f & !(proto::CT_F_NOTRACK | proto::CT_F_NOTRACK_ALIAS) != 0 {
                        return Err(Reason::BadFlags);
                    }
                    t.flags = f as u8;
                }
                proto::CT_HELPER => {
                    t.helper = Some(CtHelper::from_name(a.get_str()?).ok_or(Reason::UnknownHelper)?)
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        // The alias is NOTRACK and nothing else.
        if t.is_notrack_alias() && (!t.has(proto::CT_F_NOTRACK) || t.helper.is_some()) {
            return Err(Reason::BadFlags);
        }
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if self.flags != 0 {
            w.put_u32(proto::CT_FLAGS, self.flags.into())?;
        }
        if let Some(h) = self.helper {
            w.put_str(proto::CT_HELPER, h.name())?;
        }
        Ok(())
    }

    fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
        cx.only_tables(&[TableKind::Raw])?;
        cx.only_hooks(PRE | OUT)?;
        // As xt_CT, the helper is only looked up for a tracking rule.
        match self.helper {
            Some(h) if !self.has(proto::CT_F_NOTRACK) => cx
                .needs_proto(&[h.proto()])
                .map_err(|_| Reason::HelperNeedsProtocol),
            _ => Ok(()),
        }
    }

    fn run<C: Context>(&self, _pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        if self.has(proto::CT_F_NOTRACK) {
            ctx.notrack();
        } else if let Some(h) = self.helper {
            ctx.ct_helper(h);
        }
        None
    }
}
