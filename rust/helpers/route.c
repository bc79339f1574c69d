// SPDX-License-Identifier: GPL-2.0

#include <linux/inetdevice.h>
#include <linux/netfilter_ipv4.h>
#include <net/ip_fib.h>
#include <net/route.h>
#include <net/sock.h>

int rust_helper_fib_lookup(struct net *net, struct flowi4 *flp, struct fib_result *res,
			   unsigned int flags)
{
	return fib_lookup(net, flp, res, flags);
}

kuid_t rust_helper_sock_net_uid(const struct net *net, const struct sock *sk)
{
	return sock_net_uid(net, sk);
}

/*
 * The source address MASQUERADE gives a packet leaving through @out: the
 * address of @out that inet_select_addr picks for the packet's next hop
 * (nf_nat_masquerade_ipv4). 0 when the packet has no route or @out no
 * address.
 */
__be32 rust_helper_masquerade_addr(const struct sk_buff *skb, const struct net_device *out)
{
	const struct rtable *rt = skb_rtable(skb);
	__be32 nh;

	if (!rt || !out)
		return 0;
	nh = rt_nexthop(rt, ip_hdr(skb)->daddr);
	return inet_select_addr(out, nh, RT_SCOPE_UNIVERSE);
}

/* The primary address of @dev (REDIRECT's destination); 0 if it has none. */
__be32 rust_helper_dev_primary_addr(const struct net_device *dev)
{
	const struct in_device *indev;
	const struct in_ifaddr *ifa;
	__be32 addr = 0;

	rcu_read_lock();
	indev = __in_dev_get_rcu(dev);
	if (indev) {
		ifa = rcu_dereference(indev->ifa_list);
		if (ifa)
			addr = ifa->ifa_local;
	}
	rcu_read_unlock();
	return addr;
}

/* Route a locally generated packet again after its destination changed. */
int rust_helper_route_me_harder(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	return ip_route_me_harder(net, sk, skb, RTN_UNSPEC);
}

#include <net/inet_hashtables.h>
#include <net/udp.h>

/*
 * Whether a local socket of @net would take a packet of @proto from
 * @saddr:@sport to the local address @daddr:@dport: a TCP listener or a
 * bound UDP socket. NAT does not map a connection onto such a port.
 */
bool rust_helper_local_socket_bound(struct net *net, u8 proto, __be32 saddr, __be16 sport,
				    __be32 daddr, __be16 dport)
{
	struct sock *sk = NULL;

	if (inet_addr_type(net, daddr) != RTN_LOCAL)
		return false;
	rcu_read_lock();
	switch (proto) {
	case IPPROTO_TCP:
		sk = inet_lookup_listener(net, net->ipv4.tcp_death_row.hashinfo, NULL, 0,
					  saddr, sport, daddr, dport, 0, 0);
		break;
	case IPPROTO_UDP:
		sk = __udp4_lib_lookup(net, saddr, sport, daddr, dport, 0, 0,
				       net->ipv4.udp_table, NULL);
		break;
	}
	rcu_read_unlock();
	return sk != NULL;
}
