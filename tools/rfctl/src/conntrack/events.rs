// SPDX-License-Identifier: GPL-2.0

//! `-E`: follow the family's `ct-events` multicast group and print each
//! event as conntrack -E does (`    [NEW] tcp      6 120 SYN_SENT ...`,
//! `[DESTROY] ...`), until SIGINT or SIGTERM, or rfctl's
//! `--event-count` / `--event-timeout`; then the summary `N flow events
//! have been shown.` on standard error, as conntrack's signal handler
//! prints it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rfcore::proto;

use super::args::Opts;
use super::entry::{decode_event, format, EventKind};
use super::{line, summary};
use crate::error::Error;
use crate::netlink::{Client, FamilyInfo, Transport};

/// `ENOBUFS`: the socket's receive buffer overflowed, events were lost.
const ENOBUFS: i32 = 105;

/// Set by the SIGINT and SIGTERM handler of [`catch_signals`].
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether SIGINT or SIGTERM came since [`catch_signals`].
pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Make SIGINT and SIGTERM set [`stopped`] instead of ending rfctl, and
/// block them but during the wait for events: one that comes while an
/// event is printed is pending until the next wait, which it interrupts
/// at once (the transport waits with ppoll(2) and an empty mask), so no
/// signal is missed between the check of [`stopped`] and the wait.
pub fn catch_signals() {
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

/// conntrack's `-o timestamp` head of an event line: `[%-.8ld.%-.6ld]\t`.
pub fn timestamp_head(secs: u64, micros: u32) -> String {
    format!("[{secs:08}.{micros:06}]\t")
}

fn now_head() -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    timestamp_head(t.as_secs(), t.subsec_micros())
}

/// Follow the events of `info`'s `ct-events` group; the exit status.
pub fn run<T: Transport>(
    client: &mut Client<T>,
    info: &FamilyInfo,
    o: &Opts,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: &dyn Fn() -> bool,
) -> Result<u8, Error> {
    let group = info.group(proto::CT_EVENTS_GROUP).ok_or_else(|| {
        Error::Other(format!(
            "the rustfilter module has no \"{}\" multicast group: it sends no connection events",
            proto::CT_EVENTS_GROUP
        ))
    })?;
    client.join_group(group)?;
    let deadline = o.event_timeout.map(|d| Instant::now() + d);
    let mut n: u64 = 0;
    let done = |n: u64| o.event_count.is_some_and(|c| n >= c);
    let status = 'wait: loop {
        if done(n) {
            break 0;
        }
        let timeout = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => break u8::from(o.event_count.is_some()),
            },
        };
        let msgs = match client.recv_multicast(info.id, timeout) {
            Ok(Some(m)) => m,
            // The time is up.
            Ok(None) => break u8::from(o.event_count.is_some()),
            // A signal: SIGINT or SIGTERM end the wait as they end
            // conntrack -E, with status 0.
            Err(Error::Io { err: e, .. }) if e.kind() == std::io::ErrorKind::Interrupted => {
                if stop() {
                    break 0;
                }
                continue;
            }
            Err(Error::Io { err: e, .. }) if e.raw_os_error() == Some(ENOBUFS) => {
                let _ = writeln!(
                    err,
                    "WARNING: We have hit ENOBUFS! We are losing events.\n\
                     This message means that the netlink socket buffer is too small\n\
                     for the rate of connection events."
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        for m in msgs {
            if m.first() != Some(&proto::CMD_CT_EVENT) {
                continue;
            }
            let (kind, e) = decode_event(&m)?;
            let wanted = match kind {
                Some(EventKind::New) => o.events.new,
                Some(EventKind::Destroy) => o.events.destroy,
                None => false, // a kind this rfctl does not know
            };
            if !wanted || !o.filter.matches(&e) {
                continue;
            }
            let mut text = if o.timestamp {
                now_head()
            } else {
                String::new()
            };
            text.push_str(&format(&e, kind, o.extended));
            line(out, &text)?;
            out.flush().map_err(|err| Error::Io {
                what: "cannot write to standard output",
                err,
            })?;
            n += 1;
            if done(n) {
                break 'wait 0;
            }
        }
    };
    summary(out, err, &format!("{n} flow events have been shown."))?;
    Ok(status)
}
