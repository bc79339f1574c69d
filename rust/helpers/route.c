// SPDX-License-Identifier: GPL-2.0

#include <net/ip_fib.h>
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
