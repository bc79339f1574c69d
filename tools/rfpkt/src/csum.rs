// SPDX-License-Identifier: GPL-2.0

//! The Internet checksum (RFC 1071): the one's complement of the one's
//! complement sum of 16-bit big-endian words, an odd last byte padded with
//! zero. The IPv4 header checksum covers the header; the TCP, UDP (RFC 768)
//! checksums also cover a pseudo-header of the addresses, the protocol and
//! the transport length; ICMP's covers the ICMP message only.

/// Adds `data` as big-endian 16-bit words to `acc` (no folding).
pub fn add(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds the carries of a sum back in and complements it.
pub fn finish(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The checksum of `data` (IPv4 header, ICMP).
pub fn checksum(data: &[u8]) -> u16 {
    finish(add(0, data))
}

/// The sum of the TCP/UDP pseudo-header: addresses, protocol, length.
pub fn pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u64 {
    let acc = add(add(0, &src), &dst);
    // The length field is 16 bits; a longer segment cannot be sent anyway.
    acc + u64::from(proto) + (len as u64 & 0xffff)
}

/// The TCP or UDP checksum of `segment` (its checksum field zero) between
/// `src` and `dst`.
pub fn transport(src: [u8; 4], dst: [u8; 4], proto: u8, segment: &[u8]) -> u16 {
    finish(add(pseudo(src, dst, proto, segment.len()), segment))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 16-bit ripple-carry adder, bit by bit: the sum and the carry out.
    fn adder(a: u16, b: u16, carry_in: u16) -> (u16, u16) {
        let mut out = 0u16;
        let mut carry = carry_in;
        for bit in 0..16 {
            let x = (a >> bit) & 1;
            let y = (b >> bit) & 1;
            out |= (x ^ y ^ carry) << bit;
            carry = (x & y) | (x & carry) | (y & carry);
        }
        (out, carry)
    }

    /// One's complement addition: the carry out of bit 15 goes back into
    /// bit 0 (it cannot carry out a second time). Nothing shared with the
    /// code under test.
    fn ones_add(a: u16, b: u16) -> u16 {
        let (sum, carry) = adder(a, b, 0);
        if carry == 1 {
            adder(sum, 0, 1).0
        } else {
            sum
        }
    }

    /// The checksum of the bytes, computed from scratch.
    pub(crate) fn reference(bytes: &[u8]) -> u16 {
        let mut sum = 0u16;
        let mut i = 0;
        while i < bytes.len() {
            let hi = bytes[i];
            let lo = if i + 1 < bytes.len() { bytes[i + 1] } else { 0 };
            sum = ones_add(sum, (u16::from(hi) << 8) | u16::from(lo));
            i += 2;
        }
        !sum
    }

    /// The pseudo-header as bytes (RFC 793 section 3.1).
    pub(crate) fn pseudo_bytes(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.push(0);
        v.push(proto);
        v.extend_from_slice(&(len as u16).to_be_bytes());
        v
    }

    #[test]
    fn reference_adder() {
        assert_eq!(ones_add(0xffff, 0x0001), 0x0001);
        assert_eq!(ones_add(0x8000, 0x8000), 0x0001);
        assert_eq!(ones_add(0x1234, 0x0001), 0x1235);
        assert_eq!(ones_add(0xfffe, 0x0001), 0xffff);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(reference(&data), !0xddf2);
    }

    #[test]
    fn known_ipv4_header() {
        // A header from a capture: 45 00 00 73 00 00 40 00 40 11 [b8 61]
        // c0 a8 00 01 c0 a8 00 c7 (the Wikipedia example).
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10] = 0xb8;
        h[11] = 0x61;
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn matches_reference_on_many_inputs() {
        // A simple generator: odd and even lengths, all-ones words, carries.
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let mut data = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                data.push(if x.is_multiple_of(7) { 0xff } else { x as u8 });
            }
            assert_eq!(checksum(&data), reference(&data), "len {len}");
            let src = [10, 0, 1, (x >> 8) as u8];
            let dst = [10, 0, 2, x as u8];
            let mut whole = pseudo_bytes(src, dst, 6, len);
            whole.extend_from_slice(&data);
            assert_eq!(transport(src, dst, 6, &data), reference(&whole), "len {len}");
        }
    }
}
