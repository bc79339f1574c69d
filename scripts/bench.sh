#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: measure rustfilter against no filtering, iptables-legacy and
# nftables in one QEMU boot (Documentation/performance.rst).
#
# usage: scripts/bench.sh [--smoke]
#   (none)   build the benchmark kernel (scripts/kernel.sh bench: no KASAN,
#            lockdep or kmemleak), generate the rulesets, boot
#            build/bench/obj with rfvm.mode=bench, and write
#            build/bench/results.csv, build/bench/report.txt (also printed)
#            and build/bench/throughput.png (with gnuplot)
#   --smoke  one short round on the test kernel (build/obj, not rebuilt) in
#            build/bench/vm-smoke: N = 0 and 100, commit at 1000 rules, one
#            1-second run per point; exits 0 when every configuration
#            produced a number (make check counts it as one test)
#
# env: BENCH_RUNS (5) runs per point, BENCH_SECONDS (3) seconds per run,
#      BENCH_RULES ("0 10 100 1000 10000 100000") rule counts of the filter
#      test, BENCH_COMMIT_RULES ("10000 100000") rule counts whose loading is
#      timed, BENCH_MIN_PPS (100) a point whose warm-up is slower is skipped
#      (and the larger N of its configuration), BENCH_FLOWS (16) UDP flows
#      of the NAT test, BENCH_CT_FLOWS (5000) connections of the memory test,
#      BENCH_RULESET (mixed; dport: every rule a UDP port, the case the
#      classifier indexes), BENCH_FIXED_ROUNDS (8) rounds of the N=0 test
#      measured in turn, BENCH_TESTS ("filter nat queue fixed") and BENCH_CONFIGS ("baseline
#      rustfilter iptables-legacy nft-linear nft-sets nfnetlink_queue") to
#      run a part, BENCH_TIMEOUT (10800) seconds before QEMU is stopped,
#      BENCH_ICOUNT (1: QEMU runs with -icount shift=0,sleep=off, guest
#      time is instructions, one nanosecond each, and an idle vCPU jumps to
#      its next timer, so the results are repeatable whatever the host's load;
#      0: guest time is the host's, and every window differs by 10-25 %),
#      BENCH_PROFILE (0; 1: also count the instructions executed at every
#      guest address with tools/insn-profile, and print the functions that
#      took the most, kernel and modules, into build/bench/profile.txt: run
#      one test and one configuration at a time to read it)
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export PATH="$HOME/.cargo/bin:$PATH"

smoke=0
case "${1:-}" in
"") ;;
--smoke) smoke=1 ;;
*) sed -n '3,/^set -uo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
esac

if [ $smoke -eq 1 ]; then
	OBJ=$REPO/build/obj
	VM_DIR=$REPO/build/bench/vm-smoke
	OUT=$REPO/build/bench/smoke
	BENCH_RUNS=${BENCH_SMOKE_RUNS:-1}
	BENCH_SECONDS=1
	BENCH_RULES="0 100"
	BENCH_COMMIT_RULES="1000"
	BENCH_CT_FLOWS=500
	BENCH_FIXED_ROUNDS=1
	# Its numbers mean nothing (KASAN): the host's time, both vCPUs.
	BENCH_ICOUNT=${BENCH_ICOUNT:-0}
	# The debug kernel (KASAN) is slow: anything that moves is a number.
	BENCH_MIN_PPS=1
	BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
else
	OBJ=$REPO/build/bench/obj
	VM_DIR=$REPO/build/bench/vm
	OUT=$REPO/build/bench
fi
KERNEL=$OBJ/arch/x86/boot/bzImage
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_SECONDS=${BENCH_SECONDS:-3}
BENCH_RULES=${BENCH_RULES:-0 10 100 1000 10000 100000}
BENCH_COMMIT_RULES=${BENCH_COMMIT_RULES:-10000 100000}
BENCH_MIN_PPS=${BENCH_MIN_PPS:-100}
BENCH_FLOWS=${BENCH_FLOWS:-16}
BENCH_CT_FLOWS=${BENCH_CT_FLOWS:-5000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-10800}
BENCH_FIXED_ROUNDS=${BENCH_FIXED_ROUNDS:-8}
BENCH_TESTS=${BENCH_TESTS:-filter nat queue fixed}
BENCH_RULESET=${BENCH_RULESET:-mixed}
BENCH_CONFIGS=${BENCH_CONFIGS:-baseline rustfilter iptables-legacy nft-linear nft-sets nfnetlink_queue}
BENCH_ICOUNT=${BENCH_ICOUNT:-1}
BENCH_PROFILE=${BENCH_PROFILE:-0}

case "$BENCH_ICOUNT" in
0) ;;
1) VM_QEMU_ARGS="-icount shift=0,sleep=off ${VM_QEMU_ARGS:-}" ;;
*) echo "bench: BENCH_ICOUNT must be 0 or 1 (is '$BENCH_ICOUNT')" >&2; exit 2 ;;
esac
case "$BENCH_PROFILE" in
0) ;;
1)
	mkdir -p build/insn-profile
	gcc -O2 -Wall -shared -fPIC -o build/insn-profile/insn_profile.so \
		tools/insn-profile/insn_profile.c ||
		{ echo "bench: building the profiling plugin failed" >&2; exit 1; }
	rm -f "$OUT/profile.raw"
	VM_QEMU_ARGS="${VM_QEMU_ARGS:-} -plugin $REPO/build/insn-profile/insn_profile.so,out=$OUT/profile.raw"
	;;
*) echo "bench: BENCH_PROFILE must be 0 or 1 (is '$BENCH_PROFILE')" >&2; exit 2 ;;
esac
for v in BENCH_RUNS BENCH_SECONDS BENCH_MIN_PPS BENCH_FLOWS BENCH_CT_FLOWS BENCH_FIXED_ROUNDS BENCH_TIMEOUT; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -eq 0 ]; then
		echo "bench: $v must be a positive integer (is '${!v}')" >&2
		exit 2
	fi
done
for n in $BENCH_RULES $BENCH_COMMIT_RULES; do
	[[ $n =~ ^[0-9]+$ ]] || { echo "bench: rule count '$n' is not a number" >&2; exit 2; }
done

if [ $smoke -eq 0 ]; then
	scripts/kernel.sh bench || { echo "bench: building the benchmark kernel failed" >&2; exit 1; }
fi
if [ ! -f "$KERNEL" ]; then
	echo "bench: no kernel at ${KERNEL#$REPO/} (scripts/kernel.sh $([ $smoke -eq 1 ] && echo test || echo bench))" >&2
	exit 1
fi
if ! grep -q '^CONFIG_NET_PKTGEN=[ym]' "$OBJ/.config"; then
	echo "bench: ${OBJ#$REPO/} has no CONFIG_NET_PKTGEN; the benchmark needs pktgen" >&2
	exit 1
fi
for tool in rfctl; do
	[ -x "tools/$tool/target/release/$tool" ] ||
		{ echo "bench: no tools/$tool/target/release/$tool (make tools)" >&2; exit 1; }
done
[ -x build/queue-clients/nf_queue ] ||
	echo "bench: note: no build/queue-clients/nf_queue (make tools); the queue test will be skipped" >&2

# The guest's files: rulesets, the guest script and its settings.
BENCH_DIR=$VM_DIR/bench
mkdir -p "$BENCH_DIR" "$OUT"
echo "bench: rulesets for N = $(printf '%s\n' $BENCH_RULES $BENCH_COMMIT_RULES | sort -n -u | xargs)"
# N=0 always: the fixed test's ruleset.
python3 scripts/bench-rules.py --ruleset "$BENCH_RULESET" "$BENCH_DIR/rules" 0 $BENCH_RULES $BENCH_COMMIT_RULES || exit 1
install -m 755 scripts/bench-guest.sh "$BENCH_DIR/bench-guest.sh.new"
cmp -s "$BENCH_DIR/bench-guest.sh.new" "$BENCH_DIR/bench-guest.sh" &&
	rm "$BENCH_DIR/bench-guest.sh.new" || mv "$BENCH_DIR/bench-guest.sh.new" "$BENCH_DIR/bench-guest.sh"
cat > "$BENCH_DIR/bench.env.new" <<EOF
BENCH_RUNS=$BENCH_RUNS
BENCH_SECONDS=$BENCH_SECONDS
BENCH_RULES="$BENCH_RULES"
BENCH_COMMIT_RULES="$BENCH_COMMIT_RULES"
BENCH_MIN_PPS=$BENCH_MIN_PPS
BENCH_FLOWS=$BENCH_FLOWS
BENCH_CT_FLOWS=$BENCH_CT_FLOWS
BENCH_FIXED_ROUNDS=$BENCH_FIXED_ROUNDS
BENCH_ICOUNT=$BENCH_ICOUNT
BENCH_KSYMS=$BENCH_PROFILE
BENCH_TESTS="$BENCH_TESTS"
BENCH_RULESET=$BENCH_RULESET
BENCH_CONFIGS="$BENCH_CONFIGS"
BENCH_DIR=/bench/rules
EOF
cmp -s "$BENCH_DIR/bench.env.new" "$BENCH_DIR/bench.env" &&
	rm "$BENCH_DIR/bench.env.new" || mv "$BENCH_DIR/bench.env.new" "$BENCH_DIR/bench.env"

export OBJ VM_DIR KERNEL BENCH_DIR VM_QEMU_ARGS
export EXTRA_BINS="iptables-legacy-restore ${EXTRA_BINS:-}"
echo "bench: booting ${KERNEL#$REPO/} (console: ${VM_DIR#$REPO/}/console.log)"
start=$(date +%s)
# The console, with only the benchmark's own lines and its notes shown.
VM_TIMEOUT=$BENCH_TIMEOUT scripts/vm.sh bench 2>&1 |
	grep --line-buffered -E '^(BENCH|bench:|rfvm:|mkinitramfs:|Kernel panic)' |
	grep --line-buffered -v '^BENCHPLAN'
vm_rc=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - start ))
echo "bench: the VM ran ${elapsed}s (exit $vm_rc)"

LOG=$VM_DIR/console.log
args=(--log "$LOG" --out "$OUT" --date "$(date -u '+%Y-%m-%d %H:%M UTC')"
      --kernel "${KERNEL#$REPO/}")
[ $smoke -eq 1 ] && args+=(--check)
python3 scripts/bench-report.py "${args[@]}"
rc=$?
if [ "$BENCH_PROFILE" = 1 ]; then
	python3 scripts/insn-profile.py --profile "$OUT/profile.raw" \
		--system-map "$OBJ/System.map" --console "$LOG" > "$OUT/profile.txt" &&
		head -n 45 "$OUT/profile.txt"
fi
exit $rc
