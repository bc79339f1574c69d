// SPDX-License-Identifier: GPL-2.0

//! `rfctl conntrack` against the scripted kernel: lines checked by hand
//! against libnetfilter_conntrack 1.0.9's `__snprintf_conntrack_default`
//! (what conntrack 1.4.7 prints), filters, the bytes of each request,
//! events, errors.

use std::time::Duration;

use rfcore::conntrack::status::{
    IPS_ASSURED, IPS_CONFIRMED, IPS_FIXED_TIMEOUT, IPS_HW_OFFLOAD, IPS_OFFLOAD, IPS_SEEN_REPLY,
};
use rfcore::conntrack::Tuple;
use rfcore::proto;

use super::args::{parse, Cmd, EventMask, Opts, Usage};
use super::entry::{decode_entry, format, Entry, EventKind};
use super::events::timestamp_head;
use super::filter::Net;
use super::*;
use crate::netlink::testutil::*;
use crate::netlink::Client;

const FAMILY: u16 = 0x22;
const GROUP: u32 = 7;

const A: [u8; 4] = [10, 0, 1, 2];
const B: [u8; 4] = [10, 0, 2, 2];

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn opts(s: &str) -> Opts {
    parse(&args(s)).unwrap_or_else(|Usage(m)| panic!("{s}: {m}"))
}

fn usage(s: &str) -> String {
    match parse(&args(s)) {
        Err(Usage(m)) => m,
        Ok(o) => panic!("{s}: parsed as {o:?}"),
    }
}

/// A connection with every field, `use=1`, `mark=0`.
fn conn(orig: Tuple, status: u32, timeout: u32, tcp_state: Option<u8>) -> Entry {
    Entry {
        orig,
        reply: orig.invert().unwrap(),
        status: Some(status),
        timeout: Some(timeout),
        mark: Some(0),
        tcp_state,
        refs: Some(1),
        helper: None,
    }
}

fn tcp(state: u8, status: u32, timeout: u32) -> Entry {
    conn(Tuple::tcp(A, 40000, B, 5001), status, timeout, Some(state))
}

fn udp(status: u32, timeout: u32) -> Entry {
    conn(Tuple::udp(A, 40000, B, 7777), status, timeout, None)
}

fn ping(status: u32) -> Entry {
    conn(Tuple::icmp(A, B, 1234, 8, 0), status, 29, None)
}

const REPLIED: u32 = IPS_CONFIRMED | IPS_SEEN_REPLY;
const ASSURED: u32 = REPLIED | IPS_ASSURED;

// --- The line ------------------------------------------------------------

#[test]
fn lines_of_each_protocol_and_state() {
    for (e, want) in [
        (
            tcp(3, ASSURED, 431999),
            "tcp      6 431999 ESTABLISHED src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
             src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 [ASSURED] mark=0 use=1",
        ),
        (
            tcp(1, IPS_CONFIRMED, 119),
            "tcp      6 119 SYN_SENT src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
             [UNREPLIED] src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 mark=0 use=1",
        ),
        (
            tcp(2, REPLIED, 59),
            "tcp      6 59 SYN_RECV src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
             src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 mark=0 use=1",
        ),
        (
            tcp(7, ASSURED, 119),
            "tcp      6 119 TIME_WAIT src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
             src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 [ASSURED] mark=0 use=1",
        ),
        (
            tcp(9, IPS_CONFIRMED, 119),
            "tcp      6 119 SYN_SENT2 src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
             [UNREPLIED] src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 mark=0 use=1",
        ),
        (
            udp(IPS_CONFIRMED, 29),
            "udp      17 29 src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=7777 [UNREPLIED] \
             src=10.0.2.2 dst=10.0.1.2 sport=7777 dport=40000 mark=0 use=1",
        ),
        (
            udp(REPLIED, 29),
            "udp      17 29 src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=7777 \
             src=10.0.2.2 dst=10.0.1.2 sport=7777 dport=40000 mark=0 use=1",
        ),
        (
            udp(ASSURED, 179),
            "udp      17 179 src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=7777 \
             src=10.0.2.2 dst=10.0.1.2 sport=7777 dport=40000 [ASSURED] mark=0 use=1",
        ),
        (
            ping(REPLIED),
            "icmp     1 29 src=10.0.1.2 dst=10.0.2.2 type=8 code=0 id=1234 \
             src=10.0.2.2 dst=10.0.1.2 type=0 code=0 id=1234 mark=0 use=1",
        ),
        (
            ping(IPS_CONFIRMED),
            "icmp     1 29 src=10.0.1.2 dst=10.0.2.2 type=8 code=0 id=1234 [UNREPLIED] \
             src=10.0.2.2 dst=10.0.1.2 type=0 code=0 id=1234 mark=0 use=1",
        ),
        (
            conn(Tuple::other(A, B, 47), ASSURED, 599, None),
            "gre      47 599 src=10.0.1.2 dst=10.0.2.2 srckey=0x0 dstkey=0x0 \
             src=10.0.2.2 dst=10.0.1.2 srckey=0x0 dstkey=0x0 [ASSURED] mark=0 use=1",
        ),
        (
            conn(Tuple::other(A, B, 50), IPS_CONFIRMED, 600, None),
            "unknown  50 600 src=10.0.1.2 dst=10.0.2.2 [UNREPLIED] \
             src=10.0.2.2 dst=10.0.1.2 mark=0 use=1",
        ),
        (
            conn(Tuple::other(A, B, 132), REPLIED, 10, None),
            "sctp     132 10 src=10.0.1.2 dst=10.0.2.2 sport=0 dport=0 \
             src=10.0.2.2 dst=10.0.1.2 sport=0 dport=0 mark=0 use=1",
        ),
        (
            conn(Tuple::other(A, B, 136), REPLIED, 10, None),
            "udplite  136 10 src=10.0.1.2 dst=10.0.2.2 sport=0 dport=0 \
             src=10.0.2.2 dst=10.0.1.2 sport=0 dport=0 mark=0 use=1",
        ),
    ] {
        assert_eq!(format(&e, None, false), want);
    }
}

#[test]
fn status_flags_mark_use_and_missing_fields() {
    let mut e = tcp(3, ASSURED | IPS_OFFLOAD, 10);
    e.mark = Some(u32::MAX);
    e.refs = Some(3);
    assert_eq!(
        format(&e, None, false),
        "tcp      6 10 ESTABLISHED src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
         src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 [OFFLOAD] mark=4294967295 use=3"
    );
    e.status = Some(ASSURED | IPS_OFFLOAD | IPS_HW_OFFLOAD);
    assert!(format(&e, None, false).contains(" [HW_OFFLOAD] mark="));
    e.status = Some(ASSURED | IPS_FIXED_TIMEOUT);
    assert!(format(&e, None, false).contains(" [ASSURED] mark="));
    // A state libnetfilter_conntrack does not know prints as NONE.
    e.tcp_state = Some(42);
    assert!(format(&e, None, false).starts_with("tcp      6 10 NONE src="));
    // What the kernel left out is not printed, and no flag without status.
    let bare = Entry {
        status: None,
        timeout: None,
        mark: None,
        tcp_state: None,
        refs: None,
        ..e
    };
    assert_eq!(
        format(&bare, None, false),
        "tcp      6 src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 \
         src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000"
    );
}

#[test]
fn extended_and_event_heads() {
    let e = tcp(1, IPS_CONFIRMED, 120);
    let tail = "src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 [UNREPLIED] \
                src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 mark=0 use=1";
    assert_eq!(
        format(&e, None, true),
        format!("ipv4     2 tcp      6 120 SYN_SENT {tail}")
    );
    assert_eq!(
        format(&e, Some(EventKind::New), false),
        format!("    [NEW] tcp      6 120 SYN_SENT {tail}")
    );
    let d = tcp(8, ASSURED, 0);
    assert!(format(&d, Some(EventKind::Destroy), true)
        .starts_with("[DESTROY] ipv4     2 tcp      6 0 CLOSE src=10.0.1.2"));
    assert_eq!(timestamp_head(1_700_000_000, 42), "[1700000000.000042]\t");
}

// --- Reading entries -----------------------------------------------------

fn tuple_attrs(t: &Tuple) -> Vec<Vec<u8>> {
    vec![
        attr(proto::CTTUPLE_SRC, &t.saddr),
        attr(proto::CTTUPLE_DST, &t.daddr),
        attr(proto::CTTUPLE_PROTO, &[t.protocol]),
        attr(proto::CTTUPLE_SPORT, &t.sport.to_ne_bytes()),
        attr(proto::CTTUPLE_DPORT, &t.dport.to_ne_bytes()),
    ]
}

/// An `A_CT_ENTRY` as the module encodes it.
fn entry_attr(e: &Entry) -> Vec<u8> {
    let mut inner = vec![
        nest(proto::CTENTRY_ORIG, &tuple_attrs(&e.orig)),
        nest(proto::CTENTRY_REPLY, &tuple_attrs(&e.reply)),
    ];
    let u32s = [
        (proto::CTENTRY_STATUS, e.status),
        (proto::CTENTRY_TIMEOUT, e.timeout),
        (proto::CTENTRY_MARK, e.mark),
    ];
    for (ty, v) in u32s {
        if let Some(v) = v {
            inner.push(attr(ty, &v.to_ne_bytes()));
        }
    }
    if let Some(s) = e.tcp_state {
        inner.push(attr(proto::CTENTRY_TCP_STATE, &[s]));
    }
    if let Some(u) = e.refs {
        inner.push(attr(proto::CTENTRY_USE, &u.to_ne_bytes()));
    }
    nest(proto::A_CT_ENTRY, &inner)
}

fn payload_of(nested: &[u8]) -> &[u8] {
    &nested[4..]
}

#[test]
fn entries_round_trip_and_unknown_attributes_are_skipped() {
    for e in [tcp(3, ASSURED, 5), udp(IPS_CONFIRMED, 30), ping(REPLIED)] {
        let bytes = entry_attr(&e);
        assert_eq!(decode_entry(payload_of(&bytes)).unwrap(), e);
    }
    let e = tcp(3, ASSURED, 5);
    let mut bytes = entry_attr(&e);
    let extra = [attr(proto::CTENTRY_PAD, &[]), attr(99, &[1, 2, 3])].concat();
    bytes.extend_from_slice(&extra);
    let len = u16::try_from(bytes.len()).unwrap();
    bytes[0..2].copy_from_slice(&len.to_ne_bytes());
    assert_eq!(decode_entry(payload_of(&bytes)).unwrap(), e);
}

#[test]
fn malformed_entries_are_errors() {
    let orig = Tuple::tcp(A, 1, B, 2);
    let no_reply = nest(
        proto::A_CT_ENTRY,
        &[nest(proto::CTENTRY_ORIG, &tuple_attrs(&orig))],
    );
    assert!(decode_entry(payload_of(&no_reply))
        .unwrap_err()
        .contains("reply tuple"));
    let short_tuple = nest(
        proto::A_CT_ENTRY,
        &[
            nest(proto::CTENTRY_ORIG, &tuple_attrs(&orig)[..2]),
            nest(proto::CTENTRY_REPLY, &tuple_attrs(&orig)),
        ],
    );
    assert!(decode_entry(payload_of(&short_tuple))
        .unwrap_err()
        .contains("original tuple without"));
    let wide_state = nest(
        proto::A_CT_ENTRY,
        &[
            nest(proto::CTENTRY_ORIG, &tuple_attrs(&orig)),
            nest(proto::CTENTRY_REPLY, &tuple_attrs(&orig)),
            attr(proto::CTENTRY_TCP_STATE, &3u32.to_ne_bytes()),
        ],
    );
    assert!(decode_entry(payload_of(&wide_state)).is_err());
}

// --- The command line ----------------------------------------------------

#[test]
fn commands_and_their_spellings() {
    for (s, cmd) in [
        ("", Cmd::Help),
        ("-h", Cmd::Help),
        ("--help", Cmd::Help),
        ("-V", Cmd::Version),
        ("-L", Cmd::List),
        ("--dump", Cmd::List),
        ("-L conntrack", Cmd::List),
        ("-Lconntrack", Cmd::List),
        ("--dump=conn", Cmd::List),
        (
            "-G -p udp -s 1.2.3.4 -d 5.6.7.8 --sport 1 --dport 2",
            Cmd::Get,
        ),
        ("-D", Cmd::Delete),
        ("-F", Cmd::Flush),
        ("--flush conntrack", Cmd::Flush),
        ("-E", Cmd::Event),
        ("-C", Cmd::Count),
        ("--count", Cmd::Count),
        ("-S", Cmd::Stats),
        ("--stats", Cmd::Stats),
        ("--set-max 100", Cmd::Set),
        ("--set-timeout icmp=5", Cmd::Set),
    ] {
        assert_eq!(opts(s).cmd, cmd, "{s}");
    }
}

#[test]
fn filters_are_read() {
    let o = opts(
        "-L -p TCP -s 10.0.0.0/8 --dst=10.0.2.2 -r 10.0.2.2 -q 10.0.1.2 --sport 40000 \
         --orig-port-dst 5001 --reply-port-src 5001 --reply-port-dst 40000 --state established \
         -m 0x10/0xf0 -u ASSURED,!offload",
    );
    let f = &o.filter;
    assert_eq!(f.proto, Some(6));
    assert_eq!(
        f.orig_src,
        Some(Net {
            addr: [10, 0, 0, 0],
            mask: [255, 0, 0, 0]
        })
    );
    assert_eq!(
        f.orig_dst,
        Some(Net {
            addr: B,
            mask: [255; 4]
        })
    );
    assert_eq!((f.reply_src, f.reply_dst), (Some(B), Some(A)));
    assert_eq!(
        (f.orig_sport, f.orig_dport, f.reply_sport, f.reply_dport),
        (Some(40000), Some(5001), Some(5001), Some(40000))
    );
    assert_eq!(f.tcp_state, Some(3));
    assert_eq!(f.mark, Some((0x10, 0xf0)));
    assert_eq!(f.status_set, IPS_ASSURED);
    assert_eq!(f.status_clear, IPS_OFFLOAD);
    // Short options with attached arguments, abbreviations.
    // As getopt reads it, `-Lpudp` would be -L with the table `pudp`.
    assert_eq!(usage("-Lpudp"), "unknown type `pudp'");
    let o = opts("-L -pudp -s10.0.1.2 --orig-s 10.0.1.2 --reply-d 10.0.1.2 -uUNREPLIED,seen");
    assert_eq!(o.filter.proto, Some(17));
    assert_eq!(o.filter.status_clear, IPS_SEEN_REPLY);
    assert_eq!(o.filter.status_set, IPS_SEEN_REPLY);
    assert_eq!(o.filter.reply_dst, Some(A));
    assert_eq!(opts("-L -p 47").filter.proto, Some(47));
    assert_eq!(opts("-L -p gre").filter.proto, Some(47));
    assert_eq!(opts("-L -p icmp --icmp-type 8").filter.icmp_type, Some(8));
    assert_eq!(opts("-L -u UNSET").filter.status_set, 0);
    assert_eq!(opts("-L -f ipv4").cmd, Cmd::List);
    let o = opts("-L -o extended");
    assert!(o.extended && !o.timestamp);
}

#[test]
fn event_options() {
    let o = opts("-E -e NEW -o timestamp,ext --event-count 3 --event-timeout 1.5");
    assert_eq!(
        o.events,
        EventMask {
            new: true,
            destroy: false
        }
    );
    assert!(o.timestamp && o.extended);
    assert_eq!(o.event_count, Some(3));
    assert_eq!(o.event_timeout, Some(Duration::from_millis(1500)));
    let all = opts("-E").events;
    assert!(all.new && all.destroy);
    let d = opts("-E -e destroy,UPDATES").events;
    assert!(!d.new && d.destroy);
    assert!(opts("-E -e ALL").events.new);
}

#[test]
fn get_makes_the_tuple() {
    let o =
        opts("-G -p tcp -s 10.0.1.2 -d 10.0.2.2 --sport 40000 --dport 5001 --state ESTABLISHED");
    assert_eq!(o.tuple, Some(Tuple::tcp(A, 40000, B, 5001)));
    // The tuple is not filtered again; the TCP state is.
    assert_eq!(o.filter.orig_src, None);
    assert_eq!(o.filter.tcp_state, Some(3));
    let o = opts("-G -p udp -r 10.0.2.2 -q 10.0.1.2 --reply-port-src 7777 --reply-port-dst 40000");
    assert_eq!(o.tuple, Some(Tuple::udp(B, 7777, A, 40000)));
    let o = opts("-G -p icmp -s 10.0.1.2 -d 10.0.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 1234");
    assert_eq!(o.tuple, Some(Tuple::icmp(A, B, 1234, 8, 0)));
    assert_eq!(o.filter.icmp_type, None);
    let o = opts("-G -p icmp -s 10.0.1.2 -d 10.0.2.2 --icmp-type 8 --icmp-code 0");
    assert_eq!(o.tuple, Some(Tuple::icmp(A, B, 0, 8, 0)));
    let o = opts("-G -p 50 -s 10.0.1.2 -d 10.0.2.2");
    assert_eq!(o.tuple, Some(Tuple::other(A, B, 50)));
}

#[test]
fn bad_command_lines_name_the_problem() {
    for (s, msg) in [
        ("-x", "unknown option `-x'"),
        ("-L --frobnicate", "unknown option `--frobnicate'"),
        ("-L --s 1.2.3.4", "option `--s' is ambiguous"),
        ("-L -p", "option `-p' requires an argument"),
        ("-L --src", "option `--src' requires an argument"),
        ("-L --stats=1", "option `--stats' doesn't allow an argument"),
        ("-L -D", "Invalid commands combination"),
        ("-L -L", "Invalid commands combination"),
        ("-L extra", "unknown type `extra'"),
        ("-L -p tcp extra", "unexpected argument `extra'"),
        ("-L -- extra", "unexpected argument `extra'"),
        (
            "-L expect",
            "table `expect' is not supported: rustfilter does not list expectations",
        ),
        (
            "-L dying",
            "table `dying' is not supported: rustfilter lists confirmed connections only",
        ),
        ("-I -p tcp", "`-I' is not supported by rfctl conntrack"),
        (
            "-L --zone 1",
            "`--zone' is not supported by rfctl conntrack",
        ),
        (
            "-L --zone=1",
            "`--zone' is not supported by rfctl conntrack",
        ),
        (
            "-L --orig-zo 1",
            "`--orig-zo' is not supported by rfctl conntrack",
        ),
        ("-L -z", "`-z' is not supported by rfctl conntrack"),
        (
            "-L -o xml",
            "output format `xml' is not supported by rfctl conntrack",
        ),
        ("-L -o bogus", "Bad parameter `bogus'"),
        ("-L -s 10.0.0.300", "Invalid IP address `10.0.0.300'"),
        ("-L -s 10.0.0.1/33", "Invalid netmask"),
        (
            "-L -r 10.0.0.0/8",
            "CIDR notation unavailable for `--reply-src'",
        ),
        ("-L -p nosuch", "`nosuch' unsupported protocol"),
        ("-L -p 256", "`256' unsupported protocol"),
        ("-L -p all", "`all' unsupported protocol"),
        (
            "-L --sport 80",
            "option `--sport' needs `-p tcp' or `-p udp'",
        ),
        (
            "-L -p icmp --dport 80",
            "option `--dport' needs `-p tcp' or `-p udp'",
        ),
        (
            "-L -p udp --state ESTABLISHED",
            "option `--state' needs `-p tcp'",
        ),
        (
            "-L -p tcp --icmp-type 8",
            "option `--icmp-type' needs `-p icmp'",
        ),
        ("-L -p tcp --sport 65536", "invalid port `65536'"),
        ("-L -p tcp --state OPEN", "unknown TCP state `OPEN'"),
        ("-L -m x", "invalid mark `x'"),
        ("-L -m 1/x", "invalid mark `1/x'"),
        ("-L -u ASSURED,", "Bad parameter `'"),
        ("-L -u FOO", "Bad parameter `FOO'"),
        ("-L -u !UNREPLIED", "Bad parameter `!UNREPLIED'"),
        (
            "-L -f ipv6",
            "`ipv6': rustfilter tracks IPv4 connections only",
        ),
        ("-L -f inet", "`inet' unsupported protocol"),
        (
            "-L -e NEW",
            "Illegal option `--event-mask' with this command",
        ),
        (
            "-L --event-count 1",
            "Illegal option `--event-count' with this command",
        ),
        (
            "-E -u ASSURED",
            "Illegal option `--status' with this command",
        ),
        ("-E -e NEW,FOO", "Bad parameter `FOO'"),
        ("-E --event-count 0", "invalid number of events `0'"),
        ("-E --event-timeout -1", "invalid number of seconds `-1'"),
        ("-E --event-timeout nan", "invalid number of seconds `nan'"),
        (
            "-G -s 1.2.3.4",
            "You need to supply the `--protonum' option for this command",
        ),
        (
            "-G -p tcp -s 1.2.3.4",
            "you have to specify `--src' and `--dst'",
        ),
        (
            "-G -p tcp -r 1.2.3.4",
            "you have to specify `--reply-src' and `--reply-dst'",
        ),
        (
            "-G -p tcp -s 1.2.3.4 -d 1.2.3.5 --sport 1",
            "you have to specify `--sport' and `--dport'",
        ),
        (
            "-G -p udp -r 1.2.3.4 -q 1.2.3.5 --sport 1 --dport 2",
            "you have to specify `--reply-port-src' and `--reply-port-dst'",
        ),
        (
            "-G -p icmp -s 1.2.3.4 -d 1.2.3.5 --icmp-code 0",
            "You need to supply the `--icmp-type' option for this command",
        ),
        (
            "-G -p icmp -s 1.2.3.4 -d 1.2.3.5 --icmp-type 8",
            "You need to supply the `--icmp-code' option for this command",
        ),
        (
            "-G -p 50 -s 10.0.0.0/8 -d 1.2.3.5",
            "CIDR notation unavailable for `--src' with -G",
        ),
        (
            "-G -p tcp -m 1",
            "Illegal option `--mark' with this command",
        ),
        (
            "-G -p tcp -u ASSURED",
            "Illegal option `--status' with this command",
        ),
        ("-F -p tcp", "Illegal option `--protonum' with this command"),
        ("-C -s 1.2.3.4", "Illegal option `--src' with this command"),
        (
            "-S -o extended",
            "Illegal option `--output' with this command",
        ),
        (
            "-L --set-max 5",
            "Illegal option `--set-max' with this command",
        ),
        (
            "--set-max 5 -p tcp",
            "Illegal option `--protonum' with this command",
        ),
        (
            "-p tcp",
            "no command specified (-L, -G, -D, -F, -E, -C, -S, --set-max or --set-timeout)",
        ),
        ("--set-max 0", "invalid maximum `0': 1 to 4294967295"),
        (
            "--set-max 4294967296",
            "invalid maximum `4294967296': 1 to 4294967295",
        ),
        ("--set-timeout udp=3", "unknown timeout `udp'"),
        ("--set-timeout icmp", "`icmp': expected NAME=SECONDS"),
        (
            "--set-timeout icmp=0",
            "invalid timeout `0' for icmp: 1 to 2147483647 seconds",
        ),
        (
            "--set-timeout generic=2147483648",
            "invalid timeout `2147483648' for generic: 1 to 2147483647 seconds",
        ),
    ] {
        assert_eq!(usage(s), msg, "{s}");
    }
}

#[test]
fn set_options_merge() {
    let o = opts("--set-max 65536 --set-timeout tcp_established=3600,udp_unreplied=10 --set-timeout tcp_established=7200");
    assert_eq!(o.set_max, Some(65536));
    assert_eq!(
        o.set_timeouts,
        vec![
            (proto::CTTIMEOUT_UDP_UNREPLIED, 10),
            (proto::CTTIMEOUT_TCP_ESTABLISHED, 7200)
        ]
    );
}

// --- Filters -------------------------------------------------------------

fn shown(filter: &str, e: &Entry) -> bool {
    opts(&format!("-L {filter}")).filter.matches(e)
}

#[test]
fn filters_select_as_conntrack_does() {
    let est = tcp(3, ASSURED, 100);
    let syn = tcp(1, IPS_CONFIRMED, 100);
    let u = udp(IPS_CONFIRMED, 30);
    let p = ping(REPLIED);
    for (f, e, want) in [
        ("", &est, true),
        ("-p tcp", &est, true),
        ("-p tcp", &u, false),
        ("-p 17", &u, true),
        ("-s 10.0.1.2", &est, true),
        ("-s 10.0.1.3", &est, false),
        ("-s 10.0.0.0/16", &est, true),
        ("-s 10.1.0.0/16", &est, false),
        ("-s 0.0.0.0/0", &est, true),
        ("-d 10.0.2.2", &est, true),
        ("-d 10.0.1.2", &est, false),
        ("-r 10.0.2.2 -q 10.0.1.2", &est, true),
        ("-r 10.0.1.2", &est, false),
        ("-p tcp --sport 40000 --dport 5001", &est, true),
        ("-p tcp --dport 5002", &est, false),
        ("-p tcp --reply-port-src 5001", &est, true),
        ("-p tcp --reply-port-dst 5001", &est, false),
        ("-p tcp --state ESTABLISHED", &est, true),
        ("-p tcp --state ESTABLISHED", &syn, false),
        (
            "-p icmp --icmp-type 8 --icmp-code 0 --icmp-id 1234",
            &p,
            true,
        ),
        ("-p icmp --icmp-id 1", &p, false),
        ("-p icmp --icmp-type 0", &p, false),
        ("-m 0", &est, true),
        ("-m 1", &est, false),
        ("-m 0/0", &est, true),
        ("-u ASSURED", &est, true),
        ("-u ASSURED", &syn, false),
        ("-u ASSURED,SEEN_REPLY", &est, true),
        ("-u SEEN_REPLY,FIXED_TIMEOUT", &est, false),
        ("-u UNREPLIED", &syn, true),
        ("-u UNREPLIED", &est, false),
        ("-u !ASSURED", &syn, true),
        ("-u !ASSURED", &est, false),
        ("-u UNSET", &syn, true),
    ] {
        assert_eq!(shown(f, e), want, "{f} on {}", format(e, None, false));
    }
    // A mark filter never selects a connection without a mark.
    let mut no_mark = est.clone();
    no_mark.mark = None;
    assert!(!shown("-m 0/0", &no_mark));
    let mut marked = est.clone();
    marked.mark = Some(0x1234);
    assert!(shown("-m 0x34/0xff", &marked));
    assert!(!shown("-m 0x1234/0xff", &marked));
}

// --- Against the scripted kernel -----------------------------------------

/// nlctrl's answer: the family, with its `ct-events` group.
fn family_answer() -> Answer {
    Box::new(|req| {
        let groups = nest(
            7,
            &[nest(
                1,
                &[attr(1, b"ct-events\0"), attr(2, &GROUP.to_ne_bytes())],
            )],
        );
        vec![
            genlmsg(
                0x10,
                seq_of(req),
                1,
                &[
                    attr(2, b"rustfilter\0"),
                    attr(1, &FAMILY.to_ne_bytes()),
                    groups,
                ],
            ),
            ack(req),
        ]
    })
}

/// The answer to `CT_LIST`: the entries over two messages, then the ack.
fn list_answer(entries: Vec<Entry>) -> Answer {
    Box::new(move |req| {
        let attrs: Vec<Vec<u8>> = entries.iter().map(entry_attr).collect();
        let half = attrs.len() / 2;
        vec![
            genlmsg(FAMILY, seq_of(req), proto::CMD_CT_LIST, &attrs[..half]),
            genlmsg(FAMILY, seq_of(req), proto::CMD_CT_LIST, &attrs[half..]),
            ack(req),
        ]
    })
}

fn one_answer(e: Entry) -> Answer {
    Box::new(move |req| {
        vec![
            genlmsg(FAMILY, seq_of(req), proto::CMD_CT_GET, &[entry_attr(&e)]),
            ack(req),
        ]
    })
}

fn ok() -> Answer {
    Box::new(|req| vec![ack(req)])
}

fn fail(errno: i32, msg: Option<&'static str>) -> Answer {
    Box::new(move |req| vec![error(req, errno, msg)])
}

struct Ran {
    result: Result<u8, Error>,
    out: String,
    err: String,
    sent: Vec<Vec<u8>>,
    joined: Vec<u32>,
}

fn run_script(cmdline: &str, answers: Vec<Answer>, events: Vec<Vec<u8>>) -> Ran {
    let o = opts(cmdline);
    let mut all = vec![family_answer()];
    all.extend(answers);
    let mut client = Client::new(Script::new(all).with_events(events));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run(&mut client, &o, &mut out, &mut err, &|| true);
    Ran {
        result,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
        sent: client.transport().sent.clone(),
        joined: client.transport().joined.clone(),
    }
}

/// Command, flags and attributes of a sent request.
fn request(msg: &[u8]) -> (u8, u16, Vec<u8>) {
    assert_eq!(u16::from_ne_bytes([msg[4], msg[5]]), FAMILY);
    assert_eq!(msg[17], proto::GENL_VERSION);
    (
        msg[16],
        u16::from_ne_bytes([msg[6], msg[7]]),
        msg[20..].to_vec(),
    )
}

const NLM_F_REQUEST: u16 = 0x1;
const REQ_ACK: u16 = NLM_F_REQUEST | 0x4;

fn sample() -> Vec<Entry> {
    vec![
        tcp(3, ASSURED, 431999),
        udp(IPS_CONFIRMED, 29),
        ping(REPLIED),
    ]
}

#[test]
fn list_prints_every_line_and_the_summary() {
    let r = run_script("-L", vec![list_answer(sample())], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    let want: String = sample()
        .iter()
        .map(|e| format(e, None, false) + "\n")
        .collect();
    assert_eq!(r.out, want);
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 3 flow entries have been shown.\n"
    );
    assert_eq!(r.sent.len(), 2);
    assert_eq!(request(&r.sent[1]), (proto::CMD_CT_LIST, REQ_ACK, vec![]));
}

#[test]
fn list_filters_and_zero_is_still_success() {
    let r = run_script("-L -p udp", vec![list_answer(sample())], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert!(r.out.starts_with("udp      17 29 "));
    assert_eq!(r.out.lines().count(), 1);
    let r = run_script("-L -p 47", vec![list_answer(sample())], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out, "");
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 0 flow entries have been shown.\n"
    );
    let r = run_script("-L", vec![list_answer(vec![])], vec![]);
    assert_eq!(r.result.unwrap(), 0);
}

fn tuple_nest(t: &Tuple) -> Vec<u8> {
    nest(proto::A_CT_TUPLE, &tuple_attrs(t))
}

#[test]
fn get_sends_the_tuple_and_prints_the_entry() {
    let e = tcp(3, ASSURED, 431999);
    let r = run_script(
        "-G -p tcp -s 10.0.1.2 -d 10.0.2.2 --sport 40000 --dport 5001",
        vec![one_answer(e.clone())],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out, format(&e, None, false) + "\n");
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 1 flow entries have been shown.\n"
    );
    let (cmd, flags, attrs) = request(&r.sent[1]);
    assert_eq!((cmd, flags), (proto::CMD_CT_GET, REQ_ACK));
    assert_eq!(attrs, tuple_nest(&Tuple::tcp(A, 40000, B, 5001)));
    // Byte by byte: nest header, addresses in network order, ports in
    // host order.
    let mut want = vec![44, 0, 10, 0x80];
    want.extend_from_slice(&[8, 0, 1, 0, 10, 0, 1, 2]);
    want.extend_from_slice(&[8, 0, 2, 0, 10, 0, 2, 2]);
    want.extend_from_slice(&[5, 0, 3, 0, 6, 0, 0, 0]);
    want.extend_from_slice(&[6, 0, 4, 0]);
    want.extend_from_slice(&40000u16.to_ne_bytes());
    want.extend_from_slice(&[0, 0, 6, 0, 5, 0]);
    want.extend_from_slice(&5001u16.to_ne_bytes());
    want.extend_from_slice(&[0, 0]);
    if cfg!(target_endian = "little") {
        assert_eq!(attrs, want);
    }
}

#[test]
fn get_of_icmp_and_of_other_protocols() {
    let r = run_script(
        "-G -p icmp -s 10.0.1.2 -d 10.0.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 1234",
        vec![one_answer(ping(REPLIED))],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 0);
    let (_, _, attrs) = request(&r.sent[1]);
    // SPORT is the id, DPORT type << 8 | code.
    assert_eq!(attrs, tuple_nest(&Tuple::icmp(A, B, 1234, 8, 0)));
    let dport = attr(proto::CTTUPLE_DPORT, &0x0800u16.to_ne_bytes());
    assert!(attrs.windows(dport.len()).any(|w| w == dport));
    let gre = conn(Tuple::other(A, B, 47), ASSURED, 599, None);
    let r = run_script(
        "-G -p gre -s 10.0.1.2 -d 10.0.2.2",
        vec![one_answer(gre)],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 0);
    let (_, _, attrs) = request(&r.sent[1]);
    // No 16-bit fields for a protocol tracked by addresses.
    assert_eq!(
        attrs,
        nest(
            proto::A_CT_TUPLE,
            &[
                attr(proto::CTTUPLE_SRC, &A),
                attr(proto::CTTUPLE_DST, &B),
                attr(proto::CTTUPLE_PROTO, &[47]),
            ]
        )
    );
}

#[test]
fn get_of_a_missing_connection_fails_as_conntrack() {
    let r = run_script(
        "-G -p udp -s 10.0.1.2 -d 10.0.2.2 --sport 1 --dport 2",
        vec![fail(2, Some("rustfilter: no such connection"))],
        vec![],
    );
    let e = r.result.unwrap_err();
    assert_eq!(
        describe(&e, Cmd::Get),
        "Operation failed: such conntrack doesn't exist"
    );
    assert_eq!(r.out, "");
}

#[test]
fn get_whose_filter_fails_shows_nothing_and_exits_1() {
    let r = run_script(
        "-G -p tcp -s 10.0.1.2 -d 10.0.2.2 --sport 40000 --dport 5001 --state SYN_SENT",
        vec![one_answer(tcp(3, ASSURED, 1))],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 1);
    assert_eq!(r.out, "");
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 0 flow entries have been shown.\n"
    );
}

#[test]
fn delete_lists_then_deletes_each_match_by_its_original_tuple() {
    let udp2 = conn(Tuple::udp(A, 40001, B, 53), REPLIED, 20, None);
    let entries = vec![tcp(3, ASSURED, 1), udp(IPS_CONFIRMED, 29), udp2.clone()];
    let r = run_script(
        "-D -p udp",
        vec![
            list_answer(entries),
            ok(),
            // The second went away meanwhile: skipped, not counted.
            fail(2, None),
        ],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out, format(&udp(IPS_CONFIRMED, 29), None, false) + "\n");
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 1 flow entries have been deleted.\n"
    );
    assert_eq!(r.sent.len(), 4);
    assert_eq!(request(&r.sent[1]).0, proto::CMD_CT_LIST);
    assert_eq!(
        request(&r.sent[2]),
        (
            proto::CMD_CT_DELETE,
            REQ_ACK,
            tuple_nest(&Tuple::udp(A, 40000, B, 7777))
        )
    );
    assert_eq!(
        request(&r.sent[3]).2,
        tuple_nest(&Tuple::udp(A, 40001, B, 53))
    );
}

#[test]
fn delete_of_nothing_exits_1_and_other_errors_stop() {
    let r = run_script(
        "-D -p icmp",
        vec![list_answer(sample()[..2].to_vec())],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 1);
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 0 flow entries have been deleted.\n"
    );
    let r = run_script("-D", vec![list_answer(sample()), fail(1, None)], vec![]);
    let e = r.result.unwrap_err();
    assert_eq!(
        describe(&e, Cmd::Delete),
        "Operation failed: Operation not permitted \
         (rfctl conntrack needs CAP_NET_ADMIN in this network namespace)"
    );
}

#[test]
fn flush_count_and_stats() {
    let r = run_script("-F", vec![ok()], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(request(&r.sent[1]), (proto::CMD_CT_FLUSH, REQ_ACK, vec![]));
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): connection tracking table has been emptied.\n"
    );
    assert_eq!(r.out, "");

    let stats = || -> Answer {
        Box::new(|req| {
            let u64a = |ty: u16, v: u64| {
                [attr(proto::CTSTATS_PAD, &[]), attr(ty, &v.to_ne_bytes())].concat()
            };
            let inner = vec![
                attr(proto::CTSTATS_COUNT, &3u32.to_ne_bytes()),
                attr(proto::CTSTATS_MAX, &65536u32.to_ne_bytes()),
                u64a(proto::CTSTATS_FOUND, 120),
                u64a(proto::CTSTATS_NEW, 7),
                u64a(proto::CTSTATS_INVALID, 2),
                u64a(proto::CTSTATS_INSERT_FAILED, 0),
                u64a(proto::CTSTATS_DROP, 1),
                u64a(proto::CTSTATS_EARLY_DROP, u64::MAX),
                attr(77, &[0; 8]),
            ];
            vec![
                genlmsg(
                    FAMILY,
                    seq_of(req),
                    proto::CMD_CT_STATS,
                    &[nest(proto::A_CT_STATS, &inner)],
                ),
                ack(req),
            ]
        })
    };
    let r = run_script("-C", vec![stats()], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out, "3\n");
    assert_eq!(r.err, "");
    assert_eq!(request(&r.sent[1]), (proto::CMD_CT_STATS, REQ_ACK, vec![]));
    let r = run_script("-S", vec![stats()], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(
        r.out,
        "cpu=0   \tentries=3 found=120 new=7 invalid=2 insert_failed=0 drop=1 \
         early_drop=18446744073709551615 max=65536 \n"
    );
    // A reply without statistics.
    let r = run_script("-C", vec![ok()], vec![]);
    assert!(matches!(r.result, Err(Error::Protocol(_))));
}

/// The module's answer to CT_SET: an empty reply, no acknowledgement.
fn set_reply() -> Answer {
    Box::new(|req| vec![genlmsg(FAMILY, seq_of(req), proto::CMD_CT_SET, &[])])
}

#[test]
fn set_sends_max_and_timeouts() {
    let r = run_script(
        "--set-max 1000 --set-timeout tcp_established=3600,icmp=5",
        vec![set_reply()],
        vec![],
    );
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!((r.out.as_str(), r.err.as_str()), ("", ""));
    let (cmd, flags, attrs) = request(&r.sent[1]);
    // No acknowledgement asked for: the kernel's reply, made before the
    // change, says it was made.
    assert_eq!((cmd, flags), (proto::CMD_CT_SET, NLM_F_REQUEST));
    assert_eq!(
        attrs,
        [
            attr(proto::A_CT_MAX, &1000u32.to_ne_bytes()),
            nest(
                proto::A_CT_TIMEOUTS,
                &[
                    attr(proto::CTTIMEOUT_TCP_ESTABLISHED, &3600u32.to_ne_bytes()),
                    attr(proto::CTTIMEOUT_ICMP, &5u32.to_ne_bytes()),
                ]
            ),
        ]
        .concat()
    );
    let r = run_script("--set-timeout generic=60", vec![set_reply()], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    // An acknowledgement alone is not the answer CT_SET gives.
    let r2 = run_script("--set-timeout generic=60", vec![ok()], vec![]);
    assert!(matches!(r2.result, Err(Error::Protocol(_))));
    assert_eq!(
        request(&r.sent[1]).2,
        nest(
            proto::A_CT_TIMEOUTS,
            &[attr(proto::CTTIMEOUT_GENERIC, &60u32.to_ne_bytes())]
        )
    );
    let r = run_script(
        "--set-max 5",
        vec![fail(22, Some("rustfilter: the maximum must be at least 1"))],
        vec![],
    );
    assert_eq!(
        describe(&r.result.unwrap_err(), Cmd::Set),
        "Operation failed: Invalid argument: rustfilter: the maximum must be at least 1"
    );
}

#[test]
fn set_arms_fail_nth_when_asked() {
    use crate::failnth::{testutil, Injector, Plan};
    use std::cell::RefCell;
    use std::rc::Rc;

    let vars = |k: &str| match k {
        "RFCTL_FAIL_NTH" => Some("4".to_string()),
        "RFCTL_FAIL_NTH_AT" => Some("set".to_string()),
        _ => None,
    };
    let state = Rc::new(RefCell::new(testutil::State::default()));
    let injector = Injector::new(
        Plan::parse(vars).unwrap().unwrap(),
        Box::new(testutil::Fake(Rc::clone(&state))),
    );
    let mut client =
        Client::new(Script::new(vec![family_answer(), fail(12, None)])).with_fail_nth(injector);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let e = run(
        &mut client,
        &opts("--set-max 5"),
        &mut out,
        &mut err,
        &|| true,
    )
    .unwrap_err();
    assert_eq!(
        describe(&e, Cmd::Set),
        "Operation failed: Cannot allocate memory"
    );
    assert_eq!(state.borrow().written, [4, 0]);
    let reports = &client.fail_nth().unwrap().reports;
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].to_string(),
        "fail-nth 4 at set 1: fault injected"
    );
}

/// A multicast event as the module sends it: sequence and port 0.
fn event(kind: u32, e: &Entry) -> Vec<u8> {
    genlmsg(
        FAMILY,
        0,
        proto::CMD_CT_EVENT,
        &[attr(proto::A_CT_EVENT, &kind.to_ne_bytes()), entry_attr(e)],
    )
}

#[test]
fn events_are_printed_until_interrupted() {
    let syn = tcp(1, IPS_CONFIRMED, 120);
    let gone = udp(REPLIED, 0);
    let mut two = event(proto::CT_EVENT_DESTROY, &gone);
    two.extend_from_slice(&event(9, &gone)); // an event kind of the future
    let r = run_script("-E", vec![], vec![event(proto::CT_EVENT_NEW, &syn), two]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.joined, vec![GROUP]);
    assert_eq!(
        r.out,
        format!(
            "{}\n{}\n",
            format(&syn, Some(EventKind::New), false),
            format(&gone, Some(EventKind::Destroy), false)
        )
    );
    assert!(r.out.starts_with("    [NEW] tcp      6 120 SYN_SENT src="));
    assert!(r.out.contains("\n[DESTROY] udp      17 0 src="));
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 2 flow events have been shown.\n"
    );
    // Only the family request was sent: events need no request.
    assert_eq!(r.sent.len(), 1);
}

#[test]
fn events_are_filtered_by_mask_and_options() {
    let evs = || {
        vec![
            event(proto::CT_EVENT_NEW, &tcp(1, IPS_CONFIRMED, 120)),
            event(proto::CT_EVENT_NEW, &udp(IPS_CONFIRMED, 30)),
            event(proto::CT_EVENT_DESTROY, &udp(REPLIED, 0)),
        ]
    };
    let r = run_script("-E -e DESTROY", vec![], evs());
    assert_eq!(r.out.lines().count(), 1);
    assert!(r.out.starts_with("[DESTROY] udp"));
    let r = run_script("-E -p udp", vec![], evs());
    assert_eq!(r.out.lines().count(), 2);
    let r = run_script("-E -e UPDATES", vec![], evs());
    assert_eq!(r.out, "");
    let r = run_script("-E -o extended -p tcp", vec![], evs());
    assert!(r
        .out
        .starts_with("    [NEW] ipv4     2 tcp      6 120 SYN_SENT "));
    let r = run_script("-E -o timestamp -p tcp", vec![], evs());
    assert!(r.out.starts_with('['), "{}", r.out);
    assert!(r.out.contains("]\t    [NEW] tcp      6 "), "{}", r.out);
}

#[test]
fn event_count_and_timeout() {
    let evs = || {
        vec![
            event(proto::CT_EVENT_NEW, &tcp(1, IPS_CONFIRMED, 120)),
            [
                event(proto::CT_EVENT_NEW, &udp(IPS_CONFIRMED, 30)),
                event(proto::CT_EVENT_DESTROY, &udp(REPLIED, 0)),
            ]
            .concat(),
        ]
    };
    // Stops in the middle of a datagram once N are shown.
    let r = run_script("-E --event-count 2", vec![], evs());
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out.lines().count(), 2);
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 2 flow events have been shown.\n"
    );
    // The time runs out before the count: failure.
    let r = run_script("-E --event-count 5 --event-timeout 0.01", vec![], evs());
    assert_eq!(r.result.unwrap(), 1);
    assert_eq!(r.out.lines().count(), 3);
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 3 flow events have been shown.\n"
    );
    // A timeout alone is a success, events or not.
    let r = run_script("-E --event-timeout 0.01", vec![], vec![]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(
        r.err,
        "rfctl conntrack (rustfilter): 0 flow events have been shown.\n"
    );
}

#[test]
fn events_without_the_group_or_malformed() {
    let o = opts("-E");
    let family: Answer = Box::new(|req| {
        vec![
            genlmsg(0x10, seq_of(req), 1, &[attr(1, &FAMILY.to_ne_bytes())]),
            ack(req),
        ]
    });
    let mut client = Client::new(Script::new(vec![family]));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let e = run(&mut client, &o, &mut out, &mut err, &|| true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the rustfilter module has no \"ct-events\" multicast group: it sends no connection events"
    );
    let bad = genlmsg(
        FAMILY,
        0,
        proto::CMD_CT_EVENT,
        &[attr(proto::A_CT_EVENT, &1u32.to_ne_bytes())],
    );
    let r = run_script("-E", vec![], vec![bad]);
    assert!(matches!(r.result, Err(Error::Protocol(_))));
    // Other commands of the family on the group are not events.
    let other = genlmsg(FAMILY, 0, proto::CMD_CT_LIST, &[]);
    let r = run_script("-E", vec![], vec![other]);
    assert_eq!(r.result.unwrap(), 0);
    assert_eq!(r.out, "");
}

#[test]
fn errors_are_worded_as_conntrack() {
    let r = run_script("-L", vec![fail(1, None)], vec![]);
    assert_eq!(
        describe(&r.result.unwrap_err(), Cmd::List),
        "Operation failed: Operation not permitted \
         (rfctl conntrack needs CAP_NET_ADMIN in this network namespace)"
    );
    // ENOENT outside -G and -D is the plain text.
    let r = run_script("-F", vec![fail(2, None)], vec![]);
    assert_eq!(
        describe(&r.result.unwrap_err(), Cmd::Flush),
        "Operation failed: No such file or directory"
    );
    let not_loaded: Answer = Box::new(|req| vec![error(req, 2, None)]);
    let mut client = Client::new(Script::new(vec![not_loaded]));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let e = run(&mut client, &opts("-L"), &mut out, &mut err, &|| true).unwrap_err();
    assert_eq!(
        describe(&e, Cmd::List),
        "rustfilter module not loaded (no generic netlink family \"rustfilter\")"
    );
    let io = Error::Io {
        what: "cannot join the netlink multicast group",
        err: std::io::Error::from_raw_os_error(1),
    };
    assert!(describe(&io, Cmd::Event).starts_with("Operation failed: Operation not permitted"));
}

#[test]
fn help_names_every_option() {
    for opt in [
        "--dump",
        "--get",
        "--delete",
        "--flush",
        "--event",
        "--counter",
        "--stats",
        "--set-max",
        "--set-timeout",
        "--protonum",
        "--orig-src",
        "--reply-dst",
        "--sport",
        "--reply-port-dst",
        "--state",
        "--icmp-id",
        "--mark",
        "--status",
        "--family",
        "--output",
        "--event-mask",
        "--event-count",
        "--event-timeout",
        "tcp_unack",
        "udp_replied",
        "generic",
    ] {
        assert!(USAGE.contains(opt), "{opt}");
    }
    for (name, _) in super::args::TIMEOUT_NAMES {
        assert!(USAGE.contains(name), "{name}");
    }
    assert_eq!(
        version(),
        format!(
            "rfctl conntrack v{} (rustfilter)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

// --- A real socket -------------------------------------------------------

/// A real socket on nlctrl's "notify" group standing for `ct-events`, under
/// a family id no message has: the wait times out.
#[test]
fn live_socket_event_timeout() {
    let mut client = Client::open().unwrap();
    let notify = client
        .family_info("nlctrl")
        .unwrap()
        .group("notify")
        .unwrap();
    let info = crate::netlink::FamilyInfo {
        id: 0xfff0,
        groups: vec![(proto::CT_EVENTS_GROUP.to_string(), notify)],
    };
    let o = opts("-E --event-timeout 0.05");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let start = std::time::Instant::now();
    let status = super::events::run(&mut client, &info, &o, &mut out, &mut err, &|| false).unwrap();
    assert_eq!(status, 0);
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "rfctl conntrack (rustfilter): 0 flow events have been shown.\n"
    );
}

/// SIGINT ends the wait, with the summary and status 0: sent to the
/// waiting thread `delay` after it blocked the signal, before or during
/// its wait, it is not lost.
fn stop_on_sigint(delay: Duration) {
    use std::sync::mpsc;
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut client = Client::open().unwrap();
        let notify = client
            .family_info("nlctrl")
            .unwrap()
            .group("notify")
            .unwrap();
        let info = crate::netlink::FamilyInfo {
            id: 0xfff0,
            groups: vec![(proto::CT_EVENTS_GROUP.to_string(), notify)],
        };
        // Blocks SIGINT and SIGTERM in this thread only.
        super::events::catch_signals();
        // SAFETY: the id of the calling thread.
        tx.send(unsafe { libc::pthread_self() }).unwrap();
        let o = opts("-E --event-timeout 20");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = super::events::run(
            &mut client,
            &info,
            &o,
            &mut out,
            &mut err,
            &super::events::stopped,
        );
        (status.unwrap(), String::from_utf8(err).unwrap())
    });
    let tid = rx.recv().unwrap();
    std::thread::sleep(delay);
    // SAFETY: the thread is alive until it is joined below.
    assert_eq!(unsafe { libc::pthread_kill(tid, libc::SIGINT) }, 0);
    let start = std::time::Instant::now();
    let (status, err) = waiter.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(status, 0);
    assert_eq!(
        err,
        "rfctl conntrack (rustfilter): 0 flow events have been shown.\n"
    );
}

#[test]
fn live_socket_events_stop_on_sigint() {
    stop_on_sigint(Duration::ZERO);
    stop_on_sigint(Duration::from_millis(30));
    // Give SIGINT and SIGTERM back their default action for the rest of
    // the tests.
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: restoring the default disposition.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

#[test]
fn helper_name_before_use() {
    let mut e = tcp(3, 0x0e, 431999);
    e.helper = Some("ftp".into());
    let line = format(&e, None, false);
    assert!(
        line.ends_with(" [ASSURED] mark=0 helper=ftp use=1"),
        "{line}"
    );
}

#[test]
fn set_auto_helper_request() {
    let o = opts("--set-auto-helper off");
    assert_eq!(o.set_auto_helper, Some(false));
    let req = crate::conntrack::set_request(&o).unwrap();
    assert_eq!(req, [8, 0, proto::A_CT_AUTO_HELPER as u8, 0, 0, 0, 0, 0]);
    assert!(usage("--set-auto-helper maybe").contains("on or off"));
}
