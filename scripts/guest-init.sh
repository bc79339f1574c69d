#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the rustfilter test VM (packed by scripts/mkinitramfs.sh, booted
# by scripts/vm.sh). Busybox sh. The kernel command line selects the mode:
#   rfvm.mode=check [rfvm.tests=a.sh,b.sh]  run the selftests, print KTAP
#   rfvm.mode=run [rfvm.interactive=1]      the demo, then a shell
#   rfvm.mode=shell                         just a shell
#   rfvm.mode=bench                         /bench/bench-guest.sh (make bench)
# and rfvm.env=NAME=VALUE[,NAME=VALUE...] exports variables to the tests
# (e.g. VM_APPEND=rfvm.env=QUEUE_IMPL=upstream scripts/vm.sh check ...);
# it always powers off at the end ("rfvm: done" tells the host we got there).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export TERM=${TERM:-linux}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
hostname rfvm
# The firmware leaves the cursor mid-line: start KTAP on a line of its own.
echo
/usr/bin/ip link set lo up
mkdir -p /run/netns

mode=check
tests=
interactive=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rfvm.mode=*) mode=${arg#rfvm.mode=} ;;
	rfvm.tests=*) tests=$(echo "${arg#rfvm.tests=}" | tr ',' ' ') ;;
	rfvm.interactive=*) interactive=${arg#rfvm.interactive=} ;;
	rfvm.env=*)
		for kv in $(echo "${arg#rfvm.env=}" | tr ',' ' '); do
			case "$kv" in
			[A-Za-z_]*=*) export "$kv" ;;
			esac
		done
		;;
	esac
done

# Lines of dmesg that mean the kernel is unhappy.
SPLATS='BUG:|WARNING:|KASAN:|UBSAN:|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|Oops|Call Trace|kernel BUG|general protection fault|list_add corruption|list_del corruption|refcount_t:|rcu_sched self-detected stall|soft lockup|hung_task|blocked for more than'

# An interactive shell on the console. bash, because busybox sh runs its own
# applets (a netns-less ip, for one) before anything on PATH.
console_shell() {
	sh=/bin/bash
	[ -x $sh ] || sh=/bin/sh
	PS1='rfvm:\w# ' setsid cttyhack $sh
}

poweroff_vm() {
	echo "rfvm: done"
	sync
	reboot -f
	sleep 10
}

# Kernel messages since the last call (and remembers them in /tmp/dmesg.all).
new_dmesg() {
	dmesg -c > /tmp/dmesg.new 2>/dev/null
	cat /tmp/dmesg.new >> /tmp/dmesg.all
	cat /tmp/dmesg.new
}

prefix() {
	sed 's/^/# /'
}

settings_timeout() {
	t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' /selftests/settings 2>/dev/null)
	echo "${t:-45}"
}

# run_test NUM NAME: one selftest as kselftest's runner does it, plus a dmesg
# check. Sets $result to pass, fail or skip.
run_test() {
	local num name timeout reader pid watchdog rc waited splat directive

	num=$1
	name=$2
	timeout=$(settings_timeout)

	echo "# timeout set to $timeout"
	echo "# selftests: rustfilter: $name"
	rm -f /tmp/timed_out
	if [ ! -x "/selftests/$name" ]; then
		echo "# Warning: file $name is missing or not executable!"
		echo "not ok $num selftests: rustfilter: $name"
		result=fail
		return
	fi
	# The output goes to the console as it comes (through a fifo, so that we
	# know the test's pid); the test runs in its own session, so a timeout
	# can kill it with all its children.
	rm -f /tmp/test.fifo
	mkfifo /tmp/test.fifo
	prefix < /tmp/test.fifo &
	reader=$!
	(cd /selftests && exec setsid "./$name") > /tmp/test.fifo 2>&1 < /dev/null &
	pid=$!
	(
		sleep "$timeout"
		if kill -0 "$pid" 2>/dev/null; then
			touch /tmp/timed_out
			kill -TERM -"$pid" 2>/dev/null
			sleep 5
			kill -KILL -"$pid" 2>/dev/null
		fi
	) > /dev/null 2>&1 &
	watchdog=$!
	wait "$pid" 2>/dev/null
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	# Whatever the test left running in its session.
	kill -KILL -"$pid" 2>/dev/null
	# The reader ends when the last writer is gone; do not wait for
	# anything that escaped the session.
	waited=0
	while kill -0 "$reader" 2>/dev/null && [ $waited -lt 50 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null

	new_dmesg > /tmp/test.dmesg
	splat=0
	if grep -Eq "$SPLATS" /tmp/test.dmesg; then
		splat=1
	fi

	# Diagnostics first: KTAP puts a test's lines before its result.
	directive=
	if [ -e /tmp/timed_out ]; then
		result=fail
		directive=" # TIMEOUT $timeout seconds"
	elif [ $splat -eq 1 ]; then
		result=fail
		directive=" # kernel splat (exit=$rc)"
	elif [ "$rc" -eq 4 ]; then
		result=skip
		directive=" # SKIP"
	elif [ "$rc" -eq 0 ]; then
		result=pass
	else
		result=fail
		directive=" # exit=$rc"
	fi
	if [ $splat -eq 1 ]; then
		echo "# kernel splat in dmesg during $name:"
		prefix < /tmp/test.dmesg
	elif [ $result = fail ]; then
		echo "# dmesg (last 40 lines) after $name:"
		tail -n 40 /tmp/dmesg.all | prefix
	fi
	if [ $result = fail ]; then
		echo "not ok $num selftests: rustfilter: $name$directive"
	else
		echo "ok $num selftests: rustfilter: $name$directive"
	fi
}

run_check() {
	if [ -z "$tests" ]; then
		tests=$(cat /selftests/kselftest-list.txt)
	fi
	n=0
	for t in $tests; do
		n=$((n + 1))
	done

	boot=$(new_dmesg)
	echo "TAP version 13"
	if echo "$boot" | grep -Eq "$SPLATS"; then
		echo "# kernel splat in dmesg during boot:"
		echo "$boot" | prefix
		echo "# rfvm: boot splat"
	fi
	echo "1..$n"
	i=0
	pass=0
	fail=0
	skip=0
	for t in $tests; do
		i=$((i + 1))
		run_test "$i" "$t"
		case "$result" in
		pass) pass=$((pass + 1)) ;;
		skip) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
}

# The demo: client - router - server, a few pings, the router's counters.
run_demo() {
	ip=/usr/bin/ip
	ko=$(modinfo -n rustfilter 2>/dev/null)
	# hook_stats=1: the per-hook counters `rfctl stats` shows below.
	echo "rfvm: insmod ${ko:-rustfilter.ko} hook_stats=1"
	if [ -n "$ko" ] && insmod "$ko" hook_stats=1; then
		$ip netns add client
		$ip netns add router
		$ip netns add server
		for ns in client router server; do
			$ip -n $ns link set lo up
		done
		$ip -n client link add eth0 type veth peer name veth1 netns router
		$ip -n router link add veth2 type veth peer name eth0 netns server
		$ip -n client addr add 10.0.1.2/24 dev eth0
		$ip -n router addr add 10.0.1.1/24 dev veth1
		$ip -n router addr add 10.0.2.1/24 dev veth2
		$ip -n server addr add 10.0.2.2/24 dev eth0
		$ip -n client link set eth0 up
		$ip -n router link set veth1 up
		$ip -n router link set veth2 up
		$ip -n server link set eth0 up
		$ip -n client route add default via 10.0.1.1
		$ip -n server route add default via 10.0.2.1
		$ip netns exec router sysctl -q net.ipv4.ip_forward=1
		echo "rfvm: client 10.0.1.2 -- 10.0.1.1 router 10.0.2.1 -- 10.0.2.2 server"
		echo "rfvm: ip netns exec client ping -c 3 10.0.2.2"
		$ip netns exec client ping -c 3 10.0.2.2
		echo "rfvm: ip netns exec router rfctl stats"
		$ip netns exec router rfctl stats
		echo "rfvm: ip netns exec router rfctl -A FORWARD -p icmp --icmp-type echo-request -j DROP"
		$ip netns exec router rfctl -A FORWARD -p icmp --icmp-type echo-request -j DROP
		echo "rfvm: ip netns exec client ping -c 2 -W 1 10.0.2.2 (now dropped)"
		$ip netns exec client ping -c 2 -W 1 10.0.2.2
		echo "rfvm: ip netns exec router rfctl -L FORWARD -n -v"
		$ip netns exec router rfctl -L FORWARD -n -v
	else
		echo "rfvm: could not load rustfilter"
	fi
	dmesg | grep -E "$SPLATS" && echo "rfvm: kernel splat in dmesg"
}

case "$mode" in
check)
	run_check
	;;
bench)
	if [ -x /bench/bench-guest.sh ]; then
		/bin/bash /bench/bench-guest.sh
	else
		echo "rfvm: no /bench/bench-guest.sh in the initramfs (run scripts/bench.sh)"
	fi
	;;
run)
	run_demo
	if [ "$interactive" = 1 ]; then
		echo "rfvm: shell (exit to power off; namespaces: client router server)"
		console_shell
	fi
	;;
*)
	console_shell
	;;
esac
poweroff_vm
