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
	__RUSTFILTER_CMD_MAX,
};
#define RUSTFILTER_CMD_MAX (__RUSTFILTER_CMD_MAX - 1)

/* Top-level attributes */
enum rustfilter_attr {
	RUSTFILTER_A_UNSPEC,
	RUSTFILTER_A_PAD,
	RUSTFILTER_A_HOOK_STATS,	/* nested: rustfilter_stats_attr */
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

#endif /* _UAPI_LINUX_RUSTFILTER_H */
