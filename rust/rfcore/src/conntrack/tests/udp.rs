// SPDX-License-Identifier: GPL-2.0

//! The UDP tracker.

use super::super::status::{IPS_ASSURED, IPS_NAT_CLASH, IPS_SEEN_REPLY};
use super::super::timeouts::SECOND;
use super::super::udp::STREAM_DELAY;
use super::super::{CtState, Reason, UdpConn};
use super::*;

fn query() -> Vec<u8> {
    udp(C, 40000, S, 53, 30)
}

fn answer() -> Vec<u8> {
    udp(S, 53, C, 40000, 100)
}

#[test]
fn query_and_answer_is_not_assured() {
    let mut t = Table::new();
    let v = t.packet(&query());
    assert_eq!(v.ctinfo, Some(CtInfo::New));
    assert_eq!(v.update.unwrap().timeout, Some(30 * SECOND));
    let e = &t.entries[0];
    assert_eq!(
        e.tuples,
        [Tuple::udp(C, 40000, S, 53), Tuple::udp(S, 53, C, 40000)]
    );
    // The answer: reply seen, still 30 s, not assured.
    t.advance(100);
    let v = t.packet(&answer());
    assert_eq!(v.ctinfo, Some(CtInfo::EstablishedReply));
    let u = v.update.unwrap();
    assert_eq!(u.timeout, Some(30 * SECOND));
    assert_eq!(u.set_status, IPS_SEEN_REPLY);
    assert_eq!(t.entries[0].status & IPS_ASSURED, 0);
    // Another query within two seconds: ESTABLISHED, still not a stream.
    t.advance(500);
    let v = t.packet(&query());
    assert_eq!(v.ctinfo, Some(CtInfo::Established));
    assert_eq!(v.update.unwrap().timeout, Some(30 * SECOND));
    assert_eq!(t.entries[0].status & IPS_ASSURED, 0);
    // Unanswered for 30 s: gone.
    t.advance(30 * SECOND);
    assert_eq!(t.packet(&answer()).ctinfo, Some(CtInfo::New));
}

#[test]
fn stream_becomes_assured() {
    let mut t = Table::new();
    t.packet(&query());
    t.advance(SECOND);
    t.packet(&answer());
    t.advance(STREAM_DELAY);
    // Both ways, more than two seconds old: a stream.
    let v = t.packet(&query());
    let u = v.update.unwrap();
    assert_eq!(u.timeout, Some(120 * SECOND));
    assert_eq!(u.set_status, IPS_ASSURED);
    assert_eq!(
        u.new_status_bits(t.entries[0].status & !IPS_ASSURED),
        IPS_ASSURED
    );
    assert_ne!(t.entries[0].status & IPS_ASSURED, 0);
    // Once assured, packets keep it at 120 s without setting it again.
    let v = t.packet(&answer());
    let u = v.update.unwrap();
    assert_eq!(u.timeout, Some(120 * SECOND));
    assert_eq!(u.set_status, IPS_SEEN_REPLY);
    t.advance(119 * SECOND);
    assert_eq!(t.packet(&query()).ctinfo, Some(CtInfo::Established));
}

#[test]
fn one_way_stream_stays_unreplied() {
    let mut t = Table::new();
    for _ in 0..10 {
        let v = t.packet(&query());
        assert_eq!(v.update.unwrap().timeout, Some(30 * SECOND));
        t.advance(SECOND);
    }
    assert_eq!(t.entries[0].status, IPS_CONFIRMED);
}

#[test]
fn nat_clash_is_never_assured() {
    let config = Config::DEFAULT;
    let q = query();
    let h = match parse(&q).transport {
        packet::Transport::Udp(h) => h,
        other => panic!("{other:?}"),
    };
    let (mut conn, _) = UdpConn::new(&h, 38, 0, &config.timeouts).unwrap();
    let ctx = Ctx {
        now: 10 * SECOND,
        status: IPS_SEEN_REPLY | IPS_NAT_CLASH,
        expires: 0,
        config: &config,
    };
    let Ok(Outcome::Accept(u)) = conn.packet(&h, 38, &ctx) else {
        panic!()
    };
    assert_eq!(u.timeout, Some(120 * SECOND));
    assert_eq!(u.set_status, 0);
}

#[test]
fn bad_length_is_invalid() {
    let mut t = Table::new();
    for len in [0u16, 7, 39, 65535] {
        let mut p = query();
        p[24..26].copy_from_slice(&len.to_be_bytes());
        let v = t.packet(&p);
        assert_eq!(
            v.why,
            Some(Why::Track(Invalid::new(Reason::UdpLength))),
            "len {len}"
        );
        assert!(t.entries.is_empty());
    }
    // 8 (no data) and shorter than the payload are fine.
    for len in [8u16, 20, 38] {
        let mut p = query();
        p[24..26].copy_from_slice(&len.to_be_bytes());
        assert_eq!(t.packet(&p).ctinfo.map(|c| c.state()), Some(CtState::New));
    }
    // On an existing entry too.
    let mut p = answer();
    p[24..26].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(
        t.packet(&p).why,
        Some(Why::Track(Invalid::new(Reason::UdpLength)))
    );
}
