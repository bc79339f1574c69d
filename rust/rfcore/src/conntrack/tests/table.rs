// SPDX-License-Identifier: GPL-2.0

//! The whole path, through the model of the kernel side.

use super::super::status::{IPS_ASSURED, IPS_SEEN_REPLY};
use super::super::tcp::TcpState;
use super::super::timeouts::{DAY, SECOND};
use super::super::Reason;
use super::*;

fn syn(seq: u32) -> Vec<u8> {
    Seg::new(SYN, seq, 0).packet(C, S)
}

fn synack(seq: u32, ack: u32) -> Vec<u8> {
    Seg::new(SYN | ACK, seq, ack).reply().packet(S, C)
}

fn ack(seq: u32, ack: u32) -> Vec<u8> {
    Seg::new(ACK, seq, ack).packet(C, S)
}

#[test]
fn tcp_connection_states() {
    let mut t = Table::new();
    assert_eq!(t.packet(&syn(100)).ctinfo, Some(CtInfo::New));
    // A retransmitted SYN is still NEW.
    assert_eq!(t.packet(&syn(100)).ctinfo, Some(CtInfo::New));
    assert_eq!(
        t.packet(&synack(900, 101)).ctinfo,
        Some(CtInfo::EstablishedReply)
    );
    assert_eq!(t.entries[0].status & IPS_SEEN_REPLY, IPS_SEEN_REPLY);
    assert_eq!(t.packet(&ack(101, 901)).ctinfo, Some(CtInfo::Established));
    assert_eq!(t.entries[0].status & IPS_ASSURED, IPS_ASSURED);
    assert_eq!(t.entries[0].expires - t.now, 5 * DAY);
    assert_eq!(t.tcp(0).state, TcpState::Established);
    // Out of window: INVALID, the entry stays.
    let v = t.packet(&ack(101, 5_000_000));
    assert_eq!(v.why, Some(Why::Track(Invalid::new(Reason::TcpAckOver))));
    assert_eq!(t.entries.len(), 1);
}

#[test]
fn time_wait_then_new_connection() {
    let mut config = Config::DEFAULT;
    config.timeouts.tcp_time_wait = SECOND;
    let mut t = Table::with(config);
    t.packet(&syn(100));
    t.packet(&synack(900, 101));
    t.packet(&ack(101, 901));
    t.packet(&Seg::new(FIN | ACK, 101, 901).packet(C, S));
    t.packet(&Seg::new(FIN | ACK, 901, 102).reply().packet(S, C));
    t.packet(&ack(102, 902));
    assert_eq!(t.tcp(0).state, TcpState::TimeWait);
    // Within the second, a new SYN reopens: the old entry goes, a new one
    // comes.
    let v = t.packet(&syn(50_000));
    assert_eq!(v.ctinfo, Some(CtInfo::New));
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.tcp(0).state, TcpState::SynSent);
    assert_eq!(t.entries[0].status & IPS_SEEN_REPLY, 0);
    // Expired entries go with the timer.
    t.advance(121 * SECOND);
    t.expire();
    assert!(t.entries.is_empty());
}

#[test]
fn closed_port_leaves_no_entry() {
    let mut t = Table::new();
    t.packet(&syn(100));
    let rst = Seg::new(RST | ACK, 0, 101).reply().packet(S, C);
    let v = t.packet(&rst);
    assert_eq!(v.ctinfo, Some(CtInfo::EstablishedReply));
    assert!(v.update.unwrap().kill);
    assert!(t.entries.is_empty());
}

#[test]
fn stray_packets_are_invalid() {
    let mut strict = Config::DEFAULT;
    strict.tcp_loose = false;
    let mut t = Table::with(strict);
    assert_eq!(
        t.packet(&ack(1, 1)).why,
        Some(Why::Track(Invalid::new(Reason::TcpNotSyn)))
    );
    assert_eq!(
        t.packet(&synack(1, 1)).why,
        Some(Why::Track(Invalid::new(Reason::TcpNew)))
    );
    assert!(t.entries.is_empty());
    // Garbage is invalid too.
    assert_eq!(t.packet(&[0x45, 0, 0]).why, Some(Why::Parse));
}

#[test]
fn untracked_protocols_get_generic_entries() {
    let mut t = Table::new();
    let sctp = ipv4(132, C, S, &[0; 16]);
    let back = ipv4(132, S, C, &[0; 16]);
    assert_eq!(t.packet(&sctp).ctinfo, Some(CtInfo::New));
    let v = t.packet(&back);
    assert_eq!(v.ctinfo, Some(CtInfo::EstablishedReply));
    assert_eq!(v.update.unwrap().timeout, Some(600 * SECOND));
    assert_eq!(t.packet(&sctp).ctinfo, Some(CtInfo::Established));
    assert!(!t.entries[0].proto.can_early_drop());
}

#[test]
fn protocol_mismatch_is_invalid() {
    // A tracker given a packet of another protocol (which a lookup by
    // tuple never does) refuses it.
    let config = Config::DEFAULT;
    let u = udp(C, 1, S, 2, 0);
    let (mut proto, _) = new_connection(&parse(&u), &u, 0, &config).unwrap();
    let s = syn(1);
    let ctx = Ctx {
        now: 0,
        status: 0,
        expires: 0,
        config: &config,
    };
    let r = proto.packet(&parse(&s), &s, Direction::Original, &ctx);
    assert_eq!(r, Err(Invalid::new(Reason::Protocol)));
    let frag = ipv4_with(5, 9, IPPROTO_UDP, C, S, &[0; 8]);
    let r = proto.packet(&parse(&frag), &frag, Direction::Original, &ctx);
    assert_eq!(r, Err(Invalid::new(Reason::Protocol)));
    let r = new_connection(&parse(&frag), &frag, 0, &config);
    assert_eq!(r.err(), Some(Invalid::new(Reason::Protocol)));
}

#[test]
fn update_helpers() {
    use super::super::status::IPS_FIXED_TIMEOUT;
    let u = Update::refresh(10);
    assert_eq!(u.expires(100, 0, 5), 110);
    assert_eq!(u.expires(100, IPS_FIXED_TIMEOUT, 5), 5);
    assert_eq!(u.expires(u64::MAX, 0, 5), u64::MAX);
    let i = Update::ignore(super::super::Ignored::TcpSeqUnder);
    assert_eq!(i.expires(100, 0, 5), 5);
    assert_eq!(i.set_status, 0);
    let mut u = Update::refresh(1);
    u.set_status = IPS_ASSURED | IPS_SEEN_REPLY;
    assert_eq!(u.new_status_bits(IPS_SEEN_REPLY), IPS_ASSURED);
    for r in [
        Reason::Protocol,
        Reason::TcpFlags,
        Reason::TcpNew,
        Reason::TcpNotSyn,
        Reason::TcpState,
        Reason::TcpRst,
        Reason::TcpSeqOver,
        Reason::TcpAckOver,
        Reason::UdpLength,
        Reason::IcmpNew,
    ] {
        assert_eq!(std::format!("{r}"), r.as_str());
        assert_eq!(Invalid::from(r), Invalid::new(r));
    }
    for i in [
        super::super::Ignored::TcpState,
        super::super::Ignored::TcpChallengeAck,
        super::super::Ignored::TcpOvershot,
        super::super::Ignored::TcpSeqUnder,
        super::super::Ignored::TcpAckUnder,
    ] {
        assert!(!i.as_str().is_empty());
    }
}
