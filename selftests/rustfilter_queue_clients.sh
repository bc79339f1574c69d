#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Third-party netlink queue clients, unchanged, against the queue handler:
# the kernel's selftest client (nf_queue, libmnl), Debian's libnetfilter_queue
# example (nf-queue, its mnl API), a libnetfilter_queue old-API program
# (nfq-oldapi: nfq_bind_pf, nfq_create_queue, nfq_set_mode,
# nfq_set_queue_maxlen, nfq_set_verdict2, nfq_set_verdict_batch{,2}) and a
# Rust program on the nfq crate (nfqclient). Pings from the client to the
# server are queued on the router by an iptables-legacy `-j NFQUEUE` rule in
# FORWARD, and each client in turn, in the router's namespace:
#
# - accepts: the pings get their replies, the server's counter of echo
#   requests counts them, and the client printed every request and reply
#   (for nf_queue: its per-hook counts);
# - drops (nfq-oldapi, nfqclient): no reply, nothing reaches the server,
#   the client printed the requests;
# - accepts with mark 0x2a (nfq-oldapi, nfqclient): a later mangle
#   POSTROUTING `-m mark --mark 0x2a` rule counts every packet (and none
#   after a plain accept);
# - gives batch verdicts (nfq-oldapi, with a mark: VERDICT_BATCH with
#   NFQA_MARK): every packet passes, marked, in two batches of three;
# - requeues (nf_queue -Q 1 to an nfqclient on queue 1): both saw every
#   packet and the pings pass.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#
# QUEUE_IMPL=rustfilter (default) runs it against rustfilter.ko,
# QUEUE_IMPL=upstream against nfnetlink_queue.ko (the reference).

source lib.sh
source queue_lib.sh

rf_require_tools
checktool "iptables-legacy -V" "run test without iptables-legacy"
CLIENTS=
for c in nf_queue nf-queue nfq-oldapi nfqclient; do
	if command -v "$c" > /dev/null 2>&1; then
		CLIENTS="$CLIENTS $c"
	else
		echo "INFO: no $c; its cases are skipped"
	fi
done
if [ -z "$CLIENTS" ]; then
	echo "SKIP: Could not run test without any queue client"
	exit $ksft_skip
fi
have() { case " $CLIENTS " in *" $1 "*) return 0 ;; esac; return 1; }

ret=0
q_topology

# The router queues every forwarded ICMP packet to queue 0; mangle
# POSTROUTING, a later hook, counts those marked 0x2a; the server counts the
# echo requests that arrive.
q_ipt "$router" -A FORWARD -p icmp -j NFQUEUE --queue-num 0 || exit $ksft_fail
q_ipt "$router" -t mangle -A POSTROUTING -m mark --mark 0x2a || exit $ksft_fail
q_ipt "$server" -A INPUT -p icmp --icmp-type echo-request || exit $ksft_fail

zero() {
	q_ipt "$router" -Z && q_ipt "$router" -t mangle -Z && q_ipt "$server" -Z
}
marked() { q_ipt_packets "$router" mangle POSTROUTING 1; }
arrived() { q_ipt_packets "$server" filter INPUT 1; }

# pings N: send N pings from the client, print how many replies came.
pings() {
	ip netns exec "$client" ping -c "$1" -i 0.3 -W 2 -q 10.0.2.2 2> /dev/null |
		sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}

# expect WHAT GOT WANT: compare, print a FAIL line and return 1 if they
# differ.
expect() {
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1 is ${2:-<nothing>}, expected $3"
		return 1
	fi
	return 0
}

# printed_at_least FILE PATTERN N: whether N lines of FILE match.
printed_at_least() { [ "$(q_lines "$1" "$2")" -ge "$3" ]; }

# show NAME: a client's output, for a failure.
show() {
	echo "INFO: output of $1:"
	sed 's/^/    /' "$tmp/$1.out" | tail -20
}

# The lines the old-API client and nfqclient print, request and reply.
REQ='hook=2 proto=1 src=10.0.1.2 dst=10.0.2.2 len=84'
REP='hook=2 proto=1 src=10.0.2.2 dst=10.0.1.2 len=84'

# accepted NAME: the common checks after 3 pings through a client that
# accepts (without a mark): 3 replies, 3 requests at the server, none
# marked.
accepted() {
	local l=0

	expect "$1: replies" "$got" 3 || l=1
	expect "$1: echo requests at the server" "$(arrived)" 3 || l=1
	expect "$1: packets marked 0x2a after a plain accept" "$(marked)" 0 || l=1
	return $l
}

##############################################################################
# Accept.

if have nf_queue; then
	l=0
	zero
	q_start "$router" "$tmp/nf_queue.out" nf_queue -q 0 -c -t 3
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	q_finish "$pid" || { echo "FAIL: nf_queue did not end well"; l=1; }
	accepted nf_queue || l=1
	# -c: the packets seen per hook; all six at FORWARD (2).
	expect "nf_queue: FORWARD packets" \
		"$(q_lines "$tmp/nf_queue.out" '^hook 2 packets 00000006$')" 1 || l=1
	expect "nf_queue: total" "$(q_lines "$tmp/nf_queue.out" '^6 packets total$')" 1 || l=1
	[ $l -ne 0 ] && show nf_queue
	rf_check "nf_queue (kernel selftest client) accepts: pings pass, 6 packets seen at FORWARD" $l
fi

if have nf-queue; then
	l=0
	zero
	q_start "$router" "$tmp/nf-queue.out" nf-queue 0
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	busywait 3000 printed_at_least "$tmp/nf-queue.out" '^packet received' 6 > /dev/null
	kill -0 "$pid" 2> /dev/null || { echo "FAIL: nf-queue exited"; l=1; }
	q_stop "$pid"
	accepted nf-queue || l=1
	# Its verdict carries NFQA_CT { CTA_MARK 42 }: taken, not refused.
	expect "nf-queue: packets printed" \
		"$(q_lines "$tmp/nf-queue.out" '^packet received \(id=[0-9]+ hw=0x0800 hook=2, payload len 84\)$')" 6 || l=1
	[ $l -ne 0 ] && show nf-queue
	rf_check "nf-queue (libnetfilter_queue example) accepts: pings pass, 6 packets printed" $l
fi

if have nfq-oldapi; then
	l=0
	zero
	q_start "$router" "$tmp/nfq-oldapi.out" nfq-oldapi -q 0 -V accept -t 3
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	q_finish "$pid" || { echo "FAIL: nfq-oldapi did not end well"; l=1; }
	accepted nfq-oldapi || l=1
	expect "nfq-oldapi: requests printed" "$(q_lines "$tmp/nfq-oldapi.out" "$REQ mark=0x0$")" 3 || l=1
	expect "nfq-oldapi: replies printed" "$(q_lines "$tmp/nfq-oldapi.out" "$REP mark=0x0$")" 3 || l=1
	[ $l -ne 0 ] && show nfq-oldapi
	rf_check "nfq-oldapi (libnetfilter_queue old API) accepts: pings pass, every packet printed" $l
fi

if have nfqclient; then
	l=0
	zero
	q_start "$router" "$tmp/nfqclient.out" nfqclient --num 0 --verdict accept --idle 3
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	q_finish "$pid" || { echo "FAIL: nfqclient did not end well"; l=1; }
	accepted nfqclient || l=1
	expect "nfqclient: requests printed" \
		"$(q_lines "$tmp/nfqclient.out" "^nfqclient: queue=0 id=[0-9]+ $REQ mark=0x0 verdict=accept$")" 3 || l=1
	expect "nfqclient: replies printed" \
		"$(q_lines "$tmp/nfqclient.out" "^nfqclient: queue=0 id=[0-9]+ $REP mark=0x0 verdict=accept$")" 3 || l=1
	[ $l -ne 0 ] && show nfqclient
	rf_check "nfqclient (nfq crate) accepts: pings pass, every packet printed" $l
fi

##############################################################################
# Drop.

# dropped NAME CMD...: 2 pings through a client that drops them.
dropped() {
	local name=$1 l=0; shift

	zero
	q_start "$router" "$tmp/$name.out" "$@"
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 2)
	q_finish "$pid" || { echo "FAIL: $name did not end well"; l=1; }
	expect "$name: replies" "$got" 0 || l=1
	expect "$name: echo requests at the server" "$(arrived)" 0 || l=1
	expect "$name: requests printed" "$(q_lines "$tmp/$name.out" "$REQ mark=0x0")" 2 || l=1
	expect "$name: replies printed" "$(q_lines "$tmp/$name.out" "$REP")" 0 || l=1
	[ $l -ne 0 ] && show "$name"
	return $l
}

if have nfq-oldapi; then
	dropped nfq-oldapi nfq-oldapi -q 0 -V drop -t 3
	rf_check "nfq-oldapi drops: no reply, nothing reaches the server" $?
fi
if have nfqclient; then
	dropped nfqclient nfqclient --num 0 --verdict drop --idle 3
	rf_check "nfqclient drops: no reply, nothing reaches the server" $?
fi

##############################################################################
# Mark.

# marks NAME CMD...: 3 pings through a client that accepts with mark 0x2a.
marks() {
	local name=$1 l=0; shift

	zero
	q_start "$router" "$tmp/$name.out" "$@"
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	q_finish "$pid" || { echo "FAIL: $name did not end well"; l=1; }
	expect "$name: replies" "$got" 3 || l=1
	expect "$name: echo requests at the server" "$(arrived)" 3 || l=1
	expect "$name: packets marked 0x2a at POSTROUTING" "$(marked)" 6 || l=1
	[ $l -ne 0 ] && show "$name"
	return $l
}

if have nfq-oldapi; then
	marks nfq-oldapi nfq-oldapi -q 0 -V accept -m 0x2a -t 3
	rf_check "nfq-oldapi sets mark 0x2a (nfq_set_verdict2): a later -m mark rule sees all 6 packets" $?
fi
if have nfqclient; then
	marks nfqclient nfqclient --num 0 --verdict accept --mark 0x2a --idle 3
	rf_check "nfqclient sets mark 0x2a: a later -m mark rule sees all 6 packets" $?
fi

##############################################################################
# Batch verdicts: the old API's nfq_set_verdict_batch2 (VERDICT_BATCH with
# a mark). The requests wait until the third is queued, the replies too.

if have nfq-oldapi; then
	l=0
	zero
	q_start "$router" "$tmp/batch.out" nfq-oldapi -q 0 -V accept -m 0x2a -b 3 -t 3
	pid=$q_pid
	q_wait_bound "$router" 0 || l=1
	got=$(pings 3)
	q_finish "$pid" || { echo "FAIL: nfq-oldapi did not end well"; l=1; }
	expect "batch: replies" "$got" 3 || l=1
	expect "batch: echo requests at the server" "$(arrived)" 3 || l=1
	expect "batch: packets marked 0x2a at POSTROUTING" "$(marked)" 6 || l=1
	expect "batch: batches of 3" \
		"$(q_lines "$tmp/batch.out" '^nfq-oldapi: batch verdict id=[0-9]+ count=3$')" 2 || l=1
	expect "batch: packets printed" "$(q_lines "$tmp/batch.out" 'hook=2 proto=1 ')" 6 || l=1
	[ $l -ne 0 ] && show batch
	rf_check "nfq-oldapi batch verdicts with a mark: two batches of 3, all passed and marked" $l
fi

##############################################################################
# Requeue: nf_queue -Q 1 hands every packet on to queue 1, where nfqclient
# accepts it.

if have nf_queue && have nfqclient; then
	l=0
	zero
	q_start "$router" "$tmp/requeue1.out" nfqclient --num 1 --verdict accept --idle 4
	pid1=$q_pid
	q_start "$router" "$tmp/requeue0.out" nf_queue -q 0 -Q 1 -c -t 3
	pid0=$q_pid
	q_wait_bound "$router" 0 1 || l=1
	got=$(pings 3)
	q_finish "$pid0" || { echo "FAIL: nf_queue did not end well"; l=1; }
	q_finish "$pid1" || { echo "FAIL: nfqclient did not end well"; l=1; }
	accepted requeue || l=1
	expect "requeue: nf_queue total" "$(q_lines "$tmp/requeue0.out" '^6 packets total$')" 1 || l=1
	expect "requeue: nfqclient on queue 1" \
		"$(q_lines "$tmp/requeue1.out" '^nfqclient: queue=1 id=[0-9]+ hook=2 proto=1 ')" 6 || l=1
	if [ $l -ne 0 ]; then
		show requeue0
		show requeue1
	fi
	rf_check "nf_queue -Q 1 requeues to nfqclient on queue 1: both see 6 packets, pings pass" $l
fi

exit $ret
