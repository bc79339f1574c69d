// SPDX-License-Identifier: GPL-2.0

//! What a received IPv4 packet is, for one line of `rfpkt sniff` and for
//! recognising a reply. Lenient: a short or odd packet is described as far
//! as it goes, never refused.

use crate::build::{flags_str, icmp_is_error, Addr, ICMP, TCP, UDP};

/// The transport part of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        flags: u8,
        seq: u32,
        ack: u32,
        win: u16,
        /// Payload bytes (within the total length).
        len: usize,
    },
    Udp {
        sport: u16,
        dport: u16,
        /// Payload bytes, by the UDP length field.
        len: usize,
    },
    Icmp {
        typ: u8,
        code: u8,
        /// Identifier and sequence of a query (echo, timestamp, ...).
        id_seq: Option<(u16, u16)>,
        /// The packet an error quotes.
        quote: Option<Quoted>,
    },
    /// A fragment other than the first: no transport header.
    Fragment,
    /// Another protocol, or a transport header cut short.
    Other,
}

/// The packet quoted in an ICMP error, as far as it is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quoted {
    pub src: Addr,
    pub dst: Addr,
    pub proto: u8,
    /// Ports (TCP, UDP), or identifier and type << 8 | code (ICMP).
    pub ports: Option<(u16, u16)>,
    /// The TCP sequence number.
    pub seq: Option<u32>,
}

/// One IPv4 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub src: Addr,
    pub dst: Addr,
    pub proto: u8,
    pub ttl: u8,
    pub id: u16,
    /// Fragment offset in bytes.
    pub frag_offset: u16,
    pub mf: bool,
    /// Header bytes beyond 20 (options).
    pub options: usize,
    /// The total length field, if it differs from the bytes there are.
    pub tot_len_mismatch: Option<u16>,
    /// Whether the header checksum is right.
    pub csum_ok: bool,
    pub l4: L4,
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn addr(d: &[u8], at: usize) -> Option<Addr> {
    d.get(at..at + 4)?.try_into().ok()
}

/// The IP header's fields and the transport bytes within the total length.
fn ip_header(d: &[u8]) -> Option<(Addr, Addr, u8, usize, &[u8])> {
    if d.len() < 20 || d[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    let tot = usize::from(be16(d, 2)?).min(d.len());
    if ihl < 20 || ihl > tot {
        return None;
    }
    Some((addr(d, 12)?, addr(d, 16)?, d[9], ihl, &d[ihl..tot]))
}

fn quoted(q: &[u8]) -> Option<Quoted> {
    let (src, dst, proto, ihl, _) = ip_header(q)?;
    // The quoted total length is the original's; only what is here counts.
    let t = &q[ihl..];
    let (ports, seq) = match proto {
        TCP | UDP => (be16(t, 0).zip(be16(t, 2)), if proto == TCP { be32(t, 4) } else { None }),
        ICMP => (
            be16(t, 4).zip(t.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]))),
            None,
        ),
        _ => (None, None),
    };
    Some(Quoted {
        src,
        dst,
        proto,
        ports,
        seq,
    })
}

/// The packet `d`, or `None` if it is not IPv4 with a whole header.
pub fn parse(d: &[u8]) -> Option<Summary> {
    let (src, dst, proto, ihl, t) = ip_header(d)?;
    let tot_len = be16(d, 2)?;
    let frag = be16(d, 6)?;
    let frag_offset = (frag & 0x1fff) * 8;
    let l4 = if frag_offset != 0 {
        L4::Fragment
    } else {
        match proto {
            TCP if t.len() >= 20 => {
                let doff = usize::from(t[12] >> 4) * 4;
                L4::Tcp {
                    sport: be16(t, 0)?,
                    dport: be16(t, 2)?,
                    flags: t[13],
                    seq: be32(t, 4)?,
                    ack: be32(t, 8)?,
                    win: be16(t, 14)?,
                    len: t.len().saturating_sub(doff),
                }
            }
            UDP if t.len() >= 8 => L4::Udp {
                sport: be16(t, 0)?,
                dport: be16(t, 2)?,
                len: usize::from(be16(t, 4)?).saturating_sub(8),
            },
            ICMP if t.len() >= 8 => {
                let typ = t[0];
                let id_seq = matches!(typ, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
                    .then(|| (be16(t, 4).unwrap_or(0), be16(t, 6).unwrap_or(0)));
                let quote = if icmp_is_error(typ) {
                    quoted(&t[8..])
                } else {
                    None
                };
                L4::Icmp {
                    typ,
                    code: t[1],
                    id_seq,
                    quote,
                }
            }
            _ => L4::Other,
        }
    };
    Some(Summary {
        src,
        dst,
        proto,
        ttl: d[8],
        id: be16(d, 4)?,
        frag_offset,
        mf: frag & 0x2000 != 0,
        options: ihl - 20,
        tot_len_mismatch: (usize::from(tot_len) != d.len()).then_some(tot_len),
        csum_ok: crate::csum::checksum(&d[..ihl]) == 0,
        l4,
    })
}

pub fn addr_str(a: Addr) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

pub fn proto_str(p: u8) -> String {
    match p {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        n => n.to_string(),
    }
}

impl Summary {
    /// `src=A dst=B proto=tcp sport=P dport=Q flags=SA seq=N ack=N win=N
    /// len=N`, and the like for the other protocols.
    pub fn line(&self) -> String {
        let mut s = format!(
            "src={} dst={} proto={}",
            addr_str(self.src),
            addr_str(self.dst),
            proto_str(self.proto)
        );
        match &self.l4 {
            L4::Tcp {
                sport,
                dport,
                flags,
                seq,
                ack,
                win,
                len,
            } => s += &format!(
                " sport={sport} dport={dport} flags={} seq={seq} ack={ack} win={win} len={len}",
                flags_str(*flags)
            ),
            L4::Udp { sport, dport, len } => s += &format!(" sport={sport} dport={dport} len={len}"),
            L4::Icmp {
                typ,
                code,
                id_seq,
                quote,
            } => {
                s += &format!(" type={typ} code={code}");
                if let Some((id, seq)) = id_seq {
                    s += &format!(" id={id} seq={seq}");
                }
                if let Some(q) = quote {
                    s += &format!(
                        " qsrc={} qdst={} qproto={}",
                        addr_str(q.src),
                        addr_str(q.dst),
                        proto_str(q.proto)
                    );
                    if let Some((a, b)) = q.ports {
                        if q.proto == ICMP {
                            s += &format!(" qid={a} qtype={} qcode={}", b >> 8, b & 0xff);
                        } else {
                            s += &format!(" qsport={a} qdport={b}");
                        }
                    }
                    if let Some(seq) = q.seq {
                        s += &format!(" qseq={seq}");
                    }
                }
            }
            L4::Fragment => {}
            L4::Other => s += " short",
        }
        if self.frag_offset != 0 || self.mf {
            s += &format!(" frag={} mf={}", self.frag_offset, u8::from(self.mf));
        }
        s += &format!(" ttl={} ipid={}", self.ttl, self.id);
        if self.options != 0 {
            s += &format!(" ipopts={}", self.options);
        }
        if let Some(n) = self.tot_len_mismatch {
            s += &format!(" iplen={n}");
        }
        if !self.csum_ok {
            s += " ipcsum=bad";
        }
        s
    }

    /// The ports of a TCP or UDP packet.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.l4 {
            L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport, .. } => Some((sport, dport)),
            _ => None,
        }
    }

    /// Whether `self`, received, answers `sent`: the same protocol the
    /// other way round (ports swapped; for ICMP a reply to a query with its
    /// identifier), or an ICMP error quoting `sent`.
    pub fn answers(&self, sent: &Summary) -> bool {
        if self.src != sent.dst || self.dst != sent.src {
            return false;
        }
        if let L4::Icmp {
            quote: Some(q), ..
        } = &self.l4
        {
            if q.src == sent.src && q.dst == sent.dst && q.proto == sent.proto {
                return match (q.ports, sent.ports()) {
                    (Some(qp), Some(sp)) => qp == sp,
                    (_, None) => true,
                    (None, Some(_)) => false,
                };
            }
        }
        if self.proto != sent.proto {
            return false;
        }
        match (&self.l4, &sent.l4) {
            (
                L4::Icmp {
                    id_seq: Some((id, _)),
                    ..
                },
                L4::Icmp {
                    id_seq: Some((sid, _)),
                    ..
                },
            ) => id == sid,
            _ => match (self.ports(), sent.ports()) {
                (Some((s, d)), Some((ss, sd))) => s == sd && d == ss,
                (None, None) => true,
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{quote, Icmp, Ip, Tcp, Udp, ACK, SYN};

    const A: Addr = [10, 0, 1, 2];
    const B: Addr = [10, 0, 2, 2];

    fn tcp(src: Addr, dst: Addr, sport: u16, dport: u16, flags: u8, len: usize) -> Vec<u8> {
        let mut t = Tcp::new(sport, dport);
        t.flags = flags;
        t.seq = 1000;
        t.ack = 2000;
        t.win = 512;
        t.mss = Some(1460);
        t.payload = crate::build::filler(len);
        Ip::new(src, dst, TCP).packet(&t.segment(src, dst))
    }

    #[test]
    fn tcp_line() {
        let s = parse(&tcp(A, B, 40000, 5001, SYN | ACK, 3)).unwrap();
        assert_eq!(
            s.line(),
            "src=10.0.1.2 dst=10.0.2.2 proto=tcp sport=40000 dport=5001 flags=SA \
             seq=1000 ack=2000 win=512 len=3 ttl=64 ipid=0"
        );
    }

    #[test]
    fn udp_and_fragment_lines() {
        let mut u = Udp::new(1, 2);
        u.payload = vec![0; 5];
        let mut ip = Ip::new(A, B, UDP);
        let s = parse(&ip.packet(&u.segment(A, B))).unwrap();
        assert!(s.line().contains("proto=udp sport=1 dport=2 len=5 ttl=64"));
        ip.frag_offset = 16;
        let s = parse(&ip.packet(&[0; 8])).unwrap();
        assert_eq!(s.l4, L4::Fragment);
        assert!(s.line().ends_with("proto=udp frag=16 mf=0 ttl=64 ipid=0"));
    }

    #[test]
    fn icmp_error_quote_and_answers() {
        let mut u = Udp::new(40000, 7777);
        u.payload = vec![1; 4];
        let sent_bytes = Ip::new(A, B, UDP).packet(&u.segment(A, B));
        let sent = parse(&sent_bytes).unwrap();
        let mut e = Icmp::new(3, 3);
        e.payload = quote(&Ip::new(A, B, UDP), &u.segment(A, B), 8);
        let err = parse(&Ip::new(B, A, 1).packet(&e.message())).unwrap();
        assert!(err.line().contains(
            "type=3 code=3 qsrc=10.0.1.2 qdst=10.0.2.2 qproto=udp qsport=40000 qdport=7777"
        ));
        assert!(err.answers(&sent));
        // Quoting another port: not about this packet.
        let mut other = u.clone();
        other.sport = 40001;
        e.payload = quote(&Ip::new(A, B, UDP), &other.segment(A, B), 8);
        let err = parse(&Ip::new(B, A, 1).packet(&e.message())).unwrap();
        assert!(!err.answers(&sent));
    }

    #[test]
    fn replies_are_recognised() {
        let sent = parse(&tcp(A, B, 40000, 5001, SYN, 0)).unwrap();
        assert!(parse(&tcp(B, A, 5001, 40000, SYN | ACK, 0)).unwrap().answers(&sent));
        assert!(!parse(&tcp(B, A, 5001, 40001, SYN | ACK, 0)).unwrap().answers(&sent));
        assert!(!parse(&tcp(A, B, 40000, 5001, SYN, 0)).unwrap().answers(&sent));
        let mut echo = Icmp::new(8, 0);
        echo.set_id_seq(77, 1);
        let sent = parse(&Ip::new(A, B, 1).packet(&echo.message())).unwrap();
        let mut reply = Icmp::new(0, 0);
        reply.set_id_seq(77, 1);
        assert!(parse(&Ip::new(B, A, 1).packet(&reply.message())).unwrap().answers(&sent));
        reply.set_id_seq(78, 1);
        assert!(!parse(&Ip::new(B, A, 1).packet(&reply.message())).unwrap().answers(&sent));
    }

    #[test]
    fn broken_header_fields_are_shown() {
        let mut ip = Ip::new(A, B, UDP);
        ip.options = vec![1, 1, 1, 0];
        ip.bad_csum = true;
        ip.tot_len = crate::build::TotLen::Delta(100);
        let l = parse(&ip.packet(&Udp::new(1, 2).segment(A, B))).unwrap().line();
        assert!(l.ends_with("ttl=64 ipid=0 ipopts=4 iplen=132 ipcsum=bad"), "{l}");
    }

    #[test]
    fn short_and_odd_packets() {
        assert!(parse(&[0x45; 10]).is_none());
        let mut p = tcp(A, B, 1, 2, SYN, 0);
        p.truncate(30);
        // The total length still says 44: the packet is described as far
        // as it goes.
        let s = parse(&p).unwrap();
        assert_eq!(s.l4, L4::Other);
        let mut v6 = tcp(A, B, 1, 2, SYN, 0);
        v6[0] = 0x65;
        assert!(parse(&v6).is_none());
    }
}
