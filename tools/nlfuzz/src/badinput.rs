// SPDX-License-Identifier: GPL-2.0

//! `nlfuzz badinput`: a fixed list of malformed requests, each with the
//! answer the kernel must give.
//!
//! The expectations come from the code that answers:
//!
//! - `netlink_rcv_skb` (net/netlink/af_netlink.c): a message whose
//!   `nlmsg_len` is below 16 or beyond the datagram ends the datagram
//!   without any answer; a message without `NLM_F_REQUEST`, or of a
//!   control type, is only acknowledged;
//! - `genl_rcv_msg` and `genl_family_rcv_msg` (net/netlink/genetlink.c):
//!   unknown family `ENOENT`; no room for the generic netlink header
//!   `EINVAL`; `reserved` not 0 or flags other than request, ack, echo and
//!   dump `EINVAL`; unknown command, or a dump of a command without one,
//!   `EOPNOTSUPP`;
//! - strict attribute validation against the policy
//!   (`__nla_validate_parse` and `validate_nla` in lib/nlattr.c, policies
//!   in rust/rustfilter/netlink.rs): unknown type, leftover bytes, wrong
//!   size of a fixed-size type, `NLA_F_NESTED` missing or unexpected:
//!   `EINVAL`; a flag with a payload, a string too long after its NUL or
//!   a nest shorter than a header: `ERANGE`;
//! - the module's handlers (rust/rustfilter/netlink.rs): table missing
//!   `EINVAL`, unknown `ENOENT`, no transaction `ENOENT`, generation
//!   mismatch `EAGAIN`, a ruleset the core refuses `EINVAL` with the
//!   core's message (rust/rfcore/src/rules/error.rs), cut at 79 bytes;
//! - `Documentation/protocol.rst`: "an attribute the command does not
//!   take ... [is] refused with EINVAL".
//!
//! Every transaction that is expected to fail is sent without
//! `RUSTFILTER_A_TEST`, so that a kernel wrongly accepting one changes the
//! table and the selftest sees it; the commits expected to succeed all
//! carry `RUSTFILTER_A_TEST`: a clean run changes nothing.

use libc::{EAGAIN, EINVAL, EMSGSIZE, ENOENT, EOPNOTSUPP, ERANGE};
use rfcore::nla::NLA_F_NESTED;
use rfcore::proto;
use rfcore::rules::TableKind;

use crate::socket::{outcome_of, Client, Outcome};
use crate::tables;
use crate::wire::{self, attr, attr_with_len, flag_attr, str_attr, u32_attr, Reply};

/// Size of the oversized requests.
const ONE_MIB: usize = 1 << 20;

/// The answer a case must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// An acknowledgement (errno 0), possibly after replies.
    Ack,
    /// This errno; the extended ack message must contain the text (when
    /// it is not empty).
    Err(i32, &'static str),
    /// No answer at all.
    Silent,
    /// `sendmsg` refuses the datagram with this errno.
    SendError(i32),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Ack => f.write_str("ack 0"),
            Expect::Err(e, "") => f.write_str(&wire::errno_name(*e)),
            Expect::Err(e, m) => write!(f, "{} \"...{m}...\"", wire::errno_name(*e)),
            Expect::Silent => f.write_str("no reply"),
            Expect::SendError(e) => write!(f, "sendmsg {}", wire::errno_name(*e)),
        }
    }
}

/// Whether `got` is what `want` says.
pub fn matches(want: &Expect, got: &Outcome) -> bool {
    match (want, got) {
        (Expect::Ack, Outcome::Ack { errno: 0, .. }) => true,
        (Expect::Err(e, text), Outcome::Ack { errno, msg, .. }) => {
            errno == e && (text.is_empty() || msg.as_deref().is_some_and(|m| m.contains(text)))
        }
        (Expect::Silent, Outcome::Silent) => true,
        (Expect::SendError(e), Outcome::SendError(g)) => e == g,
        _ => false,
    }
}

/// Runs the cases and counts the results.
pub struct Runner {
    c: Client,
    family: u16,
    passed: usize,
    failed: usize,
    verbose: bool,
}

/// The `RUSTFILTER_A_TABLE` attribute naming `kind`.
fn table_attr(kind: TableKind) -> Vec<u8> {
    str_attr(proto::A_TABLE, kind.name())
}

/// `RUSTFILTER_A_GENERATION` in a reply.
fn generation_of(replies: &[Reply]) -> Option<u32> {
    replies.iter().find_map(|r| match r {
        Reply::Data { payload, .. } => wire::genl_attrs(payload)
            .into_iter()
            .find(|(t, _)| *t == proto::A_GENERATION)
            .and_then(|(_, p)| p.try_into().ok().map(u32::from_ne_bytes)),
        _ => None,
    })
}

impl Runner {
    /// A runner on a new socket.
    pub fn new(verbose: bool) -> Result<Runner, String> {
        let c = Client::open()?;
        let family = c.family;
        Ok(Runner {
            c,
            family,
            passed: 0,
            failed: 0,
            verbose,
        })
    }

    /// A request for `cmd` with `attrs`.
    fn req(&self, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        wire::genl_request(self.family, cmd, attrs)
    }

    fn begin(&self, kind: TableKind, generation: Option<u32>) -> Vec<u8> {
        let mut a = table_attr(kind);
        if let Some(g) = generation {
            a.extend(u32_attr(proto::A_GENERATION, g));
        }
        self.req(proto::CMD_TABLE_BEGIN, &a)
    }

    fn chunk(&self, blob: &[u8]) -> Vec<u8> {
        self.req(proto::CMD_TABLE_CHUNK, blob)
    }

    fn commit(&self, test: bool) -> Vec<u8> {
        let a = if test {
            flag_attr(proto::A_TEST)
        } else {
            Vec::new()
        };
        self.req(proto::CMD_TABLE_COMMIT, &a)
    }

    fn abort(&mut self) {
        let m = self.req(proto::CMD_TABLE_ABORT, &[]);
        let _ = self.c.exchange(&m);
    }

    /// Record one case.
    fn report(&mut self, name: &str, want: &Expect, got: Result<Outcome, String>) {
        match got {
            Ok(got) if matches(want, &got) => {
                self.passed += 1;
                if self.verbose {
                    println!("ok {name} ({got})");
                } else {
                    println!("ok {name}");
                }
            }
            Ok(got) => {
                self.failed += 1;
                println!("FAIL {name}: expected {want}, got {got}");
            }
            Err(setup) => {
                self.failed += 1;
                println!("FAIL {name}: expected {want}, got a failed setup step: {setup}");
            }
        }
    }

    /// One request, one expectation.
    fn single(&mut self, name: &str, msg: &[u8], want: Expect) {
        let got = self.c.outcome(msg);
        self.report(name, &want, Ok(got));
    }

    /// A setup step that must be acknowledged with 0; returns its replies.
    fn step(&mut self, what: &str, msg: &[u8]) -> Result<Vec<Reply>, String> {
        match self.c.exchange(msg) {
            Ok(r) => match outcome_of(&r) {
                Outcome::Ack { errno: 0, .. } => Ok(r),
                other => Err(format!("{what}: {other}")),
            },
            Err(o) => Err(format!("{what}: {o}")),
        }
    }

    /// A case of several requests: `f` does the setup (failing with a
    /// description) and returns the outcome of the request that counts.
    /// The socket's transaction is aborted before and after.
    fn sequence(
        &mut self,
        name: &str,
        want: Expect,
        f: impl FnOnce(&mut Self) -> Result<Outcome, String>,
    ) {
        self.abort();
        let got = f(self);
        self.abort();
        self.report(name, &want, got);
    }

    /// Run every case; returns (passed, failed).
    pub fn run(mut self) -> (usize, usize) {
        self.framing();
        self.attributes();
        self.undocumented_attributes();
        self.transactions();
        self.rulesets();
        self.carry();
        self.oversized();
        self.many_transactions();
        (self.passed, self.failed)
    }

    // -----------------------------------------------------------------
    // netlink and generic netlink headers.

    fn framing(&mut self) {
        let f = self.family;
        let stats = self.req(proto::CMD_GET_STATS, &[]);
        let ra = wire::NLM_F_REQUEST | wire::NLM_F_ACK;

        self.single("control-get-stats", &stats, Expect::Ack);
        self.single(
            "genl-header-missing",
            &wire::nlmsg(f, ra, 0, &[]),
            Expect::Err(EINVAL, ""),
        );
        // nlmsg_len 18: two of the four bytes of the genl header.
        self.single(
            "genl-header-truncated",
            &wire::nlmsg(f, ra, 0, &[proto::CMD_GET_STATS, 1]),
            Expect::Err(EINVAL, ""),
        );
        for (name, len) in [
            ("nlmsg-len-beyond-datagram", 64u32),
            ("nlmsg-len-below-header", 8),
            ("nlmsg-len-4GiB", u32::MAX),
        ] {
            let mut m = stats.clone();
            wire::set_nlmsg_len(&mut m, len);
            self.single(name, &m, Expect::Silent);
        }
        self.single(
            "datagram-shorter-than-nlmsghdr",
            &stats[..12],
            Expect::Silent,
        );
        // netlink_sendmsg refuses an empty datagram itself.
        self.single("empty-datagram", &[], Expect::SendError(libc::ENODATA));
        let mut m = stats.clone();
        wire::set_genl_reserved(&mut m, 1);
        self.single(
            "genl-reserved-nonzero",
            &m,
            Expect::Err(EINVAL, "genlmsghdr.reserved field is not 0"),
        );
        let mut m = stats.clone();
        wire::set_nlmsg_flags(&mut m, ra | wire::NLM_F_ROOT);
        self.single(
            "nlmsg-flags-reserved",
            &m,
            Expect::Err(EINVAL, "ambiguous or reserved bits set in nlmsg_flags"),
        );
        let mut m = stats.clone();
        wire::set_nlmsg_flags(&mut m, ra | wire::NLM_F_DUMP);
        self.single("stats-as-dump", &m, Expect::Err(EOPNOTSUPP, ""));
        let mut m = self.req(proto::CMD_TABLE_GET, &table_attr(TableKind::Filter));
        wire::set_nlmsg_flags(&mut m, ra | wire::NLM_F_DUMP);
        self.single("table-get-as-dump", &m, Expect::Err(EOPNOTSUPP, ""));
        for cmd in [0u8, proto::CMD_MAX + 1, 0x7f, 0xff] {
            let m = self.req(cmd, &[]);
            self.single(
                &format!("unknown-command-{cmd}"),
                &m,
                Expect::Err(EOPNOTSUPP, ""),
            );
        }
        // Not a request: only acknowledged, ZERO_STATS is not run.
        let mut m = self.req(proto::CMD_ZERO_STATS, &[]);
        wire::set_nlmsg_flags(&mut m, wire::NLM_F_ACK);
        self.single("not-a-request", &m, Expect::Ack);
        let m = wire::nlmsg(wire::NLMSG_DONE, ra, 0, &[proto::CMD_ZERO_STATS, 1, 0, 0]);
        self.single("control-message-type", &m, Expect::Ack);
        let m = wire::genl_request(0xfff0, proto::CMD_GET_STATS, &[]);
        self.single("unknown-family", &m, Expect::Err(ENOENT, ""));
        let m = wire::genl_msg(f, ra, proto::CMD_GET_STATS, 0, &[]);
        self.single("any-version-accepted", &m, Expect::Ack);

        // Bytes after the message that cannot be a message: ignored.
        let mut m = stats.clone();
        m.extend_from_slice(&[0xff; 12]);
        self.single("trailing-bytes-after-message", &m, Expect::Ack);

        // Two requests in one datagram: both answered, in order.
        let mut second = self.req(proto::CMD_TABLE_BEGIN, &[]);
        wire::set_nlmsg_seq(&mut second, 0xdead);
        let two = [stats.clone(), second].concat();
        let got = match self.c.exchange(&two) {
            Ok(r) => {
                let acks: Vec<i32> = r
                    .iter()
                    .filter_map(|r| match r {
                        Reply::Ack { errno, .. } => Some(*errno),
                        _ => None,
                    })
                    .collect();
                if acks == [0, EINVAL] {
                    Ok(Outcome::Ack {
                        errno: EINVAL,
                        msg: None,
                        data: 0,
                    })
                } else {
                    Err(format!("acks {acks:?}, expected [0, {EINVAL}]"))
                }
            }
            Err(o) => Ok(o),
        };
        self.report("two-requests-one-datagram", &Expect::Err(EINVAL, ""), got);
    }

    // -----------------------------------------------------------------
    // Attributes against the policies.

    fn attributes(&mut self) {
        let begin = |r: &Self, a: &[Vec<u8>]| r.req(proto::CMD_TABLE_BEGIN, &a.concat());
        let filter = table_attr(TableKind::Filter);
        const LEFTOVER: &str = "bytes leftover after parsing attributes";
        const UNKNOWN: &str = "Unknown attribute type";
        const POLICY: &str = "Attribute failed policy validation";
        const LENGTH: &str = "invalid attribute length";

        let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
            (
                "attr-len-below-header",
                begin(
                    self,
                    &[filter.clone(), attr_with_len(2, proto::A_GENERATION, &[])],
                ),
                Expect::Err(EINVAL, LEFTOVER),
            ),
            (
                "attr-len-beyond-message",
                begin(self, &[attr_with_len(200, proto::A_TABLE, b"filter\0\0")]),
                Expect::Err(EINVAL, LEFTOVER),
            ),
            (
                "attr-trailing-bytes",
                {
                    let mut m = begin(self, std::slice::from_ref(&filter));
                    m.extend_from_slice(&[1, 2, 3]);
                    wire::fix_nlmsg_len(&mut m);
                    m
                },
                Expect::Err(EINVAL, LEFTOVER),
            ),
            (
                "attr-type-zero",
                begin(self, &[attr(0, &[1, 2, 3, 4]), filter.clone()]),
                Expect::Err(EINVAL, UNKNOWN),
            ),
            (
                "attr-type-above-max",
                begin(self, &[filter.clone(), u32_attr(proto::A_MAX + 1, 0)]),
                Expect::Err(EINVAL, UNKNOWN),
            ),
            (
                "attr-type-max-u16",
                begin(self, &[filter.clone(), attr(0x3fff, &[])]),
                Expect::Err(EINVAL, UNKNOWN),
            ),
            (
                "attr-pad-rejected",
                begin(self, &[filter.clone(), u32_attr(proto::A_PAD, 0)]),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "attr-hook-stats-rejected",
                self.req(proto::CMD_GET_STATS, &attr(proto::A_HOOK_STATS, &[])),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "table-name-without-nul",
                begin(self, &[attr(proto::A_TABLE, b"filter")]),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "table-name-empty",
                begin(self, &[attr(proto::A_TABLE, b"")]),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "table-name-too-long",
                begin(self, &[str_attr(proto::A_TABLE, "filterfilterfilt")]),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "table-name-nul-then-junk",
                begin(self, &[attr(proto::A_TABLE, b"filter\0junkjunkjunkjunk")]),
                Expect::Err(ERANGE, POLICY),
            ),
            (
                "generation-short",
                begin(self, &[filter.clone(), attr(proto::A_GENERATION, &[1, 2])]),
                Expect::Err(EINVAL, LENGTH),
            ),
            (
                "generation-long",
                begin(self, &[filter.clone(), attr(proto::A_GENERATION, &[0; 8])]),
                Expect::Err(EINVAL, LENGTH),
            ),
            (
                "generation-nested-flag",
                begin(
                    self,
                    &[
                        filter.clone(),
                        u32_attr(proto::A_GENERATION | NLA_F_NESTED, 0),
                    ],
                ),
                Expect::Err(EINVAL, "NLA_F_NESTED not expected"),
            ),
            (
                "test-flag-with-payload",
                self.req(proto::CMD_TABLE_COMMIT, &attr(proto::A_TEST, &[0; 4])),
                Expect::Err(ERANGE, POLICY),
            ),
            (
                "zero-flag-with-payload",
                self.req(
                    proto::CMD_TABLE_GET,
                    &[filter.clone(), attr(proto::A_ZERO, &[1])].concat(),
                ),
                Expect::Err(ERANGE, POLICY),
            ),
            (
                "chunk-chain-without-nested-flag",
                self.chunk(
                    &[
                        str_attr(proto::TABLE_NAME, "filter"),
                        attr(proto::TABLE_CHAIN, &str_attr(proto::CHAIN_NAME, "INPUT")),
                    ]
                    .concat(),
                ),
                Expect::Err(EINVAL, "NLA_F_NESTED is missing"),
            ),
            (
                "chunk-chain-shorter-than-header",
                self.chunk(&attr_with_len(
                    6,
                    proto::TABLE_CHAIN | NLA_F_NESTED,
                    &[0, 0],
                )),
                Expect::Err(ERANGE, POLICY),
            ),
            (
                "chunk-attr-type-above-max",
                self.chunk(
                    &[
                        str_attr(proto::TABLE_NAME, "filter"),
                        u32_attr(proto::TABLE_MAX + 1, 0),
                    ]
                    .concat(),
                ),
                Expect::Err(EINVAL, UNKNOWN),
            ),
            (
                "chunk-table-name-too-long",
                self.chunk(&str_attr(proto::TABLE_NAME, "filterfilterfilt")),
                Expect::Err(EINVAL, POLICY),
            ),
            (
                "chunk-nest-overruns-message",
                self.chunk(&attr_with_len(
                    100,
                    proto::TABLE_CHAIN | NLA_F_NESTED,
                    &[0; 8],
                )),
                Expect::Err(EINVAL, LEFTOVER),
            ),
        ];
        for (name, msg, want) in cases {
            self.sequence(name, want, |r| Ok(r.c.outcome(&msg)));
        }
    }

    /// Attributes of the family's policy sent to a command that does not
    /// take them. Documentation/protocol.rst says they are refused with
    /// EINVAL; every command but TABLE_CHUNK shares one policy, so the
    /// module takes them and ignores them. (ZERO_STATS is left out: if it
    /// were accepted it would zero the counters the selftest compares.)
    fn undocumented_attributes(&mut self) {
        let filter = table_attr(TableKind::Filter);
        let stats = self.req(proto::CMD_GET_STATS, &filter);
        self.single("stats-with-table-attr", &stats, Expect::Err(EINVAL, ""));
        let get = self.req(
            proto::CMD_TABLE_GET,
            &[filter.clone(), u32_attr(proto::A_GENERATION, 0)].concat(),
        );
        self.single("get-with-generation-attr", &get, Expect::Err(EINVAL, ""));
        let abort = self.req(proto::CMD_TABLE_ABORT, &filter);
        self.single("abort-with-table-attr", &abort, Expect::Err(EINVAL, ""));
        let begin = self.req(
            proto::CMD_TABLE_BEGIN,
            &[filter.clone(), flag_attr(proto::A_ZERO)].concat(),
        );
        self.sequence("begin-with-zero-flag", Expect::Err(EINVAL, ""), |r| {
            Ok(r.c.outcome(&begin))
        });
        // A test commit naming another table: must not pass as a test of it.
        let valid = tables::valid_filter();
        self.sequence("commit-with-table-attr", Expect::Err(EINVAL, ""), |r| {
            r.step("BEGIN filter", &r.begin(TableKind::Filter, None))?;
            r.step("CHUNK", &r.chunk(&valid))?;
            let m = r.req(
                proto::CMD_TABLE_COMMIT,
                &[flag_attr(proto::A_TEST), table_attr(TableKind::Mangle)].concat(),
            );
            Ok(r.c.outcome(&m))
        });
    }

    // -----------------------------------------------------------------
    // Transactions.

    fn transactions(&mut self) {
        let valid = tables::valid_filter();
        const NO_TXN: &str = "rustfilter: no transaction open (TABLE_BEGIN first)";

        let chunk = self.chunk(&valid);
        self.sequence("chunk-without-begin", Expect::Err(ENOENT, NO_TXN), |r| {
            Ok(r.c.outcome(&chunk))
        });
        let commit = self.commit(false);
        self.sequence("commit-without-begin", Expect::Err(ENOENT, NO_TXN), |r| {
            Ok(r.c.outcome(&commit))
        });
        let abort = self.req(proto::CMD_TABLE_ABORT, &[]);
        self.sequence("abort-without-begin", Expect::Ack, |r| {
            Ok(r.c.outcome(&abort))
        });
        self.sequence("chunk-after-abort", Expect::Err(ENOENT, NO_TXN), |r| {
            r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
            r.step("ABORT", &abort)?;
            Ok(r.c.outcome(&chunk))
        });
        self.sequence(
            "commit-after-failed-commit",
            Expect::Err(ENOENT, NO_TXN),
            |r| {
                r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
                r.step(
                    "CHUNK",
                    &r.chunk(&tables::filter_input(
                        &[tables::rule(&[tables::jump_to("NOWHERE")])],
                        &[],
                    )),
                )?;
                match r.c.outcome(&r.commit(false)) {
                    Outcome::Ack { errno: EINVAL, .. } => {}
                    other => return Err(format!("first COMMIT: {other}, expected EINVAL")),
                }
                Ok(r.c.outcome(&r.commit(true)))
            },
        );
        let m = self.req(proto::CMD_TABLE_BEGIN, &[]);
        self.single(
            "begin-without-table",
            &m,
            Expect::Err(EINVAL, "rustfilter: RUSTFILTER_A_TABLE is required"),
        );
        for (name, table, msg) in [
            (
                "begin-unknown-table",
                &b"security\0"[..],
                "rustfilter: no such table",
            ),
            (
                "begin-table-not-utf8",
                &[0xff, 0xfe, 0][..],
                "rustfilter: no such table",
            ),
        ] {
            let m = self.req(proto::CMD_TABLE_BEGIN, &attr(proto::A_TABLE, table));
            self.sequence(name, Expect::Err(ENOENT, msg), |r| Ok(r.c.outcome(&m)));
        }
        let m = self.req(proto::CMD_TABLE_GET, &[]);
        self.single(
            "get-without-table",
            &m,
            Expect::Err(EINVAL, "rustfilter: RUSTFILTER_A_TABLE is required"),
        );
        let m = self.req(proto::CMD_TABLE_GET, &str_attr(proto::A_TABLE, "broute"));
        self.single(
            "get-unknown-table",
            &m,
            Expect::Err(ENOENT, "rustfilter: no such table"),
        );

        // The controls: a valid table of each kind passes a test commit,
        // which reports the unchanged generation.
        for kind in [
            TableKind::Filter,
            TableKind::Mangle,
            TableKind::Raw,
            TableKind::Nat,
        ] {
            let blob = tables::valid(kind);
            self.sequence(
                &format!("control-test-commit-{}", kind.name()),
                Expect::Ack,
                |r| {
                    let g = generation_of(&r.step("BEGIN", &r.begin(kind, None))?);
                    r.step("CHUNK", &r.chunk(&blob))?;
                    let replies = r.c.exchange(&r.commit(true)).map_err(|o| o.to_string())?;
                    let g2 = generation_of(&replies);
                    if g.is_none() || g != g2 {
                        return Err(format!(
                            "generation {g:?} at BEGIN, {g2:?} after a test commit"
                        ));
                    }
                    Ok(outcome_of(&replies))
                },
            );
        }
        self.sequence(
            "commit-generation-mismatch",
            Expect::Err(
                EAGAIN,
                "rustfilter: the table changed since the transaction began",
            ),
            |r| {
                let g = generation_of(&r.step("BEGIN", &r.begin(TableKind::Filter, None))?)
                    .ok_or("BEGIN: no generation in the reply")?;
                r.step(
                    "BEGIN with generation",
                    &r.begin(TableKind::Filter, Some(g.wrapping_add(1))),
                )?;
                r.step("CHUNK", &r.chunk(&valid))?;
                Ok(r.c.outcome(&r.commit(false)))
            },
        );
        // A second BEGIN discards the first transaction's chunks.
        self.sequence("begin-discards-previous-chunks", Expect::Ack, |r| {
            r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
            r.step(
                "CHUNK (garbage)",
                &r.chunk(&str_attr(proto::TABLE_NAME, "garbage")),
            )?;
            r.step("BEGIN again", &r.begin(TableKind::Filter, None))?;
            r.step("CHUNK", &r.chunk(&valid))?;
            Ok(r.c.outcome(&r.commit(true)))
        });
        // A chunk refused by the policy appends nothing.
        self.sequence("refused-chunk-appends-nothing", Expect::Ack, |r| {
            r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
            r.step("CHUNK", &r.chunk(&valid))?;
            let bad = r.chunk(&[str_attr(proto::TABLE_NAME, "filter"), u32_attr(9, 0)].concat());
            match r.c.outcome(&bad) {
                Outcome::Ack { errno: EINVAL, .. } => {}
                other => return Err(format!("bad CHUNK: {other}, expected EINVAL")),
            }
            Ok(r.c.outcome(&r.commit(true)))
        });
    }

    /// Rulesets the decoder, the validator or the module refuses.
    fn rulesets(&mut self) {
        for b in tables::bad_rulesets() {
            self.sequence(b.name, Expect::Err(b.errno, b.msg), |r| {
                r.step("BEGIN", &r.begin(b.begin, None))?;
                for (i, c) in b.chunks.iter().enumerate() {
                    r.step(&format!("CHUNK {}", i + 1), &r.chunk(c))?;
                }
                Ok(r.c.outcome(&r.commit(false)))
            });
        }
    }

    /// `RUSTFILTER_A_CARRY` commits: only in a transaction bound to a
    /// generation, and every origin must name a rule or built-in chain of
    /// that generation (origins far beyond any table are used, so the
    /// cases hold whatever ruleset the namespace has).
    fn carry(&mut self) {
        let carry = |r: &Self, test: bool| {
            let mut a = flag_attr(proto::A_CARRY);
            if test {
                a.extend(flag_attr(proto::A_TEST));
            }
            r.req(proto::CMD_TABLE_COMMIT, &a)
        };
        // BEGIN bound to the current generation, CHUNK `blob`, then `commit`.
        let bound = |r: &mut Self, blob: &[u8], commit: Vec<u8>| -> Result<Outcome, String> {
            let g = generation_of(&r.step("BEGIN", &r.begin(TableKind::Filter, None))?)
                .ok_or("BEGIN: no generation in the reply")?;
            r.step("BEGIN bound", &r.begin(TableKind::Filter, Some(g)))?;
            r.step("CHUNK", &r.chunk(blob))?;
            Ok(r.c.outcome(&commit))
        };
        let plain = tables::filter_with_origins(None, None);
        self.sequence(
            "carry-without-generation",
            Expect::Err(
                EINVAL,
                "rustfilter: carrying counters needs a transaction bound to a generation",
            ),
            |r| {
                r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
                r.step("CHUNK", &r.chunk(&plain))?;
                Ok(r.c.outcome(&carry(r, false)))
            },
        );
        let beyond = tables::filter_with_origins(None, Some(0x7fff_ffff));
        self.sequence(
            "carry-rule-origin-beyond-generation",
            Expect::Err(EINVAL, "rustfilter: a rule origin is beyond the rules"),
            |r| bound(r, &beyond, carry(r, false)),
        );
        let chain = tables::filter_with_origins(Some(0xffff), None);
        self.sequence(
            "carry-chain-origin-not-builtin",
            Expect::Err(EINVAL, "rustfilter: a chain origin is not a built-in chain"),
            |r| bound(r, &chain, carry(r, false)),
        );
        self.sequence("control-test-commit-carry", Expect::Ack, |r| {
            bound(r, &plain, carry(r, true))
        });
        let m = self.req(proto::CMD_TABLE_COMMIT, &attr(proto::A_CARRY, &[1]));
        self.sequence(
            "carry-flag-with-payload",
            Expect::Err(ERANGE, "Attribute failed policy validation"),
            |r| Ok(r.c.outcome(&m)),
        );
    }

    /// 1 MiB requests: refused by sendmsg with the default send buffer;
    /// with a larger one, handled like any other.
    fn oversized(&mut self) {
        let big = tables::large_filter(ONE_MIB);
        let chunk = self.chunk(&big);
        // A socket of its own, with the default buffer.
        match Client::open() {
            Ok(mut other) => {
                let got = other.outcome(&chunk);
                self.report(
                    "oversized-default-sndbuf",
                    &Expect::SendError(EMSGSIZE),
                    Ok(got),
                );
            }
            Err(e) => self.report(
                "oversized-default-sndbuf",
                &Expect::SendError(EMSGSIZE),
                Err(e),
            ),
        }
        if let Err(e) = self.c.socket().force_sndbuf(4 * ONE_MIB) {
            let e = format!("SO_SNDBUFFORCE: {e}");
            self.report(
                "oversized-chunk-without-begin",
                &Expect::Ack,
                Err(e.clone()),
            );
            self.report("oversized-chunk-test-commit", &Expect::Ack, Err(e));
            return;
        }
        self.sequence(
            "oversized-chunk-without-begin",
            Expect::Err(ENOENT, "rustfilter: no transaction open"),
            |r| Ok(r.c.outcome(&chunk)),
        );
        self.sequence("oversized-chunk-test-commit", Expect::Ack, |r| {
            r.step("BEGIN", &r.begin(TableKind::Filter, None))?;
            r.step("CHUNK of 1 MiB", &chunk)?;
            Ok(r.c.outcome(&r.commit(true)))
        });
    }

    /// A namespace holds 16 transactions: the 17th evicts the oldest.
    fn many_transactions(&mut self) {
        let name = "seventeenth-transaction-evicts-oldest";
        let want = Expect::Err(ENOENT, "rustfilter: no transaction open");
        let mut clients = Vec::new();
        for i in 0..17 {
            match Client::open() {
                Ok(c) => clients.push(c),
                Err(e) => return self.report(name, &want, Err(format!("socket {i}: {e}"))),
            }
        }
        let begin = self.begin(TableKind::Filter, None);
        let chunk = self.chunk(&tables::valid_filter());
        let abort = self.req(proto::CMD_TABLE_ABORT, &[]);
        let mut setup = Ok(());
        for (i, c) in clients.iter_mut().enumerate() {
            if let o @ (Outcome::Ack { errno: 1.., .. } | Outcome::Broken(_) | Outcome::Silent) =
                c.outcome(&begin)
            {
                setup = Err(format!("BEGIN on socket {i}: {o}"));
                break;
            }
        }
        let got = setup.and_then(|()| {
            // The second socket's transaction is still there.
            match clients[1].outcome(&chunk) {
                Outcome::Ack { errno: 0, .. } => Ok(clients[0].outcome(&chunk)),
                other => Err(format!("CHUNK on socket 1: {other}")),
            }
        });
        for c in &mut clients {
            let _ = c.exchange(&abort);
        }
        self.report(name, &want, got);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(errno: i32, msg: Option<&str>) -> Outcome {
        Outcome::Ack {
            errno,
            msg: msg.map(str::to_string),
            data: 0,
        }
    }

    #[test]
    fn expectations_match_outcomes() {
        assert!(matches(&Expect::Ack, &ack(0, None)));
        assert!(!matches(&Expect::Ack, &ack(EINVAL, None)));
        assert!(matches(&Expect::Err(EINVAL, ""), &ack(EINVAL, None)));
        assert!(matches(
            &Expect::Err(EINVAL, "left"),
            &ack(EINVAL, Some("bytes leftover"))
        ));
        assert!(!matches(&Expect::Err(EINVAL, "left"), &ack(EINVAL, None)));
        assert!(!matches(
            &Expect::Err(EINVAL, "left"),
            &ack(ERANGE, Some("leftover"))
        ));
        assert!(matches(&Expect::Silent, &Outcome::Silent));
        assert!(!matches(&Expect::Silent, &ack(0, None)));
        assert!(matches(
            &Expect::SendError(EMSGSIZE),
            &Outcome::SendError(EMSGSIZE)
        ));
        assert!(!matches(&Expect::Ack, &Outcome::Broken("x".into())));
    }

    #[test]
    fn expectations_print() {
        assert_eq!(Expect::Err(EINVAL, "").to_string(), "EINVAL");
        assert_eq!(
            Expect::Err(ENOENT, "no such").to_string(),
            "ENOENT \"...no such...\""
        );
        assert_eq!(Expect::Silent.to_string(), "no reply");
        assert_eq!(Expect::SendError(EMSGSIZE).to_string(), "sendmsg EMSGSIZE");
    }

    #[test]
    fn generation_from_a_begin_reply() {
        let mut payload = vec![proto::CMD_TABLE_BEGIN, 1, 0, 0];
        payload.extend(str_attr(proto::A_TABLE, "filter"));
        payload.extend(u32_attr(proto::A_GENERATION, 7));
        let r = [Reply::Data {
            seq: 1,
            ty: 30,
            payload,
        }];
        assert_eq!(generation_of(&r), Some(7));
        assert_eq!(generation_of(&[]), None);
    }
}
