// SPDX-License-Identifier: GPL-2.0

//! nlfuzz: malformed and random generic netlink requests for the
//! rustfilter module, over a raw netlink socket.
//!
//! ```text
//! nlfuzz badinput [-v]          fixed malformed cases, each with the errno
//!                               (and extended ack text) it must get
//! nlfuzz random [--count N] [--seed S] [--unsafe] [--trace]
//!                               N random and mutated messages; a summary
//! nlfuzz queue [--count N] [--seed S] [--queues A:B] [--check-every K] [--trace]
//!                               N random and mutated messages to the
//!                               netlink queue (NETLINK_NETFILTER)
//! nlfuzz seeds DIR              the rulesets as files, a seed corpus for
//!                               the `rules` cargo-fuzz target
//! ```
//!
//! Run it as root in the network namespace to test: the family answers in
//! the namespace of the socket.

mod badinput;
mod queue;
mod random;
mod socket;
mod tables;
mod wire;

use std::process::ExitCode;

const USAGE: &str = "\
usage: nlfuzz badinput [-v|--verbose]
       nlfuzz random [--count N] [--seed S] [--unsafe] [--trace]
       nlfuzz queue [--count N] [--seed S] [--queues A:B] [--check-every K] [--trace]
       nlfuzz seeds DIR

badinput  send a fixed list of malformed requests to the rustfilter family
          and check each answer; prints `ok NAME` or `FAIL NAME: expected
          E, got G` per case, exits 1 if any failed
random    send N (default 10000) random and mutated requests, seed S
          (default 1), and print what came back; without --unsafe nothing
          is sent that could change a table or zero a counter
queue     bind queues A to B (default 0:3), then send N (default 10000)
          random and mutated CONFIG, VERDICT, VERDICT_BATCH and PACKET
          messages to the netlink queue (NETLINK_NETFILTER, subsystem 3),
          seed S (default 1), verdicts often naming packets queued to A:B;
          every K (default 10000) messages and before and after, a fixed
          sequence of requests on queue 65000 must get nfnetlink_queue's
          answers; prints counts of each errno, exits 1 on a wrong answer
          or when the kernel stops answering
seeds     write the valid and broken rulesets of badinput into DIR, one
          file each (a corpus for `cargo fuzz run rules`)
";

/// The value after option `opt`, parsed.
fn value<T: std::str::FromStr>(
    args: &mut impl Iterator<Item = String>,
    opt: &str,
) -> Result<T, String> {
    let v = args.next().ok_or_else(|| format!("{opt} needs a value"))?;
    v.parse().map_err(|_| format!("{opt}: bad value \"{v}\""))
}

fn badinput(args: impl Iterator<Item = String>) -> Result<ExitCode, String> {
    let mut verbose = false;
    for a in args {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            _ => return Err(format!("badinput: unknown argument \"{a}\"")),
        }
    }
    let (passed, failed) = badinput::Runner::new(verbose)?.run();
    println!(
        "badinput: {} cases, {passed} passed, {failed} failed",
        passed + failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn random(mut args: impl Iterator<Item = String>) -> Result<ExitCode, String> {
    let mut opts = random::Options {
        count: 10_000,
        seed: 1,
        unsafe_: false,
        trace: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" | "-n" => opts.count = value(&mut args, &a)?,
            "--seed" | "-s" => opts.seed = value(&mut args, &a)?,
            "--unsafe" => opts.unsafe_ = true,
            "--trace" => opts.trace = true,
            _ => return Err(format!("random: unknown argument \"{a}\"")),
        }
    }
    println!(
        "nlfuzz random: {} messages, seed {}{}",
        opts.count,
        opts.seed,
        if opts.unsafe_ { ", unsafe" } else { "" }
    );
    random::run(&opts)?;
    Ok(ExitCode::SUCCESS)
}

fn queue(mut args: impl Iterator<Item = String>) -> Result<ExitCode, String> {
    let mut opts = queue::Options {
        count: 10_000,
        seed: 1,
        first: 0,
        last: 3,
        check_every: 10_000,
        trace: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" | "-n" => opts.count = value(&mut args, &a)?,
            "--seed" | "-s" => opts.seed = value(&mut args, &a)?,
            "--check-every" => opts.check_every = value(&mut args, &a)?,
            "--queues" => {
                let v: String = value(&mut args, &a)?;
                let (f, l) = v.split_once(':').unwrap_or((&v, &v));
                let bad = || format!("--queues: bad value \"{v}\"");
                opts.first = f.parse().map_err(|_| bad())?;
                opts.last = l.parse().map_err(|_| bad())?;
                if opts.first > opts.last || (opts.first..=opts.last).contains(&queue::PROBE_QUEUE)
                {
                    return Err(bad());
                }
            }
            "--trace" => opts.trace = true,
            _ => return Err(format!("queue: unknown argument \"{a}\"")),
        }
    }
    println!(
        "nlfuzz queue: {} messages, seed {}, queues {}:{}",
        opts.count, opts.seed, opts.first, opts.last
    );
    queue::run(&opts)?;
    Ok(ExitCode::SUCCESS)
}

fn seeds(mut args: impl Iterator<Item = String>) -> Result<ExitCode, String> {
    let dir = args.next().ok_or("seeds: a directory is needed")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("valid-filter".into(), tables::valid_filter()),
        ("valid-mangle".into(), tables::valid_mangle()),
        ("valid-raw".into(), tables::valid_raw()),
        ("ladder-8".into(), tables::ladder(8)),
        ("large-filter".into(), tables::large_filter(4 << 10)),
    ];
    for b in tables::bad_rulesets() {
        files.push((b.name.to_string(), b.chunks.concat()));
    }
    for (name, bytes) in &files {
        let path = format!("{dir}/{name}");
        std::fs::write(&path, bytes).map_err(|e| format!("{path}: {e}"))?;
    }
    println!("{} files in {dir}", files.len());
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let res = match args.next().as_deref() {
        Some("badinput") => badinput(args),
        Some("random") => random(args),
        Some("queue") => queue(args),
        Some("seeds") => seeds(args),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nlfuzz: {e}");
            ExitCode::FAILURE
        }
    }
}
