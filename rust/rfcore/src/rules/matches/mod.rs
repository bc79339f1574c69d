// SPDX-License-Identifier: GPL-2.0

//! Matches: one file each, implementing [`MatchOps`], registered in the
//! one list at the end of this file (`x_tables.c`'s match registry).
//!
//! A match is sent as a `RULE_MATCH` nest holding `MATCH_KIND` (a
//! `proto::MT_*` value) and `MATCH_OPTS`, a nest of the kind's own
//! attributes. Decoding checks each option's value; [`MatchOps::check`]
//! checks what depends on the rest of the ruleset (protocol, table,
//! hooks), once the hooks each chain is reachable from are known.

use super::error::Reason;
use super::eval::{self, ct_entry, AddrTypeDev, Context, CtDir, CtView, PacketInfo, RouteQuery};
use super::nla::{Attr, Attrs, NlaError, Writer};
use super::packet::L4;
use super::table::TableKind;
use super::{nla, packet, proto};

pub mod addrtype;
pub mod connmark;
pub mod conntrack;
pub mod dscp;
pub mod icmp;
pub mod iprange;
pub mod length;
pub mod limit;
pub mod mac;
pub mod mark;
pub mod multiport;
pub mod rpfilter;
pub mod state;
pub mod tcp;
pub mod tos;
pub mod udp;

/// What a match or target is checked against once the ruleset is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckCtx {
    /// The table.
    pub table: TableKind,
    /// Mask ([`super::hook_bit`]) of the hooks the rule's chain is
    /// reachable from; 0 if it is not reachable, which passes every hook
    /// check (as in iptables).
    pub hooks: u8,
    /// The rule's `-p` (0: any).
    pub proto: u8,
    /// Whether the rule's `-p` is inverted.
    pub proto_inverted: bool,
}

impl CheckCtx {
    /// The rule has `-p proto`, not inverted.
    ///
    /// # Errors
    ///
    /// [`Reason::NeedsProtocol`] otherwise.
    pub fn needs_proto(&self, protos: &[u8]) -> Result<(), Reason> {
        if protos.contains(&self.proto) && !self.proto_inverted {
            Ok(())
        } else {
            Err(Reason::NeedsProtocol)
        }
    }

    /// The rule's chain is reachable only from hooks in `allowed`.
    ///
    /// # Errors
    ///
    /// [`Reason::WrongHook`] otherwise.
    pub fn only_hooks(&self, allowed: u8) -> Result<(), Reason> {
        if self.hooks & !allowed == 0 {
            Ok(())
        } else {
            Err(Reason::WrongHook)
        }
    }

    /// The rule is in one of `tables`.
    ///
    /// # Errors
    ///
    /// [`Reason::WrongTable`] otherwise.
    pub fn only_tables(&self, tables: &[TableKind]) -> Result<(), Reason> {
        if tables.contains(&self.table) {
            Ok(())
        } else {
            Err(Reason::WrongTable)
        }
    }
}

/// Hook masks for checks.
pub mod hooks {
    /// PREROUTING.
    pub const PRE: u8 = 1 << 0;
    /// INPUT.
    pub const IN: u8 = 1 << 1;
    /// FORWARD.
    pub const FWD: u8 = 1 << 2;
    /// OUTPUT.
    pub const OUT: u8 = 1 << 3;
    /// POSTROUTING.
    pub const POST: u8 = 1 << 4;
}

/// What a match reads of the transport header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: it matches a packet whatever its transport header.
    Nothing,
    /// The ports, the header's first four bytes (multiport).
    Ports,
    /// The fixed header: TCP 20 bytes, UDP and ICMP 8 (tcp, udp, icmp).
    Header,
}

impl Needs {
    /// Whether a packet with transport header `t` must be dropped at a
    /// match needing this: the bytes it reads are not there.
    pub fn hot_drops(self, t: &L4) -> bool {
        match (self, t) {
            (Needs::Header, L4::Truncated { .. }) => true,
            (Needs::Ports, L4::Truncated { ports }) => ports.is_none(),
            _ => false,
        }
    }
}

/// A match kind.
pub trait MatchOps: Sized + Copy {
    /// Its `proto::MT_*` number.
    const KIND: u32;
    /// Its iptables name (`-m name`).
    const NAME: &'static str;
    /// What it reads of the transport header: a packet whose header is cut
    /// short of that is dropped when it reaches the match (ip_tables'
    /// `hotdrop`).
    const NEEDS: Needs = Needs::Nothing;

    /// Decode from the attributes of `MATCH_OPTS`.
    ///
    /// # Errors
    ///
    /// An unknown option or a bad value.
    fn decode(opts: Attrs<'_>) -> Result<Self, Reason>;

    /// Write the attributes of `MATCH_OPTS`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the writer is full.
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError>;

    /// Check against the rest of the ruleset.
    ///
    /// # Errors
    ///
    /// Why the match cannot be used here.
    fn check(&self, _cx: &CheckCtx) -> Result<(), Reason> {
        Ok(())
    }

    /// Whether the packet matches; `index` is the match's index in the
    /// table (the key of per-match state such as a limit's).
    fn matches<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C, index: u32) -> bool;
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl Default for PortRange {
    /// All ports.
    fn default() -> Self {
        PortRange {
            first: 0,
            last: u16::MAX,
        }
    }
}

impl PortRange {
    /// One port.
    pub fn single(port: u16) -> Self {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// Whether `port` is in it.
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// Whether it is all ports.
    pub fn is_all(&self) -> bool {
        *self == Self::default()
    }

    /// From a port range attribute: a u32, first << 16 | last.
    ///
    /// # Errors
    ///
    /// [`Reason::BadPortRange`] if first is above last.
    pub fn decode(a: &Attr<'_>) -> Result<Self, Reason> {
        let v = a.get_u32()?;
        let r = PortRange {
            first: (v >> 16) as u16,
            last: v as u16,
        };
        if r.first > r.last {
            return Err(Reason::BadPortRange);
        }
        Ok(r)
    }

    /// As a port range attribute value.
    pub fn to_u32(self) -> u32 {
        u32::from(self.first) << 16 | u32::from(self.last)
    }
}

/// The attributes of an options nest.
fn each<'a>(
    opts: Attrs<'a>,
    mut f: impl FnMut(&Attr<'a>) -> Result<bool, Reason>,
) -> Result<(), Reason> {
    for a in opts {
        let a = a?;
        if !f(&a)? {
            return Err(Reason::UnknownOption);
        }
    }
    Ok(())
}

/// Flags `v`, which must have no bits outside `known`.
fn flags(v: u32, known: u32) -> Result<u32, Reason> {
    if v & !known != 0 {
        return Err(Reason::BadFlags);
    }
    Ok(v)
}

/// Write a flag attribute if `set`.
fn put_flag_if(w: &mut Writer<'_>, kind: u16, set: bool) -> Result<(), NlaError> {
    if set {
        w.put_flag(kind)?;
    }
    Ok(())
}

/// The registry: one line per match kind.
macro_rules! registry {
    ($($variant:ident($ty:ty),)*) => {
        /// A match of a rule: one variant per kind.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub enum Match {
            /// An unused slot of the storage.
            #[default]
            Unused,
            $(
                #[doc = concat!("`-m ", stringify!($variant), "`.")]
                $variant($ty),
            )*
        }

        impl Match {
            /// Decode a match of kind `kind` from its options.
            ///
            /// # Errors
            ///
            /// [`Reason::UnknownMatch`] for an unknown kind, or the
            /// options' problem.
            pub fn decode(kind: u32, opts: Attrs<'_>) -> Result<Match, Reason> {
                $(
                    if kind == <$ty as MatchOps>::KIND {
                        return <$ty as MatchOps>::decode(opts).map(Match::$variant);
                    }
                )*
                Err(Reason::UnknownMatch)
            }

            /// Its `proto::MT_*` number (0 for an unused slot).
            pub fn kind(&self) -> u32 {
                match self {
                    Match::Unused => 0,
                    $(Match::$variant(_) => <$ty as MatchOps>::KIND,)*
                }
            }

            /// Its iptables name.
            pub fn name(&self) -> &'static str {
                match self {
                    Match::Unused => "",
                    $(Match::$variant(_) => <$ty as MatchOps>::NAME,)*
                }
            }

            /// Write its options.
            fn encode_opts(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
                match self {
                    Match::Unused => Ok(()),
                    $(Match::$variant(m) => m.encode(w),)*
                }
            }

            /// What it reads of the transport header ([`MatchOps::NEEDS`]).
            pub fn needs(&self) -> Needs {
                match self {
                    Match::Unused => Needs::Nothing,
                    $(Match::$variant(_) => <$ty as MatchOps>::NEEDS,)*
                }
            }

            /// Check against the rest of the ruleset.
            ///
            /// # Errors
            ///
            /// Why it cannot be used here.
            pub fn check(&self, cx: &CheckCtx) -> Result<(), Reason> {
                match self {
                    Match::Unused => Err(Reason::MissingKind),
                    $(Match::$variant(m) => m.check(cx),)*
                }
            }

            /// Whether the packet matches: the port and ICMP matches in
            /// line, the others out of line (`matches_other`).
            #[inline]
            pub fn matches<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C, index: u32) -> bool {
                match self {
                    Match::Tcp(m) => m.matches(pkt, ctx, index),
                    Match::Udp(m) => m.matches(pkt, ctx, index),
                    Match::Icmp(m) => m.matches(pkt, ctx, index),
                    _ => self.matches_other(pkt, ctx, index),
                }
            }

            /// [`Match::matches`] for any kind, out of line: inlined into
            /// the walk's loop over a rule's matches, the compiler computed
            /// what every kind might read of the packet (addresses in host
            /// order, the DSCP, the MAC...) before each rule's first match,
            /// some 70 instructions per rule whatever its matches.
            #[inline(never)]
            fn matches_other<C: Context>(&self, pkt: &PacketInfo, ctx: &mut C, index: u32) -> bool {
                match self {
                    Match::Unused => false,
                    $(Match::$variant(m) => m.matches(pkt, ctx, index),)*
                }
            }
        }
    };
}

registry! {
    Tcp(tcp::Tcp),
    Udp(udp::Udp),
    Multiport(multiport::Multiport),
    Icmp(icmp::Icmp),
    Mac(mac::Mac),
    Mark(mark::Mark),
    Tos(tos::Tos),
    Dscp(dscp::Dscp),
    Length(length::Length),
    Limit(limit::Limit),
    IpRange(iprange::IpRange),
    AddrType(addrtype::AddrType),
    RpFilter(rpfilter::RpFilter),
    Conntrack(conntrack::Conntrack),
    State(state::State),
    ConnMark(connmark::ConnMark),
}

impl Match {
    /// Decode the contents of a `RULE_MATCH` nest.
    ///
    /// # Errors
    ///
    /// A missing kind, an unknown attribute, or the options' problem.
    pub fn decode_nest(attrs: Attrs<'_>) -> Result<Match, Reason> {
        let mut kind = None;
        let mut opts = Attrs::empty();
        for a in attrs {
            let a = a?;
            match a.kind() {
                proto::MATCH_KIND => kind = Some(a.get_u32()?),
                proto::MATCH_OPTS => opts = a.nested(),
                _ => return Err(Reason::UnknownAttribute),
            }
        }
        Match::decode(kind.ok_or(Reason::MissingKind)?, opts)
    }

    /// Write the contents of a `RULE_MATCH` nest.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the writer is full.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        w.put_u32(proto::MATCH_KIND, self.kind())?;
        let n = w.begin_nest(proto::MATCH_OPTS)?;
        self.encode_opts(w)?;
        w.end_nest(n)
    }
}
