/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers rustfilter's abstractions need from bindgen; merged in
 * alphabetical order into rust/bindings/bindings_helper.h by
 * scripts/prepare-tree.py.
 */
#include <linux/netdevice.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/notifier.h>
#include <linux/netfilter_ipv4.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/inetdevice.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/route.h>
#include <net/ip_fib.h>
#include <net/sock.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/netfilter/nf_queue.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
