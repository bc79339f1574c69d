#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that zeroing rustfilter's counters needs CAP_NET_ADMIN while reading
# them does not: user nobody can read but not zero, root can zero.

source lib.sh

rf_require_tools
rf_require_module
if ! command -v su > /dev/null 2>&1 || ! su -s /bin/sh nobody -c true > /dev/null 2>&1; then
	echo "SKIP: Could not run commands as user nobody with su"
	exit $ksft_skip
fi

ret=0
tmpdir=$(mktemp -d)
chmod 755 "$tmpdir"

cleanup() {
	cleanup_all_ns
	rm -rf "$tmpdir"
}

trap cleanup EXIT

# as_nobody NS CMD...: run CMD as uid 65534 in namespace NS.
as_nobody() {
	local ns=$1; shift

	ip netns exec "$ns" su -s /bin/sh nobody -c "$*"
}

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns ns1

uid=$(as_nobody "$ns1" id -u)
if [ "$uid" != 65534 ]; then
	echo "FAIL: su nobody runs as uid ${uid:-<none>}, expected 65534"
	exit $ksft_fail
fi

# Something to count: two loopback pings, four packets at each local hook.
if ! ip netns exec "$ns1" ping -q -c 2 -W 1 127.0.0.1 > /dev/null 2>&1; then
	echo "FAIL: ping 127.0.0.1 in $ns1 failed"
	exit $ksft_fail
fi
before=$(rf_snapshot "$ns1")
lret=0
rf_expect_hooks "$ns1" "before" 4 4 0 4 4 84 || lret=1

as_nobody "$ns1" "$RFCTL" stats --zero > "$tmpdir/out" 2> "$tmpdir/err"
rc=$?
if [ $rc -ne 1 ]; then
	echo "FAIL: rfctl stats --zero as nobody exited $rc, expected 1"
	lret=1
fi
if ! grep -qi "permission denied" "$tmpdir/err"; then
	echo "FAIL: rfctl stats --zero as nobody: no \"permission denied\" on stderr"
	sed 's/^/    stderr: /' "$tmpdir/err"
	lret=1
fi
after=$(rf_snapshot "$ns1")
if [ -z "$before" ] || [ "$before" != "$after" ]; then
	echo "FAIL: counters changed by the refused zeroing"
	echo "    before: $before"
	echo "    after:  $after"
	lret=1
fi
if [ $lret -eq 0 ]; then
	echo "PASS: nobody cannot zero the counters"
else
	ret=1
fi

lret=0
if ! as_nobody "$ns1" "$RFCTL" stats > "$tmpdir/out" 2> "$tmpdir/err"; then
	echo "FAIL: rfctl stats as nobody failed"
	sed 's/^/    stderr: /' "$tmpdir/err"
	lret=1
fi
got=$(awk '$1 == "OUTPUT" { print $2 }' "$tmpdir/out")
if [ "$got" != 4 ]; then
	echo "FAIL: OUTPUT packets read as nobody is ${got:-<none>}, expected 4"
	sed 's/^/    /' "$tmpdir/out"
	lret=1
fi
if [ $lret -eq 0 ]; then
	echo "PASS: nobody can read the counters"
else
	ret=1
fi

lret=0
if ! rf_zero "$ns1"; then
	echo "FAIL: rfctl stats --zero as root failed"
	lret=1
fi
rf_expect_hooks "$ns1" "after zeroing as root" 0 0 0 0 0 0 || lret=1
if [ $lret -eq 0 ]; then
	echo "PASS: root can zero the counters"
else
	ret=1
fi

# Root of a user namespace that does not own the network namespace has no
# CAP_NET_ADMIN there: EPERM, counters unchanged.
lret=0
ip netns exec "$ns1" ping -q -c 1 -W 1 127.0.0.1 > /dev/null 2>&1
before=$(rf_snapshot "$ns1")
if ! ip netns exec "$ns1" unshare -U -r true 2> /dev/null; then
	echo "SKIP: user namespaces unavailable; userns checks not run"
else
	ip netns exec "$ns1" unshare -U -r "$RFCTL" stats --zero > "$tmpdir/out" 2> "$tmpdir/err"
	rc=$?
	if [ $rc -ne 1 ] || ! grep -qi "permission denied" "$tmpdir/err"; then
		echo "FAIL: root of a foreign user namespace: rfctl stats --zero exited $rc"
		sed 's/^/    stderr: /' "$tmpdir/err"
		lret=1
	fi
	after=$(rf_snapshot "$ns1")
	if [ "$before" != "$after" ]; then
		echo "FAIL: counters changed by a zeroing from a foreign user namespace"
		lret=1
	fi
	# A container: its own user and network namespace; root there manages
	# its own counters (loopback ping counted, then zeroed).
	ip netns exec "$ns1" unshare -U -r -n sh -c "
		ip link set lo up && ping -q -c 1 -W 1 127.0.0.1 > /dev/null &&
		$RFCTL stats | awk '\$1 == \"OUTPUT\" { exit (\$2 == 2 ? 0 : 1) }' &&
		$RFCTL stats --zero &&
		$RFCTL stats | awk '\$1 == \"OUTPUT\" { exit (\$2 == 0 ? 0 : 1) }'
	" > "$tmpdir/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: root of a container's own user+net namespace could not manage its counters"
		sed 's/^/    /' "$tmpdir/out"
		lret=1
	fi
	if [ $lret -eq 0 ]; then
		echo "PASS: CAP_NET_ADMIN is checked in the user namespace owning the netns"
	else
		ret=1
	fi
fi

exit $ret
