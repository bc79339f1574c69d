#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may change rustfilter's state. Reading the hook counters needs no
# privilege; everything else needs CAP_NET_ADMIN in the user namespace that
# owns the network namespace:
#
# - user nobody can read but not zero the counters, root can zero them;
# - user nobody (uid 65534) and root of a user namespace that does not own
#   the network namespace (unshare -U -r) get EPERM (rfctl exits 1 with the
#   documented message) for every changing command: -A -D -I -R -F -Z -N -X
#   -E -P in the four tables, -L -Z, stats -Z, restore (with and without
#   --noflush), conntrack -D, -F, --set-max, --set-timeout,
#   --set-auto-helper, and the bind of an unbound netlink queue (rfctl
#   queue); and for the reads that need CAP_NET_ADMIN as iptables' do (-L,
#   -S, save, conntrack -L, -C, -S, -E). After each, the namespace's rules
#   and counters (rfctl save -c), connections (without their timeouts),
#   maximum, hook counters and bound queues are exactly as before, and a
#   new connection still gets the timeout root set. Then nlfuzz random
#   --unsafe (every command, commits and zeroing included) from both
#   changes nothing either;
# - root of a container's own user and network namespace (unshare -U -r
#   -n) sees none of the rules of the namespace it was made from, installs
#   and lists its own, binds its own queue and gets its packets; while it
#   runs, neither that namespace nor the initial one shows its rules or
#   queue.
#
# Each refusal check was seen to fail once with root running the command
# instead (exit 0, the state changed).

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
	have_userns=1
fi

##############################################################################
# Every changing command refused, nothing changed

# A ruleset in all four tables, with user chains (one empty), counters,
# connection tracking in use and an NFQUEUE rule.
cat > "$tmpdir/rules" << 'EOF_RULES'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp --dport 69 -j CT --helper tftp
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -p icmp -j MARK --set-mark 0x7
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth9 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:RFPRIV_EMPTY - [0:0]
:RFPRIV_USER - [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p udp --dport 4242 -j RFPRIV_USER
-A INPUT -i lo -j ACCEPT
-A OUTPUT -p udp --dport 4243 -j NFQUEUE --queue-num 3 --queue-bypass
-A RFPRIV_USER -j DROP
COMMIT
EOF_RULES
# What the refused restores would have committed.
sed 's/--dport 4242/--dport 4299/; s/FORWARD DROP/FORWARD ACCEPT/' "$tmpdir/rules" > "$tmpdir/other"
printf '*filter\n:RFPRIV_NEW - [0:0]\n-A INPUT -p tcp --dport 9 -j DROP\nCOMMIT\n' > "$tmpdir/more"
chmod 644 "$tmpdir"/*

setup_ns ns2
# in2 CMD...: CMD in $ns2 (nsenter: cheaper than ip netns exec, which also
# makes a mount namespace and remounts /sys; this part runs ~250 commands).
in2() { nsenter --net="/run/netns/$ns2" "$@"; }
rfr2() { in2 "$RFCTL" "$@"; }
lret=0
if ! out=$(rfr2 restore < "$tmpdir/rules" 2>&1) ||
	! out=$(rfr2 conntrack --set-timeout icmp=600 2>&1); then
	echo "FAIL: root could not set up $ns2: $out"
	exit $ksft_fail
fi

# ns2_state WHAT: what of $ns2 a refused command could have changed:
# rules, policies and counters (rfctl save -c) always; with WHAT all or
# conntrack the connections (without the seconds left) and the maximum,
# with all or stats the hook counters, with all or queue the bound queues.
ns2_state() {
	rfr2 save -c 2>&1
	case "$1" in
	all | conntrack)
		echo "# connections"
		rfr2 conntrack -L 2> /dev/null | awk '{ $3 = ""; print }' | sort
		echo "# max: $(rfr2 conntrack -S 2> /dev/null | tr ' \t' '\n\n' | sed -n 's/^max=//p')"
		;;
	esac
	case "$1" in
	all | stats) echo "# hooks"; rfr2 stats 2>&1 ;;
	esac
	case "$1" in
	all | queue) echo "# queues"; in2 cat /proc/net/netfilter/nfnetlink_queue 2>&1 ;;
	esac
}

# ns2_connections: root pings itself twice (two ICMP ids: two
# connections, kept 600 s) and checks that each new one got 600 s, not
# what a refused --set-timeout asked for.
ns2_connections() {
	local secs

	rfr2 conntrack -F > /dev/null 2>&1
	in2 ping -q -c 1 -W 1 127.0.0.1 > /dev/null 2>&1
	in2 ping -q -c 1 -W 1 127.0.0.1 > /dev/null 2>&1
	secs=$(rfr2 conntrack -L -p icmp 2> /dev/null | awk '{ print $3 }' | sort -n | head -n 1)
	if [ "$(rfr2 conntrack -C 2> /dev/null)" != 2 ] || [ -z "$secs" ] || [ "$secs" -lt 500 ]; then
		echo "FAIL: $1: root's pings in $ns2 made $(rfr2 conntrack -C 2>&1) connections, the newest with ${secs:-?} s left, expected 2 with about 600 s:"
		rfr2 conntrack -L 2>&1 | sed 's/^/    /'
		return 1
	fi
}

# show_diff OLD NEW: how NEW differs from OLD (no /dev/fd in the VM for
# diff <(...)).
show_diff() {
	echo "$1" > "$tmpdir/old"
	echo "$2" > "$tmpdir/new"
	diff "$tmpdir/old" "$tmpdir/new" | sed 's/^/    /'
}

# as_user KIND CMDLINE: the shell command line CMDLINE in $ns2 as user
# nobody (KIND nobody), or as root of a new user namespace that does not
# own $ns2 (KIND userns: all capabilities, but in that user namespace).
as_user() {
	case $1 in
	nobody) in2 su -s /bin/sh nobody -c "$2" ;;
	userns) in2 unshare -U -r sh -c "$2" ;;
	esac
}

# The commands: the changing ones, then the reads that need CAP_NET_ADMIN.
# The queue bind and -E would run until stopped if they were allowed.
R=$RFCTL
cmds=(
	"$R -A INPUT -p tcp --dport 1 -j DROP"
	"$R -D INPUT 1"
	"$R -D INPUT -i lo -j ACCEPT"
	"$R -I INPUT 1 -p tcp --dport 2 -j DROP"
	"$R -R INPUT 1 -p tcp --dport 3 -j DROP"
	"$R -F"
	"$R -F INPUT"
	"$R -Z"
	"$R -Z INPUT 1"
	"$R -L -Z"
	"$R -N RFPRIV_NEW"
	"$R -X RFPRIV_EMPTY"
	"$R -X"
	"$R -E RFPRIV_EMPTY RFPRIV_RENAMED"
	"$R -P FORWARD ACCEPT"
	"$R -t nat -A POSTROUTING -o eth8 -j MASQUERADE"
	"$R -t nat -F"
	"$R -t mangle -D OUTPUT 1"
	"$R -t mangle -P OUTPUT DROP"
	"$R -t raw -F"
	"$R stats --zero"
	"$R restore < $tmpdir/other"
	"$R restore --noflush < $tmpdir/more"
	"$R restore -T filter < $tmpdir/other"
	"$R conntrack -D"
	"$R conntrack -D -p icmp"
	"$R conntrack -F"
	"$R conntrack --set-max 1"
	"$R conntrack --set-timeout icmp=7"
	"$R conntrack --set-auto-helper off"
	"timeout 5 $R queue --num 7 --count 1"
	"timeout 5 $R queue --num 3 --hold"
	"$R -L"
	"$R -S"
	"$R save"
	"$R conntrack -L"
	"$R conntrack -C"
	"$R conntrack -S"
	"timeout 5 $R conntrack -E --event-timeout 1"
)

# refused KIND: every command as KIND: status 1, EPERM's message on
# standard error, no "bound" line from rfctl queue, and $ns2 as it was
# (what the command could change after each, everything at the end).
refused() {
	local kind=$1 c w rc now n=0 lret=0 t0
	local -A base

	t0=$(timestamp_ms)
	ns2_connections "$kind: before" || lret=1
	for w in all rules conntrack stats queue; do
		base[$w]=$(ns2_state $w)
	done
	for c in "${cmds[@]}"; do
		case "$c" in
		*conntrack*) w=conntrack ;;
		*stats*) w=stats ;;
		*queue*) w=queue ;;
		*) w=rules ;;
		esac
		as_user "$kind" "$c" > "$tmpdir/out" 2> "$tmpdir/err"
		rc=$?
		now=$(ns2_state $w)
		n=$((n + 1))
		if [ $rc -ne 1 ] ||
			! grep -Eq "permission denied: changing rustfilter state needs CAP_NET_ADMIN|Operation failed: Operation not permitted|EPERM \(Operation not permitted\)" "$tmpdir/err" ||
			grep -q "^bound " "$tmpdir/out"; then
			echo "FAIL: $kind: ${c#"$R "} exited $rc, expected 1 with EPERM's message:"
			sed 's/^/    stdout: /' "$tmpdir/out" | head -n 5
			sed 's/^/    stderr: /' "$tmpdir/err" | head -n 5
			lret=1
		fi
		if [ "${base[$w]}" != "$now" ]; then
			echo "FAIL: $kind: ${c#"$R "} changed $ns2:"
			show_diff "${base[$w]}" "$now"
			lret=1
		fi
	done
	now=$(ns2_state all)
	if [ "${base[all]}" != "$now" ]; then
		echo "FAIL: $kind: $ns2 changed:"
		show_diff "${base[all]}" "$now"
		lret=1
	fi
	# A connection made now gets the timeout root set (600 s).
	ns2_connections "$kind: after" || lret=1
	echo "INFO: $kind: $n commands in $(( ($(timestamp_ms) - t0) / 1000 )) s"
	return $lret
}

# Who the two are.
lret=0
out=$(as_user nobody 'id -u; grep ^CapEff: /proc/self/status')
if ! [[ $out =~ ^65534.*CapEff:[[:space:]]*0+$ ]]; then
	echo "FAIL: su nobody is not uid 65534 without capabilities: $out"
	lret=1
fi
refused nobody > "$tmpdir/refused" 2>&1 || lret=1
cat "$tmpdir/refused"
rf_check "user nobody refused every changing command (EPERM), nothing changed" $lret

if [ "${have_userns:-0}" -eq 1 ]; then
	lret=0
	out=$(as_user userns 'id -u; grep ^CapEff: /proc/self/status')
	if ! [[ $out =~ ^0.*CapEff:[[:space:]]*0*[1-9a-f][0-9a-f]*$ ]]; then
		echo "FAIL: unshare -U -r is not uid 0 with capabilities: $out"
		lret=1
	fi
	refused userns > "$tmpdir/refused" 2>&1 || lret=1
	cat "$tmpdir/refused"
	rf_check "root of a user namespace not owning the network namespace refused every changing command (EPERM), nothing changed" $lret
fi

# Random and mutated requests of every command, commits without
# RUSTFILTER_A_TEST and zeroing included (--unsafe), from both: all
# refused but GET_STATS.
NLFUZZ=$(command -v nlfuzz)
if [ -z "$NLFUZZ" ]; then
	echo "INFO: no nlfuzz; the random requests were not sent"
else
	lret=0
	t0=$(timestamp_ms)
	ns2_connections "before nlfuzz" || lret=1
	base=$(ns2_state all)
	for kind in nobody userns; do
		[ $kind = userns ] && [ "${have_userns:-0}" -ne 1 ] && continue
		if ! as_user $kind "$NLFUZZ random --unsafe --count 3000 --seed 7" > "$tmpdir/fuzz" 2>&1; then
			echo "FAIL: nlfuzz random as $kind failed:"
			tail -n 5 "$tmpdir/fuzz" | sed 's/^/    /'
			lret=1
		fi
		eperm=$(awk '$1 == "EPERM" { print $2 }' "$tmpdir/fuzz")
		acks=$(awk '$1 == "0" && $2 == "(ack)" { print $3 }' "$tmpdir/fuzz")
		echo "INFO: nlfuzz random --unsafe as $kind: ${eperm:-0} EPERM, ${acks:-0} acks (GET_STATS)"
		if [ "${eperm:-0}" -lt 100 ]; then
			echo "FAIL: nlfuzz random as $kind: only ${eperm:-0} EPERM answers:"
			sed -n '/errnos seen/,/extended ack/p' "$tmpdir/fuzz" | sed 's/^/    /'
			lret=1
		fi
		now=$(ns2_state all)
		if [ "$base" != "$now" ]; then
			echo "FAIL: nlfuzz random --unsafe as $kind changed $ns2:"
			show_diff "$base" "$now"
			lret=1
		fi
	done
	ns2_connections "after nlfuzz" || lret=1
	echo "INFO: nlfuzz: $(( ($(timestamp_ms) - t0) / 1000 )) s"
	rf_check "3000 random requests of every command from the unprivileged change nothing" $lret
fi

##############################################################################
# A container: its own user and network namespace

if [ "${have_userns:-0}" -eq 1 ]; then
	lret=0
	t0=$(timestamp_ms)
	init_save=$("$RFCTL" save 2>&1)
	init_queues=$(cat /proc/net/netfilter/nfnetlink_queue 2>&1)
	base=$(ns2_state all)
	# Made from $ns2: its rules must not show inside, the container's
	# not outside. Steps are told by files in $tmpdir (root of the
	# container is root outside: it may write there).
	cat > "$tmpdir/container.sh" << 'EOF_CTR'
R=$1 dir=$2
fail() { echo "container: $*"; exit 1; }
# waitfor CMD...: up to 20 s for CMD to succeed.
waitfor() {
	local i
	for i in $(seq 1 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
bound5() { awk '$1 == 5 { f = 1 } END { exit !f }' /proc/net/netfilter/nfnetlink_queue; }
go_on() { [ -e "$dir/c_go" ]; }
listener_done() { ! kill -0 "$q" 2> /dev/null; }
ip link set lo up || fail "ip link set lo up"
$R save -c > "$dir/c_save0" 2>&1 || fail "rfctl save: $(cat "$dir/c_save0")"
$R -N RFPRIV_CTR && $R -A RFPRIV_CTR -j ACCEPT &&
	$R -A INPUT -p udp --dport 4242 -j RFPRIV_CTR &&
	$R -I OUTPUT 1 -p udp --dport 4244 -j NFQUEUE --queue-num 5 || fail "rules refused"
$R queue --num 5 --count 1 > "$dir/c_queue" 2>&1 &
q=$!
waitfor bound5 ||
	fail "queue 5 not bound: $(cat "$dir/c_queue")"
$R save > "$dir/c_save1" 2>&1 || fail "rfctl save"
touch "$dir/c_ready"
waitfor go_on || fail "not told to go on"
echo queued > /dev/udp/127.0.0.1/4244
echo counted > /dev/udp/127.0.0.1/4242
waitfor listener_done || { kill $q; fail "the listener got nothing: $(cat "$dir/c_queue")"; }
wait $q || fail "rfctl queue failed: $(cat "$dir/c_queue")"
grep -q "udp 127\.0\.0\.1:[0-9]* > 127\.0\.0\.1:4244 .*verdict=accept" "$dir/c_queue" ||
	fail "the listener printed: $(cat "$dir/c_queue")"
$R -L RFPRIV_CTR -v -x -n | awk 'NR == 3 { exit !($1 == 1) }' ||
	fail "RFPRIV_CTR did not count the datagram: $($R -L RFPRIV_CTR -v -x -n)"
echo "container: ok"
EOF_CTR
	rm -f "$tmpdir"/c_*
	in2 unshare -U -r -n bash "$tmpdir/container.sh" "$RFCTL" "$tmpdir" \
		> "$tmpdir/ctr.out" 2>&1 &
	ctr=$!
	ready() { [ -e "$tmpdir/c_ready" ] || ! kill -0 $ctr 2> /dev/null; }
	busywait 30000 ready
	if [ ! -e "$tmpdir/c_ready" ]; then
		echo "FAIL: the container did not get its rules and queue in place:"
		sed 's/^/    /' "$tmpdir/ctr.out"
		lret=1
	else
		# Its rules and queue, seen from inside, and from neither outside.
		if ! grep -q -- "-A INPUT -p udp -m udp --dport 4242 -j RFPRIV_CTR" "$tmpdir/c_save1" ||
			! grep -q -- "-j NFQUEUE --queue-num 5" "$tmpdir/c_save1"; then
			echo "FAIL: the container's rfctl save does not list its rules:"
			sed 's/^/    /' "$tmpdir/c_save1"
			lret=1
		fi
		now=$(ns2_state all)
		if [ "$base" != "$now" ]; then
			echo "FAIL: $ns2 changed while its container set up its own rules and queue:"
			show_diff "$base" "$now"
			lret=1
		fi
		if [ "$("$RFCTL" save 2>&1)" != "$init_save" ] ||
			[ "$(cat /proc/net/netfilter/nfnetlink_queue 2>&1)" != "$init_queues" ]; then
			echo "FAIL: the initial namespace's rules or queues changed with the container's:"
			"$RFCTL" save 2>&1 | sed 's/^/    /'
			sed 's/^/    /' /proc/net/netfilter/nfnetlink_queue
			lret=1
		fi
	fi
	touch "$tmpdir/c_go"
	ctr_gone() { ! kill -0 $ctr 2> /dev/null; }
	busywait 30000 ctr_gone
	wait $ctr
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^container: ok" "$tmpdir/ctr.out"; then
		echo "FAIL: the container exited $rc:"
		sed 's/^/    /' "$tmpdir/ctr.out"
		lret=1
	fi
	# Nothing of $ns2's ruleset inside: built-in chains only, no rules.
	if grep -Eq "RFPRIV|^-A |DROP|\[[1-9]" "$tmpdir/c_save0"; then
		echo "FAIL: the container's first rfctl save shows rules or counters of $ns2:"
		sed 's/^/    /' "$tmpdir/c_save0"
		lret=1
	fi
	echo "INFO: container: $(( ($(timestamp_ms) - t0) / 1000 )) s"
	rf_check "root of a container's own user+net namespace manages its own rules and queue only" $lret
fi

exit $ret
