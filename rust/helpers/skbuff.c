// SPDX-License-Identifier: GPL-2.0

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
