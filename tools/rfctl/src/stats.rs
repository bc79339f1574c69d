// SPDX-License-Identifier: GPL-2.0

//! `rfctl stats [-Z|--zero]`: show or zero the per-hook counters.

use std::fmt::Write as _;

use rfcore::proto::{self, Hook};

use crate::error::Error;
use crate::netlink::{self, Attr, Client, GenlMsg, Transport};

/// Help text of `rfctl stats`.
pub const USAGE: &str = "\
Usage: rfctl stats [-Z|--zero]

Show the counters of each IPv4 hook in the caller's network namespace:
packets and bytes (IP header and payload) seen, and packets whose IPv4
header did not parse. The module counts only when loaded with
hook_stats=1 (every packet pays for the counting); otherwise this fails
and says so.

Options:
  -Z, --zero   zero the counters instead of showing them
               (needs CAP_NET_ADMIN in the network namespace)
  -h, --help   show this help
";

/// What `rfctl stats` was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print the counters.
    Show,
    /// Zero the counters.
    Zero,
    /// Print [`USAGE`].
    Help,
}

/// Parse the arguments after `stats`, left to right, like iptables:
/// the first word that is not understood is the error.
pub fn parse_args(args: &[String]) -> Result<Action, Error> {
    let mut action = Action::Show;
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Action::Help),
            "-Z" | "--zero" => action = Action::Zero,
            a if a.starts_with('-') => {
                return Err(Error::Usage(format!("unknown option '{a}'")));
            }
            a => return Err(Error::Usage(format!("unexpected argument '{a}'"))),
        }
    }
    Ok(action)
}

/// The counters of one hook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets seen.
    pub packets: u64,
    /// Bytes seen (IP header and payload).
    pub bytes: u64,
    /// Packets whose IPv4 header did not parse.
    pub malformed: u64,
}

/// The counters of every hook; a hook the kernel did not report stays zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    hooks: [Counters; Hook::COUNT],
}

impl Stats {
    /// The counters of `hook`.
    pub fn get(&self, hook: Hook) -> Counters {
        self.hooks
            .get(hook.number() as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// Run `rfctl stats` with `action` (not [`Action::Help`]) and return what
/// to print on standard output.
pub fn run<T: Transport>(client: &mut Client<T>, action: Action) -> Result<String, Error> {
    let family = client.resolve_family(proto::GENL_NAME)?;
    match action {
        Action::Zero => {
            client.request(
                family,
                proto::CMD_ZERO_STATS,
                proto::GENL_VERSION,
                Vec::new(),
            )?;
            Ok(String::new())
        }
        Action::Show | Action::Help => {
            let replies = client.request(
                family,
                proto::CMD_GET_STATS,
                proto::GENL_VERSION,
                Vec::new(),
            )?;
            if replies.is_empty() {
                return Err(Error::protocol("no statistics in the reply"));
            }
            Ok(format(&decode(&replies)?))
        }
    }
}

/// The counters in the replies to `RUSTFILTER_CMD_GET_STATS`.
///
/// Padding and unknown attributes are skipped, and so are hooks this rfctl
/// does not know; a hook reported twice, a `RUSTFILTER_A_HOOK_STATS` without
/// its hook number, or a counter of the wrong size is an error.
pub fn decode(replies: &[GenlMsg]) -> Result<Stats, Error> {
    let mut stats = Stats::default();
    let mut seen = [false; Hook::COUNT];
    for attr in replies.iter().flat_map(|m| m.attrs().iter()) {
        if *attr.nla_type().nla_type() != proto::A_HOOK_STATS {
            continue; // RUSTFILTER_A_PAD, or newer than this rfctl
        }
        let Some((hook, counters)) = decode_hook(attr)? else {
            continue;
        };
        let i = hook.number() as usize;
        if let (Some(seen), Some(slot)) = (seen.get_mut(i), stats.hooks.get_mut(i)) {
            if *seen {
                return Err(Error::protocol(format!(
                    "hook {} reported twice",
                    hook.name()
                )));
            }
            *seen = true;
            *slot = counters;
        }
    }
    Ok(stats)
}

/// One `RUSTFILTER_A_HOOK_STATS`; `None` for a hook number rfctl does not know.
fn decode_hook(attr: &Attr) -> Result<Option<(Hook, Counters)>, Error> {
    let bad = |e: String| Error::protocol(format!("hook statistics: {e}"));
    let nested = attr
        .get_attr_handle::<u16>()
        .map_err(|e| bad(e.to_string()))?;
    let mut hook = None;
    let mut c = Counters::default();
    for a in nested.iter() {
        match *a.nla_type().nla_type() {
            proto::STATS_HOOK => hook = Some(netlink::attr_u32(a).map_err(bad)?),
            proto::STATS_PACKETS => c.packets = netlink::attr_u64(a).map_err(bad)?,
            proto::STATS_BYTES => c.bytes = netlink::attr_u64(a).map_err(bad)?,
            proto::STATS_MALFORMED => c.malformed = netlink::attr_u64(a).map_err(bad)?,
            _ => {} // RUSTFILTER_STATS_PAD, or newer than this rfctl
        }
    }
    let number = hook.ok_or_else(|| bad("no hook number".to_string()))?;
    Ok(Hook::from_number(number).map(|h| (h, c)))
}

/// The table `rfctl stats` prints: a header, then one line per hook in
/// packet-path order. Columns are separated by blanks; numbers are plain
/// decimals.
pub fn format(stats: &Stats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12}{:>12} {:>16} {:>11}",
        "HOOK", "PACKETS", "BYTES", "MALFORMED"
    );
    for hook in Hook::ALL {
        let c = stats.get(hook);
        let _ = writeln!(
            out,
            "{:<12}{:>12} {:>16} {:>11}",
            hook.name(),
            c.packets,
            c.bytes,
            c.malformed
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testutil::*;
    use crate::netlink::{decode_genl, parse_datagram};

    const FAMILY: u16 = 0x1f;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn u32a(ty: u16, v: u32) -> Vec<u8> {
        attr(ty, &v.to_ne_bytes())
    }

    /// A counter as nla_put_u64_64bit puts it: a pad attribute first when
    /// the payload would not be 8-byte aligned, here always, to test skipping.
    fn u64a(ty: u16, v: u64) -> Vec<u8> {
        [attr(proto::STATS_PAD, &[]), attr(ty, &v.to_ne_bytes())].concat()
    }

    fn hook_stats(hook: u32, packets: u64, bytes: u64, malformed: u64) -> Vec<u8> {
        nest(
            proto::A_HOOK_STATS,
            &[
                u32a(proto::STATS_HOOK, hook),
                u64a(proto::STATS_PACKETS, packets),
                u64a(proto::STATS_BYTES, bytes),
                u64a(proto::STATS_MALFORMED, malformed),
            ],
        )
    }

    /// Decode one hand-built reply message the way the client does.
    fn decode_bytes(msg: &[u8]) -> Result<Stats, Error> {
        let mut replies = Vec::new();
        for m in parse_datagram(msg)? {
            let payload = m
                .get_payload()
                .ok_or_else(|| Error::protocol("not a payload"))?;
            replies.push(decode_genl(payload.as_ref())?);
        }
        decode(&replies)
    }

    fn reply(attrs: &[Vec<u8>]) -> Vec<u8> {
        genlmsg(FAMILY, 1, proto::CMD_GET_STATS, attrs)
    }

    #[test]
    fn parse_args_good() {
        assert_eq!(parse_args(&args(&[])).unwrap(), Action::Show);
        assert_eq!(parse_args(&args(&["-Z"])).unwrap(), Action::Zero);
        assert_eq!(parse_args(&args(&["--zero"])).unwrap(), Action::Zero);
        assert_eq!(parse_args(&args(&["-Z", "--zero"])).unwrap(), Action::Zero);
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), Action::Help);
        assert_eq!(parse_args(&args(&["-Z", "-h"])).unwrap(), Action::Help);
    }

    #[test]
    fn parse_args_bad() {
        for (a, msg) in [
            (&["--foo"][..], "unknown option '--foo'"),
            (&["-Z", "--zero=1"][..], "unknown option '--zero=1'"),
            (&["-z"][..], "unknown option '-z'"),
            (&["-Zh"][..], "unknown option '-Zh'"),
            (&["extra"][..], "unexpected argument 'extra'"),
            (&["--bogus", "--help"][..], "unknown option '--bogus'"),
        ] {
            let e = parse_args(&args(a)).unwrap_err();
            assert_eq!(e.to_string(), msg);
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn decodes_all_hooks_with_padding() {
        let attrs: Vec<Vec<u8>> = (0..5u32)
            .map(|h| {
                let h64 = u64::from(h);
                hook_stats(h, 10 + h64, 1000 + h64, h64)
            })
            .collect();
        let stats = decode_bytes(&reply(&attrs)).unwrap();
        for h in Hook::ALL {
            let n = u64::from(h.number());
            assert_eq!(
                stats.get(h),
                Counters {
                    packets: 10 + n,
                    bytes: 1000 + n,
                    malformed: n
                }
            );
        }
    }

    #[test]
    fn missing_hooks_are_zero_and_top_level_pad_and_unknown_are_skipped() {
        let msg = reply(&[
            attr(proto::A_PAD, &[]),
            hook_stats(2, 6, 504, 1),
            attr(99, b"from the future\0"),
            attr(proto::A_PAD, &[0; 4]),
        ]);
        let stats = decode_bytes(&msg).unwrap();
        assert_eq!(
            stats.get(Hook::Forward),
            Counters {
                packets: 6,
                bytes: 504,
                malformed: 1
            }
        );
        for h in [
            Hook::PreRouting,
            Hook::LocalIn,
            Hook::LocalOut,
            Hook::PostRouting,
        ] {
            assert_eq!(stats.get(h), Counters::default());
        }
    }

    #[test]
    fn unknown_nested_attributes_and_hooks_are_skipped() {
        let future = nest(
            proto::A_HOOK_STATS,
            &[
                u32a(proto::STATS_HOOK, 0),
                u64a(proto::STATS_PACKETS, 3),
                attr(42, &[1, 2, 3, 4, 5, 6]),
            ],
        );
        let msg = reply(&[future, hook_stats(7, 1, 1, 1)]);
        let stats = decode_bytes(&msg).unwrap();
        assert_eq!(stats.get(Hook::PreRouting).packets, 3);
        assert_eq!(stats.get(Hook::PreRouting).bytes, 0);
    }

    #[test]
    fn large_counters_stay_exact() {
        let msg = reply(&[hook_stats(4, u64::MAX, 1 << 40, 0)]);
        let stats = decode_bytes(&msg).unwrap();
        assert_eq!(stats.get(Hook::PostRouting).packets, u64::MAX);
        assert_eq!(stats.get(Hook::PostRouting).bytes, 1 << 40);
    }

    #[test]
    fn truncated_top_level_attribute_is_an_error() {
        // nla_len says 24 bytes but the message ends after 12.
        let mut bad = 24u16.to_ne_bytes().to_vec();
        bad.extend_from_slice(&proto::A_HOOK_STATS.to_ne_bytes());
        bad.extend_from_slice(&[0; 8]);
        let e = decode_bytes(&reply(&[bad])).unwrap_err();
        assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    }

    #[test]
    fn attribute_shorter_than_its_header_is_an_error() {
        let mut bad = 2u16.to_ne_bytes().to_vec();
        bad.extend_from_slice(&proto::A_HOOK_STATS.to_ne_bytes());
        assert!(decode_bytes(&reply(&[bad])).is_err());
    }

    #[test]
    fn truncated_nested_attribute_is_an_error() {
        // The inner counter claims 12 bytes of payload inside an 8-byte nest.
        let mut inner = 16u16.to_ne_bytes().to_vec();
        inner.extend_from_slice(&proto::STATS_PACKETS.to_ne_bytes());
        inner.extend_from_slice(&[0; 4]);
        let msg = reply(&[nest(proto::A_HOOK_STATS, &[inner])]);
        let e = decode_bytes(&msg).unwrap_err();
        assert!(e.to_string().contains("hook statistics"), "{e}");
    }

    #[test]
    fn counter_of_wrong_size_is_an_error() {
        let msg = reply(&[nest(
            proto::A_HOOK_STATS,
            &[
                u32a(proto::STATS_HOOK, 1),
                attr(proto::STATS_BYTES, &5u32.to_ne_bytes()),
            ],
        )]);
        assert!(decode_bytes(&msg).is_err());
        let msg = reply(&[nest(
            proto::A_HOOK_STATS,
            &[attr(proto::STATS_HOOK, &1u64.to_ne_bytes())],
        )]);
        assert!(decode_bytes(&msg).is_err());
    }

    #[test]
    fn hook_stats_without_hook_number_is_an_error() {
        let msg = reply(&[nest(proto::A_HOOK_STATS, &[u64a(proto::STATS_PACKETS, 1)])]);
        let e = decode_bytes(&msg).unwrap_err();
        assert!(e.to_string().contains("no hook number"), "{e}");
    }

    #[test]
    fn duplicate_hook_is_an_error() {
        let msg = reply(&[hook_stats(1, 1, 1, 1), hook_stats(1, 2, 2, 2)]);
        let e = decode_bytes(&msg).unwrap_err();
        assert!(e.to_string().contains("INPUT reported twice"), "{e}");
    }

    #[test]
    fn truncated_genl_header_is_an_error() {
        let msg = nlmsg(FAMILY, 0, 1, &[1, 1]);
        assert!(decode_bytes(&msg).is_err());
    }

    #[test]
    fn format_matches_the_documented_table() {
        let mut stats = Stats::default();
        stats.hooks[0] = Counters {
            packets: 6,
            bytes: 504,
            malformed: 0,
        };
        stats.hooks[2] = stats.hooks[0];
        assert_eq!(
            format(&stats),
            "\
HOOK             PACKETS            BYTES   MALFORMED
PREROUTING             6              504           0
INPUT                  0                0           0
FORWARD                6              504           0
OUTPUT                 0                0           0
POSTROUTING            0                0           0
"
        );
    }

    #[test]
    fn format_keeps_huge_numbers_whole_and_separated() {
        let mut stats = Stats::default();
        stats.hooks[4] = Counters {
            packets: u64::MAX,
            bytes: u64::MAX,
            malformed: u64::MAX,
        };
        let out = format(&stats);
        let line = out.lines().last().unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        let max = u64::MAX.to_string();
        assert_eq!(cols, vec!["POSTROUTING", &max, &max, &max]);
    }

    #[test]
    fn run_show_talks_to_the_family_and_formats() {
        let family: Answer = Box::new(|req| {
            vec![
                genlmsg(
                    0x10,
                    seq_of(req),
                    1,
                    &[attr(2, b"rustfilter\0"), attr(1, &FAMILY.to_ne_bytes())],
                ),
                ack(req),
            ]
        });
        let stats: Answer = Box::new(|req| {
            let mut r = genlmsg(
                FAMILY,
                seq_of(req),
                proto::CMD_GET_STATS,
                &[hook_stats(0, 6, 504, 0), hook_stats(2, 6, 504, 0)],
            );
            r.extend_from_slice(&ack(req));
            vec![r]
        });
        let mut client = Client::new(Script::new(vec![family, stats]));
        let out = run(&mut client, Action::Show).unwrap();
        assert_eq!(
            out.lines().nth(1),
            Some("PREROUTING             6              504           0")
        );
        assert_eq!(
            out.lines().nth(3),
            Some("FORWARD                6              504           0")
        );
        let sent = &client.transport().sent;
        assert_eq!(sent.len(), 2);
        assert_eq!(u16::from_ne_bytes([sent[1][4], sent[1][5]]), FAMILY);
        assert_eq!(u16::from_ne_bytes([sent[1][6], sent[1][7]]), 0x5);
        assert_eq!(sent[1][16], proto::CMD_GET_STATS);
        assert_eq!(sent[1][17], proto::GENL_VERSION);
    }

    #[test]
    fn run_zero_sends_zero_and_prints_nothing() {
        let family: Answer = Box::new(|req| {
            vec![
                genlmsg(0x10, seq_of(req), 1, &[attr(1, &FAMILY.to_ne_bytes())]),
                ack(req),
            ]
        });
        let zero: Answer = Box::new(|req| vec![ack(req)]);
        let mut client = Client::new(Script::new(vec![family, zero]));
        assert_eq!(run(&mut client, Action::Zero).unwrap(), "");
        let sent = &client.transport().sent;
        assert_eq!(sent[1][16], proto::CMD_ZERO_STATS);
        assert_eq!(u16::from_ne_bytes([sent[1][6], sent[1][7]]), 0x5);
    }

    #[test]
    fn run_zero_without_privilege_is_permission_denied() {
        let family: Answer = Box::new(|req| {
            vec![
                genlmsg(0x10, seq_of(req), 1, &[attr(1, &FAMILY.to_ne_bytes())]),
                ack(req),
            ]
        });
        let zero: Answer = Box::new(|req| vec![error(req, 1, None)]);
        let mut client = Client::new(Script::new(vec![family, zero]));
        let e = run(&mut client, Action::Zero).unwrap_err();
        assert_eq!(
            e.to_string(),
            "permission denied: changing rustfilter state needs CAP_NET_ADMIN in this network namespace"
        );
    }

    #[test]
    fn run_without_module_is_not_loaded() {
        let family: Answer = Box::new(|req| vec![error(req, 2, None)]);
        let mut client = Client::new(Script::new(vec![family]));
        let e = run(&mut client, Action::Show).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rustfilter module not loaded (no generic netlink family \"rustfilter\")"
        );
        assert_eq!(client.transport().sent.len(), 1);
    }

    #[test]
    fn run_show_with_empty_reply_is_an_error() {
        let family: Answer = Box::new(|req| {
            vec![
                genlmsg(0x10, seq_of(req), 1, &[attr(1, &FAMILY.to_ne_bytes())]),
                ack(req),
            ]
        });
        let stats: Answer = Box::new(|req| vec![ack(req)]);
        let mut client = Client::new(Script::new(vec![family, stats]));
        assert!(matches!(
            run(&mut client, Action::Show),
            Err(Error::Protocol(_))
        ));
    }
}
