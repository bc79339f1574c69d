// SPDX-License-Identifier: GPL-2.0

//! `rfpkt fuzz`: malformed and mutated IPv4 packets made from a seed, for
//! throwing at a router. The same seed gives the same packets, so a run
//! that upsets the kernel can be repeated (`--print` shows each packet,
//! `--no-send` only prints).
//!
//! Each packet belongs to one class:
//!
//! - `ip-header`: an IHL other than the header's length (below 5, or
//!   beyond the header so that transport bytes read as options), a total
//!   length shorter or longer than the packet, another version, a wrong
//!   header checksum; most of the total lengths are shorter than the
//!   packet, which the receiving stack trims and lets through;
//! - `ip-options`: option lists from RR, TS, LSRR, SSRR, RA, security,
//!   CIPSO and unknown options with lengths and pointers right, zero, one,
//!   odd or beyond the header;
//! - `trunc-l4`: TCP, UDP, ICMP and ICMP error headers cut short;
//! - `tcp`: any flag combination, data offsets 0 to 15, options with bad
//!   lengths (0 and 1 among them), urgent pointers, windows of 0, wrong
//!   checksums;
//! - `udp`: length fields below 8, beyond or short of the datagram, no or
//!   a wrong checksum, TFTP-like payloads cut anywhere;
//! - `icmp-error`: destination unreachable, source quench, redirect, time
//!   exceeded and parameter problem quoting a packet whose IP header is
//!   cut, has a bad IHL, options, a fragment offset or a wrong total
//!   length, whose transport header is cut (0 to 28 bytes), another ICMP
//!   error, or garbage; the quoted packet usually goes from the error's
//!   destination to its source, so with `--ports` some quote real flows;
//! - `icmp-query`: echo, timestamp, information and address mask requests
//!   and replies, and unknown types, of any length;
//! - `zero-ports`: TCP and UDP with source or destination port 0;
//! - `frag`: trains of fragments sharing an IP ID: overlapping, duplicated,
//!   missing, out of order, a first fragment holding 8 bytes of a TCP
//!   header, offsets running past 65535, a last fragment with MF;
//! - `mutate`: a valid packet with bytes flipped (the IP header included),
//!   cut or extended, its header checksum usually made right again;
//! - `other-proto`: protocols 0, 2, 4, 33, 41, 47, 50, 51, 132, 136, 255
//!   and random ones, with random payloads.
//!
//! Unless a class breaks them on purpose, packets carry a right header
//! checksum (over the bytes the IHL says), a TTL of 2 or more and the
//! destination given, and are at most 1400 bytes long, so that a router
//! forwards what its own checks let through.

use std::collections::VecDeque;

use crate::build::{self, Addr, Icmp, Ip, Tcp, TotLen, Udp, ICMP, TCP, UDP};
use crate::csum;

/// The largest packet made (under a veth's MTU of 1500).
pub const MAX_LEN: usize = 1400;

/// A small, fast, seedable generator (SplitMix64): the same seed gives the
/// same sequence on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// An index into something of length `n` (> 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True `percent` times in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn u8(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub fn u16(&mut self) -> u16 {
        self.next_u64() as u16
    }

    pub fn u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }

    /// 0 to `n - 1` random bytes.
    pub fn bytes_below(&mut self, n: u64) -> Vec<u8> {
        let len = self.below(n) as usize;
        self.bytes(len)
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }
}

/// The classes of packets, in the order `--help` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    IpHeader,
    IpOptions,
    TruncL4,
    Tcp,
    Udp,
    IcmpError,
    IcmpQuery,
    ZeroPorts,
    Frag,
    Mutate,
    OtherProto,
}

/// Every class with its name and how often it is picked (out of the sum).
pub const CLASSES: &[(Class, &str, u64)] = &[
    (Class::IpHeader, "ip-header", 10),
    (Class::IpOptions, "ip-options", 8),
    (Class::TruncL4, "trunc-l4", 10),
    (Class::Tcp, "tcp", 12),
    (Class::Udp, "udp", 8),
    (Class::IcmpError, "icmp-error", 14),
    (Class::IcmpQuery, "icmp-query", 5),
    (Class::ZeroPorts, "zero-ports", 5),
    (Class::Frag, "frag", 3),
    (Class::Mutate, "mutate", 14),
    (Class::OtherProto, "other-proto", 6),
];

impl Class {
    pub fn name(self) -> &'static str {
        CLASSES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }

    pub fn from_name(s: &str) -> Option<Class> {
        CLASSES.iter().find(|(_, n, _)| *n == s).map(|(c, _, _)| *c)
    }
}

/// What `rfpkt fuzz` makes.
#[derive(Clone, Debug)]
pub struct Config {
    pub src: Addr,
    pub dst: Addr,
    pub seed: u64,
    /// Ports to use often (real flows' ports, helpers' ports).
    pub ports: Vec<u16>,
    /// The classes to pick from (all when empty).
    pub only: Vec<Class>,
}

/// The packets of a [`Config`], one at a time, endlessly.
pub struct Gen {
    cfg: Config,
    rng: Rng,
    /// Packets made but not given out yet (a fragment train).
    queue: VecDeque<(Class, Vec<u8>)>,
}

/// TCP and UDP ports that are often interesting without `--ports`.
const COMMON_PORTS: &[u16] = &[7, 9, 21, 22, 53, 69, 80, 443, 1024, 65535];

/// IP protocols besides TCP, UDP and ICMP.
const OTHER_PROTOS: &[u8] = &[0, 2, 4, 33, 41, 47, 50, 51, 132, 136, 255];

impl Gen {
    pub fn new(cfg: Config) -> Gen {
        let rng = Rng::new(cfg.seed);
        Gen {
            cfg,
            rng,
            queue: VecDeque::new(),
        }
    }

    /// The next packet and its class.
    pub fn next_packet(&mut self) -> (Class, Vec<u8>) {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return p;
            }
            let class = self.pick_class();
            let made = match class {
                Class::IpHeader => vec![self.ip_header()],
                Class::IpOptions => vec![self.ip_options()],
                Class::TruncL4 => vec![self.trunc_l4()],
                Class::Tcp => vec![self.tcp()],
                Class::Udp => vec![self.udp()],
                Class::IcmpError => vec![self.icmp_error()],
                Class::IcmpQuery => vec![self.icmp_query()],
                Class::ZeroPorts => vec![self.zero_ports()],
                Class::Frag => self.frag_train(),
                Class::Mutate => vec![self.mutate()],
                Class::OtherProto => vec![self.other_proto()],
            };
            for mut p in made {
                p.truncate(MAX_LEN);
                self.queue.push_back((class, p));
            }
        }
    }

    fn pick_class(&mut self) -> Class {
        let all: Vec<(Class, u64)> = CLASSES
            .iter()
            .filter(|(c, _, _)| self.cfg.only.is_empty() || self.cfg.only.contains(c))
            .map(|(c, _, w)| (*c, *w))
            .collect();
        let total: u64 = all.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.below(total);
        for (c, w) in &all {
            if x < *w {
                return *c;
            }
            x -= w;
        }
        all[0].0
    }

    // Building blocks.

    /// A port: often one of `--ports` or a common one, sometimes 0.
    fn port(&mut self) -> u16 {
        let r = self.rng.below(100);
        if r < 45 && !self.cfg.ports.is_empty() {
            self.rng.pick(&self.cfg.ports)
        } else if r < 60 {
            self.rng.pick(COMMON_PORTS)
        } else if r < 63 {
            0
        } else {
            self.rng.range(1, 65535) as u16
        }
    }

    /// An IP header from `--src` to `--dst`: a TTL of at least 2, a random
    /// ID, sometimes DF.
    fn ip(&mut self, proto: u8) -> Ip {
        let mut ip = Ip::new(self.cfg.src, self.cfg.dst, proto);
        ip.ttl = if self.rng.chance(70) {
            64
        } else {
            self.rng.range(2, 255) as u8
        };
        ip.id = self.rng.u16();
        ip.df = self.rng.chance(20);
        if self.rng.chance(5) {
            ip.tos = self.rng.u8();
        }
        ip
    }

    fn payload(&mut self, max: u64) -> Vec<u8> {
        let n = self.rng.below(max + 1) as usize;
        if self.rng.chance(50) {
            build::filler(n)
        } else {
            self.rng.bytes(n)
        }
    }

    /// TCP flags seen in real traffic, most of the time.
    fn usual_flags(&mut self) -> u8 {
        use build::{ACK, FIN, PSH, RST, SYN};
        self.rng
            .pick(&[SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, RST | ACK])
    }

    /// A valid TCP segment between `src` and `dst`.
    fn valid_tcp(&mut self, src: Addr, dst: Addr) -> Vec<u8> {
        let mut t = Tcp::new(self.port(), self.port());
        t.flags = self.usual_flags();
        t.seq = self.rng.u32();
        t.ack = if t.flags & build::ACK != 0 {
            self.rng.u32()
        } else {
            0
        };
        if t.flags & build::SYN != 0 && self.rng.chance(60) {
            t.mss = Some(self.rng.pick(&[536, 1460, 0, 65535]));
            t.wscale = self.rng.chance(50).then(|| self.rng.range(0, 14) as u8);
            t.sack_perm = self.rng.chance(50);
        } else {
            t.payload = self.payload(64);
        }
        t.segment(src, dst)
    }

    fn valid_udp(&mut self, src: Addr, dst: Addr) -> Vec<u8> {
        let mut u = Udp::new(self.port(), self.port());
        u.payload = self.payload(64);
        u.segment(src, dst)
    }

    fn valid_icmp(&mut self) -> Vec<u8> {
        let mut m = Icmp::new(self.rng.pick(&[8, 0]), 0);
        m.set_id_seq(self.rng.u16(), self.rng.u16());
        m.payload = self.payload(56);
        m.message()
    }

    /// A valid transport part of a random protocol, and that protocol.
    fn valid_l4(&mut self, src: Addr, dst: Addr) -> (u8, Vec<u8>) {
        match self.rng.below(3) {
            0 => (TCP, self.valid_tcp(src, dst)),
            1 => (UDP, self.valid_udp(src, dst)),
            _ => (ICMP, self.valid_icmp()),
        }
    }

    /// A valid whole packet.
    fn valid_packet(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, l4) = self.valid_l4(src, dst);
        self.ip(proto).packet(&l4)
    }

    // The classes.

    fn ip_header(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, l4) = self.valid_l4(src, dst);
        let mut ip = self.ip(proto);
        let real = 20 + l4.len();
        match self.rng.below(100) {
            // Shorter than the packet, at least a header: trimmed, kept.
            0..=39 => ip.tot_len = TotLen::Exact(self.rng.range(20, real as u64) as u16),
            // The header said to be longer: transport bytes read as options.
            40..=69 => ip.ihl = Some(self.rng.range(6, 15) as u8),
            70..=79 => ip.ihl = Some(self.rng.range(0, 4) as u8),
            80..=84 => ip.tot_len = TotLen::Exact(self.rng.range(0, 19) as u16),
            85..=92 => ip.tot_len = TotLen::Delta(self.rng.range(1, 300) as i32),
            93..=96 => ip.version = self.rng.pick(&[0, 3, 5, 6, 15]),
            _ => ip.bad_csum = true,
        }
        ip.packet(&l4)
    }

    /// One IP option, as it is or made wrong.
    fn ip_option(&mut self) -> Vec<u8> {
        let typ = self
            .rng
            .pick(&[7u8, 68, 131, 137, 148, 130, 134, 1, 0, 0x99, 25]);
        match typ {
            0 | 1 => vec![typ],
            _ => {
                let body_len = self.rng.range(0, 14) as usize;
                let right_len = (2 + body_len) as u8;
                let len = match self.rng.below(10) {
                    0 => 0,
                    1 => 1,
                    2 => 2,
                    3 => self.rng.range(right_len as u64, 60) as u8,
                    4 => right_len.saturating_sub(1),
                    _ => right_len,
                };
                let mut o = vec![typ, len];
                // Pointer (RR, TS, LSRR, SSRR): right (4 or 5), odd, beyond.
                if matches!(typ, 7 | 68 | 131 | 137) && body_len > 0 {
                    let ptr = match self.rng.below(5) {
                        0 => 0,
                        1 => self.rng.range(1, 3) as u8,
                        2 => self.rng.range(len as u64, 255) as u8,
                        3 => self.rng.u8(),
                        _ => {
                            if typ == 68 {
                                5
                            } else {
                                4
                            }
                        }
                    };
                    o.push(ptr);
                    let mut rest = self.rng.bytes(body_len - 1);
                    // Timestamp overflow/flags byte: the flag values.
                    if typ == 68 && !rest.is_empty() && self.rng.chance(70) {
                        rest[0] = self.rng.pick(&[0, 1, 3, 2, 0xf1]);
                    }
                    o.extend_from_slice(&rest);
                } else {
                    o.extend_from_slice(&self.rng.bytes(body_len));
                }
                o
            }
        }
    }

    fn ip_options(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, l4) = self.valid_l4(src, dst);
        let mut ip = self.ip(proto);
        let mut opts = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            opts.extend_from_slice(&self.ip_option());
        }
        opts.truncate(40);
        ip.options = opts;
        ip.packet(&l4)
    }

    fn trunc_l4(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, l4, header) = match self.rng.below(4) {
            0 => (TCP, self.valid_tcp(src, dst), 20),
            1 => (UDP, self.valid_udp(src, dst), 8),
            2 => (ICMP, self.valid_icmp(), 8),
            _ => {
                // An error whose own header is whole but whose quote is cut
                // inside the quoted IP header.
                let mut e = Icmp::new(3, self.rng.below(16) as u8);
                let q = self.ip(UDP).packet(&self.valid_udp(dst, src));
                e.payload = q;
                let m = e.message();
                let keep = 8 + self.rng.below(20) as usize;
                return self.ip(ICMP).packet(&m[..keep.min(m.len())]);
            }
        };
        let keep = self.rng.below(header) as usize;
        self.ip(proto).packet(&l4[..keep.min(l4.len())])
    }

    fn tcp_options(&mut self) -> Vec<u8> {
        let mut o = Vec::new();
        for _ in 0..self.rng.range(1, 5) {
            match self.rng.below(9) {
                0 => o.extend_from_slice(&[2, self.rng.pick(&[0, 1, 3, 4, 5, 40])]),
                1 => o.extend_from_slice(&[3, self.rng.pick(&[0, 1, 2, 3, 4]), 255]),
                2 => o.extend_from_slice(&[4, self.rng.pick(&[0, 1, 2, 3])]),
                3 => {
                    // SACK blocks, whole or not.
                    let len = self.rng.pick(&[0u8, 1, 2, 7, 10, 18, 34, 40]);
                    o.extend_from_slice(&[5, len]);
                    let n = self.rng.below(u64::from(len) + 1) as usize;
                    o.extend_from_slice(&self.rng.bytes(n));
                }
                4 => {
                    let len = self.rng.pick(&[0u8, 1, 9, 10, 11]);
                    o.extend_from_slice(&[8, len]);
                    o.extend_from_slice(&self.rng.bytes(8));
                }
                5 => o.push(1),
                6 => o.push(0),
                7 => {
                    let len = self.rng.u8();
                    o.extend_from_slice(&[self.rng.u8(), len]);
                }
                _ => o.extend_from_slice(&[0x22, 0x12]), // TCP-MD5-ish, short
            }
        }
        o.truncate(40);
        o
    }

    fn tcp(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let mut t = Tcp::new(self.port(), self.port());
        t.flags = if self.rng.chance(60) {
            self.rng.u8()
        } else {
            self.usual_flags()
        };
        t.seq = self.rng.u32();
        t.ack = self.rng.u32();
        t.win = if self.rng.chance(20) {
            0
        } else {
            self.rng.u16()
        };
        t.urg = if self.rng.chance(20) {
            self.rng.u16()
        } else {
            0
        };
        if self.rng.chance(50) {
            t.options = self.tcp_options();
        }
        if self.rng.chance(40) {
            t.doff = Some(self.rng.below(16) as u8);
        }
        t.payload = self.payload(200);
        t.bad_csum = self.rng.chance(20);
        self.ip(TCP).packet(&t.segment(src, dst))
    }

    /// A TFTP-like payload: opcode, then a file name and mode, or block
    /// numbers, cut anywhere.
    fn tftp_payload(&mut self) -> Vec<u8> {
        let op = self.rng.pick(&[1u16, 2, 3, 4, 5, 6, 0, 9]);
        let mut p = op.to_be_bytes().to_vec();
        match op {
            1 | 2 => {
                p.extend_from_slice(b"file");
                if self.rng.chance(70) {
                    p.push(0);
                }
                let mode: &[u8] =
                    self.rng
                        .pick(&[&b"octet\0"[..], &b"netascii"[..], &b"\0"[..], &b""[..]]);
                p.extend_from_slice(mode);
            }
            _ => p.extend_from_slice(&self.rng.bytes_below(12)),
        }
        let keep = self.rng.range(0, p.len() as u64) as usize;
        p.truncate(keep);
        p
    }

    fn udp(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let mut u = Udp::new(self.port(), self.port());
        if self.rng.chance(25) {
            u.dport = 69;
            u.payload = self.tftp_payload();
        } else {
            u.payload = self.payload(200);
        }
        let real = (8 + u.payload.len()) as u64;
        u.len = match self.rng.below(4) {
            0 => Some(self.rng.below(8) as u16),
            1 => Some(self.rng.range(real + 1, real + 300) as u16),
            2 if real > 8 => Some(self.rng.range(8, real - 1) as u16),
            _ => None,
        };
        match self.rng.below(3) {
            0 => u.no_csum = true,
            1 => u.bad_csum = true,
            _ => {}
        }
        self.ip(UDP).packet(&u.segment(src, dst))
    }

    /// The packet an ICMP error quotes: what the error's destination sent
    /// to its source (a real flow, with `--ports`), broken somehow.
    fn quoted(&mut self, depth: u32) -> Vec<u8> {
        let (outer_src, outer_dst) = (self.cfg.src, self.cfg.dst);
        let (qsrc, qdst) = if self.rng.chance(80) {
            (outer_dst, outer_src)
        } else {
            (self.rng.u32().to_be_bytes(), outer_src)
        };
        let kind = self.rng.below(100);
        if kind < 8 {
            return self.rng.bytes_below(40);
        }
        if kind < 16 && depth < 3 {
            // An error quoting an error (netfilter does not look inside).
            let mut e = Icmp::new(self.rng.pick(&[3, 11, 12]), self.rng.below(16) as u8);
            e.payload = self.quoted(depth + 1);
            let mut ip = Ip::new(qsrc, qdst, ICMP);
            ip.id = self.rng.u16();
            return ip.packet(&e.message());
        }
        let (proto, l4) = match self.rng.below(10) {
            0..=3 => (TCP, self.valid_tcp(qsrc, qdst)),
            4..=7 => (UDP, self.valid_udp(qsrc, qdst)),
            8 => (ICMP, self.valid_icmp()),
            _ => (self.rng.pick(OTHER_PROTOS), self.rng.bytes(16)),
        };
        let mut ip = Ip::new(qsrc, qdst, proto);
        ip.id = self.rng.u16();
        ip.ttl = self.rng.u8();
        match self.rng.below(10) {
            0 => ip.ihl = Some(self.rng.below(16) as u8),
            1 => ip.tot_len = TotLen::Exact(self.rng.u16()),
            2 => ip.frag_offset = (self.rng.range(1, 0x1fff) * 8) as u16,
            3 => ip.options = vec![1, 1, 1, 1],
            4 => ip.mf = true,
            _ => {}
        }
        let whole = ip.packet(&l4);
        // The IP header and 0 to 28 transport bytes; sometimes the IP
        // header itself is cut.
        let keep = if self.rng.chance(12) {
            self.rng.below(20) as usize
        } else {
            ip.header_len() + self.rng.below(29) as usize
        };
        whole[..keep.min(whole.len())].to_vec()
    }

    fn icmp_error(&mut self) -> Vec<u8> {
        let typ = self.rng.pick(&[3u8, 3, 3, 4, 5, 11, 12]);
        let mut e = Icmp::new(typ, self.rng.below(16) as u8);
        e.rest = match typ {
            3 if self.rng.chance(50) => {
                e.code = 4;
                let mtu = self.rng.pick(&[0u16, 68, 576, 1400, 65535]);
                [0, 0, (mtu >> 8) as u8, mtu as u8]
            }
            5 => self.rng.u32().to_be_bytes(),
            12 => [self.rng.u8(), 0, 0, 0],
            _ => [0; 4],
        };
        e.payload = self.quoted(0);
        e.bad_csum = self.rng.chance(10);
        self.ip(ICMP).packet(&e.message())
    }

    fn icmp_query(&mut self) -> Vec<u8> {
        let typ = self
            .rng
            .pick(&[0u8, 8, 13, 14, 15, 16, 17, 18, 9, 10, 42, 255]);
        let mut m = Icmp::new(
            typ,
            if self.rng.chance(70) {
                0
            } else {
                self.rng.u8()
            },
        );
        let id = if self.rng.chance(20) {
            0
        } else {
            self.rng.u16()
        };
        m.set_id_seq(id, self.rng.u16());
        m.payload = self.payload(100);
        m.bad_csum = self.rng.chance(10);
        self.ip(ICMP).packet(&m.message())
    }

    fn zero_ports(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (sport, dport) = match self.rng.below(3) {
            0 => (0, self.port()),
            1 => (self.port(), 0),
            _ => (0, 0),
        };
        if self.rng.chance(50) {
            let mut t = Tcp::new(sport, dport);
            t.flags = self.usual_flags();
            t.seq = self.rng.u32();
            self.ip(TCP).packet(&t.segment(src, dst))
        } else {
            let mut u = Udp::new(sport, dport);
            u.payload = self.payload(32);
            self.ip(UDP).packet(&u.segment(src, dst))
        }
    }

    /// A fragment of `ip`'s packet: `data` at byte offset `off`.
    fn fragment(ip: &Ip, off: usize, data: &[u8], mf: bool) -> Vec<u8> {
        let mut f = ip.clone();
        f.frag_offset = off as u16;
        f.mf = mf;
        f.df = false;
        // Offsets past 65535 wrap in the 13-bit field as they would.
        f.packet(data)
    }

    fn frag_train(&mut self) -> Vec<Vec<u8>> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, mut l4) = self.valid_l4(src, dst);
        // Something worth cutting: at least 16 bytes.
        while l4.len() < 16 {
            l4.push(0x5a);
        }
        l4.extend_from_slice(&self.payload(300));
        let ip = self.ip(proto);
        // Cut points: multiples of 8, in order.
        let mut cuts = vec![0usize];
        let mut at = 0;
        loop {
            at += 8 * self.rng.range(1, 8) as usize;
            if at >= l4.len() {
                break;
            }
            cuts.push(at);
        }
        // A first fragment holding 8 bytes of a TCP header.
        if proto == TCP && self.rng.chance(30) && cuts.len() > 1 {
            cuts[1] = 8;
            cuts.dedup();
        }
        let mut frags: Vec<Vec<u8>> = Vec::new();
        for (i, &start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).copied().unwrap_or(l4.len());
            let last = i + 1 == cuts.len();
            frags.push(Self::fragment(&ip, start, &l4[start..end], !last));
        }
        // Whole fragments only make sense with more than one.
        match self.rng.below(8) {
            0 | 1 => {
                // Overlap: a piece over the middle with other bytes.
                let start = 8 * self.rng.below((l4.len() / 8) as u64) as usize;
                let len = 8 * self.rng.range(1, 4) as usize;
                let data = self.rng.bytes(len);
                let f = Self::fragment(&ip, start, &data, true);
                let at = self.rng.index(frags.len() + 1);
                frags.insert(at, f);
            }
            2 => {
                // A duplicate.
                let i = self.rng.index(frags.len());
                let d = frags[i].clone();
                frags.push(d);
            }
            3 if frags.len() > 1 => {
                // One missing: never complete.
                let i = self.rng.index(frags.len());
                frags.remove(i);
            }
            4 => {
                // Out of order.
                for i in (1..frags.len()).rev() {
                    let j = self.rng.index(i + 1);
                    frags.swap(i, j);
                }
            }
            5 => {
                // Past the end of the largest datagram.
                let start = 65528 - 8 * self.rng.below(2) as usize;
                let mut f = ip.clone();
                f.frag_offset = start as u16 & !7;
                f.mf = self.rng.chance(50);
                frags.push(f.packet(&self.rng.bytes(32)));
            }
            6 => {
                // The last fragment with MF: the end never comes.
                if let Some(last) = frags.last_mut() {
                    last[6] |= 0x20;
                    fix_ip_checksum(last);
                }
            }
            _ => {}
        }
        frags
    }

    fn mutate(&mut self) -> Vec<u8> {
        let mut p = if self.rng.chance(30) {
            self.icmp_error_valid()
        } else {
            self.valid_packet()
        };
        for _ in 0..self.rng.range(1, 6) {
            match self.rng.below(10) {
                0..=5 => {
                    // Flip bits of one byte; past the addresses more often.
                    let at = if self.rng.chance(25) {
                        self.rng.index(20)
                    } else {
                        self.rng.index(p.len())
                    };
                    // Keep the addresses: the packet must still go through.
                    if !(12..20).contains(&at) {
                        p[at] ^= self.rng.range(1, 255) as u8;
                    }
                }
                6 | 7 => {
                    let keep = self.rng.range(20, p.len() as u64) as usize;
                    p.truncate(keep);
                }
                8 => {
                    let n = self.rng.range(1, 64) as usize;
                    p.extend_from_slice(&self.rng.bytes(n));
                }
                _ => {
                    let at = self.rng.index(p.len());
                    p[at] = self.rng.pick(&[0, 0xff, 0x7f, 0x80]);
                }
            }
        }
        // TTL 0 and 1 are answered with time exceeded: fine, but keep most
        // packets going through.
        if p.len() > 8 && p[8] < 2 && self.rng.chance(80) {
            p[8] = 64;
        }
        if self.rng.chance(70) {
            let len = p.len() as u16;
            p[2..4].copy_from_slice(&len.to_be_bytes());
        }
        if self.rng.chance(85) {
            fix_ip_checksum(&mut p);
        }
        p
    }

    /// A valid ICMP error about a packet the destination sent (a base for
    /// mutations).
    fn icmp_error_valid(&mut self) -> Vec<u8> {
        let (src, dst) = (self.cfg.src, self.cfg.dst);
        let (proto, l4) = match self.rng.below(3) {
            0 => (TCP, self.valid_tcp(dst, src)),
            1 => (UDP, self.valid_udp(dst, src)),
            _ => (ICMP, self.valid_icmp()),
        };
        let mut e = Icmp::new(3, self.rng.pick(&[1, 3, 4, 13]));
        e.payload = build::quote(&Ip::new(dst, src, proto), &l4, 8);
        self.ip(ICMP).packet(&e.message())
    }

    fn other_proto(&mut self) -> Vec<u8> {
        let proto = if self.rng.chance(80) {
            self.rng.pick(OTHER_PROTOS)
        } else {
            self.rng.u8()
        };
        let mut ip = self.ip(proto);
        ip.proto = proto;
        let payload = if proto == 4 && self.rng.chance(50) {
            // IP in IP: a packet inside.
            self.valid_packet()
        } else {
            self.payload(120)
        };
        ip.packet(&payload)
    }
}

/// Recomputes the IPv4 header checksum over the bytes the IHL says (as
/// much of them as there is).
pub fn fix_ip_checksum(p: &mut [u8]) {
    if p.len() < 12 {
        return;
    }
    let hlen = (usize::from(p[0] & 0x0f) * 4).min(p.len());
    p[10] = 0;
    p[11] = 0;
    if hlen < 12 {
        return;
    }
    let c = csum::checksum(&p[..hlen]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csum::tests::reference;
    use std::collections::{HashMap, HashSet};

    const A: Addr = [10, 0, 1, 2];
    const B: Addr = [10, 0, 2, 2];

    fn gen(seed: u64) -> Gen {
        Gen::new(Config {
            src: A,
            dst: B,
            seed,
            ports: vec![5555, 7],
            only: Vec::new(),
        })
    }

    fn packets(seed: u64, n: usize) -> Vec<(Class, Vec<u8>)> {
        let mut g = gen(seed);
        (0..n).map(|_| g.next_packet()).collect()
    }

    fn ihl(p: &[u8]) -> usize {
        usize::from(p[0] & 0x0f) * 4
    }

    fn tot_len(p: &[u8]) -> usize {
        usize::from(u16::from_be_bytes([p[2], p[3]]))
    }

    /// What Linux's ip_rcv_core lets through: version 4, IHL >= 5, a right
    /// checksum, a total length within the packet and at least the header.
    fn passes_ip_rcv(p: &[u8]) -> bool {
        p.len() >= 20
            && p[0] >> 4 == 4
            && ihl(p) >= 20
            && ihl(p) <= p.len()
            && reference(&p[..ihl(p)]) == 0
            && tot_len(p) <= p.len()
            && tot_len(p) >= ihl(p)
    }

    #[test]
    fn rng_is_deterministic_and_spread() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut c = Rng::new(43);
        assert_ne!(xs[0], c.next_u64());
        // SplitMix64's first output for seed 0 (the published reference).
        assert_eq!(Rng::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
        let mut r = Rng::new(1);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[r.below(10) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        for _ in 0..1000 {
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn same_seed_same_packets_other_seed_others() {
        assert_eq!(packets(7, 500), packets(7, 500));
        let a = packets(7, 50);
        let b = packets(8, 50);
        assert_ne!(a, b);
    }

    #[test]
    fn every_class_comes_up() {
        let mut count: HashMap<Class, usize> = HashMap::new();
        for (c, _) in packets(1, 3000) {
            *count.entry(c).or_default() += 1;
        }
        for (c, name, _) in CLASSES {
            assert!(
                count.get(c).copied().unwrap_or(0) >= 30,
                "{name}: {count:?}"
            );
        }
    }

    #[test]
    fn sizes_addresses_and_ttl() {
        let mut through = 0;
        let ps = packets(2, 5000);
        for (c, p) in &ps {
            assert!(!p.is_empty() && p.len() <= MAX_LEN, "{c:?} {}", p.len());
            if p.len() >= 20 && *c != Class::Mutate {
                assert_eq!(&p[12..16], &A, "{c:?}");
                assert_eq!(&p[16..20], &B, "{c:?}");
                assert!(p[8] >= 2, "{c:?} ttl {}", p[8]);
            }
            if passes_ip_rcv(p) {
                through += 1;
            }
        }
        // Most of them reach the router's hooks.
        assert!(through > ps.len() * 7 / 10, "{through} of {}", ps.len());
    }

    #[test]
    fn only_restricts_classes() {
        let mut g = Gen::new(Config {
            src: A,
            dst: B,
            seed: 3,
            ports: vec![],
            only: vec![Class::Frag, Class::Udp],
        });
        for _ in 0..500 {
            let (c, _) = g.next_packet();
            assert!(c == Class::Frag || c == Class::Udp);
        }
    }

    fn only(class: Class, seed: u64, n: usize) -> Vec<Vec<u8>> {
        let mut g = Gen::new(Config {
            src: A,
            dst: B,
            seed,
            ports: vec![5555, 7],
            only: vec![class],
        });
        (0..n).map(|_| g.next_packet().1).collect()
    }

    #[test]
    fn ip_header_class_breaks_the_header_mostly_where_linux_lets_it_in() {
        let ps = only(Class::IpHeader, 4, 2000);
        let mut short_total = 0;
        let mut long_ihl = 0;
        let mut small_ihl = 0;
        for p in &ps {
            // The checksum is computed over what the IHL says.
            let h = ihl(p).min(p.len());
            if h >= 20 && p[0] >> 4 == 4 && tot_len(p) < p.len() && tot_len(p) >= 20 {
                short_total += 1;
            }
            if ihl(p) > 20 {
                long_ihl += 1;
            }
            if ihl(p) < 20 {
                small_ihl += 1;
            }
        }
        assert!(short_total > 500, "{short_total}");
        assert!(long_ihl > 400, "{long_ihl}");
        assert!(small_ihl > 100, "{small_ihl}");
    }

    #[test]
    fn options_are_there_and_checksummed() {
        let ps = only(Class::IpOptions, 5, 1000);
        let mut kinds = HashSet::new();
        for p in &ps {
            let h = ihl(p);
            assert!(h > 20 && h <= 60, "{h}");
            assert_eq!(reference(&p[..h]), 0);
            kinds.insert(p[20]);
        }
        for t in [7u8, 68, 131, 137, 148, 130, 134] {
            assert!(kinds.contains(&t), "option {t} never first: {kinds:?}");
        }
    }

    #[test]
    fn truncated_transport_headers() {
        let ps = only(Class::TruncL4, 6, 1000);
        let mut protos = HashSet::new();
        for p in &ps {
            let t = p.len() - ihl(p);
            match p[9] {
                TCP => assert!(t < 20),
                UDP => assert!(t < 8),
                ICMP => {
                    // Cut in the header, or an error cut in its quote.
                    if t >= 8 {
                        assert!(build::icmp_is_error(p[20]));
                        assert!(t < 8 + 20);
                    }
                }
                x => panic!("protocol {x}"),
            }
            protos.insert(p[9]);
            assert!(passes_ip_rcv(p));
        }
        assert_eq!(protos.len(), 3);
    }

    #[test]
    fn tcp_class_has_bad_offsets_flags_and_checksums() {
        let ps = only(Class::Tcp, 7, 1000);
        let mut doffs = HashSet::new();
        let mut syn_fin = 0;
        for p in &ps {
            assert_eq!(p[9], TCP);
            let t = &p[ihl(p)..];
            doffs.insert(t[12] >> 4);
            if t[13] & 3 == 3 {
                syn_fin += 1;
            }
        }
        assert!(doffs.len() == 16, "{doffs:?}");
        assert!(syn_fin > 20);
    }

    #[test]
    fn udp_class_has_bad_lengths() {
        let ps = only(Class::Udp, 8, 1000);
        let (mut below8, mut beyond, mut short, mut tftp) = (0, 0, 0, 0);
        for p in &ps {
            let t = &p[ihl(p)..];
            let len = usize::from(u16::from_be_bytes([t[4], t[5]]));
            if len < 8 {
                below8 += 1;
            } else if len > t.len() {
                beyond += 1;
            } else if len < t.len() {
                short += 1;
            }
            if u16::from_be_bytes([t[2], t[3]]) == 69 {
                tftp += 1;
            }
        }
        assert!(below8 > 100 && beyond > 100 && short > 100 && tftp > 100);
    }

    #[test]
    fn icmp_errors_quote_broken_packets_and_real_flows() {
        let ps = only(Class::IcmpError, 9, 2000);
        let (mut cut_ip, mut flow, mut nested, mut cut_l4) = (0, 0, 0, 0);
        for p in &ps {
            assert_eq!(p[9], ICMP);
            let m = &p[ihl(p)..];
            assert!(build::icmp_is_error(m[0]));
            let q = &m[8..];
            if q.len() < 20 {
                cut_ip += 1;
                continue;
            }
            let qihl = usize::from(q[0] & 0x0f) * 4;
            if q[0] >> 4 == 4 && qihl == 20 {
                if q[12..16] == B && q[16..20] == A {
                    flow += 1;
                    // Quoting the real flow's ports (the hints) at times.
                    let l4 = &q[20..];
                    if l4.len() < 8 {
                        cut_l4 += 1;
                    }
                }
                if q[9] == ICMP && q.len() > 20 && build::icmp_is_error(q[20]) {
                    nested += 1;
                }
            }
        }
        assert!(cut_ip > 100, "{cut_ip}");
        assert!(flow > 800, "{flow}");
        assert!(nested > 50, "{nested}");
        assert!(cut_l4 > 100, "{cut_l4}");
    }

    #[test]
    fn zero_ports_have_a_zero_port() {
        for p in only(Class::ZeroPorts, 10, 500) {
            let t = &p[ihl(&p)..];
            let (s, d) = (
                u16::from_be_bytes([t[0], t[1]]),
                u16::from_be_bytes([t[2], t[3]]),
            );
            assert!(s == 0 || d == 0);
            assert!(p[9] == TCP || p[9] == UDP);
        }
    }

    #[test]
    fn fragment_trains_share_ids_and_overlap() {
        let mut g = Gen::new(Config {
            src: A,
            dst: B,
            seed: 11,
            ports: vec![],
            only: vec![Class::Frag],
        });
        let mut by_id: HashMap<u16, Vec<(usize, usize, bool)>> = HashMap::new();
        for _ in 0..3000 {
            let (_, p) = g.next_packet();
            assert_eq!(reference(&p[..20]), 0);
            let id = u16::from_be_bytes([p[4], p[5]]);
            let frag = u16::from_be_bytes([p[6], p[7]]);
            let off = usize::from(frag & 0x1fff) * 8;
            let len = p.len() - 20;
            by_id
                .entry(id)
                .or_default()
                .push((off, off + len, frag & 0x2000 != 0));
        }
        let (mut overlapping, mut multi, mut tiny_first, mut past_end) = (0, 0, 0, 0);
        for frags in by_id.values() {
            if frags.len() > 1 {
                multi += 1;
            }
            let mut sorted = frags.clone();
            sorted.sort();
            if sorted.windows(2).any(|w| w[1].0 < w[0].1 && w[1] != w[0]) {
                overlapping += 1;
            }
            if frags.iter().any(|f| f.0 == 0 && f.1 == 8 && f.2) {
                tiny_first += 1;
            }
            if frags.iter().any(|f| f.1 > 65535) {
                past_end += 1;
            }
        }
        assert!(multi > 200, "{multi}");
        assert!(overlapping > 50, "{overlapping}");
        assert!(tiny_first > 10, "{tiny_first}");
        assert!(past_end > 10, "{past_end}");
    }

    #[test]
    fn mutations_differ_from_valid_and_mostly_pass_ip_rcv() {
        let ps = only(Class::Mutate, 12, 2000);
        let through = ps.iter().filter(|p| passes_ip_rcv(p)).count();
        assert!(through > 1000, "{through}");
        let distinct: HashSet<&Vec<u8>> = ps.iter().collect();
        assert!(distinct.len() > 1900);
    }

    #[test]
    fn other_protocols() {
        let mut protos = HashSet::new();
        for p in only(Class::OtherProto, 13, 1000) {
            assert!(passes_ip_rcv(&p));
            protos.insert(p[9]);
        }
        for x in OTHER_PROTOS {
            assert!(protos.contains(x), "{x}");
        }
    }

    #[test]
    fn class_names_round_trip() {
        for (c, n, _) in CLASSES {
            assert_eq!(Class::from_name(n), Some(*c));
            assert_eq!(c.name(), *n);
        }
        assert_eq!(Class::from_name("nope"), None);
    }

    #[test]
    fn fix_checksum_over_ihl() {
        let mut p = Ip::new(A, B, UDP).packet(&[0; 8]);
        p[8] = 3;
        assert_ne!(reference(&p[..20]), 0);
        fix_ip_checksum(&mut p);
        assert_eq!(reference(&p[..20]), 0);
        // IHL beyond the packet: over what there is.
        p[0] = 0x4f;
        fix_ip_checksum(&mut p);
        assert_eq!(reference(&p), 0);
        let mut short = vec![0x45, 0, 0];
        fix_ip_checksum(&mut short);
        assert_eq!(short.len(), 3);
    }
}
