// SPDX-License-Identifier: GPL-2.0

//! Socket buffers.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::{bindings, types::Opaque};

/// A socket buffer (`struct sk_buff`) borrowed for the duration of a
/// callback: a netfilter hook or a netlink handler.
///
/// Only bounded reads are offered: packet bytes are copied out or looked at
/// through [`SkBuff::header`], which never reads past the end of the packet.
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

    /// Returns `buf.len()` bytes of the packet starting `offset` bytes after
    /// the network header, as `skb_header_pointer()` does: a slice straight
    /// into the packet when those bytes are linear, or a copy in `buf`
    /// otherwise. `None` when the packet is shorter than `offset + buf.len()`.
    pub fn header<'b>(&'b self, offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        // SAFETY: the skb is valid by the type invariant.
        let nh = unsafe { bindings::skb_network_offset(self.0.get()) };
        let start = i32::try_from(offset).ok()?.checked_add(nh)?;
        let len = i32::try_from(buf.len()).ok()?;
        // Reject before calling C: `skb_header_pointer` takes ints.
        if start < 0 || start.checked_add(len)? as u32 > self.len() {
            return None;
        }
        // SAFETY: the skb is valid; `buf` has room for `len` bytes and
        // `skb_header_pointer` copies at most that many into it. The result
        // is either `buf` or a pointer into the skb's linear data with at
        // least `len` readable bytes, both living at least as long as `'b`.
        unsafe {
            let p = bindings::skb_header_pointer(
                self.0.get(),
                start,
                len,
                buf.as_mut_ptr().cast(),
            );
            if p.is_null() {
                return None;
            }
            Some(core::slice::from_raw_parts(p.cast::<u8>(), buf.len()))
        }
    }
}
