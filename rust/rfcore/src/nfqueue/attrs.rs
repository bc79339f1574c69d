// SPDX-License-Identifier: GPL-2.0

//! Attribute tables of requests, as `nla_parse_deprecated` builds them.
//!
//! `nfnetlink_rcv_msg` parses the attributes of every request into an
//! array indexed by type before calling the queue's callback, checking
//! them against the callback's policy (`nfqa_cfg_policy`,
//! `nfqa_verdict_policy`, `nfqa_verdict_batch_policy` in
//! `nfnetlink_queue.c`). [`Table`] is that array and [`Table::parse`] that
//! parse, in its liberal ("deprecated") form (`__nla_validate_parse` of
//! `lib/nlattr.c` with `NL_VALIDATE_LIBERAL`):
//!
//! - the walk stops silently at the first malformed attribute
//!   (`nla_for_each_attr`), and bytes left over are not an error;
//! - types 0 and above the table's maximum are skipped;
//! - the flag bits of the type (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`)
//!   are ignored;
//! - an attribute shorter than its policy says fails the whole request
//!   with `ERANGE`; a longer one is accepted (the kernel only warns), and
//!   integers are read from its first bytes;
//! - when a type appears twice, the last one counts.
//!
//! The kernel module can also fill a table from attributes its own
//! nfnetlink abstraction parsed ([`Table::from_fn`]); the policy is
//! checked again then, so a decoder can rely on it.

use super::consts::{
    CTA_MAX, NFQA_CFG_CMD, NFQA_CFG_FLAGS, NFQA_CFG_MASK, NFQA_CFG_MAX, NFQA_CFG_PARAMS,
    NFQA_CFG_QUEUE_MAXLEN, NFQA_CT, NFQA_EXP, NFQA_MARK, NFQA_MAX, NFQA_PAYLOAD, NFQA_PRIORITY,
    NFQA_VERDICT_HDR, NFQA_VLAN,
};
use super::nla::{Attrs, NLA_HDRLEN};
use super::Errno;

/// What an attribute type must look like (`struct nla_policy`, the
/// subset the queue uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Anything (`NLA_UNSPEC` without a length, or no entry).
    Any,
    /// At least this many bytes (`NLA_UNSPEC` with `.len`).
    MinLen(u16),
    /// `NLA_U16`: at least 2 bytes.
    U16,
    /// `NLA_U32`: at least 4 bytes.
    U32,
    /// `NLA_NESTED` without a nested policy: empty, or at least a header.
    Nested,
    /// `NLA_BINARY` with `.len`: at most this many bytes.
    MaxLen(u16),
}

impl Policy {
    /// Whether a payload of `len` bytes passes (`validate_nla`).
    pub const fn accepts(self, len: usize) -> bool {
        match self {
            Policy::Any => true,
            Policy::MinLen(min) => len >= min as usize,
            Policy::U16 => len >= 2,
            Policy::U32 => len >= 4,
            Policy::Nested => len == 0 || len >= NLA_HDRLEN,
            Policy::MaxLen(max) => len <= max as usize,
        }
    }
}

/// Size of a table of `NFQA_*` attributes (`NFQA_MAX + 1`).
pub const NFQA_TABLE: usize = NFQA_MAX as usize + 1;
/// Size of a table of `NFQA_CFG_*` attributes (`NFQA_CFG_MAX + 1`).
pub const CFG_TABLE: usize = NFQA_CFG_MAX as usize + 1;
/// Size of a table of `CTA_*` attributes (`CTA_MAX + 1`).
pub const CTA_TABLE: usize = CTA_MAX as usize + 1;

/// A policy array with `entries` set and [`Policy::Any`] elsewhere.
const fn policy<const N: usize>(entries: &[(u16, Policy)]) -> [Policy; N] {
    let mut p = [Policy::Any; N];
    let mut i = 0;
    while i < entries.len() {
        let (t, v) = entries[i];
        if (t as usize) < N {
            p[t as usize] = v;
        }
        i += 1;
    }
    p
}

/// `nfqa_cfg_policy`: the policy of `NFQNL_MSG_CONFIG`.
pub const CONFIG_POLICY: [Policy; CFG_TABLE] = policy(&[
    (NFQA_CFG_CMD, Policy::MinLen(4)),
    (NFQA_CFG_PARAMS, Policy::MinLen(5)),
    (NFQA_CFG_QUEUE_MAXLEN, Policy::U32),
    (NFQA_CFG_MASK, Policy::U32),
    (NFQA_CFG_FLAGS, Policy::U32),
]);

/// `nfqa_verdict_policy`: the policy of `NFQNL_MSG_VERDICT`.
pub const VERDICT_POLICY: [Policy; NFQA_TABLE] = policy(&[
    (NFQA_VERDICT_HDR, Policy::MinLen(8)),
    (NFQA_MARK, Policy::U32),
    (NFQA_PAYLOAD, Policy::Any),
    (NFQA_CT, Policy::Any),
    (NFQA_EXP, Policy::Any),
    (NFQA_VLAN, Policy::Nested),
    (NFQA_PRIORITY, Policy::U32),
]);

/// `nfqa_verdict_batch_policy`: the policy of `NFQNL_MSG_VERDICT_BATCH`.
pub const BATCH_POLICY: [Policy; NFQA_TABLE] = policy(&[
    (NFQA_VERDICT_HDR, Policy::MinLen(8)),
    (NFQA_MARK, Policy::U32),
    (NFQA_PRIORITY, Policy::U32),
]);

/// `ct_nla_policy` of `nf_conntrack_netlink.c`: the policy of the
/// attributes nested in `NFQA_CT` (`ctnetlink_glue_parse`).
pub const CT_POLICY: [Policy; CTA_TABLE] = policy(&[
    (1, Policy::Nested),      // CTA_TUPLE_ORIG
    (2, Policy::Nested),      // CTA_TUPLE_REPLY
    (3, Policy::U32),         // CTA_STATUS
    (4, Policy::Nested),      // CTA_PROTOINFO
    (5, Policy::Nested),      // CTA_HELP
    (6, Policy::Nested),      // CTA_NAT_SRC
    (7, Policy::U32),         // CTA_TIMEOUT
    (8, Policy::U32),         // CTA_MARK
    (12, Policy::U32),        // CTA_ID
    (13, Policy::Nested),     // CTA_NAT_DST
    (14, Policy::Nested),     // CTA_TUPLE_MASTER
    (15, Policy::Nested),     // CTA_NAT_SEQ_ADJ_ORIG
    (16, Policy::Nested),     // CTA_NAT_SEQ_ADJ_REPLY
    (18, Policy::U16),        // CTA_ZONE
    (21, Policy::U32),        // CTA_MARK_MASK
    (22, Policy::MaxLen(16)), // CTA_LABELS (NF_CT_LABELS_MAX_SIZE)
    (23, Policy::MaxLen(16)), // CTA_LABELS_MASK
    (25, Policy::Nested),     // CTA_FILTER
    (26, Policy::U32),        // CTA_STATUS_MASK
]);

/// The attributes of a request by type: slot `t` holds the payload of
/// the last attribute of type `t`, if any. `N` is the highest type plus
/// one. Every payload present passed the table's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table<'a, const N: usize> {
    slots: [Option<&'a [u8]>; N],
}

impl<'a, const N: usize> Table<'a, N> {
    /// A table without attributes.
    pub const fn empty() -> Self {
        Table { slots: [None; N] }
    }

    /// The attribute run `data` (what follows the `nfgenmsg`) parsed as
    /// `nla_parse_deprecated(tb, N - 1, data, len, policy)` does.
    ///
    /// # Errors
    ///
    /// [`Errno::Range`] if an attribute is shorter than its policy
    /// allows (`validate_nla`).
    pub fn parse(data: &'a [u8], policy: &[Policy; N]) -> Result<Self, Errno> {
        let mut table = Self::empty();
        for attr in Attrs::new(data) {
            // nla_for_each_attr stops at the first malformed attribute.
            let Ok(attr) = attr else { break };
            table.set(attr.kind(), attr.payload(), policy)?;
        }
        Ok(table)
    }

    /// A table filled from `lookup`, which gives the payload of the
    /// attribute of each type from 1 to `N - 1`, if present: for
    /// attributes the kernel's own parser already put in an array.
    ///
    /// # Errors
    ///
    /// [`Errno::Range`] if a payload fails `policy`.
    pub fn from_fn(
        policy: &[Policy; N],
        mut lookup: impl FnMut(u16) -> Option<&'a [u8]>,
    ) -> Result<Self, Errno> {
        let mut table = Self::empty();
        for t in 1..N {
            let Ok(kind) = u16::try_from(t) else { break };
            if let Some(payload) = lookup(kind) {
                table.set(kind, payload, policy)?;
            }
        }
        Ok(table)
    }

    /// [`Table::from_fn`] of the attributes of `kinds` only: for a decoder
    /// that reads no others ([`super::verdict::VERDICT_READS`]), of
    /// attributes the kernel already checked against `policy` (the others
    /// are then never looked up, as upstream never reads them).
    ///
    /// # Errors
    ///
    /// [`Errno::Range`] if a payload fails `policy`.
    pub fn from_fn_of(
        policy: &[Policy; N],
        kinds: &[u16],
        mut lookup: impl FnMut(u16) -> Option<&'a [u8]>,
    ) -> Result<Self, Errno> {
        let mut table = Self::empty();
        for &kind in kinds {
            if let Some(payload) = lookup(kind) {
                table.set(kind, payload, policy)?;
            }
        }
        Ok(table)
    }

    /// Put `payload` in slot `kind` after checking it against `policy`;
    /// ignore type 0 and types beyond the table.
    fn set(&mut self, kind: u16, payload: &'a [u8], policy: &[Policy; N]) -> Result<(), Errno> {
        if kind == 0 {
            return Ok(());
        }
        let at = usize::from(kind);
        let Some(slot) = self.slots.get_mut(at) else {
            return Ok(());
        };
        let rule = policy.get(at).copied().unwrap_or(Policy::Any);
        if !rule.accepts(payload.len()) {
            return Err(Errno::Range);
        }
        *slot = Some(payload);
        Ok(())
    }

    /// The payload of the attribute of type `kind`, if present.
    pub fn get(&self, kind: u16) -> Option<&'a [u8]> {
        self.slots.get(usize::from(kind)).copied().flatten()
    }

    /// Whether an attribute of type `kind` is present.
    pub fn has(&self, kind: u16) -> bool {
        self.get(kind).is_some()
    }

    /// The big-endian u32 at the start of the payload of `kind`
    /// (`ntohl(nla_get_be32(...))`): `None` if absent or shorter than 4
    /// bytes (a [`Policy::U32`] entry never is).
    pub fn be32(&self, kind: u16) -> Option<u32> {
        be32_at(self.get(kind)?, 0)
    }
}

/// The big-endian u32 at `at` in `bytes`, if it is there.
pub fn be32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..)?
        .first_chunk()
        .map(|b| u32::from_be_bytes(*b))
}

/// The big-endian u16 at `at` in `bytes`, if it is there.
pub fn be16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..)?
        .first_chunk()
        .map(|b| u16::from_be_bytes(*b))
}

/// The big-endian u64 at `at` in `bytes`, if it is there.
pub fn be64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..)?
        .first_chunk()
        .map(|b| u64::from_be_bytes(*b))
}
