#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every cargo-fuzz target of the pure core (rust/rfcore/fuzz) for a set
# time each, one after the other, and print one line per target and a
# closing "fuzz: N targets, N passed, N failed".
#
# usage: scripts/fuzz.sh [SECONDS]    (default 60; `make fuzz` passes
#                                      FUZZ_SECONDS, `make check` 10)
#
# A target fails when libFuzzer finds an input that panics, overflows or
# leaks; the input is kept in rust/rfcore/fuzz/artifacts/<target>/ and the
# line says how to replay it (`cargo +nightly fuzz run <target> <file>`).
# Such an input becomes a unit test of the function it broke.
#
# cargo-fuzz needs the nightly toolchain: both are installed when missing
# (rustup toolchain install nightly, cargo install cargo-fuzz).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
SECONDS_EACH=${1:-60}
FUZZ_DIR=$REPO/rust/rfcore/fuzz

if ! rustup run nightly rustc --version > /dev/null 2>&1; then
	echo "fuzz: installing the nightly toolchain"
	rustup toolchain install nightly --profile minimal > /dev/null || exit 1
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
	echo "fuzz: installing cargo-fuzz"
	cargo install --locked cargo-fuzz > /dev/null 2>&1 || exit 1
fi

cd "$FUZZ_DIR" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! cargo +nightly fuzz build > "$log" 2>&1; then
	tail -30 "$log" >&2
	echo "fuzz: the targets do not build"
	echo "fuzz: 0 targets, 0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
total=0
for target in $(cargo +nightly fuzz list); do
	total=$((total + 1))
	corpus=corpus/$target
	mkdir -p "$corpus" "artifacts/$target"
	# -max_total_time bounds the run; -rss_limit_mb and -timeout turn a
	# blow-up or a hang into a finding rather than a stuck run.
	if cargo +nightly fuzz run "$target" "$corpus" -- \
		-max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 > "$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		echo "fuzz: ok $target (${runs:-?} inputs in ${SECONDS_EACH}s)"
		passed=$((passed + 1))
	else
		echo "fuzz: FAILED $target"
		grep -E "panicked|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -5 | sed 's/^/    /'
		echo "    replay: (cd rust/rfcore/fuzz && cargo +nightly fuzz run $target <artifact>)"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $total targets, $passed passed, $failed failed"
[ "$failed" -eq 0 ]
