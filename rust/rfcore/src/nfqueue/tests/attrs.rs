// SPDX-License-Identifier: GPL-2.0

//! Attribute tables, message framing and the /proc line.

extern crate std;

use std::string::ToString;
use std::vec;
use std::vec::Vec;

use super::super::attrs::{Policy, Table, CFG_TABLE, CONFIG_POLICY, NFQA_TABLE, VERDICT_POLICY};
use super::super::consts::*;
use super::super::msg::{parse_error, parse_request, Builder, NfGenMsg, NlMsgHeader};
use super::super::procfmt::ProcLine;
use super::super::Errno;
use super::{attr, be32, request, Rng};

#[test]
fn policy_lengths() {
    assert!(Policy::Any.accepts(0));
    assert!(!Policy::MinLen(8).accepts(7));
    assert!(Policy::MinLen(8).accepts(8));
    assert!(Policy::MinLen(8).accepts(100));
    assert!(!Policy::U32.accepts(3));
    assert!(Policy::U32.accepts(4));
    // Longer than the type is only a warning in the kernel.
    assert!(Policy::U32.accepts(8));
    assert!(!Policy::U16.accepts(1));
    assert!(Policy::Nested.accepts(0));
    assert!(!Policy::Nested.accepts(3));
    assert!(Policy::Nested.accepts(4));
    assert!(Policy::MaxLen(16).accepts(16));
    assert!(!Policy::MaxLen(16).accepts(17));
}

#[test]
fn table_is_liberal_like_nla_parse_deprecated() {
    // Type 0 and types above the maximum are skipped, flags are masked,
    // the last of two wins.
    let run = [
        attr(0, &[1, 2, 3]),
        be32(NFQA_CFG_QUEUE_MAXLEN, 1),
        attr(200, &[]),
        attr(NFQA_CFG_MASK | 0x4000, &7u32.to_be_bytes()),
        be32(NFQA_CFG_QUEUE_MAXLEN, 2),
    ]
    .concat();
    let tb = Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY).unwrap();
    assert_eq!(tb.be32(NFQA_CFG_QUEUE_MAXLEN), Some(2));
    assert_eq!(tb.be32(NFQA_CFG_MASK), Some(7));
    assert!(!tb.has(NFQA_CFG_FLAGS));
    assert_eq!(tb.get(0), None);
    assert_eq!(tb.get(200), None);

    // A malformed attribute ends the walk silently; what came before
    // counts, what comes after does not.
    let mut run = be32(NFQA_CFG_QUEUE_MAXLEN, 9);
    run.extend_from_slice(&[3, 0, 4, 0]); // nla_len 3 < 4
    run.extend(be32(NFQA_CFG_MASK, 1));
    let tb = Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY).unwrap();
    assert_eq!(tb.be32(NFQA_CFG_QUEUE_MAXLEN), Some(9));
    assert!(!tb.has(NFQA_CFG_MASK));
    // Leftover bytes too short for a header.
    let mut run = be32(NFQA_CFG_MASK, 1);
    run.extend_from_slice(&[1, 2]);
    assert!(Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY)
        .unwrap()
        .has(NFQA_CFG_MASK));
    // An attribute longer than what is left.
    let run = [40, 0, 3, 0, 0, 0, 0, 1];
    assert!(!Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY)
        .unwrap()
        .has(NFQA_CFG_QUEUE_MAXLEN));
}

#[test]
fn table_policy_errors_are_erange() {
    for (kind, len) in [
        (NFQA_CFG_CMD, 3),
        (NFQA_CFG_PARAMS, 4),
        (NFQA_CFG_QUEUE_MAXLEN, 3),
        (NFQA_CFG_MASK, 0),
        (NFQA_CFG_FLAGS, 2),
    ] {
        let run = attr(kind, &vec![0; len]);
        assert_eq!(
            Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY),
            Err(Errno::Range),
            "{kind}"
        );
    }
    // The policy error comes even after a good attribute.
    let run = [be32(NFQA_CFG_MASK, 1), attr(NFQA_CFG_FLAGS, &[0])].concat();
    assert_eq!(
        Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY),
        Err(Errno::Range)
    );
    // Verdict: a 7-byte header, a 0..3-byte nest.
    let run = attr(NFQA_VERDICT_HDR, &[0; 7]);
    assert_eq!(
        Table::<NFQA_TABLE>::parse(&run, &VERDICT_POLICY),
        Err(Errno::Range)
    );
    let run = attr(NFQA_VLAN, &[0; 3]);
    assert_eq!(
        Table::<NFQA_TABLE>::parse(&run, &VERDICT_POLICY),
        Err(Errno::Range)
    );
    assert!(Table::<NFQA_TABLE>::parse(&attr(NFQA_VLAN, &[]), &VERDICT_POLICY).is_ok());
}

#[test]
fn table_from_fn_matches_parse() {
    let run = [
        be32(NFQA_CFG_QUEUE_MAXLEN, 5),
        attr(NFQA_CFG_PARAMS, &[0, 0, 0, 9, 2]),
    ]
    .concat();
    let parsed = Table::<CFG_TABLE>::parse(&run, &CONFIG_POLICY).unwrap();
    let filled = Table::<CFG_TABLE>::from_fn(&CONFIG_POLICY, |t| parsed.get(t)).unwrap();
    assert_eq!(parsed, filled);
    // The policy is checked again.
    let short = [0u8; 2];
    assert_eq!(
        Table::<CFG_TABLE>::from_fn(&CONFIG_POLICY, |t| (t == NFQA_CFG_MASK)
            .then_some(&short[..])),
        Err(Errno::Range)
    );
}

#[test]
fn table_random_input_never_panics() {
    let mut rng = Rng::new(11);
    for _ in 0..20_000 {
        let n = rng.below(64);
        let mut data = rng.bytes(n);
        // Plausible lengths now and then.
        if n >= 2 && rng.below(2) == 0 {
            data[0] = (rng.below(n + 4)) as u8;
            data[1] = 0;
        }
        let _ = Table::<CFG_TABLE>::parse(&data, &CONFIG_POLICY);
        let _ = Table::<NFQA_TABLE>::parse(&data, &VERDICT_POLICY);
    }
}

#[test]
fn request_framing() {
    let attrs = be32(NFQA_CFG_QUEUE_MAXLEN, 3);
    let msg = request(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, 513, &attrs);
    let r = parse_request(&msg).unwrap().unwrap();
    assert_eq!(r.msg, NFQNL_MSG_CONFIG);
    assert_eq!(r.nfgen.res_id, 513);
    assert_eq!(r.header.seq, 7);
    assert_eq!(r.attrs, &attrs[..]);
    assert_eq!(r.next, msg.len());

    // Ignored: too short, a length beyond the buffer, not a request,
    // a control message, less than an nfgenmsg.
    assert_eq!(parse_request(&msg[..15]), Ok(None));
    assert_eq!(parse_request(&msg[..msg.len() - 1]), Ok(None));
    let set_kind = |m: &mut Vec<u8>, kind: u16| m[4..6].copy_from_slice(&kind.to_ne_bytes());
    let mut m = msg.clone();
    m[6..8].copy_from_slice(&NLM_F_ACK.to_ne_bytes());
    assert_eq!(parse_request(&m), Ok(None));
    let mut m = msg.clone();
    set_kind(&mut m, NLMSG_MIN_TYPE - 1);
    assert_eq!(parse_request(&m), Ok(None));
    let mut m = msg[..19].to_vec();
    m[..4].copy_from_slice(&19u32.to_ne_bytes());
    assert_eq!(parse_request(&m), Ok(None));

    // Not the queue's, or a type it does not have.
    let mut m = msg.clone();
    set_kind(&mut m, 0x0102);
    assert_eq!(parse_request(&m), Err(Errno::Inval));
    let mut m = msg.clone();
    set_kind(&mut m, msg_type(NFQNL_MSG_MAX));
    assert_eq!(parse_request(&m), Err(Errno::Inval));
    // PACKET is a type of the queue (refused later with ENOTSUPP).
    let m = request(NFQNL_MSG_PACKET, NLM_F_REQUEST, 0, &[]);
    assert_eq!(parse_request(&m).unwrap().unwrap().msg, NFQNL_MSG_PACKET);

    // Two messages in one buffer, the first with an unaligned length.
    let first = request(NFQNL_MSG_VERDICT, NLM_F_REQUEST, 1, &[4, 0, 1]);
    let mut both = first.clone();
    both.push(0);
    both.extend(&msg);
    let r = parse_request(&both).unwrap().unwrap();
    assert_eq!(r.attrs, &[4, 0, 1]);
    assert_eq!(r.next, 24);
    let r2 = parse_request(&both[r.next..]).unwrap().unwrap();
    assert_eq!(r2.nfgen.res_id, 513);
}

#[test]
fn header_round_trips() {
    let h = NlMsgHeader {
        len: 0x0102_0304,
        kind: 0x0301,
        flags: 5,
        seq: 99,
        pid: 1234,
    };
    assert_eq!(NlMsgHeader::read(&h.to_bytes()), Some(h));
    assert_eq!(NlMsgHeader::read(&[0; 15]), None);
    let g = NfGenMsg {
        family: 2,
        version: 0,
        res_id: 0xabcd,
    };
    assert_eq!(g.to_bytes(), [2, 0, 0xab, 0xcd]);
    assert_eq!(NfGenMsg::read(&g.to_bytes()), Some(g));
    assert_eq!(NfGenMsg::read(&[1, 2, 3]), None);
}

#[test]
fn builder_writes_headers_and_length() {
    let mut buf = [0xeeu8; 64];
    let mut b = Builder::new(&mut buf, NFQNL_MSG_CONFIG, NLM_F_REQUEST, 42, 0, 7).unwrap();
    b.attrs().put_bytes(NFQA_CFG_MASK, &[0, 0, 0, 1]).unwrap();
    b.add_trailing(3);
    assert_eq!(b.finish(), Ok(28));
    let h = NlMsgHeader::read(&buf).unwrap();
    assert_eq!(h.len, 31);
    assert_eq!(h.kind, 0x0302);
    assert_eq!(h.flags, NLM_F_REQUEST);
    assert_eq!(h.seq, 42);
    assert_eq!(h.pid, 0);
    assert_eq!(&buf[16..20], &[0, 0, 0, 7]);
    assert_eq!(Builder::attrs_offset(), 20);
    for n in 0..20 {
        let mut small = vec![0u8; n];
        assert!(Builder::new(&mut small, 0, 0, 0, 0, 0).is_err());
    }
}

#[test]
fn error_messages() {
    let mut m: Vec<u8> = Vec::new();
    m.extend_from_slice(&36u32.to_ne_bytes());
    m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
    m.extend_from_slice(&[0; 10]);
    m.extend_from_slice(&(-16i32).to_ne_bytes());
    m.extend_from_slice(&[0; 16]);
    assert_eq!(parse_error(&m), Some(-16));
    m[16..20].copy_from_slice(&0i32.to_ne_bytes());
    assert_eq!(parse_error(&m), Some(0));
    m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    assert_eq!(parse_error(&m), None);
    assert_eq!(parse_error(&m[..10]), None);
}

#[test]
fn proc_line_is_upstreams() {
    let line = ProcLine {
        queue: 0,
        portid: 4242,
        waiting: 3,
        copy_mode: 2,
        copy_range: 65531,
        dropped: 0,
        user_dropped: 1,
        id_sequence: 12,
    };
    // seq_printf "%5u %6u %5u %1u %5u %5u %5u %8u %2d\n".
    assert_eq!(
        line.to_string(),
        "    0   4242     3 2 65531     0     1       12  1\n"
    );
    let wide = ProcLine {
        queue: 65535,
        portid: u32::MAX,
        id_sequence: u32::MAX,
        ..ProcLine::default()
    };
    assert_eq!(
        wide.to_string(),
        "65535 4294967295     0 0     0     0     0 4294967295  1\n"
    );
}
