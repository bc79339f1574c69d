# SPDX-License-Identifier: GPL-2.0
#
# rustfilter: one entry point.
#
#   make deps     install build and test dependencies (apt-get, rustup, cargo)
#   make kernel   extract linux-source-6.12 into build/, build bzImage and modules
#                 (rustfilter.ko included) with LLVM=1
#   make tools    build rfctl, nlfuzz, rfpkt, rfserve, nfqclient and the C queue
#                 clients (scripts/queue-clients.sh)
#   make run      build everything and boot the demo VM
#   make check    host tests, a short fuzz round of every cargo-fuzz target and
#                 the QEMU selftests; ends with "N passed, N failed"
#   make bench    build the benchmark kernel (no debug options), boot it once and
#                 measure rustfilter against no filtering, iptables-legacy and
#                 nftables: build/bench/results.csv, report.txt, throughput.png
#                 (scripts/bench.sh; BENCH_RUNS, BENCH_SECONDS, BENCH_RULES...)
#   make fuzz     every cargo-fuzz target of the pure core for FUZZ_SECONDS
#                 (default 60) each (installs nightly and cargo-fuzz if missing)
#   make clean    remove build outputs (build/ and cargo targets)

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

KO := build/obj/net/rustfilter/rust/rustfilter/rustfilter.ko
RFCTL := tools/rfctl/target/release/rfctl

.PHONY: all deps kernel module tools run check host-check vm-check bench fuzz clean

all: kernel tools

deps:
	@scripts/deps.sh

kernel: deps
	@scripts/kernel.sh

# The module is built with the kernel (in-tree, CONFIG_RUSTFILTER=m); this
# rebuilds only what changed.
module: kernel

TOOLS := rfctl nlfuzz rfpkt rfserve nfqclient

tools: deps
	@for t in $(TOOLS); do \
		cargo build --release --quiet --manifest-path tools/$$t/Cargo.toml || exit 1; \
	done
	@scripts/queue-clients.sh

run: kernel tools
	@scripts/vm.sh run

host-check: deps
	@scripts/check.sh host

vm-check: kernel tools
	@scripts/vm.sh check

check: kernel tools
	@scripts/check.sh all

# The benchmark builds its own kernel (build/bench/obj) with scripts/kernel.sh.
bench: deps tools
	@scripts/bench.sh

FUZZ_SECONDS ?= 60

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build
	cargo clean --quiet --manifest-path rust/rfcore/Cargo.toml
	for t in $(TOOLS); do cargo clean --quiet --manifest-path tools/$$t/Cargo.toml; done
