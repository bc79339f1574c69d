// SPDX-License-Identifier: GPL-2.0

//! Verdicts: `NFQNL_MSG_VERDICT` and `NFQNL_MSG_VERDICT_BATCH`
//! (`nfqnl_recv_verdict`, `nfqnl_recv_verdict_batch` of
//! `nfnetlink_queue.c`), packet ids, and what reinjection does with a
//! verdict (`nfqnl_reinject`, `nf_reinject`).
//!
//! A verdict message names a queued packet by id and says what becomes of
//! it: `NF_ACCEPT`, `NF_DROP`, `NF_REPEAT`, `NF_STOP`, or `NF_QUEUE` with
//! a queue number (and the bypass flag) in the upper 16 bits. It may set
//! the packet's mark and priority, replace its payload, and set its
//! connection's mark (`NFQA_CT` with `CTA_MARK`). A batch verdict applies
//! one verdict, mark and priority to every queued packet up to an id.
//!
//! The kernel handles a verdict in this order, with these errors:
//!
//! 1. the queue: not bound, `ENODEV`; bound by another socket, `EPERM`
//!    ([`check_listener`]);
//! 2. the header: missing, a verdict above `NF_STOP` or `NF_STOLEN`,
//!    `EINVAL` ([`decode_verdict`], [`decode_batch`]);
//! 3. the packet: no queued packet with the id (for a batch: none up to
//!    it), `ENOENT`;
//! 4. then payload, mark, priority, and reinjection. A payload that cannot
//!    be applied turns the verdict into `NF_DROP` but the request still
//!    succeeds.

use super::attrs::{
    be32_at, Table, BATCH_POLICY, CTA_TABLE, CT_POLICY, NFQA_TABLE, VERDICT_POLICY,
};
use super::consts::{
    CTA_MARK, CTA_MARK_MASK, NFPROTO_UNSPEC, NFQA_CT, NFQA_MARK, NFQA_PAYLOAD, NFQA_PRIORITY,
    NFQA_VERDICT_HDR, NFQNL_MSG_VERDICT, NFQNL_MSG_VERDICT_BATCH, NF_ACCEPT, NF_MAX_VERDICT,
    NF_QUEUE, NF_REPEAT, NF_STOLEN, NF_STOP, NF_VERDICT_FLAG_QUEUE_BYPASS, NF_VERDICT_MASK,
    NF_VERDICT_QBITS, NLM_F_REQUEST,
};
use super::msg::Builder;
use super::nla::NlaError;
use super::Errno;

/// The connection mark a verdict sets (`CTA_MARK` and `CTA_MARK_MASK`
/// nested in `NFQA_CT`, `ctnetlink_change_mark`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtMark {
    /// `CTA_MARK`.
    pub mark: u32,
    /// `CTA_MARK_MASK`: the bits `mark` replaces; all of them if absent.
    pub mask: Option<u32>,
}

impl CtMark {
    /// The connection mark `old` becomes: `(old & ~mask) ^ mark`, or
    /// `mark` without a mask, exactly as `ctnetlink_change_mark`
    /// computes it.
    pub const fn apply(&self, old: u32) -> u32 {
        let keep = match self.mask {
            Some(mask) => !mask,
            None => 0,
        };
        (old & keep) ^ self.mark
    }
}

/// The connection mark in the payload of `NFQA_CT`, if any: the nest is
/// parsed as `ctnetlink_glue_parse` does, and a nest that fails its
/// policy is ignored, as upstream ignores a failed `nfnl_ct->parse`.
/// Other connection attributes are not applied by rustfilter.
pub fn decode_ct_mark(nest: &[u8]) -> Option<CtMark> {
    let tb = Table::<CTA_TABLE>::parse(nest, &CT_POLICY).ok()?;
    Some(CtMark {
        mark: tb.be32(CTA_MARK)?,
        mask: tb.be32(CTA_MARK_MASK),
    })
}

/// A decoded `NFQNL_MSG_VERDICT` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerdictRequest<'a> {
    /// The verdict, upper bits included.
    pub verdict: u32,
    /// The packet id.
    pub id: u32,
    /// `NFQA_MARK`: the new `skb->mark`.
    pub mark: Option<u32>,
    /// `NFQA_PRIORITY`: the new `skb->priority`.
    pub priority: Option<u32>,
    /// `NFQA_PAYLOAD`: the new packet, from the network header (at most
    /// 65531 bytes).
    pub payload: Option<&'a [u8]>,
    /// `NFQA_CT { CTA_MARK }`: the new connection mark.
    pub ct_mark: Option<CtMark>,
}

/// A decoded `NFQNL_MSG_VERDICT_BATCH` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchRequest {
    /// The verdict for every packet, upper bits included.
    pub verdict: u32,
    /// The highest id the verdict applies to ([`batch_takes`]).
    pub max_id: u32,
    /// `NFQA_MARK` for every packet.
    pub mark: Option<u32>,
    /// `NFQA_PRIORITY` for every packet.
    pub priority: Option<u32>,
}

/// Whether userspace may give `verdict` (`verdicthdr_get`): its low byte
/// is at most `NF_STOP` and not `NF_STOLEN`. The upper bits pass.
///
/// # Errors
///
/// [`Errno::Inval`] otherwise.
pub const fn check_verdict(verdict: u32) -> Result<(), Errno> {
    let v = verdict & NF_VERDICT_MASK;
    if v > NF_MAX_VERDICT || v == NF_STOLEN {
        Err(Errno::Inval)
    } else {
        Ok(())
    }
}

/// Whether the socket `sender` may give verdicts on a queue whose
/// listener is `peer` (`None`: the queue is not bound;
/// `verdict_instance_lookup`).
///
/// # Errors
///
/// [`Errno::NoDev`] if not bound, [`Errno::Perm`] if bound by another
/// socket.
pub const fn check_listener(peer: Option<u32>, sender: u32) -> Result<(), Errno> {
    match peer {
        None => Err(Errno::NoDev),
        Some(p) if p != sender => Err(Errno::Perm),
        Some(_) => Ok(()),
    }
}

/// The verdict header of `tb`: `(verdict, id)` (`verdicthdr_get`).
fn verdict_hdr<const N: usize>(tb: &Table<'_, N>) -> Result<(u32, u32), Errno> {
    let hdr = tb.get(NFQA_VERDICT_HDR).ok_or(Errno::Inval)?;
    let verdict = be32_at(hdr, 0).ok_or(Errno::Inval)?;
    let id = be32_at(hdr, 4).ok_or(Errno::Inval)?;
    check_verdict(verdict)?;
    Ok((verdict, id))
}

/// The attributes [`decode_verdict`] reads: a table of these alone
/// ([`Table::from_fn_of`]) decodes the same.
pub const VERDICT_READS: [u16; 5] = [
    NFQA_VERDICT_HDR,
    NFQA_MARK,
    NFQA_PRIORITY,
    NFQA_PAYLOAD,
    NFQA_CT,
];

/// The attributes [`decode_batch`] reads.
pub const BATCH_READS: [u16; 3] = [NFQA_VERDICT_HDR, NFQA_MARK, NFQA_PRIORITY];

/// The verdict request in `tb` (parsed with [`VERDICT_POLICY`]). Call it
/// after [`check_listener`], which comes first in the kernel's order.
///
/// # Errors
///
/// [`Errno::Inval`] if the verdict header is missing or its verdict is
/// not allowed ([`check_verdict`]).
pub fn decode_verdict<'a>(tb: &Table<'a, NFQA_TABLE>) -> Result<VerdictRequest<'a>, Errno> {
    let (verdict, id) = verdict_hdr(tb)?;
    Ok(VerdictRequest {
        verdict,
        id,
        mark: tb.be32(NFQA_MARK),
        priority: tb.be32(NFQA_PRIORITY),
        payload: tb.get(NFQA_PAYLOAD),
        ct_mark: tb.get(NFQA_CT).and_then(decode_ct_mark),
    })
}

/// The verdict request in the attribute run `attrs`.
///
/// # Errors
///
/// [`Errno::Range`] if an attribute fails [`VERDICT_POLICY`], then as
/// [`decode_verdict`].
pub fn parse_verdict(attrs: &[u8]) -> Result<VerdictRequest<'_>, Errno> {
    decode_verdict(&Table::parse(attrs, &VERDICT_POLICY)?)
}

/// The batch verdict request in `tb` (parsed with [`BATCH_POLICY`]).
/// Call it after [`check_listener`].
///
/// # Errors
///
/// As [`decode_verdict`].
pub fn decode_batch(tb: &Table<'_, NFQA_TABLE>) -> Result<BatchRequest, Errno> {
    let (verdict, max_id) = verdict_hdr(tb)?;
    Ok(BatchRequest {
        verdict,
        max_id,
        mark: tb.be32(NFQA_MARK),
        priority: tb.be32(NFQA_PRIORITY),
    })
}

/// The batch verdict request in the attribute run `attrs`.
///
/// # Errors
///
/// [`Errno::Range`] if an attribute fails [`BATCH_POLICY`], then as
/// [`decode_batch`].
pub fn parse_batch(attrs: &[u8]) -> Result<BatchRequest, Errno> {
    decode_batch(&Table::parse(attrs, &BATCH_POLICY)?)
}

/// The id after `seq`, the last one given: ids start at 1 and wrap
/// around at 2^32 (`++queue->id_sequence`).
pub const fn next_id(seq: u32) -> u32 {
    seq.wrapping_add(1)
}

/// Whether id `id` comes after `max` (`nfq_id_after`): less than 2^31
/// ahead of it, modulo 2^32.
pub const fn id_after(id: u32, max: u32) -> bool {
    (id.wrapping_sub(max) as i32) > 0
}

/// Whether a batch verdict up to `max_id` takes the packet with id `id`.
/// The kernel takes packets from the head of the queue (oldest first)
/// while this holds, and stops at the first that does not.
pub const fn batch_takes(id: u32, max_id: u32) -> bool {
    !id_after(id, max_id)
}

/// The verdict of an NFQUEUE target: queue `num`, and with `bypass`
/// continue instead of dropping when no listener is bound
/// (`NF_QUEUE_NR(num) | NF_VERDICT_FLAG_QUEUE_BYPASS`, `xt_NFQUEUE.c`).
pub const fn queue_verdict(num: u16, bypass: bool) -> u32 {
    let v = ((num as u32) << NF_VERDICT_QBITS) | NF_QUEUE;
    if bypass {
        v | NF_VERDICT_FLAG_QUEUE_BYPASS
    } else {
        v
    }
}

/// Whether a payload of `new_len` bytes can replace a packet of
/// `skb_len` bytes whose transport header starts at `transport_offset`
/// (the checks of `nfqnl_mangle`): shorter, it must keep the network
/// header; longer, it must stay within 65535 bytes. The kernel then
/// trims, extends or copies, any of which may still fail with `ENOMEM`.
///
/// # Errors
///
/// [`Errno::Inval`] as said; the verdict then becomes `NF_DROP`.
pub const fn check_mangle(
    new_len: usize,
    skb_len: u32,
    transport_offset: u32,
) -> Result<(), Errno> {
    let skb_len = skb_len as usize;
    if new_len < skb_len && new_len < transport_offset as usize {
        return Err(Errno::Inval);
    }
    if new_len > skb_len && new_len > 0xffff {
        return Err(Errno::Inval);
    }
    Ok(())
}

/// Whether `nfqnl_reinject` lets conntrack see `verdict` first
/// (`nf_ct_hook->update`): exactly `NF_ACCEPT`, `NF_REPEAT` or `NF_STOP`,
/// upper bits included.
pub const fn wants_ct_update(verdict: u32) -> bool {
    verdict == NF_ACCEPT || verdict == NF_REPEAT || verdict == NF_STOP
}

/// The verdict after conntrack's update returned `ct_verdict`
/// (`nfqnl_reinject`): `NF_ACCEPT` keeps `verdict` (which may be
/// `NF_REPEAT`), `NF_STOLEN` means the packet is gone (`None`: only free
/// the entry), anything else replaces `verdict` by its low byte.
pub const fn after_ct_update(verdict: u32, ct_verdict: u32) -> Option<u32> {
    match ct_verdict & NF_VERDICT_MASK {
        NF_ACCEPT => Some(verdict),
        NF_STOLEN => None,
        v => Some(v),
    }
}

/// What reinjection does first with a userspace verdict (`nf_reinject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reinject {
    /// Exactly `NF_REPEAT`: call the hook entry that queued the packet
    /// once more, and go on with [`after_hook`] of its verdict.
    Repeat,
    /// Anything else: this step.
    Then(Step),
}

/// The next step of reinjection for a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Exactly `NF_ACCEPT`: reroute if the routing keys changed (drop if
    /// that fails), then run the hook entries after the queuing one
    /// (`nf_iterate`) and [`finish`] with their verdict.
    Continue,
    /// Hand the packet to the hook's `okfn` now: `NF_STOP`, or `NF_ACCEPT`
    /// with upper bits set (a quirk of the full-value comparison: it
    /// skips the remaining entries and the reroute, as upstream does).
    Okfn,
    /// Queue again, at the same hook entry, to queue `num`; with `bypass`,
    /// continue with the next entry if nobody listens.
    Queue {
        /// The queue number (upper 16 bits).
        num: u16,
        /// `NF_VERDICT_FLAG_QUEUE_BYPASS`.
        bypass: bool,
    },
    /// A hook stole the packet: nothing more to do with it.
    Stolen,
    /// Free the packet.
    Drop,
}

/// The first decision of `nf_reinject` on userspace verdict `verdict`
/// (after [`after_ct_update`]).
pub const fn reinject(verdict: u32) -> Reinject {
    if verdict == NF_REPEAT {
        Reinject::Repeat
    } else {
        Reinject::Then(after_hook(verdict))
    }
}

/// The step for `verdict`, a userspace verdict other than `NF_REPEAT` or
/// the verdict of the repeated hook entry: [`Step::Continue`] for exactly
/// `NF_ACCEPT`, else [`finish`]. A repeated entry returning `NF_REPEAT`
/// again drops the packet.
pub const fn after_hook(verdict: u32) -> Step {
    if verdict == NF_ACCEPT {
        Step::Continue
    } else {
        finish(verdict)
    }
}

/// What happens to the packet with `verdict` at the end of
/// `nf_reinject`'s switch (on the low byte): `NF_ACCEPT` and `NF_STOP`
/// go to `okfn`, `NF_QUEUE` queues again, `NF_STOLEN` is done, anything
/// else drops.
pub const fn finish(verdict: u32) -> Step {
    match verdict & NF_VERDICT_MASK {
        NF_ACCEPT | NF_STOP => Step::Okfn,
        NF_QUEUE => Step::Queue {
            num: (verdict >> NF_VERDICT_QBITS) as u16,
            bypass: verdict & NF_VERDICT_FLAG_QUEUE_BYPASS != 0,
        },
        NF_STOLEN => Step::Stolen,
        _ => Step::Drop,
    }
}

/// Write `req` as an `NFQNL_MSG_VERDICT` request for queue `queue` into
/// `buf` (`NLM_F_REQUEST`, no acknowledgement, as the libraries send
/// verdicts). Attributes: the header, then mark, priority, `NFQA_CT`
/// (`CTA_MARK` and `CTA_MARK_MASK`, as libnetfilter_queue's example
/// does), payload. Returns the length of the message.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if `buf` is too short or the payload longer
/// than an attribute can hold.
pub fn encode_verdict(
    buf: &mut [u8],
    seq: u32,
    queue: u16,
    req: &VerdictRequest<'_>,
) -> Result<usize, NlaError> {
    let mut b = Builder::new(
        buf,
        NFQNL_MSG_VERDICT,
        NLM_F_REQUEST,
        seq,
        NFPROTO_UNSPEC,
        queue,
    )?;
    let w = b.attrs();
    put_verdict_hdr(w, req.verdict, req.id)?;
    if let Some(mark) = req.mark {
        w.put_bytes(NFQA_MARK, &mark.to_be_bytes())?;
    }
    if let Some(priority) = req.priority {
        w.put_bytes(NFQA_PRIORITY, &priority.to_be_bytes())?;
    }
    if let Some(ct) = req.ct_mark {
        let nest = w.begin_nest(NFQA_CT)?;
        let r = put_ct_mark(w, &ct);
        if let Err(e) = r {
            w.cancel_nest(nest);
            return Err(e);
        }
        w.end_nest(nest)?;
    }
    if let Some(payload) = req.payload {
        w.put_bytes(NFQA_PAYLOAD, payload)?;
    }
    b.finish()
}

/// `CTA_MARK` and `CTA_MARK_MASK` of `ct`.
fn put_ct_mark(w: &mut super::nla::Writer<'_>, ct: &CtMark) -> Result<(), NlaError> {
    w.put_bytes(CTA_MARK, &ct.mark.to_be_bytes())?;
    if let Some(mask) = ct.mask {
        w.put_bytes(CTA_MARK_MASK, &mask.to_be_bytes())?;
    }
    Ok(())
}

/// `NFQA_VERDICT_HDR` with `verdict` and `id`.
fn put_verdict_hdr(w: &mut super::nla::Writer<'_>, verdict: u32, id: u32) -> Result<(), NlaError> {
    let [v0, v1, v2, v3] = verdict.to_be_bytes();
    let [i0, i1, i2, i3] = id.to_be_bytes();
    w.put_bytes(NFQA_VERDICT_HDR, &[v0, v1, v2, v3, i0, i1, i2, i3])
}

/// Write `req` as an `NFQNL_MSG_VERDICT_BATCH` request for queue `queue`
/// into `buf` (as `nfq_set_verdict_batch2`). Returns the length of the
/// message.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if `buf` is too short.
pub fn encode_batch(
    buf: &mut [u8],
    seq: u32,
    queue: u16,
    req: &BatchRequest,
) -> Result<usize, NlaError> {
    let mut b = Builder::new(
        buf,
        NFQNL_MSG_VERDICT_BATCH,
        NLM_F_REQUEST,
        seq,
        NFPROTO_UNSPEC,
        queue,
    )?;
    let w = b.attrs();
    put_verdict_hdr(w, req.verdict, req.max_id)?;
    if let Some(mark) = req.mark {
        w.put_bytes(NFQA_MARK, &mark.to_be_bytes())?;
    }
    if let Some(priority) = req.priority {
        w.put_bytes(NFQA_PRIORITY, &priority.to_be_bytes())?;
    }
    b.finish()
}
