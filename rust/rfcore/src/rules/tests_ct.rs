// SPDX-License-Identifier: GPL-2.0

//! Host tests of the connection-tracking matches and targets: conntrack,
//! state, connmark, CT (and NOTRACK), CONNMARK: decoding, validation,
//! encoding and evaluation against a context that plays the kernel's
//! conntrack.

extern crate std;

use super::matches::connmark::ConnMark;
use super::matches::conntrack::{AddrMask, Conntrack};
use super::matches::limit::Limit;
use super::matches::state::State;
use super::matches::PortRange;
use super::packet::{Ipv4Header, Packet, Transport, UdpHeader, IPPROTO_TCP, IPPROTO_UDP};
use super::proto::{self, Hook};
use super::targets::connmark::{ConnMarkMode, SetConnMark};
use super::targets::ct::{Ct, CtHelper};
use super::targets::log::Log;
use super::targets::reject::RejectWith;
use super::*;
use std::vec;
use std::vec::Vec;

// ---------------------------------------------------------------------
// Wire format builders: tests.rs's, and a few of this file's own.

use super::tests::{
    accept, attr, builtin, flag, jump, load, mt, ok, ports, proto_, rule, stra, table, tg, u32a,
    u8a, user, Owned,
};

/// A table of `kind` with `rules` in the chain at `hook` (policy DROP)
/// and the other built-in chains empty (ACCEPT), plus `users`.
fn one_chain(kind: TableKind, hook: Hook, rules: &[Vec<u8>], users: &[Vec<u8>]) -> Vec<u8> {
    let mut chains: Vec<Vec<u8>> = kind
        .desc()
        .hooks
        .iter()
        .map(|h| {
            if *h == hook {
                builtin(h.name(), 0, rules)
            } else {
                builtin(h.name(), 1, &[])
            }
        })
        .collect();
    chains.extend(users.iter().cloned());
    table(kind.name(), &chains)
}

fn filter_input(rules: &[Vec<u8>]) -> Vec<u8> {
    one_chain(TableKind::Filter, Hook::LocalIn, rules, &[])
}

// ---------------------------------------------------------------------
// Owned storage.

#[track_caller]
fn reason(input: &[u8]) -> Reason {
    match load(input) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.reason,
    }
}

fn encode_all(o: &Owned) -> Vec<u8> {
    let t = o.table();
    let mut buf = vec![0u8; 1 << 16];
    let mut w = super::nla::Writer::new(&mut buf);
    encode_table(&mut w, &t, |_| Counters::default()).unwrap();
    let n = w.len();
    buf.truncate(n);
    buf
}

/// The one match of a one-rule INPUT chain made of `parts`.
#[track_caller]
fn one_match(parts: &[Vec<u8>]) -> Match {
    let o = ok(&filter_input(&[rule(parts)]));
    assert_eq!(o.matches.len(), 1);
    o.matches[0]
}

/// The target of a one-rule chain of `kind` at `hook`.
#[track_caller]
fn one_target(kind: TableKind, hook: Hook, parts: &[Vec<u8>]) -> Target {
    let o = ok(&one_chain(kind, hook, &[rule(parts)], &[]));
    *o.rules[0].target()
}

// ---------------------------------------------------------------------
// A context that plays conntrack.

#[derive(Default)]
struct CtCtx {
    /// What `conntrack` answers.
    ct: Option<CtView>,
    /// How many times it was asked.
    lookups: u32,
    marks: Vec<u32>,
    ct_marks: Vec<u32>,
    notracks: u32,
    helpers: Vec<CtHelper>,
}

impl Context for CtCtx {
    fn count(&mut self, _counter: u32, _bytes: u32) {}

    fn addr_type(&mut self, _addr: [u8; 4], _dev: AddrTypeDev) -> u8 {
        1
    }

    fn looped_back(&mut self) -> bool {
        false
    }

    fn route(&mut self, _q: &RouteQuery) -> Option<Route> {
        None
    }

    fn limit(&mut self, _index: u32, _limit: &Limit) -> bool {
        true
    }

    fn set_mark(&mut self, mark: u32) {
        self.marks.push(mark);
    }

    fn set_tos(&mut self, _tos: u8) {}

    fn log(&mut self, _log: &Log, _pkt: &PacketInfo) {}

    fn reject(&mut self, _with: RejectWith, _pkt: &PacketInfo) {}

    fn conntrack(&mut self) -> Option<CtView> {
        self.lookups += 1;
        self.ct
    }

    fn set_ct_mark(&mut self, mark: u32) {
        assert!(self.ct.is_some_and(|c| c.has_entry()), "no entry");
        self.ct_marks.push(mark);
        if let Some(c) = self.ct.as_mut() {
            c.mark = mark;
        }
    }

    fn notrack(&mut self) {
        self.notracks += 1;
        // As xt_ct_target: only a packet without conntrack state.
        if self.ct.is_none() {
            self.ct = Some(untracked());
        }
    }

    fn ct_helper(&mut self, helper: CtHelper) {
        self.helpers.push(helper);
    }

    fn nat(
        &mut self,
        _kind: super::targets::nat::NatKind,
        _range: &super::nat::NatRange,
    ) -> Verdict {
        Verdict::Accept
    }

    fn cpu(&mut self) -> u32 {
        0
    }

    fn queue_seed(&mut self) -> u32 {
        0
    }
}

fn untracked() -> CtView {
    CtView {
        state: proto::CTSTATE_UNTRACKED,
        ..CtView::INVALID
    }
}

/// An entry: 10.0.0.1:1000 -> 10.0.0.2:53 over UDP, the reply from
/// 10.0.0.2:53 to 192.0.2.1:2000 (as after source NAT), mark 0x11, 30 s
/// left, packet in the original direction, state `state`.
fn entry(state: u32) -> CtView {
    CtView {
        state,
        dir: CtDir::Original,
        status: IPS_SEEN_REPLY_BIT | IPS_CONFIRMED_BIT,
        proto: IPPROTO_UDP,
        orig: CtTuple {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            sport: 1000,
            dport: 53,
        },
        reply: CtTuple {
            src: [10, 0, 0, 2],
            dst: [192, 0, 2, 1],
            sport: 53,
            dport: 2000,
        },
        expires: 30,
        mark: 0x11,
    }
}

const IPS_SEEN_REPLY_BIT: u32 = eval::IPS_SEEN_REPLY;
const IPS_CONFIRMED_BIT: u32 = eval::IPS_CONFIRMED;

fn packet(mark: u32) -> PacketInfo {
    let pkt = Packet {
        ip: Ipv4Header {
            header_len: 20,
            tos: 0,
            total_len: 40,
            id: 1,
            dont_fragment: true,
            more_fragments: false,
            fragment_offset: 0,
            ttl: 64,
            protocol: IPPROTO_UDP,
            checksum: 0,
            saddr: [10, 0, 0, 1],
            daddr: [10, 0, 0, 2],
        },
        transport: Transport::Udp(UdpHeader {
            sport: 1000,
            dport: 53,
            len: 20,
            checksum: 0,
        }),
    };
    PacketInfo::new(
        &pkt,
        DevName::new(b"eth0"),
        DevName::default(),
        mark,
        40,
        None,
    )
}

/// Run `o` at `hook` with the packet's conntrack answer `ct`.
fn run_with(o: &Owned, hook: Hook, ct: Option<CtView>, mark: u32) -> (Verdict, CtCtx) {
    let mut ctx = CtCtx {
        ct,
        ..CtCtx::default()
    };
    let v = evaluate(&o.table(), hook, &packet(mark), &mut ctx);
    (v, ctx)
}

/// Whether a one-rule INPUT chain (policy DROP) of `matches` + ACCEPT
/// accepts a packet whose conntrack answer is `ct`.
#[track_caller]
fn hit(matches: &[Vec<u8>], ct: Option<CtView>) -> bool {
    let mut parts = matches.to_vec();
    parts.push(accept());
    let o = ok(&filter_input(&[rule(&parts)]));
    run_with(&o, Hook::LocalIn, ct, 0).0 == Verdict::Accept
}

fn ctm(opts: &[Vec<u8>]) -> Vec<u8> {
    mt(proto::MT_CONNTRACK, opts)
}

fn ct_inv(bits: u32) -> Vec<u8> {
    u32a(proto::CONNTRACK_INVERT, bits)
}

// ---------------------------------------------------------------------
// The kernel's view.

#[test]
fn ct_view_and_state_bits() {
    assert_eq!(ct_state_bit(0), proto::CTSTATE_ESTABLISHED);
    assert_eq!(ct_state_bit(1), proto::CTSTATE_RELATED);
    assert_eq!(ct_state_bit(2), proto::CTSTATE_NEW);
    assert_eq!(ct_state_bit(3), proto::CTSTATE_ESTABLISHED);
    assert_eq!(ct_state_bit(4), proto::CTSTATE_RELATED);
    for s in [
        proto::CTSTATE_ESTABLISHED,
        proto::CTSTATE_RELATED,
        proto::CTSTATE_NEW,
    ] {
        assert!(entry(s).has_entry());
    }
    assert!(!CtView::INVALID.has_entry());
    assert!(!untracked().has_entry());
    assert!(!entry(0).has_entry());
    // The --ctstatus bits are the kernel's IPS_* bits.
    assert_eq!(eval::IPS_EXPECTED, proto::CTSTATUS_EXPECTED);
    assert_eq!(eval::IPS_SEEN_REPLY, proto::CTSTATUS_SEEN_REPLY);
    assert_eq!(eval::IPS_ASSURED, proto::CTSTATUS_ASSURED);
    assert_eq!(eval::IPS_CONFIRMED, proto::CTSTATUS_CONFIRMED);
}

// ---------------------------------------------------------------------
// Decoding and encoding.

#[test]
fn decode_conntrack_every_option() {
    let m = one_match(&[ctm(&[
        u32a(
            proto::CONNTRACK_STATE,
            proto::CTSTATE_NEW | proto::CTSTATE_DNAT,
        ),
        u8a(proto::CONNTRACK_PROTO, IPPROTO_TCP),
        attr(proto::CONNTRACK_ORIGSRC, &[10, 0, 0, 1]),
        attr(proto::CONNTRACK_ORIGSRC_MASK, &[255, 255, 255, 0]),
        attr(proto::CONNTRACK_ORIGDST, &[10, 0, 0, 2]),
        attr(proto::CONNTRACK_REPLSRC, &[10, 0, 0, 3]),
        attr(proto::CONNTRACK_REPLSRC_MASK, &[255, 0, 255, 0]),
        attr(proto::CONNTRACK_REPLDST, &[0, 0, 0, 0]),
        attr(proto::CONNTRACK_REPLDST_MASK, &[0, 0, 0, 0]),
        u32a(proto::CONNTRACK_ORIGSRC_PORT, ports(1, 2)),
        u32a(proto::CONNTRACK_ORIGDST_PORT, ports(3, 3)),
        u32a(proto::CONNTRACK_REPLSRC_PORT, ports(20, 10)),
        u32a(proto::CONNTRACK_REPLDST_PORT, ports(0, 65535)),
        u32a(
            proto::CONNTRACK_STATUS,
            proto::CTSTATUS_ASSURED | proto::CTSTATUS_EXPECTED,
        ),
        u32a(proto::CONNTRACK_EXPIRES_MIN, 10),
        u32a(proto::CONNTRACK_EXPIRES_MAX, 20),
        u32a(proto::CONNTRACK_DIR, proto::CTDIR_REPLY),
        ct_inv(proto::CONNTRACK_F_PROTO | proto::CONNTRACK_F_REPLSRC_PORT),
    ])]);
    let want = Conntrack {
        flags: 0x1fff,
        invert: (proto::CONNTRACK_F_PROTO | proto::CONNTRACK_F_REPLSRC_PORT) as u16,
        state: (proto::CTSTATE_NEW | proto::CTSTATE_DNAT) as u16,
        status: (proto::CTSTATUS_ASSURED | proto::CTSTATUS_EXPECTED) as u8,
        proto: IPPROTO_TCP,
        orig_src: AddrMask {
            addr: [10, 0, 0, 1],
            mask: [255, 255, 255, 0],
        },
        orig_dst: AddrMask {
            addr: [10, 0, 0, 2],
            mask: [255; 4],
        },
        repl_src: AddrMask {
            addr: [10, 0, 0, 3],
            mask: [255, 0, 255, 0],
        },
        repl_dst: AddrMask {
            addr: [0; 4],
            mask: [0; 4],
        },
        orig_sport: PortRange { first: 1, last: 2 },
        orig_dport: PortRange::single(3),
        repl_sport: PortRange {
            first: 20,
            last: 10,
        },
        repl_dport: PortRange::default(),
        expires_min: 10,
        expires_max: 20,
        dir: CtDir::Reply,
    };
    assert_eq!(m, Match::Conntrack(want));
    assert_eq!(m.name(), "conntrack");
    assert_eq!(m.kind(), proto::MT_CONNTRACK);
    // --ctexpire N alone is N:N.
    let Match::Conntrack(c) = one_match(&[ctm(&[u32a(proto::CONNTRACK_EXPIRES_MIN, 7)])]) else {
        panic!()
    };
    assert_eq!((c.expires_min, c.expires_max), (7, 7));
    assert_eq!(c.flags as u32, proto::CONNTRACK_F_EXPIRES);
}

#[test]
fn decode_state_connmark_ct_connmark_target() {
    assert_eq!(
        one_match(&[mt(
            proto::MT_STATE,
            &[
                u32a(
                    proto::STATE_MASK,
                    proto::CTSTATE_INVALID | proto::CTSTATE_UNTRACKED
                ),
                flag(proto::STATE_INVERT),
            ],
        )]),
        Match::State(State {
            mask: (proto::CTSTATE_INVALID | proto::CTSTATE_UNTRACKED) as u16,
            invert: true,
        })
    );
    assert_eq!(
        one_match(&[mt(proto::MT_CONNMARK, &[u32a(proto::CONNMARK_VALUE, 5)])]),
        Match::ConnMark(ConnMark {
            value: 5,
            mask: u32::MAX,
            invert: false,
        })
    );
    assert_eq!(
        one_target(
            TableKind::Raw,
            Hook::PreRouting,
            &[tg(
                proto::TG_CT,
                &[u32a(
                    proto::CT_FLAGS,
                    proto::CT_F_NOTRACK | proto::CT_F_NOTRACK_ALIAS
                )]
            )]
        ),
        Target::Ct(Ct::NOTRACK)
    );
    assert!(Ct::NOTRACK.is_notrack_alias());
    assert_eq!(
        one_target(
            TableKind::Raw,
            Hook::LocalOut,
            &[
                proto_(IPPROTO_UDP),
                tg(proto::TG_CT, &[stra(proto::CT_HELPER, "tftp")])
            ]
        ),
        Target::Ct(Ct {
            flags: 0,
            helper: Some(CtHelper::Tftp),
        })
    );
    // -j CT alone.
    let t = one_target(TableKind::Raw, Hook::LocalOut, &[tg(proto::TG_CT, &[])]);
    assert_eq!(t, Target::Ct(Ct::default()));
    assert_eq!(t.name(), "CT");
    let t = one_target(
        TableKind::Mangle,
        Hook::PreRouting,
        &[tg(
            proto::TG_CONNMARK,
            &[
                u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_RESTORE),
                u32a(proto::CONNMARK_TG_NFMASK, 0xff),
            ],
        )],
    );
    assert_eq!(
        t,
        Target::ConnMark(SetConnMark {
            mode: ConnMarkMode::Restore,
            ctmark: 0,
            ctmask: u32::MAX,
            nfmask: 0xff,
        })
    );
    assert_eq!(t.name(), "CONNMARK");
    for h in CtHelper::ALL {
        assert_eq!(CtHelper::from_name(h.name()), Some(h));
    }
    assert_eq!(CtHelper::from_name("FTP"), None);
    for m in [ConnMarkMode::Set, ConnMarkMode::Save, ConnMarkMode::Restore] {
        assert_eq!(ConnMarkMode::from_number(m.number()), Some(m));
    }
}

#[test]
fn round_trip_is_canonical() {
    let pre = vec![
        rule(&[ctm(&[
            u32a(proto::CONNTRACK_STATE, proto::CTSTATE_ESTABLISHED),
            attr(proto::CONNTRACK_ORIGDST, &[10, 9, 8, 7]),
            attr(proto::CONNTRACK_ORIGDST_MASK, &[255, 255, 0, 0]),
            u32a(proto::CONNTRACK_REPLDST_PORT, ports(5, 0)),
            u32a(proto::CONNTRACK_EXPIRES_MIN, 9),
            u32a(proto::CONNTRACK_EXPIRES_MAX, 3),
            u32a(proto::CONNTRACK_DIR, proto::CTDIR_ORIGINAL),
            ct_inv(proto::CONNTRACK_F_ORIGDST | proto::CONNTRACK_F_EXPIRES),
        ])]),
        rule(&[
            mt(
                proto::MT_STATE,
                &[u32a(proto::STATE_MASK, proto::CTSTATE_RELATED)],
            ),
            mt(
                proto::MT_CONNMARK,
                &[
                    u32a(proto::CONNMARK_VALUE, 0x10),
                    u32a(proto::CONNMARK_MASK, 0xf0),
                    flag(proto::CONNMARK_INVERT),
                ],
            ),
            tg(
                proto::TG_CT,
                &[
                    u32a(proto::CT_FLAGS, proto::CT_F_NOTRACK),
                    stra(proto::CT_HELPER, "ftp"),
                ],
            ),
        ]),
        rule(&[
            proto_(IPPROTO_TCP),
            tg(proto::TG_CT, &[stra(proto::CT_HELPER, "ftp")]),
        ]),
        rule(&[tg(
            proto::TG_CONNMARK,
            &[
                u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_SET),
                u32a(proto::CONNMARK_TG_CTMARK, 1),
                u32a(proto::CONNMARK_TG_CTMASK, 0),
                u32a(proto::CONNMARK_TG_NFMASK, 7),
            ],
        )]),
        rule(&[tg(
            proto::TG_CONNMARK,
            &[u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_SAVE)],
        )]),
    ];
    let o = ok(&one_chain(TableKind::Raw, Hook::PreRouting, &pre, &[]));
    let encoded = encode_all(&o);
    let o2 = ok(&encoded);
    assert_eq!(o2.rules, o.rules);
    assert_eq!(o2.matches, o.matches);
    assert_eq!(encode_all(&o2), encoded);
    // Defaults are left out: the canonical form of rule 4's target has
    // MODE alone.
    let o3 = ok(&one_chain(
        TableKind::Raw,
        Hook::PreRouting,
        &[rule(&[tg(
            proto::TG_CONNMARK,
            &[
                u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_SAVE),
                u32a(proto::CONNMARK_TG_CTMARK, 0),
                u32a(proto::CONNMARK_TG_CTMASK, u32::MAX),
                u32a(proto::CONNMARK_TG_NFMASK, u32::MAX),
            ],
        )])],
        &[],
    ));
    let o4 = ok(&one_chain(
        TableKind::Raw,
        Hook::PreRouting,
        &[pre[4].clone()],
        &[],
    ));
    assert_eq!(encode_all(&o3), encode_all(&o4));
}

#[test]
fn decode_errors() {
    let m = |opts: &[Vec<u8>]| reason(&filter_input(&[rule(&[ctm(opts)])]));
    assert_eq!(m(&[]), Reason::MissingOption);
    assert_eq!(
        m(&[attr(proto::CONNTRACK_ORIGSRC_MASK, &[255, 0, 0, 0])]),
        Reason::MissingOption
    );
    assert_eq!(
        m(&[u32a(proto::CONNTRACK_EXPIRES_MAX, 5)]),
        Reason::MissingOption
    );
    assert_eq!(m(&[u32a(proto::CONNTRACK_STATE, 0x200)]), Reason::BadFlags);
    assert_eq!(m(&[u32a(proto::CONNTRACK_STATUS, 0x10)]), Reason::BadFlags);
    assert_eq!(m(&[u32a(proto::CONNTRACK_DIR, 2)]), Reason::BadCtDirection);
    // --ctdir cannot be inverted; an inverted option must be given.
    assert_eq!(
        m(&[
            u32a(proto::CONNTRACK_DIR, proto::CTDIR_REPLY),
            ct_inv(proto::CONNTRACK_F_DIRECTION),
        ]),
        Reason::BadFlags
    );
    assert_eq!(
        m(&[
            u8a(proto::CONNTRACK_PROTO, 6),
            ct_inv(proto::CONNTRACK_F_STATE),
        ]),
        Reason::BadFlags
    );
    assert_eq!(
        m(&[u32a(proto::CONNTRACK_STATE, 1), u32a(99, 0)]),
        Reason::UnknownOption
    );
    assert_eq!(
        m(&[attr(proto::CONNTRACK_ORIGSRC, &[1, 2, 3])]),
        Reason::Malformed(super::nla::NlaError::BadPayload)
    );

    let st = |opts: &[Vec<u8>]| reason(&filter_input(&[rule(&[mt(proto::MT_STATE, opts)])]));
    assert_eq!(st(&[flag(proto::STATE_INVERT)]), Reason::MissingOption);
    assert_eq!(
        st(&[u32a(proto::STATE_MASK, proto::CTSTATE_SNAT)]),
        Reason::BadFlags
    );
    assert_eq!(
        st(&[u32a(proto::STATE_MASK, 1), u32a(9, 0)]),
        Reason::UnknownOption
    );

    let cm = |opts: &[Vec<u8>]| reason(&filter_input(&[rule(&[mt(proto::MT_CONNMARK, opts)])]));
    assert_eq!(cm(&[u32a(proto::CONNMARK_MASK, 1)]), Reason::MissingOption);

    let raw = |parts: &[Vec<u8>]| {
        reason(&one_chain(
            TableKind::Raw,
            Hook::PreRouting,
            &[rule(parts)],
            &[],
        ))
    };
    let ct = |opts: &[Vec<u8>]| raw(&[proto_(IPPROTO_TCP), tg(proto::TG_CT, opts)]);
    assert_eq!(ct(&[stra(proto::CT_HELPER, "sip")]), Reason::UnknownHelper);
    assert_eq!(ct(&[stra(proto::CT_HELPER, "FTP")]), Reason::UnknownHelper);
    assert_eq!(ct(&[stra(proto::CT_HELPER, "")]), Reason::UnknownHelper);
    assert_eq!(ct(&[u32a(proto::CT_FLAGS, 4)]), Reason::BadFlags);
    assert_eq!(
        ct(&[u32a(proto::CT_FLAGS, proto::CT_F_NOTRACK_ALIAS)]),
        Reason::BadFlags
    );
    assert_eq!(
        ct(&[
            u32a(
                proto::CT_FLAGS,
                proto::CT_F_NOTRACK | proto::CT_F_NOTRACK_ALIAS
            ),
            stra(proto::CT_HELPER, "ftp"),
        ]),
        Reason::BadFlags
    );
    assert_eq!(ct(&[u32a(7, 0)]), Reason::UnknownOption);

    let cmt = |opts: &[Vec<u8>]| raw(&[tg(proto::TG_CONNMARK, opts)]);
    assert_eq!(
        cmt(&[u32a(proto::CONNMARK_TG_CTMARK, 1)]),
        Reason::MissingOption
    );
    assert_eq!(
        cmt(&[u32a(proto::CONNMARK_TG_MODE, 3)]),
        Reason::BadConnmarkMode
    );
    assert_eq!(
        cmt(&[u32a(proto::CONNMARK_TG_MODE, 0), u32a(5, 0)]),
        Reason::UnknownOption
    );
}

// ---------------------------------------------------------------------
// Validation.

#[test]
fn ct_only_in_raw_and_helper_needs_its_protocol() {
    let notrack = || tg(proto::TG_CT, &[u32a(proto::CT_FLAGS, proto::CT_F_NOTRACK)]);
    ok(&one_chain(
        TableKind::Raw,
        Hook::PreRouting,
        &[rule(&[notrack()])],
        &[],
    ));
    ok(&one_chain(
        TableKind::Raw,
        Hook::LocalOut,
        &[rule(&[notrack()]), rule(&[jump("u")])],
        &[user("u", &[rule(&[notrack()])])],
    ));
    for (kind, hook) in [
        (TableKind::Filter, Hook::LocalIn),
        (TableKind::Mangle, Hook::PreRouting),
        (TableKind::Mangle, Hook::LocalOut),
        (TableKind::Nat, Hook::PreRouting),
    ] {
        let e = load(&one_chain(kind, hook, &[rule(&[notrack()])], &[])).unwrap_err();
        assert_eq!(e.reason, Reason::WrongTable, "{kind:?}");
        assert_eq!(e.rule, Some(0));
    }
    let helper = |name: &str| tg(proto::TG_CT, &[stra(proto::CT_HELPER, name)]);
    let raw = |parts: &[Vec<u8>]| {
        load(&one_chain(
            TableKind::Raw,
            Hook::PreRouting,
            &[rule(parts)],
            &[],
        ))
    };
    assert!(raw(&[proto_(IPPROTO_TCP), helper("ftp")]).is_ok());
    assert!(raw(&[proto_(IPPROTO_UDP), helper("tftp")]).is_ok());
    for parts in [
        vec![helper("ftp")],
        vec![proto_(IPPROTO_UDP), helper("ftp")],
        vec![proto_(IPPROTO_TCP), helper("tftp")],
        vec![
            proto_(IPPROTO_TCP),
            u32a(proto::RULE_INVERT, proto::INV_PROTO),
            helper("ftp"),
        ],
    ] {
        assert_eq!(raw(&parts).unwrap_err().reason, Reason::HelperNeedsProtocol);
    }
    // With --notrack the helper is not looked up (xt_CT).
    assert!(raw(&[tg(
        proto::TG_CT,
        &[
            u32a(proto::CT_FLAGS, proto::CT_F_NOTRACK),
            stra(proto::CT_HELPER, "ftp"),
        ],
    )])
    .is_ok());
    // A user chain reached from a raw and ... only raw has CT; a chain of
    // raw reachable from nothing passes too.
    ok(&one_chain(
        TableKind::Raw,
        Hook::PreRouting,
        &[],
        &[user("lonely", &[rule(&[notrack()])])],
    ));
}

#[test]
fn conntrack_matches_and_connmark_anywhere() {
    let parts = [
        ctm(&[u32a(proto::CONNTRACK_STATE, proto::CTSTATE_NEW)]),
        mt(
            proto::MT_STATE,
            &[u32a(proto::STATE_MASK, proto::CTSTATE_NEW)],
        ),
        mt(proto::MT_CONNMARK, &[u32a(proto::CONNMARK_VALUE, 1)]),
        tg(
            proto::TG_CONNMARK,
            &[u32a(proto::CONNMARK_TG_MODE, proto::CONNMARK_SAVE)],
        ),
    ];
    for kind in [
        TableKind::Filter,
        TableKind::Mangle,
        TableKind::Raw,
        TableKind::Nat,
    ] {
        for &hook in kind.desc().hooks {
            ok(&one_chain(kind, hook, &[rule(&parts)], &[]));
        }
    }
}

// ---------------------------------------------------------------------
// Evaluation: state.

#[test]
fn state_match() {
    let state = |mask: u32, inv: bool| {
        let mut o = vec![u32a(proto::STATE_MASK, mask)];
        if inv {
            o.push(flag(proto::STATE_INVERT));
        }
        mt(proto::MT_STATE, &o)
    };
    let est_rel = proto::CTSTATE_ESTABLISHED | proto::CTSTATE_RELATED;
    assert!(hit(&[state(est_rel, false)], Some(entry(ct_state_bit(0)))));
    assert!(hit(&[state(est_rel, false)], Some(entry(ct_state_bit(4)))));
    assert!(!hit(&[state(est_rel, false)], Some(entry(ct_state_bit(2)))));
    assert!(hit(&[state(est_rel, true)], Some(entry(ct_state_bit(2)))));
    assert!(hit(
        &[state(proto::CTSTATE_NEW, false)],
        Some(entry(ct_state_bit(2)))
    ));
    // No entry: INVALID or UNTRACKED; None is UNTRACKED.
    assert!(hit(
        &[state(proto::CTSTATE_INVALID, false)],
        Some(CtView::INVALID)
    ));
    assert!(!hit(&[state(proto::CTSTATE_INVALID, false)], None));
    assert!(hit(&[state(proto::CTSTATE_UNTRACKED, false)], None));
    assert!(hit(
        &[state(proto::CTSTATE_UNTRACKED, false)],
        Some(untracked())
    ));
    assert!(!hit(&[state(proto::CTSTATE_UNTRACKED, true)], None));
    assert!(hit(&[state(est_rel, true)], None));
    assert!(!hit(&[state(est_rel, false)], Some(CtView::INVALID)));
    // NAT does not change the state.
    let mut natted = entry(proto::CTSTATE_NEW);
    natted.status |= eval::IPS_SRC_NAT;
    assert!(hit(&[state(proto::CTSTATE_NEW, false)], Some(natted)));
}

// ---------------------------------------------------------------------
// Evaluation: conntrack.

#[test]
fn conntrack_state_and_virtual_states() {
    let st = |mask: u32, inv: bool| {
        let mut o = vec![u32a(proto::CONNTRACK_STATE, mask)];
        if inv {
            o.push(ct_inv(proto::CONNTRACK_F_STATE));
        }
        ctm(&o)
    };
    let new = entry(proto::CTSTATE_NEW);
    assert!(hit(&[st(proto::CTSTATE_NEW, false)], Some(new)));
    assert!(!hit(&[st(proto::CTSTATE_NEW, true)], Some(new)));
    assert!(!hit(&[st(proto::CTSTATE_SNAT, false)], Some(new)));
    let mut snat = new;
    snat.status |= eval::IPS_SRC_NAT;
    assert!(hit(&[st(proto::CTSTATE_SNAT, false)], Some(snat)));
    assert!(!hit(&[st(proto::CTSTATE_DNAT, false)], Some(snat)));
    let mut dnat = new;
    dnat.status |= eval::IPS_DST_NAT;
    assert!(hit(&[st(proto::CTSTATE_DNAT, false)], Some(dnat)));
    // Inverted: the NAT bit counts too.
    assert!(!hit(&[st(proto::CTSTATE_DNAT, true)], Some(dnat)));
    assert!(hit(&[st(proto::CTSTATE_DNAT, true)], Some(snat)));
    // Without an entry.
    assert!(hit(&[st(proto::CTSTATE_UNTRACKED, false)], None));
    assert!(hit(
        &[st(proto::CTSTATE_INVALID, false)],
        Some(CtView::INVALID)
    ));
    assert!(!hit(&[st(proto::CTSTATE_INVALID, false)], None));
    assert!(hit(&[st(proto::CTSTATE_NEW, true)], Some(CtView::INVALID)));
    // Without an entry, a rule without --ctstate never matches, inverted
    // or not; one with a --ctstate that passes matches whatever the other
    // options say (conntrack_mt returns early).
    for opts in [
        vec![u8a(proto::CONNTRACK_PROTO, IPPROTO_UDP)],
        vec![
            u8a(proto::CONNTRACK_PROTO, IPPROTO_TCP),
            ct_inv(proto::CONNTRACK_F_PROTO),
        ],
        vec![u32a(proto::CONNTRACK_DIR, proto::CTDIR_ORIGINAL)],
        vec![
            u32a(proto::CONNTRACK_EXPIRES_MIN, 0),
            u32a(proto::CONNTRACK_EXPIRES_MAX, u32::MAX),
        ],
    ] {
        assert!(!hit(&[ctm(&opts)], None), "{opts:?}");
        assert!(!hit(&[ctm(&opts)], Some(CtView::INVALID)), "{opts:?}");
        let mut with_state = opts.clone();
        with_state.push(u32a(proto::CONNTRACK_STATE, proto::CTSTATE_UNTRACKED));
        assert!(hit(&[ctm(&with_state)], None), "{opts:?}");
        assert!(!hit(&[ctm(&with_state)], Some(CtView::INVALID)), "{opts:?}");
    }
}

#[test]
fn conntrack_tuple_options() {
    let e = Some(entry(proto::CTSTATE_ESTABLISHED));
    let check = |opts: Vec<Vec<u8>>, f: u32, want: bool| {
        assert_eq!(hit(&[ctm(&opts)], e), want, "{opts:?}");
        let mut inv = opts.clone();
        inv.push(ct_inv(f));
        assert_eq!(hit(&[ctm(&inv)], e), !want, "! {opts:?}");
    };
    let a = |k: u16, v: [u8; 4]| attr(k, &v);
    check(
        vec![u8a(proto::CONNTRACK_PROTO, IPPROTO_UDP)],
        proto::CONNTRACK_F_PROTO,
        true,
    );
    check(
        vec![u8a(proto::CONNTRACK_PROTO, IPPROTO_TCP)],
        proto::CONNTRACK_F_PROTO,
        false,
    );
    check(
        vec![u8a(proto::CONNTRACK_PROTO, 0)],
        proto::CONNTRACK_F_PROTO,
        false,
    );
    check(
        vec![a(proto::CONNTRACK_ORIGSRC, [10, 0, 0, 1])],
        proto::CONNTRACK_F_ORIGSRC,
        true,
    );
    check(
        vec![
            a(proto::CONNTRACK_ORIGSRC, [10, 0, 0, 99]),
            a(proto::CONNTRACK_ORIGSRC_MASK, [255, 255, 255, 0]),
        ],
        proto::CONNTRACK_F_ORIGSRC,
        true,
    );
    check(
        vec![a(proto::CONNTRACK_ORIGDST, [10, 0, 0, 1])],
        proto::CONNTRACK_F_ORIGDST,
        false,
    );
    check(
        vec![
            a(proto::CONNTRACK_ORIGDST, [10, 7, 0, 2]),
            a(proto::CONNTRACK_ORIGDST_MASK, [255, 0, 255, 255]),
        ],
        proto::CONNTRACK_F_ORIGDST,
        true,
    );
    check(
        vec![a(proto::CONNTRACK_REPLSRC, [10, 0, 0, 2])],
        proto::CONNTRACK_F_REPLSRC,
        true,
    );
    check(
        vec![
            a(proto::CONNTRACK_REPLDST, [192, 0, 2, 0]),
            a(proto::CONNTRACK_REPLDST_MASK, [255, 255, 255, 0]),
        ],
        proto::CONNTRACK_F_REPLDST,
        true,
    );
    check(
        vec![a(proto::CONNTRACK_REPLDST, [10, 0, 0, 1])],
        proto::CONNTRACK_F_REPLDST,
        false,
    );
    check(
        vec![
            a(proto::CONNTRACK_REPLDST, [1, 2, 3, 4]),
            a(proto::CONNTRACK_REPLDST_MASK, [0; 4]),
        ],
        proto::CONNTRACK_F_REPLDST,
        true,
    );
    check(
        vec![u32a(proto::CONNTRACK_ORIGSRC_PORT, ports(1000, 1000))],
        proto::CONNTRACK_F_ORIGSRC_PORT,
        true,
    );
    check(
        vec![u32a(proto::CONNTRACK_ORIGDST_PORT, ports(54, 100))],
        proto::CONNTRACK_F_ORIGDST_PORT,
        false,
    );
    check(
        vec![u32a(proto::CONNTRACK_REPLSRC_PORT, ports(0, 53))],
        proto::CONNTRACK_F_REPLSRC_PORT,
        true,
    );
    check(
        vec![u32a(proto::CONNTRACK_REPLDST_PORT, ports(2000, 65535))],
        proto::CONNTRACK_F_REPLDST_PORT,
        true,
    );
    // A range upside down holds no port.
    check(
        vec![u32a(proto::CONNTRACK_REPLDST_PORT, ports(3000, 1000))],
        proto::CONNTRACK_F_REPLDST_PORT,
        false,
    );
    check(
        vec![u32a(
            proto::CONNTRACK_STATUS,
            proto::CTSTATUS_ASSURED | proto::CTSTATUS_SEEN_REPLY,
        )],
        proto::CONNTRACK_F_STATUS,
        true,
    );
    check(
        vec![u32a(proto::CONNTRACK_STATUS, proto::CTSTATUS_EXPECTED)],
        proto::CONNTRACK_F_STATUS,
        false,
    );
    // --ctstatus NONE matches nothing, and so ! --ctstatus NONE all.
    check(
        vec![u32a(proto::CONNTRACK_STATUS, 0)],
        proto::CONNTRACK_F_STATUS,
        false,
    );
    check(
        vec![u32a(proto::CONNTRACK_EXPIRES_MIN, 30)],
        proto::CONNTRACK_F_EXPIRES,
        true,
    );
    check(
        vec![
            u32a(proto::CONNTRACK_EXPIRES_MIN, 31),
            u32a(proto::CONNTRACK_EXPIRES_MAX, 100),
        ],
        proto::CONNTRACK_F_EXPIRES,
        false,
    );
    check(
        vec![
            u32a(proto::CONNTRACK_EXPIRES_MIN, 0),
            u32a(proto::CONNTRACK_EXPIRES_MAX, 30),
        ],
        proto::CONNTRACK_F_EXPIRES,
        true,
    );
    check(
        vec![
            u32a(proto::CONNTRACK_EXPIRES_MIN, 40),
            u32a(proto::CONNTRACK_EXPIRES_MAX, 20),
        ],
        proto::CONNTRACK_F_EXPIRES,
        false,
    );
}

#[test]
fn conntrack_direction_and_all_options_together() {
    let orig = entry(proto::CTSTATE_NEW);
    let reply = CtView {
        dir: CtDir::Reply,
        state: proto::CTSTATE_ESTABLISHED,
        ..orig
    };
    let dir = |d: u32| ctm(&[u32a(proto::CONNTRACK_DIR, d)]);
    assert!(hit(&[dir(proto::CTDIR_ORIGINAL)], Some(orig)));
    assert!(!hit(&[dir(proto::CTDIR_REPLY)], Some(orig)));
    assert!(hit(&[dir(proto::CTDIR_REPLY)], Some(reply)));
    assert!(!hit(&[dir(proto::CTDIR_ORIGINAL)], Some(reply)));
    // Every option at once: all must pass.
    let all = |expires_min: u32| {
        ctm(&[
            u32a(
                proto::CONNTRACK_STATE,
                proto::CTSTATE_NEW | proto::CTSTATE_RELATED,
            ),
            u8a(proto::CONNTRACK_PROTO, IPPROTO_UDP),
            attr(proto::CONNTRACK_ORIGSRC, &[10, 0, 0, 0]),
            attr(proto::CONNTRACK_ORIGSRC_MASK, &[255, 0, 0, 0]),
            attr(proto::CONNTRACK_ORIGDST, &[10, 0, 0, 2]),
            attr(proto::CONNTRACK_REPLSRC, &[10, 0, 0, 9]),
            attr(proto::CONNTRACK_REPLDST, &[192, 0, 2, 1]),
            u32a(proto::CONNTRACK_ORIGSRC_PORT, ports(1000, 1000)),
            u32a(proto::CONNTRACK_ORIGDST_PORT, ports(53, 53)),
            u32a(proto::CONNTRACK_REPLSRC_PORT, ports(53, 53)),
            u32a(proto::CONNTRACK_REPLDST_PORT, ports(1, 1999)),
            u32a(proto::CONNTRACK_STATUS, proto::CTSTATUS_CONFIRMED),
            u32a(proto::CONNTRACK_EXPIRES_MIN, expires_min),
            u32a(proto::CONNTRACK_EXPIRES_MAX, 60),
            u32a(proto::CONNTRACK_DIR, proto::CTDIR_ORIGINAL),
            ct_inv(proto::CONNTRACK_F_REPLSRC | proto::CONNTRACK_F_REPLDST_PORT),
        ])
    };
    assert!(hit(&[all(30)], Some(orig)));
    assert!(!hit(&[all(31)], Some(orig)));
    assert!(!hit(&[all(30)], Some(reply)));
    // One lookup per conntrack match.
    let o = ok(&filter_input(&[rule(&[all(30), all(0), accept()])]));
    let (v, ctx) = run_with(&o, Hook::LocalIn, Some(orig), 0);
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.lookups, 2);
}

// ---------------------------------------------------------------------
// Evaluation: connmark.

#[test]
fn connmark_match() {
    let cm = |value: u32, mask: Option<u32>, inv: bool| {
        let mut o = vec![u32a(proto::CONNMARK_VALUE, value)];
        if let Some(m) = mask {
            o.push(u32a(proto::CONNMARK_MASK, m));
        }
        if inv {
            o.push(flag(proto::CONNMARK_INVERT));
        }
        mt(proto::MT_CONNMARK, &o)
    };
    let e = Some(entry(proto::CTSTATE_ESTABLISHED));
    assert!(hit(&[cm(0x11, None, false)], e));
    assert!(!hit(&[cm(0x11, None, true)], e));
    assert!(!hit(&[cm(0x1, None, false)], e));
    assert!(hit(&[cm(0x1, Some(0xf), false)], e));
    assert!(hit(&[cm(0x10, Some(0xf0), false)], e));
    assert!(hit(&[cm(0x0, Some(0xf00), false)], e));
    assert!(hit(&[cm(0x2, Some(0xf), true)], e));
    // The packet's own mark is not the connection's.
    let o = ok(&filter_input(&[rule(&[cm(0x11, None, false), accept()])]));
    assert_eq!(run_with(&o, Hook::LocalIn, None, 0x11).0, Verdict::Drop);
    // No entry: never, inverted or not.
    for ct in [None, Some(CtView::INVALID), Some(untracked())] {
        assert!(!hit(&[cm(0, Some(0), false)], ct));
        assert!(!hit(&[cm(0x11, None, true)], ct));
    }
}

// ---------------------------------------------------------------------
// Evaluation: CT and NOTRACK.

#[test]
fn ct_target_acts_and_continues() {
    let state_untracked = mt(
        proto::MT_STATE,
        &[u32a(proto::STATE_MASK, proto::CTSTATE_UNTRACKED)],
    );
    let raw = |rules: &[Vec<u8>]| ok(&one_chain(TableKind::Raw, Hook::PreRouting, rules, &[]));
    // NOTRACK, then a rule that sees the packet untracked.
    let o = raw(&[
        rule(&[tg(
            proto::TG_CT,
            &[u32a(
                proto::CT_FLAGS,
                proto::CT_F_NOTRACK | proto::CT_F_NOTRACK_ALIAS,
            )],
        )]),
        rule(&[state_untracked.clone(), accept()]),
    ]);
    let (v, ctx) = run_with(&o, Hook::PreRouting, None, 0);
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.notracks, 1);
    assert!(ctx.helpers.is_empty());
    // A packet with conntrack state keeps it (the kernel's call).
    let (v, ctx) = run_with(&o, Hook::PreRouting, Some(CtView::INVALID), 0);
    assert_eq!(v, Verdict::Drop);
    assert_eq!(ctx.notracks, 1);

    // --helper.
    let o = raw(&[
        rule(&[
            proto_(IPPROTO_TCP),
            tg(proto::TG_CT, &[stra(proto::CT_HELPER, "ftp")]),
        ]),
        rule(&[tg(proto::TG_CT, &[])]),
    ]);
    let mut p = packet(0);
    p.pkt.protocol = IPPROTO_TCP;
    let mut ctx = CtCtx::default();
    assert_eq!(
        evaluate(&o.table(), Hook::PreRouting, &p, &mut ctx),
        Verdict::Drop
    );
    assert_eq!(ctx.helpers, [CtHelper::Ftp]);
    assert_eq!(ctx.notracks, 0);

    // --notrack wins over --helper; -j CT alone does nothing.
    let o = raw(&[rule(&[tg(
        proto::TG_CT,
        &[
            u32a(proto::CT_FLAGS, proto::CT_F_NOTRACK),
            stra(proto::CT_HELPER, "tftp"),
        ],
    )])]);
    let (_, ctx) = run_with(&o, Hook::PreRouting, None, 0);
    assert_eq!((ctx.notracks, ctx.helpers.len()), (1, 0));
    let o = raw(&[rule(&[tg(proto::TG_CT, &[])])]);
    let (_, ctx) = run_with(&o, Hook::PreRouting, None, 0);
    assert_eq!((ctx.notracks, ctx.helpers.len(), ctx.lookups), (0, 0, 0));
}

// ---------------------------------------------------------------------
// Evaluation: CONNMARK.

fn connmark_tg(mode: u32, ctmark: u32, ctmask: u32, nfmask: u32) -> Vec<u8> {
    tg(
        proto::TG_CONNMARK,
        &[
            u32a(proto::CONNMARK_TG_MODE, mode),
            u32a(proto::CONNMARK_TG_CTMARK, ctmark),
            u32a(proto::CONNMARK_TG_CTMASK, ctmask),
            u32a(proto::CONNMARK_TG_NFMASK, nfmask),
        ],
    )
}

#[test]
fn connmark_target_arithmetic() {
    let t = |mode, ctmark, ctmask, nfmask| SetConnMark {
        mode,
        ctmark,
        ctmask,
        nfmask,
    };
    // --set-xmark 0x1/0xff on ctmark 0x1234.
    let s = t(ConnMarkMode::Set, 0x1, 0xff, u32::MAX);
    assert_eq!(s.new_ctmark(0x1234, 0xdead), Some(0x1201));
    assert_eq!(s.new_mark(0x1234, 0xdead), None);
    // --save-mark --nfmask 0xf0 --ctmask 0xff.
    let s = t(ConnMarkMode::Save, 0, 0xff, 0xf0);
    assert_eq!(s.new_ctmark(0x1234, 0xabcd), Some(0x12c0));
    // --restore-mark --nfmask 0xff --ctmask 0x0f.
    let s = t(ConnMarkMode::Restore, 0, 0x0f, 0xff);
    assert_eq!(s.new_ctmark(0x1234, 0xabcd), None);
    assert_eq!(s.new_mark(0x1234, 0xabcd), Some(0xab04));
    // Defaults: save and restore copy the whole mark.
    let s = SetConnMark {
        mode: ConnMarkMode::Save,
        ..SetConnMark::default()
    };
    assert_eq!(s.new_ctmark(7, 9), Some(9));
}

#[test]
fn connmark_target_through_the_context() {
    let mangle =
        |rules: &[Vec<u8>]| ok(&one_chain(TableKind::Mangle, Hook::PreRouting, rules, &[]));
    let mark_is = |v: u32| mt(proto::MT_MARK, &[u32a(proto::MARK_VALUE, v)]);
    let connmark_is = |v: u32| mt(proto::MT_CONNMARK, &[u32a(proto::CONNMARK_VALUE, v)]);
    let e = Some(entry(proto::CTSTATE_ESTABLISHED)); // ct mark 0x11

    // Set, then a later connmark match sees the new mark.
    let o = mangle(&[
        rule(&[connmark_tg(proto::CONNMARK_SET, 0x100, 0xff, u32::MAX)]),
        rule(&[connmark_is(0x100), accept()]),
    ]);
    let (v, ctx) = run_with(&o, Hook::PreRouting, e, 0x5);
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.ct_marks, [0x100]);
    assert!(ctx.marks.is_empty());

    // A set that changes nothing is not written.
    let o = mangle(&[rule(&[connmark_tg(proto::CONNMARK_SET, 0x11, u32::MAX, 0)])]);
    let (_, ctx) = run_with(&o, Hook::PreRouting, e, 0);
    assert!(ctx.ct_marks.is_empty());

    // Save.
    let o = mangle(&[rule(&[connmark_tg(proto::CONNMARK_SAVE, 0, 0xf0, 0xf0)])]);
    let (_, ctx) = run_with(&o, Hook::PreRouting, e, 0xabc);
    assert_eq!(ctx.ct_marks, [0xb1]);

    // Restore, then a later mark match sees the packet's new mark.
    let o = mangle(&[
        rule(&[connmark_tg(proto::CONNMARK_RESTORE, 0, 0x0f, 0xff)]),
        rule(&[mark_is(0x701), accept()]),
    ]);
    let (v, ctx) = run_with(&o, Hook::PreRouting, e, 0x7ff);
    assert_eq!(v, Verdict::Accept);
    assert_eq!(ctx.marks, [0x701]);
    assert!(ctx.ct_marks.is_empty());

    // Without an entry nothing happens, whatever the mode.
    for mode in [
        proto::CONNMARK_SET,
        proto::CONNMARK_SAVE,
        proto::CONNMARK_RESTORE,
    ] {
        for ct in [None, Some(CtView::INVALID), Some(untracked())] {
            let o = mangle(&[rule(&[connmark_tg(mode, 1, 1, 1)])]);
            let (v, ctx) = run_with(&o, Hook::PreRouting, ct, 3);
            assert_eq!(v, Verdict::Drop);
            assert!(ctx.marks.is_empty() && ctx.ct_marks.is_empty());
        }
    }
}
