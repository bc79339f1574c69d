// SPDX-License-Identifier: GPL-2.0

//! `nlfuzz queue`: random and mutated messages to the netlink queue
//! (`NETLINK_NETFILTER`, subsystem `NFNL_SUBSYS_QUEUE`), the protocol of
//! `nfnetlink_queue` that rustfilter's queue handler speaks.
//!
//! The valid messages come from the core's client encoders
//! (`rfcore::nfqueue::{config, verdict, packet}`): CONFIG (bind, unbind,
//! the obsolete PF commands, unknown commands; every copy mode with
//! ranges up to and past 65531; queue lengths; every flag, `F_MAX`, and
//! masks that do and do not cover them), VERDICT (every verdict value,
//! out of range ones too, `NF_QUEUE` with a queue number and the bypass
//! flag, marks, priorities, `NFQA_CT { CTA_MARK }`, payloads from 0 to
//! 65531 bytes and one whose length field wraps), VERDICT_BATCH, and
//! PACKET (which only the kernel may send). Then they are mutated: the
//! queue number (`res_id`), the family, the message type, the version,
//! `nlmsg_flags`, and [`crate::random::mutate_message`]'s edits (byte
//! flips, truncation, `nlmsg_len` and `nla_len` corruption, attributes
//! deleted, duplicated, swapped or spliced in). Some datagrams hold
//! several messages, some an nfnetlink batch for the queue subsystem.
//!
//! The run binds its own queues first (`--queues A:B`), so that packets
//! queued to them by a rule arrive on its socket: their ids are kept, and
//! verdicts name one of them more than half of the time. A second socket
//! sends one datagram in eight, to hit queues it does not own.
//!
//! Every choice derives from `--seed`; the packet ids seen depend on the
//! traffic, so a verdict that names a real id names the same *recent
//! packet* in a rerun, not the same number (`--trace` prints the bytes).
//!
//! Nothing ever reaches another nfnetlink subsystem ([`check_safe`]), and
//! queue [`PROBE_QUEUE`] is kept for [`check_semantics`]: a fixed
//! sequence of requests whose answers `nfnetlink_queue.c` defines, run
//! before, every `--check-every` messages and after the run.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use rfcore::nfqueue::config::{encode_config, ConfigCmd, ConfigParams, ConfigRequest};
use rfcore::nfqueue::consts::{
    msg_type, CTA_MARK, CTA_MARK_MASK, NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_UNSPEC, NFQA_CFG_CMD,
    NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO, NFQA_CFG_F_MAX,
    NFQA_CFG_F_SECCTX, NFQA_CFG_F_UID_GID, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CT,
    NFQA_EXP, NFQA_MARK, NFQA_PACKET_HDR, NFQA_PAYLOAD, NFQA_VERDICT_HDR, NFQA_VLAN,
    NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_NONE, NFQNL_CFG_CMD_PF_BIND, NFQNL_CFG_CMD_PF_UNBIND,
    NFQNL_CFG_CMD_UNBIND, NFQNL_COPY_META, NFQNL_COPY_NONE, NFQNL_COPY_PACKET,
    NFQNL_MAX_COPY_RANGE, NFQNL_MSG_CONFIG, NFQNL_MSG_MAX, NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT,
    NF_ACCEPT, NF_DROP, NF_QUEUE, NF_REPEAT, NF_STOLEN, NF_STOP, NF_VERDICT_FLAG_QUEUE_BYPASS,
};
use rfcore::nfqueue::packet::{encode_packet, HwAddr, PacketCt, PacketMeta, Timestamp};
use rfcore::nfqueue::verdict::{
    encode_batch, encode_verdict, BatchRequest, CtMark, VerdictRequest,
};
use rfcore::nla::NLA_F_NESTED;

use crate::random::{mutate_message, tree, Rng};
use crate::socket::Socket;
use crate::wire::{self, align4, attr, attr_with_len, nest, walk_attrs, Reply};

/// `NFNL_SUBSYS_QUEUE`.
pub const SUBSYS: u8 = 3;
/// `NFNL_MSG_BATCH_BEGIN`: a batch, for the subsystem its `res_id` names.
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
/// `NFNL_MSG_BATCH_END`.
pub const NFNL_MSG_BATCH_END: u16 = 0x11;
/// Where the attributes start: `nlmsghdr` and `nfgenmsg`.
const ATTRS: usize = wire::GENL_MSG_HDRLEN;
/// The queue [`check_semantics`] uses; the fuzzing never sends to it.
pub const PROBE_QUEUE: u16 = 65000;
/// The kernel's own `ENOTSUPP` (PACKET sent by userspace).
pub const ENOTSUPP: i32 = 524;
/// Recent packet ids kept for verdicts.
const RECENT: usize = 256;

/// Options of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Datagrams to send (withheld ones not counted).
    pub count: u64,
    /// Seed of the generator.
    pub seed: u64,
    /// The queues the run binds and mostly talks to.
    pub first: u16,
    /// The last of them.
    pub last: u16,
    /// Run [`check_semantics`] every this many datagrams (0: only before
    /// and after).
    pub check_every: u64,
    /// Print every datagram and what came back.
    pub trace: bool,
}

// ---------------------------------------------------------------------
// The safety rule.

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The `res_id` of the message at the start of `m` (big-endian).
fn res_id(m: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(m.get(18..20)?.try_into().ok()?))
}

/// Why a datagram is withheld, or `Ok` to send it.
///
/// `nfnetlink_rcv` looks at the first message: a batch begin
/// (`NFNL_MSG_BATCH_BEGIN`) hands the whole datagram to the subsystem its
/// `res_id` names (0 and 10 meaning nf_tables), so that must be the
/// queue's. Otherwise `netlink_rcv_skb` walks the messages (as
/// [`crate::random::check_safe`] does) and every request of a type from
/// `NLMSG_MIN_TYPE` on goes to the subsystem in its type's upper byte,
/// autoloading its module: only the queue's is allowed. Requests for
/// [`PROBE_QUEUE`] are withheld too.
pub fn check_safe(dgram: &[u8]) -> Result<(), &'static str> {
    if let (Some(len), Some(ty)) = (u32_at(dgram, 0), u16_at(dgram, 4)) {
        let len = len as usize;
        if len >= wire::NLMSG_HDRLEN && len <= dgram.len() && ty == NFNL_MSG_BATCH_BEGIN {
            return match res_id(dgram) {
                None => Ok(()),
                Some(r) if r == u16::from(SUBSYS) => Ok(()),
                Some(_) => Err("a batch for another subsystem"),
            };
        }
    }
    let mut off = 0usize;
    while dgram.len() - off >= wire::NLMSG_HDRLEN {
        let m = &dgram[off..];
        let len = u32_at(m, 0).unwrap_or(0) as usize;
        let ty = u16_at(m, 4).unwrap_or(0);
        let flags = u16_at(m, 6).unwrap_or(0);
        if len < wire::NLMSG_HDRLEN || len > m.len() {
            break;
        }
        if flags & wire::NLM_F_REQUEST != 0 && ty >= wire::NLMSG_MIN_TYPE {
            if (ty >> 8) as u8 != SUBSYS {
                return Err("another subsystem");
            }
            if len >= ATTRS && res_id(m) == Some(PROBE_QUEUE) {
                return Err("the probe queue");
            }
        }
        off += align4(len).min(m.len());
    }
    Ok(())
}

// ---------------------------------------------------------------------
// The generator.

/// What a datagram was made as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `NFQNL_MSG_CONFIG`.
    Config,
    /// `NFQNL_MSG_VERDICT`.
    Verdict,
    /// `NFQNL_MSG_VERDICT_BATCH`.
    Batch,
    /// `NFQNL_MSG_PACKET` (the kernel refuses it from userspace).
    Packet,
    /// Random bytes or attributes after valid headers.
    Noise,
    /// Several messages in one datagram.
    Multi,
    /// An nfnetlink batch (`NFNL_MSG_BATCH_BEGIN` ... `END`).
    NfnlBatch,
}

impl Kind {
    /// Its name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Verdict => "verdict",
            Kind::Batch => "verdict-batch",
            Kind::Packet => "packet",
            Kind::Noise => "noise",
            Kind::Multi => "multi",
            Kind::NfnlBatch => "nfnl-batch",
        }
    }
}

/// One datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// What it was made as.
    pub kind: Kind,
    /// Whether it was mutated after being built valid.
    pub mutated: bool,
    /// Whether a verdict in it names a packet id the kernel sent.
    pub real_id: bool,
}

/// A packet the kernel queued to one of the run's sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Its queue.
    pub queue: u16,
    /// Its id.
    pub id: u32,
}

/// Encode with one of the core's encoders into a buffer large enough for
/// anything this generator builds.
fn enc(f: impl FnOnce(&mut [u8]) -> Result<usize, rfcore::nla::NlaError>) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let n = f(&mut buf).unwrap_or(0);
    buf.truncate(n);
    buf
}

const U32S: [u32; 10] = [
    0,
    1,
    2,
    64,
    1024,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Valid queue requests for the run's queues, and their mutations.
pub struct Gen {
    first: u16,
    last: u16,
    /// Attributes of every kind to splice in.
    pool: Vec<Vec<u8>>,
}

impl Gen {
    /// A generator for queues `first..=last`.
    pub fn new(first: u16, last: u16) -> Gen {
        let (first, last) = (first.min(last), first.max(last));
        let mut g = Gen {
            first,
            last,
            pool: Vec::new(),
        };
        // Splice material: the attributes of valid messages of every
        // type, and some that are wrong on purpose.
        let mut rng = Rng::new(0x5eed);
        let mut pool = Vec::new();
        for i in 0..200 {
            let m = match i % 4 {
                0 => g.config(&mut rng),
                1 => g.verdict(&mut rng, &[]).0,
                2 => g.batch(&mut rng, &[]).0,
                _ => g.packet(&mut rng),
            };
            for n in tree(&m, ATTRS.min(m.len()), m.len()) {
                if n.len <= 256 {
                    pool.push(m[n.off..n.off + align4(n.len).min(m.len() - n.off)].to_vec());
                }
            }
        }
        pool.push(attr(NFQA_VERDICT_HDR, &[0, 0, 0, 1, 0, 0, 0]));
        pool.push(attr(NFQA_VERDICT_HDR, &[]));
        pool.push(attr(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0]));
        pool.push(attr(NFQA_CFG_PARAMS, &[0, 0, 0, 40]));
        pool.push(attr(NFQA_MARK, &[1, 2]));
        pool.push(attr(NFQA_MARK, &[1, 2, 3, 4, 5, 6, 7, 8]));
        pool.push(nest(NFQA_CT, &[attr(CTA_MARK, &[1])]));
        pool.push(nest(NFQA_CT, &[nest(1, &[attr(2, &[0; 4])])]));
        pool.push(attr(NFQA_CT, &[8, 0, CTA_MARK as u8, 0, 0, 0, 0, 42]));
        pool.push(nest(NFQA_VLAN, &[attr(1, &[0x81, 0]), attr(2, &[0, 5])]));
        pool.push(attr(NFQA_EXP, &[0; 12]));
        pool.push(attr(0, &[]));
        for t in [23u16, 24, 31, 0x3fff] {
            pool.push(attr(t, &[0xaa; 4]));
        }
        pool.sort();
        pool.dedup();
        g.pool = pool;
        g
    }

    /// A queue number: mostly the run's own, sometimes a small or any
    /// other one (never [`PROBE_QUEUE`]).
    fn queue(&self, rng: &mut Rng) -> u16 {
        let q = match rng.below(10) {
            0..=6 => self.first + rng.below(usize::from(self.last - self.first) + 1) as u16,
            7 | 8 => rng.below(16) as u16,
            _ => rng.next() as u16,
        };
        if q == PROBE_QUEUE {
            q + 1
        } else {
            q
        }
    }

    fn family(rng: &mut Rng) -> u8 {
        match rng.below(8) {
            0..=3 => NFPROTO_UNSPEC,
            4 => NFPROTO_IPV4,
            5 => NFPROTO_IPV6,
            6 => 7,
            _ => rng.next() as u8,
        }
    }

    fn u32_value(rng: &mut Rng) -> u32 {
        if rng.one_in(3) {
            rng.next() as u32
        } else {
            *rng.pick(&U32S)
        }
    }

    /// A CONFIG request.
    pub fn config(&self, rng: &mut Rng) -> Vec<u8> {
        let queue = self.queue(rng);
        let cmd = (!rng.one_in(5)).then(|| ConfigCmd {
            command: *rng.pick(&[
                NFQNL_CFG_CMD_BIND,
                NFQNL_CFG_CMD_BIND,
                NFQNL_CFG_CMD_BIND,
                NFQNL_CFG_CMD_UNBIND,
                NFQNL_CFG_CMD_UNBIND,
                NFQNL_CFG_CMD_PF_BIND,
                NFQNL_CFG_CMD_PF_UNBIND,
                NFQNL_CFG_CMD_NONE,
                5,
                0xff,
            ]),
            pf: match rng.below(4) {
                0 => 0,
                1 => u16::from(NFPROTO_IPV4),
                2 => u16::from(NFPROTO_IPV6),
                _ => rng.next() as u16,
            },
        });
        let params = rng.one_in(2).then(|| ConfigParams {
            copy_mode: *rng.pick(&[
                NFQNL_COPY_NONE,
                NFQNL_COPY_META,
                NFQNL_COPY_PACKET,
                NFQNL_COPY_PACKET,
                NFQNL_COPY_PACKET,
                3,
                0xff,
            ]),
            copy_range: match rng.below(9) {
                0 => 0,
                1 => 1,
                2 => 40,
                3 => 128,
                4 => 1500,
                5 => NFQNL_MAX_COPY_RANGE,
                6 => 0xffff,
                7 => u32::MAX,
                _ => rng.next() as u32,
            },
        });
        let maxlen = rng.one_in(3).then(|| match rng.below(8) {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 64,
            4 => 1024,
            5 => 0xffff,
            6 => u32::MAX,
            _ => rng.next() as u32,
        });
        let (mut flags, mut mask) = (None, None);
        if rng.one_in(3) {
            let f = match rng.below(10) {
                0 => NFQA_CFG_F_FAIL_OPEN,
                1 => NFQA_CFG_F_CONNTRACK,
                2 => NFQA_CFG_F_GSO,
                3 => NFQA_CFG_F_UID_GID,
                4 => NFQA_CFG_F_SECCTX,
                5 => NFQA_CFG_F_MAX,
                6 => NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID,
                7 => NFQA_CFG_F_MAX - 1,
                8 => 0,
                _ => rng.next() as u32,
            };
            flags = Some(f);
            mask = match rng.below(6) {
                0..=2 => Some(f),
                3 => Some(u32::MAX),
                4 => None,
                _ => Some(rng.next() as u32),
            };
        } else if rng.one_in(10) {
            mask = Some(Self::u32_value(rng));
        }
        let req = ConfigRequest {
            cmd,
            params,
            maxlen,
            mask,
            flags,
        };
        let family = Self::family(rng);
        let ack = rng.one_in(2);
        enc(|b| encode_config(b, 0, queue, family, &req, ack))
    }

    /// A verdict value: every one the kernel takes, those it refuses, and
    /// `NF_QUEUE` with a queue number (and the bypass flag).
    fn verdict_value(&self, rng: &mut Rng) -> u32 {
        let v = match rng.below(14) {
            0..=3 => NF_ACCEPT,
            4 | 5 => NF_DROP,
            6 => NF_REPEAT,
            7 => NF_STOP,
            8 | 9 => NF_QUEUE,
            10 => NF_STOLEN,
            11 => 6 + rng.below(250) as u32,
            12 => rng.next() as u32 & 0xff,
            _ => return rng.next() as u32,
        };
        if v == NF_QUEUE || rng.one_in(8) {
            let mut v = v | (u32::from(self.queue(rng)) << 16);
            if rng.one_in(2) {
                v |= NF_VERDICT_FLAG_QUEUE_BYPASS;
            }
            v
        } else {
            v
        }
    }

    /// A queue and packet id: one the kernel sent (`recent`), or made up.
    fn id(&self, rng: &mut Rng, recent: &[Seen], latest: bool) -> (u16, u32, bool) {
        if !recent.is_empty() && rng.below(10) < 6 {
            let s = if latest {
                recent[recent.len() - 1]
            } else {
                recent[recent.len() - 1 - rng.below(recent.len().min(64))]
            };
            let id = match rng.below(10) {
                0 => s.id.wrapping_add(1),
                1 => s.id.wrapping_sub(1),
                _ => s.id,
            };
            return (s.queue, id, true);
        }
        let id = match rng.below(4) {
            0 => Self::u32_value(rng),
            1 => rng.below(4096) as u32,
            _ => rng.next() as u32,
        };
        (self.queue(rng), id, false)
    }

    /// A packet to put in a verdict: an IPv4 header most of the time.
    fn payload(rng: &mut Rng) -> Vec<u8> {
        let len = match rng.below(40) {
            0 | 1 => 0,
            2 => 1,
            3 => 19,
            4 => 20,
            5..=17 => 28 + rng.below(64),
            18..=27 => rng.below(256),
            28..=33 => rng.below(1600),
            34 => 1500,
            35 => 4096,
            36 => NFQNL_MAX_COPY_RANGE as usize,
            _ => 84,
        };
        let mut p = rng.bytes(len);
        if len >= 20 && !rng.one_in(4) {
            let tot = (len as u16).to_be_bytes();
            p[..12].copy_from_slice(&[
                0x45,
                0,
                tot[0],
                tot[1],
                0,
                1,
                0x40,
                0,
                64,
                *rng.pick(&[1u8, 6, 17, 47]),
                0,
                0,
            ]);
            p[12..20].copy_from_slice(&[10, 0, 1, 2, 10, 0, 2, 2]);
        }
        p
    }

    /// A VERDICT request, and whether it names a packet the kernel sent.
    pub fn verdict(&self, rng: &mut Rng, recent: &[Seen]) -> (Vec<u8>, bool) {
        let verdict = self.verdict_value(rng);
        let (queue, id, real) = self.id(rng, recent, false);
        let mark = rng.one_in(3).then(|| Self::u32_value(rng));
        let priority = rng.one_in(5).then(|| Self::u32_value(rng));
        let ct_mark = rng.one_in(6).then(|| CtMark {
            mark: Self::u32_value(rng),
            mask: rng.one_in(2).then(|| Self::u32_value(rng)),
        });
        let payload = rng.one_in(4).then(|| Self::payload(rng));
        let req = VerdictRequest {
            verdict,
            id,
            mark,
            priority,
            payload: payload.as_deref(),
            ct_mark,
        };
        let mut m = enc(|b| encode_verdict(b, 0, queue, &req));
        if payload.is_none() && rng.one_in(300) {
            // A 65535-byte payload: its nla_len (65539) wraps to 3.
            m.extend(attr_with_len(3, NFQA_PAYLOAD, &rng.bytes(0xffff)));
            wire::fix_nlmsg_len(&mut m);
        }
        if rng.one_in(4) {
            wire::set_nlmsg_flags(&mut m, wire::NLM_F_REQUEST | wire::NLM_F_ACK);
        }
        (m, real)
    }

    /// A VERDICT_BATCH request (up to the latest id of a queue, mostly).
    pub fn batch(&self, rng: &mut Rng, recent: &[Seen]) -> (Vec<u8>, bool) {
        let verdict = self.verdict_value(rng);
        let latest = rng.one_in(2);
        let (queue, max_id, real) = self.id(rng, recent, latest);
        let req = BatchRequest {
            verdict,
            max_id,
            mark: rng.one_in(3).then(|| Self::u32_value(rng)),
            priority: rng.one_in(5).then(|| Self::u32_value(rng)),
        };
        let mut m = enc(|b| encode_batch(b, 0, queue, &req));
        if rng.one_in(4) {
            wire::set_nlmsg_flags(&mut m, wire::NLM_F_REQUEST | wire::NLM_F_ACK);
        }
        (m, real)
    }

    /// A PACKET message, as the kernel would send it.
    pub fn packet(&self, rng: &mut Rng) -> Vec<u8> {
        let ct = [
            attr(CTA_MARK, &Self::u32_value(rng).to_be_bytes()),
            attr(CTA_MARK_MASK, &Self::u32_value(rng).to_be_bytes()),
        ]
        .concat();
        let meta = PacketMeta {
            id: Self::u32_value(rng),
            hw_protocol: *rng.pick(&[0x0800u16, 0x86dd, 0]),
            hook: rng.below(6) as u8,
            indev: rng.one_in(2).then(|| rng.below(8) as u32),
            outdev: rng.one_in(2).then(|| rng.below(8) as u32),
            mark: Self::u32_value(rng),
            priority: if rng.one_in(3) { 0 } else { rng.next() as u32 },
            hwaddr: rng.one_in(3).then_some(HwAddr {
                len: 6,
                addr: [2, 0, 0, 0, 0, 1, 0, 0],
            }),
            timestamp: rng
                .one_in(3)
                .then(|| Timestamp::from_ns(rng.next() as i64 >> 8)),
            uid_gid: rng.one_in(4).then_some((0, 0)),
            ct: rng.one_in(4).then_some(PacketCt {
                attrs: &ct,
                info: rng.below(5) as u32,
            }),
            cap_len: rng.below(2000) as u32,
            skb_info: rng.below(8) as u32,
        };
        let data = Self::payload(rng);
        let family = Self::family(rng);
        let queue = self.queue(rng);
        let mut buf = vec![0u8; 70_000];
        match encode_packet(&mut buf, &meta, family, queue, data.len() as u32) {
            Ok(e) => {
                buf.truncate(e.len);
                buf.extend_from_slice(&data);
                // The kernel's flags (0); now and then a request asking
                // for an answer.
                if rng.one_in(2) {
                    wire::set_nlmsg_flags(&mut buf, wire::NLM_F_REQUEST | wire::NLM_F_ACK);
                }
                buf
            }
            Err(_) => Vec::new(),
        }
    }

    /// A valid message of any type.
    fn valid(&self, rng: &mut Rng, recent: &[Seen]) -> (Vec<u8>, Kind, bool) {
        match rng.below(20) {
            0..=5 => (self.config(rng), Kind::Config, false),
            6..=13 => {
                let (m, real) = self.verdict(rng, recent);
                (m, Kind::Verdict, real)
            }
            14..=16 => {
                let (m, real) = self.batch(rng, recent);
                (m, Kind::Batch, real)
            }
            _ => (self.packet(rng), Kind::Packet, false),
        }
    }

    /// One edit of a queue message: a header field the queue reads, or
    /// any of [`mutate_message`]'s.
    pub fn mutate(&self, rng: &mut Rng, msg: &mut Vec<u8>) {
        if msg.len() < ATTRS {
            mutate_message(rng, msg, &self.pool);
            return;
        }
        match rng.below(10) {
            0 => {
                let q = self.queue(rng).to_be_bytes();
                msg[18..20].copy_from_slice(&q);
            }
            1 => msg[16] = Self::family(rng),
            2 => {
                let t = if rng.one_in(4) {
                    rng.next() as u8
                } else {
                    rng.below(usize::from(NFQNL_MSG_MAX) + 2) as u8
                };
                msg[4..6].copy_from_slice(&msg_type(t).to_ne_bytes());
            }
            3 => msg[17] = *rng.pick(&[0u8, 1, 0xff]),
            4 => {
                let any = rng.next() as u16 | wire::NLM_F_REQUEST;
                let f = *rng.pick(&[
                    0,
                    wire::NLM_F_REQUEST,
                    wire::NLM_F_REQUEST | wire::NLM_F_ACK,
                    wire::NLM_F_ACK,
                    wire::NLM_F_REQUEST | wire::NLM_F_ACK | wire::NLM_F_ECHO,
                    wire::NLM_F_REQUEST | wire::NLM_F_DUMP,
                    wire::NLM_F_REQUEST | 0x2,
                    any,
                ]);
                wire::set_nlmsg_flags(msg, f);
            }
            _ => mutate_message(rng, msg, &self.pool),
        }
    }

    /// Random bytes, or attribute soup, after valid headers.
    fn noise(&self, rng: &mut Rng) -> Vec<u8> {
        let t = if rng.one_in(8) {
            rng.next() as u8
        } else {
            rng.below(usize::from(NFQNL_MSG_MAX)) as u8
        };
        let max = if rng.one_in(10) { 2048 } else { 96 };
        let n = rng.below(max);
        let body = if rng.one_in(2) {
            rng.bytes(n)
        } else {
            let mut b = Vec::new();
            while b.len() < n {
                let ty = rng.below(24) as u16 | if rng.one_in(5) { NLA_F_NESTED } else { 0 };
                let payload = if ty & NLA_F_NESTED != 0 && rng.one_in(2) {
                    rng.pick(&self.pool).clone()
                } else {
                    let l = *rng.pick(&[0usize, 1, 3, 4, 5, 7, 8, 12]);
                    rng.bytes(l)
                };
                let len = if rng.one_in(10) {
                    rng.below(40) as u16
                } else {
                    (4 + payload.len()) as u16
                };
                b.extend(attr_with_len(len, ty, &payload));
            }
            b
        };
        let mut payload = vec![Self::family(rng), 0];
        payload.extend_from_slice(&self.queue(rng).to_be_bytes());
        payload.extend(body);
        let flags = if rng.one_in(2) {
            wire::NLM_F_REQUEST | wire::NLM_F_ACK
        } else {
            wire::NLM_F_REQUEST
        };
        wire::nlmsg(msg_type(t), flags, 0, &payload)
    }

    /// A valid message, mutated or not.
    fn one(&self, rng: &mut Rng, recent: &[Seen]) -> (Vec<u8>, bool, bool) {
        let (mut m, _, real) = self.valid(rng, recent);
        let mutated = rng.one_in(2);
        if mutated {
            for _ in 0..1 + rng.below(3) {
                self.mutate(rng, &mut m);
            }
        }
        (m, mutated, real)
    }

    /// The next datagram; `recent` are the packets the kernel sent, the
    /// latest last.
    pub fn next(&self, rng: &mut Rng, recent: &[Seen]) -> Datagram {
        match rng.below(20) {
            0..=15 => {
                let (mut m, kind, real) = self.valid(rng, recent);
                let mutated = rng.below(2) == 0;
                if mutated {
                    for _ in 0..1 + rng.below(3) {
                        self.mutate(rng, &mut m);
                    }
                }
                Datagram {
                    bytes: m,
                    kind,
                    mutated,
                    real_id: real,
                }
            }
            16 | 17 => Datagram {
                bytes: self.noise(rng),
                kind: Kind::Noise,
                mutated: false,
                real_id: false,
            },
            18 => {
                let mut d = Datagram {
                    bytes: Vec::new(),
                    kind: Kind::Multi,
                    mutated: false,
                    real_id: false,
                };
                for _ in 0..2 + rng.below(3) {
                    let (m, mutated, real) = self.one(rng, recent);
                    d.bytes.extend(m);
                    while !d.bytes.len().is_multiple_of(4) {
                        d.bytes.push(0);
                    }
                    d.mutated |= mutated;
                    d.real_id |= real;
                }
                d
            }
            _ => {
                // An nfnetlink batch for the queue subsystem, which has
                // no commit: nfnetlink refuses it whole.
                let mut begin = vec![NFPROTO_UNSPEC, 0];
                begin.extend_from_slice(&u16::from(SUBSYS).to_be_bytes());
                let mut end = begin.clone();
                if rng.one_in(3) {
                    begin.extend(attr(1, &(rng.next() as u32).to_be_bytes()));
                }
                let flags = wire::NLM_F_REQUEST;
                let mut d = Datagram {
                    bytes: wire::nlmsg(NFNL_MSG_BATCH_BEGIN, flags, 0, &begin),
                    kind: Kind::NfnlBatch,
                    mutated: false,
                    real_id: false,
                };
                for _ in 0..1 + rng.below(3) {
                    let (m, mutated, real) = self.one(rng, recent);
                    d.bytes.extend(m);
                    while !d.bytes.len().is_multiple_of(4) {
                        d.bytes.push(0);
                    }
                    d.mutated |= mutated;
                    d.real_id |= real;
                }
                if !rng.one_in(4) {
                    end.truncate(4);
                    d.bytes
                        .extend(wire::nlmsg(NFNL_MSG_BATCH_END, flags, 0, &end));
                }
                d
            }
        }
    }
}

// ---------------------------------------------------------------------
// Talking to the kernel.

/// A `NETLINK_NETFILTER` socket and the packets queued to it.
struct QSock {
    sock: Socket,
    buf: Vec<u8>,
    seq: u32,
}

/// Everything a read brought: answers (sequence number, errno), packets.
#[derive(Default)]
struct Got {
    acks: Vec<(u32, i32)>,
    packets: Vec<Seen>,
    other: u64,
}

impl QSock {
    fn open() -> Result<QSock, String> {
        let sock = Socket::open_proto(libc::NETLINK_NETFILTER)
            .map_err(|e| format!("cannot open a NETLINK_NETFILTER socket: {e}"))?;
        Ok(QSock {
            sock,
            buf: vec![0; 1 << 20],
            seq: 0,
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sort what one datagram from the kernel holds into `got`.
    fn sort(&self, n: usize, got: &mut Got) {
        let Ok(replies) = wire::parse_datagram(&self.buf[..n.min(self.buf.len())]) else {
            got.acks.push((0, libc::EBADMSG));
            return;
        };
        for r in replies {
            match r {
                Reply::Ack { seq, errno, .. } => got.acks.push((seq, errno)),
                Reply::Data { ty, payload, .. } if ty == msg_type(NFQNL_MSG_PACKET) => {
                    let queue = payload
                        .get(2..4)
                        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                    let attrs = payload.get(4..).unwrap_or(&[]);
                    let id = walk_attrs(attrs)
                        .into_iter()
                        .find(|a| a.kind == NFQA_PACKET_HDR && a.len >= 8)
                        .and_then(|a| attrs.get(a.offset + 4..a.offset + 8))
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                    match id {
                        Some(id) => got.packets.push(Seen { queue, id }),
                        None => got.other += 1,
                    }
                }
                _ => got.other += 1,
            }
        }
    }

    /// Read without blocking until nothing is left.
    fn drain(&mut self, got: &mut Got) {
        loop {
            match self.sock.recv(&mut self.buf, false) {
                Ok(Some(n)) => self.sort(n, got),
                Ok(None) => return,
                // ENOBUFS: messages (packets) were lost; go on.
                Err(e) => got.acks.push((0, -e.raw_os_error().unwrap_or(0))),
            }
        }
    }

    /// Send `msg` with a fresh sequence number and `NLM_F_ACK`, and wait
    /// for its answer; what else came meanwhile goes to `got`.
    fn request(&mut self, msg: &[u8], got: &mut Got) -> Result<i32, String> {
        let mut msg = msg.to_vec();
        let seq = self.next_seq();
        wire::set_nlmsg_seq(&mut msg, seq);
        let flags = u16_at(&msg, 6).unwrap_or(0);
        wire::set_nlmsg_flags(&mut msg, flags | wire::NLM_F_ACK);
        self.sock.send(&msg).map_err(|e| format!("sendmsg: {e}"))?;
        loop {
            let n = match self.sock.recv(&mut self.buf, true) {
                Ok(Some(n)) => n,
                Ok(None) => return Err(format!("no answer to request {seq}")),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                Err(e) => return Err(format!("recv: {e}")),
            };
            let mut here = Got::default();
            self.sort(n, &mut here);
            got.packets.extend(here.packets);
            got.other += here.other;
            for (s, e) in here.acks {
                if s == seq {
                    return Ok(e);
                }
                got.acks.push((s, e));
            }
        }
    }
}

/// One request of [`check_semantics`]: which socket sends it, what it
/// is, and the errno `nfnetlink_queue.c` answers (0: success).
pub struct Check {
    /// What it checks.
    pub name: &'static str,
    /// Sent by the second socket (not the queue's owner).
    pub other: bool,
    /// The message (`NLM_F_ACK` is added when sent).
    pub msg: Vec<u8>,
    /// The expected errno.
    pub errno: i32,
}

/// The requests of [`check_semantics`] for queue `q`, in order, with the
/// answers of `nfqnl_recv_config`, `nfqnl_recv_verdict{,_batch}` and
/// `nfnetlink_rcv_msg` (§2.4 and §2.5 of the queue notes). The queue is
/// unbound before and after.
pub fn checks(q: u16) -> Vec<Check> {
    let cfg = |req: ConfigRequest| enc(|b| encode_config(b, 0, q, NFPROTO_UNSPEC, &req, true));
    let cmd = |c: u8| ConfigRequest {
        cmd: Some(ConfigCmd { command: c, pf: 0 }),
        ..ConfigRequest::default()
    };
    let verdict = |v: u32, id: u32| {
        enc(|b| {
            encode_verdict(
                b,
                0,
                q,
                &VerdictRequest {
                    verdict: v,
                    id,
                    mark: None,
                    priority: None,
                    payload: None,
                    ct_mark: None,
                },
            )
        })
    };
    let batch = |v: u32, id: u32| {
        enc(|b| {
            encode_batch(
                b,
                0,
                q,
                &BatchRequest {
                    verdict: v,
                    max_id: id,
                    mark: None,
                    priority: None,
                },
            )
        })
    };
    let raw = |t: u8, attrs: &[Vec<u8>]| {
        let mut p = vec![NFPROTO_UNSPEC, 0];
        p.extend_from_slice(&q.to_be_bytes());
        p.extend(attrs.concat());
        wire::nlmsg(msg_type(t), wire::NLM_F_REQUEST, 0, &p)
    };
    let c = |name, other, msg, errno| Check {
        name,
        other,
        msg,
        errno,
    };
    let bind_flags = |flags: u32, mask: Option<u32>| ConfigRequest {
        flags: Some(flags),
        mask,
        ..cmd(NFQNL_CFG_CMD_BIND)
    };
    vec![
        c(
            "UNBIND of an unbound queue",
            false,
            cfg(cmd(NFQNL_CFG_CMD_UNBIND)),
            libc::ENODEV,
        ),
        c(
            "VERDICT on an unbound queue",
            false,
            verdict(NF_ACCEPT, 1),
            libc::ENODEV,
        ),
        c(
            "VERDICT_BATCH on an unbound queue",
            false,
            batch(NF_ACCEPT, 1),
            libc::ENODEV,
        ),
        c(
            "PARAMS of an unbound queue",
            false,
            cfg(ConfigRequest {
                params: Some(ConfigParams {
                    copy_range: 64,
                    copy_mode: NFQNL_COPY_PACKET,
                }),
                ..ConfigRequest::default()
            }),
            libc::ENODEV,
        ),
        c(
            "FLAGS without MASK",
            false,
            cfg(bind_flags(NFQA_CFG_F_GSO, None)),
            libc::EINVAL,
        ),
        c(
            "FLAGS with F_MAX",
            false,
            cfg(bind_flags(NFQA_CFG_F_MAX, Some(NFQA_CFG_F_MAX))),
            libc::EOPNOTSUPP,
        ),
        c(
            "FLAGS with SECCTX (no secmark)",
            false,
            cfg(bind_flags(NFQA_CFG_F_SECCTX, Some(NFQA_CFG_F_SECCTX))),
            libc::EOPNOTSUPP,
        ),
        c(
            "PF_BIND: success, the rest ignored",
            false,
            cfg(ConfigRequest {
                flags: Some(u32::MAX),
                ..cmd(NFQNL_CFG_CMD_PF_BIND)
            }),
            0,
        ),
        c(
            "PF_UNBIND: success",
            false,
            cfg(cmd(NFQNL_CFG_CMD_PF_UNBIND)),
            0,
        ),
        c("BIND", false, cfg(cmd(NFQNL_CFG_CMD_BIND)), 0),
        c(
            "BIND again",
            false,
            cfg(cmd(NFQNL_CFG_CMD_BIND)),
            libc::EBUSY,
        ),
        c(
            "BIND by another socket",
            true,
            cfg(cmd(NFQNL_CFG_CMD_BIND)),
            libc::EPERM,
        ),
        c(
            "UNBIND by another socket",
            true,
            cfg(cmd(NFQNL_CFG_CMD_UNBIND)),
            libc::EPERM,
        ),
        c(
            "VERDICT by another socket",
            true,
            verdict(NF_ACCEPT, 1),
            libc::EPERM,
        ),
        c(
            "VERDICT_BATCH by another socket",
            true,
            batch(NF_DROP, 1),
            libc::EPERM,
        ),
        c("unknown command", false, cfg(cmd(9)), libc::EOPNOTSUPP),
        c(
            "command NONE",
            false,
            cfg(cmd(NFQNL_CFG_CMD_NONE)),
            libc::EOPNOTSUPP,
        ),
        c(
            "PARAMS, MAXLEN, FLAGS and MASK",
            false,
            cfg(ConfigRequest {
                params: Some(ConfigParams {
                    copy_range: 0xffff,
                    copy_mode: NFQNL_COPY_PACKET,
                }),
                maxlen: Some(64),
                flags: Some(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID),
                mask: Some(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID),
                ..ConfigRequest::default()
            }),
            0,
        ),
        c(
            "an unknown copy mode (ignored)",
            false,
            cfg(ConfigRequest {
                params: Some(ConfigParams {
                    copy_range: 0,
                    copy_mode: 7,
                }),
                ..ConfigRequest::default()
            }),
            0,
        ),
        c(
            "MASK without FLAGS",
            false,
            cfg(ConfigRequest {
                mask: Some(u32::MAX),
                ..ConfigRequest::default()
            }),
            0,
        ),
        c(
            "VERDICT without its header",
            false,
            raw(NFQNL_MSG_VERDICT, &[attr(NFQA_MARK, &[0; 4])]),
            libc::EINVAL,
        ),
        c(
            "VERDICT 6 (above NF_STOP)",
            false,
            verdict(6, 1),
            libc::EINVAL,
        ),
        c(
            "VERDICT NF_STOLEN",
            false,
            verdict(NF_STOLEN, 1),
            libc::EINVAL,
        ),
        c("VERDICT 0x1ff", false, verdict(0x1ff, 1), libc::EINVAL),
        c(
            "VERDICT for no packet",
            false,
            verdict(NF_ACCEPT, 1),
            libc::ENOENT,
        ),
        c(
            "VERDICT queue:7:bypass for no packet",
            false,
            verdict(NF_QUEUE | 7 << 16 | NF_VERDICT_FLAG_QUEUE_BYPASS, u32::MAX),
            libc::ENOENT,
        ),
        c(
            "VERDICT_BATCH for no packet",
            false,
            batch(NF_ACCEPT, u32::MAX),
            libc::ENOENT,
        ),
        c(
            "VERDICT_BATCH NF_STOLEN",
            false,
            batch(NF_STOLEN, 1),
            libc::EINVAL,
        ),
        c(
            "VERDICT_HDR of 7 bytes",
            false,
            raw(
                NFQNL_MSG_VERDICT,
                &[attr(NFQA_VERDICT_HDR, &[0, 0, 0, 1, 0, 0, 0])],
            ),
            libc::ERANGE,
        ),
        c(
            "CFG_CMD of 3 bytes",
            false,
            raw(NFQNL_MSG_CONFIG, &[attr(NFQA_CFG_CMD, &[1, 0, 0])]),
            libc::ERANGE,
        ),
        c(
            "CFG_PARAMS of 4 bytes",
            false,
            raw(NFQNL_MSG_CONFIG, &[attr(NFQA_CFG_PARAMS, &[0, 0, 0, 2])]),
            libc::ERANGE,
        ),
        c(
            "CFG_QUEUE_MAXLEN of 2 bytes",
            false,
            raw(NFQNL_MSG_CONFIG, &[attr(NFQA_CFG_QUEUE_MAXLEN, &[0, 1])]),
            libc::ERANGE,
        ),
        c(
            "PACKET from userspace",
            false,
            raw(NFQNL_MSG_PACKET, &[]),
            ENOTSUPP,
        ),
        c(
            "message type 4",
            false,
            raw(NFQNL_MSG_MAX, &[]),
            libc::EINVAL,
        ),
        c("UNBIND", false, cfg(cmd(NFQNL_CFG_CMD_UNBIND)), 0),
        c(
            "UNBIND again",
            false,
            cfg(cmd(NFQNL_CFG_CMD_UNBIND)),
            libc::ENODEV,
        ),
        c(
            "VERDICT after UNBIND",
            false,
            verdict(NF_ACCEPT, 1),
            libc::ENODEV,
        ),
        c(
            "unknown attributes ignored",
            false,
            raw(
                NFQNL_MSG_CONFIG,
                &[
                    attr(NFQA_CFG_FLAGS + 1, &[0; 4]),
                    attr(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0]),
                ],
            ),
            0,
        ),
        c(
            "UNBIND at the end",
            false,
            cfg(cmd(NFQNL_CFG_CMD_UNBIND)),
            0,
        ),
    ]
}

/// Run [`checks`] on [`PROBE_QUEUE`]: every answer must be the expected
/// one. Returns how many were checked.
fn check_semantics(a: &mut QSock, b: &mut QSock, got: &mut Got) -> Result<usize, String> {
    let list = checks(PROBE_QUEUE);
    let mut bad = Vec::new();
    for c in &list {
        let s = if c.other { &mut *b } else { &mut *a };
        let e = s.request(&c.msg, got)?;
        if e != c.errno {
            bad.push(format!(
                "{}: expected {}, got {}",
                c.name,
                errno_name(c.errno),
                errno_name(e)
            ));
        }
    }
    if bad.is_empty() {
        Ok(list.len())
    } else {
        // Leave the probe queue unbound for the next round.
        let _ = a.request(
            &checks(PROBE_QUEUE).pop().map(|c| c.msg).unwrap_or_default(),
            got,
        );
        Err(bad.join("; "))
    }
}

fn errno_name(e: i32) -> String {
    if e == ENOTSUPP {
        "ENOTSUPP".into()
    } else if e < 0 {
        format!("recv {}", wire::errno_name(-e))
    } else {
        wire::errno_name(e)
    }
}

// ---------------------------------------------------------------------
// The run.

/// What came back, summed up.
#[derive(Default, Debug)]
pub struct Tally {
    /// Datagrams sent, by kind.
    pub sent: BTreeMap<Kind, u64>,
    /// Datagrams mutated after being built valid.
    pub mutated: u64,
    /// Datagrams withheld, by reason.
    pub withheld: BTreeMap<&'static str, u64>,
    /// `sendmsg` failures by errno.
    pub send_errors: BTreeMap<i32, u64>,
    /// Answers by errno (0: acknowledgement), over all kinds.
    pub errnos: BTreeMap<i32, u64>,
    /// Answers by kind and errno.
    pub by_kind: BTreeMap<(Kind, i32), u64>,
    /// Packets the kernel queued to the run's sockets.
    pub packets: u64,
    /// Verdicts that named one of those packets.
    pub real_ids: u64,
    /// Rounds of [`check_semantics`] passed, and requests in them.
    pub checks: (u64, u64),
}

impl Tally {
    /// Datagrams sent.
    pub fn total(&self) -> u64 {
        self.sent.values().sum()
    }

    /// The summary, one item per line.
    pub fn summary(&self, secs: f64) -> String {
        let total = self.total();
        let mut s = format!(
            "messages sent: {total} in {secs:.1}s ({:.0}/s); mutated: {}; withheld: {}\n",
            total as f64 / secs.max(1e-9),
            self.mutated,
            self.withheld.values().sum::<u64>()
        );
        for (k, n) in &self.sent {
            s += &format!("  {:<14} {n}\n", k.name());
        }
        for (why, n) in &self.withheld {
            s += &format!("  withheld ({why}): {n}\n");
        }
        for (e, n) in &self.send_errors {
            s += &format!("  sendmsg {}: {n}\n", wire::errno_name(*e));
        }
        s += &format!(
            "packets queued to the fuzzer: {}; verdicts naming one: {}\n",
            self.packets, self.real_ids
        );
        s += &format!(
            "semantic checks: {} rounds, {} requests, all answered as nfnetlink_queue does\n",
            self.checks.0, self.checks.1
        );
        s += "errnos seen:\n";
        for (e, n) in &self.errnos {
            let name = if *e == 0 {
                "0 (ack)".to_string()
            } else {
                errno_name(*e)
            };
            s += &format!("  {name:<14} {n}\n");
        }
        s += "errnos by kind:\n";
        let mut last = None;
        for ((k, e), n) in &self.by_kind {
            if last != Some(*k) {
                s += &format!("  {}:", k.name());
                last = Some(*k);
            }
            s += &format!(" {}={n}", if *e == 0 { "0".into() } else { errno_name(*e) });
            if self
                .by_kind
                .range((*k, *e + 1)..)
                .next()
                .is_none_or(|((k2, _), _)| k2 != k)
            {
                s += "\n";
            }
        }
        s
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Run the queue mode. Fails when a semantic check fails or the kernel
/// stops answering.
pub fn run(opts: &Options) -> Result<Tally, String> {
    let mut a = QSock::open()?;
    let mut b = QSock::open()?;
    let gen = Gen::new(opts.first, opts.last);
    let mut rng = Rng::new(opts.seed);
    let mut t = Tally::default();
    let mut recent: VecDeque<Seen> = VecDeque::with_capacity(RECENT);
    let start = Instant::now();
    let mut got = Got::default();

    let absorb = |got: &mut Got, t: &mut Tally, recent: &mut VecDeque<Seen>| {
        for p in got.packets.drain(..) {
            t.packets += 1;
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(p);
        }
        got.acks.clear();
    };

    let round = |a: &mut QSock, b: &mut QSock, got: &mut Got, t: &mut Tally, when: &str| {
        match check_semantics(a, b, got) {
            Ok(n) => {
                t.checks.0 += 1;
                t.checks.1 += n as u64;
                Ok(())
            }
            Err(e) => Err(format!("{when} (seed {}): {e}", opts.seed)),
        }
    };
    round(&mut a, &mut b, &mut got, &mut t, "before fuzzing")?;

    // Bind the run's queues, copying packets, so that the traffic queued
    // to them comes here.
    for q in opts.first.min(opts.last)..=opts.first.max(opts.last) {
        if q == PROBE_QUEUE {
            continue;
        }
        let req = ConfigRequest {
            cmd: Some(ConfigCmd {
                command: NFQNL_CFG_CMD_BIND,
                pf: 0,
            }),
            params: Some(ConfigParams {
                copy_range: 256,
                copy_mode: NFQNL_COPY_PACKET,
            }),
            ..ConfigRequest::default()
        };
        let m = enc(|buf| encode_config(buf, 0, q, NFPROTO_UNSPEC, &req, true));
        let e = a.request(&m, &mut got)?;
        if e != 0 {
            println!("bind queue {q}: {}", errno_name(e));
        }
    }
    absorb(&mut got, &mut t, &mut recent);

    let mut since_check = 0;
    let mut i: u64 = 0;
    while t.total() < opts.count {
        let other = rng.one_in(8);
        let window: Vec<Seen> = recent.iter().copied().collect();
        let mut d = gen.next(&mut rng, &window);
        if let Err(why) = check_safe(&d.bytes) {
            *t.withheld.entry(why).or_default() += 1;
            continue;
        }
        i += 1;
        let s = if other { &mut b } else { &mut a };
        let seq = s.next_seq();
        wire::set_nlmsg_seq(&mut d.bytes, seq);
        let sent = s.sock.send(&d.bytes);
        a.drain(&mut got);
        b.drain(&mut got);
        if opts.trace {
            println!(
                "{i} {}{} {} {} -> {:?} {:?}",
                d.kind.name(),
                if d.mutated { "+m" } else { "" },
                if other { "B" } else { "A" },
                hex(&d.bytes),
                sent.as_ref().err().map(|e| e.raw_os_error()),
                got.acks
            );
        }
        if let Err(e) = sent {
            *t.send_errors
                .entry(e.raw_os_error().unwrap_or(0))
                .or_default() += 1;
        }
        for &(_, e) in &got.acks {
            *t.errnos.entry(e).or_default() += 1;
            *t.by_kind.entry((d.kind, e)).or_default() += 1;
        }
        absorb(&mut got, &mut t, &mut recent);
        *t.sent.entry(d.kind).or_default() += 1;
        t.mutated += u64::from(d.mutated);
        t.real_ids += u64::from(d.real_id);
        since_check += 1;
        if opts.check_every > 0 && since_check >= opts.check_every {
            since_check = 0;
            let when = format!("after {} messages", t.total());
            round(&mut a, &mut b, &mut got, &mut t, &when)?;
            absorb(&mut got, &mut t, &mut recent);
        }
    }
    round(&mut a, &mut b, &mut got, &mut t, "after fuzzing")?;
    absorb(&mut got, &mut t, &mut recent);
    print!("{}", t.summary(start.elapsed().as_secs_f64()));
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfcore::nfqueue::config::parse_config;
    use rfcore::nfqueue::consts::NFQNL_MSG_VERDICT_BATCH;
    use rfcore::nfqueue::verdict::{parse_batch, parse_verdict};

    fn recent() -> Vec<Seen> {
        (1..=20).map(|id| Seen { queue: 1, id }).collect()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let g = Gen::new(0, 3);
        let r = recent();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..2000).map(|_| g.next(&mut rng, &r)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        // A new generator gives the same too.
        let g2 = Gen::new(0, 3);
        let mut rng = Rng::new(7);
        let again: Vec<_> = (0..2000).map(|_| g2.next(&mut rng, &r)).collect();
        assert_eq!(run(7), again);
    }

    /// The type of each message the kernel will handle in a datagram.
    fn types(d: &[u8]) -> Vec<u16> {
        let mut out = Vec::new();
        let mut off = 0;
        while d.len() - off >= 16 {
            let len = u32_at(d, off).unwrap() as usize;
            if len < 16 || len > d.len() - off {
                break;
            }
            out.push(u16_at(d, off + 4).unwrap());
            off += align4(len).min(d.len() - off);
        }
        out
    }

    #[test]
    fn covers_every_message_type_and_kind() {
        let g = Gen::new(0, 3);
        let r = recent();
        let mut rng = Rng::new(1);
        let mut kinds = BTreeMap::new();
        let mut msg_types = std::collections::BTreeSet::new();
        let (mut real, mut mutated, mut safe) = (0, 0, 0);
        let n = 20_000;
        for _ in 0..n {
            let d = g.next(&mut rng, &r);
            *kinds.entry(d.kind).or_insert(0) += 1;
            real += u32::from(d.real_id);
            mutated += u32::from(d.mutated);
            safe += u32::from(check_safe(&d.bytes).is_ok());
            for t in types(&d.bytes) {
                msg_types.insert(t);
            }
        }
        for k in [
            Kind::Config,
            Kind::Verdict,
            Kind::Batch,
            Kind::Packet,
            Kind::Noise,
            Kind::Multi,
            Kind::NfnlBatch,
        ] {
            assert!(
                kinds.get(&k).copied().unwrap_or(0) > 200,
                "{k:?}: {kinds:?}"
            );
        }
        for t in [
            NFQNL_MSG_PACKET,
            NFQNL_MSG_VERDICT,
            NFQNL_MSG_CONFIG,
            NFQNL_MSG_VERDICT_BATCH,
            NFQNL_MSG_MAX,
        ] {
            assert!(msg_types.contains(&msg_type(t)), "type {t}");
        }
        assert!(msg_types.contains(&NFNL_MSG_BATCH_BEGIN));
        assert!(real > n / 5, "{real}");
        assert!(mutated > n / 4 && mutated < n * 3 / 4, "{mutated}");
        assert!(safe > n * 95 / 100, "{safe}");
    }

    #[test]
    fn valid_messages_decode_as_the_kernel_will() {
        let g = Gen::new(0, 3);
        let r = recent();
        let mut rng = Rng::new(3);
        let mut verdicts = std::collections::BTreeSet::new();
        let (mut payload_sizes, mut cmds, mut modes) = (
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::new(),
        );
        let mut flag_bits = 0u32;
        let (mut bypass, mut ct) = (0, 0);
        for _ in 0..20_000 {
            let c = g.config(&mut rng);
            assert_eq!(u16_at(&c, 4), Some(msg_type(NFQNL_MSG_CONFIG)));
            assert_eq!(u32_at(&c, 0), Some(c.len() as u32));
            let req = parse_config(&c[ATTRS..]).expect("a valid config");
            if let Some(cmd) = req.cmd {
                cmds.insert(cmd.command);
            }
            if let Some(p) = req.params {
                modes.insert(p.copy_mode);
            }
            flag_bits |= req.flags.unwrap_or(0);

            let (v, _) = g.verdict(&mut rng, &r);
            if let Ok(req) = parse_verdict(&v[ATTRS..]) {
                verdicts.insert(req.verdict & 0xff);
                bypass += u32::from(req.verdict & NF_VERDICT_FLAG_QUEUE_BYPASS != 0);
                ct += u32::from(req.ct_mark.is_some());
                if let Some(p) = req.payload {
                    payload_sizes.insert(p.len());
                }
            } else {
                // Only refused verdict values fail to decode.
                let hdr = walk_attrs(&v[ATTRS..])[0];
                assert_eq!(hdr.kind, NFQA_VERDICT_HDR);
                let raw = &v[ATTRS + 4..ATTRS + 8];
                let val = u32::from_be_bytes(raw.try_into().unwrap()) & 0xff;
                assert!(val == NF_STOLEN || val > NF_STOP, "{val}");
                verdicts.insert(val);
            }
            let (bt, _) = g.batch(&mut rng, &r);
            assert_eq!(u16_at(&bt, 4), Some(msg_type(NFQNL_MSG_VERDICT_BATCH)));
            let _ = parse_batch(&bt[ATTRS..]);
            let p = g.packet(&mut rng);
            assert_eq!(u16_at(&p, 4), Some(msg_type(NFQNL_MSG_PACKET)));
            assert_eq!(u32_at(&p, 0), Some(p.len() as u32));
        }
        for v in 0..=7 {
            assert!(
                verdicts.contains(&v),
                "verdict {v} never sent: {verdicts:?}"
            );
        }
        for c in 0..=4 {
            assert!(cmds.contains(&c), "command {c}");
        }
        for m in 0..=3 {
            assert!(modes.contains(&m), "copy mode {m}");
        }
        assert_eq!(flag_bits & 0x3f, 0x3f, "{flag_bits:#x}");
        for s in [0, 1, 20, 84, NFQNL_MAX_COPY_RANGE as usize] {
            assert!(payload_sizes.contains(&s), "payload of {s} bytes");
        }
        assert!(bypass > 100 && ct > 100, "{bypass} {ct}");
    }

    #[test]
    fn oversized_payload_wraps_its_length() {
        let g = Gen::new(0, 0);
        let mut rng = Rng::new(11);
        let found = (0..20_000).any(|_| {
            let (v, _) = g.verdict(&mut rng, &[]);
            // The last attribute: nla_len 3, 65535 bytes and a pad byte.
            v.len() > 65_540
                && v[v.len() - 65_540..v.len() - 65_536] == [3, 0, NFQA_PAYLOAD as u8, 0]
        });
        assert!(found);
    }

    #[test]
    fn verdicts_name_recent_packets() {
        let g = Gen::new(5, 5);
        let r = vec![Seen { queue: 9, id: 77 }];
        let mut rng = Rng::new(4);
        let mut hits = 0;
        for _ in 0..1000 {
            let (v, real) = g.verdict(&mut rng, &r);
            if real {
                hits += 1;
                assert_eq!(res_id(&v), Some(9));
                let id = u32::from_be_bytes(v[ATTRS + 8..ATTRS + 12].try_into().unwrap());
                assert!((76..=78).contains(&id), "{id}");
            }
        }
        assert!(hits > 450, "{hits}");
        // Without packets, nothing is real.
        assert!((0..100).all(|_| !g.verdict(&mut rng, &[]).1));
    }

    #[test]
    fn safety_rule() {
        let g = Gen::new(0, 3);
        let mut rng = Rng::new(2);
        let c = g.config(&mut rng);
        assert_eq!(check_safe(&c), Ok(()));
        // Another subsystem: conntrack (1), nf_tables (10).
        for ty in [0x0102u16, 0x0a02, NFNL_MSG_BATCH_END] {
            let mut m = c.clone();
            m[4..6].copy_from_slice(&ty.to_ne_bytes());
            assert_eq!(check_safe(&m), Err("another subsystem"), "{ty:#x}");
            // Not a request: never handled.
            wire::set_nlmsg_flags(&mut m, wire::NLM_F_ACK);
            assert_eq!(check_safe(&m), Ok(()));
            // Second in a datagram.
            let mut two = c.clone();
            m[6..8].copy_from_slice(&wire::NLM_F_REQUEST.to_ne_bytes());
            two.extend(&m);
            assert_eq!(check_safe(&two), Err("another subsystem"));
        }
        // A batch: only for the queue subsystem.
        let begin = |res: u16| {
            let mut p = vec![0, 0];
            p.extend_from_slice(&res.to_be_bytes());
            wire::nlmsg(NFNL_MSG_BATCH_BEGIN, wire::NLM_F_REQUEST, 0, &p)
        };
        assert_eq!(check_safe(&begin(3)), Ok(()));
        assert!(check_safe(&begin(10)).is_err());
        assert!(check_safe(&begin(0)).is_err());
        // The probe queue is never fuzzed.
        let mut p = c.clone();
        p[18..20].copy_from_slice(&PROBE_QUEUE.to_be_bytes());
        assert_eq!(check_safe(&p), Err("the probe queue"));
        // Garbage never panics.
        for n in 0..300 {
            let _ = check_safe(&rng.bytes(n));
        }
    }

    #[test]
    fn checks_are_well_formed() {
        let list = checks(PROBE_QUEUE);
        assert!(list.len() > 30);
        for c in &list {
            assert_eq!(res_id(&c.msg), Some(PROBE_QUEUE), "{}", c.name);
            assert_eq!(u32_at(&c.msg, 0), Some(c.msg.len() as u32), "{}", c.name);
            assert_eq!(u16_at(&c.msg, 4).map(|t| t >> 8), Some(3), "{}", c.name);
        }
        // The queue is unbound at the end.
        assert_eq!(list.last().unwrap().errno, 0);
        assert!(list.iter().any(|c| c.other && c.errno == libc::EPERM));
    }

    #[test]
    fn mutations_never_panic() {
        let g = Gen::new(0, 3);
        let mut rng = Rng::new(9);
        for _ in 0..20_000 {
            let (mut m, _, _) = g.valid(&mut rng, &[]);
            for _ in 0..5 {
                g.mutate(&mut rng, &mut m);
            }
            assert!(m.len() < 1 << 18);
        }
    }

    #[test]
    fn summary_counts() {
        let mut t = Tally::default();
        t.sent.insert(Kind::Verdict, 3);
        t.errnos.insert(libc::ENOENT, 2);
        t.by_kind.insert((Kind::Verdict, libc::ENOENT), 2);
        t.by_kind.insert((Kind::Config, 0), 1);
        let s = t.summary(1.0);
        assert!(s.contains("messages sent: 3"), "{s}");
        assert!(s.contains("ENOENT"), "{s}");
        assert!(s.contains("  verdict: ENOENT=2\n"), "{s}");
        assert!(s.contains("  config: 0=1\n"), "{s}");
    }
}
