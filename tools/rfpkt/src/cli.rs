// SPDX-License-Identifier: GPL-2.0

//! The command line: options into a [`Send`] or a [`Sniff`], and a
//! [`Send`] into the packets it stands for (pure, so the host tests can
//! check every option).

use std::time::Duration;

use crate::build::{self, Addr, Icmp, Ip, Tcp, TotLen, Udp, ICMP, SYN, TCP, UDP};

/// A number in decimal or with 0x in hex.
pub fn parse_num<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        s.parse::<u64>()
    }
    .map_err(|_| format!("bad number \"{s}\""))?;
    T::try_from(v).map_err(|_| format!("number \"{s}\" out of range"))
}

pub fn parse_addr(s: &str) -> Result<Addr, String> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return Err(format!("bad IPv4 address \"{s}\""));
    }
    let mut a = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        a[i] = p
            .parse()
            .map_err(|_| format!("bad IPv4 address \"{s}\""))?;
    }
    Ok(a)
}

pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("bad MAC address \"{s}\""));
    }
    let mut m = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        m[i] = u8::from_str_radix(p, 16).map_err(|_| format!("bad MAC address \"{s}\""))?;
    }
    Ok(m)
}

/// Bytes in hex, with or without spaces, colons or dashes between them.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != '-')
        .collect();
    let digits = digits
        .strip_prefix("0x")
        .unwrap_or(&digits)
        .to_string();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex \"{s}\" has an odd number of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| format!("bad hex \"{s}\"")))
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("bad time \"{s}\""))?;
    if !(0.0..=1e6).contains(&v) {
        return Err(format!("time \"{s}\" out of range"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// `A-B`, both inclusive, A <= B.
fn parse_range<T: Copy + PartialOrd>(
    s: &str,
    one: impl Fn(&str) -> Result<T, String>,
) -> Result<(T, T), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("bad range \"{s}\": FIRST-LAST"))?;
    let (a, b) = (one(a)?, one(b)?);
    if a > b {
        return Err(format!("bad range \"{s}\": first above last"));
    }
    Ok((a, b))
}

fn proto_num(s: &str) -> Result<u8, String> {
    match s {
        "tcp" => Ok(TCP),
        "udp" => Ok(UDP),
        "icmp" => Ok(ICMP),
        _ => parse_num(s).map_err(|_| format!("bad protocol \"{s}\"")),
    }
}

/// The packet an ICMP error quotes (`--quote-tcp`, `--quote-udp`,
/// `--quote-icmp` and the `--q-*` options).
#[derive(Clone, Debug)]
pub struct QuoteSpec {
    pub proto: u8,
    /// Default: the error's destination (the error goes back to the
    /// sender of the quoted packet).
    pub src: Option<Addr>,
    /// Default: the error's source.
    pub dst: Option<Addr>,
    pub ttl: u8,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    /// Quoted ICMP: type, code, identifier, sequence.
    pub typ: u8,
    pub code: u8,
    pub id: u16,
    pub icmp_seq: u16,
    /// Payload of the original (counts in its total length only).
    pub payload_len: usize,
    /// Transport bytes quoted (RFC 792: 8).
    pub bytes: usize,
}

impl QuoteSpec {
    fn new(proto: u8) -> QuoteSpec {
        QuoteSpec {
            proto,
            src: None,
            dst: None,
            ttl: 64,
            sport: 12345,
            dport: 9,
            seq: 1,
            ack: 0,
            flags: SYN,
            typ: 8,
            code: 0,
            id: 0,
            icmp_seq: 0,
            payload_len: 0,
            bytes: 8,
        }
    }

    /// The quoted bytes, for an error from `outer_src` to `outer_dst`.
    pub fn bytes(&self, outer_src: Addr, outer_dst: Addr) -> Vec<u8> {
        let src = self.src.unwrap_or(outer_dst);
        let dst = self.dst.unwrap_or(outer_src);
        let mut ip = Ip::new(src, dst, self.proto);
        ip.ttl = self.ttl;
        let payload = build::filler(self.payload_len);
        let transport = match self.proto {
            TCP => {
                let mut t = Tcp::new(self.sport, self.dport);
                t.seq = self.seq;
                t.ack = self.ack;
                t.flags = self.flags;
                t.payload = payload;
                t.segment(src, dst)
            }
            UDP => {
                let mut u = Udp::new(self.sport, self.dport);
                u.payload = payload;
                u.segment(src, dst)
            }
            _ => {
                let mut m = Icmp::new(self.typ, self.code);
                m.set_id_seq(self.id, self.icmp_seq);
                m.payload = payload;
                m.message()
            }
        };
        build::quote(&ip, &transport, self.bytes)
    }
}

/// What `rfpkt tcp|udp|icmp|raw` sends.
#[derive(Clone, Debug)]
pub struct Send {
    /// The IP protocol of the transport built (TCP, UDP, ICMP), or 0 for
    /// `raw --hex`.
    pub transport: u8,
    /// `raw --hex`: the whole packet.
    pub hex: Option<Vec<u8>>,
    pub kind: Option<String>,
    /// The IP header; its source and destination are set per packet.
    pub ip: Ip,
    /// The IP protocol field, if not the transport's.
    pub ip_proto: Option<u8>,
    pub src: Option<Addr>,
    pub dst: Option<Addr>,
    pub src_range: Option<(Addr, Addr)>,
    pub sport_range: Option<(u16, u16)>,
    pub dport_range: Option<(u16, u16)>,
    pub tcp: Tcp,
    pub udp: Udp,
    pub icmp: Icmp,
    pub quote: Option<QuoteSpec>,
    /// Cut the transport part to this many bytes.
    pub trunc: Option<usize>,
    /// Packets to send (default: one per tuple of the ranges).
    pub count: Option<u64>,
    pub interval: Duration,
    pub dev: Option<String>,
    pub dst_mac: Option<[u8; 6]>,
    /// Wait for an answer to the last packet and print it.
    pub reply: bool,
    pub timeout: Duration,
    /// Print each packet as sniff would.
    pub print: bool,
    /// Print each packet in hex.
    pub hexdump: bool,
    pub no_send: bool,
}

impl Send {
    fn new(transport: u8) -> Send {
        let mut tcp = Tcp::new(12345, 9);
        tcp.flags = SYN;
        tcp.seq = 1;
        Send {
            transport,
            hex: None,
            kind: None,
            ip: Ip::new([0; 4], [0; 4], transport),
            ip_proto: None,
            src: None,
            dst: None,
            src_range: None,
            sport_range: None,
            dport_range: None,
            tcp,
            udp: Udp::new(12345, 9),
            icmp: Icmp::new(8, 0),
            quote: None,
            trunc: None,
            count: None,
            interval: Duration::ZERO,
            dev: None,
            dst_mac: None,
            reply: false,
            timeout: Duration::from_secs(2),
            print: false,
            hexdump: false,
            no_send: false,
        }
    }

    fn set_payload(&mut self, p: Vec<u8>) {
        self.tcp.payload = p.clone();
        self.udp.payload = p.clone();
        self.icmp.payload = p;
    }

    /// The sources, source ports and destination ports iterated.
    fn axes(&self) -> (Vec<Addr>, Vec<u16>, Vec<u16>) {
        let srcs = match self.src_range {
            Some((a, b)) => (u32::from_be_bytes(a)..=u32::from_be_bytes(b))
                .map(u32::to_be_bytes)
                .collect(),
            None => vec![self.src.unwrap_or([0; 4])],
        };
        let (sport, dport) = match self.transport {
            UDP => (self.udp.sport, self.udp.dport),
            _ => (self.tcp.sport, self.tcp.dport),
        };
        let sports = match self.sport_range {
            Some((a, b)) => (a..=b).collect(),
            None => vec![sport],
        };
        let dports = match self.dport_range {
            Some((a, b)) => (a..=b).collect(),
            None => vec![dport],
        };
        (srcs, sports, dports)
    }

    /// How many packets are sent.
    pub fn total(&self) -> u64 {
        let (s, sp, dp) = self.axes();
        self.count
            .unwrap_or((s.len() * sp.len() * dp.len()) as u64)
    }

    /// Packet `i`: the tuples cycle, source port fastest, then destination
    /// port, then source address.
    pub fn packet(&self, i: u64) -> Vec<u8> {
        if let Some(h) = &self.hex {
            return h.clone();
        }
        let (srcs, sports, dports) = self.axes();
        let n = (srcs.len() * sports.len() * dports.len()) as u64;
        let j = (i % n) as usize;
        let sport = sports[j % sports.len()];
        let dport = dports[(j / sports.len()) % dports.len()];
        let src = srcs[j / (sports.len() * dports.len())];
        let dst = self.dst.unwrap_or([0; 4]);
        let mut ip = self.ip.clone();
        ip.src = src;
        ip.dst = dst;
        ip.proto = self.ip_proto.unwrap_or(self.transport);
        let mut t = match self.transport {
            TCP => {
                let mut t = self.tcp.clone();
                t.sport = sport;
                t.dport = dport;
                t.segment(src, dst)
            }
            UDP => {
                let mut u = self.udp.clone();
                u.sport = sport;
                u.dport = dport;
                u.segment(src, dst)
            }
            _ => {
                let mut m = self.icmp.clone();
                if let Some(q) = &self.quote {
                    m.payload = q.bytes(src, dst);
                }
                m.message()
            }
        };
        if let Some(n) = self.trunc {
            t.truncate(n);
        }
        ip.packet(&t)
    }

    /// The destination of packet bytes `p` (for the raw socket's routing).
    pub fn dst_of(&self, p: &[u8]) -> Option<Addr> {
        self.dst
            .or_else(|| p.get(16..20).and_then(|a| a.try_into().ok()))
    }

    /// Refuses what the raw socket cannot send as asked: it refuses a
    /// packet under 20 bytes or with an IHL below 5, and rewrites the total
    /// length and the header checksum of every other one (and fills in a
    /// zero source address and IP ID).
    pub fn check_sendable(&self) -> Result<(), String> {
        if self.dev.is_some() || self.no_send {
            return Ok(());
        }
        let (ihl, fixed_fields_broken) = match &self.hex {
            Some(h) => (h.first().map_or(0, |b| b & 0x0f), false),
            None => (
                self.ip.ihl_field(),
                self.ip.tot_len != TotLen::Computed || self.ip.bad_csum,
            ),
        };
        if ihl < 5 || self.hex.as_ref().is_some_and(|h| h.len() < 20) {
            return Err(
                "the raw socket refuses a packet shorter than 20 bytes or with IHL < 5: \
                 send it with --dev IFACE [--dst-mac MAC]"
                    .into(),
            );
        }
        if fixed_fields_broken {
            return Err(
                "the raw socket rewrites the total length and header checksum: \
                 send the packet with --dev IFACE [--dst-mac MAC]"
                    .into(),
            );
        }
        Ok(())
    }
}

/// The named malformed packets of `raw --kind`, and what each is.
pub const KINDS: &[(&str, &str)] = &[
    ("bad-ihl", "UDP with IHL 4 (--ihl N) (needs --dev)"),
    ("bad-version", "UDP with IP version 6 in an IPv4 packet (--version N)"),
    ("long-total", "UDP with a total length 100 bytes beyond the packet (needs --dev)"),
    ("short-total", "UDP with a total length of 24: half the UDP header (needs --dev)"),
    ("bad-ipcsum", "UDP with a wrong header checksum (needs --dev)"),
    ("trunc-tcp", "a TCP SYN cut to 10 bytes of header (--trunc N)"),
    ("trunc-udp", "UDP cut to 4 bytes of header"),
    ("trunc-icmp", "an echo request cut to 4 bytes of header"),
    ("trunc-quote", "a port unreachable quoting an IP header and 2 bytes of UDP"),
    ("ip-options", "UDP with IP options NOP NOP NOP EOL (--ip-options HEX)"),
    ("frag-first", "a first fragment: UDP header and 16 bytes, MF"),
    ("frag", "a later fragment: offset 8 (--frag-offset N), 16 bytes, last"),
    ("bad-doff", "a TCP SYN whose data offset (15) is beyond the segment (--doff N)"),
    ("udp-badlen", "UDP whose length field (1000) is beyond the packet (--udp-len N)"),
    ("udp-shortlen", "UDP whose length field is 4, below the header"),
];

/// Sets `s` up as `kind`; options given after override.
fn apply_kind(s: &mut Send, kind: &str) -> Result<(), String> {
    let udp = |s: &mut Send| {
        s.transport = UDP;
    };
    match kind {
        "bad-ihl" => {
            udp(s);
            s.ip.ihl = Some(4);
        }
        "bad-version" => {
            udp(s);
            s.ip.version = 6;
        }
        "long-total" => {
            udp(s);
            s.ip.tot_len = TotLen::Delta(100);
        }
        "short-total" => {
            udp(s);
            s.ip.tot_len = TotLen::Exact(24);
        }
        "bad-ipcsum" => {
            udp(s);
            s.ip.bad_csum = true;
        }
        "trunc-tcp" => {
            s.transport = TCP;
            s.trunc = Some(10);
        }
        "trunc-udp" => {
            udp(s);
            s.trunc = Some(4);
        }
        "trunc-icmp" => {
            s.transport = ICMP;
            s.trunc = Some(4);
        }
        "trunc-quote" => {
            s.transport = ICMP;
            s.icmp = Icmp::new(3, 3);
            let mut q = QuoteSpec::new(UDP);
            q.bytes = 2;
            s.quote = Some(q);
        }
        "ip-options" => {
            udp(s);
            s.ip.options = vec![1, 1, 1, 0];
        }
        "frag-first" => {
            udp(s);
            s.ip.mf = true;
            s.set_payload(build::filler(16));
        }
        "frag" => {
            udp(s);
            s.ip.frag_offset = 8;
            s.set_payload(build::filler(8));
        }
        "bad-doff" => {
            s.transport = TCP;
            s.tcp.doff = Some(15);
        }
        "udp-badlen" => {
            udp(s);
            s.udp.len = Some(1000);
        }
        "udp-shortlen" => {
            udp(s);
            s.udp.len = Some(4);
        }
        _ => {
            return Err(format!(
                "unknown kind \"{kind}\"; kinds: {}",
                KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ))
        }
    }
    s.kind = Some(kind.into());
    Ok(())
}

/// What `rfpkt sniff` shows.
#[derive(Clone, Debug, Default)]
pub struct Sniff {
    pub dev: Option<String>,
    /// Stop after this many packets (0: until the time-out).
    pub count: u64,
    /// None: wait for ever.
    pub timeout: Option<Duration>,
    pub proto: Option<u8>,
    pub host: Option<Addr>,
    pub port: Option<u16>,
    pub src: Option<Addr>,
    pub dst: Option<Addr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub only_in: bool,
    pub only_out: bool,
    pub ready: Option<String>,
    pub hexdump: bool,
}

impl Sniff {
    /// Whether a packet that cannot be parsed passes the filters: only if
    /// they are about interface and direction.
    pub fn wants_malformed(&self, outgoing: bool) -> bool {
        (!self.only_in || !outgoing)
            && (!self.only_out || outgoing)
            && self.proto.is_none()
            && self.host.is_none()
            && self.port.is_none()
            && self.src.is_none()
            && self.dst.is_none()
            && self.sport.is_none()
            && self.dport.is_none()
    }

    /// Whether a packet passes the filters.
    pub fn wants(&self, p: &crate::parse::Summary, outgoing: bool) -> bool {
        let ports = p.ports();
        (!self.only_in || !outgoing)
            && (!self.only_out || outgoing)
            && self.proto.is_none_or(|x| x == p.proto)
            && self.host.is_none_or(|h| h == p.src || h == p.dst)
            && self.src.is_none_or(|a| a == p.src)
            && self.dst.is_none_or(|a| a == p.dst)
            && self
                .port
                .is_none_or(|x| ports.is_some_and(|(s, d)| s == x || d == x))
            && self.sport.is_none_or(|x| ports.is_some_and(|(s, _)| s == x))
            && self.dport.is_none_or(|x| ports.is_some_and(|(_, d)| d == x))
    }
}

pub enum Command {
    Send(Box<Send>),
    Sniff(Sniff),
    Fuzz(Fuzz),
    Link(Link),
    Help,
}

/// What `rfpkt link` sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The devices, each set in turn.
    pub devs: Vec<String>,
    /// (IFLA_* attribute, value), in the order given.
    pub sizes: Vec<(u16, u32)>,
}

fn parse_link(args: &[String]) -> Result<Link, String> {
    let mut devs = Vec::new();
    let mut sizes: Vec<(u16, u32)> = Vec::new();
    let mut it = args.iter();
    while let Some(o) = it.next() {
        let o = o.as_str();
        let attr = crate::link::SIZES.iter().find(|(opt, _)| *opt == o);
        if o != "--dev" && attr.is_none() {
            return Err(if o.starts_with("--") {
                format!("link: unknown option {o}")
            } else {
                format!("link: unexpected argument \"{o}\"")
            });
        }
        let v = it.next().ok_or_else(|| format!("{o} needs a value"))?;
        match attr {
            None => devs.push(v.clone()),
            Some((_, typ)) if sizes.iter().any(|(t, _)| t == typ) => {
                return Err(format!("link: {o} given twice"))
            }
            Some((_, typ)) => sizes.push((*typ, num(o, v)?)),
        }
    }
    if devs.is_empty() {
        return Err("link: needs --dev IFACE".into());
    }
    if sizes.is_empty() {
        return Err("link: nothing to set".into());
    }
    Ok(Link { devs, sizes })
}

/// What `rfpkt fuzz` sends.
#[derive(Clone, Debug)]
pub struct Fuzz {
    /// Destination and seed are the generator's; the source too, once known
    /// (`None`: the address the route to the destination uses).
    pub src: Option<Addr>,
    pub dst: Addr,
    pub seed: u64,
    pub ports: Vec<u16>,
    pub only: Vec<crate::fuzz::Class>,
    pub count: u64,
    pub interval: Duration,
    pub dev: Option<String>,
    pub dst_mac: Option<[u8; 6]>,
    pub print: bool,
    pub hexdump: bool,
    pub no_send: bool,
}

impl Fuzz {
    /// The generator's configuration, with the source address decided.
    pub fn config(&self, src: Addr) -> crate::fuzz::Config {
        crate::fuzz::Config {
            src,
            dst: self.dst,
            seed: self.seed,
            ports: self.ports.clone(),
            only: self.only.clone(),
        }
    }
}

fn parse_fuzz(args: &[String]) -> Result<Fuzz, String> {
    let mut f = Fuzz {
        src: None,
        dst: [0; 4],
        seed: 1,
        ports: Vec::new(),
        only: Vec::new(),
        count: 1000,
        interval: Duration::ZERO,
        dev: None,
        dst_mac: None,
        print: false,
        hexdump: false,
        no_send: false,
    };
    let mut dst = None;
    let mut it = args.iter();
    while let Some(o) = it.next() {
        let o = o.as_str();
        match o {
            "--print" => f.print = true,
            "--hexdump" => f.hexdump = true,
            "--no-send" => f.no_send = true,
            "--src" | "--dst" | "--seed" | "--count" | "--ports" | "--only" | "--dev"
            | "--dst-mac" | "--interval-ms" => {
                let v = it.next().ok_or_else(|| format!("{o} needs a value"))?;
                match o {
                    "--src" => f.src = Some(addr(o, v)?),
                    "--dst" => dst = Some(addr(o, v)?),
                    "--seed" => f.seed = num(o, v)?,
                    "--count" => f.count = num(o, v)?,
                    "--ports" => {
                        f.ports = v
                            .split(',')
                            .map(|p| num(o, p))
                            .collect::<Result<Vec<u16>, String>>()?
                    }
                    "--only" => {
                        f.only = v
                            .split(',')
                            .map(|c| {
                                crate::fuzz::Class::from_name(c).ok_or_else(|| {
                                    format!(
                                        "--only: unknown class \"{c}\"; classes: {}",
                                        crate::fuzz::CLASSES
                                            .iter()
                                            .map(|(_, n, _)| *n)
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    )
                                })
                            })
                            .collect::<Result<Vec<_>, String>>()?
                    }
                    "--dev" => f.dev = Some(v.clone()),
                    "--dst-mac" => f.dst_mac = Some(parse_mac(v)?),
                    _ => f.interval = parse_secs(v)? / 1000,
                }
            }
            _ if o.starts_with("--") => return Err(format!("fuzz: unknown option {o}")),
            _ => return Err(format!("fuzz: unexpected argument \"{o}\"")),
        }
    }
    f.dst = dst.ok_or("fuzz: needs --dst ADDR")?;
    if f.dst_mac.is_some() && f.dev.is_none() {
        return Err("fuzz: --dst-mac needs --dev".into());
    }
    Ok(f)
}

/// Options taking no value, per command ("*" for every sending command).
const FLAGS: &[(&str, &str)] = &[
    ("*", "--df"),
    ("*", "--mf"),
    ("*", "--bad-ipcsum"),
    ("*", "--bad-csum"),
    ("*", "--reply"),
    ("*", "--print"),
    ("*", "--hexdump"),
    ("*", "--no-send"),
    ("tcp", "--sack-perm"),
    ("udp", "--no-csum"),
    ("icmp", "--quote-tcp"),
    ("icmp", "--quote-udp"),
    ("icmp", "--quote-icmp"),
    ("sniff", "--in"),
    ("sniff", "--out"),
    ("sniff", "--hexdump"),
];

/// Options taking a value, per command.
const VALUED: &[(&str, &str)] = &[
    ("*", "--src"),
    ("*", "--dst"),
    ("*", "--src-range"),
    ("*", "--ttl"),
    ("*", "--tos"),
    ("*", "--ip-id"),
    ("*", "--frag-offset"),
    ("*", "--ip-options"),
    ("*", "--ihl"),
    ("*", "--tot-len"),
    ("*", "--version"),
    ("*", "--ip-proto"),
    ("*", "--count"),
    ("*", "--interval-ms"),
    ("*", "--dev"),
    ("*", "--dst-mac"),
    ("*", "--timeout"),
    ("*", "--trunc"),
    ("*", "--payload-len"),
    ("*", "--data"),
    ("*", "--payload"),
    ("tcp", "--sport"),
    ("tcp", "--dport"),
    ("tcp", "--sport-range"),
    ("tcp", "--dport-range"),
    ("tcp", "--flags"),
    ("tcp", "--seq"),
    ("tcp", "--ack"),
    ("tcp", "--win"),
    ("tcp", "--urg"),
    ("tcp", "--mss"),
    ("tcp", "--wscale"),
    ("tcp", "--doff"),
    ("tcp", "--tcp-options"),
    ("udp", "--sport"),
    ("udp", "--dport"),
    ("udp", "--sport-range"),
    ("udp", "--dport-range"),
    ("udp", "--udp-len"),
    ("icmp", "--type"),
    ("icmp", "--code"),
    ("icmp", "--id"),
    ("icmp", "--seq"),
    ("icmp", "--mtu"),
    ("icmp", "--gateway"),
    ("icmp", "--rest"),
    ("icmp", "--q-src"),
    ("icmp", "--q-dst"),
    ("icmp", "--q-ttl"),
    ("icmp", "--q-sport"),
    ("icmp", "--q-dport"),
    ("icmp", "--q-seq"),
    ("icmp", "--q-ack"),
    ("icmp", "--q-flags"),
    ("icmp", "--q-type"),
    ("icmp", "--q-code"),
    ("icmp", "--q-id"),
    ("icmp", "--q-icmp-seq"),
    ("icmp", "--q-payload-len"),
    ("icmp", "--q-bytes"),
    ("raw", "--hex"),
    ("raw", "--kind"),
    ("sniff", "--dev"),
    ("sniff", "--count"),
    ("sniff", "--timeout"),
    ("sniff", "--proto"),
    ("sniff", "--host"),
    ("sniff", "--port"),
    ("sniff", "--src"),
    ("sniff", "--dst"),
    ("sniff", "--sport"),
    ("sniff", "--dport"),
    ("sniff", "--ready"),
];

fn known(table: &[(&str, &str)], cmd: &str, opt: &str) -> bool {
    table
        .iter()
        .any(|(c, o)| *o == opt && (*c == cmd || (*c == "*" && cmd != "sniff")))
}

/// The options as (name, value) pairs, checked against what `cmd` (the
/// protocol command: tcp, udp, icmp, raw or sniff) takes.
fn split(cmd: &str, args: &[String]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if known(FLAGS, cmd, a) {
            out.push((a.clone(), None));
        } else if known(VALUED, cmd, a) {
            let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            out.push((a.clone(), Some(v.clone())));
        } else if a.starts_with("--") {
            return Err(format!("{cmd}: unknown option {a}"));
        } else {
            return Err(format!("{cmd}: unexpected argument \"{a}\""));
        }
    }
    Ok(out)
}

fn num<T: TryFrom<u64>>(opt: &str, v: &str) -> Result<T, String> {
    parse_num(v).map_err(|e| format!("{opt}: {e}"))
}

fn addr(opt: &str, v: &str) -> Result<Addr, String> {
    parse_addr(v).map_err(|e| format!("{opt}: {e}"))
}

/// Parses the command line after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some(cmd) = args.first() else {
        return Ok(Command::Help);
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "sniff" => parse_sniff(rest).map(Command::Sniff),
        "fuzz" => parse_fuzz(rest).map(Command::Fuzz),
        "link" => parse_link(rest).map(Command::Link),
        "tcp" | "udp" | "icmp" | "raw" => parse_send(cmd, rest).map(|s| Command::Send(Box::new(s))),
        _ => Err(format!("unknown command \"{cmd}\"")),
    }
}

fn parse_sniff(args: &[String]) -> Result<Sniff, String> {
    let mut s = Sniff {
        timeout: Some(Duration::from_secs(10)),
        ..Sniff::default()
    };
    for (o, v) in split("sniff", args)? {
        let v = v.unwrap_or_default();
        match o.as_str() {
            "--in" => s.only_in = true,
            "--out" => s.only_out = true,
            "--hexdump" => s.hexdump = true,
            "--dev" => s.dev = Some(v),
            "--count" => s.count = num(&o, &v)?,
            "--timeout" => {
                let t = parse_secs(&v)?;
                s.timeout = (!t.is_zero()).then_some(t);
            }
            "--proto" => s.proto = Some(proto_num(&v)?),
            "--host" => s.host = Some(addr(&o, &v)?),
            "--src" => s.src = Some(addr(&o, &v)?),
            "--dst" => s.dst = Some(addr(&o, &v)?),
            "--port" => s.port = Some(num(&o, &v)?),
            "--sport" => s.sport = Some(num(&o, &v)?),
            "--dport" => s.dport = Some(num(&o, &v)?),
            "--ready" => s.ready = Some(v),
            _ => unreachable!("{o}"),
        }
    }
    if s.only_in && s.only_out {
        return Err("sniff: --in and --out exclude each other".into());
    }
    Ok(s)
}

fn parse_send(cmd: &str, args: &[String]) -> Result<Send, String> {
    let transport = match cmd {
        "tcp" => TCP,
        "udp" => UDP,
        _ => ICMP,
    };
    let mut s = Send::new(transport);
    // raw: --kind first sets the packet up, or --hex gives it whole.
    let mut opt_cmd = cmd.to_string();
    if cmd == "raw" {
        let pairs = split_lenient(args);
        let kind = pairs.iter().find(|(o, _)| o == "--kind").map(|(_, v)| v.clone());
        let hex = pairs.iter().find(|(o, _)| o == "--hex").map(|(_, v)| v.clone());
        match (kind, hex) {
            (Some(_), Some(_)) => return Err("raw: --kind and --hex exclude each other".into()),
            (None, None) => return Err("raw: needs --hex BYTES or --kind NAME".into()),
            (Some(k), None) => {
                apply_kind(&mut s, &k)?;
                // The kind's protocol decides which options apply.
                opt_cmd = match s.transport {
                    TCP => "tcp",
                    UDP => "udp",
                    _ => "icmp",
                }
                .into();
            }
            (None, Some(h)) => {
                let bytes = parse_hex(&h)?;
                if bytes.is_empty() {
                    return Err("raw: --hex gives no bytes".into());
                }
                s.hex = Some(bytes);
                s.transport = 0;
            }
        }
    }
    let pairs = if cmd == "raw" {
        // --kind and --hex are raw's own; the rest go by the kind's protocol.
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--kind" || a == "--hex" {
                it.next();
            } else {
                rest.push(a.clone());
            }
        }
        split(&opt_cmd, &rest)?
    } else {
        split(cmd, args)?
    };
    if s.hex.is_some() {
        const FOR_HEX: &[&str] = &[
            "--dst",
            "--count",
            "--interval-ms",
            "--dev",
            "--dst-mac",
            "--timeout",
            "--reply",
            "--print",
            "--hexdump",
            "--no-send",
        ];
        if let Some((o, _)) = pairs.iter().find(|(o, _)| !FOR_HEX.contains(&o.as_str())) {
            return Err(format!("raw --hex: {o} does not apply: the bytes are sent as they are"));
        }
    }
    for (o, v) in pairs {
        let v = v.unwrap_or_default();
        let o = o.as_str();
        match o {
            "--df" => s.ip.df = true,
            "--mf" => s.ip.mf = true,
            "--bad-ipcsum" => s.ip.bad_csum = true,
            "--bad-csum" => {
                s.tcp.bad_csum = true;
                s.udp.bad_csum = true;
                s.icmp.bad_csum = true;
            }
            "--reply" => s.reply = true,
            "--print" => s.print = true,
            "--hexdump" => s.hexdump = true,
            "--no-send" => s.no_send = true,
            "--sack-perm" => s.tcp.sack_perm = true,
            "--no-csum" => s.udp.no_csum = true,
            "--quote-tcp" | "--quote-udp" | "--quote-icmp" => {
                let p = match o {
                    "--quote-tcp" => TCP,
                    "--quote-udp" => UDP,
                    _ => ICMP,
                };
                let mut q = s.quote.take().unwrap_or_else(|| QuoteSpec::new(p));
                q.proto = p;
                s.quote = Some(q);
            }
            "--src" => s.src = Some(addr(o, &v)?),
            "--dst" => s.dst = Some(addr(o, &v)?),
            "--src-range" => s.src_range = Some(parse_range(&v, parse_addr)?),
            "--ttl" => s.ip.ttl = num(o, &v)?,
            "--tos" => s.ip.tos = num(o, &v)?,
            "--ip-id" => s.ip.id = num(o, &v)?,
            "--frag-offset" => {
                let off: u16 = num(o, &v)?;
                if !off.is_multiple_of(8) || off > 0x1fff * 8 {
                    return Err(format!("{o}: {off} is not a multiple of 8 up to 65528"));
                }
                s.ip.frag_offset = off;
            }
            "--ip-options" => {
                let b = parse_hex(&v)?;
                if b.len() > 40 {
                    return Err(format!("{o}: {} bytes, at most 40", b.len()));
                }
                s.ip.options = b;
            }
            "--ihl" => {
                let n: u8 = num(o, &v)?;
                if n > 15 {
                    return Err(format!("{o}: at most 15"));
                }
                s.ip.ihl = Some(n);
            }
            "--tot-len" => s.ip.tot_len = TotLen::Exact(num(o, &v)?),
            "--version" => {
                let n: u8 = num(o, &v)?;
                if n > 15 {
                    return Err(format!("{o}: at most 15"));
                }
                s.ip.version = n;
            }
            "--ip-proto" => s.ip_proto = Some(proto_num(&v)?),
            "--count" => s.count = Some(num(o, &v)?),
            "--interval-ms" => s.interval = parse_secs(&v)? / 1000,
            "--dev" => s.dev = Some(v),
            "--dst-mac" => s.dst_mac = Some(parse_mac(&v)?),
            "--timeout" => s.timeout = parse_secs(&v)?,
            "--trunc" => s.trunc = Some(num(o, &v)?),
            "--payload-len" => {
                let n: usize = num(o, &v)?;
                if n > 65535 {
                    return Err(format!("{o}: at most 65535"));
                }
                s.set_payload(build::filler(n));
            }
            "--data" => s.set_payload(v.into_bytes()),
            "--payload" => s.set_payload(parse_hex(&v)?),
            "--sport" => {
                s.tcp.sport = num(o, &v)?;
                s.udp.sport = s.tcp.sport;
            }
            "--dport" => {
                s.tcp.dport = num(o, &v)?;
                s.udp.dport = s.tcp.dport;
            }
            "--sport-range" => s.sport_range = Some(parse_range(&v, |x| num(o, x))?),
            "--dport-range" => s.dport_range = Some(parse_range(&v, |x| num(o, x))?),
            "--flags" => s.tcp.flags = build::parse_flags(&v)?,
            "--seq" if s.transport == TCP => s.tcp.seq = num(o, &v)?,
            "--ack" => s.tcp.ack = num(o, &v)?,
            "--win" => s.tcp.win = num(o, &v)?,
            "--urg" => s.tcp.urg = num(o, &v)?,
            "--mss" => s.tcp.mss = Some(num(o, &v)?),
            "--wscale" => s.tcp.wscale = Some(num(o, &v)?),
            "--doff" => {
                let n: u8 = num(o, &v)?;
                if n > 15 {
                    return Err(format!("{o}: at most 15"));
                }
                s.tcp.doff = Some(n);
            }
            "--tcp-options" => s.tcp.options = parse_hex(&v)?,
            "--udp-len" => s.udp.len = Some(num(o, &v)?),
            "--type" => s.icmp.typ = num(o, &v)?,
            "--code" => s.icmp.code = num(o, &v)?,
            "--id" => {
                let id: u16 = num(o, &v)?;
                s.icmp.rest[..2].copy_from_slice(&id.to_be_bytes());
            }
            "--seq" => {
                let seq: u16 = num(o, &v)?;
                s.icmp.rest[2..].copy_from_slice(&seq.to_be_bytes());
            }
            "--mtu" => {
                let mtu: u16 = num(o, &v)?;
                s.icmp.rest[2..].copy_from_slice(&mtu.to_be_bytes());
            }
            "--gateway" => s.icmp.rest = addr(o, &v)?,
            "--rest" => {
                let b = parse_hex(&v)?;
                s.icmp.rest = b
                    .try_into()
                    .map_err(|_| format!("{o}: exactly 4 bytes of hex"))?;
            }
            q if q.starts_with("--q-") => {
                let spec = s.quote.as_mut().ok_or_else(|| {
                    format!("{q} needs --quote-tcp, --quote-udp or --quote-icmp before it")
                })?;
                match q {
                    "--q-src" => spec.src = Some(addr(q, &v)?),
                    "--q-dst" => spec.dst = Some(addr(q, &v)?),
                    "--q-ttl" => spec.ttl = num(q, &v)?,
                    "--q-sport" => spec.sport = num(q, &v)?,
                    "--q-dport" => spec.dport = num(q, &v)?,
                    "--q-seq" => spec.seq = num(q, &v)?,
                    "--q-ack" => spec.ack = num(q, &v)?,
                    "--q-flags" => spec.flags = build::parse_flags(&v)?,
                    "--q-type" => spec.typ = num(q, &v)?,
                    "--q-code" => spec.code = num(q, &v)?,
                    "--q-id" => spec.id = num(q, &v)?,
                    "--q-icmp-seq" => spec.icmp_seq = num(q, &v)?,
                    "--q-payload-len" => spec.payload_len = num(q, &v)?,
                    "--q-bytes" => spec.bytes = num(q, &v)?,
                    _ => unreachable!("{q}"),
                }
            }
            _ => unreachable!("{o}"),
        }
    }
    if s.hex.is_none() && s.dst.is_none() {
        return Err(format!("{cmd}: needs --dst ADDR"));
    }
    if s.src.is_some() && s.src_range.is_some() {
        return Err(format!("{cmd}: --src and --src-range exclude each other"));
    }
    if s.dst_mac.is_some() && s.dev.is_none() {
        return Err(format!("{cmd}: --dst-mac needs --dev"));
    }
    if let Some((a, b)) = s.src_range {
        if u32::from_be_bytes(b) - u32::from_be_bytes(a) >= 1 << 20 {
            return Err(format!("{cmd}: --src-range: at most 2^20 addresses"));
        }
    }
    if s.quote.is_some() && s.transport == ICMP && !s.icmp.payload.is_empty() {
        return Err(format!("{cmd}: a quoted packet is the payload; no --data/--payload"));
    }
    s.check_sendable()?;
    Ok(s)
}

/// Option and value pairs without checking, to find --kind and --hex.
fn split_lenient(args: &[String]) -> Vec<(String, String)> {
    args.windows(2)
        .filter(|w| w[0] == "--kind" || w[0] == "--hex")
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csum::tests::{pseudo_bytes, reference};
    use crate::parse::{parse as summary, L4};

    fn send(line: &str) -> Result<Send, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse(&args)? {
            Command::Send(s) => Ok(*s),
            _ => panic!("not a send command"),
        }
    }

    fn transport_ok(p: &[u8]) -> bool {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        let src: Addr = p[12..16].try_into().unwrap();
        let dst: Addr = p[16..20].try_into().unwrap();
        let t = &p[ihl..];
        if p[9] == ICMP {
            return reference(t) == 0;
        }
        let mut whole = pseudo_bytes(src, dst, p[9], t.len());
        whole.extend_from_slice(t);
        reference(&whole) == 0
    }

    #[test]
    fn tcp_segment_from_options() {
        let s = send(
            "tcp --src 10.0.1.50 --dst 10.0.2.2 --sport 40000 --dport 5001 --flags PA \
             --seq 1001 --ack 0x10 --win 501 --payload-len 10 --ttl 9",
        )
        .unwrap();
        assert_eq!(s.total(), 1);
        let p = s.packet(0);
        assert_eq!(p.len(), 50);
        assert_eq!(reference(&p[..20]), 0);
        assert!(transport_ok(&p));
        let sum = summary(&p).unwrap();
        assert_eq!(sum.ttl, 9);
        assert_eq!(
            sum.l4,
            L4::Tcp {
                sport: 40000,
                dport: 5001,
                flags: build::PSH | build::ACK,
                seq: 1001,
                ack: 16,
                win: 501,
                len: 10
            }
        );
    }

    #[test]
    fn ranges_iterate_every_tuple() {
        let s = send(
            "tcp --src-range 10.0.1.100-10.0.1.101 --dst 10.0.2.2 --sport-range 1000-1002 --dport 9",
        )
        .unwrap();
        assert_eq!(s.total(), 6);
        let mut seen = Vec::new();
        for i in 0..6 {
            let p = s.packet(i);
            assert!(transport_ok(&p), "packet {i}");
            let sum = summary(&p).unwrap();
            seen.push((sum.src[3], sum.ports().unwrap().0));
        }
        assert_eq!(
            seen,
            [(100, 1000), (100, 1001), (100, 1002), (101, 1000), (101, 1001), (101, 1002)]
        );
        // --count cycles through them.
        let s = send("udp --src-range 10.0.1.1-10.0.1.2 --dst 10.0.2.2 --count 5").unwrap();
        assert_eq!(s.total(), 5);
        assert_eq!(summary(&s.packet(4)).unwrap().src, [10, 0, 1, 1]);
    }

    #[test]
    fn icmp_error_quoting_udp() {
        let s = send(
            "icmp --src 10.0.2.2 --dst 10.0.1.2 --type 3 --code 3 --quote-udp \
             --q-sport 40000 --q-dport 7777",
        )
        .unwrap();
        let p = s.packet(0);
        assert!(transport_ok(&p));
        let sum = summary(&p).unwrap();
        assert!(
            sum.line().contains(
                "type=3 code=3 qsrc=10.0.1.2 qdst=10.0.2.2 qproto=udp qsport=40000 qdport=7777"
            ),
            "{}",
            sum.line()
        );
        // 20 + 8 + 20 + 8
        assert_eq!(p.len(), 56);
        assert_eq!(reference(&p[28..48]), 0, "quoted header checksum");
    }

    #[test]
    fn icmp_error_quoting_tcp_with_explicit_addresses() {
        let s = send(
            "icmp --src 10.0.2.1 --dst 10.0.1.2 --type 11 --quote-tcp --q-src 10.0.1.2 \
             --q-dst 10.0.2.2 --q-sport 1 --q-dport 2 --q-seq 77 --q-bytes 20",
        )
        .unwrap();
        let p = s.packet(0);
        assert!(transport_ok(&p));
        assert_eq!(p.len(), 20 + 8 + 20 + 20);
        let l = summary(&p).unwrap().line();
        assert!(l.contains("qdst=10.0.2.2 qproto=tcp qsport=1 qdport=2 qseq=77"), "{l}");
    }

    #[test]
    fn echo_request() {
        let s = send("icmp --src 10.0.1.2 --dst 10.0.2.2 --id 7 --seq 3 --data hi").unwrap();
        let p = s.packet(0);
        assert!(transport_ok(&p));
        assert!(summary(&p).unwrap().line().contains("type=8 code=0 id=7 seq=3"));
        assert_eq!(&p[28..], b"hi");
    }

    #[test]
    fn bad_checksums() {
        let s = send("udp --src 10.0.1.2 --dst 10.0.2.2 --bad-csum").unwrap();
        let p = s.packet(0);
        assert_eq!(reference(&p[..20]), 0);
        assert!(!transport_ok(&p));
        assert!(send("udp --src 10.0.1.2 --dst 10.0.2.2 --bad-ipcsum").is_err());
        let s = send("udp --src 10.0.1.2 --dst 10.0.2.2 --bad-ipcsum --dev eth0").unwrap();
        let p = s.packet(0);
        assert_ne!(reference(&p[..20]), 0);
        assert!(transport_ok(&p));
    }

    #[test]
    fn raw_kinds() {
        let base = "--src 10.0.1.2 --dst 10.0.2.2";
        for (kind, _) in KINDS {
            let needs_dev = matches!(*kind, "long-total" | "short-total" | "bad-ipcsum" | "bad-ihl");
            let r = send(&format!("raw --kind {kind} {base}"));
            assert_eq!(r.is_err(), needs_dev, "{kind}");
            let s = send(&format!("raw --kind {kind} {base} --dev eth0")).unwrap();
            let p = s.packet(0);
            assert!(p.len() >= 20, "{kind}");
        }
        let p = send(&format!("raw --kind bad-ihl --dev eth0 {base}")).unwrap().packet(0);
        assert_eq!(p[0], 0x44);
        assert_eq!(reference(&p[..16]), 0);
        let p = send(&format!("raw --kind bad-ihl --ihl 2 --dev eth0 {base}")).unwrap().packet(0);
        assert_eq!(p[0], 0x42);
        let p = send(&format!("raw --kind trunc-tcp {base}")).unwrap().packet(0);
        assert_eq!(p.len(), 30);
        assert_eq!(p[9], TCP);
        let p = send(&format!("raw --kind trunc-tcp --trunc 3 {base}")).unwrap().packet(0);
        assert_eq!(p.len(), 23);
        let p = send(&format!("raw --kind trunc-quote {base}")).unwrap().packet(0);
        assert_eq!(p.len(), 20 + 8 + 20 + 2);
        let p = send(&format!("raw --kind ip-options {base}")).unwrap().packet(0);
        assert_eq!(p[0], 0x46);
        assert!(transport_ok(&p));
        let p = send(&format!("raw --kind frag --frag-offset 64 {base}")).unwrap().packet(0);
        assert_eq!(summary(&p).unwrap().frag_offset, 64);
        let p = send(&format!("raw --kind frag-first {base}")).unwrap().packet(0);
        let sum = summary(&p).unwrap();
        assert!(sum.mf && sum.frag_offset == 0);
        let p = send(&format!("raw --kind long-total --dev eth0 {base}")).unwrap().packet(0);
        assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len() + 100);
        let p = send(&format!("raw --kind udp-badlen {base}")).unwrap().packet(0);
        assert_eq!(&p[24..26], &1000u16.to_be_bytes());
        let p = send(&format!("raw --kind bad-doff {base}")).unwrap().packet(0);
        assert_eq!(p[32], 0xf0);
        assert!(send("raw --kind nonsense --dst 10.0.2.2").is_err());
        // Protocol options go by the kind.
        assert!(send(&format!("raw --kind trunc-tcp --flags SA {base}")).is_ok());
        assert!(send(&format!("raw --kind trunc-udp --flags SA {base}")).is_err());
    }

    #[test]
    fn raw_hex() {
        let s = send("raw --hex 45000014:00000000:40ff0000:0a000102:0a000202").unwrap();
        assert_eq!(s.packet(0).len(), 20);
        assert_eq!(s.dst_of(&s.packet(0)), Some([10, 0, 2, 2]));
        assert!(send("raw --hex 4500 --dst 10.0.2.2").is_err(), "shorter than a header");
        assert!(send("raw --hex 4500 --dst 10.0.2.2 --dev eth0").is_ok());
        assert!(send("raw --hex 4500 --dev eth0").is_ok());
        assert!(send("raw --hex 450").is_err());
        assert!(send("raw --hex 4500 --ttl 3").is_err());
    }

    #[test]
    fn bad_command_lines() {
        assert!(send("tcp --src 10.0.1.2").is_err(), "no --dst");
        assert!(send("udp --dst 10.0.2.2 --flags S").is_err(), "tcp option on udp");
        assert!(send("tcp --dst 10.0.2.2 --sport 70000").is_err());
        assert!(send("tcp --dst 10.0.2.2 --sport-range 9-3").is_err());
        assert!(send("tcp --dst 10.0.2.2 --frag-offset 3").is_err());
        assert!(send("icmp --dst 10.0.2.2 --q-sport 3").is_err(), "--q-* without a quote");
        assert!(send("tcp --dst 10.0.2.2 --dst-mac 00:11:22:33:44:55").is_err());
        assert!(send("tcp --dst 10.0.2.2 --bogus").is_err());
        assert!(send("tcp --dst 10.0.2.2 --seq").is_err());
        assert!(send("tcp --dst 10.0.2.300").is_err());
        assert!(parse(&["frob".to_string()]).is_err());
    }

    #[test]
    fn sniff_filters() {
        let args: Vec<String> = "--proto tcp --port 5001 --in --count 2"
            .split_whitespace()
            .map(String::from)
            .collect();
        let f = parse_sniff(&args).unwrap();
        let mut t = Tcp::new(5001, 40000);
        t.flags = SYN | build::ACK;
        let a = [10, 0, 2, 2];
        let b = [10, 0, 1, 50];
        let p = summary(&Ip::new(a, b, TCP).packet(&t.segment(a, b))).unwrap();
        assert!(f.wants(&p, false));
        assert!(!f.wants(&p, true));
        t.sport = 5002;
        let p = summary(&Ip::new(a, b, TCP).packet(&t.segment(a, b))).unwrap();
        assert!(!f.wants(&p, false));
        assert_eq!(f.count, 2);
        assert!(parse_sniff(&["--in".into(), "--out".into()]).is_err());
    }

    #[test]
    fn fuzz_command_line() {
        let args = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        let Command::Fuzz(f) = parse(&args(
            "fuzz --dst 10.0.2.2 --src 10.0.1.2 --count 30 --seed 0x10 --ports 7,5555 \
             --only frag,udp --dev eth0 --dst-mac 02:00:00:00:00:01 --interval-ms 2 --print",
        ))
        .unwrap() else {
            panic!("not fuzz")
        };
        assert_eq!(f.dst, [10, 0, 2, 2]);
        assert_eq!(f.src, Some([10, 0, 1, 2]));
        assert_eq!((f.count, f.seed), (30, 16));
        assert_eq!(f.ports, [7, 5555]);
        assert_eq!(f.only, [crate::fuzz::Class::Frag, crate::fuzz::Class::Udp]);
        assert_eq!(f.dev.as_deref(), Some("eth0"));
        assert_eq!(f.interval, Duration::from_millis(2));
        assert!(f.print && !f.no_send);
        let Command::Fuzz(f) = parse(&args("fuzz --dst 10.0.2.2")).unwrap() else {
            panic!("not fuzz")
        };
        assert_eq!((f.count, f.seed, f.src), (1000, 1, None));
        assert!(f.only.is_empty() && f.ports.is_empty());
        for bad in [
            "fuzz",
            "fuzz --dst 10.0.2.2 --only nope",
            "fuzz --dst 10.0.2.2 --ports 7,x",
            "fuzz --dst 10.0.2.2 --ports 70000",
            "fuzz --dst 10.0.2.2 --dst-mac 02:00:00:00:00:01",
            "fuzz --dst 10.0.2.2 --ttl 3",
            "fuzz --dst 10.0.2.2 --count",
            "fuzz --dst 10.0.2.2 extra",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn link_command_line() {
        let args = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        let Command::Link(l) = parse(&args(
            "link --gso-max-size 185000 --dev veth1 --gso-ipv4-max-size 0x2d2a8 \
             --gro-max-size 65536 --gro-ipv4-max-size 1",
        ))
        .unwrap() else {
            panic!("not link")
        };
        assert_eq!(l.devs, ["veth1"]);
        assert_eq!(l.sizes, [(41, 185000), (63, 185000), (58, 65536), (64, 1)]);
        let two = parse(&args("link --dev a --gro-max-size 9 --dev b"));
        let Command::Link(l) = two.unwrap() else {
            panic!("not link")
        };
        assert_eq!(l.devs, ["a", "b"]);
        assert_eq!(l.sizes, [(58, 9)]);
        for bad in [
            "link --gso-max-size 70000",
            "link --dev eth0",
            "link --dev eth0 --gso-max-size",
            "link --dev eth0 --gso-max-size 4294967296",
            "link --dev eth0 --gso-max-size 1 --gso-max-size 2",
            "link --dev eth0 --mtu 1500",
            "link --dev eth0 --gro-max-size 1 extra",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_and_hex() {
        assert_eq!(parse_num::<u32>("4294967295").unwrap(), u32::MAX);
        assert!(parse_num::<u32>("4294967296").is_err());
        assert_eq!(parse_num::<u16>("0xffff").unwrap(), 0xffff);
        assert_eq!(parse_hex("de ad-be:ef").unwrap(), [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(parse_mac("02:00:0a:ff:00:01").unwrap(), [2, 0, 10, 255, 0, 1]);
        assert!(parse_mac("02:00:0a:ff:00").is_err());
        assert_eq!(hex(&[1, 0xab]), "01ab");
    }
}
