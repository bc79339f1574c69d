#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel (build/obj) in QEMU, TCG only, with the initramfs from
# scripts/mkinitramfs.sh.
#
#   scripts/vm.sh check [test.sh...]   run the selftests (all, or those named),
#                                      print their KTAP results, exit 1 on any
#                                      failure, guest crash or missing plan
#   scripts/vm.sh run                  the demo: client - router - server,
#                                      pings, rfctl stats; then a shell when
#                                      stdin is a terminal
#   scripts/vm.sh shell                just a shell on the console
#   scripts/vm.sh bench                /bench/bench-guest.sh (the initramfs
#                                      needs BENCH_DIR; scripts/bench.sh does it)
#
# env: KERNEL (bzImage), VM_DIR (work directory, default build/vm; separate
#      ones let runs go in parallel), VM_TIMEOUT (seconds for `check`, default 3600),
#      VM_APPEND (more kernel command line, e.g. loglevel=7), VM_QEMU_ARGS
#      (more QEMU options, split at spaces, e.g. "-icount shift=0"),
#      VERBOSE=1 (print the whole console, not only KTAP lines)
# The console goes to build/vm/console.log.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
VM=${VM_DIR:-$REPO/build/vm}
KERNEL=${KERNEL:-$REPO/build/obj/arch/x86/boot/bzImage}
INITRD=$VM/initramfs.gz
LOG=$VM/console.log
VM_TIMEOUT=${VM_TIMEOUT:-3600}
VERBOSE=${VERBOSE:-0}

usage() {
	sed -n '3,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
check|run|shell|bench) ;;
*) usage ;;
esac

if [ ! -f "$KERNEL" ]; then
	echo "vm: no kernel at ${KERNEL#$REPO/}; build it with scripts/kernel.sh" >&2
	exit 1
fi
"$REPO/scripts/mkinitramfs.sh" || exit 1

append="console=ttyS0 panic=-1 loglevel=4 rfvm.mode=$mode"
if [ "$mode" = check ] && [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t##*/}
		if [ ! -f "$REPO/selftests/$t" ]; then
			echo "vm: no selftest $t in selftests/" >&2
			exit 2
		fi
	done
	append+=" rfvm.tests=$(IFS=,; echo "${*##*/}")"
fi
interactive=0
[ "$mode" != check ] && [ "$mode" != bench ] && [ -t 0 ] && interactive=1
append+=" rfvm.interactive=$interactive ${VM_APPEND:-}"

# The console without CRs and the firmware's terminal escapes.
# bench: line by line (its progress is watched as it comes).
clean_console() {
	local tr=(tr)
	[ "$mode" = bench ] && tr=(stdbuf -oL tr)
	"${tr[@]}" -d '\r' | sed -u 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g'
}

# Never KVM: nested virtualisation hangs on these machines.
qemu=(qemu-system-x86_64 -accel tcg -smp 2 -m 2G -nographic -no-reboot
      -kernel "$KERNEL" -initrd "$INITRD" -append "$append")
# shellcheck disable=SC2206 # split at spaces, as documented
qemu+=(${VM_QEMU_ARGS:-})

if [ $interactive -eq 1 ]; then
	echo "vm: booting (Ctrl-A X quits QEMU)"
	exec "${qemu[@]}"
fi

if [ "$mode" != check ]; then
	timeout --foreground "$VM_TIMEOUT" "${qemu[@]}" < /dev/null 2>&1 | clean_console | tee "$LOG"
	exit "${PIPESTATUS[0]}"
fi

# check: the console goes to the log; KTAP lines (or everything) to stdout.
if [ "$VERBOSE" = 1 ]; then
	filter=(cat)
else
	filter=(grep --line-buffered -E '^(TAP version|1\.\.[0-9]|(not )?ok [0-9]|# Totals)')
fi
start=$(date +%s)
timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" < /dev/null 2>&1 | clean_console | tee "$LOG" | "${filter[@]}"
qemu_rc=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - start ))

awk -v verbose="$VERBOSE" '
	/^TAP version/ { tap = 1 }
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; have_plan = 1 }
	/^# selftests: rustfilter: / { name = $0; block = "" }
	{ block = block $0 "\n" }
	/^ok [0-9]+ / { if ($0 ~ /# SKIP/) skip++; else pass++; seen++ }
	/^not ok [0-9]+ / {
		fail++; seen++
		if (verbose != 1) failed = failed block
	}
	/^rfvm: done$/ { done = 1 }
	/^rfvm: boot splat$/ { bootsplat = 1 }
	/Kernel panic - not syncing/ { panic = 1 }
	END {
		printf "%d %d %d %d %d %d %d %d\n", have_plan, plan, seen, pass, fail, skip, done, panic + 2 * bootsplat > "/dev/stderr"
		if (failed != "") {
			print "vm: output of the failed tests:"
			printf "%s", failed
		}
	}' "$LOG" 2> "$VM/summary"
read -r have_plan plan seen pass fail skip done crash < "$VM/summary"

status=0
if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
	echo "vm: timed out after ${VM_TIMEOUT}s (console: ${LOG#$REPO/})"
	status=1
elif [ "$done" -ne 1 ]; then
	echo "vm: the guest did not finish (crashed? qemu exit $qemu_rc; console: ${LOG#$REPO/})"
	tail -n 30 "$LOG"
	status=1
fi
if [ $((crash & 1)) -ne 0 ]; then
	echo "vm: kernel panic (console: ${LOG#$REPO/})"
	status=1
fi
if [ $((crash & 2)) -ne 0 ]; then
	echo "vm: kernel splat during boot (console: ${LOG#$REPO/})"
	status=1
fi
if [ "$have_plan" -ne 1 ]; then
	echo "vm: no KTAP plan seen"
	status=1
elif [ "$seen" -ne "$plan" ]; then
	echo "vm: plan was 1..$plan but $seen results were reported"
	fail=$((fail + plan - seen))
	status=1
fi
[ "$fail" -ne 0 ] && status=1
echo "selftests: $pass passed, $fail failed, $skip skipped (${elapsed}s)"
exit $status
