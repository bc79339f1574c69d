// SPDX-License-Identifier: GPL-2.0

//! The numbers of the queue protocol.
//!
//! From `include/uapi/linux/netfilter/nfnetlink_queue.h`, `netfilter.h`,
//! `nfnetlink.h`, `nfnetlink_conntrack.h` and `linux/netlink.h`; the
//! defaults and limits from `net/netfilter/nfnetlink_queue.c`. The headers
//! are the definition: a host test reads them and compares every value.
//! Struct sizes are given as byte counts (`*_LEN`); the structs are packed
//! big-endian records on the wire.

// Netlink and nfnetlink framing (`linux/netlink.h`, `nfnetlink.h`).

/// Length of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Length of `struct nfgenmsg` (`nfgen_family`, `version`, `res_id`).
pub const NFGENMSG_LEN: usize = 4;
/// Where the attributes of an nfnetlink message start
/// (`nlmsg_total_size(sizeof(struct nfgenmsg))`, both 4-aligned).
pub const NFNL_ATTRS_OFFSET: usize = NLMSG_HDRLEN + NFGENMSG_LEN;
/// `nlmsg_flags`: a request.
pub const NLM_F_REQUEST: u16 = 1;
/// `nlmsg_flags`: ask for an acknowledgement.
pub const NLM_F_ACK: u16 = 4;
/// `nlmsg_type` of an error or acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `nlmsg_type` of the end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// The smallest `nlmsg_type` of a protocol message; smaller ones are
/// netlink's control messages.
pub const NLMSG_MIN_TYPE: u16 = 0x10;
/// `nfgenmsg.version`.
pub const NFNETLINK_V0: u8 = 0;
/// The nfnetlink subsystem of the queue: the upper byte of `nlmsg_type`.
pub const NFNL_SUBSYS_QUEUE: u8 = 3;

/// The `nlmsg_type` of queue message `msg` (`nfnl_msg_type`).
pub const fn msg_type(msg: u8) -> u16 {
    ((NFNL_SUBSYS_QUEUE as u16) << 8) | msg as u16
}

// enum nfqnl_msg_types.

/// A packet, kernel to user.
pub const NFQNL_MSG_PACKET: u8 = 0;
/// A verdict on one packet, user to kernel.
pub const NFQNL_MSG_VERDICT: u8 = 1;
/// Configuration of a queue, user to kernel.
pub const NFQNL_MSG_CONFIG: u8 = 2;
/// A verdict on every packet up to an id, user to kernel.
pub const NFQNL_MSG_VERDICT_BATCH: u8 = 3;
/// Number of message types.
pub const NFQNL_MSG_MAX: u8 = 4;

// enum nfqnl_attr_type.

/// `struct nfqnl_msg_packet_hdr` ([`PACKET_HDR_LEN`] bytes).
pub const NFQA_PACKET_HDR: u16 = 1;
/// `struct nfqnl_msg_verdict_hdr` ([`VERDICT_HDR_LEN`] bytes).
pub const NFQA_VERDICT_HDR: u16 = 2;
/// be32: `skb->mark`.
pub const NFQA_MARK: u16 = 3;
/// `struct nfqnl_msg_packet_timestamp` ([`TIMESTAMP_LEN`] bytes).
pub const NFQA_TIMESTAMP: u16 = 4;
/// be32: the input interface index.
pub const NFQA_IFINDEX_INDEV: u16 = 5;
/// be32: the output interface index.
pub const NFQA_IFINDEX_OUTDEV: u16 = 6;
/// be32: the physical input interface of a bridge.
pub const NFQA_IFINDEX_PHYSINDEV: u16 = 7;
/// be32: the physical output interface of a bridge.
pub const NFQA_IFINDEX_PHYSOUTDEV: u16 = 8;
/// `struct nfqnl_msg_packet_hw` ([`PACKET_HW_LEN`] bytes).
pub const NFQA_HWADDR: u16 = 9;
/// The packet, from the network header.
pub const NFQA_PAYLOAD: u16 = 10;
/// Nested ctnetlink attributes (`CTA_*`) of the packet's connection.
pub const NFQA_CT: u16 = 11;
/// be32: `enum ip_conntrack_info`.
pub const NFQA_CT_INFO: u16 = 12;
/// be32: the length of the whole packet, when the payload is cut short.
pub const NFQA_CAP_LEN: u16 = 13;
/// be32: `NFQA_SKB_*`.
pub const NFQA_SKB_INFO: u16 = 14;
/// Nested ctnetlink expectation attributes.
pub const NFQA_EXP: u16 = 15;
/// be32: the socket owner's fsuid.
pub const NFQA_UID: u16 = 16;
/// be32: the socket owner's fsgid.
pub const NFQA_GID: u16 = 17;
/// The security context string.
pub const NFQA_SECCTX: u16 = 18;
/// Nested `NFQA_VLAN_*`.
pub const NFQA_VLAN: u16 = 19;
/// The link-layer header of a bridged packet.
pub const NFQA_L2HDR: u16 = 20;
/// be32: `skb->priority`.
pub const NFQA_PRIORITY: u16 = 21;
/// be32: the socket's net_cls class id.
pub const NFQA_CGROUP_CLASSID: u16 = 22;
/// Highest `NFQA_*`.
pub const NFQA_MAX: u16 = 22;

// enum nfqnl_vlan_attr.

/// be16: `skb->vlan_proto`.
pub const NFQA_VLAN_PROTO: u16 = 1;
/// be16: `skb->vlan_tci`.
pub const NFQA_VLAN_TCI: u16 = 2;
/// Highest `NFQA_VLAN_*`.
pub const NFQA_VLAN_MAX: u16 = 2;

// enum nfqnl_attr_config.

/// `struct nfqnl_msg_config_cmd` ([`CONFIG_CMD_LEN`] bytes).
pub const NFQA_CFG_CMD: u16 = 1;
/// `struct nfqnl_msg_config_params` ([`CONFIG_PARAMS_LEN`] bytes).
pub const NFQA_CFG_PARAMS: u16 = 2;
/// be32: the most packets waiting for a verdict.
pub const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
/// be32: which flags `NFQA_CFG_FLAGS` changes.
pub const NFQA_CFG_MASK: u16 = 4;
/// be32: `NFQA_CFG_F_*`.
pub const NFQA_CFG_FLAGS: u16 = 5;
/// Highest `NFQA_CFG_*`.
pub const NFQA_CFG_MAX: u16 = 5;

// enum nfqnl_msg_config_cmds.

/// No command (refused with `EOPNOTSUPP`).
pub const NFQNL_CFG_CMD_NONE: u8 = 0;
/// Bind the queue `res_id` to the sending socket.
pub const NFQNL_CFG_CMD_BIND: u8 = 1;
/// Unbind it.
pub const NFQNL_CFG_CMD_UNBIND: u8 = 2;
/// Obsolete since 3.8: accepted and ignored.
pub const NFQNL_CFG_CMD_PF_BIND: u8 = 3;
/// Obsolete since 3.8: accepted and ignored.
pub const NFQNL_CFG_CMD_PF_UNBIND: u8 = 4;

// enum nfqnl_config_mode.

/// Send nothing (packets are dropped: the default after BIND).
pub const NFQNL_COPY_NONE: u8 = 0;
/// Send the metadata only.
pub const NFQNL_COPY_META: u8 = 1;
/// Send the metadata and up to `copy_range` bytes of the packet.
pub const NFQNL_COPY_PACKET: u8 = 2;

// NFQA_CFG_F_* (flags of a queue).

/// Accept packets that cannot be queued (queue full, listener's buffer
/// full) instead of dropping them.
pub const NFQA_CFG_F_FAIL_OPEN: u32 = 1 << 0;
/// Send the connection (`NFQA_CT`, `NFQA_CT_INFO`).
pub const NFQA_CFG_F_CONNTRACK: u32 = 1 << 1;
/// The listener takes GSO packets whole (no segmentation, no checksum
/// completion).
pub const NFQA_CFG_F_GSO: u32 = 1 << 2;
/// Send the socket owner (`NFQA_UID`, `NFQA_GID`).
pub const NFQA_CFG_F_UID_GID: u32 = 1 << 3;
/// Send the security context (`NFQA_SECCTX`).
pub const NFQA_CFG_F_SECCTX: u32 = 1 << 4;
/// The first flag value that does not exist.
pub const NFQA_CFG_F_MAX: u32 = 1 << 5;

// NFQA_SKB_* (bits of NFQA_SKB_INFO).

/// The transport checksum is not filled in yet (`CHECKSUM_PARTIAL`): it
/// looks wrong but is not.
pub const NFQA_SKB_CSUMNOTREADY: u32 = 1 << 0;
/// The packet is GSO: longer than the device MTU.
pub const NFQA_SKB_GSO: u32 = 1 << 1;
/// No device verified the checksums.
pub const NFQA_SKB_CSUM_NOTVERIFIED: u32 = 1 << 2;

// Struct sizes on the wire.

/// `struct nfqnl_msg_packet_hdr`: be32 `packet_id`, be16 `hw_protocol`,
/// u8 `hook`, packed.
pub const PACKET_HDR_LEN: usize = 7;
/// `struct nfqnl_msg_packet_hw`: be16 `hw_addrlen`, u16 pad, 8 bytes
/// `hw_addr`.
pub const PACKET_HW_LEN: usize = 12;
/// `struct nfqnl_msg_packet_timestamp`: be64 `sec`, be64 `usec`.
pub const TIMESTAMP_LEN: usize = 16;
/// `struct nfqnl_msg_verdict_hdr`: be32 `verdict`, be32 `id`.
pub const VERDICT_HDR_LEN: usize = 8;
/// `struct nfqnl_msg_config_cmd`: u8 `command`, u8 pad, be16 `pf`.
pub const CONFIG_CMD_LEN: usize = 4;
/// `struct nfqnl_msg_config_params`: be32 `copy_range`, u8 `copy_mode`,
/// packed.
pub const CONFIG_PARAMS_LEN: usize = 5;

// net/netfilter/nfnetlink_queue.c.

/// The default most packets of a queue (`NFQNL_QMAX_DEFAULT`).
pub const NFQNL_QMAX_DEFAULT: u32 = 1024;
/// The largest copy range: what fits in one attribute
/// (`NFQNL_MAX_COPY_RANGE`, `0xffff - NLA_HDRLEN`).
pub const NFQNL_MAX_COPY_RANGE: u32 = 0xffff - 4;

// Verdicts (`include/uapi/linux/netfilter.h`).

/// Drop the packet.
pub const NF_DROP: u32 = 0;
/// Continue with the next hook entry.
pub const NF_ACCEPT: u32 = 1;
/// The hook took the packet (never a userspace verdict).
pub const NF_STOLEN: u32 = 2;
/// Queue to the queue in the upper 16 bits.
pub const NF_QUEUE: u32 = 3;
/// Call the hook entry that queued the packet again.
pub const NF_REPEAT: u32 = 4;
/// Skip the remaining hook entries of this hook (userspace only).
pub const NF_STOP: u32 = 5;
/// Highest verdict.
pub const NF_MAX_VERDICT: u32 = NF_STOP;
/// The verdict bits of a verdict value.
pub const NF_VERDICT_MASK: u32 = 0x0000_00ff;
/// With `NF_QUEUE`: if no listener is bound, continue instead of dropping.
pub const NF_VERDICT_FLAG_QUEUE_BYPASS: u32 = 0x0000_8000;
/// The queue number bits of an `NF_QUEUE` verdict.
pub const NF_VERDICT_QMASK: u32 = 0xffff_0000;
/// Shift of the queue number in an `NF_QUEUE` verdict.
pub const NF_VERDICT_QBITS: u32 = 16;

/// The verdict queueing to queue `num` (`NF_QUEUE_NR`).
pub const fn nf_queue_nr(num: u16) -> u32 {
    ((num as u32) << NF_VERDICT_QBITS) | NF_QUEUE
}

// enum nf_inet_hooks.

/// Before routing.
pub const NF_INET_PRE_ROUTING: u8 = 0;
/// For the local host.
pub const NF_INET_LOCAL_IN: u8 = 1;
/// Forwarded.
pub const NF_INET_FORWARD: u8 = 2;
/// Sent by the local host.
pub const NF_INET_LOCAL_OUT: u8 = 3;
/// After routing.
pub const NF_INET_POST_ROUTING: u8 = 4;

// NFPROTO_* (the `pf` of a hook, the `nfgen_family` of a PACKET message).

/// Unspecified (`AF_UNSPEC`).
pub const NFPROTO_UNSPEC: u8 = 0;
/// IPv4.
pub const NFPROTO_IPV4: u8 = 2;
/// IPv6.
pub const NFPROTO_IPV6: u8 = 10;

// enum ctattr_type (`nfnetlink_conntrack.h`), for NFQA_CT in verdicts.

/// be32: the connection mark.
pub const CTA_MARK: u16 = 8;
/// be32: the bits of the mark that `CTA_MARK` replaces.
pub const CTA_MARK_MASK: u16 = 21;
/// Highest `CTA_*`.
pub const CTA_MAX: u16 = 26;

// Ethernet protocols (`include/uapi/linux/if_ether.h`).

/// `ETH_P_IP`.
pub const ETH_P_IP: u16 = 0x0800;
/// `ETH_P_IPV6`.
pub const ETH_P_IPV6: u16 = 0x86dd;
