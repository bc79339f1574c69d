// SPDX-License-Identifier: GPL-2.0

//! The command line: `rfctl stats|save|restore ...`, or an iptables
//! command line (`rfctl [-t table] -A chain rule-spec`, ...).

use crate::error::Error;
use crate::parse::{self, CmdLine, Command as RuleCommand};
use crate::restore::{self, RestoreOpts, SaveOpts};
use crate::stats;

/// Top-level help text.
pub const USAGE: &str = "\
Usage: rfctl [-t table] COMMAND [chain] [rule-spec] [options]
       rfctl stats [-Z|--zero]
       rfctl save [-t table] [-c]
       rfctl restore [--noflush] [--test] [--counters] [-T table] [FILE]
       rfctl conntrack -L|-G|-D|-F|-E|-C|-S [options]
       rfctl queue --num N [--verdict V] [options]
       rfctl -h|--help
       rfctl -V|--version

Control rustfilter, the in-kernel IPv4 packet filter, in the caller's
network namespace, with iptables' commands, options and output.

Commands:
  -A, --append chain rule-spec          append a rule
  -C, --check chain rule-spec           check that a rule exists
  -D, --delete chain rule-spec|num      delete a rule
  -I, --insert chain [num] rule-spec    insert a rule (default: first)
  -R, --replace chain num rule-spec     replace a rule
  -L, --list [chain [num]]              list rules as a table
  -S, --list-rules [chain [num]]        list rules as commands
  -F, --flush [chain]                   delete all rules
  -Z, --zero [chain [num]]              zero counters (-L -Z: list, then
                                        zero in the same instant)
  -N, --new-chain chain                 create a user-defined chain
  -X, --delete-chain [chain]            delete an empty user-defined chain
  -E, --rename-chain old new            rename a user-defined chain
  -P, --policy chain ACCEPT|DROP        set a built-in chain's policy
  stats [-Z]                            per-hook packet counters
  save / restore                        iptables-save format (see
                                        'rfctl save --help')
  conntrack -L|-G|-D|-F|-E|-C|-S        the connection tracking table, as
                                        conntrack(8) does it (see
                                        'rfctl conntrack --help')
  queue --num N [--verdict V]           listen on netlink queue N (NFQUEUE),
                                        print and judge its packets (see
                                        'rfctl queue --help')

Options:
  -t, --table filter|mangle|raw|nat     table (default: filter)
  -n, --numeric   -v, --verbose   -x, --exact   --line-numbers
  -c, --set-counters PKTS BYTES         counters of the rule
  [!] -s, --source addr[/mask]          [!] -d, --destination addr[/mask]
  [!] -i, --in-interface name[+]        [!] -o, --out-interface name[+]
  [!] -p, --protocol tcp|udp|icmp|all|number|name
  [!] -f, --fragment
  -j, --jump target                     -g, --goto chain
  -m, --match match

Matches (-m; tcp, udp and icmp are loaded by -p):
  tcp       [!] --sport p[:p] [!] --dport p[:p] [!] --tcp-flags mask comp
            [!] --syn
  udp       [!] --sport p[:p] [!] --dport p[:p]
  icmp      [!] --icmp-type type[/code]|name
  multiport [!] --sports|--dports|--ports p[,p|,p:p]...  (with -p tcp|udp)
  mac       [!] --mac-source xx:xx:xx:xx:xx:xx
  mark      [!] --mark value[/mask]
  tos       [!] --tos value[/mask]|name
  dscp      [!] --dscp value | [!] --dscp-class class
  length    [!] --length min[:max]
  limit     --limit N/sec|minute|hour|day --limit-burst N
  iprange   [!] --src-range a-b [!] --dst-range a-b
  addrtype  [!] --src-type T[,T] [!] --dst-type T[,T]
            --limit-iface-in|--limit-iface-out
  rpfilter  --loose --validmark --accept-local --invert  (raw, mangle;
            PREROUTING)
  conntrack [!] --ctstate INVALID|NEW|ESTABLISHED|RELATED|UNTRACKED|SNAT|
                          DNAT[,...]
            [!] --ctproto proto
            [!] --ctorigsrc|--ctorigdst|--ctreplsrc|--ctrepldst addr[/mask]
            [!] --ctorigsrcport|--ctorigdstport|--ctreplsrcport|--ctrepldstport
                p[:p]
            [!] --ctstatus NONE|EXPECTED|SEEN_REPLY|ASSURED|CONFIRMED[,...]
            [!] --ctexpire min[:max]   --ctdir ORIGINAL|REPLY
  state     [!] --state INVALID|NEW|ESTABLISHED|RELATED|UNTRACKED[,...]
  connmark  [!] --mark value[/mask]
Other iptables matches (comment, recent, ...) are not supported.

Targets (-j): ACCEPT DROP RETURN, a user-defined chain,
  REJECT --reject-with icmp-net-unreachable|icmp-host-unreachable|
         icmp-proto-unreachable|icmp-port-unreachable|icmp-net-prohibited|
         icmp-host-prohibited|icmp-admin-prohibited|tcp-reset
  LOG --log-prefix P --log-level L --log-tcp-sequence --log-tcp-options
      --log-ip-options --log-uid --log-macdecode
  MARK --set-mark v[/m] --set-xmark v[/m] --and-mark --or-mark --xor-mark
  TOS --set-tos v[/m]|name --and-tos --or-tos --xor-tos  (mangle)
  DSCP --set-dscp v --set-dscp-class class               (mangle)
  CT --notrack --helper ftp|tftp   (raw; ftp needs -p tcp, tftp -p udp)
  NOTRACK                          (raw; as CT --notrack)
  CONNMARK --set-xmark v[/m] --set-mark v[/m] --and-mark --or-mark --xor-mark
           --save-mark|--restore-mark [--nfmask m] [--ctmask m] [--mask m]
  SNAT --to-source a[-a][:p[-p]] [--random] [--random-fully] [--persistent]
       (nat; POSTROUTING, INPUT)
  DNAT --to-destination a[-a][:p[-p]] [--random] [--persistent]
       (nat; PREROUTING, OUTPUT)
  MASQUERADE [--to-ports p[-p]] [--random] [--random-fully]
       (nat; POSTROUTING: the address of the output interface)
  REDIRECT [--to-ports p[-p]] [--random]
       (nat; PREROUTING, OUTPUT: to this host)
  NAT ports need -p tcp or -p udp.

Every change reads the table, changes it and commits it whole; if
another program commits in between, rfctl starts over.

Exit status: 0 on success, 1 on failure, 2 for a wrong command line.
";

/// What the command line asks for.
#[derive(Clone, Debug)]
pub enum Command {
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
    /// `rfctl stats ...`.
    Stats(stats::Action),
    /// `rfctl save ...`; `None`: its help.
    Save(Option<SaveOpts>),
    /// `rfctl restore ...`; `None`: its help.
    Restore(Option<RestoreOpts>),
    /// An iptables command line.
    Rules(Box<CmdLine>),
    /// `rfctl conntrack ...`: the arguments after `conntrack`, which
    /// `conntrack::main` reads and carries out.
    Conntrack(Vec<String>),
    /// `rfctl queue ...`: the arguments after `queue`, which
    /// `queue::main` reads and carries out.
    Queue(Vec<String>),
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
        "save" => restore::parse_save_args(rest).map(Command::Save),
        "restore" => restore::parse_restore_args(rest).map(Command::Restore),
        "conntrack" => Ok(Command::Conntrack(rest.to_vec())),
        "queue" => Ok(Command::Queue(rest.to_vec())),
        _ => {
            let c = parse::parse_command(args, None).map_err(|p| Error::Usage(p.0))?;
            if c.cmd == RuleCommand::Help {
                return Ok(Command::Help);
            }
            Ok(Command::Rules(Box::new(c)))
        }
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
        assert!(matches!(parse_strs(&["-h"]).unwrap(), Command::Help));
        assert!(matches!(
            parse_strs(&["--help", "stats"]).unwrap(),
            Command::Help
        ));
        assert!(matches!(
            parse_strs(&["--version"]).unwrap(),
            Command::Version
        ));
        assert!(matches!(parse_strs(&["-V"]).unwrap(), Command::Version));
        assert!(matches!(
            parse_strs(&["stats"]).unwrap(),
            Command::Stats(stats::Action::Show)
        ));
        assert!(matches!(
            parse_strs(&["stats", "-Z"]).unwrap(),
            Command::Stats(stats::Action::Zero)
        ));
        assert!(matches!(
            parse_strs(&["stats", "--zero"]).unwrap(),
            Command::Stats(stats::Action::Zero)
        ));
        assert!(matches!(
            parse_strs(&["stats", "--help"]).unwrap(),
            Command::Stats(stats::Action::Help)
        ));
        assert!(matches!(parse_strs(&["-L"]).unwrap(), Command::Rules(_)));
        assert!(matches!(
            parse_strs(&["-A", "INPUT", "-h"]).unwrap(),
            Command::Help
        ));
        assert!(matches!(
            parse_strs(&["save", "-c"]).unwrap(),
            Command::Save(Some(_))
        ));
        assert!(matches!(
            parse_strs(&["restore", "--noflush", "f"]).unwrap(),
            Command::Restore(Some(RestoreOpts { noflush: true, .. }))
        ));
        // conntrack's arguments are read by conntrack::main, even -h.
        match parse_strs(&["conntrack", "-L", "-h"]).unwrap() {
            Command::Conntrack(rest) => assert_eq!(rest, vec!["-L", "-h"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_command_lines() {
        for (a, msg) in [
            (&[][..], "no command specified"),
            (&["--foo"][..], "unknown option \"--foo\""),
            (&["-Q"][..], "unknown option \"-Q\""),
            (&["statistics"][..], "Bad argument `statistics'"),
            (&["stats", "--foo"][..], "unknown option '--foo'"),
            (&["stats", "now"][..], "unexpected argument 'now'"),
            (&["-j", "ACCEPT"][..], "no command specified"),
            (
                &["save", "-t", "nope"][..],
                "can't initialize iptables table `nope': Table does not exist",
            ),
            (&["restore", "--foo"][..], "unknown option \"--foo\""),
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
        for opt in [
            "--append",
            "--list-rules",
            "--rename-chain",
            "--line-numbers",
            "restore",
            "--ctstate",
            "--ctrepldstport",
            "--ctexpire",
            "--ctdir",
            "--state",
            "connmark",
            "CT --notrack --helper",
            "NOTRACK",
            "--restore-mark",
            "--nfmask",
            "conntrack -L|-G|-D|-F|-E|-C|-S",
            "rfctl conntrack --help",
            "queue --num N [--verdict V]",
            "rfctl queue --help",
            "filter|mangle|raw|nat",
            "SNAT --to-source a[-a][:p[-p]] [--random] [--random-fully] [--persistent]",
            "DNAT --to-destination a[-a][:p[-p]] [--random] [--persistent]",
            "MASQUERADE [--to-ports p[-p]] [--random] [--random-fully]",
            "REDIRECT [--to-ports p[-p]] [--random]",
        ] {
            assert!(USAGE.contains(opt), "{opt}");
        }
        assert_eq!(version(), format!("rfctl v{}\n", env!("CARGO_PKG_VERSION")));
    }
}
