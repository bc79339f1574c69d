// SPDX-License-Identifier: GPL-2.0

//! Network address and port translation on connections
//! (`nf_nat_core.c`, `nf_nat_proto.c`).
//!
//! The choices and the header arithmetic are the pure core's
//! (`rfcore::nat`, included here as `crate::nat`). This file binds
//! connections and rewrites packets:
//!
//! - The nat table's hooks (destination at PREROUTING and OUTPUT, -100;
//!   source at INPUT and POSTROUTING, 100) walk the table for the first
//!   packet of a connection only. A SNAT, DNAT, MASQUERADE or REDIRECT rule
//!   binds the connection ([`CtNet::nat_setup`]): the translated tuple is
//!   chosen unique, the reply tuple becomes its inverse and `IPS_SRC_NAT` or
//!   `IPS_DST_NAT` is set. Without such a rule the connection gets a null
//!   binding, which changes nothing unless its reply tuple is taken.
//!   Either way `IPS_*_NAT_DONE` is set and the table is not walked again.
//! - At the same hooks every packet of a bound connection is rewritten
//!   ([`translate`]) to the tuple its direction should have; ICMP errors
//!   about it get their quoted header translated back too
//!   ([`translate_icmp_error`]).
//! - Around the translation, what the stack already decided for the
//!   packet is redone where it changed (`nf_nat_proto.c`'s per-hook
//!   wrappers, in `hooks.rs`): at OUTPUT a packet of a connection whose
//!   destination is translated is routed again, at PREROUTING a stale
//!   route is dropped, at INPUT a socket found for the old source is let
//!   go.

use crate::conntrack::{now_ms, Conn, CtNet, Tracker};
use crate::ct::status::{IPS_CONFIRMED, IPS_NAT_DONE_MASK, IPS_NAT_MASK};
use crate::ct::tuple::Direction;
use crate::nat::mangle::{self, IcmpErrorAction};
use crate::nat::{alloc, manip_part, with_manip_part, Manip, NatRange};
use crate::packet::{self, IcmpHeader};
use crate::proto::Hook;
use core::sync::atomic::Ordering;
use kernel::net::conntrack::{self as kct, ctinfo};
use kernel::net::namespace::Net;
use kernel::net::netfilter::{HookState, Verdict};
use kernel::net::skbuff::{Checksum, SkBuff};

/// What a translation at a hook of `hook` changes.
pub(crate) fn manip_of(hook: Hook) -> Manip {
    match hook {
        Hook::PreRouting | Hook::LocalOut => Manip::Dst,
        _ => Manip::Src,
    }
}

/// The status bit a packet in direction `d` (0 original, 1 reply) needs
/// for a hook of `manip` to rewrite it: a reply is rewritten the opposite
/// way of its connection's original packets.
fn status_bit(manip: Manip, d: u8) -> u32 {
    let bit = manip.status_bit();
    if d == 0 {
        bit
    } else {
        bit ^ IPS_NAT_MASK
    }
}

impl CtNet {
    /// Binds the unconfirmed connection `conn` to a `manip` translation
    /// within `range` (`nf_nat_setup_info`): picks the tuple, makes the
    /// reply tuple its inverse. DROP when nothing in the range is free.
    ///
    /// A tuple is taken when a connection has it (either way), or when a
    /// source translation would send its replies to a local socket's port
    /// (a TCP listener, a bound UDP socket on a local address of `net`): a
    /// mapping never shadows a port a local service uses. Only a changed
    /// source is judged by sockets: a local socket's own connection keeps
    /// its port, and a destination translation does not move the end the
    /// replies go to.
    pub(crate) fn nat_setup(
        &self,
        net: &Net,
        conn: &Conn,
        range: &NatRange,
        manip: Manip,
    ) -> Verdict {
        let status = conn.status();
        if status & manip.done_bit() != 0 {
            return Verdict::ACCEPT;
        }
        // A confirmed connection's tuples are its table keys: it is left
        // as it is (`nf_nat_setup_info`).
        if status & IPS_CONFIRMED != 0 {
            conn.set_status(manip.done_bit());
            return Verdict::ACCEPT;
        }
        // The original tuple as the other manip (if done) left it.
        let Some(current) = conn.tuple(1).invert() else {
            conn.set_status(manip.done_bit());
            return Verdict::ACCEPT;
        };
        let now = now_ms();
        let own_reply = conn.tuple(1);
        let chosen = alloc::unique_tuple(
            &current,
            range,
            manip,
            self.seed,
            kct::random_seed(),
            |reply| {
                self.find(reply, now).is_some()
                    || (manip == Manip::Src
                        && (reply.daddr, reply.dport) != (own_reply.daddr, own_reply.dport)
                        && net.local_socket_bound(
                            reply.protocol,
                            reply.saddr,
                            reply.sport,
                            reply.daddr,
                            reply.dport,
                        ))
            },
        );
        // Without ports to choose from, a destination translation keeps
        // its port even when the reply tuple is taken, as netfilter does:
        // the source translation after it can still make the connection
        // unique (and confirmation refuses a clash).
        let chosen = chosen.or_else(|| {
            (manip == Manip::Dst && !range.proto_specified()).then(|| {
                let (addr, port) = manip_part(&current, Manip::Dst);
                let addr = if range.map_ips() {
                    alloc::pick_addr(&current, range, self.seed)
                } else {
                    addr
                };
                with_manip_part(&current, Manip::Dst, addr, port)
            })
        });
        let Some(new) = chosen else {
            kernel::net::netfilter::log_ratelimited(
                4,
                b"rustfilter: NAT: no free tuple in the range, dropping packet",
            );
            return Verdict::DROP;
        };
        if new != current {
            match new.invert() {
                Some(reply) if conn.set_reply(reply) => {
                    conn.set_status(manip.status_bit());
                }
                _ => return Verdict::DROP,
            }
        }
        conn.set_status(manip.done_bit());
        Verdict::ACCEPT
    }

    /// Removes the connections MASQUERADE bound to an address of device
    /// `ifindex` that went away: all of them when the device went down,
    /// those translated to `addr` when it lost that address
    /// (`nf_nat_masquerade.c`). Their next packets make new connections,
    /// with the addresses the device has now.
    pub(crate) fn masquerade_gone(&self, net: &Net, ifindex: i32, addr: Option<[u8; 4]>) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let Ok(all) = self.snapshot() else {
            return;
        };
        for conn in all.iter() {
            if conn.masq_index.load(Ordering::Relaxed) == ifindex
                && addr.is_none_or(|a| conn.tuple(1).daddr == a)
            {
                self.remove(net, conn);
            }
        }
    }

    /// Gives `conn` the binding that keeps its addresses
    /// (`nf_nat_alloc_null_binding`). A source null binding changes the
    /// port only if the reply tuple is taken by a translated connection; a
    /// destination null binding keeps the port even then (see
    /// [`CtNet::nat_setup`]), leaving uniqueness to the source side.
    pub(crate) fn nat_null_binding(&self, net: &Net, conn: &Conn, manip: Manip) -> Verdict {
        let reply = conn.tuple(1);
        // The address this manip would give: the one the connection has.
        let addr = match manip {
            Manip::Src => reply.daddr,
            Manip::Dst => reply.saddr,
        };
        self.nat_setup(net, conn, &NatRange::addr(addr), manip)
    }
}

/// How many bytes from the IP header a translation rewrites: the IP
/// header and the transport header as far as the checksum.
fn rewrite_len(skb: &SkBuff) -> Option<(usize, u8)> {
    let mut buf = [0u8; 20];
    let ip = skb.header(0, &mut buf)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let protocol = *ip.get(9)?;
    let l4 = match protocol {
        packet::IPPROTO_TCP => 20,
        packet::IPPROTO_UDP | packet::IPPROTO_ICMP => 8,
        _ => 0,
    };
    Some(((ihl + l4).min(skb.len() as usize), protocol))
}

/// Which of a packet's addresses a translation changed, for what the
/// nat hooks redo around it (`nf_nat_proto.c`'s per-hook wrappers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Moved {
    /// The source address.
    pub(crate) src: bool,
    /// The destination address.
    pub(crate) dst: bool,
}

impl Moved {
    /// What changed from `before` to `after`, each the packet's (source,
    /// destination) addresses or `None` where they could not be read.
    pub(crate) fn between(
        before: Option<([u8; 4], [u8; 4])>,
        after: Option<([u8; 4], [u8; 4])>,
    ) -> Self {
        Moved {
            src: before.map(|a| a.0) != after.map(|a| a.0),
            dst: before.map(|a| a.1) != after.map(|a| a.1),
        }
    }
}

/// Rewrites `skb`, attached to its connection as `info`, for a hook of
/// `manip` as the connection's bindings say (`nf_nat_packet`), and says
/// which addresses changed; `None`: drop the packet. The addresses are
/// compared in the bytes being rewritten: a packet its connection leaves
/// alone costs no read of its header.
pub(crate) fn translate(
    skb: &mut SkBuff,
    tracker: &Tracker,
    info: u8,
    manip: Manip,
) -> Option<Moved> {
    let d = u8::from(ctinfo::is_reply(info));
    let target = match skb.ct(tracker) {
        Some((attached, _)) => {
            let c = attached.get();
            if c.status() & status_bit(manip, d) == 0 {
                return Some(Moved::default());
            }
            // The tuple this direction should have: the inverse of the
            // other direction's.
            c.tuple(1 - d).invert()
        }
        None => return Some(Moved::default()),
    };
    let Some(target) = target else {
        return Some(Moved::default());
    };
    let (len, _) = rewrite_len(skb)?;
    let partial = skb.checksum() == Checksum::Partial;
    let buf = skb.writable_header(len)?;
    let before = addresses_in(buf);
    mangle::manip_packet(buf, &target, manip, partial).ok()?;
    let moved = Moved::between(before, addresses_in(buf));
    skb.forget_complete_checksum();
    Some(moved)
}

/// The source and destination address of the IPv4 header at the start of
/// `ip`.
fn addresses_in(ip: &[u8]) -> Option<([u8; 4], [u8; 4])> {
    let addr = |at: usize| ip.get(at..at + 4).and_then(|a| <[u8; 4]>::try_from(a).ok());
    Some((addr(12)?, addr(16)?))
}

/// The packet's source and destination address.
pub(crate) fn addresses(skb: &SkBuff) -> Option<([u8; 4], [u8; 4])> {
    let mut buf = [0u8; 20];
    addresses_in(skb.header(0, &mut buf)?)
}

/// Whether the packet's connection has, for the packet's direction, a
/// translated destination: the tuple it travels with does not go where
/// the other direction comes from (`nf_nat_ipv4_local_fn`'s test for
/// routing again).
pub(crate) fn destination_translated(skb: &SkBuff, tracker: &Tracker) -> bool {
    match skb.ct(tracker) {
        Some((a, info)) if !a.get().is_template() => {
            let d = u8::from(ctinfo::is_reply(info));
            let c = a.get();
            c.tuple(d).daddr != c.tuple(1 - d).saddr
        }
        _ => false,
    }
}

/// Whether the source port of `skb`, of the original direction of a TCP
/// or UDP connection, was translated away from `dport`, the port of the
/// socket early demultiplexing found (`nf_nat_inet_port_was_mangled`).
pub(crate) fn source_port_changed(skb: &SkBuff, tracker: &Tracker, dport: u16) -> bool {
    match skb.ct(tracker) {
        Some((a, info)) if !a.get().is_template() && !ctinfo::is_reply(info) => {
            let reply = a.get().tuple(1);
            matches!(reply.protocol, packet::IPPROTO_TCP | packet::IPPROTO_UDP)
                && reply.dport != dport
        }
        _ => false,
    }
}

/// Whether `skb` is an ICMP error (its connection is the one it quotes).
pub(crate) fn is_icmp_error(skb: &SkBuff) -> bool {
    let mut buf = [0u8; 20];
    let Some(ip) = skb.header(0, &mut buf) else {
        return false;
    };
    let (Some(&vihl), Some(&protocol)) = (ip.first(), ip.get(9)) else {
        return false;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if protocol != packet::IPPROTO_ICMP || ihl < 20 {
        return false;
    }
    let mut t = [0u8; 1];
    matches!(
        skb.header(ihl, &mut t).and_then(|t| t.first().copied()),
        Some(
            IcmpHeader::DEST_UNREACH
                | IcmpHeader::SOURCE_QUENCH
                | IcmpHeader::REDIRECT
                | IcmpHeader::TIME_EXCEEDED
                | IcmpHeader::PARAMETER_PROB
        )
    )
}

/// Translates an ICMP error about a connection, attached to it as `info`
/// (RELATED or RELATED_REPLY), for a hook of `manip`
/// (`nf_nat_icmp_reply_translation`): the quoted packet back to what its
/// sender sent or received, the outer header like any packet of the
/// connection's direction. A redirect about a translated connection is
/// dropped, and so is an error with a wrong checksum that would need
/// translating (its checksum is updated, not recomputed).
pub(crate) fn translate_icmp_error(
    skb: &mut SkBuff,
    state: &HookState,
    tracker: &Tracker,
    info: u8,
    manip: Manip,
) -> Verdict {
    let d = u8::from(ctinfo::is_reply(info));
    let (other, status) = match skb.ct(tracker) {
        Some((attached, _)) => {
            let c = attached.get();
            (c.tuple(1 - d), c.status())
        }
        None => return Verdict::ACCEPT,
    };
    // A connection NAT never looked at: nothing to undo.
    if status & (IPS_NAT_MASK | IPS_NAT_DONE_MASK) == 0 {
        return Verdict::ACCEPT;
    }
    let mut head = [0u8; 20];
    let Some(&vihl) = skb.header(0, &mut head).and_then(|ip| ip.first()) else {
        return Verdict::DROP;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    // ICMP type, then (after the ICMP header) the quoted header's first
    // byte.
    let mut t = [0u8; 1];
    let Some(&icmp_type) = skb.header(ihl, &mut t).and_then(|b| b.first()) else {
        return Verdict::DROP;
    };
    let dir = if d == 0 {
        Direction::Original
    } else {
        Direction::Reply
    };
    match mangle::icmp_error_action(status, dir, manip, icmp_type) {
        IcmpErrorAction::Accept => return Verdict::ACCEPT,
        IcmpErrorAction::Drop => return Verdict::DROP,
        IcmpErrorAction::Translate => {}
    }
    if !state.checksum_ok(skb, ihl as u32, packet::IPPROTO_ICMP) {
        return Verdict::DROP;
    }
    let mut inner = [0u8; 1];
    let Some(inner_ihl) = skb
        .header(ihl + 8, &mut inner)
        .and_then(|b| b.first().map(|v| usize::from(v & 0x0f) * 4))
    else {
        return Verdict::DROP;
    };
    // Outer header, ICMP header, quoted header, its transport header as
    // far as a TCP checksum.
    let len = (ihl + 8 + inner_ihl + 20).min(skb.len() as usize);
    let partial = skb.checksum() == Checksum::Partial;
    let Some(buf) = skb.writable_header(len) else {
        return Verdict::DROP;
    };
    if mangle::translate_icmp_error(buf, &other, manip, partial).is_err() {
        return Verdict::DROP;
    }
    skb.forget_complete_checksum();
    Verdict::ACCEPT
}
