// SPDX-License-Identifier: GPL-2.0

//! TFTP (RFC 1350): a server answering read and write requests in octet
//! mode with 512-byte blocks, each transfer from a new ephemeral port as
//! real servers do, and a client for one transfer. Options (RFC 2347) are
//! ignored, which a client must accept.

use std::fs;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use crate::proto;

/// The data size of a block; a shorter block ends a transfer.
pub const BLOCK: usize = 512;
/// How often a packet is sent before giving up.
const TRIES: u32 = 5;

pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;

/// A parsed TFTP packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A read (`write: false`) or write request: file name and mode.
    Request {
        write: bool,
        file: String,
        mode: String,
    },
    Data {
        block: u16,
        data: &'a [u8],
    },
    Ack {
        block: u16,
    },
    Error {
        code: u16,
        message: String,
    },
}

/// A NUL-terminated string at the start of `b`, and what follows it.
fn cstr(b: &[u8]) -> Option<(String, &[u8])> {
    let end = b.iter().position(|&c| c == 0)?;
    Some((
        String::from_utf8_lossy(&b[..end]).into_owned(),
        &b[end + 1..],
    ))
}

impl Packet<'_> {
    pub fn parse(b: &[u8]) -> Option<Packet<'_>> {
        let [o1, o2, rest @ ..] = b else {
            return None;
        };
        let op = u16::from_be_bytes([*o1, *o2]);
        let num = |r: &[u8]| match *r {
            [a, b, ..] => Some(u16::from_be_bytes([a, b])),
            _ => None,
        };
        Some(match op {
            RRQ | WRQ => {
                let (file, r) = cstr(rest)?;
                // Options may follow the mode: ignored.
                let (mode, _) = cstr(r)?;
                Packet::Request {
                    write: op == WRQ,
                    file,
                    mode,
                }
            }
            DATA => Packet::Data {
                block: num(rest)?,
                data: &rest[2..],
            },
            ACK => Packet::Ack { block: num(rest)? },
            ERROR => Packet::Error {
                code: num(rest)?,
                message: cstr(&rest[2..]).map(|(m, _)| m).unwrap_or_default(),
            },
            _ => return None,
        })
    }
}

pub fn request(write: bool, file: &str) -> Vec<u8> {
    let op = if write { WRQ } else { RRQ };
    [&op.to_be_bytes()[..], file.as_bytes(), b"\0octet\0"].concat()
}

pub fn data(block: u16, d: &[u8]) -> Vec<u8> {
    [&DATA.to_be_bytes()[..], &block.to_be_bytes(), d].concat()
}

pub fn ack(block: u16) -> Vec<u8> {
    [ACK.to_be_bytes(), block.to_be_bytes()].concat()
}

pub fn error(code: u16, message: &str) -> Vec<u8> {
    [
        &ERROR.to_be_bytes()[..],
        &code.to_be_bytes(),
        message.as_bytes(),
        b"\0",
    ]
    .concat()
}

/// The server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    /// The address transfers are sent from (any: the route's).
    pub bind: Ipv4Addr,
    /// How long to wait for each answer before sending again.
    pub retry: Duration,
    pub verbose: bool,
}

/// Serves TFTP on `sock` forever, a thread per transfer.
pub fn serve(sock: UdpSocket, config: Config) -> io::Result<()> {
    let mut buf = [0u8; 1500];
    loop {
        let (n, peer) = sock.recv_from(&mut buf)?;
        let Some(Packet::Request { write, file, mode }) = Packet::parse(&buf[..n]) else {
            continue;
        };
        if config.verbose {
            eprintln!(
                "rfserve tftp: {peer} {} {file} {mode}",
                if write { "WRQ" } else { "RRQ" }
            );
        }
        let config = config.clone();
        thread::spawn(move || {
            if let Err(e) = transfer(&config, peer, write, &file, &mode) {
                eprintln!("rfserve tftp: {peer}: {file}: {e}");
            }
        });
    }
}

/// The host path of `file` under `root` (never above it).
fn path(root: &Path, file: &str) -> Option<PathBuf> {
    let c = proto::resolve(&[], file)?;
    if c.is_empty() {
        return None;
    }
    let mut p = root.to_path_buf();
    p.extend(c);
    Some(p)
}

/// One transfer, from a new port.
fn transfer(
    config: &Config,
    peer: SocketAddr,
    write: bool,
    file: &str,
    mode: &str,
) -> io::Result<()> {
    let sock = UdpSocket::bind(SocketAddrV4::new(config.bind, 0))?;
    sock.connect(peer)?;
    sock.set_read_timeout(Some(config.retry))?;
    if !mode.eq_ignore_ascii_case("octet") && !mode.eq_ignore_ascii_case("netascii") {
        sock.send(&error(0, "only octet mode"))?;
        return Ok(());
    }
    let Some(p) = path(&config.root, file) else {
        sock.send(&error(2, "access violation"))?;
        return Ok(());
    };
    if write {
        let Ok(mut f) = fs::File::create(&p) else {
            sock.send(&error(2, "cannot create file"))?;
            return Ok(());
        };
        receive(&sock, 1, &mut f).map(drop)
    } else {
        let Ok(mut f) = fs::File::open(&p) else {
            sock.send(&error(1, "file not found"))?;
            return Ok(());
        };
        send(&sock, &mut f).map(drop)
    }
}

/// Sends `last` on the connected `sock` and waits for the packet `want`
/// accepts, sending `last` again after each timeout. Packets from other
/// ports cannot arrive: the socket is connected.
fn exchange<T>(
    sock: &UdpSocket,
    last: &[u8],
    mut want: impl FnMut(Packet<'_>) -> Option<T>,
) -> io::Result<T> {
    let mut buf = [0u8; 1500];
    for _ in 0..TRIES {
        sock.send(last)?;
        loop {
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                Err(e) => return Err(e),
            };
            match Packet::parse(&buf[..n]) {
                Some(Packet::Error { code, message }) => {
                    return Err(io::Error::other(format!("peer's error {code}: {message}")));
                }
                Some(p) => {
                    if let Some(t) = want(p) {
                        return Ok(t);
                    }
                }
                None => {}
            }
        }
    }
    Err(io::Error::new(io::ErrorKind::TimedOut, "no answer"))
}

/// Sends all of `r` as DATA blocks 1, 2... on the connected `sock`, each
/// once its predecessor is acknowledged; the number of bytes.
fn send(sock: &UdpSocket, r: &mut impl Read) -> io::Result<u64> {
    let mut block: u16 = 1;
    let mut total = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(BLOCK);
        r.by_ref().take(BLOCK as u64).read_to_end(&mut chunk)?;
        let pkt = data(block, &chunk);
        // An old ACK is a duplicate: keep waiting (no resend, which would
        // double every later block).
        exchange(sock, &pkt, |p| {
            matches!(p, Packet::Ack { block: b } if b == block).then_some(())
        })?;
        total += chunk.len() as u64;
        if chunk.len() < BLOCK {
            return Ok(total);
        }
        block = block.wrapping_add(1);
    }
}

/// Receives DATA blocks `block`, `block + 1`... on the connected `sock`
/// into `w`, acknowledging each, after acknowledging `block - 1` (ACK 0
/// answers a WRQ); the number of bytes.
fn receive(sock: &UdpSocket, mut block: u16, w: &mut impl io::Write) -> io::Result<u64> {
    let mut last = ack(block.wrapping_sub(1));
    let mut total = 0u64;
    loop {
        let got: Vec<u8> = exchange(sock, &last, |p| match p {
            Packet::Data { block: b, data } if b == block => Some(data.to_vec()),
            _ => None,
        })?;
        w.write_all(&got)?;
        total += got.len() as u64;
        last = ack(block);
        if got.len() < BLOCK {
            // The last ACK; if it is lost the sender retries and gives up,
            // with the data complete here.
            sock.send(&last)?;
            return Ok(total);
        }
        block = block.wrapping_add(1);
    }
}

/// One client transfer.
#[derive(Clone, Debug)]
pub struct Job {
    pub server: SocketAddrV4,
    pub file: String,
    /// Write (`Put`) or read (`Get`), with the local file.
    pub put: bool,
    pub local: PathBuf,
    /// How long to wait for each answer before sending again.
    pub retry: Duration,
}

/// Runs a client transfer: the number of bytes, or what failed.
pub fn client(job: &Job) -> io::Result<u64> {
    let sock = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    sock.set_read_timeout(Some(job.retry))?;
    let req = request(job.put, &job.file);
    let to = SocketAddr::V4(job.server);
    let mut buf = [0u8; 1500];
    // The first answer comes from the transfer's port: from then on only
    // that port is listened to.
    let mut first: Option<(SocketAddr, Vec<u8>)> = None;
    for _ in 0..TRIES {
        sock.send_to(&req, to)?;
        match sock.recv_from(&mut buf) {
            Ok((n, from)) if from.ip() == to.ip() => {
                first = Some((from, buf[..n].to_vec()));
                break;
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    let (from, pkt) =
        first.ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no answer to the request"))?;
    sock.connect(from)?;
    match (job.put, Packet::parse(&pkt)) {
        (_, Some(Packet::Error { code, message })) => Err(io::Error::other(format!(
            "server's error {code}: {message}"
        ))),
        (false, Some(Packet::Data { block: 1, data: d })) => {
            let mut out = Vec::from(d);
            let n = if d.len() < BLOCK {
                sock.send(&ack(1))?;
                d.len() as u64
            } else {
                // Block 1 is in: go on from block 2.
                let mut rest = Vec::new();
                let n = receive(&sock, 2, &mut rest)?;
                out.extend_from_slice(&rest);
                BLOCK as u64 + n
            };
            fs::write(&job.local, &out)?;
            Ok(n)
        }
        (true, Some(Packet::Ack { block: 0 })) => {
            let mut f = fs::File::open(&job.local)?;
            send(&sock, &mut f)
        }
        (_, p) => Err(io::Error::other(format!("unexpected first answer {p:?}"))),
    }
}
