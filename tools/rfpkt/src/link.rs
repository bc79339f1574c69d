// SPDX-License-Identifier: GPL-2.0

//! `rfpkt link`: a device's GSO and GRO size limits set with one
//! RTM_NEWLINK, as `ip link set DEV gso_ipv4_max_size N ...` does in
//! iproute2 6.3 and later (older `ip`s cannot set the IPv4 ones, and the
//! kernel takes an IPv4 GSO limit above 65536, IPv4 BIG TCP, only from
//! IFLA_GSO_IPV4_MAX_SIZE). The request and the ack are pure, for the host
//! tests; [`set`] talks to the kernel.

use std::io;
use std::mem::size_of;
use std::os::fd::AsRawFd;

use crate::cli::Link;

/// The attributes of include/uapi/linux/if_link.h (kernel 6.3 and later).
const IFLA_GSO_MAX_SIZE: u16 = 41;
const IFLA_GRO_MAX_SIZE: u16 = 58;
const IFLA_GSO_IPV4_MAX_SIZE: u16 = 63;
const IFLA_GRO_IPV4_MAX_SIZE: u16 = 64;

/// The options of `rfpkt link` and their attributes.
pub const SIZES: &[(&str, u16)] = &[
    ("--gso-max-size", IFLA_GSO_MAX_SIZE),
    ("--gso-ipv4-max-size", IFLA_GSO_IPV4_MAX_SIZE),
    ("--gro-max-size", IFLA_GRO_MAX_SIZE),
    ("--gro-ipv4-max-size", IFLA_GRO_IPV4_MAX_SIZE),
];

// include/uapi/linux/netlink.h
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NETLINK_EXT_ACK: libc::c_int = 11;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLA_TYPE_MASK: u16 = 0x3fff;
const RTM_NEWLINK: u16 = 16;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// The RTM_NEWLINK (NLM_F_REQUEST | NLM_F_ACK) setting `attrs` (u32
/// attributes) on interface `ifindex`: nlmsghdr, ifinfomsg, attributes.
pub fn request(ifindex: i32, seq: u32, attrs: &[(u16, u32)]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + IFINFOMSG_LEN + attrs.len() * 8;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    // Port id 0: the kernel fills it in.
    m.extend_from_slice(&0u32.to_ne_bytes());
    // ifinfomsg: family AF_UNSPEC, pad, type, index, flags, change.
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&ifindex.to_ne_bytes());
    m.extend_from_slice(&[0; 8]);
    for &(typ, v) in attrs {
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&typ.to_ne_bytes());
        m.extend_from_slice(&v.to_ne_bytes());
    }
    m
}

/// The kernel's answer to request `seq`: its errno (0: done) and extended
/// ack message (NLMSGERR_ATTR_MSG), if any.
#[derive(Debug, PartialEq)]
pub struct Ack {
    pub errno: i32,
    pub msg: Option<String>,
}

/// The ack of request `seq` among the messages in `buf`, if there.
pub fn ack(buf: &[u8], seq: u32) -> Option<Ack> {
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let len = u32_at(buf, off)? as usize;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            return None;
        }
        let m = &buf[off..off + len];
        let flags = u16_at(m, 6)?;
        if u16_at(m, 4)? == NLMSG_ERROR && u32_at(m, 8)? == seq {
            // nlmsgerr: error, then the request's header (and all of the
            // request unless capped), then the TLVs.
            let errno = (u32_at(m, NLMSG_HDRLEN)? as i32).wrapping_neg();
            let quoted = if flags & NLM_F_CAPPED != 0 {
                NLMSG_HDRLEN
            } else {
                u32_at(m, NLMSG_HDRLEN + 4).map_or(NLMSG_HDRLEN, |l| l as usize)
            };
            let mut msg = None;
            let mut a = align(NLMSG_HDRLEN + 4 + quoted);
            while flags & NLM_F_ACK_TLVS != 0 && a + 4 <= m.len() {
                let alen = usize::from(u16_at(m, a)?);
                if alen < 4 || a + alen > m.len() {
                    break;
                }
                if u16_at(m, a + 2)? & NLA_TYPE_MASK == NLMSGERR_ATTR_MSG {
                    let s = &m[a + 4..a + alen];
                    let s = s.split(|&b| b == 0).next().unwrap_or(s);
                    msg = Some(String::from_utf8_lossy(s).into_owned());
                }
                a += align(alen);
            }
            return Some(Ack { errno, msg });
        }
        off += align(len);
    }
    None
}

/// Sends request `req` through a NETLINK_ROUTE socket and waits (5 s at
/// most) for the kernel's ack of `seq`.
fn talk(req: &[u8], seq: u32) -> io::Result<Ack> {
    let fd = crate::sock::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
    let one: libc::c_int = 1;
    // SAFETY: a pointer to an int and its size. Without extended acks
    // (before Linux 4.12) the errno alone comes back.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_NETLINK,
            NETLINK_EXT_ACK,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    let tv = libc::timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    // SAFETY: a pointer to a timeval and its size.
    crate::sock::check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    })?;
    // An unbound netlink socket sends to the kernel.
    // SAFETY: a buffer and its length.
    let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 32768];
    loop {
        // SAFETY: the buffer and its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if let Some(a) = ack(&buf[..n as usize], seq) {
            return Ok(a);
        }
    }
}

/// Sets `link`'s sizes on each of its devices in turn; the error says
/// which device the kernel refused, and why.
pub fn set(link: &Link) -> Result<(), String> {
    for dev in &link.devs {
        let index = crate::sock::ifindex(dev).map_err(|e| format!("link {dev}: {e}"))?;
        let seq = 1;
        let a = talk(&request(index, seq, &link.sizes), seq)
            .map_err(|e| format!("link {dev}: RTM_NEWLINK: {e}"))?;
        let msg = a.msg.map(|m| format!(": {m}")).unwrap_or_default();
        if a.errno != 0 {
            return Err(format!(
                "link {dev}: the kernel refused: {}{msg}",
                io::Error::from_raw_os_error(a.errno)
            ));
        }
        if !msg.is_empty() {
            eprintln!("rfpkt: link {dev}: the kernel says{msg}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let m = request(
            7,
            42,
            &[(IFLA_GSO_MAX_SIZE, 185000), (IFLA_GRO_IPV4_MAX_SIZE, 1)],
        );
        assert_eq!(m.len(), 16 + 16 + 2 * 8);
        assert_eq!(u32_at(&m, 0), Some(48));
        assert_eq!(u16_at(&m, 4), Some(RTM_NEWLINK));
        assert_eq!(u16_at(&m, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(u32_at(&m, 8), Some(42));
        assert_eq!(m[16], 0, "AF_UNSPEC");
        assert_eq!(u32_at(&m, 20), Some(7), "ifi_index");
        assert_eq!(&m[24..32], &[0; 8], "ifi_flags and ifi_change");
        assert_eq!((u16_at(&m, 32), u16_at(&m, 34)), (Some(8), Some(41)));
        assert_eq!(u32_at(&m, 36), Some(185000));
        assert_eq!((u16_at(&m, 40), u16_at(&m, 42)), (Some(8), Some(64)));
        assert_eq!(u32_at(&m, 44), Some(1));
    }

    /// An NLMSG_ERROR for `req` with `error`, capped or not, with an
    /// extended ack message.
    fn error_msg(req: &[u8], seq: u32, error: i32, capped: bool, text: Option<&str>) -> Vec<u8> {
        let quoted = if capped { &req[..16] } else { req };
        let mut body = error.to_ne_bytes().to_vec();
        body.extend_from_slice(quoted);
        let mut flags = if capped { NLM_F_CAPPED } else { 0 };
        if let Some(t) = text {
            flags |= NLM_F_ACK_TLVS;
            let alen = 4 + t.len() + 1;
            body.extend_from_slice(&(alen as u16).to_ne_bytes());
            body.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
            body.extend_from_slice(t.as_bytes());
            body.push(0);
            body.resize(align(body.len()), 0);
        }
        let mut m = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&1234u32.to_ne_bytes());
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn acks() {
        let req = request(3, 1, &[(IFLA_GSO_IPV4_MAX_SIZE, 10)]);
        let ok = error_msg(&req, 1, 0, true, None);
        assert_eq!(
            ack(&ok, 1),
            Some(Ack {
                errno: 0,
                msg: None
            })
        );
        assert_eq!(ack(&ok, 2), None, "another request's ack");
        for capped in [true, false] {
            let m = error_msg(&req, 1, -22, capped, Some("too big gso_ipv4_max_size"));
            let want = Ack {
                errno: 22,
                msg: Some("too big gso_ipv4_max_size".into()),
            };
            assert_eq!(ack(&m, 1), Some(want), "capped {capped}");
        }
        // After another message in the same buffer; a cut one is no ack.
        let mut two = error_msg(&req, 9, -1, true, None);
        two.extend_from_slice(&error_msg(&req, 1, -95, false, None));
        assert_eq!(
            ack(&two, 1),
            Some(Ack {
                errno: 95,
                msg: None
            })
        );
        assert_eq!(ack(&two[..two.len() - 1], 1), None);
    }
}
