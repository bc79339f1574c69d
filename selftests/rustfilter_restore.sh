#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check rfctl save/restore and big rulesets: 100,000 rules commit in one
# transaction and are all in force (the packet is accepted by the last
# rule and counted there), save output restores to an identical ruleset,
# --test changes nothing, and a bad input line is named by number while the
# running ruleset stays as it was.

source lib.sh

rf_require_tools
rf_require_module

NRULES=${NRULES:-100000}
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

setup_ns a b
veth_link "$a" eth0 10.0.3.1/24 "$b" eth0 10.0.3.2/24 || exit $ksft_fail

rfa() { ip netns exec "$a" "$RFCTL" "$@"; }


# NRULES-1 rules that never match a ping from b, then one that accepts it,
# under a DROP policy: a ping answered means the whole chain is in force.
awk -v n="$NRULES" 'BEGIN {
	print "*filter"
	print ":INPUT DROP [0:0]"
	print ":FORWARD ACCEPT [0:0]"
	print ":OUTPUT ACCEPT [0:0]"
	for (i = 0; i < n - 1; i++)
		printf "-A INPUT -s 172.%d.%d.%d/32 -p udp -m udp --dport %d -j DROP\n",
			16 + int(i / 65536) % 16, int(i / 256) % 256, i % 256, 1 + i % 60000
	print "-A INPUT -s 10.0.3.2/32 -p icmp -j ACCEPT"
	print "COMMIT"
}' > "$tmpdir/big"

l=0
start=$(date +%s)
if ! rfa restore < "$tmpdir/big" 2> "$tmpdir/err"; then
	echo "FAIL: restore of $NRULES rules failed"
	sed 's/^/    /' "$tmpdir/err"
	l=1
fi
echo "# restore of $NRULES rules took $(( $(date +%s) - start ))s"
if ! ip netns exec "$b" ping -q -c 1 -W 2 10.0.3.1 > /dev/null 2>&1; then
	echo "FAIL: the last of $NRULES rules did not accept the ping"
	l=1
fi
n=$(rfa save -t filter | grep -c '^-A INPUT')
if [ "$n" != "$NRULES" ]; then
	echo "FAIL: save shows $n rules, expected $NRULES"
	l=1
fi
last=$(rfa save -c -t filter | grep -- '-s 10.0.3.2/32 -p icmp -j ACCEPT')
case "$last" in
"[1:84] "*|"[2:168] "*) ;;
*)	echo "FAIL: the accepting rule's counters: $last"; l=1 ;;
esac
rf_check "$NRULES rules in one transaction, all in force" $l

# save -> restore -> save is the identity (with counters).
l=0
rfa save -c > "$tmpdir/s1"
rfa restore --counters < "$tmpdir/s1" || l=1
rfa save -c > "$tmpdir/s2"
if ! cmp -s "$tmpdir/s1" "$tmpdir/s2"; then
	echo "FAIL: save output did not restore to the same ruleset"
	diff "$tmpdir/s1" "$tmpdir/s2" | head -10
	l=1
fi
rf_check "save output restores to an identical ruleset" $l

# Small rulesets from here on.
rfa -F
rfa -P INPUT ACCEPT
rfa -A INPUT -p tcp --dport 22 -j ACCEPT
rfa save > "$tmpdir/before"

l=0
printf '*filter\n-A INPUT -j DROP\nCOMMIT\n' > "$tmpdir/drop"
rfa restore --test < "$tmpdir/drop" || l=1
rfa save > "$tmpdir/after"
cmp -s "$tmpdir/before" "$tmpdir/after" || { echo "FAIL: restore --test changed the ruleset"; l=1; }
rf_check "restore --test changes nothing" $l

l=0
printf '*filter\n-A INPUT -p icmp -j ACCEPT\n-A INPUT -p tcp --frobnicate 1 -j DROP\nCOMMIT\n' > "$tmpdir/bad"
if rfa restore < "$tmpdir/bad" 2> "$tmpdir/err"; then
	echo "FAIL: a ruleset with an unknown option was restored"
	l=1
fi
if ! grep -q "line 3" "$tmpdir/err" || ! grep -q -- "--frobnicate" "$tmpdir/err"; then
	echo "FAIL: the error does not name line 3 and the option"
	sed 's/^/    /' "$tmpdir/err"
	l=1
fi
printf '*filter\n-A INPUT -j NOWHERE\nCOMMIT\n' > "$tmpdir/bad2"
if rfa restore < "$tmpdir/bad2" 2> "$tmpdir/err"; then
	echo "FAIL: a jump to a missing chain was restored"
	l=1
fi
rfa save > "$tmpdir/after"
cmp -s "$tmpdir/before" "$tmpdir/after" || { echo "FAIL: a refused restore changed the ruleset"; l=1; }
rf_check "bad input named by line, running ruleset untouched" $l

exit $ret
