// SPDX-License-Identifier: GPL-2.0

//! Timeouts and the other per-namespace knobs of connection tracking, with
//! netfilter's defaults (the `nf_conntrack_*_timeout_*`, `tcp_loose`,
//! `tcp_be_liberal`, `tcp_ignore_invalid_rst` and `tcp_max_retrans`
//! sysctls).
//!
//! Time is in milliseconds throughout: the caller's "now", the timeouts
//! here and the timeouts the trackers return. The kernel side converts
//! from and to jiffies (`jiffies64_to_msecs`, `msecs_to_jiffies`).

use super::tcp::TcpState;

/// One second, in the unit of time of this module (milliseconds).
pub const SECOND: u64 = 1000;
/// One minute.
pub const MINUTE: u64 = 60 * SECOND;
/// One hour.
pub const HOUR: u64 = 60 * MINUTE;
/// One day.
pub const DAY: u64 = 24 * HOUR;

/// How long an entry lives after the last packet that refreshed it, per
/// protocol and state. Any value may be set (the selftests set TCP's
/// TIME_WAIT to one second); 0 makes entries expire at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP SYN_SENT (and a new entry): 2 minutes.
    pub tcp_syn_sent: u64,
    /// TCP SYN_RECV: 60 seconds.
    pub tcp_syn_recv: u64,
    /// TCP ESTABLISHED: 5 days.
    pub tcp_established: u64,
    /// TCP FIN_WAIT: 2 minutes.
    pub tcp_fin_wait: u64,
    /// TCP CLOSE_WAIT: 60 seconds.
    pub tcp_close_wait: u64,
    /// TCP LAST_ACK: 30 seconds.
    pub tcp_last_ack: u64,
    /// TCP TIME_WAIT: 2 minutes.
    pub tcp_time_wait: u64,
    /// TCP CLOSE: 10 seconds.
    pub tcp_close: u64,
    /// TCP SYN_SENT2 (simultaneous open): 2 minutes.
    pub tcp_syn_sent2: u64,
    /// The cap on a TCP entry's timeout once `tcp_max_retrans`
    /// retransmissions have been seen, or the receiver's window is zero:
    /// 5 minutes.
    pub tcp_retrans: u64,
    /// The cap while data is unacknowledged (and on RST-ridden or
    /// picked-up connections): 5 minutes.
    pub tcp_unack: u64,
    /// UDP before a reply, and during the first 2 seconds: 30 seconds.
    pub udp_unreplied: u64,
    /// UDP streams (replied and older than 2 seconds): 120 seconds.
    pub udp_replied: u64,
    /// ICMP queries: 30 seconds.
    pub icmp: u64,
    /// Every other protocol: 600 seconds.
    pub generic: u64,
}

impl Timeouts {
    /// netfilter's defaults.
    pub const DEFAULT: Timeouts = Timeouts {
        tcp_syn_sent: 2 * MINUTE,
        tcp_syn_recv: 60 * SECOND,
        tcp_established: 5 * DAY,
        tcp_fin_wait: 2 * MINUTE,
        tcp_close_wait: 60 * SECOND,
        tcp_last_ack: 30 * SECOND,
        tcp_time_wait: 2 * MINUTE,
        tcp_close: 10 * SECOND,
        tcp_syn_sent2: 2 * MINUTE,
        tcp_retrans: 5 * MINUTE,
        tcp_unack: 5 * MINUTE,
        udp_unreplied: 30 * SECOND,
        udp_replied: 120 * SECOND,
        icmp: 30 * SECOND,
        generic: 600 * SECOND,
    };

    /// The timeout of TCP state `state`; NONE has SYN_SENT's, as in
    /// netfilter.
    pub fn tcp(&self, state: TcpState) -> u64 {
        match state {
            TcpState::None | TcpState::SynSent => self.tcp_syn_sent,
            TcpState::SynRecv => self.tcp_syn_recv,
            TcpState::Established => self.tcp_established,
            TcpState::FinWait => self.tcp_fin_wait,
            TcpState::CloseWait => self.tcp_close_wait,
            TcpState::LastAck => self.tcp_last_ack,
            TcpState::TimeWait => self.tcp_time_wait,
            TcpState::Close => self.tcp_close,
            TcpState::SynSent2 => self.tcp_syn_sent2,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

/// Everything a namespace may tune.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The timeouts.
    pub timeouts: Timeouts,
    /// `nf_conntrack_tcp_loose`: pick up connections already established
    /// (a first packet that is a plain ACK makes an entry, with liberal
    /// window checks). On by default.
    pub tcp_loose: bool,
    /// `nf_conntrack_tcp_be_liberal`: out-of-window segments are not
    /// invalid; only the state machine can make a TCP packet invalid. Off
    /// by default.
    pub tcp_be_liberal: bool,
    /// `nf_conntrack_tcp_ignore_invalid_rst`: do not check the sequence
    /// number of RSTs against the highest ACK seen. Off by default.
    pub tcp_ignore_invalid_rst: bool,
    /// `nf_conntrack_tcp_max_retrans`: after this many retransmissions of
    /// the same segment the timeout is capped to `tcp_retrans`. 3 by
    /// default.
    pub tcp_max_retrans: u8,
}

impl Config {
    /// netfilter's defaults.
    pub const DEFAULT: Config = Config {
        timeouts: Timeouts::DEFAULT,
        tcp_loose: true,
        tcp_be_liberal: false,
        tcp_ignore_invalid_rst: false,
        tcp_max_retrans: 3,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
