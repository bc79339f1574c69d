#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Connection tracking at its edges, on the router, with packets crafted by
# rfpkt and real connections:
#
# - TCP window tracking: a connection to a real listener on the server,
#   made by a phantom client (10.0.1.50, all of its segments crafted, the
#   server's answers caught with `rfpkt --reply`). In-window segments and a
#   retransmission are ESTABLISHED; a segment far beyond the server's
#   window and an ACK for data the server never sent are INVALID
#   (`-m conntrack --ctstate INVALID` counts them, `-m state --state
#   ESTABLISHED` does not).
# - ICMP errors: a port unreachable quoting the client's real UDP flow and
#   a fragmentation needed quoting the phantom's TCP connection are
#   RELATED; errors quoting flows that never existed, and an unsolicited
#   echo reply, are INVALID.
# - A full table (`rfctl conntrack --set-max 64`) under a flood of 2,000
#   unanswered SYNs from 100 addresses x 20 ports: an assured connection
#   opened before keeps carrying data both ways, a new connection still
#   gets through (early drop of unassured entries), the count never
#   exceeds 64.
# - Timeouts (`rfctl conntrack --set-timeout udp_unreplied=1,
#   tcp_time_wait=1`): an unreplied UDP flow and a closed TCP connection in
#   TIME_WAIT leave `rfctl conntrack -L` within 3 seconds, while an
#   established connection stays.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#   (10.0.1.50: the phantom; the router's neighbour entry sends its packets
#   to the client's eth0, whose stack drops them and where rfpkt sees them)
#
# Each part has namespaces of its own, so a fresh connection table.

source lib.sh

rf_require_tools
rf_require_module
rf_require_tool RFPKT rfpkt
if ! command -v nc > /dev/null 2>&1; then
	echo "SKIP: Could not run test without nc"
	exit $ksft_skip
fi

ret=0
tmp=$(mktemp -d)

cleanup() {
	exec 7>&- 2> /dev/null
	cleanup_all_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

PHANTOM=10.0.1.50

# topology: client, router and server namespaces, made afresh.
topology() {
	local mac

	cleanup_all_ns
	client=""
	router=""
	server=""
	setup_ns client router server || return 1
	rf_setup_router || return 1
	mac=$(ip -n "$client" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n "$router" neigh add $PHANTOM lladdr "$mac" dev veth1 nud permanent
}

ct() { ip netns exec "$router" "$RFCTL" conntrack "$@" 2> /dev/null; }
pkt() { local ns=$1; shift; ip netns exec "$ns" "$RFPKT" "$@"; }

# load NS TABLE: replace TABLE in NS by the lines on stdin.
load() {
	{ echo "*$2"; cat; echo COMMIT; } | ip netns exec "$1" "$RFCTL" restore
}

# listening NS PORT: whether a TCP socket listens on PORT in NS.
listening() {
	local hex

	hex=$(printf '%04X' "$2")
	# bash, not sh: busybox sh would run its own netns-less ip applet.
	busywait 3000 bash -c "ip netns exec $1 cat /proc/net/tcp /proc/net/tcp6 2> /dev/null |
		awk '\$4 == \"0A\"' | grep -qi ':$hex '"
}

# expect_rules NS CHAIN WHAT COUNT...: rf_expect_rules for the filter
# table, once the counts are there (within a second: a packet just sent may
# still be on its way).
expect_rules() {
	local ns=$1 chain=$2 what=$3; shift 3

	busywait 1000 rf_expect_rules "$ns" filter "$chain" "$what" "$@" > /dev/null
	rf_expect_rules "$ns" filter "$chain" "$what" "$@"
}

# field NAME LINE: the value of NAME=VALUE in an rfpkt line.
field() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# ct_stat NAME: one counter of `rfctl conntrack -S` in the router.
ct_stat() {
	ct -S | tr ' \t' '\n\n' | sed -n "s/^$1=//p" | head -n 1
}

##############################################################################
# TCP window tracking

topology || exit $ksft_fail
load "$router" filter <<-EOF || exit $ksft_fail
	-A FORWARD -i veth1 -p tcp --dport 5001 -m conntrack --ctstate INVALID
	-A FORWARD -i veth1 -p tcp --dport 5001 -m state --state ESTABLISHED
	-A FORWARD -i veth1 -p tcp --dport 5001 -m state --state NEW
	-A FORWARD -i veth2 -p tcp --sport 5001 -m conntrack --ctstate INVALID
	-A FORWARD -i veth2 -p tcp --sport 5001 -m state --state ESTABLISHED
	-A FORWARD -m conntrack --ctstate INVALID -j DROP
EOF
# A listener that never sends: its stdin stays open and empty.
ip netns exec "$server" bash -c "sleep 600 | nc -l -p 5001 > /dev/null 2>&1" &
listening "$server" 5001 || echo "INFO: the server did not listen on port 5001 in time"

C=1000000
TCP=(tcp --src $PHANTOM --dst 10.0.2.2 --sport 40000 --dport 5001)

l=0
# The handshake: the server's SYN-ACK tells its initial sequence number.
synack=$(pkt "$client" "${TCP[@]}" --flags S --seq $C --reply --timeout 3)
if [ "$(field flags "$synack")" != SA ] || [ "$(field ack "$synack")" != $((C + 1)) ]; then
	echo "FAIL: no SYN-ACK from the server for the phantom's SYN (got '$synack')"
	l=1
fi
S=$(field seq "$synack")
S=${S:-0}
SA=$(((S + 1) % 4294967296))
pkt "$client" "${TCP[@]}" --flags A --seq $((C + 1)) --ack $SA || l=1
expect_rules "$router" FORWARD "handshake" 0 1 1 0 - 0 || l=1

# In window: 10 bytes, acknowledged by the server.
ack=$(pkt "$client" "${TCP[@]}" --flags PA --seq $((C + 1)) --ack $SA --payload-len 10 --reply --timeout 3)
if [ "$(field ack "$ack")" != $((C + 11)) ]; then
	echo "FAIL: the server did not acknowledge the first 10 bytes (got '$ack')"
	l=1
fi
expect_rules "$router" FORWARD "in-window data" 0 2 1 0 - 0 || l=1
rf_check "handshake and in-window data of a crafted connection are NEW, then ESTABLISHED" $l

l=0
# A segment a million bytes beyond the server's window (64 KiB at most,
# no window scaling offered).
pkt "$client" "${TCP[@]}" --flags PA --seq $((C + 11 + 1000000)) --ack $SA --payload-len 10 || l=1
expect_rules "$router" FORWARD "sequence beyond the window" 1 2 1 0 - 1 || l=1
# An ACK for 100,000 bytes the server never sent.
pkt "$client" "${TCP[@]}" --flags A --seq $((C + 11)) --ack $(((SA + 100000) % 4294967296)) || l=1
expect_rules "$router" FORWARD "ACK for unsent data" 2 2 1 0 - 2 || l=1
rf_check "out-of-window segment and ACK for unsent data are INVALID, not ESTABLISHED" $l

l=0
# The connection goes on: more data in window, then a retransmission.
ack=$(pkt "$client" "${TCP[@]}" --flags PA --seq $((C + 11)) --ack $SA --payload-len 10 --reply --timeout 3)
if [ "$(field ack "$ack")" != $((C + 21)) ]; then
	echo "FAIL: the server did not acknowledge bytes 11-20 (got '$ack')"
	l=1
fi
expect_rules "$router" FORWARD "in-window data after invalid segments" 2 3 1 0 - 2 || l=1
pkt "$client" "${TCP[@]}" --flags PA --seq $((C + 11)) --ack $SA --payload-len 10 || l=1
expect_rules "$router" FORWARD "retransmission" 2 4 1 0 - 2 || l=1
rf_check "in-window data and a retransmission after them are ESTABLISHED" $l

##############################################################################
# ICMP errors: RELATED or INVALID

l=0
# The server drops the client's UDP, so that only crafted errors come back.
load "$server" filter <<-EOF || exit $ksft_fail
	-A INPUT -p udp --dport 7777 -j DROP
EOF
load "$router" filter <<-EOF || exit $ksft_fail
	-A FORWARD -i veth2 -p icmp -m conntrack --ctstate RELATED
	-A FORWARD -i veth2 -p icmp -m conntrack --ctstate INVALID
	-A FORWARD -i veth2 -p icmp -m state --state ESTABLISHED,NEW
EOF
# The client's real UDP flow, from port 40000.
ip netns exec "$client" sysctl -q net.ipv4.ip_local_port_range="40000 40000"
ip netns exec "$client" bash -c "echo x > /dev/udp/10.0.2.2/7777" || l=1
ERR=(icmp --src 10.0.2.2 --dst 10.0.1.2 --type 3 --code 3 --quote-udp)
pkt "$server" "${ERR[@]}" --q-sport 40000 --q-dport 7777 || l=1
expect_rules "$router" FORWARD "port unreachable for the UDP flow" 1 0 0 || l=1
pkt "$server" "${ERR[@]}" --q-sport 40001 --q-dport 7777 || l=1
pkt "$server" "${ERR[@]}" --q-sport 40000 --q-dport 7778 || l=1
expect_rules "$router" FORWARD "port unreachable for flows that never were" 1 2 0 || l=1
rf_check "ICMP port unreachable: RELATED for the client's UDP flow, INVALID for others" $l

l=0
# Fragmentation needed about the phantom's TCP connection, and about a
# port it never used.
FRAG=(icmp --src 10.0.2.2 --dst $PHANTOM --type 3 --code 4 --mtu 1400 --quote-tcp
	--q-sport 40000 --q-seq $((C + 11)) --q-flags PA)
pkt "$server" "${FRAG[@]}" --q-dport 5001 || l=1
pkt "$server" "${FRAG[@]}" --q-dport 5009 || l=1
# An echo reply nobody asked for.
pkt "$server" icmp --src 10.0.2.2 --dst 10.0.1.2 --type 0 --id 4242 || l=1
expect_rules "$router" FORWARD "TCP errors and a lone echo reply" 2 4 0 || l=1
rf_check "ICMP about the crafted TCP connection is RELATED, about no connection INVALID" $l

##############################################################################
# A full table under a SYN flood

if ! ct -C > /dev/null; then
	echo "FAIL: rfctl conntrack -C does not work; the table and timeout parts need rfctl conntrack"
	exit $ksft_fail
fi

topology || exit $ksft_fail
# Only connections the router tracks get through: a lost entry would cut
# the assured connection (its segments would be NEW without SYN).
load "$router" filter <<-EOF || exit $ksft_fail
	:FORWARD DROP [0:0]
	-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	-A FORWARD -p tcp --syn -m conntrack --ctstate NEW -j ACCEPT
EOF
# The flood's SYNs are never answered.
load "$server" filter <<-EOF || exit $ksft_fail
	-A INPUT -p tcp --dport 9 -j DROP
EOF
ip netns exec "$server" nc -l -p 5001 -e cat > /dev/null 2>&1 &
ip netns exec "$server" nc -l -p 5002 -e cat > /dev/null 2>&1 &
listening "$server" 5001 || echo "INFO: the server did not listen on port 5001 in time"
listening "$server" 5002 || echo "INFO: the server did not listen on port 5002 in time"

l=0
# The long-lived connection: its input is a FIFO held open on fd 7.
mkfifo "$tmp/in"
ip netns exec "$client" nc 10.0.2.2 5001 < "$tmp/in" > "$tmp/out" 2>&1 &
exec 7> "$tmp/in"
echo before >&7
if ! busywait 5000 grep -q before "$tmp/out"; then
	echo "FAIL: the echo connection did not work before the flood"
	l=1
fi
# Assured once the handshake is done and data went both ways.
if ! ct -L -p tcp --dport 5001 | grep -q "ESTABLISHED.*\[ASSURED\]"; then
	echo "FAIL: the echo connection is not ESTABLISHED and ASSURED:"
	ct -L | sed 's/^/    /'
	l=1
fi
ct --set-max 64 || { echo "FAIL: rfctl conntrack --set-max 64"; l=1; }

# Sample the count while the flood goes on, as often as rfctl can (a
# count above the maximum may last only until the evicted connection is
# freed, a grace period later).
ip netns exec "$router" bash -c 'while [ ! -e "$1" ]; do "$2" conntrack -C; done' \
	sampler "$tmp/stop" "$RFCTL" > "$tmp/counts" 2> /dev/null &
sampler=$!
if ! pkt "$client" tcp --src-range 10.0.1.100-10.0.1.199 --sport-range 20000-20019 \
	--dst 10.0.2.2 --dport 9 --flags S --interval-ms 2; then
	echo "FAIL: rfpkt could not send the flood"
	l=1
fi
touch "$tmp/stop"
wait $sampler
ct -C >> "$tmp/counts"
max=$(sort -n "$tmp/counts" | tail -n 1)
samples=$(wc -l < "$tmp/counts")
over=$(awk '$1 > 64' "$tmp/counts" | wc -l)
echo "INFO: $samples samples of the count during the flood, $over above 64, highest $max; $(ct -S)"
if [ -z "$max" ]; then
	echo "FAIL: rfctl conntrack -C gave no count"
	l=1
elif [ "$max" -gt 64 ]; then
	echo "FAIL: the connection count reached $max, above the maximum 64"
	l=1
elif [ "$max" -lt 64 ]; then
	echo "FAIL: the flood never filled the table: at most $max connections of 64"
	l=1
fi
# 2,000 SYNs and room for 63: the others were dropped or evicted others.
drops=$(ct_stat drop)
early=$(ct_stat early_drop)
if [ $(( ${drops:-0} + ${early:-0} )) -eq 0 ]; then
	echo "FAIL: a full table neither dropped nor evicted (drop=${drops:-<none>} early_drop=${early:-<none>})"
	l=1
fi
rf_check "a SYN flood fills the table to its maximum and no further" $l

l=0
echo after >&7
if ! busywait 5000 grep -q after "$tmp/out"; then
	echo "FAIL: the assured connection stopped carrying data after the flood (got '$(cat "$tmp/out")')"
	l=1
fi
if ! ct -L -p tcp --dport 5001 | grep -q ESTABLISHED; then
	echo "FAIL: the assured connection's entry is gone"
	l=1
fi
rf_check "an assured connection survives the flood, data flows both ways" $l

l=0
ed0=$(ct_stat early_drop)
got=$(echo fresh | ip netns exec "$client" timeout 10 nc 10.0.2.2 5002 2>&1)
if [ "$got" != fresh ]; then
	echo "FAIL: a new connection through the full table returned '$got' (early_drop ${ed0:-?} -> $(ct_stat early_drop), drop $(ct_stat drop))"
	l=1
fi
got=$(ct -C)
if [ -z "$got" ] || [ "$got" -gt 64 ]; then
	echo "FAIL: the table holds ${got:-<unreadable>} connections, above 64"
	l=1
fi
rf_check "a new connection gets through the full table (early drop)" $l
exec 7>&-

##############################################################################
# Timeouts

topology || exit $ksft_fail
load "$router" filter <<-EOF || exit $ksft_fail
	-A FORWARD -m conntrack --ctstate INVALID
EOF
ip netns exec "$server" nc -l -p 5001 -e cat > /dev/null 2>&1 &
listening "$server" 5001 || echo "INFO: the server did not listen on port 5001 in time"

l=0
if ! ct --set-timeout udp_unreplied=1,tcp_time_wait=1; then
	echo "FAIL: rfctl conntrack --set-timeout udp_unreplied=1,tcp_time_wait=1"
	l=1
fi
# An established connection, for contrast.
rm -f "$tmp/in" "$tmp/out"
mkfifo "$tmp/in"
ip netns exec "$client" nc 10.0.2.2 5001 < "$tmp/in" > "$tmp/out" 2>&1 &
ncpid=$!
exec 7> "$tmp/in"
echo hello >&7
busywait 5000 grep -q hello "$tmp/out" || { echo "FAIL: the TCP connection did not echo"; l=1; }

ip netns exec "$client" sysctl -q net.ipv4.ip_local_port_range="40000 40000"
ip netns exec "$client" bash -c "echo x > /dev/udp/10.0.2.2/7777" || l=1
start=$(timestamp_ms)
udp_listed() { ct -L -p udp --dport 7777 | grep -q "sport=40000"; }
udp_gone() { ! udp_listed; }
if ! udp_listed; then
	echo "FAIL: no entry for the UDP flow right after it began:"
	ct -L | sed 's/^/    /'
	l=1
elif ! busywait 3000 udp_gone; then
	echo "FAIL: the unreplied UDP entry is still listed $(( $(timestamp_ms) - start )) ms after its packet:"
	ct -L | sed 's/^/    /'
	l=1
fi
if ! ct -L -p tcp --dport 5001 | grep -q ESTABLISHED; then
	echo "FAIL: the established TCP connection went with the UDP flow"
	l=1
fi
rf_check "an unreplied UDP entry expires after udp_unreplied=1" $l

l=0
# Close: the client's FIN, the server's FIN, the last ACK: TIME_WAIT.
exec 7>&-
busywait 10000 bash -c "! kill -0 $ncpid 2> /dev/null" ||
	echo "INFO: the client's nc did not end within 10 s of closing its input"
closed=$(timestamp_ms)
tw_seen=0
tcp_state() { ct -L -p tcp --dport 5001; }
tw_or_gone() {
	local out

	out=$(tcp_state)
	case "$out" in
	*TIME_WAIT*) tw_seen=1; return 1 ;;
	"") return 0 ;;
	*) return 1 ;;
	esac
}
while ! tw_or_gone; do
	if (( $(timestamp_ms) - closed > 3000 )); then
		break
	fi
	sleep 0.05
done
left=$(tcp_state)
if [ -n "$left" ]; then
	echo "FAIL: the closed TCP connection is still listed $(( $(timestamp_ms) - closed )) ms after closing:"
	echo "$left" | sed 's/^/    /'
	l=1
fi
if [ $tw_seen -ne 1 ]; then
	echo "FAIL: the closed connection was never seen in TIME_WAIT"
	l=1
fi
rf_check "a closed TCP connection's TIME_WAIT entry expires after tcp_time_wait=1" $l

exit $ret
