// SPDX-License-Identifier: GPL-2.0

#include <linux/cred.h>
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/if_arp.h>
#include <linux/skbuff.h>
#include <net/sock.h>

/*
 * skb_header_pointer() of len bytes at offset from the network header, or
 * NULL when the packet is shorter: the packet path's one call per header
 * read (the network offset and the copy's fast path, inline here, would be
 * two calls and a check from Rust).
 */
void *rust_helper_skb_network_header_pointer(const struct sk_buff *skb, u32 offset,
					     u32 len, void *buffer)
{
	s64 start = (s64)skb_network_offset(skb) + offset;

	if (start < 0 || start + len > skb->len)
		return NULL;
	return skb_header_pointer(skb, start, len, buffer);
}

int rust_helper_skb_network_offset(const struct sk_buff *skb)
{
	return skb_network_offset(skb);
}

u32 rust_helper_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

void rust_helper_skb_set_mark(struct sk_buff *skb, u32 mark)
{
	skb->mark = mark;
}

/*
 * The Ethernet source address of a received packet, with the checks of
 * xt_mac: an Ethernet device and a MAC header inside the head room.
 */
bool rust_helper_skb_eth_source(const struct sk_buff *skb, u8 *out)
{
	if (!skb->dev || skb->dev->type != ARPHRD_ETHER)
		return false;
	if (!skb_mac_header_was_set(skb) ||
	    skb_mac_header(skb) < skb->head ||
	    skb_mac_header(skb) + ETH_HLEN > skb->data)
		return false;
	memcpy(out, eth_hdr(skb)->h_source, ETH_ALEN);
	return true;
}

/*
 * Copy the link-layer header (dev->hard_header_len bytes at the MAC header)
 * into @out, as LOG prints it; returns the bytes copied, 0 when there is
 * none or it does not fit in @max.
 */
unsigned int rust_helper_skb_copy_mac_header(const struct sk_buff *skb, u8 *out,
					     unsigned int max)
{
	const unsigned char *p;
	unsigned int len;

	if (!skb->dev || !skb_mac_header_was_set(skb) || skb_mac_header_len(skb) == 0)
		return 0;
	len = skb->dev->hard_header_len;
	p = skb_mac_header(skb);
	if (!len || len > max || p < skb->head || p + len > skb_tail_pointer(skb))
		return 0;
	memcpy(out, p, len);
	return len;
}

u8 rust_helper_skb_pkt_type(const struct sk_buff *skb)
{
	return skb->pkt_type;
}

/*
 * The fsuid and fsgid (in the initial user namespace) of the process owning
 * the packet's socket, as LOG prints them: only for a full socket of @net
 * that still has a file.
 */
bool rust_helper_skb_socket_owner(const struct net *net, const struct sk_buff *skb,
				  u32 *uid, u32 *gid)
{
	struct sock *sk = skb->sk;
	bool found = false;

	if (!sk || !sk_fullsock(sk) || !net_eq(net, sock_net(sk)))
		return false;
	read_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_socket && sk->sk_socket->file) {
		const struct cred *cred = sk->sk_socket->file->f_cred;

		*uid = from_kuid_munged(&init_user_ns, cred->fsuid);
		*gid = from_kgid_munged(&init_user_ns, cred->fsgid);
		found = true;
	}
	read_unlock_bh(&sk->sk_callback_lock);
	return found;
}

/*
 * Make the first @len bytes from the network header writable (unshared,
 * linear) and return them; NULL when the packet is shorter or memory is
 * short. Any earlier pointer into the packet is stale afterwards.
 */
u8 *rust_helper_skb_writable_network(struct sk_buff *skb, unsigned int len)
{
	unsigned int off = skb_network_offset(skb);

	if (len > skb->len - off || skb_ensure_writable(skb, off + len))
		return NULL;
	return skb_network_header(skb);
}

u8 rust_helper_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

void rust_helper_skb_set_ip_summed(struct sk_buff *skb, u8 ip_summed)
{
	skb->ip_summed = ip_summed;
}

/*
 * Replace the @old_len bytes at @off (from the network header) with the
 * @rep_len bytes at @rep, growing or shrinking the packet (as
 * __nf_nat_mangle_tcp_packet does). The whole packet is made linear and
 * writable first; returns its network header, or NULL when the range is
 * outside the packet, the packet would exceed 64 KiB, or memory is short.
 */
u8 *rust_helper_skb_replace_bytes(struct sk_buff *skb, unsigned int off,
				  unsigned int old_len, const u8 *rep,
				  unsigned int rep_len)
{
	unsigned int noff = skb_network_offset(skb);
	unsigned int len = skb->len - noff;
	u8 *at;

	if (off > len || old_len > len - off)
		return NULL;
	if (len - old_len + rep_len > 65535)
		return NULL;
	if (skb_ensure_writable(skb, skb->len))
		return NULL;
	if (rep_len > old_len && rep_len - old_len > skb_tailroom(skb) &&
	    pskb_expand_head(skb, 0, rep_len - old_len - skb_tailroom(skb), GFP_ATOMIC))
		return NULL;
	at = skb_network_header(skb) + off;
	memmove(at + rep_len, at + old_len, skb_tail_pointer(skb) - (at + old_len));
	memcpy(at, rep, rep_len);
	if (rep_len > old_len)
		skb_put(skb, rep_len - old_len);
	else
		__skb_trim(skb, skb->len - (old_len - rep_len));
	return skb_network_header(skb);
}

#include <net/dst.h>
#include <net/inet_sock.h>
#include <net/tcp.h>

/* Forget the route attached to the packet (its destination changed). */
void rust_helper_skb_dst_drop(struct sk_buff *skb)
{
	skb_dst_drop(skb);
}

/*
 * The destination port (host order) of the socket early demux gave the
 * packet, or -1 if it has none or a transparent one (which stays).
 */
int rust_helper_skb_demux_sock_dport(const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;

	if (!sk || inet_sk_transparent(sk))
		return -1;
	return ntohs(sk->sk_dport);
}

/* Detach the packet from its socket (early demux found the wrong one). */
void rust_helper_skb_orphan(struct sk_buff *skb)
{
	skb_orphan(skb);
}
