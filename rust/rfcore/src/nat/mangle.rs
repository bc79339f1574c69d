// SPDX-License-Identifier: GPL-2.0

//! Rewriting a packet's headers for a translation.
//!
//! STUB: to be written.

use super::super::ct::tuple::Tuple;
use super::Manip;

/// Why a packet could not be rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MangleError {
    /// The buffer is shorter than the headers it must hold.
    Truncated,
    /// Not an IPv4 packet, or not an ICMP error where one is needed.
    Malformed,
}

/// Rewrites the packet whose headers start `buf` so that its `manip` part
/// is `target`'s; `partial`: the transport checksum holds only the
/// pseudo-header sum (`CHECKSUM_PARTIAL`).
pub fn manip_packet(
    _buf: &mut [u8],
    _target: &Tuple,
    _manip: Manip,
    _partial: bool,
) -> Result<(), MangleError> {
    Err(MangleError::Malformed)
}

/// Translates an ICMP error about a translated connection.
pub fn translate_icmp_error(
    _buf: &mut [u8],
    _other: &Tuple,
    _manip: Manip,
    _partial: bool,
) -> Result<(), MangleError> {
    Err(MangleError::Malformed)
}
