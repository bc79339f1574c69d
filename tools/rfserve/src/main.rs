// SPDX-License-Identifier: GPL-2.0

//! rfserve: minimal FTP and TFTP servers and clients for the selftests of
//! rustfilter's connection-tracking helpers. std only. See `rfserve
//! --help`.

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
       rfserve ftp-put --server ADDR [--port 21] --mode active|eprt|passive|epsv
                       --file NAME --in PATH [--announce ADDR] [--timeout S] [-v]
       rfserve tftp-get --server ADDR [--port 69] --file NAME --out PATH [--timeout S]
       rfserve tftp-put --server ADDR [--port 69] --file NAME --in PATH [--timeout S]

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
EPRT, passive = PASV, epsv = EPSV). --announce ADDR: for active and eprt,
listen on and announce ADDR instead of the control connection's address.
--timeout (5 s) bounds each connection and reply.

tftp-get, tftp-put: one transfer; --timeout (1 s) as for the server.

Clients exit 0 when the transfer completed, 1 with a message otherwise.
";

/// The options after the subcommand: `--name value` or `--name=value`
/// for `valued`, `--name` (or `-v`) for `flags`.
fn options(
    args: &[String],
    valued: &[&str],
    flags: &[&str],
) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
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
            m.insert(name.to_string(), v);
        } else {
            return Err(format!("unknown option --{name}"));
        }
    }
    Ok(m)
}

/// Typed access to parsed options.
struct Opts(HashMap<String, String>);

impl Opts {
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
            let o = Opts(options(rest, &server_opts, &["verbose"])?);
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
            let o = Opts(options(
                rest,
                &["port", "root", "bind", "timeout"],
                &["verbose"],
            )?);
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
            let o = Opts(options(rest, &client_opts, &["verbose"])?);
            let local = PathBuf::from(o.required(if put { "in" } else { "out" })?);
            if o.0.contains_key(if put { "out" } else { "in" }) {
                return Err(format!(
                    "{cmd}: --{} is for the other direction",
                    if put { "out" } else { "in" }
                ));
            }
            let mode = o.required("mode")?;
            let job = ftp_client::Job {
                server: SocketAddrV4::new(
                    o.parsed("server", Ipv4Addr::UNSPECIFIED)?,
                    o.parsed("port", 21)?,
                ),
                mode: ftp_client::Mode::parse(mode)
                    .ok_or_else(|| format!("--mode: unknown mode {mode:?}"))?,
                file: o.required("file")?.to_string(),
                transfer: if put {
                    ftp_client::Transfer::Put(local)
                } else {
                    ftp_client::Transfer::Get(local)
                },
                announce: o
                    .0
                    .get("announce")
                    .map(|a| a.parse())
                    .transpose()
                    .map_err(|_| "--announce: not an IPv4 address".to_string())?,
                timeout: o.secs("timeout", 5.0)?,
                verbose: o.flag("verbose"),
            };
            o.required("server")?;
            ftp_client::run(&job)
                .map(drop)
                .map_err(|e| format!("{cmd}: {e}"))
        }
        "tftp-get" | "tftp-put" => {
            let put = cmd == "tftp-put";
            let o = Opts(options(
                rest,
                &["server", "port", "file", "out", "in", "timeout"],
                &[],
            )?);
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
