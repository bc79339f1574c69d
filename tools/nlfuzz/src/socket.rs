// SPDX-License-Identifier: GPL-2.0

//! A raw netlink socket (`NETLINK_GENERIC`, or any protocol) and a client that sends requests to the
//! rustfilter family and collects what comes back.
//!
//! The kernel handles a request sent to it inside `sendmsg` (netlink
//! delivers to kernel sockets synchronously), so every answer is queued on
//! the socket by the time `send` returns. Two ways of collecting them
//! build on that, neither waiting for a time-out:
//!
//! - [`Client::exchange`] sends the request and then a harmless probe
//!   (`GET_STATS` asking for an ack) and reads until the probe's ack:
//!   whatever came before is the request's answer, and no answer at all is
//!   as definite as an error;
//! - [`Client::send_and_drain`] sends and then reads without blocking
//!   until the queue is empty (the random mode, where speed matters).
//!
//! A receive time-out (`SO_RCVTIMEO`) still bounds every blocking read.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use rfcore::proto;

use crate::wire::{self, Reply};

/// How long a blocking read waits before giving up.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);
/// Receive buffer asked for (the kernel doubles it): room for many
/// answers even if a reader falls behind.
const RCVBUF_BYTES: libc::c_int = 8 << 20;
/// Largest datagram read at once; the kernel's answers are far smaller.
const RECV_BUF_LEN: usize = 1 << 20;

fn setsockopt_int(
    fd: &OwnedFd,
    level: libc::c_int,
    opt: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a valid descriptor and a pointer to an int of the given size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&v as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A generic netlink socket bound to a kernel-chosen port id, with
/// extended acks on and capped error messages (an error does not echo
/// the request's payload: a 1 MiB request must not come back whole).
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// Open and bind a `NETLINK_GENERIC` socket.
    pub fn open() -> io::Result<Socket> {
        Socket::open_proto(libc::NETLINK_GENERIC)
    }

    /// Open and bind a netlink socket of protocol `proto`
    /// (`NETLINK_NETFILTER` for the queue subsystem).
    pub fn open_proto(proto: libc::c_int) -> io::Result<Socket> {
        // SAFETY: plain system call.
        let raw =
            unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: all-zero is a valid sockaddr_nl.
        let mut addr: libc::sockaddr_nl = unsafe { zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `addr` is a sockaddr_nl of `len` bytes.
        if unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                len,
            )
        } < 0
        {
            return Err(io::Error::last_os_error());
        }
        setsockopt_int(&fd, libc::SOL_NETLINK, libc::NETLINK_EXT_ACK, 1)?;
        setsockopt_int(&fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1)?;
        let tv = libc::timeval {
            tv_sec: RECV_TIMEOUT.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: a valid descriptor and a timeval of the given size.
        if unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        } < 0
        {
            return Err(io::Error::last_os_error());
        }
        // SO_RCVBUFFORCE needs CAP_NET_ADMIN; the plain one is capped by
        // net.core.rmem_max but is better than nothing.
        if setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF_BYTES).is_err() {
            let _ = setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF_BYTES);
        }
        Ok(Socket { fd })
    }

    /// Raise the send buffer beyond `net.core.wmem_max` (needs
    /// CAP_NET_ADMIN), so that `bytes`-sized requests can be sent.
    pub fn force_sndbuf(&self, bytes: usize) -> io::Result<()> {
        let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        setsockopt_int(&self.fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, v)
    }

    /// Send one datagram to the kernel.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: all-zero is a valid sockaddr_nl; pid 0 is the kernel.
        let mut to: libc::sockaddr_nl = unsafe { zeroed() };
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: `msg` is readable for its length; `to` is a sockaddr_nl.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    (&to as *const libc::sockaddr_nl).cast(),
                    size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Receive one datagram into `buf`; `Ok(None)` when there is nothing
    /// (immediately if `!wait`, else after the receive time-out). The
    /// length returned is the datagram's, which may exceed `buf` (the
    /// rest is lost: `MSG_TRUNC`).
    pub fn recv(&self, buf: &mut [u8], wait: bool) -> io::Result<Option<usize>> {
        let flags = libc::MSG_TRUNC | if wait { 0 } else { libc::MSG_DONTWAIT };
        loop {
            // SAFETY: `buf` is writable for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags,
                )
            };
            if n >= 0 {
                return Ok(Some(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(None),
                _ => return Err(e),
            }
        }
    }
}

/// What one request got back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `sendmsg` itself refused the datagram with this errno.
    SendError(i32),
    /// Nothing at all came back (the kernel dropped it without a word).
    Silent,
    /// An acknowledgement (`errno` 0) or an error, after `data` replies.
    Ack {
        /// Positive errno or 0.
        errno: i32,
        /// The extended ack's message.
        msg: Option<String>,
        /// Replies before the ack.
        data: usize,
    },
    /// Replies but no ack.
    NoAck {
        /// Replies.
        data: usize,
    },
    /// The exchange itself failed (no answer to the probe, socket error).
    Broken(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::SendError(e) => write!(f, "sendmsg {}", wire::errno_name(*e)),
            Outcome::Silent => f.write_str("no reply"),
            Outcome::Ack { errno, msg, .. } => {
                if *errno == 0 {
                    f.write_str("ack 0")?;
                } else {
                    f.write_str(&wire::errno_name(*errno))?;
                }
                match msg {
                    Some(m) => write!(f, " \"{m}\""),
                    None => Ok(()),
                }
            }
            Outcome::NoAck { data } => write!(f, "{data} replies without an ack"),
            Outcome::Broken(why) => write!(f, "broken exchange: {why}"),
        }
    }
}

/// The outcome of one request from the replies to it.
pub fn outcome_of(replies: &[Reply]) -> Outcome {
    let data = replies
        .iter()
        .filter(|r| matches!(r, Reply::Data { .. }))
        .count();
    match replies.iter().find_map(|r| match r {
        Reply::Ack { errno, msg, .. } => Some((*errno, msg.clone())),
        _ => None,
    }) {
        Some((errno, msg)) => Outcome::Ack { errno, msg, data },
        None if replies.is_empty() => Outcome::Silent,
        None => Outcome::NoAck { data },
    }
}

/// A socket talking to the rustfilter family.
pub struct Client {
    sock: Socket,
    /// The family's id.
    pub family: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl Client {
    /// A new socket, with the family resolved through nlctrl.
    pub fn open() -> Result<Client, String> {
        let sock =
            Socket::open().map_err(|e| format!("cannot open a generic netlink socket: {e}"))?;
        let mut c = Client {
            sock,
            family: 0,
            seq: 1,
            buf: vec![0; RECV_BUF_LEN],
        };
        c.family = c.resolve(proto::GENL_NAME)?;
        Ok(c)
    }

    /// The socket.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// A fresh sequence number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// The id of generic netlink family `name` (`CTRL_CMD_GETFAMILY`).
    pub fn resolve(&mut self, name: &str) -> Result<u16, String> {
        let attrs = wire::str_attr(wire::CTRL_ATTR_FAMILY_NAME, name);
        let mut msg = wire::genl_msg(
            wire::GENL_ID_CTRL,
            wire::NLM_F_REQUEST | wire::NLM_F_ACK,
            wire::CTRL_CMD_GETFAMILY,
            wire::CTRL_VERSION,
            &attrs,
        );
        let seq = self.next_seq();
        wire::set_nlmsg_seq(&mut msg, seq);
        self.sock
            .send(&msg)
            .map_err(|e| format!("nlctrl request: {e}"))?;
        let replies = self.read_until_ack(seq)?;
        if let Outcome::Ack { errno, msg, .. } = outcome_of(&replies) {
            if errno != 0 {
                return Err(format!(
                    "family \"{name}\" not found ({}{}); is the module loaded?",
                    wire::errno_name(errno),
                    msg.map(|m| format!(": {m}")).unwrap_or_default()
                ));
            }
        }
        replies
            .iter()
            .filter_map(|r| match r {
                Reply::Data { payload, .. } => Some(wire::genl_attrs(payload)),
                _ => None,
            })
            .flatten()
            .find(|(ty, _)| *ty == wire::CTRL_ATTR_FAMILY_ID)
            .and_then(|(_, p)| p.try_into().ok().map(u16::from_ne_bytes))
            .ok_or_else(|| format!("nlctrl gave no id for family \"{name}\""))
    }

    /// Read (blocking, with the time-out) until the ack of `seq`; return
    /// every message with that sequence number.
    fn read_until_ack(&mut self, seq: u32) -> Result<Vec<Reply>, String> {
        let mut out = Vec::new();
        loop {
            let n = match self.sock.recv(&mut self.buf, true) {
                Ok(Some(n)) => n,
                Ok(None) => {
                    return Err(format!("no ack for request {seq} within {RECV_TIMEOUT:?}"))
                }
                Err(e) => return Err(format!("recv: {e}")),
            };
            let got = wire::parse_datagram(&self.buf[..n.min(self.buf.len())])?;
            let mut done = false;
            for r in got {
                if r.seq() == seq {
                    done |= matches!(r, Reply::Ack { .. });
                    out.push(r);
                }
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Send `msg` (its sequence number replaced by a fresh one when it has
    /// a header), then a probe; return the request's replies: everything
    /// before the probe's ack that is not the probe's.
    pub fn exchange(&mut self, msg: &[u8]) -> Result<Vec<Reply>, Outcome> {
        let mut msg = msg.to_vec();
        let seq = self.next_seq();
        wire::set_nlmsg_seq(&mut msg, seq);
        if let Err(e) = self.sock.send(&msg) {
            return Err(Outcome::SendError(e.raw_os_error().unwrap_or(0)));
        }
        let probe_seq = self.next_seq();
        let mut probe = wire::genl_request(self.family, proto::CMD_GET_STATS, &[]);
        wire::set_nlmsg_seq(&mut probe, probe_seq);
        if let Err(e) = self.sock.send(&probe) {
            return Err(Outcome::Broken(format!("probe: sendmsg: {e}")));
        }
        let mut replies = Vec::new();
        loop {
            let n = match self.sock.recv(&mut self.buf, true) {
                Ok(Some(n)) => n,
                Ok(None) => return Err(Outcome::Broken("no answer to the probe".into())),
                Err(e) => return Err(Outcome::Broken(format!("recv: {e}"))),
            };
            let got = wire::parse_datagram(&self.buf[..n.min(self.buf.len())])
                .map_err(Outcome::Broken)?;
            for r in got {
                if r.seq() != probe_seq {
                    replies.push(r);
                } else if let Reply::Ack { errno, msg, .. } = r {
                    if errno != 0 {
                        return Err(Outcome::Broken(format!(
                            "the probe failed: {}{}",
                            wire::errno_name(errno),
                            msg.map(|m| format!(" \"{m}\"")).unwrap_or_default()
                        )));
                    }
                    return Ok(replies);
                }
            }
        }
    }

    /// [`Client::exchange`] summed up as one [`Outcome`].
    pub fn outcome(&mut self, msg: &[u8]) -> Outcome {
        match self.exchange(msg) {
            Ok(replies) => outcome_of(&replies),
            Err(o) => o,
        }
    }

    /// Send `msg` as it is (sequence number included) and hand every
    /// message then waiting on the socket to `seen`, without blocking.
    /// Returns the errno of a refused `sendmsg`.
    pub fn send_and_drain(&mut self, msg: &[u8], seen: &mut impl FnMut(&Reply)) -> Result<(), i32> {
        let sent = self.sock.send(msg);
        self.drain(seen);
        sent.map_err(|e| e.raw_os_error().unwrap_or(0))
    }

    /// Hand every message waiting on the socket to `seen`. A receive
    /// error (`ENOBUFS` when answers were lost) is reported as an ack
    /// with that errno and sequence number 0.
    pub fn drain(&mut self, seen: &mut impl FnMut(&Reply)) {
        loop {
            match self.sock.recv(&mut self.buf, false) {
                Ok(Some(n)) => match wire::parse_datagram(&self.buf[..n.min(self.buf.len())]) {
                    Ok(rs) => rs.iter().for_each(&mut *seen),
                    Err(_) => seen(&Reply::Ack {
                        seq: 0,
                        errno: libc::EBADMSG,
                        msg: Some("unparsable datagram from the kernel".into()),
                        offset: None,
                    }),
                },
                Ok(None) => return,
                Err(e) => seen(&Reply::Ack {
                    seq: 0,
                    errno: e.raw_os_error().unwrap_or(0),
                    msg: Some(format!("recv: {e}")),
                    offset: None,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_from_replies() {
        assert_eq!(outcome_of(&[]), Outcome::Silent);
        let data = Reply::Data {
            seq: 1,
            ty: 30,
            payload: vec![],
        };
        let ack = |errno: i32| Reply::Ack {
            seq: 1,
            errno,
            msg: Some("m".into()),
            offset: None,
        };
        assert_eq!(
            outcome_of(std::slice::from_ref(&data)),
            Outcome::NoAck { data: 1 }
        );
        assert_eq!(
            outcome_of(&[data, ack(0)]),
            Outcome::Ack {
                errno: 0,
                msg: Some("m".into()),
                data: 1
            }
        );
        assert_eq!(outcome_of(&[ack(libc::EINVAL)]).to_string(), "EINVAL \"m\"");
        assert_eq!(Outcome::Silent.to_string(), "no reply");
        assert_eq!(
            Outcome::SendError(libc::EMSGSIZE).to_string(),
            "sendmsg EMSGSIZE"
        );
    }
}
