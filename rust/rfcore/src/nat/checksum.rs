// SPDX-License-Identifier: GPL-2.0

//! One's-complement checksum arithmetic (`include/net/checksum.h`).
//!
//! STUB: to be written.
