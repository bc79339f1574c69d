#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the third-party netlink queue clients that
# selftests/rustfilter_queue_clients.sh drives, into build/queue-clients/
# (`make tools` runs this; scripts/mkinitramfs.sh copies what exists):
#
#   nf_queue    the kernel's selftest client (libmnl only), from the
#               extracted kernel tree build/linux (skipped before
#               `make kernel` extracted it)
#   nf-queue    Debian's libnetfilter_queue example (its mnl API), from
#               /usr/share/doc/libnetfilter-queue-dev/examples; it runs
#               until killed, so its stdout is made line-buffered
#               (tools/nfq-oldapi/linebuf.h forced in with -include), the
#               source unchanged
#   nfq-oldapi  tools/nfq-oldapi/nfq-oldapi.c (libnetfilter_queue's old API)
#
# tools/nfqclient (the nfq crate) is a cargo project, built with the others.
# Rebuilds only what is older than its source.
#
# env: OUT (default build/queue-clients), LINUX (default build/linux)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$REPO/build/queue-clients}
LINUX=${LINUX:-$REPO/build/linux}
EXAMPLES=/usr/share/doc/libnetfilter-queue-dev/examples
CFLAGS="-O2 -Wall"

mkdir -p "$OUT"

# build NAME SOURCE LIBS...: gcc SOURCE into $OUT/NAME unless up to date.
build() {
	local name=$1 src=$2; shift 2

	if [ -x "$OUT/$name" ] && [ "$OUT/$name" -nt "$src" ] &&
	   [ "$OUT/$name" -nt "$0" ]; then
		return 0
	fi
	# shellcheck disable=SC2086
	gcc $CFLAGS -o "$OUT/$name.tmp" "$src" "$@"
	mv "$OUT/$name.tmp" "$OUT/$name"
}

if [ -f "$LINUX/tools/testing/selftests/net/netfilter/nf_queue.c" ]; then
	build nf_queue "$LINUX/tools/testing/selftests/net/netfilter/nf_queue.c" -lmnl
else
	echo "queue-clients: note: no kernel tree at ${LINUX#$REPO/} yet; no nf_queue" >&2
fi

# Debian may ship the example compressed.
example=$EXAMPLES/nf-queue.c
if [ ! -f "$example" ] && [ -f "$example.gz" ]; then
	if [ ! -f "$OUT/nf-queue.c" ] || [ "$example.gz" -nt "$OUT/nf-queue.c" ]; then
		gzip -dc "$example.gz" > "$OUT/nf-queue.c"
	fi
	example=$OUT/nf-queue.c
fi
if [ -f "$example" ]; then
	build nf-queue "$example" -include "$REPO/tools/nfq-oldapi/linebuf.h" \
		-lnetfilter_queue -lmnl
else
	echo "queue-clients: note: no $EXAMPLES/nf-queue.c (libnetfilter-queue-dev); no nf-queue" >&2
fi

build nfq-oldapi "$REPO/tools/nfq-oldapi/nfq-oldapi.c" -lnetfilter_queue
