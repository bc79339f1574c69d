#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Extract Debian's linux-source-6.12 into build/, lay rustfilter into it,
# configure tinyconfig + kernel/rustfilter.config + the flavour's fragment and
# build bzImage and modules with LLVM=1 out of tree (O=).
#
# usage: scripts/kernel.sh [test|bench]
#   test   (default) + kernel/debug.config (KASAN, lockdep, kmemleak, fault
#          injection) into build/obj: the kernel the selftests run on
#   bench  + kernel/bench.config into build/bench/obj: the same kernel without
#          the debug options, for `make bench`
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SRC=$REPO/build/linux
FLAVOUR=${1:-test}
case "$FLAVOUR" in
test) OBJ=$REPO/build/obj; EXTRA=$REPO/kernel/debug.config ;;
bench) OBJ=$REPO/build/bench/obj; EXTRA=$REPO/kernel/bench.config ;;
*) echo "usage: scripts/kernel.sh [test|bench]" >&2; exit 2 ;;
esac
TARBALL=/usr/src/linux-source-6.12.tar.xz
JOBS=$(nproc)
export PATH="$HOME/.cargo/bin:$PATH"

if [ ! -f "$SRC/Makefile" ]; then
	echo "kernel: extracting $TARBALL"
	rm -rf "$REPO/build/linux.tmp"
	mkdir -p "$REPO/build/linux.tmp"
	tar -xf "$TARBALL" -C "$REPO/build/linux.tmp" --strip-components=1
	mv "$REPO/build/linux.tmp" "$SRC"
fi

python3 "$REPO/scripts/prepare-tree.py" "$REPO" "$SRC"

KMAKE=(make -C "$SRC" O="$OBJ" LLVM=1 -j"$JOBS")
mkdir -p "$OBJ"

# Configure when the fragment (or the overlay) is newer than .config.
frags=("$REPO/kernel/rustfilter.config" "$EXTRA")
need_config=0
[ -f "$OBJ/.config" ] || need_config=1
for f in "${frags[@]}" "$REPO/Kconfig"; do
	[ "$f" -nt "$OBJ/.config" ] && need_config=1
done
if [ $need_config -eq 1 ]; then
	echo "kernel: configuring (tinyconfig + ${frags[*]##*/})"
	"${KMAKE[@]}" -s tinyconfig >/dev/null
	cat "${frags[@]}" > "$OBJ/rustfilter.fragment"
	KCONFIG_CONFIG="$OBJ/.config" "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
		"$OBJ/.config" "$OBJ/rustfilter.fragment" >/dev/null
	"${KMAKE[@]}" -s olddefconfig >/dev/null
	# Every option the fragments ask for must have survived.
	bad=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		if ! grep -qx "$line" "$OBJ/.config"; then
			echo "kernel: config option lost: $line" >&2
			bad=1
		fi
	done < "$OBJ/rustfilter.fragment"
	[ $bad -eq 0 ] || exit 1
fi

echo "kernel: building $("${KMAKE[@]}" -s kernelversion) in ${OBJ#$REPO/}"
"${KMAKE[@]}" -s bzImage modules 2>&1 | tee "$OBJ/build.log"
echo "kernel: built $(cat "$OBJ/include/config/kernel.release")" | tee -a "$OBJ/build.log"
