#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink queue end to end: packets queued by iptables-legacy's
# NFQUEUE target (xt_NFQUEUE) on a router (or the server) and judged by
# `rfctl queue`, with real outcomes (datagrams that reached the server and
# what they held, rule counters, what the listener printed, dmesg):
# accept, drop, repeat, stop, queue to another listener (with and without
# bypass), the mark set by the verdict seen by a later table, payloads
# rewritten to the same, a shorter and a longer length (with and without
# fixed checksums), batch verdicts, copy range, a full queue (maxlen) with
# and without fail-open, --queue-bypass, --queue-balance, a listener killed
# with packets queued, a 2 MB TCP transfer with and without --gso (segments
# of at most the MTU, or GSO packets whole; the bytes intact), the sending
# socket's uid and gid (nobody and root), the packet's connection
# (--conntrack: NEW, ESTABLISHED_REPLY, status; a connection mark set by
# Debian's nf-queue with its verdict), /proc/net/netfilter/nfnetlink_queue
# (the line, byte for byte as upstream prints it, per namespace), a
# namespace deleted after its listeners were killed with packets held,
# devices deleted with packets held (the deletion does not wait, the late
# verdicts get ENOENT), packets held while a rustfilter table's first
# commit registers its hooks (dropped), rmmod with packets queued, and that
# rustfilter and nfnetlink_queue exclude each other.
#
# QUEUE_IMPL=rustfilter (default) loads rustfilter.ko, the queue handler
# under test; QUEUE_IMPL=upstream uses the kernel's nfnetlink_queue.ko
# instead, the reference every case but the rustfilter-only ones must
# pass against (those print "ok N ... # SKIP"). In the VM:
# VM_APPEND=rfvm.env=QUEUE_IMPL=upstream scripts/vm.sh check rustfilter_queue.sh
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#
# The server runs a UDP sink on port 9 that logs every datagram; the
# client sends with rfserve udp-flow ("TAG 0", "TAG 1", ...). Output is
# KTAP, one result per case.

source lib.sh

QUEUE_IMPL=${QUEUE_IMPL:-rustfilter}
: "${RFSERVE:=$(command -v rfserve)}"
: "${IPTABLES:=$(command -v iptables-legacy)}"

rf_require_tools
case "$QUEUE_IMPL" in
rustfilter) rf_require_module ;;
upstream) ;;
*)
	echo "SKIP: QUEUE_IMPL must be rustfilter or upstream, not '$QUEUE_IMPL'"
	exit $ksft_skip
	;;
esac
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ]; then
	echo "SKIP: Could not run test without rfserve"
	exit $ksft_skip
fi
if [ -z "$IPTABLES" ]; then
	echo "SKIP: Could not run test without iptables-legacy"
	exit $ksft_skip
fi
if ! "$RFCTL" queue --help > /dev/null 2>&1; then
	echo "SKIP: Could not run test with an rfctl that has no 'queue'"
	exit $ksft_skip
fi
if ! modinfo nfnetlink_queue > /dev/null 2>&1 || ! modinfo xt_NFQUEUE > /dev/null 2>&1; then
	echo "SKIP: Could not run test without the nfnetlink_queue and xt_NFQUEUE modules"
	exit $ksft_skip
fi

# Lines of dmesg that mean the kernel is unhappy (as scripts/guest-init.sh).
SPLATS='BUG:|WARNING:|KASAN:|UBSAN:|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|Oops|Call Trace|kernel BUG|general protection fault|list_add corruption|list_del corruption|refcount_t:|soft lockup|hung_task|blocked for more than'

ret=0
tmp=$(mktemp -d)
modules_before=$(awk '{ print $1 }' /proc/modules)
declare -A qpid=()

mod_loaded() { grep -q "^$1 " /proc/modules; }

# The netfilter modules this script loaded, unloaded again so that the
# next selftests find the kernel as it was (rustfilter excepted).
unload_ours() {
	local m pass left
	for pass in 1 2 3 4 5 6; do
		left=
		for m in nfnetlink_queue xt_NFQUEUE xt_mark xt_tcpudp xt_state \
			nf_conntrack_netlink nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 \
			libcrc32c iptable_mangle iptable_filter ip_tables x_tables; do
			mod_loaded "$m" || continue
			echo "$modules_before" | grep -qx "$m" && continue
			rmmod "$m" 2> /dev/null || left="$left $m"
		done
		[ -z "$left" ] && return
		sleep 0.5
	done
	info "modules this script loaded and could not unload:$left"
}

cleanup() {
	local n
	for n in "${!qpid[@]}"; do
		kill -KILL "${qpid[$n]}" 2> /dev/null
	done
	cleanup_all_ns
	unload_ours
	rm -rf "$tmp"
}
trap cleanup EXIT

##############################################################################
# KTAP

CASES=(handler accept drop nft repeat stop requeue requeue_bypass mark
	rewrite_fixed rewrite_unfixed batch copy_range maxlen maxlen_fail_open
	bypass balance listener_killed gso uid_gid conntrack proc netns_exit
	device_down hooks_registered unload exclusive_modprobe exclusive_insmod)
# Cases that test what only rustfilter does.
RUSTFILTER_ONLY=" hooks_registered unload exclusive_modprobe exclusive_insmod "

diag() { echo "# $*"; }
fail() { echo "# FAIL: $*"; }
info() { echo "# INFO: $*"; }

##############################################################################
# The queue handler

# load_impl: the handler under test loaded, the other one not.
load_impl() {
	if [ "$QUEUE_IMPL" = upstream ]; then
		if rf_loaded && ! rf_unload; then
			fail "cannot unload rustfilter to test nfnetlink_queue"
			return 1
		fi
		modprobe nfnetlink_queue || { fail "modprobe nfnetlink_queue"; return 1; }
	else
		if mod_loaded nfnetlink_queue && ! rmmod nfnetlink_queue; then
			fail "cannot unload nfnetlink_queue to test rustfilter"
			return 1
		fi
		rf_load || { fail "cannot load rustfilter"; return 1; }
	fi
}

# handler_ok: the queue is served by the handler under test (a bind can
# autoload nfnetlink_queue through its "nfnetlink-subsys-3" alias when
# nobody claimed the subsystem: then rustfilter is not the handler).
handler_ok() {
	if [ "$QUEUE_IMPL" = rustfilter ]; then
		if mod_loaded nfnetlink_queue; then
			fail "nfnetlink_queue is loaded: rustfilter is not the queue handler"
			return 1
		fi
		rf_loaded || { fail "rustfilter is not loaded"; return 1; }
	else
		mod_loaded nfnetlink_queue || { fail "nfnetlink_queue is not loaded"; return 1; }
	fi
}

##############################################################################
# Listeners: rfctl queue in the background

# q_start NAME NS ARGS: `rfctl queue ARGS` in NS, its output in
# $tmp/NAME.out and .err; waits for its "bound" line.
q_start() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$RFCTL" queue "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	qpid[$name]=$!
	if ! busywait 5000 grep -q '^bound ' "$tmp/$name.out"; then
		fail "listener $name (rfctl queue $*) did not bind: $(cat "$tmp/$name.err")"
		return 1
	fi
	handler_ok
}

q_running() { kill -0 "${qpid[$1]}" 2> /dev/null; }
q_gone() { ! q_running "$1"; }

# q_end NAME: wait for listener NAME to exit by itself (--count); fails
# unless it exits with status 0 within 10 s.
q_end() {
	local name=$1 rc
	if ! busywait 10000 q_gone "$name"; then
		fail "listener $name still runs ($(q_ids "$name") packets seen)"
		kill -KILL "${qpid[$name]}" 2> /dev/null
	fi
	wait "${qpid[$name]}" 2> /dev/null
	rc=$?
	unset "qpid[$name]"
	if [ $rc -ne 0 ]; then
		fail "listener $name exited with status $rc: $(cat "$tmp/$name.err")"
		return 1
	fi
}

# q_stop NAME [SIGNAL]: end listener NAME (SIGTERM: it must exit 0).
q_stop() {
	local name=$1 sig=${2:-TERM} rc
	[ -n "${qpid[$name]:-}" ] || return 0
	kill "-$sig" "${qpid[$name]}" 2> /dev/null
	busywait 10000 q_gone "$name" > /dev/null || fail "listener $name ignores SIG$sig"
	wait "${qpid[$name]}" 2> /dev/null
	rc=$?
	unset "qpid[$name]"
	if [ "$sig" = TERM ] && [ $rc -ne 0 ]; then
		fail "listener $name exited with status $rc after SIGTERM: $(cat "$tmp/$name.err")"
		return 1
	fi
}

q_stop_all() {
	local n
	for n in "${!qpid[@]}"; do
		q_stop "$n" KILL
	done
}

# q_ids NAME: the packets listener NAME printed.
q_ids() { grep -c '^id=' "$tmp/$1.out" 2> /dev/null; }

q_has() { [ "$(q_ids "$1")" -ge "$2" ]; }

# expect_ids NAME N: listener NAME printed exactly N packets.
expect_ids() {
	local got
	got=$(q_ids "$1")
	if [ "$got" != "$2" ]; then
		fail "listener $1 printed $got packets, expected $2"
		sed 's/^/#     /' "$tmp/$1.out" | head -n 20
		return 1
	fi
}

# expect_lines NAME N REGEX: N of NAME's packet lines match REGEX.
expect_lines() {
	local got
	got=$(grep '^id=' "$tmp/$1.out" | grep -cE "$3")
	if [ "$got" != "$2" ]; then
		fail "listener $1: $got packet lines match /$3/, expected $2"
		sed 's/^/#     /' "$tmp/$1.out" | head -n 20
		return 1
	fi
}

##############################################################################
# Traffic

# flow TAG COUNT [udp-flow options]: COUNT datagrams "TAG 0", "TAG 1"...
# from the client to the server's sink.
flow() {
	local tag=$1 count=$2
	shift 2
	ip netns exec "$client" "$RFSERVE" udp-flow --server 10.0.2.2 --port 9 \
		--count "$count" --interval 0.02 --data "$tag" "$@" > /dev/null 2> "$tmp/flow.err" ||
		fail "udp-flow $tag: $(cat "$tmp/flow.err")"
}

# got TAG: how many datagrams "TAG N" the sink received.
got() { grep -c "\"$1 [0-9]*\"\$" "$tmp/sink.log"; }

got_is() { [ "$(got "$1")" = "$2" ]; }

# expect_got TAG N: the sink received N datagrams of TAG: waited for
# when N > 0; checked after 1 s when nothing is expected, or when
# SETTLE=1 (more could still come).
expect_got() {
	local tag=$1 want=$2
	if [ "$want" -gt 0 ]; then
		busywait 5000 got_is "$tag" "$want" > /dev/null
	fi
	if [ "$want" -eq 0 ] || [ "${SETTLE:-0}" = 1 ]; then
		sleep 1
	fi
	if ! got_is "$tag" "$want"; then
		fail "the server received $(got "$tag") datagrams '$tag', expected $want"
		return 1
	fi
}

# expect_data TEXT: the sink received exactly one datagram "TEXT".
expect_data() {
	busywait 5000 grep -qF "\"$1\"" "$tmp/sink.log" > /dev/null
	local n
	n=$(grep -cF "\"$1\"" "$tmp/sink.log")
	if [ "$n" != 1 ]; then
		fail "the server received '$1' $n times, expected once"
		info "the sink's last lines:"
		tail -n 5 "$tmp/sink.log" | sed 's/^/#     /'
		return 1
	fi
}

# no_data TEXT...: the sink received none of these (after 1 s).
no_data() {
	local t l=0
	sleep 1
	for t in "$@"; do
		if grep -qF "\"$t" "$tmp/sink.log"; then
			fail "the server received '$t'"
			l=1
		fi
	done
	return $l
}

##############################################################################
# iptables-legacy

ipt() {
	local ns=$1
	shift
	if ! ip netns exec "$ns" "$IPTABLES" -w "$@" 2> "$tmp/ipt.err"; then
		fail "iptables-legacy $* (in ${ns%-*}): $(cat "$tmp/ipt.err")"
		return 1
	fi
}

# rule_pkts NS TABLE CHAIN N: the packet counter of rule N.
rule_pkts() {
	ip netns exec "$1" "$IPTABLES" -w -t "$2" -L "$3" -v -x -n 2> /dev/null |
		awk -v n="$4" 'NR == n + 2 { print $1 }'
}

# expect_rule NS TABLE CHAIN N PACKETS.
expect_rule() {
	local got
	got=$(rule_pkts "$1" "$2" "$3" "$4")
	if [ "$got" != "$5" ]; then
		fail "$2 $3 rule $4 in ${1%-*} counted ${got:-?} packets, expected $5"
		ip netns exec "$1" "$IPTABLES" -w -t "$2" -L "$3" -v -x -n 2>&1 | sed 's/^/#     /'
		return 1
	fi
}

reset_rules() {
	local ns
	for ns in "$client" "$router" "$server"; do
		ip netns exec "$ns" "$IPTABLES" -w -F 2> /dev/null
		ip netns exec "$ns" "$IPTABLES" -w -t mangle -F 2> /dev/null
	done
}

# queue_forward ARGS: the router queues the client's datagrams to the
# sink with NFQUEUE ARGS.
queue_forward() {
	ipt "$router" -A FORWARD -p udp --dport 9 -j NFQUEUE "$@"
}

dmesg_mark() { dmesg | wc -l; }

# no_splat MARK: no kernel splat in dmesg since MARK.
no_splat() {
	local new
	new=$(dmesg | tail -n +"$(($1 + 1))")
	if echo "$new" | grep -Eq "$SPLATS"; then
		fail "kernel splat:"
		echo "$new" | sed 's/^/#     /' | head -n 40
		return 1
	fi
}

##############################################################################
# The cases. Each returns 0 when every assertion held; rules, listeners
# and tags are its own (the run loop cleans up after it).

case_handler() {
	local l=0
	q_start h "$router" --num 0 || return 1
	handler_ok || l=1
	# A second socket cannot take the queue: EPERM, as nfnetlink_queue
	# answers (the queue has another owner).
	if ip netns exec "$router" "$RFCTL" queue --num 0 > "$tmp/h2.out" 2> "$tmp/h2.err"; then
		fail "a second listener bound queue 0"
		l=1
	elif ! grep -q "cannot bind queue 0: EPERM" "$tmp/h2.err"; then
		fail "a second bind of queue 0: '$(cat "$tmp/h2.err")', expected EPERM"
		l=1
	fi
	q_stop h || l=1
	return $l
}

case_accept() {
	local l=0
	queue_forward --queue-num 0 || return 1
	q_start a "$router" --num 0 --count 5 || return 1
	flow acc 5
	q_end a || l=1
	expect_got acc 5 || l=1
	expect_lines a 5 '^id=[0-9]+ hook=FORWARD hw=0x0800 in=[0-9]+ out=[0-9]+ mark=0x0 len=33 .*udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 5 verdict=accept$' || l=1
	expect_rule "$router" filter FORWARD 1 5 || l=1
	return $l
}

case_drop() {
	local l=0
	queue_forward --queue-num 0 || return 1
	q_start d "$router" --num 0 --count 3 --verdict drop || return 1
	flow drp 3
	q_end d || l=1
	expect_got drp 0 || l=1
	expect_lines d 3 'verdict=drop$' || l=1
	expect_rule "$router" filter FORWARD 1 3 || l=1
	return $l
}

# Packets queued by an nftables rule (`queue num N`) reach the same handler
# (it is global): accepted ones go on; `queue ... bypass` with nobody
# listening lets them pass, without bypass they are dropped.
case_nft() {
	local l=0
	if ! command -v nft > /dev/null; then
		skip_why="no nft"
		return $ksft_skip
	fi
	nftr() { ip netns exec "$router" nft "$@"; }
	nftr add table ip rfq &&
		nftr add chain ip rfq qchain '{ type filter hook forward priority 0; }' &&
		nftr add rule ip rfq qchain udp dport 9 queue num 0 ||
		{ fail "nft could not install a queue rule"; nftr delete table ip rfq 2> /dev/null; return 1; }
	q_start n "$router" --num 0 --count 3 || { nftr delete table ip rfq; return 1; }
	flow nfa 3
	q_end n || l=1
	expect_got nfa 3 || l=1
	expect_lines n 3 '^id=[0-9]+ hook=FORWARD .*udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 5 verdict=accept$' || l=1
	# Nobody on queue 0 now: dropped.
	flow nfd 2
	expect_got nfd 0 || l=1
	nftr flush chain ip rfq qchain &&
		nftr add rule ip rfq qchain udp dport 9 queue num 3 bypass || l=1
	flow nfb 2
	expect_got nfb 2 || l=1
	nftr delete table ip rfq || l=1
	return $l
}

# REPEAT runs the queuing hook (the filter table) again: the counting
# rule sees each packet twice; the mark set with the verdict keeps the
# NFQUEUE rule from matching the second time.
case_repeat() {
	local l=0
	ipt "$router" -A FORWARD -p udp --dport 9 || return 1
	ipt "$router" -A FORWARD -p udp --dport 9 -m mark ! --mark 0x7 -j NFQUEUE --queue-num 0 || return 1
	q_start r "$router" --num 0 --count 3 --verdict repeat --mark 7 || return 1
	flow rep 3
	q_end r || l=1
	expect_got rep 3 || l=1
	expect_ids r 3 || l=1
	expect_lines r 3 'mark=0x0 .*verdict=repeat newmark=0x7$' || l=1
	expect_rule "$router" filter FORWARD 1 6 || l=1
	expect_rule "$router" filter FORWARD 2 3 || l=1
	return $l
}

# NFQUEUE in mangle INPUT, DROP in filter INPUT (a later hook of the same
# hook point), on the server: ACCEPT goes on to the DROP, STOP skips it.
case_stop() {
	local l=0
	ipt "$server" -t mangle -A INPUT -p udp --dport 9 -j NFQUEUE --queue-num 0 || return 1
	ipt "$server" -A INPUT -p udp --dport 9 -j DROP || return 1
	q_start s1 "$server" --num 0 --count 2 --verdict accept || return 1
	flow stp-accept 2
	q_end s1 || l=1
	expect_got stp-accept 0 || l=1
	expect_rule "$server" filter INPUT 1 2 || l=1
	q_start s2 "$server" --num 0 --count 3 --verdict stop || return 1
	flow stp-stop 3
	q_end s2 || l=1
	expect_got stp-stop 3 || l=1
	expect_lines s2 3 'hook=INPUT .*verdict=stop$' || l=1
	expect_rule "$server" filter INPUT 1 2 || l=1
	expect_rule "$server" mangle INPUT 1 5 || l=1
	return $l
}

# queue:1 hands each packet to the listener of queue 1, which accepts it.
case_requeue() {
	local l=0
	queue_forward --queue-num 0 || return 1
	q_start q0 "$router" --num 0 --count 3 --verdict queue:1 || return 1
	q_start q1 "$router" --num 1 --count 3 || return 1
	flow rq 3
	q_end q0 || l=1
	q_end q1 || l=1
	expect_got rq 3 || l=1
	expect_lines q0 3 'verdict=queue:1$' || l=1
	expect_lines q1 3 'hook=FORWARD .*udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 4 verdict=accept$' || l=1
	return $l
}

# queue:7 with nobody on queue 7: dropped; with bypass: accepted.
case_requeue_bypass() {
	local l=0
	queue_forward --queue-num 0 || return 1
	q_start b1 "$router" --num 0 --count 2 --verdict queue:7:bypass || return 1
	flow rqb 2
	q_end b1 || l=1
	expect_got rqb 2 || l=1
	q_start b2 "$router" --num 0 --count 2 --verdict queue:7 || return 1
	flow rqn 2
	q_end b2 || l=1
	expect_got rqn 0 || l=1
	return $l
}

# The mark set with the verdict in mangle FORWARD is what filter FORWARD
# matches.
case_mark() {
	local l=0
	ipt "$router" -t mangle -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 0 || return 1
	ipt "$router" -A FORWARD -p udp --dport 9 -m mark --mark 0x2a || return 1
	ipt "$router" -A FORWARD -p udp --dport 9 -m mark --mark 0 || return 1
	q_start m "$router" --num 0 --count 3 --mark 0x2a || return 1
	flow mrk 3
	q_end m || l=1
	expect_got mrk 3 || l=1
	expect_lines m 3 'mark=0x0 .*verdict=accept newmark=0x2a$' || l=1
	expect_rule "$router" filter FORWARD 1 3 || l=1
	expect_rule "$router" filter FORWARD 2 0 || l=1
	return $l
}

# rewrite NAME TAG OLD=NEW [--fix-checksums]: one datagram "TAG 0" through
# a listener that rewrites it.
rewrite() {
	local name=$1 tag=$2 rw=$3
	shift 3
	if ! q_start "$name" "$router" --num 0 --count 1 --rewrite "$rw" "$@"; then
		q_stop "$name" KILL
		return 1
	fi
	flow "$tag" 1
	q_end "$name"
}

# Same length, shorter, longer, with the listener fixing the IP length and
# checksums: the server receives the new bytes.
case_rewrite_fixed() {
	local l=0
	queue_forward --queue-num 0 || return 1
	rewrite w1 rw-same-aaaa aaaa=bbbb --fix-checksums || l=1
	expect_data "rw-same-bbbb 0" || l=1
	expect_lines w1 1 'len=42 .* rewrite=42>42 fixed verdict=accept$' || l=1
	rewrite w2 rw-short-aaaaaaaa aaaaaaaa=c --fix-checksums || l=1
	expect_data "rw-short-c 0" || l=1
	expect_lines w2 1 'len=47 .* rewrite=47>40 fixed verdict=accept$' || l=1
	rewrite w3 rw-long-a ng-a=ng-abcdefghijklmnop --fix-checksums || l=1
	expect_data "rw-long-abcdefghijklmnop 0" || l=1
	expect_lines w3 1 'len=39 .* rewrite=39>54 fixed verdict=accept$' || l=1
	return $l
}

# The same, the listener leaving the IP length and checksums as they were.
# rustfilter fixes them (its extension): the server receives the new
# bytes. nfnetlink_queue reinjects them as they are: the server drops
# every one (a wrong UDP checksum, a total length longer than the packet,
# a datagram cut to the old length).
case_rewrite_unfixed() {
	local l=0
	queue_forward --queue-num 0 || return 1
	rewrite u1 ru-same-aaaa aaaa=bbbb || l=1
	rewrite u2 ru-short-aaaaaaaa aaaaaaaa=c || l=1
	rewrite u3 ru-long-a ng-a=ng-abcdefghijklmnop || l=1
	expect_lines u1 1 'rewrite=42>42 verdict=accept$' || l=1
	expect_lines u2 1 'rewrite=47>40 verdict=accept$' || l=1
	expect_lines u3 1 'rewrite=39>54 verdict=accept$' || l=1
	if [ "$QUEUE_IMPL" = rustfilter ]; then
		expect_data "ru-same-bbbb 0" || l=1
		expect_data "ru-short-c 0" || l=1
		expect_data "ru-long-abcdefghijklmnop 0" || l=1
	else
		no_data ru-same ru-short ru-long || l=1
	fi
	return $l
}

# Eight packets, two batch verdicts, each up to the id of its fourth
# packet.
case_batch() {
	local l=0 ids
	queue_forward --queue-num 0 || return 1
	q_start bt "$router" --num 0 --count 8 --batch 4 || return 1
	flow bat 8
	q_end bt || l=1
	expect_got bat 8 || l=1
	expect_lines bt 8 'verdict=batch$' || l=1
	ids=($(sed -n 's/^id=\([0-9]*\) .*/\1/p' "$tmp/bt.out"))
	if ! grep -qx "batch verdict=accept maxid=${ids[3]} packets=4" "$tmp/bt.out" ||
	   ! grep -qx "batch verdict=accept maxid=${ids[7]} packets=4" "$tmp/bt.out"; then
		fail "no batch verdicts up to ids ${ids[3]} and ${ids[7]}:"
		sed 's/^/#     /' "$tmp/bt.out"
		l=1
	fi
	return $l
}

# A copy range of 40 bytes: 40 bytes of a 60-byte packet sent, CAP_LEN
# says 60; the packet itself goes through whole. (The sink logs at most
# 60 bytes of a datagram.)
case_copy_range() {
	local l=0 data
	data=$(printf 'c%.0s' $(seq 30))
	queue_forward --queue-num 0 || return 1
	q_start c "$router" --num 0 --count 1 --copy packet:40 || return 1
	flow "$data" 1
	q_end c || l=1
	expect_data "$data 0" || l=1
	expect_lines c 1 ' len=40 caplen=60 .*udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 32 verdict=accept$' || l=1
	return $l
}

# maxlen 4 and a listener that gives no verdicts: 4 packets queued, the
# 6 others dropped; when the listener goes, the 4 are dropped too.
case_maxlen() {
	local l=0
	queue_forward --queue-num 0 || return 1
	q_start ml "$router" --num 0 --hold --maxlen 4 || return 1
	flow mlen 10
	busywait 5000 q_has ml 4 > /dev/null
	expect_got mlen 0 || l=1
	expect_ids ml 4 || l=1
	expect_rule "$router" filter FORWARD 1 10 || l=1
	q_stop ml || l=1
	expect_got mlen 0 || l=1
	return $l
}

# The same with fail-open: the 6 that find no room pass. When the
# listener goes, nfnetlink_queue drops the 4 it held; rustfilter accepts
# them (a fail-open queue's packets outlive their listener: rustfilter's
# documented deviation).
case_maxlen_fail_open() {
	local l=0 after=6
	[ "$QUEUE_IMPL" = rustfilter ] && after=10
	queue_forward --queue-num 0 || return 1
	q_start mo "$router" --num 0 --hold --maxlen 4 --fail-open || return 1
	flow mlfo 10
	busywait 5000 q_has mo 4 > /dev/null
	SETTLE=1 expect_got mlfo 6 || l=1
	expect_ids mo 4 || l=1
	expect_lines mo 4 'verdict=hold$' || l=1
	q_stop mo || l=1
	SETTLE=1 expect_got mlfo $after || l=1
	return $l
}

# Nobody on queue 9: --queue-bypass accepts, without it the packets are
# dropped.
case_bypass() {
	local l=0
	# No listener to bind: check the handler here (bypass also passes
	# with no handler at all).
	handler_ok || return 1
	queue_forward --queue-num 9 --queue-bypass || return 1
	flow byp 3
	expect_got byp 3 || l=1
	reset_rules
	queue_forward --queue-num 9 || return 1
	flow nobyp 3
	expect_got nobyp 0 || l=1
	expect_rule "$router" filter FORWARD 1 3 || l=1
	return $l
}

# --queue-balance 0:3 with a listener on each queue: datagrams from eight
# source addresses (the hash is over addresses and protocol), three each;
# every source goes to exactly one queue, more than one queue is used.
case_balance() {
	local l=0 i q src used=0 where n
	for i in $(seq 11 18); do
		ip -n "$client" addr add "10.0.1.$i/24" dev eth0 2> /dev/null
	done
	queue_forward --queue-balance 0:3 || return 1
	for q in 0 1 2 3; do
		q_start "bal$q" "$router" --num "$q" || return 1
	done
	for i in $(seq 11 18); do
		flow bal 3 --bind "10.0.1.$i"
	done
	expect_got bal 24 || l=1
	for q in 0 1 2 3; do
		q_stop "bal$q" || l=1
		[ "$(q_ids "bal$q")" -gt 0 ] && used=$((used + 1))
	done
	for i in $(seq 11 18); do
		src="udp 10\.0\.1\.$i:"
		where=
		for q in 0 1 2 3; do
			n=$(grep -c "$src" "$tmp/bal$q.out")
			[ "$n" -gt 0 ] && where="$where $q:$n"
		done
		if [[ ! $where =~ ^\ [0-3]:3$ ]]; then
			fail "10.0.1.$i's datagrams went to queue:count$where, expected one queue with 3"
			l=1
		fi
	done
	if [ $used -lt 2 ]; then
		fail "only $used of 4 queues got packets"
		l=1
	fi
	info "packets per queue: $(for q in 0 1 2 3; do printf '%s ' "$(q_ids "bal$q")"; done)"
	return $l
}

# A listener killed (SIGKILL) with three packets queued: nothing breaks,
# the packets are dropped, the queue can be bound again. On a fail-open
# queue rustfilter accepts them instead (its documented deviation);
# nfnetlink_queue drops them too.
case_listener_killed() {
	local l=0 mark after=0
	mark=$(dmesg_mark)
	queue_forward --queue-num 0 || return 1
	q_start k1 "$router" --num 0 --hold || return 1
	flow kill 3
	busywait 5000 q_has k1 3 > /dev/null
	expect_ids k1 3 || l=1
	q_stop k1 KILL
	expect_got kill 0 || l=1
	q_start k2 "$router" --num 0 --count 1 || l=1
	flow kill-again 1
	q_end k2 || l=1
	expect_got kill-again 1 || l=1
	[ "$QUEUE_IMPL" = rustfilter ] && after=3
	q_start k3 "$router" --num 0 --hold --fail-open || return 1
	flow killfo 3
	busywait 5000 q_has k3 3 > /dev/null
	expect_ids k3 3 || l=1
	q_stop k3 KILL
	SETTLE=1 expect_got killfo $after || l=1
	no_splat "$mark" || l=1
	return $l
}

##############################################################################
# TCP bulk transfers

BULK_BYTES=2097152

# bulk NAME ARGS: BULK_BYTES of random data from the client to the
# server's port 5001 (bash's /dev/tcp sending, busybox nc receiving into
# $tmp/NAME.recv) through listener NAME (`rfctl queue ARGS` on the router,
# accepting); the listener is stopped afterwards.
bulk() {
	local name=$1 l=0
	shift
	[ -f "$tmp/bulk.src" ] || head -c $BULK_BYTES /dev/urandom > "$tmp/bulk.src"
	q_start "$name" "$router" "$@" || return 1
	ip netns exec "$server" nc -l -p 5001 < /dev/null > "$tmp/$name.recv" 2> "$tmp/nc.err" &
	qpid[nc]=$!
	if ! busywait 5000 nc_listening > /dev/null; then
		fail "nc -l -p 5001 does not listen: $(cat "$tmp/nc.err")"
		return 1
	fi
	if ! ip netns exec "$client" timeout 90 bash -c \
		"cat '$tmp/bulk.src' > /dev/tcp/10.0.2.2/5001" 2> "$tmp/bulk.err"; then
		fail "sending $BULK_BYTES bytes failed: $(cat "$tmp/bulk.err")"
		l=1
	fi
	# nc exits when the sender has closed and everything is read.
	if ! busywait 30000 q_gone nc > /dev/null; then
		fail "the receiver did not see the end of the transfer"
		l=1
	fi
	q_stop nc KILL
	q_stop "$name" || l=1
	if ! cmp -s "$tmp/bulk.src" "$tmp/$name.recv"; then
		fail "the server received $(wc -c < "$tmp/$name.recv") bytes that differ from the $BULK_BYTES sent"
		l=1
	fi
	return $l
}

nc_listening() {
	ip netns exec "$server" netstat -ltn 2> /dev/null | grep -q ':5001 '
}

# bulk_stats NAME: "LINES MAXLEN PAYLOAD BIG BIGGSO" of listener NAME's
# TCP lines: how many, the largest packet (len=, or caplen= when the copy
# was cut), the TCP payload bytes they carried (as their headers say),
# how many were larger than 1500 bytes and how many of those said gso in
# info=.
bulk_stats() {
	grep '^id=.* tcp 10\.0\.1\.2:[0-9]* > 10\.0\.2\.2:5001 ' "$tmp/$1.out" | awk '
		{
			n = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^len=/) { v = substr($i, 5) + 0; if (v > n) n = v }
				if ($i ~ /^caplen=/) { v = substr($i, 8) + 0; if (v > n) n = v }
				if ($i == "len" && i < NF) pay += $(i + 1)
			}
			lines++
			if (n > max) max = n
			if (n > 1500) { big++; if ($0 ~ / info=[^ ]*gso/) gso++ }
		}
		END { printf "%d %d %d %d %d\n", lines, max, pay, big, gso }'
}

# A 2 MB transfer through a queue without --gso: the router's GSO packets
# (veth passes the client's TSO packets whole) reach the listener as
# segments of at most the MTU, each judged, and the bytes arrive intact.
# With --gso: the listener gets the GSO packets whole (larger than the
# MTU, info= says gso) and the bytes arrive intact.
case_gso() {
	local l=0 st
	ipt "$router" -A FORWARD -p tcp --dport 5001 -j NFQUEUE --queue-num 0 || return 1
	bulk g1 --num 0 || l=1
	read -r -a st <<< "$(bulk_stats g1)"
	info "without --gso: ${st[0]} packets, largest ${st[1]} bytes, payload ${st[2]} bytes"
	if [ "${st[1]}" -gt 1500 ] || [ "${st[0]}" -lt $((BULK_BYTES / 1500)) ] ||
	   [ "${st[2]}" -lt $BULK_BYTES ]; then
		fail "without --gso: expected at least $((BULK_BYTES / 1500)) packets of at most 1500 bytes carrying $BULK_BYTES bytes"
		grep -E 'len=(1[5-9][0-9][0-9]|[2-9][0-9]{3}|[0-9]{5})' "$tmp/g1.out" | head -n 5 | sed 's/^/#     /'
		l=1
	fi
	bulk g2 --num 0 --gso || l=1
	read -r -a st <<< "$(bulk_stats g2)"
	info "with --gso: ${st[0]} packets, largest ${st[1]} bytes, payload ${st[2]} bytes, ${st[3]} above 1500 (${st[4]} say gso)"
	if [ "${st[3]}" -eq 0 ] || [ "${st[3]}" != "${st[4]}" ] || [ "${st[2]}" -lt $BULK_BYTES ]; then
		fail "with --gso: expected packets larger than 1500 bytes, each with info=...gso, carrying $BULK_BYTES bytes"
		grep -m 5 'tcp 10\.0\.1\.2' "$tmp/g2.out" | sed 's/^/#     /'
		l=1
	fi
	return $l
}

##############################################################################
# The sending socket's owner, the packet's connection

# A datagram sent by nobody and one sent by root, queued at OUTPUT with
# --uid-gid: the lines name their owners.
case_uid_gid() {
	local l=0 uid gid
	# (No process substitution: the VM has no /dev/fd.)
	IFS=: read -r _ _ uid gid _ <<< "$(grep '^nobody:' /etc/passwd)"
	if [ -z "$uid" ]; then
		skip_why="no user nobody in /etc/passwd"
		return $ksft_skip
	fi
	ipt "$client" -A OUTPUT -p udp --dport 9 -j NFQUEUE --queue-num 0 || return 1
	q_start ug "$client" --num 0 --uid-gid --count 2 || return 1
	if ! ip netns exec "$client" su -s /bin/sh nobody -c \
		"'$RFSERVE' udp-flow --server 10.0.2.2 --port 9 --count 1 --data uid-nobody" \
		> /dev/null 2> "$tmp/su.err"; then
		fail "udp-flow as nobody: $(cat "$tmp/su.err")"
		l=1
	fi
	flow uid-root 1
	q_end ug || l=1
	expect_lines ug 1 "^id=[0-9]+ hook=OUTPUT hw=0x0800 in=- out=[0-9]+ mark=0x0 len=40 .*uid=$uid gid=$gid udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 12 verdict=accept$" || l=1
	expect_lines ug 1 "^id=[0-9]+ hook=OUTPUT hw=0x0800 in=- out=[0-9]+ mark=0x0 len=38 .*uid=0 gid=0 udp 10\.0\.1\.2:[0-9]+ > 10\.0\.2\.2:9 len 10 verdict=accept$" || l=1
	expect_data "uid-nobody 0" || l=1
	expect_data "uid-root 0" || l=1
	return $l
}

# ct_track: the router tracks connections. rustfilter: a rustfilter rule
# that uses conntrack; upstream: the same rule with iptables-legacy
# (xt_state loads nf_conntrack) and nf_conntrack_netlink, which
# nfnetlink_queue needs for NFQA_CT.
ct_track() {
	if [ "$QUEUE_IMPL" = rustfilter ]; then
		if ! ip netns exec "$router" "$RFCTL" -A INPUT -m state --state INVALID -j DROP 2> "$tmp/rf.err"; then
			fail "rfctl -A INPUT -m state --state INVALID -j DROP: $(cat "$tmp/rf.err")"
			return 1
		fi
		return 0
	fi
	if ! modprobe xt_state 2> "$tmp/mp.err" || ! modprobe nf_conntrack_netlink 2>> "$tmp/mp.err"; then
		skip_why="no conntrack for nfnetlink_queue: $(cat "$tmp/mp.err")"
		return $ksft_skip
	fi
	# nfnetlink_queue refuses NFQA_CFG_F_CONNTRACK (EOPNOTSUPP) unless
	# the kernel has CONFIG_NETFILTER_NETLINK_GLUE_CT: ask it (a listener
	# that binds runs until the timeout ends it).
	ip netns exec "$router" timeout 2 "$RFCTL" queue --num 9 --conntrack \
		> /dev/null 2> "$tmp/probe.err"
	if grep -q EOPNOTSUPP "$tmp/probe.err"; then
		skip_why="nfnetlink_queue refuses --conntrack: EOPNOTSUPP (no CONFIG_NETFILTER_NETLINK_GLUE_CT)"
		return $ksft_skip
	fi
	ipt "$router" -A INPUT -m state --state INVALID -j DROP
}

ct_untrack() {
	[ "$QUEUE_IMPL" = rustfilter ] && ip netns exec "$router" "$RFCTL" -F INPUT 2> /dev/null
	return 0
}

# ctstatus_has NAME REGEX BITS WANT: the ctstatus= of NAME's line that
# matches REGEX, masked with BITS, is WANT.
ctstatus_has() {
	local st
	st=$(grep '^id=' "$tmp/$1.out" | grep -E "$2" | sed -n 's/.* ctstatus=\(0x[0-9a-f]*\) .*/\1/p' | head -n 1)
	if [ -z "$st" ] || [ $((st & $3)) -ne $(($4)) ]; then
		fail "listener $1: ctstatus of /$2/ is ${st:-missing}, expected bits $3 to be $4"
		return 1
	fi
}

# A ping through the router with --conntrack: the request is NEW (not yet
# confirmed, no reply seen), the reply ESTABLISHED_REPLY (confirmed, reply
# seen). Then Debian's nf-queue accepts the requests of another ping with
# NFQA_CT { CTA_MARK 42 }: the reply, queued to rfctl queue --conntrack,
# carries ctmark=0x2a; in rustfilter mode rfctl conntrack lists the
# connection with mark=42.
case_conntrack() {
	local l=0 rc req rep
	ct_track
	rc=$?
	[ $rc -ne 0 ] && return $rc
	ipt "$router" -A FORWARD -p icmp -j NFQUEUE --queue-num 0 || { ct_untrack; return 1; }
	if q_start ct "$router" --num 0 --conntrack --count 2; then
		ip netns exec "$client" ping -c 1 -W 5 10.0.2.2 > /dev/null || { fail "ping"; l=1; }
		q_end ct || l=1
	else
		l=1
	fi
	req='ct=NEW ctmark=0x0 ctstatus=0x[0-9a-f]+ icmp 10\.0\.1\.2 > 10\.0\.2\.2 type 8 code 0 '
	rep='ct=ESTABLISHED_REPLY ctmark=0x0 ctstatus=0x[0-9a-f]+ icmp 10\.0\.2\.2 > 10\.0\.1\.2 type 0 code 0 '
	expect_lines ct 1 "^id=[0-9]+ hook=FORWARD .*$req.*verdict=accept$" || l=1
	expect_lines ct 1 "^id=[0-9]+ hook=FORWARD .*$rep.*verdict=accept$" || l=1
	# IPS_SEEN_REPLY 0x2, IPS_CONFIRMED 0x8.
	ctstatus_has ct "$req" 0xa 0 || l=1
	ctstatus_has ct "$rep" 0xa 0xa || l=1
	info "$(grep -o 'ct=.*icmp [0-9.]* > [0-9.]*' "$tmp/ct.out" | tr '\n' ';')"

	reset_rules
	[ "$QUEUE_IMPL" = upstream ] && ipt "$router" -A INPUT -m state --state INVALID -j DROP
	if ! command -v nf-queue > /dev/null; then
		ct_untrack
		[ $l -eq 0 ] && info "no nf-queue: CTA_MARK in verdicts not checked"
		return $l
	fi
	ipt "$router" -A FORWARD -p icmp --icmp-type echo-request -j NFQUEUE --queue-num 0 || l=1
	ipt "$router" -A FORWARD -p icmp --icmp-type echo-reply -j NFQUEUE --queue-num 1 || l=1
	ip netns exec "$router" nf-queue 0 > "$tmp/nfq.out" 2>&1 &
	qpid[nfq]=$!
	if ! busywait 5000 proc_bound "$router" 0 > /dev/null || ! handler_ok; then
		fail "nf-queue did not bind queue 0: $(cat "$tmp/nfq.out")"
		ct_untrack
		return 1
	fi
	q_start cm "$router" --num 1 --conntrack --count 1 || { ct_untrack; return 1; }
	ip netns exec "$client" ping -c 1 -W 5 10.0.2.2 > /dev/null || { fail "ping through nf-queue"; l=1; }
	q_end cm || l=1
	q_stop nfq KILL
	expect_lines cm 1 '^id=[0-9]+ hook=FORWARD .* ct=ESTABLISHED_REPLY ctmark=0x2a .*icmp 10\.0\.2\.2 > 10\.0\.1\.2 type 0 ' || l=1
	if [ "$QUEUE_IMPL" = rustfilter ]; then
		ip netns exec "$router" "$RFCTL" conntrack -L -p icmp > "$tmp/ctl.out" 2>&1
		if [ "$(grep -c '^icmp .* mark=42 ' "$tmp/ctl.out")" != 1 ]; then
			fail "rfctl conntrack -L does not show one icmp connection with mark=42:"
			sed 's/^/#     /' "$tmp/ctl.out"
			l=1
		fi
	fi
	ct_untrack
	return $l
}

##############################################################################
# /proc, namespaces going away, devices going away

# proc_line NS QUEUE: queue QUEUE's line of /proc/net/netfilter/nfnetlink_queue in NS.
proc_line() {
	ip netns exec "$1" awk -v q="$2" '$1 == q' /proc/net/netfilter/nfnetlink_queue 2> /dev/null
}

proc_bound() { [ -n "$(proc_line "$1" "$2")" ]; }

proc_line_is() { [ "$(proc_line "$1" "$2")" = "$3" ]; }

# expect_proc NS QUEUE PORTID WAITING MODE RANGE DROPPED UDROPPED IDSEQ:
# the line, exactly as upstream's seq_show prints it.
expect_proc() {
	local ns=$1 q=$2 want
	shift 2
	want=$(printf '%5u %6u %5u %1u %5u %5u %5u %8u %2d' "$q" "$@" 1)
	if ! busywait 2000 proc_line_is "$ns" "$q" "$want" > /dev/null; then
		fail "/proc/net/netfilter/nfnetlink_queue in ${ns%-*}: queue $q's line is '$(proc_line "$ns" "$q")', expected '$want'"
		ip netns exec "$ns" cat /proc/net/netfilter/nfnetlink_queue | sed 's/^/#     /'
		return 1
	fi
}

proc_empty() {
	ip netns exec "$1" test -e /proc/net/netfilter/nfnetlink_queue &&
		[ -z "$(ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue)" ]
}

# A listener on queue 3 copying 100 bytes: its line (queue, portid, 0
# waiting, copy mode 2, range 100), then 1 waiting and id_sequence 1 with
# a packet held; the client's namespace has the file and no line; after
# the listener goes, the router's has no line either.
case_proc() {
	local l=0 pid
	queue_forward --queue-num 3 || return 1
	q_start p "$router" --num 3 --copy packet:100 --hold || return 1
	pid=${qpid[p]}
	expect_proc "$router" 3 "$pid" 0 2 100 0 0 0 || l=1
	flow prc 1
	busywait 5000 q_has p 1 > /dev/null
	expect_ids p 1 || l=1
	expect_proc "$router" 3 "$pid" 1 2 100 0 0 1 || l=1
	if ! proc_empty "$client"; then
		fail "the client's /proc/net/netfilter/nfnetlink_queue is missing or not empty:"
		ip netns exec "$client" cat /proc/net/netfilter/nfnetlink_queue 2>&1 | sed 's/^/#     /'
		l=1
	fi
	q_stop p || l=1
	if ! busywait 2000 proc_empty "$router" > /dev/null; then
		fail "the router's /proc/net/netfilter/nfnetlink_queue still lists a queue after its listener exited:"
		ip netns exec "$router" cat /proc/net/netfilter/nfnetlink_queue 2>&1 | sed 's/^/#     /'
		l=1
	fi
	expect_got prc 0 || l=1
	return $l
}

# reload_handler: unload the queue handler module and load it again
# (rustfilter.ko or nfnetlink_queue.ko); fails when rmmod fails or hangs.
reload_handler() {
	local m=nfnetlink_queue
	[ "$QUEUE_IMPL" = rustfilter ] && m=rustfilter
	if ! timeout 60 "$(command -v rmmod)" "$m" 2> "$tmp/rmmod.err"; then
		fail "rmmod $m failed or hung: $(cat "$tmp/rmmod.err")"
		return 1
	fi
	load_impl
}

# A namespace of its own with two listeners holding three locally sent
# datagrams each (queue 1 fail-open), both killed and the namespace
# deleted at once: it goes, nothing splats, and the handler's module
# unloads afterwards (which waits for the namespace's cleanup).
case_netns_exit() {
	local l=0 mark
	mark=$(dmesg_mark)
	setup_ns lonely || return 1
	ipt "$lonely" -A OUTPUT -p udp --dport 9 -j NFQUEUE --queue-num 0 || return 1
	ipt "$lonely" -A OUTPUT -p udp --dport 10 -j NFQUEUE --queue-num 1 || return 1
	q_start x0 "$lonely" --num 0 --hold || return 1
	q_start x1 "$lonely" --num 1 --hold --fail-open || return 1
	ip netns exec "$lonely" "$RFSERVE" udp-flow --server 127.0.0.1 --port 9 --count 3 \
		--interval 0.02 --data lone > /dev/null 2>&1
	ip netns exec "$lonely" "$RFSERVE" udp-flow --server 127.0.0.1 --port 10 --count 3 \
		--interval 0.02 --data lone > /dev/null 2>&1
	busywait 5000 q_has x0 3 > /dev/null
	busywait 5000 q_has x1 3 > /dev/null
	expect_ids x0 3 || l=1
	expect_ids x1 3 || l=1
	kill -KILL "${qpid[x0]}" "${qpid[x1]}"
	if ! cleanup_ns "$lonely"; then
		fail "namespace $lonely not deleted"
		l=1
	fi
	lonely=
	if ip netns list | grep -q '^lonely-'; then
		fail "ip netns still lists: $(ip netns list | tr '\n' ' ')"
		l=1
	fi
	q_stop x0 KILL
	q_stop x1 KILL
	reload_handler || l=1
	no_splat "$mark" || l=1
	return $l
}

# link_back NAME: the veth pair NAME (veth1: client-router, veth2:
# router-server) made again as rf_setup_router made it.
link_back() {
	ip -n "$router" link del "$1" 2> /dev/null
	if [ "$1" = veth1 ]; then
		veth_link "$client" eth0 10.0.1.2/24 "$router" veth1 10.0.1.1/24 &&
			ip -n "$client" route add default via 10.0.1.1
	else
		veth_link "$router" veth2 10.0.2.1/24 "$server" eth0 10.0.2.2/24 &&
			ip -n "$server" route add default via 10.0.2.1
	fi
}

# del_link NAME: delete the router's NAME; fails unless `ip link del`
# returns within 5 s (it waits for the device's references to go).
del_link() {
	local t0 t1
	t0=$(timestamp_ms)
	# ip's path: busybox's timeout would run its own ip applet.
	if ! timeout 10 "$(command -v ip)" -n "$router" link del "$1"; then
		fail "ip link del $1 failed or took more than 10 s"
		return 1
	fi
	t1=$(timestamp_ms)
	info "ip link del $1 took $((t1 - t0)) ms"
	if [ $((t1 - t0)) -gt 5000 ]; then
		fail "ip link del $1 took $((t1 - t0)) ms"
		return 1
	fi
}

enoents() { grep -c 'verdict for packet [0-9]*: ENOENT' "$tmp/$1.err"; }
enoents_are() { [ "$(enoents "$1")" -ge "$2" ]; }

# Packets held while their output device is deleted (veth2), then while
# their input device is deleted (veth1), the listener giving verdicts
# late: the deletion completes at once, the packets are gone from the
# queue (waiting 0 in /proc), the late verdicts get ENOENT, and the
# kernel does not wait for the devices (unregister_netdevice: waiting).
case_device_down() {
	local l=0 mark pid
	mark=$(dmesg_mark)
	queue_forward --queue-num 0 || return 1
	q_start dd_out "$router" --num 0 --hold || return 1
	pid=${qpid[dd_out]}
	flow ddo 3
	busywait 5000 q_has dd_out 3 > /dev/null
	expect_ids dd_out 3 || l=1
	expect_proc "$router" 0 "$pid" 3 2 65531 0 0 3 || l=1
	del_link veth2 || l=1
	expect_proc "$router" 0 "$pid" 0 2 65531 0 0 3 || l=1
	q_running dd_out || { fail "the listener died"; l=1; }
	q_stop dd_out || l=1
	link_back veth2 || { fail "cannot make veth2 again"; return 1; }

	q_start dd_in "$router" --num 0 --delay 1000 || return 1
	flow ddi 3
	busywait 5000 q_has dd_in 1 > /dev/null
	del_link veth1 || l=1
	expect_proc "$router" 0 "${qpid[dd_in]}" 0 2 65531 0 0 3 || l=1
	if ! busywait 10000 enoents_are dd_in 3 > /dev/null; then
		fail "the listener's late verdicts got $(enoents dd_in) ENOENT, expected 3:"
		sed 's/^/#     /' "$tmp/dd_in.out" "$tmp/dd_in.err"
		l=1
	fi
	expect_ids dd_in 3 || l=1
	q_stop dd_in || l=1
	link_back veth1 || { fail "cannot make veth1 again"; return 1; }
	if dmesg | tail -n +"$((mark + 1))" | grep -q 'unregister_netdevice: waiting'; then
		fail "the kernel waited for a device:"
		dmesg | tail -n +"$((mark + 1))" | grep 'unregister_netdevice' | sed 's/^/#     /'
		l=1
	fi
	no_splat "$mark" || l=1
	# The path works again.
	q_start dd_back "$router" --num 0 --count 1 || return 1
	flow ddback 1
	q_end dd_back || l=1
	expect_got ddback 1 || l=1
	return $l
}

# The first ruleset of a rustfilter table in the router registers the
# table's hook functions, which moves those after them, where queued
# packets would resume: the packets waiting in the router's queues are
# dropped, as when a hook function is unregistered. Committing again
# registers nothing and leaves them waiting.
case_hooks_registered() {
	local l=0 mark pid
	mark=$(dmesg_mark)
	queue_forward --queue-num 0 || return 1
	q_start hr "$router" --num 0 --hold || return 1
	pid=${qpid[hr]}
	flow hreg 3
	busywait 5000 q_has hr 3 > /dev/null
	expect_proc "$router" 0 "$pid" 3 2 65531 0 0 3 || l=1
	# The raw table: no other case commits it.
	if ! ip netns exec "$router" "$RFCTL" -t raw -A PREROUTING -p tcp --dport 1 -j ACCEPT \
		2> "$tmp/rf.err"; then
		fail "rfctl -t raw -A PREROUTING: $(cat "$tmp/rf.err")"
		l=1
	fi
	expect_proc "$router" 0 "$pid" 0 2 65531 0 0 3 || l=1
	q_stop hr || l=1
	expect_got hreg 0 || l=1
	# Registered once: the next commit leaves queued packets alone
	# (accepted when the fail-open listener goes).
	q_start hr2 "$router" --num 0 --hold --fail-open || return 1
	pid=${qpid[hr2]}
	flow hreg2 3
	busywait 5000 q_has hr2 3 > /dev/null
	ip netns exec "$router" "$RFCTL" -t raw -F || l=1
	expect_proc "$router" 0 "$pid" 3 2 65531 0 0 3 || l=1
	q_stop hr2 || l=1
	expect_got hreg2 3 || l=1
	no_splat "$mark" || l=1
	return $l
}

# rmmod rustfilter with packets queued and listeners bound: it succeeds
# promptly, nothing splats, the packets are dropped (not accepted: only a
# listener's death accepts), the listeners exit cleanly afterwards.
case_unload() {
	local l=0 mark
	mark=$(dmesg_mark)
	queue_forward --queue-num 0 || return 1
	q_start u1 "$router" --num 0 --hold || return 1
	q_start u2 "$router" --num 1 --hold --fail-open || return 1
	flow unl 3
	busywait 5000 q_has u1 3 > /dev/null
	expect_ids u1 3 || l=1
	if ! timeout 60 rmmod rustfilter; then
		fail "rmmod rustfilter with packets queued failed or hung"
		l=1
	fi
	if rf_loaded; then
		fail "rustfilter is still loaded"
		l=1
	fi
	q_stop u1 || l=1
	q_stop u2 || l=1
	expect_got unl 0 || l=1
	no_splat "$mark" || l=1
	rf_load || { fail "cannot load rustfilter again"; l=1; }
	return $l
}

# With rustfilter loaded, nfnetlink_queue cannot load (and the kernel log
# says why, naming rustfilter).
case_exclusive_modprobe() {
	local l=0 mark
	rf_load || { fail "cannot load rustfilter"; return 1; }
	mark=$(dmesg_mark)
	if modprobe nfnetlink_queue 2> "$tmp/mp.err"; then
		fail "modprobe nfnetlink_queue succeeded next to rustfilter"
		rmmod nfnetlink_queue
		l=1
	else
		info "modprobe nfnetlink_queue: $(cat "$tmp/mp.err")"
	fi
	if ! dmesg | tail -n +"$((mark + 1))" | grep -q rustfilter; then
		fail "the kernel log does not say that rustfilter refused nfnetlink_queue:"
		dmesg | tail -n +"$((mark + 1))" | sed 's/^/#     /'
		l=1
	fi
	return $l
}

# With nfnetlink_queue loaded, rustfilter cannot load, with a message,
# and without a kernel warning (nor one when nfnetlink_queue goes).
case_exclusive_insmod() {
	local l=0 mark
	if ! rf_unload; then
		fail "cannot unload rustfilter"
		return 1
	fi
	modprobe nfnetlink_queue || { fail "modprobe nfnetlink_queue"; return 1; }
	mark=$(dmesg_mark)
	if insmod "$(rf_ko)" 2> "$tmp/ins.err"; then
		fail "rustfilter loaded next to nfnetlink_queue"
		l=1
	else
		info "insmod rustfilter: $(cat "$tmp/ins.err")"
		if ! { cat "$tmp/ins.err"; dmesg | tail -n +"$((mark + 1))"; } | grep -q nfnetlink_queue; then
			fail "no message names nfnetlink_queue:"
			dmesg | tail -n +"$((mark + 1))" | sed 's/^/#     /'
			l=1
		fi
	fi
	rf_unload
	rmmod nfnetlink_queue || { fail "rmmod nfnetlink_queue"; l=1; }
	rf_load || { fail "cannot load rustfilter again"; l=1; }
	# The refused insmod leaves nfnetlink_queue's /proc files alone.
	no_splat "$mark" || l=1
	return $l
}

##############################################################################

echo "TAP version 13"
echo "1..${#CASES[@]}"
diag "queue handler: $QUEUE_IMPL"

setup_ns client router server
if ! rf_setup_router || ! load_impl; then
	for i in "${!CASES[@]}"; do
		echo "not ok $((i + 1)) ${CASES[$i]} # setup failed"
	done
	exit $ksft_fail
fi
ip netns exec "$server" "$RFSERVE" echo --port 9 --proto udp --sink -v > "$tmp/sink.log" 2>&1 &
if ! busywait 5000 grep -q listening "$tmp/sink.log"; then
	diag "the sink does not listen: $(cat "$tmp/sink.log")"
	exit $ksft_fail
fi

pass=0
failed=0
skipped=0
for i in "${!CASES[@]}"; do
	c=${CASES[$i]}
	n=$((i + 1))
	if [ "$QUEUE_IMPL" != rustfilter ] && [[ $RUSTFILTER_ONLY == *" $c "* ]]; then
		echo "ok $n $c # SKIP rustfilter only"
		skipped=$((skipped + 1))
		continue
	fi
	skip_why=
	"case_$c"
	rc=$?
	q_stop_all
	reset_rules
	if [ $rc -eq 0 ]; then
		echo "ok $n $c"
		pass=$((pass + 1))
	elif [ $rc -eq $ksft_skip ]; then
		echo "ok $n $c # SKIP ${skip_why:-not here}"
		skipped=$((skipped + 1))
	else
		echo "not ok $n $c"
		failed=$((failed + 1))
		ret=1
	fi
done
diag "Totals: pass:$pass fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
exit $ret
