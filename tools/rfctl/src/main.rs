// SPDX-License-Identifier: GPL-2.0

//! rfctl: the userspace tool of rustfilter.
//!
//! It talks to the rustfilter module over its generic netlink family
//! (`include/uapi/linux/rustfilter.h`), in the caller's network namespace.
//! Layout: `cli` picks the command; `parse` reads iptables command lines,
//! `ops` carries them out on a table in memory (`model`), `format` prints
//! tables as iptables does, `restore` reads and writes iptables-save
//! files, `wire` converts tables to and from the netlink format, `txn`
//! runs table transactions over the client in `netlink`; `stats` is the
//! per-hook counters; `conntrack` is `rfctl conntrack`, conntrack(8)'s
//! commands; `queue` is `rfctl queue`, a netlink queue listener;
//! `error` says how failures are reported.

mod cli;
mod conntrack;
mod error;
mod failnth;
mod format;
#[cfg(test)]
mod golden;
mod model;
mod names;
mod netlink;
mod ops;
mod parse;
mod queue;
mod restore;
mod rulecmd;
mod stats;
#[cfg(test)]
mod tests;
mod txn;
mod wire;

use std::io::{self, Read, Write};
use std::process::ExitCode;

use cli::Command;
use error::Error;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = match cli::parse(&args) {
        // Prints as it goes (events) and has conntrack's messages.
        Ok(Command::Conntrack(rest)) => return conntrack::main(&rest),
        // Prints as packets come, until a signal or --count.
        Ok(Command::Queue(rest)) => return queue::main(&rest),
        Ok(command) => run(command),
        Err(e) => Err(e),
    };
    match result.and_then(|out| print(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut stderr = io::stderr().lock();
            let prefix = if matches!(e, Error::Restore { .. }) {
                "rfctl restore"
            } else {
                "rfctl"
            };
            let _ = writeln!(stderr, "{prefix}: {e}");
            if e.exit_code() == error::EXIT_USAGE {
                let _ = writeln!(stderr, "{}", error::USAGE_HINT);
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn kernel() -> Result<txn::Netlink<netlink::Socket>, Error> {
    txn::Netlink::new(netlink::Client::open()?)
}

/// Carry out the command and return what to print on standard output.
fn run(command: Command) -> Result<String, Error> {
    match command {
        Command::Help => Ok(cli::USAGE.to_string()),
        Command::Version => Ok(cli::version()),
        Command::Stats(stats::Action::Help) => Ok(stats::USAGE.to_string()),
        Command::Stats(action) => stats::run(&mut netlink::Client::open()?, action),
        Command::Save(None) | Command::Restore(None) => Ok(restore::USAGE.to_string()),
        Command::Save(Some(o)) => restore::save(&mut kernel()?, &o),
        Command::Restore(Some(o)) => {
            let text = read_input(o.file.as_deref())?;
            // Check the whole input before talking to the kernel.
            let sections = restore::parse_input(&text, o.counters)?;
            if !o.noflush {
                restore::build_tables(&sections, o.table)?;
            }
            restore::restore(&mut kernel()?, &o, &text).map(|()| String::new())
        }
        Command::Rules(c) => rulecmd::run(&mut kernel()?, &c),
        Command::Conntrack(_) => Err(Error::Internal("conntrack runs on its own".into())),
        Command::Queue(_) => Err(Error::Internal("queue runs on its own".into())),
    }
}

fn read_input(file: Option<&str>) -> Result<String, Error> {
    let mut text = String::new();
    let res = match file {
        Some(f) => std::fs::File::open(f).and_then(|mut h| h.read_to_string(&mut text)),
        None => io::stdin().read_to_string(&mut text),
    };
    res.map(|_| text).map_err(|err| Error::Io {
        what: "cannot read the input",
        err,
    })
}

fn print(out: &str) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(err) => Err(Error::Io {
            what: "cannot write to standard output",
            err,
        }),
    }
}
