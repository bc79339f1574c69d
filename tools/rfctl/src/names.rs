// SPDX-License-Identifier: GPL-2.0

//! Names iptables accepts and prints: protocols, ICMP types, TCP flags,
//! TOS and DSCP classes, log levels, reject types, services.

use std::collections::HashMap;
use std::sync::OnceLock;

/// IP protocols by number, as `/etc/protocols` names them (Debian's
/// netbase), so that output does not depend on the host's file.
pub const PROTOCOLS: &[(u8, &str)] = &[
    (1, "icmp"),
    (2, "igmp"),
    (3, "ggp"),
    (4, "ipencap"),
    (5, "st"),
    (6, "tcp"),
    (8, "egp"),
    (9, "igp"),
    (12, "pup"),
    (17, "udp"),
    (20, "hmp"),
    (22, "xns-idp"),
    (27, "rdp"),
    (29, "iso-tp4"),
    (33, "dccp"),
    (36, "xtp"),
    (37, "ddp"),
    (38, "idpr-cmtp"),
    (41, "ipv6"),
    (43, "ipv6-route"),
    (44, "ipv6-frag"),
    (45, "idrp"),
    (46, "rsvp"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (57, "skip"),
    (58, "ipv6-icmp"),
    (59, "ipv6-nonxt"),
    (60, "ipv6-opts"),
    (73, "rspf"),
    (81, "vmtp"),
    (88, "eigrp"),
    (89, "ospf"),
    (93, "ax.25"),
    (94, "ipip"),
    (97, "etherip"),
    (98, "encap"),
    (103, "pim"),
    (108, "ipcomp"),
    (112, "vrrp"),
    (115, "l2tp"),
    (124, "isis"),
    (132, "sctp"),
    (133, "fc"),
    (135, "mobility-header"),
    (136, "udplite"),
    (137, "mpls-in-ip"),
    (138, "manet"),
    (139, "hip"),
    (140, "shim6"),
    (141, "wesp"),
    (142, "rohc"),
    (143, "ethernet"),
];

/// Aliases accepted by `-p` beyond the names above.
const PROTOCOL_ALIASES: &[(u8, &str)] =
    &[(1, "icmp"), (58, "icmpv6"), (135, "mh"), (4, "ip-in-ip")];

/// The name of protocol `n`.
pub fn proto_name(n: u8) -> Option<&'static str> {
    PROTOCOLS.iter().find(|p| p.0 == n).map(|p| p.1)
}

/// The number of protocol `name` (lower case).
pub fn proto_number(name: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .chain(PROTOCOL_ALIASES)
        .find(|p| p.1 == name)
        .map(|p| p.0)
}

/// One ICMP type name: type, lowest and highest code.
pub struct IcmpName {
    pub name: &'static str,
    pub icmp_type: u8,
    pub code_min: u8,
    pub code_max: u8,
}

const fn icmp(name: &'static str, icmp_type: u8, code_min: u8, code_max: u8) -> IcmpName {
    IcmpName {
        name,
        icmp_type,
        code_min,
        code_max,
    }
}

/// `libipt_icmp.c`'s table, in its order (aliases after the name they
/// stand for, so printing finds the main name first).
pub const ICMP_NAMES: &[IcmpName] = &[
    icmp("any", 0xff, 0, 0xff),
    icmp("echo-reply", 0, 0, 0xff),
    icmp("pong", 0, 0, 0xff),
    icmp("destination-unreachable", 3, 0, 0xff),
    icmp("network-unreachable", 3, 0, 0),
    icmp("host-unreachable", 3, 1, 1),
    icmp("protocol-unreachable", 3, 2, 2),
    icmp("port-unreachable", 3, 3, 3),
    icmp("fragmentation-needed", 3, 4, 4),
    icmp("source-route-failed", 3, 5, 5),
    icmp("network-unknown", 3, 6, 6),
    icmp("host-unknown", 3, 7, 7),
    icmp("network-prohibited", 3, 9, 9),
    icmp("host-prohibited", 3, 10, 10),
    icmp("TOS-network-unreachable", 3, 11, 11),
    icmp("TOS-host-unreachable", 3, 12, 12),
    icmp("communication-prohibited", 3, 13, 13),
    icmp("host-precedence-violation", 3, 14, 14),
    icmp("precedence-cutoff", 3, 15, 15),
    icmp("source-quench", 4, 0, 0xff),
    icmp("redirect", 5, 0, 0xff),
    icmp("network-redirect", 5, 0, 0),
    icmp("host-redirect", 5, 1, 1),
    icmp("TOS-network-redirect", 5, 2, 2),
    icmp("TOS-host-redirect", 5, 3, 3),
    icmp("echo-request", 8, 0, 0xff),
    icmp("ping", 8, 0, 0xff),
    icmp("router-advertisement", 9, 0, 0xff),
    icmp("router-solicitation", 10, 0, 0xff),
    icmp("time-exceeded", 11, 0, 0xff),
    icmp("ttl-exceeded", 11, 0, 0xff),
    icmp("ttl-zero-during-transit", 11, 0, 0),
    icmp("ttl-zero-during-reassembly", 11, 1, 1),
    icmp("parameter-problem", 12, 0, 0xff),
    icmp("ip-header-bad", 12, 0, 0),
    icmp("required-option-missing", 12, 1, 1),
    icmp("timestamp-request", 13, 0, 0xff),
    icmp("timestamp-reply", 14, 0, 0xff),
    icmp("address-mask-request", 17, 0, 0xff),
    icmp("address-mask-reply", 18, 0, 0xff),
];

/// TCP flags, lowest bit first, as `libxt_tcp.c` names them.
pub const TCP_FLAGS: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ALL", 0x3f),
    ("NONE", 0),
];

/// TOS names (`tos_values.c`); they come with mask 0x3f.
pub const TOS_NAMES: &[(&str, u8)] = &[
    ("Minimize-Cost", 0x02),
    ("Maximize-Reliability", 0x04),
    ("Maximize-Throughput", 0x08),
    ("Minimize-Delay", 0x10),
    ("Normal-Service", 0x00),
];

/// DSCP classes (`dscp_helper.c`).
pub const DSCP_CLASSES: &[(&str, u8)] = &[
    ("CS0", 0x00),
    ("CS1", 0x08),
    ("CS2", 0x10),
    ("CS3", 0x18),
    ("CS4", 0x20),
    ("CS5", 0x28),
    ("CS6", 0x30),
    ("CS7", 0x38),
    ("BE", 0x00),
    ("AF11", 0x0a),
    ("AF12", 0x0c),
    ("AF13", 0x0e),
    ("AF21", 0x12),
    ("AF22", 0x14),
    ("AF23", 0x16),
    ("AF31", 0x1a),
    ("AF32", 0x1c),
    ("AF33", 0x1e),
    ("AF41", 0x22),
    ("AF42", 0x24),
    ("AF43", 0x26),
    ("EF", 0x2e),
];

/// Log level names accepted by `--log-level`.
pub const LOG_LEVELS_IN: &[(&str, u8)] = &[
    ("emerg", 0),
    ("panic", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("error", 3),
    ("warn", 4),
    ("warning", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

/// Log level names as `-L` prints them, by level.
pub const LOG_LEVELS_OUT: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

/// `--reject-with` names and their aliases, by `RejectWith` name.
pub const REJECT_ALIASES: &[(&str, &str)] = &[
    ("net-unreach", "icmp-net-unreachable"),
    ("host-unreach", "icmp-host-unreachable"),
    ("proto-unreach", "icmp-proto-unreachable"),
    ("port-unreach", "icmp-port-unreachable"),
    ("net-prohib", "icmp-net-prohibited"),
    ("host-prohib", "icmp-host-prohibited"),
    ("admin-prohib", "icmp-admin-prohibited"),
    ("tcp-rst", "tcp-reset"),
];

/// The services of `/etc/services`: by (port, protocol) and by (name,
/// protocol).
struct Services {
    by_port: HashMap<(u16, String), String>,
    by_name: HashMap<(String, String), u16>,
}

fn services() -> &'static Services {
    static S: OnceLock<Services> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Services {
            by_port: HashMap::new(),
            by_name: HashMap::new(),
        };
        let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(pp)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            s.by_port
                .entry((port, proto.to_string()))
                .or_insert_with(|| name.to_string());
            for n in std::iter::once(name).chain(words) {
                s.by_name
                    .entry((n.to_string(), proto.to_string()))
                    .or_insert(port);
            }
        }
        s
    })
}

/// The service name of `port` for `proto` ("tcp", "udp").
pub fn service_name(port: u16, proto: &str) -> Option<&'static str> {
    services()
        .by_port
        .get(&(port, proto.to_string()))
        .map(String::as_str)
}

/// The port of service `name` for `proto`.
pub fn service_port(name: &str, proto: &str) -> Option<u16> {
    services()
        .by_name
        .get(&(name.to_string(), proto.to_string()))
        .copied()
}
