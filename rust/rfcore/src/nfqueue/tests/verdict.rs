// SPDX-License-Identifier: GPL-2.0

//! Verdicts, batch verdicts, packet ids and reinjection decisions.

extern crate std;

use std::collections::VecDeque;
use std::vec::Vec;

use super::super::consts::*;
use super::super::msg::parse_request;
use super::super::verdict::{
    after_ct_update, after_hook, batch_takes, check_listener, check_mangle, check_verdict,
    decode_ct_mark, encode_batch, encode_verdict, finish, id_after, next_id, parse_batch,
    parse_verdict, queue_verdict, reinject, wants_ct_update, BatchRequest, CtMark, Reinject, Step,
    VerdictRequest,
};
use super::super::Errno;
use super::{attr, be32, nest, request};

/// `NFQA_VERDICT_HDR` with `verdict` and `id`.
fn hdr(verdict: u32, id: u32) -> Vec<u8> {
    attr(
        NFQA_VERDICT_HDR,
        &[verdict.to_be_bytes(), id.to_be_bytes()].concat(),
    )
}

#[test]
fn allowed_verdicts() {
    for v in [NF_DROP, NF_ACCEPT, NF_QUEUE, NF_REPEAT, NF_STOP] {
        assert_eq!(check_verdict(v), Ok(()), "{v}");
    }
    for v in [NF_STOLEN, 6, 0x7f, 0xff, 0x1234_5602] {
        assert_eq!(check_verdict(v), Err(Errno::Inval), "{v:#x}");
    }
    // The upper bits pass: a queue number, the bypass flag, anything.
    assert_eq!(check_verdict(queue_verdict(7, true)), Ok(()));
    assert_eq!(check_verdict(0xffff_ff01), Ok(()));
}

#[test]
fn listener_checks_come_first() {
    assert_eq!(check_listener(None, 1), Err(Errno::NoDev));
    assert_eq!(check_listener(Some(2), 1), Err(Errno::Perm));
    assert_eq!(check_listener(Some(1), 1), Ok(()));
}

#[test]
fn decode_a_plain_verdict() {
    let run = hdr(NF_ACCEPT, 17);
    let v = parse_verdict(&run).unwrap();
    assert_eq!(
        v,
        VerdictRequest {
            verdict: NF_ACCEPT,
            id: 17,
            mark: None,
            priority: None,
            payload: None,
            ct_mark: None,
        }
    );
}

#[test]
fn decode_a_verdict_with_everything() {
    let payload = [0x45u8, 0, 0, 20, 1, 2, 3];
    let run = [
        hdr(queue_verdict(3, true), 0xffff_fffe),
        be32(NFQA_MARK, 0xdead_beef),
        be32(NFQA_PRIORITY, 6),
        attr(NFQA_PAYLOAD, &payload),
        nest(NFQA_CT, &[be32(CTA_MARK, 42), be32(CTA_MARK_MASK, 0xff)]),
    ]
    .concat();
    let v = parse_verdict(&run).unwrap();
    assert_eq!(v.verdict, (3 << 16) | 0x8000 | NF_QUEUE);
    assert_eq!(v.id, 0xffff_fffe);
    assert_eq!(v.mark, Some(0xdead_beef));
    assert_eq!(v.priority, Some(6));
    assert_eq!(v.payload, Some(&payload[..]));
    assert_eq!(
        v.ct_mark,
        Some(CtMark {
            mark: 42,
            mask: Some(0xff)
        })
    );
}

#[test]
fn verdict_header_errors() {
    // Missing: EINVAL. Too short: ERANGE from the policy. Longer: fine.
    assert_eq!(parse_verdict(&be32(NFQA_MARK, 1)), Err(Errno::Inval));
    assert_eq!(parse_verdict(&[]), Err(Errno::Inval));
    assert_eq!(
        parse_verdict(&attr(NFQA_VERDICT_HDR, &[0, 0, 0, 1, 0, 0, 0])),
        Err(Errno::Range)
    );
    let long = attr(NFQA_VERDICT_HDR, &[0, 0, 0, 1, 0, 0, 0, 9, 0xaa, 0xbb]);
    assert_eq!(parse_verdict(&long).map(|v| (v.verdict, v.id)), Ok((1, 9)));
    assert_eq!(parse_verdict(&hdr(NF_STOLEN, 1)), Err(Errno::Inval));
    assert_eq!(parse_verdict(&hdr(6, 1)), Err(Errno::Inval));
    // A mark of 3 bytes fails the policy even with a good header.
    assert_eq!(
        parse_verdict(&[hdr(NF_ACCEPT, 1), attr(NFQA_MARK, &[1, 2, 3])].concat()),
        Err(Errno::Range)
    );
}

#[test]
fn the_debian_example_verdict_with_nfqa_ct_is_accepted() {
    // nf-queue.c: nfq_nlmsg_verdict_put(nlh, id, NF_ACCEPT); then a nest
    // NFQA_CT with CTA_MARK = htonl(42).
    let run = [hdr(NF_ACCEPT, 5), nest(NFQA_CT, &[be32(CTA_MARK, 42)])].concat();
    let v = parse_verdict(&run).unwrap();
    assert_eq!(v.verdict, NF_ACCEPT);
    assert_eq!(
        v.ct_mark,
        Some(CtMark {
            mark: 42,
            mask: None
        })
    );
    // Without the nested flag, as liberal parsing allows.
    let run = [hdr(NF_ACCEPT, 5), attr(NFQA_CT, &be32(CTA_MARK, 42))].concat();
    assert_eq!(
        parse_verdict(&run).unwrap().ct_mark,
        Some(CtMark {
            mark: 42,
            mask: None
        })
    );
}

#[test]
fn a_bad_nfqa_ct_is_ignored_not_refused() {
    // CTA_STATUS of 2 bytes fails ct_nla_policy: the nest is ignored, as
    // upstream ignores a failed parse, and the verdict stands.
    for bad in [
        nest(NFQA_CT, &[be32(CTA_MARK, 42), attr(3, &[0, 1])]),
        nest(NFQA_CT, &[attr(CTA_MARK, &[0, 0, 42])]),
        nest(NFQA_CT, &[attr(22, &[0; 17])]),
        nest(NFQA_CT, &[be32(7, 100)]),
        attr(NFQA_CT, &[1, 2, 3]),
    ] {
        let run = [hdr(NF_DROP, 1), bad].concat();
        let v = parse_verdict(&run).unwrap();
        assert_eq!(v.ct_mark, None);
        assert_eq!(v.verdict, NF_DROP);
    }
    assert_eq!(decode_ct_mark(&[]), None);
}

#[test]
fn ct_mark_as_ctnetlink_changes_it() {
    let m = CtMark {
        mark: 42,
        mask: None,
    };
    assert_eq!(m.apply(0xffff_ffff), 42);
    let m = CtMark {
        mark: 0x0000_0042,
        mask: Some(0x0000_00ff),
    };
    // (old & ~mask) ^ mark.
    assert_eq!(m.apply(0x1234_5678), 0x1234_5600 ^ 0x42);
    let m = CtMark {
        mark: 0x1,
        mask: Some(0),
    };
    assert_eq!(m.apply(0x1), 0x0);
}

#[test]
fn batch_verdicts() {
    let b = parse_batch(
        &[
            hdr(NF_ACCEPT, 10),
            be32(NFQA_MARK, 3),
            be32(NFQA_PRIORITY, 4),
            // Not part of a batch: neither used nor checked.
            attr(NFQA_PAYLOAD, &[1]),
            attr(NFQA_VLAN, &[1]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(
        b,
        BatchRequest {
            verdict: NF_ACCEPT,
            max_id: 10,
            mark: Some(3),
            priority: Some(4)
        }
    );
    assert_eq!(parse_batch(&[]), Err(Errno::Inval));
    assert_eq!(parse_batch(&hdr(NF_STOLEN, 1)), Err(Errno::Inval));
    assert_eq!(
        parse_batch(&[hdr(NF_DROP, 1), attr(NFQA_PRIORITY, &[0])].concat()),
        Err(Errno::Range)
    );
}

#[test]
fn ids_start_at_one_and_wrap() {
    assert_eq!(next_id(0), 1);
    assert_eq!(next_id(41), 42);
    assert_eq!(next_id(u32::MAX), 0);
}

#[test]
fn id_order_is_wrap_safe() {
    assert!(id_after(2, 1));
    assert!(!id_after(1, 1));
    assert!(!id_after(1, 2));
    assert!(id_after(0, u32::MAX));
    assert!(id_after(5, 0xffff_fff0));
    assert!(!id_after(0xffff_fff0, 5));
    // Half the space ahead is "after", the other half "before".
    assert!(id_after(0x7fff_ffff, 0));
    assert!(!id_after(0x8000_0000, 0));
    assert!(batch_takes(1, 1));
    assert!(batch_takes(u32::MAX, 3));
    assert!(!batch_takes(4, 3));
}

/// Queue `n` packets with ids from after `seq`, then apply a batch up to
/// `max`: the ids the kernel takes (from the head, while not after max).
fn batch(seq: u32, n: u32, max: u32) -> (Vec<u32>, Vec<u32>) {
    let mut q = VecDeque::new();
    let mut s = seq;
    for _ in 0..n {
        s = next_id(s);
        q.push_back(s);
    }
    let mut taken = Vec::new();
    while let Some(&id) = q.front() {
        if !batch_takes(id, max) {
            break;
        }
        taken.push(id);
        q.pop_front();
    }
    (taken, q.into_iter().collect())
}

#[test]
fn batch_across_the_wrap() {
    // Ids 0xfffffffe, 0xffffffff, 0, 1, 2; up to 0 takes three.
    let (taken, left) = batch(0xffff_fffd, 5, 0);
    assert_eq!(taken, [0xffff_fffe, 0xffff_ffff, 0]);
    assert_eq!(left, [1, 2]);
    // Up to the last takes all, up to one before the first none.
    assert_eq!(batch(0xffff_fffd, 5, 2).1, []);
    assert_eq!(batch(0xffff_fffd, 5, 0xffff_fffd).0, []);
    // Without a wrap.
    let (taken, left) = batch(0, 4, 2);
    assert_eq!((taken, left), (std::vec![1, 2], std::vec![3, 4]));
}

#[test]
fn reinjection_decisions() {
    // Exactly REPEAT re-runs the hook; exactly ACCEPT continues.
    assert_eq!(reinject(NF_REPEAT), Reinject::Repeat);
    assert_eq!(reinject(NF_ACCEPT), Reinject::Then(Step::Continue));
    assert_eq!(reinject(NF_STOP), Reinject::Then(Step::Okfn));
    assert_eq!(reinject(NF_DROP), Reinject::Then(Step::Drop));
    assert_eq!(
        reinject(queue_verdict(9, false)),
        Reinject::Then(Step::Queue {
            num: 9,
            bypass: false
        })
    );
    assert_eq!(
        reinject(queue_verdict(0xffff, true)),
        Reinject::Then(Step::Queue {
            num: 0xffff,
            bypass: true
        })
    );
    // The quirk: ACCEPT with upper bits goes straight to okfn; REPEAT
    // with upper bits is not REPEAT and drops.
    assert_eq!(reinject(NF_ACCEPT | 0x10000), Reinject::Then(Step::Okfn));
    assert_eq!(reinject(NF_REPEAT | 0x10000), Reinject::Then(Step::Drop));
    assert_eq!(reinject(NF_STOP | 0x8000), Reinject::Then(Step::Okfn));
    // After the repeated hook: REPEAT again drops, STOLEN is done.
    assert_eq!(after_hook(NF_REPEAT), Step::Drop);
    assert_eq!(after_hook(NF_ACCEPT), Step::Continue);
    assert_eq!(after_hook(NF_STOLEN), Step::Stolen);
    // After nf_iterate, ACCEPT means okfn.
    assert_eq!(finish(NF_ACCEPT), Step::Okfn);
    assert_eq!(finish(0xfe), Step::Drop);
}

#[test]
fn conntrack_update_before_reinjection() {
    for v in [NF_ACCEPT, NF_REPEAT, NF_STOP] {
        assert!(wants_ct_update(v));
        assert!(!wants_ct_update(v | 0x10000));
    }
    assert!(!wants_ct_update(NF_DROP));
    assert!(!wants_ct_update(NF_QUEUE));
    assert_eq!(after_ct_update(NF_REPEAT, NF_ACCEPT), Some(NF_REPEAT));
    assert_eq!(after_ct_update(NF_ACCEPT, NF_STOLEN), None);
    assert_eq!(
        after_ct_update(NF_ACCEPT, NF_DROP | (5 << 16)),
        Some(NF_DROP)
    );
}

#[test]
fn queue_verdict_encoding() {
    assert_eq!(queue_verdict(0, false), NF_QUEUE);
    assert_eq!(queue_verdict(3, false), nf_queue_nr(3));
    assert_eq!(queue_verdict(3, true), 0x0003_8003);
    assert_eq!(queue_verdict(0xffff, true), 0xffff_8003);
}

#[test]
fn mangle_checks() {
    // Same length, shorter down to the transport header, longer to 65535.
    assert_eq!(check_mangle(100, 100, 20), Ok(()));
    assert_eq!(check_mangle(20, 100, 20), Ok(()));
    assert_eq!(check_mangle(19, 100, 20), Err(Errno::Inval));
    assert_eq!(check_mangle(65535, 100, 20), Ok(()));
    assert_eq!(check_mangle(65536, 100, 20), Err(Errno::Inval));
    // A GSO packet longer than 64 KiB may shrink to anything past its
    // headers.
    assert_eq!(check_mangle(1000, 100_000, 40), Ok(()));
}

#[test]
fn encode_verdict_round_trips() {
    let payload = [9u8; 33];
    let req = VerdictRequest {
        verdict: queue_verdict(2, true),
        id: 77,
        mark: Some(5),
        priority: Some(6),
        payload: Some(&payload),
        ct_mark: Some(CtMark {
            mark: 42,
            mask: Some(0xffff),
        }),
    };
    let mut buf = [0u8; 256];
    let n = encode_verdict(&mut buf, 3, 12, &req).unwrap();
    let r = parse_request(&buf[..n]).unwrap().unwrap();
    assert_eq!(r.msg, NFQNL_MSG_VERDICT);
    assert_eq!(r.nfgen.res_id, 12);
    assert_eq!(r.header.flags, NLM_F_REQUEST);
    assert_eq!(parse_verdict(r.attrs), Ok(req));
    for size in 0..n {
        let mut small = std::vec![0u8; size];
        assert!(encode_verdict(&mut small, 3, 12, &req).is_err(), "{size}");
    }
    // The minimal one is what libnetfilter_queue sends for a plain
    // accept: 20 bytes of headers and the 12-byte header attribute.
    let plain = VerdictRequest {
        verdict: NF_ACCEPT,
        id: 1,
        mark: None,
        priority: None,
        payload: None,
        ct_mark: None,
    };
    let n = encode_verdict(&mut buf, 0, 0, &plain).unwrap();
    assert_eq!(n, 32);
    assert_eq!(&buf[20..32], &hdr(NF_ACCEPT, 1)[..]);
    // The same message built by hand decodes the same.
    let msg = request(NFQNL_MSG_VERDICT, NLM_F_REQUEST, 0, &hdr(NF_ACCEPT, 1));
    assert_eq!(
        parse_verdict(parse_request(&msg).unwrap().unwrap().attrs),
        Ok(plain)
    );
}

#[test]
fn encode_batch_round_trips() {
    let req = BatchRequest {
        verdict: NF_DROP,
        max_id: u32::MAX,
        mark: None,
        priority: Some(1),
    };
    let mut buf = [0u8; 64];
    let n = encode_batch(&mut buf, 1, 65535, &req).unwrap();
    let r = parse_request(&buf[..n]).unwrap().unwrap();
    assert_eq!(r.msg, NFQNL_MSG_VERDICT_BATCH);
    assert_eq!(r.nfgen.res_id, 65535);
    assert_eq!(parse_batch(r.attrs), Ok(req));
}

/// The kernel hands the decoders a table of the attributes they read
/// (`Table::from_fn_of` with `VERDICT_READS`, `BATCH_READS`): they decode
/// the same as from every attribute the message carries, whatever else
/// it carries.
#[test]
fn the_decoders_read_only_their_listed_attributes() {
    use super::super::attrs::{Table, BATCH_POLICY, NFQA_TABLE, VERDICT_POLICY};
    use super::super::verdict::{decode_batch, decode_verdict, BATCH_READS, VERDICT_READS};
    let everything = [
        hdr(queue_verdict(3, true), 7),
        be32(NFQA_MARK, 0xdead_beef),
        be32(NFQA_PRIORITY, 6),
        attr(NFQA_PAYLOAD, &[0x45u8, 0, 0, 20, 1, 2, 3]),
        nest(NFQA_CT, &[be32(CTA_MARK, 42), be32(CTA_MARK_MASK, 0xff)]),
    ]
    .concat();
    let mut others = 0;
    for kind in 1..NFQA_TABLE as u16 {
        // Every attribute the run does not carry yet, in turn, with a
        // payload the policies accept (four bytes: a u32).
        if VERDICT_READS.contains(&kind) {
            continue;
        }
        let run = [everything.clone(), be32(kind, 0x0102_0304)].concat();
        for decoded in [&everything, &run] {
            let all = Table::parse(decoded, &VERDICT_POLICY).unwrap();
            let read = Table::from_fn_of(&VERDICT_POLICY, &VERDICT_READS, |t| all.get(t)).unwrap();
            assert_eq!(decode_verdict(&read), decode_verdict(&all), "{kind}");
            assert_eq!(decode_verdict(&read).unwrap().mark, Some(0xdead_beef));
            let all = Table::parse(decoded, &BATCH_POLICY).unwrap();
            let read = Table::from_fn_of(&BATCH_POLICY, &BATCH_READS, |t| all.get(t)).unwrap();
            assert_eq!(decode_batch(&read), decode_batch(&all), "{kind}");
        }
        others += 1;
    }
    assert_eq!(others, NFQA_TABLE - 1 - VERDICT_READS.len());
    // A listed attribute that fails the policy is still refused.
    let short_mark = [hdr(NF_ACCEPT, 1), attr(NFQA_MARK, &[1, 2])].concat();
    let lookup = |t: u16| {
        super::super::nla::Attrs::new(&short_mark)
            .filter_map(Result::ok)
            .find(|a| a.kind() == t)
            .map(|a| a.payload())
    };
    assert_eq!(
        Table::<NFQA_TABLE>::from_fn_of(&VERDICT_POLICY, &VERDICT_READS, lookup),
        Err(Errno::Range)
    );
}
