// SPDX-License-Identifier: GPL-2.0

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/notifier.h>
#include <linux/refcount.h>

void rust_helper_nf_conntrack_put(struct nf_conntrack *nfct)
{
	nf_conntrack_put(nfct);
}

int rust_helper_notifier_from_errno(int err)
{
	return notifier_from_errno(err);
}

bool rust_helper_refcount_inc_not_zero(refcount_t *r)
{
	return refcount_inc_not_zero(r);
}
