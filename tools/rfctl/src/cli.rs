// SPDX-License-Identifier: GPL-2.0

//! The command line: `rfctl [global option] COMMAND [command options]`.
//!
//! Each command parses its own options in its module; this file only
//! picks the command.

use crate::error::Error;
use crate::stats;

/// Top-level help text.
pub const USAGE: &str = "\
Usage: rfctl COMMAND [OPTIONS]
       rfctl -h|--help
       rfctl -V|--version

Control rustfilter, the in-kernel packet filter, in the caller's
network namespace.

Commands:
  stats            show the packet, byte and malformed-packet counters
                   of each hook
  stats -Z|--zero  zero those counters (needs CAP_NET_ADMIN)

Options:
  -h, --help       show this help; after a command, that command's help
  -V, --version    show the version of rfctl

Exit status: 0 on success, 1 on failure, 2 for a wrong command line.
";

/// What the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
    /// `rfctl stats ...`.
    Stats(stats::Action),
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, Error> {
    let Some((first, rest)) = args.split_first() else {
        return Err(Error::Usage("no command specified".to_string()));
    };
    match first.as_str() {
        "-h" | "--help" => Ok(Command::Help),
        "-V" | "--version" => Ok(Command::Version),
        "stats" => stats::parse_args(rest).map(Command::Stats),
        a if a.starts_with('-') => Err(Error::Usage(format!("unknown option '{a}'"))),
        a => Err(Error::Usage(format!("unknown command '{a}'"))),
    }
}

/// The `--version` line.
pub fn version() -> String {
    format!("rfctl v{}\n", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(a: &[&str]) -> Result<Command, Error> {
        parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn good_command_lines() {
        assert_eq!(parse_strs(&["-h"]).unwrap(), Command::Help);
        assert_eq!(parse_strs(&["--help", "stats"]).unwrap(), Command::Help);
        assert_eq!(parse_strs(&["--version"]).unwrap(), Command::Version);
        assert_eq!(parse_strs(&["-V"]).unwrap(), Command::Version);
        assert_eq!(
            parse_strs(&["stats"]).unwrap(),
            Command::Stats(stats::Action::Show)
        );
        assert_eq!(
            parse_strs(&["stats", "-Z"]).unwrap(),
            Command::Stats(stats::Action::Zero)
        );
        assert_eq!(
            parse_strs(&["stats", "--zero"]).unwrap(),
            Command::Stats(stats::Action::Zero)
        );
        assert_eq!(
            parse_strs(&["stats", "--help"]).unwrap(),
            Command::Stats(stats::Action::Help)
        );
    }

    #[test]
    fn bad_command_lines() {
        for (a, msg) in [
            (&[][..], "no command specified"),
            (&["--foo"][..], "unknown option '--foo'"),
            (&["-Z"][..], "unknown option '-Z'"),
            (&["statistics"][..], "unknown command 'statistics'"),
            (&["stats", "--foo"][..], "unknown option '--foo'"),
            (&["stats", "now"][..], "unexpected argument 'now'"),
        ] {
            let e = parse_strs(a).unwrap_err();
            assert_eq!(e.to_string(), msg, "{a:?}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn help_lists_only_what_exists() {
        assert!(USAGE.contains("stats"));
        assert!(USAGE.contains("--zero"));
        assert!(USAGE.contains("--version"));
        assert_eq!(version(), format!("rfctl v{}\n", env!("CARGO_PKG_VERSION")));
    }
}
