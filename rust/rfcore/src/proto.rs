// SPDX-License-Identifier: GPL-2.0

//! The generic netlink protocol of `include/uapi/linux/rustfilter.h`.
//!
//! The C header is the definition; a host test checks that every value
//! here matches it.

/// Name of the generic netlink family.
pub const GENL_NAME: &str = "rustfilter";
/// Version of the family.
pub const GENL_VERSION: u8 = 1;

/// Return the counters of the caller's namespace.
pub const CMD_GET_STATS: u8 = 1;
/// Zero the counters of the caller's namespace (needs CAP_NET_ADMIN).
pub const CMD_ZERO_STATS: u8 = 2;
/// Start replacing a table (admin).
pub const CMD_TABLE_BEGIN: u8 = 3;
/// Append table attributes to the transaction (admin).
pub const CMD_TABLE_CHUNK: u8 = 4;
/// Validate and publish the transaction's table (admin).
pub const CMD_TABLE_COMMIT: u8 = 5;
/// Drop the transaction (admin).
pub const CMD_TABLE_ABORT: u8 = 6;
/// Read a table with its counters (admin).
pub const CMD_TABLE_GET: u8 = 7;
/// List the connections (admin): `A_CT_ENTRY` nests.
pub const CMD_CT_LIST: u8 = 8;
/// One connection by a tuple of either direction (admin).
pub const CMD_CT_GET: u8 = 9;
/// Delete a connection by a tuple of either direction (admin).
pub const CMD_CT_DELETE: u8 = 10;
/// Delete every connection (admin).
pub const CMD_CT_FLUSH: u8 = 11;
/// The tracker's statistics (admin).
pub const CMD_CT_STATS: u8 = 12;
/// Set the maximum and the timeouts (admin).
pub const CMD_CT_SET: u8 = 13;
/// A connection event, on the `CT_EVENTS_GROUP` multicast group.
pub const CMD_CT_EVENT: u8 = 14;
/// Highest command number.
pub const CMD_MAX: u8 = 14;

/// Padding attribute for 64-bit values.
pub const A_PAD: u16 = 1;
/// Nested per-hook counters (`STATS_*`), one per hook.
pub const A_HOOK_STATS: u16 = 2;
/// string: a table name.
pub const A_TABLE: u16 = 3;
/// u32: a table's generation.
pub const A_GENERATION: u16 = 4;
/// flag: zero the counters read, atomically.
pub const A_ZERO: u16 = 5;
/// flag: validate only.
pub const A_TEST: u16 = 6;
/// flag: take counters from the ruleset.
pub const A_COUNTERS: u16 = 7;
/// flag: rules with `RULE_ORIGIN` and built-in chains with `CHAIN_ORIGIN`
/// keep counting from the generation the transaction is bound to.
pub const A_CARRY: u16 = 8;
/// `nested`: a connection, `CTENTRY_*`.
pub const A_CT_ENTRY: u16 = 9;
/// `nested`: a tuple, `CTTUPLE_*`.
pub const A_CT_TUPLE: u16 = 10;
/// `nested`: statistics, `CTSTATS_*`.
pub const A_CT_STATS: u16 = 11;
/// `u32`: the most connections in the namespace.
pub const A_CT_MAX: u16 = 12;
/// `nested`: timeouts in seconds, `CTTIMEOUT_*`.
pub const A_CT_TIMEOUTS: u16 = 13;
/// `u32`: `CT_EVENT_*`.
pub const A_CT_EVENT: u16 = 14;
/// `u32`: 1 if new connections get the helper of their port.
pub const A_CT_AUTO_HELPER: u16 = 15;
/// Highest top-level attribute.
pub const A_MAX: u16 = 15;

/// The multicast group of connection events.
pub const CT_EVENTS_GROUP: &str = "ct-events";
/// A connection was confirmed.
pub const CT_EVENT_NEW: u32 = 1;
/// A connection left the table.
pub const CT_EVENT_DESTROY: u32 = 2;

/// be32: source address.
pub const CTTUPLE_SRC: u16 = 1;
/// be32: destination address.
pub const CTTUPLE_DST: u16 = 2;
/// u8: IP protocol.
pub const CTTUPLE_PROTO: u16 = 3;
/// u16: source port, or ICMP id.
pub const CTTUPLE_SPORT: u16 = 4;
/// u16: destination port, or ICMP type << 8 | code.
pub const CTTUPLE_DPORT: u16 = 5;
/// Highest tuple attribute.
pub const CTTUPLE_MAX: u16 = 5;

/// Padding.
pub const CTENTRY_PAD: u16 = 1;
/// nested: the original tuple.
pub const CTENTRY_ORIG: u16 = 2;
/// nested: the reply tuple.
pub const CTENTRY_REPLY: u16 = 3;
/// u32: `IPS_*`.
pub const CTENTRY_STATUS: u16 = 4;
/// u32: seconds left.
pub const CTENTRY_TIMEOUT: u16 = 5;
/// u32: the connection mark.
pub const CTENTRY_MARK: u16 = 6;
/// u8: `TCP_CONNTRACK_*`.
pub const CTENTRY_TCP_STATE: u16 = 7;
/// u32: references.
pub const CTENTRY_USE: u16 = 8;
/// string: the helper.
pub const CTENTRY_HELPER: u16 = 9;
/// Highest entry attribute.
pub const CTENTRY_MAX: u16 = 9;

/// Padding.
pub const CTSTATS_PAD: u16 = 1;
/// u32: connections allocated.
pub const CTSTATS_COUNT: u16 = 2;
/// u32: the maximum.
pub const CTSTATS_MAX: u16 = 3;
/// u64: packets of known connections.
pub const CTSTATS_FOUND: u16 = 4;
/// u64: connections made.
pub const CTSTATS_NEW: u16 = 5;
/// u64: packets that could not be tracked.
pub const CTSTATS_INVALID: u16 = 6;
/// u64: confirmations lost to a clash.
pub const CTSTATS_INSERT_FAILED: u16 = 7;
/// u64: packets dropped.
pub const CTSTATS_DROP: u16 = 8;
/// u64: connections evicted to make room.
pub const CTSTATS_EARLY_DROP: u16 = 9;
/// Highest statistics attribute.
pub const CTSTATS_MAX_ATTR: u16 = 9;

/// Timeout attributes (u32 seconds), in `Timeouts` field order.
pub const CTTIMEOUT_TCP_SYN_SENT: u16 = 1;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_SYN_RECV: u16 = 2;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_ESTABLISHED: u16 = 3;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_FIN_WAIT: u16 = 4;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_CLOSE_WAIT: u16 = 5;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_LAST_ACK: u16 = 6;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_TIME_WAIT: u16 = 7;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_CLOSE: u16 = 8;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_RETRANS: u16 = 9;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_TCP_UNACK: u16 = 10;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_UDP_UNREPLIED: u16 = 11;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_UDP_REPLIED: u16 = 12;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_ICMP: u16 = 13;
/// See [`CTTIMEOUT_TCP_SYN_SENT`].
pub const CTTIMEOUT_GENERIC: u16 = 14;
/// Highest timeout attribute.
pub const CTTIMEOUT_MAX: u16 = 14;

/// Padding attribute inside `A_HOOK_STATS`.
pub const STATS_PAD: u16 = 1;
/// u32: the hook number (`NF_INET_PRE_ROUTING` .. `NF_INET_POST_ROUTING`).
pub const STATS_HOOK: u16 = 2;
/// u64: packets seen.
pub const STATS_PACKETS: u16 = 3;
/// u64: bytes seen (IP header and payload).
pub const STATS_BYTES: u16 = 4;
/// u64: packets whose IPv4 header did not parse.
pub const STATS_MALFORMED: u16 = 5;
/// Highest attribute inside `A_HOOK_STATS`.
pub const STATS_MAX: u16 = 5;

// Rulesets (Documentation/ruleset.rst).

// enum rustfilter_table_attr: Attributes of a table (the concatenated ruleset chunks).
/// `string`: filter, mangle, raw, nat.
pub const TABLE_NAME: u16 = 1;
/// `nested`: `CHAIN_*`, repeated.
pub const TABLE_CHAIN: u16 = 2;
/// Highest value of the enum.
pub const TABLE_MAX: u16 = 2;

// enum `CHAIN_*`: Attributes nested in `TABLE_CHAIN`.
/// Padding attribute, skipped by readers.
pub const CHAIN_PAD: u16 = 1;
/// `string`, 1..28 bytes.
pub const CHAIN_NAME: u16 = 2;
/// `u32`: NF_DROP or NF_ACCEPT; built-in chains only.
pub const CHAIN_POLICY: u16 = 3;
/// `flag`: more rules of the previous CHAIN nest.
pub const CHAIN_CONTINUED: u16 = 4;
/// `u64`: policy counter, built-in chains only.
pub const CHAIN_PACKETS: u16 = 5;
/// `u64`.
pub const CHAIN_BYTES: u16 = 6;
/// `nested`: `RULE_*`, repeated, in order.
pub const CHAIN_RULE: u16 = 7;
/// `u32`: with `A_CARRY`, the built-in chain's position in the dump of the
/// bound generation.
pub const CHAIN_ORIGIN: u16 = 8;
/// Highest value of the enum.
pub const CHAIN_MAX: u16 = 8;

// enum `RULE_*`: Attributes nested in `CHAIN_RULE`.
/// Padding attribute, skipped by readers.
pub const RULE_PAD: u16 = 1;
/// `be32` (-s); absent: 0.0.0.0.
pub const RULE_SRC: u16 = 2;
/// `be32`; absent: 0.0.0.0.
pub const RULE_SRC_MASK: u16 = 3;
/// `be32` (-d).
pub const RULE_DST: u16 = 4;
/// `be32`.
pub const RULE_DST_MASK: u16 = 5;
/// `string`, 1..15 bytes, '+' at the end: prefix (-i).
pub const RULE_IN_IFACE: u16 = 6;
/// `string` (-o).
pub const RULE_OUT_IFACE: u16 = 7;
/// `u8`: IP protocol (-p); absent or 0: any.
pub const RULE_PROTO: u16 = 8;
/// `flag`: non-first fragments only (-f).
pub const RULE_FRAGMENT: u16 = 9;
/// `u32`: `INV_*`.
pub const RULE_INVERT: u16 = 10;
/// `nested`: rustfilter_match_attr, repeated.
pub const RULE_MATCH: u16 = 11;
/// `nested`: rustfilter_target_attr; absent: none.
pub const RULE_TARGET: u16 = 12;
/// `u64`: counter.
pub const RULE_PACKETS: u16 = 13;
/// `u64`.
pub const RULE_BYTES: u16 = 14;
/// `u32`: with `A_CARRY`, the rule's position in the dump of the bound
/// generation.
pub const RULE_ORIGIN: u16 = 15;
/// Highest value of the enum.
pub const RULE_MAX: u16 = 15;

// enum rustfilter_match_attr: Attributes nested in `RULE_MATCH`.
/// `u32`: rustfilter_match_kind.
pub const MATCH_KIND: u16 = 1;
/// `nested`: the kind's attributes.
pub const MATCH_OPTS: u16 = 2;
/// Highest value of the enum.
pub const MATCH_MAX: u16 = 2;

// enum rustfilter_target_attr: Attributes nested in `RULE_TARGET`.
/// `u32`: rustfilter_target_kind.
pub const TARGET_KIND: u16 = 1;
/// `nested`: the kind's attributes.
pub const TARGET_OPTS: u16 = 2;
/// Highest value of the enum.
pub const TARGET_MAX: u16 = 2;

// enum rustfilter_match_kind: Match kinds (`MATCH_KIND`).
/// Match `tcp` (options `TCP_*`); needs `-p tcp`.
pub const MT_TCP: u32 = 1;
/// Match `udp` (options `UDP_*`); needs `-p udp`.
pub const MT_UDP: u32 = 2;
/// Match `multiport` (options `MULTIPORT_*`); needs `-p tcp` or `-p udp`.
pub const MT_MULTIPORT: u32 = 3;
/// Match `icmp` (options `ICMP_*`); needs `-p icmp`.
pub const MT_ICMP: u32 = 4;
/// Match `mac` (options `MAC_*`).
pub const MT_MAC: u32 = 5;
/// Match `mark` (options `MARK_*`).
pub const MT_MARK: u32 = 6;
/// Match `tos` (options `TOS_*`).
pub const MT_TOS: u32 = 7;
/// Match `dscp` (options `DSCP_*`).
pub const MT_DSCP: u32 = 8;
/// Match `length` (options `LENGTH_*`).
pub const MT_LENGTH: u32 = 9;
/// Match `limit` (options `LIMIT_*`).
pub const MT_LIMIT: u32 = 10;
/// Match `iprange` (options `IPRANGE_*`).
pub const MT_IPRANGE: u32 = 11;
/// Match `addrtype` (options `ADDRTYPE_*`).
pub const MT_ADDRTYPE: u32 = 12;
/// Match `rpfilter` (options `RPFILTER_*`).
pub const MT_RPFILTER: u32 = 13;
/// Match `conntrack` (options `CONNTRACK_*`).
pub const MT_CONNTRACK: u32 = 14;
/// Match `state` (options `STATE_*`).
pub const MT_STATE: u32 = 15;
/// Match `connmark` (options `CONNMARK_*`).
pub const MT_CONNMARK: u32 = 16;
/// Highest value of the enum.
pub const MT_MAX: u32 = 16;

// enum rustfilter_tcp_attr
/// `u32` port range; absent: 0..65535.
pub const TCP_SPORTS: u16 = 1;
/// `u32` port range.
pub const TCP_DPORTS: u16 = 2;
/// `u8`: flags examined (--tcp-flags mask comp).
pub const TCP_FLAGS_MASK: u16 = 3;
/// `u8`: of those, the ones that must be set.
pub const TCP_FLAGS_COMP: u16 = 4;
/// `u32`: `TCP_INV_*` bits.
pub const TCP_INVERT: u16 = 5;
/// Highest value of the enum.
pub const TCP_MAX: u16 = 5;

// enum rustfilter_udp_attr
/// `u32` port range.
pub const UDP_SPORTS: u16 = 1;
/// `u32` port range.
pub const UDP_DPORTS: u16 = 2;
/// `u32`: RUSTFILTER_TCP_INV_SPORTS, _DPORTS.
pub const UDP_INVERT: u16 = 3;
/// Highest value of the enum.
pub const UDP_MAX: u16 = 3;

// enum rustfilter_multiport_attr
/// `u32`: rustfilter_multiport_mode.
pub const MULTIPORT_MODE: u16 = 1;
/// `u32` port range, repeated; a range uses 2 of 15 slots.
pub const MULTIPORT_RANGE: u16 = 2;
/// `flag`.
pub const MULTIPORT_INVERT: u16 = 3;
/// Highest value of the enum.
pub const MULTIPORT_MAX: u16 = 3;

// enum rustfilter_multiport_mode
/// --sports.
pub const MULTIPORT_SOURCE: u32 = 0;
/// --dports.
pub const MULTIPORT_DESTINATION: u32 = 1;
/// --ports.
pub const MULTIPORT_EITHER: u32 = 2;

// enum rustfilter_icmp_attr
/// `u8`; 255: any.
pub const ICMP_TYPE: u16 = 1;
/// `u8`; absent: 0.
pub const ICMP_CODE_MIN: u16 = 2;
/// `u8`; absent: 255.
pub const ICMP_CODE_MAX: u16 = 3;
/// `flag`.
pub const ICMP_INVERT: u16 = 4;
/// Highest value of the enum.
pub const ICMP_MAX: u16 = 4;

// enum rustfilter_mac_attr
/// `binary`, 6 bytes (--mac-source).
pub const MAC_SOURCE: u16 = 1;
/// `flag`.
pub const MAC_INVERT: u16 = 2;
/// Highest value of the enum.
pub const MAC_MAX: u16 = 2;

// enum rustfilter_mark_attr
/// `u32`.
pub const MARK_VALUE: u16 = 1;
/// `u32`; absent: 0xffffffff.
pub const MARK_MASK: u16 = 2;
/// `flag`.
pub const MARK_INVERT: u16 = 3;
/// Highest value of the enum.
pub const MARK_MAX: u16 = 3;

// enum rustfilter_tos_attr
/// `u8`.
pub const TOS_VALUE: u16 = 1;
/// `u8`; absent: 0xff.
pub const TOS_MASK: u16 = 2;
/// `flag`.
pub const TOS_INVERT: u16 = 3;
/// Highest value of the enum.
pub const TOS_MAX: u16 = 3;

// enum rustfilter_dscp_attr
/// `u8`: 0..63.
pub const DSCP_VALUE: u16 = 1;
/// `flag`.
pub const DSCP_INVERT: u16 = 2;
/// Highest value of the enum.
pub const DSCP_MAX: u16 = 2;

// enum rustfilter_length_attr
/// `u32`: min << 16 | max, of the IP total length.
pub const LENGTH_RANGE: u16 = 1;
/// `flag`.
pub const LENGTH_INVERT: u16 = 2;
/// Highest value of the enum.
pub const LENGTH_MAX: u16 = 2;

// enum rustfilter_limit_attr
/// `u32`: mean interval, 1/RUSTFILTER_LIMIT_SCALE s.
pub const LIMIT_AVG: u16 = 1;
/// `u32`: 1..10000; absent: 5.
pub const LIMIT_BURST: u16 = 2;
/// Highest value of the enum.
pub const LIMIT_MAX: u16 = 2;

// enum rustfilter_iprange_attr
/// `be32` (--src-range min-max).
pub const IPRANGE_SRC_MIN: u16 = 1;
/// `be32`.
pub const IPRANGE_SRC_MAX: u16 = 2;
/// `be32` (--dst-range).
pub const IPRANGE_DST_MIN: u16 = 3;
/// `be32`.
pub const IPRANGE_DST_MAX: u16 = 4;
/// `u32`: `IPRANGE_INV_*` bits.
pub const IPRANGE_INVERT: u16 = 5;
/// Highest value of the enum.
pub const IPRANGE_MAX: u16 = 5;

// enum rustfilter_addrtype_attr
/// `u32`: bit (1 << RTN_*) per type (--src-type).
pub const ADDRTYPE_SRC: u16 = 1;
/// `u32` (--dst-type).
pub const ADDRTYPE_DST: u16 = 2;
/// `u32`: `ADDRTYPE_F_*` bits.
pub const ADDRTYPE_FLAGS: u16 = 3;
/// Highest value of the enum.
pub const ADDRTYPE_MAX: u16 = 3;

// enum rustfilter_rpfilter_attr
/// `u32`: `RPFILTER_F_*` bits.
pub const RPFILTER_FLAGS: u16 = 1;
/// Highest value of the enum.
pub const RPFILTER_MAX: u16 = 1;

// enum rustfilter_target_kind: Target kinds (`TARGET_KIND`).
/// ACCEPT: stop and let the packet pass.
pub const TG_ACCEPT: u32 = 1;
/// DROP: stop and drop the packet.
pub const TG_DROP: u32 = 2;
/// RETURN: continue after the jump into this chain.
pub const TG_RETURN: u32 = 3;
/// Target `-j chain` (option `JUMP_CHAIN`).
pub const TG_JUMP: u32 = 4;
/// Target `-g chain` (option `JUMP_CHAIN`).
pub const TG_GOTO: u32 = 5;
/// Target REJECT (options `REJECT_*`); filter table.
pub const TG_REJECT: u32 = 6;
/// Target LOG (options `LOG_*`).
pub const TG_LOG: u32 = 7;
/// Target MARK (options `SETMARK_*`).
pub const TG_MARK: u32 = 8;
/// Target TOS (options `SETTOS_*`); mangle table.
pub const TG_TOS: u32 = 9;
/// Target DSCP (option `SETDSCP_VALUE`); mangle table.
pub const TG_DSCP: u32 = 10;
/// Target CT, and NOTRACK (options `CT_*`); raw table.
pub const TG_CT: u32 = 11;
/// Target CONNMARK (options `CONNMARK_TG_*`).
pub const TG_CONNMARK: u32 = 12;
/// Target SNAT (options `NAT_*`).
pub const TG_SNAT: u32 = 13;
/// Target DNAT (options `NAT_*`).
pub const TG_DNAT: u32 = 14;
/// Target MASQUERADE (options `NAT_*`, no addresses).
pub const TG_MASQUERADE: u32 = 15;
/// Target REDIRECT (options `NAT_*`, no addresses).
pub const TG_REDIRECT: u32 = 16;
/// Target NFQUEUE (options `NFQUEUE_*`); not in the nat table.
pub const TG_NFQUEUE: u32 = 17;
/// Target QUEUE (no options): queue 0, iptables' standard verdict; not
/// in the nat table.
pub const TG_QUEUE: u32 = 18;
/// Highest value of the enum.
pub const TG_MAX: u32 = 18;

// enum rustfilter_jump_attr
/// `string`: a user-defined chain.
pub const JUMP_CHAIN: u16 = 1;
/// Highest value of the enum.
pub const JUMP_MAX: u16 = 1;

// enum rustfilter_reject_attr
/// `u32`: a `REJECT_*` value; absent: port unreachable.
pub const REJECT_WITH: u16 = 1;
/// Highest value of the enum.
pub const REJECT_MAX: u16 = 1;

// enum rustfilter_reject_with
/// `icmp-net-unreachable`.
pub const REJECT_NET_UNREACHABLE: u32 = 0;
/// `icmp-host-unreachable`.
pub const REJECT_HOST_UNREACHABLE: u32 = 1;
/// `icmp-proto-unreachable`.
pub const REJECT_PROTO_UNREACHABLE: u32 = 2;
/// `icmp-port-unreachable`, the default.
pub const REJECT_PORT_UNREACHABLE: u32 = 3;
/// `icmp-net-prohibited`.
pub const REJECT_NET_PROHIBITED: u32 = 5;
/// `icmp-host-prohibited`.
pub const REJECT_HOST_PROHIBITED: u32 = 6;
/// `tcp-reset`; needs `-p tcp`.
pub const REJECT_TCP_RESET: u32 = 7;
/// `icmp-admin-prohibited`.
pub const REJECT_ADMIN_PROHIBITED: u32 = 8;

// enum rustfilter_log_attr
/// `string`, up to 29 bytes.
pub const LOG_PREFIX: u16 = 1;
/// `u8`: 0..7; absent: 4 (warning).
pub const LOG_LEVEL: u16 = 2;
/// `u32`: `LOG_F_*` bits.
pub const LOG_FLAGS: u16 = 3;
/// Highest value of the enum.
pub const LOG_MAX: u16 = 3;

// enum rustfilter_setmark_attr
/// `u32`.
pub const SETMARK_VALUE: u16 = 1;
/// `u32`.
pub const SETMARK_MASK: u16 = 2;
/// Highest value of the enum.
pub const SETMARK_MAX: u16 = 2;

// enum rustfilter_settos_attr
/// `u8`.
pub const SETTOS_VALUE: u16 = 1;
/// `u8`.
pub const SETTOS_MASK: u16 = 2;
/// Highest value of the enum.
pub const SETTOS_MAX: u16 = 2;

// enum rustfilter_setdscp_attr
/// `u8`: 0..63.
pub const SETDSCP_VALUE: u16 = 1;
/// Highest value of the enum.
pub const SETDSCP_MAX: u16 = 1;

// enum rustfilter_conntrack_attr: each attribute present is an option given.
/// `u32`: `CTSTATE_*` bits (--ctstate).
pub const CONNTRACK_STATE: u16 = 1;
/// `u8`: the entry's layer-4 protocol (--ctproto).
pub const CONNTRACK_PROTO: u16 = 2;
/// `be32` (--ctorigsrc addr[/mask]).
pub const CONNTRACK_ORIGSRC: u16 = 3;
/// `be32`; absent: 255.255.255.255.
pub const CONNTRACK_ORIGSRC_MASK: u16 = 4;
/// `be32` (--ctorigdst).
pub const CONNTRACK_ORIGDST: u16 = 5;
/// `be32`.
pub const CONNTRACK_ORIGDST_MASK: u16 = 6;
/// `be32` (--ctreplsrc).
pub const CONNTRACK_REPLSRC: u16 = 7;
/// `be32`.
pub const CONNTRACK_REPLSRC_MASK: u16 = 8;
/// `be32` (--ctrepldst).
pub const CONNTRACK_REPLDST: u16 = 9;
/// `be32`.
pub const CONNTRACK_REPLDST_MASK: u16 = 10;
/// `u32` port range (--ctorigsrcport); first may exceed last.
pub const CONNTRACK_ORIGSRC_PORT: u16 = 11;
/// `u32` port range (--ctorigdstport).
pub const CONNTRACK_ORIGDST_PORT: u16 = 12;
/// `u32` port range (--ctreplsrcport).
pub const CONNTRACK_REPLSRC_PORT: u16 = 13;
/// `u32` port range (--ctrepldstport).
pub const CONNTRACK_REPLDST_PORT: u16 = 14;
/// `u32`: `CTSTATUS_*` bits (--ctstatus).
pub const CONNTRACK_STATUS: u16 = 15;
/// `u32`: seconds left (--ctexpire min[:max]).
pub const CONNTRACK_EXPIRES_MIN: u16 = 16;
/// `u32`; absent: the minimum.
pub const CONNTRACK_EXPIRES_MAX: u16 = 17;
/// `u32`: `CTDIR_*` (--ctdir).
pub const CONNTRACK_DIR: u16 = 18;
/// `u32`: `CONNTRACK_F_*` bits of the options inverted; not `_DIRECTION`.
pub const CONNTRACK_INVERT: u16 = 19;
/// Highest value of the enum.
pub const CONNTRACK_MAX: u16 = 19;

// enum rustfilter_ctdir, as enum ip_conntrack_dir
/// `--ctdir ORIGINAL`.
pub const CTDIR_ORIGINAL: u32 = 0;
/// `--ctdir REPLY`.
pub const CTDIR_REPLY: u32 = 1;

// enum rustfilter_state_attr
/// `u32`: `CTSTATE_*` bits but SNAT and DNAT; required (--state).
pub const STATE_MASK: u16 = 1;
/// `flag`.
pub const STATE_INVERT: u16 = 2;
/// Highest value of the enum.
pub const STATE_MAX: u16 = 2;

// enum rustfilter_connmark_attr
/// `u32`; required.
pub const CONNMARK_VALUE: u16 = 1;
/// `u32`; absent: 0xffffffff.
pub const CONNMARK_MASK: u16 = 2;
/// `flag`.
pub const CONNMARK_INVERT: u16 = 3;
/// Highest value of the enum.
pub const CONNMARK_MAX: u16 = 3;

// enum rustfilter_ct_attr
/// `u32`: `CT_F_*` bits.
pub const CT_FLAGS: u16 = 1;
/// `string`: "ftp" (needs -p tcp) or "tftp" (-p udp).
pub const CT_HELPER: u16 = 2;
/// Highest value of the enum.
pub const CT_MAX: u16 = 2;

// enum rustfilter_connmark_tg_attr
/// `u32`: a `CONNMARK_SET`/`_SAVE`/`_RESTORE` mode; required.
pub const CONNMARK_TG_MODE: u16 = 1;
/// `u32`; absent: 0.
pub const CONNMARK_TG_CTMARK: u16 = 2;
/// `u32`; absent: 0xffffffff.
pub const CONNMARK_TG_CTMASK: u16 = 3;
/// `u32`; absent: 0xffffffff.
pub const CONNMARK_TG_NFMASK: u16 = 4;
/// Highest value of the enum.
pub const CONNMARK_TG_MAX: u16 = 4;

// enum rustfilter_connmark_mode, as XT_CONNMARK_*
/// `ctmark = (ctmark & !CTMASK) ^ CTMARK`.
pub const CONNMARK_SET: u32 = 0;
/// `ctmark = (ctmark & !CTMASK) ^ (mark & NFMASK)`.
pub const CONNMARK_SAVE: u32 = 1;
/// `mark = (mark & !NFMASK) ^ (ctmark & CTMASK)`.
pub const CONNMARK_RESTORE: u32 = 2;
/// `! -i`.
pub const INV_IN_IFACE: u32 = 0x1;
/// `! -o`.
pub const INV_OUT_IFACE: u32 = 0x2;
/// `! -s`.
pub const INV_SRC: u32 = 0x8;
/// `! -d`.
pub const INV_DST: u32 = 0x10;
/// `! -f`.
pub const INV_FRAGMENT: u32 = 0x20;
/// `! -p`.
pub const INV_PROTO: u32 = 0x40;
/// Every `INV_*` bit.
pub const INV_MASK: u32 = 0x7b;
/// `! --sport`.
pub const TCP_INV_SPORTS: u32 = 0x1;
/// `! --dport`.
pub const TCP_INV_DPORTS: u32 = 0x2;
/// `! --tcp-flags` (and `! --syn`).
pub const TCP_INV_FLAGS: u32 = 0x4;
/// Units of `LIMIT_AVG` per second, as `XT_LIMIT_SCALE`.
pub const LIMIT_SCALE: u32 = 10000;
/// `! --src-range`.
pub const IPRANGE_INV_SRC: u32 = 0x1;
/// `! --dst-range`.
pub const IPRANGE_INV_DST: u32 = 0x2;
/// `! --src-type` (the flags are `XT_ADDRTYPE_*`).
pub const ADDRTYPE_F_INVERT_SRC: u32 = 0x1;
/// `! --dst-type`.
pub const ADDRTYPE_F_INVERT_DST: u32 = 0x2;
/// `--limit-iface-in`.
pub const ADDRTYPE_F_LIMIT_IFACE_IN: u32 = 0x4;
/// `--limit-iface-out`.
pub const ADDRTYPE_F_LIMIT_IFACE_OUT: u32 = 0x8;
/// `--loose` (the flags are `XT_RPFILTER_*`).
pub const RPFILTER_F_LOOSE: u32 = 0x1;
/// `--validmark`.
pub const RPFILTER_F_VALID_MARK: u32 = 0x2;
/// `--accept-local`.
pub const RPFILTER_F_ACCEPT_LOCAL: u32 = 0x4;
/// `--invert`.
pub const RPFILTER_F_INVERT: u32 = 0x8;
/// `--log-tcp-sequence` (the flags are `NF_LOG_*`).
pub const LOG_F_TCPSEQ: u32 = 0x1;
/// `--log-tcp-options`.
pub const LOG_F_TCPOPT: u32 = 0x2;
/// `--log-ip-options`.
pub const LOG_F_IPOPT: u32 = 0x4;
/// `--log-uid`.
pub const LOG_F_UID: u32 = 0x8;
/// `--log-macdecode`.
pub const LOG_F_MACDECODE: u32 = 0x20;
/// `INVALID` (the states are `xt_conntrack`'s `state_mask` bits).
pub const CTSTATE_INVALID: u32 = 0x1;
/// `ESTABLISHED`: `XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)`.
pub const CTSTATE_ESTABLISHED: u32 = 0x2;
/// `RELATED`: `XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)`.
pub const CTSTATE_RELATED: u32 = 0x4;
/// `NEW`: `XT_CONNTRACK_STATE_BIT(IP_CT_NEW)`.
pub const CTSTATE_NEW: u32 = 0x8;
/// `SNAT`: the entry has `IPS_SRC_NAT`.
pub const CTSTATE_SNAT: u32 = 0x40;
/// `DNAT`: the entry has `IPS_DST_NAT`.
pub const CTSTATE_DNAT: u32 = 0x80;
/// `UNTRACKED`.
pub const CTSTATE_UNTRACKED: u32 = 0x100;
/// `EXPECTED` (the status bits are `IPS_*`).
pub const CTSTATUS_EXPECTED: u32 = 0x1;
/// `SEEN_REPLY`.
pub const CTSTATUS_SEEN_REPLY: u32 = 0x2;
/// `ASSURED`.
pub const CTSTATUS_ASSURED: u32 = 0x4;
/// `CONFIRMED`.
pub const CTSTATUS_CONFIRMED: u32 = 0x8;
/// `--ctstate` (the flags are `XT_CONNTRACK_*`).
pub const CONNTRACK_F_STATE: u32 = 0x1;
/// `--ctproto`.
pub const CONNTRACK_F_PROTO: u32 = 0x2;
/// `--ctorigsrc`.
pub const CONNTRACK_F_ORIGSRC: u32 = 0x4;
/// `--ctorigdst`.
pub const CONNTRACK_F_ORIGDST: u32 = 0x8;
/// `--ctreplsrc`.
pub const CONNTRACK_F_REPLSRC: u32 = 0x10;
/// `--ctrepldst`.
pub const CONNTRACK_F_REPLDST: u32 = 0x20;
/// `--ctstatus`.
pub const CONNTRACK_F_STATUS: u32 = 0x40;
/// `--ctexpire`.
pub const CONNTRACK_F_EXPIRES: u32 = 0x80;
/// `--ctorigsrcport`.
pub const CONNTRACK_F_ORIGSRC_PORT: u32 = 0x100;
/// `--ctorigdstport`.
pub const CONNTRACK_F_ORIGDST_PORT: u32 = 0x200;
/// `--ctreplsrcport`.
pub const CONNTRACK_F_REPLSRC_PORT: u32 = 0x400;
/// `--ctrepldstport`.
pub const CONNTRACK_F_REPLDST_PORT: u32 = 0x800;
/// `--ctdir` (never inverted: the direction says which).
pub const CONNTRACK_F_DIRECTION: u32 = 0x1000;
/// `--notrack` (as `XT_CT_NOTRACK`).
pub const CT_F_NOTRACK: u32 = 0x1;
/// Written as `-j NOTRACK` (as `XT_CT_NOTRACK_ALIAS`): with `CT_F_NOTRACK`
/// and no helper.
pub const CT_F_NOTRACK_ALIAS: u32 = 0x2;

// enum rustfilter_nat_attr
/// `u32`: `NAT_F_*` bits.
pub const NAT_FLAGS: u16 = 1;
/// `be32`: the lowest address of the range.
pub const NAT_MIN_ADDR: u16 = 2;
/// `be32`: the highest address; absent: `NAT_MIN_ADDR`.
pub const NAT_MAX_ADDR: u16 = 3;
/// `u16`: the lowest port of the range (host order, not 0).
pub const NAT_MIN_PORT: u16 = 4;
/// `u16`: the highest port; absent: `NAT_MIN_PORT`.
pub const NAT_MAX_PORT: u16 = 5;
/// Highest NAT attribute.
pub const NAT_MAX: u16 = 5;
/// `--random`: the port is picked at random (`NF_NAT_RANGE_PROTO_RANDOM`).
pub const NAT_F_RANDOM: u32 = 0x1;
/// `--persistent`: a client gets the same address for every connection.
pub const NAT_F_PERSISTENT: u32 = 0x2;
/// `--random-fully`: even a free original port is replaced by a random one.
pub const NAT_F_RANDOM_FULLY: u32 = 0x4;

// enum rustfilter_nfqueue_attr
/// `u16`: the queue, or the first of the balanced range; absent: 0.
pub const NFQUEUE_NUM: u16 = 1;
/// `u16`: how many queues from `NFQUEUE_NUM` (at least 1); absent: 1.
pub const NFQUEUE_TOTAL: u16 = 2;
/// `u32`: `NFQUEUE_F_*` bits.
pub const NFQUEUE_FLAGS: u16 = 3;
/// Highest NFQUEUE attribute.
pub const NFQUEUE_MAX: u16 = 3;
/// `--queue-bypass`: without a listener on the queue the packet goes on
/// (`NFQ_FLAG_BYPASS`).
pub const NFQUEUE_F_BYPASS: u32 = 0x1;
/// `--queue-cpu-fanout`: the queue is chosen by the CPU, not by a hash
/// (`NFQ_FLAG_CPU_FANOUT`); needs more than one queue.
pub const NFQUEUE_F_CPU_FANOUT: u32 = 0x2;

/// The five IPv4 hooks, numbered as `enum nf_inet_hooks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Hook {
    /// `NF_INET_PRE_ROUTING`: every packet arriving, before routing.
    PreRouting = 0,
    /// `NF_INET_LOCAL_IN`: packets for this host.
    LocalIn = 1,
    /// `NF_INET_FORWARD`: packets routed through this host.
    Forward = 2,
    /// `NF_INET_LOCAL_OUT`: packets generated by this host.
    LocalOut = 3,
    /// `NF_INET_POST_ROUTING`: every packet leaving, after routing.
    PostRouting = 4,
}

impl Hook {
    /// All hooks in packet-path order.
    pub const ALL: [Hook; 5] = [
        Hook::PreRouting,
        Hook::LocalIn,
        Hook::Forward,
        Hook::LocalOut,
        Hook::PostRouting,
    ];

    /// Number of hooks.
    pub const COUNT: usize = 5;

    /// The hook with netfilter number `n`, if there is one.
    pub fn from_number(n: u32) -> Option<Hook> {
        Self::ALL.get(n as usize).copied()
    }

    /// Netfilter's number of the hook.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The chain name iptables uses for the hook.
    pub fn name(self) -> &'static str {
        match self {
            Hook::PreRouting => "PREROUTING",
            Hook::LocalIn => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::LocalOut => "OUTPUT",
            Hook::PostRouting => "POSTROUTING",
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// Values of the enumerators in the uapi header, in order of appearance.
    fn c_enum(header: &str, name: &str) -> Vec<(String, u32)> {
        let start = header.find(&std::format!("enum {name} {{")).expect(name);
        let body = &header[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("};").unwrap()];
        // Drop comments, which may span lines.
        let mut text = String::new();
        let mut rest = body;
        while let Some(open) = rest.find("/*") {
            text.push_str(&rest[..open]);
            let close = rest[open..].find("*/").unwrap();
            rest = &rest[open + close + 2..];
        }
        text.push_str(rest);
        let mut next = 0;
        text.lines()
            .map(|l| l.trim().trim_end_matches(','))
            .filter(|l| !l.is_empty())
            .map(|l| {
                // `NAME` takes the next value, `NAME = n` takes n.
                let (name, v) = match l.split_once('=') {
                    Some((n, v)) => (n.trim(), v.trim().parse().unwrap()),
                    None => (l, next),
                };
                next = v + 1;
                (String::from(name), v)
            })
            .collect()
    }

    /// Value of `#define name value` in the header.
    fn c_define(header: &str, name: &str) -> u32 {
        let line = header
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name) && l.starts_with("#define"))
            .expect(name);
        let v = line.split_whitespace().nth(2).unwrap();
        match v.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
            None => v.parse().unwrap(),
        }
    }

    fn value(list: &[(String, u32)], name: &str) -> u32 {
        list.iter().find(|(n, _)| n == name).expect(name).1
    }

    #[test]
    fn matches_uapi_header() {
        let header = include_str!("../../../include/uapi/linux/rustfilter.h");
        assert!(header.contains(&std::format!(
            "#define RUSTFILTER_GENL_NAME\t\"{GENL_NAME}\""
        )));
        assert!(header.contains(&std::format!(
            "#define RUSTFILTER_GENL_VERSION\t{GENL_VERSION}"
        )));
        let cmd = c_enum(header, "rustfilter_cmd");
        assert_eq!(
            value(&cmd, "RUSTFILTER_CMD_GET_STATS"),
            CMD_GET_STATS.into()
        );
        assert_eq!(
            value(&cmd, "RUSTFILTER_CMD_ZERO_STATS"),
            CMD_ZERO_STATS.into()
        );
        for (name, v) in [
            ("RUSTFILTER_CMD_TABLE_BEGIN", CMD_TABLE_BEGIN),
            ("RUSTFILTER_CMD_TABLE_CHUNK", CMD_TABLE_CHUNK),
            ("RUSTFILTER_CMD_TABLE_COMMIT", CMD_TABLE_COMMIT),
            ("RUSTFILTER_CMD_TABLE_ABORT", CMD_TABLE_ABORT),
            ("RUSTFILTER_CMD_TABLE_GET", CMD_TABLE_GET),
        ] {
            assert_eq!(value(&cmd, name), v.into(), "{name}");
        }
        for (name, v) in [
            ("RUSTFILTER_A_TABLE", A_TABLE),
            ("RUSTFILTER_A_GENERATION", A_GENERATION),
            ("RUSTFILTER_A_ZERO", A_ZERO),
            ("RUSTFILTER_A_TEST", A_TEST),
            ("RUSTFILTER_A_COUNTERS", A_COUNTERS),
            ("RUSTFILTER_A_CARRY", A_CARRY),
        ] {
            assert_eq!(
                value(&c_enum(header, "rustfilter_attr"), name),
                v.into(),
                "{name}"
            );
        }
        assert_eq!(value(&cmd, "__RUSTFILTER_CMD_MAX") - 1, CMD_MAX.into());
        let a = c_enum(header, "rustfilter_attr");
        assert_eq!(value(&a, "RUSTFILTER_A_PAD"), A_PAD.into());
        assert_eq!(value(&a, "RUSTFILTER_A_HOOK_STATS"), A_HOOK_STATS.into());
        assert_eq!(value(&a, "__RUSTFILTER_A_MAX") - 1, A_MAX.into());
        let s = c_enum(header, "rustfilter_stats_attr");
        assert_eq!(value(&s, "RUSTFILTER_STATS_PAD"), STATS_PAD.into());
        assert_eq!(value(&s, "RUSTFILTER_STATS_HOOK"), STATS_HOOK.into());
        assert_eq!(value(&s, "RUSTFILTER_STATS_PACKETS"), STATS_PACKETS.into());
        assert_eq!(value(&s, "RUSTFILTER_STATS_BYTES"), STATS_BYTES.into());
        assert_eq!(
            value(&s, "RUSTFILTER_STATS_MALFORMED"),
            STATS_MALFORMED.into()
        );
        assert_eq!(value(&s, "__RUSTFILTER_STATS_MAX") - 1, STATS_MAX.into());
    }

    #[test]
    fn conntrack_matches_uapi_header() {
        let header = include_str!("../../../include/uapi/linux/rustfilter.h");
        let v = |e: &str, n: &str| value(&c_enum(header, e), n);
        for (name, c) in [
            ("RUSTFILTER_CMD_CT_LIST", CMD_CT_LIST),
            ("RUSTFILTER_CMD_CT_GET", CMD_CT_GET),
            ("RUSTFILTER_CMD_CT_DELETE", CMD_CT_DELETE),
            ("RUSTFILTER_CMD_CT_FLUSH", CMD_CT_FLUSH),
            ("RUSTFILTER_CMD_CT_STATS", CMD_CT_STATS),
            ("RUSTFILTER_CMD_CT_SET", CMD_CT_SET),
            ("RUSTFILTER_CMD_CT_EVENT", CMD_CT_EVENT),
        ] {
            assert_eq!(v("rustfilter_cmd", name), c.into(), "{name}");
        }
        let list = |e: &str, items: &[(&str, u16)], max: &str, m: u16| {
            for (name, c) in items {
                assert_eq!(v(e, name), u32::from(*c), "{name}");
            }
            assert_eq!(v(e, max) - 1, m.into(), "{max}");
        };
        list(
            "rustfilter_attr",
            &[
                ("RUSTFILTER_A_CT_ENTRY", A_CT_ENTRY),
                ("RUSTFILTER_A_CT_TUPLE", A_CT_TUPLE),
                ("RUSTFILTER_A_CT_STATS", A_CT_STATS),
                ("RUSTFILTER_A_CT_MAX", A_CT_MAX),
                ("RUSTFILTER_A_CT_TIMEOUTS", A_CT_TIMEOUTS),
                ("RUSTFILTER_A_CT_EVENT", A_CT_EVENT),
                ("RUSTFILTER_A_CT_AUTO_HELPER", A_CT_AUTO_HELPER),
            ],
            "__RUSTFILTER_A_MAX",
            A_MAX,
        );
        list(
            "rustfilter_cttuple_attr",
            &[
                ("RUSTFILTER_CTTUPLE_SRC", CTTUPLE_SRC),
                ("RUSTFILTER_CTTUPLE_DST", CTTUPLE_DST),
                ("RUSTFILTER_CTTUPLE_PROTO", CTTUPLE_PROTO),
                ("RUSTFILTER_CTTUPLE_SPORT", CTTUPLE_SPORT),
                ("RUSTFILTER_CTTUPLE_DPORT", CTTUPLE_DPORT),
            ],
            "__RUSTFILTER_CTTUPLE_MAX",
            CTTUPLE_MAX,
        );
        list(
            "rustfilter_ctentry_attr",
            &[
                ("RUSTFILTER_CTENTRY_PAD", CTENTRY_PAD),
                ("RUSTFILTER_CTENTRY_ORIG", CTENTRY_ORIG),
                ("RUSTFILTER_CTENTRY_REPLY", CTENTRY_REPLY),
                ("RUSTFILTER_CTENTRY_STATUS", CTENTRY_STATUS),
                ("RUSTFILTER_CTENTRY_TIMEOUT", CTENTRY_TIMEOUT),
                ("RUSTFILTER_CTENTRY_MARK", CTENTRY_MARK),
                ("RUSTFILTER_CTENTRY_TCP_STATE", CTENTRY_TCP_STATE),
                ("RUSTFILTER_CTENTRY_USE", CTENTRY_USE),
                ("RUSTFILTER_CTENTRY_HELPER", CTENTRY_HELPER),
            ],
            "__RUSTFILTER_CTENTRY_MAX",
            CTENTRY_MAX,
        );
        list(
            "rustfilter_ctstats_attr",
            &[
                ("RUSTFILTER_CTSTATS_PAD", CTSTATS_PAD),
                ("RUSTFILTER_CTSTATS_COUNT", CTSTATS_COUNT),
                ("RUSTFILTER_CTSTATS_MAX", CTSTATS_MAX),
                ("RUSTFILTER_CTSTATS_FOUND", CTSTATS_FOUND),
                ("RUSTFILTER_CTSTATS_NEW", CTSTATS_NEW),
                ("RUSTFILTER_CTSTATS_INVALID", CTSTATS_INVALID),
                ("RUSTFILTER_CTSTATS_INSERT_FAILED", CTSTATS_INSERT_FAILED),
                ("RUSTFILTER_CTSTATS_DROP", CTSTATS_DROP),
                ("RUSTFILTER_CTSTATS_EARLY_DROP", CTSTATS_EARLY_DROP),
            ],
            "__RUSTFILTER_CTSTATS_MAX_ATTR",
            CTSTATS_MAX_ATTR,
        );
        list(
            "rustfilter_cttimeout_attr",
            &[
                ("RUSTFILTER_CTTIMEOUT_TCP_SYN_SENT", CTTIMEOUT_TCP_SYN_SENT),
                ("RUSTFILTER_CTTIMEOUT_TCP_SYN_RECV", CTTIMEOUT_TCP_SYN_RECV),
                (
                    "RUSTFILTER_CTTIMEOUT_TCP_ESTABLISHED",
                    CTTIMEOUT_TCP_ESTABLISHED,
                ),
                ("RUSTFILTER_CTTIMEOUT_TCP_FIN_WAIT", CTTIMEOUT_TCP_FIN_WAIT),
                (
                    "RUSTFILTER_CTTIMEOUT_TCP_CLOSE_WAIT",
                    CTTIMEOUT_TCP_CLOSE_WAIT,
                ),
                ("RUSTFILTER_CTTIMEOUT_TCP_LAST_ACK", CTTIMEOUT_TCP_LAST_ACK),
                (
                    "RUSTFILTER_CTTIMEOUT_TCP_TIME_WAIT",
                    CTTIMEOUT_TCP_TIME_WAIT,
                ),
                ("RUSTFILTER_CTTIMEOUT_TCP_CLOSE", CTTIMEOUT_TCP_CLOSE),
                ("RUSTFILTER_CTTIMEOUT_TCP_RETRANS", CTTIMEOUT_TCP_RETRANS),
                ("RUSTFILTER_CTTIMEOUT_TCP_UNACK", CTTIMEOUT_TCP_UNACK),
                (
                    "RUSTFILTER_CTTIMEOUT_UDP_UNREPLIED",
                    CTTIMEOUT_UDP_UNREPLIED,
                ),
                ("RUSTFILTER_CTTIMEOUT_UDP_REPLIED", CTTIMEOUT_UDP_REPLIED),
                ("RUSTFILTER_CTTIMEOUT_ICMP", CTTIMEOUT_ICMP),
                ("RUSTFILTER_CTTIMEOUT_GENERIC", CTTIMEOUT_GENERIC),
            ],
            "__RUSTFILTER_CTTIMEOUT_MAX",
            CTTIMEOUT_MAX,
        );
        assert!(header.contains(&std::format!(
            "#define RUSTFILTER_CT_EVENTS_GROUP\t\"{CT_EVENTS_GROUP}\""
        )));
        assert!(header.contains(&std::format!(
            "#define RUSTFILTER_CT_EVENT_NEW\t\t{CT_EVENT_NEW}"
        )));
        assert!(header.contains(&std::format!(
            "#define RUSTFILTER_CT_EVENT_DESTROY\t{CT_EVENT_DESTROY}"
        )));
    }

    #[test]
    fn ruleset_matches_uapi_header() {
        let header = include_str!("../../../include/uapi/linux/rustfilter.h");
        let v = |e: &str, n: &str| value(&c_enum(header, e), n);
        assert_eq!(
            v("rustfilter_table_attr", "RUSTFILTER_TABLE_NAME"),
            TABLE_NAME.into()
        );
        assert_eq!(
            v("rustfilter_table_attr", "RUSTFILTER_TABLE_CHAIN"),
            TABLE_CHAIN.into()
        );
        assert_eq!(
            v("rustfilter_table_attr", "__RUSTFILTER_TABLE_MAX") - 1,
            TABLE_MAX.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_PAD"),
            CHAIN_PAD.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_NAME"),
            CHAIN_NAME.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_POLICY"),
            CHAIN_POLICY.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_CONTINUED"),
            CHAIN_CONTINUED.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_PACKETS"),
            CHAIN_PACKETS.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_BYTES"),
            CHAIN_BYTES.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_RULE"),
            CHAIN_RULE.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "RUSTFILTER_CHAIN_ORIGIN"),
            CHAIN_ORIGIN.into()
        );
        assert_eq!(
            v("rustfilter_chain_attr", "__RUSTFILTER_CHAIN_MAX") - 1,
            CHAIN_MAX.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_PAD"),
            RULE_PAD.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_SRC"),
            RULE_SRC.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_SRC_MASK"),
            RULE_SRC_MASK.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_DST"),
            RULE_DST.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_DST_MASK"),
            RULE_DST_MASK.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_IN_IFACE"),
            RULE_IN_IFACE.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_OUT_IFACE"),
            RULE_OUT_IFACE.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_PROTO"),
            RULE_PROTO.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_FRAGMENT"),
            RULE_FRAGMENT.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_INVERT"),
            RULE_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_MATCH"),
            RULE_MATCH.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_TARGET"),
            RULE_TARGET.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_PACKETS"),
            RULE_PACKETS.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_BYTES"),
            RULE_BYTES.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "RUSTFILTER_RULE_ORIGIN"),
            RULE_ORIGIN.into()
        );
        assert_eq!(
            v("rustfilter_rule_attr", "__RUSTFILTER_RULE_MAX") - 1,
            RULE_MAX.into()
        );
        assert_eq!(
            v("rustfilter_match_attr", "RUSTFILTER_MATCH_KIND"),
            MATCH_KIND.into()
        );
        assert_eq!(
            v("rustfilter_match_attr", "RUSTFILTER_MATCH_OPTS"),
            MATCH_OPTS.into()
        );
        assert_eq!(
            v("rustfilter_match_attr", "__RUSTFILTER_MATCH_MAX") - 1,
            MATCH_MAX.into()
        );
        assert_eq!(
            v("rustfilter_target_attr", "RUSTFILTER_TARGET_KIND"),
            TARGET_KIND.into()
        );
        assert_eq!(
            v("rustfilter_target_attr", "RUSTFILTER_TARGET_OPTS"),
            TARGET_OPTS.into()
        );
        assert_eq!(
            v("rustfilter_target_attr", "__RUSTFILTER_TARGET_MAX") - 1,
            TARGET_MAX.into()
        );
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_TCP"), MT_TCP);
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_UDP"), MT_UDP);
        assert_eq!(
            v("rustfilter_match_kind", "RUSTFILTER_MT_MULTIPORT"),
            MT_MULTIPORT
        );
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_ICMP"), MT_ICMP);
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_MAC"), MT_MAC);
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_MARK"), MT_MARK);
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_TOS"), MT_TOS);
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_DSCP"), MT_DSCP);
        assert_eq!(
            v("rustfilter_match_kind", "RUSTFILTER_MT_LENGTH"),
            MT_LENGTH
        );
        assert_eq!(v("rustfilter_match_kind", "RUSTFILTER_MT_LIMIT"), MT_LIMIT);
        assert_eq!(
            v("rustfilter_match_kind", "RUSTFILTER_MT_IPRANGE"),
            MT_IPRANGE
        );
        assert_eq!(
            v("rustfilter_match_kind", "RUSTFILTER_MT_ADDRTYPE"),
            MT_ADDRTYPE
        );
        assert_eq!(
            v("rustfilter_match_kind", "RUSTFILTER_MT_RPFILTER"),
            MT_RPFILTER
        );
        assert_eq!(
            v("rustfilter_match_kind", "__RUSTFILTER_MT_MAX") - 1,
            MT_MAX
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "RUSTFILTER_TCP_SPORTS"),
            TCP_SPORTS.into()
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "RUSTFILTER_TCP_DPORTS"),
            TCP_DPORTS.into()
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "RUSTFILTER_TCP_FLAGS_MASK"),
            TCP_FLAGS_MASK.into()
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "RUSTFILTER_TCP_FLAGS_COMP"),
            TCP_FLAGS_COMP.into()
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "RUSTFILTER_TCP_INVERT"),
            TCP_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_tcp_attr", "__RUSTFILTER_TCP_MAX") - 1,
            TCP_MAX.into()
        );
        assert_eq!(
            v("rustfilter_udp_attr", "RUSTFILTER_UDP_SPORTS"),
            UDP_SPORTS.into()
        );
        assert_eq!(
            v("rustfilter_udp_attr", "RUSTFILTER_UDP_DPORTS"),
            UDP_DPORTS.into()
        );
        assert_eq!(
            v("rustfilter_udp_attr", "RUSTFILTER_UDP_INVERT"),
            UDP_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_udp_attr", "__RUSTFILTER_UDP_MAX") - 1,
            UDP_MAX.into()
        );
        assert_eq!(
            v("rustfilter_multiport_attr", "RUSTFILTER_MULTIPORT_MODE"),
            MULTIPORT_MODE.into()
        );
        assert_eq!(
            v("rustfilter_multiport_attr", "RUSTFILTER_MULTIPORT_RANGE"),
            MULTIPORT_RANGE.into()
        );
        assert_eq!(
            v("rustfilter_multiport_attr", "RUSTFILTER_MULTIPORT_INVERT"),
            MULTIPORT_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_multiport_attr", "__RUSTFILTER_MULTIPORT_MAX") - 1,
            MULTIPORT_MAX.into()
        );
        assert_eq!(
            v("rustfilter_multiport_mode", "RUSTFILTER_MULTIPORT_SOURCE"),
            MULTIPORT_SOURCE
        );
        assert_eq!(
            v(
                "rustfilter_multiport_mode",
                "RUSTFILTER_MULTIPORT_DESTINATION"
            ),
            MULTIPORT_DESTINATION
        );
        assert_eq!(
            v("rustfilter_multiport_mode", "RUSTFILTER_MULTIPORT_EITHER"),
            MULTIPORT_EITHER
        );
        assert_eq!(
            v("rustfilter_icmp_attr", "RUSTFILTER_ICMP_TYPE"),
            ICMP_TYPE.into()
        );
        assert_eq!(
            v("rustfilter_icmp_attr", "RUSTFILTER_ICMP_CODE_MIN"),
            ICMP_CODE_MIN.into()
        );
        assert_eq!(
            v("rustfilter_icmp_attr", "RUSTFILTER_ICMP_CODE_MAX"),
            ICMP_CODE_MAX.into()
        );
        assert_eq!(
            v("rustfilter_icmp_attr", "RUSTFILTER_ICMP_INVERT"),
            ICMP_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_icmp_attr", "__RUSTFILTER_ICMP_MAX") - 1,
            ICMP_MAX.into()
        );
        assert_eq!(
            v("rustfilter_mac_attr", "RUSTFILTER_MAC_SOURCE"),
            MAC_SOURCE.into()
        );
        assert_eq!(
            v("rustfilter_mac_attr", "RUSTFILTER_MAC_INVERT"),
            MAC_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_mac_attr", "__RUSTFILTER_MAC_MAX") - 1,
            MAC_MAX.into()
        );
        assert_eq!(
            v("rustfilter_mark_attr", "RUSTFILTER_MARK_VALUE"),
            MARK_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_mark_attr", "RUSTFILTER_MARK_MASK"),
            MARK_MASK.into()
        );
        assert_eq!(
            v("rustfilter_mark_attr", "RUSTFILTER_MARK_INVERT"),
            MARK_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_mark_attr", "__RUSTFILTER_MARK_MAX") - 1,
            MARK_MAX.into()
        );
        assert_eq!(
            v("rustfilter_tos_attr", "RUSTFILTER_TOS_VALUE"),
            TOS_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_tos_attr", "RUSTFILTER_TOS_MASK"),
            TOS_MASK.into()
        );
        assert_eq!(
            v("rustfilter_tos_attr", "RUSTFILTER_TOS_INVERT"),
            TOS_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_tos_attr", "__RUSTFILTER_TOS_MAX") - 1,
            TOS_MAX.into()
        );
        assert_eq!(
            v("rustfilter_dscp_attr", "RUSTFILTER_DSCP_VALUE"),
            DSCP_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_dscp_attr", "RUSTFILTER_DSCP_INVERT"),
            DSCP_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_dscp_attr", "__RUSTFILTER_DSCP_MAX") - 1,
            DSCP_MAX.into()
        );
        assert_eq!(
            v("rustfilter_length_attr", "RUSTFILTER_LENGTH_RANGE"),
            LENGTH_RANGE.into()
        );
        assert_eq!(
            v("rustfilter_length_attr", "RUSTFILTER_LENGTH_INVERT"),
            LENGTH_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_length_attr", "__RUSTFILTER_LENGTH_MAX") - 1,
            LENGTH_MAX.into()
        );
        assert_eq!(
            v("rustfilter_limit_attr", "RUSTFILTER_LIMIT_AVG"),
            LIMIT_AVG.into()
        );
        assert_eq!(
            v("rustfilter_limit_attr", "RUSTFILTER_LIMIT_BURST"),
            LIMIT_BURST.into()
        );
        assert_eq!(
            v("rustfilter_limit_attr", "__RUSTFILTER_LIMIT_MAX") - 1,
            LIMIT_MAX.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "RUSTFILTER_IPRANGE_SRC_MIN"),
            IPRANGE_SRC_MIN.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "RUSTFILTER_IPRANGE_SRC_MAX"),
            IPRANGE_SRC_MAX.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "RUSTFILTER_IPRANGE_DST_MIN"),
            IPRANGE_DST_MIN.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "RUSTFILTER_IPRANGE_DST_MAX"),
            IPRANGE_DST_MAX.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "RUSTFILTER_IPRANGE_INVERT"),
            IPRANGE_INVERT.into()
        );
        assert_eq!(
            v("rustfilter_iprange_attr", "__RUSTFILTER_IPRANGE_MAX") - 1,
            IPRANGE_MAX.into()
        );
        assert_eq!(
            v("rustfilter_addrtype_attr", "RUSTFILTER_ADDRTYPE_SRC"),
            ADDRTYPE_SRC.into()
        );
        assert_eq!(
            v("rustfilter_addrtype_attr", "RUSTFILTER_ADDRTYPE_DST"),
            ADDRTYPE_DST.into()
        );
        assert_eq!(
            v("rustfilter_addrtype_attr", "RUSTFILTER_ADDRTYPE_FLAGS"),
            ADDRTYPE_FLAGS.into()
        );
        assert_eq!(
            v("rustfilter_addrtype_attr", "__RUSTFILTER_ADDRTYPE_MAX") - 1,
            ADDRTYPE_MAX.into()
        );
        assert_eq!(
            v("rustfilter_rpfilter_attr", "RUSTFILTER_RPFILTER_FLAGS"),
            RPFILTER_FLAGS.into()
        );
        assert_eq!(
            v("rustfilter_rpfilter_attr", "__RUSTFILTER_RPFILTER_MAX") - 1,
            RPFILTER_MAX.into()
        );
        assert_eq!(
            v("rustfilter_target_kind", "RUSTFILTER_TG_ACCEPT"),
            TG_ACCEPT
        );
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_DROP"), TG_DROP);
        assert_eq!(
            v("rustfilter_target_kind", "RUSTFILTER_TG_RETURN"),
            TG_RETURN
        );
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_JUMP"), TG_JUMP);
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_GOTO"), TG_GOTO);
        assert_eq!(
            v("rustfilter_target_kind", "RUSTFILTER_TG_REJECT"),
            TG_REJECT
        );
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_LOG"), TG_LOG);
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_MARK"), TG_MARK);
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_TOS"), TG_TOS);
        assert_eq!(v("rustfilter_target_kind", "RUSTFILTER_TG_DSCP"), TG_DSCP);
        assert_eq!(
            v("rustfilter_target_kind", "__RUSTFILTER_TG_MAX") - 1,
            TG_MAX
        );
        assert_eq!(
            v("rustfilter_jump_attr", "RUSTFILTER_JUMP_CHAIN"),
            JUMP_CHAIN.into()
        );
        assert_eq!(
            v("rustfilter_jump_attr", "__RUSTFILTER_JUMP_MAX") - 1,
            JUMP_MAX.into()
        );
        assert_eq!(
            v("rustfilter_reject_attr", "RUSTFILTER_REJECT_WITH"),
            REJECT_WITH.into()
        );
        assert_eq!(
            v("rustfilter_reject_attr", "__RUSTFILTER_REJECT_MAX") - 1,
            REJECT_MAX.into()
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_NET_UNREACHABLE"
            ),
            REJECT_NET_UNREACHABLE
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_HOST_UNREACHABLE"
            ),
            REJECT_HOST_UNREACHABLE
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_PROTO_UNREACHABLE"
            ),
            REJECT_PROTO_UNREACHABLE
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_PORT_UNREACHABLE"
            ),
            REJECT_PORT_UNREACHABLE
        );
        assert_eq!(
            v("rustfilter_reject_with", "RUSTFILTER_REJECT_NET_PROHIBITED"),
            REJECT_NET_PROHIBITED
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_HOST_PROHIBITED"
            ),
            REJECT_HOST_PROHIBITED
        );
        assert_eq!(
            v("rustfilter_reject_with", "RUSTFILTER_REJECT_TCP_RESET"),
            REJECT_TCP_RESET
        );
        assert_eq!(
            v(
                "rustfilter_reject_with",
                "RUSTFILTER_REJECT_ADMIN_PROHIBITED"
            ),
            REJECT_ADMIN_PROHIBITED
        );
        assert_eq!(
            v("rustfilter_log_attr", "RUSTFILTER_LOG_PREFIX"),
            LOG_PREFIX.into()
        );
        assert_eq!(
            v("rustfilter_log_attr", "RUSTFILTER_LOG_LEVEL"),
            LOG_LEVEL.into()
        );
        assert_eq!(
            v("rustfilter_log_attr", "RUSTFILTER_LOG_FLAGS"),
            LOG_FLAGS.into()
        );
        assert_eq!(
            v("rustfilter_log_attr", "__RUSTFILTER_LOG_MAX") - 1,
            LOG_MAX.into()
        );
        assert_eq!(
            v("rustfilter_setmark_attr", "RUSTFILTER_SETMARK_VALUE"),
            SETMARK_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_setmark_attr", "RUSTFILTER_SETMARK_MASK"),
            SETMARK_MASK.into()
        );
        assert_eq!(
            v("rustfilter_setmark_attr", "__RUSTFILTER_SETMARK_MAX") - 1,
            SETMARK_MAX.into()
        );
        assert_eq!(
            v("rustfilter_settos_attr", "RUSTFILTER_SETTOS_VALUE"),
            SETTOS_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_settos_attr", "RUSTFILTER_SETTOS_MASK"),
            SETTOS_MASK.into()
        );
        assert_eq!(
            v("rustfilter_settos_attr", "__RUSTFILTER_SETTOS_MAX") - 1,
            SETTOS_MAX.into()
        );
        assert_eq!(
            v("rustfilter_setdscp_attr", "RUSTFILTER_SETDSCP_VALUE"),
            SETDSCP_VALUE.into()
        );
        assert_eq!(
            v("rustfilter_setdscp_attr", "__RUSTFILTER_SETDSCP_MAX") - 1,
            SETDSCP_MAX.into()
        );
        assert_eq!(c_define(header, "RUSTFILTER_INV_IN_IFACE"), INV_IN_IFACE);
        assert_eq!(c_define(header, "RUSTFILTER_INV_OUT_IFACE"), INV_OUT_IFACE);
        assert_eq!(c_define(header, "RUSTFILTER_INV_SRC"), INV_SRC);
        assert_eq!(c_define(header, "RUSTFILTER_INV_DST"), INV_DST);
        assert_eq!(c_define(header, "RUSTFILTER_INV_FRAGMENT"), INV_FRAGMENT);
        assert_eq!(c_define(header, "RUSTFILTER_INV_PROTO"), INV_PROTO);
        assert_eq!(c_define(header, "RUSTFILTER_INV_MASK"), INV_MASK);
        assert_eq!(
            c_define(header, "RUSTFILTER_TCP_INV_SPORTS"),
            TCP_INV_SPORTS
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_TCP_INV_DPORTS"),
            TCP_INV_DPORTS
        );
        assert_eq!(c_define(header, "RUSTFILTER_TCP_INV_FLAGS"), TCP_INV_FLAGS);
        assert_eq!(c_define(header, "RUSTFILTER_LIMIT_SCALE"), LIMIT_SCALE);
        assert_eq!(
            c_define(header, "RUSTFILTER_IPRANGE_INV_SRC"),
            IPRANGE_INV_SRC
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_IPRANGE_INV_DST"),
            IPRANGE_INV_DST
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_ADDRTYPE_F_INVERT_SRC"),
            ADDRTYPE_F_INVERT_SRC
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_ADDRTYPE_F_INVERT_DST"),
            ADDRTYPE_F_INVERT_DST
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_ADDRTYPE_F_LIMIT_IFACE_IN"),
            ADDRTYPE_F_LIMIT_IFACE_IN
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_ADDRTYPE_F_LIMIT_IFACE_OUT"),
            ADDRTYPE_F_LIMIT_IFACE_OUT
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_RPFILTER_F_LOOSE"),
            RPFILTER_F_LOOSE
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_RPFILTER_F_VALID_MARK"),
            RPFILTER_F_VALID_MARK
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_RPFILTER_F_ACCEPT_LOCAL"),
            RPFILTER_F_ACCEPT_LOCAL
        );
        assert_eq!(
            c_define(header, "RUSTFILTER_RPFILTER_F_INVERT"),
            RPFILTER_F_INVERT
        );
        assert_eq!(c_define(header, "RUSTFILTER_LOG_F_TCPSEQ"), LOG_F_TCPSEQ);
        assert_eq!(c_define(header, "RUSTFILTER_LOG_F_TCPOPT"), LOG_F_TCPOPT);
        assert_eq!(c_define(header, "RUSTFILTER_LOG_F_IPOPT"), LOG_F_IPOPT);
        assert_eq!(c_define(header, "RUSTFILTER_LOG_F_UID"), LOG_F_UID);
        assert_eq!(
            c_define(header, "RUSTFILTER_LOG_F_MACDECODE"),
            LOG_F_MACDECODE
        );
    }

    #[test]
    fn conntrack_rules_match_uapi_header() {
        let header = include_str!("../../../include/uapi/linux/rustfilter.h");
        let v = |e: &str, n: &str| value(&c_enum(header, e), n);
        for (name, want) in [
            ("RUSTFILTER_MT_CONNTRACK", MT_CONNTRACK),
            ("RUSTFILTER_MT_STATE", MT_STATE),
            ("RUSTFILTER_MT_CONNMARK", MT_CONNMARK),
        ] {
            assert_eq!(v("rustfilter_match_kind", name), want, "{name}");
        }
        for (name, want) in [
            ("RUSTFILTER_TG_CT", TG_CT),
            ("RUSTFILTER_TG_CONNMARK", TG_CONNMARK),
            ("RUSTFILTER_TG_SNAT", TG_SNAT),
            ("RUSTFILTER_TG_DNAT", TG_DNAT),
            ("RUSTFILTER_TG_MASQUERADE", TG_MASQUERADE),
            ("RUSTFILTER_TG_REDIRECT", TG_REDIRECT),
            ("RUSTFILTER_TG_NFQUEUE", TG_NFQUEUE),
            ("RUSTFILTER_TG_QUEUE", TG_QUEUE),
        ] {
            assert_eq!(v("rustfilter_target_kind", name), want, "{name}");
        }
        // Enum, its values, its __MAX and the highest value.
        type AttrEnum<'a> = (&'a str, &'a [(&'a str, u16)], &'a str, u16);
        let attrs: [AttrEnum; 7] = [
            (
                "rustfilter_conntrack_attr",
                &[
                    ("RUSTFILTER_CONNTRACK_STATE", CONNTRACK_STATE),
                    ("RUSTFILTER_CONNTRACK_PROTO", CONNTRACK_PROTO),
                    ("RUSTFILTER_CONNTRACK_ORIGSRC", CONNTRACK_ORIGSRC),
                    ("RUSTFILTER_CONNTRACK_ORIGSRC_MASK", CONNTRACK_ORIGSRC_MASK),
                    ("RUSTFILTER_CONNTRACK_ORIGDST", CONNTRACK_ORIGDST),
                    ("RUSTFILTER_CONNTRACK_ORIGDST_MASK", CONNTRACK_ORIGDST_MASK),
                    ("RUSTFILTER_CONNTRACK_REPLSRC", CONNTRACK_REPLSRC),
                    ("RUSTFILTER_CONNTRACK_REPLSRC_MASK", CONNTRACK_REPLSRC_MASK),
                    ("RUSTFILTER_CONNTRACK_REPLDST", CONNTRACK_REPLDST),
                    ("RUSTFILTER_CONNTRACK_REPLDST_MASK", CONNTRACK_REPLDST_MASK),
                    ("RUSTFILTER_CONNTRACK_ORIGSRC_PORT", CONNTRACK_ORIGSRC_PORT),
                    ("RUSTFILTER_CONNTRACK_ORIGDST_PORT", CONNTRACK_ORIGDST_PORT),
                    ("RUSTFILTER_CONNTRACK_REPLSRC_PORT", CONNTRACK_REPLSRC_PORT),
                    ("RUSTFILTER_CONNTRACK_REPLDST_PORT", CONNTRACK_REPLDST_PORT),
                    ("RUSTFILTER_CONNTRACK_STATUS", CONNTRACK_STATUS),
                    ("RUSTFILTER_CONNTRACK_EXPIRES_MIN", CONNTRACK_EXPIRES_MIN),
                    ("RUSTFILTER_CONNTRACK_EXPIRES_MAX", CONNTRACK_EXPIRES_MAX),
                    ("RUSTFILTER_CONNTRACK_DIR", CONNTRACK_DIR),
                    ("RUSTFILTER_CONNTRACK_INVERT", CONNTRACK_INVERT),
                ],
                "__RUSTFILTER_CONNTRACK_MAX",
                CONNTRACK_MAX,
            ),
            (
                "rustfilter_state_attr",
                &[
                    ("RUSTFILTER_STATE_MASK", STATE_MASK),
                    ("RUSTFILTER_STATE_INVERT", STATE_INVERT),
                ],
                "__RUSTFILTER_STATE_MAX",
                STATE_MAX,
            ),
            (
                "rustfilter_connmark_attr",
                &[
                    ("RUSTFILTER_CONNMARK_VALUE", CONNMARK_VALUE),
                    ("RUSTFILTER_CONNMARK_MASK", CONNMARK_MASK),
                    ("RUSTFILTER_CONNMARK_INVERT", CONNMARK_INVERT),
                ],
                "__RUSTFILTER_CONNMARK_MAX",
                CONNMARK_MAX,
            ),
            (
                "rustfilter_ct_attr",
                &[
                    ("RUSTFILTER_CT_FLAGS", CT_FLAGS),
                    ("RUSTFILTER_CT_HELPER", CT_HELPER),
                ],
                "__RUSTFILTER_CT_MAX",
                CT_MAX,
            ),
            (
                "rustfilter_connmark_tg_attr",
                &[
                    ("RUSTFILTER_CONNMARK_TG_MODE", CONNMARK_TG_MODE),
                    ("RUSTFILTER_CONNMARK_TG_CTMARK", CONNMARK_TG_CTMARK),
                    ("RUSTFILTER_CONNMARK_TG_CTMASK", CONNMARK_TG_CTMASK),
                    ("RUSTFILTER_CONNMARK_TG_NFMASK", CONNMARK_TG_NFMASK),
                ],
                "__RUSTFILTER_CONNMARK_TG_MAX",
                CONNMARK_TG_MAX,
            ),
            (
                "rustfilter_nat_attr",
                &[
                    ("RUSTFILTER_NAT_FLAGS", NAT_FLAGS),
                    ("RUSTFILTER_NAT_MIN_ADDR", NAT_MIN_ADDR),
                    ("RUSTFILTER_NAT_MAX_ADDR", NAT_MAX_ADDR),
                    ("RUSTFILTER_NAT_MIN_PORT", NAT_MIN_PORT),
                    ("RUSTFILTER_NAT_MAX_PORT", NAT_MAX_PORT),
                ],
                "__RUSTFILTER_NAT_MAX",
                NAT_MAX,
            ),
            (
                "rustfilter_nfqueue_attr",
                &[
                    ("RUSTFILTER_NFQUEUE_NUM", NFQUEUE_NUM),
                    ("RUSTFILTER_NFQUEUE_TOTAL", NFQUEUE_TOTAL),
                    ("RUSTFILTER_NFQUEUE_FLAGS", NFQUEUE_FLAGS),
                ],
                "__RUSTFILTER_NFQUEUE_MAX",
                NFQUEUE_MAX,
            ),
        ];
        for (e, names, max, want_max) in attrs {
            for &(name, want) in names {
                assert_eq!(v(e, name), want.into(), "{name}");
            }
            assert_eq!(v(e, max) - 1, want_max.into(), "{max}");
        }
        for (e, name, want) in [
            (
                "rustfilter_ctdir",
                "RUSTFILTER_CTDIR_ORIGINAL",
                CTDIR_ORIGINAL,
            ),
            ("rustfilter_ctdir", "RUSTFILTER_CTDIR_REPLY", CTDIR_REPLY),
            (
                "rustfilter_connmark_mode",
                "RUSTFILTER_CONNMARK_SET",
                CONNMARK_SET,
            ),
            (
                "rustfilter_connmark_mode",
                "RUSTFILTER_CONNMARK_SAVE",
                CONNMARK_SAVE,
            ),
            (
                "rustfilter_connmark_mode",
                "RUSTFILTER_CONNMARK_RESTORE",
                CONNMARK_RESTORE,
            ),
        ] {
            assert_eq!(v(e, name), want, "{name}");
        }
        for (name, want) in [
            ("RUSTFILTER_CTSTATE_INVALID", CTSTATE_INVALID),
            ("RUSTFILTER_CTSTATE_ESTABLISHED", CTSTATE_ESTABLISHED),
            ("RUSTFILTER_CTSTATE_RELATED", CTSTATE_RELATED),
            ("RUSTFILTER_CTSTATE_NEW", CTSTATE_NEW),
            ("RUSTFILTER_CTSTATE_SNAT", CTSTATE_SNAT),
            ("RUSTFILTER_CTSTATE_DNAT", CTSTATE_DNAT),
            ("RUSTFILTER_CTSTATE_UNTRACKED", CTSTATE_UNTRACKED),
            ("RUSTFILTER_CTSTATUS_EXPECTED", CTSTATUS_EXPECTED),
            ("RUSTFILTER_CTSTATUS_SEEN_REPLY", CTSTATUS_SEEN_REPLY),
            ("RUSTFILTER_CTSTATUS_ASSURED", CTSTATUS_ASSURED),
            ("RUSTFILTER_CTSTATUS_CONFIRMED", CTSTATUS_CONFIRMED),
            ("RUSTFILTER_CONNTRACK_F_STATE", CONNTRACK_F_STATE),
            ("RUSTFILTER_CONNTRACK_F_PROTO", CONNTRACK_F_PROTO),
            ("RUSTFILTER_CONNTRACK_F_ORIGSRC", CONNTRACK_F_ORIGSRC),
            ("RUSTFILTER_CONNTRACK_F_ORIGDST", CONNTRACK_F_ORIGDST),
            ("RUSTFILTER_CONNTRACK_F_REPLSRC", CONNTRACK_F_REPLSRC),
            ("RUSTFILTER_CONNTRACK_F_REPLDST", CONNTRACK_F_REPLDST),
            ("RUSTFILTER_CONNTRACK_F_STATUS", CONNTRACK_F_STATUS),
            ("RUSTFILTER_CONNTRACK_F_EXPIRES", CONNTRACK_F_EXPIRES),
            (
                "RUSTFILTER_CONNTRACK_F_ORIGSRC_PORT",
                CONNTRACK_F_ORIGSRC_PORT,
            ),
            (
                "RUSTFILTER_CONNTRACK_F_ORIGDST_PORT",
                CONNTRACK_F_ORIGDST_PORT,
            ),
            (
                "RUSTFILTER_CONNTRACK_F_REPLSRC_PORT",
                CONNTRACK_F_REPLSRC_PORT,
            ),
            (
                "RUSTFILTER_CONNTRACK_F_REPLDST_PORT",
                CONNTRACK_F_REPLDST_PORT,
            ),
            ("RUSTFILTER_CONNTRACK_F_DIRECTION", CONNTRACK_F_DIRECTION),
            ("RUSTFILTER_CT_F_NOTRACK", CT_F_NOTRACK),
            ("RUSTFILTER_CT_F_NOTRACK_ALIAS", CT_F_NOTRACK_ALIAS),
            ("RUSTFILTER_NAT_F_RANDOM", NAT_F_RANDOM),
            ("RUSTFILTER_NAT_F_PERSISTENT", NAT_F_PERSISTENT),
            ("RUSTFILTER_NAT_F_RANDOM_FULLY", NAT_F_RANDOM_FULLY),
            ("RUSTFILTER_NFQUEUE_F_BYPASS", NFQUEUE_F_BYPASS),
            ("RUSTFILTER_NFQUEUE_F_CPU_FANOUT", NFQUEUE_F_CPU_FANOUT),
        ] {
            assert_eq!(c_define(header, name), want, "{name}");
        }
    }

    #[test]
    fn hook_numbers_round_trip() {
        for h in Hook::ALL {
            assert_eq!(Hook::from_number(h.number()), Some(h));
        }
        assert_eq!(Hook::from_number(5), None);
        assert_eq!(Hook::from_number(u32::MAX), None);
        assert_eq!(Hook::Forward.name(), "FORWARD");
    }
}
