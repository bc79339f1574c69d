// SPDX-License-Identifier: GPL-2.0

//! Spreading packets over several queues: `--queue-balance` and
//! `--queue-cpu-fanout` of the NFQUEUE target (`nfqueue_hash` and
//! `hash_v4`/`hash_v6` of `include/net/netfilter/nf_queue.h`,
//! `nfqueue_tg_v3` of `net/netfilter/xt_NFQUEUE.c`).
//!
//! Balancing hashes the addresses and the protocol with a seed that is
//! random per boot, so that both directions of a flow pick the same queue
//! (the smaller address goes first), and scales the hash into the range
//! of queues ([`reciprocal_scale`]). Addresses are compared and hashed as
//! the raw 32-bit words in memory (`(__force u32)iph->saddr`), so the
//! choice for a given seed depends on the CPU's byte order, as in C.
//! Fanout picks the queue by the CPU number instead.

use super::Errno;

/// `JHASH_INITVAL`: the arbitrary start of Bob Jenkins' lookup3.
const JHASH_INITVAL: u32 = 0xdead_beef;

/// `__jhash_final`: final mixing of three words into `c`.
const fn jhash_final(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

/// The kernel's `jhash_3words(a, b, c, initval)` (`include/linux/jhash.h`),
/// bit for bit.
pub const fn jhash_3words(a: u32, b: u32, c: u32, initval: u32) -> u32 {
    let init = initval.wrapping_add(JHASH_INITVAL).wrapping_add(3 << 2);
    jhash_final(
        a.wrapping_add(init),
        b.wrapping_add(init),
        c.wrapping_add(init),
    )
}

/// `val` scaled into `0..ep_ro` by a multiplication (`reciprocal_scale`):
/// the upper 32 bits of `val * ep_ro`.
pub const fn reciprocal_scale(val: u32, ep_ro: u32) -> u32 {
    ((val as u64 * ep_ro as u64) >> 32) as u32
}

/// The raw 32-bit word of the four address bytes, as C reads a `__be32`
/// without conversion.
const fn raw(addr: [u8; 4]) -> u32 {
    u32::from_ne_bytes(addr)
}

/// `hash_v4`: the hash of an IPv4 packet from `saddr` to `daddr` with
/// protocol `protocol`, the same both ways.
pub const fn hash_v4(saddr: [u8; 4], daddr: [u8; 4], protocol: u8, initval: u32) -> u32 {
    let (s, d) = (raw(saddr), raw(daddr));
    if s < d {
        jhash_3words(s, d, protocol as u32, initval)
    } else {
        jhash_3words(d, s, protocol as u32, initval)
    }
}

/// Words 1 and 3 of an IPv6 address (`s6_addr32[1]`, `s6_addr32[3]`),
/// raw.
const fn words_1_3(addr: &[u8; 16]) -> (u32, u32) {
    let [_, _, _, _, a4, a5, a6, a7, _, _, _, _, a12, a13, a14, a15] = *addr;
    (
        u32::from_ne_bytes([a4, a5, a6, a7]),
        u32::from_ne_bytes([a12, a13, a14, a15]),
    )
}

/// `hash_v6`: the hash of an IPv6 packet from `saddr` to `daddr`, the
/// same both ways: words 3 of both addresses, smaller first, and the
/// smaller of words 1.
pub const fn hash_v6(saddr: &[u8; 16], daddr: &[u8; 16], initval: u32) -> u32 {
    let (s1, s3) = words_1_3(saddr);
    let (d1, d3) = words_1_3(daddr);
    let (a, b) = if s3 < d3 { (s3, d3) } else { (d3, s3) };
    let c = if s1 < d1 { s1 } else { d1 };
    jhash_3words(a, b, c, initval)
}

/// The queue for `hash` among `total` queues from `first`
/// (`queue + reciprocal_scale(hash, queues_total)`); `first` if `total`
/// is 0 or 1.
pub const fn balance(hash: u32, first: u16, total: u16) -> u16 {
    if total <= 1 {
        return first;
    }
    // reciprocal_scale(_, total) < total, and total <= 65536 - first by
    // check_range; u16 arithmetic wraps as the C's does otherwise.
    first.wrapping_add(reciprocal_scale(hash, total as u32) as u16)
}

/// The queue of an IPv4 packet under `--queue-balance first:first+total-1`
/// with seed `seed` ([`hash_v4`], [`balance`]).
pub const fn balance_v4(
    saddr: [u8; 4],
    daddr: [u8; 4],
    protocol: u8,
    first: u16,
    total: u16,
    seed: u32,
) -> u16 {
    if total <= 1 {
        return first;
    }
    balance(hash_v4(saddr, daddr, protocol, seed), first, total)
}

/// The queue of an IPv6 packet under `--queue-balance` ([`hash_v6`],
/// [`balance`]).
pub const fn balance_v6(
    saddr: &[u8; 16],
    daddr: &[u8; 16],
    first: u16,
    total: u16,
    seed: u32,
) -> u16 {
    if total <= 1 {
        return first;
    }
    balance(hash_v6(saddr, daddr, seed), first, total)
}

/// The queue for CPU `cpu` under `--queue-cpu-fanout`
/// (`queuenum + cpu % queues_total`); `first` if `total` is 0 or 1.
pub const fn fanout(cpu: u32, first: u16, total: u16) -> u16 {
    if total <= 1 {
        return first;
    }
    first.wrapping_add((cpu % total as u32) as u16)
}

/// Whether `total` queues from `first` are a valid target range
/// (`nfqueue_tg_check`): at least one queue, the last at most 65535.
///
/// # Errors
///
/// [`Errno::Inval`] for 0 queues, [`Errno::Range`] past 65535.
pub const fn check_range(first: u16, total: u16) -> Result<(), Errno> {
    if total == 0 {
        return Err(Errno::Inval);
    }
    if first as u32 + total as u32 > 0x1_0000 {
        return Err(Errno::Range);
    }
    Ok(())
}
