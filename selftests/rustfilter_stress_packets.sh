#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed packets and a SYN flood through a router with everything in use
# (issue 8).
#
# The router's ruleset uses the raw table (-j CT --helper ftp|tftp,
# --notrack), mangle (MARK, CONNMARK --save-mark/--restore-mark, TOS, DSCP,
# the mark, length and connmark matches), nat (MASQUERADE, DNAT to the
# router's inside address and a port forward to the client) and filter (a
# stateful FORWARD with conntrack and state matches, LOG of INVALID
# packets with their TCP and IP options, REJECT with tcp-reset, port and
# admin-prohibited unreachables); the server REJECTs and LOGs too, so
# errors quoting malformed packets come back through the router. The
# netlink queue is in use all along: mangle FORWARD sends every forwarded
# UDP and ICMP packet (the flows, the pings, the ICMP errors and the
# fuzzed ones) to queue 9 with --queue-bypass, where an `rfctl queue
# --fail-open` listener accepts them (they go on to filter FORWARD); TCP
# is not queued.
#
# 1. A SYN flood: 6,000 SYNs from 60 addresses x 100 ports through the
#    router (MASQUERADEd, never answered) with `rfctl conntrack --set-max
#    256`, while an established TCP connection exchanges a line every 0.3 s:
#    the count (sampled all along) never exceeds 256 and reaches it, drops
#    or early drops are counted, every exchange during the flood is
#    answered, a new connection gets through, and the live slab objects
#    (/proc/slabinfo, every cache shrunk first, which also empties KASAN's
#    quarantine) grow by less than 256 x 2 kB + 512 kB: a connection costs
#    about 1 kB (measured: 3,000 of them, 3 MB in kmalloc-512's 1 kB
#    objects under KASAN), so an unbounded table would grow by 6 MB. (First, so that nothing else is being freed meanwhile: the
#    server's reassembly queues hold fuzzed fragments for 30 s.)
# 2. Every named malformed packet of `rfpkt raw --kind` is put on the link
#    to the router as it is: from the client to the server, and from the
#    server to the router's outside address with the ports of a
#    MASQUERADEd flow. Kinds the receiving IP stack drops (bad IHL,
#    version, total length beyond the packet, header checksum) never reach
#    the router's hooks; those with a truncated or inconsistent transport
#    header, and a non-first fragment, make no connection and are either
#    counted INVALID or dropped before they are forwarded.
# 3. `rfpkt fuzz` (see tools/rfpkt/src/fuzz.rs): FUZZ_COUNT (2500)
#    malformed and mutated packets from the client to the server, half as
#    many from the server to the router's outside address (ICMP errors
#    quoting the MASQUERADEd flows, packets for their ports) and a fifth
#    to the router itself, while a UDP flow and TCP exchanges go through
#    the NAT. FUZZ_SEED (1) makes them; the rfpkt lines printed say how to
#    send the same again. Then: no splat; most packets reached the
#    router's hooks and the server; `rfctl conntrack -S` counted INVALID
#    packets, no more of them than packets seen, and as many connections
#    as `-C` and the listing; TCP, UDP, ping and the port forward still
#    work through the NAT.
#
# The listener must have judged packets during the named malformed ones
# and the fuzz, and still be running at the end. Then the module unloads
# within 30 s with its reference count at 0, and no splat. Each check was seen to fail once: with an impossible expectation
# (ip-options and frag-first among the broken kinds, a count limit of 255,
# a negative growth bound), and the count and memory checks with
# `--set-max 65536` instead of 256 (the table took all 6,000 SYNs: 6 MB
# more live slab objects).
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#   (eth0)                  (veth1)         (veth2)            (eth0)

source lib.sh
source queue_lib.sh

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
if ! "$RFPKT" --help | grep -q "rfpkt fuzz"; then
	echo "SKIP: Could not run test with an rfpkt that has no fuzz mode"
	exit $ksft_skip
fi
if ! command -v timeout > /dev/null 2>&1; then
	echo "SKIP: Could not run test without timeout"
	exit $ksft_skip
fi

: "${FUZZ_COUNT:=2500}"
: "${FUZZ_SEED:=1}"
CT_MAX=256

ret=0
t_start=$(timestamp_ms)
tmp=$(mktemp -d)
srv=$tmp/srv
mkdir -p "$srv"
bg_pids=()

source stress_lib.sh

qpid=
cleanup() {
	exec 7>&- 2> /dev/null
	[ -n "$qpid" ] && q_stop "$qpid"
	stop_bg
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
rfr() { ip netns exec "$router" "$RFCTL" "$@"; }
ct() { rfr conntrack "$@" 2> /dev/null; }
# ct_stat NAME: one counter of the router's `rfctl conntrack -S`.
ct_stat() {
	ct -S | tr ' \t' '\n\n' | sed -n "s/^$1=//p" | head -n 1
}
mac() {
	ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}
R1MAC=$(mac "$router" veth1)
R2MAC=$(mac "$router" veth2)

router_rules='*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i veth1 -p tcp --dport 21 -j CT --helper ftp
-A PREROUTING -i veth1 -p udp --dport 69 -j CT --helper tftp
-A PREROUTING -p udp --dport 5353 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark
-A PREROUTING -i veth1 -p tcp -j MARK --set-mark 0x2
-A PREROUTING -i veth1 -p udp -j MARK --set-mark 0x1
-A PREROUTING -m mark ! --mark 0x0 -j CONNMARK --save-mark
-A FORWARD -p tcp -m length --length 0:80 -j TOS --set-tos 0x10
-A FORWARD -p udp -j NFQUEUE --queue-num 9 --queue-bypass
-A FORWARD -p icmp -j NFQUEUE --queue-num 9 --queue-bypass
-A POSTROUTING -m connmark --mark 0x1 -j DSCP --set-dscp 10
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i veth1 -d 10.0.1.1 -p udp --dport 53 -j DNAT --to-destination 10.0.2.2:7
-A PREROUTING -i veth2 -d 10.0.2.1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.1.2:80
-A POSTROUTING -o veth2 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -m limit --limit 5/sec --limit-burst 20 -j LOG --log-prefix "rfstress invalid: " --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options
-A FORWARD -m conntrack --ctstate INVALID
-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i veth1 -p tcp --dport 113 -j REJECT --reject-with tcp-reset
-A FORWARD -i veth1 -p udp --dport 111 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -i veth1 -p icmp --icmp-type 13 -j REJECT --reject-with icmp-admin-prohibited
-A FORWARD -i veth1 -j ACCEPT
-A FORWARD -i veth2 -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -i veth2 -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -i veth2 -j REJECT --reject-with icmp-host-prohibited
COMMIT'
server_rules='*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 6000 -j DROP
-A INPUT -m conntrack --ctstate INVALID -m limit --limit 5/sec --limit-burst 10 -j LOG --log-prefix "rfstress server invalid: " --log-level 7 --log-tcp-options
-A INPUT -p udp --dport 9 -j REJECT
-A INPUT -p tcp --dport 9 -j REJECT --reject-with tcp-reset
COMMIT'
if ! out=$(echo "$router_rules" | rfr restore 2>&1); then
	echo "FAIL: the router's ruleset: $out"
	exit $ksft_fail
fi
if ! out=$(echo "$server_rules" | ip netns exec "$server" "$RFCTL" restore 2>&1); then
	echo "FAIL: the server's ruleset: $out"
	exit $ksft_fail
fi
# The router's queue listener, accepting everything; what does not fit in
# its queue is accepted too (fail-open).
q_start "$router" "$tmp/queue.log" "$RFCTL" queue --num 9 --fail-open
qpid=$q_pid
q_wait_bound "$router" 9 || exit $ksft_fail
# judged: how many packets the listener has accepted so far.
judged() { q_lines "$tmp/queue.log" 'verdict=accept$'; }
# queue_line: queue 9's line of the router's /proc file.
queue_line() {
	ip netns exec "$router" awk '$1 == 9' /proc/net/netfilter/nfnetlink_queue
}

serve "$server" echo echo --port 7 --tag server --peer
serve "$server" ftpd ftp --port 21 --root "$srv" --timeout 3
serve "$client" inside echo --port 80 --tag inside --peer
all_listening() {
	listening "$server" tcp 7 && listening "$server" udp 7 &&
		listening "$server" tcp 21 && listening "$client" tcp 80
}
if ! busywait 10000 all_listening; then
	echo "FAIL: the servers do not listen"
	tail -n 5 "$tmp"/*.log
	exit $ksft_fail
fi
head -c 30000 /dev/urandom > "$srv/file"

# ask NS PROTO ADDR PORT DATA [OPTIONS]: one echo exchange; prints the
# answer line (from=... reply=...).
ask() {
	local ns=$1 proto=$2 addr=$3 port=$4 data=$5
	shift 5
	ip netns exec "$ns" timeout 10 "$RFSERVE" echo-client --proto "$proto" \
		--server "$addr" --port "$port" --data "$data" --timeout 3 "$@" 2>&1
}

# through_nat WHAT: TCP and UDP from the client reach the server from
# 10.0.2.1, the port forward reaches the client's port 80 from the
# server, ping goes through.
through_nat() {
	local lret=0 out

	out=$(ask "$client" tcp 10.0.2.2 7 "$1-tcp")
	if ! [[ $out =~ reply=server\ 10\.0\.2\.1:[0-9]+\ $1-tcp$ ]]; then
		echo "FAIL: $1: TCP through the MASQUERADE: $out"
		lret=1
	fi
	out=$(ask "$client" udp 10.0.2.2 7 "$1-udp")
	if ! [[ $out =~ reply=server\ 10\.0\.2\.1:[0-9]+\ $1-udp$ ]]; then
		echo "FAIL: $1: UDP through the MASQUERADE: $out"
		lret=1
	fi
	out=$(ask "$server" tcp 10.0.2.1 8080 "$1-fwd")
	if ! [[ $out =~ from=10\.0\.2\.1:8080\ .*reply=inside\ 10\.0\.2\.2:[0-9]+\ $1-fwd$ ]]; then
		echo "FAIL: $1: TCP through the port forward: $out"
		lret=1
	fi
	if ! ip netns exec "$client" ping -q -c 1 -W 2 10.0.2.2 > /dev/null 2>&1; then
		echo "FAIL: $1: ping through the router"
		lret=1
	fi
	return $lret
}

l=0
through_nat "before" || l=1
# An FTP download: the helper, an expectation, the data connection.
if ! ip netns exec "$client" timeout 20 "$RFSERVE" ftp-get --server 10.0.2.2 --mode passive \
	--file file --out "$tmp/file" --timeout 3 > "$tmp/ftp.out" 2>&1 ||
	! cmp -s "$srv/file" "$tmp/file"; then
	echo "FAIL: FTP download through the router: $(cat "$tmp/ftp.out")"
	l=1
fi
rf_check "the router forwards TCP, UDP, ping, a port forward and FTP through its NAT" $l

##############################################################################
# 1. SYN flood against a small table

l=0
if ! ct --set-max $CT_MAX; then
	echo "FAIL: rfctl conntrack --set-max $CT_MAX"
	l=1
fi
mkfifo "$tmp/never"

# The established connection: a line every 0.3 s, each answered within
# 3 s or logged as lost, with the time it was sent.
ip netns exec "$client" bash -c '
	exec 9<> "$1/never"
	exec 3<> /dev/tcp/10.0.2.2/7 || exit 1
	echo hello >&3
	read -r -t 5 line <&3 || { echo "lost hello"; exit 1; }
	echo "hello $line"
	n=0
	while [ ! -e "$1/stop" ]; do
		n=$((n + 1))
		read -r up _ < /proc/uptime
		echo "x$n" >&3
		if read -r -t 3 line <&3 && [ "$line" = "x$n" ]; then
			echo "ok $up"
		else
			echo "lost $up x$n: $line"
		fi
		read -r -t 0.3 -u 9
	done' exchange "$tmp" > "$tmp/exchange.log" 2>&1 &
bg_pids+=($!)
established() { grep -q '^ok ' "$tmp/exchange.log"; }
if ! busywait 10000 established; then
	echo "FAIL: the established connection does not exchange before the flood:"
	sed 's/^/    /' "$tmp/exchange.log"
	l=1
fi
# Before the flood, with the connection up and nothing else going on.
read -r slab0 _ _ sunr0 <<< "$(mem)"

# The count, sampled as often as rfctl can while the flood goes on.
ip netns exec "$router" bash -c 'while [ ! -e "$1" ]; do "$2" conntrack -C; done' \
	sampler "$tmp/flooded" "$RFCTL" > "$tmp/counts" 2> /dev/null &
sampler=$!
read -r flood_start _ < /proc/uptime
start=$(timestamp_ms)
if ! ip netns exec "$client" timeout 120 "$RFPKT" tcp --src-range 10.0.1.100-10.0.1.159 \
	--sport-range 20000-20099 --dst 10.0.2.2 --dport 6000 --flags S; then
	echo "FAIL: rfpkt could not send the flood"
	l=1
fi
read -r flood_end _ < /proc/uptime
touch "$tmp/flooded"
wait $sampler
ct -C >> "$tmp/counts"
max=$(sort -n "$tmp/counts" | tail -n 1)
samples=$(wc -l < "$tmp/counts")
echo "INFO: 6000 SYNs in $(( ($(timestamp_ms) - start) / 1000 )) s; $samples samples of the count, highest ${max:-?}; $(ct -S)"
# Tried once: a limit of 255 failed with the highest count printed.
if [ -z "$max" ] || [ "$max" -gt $CT_MAX ]; then
	echo "FAIL: the connection count reached ${max:-<unreadable>}, above the maximum $CT_MAX"
	l=1
elif [ "$max" -lt $CT_MAX ]; then
	echo "FAIL: the flood never filled the table: at most $max connections of $CT_MAX"
	l=1
fi
if [ $(( $(ct_stat drop) + $(ct_stat early_drop) )) -eq 0 ]; then
	echo "FAIL: a full table neither dropped nor evicted: $(ct -S)"
	l=1
fi
rf_check "a SYN flood from 6000 tuples fills the table to its maximum $CT_MAX and no further" $l

l=0
# Every exchange sent during the flood (and the second after) answered.
during=$(awk -v a="$flood_start" -v b="$flood_end" '$2 >= a && $2 <= b + 1' "$tmp/exchange.log")
n_ok=$(echo "$during" | grep -c '^ok ')
n_lost=$(echo "$during" | grep -c '^lost ')
echo "INFO: the established connection during the flood: $n_ok exchanges answered, $n_lost lost"
if [ "$n_lost" -ne 0 ] || [ "$n_ok" -lt 3 ]; then
	echo "FAIL: the established connection during the flood: $n_ok answered, $n_lost lost:"
	echo "$during" | grep '^lost ' | head -n 5 | sed 's/^/    /'
	l=1
fi
out=$(ask "$client" tcp 10.0.2.2 7 after-flood)
if ! [[ $out =~ reply=server\ 10\.0\.2\.1:[0-9]+\ after-flood$ ]]; then
	echo "FAIL: a new connection through the full table: $out (drop $(ct_stat drop), early_drop $(ct_stat early_drop))"
	l=1
fi
rf_check "an established connection keeps exchanging through the flood, a new one gets through" $l

l=0
read -r slab1 _ _ sunr1 <<< "$(mem)"
stop_bg
count=$(ct -C)
grow=$((slab1 - slab0))
bound=$((CT_MAX * 2 + 512))
echo "INFO: live slab objects $slab0 -> $slab1 kB (+$grow kB; SUnreclaim $sunr0 -> $sunr1 kB) with $count connections left"
# Tried once: a negative bound failed; and with --set-max 65536 instead of
# 256 the growth was 6,027 kB and failed.
if [ -z "$slab1" ] || [ "$grow" -gt "$bound" ]; then
	echo "FAIL: the flood grew the live slab objects by $grow kB, above $bound kB ($CT_MAX connections x 2 kB + 512 kB)"
	l=1
fi
rf_check "slab memory after the flood bounded by the table's maximum: +$grow kB" $l
# The rest with an empty table of the default size.
ct -F > /dev/null
ct --set-max 65536 || echo "INFO: rfctl conntrack --set-max 65536 failed"

##############################################################################
# 2. Named malformed packets

# The MASQUERADEd flow the server-side packets aim at: 10.0.1.2:5555 ->
# 10.0.2.2:7, seen by the server as 10.0.2.1:5555 (the port kept).
if ! ask "$client" udp 10.0.2.2 7 flow --sport 5555 | grep -q "10\.0\.2\.1:5555"; then
	echo "INFO: the flow from port 5555 was not seen from 10.0.2.1:5555"
fi

kinds=$("$RFPKT" --help | sed -n '/^raw kinds:/,$p' | awk 'NR > 1 && NF { print $1 }')
# Dropped by the receiving stack before any hook (ip_rcv_core).
STACK_DROPS=" bad-ihl bad-version long-total bad-ipcsum "
# A transport header cut or inconsistent, a non-first fragment: no
# connection is made for them, and each is either counted INVALID by the
# connection tracking or dropped before the router forwards it (rustfilter
# drops a packet whose transport header does not parse at the first table
# active at a hook: here the raw table, before the tracking). Tried once
# with ip-options and frag-first added here: both failed.
BROKEN_KINDS=" short-total trunc-tcp trunc-udp trunc-icmp trunc-quote bad-doff udp-badlen udp-shortlen frag "

# send_kind SIDE KIND: KIND on the link to the router, from the client to
# the server, or from the server to the router's outside address aimed at
# the MASQUERADEd flow's ports (for kinds that have ports).
send_kind() {
	local side=$1 kind=$2

	if [ "$side" = client ]; then
		ip netns exec "$client" "$RFPKT" raw --kind "$kind" --dev eth0 \
			--dst-mac "$R1MAC" --src 10.0.1.2 --dst 10.0.2.2 2>&1
	else
		ip netns exec "$server" "$RFPKT" raw --kind "$kind" --dev eth0 \
			--dst-mac "$R2MAC" --src 10.0.2.2 --dst 10.0.2.1 --sport 7 --dport 5555 \
			> /dev/null 2>&1 ||
		ip netns exec "$server" "$RFPKT" raw --kind "$kind" --dev eth0 \
			--dst-mac "$R2MAC" --src 10.0.2.2 --dst 10.0.2.1 2>&1
	fi
}

l=0
prerouting() { rf_counter "$router" PREROUTING packets; }
# hooks_ct: "PREROUTING FORWARD NEW INVALID" counts of the router.
hooks_ct() {
	local s

	s=$(ct -S | tr ' \t' '\n\n')
	echo "$(rf_stats "$router" | awk '$1 == "PREROUTING" { p = $2 } $1 == "FORWARD" { f = $2 }
		END { print p, f }') $(echo "$s" | sed -n 's/^new=//p' | head -n 1) $(echo "$s" |
		sed -n 's/^invalid=//p' | head -n 1)"
}
nkinds=0
judged0=$(judged)
read -r pre_l fwd_l new_l inv_l <<< "$(hooks_ct)"
for side in client server; do
	table=""
	for kind in $kinds; do
		if ! out=$(send_kind "$side" "$kind"); then
			echo "FAIL: rfpkt raw --kind $kind from the $side: $out"
			l=1
			continue
		fi
		nkinds=$((nkinds + 1))
		# The packet went through the router's hooks (or was dropped
		# before them) in the softirq of its sending, before rfctl runs.
		read -r pre_n fwd_n new_n inv_n <<< "$(hooks_ct)"
		pre=$((pre_n - pre_l)) fwd=$((fwd_n - fwd_l))
		new=$((new_n - new_l)) inv=$((inv_n - inv_l))
		pre_l=$pre_n fwd_l=$fwd_n new_l=$new_n inv_l=$inv_n
		table+=" $kind:$pre/$fwd/$new/$inv"
		case "$STACK_DROPS" in
		*" $kind "*)
			if [ "$pre" -ne 0 ]; then
				echo "FAIL: $kind from the $side reached the router's hooks ($pre packets): the stack should drop it"
				l=1
			fi
			continue
			;;
		esac
		if [ "$pre" -lt 1 ]; then
			echo "FAIL: $kind from the $side never reached the router's PREROUTING"
			l=1
		fi
		case "$BROKEN_KINDS" in
		*" $kind "*)
			if [ "$new" -ne 0 ]; then
				echo "FAIL: $kind from the $side made a connection in the router"
				l=1
			fi
			if [ "$inv" -lt 1 ] && [ "$fwd" -ne 0 ]; then
				echo "FAIL: $kind from the $side was forwarded and not counted INVALID"
				l=1
			fi
			;;
		esac
	done
	echo "INFO: from the $side, kind:PREROUTING/FORWARD/new/INVALID:$table"
done
no_splat "after the named malformed packets" || l=1
# Some of them are UDP or ICMP headers the router forwards: queued.
more_judged() { [ "$(judged)" -gt "$judged0" ]; }
if ! busywait 5000 more_judged; then
	echo "FAIL: the queue listener judged no packet during the named malformed ones ($(judged) in all): $(queue_line)"
	l=1
fi
echo "INFO: the queue listener judged $(( $(judged) - judged0 )) packets during the named malformed ones"
rf_check "$nkinds named malformed packets: the stack's drops never reach the hooks, broken transport headers make no connection and are INVALID or not forwarded, queued ones judged, no splat" $l

##############################################################################
# 3. Fuzzing

l=0
# Traffic through the NAT while the fuzz goes: the flow from port 5555
# (answered: its reply tuple is what the server-side ICMP errors quote),
# TCP exchanges.
ip netns exec "$client" "$RFSERVE" udp-flow --server 10.0.2.2 --port 7 --sport 5555 \
	--count 100000 --interval 0.05 --data fuzzflow > /dev/null 2>&1 &
bg_pids+=($!)
tcp_loop "$client" "$tmp/tcp.log"

judged0=$(judged)
pre0=$(prerouting)
out0=$(rf_counter "$router" OUTPUT packets)
spre0=$(rf_counter "$server" PREROUTING packets)
inv0=$(ct_stat invalid)
start=$(timestamp_ms)
# fuzz NS ARGS: rfpkt fuzz ARGS from NS onto its eth0; sets fuzz_sent.
fuzz() {
	local ns=$1 rc
	shift
	echo "INFO: rfpkt fuzz $* --dev eth0"
	ip netns exec "$ns" timeout 120 "$RFPKT" fuzz "$@" --dev eth0 > "$tmp/fuzz.out" 2> "$tmp/fuzz.err"
	rc=$?
	sed 's/^/INFO:   /' "$tmp/fuzz.out"
	fuzz_sent=$(sed -n 's/.* sent=\([0-9]*\) .*/\1/p' "$tmp/fuzz.out")
	if [ $rc -ne 0 ] || [ -z "$fuzz_sent" ]; then
		echo "FAIL: rfpkt fuzz $* exited $rc: $(cat "$tmp/fuzz.err")"
		fuzz_sent=0
		return 1
	fi
}
fuzz "$client" --dst 10.0.2.2 --src 10.0.1.2 --dst-mac "$R1MAC" --count "$FUZZ_COUNT" \
	--seed "$FUZZ_SEED" --ports 5555,7,9,21,53,69,80,111,113 || l=1
sent1=$fuzz_sent
no_splat "after fuzzing from the client" || l=1
fuzz "$server" --dst 10.0.2.1 --src 10.0.2.2 --dst-mac "$R2MAC" \
	--count $((FUZZ_COUNT / 2)) --seed $((FUZZ_SEED + 1)) --ports 5555,7,21,8080 || l=1
sent2=$fuzz_sent
no_splat "after fuzzing from the server" || l=1
fuzz "$client" --dst 10.0.1.1 --src 10.0.1.2 --dst-mac "$R1MAC" \
	--count $((FUZZ_COUNT / 5)) --seed $((FUZZ_SEED + 2)) --ports 53,7,21 || l=1
sent3=$fuzz_sent
no_splat "after fuzzing the router itself" || l=1
total=$(( ${sent1:-0} + ${sent2:-0} + ${sent3:-0} ))
echo "INFO: $total packets fuzzed in $(( ($(timestamp_ms) - start) / 1000 )) s"

pre=$(( $(prerouting) - pre0 ))
outp=$(( $(rf_counter "$router" OUTPUT packets) - out0 ))
spre=$(( $(rf_counter "$server" PREROUTING packets) - spre0 ))
inv=$(( $(ct_stat invalid) - inv0 ))
echo "INFO: the router's PREROUTING saw $pre packets, OUTPUT $outp, INVALID $inv; the server's PREROUTING $spre"
echo "INFO: the router's conntrack -S: $(ct -S)"
# Most fuzzed packets pass the receiving stack's checks (rfpkt's unit tests:
# over 70%); the rest of PREROUTING is the flow and the exchanges.
if [ "$pre" -lt $((total / 2)) ]; then
	echo "FAIL: the router's PREROUTING saw $pre packets, less than half of the $total fuzzed"
	l=1
fi
if [ "$spre" -lt $((${sent1:-0} / 4)) ]; then
	echo "FAIL: the server saw $spre packets, less than a quarter of the ${sent1:-0} fuzzed towards it"
	l=1
fi
if [ "$inv" -lt 1 ] || [ "$inv" -gt $((pre + outp)) ]; then
	echo "FAIL: $inv INVALID packets counted, expected 1 to $((pre + outp)) (the packets the router saw)"
	l=1
fi
entries=$(ct_stat entries)
count=$(ct -C)
listed=$(ct -L | wc -l)
# The count can move between the three looks: the flow and exchanges.
if [ -z "$entries" ] || [ -z "$count" ] || [ "$count" -gt 65536 ] ||
	[ $((entries - count)) -gt 5 ] || [ $((count - entries)) -gt 5 ] ||
	[ $((listed - count)) -gt 5 ] || [ $((count - listed)) -gt 5 ]; then
	echo "FAIL: connections: -S says ${entries:-?}, -C ${count:-?}, -L lists $listed"
	l=1
fi
# The forwarded UDP and ICMP packets went through the listener: about a
# third of what the client fuzzes towards the server is UDP or ICMP
# (rfpkt fuzz's kinds), and most of that is forwarded.
n=$(( $(judged) - judged0 ))
echo "INFO: the queue listener judged $n packets during the fuzz; queue 9: $(queue_line)"
if [ "$n" -lt $((${sent1:-0} / 20)) ]; then
	echo "FAIL: the queue listener judged $n packets during the fuzz, less than $((${sent1:-0} / 20)) (a twentieth of the ${sent1:-0} fuzzed through the router)"
	l=1
fi
if ! kill -0 "$qpid" 2> /dev/null; then
	echo "FAIL: the queue listener is gone:"
	tail -n 5 "$tmp/queue.log" | sed 's/^/    /'
	l=1
fi
rf_check "$total fuzzed packets through the router: reached the hooks and the server, INVALID counted, counts agree, queued ones judged, no splat" $l

l=0
through_nat "after the fuzz" || l=1
if ! grep -q '^server 10\.0\.2\.1:' "$tmp/tcp.log"; then
	echo "FAIL: the TCP exchanges during the fuzz got no answer through the NAT"
	l=1
fi
stop_bg
echo "INFO: TCP exchanges during the fuzz: $(grep -c '^server' "$tmp/tcp.log") answered, $(grep -c fail "$tmp/tcp.log") not"
no_splat "after the fuzz" || l=1
rf_check "after the fuzz TCP, UDP, ping and the port forward still go through the NAT" $l

##############################################################################
# The end

l=0
if ! kill -0 "$qpid" 2> /dev/null; then
	echo "FAIL: the queue listener exited:"
	tail -n 5 "$tmp/queue.log" | sed 's/^/    /'
	l=1
fi
q_stop "$qpid"
qpid=
grep '^rfctl queue:' "$tmp/queue.log" | sed 's/^/INFO: /' | head -n 5
ct -F > /dev/null
cleanup_all_ns
no_splat "at the end" || l=1
unload_checked "at the end" || l=1
no_splat "after the unload" || l=1
rf_check "the module unloads cleanly afterwards" $l

echo "INFO: $(( ($(timestamp_ms) - t_start) / 1000 )) s"
exit $ret
