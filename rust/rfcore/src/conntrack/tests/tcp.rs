// SPDX-License-Identifier: GPL-2.0

//! The TCP tracker: state machine, window checks, timeouts.

use super::super::status::{IPS_ASSURED, IPS_FIXED_TIMEOUT, IPS_SEEN_REPLY};
use super::super::tcp::{
    valid_flags, FlagClass, TcpConn, TcpPeer, TcpState, IP_CT_TCP_FLAG_BE_LIBERAL,
    IP_CT_TCP_FLAG_CLOSE_INIT, IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED, IP_CT_TCP_FLAG_MAXACK_SET,
    IP_CT_TCP_FLAG_SACK_PERM, IP_CT_TCP_FLAG_WINDOW_SCALE, IP_CT_TCP_SIMULTANEOUS_OPEN,
};
use super::super::timeouts::{DAY, MINUTE, SECOND};
use super::super::{Ignored, Reason};
use super::*;

/// The client's and the server's initial sequence numbers.
const CI: u32 = 1000;
const SI: u32 = 5000;

/// One TCP connection between C:40000 and S:80 and what the kernel side
/// keeps of it.
struct Conn {
    proto: ProtoState,
    status: u32,
    expires: u64,
    now: u64,
    config: Config,
}

impl Conn {
    fn try_open_with(first: &Seg, config: Config) -> Result<(Conn, u64), Invalid> {
        let bytes = first.packet(C, S);
        let now = 5_000_000;
        let (proto, timeout) = new_connection(&parse(&bytes), &bytes, now, &config)?;
        let conn = Conn {
            proto,
            status: IPS_CONFIRMED,
            expires: now + timeout,
            now,
            config,
        };
        Ok((conn, timeout))
    }

    fn open(first: &Seg) -> (Conn, u64) {
        Conn::try_open_with(first, Config::DEFAULT).expect("first packet opens")
    }

    fn tcp(&self) -> TcpConn {
        match self.proto {
            ProtoState::Tcp(c) => c,
            other => panic!("not TCP: {other:?}"),
        }
    }

    fn state(&self) -> TcpState {
        self.tcp().state
    }

    /// Send `seg` in direction `dir` and apply the result as the kernel
    /// would.
    fn send(&mut self, dir: Direction, seg: &Seg) -> Result<Outcome, Invalid> {
        let bytes = match dir {
            Direction::Original => seg.packet(C, S),
            Direction::Reply => seg.packet(S, C),
        };
        let ctx = Ctx {
            now: self.now,
            status: self.status,
            expires: self.expires,
            config: &self.config,
        };
        let r = self.proto.packet(&parse(&bytes), &bytes, dir, &ctx);
        match r {
            Ok(Outcome::Accept(u)) => {
                self.expires = u.expires(self.now, self.status, self.expires);
                self.status |= u.set_status;
            }
            Err(inv) => {
                if let Some(t) = inv.lower_timeout {
                    self.expires = self.now + t;
                }
            }
            Ok(Outcome::Reopen) => {}
        }
        r
    }

    /// Send, and expect the packet accepted and tracked (not ignored).
    fn ok(&mut self, dir: Direction, seg: &Seg) -> Update {
        match self.send(dir, seg) {
            Ok(Outcome::Accept(u)) => {
                assert_eq!(u.ignored, None, "{seg:?} ignored");
                u
            }
            other => panic!("{seg:?} in {dir:?}: {other:?}"),
        }
    }

    fn orig(&mut self, seg: &Seg) -> Update {
        self.ok(Direction::Original, seg)
    }

    fn reply(&mut self, seg: Seg) -> Update {
        self.ok(Direction::Reply, &seg.reply())
    }

    /// Send, and expect the packet ignored for `why`.
    fn ignored(&mut self, dir: Direction, seg: &Seg, why: Ignored) {
        let r = self.send(dir, seg);
        match r {
            Ok(Outcome::Accept(u)) => {
                assert_eq!(u.ignored, Some(why), "{seg:?}");
                assert_eq!(u.timeout, None);
                assert!(!u.kill && !u.proto_changed);
            }
            other => panic!("{seg:?} in {dir:?}: {other:?}"),
        }
    }

    /// Send, and expect the packet invalid for `reason`.
    fn invalid(&mut self, dir: Direction, seg: &Seg, reason: Reason) -> Invalid {
        let r = self.send(dir, seg);
        match r {
            Err(inv) => {
                assert_eq!(inv.reason, reason, "{seg:?}");
                inv
            }
            other => panic!("{seg:?} in {dir:?}: expected {reason:?}, got {other:?}"),
        }
    }
}

/// A connection through the three-way handshake, both ends offering
/// window scale `shift` (none if `None`); the server's SYN/ACK offers
/// 65160 bytes, the client's ACK a window of 502.
fn established(shift: Option<u8>) -> Conn {
    let syn = Seg::new(SYN, CI, 0);
    let synack = Seg::new(SYN | ACK, SI, CI + 1).window(65160);
    let (syn, synack) = match shift {
        Some(s) => (syn.syn_options(s), synack.syn_options(s)),
        None => (syn, synack),
    };
    let (mut c, t) = Conn::open(&syn);
    assert_eq!(t, 2 * MINUTE);
    assert_eq!(c.state(), TcpState::SynSent);
    c.reply(synack);
    assert_eq!(c.state(), TcpState::SynRecv);
    let u = c.orig(&Seg::new(ACK, CI + 1, SI + 1).window(502));
    assert_eq!(c.state(), TcpState::Established);
    assert_eq!(u.set_status, IPS_ASSURED);
    c
}

#[test]
fn handshake_data_close_time_wait() {
    let (mut c, t) = Conn::open(&Seg::new(SYN, CI, 0).syn_options(7));
    assert_eq!(t, 120 * SECOND);
    assert_eq!(c.status, IPS_CONFIRMED);

    // SYN/ACK: SYN_RECV, the reply is seen.
    let u = c.reply(Seg::new(SYN | ACK, SI, CI + 1).syn_options(7).window(65160));
    assert_eq!(c.state(), TcpState::SynRecv);
    assert_eq!(u.timeout, Some(60 * SECOND));
    assert_eq!(u.set_status, IPS_SEEN_REPLY);
    assert!(u.proto_changed);
    assert_eq!(c.status & IPS_ASSURED, 0);

    // The handshake's ACK: ESTABLISHED and assured, five days.
    let u = c.orig(&Seg::new(ACK, CI + 1, SI + 1).window(502));
    assert_eq!(c.state(), TcpState::Established);
    assert_eq!(u.timeout, Some(5 * DAY));
    assert_eq!(u.set_status, IPS_ASSURED);
    assert_eq!(u.new_status_bits(IPS_SEEN_REPLY), IPS_ASSURED);
    let tcp = c.tcp();
    assert_eq!(tcp.seen[0].scale, 7);
    assert_eq!(tcp.seen[1].scale, 7);
    assert_eq!(
        tcp.seen[0].flags & (IP_CT_TCP_FLAG_WINDOW_SCALE | IP_CT_TCP_FLAG_SACK_PERM),
        IP_CT_TCP_FLAG_WINDOW_SCALE | IP_CT_TCP_FLAG_SACK_PERM
    );

    // Data: unacknowledged, so five minutes; acknowledged, five days.
    let u = c.orig(&Seg::new(ACK | PSH, CI + 1, SI + 1).window(502).data(100));
    assert_eq!(u.timeout, Some(5 * MINUTE));
    assert_ne!(
        c.tcp().seen[0].flags & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED,
        0
    );
    assert_eq!(c.tcp().seen[0].end, CI + 101);
    let u = c.reply(Seg::new(ACK, SI + 1, CI + 101).window(509));
    assert_eq!(u.timeout, Some(5 * DAY));
    assert_eq!(
        c.tcp().seen[0].flags & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED,
        0
    );
    assert_eq!(u.set_status, IPS_SEEN_REPLY);
    assert_eq!(u.new_status_bits(c.status), 0);

    // The client closes.
    let u = c.orig(&Seg::new(FIN | ACK, CI + 101, SI + 1).window(502));
    assert_eq!(c.state(), TcpState::FinWait);
    assert_eq!(u.timeout, Some(2 * MINUTE));
    assert_ne!(c.tcp().seen[0].flags & IP_CT_TCP_FLAG_CLOSE_INIT, 0);
    assert_eq!(c.tcp().seen[1].flags & IP_CT_TCP_FLAG_CLOSE_INIT, 0);
    let u = c.reply(Seg::new(ACK, SI + 1, CI + 102).window(509));
    assert_eq!(c.state(), TcpState::CloseWait);
    assert_eq!(u.timeout, Some(60 * SECOND));
    let u = c.reply(Seg::new(FIN | ACK, SI + 1, CI + 102).window(509));
    assert_eq!(c.state(), TcpState::LastAck);
    assert_eq!(u.timeout, Some(30 * SECOND));
    let u = c.orig(&Seg::new(ACK, CI + 102, SI + 2).window(502));
    assert_eq!(c.state(), TcpState::TimeWait);
    assert_eq!(u.timeout, Some(2 * MINUTE));
    assert!(u.proto_changed);
    // A retransmitted last ACK stays in TIME_WAIT.
    let u = c.orig(&Seg::new(ACK, CI + 102, SI + 2).window(502));
    assert_eq!(c.state(), TcpState::TimeWait);
    assert!(!u.proto_changed);
    assert!(c.tcp().can_early_drop());
}

#[test]
fn time_wait_timeout_is_configurable() {
    let mut config = Config::DEFAULT;
    config.timeouts.tcp_time_wait = SECOND;
    let (mut c, _) = Conn::try_open_with(&Seg::new(SYN, CI, 0), config).unwrap();
    c.reply(Seg::new(SYN | ACK, SI, CI + 1));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    c.orig(&Seg::new(FIN | ACK, CI + 1, SI + 1));
    c.reply(Seg::new(FIN | ACK, SI + 1, CI + 2));
    assert_eq!(c.state(), TcpState::LastAck);
    let u = c.orig(&Seg::new(ACK, CI + 2, SI + 2));
    assert_eq!(c.state(), TcpState::TimeWait);
    assert_eq!(u.timeout, Some(SECOND));
    assert_eq!(c.expires, c.now + SECOND);
}

#[test]
fn fin_from_both_sides_at_once() {
    let mut c = established(None);
    c.orig(&Seg::new(FIN | ACK, CI + 1, SI + 1));
    assert_eq!(c.state(), TcpState::FinWait);
    // The server's FIN crosses the client's: FIN_WAIT -> LAST_ACK.
    c.reply(Seg::new(FIN | ACK, SI + 1, CI + 1));
    assert_eq!(c.state(), TcpState::LastAck);
    c.reply(Seg::new(ACK, SI + 2, CI + 2));
    assert_eq!(c.state(), TcpState::TimeWait);
    // Both FIN flags were seen, only the client's was first.
    assert_ne!(c.tcp().seen[0].flags & IP_CT_TCP_FLAG_CLOSE_INIT, 0);
    assert_eq!(c.tcp().seen[1].flags & IP_CT_TCP_FLAG_CLOSE_INIT, 0);
}

#[test]
fn rst_on_established() {
    let mut c = established(None);
    // The client aborts, at exactly the sequence number the server
    // acknowledged last.
    let u = c.orig(&Seg::new(RST | ACK, CI + 1, SI + 1));
    assert_eq!(c.state(), TcpState::Close);
    assert_eq!(u.timeout, Some(10 * SECOND));
    assert!(!u.kill);
    assert!(c.tcp().can_early_drop());
    // A RST on a closed connection is fine too.
    c.reply(Seg::new(RST, SI + 1, 0));
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn rst_below_highest_ack_is_invalid() {
    let mut c = established(None);
    c.orig(&Seg::new(ACK | PSH, CI + 1, SI + 1).data(500));
    c.reply(Seg::new(ACK, SI + 1, CI + 501));
    // A blind RST with an old sequence number.
    c.invalid(
        Direction::Original,
        &Seg::new(RST, CI + 100, 0),
        Reason::TcpRst,
    );
    assert_eq!(c.state(), TcpState::Established);
    // Unless RST checks are off: then it is in window but not exact, so
    // the state stays (for a challenge ACK) with a short timeout.
    c.config.tcp_ignore_invalid_rst = true;
    let u = c.orig(&Seg::new(RST, CI + 100, 0));
    assert_eq!(c.state(), TcpState::Established);
    assert_eq!(u.timeout, Some(5 * MINUTE));
}

#[test]
fn inexact_rst_keeps_established_with_short_timeout() {
    let mut c = established(None);
    c.orig(&Seg::new(ACK | PSH, CI + 1, SI + 1).data(500));
    c.reply(Seg::new(ACK, SI + 1, CI + 501));
    // In window but not where the client is: keep the state so that a
    // challenge ACK can follow, but no five days.
    let u = c.orig(&Seg::new(RST, CI + 800, 0));
    assert_eq!(c.state(), TcpState::Established);
    assert_eq!(u.timeout, Some(5 * MINUTE));
    // The exact one then closes.
    c.orig(&Seg::new(RST, CI + 501, 0));
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn rst_following_last_segment_closes() {
    let mut c = established(None);
    c.reply(Seg::new(ACK, SI + 1, CI + 1));
    c.orig(&Seg::new(ACK | PSH, CI + 1, SI + 1).data(19));
    // "P 1:20(19) ack 1" then "R 20": the RST follows the data, although
    // the server has not acknowledged it yet.
    c.orig(&Seg::new(RST, CI + 20, 0));
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn rst_answering_syn_kills_entry() {
    // A closed port: the only answer is a RST with sequence 0.
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    let r = c.send(Direction::Reply, &Seg::new(RST | ACK, 0, CI + 1).reply());
    let Ok(Outcome::Accept(u)) = r else {
        panic!("{r:?}")
    };
    assert!(u.kill);
    assert_eq!(u.timeout, None);
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn simultaneous_open() {
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0).syn_options(5));
    // Both ends send a SYN. As for a retransmitted SYN, no reply has
    // been seen yet and the entry was in SYN_SENT: no refresh.
    let u = c.reply(Seg::new(SYN, SI, 0).syn_options(6));
    assert_eq!(c.state(), TcpState::SynSent2);
    assert_eq!(u.timeout, None);
    assert!(u.proto_changed);
    assert_ne!(c.tcp().last_flags & IP_CT_TCP_SIMULTANEOUS_OPEN, 0);
    // A retransmitted SYN from either side stays there.
    c.reply(Seg::new(SYN, SI, 0).syn_options(6));
    assert_eq!(c.state(), TcpState::SynSent2);
    c.orig(&Seg::new(SYN, CI, 0).syn_options(5));
    assert_eq!(c.state(), TcpState::SynSent2);
    // Both answer with a SYN/ACK.
    c.orig(&Seg::new(SYN | ACK, CI, SI + 1).syn_options(5));
    assert_eq!(c.state(), TcpState::SynRecv);
    c.ignored(
        Direction::Reply,
        &Seg::new(SYN | ACK, SI, CI + 1).syn_options(6).reply(),
        Ignored::TcpState,
    );
    // The reply side's ACK completes it (the table alone would stay in
    // SYN_RECV) and the connection is assured.
    let u = c.reply(Seg::new(ACK, SI + 1, CI + 1));
    assert_eq!(c.state(), TcpState::Established);
    assert_eq!(u.set_status & IPS_ASSURED, IPS_ASSURED);
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    assert_eq!(c.state(), TcpState::Established);
    // Both offered scaling.
    assert_eq!((c.tcp().seen[0].scale, c.tcp().seen[1].scale), (5, 6));
}

#[test]
fn retransmitted_syn_does_not_refresh() {
    let (mut c, t) = Conn::open(&Seg::new(SYN, CI, 0));
    assert_eq!(t, 2 * MINUTE);
    let first_expiry = c.expires;
    c.now += 3 * SECOND;
    let u = c.orig(&Seg::new(SYN, CI, 0));
    assert_eq!(c.state(), TcpState::SynSent);
    assert_eq!(u.timeout, None);
    assert_eq!(c.expires, first_expiry);
    // A SYN with a new initial sequence number starts the direction over.
    c.orig(&Seg::new(SYN, CI + 50_000, 0));
    assert_eq!(c.tcp().seen[0].end, CI + 50_001);
    assert_eq!(c.expires, first_expiry);
    // And the SYN/ACK for it is fine.
    c.reply(Seg::new(SYN | ACK, SI, CI + 50_001));
    assert_eq!(c.state(), TcpState::SynRecv);
}

#[test]
fn retransmitted_syn_ack_is_ignored() {
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    c.reply(Seg::new(SYN | ACK, SI, CI + 1));
    c.ignored(
        Direction::Reply,
        &Seg::new(SYN | ACK, SI, CI + 1).reply(),
        Ignored::TcpState,
    );
    assert_eq!(c.state(), TcpState::SynRecv);
    // A late SYN/ACK on an established connection too.
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    c.ignored(
        Direction::Reply,
        &Seg::new(SYN | ACK, SI, CI + 1).reply(),
        Ignored::TcpState,
    );
    assert_eq!(c.state(), TcpState::Established);
}

#[test]
fn invalid_transitions() {
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    // The client cannot ACK or FIN before a SYN/ACK, nor send a SYN/ACK.
    c.invalid(
        Direction::Original,
        &Seg::new(ACK, CI + 1, SI + 1),
        Reason::TcpState,
    );
    c.invalid(
        Direction::Original,
        &Seg::new(FIN | ACK, CI + 1, 1),
        Reason::TcpState,
    );
    c.invalid(
        Direction::Original,
        &Seg::new(SYN | ACK, CI, 1),
        Reason::TcpState,
    );
    // Nor can the server FIN.
    c.invalid(
        Direction::Reply,
        &Seg::new(FIN | ACK, SI, CI + 1).reply(),
        Reason::TcpState,
    );
    assert_eq!(c.state(), TcpState::SynSent);
    let mut c = established(None);
    // A SYN from the server on an established connection.
    c.invalid(
        Direction::Reply,
        &Seg::new(SYN, SI, 0).reply(),
        Reason::TcpState,
    );
    // A SYN/ACK from the client.
    c.invalid(
        Direction::Original,
        &Seg::new(SYN | ACK, CI, SI + 1),
        Reason::TcpState,
    );
    assert_eq!(c.state(), TcpState::Established);
}

#[test]
fn invalid_flag_combinations() {
    let mut c = established(None);
    for flags in [
        0,
        SYN | FIN,
        SYN | RST,
        FIN,
        FIN | RST,
        PSH,
        TcpHeader::URG,
        0xff,
    ] {
        c.invalid(
            Direction::Original,
            &Seg::new(flags, CI + 1, SI + 1),
            Reason::TcpFlags,
        );
    }
    let all: Vec<u8> = (0..=255u8).filter(|&f| valid_flags(f)).collect();
    // Nine combinations, times the 8 settings of PSH, ECE and CWR.
    assert_eq!(all.len(), 9 * 8);
    assert!(valid_flags(SYN | TcpHeader::ECE | TcpHeader::CWR));
    assert!(valid_flags(FIN | ACK | PSH | TcpHeader::URG));
    assert!(!valid_flags(FIN | PSH));
    // First packets too.
    let r = Conn::try_open_with(&Seg::new(SYN | FIN, CI, 0), Config::DEFAULT);
    assert_eq!(r.err().map(|e| e.reason), Some(Reason::TcpFlags));
}

#[test]
fn first_packet_rules() {
    for (flags, reason) in [
        (SYN | ACK, Reason::TcpNew),
        (FIN | ACK, Reason::TcpNew),
        (RST, Reason::TcpNew),
        (RST | ACK, Reason::TcpNew),
    ] {
        let r = Conn::try_open_with(&Seg::new(flags, CI, SI), Config::DEFAULT);
        assert_eq!(r.err(), Some(Invalid::new(reason)), "flags {flags:#x}");
    }
    // A plain ACK opens only with tcp_loose.
    let mut strict = Config::DEFAULT;
    strict.tcp_loose = false;
    let r = Conn::try_open_with(&Seg::new(ACK, CI, SI), strict);
    assert_eq!(r.err(), Some(Invalid::new(Reason::TcpNotSyn)));
    // A SYN always does, and a SYN with ECN too.
    assert!(Conn::try_open_with(&Seg::new(SYN, CI, 0), strict).is_ok());
    let ecn = SYN | TcpHeader::ECE | TcpHeader::CWR;
    assert!(Conn::try_open_with(&Seg::new(ecn, CI, 0), strict).is_ok());
}

#[test]
fn loose_pickup() {
    let (mut c, t) = Conn::open(&Seg::new(ACK | PSH, CI, SI).data(10));
    assert_eq!(c.state(), TcpState::Established);
    // No reply yet: no five days.
    assert_eq!(t, 5 * MINUTE);
    let tcp = c.tcp();
    for peer in tcp.seen {
        assert_ne!(peer.flags & IP_CT_TCP_FLAG_BE_LIBERAL, 0);
        assert_ne!(peer.flags & IP_CT_TCP_FLAG_SACK_PERM, 0);
    }
    // Liberal: wild sequence numbers are accepted.
    c.orig(&Seg::new(ACK, CI + 3_000_000, SI));
    // The first reply does not assure it yet; the answer to it does.
    let u = c.reply(Seg::new(ACK, SI, CI + 10));
    assert_eq!(u.set_status, IPS_SEEN_REPLY);
    assert_eq!(u.timeout, Some(5 * MINUTE));
    let u = c.orig(&Seg::new(ACK, CI + 10, SI));
    assert_eq!(u.set_status, IPS_ASSURED);
    assert_eq!(u.timeout, Some(5 * DAY));
}

#[test]
fn data_beyond_the_window() {
    let mut c = established(None);
    // The server offered 65160 bytes (unscaled) after CI + 1.
    let edge = CI + 1 + 65160;
    c.orig(&Seg::new(ACK, edge - 100, SI + 1).data(100));
    // A little beyond: some stacks do that; let it pass untracked but
    // remember the data was sent.
    c.ignored(
        Direction::Original,
        &Seg::new(ACK, edge + 10, SI + 1).data(100),
        Ignored::TcpOvershot,
    );
    assert_eq!(c.tcp().seen[0].end, edge + 110);
    // Far beyond: invalid.
    let inv = c.invalid(
        Direction::Original,
        &Seg::new(ACK, edge + 200_000, SI + 1).data(100),
        Reason::TcpSeqOver,
    );
    assert_eq!(inv.lower_timeout, None);
    assert_eq!(c.state(), TcpState::Established);
}

#[test]
fn ack_of_unsent_data_is_invalid() {
    let mut c = established(None);
    c.invalid(
        Direction::Original,
        &Seg::new(ACK, CI + 1, SI + 1 + 1000),
        Reason::TcpAckOver,
    );
    c.reply(Seg::new(ACK | PSH, SI + 1, CI + 1).data(1000));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1 + 1000));
    c.invalid(
        Direction::Original,
        &Seg::new(ACK, CI + 1, SI + 1 + 1001),
        Reason::TcpAckOver,
    );
}

#[test]
fn old_retransmission_is_ignored() {
    // A small window from the start: 1000 bytes (the largest window seen
    // sets how far back a segment may be).
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    c.reply(Seg::new(SYN | ACK, SI, CI + 1).window(1000));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    let mut seq = CI + 1;
    for _ in 0..10 {
        c.orig(&Seg::new(ACK | PSH, seq, SI + 1).data(1000));
        seq += 1000;
        c.reply(Seg::new(ACK, SI + 1, seq).window(1000));
    }
    // The first segment again: far below the window.
    c.ignored(
        Direction::Original,
        &Seg::new(ACK | PSH, CI + 1, SI + 1).data(1000),
        Ignored::TcpSeqUnder,
    );
    // The last one again is a plain retransmission: fine.
    c.orig(&Seg::new(ACK | PSH, seq - 1000, SI + 1).data(1000));
}

#[test]
fn overly_delayed_ack_is_ignored() {
    let mut c = established(None);
    c.reply(Seg::new(ACK, SI + 1, CI + 1).window(30_000));
    let mut seq = CI + 1;
    for _ in 0..3 {
        c.orig(&Seg::new(ACK | PSH, seq, SI + 1).data(30_000));
        seq += 30_000;
        c.reply(Seg::new(ACK, SI + 1, seq).window(30_000));
    }
    // An ACK from before all that: 90000 bytes behind, more than the
    // 66000 allowed.
    c.ignored(
        Direction::Reply,
        &Seg::new(ACK, SI + 1, CI + 1).window(30_000).reply(),
        Ignored::TcpAckUnder,
    );
    // 60000 behind is fine.
    c.reply(Seg::new(ACK, SI + 1, seq - 60_000).window(30_000));
}

#[test]
fn window_scaling() {
    // Both ends scale by 7: the server's window 1000 is 128000 bytes.
    let mut c = established(Some(7));
    c.reply(Seg::new(ACK, SI + 1, CI + 1).window(1000));
    assert_eq!(c.tcp().seen[1].maxwin, 128_000);
    assert_eq!(c.tcp().seen[0].maxend, CI + 1 + 128_000);
    c.orig(&Seg::new(ACK, CI + 100_001, SI + 1).data(100));
    c.ignored(
        Direction::Original,
        &Seg::new(ACK, CI + 200_001, SI + 1).data(100),
        Ignored::TcpOvershot,
    );

    // Only the client offers scaling: neither side scales, and 1000 is
    // 1000 (the SYN/ACK's 65160 stays the right edge).
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0).syn_options(7));
    c.reply(Seg::new(SYN | ACK, SI, CI + 1).window(65160));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    let tcp = c.tcp();
    assert_eq!((tcp.seen[0].scale, tcp.seen[1].scale), (0, 0));
    c.reply(Seg::new(ACK, SI + 1, CI + 1).window(1000));
    assert_eq!(c.tcp().seen[0].maxend, CI + 1 + 65160);
    c.ignored(
        Direction::Original,
        &Seg::new(ACK, CI + 100_001, SI + 1).data(100),
        Ignored::TcpOvershot,
    );
    c.invalid(
        Direction::Original,
        &Seg::new(ACK, CI + 200_001, SI + 1).data(100),
        Reason::TcpSeqOver,
    );
}

#[test]
fn window_scale_is_clamped_and_syn_windows_unscaled() {
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0).window(100).syn_options(20));
    assert_eq!(c.tcp().seen[0].scale, 14);
    // The SYN's window is never scaled.
    assert_eq!(c.tcp().seen[0].maxwin, 100);
    c.reply(Seg::new(SYN | ACK, SI, CI + 1).window(200).syn_options(14));
    assert_eq!(c.tcp().seen[1].maxwin, 200);
    c.orig(&Seg::new(ACK, CI + 1, SI + 1).window(1));
    assert_eq!(c.tcp().seen[0].maxwin, 1 << 14);
}

#[test]
fn sequence_numbers_wrap() {
    let ci = 0xffff_ff00u32;
    let (mut c, _) = Conn::open(&Seg::new(SYN, ci, 0));
    c.reply(Seg::new(SYN | ACK, SI, ci.wrapping_add(1)));
    c.orig(&Seg::new(ACK, ci.wrapping_add(1), SI + 1));
    // 1000 bytes across 2^32, in two segments.
    let mut seq = ci.wrapping_add(1);
    for _ in 0..2 {
        c.orig(&Seg::new(ACK | PSH, seq, SI + 1).data(500));
        seq = seq.wrapping_add(500);
        c.reply(Seg::new(ACK, SI + 1, seq));
    }
    assert_eq!(c.tcp().seen[0].end, ci.wrapping_add(1001));
    assert!(c.tcp().seen[0].end < 1000);
    // Out of window across the wrap as well.
    c.invalid(
        Direction::Reply,
        &Seg::new(ACK, SI + 1, seq.wrapping_add(1)).reply(),
        Reason::TcpAckOver,
    );
    c.invalid(
        Direction::Original,
        &Seg::new(ACK, seq.wrapping_add(300_000), SI + 1).data(10),
        Reason::TcpSeqOver,
    );
    c.orig(&Seg::new(FIN | ACK, seq, SI + 1));
    assert_eq!(c.state(), TcpState::FinWait);
}

#[test]
fn reopen_after_close() {
    // Closed by FINs: a new SYN from either side reopens.
    let mut c = established(None);
    c.orig(&Seg::new(FIN | ACK, CI + 1, SI + 1));
    c.reply(Seg::new(FIN | ACK, SI + 1, CI + 2));
    c.orig(&Seg::new(ACK, CI + 2, SI + 2));
    assert_eq!(c.state(), TcpState::TimeWait);
    assert_eq!(
        c.send(Direction::Original, &Seg::new(SYN, CI + 9000, 0)),
        Ok(Outcome::Reopen)
    );
    assert_eq!(
        c.send(Direction::Reply, &Seg::new(SYN, SI + 9000, 0).reply()),
        Ok(Outcome::Reopen)
    );

    // Aborted by the client: the client may start again.
    let mut c = established(None);
    c.orig(&Seg::new(RST, CI + 1, 0));
    assert_eq!(c.state(), TcpState::Close);
    assert_eq!(
        c.send(Direction::Original, &Seg::new(SYN, CI + 9000, 0)),
        Ok(Outcome::Reopen)
    );
}

#[test]
fn syn_after_server_reset_resyncs_on_syn_ack() {
    // The server aborted; the client's new SYN is only remembered...
    let mut c = established(Some(7));
    c.reply(Seg::new(RST, SI + 1, 0));
    assert_eq!(c.state(), TcpState::Close);
    let syn = Seg::new(SYN, 77_000, 0).syn_options(4);
    c.ignored(Direction::Original, &syn, Ignored::TcpState);
    assert_eq!(c.tcp().last_index, FlagClass::Syn);
    assert_eq!(c.tcp().last_wscale, 4);
    // ... until the server's SYN/ACK shows both ends agree on it.
    let u = c.reply(Seg::new(SYN | ACK, 88_000, 77_001).syn_options(3));
    assert_eq!(c.state(), TcpState::SynRecv);
    assert!(u.proto_changed);
    let tcp = c.tcp();
    assert_eq!(tcp.seen[0].end, 77_001);
    assert_eq!((tcp.seen[0].scale, tcp.seen[1].scale), (4, 3));
    c.orig(&Seg::new(ACK, 77_001, 88_001));
    assert_eq!(c.state(), TcpState::Established);
}

#[test]
fn syn_on_established_connection_then_syn_ack() {
    // Our entry is stale: the client started a new connection on the
    // same ports and the server agrees.
    let mut c = established(None);
    c.ignored(
        Direction::Original,
        &Seg::new(SYN, 500_000, 0),
        Ignored::TcpState,
    );
    assert_eq!(c.state(), TcpState::Established);
    c.reply(Seg::new(SYN | ACK, 900_000, 500_001));
    assert_eq!(c.state(), TcpState::SynRecv);
    c.orig(&Seg::new(ACK, 500_001, 900_001));
    assert_eq!(c.state(), TcpState::Established);
    // A SYN/ACK not answering the ignored SYN stays ignored.
    let mut c = established(None);
    c.ignored(
        Direction::Original,
        &Seg::new(SYN, 500_000, 0),
        Ignored::TcpState,
    );
    c.ignored(
        Direction::Reply,
        &Seg::new(SYN | ACK, 900_000, 12345).reply(),
        Ignored::TcpState,
    );
    assert_eq!(c.state(), TcpState::Established);
}

#[test]
fn rst_answering_ignored_syn_skips_window_check() {
    let mut c = established(None);
    c.ignored(
        Direction::Original,
        &Seg::new(SYN, 500_000, 0),
        Ignored::TcpState,
    );
    // The server refuses it with a RST acknowledging the SYN, whose
    // sequence number is nowhere near the window.
    c.reply(Seg::new(RST | ACK, 3_000_000_000, 500_001));
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn challenge_ack_in_last_ack() {
    let mut c = established(None);
    c.orig(&Seg::new(FIN | ACK, CI + 1, SI + 1));
    c.reply(Seg::new(FIN | ACK, SI + 1, CI + 2));
    assert_eq!(c.state(), TcpState::LastAck);
    // The client, having lost state, sends a SYN; the server answers with
    // an RFC 5961 challenge ACK, which is not the last ACK.
    c.ignored(
        Direction::Original,
        &Seg::new(SYN, 700_000, 0),
        Ignored::TcpState,
    );
    c.ignored(
        Direction::Reply,
        &Seg::new(ACK, SI + 2, CI + 2).reply(),
        Ignored::TcpChallengeAck,
    );
    assert_eq!(c.state(), TcpState::LastAck);
    // The real last ACK.
    c.orig(&Seg::new(ACK, CI + 2, SI + 2));
    assert_eq!(c.state(), TcpState::TimeWait);
}

#[test]
fn half_open_reply_ack_then_rst() {
    // The server answers our SYN with an ACK (it has a connection we do
    // not know of): ignored, and the ACK noted...
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    c.ignored(
        Direction::Reply,
        &Seg::new(ACK, 424_242, 999).reply(),
        Ignored::TcpState,
    );
    assert_eq!(c.tcp().last_ack, 999);
    assert_eq!(c.status & IPS_SEEN_REPLY, IPS_SEEN_REPLY);
    // ... so the client's RST answering that challenge ACK is in window.
    let r = c.send(Direction::Original, &Seg::new(RST, 999, 0));
    assert!(matches!(r, Ok(Outcome::Accept(_))), "{r:?}");
    assert_eq!(c.state(), TcpState::Close);
}

#[test]
fn retransmissions_cap_the_timeout() {
    let mut c = established(None);
    let ack = Seg::new(ACK, CI + 1, SI + 1);
    for n in 0..6 {
        let u = c.orig(&ack);
        let want = if n < 3 { 5 * DAY } else { 5 * MINUTE };
        assert_eq!(u.timeout, Some(want), "repeat {n}");
    }
    assert_eq!(c.tcp().retrans, 5);
    // Something new resets the count.
    let u = c.orig(&Seg::new(ACK, CI + 1, SI + 1).window(1000));
    assert_eq!(u.timeout, Some(5 * DAY));
    assert_eq!(c.tcp().retrans, 0);
}

#[test]
fn zero_window_caps_the_timeout() {
    let mut c = established(None);
    let u = c.reply(Seg::new(ACK, SI + 1, CI + 1).window(0));
    assert_eq!(u.timeout, Some(5 * MINUTE));
    let u = c.reply(Seg::new(ACK, SI + 1, CI + 1).window(10));
    assert_eq!(u.timeout, Some(5 * DAY));
    // Retransmissions count only when everything is the same.
    assert_eq!(c.tcp().retrans, 0);
}

#[test]
fn custom_caps_apply_in_order() {
    // Unacknowledged data with many retransmissions in CLOSE_WAIT (60 s):
    // the retransmission cap (90 s) does not apply, the data cap (20 s)
    // does.
    let mut config = Config::DEFAULT;
    config.timeouts.tcp_retrans = 90 * SECOND;
    config.timeouts.tcp_unack = 20 * SECOND;
    let (mut c, _) = Conn::try_open_with(&Seg::new(SYN, CI, 0), config).unwrap();
    c.reply(Seg::new(SYN | ACK, SI, CI + 1));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    c.reply(Seg::new(FIN | ACK, SI + 1, CI + 1));
    c.orig(&Seg::new(ACK, CI + 1, SI + 2));
    assert_eq!(c.state(), TcpState::CloseWait);
    let data = Seg::new(ACK | PSH, CI + 1, SI + 2).data(10);
    let mut last = None;
    for _ in 0..5 {
        last = c.orig(&data).timeout;
    }
    assert!(c.tcp().retrans >= 3);
    assert_eq!(last, Some(20 * SECOND));
}

#[test]
fn dead_connection_timeout_is_lowered() {
    let mut c = established(None);
    c.expires = c.now + 5 * DAY;
    // An out-of-window FIN from one side...
    let inv = c.invalid(
        Direction::Original,
        &Seg::new(FIN | ACK, CI + 3_000_000, SI + 1),
        Reason::TcpSeqOver,
    );
    assert_eq!(inv.lower_timeout, None);
    // ... and an out-of-window RST from the other: they disagree with us
    // about a dead connection. Keep it five minutes, not five days.
    let inv = c.invalid(
        Direction::Reply,
        &Seg::new(RST | ACK, SI + 3_000_000, CI + 1).reply(),
        Reason::TcpSeqOver,
    );
    assert_eq!(inv.lower_timeout, Some(5 * MINUTE));
    assert_eq!(c.expires, c.now + 5 * MINUTE);
    // Already short: nothing to lower.
    let inv = c.invalid(
        Direction::Original,
        &Seg::new(FIN | ACK, CI + 3_000_000, SI + 1),
        Reason::TcpSeqOver,
    );
    assert_eq!(inv.lower_timeout, None);
    // Not with a fixed timeout.
    let mut c = established(None);
    c.expires = c.now + 5 * DAY;
    c.status |= IPS_FIXED_TIMEOUT;
    c.invalid(
        Direction::Original,
        &Seg::new(FIN | ACK, CI + 3_000_000, SI + 1),
        Reason::TcpSeqOver,
    );
    let inv = c.invalid(
        Direction::Reply,
        &Seg::new(RST | ACK, SI + 3_000_000, CI + 1).reply(),
        Reason::TcpSeqOver,
    );
    assert_eq!(inv.lower_timeout, None);
    // And a fixed timeout is not refreshed by accepted packets either.
    let before = c.expires;
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    assert_eq!(c.expires, before);
}

#[test]
fn be_liberal() {
    let (mut c, _) = Conn::open(&Seg::new(SYN, CI, 0));
    c.config.tcp_be_liberal = true;
    c.reply(Seg::new(SYN | ACK, SI, CI + 1));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1));
    c.orig(&Seg::new(ACK, CI + 3_000_000, SI + 1).data(10));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1_000_000));
    // The state machine still applies.
    c.invalid(
        Direction::Reply,
        &Seg::new(SYN, SI, 0).reply(),
        Reason::TcpState,
    );
}

#[test]
fn sack_blocks_count_as_acks() {
    // With SACK permitted, a SACK block beyond what was sent is an ACK of
    // unsent data.
    let mut c = established(Some(0));
    c.reply(Seg::new(ACK | PSH, SI + 1, CI + 1).data(1000));
    let sack = |left: u32, right: u32| {
        let mut o = vec![5, 10];
        o.extend_from_slice(&left.to_be_bytes());
        o.extend_from_slice(&right.to_be_bytes());
        o
    };
    let seg = Seg::new(ACK, CI + 1, SI + 1).options(&sack(SI + 501, SI + 2001));
    c.invalid(Direction::Original, &seg, Reason::TcpAckOver);
    // Within what was sent, fine.
    c.orig(&Seg::new(ACK, CI + 1, SI + 1).options(&sack(SI + 501, SI + 1001)));
    // Without SACK permitted the blocks are not looked at.
    let mut c = established(None);
    c.reply(Seg::new(ACK | PSH, SI + 1, CI + 1).data(1000));
    c.orig(&Seg::new(ACK, CI + 1, SI + 1).options(&sack(SI + 501, SI + 2001)));
    // A SACK option of the wrong size is skipped.
    let mut c = established(Some(0));
    c.reply(Seg::new(ACK | PSH, SI + 1, CI + 1).data(1000));
    let mut bad = sack(SI + 501, SI + 2001);
    bad[1] = 9;
    bad.pop();
    c.orig(&Seg::new(ACK, CI + 1, SI + 1).options(&bad));
}

#[test]
fn malformed_options_are_harmless() {
    let cases: [(&[u8], u8, u8); 9] = [
        // (options, scale, flags)
        (&[3, 3, 9], 9, IP_CT_TCP_FLAG_WINDOW_SCALE),
        (&[4, 2], 0, IP_CT_TCP_FLAG_SACK_PERM),
        // End of list before the window scale.
        (&[0, 3, 3, 9], 0, 0),
        // A "silly" length stops parsing.
        (&[8, 0, 3, 3, 9], 0, 0),
        (&[8, 1, 3, 3, 9], 0, 0),
        // Window scale of the wrong length is ignored, parsing goes on.
        (&[3, 4, 9, 9, 4, 2], 0, IP_CT_TCP_FLAG_SACK_PERM),
        // Cut short.
        (&[4, 2, 3, 3], 0, IP_CT_TCP_FLAG_SACK_PERM),
        (&[4, 2, 3], 0, IP_CT_TCP_FLAG_SACK_PERM),
        // An option running past the end.
        (&[2, 40, 3, 3, 9], 0, 0),
    ];
    for (opts, scale, flags) in cases {
        let seg = Seg::new(SYN, CI, 0);
        let mut s = seg.segment();
        s.options = opts;
        let conn = TcpConn::new(&s, &Config::DEFAULT).unwrap();
        let peer = conn.seen[0];
        assert_eq!((peer.scale, peer.flags), (scale, flags), "{opts:?}");
    }
}

#[test]
fn states_and_classes() {
    for (v, s) in TcpState::ALL.iter().enumerate() {
        assert_eq!(*s as usize, v);
        assert_eq!(TcpState::from_u8(v as u8), Some(*s));
        assert!(!s.name().is_empty());
    }
    assert_eq!(TcpState::from_u8(10), None);
    assert_eq!(TcpState::SynSent2.name(), "SYN_SENT2");
    assert_eq!(FlagClass::of(RST | SYN | ACK), FlagClass::Rst);
    assert_eq!(FlagClass::of(SYN | FIN), FlagClass::Syn);
    assert_eq!(FlagClass::of(SYN | ACK | PSH), FlagClass::SynAck);
    assert_eq!(FlagClass::of(FIN | ACK), FlagClass::Fin);
    assert_eq!(FlagClass::of(ACK | PSH), FlagClass::Ack);
    assert_eq!(FlagClass::of(PSH), FlagClass::None);
    let early: Vec<TcpState> = TcpState::ALL
        .iter()
        .copied()
        .filter(|&s| {
            let mut c = TcpConn::new(&Seg::new(SYN, 1, 0).segment(), &Config::DEFAULT).unwrap();
            c.state = s;
            c.can_early_drop()
        })
        .collect();
    assert_eq!(
        early,
        [
            TcpState::FinWait,
            TcpState::CloseWait,
            TcpState::LastAck,
            TcpState::TimeWait,
            TcpState::Close
        ]
    );
}

#[test]
fn default_timeouts() {
    let t = Config::DEFAULT.timeouts;
    let want = [
        (TcpState::None, 120),
        (TcpState::SynSent, 120),
        (TcpState::SynRecv, 60),
        (TcpState::Established, 5 * 24 * 3600),
        (TcpState::FinWait, 120),
        (TcpState::CloseWait, 60),
        (TcpState::LastAck, 30),
        (TcpState::TimeWait, 120),
        (TcpState::Close, 10),
        (TcpState::SynSent2, 120),
    ];
    for (s, secs) in want {
        assert_eq!(t.tcp(s), secs * SECOND, "{s:?}");
    }
    assert_eq!(t.tcp_retrans, 300 * SECOND);
    assert_eq!(t.tcp_unack, 300 * SECOND);
    let c = Config::default();
    assert_eq!(c, Config::DEFAULT);
    assert!(c.tcp_loose && !c.tcp_be_liberal && !c.tcp_ignore_invalid_rst);
    assert_eq!(c.tcp_max_retrans, 3);
}

#[test]
fn tracker_with_peer_state_set_by_hand() {
    // Fields are public for the kernel side (ctnetlink may set them):
    // absurd values must not panic.
    let mut conn = TcpConn::new(&Seg::new(SYN, CI, 0).segment(), &Config::DEFAULT).unwrap();
    conn.seen = [TcpPeer {
        end: u32::MAX,
        maxend: 0,
        maxwin: u32::MAX,
        maxack: 7,
        scale: 200,
        flags: 0xff,
    }; 2];
    conn.retrans = u8::MAX;
    for state in TcpState::ALL {
        for flags in [ACK, SYN, SYN | ACK, FIN | ACK, RST, RST | ACK] {
            for dir in [Direction::Original, Direction::Reply] {
                let mut c = conn;
                c.state = state;
                let ctx = Ctx {
                    now: 0,
                    status: IPS_SEEN_REPLY | IPS_ASSURED,
                    expires: u64::MAX,
                    config: &Config::DEFAULT,
                };
                let seg = Seg::new(flags, 0x8000_0000, 0xffff_ffff).window(0xffff);
                let _ = c.packet(&seg.segment(), dir, &ctx);
                assert!(c.seen.iter().all(|p| p.maxwin != 0 || p.end == 0));
            }
        }
    }
    let _ = IP_CT_TCP_FLAG_MAXACK_SET;
}
