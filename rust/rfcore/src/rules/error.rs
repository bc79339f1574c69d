// SPDX-License-Identifier: GPL-2.0

//! Why a ruleset was refused, and where.

use super::name::ChainName;
use super::nla::NlaError;
use core::fmt;

/// The reason a ruleset was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// An attribute is malformed or truncated, or has the wrong size.
    Malformed(NlaError),
    /// An attribute type that is not defined at this place.
    UnknownAttribute,
    /// A chain comes before the table name, or there is no table name.
    MissingTableName,
    /// The table name is not one of filter, mangle, raw, nat.
    UnknownTable,
    /// Two chunks name different tables.
    TableMismatch,
    /// A chain nest has no name.
    MissingChainName,
    /// A chain name is empty or longer than 28 bytes.
    BadChainName,
    /// Two chains have the same name.
    DuplicateChain,
    /// A built-in chain of the table is missing.
    MissingBuiltinChain,
    /// A built-in chain has no policy.
    MissingPolicy,
    /// A user-defined chain has a policy or policy counters.
    PolicyOnUserChain,
    /// A policy is neither NF_ACCEPT nor NF_DROP.
    BadPolicy,
    /// A continued chain nest does not follow a nest of the same chain.
    BadContinuation,
    /// A continued chain nest has a policy or policy counters.
    ContinuedWithPolicy,
    /// More than [`super::MAX_CHAINS`] chains.
    TooManyChains,
    /// More than [`super::MAX_RULES`] rules.
    TooManyRules,
    /// More than [`super::MAX_MATCHES_PER_RULE`] matches in a rule, or
    /// [`super::MAX_MATCHES`] in the table.
    TooManyMatches,
    /// The caller's storage is smaller than [`super::measure`] said.
    StorageTooSmall,
    /// An interface name is empty or longer than 15 bytes.
    BadInterface,
    /// An address has bits set outside its mask.
    BadAddress,
    /// Unknown bits in a flags or invert attribute.
    BadFlags,
    /// A match or target without a kind.
    MissingKind,
    /// A match kind this module does not know.
    UnknownMatch,
    /// A target kind this module does not know.
    UnknownTarget,
    /// More than one target in a rule.
    DuplicateTarget,
    /// An option attribute the match or target does not take.
    UnknownOption,
    /// A required option is missing.
    MissingOption,
    /// A port range whose first port is above its last.
    BadPortRange,
    /// More than 15 ports in multiport (a range counts as two).
    TooManyPorts,
    /// A multiport mode other than source, destination, either.
    BadMultiportMode,
    /// An ICMP code range whose minimum is above its maximum.
    BadIcmpCode,
    /// A DSCP value above 63.
    BadDscp,
    /// A length range whose minimum is above its maximum.
    BadLengthRange,
    /// A limit average of 0, or a burst not in 1..=10000.
    BadLimit,
    /// An address range whose first address is above its last.
    BadIpRange,
    /// An address type bit above `1 << RTN_XRESOLVE`.
    BadAddrType,
    /// addrtype with both --limit-iface-in and --limit-iface-out.
    AddrTypeBothIfaces,
    /// An unknown --reject-with value.
    BadRejectWith,
    /// A log level above 7.
    BadLogLevel,
    /// A log prefix longer than 29 bytes.
    LogPrefixTooLong,
    /// A `--ctdir` other than ORIGINAL or REPLY.
    BadCtDirection,
    /// A conntrack helper other than ftp and tftp.
    UnknownHelper,
    /// A conntrack helper without `-p` of its protocol (tcp for ftp, udp
    /// for tftp), or with `! -p`.
    HelperNeedsProtocol,
    /// A CONNMARK mode other than set, save, restore.
    BadConnmarkMode,
    /// The match needs `-p` with its protocol, not inverted.
    NeedsProtocol,
    /// SNAT or DNAT without an address.
    MissingNatAddress,
    /// A NAT range whose minimum is above its maximum, or with port 0.
    BadNatRange,
    /// A NAT port range without `-p tcp` or `-p udp`.
    NatPortsNeedProtocol,
    /// An NFQUEUE range of no queues, or one past queue 65535.
    BadQueueRange,
    /// NFQUEUE `--queue-cpu-fanout` with a single queue.
    FanoutNeedsBalance,
    /// `--reject-with tcp-reset` needs `-p tcp`, not inverted.
    TcpResetNeedsTcp,
    /// A jump or goto without a chain name.
    MissingJumpChain,
    /// A jump or goto to a chain that does not exist.
    JumpToMissingChain,
    /// A jump or goto to a built-in chain.
    JumpToBuiltin,
    /// A jump or goto that closes a loop.
    Loop,
    /// Jumps nested deeper than [`super::MAX_DEPTH`].
    TooDeep,
    /// The match or target is not valid in this table.
    WrongTable,
    /// The match or target is not valid in a chain reachable from one of
    /// the hooks this one is.
    WrongHook,
    /// `-i` in a chain reachable from OUTPUT or POSTROUTING.
    InIfaceOnOutput,
    /// `-o` in a chain reachable from PREROUTING or INPUT.
    OutIfaceOnInput,
}

impl Reason {
    /// A message for the user, as the extended ack carries it.
    pub fn message(self) -> &'static str {
        match self {
            Reason::Malformed(e) => e.message(),
            Reason::UnknownAttribute => "unknown attribute",
            Reason::MissingTableName => "table name missing",
            Reason::UnknownTable => "unknown table",
            Reason::TableMismatch => "chunks of different tables",
            Reason::MissingChainName => "chain without a name",
            Reason::BadChainName => "chain name empty or longer than 28 bytes",
            Reason::DuplicateChain => "duplicate chain name",
            Reason::MissingBuiltinChain => "built-in chain missing",
            Reason::MissingPolicy => "built-in chain without a policy",
            Reason::PolicyOnUserChain => "policy, counters or origin on a user-defined chain",
            Reason::BadPolicy => "policy must be ACCEPT or DROP",
            Reason::BadContinuation => "continued chain does not follow the same chain",
            Reason::ContinuedWithPolicy => "continued chain with a policy, counters or origin",
            Reason::TooManyChains => "too many chains",
            Reason::TooManyRules => "too many rules",
            Reason::TooManyMatches => "too many matches",
            Reason::StorageTooSmall => "storage smaller than measured",
            Reason::BadInterface => "interface name empty or longer than 15 bytes",
            Reason::BadAddress => "address has bits outside its mask",
            Reason::BadFlags => "unknown flags",
            Reason::MissingKind => "match or target without a kind",
            Reason::UnknownMatch => "unknown match",
            Reason::UnknownTarget => "unknown target",
            Reason::DuplicateTarget => "more than one target",
            Reason::UnknownOption => "unknown option",
            Reason::MissingOption => "required option missing",
            Reason::BadPortRange => "port range first above last",
            Reason::TooManyPorts => "too many ports specified",
            Reason::BadMultiportMode => "bad multiport mode",
            Reason::BadIcmpCode => "ICMP code range minimum above maximum",
            Reason::BadDscp => "DSCP value above 63",
            Reason::BadLengthRange => "length range minimum above maximum",
            Reason::BadLimit => "limit rate 0 or burst not in 1..10000",
            Reason::BadIpRange => "address range first above last",
            Reason::BadAddrType => "unknown address type",
            Reason::AddrTypeBothIfaces => {
                "both incoming and outgoing interface limitation cannot be selected"
            }
            Reason::BadRejectWith => "unknown reject-with type",
            Reason::BadLogLevel => "log level above 7",
            Reason::LogPrefixTooLong => "log prefix longer than 29 bytes",
            Reason::BadCtDirection => "conntrack direction must be ORIGINAL or REPLY",
            Reason::UnknownHelper => "unknown conntrack helper (known: ftp, tftp)",
            Reason::HelperNeedsProtocol => {
                "conntrack helper needs its protocol (-p tcp for ftp, -p udp for tftp), not inverted"
            }
            Reason::BadConnmarkMode => "CONNMARK mode must be set, save or restore",
            Reason::NeedsProtocol => "match needs its protocol (-p), not inverted",
            Reason::MissingNatAddress => "SNAT and DNAT need an address to map to",
            Reason::BadNatRange => "NAT range minimum above maximum, or port 0",
            Reason::NatPortsNeedProtocol => "NAT port range needs -p tcp or -p udp",
            Reason::BadQueueRange => "NFQUEUE needs 1 or more queues, the last at most 65535",
            Reason::FanoutNeedsBalance => "NFQUEUE CPU fanout needs a range of queues",
            Reason::TcpResetNeedsTcp => "tcp-reset needs -p tcp",
            Reason::MissingJumpChain => "jump or goto without a chain",
            Reason::JumpToMissingChain => "jump to a chain that does not exist",
            Reason::JumpToBuiltin => "jump to a built-in chain",
            Reason::Loop => "loop in the chain jumps",
            Reason::TooDeep => "chain jumps nested deeper than 64",
            Reason::WrongTable => "not valid in this table",
            Reason::WrongHook => "not valid in a chain reachable from this hook",
            Reason::InIfaceOnOutput => "-i in a chain reachable from OUTPUT or POSTROUTING",
            Reason::OutIfaceOnInput => "-o in a chain reachable from PREROUTING or INPUT",
        }
    }
}

impl From<NlaError> for Reason {
    fn from(e: NlaError) -> Self {
        Reason::Malformed(e)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A refused ruleset: where and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The table name as sent (cut to 28 bytes), empty if none came.
    pub table: ChainName,
    /// The chain: its index in order of first appearance in the input.
    pub chain: Option<u16>,
    /// The chain's name (empty if there is no chain).
    pub chain_name: ChainName,
    /// The rule: its index in the chain, from 0 (`Display` shows it from
    /// 1, as `--line-numbers`).
    pub rule: Option<u32>,
    /// Why.
    pub reason: Reason,
}

impl RuleError {
    /// An error with only a reason.
    pub fn new(reason: Reason) -> Self {
        RuleError {
            table: ChainName::default(),
            chain: None,
            chain_name: ChainName::default(),
            rule: None,
            reason,
        }
    }

    /// The message of the reason.
    pub fn message(&self) -> &'static str {
        self.reason.message()
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.table.is_empty() {
            write!(f, "table {}", self.table)?;
            if self.chain.is_some() || !self.chain_name.is_empty() {
                write!(f, ", chain {}", self.chain_name)?;
                if let Some(r) = self.rule {
                    write!(f, ", rule {}", u64::from(r) + 1)?;
                }
            }
            f.write_str(": ")?;
        }
        f.write_str(self.reason.message())
    }
}
