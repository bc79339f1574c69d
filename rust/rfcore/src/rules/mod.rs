// SPDX-License-Identifier: GPL-2.0

//! Tables, chains and rules: decoding, validation and evaluation.
//!
//! The pieces, as netfilter's C divides them:
//!
//! - [`table`]: the declarative description of each table (filter,
//!   mangle, raw, nat) and the decoded form: [`Chain`], [`Rule`], [`Table`]
//!   (like `iptable_filter.c` and `struct xt_table_info`);
//! - [`decode`](mod@decode): the ruleset wire format of `Documentation/ruleset.rst`
//!   decoded into caller-provided storage, with no allocation: [`measure`]
//!   says how much storage, [`decode()`] fills it and validates;
//! - `validate`: the jump graph (loops, depth, hooks each chain is
//!   reachable from) and the per-rule checks (like `mark_source_chains` and
//!   `check_entry_size_and_hooks` in `ip_tables.c`);
//! - [`ip`]: the part every rule has: addresses, interfaces, protocol,
//!   fragments (`ip_packet_match`);
//! - [`matches`](mod@matches) and [`targets`]: one file per match and target, each
//!   implementing [`MatchOps`] or [`TargetOps`], registered in one list
//!   (like `x_tables.c`);
//! - [`classify`]: the per-chain index that lets the walker skip rules
//!   that cannot match a packet, built at decode;
//! - [`eval`]: the walker ([`evaluate`], like `ipt_do_table`) and the
//!   [`Context`] through which it asks the kernel questions and has it act;
//! - [`encode`]: the decoded form back into the wire format, for dumps.
//!
//! Every file reaches the packet parser, the attribute codec and the
//! protocol constants through this module (`super::`), so the whole tree
//! can be included into the kernel module next to `packet.rs`, `nla.rs`
//! and `proto.rs`.

use super::{nat, nfqueue, nla, packet, proto};

pub mod classify;
pub mod decode;
pub mod encode;
pub mod error;
pub mod eval;
pub mod ip;
pub mod matches;
pub mod name;
pub mod plain;
pub mod table;
pub mod targets;
mod validate;

pub use decode::{decode, measure, Sizes, Storage};
pub use encode::{encode_chain_start, encode_rule, encode_table, RuleRef};
pub use error::{Reason, RuleError};
pub use eval::{
    ct_state_bit, evaluate, evaluate_linear, evaluate_owned, AddrTypeDev, Context, CtDir, CtTuple,
    CtView, PacketInfo, Route, RouteQuery, Verdict,
};
pub use ip::{IfaceMatch, IpMatch};
pub use matches::{CheckCtx, Match, MatchOps};
pub use name::{ChainName, DevName, FixedStr, IFNAMSIZ};
pub use table::{Chain, Counters, Policy, Rule, Table, TableInfo, TableKind};
pub use targets::{Target, TargetOps};

/// Longest chain name, in bytes (`XT_EXTENSION_MAXNAMELEN` - 1).
pub const MAX_CHAIN_NAME: usize = 28;
/// Longest interface name, in bytes (`IFNAMSIZ` - 1), `+` included.
pub const MAX_IFNAME: usize = 15;
/// Deepest nesting of jumps (gotos do not count): the evaluator's stack.
pub const MAX_DEPTH: usize = 64;
/// Most chains in a table; chain indices are u16 and `u16::MAX` means
/// none.
pub const MAX_CHAINS: usize = 65_535;
/// Most rules in a table.
pub const MAX_RULES: usize = 1 << 22;
/// Most matches in one rule.
pub const MAX_MATCHES_PER_RULE: usize = 32;
/// Most matches in a table.
pub const MAX_MATCHES: usize = 1 << 24;

/// Bit of `hook` in a mask of hooks.
pub fn hook_bit(hook: proto::Hook) -> u8 {
    1 << hook.number()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_classify;
#[cfg(test)]
mod tests_ct;
#[cfg(test)]
mod tests_nat;
#[cfg(test)]
mod tests_queue;
