#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packets whose TCP, UDP or ICMP header is cut short, or whose TCP data
# offset is wrong, through a router's FORWARD chain: rustfilter must give
# the verdicts and counters ip_tables gives, and each case is run against
# both (iptables-legacy in the same VM), so an expectation that ip_tables
# does not meet fails too.
#
# ip_tables reads the transport header only in the matches that need it
# (skb_header_pointer of the fixed header) and drops the packet there
# ("hotdrop"), without counting the rule: a rule that does not read it
# (protocol, addresses) matches as for any packet; tcp, udp and icmp need
# their fixed header (20, 8, 8 bytes); multiport needs only the ports (4
# bytes); the tcp match reads a 20-byte header whatever its data offset.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#
# The packets are crafted by `rfpkt` on the client (raw socket, default
# ports 12345 -> 9); "forwarded" means the server's raw PREROUTING saw a
# packet from the client.

source lib.sh

rf_require_tools
rf_require_module
rf_require_tool RFPKT rfpkt
IPT=$(command -v iptables-legacy)
if [ -z "$IPT" ]; then
	echo "SKIP: Could not run test without iptables-legacy"
	exit $ksft_skip
fi

ret=0
trap cleanup_all_ns EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns client router server
rf_setup_router || exit $ksft_fail
if ! ip netns exec "$client" ping -c 1 -W 2 10.0.2.2 > /dev/null; then
	echo "FAIL: no route from the client to the server"
	exit $ksft_fail
fi
# Permanent neighbour entries on both links, so that no ARP (a probe of a
# stale entry) reaches the server's eth0 and is counted as a packet
# forwarded. (Without them the first case once saw one packet too many.)
mac() { ip -n "$1" link show dev "$2" | awk '$1 == "link/ether" { print $2 }'; }
ip -n "$client" neigh replace 10.0.1.1 lladdr "$(mac "$router" veth1)" dev eth0 nud permanent &&
	ip -n "$router" neigh replace 10.0.1.2 lladdr "$(mac "$client" eth0)" dev veth1 nud permanent &&
	ip -n "$router" neigh replace 10.0.2.2 lladdr "$(mac "$server" eth0)" dev veth2 nud permanent &&
	ip -n "$server" neigh replace 10.0.2.1 lladdr "$(mac "$router" veth2)" dev eth0 nud permanent ||
	{ echo "FAIL: permanent neighbour entries"; exit $ksft_fail; }

# What the server received from the client: a count-only rule in the
# server's raw PREROUTING (ip_tables, before the server's own stack drops
# the broken packets). eth0's rx_packets counted one packet too many twice
# in the first case, with neighbour entries made permanent the second time.
ip netns exec "$server" "$IPT" -t raw -A PREROUTING -s 10.0.1.2 -d 10.0.2.2 ||
	{ echo "FAIL: the server's counting rule"; exit $ksft_fail; }
rx() {
	ip netns exec "$server" "$IPT" -t raw -L PREROUTING -v -x -n |
		awk 'NR == 3 { print $1 }'
}

# load ENGINE RULE...: FORWARD policy DROP with RULEs ("-p tcp ... -j
# ACCEPT") in ENGINE (rustfilter or legacy); the other engine's FORWARD is
# empty with policy ACCEPT, so only ENGINE decides.
load() {
	local engine=$1 r
	shift
	ipt() { ip netns exec "$router" "$IPT" -t filter "$@"; }
	ipt -F FORWARD && ipt -Z FORWARD && ipt -P FORWARD ACCEPT || return 1
	if [ "$engine" = rustfilter ]; then
		{
			printf '*filter\n:FORWARD DROP [0:0]\n'
			for r in "$@"; do
				echo "-A FORWARD $r"
			done
			printf 'COMMIT\n'
		} | ip netns exec "$router" "$RFCTL" restore
	else
		printf '*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n' |
			ip netns exec "$router" "$RFCTL" restore || return 1
		for r in "$@"; do
			# shellcheck disable=SC2086 # the rule's words
			ipt -A FORWARD $r || return 1
		done
		ipt -P FORWARD DROP
	fi
}

# counters ENGINE: the packet counters of FORWARD's rules, in order.
counters() {
	if [ "$1" = rustfilter ]; then
		rf_rule_packets "$router" filter FORWARD
	else
		ip netns exec "$router" "$IPT" -t filter -L FORWARD -v -x -n |
			awk 'NR > 2 && NF { printf "%s%s", sep, $1; sep = " " } END { print "" }'
	fi
}

# case NAME FORWARDED COUNTERS RULES... -- RFPKT-ARGS...: load RULES in
# each engine, send one packet (rfpkt RFPKT-ARGS --dst 10.0.2.2 from the
# client), and check that it reached the server (FORWARDED yes/no) and
# that FORWARD's rule counters are COUNTERS.
case_() {
	local name=$1 fwd=$2 want=$3 engine before after got seen
	shift 3
	local rules=()
	while [ "$1" != -- ]; do
		rules+=("$1")
		shift
	done
	shift
	for engine in legacy rustfilter; do
		if ! load "$engine" "${rules[@]}"; then
			echo "FAIL: $name: $engine did not take the rules"
			ret=1
			continue
		fi
		before=$(rx)
		if ! out=$(ip netns exec "$client" "$RFPKT" "$@" --dst 10.0.2.2 2>&1); then
			echo "FAIL: $name: rfpkt $*: $out"
			ret=1
			continue
		fi
		# The router forwards in the softirq of the sending; give a
		# slow guest a moment all the same.
		sleep 0.2
		after=$(rx)
		seen=no
		[ "$after" -gt "$before" ] && seen=yes
		got=$(counters "$engine")
		if [ "$seen" != "$fwd" ] || [ "$got" != "$want" ]; then
			echo "FAIL: $name with $engine: forwarded $seen (want $fwd), rule counters '$got' (want '$want')"
			ret=1
		else
			echo "ok: $name with $engine: forwarded $seen, rule counters $got"
		fi
	done
}

DPORT9="-p tcp -m tcp --dport 9 -j ACCEPT"
ANYTCP="-p tcp -j ACCEPT"

# TCP cut to 10 bytes (ports, sequence number, part of the ack): the tcp
# match drops it, the catch-all after it is never reached.
case_ "tcp cut to 10 bytes at a tcp match" no "0 0" "$DPORT9" "$ANYTCP" -- tcp --trunc 10
# Without a tcp match it is a TCP packet like any other.
case_ "tcp cut to 10 bytes, protocol only" yes "1" "$ANYTCP" -- tcp --trunc 10
case_ "tcp cut to 3 bytes, source address only" yes "1" "-s 10.0.1.2 -j ACCEPT" -- tcp --trunc 3
# An earlier match that fails keeps the packet from the tcp match.
case_ "tcp cut to 10 bytes, a failing match first" yes "0 1" \
	"-p tcp -m mark --mark 5 -m tcp --dport 9 -j ACCEPT" "$ANYTCP" -- tcp --trunc 10
# The tcp match reads the 20-byte header whatever the data offset says.
case_ "tcp data offset 15 (beyond the segment)" yes "1 0" "$DPORT9" "$ANYTCP" -- tcp --doff 15
case_ "tcp data offset 4" yes "1 0" "$DPORT9" "$ANYTCP" -- tcp --doff 4
case_ "tcp data offset 4, --syn" yes "1 0" "-p tcp --syn -j ACCEPT" "$ANYTCP" -- tcp --doff 4
# UDP: udp needs 8 bytes, multiport the first 4.
case_ "udp cut to 4 bytes at a udp match" no "0 0" \
	"-p udp -m udp --dport 9 -j ACCEPT" "-p udp -j ACCEPT" -- udp --trunc 4
case_ "udp cut to 4 bytes at multiport" yes "1 0" \
	"-p udp -m multiport --dports 9 -j ACCEPT" "-p udp -j ACCEPT" -- udp --trunc 4
case_ "udp cut to 3 bytes at multiport" no "0 0" \
	"-p udp -m multiport --dports 9 -j ACCEPT" "-p udp -j ACCEPT" -- udp --trunc 3
case_ "tcp cut to 10 bytes at multiport" yes "1 0" \
	"-p tcp -m multiport --dports 9 -j ACCEPT" "$ANYTCP" -- tcp --trunc 10
# ICMP: the icmp match needs 8 bytes, even for "any".
case_ "icmp cut to 4 bytes at an icmp match" no "0 0" \
	"-p icmp -m icmp --icmp-type any -j ACCEPT" "-p icmp -j ACCEPT" -- icmp --trunc 4
case_ "icmp cut to 4 bytes, protocol only" yes "1" "-p icmp -j ACCEPT" -- icmp --trunc 4
# The whole packets, for comparison (the server answers the SYN with a
# reset, which the catch-all rule counts on its way back).
case_ "whole tcp" yes "1 1" "$DPORT9" "$ANYTCP" -- tcp
case_ "whole udp at multiport" yes "1 0" \
	"-p udp -m multiport --dports 9 -j ACCEPT" "-p udp -j ACCEPT" -- udp

rf_check "truncated transport headers: the verdicts and rule counters of ip_tables" $ret
exit $ret
