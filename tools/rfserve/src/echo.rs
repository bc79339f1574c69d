// SPDX-License-Identifier: GPL-2.0

//! Echo over TCP and UDP, for the NAT selftests: a server whose answer
//! can say who it is and whom it saw (the peer's address and port as they
//! reached it, which is what NAT changes), a client for one exchange that
//! says where the answer came from (or that an ICMP error came back), and
//! `many`: many UDP sockets open at once, each checking that its own
//! answer came back to it; `flow`: a one-way UDP flow (numbered datagrams
//! at a steady pace from one socket) to a server that is a sink: it logs
//! and does not answer, so that the flow's connection stays unreplied.
//!
//! An answer is `[TAG ][PEER ]DATA`: the tag and the peer's
//! `address:port` when the server is asked for them, then the data as it
//! came.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::sock;

/// The server's settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Put first in every answer, followed by a space.
    pub tag: Option<String>,
    /// Put the peer's `address:port` and a space before the data.
    pub peer: bool,
    /// Log every exchange to stderr.
    pub verbose: bool,
    /// UDP: answer nothing (the end of a one-way flow; with `verbose`, a
    /// log of what came from whom).
    pub sink: bool,
}

impl Config {
    /// What an answer to `peer` starts with.
    pub fn prefix(&self, peer: SocketAddrV4) -> Vec<u8> {
        let mut p = String::new();
        if let Some(t) = &self.tag {
            p += t;
            p.push(' ');
        }
        if self.peer {
            p += &format!("{peer} ");
        }
        p.into_bytes()
    }
}

/// At most 60 characters of `data`, quoted, for a log line.
fn shown(data: &[u8]) -> String {
    let s = String::from_utf8_lossy(data);
    let s: String = s.chars().take(60).collect();
    format!("{s:?}")
}

/// Serves UDP echo on `sock` until it fails. Each answer comes from the
/// address its datagram was sent to (which need not be the one routing
/// would choose: after a REDIRECT it is 127.0.0.1, say), so that it
/// belongs to the datagram's flow. An answer that cannot be sent (no
/// route back) is logged and the server goes on.
pub fn serve_udp(sock: UdpSocket, config: &Config) -> io::Result<()> {
    sock::want_pktinfo(&sock)?;
    let port = sock.local_addr()?.port();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, peer, to) = match sock::recv_to(&sock, &mut buf) {
            Ok(r) => r,
            // An ICMP error about an earlier answer, or a signal.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        if config.verbose {
            let to = to.map(|a| a.to_string()).unwrap_or_else(|| "?".into());
            eprintln!(
                "rfserve echo: udp {peer} -> {to}:{port}: {}",
                shown(&buf[..n])
            );
        }
        if config.sink {
            continue;
        }
        let mut out = config.prefix(peer);
        out.extend_from_slice(&buf[..n]);
        if let Err(e) = sock::send_from(&sock, &out, peer, to) {
            eprintln!("rfserve echo: udp {peer}: answering: {e}");
        }
    }
}

/// Serves TCP echo on `l` until it fails, a thread per connection: the
/// prefix first, then everything that comes, until the peer shuts down
/// its side (or 30 s pass without a byte).
pub fn serve_tcp(l: TcpListener, config: &Config) -> io::Result<()> {
    let config = Arc::new(config.clone());
    for conn in l.incoming() {
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rfserve echo: accept: {e}");
                continue;
            }
        };
        let config = Arc::clone(&config);
        thread::spawn(move || {
            let peer = conn.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = tcp_session(conn, &config) {
                eprintln!("rfserve echo: tcp {peer}: {e}");
            }
        });
    }
    Ok(())
}

fn tcp_session(mut s: TcpStream, config: &Config) -> io::Result<()> {
    let peer = sock::v4(s.peer_addr()?)?;
    let local = sock::v4(s.local_addr()?)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(&config.prefix(peer))?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if seen.len() < 60 {
            seen.extend_from_slice(&buf[..n.min(60)]);
        }
        s.write_all(&buf[..n])?;
    }
    if config.verbose {
        eprintln!("rfserve echo: tcp {peer} -> {local}: {}", shown(&seen));
    }
    Ok(())
}

/// One exchange with an echo server.
#[derive(Clone, Debug)]
pub struct Job {
    pub server: SocketAddrV4,
    pub tcp: bool,
    /// The local address (port 0: any).
    pub local: SocketAddrV4,
    pub data: Vec<u8>,
    /// UDP: connect the socket, so that an ICMP error about the datagram
    /// is reported (ECONNREFUSED); only answers from the server arrive.
    pub connect: bool,
    /// How long to wait for the connection and for the answer.
    pub timeout: Duration,
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Where the answer came from.
    pub from: SocketAddrV4,
    /// Our end (an unconnected UDP socket's address is 0.0.0.0).
    pub local: SocketAddrV4,
    pub data: Vec<u8>,
}

impl Answer {
    /// `from=A:P local=A:P reply=TEXT`, the client's output.
    pub fn line(&self) -> String {
        let text = String::from_utf8_lossy(&self.data);
        let text = text.trim_end_matches(['\n', '\r']).replace('\n', "\\n");
        format!("from={} local={} reply={text}", self.from, self.local)
    }
}

/// Why an exchange failed.
fn failed(what: &str, e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            format!("{what}: connection refused (an ICMP port unreachable or a RST came back)")
        }
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("{what}: timed out")
        }
        _ => format!("{what}: {e}"),
    }
}

/// Runs one exchange: the answer, or what failed.
pub fn exchange(job: &Job) -> Result<Answer, String> {
    let to = job.server;
    if job.tcp {
        let mut s = sock::connect_from(job.local, to, job.timeout)
            .map_err(|e| failed(&format!("tcp connection to {to}"), e))?;
        let local =
            sock::v4(s.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let from =
            sock::v4(s.peer_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(job.timeout))
            .map_err(|e| e.to_string())?;
        s.write_all(&job.data)
            .map_err(|e| failed(&format!("tcp {local} -> {to}: sending"), e))?;
        s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
        let mut data = Vec::new();
        let end = Instant::now() + job.timeout;
        let mut buf = [0u8; 16384];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted && Instant::now() < end => {}
                Err(e) => {
                    return Err(failed(
                        &format!(
                            "tcp {local} -> {to}: the answer (after {:?})",
                            String::from_utf8_lossy(&data)
                        ),
                        e,
                    ))
                }
            }
        }
        return Ok(Answer { from, local, data });
    }
    let s = UdpSocket::bind(job.local).map_err(|e| format!("udp: binding {}: {e}", job.local))?;
    s.set_read_timeout(Some(job.timeout))
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65536];
    let (n, from) = if job.connect {
        s.connect(to)
            .map_err(|e| format!("udp: connecting to {to}: {e}"))?;
        s.send(&job.data)
            .map_err(|e| failed(&format!("udp -> {to}: sending"), e))?;
        let n = s
            .recv(&mut buf)
            .map_err(|e| failed(&format!("udp -> {to}"), e))?;
        (n, SocketAddr::V4(to))
    } else {
        s.send_to(&job.data, to)
            .map_err(|e| failed(&format!("udp -> {to}: sending"), e))?;
        s.recv_from(&mut buf)
            .map_err(|e| failed(&format!("udp -> {to}"), e))?
    };
    let local = sock::v4(s.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let from = sock::v4(from).map_err(|e| e.to_string())?;
    buf.truncate(n);
    Ok(Answer {
        from,
        local,
        data: buf,
    })
}

/// `flow`'s job: `count` datagrams from one socket bound to `local`, one
/// every `interval`, the `i`th (from 0) saying `DATA i`.
#[derive(Clone, Debug)]
pub struct FlowJob {
    pub server: SocketAddrV4,
    pub local: SocketAddrV4,
    pub count: usize,
    pub interval: Duration,
    pub data: String,
}

/// What `flow` did.
#[derive(Clone, Debug)]
pub struct FlowReport {
    pub local: SocketAddrV4,
    pub sent: usize,
    /// The datagrams that could not be sent, and why (EPERM: a local
    /// rule dropped it).
    pub failed: Vec<(usize, String)>,
    pub elapsed: Duration,
}

/// The data of `flow`'s `i`th datagram.
pub fn flow_payload(data: &str, i: usize) -> Vec<u8> {
    format!("{data} {i}").into_bytes()
}

/// Runs `job`: the datagrams go at fixed times from the start (a slow
/// send does not shift the later ones), nothing is read. Fails only
/// when the socket cannot be made.
pub fn flow(job: &FlowJob) -> Result<FlowReport, String> {
    let s = UdpSocket::bind(job.local).map_err(|e| format!("udp: binding {}: {e}", job.local))?;
    let local = sock::v4(s.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut sent = 0;
    let mut failed = Vec::new();
    for i in 0..job.count {
        let at = start + job.interval * i as u32;
        let now = Instant::now();
        if at > now {
            thread::sleep(at - now);
        }
        match s.send_to(&flow_payload(&job.data, i), job.server) {
            Ok(_) => sent += 1,
            Err(e) => failed.push((i, e.to_string())),
        }
    }
    Ok(FlowReport {
        local,
        sent,
        failed,
        elapsed: start.elapsed(),
    })
}

impl FlowReport {
    /// One line: how it went.
    pub fn summary(&self, job: &FlowJob) -> String {
        format!(
            "udp-flow: {} -> {}: {} datagrams every {:.3} s: {} sent, {} not sent, {:.1} s",
            self.local,
            job.server,
            job.count,
            job.interval.as_secs_f64(),
            self.sent,
            self.failed.len(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// `many`'s job: `count` UDP sockets, each sending its own datagram to
/// `server` until answered.
#[derive(Clone, Debug)]
pub struct ManyJob {
    pub server: SocketAddrV4,
    pub count: usize,
    /// The whole run's limit.
    pub timeout: Duration,
    /// How long to wait before sending to the unanswered again.
    pub resend: Duration,
}

/// How a socket's exchange went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No answer yet.
    Waiting,
    /// Its own data came back from the server, after the peer the server
    /// named (if it did).
    Right(Option<SocketAddrV4>),
    /// Something else came: what.
    Wrong(String),
}

/// What `many` saw.
#[derive(Clone, Debug)]
pub struct ManyReport {
    pub server: SocketAddrV4,
    /// Each socket's local port and outcome.
    pub sockets: Vec<(u16, Outcome)>,
    /// Datagrams sent (resends included).
    pub sent: usize,
    pub rounds: usize,
    pub elapsed: Duration,
}

/// The data socket `i` of a run sends.
pub fn many_payload(i: usize, nonce: u32) -> Vec<u8> {
    format!("many {i} {nonce}").into_bytes()
}

/// The outcome of `got` from `from`, answering `sent` sent to `server`:
/// right when it is the data sent after at most a tag and the peer.
pub fn judge(server: SocketAddrV4, sent: &[u8], from: SocketAddr, got: &[u8]) -> Outcome {
    if from != SocketAddr::V4(server) {
        return Outcome::Wrong(format!("an answer from {from}"));
    }
    let Some(prefix) = got.strip_suffix(sent) else {
        return Outcome::Wrong(format!("{:?}", String::from_utf8_lossy(got)));
    };
    let prefix = String::from_utf8_lossy(prefix);
    if !prefix.is_empty() && !prefix.ends_with(' ') {
        return Outcome::Wrong(format!("{:?}", String::from_utf8_lossy(got)));
    }
    Outcome::Right(
        prefix
            .split_whitespace()
            .last()
            .and_then(|w| w.parse().ok()),
    )
}

/// Sockets sent to before the answers are read: small, so that the
/// server's socket buffer is never flooded.
const BATCH: usize = 32;

/// Runs `job`. Fails only when the sockets cannot be made; the report
/// says how the exchanges went.
pub fn many(job: &ManyJob) -> io::Result<ManyReport> {
    sock::raise_nofile(job.count as u64 + 32)?;
    let start = Instant::now();
    let end = start + job.timeout;
    let nonce = std::process::id();
    let mut socks = Vec::with_capacity(job.count);
    for _ in 0..job.count {
        let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        s.set_nonblocking(true)?;
        let port = s.local_addr()?.port();
        socks.push((s, port));
    }
    let payloads: Vec<Vec<u8>> = (0..job.count).map(|i| many_payload(i, nonce)).collect();
    let mut outcome = vec![Outcome::Waiting; job.count];
    let mut sent = 0;
    let mut rounds = 0;
    let mut buf = vec![0u8; 2048];
    // Reads whatever answers wait on the unanswered sockets; whether any.
    let mut drain = |outcome: &mut Vec<Outcome>| {
        let mut any = false;
        for (i, (s, _)) in socks.iter().enumerate() {
            if outcome[i] != Outcome::Waiting {
                continue;
            }
            match s.recv_from(&mut buf) {
                Ok((n, from)) => {
                    outcome[i] = judge(job.server, &payloads[i], from, &buf[..n]);
                    any = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    outcome[i] = Outcome::Wrong(format!("receive: {e}"));
                    any = true;
                }
            }
        }
        any
    };
    loop {
        let waiting: Vec<usize> = (0..job.count)
            .filter(|&i| outcome[i] == Outcome::Waiting)
            .collect();
        if waiting.is_empty() || Instant::now() >= end {
            break;
        }
        rounds += 1;
        for batch in waiting.chunks(BATCH) {
            for &i in batch {
                // A failed send (no route yet, say) is tried again next
                // round.
                if socks[i]
                    .0
                    .send_to(&payloads[i], SocketAddr::V4(job.server))
                    .is_ok()
                {
                    sent += 1;
                }
            }
            drain(&mut outcome);
        }
        let until = (Instant::now() + job.resend).min(end);
        while Instant::now() < until && outcome.contains(&Outcome::Waiting) {
            if !drain(&mut outcome) {
                thread::sleep(Duration::from_millis(2));
            }
        }
    }
    Ok(ManyReport {
        server: job.server,
        sockets: socks.iter().map(|(_, p)| *p).zip(outcome).collect(),
        sent,
        rounds,
        elapsed: start.elapsed(),
    })
}

impl ManyReport {
    /// What is wrong, one line each (at most `max` of each kind, then a
    /// count): unanswered or wrongly answered sockets, peers the server
    /// saw twice, peers not at `expect_peer`.
    pub fn problems(&self, expect_peer: Option<Ipv4Addr>, max: usize) -> Vec<String> {
        let mut p = Vec::new();
        let more = |p: &mut Vec<String>, n: usize, what: &str| {
            if n > max {
                p.push(format!("... and {} more {what}", n - max));
            }
        };
        let waiting: Vec<u16> = self
            .sockets
            .iter()
            .filter(|(_, o)| *o == Outcome::Waiting)
            .map(|(port, _)| *port)
            .collect();
        for port in waiting.iter().take(max) {
            p.push(format!("socket {port}: no answer"));
        }
        more(&mut p, waiting.len(), "unanswered");
        let wrong: Vec<String> = self
            .sockets
            .iter()
            .filter_map(|(port, o)| match o {
                Outcome::Wrong(w) => Some(format!("socket {port}: got {w}")),
                _ => None,
            })
            .collect();
        p.extend(wrong.iter().take(max).cloned());
        more(&mut p, wrong.len(), "wrong");
        let mut by_peer: HashMap<SocketAddrV4, Vec<u16>> = HashMap::new();
        let mut elsewhere = Vec::new();
        for (port, o) in &self.sockets {
            if let Outcome::Right(Some(peer)) = o {
                by_peer.entry(*peer).or_default().push(*port);
                if expect_peer.is_some_and(|a| a != *peer.ip()) {
                    elsewhere.push(format!("socket {port}: the server saw it from {peer}"));
                }
            }
        }
        let mut shared: Vec<String> = by_peer
            .iter()
            .filter(|(_, ports)| ports.len() > 1)
            .map(|(peer, ports)| format!("the server saw {peer} for sockets {ports:?}"))
            .collect();
        shared.sort();
        let n = shared.len();
        p.extend(shared.into_iter().take(max));
        more(&mut p, n, "shared peers");
        if let Some(a) = expect_peer {
            if self.peers_named() < self.right() {
                p.push(format!(
                    "the server named the peer for only {} of {} answers: cannot check {a}",
                    self.peers_named(),
                    self.right()
                ));
            }
        }
        let n = elsewhere.len();
        p.extend(elsewhere.into_iter().take(max));
        more(&mut p, n, "from elsewhere");
        p
    }

    /// Sockets answered right.
    pub fn right(&self) -> usize {
        self.sockets
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Right(_)))
            .count()
    }

    fn peers_named(&self) -> usize {
        self.sockets
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Right(Some(_))))
            .count()
    }

    fn distinct_peers(&self) -> usize {
        let mut peers: Vec<SocketAddrV4> = self
            .sockets
            .iter()
            .filter_map(|(_, o)| match o {
                Outcome::Right(Some(p)) => Some(*p),
                _ => None,
            })
            .collect();
        peers.sort();
        peers.dedup();
        peers.len()
    }

    /// One line: how it went.
    pub fn summary(&self) -> String {
        let n = self.sockets.len();
        let wrong = self
            .sockets
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Wrong(_)))
            .count();
        let waiting = n - self.right() - wrong;
        let peers = if self.peers_named() == 0 {
            "the server did not name the peers".to_string()
        } else {
            format!(
                "the server saw {} distinct peers for {} named",
                self.distinct_peers(),
                self.peers_named()
            )
        };
        format!(
            "udp-many: {n} sockets to {}: {} answered right, {wrong} wrong, {waiting} unanswered; \
             {} datagrams sent in {} rounds, {:.1} s; {peers}",
            self.server,
            self.right(),
            self.sent,
            self.rounds,
            self.elapsed.as_secs_f64()
        )
    }
}
