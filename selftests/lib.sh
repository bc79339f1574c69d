#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the rustfilter selftests: namespaces (as in the kernel's
# tools/testing/selftests/net/lib.sh), busywait, loading the module and
# reading its counters with rfctl. Sources nothing else.

: "${WAIT_TIMEOUT:=20}"
BUSYWAIT_TIMEOUT=$((WAIT_TIMEOUT * 1000)) # ms

# Kselftest framework constants.
ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_skip=4
KSFT_PASS=$ksft_pass
KSFT_FAIL=$ksft_fail
KSFT_XFAIL=$ksft_xfail
KSFT_SKIP=$ksft_skip

# rfctl and the module; both can be overridden from the environment.
: "${RFCTL:=$(command -v rfctl)}"
: "${RUSTFILTER_KO:=}"

# The five IPv4 hooks in the order rfctl prints them.
RF_HOOKS="PREROUTING INPUT FORWARD OUTPUT POSTROUTING"

# namespace list created by setup_ns
NS_LIST=()

##############################################################################
# Tools

# checktool "cmd args" "what it is needed for": skip the test unless it runs.
checktool()
{
	if ! $1 > /dev/null 2>&1; then
		echo "SKIP: Could not $2"
		exit $ksft_skip
	fi
}

# rf_require_tool VAR NAME: skip unless the tool NAME (or the path already
# in $VAR) is executable; sets VAR to its path.
rf_require_tool()
{
	local path=${!1:-$(command -v "$2")}

	if [ -z "$path" ] || [ ! -x "$path" ]; then
		echo "SKIP: Could not run test without $2"
		exit $ksft_skip
	fi
	printf -v "$1" '%s' "$path"
}

# rf_require_tools: skip unless ip, ping and rfctl are there.
rf_require_tools()
{
	checktool "ip -Version" "run test without the ip tool (iproute2)"
	checktool "ip netns list" "run test without ip netns support"
	if ! command -v ping > /dev/null 2>&1; then
		echo "SKIP: Could not run test without ping"
		exit $ksft_skip
	fi
	if [ -z "$RFCTL" ] || [ ! -x "$RFCTL" ]; then
		echo "SKIP: Could not run test without rfctl"
		exit $ksft_skip
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: Need root to run test"
		exit $ksft_skip
	fi
}

##############################################################################
# Waiting

# Milliseconds since boot, from /proc/uptime (busybox date has no %N).
timestamp_ms()
{
	local up
	read -r up _ < /proc/uptime || return
	echo $(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))
}

loopy_wait()
{
	local sleep_cmd=$1; shift
	local timeout_ms=$1; shift

	local start_time
	start_time=$(timestamp_ms) || return
	while true
	do
		local out
		if out=$("$@"); then
			echo -n "$out"
			return 0
		fi

		local current_time
		current_time=$(timestamp_ms) || return
		if ((current_time - start_time > timeout_ms)); then
			echo -n "$out"
			return 1
		fi

		$sleep_cmd
	done
}

# busywait TIMEOUT_MS CMD...: run CMD until it succeeds or TIMEOUT_MS pass.
busywait()
{
	local timeout_ms=$1; shift

	loopy_wait "sleep 0.05" "$timeout_ms" "$@"
}

##############################################################################
# Namespaces

remove_ns_list()
{
	local item=$1
	local ns
	local ns_list=("${NS_LIST[@]}")
	NS_LIST=()

	for ns in "${ns_list[@]}"; do
		if [ "${ns}" != "${item}" ]; then
			NS_LIST+=("${ns}")
		fi
	done
}

ns_gone()
{
	! ip netns list | grep -q "^$1\( \|$\)"
}

cleanup_ns()
{
	local ns=""
	local ret=0

	for ns in "$@"; do
		[ -z "${ns}" ] && continue
		ip netns pids "${ns}" 2> /dev/null | xargs -r kill 2> /dev/null || true
		ip netns delete "${ns}" &> /dev/null || true
		if ! busywait "$BUSYWAIT_TIMEOUT" ns_gone "${ns}"; then
			echo "Warn: Failed to remove namespace $ns"
			ret=1
		else
			remove_ns_list "${ns}"
		fi
	done

	return $ret
}

cleanup_all_ns()
{
	cleanup_ns "${NS_LIST[@]}"
}

# setup_ns NAME...: create one namespace per NAME, with lo up, and set the
# variable NAME to the namespace's (unique) name.
setup_ns()
{
	local ns_name=""
	local ns_list=()
	for ns_name in "$@"; do
		# avoid conflicts with local var: internal error
		if [ "${ns_name}" = "ns_name" ]; then
			echo "Failed to setup namespace '${ns_name}': invalid name"
			cleanup_ns "${ns_list[@]}"
			exit $ksft_fail
		fi

		# Some test may setup/remove same netns multi times
		if [ -z "${!ns_name}" ]; then
			eval "${ns_name}=${ns_name,,}-$(mktemp -u XXXXXX)"
		else
			cleanup_ns "${!ns_name}"
		fi

		if ! ip netns add "${!ns_name}"; then
			echo "Failed to create namespace $ns_name"
			cleanup_ns "${ns_list[@]}"
			return $ksft_skip
		fi
		ip -n "${!ns_name}" link set lo up
		ns_list+=("${!ns_name}")
	done
	NS_LIST+=("${ns_list[@]}")
}

# in_ns NS CMD...: run CMD in namespace NS; "-" (or "") is the caller's own.
in_ns()
{
	local ns=$1; shift

	if [ -z "$ns" ] || [ "$ns" = "-" ]; then
		"$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

# veth_link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2: a veth pair between two
# namespaces, both ends up, addresses given with their prefix length.
veth_link()
{
	local ns1=$1 dev1=$2 addr1=$3 ns2=$4 dev2=$5 addr2=$6

	ip -n "$ns1" link add name "$dev1" type veth peer name "$dev2" netns "$ns2" || return
	ip -n "$ns1" addr add "$addr1" dev "$dev1" || return
	ip -n "$ns2" addr add "$addr2" dev "$dev2" || return
	ip -n "$ns1" link set "$dev1" up || return
	ip -n "$ns2" link set "$dev2" up
}

##############################################################################
# The module

rf_loaded()
{
	grep -q "^rustfilter " /proc/modules 2> /dev/null
}

# rf_ko: path of rustfilter.ko ($RUSTFILTER_KO, or the installed one).
rf_ko()
{
	local ko

	if [ -n "$RUSTFILTER_KO" ]; then
		echo "$RUSTFILTER_KO"
		return
	fi
	ko=$(modinfo -n rustfilter 2> /dev/null)
	if [ -z "$ko" ] || [ ! -f "$ko" ]; then
		ko=$(find "/lib/modules/$(uname -r)" -name rustfilter.ko 2> /dev/null | head -n 1)
	fi
	[ -n "$ko" ] && echo "$ko"
}

# rf_require_module: skip the test when there is no module to load.
rf_require_module()
{
	if ! rf_loaded && [ -z "$(rf_ko)" ]; then
		echo "SKIP: Could not find rustfilter.ko (set RUSTFILTER_KO)"
		exit $ksft_skip
	fi
}

# rf_load [PARAM=VALUE...]: insmod rustfilter (with module parameters)
# unless it is loaded already. The tests read `rfctl stats`: unless told
# otherwise, the module counts at each hook (hook_stats=1; off by default),
# and one loaded without it is loaded again.
rf_load()
{
	local ko

	case " $* " in
	*" hook_stats="*) ;;
	*)
		set -- hook_stats=1 "$@"
		if rf_loaded && [ "$(cat /sys/module/rustfilter/parameters/hook_stats 2> /dev/null)" = 0 ]; then
			rf_unload || return 1
		fi
		;;
	esac
	rf_loaded && return 0
	ko=$(rf_ko)
	if [ -z "$ko" ]; then
		echo "FAIL: rustfilter.ko not found" 1>&2
		return 1
	fi
	insmod "$ko" "$@"
}

rf_unload()
{
	rf_loaded || return 0
	rmmod rustfilter
}

# rf_stats NS: `rfctl stats` in namespace NS ("-" for the caller's).
rf_stats()
{
	in_ns "$1" "$RFCTL" stats
}

# rf_zero NS: zero namespace NS's counters.
rf_zero()
{
	in_ns "$1" "$RFCTL" stats --zero
}

# rf_counter NS HOOK FIELD: one counter; FIELD is packets, bytes or
# malformed. Prints nothing and fails when rfctl fails or HOOK is missing.
rf_counter()
{
	local ns=$1 hook=$2 field=$3
	local col out

	case "$field" in
	packets) col=2 ;;
	bytes) col=3 ;;
	malformed) col=4 ;;
	*) echo "rf_counter: unknown field $field" 1>&2; return 1 ;;
	esac
	out=$(rf_stats "$ns") || return 1
	echo "$out" | awk -v h="$hook" -v c="$col" '
		$1 == h { print $c; found = 1 }
		END { exit !found }'
}

# rf_snapshot NS: "HOOK PACKETS BYTES" for all five hooks on one line, for
# comparing the whole state before and after something.
rf_snapshot()
{
	local out

	out=$(rf_stats "$1") || return 1
	echo "$out" | awk '
		$1 ~ /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/ {
			printf "%s%s=%s/%s", sep, $1, $2, $3; sep = " "
		}
		END { print "" }'
}

# rf_expect NS HOOK FIELD VALUE [WHAT]: check one counter; prints
# expected and actual on failure, and returns 1.
rf_expect()
{
	local ns=$1 hook=$2 field=$3 want=$4 what=${5:-}
	local got

	got=$(rf_counter "$ns" "$hook" "$field")
	if [ "$got" != "$want" ]; then
		echo "FAIL: ${what:+$what: }$hook $field in ${ns} is ${got:-<unreadable>}, expected $want"
		return 1
	fi
	return 0
}

# rf_expect_hooks NS WHAT PRE IN FWD OUT POST [BYTES_PER_PACKET]: check the
# packet counts of all five hooks (and bytes = packets * BYTES_PER_PACKET
# when given). Prints the whole table when anything differs.
rf_expect_hooks()
{
	local ns=$1 what=$2; shift 2
	local want=("$1" "$2" "$3" "$4" "$5") size=${6:-}
	local hooks=($RF_HOOKS)
	local i lret=0

	for i in 0 1 2 3 4; do
		rf_expect "$ns" "${hooks[$i]}" packets "${want[$i]}" "$what" || lret=1
		if [ -n "$size" ]; then
			rf_expect "$ns" "${hooks[$i]}" bytes $((want[i] * size)) "$what" || lret=1
		fi
	done
	if [ $lret -ne 0 ]; then
		echo "INFO: rfctl stats in $ns:"
		rf_stats "$ns" | sed 's/^/    /'
	fi
	return $lret
}

# rf_require_nft_hooks: skip unless `nft list hooks` can list a
# namespace's hook functions (nft, and nfnetlink_hook loaded or loadable).
rf_require_nft_hooks()
{
	rf_require_tool NFT nft
	modprobe -q nfnetlink_hook 2> /dev/null
	if ! "$NFT" list hooks ip > /dev/null 2>&1; then
		echo "SKIP: Could not list hooks with nft list hooks (CONFIG_NETFILTER_NETLINK_HOOK)"
		exit $ksft_skip
	fi
}

# rf_hooks NS: rustfilter's IPv4 hook functions in namespace NS, as `nft
# list hooks ip` lists them, one "HOOK:PRIORITY" per line in its order
# (prerouting:-2147483648, input:0, postrouting:2147483647...). Fails when
# nft does.
rf_hooks()
{
	local out

	out=$(in_ns "$1" "${NFT:-nft}" list hooks ip 2>&1) || { echo "$out" 1>&2; return 1; }
	# "-0000000300 _RINv...hook_callback...NetState... [rustfilter]"
	echo "$out" | awk '
		$1 == "hook" && $3 == "{" { hook = $2; next }
		$NF == "[rustfilter]" && $2 ~ /hook_callback/ {
			p = $1; sign = ""
			if (p ~ /^[-+]/) { sign = substr(p, 1, 1); p = substr(p, 2) }
			sub(/^0+/, "", p)
			if (p == "") p = "0"
			else if (sign == "-") p = "-" p
			print hook ":" p
		}'
}

# rf_check NAME RESULT: print PASS or FAIL for a group of assertions whose
# combined status is RESULT (0: all held), and set ret=1 on failure.
rf_check()
{
	if [ "$2" -eq 0 ]; then
		echo "PASS: $1"
	else
		echo "FAIL: $1"
		ret=1
	fi
}

# rf_setup_router: the client - router - server topology of the forwarding
# tests, in namespaces $client, $router and $server (made by setup_ns):
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#   (eth0)                  (veth1)         (veth2)            (eth0)
rf_setup_router()
{
	veth_link "$client" eth0 10.0.1.2/24 "$router" veth1 10.0.1.1/24 || return 1
	veth_link "$router" veth2 10.0.2.1/24 "$server" eth0 10.0.2.2/24 || return 1
	ip -n "$client" route add default via 10.0.1.1 || return 1
	ip -n "$server" route add default via 10.0.2.1 || return 1
	ip netns exec "$router" sysctl -q net.ipv4.ip_forward=1
}

# rf_rule_packets NS TABLE CHAIN: the packet counters of CHAIN's rules, in
# order, on one line, from one `rfctl -t TABLE -L CHAIN -v -x -n`.
rf_rule_packets()
{
	local out

	out=$(in_ns "$1" "$RFCTL" -t "$2" -L "$3" -v -x -n) || return 1
	echo "$out" | awk 'NR > 2 && NF { printf "%s%s", sep, $1; sep = " " }
		END { print "" }'
}

# rf_expect_rules NS TABLE CHAIN WHAT COUNT...: check the packet counters of
# all of CHAIN's rules, in order, read in one listing ("-" for a rule not
# checked). Prints the chain's listing when anything differs, and returns 1.
rf_expect_rules()
{
	local ns=$1 table=$2 chain=$3 what=$4; shift 4
	local want=("$@") got i lret=0

	read -r -a got <<< "$(rf_rule_packets "$ns" "$table" "$chain")"
	if [ ${#got[@]} -ne ${#want[@]} ]; then
		lret=1
	else
		for i in "${!want[@]}"; do
			if [ "${want[$i]}" != - ] && [ "${want[$i]}" != "${got[$i]}" ]; then
				lret=1
			fi
		done
	fi
	if [ $lret -ne 0 ]; then
		echo "FAIL: $what: $table $chain rule packets in $ns are (${got[*]}), expected (${want[*]})"
		in_ns "$ns" "$RFCTL" -t "$table" -L "$chain" -v -x -n | sed 's/^/    /'
	fi
	return $lret
}
