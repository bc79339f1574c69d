// SPDX-License-Identifier: GPL-2.0

//! rfserve: minimal FTP and TFTP servers and clients for the selftests of
//! rustfilter's connection-tracking helpers, and echo servers and clients
//! that say which addresses they saw, for the NAT selftests. std only.
//! See `rfserve --help`.

mod echo;
mod ftp;
mod ftp_client;
mod proto;
mod sock;
mod tftp;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: rfserve ftp  [--port 21] --root DIR [--bind ADDR] [--data-port 20] [--timeout S] [-v]
       rfserve tftp [--port 69] --root DIR [--bind ADDR] [--timeout S] [-v]
       rfserve ftp-get --server ADDR [--port 21] --mode active|eprt|passive|epsv
                       --file NAME --out PATH [--announce ADDR] [--timeout S] [-v]
       rfserve ftp-get --server ADDR [--port 21] --get MODE:NAME:PATH...
                       [--announce ADDR] [--timeout S] [-v]
       rfserve ftp-put --server ADDR [--port 21] --mode active|eprt|passive|epsv
                       --file NAME --in PATH [--announce ADDR] [--timeout S] [-v]
       rfserve tftp-get --server ADDR [--port 69] --file NAME --out PATH [--timeout S]
       rfserve tftp-put --server ADDR [--port 69] --file NAME --in PATH [--timeout S]
       rfserve echo [--port 7] [--bind ADDR] [--proto tcp|udp|both] [--tag TEXT]
                    [--peer] [--sink] [-v]
       rfserve echo-client --server ADDR [--port 7] [--proto udp|tcp] [--bind ADDR]
                           [--sport P] [--data TEXT] [--connect] [--timeout S]
       rfserve udp-flow --server ADDR [--port 7] [--bind ADDR] [--sport P]
                        [--count 50] [--interval 0.1] [--data flow]
       rfserve udp-many --server ADDR [--port 7] [--count N] [--timeout S]
                        [--resend S] [--expect-peer ADDR]

ftp: any user and password; SYST TYPE MODE STRU FEAT OPTS NOOP PWD CWD CDUP
PORT EPRT PASV EPSV SIZE RETR STOR LIST NLST QUIT. Active data connections
come from --data-port (20, which needs root; 0 for any) of the control
connection's local address, to whatever address PORT or EPRT names (no
bounce check: the firewall is what the selftests test). PASV and EPSV
listen on an ephemeral port of that address. --timeout (5 s) bounds the
wait for a data connection.

tftp: RRQ and WRQ in octet mode (netascii taken as octet), 512-byte blocks,
each transfer from a new ephemeral port; options are ignored. --timeout
(1 s) is the wait before a packet is sent again (5 tries).

ftp-get, ftp-put: one transfer in the mode given (active = PORT, eprt =
EPRT, passive = PASV, epsv = EPSV), then QUIT, which must be answered.
ftp-get --get MODE:NAME:PATH (repeated, instead of --mode, --file and
--out): several downloads in one session, in the order given, each in its
own mode. --announce ADDR: for active and eprt, listen on and announce
ADDR instead of the control connection's address. --timeout (5 s) bounds
each connection and reply.

tftp-get, tftp-put: one transfer; --timeout (1 s) as for the server.

echo: echoes TCP connections (until the peer shuts down its side) and UDP
datagrams (the answer from the address the datagram was sent to), on both
by default. The answer starts with --tag TEXT and a space, then with
--peer the peer's address:port and a space (the peer as it reached the
server: after NAT), then the data. -v logs each exchange to stderr:
  rfserve echo: udp 10.0.2.1:20001 -> 10.0.2.2:7: \"hello\"

echo-client: one exchange (--data, default \"hello\"; TCP: sent, our side
shut down, everything read until the server closes). Prints
  from=ADDR:PORT local=ADDR:PORT reply=TEXT
where from is where the answer came from. --connect (UDP) connects the
socket: an ICMP port unreachable is then reported as \"connection refused\".
--timeout (3 s) bounds the connection and the wait for the answer.

udp-flow: a one-way flow: --count datagrams \"DATA 0\", \"DATA 1\"...
(--data, default \"flow\") from one socket (--bind, --sport: its address),
one every --interval seconds, nothing read. Prints
  udp-flow: LOCAL -> SERVER: N datagrams every S s: N sent, N not sent, T s
and each datagram that could not be sent on stderr; fails if any.

udp-many: --count (100) UDP sockets open at once, each sending its own
datagram (\"many I NONCE\") to an echo server, again every --resend (1 s)
until answered or --timeout (10 s); every answer must come from the
server and carry the socket's own data; when the server names the peers
(--peer) they must all differ, and with --expect-peer all be at ADDR.
Prints a summary line, and the problems on stderr.

Clients exit 0 when the transfer or exchange completed, 1 with a message
otherwise.
";

/// The options after the subcommand: `--name value` or `--name=value`
/// for `valued`, `--name` (or `-v`) for `flags`. An option given twice
/// counts the second time (`Opts::all` has every value, in order).
fn options(args: &[String], valued: &[&str], flags: &[&str]) -> Result<Opts, String> {
    let mut m = HashMap::new();
    let mut all = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = if a == "-v" { "--verbose" } else { a.as_str() };
        let Some(name) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument {a:?}"));
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        if flags.contains(&name) {
            if inline.is_some() {
                return Err(format!("--{name} takes no value"));
            }
            m.insert(name.to_string(), String::new());
        } else if valued.contains(&name) {
            let v = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?
                    .clone(),
            };
            all.push((name.to_string(), v.clone()));
            m.insert(name.to_string(), v);
        } else {
            return Err(format!("unknown option --{name}"));
        }
    }
    Ok(Opts(m, all))
}

/// Typed access to parsed options: the last value of each, and every
/// value of the valued ones in the order given.
struct Opts(HashMap<String, String>, Vec<(String, String)>);

impl Opts {
    /// Every value of `name`, in order.
    fn all(&self, name: &str) -> Vec<&str> {
        self.1
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: invalid value {v:?}")),
        }
    }

    fn secs(&self, name: &str, default: f64) -> Result<Duration, String> {
        let s: f64 = self.parsed(name, default)?;
        if !(s > 0.0 && s < 1e6) {
            return Err(format!("--{name}: must be positive"));
        }
        Ok(Duration::from_secs_f64(s))
    }

    fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn root(&self) -> Result<PathBuf, String> {
        let root = PathBuf::from(self.required("root")?);
        if !root.is_dir() {
            return Err(format!("--root {}: not a directory", root.display()));
        }
        Ok(root)
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err("a command is needed (see --help)".into());
    };
    let server_opts = ["port", "root", "bind", "data-port", "timeout"];
    let client_opts = [
        "server", "port", "mode", "file", "out", "in", "announce", "timeout",
    ];
    match cmd.as_str() {
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        "ftp" => {
            let o = options(rest, &server_opts, &["verbose"])?;
            let bind: Ipv4Addr = o.parsed("bind", Ipv4Addr::UNSPECIFIED)?;
            let port: u16 = o.parsed("port", 21)?;
            let config = ftp::Config {
                root: o.root()?,
                data_port: o.parsed("data-port", 20)?,
                timeout: o.secs("timeout", 5.0)?,
                verbose: o.flag("verbose"),
            };
            let l = TcpListener::bind(SocketAddrV4::new(bind, port))
                .map_err(|e| format!("ftp: {bind}:{port}: {e}"))?;
            eprintln!(
                "rfserve ftp: listening on {}",
                l.local_addr().map_err(|e| e.to_string())?
            );
            ftp::serve(l, config).map_err(|e| format!("ftp: {e}"))
        }
        "tftp" => {
            let o = options(rest, &["port", "root", "bind", "timeout"], &["verbose"])?;
            let bind: Ipv4Addr = o.parsed("bind", Ipv4Addr::UNSPECIFIED)?;
            let port: u16 = o.parsed("port", 69)?;
            let config = tftp::Config {
                root: o.root()?,
                bind,
                retry: o.secs("timeout", 1.0)?,
                verbose: o.flag("verbose"),
            };
            let s = UdpSocket::bind(SocketAddrV4::new(bind, port))
                .map_err(|e| format!("tftp: {bind}:{port}: {e}"))?;
            eprintln!(
                "rfserve tftp: listening on {}",
                s.local_addr().map_err(|e| e.to_string())?
            );
            tftp::serve(s, config).map_err(|e| format!("tftp: {e}"))
        }
        "ftp-get" | "ftp-put" => {
            let put = cmd == "ftp-put";
            let mut valued = client_opts.to_vec();
            if !put {
                valued.push("get");
            }
            let o = options(rest, &valued, &["verbose"])?;
            o.required("server")?;
            let other = if put { "out" } else { "in" };
            if o.0.contains_key(other) {
                return Err(format!("{cmd}: --{other} is for the other direction"));
            }
            let gets = o.all("get");
            let steps = if gets.is_empty() {
                let local = PathBuf::from(o.required(if put { "in" } else { "out" })?);
                let mode = o.required("mode")?;
                vec![ftp_client::Step {
                    mode: ftp_client::Mode::parse(mode)
                        .ok_or_else(|| format!("--mode: unknown mode {mode:?}"))?,
                    file: o.required("file")?.to_string(),
                    transfer: if put {
                        ftp_client::Transfer::Put(local)
                    } else {
                        ftp_client::Transfer::Get(local)
                    },
                }]
            } else {
                if let Some(n) = ["mode", "file", "out"]
                    .iter()
                    .find(|n| o.0.contains_key(**n))
                {
                    return Err(format!("{cmd}: --{n} does not go with --get"));
                }
                gets.iter()
                    .map(|g| ftp_client::Step::parse_get(g).map_err(|e| format!("--get: {e}")))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let job = ftp_client::Job {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 21)?,
                ),
                steps,
                announce: o
                    .0
                    .get("announce")
                    .map(|a| a.parse())
                    .transpose()
                    .map_err(|_| "--announce: not an IPv4 address".to_string())?,
                timeout: o.secs("timeout", 5.0)?,
                verbose: o.flag("verbose"),
            };
            ftp_client::run(&job)
                .map(drop)
                .map_err(|e| format!("{cmd}: {e}"))
        }
        "tftp-get" | "tftp-put" => {
            let put = cmd == "tftp-put";
            let o = options(
                rest,
                &["server", "port", "file", "out", "in", "timeout"],
                &[],
            )?;
            let local = PathBuf::from(o.required(if put { "in" } else { "out" })?);
            o.required("server")?;
            let job = tftp::Job {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 69)?,
                ),
                file: o.required("file")?.to_string(),
                put,
                local,
                retry: o.secs("timeout", 1.0)?,
            };
            tftp::client(&job)
                .map(drop)
                .map_err(|e| format!("{cmd}: {e}"))
        }
        "echo" => {
            let o = options(
                rest,
                &["port", "bind", "proto", "tag"],
                &["peer", "verbose", "sink"],
            )?;
            let bind: Ipv4Addr = o.parsed("bind", Ipv4Addr::UNSPECIFIED)?;
            let port: u16 = o.parsed("port", 7)?;
            let (tcp, udp) = match o.0.get("proto").map(String::as_str) {
                None | Some("both") => (true, true),
                Some("tcp") => (true, false),
                Some("udp") => (false, true),
                Some(p) => return Err(format!("--proto: unknown protocol {p:?}")),
            };
            let config = echo::Config {
                tag: o.0.get("tag").cloned(),
                peer: o.flag("peer"),
                verbose: o.flag("verbose"),
                sink: o.flag("sink"),
            };
            if config.sink && tcp {
                return Err("--sink is for --proto udp".into());
            }
            let a = SocketAddrV4::new(bind, port);
            // Both bound before either serves: the caller may wait for
            // the ports to be there.
            let u = if udp {
                Some(UdpSocket::bind(a).map_err(|e| format!("echo: udp {a}: {e}"))?)
            } else {
                None
            };
            let t = if tcp {
                Some(TcpListener::bind(a).map_err(|e| format!("echo: tcp {a}: {e}"))?)
            } else {
                None
            };
            eprintln!(
                "rfserve echo: listening on {a}{}{}",
                if tcp { " tcp" } else { "" },
                if udp { " udp" } else { "" }
            );
            match (t, u) {
                (Some(t), Some(u)) => {
                    let c = config.clone();
                    std::thread::spawn(move || {
                        if let Err(e) = echo::serve_udp(u, &c) {
                            eprintln!("rfserve: echo: udp: {e}");
                            std::process::exit(1);
                        }
                    });
                    echo::serve_tcp(t, &config).map_err(|e| format!("echo: tcp: {e}"))
                }
                (Some(t), None) => {
                    echo::serve_tcp(t, &config).map_err(|e| format!("echo: tcp: {e}"))
                }
                (None, Some(u)) => {
                    echo::serve_udp(u, &config).map_err(|e| format!("echo: udp: {e}"))
                }
                (None, None) => unreachable!(),
            }
        }
        "echo-client" => {
            let o = options(
                rest,
                &[
                    "server", "port", "proto", "bind", "sport", "data", "timeout",
                ],
                &["connect"],
            )?;
            o.required("server")?;
            let tcp = match o.0.get("proto").map(String::as_str) {
                None | Some("udp") => false,
                Some("tcp") => true,
                Some(p) => return Err(format!("--proto: unknown protocol {p:?}")),
            };
            if tcp && o.flag("connect") {
                return Err("--connect is for UDP".into());
            }
            let job = echo::Job {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 7)?,
                ),
                tcp,
                local: SocketAddrV4::new(
                    o.parsed("bind", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("sport", 0)?,
                ),
                data: o
                    .0
                    .get("data")
                    .map_or("hello", String::as_str)
                    .as_bytes()
                    .to_vec(),
                connect: o.flag("connect"),
                timeout: o.secs("timeout", 3.0)?,
            };
            let a = echo::exchange(&job).map_err(|e| format!("echo-client: {e}"))?;
            println!("{}", a.line());
            Ok(())
        }
        "udp-flow" => {
            let o = options(
                rest,
                &[
                    "server", "port", "bind", "sport", "count", "interval", "data",
                ],
                &[],
            )?;
            o.required("server")?;
            let job = echo::FlowJob {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 7)?,
                ),
                local: SocketAddrV4::new(
                    o.parsed("bind", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("sport", 0)?,
                ),
                count: o.parsed("count", 50)?,
                interval: o.secs("interval", 0.1)?,
                data: o.0.get("data").cloned().unwrap_or_else(|| "flow".into()),
            };
            if job.count == 0 || job.count > 1_000_000 {
                return Err("--count: 1 to 1000000".into());
            }
            let r = echo::flow(&job).map_err(|e| format!("udp-flow: {e}"))?;
            println!("{}", r.summary(&job));
            for (i, e) in r.failed.iter().take(10) {
                eprintln!("rfserve udp-flow: datagram {i}: {e}");
            }
            if r.failed.is_empty() {
                Ok(())
            } else {
                Err(format!("udp-flow: {} datagrams not sent", r.failed.len()))
            }
        }
        "udp-many" => {
            let o = options(
                rest,
                &[
                    "server",
                    "port",
                    "count",
                    "timeout",
                    "resend",
                    "expect-peer",
                ],
                &[],
            )?;
            o.required("server")?;
            let job = echo::ManyJob {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 7)?,
                ),
                count: o.parsed("count", 100)?,
                timeout: o.secs("timeout", 10.0)?,
                resend: o.secs("resend", 1.0)?,
            };
            if job.count == 0 || job.count > 60000 {
                return Err("--count: 1 to 60000".into());
            }
            let expect: Option<Ipv4Addr> =
                o.0.get("expect-peer")
                    .map(|a| a.parse())
                    .transpose()
                    .map_err(|_| "--expect-peer: not an IPv4 address".to_string())?;
            let r = echo::many(&job).map_err(|e| format!("udp-many: {e}"))?;
            println!("{}", r.summary());
            let problems = r.problems(expect, 10);
            for p in &problems {
                eprintln!("rfserve udp-many: {p}");
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(format!("udp-many: {} problems", problems.len()))
            }
        }
        _ => Err(format!("unknown command {cmd:?} (see --help)")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rfserve: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
