#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad netlink input changes nothing. With a known ruleset in place,
# nlfuzz sends its fixed malformed cases (each must get the errno, and
# extended ack text, that the kernel code and Documentation/protocol.rst
# give) and then random and mutated messages of every command. Afterwards:
# the ruleset and every counter are exactly as before, traffic is filtered
# as the ruleset says, rfctl still works, the module unloads, and the
# kernel log has no splat (the VM runner checks dmesg after each test too).
#
#   a 10.0.5.1 --veth-- 10.0.5.2 b      the ruleset; nlfuzz runs in b
#   c                                   nlfuzz random --unsafe (commits)
#
# env: NLFUZZ (default: nlfuzz on PATH), RANDOM_COUNT (200000),
#      UNSAFE_COUNT (5000), NLFUZZ_SEED (1)

source lib.sh

rf_require_tools
rf_require_module
: "${NLFUZZ:=$(command -v nlfuzz)}"
if [ -z "$NLFUZZ" ] || [ ! -x "$NLFUZZ" ]; then
	echo "SKIP: Could not run test without nlfuzz"
	exit $ksft_skip
fi

RANDOM_COUNT=${RANDOM_COUNT:-200000}
UNSAFE_COUNT=${UNSAFE_COUNT:-5000}
NLFUZZ_SEED=${NLFUZZ_SEED:-1}
# As scripts/guest-init.sh.
SPLATS='BUG:|WARNING:|KASAN:|UBSAN:|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|Oops|Call Trace|kernel BUG|general protection fault|list_add corruption|list_del corruption|refcount_t:|rcu_sched self-detected stall|soft lockup|hung_task|blocked for more than'

ret=0
tmpdir=$(mktemp -d)
dmesg_lines=$(dmesg | wc -l)

cleanup() {
	cleanup_all_ns
	rm -rf "$tmpdir"
}

trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns a b c
veth_link "$a" eth0 10.0.5.1/24 "$b" eth0 10.0.5.2/24 || exit $ksft_fail

rfb() { ip netns exec "$b" "$RFCTL" "$@"; }
rfc() { ip netns exec "$c" "$RFCTL" "$@"; }

ping_ok() { ip netns exec "$a" ping -q -c 1 -W 1 "$@" 10.0.5.2 > /dev/null 2>&1; }

# rules_of NS: `rfctl save` without the built-in chains' counters (which
# save prints even without -c, as iptables-save does).
rules_of() {
	ip netns exec "$1" "$RFCTL" save | sed -E 's/ \[[0-9]+:[0-9]+\]$/ [0:0]/'
}

# rule_packets NS SPEC: the packet counter of the rule whose -S text is
# SPEC, from `rfctl save -c`.
rule_packets() {
	ip netns exec "$1" "$RFCTL" save -c | awk -v spec="$2" '
		/^\[/ {
			line = $0; sub(/^\[[0-9]+:[0-9]+\] /, "", line)
			if (line == spec) {
				c = $1; gsub(/[^0-9:]/, "", c); split(c, n, ":")
				print n[1]; found = 1
			}
		}
		END { if (!found) print "missing" }'
}

# The known ruleset: pings from a are marked in mangle and accepted by
# the mark in a user chain; big pings are dropped; raw has a rule too.
PING_RULE="-A PINGS -m mark --mark 0x5 -j ACCEPT"
BIG_RULE="-A INPUT -p icmp -m length --length 500:65535 -j DROP"
cat > "$tmpdir/rules" <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp -m udp --dport 9 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p icmp -j MARK --set-xmark 0x5/0xffffffff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:PINGS - [0:0]
$BIG_RULE
-A INPUT -s 10.0.5.1/32 -p icmp -m icmp --icmp-type 8 -j PINGS
-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset
$PING_RULE
-A PINGS -j DROP
COMMIT
EOF

# check_filtering WHAT PINGS BIG: a ping is answered and counted by the
# mark rule, whose count becomes PINGS; a big one is dropped and counted,
# to BIG.
check_filtering() {
	local what=$1 pings=$2 big=$3 l=0 got

	if ! ping_ok; then
		echo "FAIL: $what: ping not answered"
		l=1
	fi
	if ping_ok -s 600; then
		echo "FAIL: $what: a 628-byte ping was answered despite the length rule"
		l=1
	fi
	got=$(rule_packets "$b" "$PING_RULE")
	if [ "$got" != "$pings" ]; then
		echo "FAIL: $what: the mark rule counted $got pings, expected $pings"
		l=1
	fi
	got=$(rule_packets "$b" "$BIG_RULE")
	if [ "$got" != "$big" ]; then
		echo "FAIL: $what: the length rule counted $got pings, expected $big"
		l=1
	fi
	[ $l -eq 0 ] || rfb save -c | sed 's/^/    /'
	return $l
}

l=0
rfb restore < "$tmpdir/rules" || l=1
check_filtering "before nlfuzz" 1 1 || l=1
rules_of "$b" > "$tmpdir/rules.before"
rfb save -c > "$tmpdir/counters.before"
rf_snapshot "$b" > "$tmpdir/stats.before"
rf_check "known ruleset in place and filtering" $l

# same WHAT: the ruleset, its counters and the hook counters of b are
# exactly as recorded.
same() {
	local l=0

	rfb save -c > "$tmpdir/counters.after"
	rf_snapshot "$b" > "$tmpdir/stats.after"
	if ! cmp -s "$tmpdir/counters.before" "$tmpdir/counters.after"; then
		echo "FAIL: $1 changed the ruleset or its counters:"
		diff "$tmpdir/counters.before" "$tmpdir/counters.after" | sed 's/^/    /'
		l=1
	fi
	if ! cmp -s "$tmpdir/stats.before" "$tmpdir/stats.after"; then
		echo "FAIL: $1 changed the hook counters:"
		echo "    before: $(cat "$tmpdir/stats.before")"
		echo "    after:  $(cat "$tmpdir/stats.after")"
		l=1
	fi
	return $l
}

# The fixed cases: every one must get its answer.
l=0
ip netns exec "$b" "$NLFUZZ" badinput -v > "$tmpdir/badinput" 2>&1 || l=1
sed 's/^/    /' "$tmpdir/badinput"
if ! grep -q "^badinput: [0-9]* cases, [0-9]* passed, 0 failed" "$tmpdir/badinput"; then
	l=1
fi
same "nlfuzz badinput" || l=1
rf_check "nlfuzz badinput: every malformed request refused as documented" $l

# Random and mutated messages, in the same namespace; nlfuzz withholds
# what could legitimately change the ruleset or counters (commits without
# RUSTFILTER_A_TEST, reads with RUSTFILTER_A_ZERO, ZERO_STATS).
l=0
start=$(date +%s)
if ! ip netns exec "$b" "$NLFUZZ" random --count "$RANDOM_COUNT" --seed "$NLFUZZ_SEED" \
		> "$tmpdir/random" 2>&1; then
	echo "FAIL: nlfuzz random --count $RANDOM_COUNT --seed $NLFUZZ_SEED failed"
	l=1
fi
sed 's/^/    /' "$tmpdir/random"
echo "# nlfuzz random: $RANDOM_COUNT messages in $(( $(date +%s) - start ))s"
same "nlfuzz random" || l=1
rf_check "nlfuzz random: $RANDOM_COUNT messages change nothing" $l

l=0
check_filtering "after nlfuzz" 2 2 || l=1
rf_check "traffic filtered by the same ruleset after fuzzing" $l

# rfctl works as before: append, list, delete, test-restore, restore.
l=0
rfb -A INPUT -p udp --dport 7 -j DROP || l=1
if ! rfb -S INPUT | grep -q -- "-A INPUT -p udp -m udp --dport 7 -j DROP"; then
	echo "FAIL: rfctl -A after fuzzing: rule not listed"
	l=1
fi
rfb -D INPUT -p udp --dport 7 -j DROP || l=1
rfb restore --test < "$tmpdir/rules" || l=1
rfb -Z || l=1
rfb restore < "$tmpdir/rules" || l=1
rules_of "$b" > "$tmpdir/rules.after"
if ! cmp -s "$tmpdir/rules.before" "$tmpdir/rules.after"; then
	echo "FAIL: the ruleset after rfctl commands differs:"
	diff "$tmpdir/rules.before" "$tmpdir/rules.after" | sed 's/^/    /'
	l=1
fi
check_filtering "after rfctl commands" 1 1 || l=1
rf_check "rfctl commands work after fuzzing" $l

# Unsafe fuzzing, commits included, in a namespace of its own: b is not
# touched, and c's tables can still be read and replaced.
l=0
ip netns exec "$c" "$RFCTL" restore < "$tmpdir/rules" || l=1
rfb save -c > "$tmpdir/counters.before"
rf_snapshot "$b" > "$tmpdir/stats.before"
if ! ip netns exec "$c" "$NLFUZZ" random --unsafe --count "$UNSAFE_COUNT" --seed "$NLFUZZ_SEED" \
		> "$tmpdir/unsafe" 2>&1; then
	echo "FAIL: nlfuzz random --unsafe --count $UNSAFE_COUNT --seed $NLFUZZ_SEED failed"
	l=1
fi
sed 's/^/    /' "$tmpdir/unsafe"
same "nlfuzz random --unsafe in another namespace" || l=1
if ! rfc save > "$tmpdir/c.save" 2> "$tmpdir/c.err"; then
	echo "FAIL: rfctl save in the fuzzed namespace:"
	sed 's/^/    /' "$tmpdir/c.err"
	l=1
fi
rfc restore < "$tmpdir/rules" || l=1
rules_of "$c" > "$tmpdir/c.save"
if ! cmp -s "$tmpdir/rules.before" "$tmpdir/c.save"; then
	echo "FAIL: restore in the fuzzed namespace did not give the known ruleset"
	l=1
fi
rf_check "nlfuzz random --unsafe: other namespaces untouched, tables still usable" $l

# The module unloads once the namespaces are gone.
l=0
cleanup_all_ns
if ! busywait 5000 rmmod rustfilter > /dev/null 2>&1; then
	echo "FAIL: rmmod rustfilter failed"
	l=1
fi
if rf_loaded; then
	echo "FAIL: rustfilter still loaded"
	l=1
fi
rf_check "module unloads after fuzzing" $l

l=0
if dmesg | tail -n +$((dmesg_lines + 1)) | grep -E "$SPLATS" > "$tmpdir/splat"; then
	echo "FAIL: kernel splat in dmesg:"
	sed 's/^/    /' "$tmpdir/splat"
	l=1
fi
rf_check "no kernel splat" $l

exit $ret
