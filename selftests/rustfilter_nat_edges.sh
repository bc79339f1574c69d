#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT at its edges, on the router of rustfilter_nat.sh:
#
# - a one-way UDP flow confirmed before the router has a nat table keeps
#   going, untranslated, when a nat table with MASQUERADE is committed;
#   a new flow after it is masqueraded;
# - the router's own traffic from a port a masqueraded client holds
#   (10.0.2.1:5555) is remapped to another port, not dropped, and the
#   client keeps its mapping;
# - a mapping never takes the port of a local socket (a UDP socket on
#   10.0.2.1:6666, a TCP listener on 10.0.2.1:6667): clients from those
#   ports are mapped elsewhere, the router's services still answer;
# - masqueraded connections are removed when the router's outside
#   address is deleted, and when its device goes down; SNAT connections,
#   the router's own and those to the router itself stay;
# - FTP active mode (PORT, EPRT) through SNAT to 10.0.2.100, whose
#   rewrite makes every announcement two bytes longer: several transfers
#   and a passive one in one control session, which ends with QUIT
#   answered;
# - a port-forwarded FTP server (10.0.2.1:2121 to 10.0.1.2:21, its helper
#   given by -j CT --helper ftp) in PASV (the 227 reply rewritten) and
#   EPSV mode, and TFTP through a port forward of 10.0.2.1:69.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 (veth1)
#                                     router 10.0.2.1 (veth2) --veth-- 10.0.2.2 server
#
# The first check needs a router that never had a nat table, and the
# server's route back to the client (it is deleted after it: from then on
# only translated packets can be answered). The echo servers (rfserve
# echo) answer "TAG PEER DATA", PEER being the address and port they saw;
# the sink (rfserve echo --sink) only logs. Each check leaves no rules
# and an empty conntrack table.

source lib.sh
source nat_lib.sh

rf_require_tools
rf_require_module
: "${RFSERVE:=$(command -v rfserve)}"
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ]; then
	echo "SKIP: Could not run test without rfserve"
	exit $ksft_skip
fi
if ! "$RFSERVE" --help | grep -q udp-flow; then
	echo "SKIP: Could not run test with an rfserve that has no udp-flow"
	exit $ksft_skip
fi
for t in md5sum timeout; do
	if ! command -v $t > /dev/null 2>&1; then
		echo "SKIP: Could not run test without $t"
		exit $ksft_skip
	fi
done

ret=0
tmp=$(mktemp -d)
srv=$tmp/srv
mkdir -p "$srv"

cleanup() {
	cleanup_all_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns client router server
rf_setup_router || exit $ksft_fail

# reset_all: no rules, helpers or connections on the router (raw, nat
# and filter tables). Not before the first check: it commits a nat table.
reset_all() {
	{
		printf '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'
		printf '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n'
		printf ':OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n'
		printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n'
		printf ':OUTPUT ACCEPT [0:0]\nCOMMIT\n'
	} | rfr restore > /dev/null 2>&1
	rfr conntrack --set-auto-helper off > /dev/null 2>&1
	rfr conntrack -F > /dev/null 2>&1
	# Nothing may leak into the next check.
	if rfr save 2> /dev/null | grep -q '^-A'; then
		echo "FAIL: the router's tables could not be emptied:"
		rfr save 2>&1 | sed 's/^/    /'
		ret=1
	fi
}

##############################################################################
# Servers

# The files: 100 KB (not a multiple of TFTP's 512-byte blocks) and 3 KB.
head -c 102401 /dev/urandom > "$srv/big"
head -c 3001 /dev/urandom > "$srv/small"
head -c 61443 /dev/urandom > "$tmp/up"
big_md5=$(md5sum < "$srv/big")
small_md5=$(md5sum < "$srv/small")
up_md5=$(md5sum < "$tmp/up")

serve "$server" echo-server echo --port 7 --tag server --peer -v
serve "$server" sink echo --port 5001 --proto udp --sink -v
serve "$server" ftpd ftp --port 21 --root "$srv" --timeout 3 -v
serve "$router" echo-router echo --port 3128 --tag router --peer -v
serve "$router" echo-router-udp echo --bind 10.0.2.1 --port 6666 --proto udp \
	--tag router-udp --peer -v
serve "$router" echo-router-tcp echo --bind 10.0.2.1 --port 6667 --proto tcp \
	--tag router-tcp --peer -v
serve "$client" ftpd-inside ftp --port 21 --root "$srv" --timeout 3 -v
serve "$client" tftpd-inside tftp --port 69 --root "$srv" --timeout 0.5 -v

all_listening() {
	listening "$server" udp 7 && listening "$server" tcp 7 &&
	listening "$server" udp 5001 && listening "$server" tcp 21 &&
	listening "$router" udp 3128 && listening "$router" tcp 3128 &&
	listening "$router" udp 6666 && listening "$router" tcp 6667 &&
	listening "$client" tcp 21 && listening "$client" udp 69
}
if ! busywait 10000 all_listening; then
	echo "FAIL: the servers do not listen"
	tail -n 5 "$tmp"/*.log
	exit $ksft_fail
fi

##############################################################################
# Conntrack counters and listings (exchanges: nat_lib.sh)

# invalid: packets the router's connection tracking found INVALID, so
# far (all CPUs).
invalid() {
	ct -S | sed -n 's/.* invalid=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}

# listed ARGS: the router lists a connection (conntrack -L ARGS).
listed() { ct -L "$@" | grep -q .; }

##############################################################################
# 1. A one-way UDP flow confirmed before the nat table: its connection
# cannot be bound any more (its tuples are its keys in the table), and
# its packets are still NEW (never answered), so each would walk the new
# table. It must go on untranslated, not be dropped; netfilter leaves it
# alone too. A kernel that binds or drops it loses every datagram after
# the commit, far more than the one allowed in flight.

flow_n=80	# datagrams, one every 0.1 s: 8 s
# flow_seen: datagrams of the flow the sink logged.
flow_seen() { grep -c '"pre [0-9]*"$' "$tmp/sink.log"; }
flow_seen_at_least() { [ "$(flow_seen)" -ge "$1" ]; }

check_before_nat() {
	local l=0 fpid at_commit stats counts total uniq missing miss bad after

	# Tracking on (a committed table uses it), no nat table: the router's
	# namespace is new and this is the first check (rfctl cannot tell a
	# table never committed from an empty one).
	{
		echo "*filter"
		echo ":INPUT ACCEPT [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		echo "-A FORWARD -m conntrack --ctstate NEW,ESTABLISHED"
		echo "COMMIT"
	} | rule "$router" restore || l=1

	at_client timeout 30 "$RFSERVE" udp-flow --server 10.0.2.2 --port 5001 \
		--sport 4001 --count $flow_n --interval 0.1 --data pre \
		> "$tmp/flow.out" 2>&1 &
	fpid=$!
	if ! busywait 5000 flow_seen_at_least 5; then
		echo "FAIL: the flow does not reach the sink before NAT ($(flow_seen) datagrams)"
		l=1
	fi
	if ! busywait 3000 listed -p udp --sport 4001 --dport 5001; then
		echo "FAIL: the router does not list the flow 10.0.1.2:4001 -> 10.0.2.2:5001"
		show_ct "UDP" -p udp
		l=1
	fi

	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	at_commit=$(flow_seen)
	# A new flow is masqueraded (the server could answer either way).
	ask a-new "$client" udp 10.0.2.2 7
	check_answer a-new 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ a-new$' || l=1

	if ! wait $fpid; then
		echo "FAIL: udp-flow: $(cat "$tmp/flow.out")"
		l=1
	fi
	# The last datagram, or one lost short of it.
	busywait 2000 flow_seen_at_least $((flow_n - 1)) > /dev/null
	# "total distinct missing|the first missing|the first from elsewhere
	# than 10.0.1.2:4001".
	stats=$(awk -v n=$flow_n '
		match($0, /"pre [0-9]+"$/) {
			seq = substr($0, RSTART + 5, RLENGTH - 6) + 0
			total++
			if (!(seq in got)) uniq++
			got[seq] = 1
			if ($4 != "10.0.1.2:4001" && nbad++ < 3) bad = bad " " $4
		}
		END {
			for (i = 0; i < n; i++)
				if (!(i in got) && nmiss++ < 10) miss = miss " " i
			printf "%d %d %d|%s|%s\n", total, uniq, nmiss, miss, bad
		}' "$tmp/sink.log")
	IFS='|' read -r counts miss bad <<< "$stats"
	read -r total uniq missing <<< "$counts"
	after=$((total - at_commit))
	echo "INFO: $(head -n 1 "$tmp/flow.out"); the sink got $total ($uniq distinct), $after after the commit"
	if [ "$missing" -gt 1 ]; then
		echo "FAIL: $missing of the flow's $flow_n datagrams did not arrive (missing:$miss); $at_commit had arrived when the nat table was committed"
		l=1
	fi
	if [ -n "$bad" ]; then
		echo "FAIL: the sink got datagrams of the flow from$bad, not 10.0.1.2:4001 (translated)"
		l=1
	fi
	if [ "$missing" -le 1 ] && [ "$after" -lt 10 ]; then
		echo "FAIL: only $after datagrams came after the commit: the flow was over too soon to tell"
		l=1
	fi
	if ! ct -L -p udp --sport 4001 --dport 5001 |
		grep -q 'src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=4001 dport=5001 \[UNREPLIED\] src=10\.0\.2\.2 dst=10\.0\.1\.2 sport=5001 dport=4001 '; then
		echo "FAIL: the flow is not listed unreplied and untranslated (reply to 10.0.1.2:4001)"
		show_ct "the flow" -p udp --sport 4001
		l=1
	fi
	if [ $l -ne 0 ]; then
		echo "INFO: the sink's log (last lines):"
		tail -n 5 "$tmp/sink.log" | sed 's/^/    /'
	fi
	rf_check "a one-way UDP flow from before the nat table goes on untranslated; a new one is masqueraded" $l
}

##############################################################################
# 2. The router's own socket on a port a masqueraded client holds: the
# client's connection has the reply tuple 10.0.2.2:7 -> 10.0.2.1:5555,
# the router's own connection from 10.0.2.1:5555 would have it too. Its
# source is changed (a null binding finding the tuple taken), as
# netfilter does; it must not be dropped.

check_own_port() {
	local l=0 tuples
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	ask o-client "$client" udp 10.0.2.2 7 --sport 5555
	# The premise: a free port is kept.
	check_answer o-client 10.0.2.2:7 '^server 10\.0\.2\.1:5555 o-client$' || l=1
	ask o-router "$router" udp 10.0.2.2 7 --bind 10.0.2.1 --sport 5555
	if check_answer o-router 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ o-router$'; then
		if [ "$pport" = 5555 ]; then
			echo "FAIL: o-router: the server saw the router's own flow from 10.0.2.1:5555 too"
			l=1
		fi
	else
		l=1
	fi
	# The client keeps its mapping.
	ask o-client2 "$client" udp 10.0.2.2 7 --sport 5555
	check_answer o-client2 10.0.2.2:7 '^server 10\.0\.2\.1:5555 o-client2$' || l=1
	tuples=$(ct -L -p udp --sport 5555 --dport 7 | reply_tuples | sort -u)
	if [ "$(echo "$tuples" | grep -c 'dst=10\.0\.2\.1 ')" != 2 ]; then
		echo "FAIL: the router does not list two flows from port 5555 with distinct reply tuples to 10.0.2.1"
		show_ct "from port 5555" -p udp --sport 5555
		l=1
	fi
	rf_check "the router's own flow from 10.0.2.1:5555, held by a masqueraded client, is remapped" $l
}

##############################################################################
# 3. Local sockets' ports are never mappings: MASQUERADE keeps a free
# source port (check 2 relies on that), so a kernel blind to the router's
# sockets would map the clients to 6666 and 6667 and their replies would
# shadow the router's services.

check_local_ports() {
	local l=0
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	ask_bg l-udp "$client" udp 10.0.2.2 7 --sport 6666
	ask_bg l-tcp "$client" tcp 10.0.2.2 7 --sport 6667
	ask_wait
	if check_answer l-udp 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ l-udp$'; then
		if [ "$pport" = 6666 ]; then
			echo "FAIL: l-udp: the client was mapped to 10.0.2.1:6666, the router's UDP socket's"
			l=1
		fi
	else
		l=1
	fi
	if check_answer l-tcp 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ l-tcp$'; then
		if [ "$pport" = 6667 ]; then
			echo "FAIL: l-tcp: the client was mapped to 10.0.2.1:6667, the router's TCP listener's"
			l=1
		fi
	else
		l=1
	fi
	# The router's services, with the clients' connections still there.
	ask_bg l-svc-udp "$server" udp 10.0.2.1 6666
	ask_bg l-svc-tcp "$server" tcp 10.0.2.1 6667
	ask_wait
	check_answer l-svc-udp 10.0.2.1:6666 '^router-udp 10\.0\.2\.2:[0-9]+ l-svc-udp$' || l=1
	check_answer l-svc-tcp 10.0.2.1:6667 '^router-tcp 10\.0\.2\.2:[0-9]+ l-svc-tcp$' || l=1
	if [ $l -ne 0 ]; then
		show_ct "from ports 6666, 6667" -s 10.0.1.2
	fi
	rf_check "no mapping onto the router's UDP 10.0.2.1:6666 or TCP 10.0.2.1:6667; its services answer" $l
}

##############################################################################
# 4. MASQUERADE's cleanup: when veth2 loses 10.0.2.1, and when it goes
# down, the connections masqueraded through it go. Not the others: one
# SNATed to 10.0.2.1, the router's own from 10.0.2.1 (its reply tuple
# goes to 10.0.2.1 too, but it is not masqueraded), the client's to the
# router itself.

# masq_flows PHASE SPORT_MASQ SPORT_SNAT SPORT_OWN: one flow of each
# kind; 0 when all were answered as expected and are listed.
masq_flows() {
	local p=$1 m=$2 s=$3 o=$4 lret=0
	ask_bg "d-masq$p" "$client" udp 10.0.2.2 7 --sport "$m"
	ask_bg "d-snat$p" "$client" udp 10.0.2.2 7 --sport "$s"
	ask_bg "d-own$p" "$router" udp 10.0.2.2 7 --bind 10.0.2.1 --sport "$o"
	ask_bg "d-local$p" "$client" udp 10.0.1.1 3128 --sport "$o"
	ask_wait
	check_answer "d-masq$p" 10.0.2.2:7 "^server 10\\.0\\.2\\.1:[0-9]+ d-masq$p\$" || lret=1
	check_answer "d-snat$p" 10.0.2.2:7 "^server 10\\.0\\.2\\.1:[0-9]+ d-snat$p\$" || lret=1
	check_answer "d-own$p" 10.0.2.2:7 "^server 10\\.0\\.2\\.1:$o d-own$p\$" || lret=1
	check_answer "d-local$p" 10.0.1.1:3128 "^router 10\\.0\\.1\\.2:$o d-local$p\$" || lret=1
	if ! listed -p udp -s 10.0.1.2 --sport "$m" -q 10.0.2.1 ||
	   ! listed -p udp -s 10.0.1.2 --sport "$s" -q 10.0.2.1 ||
	   ! listed -p udp -s 10.0.2.1 --sport "$o" -q 10.0.2.1 ||
	   ! listed -p udp -s 10.0.1.2 --sport "$o" --dport 3128; then
		echo "FAIL: the router does not list the four flows (from ports $m, $s, $o)"
		lret=1
	fi
	return $lret
}

# kept WHAT SPORT_SNAT SPORT_OWN: the other three flows are still listed.
kept() {
	local lret=0
	if ! listed -p udp -s 10.0.1.2 --sport "$2" -q 10.0.2.1; then
		echo "FAIL: $1 removed the SNATed connection from 10.0.1.2:$2"
		lret=1
	fi
	if ! listed -p udp -s 10.0.2.1 --sport "$3" --dport 7; then
		echo "FAIL: $1 removed the router's own connection from 10.0.2.1:$3"
		lret=1
	fi
	if ! listed -p udp -s 10.0.1.2 --sport "$3" --dport 3128; then
		echo "FAIL: $1 removed the client's connection to the router (10.0.1.1:3128)"
		lret=1
	fi
	return $lret
}

gone() { ! listed "$@"; }
veth2_up() { ip -n "$router" link show veth2 | grep -q 'state UP'; }

check_masq_cleanup() {
	local l=0
	rule "$router" -t nat -A POSTROUTING -o veth2 -p udp --sport 4009 \
		-j SNAT --to-source 10.0.2.1 || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -p udp --sport 4019 \
		-j SNAT --to-source 10.0.2.1 || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -s 10.0.1.0/24 -j MASQUERADE || l=1

	masq_flows 1 4007 4009 4008 || l=1
	ip -n "$router" addr del 10.0.2.1/24 dev veth2 || l=1
	if ! busywait 5000 gone -p udp --sport 4007 --dport 7; then
		echo "FAIL: the masqueraded connection from 10.0.1.2:4007 outlived 10.0.2.1"
		show_ct "after ip addr del 10.0.2.1/24" -p udp
		l=1
	fi
	kept "deleting 10.0.2.1" 4009 4008 || l=1
	ip -n "$router" addr add 10.0.2.1/24 dev veth2 || l=1
	if ! ip -n "$router" route get 10.0.2.2 > /dev/null 2>&1; then
		echo "FAIL: no route to 10.0.2.2 after adding 10.0.2.1 again"
		l=1
	fi

	masq_flows 2 4017 4019 4018 || l=1
	ip -n "$router" link set veth2 down || l=1
	if ! busywait 5000 gone -p udp --sport 4017 --dport 7; then
		echo "FAIL: the masqueraded connection from 10.0.1.2:4017 outlived veth2 going down"
		show_ct "after ip link set veth2 down" -p udp
		l=1
	fi
	kept "veth2 going down" 4019 4018 || l=1
	ip -n "$router" link set veth2 up || l=1
	busywait 5000 veth2_up || echo "INFO: veth2 is not up again: $(ip -n "$router" link show veth2)"
	# Back to normal: masqueraded again, behind the address.
	ask d-after "$client" udp 10.0.2.2 7
	check_answer d-after 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ d-after$' || l=1
	[ $l -ne 0 ] && show_ct "at the end" -p udp
	rf_check "masqueraded connections go with 10.0.2.1 and with veth2; SNATed, own and local ones stay" $l
}

##############################################################################
# 5. FTP active mode through SNAT to 10.0.2.100: "10,0,1,2" becomes
# "10,0,2,100", two bytes more in every PORT and EPRT, so each rewrite
# shifts the sequence numbers of the rest of the control connection (the
# offsets add up: 10 bytes after five). Several transfers in one session,
# a passive one among them, each file whole, and QUIT answered: a wrong
# adjustment desynchronises the control connection (the server acks
# bytes the client never sent, or the client's next command is lost).
# The TCP tracker must follow too: no packet INVALID, and the control
# connection closed (TIME_WAIT).

check_ftp_snat_longer() {
	local l=0 i f want log inv
	local gets=(active:big eprt:small active:small passive:big eprt:big active:big)
	local args=()
	ip -n "$router" addr add 10.0.2.100/24 dev veth2 || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -p tcp -j SNAT --to-source 10.0.2.100 || l=1
	helpers_on || l=1
	for i in "${!gets[@]}"; do
		rm -f "$tmp/e$i"
		args+=(--get "${gets[$i]}:$tmp/e$i")
	done
	inv=$(invalid)
	if ! at_client timeout 60 "$RFSERVE" ftp-get --server 10.0.2.2 --timeout 3 -v \
		"${args[@]}" > "$tmp/e.log" 2>&1; then
		echo "FAIL: the FTP session through SNAT to 10.0.2.100: $(grep -v '^rfserve ftp-client: [<>]' "$tmp/e.log")"
		echo "INFO: its last commands and replies:"
		grep '^rfserve ftp-client: [<>]' "$tmp/e.log" | tail -n 6 | sed 's/^/    /'
		l=1
	fi
	for i in "${!gets[@]}"; do
		f=${gets[$i]#*:}
		want=$big_md5
		[ "$f" = small ] && want=$small_md5
		if ! same "$tmp/e$i" "$want"; then
			echo "FAIL: transfer $((i + 1)) (${gets[$i]}) did not arrive whole ($([ -f "$tmp/e$i" ] && wc -c < "$tmp/e$i" || echo no) bytes)"
			l=1
		fi
	done
	# The server saw the session from 10.0.2.100, and the announcements
	# rewritten to it: 3 PORT, 2 EPRT, then QUIT answered.
	log=$(grep '^rfserve ftp: 10\.0\.2\.100:' "$tmp/ftpd.log")
	if [ "$(echo "$log" | grep -c '< PORT 10,0,2,100,')" != 3 ] ||
	   [ "$(echo "$log" | grep -c '< EPRT |1|10\.0\.2\.100|')" != 2 ] ||
	   [ "$(echo "$log" | grep -c '< RETR ')" != ${#gets[@]} ] ||
	   [ "$(echo "$log" | grep -c '> 221 ')" != 1 ]; then
		echo "FAIL: the server did not see 3 PORT and 2 EPRT naming 10.0.2.100, ${#gets[@]} RETR and a 221 from 10.0.2.100; it logged from there:"
		echo "$log" | grep -v '> 150\|> 226' | tail -n 20 | sed 's/^/    /'
		l=1
	fi
	if ! ct -L -p tcp --dport 21 |
		grep -q 'src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=[0-9]* dport=21 src=10\.0\.2\.2 dst=10\.0\.2\.100 sport=21 .*helper=ftp'; then
		echo "FAIL: no FTP control connection listed with its reply to 10.0.2.100 and helper=ftp"
		show_ct "FTP" -p tcp
		l=1
	elif ! busywait 3000 listed -p tcp --dport 21 --state TIME_WAIT; then
		echo "FAIL: the FTP control connection did not close as the router's TCP tracker saw it"
		show_ct "FTP" -p tcp --dport 21
		l=1
	fi
	if [ "$(invalid)" != "$inv" ]; then
		echo "FAIL: the router's conntrack found packets INVALID during the FTP session: $(($(invalid) - inv))"
		ct -S | sed 's/^/    /'
		l=1
	fi
	ip -n "$router" addr del 10.0.2.100/24 dev veth2 || l=1
	rf_check "FTP through SNAT to 10.0.2.100: 6 transfers (PORT, EPRT, PASV) in one session, QUIT answered" $l
}

##############################################################################
# 6. A port-forwarded FTP server: 10.0.2.1:2121 to the client's 10.0.1.2:21.
# The automatic helper goes by the original destination port (2121), so
# -j CT --helper ftp gives it. The server announces 10,0,1,2 in its 227
# reply, which the server's side cannot reach: it must read 10,0,2,1.
# Then TFTP through a forward of 10.0.2.1:69 (the automatic helper, by
# the original port 69).

check_ftp_forward() {
	local l=0 mode inv
	rule "$router" -t nat -A PREROUTING -i veth2 -d 10.0.2.1 -p tcp --dport 2121 \
		-j DNAT --to-destination 10.0.1.2:21 || l=1
	rule "$router" -t raw -A PREROUTING -i veth2 -p tcp --dport 2121 -j CT --helper ftp || l=1
	rule "$router" -t nat -A PREROUTING -i veth2 -d 10.0.2.1 -p udp --dport 69 \
		-j DNAT --to-destination 10.0.1.2:69 || l=1
	helpers_on || l=1
	inv=$(invalid)
	for mode in passive epsv; do
		rm -f "$tmp/f-$mode"
		if ! at_server timeout 20 "$RFSERVE" ftp-get --server 10.0.2.1 --port 2121 \
			--mode $mode --file big --out "$tmp/f-$mode" --timeout 3 -v \
			> "$tmp/f-$mode.log" 2>&1 || ! same "$tmp/f-$mode" "$big_md5"; then
			echo "FAIL: FTP $mode through the forward of 10.0.2.1:2121: $(grep -v '^rfserve ftp-client: [<>]' "$tmp/f-$mode.log")"
			grep '^rfserve ftp-client: [<>]' "$tmp/f-$mode.log" | tail -n 4 | sed 's/^/    /'
			l=1
		fi
	done
	# The inside server said 10,0,1,2; the client heard 10,0,2,1.
	if ! grep -q '> 227 Entering Passive Mode (10,0,1,2,' "$tmp/ftpd-inside.log" ||
	   ! grep -q '< 227 Entering Passive Mode (10,0,2,1,' "$tmp/f-passive.log"; then
		echo "FAIL: the 227 reply was not 10,0,1,2 at the inside server and 10,0,2,1 at the client:"
		grep -h '227' "$tmp/ftpd-inside.log" "$tmp/f-passive.log" | sed 's/^/    /'
		l=1
	fi
	if ! ct -L -p tcp --dport 2121 |
		grep -q 'src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=[0-9]* dport=2121 src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=21 .*helper=ftp'; then
		echo "FAIL: no forwarded FTP control connection listed with helper=ftp"
		show_ct "FTP" -p tcp
		l=1
	fi
	if [ "$(invalid)" != "$inv" ]; then
		echo "FAIL: the router's conntrack found packets INVALID during the FTP sessions: $(($(invalid) - inv))"
		ct -S | sed 's/^/    /'
		l=1
	fi

	rm -f "$tmp/f-tftp" "$srv/up-fwd"
	if ! at_server timeout 20 "$RFSERVE" tftp-get --server 10.0.2.1 --file big \
		--out "$tmp/f-tftp" --timeout 0.5 2> "$tmp/err" || ! same "$tmp/f-tftp" "$big_md5"; then
		echo "FAIL: TFTP get through the forward of 10.0.2.1:69: $(cat "$tmp/err")"
		l=1
	fi
	if ! at_server timeout 20 "$RFSERVE" tftp-put --server 10.0.2.1 --file up-fwd \
		--in "$tmp/up" --timeout 0.5 2> "$tmp/err" ||
		! busywait 2000 same "$srv/up-fwd" "$up_md5"; then
		echo "FAIL: TFTP put through the forward of 10.0.2.1:69: $(cat "$tmp/err")"
		l=1
	fi
	if [ $l -ne 0 ]; then
		echo "INFO: the inside FTP and TFTP servers' logs (last lines):"
		tail -n 8 "$tmp/ftpd-inside.log" | sed 's/^/    /'
		tail -n 4 "$tmp/tftpd-inside.log" | sed 's/^/    /'
	fi
	rf_check "FTP (PASV, EPSV) and TFTP (get, put) to a server forwarded from 10.0.2.1" $l
}

##############################################################################

# run CHECK: one check, and back to a clean state.
run() {
	"check_$1"
	reset_all
}

run before_nat

# From here on the server cannot answer the client's own address.
ip -n "$server" route del default || exit $ksft_fail
if ip -n "$server" route get 10.0.1.2 > /dev/null 2>&1; then
	echo "FAIL: the server still has a route to 10.0.1.2"
	exit $ksft_fail
fi

for c in own_port local_ports masq_cleanup ftp_snat_longer ftp_forward; do
	run $c
done

exit $ret
