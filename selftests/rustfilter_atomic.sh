#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check atomicity under traffic: replacing the ruleset 100 times while
# pings flow loses none that both rulesets accept; one dump shows equal
# counts for two rules matching the same packets; and "list and zero"
# loses no packet and counts none twice; single-rule edits under traffic
# keep every packet the other rules and the policies counted.

source lib.sh

rf_require_tools
rf_require_module

PINGS=${PINGS:-300}
# Long enough for many dumps to overlap the traffic.
LONG=${LONG:-3000}
ret=0
tmpdir=$(mktemp -d)

cleanup() {
	cleanup_all_ns
	rm -rf "$tmpdir"
}

trap cleanup EXIT

if ! rf_load; then
	echo "FAIL: could not load rustfilter"
	exit $ksft_fail
fi

setup_ns a b
veth_link "$a" eth0 10.0.4.1/24 "$b" eth0 10.0.4.2/24 || exit $ksft_fail

rfb() { ip netns exec "$b" "$RFCTL" "$@"; }


# flood COUNT: pings from a to b, each sent as soon as the previous reply
# came; prints "sent received".
flood() {
	ip netns exec "$a" ping -q -A -c "$1" -W 2 10.0.4.2 2>&1 |
		awk '/packets transmitted/ { print $1, $4 }'
}

# Two rulesets under INPUT policy DROP that both accept the pings.
for v in 1 2; do
	{
		echo "*filter"
		echo ":INPUT DROP [0:0]"
		echo ":FORWARD ACCEPT [0:0]"
		echo ":OUTPUT ACCEPT [0:0]"
		for i in $(seq 1 $((20 * v))); do
			echo "-A INPUT -s 192.0.2.$i/32 -j DROP"
		done
		if [ $v = 1 ]; then
			echo "-A INPUT -p icmp -j ACCEPT"
		else
			echo "-A INPUT -s 10.0.4.1/32 -j ACCEPT"
		fi
		echo "COMMIT"
	} > "$tmpdir/rules$v"
done

l=0
rfb restore < "$tmpdir/rules1" || l=1
flood "$PINGS" > "$tmpdir/flood" &
fpid=$!
n=0
while [ $n -lt 100 ]; do
	rfb restore < "$tmpdir/rules$((n % 2 + 1))" || { echo "FAIL: restore $n"; l=1; break; }
	n=$((n + 1))
done
wait $fpid
read -r sent received < "$tmpdir/flood"
if [ -z "$sent" ] || [ "$sent" != "$received" ]; then
	echo "FAIL: $n replacements under traffic: sent ${sent:-?}, received ${received:-?}"
	l=1
fi
rf_check "100 replacements under traffic lose nothing both rulesets accept" $l

# Two rules in b's OUTPUT count the same echo replies.
rfb -F
rfb -P INPUT ACCEPT
rfb -A OUTPUT -p icmp
rfb -A OUTPUT -p icmp --icmp-type echo-reply

# out_counts: "first second" packet counts of OUTPUT's two rules, from one
# `-L -v -x -n` (with -Z: zeroed in the same instant).
out_counts() {
	rfb -L -v -x -n "$@" | awk '
		/^Chain / { in_out = ($2 == "OUTPUT"); next }
		in_out && $1 ~ /^[0-9]+$/ { c[++n] = $1 }
		END { print c[1], c[2] }'
}

l=0
flood "$LONG" > "$tmpdir/flood" &
fpid=$!
reads=0
while kill -0 $fpid 2> /dev/null; do
	read -r x y <<< "$(out_counts)"
	reads=$((reads + 1))
	if [ -z "$x" ] || [ "$x" != "$y" ]; then
		echo "FAIL: one dump shows $x and $y for rules matching the same packets"
		l=1
		break
	fi
done
wait $fpid
echo "# $reads dumps during the flood"
if [ "$reads" -lt 5 ]; then
	echo "FAIL: only $reads dumps overlapped the traffic"
	l=1
fi
rf_check "a dump is one consistent snapshot" $l

# List and zero during traffic: the zeroed reads add up to every reply.
l=0
rfb -Z
flood "$LONG" > "$tmpdir/flood" &
fpid=$!
total=0
while kill -0 $fpid 2> /dev/null; do
	read -r x y <<< "$(out_counts -Z)"
	total=$((total + ${x:-0}))
done
wait $fpid
read -r x y <<< "$(out_counts -Z)"
total=$((total + ${x:-0}))
read -r sent received < "$tmpdir/flood"
if [ "$total" != "$received" ]; then
	echo "FAIL: list-and-zero reads add up to $total replies, b sent $received"
	l=1
fi
rf_check "list and zero loses no packet and counts none twice" $l

# Single-rule edits (read, change, commit) while traffic flows: the rules
# and the policy they leave alone lose no packet counted between the read
# and the commit. b's OUTPUT rule counts every echo reply; its INPUT policy
# every echo request (a rule that never matches makes INPUT walked).
l=0
rfb -F
rfb -Z
rfb -A OUTPUT -p icmp --icmp-type echo-reply
rfb -A INPUT -p udp --dport 9
flood "$LONG" > "$tmpdir/flood" &
fpid=$!
edits=0
while kill -0 $fpid 2> /dev/null; do
	rfb -I OUTPUT 1 -p tcp --dport 9 || { l=1; break; }
	rfb -D OUTPUT -p tcp --dport 9 || { l=1; break; }
	edits=$((edits + 2))
done
wait $fpid
read -r sent received < "$tmpdir/flood"
replies=$(rfb -L OUTPUT -v -x -n | awk '$0 ~ /icmptype 0/ { print $1 }')
requests=$(rfb -L INPUT -v -x -n | awk '/^Chain INPUT/ { print $5 }')
echo "# $edits edits during the flood"
if [ "$replies" != "$received" ] || [ "$requests" != "$sent" ]; then
	echo "FAIL: after $edits edits: the reply rule counted ${replies:-?} of $received replies, the INPUT policy ${requests:-?} of $sent requests"
	l=1
fi
if [ "$edits" -lt 10 ]; then
	echo "FAIL: only $edits edits overlapped the traffic"
	l=1
fi
rf_check "single-rule edits under traffic lose no counted packet" $l

exit $ret
