#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Connection-tracking helpers on a router whose FORWARD chain lets through
# only what is ESTABLISHED or RELATED, and NEW connections to the server's
# FTP (21/tcp) and TFTP (69/udp) ports:
#
# - with no rules, every transfer works (the servers and clients are
#   sound), an FTP bounce too (the server does connect where PORT says);
# - with the firewall and the automatic helpers on (`rfctl conntrack
#   --set-auto-helper on`: ftp for 21/tcp, tftp for 69/udp), FTP downloads
#   in active (PORT, data connection from the server's port 20), EPRT,
#   passive (PASV) and EPSV mode, busybox ftpget, uploads (active STOR,
#   busybox ftpput), and TFTP downloads (busybox tftp, rfserve) and an
#   upload all give byte-identical files, and the data connections are
#   RELATED; an FTP bounce (PORT or EPRT announcing a third address, one
#   of the client's own) does not open its data connection;
# - with the automatic helpers off, every one of those transfers fails
#   at its data connection, the control connection working.
#
#   client 10.0.1.2 --veth-- 10.0.1.1 router 10.0.2.1 --veth-- 10.0.2.2 server
#   (10.0.1.3 on the client too: the bounce target)
#
# Servers and the active-mode FTP client are rfserve's (tools/rfserve).

source lib.sh

rf_require_tools
rf_require_module
: "${RFSERVE:=$(command -v rfserve)}"
if [ -z "$RFSERVE" ] || [ ! -x "$RFSERVE" ]; then
	echo "SKIP: Could not run test without rfserve"
	exit $ksft_skip
fi
for t in md5sum cmp ftpget ftpput tftp timeout; do
	if ! command -v $t > /dev/null 2>&1; then
		echo "SKIP: Could not run test without $t"
		exit $ksft_skip
	fi
done

ret=0
tmp=$(mktemp -d)
srv=$tmp/srv
mkdir -p "$srv"

cleanup() {
	cleanup_all_ns
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns client router server
rf_setup_router || exit $ksft_fail
ip -n "$client" addr add 10.0.1.3/24 dev eth0 || exit $ksft_fail

rfr() { ip netns exec "$router" "$RFCTL" "$@"; }
at_client() { ip netns exec "$client" "$@"; }

# The files: a download of 300 KB (not a multiple of TFTP's 512-byte
# blocks), an upload of 200 KB.
head -c 307201 /dev/urandom > "$srv/big"
head -c 204803 /dev/urandom > "$tmp/up"
big_md5=$(md5sum < "$srv/big")
up_md5=$(md5sum < "$tmp/up")

# The servers: the data timeout short, so failures come quickly.
ip netns exec "$server" "$RFSERVE" ftp --port 21 --root "$srv" --timeout 3 -v \
	> "$tmp/ftpd.log" 2>&1 &
ip netns exec "$server" "$RFSERVE" tftp --port 69 --root "$srv" --timeout 0.5 -v \
	> "$tmp/tftpd.log" 2>&1 &
listening() {
	ip netns exec "$server" cat /proc/net/tcp | awk '$2 ~ /:0015$/ && $4 == "0A" { f = 1 } END { exit !f }' &&
	ip netns exec "$server" cat /proc/net/udp | awk '$2 ~ /:0045$/ { f = 1 } END { exit !f }'
}
if ! busywait 5000 listening; then
	echo "FAIL: the FTP and TFTP servers do not listen"
	cat "$tmp/ftpd.log" "$tmp/tftpd.log"
	exit $ksft_fail
fi

# same FILE MD5: FILE's checksum is MD5.
same() { [ -f "$1" ] && [ "$(md5sum < "$1")" = "$2" ]; }

# The transfers. Each prints why it failed to $tmp/err and succeeds only
# when the file arrived whole. The clients give up after a few seconds.
ftp_get() {
	local mode=$1; shift
	rm -f "$tmp/out"
	at_client timeout 20 "$RFSERVE" ftp-get --server 10.0.2.2 --mode "$mode" \
		--file big --out "$tmp/out" --timeout 4 "$@" 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
ftp_put() {
	local mode=$1
	rm -f "$srv/up-$mode"
	at_client timeout 20 "$RFSERVE" ftp-put --server 10.0.2.2 --mode "$mode" \
		--file "up-$mode" --in "$tmp/up" --timeout 4 2> "$tmp/err" &&
		same "$srv/up-$mode" "$up_md5"
}
t_ftp_active() { ftp_get active; }
t_ftp_eprt() { ftp_get eprt; }
t_ftp_passive() { ftp_get passive; }
t_ftp_epsv() { ftp_get epsv; }
t_ftpget_busybox() {
	rm -f "$tmp/out"
	at_client timeout 8 ftpget -u anonymous -p x 10.0.2.2 "$tmp/out" big 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_ftp_put_active() { ftp_put active; }
t_ftpput_busybox() {
	rm -f "$srv/up-bb"
	at_client timeout 8 ftpput -u anonymous -p x 10.0.2.2 up-bb "$tmp/up" 2> "$tmp/err" &&
		same "$srv/up-bb" "$up_md5"
}
t_tftp_busybox() {
	rm -f "$tmp/out"
	at_client timeout 8 tftp -g -r big -l "$tmp/out" 10.0.2.2 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_tftp_get() {
	rm -f "$tmp/out"
	at_client timeout 20 "$RFSERVE" tftp-get --server 10.0.2.2 --file big \
		--out "$tmp/out" --timeout 0.5 2> "$tmp/err" &&
		same "$tmp/out" "$big_md5"
}
t_tftp_put() {
	rm -f "$srv/up-tftp"
	at_client timeout 20 "$RFSERVE" tftp-put --server 10.0.2.2 --file up-tftp \
		--in "$tmp/up" --timeout 0.5 2> "$tmp/err" || return 1
	# The server writes the last block after acknowledging it.
	busywait 2000 same "$srv/up-tftp" "$up_md5"
}
# The bounce: the client announces 10.0.1.3, its own second address, and
# listens there; the server's data connection to it is not RELATED to the
# control connection from 10.0.1.2.
t_bounce_port() { ftp_get active --announce 10.0.1.3; }
t_bounce_eprt() { ftp_get eprt --announce 10.0.1.3; }

TRANSFERS="ftp_active ftp_eprt ftp_passive ftp_epsv ftpget_busybox ftp_put_active
	ftpput_busybox tftp_busybox tftp_get tftp_put"

# why: the error of the last transfer, indented.
why() { sed 's/^/    /' "$tmp/err"; }

# The data connections' first packets on the router: RELATED.
related() { rf_rule_packets "$router" filter FORWARD | awk '{ print $1 }'; }

##############################################################################
# No rules: the servers and clients work, the bounce too.

l=0
for t in $TRANSFERS bounce_port bounce_eprt; do
	if ! "t_$t"; then
		echo "FAIL: $t without any rules"
		why
		l=1
	fi
done
rf_check "every transfer works without rules, an FTP bounce too" $l
if [ $l -ne 0 ]; then
	echo "INFO: the servers' logs:"
	sed 's/^/    /' "$tmp/ftpd.log" "$tmp/tftpd.log" | tail -40
	exit $ksft_fail
fi

##############################################################################
# The firewall on the router.

{
	echo "*filter"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD DROP [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo "-A FORWARD -m conntrack --ctstate RELATED"
	echo "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	echo "-A FORWARD -d 10.0.2.2 -p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT"
	echo "-A FORWARD -d 10.0.2.2 -p udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT"
	echo "COMMIT"
} | rfr restore || exit $ksft_fail

# helpers on|off: set the automatic helpers, and start from an empty table
# so that no connection keeps the helper it got before.
helpers() {
	if ! rfr conntrack --set-auto-helper "$1" 2> "$tmp/err"; then
		echo "FAIL: rfctl conntrack --set-auto-helper $1"
		why
		return 1
	fi
	rfr conntrack -F > /dev/null 2>&1
	return 0
}

##############################################################################
# Helpers on: every transfer works, its data connection RELATED.

l=0
helpers on || l=1
for t in $TRANSFERS; do
	before=$(related)
	if ! "t_$t"; then
		echo "FAIL: $t through the firewall with the helpers on"
		why
		l=1
		continue
	fi
	after=$(related)
	if [ -z "$after" ] || [ "$after" -le "${before:-0}" ]; then
		echo "FAIL: $t worked but no packet was RELATED ($before before, $after after)"
		l=1
	fi
done
rf_check "FTP (PORT, EPRT, PASV, EPSV, up and down) and TFTP through the firewall with the helpers" $l

# The control connection is listed with its helper.
l=0
at_client "$RFSERVE" ftp-get --server 10.0.2.2 --mode passive --file big --out "$tmp/out" --timeout 4 2> /dev/null
if ! rfr conntrack -L -p tcp --dport 21 2> /dev/null | grep -q 'helper=ftp'; then
	echo "FAIL: no FTP control connection listed with helper=ftp"
	rfr conntrack -L 2>&1 | sed 's/^/    /'
	l=1
fi
# The active transfers' data connections came from the server's port 20.
if ! rfr conntrack -L -p tcp -s 10.0.2.2 --sport 20 2> /dev/null | grep -q 'dst=10.0.1.2 sport=20 '; then
	echo "FAIL: no active data connection from 10.0.2.2 port 20 listed"
	rfr conntrack -L 2>&1 | sed 's/^/    /'
	l=1
fi
rf_check "rfctl conntrack -L: helper=ftp on the control connection, data from port 20" $l

# The bounce: nothing is expected, the data connection is dropped.
l=0
for t in bounce_port bounce_eprt; do
	before=$(related)
	if "t_$t"; then
		echo "FAIL: $t: the server's data connection to a third address got through"
		l=1
	elif ! grep -q "data connection" "$tmp/err"; then
		echo "FAIL: $t failed, but not at the data connection"
		why
		l=1
	fi
	after=$(related)
	if [ "$after" != "$before" ]; then
		echo "FAIL: $t: $((after - before)) packets RELATED"
		l=1
	fi
done
# A legitimate active transfer right after still works.
t_ftp_active || { echo "FAIL: ftp_active after the bounce attempts"; why; l=1; }
rf_check "an FTP bounce (PORT, EPRT to a third address) opens nothing" $l

##############################################################################
# Helpers off: every transfer fails at its data connection.

l=0
helpers off || l=1
for t in $TRANSFERS; do
	if "t_$t"; then
		echo "FAIL: $t through the firewall with the helpers off"
		l=1
	fi
	case $t in
	ftp_*)
		if ! grep -q "data connection" "$tmp/err"; then
			echo "FAIL: $t failed, but not at the data connection"
			why
			l=1
		fi
		;;
	esac
done
rf_check "with the helpers off, no FTP data connection or TFTP transfer gets through" $l

# And on again: back to working.
l=0
helpers on || l=1
for t in ftp_active ftp_epsv tftp_get; do
	if ! "t_$t"; then
		echo "FAIL: $t with the helpers on again"
		why
		l=1
	fi
done
rf_check "helpers on again: transfers work again" $l

if [ $ret -ne 0 ]; then
	echo "INFO: the servers' logs (last lines):"
	sed 's/^/    /' "$tmp/ftpd.log" | tail -30
	sed 's/^/    /' "$tmp/tftpd.log" | tail -10
fi
exit $ret
