// SPDX-License-Identifier: GPL-2.0

//! Rulesets in the wire format of `Documentation/ruleset.rst`: valid
//! tables for the transactions, and broken ones with the error the module
//! must give.
//!
//! Valid rules are written by the core's own encoder (`encode_rule`, the
//! one the module's dumps use) from typed values; chains and tables, and
//! everything that must be wrong, are assembled from attributes by hand.

use rfcore::nla::Writer;
use rfcore::proto;
use rfcore::rules::matches::{icmp::Icmp, mark::Mark, tcp::Tcp, udp::Udp, PortRange};
use rfcore::rules::targets::mark::SetMark;
use rfcore::rules::targets::reject::{Reject, RejectWith};
use rfcore::rules::{
    encode_rule, Counters, IfaceMatch, IpMatch, Match, RuleRef, TableKind, Target,
};

use crate::wire::{flag_attr, nest, str_attr, u16_attr, u32_attr, u64_attr, u8_attr};

/// `NF_DROP` as a chain policy.
pub const NF_DROP: u32 = 0;
/// `NF_ACCEPT` as a chain policy.
pub const NF_ACCEPT: u32 = 1;

// ---------------------------------------------------------------------
// Valid rules, through the core's encoder.

/// A rule as typed values.
#[derive(Clone, Debug, Default)]
pub struct RuleSpec {
    /// The IP part.
    pub ip: IpMatch,
    /// The matches.
    pub matches: Vec<Match>,
    /// The target.
    pub target: Target,
    /// The chain of a jump or goto.
    pub jump: &'static str,
}

impl RuleSpec {
    /// A rule with only a target.
    pub fn target(target: Target) -> Self {
        RuleSpec {
            target,
            ..RuleSpec::default()
        }
    }

    /// `-p proto`.
    pub fn proto(mut self, p: u8) -> Self {
        self.ip.proto = p;
        self
    }

    /// `-s addr/mask`.
    pub fn src(mut self, addr: [u8; 4], mask: [u8; 4]) -> Self {
        self.ip.src = addr;
        self.ip.src_mask = mask;
        self
    }

    /// `-m ...`.
    pub fn with(mut self, m: Match) -> Self {
        self.matches.push(m);
        self
    }

    /// `-j chain`.
    pub fn jump(chain: &'static str) -> Self {
        RuleSpec {
            target: Target::Jump(0),
            jump: chain,
            ..RuleSpec::default()
        }
    }

    /// The `CHAIN_RULE` nest, as `encode_rule` writes it (counters 0).
    pub fn encode(&self) -> Vec<u8> {
        let mut scratch = vec![0u8; 4096];
        let mut w = Writer::new(&mut scratch);
        let r = RuleRef {
            ip: &self.ip,
            matches: &self.matches,
            target: &self.target,
            jump: self.jump,
            counters: Counters::default(),
        };
        encode_rule(&mut w, &r).expect("a rule fits in 4 KiB");
        w.as_bytes().to_vec()
    }
}

// ---------------------------------------------------------------------
// Hand-made pieces.

/// A `CHAIN_RULE` nest of `parts`.
pub fn rule(parts: &[Vec<u8>]) -> Vec<u8> {
    nest(proto::CHAIN_RULE, parts)
}

/// A `RULE_TARGET` nest of kind `kind` with options `opts`.
pub fn target(kind: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![u32_attr(proto::TARGET_KIND, kind)];
    if !opts.is_empty() {
        parts.push(nest(proto::TARGET_OPTS, opts));
    }
    nest(proto::RULE_TARGET, &parts)
}

/// `-j chain` as attributes.
pub fn jump_to(chain: &str) -> Vec<u8> {
    target(proto::TG_JUMP, &[str_attr(proto::JUMP_CHAIN, chain)])
}

/// A `RULE_MATCH` nest of kind `kind` with options `opts`.
pub fn mt(kind: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    nest(
        proto::RULE_MATCH,
        &[
            u32_attr(proto::MATCH_KIND, kind),
            nest(proto::MATCH_OPTS, opts),
        ],
    )
}

/// A built-in chain nest with `policy` and `rules`.
pub fn builtin(name: &str, policy: u32, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![
        str_attr(proto::CHAIN_NAME, name),
        u32_attr(proto::CHAIN_POLICY, policy),
        u64_attr(proto::CHAIN_PACKETS, 0),
        u64_attr(proto::CHAIN_BYTES, 0),
    ];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

/// A user-defined chain nest.
pub fn user(name: &str, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![str_attr(proto::CHAIN_NAME, name)];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

/// A nest continuing chain `name` with more rules.
pub fn continued(name: &str, rules: &[Vec<u8>]) -> Vec<u8> {
    let mut parts = vec![
        str_attr(proto::CHAIN_NAME, name),
        flag_attr(proto::CHAIN_CONTINUED),
    ];
    parts.extend(rules.iter().cloned());
    nest(proto::TABLE_CHAIN, &parts)
}

/// A table: its name, then the chain nests.
pub fn table(name: &str, chains: &[Vec<u8>]) -> Vec<u8> {
    let mut v = str_attr(proto::TABLE_NAME, name);
    for c in chains {
        v.extend_from_slice(c);
    }
    v
}

/// The built-in chains of `kind`, empty with ACCEPT policies, except the
/// one named `with` which gets `rules`; then the user chains `users`.
pub fn table_with(kind: TableKind, with: &str, rules: &[Vec<u8>], users: &[Vec<u8>]) -> Vec<u8> {
    let mut chains: Vec<Vec<u8>> = kind
        .desc()
        .hooks
        .iter()
        .map(|h| {
            let r: &[Vec<u8>] = if h.name() == with { rules } else { &[] };
            builtin(h.name(), NF_ACCEPT, r)
        })
        .collect();
    chains.extend(users.iter().cloned());
    table(kind.name(), &chains)
}

/// filter with `rules` in INPUT and the user chains `users`.
pub fn filter_input(rules: &[Vec<u8>], users: &[Vec<u8>]) -> Vec<u8> {
    table_with(TableKind::Filter, "INPUT", rules, users)
}

// ---------------------------------------------------------------------
// Valid tables.

/// A small filter table using several matches, a user chain, a jump,
/// REJECT and RETURN.
pub fn valid_filter() -> Vec<u8> {
    let ping = RuleSpec::target(Target::Accept)
        .proto(1)
        .with(Match::Icmp(Icmp {
            icmp_type: 8,
            ..Icmp::default()
        }));
    let ssh = RuleSpec::jump("CHK")
        .src([10, 0, 0, 0], [255, 0, 0, 0])
        .proto(6)
        .with(Match::Tcp(Tcp {
            dports: PortRange::single(22),
            ..Tcp::default()
        }));
    let marked = RuleSpec::target(Target::Drop).with(Match::Mark(Mark {
        value: 0x1,
        mask: 0xff,
        invert: false,
    }));
    let mut fwd = RuleSpec::target(Target::Accept);
    fwd.ip.in_iface = IfaceMatch::parse("eth+").expect("interface");
    let reset = RuleSpec::target(Target::Reject(Reject {
        with: RejectWith::TcpReset,
    }))
    .proto(6)
    .with(Match::Tcp(Tcp::default()));
    let dns = RuleSpec::target(Target::Accept)
        .proto(17)
        .with(Match::Udp(Udp {
            dports: PortRange::single(53),
            ..Udp::default()
        }));
    table(
        "filter",
        &[
            builtin(
                "INPUT",
                NF_ACCEPT,
                &[ping.encode(), ssh.encode(), marked.encode()],
            ),
            builtin("FORWARD", NF_DROP, &[fwd.encode()]),
            builtin("OUTPUT", NF_ACCEPT, &[dns.encode()]),
            user(
                "CHK",
                &[reset.encode(), RuleSpec::target(Target::Return).encode()],
            ),
        ],
    )
}

/// A small mangle table: MARK in PREROUTING.
pub fn valid_mangle() -> Vec<u8> {
    let mark = RuleSpec::target(Target::Mark(SetMark {
        value: 0x2a,
        mask: 0xffff_ffff,
    }))
    .proto(1);
    table_with(TableKind::Mangle, "PREROUTING", &[mark.encode()], &[])
}

/// A small raw table: a DROP in OUTPUT.
pub fn valid_raw() -> Vec<u8> {
    let drop = RuleSpec::target(Target::Drop)
        .proto(17)
        .src([192, 0, 2, 1], [255, 255, 255, 255]);
    table_with(TableKind::Raw, "OUTPUT", &[drop.encode()], &[])
}

/// A valid nat table: a port forward (DNAT) at PREROUTING, MASQUERADE
/// with a port range at POSTROUTING.
pub fn valid_nat() -> Vec<u8> {
    let nat = |kind: u32, opts: &[Vec<u8>]| target(kind, opts);
    let dnat = rule(&[
        u8_attr(proto::RULE_PROTO, 6),
        nat(
            proto::TG_DNAT,
            &[
                attr_be32(proto::NAT_MIN_ADDR, [10, 0, 1, 2]),
                u16_attr(proto::NAT_MIN_PORT, 80),
            ],
        ),
    ]);
    let masq = rule(&[
        u8_attr(proto::RULE_PROTO, 17),
        nat(
            proto::TG_MASQUERADE,
            &[
                u32_attr(proto::NAT_FLAGS, proto::NAT_F_RANDOM),
                u16_attr(proto::NAT_MIN_PORT, 20000),
                u16_attr(proto::NAT_MAX_PORT, 20100),
            ],
        ),
    ]);
    table(
        "nat",
        &[
            builtin("PREROUTING", NF_ACCEPT, &[dnat]),
            builtin("INPUT", NF_ACCEPT, &[]),
            builtin("OUTPUT", NF_ACCEPT, &[]),
            builtin("POSTROUTING", NF_ACCEPT, &[masq]),
        ],
    )
}

/// The valid table of `kind`.
pub fn valid(kind: TableKind) -> Vec<u8> {
    match kind {
        TableKind::Filter => valid_filter(),
        TableKind::Mangle => valid_mangle(),
        TableKind::Raw => valid_raw(),
        TableKind::Nat => valid_nat(),
    }
}

/// A valid filter table of at least `bytes` bytes: INPUT holds distinct
/// `-s` rules, in nests of at most 60 KiB continued with
/// `CHAIN_CONTINUED`, as rfctl sends a long chain.
pub fn large_filter(bytes: usize) -> Vec<u8> {
    const NEST: usize = 60 << 10;
    let mut chains = Vec::new();
    let mut rules: Vec<Vec<u8>> = Vec::new();
    let mut nest_bytes = 0;
    let mut total = 0;
    let mut i: u32 = 0;
    let mut first = true;
    while total < bytes {
        let a = (0xac10_0000u32 + i).to_be_bytes();
        let r = RuleSpec::target(Target::Drop)
            .proto(17)
            .src(a, [255, 255, 255, 255])
            .encode();
        nest_bytes += r.len();
        total += r.len();
        rules.push(r);
        i += 1;
        if nest_bytes >= NEST {
            chains.push(if first {
                builtin("INPUT", NF_ACCEPT, &rules)
            } else {
                continued("INPUT", &rules)
            });
            first = false;
            rules.clear();
            nest_bytes = 0;
        }
    }
    chains.push(if first {
        builtin("INPUT", NF_ACCEPT, &rules)
    } else {
        continued("INPUT", &rules)
    });
    chains.push(builtin("FORWARD", NF_ACCEPT, &[]));
    chains.push(builtin("OUTPUT", NF_ACCEPT, &[]));
    table("filter", &chains)
}

/// `n` chains `L0` .. `L{n-1}`, each jumping to the next, the last empty;
/// INPUT jumps to `L0`: a jump depth of `n`.
pub fn ladder(n: usize) -> Vec<u8> {
    let users: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let next = format!("L{}", i + 1);
            let rules = if i + 1 < n {
                vec![rule(&[jump_to(&next)])]
            } else {
                vec![]
            };
            user(&format!("L{i}"), &rules)
        })
        .collect();
    filter_input(&[rule(&[jump_to("L0")])], &users)
}

/// A valid filter table whose INPUT chain carries `CHAIN_ORIGIN`
/// `chain_origin` and whose one rule carries `RULE_ORIGIN` `rule_origin`
/// (each when given), for `RUSTFILTER_A_CARRY` commits.
pub fn filter_with_origins(chain_origin: Option<u32>, rule_origin: Option<u32>) -> Vec<u8> {
    let mut r = vec![target(proto::TG_ACCEPT, &[])];
    if let Some(o) = rule_origin {
        r.push(u32_attr(proto::RULE_ORIGIN, o));
    }
    let mut input = vec![
        str_attr(proto::CHAIN_NAME, "INPUT"),
        u32_attr(proto::CHAIN_POLICY, NF_ACCEPT),
        rule(&r),
    ];
    if let Some(o) = chain_origin {
        input.push(u32_attr(proto::CHAIN_ORIGIN, o));
    }
    table(
        "filter",
        &[
            nest(proto::TABLE_CHAIN, &input),
            builtin("FORWARD", NF_ACCEPT, &[]),
            builtin("OUTPUT", NF_ACCEPT, &[]),
        ],
    )
}

// ---------------------------------------------------------------------
// Broken tables.

/// A ruleset the module must refuse at commit.
pub struct BadRuleset {
    /// Case name.
    pub name: &'static str,
    /// The table the transaction is for.
    pub begin: TableKind,
    /// The chunks, sent in order.
    pub chunks: Vec<Vec<u8>>,
    /// The errno of the commit.
    pub errno: i32,
    /// What the extended ack must say (a substring).
    pub msg: &'static str,
    /// Whether the core's decoder alone refuses it (the unit tests check
    /// `msg` against the core's own message); the others are refused by
    /// the module.
    #[cfg_attr(not(test), allow(dead_code))]
    pub by_core: bool,
}

/// Every broken ruleset, with the error it must get.
pub fn bad_rulesets() -> Vec<BadRuleset> {
    use TableKind::{Filter, Mangle};
    let einval = libc::EINVAL;
    let core = |name, chunk: Vec<u8>, msg| BadRuleset {
        name,
        begin: Filter,
        chunks: vec![chunk],
        errno: einval,
        msg,
        by_core: true,
    };
    let tcp_rule = |extra: Vec<u8>| rule(&[u8_attr(proto::RULE_PROTO, 6), extra]);
    let mut v = vec![
        core(
            "ruleset-unknown-match",
            filter_input(&[rule(&[mt(99, &[]), target(proto::TG_ACCEPT, &[])])], &[]),
            "table filter, chain INPUT, rule 1: unknown match",
        ),
        core(
            "ruleset-unknown-target",
            filter_input(&[rule(&[target(77, &[])])], &[]),
            "table filter, chain INPUT, rule 1: unknown target",
        ),
        core(
            "ruleset-jump-to-missing-chain",
            filter_input(&[rule(&[jump_to("NOWHERE")])], &[]),
            "table filter, chain INPUT, rule 1: jump to a chain that does not exist",
        ),
        core(
            "ruleset-jump-to-builtin",
            filter_input(&[rule(&[jump_to("OUTPUT")])], &[]),
            "table filter, chain INPUT, rule 1: jump to a built-in chain",
        ),
        core(
            "ruleset-chain-loop",
            filter_input(
                &[rule(&[jump_to("a")])],
                &[
                    user("a", &[rule(&[jump_to("b")])]),
                    user("b", &[rule(&[jump_to("a")])]),
                ],
            ),
            "table filter, chain b, rule 1: loop in the chain jumps",
        ),
        core(
            "ruleset-chain-self-loop",
            filter_input(
                &[],
                &[user(
                    "self",
                    &[rule(&[target(
                        proto::TG_GOTO,
                        &[str_attr(proto::JUMP_CHAIN, "self")],
                    )])],
                )],
            ),
            "table filter, chain self, rule 1: loop in the chain jumps",
        ),
        core(
            "ruleset-jumps-too-deep",
            ladder(66),
            "chain jumps nested deeper than 64",
        ),
        core(
            "ruleset-unknown-table-name",
            table("bogus", &[builtin("INPUT", NF_ACCEPT, &[])]),
            "table bogus: unknown table",
        ),
        core("ruleset-empty", Vec::new(), "table name missing"),
        core(
            "ruleset-chain-before-table-name",
            [
                builtin("INPUT", NF_ACCEPT, &[]),
                str_attr(proto::TABLE_NAME, "filter"),
            ]
            .concat(),
            "table name missing",
        ),
        core(
            "ruleset-missing-builtin-chain",
            table(
                "filter",
                &[
                    builtin("INPUT", NF_ACCEPT, &[]),
                    builtin("FORWARD", NF_ACCEPT, &[]),
                ],
            ),
            "table filter, chain OUTPUT: built-in chain missing",
        ),
        core(
            "ruleset-duplicate-chain",
            filter_input(&[], &[user("dup", &[]), user("dup", &[])]),
            "duplicate chain name",
        ),
        core(
            "ruleset-bad-policy",
            table(
                "filter",
                &[
                    builtin("INPUT", 5, &[]),
                    builtin("FORWARD", NF_ACCEPT, &[]),
                    builtin("OUTPUT", NF_ACCEPT, &[]),
                ],
            ),
            "table filter, chain INPUT: policy must be ACCEPT or DROP",
        ),
        core(
            "ruleset-policy-on-user-chain",
            filter_input(
                &[],
                &[nest(
                    proto::TABLE_CHAIN,
                    &[
                        str_attr(proto::CHAIN_NAME, "u"),
                        u32_attr(proto::CHAIN_POLICY, NF_DROP),
                    ],
                )],
            ),
            // The text changed as the protocol grew; the end stayed.
            "on a user-defined chain",
        ),
        core(
            "ruleset-origin-on-user-chain",
            filter_input(
                &[],
                &[nest(
                    proto::TABLE_CHAIN,
                    &[
                        str_attr(proto::CHAIN_NAME, "u"),
                        u32_attr(proto::CHAIN_ORIGIN, 0),
                    ],
                )],
            ),
            "on a user-defined chain",
        ),
        core(
            "ruleset-origin-on-continued-chain",
            table(
                "filter",
                &[
                    builtin("INPUT", NF_ACCEPT, &[]),
                    nest(
                        proto::TABLE_CHAIN,
                        &[
                            str_attr(proto::CHAIN_NAME, "INPUT"),
                            flag_attr(proto::CHAIN_CONTINUED),
                            u32_attr(proto::CHAIN_ORIGIN, 0),
                        ],
                    ),
                    builtin("FORWARD", NF_ACCEPT, &[]),
                    builtin("OUTPUT", NF_ACCEPT, &[]),
                ],
            ),
            "table filter, chain INPUT: continued chain with a policy",
        ),
        core(
            "ruleset-rule-origin-as-u64",
            filter_input(&[rule(&[u64_attr(proto::RULE_ORIGIN, 0)])], &[]),
            "table filter, chain INPUT, rule 1: bad netlink attribute payload size",
        ),
        core(
            "ruleset-chain-name-too-long",
            filter_input(&[], &[user(&"x".repeat(29), &[])]),
            // Cut at 79 bytes after the 29-byte name.
            "chain name empty or longer",
        ),
        core(
            "ruleset-continuation-of-nothing",
            table(
                "filter",
                &[continued("INPUT", &[]), builtin("FORWARD", NF_ACCEPT, &[])],
            ),
            "continued chain does not follow the same chain",
        ),
        core(
            "ruleset-proto-as-u32",
            filter_input(&[rule(&[u32_attr(proto::RULE_PROTO, 6)])], &[]),
            "table filter, chain INPUT, rule 1: bad netlink attribute payload size",
        ),
        core(
            "ruleset-unknown-rule-attr",
            filter_input(&[rule(&[u32_attr(200, 1)])], &[]),
            "table filter, chain INPUT, rule 1: unknown attribute",
        ),
        core(
            "ruleset-address-outside-mask",
            filter_input(
                &[rule(&[
                    attr_be32(proto::RULE_SRC, [10, 1, 2, 3]),
                    attr_be32(proto::RULE_SRC_MASK, [255, 0, 0, 0]),
                ])],
                &[],
            ),
            "table filter, chain INPUT, rule 1: address has bits outside its mask",
        ),
        core(
            "ruleset-tcp-match-without-p-tcp",
            filter_input(&[rule(&[mt(proto::MT_TCP, &[])])], &[]),
            "table filter, chain INPUT, rule 1: match needs its protocol (-p), not inverted",
        ),
        core(
            "ruleset-bad-port-range",
            filter_input(
                &[tcp_rule(mt(
                    proto::MT_TCP,
                    &[u32_attr(proto::TCP_DPORTS, 2000 << 16 | 1000)],
                ))],
                &[],
            ),
            "table filter, chain INPUT, rule 1: port range first above last",
        ),
        core(
            "ruleset-too-many-matches",
            filter_input(
                &[rule(&vec![
                    mt(
                        proto::MT_MARK,
                        &[u32_attr(proto::MARK_VALUE, 1)]
                    );
                    33
                ])],
                &[],
            ),
            "too many matches",
        ),
        core(
            "ruleset-match-overruns-rule",
            filter_input(
                &[rule(&[
                    // A match nest whose header claims 64 bytes with 8 left.
                    crate::wire::attr_with_len(
                        64,
                        proto::RULE_MATCH | rfcore::nla::NLA_F_NESTED,
                        &[0; 4],
                    ),
                ])],
                &[],
            ),
            "table filter, chain INPUT, rule 1: truncated netlink attribute",
        ),
        core(
            "ruleset-chain-attr-overruns-chain",
            table(
                "filter",
                &[nest(
                    proto::TABLE_CHAIN,
                    &[crate::wire::attr_with_len(
                        40,
                        proto::CHAIN_NAME,
                        b"INPUT\0",
                    )],
                )],
            ),
            "table filter: truncated netlink attribute",
        ),
        core(
            "ruleset-in-iface-on-output",
            table_with(
                TableKind::Filter,
                "OUTPUT",
                &[rule(&[str_attr(proto::RULE_IN_IFACE, "eth0")])],
                &[],
            ),
            // The module cuts messages at 79 bytes: the end is lost.
            "table filter, chain OUTPUT, rule 1: -i in a chain reachable from OUTPUT",
        ),
        core(
            "ruleset-snat-without-address",
            table_with(
                TableKind::Nat,
                "POSTROUTING",
                &[rule(&[target(proto::TG_SNAT, &[])])],
                &[],
            ),
            "table nat, chain POSTROUTING, rule 1: SNAT and DNAT need an address to map to",
        ),
        core(
            "ruleset-dnat-at-postrouting",
            table_with(
                TableKind::Nat,
                "POSTROUTING",
                &[rule(&[target(
                    proto::TG_DNAT,
                    &[attr_be32(proto::NAT_MIN_ADDR, [10, 0, 0, 1])],
                )])],
                &[],
            ),
            // The module cuts messages at 79 bytes.
            "table nat, chain POSTROUTING, rule 1: not valid in a chain reachable from",
        ),
        core(
            "ruleset-nat-ports-without-protocol",
            table_with(
                TableKind::Nat,
                "POSTROUTING",
                &[rule(&[target(
                    proto::TG_MASQUERADE,
                    &[u16_attr(proto::NAT_MIN_PORT, 1000)],
                )])],
                &[],
            ),
            "table nat, chain POSTROUTING, rule 1: NAT port range needs -p tcp or -p udp",
        ),
        core(
            "ruleset-masquerade-in-filter",
            table_with(
                TableKind::Filter,
                "FORWARD",
                &[rule(&[target(proto::TG_MASQUERADE, &[])])],
                &[],
            ),
            "table filter, chain FORWARD, rule 1: not valid in this table",
        ),
        core(
            "ruleset-nat-range-down",
            table_with(
                TableKind::Nat,
                "PREROUTING",
                &[rule(&[target(
                    proto::TG_DNAT,
                    &[
                        attr_be32(proto::NAT_MIN_ADDR, [10, 0, 0, 9]),
                        attr_be32(proto::NAT_MAX_ADDR, [10, 0, 0, 1]),
                    ],
                )])],
                &[],
            ),
            "table nat, chain PREROUTING, rule 1: NAT range minimum above maximum, or port 0",
        ),
        core(
            "ruleset-reject-in-raw",
            table_with(
                TableKind::Raw,
                "OUTPUT",
                &[rule(&[target(proto::TG_REJECT, &[])])],
                &[],
            ),
            "table raw, chain OUTPUT, rule 1: not valid in this table",
        ),
        core(
            "ruleset-log-level-8",
            filter_input(
                &[rule(&[target(
                    proto::TG_LOG,
                    &[u8_attr(proto::LOG_LEVEL, 8)],
                )])],
                &[],
            ),
            "log level above 7",
        ),
    ];
    // The raw table case must be a raw transaction.
    for b in &mut v {
        if b.name == "ruleset-reject-in-raw" {
            b.begin = TableKind::Raw;
        }
    }
    // Refused by the module, not the core.
    v.push(BadRuleset {
        name: "ruleset-for-another-table",
        begin: Filter,
        chunks: vec![valid_mangle()],
        errno: einval,
        msg: "rustfilter: the ruleset is for another table than the transaction",
        by_core: false,
    });
    // Two chunks naming different tables: the concatenation is refused.
    v.push(BadRuleset {
        name: "ruleset-chunks-of-two-tables",
        begin: Mangle,
        chunks: vec![
            table_with(TableKind::Mangle, "", &[], &[]),
            str_attr(proto::TABLE_NAME, "filter"),
        ],
        errno: einval,
        msg: "chunks of different tables",
        by_core: true,
    });
    v
}

/// A be32 (address) attribute.
fn attr_be32(kind: u16, a: [u8; 4]) -> Vec<u8> {
    crate::wire::attr(kind, &a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfcore::rules::{decode, measure, Chain, Rule, RuleError, Storage, TableInfo};

    /// Decode with the core, as the module does at commit.
    fn load(input: &[u8]) -> Result<TableInfo, RuleError> {
        let s = measure(input)?;
        let mut chains = vec![Chain::default(); s.chains];
        let mut rules = vec![Rule::default(); s.rules];
        let mut matches = vec![Match::default(); s.matches];
        let t = decode(
            input,
            Storage {
                chains: &mut chains,
                rules: &mut rules,
                matches: &mut matches,
            },
        )?;
        Ok(*t.info())
    }

    #[test]
    fn valid_tables_decode() {
        for kind in [TableKind::Filter, TableKind::Mangle, TableKind::Raw] {
            let info = load(&valid(kind)).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
            assert_eq!(info.kind, kind);
            assert!(info.rules > 0);
        }
        let f = load(&valid_filter()).unwrap();
        assert_eq!((f.chains, f.rules), (4, 7));
        assert_eq!(f.max_depth, 1);
    }

    #[test]
    fn large_filter_is_valid_and_large() {
        let t = large_filter(1 << 20);
        assert!(
            t.len() >= 1 << 20 && t.len() < (1 << 20) + (64 << 10),
            "{}",
            t.len()
        );
        let info = load(&t).unwrap();
        assert_eq!(info.chains, 3);
        assert!(info.rules > 10_000);
        // Small sizes give one nest per chain.
        let small = large_filter(100);
        assert_eq!(load(&small).unwrap().chains, 3);
    }

    #[test]
    fn origins_decode() {
        assert!(load(&filter_with_origins(None, None)).is_ok());
        assert!(load(&filter_with_origins(Some(0xffff), Some(u32::MAX))).is_ok());
    }

    #[test]
    fn ladder_depth() {
        assert_eq!(load(&ladder(64)).unwrap().max_depth, 64);
        assert!(load(&ladder(66)).is_err());
    }

    #[test]
    fn encoded_rules_round_trip() {
        // The encoder writes what the decoder reads back.
        let r = RuleSpec::jump("CHK")
            .proto(6)
            .src([10, 0, 0, 0], [255, 0, 0, 0]);
        let bytes = r.encode();
        let t = filter_input(&[bytes], &[user("CHK", &[])]);
        assert!(load(&t).is_ok());
    }

    #[test]
    fn bad_rulesets_are_refused_by_the_core_as_expected() {
        let all = bad_rulesets();
        let mut names: Vec<_> = all.iter().map(|b| b.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "duplicate case names");
        for b in all {
            let input = b.chunks.concat();
            let res = load(&input);
            if b.by_core {
                let e = res
                    .err()
                    .unwrap_or_else(|| panic!("{}: accepted by the core", b.name));
                // The module sends the message cut at 79 bytes.
                let text = e.to_string();
                let cut = &text[..text.len().min(79)];
                assert!(
                    cut.contains(b.msg),
                    "{}: core says \"{text}\", case expects \"{}\"",
                    b.name,
                    b.msg
                );
            } else if let Ok(info) = res {
                // Valid for the core; the module refuses it for its own reason.
                assert_ne!(info.kind, b.begin, "{}", b.name);
            }
        }
    }
}
