// SPDX-License-Identifier: GPL-2.0

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

void *rust_helper_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

#include <linux/inetdevice.h>
#include <linux/netdevice.h>

/* The namespace and index of the device a netdevice notifier event is about. */
struct net *rust_helper_netdev_event_dev(void *ptr, int *ifindex)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	*ifindex = dev->ifindex;
	return dev_net(dev);
}

/* The namespace, device index and address an inetaddr notifier event is about. */
struct net *rust_helper_inetaddr_event(void *ptr, int *ifindex, __be32 *addr)
{
	const struct in_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->ifa_dev->dev;

	*ifindex = dev->ifindex;
	*addr = ifa->ifa_address;
	return dev_net(dev);
}

/* The data a /proc/net file was created with (proc_create_net_single). */
void *rust_helper_seq_pde_data(struct seq_file *seq)
{
	return pde_data(file_inode(seq->file));
}

/* The namespace's /proc/net/netfilter directory (NULL without procfs). */
struct proc_dir_entry *rust_helper_net_proc_netfilter(struct net *net)
{
#ifdef CONFIG_PROC_FS
	return net->nf.proc_netfilter;
#else
	return NULL;
#endif
}
