// SPDX-License-Identifier: GPL-2.0

//! Connection-tracking helpers: the payload parsers of netfilter's
//! `nf_conntrack_ftp.c` and `nf_conntrack_tftp.c`.
//!
//! A helper watches the payload of a connection (the *master*) for the
//! announcement of another connection that belongs to it: the data
//! connection of an FTP session, the transfer of a TFTP request. It says
//! which connection to expect ([`Expect`]); the kernel side keeps the
//! expectation for [`Helper::expect_timeout_ms`] and, when a new connection
//! [matches](Expect::matches) it, makes that connection RELATED to the
//! master. Everything here is pure: [`inspect`] looks at one packet's
//! payload and returns what it announces; keeping expectations, their
//! lifetime and the per-connection helper is the kernel side's job.
//!
//! Only IPv4 and no NAT: an announced address is never rewritten.

use super::packet::{IPPROTO_TCP, IPPROTO_UDP};
use super::tuple::{Direction, Tuple};

/// The FTP control port (`FTP_PORT`).
pub const FTP_PORT: u16 = 21;
/// The TFTP port (`TFTP_PORT`).
pub const TFTP_PORT: u16 = 69;

/// Five minutes, in milliseconds: the expectation timeout of both
/// helpers' `nf_conntrack_expect_policy`.
const EXPECT_TIMEOUT_MS: u64 = 5 * 60 * 1000;

/// A connection-tracking helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Helper {
    /// FTP (`nf_conntrack_ftp`): active and passive data connections.
    Ftp = 1,
    /// TFTP (`nf_conntrack_tftp`): the transfer a read or write request
    /// starts.
    Tftp = 2,
}

impl Helper {
    /// Every helper, in the order of their values.
    pub const ALL: [Helper; 2] = [Helper::Ftp, Helper::Tftp];

    /// The helper's name, as `-j CT --helper` and conntrack(8) spell it:
    /// "ftp", "tftp".
    pub fn name(self) -> &'static str {
        match self {
            Helper::Ftp => "ftp",
            Helper::Tftp => "tftp",
        }
    }

    /// The helper named `name` (exactly as [`name`](Self::name) gives it).
    pub fn from_name(name: &str) -> Option<Helper> {
        Helper::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The helper whose value (`as u8`) is `v`.
    pub fn from_u8(v: u8) -> Option<Helper> {
        Helper::ALL.into_iter().find(|&h| h as u8 == v)
    }

    /// The helper netfilter assigns by default to a new connection with
    /// original tuple `t`: TCP to port 21 is FTP, UDP to port 69 is TFTP
    /// (the helpers' default `ports`, matched on the destination port of
    /// the original direction).
    pub fn default_for(t: &Tuple) -> Option<Helper> {
        Helper::ALL
            .into_iter()
            .find(|h| t.protocol == h.protocol() && t.dport == h.port())
    }

    /// The helper's protocol: `IPPROTO_TCP` for FTP, `IPPROTO_UDP` for
    /// TFTP. A helper only ever looks at connections of its protocol.
    pub fn protocol(self) -> u8 {
        match self {
            Helper::Ftp => IPPROTO_TCP,
            Helper::Tftp => IPPROTO_UDP,
        }
    }

    /// The server port the helper is assigned to by default (21, 69).
    pub fn port(self) -> u16 {
        match self {
            Helper::Ftp => FTP_PORT,
            Helper::Tftp => TFTP_PORT,
        }
    }

    /// How long an expectation of this helper lives, in milliseconds: 5
    /// minutes for both, as `nf_conntrack_ftp` and `nf_conntrack_tftp`.
    pub fn expect_timeout_ms(self) -> u64 {
        EXPECT_TIMEOUT_MS
    }

    /// How many expectations one master connection may have at a time (the
    /// policy's `max_expected`): 1 for both. When a new one would exceed
    /// it, netfilter removes the oldest (a second PORT replaces the first).
    pub fn max_expected(self) -> usize {
        1
    }
}

impl core::fmt::Display for Helper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A connection a helper expects: its original tuple, where `sport: None`
/// means any source port (the other fields must match exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Source address of the expected connection's first packet.
    pub saddr: [u8; 4],
    /// Its destination address.
    pub daddr: [u8; 4],
    /// Its protocol (`IPPROTO_TCP` for FTP, `IPPROTO_UDP` for TFTP).
    pub protocol: u8,
    /// Its source port; `None` for any (what both helpers expect).
    pub sport: Option<u16>,
    /// Its destination port.
    pub dport: u16,
}

impl Expect {
    /// Whether a new connection with original tuple `t` is the expected
    /// one: same addresses, protocol and destination port, and the same
    /// source port unless any is allowed.
    pub fn matches(&self, t: &Tuple) -> bool {
        t.saddr == self.saddr
            && t.daddr == self.daddr
            && t.protocol == self.protocol
            && t.dport == self.dport
            && self.sport.is_none_or(|p| p == t.sport)
    }
}

/// conntrack(8)'s way, with `sport=any` for any source port:
/// `proto=6 src=10.0.2.2 dst=10.0.1.1 sport=any dport=40000`.
impl core::fmt::Display for Expect {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d] = self.saddr;
        let [e, g, h, i] = self.daddr;
        write!(
            f,
            "proto={} src={a}.{b}.{c}.{d} dst={e}.{g}.{h}.{i} ",
            self.protocol
        )?;
        match self.sport {
            Some(p) => write!(f, "sport={p}")?,
            None => f.write_str("sport=any")?,
        }
        write!(f, " dport={}", self.dport)
    }
}

/// Why a helper ignored or refused a payload (for logging).
///
/// netfilter's FTP helper drops a packet whose command it recognises but
/// cannot parse (`Malformed`, `Truncated`, `NotIpv4`: its "partial
/// matching"), and accepts one that announces another host
/// (`AddressMismatch`) without expecting anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperError {
    /// A command or reply that announces a connection, with an address or
    /// port that does not parse, a number out of range, or port 0.
    Malformed,
    /// The announced address is not the sender's: an FTP bounce (a client
    /// asking the server to connect to a third host) or a server behind
    /// NAT announcing its private address. Nothing is expected
    /// (`nf_conntrack_ftp` with `loose` off).
    AddressMismatch,
    /// The payload ends inside a line that is or may become a command or
    /// reply announcing a connection: its end is in a later segment.
    Truncated,
    /// An EPRT announcing an address that is not IPv4 (`|2|` is IPv6) on
    /// an IPv4 connection.
    NotIpv4,
}

impl HelperError {
    /// A short description, for logging.
    pub fn as_str(self) -> &'static str {
        match self {
            HelperError::Malformed => "malformed address or port",
            HelperError::AddressMismatch => "announced address is not the sender's",
            HelperError::Truncated => "partial matching: the line ends in a later segment",
            HelperError::NotIpv4 => "announced address is not IPv4",
        }
    }
}

impl core::fmt::Display for HelperError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Looks at the payload of one packet of a connection with tuples `tuples`
/// ([original, reply]) going in direction `dir`, and says which connection
/// it announces, if any.
///
/// For FTP, `payload` is the TCP payload. The original direction (the
/// client's) is searched for `PORT h1,h2,h3,h4,p1,p2` and `EPRT
/// |1|a.b.c.d|port|`, the reply direction (the server's) for `227 ...
/// h1,h2,h3,h4,p1,p2` and `229 ... (|||port|)`. Every line of the payload
/// is searched (lines end with `\n`, a `\r` before it is ignored); commands
/// are case-insensitive and must start their line; when several lines
/// announce something, the last one counts, as it is the one the peer acts
/// on. The expected connection is the data connection from the other end
/// of the control connection, from any port, to the announced address and
/// port; the announced address must be the sender's
/// ([`HelperError::AddressMismatch`]). EPSV announces a port only: the
/// address is the sender's.
///
/// For TFTP, `payload` is the UDP payload. A read or write request
/// (opcode 1 or 2) from the client expects the server's answer from any
/// port: the reply tuple with any source port.
///
/// `Ok(None)` if the payload announces nothing, including when the
/// connection is not of the helper's protocol. netfilter's FTP helper
/// only looks at packets of connections that have seen traffic both ways
/// (ctinfo ESTABLISHED or ESTABLISHED_REPLY); the TFTP helper looks at the
/// first packet too, since the request is the first packet. Only packets
/// the connection's tracker accepted, with payload, need inspecting.
///
/// # Errors
///
/// A [`HelperError`] if a line announcing a connection is malformed,
/// truncated by the end of the payload, or announces a third host. The
/// result is that of the last line that is a command or reply the helper
/// looks for, so an error in an earlier line is superseded by a later
/// announcement.
pub fn inspect(
    helper: Helper,
    payload: &[u8],
    dir: Direction,
    tuples: &[Tuple; 2],
) -> Result<Option<Expect>, HelperError> {
    if tuples[0].protocol != helper.protocol() {
        return Ok(None);
    }
    match helper {
        Helper::Ftp => ftp(payload, dir, tuples),
        Helper::Tftp => Ok(tftp(payload, dir, tuples)),
    }
}

/// TFTP's read request opcode.
const TFTP_RRQ: u16 = 1;
/// TFTP's write request opcode.
const TFTP_WRQ: u16 = 2;

/// `tftp_help`: a request from the client expects the server's answer, the
/// reply tuple with any source port (a server answers from a new port).
fn tftp(payload: &[u8], dir: Direction, tuples: &[Tuple; 2]) -> Option<Expect> {
    if dir != Direction::Original {
        return None;
    }
    let opcode = match *payload {
        [a, b, ..] => u16::from_be_bytes([a, b]),
        _ => return None,
    };
    if opcode != TFTP_RRQ && opcode != TFTP_WRQ {
        return None;
    }
    let reply = &tuples[Direction::Reply.index()];
    Some(Expect {
        saddr: reply.saddr,
        daddr: reply.daddr,
        protocol: IPPROTO_UDP,
        sport: None,
        dport: reply.dport,
    })
}

/// The FTP commands and replies that announce a data connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FtpKind {
    /// `PORT h1,h2,h3,h4,p1,p2` (client, active mode).
    Port,
    /// `EPRT |1|a.b.c.d|port|` (client, active mode).
    Eprt,
    /// `227 ... h1,h2,h3,h4,p1,p2` (server, passive mode).
    Pasv,
    /// `229 ... (|||port|)` (server, extended passive mode).
    Epsv,
}

/// What one FTP line announces: an address (not for EPSV) and a port, and
/// where the text naming them is (`span`: its address in memory and its
/// length, turned into an offset in the payload by [`ftp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Announced {
    addr: Option<[u8; 4]>,
    port: u16,
    kind: FtpKind,
    span: (usize, usize),
}

/// The span of `part`, a subslice of the payload, as [`Announced::span`]
/// keeps it.
fn span(part: &[u8]) -> (usize, usize) {
    (part.as_ptr() as usize, part.len())
}

/// An FTP announcement as NAT needs it (`nf_nat_ftp`): the connection it
/// expects, what it is, the address and port it names, and where in the
/// payload the text to rewrite is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FtpAnnouncement {
    /// The expected data connection.
    pub expect: Expect,
    /// The command or reply.
    pub kind: FtpKind,
    /// The announced port.
    pub port: u16,
    /// Offset in the payload of the text naming address and port: the
    /// six numbers of PORT and 227, the `|1|a.b.c.d|port|` of EPRT, the
    /// `|||port|` of 229.
    pub offset: usize,
    /// Its length.
    pub len: usize,
}

/// The text [`FtpAnnouncement::offset`] points at, for `kind` announcing
/// `addr` and `port` (the delimiter of EPRT and EPSV is `|`), written to
/// `out`: what NAT replaces the announcement with.
pub fn ftp_text(kind: FtpKind, addr: [u8; 4], port: u16, out: &mut [u8; 32]) -> &[u8] {
    use core::fmt::Write;
    struct Buf<'a> {
        out: &'a mut [u8; 32],
        len: usize,
    }
    impl Write for Buf<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            let dst = self.out.get_mut(self.len..end).ok_or(core::fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut b = Buf { out, len: 0 };
    let [a1, a2, a3, a4] = addr;
    let [p1, p2] = port.to_be_bytes();
    // At most 31 bytes ("255,255,255,255,255,255", "|1|255.255.255.255|65535|").
    let _ = match kind {
        FtpKind::Port | FtpKind::Pasv => write!(b, "{a1},{a2},{a3},{a4},{p1},{p2}"),
        FtpKind::Eprt => write!(b, "|1|{a1}.{a2}.{a3}.{a4}|{port}|"),
        FtpKind::Epsv => write!(b, "|||{port}|"),
    };
    let len = b.len;
    out.get(..len).unwrap_or(&[])
}

/// [`inspect`] for FTP, saying where the announcement is: what NAT needs
/// to rewrite it.
///
/// # Errors
///
/// As [`inspect`].
pub fn inspect_ftp(
    payload: &[u8],
    dir: Direction,
    tuples: &[Tuple; 2],
) -> Result<Option<FtpAnnouncement>, HelperError> {
    if tuples[0].protocol != IPPROTO_TCP {
        return Ok(None);
    }
    let base = payload.as_ptr() as usize;
    let mut result = Ok(None);
    for_each_ftp_line(payload, dir, |r| {
        result = r.and_then(|a| {
            let expect = ftp_expect(a, dir, tuples)?;
            Ok(Some(FtpAnnouncement {
                expect,
                kind: a.kind,
                port: a.port,
                offset: a.span.0.wrapping_sub(base),
                len: a.span.1,
            }))
        });
    });
    result
}

/// `help` of `nf_conntrack_ftp.c`, on every line of the payload.
fn ftp(payload: &[u8], dir: Direction, tuples: &[Tuple; 2]) -> Result<Option<Expect>, HelperError> {
    let mut result = Ok(None);
    for_each_ftp_line(payload, dir, |r| {
        result = r.and_then(|a| ftp_expect(a, dir, tuples).map(Some));
    });
    result
}

/// Calls `f` with what each line of `payload` that is a command or reply
/// the helper looks for announces.
fn for_each_ftp_line(
    payload: &[u8],
    dir: Direction,
    mut f: impl FnMut(Result<Announced, HelperError>),
) {
    let mut rest = payload;
    while !rest.is_empty() {
        let (line, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                (line.strip_suffix(b"\r").unwrap_or(line), true)
            }
            None => (core::mem::take(&mut rest), false),
        };
        if let Some(r) = ftp_line(line, complete, dir) {
            f(r);
        }
    }
}

/// The expectation for `a`, announced in direction `dir`.
fn ftp_expect(a: Announced, dir: Direction, tuples: &[Tuple; 2]) -> Result<Expect, HelperError> {
    let sender = tuples[dir.index()].saddr;
    if a.addr.is_some_and(|addr| addr != sender) {
        return Err(HelperError::AddressMismatch);
    }
    // The tuple of the other direction: from the peer to the sender (the
    // addresses the expected connection will have; they differ from the
    // sender's own tuple only under NAT).
    let back = &tuples[dir.opposite().index()];
    Ok(Expect {
        saddr: back.saddr,
        daddr: back.daddr,
        protocol: IPPROTO_TCP,
        sport: None,
        dport: a.port,
    })
}

/// A parser of the argument of a command or the text of a reply.
type Parser = fn(&[u8]) -> Result<Announced, HelperError>;

/// The commands the client sends, with the parser of their argument.
const COMMANDS: [(&[u8], Parser); 2] = [(b"PORT", port_command), (b"EPRT", eprt_command)];
/// The replies the server sends, with the parser of their text.
const REPLIES: [(&[u8], Parser); 2] = [(b"227 ", pasv_reply), (b"229 ", epsv_reply)];

/// What one line sent in direction `dir` announces: `None` if it is no
/// command or reply the helper looks for. `complete` is false for the
/// last bytes of the payload when no newline ends them.
fn ftp_line(line: &[u8], complete: bool, dir: Direction) -> Option<Result<Announced, HelperError>> {
    match dir {
        Direction::Original => {
            // The command word ends at the first space or tab.
            let word_len = line.iter().position(|&b| is_blank(b)).unwrap_or(line.len());
            let (word, arg) = line.split_at(word_len);
            for (name, parse) in COMMANDS {
                if !complete {
                    // A prefix of the command (it may go on in the next
                    // segment) or the whole command word.
                    if !word.is_empty()
                        && word.len() <= name.len()
                        && word.eq_ignore_ascii_case(&name[..word.len()])
                    {
                        return Some(Err(HelperError::Truncated));
                    }
                } else if word.eq_ignore_ascii_case(name) {
                    return Some(parse(trim_blanks(arg)));
                }
            }
            None
        }
        Direction::Reply => {
            for (code, parse) in REPLIES {
                if let Some(text) = line.strip_prefix(code) {
                    return Some(if complete {
                        parse(text)
                    } else {
                        Err(HelperError::Truncated)
                    });
                }
                if !complete && !line.is_empty() && code.starts_with(line) {
                    return Some(Err(HelperError::Truncated));
                }
            }
            None
        }
    }
}

/// A space or a tab.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without leading and trailing spaces and tabs.
fn trim_blanks(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_blank(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_blank(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// Parses `N` decimal numbers separated by `sep` at the start of `s`, each
/// at most `max`: the numbers and how many bytes they took. `None` if there
/// are fewer, or one is empty or too large. What follows the last number
/// is not looked at (it is not a digit).
fn numbers<const N: usize>(s: &[u8], sep: u8, max: u32) -> Option<([u32; N], usize)> {
    let mut out = [0u32; N];
    let mut pos = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 {
            if s.get(pos) != Some(&sep) {
                return None;
            }
            pos += 1;
        }
        let (n, len) = number(&s[pos..], max)?;
        *slot = n;
        pos += len;
    }
    Some((out, pos))
}

/// One decimal number at the start of `s`, at most `max`, and its length
/// in bytes; `None` if `s` does not start with a digit or the number is
/// larger. Leading zeroes are allowed.
fn number(s: &[u8], max: u32) -> Option<(u32, usize)> {
    let len = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let mut n: u32 = 0;
    for &b in &s[..len] {
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
        if n > max {
            return None;
        }
    }
    Some((n, len))
}

/// The address and port of RFC 959's `h1,h2,h3,h4,p1,p2` at the start of
/// `s`, and the length of the text.
fn rfc959(s: &[u8]) -> Option<(Announced, usize)> {
    let ([h1, h2, h3, h4, p1, p2], len) = numbers::<6>(s, b',', 255)?;
    let port = ((p1 << 8) | p2) as u16;
    let addr = [h1 as u8, h2 as u8, h3 as u8, h4 as u8];
    Some((
        Announced {
            addr: Some(addr),
            port,
            kind: FtpKind::Port,
            span: span(s.get(..len)?),
        },
        len,
    ))
}

/// A port that is not 0.
fn nonzero(a: Announced) -> Result<Announced, HelperError> {
    if a.port == 0 {
        Err(HelperError::Malformed)
    } else {
        Ok(a)
    }
}

/// `PORT h1,h2,h3,h4,p1,p2`: `arg` is the argument, without blanks around
/// it; nothing may follow the numbers.
fn port_command(arg: &[u8]) -> Result<Announced, HelperError> {
    match rfc959(arg) {
        Some((a, len)) if len == arg.len() => nonzero(a),
        _ => Err(HelperError::Malformed),
    }
}

/// `EPRT <d>1<d>a.b.c.d<d>port<d>` (RFC 2428), `<d>` any printable ASCII
/// character but a digit; nothing may follow the last delimiter.
fn eprt_command(arg: &[u8]) -> Result<Announced, HelperError> {
    let [d, proto, d2, rest @ ..] = arg else {
        return Err(HelperError::Malformed);
    };
    if !is_delimiter(*d) || d2 != d {
        return Err(HelperError::Malformed);
    }
    match *proto {
        b'1' => {}
        b'2' => return Err(HelperError::NotIpv4),
        _ => return Err(HelperError::Malformed),
    }
    let ([a, b, c, e], len) = numbers::<4>(rest, b'.', 255).ok_or(HelperError::Malformed)?;
    let rest = &rest[len..];
    let [sep, rest @ ..] = rest else {
        return Err(HelperError::Malformed);
    };
    if sep != d {
        return Err(HelperError::Malformed);
    }
    let (port, len) = number(rest, u32::from(u16::MAX)).ok_or(HelperError::Malformed)?;
    if rest.get(len) != Some(d) || len + 1 != rest.len() {
        return Err(HelperError::Malformed);
    }
    nonzero(Announced {
        addr: Some([a as u8, b as u8, c as u8, e as u8]),
        port: port as u16,
        kind: FtpKind::Eprt,
        span: span(arg),
    })
}

/// An RFC 2428 delimiter: printable ASCII, not a digit.
fn is_delimiter(b: u8) -> bool {
    (33..=126).contains(&b) && !b.is_ascii_digit()
}

/// The text of a `227` reply to PASV: RFC 1123 says the numbers may come
/// with or without parentheses, so the first run of six numbers
/// `h1,h2,h3,h4,p1,p2` is taken (one starting after a non-digit other than
/// a comma, and not followed by a digit or comma).
fn pasv_reply(text: &[u8]) -> Result<Announced, HelperError> {
    for start in 0..text.len() {
        let before = if start == 0 { b' ' } else { text[start - 1] };
        if !text[start].is_ascii_digit() || before.is_ascii_digit() || before == b',' {
            continue;
        }
        let Some((a, len)) = rfc959(&text[start..]) else {
            continue;
        };
        if text.get(start + len) == Some(&b',') {
            continue;
        }
        return nonzero(Announced {
            kind: FtpKind::Pasv,
            ..a
        });
    }
    Err(HelperError::Malformed)
}

/// The text of a `229` reply to EPSV: `... (<d><d><d>port<d>)`, a port
/// only.
fn epsv_reply(text: &[u8]) -> Result<Announced, HelperError> {
    let open = text
        .iter()
        .position(|&b| b == b'(')
        .ok_or(HelperError::Malformed)?;
    let delimited = &text[open + 1..];
    let [d, d2, d3, rest @ ..] = delimited else {
        return Err(HelperError::Malformed);
    };
    if !is_delimiter(*d) || d2 != d || d3 != d {
        return Err(HelperError::Malformed);
    }
    let (port, len) = number(rest, u32::from(u16::MAX)).ok_or(HelperError::Malformed)?;
    if rest.get(len) != Some(d) {
        return Err(HelperError::Malformed);
    }
    nonzero(Announced {
        addr: None,
        port: port as u16,
        kind: FtpKind::Epsv,
        // The three delimiters, the port, the closing delimiter.
        span: span(delimited.get(..3 + len + 1).unwrap_or(delimited)),
    })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::format;
    use std::string::ToString;
    use std::vec::Vec;

    /// The client.
    const C: [u8; 4] = [10, 0, 1, 1];
    /// The server.
    const S: [u8; 4] = [10, 0, 2, 2];
    /// A third host.
    const T: [u8; 4] = [10, 0, 3, 3];

    /// The tuples of an FTP control connection from C:40000 to S:21.
    fn ftp_conn() -> [Tuple; 2] {
        let t = Tuple::tcp(C, 40000, S, 21);
        [t, t.invert().unwrap()]
    }

    /// The tuples of a TFTP request from C:50000 to S:69.
    fn tftp_conn() -> [Tuple; 2] {
        let t = Tuple::udp(C, 50000, S, 69);
        [t, t.invert().unwrap()]
    }

    /// What the client's `payload` announces.
    fn client(payload: &str) -> Result<Option<Expect>, HelperError> {
        inspect(
            Helper::Ftp,
            payload.as_bytes(),
            Direction::Original,
            &ftp_conn(),
        )
    }

    /// What the server's `payload` announces.
    fn server(payload: &str) -> Result<Option<Expect>, HelperError> {
        inspect(
            Helper::Ftp,
            payload.as_bytes(),
            Direction::Reply,
            &ftp_conn(),
        )
    }

    /// The data connection for active mode: from the server to the client.
    fn active(port: u16) -> Result<Option<Expect>, HelperError> {
        Ok(Some(Expect {
            saddr: S,
            daddr: C,
            protocol: IPPROTO_TCP,
            sport: None,
            dport: port,
        }))
    }

    /// The data connection for passive mode: from the client to the server.
    fn passive(port: u16) -> Result<Option<Expect>, HelperError> {
        Ok(Some(Expect {
            saddr: C,
            daddr: S,
            protocol: IPPROTO_TCP,
            sport: None,
            dport: port,
        }))
    }

    #[test]
    fn names_and_values() {
        for h in Helper::ALL {
            assert_eq!(Helper::from_name(h.name()), Some(h));
            assert_eq!(Helper::from_u8(h as u8), Some(h));
            assert_eq!(h.to_string(), h.name());
            assert_eq!(h.expect_timeout_ms(), 300_000);
            assert_eq!(h.max_expected(), 1);
        }
        assert_eq!(Helper::Ftp.name(), "ftp");
        assert_eq!(Helper::Tftp.name(), "tftp");
        assert_eq!(Helper::Ftp as u8, 1);
        assert_eq!(Helper::Tftp as u8, 2);
        assert_eq!(Helper::from_name("FTP"), None);
        assert_eq!(Helper::from_name("ftp "), None);
        assert_eq!(Helper::from_name(""), None);
        assert_eq!(Helper::from_name("sip"), None);
        assert_eq!(Helper::from_u8(0), None);
        assert_eq!(Helper::from_u8(3), None);
        assert_eq!(Helper::from_u8(255), None);
        assert_eq!(Helper::Ftp.protocol(), IPPROTO_TCP);
        assert_eq!(Helper::Tftp.protocol(), IPPROTO_UDP);
    }

    #[test]
    fn default_helpers() {
        assert_eq!(
            Helper::default_for(&Tuple::tcp(C, 40000, S, 21)),
            Some(Helper::Ftp)
        );
        assert_eq!(
            Helper::default_for(&Tuple::udp(C, 40000, S, 69)),
            Some(Helper::Tftp)
        );
        // Wrong protocol, wrong port, the port as the source.
        assert_eq!(Helper::default_for(&Tuple::udp(C, 40000, S, 21)), None);
        assert_eq!(Helper::default_for(&Tuple::tcp(C, 40000, S, 69)), None);
        assert_eq!(Helper::default_for(&Tuple::tcp(C, 40000, S, 22)), None);
        assert_eq!(Helper::default_for(&Tuple::tcp(C, 21, S, 40000)), None);
        assert_eq!(Helper::default_for(&Tuple::udp(C, 69, S, 40000)), None);
        assert_eq!(Helper::default_for(&Tuple::icmp(C, S, 21, 8, 0)), None);
        assert_eq!(Helper::default_for(&Tuple::other(C, S, 47)), None);
    }

    #[test]
    fn expect_matches() {
        let any = Expect {
            saddr: S,
            daddr: C,
            protocol: IPPROTO_TCP,
            sport: None,
            dport: 5000,
        };
        assert!(any.matches(&Tuple::tcp(S, 20, C, 5000)));
        assert!(any.matches(&Tuple::tcp(S, 1, C, 5000)));
        assert!(any.matches(&Tuple::tcp(S, 65535, C, 5000)));
        assert!(!any.matches(&Tuple::tcp(S, 20, C, 5001)));
        assert!(!any.matches(&Tuple::tcp(C, 20, S, 5000)));
        assert!(!any.matches(&Tuple::tcp(T, 20, C, 5000)));
        assert!(!any.matches(&Tuple::tcp(S, 20, T, 5000)));
        assert!(!any.matches(&Tuple::udp(S, 20, C, 5000)));
        let one = Expect {
            sport: Some(20),
            ..any
        };
        assert!(one.matches(&Tuple::tcp(S, 20, C, 5000)));
        assert!(!one.matches(&Tuple::tcp(S, 21, C, 5000)));
        assert!(!one.matches(&Tuple::tcp(S, 20, C, 5001)));
        assert!(!one.matches(&Tuple::udp(S, 20, C, 5000)));
        assert_eq!(
            any.to_string(),
            "proto=6 src=10.0.2.2 dst=10.0.1.1 sport=any dport=5000"
        );
        assert_eq!(
            one.to_string(),
            "proto=6 src=10.0.2.2 dst=10.0.1.1 sport=20 dport=5000"
        );
    }

    #[test]
    fn port_command() {
        // 19 * 256 + 136 = 5000.
        assert_eq!(client("PORT 10,0,1,1,19,136\r\n"), active(5000));
        assert_eq!(client("PORT 10,0,1,1,19,136\n"), active(5000));
        assert_eq!(client("port 10,0,1,1,19,136\r\n"), active(5000));
        assert_eq!(client("Port 10,0,1,1,19,136\r\n"), active(5000));
        assert_eq!(client("pOrT 010,000,001,001,019,136\r\n"), active(5000));
        // Odd spacing: several blanks, tabs, trailing blanks.
        assert_eq!(client("PORT   10,0,1,1,19,136\r\n"), active(5000));
        assert_eq!(client("PORT\t10,0,1,1,19,136\r\n"), active(5000));
        assert_eq!(client("PORT 10,0,1,1,19,136  \r\n"), active(5000));
        assert_eq!(client("PORT 10,0,1,1,19,136\t\r\n"), active(5000));
        // A stray \r inside the line is not a line end.
        assert_eq!(
            client("PORT 10,0,1,1,19,136\r\r\n"),
            Err(HelperError::Malformed)
        );
    }

    #[test]
    fn port_edges() {
        assert_eq!(client("PORT 10,0,1,1,0,1\r\n"), active(1));
        assert_eq!(client("PORT 10,0,1,1,255,255\r\n"), active(65535));
        assert_eq!(client("PORT 10,0,1,1,1,0\r\n"), active(256));
        assert_eq!(client("PORT 10,0,1,1,0,0\r\n"), Err(HelperError::Malformed));
        assert_eq!(
            client("PORT 10,0,1,1,256,0\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            client("PORT 10,0,1,1,0,256\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            client("PORT 10,0,1,1,0,99999999999999\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            client("PORT 266,0,1,1,19,136\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            client("PORT 4294967306,0,1,1,19,136\r\n"),
            Err(HelperError::Malformed)
        );
    }

    #[test]
    fn port_malformed() {
        for arg in [
            "",
            "10,0,1,1,19",
            "10,0,1,1,19,",
            "10,0,1,1,19,136,7",
            "10,0,1,1,,136",
            ",10,0,1,1,19,136",
            "10.0.1.1,19,136",
            "10,0,1,1,19,136x",
            "10,0,1,1,19,136 x",
            "10, 0,1,1,19,136",
            "-10,0,1,1,19,136",
            "+10,0,1,1,19,136",
            "(10,0,1,1,19,136)",
            "a,b,c,d,e,f",
        ] {
            assert_eq!(
                client(&format!("PORT {arg}\r\n")),
                Err(HelperError::Malformed),
                "{arg:?}"
            );
        }
        assert_eq!(client("PORT\r\n"), Err(HelperError::Malformed));
        assert_eq!(client("PORT   \r\n"), Err(HelperError::Malformed));
    }

    #[test]
    fn not_commands() {
        for line in [
            "PORTS 10,0,1,1,19,136",
            "XPORT 10,0,1,1,19,136",
            " PORT 10,0,1,1,19,136",
            "RETR PORT 10,0,1,1,19,136",
            "RETR 10,0,1,1,19,136",
            "STOR file",
            "PASV",
            "EPSV",
            "227 Entering Passive Mode (10,0,1,1,19,136)",
            "229 Entering Extended Passive Mode (|||5000|)",
            "",
        ] {
            assert_eq!(client(&format!("{line}\r\n")), Ok(None), "{line:?}");
        }
        assert_eq!(client(""), Ok(None));
        assert_eq!(client("\r\n\r\n\n"), Ok(None));
        // A server does not send commands: its PORT is text.
        assert_eq!(server("PORT 10,0,2,2,19,136\r\n"), Ok(None));
        assert_eq!(server("EPRT |1|10.0.2.2|5000|\r\n"), Ok(None));
    }

    #[test]
    fn bounce() {
        // The client asks the server to connect to a third host, or to
        // itself.
        assert_eq!(
            client("PORT 10,0,3,3,0,25\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            client("PORT 10,0,2,2,0,22\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            client("PORT 127,0,0,1,0,22\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            client("PORT 0,0,0,0,19,136\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            client("EPRT |1|10.0.3.3|25|\r\n"),
            Err(HelperError::AddressMismatch)
        );
        // A server announcing another host for passive mode.
        assert_eq!(
            server("227 Entering Passive Mode (10,0,3,3,19,136)\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            server("227 Entering Passive Mode (192,168,0,1,19,136)\r\n"),
            Err(HelperError::AddressMismatch)
        );
        // Malformed beats mismatch: the numbers are looked at first.
        assert_eq!(client("PORT 10,0,3,3,0,0\r\n"), Err(HelperError::Malformed));
    }

    #[test]
    fn eprt_command() {
        assert_eq!(client("EPRT |1|10.0.1.1|5000|\r\n"), active(5000));
        assert_eq!(client("eprt |1|10.0.1.1|5000|\n"), active(5000));
        assert_eq!(client("EpRt   |1|10.0.1.1|5000|  \r\n"), active(5000));
        assert_eq!(client("EPRT !1!10.0.1.1!5000!\r\n"), active(5000));
        assert_eq!(client("EPRT ~1~10.0.1.1~65535~\r\n"), active(65535));
        assert_eq!(client("EPRT |1|10.0.1.1|1|\r\n"), active(1));
        assert_eq!(
            client("EPRT |1|010.000.001.001|00005000|\r\n"),
            active(5000)
        );
        assert_eq!(client("EPRT |2|::1|5000|\r\n"), Err(HelperError::NotIpv4));
        for arg in [
            "",
            "|",
            "|1|",
            "|1|10.0.1.1",
            "|1|10.0.1.1|",
            "|1|10.0.1.1|5000",
            "|1|10.0.1.1|5000|x",
            "|1|10.0.1.1|5000||",
            "|1|10.0.1.1|0|",
            "|1|10.0.1.1|65536|",
            "|1|10.0.1.1|99999999999|",
            "|1|10.0.1.1||",
            "|1|10.0.1|5000|",
            "|1|10.0.1.1.1|5000|",
            "|1|10.0.1.256|5000|",
            "|1|10.0.1.1!5000|",
            "|1!10.0.1.1|5000|",
            "|3|10.0.1.1|5000|",
            "1|1|10.0.1.1|5000|",
            " 1 10.0.1.1 5000 ",
            "\x7f1\x7f10.0.1.1\x7f5000\x7f",
            "|1|10.0.1.1|-5000|",
        ] {
            assert_eq!(
                client(&format!("EPRT {arg}\r\n")),
                Err(HelperError::Malformed),
                "{arg:?}"
            );
        }
    }

    #[test]
    fn pasv_reply() {
        assert_eq!(
            server("227 Entering Passive Mode (10,0,2,2,19,136)\r\n"),
            passive(5000)
        );
        assert_eq!(
            server("227 Entering Passive Mode (10,0,2,2,19,136).\r\n"),
            passive(5000)
        );
        assert_eq!(
            server("227 Entering Passive Mode (10,0,2,2,19,136)\n"),
            passive(5000)
        );
        // RFC 1123: without parentheses, or with text around.
        assert_eq!(
            server("227 Entering Passive Mode 10,0,2,2,19,136\r\n"),
            passive(5000)
        );
        assert_eq!(server("227 =10,0,2,2,19,136\r\n"), passive(5000));
        assert_eq!(server("227 10,0,2,2,19,136\r\n"), passive(5000));
        // A number in the text before the address is skipped.
        assert_eq!(
            server("227 Entering Passive Mode v2 (10,0,2,2,19,136)\r\n"),
            passive(5000)
        );
        assert_eq!(server("227 OK (10,0,2,2,255,255)\r\n"), passive(65535));
        assert_eq!(
            server("227 OK (10,0,2,2,0,0)\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            server("227 OK (10,0,2,2,256,0)\r\n"),
            Err(HelperError::Malformed)
        );
        // Seven numbers are not six.
        assert_eq!(
            server("227 OK (10,0,2,2,19,136,1)\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            server("227 OK (1,10,0,2,2,19,136)\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            server("227 OK (10,0,2,2,19)\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            server("227 Entering Passive Mode\r\n"),
            Err(HelperError::Malformed)
        );
        assert_eq!(server("227 \r\n"), Err(HelperError::Malformed));
        // Not a 227 reply: another code, a continuation line, no space.
        assert_eq!(server("200 OK (10,0,2,2,19,136)\r\n"), Ok(None));
        assert_eq!(
            server("227-Entering Passive Mode (10,0,2,2,19,136)\r\n"),
            Ok(None)
        );
        assert_eq!(
            server(" 227 Entering Passive Mode (10,0,2,2,19,136)\r\n"),
            Ok(None)
        );
        assert_eq!(server("2270 (10,0,2,2,19,136)\r\n"), Ok(None));
        assert_eq!(server("227\r\n"), Ok(None));
        // A client does not send replies.
        assert_eq!(
            client("227 Entering Passive Mode (10,0,1,1,19,136)\r\n"),
            Ok(None)
        );
    }

    #[test]
    fn epsv_reply() {
        assert_eq!(
            server("229 Entering Extended Passive Mode (|||5000|)\r\n"),
            passive(5000)
        );
        assert_eq!(
            server("229 Entering Extended Passive Mode (|||5000|)\n"),
            passive(5000)
        );
        assert_eq!(server("229 (!!!65535!)\r\n"), passive(65535));
        assert_eq!(server("229 (|||1|)\r\n"), passive(1));
        assert_eq!(server("229 (|||5000|\r\n"), passive(5000));
        for line in [
            "229 Entering Extended Passive Mode |||5000|",
            "229 (|||0|)",
            "229 (|||65536|)",
            "229 (|||5000)",
            "229 (||5000|)",
            "229 (|!|5000|)",
            "229 (111500001)",
            "229 (   5000 )",
            "229 (|||x|)",
            "229 (|||",
            "229 (",
            "229 ",
        ] {
            assert_eq!(
                server(&format!("{line}\r\n")),
                Err(HelperError::Malformed),
                "{line:?}"
            );
        }
        assert_eq!(server("229-(|||5000|)\r\n"), Ok(None));
        assert_eq!(client("229 (|||5000|)\r\n"), Ok(None));
    }

    #[test]
    fn several_lines() {
        // Mid-segment, after other commands.
        assert_eq!(
            client("TYPE I\r\nPORT 10,0,1,1,19,136\r\nRETR f\r\n"),
            active(5000)
        );
        assert_eq!(client("NOOP\nPORT 10,0,1,1,19,136\n"), active(5000));
        assert_eq!(
            server("200 Type set to I\r\n227 Entering Passive Mode (10,0,2,2,19,136)\r\n"),
            passive(5000)
        );
        assert_eq!(
            server("150 here\r\n226 done\r\n229 Entering Extended Passive Mode (|||5000|)\r\n"),
            passive(5000)
        );
        // The last announcement counts, errors included.
        assert_eq!(
            client("PORT 10,0,1,1,0,1\r\nPORT 10,0,1,1,19,136\r\n"),
            active(5000)
        );
        assert_eq!(
            client("EPRT |1|10.0.1.1|1|\r\nPORT 10,0,1,1,19,136\r\n"),
            active(5000)
        );
        assert_eq!(
            client("PORT 10,0,3,3,0,25\r\nPORT 10,0,1,1,19,136\r\n"),
            active(5000)
        );
        assert_eq!(
            client("PORT 10,0,1,1,19,136\r\nPORT 10,0,3,3,0,25\r\n"),
            Err(HelperError::AddressMismatch)
        );
        assert_eq!(
            client("PORT 10,0,1,1,19,136\r\nPORT x\r\nNOOP\r\n"),
            Err(HelperError::Malformed)
        );
        // Lines that are not commands do not reset it.
        assert_eq!(
            client("PORT 10,0,1,1,19,136\r\nRETR f\r\nQUIT\r\n"),
            active(5000)
        );
    }

    #[test]
    fn truncated() {
        for tail in [
            "P",
            "p",
            "PO",
            "POR",
            "PORT",
            "PORT ",
            "PORT 10,0,1,1,19,136",
            "EPRT |1|",
            "e",
        ] {
            assert_eq!(client(tail), Err(HelperError::Truncated), "{tail:?}");
            // After a complete line too.
            assert_eq!(
                client(&format!("PORT 10,0,1,1,19,136\r\n{tail}")),
                Err(HelperError::Truncated),
                "{tail:?}"
            );
        }
        // PORT without \n: netfilter wants the end of the line too.
        assert_eq!(
            client("PORT 10,0,1,1,19,136\r"),
            Err(HelperError::Truncated)
        );
        for tail in ["RETR f", "X", "PORTS", "NOOP", " PORT 1"] {
            assert_eq!(client(tail), Ok(None), "{tail:?}");
            assert_eq!(
                client(&format!("PORT 10,0,1,1,19,136\r\n{tail}")),
                active(5000)
            );
        }
        for tail in [
            "2",
            "22",
            "227",
            "227 ",
            "227 Entering (10,0,2,2,19,136)",
            "229 (|||5000|)",
        ] {
            assert_eq!(server(tail), Err(HelperError::Truncated), "{tail:?}");
        }
        for tail in ["1", "200 OK", "2270", "227-x", "23"] {
            assert_eq!(server(tail), Ok(None), "{tail:?}");
        }
    }

    #[test]
    fn binary_payloads() {
        // Nothing in bytes that are not text, nor a panic.
        let junk: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let t = ftp_conn();
        for dir in [Direction::Original, Direction::Reply] {
            for len in 0..junk.len() {
                let _ = inspect(Helper::Ftp, &junk[..len], dir, &t);
                let _ = inspect(Helper::Tftp, &junk[..len], dir, &tftp_conn());
            }
        }
        assert_eq!(
            inspect(Helper::Ftp, b"PORT \xff\xfe\r\n", Direction::Original, &t),
            Err(HelperError::Malformed)
        );
        assert_eq!(
            inspect(
                Helper::Ftp,
                b"\0PORT 10,0,1,1,19,136\r\n",
                Direction::Original,
                &t
            ),
            Ok(None)
        );
        assert_eq!(
            inspect(
                Helper::Ftp,
                b"\xffPORT 1\r\nPORT 10,0,1,1,19,136\r\n",
                Direction::Original,
                &t
            ),
            active(5000)
        );
    }

    #[test]
    fn tftp_requests() {
        let t = tftp_conn();
        let expect = Ok(Some(Expect {
            saddr: S,
            daddr: C,
            protocol: IPPROTO_UDP,
            sport: None,
            dport: 50000,
        }));
        let rrq = b"\x00\x01file\x00octet\x00";
        let wrq = b"\x00\x02file\x00octet\x00";
        assert_eq!(inspect(Helper::Tftp, rrq, Direction::Original, &t), expect);
        assert_eq!(inspect(Helper::Tftp, wrq, Direction::Original, &t), expect);
        // The opcode is all that counts, as in netfilter.
        assert_eq!(
            inspect(Helper::Tftp, b"\x00\x01", Direction::Original, &t),
            expect
        );
        // DATA, ACK, ERROR, OACK and unknown opcodes announce nothing.
        for op in [0u16, 3, 4, 5, 6, 0x0101, 0x0201, 0xffff] {
            let p = [op.to_be_bytes().as_slice(), b"x\0"].concat();
            assert_eq!(
                inspect(Helper::Tftp, &p, Direction::Original, &t),
                Ok(None),
                "{op}"
            );
        }
        // Too short, or from the server.
        assert_eq!(
            inspect(Helper::Tftp, b"", Direction::Original, &t),
            Ok(None)
        );
        assert_eq!(
            inspect(Helper::Tftp, b"\x00", Direction::Original, &t),
            Ok(None)
        );
        assert_eq!(inspect(Helper::Tftp, rrq, Direction::Reply, &t), Ok(None));
        assert_eq!(inspect(Helper::Tftp, wrq, Direction::Reply, &t), Ok(None));
        // The expected transfer is the server's answer from a new port.
        let Ok(Some(e)) = inspect(Helper::Tftp, rrq, Direction::Original, &t) else {
            panic!()
        };
        assert!(e.matches(&Tuple::udp(S, 33333, C, 50000)));
        assert!(!e.matches(&Tuple::udp(S, 33333, C, 50001)));
        assert!(!e.matches(&Tuple::udp(C, 50000, S, 33333)));
        assert!(!e.matches(&Tuple::tcp(S, 33333, C, 50000)));
    }

    #[test]
    fn wrong_protocol() {
        // A helper never looks at a connection of another protocol.
        assert_eq!(
            inspect(
                Helper::Tftp,
                b"\x00\x01f\0octet\0",
                Direction::Original,
                &ftp_conn()
            ),
            Ok(None)
        );
        assert_eq!(
            inspect(
                Helper::Ftp,
                b"PORT 10,0,1,1,19,136\r\n",
                Direction::Original,
                &tftp_conn()
            ),
            Ok(None)
        );
    }

    #[test]
    fn expectations_match_the_data_connection() {
        let t = ftp_conn();
        // Active: the server connects from port 20 to the client.
        let Ok(Some(e)) = client("PORT 10,0,1,1,19,136\r\n") else {
            panic!()
        };
        assert!(e.matches(&Tuple::tcp(S, 20, C, 5000)));
        assert!(!e.matches(&Tuple::tcp(C, 5000, S, 20)));
        // Passive: the client connects from any port to the server.
        let Ok(Some(e)) = server("227 Entering Passive Mode (10,0,2,2,19,136)\r\n") else {
            panic!()
        };
        assert!(e.matches(&Tuple::tcp(C, 40001, S, 5000)));
        assert!(!e.matches(&Tuple::tcp(T, 40001, S, 5000)));
        // The addresses come from the other direction's tuple: under NAT
        // that is the one the data connection will have.
        let mut nat = t;
        nat[1].daddr = T;
        let e = inspect(
            Helper::Ftp,
            b"PORT 10,0,1,1,19,136\r\n",
            Direction::Original,
            &nat,
        );
        assert_eq!(
            e,
            Ok(Some(Expect {
                saddr: S,
                daddr: T,
                protocol: IPPROTO_TCP,
                sport: None,
                dport: 5000
            }))
        );
    }

    #[test]
    fn errors_describe_themselves() {
        for e in [
            HelperError::Malformed,
            HelperError::AddressMismatch,
            HelperError::Truncated,
            HelperError::NotIpv4,
        ] {
            assert!(!e.as_str().is_empty());
            assert_eq!(e.to_string(), e.as_str());
        }
    }

    /// Where NAT finds each announcement, and that the text it writes back
    /// parses to the same announcement.
    #[test]
    fn ftp_announcements_for_nat() {
        let cases: [(&str, Direction, FtpKind, &str); 6] = [
            (
                "PORT 10,0,1,1,156,64\r\n",
                Direction::Original,
                FtpKind::Port,
                "10,0,1,1,156,64",
            ),
            (
                "port   10,0,1,1,156,64  \r\n",
                Direction::Original,
                FtpKind::Port,
                "10,0,1,1,156,64",
            ),
            (
                "EPRT |1|10.0.1.1|40000|\r\n",
                Direction::Original,
                FtpKind::Eprt,
                "|1|10.0.1.1|40000|",
            ),
            (
                "227 Entering Passive Mode (10,0,2,2,156,64).\r\n",
                Direction::Reply,
                FtpKind::Pasv,
                "10,0,2,2,156,64",
            ),
            (
                "227 =10,0,2,2,156,64\r\n",
                Direction::Reply,
                FtpKind::Pasv,
                "10,0,2,2,156,64",
            ),
            (
                "229 Entering Extended Passive Mode (|||40000|)\r\n",
                Direction::Reply,
                FtpKind::Epsv,
                "|||40000|",
            ),
        ];
        for (payload, dir, kind, text) in cases {
            let a = inspect_ftp(payload.as_bytes(), dir, &ftp_conn())
                .unwrap()
                .unwrap_or_else(|| panic!("{payload:?}"));
            assert_eq!(a.kind, kind, "{payload:?}");
            assert_eq!(a.port, 40000, "{payload:?}");
            assert_eq!(&payload[a.offset..a.offset + a.len], text, "{payload:?}");
            let want = inspect(Helper::Ftp, payload.as_bytes(), dir, &ftp_conn());
            assert_eq!(Ok(Some(a.expect)), want, "{payload:?}");
            // The rewrite of the same address and port is the same text
            // (EPSV and EPRT normalise the delimiter to |).
            let addr = if dir == Direction::Original { C } else { S };
            let mut out = [0u8; 32];
            assert_eq!(ftp_text(kind, addr, 40000, &mut out), text.as_bytes());
        }
        // A later line wins, as for inspect; nothing announced is None.
        let two = "PORT 10,0,1,1,0,1\r\nPORT 10,0,1,1,0,2\r\n";
        let a = inspect_ftp(two.as_bytes(), Direction::Original, &ftp_conn())
            .unwrap()
            .unwrap();
        assert_eq!((a.port, a.offset), (2, 24));
        assert_eq!(
            inspect_ftp(b"NOOP\r\n", Direction::Original, &ftp_conn()),
            Ok(None)
        );
        assert_eq!(
            inspect_ftp(b"PORT 10,0,3,3,0,1\r\n", Direction::Original, &ftp_conn()),
            Err(HelperError::AddressMismatch)
        );
        // The longest texts fit.
        let mut out = [0u8; 32];
        assert_eq!(
            ftp_text(FtpKind::Eprt, [255; 4], 65535, &mut out),
            b"|1|255.255.255.255|65535|"
        );
        assert_eq!(
            ftp_text(FtpKind::Port, [255; 4], 65535, &mut out),
            b"255,255,255,255,255,255"
        );
    }
}
