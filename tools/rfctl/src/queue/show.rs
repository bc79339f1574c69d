// SPDX-License-Identifier: GPL-2.0

//! What `rfctl queue` prints: one line per packet, errno names.

use std::fmt::Write;
use std::net::Ipv4Addr;

use rfcore::nfqueue::consts::{
    NFPROTO_IPV4, NFQA_SKB_CSUMNOTREADY, NFQA_SKB_CSUM_NOTVERIFIED, NFQA_SKB_GSO,
};
use rfcore::nfqueue::packet::Packet;
use rfcore::nfqueue::Errno;

/// The iptables name of hook `hook`.
pub fn hook_name(hook: u8) -> String {
    match hook {
        0 => "PREROUTING".into(),
        1 => "INPUT".into(),
        2 => "FORWARD".into(),
        3 => "OUTPUT".into(),
        4 => "POSTROUTING".into(),
        h => format!("hook{h}"),
    }
}

/// The name of errno `e` (positive), as `errno(1)` prints it.
pub fn errno_name(e: i32) -> String {
    let known = [
        Errno::Perm,
        Errno::NoEnt,
        Errno::Again,
        Errno::NoMem,
        Errno::Busy,
        Errno::NoDev,
        Errno::Inval,
        Errno::Range,
        Errno::OpNotSupp,
        Errno::NotSupp,
    ];
    if let Some(k) = known.iter().find(|k| k.value() == e) {
        return k.name().into();
    }
    match e {
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        13 => "EACCES",
        14 => "EFAULT",
        17 => "EEXIST",
        28 => "ENOSPC",
        90 => "EMSGSIZE",
        93 => "EPROTONOSUPPORT",
        105 => "ENOBUFS",
        111 => "ECONNREFUSED",
        _ => return format!("errno {e}"),
    }
    .into()
}

/// `NAME (text)` for errno `e`.
pub fn errno_text(e: i32) -> String {
    if e == Errno::NotSupp.value() {
        // The C library has no text for the kernel-internal ENOTSUPP.
        return "ENOTSUPP (Operation not supported)".into();
    }
    format!("{} ({})", errno_name(e), crate::error::strerror(e))
}

/// The `NFQA_SKB_INFO` flags, by name.
fn skb_info(info: u32) -> String {
    let mut names = Vec::new();
    for (bit, name) in [
        (NFQA_SKB_CSUMNOTREADY, "csum-not-ready"),
        (NFQA_SKB_GSO, "gso"),
        (NFQA_SKB_CSUM_NOTVERIFIED, "csum-not-verified"),
    ] {
        if info & bit != 0 {
            names.push(name.to_string());
        }
    }
    let rest = info & !(NFQA_SKB_CSUMNOTREADY | NFQA_SKB_GSO | NFQA_SKB_CSUM_NOTVERIFIED);
    if rest != 0 {
        names.push(format!("{rest:#x}"));
    }
    names.join(",")
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(*b.get(at..)?.first_chunk()?))
}

fn addr(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(*b.get(at..)?.first_chunk::<4>()?))
}

/// TCP flags as tcpdump writes them (`S`, `S.`, `P.`, `F.`, `R`...).
fn tcp_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if f & 0x10 != 0 {
        s.push('.');
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// A tcpdump-like summary of the IPv4 packet `pkt` (as far as the bytes
/// go): `udp 10.0.1.1:1234 > 10.0.2.1:53 len 40` (the transport payload's
/// length, from the headers).
pub fn ipv4_summary(pkt: &[u8]) -> String {
    summary(pkt).unwrap_or_else(|| format!("ipv4 truncated ({} bytes)", pkt.len()))
}

fn summary(pkt: &[u8]) -> Option<String> {
    let first = *pkt.first()?;
    if first >> 4 != 4 {
        return Some(format!("not ipv4 (version {})", first >> 4));
    }
    let ihl = usize::from(first & 0x0f) * 4;
    let tot = usize::from(be16(pkt, 2)?);
    let proto = *pkt.get(9)?;
    let frag = be16(pkt, 6)? & 0x1fff;
    let (src, dst) = (addr(pkt, 12)?, addr(pkt, 16)?);
    let l4 = pkt.get(ihl..)?;
    let l4_len = tot.saturating_sub(ihl);
    if frag != 0 {
        return Some(format!(
            "ip {src} > {dst} proto {proto} frag {} len {l4_len}",
            usize::from(frag) * 8
        ));
    }
    Some(match proto {
        6 => {
            let doff = usize::from(*l4.get(12)? >> 4) * 4;
            format!(
                "tcp {src}:{} > {dst}:{} flags {} len {}",
                be16(l4, 0)?,
                be16(l4, 2)?,
                tcp_flags(*l4.get(13)?),
                l4_len.saturating_sub(doff)
            )
        }
        17 => format!(
            "udp {src}:{} > {dst}:{} len {}",
            be16(l4, 0)?,
            be16(l4, 2)?,
            usize::from(be16(l4, 4)?).saturating_sub(8)
        ),
        1 => format!(
            "icmp {src} > {dst} type {} code {} len {}",
            l4.first()?,
            l4.get(1)?,
            l4_len.saturating_sub(8)
        ),
        p => format!("ip {src} > {dst} proto {p} len {l4_len}"),
    })
}

/// The name of an `enum ip_conntrack_info` value (`NFQA_CT_INFO`).
fn ct_info_name(info: u32) -> String {
    match info {
        0 => "ESTABLISHED".into(),
        1 => "RELATED".into(),
        2 => "NEW".into(),
        3 => "ESTABLISHED_REPLY".into(),
        4 => "RELATED_REPLY".into(),
        7 => "UNTRACKED".into(),
        n => n.to_string(),
    }
}

/// The line of packet `p`, up to its verdict:
/// `id=1 hook=INPUT hw=0x0800 in=2 out=- mark=0x0 len=48 [caplen=N]
/// [info=...] [uid=U gid=G] [ct=STATE ctmark=M ctstatus=S] SUMMARY`.
pub fn packet_line(p: &Packet<'_>) -> String {
    let mut s = String::new();
    let dev = |d: Option<u32>| d.map_or("-".to_string(), |i| i.to_string());
    let payload = p.payload.unwrap_or(&[]);
    let _ = write!(
        s,
        "id={} hook={} hw={:#06x} in={} out={} mark={:#x} len={}",
        p.id,
        hook_name(p.hook),
        p.hw_protocol,
        dev(p.indev),
        dev(p.outdev),
        p.mark.unwrap_or(0),
        payload.len()
    );
    if let Some(c) = p.cap_len {
        let _ = write!(s, " caplen={c}");
    }
    if let Some(i) = p.skb_info {
        let _ = write!(s, " info={}", skb_info(i));
    }
    if let Some(u) = p.uid {
        let _ = write!(s, " uid={u}");
    }
    if let Some(g) = p.gid {
        let _ = write!(s, " gid={g}");
    }
    if let Some(info) = p.ct_info {
        let _ = write!(s, " ct={}", ct_info_name(info));
        if let Some(ct) = p.ct {
            let v = rfcore::nfqueue::ctglue::decode_ct(ct);
            let _ = write!(s, " ctmark={:#x}", v.mark);
            if let Some(st) = v.status {
                let _ = write!(s, " ctstatus={st:#x}");
            }
        }
    }
    if p.payload.is_some() {
        s.push(' ');
        if p.family == NFPROTO_IPV4 {
            s.push_str(&ipv4_summary(payload));
        } else {
            let _ = write!(s, "family {} ({} bytes)", p.family, payload.len());
        }
    }
    s
}
