#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT: the nat table's MASQUERADE, SNAT, DNAT and REDIRECT on a router
# between a private network and a server that has no route back to it,
# so that only translated packets can be answered:
#
# - MASQUERADE: TCP and UDP from the client reach the server from
#   10.0.2.1, the answers come back, conntrack lists the translated reply
#   tuple; traffic to the router itself is not translated;
# - DNAT: TCP and UDP from the server to 10.0.2.1:8080 reach the client's
#   port 80, the answers come from 10.0.2.1:8080;
# - SNAT --to-source 10.0.2.1:20000-20100 (with and without --random)
#   maps into the range; --random alone picks ports 1024-65535;
# - REDIRECT: the client's own UDP to 10.0.2.2:53 goes to its local port
#   1153 and is answered from 10.0.2.2:53; forwarded TCP to port 80 goes
#   to the router's local port 3128;
# - two clients sending from the same source port through one address are
#   told apart (different ports at the server, distinct reply tuples);
# - 1000 UDP flows at once, each answered on its own socket, 1000
#   distinct reply tuples;
# - filter rules see the real addresses: FORWARD sees the DNATed
#   destination and the not yet SNATed source;
# - ping from two clients at once, busybox's and with the same identifier;
# - an ICMP port unreachable for a MASQUERADEd flow reaches the client,
#   its quoted header translated back;
# - FTP (PASV, EPSV, busybox ftpget; PORT, EPRT) and TFTP through
#   MASQUERADE with the automatic helpers: files arrive whole.
#
#   client  10.0.1.2 --veth-- 10.0.1.1 (veth1)
#                                       router 10.0.2.1 (veth2) --veth-- 10.0.2.2 server
#   client2 10.0.3.2 --veth-- 10.0.3.1 (veth3)
#
# The echo servers (rfserve echo) answer "NAME PEER DATA", PEER being the
# address and port they saw; rfserve echo-client prints where the answer
# came from. Each check starts from, and leaves, no rules and an empty
# conntrack table.

source lib.sh
source nat_lib.sh

rf_require_tools
rf_require_module
: "${RFSERVE:=$(command -v rfserve)}"
: "${RFPKT:=$(command -v rfpkt)}"
for t in "$RFSERVE" "$RFPKT"; do
	if [ -z "$t" ] || [ ! -x "$t" ]; then
		echo "SKIP: Could not run test without rfserve and rfpkt"
		exit $ksft_skip
	fi
done
if ! "$RFSERVE" --help | grep -q udp-many; then
	echo "SKIP: Could not run test with an rfserve that has no echo modes"
	exit $ksft_skip
fi
for t in md5sum ftpget tftp timeout; do
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

setup_ns client client2 router server
rf_setup_router || exit $ksft_fail
veth_link "$client2" eth0 10.0.3.2/24 "$router" veth3 10.0.3.1/24 || exit $ksft_fail
ip -n "$client2" route add default via 10.0.3.1 || exit $ksft_fail

# reset_all: no rules, helpers or connections where the checks make them
# (the router's nat and filter tables, the client's nat table). Few
# rfctl runs: each takes a while under TCG.
filter_empty='*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT'
nat_empty='*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT'
reset_all() {
	if ! printf '%s\n%s\n' "$nat_empty" "$filter_empty" | rfr restore > /dev/null 2>&1; then
		# No nat table: the filter table alone.
		echo "$filter_empty" | rfr restore > /dev/null 2>&1
	fi
	rfr conntrack --set-auto-helper off > /dev/null 2>&1
	rfr conntrack -F > /dev/null 2>&1
	at_client "$RFCTL" -t nat -F > /dev/null 2>&1
	at_client "$RFCTL" conntrack -F > /dev/null 2>&1
	# Nothing may leak into the next check.
	if rfr -t nat -S 2> /dev/null | grep -q '^-A'; then
		echo "FAIL: the router's nat table could not be emptied:"
		rfr -t nat -S 2>&1 | sed 's/^/    /'
		ret=1
	fi
}

##############################################################################
# Servers

# The files: 100 KB to download (not a multiple of TFTP's 512-byte
# blocks), 60 KB to upload.
head -c 102401 /dev/urandom > "$srv/big"
head -c 61443 /dev/urandom > "$tmp/up"
big_md5=$(md5sum < "$srv/big")
up_md5=$(md5sum < "$tmp/up")

serve "$server" echo-server echo --port 7 --tag server --peer -v
serve "$server" many-server echo --port 9 --proto udp --peer
serve "$server" ftpd ftp --port 21 --root "$srv" --timeout 3 -v
serve "$server" tftpd tftp --port 69 --root "$srv" --timeout 0.5 -v
serve "$client" echo-inside echo --port 80 --tag inside --peer -v
serve "$client" echo-local echo --port 1153 --proto udp --tag local --peer -v
serve "$router" echo-router echo --port 3128 --proto tcp --tag router --peer -v

all_listening() {
	listening "$server" tcp 7 && listening "$server" udp 7 &&
	listening "$server" udp 9 && listening "$server" tcp 21 &&
	listening "$server" udp 69 && listening "$client" tcp 80 &&
	listening "$client" udp 80 && listening "$client" udp 1153 &&
	listening "$router" tcp 3128
}
if ! busywait 10000 all_listening; then
	echo "FAIL: the servers do not listen"
	tail -n 5 "$tmp"/*.log
	exit $ksft_fail
fi

##############################################################################
# Exchanges with the echo servers (the rest is in nat_lib.sh)

# in_range TAG LO HI: the peer exchange TAG's server saw has a port in
# LO..HI (after a check_answer that held).
in_range() {
	local port
	answer "$1"
	port=${peer##*:}
	if [ -z "$port" ] || [ "$port" -lt "$2" ] || [ "$port" -gt "$3" ]; then
		echo "FAIL: $1: the server saw port ${port:-?} ($peer), not one in $2-$3"
		return 1
	fi
}

##############################################################################
# Transfers (as rustfilter_ct_helpers.sh does them): each prints why it
# failed to $tmp/err and succeeds only when the file arrived whole.

ftp_get() {
	local mode=$1
	rm -f "$tmp/out"
	at_client timeout 20 "$RFSERVE" ftp-get --server 10.0.2.2 --mode "$mode" \
		--file big --out "$tmp/out" --timeout 3 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_ftp_passive() { ftp_get passive; }
t_ftp_epsv() { ftp_get epsv; }
t_ftp_active() { ftp_get active; }
t_ftp_eprt() { ftp_get eprt; }
t_ftpget_busybox() {
	rm -f "$tmp/out"
	at_client timeout 5 ftpget -u anonymous -p x 10.0.2.2 "$tmp/out" big 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_tftp_get() {
	rm -f "$tmp/out"
	at_client timeout 20 "$RFSERVE" tftp-get --server 10.0.2.2 --file big \
		--out "$tmp/out" --timeout 0.5 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_tftp_busybox() {
	rm -f "$tmp/out"
	at_client timeout 5 tftp -g -r big -l "$tmp/out" 10.0.2.2 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_tftp_put() {
	rm -f "$srv/up-tftp"
	at_client timeout 20 "$RFSERVE" tftp-put --server 10.0.2.2 --file up-tftp \
		--in "$tmp/up" --timeout 0.5 2> "$tmp/err" || return 1
	# The server writes the last block after acknowledging it.
	busywait 2000 same "$srv/up-tftp" "$up_md5"
}

# transfers WHAT NAME...: run the transfers; say which failed and why.
transfers() {
	local what=$1 t lret=0
	shift
	for t in "$@"; do
		if ! "t_$t"; then
			echo "FAIL: $t $what"
			sed 's/^/    /' "$tmp/err"
			lret=1
		fi
	done
	if [ $lret -ne 0 ]; then
		echo "INFO: the FTP and TFTP servers' logs (last lines):"
		tail -n 8 "$tmp/ftpd.log" | sed 's/^/    /'
		tail -n 4 "$tmp/tftpd.log" | sed 's/^/    /'
	fi
	return $lret
}

##############################################################################
# 0. Without NAT, the server still routing back to the clients: the
# servers, clients and tools work, and the topology is as drawn.

check_baseline() {
	local l=0 p1 p2
	ask_bg b-udp "$client" udp 10.0.2.2 7
	ask_bg b-tcp "$client" tcp 10.0.2.2 7
	ask_bg b-two "$client2" udp 10.0.2.2 7 --sport 5555
	ask_bg b-inside-tcp "$server" tcp 10.0.1.2 80
	ask_bg b-inside-udp "$server" udp 10.0.1.2 80
	# Asked at 127.0.0.1, the client's own server answers from there.
	ask_bg b-local "$client" udp 127.0.0.1 1153
	ask_bg b-proxy "$client" tcp 10.0.1.1 3128
	# A closed port: the connected socket hears of the port unreachable.
	ask_bg b-closed "$client" udp 10.0.2.2 9999 --connect
	ask_wait
	check_answer b-udp 10.0.2.2:7 '^server 10\.0\.1\.2:[0-9]+ b-udp$' || l=1
	check_answer b-tcp 10.0.2.2:7 '^server 10\.0\.1\.2:[0-9]+ b-tcp$' || l=1
	check_answer b-two 10.0.2.2:7 '^server 10\.0\.3\.2:5555 b-two$' || l=1
	check_answer b-inside-tcp 10.0.1.2:80 '^inside 10\.0\.2\.2:[0-9]+ b-inside-tcp$' || l=1
	check_answer b-inside-udp 10.0.1.2:80 '^inside 10\.0\.2\.2:[0-9]+ b-inside-udp$' || l=1
	check_answer b-local 127.0.0.1:1153 '^local 127\.0\.0\.1:[0-9]+ b-local$' || l=1
	check_answer b-proxy 10.0.1.1:3128 '^router 10\.0\.1\.2:[0-9]+ b-proxy$' || l=1
	if answer b-closed || [[ $err != *"connection refused"* ]]; then
		echo "FAIL: b-closed: no 'connection refused' for UDP to a closed port: $err"
		l=1
	fi
	if ! at_client "$RFSERVE" udp-many --server 10.0.2.2 --port 9 --count 100 \
		--timeout 10 --expect-peer 10.0.1.2 > "$tmp/many.out" 2>&1; then
		echo "FAIL: udp-many with 100 sockets:"
		sed 's/^/    /' "$tmp/many.out"
		l=1
	fi
	ip netns exec "$client" ping -q -c 1 -W 2 10.0.2.2 > /dev/null 2>&1 & p1=$!
	ip netns exec "$client2" ping -q -c 1 -W 2 10.0.2.2 > /dev/null 2>&1 & p2=$!
	wait $p1 || { echo "FAIL: the client's ping"; l=1; }
	wait $p2 || { echo "FAIL: client2's ping"; l=1; }
	if ! at_client timeout 10 "$RFPKT" icmp --dst 10.0.2.2 --id 4660 --reply \
		--timeout 3 > "$tmp/pkt.out" 2>&1; then
		echo "FAIL: rfpkt's ping: $(cat "$tmp/pkt.out")"
		l=1
	fi
	transfers "without NAT" ftp_passive ftp_active tftp_get || l=1
	rf_check "without NAT (the server routing back) the servers and clients work" $l
}

##############################################################################
# 1. MASQUERADE

check_masquerade() {
	local l=0
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	ask_bg m-tcp "$client" tcp 10.0.2.2 7
	ask_bg m-udp "$client" udp 10.0.2.2 7
	# Only what leaves through veth2 is translated: the router's own
	# server sees the client as it is.
	ask_bg m-router "$client" tcp 10.0.1.1 3128
	ask_wait
	check_answer m-router 10.0.1.1:3128 '^router 10\.0\.1\.2:[0-9]+ m-router$' || l=1
	check_answer m-tcp 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ m-tcp$' || l=1
	if check_answer m-udp 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ m-udp$'; then
		# The reply tuple is the translated one: to 10.0.2.1, to the
		# port the server saw.
		if ! ct -L -p udp --dport 7 | grep -q "src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=$lport dport=7 src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=7 dport=${peer##*:} "; then
			echo "FAIL: the router's conntrack has no 10.0.1.2:$lport -> 10.0.2.2:7 with the reply to $peer"
			show_ct "UDP to port 7" -p udp --dport 7
			l=1
		fi
	else
		l=1
	fi
	rf_check "MASQUERADE: TCP and UDP reach the server from 10.0.2.1 and are answered" $l
}

##############################################################################
# 2. DNAT: a port forward from 10.0.2.1:8080 to the client's port 80.

check_dnat() {
	local l=0
	rule "$router" -t nat -A PREROUTING -i veth2 -d 10.0.2.1 -p tcp --dport 8080 \
		-j DNAT --to-destination 10.0.1.2:80 || l=1
	rule "$router" -t nat -A PREROUTING -i veth2 -d 10.0.2.1 -p udp --dport 8080 \
		-j DNAT --to-destination 10.0.1.2:80 || l=1
	ask_bg d-tcp "$server" tcp 10.0.2.1 8080
	ask_bg d-udp "$server" udp 10.0.2.1 8080
	# Another port is not forwarded: the router itself refuses it.
	ask_bg d-other "$server" tcp 10.0.2.1 8081
	ask_wait
	check_answer d-tcp 10.0.2.1:8080 '^inside 10\.0\.2\.2:[0-9]+ d-tcp$' || l=1
	if check_answer d-udp 10.0.2.1:8080 '^inside 10\.0\.2\.2:[0-9]+ d-udp$'; then
		if ! ct -L -p udp --dport 8080 | grep -q "src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=$lport dport=8080 src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=80 dport=$lport "; then
			echo "FAIL: the router's conntrack has no 10.0.2.2:$lport -> 10.0.2.1:8080 answered by 10.0.1.2:80"
			show_ct "UDP to port 8080" -p udp --dport 8080
			l=1
		fi
	else
		l=1
	fi
	if answer d-other || [[ $err != *"connection refused"* ]]; then
		echo "FAIL: d-other: TCP to 10.0.2.1:8081 was not refused by the router: ${err:-$reply}"
		l=1
	fi
	rf_check "DNAT: 10.0.2.1:8080 (TCP, UDP) forwarded to 10.0.1.2:80, answered from 10.0.2.1:8080" $l
}

##############################################################################
# 3. SNAT to a port range, with --random, and --random alone.

check_snat_ports() {
	local l=0 p t kept=0
	for p in tcp udp; do
		rule "$router" -t nat -A POSTROUTING -o veth2 -p $p \
			-j SNAT --to-source 10.0.2.1:20000-20100 || l=1
	done
	ask_bg s-tcp "$client" tcp 10.0.2.2 7
	ask_bg s-udp "$client" udp 10.0.2.2 7
	ask_wait
	for t in s-tcp s-udp; do
		if check_answer $t 10.0.2.2:7 "^server 10\\.0\\.2\\.1:[0-9]+ $t\$"; then
			in_range $t 20000 20100 || l=1
		else
			l=1
		fi
	done

	rule "$router" -t nat -F POSTROUTING || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -p udp \
		-j SNAT --to-source 10.0.2.1:20000-20100 --random || l=1
	for t in s-rr1 s-rr2 s-rr3; do
		ask_bg $t "$client" udp 10.0.2.2 7
	done
	ask_wait
	for t in s-rr1 s-rr2 s-rr3; do
		if check_answer $t 10.0.2.2:7 "^server 10\\.0\\.2\\.1:[0-9]+ $t\$"; then
			in_range $t 20000 20100 || l=1
		else
			l=1
		fi
	done

	rule "$router" -t nat -F POSTROUTING || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -p udp \
		-j SNAT --to-source 10.0.2.1 --random || l=1
	for t in s-r1 s-r2 s-r3; do
		ask_bg $t "$client" udp 10.0.2.2 7
	done
	ask_wait
	for t in s-r1 s-r2 s-r3; do
		if check_answer $t 10.0.2.2:7 "^server 10\\.0\\.2\\.1:[0-9]+ $t\$"; then
			in_range $t 1024 65535 || l=1
			[ "${peer##*:}" = "$lport" ] && kept=$((kept + 1))
		else
			l=1
		fi
	done
	# --random maps every flow to a random port: that all three kept
	# their own has a chance of about 1 in 2^48.
	if [ $kept -eq 3 ]; then
		echo "FAIL: with --random all three flows kept their source port"
		l=1
	fi
	rf_check "SNAT --to-source 10.0.2.1:20000-20100 (also --random) and --random" $l
}

##############################################################################
# 4. REDIRECT: the client's DNS to its own port 1153; forwarded HTTP to
# the router's proxy port 3128.

check_redirect() {
	local l=0
	rule "$client" -t nat -A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports 1153 || l=1
	rule "$router" -t nat -A PREROUTING -i veth1 -p tcp --dport 80 -j REDIRECT --to-ports 3128 || l=1
	ask_bg r-dns "$client" udp 10.0.2.2 53
	ask_bg r-proxy "$client" tcp 10.0.2.2 80
	ask_wait
	check_answer r-dns 10.0.2.2:53 '^local [0-9.]+:[0-9]+ r-dns$' || l=1
	check_answer r-proxy 10.0.2.2:80 '^router 10\.0\.1\.2:[0-9]+ r-proxy$' || l=1
	rf_check "REDIRECT: local UDP 53 to port 1153, forwarded TCP 80 to the router's 3128" $l
}

##############################################################################
# 5. Two clients, one source port, one SNAT address.

check_two_clients() {
	local l=0 p1= p2= flows tuples
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	ask_bg two-1 "$client" udp 10.0.2.2 7 --sport 5555
	ask_bg two-2 "$client2" udp 10.0.2.2 7 --sport 5555
	ask_wait
	check_answer two-1 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ two-1$' && p1=$peer || l=1
	check_answer two-2 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ two-2$' && p2=$peer || l=1
	if [ -n "$p1" ] && [ "$p1" = "$p2" ]; then
		echo "FAIL: the server saw both clients as $p1"
		l=1
	fi
	flows=$(ct -L -p udp --sport 5555 --dport 7)
	tuples=$(echo "$flows" | grep . | reply_tuples | sort -u)
	if [ "$(echo "$flows" | grep -c 'dport=7 ')" != 2 ] ||
	   [ "$(echo "$tuples" | grep -c 'dst=10\.0\.2\.1 ')" != 2 ]; then
		echo "FAIL: the router's conntrack does not list two flows from port 5555 with distinct reply tuples to 10.0.2.1"
		echo "INFO: their reply tuples:"
		echo "$tuples" | sed 's/^/    /'
		show_ct "from port 5555" -p udp --sport 5555
		l=1
	fi
	rf_check "two clients, same source port, one address: told apart" $l
}

##############################################################################
# 6. 1000 UDP flows at once through MASQUERADE.

check_many() {
	local l=0 n u bad
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	if ! at_client timeout 60 "$RFSERVE" udp-many --server 10.0.2.2 --port 9 \
		--count 1000 --timeout 12 --expect-peer 10.0.2.1 > "$tmp/many.out" 2>&1; then
		echo "FAIL: udp-many with 1000 sockets:"
		sed 's/^/    /' "$tmp/many.out"
		l=1
	else
		echo "INFO: $(head -n 1 "$tmp/many.out")"
	fi
	ct -L -p udp --dport 9 > "$tmp/flows"
	n=$(grep -c 'dport=9 ' "$tmp/flows")
	u=$(reply_tuples < "$tmp/flows" | sort -u | grep -c .)
	bad=$(reply_tuples < "$tmp/flows" | grep -vc 'dst=10\.0\.2\.1 ')
	if [ "$n" != 1000 ] || [ "$u" != 1000 ] || [ "$bad" != 0 ]; then
		echo "FAIL: the router lists $n flows to port 9 with $u distinct reply tuples, $bad not to 10.0.2.1 (expected 1000, 1000, 0)"
		head -n 3 "$tmp/flows" | sed 's/^/    /'
		l=1
	fi
	rf_check "1000 UDP flows at once through MASQUERADE, each answered on its own socket" $l
}

##############################################################################
# 7. The filter table sees the real addresses: FORWARD comes after DNAT
# (PREROUTING) and before SNAT (POSTROUTING).

check_filter_order() {
	local l=0 got
	{
		echo "*filter"
		echo ":INPUT ACCEPT [0:0]"
		echo ":FORWARD DROP [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		echo "-A FORWARD -d 10.0.2.1"
		echo "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
		echo "-A FORWARD -d 10.0.1.2 -p tcp --dport 80 -j ACCEPT"
		echo "COMMIT"
	} | rule "$router" restore || l=1
	rule "$router" -t nat -A PREROUTING -i veth2 -d 10.0.2.1 -p tcp --dport 8080 \
		-j DNAT --to-destination 10.0.1.2:80 || l=1
	ask f-dnat "$server" tcp 10.0.2.1 8080
	check_answer f-dnat 10.0.2.1:8080 '^inside 10\.0\.2\.2:[0-9]+ f-dnat$' || l=1
	# Nothing forwarded is still addressed to 10.0.2.1; the SYN was
	# accepted as going to 10.0.1.2 (a retransmitted SYN may count too).
	read -r -a got <<< "$(rf_rule_packets "$router" filter FORWARD)"
	if [ "${got[0]:-x}" != 0 ] || ! [[ ${got[2]:-} =~ ^[1-9][0-9]*$ ]]; then
		echo "FAIL: FORWARD counted (${got[*]}) for (-d 10.0.2.1, ESTABLISHED, -d 10.0.1.2 --dport 80), expected (0, any, 1 or more)"
		rfr -L FORWARD -v -x -n | sed 's/^/    /'
		l=1
	fi

	rule "$router" -t nat -F PREROUTING || l=1
	rfr conntrack -F > /dev/null 2>&1
	{
		echo "*filter"
		echo ":INPUT ACCEPT [0:0]"
		echo ":FORWARD DROP [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		echo "-A FORWARD -s 10.0.2.1"
		echo "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
		echo "-A FORWARD -s 10.0.1.2 -j ACCEPT"
		echo "COMMIT"
	} | rule "$router" restore || l=1
	rule "$router" -t nat -A POSTROUTING -o veth2 -j SNAT --to-source 10.0.2.1 || l=1
	ask f-snat "$client" udp 10.0.2.2 7
	check_answer f-snat 10.0.2.2:7 '^server 10\.0\.2\.1:[0-9]+ f-snat$' || l=1
	# The request was accepted as coming from 10.0.1.2, the answer as
	# ESTABLISHED; nothing from 10.0.2.1.
	rf_expect_rules "$router" filter FORWARD "SNAT after FORWARD" 0 1 1 || l=1
	rf_check "FORWARD sees the DNATed destination and the source before SNAT" $l
}

##############################################################################
# 8. ping through MASQUERADE from two clients at once, busybox's (its own
# identifiers) and rfpkt's (the same identifier from both).

check_ping() {
	local l=0 p1 p2 flows tuples
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	ip netns exec "$client" timeout 10 ping -q -c 2 -W 2 10.0.2.2 > "$tmp/ping1" 2>&1 & p1=$!
	ip netns exec "$client2" timeout 10 ping -q -c 2 -W 2 10.0.2.2 > "$tmp/ping2" 2>&1 & p2=$!
	wait $p1 || { echo "FAIL: the client's ping:"; sed 's/^/    /' "$tmp/ping1"; l=1; }
	wait $p2 || { echo "FAIL: client2's ping:"; sed 's/^/    /' "$tmp/ping2"; l=1; }

	# One after the other: both connections live in the table at once,
	# the second NATed beside the first. Sent at the same instant, both
	# would be unconfirmed when they are translated, pick the same id,
	# and the second would be dropped at confirmation, as nf_conntrack
	# drops such a clash (and rfpkt sends one request, no retry).
	ip netns exec "$client" timeout 10 "$RFPKT" icmp --dst 10.0.2.2 --id 4660 --seq 7 \
		--reply --timeout 3 > "$tmp/pkt1" 2>&1
	ip netns exec "$client2" timeout 10 "$RFPKT" icmp --dst 10.0.2.2 --id 4660 --seq 7 \
		--reply --timeout 3 > "$tmp/pkt2" 2>&1
	if ! grep -q 'src=10\.0\.2\.2 dst=10\.0\.1\.2 proto=icmp type=0 code=0 id=4660 seq=7 ' "$tmp/pkt1"; then
		echo "FAIL: the client's echo request with id 4660 got no reply with id 4660: $(cat "$tmp/pkt1")"
		l=1
	fi
	if ! grep -q 'src=10\.0\.2\.2 dst=10\.0\.3\.2 proto=icmp type=0 code=0 id=4660 seq=7 ' "$tmp/pkt2"; then
		echo "FAIL: client2's echo request with id 4660 got no reply with id 4660: $(cat "$tmp/pkt2")"
		l=1
	fi
	flows=$(ct -L -p icmp | grep 'type=8 code=0 id=4660 ')
	tuples=$(echo "$flows" | grep . | reply_tuples | sort -u)
	if [ "$(echo "$flows" | grep -c 'dst=10\.0\.2\.2 ')" != 2 ] ||
	   [ "$(echo "$tuples" | grep -c 'dst=10\.0\.2\.1 ')" != 2 ]; then
		echo "FAIL: the router's conntrack does not list both pings with id 4660, with distinct reply tuples to 10.0.2.1"
		show_ct ICMP -p icmp
		l=1
	fi
	rf_check "ping through MASQUERADE from two clients at once, also with the same id" $l
}

##############################################################################
# 9. An ICMP error about a MASQUERADEd flow reaches the client.

check_icmp_error() {
	local l=0 q p
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	# A connected socket hears of it: the quoted header was translated
	# back to its own flow.
	ask_bg e-closed "$client" udp 10.0.2.2 9999 --connect
	# What arrives: the outer destination and the quoted source are the
	# client's, the ports its own.
	at_client timeout 10 "$RFPKT" udp --dst 10.0.2.2 --sport 4444 --dport 9999 \
		--data x --reply --timeout 3 > "$tmp/pkt" 2>&1 & p=$!
	ask_wait
	q='src=10\.0\.2\.2 dst=10\.0\.1\.2 proto=icmp type=3 code=3 qsrc=10\.0\.1\.2 qdst=10\.0\.2\.2 qproto=udp qsport=4444 qdport=9999 '
	if ! wait $p || ! grep -q "$q" "$tmp/pkt"; then
		echo "FAIL: no port unreachable for 10.0.1.2:4444 -> 10.0.2.2:9999 quoting it as sent: $(cat "$tmp/pkt")"
		l=1
	fi
	if answer e-closed; then
		echo "FAIL: e-closed: UDP to the closed port 9999 was answered: $reply"
		l=1
	elif [[ $err != *"connection refused"* ]]; then
		echo "FAIL: e-closed: no port unreachable came back to the client's socket: $err"
		l=1
	fi
	rf_check "an ICMP port unreachable for a MASQUERADEd flow reaches the client, translated" $l
}

##############################################################################
# 10. FTP and TFTP through MASQUERADE with the automatic helpers: passive
# modes need only the connection tracking helper, active ones and TFTP
# the NAT helpers too (the server answers 10.0.2.1).

check_ftp_passive() {
	local l=0
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	helpers_on || l=1
	transfers "through MASQUERADE" ftp_passive ftp_epsv ftpget_busybox || l=1
	if ! ct -L -p tcp --dport 21 | grep -q 'src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=[0-9]* dport=21 src=10\.0\.2\.2 dst=10\.0\.2\.1 sport=21 .*helper=ftp'; then
		echo "FAIL: no FTP control connection listed with its reply to 10.0.2.1 and helper=ftp"
		show_ct "FTP" -p tcp
		l=1
	fi
	rf_check "FTP passive (PASV, EPSV, busybox ftpget) through MASQUERADE" $l
}

check_ftp_active_tftp() {
	local l=0
	rule "$router" -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
	helpers_on || l=1
	transfers "through MASQUERADE" ftp_active ftp_eprt tftp_get tftp_busybox tftp_put || l=1
	rf_check "FTP active (PORT, EPRT) and TFTP (get, busybox, put) through MASQUERADE" $l
}

##############################################################################

# run CHECK: one check, from and back to a clean state.
run() {
	"check_$1"
	reset_all
}

if ! out=$(rfr -t nat -L -n 2>&1); then
	echo "INFO: the router has no nat table (rfctl -t nat -L: $out): the NAT checks will fail"
fi

reset_all
run baseline
if [ $ret -ne 0 ]; then
	echo "INFO: the servers' logs (last lines):"
	tail -n 5 "$tmp"/*.log | sed 's/^/    /'
	exit $ksft_fail
fi

# From here on the server cannot answer the clients' own addresses.
ip -n "$server" route del default || exit $ksft_fail
if ip -n "$server" route get 10.0.1.2 > /dev/null 2>&1; then
	echo "FAIL: the server still has a route to 10.0.1.2"
	exit $ksft_fail
fi

for c in masquerade dnat snat_ports redirect two_clients many filter_order \
	ping icmp_error ftp_passive ftp_active_tftp; do
	run $c
done

exit $ret
