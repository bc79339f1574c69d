// SPDX-License-Identifier: GPL-2.0

//! Which connections `-L`, `-D`, `-G` and `-E` show, as conntrack's
//! `nfct_filter` decides: every option given must hold.

use rfcore::conntrack::Tuple;

use super::entry::Entry;

/// An IPv4 network: address and prefix mask, both in network order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// The address as given (not masked).
    pub addr: [u8; 4],
    /// The mask of the prefix length; all ones without one.
    pub mask: [u8; 4],
}

impl Net {
    /// Whether `a` is in the network.
    pub fn contains(&self, a: [u8; 4]) -> bool {
        (0..4).all(|i| a[i] & self.mask[i] == self.addr[i] & self.mask[i])
    }

    /// Whether it is a single address.
    pub fn is_host(&self) -> bool {
        self.mask == [255; 4]
    }
}

/// The filter options of the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `-p`: the layer-4 protocol of the original tuple.
    pub proto: Option<u8>,
    /// `-s`: source of the original direction, with a prefix.
    pub orig_src: Option<Net>,
    /// `-d`: destination of the original direction, with a prefix.
    pub orig_dst: Option<Net>,
    /// `-r`: source of the reply direction.
    pub reply_src: Option<[u8; 4]>,
    /// `-q`: destination of the reply direction.
    pub reply_dst: Option<[u8; 4]>,
    /// `--sport`.
    pub orig_sport: Option<u16>,
    /// `--dport`.
    pub orig_dport: Option<u16>,
    /// `--reply-port-src`.
    pub reply_sport: Option<u16>,
    /// `--reply-port-dst`.
    pub reply_dport: Option<u16>,
    /// `--icmp-type`, of the original tuple.
    pub icmp_type: Option<u8>,
    /// `--icmp-code`.
    pub icmp_code: Option<u8>,
    /// `--icmp-id`.
    pub icmp_id: Option<u16>,
    /// `--state` (TCP).
    pub tcp_state: Option<u8>,
    /// `-m value/mask`: `(mark & mask) == value`.
    pub mark: Option<(u32, u32)>,
    /// `-u`: status bits that must be set.
    pub status_set: u32,
    /// `-u` with `!NAME` or `UNREPLIED`: status bits that must be clear.
    pub status_clear: u32,
}

fn is(want: Option<u16>, got: u16) -> bool {
    want.is_none_or(|w| w == got)
}

fn ports_match(t: &Tuple, sport: Option<u16>, dport: Option<u16>) -> bool {
    is(sport, t.sport) && is(dport, t.dport)
}

impl Filter {
    /// Whether `e` passes every option given.
    pub fn matches(&self, e: &Entry) -> bool {
        let (o, r) = (&e.orig, &e.reply);
        let status = e.status.unwrap_or(0);
        self.proto.is_none_or(|p| p == o.protocol)
            && self.orig_src.is_none_or(|n| n.contains(o.saddr))
            && self.orig_dst.is_none_or(|n| n.contains(o.daddr))
            && self.reply_src.is_none_or(|a| a == r.saddr)
            && self.reply_dst.is_none_or(|a| a == r.daddr)
            && ports_match(o, self.orig_sport, self.orig_dport)
            && ports_match(r, self.reply_sport, self.reply_dport)
            && self.icmp_type.is_none_or(|t| t == o.icmp_type())
            && self.icmp_code.is_none_or(|c| c == o.icmp_code())
            && is(self.icmp_id, o.icmp_id())
            && self.tcp_state.is_none_or(|s| e.tcp_state == Some(s))
            && self
                .mark
                .is_none_or(|(v, m)| e.mark.is_some_and(|mark| mark & m == v))
            && status & self.status_set == self.status_set
            && status & self.status_clear == 0
    }
}
