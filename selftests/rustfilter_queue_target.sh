#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rustfilter's own NFQUEUE and QUEUE targets (rfctl rules on a router,
# `rfctl queue` listeners in its namespace):
#
# - `-j NFQUEUE --queue-num 0 --queue-bypass` with nobody on queue 0 lets
#   the pings through; without --queue-bypass they are dropped; `-j QUEUE`
#   (queue 0, no bypass) too, until a listener binds queue 0;
# - a packet queued by NFQUEUE in mangle FORWARD and accepted by the
#   listener goes on through the later hook functions: filter FORWARD and
#   mangle POSTROUTING count it, the server gets it;
# - `--queue-balance 0:3` with a listener on each of the four queues: the
#   pings from 16 client addresses each stay on one queue, request and
#   reply alike, more than one queue is used, and nothing is lost;
# - `--queue-balance 0:1 --queue-cpu-fanout`: pings from 8 addresses sent
#   on CPU 0 (and forwarded there: veth hands packets on on the sending
#   CPU) all go to queue 0, from CPU 1 to queue 1, requests and replies
#   alike (each listener runs on the CPU of its queue: a verdict reinjects
#   on the listener's CPU); a CPU that is not online is not checked.
#
#   client 10.0.1.2 (and 10.0.1.10-25) --veth-- router --veth-- 10.0.2.2 server
#
# QUEUE_IMPL=rustfilter (default) is the test. QUEUE_IMPL=upstream runs the
# same cases with the same rules written by iptables-legacy (xt_NFQUEUE) and
# nfnetlink_queue as the handler: the reference the expectations were
# checked against.

source lib.sh
source queue_lib.sh

rf_require_tools
checktool "iptables-legacy -V" "run test without iptables-legacy"
checktool "taskset 1 true" "run test without taskset"
if ! "$RFCTL" queue --help > /dev/null 2>&1; then
	echo "SKIP: Could not run test without rfctl queue"
	exit $ksft_skip
fi

ret=0
q_topology
for i in $(seq 10 25); do
	ip -n "$client" addr add "10.0.1.$i/24" dev eth0 || exit $ksft_fail
done

# rules ARGS...: a rule command on the router, by rfctl or (upstream)
# iptables-legacy: the same syntax.
rules() {
	if [ "$QUEUE_IMPL" = upstream ]; then
		q_ipt "$router" "$@"
	else
		ip netns exec "$router" "$RFCTL" "$@"
	fi
}
# packets TABLE CHAIN N: the packet counter of rule N.
packets() {
	rules -t "$1" -L "$2" -v -x -n | awk -v n="$3" 'NR == n + 2 { print $1 }'
}
flush() {
	local t
	for t in filter mangle; do
		rules -t $t -F || return 1
	done
}

q_ipt "$server" -A INPUT -p icmp --icmp-type echo-request || exit $ksft_fail
arrived() { q_ipt_packets "$server" filter INPUT 1; }

# pings N [FROM]: N pings from the client (from address FROM), print how
# many replies came.
pings() {
	ip netns exec "$client" ping -c "$1" -i 0.3 -W 2 -q ${2:+-I "$2"} 10.0.2.2 2> /dev/null |
		sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}

expect() {
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1 is ${2:-<nothing>}, expected $3"
		return 1
	fi
	return 0
}

# listen NAME QUEUE [ARGS...]: `rfctl queue --num QUEUE` in the router, its
# lines in $tmp/NAME.out; waits until it is bound. With $listen_cpu set, it
# runs on that CPU only.
declare -A lpid
listen_cpu=
listen() {
	local name=$1 num=$2; shift 2

	# (busybox's taskset runs its own applets: it must not start ip.)
	ip netns exec "$router" ${listen_cpu:+taskset $((1 << listen_cpu))} \
		"$RFCTL" queue --num "$num" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	lpid[$name]=$!
	if ! busywait 5000 grep -q '^bound ' "$tmp/$name.out"; then
		echo "FAIL: rfctl queue --num $num did not bind: $(cat "$tmp/$name.err")"
		return 1
	fi
	q_handler_ok
}
# unlisten NAME...: stop listeners (SIGTERM; their output is complete).
unlisten() {
	local n
	for n in "$@"; do
		[ -n "${lpid[$n]:-}" ] || continue
		kill "${lpid[$n]}" 2> /dev/null
		wait "${lpid[$n]}" 2> /dev/null
		unset "lpid[$n]"
	done
}
# lines NAME PATTERN: how many of listener NAME's lines match.
lines() { q_lines "$tmp/$1.out" "$2"; }

q_ipt "$server" -Z

##############################################################################
# Bypass, no listener, QUEUE.

l=0
flush
rules -A FORWARD -p icmp -j NFQUEUE --queue-num 0 --queue-bypass
q_ipt "$server" -Z
expect "bypass without a listener: replies" "$(pings 3)" 3 || l=1
expect "bypass without a listener: rule packets" "$(packets filter FORWARD 1)" 6 || l=1
expect "bypass without a listener: echo requests at the server" "$(arrived)" 3 || l=1
rf_check "--queue-bypass with nobody on the queue: the pings pass" $l

l=0
flush
rules -A FORWARD -p icmp -j NFQUEUE --queue-num 0
q_ipt "$server" -Z
expect "no bypass, no listener: replies" "$(pings 2)" 0 || l=1
expect "no bypass, no listener: rule packets" "$(packets filter FORWARD 1)" 2 || l=1
expect "no bypass, no listener: echo requests at the server" "$(arrived)" 0 || l=1
rf_check "NFQUEUE without --queue-bypass and nobody on the queue: dropped" $l

l=0
flush
rules -A FORWARD -p icmp -j QUEUE
q_ipt "$server" -Z
expect "QUEUE, no listener: replies" "$(pings 2)" 0 || l=1
expect "QUEUE, no listener: echo requests at the server" "$(arrived)" 0 || l=1
listen q0 0 || l=1
q_ipt "$server" -Z
expect "QUEUE with a listener on 0: replies" "$(pings 3)" 3 || l=1
unlisten q0
expect "QUEUE with a listener on 0: echo requests at the server" "$(arrived)" 3 || l=1
expect "QUEUE: packets the listener saw" "$(lines q0 ' icmp .* verdict=accept$')" 6 || l=1
[ $l -ne 0 ] && sed 's/^/    /' "$tmp/q0.out"
rf_check "QUEUE: dropped with nobody on queue 0, passes through a listener on it" $l

##############################################################################
# Later hook functions after the listener's ACCEPT.

l=0
flush
rules -t mangle -A FORWARD -p icmp -j NFQUEUE --queue-num 3
rules -A FORWARD -p icmp
rules -t mangle -A POSTROUTING -p icmp
q_ipt "$server" -Z
listen q3 3 || l=1
expect "after ACCEPT: replies" "$(pings 3)" 3 || l=1
unlisten q3
expect "after ACCEPT: mangle FORWARD NFQUEUE rule" "$(packets mangle FORWARD 1)" 6 || l=1
expect "after ACCEPT: filter FORWARD (same hook, later)" "$(packets filter FORWARD 1)" 6 || l=1
expect "after ACCEPT: mangle POSTROUTING (later hook)" "$(packets mangle POSTROUTING 1)" 6 || l=1
expect "after ACCEPT: echo requests at the server" "$(arrived)" 3 || l=1
expect "after ACCEPT: packets the listener saw" "$(lines q3 ' hook=FORWARD .* icmp .* verdict=accept$')" 6 || l=1
[ $l -ne 0 ] && sed 's/^/    /' "$tmp/q3.out"
rf_check "queued packets accepted by the listener go on through filter FORWARD and mangle POSTROUTING" $l

##############################################################################
# --queue-balance 0:3: one queue per flow, both ways.

l=0
flush
rules -A FORWARD -p icmp -j NFQUEUE --queue-balance 0:3
q_ipt "$server" -Z
for q in 0 1 2 3; do
	listen "b$q" $q || l=1
done
for i in $(seq 10 25); do
	expect "balance: replies to 10.0.1.$i" "$(pings 1 "10.0.1.$i")" 1 || l=1
done
unlisten b0 b1 b2 b3
expect "balance: echo requests at the server" "$(arrived)" 16 || l=1
used=0
for q in 0 1 2 3; do
	[ "$(lines "b$q" ' icmp ')" -gt 0 ] && used=$((used + 1))
done
for i in $(seq 10 25); do
	# Request and reply of address i, each seen once, by one listener.
	where=
	for q in 0 1 2 3; do
		req=$(lines "b$q" " icmp 10\.0\.1\.$i > 10\.0\.2\.2 type 8 ")
		rep=$(lines "b$q" " icmp 10\.0\.2\.2 > 10\.0\.1\.$i type 0 ")
		[ "$req$rep" = 00 ] && continue
		if [ "$req$rep" != 11 ] || [ -n "$where" ]; then
			echo "FAIL: balance: 10.0.1.$i: queue $q saw $req request(s), $rep reply(s)${where:+, after queue $where}"
			l=1
		fi
		where=$q
	done
	[ -n "$where" ] || { echo "FAIL: balance: no queue saw 10.0.1.$i"; l=1; }
done
if [ $used -lt 2 ]; then
	echo "FAIL: balance: 16 flows all on one queue"
	l=1
fi
echo "INFO: balance: packets per queue: $(for q in 0 1 2 3; do echo -n "$q:$(lines "b$q" ' icmp ') "; done)"
rf_check "--queue-balance 0:3: each flow on one queue both ways, $used of 4 queues used" $l

##############################################################################
# --queue-cpu-fanout: the queue is the CPU's, whatever the flow. Pings from
# 8 addresses, sent on CPU c with the listener of queue c on CPU c too, all
# go to queue c (--queue-balance alone would spread them). Each CPU that is
# online (the test VM may bring up only one).

l=0
flush
rules -A FORWARD -p icmp -j NFQUEUE --queue-balance 0:1 --queue-cpu-fanout
# A listener on queue 2, outside the range, must see nothing.
listen f2 2 || l=1
cpus=0
for cpu in 0 1; do
	if ! taskset $((1 << cpu)) true 2> /dev/null; then
		echo "INFO: fanout: CPU $cpu is not online; not checked"
		continue
	fi
	cpus=$((cpus + 1))
	other=$((1 - cpu))
	# Each listener on the CPU of its queue: a verdict reinjects the
	# packet on the listener's CPU, and the reply is forwarded there.
	listen_cpu=$cpu listen "f$cpu" $cpu || l=1
	if taskset $((1 << other)) true 2> /dev/null; then
		listen_cpu=$other listen "f$other" $other || l=1
	else
		listen "f$other" $other || l=1
	fi
	for i in $(seq 10 17); do
		got=$(ip netns exec "$client" taskset $((1 << cpu)) ping -c 1 -W 2 -q \
			-I "10.0.1.$i" 10.0.2.2 2> /dev/null |
			sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
		expect "fanout: reply to 10.0.1.$i on CPU $cpu" "$got" 1 || l=1
	done
	unlisten "f$cpu" "f$other"
	expect "fanout: packets on queue $cpu from CPU $cpu" "$(lines "f$cpu" ' icmp ')" 16 || l=1
	expect "fanout: packets on queue $other from CPU $cpu" "$(lines "f$other" ' icmp ')" 0 || l=1
	if [ $l -ne 0 ]; then
		for q in $cpu $other; do
			echo "INFO: queue $q:"
			sed 's/^/    /' "$tmp/f$q.out"
		done
	fi
done
unlisten f2
expect "fanout: queue 2" "$(lines f2 ' icmp ')" 0 || l=1
rf_check "--queue-cpu-fanout: every packet on the queue of its CPU ($cpus CPU(s) checked)" $l

flush
exit $ret
