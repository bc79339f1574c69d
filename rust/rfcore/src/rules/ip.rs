// SPDX-License-Identifier: GPL-2.0

//! The part of every rule: `-s`, `-d`, `-i`, `-o`, `-p`, `-f` and their
//! `!` (`ip_packet_match` in `ip_tables.c`).

use super::error::Reason;
use super::eval::PacketInfo;
use super::name::{DevName, FixedStr};
use super::nla::{Attr, NlaError, Writer};
use super::packet::Headers;
use super::proto;
use super::MAX_IFNAME;

/// `-i`/`-o`: an interface name, or a prefix if it ended with `+`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfaceMatch {
    /// The name without the `+`; empty and not a prefix: any interface.
    pub name: FixedStr<MAX_IFNAME>,
    /// Whether `name` is a prefix (`eth+`).
    pub prefix: bool,
}

impl IfaceMatch {
    /// Parse `eth0` or `eth+`.
    ///
    /// # Errors
    ///
    /// [`Reason::BadInterface`] if `s` is empty or longer than 15 bytes.
    pub fn parse(s: &str) -> Result<Self, Reason> {
        if s.is_empty() || s.len() > MAX_IFNAME {
            return Err(Reason::BadInterface);
        }
        let (name, prefix) = match s.strip_suffix('+') {
            Some(p) => (p, true),
            None => (s, false),
        };
        Ok(IfaceMatch {
            name: FixedStr::new(name).ok_or(Reason::BadInterface)?,
            prefix,
        })
    }

    /// Whether one was given (`+` alone counts, though it matches all).
    pub fn is_set(&self) -> bool {
        self.prefix || !self.name.is_empty()
    }

    /// Whether device `dev` (empty: none) matches. Not set matches all,
    /// without reading the name.
    #[inline]
    pub fn matches(&self, dev: &DevName) -> bool {
        !self.is_set() || self.name_matches(dev)
    }

    fn name_matches(&self, dev: &DevName) -> bool {
        if self.prefix {
            dev.as_bytes().starts_with(self.name.as_bytes())
        } else {
            dev.as_bytes() == self.name.as_bytes()
        }
    }

    /// The name as given, with the `+`, into `buf`.
    pub fn write_to<'b>(&self, buf: &'b mut [u8; 16]) -> &'b str {
        let name = self.name.as_bytes();
        let n = name.len();
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(name);
        }
        let mut len = n;
        if self.prefix {
            if let Some(b) = buf.get_mut(n) {
                *b = b'+';
                len += 1;
            }
        }
        core::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("")
    }
}

/// The addresses, interfaces, protocol and fragment part of a rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpMatch {
    /// Source address, network order (`-s`); its bits outside `src_mask`
    /// are 0.
    pub src: [u8; 4],
    /// Source mask.
    pub src_mask: [u8; 4],
    /// Destination address (`-d`).
    pub dst: [u8; 4],
    /// Destination mask.
    pub dst_mask: [u8; 4],
    /// Input interface (`-i`).
    pub in_iface: IfaceMatch,
    /// Output interface (`-o`).
    pub out_iface: IfaceMatch,
    /// IP protocol (`-p`); 0 is any.
    pub proto: u8,
    /// Only non-first fragments (`-f`).
    pub fragment: bool,
    /// `proto::INV_*` bits.
    pub invert: u8,
}

fn masked(a: [u8; 4], m: [u8; 4]) -> [u8; 4] {
    [a[0] & m[0], a[1] & m[1], a[2] & m[2], a[3] & m[3]]
}

impl IpMatch {
    /// Whether `bit` (`proto::INV_*`) is set.
    pub fn inverted(&self, bit: u32) -> bool {
        u32::from(self.invert) & bit != 0
    }

    /// Take one rule attribute if it belongs to this part. `Ok(false)` if
    /// it does not.
    ///
    /// # Errors
    ///
    /// The attribute's problem.
    pub fn decode_attr(&mut self, a: &Attr<'_>) -> Result<bool, Reason> {
        match a.kind() {
            proto::RULE_SRC => self.src = a.get_be32()?,
            proto::RULE_SRC_MASK => self.src_mask = a.get_be32()?,
            proto::RULE_DST => self.dst = a.get_be32()?,
            proto::RULE_DST_MASK => self.dst_mask = a.get_be32()?,
            proto::RULE_IN_IFACE => self.in_iface = IfaceMatch::parse(a.get_str()?)?,
            proto::RULE_OUT_IFACE => self.out_iface = IfaceMatch::parse(a.get_str()?)?,
            proto::RULE_PROTO => self.proto = a.get_u8()?,
            proto::RULE_FRAGMENT => self.fragment = a.get_flag()?,
            proto::RULE_INVERT => {
                let inv = a.get_u32()?;
                if inv & !proto::INV_MASK != 0 {
                    return Err(Reason::BadFlags);
                }
                self.invert = inv as u8;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Check the whole part once decoded.
    ///
    /// # Errors
    ///
    /// [`Reason::BadAddress`] if an address has bits outside its mask.
    pub fn validate(&self) -> Result<(), Reason> {
        if masked(self.src, self.src_mask) != self.src
            || masked(self.dst, self.dst_mask) != self.dst
        {
            return Err(Reason::BadAddress);
        }
        Ok(())
    }

    /// Write the attributes that differ from the defaults.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the writer is full.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), NlaError> {
        if self.src_mask != [0; 4] || self.src != [0; 4] {
            w.put_be32(proto::RULE_SRC, self.src)?;
            w.put_be32(proto::RULE_SRC_MASK, self.src_mask)?;
        }
        if self.dst_mask != [0; 4] || self.dst != [0; 4] {
            w.put_be32(proto::RULE_DST, self.dst)?;
            w.put_be32(proto::RULE_DST_MASK, self.dst_mask)?;
        }
        let mut buf = [0; 16];
        if self.in_iface.is_set() {
            w.put_str(proto::RULE_IN_IFACE, self.in_iface.write_to(&mut buf))?;
        }
        if self.out_iface.is_set() {
            w.put_str(proto::RULE_OUT_IFACE, self.out_iface.write_to(&mut buf))?;
        }
        if self.proto != 0 {
            w.put_u8(proto::RULE_PROTO, self.proto)?;
        }
        if self.fragment {
            w.put_flag(proto::RULE_FRAGMENT)?;
        }
        if self.invert != 0 {
            w.put_u32(proto::RULE_INVERT, self.invert.into())?;
        }
        Ok(())
    }

    /// Whether the packet matches, as `ip_packet_match`: each test XOR its
    /// invert bit.
    pub fn matches(&self, p: &PacketInfo) -> bool {
        if !self.in_iface.matches(&p.in_dev) ^ self.inverted(proto::INV_IN_IFACE) {
            return false;
        }
        if !self.out_iface.matches(&p.out_dev) ^ self.inverted(proto::INV_OUT_IFACE) {
            return false;
        }
        self.matches_headers(&p.pkt)
    }

    /// Whether the interface tests can fail: an interface is named, or a
    /// test is inverted (`! -i` without a name matches nothing).
    pub fn reads_ifaces(&self) -> bool {
        self.in_iface.is_set()
            || self.out_iface.is_set()
            || self.inverted(proto::INV_IN_IFACE)
            || self.inverted(proto::INV_OUT_IFACE)
    }

    /// Whether the packet with headers `ip` matches, interfaces aside:
    /// the addresses, the protocol and the fragment test, each XOR its
    /// invert bit. Where [`IpMatch::reads_ifaces`] is false, this is
    /// [`IpMatch::matches`].
    #[inline]
    pub fn matches_headers(&self, ip: &Headers) -> bool {
        // As u32s: one AND and one compare per address.
        let differs = |a: [u8; 4], m: [u8; 4], want: [u8; 4]| {
            u32::from_ne_bytes(a) & u32::from_ne_bytes(m) != u32::from_ne_bytes(want)
        };
        if differs(ip.saddr, self.src_mask, self.src) ^ self.inverted(proto::INV_SRC)
            || differs(ip.daddr, self.dst_mask, self.dst) ^ self.inverted(proto::INV_DST)
        {
            return false;
        }
        if self.proto != 0 && (ip.protocol != self.proto) ^ self.inverted(proto::INV_PROTO) {
            return false;
        }
        // With -f, only non-first fragments; with ! -f, only the others.
        let later_fragment = ip.fragment_offset != 0;
        if (self.fragment && !later_fragment) ^ self.inverted(proto::INV_FRAGMENT) {
            return false;
        }
        true
    }
}
