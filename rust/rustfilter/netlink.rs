// SPDX-License-Identifier: GPL-2.0

//! The "rustfilter" generic netlink family (include/uapi/linux/rustfilter.h).

use crate::hooks::NetState;
use crate::proto::{self, Hook};
use kernel::c_str;
use kernel::net::genetlink::{AttrPolicy, Command, Family, Info, Reply};
use kernel::net::namespace;
use kernel::prelude::*;

/// Room for five nested hook records of three u64 and one u32 each.
const STATS_REPLY_SIZE: usize = 512;

/// Handles requests; owns the per-namespace state registration.
pub(crate) struct Control {
    pub(crate) pernet: Pin<KBox<namespace::Registration<NetState>>>,
}

impl Family for Control {
    const NAME: &'static CStr = c_str!("rustfilter");
    const VERSION: u32 = proto::GENL_VERSION as u32;
    /// No request takes attributes yet: every known one is refused, unknown
    /// ones are refused by strict validation.
    const POLICY: &'static [AttrPolicy] = &[AttrPolicy::Reject; proto::A_MAX as usize + 1];
    const COMMANDS: &'static [Command] = &[
        Command {
            cmd: proto::CMD_GET_STATS,
            admin: false,
            policy: None,
        },
        Command {
            cmd: proto::CMD_ZERO_STATS,
            admin: true,
            policy: None,
        },
    ];

    fn doit(&self, cmd: u8, info: &Info<'_>) -> Result {
        let state = self.pernet.get(info.net());
        match cmd {
            proto::CMD_GET_STATS => send_stats(state, info),
            proto::CMD_ZERO_STATS => state.stats(true).map(|_| ()),
            _ => {
                info.set_err_msg(c_str!("rustfilter: unknown command"));
                Err(EINVAL)
            }
        }
    }
}

fn send_stats(state: &NetState, info: &Info<'_>) -> Result {
    let stats = state.stats(false)?;
    let mut reply = Reply::new(info, STATS_REPLY_SIZE)?;
    for (hook, s) in Hook::ALL.iter().zip(stats.iter()) {
        reply.nested(proto::A_HOOK_STATS, |r| {
            r.put_u32(proto::STATS_HOOK, hook.number())?;
            r.put_u64(proto::STATS_PACKETS, s.packets, proto::STATS_PAD)?;
            r.put_u64(proto::STATS_BYTES, s.bytes, proto::STATS_PAD)?;
            r.put_u64(proto::STATS_MALFORMED, s.malformed, proto::STATS_PAD)
        })?;
    }
    reply.send()
}
