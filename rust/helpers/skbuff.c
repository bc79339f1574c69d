// SPDX-License-Identifier: GPL-2.0

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/skbuff.h>

void *rust_helper_skb_header_pointer(const struct sk_buff *skb, int offset, int len,
				     void *buffer)
{
	return skb_header_pointer(skb, offset, len, buffer);
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
