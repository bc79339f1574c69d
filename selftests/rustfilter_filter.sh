#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the filter and mangle tables with real traffic through a router:
# DROP and REJECT (ICMP error and TCP reset seen by the client), INPUT vs
# FORWARD semantics, -i/-o in FORWARD, user chains with RETURN, MARK set in
# mangle and matched in filter, TOS set on the wire, LOG lines in dmesg
# (with the socket owner), rpfilter against a spoofed source,
# per-rule counters, a TCP download whose segments carry their payload in
# pages through a plain chain, and a refused commit that leaves the running
# ruleset untouched.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server

source lib.sh

rf_require_tools
rf_require_module
if ! command -v nc > /dev/null 2>&1; then
	echo "SKIP: Could not run test without nc"
	exit $ksft_skip
fi

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

rfr() { ip netns exec "$router" "$RFCTL" "$@"; }
rfs() { ip netns exec "$server" "$RFCTL" "$@"; }

ping_ok() { ip netns exec "$1" ping -q -c 1 -W 1 "$2" > /dev/null 2>&1; }

# expect_ping FROM DEST yes|no WHAT
expect_ping() {
	if ping_ok "$1" "$2"; then got=yes; else got=no; fi
	if [ "$got" != "$3" ]; then
		echo "FAIL: $4: ping $2 from $1 answered=$got, expected $3"
		return 1
	fi
	return 0
}

# rule_packets NS TABLE SPEC: the packet counter of the rule whose -S text
# is SPEC, from `rfctl save -c`.
rule_packets() {
	ip netns exec "$1" "$RFCTL" save -c -t "$2" | awk -v spec="$3" '
		/^\[/ {
			line = $0; sub(/^\[[0-9]+:[0-9]+\] /, "", line)
			if (line == spec) {
				c = $1; gsub(/[^0-9:]/, "", c); split(c, n, ":")
				print n[1]; found = 1
			}
		}
		END { if (!found) print "missing" }'
}


# Start clean: everything flows.
l=0
expect_ping "$client" 10.0.2.2 yes "no rules" || l=1
rf_check "traffic flows with empty tables" $l

# DROP in FORWARD: forwarded pings die, pings to the router still work;
# the rule counts exactly the packets it dropped.
l=0
rfr -A FORWARD -p icmp -j DROP || l=1
expect_ping "$client" 10.0.2.2 no "FORWARD -p icmp -j DROP" || l=1
expect_ping "$client" 10.0.2.2 no "FORWARD -p icmp -j DROP" || l=1
expect_ping "$client" 10.0.1.1 yes "FORWARD drop must not see INPUT traffic" || l=1
got=$(rule_packets "$router" filter "-A FORWARD -p icmp -j DROP")
if [ "$got" != 2 ]; then
	echo "FAIL: DROP rule counted ${got} packets, expected 2"
	rfr save -c
	l=1
fi
rf_check "FORWARD DROP drops forwarded ICMP only, counted exactly" $l

# INPUT sees only packets for the router.
l=0
rfr -F FORWARD || l=1
rfr -A INPUT -p icmp -j DROP || l=1
expect_ping "$client" 10.0.1.1 no "INPUT -p icmp -j DROP" || l=1
expect_ping "$client" 10.0.2.2 yes "INPUT drop must not see forwarded traffic" || l=1
rfr -F INPUT || l=1
rf_check "INPUT sees only local traffic" $l

# -i and -o in FORWARD: only the client->server direction is dropped.
l=0
rfr -A FORWARD -i veth1 -o veth2 -p icmp --icmp-type echo-request -j DROP || l=1
expect_ping "$client" 10.0.2.2 no "-i veth1 -o veth2" || l=1
expect_ping "$server" 10.0.1.2 yes "-i veth1 -o veth2 (other direction)" || l=1
rfr -F FORWARD || l=1
rf_check "FORWARD with -i and -o" $l

# REJECT: the client gets an ICMP port unreachable for UDP (nc fails at
# once) and a TCP reset for TCP (connection refused, not a time-out).
l=0
ip netns exec "$server" nc -l -p 5001 -e cat > /dev/null 2>&1 &
busywait 2000 bash -c "ip netns exec $server cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ':1389 '"
rfr -A FORWARD -p tcp --dport 5001 -j REJECT --reject-with tcp-reset || l=1
start=$(date +%s)
if echo hi | ip netns exec "$client" timeout 5 nc 10.0.2.2 5001 > "$tmpdir/nc" 2>&1; then
	echo "FAIL: TCP connection through REJECT tcp-reset succeeded"
	l=1
fi
elapsed=$(( $(date +%s) - start ))
if [ "$elapsed" -ge 4 ]; then
	echo "FAIL: TCP through REJECT tcp-reset timed out instead of being reset"
	l=1
fi
got=$(rule_packets "$router" filter "-A FORWARD -p tcp -m tcp --dport 5001 -j REJECT --reject-with tcp-reset")
if [ "$got" = 0 ] || [ "$got" = missing ]; then
	echo "FAIL: REJECT rule counted ${got} packets"
	rfr save -c
	l=1
fi
rfr -F FORWARD || l=1
rfr -A FORWARD -p icmp -j REJECT --reject-with icmp-host-prohibited || l=1
# The client counts what comes back with a rule of its own (no target).
rfc() { ip netns exec "$client" "$RFCTL" "$@"; }
rfc -A INPUT -p icmp --icmp-type 3/10 || l=1
expect_ping "$client" 10.0.2.2 no "REJECT icmp-host-prohibited" || l=1
got=$(rule_packets "$client" filter "-A INPUT -p icmp -m icmp --icmp-type 3/10")
if [ "$got" != 1 ]; then
	echo "FAIL: the client saw ${got} ICMP host-prohibited errors, expected 1"
	rfc save -c -t filter
	l=1
fi
rfc -F || l=1
rfr -F FORWARD || l=1
rf_check "REJECT sends TCP resets and ICMP errors" $l

# User chain with RETURN: the chain drops ICMP to 10.0.2.2 unless it is
# an echo reply; RETURN falls back to FORWARD's next rule.
l=0
rfr -N CHECK || l=1
rfr -A CHECK -p icmp --icmp-type echo-reply -j RETURN || l=1
rfr -A CHECK -d 10.0.2.2 -j DROP || l=1
rfr -A FORWARD -p icmp -j CHECK || l=1
expect_ping "$client" 10.0.2.2 no "user chain drop" || l=1
rfr -D CHECK 2 || l=1
expect_ping "$client" 10.0.2.2 yes "user chain after -D" || l=1
rfr -F || l=1
rfr -X CHECK || l=1
rf_check "user chains, jump, RETURN, -D by number" $l

# MARK in mangle PREROUTING, matched in filter FORWARD.
l=0
rfr -t mangle -A PREROUTING -i veth1 -p icmp -j MARK --set-mark 0x2a || l=1
rfr -A FORWARD -m mark --mark 0x2a -j DROP || l=1
expect_ping "$client" 10.0.2.2 no "mark 0x2a set in mangle" || l=1
rfr -t mangle -F || l=1
expect_ping "$client" 10.0.2.2 yes "no mark without the mangle rule" || l=1
rfr -F || l=1
rf_check "MARK set in mangle is seen by filter" $l

# TOS set by the router is in the packet the server receives: the server's
# own rustfilter counts it with -m tos.
l=0
rfr -t mangle -A POSTROUTING -o veth2 -p icmp -j TOS --set-tos 0x10 || l=1
rfs -A INPUT -p icmp -m tos --tos 0x10 -j ACCEPT || l=1
expect_ping "$client" 10.0.2.2 yes "TOS rewrite" || l=1
got=$(rule_packets "$server" filter "-A INPUT -p icmp -m tos --tos 0x10/0xff -j ACCEPT")
[ "$got" = missing ] && got=$(rule_packets "$server" filter "-A INPUT -p icmp -m tos --tos 0x10 -j ACCEPT")
if [ "$got" != 1 ]; then
	echo "FAIL: server saw ${got} packets with TOS 0x10, expected 1"
	rfs save -c
	l=1
fi
rfr -t mangle -F || l=1
rfs -F || l=1
rf_check "TOS set in mangle arrives on the wire" $l

# LOG writes a line with the prefix and the packet summary.
l=0
rfr -A FORWARD -p icmp -j LOG --log-prefix "rftest: " || l=1
expect_ping "$client" 10.0.2.2 yes "LOG does not stop the packet" || l=1
if ! dmesg | grep "rftest: IN=veth1 OUT=veth2 MAC=[0-9a-f:]\{41\} SRC=10.0.1.2 DST=10.0.2.2 " |
		grep -q "PROTO=ICMP TYPE=8"; then
	echo "FAIL: no LOG line for the forwarded echo request"
	dmesg | tail -5 | sed 's/^/    /'
	l=1
fi
rfr -F || l=1
rf_check "LOG line in the kernel log" $l

# LOG --log-uid names the owner of a local socket (fsuid/fsgid).
l=0
rfc() { ip netns exec "$client" "$RFCTL" "$@"; }
rfc -A OUTPUT -p udp --dport 7777 -j LOG --log-prefix "rfuid: " --log-uid || l=1
ip netns exec "$client" su -s /bin/bash nobody -c 'echo hi > /dev/udp/10.0.2.2/7777' || l=1
if ! dmesg | grep "rfuid: IN= OUT=eth0 SRC=10.0.1.2 DST=10.0.2.2 " |
		grep -q "PROTO=UDP SPT=[0-9]* DPT=7777 LEN=11 UID=65534 GID=65534"; then
	echo "FAIL: no LOG line with UID=65534 GID=65534 for nobody's datagram"
	dmesg | grep rfuid | tail -3 | sed 's/^/    /'
	l=1
fi
rfc -F || l=1
rf_check "LOG --log-uid prints the socket owner" $l

# rpfilter in raw PREROUTING: a source whose route back leaves through
# another interface (here the server's subnet, arriving from the client's
# side) is dropped; genuine sources pass; --loose accepts any source with
# a route. The FORWARD rule counts what got past PREROUTING.
l=0
ip -n "$client" addr add 10.0.2.99/32 dev eth0 || l=1
spoof() { ip netns exec "$client" ping -q -c 1 -W 1 -I 10.0.2.99 10.0.2.2 > /dev/null 2>&1; }
rfr -t raw -A PREROUTING -m rpfilter --invert -j DROP || l=1
rfr -A FORWARD -s 10.0.2.99 -j ACCEPT || l=1
expect_ping "$client" 10.0.2.2 yes "rpfilter: a genuine source passes" || l=1
spoof
strict=$(rule_packets "$router" raw "-A PREROUTING -m rpfilter --invert -j DROP")
passed=$(rule_packets "$router" filter "-A FORWARD -s 10.0.2.99/32 -j ACCEPT")
if [ "$strict" != 1 ] || [ "$passed" != 0 ]; then
	echo "FAIL: strict rpfilter: spoofed packet counted $strict times by the DROP rule (expected 1), forwarded $passed times (expected 0)"
	l=1
fi
rfr -t raw -R PREROUTING 1 -m rpfilter --loose --invert -j DROP || l=1
spoof
loose=$(rule_packets "$router" raw "-A PREROUTING -m rpfilter --loose --invert -j DROP")
passed=$(rule_packets "$router" filter "-A FORWARD -s 10.0.2.99/32 -j ACCEPT")
if [ "$loose" != 0 ] || [ "$passed" != 1 ]; then
	echo "FAIL: loose rpfilter: spoofed packet dropped $loose times (expected 0), forwarded $passed times (expected 1)"
	l=1
fi
rfr -t raw -F || l=1
rfr -F || l=1
ip -n "$client" addr del 10.0.2.99/32 dev eth0
rf_check "rpfilter drops spoofed sources, --loose does not" $l

# TCP segments whose payload is in pages: a socket's data segments keep
# only their headers in the skb's linear data (veth does scatter-gather),
# so the rules' header parse must read them in place without reading past
# them. A plain FORWARD chain (policy DROP, a port rule each way) lets a
# 1 MB HTTP download through, intact, and its byte counters account for
# every byte of it.
l=0
mkdir -p "$tmpdir/www"
head -c 1000000 /dev/urandom > "$tmpdir/www/blob"
ip netns exec "$server" httpd -f -p 5002 -h "$tmpdir/www" &
httpd_pid=$!
busywait 2000 bash -c "ip netns exec $server cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ':138A '" ||
	{ echo "FAIL: httpd did not listen on port 5002"; l=1; }
rfr -P FORWARD DROP || l=1
rfr -A FORWARD -p tcp --dport 5002 -j ACCEPT || l=1
rfr -A FORWARD -p tcp --sport 5002 -j ACCEPT || l=1
if ! ip netns exec "$client" timeout 20 wget -q -O "$tmpdir/blob" http://10.0.2.2:5002/blob; then
	echo "FAIL: download through a plain chain of port rules failed"
	l=1
elif ! cmp -s "$tmpdir/www/blob" "$tmpdir/blob"; then
	echo "FAIL: download through a plain chain of port rules arrived corrupted"
	l=1
fi
# -L -v -x: packets, bytes of each rule, in order.
read -r -a bytes <<< "$(rfr -L FORWARD -v -x -n | awk 'NR > 2 && NF { printf "%s ", $2 }')"
if [ "${#bytes[@]}" != 2 ] || [ "${bytes[1]:-0}" -lt 1000000 ] || [ "${bytes[0]:-0}" -lt 1 ]; then
	echo "FAIL: the port rules counted (${bytes[*]}) bytes, expected 2 rules, at least 1000000 from port 5002"
	rfr -L FORWARD -v -x -n | sed 's/^/    /'
	l=1
fi
kill "$httpd_pid" 2> /dev/null
wait "$httpd_pid" 2> /dev/null
rfr -F || l=1
rfr -P FORWARD ACCEPT || l=1
rf_check "TCP with its payload in pages through a plain chain" $l

# A refused commit leaves the running ruleset untouched.
l=0
rfr -A FORWARD -p icmp -j DROP || l=1
before=$(rfr -S)
if rfr -A FORWARD -j NOSUCHCHAIN > "$tmpdir/out" 2> "$tmpdir/err"; then
	echo "FAIL: a jump to a missing chain was accepted"
	l=1
fi
after=$(rfr -S)
if [ "$before" != "$after" ]; then
	echo "FAIL: the ruleset changed after a refused commit"
	l=1
fi
expect_ping "$client" 10.0.2.2 no "old ruleset still in force" || l=1
rfr -F || l=1
rf_check "refused change leaves the ruleset untouched" $l

exit $ret
