// SPDX-License-Identifier: GPL-2.0

//! Connection status bits, `ctinfo` and the states rules match on, with
//! the values of `include/uapi/linux/netfilter/nf_conntrack_common.h`,
//! `xt_state.h` and `xt_conntrack.h`, so that they can travel over netlink
//! unchanged.

use super::tuple::Direction;

/// An expected connection (set up by a helper); never changes.
pub const IPS_EXPECTED: u32 = 1 << 0;
/// Packets have been seen in both directions; set, never cleared.
pub const IPS_SEEN_REPLY: u32 = 1 << 1;
/// The connection is established enough not to be dropped early when the
/// table is full.
pub const IPS_ASSURED: u32 = 1 << 2;
/// The entry is in the table: its first packet has left the box.
pub const IPS_CONFIRMED: u32 = 1 << 3;
/// Source NAT in the original direction; never changes.
pub const IPS_SRC_NAT: u32 = 1 << 4;
/// Destination NAT in the original direction; never changes.
pub const IPS_DST_NAT: u32 = 1 << 5;
/// Both NAT bits.
pub const IPS_NAT_MASK: u32 = IPS_SRC_NAT | IPS_DST_NAT;
/// TCP sequence numbers need adjusting (a helper changed payload sizes).
pub const IPS_SEQ_ADJUST: u32 = 1 << 6;
/// Source NAT has been set up.
pub const IPS_SRC_NAT_DONE: u32 = 1 << 7;
/// Destination NAT has been set up.
pub const IPS_DST_NAT_DONE: u32 = 1 << 8;
/// Both NAT-done bits.
pub const IPS_NAT_DONE_MASK: u32 = IPS_SRC_NAT_DONE | IPS_DST_NAT_DONE;
/// The entry is being removed; never cleared.
pub const IPS_DYING: u32 = 1 << 9;
/// The timeout is fixed: packets do not refresh it.
pub const IPS_FIXED_TIMEOUT: u32 = 1 << 10;
/// A template, not a connection.
pub const IPS_TEMPLATE: u32 = 1 << 11;
/// Obsolete "untracked" entry bit (userspace value).
pub const IPS_UNTRACKED: u32 = 1 << 12;
/// In the kernel, bit 12 is reused: the entry clashed with another on
/// insertion (NAT), so it must not become assured.
pub const IPS_NAT_CLASH: u32 = IPS_UNTRACKED;
/// A helper was attached explicitly.
pub const IPS_HELPER: u32 = 1 << 13;
/// Offloaded to a flow table.
pub const IPS_OFFLOAD: u32 = 1 << 14;
/// Offloaded to hardware.
pub const IPS_HW_OFFLOAD: u32 = 1 << 15;
/// Bits userspace may not change.
pub const IPS_UNCHANGEABLE_MASK: u32 = IPS_NAT_DONE_MASK
    | IPS_NAT_MASK
    | IPS_EXPECTED
    | IPS_CONFIRMED
    | IPS_DYING
    | IPS_SEQ_ADJUST
    | IPS_TEMPLATE
    | IPS_UNTRACKED
    | IPS_OFFLOAD
    | IPS_HW_OFFLOAD;
/// Number of status bits (`__IPS_MAX_BIT`).
pub const IPS_MAX_BIT: u32 = 16;

/// `IP_CT_IS_REPLY`: ctinfo values at or above it are reply-direction.
pub const IP_CT_IS_REPLY: u8 = 3;
/// `IP_CT_NUMBER`: the number of distinct ctinfo values of tracked packets.
pub const IP_CT_NUMBER: u8 = 5;

/// `XT_STATE_INVALID` and `XT_CONNTRACK_STATE_INVALID`: `--state INVALID`.
pub const XT_STATE_INVALID: u32 = 1 << 0;
/// `XT_STATE_UNTRACKED` of the `state` match: `1 << (IP_CT_NUMBER + 1)`,
/// which is also the kernel's `NF_CT_STATE_UNTRACKED_BIT`.
pub const XT_STATE_UNTRACKED: u32 = 1 << (IP_CT_NUMBER + 1);
/// `XT_CONNTRACK_STATE_SNAT`: `--ctstate SNAT`.
pub const XT_CONNTRACK_STATE_SNAT: u32 = 1 << (IP_CT_NUMBER + 1);
/// `XT_CONNTRACK_STATE_DNAT`: `--ctstate DNAT`.
pub const XT_CONNTRACK_STATE_DNAT: u32 = 1 << (IP_CT_NUMBER + 2);
/// `XT_CONNTRACK_STATE_UNTRACKED` of the `conntrack` match: `1 <<
/// (IP_CT_NUMBER + 3)`. Note that it differs from [`XT_STATE_UNTRACKED`]:
/// in `xt_conntrack` bits 6 and 7 are SNAT and DNAT.
pub const XT_CONNTRACK_STATE_UNTRACKED: u32 = 1 << (IP_CT_NUMBER + 3);

/// `XT_STATE_BIT(ctinfo)` / `XT_CONNTRACK_STATE_BIT(ctinfo)`: `1 <<
/// (ctinfo % IP_CT_IS_REPLY + 1)`.
pub const fn xt_state_bit(ctinfo: u8) -> u32 {
    1 << (ctinfo % IP_CT_IS_REPLY + 1)
}

/// `enum ip_conntrack_info`: how a packet relates to its connection, as
/// stored with the packet (the kernel's `skb->_nfct` low bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CtInfo {
    /// `IP_CT_ESTABLISHED`: original direction, both directions seen.
    Established = 0,
    /// `IP_CT_RELATED`: original direction, related to another connection
    /// (an expected connection, or an ICMP error about one).
    Related = 1,
    /// `IP_CT_NEW`: original direction, nothing seen in reply yet.
    New = 2,
    /// `IP_CT_ESTABLISHED_REPLY`: reply direction.
    EstablishedReply = 3,
    /// `IP_CT_RELATED_REPLY`: an ICMP error in the reply direction.
    RelatedReply = 4,
    /// `IP_CT_UNTRACKED` (kernel value 7): the packet is exempt from
    /// tracking (the raw table's NOTRACK / `-j CT --notrack`).
    Untracked = 7,
}

impl CtInfo {
    /// The ctinfo of a packet found in the table in direction `dir`, from
    /// the entry's status before this packet (`resolve_normal_ct`): any
    /// reply is `EstablishedReply`; in the original direction
    /// `Established` once a reply has been seen, `Related` for an expected
    /// connection, `New` otherwise.
    pub fn of_packet(dir: Direction, status: u32) -> CtInfo {
        match dir {
            Direction::Reply => CtInfo::EstablishedReply,
            Direction::Original if status & IPS_SEEN_REPLY != 0 => CtInfo::Established,
            Direction::Original if status & IPS_EXPECTED != 0 => CtInfo::Related,
            Direction::Original => CtInfo::New,
        }
    }

    /// The ctinfo of an ICMP error about a connection found in direction
    /// `dir`: `Related` or `RelatedReply`.
    pub fn related(dir: Direction) -> CtInfo {
        match dir {
            Direction::Original => CtInfo::Related,
            Direction::Reply => CtInfo::RelatedReply,
        }
    }

    /// The value as the kernel stores it.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The ctinfo of a kernel value; `None` for values that have none
    /// (5, 6 and above 7).
    pub fn from_u8(v: u8) -> Option<CtInfo> {
        Some(match v {
            0 => CtInfo::Established,
            1 => CtInfo::Related,
            2 => CtInfo::New,
            3 => CtInfo::EstablishedReply,
            4 => CtInfo::RelatedReply,
            7 => CtInfo::Untracked,
            _ => return None,
        })
    }

    /// The direction of the packet (`CTINFO2DIR`); `None` if untracked.
    pub fn direction(self) -> Option<Direction> {
        match self {
            CtInfo::Established | CtInfo::Related | CtInfo::New => Some(Direction::Original),
            CtInfo::EstablishedReply | CtInfo::RelatedReply => Some(Direction::Reply),
            CtInfo::Untracked => None,
        }
    }

    /// The state rules see.
    pub fn state(self) -> CtState {
        match self {
            CtInfo::Established | CtInfo::EstablishedReply => CtState::Established,
            CtInfo::Related | CtInfo::RelatedReply => CtState::Related,
            CtInfo::New => CtState::New,
            CtInfo::Untracked => CtState::Untracked,
        }
    }
}

/// The state of a packet as `-m state --state` and `-m conntrack
/// --ctstate` see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtState {
    /// The packet starts a connection, or belongs to one that has seen no
    /// reply yet.
    New,
    /// The packet belongs to a connection that has seen both directions.
    Established,
    /// The packet is related to a connection (ICMP error, expectation).
    Related,
    /// The packet could not be tracked (malformed, out of window, no entry
    /// could be made).
    Invalid,
    /// The packet is exempt from tracking.
    Untracked,
}

impl CtState {
    /// The state of a packet with `ctinfo`, or with no connection at all
    /// (`None`: invalid).
    pub fn of(ctinfo: Option<CtInfo>) -> CtState {
        ctinfo.map_or(CtState::Invalid, CtInfo::state)
    }

    /// The upper-case name iptables prints.
    pub fn name(self) -> &'static str {
        match self {
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Invalid => "INVALID",
            CtState::Untracked => "UNTRACKED",
        }
    }

    /// The state of an upper-case name, as iptables parses `--state`.
    pub fn from_name(name: &str) -> Option<CtState> {
        [
            CtState::New,
            CtState::Established,
            CtState::Related,
            CtState::Invalid,
            CtState::Untracked,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// The bit of this state in an `xt_state_info` mask (`-m state`).
    pub fn state_bit(self) -> u32 {
        match self {
            CtState::New => xt_state_bit(CtInfo::New as u8),
            CtState::Established => xt_state_bit(CtInfo::Established as u8),
            CtState::Related => xt_state_bit(CtInfo::Related as u8),
            CtState::Invalid => XT_STATE_INVALID,
            CtState::Untracked => XT_STATE_UNTRACKED,
        }
    }

    /// The bit of this state in an `xt_conntrack` `state_mask`
    /// (`-m conntrack --ctstate`).
    pub fn ctstate_bit(self) -> u32 {
        match self {
            CtState::Untracked => XT_CONNTRACK_STATE_UNTRACKED,
            other => other.state_bit(),
        }
    }
}

/// The bits a packet with `ctinfo` (`None`: no connection) sets in an
/// `-m state` mask, as `state_mt` computes them.
pub fn state_mask(ctinfo: Option<CtInfo>) -> u32 {
    match ctinfo {
        Some(CtInfo::Untracked) => XT_STATE_UNTRACKED,
        Some(ci) => xt_state_bit(ci.as_u8()),
        None => XT_STATE_INVALID,
    }
}

/// The bits a packet with `ctinfo` (`None`: no connection) of an entry
/// with `status` sets in an `-m conntrack --ctstate` mask, as
/// `conntrack_mt` computes them: its state, plus `SNAT` and `DNAT` from the
/// status.
pub fn ctstate_mask(ctinfo: Option<CtInfo>, status: u32) -> u32 {
    match ctinfo {
        Some(CtInfo::Untracked) => XT_CONNTRACK_STATE_UNTRACKED,
        Some(ci) => {
            let mut bits = xt_state_bit(ci.as_u8());
            if status & IPS_SRC_NAT != 0 {
                bits |= XT_CONNTRACK_STATE_SNAT;
            }
            if status & IPS_DST_NAT != 0 {
                bits |= XT_CONNTRACK_STATE_DNAT;
            }
            bits
        }
        None => XT_STATE_INVALID,
    }
}
