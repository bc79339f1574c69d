#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that rustfilter registers hook functions only where a ruleset needs
# them (`nft list hooks ip` lists a namespace's hook functions): loaded
# with hook_stats=1 (as rf_load does), a fresh namespace has only the five
# counting hooks (NF_IP_PRI_FIRST), and without it none at all; a table's
# first committed ruleset adds that table's hooks; a table that needs
# connection tracking (-m conntrack, a NAT target) adds conntrack's;
# a refused or --test commit adds none; hooks stay once registered, and
# other namespaces keep theirs. Traffic through the router behaves
# throughout, and the counting hook counts as malformed exactly the
# packets whose IPv4 header is broken.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server

source lib.sh

rf_require_tools
rf_require_module
rf_require_nft_hooks
: "${RFPKT:=$(command -v rfpkt)}"

# "HOOK:PRIORITY" of each group of hooks.
MIN=-2147483648
MAX=2147483647
COUNTING="prerouting:$MIN input:$MIN forward:$MIN output:$MIN postrouting:$MIN"
RAW="prerouting:-300 output:-300"
MANGLE="prerouting:-150 input:-150 forward:-150 output:-150 postrouting:-150"
FILTER="input:0 forward:0 output:0"
CONNTRACK="prerouting:-200 output:-200 input:$MAX postrouting:$MAX"
NAT="prerouting:-100 output:-100 input:100 postrouting:100"

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

setup_ns client router server other
rf_setup_router || exit $ksft_fail

rfr() { ip netns exec "$router" "$RFCTL" "$@"; }

# expect_hooks NS WHAT GROUP...: rustfilter's hook functions in NS are
# exactly those of the named groups (COUNTING, FILTER...), no more.
expect_hooks() {
	local ns=$1 what=$2 g want got
	shift 2

	want=$(for g in "$@"; do echo "${!g}"; done | tr ' ' '\n' | sort)
	if ! got=$(rf_hooks "$ns" | sort); then
		echo "FAIL: $what: nft list hooks failed in $ns"
		return 1
	fi
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: rustfilter's hooks in $ns are not those of $*"
		diff <(echo "$want") <(echo "$got") | grep '^[<>]' |
			sed 's/^</    missing:/; s/^>/    extra:  /'
		return 1
	fi
	return 0
}

# ping_ok FROM DEST: one echo request, answered.
ping_ok() {
	ip netns exec "$1" ping -q -c 1 -W 2 "$2" > /dev/null 2>&1
}

# forwarded WHAT yes|no: whether a ping from the client through the
# router is answered.
forwarded() {
	if ping_ok "$client" 10.0.2.2; then
		[ "$2" = yes ] && return 0
		echo "FAIL: $1: a forwarded ping was answered"
	else
		[ "$2" = no ] && return 0
		echo "FAIL: $1: a forwarded ping was not answered"
	fi
	return 1
}

# A fresh namespace: the counting hooks alone, and they count.
l=0
for ns in "$client" "$router" "$server" "$other"; do
	expect_hooks "$ns" "no ruleset" COUNTING || l=1
done
rf_zero "$router" || l=1
ip netns exec "$client" ping -q -c 3 -W 1 -s 56 10.0.2.2 > /dev/null 2>&1 || l=1
rf_expect_hooks "$router" "forwarded ping, no ruleset" 6 0 6 0 6 84 || l=1
rf_check "no ruleset: only the 5 counting hooks (priority $MIN), forwarded ping counted" $l

# Commits that change nothing register nothing: a ruleset the kernel
# refuses, one rfctl refuses, and --test.
l=0
cat > "$tmpdir/loop" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:a - [0:0]
:b - [0:0]
-A FORWARD -j a
-A a -j b
-A b -j a
COMMIT
EOF
if rfr restore "$tmpdir/loop" > "$tmpdir/out" 2>&1; then
	echo "FAIL: a ruleset whose chains jump in a loop was accepted"
	l=1
else
	echo "INFO: refused: $(head -n 1 "$tmpdir/out")"
fi
if rfr -A FORWARD -j NOSUCHCHAIN > "$tmpdir/out" 2>&1; then
	echo "FAIL: a jump to a missing chain was accepted"
	l=1
fi
cat > "$tmpdir/all" <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 9 -j CT --notrack
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o veth2 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
EOF
if ! rfr restore --test "$tmpdir/all" > "$tmpdir/out" 2>&1; then
	echo "FAIL: restore --test of a valid ruleset failed: $(cat "$tmpdir/out")"
	l=1
fi
expect_hooks "$router" "refused and --test commits" COUNTING || l=1
forwarded "refused and --test commits" yes || l=1
rf_check "a refused commit and restore --test add no hook" $l

# A filter ruleset: filter's hooks (priority 0), nothing of conntrack's
# or nat's; the rules act.
l=0
rfr -A FORWARD -p icmp -j ACCEPT || l=1
expect_hooks "$router" "filter ruleset" COUNTING FILTER || l=1
forwarded "filter ruleset accepting pings" yes || l=1
rfr -I FORWARD -p icmp -j DROP || l=1
forwarded "filter ruleset dropping pings" no || l=1
rfr -F || l=1
# An empty ruleset keeps the hooks, which no longer drop anything.
expect_hooks "$router" "filter ruleset flushed" COUNTING FILTER || l=1
forwarded "filter ruleset flushed" yes || l=1
for ns in "$client" "$server" "$other"; do
	expect_hooks "$ns" "the router's filter ruleset" COUNTING || l=1
done
rf_check "filter ruleset: filter's 3 hooks (priority 0) added, a DROP rule drops; other namespaces unchanged" $l

# -m conntrack: conntrack's hooks (-200, and the confirmation last), and
# tracking runs; with the table flushed the hooks stay but no longer
# track.
l=0
rfr -A FORWARD -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT || l=1
expect_hooks "$router" "conntrack ruleset" COUNTING FILTER CONNTRACK || l=1
rfr conntrack -F > /dev/null 2>&1
forwarded "conntrack ruleset" yes || l=1
if ! rfr conntrack -L -p icmp 2> /dev/null | grep -q "10.0.1.2"; then
	echo "FAIL: conntrack ruleset: the forwarded ping is not tracked:"
	rfr conntrack -L 2>&1 | sed 's/^/    /'
	l=1
fi
rfr -F || l=1
rfr conntrack -F > /dev/null 2>&1
forwarded "conntrack ruleset flushed" yes || l=1
if rfr conntrack -L 2> /dev/null | grep -q "10.0.1.2"; then
	echo "FAIL: conntrack ruleset flushed: the forwarded ping is still tracked"
	l=1
fi
expect_hooks "$router" "conntrack ruleset flushed" COUNTING FILTER CONNTRACK || l=1
rf_check "-m conntrack: conntrack's hooks (-200, $MAX) added, packets tracked while a table needs it" $l

# A nat table: nat's hooks (-100, 100); its MASQUERADE needs tracking
# (registered already here, so check it in a namespace of its own too).
l=0
rfr -t nat -A POSTROUTING -o veth2 -j MASQUERADE || l=1
expect_hooks "$router" "nat ruleset" COUNTING FILTER CONNTRACK NAT || l=1
forwarded "nat ruleset (MASQUERADE)" yes || l=1
if ! rfr conntrack -L -p icmp 2> /dev/null | grep -q "10.0.2.1"; then
	echo "FAIL: nat ruleset: no masqueraded connection:"
	rfr conntrack -L 2>&1 | sed 's/^/    /'
	l=1
fi
ip netns exec "$other" "$RFCTL" -t nat -A POSTROUTING -o eth0 -j MASQUERADE || l=1
expect_hooks "$other" "nat ruleset in a fresh namespace" COUNTING CONNTRACK NAT || l=1
rfr -t nat -F || l=1
# Flushed, the nat table needs no tracking (upstream's NAT targets hold
# conntrack, not the table): the hooks stay, a new ping is not tracked.
rfr conntrack -F > /dev/null 2>&1
forwarded "nat ruleset flushed" yes || l=1
if rfr conntrack -L 2> /dev/null | grep -q "10.0.1.2"; then
	echo "FAIL: nat ruleset flushed: the forwarded ping is still tracked"
	l=1
fi
expect_hooks "$router" "nat ruleset flushed" COUNTING FILTER CONNTRACK NAT || l=1
rf_check "nat table: nat's hooks (-100, 100) and conntrack's added; no tracking once flushed" $l

# raw and mangle: every hook of every group, each once.
l=0
rfr -t raw -A PREROUTING -p udp --dport 9 -j CT --notrack || l=1
expect_hooks "$router" "raw ruleset" COUNTING FILTER CONNTRACK NAT RAW || l=1
rfr -t mangle -A FORWARD -p icmp -j MARK --set-mark 5 || l=1
expect_hooks "$router" "all tables" COUNTING FILTER CONNTRACK NAT RAW MANGLE || l=1
forwarded "all tables" yes || l=1
# Committing again registers nothing twice.
rfr restore "$tmpdir/all" || l=1
expect_hooks "$router" "all tables, committed again" COUNTING FILTER CONNTRACK NAT RAW MANGLE || l=1
forwarded "all tables, committed again" yes || l=1
expect_hooks "$client" "the router's rulesets" COUNTING || l=1
rf_check "raw (-300) and mangle (-150) added; every hook once after more commits" $l

# The counting hook reads the IPv4 header alone: a broken one (version 6,
# sent from a raw socket) is malformed, a truncated TCP header is not.
if [ -z "$RFPKT" ] || [ ! -x "$RFPKT" ]; then
	echo "SKIP: malformed counts: no rfpkt"
else
	l=0
	rf_zero "$router" || l=1
	ip netns exec "$router" "$RFPKT" raw --kind bad-version --src 10.0.2.1 --dst 10.0.2.2 \
		> /dev/null 2>&1 || { echo "FAIL: rfpkt raw --kind bad-version"; l=1; }
	rf_expect "$router" OUTPUT packets 1 "bad version" || l=1
	rf_expect "$router" OUTPUT malformed 1 "bad version" || l=1
	ip netns exec "$router" "$RFPKT" raw --kind trunc-tcp --src 10.0.2.1 --dst 10.0.2.2 \
		> /dev/null 2>&1 || { echo "FAIL: rfpkt raw --kind trunc-tcp"; l=1; }
	rf_expect "$router" OUTPUT packets 2 "truncated TCP header" || l=1
	rf_expect "$router" OUTPUT malformed 1 "truncated TCP header" || l=1
	[ $l -eq 0 ] || rf_stats "$router" | sed 's/^/    /'
	rf_check "counting hook: a bad IPv4 header is malformed, a truncated TCP header is not" $l
fi

# hook_stats=0, the default: no counting hook in any namespace, and `rfctl
# stats` says the counters are off instead of printing zeros; the tables'
# hooks come as before. A hook_stats other than 0 or 1 is refused.
l=0
rf_unload || { echo "FAIL: rmmod rustfilter"; l=1; }
if insmod "$(rf_ko)" hook_stats=2 2> "$tmpdir/err"; then
	echo "FAIL: insmod hook_stats=2 succeeded"
	rf_unload
	l=1
fi
if ! insmod "$(rf_ko)"; then
	echo "FAIL: insmod without parameters failed"
	l=1
else
	for ns in "$client" "$router" "$server" "$other"; do
		expect_hooks "$ns" "hook_stats=0" || l=1
	done
	forwarded "hook_stats=0, no ruleset" yes || l=1
	for cmd in stats "stats --zero"; do
		# shellcheck disable=SC2086 # the command's words
		if rfr $cmd > "$tmpdir/out" 2> "$tmpdir/err"; then
			echo "FAIL: hook_stats=0: rfctl $cmd succeeded: $(cat "$tmpdir/out")"
			l=1
		elif ! grep -q "statistics are off (load the module with hook_stats=1)" "$tmpdir/err"; then
			echo "FAIL: hook_stats=0: rfctl $cmd does not say the statistics are off:"
			sed 's/^/    /' "$tmpdir/err"
			l=1
		fi
	done
	echo "INFO: rfctl stats: $(head -n 1 "$tmpdir/err")"
	rfr -A FORWARD -p icmp -j ACCEPT || l=1
	expect_hooks "$router" "hook_stats=0, filter ruleset" FILTER || l=1
	rfr -I FORWARD -p icmp -j DROP || l=1
	forwarded "hook_stats=0, filter ruleset dropping pings" no || l=1
	expect_hooks "$client" "hook_stats=0, the router's ruleset" || l=1
fi
rf_unload
rf_check "hook_stats=0 (the default): no counting hook, rfctl stats refused with a reason; hook_stats=2 refused" $l

exit $ret
