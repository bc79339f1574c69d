#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing rustfilter needs on a Debian 12 machine.
# Idempotent and quiet when everything is already present.
set -euo pipefail

BINDGEN_VERSION=0.73.2
PKGS=(clang lld llvm libclang-dev flex bison bc libelf-dev libssl-dev cpio
      xz-utils qemu-system-x86 linux-source-6.12 busybox-static iproute2
      iptables nftables kmod make python3 gcc libc6-dev pkg-config
      libmnl-dev libnetfilter-queue-dev gnuplot-nox)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
	[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v rustup >/dev/null || { echo "deps: rustup is required (https://rustup.rs)" >&2; exit 1; }
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	echo "deps: adding the rust-src component"
	rustup component add rust-src >/dev/null
fi
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
