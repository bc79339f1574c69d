// SPDX-License-Identifier: GPL-2.0

//! The NAT targets: decoding, checks (table, hooks, protocol), encoding
//! back, and what the walker asks of the kernel.

extern crate std;

use super::nat::NatRange;
use super::packet::{IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::proto::{self, Hook};
use super::targets::nat::NatKind;
use super::tests::{
    assert_err, builtin, load, ok, proto_, rule, run, table, tcp, tg, u32a, udp, user, Owned,
};
use super::*;
use std::vec;
use std::vec::Vec;

fn addr(kind: u16, a: [u8; 4]) -> Vec<u8> {
    super::tests::attr(kind, &a)
}

fn port(kind: u16, p: u16) -> Vec<u8> {
    super::tests::attr(kind, &p.to_ne_bytes())
}

/// The nat table with `pre` in PREROUTING, `post` in POSTROUTING.
fn nat(pre: &[Vec<u8>], post: &[Vec<u8>], users: &[Vec<u8>]) -> Vec<u8> {
    let mut chains = vec![
        builtin("PREROUTING", 1, pre),
        builtin("INPUT", 1, &[]),
        builtin("OUTPUT", 1, &[]),
        builtin("POSTROUTING", 1, post),
    ];
    chains.extend(users.iter().cloned());
    table("nat", &chains)
}

fn snat(opts: &[Vec<u8>]) -> Vec<u8> {
    tg(proto::TG_SNAT, opts)
}

fn dnat(opts: &[Vec<u8>]) -> Vec<u8> {
    tg(proto::TG_DNAT, opts)
}

fn first_target(o: &Owned) -> Target {
    o.table()
        .rules()
        .iter()
        .find(|r| r.target != Target::None)
        .unwrap()
        .target
}

#[test]
fn nat_targets_decode() {
    // SNAT --to-source 10.0.2.1-10.0.2.5:1000-2000 --random --persistent
    let o = ok(&nat(
        &[],
        &[rule(&[
            proto_(IPPROTO_TCP),
            snat(&[
                u32a(
                    proto::NAT_FLAGS,
                    proto::NAT_F_RANDOM | proto::NAT_F_PERSISTENT,
                ),
                addr(proto::NAT_MIN_ADDR, [10, 0, 2, 1]),
                addr(proto::NAT_MAX_ADDR, [10, 0, 2, 5]),
                port(proto::NAT_MIN_PORT, 1000),
                port(proto::NAT_MAX_PORT, 2000),
            ]),
        ])],
        &[],
    ));
    let want = NatRange {
        flags: proto::NAT_F_RANDOM | proto::NAT_F_PERSISTENT,
        min_addr: [10, 0, 2, 1],
        max_addr: [10, 0, 2, 5],
        min_port: 1000,
        max_port: 2000,
    };
    match first_target(&o) {
        Target::Snat(t) => assert_eq!(t.range, want),
        t => panic!("{t:?}"),
    }
    // One address, one port: the maxima default to the minima.
    let o = ok(&nat(
        &[rule(&[
            proto_(IPPROTO_UDP),
            dnat(&[
                addr(proto::NAT_MIN_ADDR, [10, 0, 1, 2]),
                port(proto::NAT_MIN_PORT, 53),
            ]),
        ])],
        &[],
        &[],
    ));
    match first_target(&o) {
        Target::Dnat(t) => {
            assert_eq!((t.range.max_addr, t.range.max_port), ([10, 0, 1, 2], 53));
            assert!(t.range.map_ips() && t.range.proto_specified());
        }
        t => panic!("{t:?}"),
    }
    // MASQUERADE and REDIRECT without options: no addresses, no ports.
    let o = ok(&nat(
        &[rule(&[tg(proto::TG_REDIRECT, &[])])],
        &[rule(&[tg(proto::TG_MASQUERADE, &[])])],
        &[],
    ));
    let targets: Vec<Target> = o.table().rules().iter().map(|r| r.target).collect();
    assert!(matches!(targets[0], Target::Redirect(t) if t.range == NatRange::default()));
    assert!(matches!(targets[1], Target::Masquerade(t) if t.range == NatRange::default()));
}

#[test]
fn nat_target_errors() {
    let post = |t: Vec<u8>, p: u8| nat(&[], &[rule(&[proto_(p), t])], &[]);
    let at = Some((3, "POSTROUTING"));
    // SNAT and DNAT need an address.
    assert_err(
        &post(snat(&[]), IPPROTO_TCP),
        Reason::MissingNatAddress,
        at,
        Some(0),
    );
    assert_err(
        &post(snat(&[port(proto::NAT_MIN_PORT, 5)]), IPPROTO_TCP),
        Reason::MissingNatAddress,
        at,
        Some(0),
    );
    // MASQUERADE takes no address at all.
    assert_err(
        &post(
            tg(
                proto::TG_MASQUERADE,
                &[addr(proto::NAT_MIN_ADDR, [1, 2, 3, 4])],
            ),
            IPPROTO_TCP,
        ),
        Reason::UnknownOption,
        at,
        Some(0),
    );
    // Ranges going down, port 0, unknown flags.
    let a = addr(proto::NAT_MIN_ADDR, [10, 0, 0, 9]);
    for (opts, reason) in [
        (
            vec![a.clone(), addr(proto::NAT_MAX_ADDR, [10, 0, 0, 1])],
            Reason::BadNatRange,
        ),
        (
            vec![
                a.clone(),
                port(proto::NAT_MIN_PORT, 9),
                port(proto::NAT_MAX_PORT, 1),
            ],
            Reason::BadNatRange,
        ),
        (
            vec![a.clone(), port(proto::NAT_MAX_PORT, 1)],
            Reason::BadNatRange,
        ),
        (
            vec![a.clone(), u32a(proto::NAT_FLAGS, 0x80)],
            Reason::BadFlags,
        ),
    ] {
        assert_err(&post(snat(&opts), IPPROTO_TCP), reason, at, Some(0));
    }
    // Ports need -p tcp or udp, not inverted.
    let ports = snat(&[a.clone(), port(proto::NAT_MIN_PORT, 1000)]);
    assert_err(
        &post(ports.clone(), IPPROTO_ICMP),
        Reason::NatPortsNeedProtocol,
        at,
        Some(0),
    );
    assert_err(
        &post(ports.clone(), 0),
        Reason::NatPortsNeedProtocol,
        at,
        Some(0),
    );
    assert!(load(&post(ports.clone(), IPPROTO_UDP)).is_ok());
    // Without ports any protocol goes.
    assert!(load(&post(snat(core::slice::from_ref(&a)), IPPROTO_ICMP)).is_ok());
}

#[test]
fn nat_targets_only_in_the_nat_table_at_their_hooks() {
    let a = addr(proto::NAT_MIN_ADDR, [10, 0, 0, 1]);
    // DNAT at POSTROUTING, SNAT and MASQUERADE at PREROUTING, through a
    // user chain too.
    assert_err(
        &nat(&[], &[rule(&[dnat(core::slice::from_ref(&a))])], &[]),
        Reason::WrongHook,
        Some((3, "POSTROUTING")),
        Some(0),
    );
    assert_err(
        &nat(&[rule(&[snat(core::slice::from_ref(&a))])], &[], &[]),
        Reason::WrongHook,
        Some((0, "PREROUTING")),
        Some(0),
    );
    assert_err(
        &nat(
            &[rule(&[super::tests::jump("u")])],
            &[],
            &[user("u", &[rule(&[tg(proto::TG_MASQUERADE, &[])])])],
        ),
        Reason::WrongHook,
        Some((4, "u")),
        Some(0),
    );
    // SNAT at INPUT, DNAT and REDIRECT at OUTPUT are fine.
    let chains = |input: &[Vec<u8>], output: &[Vec<u8>]| {
        table(
            "nat",
            &[
                builtin("PREROUTING", 1, &[]),
                builtin("INPUT", 1, input),
                builtin("OUTPUT", 1, output),
                builtin("POSTROUTING", 1, &[]),
            ],
        )
    };
    assert!(load(&chains(
        &[rule(&[snat(core::slice::from_ref(&a))])],
        &[
            rule(&[dnat(core::slice::from_ref(&a))]),
            rule(&[tg(proto::TG_REDIRECT, &[])])
        ],
    ))
    .is_ok());
    // Not in filter.
    let filter = table(
        "filter",
        &[
            builtin("INPUT", 1, &[]),
            builtin("FORWARD", 1, &[rule(&[tg(proto::TG_MASQUERADE, &[])])]),
            builtin("OUTPUT", 1, &[]),
        ],
    );
    assert_err(&filter, Reason::WrongTable, Some((1, "FORWARD")), Some(0));
}

#[test]
fn nat_targets_round_trip() {
    let input = nat(
        &[rule(&[
            proto_(IPPROTO_TCP),
            dnat(&[
                addr(proto::NAT_MIN_ADDR, [10, 0, 1, 2]),
                port(proto::NAT_MIN_PORT, 80),
            ]),
        ])],
        &[
            rule(&[
                proto_(IPPROTO_UDP),
                snat(&[
                    u32a(proto::NAT_FLAGS, proto::NAT_F_RANDOM_FULLY),
                    addr(proto::NAT_MIN_ADDR, [10, 0, 2, 1]),
                    addr(proto::NAT_MAX_ADDR, [10, 0, 2, 9]),
                    port(proto::NAT_MIN_PORT, 1000),
                    port(proto::NAT_MAX_PORT, 1999),
                ]),
            ]),
            rule(&[
                proto_(IPPROTO_TCP),
                tg(
                    proto::TG_MASQUERADE,
                    &[
                        u32a(proto::NAT_FLAGS, proto::NAT_F_RANDOM),
                        port(proto::NAT_MIN_PORT, 5),
                    ],
                ),
            ]),
        ],
        &[],
    );
    let o = ok(&input);
    let again = ok(&super::tests::encode_all(&o));
    assert_eq!(o.rules, again.rules);
}

#[test]
fn the_walk_asks_the_kernel_to_bind_and_stops() {
    let range = |a: [u8; 4]| NatRange::addr(a);
    let o = ok(&nat(
        &[
            rule(&[
                proto_(IPPROTO_UDP),
                dnat(&[addr(proto::NAT_MIN_ADDR, [10, 0, 1, 2])]),
            ]),
            // Never reached for UDP: the NAT target is terminal.
            rule(&[tg(proto::TG_REDIRECT, &[])]),
        ],
        &[],
        &[],
    ));
    let (v, ctx) = run(&o, Hook::PreRouting, &udp(1000, 53));
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.nats, vec![(NatKind::Dnat, range([10, 0, 1, 2]))]);
    let (_, ctx) = run(&o, Hook::PreRouting, &tcp(1000, 80, 0x02));
    assert_eq!(ctx.nats, vec![(NatKind::Redirect, NatRange::default())]);
    // The kernel's DROP (no free tuple) is the verdict.
    let mut ctx = super::tests::Ctx::default();
    ctx.nat_verdict = Some(Verdict::Drop);
    assert_eq!(
        evaluate(&o.table(), Hook::PreRouting, &udp(1, 2), &mut ctx),
        Verdict::Drop
    );
    // Nothing at POSTROUTING: no binding asked (the kernel then makes a
    // null binding).
    let (v, ctx) = run(&o, Hook::PostRouting, &udp(1000, 53));
    assert_eq!((v, ctx.nats.len()), (Verdict::Accept, 0));
}
