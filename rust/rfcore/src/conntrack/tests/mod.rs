// SPDX-License-Identifier: GPL-2.0

//! Host tests of connection tracking.
//!
//! Besides packet builders, this holds [`Table`], a small model of the
//! kernel side: a list of entries looked up by tuple, expiry by time, and
//! the steps `Documentation/conntrack.rst` describes. Tests drive it with
//! real packet bytes, as the module will.

extern crate std;

mod icmp;
mod status;
mod table;
mod tcp;
mod tuple;
mod udp;

use super::packet::{self, TcpHeader, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::status::{CtInfo, IPS_CONFIRMED};
use super::tuple::{self as tup, Direction, Lookup, Tuple, TupleError};
use super::{new_connection, Config, Ctx, Invalid, Outcome, ProtoState, Update};
use std::vec;
use std::vec::Vec;

/// The client.
const C: [u8; 4] = [10, 0, 1, 1];
/// The server.
const S: [u8; 4] = [10, 0, 2, 2];
/// A router between them.
const R: [u8; 4] = [10, 0, 0, 254];

/// An IPv4 packet from `src` to `dst` of protocol `proto` carrying
/// `payload`, with `ihl` (5..=15) words of header (options are NOPs) and
/// fragment word `frag`.
fn ipv4_with(ihl: u8, frag: u16, proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let hl = usize::from(ihl) * 4;
    let total = (hl + payload.len()) as u16;
    let mut p = vec![0x40 | ihl, 0, 0, 0, 0x12, 0x34, 0, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[6..8].copy_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.resize(hl, 1);
    p.extend_from_slice(payload);
    p
}

/// An IPv4 packet with a plain 20-byte header.
fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    ipv4_with(5, 0, proto, src, dst, payload)
}

/// A TCP segment, as fields.
#[derive(Clone, Debug)]
struct Seg {
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: Vec<u8>,
    data: usize,
}

const SYN: u8 = TcpHeader::SYN;
const ACK: u8 = TcpHeader::ACK;
const FIN: u8 = TcpHeader::FIN;
const RST: u8 = TcpHeader::RST;
const PSH: u8 = TcpHeader::PSH;

impl Seg {
    /// A segment from port 40000 to 80.
    fn new(flags: u8, seq: u32, ack: u32) -> Seg {
        Seg {
            sport: 40000,
            dport: 80,
            seq,
            ack,
            flags,
            window: 64240,
            options: Vec::new(),
            data: 0,
        }
    }

    /// The same segment from 80 to 40000.
    fn reply(mut self) -> Seg {
        core::mem::swap(&mut self.sport, &mut self.dport);
        self
    }

    fn window(mut self, window: u16) -> Seg {
        self.window = window;
        self
    }

    fn data(mut self, len: usize) -> Seg {
        self.data = len;
        self
    }

    /// Options, padded to whole words with NOPs in front (padding at the
    /// end would need an EOL).
    fn options(mut self, opts: &[u8]) -> Seg {
        let mut o = vec![1u8; (4 - opts.len() % 4) % 4];
        o.extend_from_slice(opts);
        self.options = o;
        self
    }

    /// A window scale option with `shift` and SACK permitted, as Linux
    /// sends on SYNs (with MSS 1460).
    fn syn_options(self, shift: u8) -> Seg {
        self.options(&[2, 4, 0x05, 0xb4, 4, 2, 3, 3, shift])
    }

    /// The header's bytes and the data (zeros).
    fn bytes(&self) -> Vec<u8> {
        let doff = (20 + self.options.len()) / 4;
        let mut t = Vec::new();
        t.extend_from_slice(&self.sport.to_be_bytes());
        t.extend_from_slice(&self.dport.to_be_bytes());
        t.extend_from_slice(&self.seq.to_be_bytes());
        t.extend_from_slice(&self.ack.to_be_bytes());
        t.push((doff as u8) << 4);
        t.push(self.flags);
        t.extend_from_slice(&self.window.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(&self.options);
        t.resize(t.len() + self.data, 0);
        t
    }

    /// The segment as the tracker sees it.
    fn segment(&self) -> super::tcp::TcpSegment<'_> {
        super::tcp::TcpSegment {
            header: TcpHeader {
                sport: self.sport,
                dport: self.dport,
                seq: self.seq,
                ack: self.ack,
                header_len: 20 + self.options.len(),
                flags: self.flags,
                window: self.window,
            },
            options: &self.options,
            data_len: self.data as u32,
        }
    }

    /// The whole packet, `src` to `dst`.
    fn packet(&self, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        ipv4(IPPROTO_TCP, src, dst, &self.bytes())
    }
}

/// A UDP datagram with `len` bytes of data.
fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, len: usize) -> Vec<u8> {
    let ulen = (8 + len) as u16;
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&ulen.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.resize(8 + len, 0x55);
    ipv4(IPPROTO_UDP, src, dst, &u)
}

/// An ICMP message of `icmp_type` and `code`, identifier `id`, then
/// `body`.
fn icmp(src: [u8; 4], dst: [u8; 4], icmp_type: u8, code: u8, id: u16, body: &[u8]) -> Vec<u8> {
    let mut m = vec![icmp_type, code, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(body);
    ipv4(IPPROTO_ICMP, src, dst, &m)
}

/// An ICMP error of `icmp_type`/`code` from `src` to `dst` quoting the
/// first `quote` bytes of `original` (all of it if shorter).
fn icmp_error(
    src: [u8; 4],
    dst: [u8; 4],
    icmp_type: u8,
    code: u8,
    original: &[u8],
    quote: usize,
) -> Vec<u8> {
    let q = &original[..quote.min(original.len())];
    let mut m = vec![icmp_type, code, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(q);
    ipv4(IPPROTO_ICMP, src, dst, &m)
}

/// Parse `bytes`, which must be a valid packet.
fn parse(bytes: &[u8]) -> packet::Packet {
    packet::parse(bytes, bytes.len()).expect("test packet parses")
}

/// One entry of the model table.
#[derive(Clone, Debug)]
struct Entry {
    tuples: [Tuple; 2],
    status: u32,
    expires: u64,
    proto: ProtoState,
}

/// Why the model found a packet invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    Parse,
    Tuple(TupleError),
    /// An ICMP error about no known connection, or an entry could not be
    /// made (no inverse tuple).
    NoEntry,
    Track(Invalid),
}

/// What the model did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verdict {
    /// The packet's ctinfo; `None`: INVALID.
    ctinfo: Option<CtInfo>,
    /// The entry it was attached to (index at the time).
    entry: Option<usize>,
    /// The tracker's update, if it accepted the packet.
    update: Option<Update>,
    /// Why it is invalid.
    why: Option<Why>,
}

impl Verdict {
    fn invalid(why: Why) -> Verdict {
        Verdict {
            ctinfo: None,
            entry: None,
            update: None,
            why: Some(why),
        }
    }
}

/// The model of the kernel side.
struct Table {
    entries: Vec<Entry>,
    config: Config,
    now: u64,
}

impl Table {
    fn new() -> Table {
        Table::with(Config::DEFAULT)
    }

    fn with(config: Config) -> Table {
        Table {
            entries: Vec::new(),
            config,
            now: 1_000_000,
        }
    }

    /// Let `ms` milliseconds pass.
    fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// The entry with `tuple` in either direction, and that direction.
    fn find(&self, tuple: &Tuple) -> Option<(usize, Direction)> {
        self.entries.iter().enumerate().find_map(|(i, e)| {
            if e.tuples[0] == *tuple {
                Some((i, Direction::Original))
            } else if e.tuples[1] == *tuple {
                Some((i, Direction::Reply))
            } else {
                None
            }
        })
    }

    /// The timers: drop expired entries.
    fn expire(&mut self) {
        let now = self.now;
        self.entries.retain(|e| e.expires > now);
    }

    /// Track one packet, as the module's conntrack hook will.
    fn packet(&mut self, bytes: &[u8]) -> Verdict {
        self.expire();
        let Ok(pkt) = packet::parse(bytes, bytes.len()) else {
            return Verdict::invalid(Why::Parse);
        };
        let tuple = match tup::from_packet(&pkt, bytes) {
            Err(e) => return Verdict::invalid(Why::Tuple(e)),
            Ok(Lookup::Related(t)) => {
                return match self.find(&t) {
                    Some((i, dir)) => Verdict {
                        ctinfo: Some(CtInfo::related(dir)),
                        entry: Some(i),
                        update: None,
                        why: None,
                    },
                    None => Verdict::invalid(Why::NoEntry),
                };
            }
            Ok(Lookup::Conn(t)) => t,
        };
        loop {
            let Some((i, dir)) = self.find(&tuple) else {
                let Some(reply) = tuple.invert() else {
                    return Verdict::invalid(Why::NoEntry);
                };
                return match new_connection(&pkt, bytes, self.now, &self.config) {
                    Err(e) => Verdict::invalid(Why::Track(e)),
                    Ok((proto, timeout)) => {
                        self.entries.push(Entry {
                            tuples: [tuple, reply],
                            status: IPS_CONFIRMED,
                            expires: self.now + timeout,
                            proto,
                        });
                        Verdict {
                            ctinfo: Some(CtInfo::New),
                            entry: Some(self.entries.len() - 1),
                            update: Some(Update::refresh(timeout)),
                            why: None,
                        }
                    }
                };
            };
            let now = self.now;
            let e = &mut self.entries[i];
            let ctinfo = CtInfo::of_packet(dir, e.status);
            let ctx = Ctx {
                now,
                status: e.status,
                expires: e.expires,
                config: &self.config,
            };
            match e.proto.packet(&pkt, bytes, dir, &ctx) {
                Err(inv) => {
                    if let Some(t) = inv.lower_timeout {
                        e.expires = now + t;
                    }
                    return Verdict::invalid(Why::Track(inv));
                }
                Ok(Outcome::Reopen) => {
                    self.entries.remove(i);
                    continue;
                }
                Ok(Outcome::Accept(u)) => {
                    e.expires = u.expires(now, e.status, e.expires);
                    e.status |= u.set_status;
                    if u.kill {
                        self.entries.remove(i);
                    }
                    return Verdict {
                        ctinfo: Some(ctinfo),
                        entry: Some(i),
                        update: Some(u),
                        why: None,
                    };
                }
            }
        }
    }

    /// The TCP state of entry `i`.
    fn tcp(&self, i: usize) -> super::tcp::TcpConn {
        match self.entries[i].proto {
            ProtoState::Tcp(c) => c,
            other => panic!("not TCP: {other:?}"),
        }
    }
}
