#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the netlink queue selftests (rustfilter_queue_clients.sh,
# rustfilter_queue_target.sh) share: which queue implementation runs,
# waiting for a listener to bind, and listeners in the background.
# Sourced after lib.sh.

# QUEUE_IMPL=rustfilter (default): rustfilter.ko is the queue handler.
# QUEUE_IMPL=upstream: the kernel's nfnetlink_queue.ko is, and rustfilter is
# not loaded: the reference the same test must pass against. In the VM:
# VM_APPEND=rfvm.env=QUEUE_IMPL=upstream scripts/vm.sh check NAME.sh
: "${QUEUE_IMPL:=rustfilter}"

# q_setup_impl: load the handler QUEUE_IMPL names (skip when it cannot be).
q_setup_impl()
{
	case "$QUEUE_IMPL" in
	rustfilter)
		rf_require_module
		if grep -q "^nfnetlink_queue " /proc/modules && ! rmmod nfnetlink_queue; then
			echo "SKIP: nfnetlink_queue is loaded and cannot be unloaded"
			exit $ksft_skip
		fi
		if ! rf_load; then
			echo "FAIL: could not load rustfilter"
			exit $ksft_fail
		fi
		;;
	upstream)
		if ! rf_unload; then
			echo "SKIP: rustfilter is loaded and cannot be unloaded"
			exit $ksft_skip
		fi
		if ! modprobe nfnetlink_queue; then
			echo "SKIP: Could not load nfnetlink_queue"
			exit $ksft_skip
		fi
		;;
	*)
		echo "FAIL: QUEUE_IMPL is $QUEUE_IMPL, not rustfilter or upstream"
		exit $ksft_fail
		;;
	esac
	echo "INFO: queue handler: $QUEUE_IMPL"
}

# q_bound NS QUEUE: whether a listener is bound to QUEUE in namespace NS,
# as /proc/net/netfilter/nfnetlink_queue says (its first column).
q_bound()
{
	ip netns exec "$1" awk -v q="$2" '$1 == q { f = 1 } END { exit !f }' \
		/proc/net/netfilter/nfnetlink_queue 2> /dev/null
}

# q_handler_ok: in rustfilter mode, nfnetlink_queue is not loaded (a bind
# autoloads it through its "nfnetlink-subsys-3" alias when nobody holds the
# queue subsystem: then rustfilter would not be the handler under test).
q_handler_ok()
{
	if [ "$QUEUE_IMPL" = rustfilter ] && grep -q "^nfnetlink_queue " /proc/modules; then
		echo "FAIL: nfnetlink_queue got loaded: rustfilter is not the queue handler"
		return 1
	fi
	return 0
}

# q_wait_bound NS QUEUE...: wait until every QUEUE has a listener in NS.
# Without the /proc file (a handler that has none) wait a second instead.
q_wait_bound()
{
	local ns=$1 q; shift

	q_handler_ok || return 1
	if ! ip netns exec "$ns" test -e /proc/net/netfilter/nfnetlink_queue; then
		echo "INFO: no /proc/net/netfilter/nfnetlink_queue; waiting 1 s for the listener"
		sleep 1
		return 0
	fi
	for q in "$@"; do
		if ! busywait "$BUSYWAIT_TIMEOUT" q_bound "$ns" "$q"; then
			echo "FAIL: no listener bound to queue $q in $ns"
			ip netns exec "$ns" cat /proc/net/netfilter/nfnetlink_queue | sed 's/^/    /'
			return 1
		fi
	done
	q_handler_ok
}

# q_start NS OUT CMD...: run the listener CMD in namespace NS in the
# background, its output (stdout and stderr) to OUT; sets q_pid.
q_start()
{
	local ns=$1 out=$2; shift 2

	ip netns exec "$ns" "$@" > "$out" 2>&1 &
	q_pid=$!
}

# q_finish PID [SECONDS]: wait for a listener that ends by itself (after
# its count or idle time), at most SECONDS (default 20), then kill it.
# Returns its exit status, or 124 if it had to be killed.
q_finish()
{
	local pid=$1 secs=${2:-20} n=0

	while kill -0 "$pid" 2> /dev/null && [ $n -lt $((secs * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2> /dev/null; then
		kill "$pid" 2> /dev/null
		wait "$pid" 2> /dev/null
		return 124
	fi
	wait "$pid"
}

# q_stop PID: end a listener that runs until killed.
q_stop()
{
	kill "$1" 2> /dev/null
	wait "$1" 2> /dev/null
	return 0
}

# q_lines FILE PATTERN: how many lines of FILE match the extended regular
# expression PATTERN.
q_lines()
{
	grep -Ec -- "$2" "$1" 2> /dev/null
}

# q_ipt NS ARGS...: iptables-legacy in namespace NS.
q_ipt()
{
	local ns=$1; shift

	ip netns exec "$ns" iptables-legacy -w "$@"
}

# q_ipt_packets NS TABLE CHAIN N: the packet counter of rule N of CHAIN.
q_ipt_packets()
{
	q_ipt "$1" -t "$2" -L "$3" -v -x -n | awk -v n="$4" 'NR == n + 2 { print $1 }'
}

# q_cleanup: the EXIT trap of q_topology: background jobs stopped, the
# namespaces and $tmp removed.
q_cleanup()
{
	local p

	for p in $(jobs -p); do
		kill "$p" 2> /dev/null
	done
	cleanup_all_ns
	rm -rf "$tmp"
}

# q_topology: $tmp, the q_cleanup trap, the handler QUEUE_IMPL names
# (q_setup_impl) and the client - router - server namespaces of
# rf_setup_router.
q_topology()
{
	tmp=$(mktemp -d)
	trap q_cleanup EXIT
	q_setup_impl
	setup_ns client router server
	rf_setup_router || exit $ksft_fail
}
