// SPDX-License-Identifier: GPL-2.0

//! The command line of `rfctl queue`.

use std::time::Duration;

use rfcore::nfqueue::consts::{
    nf_queue_nr, NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO, NFQA_CFG_F_UID_GID,
    NFQNL_COPY_META, NFQNL_COPY_NONE, NFQNL_COPY_PACKET, NF_ACCEPT, NF_DROP, NF_REPEAT, NF_STOP,
    NF_VERDICT_FLAG_QUEUE_BYPASS,
};

/// A command line problem, with the text to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage(pub String);

fn usage(msg: impl Into<String>) -> Usage {
    Usage(msg.into())
}

/// The verdict given to every packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `NF_ACCEPT`.
    Accept,
    /// `NF_DROP`.
    Drop,
    /// `NF_REPEAT`: the hook that queued the packet runs again.
    Repeat,
    /// `NF_STOP`: accepted, the hook point's later hooks skipped.
    Stop,
    /// `NF_QUEUE` to another queue, with the bypass flag.
    Queue {
        /// The queue number.
        num: u16,
        /// `NF_VERDICT_FLAG_QUEUE_BYPASS`: accept when nobody listens there.
        bypass: bool,
    },
}

impl Verdict {
    /// The verdict as it goes on the wire (`nfqnl_msg_verdict_hdr.verdict`).
    pub fn value(self) -> u32 {
        match self {
            Verdict::Accept => NF_ACCEPT,
            Verdict::Drop => NF_DROP,
            Verdict::Repeat => NF_REPEAT,
            Verdict::Stop => NF_STOP,
            Verdict::Queue { num, bypass } => {
                nf_queue_nr(num)
                    | if bypass {
                        NF_VERDICT_FLAG_QUEUE_BYPASS
                    } else {
                        0
                    }
            }
        }
    }

    /// As the command line and the output write it.
    pub fn name(self) -> String {
        match self {
            Verdict::Accept => "accept".into(),
            Verdict::Drop => "drop".into(),
            Verdict::Repeat => "repeat".into(),
            Verdict::Stop => "stop".into(),
            Verdict::Queue { num, bypass: false } => format!("queue:{num}"),
            Verdict::Queue { num, bypass: true } => format!("queue:{num}:bypass"),
        }
    }

    fn parse(s: &str) -> Result<Verdict, Usage> {
        let bad = || usage(format!("bad verdict '{s}'"));
        Ok(match s {
            "accept" => Verdict::Accept,
            "drop" => Verdict::Drop,
            "repeat" => Verdict::Repeat,
            "stop" => Verdict::Stop,
            _ => {
                let rest = s.strip_prefix("queue:").ok_or_else(bad)?;
                let (num, bypass) = match rest.split_once(':') {
                    None => (rest, false),
                    Some((n, "bypass")) => (n, true),
                    Some(_) => return Err(bad()),
                };
                Verdict::Queue {
                    num: num.parse().map_err(|_| bad())?,
                    bypass,
                }
            }
        })
    }
}

/// `NFQNL_COPY_*` and the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copy {
    /// `NFQNL_COPY_NONE`, `_META` or `_PACKET`.
    pub mode: u8,
    /// The most payload bytes (0 but for `packet`).
    pub range: u32,
}

impl Copy {
    fn parse(s: &str) -> Result<Copy, Usage> {
        let bad = || usage(format!("bad copy mode '{s}'"));
        let (mode, range) = match s.split_once(':') {
            None => (s, None),
            Some((m, r)) => (m, Some(parse_u32(r).ok_or_else(bad)?)),
        };
        match (mode, range) {
            ("none", None) => Ok(Copy {
                mode: NFQNL_COPY_NONE,
                range: 0,
            }),
            ("meta", None) => Ok(Copy {
                mode: NFQNL_COPY_META,
                range: 0,
            }),
            ("packet", r) => Ok(Copy {
                mode: NFQNL_COPY_PACKET,
                range: r.unwrap_or(0xffff),
            }),
            _ => Err(bad()),
        }
    }

    /// As the command line writes it.
    pub fn name(self) -> String {
        match self.mode {
            NFQNL_COPY_NONE => "none".into(),
            NFQNL_COPY_META => "meta".into(),
            _ => format!("packet:{}", self.range),
        }
    }
}

/// `--rewrite OLD=NEW`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// The bytes looked for (not empty).
    pub old: Vec<u8>,
    /// What replaces their first occurrence.
    pub new: Vec<u8>,
}

/// What `rfctl queue` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opts {
    /// `-h`/`--help`: print the help and do nothing else.
    pub help: bool,
    /// `--num`: the queue.
    pub num: u16,
    /// `--verdict`.
    pub verdict: Verdict,
    /// `--mark`: `NFQA_MARK` with each verdict.
    pub mark: Option<u32>,
    /// `--count`: stop after this many packets.
    pub count: Option<u64>,
    /// `--batch`: packets per `NFQNL_MSG_VERDICT_BATCH`.
    pub batch: Option<u32>,
    /// `--copy`.
    pub copy: Copy,
    /// `--maxlen`: `NFQA_CFG_QUEUE_MAXLEN`.
    pub maxlen: Option<u32>,
    /// `NFQA_CFG_F_*` set by `--fail-open`, `--gso`, `--uid-gid`.
    pub flags: u32,
    /// `--delay`: wait before each verdict.
    pub delay: Option<Duration>,
    /// `--hold`: give no verdicts.
    pub hold: bool,
    /// `--rewrite`.
    pub rewrite: Option<Rewrite>,
    /// `--fix-checksums`: fix the IP length and checksums of a rewritten packet.
    pub fix_checksums: bool,
}

/// The flags `rfctl queue` sets or clears in every bind (`NFQA_CFG_MASK`).
pub const FLAG_MASK: u32 =
    NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID | NFQA_CFG_F_CONNTRACK;

/// A decimal or `0x` hexadecimal u32.
fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The bytes of `s`, with `\xHH` and `\\` escapes.
fn parse_bytes(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let hex = s.get(i + 2..i + 4)?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 4;
                }
                _ => return None,
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn parse_rewrite(s: &str) -> Result<Rewrite, Usage> {
    let bad = || usage(format!("bad rewrite '{s}' (OLD=NEW, \\xHH for any byte)"));
    let (old, new) = s.split_once('=').ok_or_else(bad)?;
    let old = parse_bytes(old).ok_or_else(bad)?;
    let new = parse_bytes(new).ok_or_else(bad)?;
    if old.is_empty() {
        return Err(bad());
    }
    Ok(Rewrite { old, new })
}

/// Read the arguments after `queue`.
pub fn parse(args: &[String]) -> Result<Opts, Usage> {
    let mut o = Opts {
        help: false,
        num: 0,
        verdict: Verdict::Accept,
        mark: None,
        count: None,
        batch: None,
        copy: Copy {
            mode: NFQNL_COPY_PACKET,
            range: 0xffff,
        },
        maxlen: None,
        flags: 0,
        delay: None,
        hold: false,
        rewrite: None,
        fix_checksums: false,
    };
    let mut num = None;
    let mut seen: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // --opt=value is --opt value.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let canonical = match name {
            "-h" | "--help" => {
                o.help = true;
                return Ok(o);
            }
            "-n" | "--num" => "--num",
            "--verdict" | "--mark" | "--count" | "--batch" | "--copy" | "--maxlen" | "--delay"
            | "--rewrite" | "--fail-open" | "--gso" | "--uid-gid" | "--conntrack" | "--hold"
            | "--fix-checksums" => name,
            _ if name.starts_with('-') => {
                return Err(usage(format!("unknown option '{arg}'")));
            }
            _ => return Err(usage(format!("unexpected argument '{arg}'"))),
        };
        if seen.contains(&canonical) {
            return Err(usage(format!("option '{canonical}' given twice")));
        }
        seen.push(canonical);
        let takes_value = !matches!(
            canonical,
            "--fail-open" | "--gso" | "--uid-gid" | "--conntrack" | "--hold" | "--fix-checksums"
        );
        let value = if takes_value {
            match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| usage(format!("option '{canonical}' needs a value")))?,
            }
        } else {
            if inline.is_some() {
                return Err(usage(format!("option '{canonical}' takes no value")));
            }
            String::new()
        };
        let bad = |what: &str| usage(format!("bad {what} '{value}'"));
        match canonical {
            "--num" => num = Some(value.parse::<u16>().map_err(|_| bad("queue number"))?),
            "--verdict" => o.verdict = Verdict::parse(&value)?,
            "--mark" => o.mark = Some(parse_u32(&value).ok_or_else(|| bad("mark"))?),
            "--count" => {
                o.count = Some(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|&c| c > 0)
                        .ok_or_else(|| bad("count"))?,
                )
            }
            "--batch" => {
                o.batch = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|&c| c > 0)
                        .ok_or_else(|| bad("batch size"))?,
                )
            }
            "--copy" => o.copy = Copy::parse(&value)?,
            "--maxlen" => o.maxlen = Some(parse_u32(&value).ok_or_else(|| bad("queue length"))?),
            "--delay" => {
                o.delay = Some(Duration::from_millis(
                    value.parse::<u64>().map_err(|_| bad("delay"))?,
                ))
            }
            "--rewrite" => o.rewrite = Some(parse_rewrite(&value)?),
            "--fail-open" => o.flags |= NFQA_CFG_F_FAIL_OPEN,
            "--gso" => o.flags |= NFQA_CFG_F_GSO,
            "--uid-gid" => o.flags |= NFQA_CFG_F_UID_GID,
            "--conntrack" => o.flags |= NFQA_CFG_F_CONNTRACK,
            "--hold" => o.hold = true,
            "--fix-checksums" => o.fix_checksums = true,
            _ => return Err(usage(format!("unknown option '{arg}'"))),
        }
    }
    o.num = num.ok_or_else(|| usage("--num is required"))?;
    let given = |opt: &str| seen.contains(&opt);
    if o.hold {
        for opt in ["--verdict", "--mark", "--batch", "--delay", "--rewrite"] {
            if given(opt) {
                return Err(usage(format!("--hold gives no verdicts: {opt} is refused")));
            }
        }
    }
    if o.batch.is_some() && o.rewrite.is_some() {
        return Err(usage(
            "--rewrite needs one verdict per packet: not with --batch",
        ));
    }
    if o.fix_checksums && o.rewrite.is_none() {
        return Err(usage("--fix-checksums goes with --rewrite"));
    }
    if o.rewrite.is_some() && o.copy.mode != NFQNL_COPY_PACKET {
        return Err(usage("--rewrite needs --copy packet"));
    }
    Ok(o)
}
