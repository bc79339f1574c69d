// SPDX-License-Identifier: GPL-2.0

//! The NFQUEUE and QUEUE targets: decoding, checks, encoding back, and the
//! queue the walk picks (one queue, balanced by flow, fanned out by CPU).

extern crate std;

use super::nfqueue::balance;
use super::packet::{IPPROTO_TCP, IPPROTO_UDP};
use super::proto::{self, Hook};
use super::targets::queue::NfQueue;
use super::tests::{
    accept, assert_err, builtin, encode_all, filter_input, load, ok, rule, table, tg, u32a, udp,
    Ctx, Owned,
};
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::vec;
use std::vec::Vec;

fn u16a(kind: u16, v: u16) -> Vec<u8> {
    super::tests::attr(kind, &v.to_ne_bytes())
}

/// `-j NFQUEUE` with `opts`.
fn nfq(opts: &[Vec<u8>]) -> Vec<u8> {
    tg(proto::TG_NFQUEUE, opts)
}

/// `--queue-balance first:last` plus `flags`.
fn balanced(first: u16, last: u16, flags: u32) -> Vec<u8> {
    let mut opts = vec![
        u16a(proto::NFQUEUE_NUM, first),
        u16a(proto::NFQUEUE_TOTAL, last - first + 1),
    ];
    if flags != 0 {
        opts.push(u32a(proto::NFQUEUE_FLAGS, flags));
    }
    nfq(&opts)
}

/// The target of the one rule of INPUT made of `parts`.
#[track_caller]
fn target_of(parts: &[Vec<u8>]) -> Target {
    let o = ok(&filter_input(1, &[rule(parts)], &[]));
    o.rules[0].target
}

/// A UDP packet from `s` to `d`.
fn flow(s: [u8; 4], d: [u8; 4], sport: u16, dport: u16) -> PacketInfo {
    let mut p = udp(sport, dport);
    p.pkt.saddr = s;
    p.pkt.daddr = d;
    p
}

/// A context on CPU `cpu` whose balancing seed is `seed`.
fn on(cpu: u32, seed: u32) -> Ctx {
    let mut ctx = Ctx::default();
    ctx.cpu = cpu;
    ctx.seed = seed;
    ctx
}

fn walk(o: &Owned, p: &PacketInfo, ctx: &mut Ctx) -> Verdict {
    evaluate(&o.table(), Hook::LocalIn, p, ctx)
}

#[test]
fn nfqueue_decodes() {
    // No options: queue 0, one queue, no flags (iptables' -j NFQUEUE).
    assert_eq!(target_of(&[nfq(&[])]), Target::NfQueue(NfQueue::default()));
    assert_eq!(
        NfQueue::default(),
        NfQueue {
            num: 0,
            total: 1,
            flags: 0
        }
    );
    assert_eq!(
        target_of(&[nfq(&[u16a(proto::NFQUEUE_NUM, 3)])]),
        Target::NfQueue(NfQueue {
            num: 3,
            total: 1,
            flags: 0
        })
    );
    let t = target_of(&[balanced(
        2,
        5,
        proto::NFQUEUE_F_BYPASS | proto::NFQUEUE_F_CPU_FANOUT,
    )]);
    let Target::NfQueue(q) = t else {
        panic!("{t:?}")
    };
    assert_eq!((q.num, q.total, q.last()), (2, 4, 5));
    assert!(q.has(proto::NFQUEUE_F_BYPASS) && q.has(proto::NFQUEUE_F_CPU_FANOUT));
    assert_eq!(t.name(), "NFQUEUE");
    assert_eq!(t.kind(), proto::TG_NFQUEUE);
    // The top of the range: 65534:65535, and 65535 alone.
    assert!(load(&filter_input(1, &[rule(&[balanced(65534, 65535, 0)])], &[])).is_ok());
    assert!(load(&filter_input(
        1,
        &[rule(&[nfq(&[u16a(proto::NFQUEUE_NUM, 65535)])])],
        &[]
    ))
    .is_ok());
    // QUEUE: a standard verdict without options.
    let t = target_of(&[tg(proto::TG_QUEUE, &[])]);
    assert_eq!(t, Target::Queue);
    assert_eq!((t.name(), t.kind()), ("QUEUE", proto::TG_QUEUE));
}

#[test]
fn nfqueue_errors() {
    let input = |t: Vec<u8>| filter_input(1, &[rule(&[accept()]), rule(&[t])], &[]);
    let at = Some((0, "INPUT"));
    for (opts, reason) in [
        // No queues at all (what `--queue-balance 0:65535` wraps to).
        (vec![u16a(proto::NFQUEUE_TOTAL, 0)], Reason::BadQueueRange),
        // Past queue 65535.
        (
            vec![
                u16a(proto::NFQUEUE_NUM, 65535),
                u16a(proto::NFQUEUE_TOTAL, 2),
            ],
            Reason::BadQueueRange,
        ),
        (
            vec![
                u16a(proto::NFQUEUE_NUM, 2),
                u16a(proto::NFQUEUE_TOTAL, 65535),
                u32a(proto::NFQUEUE_FLAGS, 0),
            ],
            Reason::BadQueueRange,
        ),
        // Fanout over one queue.
        (
            vec![
                u16a(proto::NFQUEUE_NUM, 4),
                u32a(proto::NFQUEUE_FLAGS, proto::NFQUEUE_F_CPU_FANOUT),
            ],
            Reason::FanoutNeedsBalance,
        ),
        (vec![u32a(proto::NFQUEUE_FLAGS, 0x4)], Reason::BadFlags),
        (
            vec![u16a(proto::NFQUEUE_FLAGS + 1, 1)],
            Reason::UnknownOption,
        ),
        // A u32 where a u16 belongs.
        (
            vec![u32a(proto::NFQUEUE_NUM, 1)],
            Reason::Malformed(super::nla::NlaError::BadPayload),
        ),
    ] {
        assert_err(&input(nfq(&opts)), reason, at, Some(1));
    }
    // QUEUE takes no options.
    assert_err(
        &input(tg(proto::TG_QUEUE, &[u16a(proto::NFQUEUE_NUM, 1)])),
        Reason::UnknownOption,
        at,
        Some(1),
    );
}

#[test]
fn nfqueue_not_in_the_nat_table() {
    for t in [nfq(&[]), tg(proto::TG_QUEUE, &[])] {
        let nat = table(
            "nat",
            &[
                builtin("PREROUTING", 1, &[rule(core::slice::from_ref(&t))]),
                builtin("INPUT", 1, &[]),
                builtin("OUTPUT", 1, &[]),
                builtin("POSTROUTING", 1, &[]),
            ],
        );
        assert_err(&nat, Reason::WrongTable, Some((0, "PREROUTING")), Some(0));
        // Every other table, at every hook it has.
        let mangle = table(
            "mangle",
            &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]
                .map(|c| builtin(c, 1, &[rule(core::slice::from_ref(&t))])),
        );
        assert!(load(&mangle).is_ok());
        let raw = table(
            "raw",
            &["PREROUTING", "OUTPUT"].map(|c| builtin(c, 1, &[rule(core::slice::from_ref(&t))])),
        );
        assert!(load(&raw).is_ok());
        let filter = table(
            "filter",
            &["INPUT", "FORWARD", "OUTPUT"]
                .map(|c| builtin(c, 1, &[rule(core::slice::from_ref(&t))])),
        );
        assert!(load(&filter).is_ok());
    }
}

#[test]
fn nfqueue_round_trip() {
    let input = filter_input(
        0,
        &[
            rule(&[nfq(&[])]),
            rule(&[nfq(&[u16a(proto::NFQUEUE_NUM, 7)])]),
            rule(&[nfq(&[
                u16a(proto::NFQUEUE_NUM, 9),
                u32a(proto::NFQUEUE_FLAGS, proto::NFQUEUE_F_BYPASS),
            ])]),
            rule(&[balanced(0, 3, proto::NFQUEUE_F_CPU_FANOUT)]),
            rule(&[balanced(100, 65535, proto::NFQUEUE_F_BYPASS)]),
            rule(&[tg(proto::TG_QUEUE, &[])]),
        ],
        &[],
    );
    let o = ok(&input);
    let bytes = encode_all(&o);
    let again = ok(&bytes);
    assert_eq!(o.rules, again.rules);
    assert_eq!(encode_all(&again), bytes);
    // Defaults are left out: the first rule's target is its kind and an
    // empty options nest, the second's one NUM attribute.
    let mut buf = [0u8; 64];
    for (t, want) in [
        (o.rules[0].target, 4 + 8 + 4 + 8),
        (o.rules[1].target, 4 + 8 + 4 + 8),
        (o.rules[3].target, 4 + 8 + 4 + 8 + 8 + 8),
        (o.rules[5].target, 4 + 8),
    ] {
        let mut w = super::nla::Writer::new(&mut buf);
        let n = w.begin_nest(proto::RULE_TARGET).unwrap();
        t.encode(&mut w, "").unwrap();
        w.end_nest(n).unwrap();
        assert_eq!(w.len(), want, "{t:?}");
    }
}

#[test]
fn the_walk_queues_and_stops() {
    let o = ok(&filter_input(
        1,
        &[
            rule(&[nfq(&[u16a(proto::NFQUEUE_NUM, 3)])]),
            // Never reached: NFQUEUE is terminal.
            rule(&[accept()]),
        ],
        &[],
    ));
    let mut ctx = Ctx::default();
    let v = walk(&o, &udp(1, 2), &mut ctx);
    assert_eq!(
        v,
        Verdict::Queue {
            num: 3,
            bypass: false
        }
    );
    assert_eq!(ctx.counts.keys().copied().collect::<Vec<_>>(), [0]);
    // One queue: neither the CPU nor the seed is asked for.
    assert_eq!((ctx.cpu_asked, ctx.seed_asked), (0, 0));

    let o = ok(&filter_input(
        1,
        &[rule(&[nfq(&[
            u16a(proto::NFQUEUE_NUM, 65535),
            u32a(proto::NFQUEUE_FLAGS, proto::NFQUEUE_F_BYPASS),
        ])])],
        &[],
    ));
    assert_eq!(
        walk(&o, &udp(1, 2), &mut Ctx::default()),
        Verdict::Queue {
            num: 65535,
            bypass: true
        }
    );
    // QUEUE is queue 0 without bypass.
    let o = ok(&filter_input(
        1,
        &[rule(&[tg(proto::TG_QUEUE, &[])]), rule(&[accept()])],
        &[],
    ));
    let mut ctx = Ctx::default();
    assert_eq!(
        walk(&o, &udp(1, 2), &mut ctx),
        Verdict::Queue {
            num: 0,
            bypass: false
        }
    );
    assert_eq!(ctx.counts.len(), 1);
}

#[test]
fn balance_keeps_a_flow_on_one_queue_both_ways() {
    let o = ok(&filter_input(
        1,
        &[rule(&[balanced(10, 13, proto::NFQUEUE_F_BYPASS)])],
        &[],
    ));
    for seed in [0u32, 1, 0x9e37_79b9, u32::MAX] {
        let mut used = BTreeMap::new();
        for host in 1..=200u8 {
            let a = [10, 0, 1, host];
            let b = [192, 168, 7, 200u8.wrapping_sub(host)];
            for (protocol, sport, dport) in [(IPPROTO_UDP, 1000, 53), (IPPROTO_TCP, 40000, 80)] {
                let mut there = flow(a, b, sport, dport);
                there.pkt.protocol = protocol;
                let mut back = flow(b, a, dport, sport);
                back.pkt.protocol = protocol;
                let q = |p: &PacketInfo| {
                    let mut ctx = on(1, seed);
                    let v = walk(&o, p, &mut ctx);
                    assert_eq!((ctx.seed_asked, ctx.cpu_asked), (1, 0));
                    match v {
                        Verdict::Queue { num, bypass: true } => num,
                        v => panic!("{v:?}"),
                    }
                };
                let (q1, q2) = (q(&there), q(&back));
                assert_eq!(q1, q2, "{a:?} {b:?} seed {seed:#x}");
                assert!((10..=13).contains(&q1), "{q1}");
                // The kernel's own formula.
                assert_eq!(q1, balance::balance_v4(a, b, protocol, 10, 4, seed));
                // Ports do not count: another connection of the same
                // hosts goes to the same queue.
                let mut other = flow(a, b, sport + 1, dport);
                other.pkt.protocol = protocol;
                assert_eq!(q(&other), q1);
                *used.entry(q1).or_insert(0u32) += 1;
            }
        }
        // 400 flows spread over all four queues, none starved.
        assert_eq!(used.len(), 4, "seed {seed:#x}: {used:?}");
        assert!(used.values().all(|&n| n >= 40), "seed {seed:#x}: {used:?}");
    }
    // Another seed moves flows to other queues.
    let pick = |seed: u32| -> Vec<u16> {
        (1..=50u8)
            .map(|h| {
                let mut ctx = on(0, seed);
                match walk(&o, &flow([10, 0, 0, h], [10, 0, 9, 9], 1, 2), &mut ctx) {
                    Verdict::Queue { num, .. } => num,
                    v => panic!("{v:?}"),
                }
            })
            .collect()
    };
    assert_ne!(pick(1), pick(2));
}

#[test]
fn fanout_picks_by_cpu() {
    let o = ok(&filter_input(
        1,
        &[rule(&[balanced(4, 6, proto::NFQUEUE_F_CPU_FANOUT)])],
        &[],
    ));
    let mut got = BTreeSet::new();
    for cpu in 0..12u32 {
        let mut ctx = on(cpu, 77);
        let v = walk(&o, &udp(1, 2), &mut ctx);
        assert_eq!(
            v,
            Verdict::Queue {
                num: 4 + (cpu % 3) as u16,
                bypass: false
            },
            "cpu {cpu}"
        );
        assert_eq!((ctx.cpu_asked, ctx.seed_asked), (1, 0));
        // The flow does not matter, only the CPU.
        let mut ctx = on(cpu, 0);
        assert_eq!(
            walk(&o, &flow([1, 2, 3, 4], [5, 6, 7, 8], 9, 9), &mut ctx),
            v
        );
        if let Verdict::Queue { num, .. } = v {
            got.insert(num);
        }
    }
    assert_eq!(got.len(), 3);
}
