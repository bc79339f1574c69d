// SPDX-License-Identifier: GPL-2.0

//! Host tests of the queue core.
//!
//! Attribute runs are built by hand (helpers below) rather than with the
//! encoders under test, so that decoding is checked against the wire
//! format itself; the encoders are then checked by decoding and against
//! byte vectors laid out with libmnl and the uapi structs. Random cases
//! come from a small xorshift generator with fixed seeds, so a failure
//! repeats.

extern crate std;

use std::vec::Vec;

mod attrs;
mod balance;
mod config;
mod consts;
mod fixup;
mod packet;
mod verdict;

/// One attribute: header, payload, padding.
pub(super) fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

/// A big-endian u32 attribute.
pub(super) fn be32(kind: u16, v: u32) -> Vec<u8> {
    attr(kind, &v.to_be_bytes())
}

/// A nest (`NLA_F_NESTED` set) of `parts`.
pub(super) fn nest(kind: u16, parts: &[Vec<u8>]) -> Vec<u8> {
    attr(kind | 0x8000, &parts.concat())
}

/// A whole request: `nlmsghdr` (flags `flags`), `nfgenmsg` (family 0,
/// queue `queue`), then `attrs`.
pub(super) fn request(msg: u8, flags: u16, queue: u16, attrs: &[u8]) -> Vec<u8> {
    let len = 20 + attrs.len();
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&(0x0300u16 | u16::from(msg)).to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&7u32.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&queue.to_be_bytes());
    v.extend_from_slice(attrs);
    v
}

/// xorshift64: small, fast and good enough to pick test cases.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(super) fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    pub(super) fn u8(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    /// A number below `n` (> 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
}
