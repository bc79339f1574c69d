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
        assert!(text(&out.stdout).starts_with("Usage: rfctl [-t table] COMMAND"));
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
        (&["--foo"][..], "rfctl: unknown option \"--foo\""),
        (&["stats", "--foo"][..], "rfctl: unknown option '--foo'"),
        (&["stats", "-Z", "x"][..], "rfctl: unexpected argument 'x'"),
        (&["frobnicate"][..], "rfctl: Bad argument `frobnicate'"),
        (&[][..], "rfctl: no command specified"),
        (
            &["-A", "INPUT", "--dport", "22"][..],
            "rfctl: unknown option \"--dport\"",
        ),
        (
            &["-A", "INPUT", "-m", "comment", "--comment", "x"][..],
            "rfctl: Couldn't load match `comment': not supported by rustfilter",
        ),
        (
            &["-t", "security", "-L"][..],
            "rfctl: can't initialize iptables table `security': Table does not exist",
        ),
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!("{first}\nTry `rfctl -h' or 'rfctl --help' for more information.\n"),
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

fn rfctl_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rfctl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The input is checked whole before the kernel is asked anything, so
/// this works without the module.
#[test]
fn restore_reports_the_line() {
    let input = "# x\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT --foo\nCOMMIT\n";
    let out = rfctl_stdin(&["restore", "--test"], input);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "rfctl restore: line 5: unknown option \"--foo\"\nTry `rfctl -h' or 'rfctl --help' for more information.\n"
    );
    let out = rfctl_stdin(&["restore"], "*filter\n-A NOPE -j DROP\nCOMMIT\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "rfctl restore: line 2: No chain/target/match by that name.\n"
    );
}

#[test]
fn save_and_restore_help() {
    for args in [&["save", "--help"][..], &["restore", "-h"][..]] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).starts_with("Usage: rfctl save"));
    }
}

/// Rule commands need the module; on the build host it is not loaded.
#[test]
fn rule_commands_without_the_module_say_so() {
    if Path::new("/sys/module/rustfilter").exists() {
        return;
    }
    for args in [
        &["-L"][..],
        &["-A", "INPUT", "-j", "ACCEPT"][..],
        &[
            "-t",
            "nat",
            "-A",
            "POSTROUTING",
            "-o",
            "eth0",
            "-j",
            "MASQUERADE",
        ][..],
        &["-t", "nat", "-L", "-n"][..],
        &["save"][..],
        &["save", "-t", "nat"][..],
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            "rfctl: rustfilter module not loaded (no generic netlink family \"rustfilter\")\n"
        );
    }
}

#[test]
fn conntrack_help_version_and_command_line_errors() {
    for args in [
        &["conntrack", "--help"][..],
        &["conntrack"][..],
        &["conntrack", "-h"][..],
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).starts_with("Usage: rfctl conntrack COMMAND [options]"));
        assert!(out.stderr.is_empty());
    }
    let out = rfctl(&["conntrack", "-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "rfctl conntrack v{} (rustfilter)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    for (args, first) in [
        (&["conntrack", "-L", "--foo"][..], "unknown option `--foo'"),
        (
            &["conntrack", "-L", "-D"][..],
            "Invalid commands combination",
        ),
        (
            &["conntrack", "-G", "-p", "tcp", "-s", "1.2.3.4"][..],
            "you have to specify `--src' and `--dst'",
        ),
        (
            &["conntrack", "-L", "-s", "1.2.3"][..],
            "Invalid IP address `1.2.3'",
        ),
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!(
                "rfctl conntrack (rustfilter): {first}\n\
                 Try `rfctl conntrack -h' or 'rfctl conntrack --help' for more information.\n"
            ),
            "{args:?}"
        );
    }
}

/// Without the module, every conntrack command says so and exits 1.
#[test]
fn conntrack_without_the_module_says_so() {
    if Path::new("/sys/module/rustfilter").exists() {
        return;
    }
    for args in [
        &["conntrack", "-L"][..],
        &["conntrack", "-E", "--event-timeout", "0.1"][..],
        &["conntrack", "--set-max", "10"][..],
    ] {
        let out = rfctl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            text(&out.stderr),
            "rfctl conntrack (rustfilter): rustfilter module not loaded \
             (no generic netlink family \"rustfilter\")\n"
        );
    }
}

/// RFCTL_FAIL_NTH (a testing aid) is checked before any socket is opened:
/// a wrong value is an error of status 1, for rule commands and conntrack
/// alike.
#[test]
fn bad_fail_nth_environment_is_refused() {
    for (args, prefix) in [
        (&["-S"][..], "rfctl: "),
        (&["conntrack", "-C"][..], "rfctl conntrack (rustfilter): "),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rfctl"))
            .args(args)
            .env("RFCTL_FAIL_NTH", "1")
            .env("RFCTL_FAIL_NTH_AT", "nope")
            .output()
            .expect("run rfctl");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!(
                "{prefix}RFCTL_FAIL_NTH_AT=nope: expected \
                 begin|chunk|commit|abort|get|zero|set|flush|delete[:K]\n"
            )
        );
    }
}
