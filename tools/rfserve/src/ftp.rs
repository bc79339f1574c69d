// SPDX-License-Identifier: GPL-2.0

//! A minimal FTP server (RFC 959, RFC 2428): any user and password, one
//! directory tree, binary transfers, active (PORT, EPRT) and passive
//! (PASV, EPSV) data connections. Active data connections come from the
//! data port (20 by default, which needs root), as real servers do, and go
//! wherever PORT or EPRT says: no check that the address is the client's,
//! so a selftest can try an FTP bounce against the firewall.

use std::fs;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::proto::{self, EprtError};
use crate::sock;

/// The server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The directory served as `/`.
    pub root: PathBuf,
    /// The local port of active data connections; 0 for any.
    pub data_port: u16,
    /// How long to wait for a data connection to open.
    pub timeout: Duration,
    /// Log each command and reply to stderr.
    pub verbose: bool,
}

/// Serves FTP on `listener` until it fails, one thread per session.
pub fn serve(listener: TcpListener, config: Config) -> io::Result<()> {
    let config = Arc::new(config);
    for conn in listener.incoming() {
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rfserve ftp: accept: {e}");
                continue;
            }
        };
        let config = Arc::clone(&config);
        thread::spawn(move || {
            let peer = conn.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = Session::new(conn, config).and_then(|mut s| s.run()) {
                eprintln!("rfserve ftp: {peer}: {e}");
            }
        });
    }
    Ok(())
}

/// How the next transfer's data connection opens.
enum Data {
    /// No PORT, EPRT, PASV or EPSV yet.
    None,
    /// Connect to this address.
    Active(SocketAddrV4),
    /// Accept on this listener.
    Passive(TcpListener),
}

/// One control connection.
struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    config: Arc<Config>,
    /// The control connection's local address: where passive listeners
    /// bind and active connections come from.
    local: SocketAddrV4,
    peer: SocketAddrV4,
    cwd: Vec<String>,
    data: Data,
}

impl Session {
    fn new(conn: TcpStream, config: Arc<Config>) -> io::Result<Session> {
        let local = sock::v4(conn.local_addr()?)?;
        let peer = sock::v4(conn.peer_addr()?)?;
        Ok(Session {
            reader: BufReader::new(conn.try_clone()?),
            writer: conn,
            config,
            local,
            peer,
            cwd: Vec::new(),
            data: Data::None,
        })
    }

    fn reply(&mut self, code: u16, text: &str) -> io::Result<()> {
        if self.config.verbose {
            eprintln!("rfserve ftp: {} > {code} {text}", self.peer);
        }
        self.writer
            .write_all(format!("{code} {text}\r\n").as_bytes())
    }

    fn run(&mut self) -> io::Result<()> {
        self.reply(220, "rfserve FTP server ready")?;
        while let Some(line) = proto::read_line(&mut self.reader)? {
            if self.config.verbose {
                eprintln!("rfserve ftp: {} < {line}", self.peer);
            }
            let (verb, arg) = match line.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
                None => (line.trim().to_ascii_uppercase(), String::new()),
            };
            if !self.command(&verb, &arg)? {
                break;
            }
        }
        Ok(())
    }

    /// Runs one command; false after QUIT.
    fn command(&mut self, verb: &str, arg: &str) -> io::Result<bool> {
        match verb {
            "USER" => self.reply(331, "Any password will do")?,
            "PASS" => self.reply(230, "Logged in")?,
            "SYST" => self.reply(215, "UNIX Type: L8")?,
            "TYPE" => match arg.to_ascii_uppercase().as_str() {
                "I" | "L 8" => self.reply(200, "Switching to Binary mode")?,
                "A" | "A N" => {
                    self.reply(200, "Switching to ASCII mode (transfers stay binary)")?
                }
                _ => self.reply(504, "Unsupported type")?,
            },
            "MODE" | "STRU" => match arg.to_ascii_uppercase().as_str() {
                "S" | "F" => self.reply(200, "OK")?,
                _ => self.reply(504, "Unsupported")?,
            },
            "FEAT" => {
                self.writer
                    .write_all(b"211-Features:\r\n EPRT\r\n EPSV\r\n PASV\r\n SIZE\r\n")?;
                self.reply(211, "End")?;
            }
            "OPTS" | "NOOP" => self.reply(200, "OK")?,
            "PWD" | "XPWD" => {
                let p = proto::display_path(&self.cwd).replace('"', "\"\"");
                self.reply(257, &format!("\"{p}\" is the current directory"))?;
            }
            "CWD" | "XCWD" | "CDUP" | "XCUP" => {
                let target = if verb.ends_with("UP") { ".." } else { arg };
                match proto::resolve(&self.cwd, target) {
                    Some(p) if self.path(&p).is_dir() => {
                        self.cwd = p;
                        self.reply(250, "Directory successfully changed")?;
                    }
                    _ => self.reply(550, "Failed to change directory")?,
                }
            }
            "PORT" => match proto::parse_hostport(arg) {
                Some(a) if a.port() != 0 => {
                    self.data = Data::Active(a);
                    self.reply(200, "PORT command successful")?;
                }
                _ => self.reply(501, "Illegal PORT command")?,
            },
            "EPRT" => match proto::parse_eprt(arg) {
                Ok(a) if a.port() != 0 => {
                    self.data = Data::Active(a);
                    self.reply(200, "EPRT command successful")?;
                }
                Err(EprtError::Protocol) => {
                    self.reply(522, "Network protocol not supported, use (1)")?
                }
                _ => self.reply(501, "Illegal EPRT command")?,
            },
            "PASV" => match TcpListener::bind(SocketAddrV4::new(*self.local.ip(), 0)) {
                Ok(l) => {
                    let a = sock::v4(l.local_addr()?)?;
                    self.data = Data::Passive(l);
                    let hp = proto::format_hostport(a);
                    self.reply(227, &format!("Entering Passive Mode ({hp})."))?;
                }
                Err(e) => self.reply(425, &format!("Cannot listen: {e}"))?,
            },
            "EPSV" => {
                if arg.eq_ignore_ascii_case("ALL") {
                    self.reply(200, "EPSV ALL ok")?;
                    return Ok(true);
                }
                if !arg.is_empty() && arg != "1" {
                    self.reply(522, "Network protocol not supported, use (1)")?;
                    return Ok(true);
                }
                match TcpListener::bind(SocketAddrV4::new(*self.local.ip(), 0)) {
                    Ok(l) => {
                        let port = l.local_addr()?.port();
                        self.data = Data::Passive(l);
                        self.reply(229, &format!("Entering Extended Passive Mode (|||{port}|)"))?;
                    }
                    Err(e) => self.reply(425, &format!("Cannot listen: {e}"))?,
                }
            }
            "SIZE" => match self.file(arg) {
                Some(p) => match fs::metadata(&p) {
                    Ok(m) if m.is_file() => self.reply(213, &m.len().to_string())?,
                    _ => self.reply(550, "Could not get file size")?,
                },
                None => self.reply(550, "Could not get file size")?,
            },
            "RETR" => self.retr(arg)?,
            "STOR" => self.stor(arg)?,
            "LIST" | "NLST" => self.list(verb == "NLST", arg)?,
            "QUIT" => {
                self.reply(221, "Goodbye")?;
                return Ok(false);
            }
            "" => self.reply(500, "Empty command")?,
            _ => self.reply(502, "Command not implemented")?,
        }
        Ok(true)
    }

    /// The host path of `components` under the root.
    fn path(&self, components: &[String]) -> PathBuf {
        let mut p = self.config.root.clone();
        p.extend(components);
        p
    }

    /// The host path of the file `name` names, if it names one below the
    /// root.
    fn file(&self, name: &str) -> Option<PathBuf> {
        let c = proto::resolve(&self.cwd, name)?;
        if c.is_empty() {
            return None;
        }
        Some(self.path(&c))
    }

    /// Opens the data connection PORT, EPRT, PASV or EPSV asked for, and
    /// forgets it: each transfer needs a new one.
    fn open_data(&mut self) -> io::Result<TcpStream> {
        let timeout = self.config.timeout;
        match std::mem::replace(&mut self.data, Data::None) {
            Data::None => Err(io::Error::other("use PORT, EPRT, PASV or EPSV first")),
            Data::Active(to) => {
                let from = SocketAddrV4::new(*self.local.ip(), self.config.data_port);
                sock::connect_from(from, to, timeout)
            }
            Data::Passive(l) => accept_timeout(&l, timeout),
        }
    }

    /// The data connection, with the 150 reply, or the 425 reply.
    fn data_or_425(&mut self, what: &str) -> io::Result<Option<TcpStream>> {
        match self.open_data() {
            Ok(s) => {
                self.reply(150, what)?;
                Ok(Some(s))
            }
            Err(e) => {
                self.reply(425, &format!("Can't open data connection: {e}"))?;
                Ok(None)
            }
        }
    }

    fn retr(&mut self, name: &str) -> io::Result<()> {
        let file = self.file(name).and_then(|p| fs::File::open(p).ok());
        let Some(mut file) = file.filter(|f| f.metadata().is_ok_and(|m| m.is_file())) else {
            self.data = Data::None;
            return self.reply(550, "Failed to open file");
        };
        let len = file.metadata()?.len();
        let what = format!("Opening BINARY mode data connection for {name} ({len} bytes)");
        let Some(mut data) = self.data_or_425(&what)? else {
            return Ok(());
        };
        match io::copy(&mut file, &mut data).and_then(|_| data.flush()) {
            Ok(()) => {
                drop(data);
                self.reply(226, "Transfer complete")
            }
            Err(e) => self.reply(426, &format!("Transfer aborted: {e}")),
        }
    }

    fn stor(&mut self, name: &str) -> io::Result<()> {
        let file = self.file(name).and_then(|p| fs::File::create(p).ok());
        let Some(mut file) = file else {
            self.data = Data::None;
            return self.reply(553, "Could not create file");
        };
        let Some(mut data) = self.data_or_425("Ok to send data")? else {
            return Ok(());
        };
        match io::copy(&mut data, &mut file).and_then(|_| file.sync_all()) {
            Ok(()) => self.reply(226, "Transfer complete"),
            Err(e) => self.reply(426, &format!("Transfer aborted: {e}")),
        }
    }

    fn list(&mut self, names_only: bool, arg: &str) -> io::Result<()> {
        // Options such as -l or -a are ignored.
        let target = arg
            .split_whitespace()
            .find(|a| !a.starts_with('-'))
            .unwrap_or(".");
        let dir = proto::resolve(&self.cwd, target).map(|c| self.path(&c));
        let mut text = String::new();
        let entries = dir.as_ref().map(fs::read_dir);
        match entries {
            Some(Ok(entries)) => {
                let mut v: Vec<(String, fs::Metadata)> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?)))
                    .collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                for (name, m) in v {
                    if names_only {
                        text += &format!("{name}\r\n");
                    } else {
                        let kind = if m.is_dir() {
                            "drwxr-xr-x"
                        } else {
                            "-rw-r--r--"
                        };
                        text += &format!("{kind} 1 0 0 {:>10} Jan 01 00:00 {name}\r\n", m.len());
                    }
                }
            }
            _ => {
                // A file names itself.
                match dir.filter(|d| d.is_file()) {
                    Some(_) => {
                        text += &format!("{}\r\n", target.rsplit('/').next().unwrap_or(target))
                    }
                    None => {
                        self.data = Data::None;
                        return self.reply(550, "No such file or directory");
                    }
                }
            }
        }
        let Some(mut data) = self.data_or_425("Here comes the directory listing")? else {
            return Ok(());
        };
        match data.write_all(text.as_bytes()) {
            Ok(()) => {
                drop(data);
                self.reply(226, "Directory send OK")
            }
            Err(e) => self.reply(426, &format!("Transfer aborted: {e}")),
        }
    }
}

/// Accepts one connection on `l` within `timeout`.
pub fn accept_timeout(l: &TcpListener, timeout: Duration) -> io::Result<TcpStream> {
    l.set_nonblocking(true)?;
    let end = Instant::now() + timeout;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= end {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no data connection came",
                    ));
                }
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}
