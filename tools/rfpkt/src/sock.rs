// SPDX-License-Identifier: GPL-2.0

//! The sockets: a raw IP socket with `IP_HDRINCL` (the packet goes through
//! the sender's routing and its OUTPUT and POSTROUTING hooks), a packet
//! socket that puts the IP packet on a link as it is (nothing checked or
//! fixed), and a packet socket that sees every IPv4 packet in and out.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use crate::build::Addr;

pub fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) has no memory arguments; a non-negative result is a
    // descriptor we own.
    let fd = check(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    // SAFETY: just created, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sockaddr_in(a: Addr, port: u16) -> libc::sockaddr_in {
    // SAFETY: all-zero is a valid sockaddr_in.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(a);
    sa
}

/// The interface index of `name`.
pub fn ifindex(name: &str) -> io::Result<libc::c_int> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface {name}"),
        ))
    } else {
        Ok(i as libc::c_int)
    }
}

/// The name of interface `index` ("?" if it has none).
pub fn ifname(index: libc::c_int) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: the buffer has IF_NAMESIZE bytes, as if_indextoname needs.
    let p = unsafe { libc::if_indextoname(index as libc::c_uint, buf.as_mut_ptr()) };
    if p.is_null() {
        return "?".into();
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into buf.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The source address the routing table picks for `dst`.
pub fn route_source(dst: Addr) -> io::Result<Addr> {
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    let sa = sockaddr_in(dst, 9);
    // SAFETY: a valid sockaddr_in of the given size.
    check(unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    // SAFETY: all-zero is a valid sockaddr_in.
    let mut local: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: room for a sockaddr_in, its size in len.
    check(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut local as *mut libc::sockaddr_in).cast(),
            &mut len,
        )
    })?;
    Ok(local.sin_addr.s_addr.to_ne_bytes())
}

/// Where packets go.
pub enum Sender {
    /// `AF_INET`, `SOCK_RAW`, `IPPROTO_RAW` with `IP_HDRINCL`.
    Raw(OwnedFd),
    /// `AF_PACKET`, `SOCK_DGRAM`, `ETH_P_IP` on one interface, to one MAC.
    Packet(OwnedFd, libc::sockaddr_ll),
}

impl Sender {
    pub fn raw() -> io::Result<Sender> {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
        let one: libc::c_int = 1;
        // SAFETY: a pointer to an int and its size.
        check(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_HDRINCL,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        Ok(Sender::Raw(fd))
    }

    pub fn packet(dev: &str, mac: [u8; 6]) -> io::Result<Sender> {
        let fd = socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM,
            i32::from((libc::ETH_P_IP as u16).to_be()),
        )?;
        // SAFETY: all-zero is a valid sockaddr_ll.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        sll.sll_ifindex = ifindex(dev)?;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&mac);
        Ok(Sender::Packet(fd, sll))
    }

    /// Sends one packet; `dst` is where a raw socket routes it.
    pub fn send(&self, pkt: &[u8], dst: Addr) -> io::Result<()> {
        let n = match self {
            Sender::Raw(fd) => {
                let sa = sockaddr_in(dst, 0);
                // SAFETY: a buffer and its length, a sockaddr_in and its size.
                unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        pkt.as_ptr().cast(),
                        pkt.len(),
                        0,
                        (&sa as *const libc::sockaddr_in).cast(),
                        size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    )
                }
            }
            Sender::Packet(fd, sll) => {
                // SAFETY: a buffer and its length, a sockaddr_ll and its size.
                unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        pkt.as_ptr().cast(),
                        pkt.len(),
                        0,
                        (sll as *const libc::sockaddr_ll).cast(),
                        size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                    )
                }
            }
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != pkt.len() {
            return Err(io::Error::other(format!("sent {n} of {} bytes", pkt.len())));
        }
        Ok(())
    }
}

/// The MAC address of `ip` on `dev` from the neighbour table
/// (/proc/net/arp), if it is complete.
pub fn neighbour_mac(ip: Addr, dev: &str) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string("/proc/net/arp").ok()?;
    let want = crate::parse::addr_str(ip);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // IP address, HW type, Flags, HW address, Mask, Device
        if f.len() >= 6 && f[0] == want && f[5] == dev && f[2] != "0x0" {
            return crate::cli::parse_mac(f[3]).ok();
        }
    }
    None
}

/// A packet seen by the sniffer.
pub struct Seen {
    pub data: Vec<u8>,
    /// `PACKET_OUTGOING` or not.
    pub outgoing: bool,
    pub ifindex: libc::c_int,
}

/// Every IPv4 packet in and out (`ETH_P_ALL`, filtered to `ETH_P_IP`),
/// on one interface or all.
pub struct Sniffer {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Sniffer {
    pub fn new(dev: Option<&str>) -> io::Result<Sniffer> {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        let fd = socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(proto))?;
        if let Some(dev) = dev {
            // SAFETY: all-zero is a valid sockaddr_ll.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = ifindex(dev)?;
            // SAFETY: a valid sockaddr_ll of the given size.
            check(unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sll as *const libc::sockaddr_ll).cast(),
                    size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            })?;
        }
        Ok(Sniffer {
            fd,
            buf: vec![0; 65536],
        })
    }

    /// The next IPv4 packet before `deadline` (`None`: none came).
    pub fn next(&mut self, deadline: Option<Instant>) -> io::Result<Option<Seen>> {
        loop {
            let timeout = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int
                }
            };
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, timeout) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if rc == 0 {
                continue;
            }
            // SAFETY: all-zero is a valid sockaddr_ll.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: the buffer and its length; room for a sockaddr_ll.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut sll as *mut libc::sockaddr_ll).cast(),
                    &mut len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) {
                    continue;
                }
                return Err(e);
            }
            if u16::from_be(sll.sll_protocol) != libc::ETH_P_IP as u16 {
                continue;
            }
            return Ok(Some(Seen {
                data: self.buf[..n as usize].to_vec(),
                outgoing: sll.sll_pkttype == libc::PACKET_OUTGOING,
                ifindex: sll.sll_ifindex,
            }));
        }
    }
}
