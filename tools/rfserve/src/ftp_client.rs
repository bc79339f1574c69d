// SPDX-License-Identifier: GPL-2.0

//! A minimal FTP client (busybox's ftpget and ftpput only do passive
//! mode): log in; for each transfer of the session, open the data
//! connection its mode says (PORT, EPRT, PASV, EPSV) and RETR or STOR one
//! file; quit, and want QUIT answered: several transfers over one control
//! connection check that it stays sound through NAT (an announcement
//! rewritten to another length shifts the sequence numbers of everything
//! after it).

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crate::proto;
use crate::sock;

/// How the data connection opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PORT: the server connects to us.
    Active,
    /// EPRT: the same, RFC 2428's way.
    Eprt,
    /// PASV: we connect to the address the server announces.
    Passive,
    /// EPSV: we connect to the port the server announces, at its address.
    Epsv,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "active" | "port" => Mode::Active,
            "eprt" => Mode::Eprt,
            "passive" | "pasv" => Mode::Passive,
            "epsv" => Mode::Epsv,
            _ => return None,
        })
    }

    /// The command that opens the data connection.
    pub fn command(self) -> &'static str {
        match self {
            Mode::Active => "PORT",
            Mode::Eprt => "EPRT",
            Mode::Passive => "PASV",
            Mode::Epsv => "EPSV",
        }
    }
}

/// What to transfer.
#[derive(Clone, Debug)]
pub enum Transfer {
    /// RETR the file into this local path.
    Get(PathBuf),
    /// STOR this local file.
    Put(PathBuf),
}

/// One transfer of a session.
#[derive(Clone, Debug)]
pub struct Step {
    pub mode: Mode,
    /// The file's name on the server.
    pub file: String,
    pub transfer: Transfer,
}

impl Step {
    /// `MODE:NAME:PATH`, a download (`--get`): the file NAME into PATH
    /// (which may contain colons) with the data connection of MODE.
    pub fn parse_get(s: &str) -> Result<Step, String> {
        let mut it = s.splitn(3, ':');
        let (Some(mode), Some(file), Some(path)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("{s:?}: not MODE:NAME:PATH"));
        };
        if file.is_empty() || path.is_empty() {
            return Err(format!("{s:?}: not MODE:NAME:PATH"));
        }
        Ok(Step {
            mode: Mode::parse(mode).ok_or_else(|| format!("{s:?}: unknown mode {mode:?}"))?,
            file: file.to_string(),
            transfer: Transfer::Get(PathBuf::from(path)),
        })
    }
}

/// One session: its transfers, in order, over one control connection.
#[derive(Clone, Debug)]
pub struct Job {
    pub server: SocketAddrV4,
    pub steps: Vec<Step>,
    /// For PORT and EPRT: the address to announce and listen on, instead
    /// of the control connection's own (an FTP bounce when it is not
    /// ours).
    pub announce: Option<std::net::Ipv4Addr>,
    /// How long to wait for a connection or a reply.
    pub timeout: Duration,
    /// Log commands and replies to stderr.
    pub verbose: bool,
}

struct Control {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    verbose: bool,
}

impl Control {
    fn reply(&mut self) -> io::Result<(u16, String)> {
        let r = proto::read_reply(&mut self.reader)?;
        if self.verbose {
            eprintln!("rfserve ftp-client: < {} {}", r.0, r.1);
        }
        Ok(r)
    }

    fn send(&mut self, line: &str) -> io::Result<()> {
        if self.verbose {
            eprintln!("rfserve ftp-client: > {line}");
        }
        self.writer.write_all(format!("{line}\r\n").as_bytes())
    }

    /// Sends `line` and wants a reply of class `class` (2 for 2xx...).
    fn expect(&mut self, line: &str, class: u16) -> Result<(u16, String), String> {
        self.send(line)
            .map_err(|e| format!("sending {line}: {e}"))?;
        let (code, text) = self.reply().map_err(|e| format!("reply to {line}: {e}"))?;
        if code / 100 != class {
            return Err(format!("{line}: {code} {text}"));
        }
        Ok((code, text))
    }
}

/// Runs the job: the number of bytes transferred (in all), or what
/// failed. With several transfers, a failure names the one that failed
/// (`transfer 2 of 4 (EPRT big): ...`).
pub fn run(job: &Job) -> Result<u64, String> {
    if job.steps.is_empty() {
        return Err("nothing to transfer".into());
    }
    let t = job.timeout;
    let conn = TcpStream::connect_timeout(&SocketAddr::V4(job.server), t)
        .map_err(|e| format!("connecting to {}: {e}", job.server))?;
    conn.set_read_timeout(Some(t)).map_err(|e| e.to_string())?;
    let local =
        sock::v4(conn.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut c = Control {
        reader: BufReader::new(conn.try_clone().map_err(|e| e.to_string())?),
        writer: conn,
        verbose: job.verbose,
    };
    let (code, text) = c.reply().map_err(|e| format!("greeting: {e}"))?;
    if code != 220 {
        return Err(format!("greeting: {code} {text}"));
    }
    c.send("USER anonymous")
        .map_err(|e| format!("sending USER: {e}"))?;
    match c.reply().map_err(|e| format!("reply to USER: {e}"))? {
        (230, _) => {}
        (331, _) => {
            c.expect("PASS rfserve@", 2)?;
        }
        (code, text) => return Err(format!("USER: {code} {text}")),
    }
    c.expect("TYPE I", 2)?;
    let mut total = 0;
    for (i, step) in job.steps.iter().enumerate() {
        total += transfer(&mut c, job, local, step).map_err(|e| {
            if job.steps.len() == 1 {
                e
            } else {
                format!(
                    "transfer {} of {} ({} {}): {e}",
                    i + 1,
                    job.steps.len(),
                    step.mode.command(),
                    step.file
                )
            }
        })?;
    }
    // The end of the session: a control connection that went wrong on the
    // way may still have carried the transfers, but not this.
    let (code, text) = c.expect("QUIT", 2)?;
    if code != 221 {
        return Err(format!("QUIT: {code} {text}"));
    }
    Ok(total)
}

/// One transfer on the control connection `c`, whose local address is
/// `local`: the number of bytes transferred.
fn transfer(c: &mut Control, job: &Job, local: SocketAddrV4, step: &Step) -> Result<u64, String> {
    let t = job.timeout;
    // The data connection: passive ones open now, active ones once the
    // transfer command is sent.
    let mut passive = None;
    let mut listener = None;
    match step.mode {
        Mode::Active | Mode::Eprt => {
            let ip = job.announce.unwrap_or(*local.ip());
            let l = TcpListener::bind(SocketAddrV4::new(ip, 0))
                .map_err(|e| format!("listening on {ip}: {e}"))?;
            let a =
                sock::v4(l.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
            if step.mode == Mode::Active {
                c.expect(&format!("PORT {}", proto::format_hostport(a)), 2)?;
            } else {
                c.expect(&format!("EPRT {}", proto::format_eprt(a)), 2)?;
            }
            listener = Some(l);
        }
        Mode::Passive => {
            let (_, text) = c.expect("PASV", 2)?;
            let a = proto::parse_pasv_reply(&text)
                .ok_or_else(|| format!("PASV: no address in {text:?}"))?;
            passive = Some(a);
        }
        Mode::Epsv => {
            let (_, text) = c.expect("EPSV", 2)?;
            let port = proto::parse_epsv_reply(&text)
                .ok_or_else(|| format!("EPSV: no port in {text:?}"))?;
            passive = Some(SocketAddrV4::new(*job.server.ip(), port));
        }
    }
    let mut data = match passive {
        Some(a) => Some(
            TcpStream::connect_timeout(&SocketAddr::V4(a), t)
                .map_err(|e| format!("data connection to {a}: {e}"))?,
        ),
        None => None,
    };

    let cmd = match &step.transfer {
        Transfer::Get(_) => format!("RETR {}", step.file),
        Transfer::Put(_) => format!("STOR {}", step.file),
    };
    // Read the local file first: a missing one fails before anything.
    let input = match &step.transfer {
        Transfer::Put(p) => Some(fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        Transfer::Get(_) => None,
    };
    c.send(&cmd).map_err(|e| format!("sending {cmd}: {e}"))?;
    let mut preliminary = None;
    if let Some(l) = listener {
        let (s, reply) = wait_active(c, &l, t).map_err(|e| format!("{cmd}: {e}"))?;
        data = Some(s);
        preliminary = reply;
    }
    let (code, text) = match preliminary {
        Some(r) => r,
        None => c.reply().map_err(|e| format!("reply to {cmd}: {e}"))?,
    };
    if code != 150 && code != 125 {
        return Err(format!("{cmd}: {code} {text}"));
    }
    let mut data = data.expect("a data connection");
    data.set_read_timeout(Some(t)).map_err(|e| e.to_string())?;
    let n = match (&step.transfer, input) {
        (Transfer::Get(out), _) => {
            let mut buf = Vec::new();
            data.read_to_end(&mut buf)
                .map_err(|e| format!("{cmd}: reading data: {e}"))?;
            fs::write(out, &buf).map_err(|e| format!("{}: {e}", out.display()))?;
            buf.len() as u64
        }
        (Transfer::Put(_), Some(bytes)) => {
            data.write_all(&bytes)
                .map_err(|e| format!("{cmd}: writing data: {e}"))?;
            bytes.len() as u64
        }
        (Transfer::Put(_), None) => unreachable!(),
    };
    drop(data);
    let (code, text) = c.reply().map_err(|e| format!("end of {cmd}: {e}"))?;
    if code != 226 && code != 250 {
        return Err(format!("end of {cmd}: {code} {text}"));
    }
    Ok(n)
}

/// Waits for the server's active data connection on `l`, watching the
/// control connection meanwhile: a preliminary reply (150, 125) that comes
/// first is returned with the connection, any other reply is the failure
/// (550 for a missing file, 425 when the server could not connect).
fn wait_active(
    c: &mut Control,
    l: &TcpListener,
    timeout: Duration,
) -> Result<(TcpStream, Option<(u16, String)>), String> {
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let end = Instant::now() + timeout;
    let mut preliminary = None;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok((s, preliminary));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("accepting the data connection: {e}")),
        }
        if preliminary.is_none() && reply_waiting(c) {
            let (code, text) = c.reply().map_err(|e| e.to_string())?;
            if code / 100 != 1 {
                return Err(format!("{code} {text}"));
            }
            preliminary = Some((code, text));
        }
        if Instant::now() >= end {
            return Err("the server's data connection did not come".into());
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Whether the control connection has something to read.
fn reply_waiting(c: &mut Control) -> bool {
    if !c.reader.buffer().is_empty() {
        return true;
    }
    let s = c.reader.get_ref();
    if s.set_nonblocking(true).is_err() {
        return false;
    }
    let mut b = [0u8; 1];
    // A closed connection (Ok(0)) is read, and fails, as a reply.
    let waiting = !matches!(s.peek(&mut b), Err(ref e) if e.kind() == io::ErrorKind::WouldBlock);
    let _ = s.set_nonblocking(false);
    waiting
}
