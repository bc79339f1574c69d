// SPDX-License-Identifier: GPL-2.0

//! Host tests of the iptables grammar, the commands, save/restore, the
//! chunked encoding and the transaction client (against a scripted
//! kernel).

use std::time::Instant;

use rfcore::rules::table::TableKind;
use rfcore::rules::Policy;

use crate::error::Error;
use crate::format;
use crate::model::TableSpec;
use crate::ops;
use crate::parse::{self, Command};
use crate::restore;
use crate::wire;

fn words(s: &str) -> Vec<String> {
    parse::split_line(s).unwrap()
}

fn parse_ok(s: &str) -> parse::CmdLine {
    parse::parse_command(&words(s), None).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn parse_err(s: &str) -> String {
    match parse::parse_command(&words(s), None) {
        Ok(c) => panic!("{s}: parsed as {:?}", c.cmd),
        Err(e) => e.0,
    }
}

/// A filter table with the chains the examples use.
fn base() -> TableSpec {
    let mut t = TableSpec::empty(TableKind::Filter);
    for c in ["USER1", "user2"] {
        ops::apply(&mut t, &parse_ok(&format!("-N {c}"))).unwrap();
    }
    t
}

/// Each rule as given to iptables 1.8.9, and as `iptables -S` printed it.
const RULES: &[(&str, &str)] = &[
    ("-A INPUT -s 10.0.0.0/8 -d 192.168.1.1 -i eth+ -p udp --sport 53 --dport 1000:2000 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -d 192.168.1.1/32 -i eth+ -p udp -m udp --sport 53 --dport 1000:2000 -j ACCEPT"),
    ("-A INPUT ! -s 10.1.0.0/16 ! -i lo -p tcp ! --dport 22 --tcp-flags SYN,ACK SYN -j DROP",
     "-A INPUT ! -s 10.1.0.0/16 ! -i lo -p tcp -m tcp ! --dport 22 --tcp-flags SYN,ACK SYN -j DROP"),
    ("-A INPUT -p tcp --syn -j USER1",
     "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j USER1"),
    ("-A INPUT -p tcp ! --syn --sport 1:1023 -g user2",
     "-A INPUT -p tcp -m tcp --sport 1:1023 ! --tcp-flags FIN,SYN,RST,ACK SYN -g user2"),
    ("-A INPUT -p icmp --icmp-type echo-request -j ACCEPT",
     "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ("-A INPUT -p icmp --icmp-type 3/4 -j ACCEPT",
     "-A INPUT -p icmp -m icmp --icmp-type 3/4 -j ACCEPT"),
    ("-A INPUT -p icmp --icmp-type port-unreachable -j ACCEPT",
     "-A INPUT -p icmp -m icmp --icmp-type 3/3 -j ACCEPT"),
    ("-A INPUT -p icmp ! --icmp-type any -j ACCEPT",
     "-A INPUT -p icmp -m icmp ! --icmp-type any -j ACCEPT"),
    ("-A INPUT -f -j DROP", "-A INPUT -f -j DROP"),
    ("-A INPUT ! -f -p 47 -j DROP", "-A INPUT -p gre ! -f -j DROP"),
    ("-A INPUT ! -p tcp -j RETURN", "-A INPUT ! -p tcp -j RETURN"),
    ("-A INPUT -p all -j ACCEPT", "-A INPUT -j ACCEPT"),
    ("-A INPUT -p TCP -m tcp", "-A INPUT -p tcp -m tcp"),
    ("-A INPUT -p tcp -m multiport --dports 22,80,1000:2000 -j ACCEPT",
     "-A INPUT -p tcp -m multiport --dports 22,80,1000:2000 -j ACCEPT"),
    ("-A INPUT -p udp -m multiport ! --sports 53,5353 -j ACCEPT",
     "-A INPUT -p udp -m multiport ! --sports 53,5353 -j ACCEPT"),
    ("-A INPUT -p tcp -m multiport --ports 443 -j ACCEPT",
     "-A INPUT -p tcp -m multiport --ports 443 -j ACCEPT"),
    ("-A INPUT -m mac --mac-source 52:54:00:AB:cd:ef -j ACCEPT",
     "-A INPUT -m mac --mac-source 52:54:00:ab:cd:ef -j ACCEPT"),
    ("-A INPUT -m mac ! --mac-source 52:54:00:AB:cd:ef -j ACCEPT",
     "-A INPUT -m mac ! --mac-source 52:54:00:ab:cd:ef -j ACCEPT"),
    ("-A INPUT -m mark --mark 0x10 -j ACCEPT", "-A INPUT -m mark --mark 0x10 -j ACCEPT"),
    ("-A INPUT -m mark ! --mark 5/0xff -j ACCEPT", "-A INPUT -m mark ! --mark 0x5/0xff -j ACCEPT"),
    ("-A INPUT -m tos --tos 0x10 -j ACCEPT", "-A INPUT -m tos --tos 0x10/0xff -j ACCEPT"),
    ("-A INPUT -m tos --tos Minimize-Delay -j ACCEPT", "-A INPUT -m tos --tos 0x10/0x3f -j ACCEPT"),
    ("-A INPUT -m tos ! --tos 0x04/0x0f -j ACCEPT", "-A INPUT -m tos ! --tos 0x04/0x0f -j ACCEPT"),
    ("-A INPUT -m dscp --dscp 10 -j ACCEPT", "-A INPUT -m dscp --dscp 0x0a -j ACCEPT"),
    ("-A INPUT -m dscp ! --dscp 0x2e -j ACCEPT", "-A INPUT -m dscp ! --dscp 0x2e -j ACCEPT"),
    ("-A INPUT -m dscp --dscp-class AF41 -j ACCEPT", "-A INPUT -m dscp --dscp 0x22 -j ACCEPT"),
    ("-A INPUT -m length --length 100 -j ACCEPT", "-A INPUT -m length --length 100 -j ACCEPT"),
    ("-A INPUT -m length ! --length 100:1500 -j ACCEPT", "-A INPUT -m length ! --length 100:1500 -j ACCEPT"),
    ("-A INPUT -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix \"IN: \" --log-level 6",
     "-A INPUT -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix \"IN: \" --log-level 6"),
    ("-A INPUT -m limit --limit 10/sec -j LOG", "-A INPUT -m limit --limit 10/sec -j LOG"),
    ("-A INPUT -m limit --limit 2/hour -j LOG --log-level warning",
     "-A INPUT -m limit --limit 2/hour -j LOG"),
    ("-A INPUT -m limit --limit 1/d --limit-burst 1 -j LOG --log-level debug --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode",
     "-A INPUT -m limit --limit 1/day --limit-burst 1 -j LOG --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode"),
    ("-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.0.1.1-10.0.1.5 -j ACCEPT",
     "-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.0.1.1-10.0.1.5 -j ACCEPT"),
    ("-A INPUT -m addrtype --src-type LOCAL,UNICAST ! --dst-type BROADCAST -j ACCEPT",
     "-A INPUT -m addrtype --src-type UNICAST,LOCAL ! --dst-type BROADCAST -j ACCEPT"),
    ("-A INPUT -m addrtype --dst-type MULTICAST --limit-iface-in -j ACCEPT",
     "-A INPUT -m addrtype --dst-type MULTICAST --limit-iface-in -j ACCEPT"),
    ("-A INPUT -j REJECT", "-A INPUT -j REJECT --reject-with icmp-port-unreachable"),
    ("-A INPUT -p tcp -j REJECT --reject-with tcp-rst", "-A INPUT -p tcp -j REJECT --reject-with tcp-reset"),
    ("-A INPUT -j REJECT --reject-with icmp-host-prohibited",
     "-A INPUT -j REJECT --reject-with icmp-host-prohibited"),
    ("-A INPUT -j MARK --set-mark 5", "-A INPUT -j MARK --set-xmark 0x5/0xffffffff"),
    ("-A INPUT -j MARK --set-mark 5/0xff", "-A INPUT -j MARK --set-xmark 0x5/0xff"),
    ("-A INPUT -j MARK --and-mark 0xf0", "-A INPUT -j MARK --set-xmark 0x0/0xffffff0f"),
    ("-A INPUT -j MARK --or-mark 0x3", "-A INPUT -j MARK --set-xmark 0x3/0x3"),
    ("-A INPUT -j MARK --xor-mark 0x3", "-A INPUT -j MARK --set-xmark 0x3/0x0"),
    ("-A FORWARD -i eth0 -o eth1 ! -d 1.2.3.4/32 -j ACCEPT",
     "-A FORWARD ! -d 1.2.3.4/32 -i eth0 -o eth1 -j ACCEPT"),
    ("-A OUTPUT ! -o wlan+ -j ACCEPT", "-A OUTPUT ! -o wlan+ -j ACCEPT"),
    ("-A OUTPUT -d 1.2.3.0/255.255.255.0 -s 5.6.0.0/255.255.0.0",
     "-A OUTPUT -s 5.6.0.0/16 -d 1.2.3.0/24"),
    ("-A OUTPUT -s 1.2.3.4/255.0.255.0", "-A OUTPUT -s 1.0.3.0/255.0.255.0"),
    ("-A INPUT -p udp -m udp ! --sport 10:20 ! --dport 30 -j ACCEPT",
     "-A INPUT -p udp -m udp ! --sport 10:20 ! --dport 30 -j ACCEPT"),
    ("-A INPUT -p tcp --tcp-flags ALL NONE -j DROP",
     "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP"),
    ("-A INPUT -p tcp --sport 0:65535 --dport 5: -j DROP", "-A INPUT -p tcp -m tcp --dport 5:65535 -j DROP"),
    ("--append INPUT --protocol tcp --destination-port=22 --jump ACCEPT",
     "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"),
    ("-A INPUT -c 5 600 -j ACCEPT", "-A INPUT -j ACCEPT"),
];

#[test]
fn rules_parse_and_print_as_iptables() {
    for (input, want) in RULES {
        let c = parse_ok(input);
        let mut t = base();
        ops::apply(&mut t, &c).unwrap_or_else(|e| panic!("{input}: {e}"));
        let Command::Append(chain) = &c.cmd else {
            panic!("{input}")
        };
        let r = t.chain(chain).unwrap().rules.last().unwrap();
        assert_eq!(format::rule_save(chain, r, false), *want, "{input}");
        // And the printed form reads back to the same rule.
        let again = parse_ok(want);
        assert!(again.rule.same_as(r), "{want}");
        // Every rule encodes and decodes through the core unchanged.
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let back = wire::decode_table(&chunks.concat()).unwrap_or_else(|e| panic!("{input}: {e}"));
        let r2 = back.chain(chain).unwrap().rules.last().unwrap();
        assert!(r2.same_as(r), "{input}");
    }
}

#[test]
fn mangle_targets_parse() {
    for (input, want) in [
        (
            "-A POSTROUTING -j TOS --set-tos Minimize-Delay",
            "-A POSTROUTING -j TOS --set-tos 0x10/0x3f",
        ),
        (
            "-A POSTROUTING -j TOS --and-tos 0x08",
            "-A POSTROUTING -j TOS --set-tos 0x00/0xf7",
        ),
        (
            "-A POSTROUTING -j TOS --or-tos 0x08",
            "-A POSTROUTING -j TOS --set-tos 0x08/0x08",
        ),
        (
            "-A POSTROUTING -j TOS --xor-tos 5",
            "-A POSTROUTING -j TOS --set-tos 0x05/0x00",
        ),
        (
            "-A POSTROUTING -j TOS --set-tos 5",
            "-A POSTROUTING -j TOS --set-tos 0x05/0xff",
        ),
        (
            "-A POSTROUTING -j DSCP --set-dscp 46",
            "-A POSTROUTING -j DSCP --set-dscp 0x2e",
        ),
        (
            "-A POSTROUTING -j DSCP --set-dscp-class EF",
            "-A POSTROUTING -j DSCP --set-dscp 0x2e",
        ),
        (
            "-A PREROUTING -m rpfilter --loose --invert -j DROP",
            "-A PREROUTING -m rpfilter --loose --invert -j DROP",
        ),
    ] {
        let c = parse_ok(&format!("-t mangle {input}"));
        assert_eq!(c.table, TableKind::Mangle);
        let mut t = TableSpec::empty(TableKind::Mangle);
        ops::apply(&mut t, &c).unwrap();
        let ch = &t.chains.iter().find(|c| !c.rules.is_empty()).unwrap();
        assert_eq!(format::rule_save(&ch.name, &ch.rules[0], false), want);
    }
}

#[test]
fn bad_rules_have_iptables_messages() {
    for (input, want) in [
        ("-A INPUT --foo", "unknown option \"--foo\""),
        (
            "-A INPUT -m foo",
            "Couldn't load match `foo': not supported by rustfilter",
        ),
        (
            "-A INPUT -m comment --comment hi",
            "Couldn't load match `comment': not supported by rustfilter",
        ),
        (
            "-A INPUT -j NETMAP",
            "Couldn't load target `NETMAP': not supported by rustfilter",
        ),
        (
            "-A INPUT -p tcp --dport 99999",
            "invalid port/service `99999' specified",
        ),
        (
            "-A INPUT -p tcp --dport nosuchservice",
            "invalid port/service `nosuchservice' specified",
        ),
        ("-A INPUT --dport 22", "unknown option \"--dport\""),
        ("-A INPUT -s 1.2.3.4/33", "invalid mask `33' specified"),
        (
            "-A INPUT -s foo.invalid",
            "host/network `foo.invalid' not found",
        ),
        (
            "-A INPUT ! ! -s 1.2.3.4",
            "multiple consecutive ! not allowed",
        ),
        ("-A INPUT ! -j ACCEPT", "cannot have ! before -j"),
        ("-A INPUT -p tcp -p udp", "multiple -p flags not allowed"),
        (
            "-A INPUT -s 1.1.1.1 -s 2.2.2.2",
            "multiple -s flags not allowed",
        ),
        ("-A INPUT -A INPUT", "Cannot use -A with -A"),
        ("-L -A INPUT", "Cannot use -A with -L"),
        ("-A", "option \"-A\" requires an argument"),
        ("-A INPUT extra", "Bad argument `extra'"),
        (
            "-t nope -L",
            "can't initialize iptables table `nope': Table does not exist",
        ),
        ("-A INPUT -p foo", "unknown protocol \"foo\" specified"),
        (
            "-A INPUT -j ACCEPT -j DROP",
            "multiple -j flags not allowed",
        ),
        (
            "-A INPUT -m mark",
            "mark: option \"--mark\" must be specified",
        ),
        (
            "-A INPUT -m mark --mark zz",
            "mark: bad integer value for option \"--mark\", or out of range.",
        ),
        ("-A INPUT -m limit --limit 5/week", "bad rate \"5/week\"'"),
        ("-A INPUT -j LOG --log-level 9", "log level \"9\" unknown"),
        (
            "-A INPUT -j LOG --log-prefix 012345678901234567890123456789",
            "Maximum prefix length 29 for --log-prefix",
        ),
        (
            "-A INPUT -j REJECT --reject-with foo",
            "unknown reject type \"foo\"",
        ),
        (
            "-A INPUT -p icmp --icmp-type foo",
            "Unknown ICMP type `foo'",
        ),
        (
            "-N 0123456789012345678901234567890",
            "chain name `0123456789012345678901234567890' too long (must be under 29 chars)",
        ),
        ("-N -foo", "chain name not allowed to start with `-'"),
        (
            "-A INPUT -m mac --mac-source 1:2:3",
            "Invalid MAC address specified.",
        ),
        (
            "-A INPUT -i 0123456789abcdefg",
            "interface name `0123456789abcdefg' must be shorter than IFNAMSIZ (15)",
        ),
        (
            "-A INPUT -p tcp --tcp-flags SYN",
            "--tcp-flags requires two args.",
        ),
        (
            "-A INPUT -p tcp --tcp-flags FOO SYN",
            "Unknown TCP flag `FOO'",
        ),
        (
            "-A INPUT -m multiport --dports 1",
            "multiport needs `-p tcp' or `-p udp'",
        ),
        (
            "-A INPUT -p tcp -m multiport",
            "multiport expection an option",
        ),
        (
            "-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
            "too many ports specified",
        ),
        (
            "-A INPUT -m iprange",
            "iprange match: You must specify `--src-range' or `--dst-range'",
        ),
        (
            "-A INPUT -m dscp --dscp 64",
            "dscp: bad value for option \"--dscp\", or out of range (0-63).",
        ),
        (
            "-A INPUT -p tcp --dport 5:1",
            "invalid portrange (min > max)",
        ),
        ("-R INPUT", "-R requires a rule number"),
        ("-I INPUT 0 -j ACCEPT", "Invalid rule number `0'"),
        ("-D INPUT 0", "Invalid rule number `0'"),
        ("-j ACCEPT", "no command specified"),
        ("-Q", "unknown option \"-Q\""),
        (
            "-A INPUT -m addrtype --src-type FOO",
            "addrtype: bad type \"FOO\"",
        ),
        (
            "-A INPUT -m tos --tos bogus",
            "Symbolic name \"bogus\" is unknown",
        ),
        (
            "-A INPUT -j MARK",
            "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
        ),
        (
            "-A INPUT -j MARK --set-mark 1 --or-mark 2",
            "MARK: option \"--set-mark\" cannot be used together with \"--or-mark\".",
        ),
        ("-A INPUT -i eth0 -i eth1", "multiple -i flags not allowed"),
        ("-A INPUT -f -f", "multiple -f flags not allowed"),
        ("-A INPUT -o eth0 -j ACCEPT", "Can't use -o with INPUT"),
        ("-A OUTPUT -i eth0 -j ACCEPT", "Can't use -i with OUTPUT"),
        (
            "-A INPUT -m limit ! --limit 3/s",
            "limit: option \"--limit\" cannot be inverted.",
        ),
        ("-A INPUT !", "no argument following `!'"),
        ("-F INPUT -p tcp", "Illegal option `-p' with this command"),
        (
            "-A INPUT -j LOG --log-level 3 --log-level 4",
            "LOG: option \"--log-level\" can only be used once.",
        ),
    ] {
        assert_eq!(parse_err(input), want, "{input}");
    }
}

/// Commands on a table in memory, with libiptc's messages.
#[test]
fn commands_edit_the_table() {
    let mut t = base();
    let run = |t: &mut TableSpec, s: &str| ops::apply(t, &parse_ok(s)).map(|o| o.output);
    run(&mut t, "-A INPUT -p tcp --dport 22 -j ACCEPT").unwrap();
    run(&mut t, "-A INPUT -p tcp --dport 80 -j ACCEPT").unwrap();
    run(&mut t, "-I INPUT -j USER1").unwrap();
    run(&mut t, "-I INPUT 4 -j DROP").unwrap();
    run(&mut t, "-R INPUT 2 -p udp --dport 53 -j ACCEPT").unwrap();
    run(&mut t, "-A USER1 -j RETURN").unwrap();
    assert_eq!(
        run(&mut t, "-S INPUT").unwrap(),
        "-P INPUT ACCEPT\n-A INPUT -j USER1\n-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n\
         -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n-A INPUT -j DROP\n"
    );
    assert_eq!(
        run(&mut t, "-S INPUT 2").unwrap(),
        "-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n"
    );
    run(&mut t, "-C INPUT -p tcp --dport 80 -j ACCEPT").unwrap();
    run(&mut t, "-D INPUT -p tcp --dport 80 -j ACCEPT").unwrap();
    run(&mut t, "-D INPUT 3").unwrap();
    assert_eq!(t.chain("INPUT").unwrap().rules.len(), 2);
    let other = |r: Result<String, Error>| match r {
        Err(e) => (e.to_string(), e.exit_code()),
        Ok(o) => panic!("succeeded: {o}"),
    };
    let bad_rule = "Bad rule (does a matching rule exist in that chain?).".to_string();
    assert_eq!(
        other(run(&mut t, "-A NOPE -j ACCEPT")),
        ("No chain/target/match by that name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-D INPUT 99")),
        ("Index of deletion too big.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-D INPUT -p udp -j DROP")),
        (bad_rule.clone(), 1)
    );
    assert_eq!(other(run(&mut t, "-C INPUT -j DROP")), (bad_rule, 1));
    assert_eq!(
        other(run(&mut t, "-I INPUT 99 -j ACCEPT")),
        ("Index of insertion too big.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-R INPUT 99 -j ACCEPT")),
        ("Index of replacement too big.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-N USER1")),
        ("Chain already exists.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-X USER1")),
        ("Too many links.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-X INPUT")),
        ("Invalid argument.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-X EMPTY2")),
        ("No chain/target/match by that name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-P USER1 DROP")),
        ("Bad built-in chain name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-P INPUT FOO")),
        ("Bad policy name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-P INPUT RETURN")),
        ("Bad policy name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-E NOPE x")),
        ("No chain/target/match by that name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-L NOPE")),
        ("No chain/target/match by that name.".into(), 1)
    );
    assert_eq!(
        other(run(&mut t, "-A INPUT -j FOO")),
        (
            "Couldn't load target `FOO':No such file or directory".into(),
            2
        )
    );
    // -E renames the chain and the jumps to it; chains stay sorted.
    run(&mut t, "-E USER1 zzz").unwrap();
    assert_eq!(t.chain("INPUT").unwrap().rules[0].jump, "zzz");
    let names: Vec<&str> = t.chains.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["INPUT", "FORWARD", "OUTPUT", "user2", "zzz"]);
    run(&mut t, "-P FORWARD DROP").unwrap();
    assert_eq!(t.chain("FORWARD").unwrap().policy, Some(Policy::Drop));
    // -F then -X deletes all user chains.
    assert_eq!(other(run(&mut t, "-X")), ("Too many links.".into(), 1));
    run(&mut t, "-F").unwrap();
    run(&mut t, "-X").unwrap();
    assert_eq!(t.chains.len(), 3);
    assert_eq!(t.rule_count(), 0);
}

#[test]
fn list_zero_and_counters() {
    let text = "*filter\n:INPUT ACCEPT [7:700]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                :X - [0:0]\n[3:300] -A INPUT -j X\n[1:100] -A X -j ACCEPT\nCOMMIT\n";
    let s = restore::parse_input(text, true).unwrap();
    let mut t = restore::build_tables(&s, None).unwrap().remove(0);
    let out = ops::apply(&mut t, &parse_ok("-L X -v -Z")).unwrap();
    assert!(out.changed);
    assert!(out.output.contains("    1   100 ACCEPT"), "{}", out.output);
    assert_eq!(t.chain("X").unwrap().rules[0].counters.packets, 0);
    assert_eq!(t.chain("INPUT").unwrap().rules[0].counters.packets, 3);
    ops::apply(&mut t, &parse_ok("-Z INPUT 1")).unwrap();
    assert_eq!(t.chain("INPUT").unwrap().rules[0].counters.packets, 0);
    assert_eq!(t.chain("INPUT").unwrap().counters.packets, 7);
    ops::apply(&mut t, &parse_ok("-Z")).unwrap();
    assert_eq!(t.chain("INPUT").unwrap().counters.packets, 0);
}

#[test]
fn save_restore_round_trip_is_identity() {
    for input in ["a_input.rules", "b_input.rules"] {
        let path = format!("{}/tests/data/{input}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let s = restore::parse_input(&text, true).unwrap();
        let tables = restore::build_tables(&s, None).unwrap();
        let saved: String = tables.iter().map(|t| format::save_table(t, true)).collect();
        let s2 = restore::parse_input(&saved, true).unwrap();
        let tables2 = restore::build_tables(&s2, None).unwrap();
        let saved2: String = tables2
            .iter()
            .map(|t| format::save_table(t, true))
            .collect();
        assert_eq!(saved, saved2, "{input}");
        // Through the wire format too.
        for t in &tables {
            let chunks = wire::encode_chunks(t, wire::CHUNK_BYTES).unwrap();
            let back = wire::decode_table(&chunks.concat()).unwrap();
            assert_eq!(format::save_table(&back, true), format::save_table(t, true));
        }
    }
}

#[test]
fn restore_errors_name_the_line() {
    let err = |text: &str| match restore::parse_input(text, false)
        .and_then(|s| restore::build_tables(&s, None))
    {
        Err(e) => (e.to_string(), e.exit_code()),
        Ok(_) => panic!("accepted:\n{text}"),
    };
    let head =
        "# comment\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
    assert_eq!(
        err(&format!(
            "{head}-A INPUT -j ACCEPT\n-A INPUT --foo\nCOMMIT\n"
        )),
        ("line 7: unknown option \"--foo\"".into(), 2)
    );
    assert_eq!(
        err(&format!("{head}-A NOPE -j ACCEPT\nCOMMIT\n")),
        ("line 6: No chain/target/match by that name.".into(), 1)
    );
    assert_eq!(
        err(&format!("{head}-A INPUT -j ACCEPT\n")),
        ("line 6: COMMIT expected".into(), 2)
    );
    assert_eq!(
        err("-A INPUT -j ACCEPT\n"),
        (
            "line 1: no table specified (missing `*table' line)".into(),
            2
        )
    );
    assert_eq!(
        err("*security\nCOMMIT\n"),
        (
            "line 1: can't initialize iptables table `security': Table does not exist".into(),
            2
        )
    );
    assert_eq!(
        err(&format!("{head}:INPUT FOO [0:0]\nCOMMIT\n")).0,
        "line 6: Can't set policy `FOO' on `INPUT': Bad policy name"
    );
    assert_eq!(
        err(&format!("{head}-A INPUT -j X\nCOMMIT\n")).0,
        "line 6: Couldn't load target `X':No such file or directory"
    );
    assert_eq!(
        err(&format!("{head}-t filter -A INPUT\nCOMMIT\n")).0,
        "line 6: The -t option cannot be used in rfctl restore."
    );
    assert_eq!(
        err(&format!(
            "{head}-A INPUT -m comment --comment \"x y\" -j ACCEPT\nCOMMIT\n"
        ))
        .0,
        "line 6: Couldn't load match `comment': not supported by rustfilter"
    );
}

#[test]
fn restore_counters_only_with_the_option() {
    let text = "*filter\n:INPUT DROP [5:50]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                [9:90] -A INPUT -j ACCEPT\n-A INPUT -c 4 40 -j DROP\nCOMMIT\n";
    let with = restore::build_tables(&restore::parse_input(text, true).unwrap(), None).unwrap();
    let c = &with[0].chain("INPUT").unwrap();
    assert_eq!(
        (
            c.counters.packets,
            c.rules[0].counters.packets,
            c.rules[1].counters.packets
        ),
        (5, 9, 4)
    );
    let without = restore::build_tables(&restore::parse_input(text, false).unwrap(), None).unwrap();
    let c = &without[0].chain("INPUT").unwrap();
    assert_eq!(
        (
            c.counters.packets,
            c.rules[0].counters.packets,
            c.rules[1].counters.packets
        ),
        (0, 0, 0)
    );
    assert_eq!(c.policy, Some(Policy::Drop));
}

/// 100,000 rules: parsed, chunked below 64 KiB per message with chains
/// continued across chunks, and decoded back by the core unchanged.
#[test]
fn hundred_thousand_rules_in_chunks() {
    let start = Instant::now();
    let mut text = String::from(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:BIG - [0:0]\n",
    );
    for i in 0..100_000u32 {
        let chain = if i % 10 == 0 { "INPUT" } else { "BIG" };
        text.push_str(&format!(
            "-A {chain} -s 10.{}.{}.0/24 -p tcp -m tcp --dport {} -m mark --mark 0x{:x} -j {}\n",
            (i >> 8) & 255,
            i & 255,
            i % 65535 + 1,
            i,
            if i % 3 == 0 { "ACCEPT" } else { "DROP" }
        ));
    }
    text.push_str("-A FORWARD -j BIG\nCOMMIT\n");
    let parsed_at = Instant::now();
    let s = restore::parse_input(&text, false).unwrap();
    let tables = restore::build_tables(&s, None).unwrap();
    let t = &tables[0];
    assert_eq!(t.rule_count(), 100_001);
    let built = parsed_at.elapsed();
    let enc_at = Instant::now();
    let chunks = wire::encode_chunks(t, wire::CHUNK_BYTES).unwrap();
    let encoded = enc_at.elapsed();
    let total: usize = chunks.iter().map(Vec::len).sum();
    assert!(chunks.iter().all(|c| c.len() <= wire::CHUNK_BYTES));
    assert!(chunks.len() > 100);
    let dec_at = Instant::now();
    let back = wire::decode_table(&chunks.concat()).unwrap();
    let decoded = dec_at.elapsed();
    assert_eq!(back.rule_count(), 100_001);
    for (a, b) in t.chains.iter().zip(&back.chains) {
        assert_eq!(a.name, b.name);
        assert!(a.rules.iter().zip(&b.rules).all(|(x, y)| x.same_as(y)));
    }
    eprintln!(
        "100k rules: text {} bytes, parse+build {built:?}, encode {encoded:?} into {} chunks \
         ({total} bytes), decode {decoded:?}, total {:?}",
        text.len(),
        chunks.len(),
        start.elapsed()
    );
}

#[test]
fn split_line_handles_quotes() {
    assert_eq!(
        parse::split_line(r#"-A INPUT -j LOG --log-prefix "a \"b\" c" --x 'y z'"#).unwrap(),
        [
            "-A",
            "INPUT",
            "-j",
            "LOG",
            "--log-prefix",
            "a \"b\" c",
            "--x",
            "y z"
        ]
    );
    assert_eq!(parse::split_line("  a   b  ").unwrap(), ["a", "b"]);
    assert_eq!(parse::split_line("a \"\" b").unwrap(), ["a", "", "b"]);
    assert!(parse::split_line("a \"b").is_err());
}

#[test]
fn every_table_and_option_word_form() {
    let c = parse_ok("-t raw -L PREROUTING 2 -n -v -x --line-numbers");
    assert_eq!(c.table, TableKind::Raw);
    assert_eq!(
        c.cmd,
        Command::List {
            chain: Some("PREROUTING".into()),
            num: Some(2),
            zero: false
        }
    );
    assert!(c.numeric && c.verbose && c.exact && c.line_numbers);
    assert_eq!(
        parse_ok("-L -Z").cmd,
        Command::List {
            chain: None,
            num: None,
            zero: true
        }
    );
    assert_eq!(
        parse_ok("-Z -L INPUT").cmd,
        Command::List {
            chain: Some("INPUT".into()),
            num: None,
            zero: true
        }
    );
    assert_eq!(
        parse_ok("-E a b").cmd,
        Command::Rename("a".into(), "b".into())
    );
    assert_eq!(
        parse_ok("-P INPUT DROP").cmd,
        Command::Policy("INPUT".into(), "DROP".into())
    );
    assert_eq!(
        parse_ok("-D INPUT 3").cmd,
        Command::DeleteNum("INPUT".into(), 3)
    );
    assert_eq!(
        parse_ok("-I INPUT -j ACCEPT").cmd,
        Command::Insert("INPUT".into(), 1)
    );
    assert_eq!(parse_ok("-X").cmd, Command::DeleteChain(None));
    assert_eq!(parse_ok("-F x").cmd, Command::Flush(Some("x".into())));
    assert_eq!(
        parse_ok("-w -L").cmd,
        Command::List {
            chain: None,
            num: None,
            zero: false
        }
    );
    assert_eq!(parse_ok("-A INPUT -h").cmd, Command::Help);
}

/// Connection-tracking rules as given to iptables-legacy 1.8.9 (with
/// `-t table`), and as `iptables -S` printed them.
const CT_RULES: &[(&str, &str, &str)] = &[
    ("filter",
     "-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT",
     "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT"),
    ("filter",
     "-A INPUT -m state ! --state new -j DROP",
     "-A INPUT -m state ! --state NEW -j DROP"),
    ("filter",
     "-A INPUT -m state --state INVALID,UNTRACKED",
     "-A INPUT -m state --state INVALID,UNTRACKED"),
    ("filter",
     "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
     "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
    ("filter",
     "-A INPUT -m conntrack ! --ctstate n,s,d,i,u",
     "-A INPUT -m conntrack ! --ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT"),
    ("filter",
     "-A INPUT -m conntrack --ctproto tcp --ctorigsrc 10.0.0.0/8 ! --ctorigdst 10.1.2.3/32 --ctreplsrc 10.2.3.4/255.255.255.0 ! --ctrepldst 0.0.0.0/0",
     "-A INPUT -m conntrack --ctproto 6 --ctorigsrc 10.0.0.0/8 ! --ctorigdst 10.1.2.3 --ctreplsrc 10.2.3.4/24 ! --ctrepldst 0.0.0.0/0"),
    ("filter",
     "-A INPUT -m conntrack --ctorigsrcport 22 ! --ctorigdstport 1024: --ctreplsrcport :1023 --ctrepldstport 53:53",
     "-A INPUT -m conntrack --ctorigsrcport 22 ! --ctorigdstport 1024:65535 --ctreplsrcport 0:1023 --ctrepldstport 53"),
    ("filter",
     "-A INPUT -m conntrack --ctorigsrcport ssh --ctrepldstport 65537",
     "-A INPUT -m conntrack --ctorigsrcport 22 --ctrepldstport 1"),
    ("filter",
     "-A INPUT -m conntrack ! --ctstatus assured,CONFIRMED --ctexpire 60:120",
     "-A INPUT -m conntrack ! --ctstatus ASSURED,CONFIRMED --ctexpire 60:120"),
    ("filter",
     "-A INPUT -m conntrack --ctstatus NONE ! --ctexpire 0x10",
     "-A INPUT -m conntrack --ctstatus NONE ! --ctexpire 16"),
    ("filter",
     "-A INPUT -m conntrack --ctdir reply --ctstate NEW",
     "-A INPUT -m conntrack --ctstate NEW --ctdir REPLY"),
    ("filter",
     "-A INPUT -m conntrack --ctexpire 30:20 --ctorigsrcport 9:3",
     "-A INPUT -m conntrack --ctorigsrcport 9:3 --ctexpire 30:20"),
    ("filter",
     "-A INPUT -p udp -m conntrack --ctstate NEW -m udp --dport 53 -j ACCEPT",
     "-A INPUT -p udp -m conntrack --ctstate NEW -m udp --dport 53 -j ACCEPT"),
    ("filter",
     "-A INPUT -m connmark --mark 1",
     "-A INPUT -m connmark --mark 0x1"),
    ("filter",
     "-A INPUT -m connmark ! --mark 0x10/0xf0 -j DROP",
     "-A INPUT -m connmark ! --mark 0x10/0xf0 -j DROP"),
    ("filter",
     "-A INPUT -j CONNMARK --set-mark 5",
     "-A INPUT -j CONNMARK --set-xmark 0x5/0xffffffff"),
    ("filter",
     "-A FORWARD -j CONNMARK --restore-mark --mask 0xff",
     "-A FORWARD -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff"),
    ("filter",
     "-A OUTPUT -j CONNMARK --save-mark --ctmask 0xf0",
     "-A OUTPUT -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xf0"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0xff",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0xff"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --set-mark 0x1/0xf0",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0xf1"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --and-mark 0xf0",
     "-A PREROUTING -j CONNMARK --set-xmark 0x0/0xffffff0f"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --or-mark 3",
     "-A PREROUTING -j CONNMARK --set-xmark 0x3/0x3"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --xor-mark 3",
     "-A PREROUTING -j CONNMARK --set-xmark 0x3/0x0"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --save-mark",
     "-A PREROUTING -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --save-mark --nfmask 0xf --ctmask 0xf0",
     "-A PREROUTING -j CONNMARK --save-mark --nfmask 0xf --ctmask 0xf0"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --restore-mark",
     "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xf",
     "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xf --ctmask 0xffffffff"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --mask 0xff --restore-mark",
     "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0x2 --ctmask 0x5",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0x5"),
    ("mangle",
     "-A PREROUTING -j CONNMARK --set-mark 0x1 --mask 0x5",
     "-A PREROUTING -j CONNMARK --set-xmark 0x1/0x5"),
    ("raw",
     "-A PREROUTING -j CT --notrack",
     "-A PREROUTING -j CT --notrack"),
    ("raw",
     "-A OUTPUT -j NOTRACK",
     "-A OUTPUT -j NOTRACK"),
    ("raw",
     "-A PREROUTING -p tcp --dport 21 -j CT --helper ftp",
     "-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp"),
    ("raw",
     "-A OUTPUT -p udp --dport 69 -j CT --helper tftp",
     "-A OUTPUT -p udp -m udp --dport 69 -j CT --helper tftp"),
    ("raw",
     "-A PREROUTING -j CT",
     "-A PREROUTING -j CT"),
    ("raw",
     "-A PREROUTING -p tcp -j CT --notrack --helper ftp",
     "-A PREROUTING -p tcp -j CT --notrack --helper ftp"),
    ("raw",
     "-A PREROUTING -p tcp -j CT --helper \"\"",
     "-A PREROUTING -p tcp -j CT"),
    ("raw",
     "-A PREROUTING -m conntrack --ctstate INVALID -j NOTRACK",
     "-A PREROUTING -m conntrack --ctstate INVALID -j NOTRACK"),
];

#[test]
fn conntrack_rules_parse_and_print_as_iptables() {
    for (table, input, want) in CT_RULES {
        let c = parse_ok(&format!("-t {table} {input}"));
        let mut t = TableSpec::empty(c.table);
        ops::apply(&mut t, &c).unwrap_or_else(|e| panic!("{input}: {e}"));
        let Command::Append(chain) = &c.cmd else {
            panic!("{input}")
        };
        let r = t.chain(chain).unwrap().rules.last().unwrap();
        assert_eq!(format::rule_save(chain, r, false), *want, "{input}");
        // The printed form reads back to the same rule (but where
        // iptables prints less than it keeps: an nfmask with a set).
        let again = parse_ok(&format!("-t {table} {want}"));
        if !input.contains("--nfmask") && !input.contains("-j CONNMARK --set-mark 0x1 --mask") {
            assert!(again.rule.same_as(r), "{want}");
        }
        // The kernel's core takes it, and gives it back unchanged.
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let back = wire::decode_table(&chunks.concat()).unwrap_or_else(|e| panic!("{input}: {e}"));
        let r2 = back.chain(chain).unwrap().rules.last().unwrap();
        assert!(r2.same_as(r), "{input}");
    }
}

#[test]
fn conntrack_rules_list_as_iptables() {
    // Rules and the line `iptables -L -n` printed for each.
    for (table, input, want) in [
        (
            "filter",
            "-A INPUT -m state ! --state new -j DROP",
            "DROP       0    --  0.0.0.0/0            0.0.0.0/0            ! state NEW",
        ),
        (
            "filter",
            "-A INPUT -m conntrack --ctproto tcp --ctorigsrc 10.0.0.0/8 ! --ctorigdst 10.1.2.3/32 --ctreplsrc 10.2.3.4/255.255.255.0 ! --ctrepldst 0.0.0.0/0",
            "           0    --  0.0.0.0/0            0.0.0.0/0            ctproto 6 ctorigsrc 10.0.0.0/8 ! ctorigdst 10.1.2.3 ctreplsrc 10.2.3.4/24 ! ctrepldst 0.0.0.0/0",
        ),
        (
            "filter",
            "-A INPUT -m connmark --mark 1",
            "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0x1",
        ),
        (
            "filter",
            "-A INPUT -m connmark ! --mark 0x10/0xf0",
            "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match ! 0x10/0xf0",
        ),
        (
            "raw",
            "-A OUTPUT -j NOTRACK",
            "CT         0    --  0.0.0.0/0            0.0.0.0/0            NOTRACK",
        ),
        (
            "raw",
            "-A PREROUTING -p tcp -j CT --notrack --helper ftp",
            "CT         6    --  0.0.0.0/0            0.0.0.0/0            CT notrack helper ftp",
        ),
        (
            "raw",
            "-A PREROUTING -j CT",
            "CT         0    --  0.0.0.0/0            0.0.0.0/0            CT",
        ),
        (
            "mangle",
            "-A PREROUTING -j CONNMARK --save-mark --nfmask 0xf --ctmask 0xf0",
            "CONNMARK   0    --  0.0.0.0/0            0.0.0.0/0            CONNMARK save nfmask 0xf ctmask ~0xf0",
        ),
        (
            "mangle",
            "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xf",
            "CONNMARK   0    --  0.0.0.0/0            0.0.0.0/0            CONNMARK restore ctmask 0xffffffff nfmask ~0xf",
        ),
    ] {
        let c = parse_ok(&format!("-t {table} {input}"));
        let mut t = TableSpec::empty(c.table);
        ops::apply(&mut t, &c).unwrap();
        let Command::Append(chain) = &c.cmd else {
            panic!()
        };
        let r = t.chain(chain).unwrap().rules.last().unwrap();
        let f = format::ListFormat {
            numeric: true,
            ..Default::default()
        };
        assert_eq!(format::rule_line(r, 1, f), want, "{input}");
    }
}

#[test]
fn bad_conntrack_rules_have_iptables_messages() {
    for (input, want) in [
        ("-A INPUT -m conntrack", "conntrack: At least one option is required"),
        ("-A INPUT -m state", "state: option \"--state\" must be specified"),
        ("-A INPUT -m connmark", "connmark: option \"--mark\" must be specified"),
        ("-A INPUT -m conntrack --ctstate FOO", "Bad ctstate \"FOO\""),
        ("-A INPUT -m conntrack --ctstate NEW,FOO,EST", "Bad ctstate \"FOO,EST\""),
        ("-A INPUT -m conntrack --ctstate NEW,", "Bad ctstate \"\""),
        ("-A INPUT -m conntrack --ctstate new,,established", "Bad ctstate \",established\""),
        ("-A INPUT -m conntrack --ctstatus FOO", "Bad ctstatus \"FOO\""),
        ("-A INPUT -m conntrack --ctstatus NONE,", "Bad ctstatus \"\""),
        ("-A INPUT -m state --state SNAT", "Bad state \"SNAT\""),
        ("-A INPUT -m state --state NEW,,EST", "Bad state \",EST\""),
        ("-A INPUT -m state --state NEW,FOO,EST", "Bad state \"FOO,EST\""),
        (
            "-A INPUT -m state --state NEW,",
            "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED",
        ),
        (
            "-A INPUT -m state --state NEW --state NEW",
            "state: option \"--state\" can only be used once.",
        ),
        (
            "-A INPUT -m conntrack --ctstate NEW --ctstate NEW",
            "conntrack: option \"--ctstate\" can only be used once.",
        ),
        ("-A INPUT -m conntrack --ctdir foo", "conntrack: Bad value for \"--ctdir\" option: \"foo\""),
        ("-A INPUT -m conntrack ! --ctdir REPLY", "conntrack: option \"--ctdir\" cannot be inverted."),
        ("-A INPUT -m conntrack --ctdir", "option \"--ctdir\" requires an argument"),
        ("-A INPUT -m conntrack --ctproto foo", "unknown protocol \"foo\" specified"),
        (
            "-A INPUT -m conntrack --ctorigsrc 10.2.3.4/foo",
            "conntrack: bad value for option \"--ctorigsrc\", neither a valid network mask nor valid CIDR (0-32).",
        ),
        (
            "-A INPUT -m conntrack --ctrepldst 10.0.0.0/8,10.1.0.0/16",
            "conntrack: bad value for option \"--ctrepldst\", neither a valid network mask nor valid CIDR (0-32).",
        ),
        (
            "-A INPUT -m conntrack --ctorigsrcport 1:2:3",
            "conntrack: Too many components for option \"--ctorigsrcport\" (max: 2)",
        ),
        (
            "-A INPUT -m conntrack --ctorigsrcport foo",
            "Port \"foo\" does not resolve to anything.",
        ),
        (
            "-A INPUT -m conntrack --ctexpire 1:foo",
            "conntrack: bad value for option \"--ctexpire\" near \"foo\", or out of range (0-4294967295).",
        ),
        (
            "-A INPUT -m conntrack --ctexpire 4294967296",
            "conntrack: bad value for option \"--ctexpire\" near \"4294967296\", or out of range (0-4294967295).",
        ),
        (
            "-A INPUT -m connmark --mark 0x100000000",
            "connmark: bad integer value for option \"--mark\", or out of range.",
        ),
        ("-A INPUT -j CONNMARK", "CONNMARK target: No operation specified"),
        ("-A INPUT -j CONNMARK --nfmask 1", "CONNMARK target: No operation specified"),
        (
            "-A INPUT -j CONNMARK --ctmask 1 --nfmask 2 --mask 3",
            "CONNMARK target: No operation specified",
        ),
        (
            "-A INPUT -j CONNMARK --restore-mark --ctmask 0xf --mask 0xff",
            "CONNMARK: option \"--ctmask\" cannot be used together with \"--mask\".",
        ),
        (
            "-A INPUT -j CONNMARK --mask 0xff --ctmask 0xf --restore-mark",
            "CONNMARK: option \"--ctmask\" cannot be used together with \"--mask\".",
        ),
        (
            "-A INPUT -j CONNMARK --restore-mark --save-mark",
            "CONNMARK: option \"--save-mark\" cannot be used together with \"--restore-mark\".",
        ),
        (
            "-A INPUT -j CONNMARK --xor-mark 1 --set-mark 2",
            "CONNMARK: option \"--set-mark\" cannot be used together with \"--xor-mark\".",
        ),
        (
            "-A INPUT -j CONNMARK --restore-mark --save-mark --set-mark 1",
            "CONNMARK: option \"--set-mark\" cannot be used together with \"--save-mark\".",
        ),
        (
            "-A INPUT -j CONNMARK --set-mark 1 --set-mark 2",
            "CONNMARK: option \"--set-mark\" can only be used once.",
        ),
        (
            "-A INPUT -j CONNMARK --and-mark 1/2",
            "CONNMARK: bad value for option \"--and-mark\", or out of range (0-4294967295).",
        ),
        (
            "-A INPUT -j CONNMARK --set-mark foo",
            "CONNMARK: bad integer value for option \"--set-mark\", or out of range.",
        ),
        (
            "-A INPUT -j CONNMARK --ctmask foo --save-mark",
            "CONNMARK: bad value for option \"--ctmask\", or out of range (0-4294967295).",
        ),
        ("-A INPUT -j CONNMARK ! --save-mark", "CONNMARK: option \"--save-mark\" cannot be inverted."),
        ("-A INPUT -j CONNMARK --save-mark --left-shift-mark 2", "unknown option \"--left-shift-mark\""),
        ("-t raw -A PREROUTING -j NOTRACK --notrack", "unknown option \"--notrack\""),
        (
            "-t raw -A PREROUTING -j CT --notrack --notrack",
            "CT: option \"--notrack\" can only be used once.",
        ),
        (
            "-t raw -A PREROUTING -p tcp -j CT --helper ftp --helper ftp",
            "CT: option \"--helper\" can only be used once.",
        ),
        (
            "-t raw -A PREROUTING -p tcp -j CT --helper sip",
            "CT: unknown helper \"sip\" (rustfilter has ftp and tftp)",
        ),
        ("-t raw -A PREROUTING -j CT --zone 1", "unknown option \"--zone\""),
        ("-N CT", "chain name may not clash with target name"),
        ("-N NOTRACK", "chain name may not clash with target name"),
        ("-N CONNMARK", "chain name may not clash with target name"),
    ] {
        assert_eq!(parse_err(input), want, "{input}");
    }
}

#[test]
fn conntrack_parse_details() {
    use rfcore::rules::matches::conntrack::AddrMask;
    use rfcore::rules::{Match, Target};
    let m = |s: &str| parse_ok(&format!("-A INPUT -m conntrack {s}")).rule.matches[0];
    let Match::Conntrack(c) = m(
        "--ctorigsrc 10.0.0.1/24 --ctrepldst 0.0.0.0/0.0.0.0 --ctreplsrc 1.2.3.4/255.255.255.255",
    ) else {
        panic!()
    };
    // The address keeps the bits outside its mask.
    assert_eq!(
        c.orig_src,
        AddrMask {
            addr: [10, 0, 0, 1],
            mask: [255, 255, 255, 0]
        }
    );
    assert_eq!(c.repl_dst.mask, [0; 4]);
    assert_eq!(c.repl_src.mask, [255; 4]);
    // Mask lengths are read as strtoul(.., 0) reads them.
    let Match::Conntrack(c) = m("--ctorigsrc 10.1.2.3/010 --ctorigdst 10.1.2.3/0x10") else {
        panic!()
    };
    assert_eq!(c.orig_src.mask, [255, 0, 0, 0]);
    assert_eq!(c.orig_dst.mask, [255, 255, 0, 0]);
    // iptables takes /33 and masks that are not a prefix and stores a
    // mask it never prints; rfctl refuses them.
    for bad in ["08", "33", "255.0.255.0"] {
        assert_eq!(
            parse_err(&format!("-A INPUT -m conntrack --ctorigsrc 10.1.2.3/{bad}")),
            "conntrack: bad value for option \"--ctorigsrc\", neither a valid network mask nor valid CIDR (0-32).",
        );
    }
    // Ports: getaddrinfo's arithmetic, names for tcp or udp, empty
    // components.
    let Match::Conntrack(c) =
        m("--ctorigsrcport 99999 --ctorigdstport tftp --ctreplsrcport : --ctrepldstport \"\"")
    else {
        panic!()
    };
    assert_eq!((c.orig_sport.first, c.orig_sport.last), (34463, 34463));
    if std::path::Path::new("/etc/services").exists() {
        assert_eq!(c.orig_dport.first, 69);
    }
    assert_eq!((c.repl_sport.first, c.repl_sport.last), (0, 65535));
    assert_eq!((c.repl_dport.first, c.repl_dport.last), (0, 0));
    let Match::Conntrack(c) = m("--ctexpire :") else {
        panic!()
    };
    assert_eq!((c.expires_min, c.expires_max), (0, u32::MAX));
    // -j NOTRACK is the alias form of CT --notrack; they differ only in
    // how they print.
    let t = |s: &str| parse_ok(&format!("-t raw -A OUTPUT {s}")).rule.target;
    let (Target::Ct(a), Target::Ct(b)) = (t("-j NOTRACK"), t("-j CT --notrack")) else {
        panic!()
    };
    assert!(a.is_notrack_alias() && !b.is_notrack_alias());
    assert_ne!(a, b);
}

#[test]
fn conntrack_targets_are_checked_by_the_core() {
    // As the kernel will: CT in raw only; a helper needs its protocol.
    for (table, input, want) in [
        ("filter", "-A INPUT -j CT --notrack", Some("not valid in this table")),
        ("mangle", "-A PREROUTING -j NOTRACK", Some("not valid in this table")),
        ("raw", "-A PREROUTING -j NOTRACK", None),
        (
            "raw",
            "-A PREROUTING -j CT --helper ftp",
            Some("conntrack helper needs its protocol (-p tcp for ftp, -p udp for tftp), not inverted"),
        ),
        (
            "raw",
            "-A PREROUTING -p tcp -j CT --helper tftp",
            Some("conntrack helper needs its protocol (-p tcp for ftp, -p udp for tftp), not inverted"),
        ),
        ("raw", "-A PREROUTING -p tcp -j CT --helper ftp", None),
        ("raw", "-A PREROUTING -j CT --notrack --helper ftp", None),
        ("filter", "-A FORWARD -j CONNMARK --restore-mark", None),
        ("raw", "-A OUTPUT -j CONNMARK --save-mark", None),
    ] {
        let c = parse_ok(&format!("-t {table} {input}"));
        let mut t = TableSpec::empty(c.table);
        ops::apply(&mut t, &c).unwrap();
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let got = wire::decode_table(&chunks.concat()).err().map(|e| e.message());
        assert_eq!(got, want, "{input}");
    }
}

/// NAT rules as given to iptables-legacy 1.8.9 (`-t nat`), as `iptables
/// -S` printed them, and the line `iptables -L -n` printed.
const NAT_RULES: &[(&str, &str, &str)] = &[
    (
        "-A POSTROUTING -j SNAT --to-source 10.0.0.1",
        "-A POSTROUTING -j SNAT --to-source 10.0.0.1",
        "SNAT       0    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1-10.0.0.5:1000-2000 --random --persistent",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1-10.0.0.5:1000-2000 --random --persistent",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1-10.0.0.5:1000-2000 random persistent",
    ),
    (
        "-A POSTROUTING -p udp -j SNAT --to-source 10.0.0.1:53 --random-fully",
        "-A POSTROUTING -p udp -j SNAT --to-source 10.0.0.1:53 --random-fully",
        "SNAT       17   --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1:53 random-fully",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1-10.0.0.1:80-80",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:80",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1:80",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:http",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:80",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1:80",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:0x400-02000",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:1024",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1:1024",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --to-source=10.0.0.1:1-65535",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:1-65535",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1:1-65535",
    ),
    (
        "-A POSTROUTING -p tcp -j SNAT --persistent --random-fully --random --to-source 10.0.0.1",
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1 --random --random-fully --persistent",
        "SNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:10.0.0.1 random random-fully persistent",
    ),
    (
        "-A INPUT -p udp -j SNAT --to-source 192.168.1.1",
        "-A INPUT -p udp -j SNAT --to-source 192.168.1.1",
        "SNAT       17   --  0.0.0.0/0            0.0.0.0/0            to:192.168.1.1",
    ),
    (
        "-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80",
        "-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80",
        "DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:10.0.2.2:80",
    ),
    (
        "-A PREROUTING -j DNAT --to-destination 10.0.2.2-10.0.2.9",
        "-A PREROUTING -j DNAT --to-destination 10.0.2.2-10.0.2.9",
        "DNAT       0    --  0.0.0.0/0            0.0.0.0/0            to:10.0.2.2-10.0.2.9",
    ),
    (
        "-A PREROUTING -p udp -j DNAT --to-destination 10.0.2.2-10.0.2.9:53-54 --random --persistent",
        "-A PREROUTING -p udp -j DNAT --to-destination 10.0.2.2-10.0.2.9:53-54 --random --persistent",
        "DNAT       17   --  0.0.0.0/0            0.0.0.0/0            to:10.0.2.2-10.0.2.9:53-54 random persistent",
    ),
    (
        "-A OUTPUT -d 1.1.1.1 -j DNAT --to-destination 127.0.0.1 --persistent",
        "-A OUTPUT -d 1.1.1.1/32 -j DNAT --to-destination 127.0.0.1 --persistent",
        "DNAT       0    --  0.0.0.0/0            1.1.1.1              to:127.0.0.1 persistent",
    ),
    (
        "-A POSTROUTING -o eth0 -j MASQUERADE",
        "-A POSTROUTING -o eth0 -j MASQUERADE",
        "MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0           ",
    ),
    (
        "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random",
        "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random",
        "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 1000-2000 random",
    ),
    (
        "-A POSTROUTING -p udp -j MASQUERADE --to-ports 1000 --random-fully",
        "-A POSTROUTING -p udp -j MASQUERADE --to-ports 1000 --random-fully",
        "MASQUERADE  17   --  0.0.0.0/0            0.0.0.0/0            masq ports: 1000 random-fully",
    ),
    (
        "-A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-1000 --random --random-fully",
        "-A POSTROUTING -p udp -j MASQUERADE --to-ports 1000 --random --random-fully",
        "MASQUERADE  17   --  0.0.0.0/0            0.0.0.0/0            masq ports: 1000 random random-fully",
    ),
    (
        "-A POSTROUTING -p tcp -j MASQUERADE --to-ports \" 0x10-0x20\"",
        "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 16-32",
        "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 16-32",
    ),
    (
        "-A PREROUTING -p tcp -j REDIRECT --to-ports 1153",
        "-A PREROUTING -p tcp -j REDIRECT --to-ports 1153",
        "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            redir ports 1153",
    ),
    (
        "-A PREROUTING -p udp -j REDIRECT --to-ports 1000-2000 --random",
        "-A PREROUTING -p udp -j REDIRECT --to-ports 1000-2000 --random",
        "REDIRECT   17   --  0.0.0.0/0            0.0.0.0/0            redir ports 1000-2000 random",
    ),
    (
        "-A OUTPUT -j REDIRECT",
        "-A OUTPUT -j REDIRECT",
        "REDIRECT   0    --  0.0.0.0/0            0.0.0.0/0           ",
    ),
    (
        "-A OUTPUT -p tcp -j REDIRECT --to-ports domain",
        "-A OUTPUT -p tcp -j REDIRECT --to-ports 53",
        "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            redir ports 53",
    ),
];

#[test]
fn nat_rules_parse_and_print_as_iptables() {
    let services = std::path::Path::new("/etc/services").exists();
    for (input, want_s, want_l) in NAT_RULES {
        if !services && (input.contains(":http") || input.contains("domain")) {
            continue;
        }
        let c = parse_ok(&format!("-t nat {input}"));
        assert_eq!(c.table, TableKind::Nat);
        let mut t = TableSpec::empty(TableKind::Nat);
        ops::apply(&mut t, &c).unwrap_or_else(|e| panic!("{input}: {e}"));
        let Command::Append(chain) = &c.cmd else {
            panic!("{input}")
        };
        let r = t.chain(chain).unwrap().rules.last().unwrap();
        assert_eq!(format::rule_save(chain, r, false), *want_s, "{input}");
        let f = format::ListFormat {
            numeric: true,
            ..Default::default()
        };
        assert_eq!(format::rule_line(r, 1, f), *want_l, "{input}");
        // The printed form reads back to the same rule.
        let again = parse_ok(&format!("-t nat {want_s}"));
        assert!(again.rule.same_as(r), "{want_s}");
        // The core takes it (table, hook, protocol, range) and gives it
        // back unchanged.
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let back = wire::decode_table(&chunks.concat()).unwrap_or_else(|e| panic!("{input}: {e}"));
        let r2 = back.chain(chain).unwrap().rules.last().unwrap();
        assert!(r2.same_as(r), "{input}");
    }
}

#[test]
fn nat_parse_details() {
    use rfcore::nat::NatRange;
    use rfcore::proto;
    use rfcore::rules::targets::nat::Nat;
    use rfcore::rules::Target;
    let range = |s: &str| match parse_ok(&format!("-t nat -A POSTROUTING {s}")).rule.target {
        Target::Snat(Nat { range }) | Target::Masquerade(Nat { range }) => range,
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(
        range("-p tcp -j SNAT --to-source 10.0.0.1-10.0.0.5:1000-2000 --random --persistent"),
        NatRange {
            flags: proto::NAT_F_RANDOM | proto::NAT_F_PERSISTENT,
            min_addr: [10, 0, 0, 1],
            max_addr: [10, 0, 0, 5],
            min_port: 1000,
            max_port: 2000,
        }
    );
    // One address, one port: both ends the same; none: zero.
    assert_eq!(
        range("-p udp -j SNAT --to-source 10.0.0.1:53"),
        NatRange {
            flags: 0,
            min_addr: [10, 0, 0, 1],
            max_addr: [10, 0, 0, 1],
            min_port: 53,
            max_port: 53,
        }
    );
    assert_eq!(range("-j MASQUERADE"), NatRange::default());
    assert_eq!(
        range("-p tcp -j MASQUERADE --random-fully --to-ports 0x10-020"),
        NatRange {
            flags: proto::NAT_F_RANDOM_FULLY,
            min_port: 16,
            max_port: 16,
            ..NatRange::default()
        }
    );
    // strtoul's leading blanks and sign, as iptables reads ports.
    assert_eq!(range("-p tcp -j MASQUERADE --to-ports \" +5\"").min_port, 5);
    // -D and -C compare the whole range.
    let mut t = TableSpec::empty(TableKind::Nat);
    let run = |t: &mut TableSpec, s: &str| ops::apply(t, &parse_ok(&format!("-t nat {s}")));
    run(
        &mut t,
        "-A POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:1000-2000",
    )
    .unwrap();
    run(
        &mut t,
        "-C POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:1000-2000",
    )
    .unwrap();
    for other in [
        "-p tcp -j SNAT --to-source 10.0.0.1:1000-2001",
        "-p tcp -j SNAT --to-source 10.0.0.1-10.0.0.2:1000-2000",
        "-p tcp -j SNAT --to-source 10.0.0.1:1000-2000 --random",
        "-p tcp -j MASQUERADE --to-ports 1000-2000",
    ] {
        assert!(
            run(&mut t, &format!("-C POSTROUTING {other}")).is_err(),
            "{other}"
        );
    }
    run(
        &mut t,
        "-D POSTROUTING -p tcp -j SNAT --to-source 10.0.0.1:1000-2000",
    )
    .unwrap();
    assert_eq!(t.rule_count(), 0);
}

#[test]
fn bad_nat_rules_have_iptables_messages() {
    let need = "Need TCP or UDP with port specification";
    for (input, want) in [
        // As iptables-legacy 1.8.9 says them.
        (
            "-A POSTROUTING -j SNAT",
            "SNAT: option \"--to-source\" must be specified",
        ),
        (
            "-A PREROUTING -j DNAT --random",
            "DNAT: option \"--to-destination\" must be specified",
        ),
        (
            "-A POSTROUTING -j SNAT --to-source 1.2.3.4 --to-source 1.2.3.5",
            "SNAT: option \"--to-source\" can only be used once.",
        ),
        (
            "-A PREROUTING -j DNAT --to-destination 1.2.3.4 --to-destination 1.2.3.5",
            "DNAT: option \"--to-destination\" can only be used once.",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1 --to-ports 2",
            "MASQUERADE: option \"--to-ports\" can only be used once.",
        ),
        (
            "-A PREROUTING -p tcp -j REDIRECT --to-ports 80 --to-ports 90",
            "REDIRECT: option \"--to-ports\" can only be used once.",
        ),
        (
            "-A POSTROUTING -j SNAT --to-source 1.2.3.4 --random --random",
            "SNAT: option \"--random\" can only be used once.",
        ),
        (
            "-A POSTROUTING -j MASQUERADE ! --random",
            "MASQUERADE: option \"--random\" cannot be inverted.",
        ),
        (
            "-A POSTROUTING -j SNAT ! --to-source 1.2.3.4",
            "SNAT: option \"--to-source\" cannot be inverted.",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:2000-1000",
            "Port range `1000' funky",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:2000-1000x",
            "Port range `1000x' funky",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:5-1.2.3.9",
            "Port range `1.2.3.9' funky",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source foo",
            "Bad IP address \"foo\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source \"\"",
            "Bad IP address \"\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4-",
            "Bad IP address \"\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4/24",
            "Bad IP address \"1.2.3.4/24\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 01.2.3.4",
            "Bad IP address \"01.2.3.4\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:5:6",
            "Bad IP address \"1.2.3.4:5:6\"",
        ),
        (
            "-A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4-1.2.3.5-1.2.3.6",
            "Bad IP address \"1.2.3.5-1.2.3.6\"",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:foo",
            "Port `foo' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:70000",
            "Port `70000' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:-5",
            "Port `-5' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:1000-",
            "Port `' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:",
            "Port `' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:080",
            "Garbage after port value: `80'",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1-2-3",
            "Garbage after port range: `-3'",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000:2000",
            "Invalid port:port syntax - use dash",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --to-ports foo",
            "Port `foo' not valid",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --persistent",
            "unknown option \"--persistent\"",
        ),
        (
            "-A PREROUTING -p tcp -j REDIRECT --random-fully",
            "unknown option \"--random-fully\"",
        ),
        (
            "-A PREROUTING -p tcp -j REDIRECT --persistent",
            "unknown option \"--persistent\"",
        ),
        (
            "-A PREROUTING -j DNAT --to-destination 1.2.3.4 --random-fully",
            "unknown option \"--random-fully\"",
        ),
        (
            "-A POSTROUTING -j SNAT --to-destination 1.2.3.4",
            "unknown option \"--to-destination\"",
        ),
        (
            "-A POSTROUTING -j SNAT --to-source 1.2.3.4 --to-ports 5",
            "unknown option \"--to-ports\"",
        ),
        (
            "-A POSTROUTING -j MASQUERADE --to-source 1.2.3.4",
            "unknown option \"--to-source\"",
        ),
        (
            "-A PREROUTING -j DNAT --to-destination [::1]:80",
            "Invalid address format",
        ),
        ("-N SNAT", "chain name may not clash with target name"),
        ("-N DNAT", "chain name may not clash with target name"),
        ("-N MASQUERADE", "chain name may not clash with target name"),
        ("-N REDIRECT", "chain name may not clash with target name"),
        // Ports need -p tcp or -p udp (iptables also takes sctp, dccp,
        // icmp and `! -p`; rustfilter maps TCP and UDP ports only).
        ("-A POSTROUTING -j SNAT --to-source 1.2.3.4:1000", need),
        (
            "-A POSTROUTING -p icmp -j SNAT --to-source 1.2.3.4:1000",
            need,
        ),
        (
            "-A POSTROUTING -p sctp -j SNAT --to-source 1.2.3.4:1000",
            need,
        ),
        (
            "-A POSTROUTING ! -p tcp -j SNAT --to-source 1.2.3.4:1000",
            need,
        ),
        ("-A PREROUTING -j DNAT --to-destination 1.2.3.4:80", need),
        ("-A POSTROUTING -j MASQUERADE --to-ports 1000", need),
        ("-A PREROUTING -j REDIRECT --to-ports 80", need),
        // What iptables takes and rustfilter cannot express: no address
        // (or 0.0.0.0), a range that goes down, port 0, a shifted map.
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source :1000",
            "SNAT: \"--to-source :1000\" needs an address",
        ),
        (
            "-A PREROUTING -p tcp -j DNAT --to-destination :80",
            "DNAT: \"--to-destination :80\" needs an address",
        ),
        (
            "-A POSTROUTING -j SNAT --to-source 0.0.0.0",
            "SNAT: \"--to-source\" cannot map to 0.0.0.0",
        ),
        (
            "-A PREROUTING -j DNAT --to-destination 1.2.3.4-0.0.0.0",
            "DNAT: \"--to-destination\" cannot map to 0.0.0.0",
        ),
        (
            "-A POSTROUTING -j SNAT --to-source 1.2.3.5-1.2.3.4",
            "Address range `1.2.3.5-1.2.3.4' funky",
        ),
        (
            "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:0",
            "Port 0 not valid in `0'",
        ),
        (
            "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 0-10",
            "Port 0 not valid in `0-10'",
        ),
        (
            "-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80-90/100",
            "Shifted portmap ranges not supported by rustfilter",
        ),
        (
            "-A PREROUTING -p tcp -j REDIRECT --to-ports 80-90/100",
            "Shifted portmap ranges not supported by rustfilter",
        ),
    ] {
        assert_eq!(parse_err(&format!("-t nat {input}")), want, "{input}");
    }
}

#[test]
fn nat_targets_are_checked_by_the_core() {
    // As the kernel will: the nat table only, each target at its hooks
    // (SNAT: POSTROUTING and INPUT; MASQUERADE: POSTROUTING; DNAT and
    // REDIRECT: PREROUTING and OUTPUT), through user chains too.
    let wrong_hook = Some("not valid in a chain reachable from this hook");
    for (table, commands, want) in [
        (
            "filter",
            "-A INPUT -j SNAT --to-source 1.2.3.4",
            Some("not valid in this table"),
        ),
        (
            "mangle",
            "-A PREROUTING -j DNAT --to-destination 1.2.3.4",
            Some("not valid in this table"),
        ),
        (
            "raw",
            "-A OUTPUT -j REDIRECT",
            Some("not valid in this table"),
        ),
        ("nat", "-A POSTROUTING -j SNAT --to-source 1.2.3.4", None),
        ("nat", "-A INPUT -j SNAT --to-source 1.2.3.4", None),
        (
            "nat",
            "-A PREROUTING -j SNAT --to-source 1.2.3.4",
            wrong_hook,
        ),
        ("nat", "-A OUTPUT -j SNAT --to-source 1.2.3.4", wrong_hook),
        ("nat", "-A POSTROUTING -j MASQUERADE", None),
        ("nat", "-A INPUT -j MASQUERADE", wrong_hook),
        (
            "nat",
            "-A PREROUTING -j DNAT --to-destination 1.2.3.4",
            None,
        ),
        ("nat", "-A OUTPUT -j DNAT --to-destination 1.2.3.4", None),
        (
            "nat",
            "-A POSTROUTING -j DNAT --to-destination 1.2.3.4",
            wrong_hook,
        ),
        ("nat", "-A INPUT -j REDIRECT", wrong_hook),
        ("nat", "-A OUTPUT -p udp -j REDIRECT --to-ports 53", None),
        (
            "nat",
            "-N out; -A out -j MASQUERADE; -A POSTROUTING -j out",
            None,
        ),
        (
            "nat",
            "-N out; -A out -j MASQUERADE; -A OUTPUT -j out",
            wrong_hook,
        ),
        (
            "nat",
            "-N dn; -A dn -j DNAT --to-destination 1.2.3.4; -A PREROUTING -j dn; -A OUTPUT -g dn",
            None,
        ),
    ] {
        let mut t = TableSpec::empty(TableKind::from_name(table).unwrap());
        for c in commands.split("; ") {
            ops::apply(&mut t, &parse_ok(&format!("-t {table} {c}"))).unwrap();
        }
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let got = wire::decode_table(&chunks.concat())
            .err()
            .map(|e| e.message());
        assert_eq!(got, want, "{table}: {commands}");
    }
}

#[test]
fn restore_reads_a_nat_section() {
    let nat = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
               :POSTROUTING ACCEPT [0:0]\n:fwd - [0:0]\n\
               -A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j fwd\n\
               -A POSTROUTING -o eth0 -j MASQUERADE\n\
               -A fwd -p tcp -j DNAT --to-destination 10.0.2.2:80\nCOMMIT\n";
    let filter = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                  -A FORWARD -m conntrack --ctstate DNAT -j ACCEPT\nCOMMIT\n";
    let text = format!("# Generated by iptables-save v1.8.9\n{nat}# Completed\n{filter}");
    let s = restore::parse_input(&text, false).unwrap();
    let tables = restore::build_tables(&s, None).unwrap();
    assert_eq!(tables.len(), 2);
    assert_eq!(tables[0].kind, TableKind::Nat);
    // Saved back identically, and the core takes it.
    assert_eq!(format::save_table(&tables[0], false), nat);
    assert_eq!(format::save_table(&tables[1], false), filter);
    for t in &tables {
        let chunks = wire::encode_chunks(t, wire::CHUNK_BYTES).unwrap();
        let back = wire::decode_table(&chunks.concat()).unwrap();
        assert_eq!(
            format::save_table(&back, false),
            format::save_table(t, false)
        );
    }
    // -T picks the one table.
    let only = restore::build_tables(&s, Some(TableKind::Nat)).unwrap();
    assert_eq!(only.len(), 1);
    // The nat table's own chains and targets; errors name the line.
    let err = |text: &str| match restore::parse_input(text, false)
        .and_then(|s| restore::build_tables(&s, None))
    {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted:\n{text}"),
    };
    assert_eq!(
        err("*nat\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"),
        "line 2: Can't set policy `ACCEPT' on `FORWARD': Bad built-in chain name"
    );
    assert_eq!(
        err("*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j SNAT\nCOMMIT\n"),
        "line 3: SNAT: option \"--to-source\" must be specified"
    );
    assert_eq!(
        err("*nat\n-A FORWARD -j MASQUERADE\nCOMMIT\n"),
        "line 2: No chain/target/match by that name."
    );
    assert_eq!(
        err("*filter\n-A INPUT -t nat -j MASQUERADE\nCOMMIT\n"),
        "line 2: The -t option cannot be used in rfctl restore."
    );
}

#[test]
fn nat_table_lists_as_iptables() {
    let mut t = TableSpec::empty(TableKind::Nat);
    for c in [
        "-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 3128",
        "-A POSTROUTING -o eth0 -j MASQUERADE --random",
    ] {
        ops::apply(&mut t, &parse_ok(&format!("-t nat {c}"))).unwrap();
    }
    let out = ops::apply(&mut t, &parse_ok("-t nat -L -n"))
        .unwrap()
        .output;
    assert_eq!(
        out,
        "Chain PREROUTING (policy ACCEPT)\n\
         target     prot opt source               destination         \n\
         REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 redir ports 3128\n\
         \n\
         Chain INPUT (policy ACCEPT)\n\
         target     prot opt source               destination         \n\
         \n\
         Chain OUTPUT (policy ACCEPT)\n\
         target     prot opt source               destination         \n\
         \n\
         Chain POSTROUTING (policy ACCEPT)\n\
         target     prot opt source               destination         \n\
         MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0            random\n"
    );
    let out = ops::apply(&mut t, &parse_ok("-t nat -S POSTROUTING"))
        .unwrap()
        .output;
    assert_eq!(
        out,
        "-P POSTROUTING ACCEPT\n-A POSTROUTING -o eth0 -j MASQUERADE --random\n"
    );
}

/// NFQUEUE and QUEUE rules as given to iptables-legacy 1.8.9, and as its
/// `-S` and `-L -n` printed them.
const NFQUEUE_RULES: &[(&str, &str, &str)] = &[
    (
        "-A INPUT -j NFQUEUE",
        "-A INPUT -j NFQUEUE --queue-num 0",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 0",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num 3",
        "-A INPUT -j NFQUEUE --queue-num 3",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 3",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num 65535",
        "-A INPUT -j NFQUEUE --queue-num 65535",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 65535",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num 0x10",
        "-A INPUT -j NFQUEUE --queue-num 16",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 16",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num 010",
        "-A INPUT -j NFQUEUE --queue-num 8",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 8",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num +5",
        "-A INPUT -j NFQUEUE --queue-num 5",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 5",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-num \" 5\"",
        "-A INPUT -j NFQUEUE --queue-num 5",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 5",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 0:3",
        "-A INPUT -j NFQUEUE --queue-balance 0:3",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 0:3",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 1:65535",
        "-A INPUT -j NFQUEUE --queue-balance 1:65535",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 1:65535",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance :3",
        "-A INPUT -j NFQUEUE --queue-balance 0:3",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 0:3",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 3:",
        "-A INPUT -j NFQUEUE --queue-balance 3:65535",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 3:65535",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 0x1:0x4",
        "-A INPUT -j NFQUEUE --queue-balance 1:4",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 1:4",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-bypass",
        "-A INPUT -j NFQUEUE --queue-num 0 --queue-bypass",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 0 bypass",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout",
        "-A INPUT -j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 0:3 cpu-fanout",
    ),
    (
        "-A INPUT -j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout --queue-bypass",
        "-A INPUT -j NFQUEUE --queue-balance 0:3 --queue-bypass --queue-cpu-fanout",
        "NFQUEUE    0    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE balance 0:3 bypass cpu-fanout",
    ),
    (
        "-A INPUT -p tcp -j NFQUEUE --queue-num 7",
        "-A INPUT -p tcp -j NFQUEUE --queue-num 7",
        "NFQUEUE    6    --  0.0.0.0/0            0.0.0.0/0            NFQUEUE num 7",
    ),
    (
        "-A INPUT -j QUEUE",
        "-A INPUT -j QUEUE",
        "QUEUE      0    --  0.0.0.0/0            0.0.0.0/0           ",
    ),
];

#[test]
fn nfqueue_rules_parse_and_print_as_iptables() {
    for (input, want_s, want_l) in NFQUEUE_RULES {
        let c = parse_ok(input);
        let mut t = TableSpec::empty(TableKind::Filter);
        ops::apply(&mut t, &c).unwrap_or_else(|e| panic!("{input}: {e}"));
        let r = t.chain("INPUT").unwrap().rules.last().unwrap();
        assert_eq!(format::rule_save("INPUT", r, false), *want_s, "{input}");
        let f = format::ListFormat {
            numeric: true,
            ..Default::default()
        };
        assert_eq!(format::rule_line(r, 1, f), *want_l, "{input}");
        // The printed form reads back to the same rule.
        let again = parse_ok(want_s);
        assert!(again.rule.same_as(r), "{want_s}");
        // The core takes it and gives it back unchanged.
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let back = wire::decode_table(&chunks.concat()).unwrap_or_else(|e| panic!("{input}: {e}"));
        let r2 = back.chain("INPUT").unwrap().rules.last().unwrap();
        assert!(r2.same_as(r), "{input}");
    }
}

#[test]
fn nfqueue_parse_details() {
    use rfcore::proto;
    use rfcore::rules::targets::queue::NfQueue;
    use rfcore::rules::Target;
    let q = |s: &str| match parse_ok(&format!("-A INPUT -j NFQUEUE {s}")).rule.target {
        Target::NfQueue(q) => q,
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(q(""), NfQueue::default());
    let nq = |num, total, flags| NfQueue { num, total, flags };
    assert_eq!(q("--queue-num 9"), nq(9, 1, 0));
    assert_eq!(q("--queue-balance 2:5"), nq(2, 4, 0));
    assert_eq!(q("--queue-balance :1"), nq(0, 2, 0));
    assert_eq!(q("--queue-balance 65534:"), nq(65534, 2, 0));
    assert_eq!(
        q("--queue-bypass --queue-balance 4:5 --queue-cpu-fanout"),
        nq(4, 2, proto::NFQUEUE_F_BYPASS | proto::NFQUEUE_F_CPU_FANOUT)
    );
    // 0:65535 is 65536 queues, which a u16 count cannot hold: it wraps
    // to 0, as in iptables, and the kernel refuses the rule.
    assert_eq!(q("--queue-balance 0:65535"), nq(0, 0, 0));
    assert_eq!(q("--queue-balance :"), nq(0, 0, 0));
    // QUEUE is the standard verdict.
    assert_eq!(parse_ok("-A INPUT -j QUEUE").rule.target, Target::Queue);
    // Both are target names, which chains may not take.
    for name in ["NFQUEUE", "QUEUE"] {
        assert!(parse::is_target_name(name));
    }
}

#[test]
fn bad_nfqueue_rules_have_iptables_messages() {
    let range = "NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).";
    for (input, want) in [
        // As iptables-legacy 1.8.9 says them.
        ("-j NFQUEUE --queue-num 65536", range),
        ("-j NFQUEUE --queue-num -1", range),
        ("-j NFQUEUE --queue-num abc", range),
        ("-j NFQUEUE --queue-num \"\"", range),
        ("-j NFQUEUE --queue-num 5x", range),
        ("-j NFQUEUE --queue-num 08", range),
        ("-j NFQUEUE --queue-balance 3:3", "3 should be less than 3"),
        ("-j NFQUEUE --queue-balance 4:3", "4 should be less than 3"),
        ("-j NFQUEUE --queue-balance 3", "Bad range \"3\""),
        ("-j NFQUEUE --queue-balance \"\"", "Bad range \"\""),
        (
            "-j NFQUEUE --queue-balance 1:70000",
            "NFQUEUE: bad value for option \"--queue-balance\" near \"70000\", or out of range (0-65535).",
        ),
        (
            "-j NFQUEUE --queue-balance 0:65536",
            "NFQUEUE: bad value for option \"--queue-balance\" near \"65536\", or out of range (0-65535).",
        ),
        (
            "-j NFQUEUE --queue-balance a:b",
            "NFQUEUE: bad value for option \"--queue-balance\" near \"a:b\", or out of range (0-65535).",
        ),
        (
            "-j NFQUEUE --queue-balance 1:2:3",
            "NFQUEUE: Too many components for option \"--queue-balance\" (max: 2)",
        ),
        (
            "-j NFQUEUE --queue-balance 1x:3",
            "NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \"x:3\".",
        ),
        (
            "-j NFQUEUE --queue-balance 1:3x",
            "NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \"x\".",
        ),
        (
            "-j NFQUEUE --queue-num 1 --queue-balance 0:3",
            "NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".",
        ),
        (
            "-j NFQUEUE --queue-balance 0:3 --queue-num 1",
            "NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".",
        ),
        // Values are checked as they are read, exclusions at the end.
        (
            "-j NFQUEUE --queue-num 1 --queue-balance 3:3",
            "3 should be less than 3",
        ),
        (
            "-j NFQUEUE --queue-balance 0:3 --queue-num abc",
            range,
        ),
        (
            "-j NFQUEUE --queue-num 1 --queue-num 2",
            "NFQUEUE: option \"--queue-num\" can only be used once.",
        ),
        (
            "-j NFQUEUE --queue-balance 0:3 --queue-balance 1:2",
            "NFQUEUE: option \"--queue-balance\" can only be used once.",
        ),
        (
            "-j NFQUEUE --queue-bypass --queue-bypass",
            "NFQUEUE: option \"--queue-bypass\" can only be used once.",
        ),
        (
            "-j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout --queue-cpu-fanout",
            "NFQUEUE: option \"--queue-cpu-fanout\" can only be used once.",
        ),
        (
            "-j NFQUEUE --queue-cpu-fanout",
            "NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".",
        ),
        (
            "-j NFQUEUE --queue-num 2 --queue-cpu-fanout",
            "NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".",
        ),
        (
            "-j NFQUEUE ! --queue-num 2",
            "NFQUEUE: option \"--queue-num\" cannot be inverted.",
        ),
        ("-j QUEUE --queue-num 2", "unknown option \"--queue-num\""),
        (
            "-j NFQUEUE --queue-num",
            "option \"--queue-num\" requires an argument",
        ),
        ("-j NFQUEUE --queue-num 2 extra", "Bad argument `extra'"),
    ] {
        assert_eq!(parse_err(&format!("-A INPUT {input}")), want, "{input}");
    }
    // Chains may not be called after the targets.
    for name in ["NFQUEUE", "QUEUE"] {
        assert_eq!(
            parse_err(&format!("-N {name}")),
            "chain name may not clash with target name"
        );
    }
}

#[test]
fn nfqueue_targets_are_checked_by_the_core() {
    // As the kernel will: every table but nat, and a range the u16 count
    // holds with the last queue at most 65535.
    let wrong_table = Some("not valid in this table");
    let range = Some("NFQUEUE needs 1 or more queues, the last at most 65535");
    for (table, command, want) in [
        ("filter", "-A INPUT -j NFQUEUE --queue-num 1", None),
        ("filter", "-A FORWARD -j QUEUE", None),
        (
            "mangle",
            "-A POSTROUTING -j NFQUEUE --queue-balance 0:1",
            None,
        ),
        ("raw", "-A PREROUTING -j NFQUEUE --queue-bypass", None),
        ("nat", "-A PREROUTING -j NFQUEUE", wrong_table),
        ("nat", "-A POSTROUTING -j QUEUE", wrong_table),
        (
            "filter",
            "-A INPUT -j NFQUEUE --queue-balance 0:65535",
            range,
        ),
        ("filter", "-A INPUT -j NFQUEUE --queue-balance :", range),
        (
            "filter",
            "-A INPUT -j NFQUEUE --queue-balance 1:65535",
            None,
        ),
    ] {
        let mut t = TableSpec::empty(TableKind::from_name(table).unwrap());
        ops::apply(&mut t, &parse_ok(&format!("-t {table} {command}"))).unwrap();
        let chunks = wire::encode_chunks(&t, wire::CHUNK_BYTES).unwrap();
        let got = wire::decode_table(&chunks.concat())
            .err()
            .map(|e| e.message());
        assert_eq!(got, want, "{table}: {command}");
    }
}
