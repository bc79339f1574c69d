// SPDX-License-Identifier: GPL-2.0

//! The command line of `rfctl conntrack`, read as conntrack(8) 1.4.7
//! reads it (getopt_long: `-ptcp` and `-p tcp`, `--src=A` and `--src A`,
//! unique prefixes of long options, `-L [table]`), then checked as
//! conntrack checks it: one command, the options that command takes, the
//! options `-G` needs.

use std::time::Duration;

use rfcore::conntrack::status::{
    IPS_ASSURED, IPS_EXPECTED, IPS_FIXED_TIMEOUT, IPS_HW_OFFLOAD, IPS_OFFLOAD, IPS_SEEN_REPLY,
};
use rfcore::conntrack::{TcpState, Tuple};
use rfcore::proto;

use super::filter::{Filter, Net};
use crate::names;
use crate::parse::{parse_ipv4, parse_uint};

/// What `rfctl conntrack` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// `-L`: list connections.
    List,
    /// `-G`: show the connection with a tuple.
    Get,
    /// `-D`: delete the connections the filters match.
    Delete,
    /// `-F`: delete all connections.
    Flush,
    /// `-E`: show events.
    Event,
    /// `-C`: the number of connections.
    Count,
    /// `-S`: the statistics.
    Stats,
    /// `--set-max`, `--set-timeout`.
    Set,
    /// `-V`.
    Version,
    /// `-h`, or nothing at all.
    Help,
}

/// Which events `-E` shows (`-e`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventMask {
    /// `NEW`.
    pub new: bool,
    /// `DESTROY`.
    pub destroy: bool,
}

/// Everything the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Opts {
    /// The command.
    pub cmd: Cmd,
    /// The filters (`-L`, `-D`, `-E`; for `-G` those that are not the tuple).
    pub filter: Filter,
    /// `-G`: the tuple to look up.
    pub tuple: Option<Tuple>,
    /// `-e`.
    pub events: EventMask,
    /// `-o extended`: the layer-3 fields.
    pub extended: bool,
    /// `-o timestamp`: `-E` lines start with the time.
    pub timestamp: bool,
    /// `--event-count`: `-E` stops after that many events.
    pub event_count: Option<u64>,
    /// `--event-timeout`: `-E` stops after that long.
    pub event_timeout: Option<Duration>,
    /// `--set-max`.
    pub set_max: Option<u32>,
    /// `--set-timeout`: `CTTIMEOUT_*` attribute and seconds, in order given.
    pub set_timeouts: Vec<(u16, u32)>,
    /// `--set-auto-helper on|off`.
    pub set_auto_helper: Option<bool>,
}

/// A command line problem: the message, without prefix or hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage(pub String);

type R<T> = Result<T, Usage>;

fn bad<T>(msg: impl Into<String>) -> R<T> {
    Err(Usage(msg.into()))
}

/// The timeouts `--set-timeout` sets, named after Linux's
/// `nf_conntrack_*_timeout*` sysctls.
pub const TIMEOUT_NAMES: &[(&str, u16)] = &[
    ("tcp_syn_sent", proto::CTTIMEOUT_TCP_SYN_SENT),
    ("tcp_syn_recv", proto::CTTIMEOUT_TCP_SYN_RECV),
    ("tcp_established", proto::CTTIMEOUT_TCP_ESTABLISHED),
    ("tcp_fin_wait", proto::CTTIMEOUT_TCP_FIN_WAIT),
    ("tcp_close_wait", proto::CTTIMEOUT_TCP_CLOSE_WAIT),
    ("tcp_last_ack", proto::CTTIMEOUT_TCP_LAST_ACK),
    ("tcp_time_wait", proto::CTTIMEOUT_TCP_TIME_WAIT),
    ("tcp_close", proto::CTTIMEOUT_TCP_CLOSE),
    ("tcp_retrans", proto::CTTIMEOUT_TCP_RETRANS),
    ("tcp_unack", proto::CTTIMEOUT_TCP_UNACK),
    ("udp_unreplied", proto::CTTIMEOUT_UDP_UNREPLIED),
    ("udp_replied", proto::CTTIMEOUT_UDP_REPLIED),
    ("icmp", proto::CTTIMEOUT_ICMP),
    ("generic", proto::CTTIMEOUT_GENERIC),
];

/// The largest timeout the kernel takes (`INT_MAX` seconds).
const MAX_TIMEOUT: u32 = i32::MAX as u32;

/// The options, by what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Id {
    Dump,
    Get,
    Delete,
    Flush,
    Event,
    Counter,
    Stats,
    Version,
    Help,
    Src,
    Dst,
    ReplySrc,
    ReplyDst,
    Proto,
    Status,
    EventMask,
    Mark,
    Output,
    Family,
    Sport,
    Dport,
    ReplySport,
    ReplyDport,
    State,
    IcmpType,
    IcmpCode,
    IcmpIdent,
    SetMax,
    SetTimeout,
    SetAutoHelper,
    EventCount,
    EventTimeout,
    /// A conntrack(8) option rustfilter has nothing for.
    Unsupported,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    No,
    Required,
    /// The table of a command: attached, or the next word unless it starts
    /// with `-` or `!` (conntrack's `get_optional_arg`).
    Optional,
}

struct Spec {
    long: &'static str,
    short: Option<char>,
    arg: Arg,
    id: Id,
}

const fn spec(long: &'static str, short: Option<char>, arg: Arg, id: Id) -> Spec {
    Spec {
        long,
        short,
        arg,
        id,
    }
}

/// conntrack 1.4.7's options (with those of its tcp, udp and icmp
/// extensions) and rfctl's own.
const SPECS: &[Spec] = &[
    spec("dump", Some('L'), Arg::Optional, Id::Dump),
    spec("get", Some('G'), Arg::Optional, Id::Get),
    spec("delete", Some('D'), Arg::Optional, Id::Delete),
    spec("flush", Some('F'), Arg::Optional, Id::Flush),
    spec("event", Some('E'), Arg::Optional, Id::Event),
    spec("counter", Some('C'), Arg::Optional, Id::Counter),
    spec("stats", Some('S'), Arg::No, Id::Stats),
    spec("version", Some('V'), Arg::No, Id::Version),
    spec("help", Some('h'), Arg::No, Id::Help),
    spec("orig-src", Some('s'), Arg::Required, Id::Src),
    spec("src", Some('s'), Arg::Required, Id::Src),
    spec("orig-dst", Some('d'), Arg::Required, Id::Dst),
    spec("dst", Some('d'), Arg::Required, Id::Dst),
    spec("reply-src", Some('r'), Arg::Required, Id::ReplySrc),
    spec("reply-dst", Some('q'), Arg::Required, Id::ReplyDst),
    spec("protonum", Some('p'), Arg::Required, Id::Proto),
    spec("status", Some('u'), Arg::Required, Id::Status),
    spec("event-mask", Some('e'), Arg::Required, Id::EventMask),
    spec("mark", Some('m'), Arg::Required, Id::Mark),
    spec("output", Some('o'), Arg::Required, Id::Output),
    spec("family", Some('f'), Arg::Required, Id::Family),
    spec("orig-port-src", None, Arg::Required, Id::Sport),
    spec("sport", None, Arg::Required, Id::Sport),
    spec("orig-port-dst", None, Arg::Required, Id::Dport),
    spec("dport", None, Arg::Required, Id::Dport),
    spec("reply-port-src", None, Arg::Required, Id::ReplySport),
    spec("reply-port-dst", None, Arg::Required, Id::ReplyDport),
    spec("state", None, Arg::Required, Id::State),
    spec("icmp-type", None, Arg::Required, Id::IcmpType),
    spec("icmp-code", None, Arg::Required, Id::IcmpCode),
    spec("icmp-id", None, Arg::Required, Id::IcmpIdent),
    spec("set-max", None, Arg::Required, Id::SetMax),
    spec("set-timeout", None, Arg::Required, Id::SetTimeout),
    spec("set-auto-helper", None, Arg::Required, Id::SetAutoHelper),
    spec("event-count", None, Arg::Required, Id::EventCount),
    spec("event-timeout", None, Arg::Required, Id::EventTimeout),
    // conntrack's, without a rustfilter counterpart.
    spec("create", Some('I'), Arg::No, Id::Unsupported),
    spec("add", Some('A'), Arg::No, Id::Unsupported),
    spec("update", Some('U'), Arg::No, Id::Unsupported),
    spec("load-file", Some('R'), Arg::No, Id::Unsupported),
    spec("timeout", Some('t'), Arg::No, Id::Unsupported),
    spec("zero", Some('z'), Arg::No, Id::Unsupported),
    spec("tuple-src", None, Arg::No, Id::Unsupported),
    spec("tuple-dst", None, Arg::No, Id::Unsupported),
    spec("mask-src", None, Arg::No, Id::Unsupported),
    spec("mask-dst", None, Arg::No, Id::Unsupported),
    spec("mask-port-src", None, Arg::No, Id::Unsupported),
    spec("mask-port-dst", None, Arg::No, Id::Unsupported),
    spec("tuple-port-src", None, Arg::No, Id::Unsupported),
    spec("tuple-port-dst", None, Arg::No, Id::Unsupported),
    spec("nat-range", Some('a'), Arg::No, Id::Unsupported),
    spec("secmark", Some('c'), Arg::No, Id::Unsupported),
    spec("id", Some('i'), Arg::No, Id::Unsupported),
    spec("src-nat", Some('n'), Arg::No, Id::Unsupported),
    spec("dst-nat", Some('g'), Arg::No, Id::Unsupported),
    spec("any-nat", Some('j'), Arg::No, Id::Unsupported),
    spec("buffer-size", Some('b'), Arg::No, Id::Unsupported),
    spec("zone", Some('w'), Arg::No, Id::Unsupported),
    spec("orig-zone", None, Arg::No, Id::Unsupported),
    spec("reply-zone", None, Arg::No, Id::Unsupported),
    spec("label", Some('l'), Arg::No, Id::Unsupported),
    spec("label-add", None, Arg::No, Id::Unsupported),
    spec("label-del", None, Arg::No, Id::Unsupported),
];

/// The name conntrack uses for an option in its messages.
fn flag(id: Id) -> &'static str {
    match id {
        Id::Src => "src",
        Id::Dst => "dst",
        Id::ReplySrc => "reply-src",
        Id::ReplyDst => "reply-dst",
        Id::Proto => "protonum",
        Id::Status => "status",
        Id::EventMask => "event-mask",
        Id::Mark => "mark",
        Id::Output => "output",
        Id::Family => "family",
        Id::Sport => "sport",
        Id::Dport => "dport",
        Id::ReplySport => "reply-port-src",
        Id::ReplyDport => "reply-port-dst",
        Id::State => "state",
        Id::IcmpType => "icmp-type",
        Id::IcmpCode => "icmp-code",
        Id::IcmpIdent => "icmp-id",
        Id::SetMax => "set-max",
        Id::SetTimeout => "set-timeout",
        Id::SetAutoHelper => "set-auto-helper",
        Id::EventCount => "event-count",
        Id::EventTimeout => "event-timeout",
        Id::Dump => "dump",
        Id::Get => "get",
        Id::Delete => "delete",
        Id::Flush => "flush",
        Id::Event => "event",
        Id::Counter => "counter",
        Id::Stats => "stats",
        Id::Version => "version",
        Id::Help => "help",
        Id::Unsupported => "unknown",
    }
}

/// The long option `name` (as typed, without `--`): an exact name, or a
/// prefix of names that all mean the same option.
fn lookup_long(name: &str) -> R<&'static Spec> {
    if let Some(s) = SPECS.iter().find(|s| s.long == name) {
        return Ok(s);
    }
    let mut found: Option<&'static Spec> = None;
    for s in SPECS
        .iter()
        .filter(|s| !name.is_empty() && s.long.starts_with(name))
    {
        match found {
            Some(f) if f.id != s.id || f.id == Id::Unsupported => {
                return bad(format!("option `--{name}' is ambiguous"));
            }
            _ => found = Some(s),
        }
    }
    found.map_or_else(|| bad(format!("unknown option `--{name}'")), Ok)
}

/// The parts of the command line as they are read.
#[derive(Default)]
struct Seen {
    cmd: Option<Cmd>,
    given: Vec<Id>,
    filter: Filter,
    events: Option<EventMask>,
    extended: bool,
    timestamp: bool,
    event_count: Option<u64>,
    event_timeout: Option<Duration>,
    set_max: Option<u32>,
    set_timeouts: Vec<(u16, u32)>,
    set_auto_helper: Option<bool>,
}

/// The command's table argument (`-L conntrack`): conntrack's
/// `check_type`, which takes any prefix of a table name.
fn check_table(table: &str) -> R<()> {
    let is = |name: &str| !table.is_empty() && name.starts_with(table);
    if is("expect") {
        bad("table `expect' is not supported: rustfilter does not list expectations")
    } else if is("conntrack") {
        Ok(())
    } else if is("dying") || is("unconfirmed") {
        bad(format!(
            "table `{table}' is not supported: rustfilter lists confirmed connections only"
        ))
    } else {
        bad(format!("unknown type `{table}'"))
    }
}

/// An address with an optional prefix length (`-s`, `-d`).
fn parse_net(s: &str) -> R<Net> {
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Some(addr) = parse_ipv4(a) else {
        return bad(format!("Invalid IP address `{a}'"));
    };
    let mask = match len {
        None => [255; 4],
        Some(l) => match l.parse::<u32>() {
            Ok(n) if n <= 32 && l.bytes().all(|b| b.is_ascii_digit()) => {
                let v = if n == 0 { 0 } else { u32::MAX << (32 - n) };
                v.to_be_bytes()
            }
            _ => return bad("Invalid netmask"),
        },
    };
    Ok(Net { addr, mask })
}

/// An address without a prefix (`-r`, `-q`).
fn parse_host(s: &str, opt: &str) -> R<[u8; 4]> {
    if s.contains('/') {
        return bad(format!("CIDR notation unavailable for `--{opt}'"));
    }
    parse_ipv4(s).map_or_else(|| bad(format!("Invalid IP address `{s}'")), Ok)
}

/// `-p`: a name (any case), or a number up to 255 (`IPPROTO_RAW`).
fn parse_proto(s: &str) -> R<u8> {
    let lower = s.to_ascii_lowercase();
    if let Some(n) = parse_uint(&lower).filter(|&n| n <= 255) {
        return Ok(n as u8);
    }
    names::proto_number(&lower).map_or_else(|| bad(format!("`{s}' unsupported protocol")), Ok)
}

fn parse_u16(s: &str, what: &str) -> R<u16> {
    match parse_uint(s) {
        Some(n) if n <= u64::from(u16::MAX) => Ok(n as u16),
        _ => bad(format!("invalid {what} `{s}'")),
    }
}

fn parse_u8(s: &str, what: &str) -> R<u8> {
    match parse_uint(s) {
        Some(n) if n <= 255 => Ok(n as u8),
        _ => bad(format!("invalid {what} `{s}'")),
    }
}

/// `-m value[/mask]`, numbers as `strtoul(.., 0)` reads them.
fn parse_mark(s: &str) -> R<(u32, u32)> {
    let num = |t: &str| parse_uint(t).and_then(|n| u32::try_from(n).ok());
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (num(v), num(m)),
        None => (num(s), Some(u32::MAX)),
    };
    match (v, m) {
        (Some(v), Some(m)) => Ok((v, m)),
        _ => bad(format!("invalid mark `{s}'")),
    }
}

/// conntrack's `parse_parameter`: a comma list of words, each any case
/// and any prefix of one of `names`, tried in order.
fn parse_list(
    arg: &str,
    names: &[&'static str],
    mut each: impl FnMut(&'static str, bool) -> R<()>,
) -> R<()> {
    for word in arg.split(',') {
        let (neg, w) = match word.strip_prefix('!') {
            Some(w) => (true, w),
            None => (false, word),
        };
        let found = names
            .iter()
            .find(|n| !w.is_empty() && n.len() >= w.len() && n[..w.len()].eq_ignore_ascii_case(w));
        match found {
            Some(n) => each(n, neg)?,
            None => return bad(format!("Bad parameter `{word}'")),
        }
    }
    Ok(())
}

/// `-u`: the status words of conntrack 1.4.7, with 1.4.8's `!NAME` (not
/// set) and `UNREPLIED` (`SEEN_REPLY` not set).
fn parse_status(arg: &str, f: &mut Filter) -> R<()> {
    const NAMES: &[&str] = &[
        "ASSURED",
        "SEEN_REPLY",
        "UNSET",
        "FIXED_TIMEOUT",
        "EXPECTED",
        "OFFLOAD",
        "HW_OFFLOAD",
        "UNREPLIED",
    ];
    parse_list(arg, NAMES, |name, neg| {
        let bit = match name {
            "ASSURED" => IPS_ASSURED,
            "SEEN_REPLY" => IPS_SEEN_REPLY,
            "FIXED_TIMEOUT" => IPS_FIXED_TIMEOUT,
            "EXPECTED" => IPS_EXPECTED,
            "OFFLOAD" => IPS_OFFLOAD,
            "HW_OFFLOAD" => IPS_HW_OFFLOAD,
            "UNREPLIED" if !neg => {
                f.status_clear |= IPS_SEEN_REPLY;
                return Ok(());
            }
            "UNREPLIED" => return bad("Bad parameter `!UNREPLIED'"),
            _ => 0, // UNSET
        };
        if neg {
            f.status_clear |= bit;
        } else {
            f.status_set |= bit;
        }
        Ok(())
    })
}

/// `-e`: `ALL`, `NEW`, `UPDATES`, `DESTROY` (rustfilter has no update
/// events: `UPDATES` selects nothing).
fn parse_events(arg: &str, mask: &mut EventMask) -> R<()> {
    parse_list(arg, &["ALL", "NEW", "UPDATES", "DESTROY"], |name, neg| {
        if neg {
            return bad(format!("Bad parameter `!{name}'"));
        }
        match name {
            "ALL" => {
                mask.new = true;
                mask.destroy = true;
            }
            "NEW" => mask.new = true,
            "DESTROY" => mask.destroy = true,
            _ => {}
        }
        Ok(())
    })
}

/// `-o`: conntrack's output words; rfctl has `extended` and `timestamp`.
fn parse_output(arg: &str, s: &mut Seen) -> R<()> {
    const NAMES: &[&str] = &[
        "xml",
        "extended",
        "timestamp",
        "id",
        "ktimestamp",
        "labels",
        "userspace",
        "save",
    ];
    parse_list(arg, NAMES, |name, neg| match (name, neg) {
        (_, true) => bad(format!("Bad parameter `!{name}'")),
        ("extended", _) => {
            s.extended = true;
            Ok(())
        }
        ("timestamp", _) => {
            s.timestamp = true;
            Ok(())
        }
        _ => bad(format!(
            "output format `{name}' is not supported by rfctl conntrack"
        )),
    })
}

/// `--state`: a TCP state name, any case (`LISTEN` is `SYN_SENT2`'s old name).
fn parse_tcp_state(s: &str) -> R<u8> {
    if s.eq_ignore_ascii_case("LISTEN") {
        return Ok(TcpState::SynSent2 as u8);
    }
    TcpState::ALL
        .iter()
        .find(|t| t.name().eq_ignore_ascii_case(s))
        .map_or_else(|| bad(format!("unknown TCP state `{s}'")), |t| Ok(*t as u8))
}

/// `--set-timeout NAME=SECONDS[,NAME=SECONDS...]`.
fn parse_timeouts(arg: &str, out: &mut Vec<(u16, u32)>) -> R<()> {
    for item in arg.split(',') {
        let Some((name, secs)) = item.split_once('=') else {
            return bad(format!("`{item}': expected NAME=SECONDS"));
        };
        let Some(&(_, attr)) = TIMEOUT_NAMES.iter().find(|t| t.0 == name) else {
            return bad(format!("unknown timeout `{name}'"));
        };
        let secs = match secs.parse::<u32>() {
            Ok(n) if (1..=MAX_TIMEOUT).contains(&n) && secs.bytes().all(|b| b.is_ascii_digit()) => {
                n
            }
            _ => {
                return bad(format!(
                    "invalid timeout `{secs}' for {name}: 1 to {MAX_TIMEOUT} seconds"
                ))
            }
        };
        out.retain(|t| t.0 != attr);
        out.push((attr, secs));
    }
    Ok(())
}

/// `--event-timeout`: seconds, maybe with a fraction.
fn parse_seconds(s: &str) -> R<Duration> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e9 && !s.starts_with('+') => {
            Ok(Duration::from_secs_f64(v))
        }
        _ => bad(format!("invalid number of seconds `{s}'")),
    }
}

impl Seen {
    fn command(&mut self, cmd: Cmd) -> R<()> {
        if self.cmd.is_some() {
            return bad("Invalid commands combination");
        }
        self.cmd = Some(cmd);
        Ok(())
    }

    /// Apply option `id`, spelt `typed`, with its argument.
    fn apply(&mut self, id: Id, typed: &str, arg: Option<&str>) -> R<()> {
        let val = || arg.unwrap_or_default();
        let f = &mut self.filter;
        match id {
            Id::Dump | Id::Get | Id::Delete | Id::Flush | Id::Event | Id::Counter => {
                if let Some(t) = arg {
                    check_table(t)?;
                }
                self.command(match id {
                    Id::Dump => Cmd::List,
                    Id::Get => Cmd::Get,
                    Id::Delete => Cmd::Delete,
                    Id::Flush => Cmd::Flush,
                    Id::Event => Cmd::Event,
                    _ => Cmd::Count,
                })?;
            }
            Id::Stats => self.command(Cmd::Stats)?,
            Id::Version => self.command(Cmd::Version)?,
            Id::Help => self.command(Cmd::Help)?,
            Id::Src => f.orig_src = Some(parse_net(val())?),
            Id::Dst => f.orig_dst = Some(parse_net(val())?),
            Id::ReplySrc => f.reply_src = Some(parse_host(val(), "reply-src")?),
            Id::ReplyDst => f.reply_dst = Some(parse_host(val(), "reply-dst")?),
            Id::Proto => {
                f.proto = Some(parse_proto(val())?);
            }
            Id::Status => parse_status(val(), f)?,
            Id::EventMask => {
                let mut m = EventMask {
                    new: false,
                    destroy: false,
                };
                parse_events(val(), &mut m)?;
                self.events = Some(m);
            }
            Id::Mark => f.mark = Some(parse_mark(val())?),
            Id::Output => parse_output(val(), self)?,
            Id::Family => {
                let v = val();
                if v.starts_with("ipv6") {
                    return bad("`ipv6': rustfilter tracks IPv4 connections only");
                } else if !v.starts_with("ipv4") {
                    return bad(format!("`{v}' unsupported protocol"));
                }
            }
            Id::Sport => f.orig_sport = Some(parse_u16(val(), "port")?),
            Id::Dport => f.orig_dport = Some(parse_u16(val(), "port")?),
            Id::ReplySport => f.reply_sport = Some(parse_u16(val(), "port")?),
            Id::ReplyDport => f.reply_dport = Some(parse_u16(val(), "port")?),
            Id::State => f.tcp_state = Some(parse_tcp_state(val())?),
            Id::IcmpType => f.icmp_type = Some(parse_u8(val(), "ICMP type")?),
            Id::IcmpCode => f.icmp_code = Some(parse_u8(val(), "ICMP code")?),
            Id::IcmpIdent => f.icmp_id = Some(parse_u16(val(), "ICMP id")?),
            Id::SetMax => {
                self.set_max = match parse_uint(val()) {
                    Some(n) if (1..=u64::from(u32::MAX)).contains(&n) => Some(n as u32),
                    _ => return bad(format!("invalid maximum `{}': 1 to {}", val(), u32::MAX)),
                }
            }
            Id::SetTimeout => parse_timeouts(val(), &mut self.set_timeouts)?,
            Id::SetAutoHelper => {
                self.set_auto_helper = match val() {
                    "on" => Some(true),
                    "off" => Some(false),
                    v => return bad(format!("invalid --set-auto-helper `{v}': on or off")),
                }
            }
            Id::EventCount => {
                self.event_count = match parse_uint(val()) {
                    Some(n) if n >= 1 => Some(n),
                    _ => return bad(format!("invalid number of events `{}'", val())),
                }
            }
            Id::EventTimeout => self.event_timeout = Some(parse_seconds(val())?),
            Id::Unsupported => {
                return bad(format!("`{typed}' is not supported by rfctl conntrack"))
            }
        }
        self.given.push(id);
        Ok(())
    }
}

/// Read the arguments after `conntrack`.
pub fn parse(args: &[String]) -> R<Opts> {
    let mut s = Seen::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        // The argument of an option: attached, else the next word.
        let mut take = |arg: Arg, attached: Option<&str>, typed: &str| -> R<Option<String>> {
            match (arg, attached) {
                (Arg::No, _) => Ok(None),
                (_, Some(v)) => Ok(Some(v.to_string())),
                (Arg::Required, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Ok(Some(v.clone()))
                    }
                    None => bad(format!("option `{typed}' requires an argument")),
                },
                (Arg::Optional, None) => match args.get(i) {
                    Some(v) if !v.starts_with('-') && !v.starts_with('!') => {
                        i += 1;
                        Ok(Some(v.clone()))
                    }
                    _ => Ok(None),
                },
            }
        };
        if let Some(long) = a.strip_prefix("--") {
            if long.is_empty() {
                if let Some(extra) = args.get(i) {
                    return bad(format!("unexpected argument `{extra}'"));
                }
                break;
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let sp = lookup_long(name)?;
            if sp.arg == Arg::No && inline.is_some() && sp.id != Id::Unsupported {
                return bad(format!("option `--{}' doesn't allow an argument", sp.long));
            }
            let typed = format!("--{name}");
            let v = take(sp.arg, inline, &typed)?;
            s.apply(sp.id, &typed, v.as_deref())?;
        } else if a.len() > 1 && a.starts_with('-') {
            // A cluster of short options: `-Ln`, `-ptcp`.
            let body = &a[1..];
            for (pos, c) in body.char_indices() {
                let Some(sp) = SPECS.iter().find(|s| s.short == Some(c)) else {
                    return bad(format!("unknown option `{a}'"));
                };
                let rest = &body[pos + c.len_utf8()..];
                let typed = format!("-{c}");
                if sp.arg == Arg::No {
                    s.apply(sp.id, &typed, None)?;
                    continue;
                }
                let attached = (!rest.is_empty()).then_some(rest);
                let v = take(sp.arg, attached, &typed)?;
                s.apply(sp.id, &typed, v.as_deref())?;
                break;
            }
        } else {
            return bad(format!("unexpected argument `{a}'"));
        }
    }
    finish(s)
}

/// Whether command `cmd` takes option `id` (conntrack's
/// `commands_v_options`, with rfctl's options).
fn legal(cmd: Cmd, id: Id) -> bool {
    use Id::*;
    let tuple = matches!(
        id,
        Src | Dst
            | ReplySrc
            | ReplyDst
            | Proto
            | Family
            | Sport
            | Dport
            | ReplySport
            | ReplyDport
            | State
            | IcmpType
            | IcmpCode
            | IcmpIdent
    );
    match cmd {
        Cmd::List | Cmd::Delete => tuple || matches!(id, Status | Mark | Output),
        Cmd::Get => tuple || id == Output,
        Cmd::Event => tuple || matches!(id, Mark | Output | EventMask | EventCount | EventTimeout),
        Cmd::Flush => id == Family,
        Cmd::Set => matches!(id, SetMax | SetTimeout | SetAutoHelper),
        Cmd::Help => true,
        Cmd::Count | Cmd::Stats | Cmd::Version => false,
    }
}

fn finish(s: Seen) -> R<Opts> {
    let set = s.set_max.is_some() || !s.set_timeouts.is_empty() || s.set_auto_helper.is_some();
    let cmd = match s.cmd {
        Some(c) => c,
        None if set => Cmd::Set,
        None if s.given.is_empty() => Cmd::Help,
        None => {
            return bad(
                "no command specified (-L, -G, -D, -F, -E, -C, -S, --set-max or --set-timeout)",
            )
        }
    };
    for &id in &s.given {
        let is_cmd = matches!(
            id,
            Id::Dump
                | Id::Get
                | Id::Delete
                | Id::Flush
                | Id::Event
                | Id::Counter
                | Id::Stats
                | Id::Version
                | Id::Help
        );
        if !is_cmd && !legal(cmd, id) {
            return bad(format!("Illegal option `--{}' with this command", flag(id)));
        }
    }
    let f = &s.filter;
    let p = f.proto;
    let ports = [
        (f.orig_sport.is_some(), Id::Sport),
        (f.orig_dport.is_some(), Id::Dport),
        (f.reply_sport.is_some(), Id::ReplySport),
        (f.reply_dport.is_some(), Id::ReplyDport),
    ];
    for (given, id) in ports {
        if given && !matches!(p, Some(6 | 17)) {
            return bad(format!(
                "option `--{}' needs `-p tcp' or `-p udp'",
                flag(id)
            ));
        }
    }
    if f.tcp_state.is_some() && p != Some(6) {
        return bad("option `--state' needs `-p tcp'");
    }
    for (given, id) in [
        (f.icmp_type.is_some(), Id::IcmpType),
        (f.icmp_code.is_some(), Id::IcmpCode),
        (f.icmp_id.is_some(), Id::IcmpIdent),
    ] {
        if given && p != Some(1) {
            return bad(format!("option `--{}' needs `-p icmp'", flag(id)));
        }
    }
    let mut opts = Opts {
        cmd,
        filter: s.filter.clone(),
        tuple: None,
        events: s.events.unwrap_or(EventMask {
            new: true,
            destroy: true,
        }),
        extended: s.extended,
        timestamp: s.timestamp,
        event_count: s.event_count,
        event_timeout: s.event_timeout,
        set_max: s.set_max,
        set_timeouts: s.set_timeouts,
        set_auto_helper: s.set_auto_helper,
    };
    if cmd == Cmd::Get {
        get_tuple(&mut opts)?;
    }
    Ok(opts)
}

/// `-G`: the tuple of the options, original direction if `-s` and `-d`
/// are given, else reply direction (`-r`, `-q`); the options that make
/// it are then no filter.
fn get_tuple(o: &mut Opts) -> R<()> {
    let f = &mut o.filter;
    let Some(proto) = f.proto else {
        return bad("You need to supply the `--protonum' option for this command");
    };
    let need = |msg: &str| bad(format!("you have to specify {msg}"));
    let orig = match (f.orig_src, f.orig_dst, f.reply_src, f.reply_dst) {
        (Some(s), Some(d), _, _) => {
            for (n, opt) in [(s, "src"), (d, "dst")] {
                if !n.is_host() {
                    return bad(format!("CIDR notation unavailable for `--{opt}' with -G"));
                }
            }
            Some((s.addr, d.addr))
        }
        (None, None, Some(_), _) | (None, None, _, Some(_)) => None,
        _ => return need("`--src' and `--dst'"),
    };
    let (saddr, daddr) = match orig {
        Some(a) => a,
        None => match (f.reply_src, f.reply_dst) {
            (Some(s), Some(d)) => (s, d),
            _ => return need("`--reply-src' and `--reply-dst'"),
        },
    };
    let tuple = match proto {
        6 | 17 => {
            let (sp, dp, names) = if orig.is_some() {
                (f.orig_sport, f.orig_dport, "`--sport' and `--dport'")
            } else {
                (
                    f.reply_sport,
                    f.reply_dport,
                    "`--reply-port-src' and `--reply-port-dst'",
                )
            };
            let (Some(sport), Some(dport)) = (sp, dp) else {
                return need(names);
            };
            Tuple {
                saddr,
                daddr,
                protocol: proto,
                sport,
                dport,
            }
        }
        1 => {
            let Some(t) = f.icmp_type else {
                return bad("You need to supply the `--icmp-type' option for this command");
            };
            let Some(c) = f.icmp_code else {
                return bad("You need to supply the `--icmp-code' option for this command");
            };
            Tuple::icmp(saddr, daddr, f.icmp_id.unwrap_or(0), t, c)
        }
        p => Tuple::other(saddr, daddr, p),
    };
    // What the lookup used is not filtered again: a reply tuple's ICMP
    // type is not the original's.
    if orig.is_some() {
        (f.orig_src, f.orig_dst, f.orig_sport, f.orig_dport) = (None, None, None, None);
    } else {
        (f.reply_src, f.reply_dst, f.reply_sport, f.reply_dport) = (None, None, None, None);
    }
    (f.icmp_type, f.icmp_code, f.icmp_id) = (None, None, None);
    o.tuple = Some(tuple);
    Ok(())
}
