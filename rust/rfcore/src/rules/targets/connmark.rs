// SPDX-License-Identifier: GPL-2.0

//! `-j CONNMARK` (`xt_connmark.c`, revision 1): the mark of the packet's
//! connection entry ([`Context::conntrack`], [`Context::set_ct_mark`]).
//!
//! - set: `ctmark = (ctmark & ~ctmask) ^ ctmark_value`: `--set-xmark
//!   v/m` is (v, m), `--set-mark v/m` (v, m | v), `--and-mark b` (0, ~b),
//!   `--or-mark b` (b, b), `--xor-mark b` (b, 0);
//! - `--save-mark`: `ctmark = (ctmark & ~ctmask) ^ (mark & nfmask)`;
//! - `--restore-mark`: `mark = (mark & ~nfmask) ^ (ctmark & ctmask)`, seen
//!   by later rules.
//!
//! A packet without an entry is left alone. The walk goes on.

use super::eval::ct_entry;
use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, Context, PacketInfo, Reason, TargetOps, Verdict};

/// What CONNMARK does (`XT_CONNMARK_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnMarkMode {
    /// Change the connection's mark.
    #[default]
    Set,
    /// Copy (bits of) the packet's mark to the connection's.
    Save,
    /// Copy (bits of) the connection's mark to the packet's.
    Restore,
}

impl ConnMarkMode {
    /// Its `proto::CONNMARK_*` number.
    pub fn number(self) -> u32 {
        match self {
            ConnMarkMode::Set => proto::CONNMARK_SET,
            ConnMarkMode::Save => proto::CONNMARK_SAVE,
            ConnMarkMode::Restore => proto::CONNMARK_RESTORE,
        }
    }

    /// The mode numbered `n`.
    pub fn from_number(n: u32) -> Option<ConnMarkMode> {
        match n {
            proto::CONNMARK_SET => Some(ConnMarkMode::Set),
            proto::CONNMARK_SAVE => Some(ConnMarkMode::Save),
            proto::CONNMARK_RESTORE => Some(ConnMarkMode::Restore),
            _ => None,
        }
    }
}

/// The CONNMARK target (`xt_connmark_tginfo1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetConnMark {
    /// What it does.
    pub mode: ConnMarkMode,
    /// Bits XORed into the connection's mark (set).
    pub ctmark: u32,
    /// Bits of the connection's mark cleared (set, save) or copied
    /// (restore).
    pub ctmask: u32,
    /// Bits of the packet's mark copied (save) or cleared (restore).
    pub nfmask: u32,
}

impl Default for SetConnMark {
    /// As `connmark_tg_init`: both masks all ones.
    fn default() -> Self {
        SetConnMark {
            mode: ConnMarkMode::Set,
            ctmark: 0,
            ctmask: u32::MAX,
            nfmask: u32::MAX,
        }
    }
}

impl SetConnMark {
    /// The connection mark after the target, for `ctmark` and packet mark
    /// `mark`; `None` for restore, which leaves it.
    pub fn new_ctmark(&self, ctmark: u32, mark: u32) -> Option<u32> {
        match self.mode {
            ConnMarkMode::Set => Some((ctmark & !self.ctmask) ^ self.ctmark),
            ConnMarkMode::Save => Some((ctmark & !self.ctmask) ^ (mark & self.nfmask)),
            ConnMarkMode::Restore => None,
        }
    }

    /// The packet mark after the target; `None` unless restore.
    pub fn new_mark(&self, ctmark: u32, mark: u32) -> Option<u32> {
        match self.mode {
            ConnMarkMode::Restore => Some((mark & !self.nfmask) ^ (ctmark & self.ctmask)),
            _ => None,
        }
    }
}

impl TargetOps for SetConnMark {
    const KIND: u32 = proto::TG_CONNMARK;
    const NAME: &'static str = "CONNMARK";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = SetConnMark::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::CONNMARK_TG_MODE => {
                    t.mode =
                        ConnMarkMode::from_number(a.get_u32()?).ok_or(Reason::BadConnmarkMode)?;
                    have = true;
                }
                proto::CONNMARK_TG_CTMARK => t.ctmark = a.get_u32()?,
                proto::CONNMARK_TG_CTMASK => t.ctmask = a.get_u32()?,
                proto::CONNMARK_TG_NFMASK => t.nfmask = a.get_u32()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have {
            return Err(Reason::MissingOption);
        }
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::CONNMARK_TG_MODE, self.mode.number())?;
        if self.ctmark != 0 {
            w.put_u32(proto::CONNMARK_TG_CTMARK, self.ctmark)?;
        }
        if self.ctmask != u32::MAX {
            w.put_u32(proto::CONNMARK_TG_CTMASK, self.ctmask)?;
        }
        if self.nfmask != u32::MAX {
            w.put_u32(proto::CONNMARK_TG_NFMASK, self.nfmask)?;
        }
        Ok(())
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        let ct = ct_entry(ctx)?;
        if let Some(m) = self.new_ctmark(ct.mark, pkt.mark) {
            if m != ct.mark {
                ctx.set_ct_mark(m);
            }
        }
        if let Some(m) = self.new_mark(ct.mark, pkt.mark) {
            pkt.mark = m;
            ctx.set_mark(m);
        }
        None
    }
}
