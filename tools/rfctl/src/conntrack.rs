// SPDX-License-Identifier: GPL-2.0

//! `rfctl conntrack`: the connection tracking table, with the commands,
//! options, output and exit status of conntrack(8) from conntrack-tools
//! 1.4.7 (`-L`, `-G`, `-D`, `-F`, `-E`, `-C`, `-S`), and two rfctl
//! extensions for what Linux's `nf_conntrack_*` sysctls do
//! (`--set-max`, `--set-timeout`).
//!
//! `args` reads the command line, `entry` reads connections from the
//! kernel's messages and prints them as conntrack does, `filter` picks
//! the connections the options select, `events` follows the `ct-events`
//! multicast group.
//!
//! conntrack's messages start with `conntrack v1.4.7 (conntrack-tools): `;
//! rfctl's start with [`PREFIX`] instead, so that nothing claims to be
//! conntrack-tools, and end the same way (`3 flow entries have been
//! shown.`), so that scripts reading them keep working.

mod args;
mod entry;
mod events;
mod filter;
#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::process::ExitCode;

use rfcore::nla::Writer;
use rfcore::proto;

use crate::error::{Error, ENOENT, EPERM};
use crate::netlink::{Client, Transport};

use args::{Cmd, Opts, Usage};
use entry::{decode_entries, format};

/// What rfctl's conntrack messages start with (conntrack's own is
/// `conntrack v1.4.7 (conntrack-tools): `).
pub const PREFIX: &str = "rfctl conntrack (rustfilter): ";

/// The hint after a command line problem.
pub const HINT: &str = "Try `rfctl conntrack -h' or 'rfctl conntrack --help' for more information.";

/// Help text of `rfctl conntrack`.
pub const USAGE: &str = "\
Usage: rfctl conntrack COMMAND [options]

Show and change rustfilter's connection tracking table in the caller's
network namespace, with the commands, options and output of conntrack(8)
(conntrack-tools 1.4.7). All commands need CAP_NET_ADMIN.

Commands:
  -L, --dump [conntrack]        list connections (the filters select)
  -G, --get  parameters         show one connection: -p, -s and -d (or -r
                                and -q), --sport and --dport (or
                                --reply-port-src and --reply-port-dst) for
                                tcp and udp, --icmp-type and --icmp-code
                                (and --icmp-id) for icmp
  -D, --delete [filters]        delete every connection the filters select
  -F, --flush                   delete all connections
  -E, --event [options]         show connection events until interrupted
  -C, --counter                 show the number of connections
  -S, --stats                   show the statistics
  --set-auto-helper on|off      whether new connections get the helper of
                                their port (ftp 21/tcp, tftp 69/udp; on by
                                default); off: only by -j CT --helper
                                (rfctl extension: the nf_conntrack_helper
                                sysctl)
  --set-max N                   most connections in the namespace
                                (rfctl extension: the nf_conntrack_max sysctl)
  --set-timeout NAME=SECONDS[,NAME=SECONDS...]
                                default timeouts, 1 to 2147483647 seconds
                                (rfctl extension: the nf_conntrack_*_timeout
                                sysctls); NAME is tcp_syn_sent, tcp_syn_recv,
                                tcp_established, tcp_fin_wait, tcp_close_wait,
                                tcp_last_ack, tcp_time_wait, tcp_close,
                                tcp_retrans, tcp_unack, udp_unreplied,
                                udp_replied, icmp or generic
  -V, --version                 show the version
  -h, --help                    show this help

Filters (-L, -D, -E):
  -p, --protonum proto          tcp, udp, icmp, another name or a number
  -s, --src, --orig-src ip[/len]  source of the original direction
  -d, --dst, --orig-dst ip[/len]  destination of the original direction
  -r, --reply-src ip            source of the reply direction
  -q, --reply-dst ip            destination of the reply direction
  --sport, --orig-port-src port   --dport, --orig-port-dst port
  --reply-port-src port         --reply-port-dst port    (with -p tcp|udp)
  --state STATE                 TCP state, e.g. ESTABLISHED  (with -p tcp)
  --icmp-type T  --icmp-code C  --icmp-id ID             (with -p icmp)
  -m, --mark mark[/mask]        connections whose (mark & mask) is mark
                                (not -G)
  -u, --status STATUS[,...]     ASSURED, SEEN_REPLY, FIXED_TIMEOUT, EXPECTED,
                                OFFLOAD, HW_OFFLOAD, UNSET; !STATUS: not
                                set; UNREPLIED: no reply seen (-L, -D)
  -f, --family ipv4             the only family rustfilter tracks

Output and events:
  -o, --output extended[,timestamp]
                                extended: start with \"ipv4     2\";
                                timestamp: -E lines start with the time
  -e, --event-mask EVENT[,...]  (-E) NEW, DESTROY, ALL (UPDATES: none)
  --event-count N               (-E) stop after N events; exit status 1 if
                                --event-timeout ends the wait first
  --event-timeout SECONDS       (-E) stop after SECONDS (e.g. 2.5)
                                (both rfctl extensions)

Lines are conntrack's, e.g.
  tcp      6 431999 ESTABLISHED src=10.0.1.2 dst=10.0.2.2 sport=40000 \\
dport=5001 src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 [ASSURED] mark=0 use=1
and the summary (\"N flow entries have been shown.\") goes to standard error.

Exit status: 0 on success; 1 on failure, and when -G, -D or -E (with
--event-count) found nothing; 2 for a wrong command line.
";

/// The version line (`conntrack -V`'s shape).
pub fn version() -> String {
    format!(
        "rfctl conntrack v{} (rustfilter)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Run `rfctl conntrack` with the arguments after `conntrack`, printing
/// on the standard streams; the exit status.
pub fn main(args: &[String]) -> ExitCode {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = match args::parse(args) {
        Err(Usage(msg)) => {
            let _ = writeln!(err, "{PREFIX}{msg}\n{HINT}");
            2
        }
        Ok(o) => {
            let res = match o.cmd {
                Cmd::Help => put(&mut out, USAGE).map(|()| 0),
                Cmd::Version => put(&mut out, &version()).map(|()| 0),
                _ => {
                    if o.cmd == Cmd::Event {
                        events::catch_signals();
                    }
                    Client::open()
                        .and_then(|mut c| run(&mut c, &o, &mut out, &mut err, &events::stopped))
                }
            };
            let _ = out.flush();
            match res {
                Ok(code) => code,
                Err(e) => {
                    let _ = writeln!(err, "{PREFIX}{}", describe(&e, o.cmd));
                    1
                }
            }
        }
    };
    ExitCode::from(code)
}

/// The text of a failure, as conntrack words it (`Operation failed: ...`).
pub fn describe(e: &Error, cmd: Cmd) -> String {
    let eperm = "Operation failed: Operation not permitted \
                 (rfctl conntrack needs CAP_NET_ADMIN in this network namespace)";
    match e {
        Error::Kernel { errno: EPERM, .. } => eperm.to_string(),
        Error::Io { err, .. } if err.raw_os_error() == Some(EPERM) => eperm.to_string(),
        Error::Kernel { errno: ENOENT, .. } if matches!(cmd, Cmd::Get | Cmd::Delete) => {
            "Operation failed: such conntrack doesn't exist".to_string()
        }
        Error::Kernel { .. } => format!("Operation failed: {e}"),
        other => other.to_string(),
    }
}

/// Write `s` to standard output.
fn put(out: &mut dyn Write, s: &str) -> Result<(), Error> {
    out.write_all(s.as_bytes()).map_err(|err| Error::Io {
        what: "cannot write to standard output",
        err,
    })
}

/// Write one line to standard output.
fn line(out: &mut dyn Write, s: &str) -> Result<(), Error> {
    put(out, s)?;
    put(out, "\n")
}

/// Write the summary to standard error, after what is on standard output.
fn summary(out: &mut dyn Write, err: &mut dyn Write, s: &str) -> Result<(), Error> {
    out.flush().map_err(|err| Error::Io {
        what: "cannot write to standard output",
        err,
    })?;
    let _ = writeln!(err, "{PREFIX}{s}");
    Ok(())
}

/// Carry out `o` (not help or version) over `client`: connection lines
/// on `out`, summaries and warnings on `err`. `stop` says whether `-E`
/// was told to stop (SIGINT, SIGTERM). The exit status, 0 or 1.
pub fn run<T: Transport>(
    client: &mut Client<T>,
    o: &Opts,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: &dyn Fn() -> bool,
) -> Result<u8, Error> {
    let info = client.family_info(proto::GENL_NAME)?;
    let family = info.id;
    let ask = |client: &mut Client<T>, cmd: u8, payload: &[u8]| {
        client.request_raw(family, cmd, proto::GENL_VERSION, payload, false)
    };
    match o.cmd {
        Cmd::List => {
            let entries = decode_entries(&ask(client, proto::CMD_CT_LIST, &[])?)?;
            let mut n = 0;
            for e in entries.iter().filter(|e| o.filter.matches(e)) {
                line(out, &format(e, None, o.extended))?;
                n += 1;
            }
            summary(out, err, &format!("{n} flow entries have been shown."))?;
            Ok(0)
        }
        Cmd::Get => {
            let tuple = o
                .tuple
                .ok_or_else(|| Error::Internal("-G without a tuple".into()))?;
            let req = tuple_request(&tuple)?;
            let entries = decode_entries(&ask(client, proto::CMD_CT_GET, &req)?)?;
            let mut n = 0;
            for e in entries.iter().filter(|e| o.filter.matches(e)) {
                line(out, &format(e, None, o.extended))?;
                n += 1;
            }
            summary(out, err, &format!("{n} flow entries have been shown."))?;
            Ok(u8::from(n == 0))
        }
        Cmd::Delete => {
            let entries = decode_entries(&ask(client, proto::CMD_CT_LIST, &[])?)?;
            let mut n = 0;
            for e in entries.iter().filter(|e| o.filter.matches(e)) {
                match ask(client, proto::CMD_CT_DELETE, &tuple_request(&e.orig)?) {
                    // Gone between the listing and now.
                    Err(Error::Kernel { errno: ENOENT, .. }) => continue,
                    other => other?,
                };
                line(out, &format(e, None, o.extended))?;
                n += 1;
            }
            summary(out, err, &format!("{n} flow entries have been deleted."))?;
            Ok(u8::from(n == 0))
        }
        Cmd::Flush => {
            ask(client, proto::CMD_CT_FLUSH, &[])?;
            summary(out, err, "connection tracking table has been emptied.")?;
            Ok(0)
        }
        Cmd::Count => {
            let stats = decode_stats(&ask(client, proto::CMD_CT_STATS, &[])?)?;
            let count = stats
                .count
                .ok_or_else(|| Error::protocol("statistics without the number of connections"))?;
            line(out, &count.to_string())?;
            Ok(0)
        }
        Cmd::Stats => {
            let stats = decode_stats(&ask(client, proto::CMD_CT_STATS, &[])?)?;
            line(out, &stats_line(&stats))?;
            Ok(0)
        }
        Cmd::Set => {
            // Answered by a reply made before the change, not by an
            // acknowledgement made after it (see `Client::request_one`).
            client.request_one(
                family,
                proto::CMD_CT_SET,
                proto::GENL_VERSION,
                &set_request(o)?,
            )?;
            Ok(0)
        }
        Cmd::Event => events::run(client, &info, o, out, err, stop),
        Cmd::Help | Cmd::Version => Err(Error::Internal("help is not a request".into())),
    }
}

fn nla_internal(e: rfcore::nla::NlaError) -> Error {
    Error::Internal(format!("cannot build request: {e}"))
}

/// The attributes of `CT_GET` and `CT_DELETE`: `A_CT_TUPLE`.
pub fn tuple_request(t: &rfcore::conntrack::Tuple) -> Result<Vec<u8>, Error> {
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    entry::put_tuple(&mut w, proto::A_CT_TUPLE, t).map_err(nla_internal)?;
    Ok(w.as_bytes().to_vec())
}

/// The attributes of `CT_SET`: `A_CT_MAX`, `A_CT_TIMEOUTS`,
/// `A_CT_AUTO_HELPER`.
pub fn set_request(o: &Opts) -> Result<Vec<u8>, Error> {
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    (|| {
        if let Some(m) = o.set_max {
            w.put_u32(proto::A_CT_MAX, m)?;
        }
        if !o.set_timeouts.is_empty() {
            let n = w.begin_nest(proto::A_CT_TIMEOUTS)?;
            for &(attr, secs) in &o.set_timeouts {
                w.put_u32(attr, secs)?;
            }
            w.end_nest(n)?;
        }
        if let Some(a) = o.set_auto_helper {
            w.put_u32(proto::A_CT_AUTO_HELPER, a.into())?;
        }
        Ok(())
    })()
    .map_err(nla_internal)?;
    Ok(w.as_bytes().to_vec())
}

/// The statistics of `CT_STATS`; a field the kernel did not send is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtStats {
    /// Connections allocated.
    pub count: Option<u32>,
    /// The maximum.
    pub max: Option<u32>,
    /// Packets of known connections.
    pub found: Option<u64>,
    /// Connections made.
    pub new: Option<u64>,
    /// Packets that could not be tracked.
    pub invalid: Option<u64>,
    /// Confirmations lost to a clash.
    pub insert_failed: Option<u64>,
    /// Packets dropped.
    pub drop: Option<u64>,
    /// Connections evicted to make room.
    pub early_drop: Option<u64>,
}

/// The `A_CT_STATS` nest of the replies.
pub fn decode_stats(replies: &[Vec<u8>]) -> Result<CtStats, Error> {
    let bad = |e: rfcore::nla::NlaError| Error::protocol(format!("statistics: {e}"));
    let mut s = None;
    for r in replies {
        for a in rfcore::nla::Attrs::new(entry::body(r)) {
            let a = a.map_err(bad)?;
            if a.kind() != proto::A_CT_STATS {
                continue;
            }
            let mut st = CtStats::default();
            for f in a.nested() {
                let f = f.map_err(bad)?;
                match f.kind() {
                    proto::CTSTATS_COUNT => st.count = Some(f.get_u32().map_err(bad)?),
                    proto::CTSTATS_MAX => st.max = Some(f.get_u32().map_err(bad)?),
                    proto::CTSTATS_FOUND => st.found = Some(f.get_u64().map_err(bad)?),
                    proto::CTSTATS_NEW => st.new = Some(f.get_u64().map_err(bad)?),
                    proto::CTSTATS_INVALID => st.invalid = Some(f.get_u64().map_err(bad)?),
                    proto::CTSTATS_INSERT_FAILED => {
                        st.insert_failed = Some(f.get_u64().map_err(bad)?)
                    }
                    proto::CTSTATS_DROP => st.drop = Some(f.get_u64().map_err(bad)?),
                    proto::CTSTATS_EARLY_DROP => st.early_drop = Some(f.get_u64().map_err(bad)?),
                    _ => {} // CTSTATS_PAD, or newer than this rfctl
                }
            }
            s = Some(st);
        }
    }
    s.ok_or_else(|| Error::protocol("no statistics in the reply"))
}

/// `-S`: conntrack's per-CPU line (`cpu=%-4u\t` then `name=value ` per
/// counter) once, for the whole namespace: `entries` (as conntrack names
/// the count when it reads /proc/net/stat/nf_conntrack), the counters
/// conntrack also has, in its order, then `max` (rfctl's).
pub fn stats_line(s: &CtStats) -> String {
    let mut line = format!("cpu={:<4}\t", 0);
    let mut field = |name: &str, v: Option<u64>| {
        if let Some(v) = v {
            line.push_str(&format!("{name}={v} "));
        }
    };
    field("entries", s.count.map(u64::from));
    field("found", s.found);
    field("new", s.new);
    field("invalid", s.invalid);
    field("insert_failed", s.insert_failed);
    field("drop", s.drop);
    field("early_drop", s.early_drop);
    field("max", s.max.map(u64::from));
    line
}
