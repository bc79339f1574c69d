// SPDX-License-Identifier: GPL-2.0

//! Host tests of `rfctl queue`: the command line, the requests byte by
//! byte (against hand-built vectors and the core's encoders), packet
//! lines, and whole runs against a scripted kernel.

use std::time::Duration;

use rfcore::nfqueue::config::{encode_config, ConfigCmd, ConfigRequest};
use rfcore::nfqueue::consts::*;
use rfcore::nfqueue::fixup::fixup;
use rfcore::nfqueue::verdict::{encode_verdict, VerdictRequest};

use super::args::{parse, Copy, Verdict};
use super::show::{errno_name, errno_text, ipv4_summary, packet_line};
use super::*;
use crate::netlink::testutil::{Answer, Script};

fn strs(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn opts(a: &[&str]) -> Opts {
    parse(&strs(a)).unwrap()
}

fn usage_err(a: &[&str]) -> String {
    parse(&strs(a)).unwrap_err().0
}

#[test]
fn defaults() {
    let o = opts(&["--num", "3"]);
    assert_eq!(o.num, 3);
    assert_eq!(o.verdict, Verdict::Accept);
    assert_eq!(
        o.copy,
        Copy {
            mode: NFQNL_COPY_PACKET,
            range: 0xffff
        }
    );
    assert_eq!(
        (o.mark, o.count, o.batch, o.maxlen),
        (None, None, None, None)
    );
    assert_eq!(o.flags, 0);
    assert!(!o.hold && !o.fix_checksums && o.rewrite.is_none() && o.delay.is_none());
}

#[test]
fn every_option() {
    let o = opts(&[
        "-n",
        "7",
        "--verdict=queue:9:bypass",
        "--mark",
        "0x10",
        "--count",
        "5",
        "--copy",
        "packet:100",
        "--maxlen",
        "4",
        "--fail-open",
        "--gso",
        "--uid-gid",
        "--delay",
        "250",
        "--rewrite",
        "ab\\x00=\\\\c",
        "--fix-checksums",
    ]);
    assert_eq!(o.num, 7);
    assert_eq!(
        o.verdict,
        Verdict::Queue {
            num: 9,
            bypass: true
        }
    );
    assert_eq!(o.mark, Some(16));
    assert_eq!(o.count, Some(5));
    assert_eq!(
        o.copy,
        Copy {
            mode: NFQNL_COPY_PACKET,
            range: 100
        }
    );
    assert_eq!(o.maxlen, Some(4));
    assert_eq!(
        o.flags,
        NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID
    );
    assert_eq!(o.delay, Some(Duration::from_millis(250)));
    let rw = o.rewrite.unwrap();
    assert_eq!(rw.old, b"ab\0");
    assert_eq!(rw.new, b"\\c");
    assert!(o.fix_checksums);
    assert_eq!(opts(&["--num", "1", "--batch", "4"]).batch, Some(4));
    assert!(opts(&["--num", "1", "--hold", "--maxlen", "4"]).hold);
    assert_eq!(
        opts(&["--num", "1", "--copy", "meta"]).copy.mode,
        NFQNL_COPY_META
    );
    assert_eq!(
        opts(&["--num", "1", "--copy", "none"]).copy.mode,
        NFQNL_COPY_NONE
    );
    // Help wins wherever it is, before the rest is checked.
    assert!(opts(&["-h"]).help);
    assert!(opts(&["--num", "1", "--help", "--foo"]).help);
}

#[test]
fn verdict_values() {
    for (s, v) in [
        ("accept", 1),
        ("drop", 0),
        ("repeat", 4),
        ("stop", 5),
        ("queue:0", 3),
        ("queue:3", 0x0003_0003),
        ("queue:3:bypass", 0x0003_8003),
        ("queue:65535", 0xffff_0003),
    ] {
        let o = opts(&["--num", "0", "--verdict", s]);
        assert_eq!(o.verdict.value(), v, "{s}");
        assert_eq!(o.verdict.name(), s);
    }
}

#[test]
fn bad_command_lines() {
    for (a, msg) in [
        (&[][..], "--num is required"),
        (&["--num"][..], "option '--num' needs a value"),
        (&["--num", "65536"][..], "bad queue number '65536'"),
        (
            &["--num", "1", "--num", "2"][..],
            "option '--num' given twice",
        ),
        (
            &["--num", "1", "--verdict", "steal"][..],
            "bad verdict 'steal'",
        ),
        (
            &["--num", "1", "--verdict", "queue:x"][..],
            "bad verdict 'queue:x'",
        ),
        (
            &["--num", "1", "--verdict", "queue:1:by"][..],
            "bad verdict 'queue:1:by'",
        ),
        (&["--num", "1", "--copy", "all"][..], "bad copy mode 'all'"),
        (
            &["--num", "1", "--copy", "meta:5"][..],
            "bad copy mode 'meta:5'",
        ),
        (&["--num", "1", "--count", "0"][..], "bad count '0'"),
        (&["--num", "1", "--batch", "0"][..], "bad batch size '0'"),
        (&["--num", "1", "--mark", "0x1g"][..], "bad mark '0x1g'"),
        (
            &["--num", "1", "--gso=1"][..],
            "option '--gso' takes no value",
        ),
        (&["--num", "1", "--foo"][..], "unknown option '--foo'"),
        (&["--num", "1", "now"][..], "unexpected argument 'now'"),
        (
            &["--num", "1", "--hold", "--verdict", "drop"][..],
            "--hold gives no verdicts: --verdict is refused",
        ),
        (
            &["--num", "1", "--batch", "2", "--rewrite", "a=b"][..],
            "--rewrite needs one verdict per packet: not with --batch",
        ),
        (
            &["--num", "1", "--fix-checksums"][..],
            "--fix-checksums goes with --rewrite",
        ),
        (
            &["--num", "1", "--rewrite", "=b"][..],
            "bad rewrite '=b' (OLD=NEW, \\xHH for any byte)",
        ),
        (
            &["--num", "1", "--rewrite", "a\\x4=b"][..],
            "bad rewrite 'a\\x4=b' (OLD=NEW, \\xHH for any byte)",
        ),
        (
            &["--num", "1", "--rewrite", "a=b", "--copy", "meta"][..],
            "--rewrite needs --copy packet",
        ),
    ] {
        assert_eq!(usage_err(a), msg, "{a:?}");
    }
}

/// A netlink header in host order.
fn hdr(len: usize, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v
}

/// An attribute, padded.
fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    crate::netlink::testutil::attr(kind, payload)
}

/// A whole queue message: headers (family 0, queue `queue`), attributes.
fn queue_msg(msg: u8, flags: u16, seq: u32, queue: u16, attrs: &[Vec<u8>]) -> Vec<u8> {
    let body = attrs.concat();
    let mut v = hdr(20 + body.len(), 0x0300 | u16::from(msg), flags, seq);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&queue.to_be_bytes());
    v.extend_from_slice(&body);
    v
}

#[test]
fn bind_requests_byte_exact() {
    let o = opts(&[
        "--num",
        "5",
        "--copy",
        "packet:100",
        "--maxlen",
        "4",
        "--fail-open",
    ]);
    let msgs = bind_requests(&o, 10).unwrap();
    assert_eq!(msgs.len(), 2);
    // BIND: NLM_F_REQUEST | NLM_F_ACK, family AF_UNSPEC, res_id 5.
    let bind = queue_msg(2, 5, 10, 5, &[attr(1, &[1, 0, 0, 0])]);
    assert_eq!(msgs[0], bind);
    let params = queue_msg(
        2,
        5,
        11,
        5,
        &[
            attr(2, &[0, 0, 0, 100, 2]),
            attr(3, &4u32.to_be_bytes()),
            attr(5, &1u32.to_be_bytes()),
            attr(4, &0xfu32.to_be_bytes()),
        ],
    );
    assert_eq!(msgs[1], params);
    // The same as the core's encoder writes.
    let mut buf = [0u8; 128];
    let req = ConfigRequest {
        cmd: Some(ConfigCmd {
            command: NFQNL_CFG_CMD_BIND,
            pf: 0,
        }),
        ..ConfigRequest::default()
    };
    let n = encode_config(&mut buf, 10, 5, 0, &req, true).unwrap();
    assert_eq!(&buf[..n], &msgs[0][..]);
    // Without --maxlen, no QUEUE_MAXLEN; flags are cleared explicitly.
    let o = opts(&["--num", "0", "--copy", "meta"]);
    let msgs = bind_requests(&o, 1).unwrap();
    let params = queue_msg(
        2,
        5,
        2,
        0,
        &[
            attr(2, &[0, 0, 0, 0, 1]),
            attr(5, &0u32.to_be_bytes()),
            attr(4, &0xfu32.to_be_bytes()),
        ],
    );
    assert_eq!(msgs[1], params);
}

#[test]
fn verdict_requests_byte_exact() {
    let o = opts(&["--num", "2", "--verdict", "queue:3:bypass", "--mark", "7"]);
    let v = verdict_request(&o, 44, 9, None).unwrap();
    let want = queue_msg(
        1,
        1,
        44,
        2,
        &[
            attr(2, &[0, 3, 0x80, 3, 0, 0, 0, 9]),
            attr(3, &7u32.to_be_bytes()),
        ],
    );
    assert_eq!(v, want);
    // With a payload (odd length: padded), against the core's encoder.
    let o = opts(&["--num", "2"]);
    let v = verdict_request(&o, 1, 0xdeadbeef, Some(b"abcde")).unwrap();
    let want = queue_msg(
        1,
        1,
        1,
        2,
        &[
            attr(2, &[0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]),
            attr(10, b"abcde"),
        ],
    );
    assert_eq!(v, want);
    let mut buf = [0u8; 64];
    let req = VerdictRequest {
        verdict: 1,
        id: 0xdeadbeef,
        mark: None,
        priority: None,
        payload: Some(b"abcde"),
        ct_mark: None,
    };
    let n = encode_verdict(&mut buf, 1, 2, &req).unwrap();
    assert_eq!(&buf[..n], &v[..]);
}

#[test]
fn batch_request_byte_exact() {
    let o = opts(&[
        "--num",
        "1",
        "--batch",
        "4",
        "--verdict",
        "drop",
        "--mark",
        "0x100",
    ]);
    let v = batch_request(&o, 3, 12).unwrap();
    let want = queue_msg(
        3,
        1,
        3,
        1,
        &[
            attr(2, &[0, 0, 0, 0, 0, 0, 0, 12]),
            attr(3, &0x100u32.to_be_bytes()),
        ],
    );
    assert_eq!(v, want);
}

#[test]
fn rewrite_first_occurrence() {
    assert_eq!(rewrite(b"xxabyyab", b"ab", b"Q"), Some(b"xxQyyab".to_vec()));
    assert_eq!(rewrite(b"ab", b"ab", b"longer"), Some(b"longer".to_vec()));
    assert_eq!(rewrite(b"xyz", b"ab", b"Q"), None);
    assert_eq!(rewrite(b"a", b"ab", b"Q"), None);
}

/// A UDP/IPv4 packet 10.0.1.2:40000 > 10.0.2.2:7 carrying `data`, with
/// correct length and checksums.
fn udp_packet(data: &[u8]) -> Vec<u8> {
    let tot = 28 + data.len();
    let mut p = vec![
        0x45,
        0,
        (tot >> 8) as u8,
        tot as u8,
        0,
        1,
        0x40,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        1,
        2,
        10,
        0,
        2,
        2,
    ];
    let ulen = 8 + data.len();
    p.extend_from_slice(&[0x9c, 0x40, 0, 7, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    p.extend_from_slice(data);
    fixup(NFPROTO_IPV4, &mut p).unwrap();
    p
}

/// The kernel's PACKET message for `payload`: id, hook, in/out devices,
/// and optional mark, CAP_LEN, SKB_INFO. The payload attribute is not
/// padded, as the kernel sends it.
fn packet_msg(queue: u16, id: u32, hook: u8, payload: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    let mut a = vec![
        attr(
            1,
            &[
                (id >> 24) as u8,
                (id >> 16) as u8,
                (id >> 8) as u8,
                id as u8,
                8,
                0,
                hook,
            ],
        ),
        attr(5, &2u32.to_be_bytes()),
    ];
    a.extend_from_slice(extra);
    let mut body = a.concat();
    body.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    body.extend_from_slice(&10u16.to_ne_bytes());
    body.extend_from_slice(payload);
    let mut v = hdr(20 + body.len(), 0x0300, 0, 0);
    v.extend_from_slice(&[2, 0]);
    v.extend_from_slice(&queue.to_be_bytes());
    v.extend_from_slice(&body);
    v
}

#[test]
fn packet_lines() {
    let pkt = udp_packet(b"hello");
    let m = packet_msg(
        0,
        7,
        2,
        &pkt,
        &[attr(3, &5u32.to_be_bytes()), attr(14, &4u32.to_be_bytes())],
    );
    let p = rfcore::nfqueue::packet::decode_packet(&m).unwrap().0;
    assert_eq!(
        packet_line(&p),
        "id=7 hook=FORWARD hw=0x0800 in=2 out=- mark=0x5 len=33 info=csum-not-verified \
         udp 10.0.1.2:40000 > 10.0.2.2:7 len 5"
    );
    let m = packet_msg(
        1,
        8,
        1,
        &pkt[..20],
        &[
            attr(13, &1000u32.to_be_bytes()),
            attr(16, &0u32.to_be_bytes()),
            attr(17, &3u32.to_be_bytes()),
        ],
    );
    let p = rfcore::nfqueue::packet::decode_packet(&m).unwrap().0;
    assert_eq!(
        packet_line(&p),
        "id=8 hook=INPUT hw=0x0800 in=2 out=- mark=0x0 len=20 caplen=1000 uid=0 gid=3 \
         ipv4 truncated (20 bytes)"
    );
}

#[test]
fn summaries() {
    // TCP SYN with no data, 20 bytes of header.
    let mut tcp = vec![
        0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 1, 2, 10, 0, 2, 2,
    ];
    tcp.extend_from_slice(&[
        0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
    ]);
    assert_eq!(
        ipv4_summary(&tcp),
        "tcp 10.0.1.2:5000 > 10.0.2.2:80 flags S. len 0"
    );
    let mut icmp = vec![
        0x45, 0, 0, 84, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 1, 2, 10, 0, 2, 2,
    ];
    icmp.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(
        ipv4_summary(&icmp),
        "icmp 10.0.1.2 > 10.0.2.2 type 8 code 0 len 56"
    );
    let mut frag = icmp.clone();
    frag[6] = 0;
    frag[7] = 10;
    assert_eq!(
        ipv4_summary(&frag),
        "ip 10.0.1.2 > 10.0.2.2 proto 1 frag 80 len 64"
    );
    let mut gre = icmp.clone();
    gre[9] = 47;
    assert_eq!(ipv4_summary(&gre), "ip 10.0.1.2 > 10.0.2.2 proto 47 len 64");
    assert_eq!(ipv4_summary(&[0x60, 0, 0]), "not ipv4 (version 6)");
}

#[test]
fn errno_names() {
    assert_eq!(errno_name(1), "EPERM");
    assert_eq!(errno_name(2), "ENOENT");
    assert_eq!(errno_name(16), "EBUSY");
    assert_eq!(errno_name(19), "ENODEV");
    assert_eq!(errno_name(95), "EOPNOTSUPP");
    assert_eq!(errno_name(105), "ENOBUFS");
    assert_eq!(errno_name(4242), "errno 4242");
    assert_eq!(errno_text(1), "EPERM (Operation not permitted)");
    assert_eq!(errno_text(524), "ENOTSUPP (Operation not supported)");
}

// Whole runs against a scripted kernel.

fn ack() -> Answer {
    Box::new(|req: &[u8]| vec![crate::netlink::testutil::ack(req)])
}

fn silent() -> Answer {
    Box::new(|_req: &[u8]| vec![])
}

fn fail(errno: i32, msg: Option<&'static str>) -> Answer {
    Box::new(move |req: &[u8]| vec![crate::netlink::testutil::error(req, errno, msg)])
}

/// Run `args` against `script`; the status, stdout, stderr and what was
/// sent.
fn run_script(a: &[&str], script: Script) -> (Result<(), String>, String, String, Vec<Vec<u8>>) {
    let mut l = Listener::new(script, opts(a));
    let mut out = Vec::new();
    let mut err = Vec::new();
    let res = l.run(&mut out, &mut err, &|| true);
    let sent = l.transport().sent.clone();
    (
        res,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        sent,
    )
}

#[test]
fn accepts_each_packet() {
    let pkt = udp_packet(b"ping");
    let script = Script::new(vec![ack(), ack(), silent(), silent()]).with_events(vec![
        packet_msg(0, 1, 1, &pkt, &[]),
        packet_msg(0, 2, 1, &pkt, &[]),
    ]);
    let (res, out, err, sent) = run_script(&["--num", "0", "--count", "2", "--mark", "3"], script);
    assert_eq!(res, Ok(()));
    assert_eq!(err, "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "bound queue=0 copy=packet:65535 maxlen=default flags=none verdict=accept",
            "id=1 hook=INPUT hw=0x0800 in=2 out=- mark=0x0 len=32 udp 10.0.1.2:40000 > 10.0.2.2:7 len 4 verdict=accept newmark=0x3",
            "id=2 hook=INPUT hw=0x0800 in=2 out=- mark=0x0 len=32 udp 10.0.1.2:40000 > 10.0.2.2:7 len 4 verdict=accept newmark=0x3",
        ]
    );
    assert_eq!(sent.len(), 4);
    let o = opts(&["--num", "0", "--mark", "3"]);
    assert_eq!(sent[2], verdict_request(&o, 3, 1, None).unwrap());
    assert_eq!(sent[3], verdict_request(&o, 4, 2, None).unwrap());
}

#[test]
fn stops_on_signal_without_count() {
    let script = Script::new(vec![ack(), ack()]);
    let (res, out, _, sent) = run_script(&["--num", "4", "--hold", "--maxlen", "4"], script);
    assert_eq!(res, Ok(()));
    assert_eq!(
        out,
        "bound queue=4 copy=packet:65535 maxlen=4 flags=none verdict=hold\n"
    );
    assert_eq!(sent.len(), 2);
}

#[test]
fn bind_errors_end_the_run() {
    let script = Script::new(vec![fail(1, None)]);
    let (res, out, _, _) = run_script(&["--num", "0"], script);
    assert_eq!(
        res,
        Err("cannot bind queue 0: EPERM (Operation not permitted)".into())
    );
    assert_eq!(out, "");
    let script = Script::new(vec![ack(), fail(95, Some("no such flag"))]);
    let (res, _, _, _) = run_script(&["--num", "0", "--gso"], script);
    assert_eq!(
        res,
        Err("cannot configure queue 0: EOPNOTSUPP (Operation not supported): no such flag".into())
    );
}

#[test]
fn enoent_verdict_is_reported_and_passed_over() {
    let pkt = udp_packet(b"x");
    // The kernel answers the first verdict with ENOENT (flushed), and
    // the second with EINVAL, which ends the run.
    let script = Script::new(vec![ack(), ack(), fail(2, None), fail(22, None)]).with_events(vec![
        packet_msg(0, 5, 0, &pkt, &[]),
        packet_msg(0, 6, 0, &pkt, &[]),
    ]);
    let (res, out, err, _) = run_script(&["--num", "0", "--count", "3"], script);
    assert_eq!(
        err,
        "rfctl queue: verdict for packet 5: ENOENT (No such file or directory)\n"
    );
    assert_eq!(
        res,
        Err("verdict for packet 6: EINVAL (Invalid argument)".into())
    );
    assert_eq!(out.lines().filter(|l| l.starts_with("id=")).count(), 2);
}

#[test]
fn packets_before_the_ack_are_kept() {
    // A packet queued between the PARAMS request and its acknowledgement.
    let early: Answer = Box::new(move |req: &[u8]| {
        vec![
            packet_msg(0, 1, 0, &udp_packet(b"early"), &[]),
            crate::netlink::testutil::ack(req),
        ]
    });
    let script = Script::new(vec![ack(), early, silent()]);
    let (res, out, _, sent) =
        run_script(&["--num", "0", "--count", "1", "--verdict", "drop"], script);
    assert_eq!(res, Ok(()));
    assert!(out.contains("id=1 hook=PREROUTING"), "{out}");
    assert!(out.ends_with("verdict=drop\n"), "{out}");
    assert_eq!(
        sent[2],
        verdict_request(&opts(&["--num", "0", "--verdict", "drop"]), 3, 1, None).unwrap()
    );
}

#[test]
fn batches_up_to_the_highest_id() {
    let pkt = udp_packet(b"b");
    let events = (10..15).map(|id| packet_msg(2, id, 2, &pkt, &[])).collect();
    let script = Script::new(vec![ack(), ack(), silent(), silent()]).with_events(events);
    let (res, out, _, sent) = run_script(
        &[
            "--num",
            "2",
            "--batch",
            "3",
            "--count",
            "5",
            "--verdict",
            "drop",
        ],
        script,
    );
    assert_eq!(res, Ok(()));
    let o = opts(&["--num", "2", "--verdict", "drop"]);
    // Three packets, then the last two at exit.
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[2], batch_request(&o, 3, 12).unwrap());
    assert_eq!(sent[3], batch_request(&o, 4, 14).unwrap());
    let batches: Vec<&str> = out.lines().filter(|l| l.starts_with("batch")).collect();
    assert_eq!(
        batches,
        [
            "batch verdict=drop maxid=12 packets=3",
            "batch verdict=drop maxid=14 packets=2"
        ]
    );
    assert_eq!(out.matches("verdict=batch").count(), 5);
}

#[test]
fn rewrites_with_and_without_fixing() {
    let pkt = udp_packet(b"hello world");
    for (fix, args) in [
        (
            false,
            &[
                "--num",
                "0",
                "--count",
                "1",
                "--rewrite",
                "world=rustfilter",
            ][..],
        ),
        (
            true,
            &[
                "--num",
                "0",
                "--count",
                "1",
                "--rewrite",
                "world=rustfilter",
                "--fix-checksums",
            ][..],
        ),
    ] {
        let script = Script::new(vec![ack(), ack(), silent()]).with_events(vec![packet_msg(
            0,
            1,
            2,
            &pkt,
            &[],
        )]);
        let (res, out, _, sent) = run_script(args, script);
        assert_eq!(res, Ok(()));
        let mut want = rewrite(&pkt, b"world", b"rustfilter").unwrap();
        if fix {
            assert!(fixup(NFPROTO_IPV4, &mut want).unwrap().any());
            assert!(out.contains(" rewrite=39>44 fixed verdict=accept"), "{out}");
        } else {
            assert!(out.contains(" rewrite=39>44 verdict=accept"), "{out}");
            // Left as it was: the old total length.
            assert_eq!(&want[2..4], &[0, 39]);
        }
        assert_eq!(
            sent[2],
            verdict_request(&opts(&["--num", "0"]), 3, 1, Some(&want)).unwrap()
        );
    }
    // Not found, or a cut copy: a plain verdict.
    let script = Script::new(vec![ack(), ack(), silent(), silent()]).with_events(vec![
        packet_msg(0, 1, 2, &pkt, &[]),
        packet_msg(0, 2, 2, &pkt, &[attr(13, &100u32.to_be_bytes())]),
    ]);
    let (_, out, _, sent) = run_script(
        &["--num", "0", "--count", "2", "--rewrite", "nope=x"],
        script,
    );
    assert!(out.contains("rewrite=none verdict=accept"), "{out}");
    assert!(
        out.contains("caplen=100 udp 10.0.1.2:40000 > 10.0.2.2:7 len 11 rewrite=cut"),
        "{out}"
    );
    assert_eq!(
        sent[2],
        verdict_request(&opts(&["--num", "0"]), 3, 1, None).unwrap()
    );
}

#[test]
fn kernel_errors_decode() {
    let req = verdict_request(&opts(&["--num", "0"]), 9, 77, None).unwrap();
    let e = crate::netlink::testutil::error(&req, 2, Some("gone"));
    let h = NlMsgHeader::read(&e).unwrap();
    let k = kernel_error(&h, &e).unwrap();
    assert_eq!(
        k,
        KernelError {
            errno: 2,
            kind: Some(0x0301),
            id: Some(77),
            extack: Some("gone".into())
        }
    );
    let a = crate::netlink::testutil::ack(&req);
    assert_eq!(kernel_error(&NlMsgHeader::read(&a).unwrap(), &a), None);
}

#[test]
fn help_is_honest() {
    for opt in [
        "--num",
        "--verdict",
        "--mark",
        "--count",
        "--batch",
        "--copy",
        "--maxlen",
        "--fail-open",
        "--gso",
        "--uid-gid",
        "--delay",
        "--hold",
        "--rewrite",
        "--fix-checksums",
        "queue:M:bypass",
        "repeat",
        "stop",
    ] {
        assert!(USAGE.contains(opt), "{opt}");
    }
    assert!(opts(&["--help"]).help);
}
