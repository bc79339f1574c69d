// SPDX-License-Identifier: GPL-2.0

//! What std cannot do: connect a TCP socket from a chosen local port (an
//! FTP server's active data connection comes from port 20); learn the
//! address a UDP datagram was sent to and answer from it (IP_PKTINFO, as
//! DNS servers do: a reply from another local address would not belong to
//! a NATed flow); open more sockets than the default descriptor limit. A
//! few libc calls, declared here since the crate has no dependencies; std
//! links libc anyway. Linux only.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_long, c_void};
use std::time::Duration;

const AF_INET: c_int = 2;
const SOCK_STREAM: c_int = 1;
const SOCK_CLOEXEC: c_int = 0o2_000_000;
const SOL_SOCKET: c_int = 1;
const SO_REUSEADDR: c_int = 2;
const SO_SNDTIMEO: c_int = 21;
const IPPROTO_IP: c_int = 0;
const IP_PKTINFO: c_int = 8;
const RLIMIT_NOFILE: c_int = 7;

/// `struct sockaddr_in`.
#[repr(C)]
struct SockaddrIn {
    sin_family: u16,
    /// Network order.
    sin_port: u16,
    sin_addr: [u8; 4],
    sin_zero: [u8; 8],
}

impl SockaddrIn {
    fn new(a: SocketAddrV4) -> SockaddrIn {
        SockaddrIn {
            sin_family: AF_INET as u16,
            sin_port: a.port().to_be(),
            sin_addr: a.ip().octets(),
            sin_zero: [0; 8],
        }
    }

    fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(self.sin_addr), u16::from_be(self.sin_port))
    }
}

/// `struct iovec`.
#[repr(C)]
struct Iovec {
    base: *mut c_void,
    len: usize,
}

/// `struct msghdr`.
#[repr(C)]
struct Msghdr {
    name: *mut c_void,
    namelen: u32,
    iov: *mut Iovec,
    iovlen: usize,
    control: *mut c_void,
    controllen: usize,
    flags: c_int,
}

/// `struct cmsghdr`: 16 bytes, its data follows aligned to 8.
#[repr(C)]
struct Cmsghdr {
    len: usize,
    level: c_int,
    ty: c_int,
}

/// `struct in_pktinfo`.
#[repr(C)]
struct InPktinfo {
    ifindex: c_int,
    /// The source address to use (sending), or the local address routing
    /// chose (receiving).
    spec_dst: [u8; 4],
    /// The destination address of the datagram's header (receiving).
    addr: [u8; 4],
}

/// One control message carrying an `in_pktinfo`: `CMSG_SPACE(12)` bytes.
#[repr(C)]
struct PktinfoCmsg {
    hdr: Cmsghdr,
    info: InPktinfo,
    pad: [u8; 4],
}

/// `struct rlimit`.
#[repr(C)]
struct Rlimit {
    cur: u64,
    max: u64,
}

/// `struct timeval`.
#[repr(C)]
struct Timeval {
    tv_sec: c_long,
    tv_usec: c_long,
}

extern "C" {
    fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: u32) -> c_int;
    fn bind(fd: c_int, addr: *const SockaddrIn, len: u32) -> c_int;
    fn connect(fd: c_int, addr: *const SockaddrIn, len: u32) -> c_int;
    fn recvmsg(fd: c_int, msg: *mut Msghdr, flags: c_int) -> isize;
    fn sendmsg(fd: c_int, msg: *const Msghdr, flags: c_int) -> isize;
    fn getrlimit(resource: c_int, rlim: *mut Rlimit) -> c_int;
    fn setrlimit(resource: c_int, rlim: *const Rlimit) -> c_int;
}

/// A libc return value: -1 is `errno`.
fn check(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A libc length: -1 is `errno`.
fn check_len(rc: isize) -> io::Result<usize> {
    usize::try_from(rc).map_err(|_| io::Error::last_os_error())
}

/// `setsockopt` with a value of type `T`.
fn set<T>(fd: &impl AsRawFd, level: c_int, name: c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live `T` of the size passed.
    check(unsafe {
        setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as u32,
        )
    })
    .map(drop)
}

/// A TCP connection from `local` (port 0: any) to `remote`, giving up
/// after `timeout`. `SO_REUSEADDR` lets a server connect from the same
/// port again while its last connection from it is in TIME_WAIT.
pub fn connect_from(
    local: SocketAddrV4,
    remote: SocketAddrV4,
    timeout: Duration,
) -> io::Result<TcpStream> {
    // SAFETY: plain system calls on a descriptor we own.
    let fd = check(unsafe { socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set(&fd, SOL_SOCKET, SO_REUSEADDR, &(1 as c_int))?;
    // A blocking connect(2) gives up after the send timeout.
    let tv = Timeval {
        tv_sec: timeout.as_secs() as c_long,
        tv_usec: c_long::from(timeout.subsec_micros()),
    };
    set(&fd, SOL_SOCKET, SO_SNDTIMEO, &tv)?;
    let l = SockaddrIn::new(local);
    // SAFETY: `l` is a valid sockaddr_in of the size passed.
    check(unsafe { bind(fd.as_raw_fd(), &l, std::mem::size_of::<SockaddrIn>() as u32) })?;
    let r = SockaddrIn::new(remote);
    // SAFETY: as above.
    let rc = unsafe { connect(fd.as_raw_fd(), &r, std::mem::size_of::<SockaddrIn>() as u32) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        // EINPROGRESS: the timeout ran out.
        if e.raw_os_error() == Some(115) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out",
            ));
        }
        return Err(e);
    }
    let stream = TcpStream::from(fd);
    stream.set_write_timeout(None)?;
    Ok(stream)
}

/// Makes `recv_to` on `s` report each datagram's destination address.
pub fn want_pktinfo(s: &UdpSocket) -> io::Result<()> {
    set(s, IPPROTO_IP, IP_PKTINFO, &(1 as c_int))
}

/// Receives a datagram into `buf` on `s` (after `want_pktinfo`): its
/// length, its source, and the destination address it was sent to.
pub fn recv_to(
    s: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddrV4, Option<Ipv4Addr>)> {
    let mut name = SockaddrIn::new(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    let mut iov = Iovec {
        base: buf.as_mut_ptr().cast(),
        len: buf.len(),
    };
    // Room for a few control messages, aligned for cmsghdr.
    let mut control = [0u64; 16];
    let mut msg = Msghdr {
        name: (&mut name as *mut SockaddrIn).cast(),
        namelen: std::mem::size_of::<SockaddrIn>() as u32,
        iov: &mut iov,
        iovlen: 1,
        control: control.as_mut_ptr().cast(),
        controllen: std::mem::size_of_val(&control),
        flags: 0,
    };
    // SAFETY: every pointer in `msg` points to a live buffer of the length
    // given with it, for the duration of the call.
    let n = check_len(unsafe { recvmsg(s.as_raw_fd(), &mut msg, 0) })?;
    let bytes: Vec<u8> = control.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let dst = pktinfo_addr(&bytes[..msg.controllen.min(bytes.len())]);
    Ok((n.min(buf.len()), name.addr(), dst))
}

/// The header's destination address in the IP_PKTINFO message among the
/// control messages `c`.
fn pktinfo_addr(c: &[u8]) -> Option<Ipv4Addr> {
    const HDR: usize = std::mem::size_of::<Cmsghdr>();
    let mut off = 0;
    while off + HDR <= c.len() {
        let len = usize::from_ne_bytes(c[off..off + 8].try_into().ok()?);
        let level = c_int::from_ne_bytes(c[off + 8..off + 12].try_into().ok()?);
        let ty = c_int::from_ne_bytes(c[off + 12..off + 16].try_into().ok()?);
        if len < HDR || off + len > c.len() {
            return None;
        }
        if level == IPPROTO_IP && ty == IP_PKTINFO && len >= HDR + 12 {
            let a: [u8; 4] = c[off + HDR + 8..off + HDR + 12].try_into().ok()?;
            return Some(Ipv4Addr::from(a));
        }
        off += (len + 7) & !7;
    }
    None
}

/// Sends `data` on `s` to `to`, from the local address `from` (any: the
/// route's).
pub fn send_from(
    s: &UdpSocket,
    data: &[u8],
    to: SocketAddrV4,
    from: Option<Ipv4Addr>,
) -> io::Result<usize> {
    let name = SockaddrIn::new(to);
    let mut iov = Iovec {
        base: data.as_ptr().cast_mut().cast(),
        len: data.len(),
    };
    let mut cmsg = PktinfoCmsg {
        hdr: Cmsghdr {
            len: std::mem::size_of::<Cmsghdr>() + std::mem::size_of::<InPktinfo>(),
            level: IPPROTO_IP,
            ty: IP_PKTINFO,
        },
        info: InPktinfo {
            ifindex: 0,
            spec_dst: from.unwrap_or(Ipv4Addr::UNSPECIFIED).octets(),
            addr: [0; 4],
        },
        pad: [0; 4],
    };
    let msg = Msghdr {
        name: (&name as *const SockaddrIn).cast_mut().cast(),
        namelen: std::mem::size_of::<SockaddrIn>() as u32,
        iov: &mut iov,
        iovlen: 1,
        control: if from.is_some() {
            (&mut cmsg as *mut PktinfoCmsg).cast()
        } else {
            std::ptr::null_mut()
        },
        controllen: if from.is_some() {
            std::mem::size_of::<PktinfoCmsg>()
        } else {
            0
        },
        flags: 0,
    };
    // SAFETY: every pointer in `msg` points to a live buffer of the length
    // given with it, for the duration of the call; sendmsg(2) only reads
    // through them.
    check_len(unsafe { sendmsg(s.as_raw_fd(), &msg, 0) })
}

/// Raises the soft limit on open descriptors to at least `n` (within the
/// hard limit).
pub fn raise_nofile(n: u64) -> io::Result<()> {
    let mut r = Rlimit { cur: 0, max: 0 };
    // SAFETY: `r` is a valid rlimit for the call to fill.
    check(unsafe { getrlimit(RLIMIT_NOFILE, &mut r) })?;
    if r.cur >= n {
        return Ok(());
    }
    if r.max < n {
        return Err(io::Error::other(format!(
            "{n} descriptors needed, the hard limit is {}",
            r.max
        )));
    }
    r.cur = n;
    // SAFETY: as above, read only.
    check(unsafe { setrlimit(RLIMIT_NOFILE, &r) }).map(drop)
}

/// The IPv4 address of `a` (every socket here is IPv4).
pub fn v4(a: SocketAddr) -> io::Result<SocketAddrV4> {
    match a {
        SocketAddr::V4(a) => Ok(a),
        SocketAddr::V6(a) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{a} is not IPv4"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn connects_from_the_port_asked() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = v4(l.local_addr().unwrap()).unwrap();
        let any = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        let mut s = connect_from(any, to, Duration::from_secs(2)).unwrap();
        let from = v4(s.local_addr().unwrap()).unwrap();
        let (mut a, peer) = l.accept().unwrap();
        assert_eq!(peer, SocketAddr::V4(from));
        s.write_all(b"x").unwrap();
        let mut b = [0u8; 1];
        a.read_exact(&mut b).unwrap();
        // Closing first leaves our end in TIME_WAIT: the same local port
        // must still be usable at once.
        drop(s);
        drop(a);
        let s = connect_from(from, to, Duration::from_secs(2)).unwrap();
        assert_eq!(s.local_addr().unwrap(), SocketAddr::V4(from));
    }

    #[test]
    fn pktinfo_gives_the_destination_and_answers_from_it() {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        want_pktinfo(&s).unwrap();
        let port = s.local_addr().unwrap().port();
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        // Sent to 127.0.0.2: the answer must come from there, not from
        // the 127.0.0.1 that routing would pick.
        c.send_to(b"ping", (Ipv4Addr::new(127, 0, 0, 2), port))
            .unwrap();
        let mut buf = [0u8; 16];
        let (n, from, to) = recv_to(&s, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(SocketAddr::V4(from), c.local_addr().unwrap());
        assert_eq!(to, Some(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(send_from(&s, b"pong", from, to).unwrap(), 4);
        let (n, peer) = c.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"pong");
        assert_eq!(peer, SocketAddr::from(([127, 0, 0, 2], port)));
        // Without an address: the route's.
        send_from(&s, b"x", from, None).unwrap();
        let (_, peer) = c.recv_from(&mut buf).unwrap();
        assert_eq!(peer, SocketAddr::from(([127, 0, 0, 1], port)));
    }

    #[test]
    fn pktinfo_parsing() {
        let mut c = Vec::new();
        // Another message first (len 20, padded to 24), then IP_PKTINFO.
        c.extend_from_slice(&20usize.to_ne_bytes());
        c.extend_from_slice(&1i32.to_ne_bytes());
        c.extend_from_slice(&2i32.to_ne_bytes());
        c.extend_from_slice(&[0; 8]);
        c.extend_from_slice(&28usize.to_ne_bytes());
        c.extend_from_slice(&IPPROTO_IP.to_ne_bytes());
        c.extend_from_slice(&IP_PKTINFO.to_ne_bytes());
        c.extend_from_slice(&[1, 0, 0, 0, 10, 0, 2, 1, 10, 0, 2, 9, 0, 0, 0, 0]);
        assert_eq!(pktinfo_addr(&c), Some(Ipv4Addr::new(10, 0, 2, 9)));
        assert_eq!(pktinfo_addr(&c[..24]), None);
        assert_eq!(pktinfo_addr(&c[..40]), None);
        assert_eq!(pktinfo_addr(&[]), None);
        // A length below the header's ends the walk.
        let mut bad = c.clone();
        bad[..8].copy_from_slice(&3usize.to_ne_bytes());
        assert_eq!(pktinfo_addr(&bad), None);
    }

    #[test]
    fn raises_nofile() {
        raise_nofile(64).unwrap();
        assert!(raise_nofile(u64::MAX).is_err());
    }

    #[test]
    fn refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = v4(l.local_addr().unwrap()).unwrap();
        drop(l);
        let any = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        let e = connect_from(any, to, Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }
}
