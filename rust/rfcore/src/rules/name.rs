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

    /// The bytes up to the first NUL of `bytes` (as a kernel device name),
    /// cut to `N`.
    pub fn from_c_bytes(bytes: &[u8]) -> Self {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let end = end.min(N).min(255);
        Self::from_bytes(bytes.get(..end).unwrap_or(&[])).unwrap_or_default()
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

/// A network device name as the kernel stores it (up to `IFNAMSIZ`).
pub type IfName = FixedStr<16>;

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
        assert_eq!(IfName::from_c_bytes(b"eth0\0\0\0").as_str(), "eth0");
        assert_eq!(IfName::from_c_bytes(&[b'a'; 20]).len(), 16);
        assert_eq!(IfName::from_bytes(&[0xff]).unwrap().as_str(), "");
        extern crate std;
        assert_eq!(std::format!("{a}/{a:?}"), "INPUT/\"INPUT\"");
    }
}
