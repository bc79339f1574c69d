// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for kernel::net::nfqueue, kernel::net::nfnetlink and
 * kernel::net::netlink: inline functions and macros of the queue, netlink
 * and skb headers, and the few pieces of nfnetlink_queue.c that are static
 * there and need C (the saved route keys of a LOCAL_OUT packet).
 */

#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_queue.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/gso.h>
#include <net/ip.h>

/* The hook array of a family and hook point (nf_hook_entries_head). RCU. */
const struct nf_hook_entries *
rust_helper_nfq_hook_entries(const struct net *net, u8 pf, u8 hook)
{
	if (hook >= NF_INET_NUMHOOKS)
		return NULL;
	switch (pf) {
	case NFPROTO_IPV4:
		return rcu_dereference(net->nf.hooks_ipv4[hook]);
#if IS_ENABLED(CONFIG_IPV6)
	case NFPROTO_IPV6:
		return rcu_dereference(net->nf.hooks_ipv6[hook]);
#endif
	default:
		return NULL;
	}
}

u16 rust_helper_nfq_hook_count(const struct nf_hook_entries *hooks)
{
	return hooks->num_hook_entries;
}

/* Runs hook function `i` of `hooks` (nf_hook_entry_hookfn). */
unsigned int rust_helper_nfq_hook_run(const struct nf_hook_entries *hooks, u16 i,
				      struct sk_buff *skb, struct nf_hook_state *state)
{
	return nf_hook_entry_hookfn(&hooks->hooks[i], skb, state);
}

/*
 * Routes a LOCAL_OUT packet again if what its route was chosen by changed
 * while it was queued (nf_reroute, nf_ip_reroute): the keys __nf_queue saved
 * after the entry. RCU.
 */
int rust_helper_nfq_reroute(struct nf_queue_entry *entry)
{
	struct sk_buff *skb = entry->skb;

	switch (entry->state.pf) {
	case NFPROTO_IPV4: {
		const struct ip_rt_info *rt_info = nf_queue_entry_reroute(entry);
		const struct iphdr *iph = ip_hdr(skb);

		if (entry->state.hook != NF_INET_LOCAL_OUT)
			return 0;
		if (iph->tos == rt_info->tos && skb->mark == rt_info->mark &&
		    iph->daddr == rt_info->daddr && iph->saddr == rt_info->saddr)
			return 0;
		return ip_route_me_harder(entry->state.net, entry->state.sk, skb,
					  RTN_UNSPEC);
	}
	case NFPROTO_IPV6: {
		const struct nf_ipv6_ops *v6ops = rcu_dereference(nf_ipv6_ops);

		return v6ops ? v6ops->reroute(skb, entry) : 0;
	}
	default:
		return 0;
	}
}

/* The connection tracker's word on a packet userspace let go (nfqnl_reinject). */
unsigned int rust_helper_nfq_ct_update(struct nf_queue_entry *entry)
{
	const struct nf_ct_hook *ct_hook = rcu_dereference(nf_ct_hook);

	return ct_hook ? ct_hook->update(entry->state.net, entry->skb) : NF_ACCEPT;
}

/* Hands a packet that passed the hooks on (state.okfn), as nf_reinject does. */
void rust_helper_nfq_okfn(struct nf_queue_entry *entry)
{
	local_bh_disable();
	entry->state.okfn(entry->state.net, entry->state.sk, entry->skb);
	local_bh_enable();
}

/*
 * Drops the queued packets of `net` through the queue handler, as the core
 * does when it unregisters a hook. nf_queue_nf_hook_drop is exported but
 * declared only in net/netfilter/nf_internals.h.
 */
void nf_queue_nf_hook_drop(struct net *net);

void rust_helper_nfq_hook_drop(struct net *net)
{
	nf_queue_nf_hook_drop(net);
}

bool rust_helper_nfq_maybe_get_net(struct net *net)
{
	return maybe_get_net(net) != NULL;
}

void rust_helper_nfq_put_net(struct net *net)
{
	put_net(net);
}

/* Whether the entry holds device `ifindex` (nfqnl_dev_drop's dev_cmp). */
bool rust_helper_nfq_uses_device(const struct nf_queue_entry *entry, int ifindex)
{
	if (entry->state.in && entry->state.in->ifindex == ifindex)
		return true;
	if (entry->state.out && entry->state.out->ifindex == ifindex)
		return true;
	if (entry->skb_dev && entry->skb_dev->ifindex == ifindex)
		return true;
	return false;
}

/*
 * What a PACKET message says of a packet (nfqnl_build_packet_message).
 * Mirrored by kernel::net::nfqueue's #[repr(C)] `Meta` (bindgen does not
 * see a structure defined here): keep both in step.
 */
struct rust_nfq_meta {
	s64 tstamp_ns;
	u32 len;
	u32 headlen;
	u32 mark;
	u32 priority;
	int indev;
	int outdev;
	u16 hwaddr_len;
	u8 hwaddr[8];
	bool gso;
	bool csum_partial;
	bool csum_unnecessary;
	bool has_sk;
	bool frags_readable;
	bool ct_unconfirmed;
};

void rust_helper_nfq_packet_meta(const struct nf_queue_entry *entry, void *out)
{
	const struct sk_buff *skb = entry->skb;
	struct rust_nfq_meta *m = out;
	const struct net_device *indev = entry->state.in;

	memset(m, 0, sizeof(*m));
	m->len = skb->len;
	m->headlen = skb_headlen(skb);
	m->mark = skb->mark;
	m->priority = skb->priority;
	m->indev = indev ? indev->ifindex : 0;
	m->outdev = entry->state.out ? entry->state.out->ifindex : 0;
	if (indev && skb->dev && skb_mac_header_was_set(skb) &&
	    skb_mac_header_len(skb) != 0) {
		int len = dev_parse_header(skb, m->hwaddr);

		m->hwaddr_len = len > 0 ? len : 0;
	}
	if (entry->state.hook <= NF_INET_FORWARD)
		m->tstamp_ns = ktime_to_ns(skb_tstamp_cond(skb, false));
	m->gso = skb_is_gso(skb);
	m->csum_partial = skb->ip_summed == CHECKSUM_PARTIAL;
	m->csum_unnecessary = skb_csum_unnecessary(skb);
	m->has_sk = skb->sk != NULL;
	m->frags_readable = skb_frags_readable(skb);
	m->ct_unconfirmed = entry->nf_ct_is_unconfirmed;
}

/*
 * Completes a CHECKSUM_PARTIAL packet's checksum before its bytes are copied
 * to userspace (nf_queue_checksum_help).
 */
int rust_helper_nfq_checksum_help(struct sk_buff *skb)
{
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return 0;
	if (skb->protocol == htons(ETH_P_IP)) {
		if (!pskb_network_may_pull(skb, sizeof(struct iphdr)) ||
		    ip_check_csum_start(skb))
			return -EINVAL;
	}
	if (skb_csum_is_sctp(skb))
		return skb_crc32c_csum_help(skb);
	return skb_checksum_help(skb);
}

/*
 * Replaces the packet with `len` bytes from `data` (nfqnl_mangle): the skb
 * is trimmed, grown in place, or replaced by a larger copy (then
 * entry->skb changes), made linear and writable, and marked as carrying no
 * verified checksum.
 */
int rust_helper_nfq_mangle(struct nf_queue_entry *e, const void *data, u32 len)
{
	struct sk_buff *nskb;
	int diff = (int)len - (int)e->skb->len;

	if (len > 0xFFFF)
		return -EINVAL;
	if (diff < 0) {
		if ((int)len < skb_transport_offset(e->skb))
			return -EINVAL;
		if (pskb_trim(e->skb, len))
			return -ENOMEM;
	} else if (diff > 0) {
		if (diff > skb_tailroom(e->skb)) {
			nskb = skb_copy_expand(e->skb, skb_headroom(e->skb), diff,
					       GFP_ATOMIC);
			if (!nskb)
				return -ENOMEM;
			kfree_skb(e->skb);
			e->skb = nskb;
		}
		skb_put(e->skb, diff);
	}
	if (skb_ensure_writable(e->skb, len))
		return -ENOMEM;
	skb_copy_to_linear_data(e->skb, data, len);
	e->skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

void rust_helper_nfq_skb_set_priority(struct sk_buff *skb, u32 priority)
{
	skb->priority = priority;
}

/* A new netlink message skb with `len` bytes of data, returned in *data. */
struct sk_buff *rust_helper_nfq_msg_alloc(u32 len, u8 **data)
{
	struct sk_buff *skb = alloc_skb(NLMSG_ALIGN(len), GFP_ATOMIC);

	if (!skb)
		return NULL;
	*data = skb_put(skb, len);
	return skb;
}

void rust_helper_nfq_msg_free(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* The netlink port of the socket that sent `skb` (NETLINK_CB). */
u32 rust_helper_netlink_skb_portid(const struct sk_buff *skb)
{
	return NETLINK_CB(skb).portid;
}

/*
 * Marks an entry as one of several segments sharing a connection that was
 * not confirmed when they were queued (nfqnl_enqueue_packet).
 */
void rust_helper_nfq_set_ct_unconfirmed(struct nf_queue_entry *entry)
{
	entry->nf_ct_is_unconfirmed = true;
}

/* The fields of a NETLINK_URELEASE notification. */
void rust_helper_netlink_notify_fields(const struct netlink_notify *n,
				       struct net **net, u32 *portid, int *protocol)
{
	*net = n->net;
	*portid = n->portid;
	*protocol = n->protocol;
}

/* The queue of an instance: entries linked through entry->list. */
void rust_helper_nfq_list_init(struct list_head *head)
{
	INIT_LIST_HEAD(head);
}

void rust_helper_nfq_list_add_tail(struct nf_queue_entry *entry, struct list_head *head)
{
	list_add_tail(&entry->list, head);
}

void rust_helper_nfq_list_del(struct nf_queue_entry *entry)
{
	list_del(&entry->list);
}

/* The entry after `prev` (the first one if `prev` is NULL), or NULL. */
struct nf_queue_entry *rust_helper_nfq_list_next(struct list_head *head,
						 struct nf_queue_entry *prev)
{
	struct list_head *next = prev ? prev->list.next : head->next;

	return next == head ? NULL : list_entry(next, struct nf_queue_entry, list);
}

void rust_helper_nfq_drop_skb(struct sk_buff *skb)
{
	kfree_skb_reason(skb, SKB_DROP_REASON_NETFILTER_DROP);
}

/*
 * Splits the GSO packet of `entry` into its segments, one entry each,
 * appended to `list` (nfqnl_enqueue_packet without NFQA_CFG_F_GSO): `entry`
 * itself carries the last segment, the others get copies of it with their
 * own references (a segment whose copy fails is dropped). The GSO packet is
 * freed. Returns how many entries were appended, or -ENOBUFS with `entry`
 * and its packet untouched when the packet cannot be segmented.
 */
int rust_helper_nfq_segment(struct nf_queue_entry *entry, struct list_head *list)
{
	struct sk_buff *skb = entry->skb, *segs, *seg, *next;
	int n = 0;

	segs = skb_gso_segment(skb, 0);
	if (IS_ERR_OR_NULL(segs))
		return -ENOBUFS;
	skb_list_walk_safe(segs, seg, next) {
		struct nf_queue_entry *e = entry;

		skb_mark_not_on_list(seg);
		if (next) {
			e = kmemdup(entry, entry->size, GFP_ATOMIC);
			if (e && !nf_queue_entry_get_refs(e)) {
				kfree(e);
				e = NULL;
			}
			if (!e) {
				kfree_skb_reason(seg, SKB_DROP_REASON_NOMEM);
				continue;
			}
			get_net(e->state.net);
		}
		e->skb = seg;
		list_add_tail(&e->list, list);
		n++;
	}
	consume_skb(skb);
	return n;
}
