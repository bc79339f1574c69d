#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Netlink fuzzing of the queue (the reliability issue): with rustfilter the
# kernel's queue handler and traffic being queued, `nlfuzz queue` sends
# QFUZZ_COUNT random and mutated CONFIG, VERDICT, VERDICT_BATCH and PACKET
# messages over NETLINK_NETFILTER as root in the router. It binds queues
# 0-3 itself, so that pings (queue 0) and UDP datagrams (queue 1) queued by
# rustfilter's NFQUEUE rules (--queue-bypass) reach it and its verdicts
# often name real packet ids; a fixed sequence of requests on queue 65000
# must get nfnetlink_queue's errno answers before, every 10,000 messages
# and after. Then `nlfuzz random` sends RF_COUNT messages to the rustfilter
# generic netlink family in the same namespace. Afterwards: no kernel
# splat, a fresh `rfctl queue` listener binds and accepts pings that pass,
# `rfctl -L` lists the rules with their counters, and rustfilter unloads.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#                                     (nlfuzz)
#
# About 950 messages a second in the TCG VM: 200,000 take 3.5 minutes.
#
# env: NLFUZZ (default: nlfuzz on PATH), QFUZZ_COUNT (200000), RF_COUNT
#      (10000; rustfilter_badinput.sh has RANDOM_COUNT), NLFUZZ_SEED (1)

source lib.sh
source queue_lib.sh

rf_require_tools
rf_require_module
: "${NLFUZZ:=$(command -v nlfuzz)}"
: "${RFSERVE:=$(command -v rfserve)}"
if [ -z "$NLFUZZ" ] || [ ! -x "$NLFUZZ" ] || ! "$NLFUZZ" --help | grep -q "nlfuzz queue"; then
	echo "SKIP: Could not run test without an nlfuzz that has the queue mode"
	exit $ksft_skip
fi
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ]; then
	echo "SKIP: Could not run test without rfserve"
	exit $ksft_skip
fi
if ! "$RFCTL" queue --help > /dev/null 2>&1; then
	echo "SKIP: Could not run test with an rfctl that has no 'queue'"
	exit $ksft_skip
fi

QFUZZ_COUNT=${QFUZZ_COUNT:-200000}
RF_COUNT=${RF_COUNT:-10000}
NLFUZZ_SEED=${NLFUZZ_SEED:-1}

ret=0
tmp=$(mktemp -d)
bg_pids=()
# no_splat (splats since here) and stop_bg (the traffic in bg_pids).
source stress_lib.sh

cleanup() {
	stop_bg
	cleanup_all_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

# rustfilter's own NFQUEUE target: rustfilter only.
QUEUE_IMPL=rustfilter
q_setup_impl

setup_ns client router server
rf_setup_router || exit $ksft_fail
rfr() { ip netns exec "$router" "$RFCTL" "$@"; }

# handler_ok: rustfilter is the queue handler (a bind autoloads
# nfnetlink_queue when nobody holds the queue subsystem).
handler_ok() {
	if grep -q "^nfnetlink_queue " /proc/modules; then
		echo "FAIL: nfnetlink_queue got loaded: rustfilter is not the queue handler"
		return 1
	fi
	rf_loaded
}

# rule_pkts CHAIN N: the packet counter of rule N of filter CHAIN.
rule_pkts() {
	rfr -L "$1" -v -x -n | awk -v n="$2" 'NR == n + 2 { print $1 }'
}

l=0
rfr -A FORWARD -p icmp -j NFQUEUE --queue-num 0 --queue-bypass || l=1
rfr -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 1 --queue-bypass || l=1
ip netns exec "$server" "$RFSERVE" echo --port 9 --proto udp --sink > /dev/null 2>&1 &
bg_pids+=($!)
if ! ip netns exec "$client" ping -q -c 1 -W 2 10.0.2.2 > /dev/null; then
	echo "FAIL: no ping through the router with nobody on queue 0 (--queue-bypass)"
	l=1
fi
rf_check "setup: NFQUEUE rules with --queue-bypass, pings pass" $l

# Traffic queued all along: pings and UDP datagrams through the router.
traffic() {
	ip netns exec "$client" sh -c 'while :; do ping -q -c 20 -i 0.05 -W 1 10.0.2.2; done' \
		> /dev/null 2>&1 &
	bg_pids+=($!)
	ip netns exec "$client" sh -c "while :; do \"$RFSERVE\" udp-flow --server 10.0.2.2 --port 9 \
		--count 200 --interval 0.02 --data fuzz; done" > /dev/null 2>&1 &
	bg_pids+=($!)
}

l=0
traffic
fwd_before=$(rule_pkts FORWARD 1)
start=$(date +%s)
if ! ip netns exec "$router" "$NLFUZZ" queue --count "$QFUZZ_COUNT" --seed "$NLFUZZ_SEED" \
		--queues 0:3 > "$tmp/queue" 2>&1; then
	echo "FAIL: nlfuzz queue --count $QFUZZ_COUNT --seed $NLFUZZ_SEED --queues 0:3 failed"
	l=1
fi
secs=$(($(date +%s) - start))
stop_bg
sed 's/^/    /' "$tmp/queue"
echo "# nlfuzz queue: $QFUZZ_COUNT messages in ${secs}s"
sent=$(sed -n 's/^messages sent: \([0-9]*\) .*/\1/p' "$tmp/queue")
if [ "$sent" != "$QFUZZ_COUNT" ]; then
	echo "FAIL: nlfuzz queue sent ${sent:-no} messages, expected $QFUZZ_COUNT"
	l=1
fi
# The traffic really was queued to the fuzzer, and verdicts named it.
packets=$(sed -n 's/^packets queued to the fuzzer: \([0-9]*\);.*/\1/p' "$tmp/queue")
real=$(sed -n 's/.*verdicts naming one: \([0-9]*\)$/\1/p' "$tmp/queue")
if [ "${packets:-0}" -lt 100 ] || [ "${real:-0}" -lt 100 ]; then
	echo "FAIL: ${packets:-no} packets queued to the fuzzer, ${real:-no} verdicts naming one (expected 100 or more each)"
	l=1
fi
fwd_after=$(rule_pkts FORWARD 1)
echo "# the ping NFQUEUE rule counted $((fwd_after - fwd_before)) packets during the run"
handler_ok || l=1
rf_check "nlfuzz queue: $QFUZZ_COUNT messages with packets queued, every check answered as nfnetlink_queue does" $l

l=0
start=$(date +%s)
if ! ip netns exec "$router" "$NLFUZZ" random --count "$RF_COUNT" --seed "$NLFUZZ_SEED" \
		> "$tmp/random" 2>&1; then
	echo "FAIL: nlfuzz random --count $RF_COUNT --seed $NLFUZZ_SEED failed"
	l=1
fi
sed 's/^/    /' "$tmp/random"
echo "# nlfuzz random: $RF_COUNT messages in $(($(date +%s) - start))s"
rf_check "nlfuzz random: $RF_COUNT messages to the rustfilter family" $l

# A fresh listener on queue 0: binds, sees the pings, accepts them.
l=0
ip netns exec "$router" "$RFCTL" queue --num 0 --count 3 > "$tmp/listener" 2>&1 &
lpid=$!
if ! busywait 5000 grep -q '^bound ' "$tmp/listener"; then
	echo "FAIL: rfctl queue --num 0 did not bind after fuzzing: $(cat "$tmp/listener")"
	l=1
fi
handler_ok || l=1
if ! ip netns exec "$client" ping -q -c 3 -i 0.2 -W 2 10.0.2.2 > "$tmp/ping" 2>&1; then
	echo "FAIL: pings through the fresh listener not answered:"
	sed 's/^/    /' "$tmp/ping"
	l=1
fi
busywait 5000 sh -c "! kill -0 $lpid 2> /dev/null" > /dev/null
if kill -0 "$lpid" 2> /dev/null; then
	echo "FAIL: the listener still runs after 3 pings"
	kill "$lpid"
	l=1
fi
wait "$lpid"
rc=$?
n=$(grep -cE '^id=[0-9]+ hook=FORWARD .*verdict=accept$' "$tmp/listener")
if [ $rc -ne 0 ] || [ "$n" != 3 ]; then
	echo "FAIL: the listener exited $rc having accepted $n packets, expected 0 and 3:"
	sed 's/^/    /' "$tmp/listener"
	l=1
fi
rf_check "after fuzzing: bind and accept verdicts work (pings pass through a fresh rfctl queue)" $l

l=0
if ! rfr -L FORWARD -v -x -n > "$tmp/list" 2>&1; then
	echo "FAIL: rfctl -L after fuzzing: $(cat "$tmp/list")"
	l=1
elif ! grep -q "NFQUEUE .*NFQUEUE num 0 bypass" "$tmp/list" ||
     ! grep -q "NFQUEUE .*NFQUEUE num 1 bypass" "$tmp/list"; then
	echo "FAIL: rfctl -L does not list the NFQUEUE rules:"
	sed 's/^/    /' "$tmp/list"
	l=1
elif [ "$(rule_pkts FORWARD 1)" -le "$fwd_after" ]; then
	echo "FAIL: the ping rule's counter did not grow with the last pings:"
	sed 's/^/    /' "$tmp/list"
	l=1
fi
rf_check "rfctl -L works after fuzzing" $l

l=0
cleanup_all_ns
if ! busywait 10000 rmmod rustfilter > /dev/null 2>&1; then
	echo "FAIL: rmmod rustfilter failed: refcnt $(cat /sys/module/rustfilter/refcnt 2> /dev/null)"
	l=1
fi
if rf_loaded; then
	echo "FAIL: rustfilter still loaded"
	l=1
fi
rf_check "rustfilter unloads after fuzzing" $l

l=0
no_splat "since the test started" || l=1
rf_check "no kernel splat" $l

exit $ret
