// SPDX-License-Identifier: GPL-2.0

//! Everything that can make rfctl fail, and how each failure is reported.

use std::fmt;
use std::io;

/// Exit status for a command line that could not be understood
/// (iptables' `PARAMETER_PROBLEM`).
pub const EXIT_USAGE: u8 = 2;
/// Exit status for every other failure (iptables' `OTHER_PROBLEM`).
pub const EXIT_FAILURE: u8 = 1;

/// A failure of rfctl.
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong; the text names the offending word.
    Usage(String),
    /// No generic netlink family of that name: the module is not loaded.
    FamilyNotFound(String),
    /// The kernel answered a request with an error.
    Kernel {
        /// Positive errno value.
        errno: i32,
        /// The extended-ack message, if the kernel sent one.
        extack: Option<String>,
    },
    /// A system call on the netlink socket failed.
    Io {
        /// What was being done.
        what: &'static str,
        /// The failure.
        err: io::Error,
    },
    /// The kernel's answer does not follow the protocol.
    Protocol(String),
    /// rfctl could not build its own request (a bug in rfctl).
    Internal(String),
    /// Any other failure, with iptables' text where iptables has one
    /// (`No chain/target/match by that name.`); exit status 1.
    Other(String),
    /// A problem in the input of `rfctl restore` (exit status 2 for a
    /// parameter problem, 1 otherwise).
    Restore {
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        msg: String,
        /// Whether it is a parameter problem.
        usage: bool,
    },
}

impl Error {
    /// The exit status rfctl ends with after this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Restore { usage: true, .. } => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// A malformed reply, with what was wrong with it.
    pub fn protocol(detail: impl fmt::Display) -> Self {
        Error::Protocol(detail.to_string())
    }
}

/// The C library's text for `errno`, without Rust's "(os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    let suffix = format!(" (os error {errno})");
    match text.strip_suffix(&suffix) {
        Some(t) => t.to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => f.write_str(msg),
            Error::FamilyNotFound(name) => write!(
                f,
                "{name} module not loaded (no generic netlink family \"{name}\")"
            ),
            Error::Kernel { errno, .. } if *errno == EPERM => f.write_str(
                "permission denied: changing rustfilter state needs CAP_NET_ADMIN \
                 in this network namespace",
            ),
            Error::Kernel {
                errno,
                extack: Some(msg),
            } => write!(f, "{}: {msg}", strerror(*errno)),
            Error::Kernel {
                errno,
                extack: None,
            } => f.write_str(&strerror(*errno)),
            Error::Io { what, err } => match err.raw_os_error() {
                Some(errno) => write!(f, "{what}: {}", strerror(errno)),
                None => write!(f, "{what}: {err}"),
            },
            Error::Protocol(detail) => write!(f, "malformed reply from the kernel: {detail}"),
            Error::Internal(detail) => write!(f, "internal error: {detail}"),
            Error::Other(msg) => f.write_str(msg),
            Error::Restore { line, msg, .. } => write!(f, "line {line}: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// `EPERM`, 1 on every Linux architecture.
pub const EPERM: i32 = 1;
/// `ENOENT`, 2 on every Linux architecture.
pub const ENOENT: i32 = 2;
/// `EAGAIN`, 11 on every Linux architecture but alpha, mips and sparc,
/// where rustfilter does not run.
pub const EAGAIN: i32 = 11;
/// `EOPNOTSUPP`, 95.
pub const EOPNOTSUPP: i32 = 95;

/// The hint after a command line problem, as iptables prints it.
pub const USAGE_HINT: &str = "Try `rfctl -h' or 'rfctl --help' for more information.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_loaded_message() {
        let e = Error::FamilyNotFound("rustfilter".into());
        assert_eq!(
            e.to_string(),
            "rustfilter module not loaded (no generic netlink family \"rustfilter\")"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn eperm_message_ignores_extack() {
        let e = Error::Kernel {
            errno: 1,
            extack: Some("whatever".into()),
        };
        assert_eq!(
            e.to_string(),
            "permission denied: changing rustfilter state needs CAP_NET_ADMIN in this network namespace"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn other_errno_with_and_without_extack() {
        let plain = Error::Kernel {
            errno: 22,
            extack: None,
        };
        assert_eq!(plain.to_string(), "Invalid argument");
        let ext = Error::Kernel {
            errno: 22,
            extack: Some("unknown hook".into()),
        };
        assert_eq!(ext.to_string(), "Invalid argument: unknown hook");
        assert_eq!(ext.exit_code(), 1);
    }

    #[test]
    fn strerror_has_no_rust_suffix() {
        assert_eq!(strerror(2), "No such file or directory");
        assert_eq!(strerror(95), "Operation not supported");
    }

    #[test]
    fn io_error_names_the_step() {
        let e = Error::Io {
            what: "cannot open netlink socket",
            err: io::Error::from_raw_os_error(97),
        };
        assert_eq!(
            e.to_string(),
            "cannot open netlink socket: Address family not supported by protocol"
        );
    }

    #[test]
    fn usage_exits_2() {
        let e = Error::Usage("unknown option '--foo'".into());
        assert_eq!(e.to_string(), "unknown option '--foo'");
        assert_eq!(e.exit_code(), 2);
    }
}
