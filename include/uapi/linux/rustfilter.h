/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rustfilter: the generic netlink protocol between the rustfilter module
 * and userspace (rfctl).
 *
 * Family "rustfilter", version 1. Every request is answered in the
 * caller's network namespace; commands that change state need
 * CAP_NET_ADMIN in the user namespace owning that network namespace.
 */
#ifndef _UAPI_LINUX_RUSTFILTER_H
#define _UAPI_LINUX_RUSTFILTER_H

#define RUSTFILTER_GENL_NAME	"rustfilter"
#define RUSTFILTER_GENL_VERSION	1

/* Commands */
enum rustfilter_cmd {
	RUSTFILTER_CMD_UNSPEC,
	RUSTFILTER_CMD_GET_STATS,	/* reply: RUSTFILTER_A_HOOK_STATS x 5 */
	RUSTFILTER_CMD_ZERO_STATS,	/* admin; no reply beyond the ack */
	/*
	 * Replacing a table (Documentation/protocol.rst): BEGIN, any number of
	 * CHUNKs, COMMIT (or ABORT), all from one socket. All admin.
	 */
	RUSTFILTER_CMD_TABLE_BEGIN,	/* A_TABLE, [A_GENERATION]; reply: A_TABLE, A_GENERATION */
	RUSTFILTER_CMD_TABLE_CHUNK,	/* payload: rustfilter_table_attr attributes */
	RUSTFILTER_CMD_TABLE_COMMIT,	/* [A_TEST], [A_COUNTERS], [A_CARRY]; reply: A_TABLE, A_GENERATION */
	RUSTFILTER_CMD_TABLE_ABORT,	/* no attributes */
	/*
	 * Reading a table: A_TABLE, [A_ZERO]; admin. Replies: one or more
	 * messages whose payload is rustfilter_table_attr attributes (the
	 * table name, then CHAIN nests with counters), then the ack.
	 */
	RUSTFILTER_CMD_TABLE_GET,
	/*
	 * Connection tracking (Documentation/conntrack.rst). All admin.
	 */
	RUSTFILTER_CMD_CT_LIST,		/* replies: A_CT_ENTRY nests over one or more
					 * messages (one consistent set), then the ack */
	RUSTFILTER_CMD_CT_GET,		/* A_CT_TUPLE (either direction); reply: A_CT_ENTRY */
	RUSTFILTER_CMD_CT_DELETE,	/* A_CT_TUPLE (either direction) */
	RUSTFILTER_CMD_CT_FLUSH,	/* no attributes */
	RUSTFILTER_CMD_CT_STATS,	/* reply: A_CT_STATS */
	RUSTFILTER_CMD_CT_SET,		/* [A_CT_MAX], [A_CT_TIMEOUTS], [A_CT_AUTO_HELPER] */
	RUSTFILTER_CMD_CT_EVENT,	/* multicast on "ct-events": A_CT_EVENT, A_CT_ENTRY */
	__RUSTFILTER_CMD_MAX,
};
#define RUSTFILTER_CMD_MAX (__RUSTFILTER_CMD_MAX - 1)

/* Top-level attributes */
enum rustfilter_attr {
	RUSTFILTER_A_UNSPEC,
	RUSTFILTER_A_PAD,
	RUSTFILTER_A_HOOK_STATS,	/* nested: rustfilter_stats_attr */
	RUSTFILTER_A_TABLE,		/* string: filter, mangle, raw */
	RUSTFILTER_A_GENERATION,	/* u32: the table's generation, +1 per commit */
	RUSTFILTER_A_ZERO,		/* flag: zero the counters read, atomically */
	RUSTFILTER_A_TEST,		/* flag: validate only, change nothing */
	RUSTFILTER_A_COUNTERS,		/* flag: take counters from the ruleset */
	RUSTFILTER_A_CARRY,		/* flag: rules with RULE_ORIGIN and built-in
					 * chains with CHAIN_ORIGIN keep counting
					 * from the generation the transaction is
					 * bound to */
	RUSTFILTER_A_CT_ENTRY,		/* nested: rustfilter_ctentry_attr */
	RUSTFILTER_A_CT_TUPLE,		/* nested: rustfilter_cttuple_attr */
	RUSTFILTER_A_CT_STATS,		/* nested: rustfilter_ctstats_attr */
	RUSTFILTER_A_CT_MAX,		/* u32: most connections in the namespace */
	RUSTFILTER_A_CT_TIMEOUTS,	/* nested: rustfilter_cttimeout_attr */
	RUSTFILTER_A_CT_EVENT,		/* u32: RUSTFILTER_CT_EVENT_* */
	RUSTFILTER_A_CT_AUTO_HELPER,	/* u32: 1 (default) new connections get the helper
					 * of their port (ftp 21/tcp, tftp 69/udp), 0 only
					 * by -j CT --helper */
	__RUSTFILTER_A_MAX,
};
#define RUSTFILTER_A_MAX (__RUSTFILTER_A_MAX - 1)

/* Attributes nested in RUSTFILTER_A_HOOK_STATS */
enum rustfilter_stats_attr {
	RUSTFILTER_STATS_UNSPEC,
	RUSTFILTER_STATS_PAD,
	RUSTFILTER_STATS_HOOK,		/* u32: NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING */
	RUSTFILTER_STATS_PACKETS,	/* u64 */
	RUSTFILTER_STATS_BYTES,		/* u64: sum of skb->len (IP header and payload) */
	RUSTFILTER_STATS_MALFORMED,	/* u64: packets whose IPv4 header did not parse */
	__RUSTFILTER_STATS_MAX,
};
#define RUSTFILTER_STATS_MAX (__RUSTFILTER_STATS_MAX - 1)

/*
 * Rulesets (Documentation/ruleset.rst).
 *
 * The contents of one table are a run of rustfilter_table_attr attributes:
 * the table name, then CHAIN nests in order. A large table is sent in
 * several messages (chunks) carrying whole rules; a chain whose rules do
 * not fit in one chunk continues in the next with a CHAIN nest carrying
 * the same name and RUSTFILTER_CHAIN_CONTINUED. The module concatenates
 * the table attributes of all chunks, in order, and decodes them as one.
 * Integers are in host order, addresses in network order (be32).
 */
enum rustfilter_table_attr {
	RUSTFILTER_TABLE_UNSPEC,
	RUSTFILTER_TABLE_NAME,		/* string: filter, mangle, raw, nat */
	RUSTFILTER_TABLE_CHAIN,		/* nested: rustfilter_chain_attr, repeated */
	__RUSTFILTER_TABLE_MAX,
};
#define RUSTFILTER_TABLE_MAX (__RUSTFILTER_TABLE_MAX - 1)

/* Attributes nested in RUSTFILTER_TABLE_CHAIN */
enum rustfilter_chain_attr {
	RUSTFILTER_CHAIN_UNSPEC,
	RUSTFILTER_CHAIN_PAD,
	RUSTFILTER_CHAIN_NAME,		/* string, 1..28 bytes */
	RUSTFILTER_CHAIN_POLICY,	/* u32: NF_DROP or NF_ACCEPT; built-in chains only */
	RUSTFILTER_CHAIN_CONTINUED,	/* flag: more rules of the previous CHAIN nest */
	RUSTFILTER_CHAIN_PACKETS,	/* u64: policy counter, built-in chains only */
	RUSTFILTER_CHAIN_BYTES,		/* u64 */
	RUSTFILTER_CHAIN_RULE,		/* nested: rustfilter_rule_attr, repeated, in order */
	RUSTFILTER_CHAIN_ORIGIN,	/* u32: with A_CARRY, the built-in chain's position
					 * in the dump of the bound generation */
	__RUSTFILTER_CHAIN_MAX,
};
#define RUSTFILTER_CHAIN_MAX (__RUSTFILTER_CHAIN_MAX - 1)

/* Attributes nested in RUSTFILTER_CHAIN_RULE */
enum rustfilter_rule_attr {
	RUSTFILTER_RULE_UNSPEC,
	RUSTFILTER_RULE_PAD,
	RUSTFILTER_RULE_SRC,		/* be32 (-s); absent: 0.0.0.0 */
	RUSTFILTER_RULE_SRC_MASK,	/* be32; absent: 0.0.0.0 */
	RUSTFILTER_RULE_DST,		/* be32 (-d) */
	RUSTFILTER_RULE_DST_MASK,	/* be32 */
	RUSTFILTER_RULE_IN_IFACE,	/* string, 1..15 bytes, '+' at the end: prefix (-i) */
	RUSTFILTER_RULE_OUT_IFACE,	/* string (-o) */
	RUSTFILTER_RULE_PROTO,		/* u8: IP protocol (-p); absent or 0: any */
	RUSTFILTER_RULE_FRAGMENT,	/* flag: non-first fragments only (-f) */
	RUSTFILTER_RULE_INVERT,		/* u32: RUSTFILTER_INV_* */
	RUSTFILTER_RULE_MATCH,		/* nested: rustfilter_match_attr, repeated */
	RUSTFILTER_RULE_TARGET,		/* nested: rustfilter_target_attr; absent: none */
	RUSTFILTER_RULE_PACKETS,	/* u64: counter */
	RUSTFILTER_RULE_BYTES,		/* u64 */
	RUSTFILTER_RULE_ORIGIN,		/* u32: with A_CARRY, the rule's position in the
					 * dump of the bound generation */
	__RUSTFILTER_RULE_MAX,
};
#define RUSTFILTER_RULE_MAX (__RUSTFILTER_RULE_MAX - 1)

/* RUSTFILTER_RULE_INVERT bits, as IPT_INV_* */
#define RUSTFILTER_INV_IN_IFACE		0x01
#define RUSTFILTER_INV_OUT_IFACE	0x02
#define RUSTFILTER_INV_SRC		0x08
#define RUSTFILTER_INV_DST		0x10
#define RUSTFILTER_INV_FRAGMENT		0x20
#define RUSTFILTER_INV_PROTO		0x40
#define RUSTFILTER_INV_MASK		0x7b

/* Attributes nested in RUSTFILTER_RULE_MATCH and RUSTFILTER_RULE_TARGET */
enum rustfilter_match_attr {
	RUSTFILTER_MATCH_UNSPEC,
	RUSTFILTER_MATCH_KIND,		/* u32: rustfilter_match_kind */
	RUSTFILTER_MATCH_OPTS,		/* nested: the kind's attributes */
	__RUSTFILTER_MATCH_MAX,
};
#define RUSTFILTER_MATCH_MAX (__RUSTFILTER_MATCH_MAX - 1)

enum rustfilter_target_attr {
	RUSTFILTER_TARGET_UNSPEC,
	RUSTFILTER_TARGET_KIND,		/* u32: rustfilter_target_kind */
	RUSTFILTER_TARGET_OPTS,		/* nested: the kind's attributes */
	__RUSTFILTER_TARGET_MAX,
};
#define RUSTFILTER_TARGET_MAX (__RUSTFILTER_TARGET_MAX - 1)

/* Match kinds and their options */
enum rustfilter_match_kind {
	RUSTFILTER_MT_UNSPEC,
	RUSTFILTER_MT_TCP,		/* rustfilter_tcp_attr; needs -p tcp */
	RUSTFILTER_MT_UDP,		/* rustfilter_udp_attr; needs -p udp */
	RUSTFILTER_MT_MULTIPORT,	/* rustfilter_multiport_attr; needs -p tcp or udp */
	RUSTFILTER_MT_ICMP,		/* rustfilter_icmp_attr; needs -p icmp */
	RUSTFILTER_MT_MAC,		/* rustfilter_mac_attr */
	RUSTFILTER_MT_MARK,		/* rustfilter_mark_attr */
	RUSTFILTER_MT_TOS,		/* rustfilter_tos_attr */
	RUSTFILTER_MT_DSCP,		/* rustfilter_dscp_attr */
	RUSTFILTER_MT_LENGTH,		/* rustfilter_length_attr */
	RUSTFILTER_MT_LIMIT,		/* rustfilter_limit_attr */
	RUSTFILTER_MT_IPRANGE,		/* rustfilter_iprange_attr */
	RUSTFILTER_MT_ADDRTYPE,		/* rustfilter_addrtype_attr */
	RUSTFILTER_MT_RPFILTER,		/* rustfilter_rpfilter_attr */
	RUSTFILTER_MT_CONNTRACK,	/* rustfilter_conntrack_attr */
	RUSTFILTER_MT_STATE,		/* rustfilter_state_attr */
	RUSTFILTER_MT_CONNMARK,		/* rustfilter_connmark_attr */
	__RUSTFILTER_MT_MAX,
};
#define RUSTFILTER_MT_MAX (__RUSTFILTER_MT_MAX - 1)

/* A port range attribute is a u32: first port << 16 | last port. */
enum rustfilter_tcp_attr {
	RUSTFILTER_TCP_UNSPEC,
	RUSTFILTER_TCP_SPORTS,		/* u32 port range; absent: 0..65535 */
	RUSTFILTER_TCP_DPORTS,		/* u32 port range */
	RUSTFILTER_TCP_FLAGS_MASK,	/* u8: flags examined (--tcp-flags mask comp) */
	RUSTFILTER_TCP_FLAGS_COMP,	/* u8: of those, the ones that must be set */
	RUSTFILTER_TCP_INVERT,		/* u32: RUSTFILTER_TCP_INV_* */
	__RUSTFILTER_TCP_MAX,
};
#define RUSTFILTER_TCP_MAX (__RUSTFILTER_TCP_MAX - 1)

#define RUSTFILTER_TCP_INV_SPORTS	0x01
#define RUSTFILTER_TCP_INV_DPORTS	0x02
#define RUSTFILTER_TCP_INV_FLAGS	0x04

enum rustfilter_udp_attr {
	RUSTFILTER_UDP_UNSPEC,
	RUSTFILTER_UDP_SPORTS,		/* u32 port range */
	RUSTFILTER_UDP_DPORTS,		/* u32 port range */
	RUSTFILTER_UDP_INVERT,		/* u32: RUSTFILTER_TCP_INV_SPORTS, _DPORTS */
	__RUSTFILTER_UDP_MAX,
};
#define RUSTFILTER_UDP_MAX (__RUSTFILTER_UDP_MAX - 1)

enum rustfilter_multiport_attr {
	RUSTFILTER_MULTIPORT_UNSPEC,
	RUSTFILTER_MULTIPORT_MODE,	/* u32: rustfilter_multiport_mode */
	RUSTFILTER_MULTIPORT_RANGE,	/* u32 port range, repeated; a range uses 2 of 15 slots */
	RUSTFILTER_MULTIPORT_INVERT,	/* flag */
	__RUSTFILTER_MULTIPORT_MAX,
};
#define RUSTFILTER_MULTIPORT_MAX (__RUSTFILTER_MULTIPORT_MAX - 1)

enum rustfilter_multiport_mode {
	RUSTFILTER_MULTIPORT_SOURCE,		/* --sports */
	RUSTFILTER_MULTIPORT_DESTINATION,	/* --dports */
	RUSTFILTER_MULTIPORT_EITHER,		/* --ports */
};

enum rustfilter_icmp_attr {
	RUSTFILTER_ICMP_UNSPEC,
	RUSTFILTER_ICMP_TYPE,		/* u8; 255: any */
	RUSTFILTER_ICMP_CODE_MIN,	/* u8; absent: 0 */
	RUSTFILTER_ICMP_CODE_MAX,	/* u8; absent: 255 */
	RUSTFILTER_ICMP_INVERT,		/* flag */
	__RUSTFILTER_ICMP_MAX,
};
#define RUSTFILTER_ICMP_MAX (__RUSTFILTER_ICMP_MAX - 1)

enum rustfilter_mac_attr {
	RUSTFILTER_MAC_UNSPEC,
	RUSTFILTER_MAC_SOURCE,		/* binary, 6 bytes (--mac-source) */
	RUSTFILTER_MAC_INVERT,		/* flag */
	__RUSTFILTER_MAC_MAX,
};
#define RUSTFILTER_MAC_MAX (__RUSTFILTER_MAC_MAX - 1)

enum rustfilter_mark_attr {
	RUSTFILTER_MARK_UNSPEC,
	RUSTFILTER_MARK_VALUE,		/* u32 */
	RUSTFILTER_MARK_MASK,		/* u32; absent: 0xffffffff */
	RUSTFILTER_MARK_INVERT,		/* flag */
	__RUSTFILTER_MARK_MAX,
};
#define RUSTFILTER_MARK_MAX (__RUSTFILTER_MARK_MAX - 1)

enum rustfilter_tos_attr {
	RUSTFILTER_TOS_UNSPEC,
	RUSTFILTER_TOS_VALUE,		/* u8 */
	RUSTFILTER_TOS_MASK,		/* u8; absent: 0xff */
	RUSTFILTER_TOS_INVERT,		/* flag */
	__RUSTFILTER_TOS_MAX,
};
#define RUSTFILTER_TOS_MAX (__RUSTFILTER_TOS_MAX - 1)

enum rustfilter_dscp_attr {
	RUSTFILTER_DSCP_UNSPEC,
	RUSTFILTER_DSCP_VALUE,		/* u8: 0..63 */
	RUSTFILTER_DSCP_INVERT,		/* flag */
	__RUSTFILTER_DSCP_MAX,
};
#define RUSTFILTER_DSCP_MAX (__RUSTFILTER_DSCP_MAX - 1)

enum rustfilter_length_attr {
	RUSTFILTER_LENGTH_UNSPEC,
	RUSTFILTER_LENGTH_RANGE,	/* u32: min << 16 | max, of the IP total length */
	RUSTFILTER_LENGTH_INVERT,	/* flag */
	__RUSTFILTER_LENGTH_MAX,
};
#define RUSTFILTER_LENGTH_MAX (__RUSTFILTER_LENGTH_MAX - 1)

enum rustfilter_limit_attr {
	RUSTFILTER_LIMIT_UNSPEC,
	RUSTFILTER_LIMIT_AVG,		/* u32: mean interval, 1/RUSTFILTER_LIMIT_SCALE s */
	RUSTFILTER_LIMIT_BURST,		/* u32: 1..10000; absent: 5 */
	__RUSTFILTER_LIMIT_MAX,
};
#define RUSTFILTER_LIMIT_MAX (__RUSTFILTER_LIMIT_MAX - 1)

#define RUSTFILTER_LIMIT_SCALE		10000	/* as XT_LIMIT_SCALE */

enum rustfilter_iprange_attr {
	RUSTFILTER_IPRANGE_UNSPEC,
	RUSTFILTER_IPRANGE_SRC_MIN,	/* be32 (--src-range min-max) */
	RUSTFILTER_IPRANGE_SRC_MAX,	/* be32 */
	RUSTFILTER_IPRANGE_DST_MIN,	/* be32 (--dst-range) */
	RUSTFILTER_IPRANGE_DST_MAX,	/* be32 */
	RUSTFILTER_IPRANGE_INVERT,	/* u32: RUSTFILTER_IPRANGE_INV_* */
	__RUSTFILTER_IPRANGE_MAX,
};
#define RUSTFILTER_IPRANGE_MAX (__RUSTFILTER_IPRANGE_MAX - 1)

#define RUSTFILTER_IPRANGE_INV_SRC	0x01
#define RUSTFILTER_IPRANGE_INV_DST	0x02

enum rustfilter_addrtype_attr {
	RUSTFILTER_ADDRTYPE_UNSPEC,
	RUSTFILTER_ADDRTYPE_SRC,	/* u32: bit (1 << RTN_*) per type (--src-type) */
	RUSTFILTER_ADDRTYPE_DST,	/* u32 (--dst-type) */
	RUSTFILTER_ADDRTYPE_FLAGS,	/* u32: RUSTFILTER_ADDRTYPE_F_* */
	__RUSTFILTER_ADDRTYPE_MAX,
};
#define RUSTFILTER_ADDRTYPE_MAX (__RUSTFILTER_ADDRTYPE_MAX - 1)

#define RUSTFILTER_ADDRTYPE_F_INVERT_SRC	0x01	/* as XT_ADDRTYPE_* */
#define RUSTFILTER_ADDRTYPE_F_INVERT_DST	0x02
#define RUSTFILTER_ADDRTYPE_F_LIMIT_IFACE_IN	0x04
#define RUSTFILTER_ADDRTYPE_F_LIMIT_IFACE_OUT	0x08

enum rustfilter_rpfilter_attr {
	RUSTFILTER_RPFILTER_UNSPEC,
	RUSTFILTER_RPFILTER_FLAGS,	/* u32: RUSTFILTER_RPFILTER_F_* */
	__RUSTFILTER_RPFILTER_MAX,
};
#define RUSTFILTER_RPFILTER_MAX (__RUSTFILTER_RPFILTER_MAX - 1)

#define RUSTFILTER_RPFILTER_F_LOOSE		0x01	/* as XT_RPFILTER_* */
#define RUSTFILTER_RPFILTER_F_VALID_MARK	0x02
#define RUSTFILTER_RPFILTER_F_ACCEPT_LOCAL	0x04
#define RUSTFILTER_RPFILTER_F_INVERT		0x08

/*
 * Connection tracking states, as xt_conntrack's state_mask: a packet with
 * a connection entry has the bit XT_CONNTRACK_STATE_BIT(ctinfo) of its
 * ctinfo (ESTABLISHED, RELATED or NEW, whatever the direction) plus the
 * virtual SNAT and DNAT bits of the entry's status; a packet conntrack
 * could not track is INVALID, one exempt from tracking UNTRACKED.
 */
#define RUSTFILTER_CTSTATE_INVALID	0x0001	/* XT_CONNTRACK_STATE_INVALID */
#define RUSTFILTER_CTSTATE_ESTABLISHED	0x0002	/* XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) */
#define RUSTFILTER_CTSTATE_RELATED	0x0004	/* XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) */
#define RUSTFILTER_CTSTATE_NEW		0x0008	/* XT_CONNTRACK_STATE_BIT(IP_CT_NEW) */
#define RUSTFILTER_CTSTATE_SNAT		0x0040	/* XT_CONNTRACK_STATE_SNAT */
#define RUSTFILTER_CTSTATE_DNAT		0x0080	/* XT_CONNTRACK_STATE_DNAT */
#define RUSTFILTER_CTSTATE_UNTRACKED	0x0100	/* XT_CONNTRACK_STATE_UNTRACKED */

/* Connection status bits --ctstatus matches, as IPS_* */
#define RUSTFILTER_CTSTATUS_EXPECTED	0x01
#define RUSTFILTER_CTSTATUS_SEEN_REPLY	0x02
#define RUSTFILTER_CTSTATUS_ASSURED	0x04
#define RUSTFILTER_CTSTATUS_CONFIRMED	0x08

/*
 * conntrack (xt_conntrack revision 3). Each attribute present is an
 * option given; at least one is required.
 */
enum rustfilter_conntrack_attr {
	RUSTFILTER_CONNTRACK_UNSPEC,
	RUSTFILTER_CONNTRACK_STATE,		/* u32: RUSTFILTER_CTSTATE_* (--ctstate) */
	RUSTFILTER_CONNTRACK_PROTO,		/* u8: the entry's layer-4 protocol (--ctproto) */
	RUSTFILTER_CONNTRACK_ORIGSRC,		/* be32 (--ctorigsrc addr[/mask]) */
	RUSTFILTER_CONNTRACK_ORIGSRC_MASK,	/* be32; absent: 255.255.255.255 */
	RUSTFILTER_CONNTRACK_ORIGDST,		/* be32 (--ctorigdst) */
	RUSTFILTER_CONNTRACK_ORIGDST_MASK,	/* be32 */
	RUSTFILTER_CONNTRACK_REPLSRC,		/* be32 (--ctreplsrc) */
	RUSTFILTER_CONNTRACK_REPLSRC_MASK,	/* be32 */
	RUSTFILTER_CONNTRACK_REPLDST,		/* be32 (--ctrepldst) */
	RUSTFILTER_CONNTRACK_REPLDST_MASK,	/* be32 */
	RUSTFILTER_CONNTRACK_ORIGSRC_PORT,	/* u32 port range (--ctorigsrcport); first may
						 * exceed last: then no port is in it */
	RUSTFILTER_CONNTRACK_ORIGDST_PORT,	/* u32 port range (--ctorigdstport) */
	RUSTFILTER_CONNTRACK_REPLSRC_PORT,	/* u32 port range (--ctreplsrcport) */
	RUSTFILTER_CONNTRACK_REPLDST_PORT,	/* u32 port range (--ctrepldstport) */
	RUSTFILTER_CONNTRACK_STATUS,		/* u32: RUSTFILTER_CTSTATUS_* (--ctstatus) */
	RUSTFILTER_CONNTRACK_EXPIRES_MIN,	/* u32: seconds left (--ctexpire min[:max]) */
	RUSTFILTER_CONNTRACK_EXPIRES_MAX,	/* u32; absent: the minimum */
	RUSTFILTER_CONNTRACK_DIR,		/* u32: rustfilter_ctdir (--ctdir) */
	RUSTFILTER_CONNTRACK_INVERT,		/* u32: RUSTFILTER_CONNTRACK_F_* of the options
						 * inverted; not _DIRECTION */
	__RUSTFILTER_CONNTRACK_MAX,
};
#define RUSTFILTER_CONNTRACK_MAX (__RUSTFILTER_CONNTRACK_MAX - 1)

#define RUSTFILTER_CONNTRACK_F_STATE		0x0001	/* as XT_CONNTRACK_* */
#define RUSTFILTER_CONNTRACK_F_PROTO		0x0002
#define RUSTFILTER_CONNTRACK_F_ORIGSRC		0x0004
#define RUSTFILTER_CONNTRACK_F_ORIGDST		0x0008
#define RUSTFILTER_CONNTRACK_F_REPLSRC		0x0010
#define RUSTFILTER_CONNTRACK_F_REPLDST		0x0020
#define RUSTFILTER_CONNTRACK_F_STATUS		0x0040
#define RUSTFILTER_CONNTRACK_F_EXPIRES		0x0080
#define RUSTFILTER_CONNTRACK_F_ORIGSRC_PORT	0x0100
#define RUSTFILTER_CONNTRACK_F_ORIGDST_PORT	0x0200
#define RUSTFILTER_CONNTRACK_F_REPLSRC_PORT	0x0400
#define RUSTFILTER_CONNTRACK_F_REPLDST_PORT	0x0800
#define RUSTFILTER_CONNTRACK_F_DIRECTION	0x1000

/* As enum ip_conntrack_dir */
enum rustfilter_ctdir {
	RUSTFILTER_CTDIR_ORIGINAL,
	RUSTFILTER_CTDIR_REPLY,
};

/* state: the states of conntrack's --ctstate without SNAT and DNAT */
enum rustfilter_state_attr {
	RUSTFILTER_STATE_UNSPEC,
	RUSTFILTER_STATE_MASK,		/* u32: RUSTFILTER_CTSTATE_*; required (--state) */
	RUSTFILTER_STATE_INVERT,	/* flag */
	__RUSTFILTER_STATE_MAX,
};
#define RUSTFILTER_STATE_MAX (__RUSTFILTER_STATE_MAX - 1)

/* connmark: (ct mark & MASK) == VALUE; never matches a packet without an entry */
enum rustfilter_connmark_attr {
	RUSTFILTER_CONNMARK_UNSPEC,
	RUSTFILTER_CONNMARK_VALUE,	/* u32; required */
	RUSTFILTER_CONNMARK_MASK,	/* u32; absent: 0xffffffff */
	RUSTFILTER_CONNMARK_INVERT,	/* flag */
	__RUSTFILTER_CONNMARK_MAX,
};
#define RUSTFILTER_CONNMARK_MAX (__RUSTFILTER_CONNMARK_MAX - 1)

/* Target kinds and their options */
enum rustfilter_target_kind {
	RUSTFILTER_TG_UNSPEC,
	RUSTFILTER_TG_ACCEPT,
	RUSTFILTER_TG_DROP,
	RUSTFILTER_TG_RETURN,
	RUSTFILTER_TG_JUMP,		/* rustfilter_jump_attr (-j chain) */
	RUSTFILTER_TG_GOTO,		/* rustfilter_jump_attr (-g chain) */
	RUSTFILTER_TG_REJECT,		/* rustfilter_reject_attr; filter table */
	RUSTFILTER_TG_LOG,		/* rustfilter_log_attr */
	RUSTFILTER_TG_MARK,		/* rustfilter_setmark_attr */
	RUSTFILTER_TG_TOS,		/* rustfilter_settos_attr; mangle table */
	RUSTFILTER_TG_DSCP,		/* rustfilter_setdscp_attr; mangle table */
	RUSTFILTER_TG_CT,		/* rustfilter_ct_attr; raw table */
	RUSTFILTER_TG_CONNMARK,		/* rustfilter_connmark_tg_attr */
	RUSTFILTER_TG_SNAT,		/* rustfilter_nat_attr; nat POSTROUTING, INPUT */
	RUSTFILTER_TG_DNAT,		/* rustfilter_nat_attr; nat PREROUTING, OUTPUT */
	RUSTFILTER_TG_MASQUERADE,	/* rustfilter_nat_attr (no addresses); nat POSTROUTING */
	RUSTFILTER_TG_REDIRECT,		/* rustfilter_nat_attr (no addresses); nat PREROUTING, OUTPUT */
	RUSTFILTER_TG_NFQUEUE,		/* rustfilter_nfqueue_attr; not in the nat table */
	RUSTFILTER_TG_QUEUE,		/* no options: queue 0 (iptables' standard QUEUE); not in nat */
	__RUSTFILTER_TG_MAX,
};
#define RUSTFILTER_TG_MAX (__RUSTFILTER_TG_MAX - 1)

enum rustfilter_jump_attr {
	RUSTFILTER_JUMP_UNSPEC,
	RUSTFILTER_JUMP_CHAIN,		/* string: a user-defined chain */
	__RUSTFILTER_JUMP_MAX,
};
#define RUSTFILTER_JUMP_MAX (__RUSTFILTER_JUMP_MAX - 1)

enum rustfilter_reject_attr {
	RUSTFILTER_REJECT_UNSPEC,
	RUSTFILTER_REJECT_WITH,		/* u32: rustfilter_reject_with; absent: port unreachable */
	__RUSTFILTER_REJECT_MAX,
};
#define RUSTFILTER_REJECT_MAX (__RUSTFILTER_REJECT_MAX - 1)

/* As enum ipt_reject_with */
enum rustfilter_reject_with {
	RUSTFILTER_REJECT_NET_UNREACHABLE = 0,
	RUSTFILTER_REJECT_HOST_UNREACHABLE = 1,
	RUSTFILTER_REJECT_PROTO_UNREACHABLE = 2,
	RUSTFILTER_REJECT_PORT_UNREACHABLE = 3,
	RUSTFILTER_REJECT_NET_PROHIBITED = 5,
	RUSTFILTER_REJECT_HOST_PROHIBITED = 6,
	RUSTFILTER_REJECT_TCP_RESET = 7,	/* needs -p tcp */
	RUSTFILTER_REJECT_ADMIN_PROHIBITED = 8,
};

enum rustfilter_log_attr {
	RUSTFILTER_LOG_UNSPEC,
	RUSTFILTER_LOG_PREFIX,		/* string, up to 29 bytes */
	RUSTFILTER_LOG_LEVEL,		/* u8: 0..7; absent: 4 (warning) */
	RUSTFILTER_LOG_FLAGS,		/* u32: RUSTFILTER_LOG_F_* */
	__RUSTFILTER_LOG_MAX,
};
#define RUSTFILTER_LOG_MAX (__RUSTFILTER_LOG_MAX - 1)

#define RUSTFILTER_LOG_F_TCPSEQ		0x01	/* as NF_LOG_* */
#define RUSTFILTER_LOG_F_TCPOPT		0x02
#define RUSTFILTER_LOG_F_IPOPT		0x04
#define RUSTFILTER_LOG_F_UID		0x08
#define RUSTFILTER_LOG_F_MACDECODE	0x20

/* MARK: mark = (mark & ~MASK) ^ VALUE, as --set-xmark */
enum rustfilter_setmark_attr {
	RUSTFILTER_SETMARK_UNSPEC,
	RUSTFILTER_SETMARK_VALUE,	/* u32 */
	RUSTFILTER_SETMARK_MASK,	/* u32 */
	__RUSTFILTER_SETMARK_MAX,
};
#define RUSTFILTER_SETMARK_MAX (__RUSTFILTER_SETMARK_MAX - 1)

/* TOS: tos = (tos & ~MASK) ^ VALUE */
enum rustfilter_settos_attr {
	RUSTFILTER_SETTOS_UNSPEC,
	RUSTFILTER_SETTOS_VALUE,	/* u8 */
	RUSTFILTER_SETTOS_MASK,		/* u8 */
	__RUSTFILTER_SETTOS_MAX,
};
#define RUSTFILTER_SETTOS_MAX (__RUSTFILTER_SETTOS_MAX - 1)

enum rustfilter_setdscp_attr {
	RUSTFILTER_SETDSCP_UNSPEC,
	RUSTFILTER_SETDSCP_VALUE,	/* u8: 0..63 */
	__RUSTFILTER_SETDSCP_MAX,
};
#define RUSTFILTER_SETDSCP_MAX (__RUSTFILTER_SETDSCP_MAX - 1)

/* CT (xt_CT): raw table */
enum rustfilter_ct_attr {
	RUSTFILTER_CT_UNSPEC,
	RUSTFILTER_CT_FLAGS,		/* u32: RUSTFILTER_CT_F_* */
	RUSTFILTER_CT_HELPER,		/* string: "ftp" (needs -p tcp) or "tftp" (-p udp),
					 * unless RUSTFILTER_CT_F_NOTRACK */
	__RUSTFILTER_CT_MAX,
};
#define RUSTFILTER_CT_MAX (__RUSTFILTER_CT_MAX - 1)

#define RUSTFILTER_CT_F_NOTRACK		0x01	/* as XT_CT_NOTRACK */
#define RUSTFILTER_CT_F_NOTRACK_ALIAS	0x02	/* -j NOTRACK: with _NOTRACK, no helper */

/* CONNMARK (xt_connmark_tginfo1) */
enum rustfilter_connmark_tg_attr {
	RUSTFILTER_CONNMARK_TG_UNSPEC,
	RUSTFILTER_CONNMARK_TG_MODE,	/* u32: rustfilter_connmark_mode; required */
	RUSTFILTER_CONNMARK_TG_CTMARK,	/* u32; absent: 0 */
	RUSTFILTER_CONNMARK_TG_CTMASK,	/* u32; absent: 0xffffffff */
	RUSTFILTER_CONNMARK_TG_NFMASK,	/* u32; absent: 0xffffffff */
	__RUSTFILTER_CONNMARK_TG_MAX,
};
#define RUSTFILTER_CONNMARK_TG_MAX (__RUSTFILTER_CONNMARK_TG_MAX - 1)

/* As XT_CONNMARK_*; a packet without a connection entry is left alone */
enum rustfilter_connmark_mode {
	RUSTFILTER_CONNMARK_SET,	/* ctmark = (ctmark & ~CTMASK) ^ CTMARK */
	RUSTFILTER_CONNMARK_SAVE,	/* ctmark = (ctmark & ~CTMASK) ^ (mark & NFMASK) */
	RUSTFILTER_CONNMARK_RESTORE,	/* mark = (mark & ~NFMASK) ^ (ctmark & CTMASK) */
};

/* SNAT, DNAT, MASQUERADE, REDIRECT (struct nf_nat_range2). An address range
 * (SNAT and DNAT: required) and a port range (needs -p tcp or udp; for ICMP
 * echo the identifier is mapped freely). */
enum rustfilter_nat_attr {
	RUSTFILTER_NAT_UNSPEC,
	RUSTFILTER_NAT_FLAGS,		/* u32: RUSTFILTER_NAT_F_* */
	RUSTFILTER_NAT_MIN_ADDR,	/* be32 */
	RUSTFILTER_NAT_MAX_ADDR,	/* be32; absent: MIN_ADDR; not below it */
	RUSTFILTER_NAT_MIN_PORT,	/* u16, host order; not 0 */
	RUSTFILTER_NAT_MAX_PORT,	/* u16; absent: MIN_PORT; not below it */
	__RUSTFILTER_NAT_MAX,
};
#define RUSTFILTER_NAT_MAX (__RUSTFILTER_NAT_MAX - 1)

#define RUSTFILTER_NAT_F_RANDOM		0x01	/* --random (NF_NAT_RANGE_PROTO_RANDOM) */
#define RUSTFILTER_NAT_F_PERSISTENT	0x02	/* --persistent */
#define RUSTFILTER_NAT_F_RANDOM_FULLY	0x04	/* --random-fully */

/* NFQUEUE (struct xt_NFQ_info_v3): hand the packet to the netlink queue
 * NUM, or to one of TOTAL queues from NUM chosen by a hash of the addresses
 * and protocol (the same both ways), or by the CPU with CPU_FANOUT. NUM +
 * TOTAL - 1 is at most 65535. */
enum rustfilter_nfqueue_attr {
	RUSTFILTER_NFQUEUE_UNSPEC,
	RUSTFILTER_NFQUEUE_NUM,		/* u16: the (first) queue; absent: 0 */
	RUSTFILTER_NFQUEUE_TOTAL,	/* u16: number of queues, at least 1; absent: 1 */
	RUSTFILTER_NFQUEUE_FLAGS,	/* u32: RUSTFILTER_NFQUEUE_F_* */
	__RUSTFILTER_NFQUEUE_MAX,
};
#define RUSTFILTER_NFQUEUE_MAX (__RUSTFILTER_NFQUEUE_MAX - 1)

#define RUSTFILTER_NFQUEUE_F_BYPASS	0x01	/* --queue-bypass: no listener, go on (NFQ_FLAG_BYPASS) */
#define RUSTFILTER_NFQUEUE_F_CPU_FANOUT	0x02	/* --queue-cpu-fanout: by CPU; needs TOTAL > 1 */

/*
 * Connection tracking over netlink.
 */

/* The multicast group of connection events */
#define RUSTFILTER_CT_EVENTS_GROUP	"ct-events"

/* A_CT_EVENT values */
#define RUSTFILTER_CT_EVENT_NEW		1	/* confirmed (in the table) */
#define RUSTFILTER_CT_EVENT_DESTROY	2	/* out of the table */

/* One direction of a connection. For ICMP, SPORT is the id and DPORT is
 * type << 8 | code. Ports in host order. */
enum rustfilter_cttuple_attr {
	RUSTFILTER_CTTUPLE_UNSPEC,
	RUSTFILTER_CTTUPLE_SRC,		/* be32 */
	RUSTFILTER_CTTUPLE_DST,		/* be32 */
	RUSTFILTER_CTTUPLE_PROTO,	/* u8: IPPROTO_* */
	RUSTFILTER_CTTUPLE_SPORT,	/* u16 */
	RUSTFILTER_CTTUPLE_DPORT,	/* u16 */
	__RUSTFILTER_CTTUPLE_MAX,
};
#define RUSTFILTER_CTTUPLE_MAX (__RUSTFILTER_CTTUPLE_MAX - 1)

/* A connection */
enum rustfilter_ctentry_attr {
	RUSTFILTER_CTENTRY_UNSPEC,
	RUSTFILTER_CTENTRY_PAD,
	RUSTFILTER_CTENTRY_ORIG,	/* nested: rustfilter_cttuple_attr */
	RUSTFILTER_CTENTRY_REPLY,	/* nested: rustfilter_cttuple_attr */
	RUSTFILTER_CTENTRY_STATUS,	/* u32: IPS_* */
	RUSTFILTER_CTENTRY_TIMEOUT,	/* u32: seconds left */
	RUSTFILTER_CTENTRY_MARK,	/* u32 */
	RUSTFILTER_CTENTRY_TCP_STATE,	/* u8: TCP_CONNTRACK_* (TCP only) */
	RUSTFILTER_CTENTRY_USE,		/* u32: references (table, packets, readers) */
	RUSTFILTER_CTENTRY_HELPER,	/* string: "ftp", "tftp"; absent: none */
	__RUSTFILTER_CTENTRY_MAX,
};
#define RUSTFILTER_CTENTRY_MAX (__RUSTFILTER_CTENTRY_MAX - 1)

/* Statistics of a namespace's tracker */
enum rustfilter_ctstats_attr {
	RUSTFILTER_CTSTATS_UNSPEC,
	RUSTFILTER_CTSTATS_PAD,
	RUSTFILTER_CTSTATS_COUNT,	/* u32: connections allocated */
	RUSTFILTER_CTSTATS_MAX,		/* u32: the maximum */
	RUSTFILTER_CTSTATS_FOUND,	/* u64: packets of known connections */
	RUSTFILTER_CTSTATS_NEW,		/* u64: connections made */
	RUSTFILTER_CTSTATS_INVALID,	/* u64: packets that could not be tracked */
	RUSTFILTER_CTSTATS_INSERT_FAILED, /* u64: confirmations lost to a clash */
	RUSTFILTER_CTSTATS_DROP,	/* u64: packets dropped (table full, ...) */
	RUSTFILTER_CTSTATS_EARLY_DROP,	/* u64: connections evicted to make room */
	__RUSTFILTER_CTSTATS_MAX_ATTR,
};
#define RUSTFILTER_CTSTATS_MAX_ATTR (__RUSTFILTER_CTSTATS_MAX_ATTR - 1)

/* Timeouts, u32 seconds each (1 .. 2^31 - 1); absent: unchanged */
enum rustfilter_cttimeout_attr {
	RUSTFILTER_CTTIMEOUT_UNSPEC,
	RUSTFILTER_CTTIMEOUT_TCP_SYN_SENT,
	RUSTFILTER_CTTIMEOUT_TCP_SYN_RECV,
	RUSTFILTER_CTTIMEOUT_TCP_ESTABLISHED,
	RUSTFILTER_CTTIMEOUT_TCP_FIN_WAIT,
	RUSTFILTER_CTTIMEOUT_TCP_CLOSE_WAIT,
	RUSTFILTER_CTTIMEOUT_TCP_LAST_ACK,
	RUSTFILTER_CTTIMEOUT_TCP_TIME_WAIT,
	RUSTFILTER_CTTIMEOUT_TCP_CLOSE,
	RUSTFILTER_CTTIMEOUT_TCP_RETRANS,
	RUSTFILTER_CTTIMEOUT_TCP_UNACK,
	RUSTFILTER_CTTIMEOUT_UDP_UNREPLIED,
	RUSTFILTER_CTTIMEOUT_UDP_REPLIED,
	RUSTFILTER_CTTIMEOUT_ICMP,
	RUSTFILTER_CTTIMEOUT_GENERIC,
	__RUSTFILTER_CTTIMEOUT_MAX,
};
#define RUSTFILTER_CTTIMEOUT_MAX (__RUSTFILTER_CTTIMEOUT_MAX - 1)

#endif /* _UAPI_LINUX_RUSTFILTER_H */
