// SPDX-License-Identifier: GPL-2.0

//! The lines of `/proc/net/netfilter/nfnetlink_queue` (`seq_show` of
//! `nfnetlink_queue.c`), one per bound queue of the namespace.
//!
//! Tools wait on this file to see a listener bound (the kernel's
//! `nft_queue.sh` does), so the format is upstream's, column for column:
//!
//! ```text
//! queue  portid waiting mode range dropped user_dropped id_sequence 1
//! ```
//!
//! printed with `"%5u %6u %5u %1u %5u %5u %5u %8u %2d\n"`.

use core::fmt;

/// The fields of one line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcLine {
    /// The queue number.
    pub queue: u16,
    /// The listener's port id.
    pub portid: u32,
    /// Packets waiting for a verdict (`queue_total`).
    pub waiting: u32,
    /// `NFQNL_COPY_*`.
    pub copy_mode: u8,
    /// The copy range.
    pub copy_range: u32,
    /// Packets dropped because the queue was full (`queue_dropped`).
    pub dropped: u32,
    /// Packets dropped because the listener could not take them
    /// (`queue_user_dropped`).
    pub user_dropped: u32,
    /// The last packet id given (`id_sequence`).
    pub id_sequence: u32,
}

impl fmt::Display for ProcLine {
    /// The line, newline included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:5} {:6} {:5} {:1} {:5} {:5} {:5} {:8} {:2}",
            self.queue,
            self.portid,
            self.waiting,
            self.copy_mode,
            self.copy_range,
            self.dropped,
            self.user_dropped,
            self.id_sequence,
            1
        )
    }
}
