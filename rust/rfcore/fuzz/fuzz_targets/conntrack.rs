// SPDX-License-Identifier: GPL-2.0

//! Fuzz connection tracking: `rfcore::conntrack::tuple::from_packet` and
//! `new_connection` on arbitrary packet bytes, then a TCP tracker driven
//! through an arbitrary sequence of segments. Nothing may panic, and what
//! comes back must satisfy the invariants the kernel side relies on.
//!
//! Run with `cargo +nightly fuzz run conntrack` in `rust/rfcore`.
//!
//! Input: one byte `n`, then `n` bytes of packet, then a configuration
//! byte, then steps. Each step is 15 bytes followed by 0 to 40 option
//! bytes:
//!
//! ```text
//! 0      control: bit 0 direction (reply if set), bit 1 sequence number
//!        relative to what the sender sent last, bit 2 ACK relative to
//!        what the receiver sent last, bits 3-5 how much time passes
//! 1      TCP flags
//! 2..6   sequence number, or signed offset
//! 6..10  ACK, or signed offset
//! 10..12 window
//! 12..14 data length
//! 14     option length (modulo 41), the options follow
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::conntrack::status::{IPS_ASSURED, IPS_FIXED_TIMEOUT, IPS_SEEN_REPLY};
use rfcore::conntrack::tcp::{TcpConn, TcpSegment, TcpState, TCP_MAX_WSCALE};
use rfcore::conntrack::tuple::{self, bucket, Lookup};
use rfcore::conntrack::{
    new_connection, Config, Ctx, Direction, Invalid, Outcome, ProtoState, SECOND,
};
use rfcore::packet::{self, TcpHeader, Transport};

/// The tuple and first-packet paths on arbitrary bytes.
fn packet_paths(data: &[u8], config: &Config) {
    let Ok(p) = packet::parse(data, data.len()) else {
        return;
    };
    match tuple::from_packet(&p, data) {
        Ok(Lookup::Conn(t)) => {
            assert_eq!((t.saddr, t.daddr), (p.ip.saddr, p.ip.daddr));
            assert_eq!(t.protocol, p.ip.protocol);
            if let Some(r) = t.invert() {
                assert_eq!(r.invert(), Some(t));
                assert_eq!((r.saddr, r.daddr), (t.daddr, t.saddr));
            }
            let h = t.hash(0x1234_5678);
            assert!(bucket(h, 4096) < 4096);
        }
        Ok(Lookup::Related(t)) => {
            // The error goes back to the quoted packet's sender, and the
            // quoted packet's tuple is the lookup tuple's inverse.
            assert_eq!(t.daddr, p.ip.daddr);
            let quoted = t.invert().expect("related tuples are invertible");
            assert_eq!(quoted.invert(), Some(t));
            assert!(matches!(p.transport, Transport::Icmp(i) if i.is_error()));
        }
        Err(_) => {}
    }
    // Whatever the packet, tracking it as a first packet and again in
    // either direction stays sane.
    let Ok((mut proto, timeout)) = new_connection(&p, data, 0, config) else {
        return;
    };
    assert!(timeout <= 5 * 24 * 3600 * SECOND);
    for (k, dir) in [Direction::Original, Direction::Reply].into_iter().enumerate() {
        let ctx = Ctx {
            now: k as u64 * SECOND,
            status: IPS_SEEN_REPLY,
            expires: timeout,
            config,
        };
        let _ = proto.packet(&p, data, dir, &ctx);
    }
    if let ProtoState::Tcp(c) = proto {
        check_conn(&c);
    }
}

/// Invariants of any TCP entry.
fn check_conn(c: &TcpConn) {
    for peer in &c.seen {
        assert!(peer.scale <= TCP_MAX_WSCALE);
    }
    assert_eq!(TcpState::from_u8(c.state as u8), Some(c.state));
}

/// Read a big-endian u32 at `at`.
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The packet bytes of a segment from C to S (or back), so that the
/// parser's view can be compared with the segment's.
fn segment_bytes(seg: &TcpSegment<'_>, dir: Direction) -> Vec<u8> {
    let h = &seg.header;
    let mut t = Vec::new();
    t.extend_from_slice(&h.sport.to_be_bytes());
    t.extend_from_slice(&h.dport.to_be_bytes());
    t.extend_from_slice(&h.seq.to_be_bytes());
    t.extend_from_slice(&h.ack.to_be_bytes());
    t.push(((h.header_len / 4) as u8) << 4);
    t.push(h.flags);
    t.extend_from_slice(&h.window.to_be_bytes());
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(seg.options);
    t.resize(t.len() + seg.data_len as usize, 0);
    let (src, dst) = match dir {
        Direction::Original => ([10, 0, 0, 1], [10, 0, 0, 2]),
        Direction::Reply => ([10, 0, 0, 2], [10, 0, 0, 1]),
    };
    let total = (20 + t.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&t);
    p
}

fuzz_target!(|input: &[u8]| {
    let Some((&n, rest)) = input.split_first() else {
        return;
    };
    let (pkt, rest) = rest.split_at(usize::from(n).min(rest.len()));
    let Some((&cfg, mut steps)) = rest.split_first() else {
        return;
    };
    let mut config = Config::DEFAULT;
    config.tcp_loose = cfg & 1 != 0;
    config.tcp_be_liberal = cfg & 2 != 0;
    config.tcp_ignore_invalid_rst = cfg & 4 != 0;
    config.tcp_max_retrans = cfg >> 5;
    if cfg & 8 != 0 {
        config.timeouts.tcp_time_wait = SECOND;
        config.timeouts.tcp_unack = 20 * SECOND;
    }
    let fixed = if cfg & 16 != 0 { IPS_FIXED_TIMEOUT } else { 0 };

    packet_paths(pkt, &config);

    // The TCP tracker: the entry as the kernel side keeps it.
    let mut conn: Option<TcpConn> = None;
    let mut status = fixed;
    let mut now = 0u64;
    let mut expires = 0u64;
    while let Some(step) = steps.get(..15) {
        let opt_len = usize::from(step[14]) % 41;
        let Some(options) = steps.get(15..15 + opt_len) else {
            break;
        };
        steps = &steps[15 + opt_len..];

        let ctl = step[0];
        let dir = if ctl & 1 != 0 {
            Direction::Reply
        } else {
            Direction::Original
        };
        now += [0, 1, 10, 100, 1000, 2000, 60_000, 600_000][usize::from(ctl >> 3 & 7)];
        let (sender_end, receiver_end) = match &conn {
            Some(c) => (c.seen[dir.index()].end, c.seen[dir.opposite().index()].end),
            None => (0, 0),
        };
        let seq = if ctl & 2 != 0 {
            sender_end.wrapping_add(be32(step, 2))
        } else {
            be32(step, 2)
        };
        let ack = if ctl & 4 != 0 {
            receiver_end.wrapping_add(be32(step, 6))
        } else {
            be32(step, 6)
        };
        // Options are padded to whole words, as in a real header.
        let mut opts = options.to_vec();
        opts.resize(opt_len.div_ceil(4) * 4, 0);
        let (sport, dport) = match dir {
            Direction::Original => (40000, 80),
            Direction::Reply => (80, 40000),
        };
        let seg = TcpSegment {
            header: TcpHeader {
                sport,
                dport,
                seq,
                ack,
                header_len: 20 + opts.len(),
                flags: step[1],
                window: u16::from_be_bytes([step[10], step[11]]),
            },
            options: &opts,
            data_len: u32::from(u16::from_be_bytes([step[12], step[13]])),
        };

        // The parser sees the same segment in the packet.
        if seg.data_len < 1500 {
            let bytes = segment_bytes(&seg, dir);
            let p = packet::parse(&bytes, bytes.len()).expect("built segment parses");
            assert_eq!(TcpSegment::from_packet(&p, &bytes), Some(seg));
        }

        let Some(c) = conn.as_mut() else {
            // No entry: this segment may open one, in the original
            // direction.
            if let Ok(mut c) = TcpConn::new(&seg, &config) {
                let ctx = Ctx {
                    now,
                    status: fixed,
                    expires: now,
                    config: &config,
                };
                match c.packet(&seg, Direction::Original, &ctx) {
                    Ok(Outcome::Accept(u)) => {
                        assert!(u.timeout.is_some());
                        assert_eq!(u.set_status, 0);
                        assert!(!u.kill);
                        status = fixed;
                        expires = u.expires(now, status, now);
                        check_conn(&c);
                        conn = Some(c);
                    }
                    other => panic!("a new connection's first packet: {other:?}"),
                }
            }
            continue;
        };
        if expires <= now {
            // The timer fired.
            conn = None;
            continue;
        }
        let before = *c;
        let ctx = Ctx {
            now,
            status,
            expires,
            config: &config,
        };
        match c.packet(&seg, dir, &ctx) {
            Ok(Outcome::Accept(u)) => {
                if u.ignored.is_some() {
                    assert_eq!(u.timeout, None);
                    assert_eq!(c.state, before.state);
                    assert!(!u.kill && u.set_status == 0);
                }
                if let Some(t) = u.timeout {
                    assert!(t <= config.timeouts.tcp(c.state), "{t} in {:?}", c.state);
                }
                assert_eq!(u.set_status & !IPS_ASSURED, 0);
                if u.set_status != 0 {
                    assert_eq!(c.state, TcpState::Established);
                    assert_ne!(status & IPS_SEEN_REPLY, 0);
                }
                if u.kill {
                    assert_eq!(status & IPS_SEEN_REPLY, 0);
                    assert!(seg.header.has(TcpHeader::RST));
                }
                expires = u.expires(now, status, expires);
                status |= u.set_status;
                if dir == Direction::Reply {
                    status |= IPS_SEEN_REPLY;
                }
                if u.kill {
                    conn = None;
                    status = fixed;
                }
            }
            Ok(Outcome::Reopen) => {
                assert!(matches!(before.state, TcpState::TimeWait | TcpState::Close));
                assert!(seg.header.has(TcpHeader::SYN) && !seg.header.has(TcpHeader::ACK));
                assert_eq!(*c, before);
                conn = None;
                status = fixed;
            }
            Err(Invalid {
                reason: _,
                lower_timeout,
            }) => {
                assert_eq!(c.state, before.state);
                if let Some(t) = lower_timeout {
                    assert_eq!(t, config.timeouts.tcp_unack);
                    assert_eq!(fixed, 0);
                    assert!(t < expires - now);
                    expires = now + t;
                }
            }
        }
        if let Some(c) = &conn {
            check_conn(c);
        }
    }
});
