#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures (kernel fault injection) on the ruleset commit path
# and on the packet path.
#
# It found that a COMMIT (and CT_SET) whose netlink acknowledgement could
# not be allocated was reported as failed although the change was made
# (netlink_ack runs after the handler: rfctl now asks for no
# acknowledgement and takes the reply, made before the change, as the
# answer), and that counters were not carried when memory ran out after
# publication (the room to read them is now allocated before).
#
# (a) Every failure path of a commit leaves the running ruleset and its
#     counters unchanged. The router holds ruleset A (mangle, nat, filter,
#     with counters from real packets and from restore -c; no traffic
#     during the checks, so they are stable). For N = 1, 2, 3, ... rfctl
#     makes the N-th fault-injection point of one request fail
#     (RFCTL_FAIL_NTH, /proc/<tid>/fail-nth; failslab and fail_page_alloc
#     with ignore-gfp-wait=N, so sleeping allocations count too) until the
#     request passes without reaching the N-th point. For every N whose
#     fault was injected, either the command failed and `rfctl save -c` is
#     byte for byte what it was, or it succeeded and the new state is fully
#     in place (an allocation with a fallback, kvmalloc's vmalloc say, may
#     fail without harm). Requests: the first and the last COMMIT of a
#     restore of ruleset B (raw, mangle, nat, filter: a restore is one
#     transaction per table, so after a failure at table K the tables
#     before K are B's and the others A's), the COMMIT of a restore of the
#     nat table alone, the COMMIT of a single-rule edit (-A, counters
#     carried over), the CHUNK of the filter table, and conntrack
#     --set-max/--set-timeout (CT_SET: on failure, neither changes).
#     And the first ruleset of a fresh namespace, whose COMMIT registers
#     its table's hooks (a nat table: conntrack's and nat's) before it
#     publishes it: on failure no rule and no nat hook (conntrack's,
#     registered first, may stay), on success both (with nft and
#     nfnetlink_hook to list the hooks).
# (b) Allocation failures on the packet path: failslab with probability
#     20 for every allocation that cannot sleep (GFP_ATOMIC, GFP_NOWAIT),
#     in any context, softirq included, for 5 s while ping, UDP (udp-many)
#     and TCP run through the router's conntrack and MASQUERADE. Packets
#     may be lost; afterwards traffic flows, conntrack -C equals the
#     number of connections listed and drops to 0 after -F, and the
#     module unloads.
# Throughout: nothing in dmesg that looks like a splat.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#   (the server has no route back: only MASQUERADEd traffic is answered)
#
# Every check can be made to fail on purpose: RF_FAULTS_BREAK=NAME[,NAME]
# (in the VM: VM_APPEND="RF_FAULTS_BREAK=all", the kernel hands unknown
# parameters to init as environment) turns that check's expectation
# around; NAME is restore, nat, edit, chunk, ct, first, traffic, packet,
# splat or all. See `broken` below and where it is used.
#
# env: MAX_N (500: bound of each N loop), COMMITS ("1 4": which commits
#      of the restore of B are swept; "1 2 3 4" for all), FAULT_SECS (5:
#      length of (b)), FAULT_PROBABILITY (20), FAULT_DIAG (1: verbose=2,
#      and each N prints the call chain of the allocation that failed;
#      the stack dumps make the splat checks fail, so for diagnosis only)

source lib.sh

rf_require_tools
rf_require_module
: "${RFSERVE:=$(command -v rfserve)}"
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ] || ! "$RFSERVE" --help | grep -q udp-many; then
	echo "SKIP: Could not run test without rfserve (echo, udp-many)"
	exit $ksft_skip
fi
for t in timeout nsenter; do
	if ! command -v $t > /dev/null 2>&1; then
		echo "SKIP: Could not run test without $t"
		exit $ksft_skip
	fi
done
if [ ! -e /proc/self/fail-nth ]; then
	echo "SKIP: Could not run test without fault injection (CONFIG_FAULT_INJECTION: no /proc/self/fail-nth)"
	exit $ksft_skip
fi
DBG=/sys/kernel/debug
if [ ! -d "$DBG/failslab" ]; then
	mount -t debugfs debugfs "$DBG" 2> /dev/null
fi
if [ ! -d "$DBG/failslab" ] || [ ! -d "$DBG/fail_page_alloc" ]; then
	echo "SKIP: Could not run test without failslab and fail_page_alloc in debugfs"
	echo "      (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)"
	exit $ksft_skip
fi

MAX_N=${MAX_N:-500}
COMMITS=${COMMITS:-1 4}
FAULT_DIAG=${FAULT_DIAG:-0}
FAULT_SECS=${FAULT_SECS:-5}
FAULT_PROBABILITY=${FAULT_PROBABILITY:-20}
BREAK=${RF_FAULTS_BREAK:-}
# As scripts/guest-init.sh.
SPLATS='BUG:|WARNING:|KASAN:|UBSAN:|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|Oops|Call Trace|kernel BUG|general protection fault|list_add corruption|list_del corruption|refcount_t:|rcu_sched self-detected stall|soft lockup|hung_task|blocked for more than'

ret=0
tmp=$(mktemp -d)
dmesg_start=$(dmesg | wc -l)
warned_before=$(dmesg | grep -c "rustfilter: out of memory")
bg_pids=()

# broken NAME: whether check NAME is to expect the wrong thing (to show
# that it can fail).
broken() {
	[[ ",$BREAK," == *",$1,"* || ",$BREAK," == *",all,"* ]]
}

##############################################################################
# Fault injection settings (restored at the end)

FAULT_TYPES="failslab fail_page_alloc"
FAULT_ATTRS="probability interval times space verbose verbose_ratelimit_burst task-filter ignore-gfp-wait"

fault_save() {
	local t a
	for t in $FAULT_TYPES; do
		for a in $FAULT_ATTRS; do
			cat "$DBG/$t/$a" > "$tmp/fault.$t.$a" 2> /dev/null
		done
	done
}

# fault_set TYPE ATTR=VALUE...
fault_set() {
	local t=$1 kv
	shift
	for kv in "$@"; do
		if ! echo "${kv#*=}" > "$DBG/$t/${kv%%=*}"; then
			echo "FAIL: cannot set $t/${kv%%=*} to ${kv#*=}"
			return 1
		fi
	done
}

fault_restore() {
	local t a
	for t in $FAULT_TYPES; do
		# Off first, then the rest.
		echo 0 > "$DBG/$t/probability" 2> /dev/null
		for a in $FAULT_ATTRS; do
			[ -s "$tmp/fault.$t.$a" ] && cat "$tmp/fault.$t.$a" > "$DBG/$t/$a" 2> /dev/null
		done
	done
}

cleanup() {
	local p
	fault_restore
	for p in "${bg_pids[@]}"; do
		kill "$p" 2> /dev/null
	done
	cleanup_all_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

fault_save
# fail-nth only: no random failures (probability 0); every allocation
# counts, sleeping or not (ignore-gfp-wait=N); no messages, whose stack
# dumps would look like splats (verbose=0). fail_page_alloc keeps its
# min-order (1) and ignore-gfp-highmem (Y): page faults on rfctl's own
# memory never count.
verbose=0
[ "$FAULT_DIAG" = 1 ] && verbose=2
for t in $FAULT_TYPES; do
	fault_set "$t" probability=0 interval=1 times=-1 space=0 verbose=$verbose \
		task-filter=N ignore-gfp-wait=N || exit $ksft_fail
	[ "$FAULT_DIAG" = 1 ] && fault_set "$t" verbose_ratelimit_burst=1000
done

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns client router server
rf_setup_router || exit $ksft_fail
ip -n "$server" route del default || exit $ksft_fail

# rfctl in the router: nsenter is lighter than ip netns exec, and each
# process counts under TCG (a sweep runs some 300 of them).
rfr() { nsenter --net="/run/netns/$router" "$RFCTL" "$@"; }
at_client() { nsenter --net="/run/netns/$client" "$@"; }

ip netns exec "$server" "$RFSERVE" echo --port 7 --tag server --peer > "$tmp/echo.log" 2>&1 &
bg_pids+=($!)

# listening PROTO PORT: the server has a socket on PORT.
listening() {
	ip netns exec "$server" cat "/proc/net/$1" |
		awk -v p="$(printf ':%04X' "$2")" 'substr($2, length($2) - 4) == p { f = 1 }
			END { exit !f }'
}
if ! busywait 10000 listening tcp 7 || ! busywait 10000 listening udp 7; then
	echo "FAIL: the echo server does not listen"
	cat "$tmp/echo.log"
	exit $ksft_fail
fi

# ping_all COUNT: COUNT pings from the client to the server, all answered.
ping_all() {
	local out
	out=$(at_client ping -q -c "$1" -W 2 10.0.2.2 2>&1)
	if ! echo "$out" | grep -q "$1 packets transmitted, $1 packets received"; then
		echo "INFO: ping: $(echo "$out" | grep transmitted)"
		return 1
	fi
}

# echo_ok PROTO: one exchange with the echo server, seen from the
# router's outside address (MASQUERADE).
echo_ok() {
	local out
	out=$(at_client timeout 10 "$RFSERVE" echo-client --proto "$1" --server 10.0.2.2 \
		--port 7 --data "check-$1" --timeout 3 2>&1)
	if [[ $out != *"reply=server 10.0.2.1:"*" check-$1" ]]; then
		echo "INFO: $1 echo: $out"
		return 1
	fi
}

# traffic_flows WHAT [CHECK]: ping, UDP and TCP through the router are
# answered. A CHECK (not the setup's) can be broken: then a ping to an
# address nobody has must be answered too.
traffic_flows() {
	local l=0

	ping_all 3 || l=1
	if [ -n "${2:-}" ] && broken traffic; then
		at_client ping -q -c 1 -W 1 10.0.2.99 > /dev/null 2>&1 || l=1
	fi
	echo_ok udp || l=1
	echo_ok tcp || l=1
	[ $l -eq 0 ] || echo "FAIL: $1: traffic through the router is not answered"
	return $l
}

# no_splat WHAT: nothing splat-like in dmesg since the test started.
no_splat() {
	local new
	if broken splat && [ ! -e "$tmp/splat-planted" ]; then
		echo "WARNING: rustfilter_faults.sh: a planted line (RF_FAULTS_BREAK=splat)" > /dev/kmsg
		touch "$tmp/splat-planted"
	fi
	new=$(dmesg | tail -n +$((dmesg_start + 1)))
	if echo "$new" | grep -Eq "$SPLATS"; then
		echo "FAIL: $1: kernel splat in dmesg:"
		echo "$new" | grep -E -B 2 -A 30 "$SPLATS" | head -n 80 | sed 's/^/    /'
		return 1
	fi
	return 0
}

##############################################################################
# The rulesets

# A: the running ruleset (mangle, nat, filter). Counters come from
# restore -c and from the packets below.
cat > "$tmp/A" <<'EOF'
*mangle
:PREROUTING ACCEPT [11:924]
:INPUT ACCEPT [3:252]
:FORWARD ACCEPT [8:672]
:OUTPUT ACCEPT [2:168]
:POSTROUTING ACCEPT [10:840]
[4:336] -A PREROUTING -i veth1 -p icmp -j MARK --set-xmark 0x5/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [2:168]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [1:84]
:POSTROUTING ACCEPT [1:84]
[2:168] -A POSTROUTING -o veth2 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [3:252]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [2:168]
[6:504] -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[2:168] -A FORWARD -i veth1 -o veth2 -j ACCEPT
[1:60] -A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset
COMMIT
EOF

# B: what replaces it, larger, every table, in the order rfctl save
# writes them (a restore commits them in input order).
TABLES="raw mangle nat filter"
{
	cat <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp
-A PREROUTING -p udp -m udp --dport 69 -j CT --helper tftp
-A PREROUTING -s 192.0.2.0/24 -j CT --notrack
-A OUTPUT -p udp -m udp --dport 9 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MARKS - [0:0]
-A PREROUTING -i veth1 -j MARKS
-A MARKS -p icmp -j MARK --set-xmark 0x5/0xffffffff
-A MARKS -p tcp -m multiport --dports 7,21,80 -j MARK --set-xmark 0x7/0xffffffff
-A MARKS -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
-A FORWARD -p tcp -j TOS --set-tos 0x10/0x3f
-A POSTROUTING -o veth2 -p udp -j DSCP --set-dscp 0x0a
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:PORTFW - [0:0]
-A PREROUTING -i veth2 -j PORTFW
-A PREROUTING -i veth1 -p tcp -m tcp --dport 3128 -j REDIRECT --to-ports 3129
-A PORTFW -d 10.0.2.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.1.2:80
-A PORTFW -d 10.0.2.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.0.1.2:53
-A POSTROUTING -s 10.0.1.0/24 -o veth2 -p udp -j SNAT --to-source 10.0.2.1:20000-20100
-A POSTROUTING -o veth2 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:BLOCK - [0:0]
:FWD - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -i veth1 -j FWD
-A FWD -m iprange --src-range 10.0.1.100-10.0.1.200 -j BLOCK
-A FWD -p icmp -m icmp --icmp-type 8 -m limit --limit 100/sec --limit-burst 50 -j ACCEPT
-A FWD -p udp -m multiport --dports 7,9,53,69 -j ACCEPT
-A FWD -m mark --mark 0x5 -j ACCEPT
EOF
	for p in 7 21 22 25 80 110 143 443 993 995; do
		echo "-A FWD -p tcp -m tcp --dport $p -m conntrack --ctstate NEW -j ACCEPT"
	done
	echo '-A FWD -j LOG --log-prefix "fwd-drop: "'
	echo "-A BLOCK -j REJECT --reject-with icmp-admin-prohibited"
	echo "-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset"
	for i in $(seq 1 20); do
		echo "-A INPUT -s 192.0.2.$i/32 -j DROP"
	done
	echo "COMMIT"
} > "$tmp/B"

# C: a nat table alone, larger than A's.
{
	echo "*nat"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":INPUT ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":POSTROUTING ACCEPT [0:0]"
	for i in $(seq 1 20); do
		echo "-A PREROUTING -d 10.0.2.1/32 -p tcp -m tcp --dport $((8000 + i)) -j DNAT --to-destination 10.0.1.2:$((100 + i))"
	done
	echo "-A OUTPUT -d 10.0.2.1/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 5353"
	echo "-A INPUT -s 10.0.2.2/32 -p udp -j SNAT --to-source 10.0.2.1"
	echo "-A POSTROUTING -s 10.0.1.0/24 -o veth2 -p tcp -j SNAT --to-source 10.0.2.1:30000-30100 --random"
	echo "-A POSTROUTING -o veth2 -j MASQUERADE --random"
	echo "COMMIT"
} > "$tmp/C"

# state_of NAME...: the router's `save -c` as it would be with each table
# from the named state (A, B or C), one name per table of $TABLES, e.g.
# state_of B B A A: raw and mangle from B, nat and filter from A.
state_of() {
	local t s
	for t in $TABLES; do
		s=$1
		shift
		cat "$tmp/$s.$t"
	done
}

# set_a: the router back to A, counters and all; fails unless save -c
# shows exactly the recorded A.
set_a() {
	rfr restore -c "$tmp/A.saved" > /dev/null 2>&1 &&
		rfr save -c > "$tmp/now" 2> /dev/null && cmp -s "$tmp/now" "$tmp/A.saved"
}

##############################################################################
# Setup: A in place, with counters from real packets, stable.

l=0
rfr restore -c "$tmp/A" || l=1
rfr conntrack --set-timeout icmp=600,udp_unreplied=600,udp_replied=600 || l=1
traffic_flows "ruleset A" || l=1
# The TCP exchange's last ACK and anything in flight settle.
sleep 1
rfr save -c > "$tmp/A.saved" || l=1
sleep 1
rfr save -c > "$tmp/now" || l=1
if ! cmp -s "$tmp/A.saved" "$tmp/now"; then
	echo "FAIL: the counters still change without traffic:"
	diff "$tmp/A.saved" "$tmp/now" | sed 's/^/    /'
	l=1
fi
if ! grep -q '^\[[1-9][0-9]*:[0-9]*\] -A FORWARD -m conntrack' "$tmp/A.saved"; then
	echo "FAIL: ruleset A did not count the traffic:"
	sed 's/^/    /' "$tmp/A.saved"
	l=1
fi
# split_tables STATE: the save -c output $tmp/STATE.saved into one file per
# table, $tmp/STATE.TABLE (each from its "# Generated by" line on).
split_tables() {
	awk -v dir="$tmp" -v state="$1" '
		/^# Generated by/ { out = "" }
		/^\*/ { out = dir "/" state "." substr($1, 2) }
		{ buf = buf $0 "\n" }
		/^# Completed/ { printf "%s", buf > out; close(out); buf = "" }' "$tmp/$1.saved"
}
split_tables A
if ! state_of A A A A | cmp -s - "$tmp/A.saved"; then
	echo "FAIL: save -c does not write the tables $TABLES, each once"
	l=1
fi
# B and C as they save, with zero counters: in place once, then A again.
rfr restore "$tmp/B" || l=1
rfr save -c > "$tmp/B.saved" || l=1
split_tables B
rfr restore "$tmp/C" || l=1
rfr save -c > "$tmp/C.saved" || l=1
split_tables C
if ! set_a; then
	echo "FAIL: restore -c of save -c output does not give the same save -c:"
	diff "$tmp/A.saved" "$tmp/now" | sed 's/^/    /'
	l=1
fi
echo "# ruleset A: $(grep -c '^\[' "$tmp/A.saved") rules; B: $(grep -c '^-A' "$tmp/B") rules in 4 tables; C (nat): $(grep -c '^-A' "$tmp/C") rules"
rf_check "setup: ruleset A in place with stable non-zero counters; B and C restore" $l
if [ $l -ne 0 ]; then
	exit $ksft_fail
fi

##############################################################################
# (a) The commit path, one injection point after the other

# SHORT_SYMBOLS: an awk program that prints each line's symbol, a Rust
# v0 one (_R...) shortened to its identifiers: a rough demangling, for
# reading FAULT_DIAG's call chains.
SHORT_SYMBOLS='
function short(sym,   out, i, j, n, id, skip) {
	if (sym !~ /^_R/)
		return sym
	skip = " kernel alloc allocator kvec kbox core ptr non_null mem maybe_uninit init sync arc error net genetlink rustfilter Kmalloc KVmalloc Vec Box "
	out = ""
	i = 1
	while (i <= length(sym)) {
		# A crate disambiguator: Cs<base 62>_.
		if (substr(sym, i, 2) == "Cs") {
			j = index(substr(sym, i), "_")
			if (j > 0) {
				i += j
				continue
			}
		}
		if (substr(sym, i, 1) ~ /[0-9]/ && substr(sym, i - 1, 1) !~ /[0-9]/) {
			n = ""
			j = i
			while (substr(sym, j, 1) ~ /[0-9]/) {
				n = n substr(sym, j, 1)
				j++
			}
			if (substr(sym, j, 1) == "_")
				j++
			id = substr(sym, j, n + 0)
			if (n + 0 > 2 && id ~ /^[A-Za-z_][A-Za-z0-9_]*$/) {
				if (index(skip, " " id " ") == 0)
					out = out (out == "" ? "" : "::") id
				i = j + n
				continue
			}
		}
		i++
	}
	return out
}
{ print short($1) }
'

# faulty N AT ARGS: rfctl ARGS in the router (or in $faulty_ns) with the
# N-th fault-injection point of request AT failing. Sets rc, injected (1 if the fault was
# injected), points (how many points the request passed, when not) and
# msg (what else rfctl said on stderr, on one line).
faulty() {
	local n=$1 at=$2 err
	shift 2
	[ "$FAULT_DIAG" = 1 ] && dmesg -c > /dev/null
	err=$(RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=$at RFCTL_FAIL_NTH_REPORT=1 \
		nsenter --net="/run/netns/${faulty_ns:-$router}" timeout 60 "$RFCTL" "$@" 2>&1 > /dev/null)
	rc=$?
	injected=0
	points=
	case $err in
	*"rfctl: fail-nth $n at "*": fault injected"*) injected=1 ;;
	*"injection points passed)"*)
		points=${err##*no fault injected (}
		points=${points%% injection points passed)*}
		;;
	esac
	msg=$(echo "$err" | grep -v "^rfctl: fail-nth " | tr '\n' ' ')
	msg=${msg% }
	if [ $rc -eq 124 ]; then
		msg="rfctl hung (killed after 60 s) $msg"
	fi
	if [ "$FAULT_DIAG" = 1 ] && [ $injected -eq 1 ]; then
		# The failed allocation's callers, allocator and syscall
		# frames left out.
		dmesg | sed -n '/FAULT_INJECTION/,$p' | sed -n 's/^\[[^]]*\] *//; s/+0x.*//p' |
			grep -v -E '^(\? |dump_stack|should_fail|fail_dump|kasan|kmem_cache_alloc|__kmalloc|krealloc|kvrealloc|__alloc_pages|alloc_pages|prepare_alloc|__x64_sys|do_syscall|entry_SYSCALL)' |
			head -n 7 | awk "$SHORT_SYMBOLS" | tr '\n' ' ' | sed "s/^/#     N=$n: /; s/ $/\n/"
	fi
}

# record NAME N OUTCOME: notes one N's outcome for the summary of NAME.
record() {
	echo "$2 $3" >> "$tmp/outcomes.$1"
}

# summary NAME: the outcomes of NAME, runs of N with the same outcome on
# one line.
summary() {
	awk '
		{ n = $1; $1 = ""; o = substr($0, 2) }
		o != last { if (NR > 1) flush(); first = n; last = o }
		{ prev = n }
		function flush() {
			printf "#   N=%s%s: %s\n", first, (prev != first ? "-" prev : ""), last
		}
		END { if (NR) flush() }' "$tmp/outcomes.$1"
}

# expect_state WHAT EXPECTED [QUIET]: the router's save -c is the file
# EXPECTED; if not, prints WHAT and the difference (only WHAT if QUIET).
expect_state() {
	rfr save -c > "$tmp/now" 2>&1
	if cmp -s "$tmp/now" "$2"; then
		return 0
	fi
	echo "FAIL: $1"
	if [ -z "${3:-}" ]; then
		echo "    difference to what was expected (-) in the router's save -c (+):"
		diff -u "$2" "$tmp/now" | tail -n +3 | grep '^[-+@]' | head -n 30 | sed 's/^/    /'
	fi
	return 1
}

# sweep NAME AT FAILED_STATE COMMITTED_STATE DONE_STATE ARGS: for N = 1,
# 2, ... run `rfctl ARGS` with fault N at request AT, from state A each
# time, until the request passes without reaching the N-th point. A
# command that failed must leave FAILED_STATE (a file), one that succeeded
# DONE_STATE; COMMITTED_STATE is what the request itself would have left
# had it gone through (for the summary of what went wrong). The outcomes
# are summarised; the check's result is in l.
sweep() {
	local name=$1 at=$2 failed_state=$3 committed_state=$4 done_state=$5
	shift 5
	local n=0 hit=0 dirty=0 want quiet= lret=0 warned

	rm -f "$tmp/outcomes.$name"
	# Each N starts from what a failure must leave, so that only a
	# success (or a bug) needs the ruleset put back; restore -c
	# reproduces a save -c exactly (checked in the setup).
	dirty=1
	while [ $n -lt "$MAX_N" ]; do
		n=$((n + 1))
		if [ $dirty -eq 1 ]; then
			if ! rfr restore -c "$failed_state"; then
				echo "FAIL: $name: cannot put the ruleset back before N=$n"
				lret=1
				break
			fi
			dirty=0
		fi
		faulty $n "$at" "$@"
		if [ $injected -eq 0 ]; then
			if [ -z "$points" ]; then
				echo "FAIL: $name, N=$n: rfctl did not report on fail-nth: $msg"
				lret=1
			elif [ $rc -ne 0 ]; then
				echo "FAIL: $name, N=$n: no fault injected, yet rfctl failed: $msg"
				lret=1
			elif ! expect_state "$name, N=$n: no fault injected, yet not in the new state" "$done_state"; then
				lret=1
			fi
			echo "#   N=$n: no fault injected: the request passes $points injection points"
			break
		fi
		hit=$((hit + 1))
		dirty=1
		# What the module said about a fault it survived (counters
		# not carried over, say).
		warned=
		if [ $rc -eq 0 ]; then
			warned=$(dmesg | grep -c "rustfilter: out of memory")
			if [ "$warned" != "$warned_before" ]; then
				warned_before=$warned
				warned="; the module logged: $(dmesg | grep "rustfilter: out of memory" | tail -n 1 | sed 's/^\[[^]]*\] *//')"
			else
				warned=
			fi
		fi
		if [ $rc -ne 0 ]; then
			want=$failed_state
			broken "$name" && want=$done_state
			if expect_state "$name, N=$n: rfctl failed (${msg:-no message}) but changed the ruleset or counters" "$want" $quiet; then
				record "$name" $n "failed, ruleset and counters untouched: ${msg:-no message}$warned"
				[ "$want" = "$failed_state" ] && dirty=0
			else
				quiet=1
				if cmp -s "$tmp/now" "$committed_state"; then
					record "$name" $n "FAILED, YET THE REQUEST TOOK EFFECT: ${msg:-no message}$warned"
				else
					record "$name" $n "FAILED, YET THE STATE CHANGED: ${msg:-no message}$warned"
				fi
				echo "$name N=$n (RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=$at rfctl $*): ${msg:-no message}" >> "$tmp/bugs"
				lret=1
			fi
		else
			if expect_state "$name, N=$n: rfctl succeeded despite the fault but the new state is not fully in place" "$done_state"; then
				record "$name" $n "succeeded, fully in place (the failed allocation has a fallback)$warned"
			else
				record "$name" $n "SUCCEEDED, YET NOT FULLY IN PLACE$warned"
				echo "$name N=$n (RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=$at rfctl $*): succeeded, state wrong" >> "$tmp/bugs"
				lret=1
			fi
		fi
	done
	if [ $n -ge "$MAX_N" ] && [ $injected -eq 1 ]; then
		echo "FAIL: $name: still injecting at N=$MAX_N (MAX_N)"
		lret=1
	fi
	if [ $hit -eq 0 ]; then
		echo "FAIL: $name: no fault was ever injected: fault injection does not reach the request"
		lret=1
	fi
	[ -s "$tmp/outcomes.$name" ] && summary "$name"
	set_a || { echo "FAIL: $name: cannot put ruleset A back"; lret=1; }
	l=$lret
}

# The restore of B, one COMMIT after the other (COMMITS): failing at
# table K leaves B's tables before K and A's from K on.
start=$(date +%s)
state_of B B B B > "$tmp/done.B"
for k in $COMMITS; do
	case $k in
	1) failed="A A A A" ;;
	2) failed="B A A A" ;;
	3) failed="B B A A" ;;
	4) failed="B B B A" ;;
	esac
	t=$(echo $TABLES | cut -d ' ' -f $k)
	state_of $failed > "$tmp/failed.$k"
	# Table K from B too.
	echo "$failed" | awk -v k=$k '{ $k = "B"; print }' > "$tmp/committed"
	# shellcheck disable=SC2046 # one word per table
	state_of $(cat "$tmp/committed") > "$tmp/committed.$k"
	echo "# restore of B (4 tables), faults in commit $k ($t table):"
	sweep restore "commit:$k" "$tmp/failed.$k" "$tmp/committed.$k" "$tmp/done.B" restore "$tmp/B"
	rf_check "restore of 4 tables, faults in commit $k ($t): a failed commit changes nothing" $l
done

echo "# restore of the nat table alone (C):"
state_of A A C A > "$tmp/done.C"
sweep nat commit "$tmp/A.saved" "$tmp/done.C" "$tmp/done.C" restore "$tmp/C"
rf_check "restore of the nat table alone, faults in its commit: a failed commit changes nothing" $l

# A single-rule edit: read, change, commit with the counters carried over
# (A_CARRY): success means A's counters and the new rule, at 0. (Packets
# counted between the read and the commit would show whether the counters
# were carried; there are none here, so a failed carry shows only in what
# the module logs, which the summary quotes.)
EDIT="-A FORWARD -p udp -m udp --dport 9999 -j DROP"
awk -v rule="[0:0] $EDIT" '
	{ line[NR] = $0 }
	/^\*/ { table = $1 }
	table == "*filter" && /^\[[0-9]+:[0-9]+\] -A FORWARD / { last = NR }
	END { for (i = 1; i <= NR; i++) { print line[i]; if (i == last) print rule } }' \
	"$tmp/A.saved" > "$tmp/done.edit"
echo "# rfctl $EDIT:"
# shellcheck disable=SC2086 # the rule's words
sweep edit commit "$tmp/A.saved" "$tmp/done.edit" "$tmp/done.edit" $EDIT
rf_check "single-rule edit, faults in its commit: failed changes nothing, success keeps every counter" $l

# The filter table's CHUNK (the fourth transaction of the restore of B):
# a failed chunk is aborted, the commit never sent.
echo "# restore of B, faults in chunk 4 (filter table):"
state_of B B B A > "$tmp/failed.chunk"
sweep chunk "chunk:4" "$tmp/failed.chunk" "$tmp/failed.chunk" "$tmp/done.B" restore "$tmp/B"
rf_check "restore of 4 tables, faults in the filter table's chunk: the table is untouched" $l
echo "# the table sweeps took $(( $(date +%s) - start ))s"

# conntrack --set-max/--set-timeout (one CT_SET): on failure neither the
# maximum nor the timeouts change. The ICMP timeout shows in the seconds
# left of a new ping's connection.
ct_state() {
	local max secs
	max=$(rfr conntrack -S 2> /dev/null | sed -n 's/.* max=\([0-9]*\).*/\1/p')
	rfr conntrack -F > /dev/null 2>&1
	at_client ping -q -c 1 -W 2 10.0.2.2 > /dev/null 2>&1
	secs=$(rfr conntrack -L -p icmp 2> /dev/null | awk '{ print $3; exit }')
	# 1000 or 3000 seconds, a little less by now.
	echo "max=$max icmp=$(( (secs + 60) / 1000 * 1000 ))"
}
l=0
n=0
hit=0
rm -f "$tmp/outcomes.ct"
old="max=5000 icmp=1000"
new="max=7000 icmp=3000"
while [ $n -lt "$MAX_N" ]; do
	n=$((n + 1))
	rfr conntrack --set-max 5000 --set-timeout icmp=1000 || { l=1; break; }
	faulty $n set conntrack --set-max 7000 --set-timeout icmp=3000
	now=$(ct_state)
	want=$new
	if [ $injected -eq 1 ] && [ $rc -ne 0 ]; then
		want=$old
		broken ct && want=$new
	fi
	if [ "$now" != "$want" ]; then
		echo "FAIL: conntrack --set-*, N=$n (rfctl exit $rc: ${msg:-no message}): settings are $now, expected $want"
		if [ "$now" = "$new" ]; then
			record ct $n "FAILED, YET THE NEW SETTINGS ARE IN FORCE: ${msg:-no message}"
		else
			record ct $n "WRONG SETTINGS ($now): ${msg:-no message}"
		fi
		echo "ct N=$n (RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=set rfctl conntrack --set-max 7000 --set-timeout icmp=3000): ${msg:-no message}; then $now" >> "$tmp/bugs"
		l=1
	elif [ $injected -eq 0 ]; then
		[ $rc -eq 0 ] || { echo "FAIL: conntrack --set-*, N=$n: failed without a fault: $msg"; l=1; }
		echo "#   N=$n: no fault injected: the request passes $points injection points"
		break
	elif [ $rc -ne 0 ]; then
		record ct $n "failed, settings untouched: ${msg:-no message}"
	else
		record ct $n "succeeded, both settings in force"
	fi
	[ $injected -eq 1 ] && hit=$((hit + 1))
done
[ $hit -gt 0 ] || { echo "FAIL: conntrack --set-*: no fault was ever injected"; l=1; }
echo "# conntrack --set-max 7000 --set-timeout icmp=3000:"
[ -s "$tmp/outcomes.ct" ] && summary ct
rfr conntrack --set-max 65536 --set-timeout icmp=600 || l=1
rfr conntrack -F > /dev/null 2>&1
rf_check "conntrack --set-max/--set-timeout, faults in CT_SET: a failed request changes nothing" $l

# The first ruleset of a fresh namespace: its COMMIT registers conntrack's
# and nat's hooks before it publishes the nat table. Each N in a new
# namespace (hooks, once registered, stay).
FIRST="-t nat -A POSTROUTING -o eth0 -j MASQUERADE"
if ! command -v nft > /dev/null 2>&1 || ! { modprobe -q nfnetlink_hook 2> /dev/null; nft list hooks ip > /dev/null 2>&1; }; then
	echo "# first ruleset of a namespace: skipped (no nft list hooks)"
else
	l=0
	n=0
	hit=0
	rm -f "$tmp/outcomes.first"
	# nat_hooks: how many of rustfilter's nat hooks $fresh has.
	nat_hooks() {
		rf_hooks "$fresh" | grep -cE '^(prerouting|output):-100$|^(input|postrouting):100$'
	}
	while [ $n -lt "$MAX_N" ]; do
		n=$((n + 1))
		setup_ns fresh || { l=1; break; }
		faulty_ns=$fresh
		# shellcheck disable=SC2086 # the rule's words
		faulty $n commit $FIRST
		faulty_ns=
		rules=$(nsenter --net="/run/netns/$fresh" "$RFCTL" -t nat -S 2>&1 | grep -c '^-A')
		hooks=$(nat_hooks)
		if [ $injected -eq 0 ]; then
			if [ $rc -ne 0 ] || [ "$rules" != 1 ] || [ "$hooks" != 4 ]; then
				echo "FAIL: first ruleset, N=$n: no fault injected, yet rfctl exit $rc, $rules rules, $hooks nat hooks: $msg"
				l=1
			fi
			echo "#   N=$n: no fault injected: the request passes $points injection points"
			break
		fi
		hit=$((hit + 1))
		if [ $rc -ne 0 ]; then
			want="0 0"
			broken first && want="1 4"
			if [ "$rules $hooks" = "$want" ]; then
				record first $n "failed, no rule, no nat hook: ${msg:-no message}"
			else
				record first $n "FAILED, YET $rules RULES AND $hooks NAT HOOKS: ${msg:-no message}"
				echo "first N=$n (RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=commit rfctl $FIRST): ${msg:-no message}; then $rules rules, $hooks nat hooks" >> "$tmp/bugs"
				l=1
			fi
		elif [ "$rules" = 1 ] && [ "$hooks" = 4 ]; then
			record first $n "succeeded, rule and hooks in place (the failed allocation has a fallback)"
		else
			record first $n "SUCCEEDED, YET $rules RULES AND $hooks NAT HOOKS"
			echo "first N=$n (RFCTL_FAIL_NTH=$n RFCTL_FAIL_NTH_AT=commit rfctl $FIRST): succeeded; then $rules rules, $hooks nat hooks" >> "$tmp/bugs"
			l=1
		fi
	done
	[ $hit -gt 0 ] || { echo "FAIL: first ruleset: no fault was ever injected"; l=1; }
	cleanup_ns "$fresh"
	echo "# the first ruleset of a namespace (rfctl $FIRST):"
	[ -s "$tmp/outcomes.first" ] && summary first
	rf_check "first ruleset of a namespace, faults in its commit (hook registration): failed means no rule and no nat hook" $l
fi

l=0
set_a || { echo "FAIL: ruleset A is not in place after the sweeps"; l=1; }
traffic_flows "after the commit sweeps" check || l=1
no_splat "the commit sweeps" || l=1
rf_check "after the commit sweeps: ruleset A in force, traffic flows, no splat" $l

##############################################################################
# (b) The packet path: allocations in softirq fail at random

# Everything that cannot sleep (GFP_ATOMIC, GFP_NOWAIT) fails with
# FAULT_PROBABILITY percent, in every context (task-filter=N: softirq has
# no task to filter by). ignore-gfp-wait stays Y here: with N, the
# sleeping allocations of every process (fork, the shell's pipes, ping's
# sendto) would fail too and take the test down with them; the packet
# path allocates without sleeping, so it fails either way.
l=0
rfr conntrack -F > /dev/null 2>&1
before_pkts=$(rf_counter "$router" FORWARD packets)
fault_set failslab times=-1 interval=1 space=0 verbose=0 task-filter=N \
	ignore-gfp-wait=Y probability="$FAULT_PROBABILITY" || l=1
end=$(( $(date +%s) + FAULT_SECS ))
# Two pings (one waits for each answer, one sends every 20 ms), rounds of
# 100 new UDP flows, and TCP connections one after the other, all through
# conntrack and MASQUERADE; the router is asked for its count meanwhile.
at_client ping -q -A -w "$FAULT_SECS" -W 1 10.0.2.2 > "$tmp/flood.ping1" 2>&1 &
ping1=$!
at_client ping -q -i 0.02 -w "$FAULT_SECS" -W 1 10.0.2.2 > "$tmp/flood.ping2" 2>&1 &
ping2=$!
(
	rounds=0
	while [ "$(date +%s)" -lt $end ]; do
		rounds=$((rounds + 1))
		at_client timeout 10 "$RFSERVE" udp-many --server 10.0.2.2 --port 7 \
			--count 100 --timeout 2 --resend 0.5 > "$tmp/flood.udp" 2>&1
	done
	echo "$rounds rounds, the last: $(head -n 1 "$tmp/flood.udp")" > "$tmp/flood.udp-rounds"
) &
udp=$!
tcp_ok=0
tcp_tries=0
while [ "$(date +%s)" -lt $end ]; do
	tcp_tries=$((tcp_tries + 1))
	at_client timeout 5 "$RFSERVE" echo-client --proto tcp --server 10.0.2.2 --port 7 \
		--data "flood-$tcp_tries" --timeout 2 > /dev/null 2>&1 && tcp_ok=$((tcp_ok + 1))
	rfr conntrack -C > /dev/null 2>&1
done
wait $ping1 $ping2 $udp
fault_set failslab probability=0 || l=1
after_pkts=$(rf_counter "$router" FORWARD packets)
echo "# $FAULT_SECS s of failslab at ${FAULT_PROBABILITY}% (GFP_ATOMIC/NOWAIT, all contexts): $((after_pkts - before_pkts)) packets forwarded"
echo "#   ping -A: $(grep transmitted "$tmp/flood.ping1")"
echo "#   ping -i 0.02: $(grep transmitted "$tmp/flood.ping2")"
echo "#   udp-many: $(cat "$tmp/flood.udp-rounds")"
echo "#   TCP echo: $tcp_ok of $tcp_tries exchanges"
if [ $((after_pkts - before_pkts)) -lt 20 ]; then
	echo "FAIL: hardly any traffic went through the router during the faults"
	l=1
fi
no_splat "allocation failures on the packet path" || l=1
rf_check "$FAULT_SECS s of allocation failures on the packet path: no splat" $l

l=0
traffic_flows "after the packet path faults" check || l=1
if ! at_client "$RFSERVE" udp-many --server 10.0.2.2 --port 7 --count 100 --timeout 10 \
		--expect-peer 10.0.2.1 > "$tmp/udp-many" 2>&1; then
	echo "FAIL: udp-many through MASQUERADE after the faults:"
	sed 's/^/    /' "$tmp/udp-many" | head -n 12
	l=1
fi
rf_check "after the packet path faults: ping, 100 UDP flows and TCP through MASQUERADE" $l

# Connections: the count is what is listed, and -F takes it to 0.
l=0
count=$(rfr conntrack -C 2> /dev/null)
listed=$(rfr conntrack -L 2> /dev/null | wc -l)
echo "# conntrack: -C $count, -L $listed lines"
if [ -z "$count" ] || [ "$count" != "$listed" ]; then
	echo "FAIL: conntrack -C says ${count:-nothing}, -L lists $listed connections"
	l=1
fi
if [ "${count:-0}" -lt 100 ]; then
	echo "FAIL: conntrack -C is ${count:-nothing}, fewer than the 100 UDP flows just made"
	l=1
fi
rfr conntrack -F > /dev/null 2>&1 || { echo "FAIL: conntrack -F"; l=1; }
zero=0
broken packet && zero=1
ct_zero() { [ "$(rfr conntrack -C 2> /dev/null)" = "$zero" ]; }
if ! busywait 10000 ct_zero; then
	echo "FAIL: conntrack -C is $(rfr conntrack -C 2>&1) after -F, expected $zero"
	rfr conntrack -L 2>&1 | head -n 5 | sed 's/^/    /'
	l=1
fi
rfr conntrack -S 2> /dev/null | sed 's/^/# conntrack -S: /'
rf_check "conntrack count consistent after the faults: -C = -L, 0 after -F" $l

# The module unloads once the namespaces are gone, and the kernel log
# stays clean.
l=0
kill "${bg_pids[@]}" 2> /dev/null
wait "${bg_pids[@]}" 2> /dev/null
bg_pids=()
cleanup_all_ns || l=1
if ! busywait 20000 rf_unload; then
	echo "FAIL: rmmod rustfilter: $(rmmod rustfilter 2>&1)"
	l=1
fi
if rf_loaded; then
	echo "FAIL: rustfilter still loaded"
	l=1
fi
no_splat "the whole test, module unloaded" || l=1
rf_check "module unloads cleanly, no splat in dmesg" $l

if [ -s "$tmp/bugs" ]; then
	echo "# outcomes that break the rule, each with what reproduces it and what rfctl said:"
	sed 's/^/#   /' "$tmp/bugs"
	if grep -q "cannot receive netlink reply: No buffer space available" "$tmp/bugs"; then
		echo "#   (\"cannot receive netlink reply: No buffer space available\" after a change that"
		echo "#   happened: the kernel could not allocate the acknowledgement, netlink_ack()"
		echo "#   set ENOBUFS on the socket, and rfctl reports a failure it cannot tell from"
		echo "#   a real one; FAULT_DIAG=1 shows each failed allocation's callers)"
	fi
fi

exit $ret
