#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Memory leaks, found by kmemleak (CONFIG_DEBUG_KMEMLEAK, kernel/debug.config:
# off unless the kernel command line has kmemleak=on, no periodic scan,
# scans happen here). It skips when kmemleak is off: `make check` runs it in
# a VM of its own booted with kmemleak=on (scripts/check.sh); listed last,
# so that `VM_APPEND=kmemleak=on scripts/vm.sh check` scans after the whole
# suite.
#
# 1. A workload of its own, so that the test means something alone: a
#    router with filter rules (a user chain, ACCEPT and REJECT), MASQUERADE,
#    conntrack with an FTP helper entry, a queue with a listener and
#    packets queued, a refused commit, KMEMLEAK_FUZZ (20,000) random
#    messages to the rustfilter family with commits (`nlfuzz random
#    --unsafe`) and as many to the queue subsystem with packets queued
#    (`nlfuzz queue`), so that the error paths are covered; the namespaces
#    are then deleted with traffic and queued packets in flight.
# 2. The module is unloaded.
# 3. After kmemleak's minimum age (5 s), two scans. A reported object is
#    rustfilter's if a frame of its allocation backtrace names rustfilter
#    (module loaded) or is a bare address (%pS of an address no symbol
#    holds: the text of a module no longer loaded; the suite loads and
#    unloads rustfilter many times, the upstream modules it uses stay
#    loaded once loaded). Any such object fails the test; other suspects
#    are counted as INFO (the core kernel has known false positives).
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server

source lib.sh

rf_require_tools
rf_require_module
KMEMLEAK=/sys/kernel/debug/kmemleak

: "${NLFUZZ:=$(command -v nlfuzz)}"
: "${KMEMLEAK_FUZZ:=20000}"
: "${NLFUZZ_SEED:=1}"

ret=0
tmp=$(mktemp -d)
trap 'cleanup_all_ns; rm -rf "$tmp"' EXIT

if [ ! -e "$KMEMLEAK" ]; then
	mount -t debugfs none /sys/kernel/debug 2> /dev/null
fi
if [ ! -e "$KMEMLEAK" ]; then
	# The test kernel has it (kernel/debug.config): its absence is a
	# failure of the build, not a reason to skip.
	echo "FAIL: no $KMEMLEAK: the kernel lacks CONFIG_DEBUG_KMEMLEAK"
	exit $ksft_fail
fi
# Disabled (kmemleak=off, or the default off without kmemleak=on), it
# refuses every command but "clear" and "off".
if ! echo stack=on 2> /dev/null > "$KMEMLEAK"; then
	echo "SKIP: kmemleak is off (boot with kmemleak=on; scripts/check.sh does)"
	exit $ksft_skip
fi
if dmesg | grep -q "kmemleak: .*disabled"; then
	echo "FAIL: kmemleak disabled itself:"
	dmesg | grep "kmemleak" | head -n 5 | sed 's/^/    /'
	exit $ksft_fail
fi

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

# 1. The workload.
setup_ns client router server
rf_setup_router || exit $ksft_fail
printf '%s\n' '*filter' ':FORWARD ACCEPT [0:0]' ':checks - [0:0]' \
	'-A FORWARD -p tcp --dport 9 -j REJECT --reject-with tcp-reset' \
	'-A FORWARD -p udp --dport 5001 -j NFQUEUE --queue-num 3' \
	'-A FORWARD -j checks' \
	'-A checks -m conntrack --ctstate INVALID -j DROP' \
	'-A checks -p icmp -j ACCEPT' 'COMMIT' \
	'*nat' '-A POSTROUTING -o veth2 -j MASQUERADE' 'COMMIT' \
	'*raw' '-A PREROUTING -p tcp --dport 21 -j CT --helper ftp' 'COMMIT' |
	ip netns exec "$router" "$RFCTL" restore || { echo "FAIL: rules"; exit $ksft_fail; }
# A refused commit (a jump to nowhere) leaves the rules as they are.
if printf '*filter\n-A FORWARD -j nowhere\nCOMMIT\n' |
	ip netns exec "$router" "$RFCTL" restore 2> /dev/null; then
	echo "FAIL: a jump to a missing chain was taken"
	ret=1
fi
ip netns exec "$router" "$RFCTL" queue --num 3 > "$tmp/q.out" 2> "$tmp/q.err" &
qpid=$!
if ! busywait 5000 grep -q '^bound ' "$tmp/q.out"; then
	echo "FAIL: rfctl queue did not bind: $(cat "$tmp/q.err")"
	ret=1
fi
ip netns exec "$client" ping -c 3 -i 0.2 -W 2 10.0.2.2 > /dev/null || {
	echo "FAIL: no ping through the router"
	ret=1
}
# Queued UDP (accepted by the listener), a rejected TCP SYN, an FTP
# control connection's first SYN (helper attached), plain UDP flows.
for port in 5001 5001 5001 9 21 7 8 10; do
	proto=udp
	case $port in 9 | 21) proto=tcp ;; esac
	if [ $proto = tcp ]; then
		ip netns exec "$client" timeout 2 bash -c \
			"exec 3<> /dev/tcp/10.0.2.2/$port" 2> /dev/null
	else
		ip netns exec "$client" bash -c "echo x > /dev/udp/10.0.2.2/$port"
	fi
done
if ! busywait 5000 grep -q 'verdict' "$tmp/q.out"; then
	echo "INFO: the listener printed no verdict: $(head -c 300 "$tmp/q.out")"
fi
# Fuzzed netlink: the family's error paths and commits, and the queue
# subsystem's with the listener's packets queued.
if [ -x "$NLFUZZ" ]; then
	for udp in 1 2 3; do
		ip netns exec "$client" bash -c 'echo x > /dev/udp/10.0.2.2/5001'
	done
	if ! ip netns exec "$router" "$NLFUZZ" queue --count "$KMEMLEAK_FUZZ" \
			--seed "$NLFUZZ_SEED" --queues 0:3 > "$tmp/nlq" 2>&1; then
		echo "FAIL: nlfuzz queue --count $KMEMLEAK_FUZZ failed: $(tail -n 3 "$tmp/nlq")"
		ret=1
	fi
	setup_ns fuzz
	if ! ip netns exec "$fuzz" "$NLFUZZ" random --unsafe --count "$KMEMLEAK_FUZZ" \
			--seed "$NLFUZZ_SEED" > "$tmp/nlr" 2>&1; then
		echo "FAIL: nlfuzz random --unsafe --count $KMEMLEAK_FUZZ failed: $(tail -n 3 "$tmp/nlr")"
		ret=1
	fi
	echo "INFO: $KMEMLEAK_FUZZ fuzzed messages each to the queue subsystem and the rustfilter family"
else
	echo "FAIL: no nlfuzz: the fuzz rounds cannot run"
	ret=1
fi
entries=$(ip netns exec "$router" "$RFCTL" conntrack -C 2> /dev/null)
echo "INFO: $entries connections tracked on the router"
# Packets queued with no listener left: the listener is killed, then more
# are queued (dropped: no listener) and the namespaces go.
kill "$qpid" 2> /dev/null
wait "$qpid" 2> /dev/null
ip netns exec "$client" bash -c 'echo x > /dev/udp/10.0.2.2/5001'
cleanup_all_ns

# 2. Unload.
rf_unload
if rf_loaded; then
	echo "FAIL: rustfilter did not unload"
	exit $ksft_fail
fi

# 3. Scan. An object must be older than 5 s to be reported.
sleep 6
echo scan > "$KMEMLEAK"
sleep 1
echo scan > "$KMEMLEAK"
cat "$KMEMLEAK" > "$tmp/report"

# One record per "unreferenced object" paragraph; ours if a backtrace line
# ("symbol+off/size [module]", in 6.12 without the "[<address>]" older
# kernels print first) names rustfilter or is a bare 0xffffffff... address.
# (Checked: with a 100-byte KVec forgotten in the module's init, kmemleak
# reported the object with two bare frames under kvec::with_capacity, and
# this pattern picks it out; an earlier pattern that wanted "[<...>]" let
# it through.)
: > "$tmp/ours"
awk -v out="$tmp/ours" '
	function flush() {
		if (rec != "") { n++; if (mine) { m++; printf "%s", rec >> out } }
		rec = ""; mine = 0
	}
	/^unreferenced object/ { flush() }
	{
		rec = rec $0 "\n"
		if ($0 ~ /rustfilter/ || $0 ~ /^[ \t]*(\[<[0-9a-f]+>\] )?0xffffffff[0-9a-f]+[ \t]*$/)
			mine = 1
	}
	END { flush(); print n + 0, m + 0 }
' "$tmp/report" > "$tmp/counts"
read -r all ours < "$tmp/counts"
echo "INFO: kmemleak reports $all suspected leaks, $ours of them rustfilter's"
if [ "$ours" -ne 0 ]; then
	echo "FAIL: rustfilter leaked memory:"
	sed 's/^/    /' "$tmp/ours" | head -n 120
	ret=1
elif [ "$all" -ne 0 ]; then
	echo "INFO: the first suspect (not rustfilter's):"
	awk '/^unreferenced object/ { n++ } n == 1' "$tmp/report" | head -n 20 | sed 's/^/    /'
fi

rf_check "kmemleak: no leak from rustfilter after the suite and a workload of its own" $ret
exit $ret
