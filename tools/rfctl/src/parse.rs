// SPDX-License-Identifier: GPL-2.0

//! The iptables command line: commands, options and the rule
//! specification with its matches and targets, under iptables 1.8's
//! option names and with its messages. Used for `rfctl -A ...` and for
//! each line of `rfctl restore`.

use rfcore::nat::NatRange;
use rfcore::packet::{IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use rfcore::proto;
use rfcore::rules::matches::{
    addrtype::{self, AddrType},
    connmark::ConnMark,
    conntrack::{AddrMask, Conntrack},
    dscp::Dscp,
    icmp::Icmp,
    iprange::{AddrRange, IpRange},
    length::Length,
    limit::{self, Limit},
    mac::Mac,
    mark::Mark,
    multiport::{self, Multiport},
    rpfilter::RpFilter,
    state::State,
    tcp::Tcp,
    tos::Tos,
    udp::Udp,
    PortRange,
};
use rfcore::rules::table::TableKind;
use rfcore::rules::targets::{
    connmark::{ConnMarkMode, SetConnMark},
    ct::{Ct, CtHelper},
    dscp::SetDscp,
    log::{self, Log},
    mark::SetMark,
    nat::{Dnat, Masquerade, Nat, Redirect, Snat},
    queue::NfQueue,
    reject::{Reject, RejectWith},
    tos::SetTos,
};
use rfcore::rules::{Counters, CtDir, FixedStr, IfaceMatch, Match, Target, MAX_CHAIN_NAME};

use crate::model::RuleSpec;
use crate::names;

/// A parameter problem (iptables' exit status 2), with iptables' text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem(pub String);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type R<T> = Result<T, Problem>;

fn problem<T>(msg: impl Into<String>) -> R<T> {
    Err(Problem(msg.into()))
}

/// What a command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-A chain`.
    Append(String),
    /// `-C chain`.
    Check(String),
    /// `-I chain [n]`, n from 1.
    Insert(String, usize),
    /// `-D chain n`.
    DeleteNum(String, usize),
    /// `-D chain rule-spec`.
    Delete(String),
    /// `-R chain n`.
    Replace(String, usize),
    /// `-L [chain [n]]`, with `-Z`: list and zero.
    List {
        chain: Option<String>,
        num: Option<usize>,
        zero: bool,
    },
    /// `-S [chain [n]]`.
    ListRules {
        chain: Option<String>,
        num: Option<usize>,
    },
    /// `-F [chain]`.
    Flush(Option<String>),
    /// `-Z [chain [n]]`.
    Zero(Option<String>, Option<usize>),
    /// `-N chain`.
    NewChain(String),
    /// `-X [chain]`.
    DeleteChain(Option<String>),
    /// `-E old new`.
    Rename(String, String),
    /// `-P chain policy` (the policy as given: only ACCEPT and DROP
    /// exist, which the table checks as iptables' kernel does).
    Policy(String, String),
    /// `-h`.
    Help,
}

impl Command {
    /// Whether the command takes a rule specification.
    fn takes_rule(&self) -> bool {
        matches!(
            self,
            Command::Append(_)
                | Command::Check(_)
                | Command::Insert(..)
                | Command::Delete(_)
                | Command::Replace(..)
        )
    }

    /// Whether the command only reads.
    pub fn read_only(&self) -> bool {
        matches!(
            self,
            Command::Check(_) | Command::List { zero: false, .. } | Command::ListRules { .. }
        )
    }
}

/// A parsed command line.
#[derive(Clone, Debug)]
pub struct CmdLine {
    /// `-t`.
    pub table: TableKind,
    /// The command.
    pub cmd: Command,
    /// The rule of `-A`, `-I`, `-D`, `-R`, `-C`.
    pub rule: RuleSpec,
    /// `-n`.
    pub numeric: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-x`.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
    /// `-c p b` was given.
    pub counters: bool,
}

/// Letters of the commands, for "Cannot use -X with -Y".
fn cmd_letter(c: &Command) -> char {
    match c {
        Command::Append(_) => 'A',
        Command::Check(_) => 'C',
        Command::Insert(..) => 'I',
        Command::DeleteNum(..) | Command::Delete(_) => 'D',
        Command::Replace(..) => 'R',
        Command::List { .. } => 'L',
        Command::ListRules { .. } => 'S',
        Command::Flush(_) => 'F',
        Command::Zero(..) => 'Z',
        Command::NewChain(_) => 'N',
        Command::DeleteChain(_) => 'X',
        Command::Rename(..) => 'E',
        Command::Policy(..) => 'P',
        Command::Help => 'h',
    }
}

/// The words of a command line, with the position of the next.
struct Args<'a> {
    v: &'a [String],
    i: usize,
}

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let a = self.v.get(self.i)?;
        self.i += 1;
        Some(a.as_str())
    }

    /// The argument of option `opt`.
    fn value(&mut self, opt: &str) -> R<&'a str> {
        match self.next() {
            Some(a) => Ok(a),
            None => problem(format!("option \"{opt}\" requires an argument")),
        }
    }

    /// An optional argument: the next word if it does not start with `-`
    /// or `!`.
    fn optional(&mut self) -> Option<&'a str> {
        let a = self.v.get(self.i)?;
        if a.starts_with('-') || a.starts_with('!') {
            return None;
        }
        self.i += 1;
        Some(a.as_str())
    }
}

/// A chain name as a command argument.
fn chain_arg(name: &str) -> R<String> {
    if name.len() > MAX_CHAIN_NAME {
        return problem(format!(
            "chain name `{name}' too long (must be under {} chars)",
            MAX_CHAIN_NAME + 1
        ));
    }
    Ok(name.to_string())
}

/// A rule number (from 1).
fn rule_num(s: &str) -> R<usize> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => problem(format!("Invalid rule number `{s}'")),
    }
}

/// Integer in C `strtoul(.., 0)` style: decimal, `0x` hex, `0` octal.
pub fn parse_uint(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn uint_max(s: &str, max: u64) -> Option<u64> {
    parse_uint(s).filter(|&v| v <= max)
}

/// `a.b.c.d`.
pub fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (o, p) in out.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(out)
}

/// `-s`/`-d`: `addr[/mask]`, mask a prefix length or dotted; the
/// address is masked as iptables does.
fn parse_addr_mask(s: &str) -> R<([u8; 4], [u8; 4])> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let Some(addr) = parse_ipv4(a) else {
        return problem(format!("host/network `{a}' not found"));
    };
    let mask = match m {
        None => [255; 4],
        Some(m) => {
            if let Some(d) = parse_ipv4(m) {
                d
            } else {
                match m.parse::<u32>() {
                    Ok(n) if n <= 32 && !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()) => {
                        let v = if n == 0 { 0 } else { u32::MAX << (32 - n) };
                        v.to_be_bytes()
                    }
                    _ => return problem(format!("invalid mask `{m}' specified")),
                }
            }
        }
    };
    let addr = [
        addr[0] & mask[0],
        addr[1] & mask[1],
        addr[2] & mask[2],
        addr[3] & mask[3],
    ];
    Ok((addr, mask))
}

fn parse_iface(s: &str) -> R<IfaceMatch> {
    if s.len() > rfcore::rules::MAX_IFNAME {
        return problem(format!(
            "interface name `{s}' must be shorter than IFNAMSIZ ({})",
            rfcore::rules::MAX_IFNAME
        ));
    }
    IfaceMatch::parse(s)
        .or_else(|_| problem(format!("Warning: weird character in interface `{s}'")))
}

/// `-p`: a name, a number or `all`.
pub fn parse_proto(s: &str) -> R<u8> {
    let s = s.to_ascii_lowercase();
    if s == "all" {
        return Ok(0);
    }
    if let Some(n) = uint_max(&s, 255) {
        return Ok(n as u8);
    }
    names::proto_number(&s).map_or_else(
        || problem(format!("unknown protocol \"{s}\" specified")),
        Ok,
    )
}

/// One port: a number or a service name.
fn parse_port(s: &str, proto: &str) -> R<u16> {
    if let Some(p) = uint_max(s, 65535) {
        return Ok(p as u16);
    }
    if let Some(p) = names::service_port(s, proto) {
        return Ok(p);
    }
    problem(format!("invalid port/service `{s}' specified"))
}

/// `a`, `a:b`, `:b`, `a:`.
fn parse_port_range(s: &str, proto: &str) -> R<PortRange> {
    let r = match s.split_once(':') {
        None => PortRange::single(parse_port(s, proto)?),
        Some((a, b)) => PortRange {
            first: if a.is_empty() {
                0
            } else {
                parse_port(a, proto)?
            },
            last: if b.is_empty() {
                65535
            } else {
                parse_port(b, proto)?
            },
        },
    };
    if r.first > r.last {
        return problem("invalid portrange (min > max)");
    }
    Ok(r)
}

fn parse_tcp_flags(s: &str) -> R<u8> {
    let mut v = 0u8;
    for f in s.split(',') {
        match names::TCP_FLAGS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(f))
        {
            Some((_, b)) => v |= b,
            None => return problem(format!("Unknown TCP flag `{f}'")),
        }
    }
    Ok(v)
}

fn parse_icmp_type(s: &str) -> R<(u8, u8, u8)> {
    let exact = names::ICMP_NAMES
        .iter()
        .find(|n| n.name.eq_ignore_ascii_case(s));
    let found = exact.or_else(|| {
        let hits: Vec<_> = names::ICMP_NAMES
            .iter()
            .filter(|n| n.name.len() >= s.len() && n.name[..s.len()].eq_ignore_ascii_case(s))
            .collect();
        (hits.len() == 1 && !s.is_empty()).then(|| hits[0])
    });
    if let Some(n) = found {
        return Ok((n.icmp_type, n.code_min, n.code_max));
    }
    let (t, c) = match s.split_once('/') {
        Some((t, c)) => (t, Some(c)),
        None => (s, None),
    };
    let bad = || problem(format!("Unknown ICMP type `{s}'"));
    let Some(t) = uint_max(t, 255) else {
        return bad();
    };
    match c {
        None => Ok((t as u8, 0, 0xff)),
        Some(c) => match uint_max(c, 255) {
            Some(c) => Ok((t as u8, c as u8, c as u8)),
            None => problem(format!("Invalid ICMP code `{c}'")),
        },
    }
}

/// `value[/mask]` for mark-like options; `max` bounds both.
fn parse_value_mask(s: &str, max: u64) -> Option<(u64, Option<u64>)> {
    match s.split_once('/') {
        Some((v, m)) => Some((uint_max(v, max)?, Some(uint_max(m, max)?))),
        None => Some((uint_max(s, max)?, None)),
    }
}

/// `--tos`: a name (mask 0x3f) or `value[/mask]` (mask 0xff).
fn parse_tos(s: &str) -> R<(u8, u8)> {
    if let Some((v, m)) = parse_value_mask(s, 255) {
        return Ok((v as u8, m.unwrap_or(0xff) as u8));
    }
    match names::TOS_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
    {
        Some((_, v)) => Ok((*v, 0x3f)),
        None => problem(format!("Symbolic name \"{s}\" is unknown")),
    }
}

fn parse_dscp_class(s: &str, mt: &str, opt: &str) -> R<u8> {
    match names::DSCP_CLASSES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
    {
        Some((_, v)) => Ok(*v),
        None => problem(format!(
            "{mt}: bad value for option \"{opt}\", or out of range (0-63)."
        )),
    }
}

/// `--limit`: `N[/second|minute|hour|day]` (any prefix of the unit).
fn parse_rate(s: &str) -> R<u32> {
    let bad = || problem(format!("bad rate \"{s}\"'"));
    let (n, unit) = match s.split_once('/') {
        Some((n, u)) => (n, Some(u)),
        None => (s, None),
    };
    let mult: u64 = match unit {
        None => 1,
        Some(u) => {
            let is = |word: &str| {
                !u.is_empty() && word.len() >= u.len() && word[..u.len()].eq_ignore_ascii_case(u)
            };
            if is("second") {
                1
            } else if is("minute") {
                60
            } else if is("hour") {
                3600
            } else if is("day") {
                86400
            } else {
                return bad();
            }
        }
    };
    let r: u64 = match n.parse() {
        Ok(r) if r > 0 => r,
        _ => return bad(),
    };
    let avg = u64::from(proto::LIMIT_SCALE) * mult / r;
    if avg == 0 {
        return problem(format!("Rate too fast \"{s}\""));
    }
    u32::try_from(avg).or_else(|_| bad())
}

fn parse_mac(s: &str) -> R<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut out = [0u8; 6];
    if parts.len() != 6 {
        return problem("Invalid MAC address specified.");
    }
    for (o, p) in out.iter_mut().zip(parts) {
        match u8::from_str_radix(p, 16) {
            Ok(v) if !p.is_empty() && p.len() <= 2 => *o = v,
            _ => return problem("Invalid MAC address specified."),
        }
    }
    Ok(out)
}

fn parse_ip_range(s: &str) -> R<AddrRange> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let bad = |x: &str| problem(format!("iprange match: Bad IP address \"{x}\""));
    let Some(first) = parse_ipv4(a) else {
        return bad(a);
    };
    let Some(last) = parse_ipv4(b) else {
        return bad(b);
    };
    Ok(AddrRange { first, last })
}

fn parse_addrtypes(s: &str) -> R<u16> {
    let mut m = 0u16;
    for t in s.split(',') {
        match addrtype::TYPE_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(t))
        {
            Some(k) => m |= 1 << k,
            None => return problem(format!("addrtype: bad type \"{t}\"")),
        }
    }
    Ok(m)
}

/// Matches rfctl knows the name of but the core does not implement.
const UNSUPPORTED_HINT: &str = "not supported by rustfilter";

/// The match `-m name` starts with.
fn new_match(name: &str) -> R<Match> {
    Ok(match name {
        "tcp" => Match::Tcp(Tcp::default()),
        "udp" => Match::Udp(Udp::default()),
        "icmp" => Match::Icmp(Icmp::default()),
        "multiport" => Match::Multiport(Multiport::default()),
        "mac" => Match::Mac(Mac::default()),
        "mark" => Match::Mark(Mark::default()),
        "tos" => Match::Tos(Tos::default()),
        "dscp" => Match::Dscp(Dscp::default()),
        "length" => Match::Length(Length::default()),
        "limit" => Match::Limit(Limit::default()),
        "iprange" => Match::IpRange(IpRange::default()),
        "addrtype" => Match::AddrType(AddrType::default()),
        "rpfilter" => Match::RpFilter(RpFilter::default()),
        "conntrack" => Match::Conntrack(Conntrack::default()),
        "state" => Match::State(State::default()),
        "connmark" => Match::ConnMark(ConnMark::default()),
        _ => return problem(format!("Couldn't load match `{name}': {UNSUPPORTED_HINT}")),
    })
}

/// The iptables name of a match.
pub fn match_name(m: &Match) -> &'static str {
    match m {
        Match::Unused => "",
        Match::Tcp(_) => "tcp",
        Match::Udp(_) => "udp",
        Match::Icmp(_) => "icmp",
        Match::Multiport(_) => "multiport",
        Match::Mac(_) => "mac",
        Match::Mark(_) => "mark",
        Match::Tos(_) => "tos",
        Match::Dscp(_) => "dscp",
        Match::Length(_) => "length",
        Match::Limit(_) => "limit",
        Match::IpRange(_) => "iprange",
        Match::AddrType(_) => "addrtype",
        Match::RpFilter(_) => "rpfilter",
        Match::Conntrack(_) => "conntrack",
        Match::State(_) => "state",
        Match::ConnMark(_) => "connmark",
    }
}

/// A match being parsed: which options it has seen.
struct PendingMatch {
    m: Match,
    seen: Vec<&'static str>,
    /// For multiport: its ports, parsed once `-p` is known.
    multiport_list: Option<String>,
    /// Given as `-m name` rather than loaded by `-p`.
    explicit: bool,
}

/// A target being parsed.
struct PendingTarget {
    t: Target,
    seen: Vec<&'static str>,
}

/// The options of `m`: name, whether it takes an argument, whether `!`
/// may precede it.
fn match_options(m: &Match) -> &'static [(&'static str, bool, bool)] {
    match m {
        Match::Tcp(_) => &[
            ("--sport", true, true),
            ("--source-port", true, true),
            ("--dport", true, true),
            ("--destination-port", true, true),
            ("--tcp-flags", true, true),
            ("--syn", false, true),
        ],
        Match::Udp(_) => &[
            ("--sport", true, true),
            ("--source-port", true, true),
            ("--dport", true, true),
            ("--destination-port", true, true),
        ],
        Match::Icmp(_) => &[("--icmp-type", true, true)],
        Match::Multiport(_) => &[
            ("--sports", true, true),
            ("--source-ports", true, true),
            ("--dports", true, true),
            ("--destination-ports", true, true),
            ("--ports", true, true),
        ],
        Match::Mac(_) => &[("--mac-source", true, true)],
        Match::Mark(_) => &[("--mark", true, true)],
        Match::Tos(_) => &[("--tos", true, true)],
        Match::Dscp(_) => &[("--dscp", true, true), ("--dscp-class", true, true)],
        Match::Length(_) => &[("--length", true, true)],
        Match::Limit(_) => &[("--limit", true, false), ("--limit-burst", true, false)],
        Match::IpRange(_) => &[("--src-range", true, true), ("--dst-range", true, true)],
        Match::AddrType(_) => &[
            ("--src-type", true, true),
            ("--dst-type", true, true),
            ("--limit-iface-in", false, false),
            ("--limit-iface-out", false, false),
        ],
        Match::RpFilter(_) => &[
            ("--loose", false, false),
            ("--validmark", false, false),
            ("--accept-local", false, false),
            ("--invert", false, false),
        ],
        Match::Conntrack(_) => &[
            ("--ctstate", true, true),
            ("--ctproto", true, true),
            ("--ctorigsrc", true, true),
            ("--ctorigdst", true, true),
            ("--ctreplsrc", true, true),
            ("--ctrepldst", true, true),
            ("--ctorigsrcport", true, true),
            ("--ctorigdstport", true, true),
            ("--ctreplsrcport", true, true),
            ("--ctrepldstport", true, true),
            ("--ctstatus", true, true),
            ("--ctexpire", true, true),
            ("--ctdir", true, false),
        ],
        Match::State(_) => &[("--state", true, true)],
        Match::ConnMark(_) => &[("--mark", true, true)],
        Match::Unused => &[],
    }
}

/// Canonical option name (long aliases to the short one).
fn canon(opt: &'static str) -> &'static str {
    match opt {
        "--source-port" => "--sport",
        "--destination-port" => "--dport",
        "--source-ports" => "--sports",
        "--destination-ports" => "--dports",
        o => o,
    }
}

fn once(seen: &mut Vec<&'static str>, mt: &str, opt: &'static str) -> R<()> {
    if seen.contains(&opt) {
        return problem(format!("{mt}: option \"{opt}\" can only be used once."));
    }
    seen.push(opt);
    Ok(())
}

fn proto_word(p: u8) -> &'static str {
    match p {
        IPPROTO_UDP => "udp",
        _ => "tcp",
    }
}

/// Apply option `opt` with `arg` (and `arg2` for `--tcp-flags`) to `pm`.
fn match_option(
    pm: &mut PendingMatch,
    opt: &'static str,
    inv: bool,
    arg: Option<&str>,
    arg2: Option<&str>,
    rule_proto: u8,
) -> R<()> {
    let name = match_name(&pm.m);
    let opt = canon(opt);
    let a = arg.unwrap_or("");
    // Options of the same kind ("--sports"/"--dports"/"--ports") exclude
    // each other in multiport; others may appear once.
    if let Match::Multiport(_) = pm.m {
        if !pm.seen.is_empty() {
            return problem("multiport can only have one option");
        }
    }
    once(&mut pm.seen, name, opt)?;
    match &mut pm.m {
        Match::Tcp(t) => match opt {
            "--sport" => {
                t.sports = parse_port_range(a, "tcp")?;
                if inv {
                    t.invert |= proto::TCP_INV_SPORTS as u8;
                }
            }
            "--dport" => {
                t.dports = parse_port_range(a, "tcp")?;
                if inv {
                    t.invert |= proto::TCP_INV_DPORTS as u8;
                }
            }
            "--tcp-flags" | "--syn" => {
                if pm.seen.contains(&"--syn") && pm.seen.contains(&"--tcp-flags") {
                    return problem("Only one of `--syn' or `--tcp-flags'  allowed");
                }
                if opt == "--syn" {
                    t.flags_mask = Tcp::SYN_MASK;
                    t.flags_comp = Tcp::SYN_COMP;
                } else {
                    let Some(b) = arg2 else {
                        return problem("--tcp-flags requires two args.");
                    };
                    t.flags_mask = parse_tcp_flags(a)?;
                    t.flags_comp = parse_tcp_flags(b)?;
                }
                if inv {
                    t.invert |= proto::TCP_INV_FLAGS as u8;
                }
            }
            _ => unreachable!(),
        },
        Match::Udp(u) => {
            let r = parse_port_range(a, "udp")?;
            if opt == "--sport" {
                u.sports = r;
                if inv {
                    u.invert |= proto::TCP_INV_SPORTS as u8;
                }
            } else {
                u.dports = r;
                if inv {
                    u.invert |= proto::TCP_INV_DPORTS as u8;
                }
            }
        }
        Match::Icmp(i) => {
            let (t, lo, hi) = parse_icmp_type(a)?;
            *i = Icmp {
                icmp_type: t,
                code_min: lo,
                code_max: hi,
                invert: inv,
            };
        }
        Match::Multiport(m) => {
            m.mode = match opt {
                "--sports" => proto::MULTIPORT_SOURCE,
                "--dports" => proto::MULTIPORT_DESTINATION,
                _ => proto::MULTIPORT_EITHER,
            };
            m.invert = inv;
            pm.multiport_list = Some(a.to_string());
            let _ = rule_proto;
        }
        Match::Mac(m) => {
            m.source = parse_mac(a)?;
            m.invert = inv;
        }
        Match::Mark(m) => {
            let Some((v, mask)) = parse_value_mask(a, u64::from(u32::MAX)) else {
                return problem("mark: bad integer value for option \"--mark\", or out of range.");
            };
            *m = Mark {
                value: v as u32,
                mask: mask.unwrap_or(u64::from(u32::MAX)) as u32,
                invert: inv,
            };
        }
        Match::Tos(t) => {
            let (v, m) = parse_tos(a)?;
            *t = Tos {
                value: v,
                mask: m,
                invert: inv,
            };
        }
        Match::Dscp(d) => {
            if pm.seen.len() > 1 {
                return problem("DSCP match: Only use --dscp ONCE!");
            }
            d.value = if opt == "--dscp" {
                match uint_max(a, 63) {
                    Some(v) => v as u8,
                    None => {
                        return problem(
                            "dscp: bad value for option \"--dscp\", or out of range (0-63).",
                        )
                    }
                }
            } else {
                parse_dscp_class(a, "dscp", "--dscp-class")?
            };
            d.invert = inv;
        }
        Match::Length(l) => {
            let bad = || problem("length: bad value for option \"--length\", or out of range.");
            let (lo, hi) = match a.split_once(':') {
                Some((x, y)) => (
                    if x.is_empty() {
                        Some(0)
                    } else {
                        uint_max(x, 65535)
                    },
                    if y.is_empty() {
                        Some(65535)
                    } else {
                        uint_max(y, 65535)
                    },
                ),
                None => (uint_max(a, 65535), uint_max(a, 65535)),
            };
            let (Some(lo), Some(hi)) = (lo, hi) else {
                return bad();
            };
            *l = Length {
                min: lo as u16,
                max: hi as u16,
                invert: inv,
            };
        }
        Match::Limit(l) => {
            if opt == "--limit" {
                l.avg = parse_rate(a)?;
            } else {
                match uint_max(a, u64::from(limit::MAX_BURST)) {
                    Some(b) => l.burst = b as u32,
                    None => {
                        return problem(format!(
                        "limit: bad value for option \"--limit-burst\", or out of range (0-{}).",
                        limit::MAX_BURST
                    ))
                    }
                }
            }
        }
        Match::IpRange(r) => {
            let range = parse_ip_range(a)?;
            if opt == "--src-range" {
                r.src = Some(range);
                if inv {
                    r.invert |= proto::IPRANGE_INV_SRC as u8;
                }
            } else {
                r.dst = Some(range);
                if inv {
                    r.invert |= proto::IPRANGE_INV_DST as u8;
                }
            }
        }
        Match::AddrType(t) => match opt {
            "--src-type" => {
                t.src = parse_addrtypes(a)?;
                if inv {
                    t.flags |= proto::ADDRTYPE_F_INVERT_SRC as u8;
                }
            }
            "--dst-type" => {
                t.dst = parse_addrtypes(a)?;
                if inv {
                    t.flags |= proto::ADDRTYPE_F_INVERT_DST as u8;
                }
            }
            "--limit-iface-in" => t.flags |= proto::ADDRTYPE_F_LIMIT_IFACE_IN as u8,
            _ => t.flags |= proto::ADDRTYPE_F_LIMIT_IFACE_OUT as u8,
        },
        Match::RpFilter(r) => {
            r.flags |= match opt {
                "--loose" => proto::RPFILTER_F_LOOSE,
                "--validmark" => proto::RPFILTER_F_VALID_MARK,
                "--accept-local" => proto::RPFILTER_F_ACCEPT_LOCAL,
                _ => proto::RPFILTER_F_INVERT,
            } as u8;
        }
        Match::Conntrack(c) => conntrack_option(c, opt, inv, a)?,
        Match::State(st) => {
            st.mask = parse_state_list(a)? as u16;
            st.invert = inv;
        }
        Match::ConnMark(m) => {
            let Some((v, mask)) = parse_value_mask(a, u64::from(u32::MAX)) else {
                return problem(
                    "connmark: bad integer value for option \"--mark\", or out of range.",
                );
            };
            *m = ConnMark {
                value: v as u32,
                mask: mask.unwrap_or(u64::from(u32::MAX)) as u32,
                invert: inv,
            };
        }
        Match::Unused => {}
    }
    Ok(())
}

/// The `--ctstate` names in `libxt_conntrack.c`'s order of trial, and
/// their bits; `--state` takes the first five.
const CT_STATES: [(&str, u32); 7] = [
    ("INVALID", proto::CTSTATE_INVALID),
    ("NEW", proto::CTSTATE_NEW),
    ("ESTABLISHED", proto::CTSTATE_ESTABLISHED),
    ("RELATED", proto::CTSTATE_RELATED),
    ("UNTRACKED", proto::CTSTATE_UNTRACKED),
    ("SNAT", proto::CTSTATE_SNAT),
    ("DNAT", proto::CTSTATE_DNAT),
];

/// The `--ctstatus` names, in order of trial; NONE is no bit.
const CT_STATUSES: [(&str, u32); 5] = [
    ("NONE", 0),
    ("EXPECTED", proto::CTSTATUS_EXPECTED),
    ("SEEN_REPLY", proto::CTSTATUS_SEEN_REPLY),
    ("ASSURED", proto::CTSTATUS_ASSURED),
    ("CONFIRMED", proto::CTSTATUS_CONFIRMED),
];

/// The bit of the first name `word` is a prefix of, case aside
/// (`strncasecmp(word, name, strlen(word))`); `word` is not empty.
fn name_prefix(word: &str, names: &[(&str, u32)]) -> Option<u32> {
    names
        .iter()
        .find(|(n, _)| n.len() >= word.len() && n[..word.len()].eq_ignore_ascii_case(word))
        .map(|&(_, b)| b)
}

/// A comma list of names as `conntrack_ps_states` reads it: a bad
/// element is reported with the rest of the list from it on.
fn parse_name_list(arg: &str, names: &[(&str, u32)], what: &str) -> R<u32> {
    let mut mask = 0;
    let mut rest = arg;
    loop {
        let (word, more) = match rest.split_once(',') {
            Some((w, m)) => (w, Some(m)),
            None => (rest, None),
        };
        match (word.is_empty(), name_prefix(word, names)) {
            (false, Some(b)) => mask |= b,
            _ => return problem(format!("Bad {what} \"{rest}\"")),
        }
        match more {
            Some(m) => rest = m,
            None => return Ok(mask),
        }
    }
}

/// `--state`: as `--ctstate` without SNAT and DNAT, and its own message
/// for an empty last element.
fn parse_state_list(arg: &str) -> R<u32> {
    if arg.is_empty() || arg.ends_with(',') {
        return problem(
            "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED",
        );
    }
    parse_name_list(arg, &CT_STATES[..5], "state")
}

/// `--ctorigsrc` and the like: `addr[/mask]`, the mask a prefix length
/// or a dotted netmask; unlike `-s`, the address keeps the bits outside
/// the mask, as iptables keeps them.
fn parse_ct_addr(s: &str, opt: &str) -> R<AddrMask> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let Some(addr) = parse_ipv4(a) else {
        return problem(format!("host/network `{a}' not found"));
    };
    let bad = || {
        problem(format!(
            "conntrack: bad value for option \"{opt}\", neither a valid network mask nor valid CIDR (0-32)."
        ))
    };
    // The length is read as strtoul(.., 0) reads it, then as a dotted
    // mask, which must be a prefix: iptables turns any other into a mask
    // it does not print.
    let mask = match m {
        None => [255; 4],
        Some(m) => match (parse_uint(m), parse_ipv4(m)) {
            (Some(0), _) => [0; 4],
            (Some(n @ 1..=32), _) => (u32::MAX << (32 - n)).to_be_bytes(),
            (_, Some(d))
                if u32::from_be_bytes(d).leading_ones() == u32::from_be_bytes(d).count_ones() =>
            {
                d
            }
            _ => return bad(),
        },
    };
    Ok(AddrMask { addr, mask })
}

/// One port of `--ctorigsrcport` and the like, as `getaddrinfo` reads a
/// service: a decimal number (taken modulo 65536) or a service name.
fn parse_ct_port(s: &str) -> R<u16> {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        let n = s.parse::<u64>().unwrap_or(u64::MAX);
        return Ok(n as u16);
    }
    match names::service_port(s, "tcp").or_else(|| names::service_port(s, "udp")) {
        Some(p) => Ok(p),
        None => problem(format!("Port \"{s}\" does not resolve to anything.")),
    }
}

/// Split `min[:max]` as the xtables range types do: at most two
/// components, either may be empty.
fn range_parts<'a>(s: &'a str, opt: &str) -> R<(&'a str, Option<&'a str>)> {
    let mut parts = s.split(':');
    let first = parts.next().unwrap_or("");
    let second = parts.next();
    if parts.next().is_some() {
        return problem(format!(
            "conntrack: Too many components for option \"{opt}\" (max: 2)"
        ));
    }
    Ok((first, second))
}

/// `port[:port]`: a missing first port is 0, a missing last 65535; one
/// port is a range of one. First may exceed last, as in iptables.
fn parse_ct_ports(s: &str, opt: &str) -> R<PortRange> {
    let (a, b) = range_parts(s, opt)?;
    let port = |p: &str, dflt: u16| {
        if p.is_empty() {
            Ok(dflt)
        } else {
            parse_ct_port(p)
        }
    };
    let first = port(a, 0)?;
    let last = match b {
        None => first,
        Some(b) => port(b, u16::MAX)?,
    };
    Ok(PortRange { first, last })
}

/// `--ctexpire min[:max]` (`strtoul` numbers); max may be below min.
fn parse_ct_expire(s: &str) -> R<(u32, u32)> {
    let (a, b) = range_parts(s, "--ctexpire")?;
    let num = |p: &str, dflt: u32| -> R<u32> {
        if p.is_empty() {
            return Ok(dflt);
        }
        match uint_max(p, u64::from(u32::MAX)) {
            Some(v) => Ok(v as u32),
            None => problem(format!(
                "conntrack: bad value for option \"--ctexpire\" near \"{p}\", or out of range (0-4294967295)."
            )),
        }
    };
    let min = num(a, 0)?;
    let max = match b {
        None => min,
        Some(b) => num(b, u32::MAX)?,
    };
    Ok((min, max))
}

/// One option of `-m conntrack`.
fn conntrack_option(c: &mut Conntrack, opt: &str, inv: bool, a: &str) -> R<()> {
    let f = match opt {
        "--ctstate" => {
            c.state = parse_name_list(a, &CT_STATES, "ctstate")? as u16;
            proto::CONNTRACK_F_STATE
        }
        "--ctproto" => {
            c.proto = parse_proto(a)?;
            proto::CONNTRACK_F_PROTO
        }
        "--ctorigsrc" => {
            c.orig_src = parse_ct_addr(a, opt)?;
            proto::CONNTRACK_F_ORIGSRC
        }
        "--ctorigdst" => {
            c.orig_dst = parse_ct_addr(a, opt)?;
            proto::CONNTRACK_F_ORIGDST
        }
        "--ctreplsrc" => {
            c.repl_src = parse_ct_addr(a, opt)?;
            proto::CONNTRACK_F_REPLSRC
        }
        "--ctrepldst" => {
            c.repl_dst = parse_ct_addr(a, opt)?;
            proto::CONNTRACK_F_REPLDST
        }
        "--ctorigsrcport" => {
            c.orig_sport = parse_ct_ports(a, opt)?;
            proto::CONNTRACK_F_ORIGSRC_PORT
        }
        "--ctorigdstport" => {
            c.orig_dport = parse_ct_ports(a, opt)?;
            proto::CONNTRACK_F_ORIGDST_PORT
        }
        "--ctreplsrcport" => {
            c.repl_sport = parse_ct_ports(a, opt)?;
            proto::CONNTRACK_F_REPLSRC_PORT
        }
        "--ctrepldstport" => {
            c.repl_dport = parse_ct_ports(a, opt)?;
            proto::CONNTRACK_F_REPLDST_PORT
        }
        "--ctstatus" => {
            c.status = parse_name_list(a, &CT_STATUSES, "ctstatus")? as u8;
            proto::CONNTRACK_F_STATUS
        }
        "--ctexpire" => {
            (c.expires_min, c.expires_max) = parse_ct_expire(a)?;
            proto::CONNTRACK_F_EXPIRES
        }
        _ => {
            c.dir = if a.eq_ignore_ascii_case("ORIGINAL") {
                CtDir::Original
            } else if a.eq_ignore_ascii_case("REPLY") {
                CtDir::Reply
            } else {
                return problem(format!(
                    "conntrack: Bad value for \"--ctdir\" option: \"{a}\""
                ));
            };
            proto::CONNTRACK_F_DIRECTION
        }
    };
    c.flags |= f as u16;
    if inv {
        c.invert |= f as u16;
    }
    Ok(())
}

/// The checks iptables makes once the whole rule is read.
fn finish_match(pm: &mut PendingMatch, rule_proto: u8, proto_inv: bool) -> R<()> {
    match &mut pm.m {
        Match::Multiport(m) => {
            let tcp_or_udp = (rule_proto == IPPROTO_TCP || rule_proto == IPPROTO_UDP) && !proto_inv;
            if !tcp_or_udp {
                return problem("multiport needs `-p tcp' or `-p udp'");
            }
            let Some(list) = pm.multiport_list.take() else {
                return problem("multiport expection an option");
            };
            let mut slots = 0;
            let mut count = 0usize;
            for p in list.split(',') {
                let r = parse_port_range(p, proto_word(rule_proto))?;
                slots += if r.first == r.last { 1 } else { 2 };
                if slots > multiport::MAX_PORTS || count >= multiport::MAX_PORTS {
                    return problem("too many ports specified");
                }
                m.ranges[count] = r;
                count += 1;
            }
            m.count = count as u8;
        }
        Match::Icmp(_) if !pm.seen.contains(&"--icmp-type") && pm.explicit => {
            // `-m icmp` alone matches any type, as iptables.
        }
        Match::Mac(_) if pm.seen.is_empty() => {
            return problem("mac: option \"--mac-source\" must be specified")
        }
        Match::Mark(_) if pm.seen.is_empty() => {
            return problem("mark: option \"--mark\" must be specified")
        }
        Match::Tos(_) if pm.seen.is_empty() => {
            return problem("tos: option \"--tos\" must be specified")
        }
        Match::Dscp(_) if pm.seen.is_empty() => {
            return problem("DSCP match: Parameter --dscp is required")
        }
        Match::Length(_) if pm.seen.is_empty() => {
            return problem("length: option \"--length\" must be specified")
        }
        Match::IpRange(_) if pm.seen.is_empty() => {
            return problem("iprange match: You must specify `--src-range' or `--dst-range'")
        }
        Match::AddrType(t) => {
            if t.flags & proto::ADDRTYPE_F_LIMIT_IFACE_IN as u8 != 0
                && t.flags & proto::ADDRTYPE_F_LIMIT_IFACE_OUT as u8 != 0
            {
                return problem(
                    "addrtype: you can't specify both --limit-iface-in and --limit-iface-out",
                );
            }
            if t.src == 0 && t.dst == 0 {
                return problem("addrtype: you must specify --src-type or --dst-type");
            }
        }
        Match::Conntrack(_) if pm.seen.is_empty() => {
            return problem("conntrack: At least one option is required")
        }
        Match::State(_) if pm.seen.is_empty() => {
            return problem("state: option \"--state\" must be specified")
        }
        Match::ConnMark(_) if pm.seen.is_empty() => {
            return problem("connmark: option \"--mark\" must be specified")
        }
        _ => {}
    }
    Ok(())
}

/// The options of target `t`.
fn target_options(t: &Target) -> &'static [(&'static str, bool)] {
    match t {
        Target::Reject(_) => &[("--reject-with", true)],
        Target::Log(_) => &[
            ("--log-prefix", true),
            ("--log-level", true),
            ("--log-tcp-sequence", false),
            ("--log-tcp-options", false),
            ("--log-ip-options", false),
            ("--log-uid", false),
            ("--log-macdecode", false),
        ],
        Target::Mark(_) => &[
            ("--set-mark", true),
            ("--set-xmark", true),
            ("--and-mark", true),
            ("--or-mark", true),
            ("--xor-mark", true),
        ],
        Target::Tos(_) => &[
            ("--set-tos", true),
            ("--and-tos", true),
            ("--or-tos", true),
            ("--xor-tos", true),
        ],
        Target::Dscp(_) => &[("--set-dscp", true), ("--set-dscp-class", true)],
        Target::Ct(c) if c.is_notrack_alias() => &[],
        Target::Ct(_) => &[("--notrack", false), ("--helper", true)],
        Target::ConnMark(_) => &CONNMARK_OPTIONS,
        // As iptables 1.8 has them: DNAT has no --random-fully, REDIRECT
        // and MASQUERADE no --persistent.
        Target::Snat(_) => &[
            ("--to-source", true),
            ("--random", false),
            ("--random-fully", false),
            ("--persistent", false),
        ],
        Target::Dnat(_) => &[
            ("--to-destination", true),
            ("--random", false),
            ("--persistent", false),
        ],
        Target::Masquerade(_) => &[
            ("--to-ports", true),
            ("--random", false),
            ("--random-fully", false),
        ],
        Target::Redirect(_) => &[("--to-ports", true), ("--random", false)],
        // libxt_NFQUEUE.c's table order, which its final checks follow.
        Target::NfQueue(_) => &NFQUEUE_OPTIONS,
        _ => &[],
    }
}

/// The options of NFQUEUE (revision 3), in `libxt_NFQUEUE.c`'s order.
const NFQUEUE_OPTIONS: [(&str, bool); 4] = [
    ("--queue-num", true),
    ("--queue-balance", true),
    ("--queue-bypass", false),
    ("--queue-cpu-fanout", false),
];

/// `xtables_strtoul(s, &end, .., 0, max)`: C's `strtoumax(s, &end, 0)`
/// (leading white space, a `+`, `0x` hex or `0` octal) refusing a minus
/// sign, no digits at all, and values above `max`; the value and the rest
/// of `s` after the number.
fn xt_strtoul(s: &str, max: u64) -> Option<(u64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.starts_with('-') {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (digits, radix) = match hex {
        Some(h) => (h, 16),
        None if t.starts_with('0') => (t, 8),
        None => (t, 10),
    };
    let n = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if n == 0 {
        return None;
    }
    let v = u64::from_str_radix(&digits[..n], radix).ok()?;
    (v <= max).then_some((v, &digits[n..]))
}

/// `--queue-balance first:last` as `xtopt_parse_mint` reads a `UINT16RC`
/// (an empty first is 0, an empty last 65535) and `NFQUEUE_parse_v3`
/// checks it: the first queue and how many.
fn parse_queue_balance(arg: &str) -> R<(u16, u16)> {
    let opt = "--queue-balance";
    let mut vals: Vec<u64> = Vec::new();
    let mut rest = arg;
    loop {
        if vals.len() == 2 {
            return problem(format!(
                "NFQUEUE: Too many components for option \"{opt}\" (max: 2)"
            ));
        }
        let (v, end) = if rest.is_empty() || rest.starts_with(':') {
            (if vals.len() == 1 { 65535 } else { 0 }, rest)
        } else {
            let Some((v, end)) = xt_strtoul(rest, 65535) else {
                return problem(format!(
                    "NFQUEUE: bad value for option \"{opt}\" near \"{rest}\", or out of range (0-65535)."
                ));
            };
            if !end.is_empty() && !end.starts_with(':') {
                return problem(format!(
                    "NFQUEUE: Argument to \"{opt}\" has unexpected characters near \"{end}\"."
                ));
            }
            (v, end)
        };
        vals.push(v);
        match end.strip_prefix(':') {
            Some(r) => rest = r,
            None => break,
        }
    }
    let &[first, last] = vals.as_slice() else {
        return problem(format!("Bad range \"{arg}\""));
    };
    if first >= last {
        return problem(format!("{first} should be less than {last}"));
    }
    // queues_total is a u16: 0:65535 wraps to 0 queues, which the kernel
    // refuses, as it refuses iptables' rule.
    Ok((first as u16, (last - first + 1) as u16))
}

/// The options of CONNMARK, in `libxt_CONNMARK.c`'s table order (which
/// its conflict messages follow); the first seven are operations.
const CONNMARK_OPTIONS: [(&str, bool); 10] = [
    ("--set-xmark", true),
    ("--set-mark", true),
    ("--and-mark", true),
    ("--or-mark", true),
    ("--xor-mark", true),
    ("--save-mark", false),
    ("--restore-mark", false),
    ("--ctmask", true),
    ("--nfmask", true),
    ("--mask", true),
];

/// Whether CONNMARK options `a` and `b` exclude each other: two
/// operations, or `--mask` with `--ctmask` or `--nfmask`.
fn connmark_conflict(a: &str, b: &str) -> bool {
    let op = |o: &str| CONNMARK_OPTIONS[..7].iter().any(|(n, _)| *n == o);
    let mask_pair = |x: &str, y: &str| x == "--mask" && (y == "--ctmask" || y == "--nfmask");
    a != b && ((op(a) && op(b)) || mask_pair(a, b) || mask_pair(b, a))
}

/// One option of CONNMARK, applied in order as `connmark_tg_parse` does.
fn connmark_option(t: &mut SetConnMark, opt: &str, a: &str) -> R<()> {
    let u32_arg = || match uint_max(a, u64::from(u32::MAX)) {
        Some(v) => Ok(v as u32),
        None => problem(format!(
            "CONNMARK: bad value for option \"{opt}\", or out of range (0-4294967295)."
        )),
    };
    match opt {
        "--set-xmark" | "--set-mark" => {
            let Some((v, mask)) = parse_value_mask(a, u64::from(u32::MAX)) else {
                return problem(format!(
                    "CONNMARK: bad integer value for option \"{opt}\", or out of range."
                ));
            };
            let (v, mask) = (v as u32, mask.map_or(u32::MAX, |m| m as u32));
            t.mode = ConnMarkMode::Set;
            t.ctmark = v;
            t.ctmask = if opt == "--set-mark" { mask | v } else { mask };
        }
        "--and-mark" | "--or-mark" | "--xor-mark" => {
            let v = u32_arg()?;
            t.mode = ConnMarkMode::Set;
            (t.ctmark, t.ctmask) = match opt {
                "--and-mark" => (0, !v),
                "--or-mark" => (v, v),
                _ => (v, 0),
            };
        }
        "--save-mark" => t.mode = ConnMarkMode::Save,
        "--restore-mark" => t.mode = ConnMarkMode::Restore,
        "--ctmask" => t.ctmask = u32_arg()?,
        "--nfmask" => t.nfmask = u32_arg()?,
        _ => {
            let v = u32_arg()?;
            t.ctmask = v;
            t.nfmask = v;
        }
    }
    Ok(())
}

/// A number at the start of `s` as `xtables_strtoui(s, &end, .., 0,
/// 65535)` reads it (`strtoul` in base 0: decimal, `0x` hex, `0` octal,
/// blanks and a `+` before it), and the rest of `s`; `None` if `s` does
/// not start with a number, or it is negative or above 65535.
fn port_prefix(s: &str) -> Option<(u16, &str)> {
    let (v, rest) = xt_strtoul(s, u64::from(u16::MAX))?;
    Some((u16::try_from(v).ok()?, rest))
}

/// A port range of a NAT target, `port[-port]`, as `parse_ports` of
/// iptables' `libxt_DNAT.c` reads it, with its messages: the first port
/// may be a service name, the second a number only. rustfilter has no
/// shifted port maps (`/port`) and no port 0 (which is "no ports").
fn parse_nat_ports(arg: &str) -> R<(u16, u16)> {
    let (first, end) = match port_prefix(arg) {
        Some(p) => p,
        None => match names::service_port(arg, "tcp").or_else(|| names::service_port(arg, "udp")) {
            Some(p) => (p, ""),
            None => return problem(format!("Port `{arg}' not valid")),
        },
    };
    let last = match end.chars().next() {
        None => first,
        Some('-') => {
            let rest = &end[1..];
            let Some((last, end)) = port_prefix(rest) else {
                return problem(format!("Port `{rest}' not valid"));
            };
            if last < first {
                return problem(format!("Port range `{rest}' funky"));
            }
            match end.chars().next() {
                None => {}
                Some('/') => return problem("Shifted portmap ranges not supported by rustfilter"),
                Some(_) => return problem(format!("Garbage after port range: `{end}'")),
            }
            last
        }
        Some(':') => return problem("Invalid port:port syntax - use dash"),
        Some(_) => return problem(format!("Garbage after port value: `{end}'")),
    };
    if first == 0 {
        return problem(format!("Port 0 not valid in `{arg}'"));
    }
    Ok((first, last))
}

/// An address as `inet_pton` reads it: a dotted quad without leading
/// zeros.
fn parse_inet_pton(s: &str) -> Option<[u8; 4]> {
    let strict = s.split('.').all(|p| p.len() < 2 || !p.starts_with('0'));
    parse_ipv4(s).filter(|_| strict)
}

/// `--to-source` and `--to-destination`: `addr[-addr][:port[-port]]`, as
/// `parse_to` of `libxt_DNAT.c` reads it (ports first; a second `:`
/// makes it all an address, IPv6 style). rustfilter needs the address
/// (iptables takes `:port` alone, and 0.0.0.0) and a range that does not
/// go down.
fn parse_nat_to(arg: &str, r: &mut NatRange, tname: &str, opt: &str) -> R<()> {
    if arg.contains('[') {
        return problem("Invalid address format");
    }
    let colon = arg.find(':').filter(|&c| !arg[c + 1..].contains(':'));
    let addrs = match colon {
        Some(c) => {
            (r.min_port, r.max_port) = parse_nat_ports(&arg[c + 1..])?;
            if c == 0 {
                return problem(format!("{tname}: \"{opt} {arg}\" needs an address"));
            }
            &arg[..c]
        }
        None => arg,
    };
    let (a, b) = match addrs.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (addrs, None),
    };
    let addr = |s: &str| match parse_inet_pton(s) {
        Some(v) => Ok(v),
        None => problem(format!("Bad IP address \"{s}\"")),
    };
    r.min_addr = addr(a)?;
    r.max_addr = match b {
        Some(b) => addr(b)?,
        None => r.min_addr,
    };
    if r.min_addr == [0; 4] || r.max_addr == [0; 4] {
        return problem(format!("{tname}: \"{opt}\" cannot map to 0.0.0.0"));
    }
    if u32::from_be_bytes(r.min_addr) > u32::from_be_bytes(r.max_addr) {
        return problem(format!("Address range `{addrs}' funky"));
    }
    Ok(())
}

/// One option of SNAT, DNAT, MASQUERADE or REDIRECT.
fn nat_option(r: &mut NatRange, tname: &str, opt: &str, a: &str) -> R<()> {
    match opt {
        "--to-source" | "--to-destination" => parse_nat_to(a, r, tname, opt)?,
        "--to-ports" => (r.min_port, r.max_port) = parse_nat_ports(a)?,
        "--random" => r.flags |= proto::NAT_F_RANDOM,
        "--random-fully" => r.flags |= proto::NAT_F_RANDOM_FULLY,
        _ => r.flags |= proto::NAT_F_PERSISTENT,
    }
    Ok(())
}

/// The range of a NAT target.
fn nat_range(t: &Target) -> Option<&NatRange> {
    match t {
        Target::Snat(Nat { range })
        | Target::Dnat(Nat { range })
        | Target::Masquerade(Nat { range })
        | Target::Redirect(Nat { range }) => Some(range),
        _ => None,
    }
}

fn target_option(pt: &mut PendingTarget, opt: &'static str, a: &str) -> R<()> {
    let tname = pt.t.name();
    match &mut pt.t {
        Target::Reject(r) => {
            once(&mut pt.seen, tname, opt)?;
            let name = names::REJECT_ALIASES
                .iter()
                .find(|(alias, _)| *alias == a)
                .map_or(a, |(_, n)| n);
            match RejectWith::ALL.iter().find(|w| w.name() == name) {
                Some(w) => r.with = *w,
                None => return problem(format!("unknown reject type \"{a}\"")),
            }
        }
        Target::Log(l) => {
            once(&mut pt.seen, tname, opt)?;
            match opt {
                "--log-prefix" => {
                    if a.len() > log::MAX_PREFIX {
                        return problem(format!(
                            "Maximum prefix length {} for --log-prefix",
                            log::MAX_PREFIX
                        ));
                    }
                    if a.contains('\n') {
                        return problem("Newlines not allowed in --log-prefix");
                    }
                    l.prefix = FixedStr::new(a).unwrap_or_default();
                }
                "--log-level" => {
                    let lv = uint_max(a, 7).map(|v| v as u8).or_else(|| {
                        names::LOG_LEVELS_IN
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(a))
                            .map(|x| x.1)
                    });
                    match lv {
                        Some(v) => l.level = v,
                        None => return problem(format!("log level \"{a}\" unknown")),
                    }
                }
                "--log-tcp-sequence" => l.flags |= proto::LOG_F_TCPSEQ as u8,
                "--log-tcp-options" => l.flags |= proto::LOG_F_TCPOPT as u8,
                "--log-ip-options" => l.flags |= proto::LOG_F_IPOPT as u8,
                "--log-uid" => l.flags |= proto::LOG_F_UID as u8,
                _ => l.flags |= proto::LOG_F_MACDECODE as u8,
            }
        }
        Target::Mark(m) => {
            if let Some(prev) = pt.seen.first() {
                return problem(format!(
                    "MARK: option \"{prev}\" cannot be used together with \"{opt}\"."
                ));
            }
            pt.seen.push(opt);
            let bad = || {
                problem(format!(
                    "MARK: bad integer value for option \"{opt}\", or out of range."
                ))
            };
            let max = u64::from(u32::MAX);
            let Some((v, mask)) = parse_value_mask(a, max) else {
                return bad();
            };
            let (v, mask) = (v as u32, mask.map(|m| m as u32));
            *m = match opt {
                "--set-xmark" => SetMark {
                    value: v,
                    mask: mask.unwrap_or(u32::MAX),
                },
                "--set-mark" => SetMark::set(v, mask.unwrap_or(u32::MAX)),
                _ if mask.is_some() => return bad(),
                "--and-mark" => SetMark { value: 0, mask: !v },
                "--or-mark" => SetMark { value: v, mask: v },
                _ => SetMark { value: v, mask: 0 },
            };
        }
        Target::Tos(t) => {
            if let Some(prev) = pt.seen.first() {
                return problem(format!(
                    "TOS: option \"{prev}\" cannot be used together with \"{opt}\"."
                ));
            }
            pt.seen.push(opt);
            *t = match opt {
                "--set-tos" => {
                    let (v, m) = parse_tos(a)?;
                    SetTos { value: v, mask: m }
                }
                _ => {
                    let Some(v) = uint_max(a, 255) else {
                        return problem(format!(
                            "TOS: bad value for option \"{opt}\", or out of range (0-255)."
                        ));
                    };
                    let v = v as u8;
                    match opt {
                        "--and-tos" => SetTos { value: 0, mask: !v },
                        "--or-tos" => SetTos { value: v, mask: v },
                        _ => SetTos { value: v, mask: 0 },
                    }
                }
            };
        }
        Target::Ct(c) => {
            once(&mut pt.seen, tname, opt)?;
            if opt == "--notrack" {
                c.flags |= proto::CT_F_NOTRACK as u8;
            } else if a.is_empty() {
                // iptables takes an empty helper as none.
                c.helper = None;
            } else {
                match CtHelper::from_name(a) {
                    Some(h) => c.helper = Some(h),
                    None => {
                        return problem(format!(
                            "CT: unknown helper \"{a}\" (rustfilter has ftp and tftp)"
                        ))
                    }
                }
            }
        }
        Target::ConnMark(t) => {
            once(&mut pt.seen, tname, opt)?;
            connmark_option(t, opt, a)?;
        }
        Target::Snat(Nat { range })
        | Target::Dnat(Nat { range })
        | Target::Masquerade(Nat { range })
        | Target::Redirect(Nat { range }) => {
            once(&mut pt.seen, tname, opt)?;
            nat_option(range, tname, opt, a)?;
        }
        Target::NfQueue(q) => {
            once(&mut pt.seen, tname, opt)?;
            match opt {
                "--queue-num" => match xt_strtoul(a, 65535) {
                    Some((v, "")) => q.num = v as u16,
                    _ => {
                        return problem(format!(
                            "NFQUEUE: bad value for option \"{opt}\", or out of range (0-65535)."
                        ))
                    }
                },
                "--queue-balance" => (q.num, q.total) = parse_queue_balance(a)?,
                "--queue-bypass" => q.flags |= proto::NFQUEUE_F_BYPASS,
                _ => q.flags |= proto::NFQUEUE_F_CPU_FANOUT,
            }
        }
        Target::Dscp(d) => {
            if !pt.seen.is_empty() {
                return problem("DSCP target: Only use --set-dscp ONCE!");
            }
            pt.seen.push(opt);
            d.value =
                if opt == "--set-dscp" {
                    match uint_max(a, 63) {
                        Some(v) => v as u8,
                        None => return problem(
                            "DSCP: bad value for option \"--set-dscp\", or out of range (0-63).",
                        ),
                    }
                } else {
                    parse_dscp_class(a, "DSCP", "--set-dscp-class")?
                };
        }
        _ => {}
    }
    Ok(())
}

/// The checks made once the whole rule is read; `rule_proto` and
/// `proto_inv` are `-p`.
fn finish_target(pt: &PendingTarget, rule_proto: u8, proto_inv: bool) -> R<()> {
    if let Some(r) = nat_range(&pt.t) {
        let to = match pt.t {
            Target::Snat(_) => "--to-source",
            Target::Dnat(_) => "--to-destination",
            _ => "",
        };
        if !to.is_empty() && !pt.seen.contains(&to) {
            return problem(format!(
                "{}: option \"{to}\" must be specified",
                pt.t.name()
            ));
        }
        // iptables checks the protocol as it reads the ports (and takes
        // SCTP, DCCP, ICMP and `! -p`); rustfilter maps TCP and UDP ports.
        let tcp_or_udp = matches!(rule_proto, IPPROTO_TCP | IPPROTO_UDP) && !proto_inv;
        if r.proto_specified() && !tcp_or_udp {
            return problem("Need TCP or UDP with port specification");
        }
        return Ok(());
    }
    match pt.t {
        Target::Mark(_) if pt.seen.is_empty() => {
            problem("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
        }
        Target::Tos(_) if pt.seen.is_empty() => {
            problem("TOS: One of --set-tos, --and-tos, --or-tos or --xor-tos is required")
        }
        Target::Dscp(_) if pt.seen.is_empty() => {
            problem("DSCP target: Parameter --set-dscp is required")
        }
        // xtables_options_fcheck: exclusions, then requirements.
        Target::NfQueue(_) => {
            let [num, balance, _, fanout] = NFQUEUE_OPTIONS.map(|(o, _)| pt.seen.contains(&o));
            if num && balance {
                problem("NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".")
            } else if fanout && !balance {
                problem("NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".")
            } else {
                Ok(())
            }
        }
        Target::ConnMark(_) => {
            if !pt
                .seen
                .iter()
                .any(|o| CONNMARK_OPTIONS[..7].iter().any(|(n, _)| n == o))
            {
                return problem("CONNMARK target: No operation specified");
            }
            // Conflicts are reported in table order, as xtables does.
            for (a, _) in CONNMARK_OPTIONS.iter().filter(|(n, _)| pt.seen.contains(n)) {
                if let Some((b, _)) = CONNMARK_OPTIONS
                    .iter()
                    .find(|(n, _)| pt.seen.contains(n) && connmark_conflict(a, n))
                {
                    return problem(format!(
                        "CONNMARK: option \"{a}\" cannot be used together with \"{b}\"."
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Targets iptables users may try that rustfilter does not have.
const UNSUPPORTED_TARGETS: &[&str] = &[
    "NETMAP",
    "NFLOG",
    "TCPMSS",
    "TTL",
    "CLASSIFY",
    "SET",
    "AUDIT",
    "TEE",
    "TPROXY",
    "ULOG",
    "CHECKSUM",
    "SECMARK",
    "CONNSECMARK",
    "HMARK",
    "LED",
    "IDLETIMER",
    "SYNPROXY",
    "TRACE",
];

/// The target `-j name` (or `-g name`) starts with; `None` for a chain.
fn new_target(name: &str, goto: bool) -> R<Target> {
    if goto {
        return Ok(Target::Goto(0));
    }
    Ok(match name {
        "ACCEPT" => Target::Accept,
        "DROP" => Target::Drop,
        "RETURN" => Target::Return,
        "REJECT" => Target::Reject(Reject::default()),
        "LOG" => Target::Log(Log::default()),
        "MARK" => Target::Mark(SetMark::default()),
        "TOS" => Target::Tos(SetTos::default()),
        "DSCP" => Target::Dscp(SetDscp::default()),
        "CT" => Target::Ct(Ct::default()),
        "NOTRACK" => Target::Ct(Ct::NOTRACK),
        "CONNMARK" => Target::ConnMark(SetConnMark::default()),
        "SNAT" => Target::Snat(Snat::default()),
        "DNAT" => Target::Dnat(Dnat::default()),
        "MASQUERADE" => Target::Masquerade(Masquerade::default()),
        "REDIRECT" => Target::Redirect(Redirect::default()),
        "NFQUEUE" => Target::NfQueue(NfQueue::default()),
        "QUEUE" => Target::Queue,
        n if UNSUPPORTED_TARGETS.contains(&n) => {
            return problem(format!("Couldn't load target `{n}': {UNSUPPORTED_HINT}"))
        }
        _ => Target::Jump(0),
    })
}

/// Whether `name` is the name of a target, which no chain may have.
pub fn is_target_name(name: &str) -> bool {
    matches!(
        name,
        "ACCEPT"
            | "DROP"
            | "RETURN"
            | "QUEUE"
            | "REJECT"
            | "LOG"
            | "MARK"
            | "TOS"
            | "DSCP"
            | "CT"
            | "NOTRACK"
            | "CONNMARK"
            | "SNAT"
            | "DNAT"
            | "MASQUERADE"
            | "REDIRECT"
            | "NFQUEUE"
    ) || UNSUPPORTED_TARGETS.contains(&name)
}

/// Parse a whole iptables command line (the words after the program
/// name). In `restore`, `-t` is refused and `table` is the table of the
/// `*table` line.
pub fn parse_command(args: &[String], restore: Option<TableKind>) -> R<CmdLine> {
    let mut a = Args { v: args, i: 0 };
    let mut table = restore.unwrap_or(TableKind::Filter);
    let mut table_given = false;
    let mut cmd: Option<Command> = None;
    let mut rule = RuleSpec::default();
    let mut matches: Vec<PendingMatch> = Vec::new();
    let mut target: Option<PendingTarget> = None;
    let mut jump_name = String::new();
    let mut seen_ip: Vec<char> = Vec::new();
    let mut invert = false;
    let mut out = CmdLine {
        table,
        cmd: Command::Flush(None),
        rule: RuleSpec::default(),
        numeric: false,
        verbose: false,
        exact: false,
        line_numbers: false,
        counters: false,
    };

    let set_cmd = |cmd: &mut Option<Command>, new: Command| -> R<()> {
        if let Some(old) = cmd {
            // -L and -Z combine into list-and-zero.
            match (&*old, &new) {
                (Command::List { chain, num, .. }, Command::Zero(..)) => {
                    *old = Command::List {
                        chain: chain.clone(),
                        num: *num,
                        zero: true,
                    };
                    return Ok(());
                }
                (Command::Zero(..), Command::List { chain, num, .. }) => {
                    *old = Command::List {
                        chain: chain.clone(),
                        num: *num,
                        zero: true,
                    };
                    return Ok(());
                }
                _ => {}
            }
            return problem(format!(
                "Cannot use -{} with -{}",
                cmd_letter(&new),
                cmd_letter(old)
            ));
        }
        *cmd = Some(new);
        Ok(())
    };

    while let Some(word) = a.next() {
        if word == "!" {
            if invert {
                return problem("multiple consecutive ! not allowed");
            }
            invert = true;
            continue;
        }
        // Long options may carry their value after '='.
        let (word, inline): (&str, Option<&str>) = match word.split_once('=') {
            Some((w, v)) if w.starts_with("--") => (w, Some(v)),
            _ => (word, None),
        };
        let mut take = |opt: &str| -> R<&str> {
            match inline {
                Some(v) => Ok(v),
                None => a.value(opt),
            }
        };
        let inv = std::mem::take(&mut invert);
        let no_inv = |letter: &str| -> R<()> {
            if inv {
                problem(format!("cannot have ! before {letter}"))
            } else {
                Ok(())
            }
        };
        match word {
            "-A" | "--append" => {
                no_inv("-A")?;
                let c = chain_arg(take("-A")?)?;
                set_cmd(&mut cmd, Command::Append(c))?;
            }
            "-C" | "--check" => {
                no_inv("-C")?;
                let c = chain_arg(take("-C")?)?;
                set_cmd(&mut cmd, Command::Check(c))?;
            }
            "-D" | "--delete" => {
                no_inv("-D")?;
                let c = chain_arg(take("-D")?)?;
                let new = match a.optional() {
                    Some(n) => Command::DeleteNum(c, rule_num(n)?),
                    None => Command::Delete(c),
                };
                set_cmd(&mut cmd, new)?;
            }
            "-R" | "--replace" => {
                no_inv("-R")?;
                let c = chain_arg(take("-R")?)?;
                let Some(n) = a.optional() else {
                    return problem("-R requires a rule number");
                };
                set_cmd(&mut cmd, Command::Replace(c, rule_num(n)?))?;
            }
            "-I" | "--insert" => {
                no_inv("-I")?;
                let c = chain_arg(take("-I")?)?;
                let n = match a.optional() {
                    Some(n) => rule_num(n)?,
                    None => 1,
                };
                set_cmd(&mut cmd, Command::Insert(c, n))?;
            }
            "-L" | "--list" | "-S" | "--list-rules" | "-Z" | "--zero" => {
                no_inv(word)?;
                let chain = match inline.or_else(|| a.optional()) {
                    Some(c) => Some(chain_arg(c)?),
                    None => None,
                };
                let num = match chain.as_ref().and(a.optional()) {
                    Some(n) => Some(rule_num(n)?),
                    None => None,
                };
                let new = match word {
                    "-L" | "--list" => Command::List {
                        chain,
                        num,
                        zero: false,
                    },
                    "-S" | "--list-rules" => Command::ListRules { chain, num },
                    _ => Command::Zero(chain, num),
                };
                set_cmd(&mut cmd, new)?;
            }
            "-F" | "--flush" | "-X" | "--delete-chain" => {
                no_inv(word)?;
                let chain = match inline.or_else(|| a.optional()) {
                    Some(c) => Some(chain_arg(c)?),
                    None => None,
                };
                let new = if word.starts_with("-F") || word == "--flush" {
                    Command::Flush(chain)
                } else {
                    Command::DeleteChain(chain)
                };
                set_cmd(&mut cmd, new)?;
            }
            "-N" | "--new-chain" => {
                no_inv("-N")?;
                let c = take("-N")?;
                if c.starts_with('-') {
                    return problem("chain name not allowed to start with `-'");
                }
                if is_target_name(c) {
                    return problem("chain name may not clash with target name");
                }
                let c = chain_arg(c)?;
                set_cmd(&mut cmd, Command::NewChain(c))?;
            }
            "-E" | "--rename-chain" => {
                no_inv("-E")?;
                let old = chain_arg(take("-E")?)?;
                let Some(new) = a.optional() else {
                    return problem("-E requires old-chain-name and new-chain-name");
                };
                if is_target_name(new) {
                    return problem("chain name may not clash with target name");
                }
                let new = chain_arg(new)?;
                set_cmd(&mut cmd, Command::Rename(old, new))?;
            }
            "-P" | "--policy" => {
                no_inv("-P")?;
                let c = chain_arg(take("-P")?)?;
                let Some(p) = a.optional() else {
                    return problem("-P requires a chain and a policy");
                };
                set_cmd(&mut cmd, Command::Policy(c, p.to_string()))?;
            }
            "-t" | "--table" => {
                no_inv("-t")?;
                let t = take("-t")?;
                if restore.is_some() {
                    return problem("The -t option cannot be used in rfctl restore.");
                }
                if table_given {
                    return problem("multiple -t flags not allowed");
                }
                table_given = true;
                table = match TableKind::from_name(t) {
                    Some(k) => k,
                    None => {
                        return problem(format!(
                            "can't initialize iptables table `{t}': Table does not exist"
                        ))
                    }
                };
            }
            "-v" | "--verbose" => out.verbose = true,
            "-n" | "--numeric" => out.numeric = true,
            "-x" | "--exact" => out.exact = true,
            "--line-numbers" | "--line" => out.line_numbers = true,
            "-w" | "--wait" | "-W" | "--wait-interval" => {
                let _ = inline.or_else(|| a.optional());
            }
            "-c" | "--set-counters" => {
                no_inv("-c")?;
                let p = take("-c")?;
                let b = a.optional();
                let (p, b) = match (b, p.split_once(',')) {
                    (Some(b), _) => (p, b),
                    (None, Some((p, b))) => (p, b),
                    (None, None) => return problem("-c requires packet and byte counter"),
                };
                let (Ok(p), Ok(b)) = (p.parse(), b.parse()) else {
                    return problem("-c packet counter not numeric");
                };
                rule.counters = Counters {
                    packets: p,
                    bytes: b,
                };
                out.counters = true;
            }
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let src = matches!(word, "-s" | "--source" | "--src");
                let letter = if src { 's' } else { 'd' };
                if seen_ip.contains(&letter) {
                    return problem(format!("multiple -{letter} flags not allowed"));
                }
                seen_ip.push(letter);
                let (addr, mask) = parse_addr_mask(take(word)?)?;
                if src {
                    rule.ip.src = addr;
                    rule.ip.src_mask = mask;
                    if inv {
                        rule.ip.invert |= proto::INV_SRC as u8;
                    }
                } else {
                    rule.ip.dst = addr;
                    rule.ip.dst_mask = mask;
                    if inv {
                        rule.ip.invert |= proto::INV_DST as u8;
                    }
                }
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let inp = matches!(word, "-i" | "--in-interface");
                let letter = if inp { 'i' } else { 'o' };
                if seen_ip.contains(&letter) {
                    return problem(format!("multiple -{letter} flags not allowed"));
                }
                seen_ip.push(letter);
                let m = parse_iface(take(word)?)?;
                if inp {
                    rule.ip.in_iface = m;
                    if inv {
                        rule.ip.invert |= proto::INV_IN_IFACE as u8;
                    }
                } else {
                    rule.ip.out_iface = m;
                    if inv {
                        rule.ip.invert |= proto::INV_OUT_IFACE as u8;
                    }
                }
            }
            "-p" | "--protocol" => {
                if seen_ip.contains(&'p') {
                    return problem("multiple -p flags not allowed");
                }
                seen_ip.push('p');
                rule.ip.proto = parse_proto(take("-p")?)?;
                if inv {
                    if rule.ip.proto == 0 {
                        return problem("rule would never match protocol");
                    }
                    rule.ip.invert |= proto::INV_PROTO as u8;
                }
            }
            "-f" | "--fragment" => {
                if seen_ip.contains(&'f') {
                    return problem("multiple -f flags not allowed");
                }
                seen_ip.push('f');
                rule.ip.fragment = true;
                if inv {
                    rule.ip.invert |= proto::INV_FRAGMENT as u8;
                }
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let goto = matches!(word, "-g" | "--goto");
                no_inv(if goto { "-g" } else { "-j" })?;
                if target.is_some() {
                    return problem(format!(
                        "multiple -{} flags not allowed",
                        if goto { 'g' } else { 'j' }
                    ));
                }
                let name = take(word)?;
                let t = new_target(name, goto)?;
                if matches!(t, Target::Jump(_) | Target::Goto(_)) {
                    jump_name = chain_arg(name)?;
                }
                target = Some(PendingTarget {
                    t,
                    seen: Vec::new(),
                });
            }
            "-m" | "--match" => {
                no_inv("-m")?;
                let name = take("-m")?;
                matches.push(PendingMatch {
                    m: new_match(name)?,
                    seen: Vec::new(),
                    multiport_list: None,
                    explicit: true,
                });
            }
            "-h" | "--help" => {
                out.cmd = Command::Help;
                return Ok(out);
            }
            "-4" | "--ipv4" => {}
            "-6" | "--ipv6" => {
                return problem("This is the IPv4 version of rfctl.");
            }
            opt if opt.starts_with("--") => {
                // A target option, then a match option (latest match
                // first), then the implicit match of -p.
                if let Some(pt) = target.as_mut() {
                    if let Some(&(o, has_arg)) =
                        target_options(&pt.t).iter().find(|(o, _)| *o == opt)
                    {
                        if inv {
                            return problem(format!(
                                "{}: option \"{o}\" cannot be inverted.",
                                pt.t.name()
                            ));
                        }
                        let v = if has_arg { take(o)? } else { "" };
                        target_option(pt, o, v)?;
                        continue;
                    }
                }
                let mut found = find_match_option(&matches, opt);
                if found.is_none() {
                    let implicit = match rule.ip.proto {
                        IPPROTO_TCP => Some("tcp"),
                        IPPROTO_UDP => Some("udp"),
                        IPPROTO_ICMP => Some("icmp"),
                        _ => None,
                    };
                    if let Some(name) = implicit {
                        if !matches.iter().any(|m| match_name(&m.m) == name) {
                            let m = new_match(name)?;
                            if match_options(&m).iter().any(|(o, _, _)| *o == opt) {
                                matches.push(PendingMatch {
                                    m,
                                    seen: Vec::new(),
                                    multiport_list: None,
                                    explicit: false,
                                });
                                found = find_match_option(&matches, opt);
                            }
                        }
                    }
                }
                let Some((k, o, has_arg, invertible)) = found else {
                    return problem(format!("unknown option \"{opt}\""));
                };
                if inv && !invertible {
                    return problem(format!(
                        "{}: option \"{o}\" cannot be inverted.",
                        match_name(&matches[k].m)
                    ));
                }
                let (v1, v2) = if o == "--tcp-flags" {
                    let v1 = take(o)?;
                    match a.optional() {
                        Some(v2) => (Some(v1), Some(v2)),
                        None => return problem("--tcp-flags requires two args."),
                    }
                } else if has_arg {
                    (Some(take(o)?), None)
                } else {
                    (None, None)
                };
                let p = rule.ip.proto;
                match_option(&mut matches[k], o, inv, v1, v2, p)?;
            }
            opt if opt.starts_with('-') && opt.len() > 1 => {
                return problem(format!("unknown option \"{opt}\""));
            }
            other => return problem(format!("Bad argument `{other}'")),
        }
    }
    if invert {
        return problem("no argument following `!'");
    }
    let Some(cmd) = cmd else {
        return problem("no command specified");
    };
    if !cmd.takes_rule() && (!seen_ip.is_empty() || !matches.is_empty() || target.is_some()) {
        let opt = seen_ip.first().map(|c| format!("-{c}")).unwrap_or_else(|| {
            if target.is_some() {
                "-j".into()
            } else {
                "-m".into()
            }
        });
        return problem(format!("Illegal option `{opt}' with this command"));
    }
    let proto_inv = rule.ip.invert & proto::INV_PROTO as u8 != 0;
    for pm in &mut matches {
        finish_match(pm, rule.ip.proto, proto_inv)?;
        rule.matches.push(pm.m);
    }
    if rule.matches.len() > rfcore::rules::MAX_MATCHES_PER_RULE {
        return problem("too many matches in one rule");
    }
    if let Some(pt) = &target {
        finish_target(pt, rule.ip.proto, proto_inv)?;
        rule.target = pt.t;
        rule.jump = jump_name;
    }
    if let Command::Append(c) | Command::Insert(c, _) | Command::Replace(c, _) = &cmd {
        let input_only = ["PREROUTING", "INPUT"];
        let output_only = ["POSTROUTING", "OUTPUT"];
        if rule.ip.out_iface.is_set() && input_only.contains(&c.as_str()) {
            return problem(format!("Can't use -o with {c}"));
        }
        if rule.ip.in_iface.is_set() && output_only.contains(&c.as_str()) {
            return problem(format!("Can't use -i with {c}"));
        }
    }
    out.table = table;
    out.cmd = cmd;
    out.rule = rule;
    Ok(out)
}

fn find_match_option(
    matches: &[PendingMatch],
    opt: &str,
) -> Option<(usize, &'static str, bool, bool)> {
    matches.iter().enumerate().rev().find_map(|(k, pm)| {
        match_options(&pm.m)
            .iter()
            .find(|(o, _, _)| *o == opt)
            .map(|&(o, arg, inv)| (k, o, arg, inv))
    })
}

/// Split a line of an iptables-save file into words as iptables-restore
/// does: blanks separate, double or single quotes group, a backslash
/// escapes the next character inside quotes.
pub fn split_line(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    match chars.next() {
                        Some(n) => cur.push(n),
                        None => cur.push('\\'),
                    }
                } else if c == q {
                    quote = None;
                } else {
                    cur.push(c);
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                    have = true;
                } else if c.is_whitespace() {
                    if have {
                        words.push(std::mem::take(&mut cur));
                        have = false;
                    }
                } else {
                    cur.push(c);
                    have = true;
                }
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".to_string());
    }
    if have {
        words.push(cur);
    }
    Ok(words)
}
