// SPDX-License-Identifier: GPL-2.0

//! Short names stored inline: chain names, interface names, log prefixes.

use core::cmp::Ordering;
use core::fmt;

/// Up to `N` bytes stored inline, compared bytewise (as `strcmp`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        FixedStr {
            len: 0,
            bytes: [0; N],
        }
    }
}

impl<const N: usize> FixedStr<N> {
    /// Capacity in bytes.
    pub const CAPACITY: usize = N;

    /// `bytes`, if there are at most `N` (and at most 255) of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let len = u8::try_from(bytes.len()).ok()?;
        let mut s = Self::default();
        s.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        s.len = len;
        Some(s)
    }

    /// `s`, if it has at most `N` bytes.
    pub fn new(s: &str) -> Option<Self> {
        Self::from_bytes(s.as_bytes())
    }

    /// The first `N` bytes of `s`, cut at a character boundary.
    pub fn truncated(s: &str) -> Self {
        let mut end = s.len().min(N).min(255);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Self::from_bytes(s.as_bytes().get(..end).unwrap_or(&[])).unwrap_or_default()
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The string; empty if the bytes are not UTF-8 (only possible for
    /// names made with [`FixedStr::from_bytes`]).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> PartialOrd for FixedStr<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for FixedStr<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> fmt::Debug for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for FixedStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A chain name (1 to 28 bytes) or table name.
pub type ChainName = FixedStr<{ super::MAX_CHAIN_NAME }>;

/// `IFNAMSIZ`: the bytes of a kernel device name, with its NUL.
pub const IFNAMSIZ: usize = 16;

/// A network device name as the kernel stores it (`dev->name`): the name,
/// ended by the first NUL when shorter than [`IFNAMSIZ`]; what follows the
/// NUL does not count. The packet view takes the kernel's bytes whole (two
/// words, no scan), and only the rules that look at interfaces read them.
#[derive(Clone, Copy, Default)]
pub struct DevName([u8; IFNAMSIZ]);

impl DevName {
    /// The kernel's bytes.
    pub const fn from_raw(raw: [u8; IFNAMSIZ]) -> Self {
        DevName(raw)
    }

    /// `name` (up to its first NUL, at most [`IFNAMSIZ`] bytes).
    pub fn new(name: &[u8]) -> Self {
        let mut raw = [0u8; IFNAMSIZ];
        for (d, s) in raw.iter_mut().zip(name) {
            *d = *s;
        }
        DevName(raw)
    }

    /// The name, without the NUL; empty for no device.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        self.0.get(..end).unwrap_or(&[])
    }
}

impl PartialEq for DevName {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DevName {}

impl fmt::Debug for DevName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => fmt::Debug::fmt(self.as_bytes(), f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_str() {
        let a = ChainName::new("INPUT").unwrap();
        assert_eq!(a.as_str(), "INPUT");
        assert_eq!(a.len(), 5);
        assert!(ChainName::new(&"x".repeat(28)).is_some());
        assert!(ChainName::new(&"x".repeat(29)).is_none());
        assert!(ChainName::default().is_empty());
        assert!(ChainName::new("ABC") < ChainName::new("ABD"));
        assert!(ChainName::new("AB") < ChainName::new("ABC"));
        assert!(ChainName::new("Z") < ChainName::new("a"));
        assert_eq!(ChainName::truncated(&"é".repeat(20)).len(), 28);
        assert_eq!(ChainName::truncated("x").as_str(), "x");
        assert_eq!(FixedStr::<16>::from_bytes(&[0xff]).unwrap().as_str(), "");
        extern crate std;
        assert_eq!(std::format!("{a}/{a:?}"), "INPUT/\"INPUT\"");
    }

    #[test]
    fn dev_name() {
        let mut raw = *b"eth0\0garbage...!";
        assert_eq!(DevName::from_raw(raw).as_bytes(), b"eth0");
        assert_eq!(DevName::from_raw(raw), DevName::new(b"eth0"));
        raw[4] = b'1';
        // No NUL: all 16 bytes (the kernel never has it; still bounded).
        assert_eq!(DevName::from_raw(raw).as_bytes().len(), 16);
        assert_eq!(DevName::new(b"veth1\0x").as_bytes(), b"veth1");
        assert_eq!(DevName::new(&[b'a'; 20]).as_bytes(), &[b'a'; 16]);
        assert!(DevName::default().as_bytes().is_empty());
        extern crate std;
        assert_eq!(std::format!("{:?}", DevName::new(b"lo")), "\"lo\"");
    }
}
