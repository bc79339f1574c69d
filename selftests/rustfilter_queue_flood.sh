#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A queue with a slow listener under a UDP flood (the reliability issue's
# floods): rustfilter's NFQUEUE rule on a router queues FLOOD datagrams
# sent as fast as udp-flow can to `rfctl queue --maxlen 64 --delay 50`
# (20 verdicts a second), while /proc/net/netfilter/nfnetlink_queue is
# sampled every 50 ms:
#
# 1. without fail-open: no sample shows more than 64 waiting and the
#    queue fills; every packet the rule queued got an id or was counted
#    dropped (dropped column) or user_dropped, the dropped column grew, and
#    the server received no more than the listener accepted;
# 2. with --fail-open: no more than 64 waiting, nothing counted dropped,
#    and the packets that found no room reached the server while the
#    listener was still busy;
# 3. slab: with a listener that gives no verdicts (--hold) and maxlen 64,
#    the live slab objects (stress_lib.sh's mem: every cache shrunk) grow
#    by less than 1 MB after the flood; the same flood into a queue of
#    maxlen FLOOD is measured for comparison and must grow more.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#
# env: FLOOD (datagrams per flood, 3000)

source lib.sh
source queue_lib.sh

rf_require_tools
rf_require_module
: "${RFSERVE:=$(command -v rfserve)}"
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ]; then
	echo "SKIP: Could not run test without rfserve"
	exit $ksft_skip
fi
if ! "$RFCTL" queue --help > /dev/null 2>&1; then
	echo "SKIP: Could not run test with an rfctl that has no 'queue'"
	exit $ksft_skip
fi

FLOOD=${FLOOD:-3000}
MAXLEN=64

ret=0
tmp=$(mktemp -d)
bg_pids=()
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

ip netns exec "$server" "$RFSERVE" echo --port 9 --proto udp --sink -v > "$tmp/sink.log" 2>&1 &
bg_pids+=($!)
if ! busywait 5000 grep -q listening "$tmp/sink.log"; then
	echo "FAIL: the sink does not listen: $(cat "$tmp/sink.log")"
	exit $ksft_fail
fi

# got TAG: datagrams "TAG N" the server received.
got() { grep -c "\"$1 [0-9]*\"\$" "$tmp/sink.log"; }

# qline Q: "waiting dropped user_dropped id_sequence" of queue Q.
qline() {
	ip netns exec "$router" awk -v q="$1" '$1 == q { print $3, $6, $7, $8 }' \
		/proc/net/netfilter/nfnetlink_queue
}

# sampler Q FILE: qline Q every 50 ms into FILE, in the background.
sampler() {
	ip netns exec "$router" sh -c "while :; do
		awk -v q=$1 '\$1 == q { print \$3, \$6, \$7, \$8 }' /proc/net/netfilter/nfnetlink_queue
		sleep 0.05
	done" > "$2" 2> /dev/null &
	sampler_pid=$!
}

# rule_pkts N: the packet counter of the router's filter FORWARD rule N.
rule_pkts() {
	rfr -L FORWARD -v -x -n | awk -v n="$1" 'NR == n + 2 { print $1 }'
}

# listen NAME Q ARGS: rfctl queue --num Q ARGS in the router; waits for it
# to bind.
listen() {
	local name=$1 q=$2
	shift 2
	ip netns exec "$router" "$RFCTL" queue --num "$q" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	lpid=$!
	if ! busywait 5000 grep -q '^bound ' "$tmp/$name.out"; then
		echo "FAIL: rfctl queue --num $q $* did not bind: $(cat "$tmp/$name.err")"
		return 1
	fi
	if grep -q "^nfnetlink_queue " /proc/modules; then
		echo "FAIL: nfnetlink_queue got loaded: rustfilter is not the queue handler"
		return 1
	fi
}

# flood TAG: FLOOD datagrams "TAG N" from the client, as fast as it goes.
flood() {
	local start
	start=$(timestamp_ms)
	ip netns exec "$client" "$RFSERVE" udp-flow --server 10.0.2.2 --port 9 \
		--count "$FLOOD" --interval 0.0001 --data "$1" > "$tmp/flow.out" 2>&1
	echo "# flood $1: $(head -n 1 "$tmp/flow.out") ($(($(timestamp_ms) - start)) ms)"
}

# max_waiting FILE: the largest waiting count sampled.
max_waiting() { awk 'm < $1 { m = $1 } END { print m + 0 }' "$1"; }

accepted() { grep -c "^id=.*verdict=accept$" "$tmp/$1.out"; }

##############################################################################
# 1. Slow listener, no fail-open: the excess is dropped.

l=0
rfr -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 5 || l=1
rfr -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 6 || l=1
rfr -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 7 || l=1
rfr -A FORWARD -p udp --dport 9 -j NFQUEUE --queue-num 8 || l=1
# The first rule catches everything; later cases delete the rules before
# theirs.
listen slow 5 --maxlen $MAXLEN --delay 50 || l=1
sampler 5 "$tmp/s1"
flood drop
sleep 1
kill "$sampler_pid"; wait "$sampler_pid" 2> /dev/null
read -r waiting dropped udropped idseq <<< "$(qline 5)"
queued=$(rule_pkts 1)
max=$(max_waiting "$tmp/s1")
echo "# queue 5: $(wc -l < "$tmp/s1") samples, at most $max waiting; rule $queued, ids $idseq, dropped $dropped, user_dropped $udropped"
if [ "$max" -gt $MAXLEN ]; then
	echo "FAIL: $max packets waiting on queue 5, above its maxlen $MAXLEN"
	l=1
fi
if [ "$max" -lt $((MAXLEN - 4)) ]; then
	echo "FAIL: the queue never filled (at most $max waiting): no flood to bound"
	l=1
fi
if [ "$((idseq + dropped + udropped))" != "$queued" ]; then
	echo "FAIL: the rule queued $queued packets, but ids $idseq + dropped $dropped + user_dropped $udropped = $((idseq + dropped + udropped))"
	l=1
fi
if [ "${dropped:-0}" -lt $((queued / 2)) ]; then
	echo "FAIL: only ${dropped:-0} of $queued packets counted dropped on a full queue"
	l=1
fi
kill "$lpid"; wait "$lpid" 2> /dev/null
n=$(got drop)
a=$(accepted slow)
echo "# the listener accepted $a, the server received $n"
if [ "$n" -gt "$a" ]; then
	echo "FAIL: the server received $n datagrams, more than the $a the listener accepted"
	l=1
fi
rf_check "slow listener without fail-open: at most $MAXLEN waiting, the excess dropped and counted" $l

##############################################################################
# 2. Slow listener with fail-open: the excess passes.

l=0
rfr -D FORWARD 1 || l=1
listen slowfo 6 --maxlen $MAXLEN --delay 50 --fail-open || l=1
sampler 6 "$tmp/s2"
flood fo
sleep 1
kill "$sampler_pid"; wait "$sampler_pid" 2> /dev/null
read -r waiting dropped udropped idseq <<< "$(qline 6)"
queued=$(rule_pkts 1)
max=$(max_waiting "$tmp/s2")
n=$(got fo)
a=$(accepted slowfo)
still=0
kill -0 "$lpid" 2> /dev/null && still=1
passed=$((queued - idseq))
echo "# queue 6: at most $max waiting; rule $queued, ids $idseq, dropped $dropped; the server received $n with the listener busy ($a accepted)"
if [ "$max" -gt $MAXLEN ]; then
	echo "FAIL: $max packets waiting on queue 6, above its maxlen $MAXLEN"
	l=1
fi
if [ "${dropped:-1}" != 0 ]; then
	echo "FAIL: a fail-open queue counted ${dropped:-?} packets dropped"
	l=1
fi
if [ $still != 1 ]; then
	echo "FAIL: the slow listener exited: $(cat "$tmp/slowfo.err")"
	l=1
fi
# The sink may lose datagrams to its socket buffer under the flood
# (RcvbufErrors, printed): at least 3/4 of those that passed must arrive,
# and more than the listener and its queue could have let through.
if [ "$passed" -lt $((queued / 2)) ] || [ "$n" -lt $((passed * 3 / 4)) ] ||
   [ "$n" -le $((a + MAXLEN)) ]; then
	echo "FAIL: of $queued packets $passed found no room; the server received $n, expected at least $((passed * 3 / 4)) and more than $((a + MAXLEN))"
	l=1
fi
echo "# server UDP: $(ip netns exec "$server" awk '/^Udp:/ { if (h) print; h = 1 }' /proc/net/snmp)"
kill "$lpid"; wait "$lpid" 2> /dev/null
rf_check "slow listener with fail-open: at most $MAXLEN waiting, the excess passes at once" $l

##############################################################################
# 3. Slab: held packets bounded by maxlen.

# held Q MAXLEN TAG: the growth in kB of the live slab objects with a
# listener holding queue Q (maxlen MAXLEN) after a flood; prints
# "GROWTH WAITING".
held() {
	local q=$1 maxlen=$2 tag=$3 s0 s1 w
	read -r s0 _ <<< "$(mem)"
	listen "hold$q" "$q" --maxlen "$maxlen" --hold || return 1
	flood "$tag" > /dev/null
	sleep 1
	read -r s1 _ <<< "$(mem)"
	read -r w _ <<< "$(qline "$q")"
	kill "$lpid"; wait "$lpid" 2> /dev/null
	echo "$((s1 - s0)) $w"
}

l=0
rfr -D FORWARD 1 || l=1
read -r grow waiting <<< "$(held 7 $MAXLEN hold)"
rfr -D FORWARD 1 || l=1
read -r cgrow cwaiting <<< "$(held 8 "$FLOOD" control)"
echo "# live slab objects: +$grow kB with $waiting held (maxlen $MAXLEN); +$cgrow kB with $cwaiting held (maxlen $FLOOD)"
if [ "${waiting:-0}" -gt $MAXLEN ] || [ "${waiting:-0}" -lt $((MAXLEN - 4)) ]; then
	echo "FAIL: ${waiting:-?} packets held on a queue of maxlen $MAXLEN"
	l=1
fi
if [ -z "$grow" ] || [ "$grow" -gt 1024 ]; then
	echo "FAIL: the slab grew by ${grow:-?} kB with $MAXLEN packets held, above 1024 kB"
	l=1
fi
if [ -z "$cgrow" ] || [ "$cgrow" -le $((grow + 1024)) ] || [ "${cwaiting:-0}" -lt $((FLOOD / 2)) ]; then
	echo "FAIL: the unbounded control grew by ${cgrow:-?} kB with ${cwaiting:-?} held: the measure cannot tell"
	l=1
fi
rf_check "slab bounded by maxlen: +$grow kB with $MAXLEN held (+$cgrow kB with ${cwaiting:-?} held)" $l

l=0
stop_bg
cleanup_all_ns
no_splat "after the floods" || l=1
if ! busywait 10000 rmmod rustfilter > /dev/null 2>&1; then
	echo "FAIL: rmmod rustfilter failed: refcnt $(refcnt)"
	l=1
fi
rf_check "no splat, rustfilter unloads" $l

exit $ret
