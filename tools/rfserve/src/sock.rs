// SPDX-License-Identifier: GPL-2.0

//! What std cannot do: connect a TCP socket from a chosen local port (an
//! FTP server's active data connection comes from port 20). A few libc
//! calls, declared here since the crate has no dependencies; std links
//! libc anyway. Linux only.

use std::io;
use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_long, c_void};
use std::time::Duration;

const AF_INET: c_int = 2;
const SOCK_STREAM: c_int = 1;
const SOCK_CLOEXEC: c_int = 0o2_000_000;
const SOL_SOCKET: c_int = 1;
const SO_REUSEADDR: c_int = 2;
const SO_SNDTIMEO: c_int = 21;

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
}

/// A libc return value: -1 is `errno`.
fn check(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// `setsockopt` with a value of type `T`.
fn set<T>(fd: &OwnedFd, level: c_int, name: c_int, val: &T) -> io::Result<()> {
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
    use std::net::{Ipv4Addr, TcpListener};

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
    fn refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = v4(l.local_addr().unwrap()).unwrap();
        drop(l);
        let any = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        let e = connect_from(any, to, Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }
}
