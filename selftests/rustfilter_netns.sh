#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that rustfilter's counters are per network namespace: traffic in one
# namespace shows only there, new namespaces get hooks, and destroying one
# while the module is loaded is clean.

source lib.sh

rf_require_tools
rf_require_module

ret=0

cleanup() {
	cleanup_all_ns
}

trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

# All of these are created after the module was loaded.
setup_ns nsa nsb nsc
veth_link "$nsa" veth0 10.0.4.1/24 "$nsb" veth0 10.0.4.2/24 || exit $ksft_fail

# Fresh namespaces start at zero.
lret=0
for ns in "$nsa" "$nsb" "$nsc"; do
	rf_expect_hooks "$ns" "new namespace" 0 0 0 0 0 0 || lret=1
done
if [ $lret -eq 0 ]; then
	echo "PASS: new namespaces start with zero counters"
else
	ret=1
fi

if ! rf_zero -; then
	echo "FAIL: rfctl stats --zero in the init namespace failed"
	exit $ksft_fail
fi

if ! ip netns exec "$nsa" ping -q -c 4 -W 1 10.0.4.2 > /dev/null 2>&1; then
	echo "FAIL: ping from $nsa to $nsb failed"
	exit $ksft_fail
fi

# ping -s 56: 84-byte IP packets; 4 requests out of A, 4 replies into A.
lret=0
#                                  PRE IN FWD OUT POST
rf_expect_hooks "$nsa" "ping A->B" 4 4 0 4 4 84 || lret=1
rf_expect_hooks "$nsb" "ping A->B" 4 4 0 4 4 84 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: traffic between A and B counted in A and B"
else
	ret=1
fi

lret=0
rf_expect_hooks "$nsc" "ping A->B, seen from C" 0 0 0 0 0 0 || lret=1
rf_expect_hooks - "ping A->B, seen from init_net" 0 0 0 0 0 0 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: traffic between A and B not counted in C nor in the init namespace"
else
	ret=1
fi

# Loopback traffic in C: each request and each reply passes OUTPUT,
# POSTROUTING, PREROUTING and INPUT of C only.
lret=0
rf_zero "$nsa" && rf_zero "$nsb" || lret=1
if ! ip netns exec "$nsc" ping -q -c 2 -W 1 127.0.0.1 > /dev/null 2>&1; then
	echo "FAIL: ping 127.0.0.1 in $nsc failed"
	lret=1
fi
rf_expect_hooks "$nsc" "loopback ping in C" 4 4 0 4 4 84 || lret=1
rf_expect_hooks "$nsa" "loopback ping in C, seen from A" 0 0 0 0 0 || lret=1
rf_expect_hooks "$nsb" "loopback ping in C, seen from B" 0 0 0 0 0 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: loopback traffic in C counted in C only"
else
	ret=1
fi

# A namespace destroyed while the module is loaded and has counted traffic
# in it. The veth peer left in C disappears when D's devices are torn down
# during the namespace's cleanup; the runner checks dmesg afterwards.
peer_gone() {
	! ip -n "$nsc" link show vethd > /dev/null 2>&1
}

lret=0
setup_ns nsd
veth_link "$nsd" veth0 10.0.5.1/24 "$nsc" vethd 10.0.5.2/24 || exit $ksft_fail
ip netns exec "$nsd" ping -q -c 2 -W 1 10.0.5.2 > /dev/null 2>&1 || lret=1
rf_expect_hooks "$nsd" "ping D->C" 2 2 0 2 2 84 || lret=1
cleanup_ns "$nsd" || lret=1
if ! busywait "$BUSYWAIT_TIMEOUT" peer_gone; then
	echo "FAIL: vethd in $nsc still there after its peer's namespace was deleted"
	lret=1
fi
# The other namespaces still count.
rf_zero "$nsa" || lret=1
if ! ip netns exec "$nsa" ping -q -c 1 -W 1 10.0.4.2 > /dev/null 2>&1; then
	echo "FAIL: ping from $nsa to $nsb after deleting $nsd failed"
	lret=1
fi
rf_expect_hooks "$nsa" "ping A->B after deleting D" 1 1 0 1 1 84 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: namespace deleted with the module loaded, others still count"
else
	ret=1
fi

exit $ret
