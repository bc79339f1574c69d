#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the stress selftests (rustfilter_stress*.sh), after lib.sh:
# kernel splats in dmesg, a bounded unload, slab and vmalloc use with
# KASAN's quarantine emptied, live network namespaces. Needs $tmp.

# Kernel messages that mean trouble: those the VM's runner looks for, and
# refcount_t's. (Tried once with "rustfilter: loaded" added: no_splat failed
# at each look, the lines printed.)
SPLATS='BUG:|WARNING:|Oops|refcount_t|list_del corruption|list_add corruption|general protection|KASAN|UBSAN|kernel BUG|Call Trace|circular locking|possible recursive locking|inconsistent lock state|sleeping function called from invalid context|soft lockup|hung_task|blocked for more than|self-detected stall'
splats_seen=$(dmesg | grep -cE "$SPLATS")

# no_splat WHEN: no new splat line in dmesg since the last look; otherwise
# prints them and the end of dmesg, and fails.
no_splat() {
	local n

	n=$(dmesg | grep -cE "$SPLATS")
	if [ "$n" -gt "$splats_seen" ]; then
		echo "FAIL: kernel splat in dmesg $1:"
		dmesg | grep -E "$SPLATS" | tail -n $((n - splats_seen)) | sed 's/^/    /'
		echo "INFO: the end of dmesg:"
		dmesg | tail -n 80 | sed 's/^/    /'
		splats_seen=$n
		return 1
	fi
	return 0
}

# refcnt: rustfilter's module reference count.
refcnt() {
	local n

	read -r n 2> /dev/null < /sys/module/rustfilter/refcnt
	echo "$n"
}
refcnt_zero() {
	# Tried once: = 1 made every unload fail, the count printed.
	[ "$(refcnt)" = 0 ]
}
gone() {
	! kill -0 "$1" 2> /dev/null
}

# Seconds rmmod may take. The module's exit waits for every connection to
# be freed, so one that leaked would hang it for ever.
: "${RMMOD_TIMEOUT:=30}"
rmmod_stuck=0

# unload_checked WHAT: the reference count reaches 0 (within 5 s), then
# rmmod rustfilter succeeds within RMMOD_TIMEOUT seconds and the module is
# gone. A stuck rmmod ends the test (it cannot be killed): its stack and
# dmesg are printed.
unload_checked() {
	local what=$1 pid rc

	if ! busywait 5000 refcnt_zero; then
		echo "FAIL: $what: rustfilter's reference count is $(refcnt), not 0, 5 s on"
		return 1
	fi
	rmmod rustfilter > "$tmp/rmmod.out" 2>&1 &
	pid=$!
	if ! busywait $((RMMOD_TIMEOUT * 1000)) gone "$pid"; then
		rmmod_stuck=1
		echo "FAIL: $what: rmmod rustfilter still running after $RMMOD_TIMEOUT s"
		echo "INFO: rmmod's stack:"
		sed 's/^/    /' "/proc/$pid/stack" 2> /dev/null
		echo "INFO: the end of dmesg:"
		dmesg | tail -n 30 | sed 's/^/    /'
		exit $ksft_fail
	fi
	wait "$pid"
	rc=$?
	if [ $rc -ne 0 ] || rf_loaded; then
		echo "FAIL: $what: rmmod rustfilter exited $rc: $(cat "$tmp/rmmod.out")"
		return 1
	fi
	return 0
}

# shrink_slabs: shrink every slab cache, which also frees the objects
# KASAN holds in quarantine (up to 1/32 of the memory otherwise), so that
# slab use is what is live.
shrink_slabs() {
	local f

	for f in /sys/kernel/slab/*/shrink; do
		echo 1 > "$f" 2> /dev/null
	done
}

# mem: "SLAB_KB VMALLOC_KB PERCPU_KB SUNRECLAIM_KB": the live slab objects
# (active objects x object size, summed over /proc/slabinfo), vmalloc and
# per-CPU use, and the unreclaimable slab pages (which also count the free
# room in partly used slabs), after RCU had a moment to free what waits
# for a grace period.
mem() {
	local slab

	shrink_slabs
	sleep 1
	shrink_slabs
	slab=$(awk 'NR > 2 { s += $2 * $4 } END { printf "%d", s / 1024 }' /proc/slabinfo)
	awk -v slab="$slab" '/^SUnreclaim:/ { s = $2 } /^VmallocUsed:/ { v = $2 }
		/^Percpu:/ { p = $2 } END { print slab, v, p, s }' /proc/meminfo
}

# mem_grown_ok SLAB0 VMALLOC0 PERCPU0 SUNR0 OVER: memory use now (mem),
# with the module unloaded, against the figures taken before; prints both,
# and fails (with a FAIL line naming OVER, "30 rounds" say) if live slab
# objects or vmalloc use grew by more than 1 MiB.
mem_grown_ok() {
	local slab0=$1 vmalloc0=$2 percpu0=$3 sunr0=$4 over=$5
	local slab1 vmalloc1 percpu1 sunr1 ok=0

	read -r slab1 vmalloc1 percpu1 sunr1 <<< "$(mem)"
	echo "INFO: with the module unloaded: slab objects $slab0 -> $slab1 kB (SUnreclaim $sunr0 -> $sunr1 kB), VmallocUsed $vmalloc0 -> $vmalloc1 kB, Percpu $percpu0 -> $percpu1 kB"
	if [ -z "$slab1" ] || [ $((slab1 - slab0)) -gt 1024 ]; then
		echo "FAIL: live slab objects grew by $((slab1 - slab0)) kB over $over"
		ok=1
	fi
	if [ -z "$vmalloc1" ] || [ $((vmalloc1 - vmalloc0)) -gt 1024 ]; then
		echo "FAIL: vmalloc use grew by $((vmalloc1 - vmalloc0)) kB over $over"
		ok=1
	fi
	return $ok
}

# short_orphans NS...: TCP sockets closed by their process (orphans) give
# up after one retransmission and 3 s in FIN_WAIT2: each holds its
# namespace, and one sending to a namespace already gone would keep its own
# for minutes after the test deleted it.
short_orphans() {
	local ns

	for ns in "$@"; do
		ip netns exec "$ns" sysctl -q net.ipv4.tcp_orphan_retries=1 \
			net.ipv4.tcp_fin_timeout=3
	done
}

# netns_live: network namespaces allocated (net_namespace objects), once
# the caches are shrunk.
netns_live() {
	shrink_slabs
	awk '$1 == "net_namespace" { print $2 }' /proc/slabinfo
}

# netns_flush: make and delete a namespace, so that the kernel frees the
# namespaces it destroyed before: it keeps the last ones it destroyed until
# it destroys another (net_complete_free() waits for an extra
# rcu_barrier), and destroys namespaces queued together in one batch.
netns_flush() {
	local ns=rfstress-flush-$$

	ip netns add "$ns" && ip netns delete "$ns"
}

# netns_settle [N]: flush once a second until at most N (default: 1, the
# namespace of the last flush) namespaces are allocated, for up to 30 s;
# prints how many are.
netns_settle() {
	local want=${1:-1} i n

	for i in $(seq 1 30); do
		netns_flush
		sleep 1
		n=$(netns_live)
		[ -n "$n" ] && [ "$n" -le "$want" ] && break
	done
	echo "$n"
}

# serve NS LOG ARGS: rfserve ARGS in NS in the background (pid in
# srv_pids: cleanup_ns ends them with their namespace).
srv_pids=()
serve() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$RFSERVE" "$@" > "$tmp/$log.log" 2>&1 &
	srv_pids+=($!)
}

# listening NS PROTO PORT: a TCP listener or a UDP socket on PORT in NS.
listening() {
	ip netns exec "$1" cat "/proc/net/$2" |
		awk -v p="$(printf ':%04X' "$3")" -v tcp="$([ "$2" = tcp ] && echo 1)" '
			substr($2, length($2) - 4) == p && (!tcp || $4 == "0A") { f = 1 }
			END { exit !f }'
}

# stop_bg: end the traffic loops (the pids in bg_pids).
stop_bg() {
	local p

	touch "$tmp/stop"
	for p in "${bg_pids[@]}"; do
		kill "$p" 2> /dev/null
	done
	wait "${bg_pids[@]}" 2> /dev/null
	bg_pids=()
	rm -f "$tmp/stop"
}

# stress_cleanup: the EXIT trap of the scripts that unload the module:
# stops the traffic, removes the namespaces and $tmp, and leaves the
# module loaded or not as it was before the test (not after a stuck
# rmmod).
stress_cleanup() {
	stop_bg
	cleanup_all_ns
	rm -rf "$tmp"
	[ $rmmod_stuck -eq 1 ] && return
	if [ $was_loaded -eq 1 ]; then
		rf_load
	else
		rf_unload
	fi
}

# tcp_loop NS LOG: in the background (in bg_pids), TCP exchanges from NS
# with the echo server 10.0.2.2:7 every 0.3 s until $tmp/stop exists,
# each answer (or "fail") a line of LOG; bash's /dev/tcp, so no process
# per exchange.
tcp_loop() {
	ip netns exec "$1" bash -c '
		exec 9<> "$1/never"
		while [ ! -e "$1/stop" ]; do
			line=fail
			if exec 3<> /dev/tcp/10.0.2.2/7; then
				echo tcp >&3
				read -r -t 2 line <&3 || line=fail
				exec 3>&-
			fi
			echo "$line"
			read -r -t 0.3 -u 9
		done' tcp-loop "$tmp" >> "$2" 2>&1 &
	bg_pids+=($!)
}
