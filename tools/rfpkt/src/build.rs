// SPDX-License-Identifier: GPL-2.0

//! Packet builders: an IPv4 header (options, fragment fields, and every
//! field that can be made wrong on purpose), TCP, UDP and ICMP, and the
//! quoted packet of an ICMP error. Checksums are right unless asked
//! otherwise.

use crate::csum;

/// An IPv4 address as its four bytes, in network order.
pub type Addr = [u8; 4];

pub const ICMP: u8 = 1;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;
pub const ECE: u8 = 0x40;
pub const CWR: u8 = 0x80;

/// Flag letters in the order they are printed: SYN+ACK is "SA", PSH+ACK
/// "PA", FIN+ACK "FA", RST+ACK "RA".
const FLAG_LETTERS: [(char, u8); 8] = [
    ('F', FIN),
    ('S', SYN),
    ('R', RST),
    ('P', PSH),
    ('A', ACK),
    ('U', URG),
    ('E', ECE),
    ('C', CWR),
];

/// TCP flags from letters in any order ("SA", "PA", "FPA"), "none", or a
/// number ("0x12").
pub fn parse_flags(s: &str) -> Result<u8, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(0);
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return crate::cli::parse_num::<u8>(s).map_err(|_| format!("bad TCP flags \"{s}\""));
    }
    let mut flags = 0;
    for c in s.chars() {
        let bit = FLAG_LETTERS
            .iter()
            .find(|(l, _)| *l == c.to_ascii_uppercase())
            .map(|(_, b)| *b)
            .ok_or_else(|| format!("bad TCP flags \"{s}\": letters are F S R P A U E C"))?;
        flags |= bit;
    }
    Ok(flags)
}

/// The letters of `flags` ("SA"), or "none".
pub fn flags_str(flags: u8) -> String {
    let s: String = FLAG_LETTERS
        .iter()
        .filter(|(_, b)| flags & b != 0)
        .map(|(l, _)| *l)
        .collect();
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// A checksum made wrong: differs from `c` by less than 0xffff, so it is
/// not another representation of the same sum, and is never 0 (no UDP
/// checksum).
pub fn spoil(c: u16) -> u16 {
    match c ^ 0x0f0f {
        0 => 0x0f0e,
        b => b,
    }
}

/// The total length field: computed, given, or computed plus a delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotLen {
    Computed,
    Exact(u16),
    Delta(i32),
}

/// An IPv4 header.
#[derive(Clone, Debug)]
pub struct Ip {
    pub src: Addr,
    pub dst: Addr,
    pub proto: u8,
    pub ttl: u8,
    pub tos: u8,
    /// 0: the raw socket picks one.
    pub id: u16,
    pub df: bool,
    pub mf: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// Options, padded with EOL to a multiple of 4 bytes.
    pub options: Vec<u8>,
    pub version: u8,
    /// The IHL field, if not the header's real length / 4.
    pub ihl: Option<u8>,
    pub tot_len: TotLen,
    pub bad_csum: bool,
}

impl Ip {
    pub fn new(src: Addr, dst: Addr, proto: u8) -> Ip {
        Ip {
            src,
            dst,
            proto,
            ttl: 64,
            tos: 0,
            id: 0,
            df: false,
            mf: false,
            frag_offset: 0,
            options: Vec::new(),
            version: 4,
            ihl: None,
            tot_len: TotLen::Computed,
            bad_csum: false,
        }
    }

    /// The options as sent: padded with EOL (0) to a multiple of 4.
    fn padded_options(&self) -> Vec<u8> {
        let mut o = self.options.clone();
        while !o.len().is_multiple_of(4) {
            o.push(0);
        }
        o
    }

    /// The header's real length in bytes.
    pub fn header_len(&self) -> usize {
        20 + self.padded_options().len()
    }

    /// The IHL field as it will be sent.
    pub fn ihl_field(&self) -> u8 {
        self.ihl.unwrap_or((self.header_len() / 4) as u8) & 0x0f
    }

    /// The whole packet: header, then `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let opts = self.padded_options();
        let real = 20 + opts.len() + payload.len();
        let tot_len = match self.tot_len {
            TotLen::Computed => real as u16,
            TotLen::Exact(n) => n,
            TotLen::Delta(d) => (real as i64 + i64::from(d)).clamp(0, 0xffff) as u16,
        };
        let frag = (u16::from(self.df) << 14)
            | (u16::from(self.mf) << 13)
            | ((self.frag_offset / 8) & 0x1fff);
        let mut p = Vec::with_capacity(real);
        p.push((self.version << 4) | self.ihl_field());
        p.push(self.tos);
        p.extend_from_slice(&tot_len.to_be_bytes());
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&frag.to_be_bytes());
        p.push(self.ttl);
        p.push(self.proto);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&self.src);
        p.extend_from_slice(&self.dst);
        p.extend_from_slice(&opts);
        p.extend_from_slice(payload);
        // The checksum over the header as the IHL field says (what a
        // receiver checks), within the packet.
        let hlen = (usize::from(self.ihl_field()) * 4).min(p.len());
        let mut c = csum::checksum(&p[..hlen]);
        if self.bad_csum {
            c = spoil(c);
        }
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }
}

/// A TCP segment.
#[derive(Clone, Debug)]
pub struct Tcp {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub win: u16,
    pub urg: u16,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// More option bytes, after the ones above.
    pub options: Vec<u8>,
    /// The data offset field (32-bit words), if not the real one.
    pub doff: Option<u8>,
    pub payload: Vec<u8>,
    pub bad_csum: bool,
}

impl Tcp {
    pub fn new(sport: u16, dport: u16) -> Tcp {
        Tcp {
            sport,
            dport,
            seq: 0,
            ack: 0,
            flags: 0,
            win: 65535,
            urg: 0,
            mss: None,
            wscale: None,
            sack_perm: false,
            options: Vec::new(),
            doff: None,
            payload: Vec::new(),
            bad_csum: false,
        }
    }

    /// The options, each aligned as Linux sends them, padded with EOL.
    fn option_bytes(&self) -> Vec<u8> {
        let mut o = Vec::new();
        if let Some(mss) = self.mss {
            o.extend_from_slice(&[2, 4]);
            o.extend_from_slice(&mss.to_be_bytes());
        }
        if self.sack_perm {
            o.extend_from_slice(&[1, 1, 4, 2]);
        }
        if let Some(ws) = self.wscale {
            o.extend_from_slice(&[1, 3, 3, ws]);
        }
        o.extend_from_slice(&self.options);
        while o.len() % 4 != 0 {
            o.push(0);
        }
        o
    }

    /// The segment between `src` and `dst` (for the checksum).
    pub fn segment(&self, src: Addr, dst: Addr) -> Vec<u8> {
        let opts = self.option_bytes();
        let hlen = 20 + opts.len();
        let doff = self.doff.unwrap_or((hlen / 4) as u8) & 0x0f;
        let mut s = Vec::with_capacity(hlen + self.payload.len());
        s.extend_from_slice(&self.sport.to_be_bytes());
        s.extend_from_slice(&self.dport.to_be_bytes());
        s.extend_from_slice(&self.seq.to_be_bytes());
        s.extend_from_slice(&self.ack.to_be_bytes());
        s.push(doff << 4);
        s.push(self.flags);
        s.extend_from_slice(&self.win.to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&self.urg.to_be_bytes());
        s.extend_from_slice(&opts);
        s.extend_from_slice(&self.payload);
        let mut c = csum::transport(src, dst, TCP, &s);
        if self.bad_csum {
            c = spoil(c);
        }
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }
}

/// A UDP datagram.
#[derive(Clone, Debug)]
pub struct Udp {
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
    /// The length field, if not the real length.
    pub len: Option<u16>,
    pub bad_csum: bool,
    /// Checksum field 0 (none).
    pub no_csum: bool,
}

impl Udp {
    pub fn new(sport: u16, dport: u16) -> Udp {
        Udp {
            sport,
            dport,
            payload: Vec::new(),
            len: None,
            bad_csum: false,
            no_csum: false,
        }
    }

    pub fn segment(&self, src: Addr, dst: Addr) -> Vec<u8> {
        let real = 8 + self.payload.len();
        let mut s = Vec::with_capacity(real);
        s.extend_from_slice(&self.sport.to_be_bytes());
        s.extend_from_slice(&self.dport.to_be_bytes());
        s.extend_from_slice(&self.len.unwrap_or(real as u16).to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&self.payload);
        if !self.no_csum {
            // The pseudo-header carries the same length as the header.
            let field = u16::from_be_bytes([s[4], s[5]]);
            let mut c = csum::finish(csum::add(
                csum::pseudo(src, dst, UDP, usize::from(field)),
                &s,
            ));
            if c == 0 {
                c = 0xffff;
            }
            if self.bad_csum {
                c = spoil(c);
            }
            s[6..8].copy_from_slice(&c.to_be_bytes());
        }
        s
    }
}

/// An ICMP message: type, code, the four bytes after the checksum
/// ("rest of header": identifier and sequence, next-hop MTU, gateway),
/// then the data or the quoted packet.
#[derive(Clone, Debug)]
pub struct Icmp {
    pub typ: u8,
    pub code: u8,
    pub rest: [u8; 4],
    pub payload: Vec<u8>,
    pub bad_csum: bool,
}

impl Icmp {
    pub fn new(typ: u8, code: u8) -> Icmp {
        Icmp {
            typ,
            code,
            rest: [0; 4],
            payload: Vec::new(),
            bad_csum: false,
        }
    }

    /// Identifier and sequence number (queries).
    pub fn set_id_seq(&mut self, id: u16, seq: u16) {
        self.rest[..2].copy_from_slice(&id.to_be_bytes());
        self.rest[2..].copy_from_slice(&seq.to_be_bytes());
    }

    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(8 + self.payload.len());
        m.push(self.typ);
        m.push(self.code);
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&self.rest);
        m.extend_from_slice(&self.payload);
        let mut c = csum::checksum(&m);
        if self.bad_csum {
            c = spoil(c);
        }
        m[2..4].copy_from_slice(&c.to_be_bytes());
        m
    }
}

/// Whether an ICMP type is an error (it quotes a packet).
pub fn icmp_is_error(typ: u8) -> bool {
    matches!(typ, 3 | 4 | 5 | 11 | 12)
}

/// The packet quoted by an ICMP error: the original's IP header (total
/// length of the whole original) and the first `bytes` of its transport
/// header (RFC 792: 8).
pub fn quote(ip: &Ip, transport: &[u8], bytes: usize) -> Vec<u8> {
    let whole = ip.packet(transport);
    let keep = ip.header_len() + bytes.min(transport.len());
    whole[..keep.min(whole.len())].to_vec()
}

/// `n` bytes of printable filler ("abcd...z" repeated).
pub fn filler(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csum::tests::{pseudo_bytes, reference};

    const A: Addr = [10, 0, 1, 2];
    const B: Addr = [10, 0, 2, 2];

    /// The transport checksum over pseudo-header and segment, from scratch
    /// (the segment as sent, checksum field included): 0 when right.
    fn verify_transport(src: Addr, dst: Addr, proto: u8, seg: &[u8]) -> u16 {
        let mut whole = pseudo_bytes(src, dst, proto, seg.len());
        whole.extend_from_slice(seg);
        reference(&whole)
    }

    #[test]
    fn flags_round_trip() {
        assert_eq!(parse_flags("S").unwrap(), SYN);
        assert_eq!(parse_flags("SA").unwrap(), SYN | ACK);
        assert_eq!(parse_flags("as").unwrap(), SYN | ACK);
        assert_eq!(parse_flags("PA").unwrap(), PSH | ACK);
        assert_eq!(parse_flags("none").unwrap(), 0);
        assert_eq!(parse_flags("0x12").unwrap(), SYN | ACK);
        assert!(parse_flags("SX").is_err());
        assert_eq!(flags_str(SYN | ACK), "SA");
        assert_eq!(flags_str(FIN | PSH | ACK), "FPA");
        assert_eq!(flags_str(RST | ACK), "RA");
        assert_eq!(flags_str(0), "none");
        for f in 0..=255u8 {
            assert_eq!(parse_flags(&flags_str(f)).unwrap(), f);
        }
    }

    #[test]
    fn ip_header_fields_and_checksum() {
        let mut ip = Ip::new(A, B, UDP);
        ip.id = 0x1234;
        ip.ttl = 7;
        ip.tos = 0x10;
        ip.df = true;
        let p = ip.packet(&[1, 2, 3]);
        assert_eq!(p.len(), 23);
        assert_eq!(p[0], 0x45);
        assert_eq!(p[1], 0x10);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 23);
        assert_eq!(u16::from_be_bytes([p[4], p[5]]), 0x1234);
        assert_eq!(u16::from_be_bytes([p[6], p[7]]), 0x4000);
        assert_eq!(p[8], 7);
        assert_eq!(p[9], UDP);
        assert_eq!(&p[12..16], &A);
        assert_eq!(&p[16..20], &B);
        assert_eq!(reference(&p[..20]), 0, "header checksum");
        assert_eq!(&p[20..], &[1, 2, 3]);
    }

    #[test]
    fn ip_options_fragments_and_broken_fields() {
        let mut ip = Ip::new(A, B, UDP);
        ip.options = vec![1, 1, 1]; // padded with one EOL
        ip.mf = true;
        ip.frag_offset = 64;
        let p = ip.packet(&[0; 8]);
        assert_eq!(p[0], 0x46);
        assert_eq!(&p[20..24], &[1, 1, 1, 0]);
        assert_eq!(u16::from_be_bytes([p[6], p[7]]), 0x2000 | 8);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 32);
        assert_eq!(reference(&p[..24]), 0);

        ip.bad_csum = true;
        let bad = ip.packet(&[0; 8]);
        assert_ne!(reference(&bad[..24]), 0);

        let mut ip = Ip::new(A, B, UDP);
        ip.ihl = Some(4);
        ip.tot_len = TotLen::Delta(100);
        let p = ip.packet(&[0; 8]);
        assert_eq!(p[0], 0x44);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 128);
        // Checksummed over what the IHL says.
        assert_eq!(reference(&p[..16]), 0);

        ip.tot_len = TotLen::Exact(24);
        ip.version = 6;
        let p = ip.packet(&[0; 8]);
        assert_eq!(p[0], 0x64);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 24);
    }

    #[test]
    fn tcp_syn_with_options() {
        let mut t = Tcp::new(40000, 5001);
        t.seq = 0xdead_beef;
        t.flags = SYN;
        t.win = 29200;
        t.mss = Some(1460);
        t.sack_perm = true;
        t.wscale = Some(7);
        let s = t.segment(A, B);
        assert_eq!(s.len(), 32);
        assert_eq!(u16::from_be_bytes([s[0], s[1]]), 40000);
        assert_eq!(u16::from_be_bytes([s[2], s[3]]), 5001);
        assert_eq!(u32::from_be_bytes([s[4], s[5], s[6], s[7]]), 0xdead_beef);
        assert_eq!(s[12] >> 4, 8);
        assert_eq!(s[13], SYN);
        assert_eq!(u16::from_be_bytes([s[14], s[15]]), 29200);
        assert_eq!(&s[20..], &[2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
        assert_eq!(verify_transport(A, B, TCP, &s), 0);
        // The checksum depends on the addresses.
        assert_ne!(verify_transport(A, [10, 0, 2, 3], TCP, &s), 0);
    }

    #[test]
    fn tcp_data_odd_length_and_bad_checksum() {
        let mut t = Tcp::new(1, 2);
        t.flags = PSH | ACK;
        t.seq = 1;
        t.ack = 0xffff_ffff;
        t.payload = filler(13);
        let s = t.segment(A, B);
        assert_eq!(s.len(), 33);
        assert_eq!(&s[20..], b"abcdefghijklm");
        assert_eq!(verify_transport(A, B, TCP, &s), 0);
        t.bad_csum = true;
        assert_ne!(verify_transport(A, B, TCP, &t.segment(A, B)), 0);
        t.bad_csum = false;
        t.doff = Some(15);
        let s = t.segment(A, B);
        assert_eq!(s[12], 0xf0);
        assert_eq!(verify_transport(A, B, TCP, &s), 0);
    }

    #[test]
    fn udp_checksum_and_length() {
        let mut u = Udp::new(40000, 7777);
        u.payload = b"hello".to_vec();
        let s = u.segment(A, B);
        assert_eq!(s.len(), 13);
        assert_eq!(u16::from_be_bytes([s[4], s[5]]), 13);
        assert_eq!(verify_transport(A, B, UDP, &s), 0);
        assert_ne!(u16::from_be_bytes([s[6], s[7]]), 0);
        u.bad_csum = true;
        let s = u.segment(A, B);
        assert_ne!(verify_transport(A, B, UDP, &s), 0);
        assert_ne!(u16::from_be_bytes([s[6], s[7]]), 0);
        u.bad_csum = false;
        u.no_csum = true;
        assert_eq!(&u.segment(A, B)[6..8], &[0, 0]);
        u.no_csum = false;
        u.len = Some(100);
        assert_eq!(&u.segment(A, B)[4..6], &[0, 100]);
    }

    #[test]
    fn udp_zero_checksum_is_sent_as_ffff() {
        // Find a payload whose checksum computes to 0 and check it is sent
        // as 0xffff (RFC 768), which still verifies.
        let mut u = Udp::new(1, 1);
        for x in 0..=0xffffu32 {
            u.payload = (x as u16).to_be_bytes().to_vec();
            let s = u.segment(A, B);
            if u16::from_be_bytes([s[6], s[7]]) == 0xffff {
                assert_eq!(verify_transport(A, B, UDP, &s), 0);
                return;
            }
        }
        panic!("no payload with a zero checksum");
    }

    #[test]
    fn icmp_echo_and_error_with_quote() {
        let mut e = Icmp::new(8, 0);
        e.set_id_seq(0x4242, 7);
        e.payload = filler(5);
        let m = e.message();
        assert_eq!(&m[4..8], &[0x42, 0x42, 0, 7]);
        assert_eq!(reference(&m), 0);

        // Port unreachable from B about A's UDP datagram to B.
        let inner_ip = Ip::new(A, B, UDP);
        let mut inner = Udp::new(40000, 7777);
        inner.payload = filler(10);
        let seg = inner.segment(A, B);
        let q = quote(&inner_ip, &seg, 8);
        assert_eq!(q.len(), 28);
        assert_eq!(u16::from_be_bytes([q[2], q[3]]), 38, "original total length");
        assert_eq!(reference(&q[..20]), 0);
        assert_eq!(&q[20..24], &[0x9c, 0x40, 0x1e, 0x61]);
        let mut err = Icmp::new(3, 3);
        err.payload = q.clone();
        let m = err.message();
        assert_eq!(reference(&m), 0);
        assert_eq!(&m[8..], &q[..]);
        let mut short = quote(&inner_ip, &seg, 2);
        assert_eq!(short.len(), 22);
        short = quote(&inner_ip, &seg, 100);
        assert_eq!(short.len(), 38);
        err.bad_csum = true;
        assert_ne!(reference(&err.message()), 0);
    }

    #[test]
    fn whole_packets_verify() {
        let ip = Ip::new(A, B, TCP);
        let mut t = Tcp::new(5, 6);
        t.flags = SYN;
        t.payload = filler(3);
        let p = ip.packet(&t.segment(A, B));
        assert_eq!(reference(&p[..20]), 0);
        assert_eq!(verify_transport(A, B, TCP, &p[20..]), 0);
    }

    #[test]
    fn spoiled_checksums_differ_in_value() {
        for c in [0u16, 1, 0x0f0f, 0xf0f0, 0xfffe, 0xffff] {
            let b = spoil(c);
            assert_ne!(b, 0);
            // Not the same one's complement value: 0 and 0xffff are equal.
            let norm = |x: u16| if x == 0xffff { 0 } else { x };
            assert_ne!(norm(b), norm(c), "{c:#x}");
        }
    }
}
