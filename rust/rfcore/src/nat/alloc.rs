// SPDX-License-Identifier: GPL-2.0

//! Choosing the translated tuple of a new connection (`get_unique_tuple`,
//! `find_best_ips_proto` and `nf_nat_l4proto_unique_tuple` of
//! `nf_nat_core.c`).
//!
//! A translated connection is found again by its reply tuple, the inverse
//! of the translated original tuple, so that tuple must be unique in the
//! connection table: two connections translated to the same source
//! address and port towards the same server could not tell their replies
//! apart. [`unique_tuple`] asks its caller whether a reply tuple is taken
//! (`nf_nat_used_tuple`: the kernel side looks it up in the table) and
//! walks the range until it finds one that is not, in this order:
//!
//! 1. a source translation that is not random keeps the original tuple if
//!    it is already inside the range and free: no translation at all;
//! 2. the address is chosen in the range by a hash of the client (and the
//!    server, unless persistent), so a client keeps its address from one
//!    connection to the next ([`pick_addr`]);
//! 3. unless random, the port (ICMP identifier) is kept if it is in the
//!    range and the tuple is free;
//! 4. otherwise ports are tried from an offset, at most [`MAX_ATTEMPTS`]
//!    of them, then in ever shorter rounds from new offsets: the search is
//!    done in softirq context and must stay short however full the range
//!    is ([`search_port`]).
//!
//! Unlike netfilter, which keeps the last candidate and lets the insertion
//! of the entry fail later, nothing is returned when no free tuple was
//! found. Netfilter also first looks for an existing mapping of the same
//! source (`find_appropriate_src`, over a by-source hash table); there is
//! no such table here, so a client's next connection gets the same
//! address through the hash but not necessarily the same port.
//!
//! Nothing here allocates; the caller's `taken` runs at most 250 times
//! (once for each of steps 1 and 3, then rounds of 128, 64, 32, 16 and 8
//! candidates).

use super::super::ct::tuple::{jhash2, Tuple};
use super::super::packet::{IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use super::super::proto;
use super::{manip_part, with_manip_part, Manip, NatRange};
use core::num::NonZeroU32;

/// Most candidate ports tried before giving up (`NF_NAT_MAX_ATTEMPTS`).
pub const MAX_ATTEMPTS: u32 = 128;

/// Below this many candidates a failed round is not followed by another:
/// the range is too full to be worth searching.
const MIN_ROUND: u32 = 16;

/// Picks the tuple the connection with original tuple `orig` is
/// translated to: `orig` with the part that `manip` changes (see
/// [`super::manip_part`]) moved into `range`, such that `taken` is false
/// for its inverse (the reply tuple the connection would get). `None`
/// when nothing free was found.
///
/// `seed` is a secret of the table, mixed into the hash that chooses the
/// address; `rand` a random number drawn per call, where the port search
/// starts (`get_random_u16`). A destination translation with a port range
/// and without a random flag starts at the low end of the range instead,
/// as netfilter's does. The `NAT_F_RANDOM` and `NAT_F_RANDOM_FULLY` flags
/// both skip steps 1 and 3 (netfilter's `NF_NAT_RANGE_PROTO_RANDOM_ALL`):
/// the port is always searched, from `rand`.
///
/// Ports are searched for TCP and UDP and identifiers for ICMP queries
/// (echo, timestamp, information, address mask); a destination
/// translation without a port range keeps the port, and any other
/// protocol only gets an address. ICMP types without an inverse cannot
/// make connections: `None`.
pub fn unique_tuple(
    orig: &Tuple,
    range: &NatRange,
    manip: Manip,
    seed: u32,
    rand: u32,
    mut taken: impl FnMut(&Tuple) -> bool,
) -> Option<Tuple> {
    // ICMP types without an inverse make no connection.
    orig.invert()?;
    // `nf_nat_used_tuple`: the reply tuple is what the table holds.
    let mut free = |t: &Tuple| t.invert().is_some_and(|reply| !taken(&reply));
    let random = range.random();

    // 1) Keep the original tuple if it already fits.
    if manip == Manip::Src && !random && in_range(orig, range, manip) && free(orig) {
        return Some(*orig);
    }

    // 2) The address.
    let (addr, port) = manip_part(orig, manip);
    let addr = if range.map_ips() {
        pick_addr(orig, range, seed)
    } else {
        addr
    };
    let tuple = with_manip_part(orig, manip, addr, port);

    // 3) The port as it is, if it fits.
    if !random && port_in_range(&tuple, range, manip) && free(&tuple) {
        return Some(tuple);
    }

    // 4) Search a port.
    search_port(&tuple, range, manip, seed, rand, free)
}

/// Whether `protocol` has a port (identifier) that NAT may change.
fn has_port(protocol: u8) -> bool {
    matches!(protocol, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMP)
}

/// Whether the `manip` part of `t` is inside `range`, address and port
/// (`nf_in_range`; netfilter only asks it of source translations).
fn in_range(t: &Tuple, range: &NatRange, manip: Manip) -> bool {
    let (addr, _) = manip_part(t, manip);
    range.contains_addr(addr) && port_in_range(t, range, manip)
}

/// Whether the port (identifier) of the `manip` part of `t` is inside the
/// port range; true if the range has none or the protocol has no port
/// (`l4proto_in_range`).
fn port_in_range(t: &Tuple, range: &NatRange, manip: Manip) -> bool {
    let (_, port) = manip_part(t, manip);
    !has_port(t.protocol) || !range.proto_specified() || port_range(range).contains(&port)
}

/// The port range, its ends in order (netfilter swaps them too).
fn port_range(range: &NatRange) -> core::ops::RangeInclusive<u16> {
    let (lo, hi) = (range.min_port, range.max_port);
    lo.min(hi)..=lo.max(hi)
}

/// The address in `range` (which must name addresses) for the connection
/// `orig` (`find_best_ips_proto`): the Jenkins hash of its source address
/// with `seed`, and with its destination address unless the range is
/// persistent, scaled onto the range. The same client thus gets the same
/// address for the same server, or with `NAT_F_PERSISTENT` for every
/// server, for as long as `seed` stays the same.
pub fn pick_addr(orig: &Tuple, range: &NatRange, seed: u32) -> [u8; 4] {
    if range.min_addr == range.max_addr {
        return range.min_addr;
    }
    let (a, b) = (
        u32::from_be_bytes(range.min_addr),
        u32::from_be_bytes(range.max_addr),
    );
    let (min, max) = (a.min(b), a.max(b));
    let initval = if range.has(proto::NAT_F_PERSISTENT) {
        seed
    } else {
        seed ^ u32::from_be_bytes(orig.daddr)
    };
    let hash = jhash2(&[u32::from_be_bytes(orig.saddr)], initval);
    // `reciprocal_scale` onto max - min + 1 addresses (up to 2^32): the
    // product is below 2^64, `offset` below the size, so nothing wraps
    // and the address stays at most `max`.
    let size = u64::from(max.wrapping_sub(min)).wrapping_add(1);
    let offset = u64::from(hash).wrapping_mul(size) >> 32;
    min.wrapping_add(offset as u32).to_be_bytes()
}

/// The ports to search for `t` and `manip`: the first one and the last
/// one, or `None` if the port may not change
/// (`nf_nat_l4proto_unique_tuple`).
fn search_space(t: &Tuple, range: &NatRange, manip: Manip) -> Option<(u16, u16)> {
    if range.proto_specified() && has_port(t.protocol) {
        let r = port_range(range);
        return Some((*r.start(), *r.end()));
    }
    let (_, port) = manip_part(t, manip);
    match t.protocol {
        // The identifier is the same for either manip; any will do.
        IPPROTO_ICMP => Some((0, 65535)),
        // A destination translation without ports keeps the port.
        IPPROTO_TCP | IPPROTO_UDP if manip == Manip::Dst => None,
        // Source ports keep their class: below 512 (the "credential
        // passing" ports of the r-commands), below 1024, the rest.
        IPPROTO_TCP | IPPROTO_UDP => Some(match port {
            0..=511 => (1, 511),
            512..=1023 => (600, 1023),
            _ => (1024, 65535),
        }),
        _ => None,
    }
}

/// Step 4 of [`unique_tuple`]: `t` with a free port (identifier) in the
/// range, tried from an offset; `None` if none was found or the port may
/// not change and `t` is taken.
fn search_port(
    t: &Tuple,
    range: &NatRange,
    manip: Manip,
    seed: u32,
    rand: u32,
    mut free: impl FnMut(&Tuple) -> bool,
) -> Option<Tuple> {
    let Some((min, max)) = search_space(t, range, manip) else {
        return free(t).then_some(*t);
    };
    // 1 to 65536 ports: `max >= min`. A `NonZeroU32` divisor has no
    // division-by-zero panic.
    let size = NonZeroU32::new(u32::from(max.wrapping_sub(min)).wrapping_add(1))?;
    let (addr, _) = manip_part(t, manip);
    let mut off = if manip == Manip::Src || range.random() {
        rand
    } else {
        0
    };
    let mut attempts = size.get().min(MAX_ATTEMPTS);
    let mut round: u32 = 0;
    loop {
        let start = off % size;
        for i in 0..attempts {
            // `start` and `i` are below 65536 and the offset below `size`,
            // so nothing wraps and the port stays at most `max`.
            let port = min.wrapping_add((start.wrapping_add(i) % size) as u16);
            let candidate = with_manip_part(t, manip, addr, port);
            if free(&candidate) {
                return Some(candidate);
            }
        }
        if attempts >= size.get() || attempts < MIN_ROUND {
            return None;
        }
        // Another, shorter round from somewhere else. Netfilter draws a
        // new random number; a hash of the caller's keeps this
        // reproducible.
        attempts /= 2;
        round = round.wrapping_add(1);
        off = jhash2(&[rand, round], seed);
    }
}
