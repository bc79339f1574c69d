// SPDX-License-Identifier: GPL-2.0

//! Generic netlink client: send one request, collect its replies up to the
//! kernel's acknowledgement, turn a netlink error into an [`Error`].
//!
//! The socket and the message (de)serialisation are neli's. This module
//! adds the request/acknowledgement loop and bounds checks on what the
//! kernel sent before neli parses it, so that a short or inconsistent
//! datagram is reported as an error instead of being trusted.
//!
//! The socket is reached through [`Transport`] so that tests can replay
//! hand-built kernel answers.

use std::io::{self, Cursor};
use std::time::Duration;

use neli::{
    consts::{
        genl::{CtrlAttr, CtrlCmd},
        nl::{GenlId, NlmF, Nlmsg, NlmsgerrAttr},
        socket::{Msg, NlFamily},
    },
    err::{Nlmsgerr, NlmsghdrErr},
    genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder, NoUserHeader},
    nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder},
    socket::NlSocket,
    types::{Buffer, GenlBuffer},
    utils::Groups,
    FromBytes, FromBytesWithInput, Size, ToBytes,
};

use crate::error::{Error, ENOENT};
use crate::failnth::Injector;

/// A generic netlink message: command `u8`, attribute types `u16`.
pub type GenlMsg = Genlmsghdr<u8, u16>;
/// A generic netlink attribute with its raw payload.
pub type Attr = Nlattr<u16, Buffer>;
/// A netlink message whose payload has not been interpreted yet.
type RawMsg = Nlmsghdr<u16, Buffer>;

/// `NLMSG_HDRLEN`.
const NLMSG_HDRLEN: usize = 16;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_CAPPED`: an error message without the request echoed.
const NLM_F_CAPPED: u16 = 0x100;
/// Receive buffer: larger than any generic netlink message the kernel
/// builds (table dumps come in messages of at most a few pages).
const RECV_BUF_LEN: usize = 1024 * 1024;

/// The socket receive buffer asked for: room for the replies of a table of
/// several hundred thousand rules (the kernel doubles it for overhead).
const RCVBUF_BYTES: libc::c_int = 512 << 20;
/// Version of the nlctrl family's protocol.
const CTRL_VERSION: u8 = 2;

/// Where requests go and answers come from: a netlink socket, or a test's script.
pub trait Transport {
    /// Send one whole netlink message.
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;
    /// Receive one datagram into `buf` and return its full length, which
    /// is more than `buf.len()` when the datagram did not fit.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Join the netlink multicast group `group` (its number, from nlctrl).
    fn join_group(&mut self, group: u32) -> io::Result<()>;
    /// Wait up to `timeout` (`None`: without end) for a datagram and
    /// receive it as [`Transport::recv`] does; `Ok(None)` when the time ran
    /// out first. A signal ends the wait with [`io::ErrorKind::Interrupted`].
    fn recv_wait(&mut self, buf: &mut [u8], timeout: Option<Duration>)
        -> io::Result<Option<usize>>;
}

/// A `NETLINK_GENERIC` socket of the caller's network namespace.
pub struct Socket(NlSocket);

impl Socket {
    /// Open and bind the socket, asking for extended acks when the kernel has them.
    pub fn open() -> Result<Self, Error> {
        let what = "cannot open generic netlink socket";
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|err| Error::Io { what, err })?;
        sock.block().map_err(|err| Error::Io { what, err })?;
        // Extended acks only add the kernel's explanation to an error;
        // without them (kernels before 4.12) the errno alone is reported.
        let _ = sock.enable_ext_ack(true);
        // A table is read as a burst of replies the kernel queues without
        // waiting for us (about 110 bytes a rule): make room for the
        // largest tables. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which reading
        // tables needs anyway; without it the default buffer stays.
        let size: libc::c_int = RCVBUF_BYTES;
        // SAFETY: a valid socket descriptor and a pointer to an int of the
        // given size, as setsockopt(2) requires.
        let _ = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&sock),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(Socket(sock))
    }
}

impl Transport for Socket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        send_all(&self.0, msg)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        recv_datagram(&self.0, buf)
    }

    fn join_group(&mut self, group: u32) -> io::Result<()> {
        self.0.add_mcast_membership(Groups::new_groups(&[group]))
    }

    fn recv_wait(
        &mut self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        recv_datagram_wait(&self.0, buf, timeout)
    }
}

/// Sends `msg` as one datagram on `sock`; a short send is an error.
pub fn send_all(sock: &NlSocket, msg: &[u8]) -> io::Result<()> {
    let sent = sock.send(msg, Msg::empty())?;
    if sent == msg.len() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("sent {sent} of {} bytes", msg.len()),
        ))
    }
}

/// Receives one datagram from `sock` into `buf`, waiting for it; returns
/// its real length (MSG_TRUNC), which exceeds `buf` if it did not fit.
pub fn recv_datagram(sock: &NlSocket, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match sock.recv(&mut *buf, Msg::TRUNC) {
            Ok((len, _groups)) => return Ok(len),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// As [`recv_datagram`], waiting at most `timeout` (`None`: no datagram
/// came). A signal ends the wait with `EINTR`.
pub fn recv_datagram_wait(
    sock: &NlSocket,
    buf: &mut [u8],
    timeout: Option<Duration>,
) -> io::Result<Option<usize>> {
    // ppoll(2) is never restarted after a signal handler: a signal reaches
    // the caller as EINTR whatever SA_RESTART says. Signals the caller
    // blocked are let in during the wait only (empty mask), so one that
    // came before the wait interrupts it at once, never between the
    // caller's check of its stop flag and the wait.
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 10^9: fits a c_long everywhere.
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    let mut fds = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(sock),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: an all-zero sigset_t is a valid value, then emptied.
    let mut none: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid sigset_t to fill.
    unsafe { libc::sigemptyset(&mut none) };
    // SAFETY: one valid pollfd and its count, a valid or null timespec, a
    // valid signal mask.
    match unsafe { libc::ppoll(&mut fds, 1, ts_ptr, &none) } {
        0 => Ok(None),
        n if n < 0 => Err(io::Error::last_os_error()),
        _ => sock.recv(&mut *buf, Msg::TRUNC).map(|(len, _)| Some(len)),
    }
}

/// A generic netlink family as nlctrl describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyInfo {
    /// The family id: the `nlmsg_type` of its messages.
    pub id: u16,
    /// Its multicast groups: name and group number.
    pub groups: Vec<(String, u32)>,
}

impl FamilyInfo {
    /// The number of the multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|g| g.0 == name).map(|g| g.1)
    }
}

/// One generic netlink conversation partner of the kernel.
pub struct Client<T> {
    transport: T,
    seq: u32,
    buf: Vec<u8>,
    /// `RFCTL_FAIL_NTH` (a testing aid): arms the kernel's fault
    /// injection around some requests.
    fail_nth: Option<Injector>,
    /// The request in flight is answered by one reply and no
    /// acknowledgement ([`Client::request_one`]).
    single: bool,
}

impl Client<Socket> {
    /// A client on a new socket, with the fault injection
    /// `RFCTL_FAIL_NTH` asks for.
    pub fn open() -> Result<Self, Error> {
        let fail_nth = Injector::from_env()?;
        let mut client = Client::new(Socket::open()?);
        client.fail_nth = fail_nth;
        Ok(client)
    }
}

impl<T: Transport> Client<T> {
    /// A client talking through `transport`.
    pub fn new(transport: T) -> Self {
        Client {
            transport,
            seq: 0,
            buf: vec![0; RECV_BUF_LEN],
            fail_nth: None,
            single: false,
        }
    }

    /// The client with `injector` arming fault injection around its
    /// requests, for tests.
    #[cfg(test)]
    pub fn with_fail_nth(mut self, injector: Injector) -> Self {
        self.fail_nth = Some(injector);
        self
    }

    /// The fault injector, for tests.
    #[cfg(test)]
    pub fn fail_nth(&self) -> Option<&Injector> {
        self.fail_nth.as_ref()
    }

    /// The transport, for tests to inspect what was sent.
    #[cfg(test)]
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The id of the generic netlink family `name`, from the nlctrl family.
    ///
    /// A family the kernel does not know is [`Error::FamilyNotFound`].
    pub fn resolve_family(&mut self, name: &str) -> Result<u16, Error> {
        self.family_info(name).map(|f| f.id)
    }

    /// The id and multicast groups of the generic netlink family `name`,
    /// from the nlctrl family.
    ///
    /// A family the kernel does not know is [`Error::FamilyNotFound`].
    pub fn family_info(&mut self, name: &str) -> Result<FamilyInfo, Error> {
        let attr = NlattrBuilder::default()
            .nla_type(
                AttrTypeBuilder::default()
                    .nla_type(u16::from(CtrlAttr::FamilyName))
                    .build()
                    .map_err(internal)?,
            )
            .nla_payload(name)
            .build()
            .map_err(internal)?;
        let replies = match self.request(
            GenlId::Ctrl.into(),
            CtrlCmd::Getfamily.into(),
            CTRL_VERSION,
            vec![attr],
        ) {
            Err(Error::Kernel { errno: ENOENT, .. }) => {
                return Err(Error::FamilyNotFound(name.to_string()))
            }
            other => other?,
        };
        let id_type = u16::from(CtrlAttr::FamilyId);
        let groups_type = u16::from(CtrlAttr::McastGroups);
        let attrs = || replies.iter().flat_map(|msg| msg.attrs().iter());
        let id = attrs()
            .find(|attr| *attr.nla_type().nla_type() == id_type)
            .map(|attr| {
                attr_u16(attr).map_err(|e| Error::protocol(format!("family id of \"{name}\": {e}")))
            })
            .unwrap_or_else(|| {
                Err(Error::protocol(format!(
                    "nlctrl did not give the id of family \"{name}\""
                )))
            })?;
        let mut groups = Vec::new();
        for attr in attrs().filter(|a| *a.nla_type().nla_type() == groups_type) {
            groups
                .extend(mcast_groups(attr.nla_payload().as_ref()).map_err(|e| {
                    Error::protocol(format!("multicast groups of \"{name}\": {e}"))
                })?);
        }
        Ok(FamilyInfo { id, groups })
    }

    /// Join the multicast group `group` (a number from [`FamilyInfo`]).
    pub fn join_group(&mut self, group: u32) -> Result<(), Error> {
        self.transport.join_group(group).map_err(|err| Error::Io {
            what: "cannot join the netlink multicast group",
            err,
        })
    }

    /// Wait up to `timeout` (`None`: without end) for one datagram of
    /// multicast messages and return the payloads, each from its generic
    /// netlink header on, of the messages of family `family` in it;
    /// `Ok(None)` when the time ran out. A signal during the wait is
    /// [`Error::Io`] of kind [`io::ErrorKind::Interrupted`]; lost messages
    /// (the receive buffer overflowed) are `Error::Io` with `ENOBUFS`.
    pub fn recv_multicast(
        &mut self,
        family: u16,
        timeout: Option<Duration>,
    ) -> Result<Option<Vec<Vec<u8>>>, Error> {
        let what = "cannot receive netlink events";
        let Some(len) = self
            .transport
            .recv_wait(&mut self.buf, timeout)
            .map_err(|err| Error::Io { what, err })?
        else {
            return Ok(None);
        };
        let datagram = match self.buf.get(..len) {
            Some(d) => d,
            None => {
                return Err(Error::protocol(format!(
                    "datagram of {len} bytes exceeds the {}-byte receive buffer",
                    self.buf.len()
                )))
            }
        };
        let mut out = Vec::new();
        for msg in parse_datagram(datagram)? {
            if *msg.nl_type() != family {
                continue; // NLMSG_NOOP, a late ack: not an event
            }
            if let NlPayload::Payload(p) = msg.nl_payload() {
                out.push(p.as_ref().to_vec());
            }
        }
        Ok(Some(out))
    }

    /// Send command `cmd` of `version` with `attrs` to family `family`,
    /// asking for an acknowledgement, and return the replies that came
    /// before it. A netlink error becomes [`Error::Kernel`].
    pub fn request(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: Vec<Attr>,
    ) -> Result<Vec<GenlMsg>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = encode_request(family, cmd, version, attrs, seq)?;
        self.exchange(&msg, seq)?
            .iter()
            .map(|p| decode_genl(p))
            .collect()
    }

    /// Send command `cmd` whose attributes are the bytes `payload`
    /// (already encoded) and return the payloads of the replies, each
    /// from its generic netlink header on. With `dump`, the request is a
    /// dump (`NLM_F_DUMP`), ended by `NLMSG_DONE`.
    pub fn request_raw(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        payload: &[u8],
        dump: bool,
    ) -> Result<Vec<Vec<u8>>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = encode_raw_request(family, cmd, version, payload, seq, dump)?;
        self.exchange(&msg, seq)
    }

    /// Send command `cmd` whose attributes are the bytes `payload` without
    /// asking for an acknowledgement, and return the one reply the command
    /// sends on success (its payload, from the generic netlink header on);
    /// an error still comes as a netlink error.
    ///
    /// For commands that change state: their reply is allocated before the
    /// change, whereas an acknowledgement is allocated after it, so running
    /// out of memory for an acknowledgement would report a change that was
    /// made as failed.
    pub fn request_one(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        payload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = encode_raw(family, cmd, version, payload, seq, NLM_F_REQUEST)?;
        self.single = true;
        let replies = self.exchange(&msg, seq);
        self.single = false;
        replies?
            .into_iter()
            .next()
            .ok_or_else(|| Error::protocol("no reply"))
    }

    /// Send `msg` (sequence number `seq`) and collect the replies up to the
    /// acknowledgement or the end of the dump (or the first reply, for
    /// [`Client::request_one`]).
    ///
    /// With `RFCTL_FAIL_NTH`, fault injection is armed right before a
    /// planned request of the rustfilter family is sent (never nlctrl's,
    /// whose command numbers overlap) and read back as soon as the kernel
    /// is done with it: when the send returns (the kernel handles a
    /// request, acknowledgement included, inside sendmsg), or for a dump,
    /// which goes on in recvmsg, after its end. Nothing rfctl does on its
    /// own (page faults on the receive buffer, say) is counted.
    fn exchange(&mut self, msg: &[u8], seq: u32) -> Result<Vec<Vec<u8>>, Error> {
        let Some(f) = self.fail_nth.as_mut() else {
            self.send(msg)?;
            return self.collect(seq);
        };
        let ctrl = u16::from(GenlId::Ctrl);
        match (ne_u16(msg, 4), msg.get(NLMSG_HDRLEN)) {
            (Some(family), Some(&cmd)) if family != ctrl => f.before(cmd)?,
            _ => {}
        }
        let dump = ne_u16(msg, 6).is_some_and(|flags| flags & NLM_F_DUMP == NLM_F_DUMP);
        let sent = self.send(msg);
        if !dump || sent.is_err() {
            let done = self.disarm();
            sent?;
            done?;
            return self.collect(seq);
        }
        let result = self.collect(seq);
        let done = self.disarm();
        let replies = result?;
        done?;
        Ok(replies)
    }

    /// Read back and disarm fault injection (`RFCTL_FAIL_NTH`), if armed.
    fn disarm(&mut self) -> Result<(), Error> {
        self.fail_nth.as_mut().map_or(Ok(()), Injector::after)
    }

    fn send(&mut self, msg: &[u8]) -> Result<(), Error> {
        self.transport.send(msg).map_err(|err| Error::Io {
            what: "cannot send netlink request",
            err,
        })
    }

    /// The replies to request `seq`, up to its acknowledgement or the end
    /// of the dump.
    fn collect(&mut self, seq: u32) -> Result<Vec<Vec<u8>>, Error> {
        let mut replies = Vec::new();
        loop {
            let len = self
                .transport
                .recv(&mut self.buf)
                .map_err(|err| Error::Io {
                    what: "cannot receive netlink reply",
                    err,
                })?;
            let datagram = match self.buf.get(..len) {
                Some([]) => return Err(Error::protocol("empty datagram")),
                Some(d) => d,
                None => {
                    return Err(Error::protocol(format!(
                        "datagram of {len} bytes exceeds the {}-byte receive buffer",
                        self.buf.len()
                    )))
                }
            };
            for msg in parse_datagram(datagram)? {
                match classify(msg, seq)? {
                    Step::Reply(reply) if self.single => return Ok(vec![reply]),
                    Step::Reply(reply) => replies.push(reply),
                    Step::Skip => {}
                    Step::Done => return Ok(replies),
                }
            }
        }
    }
}

/// The bytes of a generic netlink request whose attributes are
/// `payload`, with `NLM_F_REQUEST | NLM_F_ACK` (and `NLM_F_DUMP`).
pub fn encode_raw_request(
    family: u16,
    cmd: u8,
    version: u8,
    payload: &[u8],
    seq: u32,
    dump: bool,
) -> Result<Vec<u8>, Error> {
    let mut flags = NLM_F_REQUEST | NLM_F_ACK;
    if dump {
        flags |= NLM_F_DUMP;
    }
    encode_raw(family, cmd, version, payload, seq, flags)
}

/// `NLM_F_REQUEST`.
const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`.
const NLM_F_ACK: u16 = 0x4;

/// The bytes of a generic netlink message with `flags` whose attributes
/// are `payload`.
fn encode_raw(
    family: u16,
    cmd: u8,
    version: u8,
    payload: &[u8],
    seq: u32,
    flags: u16,
) -> Result<Vec<u8>, Error> {
    let len = NLMSG_HDRLEN + 4 + payload.len();
    let len32 = u32::try_from(len).map_err(|_| Error::Internal("request too large".into()))?;
    let mut v = Vec::with_capacity(align4(len));
    v.extend_from_slice(&len32.to_ne_bytes());
    v.extend_from_slice(&family.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&[cmd, version, 0, 0]);
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    Ok(v)
}

/// A builder failure: the request we compose ourselves could not be built.
fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("cannot build request: {e}"))
}

/// The bytes of a generic netlink request with `NLM_F_REQUEST | NLM_F_ACK`.
pub fn encode_request(
    family: u16,
    cmd: u8,
    version: u8,
    attrs: Vec<Attr>,
    seq: u32,
) -> Result<Vec<u8>, Error> {
    let genl = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
        .cmd(cmd)
        .version(version)
        .attrs(attrs.into_iter().collect::<GenlBuffer<u16, Buffer>>())
        .build()
        .map_err(internal)?;
    let msg = NlmsghdrBuilder::default()
        .nl_type(family)
        .nl_flags(NlmF::REQUEST | NlmF::ACK)
        .nl_seq(seq)
        .nl_pid(0)
        .nl_payload(NlPayload::Payload(genl))
        .build()
        .map_err(internal)?;
    let mut out = Cursor::new(vec![0; msg.padded_size()]);
    msg.to_bytes(&mut out).map_err(internal)?;
    Ok(out.into_inner())
}

fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

fn ne_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(b))
}

fn ne_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_ne_bytes(b))
}

/// Split a received datagram into its netlink messages.
///
/// Lengths are checked here first: neli trusts the length fields of
/// `nlmsghdr` and of the request echoed in an error message.
pub fn parse_datagram(data: &[u8]) -> Result<Vec<RawMsg>, Error> {
    let mut msgs = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let len = ne_u32(rest, 0)
            .and_then(|l| usize::try_from(l).ok())
            .filter(|&l| l >= NLMSG_HDRLEN && l <= rest.len())
            .ok_or_else(|| {
                Error::protocol(format!(
                    "truncated netlink message ({} bytes left in the datagram)",
                    rest.len()
                ))
            })?;
        let with_pad = align4(len).min(rest.len());
        let (this, next) = rest.split_at(with_pad);
        check_error_message(this, len)?;
        let msg = RawMsg::from_bytes(&mut Cursor::new(this))
            .map_err(|e| Error::protocol(format!("netlink message: {e}")))?;
        msgs.push(msg);
        rest = next;
    }
    Ok(msgs)
}

/// Bounds of an `NLMSG_ERROR` message of `len` bytes at the start of `msg`.
fn check_error_message(msg: &[u8], len: usize) -> Result<(), Error> {
    if ne_u16(msg, 4) != Some(u16::from(Nlmsg::Error)) {
        return Ok(());
    }
    let bad = |what: &str| Err(Error::protocol(format!("netlink error message: {what}")));
    // struct nlmsgerr: int error; struct nlmsghdr msg; then maybe the request's payload.
    let body = len - NLMSG_HDRLEN;
    if body < 4 + NLMSG_HDRLEN {
        return bad("too short");
    }
    let errno = ne_u32(msg, NLMSG_HDRLEN);
    let flags = ne_u16(msg, 6).unwrap_or(0);
    if errno == Some(0) {
        return Ok(());
    }
    if flags & NLM_F_CAPPED != 0 {
        // Only sockets with NETLINK_CAP_ACK get these, and we never set it.
        return bad("request not echoed");
    }
    let echoed = ne_u32(msg, NLMSG_HDRLEN + 4)
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    if echoed < NLMSG_HDRLEN || align4(echoed).saturating_add(4) > body {
        return bad("echoed request does not fit");
    }
    Ok(())
}

/// What one message means for the request in flight.
enum Step {
    /// A reply to keep: its payload from the generic netlink header on.
    Reply(Vec<u8>),
    /// Not ours, or nothing in it.
    Skip,
    /// The acknowledgement (or end of dump): the request is over.
    Done,
}

fn classify(msg: RawMsg, seq: u32) -> Result<Step, Error> {
    if *msg.nl_seq() != seq {
        return Ok(Step::Skip);
    }
    let ty = *msg.nl_type();
    if ty == u16::from(Nlmsg::Noop) {
        return Ok(Step::Skip);
    }
    if ty == u16::from(Nlmsg::Overrun) {
        return Err(Error::protocol("the kernel reported an overrun"));
    }
    match msg.nl_payload() {
        NlPayload::Ack(_) | NlPayload::DumpExtAck(_) | NlPayload::Empty => Ok(Step::Done),
        NlPayload::Err(e) => Err(kernel_error(e)),
        NlPayload::Payload(_) if ty == u16::from(Nlmsg::Done) => Ok(Step::Done),
        NlPayload::Payload(p) => Ok(Step::Reply(p.as_ref().to_vec())),
    }
}

/// Parse the payload of a generic netlink message: header and attributes.
pub fn decode_genl(payload: &[u8]) -> Result<GenlMsg, Error> {
    GenlMsg::from_bytes_with_input(&mut Cursor::new(payload), payload.len())
        .map_err(|e| Error::protocol(format!("generic netlink message: {e}")))
}

/// The error carried by an `NLMSG_ERROR` message, with its extended-ack text.
fn kernel_error(e: &Nlmsgerr<NlmsghdrErr<u16, Buffer>>) -> Error {
    let extack = e
        .ext_ack()
        .iter()
        .find(|a| *a.nla_type().nla_type() == NlmsgerrAttr::Msg)
        .and_then(|a| {
            let bytes = a.nla_payload().as_ref();
            let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
            let text = String::from_utf8_lossy(text).trim().to_string();
            (!text.is_empty()).then_some(text)
        });
    Error::Kernel {
        errno: e.error().saturating_neg(),
        extack,
    }
}

/// `CTRL_ATTR_MCAST_GRP_NAME`.
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
/// `CTRL_ATTR_MCAST_GRP_ID`.
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;

/// The groups in the payload of `CTRL_ATTR_MCAST_GROUPS`: an array of
/// nests (numbered from 1), each with the group's name and number.
fn mcast_groups(payload: &[u8]) -> Result<Vec<(String, u32)>, String> {
    let mut groups = Vec::new();
    for entry in rfcore::nla::Attrs::new(payload) {
        let entry = entry.map_err(|e| e.to_string())?;
        let (mut name, mut id) = (None, None);
        for a in entry.nested() {
            let a = a.map_err(|e| e.to_string())?;
            match a.kind() {
                CTRL_ATTR_MCAST_GRP_NAME => {
                    name = Some(a.get_str().map_err(|e| e.to_string())?.to_string())
                }
                CTRL_ATTR_MCAST_GRP_ID => id = Some(a.get_u32().map_err(|e| e.to_string())?),
                _ => {}
            }
        }
        match (name, id) {
            (Some(n), Some(i)) => groups.push((n, i)),
            _ => return Err("a group without its name or number".to_string()),
        }
    }
    Ok(groups)
}

/// The payload of `attr` as a native-endian u16, which must be exactly 2 bytes.
pub fn attr_u16(attr: &Attr) -> Result<u16, String> {
    exact::<u16>(attr)
}

/// The payload of `attr` as a native-endian u32, which must be exactly 4 bytes.
pub fn attr_u32(attr: &Attr) -> Result<u32, String> {
    exact::<u32>(attr)
}

/// The payload of `attr` as a native-endian u64, which must be exactly 8 bytes.
pub fn attr_u64(attr: &Attr) -> Result<u64, String> {
    exact::<u64>(attr)
}

fn exact<N: FromBytes>(attr: &Attr) -> Result<N, String> {
    let payload = attr.nla_payload().as_ref();
    let want = std::mem::size_of::<N>();
    if payload.len() != want {
        return Err(format!(
            "attribute {} has {} bytes, expected {want}",
            attr.nla_type().nla_type(),
            payload.len()
        ));
    }
    N::from_bytes(&mut Cursor::new(payload)).map_err(|e| e.to_string())
}

#[cfg(test)]
pub mod testutil {
    //! Builders of kernel answers, byte by byte, in host byte order.

    use std::collections::VecDeque;
    use std::io;

    /// One attribute: header, payload, padding to 4 bytes.
    pub fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let len = 4 + payload.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u16).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    /// A nested attribute (NLA_F_NESTED set, as nla_nest_start does).
    pub fn nest(ty: u16, inner: &[Vec<u8>]) -> Vec<u8> {
        attr(ty | 0x8000, &inner.concat())
    }

    /// A netlink message with the given header fields around `payload`.
    pub fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&4242u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v
    }

    /// A generic netlink message: genlmsghdr then attributes.
    pub fn genlmsg(family: u16, seq: u32, cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut payload = vec![cmd, 1, 0, 0];
        payload.extend_from_slice(&attrs.concat());
        nlmsg(family, 0, seq, &payload)
    }

    /// The kernel's acknowledgement of `request`.
    /// nlctrl's answer to `request` (GETFAMILY "rustfilter"): family id
    /// `family`, then the ack.
    pub fn rustfilter_family(request: &[u8], family: u16) -> Vec<Vec<u8>> {
        vec![
            genlmsg(
                0x10,
                seq_of(request),
                1,
                &[attr(2, b"rustfilter\0"), attr(1, &family.to_ne_bytes())],
            ),
            ack(request),
        ]
    }

    pub fn ack(request: &[u8]) -> Vec<u8> {
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&request[..16]);
        nlmsg(2, 0x100, seq_of(request), &payload)
    }

    /// The kernel's error answer to `request`, echoing it, with an
    /// optional extended-ack message.
    pub fn error(request: &[u8], errno: i32, msg: Option<&str>) -> Vec<u8> {
        let mut payload = (-errno).to_ne_bytes().to_vec();
        payload.extend_from_slice(request);
        let mut flags = 0;
        if let Some(m) = msg {
            let mut s = m.as_bytes().to_vec();
            s.push(0);
            payload.extend_from_slice(&attr(1, &s));
            flags |= 0x200; // NLM_F_ACK_TLVS
        }
        nlmsg(2, flags, seq_of(request), &payload)
    }

    pub fn seq_of(msg: &[u8]) -> u32 {
        u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]])
    }

    /// What a scripted kernel says to one request.
    pub type Answer = Box<dyn Fn(&[u8]) -> Vec<Vec<u8>>>;

    /// A kernel that answers each request with scripted datagrams.
    pub struct Script {
        answers: VecDeque<Answer>,
        pending: VecDeque<Vec<u8>>,
        events: VecDeque<Vec<u8>>,
        pub sent: Vec<Vec<u8>>,
        /// The multicast groups joined, in order.
        pub joined: Vec<u32>,
    }

    impl Script {
        pub fn new(answers: Vec<Answer>) -> Self {
            Script {
                answers: answers.into(),
                pending: VecDeque::new(),
                events: VecDeque::new(),
                sent: Vec::new(),
                joined: Vec::new(),
            }
        }

        /// Datagrams [`super::Transport::recv_wait`] delivers, after any
        /// answer still pending. When they are used up, a wait with a
        /// timeout times out and a wait without one is interrupted (as by
        /// a signal).
        pub fn with_events(mut self, events: Vec<Vec<u8>>) -> Self {
            self.events = events.into();
            self
        }
    }

    impl super::Transport for Script {
        fn send(&mut self, msg: &[u8]) -> io::Result<()> {
            self.sent.push(msg.to_vec());
            let answer = self
                .answers
                .pop_front()
                .ok_or_else(|| io::Error::other("unexpected request"))?;
            self.pending.extend(answer(msg));
            Ok(())
        }

        fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let d = self
                .pending
                .pop_front()
                .ok_or_else(|| io::Error::from_raw_os_error(11))?;
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Ok(d.len())
        }

        fn join_group(&mut self, group: u32) -> io::Result<()> {
            self.joined.push(group);
            Ok(())
        }

        fn recv_wait(
            &mut self,
            buf: &mut [u8],
            timeout: Option<std::time::Duration>,
        ) -> io::Result<Option<usize>> {
            let Some(d) = self.pending.pop_front().or_else(|| self.events.pop_front()) else {
                return match timeout {
                    Some(_) => Ok(None),
                    None => Err(io::ErrorKind::Interrupted.into()),
                };
            };
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Ok(Some(d.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    const FAMILY: u16 = 0x1234;

    /// nlctrl's answer to a GETFAMILY request: the family's name and id.
    fn family_reply(req: &[u8]) -> Vec<Vec<u8>> {
        let reply = genlmsg(
            0x10,
            seq_of(req),
            1,
            &[
                attr(2, b"rustfilter\0"),
                attr(1, &FAMILY.to_ne_bytes()),
                attr(3, &1u32.to_ne_bytes()),
            ],
        );
        vec![reply, ack(req)]
    }

    /// The real kernel's nlctrl family, through a real socket: the family
    /// every Linux kernel has, a family none has, and a request the kernel
    /// rejects with an extended-ack message.
    #[test]
    fn live_kernel_nlctrl() {
        let mut c = Client::open().unwrap();
        assert_eq!(c.resolve_family("nlctrl").unwrap(), 0x10);
        // At most 15 characters: a longer name fails nlctrl's policy.
        match c.resolve_family("rfctl-nofamily") {
            Err(Error::FamilyNotFound(name)) => assert_eq!(name, "rfctl-nofamily"),
            other => panic!("{other:?}"),
        }
        // CTRL_ATTR_FAMILY_ID is a u16; one byte fails the policy.
        let bad = NlattrBuilder::default()
            .nla_type(
                AttrTypeBuilder::default()
                    .nla_type(u16::from(CtrlAttr::FamilyId))
                    .build()
                    .unwrap(),
            )
            .nla_payload(vec![1u8])
            .build()
            .unwrap();
        match c.request(0x10, CtrlCmd::Getfamily.into(), CTRL_VERSION, vec![bad]) {
            Err(Error::Kernel { errno, extack }) => {
                // EINVAL, or ERANGE on kernels that check lengths strictly.
                assert!(errno == 22 || errno == 34, "errno {errno}");
                let msg = extack.expect("kernel explains policy failures");
                assert!(!msg.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    /// nlctrl describes its own "notify" group, which anyone may join;
    /// nothing is sent on it in 20 ms, or something is, both fine.
    #[test]
    fn live_kernel_multicast_group() {
        let mut c = Client::open().unwrap();
        let info = c.family_info("nlctrl").unwrap();
        assert_eq!(info.id, 0x10);
        let notify = info.group("notify").expect("nlctrl has a notify group");
        assert!(notify > 0);
        c.join_group(notify).unwrap();
        let got = c
            .recv_multicast(info.id, Some(std::time::Duration::from_millis(20)))
            .unwrap();
        if let Some(msgs) = got {
            assert!(msgs.iter().all(|m| m.len() >= 4));
        }
    }

    #[test]
    fn family_info_reads_multicast_groups() {
        let answer: Answer = Box::new(|req| {
            let groups = nest(
                7, // CTRL_ATTR_MCAST_GROUPS
                &[
                    nest(1, &[attr(2, &5u32.to_ne_bytes()), attr(1, b"other\0")]),
                    nest(2, &[attr(1, b"ct-events\0"), attr(2, &9u32.to_ne_bytes())]),
                ],
            );
            vec![
                genlmsg(
                    0x10,
                    seq_of(req),
                    1,
                    &[
                        attr(2, b"rustfilter\0"),
                        attr(1, &FAMILY.to_ne_bytes()),
                        groups,
                    ],
                ),
                ack(req),
            ]
        });
        let mut c = Client::new(Script::new(vec![answer]));
        let info = c.family_info("rustfilter").unwrap();
        assert_eq!(info.id, FAMILY);
        assert_eq!(
            info.groups,
            vec![("other".to_string(), 5), ("ct-events".to_string(), 9)]
        );
        assert_eq!(info.group("ct-events"), Some(9));
        assert_eq!(info.group("nope"), None);
        // Without CTRL_ATTR_MCAST_GROUPS: no groups.
        let mut c = Client::new(Script::new(vec![Box::new(family_reply)]));
        assert!(c.family_info("rustfilter").unwrap().groups.is_empty());
    }

    #[test]
    fn group_without_number_is_an_error() {
        let answer: Answer = Box::new(|req| {
            let groups = nest(7, &[nest(1, &[attr(1, b"ct-events\0")])]);
            vec![
                genlmsg(
                    0x10,
                    seq_of(req),
                    1,
                    &[attr(1, &FAMILY.to_ne_bytes()), groups],
                ),
                ack(req),
            ]
        });
        let mut c = Client::new(Script::new(vec![answer]));
        let e = c.family_info("rustfilter").unwrap_err();
        assert!(e.to_string().contains("multicast groups"), "{e}");
    }

    #[test]
    fn recv_multicast_keeps_the_family_messages() {
        let mut both = genlmsg(FAMILY, 0, 14, &[attr(9, &[1, 2, 3, 4])]);
        both.extend_from_slice(&nlmsg(1, 0, 0, &[])); // NLMSG_NOOP
        both.extend_from_slice(&genlmsg(FAMILY + 1, 0, 14, &[]));
        let script = Script::new(Vec::new()).with_events(vec![both]);
        let mut c = Client::new(script);
        c.join_group(9).unwrap();
        assert_eq!(c.transport().joined, vec![9]);
        let msgs = c.recv_multicast(FAMILY, None).unwrap().unwrap();
        assert_eq!(
            msgs,
            vec![[&[14u8, 1, 0, 0][..], &attr(9, &[1, 2, 3, 4])].concat()]
        );
        // Used up: a wait with a timeout times out, one without is interrupted.
        assert_eq!(
            c.recv_multicast(FAMILY, Some(std::time::Duration::from_millis(1)))
                .unwrap(),
            None
        );
        match c.recv_multicast(FAMILY, None) {
            Err(Error::Io { err, .. }) => assert_eq!(err.kind(), io::ErrorKind::Interrupted),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_bytes() {
        let msg = encode_request(FAMILY, 2, 1, Vec::new(), 7).unwrap();
        assert_eq!(msg.len(), 20);
        assert_eq!(ne_u32(&msg, 0), Some(20));
        assert_eq!(ne_u16(&msg, 4), Some(FAMILY));
        assert_eq!(ne_u16(&msg, 6), Some(0x1 | 0x4)); // REQUEST | ACK
        assert_eq!(ne_u32(&msg, 8), Some(7));
        assert_eq!(&msg[16..20], &[2, 1, 0, 0]); // cmd, version, reserved
    }

    #[test]
    fn resolve_family_sends_getfamily_and_reads_id() {
        let mut c = Client::new(Script::new(vec![Box::new(family_reply)]));
        assert_eq!(c.resolve_family("rustfilter").unwrap(), FAMILY);
        let req = &c.transport().sent[0];
        assert_eq!(ne_u16(req, 4), Some(0x10)); // GENL_ID_CTRL
        assert_eq!(req[16], 3); // CTRL_CMD_GETFAMILY
                                // CTRL_ATTR_FAMILY_NAME = "rustfilter\0"
        assert_eq!(&req[20..36], &attr(2, b"rustfilter\0")[..]);
    }

    #[test]
    fn unknown_family_is_not_loaded() {
        let answer: Answer = Box::new(|req| vec![error(req, ENOENT, None)]);
        let mut c = Client::new(Script::new(vec![answer]));
        match c.resolve_family("rustfilter") {
            Err(Error::FamilyNotFound(name)) => assert_eq!(name, "rustfilter"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn family_reply_without_id_is_an_error() {
        let answer: Answer = Box::new(|req| {
            vec![
                genlmsg(0x10, seq_of(req), 1, &[attr(2, b"rustfilter\0")]),
                ack(req),
            ]
        });
        let mut c = Client::new(Script::new(vec![answer]));
        assert!(matches!(
            c.resolve_family("rustfilter"),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn request_collects_replies_until_ack() {
        let answer: Answer = Box::new(|req| {
            // A stale message of another sequence number comes first; the
            // reply and the ack arrive in one datagram.
            let stale = genlmsg(FAMILY, seq_of(req).wrapping_add(99), 1, &[]);
            let mut both = genlmsg(FAMILY, seq_of(req), 1, &[attr(9, &[1, 2, 3, 4])]);
            both.extend_from_slice(&ack(req));
            vec![stale, both]
        });
        let mut c = Client::new(Script::new(vec![answer]));
        let replies = c.request(FAMILY, 1, 1, Vec::new()).unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(*replies[0].cmd(), 1);
        let attrs: Vec<u16> = replies[0]
            .attrs()
            .iter()
            .map(|a| *a.nla_type().nla_type())
            .collect();
        assert_eq!(attrs, vec![9]);
    }

    #[test]
    fn ack_alone_gives_no_replies() {
        let answer: Answer = Box::new(|req| vec![ack(req)]);
        let mut c = Client::new(Script::new(vec![answer]));
        assert!(c.request(FAMILY, 2, 1, Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn kernel_error_carries_errno_and_extack() {
        let answer: Answer = Box::new(|req| vec![error(req, 22, Some("bad hook number"))]);
        let mut c = Client::new(Script::new(vec![answer]));
        match c.request(FAMILY, 1, 1, Vec::new()) {
            Err(Error::Kernel { errno, extack }) => {
                assert_eq!(errno, 22);
                assert_eq!(extack.as_deref(), Some("bad hook number"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn eperm_is_reported_as_such() {
        let answer: Answer = Box::new(|req| vec![error(req, 1, None)]);
        let mut c = Client::new(Script::new(vec![answer]));
        let e = c.request(FAMILY, 2, 1, Vec::new()).unwrap_err();
        assert!(matches!(
            e,
            Error::Kernel {
                errno: 1,
                extack: None
            }
        ));
        assert!(e.to_string().starts_with("permission denied"));
    }

    #[test]
    fn truncated_datagram_is_an_error() {
        let answer: Answer = Box::new(|req| {
            let mut m = genlmsg(FAMILY, seq_of(req), 1, &[attr(9, &[0; 8])]);
            m.truncate(m.len() - 4); // nlmsg_len now exceeds the datagram
            vec![m]
        });
        let mut c = Client::new(Script::new(vec![answer]));
        assert!(matches!(
            c.request(FAMILY, 1, 1, Vec::new()),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn oversized_datagram_is_an_error() {
        let answer: Answer = Box::new(|req| vec![vec![0; RECV_BUF_LEN + 1], ack(req)]);
        let mut c = Client::new(Script::new(vec![answer]));
        assert!(matches!(
            c.request(FAMILY, 1, 1, Vec::new()),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn parse_datagram_rejects_short_headers() {
        for bad in [
            vec![1, 2, 3],
            nlmsg(FAMILY, 0, 1, &[])[..15].to_vec(),
            // nlmsg_len smaller than the header
            {
                let mut m = nlmsg(FAMILY, 0, 1, &[]);
                m[0..4].copy_from_slice(&8u32.to_ne_bytes());
                m
            },
        ] {
            assert!(parse_datagram(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_datagram(&[]).unwrap().len(), 0);
    }

    #[test]
    fn parse_datagram_rejects_inconsistent_error_messages() {
        let req = encode_request(FAMILY, 1, 1, Vec::new(), 5).unwrap();
        // Error code but no echoed header.
        let short = nlmsg(2, 0, 5, &(-22i32).to_ne_bytes());
        assert!(parse_datagram(&short).is_err());
        // Echoed request claims to be longer than what follows.
        let mut lying = error(&req, 22, None);
        lying[20..24].copy_from_slice(&4000u32.to_ne_bytes());
        assert!(parse_datagram(&lying).is_err());
        // Echoed request claims to be shorter than a header.
        let mut tiny = error(&req, 22, None);
        tiny[20..24].copy_from_slice(&3u32.to_ne_bytes());
        assert!(parse_datagram(&tiny).is_err());
        // The well-formed one parses.
        assert_eq!(parse_datagram(&error(&req, 22, None)).unwrap().len(), 1);
    }

    #[test]
    fn ack_with_tlvs_is_still_an_ack() {
        let req = encode_request(FAMILY, 2, 1, Vec::new(), 3).unwrap();
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&req[..16]);
        payload.extend_from_slice(&attr(1, b"just a warning\0"));
        let datagram = nlmsg(2, 0x100 | 0x200, 3, &payload);
        let msgs = parse_datagram(&datagram).unwrap();
        assert_eq!(msgs.len(), 1);
        let step = classify(msgs.into_iter().next().unwrap(), 3).unwrap();
        assert!(matches!(step, Step::Done));
    }

    #[test]
    fn integer_attributes_must_have_exact_size() {
        let parsed = |bytes: Vec<u8>| {
            decode_genl(&[&[1u8, 1, 0, 0][..], &bytes].concat())
                .unwrap()
                .attrs()
                .iter()
                .next()
                .cloned()
                .unwrap()
        };
        let a = parsed(attr(3, &7u32.to_ne_bytes()));
        assert_eq!(attr_u32(&a), Ok(7));
        assert!(attr_u64(&a).is_err());
        assert!(attr_u16(&a).is_err());
        let b = parsed(attr(3, &u64::MAX.to_ne_bytes()));
        assert_eq!(attr_u64(&b), Ok(u64::MAX));
        let c = parsed(attr(3, &[1, 2, 3]));
        assert!(attr_u32(&c).is_err());
    }
}
