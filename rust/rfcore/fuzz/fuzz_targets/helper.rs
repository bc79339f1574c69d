// SPDX-License-Identifier: GPL-2.0

//! Fuzz the connection-tracking helpers: `rfcore::conntrack::helper::inspect`
//! on arbitrary payloads. Nothing may panic, and an expectation must be one
//! the kernel side can trust: of the helper's protocol, any source port, a
//! non-zero port, between the two ends of the master connection.
//!
//! Run with `cargo +nightly fuzz run helper` in `rust/rfcore/fuzz`.
//!
//! Input: one control byte (bit 0: TFTP instead of FTP; bit 1: the reply
//! direction; bit 2: the reply tuple's destination rewritten, as NAT
//! would), then the payload.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rfcore::conntrack::helper::{inspect, Expect, Helper, HelperError};
use rfcore::conntrack::{Direction, Tuple};

const CLIENT: [u8; 4] = [10, 0, 1, 1];
const SERVER: [u8; 4] = [10, 0, 2, 2];
const NATTED: [u8; 4] = [192, 168, 0, 1];

fuzz_target!(|input: &[u8]| {
    let Some((&control, payload)) = input.split_first() else {
        return;
    };
    let helper = if control & 1 == 0 {
        Helper::Ftp
    } else {
        Helper::Tftp
    };
    let dir = if control & 2 == 0 {
        Direction::Original
    } else {
        Direction::Reply
    };
    let orig = if helper == Helper::Ftp {
        Tuple::tcp(CLIENT, 40000, SERVER, 21)
    } else {
        Tuple::udp(CLIENT, 40000, SERVER, 69)
    };
    let mut reply = orig.invert().unwrap();
    if control & 4 != 0 {
        reply.daddr = NATTED;
    }
    let tuples = [orig, reply];
    let result = inspect(helper, payload, dir, &tuples);
    assert_eq!(result, inspect(helper, payload, dir, &tuples));

    if let Ok(Some(e)) = result {
        check_expect(&e, helper, dir, &tuples);
    }
    match helper {
        Helper::Tftp => {
            assert!(!matches!(result, Err(_)));
            if dir == Direction::Reply {
                assert_eq!(result, Ok(None));
            }
        }
        Helper::Ftp => {
            // Nothing without a line that may start a command or reply.
            let starts = |l: &[u8]| match dir {
                Direction::Original => {
                    matches!(l.first(), Some(b'P' | b'p' | b'E' | b'e'))
                }
                Direction::Reply => l.first() == Some(&b'2'),
            };
            if !payload.split(|&b| b == b'\n').any(starts) {
                assert_eq!(result, Ok(None));
            }
            if result == Err(HelperError::NotIpv4) {
                assert_eq!(dir, Direction::Original);
            }
            // A complete line that is no command does not change the
            // result; the last line decides, so appending a command
            // line makes it the result.
            if payload.last() == Some(&b'\n') || payload.is_empty() {
                let mut more = payload.to_vec();
                more.extend_from_slice(match dir {
                    Direction::Original => b"NOOP\r\n",
                    Direction::Reply => b"200 OK\r\n",
                });
                assert_eq!(inspect(helper, &more, dir, &tuples), result);
                let mut more = payload.to_vec();
                more.extend_from_slice(match dir {
                    Direction::Original => b"PORT 10,0,1,1,19,136\r\n",
                    Direction::Reply => b"229 (|||5000|)\r\n",
                });
                let last = inspect(helper, &more, dir, &tuples);
                assert!(matches!(last, Ok(Some(e)) if e.dport == 5000));
            }
        }
    }
});

/// What every expectation must be.
fn check_expect(e: &Expect, helper: Helper, dir: Direction, tuples: &[Tuple; 2]) {
    assert_eq!(e.protocol, helper.protocol());
    assert_eq!(e.sport, None);
    assert_ne!(e.dport, 0);
    let back = &tuples[dir.opposite().index()];
    match helper {
        Helper::Ftp => {
            // From the peer to the sender: never a third host.
            assert_eq!((e.saddr, e.daddr), (back.saddr, back.daddr));
        }
        Helper::Tftp => {
            assert_eq!(dir, Direction::Original);
            let r = &tuples[1];
            assert_eq!((e.saddr, e.daddr, e.dport), (r.saddr, r.daddr, r.dport));
        }
    }
    let mut t = *back;
    t.protocol = e.protocol;
    t.dport = e.dport;
    t.sport = 1234;
    assert!(e.matches(&t));
    t.saddr = [1, 2, 3, 4];
    assert!(!e.matches(&t));
}
