// SPDX-License-Identifier: GPL-2.0

//! Network address translation: the pure core (`nf_nat_core.c`,
//! `nf_nat_proto.c`).
//!
//! NAT rides on connection tracking. The first packet of a connection
//! goes through the nat table; the rule that matches gives a [`NatRange`],
//! and [`alloc::unique_tuple`] picks the translated tuple inside it that no
//! other connection uses. The connection's reply tuple becomes the
//! inverse of that tuple, so replies are found by their translated
//! addresses. From then on every packet of the connection, both ways, is
//! rewritten by [`mangle`] to match: a source translation (SNAT,
//! MASQUERADE) changes the source of original packets and the destination
//! of replies; a destination translation (DNAT, REDIRECT) the other way
//! round. Checksums are updated incrementally ([`checksum`]).
//!
//! - [`alloc`]: choosing an address and a port (or ICMP identifier) in a
//!   range, unique among the connections (`get_unique_tuple`,
//!   `nf_nat_l4proto_unique_tuple`);
//! - [`mangle`]: rewriting IPv4, TCP, UDP and ICMP headers for a
//!   translation, and ICMP errors about a translated connection, inner
//!   header included (`nf_nat_ipv4_manip_pkt`,
//!   `nf_nat_icmp_reply_translation`);
//! - [`checksum`]: one's-complement arithmetic (`csum_replace4` and
//!   friends).
//!
//! Tuples are the conntrack core's (`super::ct`, the name under which both
//! the host crate and the kernel module know `conntrack`).

use super::ct::tuple::Tuple;
use super::proto;

pub mod alloc;
pub mod checksum;
pub mod mangle;
pub mod seqadj;

#[cfg(test)]
mod tests;

/// Which end of a connection a translation changes (`enum
/// nf_nat_manip_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Manip {
    /// The source of original packets (SNAT, MASQUERADE): done at
    /// POSTROUTING and INPUT.
    Src,
    /// The destination of original packets (DNAT, REDIRECT): done at
    /// PREROUTING and OUTPUT.
    Dst,
}

impl Manip {
    /// The other one.
    pub fn opposite(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }

    /// The `IPS_*` status bit of a connection translated this way
    /// (`IPS_SRC_NAT`, `IPS_DST_NAT`).
    pub fn status_bit(self) -> u32 {
        match self {
            Manip::Src => super::ct::status::IPS_SRC_NAT,
            Manip::Dst => super::ct::status::IPS_DST_NAT,
        }
    }

    /// The `IPS_*` bit saying that this manip has been set up, translated
    /// or not (`IPS_SRC_NAT_DONE`, `IPS_DST_NAT_DONE`).
    pub fn done_bit(self) -> u32 {
        match self {
            Manip::Src => super::ct::status::IPS_SRC_NAT_DONE,
            Manip::Dst => super::ct::status::IPS_DST_NAT_DONE,
        }
    }
}

/// Where a translation may map to (`struct nf_nat_range2`): addresses
/// `min_addr..=max_addr` (when [`NatRange::map_ips`]) and ports or ICMP
/// identifiers `min_port..=max_port` (when [`NatRange::proto_specified`]),
/// with `proto::NAT_F_*` flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NatRange {
    /// `proto::NAT_F_*`.
    pub flags: u32,
    /// Addresses, network order; both zero when the range has none
    /// (MASQUERADE and REDIRECT fill them in per packet).
    pub min_addr: [u8; 4],
    /// The highest address.
    pub max_addr: [u8; 4],
    /// Ports, host order; both zero when the range has none.
    pub min_port: u16,
    /// The highest port.
    pub max_port: u16,
}

impl NatRange {
    /// A range of exactly one address, any port.
    pub fn addr(addr: [u8; 4]) -> NatRange {
        NatRange {
            min_addr: addr,
            max_addr: addr,
            ..NatRange::default()
        }
    }

    /// Whether `flag` (a `proto::NAT_F_*` bit) is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Whether the range names addresses (`NF_NAT_RANGE_MAP_IPS`).
    pub fn map_ips(&self) -> bool {
        self.min_addr != [0; 4] || self.max_addr != [0; 4]
    }

    /// Whether the range names ports (`NF_NAT_RANGE_PROTO_SPECIFIED`).
    pub fn proto_specified(&self) -> bool {
        self.min_port != 0
    }

    /// Whether the port is to be random (`--random`, `--random-fully`).
    pub fn random(&self) -> bool {
        self.has(proto::NAT_F_RANDOM | proto::NAT_F_RANDOM_FULLY)
    }

    /// The same range with the addresses replaced by `addr` alone, as
    /// MASQUERADE and REDIRECT make it for each connection.
    pub fn with_addr(&self, addr: [u8; 4]) -> NatRange {
        NatRange {
            min_addr: addr,
            max_addr: addr,
            ..*self
        }
    }

    /// Whether `addr` is in the address range (any address if the range
    /// has none).
    pub fn contains_addr(&self, addr: [u8; 4]) -> bool {
        !self.map_ips()
            || (u32::from_be_bytes(self.min_addr)..=u32::from_be_bytes(self.max_addr))
                .contains(&u32::from_be_bytes(addr))
    }

    /// Whether `port` is in the port range (any port if the range has
    /// none).
    pub fn contains_port(&self, port: u16) -> bool {
        !self.proto_specified() || (self.min_port..=self.max_port).contains(&port)
    }
}

/// The part of `t` a manip of type `m` changes: source or destination
/// address, and port. For ICMP the "port" is the identifier whichever the
/// manip: a tuple has it once, in `sport`.
pub fn manip_part(t: &Tuple, m: Manip) -> ([u8; 4], u16) {
    let icmp = t.protocol == super::packet::IPPROTO_ICMP;
    match m {
        Manip::Src => (t.saddr, t.sport),
        Manip::Dst if icmp => (t.daddr, t.sport),
        Manip::Dst => (t.daddr, t.dport),
    }
}

/// `t` with the part a manip of type `m` changes set to `addr` and `port`
/// (the identifier for ICMP).
pub fn with_manip_part(t: &Tuple, m: Manip, addr: [u8; 4], port: u16) -> Tuple {
    let icmp = t.protocol == super::packet::IPPROTO_ICMP;
    let mut n = *t;
    match m {
        Manip::Src => (n.saddr, n.sport) = (addr, port),
        Manip::Dst if icmp => (n.daddr, n.sport) = (addr, port),
        Manip::Dst => (n.daddr, n.dport) = (addr, port),
    }
    n
}
