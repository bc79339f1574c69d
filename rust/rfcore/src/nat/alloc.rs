// SPDX-License-Identifier: GPL-2.0

//! Choosing the translated tuple of a new connection (`get_unique_tuple`
//! and `nf_nat_l4proto_unique_tuple` of `nf_nat_core.c`).
//!
//! STUB: to be written (see the brief in the NAT work).

use super::super::ct::tuple::Tuple;
use super::{Manip, NatRange};

/// Most candidate ports tried before giving up (`NF_NAT_MAX_ATTEMPTS`).
pub const MAX_ATTEMPTS: u32 = 128;

/// Picks the tuple the connection with original tuple `orig` is
/// translated to: `orig` with the part that `manip` changes (see
/// [`super::manip_part`]) moved into `range`, such that `taken` is false
/// for its inverse (the reply tuple the connection would get). `None`
/// when nothing free was found.
pub fn unique_tuple(
    _orig: &Tuple,
    _range: &NatRange,
    _manip: Manip,
    _seed: u32,
    _rand: u32,
    _taken: impl FnMut(&Tuple) -> bool,
) -> Option<Tuple> {
    None
}
