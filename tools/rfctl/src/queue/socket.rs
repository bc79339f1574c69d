// SPDX-License-Identifier: GPL-2.0

//! The `NETLINK_NETFILTER` socket of a queue listener, as a
//! [`Transport`] (so the tests can replay a kernel instead).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};

use crate::error::Error;
use crate::netlink::Transport;

/// `SOL_NETLINK`'s `NETLINK_EXT_ACK`: errors carry the kernel's message.
const NETLINK_EXT_ACK: libc::c_int = 11;
/// The receive buffer asked for: packets the listener holds (`--hold`,
/// `--batch`, `--delay`) stay in the socket until they are read.
const RCVBUF_BYTES: libc::c_int = 8 << 20;

/// A bound `NETLINK_NETFILTER` socket of the caller's network namespace.
pub struct NfSocket(NlSocket);

fn setsockopt_int(fd: libc::c_int, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> bool {
    // SAFETY: a valid socket descriptor and a pointer to an int of the
    // given size, as setsockopt(2) requires.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

impl NfSocket {
    /// Open and bind the socket.
    pub fn open() -> Result<Self, Error> {
        let what = "cannot open a NETLINK_NETFILTER socket";
        let sock = NlSocket::connect(NlFamily::Netfilter, None, Groups::empty())
            .map_err(|err| Error::Io { what, err })?;
        sock.block().map_err(|err| Error::Io { what, err })?;
        let fd = sock.as_raw_fd();
        // Both are best effort: without them errors have no text, and the
        // default buffer holds a few dozen packets.
        setsockopt_int(fd, libc::SOL_NETLINK, NETLINK_EXT_ACK, 1);
        if !setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF_BYTES) {
            setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF_BYTES);
        }
        Ok(NfSocket(sock))
    }
}

impl Transport for NfSocket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let sent = self.0.send(msg, Msg::empty())?;
        if sent == msg.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("sent {sent} of {} bytes", msg.len()),
            ))
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.recv(&mut *buf, Msg::TRUNC) {
                Ok((len, _groups)) => return Ok(len),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn join_group(&mut self, _group: u32) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn recv_wait(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        // As netlink::Socket waits: ppoll(2) with an empty signal mask, so
        // that SIGINT and SIGTERM, blocked otherwise, end the wait with
        // EINTR, never between the check of the stop flag and the wait.
        let ts = timeout.map(|t| libc::timespec {
            tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
            // Below 10^9: fits a c_long everywhere.
            tv_nsec: t.subsec_nanos() as libc::c_long,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        let mut fds = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: an all-zero sigset_t is a valid value, then emptied.
        let mut none: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid sigset_t to fill.
        unsafe { libc::sigemptyset(&mut none) };
        // SAFETY: one valid pollfd and its count, a valid or null timespec,
        // a valid signal mask.
        match unsafe { libc::ppoll(&mut fds, 1, ts_ptr, &none) } {
            0 => Ok(None),
            n if n < 0 => Err(io::Error::last_os_error()),
            _ => match self.0.recv(&mut *buf, Msg::TRUNC) {
                Ok((len, _groups)) => Ok(Some(len)),
                Err(e) => Err(e),
            },
        }
    }
}
