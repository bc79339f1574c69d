#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The measurements of `make bench`, run inside the VM (packed as
# /bench/bench-guest.sh by scripts/bench.sh, started by scripts/guest-init.sh
# for rfvm.mode=bench). Prints machine-readable lines that scripts/bench.sh
# collects from the console:
#
#   BENCHPLAN <test> <config> <param>               a point that will be measured
#   BENCH <test> <config> <param> <run> <value> <unit>
#   BENCHSKIP <test> <config> <param> <reason...>
#   BENCHINFO <text...>                             facts about the run
#   BENCHDONE
#
# Topology (as selftests/lib.sh's rf_setup_router):
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
# pktgen in the client sends 64-byte UDP frames (10.0.1.2:1024 -> 10.0.2.2:9)
# as fast as it can; the rate is the growth of the server's eth0 rx_packets
# over BENCH_SECONDS, after a one-second warm-up, BENCH_RUNS times per point.
#
# Tests (config names in brackets):
#   filter    FORWARD policy DROP, N rules the traffic does not match, an
#             ACCEPT [baseline rustfilter iptables-legacy nft-linear nft-sets]
#   commit    wall time of loading N rules [rustfilter iptables-legacy
#             nft-linear nft-sets]
#   mem_rule  kernel memory per rule, at the largest N loaded
#             [rustfilter iptables-legacy nft-linear]
#   nat       conntrack + MASQUERADE on veth2, BENCH_FLOWS UDP flows
#             [rustfilter iptables-legacy]
#   mem_ct    kernel memory per connection, BENCH_CT_FLOWS flows
#             [rustfilter iptables-legacy]
#   queue     FORWARD -j NFQUEUE --queue-num 0, the kernel selftests' nf_queue
#             accepting everything [rustfilter nfnetlink_queue]
#   fixed     the cost of a hook path with no rule to walk, to the 2 % the
#             N=0 aim asks for: FIXED_ROUNDS rounds, each one window of
#             every configuration in turn (the order rotating), so that a
#             drift of the host moves all alike and each round gives a
#             ratio to the baseline of the same round [baseline rf-loaded
#             (the module, no ruleset) rustfilter rf-stats (rustfilter with
#             hook_stats=1) iptables-legacy nft-linear, all with the N=0
#             ruleset]
#
# rustfilter's conntrack and queue refuse to run next to nf_conntrack and
# nfnetlink_queue, so every rustfilter configuration runs first and the
# module is removed before the upstream ones.
#
# env (from /bench/bench.env, written by scripts/bench.sh): BENCH_RUNS (5),
# BENCH_SECONDS (3), BENCH_RULES ("0 10 100 1000 10000 100000"),
# BENCH_COMMIT_RULES ("10000 100000"), BENCH_MIN_PPS (100: a point under it
# in the warm-up is skipped, and so are the larger N of that configuration),
# BENCH_FLOWS (16), BENCH_CT_FLOWS (5000), BENCH_FIXED_ROUNDS (8),
# BENCH_TESTS ("filter nat queue fixed"; filter includes commit and
# mem_rule, nat mem_ct), BENCH_CONFIGS ("baseline rustfilter
# iptables-legacy nft-linear nft-sets nfnetlink_queue"; iptables-legacy is
# also the NAT reference), BENCH_ICOUNT (what the report says of time),
# BENCH_KSYMS (1: print module symbols for a profile), BENCH_DIR (/bench:
# the rulesets of scripts/bench-rules.py)
set -u

[ -f /bench/bench.env ] && . /bench/bench.env
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECONDS:-3}
RULES=${BENCH_RULES:-0 10 100 1000 10000 100000}
COMMIT_RULES=${BENCH_COMMIT_RULES:-10000 100000}
MIN_PPS=${BENCH_MIN_PPS:-100}
FLOWS=${BENCH_FLOWS:-16}
CT_FLOWS=${BENCH_CT_FLOWS:-5000}
DIR=${BENCH_DIR:-/bench}
FIXED_ROUNDS=${BENCH_FIXED_ROUNDS:-8}
TESTS=${BENCH_TESTS:-filter nat queue fixed}
CONFIGS=${BENCH_CONFIGS:-baseline rustfilter iptables-legacy nft-linear nft-sets nfnetlink_queue}
IP=/usr/bin/ip
PKTGEN_PORT=1024

info() { echo "BENCHINFO $*"; }
# stage WHAT: a progress line with the guest's uptime.
stage() { echo "bench: $(cut -d' ' -f1 /proc/uptime)s $*"; }
note() { echo "bench: $*" >&2; }

# Time since boot in microseconds (bash's EPOCHREALTIME is wall time, which
# is what we want for the commit times too).
now_us() {
	local t=$EPOCHREALTIME
	echo $(( ${t%.*} * 1000000 + 10#${t#*.} ))
}

##############################################################################
# Topology and traffic

in_ns() { local ns=$1; shift; $IP netns exec "$ns" "$@"; }

setup_topology() {
	local ns
	for ns in client router server; do
		$IP netns add $ns || return 1
		$IP -n $ns link set lo up
	done
	$IP -n client link add eth0 type veth peer name veth1 netns router || return 1
	$IP -n router link add veth2 type veth peer name eth0 netns server || return 1
	$IP -n client addr add 10.0.1.2/24 dev eth0
	$IP -n router addr add 10.0.1.1/24 dev veth1
	$IP -n router addr add 10.0.2.1/24 dev veth2
	$IP -n server addr add 10.0.2.2/24 dev eth0
	for ns in client:eth0 router:veth1 router:veth2 server:eth0; do
		$IP -n ${ns%%:*} link set ${ns#*:} up
	done
	$IP -n client route add default via 10.0.1.1
	$IP -n server route add default via 10.0.2.1
	in_ns router sysctl -q -w net.ipv4.ip_forward=1
	# pktgen does not resolve addresses: the client gets the router's MAC.
	ROUTER_MAC=$(in_ns router cat /sys/class/net/veth1/address)
	# The router learns the server's MAC before the first measurement.
	in_ns router ping -c 1 -W 2 10.0.2.2 > /dev/null 2>&1
	in_ns client ping -c 1 -W 2 10.0.1.1 > /dev/null 2>&1
}

# pg FILE CMD: one pktgen command in the client's namespace.
pg() {
	in_ns client sh -c "echo '$2' > /proc/net/pktgen/$1" || {
		note "pktgen: '$2' > $1 failed"
		return 1
	}
}

# pktgen_config SRC_PORT_MIN SRC_PORT_END COUNT DELAY_NS: the flow(s) to send,
# source ports MIN to END - 1 (pktgen wraps when it reaches udp_src_max).
pktgen_config() {
	pg kpktgend_0 rem_device_all || return 1
	pg kpktgend_0 "add_device eth0" || return 1
	pg eth0 "count $3"
	pg eth0 "clone_skb 0"
	pg eth0 "pkt_size 64"
	pg eth0 "delay $4"
	pg eth0 "dst 10.0.2.2"
	pg eth0 "dst_mac $ROUTER_MAC"
	pg eth0 "src_min 10.0.1.2"
	pg eth0 "src_max 10.0.1.2"
	pg eth0 "udp_dst_min 9"
	pg eth0 "udp_dst_max 9"
	pg eth0 "udp_src_min $1"
	pg eth0 "udp_src_max $2"
}

PG_PID=
pktgen_start() {
	in_ns client sh -c 'echo start > /proc/net/pktgen/pgctrl' &
	PG_PID=$!
}

pktgen_stop() {
	[ -n "$PG_PID" ] || return 0
	in_ns client sh -c 'echo stop > /proc/net/pktgen/pgctrl' 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=
}

rx_packets() {
	in_ns server cat /sys/class/net/eth0/statistics/rx_packets
}

# rate_window SECONDS: packets/s reaching the server over SECONDS.
rate_window() {
	local p0 p1 t0 t1
	p0=$(rx_packets); t0=$(now_us)
	sleep "$1"
	p1=$(rx_packets); t1=$(now_us)
	echo $(( (p1 - p0) * 1000000 / (t1 - t0) ))
}

# ksyms: with BENCH_KSYMS=1 (a profile, BENCH_PROFILE=1 in bench.sh), the
# text symbols of the loaded modules as "KSYM <address> <name> <module>",
# for scripts/insn-profile.py to name the addresses the profile counted.
ksyms() {
	[ "${BENCH_KSYMS:-0}" = 1 ] || return 0
	awk '$2 ~ /^[tT]$/ && $4 ~ /^\[/ { print "KSYM", $1, $3, $4 }' /proc/kallsyms
}

# measure TEST CONFIG PARAM: the flood runs, one warm-up second, then RUNS
# windows of SECS seconds, each printed as a BENCH line. Returns 1 (and
# prints BENCHSKIP) when the warm-up is under MIN_PPS.
measure() {
	local test=$1 config=$2 param=$3 warm r v rc=0

	pktgen_start
	warm=$(rate_window 1)
	if [ "$warm" -lt "$MIN_PPS" ]; then
		echo "BENCHSKIP $test $config $param warm-up $warm pps is under BENCH_MIN_PPS=$MIN_PPS"
		rc=1
	else
		for r in $(seq 1 "$RUNS"); do
			[ -n "${WINDOW_INFO:-}" ] && $WINDOW_INFO start
			v=$(rate_window "$SECS")
			echo "BENCH $test $config $param $r $v pps"
			[ -n "${WINDOW_INFO:-}" ] && $WINDOW_INFO "$r"
		done
	fi
	pktgen_stop
	ksyms
	return $rc
}

##############################################################################
# Memory

drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
	sleep 0.2
}

# kmem_kb: the kernel's own allocations (Slab + VmallocUsed + Percpu, KiB)
# after dropping what can be dropped: rule tables are vmalloc'ed or slab
# objects with per-CPU counters, connections are slab objects. Less noisy
# than MemFree, which moves with the page allocator's per-CPU lists.
kmem_kb() {
	drop_caches
	awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s }' /proc/meminfo
}

##############################################################################
# Configurations: load NAME N (prints the commit time when asked) and flush

rf_ko() {
	local ko
	ko=$(modinfo -n rustfilter 2>/dev/null)
	[ -n "$ko" ] || ko=$(find /lib/modules/"$(uname -r)" -name rustfilter.ko | head -n 1)
	echo "$ko"
}

# load CONFIG N: install CONFIG's ruleset of N rules in the router; sets
# LOAD_US to the wall time the loading command took.
load() {
	local config=$1 n=$2 t0 rc
	t0=$(now_us)
	case "$config" in
	rustfilter) in_ns router rfctl restore "$DIR/filter-$n.rules" ;;
	iptables-legacy) in_ns router iptables-legacy-restore "$DIR/filter-$n.rules" ;;
	nft-linear) in_ns router nft -f "$DIR/nft-linear-$n.nft" ;;
	nft-sets) in_ns router nft -f "$DIR/nft-sets-$n.nft" ;;
	esac
	rc=$?
	LOAD_US=$(( $(now_us) - t0 ))
	[ $rc -eq 0 ] || note "$config: loading $n rules failed ($rc)"
	return $rc
}

# flush CONFIG: the router without CONFIG's rules.
flush() {
	case "$1" in
	rustfilter)
		in_ns router rfctl -F
		in_ns router rfctl -P FORWARD ACCEPT
		;;
	iptables-legacy)
		in_ns router iptables-legacy -F
		in_ns router iptables-legacy -P FORWARD ACCEPT
		;;
	nft-*) in_ns router nft flush ruleset ;;
	esac
}

# want TEST CONFIG: whether BENCH_TESTS and BENCH_CONFIGS ask for it ("*":
# any test).
want() {
	{ [ "$1" = '*' ] || in_list "$1" $TESTS; } && in_list "$2" $CONFIGS
}

in_list() {
	local x=$1; shift
	case " $* " in *" $x "*) return 0 ;; esac
	return 1
}

# filter_config CONFIG: every N of RULES (and of COMMIT_RULES, timed only).
filter_config() {
	local config=$1 n skip= before after maxn=0 used=
	stage "filter $config"
	local all
	all=$(printf '%s\n' $RULES $COMMIT_RULES | sort -n -u)
	pktgen_config $PKTGEN_PORT $PKTGEN_PORT 0 0
	for n in $all; do
		in_list "$n" $RULES && echo "BENCHPLAN filter $config $n"
		in_list "$n" $COMMIT_RULES && echo "BENCHPLAN commit $config $n"
	done
	for n in $all; do
		before=$(kmem_kb)
		if ! load "$config" "$n"; then
			echo "BENCHSKIP filter $config $n loading failed"
			in_list "$n" $COMMIT_RULES && echo "BENCHSKIP commit $config $n loading failed"
			flush "$config"
			continue
		fi
		if in_list "$n" $COMMIT_RULES; then
			echo "BENCH commit $config $n 1 $(awk -v u="$LOAD_US" 'BEGIN { printf "%.3f", u / 1e6 }') s"
		fi
		if [ "$n" -ge 1000 ] && [ "$n" -ge "$maxn" ]; then
			after=$(kmem_kb)
			maxn=$n
			used=$(( (after - before) * 1024 ))
		fi
		if in_list "$n" $RULES; then
			if [ -n "$skip" ]; then
				echo "BENCHSKIP filter $config $n $skip"
			elif ! measure filter "$config" "$n"; then
				skip="skipped after N=$n was under BENCH_MIN_PPS=$MIN_PPS"
			fi
		fi
		flush "$config"
	done
	# Per rule: the growth of used memory around loading the largest N
	# (at least 1,000 rules), divided by N.
	if [ "$maxn" -gt 0 ] && [ "$config" != nft-sets ]; then
		echo "BENCHPLAN mem_rule $config $maxn"
		echo "BENCH mem_rule $config $maxn 1 $(( used / maxn )) B"
	fi
}

# ct_count CONFIG: the router's number of connections.
ct_count() {
	case "$1" in
	rustfilter) in_ns router rfctl conntrack -C ;;
	*) in_ns router cat /proc/sys/net/netfilter/nf_conntrack_count ;;
	esac
}

# nat_config CONFIG: MASQUERADE on veth2 with conntrack, FLOWS flows, then
# the memory of CT_FLOWS connections.
nat_config() {
	local config=$1 c0 c1 m0 m1 nat
	stage "nat $config"
	echo "BENCHPLAN nat $config $FLOWS"
	echo "BENCHPLAN mem_ct $config $CT_FLOWS"
	nat=/tmp/nat.rules
	printf '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o veth2 -j MASQUERADE\nCOMMIT\n' > $nat
	case "$config" in
	rustfilter) in_ns router rfctl restore $nat ;;
	*) in_ns router iptables-legacy-restore $nat ;;
	esac || {
		echo "BENCHSKIP nat $config $FLOWS loading the nat table failed"
		echo "BENCHSKIP mem_ct $config $CT_FLOWS loading the nat table failed"
		return 1
	}
	pktgen_config $PKTGEN_PORT $((PKTGEN_PORT + FLOWS)) 0 0
	measure nat "$config" "$FLOWS"
	sleep 1
	info "nat $config: $(ct_count "$config") connections after the runs"

	# Memory per connection: CT_FLOWS packets from as many source ports,
	# paced to 10,000/s so that few are lost before conntrack sees them.
	c0=$(ct_count "$config"); m0=$(kmem_kb)
	pktgen_config 20000 $((20000 + CT_FLOWS)) "$CT_FLOWS" 100000
	in_ns client sh -c 'echo start > /proc/net/pktgen/pgctrl'
	sleep 0.5
	c1=$(ct_count "$config"); m1=$(kmem_kb)
	info "mem_ct $config: $((c1 - c0)) new connections, $((m1 - m0)) KiB"
	if [ $((c1 - c0)) -gt 0 ]; then
		echo "BENCH mem_ct $config $CT_FLOWS 1 $(( (m1 - m0) * 1024 / (c1 - c0) )) B"
	else
		echo "BENCHSKIP mem_ct $config $CT_FLOWS no connection was created"
	fi
	case "$config" in
	rustfilter)
		in_ns router rfctl -t nat -F
		in_ns router rfctl conntrack -F > /dev/null 2>&1
		;;
	*)
		# The table goes, its hooks and tracking's with it: the queue
		# test after this one measures the queue alone (rustfilter is
		# loaded afresh for it, below).
		in_ns router iptables-legacy -t nat -F
		rmmod iptable_nat 2>/dev/null || note "rmmod iptable_nat failed"
		;;
	esac
}

# queued: packets queue 0 of the router has handed out so far (id_sequence
# in /proc/net/netfilter/nfnetlink_queue, which rustfilter writes too).
queued() {
	in_ns router awk '$1 == 0 { print $8; found = 1 } END { if (!found) print 0 }' \
		/proc/net/netfilter/nfnetlink_queue
}

# queue_window start|RUN: after each window of the queue test, what the
# CPUs did meanwhile: per CPU the NET_RX softirqs, the packets the backlog
# dropped and the softirq rounds cut short (/proc/net/softnet_stat), the
# idle clock ticks; and the user+system ticks of the threads that share
# them (nf_queue, ksoftirqd, pktgen's). The rate has two values from
# window to window; this is what tells them apart.
queue_window() {
	local now p comm
	now="rx $(awk '/NET_RX/ { $1 = ""; print }' /proc/softirqs)"
	now="$now drop/squeeze"
	while read -r _ d q _; do
		now="$now $((0x$d))/$((0x$q))"
	done < /proc/net/softnet_stat
	now="$now idle $(awk '/^cpu[0-9]/ { printf "%s ", $5 }' /proc/stat)"
	for p in /proc/[0-9]*; do
		read -r comm < "$p/comm" 2>/dev/null || continue
		case "$comm" in
		nf_queue|ksoftirqd/*|kpktgend_*)
			now="$now $comm:$(awk '{ print $14 + $15 "@" $39 }' "$p/stat" 2>/dev/null)" ;;
		esac
	done
	if [ "$1" = start ]; then
		QSTART=$now
		return
	fi
	info "queue $QCONFIG window $1: before [$QSTART] after [$now]"
}

# queue_config CONFIG: FORWARD -j NFQUEUE --queue-num 0 and nf_queue.
queue_config() {
	local config=$1 q qpid
	stage "queue $config"
	echo "BENCHPLAN queue $config 0"
	q=/tmp/queue.rules
	printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -j NFQUEUE --queue-num 0\nCOMMIT\n' > $q
	if ! command -v nf_queue > /dev/null; then
		echo "BENCHSKIP queue $config 0 no nf_queue in the VM (scripts/queue-clients.sh)"
		return 1
	fi
	case "$config" in
	rustfilter) in_ns router rfctl restore $q ;;
	*) modprobe nfnetlink_queue && in_ns router iptables-legacy-restore $q ;;
	esac || {
		echo "BENCHSKIP queue $config 0 loading the NFQUEUE rule failed"
		return 1
	}
	pktgen_config $PKTGEN_PORT $PKTGEN_PORT 0 0
	# Not through in_ns (a function: $! would be its subshell, and the kill
	# below would leave nf_queue running): ip netns exec execs nf_queue.
	$IP netns exec router nf_queue -q 0 > /tmp/nf_queue.log 2>&1 &
	qpid=$!
	sleep 1
	if ! kill -0 $qpid 2>/dev/null; then
		echo "BENCHSKIP queue $config 0 nf_queue did not start: $(head -c 200 /tmp/nf_queue.log)"
	else
		local q0 q1 r0 r1
		q0=$(queued); r0=$(rx_packets)
		QCONFIG=$config WINDOW_INFO=queue_window measure queue "$config" 0
		q1=$(queued); r1=$(rx_packets)
		# Every packet the server got must have been queued and judged:
		# a rate with packets that went around the queue is not its rate.
		info "queue $config: $((q1 - q0)) packets queued, $((r1 - r0)) reached the server"
		# queue, portid, waiting, copy mode, range, dropped (full),
		# dropped (listener's buffer), last id, 1
		info "queue $config: nfnetlink_queue: $(in_ns router cat /proc/net/netfilter/nfnetlink_queue | head -n 1)"
		if [ $((q1 - q0)) -lt $(( (r1 - r0) * 9 / 10 )) ]; then
			echo "BENCHSKIP queue $config 0 only $((q1 - q0)) of the $((r1 - r0)) packets forwarded were queued"
		fi
		kill $qpid 2>/dev/null
		wait $qpid 2>/dev/null
	fi
	flush "$config"
}

# fixed_on CONFIG / fixed_off CONFIG: the router with and without CONFIG at
# N=0, hooks included (modules removed, tables deleted).
fixed_on() {
	case "$1" in
	baseline) ;;
	rf-loaded) insmod "$RF_KO" ;;
	rustfilter) insmod "$RF_KO" && in_ns router rfctl restore "$DIR/filter-0.rules" ;;
	rf-stats) insmod "$RF_KO" hook_stats=1 && in_ns router rfctl restore "$DIR/filter-0.rules" ;;
	iptables-legacy) in_ns router iptables-legacy-restore "$DIR/filter-0.rules" ;;
	nft-linear) in_ns router nft -f "$DIR/nft-linear-0.nft" ;;
	esac
}

fixed_off() {
	case "$1" in
	rf-loaded|rustfilter|rf-stats) rmmod rustfilter ;;
	iptables-legacy) flush iptables-legacy; rmmod iptable_filter ;;
	nft-linear) in_ns router nft flush ruleset ;;
	esac
}

# fixed_test: FIXED_ROUNDS rounds of one SECS window per configuration,
# after half a second of traffic; round r starts at the r-th configuration.
fixed_test() {
	local all=(baseline rf-loaded rustfilter rf-stats iptables-legacy nft-linear)
	local configs=() c r i k v
	for c in "${all[@]}"; do
		case "$c" in
		rf-*) in_list rustfilter $CONFIGS && [ -n "$RF_KO" ] || continue ;;
		*) in_list "$c" $CONFIGS || continue ;;
		esac
		configs+=("$c")
		echo "BENCHPLAN fixed $c 0"
	done
	[ ${#configs[@]} -gt 0 ] || return 0
	stage "fixed ${configs[*]}"
	pktgen_config $PKTGEN_PORT $PKTGEN_PORT 0 0
	k=${#configs[@]}
	for r in $(seq 1 "$FIXED_ROUNDS"); do
		for i in $(seq 0 $((k - 1))); do
			c=${configs[$(( (r - 1 + i) % k ))]}
			if ! fixed_on "$c"; then
				echo "BENCHSKIP fixed $c 0 setting it up failed in round $r"
				fixed_off "$c" 2>/dev/null
				continue
			fi
			pktgen_start
			sleep 0.5
			v=$(rate_window "$SECS")
			pktgen_stop
			echo "BENCH fixed $c 0 $r $v pps"
			fixed_off "$c"
		done
	done
}

##############################################################################

main() {
	local ko n
	info "kernel $(uname -r), $(nproc) CPUs, $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) KiB"
	if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
		info "time: QEMU -icount shift=0,sleep=off, one guest nanosecond per instruction (rates are instruction budgets, repeatable)"
	else
		info "time: the host's (rates move 10-25 % from window to window)"
	fi
	info "ruleset ${BENCH_RULESET:-mixed}, runs $RUNS, seconds $SECS, rules '$RULES', commit '$COMMIT_RULES', min_pps $MIN_PPS, flows $FLOWS, ct_flows $CT_FLOWS, fixed_rounds $FIXED_ROUNDS"
	if ! modprobe pktgen || [ ! -d /proc/net/pktgen ]; then
		note "pktgen is missing (CONFIG_NET_PKTGEN=m): nothing to measure"
		echo "BENCHINFO error: no pktgen"
		echo "BENCHDONE"
		return 1
	fi
	ko=$(rf_ko)
	RF_KO=$ko
	if [ -z "$ko" ]; then
		note "no rustfilter.ko"
	fi
	setup_topology || { note "topology setup failed"; echo "BENCHDONE"; return 1; }
	if [ ! -d /proc/net/pktgen ] || ! in_ns client test -e /proc/net/pktgen/kpktgend_0; then
		note "no /proc/net/pktgen/kpktgend_0 in the client namespace"
		echo "BENCHDONE"
		return 1
	fi
	pktgen_config $PKTGEN_PORT $PKTGEN_PORT 0 0 || { echo "BENCHDONE"; return 1; }
	stage "start"

	# Before the others: it leaves no module loaded, and needs none.
	in_list fixed $TESTS && fixed_test

	# Nothing loaded.
	if want filter baseline; then
		echo "BENCHPLAN filter baseline 0"
		measure filter baseline 0
	fi

	# rustfilter: filter, nat, queue, then out.
	if want '*' rustfilter; then
		if [ -n "$ko" ] && insmod "$ko"; then
			want filter rustfilter && filter_config rustfilter
			want nat rustfilter && nat_config rustfilter
			# Loaded afresh: the nat test's hooks stay registered
			# (idle) until the namespace goes, as ip_tables' stay
			# until its table's module goes (rmmod iptable_nat in
			# nat_config); the queue test measures the queue alone.
			if want queue rustfilter; then
				if want nat rustfilter; then
					rmmod rustfilter && insmod "$ko" ||
						note "reloading rustfilter failed"
				fi
				queue_config rustfilter
			fi
			rmmod rustfilter || note "rmmod rustfilter failed"
		else
			echo "BENCHPLAN filter rustfilter 0"
			echo "BENCHSKIP filter rustfilter 0 could not load rustfilter.ko"
		fi
	fi

	# Upstream.
	if want filter iptables-legacy; then
		filter_config iptables-legacy
		rmmod iptable_filter 2>/dev/null
	fi
	want filter nft-linear && filter_config nft-linear
	want filter nft-sets && filter_config nft-sets
	in_ns router nft flush ruleset 2>/dev/null
	want nat iptables-legacy && nat_config iptables-legacy
	want queue nfnetlink_queue && queue_config nfnetlink_queue

	stage "end"
	dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace' | head -n 5 | sed 's/^/BENCHINFO dmesg: /'
	echo "BENCHDONE"
}

main
