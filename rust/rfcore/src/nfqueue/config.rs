// SPDX-License-Identifier: GPL-2.0

//! `NFQNL_MSG_CONFIG`: binding a queue and setting it up
//! (`nfqnl_recv_config` of `nfnetlink_queue.c`).
//!
//! A listener binds queue `res_id` (`NFQNL_CFG_CMD_BIND`), then sets the
//! copy mode and range (`NFQA_CFG_PARAMS`), the most packets waiting
//! (`NFQA_CFG_QUEUE_MAXLEN`) and flags (`NFQA_CFG_FLAGS` under
//! `NFQA_CFG_MASK`), in the same message or later ones. [`decode_config`]
//! reads a request; [`apply`] decides what it does to the queue, with the
//! errors and the order of checks of the C function:
//!
//! 1. `PF_BIND` / `PF_UNBIND`: success, nothing else looked at;
//! 2. flags without a mask: `EINVAL`; flags beyond `NFQA_CFG_F_MAX`,
//!    `SECCTX` or `CONNTRACK` set but unsupported: `EOPNOTSUPP`;
//! 3. the queue bound by another socket: `EPERM`;
//! 4. `BIND` of a bound queue: `EBUSY`; `UNBIND` of an unbound one:
//!    `ENODEV`; another command: `EOPNOTSUPP`;
//! 5. no queue (and no `BIND`): `ENODEV`;
//! 6. then the parameters, the length and the flags are applied; a bad
//!    copy mode is ignored without an error, as upstream ignores
//!    `nfqnl_set_mode`'s return value.
//!
//! [`encode_config`] writes such a request, for clients.

use super::attrs::{be16_at, be32_at, Table, CFG_TABLE, CONFIG_POLICY};
use super::consts::{
    NFQA_CFG_CMD, NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_MAX, NFQA_CFG_F_SECCTX,
    NFQA_CFG_MASK, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQNL_CFG_CMD_BIND,
    NFQNL_CFG_CMD_PF_BIND, NFQNL_CFG_CMD_PF_UNBIND, NFQNL_CFG_CMD_UNBIND, NFQNL_COPY_META,
    NFQNL_COPY_NONE, NFQNL_COPY_PACKET, NFQNL_MAX_COPY_RANGE, NFQNL_MSG_CONFIG, NFQNL_QMAX_DEFAULT,
    NLM_F_ACK, NLM_F_REQUEST,
};
use super::msg::Builder;
use super::nla::NlaError;
use super::Errno;

/// How much of a packet a queue sends (`enum nfqnl_config_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CopyMode {
    /// Nothing: packets are dropped (`NFQNL_COPY_NONE`, the default).
    None = NFQNL_COPY_NONE,
    /// The metadata only (`NFQNL_COPY_META`).
    Meta = NFQNL_COPY_META,
    /// The metadata and up to `copy_range` bytes (`NFQNL_COPY_PACKET`).
    Packet = NFQNL_COPY_PACKET,
}

impl CopyMode {
    /// The mode with wire value `v`.
    pub const fn from_u8(v: u8) -> Option<CopyMode> {
        match v {
            NFQNL_COPY_NONE => Some(CopyMode::None),
            NFQNL_COPY_META => Some(CopyMode::Meta),
            NFQNL_COPY_PACKET => Some(CopyMode::Packet),
            _ => None,
        }
    }
}

/// The settings of a bound queue (the configurable fields of `struct
/// nfqnl_instance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// The port id of the listener (`peer_portid`).
    pub portid: u32,
    /// How much of each packet is sent.
    pub copy_mode: CopyMode,
    /// The most payload bytes sent (0 unless [`CopyMode::Packet`]).
    pub copy_range: u32,
    /// The most packets waiting for a verdict (`queue_maxlen`).
    pub maxlen: u32,
    /// `NFQA_CFG_F_*`.
    pub flags: u32,
}

impl QueueConfig {
    /// A queue just bound by `portid` (`instance_create`): copy mode
    /// none, the largest range, 1024 packets, no flags.
    pub const fn new(portid: u32) -> QueueConfig {
        QueueConfig {
            portid,
            copy_mode: CopyMode::None,
            copy_range: NFQNL_MAX_COPY_RANGE,
            maxlen: NFQNL_QMAX_DEFAULT,
            flags: 0,
        }
    }

    /// Set the copy mode and range (`nfqnl_set_mode`): none and meta set
    /// the range to 0; packet takes `range`, or the largest one if
    /// `range` is 0 or too large.
    ///
    /// # Errors
    ///
    /// [`Errno::Inval`] for an unknown mode; nothing changes then.
    pub fn set_mode(&mut self, mode: u8, range: u32) -> Result<(), Errno> {
        let mode = CopyMode::from_u8(mode).ok_or(Errno::Inval)?;
        self.copy_mode = mode;
        self.copy_range = match mode {
            CopyMode::None | CopyMode::Meta => 0,
            CopyMode::Packet if range == 0 || range > NFQNL_MAX_COPY_RANGE => NFQNL_MAX_COPY_RANGE,
            CopyMode::Packet => range,
        };
        Ok(())
    }

    /// Set the bits of `mask` to those of `flags`, keep the others.
    pub fn set_flags(&mut self, flags: u32, mask: u32) {
        self.flags = (self.flags & !mask) | (flags & mask);
    }

    /// Whether flag `flag` (`NFQA_CFG_F_*`) is set.
    pub const fn has_flag(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The settings, all but the port id, in one word, for the packet
    /// path to read without a lock: the copy mode (bits 0-7), the flags
    /// (8-15), the copy range (16-31) and the queue length (32-63).
    /// [`QueueConfig::unpack`] gives them back for every configuration
    /// [`apply`] makes: its flags are below `NFQA_CFG_F_MAX` and its range
    /// at most `NFQNL_MAX_COPY_RANGE` (larger values would lose bits).
    pub const fn pack(&self) -> u64 {
        (self.copy_mode as u64)
            | ((self.flags as u64 & 0xff) << 8)
            | ((self.copy_range as u64 & 0xffff) << 16)
            | ((self.maxlen as u64) << 32)
    }

    /// The configuration of the queue bound by `portid` whose settings
    /// [`QueueConfig::pack`] packed into `word`.
    pub const fn unpack(portid: u32, word: u64) -> QueueConfig {
        QueueConfig {
            portid,
            copy_mode: match CopyMode::from_u8(word as u8) {
                Some(m) => m,
                None => CopyMode::None,
            },
            flags: (word >> 8) as u32 & 0xff,
            copy_range: (word >> 16) as u32 & 0xffff,
            maxlen: (word >> 32) as u32,
        }
    }
}

/// `struct nfqnl_msg_config_cmd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigCmd {
    /// `NFQNL_CFG_CMD_*`.
    pub command: u8,
    /// The protocol family (only meaningful to the obsolete PF commands).
    pub pf: u16,
}

/// `struct nfqnl_msg_config_params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigParams {
    /// The most payload bytes to send.
    pub copy_range: u32,
    /// `NFQNL_COPY_*` (not checked here: see [`QueueConfig::set_mode`]).
    pub copy_mode: u8,
}

/// A decoded `NFQNL_MSG_CONFIG` request: the attributes present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigRequest {
    /// `NFQA_CFG_CMD`.
    pub cmd: Option<ConfigCmd>,
    /// `NFQA_CFG_PARAMS`.
    pub params: Option<ConfigParams>,
    /// `NFQA_CFG_QUEUE_MAXLEN`.
    pub maxlen: Option<u32>,
    /// `NFQA_CFG_MASK`.
    pub mask: Option<u32>,
    /// `NFQA_CFG_FLAGS`.
    pub flags: Option<u32>,
}

/// The request in `tb`. It cannot fail: the table's policy guarantees
/// the sizes (a field that is somehow missing reads as absent).
pub fn decode_config(tb: &Table<'_, CFG_TABLE>) -> ConfigRequest {
    ConfigRequest {
        cmd: tb.get(NFQA_CFG_CMD).and_then(|c| {
            Some(ConfigCmd {
                command: *c.first()?,
                pf: be16_at(c, 2)?,
            })
        }),
        params: tb.get(NFQA_CFG_PARAMS).and_then(|p| {
            Some(ConfigParams {
                copy_range: be32_at(p, 0)?,
                copy_mode: *p.get(4)?,
            })
        }),
        maxlen: tb.be32(NFQA_CFG_QUEUE_MAXLEN),
        mask: tb.be32(NFQA_CFG_MASK),
        flags: tb.be32(NFQA_CFG_FLAGS),
    }
}

/// The request in the attribute run `attrs`: [`Table::parse`] with
/// [`CONFIG_POLICY`], then [`decode_config`].
///
/// # Errors
///
/// [`Errno::Range`] if an attribute is too short.
pub fn parse_config(attrs: &[u8]) -> Result<ConfigRequest, Errno> {
    Table::parse(attrs, &CONFIG_POLICY).map(|tb| decode_config(&tb))
}

/// What the kernel supports besides the basics, for the flag checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Support {
    /// `NFQA_CFG_F_CONNTRACK` can be honoured (upstream: `nfnl_ct_hook`
    /// is set, i.e. ctnetlink is loaded).
    pub conntrack: bool,
    /// `NFQA_CFG_F_SECCTX` can be honoured (`CONFIG_NETWORK_SECMARK`).
    pub secctx: bool,
}

/// What a config request does to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing: an obsolete `PF_BIND`/`PF_UNBIND`. Answer success.
    Nothing,
    /// Bind a new queue with these settings (`instance_create`, then the
    /// settings of the same message). The module may still fail with
    /// `ENOMEM`, or `EBUSY` if it lost a race for the number.
    Create(QueueConfig),
    /// Give the bound queue these settings.
    Update(QueueConfig),
    /// Unbind the queue (`instance_destroy`): its packets go.
    Destroy,
}

/// What `req`, sent by `portid`, does to the queue, which is bound as
/// `existing` or not bound (`nfqnl_recv_config`, errors in its order:
/// see the module documentation).
///
/// # Errors
///
/// `EINVAL`, `EOPNOTSUPP`, `EPERM`, `EBUSY` or `ENODEV`, as the C
/// function returns them.
pub fn apply(
    existing: Option<&QueueConfig>,
    portid: u32,
    req: &ConfigRequest,
    support: Support,
) -> Result<Action, Errno> {
    // Obsolete commands without queue context.
    if let Some(cmd) = req.cmd {
        if matches!(cmd.command, NFQNL_CFG_CMD_PF_BIND | NFQNL_CFG_CMD_PF_UNBIND) {
            return Ok(Action::Nothing);
        }
    }

    // The flags, before the queue is looked at.
    let mut flag_change = None;
    if let Some(flags) = req.flags {
        let mask = req.mask.ok_or(Errno::Inval)?;
        if flags >= NFQA_CFG_F_MAX {
            return Err(Errno::OpNotSupp);
        }
        if flags & mask & NFQA_CFG_F_SECCTX != 0 && !support.secctx {
            return Err(Errno::OpNotSupp);
        }
        if flags & mask & NFQA_CFG_F_CONNTRACK != 0 && !support.conntrack {
            return Err(Errno::OpNotSupp);
        }
        flag_change = Some((flags, mask));
    }

    if let Some(queue) = existing {
        if queue.portid != portid {
            return Err(Errno::Perm);
        }
    }

    let mut created = false;
    let mut config = existing.copied();
    if let Some(cmd) = req.cmd {
        match cmd.command {
            NFQNL_CFG_CMD_BIND => {
                if existing.is_some() {
                    return Err(Errno::Busy);
                }
                config = Some(QueueConfig::new(portid));
                created = true;
            }
            NFQNL_CFG_CMD_UNBIND => {
                return match existing {
                    Some(_) => Ok(Action::Destroy),
                    None => Err(Errno::NoDev),
                };
            }
            _ => return Err(Errno::OpNotSupp),
        }
    }

    let Some(mut config) = config else {
        return Err(Errno::NoDev);
    };
    if let Some(params) = req.params {
        // Upstream ignores nfqnl_set_mode's error: a bad mode changes
        // nothing and the request succeeds.
        let _ = config.set_mode(params.copy_mode, params.copy_range);
    }
    if let Some(maxlen) = req.maxlen {
        config.maxlen = maxlen;
    }
    if let Some((flags, mask)) = flag_change {
        config.set_flags(flags, mask);
    }
    Ok(if created {
        Action::Create(config)
    } else {
        Action::Update(config)
    })
}

/// Write `req` as an `NFQNL_MSG_CONFIG` request for queue `queue` into
/// `buf`, as libnetfilter_queue does (`NLM_F_REQUEST`, plus `NLM_F_ACK`
/// if `ack`; attributes in the order command, parameters, length, flags,
/// mask). `family` is the `nfgen_family` (`AF_UNSPEC` in the libraries).
/// Returns the length of the message.
///
/// # Errors
///
/// [`NlaError::NoSpace`] if `buf` is too short.
pub fn encode_config(
    buf: &mut [u8],
    seq: u32,
    queue: u16,
    family: u8,
    req: &ConfigRequest,
    ack: bool,
) -> Result<usize, NlaError> {
    let flags = if ack {
        NLM_F_REQUEST | NLM_F_ACK
    } else {
        NLM_F_REQUEST
    };
    let mut b = Builder::new(buf, NFQNL_MSG_CONFIG, flags, seq, family, queue)?;
    let w = b.attrs();
    if let Some(cmd) = req.cmd {
        let [p0, p1] = cmd.pf.to_be_bytes();
        w.put_bytes(NFQA_CFG_CMD, &[cmd.command, 0, p0, p1])?;
    }
    if let Some(params) = req.params {
        let [r0, r1, r2, r3] = params.copy_range.to_be_bytes();
        w.put_bytes(NFQA_CFG_PARAMS, &[r0, r1, r2, r3, params.copy_mode])?;
    }
    if let Some(maxlen) = req.maxlen {
        w.put_bytes(NFQA_CFG_QUEUE_MAXLEN, &maxlen.to_be_bytes())?;
    }
    if let Some(flags) = req.flags {
        w.put_bytes(NFQA_CFG_FLAGS, &flags.to_be_bytes())?;
    }
    if let Some(mask) = req.mask {
        w.put_bytes(NFQA_CFG_MASK, &mask.to_be_bytes())?;
    }
    b.finish()
}
