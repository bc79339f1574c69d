// SPDX-License-Identifier: GPL-2.0

//! rfctl: the userspace tool of rustfilter.
//!
//! It talks to the rustfilter module over its generic netlink family
//! (`include/uapi/linux/rustfilter.h`), in the caller's network namespace.
//! Layout: `cli` picks the command, one module per command (`stats`),
//! `netlink` is the client, `error` says how failures are reported.

mod cli;
mod error;
mod netlink;
mod stats;

use std::io::{self, Write};
use std::process::ExitCode;

use cli::Command;
use error::Error;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run(&args).and_then(|out| print(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "rfctl: {e}");
            if let Error::Usage(_) = e {
                let _ = writeln!(stderr, "Try 'rfctl --help' for more information.");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Carry out the command line and return what to print on standard output.
fn run(args: &[String]) -> Result<String, Error> {
    match cli::parse(args)? {
        Command::Help => Ok(cli::USAGE.to_string()),
        Command::Version => Ok(cli::version()),
        Command::Stats(stats::Action::Help) => Ok(stats::USAGE.to_string()),
        Command::Stats(action) => stats::run(&mut netlink::Client::open()?, action),
    }
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
