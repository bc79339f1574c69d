#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading under load (issue 8), first half: rustfilter unloaded and
# loaded again 25 times while TCP, UDP, ping and FTP (helper, expectations)
# go through a MASQUERADE router with a stateful filter; each unload has
# translated connections in the table, the reference count is 0, rmmod
# succeeds, no splat; afterwards traffic goes through the NAT again and
# slab, vmalloc and namespaces are back where they were. See
# stress_reload.sh; rustfilter_stress_ctmax.sh is the second half (another
# 25, with nf_conntrack_max=128 and a full table). Two scripts, so that
# each finishes well within the selftests' timeout under TCG.

source lib.sh

RELOADS=${RELOADS:-25}
CT_MAX=
LOAD_PARAMS=

source stress_reload.sh
