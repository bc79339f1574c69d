// SPDX-License-Identifier: GPL-2.0

//! FTP's text formats, shared by the server and the client: the
//! addresses of PORT, EPRT, 227 and 229, replies, and paths under the
//! server's root.

use std::io::{self, BufRead, Read};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The longest line either side accepts.
pub const MAX_LINE: usize = 4096;

/// `h1,h2,h3,h4,p1,p2` (RFC 959) for `a`.
pub fn format_hostport(a: SocketAddrV4) -> String {
    let [h1, h2, h3, h4] = a.ip().octets();
    let [p1, p2] = a.port().to_be_bytes();
    format!("{h1},{h2},{h3},{h4},{p1},{p2}")
}

/// `|1|a.b.c.d|port|` (RFC 2428) for `a`.
pub fn format_eprt(a: SocketAddrV4) -> String {
    format!("|1|{}|{}|", a.ip(), a.port())
}

/// A decimal number of at most `max`.
fn number(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n <= max)
}

/// The address of `h1,h2,h3,h4,p1,p2`, the whole of `s`.
pub fn parse_hostport(s: &str) -> Option<SocketAddrV4> {
    let n: Vec<u32> = s
        .split(',')
        .map(|x| number(x, 255))
        .collect::<Option<_>>()?;
    let [h1, h2, h3, h4, p1, p2] = n[..] else {
        return None;
    };
    let ip = Ipv4Addr::new(h1 as u8, h2 as u8, h3 as u8, h4 as u8);
    Some(SocketAddrV4::new(ip, (p1 << 8 | p2) as u16))
}

/// Why an EPRT argument is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum EprtError {
    /// Not `<d>1<d>addr<d>port<d>`.
    Syntax,
    /// A network protocol other than 1 (IPv4): RFC 2428's 522 reply.
    Protocol,
}

/// The address of `<d>1<d>a.b.c.d<d>port<d>`, the whole of `s`.
pub fn parse_eprt(s: &str) -> Result<SocketAddrV4, EprtError> {
    let d = s.chars().next().ok_or(EprtError::Syntax)?;
    if !d.is_ascii_graphic() || d.is_ascii_digit() {
        return Err(EprtError::Syntax);
    }
    let parts: Vec<&str> = s.split(d).collect();
    // "", proto, addr, port, "".
    let ["", proto, addr, port, ""] = parts[..] else {
        return Err(EprtError::Syntax);
    };
    if proto != "1" {
        return Err(if number(proto, u32::MAX).is_some() {
            EprtError::Protocol
        } else {
            EprtError::Syntax
        });
    }
    let ip: Ipv4Addr = addr.parse().map_err(|_| EprtError::Syntax)?;
    let port = number(port, 65535).ok_or(EprtError::Syntax)?;
    Ok(SocketAddrV4::new(ip, port as u16))
}

/// The address in the text of a 227 reply: the first six comma-separated
/// numbers, with or without parentheses (RFC 1123).
pub fn parse_pasv_reply(text: &str) -> Option<SocketAddrV4> {
    let b = text.as_bytes();
    for start in 0..b.len() {
        if !b[start].is_ascii_digit()
            || (start > 0 && (b[start - 1].is_ascii_digit() || b[start - 1] == b','))
        {
            continue;
        }
        let end = b[start..]
            .iter()
            .position(|c| !c.is_ascii_digit() && *c != b',')
            .map_or(b.len(), |e| start + e);
        if let Some(a) = parse_hostport(&text[start..end]) {
            return Some(a);
        }
    }
    None
}

/// The port in the text of a 229 reply: `(<d><d><d>port<d>)`.
pub fn parse_epsv_reply(text: &str) -> Option<u16> {
    let open = text.find('(')?;
    let close = text[open..].find(')')? + open;
    let inner = &text[open + 1..close];
    let d = inner.chars().next()?;
    let rest = inner.strip_prefix(&format!("{d}{d}{d}"))?;
    let port = rest.strip_suffix(d)?;
    number(port, 65535).map(|p| p as u16).filter(|&p| p != 0)
}

/// Reads one line, without its `\r\n` or `\n`; `None` at the end of the
/// stream. A line longer than [`MAX_LINE`] is an error.
pub fn read_line(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = Read::take(&mut *r, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() > MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        // The end of the stream in the middle of a line: take it.
    } else {
        buf.pop();
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Reads one reply, following a multi-line one (`ddd-` ... `ddd `) to its
/// end: the code and the text of the last line.
pub fn read_reply(r: &mut impl BufRead) -> io::Result<(u16, String)> {
    let eof = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by the server",
        )
    };
    let line = read_line(r)?.ok_or_else(eof)?;
    let (code, sep) = reply_code(&line).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, format!("not a reply: {line:?}"))
    })?;
    if sep != '-' {
        return Ok((code, line[3..].trim_start().to_string()));
    }
    loop {
        let next = read_line(r)?.ok_or_else(eof)?;
        if let Some((c, ' ')) = reply_code(&next) {
            if c == code {
                return Ok((code, next[4..].to_string()));
            }
        }
    }
}

/// The code of a reply line and the character after it (`' '` or `'-'`,
/// or a space for a line of just the code).
fn reply_code(line: &str) -> Option<(u16, char)> {
    let b = line.as_bytes();
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sep = match b.get(3) {
        None => ' ',
        Some(b' ') => ' ',
        Some(b'-') => '-',
        Some(_) => return None,
    };
    Some((line[..3].parse().ok()?, sep))
}

/// The path `path` names from the directory `cwd` (components under the
/// root): absolute when it starts with `/`, `.` and `..` resolved, never
/// above the root. `None` if a component holds a NUL.
pub fn resolve(cwd: &[String], path: &str) -> Option<Vec<String>> {
    if path.contains('\0') {
        return None;
    }
    let mut out: Vec<String> = if path.starts_with('/') {
        Vec::new()
    } else {
        cwd.to_vec()
    };
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c.to_string()),
        }
    }
    Some(out)
}

/// `/a/b` for the components `[a, b]`, `/` for none.
pub fn display_path(components: &[String]) -> String {
    format!("/{}", components.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn a(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    #[test]
    fn hostport() {
        assert_eq!(format_hostport(a("10.0.1.2:5000")), "10,0,1,2,19,136");
        assert_eq!(parse_hostport("10,0,1,2,19,136"), Some(a("10.0.1.2:5000")));
        assert_eq!(parse_hostport("010,0,1,2,0,255"), Some(a("10.0.1.2:255")));
        for bad in [
            "",
            "10,0,1,2,19",
            "10,0,1,2,19,136,1",
            "10,0,1,256,19,136",
            "10,0,1,2,19,",
            "1 ,0,1,2,19,136",
            "a,0,1,2,19,136",
            "-1,0,1,2,19,136",
        ] {
            assert_eq!(parse_hostport(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn eprt() {
        assert_eq!(format_eprt(a("10.0.1.2:5000")), "|1|10.0.1.2|5000|");
        assert_eq!(parse_eprt("|1|10.0.1.2|5000|"), Ok(a("10.0.1.2:5000")));
        assert_eq!(parse_eprt("!1!10.0.1.2!65535!"), Ok(a("10.0.1.2:65535")));
        assert_eq!(parse_eprt("|2|::1|5000|"), Err(EprtError::Protocol));
        for bad in [
            "",
            "|",
            "|1|10.0.1.2|5000",
            "|1|10.0.1.2|5000|x",
            "|1|10.0.1|5000|",
            "1|1|10.0.1.2|5000|",
            "|1|10.0.1.2|65536|",
            "|x|10.0.1.2|5000|",
        ] {
            assert_eq!(parse_eprt(bad), Err(EprtError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn pasv_and_epsv_replies() {
        assert_eq!(
            parse_pasv_reply("Entering Passive Mode (10,0,2,2,19,136)."),
            Some(a("10.0.2.2:5000"))
        );
        assert_eq!(
            parse_pasv_reply("Entering Passive Mode 10,0,2,2,19,136"),
            Some(a("10.0.2.2:5000"))
        );
        assert_eq!(
            parse_pasv_reply("Mode v2 (10,0,2,2,19,136)"),
            Some(a("10.0.2.2:5000"))
        );
        assert_eq!(parse_pasv_reply("(10,0,2,2,19)"), None);
        assert_eq!(parse_pasv_reply("(1,10,0,2,2,19,136)"), None);
        assert_eq!(
            parse_epsv_reply("Entering Extended Passive Mode (|||5000|)"),
            Some(5000)
        );
        assert_eq!(parse_epsv_reply("(!!!65535!)"), Some(65535));
        for bad in [
            "(|||0|)",
            "(||5000|)",
            "(|||5000)",
            "|||5000|",
            "(|||x|)",
            "(|||65536|)",
        ] {
            assert_eq!(parse_epsv_reply(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn replies() {
        let mut r =
            Cursor::new("220 hello\r\n230-Welcome\r\n230 is not it\r\n 230 nor\r\n230 OK\r\n200\n");
        assert_eq!(read_reply(&mut r).unwrap(), (220, "hello".into()));
        // The first "230 " line ends it: RFC 959's rule.
        assert_eq!(read_reply(&mut r).unwrap(), (230, "is not it".into()));
        assert!(read_reply(&mut r).is_err());
        assert_eq!(read_reply(&mut r).unwrap(), (230, "OK".into()));
        assert_eq!(read_reply(&mut r).unwrap(), (200, "".into()));
        assert_eq!(
            read_reply(&mut r).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let mut r = Cursor::new("211-Features:\r\n EPSV\r\n211 End\r\n");
        assert_eq!(read_reply(&mut r).unwrap(), (211, "End".into()));
    }

    #[test]
    fn lines() {
        let mut r = Cursor::new("a\r\nb\nc");
        assert_eq!(read_line(&mut r).unwrap().as_deref(), Some("a"));
        assert_eq!(read_line(&mut r).unwrap().as_deref(), Some("b"));
        assert_eq!(read_line(&mut r).unwrap().as_deref(), Some("c"));
        assert_eq!(read_line(&mut r).unwrap(), None);
        let long = "x".repeat(MAX_LINE + 10);
        let mut r = Cursor::new(long);
        assert!(read_line(&mut r).is_err());
    }

    #[test]
    fn paths() {
        let cwd = vec!["pub".to_string()];
        let s = |v: Option<Vec<String>>| display_path(&v.unwrap());
        assert_eq!(s(resolve(&cwd, "f")), "/pub/f");
        assert_eq!(s(resolve(&cwd, "/f")), "/f");
        assert_eq!(s(resolve(&cwd, "../../../etc/passwd")), "/etc/passwd");
        assert_eq!(s(resolve(&cwd, "./a//b/./../c")), "/pub/a/c");
        assert_eq!(s(resolve(&cwd, "..")), "/");
        assert_eq!(s(resolve(&[], "")), "/");
        assert_eq!(resolve(&cwd, "a\0b"), None);
    }
}
