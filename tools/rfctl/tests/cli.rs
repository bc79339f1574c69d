// SPDX-License-Identifier: GPL-2.0

//! The built binary: exit codes, and what goes to stdout and stderr.

use std::path::Path;
use std::process::{Command, Output};

fn rfctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfctl"))
        .args(args)
        .output()
        .expect("run rfctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    for args in [&["--help"][..], &["-h"][..]] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).starts_with("Usage: rfctl COMMAND"));
        assert!(out.stderr.is_empty());
    }
    let out = rfctl(&["stats", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("Usage: rfctl stats [-Z|--zero]"));
    let out = rfctl(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("rfctl v{}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_command_lines_exit_2_with_a_hint() {
    for (args, first) in [
        (&["--foo"][..], "rfctl: unknown option '--foo'"),
        (&["stats", "--foo"][..], "rfctl: unknown option '--foo'"),
        (&["stats", "-Z", "x"][..], "rfctl: unexpected argument 'x'"),
        (&["frobnicate"][..], "rfctl: unknown command 'frobnicate'"),
        (&[][..], "rfctl: no command specified"),
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!("{first}\nTry 'rfctl --help' for more information.\n"),
            "{args:?}"
        );
    }
}

/// On the build host the module is not loaded; the kernel says so through
/// nlctrl and rfctl reports it. (Skipped where the module is loaded.)
#[test]
fn stats_without_the_module_says_so() {
    if Path::new("/sys/module/rustfilter").exists() {
        return;
    }
    for args in [&["stats"][..], &["stats", "--zero"][..]] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            text(&out.stderr),
            "rfctl: rustfilter module not loaded (no generic netlink family \"rustfilter\")\n"
        );
    }
}
