// SPDX-License-Identifier: GPL-2.0

//! nfqclient: a netlink queue listener written with the `nfq` crate
//! (0.2.5, crates.io), as a third-party Rust program would be, for the
//! queue selftests: it binds one queue, prints a line per packet and gives
//! every packet the same verdict, with a mark if asked.
//!
//! ```text
//! nfqclient --num N [--verdict accept|drop] [--mark M] [--count K] [--idle S]
//! ```
//!
//! It exits 0 after `--count` packets, or once no packet came for
//! `--idle` seconds (default 10); 1 on an error, 2 on a bad command line.
//! Each packet is printed as
//!
//! ```text
//! nfqclient: queue=0 id=1 hook=1 proto=1 src=10.0.1.2 dst=10.0.2.2 len=84 mark=0x0 verdict=accept
//! ```
//!
//! (`mark` is the mark the packet came with; the verdict's mark, if any,
//! follows as `set-mark=0x..`).

use nfq::{Queue, Verdict};
use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    num: u16,
    verdict: Verdict,
    mark: Option<u32>,
    count: Option<u64>,
    idle: Duration,
}

const USAGE: &str =
    "usage: nfqclient --num N [--verdict accept|drop] [--mark M] [--count K] [--idle SECONDS]";

/// A number as C's `strtoul(.., 0)` reads it: decimal, `0x` hex.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        num: 0,
        verdict: Verdict::Accept,
        mark: None,
        count: None,
        idle: Duration::from_secs(10),
    };
    let mut num = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--num" => {
                let v = value()?;
                num = Some(
                    number(v)
                        .and_then(|n| u16::try_from(n).ok())
                        .ok_or(format!("bad queue number {v}"))?,
                );
            }
            "--verdict" => {
                o.verdict = match value()?.as_str() {
                    "accept" => Verdict::Accept,
                    "drop" => Verdict::Drop,
                    v => return Err(format!("unknown verdict {v}")),
                }
            }
            "--mark" => {
                let v = value()?;
                o.mark = Some(
                    number(v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or(format!("bad mark {v}"))?,
                );
            }
            "--count" => {
                let v = value()?;
                o.count = Some(number(v).ok_or(format!("bad count {v}"))?);
            }
            "--idle" => {
                let v = value()?;
                o.idle = Duration::from_secs(number(v).ok_or(format!("bad time {v}"))?);
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    o.num = num.ok_or("--num is required")?;
    Ok(o)
}

/// "proto=P src=A dst=B" of an IPv4 packet, or what it is instead.
fn describe(p: &[u8]) -> String {
    match p {
        [b0, _, _, _, _, _, _, _, _, proto, _, _, s0, s1, s2, s3, d0, d1, d2, d3, ..]
            if b0 >> 4 == 4 =>
        {
            format!("proto={proto} src={s0}.{s1}.{s2}.{s3} dst={d0}.{d1}.{d2}.{d3}")
        }
        _ => format!("proto=? bytes={}", p.len()),
    }
}

fn run(o: &Options) -> std::io::Result<()> {
    let mut q = Queue::open()?;
    q.bind(o.num)?;
    q.set_nonblocking(true);
    let verdict = match o.verdict {
        Verdict::Drop => "drop",
        _ => "accept",
    };
    let mut out = std::io::stdout().lock();
    let mut seen = 0u64;
    let mut last = Instant::now();
    while o.count.is_none_or(|c| seen < c) {
        let mut msg = match q.recv() {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if last.elapsed() >= o.idle {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(e) => return Err(e),
        };
        last = Instant::now();
        seen += 1;
        let mut line = format!(
            "nfqclient: queue={} id={} hook={} {} len={} mark={:#x} verdict={verdict}",
            msg.get_queue_num(),
            msg.get_packet_id(),
            msg.get_hook(),
            describe(msg.get_payload()),
            msg.get_payload().len(),
            msg.get_nfmark(),
        );
        if let Some(m) = o.mark {
            msg.set_nfmark(m);
            line.push_str(&format!(" set-mark={m:#x}"));
        }
        msg.set_verdict(o.verdict);
        q.verdict(msg)?;
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    writeln!(out, "nfqclient: {seen} packets")?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nfqclient: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nfqclient: {e}");
            ExitCode::FAILURE
        }
    }
}
