// SPDX-License-Identifier: GPL-2.0

//! rfpkt: hand-built IPv4 packets for the rustfilter selftests, sent
//! through a raw socket (or put on a link as they are), and a sniffer that
//! prints what arrives. See `rfpkt --help`.

mod build;
mod cli;
mod csum;
mod fuzz;
mod link;
mod parse;
mod sock;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use cli::{Command, Fuzz, Send, Sniff};

const USAGE: &str = "\
usage: rfpkt tcp  --dst B [--src A | --src-range A-B] [--sport P | --sport-range P-Q]
                  [--dport P | --dport-range P-Q] [--flags S|SA|A|PA|FA|R|RA|...]
                  [--seq N] [--ack N] [--win N] [--urg N] [--mss N] [--wscale N]
                  [--sack-perm] [--tcp-options HEX] [--doff N] [payload] [common]
       rfpkt udp  --dst B [--src A | --src-range A-B] [--sport ...] [--dport ...]
                  [--udp-len N] [--no-csum] [payload] [common]
       rfpkt icmp --dst B [--src A] [--type T] [--code C] [--id N] [--seq N]
                  [--mtu N] [--gateway A] [--rest HEX] [payload]
                  [--quote-tcp|--quote-udp|--quote-icmp [--q-src A] [--q-dst B]
                   [--q-sport P] [--q-dport P] [--q-seq N] [--q-ack N] [--q-flags F]
                   [--q-type T] [--q-code C] [--q-id N] [--q-icmp-seq N] [--q-ttl N]
                   [--q-payload-len N] [--q-bytes N]] [common]
       rfpkt raw  --hex BYTES [--dst B] [--count N] [--dev IFACE ...] [--reply ...]
       rfpkt raw  --kind KIND --dst B [options of the kind's protocol] [common]
       rfpkt fuzz --dst B [--src A] [--count N] [--seed S] [--ports P,P...]
                  [--only CLASS,...] [--dev IFACE [--dst-mac MAC]] [--interval-ms MS]
                  [--print] [--hexdump] [--no-send]
       rfpkt sniff [--dev IFACE] [--count N] [--timeout S] [--proto tcp|udp|icmp|N]
                   [--host A] [--port P] [--src A] [--dst B] [--sport P] [--dport P]
                   [--in | --out] [--ready FILE] [--hexdump]
       rfpkt link --dev IFACE [--dev IFACE ...] [--gso-max-size N]
                  [--gso-ipv4-max-size N] [--gro-max-size N] [--gro-ipv4-max-size N]

payload:  --payload-len N (filler \"abc...\") | --data TEXT | --payload HEX
common:   --ttl N --tos N --ip-id N --df --mf --frag-offset BYTES --ip-options HEX
          --ihl N --tot-len N --version N --ip-proto P --trunc N (cut the
          transport part to N bytes) --bad-csum (transport) --bad-ipcsum
          --count N --interval-ms MS --dev IFACE [--dst-mac MAC]
          --reply [--timeout S] --print --hexdump --no-send

Checksums are right unless --bad-csum/--bad-ipcsum. Defaults: --src the
address the route to --dst uses, ports 12345 -> 9, TCP flags S and seq 1,
window 65535, ICMP echo request, TTL 64. Quoted packets go from the error's
destination to its source unless --q-src/--q-dst say otherwise.

With ranges, one packet per tuple (source port fastest, then destination
port, then source address); --count N sends N, cycling through them.

Sending: a raw IP socket (IP_HDRINCL) by default: the packet is routed and
passes the sender's OUTPUT and POSTROUTING hooks, but the kernel rewrites
the total length and header checksum when IHL >= 5 (so those kinds need
--dev). --dev IFACE puts the IP packet on that link as it is (packet
socket), to --dst-mac or the neighbour entry of --dst.

--reply waits (--timeout, default 2 s) for a packet answering the last one
sent (the reverse flow, an echo reply, or an ICMP error quoting it), prints
it as sniff does and exits 1 if none came. --print prints each packet sent,
--hexdump its bytes; --no-send only prints.

sniff prints one line per IPv4 packet seen (in and out, all interfaces or
--dev), e.g.
  if=eth0 dir=in src=10.0.2.2 dst=10.0.1.2 proto=tcp sport=5001 dport=40000
  flags=SA seq=N ack=N win=N len=0 ttl=63 ipid=0
until --count packets (0: no limit) or --timeout seconds (default 10, 0: no
limit); it exits 1 if the time ran out before --count. --ready FILE is
created once the socket is open.

fuzz sends --count (1000) malformed and mutated IPv4 packets made from
--seed (1; the same seed, the same packets) from --src to --dst, through
the raw socket (which refuses some and fixes the total length of the
others: give --dev to send them as made). --ports lists ports to use often
(those of real flows, so that ICMP errors quote them). A packet that
cannot be sent is counted, not fatal. Prints
  rfpkt fuzz: seed=S packets=N sent=N failed=N CLASS=N ...
and exits 1 only if packets were to be sent and none was. Classes (--only):
  ip-header ip-options trunc-l4 tcp udp icmp-error icmp-query zero-ports
  frag mutate other-proto
(see tools/rfpkt/src/fuzz.rs for what each makes).

link sets the GSO and GRO size limits of each IFACE (in the current
network namespace) with one rtnetlink RTM_NEWLINK, as `ip link set IFACE
gso_ipv4_max_size N ...` does (the IPv4 ones need iproute2 6.3; above
65536 they enable IPv4 BIG TCP). It prints nothing once the kernel has
acknowledged them all; at the first refusal it prints the device, the
errno and the kernel's message and exits 1.

raw kinds:
";

fn usage() -> String {
    let mut u = USAGE.to_string();
    for (k, what) in cli::KINDS {
        u += &format!("  {k:<13} {what}\n");
    }
    u
}

/// A packet's summary line, or for one that is not IPv4 with a whole
/// header its length and bytes.
fn describe(p: &[u8]) -> String {
    match parse::parse(p) {
        Some(s) => s.line(),
        None => format!("malformed bytes={} hex={}", p.len(), cli::hex(p)),
    }
}

/// One line for a packet seen: interface, direction, summary.
fn seen_line(seen: &sock::Seen, hexdump: bool) -> String {
    let mut l = format!(
        "if={} dir={} {}",
        sock::ifname(seen.ifindex),
        if seen.outgoing { "out" } else { "in" },
        describe(&seen.data)
    );
    if hexdump && parse::parse(&seen.data).is_some() {
        l += &format!(" hex={}", cli::hex(&seen.data));
    }
    l
}

fn send(s: &Send) -> Result<ExitCode, String> {
    let mut s = s.clone();
    if s.hex.is_none() && s.src.is_none() && s.src_range.is_none() {
        let dst = s.dst.expect("checked by the parser");
        s.src = Some(sock::route_source(dst).map_err(|e| {
            format!("no route to {}: {e} (give --src)", parse::addr_str(dst))
        })?);
    }
    let sender = if s.no_send {
        None
    } else {
        // The neighbour entry looked up for --dev is the destination's.
        let p = s.packet(0);
        let dst = match (&s.dev, s.dst_mac) {
            (Some(_), None) => s
                .dst_of(&p)
                .ok_or("no destination for the neighbour lookup")?,
            _ => s.dst.unwrap_or([0; 4]),
        };
        Some(open_sender(s.dev.as_deref(), s.dst_mac, dst)?)
    };
    // Open before sending, so that nothing is missed.
    let mut sniffer = if s.reply && !s.no_send {
        Some(sock::Sniffer::new(None).map_err(|e| format!("packet socket: {e}"))?)
    } else {
        None
    };
    let total = s.total();
    let mut last = Vec::new();
    let out = std::io::stdout();
    for i in 0..total {
        let p = s.packet(i);
        if s.print {
            let _ = writeln!(out.lock(), "sent {}", describe(&p));
        }
        if s.hexdump {
            let _ = writeln!(out.lock(), "{}", cli::hex(&p));
        }
        if let Some(sender) = &sender {
            let dst = s.dst_of(&p).ok_or("raw: no destination: give --dst")?;
            sender
                .send(&p, dst)
                .map_err(|e| format!("send packet {} of {total}: {e}", i + 1))?;
        }
        if i + 1 < total && !s.interval.is_zero() {
            std::thread::sleep(s.interval);
        }
        last = p;
    }
    let Some(sniffer) = sniffer.as_mut() else {
        return Ok(ExitCode::SUCCESS);
    };
    let Some(sent) = parse::parse(&last) else {
        return Err("--reply: the packet sent is not IPv4".into());
    };
    let deadline = Instant::now() + s.timeout;
    while let Some(seen) = sniffer
        .next(Some(deadline))
        .map_err(|e| format!("receive: {e}"))?
    {
        if seen.outgoing {
            continue;
        }
        let Some(p) = parse::parse(&seen.data) else {
            continue;
        };
        if p.answers(&sent) {
            println!("{}", seen_line(&seen, s.hexdump));
            return Ok(ExitCode::SUCCESS);
        }
    }
    eprintln!("rfpkt: no reply within {:?}", s.timeout);
    Ok(ExitCode::FAILURE)
}

/// A sender for `dev` (to `dst_mac` or the neighbour entry of `dst`), or
/// the raw socket.
fn open_sender(
    dev: Option<&str>,
    dst_mac: Option<[u8; 6]>,
    dst: build::Addr,
) -> Result<sock::Sender, String> {
    let Some(dev) = dev else {
        return sock::Sender::raw().map_err(|e| format!("raw socket: {e}"));
    };
    let mac = match dst_mac {
        Some(m) => m,
        None => sock::neighbour_mac(dst, dev).ok_or_else(|| {
            format!(
                "no neighbour entry for {} on {dev}: give --dst-mac",
                parse::addr_str(dst)
            )
        })?,
    };
    sock::Sender::packet(dev, mac).map_err(|e| format!("packet socket on {dev}: {e}"))
}

fn fuzz(f: &Fuzz) -> Result<ExitCode, String> {
    let src = match f.src {
        Some(a) => a,
        None => sock::route_source(f.dst).map_err(|e| {
            format!("no route to {}: {e} (give --src)", parse::addr_str(f.dst))
        })?,
    };
    let sender = if f.no_send {
        None
    } else {
        Some(open_sender(f.dev.as_deref(), f.dst_mac, f.dst)?)
    };
    let mut gen = fuzz::Gen::new(f.config(src));
    let mut per_class = vec![0u64; fuzz::CLASSES.len()];
    let (mut sent, mut failed) = (0u64, 0u64);
    let mut first_error = None;
    let out = std::io::stdout();
    for i in 0..f.count {
        let (class, p) = gen.next_packet();
        if let Some(n) = fuzz::CLASSES.iter().position(|(c, _, _)| *c == class) {
            per_class[n] += 1;
        }
        if f.print {
            let _ = writeln!(out.lock(), "{} {}", class.name(), describe(&p));
        }
        if f.hexdump {
            let _ = writeln!(out.lock(), "{}", cli::hex(&p));
        }
        if let Some(s) = &sender {
            match s.send(&p, f.dst) {
                Ok(()) => sent += 1,
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| {
                        format!("packet {} ({}, {} bytes): {e}", i + 1, class.name(), p.len())
                    });
                }
            }
        }
        if i + 1 < f.count && !f.interval.is_zero() {
            std::thread::sleep(f.interval);
        }
    }
    let classes: Vec<String> = fuzz::CLASSES
        .iter()
        .zip(&per_class)
        .map(|((_, name, _), n)| format!("{name}={n}"))
        .collect();
    println!(
        "rfpkt fuzz: seed={} packets={} sent={sent} failed={failed} {}",
        f.seed,
        f.count,
        classes.join(" ")
    );
    if let Some(e) = first_error {
        eprintln!("rfpkt fuzz: {failed} packets not sent; the first: {e}");
    }
    Ok(if sender.is_some() && sent == 0 && f.count > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn sniff(f: &Sniff) -> Result<ExitCode, String> {
    let mut sniffer =
        sock::Sniffer::new(f.dev.as_deref()).map_err(|e| format!("packet socket: {e}"))?;
    if let Some(path) = &f.ready {
        std::fs::write(path, b"").map_err(|e| format!("--ready {path}: {e}"))?;
    }
    let deadline = f.timeout.map(|t| Instant::now() + t);
    let mut n = 0;
    while f.count == 0 || n < f.count {
        let Some(seen) = sniffer.next(deadline).map_err(|e| format!("receive: {e}"))? else {
            return Ok(if f.count == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        };
        let wanted = match parse::parse(&seen.data) {
            Some(p) => f.wants(&p, seen.outgoing),
            // Not IPv4 with a whole header: shown unless filtered by
            // anything but interface and direction.
            None => f.wants_malformed(seen.outgoing),
        };
        if !wanted {
            continue;
        }
        println!("{}", seen_line(&seen, f.hexdump));
        n += 1;
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match cli::parse(&args) {
        Ok(Command::Help) => {
            print!("{}", usage());
            Ok(ExitCode::SUCCESS)
        }
        Ok(Command::Send(s)) => send(&s),
        Ok(Command::Sniff(f)) => sniff(&f),
        Ok(Command::Fuzz(f)) => fuzz(&f),
        Ok(Command::Link(l)) => link::set(&l).map(|()| ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("rfpkt: {e}\n(rfpkt --help for usage)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rfpkt: {e}");
            ExitCode::FAILURE
        }
    }
}
