// SPDX-License-Identifier: GPL-2.0

#include <linux/bottom_half.h>
#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/smp.h>
#include <net/dsfield.h>

/* Set the IPv4 DS field to (old & mask) | value, fixing the checksum. */
int rust_helper_skb_ipv4_change_dsfield(struct sk_buff *skb, u8 mask, u8 value)
{
	if (skb_ensure_writable(skb, sizeof(struct iphdr)))
		return -ENOMEM;
	ipv4_change_dsfield(ip_hdr(skb), mask, value);
	return 0;
}

void rust_helper_local_bh_disable(void)
{
	local_bh_disable();
}

void rust_helper_local_bh_enable(void)
{
	local_bh_enable();
}

unsigned int rust_helper_raw_smp_processor_id(void)
{
	return raw_smp_processor_id();
}
