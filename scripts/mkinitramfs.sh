#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test VM's initramfs, build/vm/initramfs.gz: busybox-static,
# iproute2, kmod, bash, iptables-legacy with its extensions, rfctl, nlfuzz,
# rfpkt and rfserve (when built), the kernel's modules
# (from build/obj), the selftests and scripts/guest-init.sh as /init. Skips
# the work when nothing it is made from changed.
#
# usage: scripts/mkinitramfs.sh [-f]      (-f: rebuild unconditionally)
# env:   OBJ (default build/obj), VM_DIR (default build/vm),
#        RFCTL (default tools/rfctl/target/release/rfctl),
#        NLFUZZ (default tools/nlfuzz/target/release/nlfuzz),
#        RFPKT (default tools/rfpkt/target/release/rfpkt),
#        RFSERVE (default tools/rfserve/target/release/rfserve),
#        NFQCLIENT (default tools/nfqclient/target/release/nfqclient),
#        QUEUE_CLIENTS (default build/queue-clients: nf_queue, nf-queue,
#        nfq-oldapi from scripts/queue-clients.sh),
#        EXTRA_BINS (more host binaries to copy with their libraries),
#        BENCH_DIR (a directory copied to /bench: scripts/bench.sh's rulesets
#        and guest script)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OBJ=${OBJ:-$REPO/build/obj}
# Absolute: modules_install runs in the kernel tree.
VM=$(realpath -m "${VM_DIR:-$REPO/build/vm}")
OUT=$VM/initramfs.gz
ROOT=$VM/root
MODDIR=$VM/modules
RFCTL=${RFCTL:-$REPO/tools/rfctl/target/release/rfctl}
NLFUZZ=${NLFUZZ:-$REPO/tools/nlfuzz/target/release/nlfuzz}
RFPKT=${RFPKT:-$REPO/tools/rfpkt/target/release/rfpkt}
RFSERVE=${RFSERVE:-$REPO/tools/rfserve/target/release/rfserve}
NFQCLIENT=${NFQCLIENT:-$REPO/tools/nfqclient/target/release/nfqclient}
QUEUE_CLIENTS=${QUEUE_CLIENTS:-$REPO/build/queue-clients}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# Host binaries copied with the libraries ldd lists: destination=source.
BINS=("/usr/bin/ip=$(command -v ip)" "/usr/bin/kmod=$(command -v kmod)"
      "/bin/bash=$(command -v bash)")
BENCH_DIR=${BENCH_DIR:-}
for b in ${EXTRA_BINS:-}; do
	BINS+=("/usr/bin/${b##*/}=$(command -v "$b")")
done
# Busybox applets left out: iproute2 and kmod provide the real ones.
SKIP_APPLETS=" ip ipneigh modprobe insmod rmmod depmod lsmod modinfo bash "
export PATH="$HOME/.cargo/bin:$PATH"

force=0
[ "${1:-}" = "-f" ] && force=1

mkdir -p "$VM"
# What the environment adds, remembered so that a change repacks.
extras=$VM/initramfs.extras
printf 'EXTRA_BINS=%s\nBENCH_DIR=%s\n' "${EXTRA_BINS:-}" "$BENCH_DIR" > "$extras.new"
if cmp -s "$extras.new" "$extras"; then
	rm -f "$extras.new"
else
	mv "$extras.new" "$extras"
fi
file "$BUSYBOX" 2>/dev/null | grep -q "statically linked" ||
	{ echo "mkinitramfs: $BUSYBOX is not busybox-static" >&2; exit 1; }

# The kernel's modules, installed into build/vm/modules when any .ko is newer
# than the last install.
release=
if [ -f "$OBJ/include/config/kernel.release" ]; then
	release=$(cat "$OBJ/include/config/kernel.release")
fi
stamp=$MODDIR/.stamp
if [ -n "$release" ] && [ -f "$OBJ/modules.order" ]; then
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$release" ] ||
	   [ -n "$(find "$OBJ" -name '*.ko' -newer "$stamp" -print -quit)" ]; then
		echo "mkinitramfs: modules_install $release"
		rm -rf "$MODDIR"
		make -s -C "$REPO/build/linux" O="$OBJ" LLVM=1 INSTALL_MOD_PATH="$MODDIR" \
			modules_install > "$VM/modules_install.log" 2>&1 ||
			{ cat "$VM/modules_install.log" >&2; exit 1; }
		echo "$release" > "$stamp"
	fi
else
	echo "mkinitramfs: warning: no kernel modules in ${OBJ#$REPO/} yet" >&2
fi

# Up to date?
if [ $force -eq 0 ] && [ -f "$OUT" ]; then
	inputs=("$0" "$REPO/scripts/guest-init.sh" "$REPO/selftests" "$BUSYBOX" "$extras")
	[ -n "$BENCH_DIR" ] && inputs+=("$BENCH_DIR")
	[ -f "$stamp" ] && inputs+=("$stamp")
	[ -f "$RFCTL" ] && inputs+=("$RFCTL")
	[ -f "$NLFUZZ" ] && inputs+=("$NLFUZZ")
	[ -f "$RFPKT" ] && inputs+=("$RFPKT")
	[ -f "$RFSERVE" ] && inputs+=("$RFSERVE")
	[ -f "$NFQCLIENT" ] && inputs+=("$NFQCLIENT")
	[ -d "$QUEUE_CLIENTS" ] && inputs+=("$QUEUE_CLIENTS")
	if [ -z "$(find "${inputs[@]}" -newer "$OUT" -print -quit)" ]; then
		exit 0
	fi
fi

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,var}
ln -s ../run "$ROOT/var/run"
chmod 1777 "$ROOT/tmp"

# copy_bin DEST SRC: a dynamically linked binary and its libraries.
copy_bin() {
	local dest=$1 src=$2 lib

	install -m 755 "$src" "$ROOT$dest"
	for lib in $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

install -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	case "$SKIP_APPLETS" in *" $applet "*) continue ;; esac
	[ -e "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
done

for b in "${BINS[@]}"; do
	copy_bin "${b%%=*}" "${b#*=}"
done
for tool in modprobe insmod rmmod depmod lsmod modinfo; do
	ln -s ../usr/bin/kmod "$ROOT/sbin/$tool"
done

# iptables-legacy, for the selftests that need the C netfilter as the
# reference (rustfilter_queue.sh queues with xt_NFQUEUE), with the
# extensions it loads at run time (libxt_NFQUEUE.so, libxt_mark.so...).
XTABLES_LIBDIR=${XTABLES_LIBDIR:-/usr/lib/x86_64-linux-gnu/xtables}
if IPTABLES=$(command -v iptables-legacy) && [ -d "$XTABLES_LIBDIR" ]; then
	copy_bin /usr/sbin/iptables-legacy "$IPTABLES"
	mkdir -p "$ROOT$XTABLES_LIBDIR"
	for ext in "$XTABLES_LIBDIR"/*.so; do
		copy_bin "$ext" "$ext"
	done
else
	echo "mkinitramfs: note: no iptables-legacy; rustfilter_queue.sh will skip" >&2
fi
# nft, for the queue selftest's case of packets queued by an nftables rule.
if NFT=$(command -v nft); then
	copy_bin /usr/sbin/nft "$NFT"
else
	echo "mkinitramfs: note: no nft; rustfilter_queue.sh skips its nft case" >&2
fi

if [ -x "$RFCTL" ]; then
	copy_bin /usr/bin/rfctl "$RFCTL"
else
	echo "mkinitramfs: warning: no rfctl at ${RFCTL#$REPO/}; the selftests will skip" >&2
fi
# The test tools, each with the selftest that skips without it.
while read -r name bin test; do
	if [ -x "$bin" ]; then
		copy_bin "/usr/bin/$name" "$bin"
	else
		echo "mkinitramfs: note: no $name at ${bin#$REPO/}; $test will skip" >&2
	fi
done <<EOF_TOOLS
nlfuzz $NLFUZZ rustfilter_badinput.sh
rfpkt $RFPKT rustfilter_ct_invalid.sh
rfserve $RFSERVE rustfilter_ct_helpers.sh
nfqclient $NFQCLIENT rustfilter_queue_clients.sh
nf_queue $QUEUE_CLIENTS/nf_queue rustfilter_queue_clients.sh
nf-queue $QUEUE_CLIENTS/nf-queue rustfilter_queue_clients.sh
nfq-oldapi $QUEUE_CLIENTS/nfq-oldapi rustfilter_queue_clients.sh
EOF_TOOLS

if [ -f "$stamp" ]; then
	mkdir -p "$ROOT/lib/modules"
	cp -a "$MODDIR/lib/modules/$release" "$ROOT/lib/modules/"
	rm -f "$ROOT/lib/modules/$release/build" "$ROOT/lib/modules/$release/source"
fi

mkdir -p "$ROOT/selftests"
cp -a "$REPO/selftests/." "$ROOT/selftests/"
make -s -C "$REPO/selftests" list > "$ROOT/selftests/kselftest-list.txt"

install -m 755 "$REPO/scripts/guest-init.sh" "$ROOT/init"
if [ -n "$BENCH_DIR" ]; then
	mkdir -p "$ROOT/bench"
	cp -a "$BENCH_DIR/." "$ROOT/bench/"
fi

cat > "$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
EOF
cat > "$ROOT/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '/bin/sh\n/bin/bash\n' > "$ROOT/etc/shells"
echo rfvm > "$ROOT/etc/hostname"
: > "$ROOT/etc/fstab"

# The kernel opens /dev/console before running /init.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: ${OUT#$REPO/} ($(du -h "$OUT" | cut -f1))"
