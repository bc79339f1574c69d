// SPDX-License-Identifier: GPL-2.0

//! `-j LOG [--log-prefix p] [--log-level n] [--log-tcp-sequence]
//! [--log-tcp-options] [--log-ip-options] [--log-uid] [--log-macdecode]`
//! (`xt_LOG.c`), and [`log_line`], the line it prints, exactly as
//! `nf_log_syslog.c` formats an IPv4 packet.

use core::fmt::{self, Write};

use super::name::FixedStr;
use super::nla::{Attrs, NlaError, Writer};
use super::packet::{IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::proto;
use super::{each, Context, PacketInfo, Reason, TargetOps, Verdict};

/// Longest `--log-prefix`, in bytes.
pub const MAX_PREFIX: usize = 29;
/// Default `--log-level`: 4, warning.
pub const DEFAULT_LEVEL: u8 = 4;
/// The flags the target takes.
const KNOWN_FLAGS: u32 = proto::LOG_F_TCPSEQ
    | proto::LOG_F_TCPOPT
    | proto::LOG_F_IPOPT
    | proto::LOG_F_UID
    | proto::LOG_F_MACDECODE;

/// The LOG target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Log {
    /// `--log-prefix`.
    pub prefix: FixedStr<MAX_PREFIX>,
    /// `--log-level`, 0 to 7: the printk level.
    pub level: u8,
    /// `proto::LOG_F_*` bits.
    pub flags: u8,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            prefix: FixedStr::default(),
            level: DEFAULT_LEVEL,
            flags: 0,
        }
    }
}

impl Log {
    /// Whether `flag` (a `proto::LOG_F_*` bit) is set.
    pub fn has(&self, flag: u32) -> bool {
        u32::from(self.flags) & flag != 0
    }
}

impl TargetOps for Log {
    const KIND: u32 = proto::TG_LOG;
    const NAME: &'static str = "LOG";

    fn decode(opts: Attrs<'_>) -> Result<Self, Reason> {
        let mut t = Log::default();
        each(opts, |a| {
            match a.kind() {
                proto::LOG_PREFIX => {
                    t.prefix = FixedStr::new(a.get_str()?).ok_or(Reason::LogPrefixTooLong)?
                }
                proto::LOG_LEVEL => {
                    t.level = a.get_u8()?;
                    if t.level > 7 {
                        return Err(Reason::BadLogLevel);
                    }
                }
                proto::LOG_FLAGS => {
                    let f = a.get_u32()?;
                    if f & !KNOWN_FLAGS != 0 {
                        return Err(Reason::BadFlags);
                    }
                    t.flags = f as u8;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(t)
    }

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if !self.prefix.is_empty() {
            w.put_str(proto::LOG_PREFIX, self.prefix.as_str())?;
        }
        w.put_u8(proto::LOG_LEVEL, self.level)?;
        if self.flags != 0 {
            w.put_u32(proto::LOG_FLAGS, self.flags.into())?;
        }
        Ok(())
    }

    fn run<C: Context>(&self, pkt: &mut PacketInfo, ctx: &mut C) -> Option<Verdict> {
        ctx.log(self, pkt);
        None
    }
}

/// The packet as the LOG line describes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogPacket<'a> {
    /// The input device's name; `None` when there is none (OUTPUT), and
    /// then no `MAC=` part is printed.
    pub in_dev: Option<&'a [u8]>,
    /// The output device's name.
    pub out_dev: Option<&'a [u8]>,
    /// The link-layer header (`dev->hard_header_len` bytes at the mac
    /// header), if the packet has one; Ethernet for `--log-macdecode`.
    pub mac_header: Option<&'a [u8]>,
    /// The packet from its IP header: at least the headers, ideally whole
    /// (an ICMP error quotes another IP header and 8 bytes).
    pub data: &'a [u8],
    /// The length of the packet from its IP header (`skb->len`).
    pub skb_len: usize,
    /// The packet's mark.
    pub mark: u32,
    /// The owning socket's fsuid and fsgid, for `--log-uid`.
    pub uid_gid: Option<(u32, u32)>,
}

/// A `fmt::Write` into a byte buffer that cuts what does not fit.
struct Buf<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            match self.out.get_mut(self.len) {
                Some(dst) => {
                    *dst = b;
                    self.len += 1;
                }
                None => break,
            }
        }
        Ok(())
    }
}

impl Buf<'_> {
    /// Raw bytes (a device name), as `%s` prints them.
    fn bytes(&mut self, b: &[u8]) {
        for &c in b {
            let Some(dst) = self.out.get_mut(self.len) else {
                return;
            };
            *dst = c;
            self.len += 1;
        }
    }
}

/// Dotted quad.
struct Ip4([u8; 4]);

impl fmt::Display for Ip4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at.checked_add(1)?)?,
    ]))
}

fn be32(d: &[u8], at: usize) -> Option<[u8; 4]> {
    d.get(at..at.checked_add(4)?)?.try_into().ok()
}

/// Format the LOG line for `pkt` into `out`, as `nf_log_ip_packet` does
/// after the printk level: the prefix, `IN=`, `OUT=`, `MAC=`, then the IP
/// header, transport header, and `MARK=`. The caller prints it at
/// `log.level`. What does not fit in `out` is cut (the kernel's buffer is
/// 1024 bytes). Returns the length written.
pub fn log_line(out: &mut [u8], log: &Log, pkt: &LogPacket<'_>) -> usize {
    let mut b = Buf { out, len: 0 };
    let _ = b.write_str(log.prefix.as_str());
    let _ = b.write_str("IN=");
    b.bytes(pkt.in_dev.unwrap_or(&[]));
    let _ = b.write_str(" OUT=");
    b.bytes(pkt.out_dev.unwrap_or(&[]));
    let _ = b.write_str(" ");
    if pkt.in_dev.is_some() {
        let _ = mac_header(&mut b, log, pkt);
    }
    let _ = ipv4(&mut b, log, pkt, 0);
    b.len
}

fn mac_header(b: &mut Buf<'_>, log: &Log, pkt: &LogPacket<'_>) -> fmt::Result {
    if log.has(proto::LOG_F_MACDECODE) {
        // Ethernet: nothing if the header is missing or short.
        let Some(h) = pkt.mac_header.filter(|h| h.len() >= 14) else {
            return Ok(());
        };
        let mac = |b: &mut Buf<'_>, m: &[u8]| -> fmt::Result {
            for (k, x) in m.iter().enumerate() {
                write!(b, "{}{x:02x}", if k == 0 { "" } else { ":" })?;
            }
            Ok(())
        };
        b.write_str("MACSRC=")?;
        mac(b, h.get(6..12).unwrap_or(&[]))?;
        b.write_str(" MACDST=")?;
        mac(b, h.get(..6).unwrap_or(&[]))?;
        return write!(b, " MACPROTO={:04x} ", be16(h, 12).unwrap_or(0));
    }
    b.write_str("MAC=")?;
    if let Some(h) = pkt.mac_header.filter(|h| !h.is_empty()) {
        for (k, x) in h.iter().enumerate() {
            write!(b, "{}{x:02x}", if k == 0 { "" } else { ":" })?;
        }
    }
    b.write_str(" ")
}

/// ICMP types with a required length (`required_len` in
/// `nf_log_syslog.c`).
fn icmp_required_len(icmp_type: u8) -> usize {
    match icmp_type {
        0 | 8 => 4,
        3 | 4 | 5 | 11 | 12 => 8 + 20,
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 0,
    }
}

/// `dump_ipv4_packet`: the IP header at `iphoff` of `pkt.data`; recurses
/// once into the packet an ICMP error quotes.
fn ipv4(b: &mut Buf<'_>, log: &Log, pkt: &LogPacket<'_>, iphoff: usize) -> fmt::Result {
    let d = pkt.data;
    let Some(ih) = d.get(iphoff..).and_then(|h| h.get(..20)) else {
        return b.write_str("TRUNCATED");
    };
    let ihl = usize::from(ih[0] & 0x0f) * 4;
    let tos = ih[1];
    // As `iph_totlen`: the packet's length for an IPv4 BIG TCP packet
    // (the outer header's field 0); a quoted header's field as it is.
    let field = u16::from_be_bytes([ih[2], ih[3]]);
    let tot_len = match iphoff {
        0 => crate::packet::total_length(field, pkt.skb_len),
        _ => usize::from(field),
    };
    let id = u16::from_be_bytes([ih[4], ih[5]]);
    let frag = u16::from_be_bytes([ih[6], ih[7]]);
    let ttl = ih[8];
    let protocol = ih[9];
    let saddr = [ih[12], ih[13], ih[14], ih[15]];
    let daddr = [ih[16], ih[17], ih[18], ih[19]];
    write!(b, "SRC={} DST={} ", Ip4(saddr), Ip4(daddr))?;
    write!(
        b,
        "LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ",
        tot_len,
        tos & 0x1e,
        tos & 0xe0,
        ttl,
        id
    )?;
    if frag & 0x8000 != 0 {
        b.write_str("CE ")?;
    }
    if frag & 0x4000 != 0 {
        b.write_str("DF ")?;
    }
    if frag & 0x2000 != 0 {
        b.write_str("MF ")?;
    }
    let offset = frag & 0x1fff;
    if offset != 0 {
        write!(b, "FRAG:{offset} ")?;
    }
    if log.has(proto::LOG_F_IPOPT) && ihl > 20 {
        let Some(opts) = d.get(iphoff + 20..iphoff + ihl) else {
            return b.write_str("TRUNCATED");
        };
        b.write_str("OPT (")?;
        for x in opts {
            write!(b, "{x:02X}")?;
        }
        b.write_str(") ")?;
    }
    let fragment = offset != 0;
    let l4 = iphoff + ihl;
    let incomplete = |b: &mut Buf<'_>, at: usize| {
        write!(b, "INCOMPLETE [{} bytes] ", pkt.skb_len.saturating_sub(at))
    };
    match protocol {
        IPPROTO_TCP => {
            b.write_str("PROTO=TCP ")?;
            if !fragment {
                let Some(th) = d.get(l4..).and_then(|t| t.get(..20)) else {
                    return incomplete(b, l4);
                };
                write!(
                    b,
                    "SPT={} DPT={} ",
                    u16::from_be_bytes([th[0], th[1]]),
                    u16::from_be_bytes([th[2], th[3]])
                )?;
                if log.has(proto::LOG_F_TCPSEQ) {
                    write!(
                        b,
                        "SEQ={} ACK={} ",
                        u32::from_be_bytes([th[4], th[5], th[6], th[7]]),
                        u32::from_be_bytes([th[8], th[9], th[10], th[11]])
                    )?;
                }
                write!(b, "WINDOW={} ", u16::from_be_bytes([th[14], th[15]]))?;
                write!(b, "RES=0x{:02x} ", (th[12] & 0x0f) << 2)?;
                let names = [
                    "CWR ", "ECE ", "URG ", "ACK ", "PSH ", "RST ", "SYN ", "FIN ",
                ];
                for (k, name) in names.iter().enumerate() {
                    if th[13] & (0x80 >> k) != 0 {
                        b.write_str(name)?;
                    }
                }
                write!(b, "URGP={} ", u16::from_be_bytes([th[18], th[19]]))?;
                let doff = usize::from(th[12] >> 4) * 4;
                if log.has(proto::LOG_F_TCPOPT) && doff > 20 {
                    let Some(opts) = d.get(l4 + 20..l4 + doff) else {
                        return b.write_str("OPT (TRUNCATED)");
                    };
                    b.write_str("OPT (")?;
                    for x in opts {
                        write!(b, "{x:02X}")?;
                    }
                    b.write_str(") ")?;
                }
            }
        }
        IPPROTO_UDP | 136 => {
            b.write_str(if protocol == IPPROTO_UDP {
                "PROTO=UDP "
            } else {
                "PROTO=UDPLITE "
            })?;
            if !fragment {
                let Some(uh) = d.get(l4..).and_then(|u| u.get(..8)) else {
                    return incomplete(b, l4);
                };
                write!(
                    b,
                    "SPT={} DPT={} LEN={} ",
                    u16::from_be_bytes([uh[0], uh[1]]),
                    u16::from_be_bytes([uh[2], uh[3]]),
                    u16::from_be_bytes([uh[4], uh[5]])
                )?;
            }
        }
        IPPROTO_ICMP => {
            b.write_str("PROTO=ICMP ")?;
            if !fragment {
                icmp(b, log, pkt, iphoff, l4)?;
            }
        }
        51 => {
            // AH
            if !fragment {
                b.write_str("PROTO=AH ")?;
                match be32(d, l4 + 4).filter(|_| d.len() >= l4 + 12) {
                    Some(spi) => write!(b, "SPI=0x{:x} ", u32::from_be_bytes(spi))?,
                    None => incomplete(b, l4)?,
                }
            }
        }
        50 => {
            // ESP
            b.write_str("PROTO=ESP ")?;
            if !fragment {
                match be32(d, l4).filter(|_| d.len() >= l4 + 8) {
                    Some(spi) => write!(b, "SPI=0x{:x} ", u32::from_be_bytes(spi))?,
                    None => incomplete(b, l4)?,
                }
            }
        }
        _ => write!(b, "PROTO={protocol} ")?,
    }
    if iphoff == 0 {
        if log.has(proto::LOG_F_UID) {
            if let Some((uid, gid)) = pkt.uid_gid {
                write!(b, "UID={uid} GID={gid} ")?;
            }
        }
        if pkt.mark != 0 {
            write!(b, "MARK=0x{:x} ", pkt.mark)?;
        }
    }
    Ok(())
}

/// The ICMP part of `dump_ipv4_packet`, header at `l4`.
fn icmp(b: &mut Buf<'_>, log: &Log, pkt: &LogPacket<'_>, iphoff: usize, l4: usize) -> fmt::Result {
    let d = pkt.data;
    let Some(ich) = d.get(l4..).and_then(|i| i.get(..8)) else {
        return write!(b, "INCOMPLETE [{} bytes] ", pkt.skb_len.saturating_sub(l4));
    };
    let (icmp_type, code) = (ich[0], ich[1]);
    write!(b, "TYPE={icmp_type} CODE={code} ")?;
    let have = pkt.skb_len.saturating_sub(l4);
    let required = icmp_required_len(icmp_type);
    if required != 0 && have < required {
        return write!(b, "INCOMPLETE [{have} bytes] ");
    }
    match icmp_type {
        0 | 8 => write!(
            b,
            "ID={} SEQ={} ",
            u16::from_be_bytes([ich[4], ich[5]]),
            u16::from_be_bytes([ich[6], ich[7]])
        )?,
        12 => write!(b, "PARAMETER={} ", ich[4])?,
        3 | 4 | 5 | 11 => {
            if icmp_type == 5 {
                write!(b, "GATEWAY={} ", Ip4([ich[4], ich[5], ich[6], ich[7]]))?;
            }
            if iphoff == 0 {
                b.write_str("[")?;
                ipv4(b, log, pkt, l4 + 8)?;
                b.write_str("] ")?;
            }
            if icmp_type == 3 && code == 4 {
                write!(b, "MTU={} ", u16::from_be_bytes([ich[6], ich[7]]))?;
            }
        }
        _ => {}
    }
    Ok(())
}
