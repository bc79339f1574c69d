// SPDX-License-Identifier: GPL-2.0

//! `rfctl queue`: a verdict daemon for the netlink queue (`NFQUEUE`), and
//! the selftests' queue client.
//!
//! It binds one queue over `NETLINK_NETFILTER` with the protocol of
//! `nfnetlink_queue` (so it works with rustfilter's queue handler and with
//! the kernel's own), prints one line per packet and gives every packet
//! the verdict of the command line: one `NFQNL_MSG_VERDICT` each, or one
//! `NFQNL_MSG_VERDICT_BATCH` per `--batch` packets, or none (`--hold`).
//! The messages are written by the pure core's client encoders
//! (`rfcore::nfqueue::{config, verdict}`) and packets read by its decoder
//! (`rfcore::nfqueue::packet::decode_packet`).
//!
//! `args` reads the command line, `socket` is the netlink socket, `show`
//! formats packets and errno values.

mod args;
mod show;
mod socket;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use rfcore::nfqueue::config::{encode_config, ConfigCmd, ConfigParams, ConfigRequest};
use rfcore::nfqueue::consts::{
    msg_type, NFPROTO_UNSPEC, NFQNL_CFG_CMD_BIND, NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT,
    NFQNL_MSG_VERDICT_BATCH, NLMSG_ERROR, NLMSG_HDRLEN,
};
use rfcore::nfqueue::fixup::fixup;
use rfcore::nfqueue::msg::{parse_error, NlMsgHeader};
use rfcore::nfqueue::packet::{decode_packet, Packet};
use rfcore::nfqueue::verdict::{encode_batch, encode_verdict, BatchRequest, VerdictRequest};
use rfcore::nla;

use crate::error::{Error, ENOENT};
use crate::netlink::Transport;

pub use args::{Opts, Usage};
use show::{errno_text, packet_line};

/// Help text of `rfctl queue`.
pub const USAGE: &str = "\
Usage: rfctl queue --num N [options]

Bind netlink queue N (the NFQUEUE target's --queue-num) in the caller's
network namespace, print one line per queued packet and give each the
verdict chosen here. Works with rustfilter's queue handler and with the
kernel's nfnetlink_queue. Needs CAP_NET_ADMIN. Runs until SIGINT or
SIGTERM, or --count packets.

Options:
  -n, --num N                 the queue, 0 to 65535
  --verdict V                 accept (default), drop, repeat (the hook that
                              queued the packet runs again), stop (accept,
                              skipping the later hooks of the hook point),
                              queue:M or queue:M:bypass (to queue M; with
                              bypass, accepted when nobody listens there)
  --mark M                    set the packet's mark with the verdict
  --count K                   exit after K packets (and their verdicts)
  --batch K                   one batch verdict (NFQNL_MSG_VERDICT_BATCH) for
                              every K packets, up to the highest id; the
                              packets left at exit get one too
  --copy none|meta|packet[:RANGE]
                              what the kernel sends of each packet (default
                              packet:65535; the kernel caps RANGE at 65531)
  --maxlen L                  most packets waiting for a verdict (kernel
                              default 1024)
  --fail-open                 accept packets the queue has no room for
                              (default: drop them)
  --gso                       take GSO packets whole (default: segmented)
  --uid-gid                   ask for the sending socket's uid and gid
  --conntrack                 ask for the packet's connection (printed as
                              ct=STATE ctmark=M ctstatus=S)
  --delay MS                  wait MS milliseconds before each verdict
  --hold                      give no verdicts at all (packets wait until
                              rfctl exits, then are the kernel's to drop)
  --rewrite OLD=NEW           replace the first OLD in each packet (from its
                              IP header) with NEW, lengths may differ (\\xHH
                              for any byte), and send the new packet with the
                              verdict; IP length and checksums are left as
                              they were unless --fix-checksums
  --fix-checksums             fix the rewritten packet's IP total length, IP
                              checksum and TCP/UDP/ICMP checksum
  -h, --help                  show this help

Output: first `bound queue=N ...', then per packet
  id=1 hook=FORWARD hw=0x0800 in=2 out=3 mark=0x0 len=48 \\
info=csum-not-verified udp 10.0.1.2:40000 > 10.0.2.2:7 len 20 verdict=accept
with caplen=N (the whole length, when the copy is cut), uid= and gid=
when the kernel sends them, newmark=, rewrite=OLDLEN>NEWLEN (or
rewrite=none: OLD not found); --batch adds `batch verdict=V maxid=ID
packets=K' lines. Kernel errors are printed with their errno name and end
rfctl, but ENOENT for a verdict (the packet is gone: flushed by the
kernel), which is printed and passed over.

Exit status: 0 after --count packets or a signal; 1 on failure; 2 for a
wrong command line.
";

/// The buffer for one datagram: a whole packet of 65535 bytes with its
/// attributes.
const RECV_BUF_LEN: usize = 128 * 1024;

/// Set by the SIGINT and SIGTERM handler.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Make SIGINT and SIGTERM set [`stopped`], and block them but during the
/// wait for packets (the socket waits with ppoll(2) and an empty mask), so
/// a signal is never missed between the check and the wait.
fn catch_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int);
    // SAFETY: a handler that only stores to an atomic is
    // async-signal-safe; the sigaction and sigset_t structures are
    // initialised (zeroed, then emptied) before use.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
            libc::sigaddset(&mut block, sig);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &block, std::ptr::null_mut());
    }
}

/// Run `rfctl queue` with the arguments after `queue`; the exit status.
pub fn main(args: &[String]) -> ExitCode {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    let o = match args::parse(args) {
        Err(Usage(msg)) => {
            let _ = writeln!(
                err,
                "rfctl queue: {msg}\nTry `rfctl queue --help' for more information."
            );
            return ExitCode::from(crate::error::EXIT_USAGE);
        }
        Ok(o) => o,
    };
    if o.help {
        let _ = out.write_all(USAGE.as_bytes());
        return ExitCode::SUCCESS;
    }
    catch_signals();
    let res = socket::NfSocket::open()
        .map_err(|e| format!("{e}"))
        .and_then(|s| Listener::new(s, o).run(&mut out, &mut err, &stopped));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            let _ = out.flush();
            let _ = writeln!(err, "rfctl queue: {msg}");
            ExitCode::from(crate::error::EXIT_FAILURE)
        }
    }
}

/// The two configuration requests of a bind, each with `NLM_F_ACK`:
/// `NFQNL_CFG_CMD_BIND`, then the copy mode, the queue length and the
/// flags in one message (as the kernel's selftest client and
/// libnetfilter_queue's examples do). `seq` and `seq + 1` are their
/// sequence numbers.
pub fn bind_requests(o: &Opts, seq: u32) -> Result<Vec<Vec<u8>>, Error> {
    let bind = ConfigRequest {
        cmd: Some(ConfigCmd {
            command: NFQNL_CFG_CMD_BIND,
            pf: 0,
        }),
        ..ConfigRequest::default()
    };
    let params = ConfigRequest {
        params: Some(ConfigParams {
            copy_range: o.copy.range,
            copy_mode: o.copy.mode,
        }),
        maxlen: o.maxlen,
        flags: Some(o.flags),
        mask: Some(args::FLAG_MASK),
        ..ConfigRequest::default()
    };
    [(bind, seq), (params, seq.wrapping_add(1))]
        .iter()
        .map(|(req, s)| {
            let mut buf = [0u8; 128];
            let len = encode_config(&mut buf, *s, o.num, NFPROTO_UNSPEC, req, true)
                .map_err(|e| Error::Internal(e.message().into()))?;
            Ok(buf[..len].to_vec())
        })
        .collect()
}

/// The `NFQNL_MSG_VERDICT` for packet `id`, with the new packet `payload`.
pub fn verdict_request(
    o: &Opts,
    seq: u32,
    id: u32,
    payload: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let req = VerdictRequest {
        verdict: o.verdict.value(),
        id,
        mark: o.mark,
        priority: None,
        payload,
        ct_mark: None,
    };
    let mut buf = vec![0u8; 64 + payload.map_or(0, <[u8]>::len)];
    let len = encode_verdict(&mut buf, seq, o.num, &req)
        .map_err(|e| Error::Internal(e.message().into()))?;
    buf.truncate(len);
    Ok(buf)
}

/// The `NFQNL_MSG_VERDICT_BATCH` for every packet up to `max_id`.
pub fn batch_request(o: &Opts, seq: u32, max_id: u32) -> Result<Vec<u8>, Error> {
    let req = BatchRequest {
        verdict: o.verdict.value(),
        max_id,
        mark: o.mark,
        priority: None,
    };
    let mut buf = [0u8; 64];
    let len = encode_batch(&mut buf, seq, o.num, &req)
        .map_err(|e| Error::Internal(e.message().into()))?;
    Ok(buf[..len].to_vec())
}

/// `pkt` with the first `old` replaced by `new`; `None` without one.
pub fn rewrite(pkt: &[u8], old: &[u8], new: &[u8]) -> Option<Vec<u8>> {
    let at = pkt.windows(old.len()).position(|w| w == old)?;
    let mut v = Vec::with_capacity(pkt.len() - old.len() + new.len());
    v.extend_from_slice(&pkt[..at]);
    v.extend_from_slice(new);
    v.extend_from_slice(&pkt[at + old.len()..]);
    Some(v)
}

/// The messages of one datagram: header and whole message (at most the
/// datagram's end).
fn messages(d: &[u8]) -> Vec<(NlMsgHeader, &[u8])> {
    let mut out = Vec::new();
    let mut rest = d;
    while let Some(h) = NlMsgHeader::read(rest) {
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        out.push((h, &rest[..len]));
        let next = nla::align(len).unwrap_or(len).min(rest.len());
        rest = &rest[next..];
    }
    out
}

/// A kernel error: its errno (positive), the type and the verdict id of
/// the request it answers (when echoed), and the extended ack message.
#[derive(Debug, PartialEq, Eq)]
struct KernelError {
    errno: i32,
    kind: Option<u16>,
    id: Option<u32>,
    extack: Option<String>,
}

/// `NLM_F_CAPPED`: the request is not echoed whole.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS`: extended ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`.
const NLMSGERR_ATTR_MSG: u16 = 1;

fn kernel_error(h: &NlMsgHeader, msg: &[u8]) -> Option<KernelError> {
    let code = parse_error(msg)?;
    if code >= 0 {
        return None;
    }
    let echoed = msg.get(NLMSG_HDRLEN + 4..).unwrap_or(&[]);
    let req = NlMsgHeader::read(echoed);
    // The verdict header is the request's first attribute: its id is at
    // bytes 8..12 of its payload.
    let id = req.as_ref().and_then(|r| {
        let verdicts = [
            msg_type(NFQNL_MSG_VERDICT),
            msg_type(NFQNL_MSG_VERDICT_BATCH),
        ];
        if !verdicts.contains(&r.kind) || h.flags & NLM_F_CAPPED != 0 {
            return None;
        }
        let a = echoed.get(20 + 4 + 4..20 + 4 + 8)?;
        Some(u32::from_be_bytes(a.try_into().ok()?))
    });
    let mut extack = None;
    if h.flags & NLM_F_ACK_TLVS != 0 {
        let skip = if h.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            req.map_or(NLMSG_HDRLEN, |r| nla::align(r.len as usize).unwrap_or(0))
        };
        for a in nla::Attrs::new(echoed.get(skip..).unwrap_or(&[])).flatten() {
            if a.kind() == NLMSGERR_ATTR_MSG {
                let t = a.payload().split(|&b| b == 0).next().unwrap_or(&[]);
                extack = Some(String::from_utf8_lossy(t).into_owned());
            }
        }
    }
    Some(KernelError {
        errno: -code,
        kind: req.map(|r| r.kind),
        id,
        extack,
    })
}

fn describe(e: &KernelError) -> String {
    match &e.extack {
        Some(m) => format!("{}: {m}", errno_text(e.errno)),
        None => errno_text(e.errno),
    }
}

/// One bound queue and what is being done with its packets.
pub struct Listener<T> {
    t: T,
    o: Opts,
    seq: u32,
    buf: Vec<u8>,
    /// Datagrams read while waiting for an acknowledgement.
    stash: VecDeque<Vec<u8>>,
    /// Packets seen.
    seen: u64,
    /// Packets seen since the last batch verdict, and the highest id.
    batched: u32,
    max_id: u32,
}

impl<T: Transport> Listener<T> {
    /// A listener over `t` for `o`.
    pub fn new(t: T, o: Opts) -> Self {
        Listener {
            t,
            o,
            seq: 1,
            buf: vec![0; RECV_BUF_LEN],
            stash: VecDeque::new(),
            seen: 0,
            batched: 0,
            max_id: 0,
        }
    }

    /// The transport (tests look at what was sent).
    #[cfg(test)]
    pub fn transport(&self) -> &T {
        &self.t
    }

    fn next_seq(&mut self) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    fn send(&mut self, msg: &[u8]) -> Result<(), String> {
        self.t
            .send(msg)
            .map_err(|e| format!("cannot send to the kernel: {e}"))
    }

    /// Receive one datagram (a stashed one first); `Ok(None)` when a
    /// signal interrupted the wait.
    fn recv(&mut self) -> Result<Option<Vec<u8>>, String> {
        if let Some(d) = self.stash.pop_front() {
            return Ok(Some(d));
        }
        match self.t.recv_wait(&mut self.buf, None) {
            Ok(Some(n)) if n > self.buf.len() => Err(format!(
                "a datagram of {n} bytes did not fit the {} bytes buffer",
                self.buf.len()
            )),
            Ok(Some(n)) => Ok(Some(self.buf[..n].to_vec())),
            Ok(None) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(format!("cannot receive from the kernel: {e}")),
        }
    }

    /// Send a configuration request and wait for its acknowledgement,
    /// keeping whatever else comes meanwhile (packets) for later.
    fn configure(&mut self, msg: &[u8], what: &str, stop: &dyn Fn() -> bool) -> Result<(), String> {
        let seq = NlMsgHeader::read(msg).map_or(0, |h| h.seq);
        self.send(msg)?;
        loop {
            let n = match self.t.recv_wait(&mut self.buf, None) {
                Ok(Some(n)) if n <= self.buf.len() => n,
                Ok(Some(n)) => return Err(format!("a datagram of {n} bytes did not fit")),
                Ok(None) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if stop() {
                        return Err(format!("interrupted while {what}"));
                    }
                    continue;
                }
                Err(e) => return Err(format!("cannot receive from the kernel: {e}")),
            };
            let d = self.buf[..n].to_vec();
            let mut answered = None;
            for (h, m) in messages(&d) {
                if h.kind == NLMSG_ERROR && h.seq == seq {
                    answered = Some(kernel_error(&h, m));
                }
            }
            match answered {
                None => self.stash.push_back(d),
                Some(None) => return Ok(()),
                Some(Some(e)) => return Err(format!("{what}: {}", describe(&e))),
            }
        }
    }

    /// Bind the queue and set it up; print the `bound` line.
    fn bind(&mut self, out: &mut dyn Write, stop: &dyn Fn() -> bool) -> Result<(), String> {
        let seq = self.next_seq();
        self.next_seq();
        let msgs = bind_requests(&self.o, seq).map_err(|e| e.to_string())?;
        let num = self.o.num;
        self.configure(&msgs[0], &format!("cannot bind queue {num}"), stop)?;
        self.configure(&msgs[1], &format!("cannot configure queue {num}"), stop)?;
        let mut flags = Vec::new();
        for (f, name) in [
            (rfcore::nfqueue::consts::NFQA_CFG_F_FAIL_OPEN, "fail-open"),
            (rfcore::nfqueue::consts::NFQA_CFG_F_GSO, "gso"),
            (rfcore::nfqueue::consts::NFQA_CFG_F_UID_GID, "uid-gid"),
            (rfcore::nfqueue::consts::NFQA_CFG_F_CONNTRACK, "conntrack"),
        ] {
            if self.o.flags & f != 0 {
                flags.push(name);
            }
        }
        let action = if self.o.hold {
            "hold".to_string()
        } else {
            self.o.verdict.name()
        };
        let line = format!(
            "bound queue={num} copy={} maxlen={} flags={} verdict={action}",
            self.o.copy.name(),
            self.o.maxlen.map_or("default".into(), |m| m.to_string()),
            if flags.is_empty() {
                "none".into()
            } else {
                flags.join(",")
            },
        );
        put(out, &line)
    }

    /// Bind, then serve packets until `--count` or `stop`.
    pub fn run(
        &mut self,
        out: &mut dyn Write,
        err: &mut dyn Write,
        stop: &dyn Fn() -> bool,
    ) -> Result<(), String> {
        self.bind(out, stop)?;
        let res = self.serve(out, err, stop);
        // What is left of a batch gets its verdict before we go.
        if res.is_ok() && self.batched > 0 {
            self.send_batch(out)?;
        }
        res
    }

    fn done(&self) -> bool {
        self.o.count.is_some_and(|c| self.seen >= c)
    }

    fn serve(
        &mut self,
        out: &mut dyn Write,
        err: &mut dyn Write,
        stop: &dyn Fn() -> bool,
    ) -> Result<(), String> {
        while !self.done() {
            let Some(d) = self.recv()? else {
                if stop() {
                    return Ok(());
                }
                continue;
            };
            for (h, m) in messages(&d) {
                if h.kind == msg_type(NFQNL_MSG_PACKET) {
                    let p = decode_packet(m)
                        .map_err(|e| format!("malformed packet message from the kernel: {e:?}"))?
                        .0;
                    self.packet(&p, out)?;
                    if self.done() {
                        break;
                    }
                } else if h.kind == NLMSG_ERROR {
                    let Some(e) = kernel_error(&h, m) else {
                        continue;
                    };
                    let verdict = e.kind.is_some_and(|k| {
                        k == msg_type(NFQNL_MSG_VERDICT) || k == msg_type(NFQNL_MSG_VERDICT_BATCH)
                    });
                    let about = match (verdict, e.id) {
                        (true, Some(id)) => format!("verdict for packet {id}"),
                        (true, None) => "verdict".to_string(),
                        (false, _) => "request".to_string(),
                    };
                    if verdict && e.errno == ENOENT {
                        let _ = out.flush();
                        let _ = writeln!(err, "rfctl queue: {about}: {}", describe(&e));
                        continue;
                    }
                    return Err(format!("{about}: {}", describe(&e)));
                }
            }
        }
        Ok(())
    }

    /// Print packet `p` and give it its verdict.
    fn packet(&mut self, p: &Packet<'_>, out: &mut dyn Write) -> Result<(), String> {
        self.seen += 1;
        let mut line = packet_line(p);
        if self.o.hold {
            line.push_str(" verdict=hold");
            return put(out, &line);
        }
        if self.o.batch.is_some() {
            line.push_str(" verdict=batch");
            put(out, &line)?;
            self.batched += 1;
            self.max_id = p.id;
            if Some(self.batched) == self.o.batch {
                self.send_batch(out)?;
            }
            return Ok(());
        }
        let mut payload = None;
        if let Some(rw) = &self.o.rewrite {
            let data = p.payload.unwrap_or(&[]);
            if p.cap_len.is_some() {
                line.push_str(" rewrite=cut");
            } else if let Some(mut new) = rewrite(data, &rw.old, &rw.new) {
                let _ = std::fmt::Write::write_fmt(
                    &mut line,
                    format_args!(" rewrite={}>{}", data.len(), new.len()),
                );
                if self.o.fix_checksums {
                    match fixup(p.family, &mut new) {
                        Ok(_) => line.push_str(" fixed"),
                        Err(e) => {
                            let _ = std::fmt::Write::write_fmt(
                                &mut line,
                                format_args!(" unfixed({e:?})"),
                            );
                        }
                    }
                }
                payload = Some(new);
            } else {
                line.push_str(" rewrite=none");
            }
        }
        let _ = std::fmt::Write::write_fmt(
            &mut line,
            format_args!(" verdict={}", self.o.verdict.name()),
        );
        if let Some(m) = self.o.mark {
            let _ = std::fmt::Write::write_fmt(&mut line, format_args!(" newmark={m:#x}"));
        }
        put(out, &line)?;
        if let Some(d) = self.o.delay {
            std::thread::sleep(d);
        }
        let seq = self.next_seq();
        let msg =
            verdict_request(&self.o, seq, p.id, payload.as_deref()).map_err(|e| e.to_string())?;
        self.send(&msg)
    }

    fn send_batch(&mut self, out: &mut dyn Write) -> Result<(), String> {
        if let Some(d) = self.o.delay {
            std::thread::sleep(d);
        }
        let line = format!(
            "batch verdict={} maxid={} packets={}",
            self.o.verdict.name(),
            self.max_id,
            self.batched
        );
        put(out, &line)?;
        let seq = self.next_seq();
        let msg = batch_request(&self.o, seq, self.max_id).map_err(|e| e.to_string())?;
        self.batched = 0;
        self.send(&msg)
    }
}

/// Print one line and flush it (the selftests read the output as it comes).
fn put(out: &mut dyn Write, line: &str) -> Result<(), String> {
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}
