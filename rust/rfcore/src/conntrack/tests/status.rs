// SPDX-License-Identifier: GPL-2.0

//! Status bits, ctinfo and state masks against the uapi values.

use super::super::status::*;
use super::*;

#[test]
fn status_bits_match_uapi() {
    let bits = [
        (IPS_EXPECTED, 0),
        (IPS_SEEN_REPLY, 1),
        (IPS_ASSURED, 2),
        (IPS_CONFIRMED, 3),
        (IPS_SRC_NAT, 4),
        (IPS_DST_NAT, 5),
        (IPS_SEQ_ADJUST, 6),
        (IPS_SRC_NAT_DONE, 7),
        (IPS_DST_NAT_DONE, 8),
        (IPS_DYING, 9),
        (IPS_FIXED_TIMEOUT, 10),
        (IPS_TEMPLATE, 11),
        (IPS_UNTRACKED, 12),
        (IPS_HELPER, 13),
        (IPS_OFFLOAD, 14),
        (IPS_HW_OFFLOAD, 15),
    ];
    for (bit, n) in bits {
        assert_eq!(bit, 1 << n);
        assert!(n < IPS_MAX_BIT);
    }
    assert_eq!(IPS_NAT_MASK, 0x30);
    assert_eq!(IPS_NAT_DONE_MASK, 0x180);
    assert_eq!(IPS_NAT_CLASH, IPS_UNTRACKED);
    // NAT, NAT done, expected, confirmed, dying, seq adjust, template,
    // untracked, offload, hw offload.
    assert_eq!(IPS_UNCHANGEABLE_MASK, 0xdbf9);
}

#[test]
fn ctinfo_values() {
    let all = [
        (CtInfo::Established, 0),
        (CtInfo::Related, 1),
        (CtInfo::New, 2),
        (CtInfo::EstablishedReply, 3),
        (CtInfo::RelatedReply, 4),
        (CtInfo::Untracked, 7),
    ];
    for (ci, v) in all {
        assert_eq!(ci.as_u8(), v);
        assert_eq!(CtInfo::from_u8(v), Some(ci));
        let reply = v >= IP_CT_IS_REPLY && ci != CtInfo::Untracked;
        let want = match ci {
            CtInfo::Untracked => None,
            _ if reply => Some(Direction::Reply),
            _ => Some(Direction::Original),
        };
        assert_eq!(ci.direction(), want);
    }
    for v in [5u8, 6, 8, 255] {
        assert_eq!(CtInfo::from_u8(v), None);
    }
    assert_eq!(IP_CT_NUMBER, 5);
}

#[test]
fn ctinfo_of_lookup() {
    use Direction::{Original, Reply};
    assert_eq!(CtInfo::of_packet(Original, 0), CtInfo::New);
    assert_eq!(CtInfo::of_packet(Original, IPS_CONFIRMED), CtInfo::New);
    assert_eq!(
        CtInfo::of_packet(Original, IPS_SEEN_REPLY),
        CtInfo::Established
    );
    assert_eq!(CtInfo::of_packet(Original, IPS_EXPECTED), CtInfo::Related);
    assert_eq!(
        CtInfo::of_packet(Original, IPS_EXPECTED | IPS_SEEN_REPLY),
        CtInfo::Established
    );
    assert_eq!(CtInfo::of_packet(Reply, 0), CtInfo::EstablishedReply);
    assert_eq!(
        CtInfo::of_packet(Reply, IPS_EXPECTED),
        CtInfo::EstablishedReply
    );
    assert_eq!(CtInfo::related(Original), CtInfo::Related);
    assert_eq!(CtInfo::related(Reply), CtInfo::RelatedReply);
}

#[test]
fn states_and_their_bits() {
    let states = [
        (CtState::Invalid, "INVALID", 1 << 0, 1 << 0),
        (CtState::Established, "ESTABLISHED", 1 << 1, 1 << 1),
        (CtState::Related, "RELATED", 1 << 2, 1 << 2),
        (CtState::New, "NEW", 1 << 3, 1 << 3),
        (CtState::Untracked, "UNTRACKED", 1 << 6, 1 << 8),
    ];
    for (s, name, state_bit, ctstate_bit) in states {
        assert_eq!(s.name(), name);
        assert_eq!(CtState::from_name(name), Some(s));
        assert_eq!(s.state_bit(), state_bit, "{name}");
        assert_eq!(s.ctstate_bit(), ctstate_bit, "{name}");
    }
    assert_eq!(CtState::from_name("new"), None);
    assert_eq!(CtState::from_name("SNAT"), None);
    assert_eq!(XT_CONNTRACK_STATE_SNAT, 1 << 6);
    assert_eq!(XT_CONNTRACK_STATE_DNAT, 1 << 7);
    assert_eq!(CtState::of(None), CtState::Invalid);
    assert_eq!(
        CtState::of(Some(CtInfo::EstablishedReply)),
        CtState::Established
    );
    assert_eq!(CtState::of(Some(CtInfo::RelatedReply)), CtState::Related);
    assert_eq!(CtState::of(Some(CtInfo::New)), CtState::New);
    assert_eq!(CtState::of(Some(CtInfo::Untracked)), CtState::Untracked);
}

#[test]
fn masks_as_the_matches_compute_them() {
    // Every ctinfo sets the bit of its state, in either direction.
    for v in 0..IP_CT_NUMBER {
        let ci = CtInfo::from_u8(v).unwrap();
        assert_eq!(state_mask(Some(ci)), ci.state().state_bit(), "{ci:?}");
        assert_eq!(ctstate_mask(Some(ci), 0), ci.state().ctstate_bit());
        assert_eq!(xt_state_bit(v), ci.state().state_bit());
    }
    assert_eq!(state_mask(None), XT_STATE_INVALID);
    assert_eq!(state_mask(Some(CtInfo::Untracked)), XT_STATE_UNTRACKED);
    assert_eq!(ctstate_mask(None, IPS_SRC_NAT), XT_STATE_INVALID);
    assert_eq!(
        ctstate_mask(Some(CtInfo::Untracked), IPS_DST_NAT),
        XT_CONNTRACK_STATE_UNTRACKED
    );
    // NAT bits join the state for the conntrack match.
    assert_eq!(
        ctstate_mask(Some(CtInfo::Established), IPS_SRC_NAT),
        (1 << 1) | XT_CONNTRACK_STATE_SNAT
    );
    assert_eq!(
        ctstate_mask(Some(CtInfo::New), IPS_NAT_MASK),
        (1 << 3) | XT_CONNTRACK_STATE_SNAT | XT_CONNTRACK_STATE_DNAT
    );
}
