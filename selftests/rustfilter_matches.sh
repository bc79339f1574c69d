#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check every match and the -g/-j difference with real traffic through a
# router: for each, packets that must match and packets that must not,
# counted by the rules themselves (count-only rules, read back with
# `rfctl -L -v -x -n`) and, where it says more, by packets arriving or not.
# Covered: tcp --tcp-flags/--syn/! --syn, multiport, udp and icmp options,
# mac, tos, dscp, length, limit, iprange, addrtype, -f, mark, goto/jump.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#          10.0.1.7                                             10.0.2.3
#                                                               10.0.2.4
#
# Every section replaces the tables it uses (rfctl restore of "-A ..."
# lines), so counters start at 0 and rules of earlier sections are gone.

source lib.sh

rf_require_tools
rf_require_module
if ! command -v nc > /dev/null 2>&1; then
	echo "SKIP: Could not run test without nc"
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
# More addresses, so that one ping differs from another by its address.
ip -n "$client" addr add 10.0.1.7/24 dev eth0 || exit $ksft_fail
ip -n "$server" addr add 10.0.2.3/24 dev eth0 || exit $ksft_fail
ip -n "$server" addr add 10.0.2.4/24 dev eth0 || exit $ksft_fail
# The router answers pings to its broadcast address (addrtype BROADCAST).
ip netns exec "$router" sysctl -q net.ipv4.icmp_echo_ignore_broadcasts=0

# load NS TABLE: replace TABLE in NS by the rules on stdin ("-A ..." lines,
# user chains declared as ":NAME - [0:0]"); counters start at 0.
load() {
	{ echo "*$2"; cat; echo COMMIT; } | ip netns exec "$1" "$RFCTL" restore
}

# reset NS...: empty filter, mangle and raw tables.
reset() {
	local ns

	for ns in "$@"; do
		printf '*filter\nCOMMIT\n*mangle\nCOMMIT\n*raw\nCOMMIT\n' |
			ip netns exec "$ns" "$RFCTL" restore || return 1
	done
}

# expect_ping FROM DEST yes|no WHAT [PING OPTIONS...]: one ping, answered or
# not.
expect_ping() {
	local from=$1 dest=$2 want=$3 what=$4 got; shift 4

	if ip netns exec "$from" ping -q -c 1 -W 1 "$@" "$dest" > /dev/null 2>&1; then
		got=yes
	else
		got=no
	fi
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: ping $* $dest from ${from%%-*} answered=$got, expected $want"
		return 1
	fi
	return 0
}

# udp_send SPORT:DPORT...: one UDP datagram from the client to the server
# 10.0.2.2 per argument, from source port SPORT (the client's ephemeral
# port range narrowed to that one port; busybox nc has no UDP).
udp_send() {
	ip netns exec "$client" bash -c '
		f=/proc/sys/net/ipv4/ip_local_port_range
		old=$(cat $f)
		rc=0
		for p in "$@"; do
			echo "${p%:*} ${p%:*}" > $f &&
				echo x > /dev/udp/10.0.2.2/${p#*:} || { rc=1; break; }
		done
		echo "$old" > $f
		exit $rc' udp_send "$@"
}

# tcp_exchange SPORT DPORT: one TCP connection from client:SPORT to
# server:DPORT carrying "hi" both ways (busybox nc, echo server with -e;
# busybox nc -p does not bind a client, so the port range is narrowed).
tcp_exchange() {
	local sport=$1 dport=$2 pid out hex

	hex=$(printf '%04X' "$dport")
	ip netns exec "$server" nc -l -p "$dport" -e cat > /dev/null 2>&1 &
	pid=$!
	# bash, not sh: busybox sh would run its own netns-less ip applet.
	busywait 3000 bash -c "ip netns exec $server cat /proc/net/tcp /proc/net/tcp6 2> /dev/null | grep -qi ':$hex '" ||
		echo "INFO: the server did not listen on port $dport in time"
	out=$(ip netns exec "$client" bash -c '
		f=/proc/sys/net/ipv4/ip_local_port_range
		old=$(cat $f)
		echo "$1 $1" > $f && echo hi | timeout 5 nc 10.0.2.2 "$2"
		echo "$old" > $f' tcp_exchange "$sport" "$dport" 2>&1)
	wait $pid 2> /dev/null
	if [ "$out" != hi ]; then
		echo "FAIL: TCP exchange $sport -> $dport returned '$out'"
		return 1
	fi
	return 0
}

# rule_counts NS TABLE CHAIN: the rule counters into the array cnt (1-based).
rule_counts() {
	local c

	c=$(rf_rule_packets "$@")
	read -r -a cnt <<< "0 $c"
}

REQ="-p icmp --icmp-type echo-request"

l=0
expect_ping "$client" 10.0.2.2 yes "no rules" || l=1
expect_ping "$client" 10.0.2.4 yes "no rules, second server address" || l=1
rf_check "traffic flows with empty tables" $l

##############################################################################
# tcp: --tcp-flags, --syn, ! --syn; multiport with tcp.

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD -p tcp --dport 5001
	-A FORWARD -p tcp --dport 5001 --tcp-flags SYN,ACK SYN
	-A FORWARD -p tcp --dport 5001 --syn
	-A FORWARD -p tcp --dport 5001 ! --syn
	-A FORWARD -p tcp --sport 5001 --tcp-flags SYN,ACK SYN,ACK
	-A FORWARD -p tcp --sport 5001 --tcp-flags SYN,ACK SYN
	-A FORWARD -p tcp --sport 5001 --syn
	-A FORWARD -p tcp --sport 5001 ! --tcp-flags ACK ACK
	-A FORWARD -p tcp --dport 5001 --tcp-flags ALL SYN
	-A FORWARD -p tcp -m multiport --dports 80,5000:5005
	-A FORWARD -p tcp -m multiport --sports 41234 --dport 5001
	-A FORWARD -p tcp -m multiport ! --ports 5001,41234
	-A FORWARD -p tcp -m multiport --ports 41234
	-A FORWARD -p tcp --sport 5001 ! --syn
	-A FORWARD -p tcp --sport 5001
EOF
tcp_exchange 41234 5001 || l=1
rule_counts "$router" filter FORWARD
# cnt[1]: every client->server segment (SYN, ACK, data, FIN, ACKs);
# cnt[15]: every server->client segment.
n=${cnt[1]:-0}
m=${cnt[15]:-0}
if [ "$n" -lt 4 ] || [ "$m" -lt 3 ]; then
	echo "FAIL: only $n client->server and $m server->client segments counted"
	l=1
fi
rf_expect_rules "$router" filter FORWARD "tcp flags" \
	"$n" 1 1 - 1 0 0 0 1 - - - - - "$m" || l=1
rf_check "tcp --tcp-flags SYN,ACK SYN / --syn match only the SYN" $l

# ! --syn: every segment but the client's SYN, the SYN-ACK included.
l=0
rf_expect_rules "$router" filter FORWARD "! --syn" \
	- - - $((n - 1)) - - - - - - - - - "$m" - || l=1
rf_check "tcp ! --syn matches every segment but the SYN" $l

# Every segment of the connection, both ways, has port 41234 or 5001.
l=0
rf_expect_rules "$router" filter FORWARD "multiport tcp" \
	- - - - - - - - - "$n" "$n" 0 $((n + m)) - - || l=1
rf_check "multiport --dports/--sports/--ports with tcp" $l

##############################################################################
# udp --sport/--dport and multiport with udp: the same seven datagrams
# (source port:destination port), the ends of every range included.

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD -p udp -m multiport --dports 5001,6000:6010
	-A FORWARD -p udp -m multiport ! --dports 5001,6000:6010
	-A FORWARD -p udp -m multiport --sports 40000:40010,41000
	-A FORWARD -p udp -m multiport ! --sports 40000:40010,41000
	-A FORWARD -p udp -m multiport --ports 7000,8000:8001
	-A FORWARD -p udp -m multiport ! --ports 7000,8000:8001
	-A FORWARD -p tcp -m multiport --ports 5001,6000:6010,7000,8000:8001
	-A FORWARD -p udp --sport 40000:40010
	-A FORWARD -p udp ! --sport 40000:40010
	-A FORWARD -p udp --dport 6000:6010
	-A FORWARD -p udp ! --dport 6000:6010
	-A FORWARD -p udp --sport 40005 --dport 6005:6005
	-A FORWARD -p udp --sport 8001 --dport 9999
	-A FORWARD -p udp --dport 5999:6000
	-A FORWARD -p udp
EOF
#        P1         P2         P3         P4        P5         P6         P7
udp_send 40005:6005 41000:5001 42000:6011 8001:9999 42001:7000 39999:5999 40010:6010 || l=1
# multiport: dports P1 P2 P7; sports P1 P2 P7; ports P4 (source) P5 (dest).
rf_expect_rules "$router" filter FORWARD "multiport udp" \
	3 4 3 4 2 5 0 - - - - - - - 7 || l=1
rf_check "multiport --dports/--sports/--ports with ranges and !" $l

l=0
# udp: --sport range P1 P7; --dport range P1 P7; exact P1; P4; 5999:6000 P6.
rf_expect_rules "$router" filter FORWARD "udp ports" \
	- - - - - - - 2 5 2 5 1 1 1 7 || l=1
rf_check "udp --sport/--dport ranges and !" $l

##############################################################################
# icmp --icmp-type: requests, replies, and the port unreachable the server
# sends for a datagram to a closed port.

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD -p icmp --icmp-type echo-request
	-A FORWARD -p icmp --icmp-type echo-reply
	-A FORWARD -p icmp --icmp-type 8
	-A FORWARD -p icmp --icmp-type 0/0
	-A FORWARD -p icmp ! --icmp-type echo-request
	-A FORWARD -p icmp --icmp-type destination-unreachable
	-A FORWARD -p icmp --icmp-type port-unreachable
	-A FORWARD -p icmp --icmp-type host-unreachable
	-A FORWARD -p icmp --icmp-type 3/3
	-A FORWARD -p icmp --icmp-type any
	-A FORWARD -p icmp --icmp-type echo-request -i veth2
EOF
expect_ping "$client" 10.0.2.2 yes "icmp count rules" || l=1
expect_ping "$client" 10.0.2.2 yes "icmp count rules" || l=1
udp_send 40000:9 || l=1
rf_expect_rules "$router" filter FORWARD "icmp types" \
	2 2 2 2 3 1 1 0 1 5 0 || l=1
rf_check "icmp --icmp-type names, numbers, codes, any and !" $l

##############################################################################
# mac --mac-source: the client's MAC, another MAC, negated, upper case.

cmac=$(ip -n "$client" link show eth0 | awk '$1 == "link/ether" { print $2 }')
smac=$(ip -n "$server" link show eth0 | awk '$1 == "link/ether" { print $2 }')
l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD $REQ -m mac --mac-source $cmac
	-A FORWARD $REQ -m mac --mac-source 02:00:00:00:00:01
	-A FORWARD $REQ -m mac ! --mac-source $cmac
	-A FORWARD $REQ -m mac --mac-source ${cmac^^}
	-A FORWARD -p icmp --icmp-type echo-reply -m mac --mac-source $smac
	-A FORWARD -p icmp --icmp-type echo-reply -m mac --mac-source $cmac
EOF
expect_ping "$client" 10.0.2.2 yes "mac count rules" || l=1
expect_ping "$client" 10.0.2.2 yes "mac count rules" || l=1
expect_ping "$server" 10.0.1.2 yes "mac count rules, reverse" || l=1
# Requests: two from the client, one from the server; replies: the other
# way round.
rf_expect_rules "$router" filter FORWARD "mac" 2 0 1 2 2 1 || l=1
rf_check "mac --mac-source matches the sender's MAC only" $l

# And a DROP on the client's MAC stops its pings to the router, not the
# server's.
l=0
load "$router" filter <<-EOF || l=1
	-A INPUT -m mac --mac-source $cmac -j DROP
EOF
expect_ping "$client" 10.0.1.1 no "DROP on the client's MAC" || l=1
expect_ping "$server" 10.0.2.1 yes "DROP on the client's MAC, server" || l=1
rf_expect_rules "$router" filter INPUT "mac DROP" 1 || l=1
rf_check "mac --mac-source -j DROP" $l

##############################################################################
# tos and dscp: the client marks its own packets in mangle OUTPUT (busybox
# ping has no -Q): to 10.0.2.3 TOS 0x10, to 10.0.2.4 DSCP EF (TOS 0xb8),
# to 10.0.2.2 nothing. The router counts the requests.

l=0
load "$client" mangle <<-EOF || l=1
	-A OUTPUT -d 10.0.2.3 -p icmp -j TOS --set-tos 0x10
	-A OUTPUT -d 10.0.2.4 -p icmp -j DSCP --set-dscp-class EF
EOF
load "$router" filter <<-EOF || l=1
	-A FORWARD $REQ -m tos --tos 0x10
	-A FORWARD $REQ -m tos ! --tos 0x10
	-A FORWARD $REQ -m tos --tos Minimize-Delay
	-A FORWARD $REQ -m tos --tos 0xb8/0xfc
	-A FORWARD $REQ -m tos --tos 0/0xfc
	-A FORWARD $REQ -m dscp --dscp 4
	-A FORWARD $REQ -m dscp --dscp-class EF
	-A FORWARD $REQ -m dscp --dscp 0x2e
	-A FORWARD $REQ -m dscp ! --dscp-class EF
	-A FORWARD $REQ -m dscp --dscp 0
	-A FORWARD $REQ -m dscp --dscp-class CS1
EOF
for d in 10.0.2.2 10.0.2.3 10.0.2.4; do
	expect_ping "$client" $d yes "tos/dscp" || l=1
done
rf_expect_rules "$client" mangle OUTPUT "client TOS/DSCP targets" 1 1 || l=1
l2=$l
rf_expect_rules "$router" filter FORWARD "tos" 1 2 1 1 1 - - - - - - || l=1
rf_check "tos --tos value[/mask], name and !" $l
rf_expect_rules "$router" filter FORWARD "dscp" - - - - - 1 1 1 2 1 0 || l2=1
rf_check "dscp --dscp / --dscp-class and !" $l2
reset "$client" || ret=1

##############################################################################
# length: IP total lengths 84, 128 and 228 (ping -s 56, 100, 200).

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD $REQ -m length --length 84
	-A FORWARD $REQ -m length --length 85:228
	-A FORWARD $REQ -m length --length 128:128
	-A FORWARD $REQ -m length ! --length 0:127
	-A FORWARD $REQ -m length --length 229:65535
	-A FORWARD $REQ -m length --length 0:83
EOF
for s in 56 100 200; do
	expect_ping "$client" 10.0.2.2 yes "length" -s $s || l=1
done
rf_expect_rules "$router" filter FORWARD "length" 1 2 1 2 0 0 || l=1
rf_check "length --length a:b, single value and !" $l

##############################################################################
# limit: 20 pings as fast as the replies come, then 10 more after a pause.
# A bucket of B starts full: B packets match at once; at N/sec one more
# per 1/N s after that; the rest do not.

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD $REQ -m limit --limit 5/sec --limit-burst 4
	-A FORWARD $REQ -m limit --limit 1/minute --limit-burst 3
	-A FORWARD $REQ
EOF
# flood COUNT: prints the milliseconds it took; fails unless all answered.
flood() {
	local t0 t1 out

	t0=$(timestamp_ms)
	out=$(ip netns exec "$client" ping -q -A -c "$1" -W 1 10.0.2.2 2>&1)
	t1=$(timestamp_ms)
	echo $((t1 - t0))
	echo "$out" | grep -q "$1 packets received"
}
ms=$(flood 20) || { echo "FAIL: limit: not all of 20 pings answered"; l=1; }
rule_counts "$router" filter FORWARD
# At most 4 + 5/s * the time the pings took can match (+20 ms for the
# 10 ms resolution of /proc/uptime).
max=$((4 + (ms + 20) * 5 / 1000))
echo "# limit 5/sec burst 4: ${cnt[1]} of ${cnt[3]} pings in ${ms} ms (at most $max)"
if [ "${cnt[3]}" != 20 ] || [ "${cnt[1]:-0}" -lt 4 ] || [ "${cnt[1]:-0}" -gt "$max" ]; then
	echo "FAIL: limit 5/sec burst 4 matched ${cnt[1]} of ${cnt[3]}, expected 4..$max of 20"
	l=1
fi
if [ "$max" -ge 20 ]; then
	echo "FAIL: the pings were too slow (${ms} ms) to tell the burst from the rate"
	l=1
fi
if [ "${cnt[2]}" != 3 ]; then
	echo "FAIL: limit 1/minute burst 3 matched ${cnt[2]} of 20, expected 3"
	l=1
fi
rf_check "limit: the burst matches, the rest does not" $l

# After 1.2 s the 5/sec bucket is full again (4), the 1/minute one is not.
l=0
first=${cnt[1]}
sleep 1.2
ms=$(flood 10) || { echo "FAIL: limit: not all of 10 pings answered"; l=1; }
rule_counts "$router" filter FORWARD
got=$(( ${cnt[1]:-0} - first ))
max=$((4 + (ms + 20) * 5 / 1000))
echo "# limit 5/sec burst 4 after a pause: $got of 10 pings in ${ms} ms (at most $max)"
if [ "$got" -lt 4 ] || [ "$got" -gt "$max" ]; then
	echo "FAIL: limit 5/sec after a pause matched $got of 10, expected 4..$max"
	l=1
fi
if [ "${cnt[2]}" != 3 ]; then
	echo "FAIL: limit 1/minute burst 3 matched ${cnt[2]} of 30, expected still 3"
	l=1
fi
rf_check "limit: tokens come back at the given rate" $l

##############################################################################
# iprange: from 10.0.1.2 to .2, .3, .4 of the server, and from 10.0.1.7 to
# .2; ranges across an octet boundary check the byte order.

l=0
load "$router" filter <<-EOF || l=1
	-A FORWARD $REQ -m iprange --src-range 10.0.1.1-10.0.1.5
	-A FORWARD $REQ -m iprange ! --src-range 10.0.1.1-10.0.1.5
	-A FORWARD $REQ -m iprange --src-range 10.0.1.7-10.0.1.7
	-A FORWARD $REQ -m iprange --dst-range 10.0.2.3-10.0.2.4
	-A FORWARD $REQ -m iprange ! --dst-range 10.0.2.3-10.0.2.4
	-A FORWARD $REQ -m iprange --src-range 10.0.1.2-10.0.1.6 --dst-range 10.0.2.1-10.0.2.3
	-A FORWARD $REQ -m iprange --src-range 10.0.1.2-10.0.1.6 ! --dst-range 10.0.2.1-10.0.2.3
	-A FORWARD $REQ -m iprange --src-range 10.0.0.0-10.0.1.1
	-A FORWARD $REQ -m iprange --src-range 10.0.0.250-10.0.1.3
	-A FORWARD $REQ -m iprange --dst-range 10.0.1.255-10.0.2.2
EOF
for d in 10.0.2.2 10.0.2.3 10.0.2.4; do
	expect_ping "$client" $d yes "iprange" || l=1
done
expect_ping "$client" 10.0.2.2 yes "iprange from 10.0.1.7" -I 10.0.1.7 || l=1
rf_expect_rules "$router" filter FORWARD "iprange" 3 1 1 2 2 2 1 0 3 2 || l=1
rf_check "iprange --src-range/--dst-range and !" $l

##############################################################################
# addrtype. INPUT: the client pings the router's 10.0.1.1 (arriving on
# veth1), 10.0.2.1 (the other interface's address) and the broadcast
# 10.0.1.255; the router pings itself. OUTPUT: that self ping and one to
# the server. FORWARD: the client pings the server.

l=0
load "$router" filter <<-EOF || l=1
	-A INPUT $REQ -m addrtype --dst-type LOCAL
	-A INPUT $REQ -m addrtype --dst-type BROADCAST
	-A INPUT $REQ -m addrtype --dst-type UNICAST
	-A INPUT $REQ -m addrtype ! --dst-type LOCAL
	-A INPUT $REQ -m addrtype --dst-type LOCAL,BROADCAST
	-A INPUT $REQ -m addrtype --src-type UNICAST
	-A INPUT $REQ -m addrtype --src-type LOCAL
	-A INPUT $REQ -i veth1 -m addrtype --dst-type LOCAL --limit-iface-in
	-A INPUT $REQ -i veth1 -m addrtype --dst-type UNICAST --limit-iface-in
	-A FORWARD $REQ -m addrtype --dst-type UNICAST
	-A FORWARD $REQ -m addrtype --dst-type LOCAL
	-A FORWARD $REQ -m addrtype --src-type UNICAST --dst-type UNICAST --limit-iface-out
	-A FORWARD $REQ -m addrtype ! --dst-type UNICAST
	-A OUTPUT $REQ -m addrtype --src-type LOCAL --dst-type UNICAST
	-A OUTPUT $REQ -m addrtype --dst-type LOCAL
	-A OUTPUT $REQ -m addrtype ! --src-type LOCAL
	-A OUTPUT $REQ -o veth2 -m addrtype --dst-type UNICAST --limit-iface-out
EOF
expect_ping "$client" 10.0.1.1 yes "addrtype" || l=1
expect_ping "$client" 10.0.2.1 yes "addrtype" || l=1
expect_ping "$client" 10.0.1.255 yes "addrtype, broadcast" || l=1
expect_ping "$router" 10.0.1.1 yes "addrtype, router to itself" || l=1
expect_ping "$router" 10.0.2.2 yes "addrtype, router to server" || l=1
expect_ping "$client" 10.0.2.2 yes "addrtype, forwarded" || l=1
rf_expect_rules "$router" filter INPUT "addrtype INPUT" 3 1 0 1 4 3 1 1 1 || l=1
rf_expect_rules "$router" filter FORWARD "addrtype FORWARD" 1 0 1 0 || l=1
rf_expect_rules "$router" filter OUTPUT "addrtype OUTPUT" 1 1 0 1 || l=1
rf_check "addrtype --src-type/--dst-type LOCAL, UNICAST, BROADCAST, limit-iface" $l

##############################################################################
# mark: MARK in the router's mangle PREROUTING by destination, -m mark in
# filter FORWARD.

l=0
load "$router" mangle <<-EOF || l=1
	-A PREROUTING -i veth1 -d 10.0.2.3 -j MARK --set-mark 0x1234
	-A PREROUTING -i veth1 -d 10.0.2.4 -j MARK --set-xmark 0x5600/0xff00
	-A PREROUTING -i veth1 -d 10.0.2.4 -j MARK --or-mark 0x1
EOF
load "$router" filter <<-EOF || l=1
	-A FORWARD -i veth1 $REQ -m mark --mark 0x1234
	-A FORWARD -i veth1 $REQ -m mark --mark 0x34/0xff
	-A FORWARD -i veth1 $REQ -m mark --mark 0x5600/0xff00
	-A FORWARD -i veth1 $REQ -m mark --mark 0x5601
	-A FORWARD -i veth1 $REQ -m mark ! --mark 0
	-A FORWARD -i veth1 $REQ -m mark --mark 0
	-A FORWARD -i veth1 $REQ -m mark --mark 0x1/0x1
	-A FORWARD -i veth1 $REQ -m mark ! --mark 0x1234/0xffff
EOF
for d in 10.0.2.2 10.0.2.3 10.0.2.4; do
	expect_ping "$client" $d yes "mark" || l=1
done
rf_expect_rules "$router" mangle PREROUTING "MARK targets" 1 1 1 || l=1
rf_expect_rules "$router" filter FORWARD "mark" 1 1 1 1 2 1 1 2 || l=1
rf_check "mark --mark v/m after MARK in mangle" $l
reset "$router" || ret=1

##############################################################################
# -g and -j: after RETURN, a jump continues in the calling chain, a goto
# in the chain that called the calling chain (from a built-in chain: its
# policy). Pings to .2 go CALLER -j SUB (then CALLER's DROP), to .3 go
# CALLER -g SUB (back in FORWARD: accepted), to .4 go FORWARD -g SUB
# (policy ACCEPT, FORWARD's DROP for .4 not reached).

l=0
load "$router" filter <<-EOF || l=1
	:CALLER - [0:0]
	:SUB - [0:0]
	-A FORWARD -d 10.0.2.4 $REQ -g SUB
	-A FORWARD $REQ -j CALLER
	-A FORWARD $REQ
	-A FORWARD -d 10.0.2.4 $REQ -j DROP
	-A CALLER -d 10.0.2.2 -j SUB
	-A CALLER -d 10.0.2.3 -g SUB
	-A CALLER $REQ -j DROP
	-A SUB -p icmp
	-A SUB -j RETURN
	-A SUB -p icmp
EOF
expect_ping "$client" 10.0.2.2 no "-j SUB returns into CALLER, which drops" || l=1
expect_ping "$client" 10.0.2.3 yes "-g SUB returns into FORWARD" || l=1
expect_ping "$client" 10.0.2.4 yes "-g SUB from FORWARD returns to the policy" || l=1
rf_expect_rules "$router" filter FORWARD "goto/jump" 1 2 1 0 || l=1
rf_expect_rules "$router" filter CALLER "goto/jump" 1 1 1 || l=1
rf_expect_rules "$router" filter SUB "goto/jump" 3 3 0 || l=1
rf_check "-g goto returns to the caller's caller, -j jump to the next rule" $l
reset "$router" || ret=1

##############################################################################
# -f: the client-router link gets MTU 576, so the client sends a 1228-byte
# ping (-s 1200) as three fragments (572, 572, 124 bytes). The router does
# not reassemble (no conntrack, rustfilter has no defrag): its FORWARD
# sees the three. The server's PREROUTING still sees the fragments; its
# INPUT sees the reassembled packet.

l=0
ip -n "$client" link set eth0 mtu 576 || l=1
ip -n "$router" link set veth1 mtu 576 || l=1
load "$router" filter <<-EOF || l=1
	-A FORWARD -s 10.0.1.2 -f
	-A FORWARD -s 10.0.1.2 ! -f
	-A FORWARD -s 10.0.1.2 $REQ
	-A FORWARD -s 10.0.1.2 -p icmp -f
	-A FORWARD -s 10.0.1.2 -p icmp ! --icmp-type echo-reply
	-A FORWARD -s 10.0.1.2 -f -m length --length 124
	-A FORWARD -s 10.0.1.2 -f -m length --length 572
EOF
load "$server" mangle <<-EOF || l=1
	-A PREROUTING -s 10.0.1.2 -f
	-A PREROUTING -s 10.0.1.2 ! -f
EOF
load "$server" filter <<-EOF || l=1
	-A INPUT -s 10.0.1.2 -f
	-A INPUT -s 10.0.1.2 $REQ -m length --length 1228
EOF
expect_ping "$client" 10.0.2.2 yes "fragmented ping" -s 1200 || l=1
expect_ping "$client" 10.0.2.2 yes "small ping" || l=1
# Non-first fragments: 2; first fragment and small ping: 2.
rf_expect_rules "$router" filter FORWARD "-f in FORWARD" 2 2 2 2 2 1 1 || l=1
rf_expect_rules "$server" mangle PREROUTING "-f in the server's PREROUTING" 2 2 || l=1
rf_expect_rules "$server" filter INPUT "-f in the server's INPUT" 0 1 || l=1
rf_check "-f matches only non-first fragments" $l
ip -n "$client" link set eth0 mtu 1500
ip -n "$router" link set veth1 mtu 1500
reset "$router" "$server" || ret=1

exit $ret
