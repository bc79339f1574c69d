#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run rustfilter's tests and print one closing line "N passed, N failed".
#
# usage: scripts/check.sh [all|host]
#   host  cargo tests of the pure core, of rfctl, of nlfuzz, of rfpkt and of
#         rfserve, and each cargo-fuzz target of the core for CHECK_FUZZ_SECONDS
#         (10; 0 skips them), one test each
#   all   those, then the QEMU selftests (scripts/vm.sh check), the kmemleak
#         test in a VM booted with kmemleak=on (one test) and the
#         benchmark's smoke round (scripts/bench.sh --smoke, one test)
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-all}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# What failed in the VM runs, printed again just before the closing line:
# a log cut in its middle still shows it. failed_lines TEXT adds TEXT's
# lines (at most 40).
failures=
failed_lines() {
	[ -n "$1" ] || return 0
	failures+="$(echo "$1" | head -n 40)"$'\n'
}

# cargo prints one "test result: ok. P passed; F failed; ..." line per test
# binary; a crate that fails to build counts as one failure.
cargo_tests() {
	local manifest=$1
	echo "== cargo test ($manifest)"
	if cargo test --manifest-path "$manifest" 2>&1 | tee "$log" | grep -E "^test .* (ok|FAILED|ignored)$|^test result|^error" ; then :; fi
	if ! grep -q "^test result" "$log"; then
		echo "check: $manifest did not build or run" >&2
		tail -30 "$log" >&2
		failed=$((failed + 1))
		return
	fi
	local p f
	p=$(awk '/^test result/ {s += $4} END {print s + 0}' "$log")
	f=$(awk '/^test result/ {s += $6} END {print s + 0}' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
}

cargo_tests rust/rfcore/Cargo.toml
cargo_tests tools/rfctl/Cargo.toml
cargo_tests tools/nlfuzz/Cargo.toml
cargo_tests tools/rfpkt/Cargo.toml
cargo_tests tools/rfserve/Cargo.toml

# A short round of each fuzz target: one test each, failed if it found a
# crash (scripts/fuzz.sh prints "fuzz: ok T" or "fuzz: FAILED T").
CHECK_FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-10}
if [ "$CHECK_FUZZ_SECONDS" -gt 0 ]; then
	echo "== cargo fuzz (${CHECK_FUZZ_SECONDS}s per target)"
	scripts/fuzz.sh "$CHECK_FUZZ_SECONDS" 2>&1 | tee "$log"
	p=$(grep -c "^fuzz: ok " "$log")
	f=$(grep -c "^fuzz: FAILED " "$log")
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "check: no fuzz target ran" >&2
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
fi

if [ "$mode" = all ]; then
	echo "== QEMU selftests"
	scripts/vm.sh check 2>&1 | tee "$log"
	vm_rc=${PIPESTATUS[0]}
	# vm.sh closes with "selftests: P passed, F failed, S skipped (Ts)".
	summary=$(grep -E "^selftests: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
	p=$(echo "$summary" | awk '{print $2 + 0}')
	f=$(echo "$summary" | awk '{print $4 + 0}')
	passed=$((passed + p))
	failed=$((failed + f))
	failed_lines "$(grep -E "^not ok |^# FAIL" "$log")"
	if [ "$vm_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "check: the VM run failed without a failing test (crash, timeout or no plan)" >&2
		failed_lines "$(grep -E "^vm: " "$log" | grep -v "^vm: output of")"
		failed=$((failed + 1))
	fi

	# kmemleak is off in the suite (it made it twice as slow): a VM of its
	# own, booted with kmemleak=on, runs rustfilter_kmemleak.sh (a workload
	# with fuzz rounds, unload, scans). One test; a skip is a failure here.
	echo "== kmemleak (rustfilter_kmemleak.sh in a VM booted with kmemleak=on)"
	VM_DIR=$REPO/build/vm-kmemleak VM_APPEND="kmemleak=on ${VM_APPEND:-}" \
		scripts/vm.sh check rustfilter_kmemleak.sh 2>&1 | tee "$log"
	if grep -qE "^selftests: 1 passed, 0 failed, 0 skipped" "$log"; then
		passed=$((passed + 1))
	else
		echo "check: rustfilter_kmemleak.sh did not pass with kmemleak=on (console: build/vm-kmemleak/console.log)" >&2
		failed_lines "kmemleak VM:"$'\n'"$(grep -E "^(not )?ok |^# (FAIL|SKIP)|^vm: " "$log")"
		failed=$((failed + 1))
	fi

	# One short round of `make bench` on the test kernel: one test, passed
	# when every configuration produced a number ("bench smoke: ok").
	echo "== bench smoke (scripts/bench.sh --smoke)"
	scripts/bench.sh --smoke 2>&1 | tee "$log"
	if [ "${PIPESTATUS[0]}" -eq 0 ] && grep -q "^bench smoke: ok" "$log"; then
		passed=$((passed + 1))
	else
		echo "check: the bench smoke round failed (console: build/bench/vm-smoke/console.log)" >&2
		failed_lines "bench smoke:"$'\n'"$(tail -n 10 "$log")"
		failed=$((failed + 1))
	fi
fi

if [ -n "$failures" ]; then
	echo "== what failed in the VMs (above in full)"
	printf '%s' "$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
