#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv4 BIG TCP through rustfilter. With gso_ipv4_max_size above 65535 on a
# device, TCP hands it GSO packets of up to that size, and since no 16-bit
# tot_len can say how long they are, __ip_queue_xmit writes 0 there
# (iph_set_totlen); ip_rcv_core and ip_tables take the length from the skb
# instead (iph_totlen). A router forwards such packets as they are, and
# veth passes them on unsegmented.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#
# BIG TCP (BIG, 185000 bytes) is set on all four veth ends (gso_max_size,
# gso_ipv4_max_size, gro_max_size, gro_ipv4_max_size, with `rfpkt link`:
# the kernel sets a device's IPv4 GSO limit above 65536 only through
# IFLA_GSO_IPV4_MAX_SIZE, which `ip` sets only from iproute2 6.3 on, newer
# than the VM's). The server sends a 4 MB file to `nc -l` on the client,
# written to the socket 1 MB at a time
# (dd to bash's /dev/tcp: busybox httpd's sendfile hands TCP 64 KB at a
# time and makes almost no BIG TCP packets), with tcp_tso_rtt_log raised
# so that TCP builds full-sized packets whatever the guest's RTT, and 4 MB
# socket buffers on both ends so that the window allows them. So the
# server sends BIG TCP packets, the router forwards them and the client
# receives them, as built by the server's TCP (no GRO needed: veth would
# only aggregate with GRO switched on by ethtool, which the VM lacks).
#
# Independent witness: an nftables table counts, at the hook under test,
# the TCP packets longer than 65535 bytes whose IPv4 tot_len field is 0
# (`ip length 0 meta length gt 65535`), once before rustfilter's filter
# table (priority -400) and once after it (priority 10).
#
# First, without rustfilter loaded: the file arrives and such packets are
# counted at the server's OUTPUT, the router's FORWARD and the client's
# INPUT (else the test skips: the setup makes no BIG TCP). Then, with
# rustfilter, one filter chain at a time, in fresh namespaces: the
# server's OUTPUT, the router's FORWARD and the client's INPUT with port
# rules, and each of them again with conntrack (or state) rules, each
# chain ending in `-p tcp -j DROP`; last, the router's FORWARD with
# conntrack rules and MASQUERADE at its POSTROUTING. Each must let the
# file through intact within XFER_TIMEOUT seconds, pass every BIG TCP
# packet it sees (as many after it as before it; translated, with NAT),
# count at least the file's size on its first ACCEPT rule and nothing on
# its DROP rule, and count no malformed IPv4 header in `rfctl stats`.
#
# Needs rfpkt with its link command, nft, nc and dd; skips without them,
# and if the kernel refuses the sizes (e.g. BIG=999999999, above the veth's
# tso_max_size: VM_APPEND=rfvm.env=BIG=999999999 scripts/vm.sh check
# rustfilter_bigtcp.sh shows the skip).

source lib.sh

rf_require_tools
rf_require_module
rf_require_tool NFT nft
rf_require_tool RFPKT rfpkt
if ! "$RFPKT" --help | grep -q "rfpkt link"; then
	echo "SKIP: Could not run test with an rfpkt that has no link command"
	exit $ksft_skip
fi
for tool in nc dd cmp timeout; do
	if ! command -v "$tool" > /dev/null 2>&1; then
		echo "SKIP: Could not run test without $tool"
		exit $ksft_skip
	fi
done

: "${BIG:=185000}"
PORT=5002
PORT_HEX=138A
SIZE=$((4 * 1024 * 1024))
: "${XFER_TIMEOUT:=8}"

ret=0
tmpdir=$(mktemp -d)

cleanup() {
	cleanup_all_ns
	rm -rf "$tmpdir"
}

trap cleanup EXIT

# Random data (256 KB sixteen times over, longer than any packet:
# /dev/urandom is slow in a TCG guest).
head -c $((SIZE / 16)) /dev/urandom > "$tmpdir/part"
parts=()
for i in {1..16}; do parts+=("$tmpdir/part"); done
cat "${parts[@]}" > "$tmpdir/blob"

# bt_setup: fresh client, router and server namespaces, linked as above
# with BIG TCP on the four veth ends. Few commands (each costs in a TCG
# guest): the namespaces of the previous setup go in one batch, and so do
# the new ones; the four ends get their sizes from one rfpkt in the
# router, before two of them move. Returns 2 if the kernel refused the
# sizes.
bt_setup() {
	local out

	if [ ${#NS_LIST[@]} -gt 0 ]; then
		printf 'netns delete %s\n' "${NS_LIST[@]}" | ip -batch - 2> /dev/null
		NS_LIST=()
	fi
	client=client-$(mktemp -u XXXXXX)
	router=router-$(mktemp -u XXXXXX)
	server=server-$(mktemp -u XXXXXX)
	printf 'netns add %s\n' "$client" "$router" "$server" | ip -batch - ||
		{ echo "FAIL: could not create the namespaces"; return 1; }
	NS_LIST+=("$client" "$router" "$server")
	ip -n "$router" -batch - <<-EOF || { echo "FAIL: could not create the veths"; return 1; }
		link add veth1 type veth peer name c0
		link add veth2 type veth peer name s0
	EOF
	if ! out=$(ip netns exec "$router" "$RFPKT" link --dev veth1 --dev c0 --dev veth2 --dev s0 \
		--gso-max-size $BIG --gso-ipv4-max-size $BIG \
		--gro-max-size $BIG --gro-ipv4-max-size $BIG 2>&1); then
		echo "INFO: rfpkt link ... $BIG: $out"
		return 2
	fi
	ip -n "$router" -batch - <<-EOF || { echo "FAIL: could not set up the router"; return 1; }
		link set dev c0 netns $client name eth0
		link set dev s0 netns $server name eth0
		link set dev veth1 up
		link set dev veth2 up
		addr add 10.0.1.1/24 dev veth1
		addr add 10.0.2.1/24 dev veth2
	EOF
	ip -n "$client" -batch - <<-EOF || { echo "FAIL: could not set up the client"; return 1; }
		link set dev eth0 up
		addr add 10.0.1.2/24 dev eth0
		route add default via 10.0.1.1
	EOF
	ip -n "$server" -batch - <<-EOF || { echo "FAIL: could not set up the server"; return 1; }
		link set dev eth0 up
		addr add 10.0.2.2/24 dev eth0
		route add default via 10.0.2.1
	EOF
	ip netns exec "$router" sysctl -q net.ipv4.ip_forward=1
	# TCP sizes its packets by the pacing rate, plus all of gso_max_size
	# shifted right by min_rtt_us >> tcp_tso_rtt_log: with 31 the sender
	# builds full-sized (BIG) packets whatever the RTT of a busy guest.
	ip netns exec "$server" sysctl -q net.ipv4.tcp_tso_rtt_log=31
	# TCP builds packets of at most half the largest window the peer
	# offered (tcp_xmit_size_goal), and of what its send buffer holds: without
	# 4 MB buffers from the start, whether the window grows past 2 x 65535
	# depends on receive autotuning, i.e. on timing, and about one
	# transfer in ten made no BIG packet at all.
	ip netns exec "$server" sysctl -q net.ipv4.tcp_wmem="4096 4194304 8388608"
	ip netns exec "$client" sysctl -q net.ipv4.tcp_rmem="4096 4194304 8388608"
}

# bt_watch NS HOOK [PRIORITY [MATCH]]: the nftables witness in NS at HOOK
# (input, forward, output, postrouting): chains "before" (priority -400)
# and "after" (PRIORITY, default 10) count the TCP packets longer than
# 65535 bytes whose tot_len is 0; "after" only those that also match
# MATCH (nft syntax) when given.
bt_watch() {
	in_ns "$1" "$NFT" -f - <<-EOF
		table ip bigtcp {
			chain before {
				type filter hook $2 priority -400;
				ip protocol tcp ip length 0 meta length gt 65535 counter
			}
			chain after {
				type filter hook $2 priority ${3:-10};
				ip protocol tcp ip length 0 meta length gt 65535 ${4:-} counter
			}
		}
	EOF
}

# bt_big NS: "BEFORE AFTER", the packets the witness in NS counted in each
# chain ("unreadable" for a count not found).
bt_big() {
	in_ns "$1" "$NFT" list table ip bigtcp 2> /dev/null | awk '
		$1 == "chain" { chain = $2 }
		/counter packets/ {
			for (i = 1; i < NF; i++) if ($i == "packets") n[chain] = $(i + 1)
		}
		END {
			print ("before" in n ? n["before"] : "unreadable"), ("after" in n ? n["after"] : "unreadable")
		}'
}

# bt_transfer WHAT: the server sends the file to the client; fails unless
# it arrives whole and intact within XFER_TIMEOUT seconds. Sets elapsed
# (ms).
bt_transfer() {
	local what=$1 start got ncpid

	rm -f "$tmpdir/got"
	ip netns exec "$client" timeout "$XFER_TIMEOUT" nc -l -p $PORT > "$tmpdir/got" &
	ncpid=$!
	if ! busywait 5000 bash -c "ip netns exec $client cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -Eqi ':$PORT_HEX [0:]+ 0A '"; then
		echo "FAIL: $what: nc did not listen on port $PORT"
		kill "$ncpid" 2> /dev/null
		wait "$ncpid" 2> /dev/null
		elapsed=0
		return 1
	fi
	start=$(timestamp_ms)
	ip netns exec "$server" timeout "$XFER_TIMEOUT" \
		bash -c "dd if='$tmpdir/blob' bs=1M 2> /dev/null > /dev/tcp/10.0.1.2/$PORT" ||
		echo "INFO: $what: the sender failed (exit $?)"
	wait "$ncpid"
	elapsed=$(( $(timestamp_ms) - start ))
	got=$(stat -c %s "$tmpdir/got" 2> /dev/null || echo 0)
	if [ "$got" -ne "$SIZE" ]; then
		echo "FAIL: $what: $got of $SIZE bytes arrived in ${elapsed} ms (time limit ${XFER_TIMEOUT}s)"
		return 1
	fi
	if ! cmp -s "$tmpdir/blob" "$tmpdir/got"; then
		echo "FAIL: $what: the file arrived corrupted"
		return 1
	fi
}

# bt_witness WHAT NS HOOK: the witness in NS counted BIG TCP packets
# before rustfilter's filter table, and as many after it. Prints a
# summary line; sets big_before.
bt_witness() {
	local what=$1 ns=$2 hook=$3 before after

	read -r before after <<< "$(bt_big "$ns")"
	big_before=$before
	echo "INFO: $what: BIG TCP packets (over 65535 bytes, tot_len 0) at $hook: $before before the filter table, $after after it"
	if [ "$before" = unreadable ] || [ "$after" = unreadable ]; then
		echo "FAIL: $what: could not read the nftables counters at $hook"
		return 1
	fi
	if [ "$before" -eq 0 ]; then
		echo "FAIL: $what: no BIG TCP packet reached $hook"
		return 1
	fi
	if [ "$after" -ne "$before" ]; then
		echo "FAIL: $what: $((before - after)) of the $before BIG TCP packets that reached $hook were dropped${BT_AFTER_MATCH:+ or not translated ($BT_AFTER_MATCH)} between the witness chains (priority -400 and ${BT_AFTER_PRIORITY:-10}; rustfilter's hooks are in between)"
		return 1
	fi
}

# rule_counts NS CHAIN: "PACKETS:BYTES" of each rule of filter CHAIN.
rule_counts() {
	in_ns "$1" "$RFCTL" -L "$2" -v -x -n | awk 'NR > 2 && NF { printf "%s:%s ", $1, $2 }'
}

##############################################################################
# Without rustfilter: does the setup make BIG TCP packets at all?

if ! rf_unload; then
	echo "FAIL: could not unload rustfilter for the reference run"
	exit $ksft_fail
fi
l=0
bt_setup
case $? in
0) ;;
2)
	echo "SKIP: the kernel did not take BIG TCP sizes of $BIG on the veths (rfpkt link)"
	exit $ksft_skip
	;;
*) exit $ksft_fail ;;
esac
# What `ip -d link show` prints of the sizes must be BIG (iproute2 before
# 6.3 prints gso_max_size and gro_max_size, not the IPv4 ones; the witness
# shows whether the packets were BIG).
shown=
for end in "$client eth0" "$router veth1" "$router veth2" "$server eth0"; do
	set -- $end
	details=$(ip -n "$1" -d link show dev "$2")
	while read -r key value; do
		[ -n "$key" ] || continue
		[ "$2" = veth1 ] && shown+=" $key"
		if [ "$value" != "$BIG" ]; then
			echo "SKIP: the kernel did not take $key $BIG on veth $2:"
			echo "$details" | sed 's/^/    /'
			exit $ksft_skip
		fi
	done <<< "$(echo "$details" | grep -Eo '(gso|gro)(_ipv4)?_max_size [0-9]+')"
done
shown=${shown# }
echo "INFO: ip -d link show: ${shown:-(none of the sizes shown)} $BIG on the four veth ends"
bt_watch "$server" output && bt_watch "$router" forward && bt_watch "$client" input ||
	{ echo "FAIL: could not set up the nftables witness"; exit $ksft_fail; }
bt_transfer "without rustfilter" || l=1
echo "INFO: without rustfilter: the transfer took ${elapsed} ms"
big=0
for w in "$server output" "$router forward" "$client input"; do
	set -- $w
	bt_witness "without rustfilter" "$1" "$2" || l=1
	[ "$big_before" != unreadable ] && [ "$big_before" -gt 0 ] && big=$((big + 1))
done
if [ $big -eq 0 ]; then
	echo "SKIP: the setup made no IPv4 BIG TCP packets (over 65535 bytes, tot_len 0) without rustfilter"
	exit $ksft_skip
fi
rf_check "reference: BIG TCP transfer without rustfilter" $l
[ $l -eq 0 ] || exit $ksft_fail

##############################################################################
# With rustfilter, one filter chain at a time.

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

# bt_case WHAT NSVAR HOOK CHAIN RULE...: in fresh namespaces, the filter
# table of namespace $NSVAR gets CHAIN's RULEs, of which the first accepts
# the file's data and the last drops other TCP, and the witness watches
# HOOK there. The file must pass intact, with every BIG TCP packet,
# counted by the first rule and not by the last, and no hook of $NSVAR
# may count a malformed IPv4 header (rfctl stats). With BT_NAT, its lines
# are the nat table's POSTROUTING rules, and the witness's "after" chain
# is at BT_AFTER_PRIORITY and counts only packets matching BT_AFTER_MATCH.
bt_case() {
	local what=$1 nsvar=$2 hook=$3 chain=$4
	shift 4
	local ns r l=0 counts accept_bytes drop_packets malformed

	if ! bt_setup; then
		rf_check "$what" 1
		return
	fi
	ns=${!nsvar}
	bt_watch "$ns" "$hook" "${BT_AFTER_PRIORITY:-10}" "${BT_AFTER_MATCH:-}" ||
		{ echo "FAIL: $what: could not set up the nftables witness"; l=1; }
	{
		echo "*filter"
		echo ":INPUT ACCEPT [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		for r in "$@"; do
			echo "-A $chain $r"
		done
		echo "COMMIT"
		if [ -n "${BT_NAT:-}" ]; then
			echo "*nat"
			echo ":PREROUTING ACCEPT [0:0]"
			echo ":INPUT ACCEPT [0:0]"
			echo ":OUTPUT ACCEPT [0:0]"
			echo ":POSTROUTING ACCEPT [0:0]"
			echo "$BT_NAT" | sed 's/^/-A POSTROUTING /'
			echo "COMMIT"
		fi
	} | in_ns "$ns" "$RFCTL" restore || { echo "FAIL: $what: rfctl restore"; l=1; }

	bt_transfer "$what" || l=1
	echo "INFO: $what: the transfer took ${elapsed} ms"
	bt_witness "$what" "$ns" "$hook" || l=1
	read -r -a counts <<< "$(rule_counts "$ns" "$chain")"
	accept_bytes= drop_packets=
	if [ ${#counts[@]} -gt 0 ]; then
		accept_bytes=${counts[0]#*:}
		drop_packets=${counts[${#counts[@]} - 1]%%:*}
	fi
	echo "INFO: $what: $chain rule counters (packets:bytes): ${counts[*]}"
	if [ "${#counts[@]}" -ne $# ] || [ "${accept_bytes:-0}" -lt "$SIZE" ]; then
		echo "FAIL: $what: the ACCEPT rule counted ${accept_bytes:-no} bytes, expected at least $SIZE"
		l=1
	fi
	if [ "${drop_packets:-x}" != 0 ]; then
		echo "FAIL: $what: the DROP rule counted ${drop_packets:-no} packets, expected 0"
		l=1
	fi
	malformed=$(rf_stats "$ns" | awk '
		$1 ~ /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/ { n++; s += $4 }
		END { print (n == 5 ? s : "unreadable") }')
	if [ "$malformed" != 0 ]; then
		echo "FAIL: $what: rfctl stats counted $malformed malformed IPv4 headers in the $nsvar namespace, expected 0"
		l=1
	fi
	if [ $l -ne 0 ]; then
		echo "INFO: $what: rfctl -L $chain -v -x -n and rfctl stats in the $nsvar namespace:"
		in_ns "$ns" "$RFCTL" -L "$chain" -v -x -n | sed 's/^/    /'
		rf_stats "$ns" | sed 's/^/    /'
	fi
	rf_check "$what" $l
}

bt_case "BIG TCP through the sender's OUTPUT" server output OUTPUT \
	"-p tcp --dport $PORT -j ACCEPT" \
	"-p tcp -j DROP"
bt_case "BIG TCP through the router's FORWARD" router forward FORWARD \
	"-p tcp --dport $PORT -j ACCEPT" \
	"-p tcp --sport $PORT -j ACCEPT" \
	"-p tcp -j DROP"
bt_case "BIG TCP through the receiver's INPUT" client input INPUT \
	"-p tcp --dport $PORT -j ACCEPT" \
	"-p tcp -j DROP"
bt_case "BIG TCP through the sender's OUTPUT, conntrack" server output OUTPUT \
	"-p tcp -m conntrack --ctstate ESTABLISHED -j ACCEPT" \
	"-p tcp --dport $PORT --syn -m conntrack --ctstate NEW -j ACCEPT" \
	"-p tcp -j DROP"
bt_case "BIG TCP through the router's FORWARD, conntrack" router forward FORWARD \
	"-p tcp -m conntrack --ctstate ESTABLISHED -j ACCEPT" \
	"-p tcp --dport $PORT --syn -m conntrack --ctstate NEW -j ACCEPT" \
	"-p tcp -j DROP"
bt_case "BIG TCP through the receiver's INPUT, state" client input INPUT \
	"-p tcp -m state --state ESTABLISHED -j ACCEPT" \
	"-p tcp --dport $PORT --syn -m state --state NEW -j ACCEPT" \
	"-p tcp -j DROP"
# The router MASQUERADEs the server's connection towards the client: each
# BIG packet leaves the router from 10.0.1.1 (rustfilter's nat table is at
# POSTROUTING priority 100, the witness after it at 200), and the file
# still arrives intact, so the connection's packets both ways were
# translated. (Not checked: the TCP checksum's value. veth hands the
# packets on with the checksum still to be completed, CHECKSUM_PARTIAL,
# and the receiver trusts it; the host tests of the translation check
# the checksum updates.)
BT_NAT="-o veth1 -p tcp -j MASQUERADE" BT_AFTER_PRIORITY=200 BT_AFTER_MATCH="ip saddr 10.0.1.1" \
	bt_case "BIG TCP through the router's POSTROUTING, MASQUERADE" router postrouting FORWARD \
	"-p tcp -m conntrack --ctstate ESTABLISHED -j ACCEPT" \
	"-p tcp --dport $PORT --syn -m conntrack --ctstate NEW -j ACCEPT" \
	"-p tcp -j DROP"

exit $ret
