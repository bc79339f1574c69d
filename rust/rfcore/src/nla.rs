// SPDX-License-Identifier: GPL-2.0

//! Netlink attributes over byte slices.
//!
//! An attribute is a 4-byte header (`nla_len`: u16 length of header and
//! payload, `nla_type`: u16 type) followed by the payload and padding to a
//! multiple of 4 bytes, as `include/uapi/linux/netlink.h` defines it. The
//! reader ([`Attrs`]) walks a run of attributes and reports a malformed or
//! truncated one as an error; the writer ([`Writer`]) fills a
//! caller-provided buffer and fails cleanly when it is full. Integers are in
//! host byte order except where the name says `be` (network order).
//!
//! Like the kernel's `nla_for_each_attr`, the padding of the last attribute
//! of a run may be missing; every other attribute must be padded.

use core::fmt;

/// Length of an attribute header.
pub const NLA_HDRLEN: usize = 4;
/// Alignment of attributes.
pub const NLA_ALIGNTO: usize = 4;
/// Flag in the type: the payload is a run of attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// Flag in the type: the payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// The type bits without the flags.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// `len` rounded up to a multiple of 4, if that fits.
pub fn align(len: usize) -> Option<usize> {
    len.checked_add(NLA_ALIGNTO - 1)
        .map(|l| l & !(NLA_ALIGNTO - 1))
}

/// What went wrong reading or writing attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NlaError {
    /// Fewer bytes left than an attribute header, or than `nla_len` says.
    Truncated,
    /// `nla_len` is less than the header length.
    BadLength,
    /// The payload does not have the size the type needs.
    BadPayload,
    /// A string attribute holds a NUL before its end or is not UTF-8.
    BadString,
    /// The buffer of the [`Writer`] is full, or a nest grew beyond 65535
    /// bytes.
    NoSpace,
}

impl NlaError {
    /// A short description of the error.
    pub fn message(self) -> &'static str {
        match self {
            NlaError::Truncated => "truncated netlink attribute",
            NlaError::BadLength => "bad netlink attribute length",
            NlaError::BadPayload => "bad netlink attribute payload size",
            NlaError::BadString => "bad netlink string attribute",
            NlaError::NoSpace => "netlink buffer full",
        }
    }
}

impl fmt::Display for NlaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One attribute: its type (flags masked off) and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    kind: u16,
    flags: u16,
    payload: &'a [u8],
}

/// `N` bytes exactly, or [`NlaError::BadPayload`].
fn exact<const N: usize>(payload: &[u8]) -> Result<[u8; N], NlaError> {
    payload.try_into().map_err(|_| NlaError::BadPayload)
}

impl<'a> Attr<'a> {
    /// The type with `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` masked off.
    pub fn kind(&self) -> u16 {
        self.kind
    }

    /// Whether the sender set `NLA_F_NESTED`.
    pub fn is_nested_flag(&self) -> bool {
        self.flags & NLA_F_NESTED != 0
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// A u8 payload.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 1 byte.
    pub fn get_u8(&self) -> Result<u8, NlaError> {
        exact::<1>(self.payload).map(|b| b[0])
    }

    /// A u16 payload in host order.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 2 bytes.
    pub fn get_u16(&self) -> Result<u16, NlaError> {
        exact(self.payload).map(u16::from_ne_bytes)
    }

    /// A u32 payload in host order.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 4 bytes.
    pub fn get_u32(&self) -> Result<u32, NlaError> {
        exact(self.payload).map(u32::from_ne_bytes)
    }

    /// A u64 payload in host order.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 8 bytes.
    pub fn get_u64(&self) -> Result<u64, NlaError> {
        exact(self.payload).map(u64::from_ne_bytes)
    }

    /// A big-endian u16 payload (a port).
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 2 bytes.
    pub fn get_be16(&self) -> Result<u16, NlaError> {
        exact(self.payload).map(u16::from_be_bytes)
    }

    /// A big-endian u32 payload (an IPv4 address): its four bytes in
    /// network order.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly 4 bytes.
    pub fn get_be32(&self) -> Result<[u8; 4], NlaError> {
        exact(self.payload)
    }

    /// A fixed-size binary payload (a MAC address).
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] unless the payload is exactly `N` bytes.
    pub fn get_array<const N: usize>(&self) -> Result<[u8; N], NlaError> {
        exact(self.payload)
    }

    /// A string payload without its terminating NUL. The NUL is optional;
    /// if present it must be the last byte.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadString`] if a NUL comes before the last byte or the
    /// bytes are not UTF-8.
    pub fn get_str(&self) -> Result<&'a str, NlaError> {
        let bytes = match self.payload.split_last() {
            Some((0, rest)) => rest,
            _ => self.payload,
        };
        if bytes.contains(&0) {
            return Err(NlaError::BadString);
        }
        core::str::from_utf8(bytes).map_err(|_| NlaError::BadString)
    }

    /// A flag: present with an empty payload.
    ///
    /// # Errors
    ///
    /// [`NlaError::BadPayload`] if the payload is not empty.
    pub fn get_flag(&self) -> Result<bool, NlaError> {
        if self.payload.is_empty() {
            Ok(true)
        } else {
            Err(NlaError::BadPayload)
        }
    }

    /// The attributes nested in the payload.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// An iterator over a run of attributes. It yields `Err` once for a
/// malformed attribute and then stops.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// The attributes in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Attrs { rest: data }
    }

    /// An empty run.
    pub fn empty() -> Self {
        Attrs { rest: &[] }
    }

    /// Check the whole run: `Ok` if every attribute is well formed.
    ///
    /// # Errors
    ///
    /// The first attribute's error.
    pub fn validate(&self) -> Result<(), NlaError> {
        for a in self.clone() {
            a?;
        }
        Ok(())
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, NlaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let data = self.rest;
        // Stop after this one whatever happens; put back the rest if good.
        self.rest = &[];
        let Some(&[l0, l1, t0, t1]) = data.get(..NLA_HDRLEN) else {
            return Some(Err(NlaError::Truncated));
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let raw = u16::from_ne_bytes([t0, t1]);
        if len < NLA_HDRLEN {
            return Some(Err(NlaError::BadLength));
        }
        let Some(payload) = data.get(NLA_HDRLEN..len) else {
            return Some(Err(NlaError::Truncated));
        };
        // The padding of the last attribute may be missing.
        let next = align(len).unwrap_or(len).min(data.len());
        self.rest = data.get(next..).unwrap_or(&[]);
        Some(Ok(Attr {
            kind: raw & NLA_TYPE_MASK,
            flags: raw & !NLA_TYPE_MASK,
            payload,
        }))
    }
}

/// The position of an open nest in a [`Writer`], from
/// [`Writer::begin_nest`].
#[derive(Debug)]
#[must_use = "a nest must be closed with Writer::end_nest"]
pub struct Nest {
    start: usize,
}

/// A position in a [`Writer`] to go back to with [`Writer::rollback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(usize);

/// Writes attributes into a caller-provided buffer.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The current position, to roll back to if a later put fails.
    pub fn mark(&self) -> Mark {
        Mark(self.len)
    }

    /// Forget everything written after `mark`.
    pub fn rollback(&mut self, mark: Mark) {
        self.len = self.len.min(mark.0);
    }

    /// Reserve `n` bytes and zero them; return where they start.
    fn reserve(&mut self, n: usize) -> Result<usize, NlaError> {
        let start = self.len;
        let end = start.checked_add(n).ok_or(NlaError::NoSpace)?;
        let dst = self.buf.get_mut(start..end).ok_or(NlaError::NoSpace)?;
        dst.fill(0);
        self.len = end;
        Ok(start)
    }

    /// Write a header at `at` saying `len` bytes of type `kind`.
    fn header(&mut self, at: usize, len: usize, kind: u16) -> Result<(), NlaError> {
        let [l0, l1] = u16::try_from(len)
            .map_err(|_| NlaError::NoSpace)?
            .to_ne_bytes();
        let [k0, k1] = kind.to_ne_bytes();
        // A fixed-size array: no length to check (and no panic path).
        let dst = self
            .buf
            .get_mut(at..)
            .and_then(|b| b.first_chunk_mut::<NLA_HDRLEN>())
            .ok_or(NlaError::NoSpace)?;
        *dst = [l0, l1, k0, k1];
        Ok(())
    }

    /// An attribute of type `kind` whose payload is the concatenation of
    /// `parts`, padded.
    fn put_parts(&mut self, kind: u16, parts: &[&[u8]]) -> Result<(), NlaError> {
        let payload: usize = parts.iter().map(|p| p.len()).sum();
        let len = NLA_HDRLEN.checked_add(payload).ok_or(NlaError::NoSpace)?;
        if len > usize::from(u16::MAX) {
            return Err(NlaError::NoSpace);
        }
        let total = align(len).ok_or(NlaError::NoSpace)?;
        let mark = self.mark();
        let start = self.reserve(total)?;
        if let Err(e) = self.header(start, len, kind) {
            self.rollback(mark);
            return Err(e);
        }
        // Cannot overflow (`reserve` found room for all of it), but
        // saturating arithmetic keeps panicking paths out of the kernel.
        let mut at = start.saturating_add(NLA_HDRLEN);
        for p in parts {
            let end = at.saturating_add(p.len());
            if let Some(dst) = self.buf.get_mut(at..end).filter(|d| d.len() == p.len()) {
                dst.copy_from_slice(p);
            }
            at = end;
        }
        Ok(())
    }

    /// An attribute with payload `bytes`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit; nothing is written then.
    pub fn put_bytes(&mut self, kind: u16, bytes: &[u8]) -> Result<(), NlaError> {
        self.put_parts(kind, &[bytes])
    }

    /// A flag attribute (empty payload).
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_flag(&mut self, kind: u16) -> Result<(), NlaError> {
        self.put_parts(kind, &[])
    }

    /// A u8 attribute.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_u8(&mut self, kind: u16, v: u8) -> Result<(), NlaError> {
        self.put_bytes(kind, &[v])
    }

    /// A u16 attribute in host order.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_u16(&mut self, kind: u16, v: u16) -> Result<(), NlaError> {
        self.put_bytes(kind, &v.to_ne_bytes())
    }

    /// A u32 attribute in host order.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_u32(&mut self, kind: u16, v: u32) -> Result<(), NlaError> {
        self.put_bytes(kind, &v.to_ne_bytes())
    }

    /// A u64 attribute in host order. It is 4-byte aligned: readers here
    /// and the kernel's `nla_get_u64` do not need 8.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_u64(&mut self, kind: u16, v: u64) -> Result<(), NlaError> {
        self.put_bytes(kind, &v.to_ne_bytes())
    }

    /// A big-endian u16 attribute (a port).
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_be16(&mut self, kind: u16, v: u16) -> Result<(), NlaError> {
        self.put_bytes(kind, &v.to_be_bytes())
    }

    /// A big-endian u32 attribute given as its four bytes in network order
    /// (an IPv4 address).
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_be32(&mut self, kind: u16, v: [u8; 4]) -> Result<(), NlaError> {
        self.put_bytes(kind, &v)
    }

    /// A string attribute with a terminating NUL, as `nla_put_string`.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if it does not fit.
    pub fn put_str(&mut self, kind: u16, s: &str) -> Result<(), NlaError> {
        self.put_parts(kind, &[s.as_bytes(), &[0]])
    }

    /// Open a nest of type `kind` (`NLA_F_NESTED` is added); close it with
    /// [`Writer::end_nest`].
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the header does not fit.
    pub fn begin_nest(&mut self, kind: u16) -> Result<Nest, NlaError> {
        let start = self.reserve(NLA_HDRLEN)?;
        self.header(start, NLA_HDRLEN, kind | NLA_F_NESTED)?;
        Ok(Nest { start })
    }

    /// Close `nest`: its length covers everything written since
    /// [`Writer::begin_nest`], padding of the last attribute included.
    ///
    /// # Errors
    ///
    /// [`NlaError::NoSpace`] if the nest is longer than 65535 bytes, or
    /// was rolled back; the writer is then rolled back to before the nest.
    pub fn end_nest(&mut self, nest: Nest) -> Result<(), NlaError> {
        let Some(len) = self.len.checked_sub(nest.start) else {
            return Err(NlaError::NoSpace);
        };
        let kind = self
            .buf
            .get(nest.start.saturating_add(2)..nest.start.saturating_add(4))
            .and_then(|t| <[u8; 2]>::try_from(t).ok())
            .map(u16::from_ne_bytes)
            .ok_or(NlaError::NoSpace)?;
        if len < NLA_HDRLEN || self.header(nest.start, len, kind).is_err() {
            self.rollback(Mark(nest.start));
            return Err(NlaError::NoSpace);
        }
        Ok(())
    }

    /// How long `nest` would be if closed now.
    pub fn nest_len(&self, nest: &Nest) -> usize {
        self.len.saturating_sub(nest.start)
    }

    /// Drop an open nest and everything written in it.
    pub fn cancel_nest(&mut self, nest: Nest) {
        self.rollback(Mark(nest.start));
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn collect(data: &[u8]) -> Vec<Result<(u16, Vec<u8>), NlaError>> {
        Attrs::new(data)
            .map(|a| a.map(|a| (a.kind(), a.payload().to_vec())))
            .collect()
    }

    #[test]
    fn write_then_read_every_type() {
        let mut buf = [0xaau8; 256];
        let mut w = Writer::new(&mut buf);
        w.put_u8(1, 0x12).unwrap();
        w.put_u16(2, 0x3456).unwrap();
        w.put_u32(3, 0x789a_bcde).unwrap();
        w.put_u64(4, 0x0102_0304_0506_0708).unwrap();
        w.put_be32(5, [10, 0, 0, 1]).unwrap();
        w.put_str(6, "eth0").unwrap();
        w.put_flag(7).unwrap();
        w.put_be16(8, 443).unwrap();
        let n = w.begin_nest(9).unwrap();
        w.put_u32(1, 7).unwrap();
        w.put_str(2, "x").unwrap();
        w.end_nest(n).unwrap();
        w.put_bytes(10, &[1, 2, 3, 4, 5, 6]).unwrap();
        let len = w.len();
        assert_eq!(len % 4, 0);
        assert_eq!(len, 8 + 8 + 8 + 12 + 8 + 12 + 4 + 8 + (4 + 8 + 8) + 12);
        let attrs: Vec<_> = Attrs::new(&buf[..len]).map(|a| a.unwrap()).collect();
        assert_eq!(attrs.len(), 10);
        assert_eq!(attrs[0].get_u8(), Ok(0x12));
        assert_eq!(attrs[1].get_u16(), Ok(0x3456));
        assert_eq!(attrs[2].get_u32(), Ok(0x789a_bcde));
        assert_eq!(attrs[3].get_u64(), Ok(0x0102_0304_0506_0708));
        assert_eq!(attrs[4].get_be32(), Ok([10, 0, 0, 1]));
        assert_eq!(attrs[5].get_str(), Ok("eth0"));
        assert_eq!(attrs[5].payload(), b"eth0\0");
        assert_eq!(attrs[6].get_flag(), Ok(true));
        assert_eq!(attrs[7].get_be16(), Ok(443));
        assert_eq!(attrs[8].kind(), 9);
        assert!(attrs[8].is_nested_flag());
        let inner: Vec<_> = attrs[8].nested().map(|a| a.unwrap()).collect();
        assert_eq!(inner[0].get_u32(), Ok(7));
        assert_eq!(inner[1].get_str(), Ok("x"));
        assert_eq!(attrs[9].get_array::<6>(), Ok([1, 2, 3, 4, 5, 6]));
        // Wrong sizes.
        assert_eq!(attrs[0].get_u32(), Err(NlaError::BadPayload));
        assert_eq!(attrs[2].get_u64(), Err(NlaError::BadPayload));
        assert_eq!(attrs[3].get_u16(), Err(NlaError::BadPayload));
        assert_eq!(attrs[2].get_flag(), Err(NlaError::BadPayload));
        assert_eq!(attrs[9].get_array::<4>(), Err(NlaError::BadPayload));
        // Padding bytes are zero.
        assert_eq!(&buf[5..8], &[0, 0, 0]);
    }

    #[test]
    fn flags_are_masked() {
        let data = [8, 0, 5, 0xc0, 1, 2, 3, 4];
        let a = Attrs::new(&data).next().unwrap().unwrap();
        assert_eq!(a.kind(), 5);
        assert!(a.is_nested_flag());
        let data = [8, 0, 5, 0x40, 1, 2, 3, 4];
        let a = Attrs::new(&data).next().unwrap().unwrap();
        assert_eq!(a.kind(), 5);
        assert!(!a.is_nested_flag());
    }

    #[test]
    fn malformed() {
        assert!(collect(&[]).is_empty());
        assert_eq!(collect(&[8, 0, 1]), vec![Err(NlaError::Truncated)]);
        assert_eq!(collect(&[3, 0, 1, 0]), vec![Err(NlaError::BadLength)]);
        assert_eq!(collect(&[0, 0, 1, 0]), vec![Err(NlaError::BadLength)]);
        assert_eq!(
            collect(&[9, 0, 1, 0, 0, 0, 0, 0]),
            vec![Err(NlaError::Truncated)]
        );
        // An error stops the walk.
        assert_eq!(
            collect(&[4, 0, 1, 0, 2, 0, 1, 0, 4, 0, 2, 0]),
            vec![Ok((1, vec![])), Err(NlaError::BadLength)]
        );
        // Trailing bytes too short for a header.
        assert_eq!(
            collect(&[4, 0, 1, 0, 0, 0]),
            vec![Ok((1, vec![])), Err(NlaError::Truncated)]
        );
        // The last attribute may lack its padding, others may not.
        assert_eq!(collect(&[5, 0, 1, 0, 7]), vec![Ok((1, vec![7]))]);
        assert_eq!(
            collect(&[5, 0, 1, 0, 7, 5, 0, 2, 0, 8]),
            vec![Ok((1, vec![7])), Err(NlaError::Truncated)]
        );
        assert!(Attrs::new(&[5, 0, 1, 0, 7, 0, 0, 0, 4, 0, 2, 0])
            .validate()
            .is_ok());
        assert_eq!(Attrs::new(&[3, 0]).validate(), Err(NlaError::Truncated));
    }

    #[test]
    fn strings() {
        let a = |p: &'static [u8]| Attr {
            kind: 1,
            flags: 0,
            payload: p,
        };
        assert_eq!(a(b"abc\0").get_str(), Ok("abc"));
        assert_eq!(a(b"abc").get_str(), Ok("abc"));
        assert_eq!(a(b"").get_str(), Ok(""));
        assert_eq!(a(b"\0").get_str(), Ok(""));
        assert_eq!(a(b"a\0c\0").get_str(), Err(NlaError::BadString));
        assert_eq!(a(b"abc\0\0").get_str(), Err(NlaError::BadString));
        assert_eq!(a(b"\xff\xfe").get_str(), Err(NlaError::BadString));
    }

    #[test]
    fn writer_full() {
        for size in 0..40 {
            let mut buf = vec![0u8; size];
            let mut w = Writer::new(&mut buf);
            let r1 = w.put_u32(1, 5);
            assert_eq!(r1.is_ok(), size >= 8, "{size}");
            let before = w.len();
            let r2 = w.put_str(2, "hello");
            assert_eq!(r2.is_ok(), size >= 8 + 12, "{size}");
            if r2.is_err() {
                assert_eq!(w.len(), before);
            }
            // A nest that does not fit leaves nothing behind.
            let before = w.len();
            match w.begin_nest(3) {
                Ok(n) => {
                    let r = w.put_u64(1, 9);
                    if r.is_err() {
                        w.cancel_nest(n);
                        assert_eq!(w.len(), before);
                    } else {
                        w.end_nest(n).unwrap();
                        assert_eq!(w.len(), before + 16);
                    }
                }
                Err(e) => {
                    assert_eq!(e, NlaError::NoSpace);
                    assert_eq!(w.len(), before);
                }
            }
            Attrs::new(w.as_bytes()).validate().unwrap();
        }
    }

    #[test]
    fn writer_limits() {
        let mut buf = vec![0u8; 100_000];
        let mut w = Writer::new(&mut buf);
        let big = vec![1u8; 65_531];
        w.put_bytes(1, &big).unwrap();
        assert_eq!(w.len(), 65_536);
        w.rollback(Mark(0));
        assert_eq!(w.put_bytes(1, &[1u8; 65_532]), Err(NlaError::NoSpace));
        assert!(w.is_empty());
        let n = w.begin_nest(2).unwrap();
        w.put_bytes(1, &[0u8; 40_000]).unwrap();
        w.put_bytes(1, &[0u8; 40_000]).unwrap();
        assert_eq!(w.end_nest(n), Err(NlaError::NoSpace));
        assert!(w.is_empty());
        // Marks and rollback.
        w.put_u32(1, 1).unwrap();
        let m = w.mark();
        w.put_u32(1, 2).unwrap();
        w.rollback(m);
        assert_eq!(w.len(), 8);
        assert_eq!(align(usize::MAX), None);
        assert_eq!(align(5), Some(8));
        assert_eq!(align(8), Some(8));
    }

    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut buf = [0u8; 64];
        for _ in 0..50_000 {
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = if x.is_multiple_of(3) {
                    (x >> 8) as u8 % 16
                } else {
                    (x >> 16) as u8
                };
            }
            let n = (x % 65) as usize;
            let mut count = 0;
            for a in Attrs::new(&buf[..n]) {
                count += 1;
                let Ok(a) = a else { break };
                let _ = (a.get_u8(), a.get_u32(), a.get_u64(), a.get_str());
                let _ = a.nested().validate();
            }
            assert!(count <= n / 4 + 1);
        }
    }
}
