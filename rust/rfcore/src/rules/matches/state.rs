// SPDX-License-Identifier: GPL-2.0

//! `-m state [!] --state INVALID,ESTABLISHED,NEW,RELATED,UNTRACKED`: as
//! iptables 1.8 does it, `xt_conntrack` with only a state (the `state`
//! alias of `libxt_conntrack.c`). The packet's state comes from the
//! [`Context`]: [`Context::conntrack`]; a packet conntrack has not looked at
//! is UNTRACKED.

use super::nla::{Attrs, NlaError, Writer};
use super::proto;
use super::{each, flags, put_flag_if, Context, MatchOps, PacketInfo, Reason};

/// The states `--state` takes (`--ctstate`'s but SNAT and DNAT).
pub const STATES_ALL: u32 = proto::CTSTATE_INVALID
    | proto::CTSTATE_ESTABLISHED
    | proto::CTSTATE_RELATED
    | proto::CTSTATE_NEW
    | proto::CTSTATE_UNTRACKED;

/// The state match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// `proto::CTSTATE_*` bits.
    pub mask: u16,
    /// `!`.
    pub invert: bool,
}

impl MatchOps for State {
    const KIND: u32 = proto::MT_STATE;
    const NAME: &'static str = "state";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut m = State::default();
        let mut have = false;
        each(opts, |a| {
            match a.kind() {
                proto::STATE_MASK => {
                    m.mask = flags(a.get_u32()?, STATES_ALL)? as u16;
                    have = true;
                }
                proto::STATE_INVERT => m.invert = a.get_flag()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !have {
            return Err(Reason::MissingOption);
        }
        Ok(m)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::STATE_MASK, self.mask.into())?;
        put_flag_if(w, proto::STATE_INVERT, self.invert)
    }

    fn matches<C: Context>(&self, _pkt: &PacketInfo, ctx: &mut C, _index: u32) -> bool {
        let state = ctx
            .conntrack()
            .map_or(proto::CTSTATE_UNTRACKED, |v| v.state);
        (u32::from(self.mask) & state != 0) ^ self.invert
    }
}
