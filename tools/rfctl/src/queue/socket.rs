// SPDX-License-Identifier: GPL-2.0

//! The `NETLINK_NETFILTER` socket of a queue listener, as a
//! [`Transport`] (so the tests can replay a kernel instead).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use neli::{consts::socket::NlFamily, socket::NlSocket, utils::Groups};

use crate::error::Error;
use crate::netlink::{recv_datagram, recv_datagram_wait, send_all, Transport};

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
        send_all(&self.0, msg)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        recv_datagram(&self.0, buf)
    }

    fn join_group(&mut self, _group: u32) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn recv_wait(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        recv_datagram_wait(&self.0, buf, timeout)
    }
}
