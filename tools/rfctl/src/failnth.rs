// SPDX-License-Identifier: GPL-2.0

//! `RFCTL_FAIL_NTH`: a testing aid for the kernel's failure paths
//! (Documentation/rfctl.rst, "Environment").
//!
//! With `RFCTL_FAIL_NTH=N`, rfctl writes N to `/proc/thread-self/fail-nth`
//! right before it sends the request `RFCTL_FAIL_NTH_AT` names (default:
//! every table COMMIT), so that the N-th fault-injection point the kernel
//! passes in this thread while it handles the request fails (an
//! allocation, with failslab or fail_page_alloc set up to take part:
//! Documentation/fault-injection/fault-injection.rst, "fail-nth"). As
//! soon as the kernel is done with the request (the send returned: the
//! kernel handles a request and queues its acknowledgement inside
//! sendmsg; a dump, after its end) rfctl reads the file back and writes 0,
//! so that nothing after the request fails: 0 read back means the fault
//! was injected; M > 0 means the request passed only N - M injection
//! points and nothing failed. `RFCTL_FAIL_NTH_REPORT=1` prints which, one
//! line per armed request, on standard error.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;

use rfcore::proto;

use crate::error::Error;

/// The fault: the number written to fail-nth.
pub const NTH: &str = "RFCTL_FAIL_NTH";
/// Which request: `NAME` (every one) or `NAME:K` (the K-th, from 1).
pub const AT: &str = "RFCTL_FAIL_NTH_AT";
/// `1`: report on standard error.
pub const REPORT: &str = "RFCTL_FAIL_NTH_REPORT";
/// The calling thread's fail-nth file (rfctl sends from one thread).
pub const PATH: &str = "/proc/thread-self/fail-nth";

/// The requests `RFCTL_FAIL_NTH_AT` can name, with their commands.
pub const REQUESTS: &[(&str, u8)] = &[
    ("begin", proto::CMD_TABLE_BEGIN),
    ("chunk", proto::CMD_TABLE_CHUNK),
    ("commit", proto::CMD_TABLE_COMMIT),
    ("abort", proto::CMD_TABLE_ABORT),
    ("get", proto::CMD_TABLE_GET),
    ("zero", proto::CMD_ZERO_STATS),
    ("set", proto::CMD_CT_SET),
    ("flush", proto::CMD_CT_FLUSH),
    ("delete", proto::CMD_CT_DELETE),
];

/// What the environment asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Written to fail-nth: the N-th injection point fails.
    pub nth: u32,
    /// The request's name in [`REQUESTS`].
    pub request: &'static str,
    /// Its command.
    pub cmd: u8,
    /// Only the K-th such request of the run (from 1); `None`: each one.
    pub which: Option<u32>,
    /// Print a [`Report`] line per armed request on standard error.
    pub report: bool,
}

fn bad(var: &str, value: &str, want: &str) -> Error {
    Error::Other(format!("{var}={value}: {want}"))
}

impl Plan {
    /// The plan the variables give (`var` looks one up); `None` when
    /// `RFCTL_FAIL_NTH` is unset, empty or 0.
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Option<Plan>, Error> {
        let nth = match var(NTH).as_deref().map(str::trim) {
            None | Some("") => return Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map_err(|_| bad(NTH, v, "expected a number of 0 to 4294967295"))?,
        };
        if nth == 0 {
            return Ok(None);
        }
        let at = var(AT).unwrap_or_default();
        let at = at.trim();
        let (name, which) = match at.split_once(':') {
            Some((n, k)) => {
                let k = k
                    .parse::<u32>()
                    .ok()
                    .filter(|&k| k > 0)
                    .ok_or_else(|| bad(AT, at, "the request's number counts from 1"))?;
                (n, Some(k))
            }
            None => (at, None),
        };
        let name = if name.is_empty() { "commit" } else { name };
        let &(request, cmd) = REQUESTS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = REQUESTS.iter().map(|r| r.0).collect();
            bad(AT, at, &format!("expected {}[:K]", names.join("|")))
        })?;
        let report = match var(REPORT).as_deref().map(str::trim) {
            None | Some("") | Some("0") => false,
            Some("1") => true,
            Some(v) => return Err(bad(REPORT, v, "expected 0 or 1")),
        };
        Ok(Some(Plan {
            nth,
            request,
            cmd,
            which,
            report,
        }))
    }

    /// The plan of rfctl's environment.
    pub fn from_env() -> Result<Option<Plan>, Error> {
        Plan::parse(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }
}

/// A thread's fail-nth file.
pub trait FailNth {
    /// Write `n`: the n-th injection point from now fails; 0 disarms.
    fn write(&mut self, n: u32) -> io::Result<()>;
    /// Read it: 0 once the fault was injected (or when never armed),
    /// else how many points are left before it.
    fn read(&mut self) -> io::Result<u32>;
}

/// `/proc/thread-self/fail-nth`, opened before anything is armed (the
/// open allocates, and must not count).
pub struct ProcFailNth(File);

impl ProcFailNth {
    /// Open the file of the calling thread.
    pub fn open() -> Result<Self, Error> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(PATH)
            .map(ProcFailNth)
            .map_err(|err| Error::Io {
                what: "RFCTL_FAIL_NTH: cannot open /proc/thread-self/fail-nth \
                       (a kernel with CONFIG_FAULT_INJECTION has it)",
                err,
            })
    }
}

impl FailNth for ProcFailNth {
    fn write(&mut self, n: u32) -> io::Result<()> {
        let text = n.to_string();
        let written = self.0.write_at(text.as_bytes(), 0)?;
        if written == text.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("wrote {written} of {} bytes", text.len()),
            ))
        }
    }

    fn read(&mut self) -> io::Result<u32> {
        let mut buf = [0u8; 16];
        let n = self.0.read_at(&mut buf, 0)?;
        let text = std::str::from_utf8(&buf[..n]).unwrap_or("");
        text.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a number: {text:?}"),
            )
        })
    }
}

/// What became of one armed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The value written.
    pub nth: u32,
    /// The request's name.
    pub request: &'static str,
    /// Which one of its kind in this run (from 1).
    pub index: u32,
    /// fail-nth read back: 0 if the fault was injected.
    pub left: u32,
}

impl Report {
    /// Whether the fault was injected (some injection point failed).
    pub fn injected(&self) -> bool {
        self.left == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fail-nth {} at {} {}: ",
            self.nth, self.request, self.index
        )?;
        if self.injected() {
            f.write_str("fault injected")
        } else {
            write!(
                f,
                "no fault injected ({} injection points passed)",
                self.nth.saturating_sub(self.left)
            )
        }
    }
}

/// Arms fail-nth before the planned requests and reads it back after.
pub struct Injector {
    plan: Plan,
    file: Box<dyn FailNth>,
    /// Requests of the planned kind seen so far.
    seen: u32,
    /// The index of the request armed now, between `before` and `after`.
    armed: Option<u32>,
    /// Every report of the run, in order.
    pub reports: Vec<Report>,
}

impl Injector {
    /// An injector for `plan` writing to `file`.
    pub fn new(plan: Plan, file: Box<dyn FailNth>) -> Self {
        Injector {
            plan,
            file,
            seen: 0,
            armed: None,
            reports: Vec::new(),
        }
    }

    /// The injector `RFCTL_FAIL_NTH` asks for, if it does.
    pub fn from_env() -> Result<Option<Self>, Error> {
        match Plan::from_env()? {
            Some(plan) => Ok(Some(Injector::new(plan, Box::new(ProcFailNth::open()?)))),
            None => Ok(None),
        }
    }

    /// Called right before request `cmd` of the rustfilter family is
    /// sent: arms fail-nth if it is a planned one.
    pub fn before(&mut self, cmd: u8) -> Result<(), Error> {
        self.armed = None;
        if cmd != self.plan.cmd {
            return Ok(());
        }
        self.seen = self.seen.saturating_add(1);
        if self.plan.which.is_some_and(|k| k != self.seen) {
            return Ok(());
        }
        self.file.write(self.plan.nth).map_err(|err| Error::Io {
            what: "RFCTL_FAIL_NTH: cannot write /proc/thread-self/fail-nth",
            err,
        })?;
        self.armed = Some(self.seen);
        Ok(())
    }

    /// Called once the request's answer (or error) is in: reads fail-nth
    /// back and disarms it.
    pub fn after(&mut self) -> Result<(), Error> {
        let Some(index) = self.armed.take() else {
            return Ok(());
        };
        let what = "RFCTL_FAIL_NTH: cannot read back /proc/thread-self/fail-nth";
        let left = self.file.read().map_err(|err| Error::Io { what, err });
        // Disarm whatever the read said: nothing after the request fails.
        let reset = self.file.write(0).map_err(|err| Error::Io { what, err });
        let left = left?;
        reset?;
        let report = Report {
            nth: self.plan.nth,
            request: self.plan.request,
            index,
            left,
        };
        if self.plan.report {
            eprintln!("rfctl: {report}");
        }
        self.reports.push(report);
        Ok(())
    }
}

#[cfg(test)]
pub mod testutil {
    //! A fail-nth file in memory.

    use std::cell::RefCell;
    use std::io;
    use std::rc::Rc;

    /// What was written, and what reads return.
    #[derive(Default)]
    pub struct State {
        /// Every value written, in order.
        pub written: Vec<u32>,
        /// What the next reads return, in order (then 0).
        pub reads: Vec<u32>,
        /// Make writes fail.
        pub broken: bool,
    }

    /// A [`super::FailNth`] sharing its [`State`] with the test.
    pub struct Fake(pub Rc<RefCell<State>>);

    impl super::FailNth for Fake {
        fn write(&mut self, n: u32) -> io::Result<()> {
            let mut s = self.0.borrow_mut();
            if s.broken {
                return Err(io::Error::from_raw_os_error(13));
            }
            s.written.push(n);
            Ok(())
        }

        fn read(&mut self) -> io::Result<u32> {
            let mut s = self.0.borrow_mut();
            Ok(if s.reads.is_empty() {
                0
            } else {
                s.reads.remove(0)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn plan(vars: &[(&str, &str)]) -> Result<Option<Plan>, Error> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Plan::parse(|k| m.get(k).cloned())
    }

    #[test]
    fn unset_empty_or_zero_is_off() {
        assert_eq!(plan(&[]).unwrap(), None);
        assert_eq!(plan(&[(NTH, "")]).unwrap(), None);
        assert_eq!(plan(&[(NTH, "0"), (AT, "chunk")]).unwrap(), None);
    }

    #[test]
    fn every_commit_by_default() {
        assert_eq!(
            plan(&[(NTH, "7")]).unwrap(),
            Some(Plan {
                nth: 7,
                request: "commit",
                cmd: proto::CMD_TABLE_COMMIT,
                which: None,
                report: false,
            })
        );
    }

    #[test]
    fn request_index_and_report() {
        let p = plan(&[(NTH, "3"), (AT, "chunk:2"), (REPORT, "1")])
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.request, p.cmd, p.which, p.report),
            ("chunk", proto::CMD_TABLE_CHUNK, Some(2), true)
        );
        let p = plan(&[(NTH, "1"), (AT, "set")]).unwrap().unwrap();
        assert_eq!((p.cmd, p.which), (proto::CMD_CT_SET, None));
    }

    #[test]
    fn bad_values_are_refused() {
        for (vars, msg) in [
            (
                vec![(NTH, "x")],
                "RFCTL_FAIL_NTH=x: expected a number of 0 to 4294967295",
            ),
            (
                vec![(NTH, "-1")],
                "RFCTL_FAIL_NTH=-1: expected a number of 0 to 4294967295",
            ),
            (
                vec![(NTH, "1"), (AT, "commit:0")],
                "RFCTL_FAIL_NTH_AT=commit:0: the request's number counts from 1",
            ),
            (
                vec![(NTH, "1"), (AT, "list")],
                "RFCTL_FAIL_NTH_AT=list: expected \
                 begin|chunk|commit|abort|get|zero|set|flush|delete[:K]",
            ),
            (
                vec![(NTH, "1"), (REPORT, "yes")],
                "RFCTL_FAIL_NTH_REPORT=yes: expected 0 or 1",
            ),
        ] {
            assert_eq!(plan(&vars).unwrap_err().to_string(), msg);
        }
    }

    #[test]
    fn report_lines() {
        let r = Report {
            nth: 5,
            request: "commit",
            index: 2,
            left: 0,
        };
        assert!(r.injected());
        assert_eq!(r.to_string(), "fail-nth 5 at commit 2: fault injected");
        let r = Report { left: 2, ..r };
        assert!(!r.injected());
        assert_eq!(
            r.to_string(),
            "fail-nth 5 at commit 2: no fault injected (3 injection points passed)"
        );
    }

    // --- Around the requests of a scripted kernel --------------------

    use super::testutil::{Fake, State};
    use crate::netlink::testutil::*;
    use crate::netlink::Client;
    use crate::restore::{self, RestoreOpts};
    use crate::txn::Netlink;
    use std::cell::RefCell;
    use std::rc::Rc;

    const FAMILY: u16 = 0x2a;

    fn family_reply(req: &[u8]) -> Vec<Vec<u8>> {
        rustfilter_family(req, FAMILY)
    }

    fn gen_reply(g: u32) -> Answer {
        Box::new(move |req| {
            vec![
                genlmsg(
                    FAMILY,
                    seq_of(req),
                    req[16],
                    &[attr(proto::A_GENERATION, &g.to_ne_bytes())],
                ),
                ack(req),
            ]
        })
    }

    fn ok() -> Answer {
        Box::new(|req| vec![ack(req)])
    }

    /// Two tables: BEGIN, CHUNK, COMMIT each.
    const TWO_TABLES: &str = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n\
        :FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n\
        *filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";

    /// A restore of [`TWO_TABLES`] with fail-nth planned by `vars`, the
    /// second commit answered by `second`; the result, the fake file and
    /// the client.
    fn restore_two(
        vars: &[(&str, &str)],
        reads: Vec<u32>,
        broken: bool,
        second: Answer,
    ) -> (Result<(), Error>, Rc<RefCell<State>>, Netlink<Script>) {
        let state = Rc::new(RefCell::new(State {
            reads,
            broken,
            ..State::default()
        }));
        let injector = Injector::new(
            plan(vars).unwrap().unwrap(),
            Box::new(Fake(Rc::clone(&state))),
        );
        let answers: Vec<Answer> = vec![
            Box::new(family_reply),
            gen_reply(1),
            ok(),
            gen_reply(2),
            gen_reply(4),
            ok(),
            second,
        ];
        let client = Client::new(Script::new(answers)).with_fail_nth(injector);
        let mut k = Netlink::new(client).unwrap();
        let r = restore::restore(&mut k, &RestoreOpts::default(), TWO_TABLES);
        (r, state, k)
    }

    fn reports(k: &Netlink<Script>) -> Vec<Report> {
        k.client().fail_nth().unwrap().reports.clone()
    }

    #[test]
    fn only_the_planned_request_is_armed_and_disarmed_after() {
        let (r, state, k) = restore_two(
            &[(NTH, "9"), (AT, "commit:2")],
            vec![4],
            false,
            gen_reply(5),
        );
        r.unwrap();
        assert_eq!(state.borrow().written, [9, 0]);
        assert_eq!(
            reports(&k),
            [Report {
                nth: 9,
                request: "commit",
                index: 2,
                left: 4
            }]
        );
    }

    #[test]
    fn every_commit_when_no_index_is_given() {
        let (r, state, k) = restore_two(&[(NTH, "3")], vec![0, 2], false, gen_reply(5));
        r.unwrap();
        assert_eq!(state.borrow().written, [3, 0, 3, 0]);
        let r = reports(&k);
        assert_eq!((r[0].index, r[0].injected()), (1, true));
        assert_eq!((r[1].index, r[1].injected()), (2, false));
    }

    #[test]
    fn nlctrl_requests_are_never_armed() {
        // CTRL_CMD_GETFAMILY is 3, as RUSTFILTER_CMD_TABLE_BEGIN.
        let (r, state, k) = restore_two(&[(NTH, "2"), (AT, "begin")], vec![], false, gen_reply(5));
        r.unwrap();
        assert_eq!(state.borrow().written, [2, 0, 2, 0]);
        assert_eq!(
            k.client()
                .transport()
                .sent
                .iter()
                .filter(|m| m[16] == 3)
                .count(),
            3
        );
        assert_eq!(reports(&k).len(), 2);
    }

    #[test]
    fn a_refused_request_is_disarmed_and_its_error_kept() {
        let enomem: Answer = Box::new(|req| vec![error(req, 12, None)]);
        let (r, state, k) = restore_two(&[(NTH, "1"), (AT, "commit:2")], vec![0], false, enomem);
        assert_eq!(r.unwrap_err().to_string(), "Cannot allocate memory");
        assert_eq!(state.borrow().written, [1, 0]);
        assert!(reports(&k)[0].injected());
    }

    #[test]
    fn a_file_that_cannot_be_written_stops_before_the_request() {
        let (r, _, k) = restore_two(&[(NTH, "1"), (AT, "commit:2")], vec![], true, ok());
        assert_eq!(
            r.unwrap_err().to_string(),
            "RFCTL_FAIL_NTH: cannot write /proc/thread-self/fail-nth: Permission denied"
        );
        // The second commit was never sent.
        let cmds: Vec<u8> = k.client().transport().sent.iter().map(|m| m[16]).collect();
        assert_eq!(cmds, [3, 3, 4, 5, 3, 4]);
    }

    #[test]
    fn a_dump_is_disarmed_after_its_end() {
        let state = Rc::new(RefCell::new(State {
            reads: vec![0, 3],
            ..State::default()
        }));
        let injector = Injector::new(
            plan(&[(NTH, "6"), (AT, "get")]).unwrap().unwrap(),
            Box::new(Fake(Rc::clone(&state))),
        );
        // A plain GET refused, then the same as a dump in two parts.
        let eopnotsupp: Answer = Box::new(|req| vec![error(req, 95, None)]);
        let dump: Answer = Box::new(|req| {
            let t = crate::model::TableSpec::empty(rfcore::rules::table::TableKind::Filter);
            let bytes = crate::wire::encode_chunks(&t, 1024).unwrap().concat();
            vec![
                genlmsg(FAMILY, seq_of(req), proto::CMD_TABLE_GET, &[bytes]),
                nlmsg(3, 0x2, seq_of(req), &0i32.to_ne_bytes()), // NLMSG_DONE
            ]
        });
        let client = Client::new(Script::new(vec![Box::new(family_reply), eopnotsupp, dump]))
            .with_fail_nth(injector);
        let mut k = Netlink::new(client).unwrap();
        let out = crate::rulecmd::run(
            &mut k,
            &crate::parse::parse_command(&["-S".to_string()], None).unwrap(),
        )
        .unwrap();
        assert!(out.starts_with("-P INPUT ACCEPT\n"));
        assert_eq!(state.borrow().written, [6, 0, 6, 0]);
        let r = reports(&k);
        assert_eq!((r[0].index, r[0].injected()), (1, true));
        assert_eq!((r[1].index, r[1].left), (2, 3));
    }

    /// The file of this thread, on a kernel that has it: 0 disarms and
    /// reads back as 0.
    #[test]
    fn live_proc_file() {
        if !std::path::Path::new(PATH).exists() {
            return;
        }
        let Ok(mut f) = ProcFailNth::open() else {
            return; // not ours to write (no permission)
        };
        f.write(0).unwrap();
        assert_eq!(f.read().unwrap(), 0);
    }
}
