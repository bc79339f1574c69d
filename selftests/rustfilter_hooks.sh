#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that rustfilter counts each packet at exactly the hooks it passes:
# forwarded, local-in, local-out and TCP traffic through a router namespace.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server

source lib.sh

rf_require_tools
rf_require_module
if ! command -v nc > /dev/null 2>&1; then
	echo "SKIP: Could not run test without nc"
	exit $ksft_skip
fi

# ping -s 56: 20 bytes IP header + 8 bytes ICMP header + 56 bytes data.
PING_BYTES=84
TCP_PORT=5001
TCP_SIZE=16384

ret=0
tmpdir=$(mktemp -d)

cleanup() {
	cleanup_all_ns
	rm -rf "$tmpdir"
}

trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns client router server
rf_setup_router || exit $ksft_fail

# pings FROM_NS DEST: exactly three echo requests; all must be answered.
pings() {
	if ! ip netns exec "$1" ping -q -c 3 -W 1 -s 56 "$2" > "$tmpdir/ping" 2>&1; then
		echo "FAIL: ping from $1 to $2 failed"
		sed 's/^/    /' "$tmpdir/ping"
		return 1
	fi
	return 0
}

zero_all() {
	local ns

	for ns in "$client" "$router" "$server"; do
		if ! rf_zero "$ns"; then
			echo "FAIL: rfctl stats --zero in $ns failed"
			return 1
		fi
	done
	return 0
}

# Forwarded: 3 requests and 3 replies pass the router's PREROUTING,
# FORWARD and POSTROUTING, never its INPUT or OUTPUT.
lret=0
zero_all || exit $ksft_fail
pings "$client" 10.0.2.2 || exit $ksft_fail
rf_expect_hooks "$router" "forwarded ping" 6 0 6 0 6 $PING_BYTES || lret=1
#                                           PRE IN FWD OUT POST
rf_expect_hooks "$client" "forwarded ping" 3 3 0 3 3 $PING_BYTES || lret=1
rf_expect_hooks "$server" "forwarded ping" 3 3 0 3 3 $PING_BYTES || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: forwarded ping counted at PREROUTING, FORWARD, POSTROUTING"
else
	ret=1
fi

# To the router: requests come in (PREROUTING, INPUT), replies go out
# (OUTPUT, POSTROUTING).
lret=0
zero_all || exit $ksft_fail
pings "$client" 10.0.1.1 || exit $ksft_fail
rf_expect_hooks "$router" "ping to router" 3 3 0 3 3 $PING_BYTES || lret=1
rf_expect_hooks "$server" "ping to router" 0 0 0 0 0 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: ping to the router counted at PREROUTING, INPUT, OUTPUT, POSTROUTING"
else
	ret=1
fi

# From the router: requests go out (OUTPUT, POSTROUTING), replies come in
# (PREROUTING, INPUT).
lret=0
zero_all || exit $ksft_fail
pings "$router" 10.0.2.2 || exit $ksft_fail
rf_expect_hooks "$router" "ping from router" 3 3 0 3 3 $PING_BYTES || lret=1
rf_expect_hooks "$client" "ping from router" 0 0 0 0 0 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: ping from the router counted at OUTPUT, POSTROUTING, PREROUTING, INPUT"
else
	ret=1
fi

# TCP through the router: every segment in either direction passes
# PREROUTING, FORWARD and POSTROUTING once.
router_tcp_settled() {
	local a b

	a=$(rf_snapshot "$router") || return 1
	sleep 0.2
	b=$(rf_snapshot "$router") || return 1
	[ "$a" = "$b" ] || return 1
	[ "$(rf_counter "$router" PREROUTING packets)" = "$(rf_counter "$router" FORWARD packets)" ] &&
	[ "$(rf_counter "$router" FORWARD packets)" = "$(rf_counter "$router" POSTROUTING packets)" ]
}

proc_gone() {
	! kill -0 "$1" 2> /dev/null
}

server_listening() {
	# busybox nc listens on an IPv6 socket when the kernel has IPv6.
	ip netns exec "$server" cat /proc/net/tcp /proc/net/tcp6 2> /dev/null | awk -v p="$(printf ':%04X' $TCP_PORT)" '
		$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }'
}

lret=0
zero_all || exit $ksft_fail
head -c $TCP_SIZE /dev/urandom > "$tmpdir/data"
# busybox nc exits as soon as its peer shuts down, whatever it still has
# to read or write: let a shell on the server side read until EOF instead.
ip netns exec "$server" nc -l -p $TCP_PORT -e sh -c "cat > $tmpdir/received" &
server_pid=$!
if ! busywait "$BUSYWAIT_TIMEOUT" server_listening; then
	echo "FAIL: nc in $server is not listening on port $TCP_PORT"
	exit $ksft_fail
fi
if ! ip netns exec "$client" timeout 20 nc 10.0.2.2 $TCP_PORT < "$tmpdir/data"; then
	echo "FAIL: nc from $client to 10.0.2.2:$TCP_PORT failed"
	lret=1
fi
# The client closed after sending: the server sees EOF and exits.
if ! busywait "$BUSYWAIT_TIMEOUT" proc_gone "$server_pid"; then
	echo "FAIL: nc in $server did not exit after the transfer"
	kill "$server_pid" 2> /dev/null
	lret=1
fi
wait "$server_pid" 2> /dev/null
if ! cmp -s "$tmpdir/data" "$tmpdir/received"; then
	echo "FAIL: server received $(wc -c < "$tmpdir/received") bytes, expected $TCP_SIZE"
	lret=1
fi
busywait "$BUSYWAIT_TIMEOUT" router_tcp_settled
pre=$(rf_counter "$router" PREROUTING packets)
fwd=$(rf_counter "$router" FORWARD packets)
post=$(rf_counter "$router" POSTROUTING packets)
if [ -z "$pre" ] || [ "$pre" -eq 0 ] || [ "$pre" != "$fwd" ] || [ "$fwd" != "$post" ]; then
	echo "FAIL: TCP through router: PREROUTING/FORWARD/POSTROUTING packets $pre/$fwd/$post, expected equal and > 0"
	lret=1
fi
pre=$(rf_counter "$router" PREROUTING bytes)
fwd=$(rf_counter "$router" FORWARD bytes)
post=$(rf_counter "$router" POSTROUTING bytes)
if [ -z "$pre" ] || [ "$pre" -le $TCP_SIZE ] || [ "$pre" != "$fwd" ] || [ "$fwd" != "$post" ]; then
	echo "FAIL: TCP through router: PREROUTING/FORWARD/POSTROUTING bytes $pre/$fwd/$post, expected equal and > $TCP_SIZE"
	lret=1
fi
rf_expect "$router" INPUT packets 0 "TCP through router" || lret=1
rf_expect "$router" OUTPUT packets 0 "TCP through router" || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: TCP through the router counted equally at PREROUTING, FORWARD, POSTROUTING ($pre bytes)"
else
	echo "INFO: rfctl stats in $router:"
	rf_stats "$router" | sed 's/^/    /'
	ret=1
fi

exit $ret
