// SPDX-License-Identifier: GPL-2.0

//! `NFQNL_MSG_CONFIG`: one test per row of `nfqnl_recv_config`'s checks,
//! in its order, and what real clients send.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::super::config::{
    apply, encode_config, parse_config, Action, ConfigCmd, ConfigParams, ConfigRequest, CopyMode,
    QueueConfig, Support,
};
use super::super::consts::*;
use super::super::msg::parse_request;
use super::super::Errno;
use super::{attr, be32, request};

/// The listener of the tests.
const ME: u32 = 4242;
/// Another socket.
const OTHER: u32 = 777;

/// `NFQA_CFG_CMD` with `command` and `pf`.
fn cmd(command: u8, pf: u16) -> Vec<u8> {
    let [p0, p1] = pf.to_be_bytes();
    attr(NFQA_CFG_CMD, &[command, 0, p0, p1])
}

/// `NFQA_CFG_PARAMS` with `mode` and `range`.
fn params(mode: u8, range: u32) -> Vec<u8> {
    let mut p = range.to_be_bytes().to_vec();
    p.push(mode);
    attr(NFQA_CFG_PARAMS, &p)
}

/// What a config message of `parts` does to a queue bound as `existing`.
fn run(existing: Option<&QueueConfig>, parts: &[Vec<u8>]) -> Result<Action, Errno> {
    run_with(existing, parts, Support::default())
}

fn run_with(
    existing: Option<&QueueConfig>,
    parts: &[Vec<u8>],
    support: Support,
) -> Result<Action, Errno> {
    let req = parse_config(&parts.concat())?;
    apply(existing, ME, &req, support)
}

/// A queue bound by `portid` in copy mode packet.
fn bound(portid: u32) -> QueueConfig {
    let mut q = QueueConfig::new(portid);
    q.set_mode(NFQNL_COPY_PACKET, 0xffff).unwrap();
    q
}

#[test]
fn row1_pf_bind_and_pf_unbind_succeed_and_look_at_nothing() {
    for c in [NFQNL_CFG_CMD_PF_BIND, NFQNL_CFG_CMD_PF_UNBIND] {
        assert_eq!(run(None, &[cmd(c, 2)]), Ok(Action::Nothing));
        // Not even a queue bound by someone else, or garbage flags.
        assert_eq!(
            run(
                Some(&bound(OTHER)),
                &[cmd(c, 10), be32(NFQA_CFG_FLAGS, 0xffff_ffff)]
            ),
            Ok(Action::Nothing)
        );
        assert_eq!(
            run(
                None,
                &[
                    be32(NFQA_CFG_FLAGS, 1 << 20),
                    be32(NFQA_CFG_MASK, !0),
                    cmd(c, 0),
                    params(9, 0),
                ]
            ),
            Ok(Action::Nothing)
        );
    }
}

#[test]
fn row2_flags_without_mask_is_einval() {
    assert_eq!(
        run(None, &[be32(NFQA_CFG_FLAGS, NFQA_CFG_F_GSO)]),
        Err(Errno::Inval)
    );
    // Before the owner check and the command.
    assert_eq!(
        run(
            Some(&bound(OTHER)),
            &[cmd(NFQNL_CFG_CMD_BIND, 0), be32(NFQA_CFG_FLAGS, 0)]
        ),
        Err(Errno::Inval)
    );
    // A mask alone is fine (and changes nothing).
    let q = bound(ME);
    assert_eq!(
        run(Some(&q), &[be32(NFQA_CFG_MASK, !0)]),
        Ok(Action::Update(q))
    );
}

#[test]
fn row3_unknown_flags_are_eopnotsupp() {
    for flags in [NFQA_CFG_F_MAX, NFQA_CFG_F_MAX | 1, 0xffff_ffff] {
        assert_eq!(
            run(
                Some(&bound(OTHER)),
                &[be32(NFQA_CFG_FLAGS, flags), be32(NFQA_CFG_MASK, 0)]
            ),
            Err(Errno::OpNotSupp),
            "{flags:#x}"
        );
    }
    // The value is checked whatever the mask: F_MAX - 1 is the most.
    let q = bound(ME);
    assert!(run(
        Some(&q),
        &[
            be32(
                NFQA_CFG_FLAGS,
                NFQA_CFG_F_MAX - 1 - NFQA_CFG_F_SECCTX - NFQA_CFG_F_CONNTRACK
            ),
            be32(NFQA_CFG_MASK, !0)
        ]
    )
    .is_ok());
}

#[test]
fn row4_secctx_needs_secmark() {
    let q = bound(ME);
    let set = [
        be32(NFQA_CFG_FLAGS, NFQA_CFG_F_SECCTX),
        be32(NFQA_CFG_MASK, NFQA_CFG_F_SECCTX),
    ];
    assert_eq!(run(Some(&q), &set), Err(Errno::OpNotSupp));
    // Before the owner check.
    assert_eq!(run(Some(&bound(OTHER)), &set), Err(Errno::OpNotSupp));
    // Set but masked out: not a change, no error.
    assert!(run(
        Some(&q),
        &[
            be32(NFQA_CFG_FLAGS, NFQA_CFG_F_SECCTX),
            be32(NFQA_CFG_MASK, NFQA_CFG_F_GSO)
        ]
    )
    .is_ok());
    let support = Support {
        secctx: true,
        ..Support::default()
    };
    let Ok(Action::Update(c)) = run_with(Some(&q), &set, support) else {
        panic!()
    };
    assert!(c.has_flag(NFQA_CFG_F_SECCTX));
}

#[test]
fn row5_conntrack_needs_ctnetlink() {
    let q = bound(ME);
    let set = [
        be32(NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_GSO),
        be32(NFQA_CFG_MASK, NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_GSO),
    ];
    assert_eq!(run(Some(&q), &set), Err(Errno::OpNotSupp));
    // Clearing it is fine.
    assert!(run(
        Some(&q),
        &[
            be32(NFQA_CFG_FLAGS, 0),
            be32(NFQA_CFG_MASK, NFQA_CFG_F_CONNTRACK)
        ]
    )
    .is_ok());
    let support = Support {
        conntrack: true,
        ..Support::default()
    };
    let Ok(Action::Update(c)) = run_with(Some(&q), &set, support) else {
        panic!()
    };
    assert_eq!(c.flags, NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_GSO);
}

#[test]
fn row6_queue_of_another_socket_is_eperm() {
    let theirs = bound(OTHER);
    for parts in [
        vec![cmd(NFQNL_CFG_CMD_BIND, 0)],
        vec![cmd(NFQNL_CFG_CMD_UNBIND, 0)],
        vec![cmd(NFQNL_CFG_CMD_NONE, 0)],
        vec![params(NFQNL_COPY_META, 0)],
        vec![],
    ] {
        assert_eq!(run(Some(&theirs), &parts), Err(Errno::Perm));
    }
}

#[test]
fn row7_bind_of_a_bound_queue_is_ebusy() {
    assert_eq!(
        run(Some(&bound(ME)), &[cmd(NFQNL_CFG_CMD_BIND, 2)]),
        Err(Errno::Busy)
    );
}

#[test]
fn row8_bind_creates_with_the_defaults() {
    let Ok(Action::Create(c)) = run(None, &[cmd(NFQNL_CFG_CMD_BIND, 0)]) else {
        panic!()
    };
    assert_eq!(
        c,
        QueueConfig {
            portid: ME,
            copy_mode: CopyMode::None,
            copy_range: 65531,
            maxlen: 1024,
            flags: 0,
        }
    );
    assert_eq!(c, QueueConfig::new(ME));
}

#[test]
fn row9_unbind() {
    assert_eq!(
        run(None, &[cmd(NFQNL_CFG_CMD_UNBIND, 0)]),
        Err(Errno::NoDev)
    );
    // Unbind returns at once: the rest of the message is not applied.
    assert_eq!(
        run(
            Some(&bound(ME)),
            &[
                cmd(NFQNL_CFG_CMD_UNBIND, 0),
                params(7, 0),
                be32(NFQA_CFG_QUEUE_MAXLEN, 1)
            ]
        ),
        Ok(Action::Destroy)
    );
}

#[test]
fn row10_unknown_command_is_eopnotsupp() {
    for c in [NFQNL_CFG_CMD_NONE, 5, 0xff] {
        assert_eq!(run(None, &[cmd(c, 0)]), Err(Errno::OpNotSupp), "{c}");
        assert_eq!(
            run(Some(&bound(ME)), &[cmd(c, 0)]),
            Err(Errno::OpNotSupp),
            "{c}"
        );
    }
}

#[test]
fn row11_no_queue_is_enodev() {
    assert_eq!(run(None, &[]), Err(Errno::NoDev));
    assert_eq!(
        run(None, &[params(NFQNL_COPY_PACKET, 0)]),
        Err(Errno::NoDev)
    );
    assert_eq!(
        run(
            None,
            &[
                be32(NFQA_CFG_FLAGS, NFQA_CFG_F_GSO),
                be32(NFQA_CFG_MASK, NFQA_CFG_F_GSO)
            ]
        ),
        Err(Errno::NoDev)
    );
}

#[test]
fn row12_params_set_the_copy_mode() {
    let q = QueueConfig::new(ME);
    let mode = |m: u8, r: u32| match run(Some(&q), &[params(m, r)]) {
        Ok(Action::Update(c)) => (c.copy_mode, c.copy_range),
        other => panic!("{other:?}"),
    };
    assert_eq!(mode(NFQNL_COPY_PACKET, 0), (CopyMode::Packet, 65531));
    assert_eq!(mode(NFQNL_COPY_PACKET, 0xffff), (CopyMode::Packet, 65531));
    assert_eq!(mode(NFQNL_COPY_PACKET, 65531), (CopyMode::Packet, 65531));
    assert_eq!(mode(NFQNL_COPY_PACKET, 65532), (CopyMode::Packet, 65531));
    assert_eq!(mode(NFQNL_COPY_PACKET, 100), (CopyMode::Packet, 100));
    assert_eq!(mode(NFQNL_COPY_PACKET, 1), (CopyMode::Packet, 1));
    assert_eq!(mode(NFQNL_COPY_META, 100), (CopyMode::Meta, 0));
    assert_eq!(mode(NFQNL_COPY_NONE, 100), (CopyMode::None, 0));
}

#[test]
fn row12_a_bad_copy_mode_is_ignored_without_error() {
    let q = bound(ME);
    for m in [3, 0x80, 0xff] {
        assert_eq!(
            run(Some(&q), &[params(m, 10)]),
            Ok(Action::Update(q)),
            "{m}"
        );
    }
    // ... and the rest of the message still applies.
    let Ok(Action::Update(c)) = run(Some(&q), &[params(3, 10), be32(NFQA_CFG_QUEUE_MAXLEN, 5)])
    else {
        panic!()
    };
    assert_eq!(
        (c.copy_mode, c.copy_range, c.maxlen),
        (CopyMode::Packet, 65531, 5)
    );
    let mut c = q;
    assert_eq!(c.set_mode(3, 10), Err(Errno::Inval));
    assert_eq!(c, q);
}

#[test]
fn row13_queue_maxlen_has_no_bound() {
    for n in [0, 1, 1024, u32::MAX] {
        let Ok(Action::Update(c)) = run(Some(&bound(ME)), &[be32(NFQA_CFG_QUEUE_MAXLEN, n)]) else {
            panic!()
        };
        assert_eq!(c.maxlen, n);
    }
}

#[test]
fn row14_flags_change_under_the_mask() {
    let mut q = bound(ME);
    q.flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_UID_GID;
    let Ok(Action::Update(c)) = run(
        Some(&q),
        &[
            be32(NFQA_CFG_FLAGS, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN),
            be32(NFQA_CFG_MASK, NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID),
        ],
    ) else {
        panic!()
    };
    // GSO set, UID_GID cleared, FAIL_OPEN outside the mask: kept.
    assert_eq!(c.flags, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN);
}

#[test]
fn bind_with_settings_in_one_message() {
    // The kernel selftest's PARAMS + FLAGS(GSO | UID_GID) after BIND,
    // here all in one message: created with all of it.
    let Ok(Action::Create(c)) = run(
        None,
        &[
            cmd(NFQNL_CFG_CMD_BIND, 2),
            params(NFQNL_COPY_PACKET, 0xffff),
            be32(NFQA_CFG_QUEUE_MAXLEN, 4),
            be32(NFQA_CFG_FLAGS, NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID),
            be32(NFQA_CFG_MASK, NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID),
        ],
    ) else {
        panic!()
    };
    assert_eq!(c.copy_mode, CopyMode::Packet);
    assert_eq!(c.copy_range, 65531);
    assert_eq!(c.maxlen, 4);
    assert_eq!(c.flags, NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID);
    // Fail-open is accepted and honoured.
    let Ok(Action::Update(c)) = run(
        Some(&c),
        &[
            be32(NFQA_CFG_FLAGS, NFQA_CFG_F_FAIL_OPEN),
            be32(NFQA_CFG_MASK, NFQA_CFG_F_FAIL_OPEN),
        ],
    ) else {
        panic!()
    };
    assert!(c.has_flag(NFQA_CFG_F_FAIL_OPEN));
}

#[test]
fn policy_errors_come_first() {
    assert_eq!(
        parse_config(&attr(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_PF_BIND, 0, 0])),
        Err(Errno::Range)
    );
    assert_eq!(
        parse_config(&attr(NFQA_CFG_PARAMS, &[0, 0, 0, 0])),
        Err(Errno::Range)
    );
    // Longer than the struct: accepted, the fields from the start.
    let req = parse_config(
        &[
            attr(NFQA_CFG_CMD, &[1, 0, 0, 2, 9, 9]),
            attr(NFQA_CFG_QUEUE_MAXLEN, &[0, 0, 0, 8, 1, 1, 1, 1]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(req.cmd, Some(ConfigCmd { command: 1, pf: 2 }));
    assert_eq!(req.maxlen, Some(8));
}

/// The bytes of a message libnetfilter_queue's mnl API builds for the
/// Debian example's bind (`nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, 0)` then
/// `nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND)`), sequence
/// 0, laid out by hand from the uapi structs.
#[test]
fn encode_config_matches_the_library_layout() {
    let req = ConfigRequest {
        cmd: Some(ConfigCmd {
            command: NFQNL_CFG_CMD_BIND,
            pf: 2,
        }),
        ..ConfigRequest::default()
    };
    let mut buf = [0u8; 64];
    let n = encode_config(&mut buf, 0, 0, 0, &req, false).unwrap();
    let mut want = Vec::new();
    want.extend_from_slice(&28u32.to_ne_bytes());
    want.extend_from_slice(&0x0302u16.to_ne_bytes());
    want.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    want.extend_from_slice(&[0; 8]);
    want.extend_from_slice(&[0, 0, 0, 0]);
    want.extend_from_slice(&8u16.to_ne_bytes());
    want.extend_from_slice(&NFQA_CFG_CMD.to_ne_bytes());
    want.extend_from_slice(&[1, 0, 0, 2]);
    assert_eq!(&buf[..n], &want[..]);
}

#[test]
fn encode_config_round_trips() {
    let req = ConfigRequest {
        cmd: Some(ConfigCmd {
            command: NFQNL_CFG_CMD_BIND,
            pf: 0,
        }),
        params: Some(ConfigParams {
            copy_range: 0xffff,
            copy_mode: NFQNL_COPY_PACKET,
        }),
        maxlen: Some(77),
        mask: Some(NFQA_CFG_F_GSO),
        flags: Some(NFQA_CFG_F_GSO),
    };
    let mut buf = [0u8; 128];
    let n = encode_config(&mut buf, 9, 300, 0, &req, true).unwrap();
    let r = parse_request(&buf[..n]).unwrap().unwrap();
    assert_eq!(r.msg, NFQNL_MSG_CONFIG);
    assert_eq!(r.nfgen.res_id, 300);
    assert_eq!(r.header.flags, NLM_F_REQUEST | NLM_F_ACK);
    assert_eq!(r.header.seq, 9);
    assert_eq!(parse_config(r.attrs), Ok(req));
    // Too small a buffer fails cleanly at every size.
    for size in 0..n {
        let mut small = std::vec![0u8; size];
        assert!(encode_config(&mut small, 9, 300, 0, &req, true).is_err());
    }
    // A whole request built by hand decodes the same.
    let msg = request(
        NFQNL_MSG_CONFIG,
        NLM_F_REQUEST,
        300,
        &[
            cmd(NFQNL_CFG_CMD_BIND, 0),
            params(NFQNL_COPY_PACKET, 0xffff),
        ]
        .concat(),
    );
    let r = parse_request(&msg).unwrap().unwrap();
    let got = parse_config(r.attrs).unwrap();
    assert_eq!(got.cmd, req.cmd);
    assert_eq!(got.params, req.params);
}

/// Every configuration a config message makes survives `pack` and
/// `unpack`: the packet path reads it from one word.
#[test]
fn packed_settings_are_the_configuration() {
    let support = Support {
        conntrack: true,
        secctx: true,
    };
    let mut seen = 0;
    for mode in [NFQNL_COPY_NONE, NFQNL_COPY_META, NFQNL_COPY_PACKET] {
        for range in [0, 1, 64, 0xfffb, 0xfffc, 0xffff, u32::MAX] {
            for flags in 0..NFQA_CFG_F_MAX {
                for maxlen in [0, 1, 1024, 0x8000_0001, u32::MAX] {
                    let parts = [
                        params(mode, range),
                        be32(NFQA_CFG_FLAGS, flags),
                        be32(NFQA_CFG_MASK, !0),
                        be32(NFQA_CFG_QUEUE_MAXLEN, maxlen),
                    ];
                    let existing = bound(ME);
                    let Ok(Action::Update(c)) = run_with(Some(&existing), &parts, support) else {
                        panic!("mode {mode} range {range} flags {flags:#x} maxlen {maxlen}");
                    };
                    assert_eq!(QueueConfig::unpack(ME, c.pack()), c, "{c:?}");
                    seen += 1;
                }
            }
        }
    }
    assert_eq!(seen, 3 * 7 * NFQA_CFG_F_MAX * 5);
}
