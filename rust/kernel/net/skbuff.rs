// SPDX-License-Identifier: GPL-2.0

//! Socket buffers.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::{bindings, error::Result, types::Opaque};
use core::mem::MaybeUninit;

/// The state of a packet's checksums (`skb->ip_summed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// `CHECKSUM_NONE`: nothing verified or to be filled in.
    None,
    /// `CHECKSUM_UNNECESSARY`: the device verified it.
    Unnecessary,
    /// `CHECKSUM_COMPLETE`: the device summed the packet into `skb->csum`.
    Complete,
    /// `CHECKSUM_PARTIAL`: the transport checksum field holds only the
    /// pseudo-header sum; the rest is summed on output (or by the device).
    Partial,
}

/// A socket buffer (`struct sk_buff`) borrowed for the duration of a
/// callback: a netfilter hook or a netlink handler.
///
/// Only bounded reads are offered: packet bytes are copied out or looked at
/// through [`SkBuff::header`], which never reads past the end of the packet,
/// or read in place within the linear data ([`SkBuff::linear_data`]).
///
/// # Invariants
///
/// The wrapped `sk_buff` is valid for the lifetime of the reference to this
/// object, and nobody frees or reallocates its data meanwhile.
#[repr(transparent)]
pub struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Creates a reference to an [`SkBuff`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that stays valid, and whose data
    /// is not reallocated, for the lifetime `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a Self {
        // SAFETY: `SkBuff` is a transparent wrapper of `sk_buff`; the caller
        // guarantees validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Creates a mutable reference to an [`SkBuff`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// As for [`SkBuff::from_raw`], and nobody else uses the skb during `'a`
    /// (a hook function owns the packet it is given until it returns).
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // SAFETY: as in `from_raw`, with exclusivity from the caller.
        unsafe { &mut *ptr.cast() }
    }

    /// The packet mark (`skb->mark`).
    #[inline]
    pub fn mark(&self) -> u32 {
        // SAFETY: the skb is valid by the type invariant.
        unsafe { bindings::skb_mark(self.0.get()) }
    }

    /// Whether the packet was looped back to this host (`PACKET_LOOPBACK`).
    #[inline]
    pub fn is_looped_back(&self) -> bool {
        // SAFETY: the skb is valid by the type invariant.
        let t = unsafe { bindings::skb_pkt_type(self.0.get()) };
        u32::from(t) == bindings::PACKET_LOOPBACK
    }

    /// The fsuid and fsgid, in the initial user namespace, of the process
    /// owning the packet's socket, when it has a full socket of `net` with
    /// a file (as LOG's `--log-uid` prints them).
    #[inline]
    pub fn socket_owner(&self, net: &super::namespace::Net) -> Option<(u32, u32)> {
        // Most packets a hook sees on their way through have no socket:
        // answered here, without the call.
        // SAFETY: the skb is valid by the type invariant; `sk` is a plain
        // field read.
        if unsafe { (*self.0.get()).sk }.is_null() {
            return None;
        }
        let (mut uid, mut gid) = (0u32, 0u32);
        // SAFETY: the skb and the namespace are valid; the helper checks the
        // socket and takes its callback lock before reading the file.
        unsafe { bindings::skb_socket_owner(net.as_ptr(), self.0.get(), &mut uid, &mut gid) }
            .then_some((uid, gid))
    }

    /// Sets the packet mark.
    #[inline]
    pub fn set_mark(&mut self, mark: u32) {
        // SAFETY: the skb is valid and exclusively ours (`&mut`).
        unsafe { bindings::skb_set_mark(self.0.get(), mark) }
    }

    /// The Ethernet source address of a received packet, when the packet
    /// came from an Ethernet device and its MAC header is intact.
    #[inline]
    pub fn eth_source(&self) -> Option<[u8; 6]> {
        let mut mac = [0u8; 6];
        // SAFETY: the skb is valid; `mac` has room for ETH_ALEN bytes.
        unsafe { bindings::skb_eth_source(self.0.get(), mac.as_mut_ptr()) }.then_some(mac)
    }

    /// A copy, in `buf`, of the link-layer header of a received packet
    /// (`dev->hard_header_len` bytes at the MAC header), or `None` when the
    /// packet has none or it is longer than `buf`.
    pub fn mac_header<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let max = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: the skb is valid; `buf` has room for `max` bytes and the
        // helper copies at most that many.
        let n = unsafe { bindings::skb_copy_mac_header(self.0.get(), buf.as_mut_ptr(), max) };
        buf.get(..n as usize).filter(|b| !b.is_empty())
    }

    /// Sets the IPv4 DS field (the TOS byte) to `(old & mask) | value`,
    /// updating the header checksum incrementally. The header is made
    /// writable first (unsharing or copying it), which is why this takes
    /// `&mut self`: no slice returned by [`SkBuff::header`] survives it.
    pub fn ipv4_change_dsfield(&mut self, mask: u8, value: u8) -> Result {
        // SAFETY: the skb is valid and exclusively ours; at the IPv4 hooks
        // the network header is an IPv4 header.
        crate::error::to_result(unsafe {
            bindings::skb_ipv4_change_dsfield(self.0.get(), mask, value)
        })
    }

    /// The first `len` bytes from the network header, made writable
    /// (unshared and linear, as `skb_ensure_writable`) for the caller to
    /// rewrite; `None` when the packet is shorter or memory is short. The
    /// slice borrows the packet, so no slice from [`SkBuff::header`]
    /// survives it; checksums are the caller's business (see
    /// [`SkBuff::checksum`]).
    #[inline]
    pub fn writable_header(&mut self, len: usize) -> Option<&mut [u8]> {
        let n = u32::try_from(len).ok()?;
        // SAFETY: the skb is valid and exclusively ours (`&mut`); the
        // helper checks the length against the packet.
        let p = unsafe { bindings::skb_writable_network(self.0.get(), n) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the helper made `len` bytes at `p` linear and writable;
        // they stay so while we hold `&mut self`, which the slice borrows.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    /// Replaces the `len` bytes at `offset` from the network header with
    /// `with`, growing or shrinking the packet, and returns the whole
    /// packet from its network header, linear and writable, for the caller
    /// to fix lengths and checksums; `None` (the packet unchanged) when the
    /// range is outside the packet, it would exceed 64 KiB, or memory is
    /// short.
    pub fn replace_bytes(&mut self, offset: usize, len: usize, with: &[u8]) -> Option<&mut [u8]> {
        let off = u32::try_from(offset).ok()?;
        let old = u32::try_from(len).ok()?;
        let new = u32::try_from(with.len()).ok()?;
        // SAFETY: the skb is valid and exclusively ours (`&mut`); `with` is
        // readable for `new` bytes; the helper checks the range.
        let p = unsafe { bindings::skb_replace_bytes(self.0.get(), off, old, with.as_ptr(), new) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the skb is valid.
        let nh = unsafe { bindings::skb_network_offset(self.0.get()) };
        let total = (self.len() as usize).checked_sub(usize::try_from(nh).ok()?)?;
        // SAFETY: the helper made the whole packet (`skb->len` bytes from
        // `skb->data`, of which `total` from the network header) linear
        // and writable; the slice borrows `self`.
        Some(unsafe { core::slice::from_raw_parts_mut(p, total) })
    }

    /// Forgets the route attached to the packet (`skb_dst_drop`), as after
    /// a change of its destination before routing.
    pub fn drop_dst(&mut self) {
        // SAFETY: the skb is valid and exclusively ours (`&mut`).
        unsafe { bindings::skb_dst_drop(self.0.get()) }
    }

    /// The destination port of the socket early demultiplexing attached
    /// to a received packet, or `None` if it has none (or a transparent
    /// one, which stays).
    pub fn demux_socket_dport(&self) -> Option<u16> {
        // SAFETY: the skb is valid; the helper only reads its socket.
        let p = unsafe { bindings::skb_demux_sock_dport(self.0.get()) };
        u16::try_from(p).ok()
    }

    /// Detaches the packet from its socket (`skb_orphan`).
    pub fn orphan(&mut self) {
        // SAFETY: the skb is valid and exclusively ours (`&mut`).
        unsafe { bindings::skb_orphan(self.0.get()) }
    }

    /// How the packet's checksums stand (`skb->ip_summed`).
    #[inline]
    pub fn checksum(&self) -> Checksum {
        // SAFETY: the skb is valid by the type invariant.
        match u32::from(unsafe { bindings::skb_ip_summed(self.0.get()) }) {
            bindings::CHECKSUM_UNNECESSARY => Checksum::Unnecessary,
            bindings::CHECKSUM_COMPLETE => Checksum::Complete,
            bindings::CHECKSUM_PARTIAL => Checksum::Partial,
            _ => Checksum::None,
        }
    }

    /// Drops a `CHECKSUM_COMPLETE` sum after the packet was rewritten: the
    /// stack then verifies the transport checksum in software, which the
    /// rewrite kept correct.
    #[inline]
    pub fn forget_complete_checksum(&mut self) {
        if self.checksum() == Checksum::Complete {
            // SAFETY: the skb is valid and exclusively ours (`&mut`).
            unsafe { bindings::skb_set_ip_summed(self.0.get(), bindings::CHECKSUM_NONE as u8) };
        }
    }

    /// Returns the raw pointer.
    pub fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Length of the packet data from `skb->data`, linear and paged parts
    /// together (`skb->len`). At the IPv4 netfilter hooks `skb->data` is
    /// the network header, so this is the IP packet's length.
    pub fn len(&self) -> u32 {
        // SAFETY: the skb is valid by the type invariant; `len` is a plain
        // field read.
        unsafe { (*self.0.get()).len }
    }

    /// Whether the packet has no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The linear data from `skb->data` on (`skb_headlen` bytes), read in
    /// place. At the IPv4 netfilter hooks `skb->data` is the network
    /// header (as for [`SkBuff::len`]), so these are the packet's first
    /// bytes, as far as they are linear: the packet path reads its
    /// headers here and asks [`SkBuff::header`] only when they are not.
    #[inline(always)]
    pub fn linear_data(&self) -> &[u8] {
        let skb = self.0.get();
        // SAFETY: the skb is valid by the type invariant: `data` is not
        // null and `data .. data + len - data_len` is its linear data
        // (`len >= data_len`; were it not, the slice would be empty),
        // readable and neither freed nor reallocated while the skb is
        // borrowed; the one who holds the skb (a hook function, until its
        // verdict) is the only writer of its data, and writes need
        // `&mut self`, so none happens while the slice lives (as for
        // `linear_network_bytes`).
        unsafe {
            let headlen = (*skb).len.saturating_sub((*skb).data_len) as usize;
            core::slice::from_raw_parts((*skb).data, headlen)
        }
    }

    /// Whether part of the packet is in pages (`skb_is_nonlinear`): if
    /// not, [`SkBuff::linear_data`] is all of it.
    #[inline(always)]
    pub fn is_nonlinear(&self) -> bool {
        // SAFETY: the skb is valid by the type invariant; `data_len` is a
        // plain field read.
        unsafe { (*self.0.get()).data_len != 0 }
    }

    /// The packet's first bytes for a parse that reads `span(bytes)` of
    /// the bytes `bytes` it is given: the linear data ([`linear_data`])
    /// when it holds `min(len, span(linear data))` of them, else the first
    /// `min(len, buf.len())` copied into `buf` (written only then).
    /// `None` if the copy fails. The rules, the tracker and the counting
    /// hook read their headers through it.
    ///
    /// [`linear_data`]: SkBuff::linear_data
    #[inline(always)]
    pub fn head<'b>(
        &'b self,
        buf: &'b mut [MaybeUninit<u8>],
        span: impl FnOnce(&[u8]) -> usize,
    ) -> Option<&'b [u8]> {
        let len = self.len() as usize;
        let linear = self.linear_data();
        if linear.len() >= len.min(span(linear)) {
            return Some(linear);
        }
        let n = len.min(buf.len());
        self.header_uninit(0, &mut buf[..n])
    }

    /// Returns `buf.len()` bytes of the packet starting `offset` bytes after
    /// the network header, as `skb_header_pointer()` does: a slice straight
    /// into the packet when those bytes are linear, or a copy in `buf`
    /// otherwise. `None` when the packet is shorter than `offset + buf.len()`.
    #[inline]
    pub fn header<'b>(&'b self, offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        // SAFETY: `buf` is `buf.len()` writable bytes borrowed for `'b`.
        unsafe { self.header_pointer(offset, buf.as_mut_ptr(), buf.len()) }
    }

    /// [`SkBuff::header`] into a buffer that need not be initialised
    /// first: the packet path's copy, which is only written when the bytes
    /// are not linear (rarely), so zeroing it would be wasted work.
    #[inline]
    pub fn header_uninit<'b>(
        &'b self,
        offset: usize,
        buf: &'b mut [MaybeUninit<u8>],
    ) -> Option<&'b [u8]> {
        // SAFETY: `buf` is `buf.len()` writable bytes borrowed for `'b`;
        // what is read back of it was written by `skb_header_pointer`.
        unsafe { self.header_pointer(offset, buf.as_mut_ptr().cast(), buf.len()) }
    }

    /// The `len` bytes from `offset` after the network header where they
    /// are all in the linear data (`skb_headlen`), read in place: the
    /// common case of [`SkBuff::header_pointer`] without a call into C.
    /// `None` when they are not, or the network header is before `data`;
    /// the caller then asks `skb_header_pointer`.
    #[inline(always)]
    fn linear_network_bytes(&self, offset: usize, len: usize) -> Option<&[u8]> {
        // `skb->network_header`, an offset from `head`, in the `headers`
        // group of the skb.
        const NETWORK_HEADER: usize = core::mem::offset_of!(bindings::sk_buff, __bindgen_anon_4)
            + core::mem::offset_of!(
                bindings::sk_buff__bindgen_ty_4__bindgen_ty_1,
                network_header
            );
        let skb = self.0.get();
        // SAFETY: the skb is valid by the type invariant; these are plain
        // field reads, `network_header` a `u16` at its place in the struct.
        let (head, data, headlen, network) = unsafe {
            (
                (*skb).head,
                (*skb).data,
                (*skb).len.wrapping_sub((*skb).data_len) as usize,
                skb.cast::<u8>().add(NETWORK_HEADER).cast::<u16>().read(),
            )
        };
        // Offsets from `head`: the linear data is `data_start..data_end`.
        let data_start = (data as usize).wrapping_sub(head as usize);
        let data_end = data_start.checked_add(headlen)?;
        let start = usize::from(network).checked_add(offset)?;
        let end = start.checked_add(len)?;
        if start < data_start || end > data_end {
            return None;
        }
        // SAFETY: `head + start .. head + end` lies in the skb's linear
        // data (`data .. data + skb_headlen`), readable while the skb is
        // borrowed: its data is not reallocated meanwhile (type invariant).
        Some(unsafe { core::slice::from_raw_parts(head.add(start), len) })
    }

    /// `skb_header_pointer` of `len` bytes from `offset` after the network
    /// header, with `buf` as the copy. The slice returned is either in the
    /// skb's linear data or the first `len` bytes of `buf`, which C has
    /// then written.
    ///
    /// # Safety
    ///
    /// `buf` is valid for writes of `len` bytes for `'b`.
    #[inline]
    unsafe fn header_pointer<'b>(
        &'b self,
        offset: usize,
        buf: *mut u8,
        len: usize,
    ) -> Option<&'b [u8]> {
        if let Some(bytes) = self.linear_network_bytes(offset, len) {
            return Some(bytes);
        }
        // The helper takes u32s and checks the bounds: a length beyond
        // them is beyond any packet.
        let off = u32::try_from(offset).ok()?;
        let n = u32::try_from(len).ok()?;
        // SAFETY: the skb is valid by the type invariant; `buf` has room
        // for `len` bytes (the caller's promise) and the helper copies at
        // most that many into it. The result is null (the packet is
        // shorter), `buf`, whose first `len` bytes it then wrote, or a
        // pointer into the skb's linear data with at least `len` readable
        // bytes, both living at least as long as `'b`.
        unsafe {
            let p = bindings::skb_network_header_pointer(self.0.get(), off, n, buf.cast());
            if p.is_null() {
                return None;
            }
            Some(core::slice::from_raw_parts(p.cast::<u8>(), len))
        }
    }
}
