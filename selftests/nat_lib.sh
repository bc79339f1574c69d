#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What rustfilter_nat.sh and rustfilter_nat_edges.sh share: running rfctl
# in the namespaces of lib.sh's router topology, starting rfserve servers,
# exchanges with the echo servers (rfserve echo answers "NAME PEER DATA",
# rfserve echo-client prints where the answer came from) and reading
# conntrack listings. Sourced after lib.sh; the scripts set $tmp, $client,
# $router, $server, $RFSERVE.

rfr() { ip netns exec "$router" "$RFCTL" "$@"; }

at_client() { ip netns exec "$client" "$@"; }

at_server() { ip netns exec "$server" "$@"; }

# ct ARGS: the router's `rfctl conntrack ARGS`, without the summary.
ct() { rfr conntrack "$@" 2> /dev/null; }

# rule NS ARGS: rfctl ARGS in NS; on failure says which rule and why.
rule() {
	local ns=$1 out
	shift
	if ! out=$(ip netns exec "$ns" "$RFCTL" "$@" 2>&1); then
		echo "FAIL: rfctl $* (in the ${ns%-*}): ${out:-failed}"
		return 1
	fi
}

# helpers_on: the automatic helpers (ftp for 21/tcp, tftp for 69/udp).
helpers_on() {
	rule "$router" conntrack --set-auto-helper on
}

# show_ct WHAT ARGS: the router's conntrack listing (ARGS filter it).
show_ct() {
	local what=$1
	shift
	echo "INFO: the router's conntrack -L $* ($what):"
	ct -L "$@" | head -n 12 | sed 's/^/    /'
}

# reply_tuples: the reply tuple of each `conntrack -L` line on stdin (the
# second of its src=, dst=, sport=, dport=, type=, code=, id=).
reply_tuples() {
	awk '{
		r = ""; s = " "
		for (i = 1; i <= NF; i++) {
			if ($i !~ /^(src|dst|sport|dport|type|code|id)=/)
				continue
			k = $i; sub(/=.*/, "", k)
			if (index(s, " " k " ")) r = r " " $i; else s = s k " "
		}
		print substr(r, 2)
	}'
}

# serve NS LOG ARGS: rfserve ARGS in NS, its log in $tmp/LOG.log.
serve() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$RFSERVE" "$@" > "$tmp/$log.log" 2>&1 &
}

# listening NS PROTO PORT: a TCP listener or a UDP socket on PORT in NS.
listening() {
	ip netns exec "$1" cat "/proc/net/$2" |
		awk -v p="$(printf ':%04X' "$3")" -v tcp="$([ "$2" = tcp ] && echo 1)" '
			substr($2, length($2) - 4) == p && (!tcp || $4 == "0A") { f = 1 }
			END { exit !f }'
}

# ask_bg TAG NS PROTO ADDR PORT [OPTIONS]: an echo-client exchange in NS,
# in the background, sending TAG (unique per exchange); its results in
# $tmp/ask-TAG.*. ask_wait waits for all of them.
ask_pids=()
ask_bg() {
	local tag=$1 ns=$2 proto=$3 addr=$4 port=$5
	shift 5
	(
		ip netns exec "$ns" timeout 20 "$RFSERVE" echo-client --proto "$proto" \
			--server "$addr" --port "$port" --data "$tag" --timeout 3 "$@" \
			> "$tmp/ask-$tag.out" 2> "$tmp/ask-$tag.err"
		echo $? > "$tmp/ask-$tag.rc"
	) &
	ask_pids+=($!)
}

ask_wait() {
	local p
	for p in "${ask_pids[@]}"; do
		wait "$p"
	done
	ask_pids=()
}

ask() {
	ask_bg "$@"
	ask_wait
}

# answer TAG: sets from, lport (the asker's port), reply, peer (what the
# server said it saw), pport (its port) and err from exchange TAG; fails
# as it did.
answer() {
	local line= rc=
	local re_line='^from=([^ ]*) local=[^ ]*:([0-9]+) reply=(.*)$'
	local re_peer='^[^ ]* ([^ ]*)'
	err=
	from= lport= reply= peer= pport=
	read -r line 2> /dev/null < "$tmp/ask-$1.out"
	read -r err 2> /dev/null < "$tmp/ask-$1.err"
	read -r rc 2> /dev/null < "$tmp/ask-$1.rc"
	if [[ $line =~ $re_line ]]; then
		from=${BASH_REMATCH[1]}
		lport=${BASH_REMATCH[2]}
		reply=${BASH_REMATCH[3]}
		[[ $reply =~ $re_peer ]] && peer=${BASH_REMATCH[1]}
		pport=${peer##*:}
	fi
	[ "$rc" = 0 ]
}

# saw TAG: what the echo servers logged about exchange TAG.
saw() {
	local f lines found=0
	for f in "$tmp"/echo-*.log; do
		lines=$(grep -F "\"$1\"" "$f" | sed 's/^rfserve echo: //')
		[ -z "$lines" ] && continue
		found=1
		f=${f##*/echo-}
		echo "$lines" | sed "s/^/INFO:   the ${f%.log}'s echo saw: /"
	done
	[ $found -eq 1 ] || echo "INFO:   no echo server saw $1"
}

# check_answer TAG FROM REGEX: exchange TAG was answered from FROM, the
# answer matching REGEX; otherwise says what happened.
check_answer() {
	local tag=$1 want_from=$2 want=$3
	if ! answer "$tag"; then
		echo "FAIL: $tag: no answer: ${err:-(no error message)}"
	elif [ "$from" != "$want_from" ]; then
		echo "FAIL: $tag: the answer came from $from, not $want_from (answer: $reply)"
	elif ! [[ $reply =~ $want ]]; then
		echo "FAIL: $tag: the answer is '$reply', expected /$want/"
	else
		return 0
	fi
	saw "$tag"
	return 1
}

# same FILE MD5: FILE's checksum is MD5.
same() { [ -f "$1" ] && [ "$(md5sum < "$1")" = "$2" ]; }
