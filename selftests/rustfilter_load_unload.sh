#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload rustfilter repeatedly with traffic between two namespaces
# in between; rfctl must work while it is loaded and fail once it is gone.

source lib.sh

rf_require_tools
rf_require_module

CYCLES=${CYCLES:-20}

ret=0
was_loaded=0
rf_loaded && was_loaded=1

cleanup() {
	cleanup_all_ns
	# Leave the module as we found it.
	if [ $was_loaded -eq 1 ]; then
		rf_load
	else
		rf_unload
	fi
}

trap cleanup EXIT

setup_ns ns1 ns2
veth_link "$ns1" veth1 10.0.3.1/24 "$ns2" veth2 10.0.3.2/24 || exit $ksft_fail

ping_ok() {
	ip netns exec "$ns1" ping -q -c 1 -W 1 10.0.3.2 > /dev/null 2>&1
}

if ! rf_unload; then
	echo "FAIL: could not unload rustfilter before the test"
	exit $ksft_fail
fi

for i in $(seq 1 "$CYCLES"); do
	if ! rf_load; then
		echo "FAIL: cycle $i: insmod $(rf_ko) failed"
		ret=1
		break
	fi
	if ! out=$(rf_stats "$ns1" 2>&1); then
		echo "FAIL: cycle $i: rfctl stats failed with the module loaded"
		echo "$out" | sed 's/^/    /'
		ret=1
	fi
	if ! ping_ok; then
		echo "FAIL: cycle $i: ping with the module loaded failed"
		ret=1
	fi
	# The ping just sent went out (OUTPUT) and its reply came in (INPUT).
	out=$(rf_counter "$ns1" OUTPUT packets)
	if [ "$out" != 1 ]; then
		echo "FAIL: cycle $i: OUTPUT packets in $ns1 after one ping is ${out:-<unreadable>}, expected 1"
		ret=1
	fi
	if ! rmmod rustfilter; then
		echo "FAIL: cycle $i: rmmod rustfilter failed"
		ret=1
		break
	fi
	if rf_loaded; then
		echo "FAIL: cycle $i: rustfilter still listed in /proc/modules after rmmod"
		ret=1
		break
	fi
	out=$(rf_stats "$ns1" 2>&1)
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "FAIL: cycle $i: rfctl stats without the module exited $rc, expected 1"
		echo "$out" | sed 's/^/    /'
		ret=1
	fi
	if ! ping_ok; then
		echo "FAIL: cycle $i: ping without the module failed"
		ret=1
	fi
	[ $ret -eq 0 ] || break
done
[ $ret -eq 0 ] && echo "PASS: $CYCLES load/unload cycles with traffic in between"

if ip netns exec "$ns1" ping -q -c 3 -W 1 10.0.3.2 > /dev/null 2>&1; then
	echo "PASS: traffic still flows after the last unload"
else
	echo "FAIL: ping after the last unload failed"
	ret=1
fi

exit $ret
