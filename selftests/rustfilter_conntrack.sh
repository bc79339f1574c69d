#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check connection tracking as a stateful firewall: the client accepts on
# INPUT only what belongs to a connection it opened (ESTABLISHED) or is
# about one (RELATED). Outbound ping, TCP and UDP work, their replies
# pass; inbound new ping, TCP and UDP are dropped; an ICMP port
# unreachable for the client's UDP is RELATED, and so is a time exceeded
# for its ping; the state and conntrack matches agree; NOTRACK and
# CONNMARK (set, save, restore, -m connmark) work; rfctl conntrack
# lists, gets, deletes, counts and flushes connections and reports their
# events; the module unloads with connections in the table.
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

rfc() { ip netns exec "$client" "$RFCTL" "$@"; }
ping_ok() { ip netns exec "$1" ping -q -c 1 -W 1 "$2" > /dev/null 2>&1; }

# The client's ephemeral ports: one, so UDP replies can be aimed at it.
ip netns exec "$client" sysctl -q net.ipv4.ip_local_port_range="40000 40000"

# The stateful client: INPUT counts by state, then accepts only replies
# and related packets.
{
	echo "*filter"
	echo ":INPUT DROP [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A INPUT -m state --state NEW"
	echo "-A INPUT -m conntrack --ctstate INVALID"
	echo "-A INPUT -p icmp -m conntrack --ctstate RELATED"
	echo "-A INPUT -p udp -m conntrack --ctstate ESTABLISHED --ctdir REPLY"
	echo "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	echo "-A OUTPUT -m conntrack --ctstate NEW --ctdir ORIGINAL"
	echo "COMMIT"
} | rfc restore || exit $ksft_fail

# Outbound ping works (the reply is ESTABLISHED); inbound is dropped.
l=0
ping_ok "$client" 10.0.2.2 || { echo "FAIL: client's ping not answered"; l=1; }
if ping_ok "$server" 10.0.1.2; then
	echo "FAIL: server's ping to the client answered through INPUT policy DROP"
	l=1
fi
rf_expect_rules "$client" filter INPUT "pings" 1 0 0 0 1 || l=1
rf_check "ping out works, ping in is dropped" $l

# Outbound TCP works both ways; inbound TCP connections are dropped.
l=0
ip netns exec "$server" nc -l -p 5001 -e cat > /dev/null 2>&1 &
busywait 2000 bash -c "ip netns exec $server cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ':1389 '"
got=$(echo stateful | ip netns exec "$client" timeout 5 nc 10.0.2.2 5001 2>&1)
if [ "$got" != stateful ]; then
	echo "FAIL: TCP echo through the stateful client returned '$got'"
	l=1
fi
ip netns exec "$client" nc -l -p 5002 -e cat > /dev/null 2>&1 &
cpid=$!
busywait 2000 bash -c "ip netns exec $client cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ':138A '"
if echo in | ip netns exec "$server" timeout 3 nc 10.0.1.2 5002 > /dev/null 2>&1; then
	echo "FAIL: inbound TCP connection to the client succeeded"
	l=1
fi
kill $cpid 2> /dev/null
rf_check "TCP out works, TCP in is dropped" $l

# UDP: a datagram from the server's port 7777 to the client's port is a
# reply once the client has sent to that port, and new before.
l=0
rfc -Z
ip netns exec "$server" sysctl -q net.ipv4.ip_local_port_range="7777 7777"
udp() { ip netns exec "$1" bash -c "echo x > /dev/udp/$2/$3"; }
udp "$server" 10.0.1.2 40000
rf_expect_rules "$client" filter INPUT "UDP before the client sent" 1 0 0 0 0 || l=1
# No one listens on the server: the datagram draws a port unreachable,
# which is RELATED to the client's UDP flow and passes.
udp "$client" 10.0.2.2 7777
busywait 1000 bash -c "[ \"\$(ip netns exec $client $RFCTL -L INPUT -v -x -n | awk 'NR == 5 { print \$1 }')\" = 1 ]"
udp "$server" 10.0.1.2 40000
rf_expect_rules "$client" filter INPUT "UDP after the client sent" 1 0 1 1 2 || l=1
rf_check "UDP reply passes, UDP new is dropped, port unreachable is RELATED" $l

# An ICMP time exceeded from the router about the client's ping is
# RELATED to that ping's connection.
l=0
rfc -Z
ip netns exec "$client" ping -q -c 1 -W 1 -t 1 10.0.2.2 > /dev/null 2>&1
rf_expect_rules "$client" filter INPUT "time exceeded" 0 0 1 0 1 || l=1
rf_check "ICMP time exceeded for a ping is RELATED" $l

# OUTPUT saw each new connection once, in the original direction.
l=0
got=$(rf_rule_packets "$client" filter OUTPUT)
if [ "$got" = 0 ] || [ -z "$got" ]; then
	echo "FAIL: OUTPUT counted $got NEW packets"
	l=1
fi
rf_check "OUTPUT sees NEW in the original direction" $l

# The listing shows the connections that exist, in conntrack(8)'s format;
# get, delete, count and flush act on them.
l=0
rct() { ip netns exec "$client" "$RFCTL" conntrack "$@"; }
rct -L > "$tmpdir/list" 2> "$tmpdir/list.err" || { echo "FAIL: rfctl conntrack -L"; l=1; }
if ! grep -q '^tcp      6 [0-9]* [A-Z_]* src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=5001 src=10.0.2.2 dst=10.0.1.2 sport=5001 dport=40000 \[ASSURED\] mark=0 use=[0-9]*$' "$tmpdir/list"; then
	echo "FAIL: the client's TCP connection to port 5001 is not listed as assured"
	l=1
fi
if ! grep -q '^udp      17 [0-9]* src=10.0.1.2 dst=10.0.2.2 sport=40000 dport=7777 src=10.0.2.2 dst=10.0.1.2 sport=7777 dport=40000 mark=0 use=[0-9]*$' "$tmpdir/list"; then
	echo "FAIL: the client's UDP flow to port 7777 is not listed as replied"
	l=1
fi
if ! grep -q '^icmp     1 [0-9]* src=10.0.1.2 dst=10.0.2.2 type=8 code=0 id=[0-9]* src=10.0.2.2 dst=10.0.1.2 type=0 code=0 id=[0-9]* mark=0 use=[0-9]*$' "$tmpdir/list"; then
	echo "FAIL: the client's ping is not listed"
	l=1
fi
if grep -q 'dport=5002' "$tmpdir/list"; then
	echo "FAIL: the dropped inbound TCP connection is listed"
	l=1
fi
n=$(grep -c . "$tmpdir/list")
if ! grep -q "$n flow entries have been shown" "$tmpdir/list.err"; then
	echo "FAIL: -L summary does not say $n entries: $(cat "$tmpdir/list.err")"
	l=1
fi
if [ "$(rct -C)" != "$n" ]; then
	echo "FAIL: -C says $(rct -C), -L listed $n"
	l=1
fi
rct -G -p udp -s 10.0.1.2 -d 10.0.2.2 --sport 40000 --dport 7777 > /dev/null 2>&1 ||
	{ echo "FAIL: -G of the UDP flow"; l=1; }
rct -D -p udp --dport 7777 > /dev/null 2>&1 || { echo "FAIL: -D of the UDP flow"; l=1; }
if rct -G -p udp -s 10.0.1.2 -d 10.0.2.2 --sport 40000 --dport 7777 > /dev/null 2>&1; then
	echo "FAIL: the UDP flow is still there after -D"
	l=1
fi
if [ "$(rct -C)" != $((n - 1)) ]; then
	echo "FAIL: -C says $(rct -C) after deleting one of $n"
	l=1
fi
rct -S | grep -q "entries=$((n - 1)) .*max=65536" || { echo "FAIL: -S: $(rct -S)"; l=1; }
rct -F > /dev/null 2>&1 || { echo "FAIL: -F"; l=1; }
if [ "$(rct -C)" != 0 ]; then
	echo "FAIL: $(rct -C) connections left after -F"
	l=1
fi
# A flushed connection is made anew by its next packet.
ping_ok "$client" 10.0.2.2 || { echo "FAIL: ping after flush"; l=1; }
[ "$(rct -C)" = 1 ] || { echo "FAIL: the ping after the flush made $(rct -C) connections"; l=1; }
rf_check "conntrack -L/-G/-D/-C/-S/-F" $l

# NOTRACK in raw makes a packet UNTRACKED (no connection); CONNMARK sets
# a connection's mark, seen by -m connmark on its replies, and
# --save-mark/--restore-mark copy between packet and connection marks.
l=0
rct -F > /dev/null 2>&1
{
	echo "*raw"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A OUTPUT -p icmp -d 10.0.2.3 -j NOTRACK"
	echo "COMMIT"
	echo "*mangle"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":POSTROUTING ACCEPT [0:0]"
	echo "-A OUTPUT -p icmp -d 10.0.2.2 -j CONNMARK --set-mark 0x2a"
	echo "-A OUTPUT -p udp -j MARK --set-mark 0x7"
	echo "-A OUTPUT -p udp -j CONNMARK --save-mark"
	echo "-A INPUT -p icmp -m connmark --mark 0x2a"
	echo "-A INPUT -p icmp -m connmark ! --mark 0x2a"
	echo "-A INPUT -p icmp -j CONNMARK --restore-mark"
	echo "-A INPUT -p icmp -m mark --mark 0x2a"
	echo "COMMIT"
	echo "*filter"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A OUTPUT -m conntrack --ctstate UNTRACKED"
	echo "-A OUTPUT -m state --state UNTRACKED"
	echo "-A OUTPUT -m conntrack --ctstate NEW"
	echo "COMMIT"
} | rfc restore || { echo "FAIL: restore of the NOTRACK/CONNMARK rules"; l=1; }
ip -n "$server" addr add 10.0.2.3/24 dev eth0
ping_ok "$client" 10.0.2.3 || { echo "FAIL: untracked ping not answered"; l=1; }
rf_expect_rules "$client" filter OUTPUT "untracked ping" 1 1 0 || l=1
if rct -L 2> /dev/null | grep -q 'dst=10.0.2.3'; then
	echo "FAIL: the untracked ping has a connection"
	l=1
fi
rfc -Z
ping_ok "$client" 10.0.2.2 || { echo "FAIL: ping with CONNMARK not answered"; l=1; }
rf_expect_rules "$client" mangle INPUT "connmark of the reply" 1 0 - 1 || l=1
rct -L -p icmp 2> /dev/null | grep -q 'dst=10.0.2.2 .* mark=42 ' ||
	{ echo "FAIL: the ping's connection does not list mark=42"; rct -L 2>&1 | sed 's/^/    /'; l=1; }
udp "$client" 10.0.2.2 7777
rct -L -p udp 2> /dev/null | grep -q 'dport=7777 .* mark=7 ' ||
	{ echo "FAIL: --save-mark did not give the UDP flow mark=7"; rct -L 2>&1 | sed 's/^/    /'; l=1; }
rf_check "NOTRACK makes packets UNTRACKED; CONNMARK set/save/restore and -m connmark" $l
printf '*raw\nCOMMIT\n*mangle\nCOMMIT\n' | rfc restore
{
	echo "*filter"
	echo ":INPUT DROP [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	echo "COMMIT"
} | rfc restore

# Events: NEW when a connection is confirmed, DESTROY when it leaves the
# table, deleted or expired (the ICMP timeout set to 2 s).
l=0
rct -F > /dev/null 2>&1
rct --set-timeout icmp=2 || { echo "FAIL: --set-timeout icmp=2"; l=1; }
rct -E --event-count 4 --event-timeout 30 > "$tmpdir/events" 2>&1 &
epid=$!
sleep 1
ping_ok "$client" 10.0.2.2 || { echo "FAIL: ping for the events"; l=1; }
udp "$client" 10.0.2.2 7777
rct -D -p udp --dport 7777 > /dev/null 2>&1 || { echo "FAIL: -D of the UDP flow for the events"; l=1; }
wait $epid
for e in '\[NEW\] icmp ' '\[NEW\] udp ' '\[DESTROY\] udp ' '\[DESTROY\] icmp '; do
	if [ "$(grep -c "$e" "$tmpdir/events")" != 1 ]; then
		echo "FAIL: expected one event matching '$e':"
		sed 's/^/    /' "$tmpdir/events"
		l=1
	fi
done
rf_check "conntrack events: NEW, DESTROY on delete and on expiry" $l

rf_unload || { echo "FAIL: rmmod with connections in the table"; ret=1; }

# The module parameter nf_conntrack_max is the maximum namespaces start
# with; the netlink setting changes it per namespace.
l=0
rf_load nf_conntrack_max=128 || { echo "FAIL: insmod nf_conntrack_max=128"; l=1; }
got=$(cat /sys/module/rustfilter/parameters/nf_conntrack_max 2> /dev/null)
[ "$got" = 128 ] || { echo "FAIL: the parameter reads '$got' in sysfs"; l=1; }
setup_ns fresh
ip netns exec "$fresh" "$RFCTL" conntrack -S | grep -q ' max=128 ' ||
	{ echo "FAIL: a new namespace's maximum is not 128: $(ip netns exec "$fresh" "$RFCTL" conntrack -S)"; l=1; }
ip netns exec "$fresh" "$RFCTL" conntrack --set-max 1000 || l=1
ip netns exec "$fresh" "$RFCTL" conntrack -S | grep -q ' max=1000 ' ||
	{ echo "FAIL: --set-max 1000 not in force"; l=1; }
rf_unload || l=1
rf_check "module parameter nf_conntrack_max and --set-max" $l
exit $ret
